"""Whether nodes can be drained without an outage: the one rule ``node_drain_possible`` and the planner share.

PCI container guidance 10.2 patches nodes "one at a time, without a maintenance window": drain a
node, patch or replace it, move on.  ``kubectl drain`` evicts the node's pods through the Eviction
API, which PodDisruptionBudgets guard.  A node cannot be drained without an outage when a pod on it
belongs to

* a PodDisruptionBudget that allows zero disruptions: the eviction is refused and the drain waits
  for ever (``maxUnavailable: 0``, or ``minAvailable`` equal to the healthy pods);
* a single-replica workload without a budget that allows its disruption: it is down until its one
  pod runs elsewhere (phase 1 of the planner, issue 13);
* no controller at all (a bare pod): ``kubectl drain`` refuses it without ``--force``, and once
  deleted nothing recreates it, whatever budget selects it.

Not counted, as ``kubectl drain --ignore-daemonsets`` does not evict them: DaemonSet pods and the
mirror pods of static pods (an owner reference of kind Node, which kubelets set from Kubernetes 1.17,
kubernetes/kubernetes#84485); nor finished pods (Succeeded, Failed: evicted without a budget check).
Job and CronJob pods are started again by their controller, so one replica is no outage; a budget
allowing zero disruptions still holds their drain.

Budgets come from the inventory (``Inventory.disruption_budgets``) and are resolved against the pods'
labels here: the workloads a budget covers are the workloads of the pods its selector matches in
its namespace.  A budget's ``status.disruptionsAllowed`` is what the disruption controller last
computed; a manifest without a status (a file as written) is judged from its spec and the pods the
input shows, as the controller would (percentages rounded up), and says so.  Budgets are "read"
only when the input holds the whole list; single budgets can still show a blocker, never its absence.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from operator import attrgetter

from patchlevel.images import Workload, workloads_for
from patchlevel.inventory import DISRUPTION_BUDGETS, PODS, Inventory
from patchlevel.kube import Pod, PodDisruptionBudget, PodDisruptionBudgetSpec

NOT_EVICTED = frozenset({"DaemonSet"})  # kubectl drain --ignore-daemonsets leaves them running
RESTARTED = frozenset({"Job", "CronJob"})  # their controller starts them again: one replica is no outage
FINISHED = frozenset({"Succeeded", "Failed"})
DEFAULT_NAMESPACE = "default"  # where kubectl puts a manifest that names no namespace
NO_DISRUPTION_BUDGETS = "PodDisruptionBudgets are not in the input: node rollout blockers unknown"
# How a snapshot holds the whole list, even an empty one (kubectl's own empty List names no kind).
WHOLE_LIST = "kubectl get --raw /apis/policy/v1/poddisruptionbudgets > poddisruptionbudgets.json"
MAX_NAMED_BLOCKERS = 10  # blockers named in a finding's message and evidence
SELECTOR_UNKNOWN = "its selector uses an operator Kubernetes does not define: the pods it selects are unknown"
_PERCENT = re.compile(r"^(\d{1,3})%$")


def workload_key(kind: str, namespace: str, name: str) -> str:
    """How a workload is named in budgets, blockers and plan steps: ``Deployment/shop/web``."""
    return f"{kind}/{namespace}/{name}"


# ------------------------------------------------------------------------------------------
# What the input says: where workloads run, and the budgets that guard them


@dataclass(frozen=True, slots=True)
class Placement:
    """Which workloads a drain would evict from which nodes (pods on a node, not finished, not DaemonSet or mirror)."""

    known: bool
    why_unknown: str
    pods_by_workload: Mapping[str, int]  # evicted pods of each workload, over all nodes
    workloads_by_node: Mapping[str, frozenset[str]]
    kinds: Mapping[str, str]  # workload -> its kind ("Deployment", "Pod" for a bare pod)


@dataclass(frozen=True, slots=True)
class DisruptionBudget:
    """A PodDisruptionBudget and what it allows now."""

    namespace: str
    name: str
    workloads: tuple[str, ...]  # "Deployment/<ns>/<name>" whose pods it selects
    disruptions_allowed: int | None  # status.disruptionsAllowed (or derived, see ``derived``); None: unknown
    min_available: str = ""  # as written ("1", "50%"), "" when unset
    max_unavailable: str = ""
    api_version: str = ""  # as the object says ("" for an item of an API list)
    pods: int = 0  # pods it selects that a drain would evict
    derived: str = ""  # how ``disruptions_allowed`` was worked out when the input holds no status
    problem: str = ""  # why ``disruptions_allowed`` is unknown

    @property
    def qualified(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Disruption:
    """Disruption budgets of the cluster; ``read`` False means the input does not hold them all (unknown, not "none").

    ``placement`` is where the workloads run, from the same inventory (None when built by hand:
    the planner then reads it from the running images).
    """

    budgets: tuple[DisruptionBudget, ...] = ()
    read: bool = False
    gaps: tuple[str, ...] = ()
    placement: Placement | None = None
    unread: str = ""  # why the budgets are not all known (for node_drain_possible), "" when ``read``

    def for_workload(self, workload: str) -> tuple[DisruptionBudget, ...]:
        return tuple(b for b in self.budgets if workload in b.workloads)

    def by_workload(self) -> dict[str, list[DisruptionBudget]]:
        index: dict[str, list[DisruptionBudget]] = defaultdict(list)
        for budget in self.budgets:
            for workload in budget.workloads:
                index[workload].append(budget)
        return index


@dataclass(slots=True)
class _LabelGroup:
    """Evicted pods of one namespace with one set of labels (a ReplicaSet's pods share theirs)."""

    labels: dict[str, str]
    workloads: set[str]
    pods: int = 0


_KIND = attrgetter("kind")


def _mirror(pod: Pod) -> bool:
    return "Node" in map(_KIND, pod.metadata.ownerReferences or ())


def disruption_of(inventory: Inventory, workloads: Sequence[Workload] | None = None) -> Disruption:
    """The budgets of ``inventory`` resolved to workloads, where the workloads run, and what is missing.

    ``workloads`` is the workload of each pod (``ClusterFacts.workloads``) when the caller has it.
    """
    if not inventory.has(PODS) and not inventory.pods:
        placement = Placement(False, inventory.missing_reason(PODS), {}, {}, {})
        groups: dict[str, list[_LabelGroup]] = {}
    else:
        pods = inventory.pods
        placement, groups = _placement(
            pods, workloads_for(pods, inventory.owners, workloads), bool(inventory.disruption_budgets)
        )
    budgets = tuple(_budget(pdb, groups) for pdb in inventory.disruption_budgets)
    read = inventory.has(DISRUPTION_BUDGETS)
    gaps: tuple[str, ...] = ()
    unread = ""
    if not read:
        if DISRUPTION_BUDGETS in inventory.denied:
            unread = f"PodDisruptionBudgets could not be read ({inventory.denied[DISRUPTION_BUDGETS]})"
            gaps = (f"{unread}: node rollout blockers unknown",)
        elif budgets:
            unread = (
                f"the input holds {len(budgets)} PodDisruptionBudget(s) but not the whole list ({WHOLE_LIST}): other "
                "budgets may hold a drain"
            )
            gaps = (unread,)
        else:
            unread = (
                f"the {inventory.source or 'input'} holds no list of PodDisruptionBudgets ({WHOLE_LIST}; live: list "
                "poddisruptionbudgets)"
            )
            gaps = (NO_DISRUPTION_BUDGETS,)
    return Disruption(budgets, read, gaps, placement, unread)


def _placement(
    pods: Iterable[Pod], workloads: Iterable[Workload], with_labels: bool
) -> tuple[Placement, dict[str, list[_LabelGroup]]]:
    counts: dict[str, int] = defaultdict(int)
    by_node: dict[str, set[str]] = defaultdict(set)
    kinds: dict[str, str] = {}
    keys: dict[Workload, str] = {}  # workload_key of each workload, built once
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], _LabelGroup] = {}
    for pod, workload in zip(pods, workloads, strict=True):
        node = pod.spec.nodeName
        if not node or pod.status.phase in FINISHED or _mirror(pod) or workload.kind in NOT_EVICTED:
            continue
        key = keys.get(workload)
        if key is None:
            key = keys[workload] = workload_key(workload.kind, workload.namespace, workload.name)
            kinds[key] = workload.kind
        counts[key] += 1
        by_node[node].add(key)
        if with_labels:
            labels = pod.metadata.labels or {}
            group_key = (pod.metadata.namespace, tuple(sorted(labels.items())))
            group = groups.get(group_key)
            if group is None:
                group = groups[group_key] = _LabelGroup(dict(labels), set())
            group.workloads.add(key)
            group.pods += 1
    by_namespace: dict[str, list[_LabelGroup]] = defaultdict(list)
    for (namespace, _), group in groups.items():
        by_namespace[namespace].append(group)
    placement = Placement(True, "", dict(counts), {n: frozenset(w) for n, w in by_node.items()}, kinds)
    return placement, dict(by_namespace)


def _written(value: int | str | None) -> str:
    return "" if value is None else str(value)


def _budget(pdb: PodDisruptionBudget, groups: Mapping[str, list[_LabelGroup]]) -> DisruptionBudget:
    meta = pdb.metadata
    namespace = meta.namespace or DEFAULT_NAMESPACE
    workloads: set[str] = set()
    pods = 0
    problem = ""
    selector = pdb.spec.selector
    everything = selector is not None and not selector.matchLabels and not selector.matchExpressions
    if selector is None or (everything and pdb.apiVersion == "policy/v1beta1"):
        pass  # no selector selects nothing; in policy/v1beta1 an empty one did not either (policy/v1: every pod)
    else:
        for group in groups.get(namespace, ()):
            matched = selector.matches(group.labels)
            if matched is None:
                problem = SELECTOR_UNKNOWN
                workloads, pods = set(), 0
                break
            if matched:
                workloads |= group.workloads
                pods += group.pods
    allowed: int | None = None
    derived = ""
    if problem:
        pass
    elif pdb.status is not None and pdb.status.disruptionsAllowed is not None:
        allowed = pdb.status.disruptionsAllowed
    else:
        allowed, derived, problem = _derive(pdb.spec, pods)
    return DisruptionBudget(
        namespace=namespace,
        name=meta.name,
        workloads=tuple(sorted(workloads)),
        disruptions_allowed=allowed,
        min_available=_written(pdb.spec.minAvailable),
        max_unavailable=_written(pdb.spec.maxUnavailable),
        api_version=pdb.apiVersion,
        pods=pods,
        derived=derived,
        problem=problem,
    )


def _scaled(value: int | str, pods: int) -> int | None:
    """An int-or-percentage against ``pods``, rounded up as the disruption controller does; None when invalid."""
    if isinstance(value, int):
        return value if value >= 0 else None
    match = _PERCENT.match(value.strip())
    if match is None or int(match[1]) > 100:
        return None
    return math.ceil(int(match[1]) * pods / 100)


def _derive(spec: PodDisruptionBudgetSpec, pods: int) -> tuple[int | None, str, str]:
    """(disruptions allowed, how, why unknown) from a budget's spec and the pods it selects, all taken as healthy."""
    basis = f"the {pods} pod(s) it selects in the input, taken as healthy (the input holds no status)"
    if spec.maxUnavailable is not None and spec.minAvailable is not None:
        return None, "", "it sets both minAvailable and maxUnavailable, which the API refuses"
    if spec.maxUnavailable is not None:
        most = _scaled(spec.maxUnavailable, pods)
        if most is None:
            return None, "", f"maxUnavailable {spec.maxUnavailable!r} is neither a count nor a percentage"
        return min(most, pods), f"from maxUnavailable {spec.maxUnavailable} and {basis}", ""
    if spec.minAvailable is not None:
        least = _scaled(spec.minAvailable, pods)
        if least is None:
            return None, "", f"minAvailable {spec.minAvailable!r} is neither a count nor a percentage"
        return max(0, pods - least), f"from minAvailable {spec.minAvailable} and {basis}", ""
    return None, "", "it sets neither minAvailable nor maxUnavailable, and the input holds no status"


# ------------------------------------------------------------------------------------------
# The rule


class BlockReason(StrEnum):
    ZERO_BUDGET = "zero-budget"  # a PodDisruptionBudget that allows no disruption selects its pods
    SINGLE_REPLICA = "single-replica"  # one pod, no budget allowing its disruption
    BARE_POD = "bare-pod"  # no controller: nothing recreates it


@dataclass(frozen=True, slots=True)
class Blocker:
    """A workload that stops (or is interrupted by) a drain of the nodes it runs on.

    ``confirmed`` is False for a single replica when the budgets were not read: it blocks unless
    a budget the input does not show allows its disruption.
    """

    workload: str
    reason: BlockReason
    budget: str = ""  # "namespace/name" of the budget that allows no disruption
    confirmed: bool = True

    @property
    def message(self) -> str:
        if self.reason is BlockReason.ZERO_BUDGET:
            return f"{self.workload}: PodDisruptionBudget {self.budget} allows 0 disruptions"
        bare = " (a bare pod: it is not recreated after a drain)" if self.reason is BlockReason.BARE_POD else ""
        unless = "" if self.confirmed else " unless a PodDisruptionBudget explicitly allows its disruption"
        return f"{self.workload}: a single replica{bare}: draining its node interrupts it{unless}"


@dataclass(frozen=True, slots=True)
class DrainVerdict:
    """What stops a drain of some nodes, and what could not be judged."""

    workloads: int  # workloads a drain of the nodes evicts
    blockers: tuple[Blocker, ...]
    unknowns: tuple[str, ...]

    @property
    def confirmed(self) -> tuple[Blocker, ...]:
        return tuple(b for b in self.blockers if b.confirmed)


def judge(
    nodes: Iterable[str],
    placement: Placement,
    disruption: Disruption,
    by_workload: Mapping[str, Sequence[DisruptionBudget]] | None = None,
) -> DrainVerdict:
    """The blockers of a drain of ``nodes`` (``placement.known`` must be True); ``by_workload`` from
    ``disruption.by_workload()`` saves building it for every call."""
    index = disruption.by_workload() if by_workload is None else by_workload
    workloads = sorted({w for node in nodes for w in placement.workloads_by_node.get(node, ())})
    blockers: list[Blocker] = []
    unknowns: list[str] = []
    for workload in workloads:
        kind = placement.kinds.get(workload, "")
        budgets = index.get(workload, ())
        unknown: list[DisruptionBudget] = []
        if budgets:  # most workloads have none: nothing to look through
            zero = [b for b in budgets if b.disruptions_allowed == 0]
            if zero:
                blockers.append(Blocker(workload, BlockReason.ZERO_BUDGET, zero[0].qualified))
                continue
            unknown = [b for b in budgets if b.disruptions_allowed is None]
            for budget in unknown:
                unknowns.append(
                    f"{workload}: whether PodDisruptionBudget {budget.qualified} allows a disruption is unknown: "
                    f"{budget.problem}"
                )
        if kind == "Pod":  # kubectl drain refuses it without --force, whatever a budget allows
            blockers.append(Blocker(workload, BlockReason.BARE_POD))
        elif kind in RESTARTED or placement.pods_by_workload.get(workload, 0) != 1:
            continue
        elif not unknown and not any(b.disruptions_allowed for b in budgets):
            blockers.append(Blocker(workload, BlockReason.SINGLE_REPLICA, confirmed=disruption.read))
    # A selector that could not be matched may cover any pod of its namespace.
    unmatched = [b for b in disruption.budgets if b.problem == SELECTOR_UNKNOWN]
    if unmatched:
        namespaces = {w.split("/", 2)[1] for w in workloads}
        unknowns.extend(
            f"PodDisruptionBudget {b.qualified}: {b.problem}" for b in unmatched if b.namespace in namespaces
        )
    return DrainVerdict(len(workloads), tuple(blockers), tuple(dict.fromkeys(unknowns)))
