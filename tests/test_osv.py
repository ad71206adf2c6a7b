"""The Kubernetes OSV feed: ranges read pairwise (never assumed sorted), ``introduced: "0"``, several packages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from builders import knowledge
from patchlevel.errors import LifecycleError
from patchlevel.lifecycle.catalog import BUNDLED_DATA
from patchlevel.lifecycle.osv import OsvFeed, feed_coverage_note, load_osv, parse_record

KUBELET = ("k8s.io/kubelet",)
APISERVER = ("k8s.io/apiserver",)


@pytest.fixture(scope="module")
def feed() -> OsvFeed:
    return knowledge().osv


def ids(feed: OsvFeed, packages: tuple[str, ...], version: str) -> list[str]:
    return sorted(m.id for m in feed.affecting(packages, version))


def osv(cve: str, *affected: tuple[str, list[dict[str, str]]], severity: str = "") -> dict[str, Any]:
    """An OSV record as kubernetes-sigs/cve-feed-osv writes them (one SEMVER range per package)."""
    doc: dict[str, Any] = {
        "id": cve,
        "summary": f"summary of {cve}",
        "published": "2023-08-23T00:00:00Z",
        "affected": [
            {"package": {"ecosystem": "kubernetes", "name": name}, "ranges": [{"type": "SEMVER", "events": events}]}
            for name, events in affected
        ],
        "references": [{"type": "WEB", "url": f"https://example.invalid/{cve}"}],
    }
    if severity:
        doc["severity"] = [{"type": "CVSS_V3", "score": severity}]
    return doc


def test_bundled_feed(feed: OsvFeed) -> None:
    assert len(feed.records) == 31
    assert feed.last_updated == "2023-09-22"
    assert feed.newest == "CVE-2024-3177"
    note = feed_coverage_note(feed)
    assert "CVE-2024-3177" in note and "2023-09-22" in note and "not none at all" in note


def test_descending_pairs_of_a_real_record(feed: OsvFeed) -> None:
    """CVE-2023-3955 lists 1.28 first and goes down: each introduced/fixed pair is its own interval."""
    for version, affected in [
        ("1.28.0", True),
        ("1.28.1", False),
        ("1.27.4", True),
        ("1.27.5", False),
        ("1.25.12", True),
        ("1.25.13", False),
        ("1.24.16", True),
        ("1.24.17", False),
        ("1.23.17", False),  # below the lowest introduced
    ]:
        assert ("CVE-2023-3955" in ids(feed, KUBELET, version)) is affected, version
    match = next(m for m in feed.affecting(KUBELET, "1.25.3") if m.id == "CVE-2023-3955")
    assert (match.package, match.fixed_in) == ("k8s.io/kubelet", "1.25.13")


def test_introduced_zero_last_in_an_unsorted_record(feed: OsvFeed) -> None:
    """CVE-2020-8552: [1.17.0, 1.17.3), [1.16.0, 1.16.7), then [0, 1.15.10) written last."""
    assert "CVE-2020-8552" in ids(feed, APISERVER, "1.2.0")
    assert "CVE-2020-8552" in ids(feed, APISERVER, "1.15.9")
    assert "CVE-2020-8552" not in ids(feed, APISERVER, "1.15.10")
    assert "CVE-2020-8552" not in ids(feed, APISERVER, "1.16.7")
    assert "CVE-2020-8552" in ids(feed, APISERVER, "1.16.6")
    assert "CVE-2020-8552" not in ids(feed, APISERVER, "1.18.0")
    fixes = {m.id: m.fixed_in for m in feed.affecting(APISERVER, "1.16.2")}
    assert fixes["CVE-2020-8552"] == "1.16.7"


def test_introduced_zero_means_every_earlier_version(feed: OsvFeed) -> None:
    assert "CVE-2018-1002102" in ids(feed, APISERVER, "0.1.0")
    assert "CVE-2018-1002102" in ids(feed, APISERVER, "1.12.1")
    assert "CVE-2018-1002102" not in ids(feed, APISERVER, "1.12.2")


def test_real_matches_for_a_kubelet(feed: OsvFeed) -> None:
    assert ids(feed, ("k8s.io/kubelet", "k8s.io/kubernetes"), "1.25.3") == ["CVE-2023-2431", "CVE-2023-3955"]
    assert ids(feed, ("k8s.io/kubelet", "k8s.io/kubernetes"), "1.31.13") == []


def test_no_match_for_other_packages(feed: OsvFeed) -> None:
    assert ids(feed, ("k8s.io/kubectl",), "1.25.3") == []
    assert ids(feed, ("sigs.k8s.io/nosuch",), "1.0.0") == []


def test_constructed_unsorted_record_like_cve_2023_3676() -> None:
    """The shape NOTES.md describes for CVE-2023-3676: pairs from 1.28 downwards."""
    events = [
        {"introduced": "1.28.0"},
        {"fixed": "1.28.1"},
        {"introduced": "1.27.0"},
        {"fixed": "1.27.5"},
        {"introduced": "1.26.0"},
        {"fixed": "1.26.8"},
        {"introduced": "0"},
        {"fixed": "1.25.13"},
    ]
    record = parse_record(osv("CVE-2023-3676", ("k8s.io/kubelet", events)), "CVE-2023-3676.json")
    feed = OsvFeed((record,), "", record.id)
    expected = {"1.28.0": "1.28.1", "1.27.4": "1.27.5", "1.26.0": "1.26.8", "1.20.0": "1.25.13", "1.25.12": "1.25.13"}
    for version, fixed in expected.items():
        matches = feed.affecting(KUBELET, version)
        assert [m.fixed_in for m in matches] == [fixed], version
    for version in ("1.28.1", "1.27.5", "1.26.8", "1.25.13", "1.29.0"):
        assert feed.affecting(KUBELET, version) == [], version


def test_several_packages_in_one_record() -> None:
    """A CVE of two components matches either, and is reported once per version."""
    record = parse_record(
        osv(
            "CVE-2099-0001",
            ("k8s.io/kubelet", [{"introduced": "1.20.0"}, {"fixed": "1.20.5"}]),
            ("k8s.io/kube-proxy", [{"introduced": "1.20.0"}, {"fixed": "1.20.6"}]),
            severity="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ),
        "x.json",
    )
    assert set(record.packages) == {"k8s.io/kubelet", "k8s.io/kube-proxy"}
    feed = OsvFeed((record,), "", record.id)
    both = feed.affecting(("k8s.io/kubelet", "k8s.io/kube-proxy"), "1.20.5")
    assert [(m.package, m.fixed_in) for m in both] == [("k8s.io/kube-proxy", "1.20.6")]
    once = feed.affecting(("k8s.io/kubelet", "k8s.io/kube-proxy"), "1.20.1")
    assert len(once) == 1
    assert once[0].severity.startswith("CVSS:3.1/")
    assert once[0].url == "https://example.invalid/CVE-2099-0001"


def test_last_affected_and_open_ranges() -> None:
    record = parse_record(
        osv(
            "CVE-2099-0002",
            ("k8s.io/apiserver", [{"introduced": "1.10.0"}, {"last_affected": "1.10.4"}, {"introduced": "1.30.0"}]),
        ),
        "y.json",
    )
    feed = OsvFeed((record,), "", record.id)
    assert [m.fixed_in for m in feed.affecting(APISERVER, "1.10.4")] == [None]
    assert feed.affecting(APISERVER, "1.10.5") == []
    assert len(feed.affecting(APISERVER, "1.99.0")) == 1  # introduced, never fixed


def test_ranges_of_other_types_are_skipped() -> None:
    doc = osv("CVE-2099-0003", ("k8s.io/apiserver", [{"introduced": "0"}]))
    doc["affected"][0]["ranges"][0]["type"] = "GIT"
    record = parse_record(doc, "z.json")
    assert OsvFeed((record,), "", record.id).affecting(APISERVER, "1.0.0") == []


def test_load_osv_from_a_directory(tmp_path: Path) -> None:
    (tmp_path / "CVE-2099-0001.json").write_text(
        json.dumps(osv("CVE-2099-0001", ("k8s.io/kubelet", [{"introduced": "0"}, {"fixed": "1.2.0"}]))),
        encoding="utf-8",
    )
    (tmp_path / "last_updated.json").write_text('{"k8s-vulndb": "2024-05-01T00:00:00Z"}', encoding="utf-8")
    feed = load_osv(tmp_path)
    assert (len(feed.records), feed.last_updated, feed.newest) == (1, "2024-05-01", "CVE-2099-0001")


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "cannot read OSV record"), ('{"affected": [{"ranges": []}]}', "not an OSV record")],
)
def test_broken_records(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "CVE-2099-9999.json").write_text(content, encoding="utf-8")
    with pytest.raises(LifecycleError, match=message):
        load_osv(tmp_path)


def test_bundled_directory_is_what_the_audit_loads() -> None:
    assert len(load_osv(BUNDLED_DATA / "osv").records) == len(knowledge().osv.records)
