"""The plan in Markdown, for a change ticket: summary, a table of steps, each step's details, approval block.

Every string from the input passes ``markdown_text`` (one line, nothing active: no link, HTML or
emphasis from a node name); the only markup is patchlevel's own.  The approval block (PCI DSS
12.3.4: end-of-life remediation plans are approved by management) names the plan id, the as-of date
and who prepared it, and leaves "approved by" and the date empty for the approver.
"""

from __future__ import annotations

from collections.abc import Sequence

from patchlevel.plan.model import STEP_KIND_LABELS, Plan, Step
from patchlevel.render.text import markdown_text

MAX_LINES = 8  # reasons, unknowns, blockers … per step, then "and N more"


def _t(text: object) -> str:
    return markdown_text(text)


def _list(items: Sequence[str], limit: int = MAX_LINES) -> list[str]:
    lines = [f"  - {_t(i)}" for i in items[:limit]]
    if len(items) > limit:
        lines.append(f"  - … and {len(items) - limit} more (see the JSON or HTML plan)")
    return lines


def _when(step: Step) -> str:
    day = step.deadline.latest_safe
    if step.late:
        return f"**LATE** (was due by {day})" if day else "**LATE** (support already ended)"
    return str(day) if day else "no date forces it"


def _details(step: Step) -> list[str]:
    lines = [f"### {step.id} · {STEP_KIND_LABELS[step.kind]}: {_t(step.title)}", ""]
    lines.append(f"- **Latest safe date:** {_when(step)} — {_t(step.deadline.reason)}")
    if step.prerequisites:
        lines.append(f"- **After:** {', '.join(step.prerequisites)}")
    if step.certainty.value == "verify":
        lines.append("- **Verify:** needed unless evidence the input did not hold shows otherwise (see unknowns)")
    lines.append("- **Why:**")
    lines += _list(step.why)
    if step.migrations:
        lines.append("- **API versions:**")
        lines += _list(
            [
                f"{m.status.value}: {m.api_version} {m.kind} → {m.replacement or 'nothing (remove)'}"
                + (f" ({m.note})" if m.note else "")
                for m in step.migrations
            ],
            limit=20,
        )
    for image in step.images[:MAX_LINES]:
        lines.append(f"- **Image** {_t(image.image)}:")
        lines += _list(list(image.reasons))
        lines += _list(
            [
                f"{f.id} ({f.severity}): {f.package} {f.installed_version} → {f.fixed_version}; "
                f"due {f.due or 'unknown'} ({f.due_basis})"
                for f in image.fixes
            ]
        )
    rollout = step.rollout
    if rollout is not None:
        order = [n.name + (f" ({', '.join(n.reasons)})" if n.reasons else "") for n in rollout.order]
        shown = ", ".join(order[:MAX_LINES]) + (f" and {len(order) - MAX_LINES} more" if len(order) > MAX_LINES else "")
        lines.append(f"- **Rollout:** {_t(rollout.batch_basis)}; order: {_t(shown)}")
        if rollout.blockers:
            lines.append("- **Blockers:**")
            lines += _list(list(rollout.blockers))
    if step.caveats:
        lines.append("- **Caveats:**")
        lines += _list(list(step.caveats))
    unknowns = list(dict.fromkeys([*step.unknowns, *(rollout.unknowns if rollout is not None else ())]))
    if unknowns:
        lines.append("- **Unknown:**")
        lines += _list(unknowns)
    return [*lines, ""]


def render_plan_markdown(plan: Plan) -> bytes:
    target = plan.target
    lines = [
        f"## patchlevel plan {plan.id}: {_t(plan.cluster or '(unnamed cluster)')} as of {plan.as_of}",
        "",
        f"{_t(plan.distribution)} · running {_t(plan.running or 'version unknown')}"
        + (f" · target {_t(target.platform_release)} ({_t(target.reason)})" if target else " · no target")
        + f" · patchlevel {_t(plan.tool_version)}",
        "",
        f"**{plan.summary.state.value.upper()}:** {_t(plan.summary.headline)}",
        "",
    ]
    if plan.evidence_digest:
        lines += [f"Evidence bundle digest `{_t(plan.evidence_digest)}`", ""]
    if plan.steps:
        lines += ["| Step | Kind | What | Latest safe date | After |", "| --- | --- | --- | --- | --- |"]
        for step in plan.steps:
            lines.append(
                f"| {step.id} | {STEP_KIND_LABELS[step.kind]} | {_t(step.title)} | {_when(step)} | "
                f"{', '.join(step.prerequisites) or '—'} |"
            )
        lines.append("")
        for step in plan.steps:
            lines += _details(step)
    if plan.open_items:
        lines += ["### Not addressed by a step", "", "| Status | Check | Findings | What | Remediation |"]
        lines.append("| --- | --- | --- | --- | --- |")
        for item in plan.open_items:
            lines.append(
                f"| {item.status.upper()} | `{item.check}` | {item.findings} | {_t(item.message)} | "
                f"{_t(item.remediation)} |"
            )
        lines.append("")
    if plan.unknowns:
        lines += ["### Unknown", ""]
        lines += [f"- {_t(u)}" for u in plan.unknowns]
        lines.append("")
    lines += ["### Data", ""]
    lines += [f"- {_t(d)}" for d in plan.data]
    lines += [
        "",
        "### Approval (PCI DSS 12.3.4)",
        "",
        "| | |",
        "| --- | --- |",
        f"| Plan id | `{plan.id}` |",
        f"| As of | {plan.as_of} |",
        f"| Prepared by | {_t(plan.prepared_by)} |",
        "| Approved by | |",
        "| Approved on | |",
        "",
    ]
    return "\n".join(lines).encode("utf-8", "backslashreplace")
