"""``build_plan``: one audit's report and facts, the same knowledge and policy, in; a dated ``Plan`` out.

The plan has no source of truth of its own: it reads the audit's findings (and their typed facts),
the cluster facts the audit derived, the lifecycle catalog and runtime matrix the checks judged by,
and the policy's windows.  Pure: no I/O, no clock (``as_of`` and ``generated_at`` come from the report).

Order of the plan: prerequisites first, then by latest safe date (undated last), then by kind.  A
prerequisite inherits the earlier date of the step that needs it.  Steps are numbered S01, S02 … in
that order; the plan's id is derived from its content, so the same audit gives the same plan id.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import Counter
from collections.abc import Sequence
from datetime import date

from patchlevel.facts import ClusterFacts
from patchlevel.knowledge import Knowledge
from patchlevel.lifecycle.removals import RemovalTable
from patchlevel.model import STATUS_RANK, Finding, Report, Status
from patchlevel.plan.controlplane import (
    Platform,
    api_migration_steps,
    choose_target,
    control_plane_patch_step,
    control_plane_steps,
)
from patchlevel.plan.draft import ACTION, Drafts, DraftStep, PlanContext
from patchlevel.plan.inputs import PlanInputs
from patchlevel.plan.model import (
    Deadline,
    DeadlineBasis,
    OpenItem,
    Plan,
    PlanState,
    Step,
    StepKind,
    Summary,
)
from patchlevel.plan.nodes import node_steps
from patchlevel.plan.workloads import image_steps
from patchlevel.policy import Policy

KIND_ORDER = {
    StepKind.API_MIGRATION: 0,
    StepKind.RUNTIME_UPGRADE: 1,
    StepKind.NODE_POOL_UPGRADE: 2,
    StepKind.CONTROL_PLANE_UPGRADE: 3,
    StepKind.OS_REPLACEMENT: 4,
    StepKind.IMAGE_REBUILD: 5,
}
MAX_OPEN_SUBJECTS = 10
MAX_NAMED_LATE = 8


def build_plan(
    report: Report,
    facts: ClusterFacts,
    knowledge: Knowledge,
    policy: Policy,
    *,
    removals: RemovalTable,
    inputs: PlanInputs,
    target: str | None = None,
    prepared_by: str = "",
) -> Plan:
    """The plan for one audited cluster.  Raises ``UsageError`` for a ``target`` that cannot be reached."""
    as_of = report.as_of
    ctx = PlanContext.of(as_of, knowledge.catalog, policy, knowledge.runtime_compat, report.findings)
    platform = Platform(facts.distribution, knowledge.catalog.product(facts.distribution.lifecycle_product))
    drafts = Drafts()
    unknowns: list[str] = []
    running = facts.api
    plan_target, target_minor, target_unknowns = choose_target(platform, ctx, running, target)
    unknowns.extend(target_unknowns)
    hops: list[tuple[int, str]] = []
    current = running.minor if running is not None and running.major == 1 else None
    if running is None or current is None:
        what = (
            "the API server's version is not in the input"
            if running is None
            else f"the API server's version {running.raw!r} is not a Kubernetes 1.x release"
        )
        unknowns.append(
            f"{what}: no control-plane path can be planned, nor the API migrations and node upgrades its steps "
            "need first (add `kubectl version -o json` to the snapshot)"
        )
    elif target_minor is not None:
        hops = control_plane_steps(platform, ctx, running, target_minor, drafts)
        if not hops:
            control_plane_patch_step(platform, ctx, running, drafts)
        api_migration_steps(platform, ctx, hops, removals, inputs.api_usage, drafts)
    if hops and inputs.api_usage.gaps:
        unknowns.extend(inputs.api_usage.gaps)
    unknowns.extend(node_steps(ctx, facts, platform, hops, current, target_minor, inputs, drafts))
    if any(s.rollout is not None for s in drafts.values()) and not inputs.disruption.read:
        unknowns.extend(inputs.disruption.gaps)
    image_steps(ctx, facts, drafts)
    _inherit_deadlines(drafts)
    ordered = _order(drafts)
    ids = {step.key: f"S{index:02d}" for index, step in enumerate(ordered, 1)}
    steps = tuple(_freeze(step, ids, as_of) for step in ordered)
    open_items = _open_items(report.findings, steps)
    unknowns = list(dict.fromkeys(unknowns))
    unjudged = _unjudged(report.findings, steps)
    summary = _summary(steps, open_items, unknowns, unjudged, as_of, plan_target.kubernetes if plan_target else "")
    catalog = knowledge.catalog
    data = [
        f"lifecycle data retrieved {catalog.data_date} ({catalog.source or catalog.data_dir})",
        f"{removals.describe()}",
        f"containerd support table: {knowledge.runtime_compat.get('source', 'unknown source')}",
    ]
    kev = knowledge.kev
    if kev is not None:
        data.append(f"CISA KEV catalog {kev.version} ({kev.released})")
    policy_view: dict[str, int | str] = {
        "support_warning_days": policy.support_warning_days,
        "extended_support": policy.extended_support.value,
        "patch_window_days": policy.patch_window_days,
        "source": policy.source,
    }
    for severity, days in policy.sla_days.items():
        policy_view[f"sla_days.{severity.value}"] = days
    distribution = facts.distribution
    plan = Plan(
        id="",
        as_of=as_of,
        generated_at=report.generated_at,
        tool_version=report.tool_version,
        prepared_by=prepared_by or f"patchlevel {report.tool_version}",
        cluster=report.cluster.name,
        distribution=distribution.label,
        distribution_id=distribution.id,
        running=running.raw if running is not None else "",
        target=plan_target,
        summary=summary,
        steps=steps,
        open_items=open_items,
        unknowns=tuple(unknowns),
        data=tuple(data),
        policy=policy_view,
        evidence_digest=report.evidence_digest,
    )
    return _with_id(plan)


# ------------------------------------------------------------------------------------------


def _inherit_deadlines(drafts: Drafts) -> None:
    """A prerequisite is due no later than the earliest step that needs it (repeated until nothing changes)."""
    for step in drafts.values():
        step.origin = step.title
        step.origin_reason = step.deadline.reason
    dependents = drafts.dependents()
    changed = True
    rounds = 0
    while changed and rounds <= len(drafts.steps):
        changed = False
        rounds += 1
        for key, step in drafts.steps.items():
            for later_key in dependents.get(key, ()):
                later = drafts.steps[later_key]
                theirs = later.deadline.latest_safe
                mine = step.deadline.latest_safe
                if theirs is not None and (mine is None or theirs < mine):
                    because = (
                        f"({later.origin_reason})"
                        if later.origin == later.title
                        else f"so that “{later.origin}” can follow in time ({later.origin_reason})"
                    )
                    step.deadline = Deadline(
                        theirs,
                        DeadlineBasis.PREREQUISITE,
                        f"needed before “{later.title}”, due by {theirs} {because}",
                        later.deadline.event,
                    )
                    step.origin, step.origin_reason = later.origin, later.origin_reason
                    changed = True
                if later.late_anyway and not step.late_anyway:
                    step.late_anyway = True
                    changed = True


def _priority(step: DraftStep) -> tuple[date, int, str]:
    return (step.deadline.latest_safe or date.max, KIND_ORDER[step.kind], step.key)


def _order(drafts: Drafts) -> list[DraftStep]:
    """Prerequisites first; among steps that are ready, the earliest latest-safe date first."""
    steps = drafts.steps
    waiting = {key: {k for k in step.after if k in steps} for key, step in steps.items()}
    dependents = drafts.dependents()
    ready = [(_priority(steps[k]), k) for k, before in waiting.items() if not before]
    heapq.heapify(ready)
    ordered: list[DraftStep] = []
    done: set[str] = set()
    while ready:
        _, key = heapq.heappop(ready)
        ordered.append(steps[key])
        done.add(key)
        for later in dependents.get(key, ()):
            waiting[later].discard(key)
            if not waiting[later] and later not in done:
                heapq.heappush(ready, (_priority(steps[later]), later))
    if len(ordered) != len(steps):  # a cycle would be a planner bug: never drop a step silently
        left = sorted(set(steps) - {s.key for s in ordered})
        raise RuntimeError(f"plan steps depend on each other in a cycle: {left}")
    return ordered


def _freeze(step: DraftStep, ids: dict[str, str], as_of: date) -> Step:
    return Step(
        id=ids[step.key],
        kind=step.kind,
        title=step.title,
        why=tuple(dict.fromkeys(step.why)),
        deadline=step.deadline,
        late=step.late_anyway or step.deadline.late(as_of),
        certainty=step.certainty,
        prerequisites=tuple(sorted(ids[k] for k in step.after if k in ids)),
        subjects=tuple(step.subjects),
        pool=step.pool,
        namespace=step.namespace,
        from_version=step.from_version,
        to_version=step.to_version,
        resolves=step.resolves,
        caveats=tuple(dict.fromkeys(step.caveats)),
        unknowns=tuple(dict.fromkeys(step.unknowns)),
        migrations=step.migrations,
        rollout=step.rollout,
        images=step.images,
    )


def _addressed(steps: Sequence[Step]) -> set[tuple[str, str]]:
    return {(check, subject) for step in steps for check in step.resolves for subject in step.subjects}


def _unjudged(findings: Sequence[Finding], steps: Sequence[Step]) -> int:
    """Findings no step addresses that could not be judged from the input (unknown, or an error)."""
    addressed = _addressed(steps)
    return sum(
        1 for f in findings if f.status in (Status.UNKNOWN, Status.ERROR) and (f.check, f.subject) not in addressed
    )


def _open_items(findings: Sequence[Finding], steps: Sequence[Step]) -> tuple[OpenItem, ...]:
    """Findings that ask for action and that no step addresses, grouped by check."""
    addressed = _addressed(steps)
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.status in ACTION and (finding.check, finding.subject) not in addressed:
            groups.setdefault(finding.check, []).append(finding)
    items = []
    for check, found in groups.items():
        worst = max(found, key=lambda f: (STATUS_RANK[f.status], f.status is Status.ERROR))
        subjects = sorted({f.subject for f in found})
        shown = subjects[:MAX_OPEN_SUBJECTS]
        if len(subjects) > MAX_OPEN_SUBJECTS:
            shown.append(f"… and {len(subjects) - MAX_OPEN_SUBJECTS} more")
        items.append(
            OpenItem(
                check=check,
                status=worst.status.value,
                findings=len(found),
                message=worst.message,
                remediation=worst.remediation,
                subjects=tuple(shown),
            )
        )
    items.sort(key=lambda i: (-STATUS_RANK[Status(i.status)], i.check))
    return tuple(items)


def _plural(count: int, noun: str, plural: str = "") -> str:
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def _not_shown(open_items: Sequence[OpenItem], unjudged: int, unknowns: int) -> str:
    """What the summary must not leave out: findings the input could not settle, and what the planner could not see."""
    parts = []
    if unjudged:
        parts.append(
            f"{_plural(unjudged, 'finding')} could not be judged from the input (under “Not addressed by a step”)"
        )
    acting = sum(i.findings for i in open_items) - unjudged
    if acting > 0:
        parts.append(f"{_plural(acting, 'finding')} {'needs' if acting == 1 else 'need'} action outside this plan")
    if unknowns:
        parts.append(f"{_plural(unknowns, 'thing')} the planner could not see (under “Unknown”)")
    return "; ".join(parts)


def _step_unknowns(steps: Sequence[Step]) -> list[str]:
    return [u for s in steps for u in (*s.unknowns, *(s.rollout.unknowns if s.rollout is not None else ()))]


def _summary(
    steps: Sequence[Step],
    open_items: Sequence[OpenItem],
    unknowns: Sequence[str],
    unjudged: int,
    as_of: date,
    target: str,
) -> Summary:
    late = tuple(s.id for s in steps if s.late)
    upcoming = [s.deadline.latest_safe for s in steps if not s.late and s.deadline.latest_safe is not None]
    next_deadline = min(upcoming) if upcoming else None
    kinds = Counter(s.kind.value for s in steps)
    unseen = len(dict.fromkeys([*unknowns, *_step_unknowns(steps)]))
    where = f"Kubernetes {target}" if target else "the target"
    missing = _not_shown(open_items, unjudged, unseen)
    if not steps:
        if not open_items and not unseen:
            return Summary(
                PlanState.COMPLIANT,
                f"Nothing to do: the cluster runs {where} and no finding asks for action as of {as_of}.",
            )
        return Summary(
            PlanState.UNPROVEN,
            f"No step could be derived, but compliance is not shown as of {as_of}: {missing}.",
            unjudged_findings=unjudged,
            unknowns=unseen,
        )
    count = f"{len(steps)} step{'s' if len(steps) != 1 else ''} to {where}"
    tail = f" Not shown: {missing}." if unjudged or unseen else ""
    if late:
        named = ", ".join(late[:MAX_NAMED_LATE]) + (
            f" and {len(late) - MAX_NAMED_LATE} more" if len(late) > MAX_NAMED_LATE else ""
        )
        every = "all" if len(late) == len(steps) else f"{len(late)}"
        return Summary(
            PlanState.LATE,
            f"{count}; {every} already late (past their latest safe date as of {as_of}): {named}.{tail}",
            late,
            next_deadline,
            dict(kinds),
            unjudged_findings=unjudged,
            unknowns=unseen,
        )
    first = f"; the first latest safe date is {next_deadline}" if next_deadline else ""
    return Summary(
        PlanState.ON_TRACK,
        f"{count}{first}.{tail}",
        (),
        next_deadline,
        dict(kinds),
        unjudged_findings=unjudged,
        unknowns=unseen,
    )


def _with_id(plan: Plan) -> Plan:
    """The plan with an id derived from what it says (cluster, dates, versions, steps), not from a clock."""
    content = repr(
        (
            plan.cluster,
            plan.distribution_id,
            plan.running,
            plan.as_of,
            plan.target,
            plan.steps,
            plan.open_items,
            plan.unknowns,
            plan.evidence_digest,
        )
    )
    digest = hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    from dataclasses import replace

    return replace(plan, id=f"PL-{digest}")
