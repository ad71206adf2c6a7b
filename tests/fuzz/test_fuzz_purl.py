"""Properties of the one purl parser (``patchlevel.purl.parse_purl``, shared by VEX and host SBOM readers):
never raises on any text, and round-trips every component it claims when they are percent-encoded as the
purl specification writes them."""

from __future__ import annotations

from urllib.parse import quote

from fuzz_settings import FUZZ
from hypothesis import example, given
from hypothesis import strategies as st

from patchlevel.purl import MAX_PURL_TEXT, Purl, parse_purl

# Any text a document may hold in a purl field (no lone surrogates: JSON decoders give none).
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=24)
types = st.from_regex(r"\A[A-Za-z][A-Za-z0-9.+-]{0,9}\Z")
keys = st.from_regex(r"\A[a-z][a-z0-9._-]{0,9}\Z")
segment = texts.filter(lambda s: s not in (".", ".."))


def _encode(text: str) -> str:
    return quote(text, safe="")


@st.composite
def purls(draw: st.DrawFn) -> tuple[str, Purl]:
    kind = draw(types)
    namespace = draw(st.lists(texts, max_size=3))
    name = draw(texts)
    version = draw(st.one_of(st.just(""), texts))
    qualifiers = draw(st.dictionaries(keys, texts, max_size=3))
    subpath = draw(st.lists(segment, max_size=2))
    text = "pkg:" + "/".join([kind, *(_encode(n) for n in namespace), _encode(name)])
    text += f"@{_encode(version)}" if version else ""
    text += "?" + "&".join(f"{k}={_encode(v)}" for k, v in qualifiers.items()) if qualifiers else ""
    text += "#" + "/".join(_encode(s) for s in subpath) if subpath else ""
    expected = Purl(kind.lower(), "/".join(namespace), name, version, qualifiers, text, "/".join(subpath))
    return text, expected


hostile = st.one_of(
    st.text(max_size=300),
    st.builds(lambda t: "pkg:" + t, st.text(max_size=200)),
    st.from_regex(r"\Apkg:[a-z]{1,5}/[^?#]{0,30}(@[^?#]{0,10})?(\?[^#]{0,30})?(#.{0,10})?\Z"),
    purls().map(lambda pair: pair[0]),
    st.builds(lambda pair, junk: pair[0] + junk, purls(), st.text(max_size=20)),
)


@FUZZ
@given(hostile)
@example("pkg:")
@example("pkg:/")
@example("pkg:oci/")
@example("pkg:oci/@")
@example("pkg:npm/@angular/core")
@example("pkg:oci/a%ZZ@%")
@example("pkg:oci/" + "a" * (MAX_PURL_TEXT + 1))
@example("pkg:rpm/x?=&&=v&k")
def test_any_text_is_a_purl_or_none(text: str) -> None:
    parsed = parse_purl(text)
    if parsed is not None:
        assert parsed.name and parsed.type == parsed.type.lower()
        assert all(k == k.lower() and k and v for k, v in parsed.qualifiers.items())
        assert parsed.raw == text.strip()


@FUZZ
@given(purls())
def test_encoded_components_round_trip(pair: tuple[str, Purl]) -> None:
    text, expected = pair
    assert parse_purl(text) == expected


@FUZZ
@given(purls(), st.sampled_from(["pkg:", "PKG:", "pkg://", "pkg:/"]), st.sampled_from(["", " ", "\n"]))
def test_scheme_case_slashes_and_surrounding_space_do_not_change_the_components(
    pair: tuple[str, Purl], scheme: str, space: str
) -> None:
    text, expected = pair
    written = space + scheme + text[len("pkg:") :] + space
    parsed = parse_purl(written)
    assert parsed is not None
    assert (parsed.type, parsed.namespace, parsed.name, parsed.version, parsed.qualifiers, parsed.subpath) == (
        expected.type,
        expected.namespace,
        expected.name,
        expected.version,
        expected.qualifiers,
        expected.subpath,
    )
