"""Renderers: pure functions from a Report to bytes, one per output format.

Every format is drawn from the same Report; a test asserts each ``Format`` member has a renderer
and a file extension.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum

from patchlevel.model import Report
from patchlevel.render.html import render_html
from patchlevel.render.json import iter_json, render_json
from patchlevel.render.junit import render_junit
from patchlevel.render.markdown import render_markdown
from patchlevel.render.oscal import render_oscal
from patchlevel.render.prometheus import render_prometheus
from patchlevel.render.terminal import render_terminal


class Format(StrEnum):
    TERMINAL = "terminal"
    JSON = "json"
    HTML = "html"
    JUNIT = "junit"
    OSCAL = "oscal"
    MARKDOWN = "markdown"
    PROMETHEUS = "prometheus"


# Each format's renderer and the file extension used when writing into a directory.
RENDERERS: Mapping[Format, Callable[[Report], bytes]] = {
    Format.TERMINAL: lambda report: render_terminal(report).encode(),
    Format.JSON: render_json,
    Format.HTML: render_html,
    Format.JUNIT: render_junit,
    Format.OSCAL: render_oscal,
    Format.MARKDOWN: render_markdown,
    Format.PROMETHEUS: render_prometheus,
}
EXTENSIONS: Mapping[Format, str] = {
    Format.TERMINAL: "txt",
    Format.JSON: "json",
    Format.HTML: "html",
    Format.JUNIT: "junit.xml",
    Format.OSCAL: "oscal.json",
    Format.MARKDOWN: "md",
    Format.PROMETHEUS: "prom",
}


# Formats that can be written piece by piece (large reports never become one bytes object).
CHUNKED: Mapping[Format, Callable[[Report], Iterable[bytes]]] = {Format.JSON: iter_json}


def render(report: Report, fmt: Format) -> bytes:
    return RENDERERS[fmt](report)


def render_chunks(report: Report, fmt: Format) -> Iterable[bytes]:
    """The rendered report as pieces to write one after another."""
    chunked = CHUNKED.get(fmt)
    return chunked(report) if chunked is not None else (RENDERERS[fmt](report),)
