"""Renderers: pure functions from a Report to text or bytes, one per output format."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum

from patchlevel.model import Report
from patchlevel.render.json import render_json
from patchlevel.render.terminal import render_terminal


class Format(StrEnum):
    TERMINAL = "terminal"
    JSON = "json"


# Each format's renderer and the file extension used when writing into a directory.
RENDERERS: Mapping[Format, Callable[[Report], bytes]] = {
    Format.TERMINAL: lambda report: render_terminal(report).encode(),
    Format.JSON: render_json,
}
EXTENSIONS: Mapping[Format, str] = {
    Format.TERMINAL: "txt",
    Format.JSON: "json",
}


def render(report: Report, fmt: Format) -> bytes:
    return RENDERERS[fmt](report)
