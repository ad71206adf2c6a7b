"""Collect from a live API server: read-only lists, paged, retried, streamed into the inventory and a bundle.

What is read (and nothing else): ``GET /version``; ``POST selfsubjectreviews`` (who we are, not
stored by the server); the lists of ``RESOURCES`` (nodes, namespaces, pods, ReplicaSets, Jobs,
Deployments and StatefulSets (their metadata only: the Helm and version labels of the add-ons they
run), PodDisruptionBudgets, trivy-operator VulnerabilityReports when the CRD is served; node update
agents' DaemonSets, BottlerocketShadows, Plans, MachineConfigPools and trivy-operator
NodeVulnerabilityReports when theirs are), each with
``limit`` and ``continue``; and ``GET /metrics`` for the deprecated-API request gauge (a refusal
there is recorded, never fatal).  Each page is decoded at once by the decoder the snapshot and
bundle readers use (``decode_json_bytes``), handed to the bundle writer exactly as received, and
dropped: memory holds the decoded objects, never the raw cluster.

Faults: 429 waits for ``Retry-After``; 5xx, connection resets and timeouts are retried with
capped exponential backoff and jitter; every request has a timeout and the whole collection a
deadline.  410 Expired on a continued list starts that list again (a warning says so).  401 is
a one-line error; 403 on nodes too, and on any other resource it is recorded in
``Inventory.denied`` so the checks that need it say UNKNOWN.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import ssl
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, TextIO

import httpx
import msgspec

from patchlevel import __version__
from patchlevel import inventory as inv
from patchlevel.collect.apimetrics import parse_apiserver_metrics
from patchlevel.collect.assemble import InventoryBuilder, ScanParser
from patchlevel.collect.bundle import IDENTITY_ROLE, METRICS_ROLE, PAGE_ROLE, VERSION_ROLE, page_input, page_where
from patchlevel.collect.decode import Decoded, decode_json_bytes
from patchlevel.collect.kubeconfig import Authenticator, ClusterAccess, Credential, tls_context
from patchlevel.errors import CollectError
from patchlevel.inventory import Inventory
from patchlevel.kube import ObjectMeta, OwnerObject
from patchlevel.retry import backoff_delay, retry_after_seconds
from patchlevel.text import visible

RBAC_MANIFEST = "deploy/rbac.yaml"
RBAC_ROLE = "ClusterRole patchlevel-reader"
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
REASONS = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True, slots=True)
class ListedResource:
    """A resource the collector lists, and what its absence means."""

    plural: str
    group: str
    version: str
    inventory_kind: str | None  # the Inventory kind it feeds (None: kept as evidence only)
    why: str
    required: bool = False  # a 403 stops the collection (the checks could not even say UNKNOWN)
    custom: bool = False  # served by a CRD that may not be installed (404: not collected, no error)
    older: tuple[str, ...] = ()  # versions to list instead, in order, when the API server does not serve ``version``
    # Keep only the owner metadata recognition reads (name, namespace, uid, labels, owner references): a
    # Deployment's annotations (kubectl's last-applied configuration) and spec are dropped page by page.
    metadata_only: bool = False
    denied_effect: str = ""  # what a 403 costs, when not the default of its inventory kind

    @property
    def qualified(self) -> str:
        """``pods``, ``replicasets.apps``: RBAC's and kubectl's name, and the bundle folder."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def path(self) -> str:
        return (
            f"/api/{self.version}/{self.plural}"
            if not self.group
            else f"/apis/{self.group}/{self.version}/{self.plural}"
        )


RESOURCES: tuple[ListedResource, ...] = (
    ListedResource("nodes", "", "v1", inv.NODES, "kubelet, runtime, OS and kernel of every node", required=True),
    ListedResource("namespaces", "", "v1", None, "the namespaces in scope (evidence only)"),
    ListedResource("pods", "", "v1", inv.PODS, "running images and kube-proxy versions"),
    ListedResource("replicasets", "apps", "v1", inv.OWNERS, "the Deployment behind a pod"),
    ListedResource("jobs", "batch", "v1", inv.OWNERS, "the CronJob behind a pod"),
    # Add-ons (issue 12) label their owners: Flux puts its release only on its Deployments' labels.
    ListedResource(
        "deployments",
        "apps",
        "v1",
        inv.OWNERS,
        "Deployments' Helm and version labels (the release of add-ons such as Flux)",
        metadata_only=True,
        denied_effect="add-ons whose release is only on their Deployments' labels (Flux) are unknown",
    ),
    ListedResource(
        "statefulsets",
        "apps",
        "v1",
        inv.OWNERS,
        "StatefulSets' Helm and version labels",
        metadata_only=True,
        denied_effect="add-ons whose release is only on their StatefulSets' labels are unknown",
    ),
    ListedResource(
        "poddisruptionbudgets",
        "policy",
        "v1",
        inv.DISRUPTION_BUDGETS,
        "which workloads a node drain would interrupt",
        older=("v1beta1",),  # API servers before 1.21 serve only policy/v1beta1
    ),
    ListedResource(
        "vulnerabilityreports",
        "aquasecurity.github.io",
        "v1alpha1",
        inv.VULNERABILITY_REPORTS,
        "trivy-operator's scan results",
        custom=True,
    ),
    # Node update and reboot agents (issue 11): their own objects, when their CRDs are installed.
    ListedResource("daemonsets", "apps", "v1", inv.DAEMONSETS, "update agents' DaemonSets: kured's lock and flags"),
    ListedResource(
        "bottlerocketshadows",
        "brupop.bottlerocket.aws",
        "v2",
        inv.BOTTLEROCKET_SHADOWS,
        "the Bottlerocket update operator's state per node",
        custom=True,
        older=("v1",),
    ),
    ListedResource("plans", "upgrade.cattle.io", "v1", inv.UPGRADE_PLANS, "upgrade plans of nodes", custom=True),
    ListedResource(
        "machineconfigpools",
        "machineconfiguration.openshift.io",
        "v1",
        inv.MACHINE_CONFIG_POOLS,
        "OpenShift machine-config pools' update state",
        custom=True,
    ),
    ListedResource(
        "nodevulnerabilityreports",
        "aquasecurity.github.io",
        "v1alpha1",
        inv.NODE_VULNERABILITY_REPORTS,
        "trivy-operator's scans of node root filesystems",
        custom=True,
    ),
)
VERSION_PATH = "/version"
METRICS_PATH = "/metrics"
# The Prometheus text format (version 0.0.4): what kube-apiserver answers on /metrics.
METRICS_ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1"
REVIEW_VERSIONS = ("v1", "v1beta1")  # SelfSubjectReview: GA in 1.28, beta in 1.27


@dataclass(frozen=True, slots=True)
class LiveOptions:
    page_size: int = 500
    request_timeout: float = 30.0  # seconds per request (the whole answer, not just the first byte)
    deadline: float | None = 900.0  # seconds for the whole collection; None: no limit
    max_attempts: int = 8  # per request, retries included
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_relists: int = 3  # times a list may start again after 410 Expired

    def __post_init__(self) -> None:
        if self.page_size < 1:
            raise ValueError("page_size must be at least 1")


@dataclass(frozen=True, slots=True)
class Host:
    """What the collector needs from the machine it runs on: clocks, sleeping, randomness, environment."""

    wall: Callable[[], datetime]
    monotonic: Callable[[], float]
    sleep: Callable[[float], None]
    random: Callable[[], float]
    environ: Mapping[str, str]
    stdin_is_terminal: Callable[[], bool]


def system_host() -> Host:
    """The real clock, environment and terminal (for the CLI; tests build their own Host)."""
    return Host(
        wall=lambda: datetime.now(UTC),
        monotonic=time.monotonic,
        sleep=time.sleep,
        random=random.random,
        environ=dict(os.environ),
        stdin_is_terminal=lambda: sys.stdin is not None and sys.stdin.isatty(),
    )


class PageSink(Protocol):
    """Where raw pages go as they arrive (the bundle writer)."""

    def page(self, name: str, data: bytes, *, role: str, request: str = "") -> str:
        """Store ``data`` under ``name``; return its SHA-256."""
        ...

    def discard(self, names: list[str]) -> None: ...


class Progress(Protocol):
    def update(self, resource: str, done: int, total: int | None) -> None: ...


@dataclass(frozen=True, slots=True)
class Collection:
    """What a live collection produced: the inventory, and the manifest fields describing it."""

    inventory: Inventory
    metadata: Mapping[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------
# One request, with retries


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    data: bytes
    retry_after: float | None

    def message(self) -> str:
        """The Status body's message, or the first line of a plain-text body."""
        try:
            document = json.loads(self.data)
        except (ValueError, RecursionError):
            document = None
        if isinstance(document, Mapping) and isinstance(document.get("message"), str):
            return visible(str(document["message"])[:1000])
        text = self.data.decode("utf-8", "replace").strip()
        return visible(text.splitlines()[0][:300]) if text else "(no body)"

    def headline(self) -> str:
        return f"{self.status} {REASONS.get(self.status, '')}".rstrip()


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _transport_problem(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "no complete answer in time"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({exc})"
    return f"connection lost ({exc or type(exc).__name__})"


class ApiClient:
    """HTTPS requests to one API server as one identity, retried within a deadline."""

    def __init__(self, access: ClusterAccess, options: LiveOptions, host: Host, authenticator: Authenticator) -> None:
        self.access = access
        self.options = options
        self.host = host
        self.auth = authenticator
        self.retries: list[str] = []
        self._deadline_at = None if options.deadline is None else host.monotonic() + options.deadline
        self._http: httpx.Client | None = None
        self._client_cert: bytes | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _client(self, credential: Credential) -> httpx.Client:
        if self._http is not None and credential.client_cert_pem == self._client_cert:
            return self._http
        self.close()
        self._client_cert = credential.client_cert_pem
        self._http = httpx.Client(
            base_url=self.access.server,
            verify=tls_context(self.access, credential),
            proxy=self.access.proxy_url or None,
            headers={"Accept": "application/json", "User-Agent": f"patchlevel/{__version__}"},
            follow_redirects=False,
        )
        return self._http

    def _remaining(self, doing: str) -> float | None:
        if self._deadline_at is None:
            return None
        left = self._deadline_at - self.host.monotonic()
        if left <= 0:
            raise CollectError(
                f"the collection deadline of {self.options.deadline:g}s passed while trying to {doing}",
                hint="raise --deadline, or lower --page-size on a slow API server",
            )
        return left

    def request(
        self,
        method: str,
        path: str,
        *,
        doing: str,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        accept: str | None = None,
    ) -> _Answer:
        """The answer to a request; 429, 5xx and connection failures are retried, everything else returned.

        ``accept`` replaces the client's ``Accept: application/json`` (``/metrics`` answers text).
        """
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            left = self._remaining(doing)
            timeout = self.options.request_timeout if left is None else min(self.options.request_timeout, left)
            retry_after: float | None = None
            try:
                answer = self._once(method, path, params, body, timeout, accept)
            except httpx.TransportError as exc:
                failure = _tls_failure(exc)
                if failure is not None:
                    raise CollectError(
                        f"TLS with {self.access.server} failed: {failure.reason or failure}",
                        hint="check the context's certificate-authority and client certificate",
                    ) from None
                problem = _transport_problem(exc)
                if isinstance(exc, httpx.TimeoutException):
                    problem = f"no complete answer within {timeout:g}s"
            else:
                if answer.status == 401 and not refreshed and self.auth.refresh():
                    refreshed = True  # an expired exec or token-file credential: ask once more
                    continue
                if answer.status not in RETRIED_STATUSES:
                    return answer
                problem = f"{answer.headline()}: {answer.message()}"
                retry_after = answer.retry_after
            if attempt >= self.options.max_attempts:
                raise CollectError(
                    f"could not {doing} at {self.access.server}: gave up after {attempt} attempts; last: {problem}",
                    hint="the API server is overloaded or unreachable; try again later",
                )
            delay = retry_after if retry_after is not None else self._backoff(attempt)
            left = self._remaining(doing)
            if left is not None and delay >= left:
                raise CollectError(
                    f"the collection deadline of {self.options.deadline:g}s would pass while waiting {delay:.1f}s to "
                    f"retry ({doing}: {problem})",
                    hint="raise --deadline",
                )
            self.retries.append(f"{doing}: {problem}; retried after {delay:.1f}s")
            self.host.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, self.options.backoff_base, self.options.backoff_cap, self.host.random())

    def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: bytes | None,
        timeout: float,
        accept: str | None = None,
    ) -> _Answer:
        left = None if self._deadline_at is None else max(0.0, self._deadline_at - self.host.monotonic())
        credential = self.auth.credential(timeout=left)  # an exec plugin may not outlast the deadline
        headers = {"Authorization": f"Bearer {credential.token}"} if credential.token else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if accept is not None:
            headers["Accept"] = accept
        extensions = {"sni_hostname": self.access.tls_server_name} if self.access.tls_server_name else None
        client = self._client(credential)
        started = self.host.monotonic()
        with client.stream(
            method,
            path,
            params=params,
            content=body,
            headers=headers,
            timeout=httpx.Timeout(timeout),
            extensions=extensions,
        ) as response:
            chunks = []
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                if self.host.monotonic() - started > timeout:
                    raise httpx.ReadTimeout("the answer took too long", request=response.request)
            wait = retry_after_seconds(response.headers.get("retry-after"))
            return _Answer(response.status_code, b"".join(chunks), wait)


# ------------------------------------------------------------------------------------------
# The collection


class _ListMeta(msgspec.Struct):
    resourceVersion: str = ""
    remainingItemCount: int | None = None
    continue_: str = msgspec.field(default="", name="continue")


class _ListHead(msgspec.Struct):
    kind: str = ""
    metadata: _ListMeta = msgspec.field(default_factory=_ListMeta)


_LIST_HEAD = msgspec.json.Decoder(_ListHead)


class _Expired(Exception):
    def __init__(self, page: int) -> None:
        self.page = page


class _NotServed(Exception):
    """The API server does not serve this version of a resource that has an older one to list instead."""


@dataclass(slots=True)
class _Staged:
    where: str
    decoded: Decoded
    sha256: str


class _Collector:
    def __init__(
        self,
        access: ClusterAccess,
        api: ApiClient,
        options: LiveOptions,
        builder: InventoryBuilder,
        sink: PageSink | None,
        progress: Progress | None,
    ) -> None:
        self.access = access
        self.api = api
        self.options = options
        self.builder = builder
        self.sink = sink
        self.progress = progress
        self.resources: list[dict[str, Any]] = []
        self.version: dict[str, Any] = {}
        self.identity: dict[str, Any] = {}

    # -- naming and refusals -----------------------------------------------------------------

    def where(self, name: str) -> str:
        return page_where(self.access.context, name)

    def _store(self, name: str, data: bytes, role: str, request: str) -> str:
        if self.sink is not None:
            return self.sink.page(name, data, role=role, request=request)
        return hashlib.sha256(data).hexdigest()

    def _unauthorized(self, answer: _Answer, doing: str) -> CollectError:
        return CollectError(
            f'the API server at {self.access.server} refused the credentials of context "{self.access.context}" '
            f"({self.access.auth_method()}) to {doing}: {answer.headline()}: {answer.message()}",
            hint="renew the token or certificate (in a cluster: the pod needs its service account token mounted, "
            f"see {RBAC_MANIFEST} and deploy/cronjob.yaml)",
        )

    def _forbidden(self, answer: _Answer, verb: str, target: str) -> CollectError:
        return CollectError(
            f"the API server refused to {verb} {target} ({answer.headline()}: {answer.message()})",
            hint=f"{RBAC_MANIFEST} grants it ({RBAC_ROLE}); apply it, or give the identity the same rule",
        )

    def _deny(self, kind: str | None, answer: _Answer, verb: str, target: str, effect: str) -> None:
        reason = (
            f"the identity may not {verb} {target} ({answer.headline()}: {answer.message()}); {RBAC_MANIFEST} grants it"
        )
        if kind is not None:
            previous = self.builder.denied.get(kind)
            self.builder.denied[kind] = f"{previous}; {reason}" if previous else reason
        self.builder.warnings.append(f"{target} could not be read: {reason}; {effect}")

    # -- /version and identity ---------------------------------------------------------------

    def read_version(self) -> None:
        answer = self.api.request("GET", VERSION_PATH, doing="get /version")
        if answer.status == 401:
            raise self._unauthorized(answer, "get /version")
        if answer.status == 403:
            self._deny(inv.VERSION, answer, "get", "/version", "the control-plane checks are unknown")
            self.resources.append({"resource": "version", "path": VERSION_PATH, "status": "denied"})
            return
        if answer.status != 200:
            raise CollectError(f"GET /version at {self.access.server}: {answer.headline()}: {answer.message()}")
        name = "version.json"
        digest = self._store(name, answer.data, VERSION_ROLE, f"GET {VERSION_PATH}")
        where = self.where(name)
        decoded = decode_json_bytes(answer.data, where)
        self.builder.add(decoded, where)
        self.builder.record(page_input(where, decoded, digest))
        if decoded.version is not None:
            self.version = {"gitVersion": decoded.version.gitVersion, "platform": decoded.version.platform}
        self.resources.append({"resource": "version", "path": VERSION_PATH, "status": "collected"})

    def read_identity(self) -> None:
        """Ask the API server who we are (SelfSubjectReview); not offered everywhere, never fatal."""
        base = {"kubeconfig_user": self.access.user, "auth": self.access.auth_method()}
        reasons = []
        for version in REVIEW_VERSIONS:
            path = f"/apis/authentication.k8s.io/{version}/selfsubjectreviews"
            body = json.dumps({"apiVersion": f"authentication.k8s.io/{version}", "kind": "SelfSubjectReview"})
            answer = self.api.request("POST", path, doing="create selfsubjectreviews", body=body.encode())
            if answer.status in (200, 201):
                self._store("selfsubjectreview.json", answer.data, IDENTITY_ROLE, f"POST {path}")
                info = _user_info(answer.data)
                if info is not None:
                    self.identity = {"source": f"SelfSubjectReview authentication.k8s.io/{version}", **info, **base}
                    return
                reasons.append(f"{version}: the answer holds no userInfo")
                break
            if answer.status == 401:
                raise self._unauthorized(answer, "create selfsubjectreviews")
            reasons.append(f"{version}: {answer.headline()}")
            if answer.status != 404:
                break
        self.identity = {"source": "unavailable", "reason": "; ".join(reasons), **base}

    # -- lists -------------------------------------------------------------------------------

    def read_list(self, resource: ListedResource) -> None:
        relists = 0
        while True:
            try:
                staged, summary = self._pages(resource)
            except _NotServed:  # e.g. policy/v1 before Kubernetes 1.21: list the version it serves
                resource = dataclasses.replace(resource, version=resource.older[0], older=resource.older[1:])
                continue
            except _Expired as expired:
                relists += 1
                if relists > self.options.max_relists:
                    raise CollectError(
                        f"listing {resource.qualified}: the continue token expired {relists} times (410 Gone)",
                        hint="the API server compacts faster than the list is read; raise --page-size",
                    ) from None
                self.builder.warnings.append(
                    f"listing {resource.qualified}: the continue token expired on page {expired.page} (410 Gone); "
                    "the list was read again from the start"
                )
                continue
            if summary is None:
                return
            for page in staged:
                self.builder.add(page.decoded, page.where)
                self.builder.record(page_input(page.where, page.decoded, page.sha256))
            summary["relists"] = relists
            self.resources.append(summary)
            return

    def _pages(self, resource: ListedResource) -> tuple[list[_Staged], dict[str, Any] | None]:
        staged: list[_Staged] = []
        names: list[str] = []
        token = ""
        items = 0
        revision = ""
        number = 0
        while True:
            number += 1
            params = {"limit": str(self.options.page_size)}
            if token:
                params["continue"] = token
            doing = f"list {resource.qualified}"
            answer = self.api.request("GET", resource.path, doing=f"{doing} (page {number})", params=params)
            if answer.status != 200:
                if self.sink is not None:
                    self.sink.discard(names)
                if answer.status == 410 and token:
                    raise _Expired(number)
                if answer.status == 404 and not token and resource.older:
                    raise _NotServed
                self._refused(resource, answer)
                return [], None
            try:
                head = _LIST_HEAD.decode(answer.data)
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
                problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                raise CollectError(
                    f"{doing} (page {number}) at {self.access.server}: the answer is not a Kubernetes list "
                    f"({visible(problem)[:300]})"
                ) from None
            name = f"{resource.qualified}/page-{number:04d}.json"
            request = f"GET {resource.path}?limit={self.options.page_size}" + (" (continued)" if token else "")
            digest = self._store(name, answer.data, PAGE_ROLE, request)
            names.append(name)
            where = self.where(name)
            decoded = decode_json_bytes(answer.data, where)
            if resource.metadata_only:
                _owner_metadata_only(decoded)
            self.builder.share(decoded)  # now, so the next page reuses the memory of duplicates
            staged.append(_Staged(where, decoded, digest))
            items += sum(decoded.list_kinds.values())
            revision = revision or head.metadata.resourceVersion
            token = head.metadata.continue_
            if self.progress is not None:
                remaining = head.metadata.remainingItemCount
                self.progress.update(resource.qualified, items, items + remaining if remaining is not None else None)
            if not token:
                break
        summary = {
            "resource": resource.qualified,
            "path": resource.path,
            "status": "collected",
            "items": items,
            "pages": number,
            "resourceVersion": revision,
        }
        return staged, summary

    def _refused(self, resource: ListedResource, answer: _Answer) -> None:
        doing = f"list {resource.qualified}"
        entry = {"resource": resource.qualified, "path": resource.path}
        if answer.status == 401:
            raise self._unauthorized(answer, doing)
        if answer.status == 404 and resource.custom:
            reason = f"the API server does not serve {resource.qualified} (its CRD is not installed)"
            self.resources.append({**entry, "status": "absent", "reason": reason})
            return
        if answer.status == 403 and not resource.required:
            effect = {
                inv.PODS: "the image checks are unknown",
                inv.OWNERS: "workload names are inferred from owner references",
                inv.VULNERABILITY_REPORTS: "trivy-operator scan results are not used",
                inv.DAEMONSETS: "kured's reboot lock and flags are unknown",
                inv.BOTTLEROCKET_SHADOWS: "the Bottlerocket update operator's node states are unknown",
                inv.UPGRADE_PLANS: "system-upgrade-controller plans are unknown",
                inv.MACHINE_CONFIG_POOLS: "OpenShift machine-config pool states are unknown",
                inv.NODE_VULNERABILITY_REPORTS: "trivy-operator node scans are not used",
                inv.DISRUPTION_BUDGETS: "whether nodes can be drained one at a time (node_drain_possible) and the "
                "plan's node rollout blockers are unknown",
            }.get(resource.inventory_kind or "", "it is missing from the evidence")
            effect = resource.denied_effect or effect
            self._deny(resource.inventory_kind, answer, "list", resource.qualified, effect)
            self.resources.append({**entry, "status": "denied", "reason": answer.message()})
            return
        if answer.status == 403:
            raise self._forbidden(answer, "list", resource.qualified)
        raise CollectError(f"could not {doing} at {self.access.server}: {answer.headline()}: {answer.message()}")

    # -- /metrics ----------------------------------------------------------------------------

    def read_metrics(self) -> None:
        """GET /metrics for the deprecated-API request gauge; a refusal or an error answer is recorded, never fatal.

        Read after the lists (its page is the bundle's last); its ``resources`` entry goes with the other
        non-resource URL's, after ``/version``.
        """
        answer = self.api.request("GET", METRICS_PATH, doing="get /metrics", accept=METRICS_ACCEPT)
        entry: dict[str, Any] = {"resource": "metrics", "path": METRICS_PATH}
        if answer.status == 401:
            raise self._unauthorized(answer, "get /metrics")
        effect = "whether clients still request API versions a Kubernetes upgrade removes is unknown"
        if answer.status == 403:
            self._deny(inv.DEPRECATED_API_REQUESTS, answer, "get", METRICS_PATH, effect)
            self._after_version({**entry, "status": "denied", "reason": answer.message()})
            return
        if answer.status != 200:
            reason = f"GET {METRICS_PATH} answered {answer.headline()}: {answer.message()}"
            self.builder.denied[inv.DEPRECATED_API_REQUESTS] = reason
            self.builder.warnings.append(f"{METRICS_PATH} could not be read: {reason}; {effect}")
            self._after_version({**entry, "status": "absent", "reason": reason})
            return
        name = "metrics.txt"
        digest = self._store(name, answer.data, METRICS_ROLE, f"GET {METRICS_PATH}")
        where = self.where(name)
        metrics, problems = parse_apiserver_metrics(answer.data, where)
        decoded = Decoded(apiserver_metrics=metrics)
        self.builder.add(decoded, where)
        self.builder.warnings.extend(problems)
        self.builder.record(page_input(where, decoded, digest))
        self._after_version({**entry, "status": "collected", "deprecated_apis_requested": len(metrics.requests)})

    def _after_version(self, entry: dict[str, Any]) -> None:
        at = next((i + 1 for i, e in enumerate(self.resources) if e.get("resource") == "version"), 0)
        self.resources.insert(at, entry)


def _owner_metadata_only(decoded: Decoded) -> None:
    """Keep of each owner object only what recognition and workload naming read, so a page of Deployments
    carrying kubectl's last-applied configuration costs no more than their names and labels."""
    decoded.owners = [
        OwnerObject(
            kind=o.kind,
            metadata=ObjectMeta(
                name=o.metadata.name,
                namespace=o.metadata.namespace,
                uid=o.metadata.uid,
                labels=o.metadata.labels,
                ownerReferences=o.metadata.ownerReferences,
            ),
        )
        for o in decoded.owners
    ]


def _user_info(data: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return None
    status = document.get("status") if isinstance(document, Mapping) else None
    info = status.get("userInfo") if isinstance(status, Mapping) else None
    if not isinstance(info, Mapping) or not isinstance(info.get("username"), str):
        return None
    found: dict[str, Any] = {"username": info["username"]}
    for key in ("uid", "groups", "extra"):
        if info.get(key):
            found[key] = info[key]
    return found


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def collect_live(
    access: ClusterAccess,
    *,
    host: Host,
    options: LiveOptions | None = None,
    sink: PageSink | None = None,
    progress: Progress | None = None,
    scan_parser: ScanParser | None = None,
    authenticator: Authenticator | None = None,
) -> Collection:
    """Read the cluster of ``access`` into an Inventory (and, through ``sink``, into a bundle)."""
    from patchlevel.importers.trivy_operator import parse_cluster_objects

    options = options or LiveOptions()
    auth = authenticator or Authenticator(
        access,
        now=host.wall,
        monotonic=host.monotonic,
        stdin_is_terminal=host.stdin_is_terminal,
        environ=host.environ,
        exec_timeout=options.request_timeout,
    )
    started = host.wall()
    builder = InventoryBuilder("live", scan_parser or parse_cluster_objects, share_strings=True)
    if access.insecure:
        builder.warnings.append(
            f'TLS verification is off for context "{access.context}" (insecure-skip-tls-verify): the API server\'s '
            "identity was not checked, so this evidence could come from any server"
        )
    with ApiClient(access, options, host, auth) as api:
        collector = _Collector(access, api, options, builder, sink, progress)
        collector.read_version()
        collector.read_identity()
        for resource in RESOURCES:
            collector.read_list(resource)
        collector.read_metrics()
    finished = host.wall()
    inventory = builder.build(name=access.context, server=access.server, collected_at=finished)
    metadata = {
        "tool": {"name": "patchlevel", "version": __version__},
        "cluster": {
            "context": access.context,
            "server": access.server,
            "version": collector.version,
            "insecure_skip_tls_verify": access.insecure,
            "access": access.origin,
        },
        "identity": collector.identity,
        "collection": {"started": _iso(started), "finished": _iso(finished), "page_size": options.page_size},
        "resources": collector.resources,
        "denied": dict(builder.denied),
        "warnings": list(builder.warnings),
        "retries": list(api.retries),
    }
    return Collection(inventory, metadata)


def collect_bundle(
    access: ClusterAccess,
    target: Path,
    *,
    host: Host,
    force: bool = False,
    options: LiveOptions | None = None,
    progress: Progress | None = None,
    scan_parser: ScanParser | None = None,
    authenticator: Authenticator | None = None,
) -> tuple[Collection, str]:
    """Collect into an evidence bundle at ``target`` (a directory, or ``.tar.gz``); return it and its digest."""
    from patchlevel.collect.bundle import BundleWriter

    writer = BundleWriter(target, force=force)
    try:
        collection = collect_live(
            access,
            host=host,
            options=options,
            sink=writer,
            progress=progress,
            scan_parser=scan_parser,
            authenticator=authenticator,
        )
    except BaseException:
        writer.abort()
        raise
    digest = writer.finish(collection.metadata)
    return collection, digest


class TerminalProgress:
    """A progress bar per listed resource, on a terminal (rich); use as a context manager."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bars = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(file=stream),
            transient=True,
        )
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> Self:
        self._bars.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._bars.stop()

    def update(self, resource: str, done: int, total: int | None) -> None:
        task = self._tasks.get(resource)
        if task is None:
            task = self._tasks[resource] = self._bars.add_task(f"listing {resource}", total=total)
        self._bars.update(task, completed=done, total=total if total is not None else done)


def terminal_progress(stream: TextIO) -> TerminalProgress | None:
    """A progress display on ``stream`` when it is a terminal, else None."""
    isatty = getattr(stream, "isatty", None)
    return TerminalProgress(stream) if isatty is not None and isatty() else None
