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

from patchlevel.text import visible

# A field longer than this is cut in the terminal and Markdown reports (documented in README,
# "Reliability"): long enough for any real version, kernel, image reference or message.
MAX_FIELD_CHARS = 2000

__all__ = ["MAX_FIELD_CHARS", "cut", "markdown_text", "plain", "visible"]


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
