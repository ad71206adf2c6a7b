"""Issue 14, scan evidence: an empty scan is not a clean scan, and impossible dates prove nothing.

What each importer says about what a report scanned (``ScanReport.package_targets``,
``list_incomplete``), on the real reports of tests/data/scans and on the empty shapes real scanners
write (Trivy omits ``Results`` for an image it found no package in; config and secret scans have
results of other classes; Grype lists matches only).  Then what the image checks make of them:
no "no fixable vulnerability" PASS from a report that scanned nothing, no PASS from an undated,
stale or cut report, no clock started after the as-of date, no image "built" after it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from builders import make_context, run
from patchlevel.checks import ALL_CHECKS
from patchlevel.importers import load_scan_reports, parse_scan_document
from patchlevel.model import Finding, Status
from patchlevel.scans import ScanReport
from test_images import DIGEST_A, LOCAL_ID, make_inventory, make_pod

SCANS = Path(__file__).parent / "data" / "scans"
SUBJECT = f"image/registry.example/app@{DIGEST_A}"
REPO_DIGEST = f"registry.example/app@{DIGEST_A}"
AS_OF = date(2026, 11, 27)
SCANNED = "2026-11-20T10:00:00Z"


def parse(doc: Any, source: str = "report.json") -> ScanReport:
    (parsed,) = parse_scan_document(json.dumps(doc).encode(), source)
    return parsed


def trivy_doc(results: Any = None, *, created_at: str | None = SCANNED, omit_results: bool = False) -> dict[str, Any]:
    """``trivy image -f json`` of the running digest (SchemaVersion 2), with the given Results."""
    doc: dict[str, Any] = {
        "SchemaVersion": 2,
        "ArtifactName": REPO_DIGEST,
        "ArtifactType": "container_image",
        "Metadata": {
            "OS": {"Family": "debian", "Name": "12.8"},
            "ImageID": LOCAL_ID,
            "RepoDigests": [REPO_DIGEST],
            "ImageConfig": {"created": "2026-11-01T00:00:00Z"},
        },
    }
    if created_at is not None:
        doc["CreatedAt"] = created_at
    if not omit_results:
        doc["Results"] = results
    return doc


def os_result(vulnerabilities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"Target": f"{REPO_DIGEST} (debian 12.8)", "Class": "os-pkgs", "Type": "debian"}
    if vulnerabilities is not None:
        result["Vulnerabilities"] = vulnerabilities
    return result


CONFIG_RESULT = {"Target": "Dockerfile", "Class": "config", "Type": "dockerfile", "Misconfigurations": []}
SECRET_RESULT = {"Target": "/app/.env", "Class": "secret", "Secrets": [{"RuleID": "aws-access-key-id"}]}


def grype_doc(matches: list[dict[str, Any]], distro: str = "", timestamp: str = SCANNED) -> dict[str, Any]:
    return {
        "matches": matches,
        "source": {
            "type": "image",
            "target": {
                "userInput": REPO_DIGEST,
                "imageID": LOCAL_ID,
                "manifestDigest": DIGEST_A,
                "repoDigests": [REPO_DIGEST],
                "tags": [],
            },
        },
        "distro": {"name": distro, "version": "12" if distro else ""},
        "descriptor": {"name": "grype", "version": "0.87.0", "timestamp": timestamp},
    }


def operator_doc(
    vulnerabilities: list[dict[str, Any]], summary: dict[str, int] | None, os_family: str = ""
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "artifact": {"repository": "app", "tag": "1.0", "digest": DIGEST_A},
        "registry": {"server": "registry.example"},
        "scanner": {"name": "Trivy", "version": "0.57.1"},
        "updateTimestamp": SCANNED,
        "vulnerabilities": vulnerabilities,
    }
    if summary is not None:
        report["summary"] = summary
    if os_family:
        report["os"] = {"family": os_family, "name": "12.8"}
    return {
        "apiVersion": "aquasecurity.github.io/v1alpha1",
        "kind": "VulnerabilityReport",
        "metadata": {"name": "replicaset-app-app", "namespace": "default"},
        "report": report,
    }


def image_findings(*scans: ScanReport, as_of: date = AS_OF) -> dict[str, Finding]:
    """Every image check's finding for the one running image, by check id."""
    pod = make_pod("app", "registry.example/app:1.0", REPO_DIGEST)
    ctx = make_context(make_inventory([pod], scans=scans), as_of=as_of)
    out: dict[str, Finding] = {}
    for spec in ALL_CHECKS:
        for f in run(spec, ctx):
            if f.subject == SUBJECT:
                out[spec.id] = f
    return out


# ------------------------------------------------------------------------------------------
# What each importer says was scanned


@pytest.mark.parametrize("path", sorted(SCANS.rglob("*.json")), ids=lambda p: p.name)
def test_every_real_report_shows_a_package_scan(path: Path) -> None:
    """Each real report scanned packages; only the cut trivy-operator list is flagged."""
    for report in load_scan_reports(path).reports:
        assert report.package_targets is not None and report.package_targets >= 1
        if path.name == "trivy-operator-envtest-coredns-vulnerabilityreport.json":
            # its summary counts 12 high, 6 medium and 9 unknown; the fixture lists one of them
            assert report.list_incomplete == (
                "the report's summary counts 27 vulnerabilities but it lists 1: the vulnerability list is incomplete"
            )
            assert report.absence_unproven == report.list_incomplete
        else:
            assert (report.list_incomplete, report.absence_unproven) == ("", "")


def test_trivy_counts_package_results_and_nothing_else() -> None:
    # the alpine report has one os-pkgs result and two lang-pkgs results (node-pkg, jar)
    (alpine,) = load_scan_reports(SCANS / "trivy" / "defectdojo-scheme2-alpine-3.9-many-severities.json").reports
    assert alpine.package_targets == 3
    clean = parse(trivy_doc([os_result()]))  # an os-pkgs result without Vulnerabilities: scanned, none found
    assert (clean.package_targets, clean.vulnerabilities, clean.absence_unproven) == (1, (), "")


@pytest.mark.parametrize(
    "results",
    [[CONFIG_RESULT], [SECRET_RESULT], [CONFIG_RESULT, SECRET_RESULT], [], None, "absent"],
    ids=["config-only", "secret-only", "config-and-secret", "empty", "null", "absent"],
)
def test_trivy_report_without_a_package_result_shows_no_scan(results: Any) -> None:
    report = parse(trivy_doc(None, omit_results=True) if results == "absent" else trivy_doc(results))
    assert report.package_targets == 0 and report.vulnerabilities == ()
    assert report.absence_unproven.startswith("the scan examined no package")


def test_grype_empty_matches_say_nothing_unless_the_distribution_was_catalogued() -> None:
    nothing = parse(grype_doc([]))
    assert nothing.package_targets is None
    assert nothing.absence_unproven == (
        "the report lists no vulnerability and does not show that any package was scanned"
    )
    catalogued = parse(grype_doc([], distro="debian"))
    assert (catalogued.package_targets, catalogued.absence_unproven) == (1, "")
    ignored = parse({**grype_doc([]), "ignoredMatches": [{"vulnerability": {"id": "CVE-2024-1"}}]})
    assert ignored.package_targets == 1


def test_trivy_operator_summary_that_counts_more_than_the_list_is_incomplete() -> None:
    cut = parse(operator_doc([], {"criticalCount": 2, "highCount": 3}))
    assert cut.list_incomplete == (
        "the report's summary counts 5 vulnerabilities but it lists 0: the vulnerability list is incomplete"
    )
    silent = parse(operator_doc([], {"criticalCount": 0}))
    assert (silent.package_targets, silent.list_incomplete) == (None, "")
    assert silent.absence_unproven.startswith("the report lists no vulnerability")
    named_os = parse(operator_doc([], {"criticalCount": 0}, os_family="debian"))
    assert (named_os.package_targets, named_os.absence_unproven) == (1, "")


# ------------------------------------------------------------------------------------------
# What the image checks make of it


@pytest.mark.parametrize(
    "doc",
    [
        trivy_doc([CONFIG_RESULT]),
        trivy_doc([SECRET_RESULT]),
        trivy_doc([]),
        trivy_doc(None),
        trivy_doc(None, omit_results=True),
        grype_doc([]),
        operator_doc([], {"criticalCount": 0}),
    ],
    ids=["trivy-config", "trivy-secret", "trivy-empty", "trivy-null", "trivy-absent", "grype-none", "operator-none"],
)
def test_a_report_that_scanned_no_package_is_no_clean_scan(doc: dict[str, Any]) -> None:
    """The reproducer: a config-only Trivy report gave 'no fixable vulnerability' PASS."""
    found = image_findings(parse(doc))
    vulns = found["fixable_vulnerabilities_patched_in_time"]
    assert vulns.status is Status.UNKNOWN
    assert vulns.message.startswith("no scan report of this image shows a package scan: ")
    # and the report is no evidence of a vulnerability scan: exactly as if there were none
    scanned = found["image_scanned_recently"]
    assert scanned.status is Status.FAIL
    assert scanned.message == "the only scan reports of this image show no package scan: no vulnerability scan evidence"
    assert scanned.evidence["reports_without_package_scan"]
    without = image_findings()
    assert without["image_scanned_recently"].status is Status.FAIL  # never weaker than not giving the report
    # what the report does say about the image still counts
    if doc.get("Metadata"):
        assert found["image_built_recently"].evidence["created"] == "2026-11-01"
        assert found["image_os_supported"].evidence["os_family"] == "debian"


def test_the_same_report_with_a_package_result_is_clean() -> None:
    found = image_findings(parse(trivy_doc([os_result(), CONFIG_RESULT])))
    assert found["fixable_vulnerabilities_patched_in_time"].status is Status.PASS
    assert found["image_scanned_recently"].status is Status.PASS


def test_undated_report_yields_no_pass_on_fixable_vulnerabilities() -> None:
    found = image_findings(parse(trivy_doc([os_result()], created_at=None)))
    vulns = found["fixable_vulnerabilities_patched_in_time"]
    assert (vulns.status, vulns.message) == (
        Status.UNKNOWN,
        "the scan report is undated, so what it shows cannot be placed on or before the as-of date",
    )
    assert found["image_scanned_recently"].status is Status.FAIL


def test_stale_report_yields_no_pass_on_fixable_vulnerabilities() -> None:
    found = image_findings(parse(trivy_doc([os_result()], created_at="2026-06-01T00:00:00Z")))
    vulns = found["fixable_vulnerabilities_patched_in_time"]
    assert vulns.status is Status.UNKNOWN
    assert vulns.message == (
        "the newest scan ran 179 days before the as-of date (policy: 30 days), so vulnerabilities published "
        "since are unknown"
    )


def test_cut_vulnerability_list_yields_no_pass() -> None:
    found = image_findings(parse(operator_doc([], {"criticalCount": 1, "highCount": 1}, os_family="debian")))
    vulns = found["fixable_vulnerabilities_patched_in_time"]
    assert vulns.status is Status.UNKNOWN
    assert "the vulnerability list is incomplete" in vulns.message


def _vulnerability(vid: str, published: str, severity: str = "CRITICAL") -> dict[str, Any]:
    return {
        "VulnerabilityID": vid,
        "PkgName": "openssl",
        "InstalledVersion": "3.0.1",
        "FixedVersion": "3.0.2",
        "Severity": severity,
        "PublishedDate": published,
    }


def test_a_clock_that_would_start_after_the_as_of_date_is_unknown() -> None:
    """A vulnerability 'published' after the as-of date, in a scan dated before it: no clock, no PASS."""
    future = parse(trivy_doc([os_result([_vulnerability("CVE-2027-0001", "2027-01-15T00:00:00Z")])]))
    vulns = image_findings(future)["fixable_vulnerabilities_patched_in_time"]
    assert vulns.status is Status.UNKNOWN
    assert vulns.message.startswith("1 fixable vulnerability whose clock would start after the as-of date")
    detail = vulns.evidence["vulnerabilities"][0]
    assert (detail["clock_start"], detail["age_days"], detail["status"]) == ("2027-01-15", None, "unknown")
    # a known overdue critical beside it still FAILs
    both = parse(
        trivy_doc(
            [
                os_result(
                    [
                        _vulnerability("CVE-2027-0001", "2027-01-15T00:00:00Z"),
                        _vulnerability("CVE-2024-0002", "2024-01-15T00:00:00Z"),
                    ]
                )
            ]
        )
    )
    mixed = image_findings(both)["fixable_vulnerabilities_patched_in_time"]
    assert mixed.status is Status.FAIL and "CVE-2024-0002" in mixed.message and "CVE-2027-0001" in mixed.message


def test_image_created_after_the_as_of_date_is_unknown() -> None:
    """The reproducer: an image 'created' after the as-of date passed image_built_recently."""
    doc = trivy_doc([os_result()])
    doc["Metadata"]["ImageConfig"]["created"] = "2027-03-01T00:00:00Z"
    age = image_findings(parse(doc))["image_built_recently"]
    assert (age.status, age.message) == (
        Status.UNKNOWN,
        "the image's creation date (2027-03-01) is after the as-of date: an impossible date, not a build date",
    )
    doc["Metadata"]["ImageConfig"]["created"] = "not a date"
    assert image_findings(parse(doc))["image_built_recently"].status is Status.UNKNOWN
