"""Properties of the registry's WWW-Authenticate parser (``registry.parse_challenges``): any header gives a
list of challenges without an exception, and challenges written per RFC 9110 read back as written."""

from __future__ import annotations

from fuzz_settings import FUZZ
from hypothesis import example, given
from hypothesis import strategies as st

from patchlevel.registry import Challenge, parse_challenges

scheme = st.from_regex(r"\A[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,12}\Z")
name = st.from_regex(r"\A[A-Za-z0-9_.-]{1,12}\Z")
quoted_value = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def challenge_lists(draw: st.DrawFn) -> list[tuple[str, dict[str, str]]]:
    challenges = []
    for _ in range(draw(st.integers(1, 3))):
        params = draw(st.dictionaries(name.map(str.lower), quoted_value, max_size=4))
        challenges.append((draw(scheme), params))
    return challenges


@FUZZ
@given(st.text(max_size=500))
@example('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull"')
@example('Bearer realm="unterminated')
@example("Bearer " + "a=" * 20_000)
@example('Bearer realm="' + "\\" * 20_001)
@example(", , ,Basic,,, realm=x,,")
def test_any_header_gives_challenges_without_an_exception(header: str) -> None:
    challenges = parse_challenges(header)
    assert all(isinstance(c, Challenge) and c.scheme == c.scheme.lower() and c.scheme for c in challenges)
    assert all(isinstance(k, str) and isinstance(v, str) for c in challenges for k, v in c.params.items())


@FUZZ
@given(challenge_lists(), st.sampled_from([", ", ",", " , "]))
def test_written_challenges_read_back(challenges: list[tuple[str, dict[str, str]]], separator: str) -> None:
    header = separator.join(
        f"{s} " + separator.join(f"{k}={_quote(v)}" for k, v in params.items()) if params else s
        for s, params in challenges
    )
    parsed = parse_challenges(header)
    assert [(c.scheme, dict(c.params)) for c in parsed] == [(s.lower(), params) for s, params in challenges]
