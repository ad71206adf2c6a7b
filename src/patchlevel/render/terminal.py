"""The terminal report: a verdict per requirement and a grouped table of what needs action.

Identical findings on many subjects collapse into one row ("412 nodes: containerd 1.7 ..."), and
each check shows its 10 worst groups then "+N more", so a 5,000-node cluster with thousands of
distinct image findings prints a few screens, not thousands of rows.  Waived findings are counted
in their own column.

Every string is printed as plain text (``rich.text.Text``, never Rich markup or emoji codes), with
control characters made visible and each field cut at ``MAX_FIELD_CHARS`` (see
``patchlevel.render.text``): a ``[/x]`` in a version, ``[red]`` in a node name or an escape sequence
in a kernel string is shown as written, and rendering time grows linearly with the input.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from patchlevel.model import Report, Status, requirement_results
from patchlevel.render.groups import grouped_by_check
from patchlevel.render.text import plain
from patchlevel.render.vex import vex_rows, vex_summary

STYLES = {
    "pass": "green",
    "warn": "yellow",
    "fail": "bold red",
    "unknown": "magenta",
    "waived": "cyan",
    "error": "bold red reverse",
    "not-assessed": "dim",
}
MAX_NAMED_SUBJECTS = 3
MAX_GROUPS_PER_CHECK = 10  # the worst groups of each check; the rest are counted, see JSON/HTML
MAX_VEX_ROWS = 10  # vulnerabilities out of the SLA by VEX, listed one by one


def _subjects(subjects: list[str]) -> str:
    kinds = {s.split("/", 1)[0] for s in subjects}
    noun = plain(kinds.pop()) if len(kinds) == 1 else "subject"
    names = [plain(s.split("/", 1)[-1]) for s in subjects[:MAX_NAMED_SUBJECTS]]
    more = len(subjects) - len(names)
    if len(subjects) == 1:
        return plain(subjects[0])
    listed = ", ".join(names) + (f", +{more} more" if more else "")
    return f"{len(subjects)} {noun}s ({listed})"


def render_terminal(report: Report, *, color: bool = False, width: int = 120, show_passed: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, force_terminal=color, no_color=not color, highlight=False, emoji=False, markup=False
    )
    cluster = report.cluster
    title = Text(f"patchlevel {plain(report.tool_version)}", style="bold")
    title.append(f" — cluster {plain(cluster.name or '(unnamed)')}")
    version = cluster.version or "version unknown"
    title.append(f" · {plain(version)} · {plain(cluster.distribution)}")
    console.print(title)
    lifecycle = report.lifecycle
    data = f"lifecycle data {lifecycle.retrieved} ({lifecycle.age_days} days old)" if lifecycle else "no lifecycle data"
    console.print(
        Text(
            f"As of {report.as_of} · {data} · {cluster.nodes} nodes, {cluster.pods} pods · "
            f"{len(report.findings)} findings"
        )
    )
    if report.evidence_digest:
        console.print(Text(f"Evidence bundle digest {plain(report.evidence_digest)}"))
    for warning in report.warnings:
        console.print(Text("! " + plain(warning), style="yellow"))

    console.print()
    requirements = Table(title="Requirements", title_justify="left", show_lines=False, expand=False)
    requirements.add_column("Requirement", no_wrap=True)
    requirements.add_column("Verdict", no_wrap=True)
    requirements.add_column("pass", justify="right")
    requirements.add_column("warn", justify="right")
    requirements.add_column("fail", justify="right")
    requirements.add_column("unknown", justify="right")
    requirements.add_column("waived", justify="right")
    requirements.add_column("Title")
    for result in requirement_results(report):
        counts = result.counts
        verdict = "not assessed" if result.verdict == "not-assessed" else result.verdict.upper()
        requirements.add_row(
            Text(plain(result.requirement.id)),
            Text(verdict, style=STYLES.get(result.verdict, "")),
            Text(str(counts[Status.PASS])),
            Text(str(counts[Status.WARN])),
            Text(str(counts[Status.FAIL] + counts[Status.ERROR])),
            Text(str(counts[Status.UNKNOWN])),
            Text(str(counts[Status.WAIVED])),
            Text(plain(result.requirement.title)),
        )
    console.print(requirements)

    statuses = set(Status) if show_passed else set(Status) - {Status.PASS}
    checks = grouped_by_check(report, statuses, MAX_GROUPS_PER_CHECK)
    console.print()
    if not checks:
        console.print(Text("Nothing needs action.", style="green"))
    else:
        console.print(Text("What needs action" if not show_passed else "Findings", style="italic"))
        for check in checks:
            console.print()
            console.print(Text(plain(check.check), style="bold"))
            for group in check.groups:
                representative = group.finding
                line = Text("  ")
                line.append(
                    f"{representative.status.value.upper():<8}", style=STYLES.get(representative.status.value, "")
                )
                line.append(_subjects(list(group.subjects)), style="bold")
                console.print(line)
                body = Text(plain(representative.message))
                if representative.remediation and representative.status in (Status.FAIL, Status.WARN):
                    body.append("\n→ " + plain(representative.remediation), style="dim")
                if representative.waiver is not None:
                    body.append(
                        f"\nwaived until {representative.waiver.expires} by {plain(representative.waiver.owner)}: "
                        f"{plain(representative.waiver.reason)}",
                        style="cyan",
                    )
                if representative.note and representative.waiver is None:
                    body.append("\n" + plain(representative.note), style="dim")
                console.print(Padding(body, (0, 0, 0, 10), expand=False))
            if check.more_groups:
                console.print(
                    Padding(
                        Text(
                            f"+{check.more_groups} more: {check.more_findings} more findings in "
                            f"{check.more_groups} groups (see JSON/HTML)",
                            style="dim",
                        ),
                        (0, 0, 0, 10),
                        expand=False,
                    )
                )

    if report.scan_coverage:
        console.print()
        console.print(Text("Scan coverage: " + "; ".join(c.text() for c in report.scan_coverage), style="italic"))
    vex = vex_rows(report)
    if vex:
        console.print()
        console.print(Text("VEX: " + vex_summary(vex), style="italic"))
        subject = ""
        for row in vex[:MAX_VEX_ROWS]:
            if row.subject != subject:
                subject = row.subject
                console.print(Text("  " + plain(subject), style="bold"))
            body = Text(f"{plain(row.vulnerability)} ({plain(row.package)}): {plain(row.statement)}")
            console.print(Padding(body, (0, 0, 0, 10), expand=False))
        if len(vex) > MAX_VEX_ROWS:
            console.print(Text(f"  +{len(vex) - MAX_VEX_ROWS} more (see JSON/HTML)", style="dim"))

    read = [i for i in report.inputs if i.read_as != "ignored"]
    ignored = [i for i in report.inputs if i.read_as == "ignored"]
    if report.inputs:
        console.print()
        console.print(Text(f"Input: {len(read)} file(s) read, {len(ignored)} ignored"))
        for item in read:
            console.print(Text(f"  read    {plain(item.path)}: {plain(item.read_as)}"))
        for item in ignored:
            console.print(Text(f"  ignored {plain(item.path)}: {plain(item.reason)}", style="dim"))
    return buffer.getvalue()
