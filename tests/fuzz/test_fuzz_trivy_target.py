"""Property test of how a Trivy result's target is split into the image and its OS (issue 14).

``importers.trivy._split_os_target`` replaced the regex ``^(?P<artifact>.+?) \\((?P<os>.+)\\)$``,
which backtracked quadratically on a hostile target; it must say what the regex said, in linear time.
"""

from __future__ import annotations

import re

from fuzz_settings import FUZZ
from hypothesis import given
from hypothesis import strategies as st

from patchlevel.importers.trivy import _split_os_target

THE_REGEX = re.compile(r"^(?P<artifact>.+?) \((?P<os>.+)\)$")
PIECES = [" (", "(", ")", " ", "a", "alpine 3.9.4", "img", "é"]


def _by_the_regex(target: str) -> tuple[str, str] | None:
    match = THE_REGEX.match(target)
    return (match["artifact"], match["os"]) if match else None


@FUZZ
@given(
    st.lists(st.sampled_from(PIECES), max_size=12).map("".join) | st.text(max_size=40).filter(lambda t: "\n" not in t)
)
def test_the_split_is_the_regex(target: str) -> None:
    assert _split_os_target(target) == _by_the_regex(target)


def test_real_targets() -> None:
    assert _split_os_target("registry/app:1.0 (alpine 3.9.4)") == ("registry/app:1.0", "alpine 3.9.4")
    assert _split_os_target("img (amazon 2 (Karoo))") == ("img", "amazon 2 (Karoo)")
    assert _split_os_target("app/libs/commons-compress-1.14.jar") is None
    assert _split_os_target(" (x)") is None and _split_os_target("a ()") is None
