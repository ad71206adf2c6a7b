"""Period report formats: one renderer per format, drawn from the same PeriodReport (a test covers every member)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum

from patchlevel.ledger.report import FleetTable, PeriodReport
from patchlevel.render.period_html import render_fleet_html, render_period_html
from patchlevel.render.period_json import render_fleet_json, render_period_json
from patchlevel.render.period_markdown import render_fleet_markdown, render_period_markdown, render_period_text
from patchlevel.render.period_oscal import render_period_oscal


class PeriodFormat(StrEnum):
    TERMINAL = "terminal"
    HTML = "html"
    JSON = "json"
    MARKDOWN = "markdown"
    OSCAL = "oscal"


PERIOD_RENDERERS: Mapping[PeriodFormat, Callable[[PeriodReport], bytes]] = {
    PeriodFormat.TERMINAL: render_period_text,
    PeriodFormat.HTML: render_period_html,
    PeriodFormat.JSON: render_period_json,
    PeriodFormat.MARKDOWN: render_period_markdown,
    PeriodFormat.OSCAL: render_period_oscal,
}
PERIOD_EXTENSIONS: Mapping[PeriodFormat, str] = {
    PeriodFormat.TERMINAL: "txt",
    PeriodFormat.HTML: "html",
    PeriodFormat.JSON: "json",
    PeriodFormat.MARKDOWN: "md",
    PeriodFormat.OSCAL: "oscal.json",
}
# The fleet table of ``period --all-clusters``; OSCAL and the terminal use the Markdown table.
FLEET_RENDERERS: Mapping[PeriodFormat, Callable[[FleetTable], bytes]] = {
    PeriodFormat.TERMINAL: render_fleet_markdown,
    PeriodFormat.HTML: render_fleet_html,
    PeriodFormat.JSON: render_fleet_json,
    PeriodFormat.MARKDOWN: render_fleet_markdown,
    PeriodFormat.OSCAL: render_fleet_json,
}


def render_period(report: PeriodReport, fmt: PeriodFormat) -> bytes:
    return PERIOD_RENDERERS[fmt](report)
