"""Lifecycle catalog: phases by date (each field read by its meaning), patch lists, loading and its errors."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from builders import knowledge
from patchlevel.errors import LifecycleError
from patchlevel.lifecycle.catalog import (
    BUNDLED_DATA,
    Catalog,
    Phase,
    in_cycle,
    load_catalog,
    parse_product,
    support_on,
)
from patchlevel.lifecycle.update import AUDIT_PRODUCTS

DATA_DATE = date(2026, 8, 22)  # the bundled data's retrieval date (manifest.json)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return knowledge().catalog


def phase(catalog: Catalog, product: str, cycle: str, day: str) -> Phase:
    return catalog.support(product, cycle, date.fromisoformat(day)).phase


def test_bundled_data_date_and_products(catalog: Catalog) -> None:
    assert catalog.data_date == DATA_DATE
    for product in AUDIT_PRODUCTS:  # the products `lifecycle update` refreshes by default
        assert catalog.product(product) is not None, product
    assert catalog.age_days(date(2026, 11, 27)) == 97


# ------------------------------------------------------------------------------------------
# Phases by date


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-04-22", Phase.UNRELEASED),  # the day before 1.33's release
        ("2025-04-23", Phase.ACTIVE),
        ("2026-04-28", Phase.ACTIVE),  # last day of active support (inclusive)
        ("2026-04-29", Phase.MAINTENANCE),
        ("2026-06-28", Phase.MAINTENANCE),  # last day of support (inclusive)
        ("2026-06-29", Phase.ENDED),
    ],
)
def test_kubernetes_phases(catalog: Catalog, day: str, expected: Phase) -> None:
    assert phase(catalog, "kubernetes", "1.33", day) is expected


def test_kubernetes_support_details(catalog: Catalog) -> None:
    s = catalog.support("kubernetes", "1.33", date(2026, 5, 1))
    assert (s.phase_label, s.phase_ends, s.support_ends, s.extended_ends) == (
        "Maintenance Support",
        date(2026, 6, 28),
        date(2026, 6, 28),
        None,
    )
    assert s.released == date(2025, 4, 23)
    assert s.supported is True
    ended = catalog.support("kubernetes", "1.33", date(2026, 11, 27))
    assert (ended.phase, ended.supported, ended.phase_label) == (Phase.ENDED, False, "End of life")


def test_unreleased_cycle_is_neither_supported_nor_ended(catalog: Catalog) -> None:
    s = catalog.support("kubernetes", "1.36", date(2026, 1, 1))
    assert s.phase is Phase.UNRELEASED
    assert s.supported is None
    assert "released on 2026-04-22, after the as-of date" in s.reason


@pytest.mark.parametrize(
    ("day", "expected", "ends"),
    [
        ("2025-11-26", Phase.ACTIVE, date(2025, 11, 26)),  # last day of standard support
        ("2025-11-27", Phase.EXTENDED, date(2026, 11, 26)),
        ("2026-11-26", Phase.EXTENDED, date(2026, 11, 26)),  # last day of extended support
        ("2026-11-27", Phase.ENDED, None),
    ],
)
def test_eks_standard_then_extended_support(catalog: Catalog, day: str, expected: Phase, ends: date | None) -> None:
    s = catalog.support("amazon-eks", "1.31", date.fromisoformat(day))
    assert (s.phase, s.phase_ends) == (expected, ends)
    if expected is Phase.EXTENDED:
        assert s.phase_label == "Extended Support"
        assert s.supported is None  # neither standard support nor ended


def test_aks_lts_is_extended_support(catalog: Catalog) -> None:
    s = catalog.support("azure-kubernetes-service", "1.31", date(2026, 6, 1))
    assert (s.phase, s.phase_label, s.phase_ends) == (Phase.EXTENDED, "LTS Support", date(2026, 11, 30))
    assert s.support_ends == date(2025, 11, 1)
    before = catalog.support("azure-kubernetes-service", "1.31", date(2025, 6, 1))
    assert (before.phase, before.phase_label) == (Phase.ACTIVE, "Standard support")


def test_ubuntu_maintenance_then_esm(catalog: Catalog) -> None:
    maintenance = catalog.support("ubuntu", "20.04", date(2024, 1, 1))
    assert (maintenance.phase, maintenance.phase_label) == (Phase.MAINTENANCE, "Maintenance & Security Support")
    esm = catalog.support("ubuntu", "20.04", date(2026, 11, 27))
    assert (esm.phase, esm.phase_label, esm.phase_ends) == (
        Phase.EXTENDED,
        "Expanded Security Maintenance",
        date(2030, 4, 2),
    )
    gone = catalog.support("ubuntu", "20.10", date(2026, 11, 27))  # interim release: no ESM
    assert (gone.phase, gone.extended_ends) == (Phase.ENDED, None)


def test_eol_false_is_open_ended_and_says_as_of_when(catalog: Catalog) -> None:
    """docker-engine 29 has ``eol: false``: supported, no end date; after the data's date that is only as of it."""
    before = catalog.support("docker-engine", "29", date(2026, 8, 1))
    assert (before.phase, before.phase_ends, before.support_ends, before.reason) == (Phase.ACTIVE, None, False, "")
    after = catalog.support("docker-engine", "29", date(2026, 11, 27))
    assert after.phase is Phase.ACTIVE
    assert after.reason == "no end date announced as of 2026-08-22"


def test_eol_true_after_the_data_date_is_ended(catalog: Catalog) -> None:
    """fluent-bit 1.7 has ``eol: true``: ended by the data's date, on a day not recorded."""
    for day in (DATA_DATE, date(2026, 11, 27)):
        s = catalog.support("fluent-bit", "1.7", day)
        assert s.phase is Phase.ENDED
        assert s.reason == "end date not recorded; ended before 2026-08-22"


def test_eol_true_before_the_data_date_is_unknown(catalog: Catalog) -> None:
    """Before the data's date, ``true`` cannot say whether support had already ended: unknown, not ended."""
    s = catalog.support("fluent-bit", "1.7", date(2021, 6, 1))
    assert s.phase is Phase.UNKNOWN
    assert s.supported is None
    assert "had reached end of support by 2026-08-22" in s.reason
    assert "whether it had by 2021-06-01 is not known" in s.reason


def test_eoas_true_means_past_active_support(catalog: Catalog) -> None:
    """Kubernetes 1.17 has ``eoas: true`` and a dated eol: in maintenance until the eol date."""
    s = catalog.support("kubernetes", "1.17", date(2020, 6, 1))
    assert (s.phase, s.phase_ends) == (Phase.MAINTENANCE, date(2020, 12, 25))
    assert catalog.support("kubernetes", "1.17", date(2020, 12, 26)).phase is Phase.ENDED


def test_unknown_product_cycle_or_release(catalog: Catalog) -> None:
    nosuch = catalog.support("nosuch", "1.0", date(2026, 1, 1))
    assert (nosuch.phase, nosuch.reason) == (Phase.UNKNOWN, "no lifecycle data for nosuch")
    no_cycle = catalog.support("kubernetes", None, date(2026, 1, 1))
    assert (no_cycle.phase, no_cycle.reason) == (Phase.UNKNOWN, "release not known")
    missing = catalog.support("kubernetes", "1.99", date(2026, 1, 1))  # newer than the data
    assert missing.phase is Phase.UNKNOWN
    assert missing.reason == "Kubernetes 1.99 is not in the lifecycle data (retrieved 2026-08-22)"


# ------------------------------------------------------------------------------------------
# Patch releases


def test_patches_exclude_releases_after_the_as_of_date(catalog: Catalog) -> None:
    patches = catalog.patches("kubernetes", "1.33", date(2025, 9, 8))
    assert [p.version for p in patches] == ["1.33.0", "1.33.1", "1.33.2", "1.33.3", "1.33.4"]
    assert patches[-1].date == date(2025, 8, 13)
    on_release_day = catalog.patches("kubernetes", "1.33", date(2025, 9, 9))
    assert on_release_day[-1].version == "1.33.5"  # released on the as-of date: included
    everything = catalog.patches("kubernetes", "1.33", date(2026, 11, 27))
    assert (len(everything), everything[-1].version, everything[-1].date) == (14, "1.33.13", date(2026, 6, 11))


def test_patches_order_numerically_and_stay_in_their_line(catalog: Catalog) -> None:
    patches = [p.version for p in catalog.patches("kubernetes", "1.3", date(2026, 1, 1))]
    assert patches[-1] == "1.3.10"  # not "1.3.9": numeric, not text order
    assert len(patches) == 11
    assert all(v.startswith("1.3.") for v in patches)  # nothing of 1.30-1.36


def test_patches_of_vendor_builds_and_docker_lines(catalog: Catalog) -> None:
    gke = catalog.patches("google-kubernetes-engine", "1.33", date(2026, 11, 27))
    assert gke and all(p.version.startswith("1.33.") and "-gke." in p.version for p in gke)
    keys = [tuple(int(x) for x in p.version.replace("-gke.", ".").split(".")) for p in gke]
    assert keys == sorted(keys)
    docker = [p.version for p in catalog.patches("docker-engine", "17.03", date(2026, 1, 1))]
    assert docker[-1] == "17.03.2"


def test_patches_unknown_product_is_empty(catalog: Catalog) -> None:
    assert catalog.patches("nosuch", "1.0", date(2026, 1, 1)) == ()
    assert catalog.patches("kubernetes", "1.99", date(2026, 1, 1)) == ()


def test_release_date(catalog: Catalog) -> None:
    assert catalog.release_date("kubernetes", "1.33.5") == date(2025, 9, 9)
    assert catalog.release_date("kubernetes", "9.9.9") is None
    assert catalog.release_date("nosuch", "1.0.0") is None


@pytest.mark.parametrize(
    ("version", "cycle", "expected"),
    [
        ("1.33.13", "1.33", True),
        ("1.33.13-gke.1499000", "1.33", True),
        ("1.31-eks-64", "1.31", True),
        ("1.33", "1.33", True),
        ("1.3.1", "1.33", False),
        ("1.33.1", "1.3", False),
        ("1.3.1", "1.3", True),
        ("17.03.2", "17.03", True),
        ("27.5.1", "27", True),
        ("2023.9", "2", False),
        ("2.1.5", "2", True),
    ],
)
def test_in_cycle(version: str, cycle: str, expected: bool) -> None:
    assert in_cycle(version, cycle) is expected


def test_code_names(catalog: Catalog) -> None:
    ubuntu = catalog.product("ubuntu")
    assert ubuntu is not None
    groovy = ubuntu.cycle_by_codename("Groovy Gorilla")
    assert groovy is not None and groovy.name == "20.10"
    jammy = ubuntu.cycle_by_codename("jammy")
    assert jammy is not None and jammy.name == "22.04"
    assert ubuntu.cycle_by_codename("Hungry Hippo") is None


# ------------------------------------------------------------------------------------------
# Reading product files


def product_doc(**release: Any) -> dict[str, Any]:
    entry = {"releaseCycle": "1.0", "releaseDate": "2024-01-01", **release}
    return {"product": "demo", "label": "Demo", "front_matter": {"eoesColumn": "Paid Support"}, "releases": [entry]}


def test_constructed_product_phases() -> None:
    product = parse_product(product_doc(eol="2025-01-01", eoes="2026-01-01"), None, "demo.json")
    cycle = product.cycles[0]
    assert (cycle.eoas, cycle.eol, cycle.eoes) == (None, date(2025, 1, 1), date(2026, 1, 1))
    assert product.column_labels == {"eoas": None, "eol": "Security Support", "eoes": "Paid Support"}
    extended = support_on(product, cycle, date(2025, 6, 1), date(2026, 1, 1))
    assert (extended.phase, extended.phase_label) == (Phase.EXTENDED, "Paid Support")
    assert support_on(product, cycle, date(2026, 1, 2), date(2026, 1, 1)).phase is Phase.ENDED


def test_eol_true_with_open_extended_support() -> None:
    product = parse_product(product_doc(eol=True, eoes="2030-01-01"), None, "demo.json")
    s = support_on(product, product.cycles[0], date(2025, 1, 1), date(2026, 1, 1))
    assert (s.phase, s.phase_ends) == (Phase.EXTENDED, date(2030, 1, 1))


def test_eoes_column_switched_off_means_no_extended_phase() -> None:
    doc = product_doc(eol="2025-01-01", eoes="2026-01-01")
    doc["front_matter"] = {"eoesColumn": False}
    product = parse_product(doc, None, "demo.json")
    assert support_on(product, product.cycles[0], date(2025, 6, 1), date(2026, 1, 1)).phase is Phase.ENDED


def test_release_versions_are_merged_with_latest() -> None:
    product = parse_product(
        product_doc(eol="2030-01-01", latest="1.0.3", latestReleaseDate="2024-03-01"),
        {"versions": {"1.0.1": {"date": "2024-01-15"}, "1.0.2": {"date": "2024-02-01"}, "bad": {"date": None}}},
        "demo.json",
    )
    catalog = Catalog({"demo": product}, DATA_DATE, Path("."), False, "test")
    assert [p.version for p in catalog.patches("demo", "1.0", date(2024, 12, 31))] == ["1.0.1", "1.0.2", "1.0.3"]
    assert [p.version for p in catalog.patches("demo", "1.0", date(2024, 2, 15))] == ["1.0.1", "1.0.2"]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"releases": []}, r"^x\.json: not a lifecycle product file: Object missing required field `product`$"),
        ({"product": "x", "releases": {"a": 1}}, r"Expected `array`, got `object` - at `\$\.releases`$"),
        (
            {"product": "x", "releases": [{"eol": "2020-01-01"}]},
            r"Object missing required field `releaseCycle` - at `\$\.releases\[0\]`$",
        ),
        (
            {"product": "x", "releases": [{"releaseCycle": "1", "eol": "next year"}]},
            r"Expected a YYYY-MM-DD date - at `\$\.releases\[0\]\.eol`$",
        ),
        (
            {"product": "x", "releases": [{"releaseCycle": "1", "eol": "2026-02-30"}]},
            r"Expected a YYYY-MM-DD date - at `\$\.releases\[0\]\.eol`$",
        ),
        ({"product": "x", "releases": [], "front_matter": [1]}, r"got `array` - at `\$\.front_matter`$"),
        (
            {"product": "x", "releases": [{"releaseCycle": "1", "eol": True}, {"releaseCycle": "1", "eol": False}]},
            r"^x\.json: release '1' is listed more than once - at `\$\.releases\[1\]\.releaseCycle`$",
        ),
        ({"product": "x", "releases": [{"releaseCycle": 1.1}]}, r"got `float` - at `\$\.releases\[0\]\.releaseCycle`"),
    ],
)
def test_invalid_product_files(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(LifecycleError, match=message):
        parse_product(doc, None, "x.json")


def test_load_catalog_errors(tmp_path: Path) -> None:
    with pytest.raises(LifecycleError, match=r"no manifest\.json"):
        load_catalog(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"products": {}}), encoding="utf-8")
    with pytest.raises(LifecycleError, match="does not say when the data was retrieved"):
        load_catalog(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"products": {"retrieved": "2026-01-01"}}), encoding="utf-8")
    with pytest.raises(LifecycleError, match="holds no lifecycle products"):
        load_catalog(tmp_path)
    (tmp_path / "products").mkdir()
    (tmp_path / "products" / "broken.json").write_text('{"product": ', encoding="utf-8")
    with pytest.raises(LifecycleError, match="is not valid JSON"):
        load_catalog(tmp_path)


def test_load_catalog_from_a_copy(tmp_path: Path) -> None:
    copy = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, copy)
    catalog = load_catalog(copy)
    assert (catalog.bundled, catalog.data_dir, catalog.data_date) == (False, copy, DATA_DATE)
    assert catalog.support("kubernetes", "1.33", date(2026, 1, 1)).phase is Phase.ACTIVE


def test_data_dir_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATCHLEVEL_DATA_DIR", str(tmp_path))
    with pytest.raises(LifecycleError, match=str(tmp_path)):
        load_catalog()


def test_reading_and_updating_agree_on_the_data_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    from patchlevel.lifecycle.catalog import resolve_data_dir
    from patchlevel.lifecycle.update import update_target

    environ = {"PATCHLEVEL_DATA_DIR": "~/pl-data", "HOME": "/home/u"}
    monkeypatch.setenv("HOME", "/home/u")
    monkeypatch.setenv("PATCHLEVEL_DATA_DIR", "~/pl-data")
    assert resolve_data_dir() == (Path("/home/u/pl-data"), False)
    assert update_target(None, environ) == Path("/home/u/pl-data")
    monkeypatch.delenv("PATCHLEVEL_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", "/xdg")
    assert update_target(None, {"XDG_DATA_HOME": "/xdg"}) == Path("/xdg/patchlevel/lifecycle")
