"""The terminal report caps rows per check so thousands of distinct findings stay readable."""

from __future__ import annotations

import dataclasses

from patchlevel.model import Finding, Severity, Status
from patchlevel.render.terminal import MAX_GROUPS_PER_CHECK, render_terminal
from test_render_reports import demo_report


def test_rows_per_check_are_capped_with_a_count_of_the_rest() -> None:
    report = demo_report()
    images = tuple(
        Finding(
            "fixable_vulnerabilities_patched_in_time",
            Status.FAIL if i % 3 else Status.UNKNOWN,
            Severity.CRITICAL,
            f"image/registry.example.com/app-{i:04d}@sha256:{i:064x}",
            f"{i + 1} fixable critical vulnerabilities open longer than 30 days",
        )
        for i in range(2000)
    )
    text = render_terminal(dataclasses.replace(report, findings=images), width=200)
    assert text.count("fixable critical vulnerabilities open longer") == MAX_GROUPS_PER_CHECK
    assert f"{2000 - MAX_GROUPS_PER_CHECK} more findings in {2000 - MAX_GROUPS_PER_CHECK} groups" in text
    assert "(see JSON/HTML)" in text
    actions = text[text.index("What needs action") :]
    assert actions.count("FAIL") == MAX_GROUPS_PER_CHECK and "UNKNOWN" not in actions  # the worst groups first


def test_waived_findings_have_their_own_column_and_row() -> None:
    text = render_terminal(demo_report(), width=200)
    header = next(line for line in text.splitlines() if "Requirement" in line and "Verdict" in line)
    assert "waived" in header
    assert "WAIVED" in text and "waived until 2027-03-31 by platform-team@example.com" in text
