"""The Markdown summary: short, every requirement, waived counted apart, safe table cells."""

from __future__ import annotations

import dataclasses

from patchlevel.model import Finding, Severity, Status
from patchlevel.render.markdown import MAX_ROWS, render_markdown
from test_render_reports import demo_report, generated_report


def test_summary_counts_waived_apart_and_lists_every_requirement() -> None:
    report = demo_report()
    text = render_markdown(report).decode()
    assert "1 waived (counted apart)" in text
    for requirement in report.requirements:
        assert f"| {requirement.id} |" in text
    assert "- waiver W-RT-1 (owner platform-team\\@example.com): expired on 2026-10-31" in text
    assert "- waiver W-GONE-1 (owner platform-team\\@example.com): matched no finding" in text


def test_it_stays_short_on_a_large_report() -> None:
    text = render_markdown(generated_report()).decode()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) <= MAX_ROWS
    assert len(text) < 20_000


def test_table_cells_survive_pipes_and_newlines() -> None:
    report = demo_report()
    odd = Finding("node_os_supported", Status.FAIL, Severity.HIGH, "node/a|b", "line one\n| line two", remediation="x")
    text = render_markdown(dataclasses.replace(report, findings=(odd,))).decode()
    row = next(line for line in text.splitlines() if "node_os_supported" in line)
    assert "node/a\\|b" in row and "line one \\| line two" in row
    assert row.count(" | ") == 4 + 0  # five cells: Status | Check | Where | Finding | Remediation
