"""The one Jinja2 environment every HTML renderer draws with (audit report, plan, period report, fleet table).

Autoescaped, strict about undefined names, and every ``{{ … }}`` value passes ``finalize`` first: input text
with its control characters made visible (``patchlevel.text.visible``, lines kept), so an escape sequence or a
bidi override from a node name or a scanner message is shown, never obeyed.  Markup a macro made is ours and
passes unchanged.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from patchlevel.text import visible


def _finalize(value: Any) -> Any:
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return visible(value, keep_lines=True)
    return value


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("patchlevel.render", "templates"),
        autoescape=True,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
