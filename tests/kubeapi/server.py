"""A Kubernetes API server for tests: HTTPS on loopback, bearer tokens, RBAC denials, paging,
continue-token expiry and scripted faults.

Start it in-process::

    with KubeAPIServer(Cluster(objects={"nodes": nodes, "pods": pods})) as api:
        api.write_kubeconfig(tmp_path / "kubeconfig")
        ...                                  # point the collector or kubectl at it
        assert [r.query.get("limit") for r in api.requests_to("/api/v1/pods")] == ["500", "500"]

or as a separate process with ``python -m tests.kubeapi`` (see ``__main__.py``).

What it answers the way kube-apiserver does: legacy discovery (``/api``, ``/apis``, group
versions; aggregated discovery is never offered, so clients fall back), lists with
``limit``/``continue``, ``metadata.resourceVersion``, ``continue`` and
``remainingItemCount``, items without ``kind``/``apiVersion`` (custom resources keep them),
``Status`` bodies for errors, 410 ``Expired`` for continue tokens older than
``continue_ttl`` or issued before ``expire_continue_tokens()``, gzip above 128 KiB, chunked
transfer for big lists, and ``POST selfsubjectreviews``.  What it does not do: writes,
watches, label or field selectors (answered 400 rather than silently ignored), protobuf,
server-side Tables, HTTP/2.  Every list is served at one revision (``resource_version``), so
``resourceVersion``/``resourceVersionMatch`` parameters are accepted and ignored.
"""

from __future__ import annotations

import json
import os
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

import msgspec

from . import continuation, resources
from . import statuses as answers
from .certs import KeyPair, LoopbackPKI, make_pki
from .cluster import Cluster
from .continuation import ContinueToken
from .faults import Action, Fault, FaultPlan
from .kubeconfig import write_kubeconfig
from .resources import ResourceType
from .statuses import Response
from .store import Store, make_store
from .transport import TLSServer

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class User:
    """An authenticated identity, as a SelfSubjectReview reports it."""

    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def user_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"username": self.name}
        if self.uid:
            info["uid"] = self.uid
        if self.groups:
            info["groups"] = list(self.groups)
        if self.extra:
            info["extra"] = {k: list(v) for k, v in self.extra.items()}
        return info


SERVICE_ACCOUNT = User(
    name="system:serviceaccount:patchlevel:patchlevel",
    uid="4a5ad3e8-3f8e-4d2c-9f1e-6c8a1f0b2d7e",
    groups=("system:serviceaccounts", "system:serviceaccounts:patchlevel", "system:authenticated"),
)
ANONYMOUS = User(name="system:anonymous", groups=("system:unauthenticated",))
# Paths every identity may GET, anonymous included (the system:public-info-viewer role).
PUBLIC_PATHS = frozenset({"/version", "/version/", "/healthz", "/livez", "/readyz"})
RECORDED_HEADERS = ("accept", "accept-encoding", "authorization", "content-type", "user-agent")
METRICS_PATH = "/metrics"  # a non-resource URL: RBAC "get" on it, as "/version"
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(slots=True)
class RecordedRequest:
    """One request as the server saw it; ``status`` stays None when no answer was sent."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # those in RECORDED_HEADERS, names in lower case
    page: int | None  # of a list: 1 without a continue token, None for a garbled token
    fault: Action | None
    status: int | None = None
    user: str | None = None


class KubeAPIServer:
    """HTTPS Kubernetes API on 127.0.0.1 and an ephemeral port, running in a daemon thread.

    ``token`` is the bearer token that authenticates as ``user``; any other token is refused
    with 401, and so is a request without credentials unless ``anonymous`` (then it runs as
    ``system:anonymous``, which may read only ``/version`` and the health endpoints).  With
    ``client_certificates`` the server also asks for a client certificate signed by its CA
    (``write_kubeconfig(..., client_certificate=True)`` writes one).  ``forbidden`` names
    resources the identity may not touch, as ``"pods"``, ``"replicasets.apps"`` or a path such
    as ``"/version"``; they answer 403 with RBAC's wording.  ``clock`` times continue tokens.
    """

    def __init__(
        self,
        cluster: Cluster | None = None,
        *,
        token: str = "test-token",
        user: User = SERVICE_ACCOUNT,
        faults: Iterable[Fault] = (),
        forbidden: Collection[str] = (),
        anonymous: bool = False,
        client_certificates: bool = False,
        continue_ttl: float = 300.0,
        gzip: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cluster = cluster or Cluster()
        self.token = token
        self.user = user
        self.forbidden = frozenset(forbidden)
        self.anonymous = anonymous
        self.client_certificates = client_certificates
        self.continue_ttl = continue_ttl
        self.gzip = gzip
        self.clock = clock
        self.faults = FaultPlan(faults)
        self._served = self.cluster.served()
        self._stores: dict[str, Store] = {
            plural: make_store(source, resources.BY_PLURAL[plural]) for plural, source in self.cluster.objects.items()
        }
        self._indexes: dict[tuple[str, str], Sequence[int]] = {}
        self._names: dict[str, dict[tuple[str, str], int]] = {}
        self._index_lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._requests_lock = threading.Lock()
        self._compacted_at = float("-inf")
        self._stop = threading.Event()
        self._pki: LoopbackPKI | None = None
        self._httpd: TLSServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is not None:
            raise RuntimeError("the server is already running")
        self._pki = make_pki()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        with tempfile.TemporaryDirectory(prefix="kubeapi-") as scratch:
            cert, key = Path(scratch, "tls.crt"), Path(scratch, "tls.key")
            cert.write_bytes(self._pki.server.cert_pem)
            key.write_bytes(self._pki.server.key_pem)
            context.load_cert_chain(cert, key)
        if self.client_certificates:
            context.verify_mode = ssl.CERT_OPTIONAL
            context.load_verify_locations(cadata=self._pki.ca.cert_pem.decode("ascii"))
        self._stop.clear()
        self._httpd = TLSServer(("127.0.0.1", 0), answerer=self, context=context)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="kubeapi", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what tests use ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_pem(self) -> bytes:
        if self._pki is None:
            raise RuntimeError("the server has not been started")
        return self._pki.ca.cert_pem

    def client_certificate(self, user: User | None = None) -> KeyPair:
        """A client certificate for ``user`` (default: the server's user) signed by the CA."""
        if self._pki is None:
            raise RuntimeError("the server has not been started")
        who = user or self.user
        return self._pki.issue_client(who.name, [g for g in who.groups if g != "system:authenticated"])

    def write_kubeconfig(
        self,
        path: str | os.PathLike[str],
        *,
        client_certificate: bool = False,
        context: str = "test",
        cluster: str = "test-cluster",
        user: str = "test-user",
    ) -> Path:
        """Write a kubeconfig for this server (token, or a client certificate) to ``path``."""
        if not client_certificate:
            return write_kubeconfig(path, self.url, self.ca_pem, self.token, context, cluster, user)
        if not self.client_certificates:
            raise ValueError("start the server with client_certificates=True to use them")
        pair = self.client_certificate()
        return write_kubeconfig(
            path, self.url, self.ca_pem, None, context, cluster, user,
            client_cert_pem=pair.cert_pem, client_key_pem=pair.key_pem,
        )  # fmt: skip

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._requests_lock:
            return list(self._requests)

    def requests_to(self, path: str, method: str = "GET") -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path and r.method == method]

    def clear_requests(self) -> None:
        with self._requests_lock:
            self._requests.clear()

    def set_faults(self, faults: Iterable[Fault]) -> None:
        """Replace the fault rules (their counters start again from zero)."""
        self.faults.replace(faults)

    def expire_continue_tokens(self) -> None:
        """Compact: every continue token issued so far now answers 410 Expired."""
        self._compacted_at = self.clock()

    # -- one request (called by the transport, from a connection's thread) -------------------

    def answer(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, peer_cert: dict[str, Any] | None
    ) -> Response | Action:
        """Record the request, then answer it, or return RESET/HANG for the transport to act."""
        split = urlsplit(target)
        path = split.path or "/"
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        page = continuation.page_of(query)
        fault = self.faults.decide(method, path, page)
        recorded = {name: headers[name] for name in RECORDED_HEADERS if name in headers}
        record = RecordedRequest(method, path, query, recorded, page, fault.action if fault else None)
        with self._requests_lock:
            self._requests.append(record)
        response = self._respond(method, path, query, headers, body, peer_cert, fault, record)
        if isinstance(response, Response):
            record.status = response.status
        return response

    def _respond(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
        peer_cert: dict[str, Any] | None,
        fault: Fault | None,
        record: RecordedRequest,
    ) -> Response | Action:
        if fault is not None:
            if fault.action in (Action.RESET, Action.HANG):
                return fault.action
            if fault.action is Action.STATUS:
                return answers.fault_response(fault)
            if fault.action is Action.EXPIRE:
                return answers.expired(self._resume_token(query).encode())
            self._stop.wait(fault.seconds)  # DELAY, then answer as usual
        user = self._authenticate(headers.get("authorization"), peer_cert)
        if user is None:
            return answers.unauthorized()
        record.user = user.name
        try:
            return self._handle(method, path, query, headers, body, user)
        except Exception as error:  # a bug here must still answer the way a server would
            return answers.internal_error(f"{type(error).__name__}: {error}")

    def _resume_token(self, query: Mapping[str, str]) -> ContinueToken:
        try:
            return continuation.decode(query.get("continue", "")).resumed()
        except ValueError:
            return ContinueToken(continuation.INCONSISTENT, 0, 1, self.clock())

    def _authenticate(self, authorization: str | None, peer_cert: dict[str, Any] | None) -> User | None:
        if authorization is not None:
            scheme, _, credential = authorization.partition(" ")
            if scheme.lower() == "bearer" and credential.strip() == self.token:
                return self.user
            return None  # a credential that does not check out is refused, never downgraded
        if peer_cert is not None:
            return _user_from_certificate(peer_cert)
        return ANONYMOUS if self.anonymous else None

    def _handle(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes, user: User
    ) -> Response:
        if path in PUBLIC_PATHS and method == "GET":
            if path.startswith("/version"):
                return self._forbidden_path(user, method, path) or answers.json_response(200, self.cluster.version)
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if path == METRICS_PATH and method == "GET":  # Prometheus text whatever the Accept header asks
            denied = self._forbidden_path(user, method, path)
            if denied is not None or self.cluster.metrics is None:
                return denied or answers.not_found()
            return Response(200, self.cluster.metrics.encode("utf-8"), METRICS_TYPE)
        if not _accepts_json(headers.get("accept", "")):
            return answers.status(
                406,
                "NotAcceptable",
                "only the following media types are accepted: application/json, application/yaml, "
                "application/vnd.kubernetes.protobuf",
            )
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["api"] and len(parts) > 2:
            return self._route(method, "", parts[1:], query, body, user)
        if parts[:1] == ["apis"] and len(parts) > 3:
            return self._route(method, parts[1], parts[2:], query, body, user)
        # Discovery, and paths that lead nowhere: authorized as non-resource URLs.
        denied = self._forbidden_path(user, method, path)
        if denied is not None:
            return denied
        document = self._discovery(parts) if method == "GET" else None
        return answers.json_response(200, document) if document is not None else answers.not_found()

    def _discovery(self, parts: list[str]) -> Mapping[str, Any] | None:
        match parts:
            case ["api"]:
                return resources.api_versions(f"127.0.0.1:{self.port}")
            case ["api", version]:
                return resources.api_resource_list("", version, self._served)
            case ["apis"]:
                return resources.api_group_list(self._served)
            case ["apis", group]:
                found = resources.api_group(group, self._served)
                return None if found is None else {"kind": "APIGroup", "apiVersion": "v1", **found}
            case ["apis", group, version]:
                return resources.api_resource_list(group, version, self._served)
        return None

    def _route(
        self, method: str, group: str, parts: list[str], query: Mapping[str, str], body: bytes, user: User
    ) -> Response:
        version, rest = parts[0], parts[1:]
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        resource = resources.find(group, version, rest[0], self._served)
        if resource is None or len(rest) > 2 or (namespace is not None and not resource.namespaced):
            # Unknown resources and subresources (pods/log …) are not served.
            prefix = "/api/" if not group else f"/apis/{group}/"
            return self._forbidden_path(user, method, prefix + "/".join(parts)) or answers.not_found()
        name = rest[1] if len(rest) == 2 else None
        if resource.plural == "selfsubjectreviews":
            if method != "POST" or name is not None:
                return answers.not_allowed(resource, method)
            return self._forbidden(user, "create", resource, None, None) or _self_subject_review(body, user)
        if method != "GET":
            return answers.not_allowed(resource, method)
        if name is None:
            return self._forbidden(user, "list", resource, namespace, None) or self._list(resource, namespace, query)
        if resource.namespaced and namespace is None:
            return answers.not_found()
        return self._forbidden(user, "get", resource, namespace, name) or self._get(resource, namespace, name)

    def _forbidden(
        self, user: User, action: str, resource: ResourceType, namespace: str | None, name: str | None
    ) -> Response | None:
        granted = resource.qualified not in self.forbidden and resource.plural not in self.forbidden
        if granted and user is not ANONYMOUS:
            return None
        return answers.forbidden_resource(user.name, action, resource, namespace, name)

    def _forbidden_path(self, user: User, method: str, path: str) -> Response | None:
        public = path in PUBLIC_PATHS and method == "GET"
        if path not in self.forbidden and (user is not ANONYMOUS or public):
            return None
        return answers.forbidden_path(user.name, method.lower(), path)

    # -- lists and gets ----------------------------------------------------------------------

    def _positions(self, resource: ResourceType, store: Store, namespace: str | None) -> Sequence[int]:
        if namespace is None:
            return range(len(store))
        key = (resource.plural, namespace)
        with self._index_lock:
            cached = self._indexes.get(key)
        if cached is None:
            cached = [i for i in range(len(store)) if store.namespace(i) == namespace]
            with self._index_lock:
                self._indexes[key] = cached
        return cached

    def _list(self, resource: ResourceType, namespace: str | None, query: Mapping[str, str]) -> Response:
        for unsupported in ("labelSelector", "fieldSelector"):
            if query.get(unsupported):
                return answers.bad_request(f"the kubeapi test server does not implement {unsupported}")
        if query.get("watch") in ("true", "1"):
            return answers.bad_request("the kubeapi test server does not implement watch")
        try:
            limit = int(query.get("limit") or 0)
        except ValueError:
            return answers.bad_request(f"invalid value for limit: {query['limit']!r}")
        now = self.clock()
        token: ContinueToken | None = None
        if query.get("continue"):
            try:
                token = continuation.decode(query["continue"])
            except ValueError as error:
                return answers.bad_request(f"continue key is not valid: {error}")
            too_old = now - token.started > self.continue_ttl or token.started <= self._compacted_at
            if token.resource_version != continuation.INCONSISTENT and too_old:
                return answers.expired(token.resumed().encode())
        store = self._stores.get(resource.plural)
        positions: Sequence[int] = () if store is None else self._positions(resource, store, namespace)
        start = token.start if token else 0
        end = len(positions) if limit <= 0 else min(len(positions), start + limit)
        revision = self.cluster.resource_version
        metadata: dict[str, Any] = {"resourceVersion": str(revision)}
        if end < len(positions):
            consistent = token is not None and token.resource_version != continuation.INCONSISTENT
            started = token.started if token is not None and consistent else now
            page = token.page + 1 if token is not None else 2
            metadata["continue"] = ContinueToken(revision, end, page, started).encode()
            metadata["remainingItemCount"] = len(positions) - end
        head = _encoder.encode({"kind": resource.list_kind, "apiVersion": resource.group_version, "metadata": metadata})
        return Response(200, _list_body(head, store, positions[start:end]))

    def _get(self, resource: ResourceType, namespace: str | None, name: str) -> Response:
        store = self._stores.get(resource.plural)
        index = None if store is None else self._name_index(resource, store).get((namespace or "", name))
        if store is None or index is None:
            return answers.object_not_found(resource, name)
        item = msgspec.json.decode(store.encoded(index))
        return answers.json_response(200, {"kind": resource.kind, "apiVersion": resource.group_version, **item})

    def _name_index(self, resource: ResourceType, store: Store) -> dict[tuple[str, str], int]:
        with self._index_lock:
            index = self._names.get(resource.plural)
        if index is None:
            index = {(store.namespace(i), store.name(i)): i for i in range(len(store))}
            with self._index_lock:
                self._names[resource.plural] = index
        return index


def _list_body(head: bytes, store: Store | None, positions: Sequence[int]) -> Iterator[bytes]:
    # head is '{"kind":…,"metadata":{…}}': reopen it to append the items.
    yield head[:-1] + b',"items":['
    for n, index in enumerate(positions):
        assert store is not None
        yield (b"," if n else b"") + store.encoded(index)
    yield b"]}"


def _accepts_json(accept: str) -> bool:
    if not accept:
        return True
    for part in accept.split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media in ("application/json", "application/*", "*/*", "application/yaml"):
            return True
    return False


def _user_from_certificate(cert: dict[str, Any]) -> User | None:
    common_name, groups = None, []
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                common_name = value
            elif key == "organizationName":
                groups.append(value)
    if not common_name:
        return None
    return User(name=common_name, groups=(*groups, "system:authenticated"))


def _self_subject_review(body: bytes, user: User) -> Response:
    try:
        review = json.loads(body or b"{}")
    except ValueError as error:
        return answers.bad_request(f"the body of the request was in an unknown format: {error}")
    if not isinstance(review, dict) or review.get("kind", "SelfSubjectReview") != "SelfSubjectReview":
        return answers.bad_request("the body is not a SelfSubjectReview")
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return answers.json_response(
        201,
        {
            "kind": "SelfSubjectReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": created},
            "status": {"userInfo": user.user_info()},
        },
    )
