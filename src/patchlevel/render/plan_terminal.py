"""The plan on a terminal: the summary, then each step with its date, reasons, prerequisites and rollout.

Every string from the input is printed as plain text (``rich.text.Text``, never markup) through
``render.text.plain``; long lists are capped with a count, so a 5,000-node pool prints one step, not
5,000 lines.  The JSON, Markdown and HTML plans hold the same steps.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from patchlevel.plan.model import STEP_KIND_LABELS, Plan, PlanState, Step
from patchlevel.render.text import plain

MAX_LINES = 6  # reasons, unknowns, blockers … per step, then "+N more"
MAX_ORDER = 8  # nodes named in a rollout order
STATE_STYLES = {
    PlanState.COMPLIANT: "bold green",
    PlanState.UNPROVEN: "bold magenta",
    PlanState.ON_TRACK: "bold yellow",
    PlanState.LATE: "bold red",
}
INDENT = "      "


def _capped(items: Sequence[str], limit: int = MAX_LINES) -> list[str]:
    shown = [plain(i) for i in items[:limit]]
    if len(items) > limit:
        shown.append(f"… and {len(items) - limit} more (see the JSON or HTML plan)")
    return shown


def _line(console: Console, label: str, text: str, style: str = "") -> None:
    line = Text(INDENT)
    line.append(f"{label}: ", style="dim")
    line.append(text, style=style)
    console.print(line)


def _step(console: Console, step: Step) -> None:
    head = Text(f"{step.id}  ", style="bold")
    head.append(f"{STEP_KIND_LABELS[step.kind]:<27}")
    when = step.deadline.latest_safe
    if step.late:
        head.append("LATE", style="bold red")
        head.append(f"  was due by {when}" if when else "  (support already ended)")
    else:
        head.append(f"by {when}" if when else "no date forces it", style="yellow" if when else "dim")
    if step.certainty.value == "verify":
        head.append("  VERIFY", style="magenta")
    console.print(head)
    console.print(Text(INDENT + plain(step.title)))
    if step.prerequisites:
        _line(console, "after", ", ".join(step.prerequisites))
    _line(console, "date", plain(step.deadline.reason))
    for reason in _capped(step.why):
        _line(console, "why", reason)
    for migration in step.migrations[:MAX_LINES]:
        replacement = plain(migration.replacement) if migration.replacement else "nothing (remove)"
        _line(
            console,
            f"API {migration.status.value}",
            f"{plain(migration.api_version)} {plain(migration.kind)} → {replacement}",
            "red" if migration.status.value == "used" else "",
        )
    if len(step.migrations) > MAX_LINES:
        _line(console, "API", f"… and {len(step.migrations) - MAX_LINES} more")
    for image in step.images[:MAX_LINES]:
        fixes = ", ".join(
            f"{plain(f.id)} → {plain(f.package)} {plain(f.fixed_version)}" for f in image.fixes[:MAX_LINES]
        )
        more = f" and {len(image.fixes) - MAX_LINES} more" if len(image.fixes) > MAX_LINES else ""
        _line(console, "image", plain(image.image) + (f": fix {fixes}{more}" if fixes else ""))
    rollout = step.rollout
    if rollout is not None:
        order = [n.name + (f" ({', '.join(n.reasons)})" if n.reasons else "") for n in rollout.order]
        shown = ", ".join(plain(o) for o in order[:MAX_ORDER])
        rest = f", +{len(order) - MAX_ORDER} more" if len(order) > MAX_ORDER else ""
        _line(console, "rollout", f"{plain(rollout.batch_basis)}; order: {shown}{rest}")
        for blocker in _capped(rollout.blockers):
            _line(console, "blocker", blocker, "yellow")
    for caveat in _capped(step.caveats):
        _line(console, "caveat", caveat, "yellow")
    unknowns = [*step.unknowns, *(rollout.unknowns if rollout is not None else ())]
    for unknown in _capped(list(dict.fromkeys(unknowns))):
        _line(console, "unknown", unknown, "magenta")
    console.print()


def render_plan_terminal(plan: Plan, *, color: bool = False, width: int = 120) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, force_terminal=color, no_color=not color, highlight=False, emoji=False, markup=False
    )
    title = Text(f"patchlevel plan {plan.id}", style="bold")
    title.append(f" — cluster {plain(plan.cluster or '(unnamed)')} · {plain(plan.distribution)}")
    title.append(f" · running {plain(plan.running or 'version unknown')}")
    if plan.target is not None:
        title.append(f" → target {plain(plan.target.platform_release)}")
    console.print(title)
    tool = f"patchlevel {plan.tool_version}"
    by = f" · prepared by {plain(plan.prepared_by)}" if plan.prepared_by != tool else ""
    console.print(Text(f"As of {plan.as_of}{by} · {plain(tool)}"))
    if plan.target is not None:
        console.print(Text(f"Target {plain(plan.target.kubernetes)}: {plain(plan.target.reason)}"))
    if plan.evidence_digest:
        console.print(Text(f"Evidence bundle digest {plain(plan.evidence_digest)}"))
    console.print()
    state = plan.summary
    headline = Text(f"{state.state.value.upper()}: ", style=STATE_STYLES[state.state])
    headline.append(plain(state.headline))
    console.print(headline)
    console.print()
    for step in plan.steps:
        _step(console, step)
    if plan.open_items:
        console.print(Text("Not addressed by a step (handle as the audit report says)", style="bold"))
        for item in plan.open_items:
            line = Text(f"  {item.status.upper():<8}", style="bold red" if item.status in ("fail", "error") else "")
            line.append(f"{item.check} ({item.findings}): {plain(item.message)}")
            console.print(line)
            if item.remediation:
                console.print(Text(f"{INDENT}→ {plain(item.remediation)}", style="dim"))
        console.print()
    if plan.unknowns:
        console.print(Text("Unknown (never read as fine)", style="bold magenta"))
        for unknown in plan.unknowns:
            console.print(Text(f"  - {plain(unknown)}"))
        console.print()
    console.print(Text("Data: " + "; ".join(plain(d) for d in plan.data), style="dim"))
    return buffer.getvalue()
