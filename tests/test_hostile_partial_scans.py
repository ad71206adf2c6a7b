"""Issue 14, "an empty scan is not a clean scan", for scans that examined the language packages only.

Two reproducers of the hostile-input round, each gave a PASS though no OS package was examined:

* a Trivy filesystem report of a host whose only results are ``Class: lang-pkgs`` (binaries on
  the host), given with ``--node-scan``: ``node_os_packages_patched_in_time`` PASS;
* a Trivy image report that names the image's OS (``Metadata.OS``, alpine 3.22.1) but has a
  ``lang-pkgs`` result only: ``fixable_vulnerabilities_patched_in_time`` PASS.

Trivy writes an ``os-pkgs`` result, with or without vulnerabilities, whenever it scans the
packages of an OS it detected, and none when OS package scanning is off or the OS is one it
cannot scan (``scanOSPkgs``, aquasecurity/trivy ``pkg/scanner/local/scan.go``); so the missing
result, not the empty vulnerability list, is what the report says about the OS packages.

Every document here is a real report with the smallest change that makes the case, built at test
time (tests/data/scans and tests/data/node-packages stay byte-for-byte copies):

* image: DefectDojo's ``scheme_2_many_vulns.json`` (tests/data/scans/trivy/
  defectdojo-scheme2-alpine-3.9-many-severities.json, see tests/data/scans/SOURCES.md): its
  ``os-pkgs`` result and its vulnerable ``commons-compress`` jar result dropped, the
  vulnerability-free ``HdrHistogram`` jar result kept; ``Metadata.OS`` set to alpine 3.22.1 (a
  supported release, so only the scan is in question), a ``CreatedAt`` and a repo digest added so
  the report is dated and matches the running image.
* host: the AKS Ubuntu 22.04 Trivy filesystem report (tests/data/node-packages/
  aks-ubuntu2204-202308.16.0-trivy-fs-report.json, see its SOURCES.md) through
  ``node_scan_data.ubuntu_rootfs_report`` (a ``CreatedAt`` added), its ``os-pkgs`` result dropped:
  41 real ``lang-pkgs`` results of Go binaries remain.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import node_scan_data as nsd
from builders import make_node_doc, make_pod_doc, version_doc, write_json
from hostile_inputs import AS_OF
from patchlevel.cli import main
from patchlevel.importers import load_scan_reports, parse_scan_document
from patchlevel.importers.detect import parse_host_document
from patchlevel.model import Status
from test_no_false_pass_scans import REPO_DIGEST, SCANS, grype_doc, image_findings, operator_doc, parse

ALPINE_REPORT = SCANS / "trivy" / "defectdojo-scheme2-alpine-3.9-many-severities.json"
DIGEST = "sha256:" + "c" * 64
RUNNING = f"docker.io/library/teamdojo@{DIGEST}"
NOT_SCANNED = (
    "the report names the image's OS (alpine 3.22.1) but has no OS package result: Trivy did not scan the OS "
    "packages (OS package scanning was off, or the OS is one it cannot scan), so their vulnerabilities are unknown"
)
LATE_JAR_CVE = "CVE-2018-11771"  # in the real report's commons-compress 1.14 result


def alpine_report(*, os_results: bool = False, vulnerable_jar: bool = False, os: bool = True) -> dict[str, Any]:
    """The real DefectDojo alpine report, changed as the module docstring says (keyword arguments undo parts)."""
    doc: dict[str, Any] = json.loads(ALPINE_REPORT.read_text(encoding="utf-8"))
    doc["CreatedAt"] = "2026-11-20T10:00:00Z"
    doc["Metadata"]["OS"] = {"Family": "alpine", "Name": "3.22.1"}
    doc["Metadata"]["RepoDigests"] = [f"teamdojo@{DIGEST}"]
    if not os:
        del doc["Metadata"]["OS"]  # no OS detected: a distroless or scratch image
    doc["Results"] = [
        r
        for r in doc["Results"]
        if (r["Class"] == "os-pkgs" and os_results)
        or (r["Class"] == "lang-pkgs" and (vulnerable_jar or not r.get("Vulnerabilities")))
    ]
    return doc


def host_report(*, os_results: bool = False) -> dict[str, Any]:
    report = nsd.ubuntu_rootfs_report()
    if not os_results:
        report["Results"] = [r for r in report["Results"] if r["Class"] != "os-pkgs"]
    return report


# ------------------------------------------------------------------------------------------
# Images: an OS was detected but its packages were not scanned


def test_the_real_report_scanned_its_os_packages() -> None:
    (real,) = load_scan_reports(ALPINE_REPORT).reports
    assert (real.os_family, real.list_incomplete, real.absence_unproven) == ("alpine", "", "")


def test_an_image_report_of_language_packages_only_says_the_os_packages_are_unknown() -> None:
    report = parse(alpine_report())
    assert report.package_targets == 1 and report.vulnerabilities == ()
    assert report.list_incomplete == NOT_SCANNED
    assert report.absence_unproven == NOT_SCANNED


def test_the_reproducer_is_unknown_not_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``patchlevel audit --scan-report``: the language-only report gave 'no fixable vulnerability' PASS."""
    cluster = tmp_path / "cluster"
    write_json(cluster / "version.json", version_doc("v1.33.4"))
    write_json(cluster / "nodes.json", {"kind": "NodeList", "items": [make_node_doc("node-1")]})
    pod = make_pod_doc("p1", image="teamdojo:latest", image_id=RUNNING)
    write_json(cluster / "pods.json", {"kind": "PodList", "items": [pod]})
    scan = tmp_path / "img-lang.json"
    write_json(scan, alpine_report())
    argv = ["audit", str(cluster), "--as-of", AS_OF, "--format", "json", "--fail-on", "never", "--scan-report"]
    assert main([*argv, str(scan)]) == 0
    findings = {(f["check"], f["subject"]): f for f in json.loads(capsys.readouterr().out)["findings"]}
    verdict = findings[("fixable_vulnerabilities_patched_in_time", f"image/{RUNNING}")]
    assert (verdict["status"], verdict["message"]) == ("unknown", NOT_SCANNED)
    assert verdict["evidence"]["evidence_gaps"] == [NOT_SCANNED]
    # the language packages were scanned, and recently: that part of the evidence stands
    assert findings[("image_scanned_recently", f"image/{RUNNING}")]["status"] == "pass"


def _findings(doc: dict[str, Any]) -> dict[str, Any]:
    """The image checks' findings for the report written for the test images' running digest."""
    doc = copy.deepcopy(doc)
    doc["ArtifactName"] = REPO_DIGEST
    doc["Metadata"]["RepoDigests"] = [REPO_DIGEST]
    return image_findings(parse(doc), as_of=date(2026, 11, 27))


def test_listed_language_vulnerabilities_are_still_judged() -> None:
    """The gap is a part of the verdict: what the report lists is judged, the OS packages stay unknown."""
    doc = alpine_report(vulnerable_jar=True)
    found = _findings(doc)["fixable_vulnerabilities_patched_in_time"]
    assert (found.status, found.message) == (Status.UNKNOWN, NOT_SCANNED)  # the jar's two are medium: no SLA
    assert found.evidence["by_severity"] == {"medium": 2}
    # constructed: the jar's CVE made CRITICAL (it is MEDIUM in the real report), so it is past its 30-day window
    jar = next(r for r in doc["Results"] if r["Target"].endswith("commons-compress-1.14.jar"))
    next(v for v in jar["Vulnerabilities"] if v["VulnerabilityID"] == LATE_JAR_CVE)["Severity"] = "CRITICAL"
    late = _findings(doc)["fixable_vulnerabilities_patched_in_time"]
    assert late.status is Status.FAIL
    assert LATE_JAR_CVE in late.message and NOT_SCANNED in late.message


def test_the_same_report_with_its_os_package_result_has_no_gap() -> None:
    found = _findings(alpine_report(os_results=True))["fixable_vulnerabilities_patched_in_time"]
    assert found.status is Status.FAIL and "CVE-2019-12900" in found.message  # the real OS result's critical one
    assert NOT_SCANNED not in found.message and "evidence_gaps" not in found.evidence


def test_an_image_without_a_detected_os_is_judged_on_its_language_packages() -> None:
    """Distroless static or scratch images have no OS packages to miss: as before, the lang-pkgs result counts."""
    report = parse(alpine_report(os=False))
    assert (report.os_family, report.list_incomplete, report.absence_unproven) == (None, "", "")
    found = _findings(alpine_report(os=False))["fixable_vulnerabilities_patched_in_time"]
    assert found.status is Status.PASS


def test_a_report_without_any_package_result_keeps_its_own_reason() -> None:
    """No package result at all is 'the scan examined no package', whether or not the OS is named."""
    doc = alpine_report()
    doc["Results"] = [{"Target": "Dockerfile", "Class": "config", "Type": "dockerfile", "Misconfigurations": []}]
    report = parse(doc)
    assert report.list_incomplete == "" and report.absence_unproven.startswith("the scan examined no package")


def test_trivy_k8s_resources_are_held_to_the_same_rule() -> None:
    """A `trivy k8s` resource whose Metadata names the image's OS but whose results are lang-pkgs only."""
    real = alpine_report()
    doc = {
        "ClusterName": "test",
        "Resources": [
            {
                "Namespace": "default",
                "Kind": "Deployment",
                "Name": "teamdojo",
                "Metadata": real["Metadata"],
                "Results": real["Results"],
            }
        ],
    }
    (report,) = parse_scan_document(json.dumps(doc).encode(), "k8s.json")
    assert report.list_incomplete == NOT_SCANNED


def test_grype_and_trivy_operator_reports_cannot_show_the_gap() -> None:
    """Neither format shows per-class results: Grype lists matches (no package list), trivy-operator one flat
    list of vulnerabilities.  A named distribution with language matches only is how a clean OS looks too, so
    those reports keep counting as package scans (the convention of tests/test_no_false_pass_scans.py)."""
    go_match = {
        "vulnerability": {"id": "GHSA-xxxx", "severity": "High", "fix": {"versions": [], "state": "not-fixed"}},
        "artifact": {"name": "golang.org/x/net", "version": "v0.1.0", "type": "go-module"},
    }
    grype = parse(grype_doc([go_match], distro="alpine"))
    assert (grype.package_targets, grype.list_incomplete) == (1, "")
    operator = parse(operator_doc([], {"criticalCount": 0}, os_family="alpine"))
    assert (operator.package_targets, operator.list_incomplete) == (1, "")


# ------------------------------------------------------------------------------------------
# Hosts: only an os-pkgs result is evidence about the host's OS packages


def test_a_host_report_of_language_packages_only_is_no_os_package_scan() -> None:
    [scan] = parse_host_document(json.dumps(host_report()).encode(), "ns-lang.json")
    assert scan.report is not None
    assert scan.report.package_targets == 0 and scan.report.vulnerabilities == ()
    assert scan.other_vulnerabilities == 11  # the real report's Go binaries: judged by their own checks
    assert not scan.has_vulnerability_scan
    [full] = parse_host_document(json.dumps(host_report(os_results=True)).encode(), "ns.json")
    assert full.report is not None and full.report.package_targets == 1 and full.has_vulnerability_scan


def test_the_host_reproducer_is_unknown_not_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--node-scan n1=ns-lang.json`` gave node_os_packages_patched_in_time PASS, no OS package examined."""
    cluster = tmp_path / "cluster"
    node = make_node_doc("n1", os_image="Ubuntu 22.04.3 LTS", kernel=nsd.AKS_UBUNTU_KERNEL)
    write_json(cluster / "version.json", version_doc("v1.33.4"))
    write_json(cluster / "nodes.json", {"kind": "NodeList", "items": [node]})
    scan = nsd.write(tmp_path / "ns-lang.json", host_report())
    argv = ["audit", str(cluster), "--as-of", "2026-12-07", "--format", "json", "--fail-on", "never"]
    assert main([*argv, "--node-scan", f"n1={scan}"]) == 0
    findings = {(f["check"], f["subject"]): f for f in json.loads(capsys.readouterr().out)["findings"]}
    packages = findings[("node_os_packages_patched_in_time", "node/n1")]
    assert (packages["status"], packages["message"]) == (
        "unknown",
        "its host scans show no package scan, so its OS package vulnerabilities are unknown",
    )
    scanned = findings[("node_scanned_recently", "node/n1")]
    assert (scanned["status"], scanned["message"]) == (
        "fail",
        "the node's host scans show no package scan: no vulnerability scan evidence",
    )
