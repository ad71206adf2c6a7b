"""What the planner needs beyond findings and facts: API versions in use, and disruption budgets.

Two typed inputs, each saying how complete it is, so a gap is reported instead of read as "none":

* ``ApiUsage``: which apiVersions the cluster's objects and clients use (objects by the apiVersion
  they were written in, and the API server's ``apiserver_requested_deprecated_apis`` metric);
* ``Disruption``: the PodDisruptionBudgets and the workloads they cover, per node pool.

Today's collectors hold neither in full: ``from_inventory`` builds what the inventory does hold (pods
and nodes, read as ``v1``; owners as ``apps/v1`` and ``batch/v1``) and names the gaps.  Phase 2's
collectors (snapshot, live, bundle) fill the same records; ``build_plan`` reads nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from patchlevel import inventory as inv
from patchlevel.inventory import Inventory


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
class DisruptionBudget:
    """A PodDisruptionBudget and what it allows now."""

    namespace: str
    name: str
    workloads: tuple[str, ...]  # "Deployment/<ns>/<name>" it selects (resolved by the collector)
    disruptions_allowed: int | None  # status.disruptionsAllowed; None when the status is missing
    min_available: str = ""  # as written ("1", "50%"), "" when unset
    max_unavailable: str = ""


@dataclass(frozen=True, slots=True)
class Disruption:
    """Disruption budgets of the cluster; ``read`` False means none were in the input (unknown, not "none")."""

    budgets: tuple[DisruptionBudget, ...] = ()
    read: bool = False
    gaps: tuple[str, ...] = ()

    def for_workload(self, workload: str) -> tuple[DisruptionBudget, ...]:
        return tuple(b for b in self.budgets if workload in b.workloads)


@dataclass(frozen=True, slots=True)
class PlanInputs:
    api_usage: ApiUsage
    disruption: Disruption


NO_OBJECTS_BY_API_VERSION = (
    "the input holds no objects by the apiVersion they were written in (workloads, PodDisruptionBudgets, "
    "HorizontalPodAutoscalers, CronJobs, Ingresses …) and not the API server's apiserver_requested_deprecated_apis "
    "metric: whether the cluster still uses an API version a step removes is unknown"
)
NO_DISRUPTION_BUDGETS = "PodDisruptionBudgets are not in the input: node rollout blockers unknown"


def _listed(kind: str, api_version: str, count: int) -> Iterable[ApiVersionUse]:
    if count:
        yield ApiVersionUse(api_version, kind, UsageSource.LISTED, count=count)


def from_inventory(inventory: Inventory) -> PlanInputs:
    """What today's inventory says: the kinds it read and at which apiVersion, and the gaps.

    Pods and nodes are read as ``v1`` and owners as ``apps/v1``/``batch/v1``: API versions no release
    removes, read by the collector (``LISTED``), which say nothing about what clients use.
    """
    uses: list[ApiVersionUse] = []
    if inventory.has(inv.NODES):
        uses.extend(_listed("Node", "v1", len(inventory.nodes)))
    if inventory.has(inv.PODS):
        uses.extend(_listed("Pod", "v1", len(inventory.pods)))
    owners = list(inventory.owners.values())
    for kind, api_version in (("ReplicaSet", "apps/v1"), ("Job", "batch/v1")):
        uses.extend(_listed(kind, api_version, sum(1 for o in owners if o.kind == kind)))
    return PlanInputs(
        api_usage=ApiUsage(uses=tuple(uses), gaps=(NO_OBJECTS_BY_API_VERSION,)),
        disruption=Disruption(read=False, gaps=(NO_DISRUPTION_BUDGETS,)),
    )
