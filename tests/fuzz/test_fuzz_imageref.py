"""Properties of the image reference and image ID parsers: only the documented InvalidReferenceError,
and references round-trip through their canonical form."""

from __future__ import annotations

from fuzz_settings import FUZZ
from hypothesis import example, given
from hypothesis import strategies as st

from patchlevel.imageref import ImageId, ImageRef, InvalidReferenceError, parse_digest, parse_image_id, parse_reference

HEX = "0123456789abcdef"
component = st.from_regex(r"\A[a-z0-9]{1,8}(?:(?:[._]|__|-{1,2})[a-z0-9]{1,8}){0,2}\Z")
host = st.one_of(
    st.from_regex(r"\A[a-z0-9]{1,10}(?:\.[a-z0-9]{1,10}){1,3}\Z"),
    st.just("localhost"),
    st.builds(lambda h, p: f"{h}:{p}", st.from_regex(r"\A[a-z]{1,8}\.[a-z]{2,4}\Z"), st.integers(1, 65535)),
)
tag = st.from_regex(r"\A\w[\w.-]{0,40}\Z").filter(lambda t: t.isascii())
digest = st.text(alphabet=HEX, min_size=64, max_size=64).map(lambda h: f"sha256:{h}")


@st.composite
def references(draw: st.DrawFn) -> str:
    registry = draw(st.one_of(st.none(), host))
    path = "/".join(draw(st.lists(component, min_size=1, max_size=3)))
    text = f"{registry}/{path}" if registry else path
    if draw(st.booleans()):
        text += f":{draw(tag)}"
    if draw(st.booleans()):
        text += f"@{draw(digest)}"
    return text


hostile = st.one_of(
    st.text(max_size=300),
    references(),
    st.builds(lambda r, junk: r + junk, references(), st.text(max_size=20)),
    st.builds(lambda junk, r: junk + r, st.text(max_size=20), references()),
)


@FUZZ
@given(hostile)
@example("a" * 100_000)
@example("a-" * 50_000 + "!")
@example("a." * 50_000 + "!/x")
@example("registry.example/app:1.0@sha256:" + "9" * 5000)
def test_references_parse_or_raise_the_documented_error(text: str) -> None:
    try:
        ref = parse_reference(text)
    except InvalidReferenceError as error:
        assert isinstance(error, ValueError) and error.value == text
        return
    assert isinstance(ref, ImageRef) and ref.raw == text


@FUZZ
@given(references())
def test_references_round_trip_through_their_canonical_form(text: str) -> None:
    try:
        ref = parse_reference(text)
    except InvalidReferenceError:
        return  # e.g. longer than 255 characters: refused, as the runtimes do
    again = parse_reference(ref.canonical)
    assert (again.registry, again.repository, again.tag, again.digest) == (
        ref.registry,
        ref.repository,
        ref.tag,
        ref.digest,
    )
    assert again.canonical == ref.canonical


@FUZZ
@given(
    st.one_of(hostile, st.builds(lambda s, r: s + r, st.sampled_from(["docker-pullable://", "docker://", ""]), hostile))
)
@example("docker://sha256:" + "a" * 64)
@example("sha256:" + "A" * 64)
def test_image_ids_parse_or_raise_the_documented_error(text: str) -> None:
    try:
        image_id = parse_image_id(text)
    except InvalidReferenceError:
        return
    assert isinstance(image_id, ImageId)
    assert not (image_id.digest and image_id.local_id)
    if image_id.digest is not None:
        assert parse_digest(image_id.digest) == image_id.digest


@FUZZ
@given(references(), digest)
def test_repo_digest_image_ids_name_their_registry_digest(text: str, pinned: str) -> None:
    name = text.split("@", 1)[0]
    try:
        parse_reference(name)
    except InvalidReferenceError:
        return
    image_id = parse_image_id(f"docker-pullable://{name}@{pinned}")
    assert image_id.digest == pinned and image_id.is_registry_digest
