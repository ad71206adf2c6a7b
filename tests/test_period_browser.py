"""The period HTML report in Debian's chromium, headless and offline: no console error, charts drawn, prints.

Uses the harness of ``test_html_browser`` (console lines from chromium's log, a control page that
proves the harness sees them).  ``PATCHLEVEL_REGEN_GOLDEN=1`` copies the screenshot to
docs/period-report.png, the image the README shows.  Skips, saying what to install, without chromium.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger_scenario import END, START, build_ledger
from patchlevel.ledger.run import period_report
from patchlevel.policy import Policy
from patchlevel.render.period_html import render_period_html
from test_html_browser import CHROMIUM, chromium, rendered_text
from test_render_reports import REGENERATE, ROOT

SCREENSHOT = ROOT / "docs" / "period-report.png"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium) so the browser test skips"
)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("period-browser")
    url = f"sqlite:///{root / 'ledger.db'}"
    build_ledger(url, root)
    report = period_report(url, None, START, END, policy=Policy(), generated_at=datetime(2026, 12, 7, tzinfo=UTC))
    path = root / "period.html"
    path.write_bytes(render_period_html(report))
    return path


def test_chromium_renders_the_period_report_without_console_errors(tmp_path: Path, page: Path) -> None:
    dom, console = chromium(tmp_path, page, "--dump-dom")
    assert console == []
    text = rendered_text(dom)
    assert "patchlevel period report: ledger-story" in text
    assert re.search(r"PCI-CG-10\.2 PCI SSC Container Guidance v1\.0 FAIL Node host operating systems", text)
    assert "Open fixable critical and high vulnerabilities over time" in text
    assert "Scan coverage over time" in text and "Nodes by support state over time" in text
    assert "Kernel rollout: node.kubernetes.io/pool=workers" in text
    assert "2026-02-10 2026-02-20 11" in text  # the gap table
    assert dom.count("<svg") >= 4


def test_screenshot_and_pdf(tmp_path: Path, page: Path) -> None:
    shot = tmp_path / "period.png"
    _, console = chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1200,2200")
    assert console == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    if REGENERATE:
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        SCREENSHOT.write_bytes(data)
    pdf = tmp_path / "period.pdf"
    _, console = chromium(tmp_path, page, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert console == []
    assert pdf.read_bytes().startswith(b"%PDF")


def test_the_readme_screenshot_is_committed() -> None:
    assert SCREENSHOT.is_file(), f"run PATCHLEVEL_REGEN_GOLDEN=1 pytest {__file__} to make it"
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
