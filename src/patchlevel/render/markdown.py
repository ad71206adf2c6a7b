"""A short Markdown summary for tickets and merge-request comments.

Every requirement of the mapping with its verdict, the counts (waived apart), the worst groups of
findings that need action with their remediation, and waivers that need attention.  The HTML and
JSON reports hold the rest.

Every string that is not patchlevel's own markup goes through ``_cell`` (``markdown_text``): one
line, control characters visible, cut at ``MAX_FIELD_CHARS``, and every character that could open
Markdown or HTML (emphasis, code, links, images, raw HTML, entities, table cells, bare-URL and
e-mail autolinks) escaped.  A node named ``<script>…</script>`` or ``[x](https://…)`` is shown as
written; the only markup in the document is patchlevel's own.
"""

from __future__ import annotations

import re

from patchlevel.model import Report, Status, requirement_results
from patchlevel.render.groups import ACTION_STATUSES, grouped_by_check, subject_kind, subject_names
from patchlevel.render.text import markdown_text
from patchlevel.render.vex import vex_rows, vex_summary

_IDENTIFIER = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
MAX_ROWS = 15  # groups in the "needs action" table
MAX_NAMES = 3


def _cell(text: str) -> str:
    """Input text as inert Markdown, safe inside a table cell or a heading: one line, nothing active."""
    return markdown_text(text)


def _code(text: str) -> str:
    """An identifier of ours (check id, digest) as a code span; anything else as inert text."""
    return f"`{text}`" if _IDENTIFIER.fullmatch(text) else _cell(text)


def _verdict(word: str) -> str:
    return "not assessed by patchlevel" if word == "not-assessed" else f"**{word.upper()}**"


def render_markdown(report: Report) -> bytes:
    cluster = report.cluster
    lifecycle = report.lifecycle
    counts = {s: 0 for s in Status}
    for finding in report.findings:
        counts[finding.status] += 1
    lines = [
        f"## patchlevel: {_cell(cluster.name or '(unnamed cluster)')} as of {report.as_of}",
        "",
        f"Kubernetes {_cell(cluster.version or 'version unknown')} ({_cell(cluster.distribution)}) · "
        f"{cluster.nodes} nodes, {cluster.pods} pods, {cluster.images} images · "
        + (f"lifecycle data {lifecycle.retrieved}" if lifecycle else "no lifecycle data")
        + f" · patchlevel {_cell(report.tool_version)}",
        "",
        f"**{counts[Status.FAIL]} fail**, {counts[Status.ERROR]} error, {counts[Status.UNKNOWN]} unknown, "
        f"{counts[Status.WARN]} warn, {counts[Status.PASS]} pass; {counts[Status.WAIVED]} waived (counted apart)",
    ]
    if report.evidence_digest:
        lines += ["", f"Evidence bundle digest {_code(report.evidence_digest)}"]
    lines += ["", "| Requirement | Verdict | Title |", "| --- | --- | --- |"]
    for result in requirement_results(report):
        requirement = result.requirement
        lines.append(f"| {_cell(requirement.id)} | {_verdict(result.verdict)} | {_cell(requirement.title)} |")

    groups = [(check, group) for check in grouped_by_check(report, ACTION_STATUSES) for group in check.groups]
    lines.append("")
    if not groups:
        lines.append("Nothing needs action.")
    else:
        lines += [
            "### What needs action",
            "",
            "| Status | Check | Where | Finding | Remediation |",
            "| --- | --- | --- | --- | --- |",
        ]
        for check, group in groups[:MAX_ROWS]:
            finding = group.finding
            names, more = subject_names(group.subjects, MAX_NAMES)
            where = (
                _cell(finding.subject)
                if group.size == 1
                else f"{group.size} {_cell(subject_kind(group.subjects))}: {', '.join(_cell(n) for n in names)}"
                + (f", +{more} more" if more else "")
            )
            lines.append(
                f"| {finding.status.value.upper()} | {_code(check.check)} | {where} | {_cell(finding.message)} | "
                f"{_cell(finding.remediation)} |"
            )
        if len(groups) > MAX_ROWS:
            rest = groups[MAX_ROWS:]
            lines.append("")
            lines.append(
                f"+{len(rest)} more groups ({sum(g.size for _, g in rest)} findings): see the HTML or JSON report."
            )
    if report.scan_coverage:
        lines += ["", f"Scan coverage: {_cell('; '.join(c.text() for c in report.scan_coverage))}."]
    vex = vex_rows(report)
    if vex:
        lines += ["", f"VEX: {_cell(vex_summary(vex))}."]
        for row in vex[:MAX_NAMES]:
            what = f"{_cell(row.vulnerability)} ({_cell(row.package)})"
            lines.append(f"- {_cell(row.subject)} {what}: {_cell(row.statement)}")
        if len(vex) > MAX_NAMES:
            lines.append(f"- +{len(vex) - MAX_NAMES} more: see the HTML or JSON report.")
    attention = [w for w in report.waivers if w.expired or w.matched == 0]
    if report.waivers:
        waived = counts[Status.WAIVED]
        lines += [
            "",
            f"Waivers: {len(report.waivers)} in the policy; {waived} finding{'' if waived == 1 else 's'} waived.",
        ]
        for outcome in attention:
            waiver = outcome.waiver
            label = waiver.id or f"{waiver.check} {waiver.subject}"
            state = f"expired on {waiver.expires}" if outcome.expired else "matched no finding"
            lines.append(f"- waiver {_cell(label)} (owner {_cell(waiver.owner)}): {state}")
    lines.append("")
    return "\n".join(lines).encode("utf-8")
