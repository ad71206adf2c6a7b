"""Text from outside made safe to show: every control or invisible format character written as an escape.

Everything patchlevel prints may come from a cluster, a scanner report or a file name: error lines,
``verify`` output, every report format.  ``visible`` writes C0 and C1 controls, DEL, lone surrogates,
the Unicode line and paragraph separators, bidirectional overrides and isolates, zero-width and other
invisible format characters, and the XML non-characters U+FFFE/U+FFFF as escapes (``\\x1b``,
``\\u202e``): an escape sequence from the input is shown, never executed by the terminal; a
right-to-left override cannot reorder what follows it; a newline cannot forge a second line.

The one place for this rule: errors, collectors and renderers all import it from here.
"""

from __future__ import annotations

import re

_INVISIBLE_FORMAT = [
    *(0x061C, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0xFEFF),
    *range(0x2028, 0x202F),  # line/paragraph separators, bidi embeddings and overrides
    *range(0x2060, 0x2070),  # word joiner, invisible operators, bidi isolates
    *range(0xFFF9, 0xFFFC),  # interlinear annotation controls
    *(0xFFFE, 0xFFFF),
]


_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


def _escape(code: int) -> str:
    if code in _NAMED:
        return _NAMED[code]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_CONTROLS: dict[int, str] = {
    code: _escape(code) for code in [*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0xD800, 0xE000), *_INVISIBLE_FORMAT]
}
_CONTROLS_KEEPING_LINES = {code: text for code, text in _CONTROLS.items() if code not in (0x09, 0x0A)}
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff" + "".join(chr(c) for c in _INVISIBLE_FORMAT) + "]")


def visible(text: str, *, keep_lines: bool = False) -> str:
    """``text`` with every control or invisible format character written as an escape.

    ``keep_lines`` keeps newlines and tabs (for multi-line text a renderer lays out itself).
    """
    if not _ANY_CONTROL.search(text):
        return text
    return text.translate(_CONTROLS_KEEPING_LINES if keep_lines else _CONTROLS)


