"""The HTML report in a real browser: Debian's chromium, headless, renders it offline without console errors.

Console messages (errors, and Content-Security-Policy violations such as a blocked network load)
are read from chromium's log on stderr (``--enable-logging=stderr --v=0`` prints each one as a
``CONSOLE`` line); a control page proves that the harness does see them.  The test also saves a
screenshot and a PDF print.  ``PATCHLEVEL_REGEN_GOLDEN=1`` copies the screenshot to docs/report.png,
the image the README shows.

Skips, saying what to install, when chromium is absent (CI installs it: ``apt-get install chromium``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from patchlevel.render.html import render_html
from test_render_reports import REGENERATE, ROOT, demo_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]
SCREENSHOT = ROOT / "docs" / "report.png"
TIMEOUT = 120

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium) so the browser test skips"
)


def chromium(tmp_path: Path, page: Path, *extra: str) -> tuple[str, list[str]]:
    """Run headless chromium on a local page; return stdout and the console lines it logged."""
    assert CHROMIUM is not None
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line or "CONSOLE(" in line]
    return done.stdout, console


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skip += tag in ("style", "title")

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in ("style", "title")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def rendered_text(dom: str) -> str:
    parser = _Text()
    parser.feed(dom)
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_bytes(render_html(demo_report()))
    return path


def test_the_harness_sees_console_errors_and_blocked_loads(tmp_path: Path) -> None:
    page = tmp_path / "control.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "script-src 'unsafe-inline'\"></head><body><p>control</p>"
        '<img src="http://192.0.2.1/x.png"><script>console.error("control error")</script></body></html>'
    )
    _, console = chromium(tmp_path, page, "--dump-dom")
    assert any("control error" in line for line in console), console
    assert any("192.0.2.1" in line for line in console), console


def test_chromium_renders_the_report_without_console_errors(tmp_path: Path, report_page: Path) -> None:
    dom, console = chromium(tmp_path, report_page, "--dump-dom")
    assert console == []
    text = rendered_text(dom)
    assert "patchlevel evidence report: demo-cluster" in text
    assert "As-of date 2026-11-27" in text
    assert re.search(r"FAIL PCI-CG-10\.1: Orchestration tool components are supported and patched", text)
    assert "PCI-CG-10.3" in text and "Verdict per PCI container guidance item" in text
    assert "Nodes by Kubernetes release line and support status" in text
    assert "What needs action" in text and "Appendix A: Waivers" in text
    assert "W-OS-1" in text
    assert "<svg" in dom  # the charts survived parsing


def test_screenshot_and_pdf(tmp_path: Path, report_page: Path) -> None:
    shot = tmp_path / "report.png"
    _, console = chromium(tmp_path, report_page, f"--screenshot={shot}", "--window-size=1280,1800")
    assert console == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    if REGENERATE:
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        SCREENSHOT.write_bytes(data)
    pdf = tmp_path / "report.pdf"
    _, console = chromium(tmp_path, report_page, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert console == []
    document = pdf.read_bytes()
    assert document.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", document))
    assert 3 <= pages <= 40, pages


def test_the_readme_screenshot_is_committed() -> None:
    assert SCREENSHOT.is_file(), f"run PATCHLEVEL_REGEN_GOLDEN=1 pytest {__file__} to make it"
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
