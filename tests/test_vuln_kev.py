"""CISA KEV: the real catalog (subset in tests/data/kev, the trimmed bundled copy), lookups by date."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from patchlevel.errors import LifecycleError
from patchlevel.lifecycle.catalog import BUNDLED_DATA
from patchlevel.vuln.kev import KEPT_FIELDS, kev_stale_warning, load_kev, load_kev_data, parse_kev, trim_kev

SUBSET = Path(__file__).parent / "data" / "kev" / "known_exploited_vulnerabilities.json"
BUNDLED = BUNDLED_DATA / "kev" / "known_exploited_vulnerabilities.json"


def test_the_real_catalog_subset() -> None:
    catalog = load_kev(SUBSET)
    assert (catalog.version, catalog.released, len(catalog)) == ("2025.08.25", date(2025, 8, 25), 27)
    log4j = catalog.lookup("cve-2021-44228 ")
    assert log4j is not None
    assert (log4j.vendor_project, log4j.product, log4j.date_added, log4j.due_date) == (
        "Apache",
        "Log4j2",
        date(2021, 12, 10),
        date(2021, 12, 24),
    )
    assert log4j.known_ransomware is True
    assert log4j.describe() == "known exploited (CISA KEV, added 2021-12-10, federal due date 2021-12-24)"
    unknown_use = catalog.lookup("CVE-2025-48384")
    assert unknown_use is not None and unknown_use.known_ransomware is None  # "Unknown" is not "no"
    assert catalog.lookup("CVE-1999-0001") is None


def test_an_entry_added_after_the_as_of_date_is_not_known_yet() -> None:
    catalog = load_kev(SUBSET)
    assert catalog.lookup("CVE-2021-44228", date(2021, 12, 9)) is None
    assert catalog.lookup("CVE-2021-44228", date(2021, 12, 10)) is not None


def test_the_bundled_copy_is_trimmed_and_dated() -> None:
    catalog = load_kev(BUNDLED)
    assert (catalog.version, len(catalog), catalog.retrieved) == ("2025.08.25", 1404, date(2025, 8, 25))
    assert catalog.source.startswith("cisagov/kev-data commit eacf03ec")
    stored = json.loads(BUNDLED.read_bytes())
    assert {key for entry in stored["vulnerabilities"] for key in entry} == set(KEPT_FIELDS)
    assert load_kev(BUNDLED).entries["CVE-2021-44228"] == load_kev(SUBSET).entries["CVE-2021-44228"]


def test_trim_reads_back_to_the_same_catalog() -> None:
    data = SUBSET.read_bytes()
    trimmed = trim_kev(data, source="https://example.invalid/kev.json", retrieved=date(2025, 8, 26), where="t")
    again = parse_kev(trimmed, "trimmed")
    assert again.entries == parse_kev(data, "full").entries
    assert (again.source, again.retrieved) == ("https://example.invalid/kev.json", date(2025, 8, 26))
    assert len(trimmed) < len(data)


def test_stale_warning() -> None:
    catalog = load_kev(SUBSET)
    assert kev_stale_warning(catalog, date(2025, 9, 1), 90) is None
    warning = kev_stale_warning(catalog, date(2026, 12, 7), 90)
    assert warning is not None and "2025.08.25 of 2025-08-25, 469 days before the as-of date" in warning


def edited(change: str) -> bytes:
    doc = json.loads(SUBSET.read_bytes())
    if change == "count":
        doc["count"] = 28
    elif change == "cve":
        doc["vulnerabilities"][0]["cveID"] = "CVE-25-1"
    elif change == "date":
        doc["vulnerabilities"][0]["dateAdded"] = "25 August 2025"
    elif change == "future":
        doc["vulnerabilities"][0]["dateAdded"] = "2025-09-01"
    elif change == "empty":
        doc["vulnerabilities"], doc["count"] = [], 0
    elif change == "released":
        doc["dateReleased"] = "soon"
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("count", r"says it holds 28 entries but lists 27 \(a truncated download\?\)"),
        ("cve", r"vulnerabilities\[0\].cveID 'CVE-25-1' is not a CVE id"),
        ("date", r"Invalid RFC3339 encoded date - at `\$.vulnerabilities\[0\].dateAdded`"),
        ("future", r"added on 2025-09-01, after the catalog's release date 2025-08-25"),
        ("empty", r"lists no vulnerabilities"),
        ("released", r"dateReleased 'soon' is not a date"),
    ],
)
def test_invalid_catalogs_name_the_problem(change: str, message: str) -> None:
    with pytest.raises(LifecycleError, match=message):
        parse_kev(edited(change), "kev.json")


def test_not_json_and_not_kev() -> None:
    with pytest.raises(LifecycleError, match=r"^kev.json: not valid JSON"):
        parse_kev(b"<html>", "kev.json")
    with pytest.raises(LifecycleError, match=r"^kev.json: not a CISA KEV catalog: Object missing required field"):
        parse_kev(b'{"title": "x"}', "kev.json")


def test_load_from_a_data_directory_or_the_bundled_fallback(tmp_path: Path) -> None:
    assert load_kev_data(tmp_path) is None
    bundled = load_kev_data(tmp_path, fallback=BUNDLED_DATA)
    assert bundled is not None and len(bundled) == 1404
    (tmp_path / "kev").mkdir()
    (tmp_path / "kev" / "known_exploited_vulnerabilities.json").write_bytes(SUBSET.read_bytes())
    own = load_kev_data(tmp_path, fallback=BUNDLED_DATA)
    assert own is not None and len(own) == 27
