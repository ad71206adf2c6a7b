"""Properties of the version parsers (Kubernetes, runtimes, kernels, OS images): no exception on any
text, round-trips of what they print, and total orders where versions sort."""

from __future__ import annotations

import functools

from fuzz_settings import FUZZ
from hypothesis import example, given
from hypothesis import strategies as st

from patchlevel.versions import (
    MAX_COMPONENT,
    KernelVersion,
    KubeVersion,
    OsRelease,
    RuntimeVersion,
    kube_version_from_image,
    parse_kernel,
    parse_kube_version,
    parse_os_image,
    parse_runtime,
    release_key,
)

HUGE = "9" * 5000  # past int()'s 4,300-digit limit

digits = st.integers(min_value=0, max_value=MAX_COMPONENT).map(str)
long_digits = st.integers(min_value=21, max_value=6000).map(lambda n: "1" + "0" * (n - 1))
any_digits = st.one_of(digits, long_digits)
word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_+~", max_size=20)
version_like = st.builds(
    lambda v, a, b, c, pre, build: f"{v}{a}.{b}" + (f".{c}" if c else "") + (f"-{pre}" if pre else "")
    + (f"+{build}" if build else ""),
    st.sampled_from(["", "v"]), any_digits, any_digits, st.one_of(st.none(), any_digits), word, word,
)  # fmt: skip
hostile = st.one_of(
    st.text(max_size=300),
    version_like,
    st.builds(lambda a, b: a + b, version_like, st.text(max_size=50)),
    st.builds(lambda a, n, b: a + "7" * n + b, st.text(max_size=20), st.integers(1, 6000), st.text(max_size=20)),
)


@FUZZ
@given(hostile)
@example(f"v1.{HUGE}.0")
@example(f"v{HUGE}")
@example("v1.2.3-" + "a" * 10_000 + "+b")
def test_kube_versions_parse_or_are_none(text: str) -> None:
    parsed = parse_kube_version(text)
    assert parsed is None or isinstance(parsed, KubeVersion)
    if parsed is not None:
        assert all(0 <= n <= MAX_COMPONENT for n in parsed.semver_key)
        assert parse_kube_version(f"v{parsed.semver}") is not None  # what it prints parses again
        release_key(parsed.vendor_build)


@FUZZ
@given(digits, digits, digits)
def test_kube_versions_round_trip(major: str, minor: str, patch: str) -> None:
    parsed = parse_kube_version(f"v{major}.{minor}.{patch}")
    assert parsed is not None
    assert parsed.semver_key == (int(major), int(minor), int(patch))
    assert parsed.semver == f"{int(major)}.{int(minor)}.{int(patch)}"
    again = parse_kube_version(parsed.semver)
    assert again is not None and again.semver_key == parsed.semver_key


@FUZZ
@given(st.lists(st.tuples(digits, digits, digits), min_size=2, max_size=8))
def test_kube_versions_sort_as_their_numbers(triples: list[tuple[str, str, str]]) -> None:
    versions = [parse_kube_version(".".join(t)) for t in triples]
    assert all(v is not None for v in versions)
    by_key = sorted(versions, key=lambda v: v.key)  # type: ignore[union-attr]
    by_numbers = sorted(versions, key=lambda v: tuple(int(x) for x in v.semver.split(".")))  # type: ignore[union-attr]
    assert [v.semver_key for v in by_key] == [v.semver_key for v in by_numbers]  # type: ignore[union-attr]


@FUZZ
@given(hostile)
@example(f"containerd://1.{HUGE}.0")
@example(f"docker://{HUGE}")
def test_runtimes_parse_or_are_unknown(text: str) -> None:
    parsed = parse_runtime(text)
    assert parsed is None or isinstance(parsed, RuntimeVersion)
    if parsed is not None and parsed.numbers is not None:
        assert parsed.cycle is not None and parsed.semver is not None


@FUZZ
@given(st.sampled_from(["containerd", "cri-o", "docker"]), digits, digits, digits, word)
def test_runtimes_round_trip(name: str, major: str, minor: str, patch: str, suffix: str) -> None:
    suffix = suffix.lstrip("0123456789.")
    parsed = parse_runtime(f"{name}://{major}.{minor}.{patch}{('-' + suffix) if suffix else ''}")
    assert parsed is not None and parsed.numbers == (int(major), int(minor), int(patch))


@FUZZ
@given(hostile)
@example(f"5.{HUGE}.0-1-aws")
@example(f"6.1.0-{HUGE}.amzn2023.x86_64")
def test_kernels_parse_or_are_none(text: str) -> None:
    parsed = parse_kernel(text)
    assert parsed is None or isinstance(parsed, KernelVersion)
    if parsed is not None:
        assert all(0 <= n <= MAX_COMPONENT for n in parsed.numbers)


@FUZZ
@given(st.lists(digits, min_size=1, max_size=5), st.sampled_from(["", "-aws", ".el8_3.x86_64", "-generic"]))
def test_kernels_round_trip(numbers: list[str], flavour: str) -> None:
    parsed = parse_kernel(".".join(numbers) + flavour)
    assert parsed is not None
    assert parsed.numbers == tuple(int(n) for n in numbers)
    assert parsed.flavour == flavour.lstrip(".-")


@FUZZ
@given(hostile, st.sampled_from(["linux", "windows", ""]), hostile)
@example(f"Ubuntu {HUGE}.04 LTS", "linux", "")
@example(f"Windows Server {HUGE}", "windows", f"10.0.{HUGE}")
@example(f"Amazon Linux 2023.{HUGE}.20251208", "linux", "")
@example(f"Red Hat Enterprise Linux CoreOS 4{HUGE}.9{HUGE}.202410090854-0", "linux", "")
def test_os_images_never_raise(text: str, operating_system: str, kernel: str) -> None:
    release = parse_os_image(text, operating_system, kernel)
    assert isinstance(release, OsRelease)
    assert release.product is not None or release.reason  # unknown always says why


@FUZZ
@given(hostile)
@example(f"registry.k8s.io/kube-proxy:v1.{HUGE}.0")
def test_kube_proxy_image_tags_parse_or_are_none(image: str) -> None:
    parsed = kube_version_from_image(image)
    assert parsed is None or all(0 <= n <= MAX_COMPONENT for n in parsed.semver_key)


def _cmp(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    return (a > b) - (a < b)


@FUZZ
@given(st.lists(hostile, min_size=3, max_size=3))
def test_release_keys_are_a_total_order(texts: list[str]) -> None:
    keys = [release_key(t) for t in texts]
    a, b, c = keys
    assert _cmp(a, b) == -_cmp(b, a)
    if a <= b and b <= c:
        assert a <= c
    assert sorted(keys) == sorted(keys, key=functools.cmp_to_key(_cmp))


@FUZZ
@given(any_digits, any_digits)
def test_release_keys_follow_numeric_order(x: str, y: str) -> None:
    """Within 64 bits exactly numeric; longer runs rank above, by length (never a ValueError)."""
    kx, ky = release_key(x), release_key(y)
    if len(x) <= 20 and len(y) <= 20:
        assert _cmp(kx, ky) == _cmp((int(x),), (int(y),))
    elif len(x) <= 20 < len(y):
        assert kx < ky
    elif len(x) != len(y):
        assert _cmp(kx, ky) == _cmp((len(x),), (len(y),))
