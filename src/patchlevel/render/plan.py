"""The plan's output formats: one renderer and one file extension per ``PlanFormat`` (a test covers each)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum

from patchlevel.plan.model import Plan
from patchlevel.render.plan_html import render_plan_html
from patchlevel.render.plan_json import render_plan_json
from patchlevel.render.plan_markdown import render_plan_markdown
from patchlevel.render.plan_terminal import render_plan_terminal


class PlanFormat(StrEnum):
    TERMINAL = "terminal"
    MARKDOWN = "markdown"
    JSON = "json"
    HTML = "html"


PLAN_RENDERERS: Mapping[PlanFormat, Callable[[Plan], bytes]] = {
    PlanFormat.TERMINAL: lambda plan: render_plan_terminal(plan).encode("utf-8", "backslashreplace"),
    PlanFormat.MARKDOWN: render_plan_markdown,
    PlanFormat.JSON: render_plan_json,
    PlanFormat.HTML: render_plan_html,
}
PLAN_EXTENSIONS: Mapping[PlanFormat, str] = {
    PlanFormat.TERMINAL: "txt",
    PlanFormat.MARKDOWN: "md",
    PlanFormat.JSON: "json",
    PlanFormat.HTML: "html",
}


def render_plan(plan: Plan, fmt: PlanFormat) -> bytes:
    return PLAN_RENDERERS[fmt](plan)
