"""Node pools: which nodes move to which Kubernetes minor before which control-plane step, and how.

Kubelets and kube-proxies may lag the API server by three minors (two for those older than 1.25)
and never lead it, so before each control-plane hop the nodes that would fall outside that skew
are upgraded to the control plane's minor of the moment; after the last hop every pool goes to the
target.  A node's container runtime must support the Kubernetes minor it moves to (containerd's
support table), or it is upgraded first.  An OS release past support goes with the node's next
rollout (a node image with the target OS); where no Kubernetes upgrade is due it is a step of its own.

Each rollout takes as many nodes at a time as the platform's own updater does where the input shows
its setting (a MachineConfigPool's ``maxUnavailable``, a system-upgrade-controller Plan's
``concurrency``: ``plan.inputs.Surge``), one at a time otherwise and says so; nodes with a pending
reboot or an older kernel than their pool go first; it names the workloads whose pods cannot be
evicted without an outage (``patchlevel.drain``: the rule ``node_drain_possible`` applies).

What the input does not show is said, never skipped: no nodes at all, a kubelet, kube-proxy or
container runtime whose version cannot be read, a runtime the bundled support table does not cover.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from patchlevel.drain import Placement, judge, workload_key
from patchlevel.facts import ClusterFacts, NodeFacts
from patchlevel.model import Phase, Status
from patchlevel.plan.controlplane import Platform
from patchlevel.plan.draft import (
    Drafts,
    DraftStep,
    PlanContext,
    earliest,
    grouped,
    patch_deadline,
    support_deadline,
    typed_patch_deadline,
)
from patchlevel.plan.inputs import NO_DISRUPTION_BUDGETS, Disruption, PlanInputs, Surge
from patchlevel.plan.model import Certainty, Deadline, DeadlineBasis, Rollout, RolloutNode, StepKind
from patchlevel.versions import node_skew_allowance, release_key

NODE_CHECKS = (
    "kubelet_version_supported",
    "kubelet_patch_current",
    "kubelet_free_of_known_cves",
    "kubelet_version_skew_allowed",
    "kube_proxy_version_skew_allowed",
    "node_image_current",
    "node_kernel_consistent_in_pool",
    "node_not_pending_reboot",
    "container_runtime_supported",  # a runtime that supports the new minor but not today's: the move ends it
)
RUNTIME_CHECKS = (
    "container_runtime_supported",
    "container_runtime_patch_current",
    "container_runtime_free_of_known_cves",
)
OS_CHECKS = ("node_os_supported",)
REIMAGE_CHECKS = ("node_image_current", "node_kernel_consistent_in_pool", "node_not_pending_reboot")
RUNTIME_PRODUCTS = {"containerd": "containerd", "docker": "docker-engine"}
DOCKERSHIM_REMOVED = 24  # Kubernetes 1.24 removed dockershim: the kubelet needs a CRI runtime (or cri-dockerd)
MAX_BLOCKERS = 20
MAX_NAMES = 3
ONE_AT_A_TIME = (
    "one node at a time, the default: the input shows no surge setting for these nodes (no MachineConfigPool or "
    "system-upgrade-controller Plan takes them)"
)
SURGE_FIELDS = {"MachineConfigPool": "the pool's maxUnavailable", "Plan": "the plan's concurrency"}


def pool_name(pool: str) -> str:
    return pool or "(nodes without a pool label)"


def _names(nodes: Sequence[NodeFacts]) -> str:
    shown = ", ".join(n.name for n in nodes[:MAX_NAMES])
    return shown + (f" and {len(nodes) - MAX_NAMES} more" if len(nodes) > MAX_NAMES else "")


def _count(nodes: Sequence[object], noun: str = "node") -> str:
    return f"{len(nodes)} {noun}{'s' if len(nodes) != 1 else ''}"


@dataclass(slots=True)
class NodeState:
    """A node as the plan moves it: its Kubernetes minor and container runtime after the steps so far."""

    facts: NodeFacts
    minor: int | None  # the lower of kubelet and kube-proxy minors; None when the kubelet's is unknown
    runtime: tuple[int, ...] | None  # containerd release numbers; None: another runtime, or not known
    runtime_name: str  # "containerd", "docker", "cri-o", "" when unknown
    upgraded: bool = False  # moved by an earlier step of the plan (then at that minor's newest patch)
    runtime_changed: bool = False  # an earlier runtime step changed it (its findings are taken)
    runtime_chosen: str = ""  # what that step installs when no exact release is known

    @property
    def name(self) -> str:
        return self.facts.name


def _state(node: NodeFacts) -> NodeState:
    kubelet = node.kubelet
    runtime = node.runtime
    numbers = runtime.numbers if runtime is not None and runtime.name == "containerd" else None
    name = runtime.name if runtime is not None else ""
    if kubelet is None or kubelet.major != 1:
        return NodeState(node, None, numbers, name)
    proxy = node.kube_proxy
    minor = min(kubelet.minor, proxy.minor) if proxy is not None and proxy.major == 1 else kubelet.minor
    return NodeState(node, minor, numbers, name)


def _node_platform(ctx: PlanContext, node: NodeFacts) -> Platform:
    return Platform(node.distribution, ctx.catalog.product(node.distribution.lifecycle_product))


def _minor_deadline(ctx: PlanContext, state: NodeState) -> tuple[Deadline | None, bool]:
    """When the node's (current or planned) Kubernetes minor leaves support on its platform."""
    if state.minor is None:
        return None, False
    platform = _node_platform(ctx, state.facts)
    support = platform.support(ctx, state.minor)
    what = f"kubelet {platform.name(state.minor)}"
    return support_deadline(support, what, ctx.policy, ctx.catalog.data_date)


def _kubelet_patch_deadline(ctx: PlanContext, node: NodeFacts) -> Deadline | None:
    finding = ctx.needs_action("kubelet_patch_current", node.subject)
    if finding is None or node.kubelet is None:
        return None
    what = f"kubelet {node.kubelet.raw}"
    typed = typed_patch_deadline(finding, what)
    if typed is not None or node.distribution.lifecycle_product != "kubernetes":
        return typed
    k = node.kubelet
    return patch_deadline(ctx.catalog, "kubernetes", k.cycle, k.semver, what, ctx.policy, ctx.as_of)


def _versions(states: Iterable[NodeState]) -> str:
    minors = sorted({s.minor for s in states if s.minor is not None})
    return ", ".join(f"1.{m}" for m in minors) if minors else "unknown"


# ------------------------------------------------------------------------------------------
# Rollouts


def placement(facts: ClusterFacts) -> Placement:
    """Where workloads run, from the running images: for a ``Disruption`` built without the inventory's.

    The images cannot tell a static pod's mirror or a finished pod from others; ``drain.disruption_of``
    (what ``plan.inputs.from_inventory`` gives) can, and is used whenever it is there.
    """
    pods: dict[str, set[str]] = defaultdict(set)
    by_node: dict[str, set[str]] = defaultdict(set)
    kinds: dict[str, str] = {}
    for image in facts.images.images:
        for use in image.uses:
            if use.workload.kind == "DaemonSet" or not use.node:
                continue
            workload = workload_key(use.workload.kind, use.workload.namespace, use.workload.name)
            kinds[workload] = use.workload.kind
            pods[workload].add(use.pod_key)
            by_node[use.node].add(workload)
    counts = {w: len(p) for w, p in pods.items()}
    nodes = {n: frozenset(w) for n, w in by_node.items()}
    return Placement(facts.images.pods_known, facts.images.reason, counts, nodes, kinds)


@dataclass(frozen=True, slots=True)
class RolloutInputs:
    """What every rollout reads: where workloads run, their disruption budgets, the updaters' surge settings."""

    where: Placement
    disruption: Disruption
    surge: Surge


def batch(surge: Surge, nodes: Sequence[NodeFacts]) -> tuple[int, str, list[str]]:
    """(nodes at a time, why, unknowns) for a rollout of ``nodes``.

    The updater's setting where every node has one that takes it (the smallest when several do), else one
    at a time, the default; an updater that takes no node (a Plan without concurrency, a maxUnavailable the
    operator refuses) leaves one at a time, by hand, and says why.
    """
    settings, uncovered, unknowns = surge.of(n.name for n in nodes)
    if not settings:
        return 1, ONE_AT_A_TIME, unknowns
    resolved = [(setting, *setting.resolve()) for setting in settings]
    texts = "; ".join(text for _, _, text in resolved)
    stopped = [text for _, size, text in resolved if size is None]
    if stopped:
        return 1, f"one node at a time, the default: {'; '.join(stopped)}", unknowns
    if uncovered:
        return (
            1,
            f"one node at a time, the default: {_count(uncovered)} ({', '.join(uncovered[:MAX_NAMES])}"
            f"{' …' if len(uncovered) > MAX_NAMES else ''}) {'is' if len(uncovered) == 1 else 'are'} taken by no "
            f"updater whose setting the input shows ({texts})",
            unknowns,
        )
    size = min(s for _, s, _ in resolved if s is not None)
    kinds = {setting.kind for setting, _, _ in resolved}
    per = (
        f"per {SURGE_FIELDS[next(iter(kinds))]}"
        if len(resolved) == 1
        else "per the smallest of the settings of the updaters that take them"
    )
    if size >= len(nodes):
        at_once = "all of them at once" if len(nodes) > 1 else "one node at a time"
        return len(nodes), f"{at_once} {per} ({texts})", unknowns
    words = "one node" if size == 1 else f"{size} nodes"
    rounds = -(-len(nodes) // size)
    tail = f": {rounds} rounds for {_count(nodes)}" if size > 1 else ""
    return size, f"{words} at a time {per} ({texts}){tail}", unknowns


def rollout(ctx: PlanContext, nodes: Sequence[NodeFacts], inputs: RolloutInputs) -> Rollout:
    where, disruption = inputs.where, inputs.disruption
    order = []
    for node in nodes:
        reasons = []
        reboot = ctx.needs_action("node_not_pending_reboot", node.subject)
        if reboot is not None and reboot.status in (Status.FAIL, Status.WARN):
            reasons.append("a reboot is pending")
        kernel = ctx.needs_action("node_kernel_consistent_in_pool", node.subject)
        if kernel is not None and kernel.status in (Status.FAIL, Status.WARN):
            reasons.append("older kernel than its pool")
        order.append(RolloutNode(node.name, tuple(reasons)))
    order.sort(key=lambda n: (0 if n.reasons else 1, n.name))
    size, basis, unknowns = batch(inputs.surge, nodes)
    blockers: list[str] = []
    if not where.known:
        unknowns.append(
            f"pods are not in the input ({where.why_unknown}): which workloads run on these nodes is unknown"
        )
    else:
        verdict = judge([n.name for n in nodes], where, disruption)
        blockers = [b.message for b in verdict.blockers]
        unknowns.extend(verdict.unknowns)
        if len(blockers) > MAX_BLOCKERS:
            blockers = [*blockers[:MAX_BLOCKERS], f"… and {len(blockers) - MAX_BLOCKERS} more"]
    if not disruption.read:
        unknowns.extend(disruption.gaps or (NO_DISRUPTION_BUDGETS,))
    return Rollout(
        size,
        basis,
        tuple(order),
        tuple(blockers),
        tuple(dict.fromkeys(unknowns)),
        batches=-(-len(order) // size) if order else 0,
    )


# ------------------------------------------------------------------------------------------
# Runtimes


def _containerd_table(ctx: PlanContext) -> Mapping[str, Any]:
    table: Mapping[str, Any] = ctx.runtime_compat.get("containerd", {})
    return table


def _supported_floors(ctx: PlanContext, minor: int) -> list[str]:
    return list(_containerd_table(ctx).get("supported_with_kubernetes", {}).get(f"1.{minor}") or [])


def _containerd_need(ctx: PlanContext, state: NodeState, minor: int) -> tuple[str | None, str | None]:
    """(why containerd must change before the kubelet goes to 1.<minor>, what is unknown); None when fine."""
    if state.runtime_name != "containerd":
        return None, None
    supported = _supported_floors(ctx, minor)
    lines = ", ".join(f"{m}+" for m in supported)
    known = sorted(_containerd_table(ctx).get("supported_with_kubernetes", {}), key=release_key)
    covers = f"covers Kubernetes {known[0]} to {known[-1]}" if known else "is empty"
    if state.runtime is None:
        if state.runtime_chosen:
            if supported:
                return (
                    None,
                    f"{state.runtime_chosen} (chosen in an earlier step) must also support Kubernetes 1.{minor}: "
                    f"{lines}",
                )
            return None, (
                f"whether {state.runtime_chosen} (chosen in an earlier step) also supports Kubernetes 1.{minor} is "
                f"unknown: the bundled containerd support table {covers}"
            )
        raw = state.facts.runtime.raw if state.facts.runtime is not None else ""
        return None, (
            f"containerd's version cannot be read ({raw!r}): whether it supports Kubernetes 1.{minor} is unknown"
            + (f" (containerd's support table for 1.{minor}: {lines})" if supported else "")
        )
    running = ".".join(str(n) for n in state.runtime)
    if not supported:
        return None, (
            f"whether containerd {running} supports Kubernetes 1.{minor} is unknown: the bundled containerd support "
            f"table {covers}"
        )
    for minimum in supported:
        floor = tuple(release_key(minimum))
        if floor[:2] == state.runtime[:2]:
            if state.runtime < floor:
                line = f"{floor[0]}.{floor[1]}"
                return (
                    f"containerd supports Kubernetes 1.{minor} from {minimum} on its {line} line; it runs {running}",
                    None,
                )
            return None, None
    return f"containerd {running} is not among the releases supporting Kubernetes 1.{minor} ({lines})", None


def _other_runtime_unknown(state: NodeState, minor: int) -> str | None:
    """What is unknown about a runtime that is not containerd when its kubelet goes to 1.<minor>; None when nothing.

    CRI-O needs no table (its minors track Kubernetes minors: the node step says so); Docker Engine
    before 1.24 is dockershim's (a reason of its own, ``_runtime_reasons``).
    """
    if state.runtime_changed or state.runtime_name in ("containerd", "cri-o"):
        return None
    runtime = state.facts.runtime
    if runtime is None:
        raw = state.facts.node.info.containerRuntimeVersion
        return f"the container runtime cannot be read ({raw!r}): whether it supports Kubernetes 1.{minor} is unknown"
    if state.runtime_name == "docker":
        kubelet = state.facts.kubelet
        if minor < DOCKERSHIM_REMOVED:
            return None
        if kubelet is None:
            return (
                f"whether {runtime.raw} runs through dockershim (removed in Kubernetes 1.24) or cri-dockerd is "
                f"unknown: the kubelet's version cannot be read; a kubelet at 1.{minor} needs containerd or cri-dockerd"
            )
        if kubelet.minor >= DOCKERSHIM_REMOVED:
            return (
                f"the kubelet runs {runtime.raw} through cri-dockerd, whose version the API does not show: whether it "
                f"supports Kubernetes 1.{minor} is unknown"
            )
        return None
    return (
        f"the bundled support table covers containerd only: whether {runtime.raw} supports Kubernetes 1.{minor} is "
        "unknown"
    )


def _crio_caveat(states: Iterable[NodeState], minor: int) -> str | None:
    """CRI-O outside OpenShift moves with its kubelet: CRI-O 1.N supports Kubernetes 1.N (CRI-O's compatibility policy).

    On OpenShift the node's release ships its CRI-O, so the node update brings the matching one.
    """
    names = [
        s.name
        for s in states
        if s.runtime_name == "cri-o" and not s.runtime_changed and s.facts.distribution.id != "openshift"
    ]
    if not names:
        return None
    shown = ", ".join(names[:MAX_NAMES]) + (f" and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else "")
    return (
        f"CRI-O minors track Kubernetes minors (CRI-O's compatibility policy): install CRI-O 1.{minor} with the "
        f"kubelet ({shown})"
    )


def _runtime_reasons(ctx: PlanContext, state: NodeState, minor: int | None) -> tuple[list[str], list[str]]:
    """Why a node's runtime must change before its kubelet goes to 1.<minor> (None: no move), and unknowns.

    The runtime's own findings (support, patch, CVEs) count once: not after an earlier runtime step.
    """
    reasons: list[str] = []
    unknowns: list[str] = []
    other: str | None = None
    if minor is not None:
        gap, unknown = _containerd_need(ctx, state, minor)
        if gap:
            reasons.append(gap)
        if unknown:
            unknowns.append(unknown)
        other = _other_runtime_unknown(state, minor)
        kubelet = state.facts.kubelet
        if (
            state.runtime_name == "docker"
            and minor >= DOCKERSHIM_REMOVED
            and kubelet is not None
            and kubelet.minor < DOCKERSHIM_REMOVED
        ):
            reasons.append(
                f"Kubernetes 1.24 removed dockershim: move the node to containerd (or install cri-dockerd) before its "
                f"kubelet goes to 1.{minor}"
            )
    if not state.runtime_changed:
        for check in RUNTIME_CHECKS:
            finding = ctx.needs_action(check, state.facts.subject)
            if finding is None or finding.status not in (Status.FAIL, Status.WARN):
                continue
            if (
                check == "container_runtime_supported"
                and minor is not None
                and not reasons
                and _line_supported(ctx, state)
            ):
                continue  # the runtime's own line is supported: what the finding says of today's kubelet, the move ends
            reasons.append(f"{check}: {finding.message}")
    if other and not reasons:  # a runtime this step replaces needs no answer
        unknowns.append(other)
    return reasons, unknowns


def _line_supported(ctx: PlanContext, state: NodeState) -> bool:
    runtime = state.facts.runtime
    if runtime is None or runtime.cycle is None or runtime.name not in RUNTIME_PRODUCTS:
        return False
    support = ctx.support(RUNTIME_PRODUCTS[runtime.name], runtime.cycle)
    return support.phase in (Phase.ACTIVE, Phase.MAINTENANCE)


def _runtime_deadline(ctx: PlanContext, node: NodeFacts) -> tuple[Deadline | None, bool]:
    runtime = node.runtime
    if runtime is None or runtime.cycle is None or runtime.name not in RUNTIME_PRODUCTS:
        return None, False
    product = RUNTIME_PRODUCTS[runtime.name]
    support = ctx.support(product, runtime.cycle)
    what = f"{runtime.name} {runtime.cycle}"
    deadline, ended = support_deadline(support, what, ctx.policy, ctx.catalog.data_date)
    patched = None
    finding = ctx.needs_action("container_runtime_patch_current", node.subject)
    if finding is not None and runtime.semver:
        patched = typed_patch_deadline(finding, what) or patch_deadline(
            ctx.catalog, product, runtime.cycle, runtime.semver, what, ctx.policy, ctx.as_of
        )
    return earliest([deadline if deadline.latest_safe else None, patched]) or deadline, ended


def _lasting_floor(ctx: PlanContext, supported: list[str], minor: int, horizon: int | None) -> str:
    """The containerd release to install for 1.<minor>: on the line the table lists for the most minors up to
    ``horizon`` (the newer line on a tie), at the highest minimum any of those minors asks for."""
    last = max(minor, horizon or minor)
    floors_by_minor = [_supported_floors(ctx, m) for m in range(minor, last + 1)]
    best: tuple[int, tuple[int, ...], str] | None = None
    for floor in supported:
        line = tuple(release_key(floor))[:2]
        covered = [f for floors in floors_by_minor for f in floors if tuple(release_key(f))[:2] == line]
        highest = max(covered, key=release_key)
        rank = (len(covered), line, highest)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best is not None else supported[0]


def _runtime_choice(
    ctx: PlanContext, state: NodeState, minor: int | None, reasons: list[str], horizon: int | None
) -> tuple[str, tuple[int, ...] | None]:
    """What to install on one node: (words, release numbers when one release is named)."""
    supported = _supported_floors(ctx, minor) if minor is not None else []
    runtime = state.facts.runtime
    only_patch = all(
        r.startswith(("container_runtime_patch_current", "container_runtime_free_of_known_cves")) for r in reasons
    )
    if (
        only_patch
        and runtime is not None
        and runtime.name in RUNTIME_PRODUCTS
        and runtime.cycle
        and not state.runtime_changed
    ):
        releases = ctx.catalog.patches(RUNTIME_PRODUCTS[runtime.name], runtime.cycle, ctx.as_of)
        if releases:
            newest = releases[-1].version
            return f"{runtime.name} {newest} (the newest patch of {runtime.cycle})", (
                tuple(release_key(newest)) if runtime.name == "containerd" else None
            )
    if supported and minor is not None:
        floor = _lasting_floor(ctx, supported, minor, horizon)
        return f"containerd {floor} or newer", tuple(release_key(floor))
    if minor is not None:
        return f"a containerd release that supports Kubernetes 1.{minor}", None
    return "a supported containerd release at its newest patch", None


def runtime_step(
    ctx: PlanContext,
    pool: str,
    states: list[NodeState],
    minor: int | None,
    before: str | None,
    drafts: Drafts,
    managed: bool,
    horizon: int | None = None,
) -> list[str]:
    """A runtime step for the nodes of ``pool`` whose runtime must change (before node step ``before``).

    Updates the nodes' planned runtime; returns the unknowns the node step inherits.
    """
    needing: list[tuple[NodeState, str, tuple[int, ...] | None]] = []
    why: list[tuple[str, str]] = []
    unknown_pairs: list[tuple[str, str]] = []
    deadlines: list[Deadline | None] = []
    ended = False
    if minor is not None and before is not None:
        caveat = _crio_caveat(states, minor)
        if caveat:
            drafts.steps[before].caveats.append(caveat)
    for state in states:
        reasons, unknown = _runtime_reasons(ctx, state, minor)
        unknown_pairs.extend((state.name, u) for u in unknown)
        if not reasons:
            continue
        choice, numbers = _runtime_choice(ctx, state, minor, reasons, horizon)
        needing.append((state, choice, numbers))
        why.extend((state.name, r) for r in reasons)
        if not state.runtime_changed:
            deadline, late = _runtime_deadline(ctx, state.facts)
            deadlines.append(deadline)
            ended = ended or late
    unknowns = grouped(unknown_pairs)
    if not needing:
        return unknowns
    choices = ", ".join(sorted({choice for _, choice, _ in needing}))
    supported = _supported_floors(ctx, minor) if minor is not None else []
    table = f"containerd's support table for Kubernetes 1.{minor}: {', '.join(f'{m}+' for m in supported)}"
    runtimes = sorted({s.facts.runtime.raw for s, _, _ in needing if s.facts.runtime is not None})
    when = f" before their kubelets go to 1.{minor}" if minor is not None and before else ""
    caveats = ["the runtime comes with the node image: choose a node image that ships it"] if managed else []
    if minor is not None and not supported:
        caveats.append(
            f"containerd's support for Kubernetes 1.{minor} is not in the bundled table: check its RELEASES.md"
        )
    step = drafts.add(
        DraftStep(
            key=f"runtime:{before}" if before else f"runtime:{pool}",
            kind=StepKind.RUNTIME_UPGRADE,
            title=f"Upgrade the container runtime of {_count(needing)} in {pool_name(pool)} to {choices}{when}",
            why=[*grouped(why), *([table] if supported else [])],
            deadline=earliest(deadlines)
            or Deadline(None, DeadlineBasis.NONE, "needed before the node step that follows"),
            late_anyway=ended,
            subjects=[s.facts.subject for s, _, _ in needing],
            pool=pool,
            from_version=", ".join(runtimes),
            to_version=choices,
            resolves=RUNTIME_CHECKS,
            caveats=caveats,
        )
    )
    if before is not None:
        drafts.steps[before].after.add(step.key)
    for state, choice, numbers in needing:
        state.runtime_changed = True
        state.runtime_name = "containerd" if state.runtime_name == "docker" else state.runtime_name
        state.runtime = numbers
        state.runtime_chosen = "" if numbers is not None else choice
    return unknowns


# ------------------------------------------------------------------------------------------
# Operating systems


def _os_target(ctx: PlanContext, product: str) -> str:
    """The newest release of ``product`` in standard support on the as-of date (LTS lines preferred)."""
    data = ctx.catalog.product(product)
    if data is None:
        return "a supported release"
    candidates = []
    for cycle in data.cycles:
        support = ctx.support(product, cycle.name)
        if support.phase in (Phase.ACTIVE, Phase.MAINTENANCE):
            candidates.append(cycle)
    if not candidates:
        return "a supported release"
    lts = [c for c in candidates if c.lts] or candidates
    best = max(lts, key=lambda c: release_key(c.name))
    return f"{data.label} {best.name}" + (f" ({best.codename})" if best.codename else "")


def _os_reasons(ctx: PlanContext, node: NodeFacts) -> tuple[str | None, Deadline | None, bool, str]:
    """(why the node's OS must be replaced, its deadline, ended undated, target OS), or (None, …) when not."""
    finding = ctx.needs_action("node_os_supported", node.subject)
    os = node.os
    if finding is None or finding.status not in (Status.FAIL, Status.WARN) or not os.product or not os.cycle:
        return None, None, False, ""
    support = ctx.support(os.product, os.cycle)
    deadline, ended = support_deadline(support, f"{os.name} {os.cycle}", ctx.policy, ctx.catalog.data_date)
    return f"node_os_supported: {finding.message}", deadline, ended, _os_target(ctx, os.product)


# ------------------------------------------------------------------------------------------
# The node steps


def _by_pool(states: Iterable[NodeState]) -> dict[str, list[NodeState]]:
    pools: dict[str, list[NodeState]] = defaultdict(list)
    for state in states:
        pools[state.facts.pool].append(state)
    return {pool: sorted(members, key=lambda s: s.name) for pool, members in sorted(pools.items())}


def _node_step(
    ctx: PlanContext,
    drafts: Drafts,
    *,
    key: str,
    pool: str,
    members: list[NodeState],
    title: str,
    why: list[str],
    deadlines: list[Deadline | None],
    ended: bool,
    rollouts: RolloutInputs,
    to_version: str,
    after: Iterable[str] = (),
    certainty: Certainty = Certainty.REQUIRED,
    kind: StepKind = StepKind.NODE_POOL_UPGRADE,
    resolves: tuple[str, ...] = NODE_CHECKS,
) -> DraftStep:
    return drafts.add(
        DraftStep(
            key=key,
            kind=kind,
            title=title,
            why=why,
            deadline=earliest(deadlines) or Deadline(None, DeadlineBasis.NONE, "no support end or patch date known"),
            late_anyway=ended,
            certainty=certainty,
            after=set(after),
            subjects=[s.facts.subject for s in members],
            pool=pool,
            from_version=_versions(members),
            to_version=to_version,
            resolves=resolves,
            rollout=rollout(ctx, [s.facts for s in members], rollouts),
        )
    )


def _skew_steps(
    ctx: PlanContext,
    platform: Platform,
    hops: list[tuple[int, str]],
    current: int | None,
    states: dict[str, NodeState],
    rollouts: RolloutInputs,
    drafts: Drafts,
    target: int | None,
) -> None:
    """Before each hop: nodes the hop would leave outside the skew policy go to the control plane's minor."""
    for minor, hop_key in hops:
        prev = minor - 1
        needing = [
            s for s in states.values() if s.minor is not None and minor - s.minor > node_skew_allowance(1, s.minor)
        ]
        for pool, members in _by_pool(needing).items():
            deadlines: list[Deadline | None] = []
            ended = False
            for state in members:
                deadline, late = _minor_deadline(ctx, state)
                deadlines.append(deadline)
                ended = ended or late
            minors = [s.minor for s in members if s.minor is not None]
            lags = ", ".join(str(minor - m) for m in sorted(set(minors), reverse=True))
            key = f"pool:{pool}:{prev}"
            step = _node_step(
                ctx,
                drafts,
                key=key,
                pool=pool,
                members=members,
                title=(
                    f"Upgrade {_count(members)} of {pool_name(pool)} from {_versions(members)} to "
                    f"{platform.release(prev)} before the control plane goes to {platform.release(minor)}"
                ),
                why=[
                    f"at control plane {platform.release(minor)} these nodes would be {lags} minors behind it; the "
                    f"version-skew policy allows {node_skew_allowance(1, min(minors))} for kubelet and kube-proxy "
                    f"1.{min(minors)}",
                    f"nodes: {_names([s.facts for s in members])}",
                ],
                deadlines=deadlines,
                ended=ended,
                rollouts=rollouts,
                to_version=platform.release(prev),
                after=[f"cp:{prev}"] if current is not None and prev > current else [],
            )
            drafts.steps[hop_key].after.add(step.key)
            step.unknowns.extend(runtime_step(ctx, pool, members, prev, key, drafts, platform.managed, target))
            for state in members:
                state.minor = prev
                state.upgraded = True


def _final_reasons(
    ctx: PlanContext, state: NodeState, target: int | None
) -> tuple[list[str], list[Deadline | None], bool, bool, str]:
    """(reasons, deadlines, ended undated, kubelet unknown, target OS) for a node's last rollout."""
    node = state.facts
    reasons: list[str] = []
    deadlines: list[Deadline | None] = []
    ended = False
    unknown = False
    if state.minor is None:
        reasons.append(
            f"kubelet version unknown ({node.node.info.kubeletVersion!r}): replace it with a node at the target"
        )
        unknown = True
    elif target is not None and state.minor < target:
        reasons.append(
            f"Kubernetes 1.{state.minor}{' (after the steps above)' if state.upgraded else ''} "
            f"is below the target 1.{target}"
        )
        deadline, late = _minor_deadline(ctx, state)
        deadlines.append(deadline)
        ended = late
    elif not state.upgraded:
        patch = _kubelet_patch_deadline(ctx, node)
        if patch is not None:
            reasons.append(f"kubelet {node.kubelet.raw if node.kubelet else ''} is behind the newest patch of its line")
            deadlines.append(patch)
    for check in REIMAGE_CHECKS:
        finding = ctx.needs_action(check, node.subject)
        if finding is not None and finding.status in (Status.FAIL, Status.WARN):
            reasons.append(f"{check}: {finding.message}")
    os_why, os_deadline, os_ended, os_target = _os_reasons(ctx, node)
    if os_why is not None:
        reasons.append(os_why)
        deadlines.append(os_deadline)
        ended = ended or os_ended
    return reasons, deadlines, ended, unknown, os_target


def node_steps(
    ctx: PlanContext,
    facts: ClusterFacts,
    platform: Platform,
    hops: list[tuple[int, str]],
    current: int | None,
    target: int | None,
    inputs: PlanInputs,
    drafts: Drafts,
) -> list[str]:
    """Every node, runtime and node-OS step of the plan; returns what the plan as a whole could not see."""
    disruption = inputs.disruption
    rollouts = RolloutInputs(disruption.placement or placement(facts), disruption, inputs.surge)
    unknowns: list[str] = []
    if not facts.nodes:
        gap = inputs.nodes_gap or "the input holds no nodes"
        unknowns.append(
            f"nodes are not in the input ({gap}): which kubelets, kube-proxies, container runtimes and node OS "
            "releases must be upgraded, before each control-plane step (version skew) or to the target, is unknown; "
            "no node, runtime or node OS step can be planned (add `kubectl get nodes -o json` to the snapshot)"
        )
        for _, key in hops:
            drafts.steps[key].unknowns.append(
                f"whether nodes break the version-skew policy after this step is unknown: nodes are not in the input "
                f"({gap})"
            )
        return unknowns
    states = {n.name: _state(n) for n in facts.nodes}
    hop_unknowns: list[str] = []
    unknown_kubelets = [s.facts for s in states.values() if s.minor is None]
    if unknown_kubelets:
        hop_unknowns.append(
            f"{_count(unknown_kubelets)} ({_names(unknown_kubelets)}) report no usable kubelet version: whether they "
            "break the version-skew policy after each control-plane step is unknown"
        )
    if not facts.images.pods_known:
        hop_unknowns.append(
            f"kube-proxy versions are unknown ({facts.images.reason}): only kubelets are planned against skew"
        )
    else:
        unread = [s.facts for s in states.values() if _kube_proxy_unread(s.facts)]
        if unread:
            hop_unknowns.append(
                f"{_count(unread)} ({_names(unread)}) run a kube-proxy whose version cannot be read "
                f"({unread[0].kube_proxy_source}): only their kubelets are planned against skew"
            )
    for _, key in hops:
        drafts.steps[key].unknowns.extend(hop_unknowns)
    _skew_steps(ctx, platform, hops, current, states, rollouts, drafts, target)

    # After the last hop: every node to the target, with its OS where that is past support.
    final_after = [hops[-1][1]] if hops else []
    for pool, members in _by_pool(states.values()).items():
        moving: list[NodeState] = []
        why: list[tuple[str, str]] = []
        deadlines: list[Deadline | None] = []
        ended = False
        unknown = False
        os_targets: set[str] = set()
        for state in members:
            reasons, found, late, kubelet_unknown, os_target = _final_reasons(ctx, state, target)
            if not reasons:
                continue
            moving.append(state)
            why.extend((state.name, r) for r in reasons)
            deadlines.extend(found)
            ended = ended or late
            unknown = unknown or kubelet_unknown
            if os_target:
                os_targets.add(os_target)
        moved = {s.name for s in moving}
        resting = [s for s in members if s.name not in moved]
        if resting:
            unknowns.extend(runtime_step(ctx, pool, resting, None, None, drafts, platform.managed))
        if not moving:
            continue
        upgrades = target is not None and any(s.minor is None or s.minor < target for s in moving)
        os_only = bool(os_targets) and not upgrades and all(_os_reasons(ctx, s.facts)[0] for s in moving)
        os_note = f" on {', '.join(sorted(os_targets))}" if os_targets else ""
        if os_only:
            kind = StepKind.OS_REPLACEMENT
            to_version = ", ".join(sorted(os_targets))
            title = f"Replace the operating system of {_count(moving)} in {pool_name(pool)} with {to_version}"
        elif upgrades:
            kind = StepKind.NODE_POOL_UPGRADE
            to_version = platform.release(target or 0)
            title = f"Upgrade {_count(moving)} of {pool_name(pool)} to {to_version}{os_note}"
        else:
            kind = StepKind.NODE_POOL_UPGRADE
            to_version = (
                f"newest node image for {platform.release(target)}" if target is not None else "newest node image"
            )
            title = f"Roll {_count(moving)} of {pool_name(pool)} to the newest node image{os_note}"
        key = f"pool:{pool}:final"
        step = _node_step(
            ctx,
            drafts,
            key=key,
            pool=pool,
            members=moving,
            title=title,
            why=grouped(why),
            deadlines=[d for d in deadlines if d is not None]
            or [Deadline(None, DeadlineBasis.NONE, "due now: the findings above ask for it, and no date forces it")],
            ended=ended,
            rollouts=rollouts,
            to_version=to_version,
            after=final_after if upgrades else [],
            certainty=Certainty.VERIFY if unknown and not upgrades else Certainty.REQUIRED,
            kind=kind,
            resolves=(*NODE_CHECKS, *OS_CHECKS) if os_targets else NODE_CHECKS,
        )
        if upgrades and current is None:
            step.unknowns.append(
                "the API server's version is unknown: a kubelet may never be newer than the API server, so this "
                f"step must follow the control plane's upgrade to {platform.release(target or 0)}, which this plan "
                "could not place"
            )
        step.unknowns.extend(
            runtime_step(ctx, pool, moving, target if upgrades else None, key, drafts, platform.managed)
        )
    return list(dict.fromkeys(unknowns))


def _kube_proxy_unread(node: NodeFacts) -> bool:
    """A kube-proxy pod runs on the node (its source names the pod) but its version cannot be read."""
    return node.kube_proxy is None and node.kube_proxy_source.startswith("pod ")
