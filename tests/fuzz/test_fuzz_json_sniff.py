"""Property test of the JSON sniffer that picks the decoder for every snapshot file (issue 14).

It once backtracked quadratically on a long blank run; tests/test_hostile_corpus.py and
tests/test_hostile_collect.py time that case, this one holds it to its definition.
"""

from __future__ import annotations

from fuzz_settings import FUZZ
from hypothesis import given
from hypothesis import strategies as st

from patchlevel.collect.decode import is_blank, looks_like_json

PIECES = [b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c", b"\xef\xbb\xbf", b"{", b"[", b"x", b"\xef", b"\x00"]


def _opens_json(data: bytes) -> bool:
    """The definition looks_like_json implements: blanks, an optional byte order mark, blanks, a bracket."""
    blanks = b" \t\n\r\f\v"
    rest = data.lstrip(blanks)
    if rest.startswith(b"\xef\xbb\xbf"):
        rest = rest[3:].lstrip(blanks)
    return rest[:1] in (b"[", b"{")


@FUZZ
@given(st.lists(st.sampled_from(PIECES)))
def test_looks_like_json_is_its_definition(parts: list[bytes]) -> None:
    data = b"".join(parts)
    assert looks_like_json(data) is _opens_json(data)
    assert is_blank(data) is (data.strip(b" \t\n\r\f\v") == b"")
