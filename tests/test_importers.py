"""Importers: real Trivy / Grype / trivy-operator reports, and the malformed input around them.

The files under tests/data/scans/ are unchanged public reports (see SOURCES.md there); every
value asserted below was read from them.  Edge cases are small documents built in the tests.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from patchlevel.errors import ImporterError
from patchlevel.importers import (
    IMPORTERS,
    LoadResult,
    NotAScanReport,
    UnreadableDocument,
    load_scan_reports,
    parse_scan_document,
)
from patchlevel.importers.base import Node, digest, repo_digests, severity, timestamp
from patchlevel.model import Severity
from patchlevel.scans import ScanReport, Vulnerability

SCANS = Path(__file__).parent / "data" / "scans"
TRIVY = SCANS / "trivy"
GRYPE = SCANS / "grype"
OPERATOR = SCANS / "trivy-operator"
ALL_FIXTURES = sorted(p for p in SCANS.rglob("*.json"))


def only(path: Path) -> ScanReport:
    result = load_scan_reports(path)
    assert len(result.reports) == 1, result.reports
    return result.reports[0]


def vuln(report: ScanReport, vid: str, package: str | None = None) -> Vulnerability:
    found = [v for v in report.vulnerabilities if v.id == vid and (package is None or v.package == package)]
    assert len(found) == 1, (vid, package, found)
    return found[0]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


# --- the registry and detection ---------------------------------------------------------------


def test_importer_formats_are_unique_and_known() -> None:
    formats = [i.format for i in IMPORTERS]
    assert len(formats) == len(set(formats))
    assert set(formats) == {"trivy", "trivy-k8s", "grype", "trivy-operator"}


def test_fixtures_are_all_copied() -> None:
    names = {p.name for p in ALL_FIXTURES}
    assert len(names) == 14
    sources = (SCANS / "SOURCES.md").read_text()
    for name in names:
        assert f"### {name}" in sources


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: p.name)
def test_every_fixture_is_recognised_by_exactly_one_importer(path: Path) -> None:
    root = Node.from_json(path.read_bytes(), str(path))
    claimed = [i.format for i in IMPORTERS if i.recognises(root)]
    expected = {
        "trivy": "trivy-k8s" if "k8s" in path.name else "trivy",
        "grype": "grype",
        "trivy-operator": "trivy-operator",
    }[path.parent.name]
    assert claimed == [expected]


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: p.name)
def test_every_fixture_gives_aware_utc_times_and_clean_digests(path: Path) -> None:
    for report in load_scan_reports(path).reports:
        assert report.source == str(path)
        for moment in (report.scanned_at, report.db_updated_at, report.created):
            assert moment is None or moment.utcoffset() is not None
        for d in report.repo_digests:
            assert "@sha256:" in d
        for d in (*report.manifest_digests, report.image_id or "sha256:" + "0" * 64):
            assert d.startswith("sha256:")
        assert report.os_eosl in (True, None)  # no fixture states False


# --- Trivy --------------------------------------------------------------------------------------


def test_trivy_schema2_current_alpine_eosl() -> None:
    r = only(TRIVY / "trivy-golden-alpine-3.9-eosl-current-schema.json")
    assert (r.format, r.scanner, r.scanner_version) == ("trivy", "trivy", "dev")
    assert r.scanned_at == utc(2021, 8, 25, 12, 20, 30)  # "…30.000000005Z": nanoseconds cut
    assert r.db_updated_at is None
    assert r.artifact == "testdata/fixtures/images/alpine-39.tar.gz"
    assert r.image_id == "sha256:055936d3920576da37aa9bc460d70c5f212028bda1c08c0879aedf03d7a66ea1"
    assert r.repo_digests == () and r.manifest_digests == ()
    assert (r.os_family, r.os_name, r.os_eosl) == ("alpine", "3.9.4", True)
    assert r.created == utc(2019, 5, 11, 0, 7, 3, 510395)
    assert len(r.vulnerabilities) == 6
    musl = vuln(r, "CVE-2019-14697", "musl")
    assert (musl.severity, musl.installed_version, musl.fixed_version) == (
        Severity.CRITICAL,
        "1.1.20-r4",
        "1.1.20-r5",
    )
    assert musl.status == "fixed" and musl.fixable
    assert musl.published == date(2019, 8, 6)
    assert musl.url == "https://avd.aquasec.com/nvd/cve-2019-14697"


def test_trivy_schema2_first_form_2021() -> None:
    r = only(TRIVY / "trivy-golden-alpine-3.9-schema2-2021.json")
    assert r.scanner_version is None and r.scanned_at is None
    assert (r.os_family, r.os_name, r.os_eosl) == ("alpine", "3.9.4", True)
    assert r.image_id == "sha256:055936d3920576da37aa9bc460d70c5f212028bda1c08c0879aedf03d7a66ea1"
    assert len(r.vulnerabilities) == 10
    v = vuln(r, "CVE-2019-1547", "libssl1.1")
    assert (v.severity, v.fixed_version, v.status) == (Severity.LOW, "1.1.1d-r0", "")
    assert v.title == "openssl: side-channel weak encryption vulnerability"


def test_trivy_legacy_list_alpine_takes_os_from_target() -> None:
    r = only(TRIVY / "trivy-golden-alpine-3.9-legacy-list.json")
    assert r.format == "trivy"
    assert r.artifact == "testdata/fixtures/images/alpine-39.tar.gz"
    assert (r.os_family, r.os_name) == ("alpine", "3.9.4")
    assert r.os_eosl is None  # legacy reports cannot say
    assert r.image_id is None and r.scanned_at is None and r.created is None
    assert len(r.vulnerabilities) == 10
    v = vuln(r, "CVE-2019-1551", "libcrypto1.1")
    assert (v.severity, v.fixed_version, v.published) == (Severity.MEDIUM, "1.1.1d-r2", date(2019, 12, 6))


def test_trivy_legacy_list_debian_without_fixes() -> None:
    r = only(TRIVY / "defectdojo-legacy-debian-10.8-list.json")
    assert r.artifact == "debian"
    assert (r.os_family, r.os_name, r.os_eosl) == ("debian", "10.8", None)
    assert len(r.vulnerabilities) == 93
    assert not any(v.fixable for v in r.vulnerabilities)  # no FixedVersion key anywhere
    libc = vuln(r, "CVE-2021-3326", "libc6")
    assert (libc.severity, libc.installed_version, libc.fixed_version) == (Severity.HIGH, "2.28-10", None)
    assert vuln(r, "TEMP-0981404-911A2F", "libzstd1").severity is None  # "UNKNOWN"
    assert sum(v.severity is Severity.LOW for v in r.vulnerabilities) == 65


def test_trivy_schema2_all_statuses_debian() -> None:
    r = only(TRIVY / "defectdojo-all-statuses-debian-10.13.json")
    assert r.scanned_at == utc(2024, 1, 15, 8, 58, 29, 827537)
    assert r.scanner_version is None  # CreatedAt but no Trivy block
    # ArtifactName and RepoTags are "": the image comes from the OS result's target.
    assert r.artifact == "noppaknopsta/example-app:main-159"
    assert r.repo_digests == ()  # RepoDigests: [""]
    assert r.image_id == "sha256:22ae3921bdaac434bb4cb92dbbc209e46b1f3f70e9fa0b5fbbb43ce7d452c72d"
    assert (r.os_family, r.os_name, r.os_eosl) == ("debian", "10.13", None)
    assert r.created == utc(2024, 1, 15, 8, 56, 27, 807609)
    assert {v.status for v in r.vulnerabilities} == {
        "unknown",
        "not_affected",
        "affected",
        "fixed",
        "under_investigation",
        "will_not_fix",
        "fix_deferred",
        "end_of_life",
    }
    wont = vuln(r, "CVE-2018-12698")
    assert (wont.package, wont.severity, wont.status, wont.fixed_version) == (
        "binutils",
        Severity.LOW,
        "will_not_fix",
        None,
    )
    assert vuln(r, "TEMP-0841856-B18BAF").published is None
    assert vuln(r, "CVE-2011-3374").published == date(2019, 11, 26)


def test_trivy_schema2_alpine_with_language_packages() -> None:
    r = only(TRIVY / "defectdojo-scheme2-alpine-3.9-many-severities.json")
    assert r.artifact == "teamdojo:latest"
    assert (r.os_family, r.os_name, r.os_eosl) == ("alpine", "3.9.4", None)
    assert r.image_id is None and r.created is None and r.scanned_at is None
    assert len(r.vulnerabilities) == 5
    bz2 = vuln(r, "CVE-2019-12900", "libbz2")
    assert (bz2.severity, bz2.fixed_version) == (Severity.CRITICAL, "1.0.6-r7")
    jar = vuln(r, "CVE-2018-1324")
    assert (jar.package, jar.installed_version, jar.fixed_version) == (
        "org.apache.commons:commons-compress",
        "1.14",
        "1.16",
    )
    assert vuln(r, "CVE-2020-28196").severity is Severity.HIGH


def test_trivy_k8s_legacy_layout_one_report_per_workload_image() -> None:
    result = load_scan_reports(TRIVY / "defectdojo-trivy-k8s-eks-cluster-legacy.json")
    assert [(r.namespace, r.workload_kind, r.workload_name) for r in result.reports] == [
        ("default", "Deployment", "redis-follower"),
        ("default", "Deployment", "redis-leader"),
    ]
    follower, leader = result.reports
    assert follower.format == "trivy-k8s" and follower.scanner == "trivy"
    assert follower.artifact == "gcr.io/google_samples/gb-redis-follower:v2"
    assert leader.artifact == "docker.io/redis:6.0.5"
    assert (follower.os_family, follower.os_name, follower.os_eosl) == ("debian", "10.4", None)
    assert follower.container == "" and follower.image_id is None
    apt = vuln(follower, "CVE-2020-27350", "apt")
    assert (apt.severity, apt.installed_version, apt.fixed_version) == (Severity.MEDIUM, "1.8.2.1", "1.8.2.2")
    assert apt.published == date(2020, 12, 10)
    assert len(follower.vulnerabilities) == 5
    assert result.inputs[0].read_as == "trivy-k8s (2 image scans)"


# --- Grype ----------------------------------------------------------------------------------------


def test_grype_028_debian_negligible_and_fix_states() -> None:
    r = only(GRYPE / "defectdojo-grype-0.28-debian10-all-fields.json")
    assert (r.format, r.scanner, r.scanner_version) == ("grype", "grype", "0.28.0")
    assert r.scanned_at is None  # no descriptor.timestamp in 0.28
    assert r.db_updated_at == utc(2021, 12, 24, 8, 14, 2)
    assert r.artifact == "vulnerable-image:latest"
    assert r.manifest_digests == ("sha256:9d8825ab20ac86b40eb71495bece1608a302fb180384740697a28c2b0a5a0fc6",)
    assert r.image_id == "sha256:ce9898fd214aef9c994a42624b09056bdce3ff4a8e3f68dc242d967b80fcbeee"
    assert r.repo_digests == ()
    assert (r.os_family, r.os_name, r.os_eosl) == ("debian", "10", None)
    krb = vuln(r, "CVE-2004-0971")
    assert (krb.severity, krb.status, krb.fixed_version) == (Severity.LOW, "not-fixed", None)  # Negligible
    redis = vuln(r, "CVE-2021-32626")
    assert (redis.package, redis.severity, redis.status, redis.fixed_version) == (
        "redis",
        Severity.HIGH,
        "wont-fix",
        "fix_1, fix_2",
    )
    assert vuln(r, "CVE-2021-33574", "libc6").severity is Severity.CRITICAL
    django = vuln(r, "GHSA-v6rh-hp5x-86rv")  # listed twice in the file: kept once
    assert (django.installed_version, django.fixed_version, django.status) == ("3.2.9", "3.2.10", "fixed")
    assert django.url == "https://github.com/advisories/GHSA-v6rh-hp5x-86rv"
    assert len(r.vulnerabilities) == 5


def test_grype_075_redacted_source() -> None:
    r = only(GRYPE / "defectdojo-grype-0.75-ubuntu2004-fix-available.json")
    assert r.scanner_version == "0.75.0"
    assert r.scanned_at == utc(2024, 4, 10, 11, 5, 22, 636338)
    assert r.db_updated_at == utc(2024, 4, 10, 1, 25, 7)
    assert r.artifact == "REDACTED"  # userInput as the (sanitised) file has it
    assert r.repo_digests == ()  # ["REDACTED"] is no digest
    assert r.manifest_digests == ("sha256:4e1c538085614cbc0c9affbb206abbec3220118425409662e46b3d4bb71d1b6d",)
    assert (r.os_family, r.os_name) == ("ubuntu", "20.04")
    java = vuln(r, "CVE-2009-3882")
    assert (java.package, java.severity, java.fixed_version, java.status) == (
        "java",
        Severity.HIGH,
        "1.2.3",
        "fixed",
    )


def test_grype_094_busybox_db_status_built() -> None:
    r = only(GRYPE / "defectdojo-grype-0.94-busybox-epss.json")
    assert r.scanner_version == "0.94.0"
    assert r.scanned_at == utc(2025, 6, 19, 11, 43, 35, 523947)
    assert r.db_updated_at == utc(2025, 6, 19, 4, 12, 38)  # descriptor.db.status.built (schema v6)
    assert r.artifact == "busybox:1.32.1"
    assert r.repo_digests == ("busybox@sha256:ae39a6f5c07297d7ab64dbd4f82c77c874cc6a94cea29fdec309d0992574b4f7",)
    assert r.manifest_digests == ("sha256:123b1fd3a44eaaf7322e08e9175d9ca57d49ebf2955d4fa1f5607e99dc31bcbb",)
    assert r.image_id == "sha256:388056c9a6838deea3792e8f00705b35b439cf57b3c9c2634fb4e95cfc896de6"
    assert (r.os_family, r.os_name) == ("busybox", "1.32.1")
    assert len(r.vulnerabilities) == 15
    critical = vuln(r, "CVE-2022-48174")
    assert (critical.severity, critical.fixed_version, critical.status) == (Severity.CRITICAL, None, "")
    fixed = vuln(r, "CVE-2021-42376")
    assert (fixed.severity, fixed.fixed_version, fixed.status) == (Severity.MEDIUM, "1.34.0", "fixed")


def test_grype_presenter_snapshot_structure() -> None:
    # Synthetic content (CVE-1999-000x): used for its layout only.
    r = only(GRYPE / "grype-json-presenter-snapshot-images.json")
    assert r.scanner_version is None  # "[not provided]"
    assert r.scanned_at is None  # timestamp ""
    assert r.db_updated_at is None
    assert (r.os_family, r.os_name) == ("centos", "8.0")
    assert vuln(r, "CVE-1999-0001").fixed_version == "1.2.1, 2.1.3, 3.4.0"
    assert vuln(r, "CVE-1999-0002").fixed_version is None


# --- trivy-operator -----------------------------------------------------------------------------


def test_trivy_operator_nginx_alpine() -> None:
    r = only(OPERATOR / "defectdojo-vulnerabilityreport-nginx-alpine.json")
    assert (r.format, r.scanner, r.scanner_version) == ("trivy-operator", "trivy", "0.38.2")
    assert r.scanned_at == utc(2023, 3, 23, 16, 23, 1)
    assert r.artifact == "index.docker.io/library/nginx:alpine"
    assert r.manifest_digests == () and r.repo_digests == () and r.image_id is None
    assert (r.os_family, r.os_name, r.os_eosl) == (None, None, None)  # no report.os in 0.38
    assert (r.namespace, r.workload_kind, r.workload_name, r.container) == (
        "default",
        "ReplicaSet",
        "nginx-deployment-965685897",
        "nginx",
    )
    assert len(r.vulnerabilities) == 41
    curl = vuln(r, "CVE-2023-23914", "curl")
    assert (curl.severity, curl.installed_version, curl.fixed_version) == (
        Severity.CRITICAL,
        "7.87.0-r1",
        "7.87.0-r2",
    )
    sdk = vuln(r, "CVE-2020-8911")
    assert (sdk.package, sdk.fixed_version, sdk.fixable) == ("github.com/aws/aws-sdk-go", None, False)  # ""


def test_trivy_operator_single() -> None:
    r = only(OPERATOR / "defectdojo-vulnerabilityreport-single.json")
    assert [v.id for v in r.vulnerabilities] == ["CVE-2023-23914"]
    assert r.vulnerabilities[0].title == "curl: HSTS ignored on multiple requests"


def test_trivy_operator_coredns() -> None:
    r = only(OPERATOR / "trivy-operator-envtest-coredns-vulnerabilityreport.json")
    assert r.scanner_version == "0.35.0"
    assert r.scanned_at == utc(2022, 12, 8, 15, 50, 37)
    assert r.artifact == "k8s.gcr.io/coredns/coredns:v1.8.0"
    assert (r.namespace, r.workload_kind, r.workload_name, r.container) == (
        "kube-system",
        "ReplicaSet",
        "coredns-558bd4d5db",
        "coredns",
    )
    proto = vuln(r, "CVE-2021-3121")
    assert (proto.package, proto.severity, proto.installed_version, proto.fixed_version) == (
        "github.com/gogo/protobuf",
        Severity.HIGH,
        "v1.3.1",
        "1.3.2",
    )


OPERATOR_LIST_YAML = """\
apiVersion: v1
kind: List
items:
- apiVersion: aquasecurity.github.io/v1alpha1
  kind: ConfigAuditReport
  metadata:
    name: replicaset-web-7d9c
    namespace: shop
  report:
    checks: []
- apiVersion: aquasecurity.github.io/v1alpha1
  kind: VulnerabilityReport
  metadata:
    name: replicaset-web-7d9c-app
    namespace: shop
    labels:
      trivy-operator.container.name: app
      trivy-operator.resource.kind: ReplicaSet
      trivy-operator.resource.name: web-7d9c
      trivy-operator.resource.namespace: shop
  report:
    artifact:
      repository: shop/web
      tag: "1.20"
      digest: sha256:e21abd397695e37937d411acf71a94cb36c18194d14c81775b43c896dc99639b
    os:
      family: alpine
      name: 3.15.9
      eosl: true
    registry:
      server: registry.example.com
    scanner:
      name: Trivy
      version: 0.48.3
    updateTimestamp: 2024-04-28T04:15:57+02:00
    vulnerabilities:
    - vulnerabilityID: CVE-2023-6129
      resource: libcrypto3
      installedVersion: 3.1.4-r1
      fixedVersion: 3.1.4-r3
      severity: MEDIUM
      publishedDate: 2024-01-09T17:15:12Z
      primaryLink: https://avd.aquasec.com/nvd/cve-2023-6129
    - vulnerabilityID: CVE-2024-0001
      resource: busybox
      installedVersion: 1.34.1-r7
      fixedVersion: ""
      severity: UNKNOWN
"""


def test_trivy_operator_yaml_list_with_other_report_kind(tmp_path: Path) -> None:
    path = tmp_path / "vulnerabilityreports"  # no suffix: detected from content
    path.write_text(OPERATOR_LIST_YAML)
    r = only(path)
    assert r.artifact == "registry.example.com/shop/web:1.20"
    assert r.manifest_digests == ("sha256:e21abd397695e37937d411acf71a94cb36c18194d14c81775b43c896dc99639b",)
    assert (r.os_family, r.os_name, r.os_eosl) == ("alpine", "3.15.9", True)
    assert r.scanned_at == utc(2024, 4, 28, 2, 15, 57)  # unquoted YAML timestamp, +02:00 kept
    assert r.scanner_version == "0.48.3"
    assert (r.namespace, r.workload_kind, r.workload_name, r.container) == (
        "shop",
        "ReplicaSet",
        "web-7d9c",
        "app",
    )
    assert vuln(r, "CVE-2023-6129").published == date(2024, 1, 9)
    unknown = vuln(r, "CVE-2024-0001")
    assert (unknown.severity, unknown.fixed_version) == (None, None)


def test_trivy_operator_dict_keyed_by_crd_plural() -> None:
    single = json.loads((OPERATOR / "defectdojo-vulnerabilityreport-single.json").read_bytes())
    coredns = json.loads((OPERATOR / "trivy-operator-envtest-coredns-vulnerabilityreport.json").read_bytes())
    del coredns["kind"]  # under its plural the kind is implied
    export = {
        "configauditreports.aquasecurity.github.io": [{"kind": "ConfigAuditReport", "report": {}}],
        "vulnerabilityreports": {"apiVersion": "v1", "kind": "List", "items": [single, coredns]},
        "exposedsecretreports": [],
    }
    reports = parse_scan_document(json.dumps(export).encode(), "export.json")
    assert [r.artifact for r in reports] == [
        "index.docker.io/library/nginx:alpine",
        "k8s.gcr.io/coredns/coredns:v1.8.0",
    ]


def test_trivy_operator_objects_from_the_api() -> None:
    obj = json.loads((OPERATOR / "trivy-operator-envtest-coredns-vulnerabilityreport.json").read_bytes())
    reports = parse_scan_document([obj, {**obj, "kind": "ExposedSecretReport"}], "cluster:vulnerabilityreports")
    assert len(reports) == 1
    assert reports[0].source == "cluster:vulnerabilityreports"
    assert reports[0].workload_name == "coredns-558bd4d5db"


def test_trivy_operator_workload_from_owner_reference() -> None:
    obj = json.loads((OPERATOR / "defectdojo-vulnerabilityreport-single.json").read_bytes())
    obj["metadata"]["labels"] = {}
    (r,) = parse_scan_document(obj, "x")
    assert (r.namespace, r.workload_kind, r.workload_name, r.container) == (
        "default",
        "ReplicaSet",
        "nginx-deployment-965685897",
        "",
    )


def test_trivy_operator_report_without_report_section() -> None:
    with pytest.raises(ImporterError, match=r"^x\.yaml: VulnerabilityReport shop/bare has no report"):
        parse_scan_document(b"kind: VulnerabilityReport\nmetadata: {name: bare, namespace: shop}\n", "x.yaml")


# --- trivy k8s, newer layout ----------------------------------------------------------------------


def _k8s_resources_report() -> dict[str, object]:
    alpine_meta = {
        "OS": {"Family": "alpine", "Name": "3.15.9", "EOSL": True},
        "ImageID": "sha256:" + "a" * 64,
        "RepoTags": ["registry.example.com/shop/web:1.20"],
        "RepoDigests": ["registry.example.com/shop/web@sha256:" + "b" * 64],
        "ImageConfig": {"created": "2023-05-01T10:00:00+01:00"},
    }
    return {
        "ClusterName": "",
        "Resources": [
            {
                "Kind": "ClusterRole",
                "Name": "admin",
                "Results": [{"Target": "ClusterRole/admin", "Class": "config"}],
            },
            {
                "Namespace": "shop",
                "Kind": "Deployment",
                "Name": "web",
                "Metadata": [alpine_meta],
                "Results": [
                    {
                        "Target": "registry.example.com/shop/web:1.20 (alpine 3.15.9)",
                        "Class": "os-pkgs",
                        "Type": "alpine",
                        "Vulnerabilities": [
                            {
                                "VulnerabilityID": "CVE-2023-5363",
                                "PkgName": "libssl3",
                                "InstalledVersion": "1.1.1t-r2",
                                "FixedVersion": "3.0.12-r0, 1.1.1w-r1",
                                "Status": "fixed",
                                "Severity": "High",
                            }
                        ],
                    },
                    {
                        "Target": "app/package-lock.json",
                        "Class": "lang-pkgs",
                        "Type": "npm",
                        "Vulnerabilities": None,
                    },
                    {"Target": "Deployment/web", "Class": "config", "Type": "kubernetes"},
                ],
            },
            {
                "Namespace": "shop",
                "Kind": "Deployment",
                "Name": "clean",
                "Metadata": {"OS": {"Family": "debian", "Name": "12.5"}},
                "Results": [{"Target": "clean:1 (debian 12.5)", "Class": "os-pkgs", "Type": "debian"}],
            },
        ],
    }


def test_trivy_k8s_resources_layout() -> None:
    reports = parse_scan_document(json.dumps(_k8s_resources_report()).encode(), "k8s.json")
    assert [(r.workload_name, r.artifact) for r in reports] == [
        ("web", "registry.example.com/shop/web:1.20"),
        ("clean", "clean:1"),
    ]
    web, clean = reports
    assert web.format == "trivy-k8s" and web.namespace == "shop" and web.workload_kind == "Deployment"
    assert web.repo_digests == ("registry.example.com/shop/web@sha256:" + "b" * 64,)
    assert web.image_id == "sha256:" + "a" * 64
    assert (web.os_family, web.os_name, web.os_eosl) == ("alpine", "3.15.9", True)
    assert web.created == utc(2023, 5, 1, 9, 0, 0)
    (ssl,) = web.vulnerabilities
    assert (ssl.severity, ssl.fixed_version) == (Severity.HIGH, "3.0.12-r0, 1.1.1w-r1")  # kept as written
    assert clean.vulnerabilities == ()  # scanned, nothing found: still evidence
    assert (clean.os_family, clean.os_name, clean.os_eosl) == ("debian", "12.5", None)


def test_trivy_k8s_config_only_report_gives_no_scans() -> None:
    doc = {"ClusterName": "kind", "Resources": [_k8s_resources_report()["Resources"][0]]}  # type: ignore[index]
    assert parse_scan_document(json.dumps(doc).encode(), "k8s.json") == []


# --- other constructed shapes -----------------------------------------------------------------------


def test_trivy_created_at_with_offset_and_mixed_case_severities() -> None:
    doc = {
        "SchemaVersion": 2,
        "CreatedAt": "2024-03-01T10:15:30.123456789+01:00",
        "ArtifactName": "web:1",
        "Results": [
            {
                "Target": "web:1 (alpine 3.19.1)",
                "Class": "os-pkgs",
                "Type": "alpine",
                "Vulnerabilities": [
                    {"VulnerabilityID": "CVE-1", "PkgName": "a", "Severity": "critical"},
                    {"VulnerabilityID": "CVE-2", "PkgName": "b", "Severity": "Medium"},
                    {"VulnerabilityID": "CVE-3", "PkgName": "c", "Severity": "UNKNOWN"},
                    {"VulnerabilityID": "CVE-4", "PkgName": "d", "FixedVersion": ""},
                ],
            }
        ],
    }
    (r,) = parse_scan_document(json.dumps(doc).encode(), "t.json")
    assert r.scanned_at == utc(2024, 3, 1, 9, 15, 30, 123456)
    assert [v.severity for v in r.vulnerabilities] == [Severity.CRITICAL, Severity.MEDIUM, None, None]
    assert r.vulnerabilities[3].fixed_version is None
    assert (r.os_family, r.os_name, r.os_eosl) == ("alpine", "3.19.1", None)  # target only: no Metadata


def test_grype_directory_source_old_fix_field_and_null_severity() -> None:
    doc = {
        "matches": [
            {
                "vulnerability": {
                    "id": "CVE-2020-36221",
                    "severity": "Medium",
                    "fixedInVersion": "2.4.47+dfsg-3+deb10u5",
                },
                "artifact": {"name": "libldap-2.4-2", "version": "2.4.47+dfsg-3+deb10u4"},
            },
            {
                "vulnerability": {
                    "id": "CVE-2023-1",
                    "severity": None,
                    "fix": {"versions": [], "state": "unknown"},
                },
                "artifact": {"name": "x", "version": "1"},
            },
        ],
        "source": {"type": "directory", "target": "/srv/app"},
        "distro": {"name": "", "version": "", "idLike": ""},
        "descriptor": {"name": "grype", "version": "0.7.0"},
    }
    (r,) = parse_scan_document(json.dumps(doc).encode(), "g.json")
    assert r.artifact == "/srv/app"
    assert (r.os_family, r.os_name) == (None, None)
    assert (r.scanned_at, r.db_updated_at, r.image_id) == (None, None, None)
    old, unknown = r.vulnerabilities
    assert (old.fixed_version, old.severity) == ("2.4.47+dfsg-3+deb10u5", Severity.MEDIUM)
    assert (unknown.severity, unknown.status, unknown.fixed_version) == (None, "unknown", None)


def test_utf8_bom_and_utf16_files(tmp_path: Path) -> None:
    data = (TRIVY / "trivy-golden-alpine-3.9-legacy-list.json").read_text()
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + data.encode())
    (tmp_path / "ps.json").write_bytes(data.encode("utf-16"))  # PowerShell's `>` redirect
    result = load_scan_reports(tmp_path)
    assert [len(r.vulnerabilities) for r in result.reports] == [10, 10]


# --- bad input --------------------------------------------------------------------------------------


def test_truncated_json_names_file_and_position(tmp_path: Path) -> None:
    data = (GRYPE / "defectdojo-grype-0.94-busybox-epss.json").read_bytes()
    path = tmp_path / "grype.json"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableDocument) as caught:
        load_scan_reports(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: invalid JSON at line ")
    assert "truncated" in message
    assert "\n" not in message


def test_malformed_json_gives_line_and_column() -> None:
    with pytest.raises(ImporterError, match=r"^bad\.json: invalid JSON at line 3, column 3 \(byte 20\)"):
        parse_scan_document(b'{\n  "matches": []\n  "source": {}\n}', "bad.json")


def test_wrong_field_type_is_an_importer_error_naming_the_path() -> None:
    doc = b'{"SchemaVersion": 2, "Results": [{"Target": "x", "Vulnerabilities": [{"VulnerabilityID": 7}]}]}'
    with pytest.raises(ImporterError, match=r"^w\.json: unexpected report shape: .*\$\.Results\[0\]"):
        parse_scan_document(doc, "w.json")


def test_unsupported_trivy_schema_version() -> None:
    with pytest.raises(ImporterError, match="SchemaVersion 3 is not supported"):
        parse_scan_document(b'{"SchemaVersion": 3, "Results": []}', "t3.json")


def test_node_object_is_not_a_scan_report(tmp_path: Path) -> None:
    path = tmp_path / "node.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "kind-worker"}}))
    with pytest.raises(NotAScanReport) as caught:
        load_scan_reports(path)
    assert str(caught.value).startswith(f"{path}: not a scan report: a Kubernetes Node object")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"[]", "an empty list"),
        (b"  \n", "the file is empty"),
        (b"{}", "an empty object"),
        (b"# notes\n", "an empty YAML document"),
        (b'{"apiVersion": "v1", "kind": "List", "items": []}', "a Kubernetes List object"),
        (b"just: [some, yaml]\n", "an object with keys just"),
    ],
)
def test_documents_that_are_not_scan_reports(data: bytes, reason: str) -> None:
    with pytest.raises(NotAScanReport) as caught:
        parse_scan_document(data, "doc")
    assert caught.value.reason == reason


def test_directory_skips_and_lists_what_is_not_a_report(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("[Scans](https://example.com) from the *nightly* job.\n\n- one\n")
    (tmp_path / "b-nested").mkdir()
    (tmp_path / "b-nested" / "grype.json").write_bytes((GRYPE / "defectdojo-grype-0.94-busybox-epss.json").read_bytes())
    (tmp_path / "a-trivy.json").write_bytes((TRIVY / "trivy-golden-alpine-3.9-legacy-list.json").read_bytes())
    (tmp_path / "node.yaml").write_text("apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n")
    (tmp_path / ".cache").mkdir()
    result = load_scan_reports(tmp_path)
    assert isinstance(result, LoadResult)
    assert [r.format for r in result.reports] == ["trivy", "grype"]  # sorted, recursive
    skipped = {Path(f.path).name: f.reason for f in result.skipped}
    assert set(skipped) == {"README.md", "node.yaml", ".cache"}
    assert skipped["node.yaml"] == "a Kubernetes Node object"
    assert skipped[".cache"] == "hidden directory, not searched"
    read = {Path(f.path).name: f.read_as for f in result.inputs if f.read_as != "ignored"}
    assert read == {"a-trivy.json": "trivy (1 image scan)", "grype.json": "grype (1 image scan)"}
    assert all(len(f.sha256) == 64 for f in result.inputs if f.path.endswith(".json"))


def test_directory_with_a_broken_json_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_bytes((TRIVY / "trivy-golden-alpine-3.9-legacy-list.json").read_bytes())
    (tmp_path / "cut.json").write_bytes(b'{"matches": [')
    with pytest.raises(UnreadableDocument, match=r"cut\.json: invalid JSON"):
        load_scan_reports(tmp_path)


def test_shared_test_data_directory_loads_every_fixture() -> None:
    result = load_scan_reports(SCANS)
    assert len(result.reports) == 15  # 14 files; the trivy k8s report holds two images
    assert [Path(f.path).name for f in result.skipped] == ["SOURCES.md"]


def test_empty_directory_gives_empty_result(tmp_path: Path) -> None:
    assert load_scan_reports(tmp_path) == LoadResult((), ())


def test_missing_path() -> None:
    with pytest.raises(ImporterError, match="no such file or directory"):
        load_scan_reports(Path("/nonexistent/scans.json"))


def test_yaml_stream_of_reports() -> None:
    obj = json.loads((OPERATOR / "defectdojo-vulnerabilityreport-single.json").read_bytes())
    stream = (
        "---\n" + json.dumps(obj) + "\n---\nkind: ExposedSecretReport\napiVersion: aquasecurity.github.io/v1alpha1\n"
    )
    (r,) = parse_scan_document(stream.encode(), "stream.yaml")
    assert r.artifact == "index.docker.io/library/nginx:alpine"


# --- field helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("CRITICAL", Severity.CRITICAL),
        ("Critical", Severity.CRITICAL),
        ("high", Severity.HIGH),
        ("Medium", Severity.MEDIUM),
        ("LOW", Severity.LOW),
        ("Negligible", Severity.LOW),
        ("UNKNOWN", None),
        ("Unknown", None),
        ("", None),
        (None, None),
    ],
)
def test_severity_words(word: str | None, expected: Severity | None) -> None:
    assert severity(word) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-15T08:58:29.82753744Z", utc(2024, 1, 15, 8, 58, 29, 827537)),
        ("2024-01-15T09:58:29+01:00", utc(2024, 1, 15, 8, 58, 29)),
        ("2021-12-24 08:14:02.5 -0500 EST", utc(2021, 12, 24, 13, 14, 2, 500000)),  # Go time.String()
        ("2024-01-15T08:58:29", utc(2024, 1, 15, 8, 58, 29)),  # no offset: taken as UTC
        ("0001-01-01T00:00:00Z", None),  # Go zero time
        ("", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_timestamps(value: str | None, expected: datetime | None) -> None:
    assert timestamp(value) == expected


def test_digest_filters() -> None:
    good = "sha256:" + "0123456789abcdef" * 4
    assert digest(good) == good
    assert digest("REDACTED") is None and digest("") is None and digest(None) is None
    assert repo_digests(["", "REDACTED", f"nginx@{good}", f"nginx@{good}", "nginx@sha256:short"]) == (f"nginx@{good}",)


# --- risk-ranking inputs: NVD CVSS, KEV, EPSS, package URLs, suppressed findings (issue 10) -----


def test_trivy_reads_nvds_cvss_the_severity_source_and_the_package_url() -> None:
    report = only(TRIVY / "trivy-golden-alpine-3.9-eosl-current-schema.json")
    v = vuln(report, "CVE-2019-1549", "libcrypto1.1")
    assert v.severity_origin == "nvd"
    assert v.purl == "pkg:apk/alpine/libcrypto1.1@1.1.1b-r1?arch=x86_64&distro=3.9.4"
    # CVSS.nvd only: redhat's 4.8 is a vendor score, not NVD's
    assert [(c.version, c.score, c.source) for c in v.nvd_cvss] == [("3.1", 5.3, "nvd")]
    debian = vuln(only(TRIVY / "defectdojo-all-statuses-debian-10.13.json"), "CVE-2018-12699")
    assert (debian.severity, debian.severity_origin, debian.nvd_cvss[0].score) == (Severity.LOW, "debian", 9.8)
    assert debian.nvd_cvss[0].version == "3.0"  # from the vector "CVSS:3.0/…"


def test_grype_reads_nvd_cvss_epss_kev_risk_and_related_cves() -> None:
    busybox = only(GRYPE / "defectdojo-grype-0.94-busybox-epss.json")
    v = vuln(busybox, "CVE-2021-42376")
    assert (v.severity_origin, v.purl) == ("nvd:cpe", "pkg:generic/busybox@1.32.1")
    assert [(c.version, c.score, c.source) for c in v.nvd_cvss] == [("3.1", 5.5, "nvd@nist.gov")]  # v2 skipped
    assert v.epss is not None and (v.epss.score, v.epss.percentile, v.epss.date) == (
        0.00028,
        0.06078,
        date(2025, 6, 18),
    )
    assert v.risk is not None and v.known_exploited is None
    # NVD's own (Primary) score first, a CNA's score NVD republishes after it
    two = vuln(busybox, "CVE-2022-28391")
    assert [c.source for c in two.nvd_cvss] == ["nvd@nist.gov", "134c704f-9b21-4f2e-91b3-4a467353bcc0"]
    snapshot = only(GRYPE / "grype-json-presenter-snapshot-images.json")
    kev = vuln(snapshot, "CVE-1999-0002")
    assert kev.known_exploited is not None
    assert (kev.known_exploited.cve, kev.known_exploited.ransomware, kev.known_exploited.date_added) == (
        "CVE-1999-0002",
        True,
        None,
    )
    # a distribution's record takes NVD's CVSS from the related NVD record; a GHSA gets its CVE as an alias
    old = only(GRYPE / "defectdojo-grype-0.28-debian10-all-fields.json")
    glibc = vuln(old, "CVE-2021-33574", "libc6")
    assert (glibc.severity_origin, [c.score for c in glibc.nvd_cvss]) == ("debian:10", [9.8])
    ghsa = next(v for v in old.vulnerabilities if v.id == "GHSA-v6rh-hp5x-86rv")
    assert ghsa.aliases == ("CVE-2021-44420",) and ghsa.ids == ("GHSA-V6RH-HP5X-86RV", "CVE-2021-44420")


def test_trivy_operator_reads_the_cvss_map_and_package_url_of_newer_reports() -> None:
    obj = json.loads((OPERATOR / "defectdojo-vulnerabilityreport-nginx-alpine.json").read_text())
    entry = obj["report"]["vulnerabilities"][0]
    entry["cvss"] = {"nvd": {"V3Vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N", "V3Score": 3.7}}
    entry["packagePURL"] = "pkg:apk/alpine/curl@7.87.0-r1"
    (parsed,) = parse_scan_document(json.dumps(obj).encode(), "operator.json")
    v = vuln(parsed, entry["vulnerabilityID"], entry["resource"])
    assert [(c.version, c.score) for c in v.nvd_cvss] == [("3.1", 3.7)]
    assert v.purl == "pkg:apk/alpine/curl@7.87.0-r1"
    # the old report's ``score`` (4.2 for a CRITICAL) names no source and is not read as NVD's
    old = vuln(only(OPERATOR / "defectdojo-vulnerabilityreport-nginx-alpine.json"), "CVE-2023-23914", "curl")
    assert old.nvd_cvss == ()


def test_trivy_suppressed_findings_are_kept_apart_with_their_reason() -> None:
    doc = json.loads((TRIVY / "trivy-golden-alpine-3.9-eosl-current-schema.json").read_text())
    result = doc["Results"][0]
    first = result["Vulnerabilities"].pop(0)
    result["ExperimentalModifiedFindings"] = [
        {"Type": "vulnerability", "Status": "not_affected", "Statement": "vulnerable_code_not_present",
         "Source": "OpenVEX VEX", "Finding": first},
        {"Type": "misconfiguration", "Status": "ignored", "Source": ".trivyignore", "Finding": {"ID": "DS002"}},
    ]  # fmt: skip
    (parsed,) = parse_scan_document(json.dumps(doc).encode(), "suppressed.json")
    assert first["VulnerabilityID"] not in {v.id for v in parsed.vulnerabilities if v.package == first["PkgName"]}
    (kept,) = parsed.suppressed
    assert (kept.id, kept.package, kept.fixed_version) == (first["VulnerabilityID"], first["PkgName"], "1.1.1d-r0")
    assert kept.suppression is not None
    assert (kept.suppression.status, kept.suppression.statement, kept.suppression.source) == (
        "not_affected",
        "vulnerable_code_not_present",
        "OpenVEX VEX",
    )
    result["ExperimentalModifiedFindings"][0]["Finding"] = {"VulnerabilityID": 7}
    with pytest.raises(ImporterError, match="a suppressed vulnerability of"):
        parse_scan_document(json.dumps(doc).encode(), "broken.json")


def test_out_of_range_scores_are_dropped() -> None:
    doc = {
        "matches": [
            {
                "vulnerability": {
                    "id": "CVE-2099-1", "severity": "High", "namespace": "nvd:cpe",
                    "cvss": [{"version": "3.1", "source": "nvd@nist.gov", "metrics": {"baseScore": 11}}],
                    "epss": [{"cve": "CVE-2099-1", "epss": 1.5, "percentile": 0.5, "date": "2026-01-01"}],
                },
                "artifact": {"name": "p", "version": "1"},
            }
        ],
        "source": {"type": "image", "target": {"userInput": "x:1"}},
    }  # fmt: skip
    (parsed,) = parse_scan_document(json.dumps(doc).encode(), "bad-scores.json")
    (v,) = parsed.vulnerabilities
    assert (v.nvd_cvss, v.epss) == ((), None)
