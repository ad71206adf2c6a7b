"""What the planner needs beyond findings and facts: API versions in use, and disruption budgets.

Two typed inputs, each saying how complete it is, so a gap is reported instead of read as "none":

* ``ApiUsage``: which apiVersions the cluster's objects and clients use (objects by the apiVersion
  they were written in, and the API server's ``apiserver_requested_deprecated_apis`` metric);
* ``Disruption``: the PodDisruptionBudgets and the workloads they cover (``patchlevel.drain``, the
  rule ``node_drain_possible`` shares).

and a third, ``Surge``: how many nodes at a time the platform's own updater takes, where the input
shows it (an OpenShift ``MachineConfigPool``'s ``maxUnavailable``, a system-upgrade-controller
``Plan``'s ``concurrency``); ``nodes_gap`` says why the input holds no nodes, when it holds none.

``from_inventory`` fills them from what the collectors hold (snapshot, live, bundle): every object
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from patchlevel import inventory as inv
from patchlevel.drain import NO_DISRUPTION_BUDGETS, Disruption, DisruptionBudget, disruption_of
from patchlevel.inventory import Inventory, WrittenObject
from patchlevel.kube import MachineConfigPool, Node, UpgradePlan


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


MCO = "machine-config operator"
SUC = "system-upgrade-controller"
MCO_SOURCE = (
    "openshift/machine-config-operator pkg/controller/node/node_controller.go maxUnavailable(): unset is 1, a "
    "percentage is scaled by the pool's node count rounding down (intstr.GetScaledValueFromIntOrPercent, roundUp "
    "false), and 0 becomes 1"
)
SUC_SOURCE = (
    "rancher/system-upgrade-controller pkg/upgrade/plan/plan.go SelectConcurrentNodes(): nodes are selected while "
    "fewer than spec.concurrency are applying"
)
_MCO_BUILTIN = ("master", "worker")
_SUC_LABEL = "plan.upgrade.cattle.io/"
_HOSTNAME = "kubernetes.io/hostname"
_PERCENT = re.compile(r"^(\d{1,9})%$")


@dataclass(frozen=True, slots=True)
class SurgeSetting:
    """An object in the input that says how many of its nodes its updater takes at once.

    ``value`` is as written (None when the object leaves it unset); ``size`` is how many nodes of the
    input the object covers, the pool size a percentage is taken of.
    """

    kind: str  # "MachineConfigPool" or "Plan"
    name: str  # "worker"; "system-upgrade/k3s-agent"
    setting: str  # "maxUnavailable" or "concurrency"
    value: int | str | None
    size: int
    paused: bool = False  # a MachineConfigPool with spec.paused: the operator updates none of its nodes

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"

    def resolve(self) -> tuple[int | None, str]:
        """(nodes at a time, how that follows from the object); None when the updater takes none or refuses it."""
        if self.kind == "MachineConfigPool":
            return self._max_unavailable()
        return self._concurrency()

    def _max_unavailable(self) -> tuple[int | None, str]:
        value = self.value
        paused = "; the pool is paused, so the operator updates none of its nodes until it is unpaused"
        tail = paused if self.paused else ""
        if value is None:
            return 1, f"{self.label} sets no maxUnavailable: the {MCO}'s default, 1{tail}"
        if isinstance(value, bool) or (isinstance(value, int) and value < 0):
            return None, f"{self.label} sets maxUnavailable {value!r}, which is not a count of nodes{tail}"
        if isinstance(value, int):
            if value == 0:
                return 1, f"{self.label} sets maxUnavailable 0, which the {MCO} takes as 1{tail}"
            return value, f"{self.label} sets maxUnavailable {value}{tail}"
        match = _PERCENT.match(value.strip())
        if match is None:
            return None, (
                f"{self.label} sets maxUnavailable {value!r}, neither a count nor a percentage: the {MCO} refuses it "
                f"and updates none of the pool's nodes{tail}"
            )
        percent = int(match[1])
        scaled = percent * self.size // 100
        nodes = f"{self.size} node{'s' if self.size != 1 else ''}"
        if scaled == 0:
            return 1, (
                f"{self.label} sets maxUnavailable {value} of its {nodes}: {percent * self.size / 100:g} rounds down "
                f"to 0, which the {MCO} takes as 1{tail}"
            )
        return scaled, (
            f"{self.label} sets maxUnavailable {value} of its {nodes}: {scaled}, rounded down as the {MCO} does{tail}"
        )

    def _concurrency(self) -> tuple[int | None, str]:
        value = self.value
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value, f"{self.label} sets concurrency {value}"
        shown = "no concurrency" if value is None else f"concurrency {value!r}"
        return None, (
            f"{self.label} sets {shown}: the {SUC} starts no upgrade job for its nodes until concurrency is at least 1"
        )


@dataclass(frozen=True, slots=True)
class Surge:
    """Per node name: the objects of the input whose updater takes that node, with their settings."""

    by_node: Mapping[str, tuple[SurgeSetting, ...]] = field(default_factory=dict)
    unknowns: Mapping[str, str] = field(default_factory=dict)  # node name -> why its updater's setting is unknown

    def of(self, nodes: Iterable[str]) -> tuple[list[SurgeSetting], list[str], list[str]]:
        """(the distinct settings covering ``nodes``, the nodes no setting covers, why some are unknown)."""
        settings: dict[tuple[str, str], SurgeSetting] = {}
        uncovered: list[str] = []
        unknown: dict[str, None] = {}
        for name in nodes:
            found = self.by_node.get(name, ())
            for setting in found:
                settings.setdefault((setting.kind, setting.name), setting)
            if name in self.unknowns:
                unknown[self.unknowns[name]] = None
            elif not found:
                uncovered.append(name)
        return [settings[k] for k in sorted(settings)], uncovered, list(unknown)


@dataclass(frozen=True, slots=True)
class PlanInputs:
    api_usage: ApiUsage
    disruption: Disruption
    surge: Surge = field(default_factory=Surge)
    nodes_gap: str = ""  # why the input holds no nodes ("" when it holds some, or when not known)


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
    "Surge",
    "SurgeSetting",
    "UsageSource",
    "from_inventory",
    "surge_of",
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
    nodes_gap = "" if inventory.nodes else inventory.missing_reason(inv.NODES)
    return PlanInputs(
        api_usage=usage, disruption=disruption_of(inventory), surge=surge_of(inventory), nodes_gap=nodes_gap
    )


# ------------------------------------------------------------------------------------------
# Surge settings: how many nodes at a time the platform's updater takes


def _mco_pool(node: Node, pools: Sequence[MachineConfigPool]) -> tuple[MachineConfigPool | None, str]:
    """The pool the machine-config operator updates ``node`` with, as its GetPoolsForNode chooses it.

    A pool whose selector is unset or empty matches no node; Windows nodes are not the operator's; of
    the matching pools a single custom one wins unless ``master`` matches too; ``master`` over ``worker``;
    two custom pools are refused (openshift/machine-config-operator pkg/helpers/helpers.go).
    """
    if node.labels.get("kubernetes.io/os") == "windows":
        return None, ""
    matching = []
    for pool in pools:
        selector = pool.spec.nodeSelector
        if selector is None or not (selector.matchLabels or selector.matchExpressions):
            continue
        matched = selector.matches(node.labels)
        if matched is None:
            return (
                None,
                f"MachineConfigPool {pool.metadata.name}'s node selector uses an operator the API does not define",
            )
        if matched:
            matching.append(pool)
    by_name = {p.metadata.name: p for p in matching}
    custom = [p for p in matching if p.metadata.name not in _MCO_BUILTIN]
    if len(custom) > 1:
        names = ", ".join(sorted(p.metadata.name for p in custom))
        return None, f"the node matches {len(custom)} custom MachineConfigPools ({names}), which the {MCO} refuses"
    if "master" in by_name:
        return by_name["master"], ""
    if custom:
        return custom[0], ""
    return by_name.get("worker"), ""


def _suc_plans(node: Node, plans: Sequence[UpgradePlan]) -> tuple[list[UpgradePlan], str]:
    """The Plans whose jobs take ``node``: its labels match the selector, it has a hostname label, it is not
    labelled ``plan.upgrade.cattle.io/<plan>=disabled`` (pkg/upgrade/plan/plan.go: NodeSelector,
    SelectConcurrentNodes)."""
    found = []
    labels = node.labels
    if _HOSTNAME not in labels:
        return [], ""
    for plan in plans:
        selector = plan.spec.nodeSelector
        if selector is None:  # a nil selector selects nothing
            continue
        matched = selector.matches(labels)
        if matched is None:
            return [], f"Plan {plan.metadata.name}'s node selector uses an operator the API does not define"
        if matched and labels.get(_SUC_LABEL + plan.metadata.name) != "disabled":
            found.append(plan)
    return found, ""


def surge_of(inventory: Inventory) -> Surge:
    """Which MachineConfigPool or system-upgrade-controller Plans of the input take each node, with their settings."""
    pools = inventory.agents.machine_config_pools
    plans = inventory.agents.upgrade_plans
    if not pools and not plans:
        return Surge()
    members: dict[tuple[str, str], list[str]] = {}
    objects: dict[tuple[str, str], MachineConfigPool | UpgradePlan] = {}
    unknowns: dict[str, str] = {}
    for node in inventory.nodes:
        pool, why = _mco_pool(node, pools) if pools else (None, "")
        selected, why_plans = _suc_plans(node, plans) if plans else ([], "")
        if why or why_plans:
            unknowns[node.name] = f"which updater takes node {node.name} is unknown: {why or why_plans}"
            continue
        if pool is not None:
            key = ("MachineConfigPool", pool.metadata.name)
            members.setdefault(key, []).append(node.name)
            objects[key] = pool
        for plan in selected:
            key = ("Plan", f"{plan.metadata.namespace}/{plan.metadata.name}")
            members.setdefault(key, []).append(node.name)
            objects[key] = plan
    by_node: dict[str, list[SurgeSetting]] = {}
    for key, names in members.items():
        obj = objects[key]
        if isinstance(obj, MachineConfigPool):
            setting = SurgeSetting(
                key[0], key[1], "maxUnavailable", obj.spec.maxUnavailable, len(names), bool(obj.spec.paused)
            )
        else:
            setting = SurgeSetting(key[0], key[1], "concurrency", obj.spec.concurrency, len(names))
        for name in names:
            by_node.setdefault(name, []).append(setting)
    return Surge({name: tuple(found) for name, found in by_node.items()}, unknowns)
