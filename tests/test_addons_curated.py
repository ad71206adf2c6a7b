"""Curated lifecycle entries (lifecycle/data/curated): every fact dated and sourced, rules applied on the right days."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from patchlevel.errors import LifecycleError
from patchlevel.lifecycle.catalog import BUNDLED_DATA, Phase, load_catalog
from patchlevel.lifecycle.curated import (
    CuratedProduct,
    DateWindow,
    derive_cycles,
    load_curated,
    parse_curated,
    to_product,
)

CURATED = BUNDLED_DATA / "curated"
REQUIRED = {
    "coredns",
    "ingress-nginx",
    "metrics-server",
    "flannel",
    "kubernetes-csi-external-provisioner",
    "kubernetes-csi-external-attacher",
    "kubernetes-csi-external-resizer",
    "kubernetes-csi-external-snapshotter",
    "kubernetes-csi-livenessprobe",
}


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog(BUNDLED_DATA)


def test_every_curated_entry_has_a_source_and_a_date() -> None:
    products = load_curated(CURATED)
    assert {p.product for p in products} >= REQUIRED
    for product in products:
        assert product.retrieved <= date(2026, 12, 7), product.product
        assert product.policy_source.startswith("https://"), product.product
        assert product.policy.strip(), product.product
        for cycle in product.cycles:
            if cycle.released is None:
                assert cycle.note, (product.product, cycle.cycle)
            else:
                assert cycle.released_source.startswith("https://"), (product.product, cycle.cycle)
            if cycle.eol is not None:
                assert cycle.eol_source.startswith("https://"), (product.product, cycle.cycle)
        for release in product.releases:
            assert release.source.startswith("https://"), (product.product, release.version)
            assert release.date <= product.retrieved
        if product.retired is not None:
            assert product.retired.announcement.startswith("https://")
            assert product.retired.announced <= product.retrieved


def test_curated_products_join_the_catalog_without_replacing_endoflife_date(catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for product_id in REQUIRED:
        product = catalog.product(product_id)
        assert product is not None and product.curated, product_id
        assert product.retrieved == date(2026, 12, 7)
    assert not catalog.product("etcd").curated
    # A curated file for a product endoflife.date has: endoflife.date's data wins.
    data = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, data)
    (data / "curated" / "etcd.yaml").write_text(
        "product: etcd\nlabel: etcd (curated)\nretrieved: 2026-12-01\npolicy: test\n"
        "policy_source: https://example.org/policy\nsupport_rule: none\n"
    )
    assert load_catalog(data).product("etcd").label == "etcd"


# ------------------------------------------------------------------------------------------
# CoreDNS: the two newest minors are supported; N-2 ends when N is released


@pytest.mark.parametrize(
    ("cycle", "day", "phase"),
    [
        ("1.11", date(2025, 10, 5), Phase.ACTIVE),  # 1.13.0 released 2025-10-05: 1.11's last day
        ("1.11", date(2025, 10, 6), Phase.ENDED),
        ("1.12", date(2026, 1, 10), Phase.ACTIVE),  # 1.14.0 released 2026-01-10
        ("1.12", date(2026, 1, 11), Phase.ENDED),
        ("1.7", date(2022, 2, 1), Phase.ACTIVE),
        ("1.7", date(2022, 2, 2), Phase.ENDED),
        ("1.13", date(2026, 12, 7), Phase.ACTIVE),
        ("1.14", date(2026, 1, 9), Phase.UNRELEASED),
        # 1.10 ends when 1.12.0 came out, known only between 1.11.0 and 1.12.1: unknown inside the window
        ("1.10", date(2023, 7, 26), Phase.ACTIVE),
        ("1.10", date(2023, 7, 27), Phase.UNKNOWN),
        ("1.10", date(2025, 3, 24), Phase.UNKNOWN),
        ("1.10", date(2025, 3, 25), Phase.ENDED),
    ],
)
def test_coredns_support_follows_its_policy_day_by_day(catalog, cycle: str, day: date, phase: Phase) -> None:  # type: ignore[no-untyped-def]
    support = catalog.support("coredns", cycle, day)
    assert support.phase is phase, (cycle, day, support)


def test_coredns_window_reason_names_both_days(catalog) -> None:  # type: ignore[no-untyped-def]
    support = catalog.support("coredns", "1.10", date(2024, 6, 1))
    assert "between 2023-07-26 and 2025-03-24" in support.reason
    active = catalog.support("coredns", "1.10", date(2023, 7, 1))
    assert active.support_ends == date(2023, 7, 26)  # the earlier possible day is the one promised


def test_coredns_patch_releases_are_dated(catalog) -> None:  # type: ignore[no-untyped-def]
    patches = catalog.patches("coredns", "1.11", date(2026, 12, 7))
    assert [p.version for p in patches] == ["1.11.0", "1.11.1", "1.11.2", "1.11.3", "1.11.4"]
    assert catalog.release_date("coredns", "1.11.4") == date(2024, 11, 13)
    assert catalog.patches("coredns", "1.7", date(2026, 12, 7)) == ()  # not verified: none listed


# ------------------------------------------------------------------------------------------
# ingress-nginx: retired in March 2026 (the announcement gives the month, not the day)


@pytest.mark.parametrize(
    ("day", "phase"),
    [
        (date(2026, 2, 28), Phase.UNKNOWN),  # which lines were supported before is not recorded
        (date(2026, 3, 1), Phase.UNKNOWN),
        (date(2026, 3, 31), Phase.UNKNOWN),
        (date(2026, 4, 1), Phase.ENDED),
        (date(2026, 12, 7), Phase.ENDED),
    ],
)
def test_ingress_nginx_is_unsupported_after_its_retirement(catalog, day: date, phase: Phase) -> None:  # type: ignore[no-untyped-def]
    for line in ("1.0", "1.12", "1.15"):
        support = catalog.support("ingress-nginx", line, day)
        assert support.phase is phase, (line, day, support)
    if phase is Phase.ENDED:
        assert "retired" in support.reason and "2025-11-11" in support.reason
    else:
        assert "March 2026" in support.reason


def test_products_without_verified_dates_say_why(catalog) -> None:  # type: ignore[no-untyped-def]
    for product_id, words in (
        ("flannel", "latest release only"),
        ("metrics-server", "No support policy is published"),
        ("kubernetes-csi-external-provisioner", "at least one year"),
    ):
        support = catalog.support(product_id, "0.27", date(2026, 12, 7))
        assert support.phase is Phase.UNKNOWN
        assert words in support.reason, support.reason


# ------------------------------------------------------------------------------------------
# The rules, on constructed entries


def _product(rule: str, cycles: str, retired: str = "") -> CuratedProduct:
    return parse_curated(
        f"product: p\nlabel: P\nretrieved: 2026-12-01\npolicy: x\npolicy_source: https://example.org\n"
        f"support_rule: {rule}\ncycles:\n{cycles}{retired}",
        "test.yaml",
    )


CYCLES = (
    "  - {cycle: '1.0', released: 2024-01-10, released_source: 'https://example.org/1'}\n"
    "  - {cycle: '1.1', released: 2024-05-20, released_source: 'https://example.org/2'}\n"
    "  - {cycle: '1.2', released: 2025-09-01, released_source: 'https://example.org/3'}\n"
)


def _ends(product: CuratedProduct) -> dict[str, object]:
    out: dict[str, object] = {}
    for derived in derive_cycles(product):
        end = derived.end
        out[derived.name] = end if end is None or end is False else (end.earliest, end.latest)
    return out


def test_latest_only_ends_a_line_when_the_next_is_released() -> None:
    ends = _ends(_product("latest-only", CYCLES))
    assert ends == {
        "1.0": (date(2024, 5, 20), date(2024, 5, 20)),
        "1.1": (date(2025, 9, 1), date(2025, 9, 1)),
        "1.2": False,
    }


def test_csi_rule_takes_the_later_of_a_year_and_three_months_after_the_next_minor() -> None:
    ends = _ends(_product("csi-sidecar", CYCLES))
    assert ends["1.0"] == (date(2025, 1, 10), date(2025, 1, 10))  # a year beats 2024-08-20
    assert ends["1.1"] == (date(2025, 12, 1), date(2025, 12, 1))  # three months after 1.2 beats 2025-05-20
    assert ends["1.2"] is False


def test_retirement_bounds_every_line() -> None:
    retired = (
        "retired: {announced: 2025-06-01, announcement: 'https://example.org/r', "
        "last_day: {earliest: 2025-06-30, latest: 2025-07-31}, statement: gone}\n"
    )
    product = _product("latest-only", CYCLES, retired)
    ends = _ends(product)
    assert ends["1.0"] == (date(2024, 5, 20), date(2024, 5, 20))  # ended before the retirement
    assert ends["1.1"] == (date(2025, 6, 30), date(2025, 7, 31))
    assert ends["1.2"] == (date(2025, 6, 30), date(2025, 7, 31))
    built = to_product(product)
    assert built.retired_after == date(2025, 7, 31)


HEAD = "product: p\nlabel: P\nretrieved: 2026-12-01\npolicy: x\n"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (HEAD + "policy_source: http://x\nsupport_rule: none\n", "https"),
        (HEAD + "policy_source: https://x\nsupport_rule: sometimes\n", "support_rule"),
        (
            "product: p\nlabel: P\nretrieved: 2026-12-01\npolicy: x\npolicy_source: https://x\nsupport_rule: none\n"
            "cycles:\n  - {cycle: '1.0', released: 2024-01-01}\n",
            "cycle 1.0 released has no https source",
        ),
        (
            "product: p\nlabel: P\nretrieved: 2026-12-01\npolicy: x\npolicy_source: https://x\nsupport_rule: none\n"
            "cycles:\n  - {cycle: '1.0', note: n}\n  - {cycle: '1.0', note: n}\n",
            "listed twice",
        ),
        (
            "product: p\nlabel: P\nretrieved: 2026-12-01\npolicy: x\npolicy_source: https://x\nsupport_rule: none\n"
            "cycles:\n  - {cycle: '1.0', released: {earliest: 2024-02-01, latest: 2024-01-01}, released_source: 'https://x'}\n",
            "earliest is after latest",
        ),
        ("product: p\nlabel: P\nretrieved: 2026-13-01\n", "not valid YAML"),
        ("product: p\nlabel: P\nretrieved: 2026-12-01\nsurprise: 1\n", "surprise"),
        (
            "product: p\nlabel: P\nretrieved: 2026-12-01\npolicy: x\npolicy_source: https://x\nsupport_rule: none\n"
            "cycles:\n  - {cycle: '1.0'}\n",
            "no release date and no note",
        ),
    ],
)
def test_invalid_curated_files_name_the_file_and_the_problem(text: str, words: str) -> None:
    with pytest.raises(LifecycleError) as caught:
        parse_curated(text, "bad.yaml")
    assert "bad.yaml" in str(caught.value) and words in str(caught.value), str(caught.value)


def test_a_broken_curated_file_stops_loading_the_catalog(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, data)
    (data / "curated" / "zz.yaml").write_text("product: [\n")
    with pytest.raises(LifecycleError, match=r"zz\.yaml"):
        load_catalog(data)


def test_date_windows_are_read_from_yaml() -> None:
    window = "{earliest: 2024-01-01, latest: 2024-02-01}"
    product = _product("none", f"  - {{cycle: '2.0', released: {window}, released_source: 'https://x'}}\n")
    assert product.cycles[0].released == DateWindow(date(2024, 1, 1), date(2024, 2, 1))
