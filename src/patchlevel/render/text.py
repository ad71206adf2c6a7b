"""Input strings made safe to show: control characters visible, absurd lengths cut, markup inert.

Everything a report prints may come from the cluster or a scanner report (node names, versions,
kernel strings, image references, paths, scanner messages), so every renderer passes such text
through here before it reaches a terminal, a Markdown renderer or an XML file:

* ``visible`` writes control characters as escapes (``\\x1b``, ``\\u202e``): C0 and C1 controls,
  DEL, lone surrogates, the Unicode line and paragraph separators, bidirectional overrides and
  isolates, zero-width and other invisible format characters, and the XML non-characters
  U+FFFE/U+FFFF.  An escape sequence from the input is shown, never executed by the terminal;
  a right-to-left override cannot reorder what follows it.
* ``cut`` keeps the first ``MAX_FIELD_CHARS`` characters of a field and says how long it was, so
  a 20 MB kernel string costs the terminal and Markdown renderers no more than a 2,000-character
  one (the JSON report keeps every value whole: it is data, not a display).
* ``markdown_text`` makes text inert in CommonMark and GitHub Flavored Markdown: it escapes the
  characters that open inline constructs (emphasis, code, links, images, raw HTML, entities,
  strikethrough, math, table cells) and breaks the patterns of GFM's bare-URL and e-mail
  autolinks, so links in a Markdown report only ever come from patchlevel's own text.
"""

from __future__ import annotations

import re

# A field longer than this is cut in the terminal and Markdown reports (documented in README,
# "Reliability"): long enough for any real version, kernel, image reference or message.
MAX_FIELD_CHARS = 2000

_INVISIBLE_FORMAT = [
    *(0x061C, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0xFEFF),
    *range(0x2028, 0x202F),  # line/paragraph separators, bidi embeddings and overrides
    *range(0x2060, 0x2070),  # word joiner, invisible operators, bidi isolates
    *range(0xFFF9, 0xFFFC),  # interlinear annotation controls
    *(0xFFFE, 0xFFFF),
]


def _escape(code: int) -> str:
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


def cut(text: str, limit: int = MAX_FIELD_CHARS) -> str:
    """The first ``limit`` characters of ``text``, and a note saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [cut: {len(text):,} characters in all]"


def plain(text: object, limit: int = MAX_FIELD_CHARS) -> str:
    """One field as plain text for a display: cut to ``limit``, control characters made visible."""
    return visible(cut(str(text), limit))


# Characters that open inline Markdown constructs: backslash escapes, code spans, emphasis,
# links and images ([ and ]), raw HTML and autolinks (< >), entities (&), table cells (|),
# GFM strikethrough (~), math ($), ATX heading closers (#) and e-mail autolinks (@).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~$#@])")
# GFM's extended autolinks need no brackets: "www." and "scheme://".
_BARE_LINK = re.compile(r"(?i)(www)(\.)|(:)(//)")


def markdown_text(text: object, limit: int = MAX_FIELD_CHARS) -> str:
    """``text`` as inert, one-line Markdown: shown as written, never as markup, HTML or a link."""
    one_line = visible(" ".join(cut(str(text), limit).split()))  # line breaks and tabs become spaces
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", one_line)
    return _BARE_LINK.sub(lambda m: f"{m[1]}\\." if m[1] else "\\://", escaped)
