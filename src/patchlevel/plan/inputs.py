"""What the planner needs beyond findings and facts: API versions in use, and disruption budgets.

Two typed inputs, each saying how complete it is, so a gap is reported instead of read as "none":

* ``ApiUsage``: which apiVersions the cluster's objects and clients use (objects by the apiVersion
  they were written in, and the API server's ``apiserver_requested_deprecated_apis`` metric);
* ``Disruption``: the PodDisruptionBudgets and the workloads they cover (``patchlevel.drain``, the
  rule ``node_drain_possible`` shares).

``from_inventory`` fills both from what the collectors hold (snapshot, live, bundle): every object
but pods and nodes by the apiVersion it was written in (``Inventory.written``: a snapshot file's own
apiVersion, or kubectl's last-applied configuration), the item kinds of the whole lists the input
holds, the API server's metric, and the budgets.  ``build_plan`` reads nothing else.

A kind is complete when the input holds a whole list of it and every one of its objects shows how
it was written (a live list item without a last-applied configuration does not: the list returns
the version the collector asked for).  A removed version is "not found" only when its kind is
complete and the metric was read from kube-apiserver; otherwise its use is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from patchlevel import inventory as inv
from patchlevel.drain import NO_DISRUPTION_BUDGETS, Disruption, DisruptionBudget, disruption_of
from patchlevel.inventory import Inventory, WrittenObject


class UsageSource(StrEnum):
    """Where a use of an apiVersion was seen."""

    MANIFEST = "manifest"  # an object file of a snapshot, as written (apiVersion as the author wrote it)
    LAST_APPLIED = "last-applied"  # kubectl.kubernetes.io/last-applied-configuration of a live object
    REQUEST_METRIC = "request-metric"  # apiserver_requested_deprecated_apis: a client requested it
    LISTED = "listed"  # read from the API server at this apiVersion by the collector itself


@dataclass(frozen=True, slots=True)
class ApiVersionUse:
    """A use of one apiVersion of one kind (or resource, for the metric)."""

    api_version: str  # "policy/v1beta1"; "v1" for the core group
    kind: str  # "PodDisruptionBudget"; "" when only the resource is known (the metric)
    source: UsageSource
    resource: str = ""  # "poddisruptionbudgets" (the metric's label), "" when unknown
    objects: tuple[str, ...] = ()  # "namespace/name" of objects written in it (capped by the collector)
    count: int = 0  # objects written in it; for the metric, 1 (it only says "requested")


@dataclass(frozen=True, slots=True)
class ApiUsage:
    """Which apiVersions are in use, and how much of the cluster the input shows.

    ``kinds_complete`` are kinds whose every object the input holds as written (manifests or
    last-applied configurations), so an apiVersion of such a kind that no object uses is not used
    by stored objects.  ``requests_read`` says the API server's deprecated-API metric was read: then
    a removed apiVersion no client requested since the server started is not requested.  An API
    version is "not found" only when both say so; otherwise its use is unknown.
    """

    uses: tuple[ApiVersionUse, ...] = ()
    kinds_complete: frozenset[str] = frozenset()
    requests_read: bool = False
    requests_since: str = ""  # when the API server (and so its metric) started, if known
    gaps: tuple[str, ...] = ()  # why the picture is incomplete, one line each

    def uses_of(self, api_version: str, kind: str, resource: str) -> tuple[ApiVersionUse, ...]:
        return tuple(
            u
            for u in self.uses
            if u.source is not UsageSource.LISTED
            and u.api_version == api_version
            and (u.kind == kind or (not u.kind and u.resource == resource))
        )


@dataclass(frozen=True, slots=True)
class PlanInputs:
    api_usage: ApiUsage
    disruption: Disruption


NO_OBJECTS_BY_API_VERSION = (
    "the input holds no objects by the apiVersion they were written in (workloads, PodDisruptionBudgets, "
    "HorizontalPodAutoscalers, CronJobs, Ingresses … as files, or kubectl's last-applied configurations): which "
    "API versions stored objects use is unknown"
)
NO_REQUEST_METRIC = (
    "the API server's apiserver_requested_deprecated_apis metric is not in the input ({why}): which API versions "
    "clients still request is unknown"
)
METRIC_SINCE_MINOR = 19  # kube-apiserver has had the metric since Kubernetes 1.19
MAX_OBJECTS = 10  # objects named per use; the count says how many more
__all__ = [
    "NO_DISRUPTION_BUDGETS",
    "NO_OBJECTS_BY_API_VERSION",
    "NO_REQUEST_METRIC",
    "ApiUsage",
    "ApiVersionUse",
    "Disruption",
    "DisruptionBudget",
    "PlanInputs",
    "UsageSource",
    "from_inventory",
]


def _listed(kind: str, api_version: str, count: int) -> Iterable[ApiVersionUse]:
    if count:
        yield ApiVersionUse(api_version, kind, UsageSource.LISTED, count=count)


def _shown(obj: WrittenObject) -> str:
    return f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name or "(no name)"


def _written_uses(written: Iterable[WrittenObject]) -> list[ApiVersionUse]:
    """One use per (apiVersion, kind, source): each file's own apiVersion, and each last-applied one."""
    found: dict[tuple[str, str, UsageSource], list[str]] = {}
    for obj in written:
        if obj.api_version:
            found.setdefault((obj.api_version, obj.kind, UsageSource.MANIFEST), []).append(_shown(obj))
        if obj.last_applied:
            found.setdefault((obj.last_applied, obj.kind, UsageSource.LAST_APPLIED), []).append(_shown(obj))
    uses = []
    for (api_version, kind, source), names in sorted(found.items()):
        unique = sorted(set(names))
        uses.append(ApiVersionUse(api_version, kind, source, objects=tuple(unique[:MAX_OBJECTS]), count=len(names)))
    return uses


def _complete_kinds(inventory: Inventory) -> frozenset[str]:
    """Kinds of which the input holds a whole list, every object showing how it was written."""
    shown: dict[str, bool] = {}
    for obj in inventory.written:
        shown[obj.kind] = shown.get(obj.kind, True) and obj.as_written
    return frozenset(kind for kind in inventory.whole_lists if shown.get(kind, True))


def _since(started: datetime | None) -> str:
    if started is None:
        return ""
    return (
        f"{started:%Y-%m-%d %H:%M} UTC, when the API server that answered started (each API server counts only "
        "the requests it served)"
    )


def _minor(inventory: Inventory) -> int | None:
    version = inventory.version.gitVersion if inventory.version is not None else ""
    match = re.match(r"v?1\.(\d+)", version)
    return int(match[1]) if match else None


def _requests(inventory: Inventory) -> tuple[list[ApiVersionUse], bool, str, str]:
    """(uses, read, since, gap) from the API server's deprecated-API request metric."""
    metrics = inventory.apiserver_metrics
    if metrics is None:
        if inv.DEPRECATED_API_REQUESTS in inventory.denied:
            why = inventory.denied[inv.DEPRECATED_API_REQUESTS]
        elif inventory.source == "snapshot":
            why = "the snapshot holds no /metrics exposition: add `kubectl get --raw /metrics > apiserver-metrics.txt`"
        else:
            why = f"the {inventory.source or 'input'} holds no /metrics exposition"
        return [], False, "", NO_REQUEST_METRIC.format(why=why)
    uses = {
        (r.api_version, r.resource): ApiVersionUse(
            r.api_version, "", UsageSource.REQUEST_METRIC, resource=r.resource, count=1
        )
        for r in metrics.requests
    }
    minor = _minor(inventory)
    if not metrics.from_apiserver:
        why = f"{metrics.source} holds no apiserver_request_total series: it is not kube-apiserver's exposition"
        return list(uses.values()), False, "", NO_REQUEST_METRIC.format(why=why)
    if minor is not None and minor < METRIC_SINCE_MINOR:
        why = f"the API server runs 1.{minor}; kube-apiserver has the metric from 1.{METRIC_SINCE_MINOR}"
        return list(uses.values()), False, "", NO_REQUEST_METRIC.format(why=why)
    return list(uses.values()), True, _since(metrics.started), ""


def from_inventory(inventory: Inventory) -> PlanInputs:
    """What the inventory says about API versions in use and disruption budgets, and what it leaves unknown.

    Pods and nodes are read as ``v1`` and owners as ``apps/v1``/``batch/v1`` (``LISTED``: API versions
    the collector asked for, which say nothing about use); objects as written (``MANIFEST``,
    ``LAST_APPLIED``) and the API server's metric (``REQUEST_METRIC``) say what is used.
    """
    uses: list[ApiVersionUse] = []
    if inventory.has(inv.NODES):
        uses.extend(_listed("Node", "v1", len(inventory.nodes)))
    if inventory.has(inv.PODS):
        uses.extend(_listed("Pod", "v1", len(inventory.pods)))
    owners = list(inventory.owners.values())
    for kind, api_version in (("ReplicaSet", "apps/v1"), ("Job", "batch/v1")):
        uses.extend(_listed(kind, api_version, sum(1 for o in owners if o.kind == kind)))
    uses.extend(_written_uses(inventory.written))
    requested, read, since, metric_gap = _requests(inventory)
    uses.extend(requested)
    gaps = []
    if not any(obj.as_written for obj in inventory.written):
        gaps.append(NO_OBJECTS_BY_API_VERSION)
    if metric_gap:
        gaps.append(metric_gap)
    usage = ApiUsage(
        uses=tuple(uses),
        kinds_complete=_complete_kinds(inventory),
        requests_read=read,
        requests_since=since,
        gaps=tuple(gaps),
    )
    return PlanInputs(api_usage=usage, disruption=disruption_of(inventory))
