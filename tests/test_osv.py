"""The CVE feed: Go vulnerability database + kubernetes-sigs/cve-feed-osv, merged by CVE alias.

Real records (``tests/data/vulndb``, the bundled data) for every trap the Go database's SOURCES.md
names, and constructed records for the range logic (pairs out of order, ``last_affected``, GIT).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from builders import knowledge
from patchlevel.errors import LifecycleError
from patchlevel.lifecycle.catalog import BUNDLED_DATA
from patchlevel.lifecycle.osv import (
    ADDON_MODULES,
    GO_MODULES,
    GO_SOURCE,
    OsvFeed,
    build_feed,
    component_text,
    concerns_control_plane,
    concerns_kubelet,
    decode_record,
    feed_coverage_note,
    feed_stale_warning,
    load_cve_feed,
    load_osv,
    parse_record,
    record_from,
    runtime_packages,
    version_key,
)

RECORDS = Path(__file__).parent / "data" / "vulndb" / "served" / "ID"
KUBELET = ("k8s.io/kubelet",)
APISERVER = ("k8s.io/apiserver",)


@pytest.fixture(scope="module")
def feed() -> OsvFeed:
    return knowledge().osv


def go_feed(*ids: str) -> OsvFeed:
    """A feed of real Go records from tests/data/vulndb (no cve-feed-osv)."""
    records = []
    for vuln_id in ids:
        path = RECORDS / f"{vuln_id}.json"
        record = record_from(decode_record(path.read_bytes(), str(path)), str(path), GO_SOURCE)
        assert record is not None, vuln_id
        records.append(record)
    return build_feed([(records, None, [])])


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


def single(record: dict[str, Any]) -> OsvFeed:
    parsed = parse_record(record, "constructed.json")
    return OsvFeed((parsed,), "", parsed.id)


# ------------------------------------------------------------------------------------------
# The bundled data


def test_bundled_feed_merges_both_sources(feed: OsvFeed) -> None:
    assert [(s.name, s.covered_until, s.records) for s in feed.sources] == [
        ("Go vulnerability database", date(2026, 8, 21), 337),
        ("kubernetes-sigs/cve-feed-osv", date(2023, 9, 22), 31),
    ]
    assert feed.covered_until == date(2026, 8, 21)
    assert feed.last_updated == "2026-08-21"
    assert feed.newest == "CVE-2026-73499"
    assert len(feed.records) == 346  # 338 Go records (one withdrawn) + 31 feed records, merged by CVE
    assert feed.skipped == ("GO-2022-0617 (Go vulnerability database, withdrawn 2024-08-21)",)
    both = next(r for r in feed.records if r.id == "CVE-2023-2431")
    assert both.sources == ("GO-2023-1864 (Go vulnerability database)", "CVE-2023-2431 (kubernetes-sigs/cve-feed-osv)")
    assert both.aliases == ("GO-2023-1864", "GHSA-xc8m-28vv-4pjc")
    assert both.severity.startswith("CVSS:3.1/")  # the Go database does not score; the feed's score is kept
    assert both.published == date(2023, 6, 15)  # the Go copy's placeholder date is unknown, the feed's is real


def test_coverage_note_states_the_date_and_the_attribution(feed: OsvFeed) -> None:
    note = feed_coverage_note(feed)
    assert "Go vulnerability database to 2026-08-21 (337 records)" in note
    assert "kubernetes-sigs/cve-feed-osv to 2023-09-22 (31 records)" in note
    assert "no match means none known as of 2026-08-21" in note
    assert "Go Vulnerability Database, https://vuln.go.dev, CC-BY-4.0" in note
    assert "2024" not in note.split("cve-feed-osv")[0]  # no "ends in 2024"
    later = feed_coverage_note(feed, date(2026, 12, 7))
    assert later.endswith("CC-BY-4.0") and "108 days before the as-of date 2026-12-07" in later


def test_stale_warning(feed: OsvFeed) -> None:
    assert feed_stale_warning(feed, date(2026, 11, 19), 90) is None
    warning = feed_stale_warning(feed, date(2026, 12, 7), 90)
    assert warning is not None
    assert warning.startswith("CVE data covers to 2026-08-21, 108 days before the as-of date 2026-12-07")
    assert "run 'patchlevel lifecycle update'" in warning


def test_load_osv_names_the_folder_and_reads_its_sibling(feed: OsvFeed) -> None:
    assert load_osv(BUNDLED_DATA / "osv").records == feed.records
    assert load_cve_feed(BUNDLED_DATA).records == feed.records


def test_a_data_directory_without_vulndb_falls_back_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "osv").mkdir()
    alone = load_cve_feed(tmp_path)
    assert alone.records == ()
    assert [(s.name, s.records, s.covered_until) for s in alone.sources] == [("kubernetes-sigs/cve-feed-osv", 0, None)]
    with_bundled = load_cve_feed(tmp_path, fallback=BUNDLED_DATA)
    assert [s.name for s in with_bundled.sources] == ["Go vulnerability database", "kubernetes-sigs/cve-feed-osv"]


# ------------------------------------------------------------------------------------------
# Kubernetes: 2025 CVEs, components, staging modules


def test_a_2025_patch_line_that_missed_2025_fixes(feed: OsvFeed) -> None:
    found = {m.id: m for m in feed.kubernetes("1.33.3").affected}
    assert set(found) == {"CVE-2024-7598", "CVE-2025-1767", "CVE-2025-5187", "CVE-2025-13281"}
    assert found["CVE-2025-5187"].fixed_in == "1.33.4"
    assert found["CVE-2025-13281"].fixed_in == "1.33.6"
    assert found["CVE-2024-7598"].fixed_in is None  # introduced 1.3.0, never fixed in the module
    assert found["CVE-2025-5187"].fixes == ("1.31.12", "1.32.8", "1.33.4")
    assert feed.kubernetes("1.33.6").affected == feed.kubernetes("1.34.2").affected  # only the unfixed remain


def test_components_from_imports_text_and_feed_package_names(feed: OsvFeed) -> None:
    found = {m.id: m for m in feed.kubernetes("1.31.0").affected + feed.kubernetes("1.24.0").affected}
    checkpoint = found["CVE-2025-0426"]
    assert checkpoint.components == ("kubelet",)
    assert checkpoint.component_basis == "imports k8s.io/kubernetes/pkg/kubelet/server"
    assert found["CVE-2025-13281"].components == ("kube-controller-manager",)
    assert found["CVE-2025-13281"].component_basis == "summary/details name kube-controller-manager"
    assert found["CVE-2025-5187"].components == ()
    assert component_text(found["CVE-2025-5187"]) == "component not stated (counted for the control plane)"
    assert found["CVE-2023-2431"].components == ("kubelet",)  # the feed's package k8s.io/kubelet, and the Go text
    assert found["CVE-2025-1767"].components == ("node",)  # "GitRepo Volume": node side, component not named
    assert found["CVE-2022-3162"].components == ("kube-apiserver",)  # feed package k8s.io/apiserver


def test_which_role_a_cve_concerns(feed: OsvFeed) -> None:
    found = {m.id: m for m in feed.kubernetes("1.24.0").affected}
    assert concerns_control_plane(found["CVE-2023-2727"]) and not concerns_kubelet(found["CVE-2023-2727"])
    assert concerns_kubelet(found["CVE-2023-2431"]) and not concerns_control_plane(found["CVE-2023-2431"])
    assert concerns_control_plane(found["CVE-2023-5528"])  # nothing stated: control plane
    assert not concerns_kubelet(found["CVE-2023-5528"])
    kubectl = {m.id: m for m in feed.kubernetes("1.25.0").affected}["CVE-2021-25743"]
    assert kubectl.components == ("kubectl",)
    assert not concerns_control_plane(kubectl) and not concerns_kubelet(kubectl)


def test_windows_container_logs_are_the_node_side(feed: OsvFeed) -> None:
    """CVE-2024-5321 (GO-2024-2994, bundled real record): "Kubernetes sets incorrect permissions on Windows
    containers logs" names no component, but the logs are the kubelet's, on Windows nodes: node side."""
    match = {m.id: m for m in feed.kubernetes("1.30.2").affected}["CVE-2024-5321"]
    assert match.aliases == ("GO-2024-2994", "GHSA-82m2-cv7p-4m75")
    assert match.components == ("node",)
    assert match.component_basis == "summary/details name node"
    assert concerns_kubelet(match) and not concerns_control_plane(match)
    assert component_text(match) == "node"


def test_staging_module_versions_are_0_x_y() -> None:
    """CVE-2023-3955 names k8s.io/mount-utils with 0.28.1 for Kubernetes 1.28.1."""
    only_staging = go_feed("GO-2023-2170")
    record = only_staging.records[0]
    assert [p.name for p in record.affected] == ["k8s.io/kubernetes", "k8s.io/mount-utils"]
    match = only_staging.kubernetes("1.28.0").affected[0]
    assert (match.id, match.fixed_in) == ("CVE-2023-3955", "1.28.1")
    assert only_staging.kubernetes("1.28.1").affected == ()
    # asked by module path, the staging module keeps its own version scheme
    assert [m.fixed_in for m in only_staging.affecting(("k8s.io/mount-utils",), "0.27.4")] == ["0.27.5"]


def test_vendor_and_distribution_modules() -> None:
    """k3s and RKE2 ranges sit in ecosystem_specific.custom_ranges; the SEMVER range is a placeholder."""
    k3s = go_feed("GO-2025-3646", "GO-2026-5973", "GO-2024-3222")
    found = {m.id: m.fixed_in for m in k3s.kubernetes("1.32.3", "k3s").affected}
    assert found == {"CVE-2025-46599": "1.32.4-rc1", "CVE-2026-54250": "1.33.10"}  # 1.32 got no etcd fix
    assert [m.id for m in k3s.kubernetes("1.32.4", "k3s").affected] == ["CVE-2026-54250"]  # after 1.32.4-rc1
    etcd = k3s.kubernetes("1.34.5", "k3s").affected
    assert [(m.id, m.fixed_in) for m in etcd] == [("CVE-2026-54250", "1.34.6")]
    assert k3s.kubernetes("1.34.5").affected == ()  # not a k3s cluster: its module is not asked
    rke2 = k3s.kubernetes("1.29.5", "rke2").affected
    assert [(m.id, m.fixed_in) for m in rke2] == [("GO-2024-3222", "1.29.6")]  # no CVE alias: its Go id


# ------------------------------------------------------------------------------------------
# Runtimes and add-ons


def test_containerd_1_and_2_are_different_modules() -> None:
    feed = go_feed("GO-2025-4100", "GO-2025-3528", "GO-2026-5378")
    v1 = {m.id: m.fixed_in for m in feed.assess(runtime_packages("containerd", (1, 7, 27))[0], "1.7.27").affected}
    assert v1 == {"CVE-2024-25621": "1.7.29", "CVE-2026-46680": "1.7.32"}
    v2 = {m.id: m.fixed_in for m in feed.assess(runtime_packages("containerd", (2, 1, 3))[0], "2.1.3").affected}
    assert v2 == {"CVE-2024-25621": "2.1.5", "CVE-2026-46680": "2.2.4"}


def test_docker_incompatible_versions_and_the_v2_module() -> None:
    feed = go_feed("GO-2022-0390", "GO-2025-3830", "GO-2026-4887")
    packages, why = runtime_packages("docker", (20, 10, 7))
    assert (packages, why) == (("github.com/docker/docker", "github.com/moby/moby"), "")
    found = {m.id: m.fixed_in for m in feed.assess(packages, "20.10.7").affected}
    assert found == {"CVE-2022-24769": "20.10.14", "CVE-2026-34040": None}  # "+incompatible" dropped
    assert {m.id for m in feed.assess(packages, "28.3.2").affected} == {"CVE-2025-54388", "CVE-2026-34040"}
    none, why = runtime_packages("docker", (29, 1, 0))
    assert none == () and "github.com/moby/moby/v2" in why


def test_add_on_api_by_module_path() -> None:
    """ingress-nginx: controller releases in custom_ranges; a pseudo-version fix is undetermined, never a pass."""
    feed = go_feed("GO-2025-3567", "GO-2026-4796")
    answer = feed.assess(("k8s.io/ingress-nginx",), "1.12.0")
    assert [(m.id, m.fixed_in) for m in answer.affected] == [("CVE-2025-1974", "1.12.1")]
    assert [m.id for m in answer.undetermined] == ["CVE-2026-4342"]
    assert "0.0.0-20260319175635-5183b7d86137" in answer.undetermined[0].undetermined
    assert "pseudo-version" in answer.undetermined[0].undetermined
    later = feed.assess(("k8s.io/ingress-nginx",), "v1.12.1")
    assert later.affected == () and [m.id for m in later.undetermined] == ["CVE-2026-4342"]
    assert feed.affecting(("k8s.io/ingress-nginx",), "1.12.0") == list(answer.affected)


def test_a_version_that_is_not_semver_is_undetermined() -> None:
    feed = go_feed("GO-2022-0354")
    answer = feed.assess(("github.com/cri-o/cri-o",), "Unknown")
    assert answer.affected == ()
    assert [m.undetermined for m in answer.undetermined] == [
        "'Unknown' is not a version the ranges can be compared with"
    ]


def test_withdrawn_records_are_skipped(tmp_path: Path) -> None:
    path = RECORDS / "GO-2022-0617.json"
    assert record_from(decode_record(path.read_bytes(), str(path)), str(path), GO_SOURCE) is None
    with pytest.raises(LifecycleError, match="withdrawn"):
        parse_record(path.read_bytes(), str(path))


# ------------------------------------------------------------------------------------------
# Range logic on constructed records (cve-feed-osv shape)


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
        ("1.23.17", True),  # the Go record's range starts at 0 (the feed's at 1.24.0): merged, it is affected
    ]:
        assert ("CVE-2023-3955" in ids(feed, (*KUBELET, "k8s.io/kubernetes"), version)) is affected, version


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


def test_constructed_unsorted_record_like_cve_2023_3676() -> None:
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
    feed = single(osv("CVE-2023-3676", ("k8s.io/kubelet", events)))
    expected = {"1.28.0": "1.28.1", "1.27.4": "1.27.5", "1.26.0": "1.26.8", "1.20.0": "1.25.13", "1.25.12": "1.25.13"}
    for version, fixed in expected.items():
        assert [m.fixed_in for m in feed.affecting(KUBELET, version)] == [fixed], version
    for version in ("1.28.1", "1.27.5", "1.26.8", "1.25.13", "1.29.0"):
        assert feed.affecting(KUBELET, version) == [], version


def test_several_packages_in_one_record() -> None:
    feed = single(
        osv(
            "CVE-2099-0001",
            ("k8s.io/kubelet", [{"introduced": "1.20.0"}, {"fixed": "1.20.5"}]),
            ("k8s.io/kube-proxy", [{"introduced": "1.20.0"}, {"fixed": "1.20.6"}]),
            severity="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        )
    )
    assert feed.records[0].packages == ("k8s.io/kubelet", "k8s.io/kube-proxy")
    both = feed.affecting(("k8s.io/kubelet", "k8s.io/kube-proxy"), "1.20.5")
    assert [(m.package, m.fixed_in) for m in both] == [("k8s.io/kube-proxy", "1.20.6")]
    once = feed.affecting(("k8s.io/kubelet", "k8s.io/kube-proxy"), "1.20.1")
    assert len(once) == 1 and once[0].fixed_in == "1.20.6"  # the later fix clears both
    assert once[0].components == ("kubelet", "kube-proxy")
    assert once[0].severity.startswith("CVSS:3.1/")
    assert once[0].url == "https://example.invalid/CVE-2099-0001"


def test_last_affected_and_open_ranges() -> None:
    feed = single(
        osv(
            "CVE-2099-0002",
            ("k8s.io/apiserver", [{"introduced": "1.10.0"}, {"last_affected": "1.10.4"}, {"introduced": "1.30.0"}]),
        )
    )
    assert [m.fixed_in for m in feed.affecting(APISERVER, "1.10.4")] == [None]
    assert feed.affecting(APISERVER, "1.10.5") == []
    assert len(feed.affecting(APISERVER, "1.99.0")) == 1  # introduced, never fixed


def test_prerelease_ordering() -> None:
    key = version_key
    assert key("1.33.0-alpha.0") < key("1.33.0-rc.1") < key("1.33.0") < key("v1.33.1")  # type: ignore[operator]
    assert key("1.32.4-rc1") < key("1.32.4")  # type: ignore[operator]
    assert key("20.10.14+incompatible") == key("20.10.14")
    assert key("0.0.0-20260319175635-5183b7d86137") is None
    assert key("1.0.0-rc8.0.20190930145003-cad42f6e0932") is None
    assert key("Unknown") is None


def test_ranges_of_other_types_leave_the_cve_undetermined() -> None:
    doc = osv("CVE-2099-0003", ("k8s.io/apiserver", [{"introduced": "0"}]))
    doc["affected"][0]["ranges"][0]["type"] = "GIT"
    answer = single(doc).assess(APISERVER, "1.0.0")
    assert answer.affected == ()
    assert answer.undetermined[0].undetermined == "the record gives no SEMVER or ECOSYSTEM range (ranges: GIT)"


def test_a_record_without_ranges_is_undetermined() -> None:
    doc = osv("CVE-2099-0004", ("k8s.io/apiserver", []))
    doc["affected"][0]["ranges"] = []
    answer = single(doc).assess(APISERVER, "1.0.0")
    assert answer.undetermined[0].undetermined == "the record gives no affected ranges or versions"


def test_explicit_versions_list() -> None:
    doc = osv("CVE-2099-0005", ("k8s.io/apiserver", []))
    doc["affected"][0]["ranges"] = []
    doc["affected"][0]["versions"] = ["1.2.3", "v1.2.4"]
    feed = single(doc)
    assert [m.id for m in feed.affecting(APISERVER, "1.2.4")] == ["CVE-2099-0005"]
    assert feed.assess(APISERVER, "1.2.5").affected == ()


# ------------------------------------------------------------------------------------------
# Broken files


def test_load_osv_from_a_directory(tmp_path: Path) -> None:
    (tmp_path / "osv").mkdir()
    (tmp_path / "osv" / "CVE-2099-0001.json").write_text(
        json.dumps(osv("CVE-2099-0001", ("k8s.io/kubelet", [{"introduced": "0"}, {"fixed": "1.2.0"}]))),
        encoding="utf-8",
    )
    (tmp_path / "osv" / "last_updated.json").write_text('{"k8s-vulndb": "2024-05-01T00:00:00Z"}', encoding="utf-8")
    feed = load_osv(tmp_path / "osv")
    assert (len(feed.records), feed.last_updated, feed.newest) == (1, "2024-05-01", "CVE-2099-0001")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"CVE-2099-9999.json: not valid JSON"),
        ('{"id": "CVE-2099-9999", "affected": [{"ranges": []}]}', r"Object missing required field `package`"),
        ('{"id": 7}', r"Expected `str`, got `int` - at `\$.id`"),
        (
            '{"id": "CVE-2099-9999", "affected": [{"package": {"name": "x"}, "ranges": [{"type": "SEMVER", '
            '"events": [{"introduced": 1}]}]}]}',
            r"at `\$.affected\[0\].ranges\[0\].events\[0\].introduced`",
        ),
    ],
)
def test_broken_records_name_the_file_and_field(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "osv").mkdir()
    (tmp_path / "osv" / "CVE-2099-9999.json").write_text(content, encoding="utf-8")
    with pytest.raises(LifecycleError, match=message) as raised:
        load_osv(tmp_path / "osv")
    assert str(tmp_path / "osv" / "CVE-2099-9999.json") in str(raised.value)


def test_vulndb_folder_needs_its_meta(tmp_path: Path) -> None:
    folder = tmp_path / "vulndb"
    folder.mkdir()
    (folder / "GO-2025-3915.json").write_bytes((RECORDS / "GO-2025-3915.json").read_bytes())
    with pytest.raises(LifecycleError, match=r"meta.json"):
        load_cve_feed(tmp_path)
    (folder / "meta.json").write_text(
        json.dumps({"source": "t", "covered_until": "someday", "licence": "CC-BY-4.0", "attribution": "a"})
    )
    with pytest.raises(LifecycleError, match=r"covered_until 'someday' is not a date"):
        load_cve_feed(tmp_path)


def test_every_add_on_module_of_the_recognition_rules_is_bundled(feed: OsvFeed) -> None:
    """addons/rules.yaml names the modules whose records describe each add-on; the data must cover them."""
    from patchlevel.addons.rules import bundled_rules

    named = {module for rule in bundled_rules().addons for module in rule.osv}
    assert named <= set(ADDON_MODULES)
    assert set(GO_MODULES) <= set(feed.covered_modules)
    assert "github.com/cert-manager/cert-manager" in feed.covered_modules
    assert "github.com/not/collected" not in feed.covered_modules
