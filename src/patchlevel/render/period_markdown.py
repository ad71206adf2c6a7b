"""The period report as Markdown: a summary for tickets, and the fleet table of ``--all-clusters``.

Every external string (subjects, messages, cluster names) is escaped so it reads as text, never as
Markdown or HTML.
"""

from __future__ import annotations

import re

from patchlevel.ledger.report import FleetTable, PeriodReport, period_requirement_results
from patchlevel.model import STATUS_RANK, Finding, Status, count_by_status, group_findings

MAX_ROWS = 40
_SPECIAL = re.compile(r"([\\`*_\[\]|<>~])")


def md(text: object) -> str:
    """Plain text as inert Markdown: specials escaped, one line."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _verdict_word(verdict: str) -> str:
    return verdict.upper()


def _needs_action(findings: tuple[Finding, ...]) -> list[tuple[Finding, list[str]]]:
    groups = [g for g in group_findings(findings) if g[0].status is not Status.PASS]
    return sorted(groups, key=lambda g: (-STATUS_RANK[g[0].status], g[0].check))


def render_period_markdown(report: PeriodReport) -> bytes:
    lines = [
        f"# Period report: {md(report.cluster_name)}, {report.start} to {report.end}",
        "",
        f"- **Period**: {report.start} to {report.end} ({report.days} days)",
        f"- **Evidence**: {report.audits} recorded audits; {report.evidence_days} of {report.days} days covered"
        + (f"; {len(report.gaps)} gap(s)" if report.gaps else "; no gap"),
        f"- **Cluster**: {md(report.cluster_name)} (`{md(report.cluster_key)}`)",
        f"- **Generated**: {report.generated_at.isoformat().replace('+00:00', 'Z')} "
        f"by patchlevel {report.tool_version}",
        "",
    ]
    counts = count_by_status(report.findings)
    lines.append(" · ".join(f"{status.value} {n}" for status, n in counts.items() if n) or "no findings")
    lines.append("")
    if report.warnings:
        lines += ["> **Read before relying on this report**", ">"]
        lines += [f"> - {md(w)}" for w in report.warnings]
        lines.append("")
    lines += [
        "## Verdict per requirement over the period",
        "",
        "| requirement | verdict | title |",
        "| --- | --- | --- |",
    ]
    for result in period_requirement_results(report):
        lines.append(
            f"| {md(result.requirement.id)} | **{_verdict_word(result.verdict)}** | {md(result.requirement.title)} |"
        )
    lines.append("")
    if report.gaps:
        lines += ["## Days without audit evidence", "", "| from | to | days | last audit before | next audit |"]
        lines.append("| --- | --- | --- | --- | --- |")
        for gap in report.gaps:
            lines.append(
                f"| {gap.first} | {gap.last} | {gap.days} | {gap.audit_before or 'none'} | "
                f"{gap.audit_after or 'none'} |"
            )
        lines.append("")
    if report.sla:
        lines += [
            "## Fixes deployed: days from a fix being known to no running image having it",
            "",
            "| severity | window | count | resolved | open at end | past window | unknown | median | p90 | worst |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for s in report.sla:
            lines.append(
                f"| {s.severity} | {s.sla_days if s.sla_days is not None else '-'} | {s.count} | {s.resolved} | "
                f"{s.open_at_end} | {s.overdue} | {s.unknown} | {_num(s.median)} | {_num(s.p90)} | "
                f"{s.worst if s.worst is not None else '-'} |"
            )
        lines.append("")
    groups = _needs_action(report.findings)
    lines += ["## What needs attention", ""]
    if not groups:
        lines.append("Nothing: every period finding passed.")
    for finding, subjects in groups[:MAX_ROWS]:
        shown = ", ".join(md(s) for s in subjects[:5]) + (f" and {len(subjects) - 5} more" if len(subjects) > 5 else "")
        lines.append(f"- **{finding.status.value.upper()}** `{finding.check}` {shown}: {md(finding.message)}")
    if len(groups) > MAX_ROWS:
        lines.append(f"- … and {len(groups) - MAX_ROWS} more (see the JSON or HTML report)")
    lines.append("")
    return "\n".join(lines).encode("utf-8")


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:g}"


def render_period_text(report: PeriodReport) -> bytes:
    """A short plain-text summary for the terminal."""
    out = [
        f"patchlevel period report: {report.cluster_name}, {report.start} to {report.end}",
        f"  evidence: {report.audits} audits, {report.evidence_days} of {report.days} days covered, "
        f"{len(report.gaps)} gap(s)",
    ]
    for gap in report.gaps:
        out.append(f"    no evidence {gap.first} to {gap.last} ({gap.days} days)")
    out.append("  requirements:")
    for result in period_requirement_results(report):
        out.append(f"    {result.verdict.upper():<13} {result.requirement.id}: {result.requirement.title}")
    groups = _needs_action(report.findings)
    if groups:
        out.append("  needs attention:")
    for finding, subjects in groups[:MAX_ROWS]:
        who = subjects[0] if len(subjects) == 1 else f"{len(subjects)} subjects"
        out.append(f"    {finding.status.value.upper():<8} {finding.check} {who}: {' '.join(finding.message.split())}")
    for warning in report.warnings:
        out.append(f"  warning: {warning}")
    return ("\n".join(out) + "\n").encode("utf-8")


def render_fleet_markdown(table: FleetTable) -> bytes:
    assessed = [r for r in table.requirements if r.checks]
    lines = [
        f"# Fleet period report: {table.start} to {table.end}",
        "",
        "| cluster | audits | gaps | " + " | ".join(md(r.id) for r in assessed) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in assessed) + " |",
    ]
    for row in table.rows:
        if row.error:
            lines.append(f"| {md(row.cluster)} | - | - | " + " | ".join("ERROR" for _ in assessed) + " |")
            continue
        cells = " | ".join(row.verdicts.get(r.id, "not-assessed").upper() for r in assessed)
        lines.append(f"| {md(row.cluster)} | {row.audits} | {row.gaps} | {cells} |")
    errors = [row for row in table.rows if row.error]
    if errors:
        lines += ["", "Clusters without a report:"]
        lines += [f"- {md(row.cluster)}: {md(row.error)}" for row in errors]
    lines.append("")
    return "\n".join(lines).encode("utf-8")
