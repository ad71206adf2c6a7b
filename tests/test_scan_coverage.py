"""Scan coverage of running images and nodes in every report's summary (issue 11: coverage % of nodes)."""

from __future__ import annotations

import json
from datetime import date

from patchlevel.evaluate import scan_coverage
from patchlevel.model import Finding, ScanCoverage, Severity, Status


def finding(check: str, subject: str, status: Status) -> Finding:
    return Finding(check, status, Severity.INFO, subject, "made up for the test")


def test_images_count_recent_evidence_with_or_without_reservation_and_nodes_only_a_pass() -> None:
    findings = [
        finding("image_scanned_recently", "image/a@sha256:1", Status.PASS),
        finding("image_scanned_recently", "image/b@sha256:2", Status.WARN),  # tag match or old database
        finding("image_scanned_recently", "image/c@sha256:3", Status.FAIL),
        finding("image_scanned_recently", "image/d@sha256:4", Status.UNKNOWN),
        finding("node_scanned_recently", "node/n1", Status.PASS),
        finding("node_scanned_recently", "node/n2", Status.WARN),
        finding("node_scanned_recently", "node/n3", Status.UNKNOWN),
        finding("kubelet_version_supported", "node/n1", Status.PASS),  # other checks do not count
    ]
    images, nodes = scan_coverage(findings, images=4, nodes=3, scan_max_age_days=30)
    assert images == ScanCoverage("images", 2, 4, 30) and images.percent == 50.0
    assert nodes == ScanCoverage("nodes", 1, 3, 30) and nodes.percent == 33.3
    assert nodes.text() == "1 of 3 nodes (33.3%) scanned in the last 30 days"


def test_a_single_cluster_finding_means_none_of_the_subjects_has_evidence() -> None:
    findings = [
        finding("image_scanned_recently", "cluster", Status.UNKNOWN),
        finding("node_scanned_recently", "cluster", Status.UNKNOWN),
    ]
    assert scan_coverage(findings, images=7, nodes=5, scan_max_age_days=14) == (
        ScanCoverage("images", 0, 7, 14),
        ScanCoverage("nodes", 0, 5, 14),
    )


def test_a_check_that_did_not_run_adds_no_figure_and_an_empty_cluster_has_no_percentage() -> None:
    assert scan_coverage([], images=3, nodes=2, scan_max_age_days=30) == ()
    (empty,) = scan_coverage([finding("node_scanned_recently", "cluster", Status.UNKNOWN)], 0, 0, 30)
    assert empty.percent is None and empty.text() == "0 of 0 nodes scanned in the last 30 days"


def test_the_demo_reports_its_coverage_in_the_json_summary() -> None:
    from pathlib import Path

    golden = json.loads((Path(__file__).parent / "golden" / "demo.json").read_text())
    assert golden["as_of"] == date(2026, 11, 27).isoformat()
    # no scan report and no host scan is given to the demo: nothing is covered, and the summary says so
    assert golden["summary"]["scan_coverage"] == {
        "images": {"recent": 0, "total": 3, "percent": 0.0, "max_age_days": 30},
        "nodes": {"recent": 0, "total": 4, "percent": 0.0, "max_age_days": 30},
    }
