"""The 10.3 image checks, per image, on real scan reports matched to pods with their digests.

Reports are the unchanged files of tests/data/scans; pods are the licensed real ones of
tests/data/kube and tests/data/images, or pods built here with the digest (or image ID) the
report names.  Dates in the assertions are read from the reports (see each test).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from builders import make_context
from cluster_gen import write_cluster
from patchlevel.checks import ALL_CHECKS
from patchlevel.checks.common import Context
from patchlevel.checks.images import os_release
from patchlevel.cli import main
from patchlevel.collect.snapshot import read_snapshot
from patchlevel.evaluate import build_report, evaluate, scan_coverage_warning, stamp
from patchlevel.frameworks import load_requirements
from patchlevel.images import running_images
from patchlevel.importers import parse_scan_document
from patchlevel.inventory import Inventory
from patchlevel.knowledge import Knowledge, load_knowledge
from patchlevel.lifecycle.catalog import BUNDLED_DATA, load_catalog
from patchlevel.model import Finding, Severity, Status, group_findings
from patchlevel.policy import Policy
from patchlevel.registry import Resolution, ResolutionStatus
from patchlevel.render.terminal import render_terminal
from patchlevel.scans import ScanReport, Vulnerability, failed_scan
from test_images import (
    ALPINE39_IMAGE_ID,
    BUSYBOX_DIGEST,
    DIGEST_A,
    DIGEST_B,
    KUBE,
    LOCAL_ID,
    NGINX_DIGEST,
    make_inventory,
    make_pod,
    pod_doc,
    real_pod,
    report,
    status,
)

IMAGE_CHECKS = (
    "running_image_digest_known",
    "image_scanned_recently",
    "fixable_vulnerabilities_patched_in_time",
    "image_os_supported",
    "patched_image_redeployed",
    "image_reference_immutable",
    "image_built_recently",
)
NGINX = f"image/docker.io/library/nginx@{NGINX_DIGEST}"
BUSYBOX = f"image/docker.io/library/busybox@{BUSYBOX_DIGEST}"
UBUNTU_MANIFEST = "sha256:4e1c538085614cbc0c9affbb206abbec3220118425409662e46b3d4bb71d1b6d"  # grype 0.75 report
DEBIAN10_IMAGE_ID = "sha256:ce9898fd214aef9c994a42624b09056bdce3ff4a8e3f68dc242d967b80fcbeee"  # grype 0.28 report


@cache
def knowledge() -> Knowledge:
    return load_knowledge(load_catalog(BUNDLED_DATA))


def context(
    inventory: Inventory,
    as_of: date,
    *,
    policy: Policy | None = None,
    tag_resolutions: Mapping[str, Resolution] | None = None,
) -> Context:
    return make_context(inventory, as_of=as_of, policy=policy, tag_resolutions=tag_resolutions)


def run(check: str, ctx: Context) -> dict[str, Finding]:
    spec = next(c for c in ALL_CHECKS if c.id == check)
    findings = [stamp(spec.id, judged) for judged in spec.function(ctx)]
    out = {f.subject: f for f in findings}
    assert len(out) == len(findings), "two findings for one subject"
    return out


def one(check: str, ctx: Context, subject: str) -> Finding:
    return run(check, ctx)[subject]


def grype_doc(
    *,
    timestamp: str,
    vulnerabilities: list[tuple[str, str | None, list[str]]],
    digest: str = DIGEST_A,
    tag: str = "registry.example/app:1.0",
) -> dict[str, Any]:
    """A small Grype document (grype -o json layout) of one image, for cases no real report has."""
    repository = tag.rsplit(":", 1)[0]
    return {
        "matches": [
            {
                "vulnerability": {
                    "id": vid,
                    "severity": severity,
                    "fix": {"versions": fixes, "state": "fixed" if fixes else "not-fixed"},
                },
                "artifact": {"name": "openssl", "version": "3.0.1"},
            }
            for vid, severity, fixes in vulnerabilities
        ],
        "source": {
            "type": "image",
            "target": {
                "userInput": tag,
                "imageID": LOCAL_ID,
                "manifestDigest": digest,
                "repoDigests": [f"{repository}@{digest}"],
                "tags": [tag],
            },
        },
        "distro": {"name": "debian", "version": "12"},
        "descriptor": {"name": "grype", "version": "0.80.0", "timestamp": timestamp, "db": {"built": timestamp}},
    }


def grype(doc: dict[str, Any], source: str) -> ScanReport:
    (parsed,) = parse_scan_document(json.dumps(doc).encode(), source)
    return parsed


def app_pod(name: str = "app", digest: str = DIGEST_A, image: str = "registry.example/app:1.0") -> Any:
    return make_pod(name, image, f"registry.example/app@{digest}")


def busybox_inventory() -> Inventory:
    pod = make_pod("bb", "busybox:1.32.1", f"docker.io/library/busybox@{BUSYBOX_DIGEST}")
    return make_inventory([pod], scans=[report("grype/defectdojo-grype-0.94-busybox-epss.json")])


def alpine_local_inventory() -> Inventory:
    """A kind node running the Trivy test image, known to the runtime by its image ID."""
    pod = make_pod("alpine", "ghcr.io/aquasecurity/trivy-test-images:alpine-39", ALPINE39_IMAGE_ID)
    return make_inventory([pod], scans=[report("trivy/trivy-golden-alpine-3.9-eosl-current-schema.json")])


ALPINE = "image/ghcr.io/aquasecurity/trivy-test-images:alpine-39"


def nginx_inventory(*scans: str) -> Inventory:
    return make_inventory([real_pod(KUBE / "nginx-docker-pullable-pod.json")], scans=[report(s) for s in scans])


# ------------------------------------------------------------------------------------------
# the registry of checks and the requirement mapping


def test_image_checks_are_registered_and_mapped() -> None:
    ids = [c.id for c in ALL_CHECKS]
    assert all(ids.count(c) == 1 for c in IMAGE_CHECKS)
    requirements = {r.id: r for r in load_requirements(ids)}
    assert set(requirements["PCI-CG-10.3"].checks) == set(IMAGE_CHECKS)
    assert requirements["PCI-CG-3.2"].checks == ("image_reference_immutable", "running_image_digest_known")
    assert requirements["PCI-CG-12.1"].checks == ("image_os_supported", "image_built_recently")
    assert "image_os_supported" in requirements["PCI-DSS-12.3.4"].checks
    assert "fixable_vulnerabilities_patched_in_time" in requirements["PCI-DSS-6.3.3"].checks
    assert "patched_image_redeployed" in requirements["PCI-DSS-6.3.3"].checks
    assert {"image_scanned_recently", "fixable_vulnerabilities_patched_in_time"} <= set(
        requirements["PCI-DSS-11.3.1"].checks
    )  # node scans (issue 11) give evidence for it too
    assert "image_scanned_recently" in requirements["PCI-DSS-6.3.1"].checks


@pytest.mark.parametrize("check", [c for c in IMAGE_CHECKS if c != "patched_image_redeployed"])
def test_without_pods_every_image_check_is_one_cluster_unknown(check: str) -> None:
    (only,) = run(check, context(make_inventory(None), date(2026, 1, 1))).values()
    assert (only.subject, only.status) == ("cluster", Status.UNKNOWN)
    assert "the snapshot holds no pods" in only.message


# ------------------------------------------------------------------------------------------
# running_image_digest_known


def test_digest_known_pass_local_id_warn_pending_unknown() -> None:
    pods = [
        real_pod(KUBE / "nginx-docker-pullable-pod.json"),
        make_pod("coredns", "registry.k8s.io/coredns/coredns:v1.11.1", LOCAL_ID, namespace="kube-system"),
        make_pod("new", "nginx:1.27", "", statuses=[status("app", "nginx:1.27", "", "waiting")], phase="Pending"),
    ]
    found = run("running_image_digest_known", context(make_inventory(pods), date(2026, 1, 1)))
    assert found[NGINX].status is Status.PASS
    assert found[NGINX].message == "the running image is known by its registry digest"
    local = found["image/registry.k8s.io/coredns/coredns:v1.11.1"]
    assert local.status is Status.WARN and "no registry digest proves which published image runs" in local.message
    assert local.evidence["local_image_id"] == LOCAL_ID
    pending = found["image/docker.io/library/nginx:1.27"]
    assert pending.status is Status.UNKNOWN
    assert (
        pending.message == "the running digest is unknown: no imageID reported yet (container waiting or not started)"
    )
    assert pending.evidence["pod_names"] == ["default/new"]


def test_an_unreadable_image_id_is_unknown_and_shown_as_the_kubelet_wrote_it() -> None:
    raw = "docker-pullable://nginx@sha256:0123"  # a digest cut short: identifies nothing
    pods = [make_pod("cut", "nginx:1.27", raw)]
    found = run("running_image_digest_known", context(make_inventory(pods), date(2026, 1, 1)))
    (finding,) = found.values()
    assert finding.status is Status.UNKNOWN
    assert finding.evidence["raw_image_ids"] == [raw]


# ------------------------------------------------------------------------------------------
# image_scanned_recently


def test_grype_scan_of_the_running_digest_is_recent_evidence() -> None:
    # grype 0.94.0, descriptor.timestamp 2025-06-19T11:43:35, db built 2025-06-19T04:12:38
    found = one("image_scanned_recently", context(busybox_inventory(), date(2025, 7, 1)), BUSYBOX)
    assert found.status is Status.PASS
    assert found.message == "scanned within 30 days (matched by digest)"
    e = found.evidence
    assert (e["scanner"], e["scanner_version"], e["scan_age_days"], e["matched_by"]) == (
        "grype",
        "0.94.0",
        12,
        "digest",
    )
    assert e["scan_report"].endswith("defectdojo-grype-0.94-busybox-epss.json")
    assert e["vulnerability_db_updated_at"] == "2025-06-19T04:12:38+00:00"
    assert e["vulnerability_db_age_days_at_scan"] == 0
    assert e["scan_coverage"] == {"images": 1, "scanned_recently": 1, "scanned_recently_by_digest": 1, "percent": 100.0}


def test_stale_scan_fails_and_a_scan_after_the_as_of_date_is_no_evidence() -> None:
    stale = one("image_scanned_recently", context(busybox_inventory(), date(2025, 7, 20)), BUSYBOX)
    assert stale.status is Status.FAIL and stale.evidence["scan_age_days"] == 31
    assert stale.message == "the newest scan is older than the 30-day policy"
    early = one("image_scanned_recently", context(busybox_inventory(), date(2025, 6, 1)), BUSYBOX)
    assert early.status is Status.FAIL
    assert early.message == "no scan evidence dated on or before 2025-06-01 (only later scans)"


def test_scan_max_age_comes_from_the_policy() -> None:
    found = one(
        "image_scanned_recently",
        context(busybox_inventory(), date(2025, 7, 20), policy=Policy(scan_max_age_days=90)),
        BUSYBOX,
    )
    assert found.status is Status.PASS and found.message == "scanned within 90 days (matched by digest)"


def test_trivy_operator_report_matched_by_tag_warns() -> None:
    # VulnerabilityReport updateTimestamp 2023-03-23T16:23:01Z, artifact index.docker.io/library/nginx:alpine
    found = one(
        "image_scanned_recently",
        context(nginx_inventory("trivy-operator/defectdojo-vulnerabilityreport-nginx-alpine.json"), date(2023, 4, 10)),
        NGINX,
    )
    assert found.status is Status.WARN
    assert "by tag only" in found.message
    assert (found.evidence["matched_by"], found.evidence["matched_on"]) == ("tag", "docker.io/library/nginx:alpine")
    assert found.evidence["scanner_version"] == "0.38.2"


def test_local_image_matched_by_trivy_image_id_passes() -> None:
    # Trivy golden: CreatedAt 2021-08-25T12:20:30Z, Metadata.ImageID = the runtime's image ID
    found = one("image_scanned_recently", context(alpine_local_inventory(), date(2021, 9, 1)), ALPINE)
    assert found.status is Status.PASS and found.message == "scanned within 30 days (matched by image ID)"


def test_report_without_scan_time_shows_no_recent_scan_and_no_clean_image() -> None:
    # grype 0.28 wrote no descriptor.timestamp; matched by its manifest digest.  An undated report
    # is no better evidence of a recent scan than no report (FAIL), and cannot show that nothing
    # is open on the as-of date (UNKNOWN at best; the known overdue criticals still FAIL).
    manifest = "sha256:9d8825ab20ac86b40eb71495bece1608a302fb180384740697a28c2b0a5a0fc6"
    pod = make_pod("v", "registry.example/vulnerable-image:2", f"registry.example/vulnerable-image@{manifest}")
    inventory = make_inventory([pod], scans=[report("grype/defectdojo-grype-0.28-debian10-all-fields.json")])
    found = one(
        "image_scanned_recently",
        context(inventory, date(2022, 1, 1)),
        f"image/registry.example/vulnerable-image@{manifest}",
    )
    assert found.status is Status.FAIL
    assert found.message == "the scan report does not say when the scan ran, so it shows no scan within 30 days"
    vulns = one(
        "fixable_vulnerabilities_patched_in_time",
        context(inventory, date(2022, 1, 1)),
        f"image/registry.example/vulnerable-image@{manifest}",
    )
    assert "the scan report is undated" in vulns.message
    assert vulns.evidence["evidence_gaps"] == [
        "the scan report is undated, so what it shows cannot be placed on or before the as-of date"
    ]


def test_missing_evidence_fails_per_image_and_coverage_goes_into_the_warnings() -> None:
    inventory = make_inventory(
        [
            make_pod("bb", "busybox:1.32.1", f"docker.io/library/busybox@{BUSYBOX_DIGEST}"),
            app_pod("a"),
            app_pod("b", DIGEST_B),
        ],
        scans=[report("grype/defectdojo-grype-0.94-busybox-epss.json")],
    )
    found = run("image_scanned_recently", context(inventory, date(2025, 7, 1)))
    assert found[BUSYBOX].status is Status.PASS
    for digest in (DIGEST_A, DIGEST_B):
        missing = found[f"image/registry.example/app@{digest}"]
        assert (missing.status, missing.message) == (Status.FAIL, "no scan evidence for the running image")
        assert missing.evidence["scan_coverage"]["percent"] == 33.3
    assert scan_coverage_warning(found.values(), 30) == (
        "scan coverage: 1 of 3 running images (33.3%) have scan evidence from the last 30 days "
        "(1 without reservation, 0 with a warning: a match by tag only, or an outdated vulnerability database)"
    )
    result = build_report(inventory, knowledge(), Policy(), date(2025, 7, 1), datetime(2025, 7, 1, tzinfo=UTC))
    assert any(w.startswith("scan coverage: 1 of 3 running images") for w in result.warnings)


def test_scan_of_the_same_tag_at_another_digest_fails_and_says_so() -> None:
    pod = make_pod("bb", "busybox:1.32.1", "docker.io/library/busybox@" + DIGEST_B)
    inventory = make_inventory([pod], scans=[report("grype/defectdojo-grype-0.94-busybox-epss.json")])
    found = one(
        "image_scanned_recently", context(inventory, date(2025, 7, 1)), f"image/docker.io/library/busybox@{DIGEST_B}"
    )
    assert found.status is Status.FAIL
    assert found.message == "no scan of the running digest: the scans of its tag are of a different digest"
    assert BUSYBOX_DIGEST in found.evidence["reports_of_other_digests"][0]


def test_failed_scan_leaves_the_image_unscanned_with_the_reason() -> None:
    failure = failed_scan(
        "trivy registry.example/app@" + DIGEST_A,
        "trivy",
        "registry.example/app@" + DIGEST_A,
        "trivy timed out after 600 s — context deadline exceeded",
        scanned_at=datetime(2026, 1, 1, tzinfo=UTC),
        repo_digest="registry.example/app@" + DIGEST_A,
    )
    inventory = make_inventory([app_pod()], scans=[failure])
    ctx = context(inventory, date(2026, 1, 2))
    subject = f"image/registry.example/app@{DIGEST_A}"
    scanned = one("image_scanned_recently", ctx, subject)
    # a scan that could not run is no scan: FAIL as without --scan, with the reason
    assert (scanned.status, scanned.severity) == (Status.FAIL, Severity.HIGH)
    assert scanned.message == "the scan of this image failed (trivy timed out after 600 s): no scan evidence"
    assert "context deadline exceeded" in scanned.evidence["failed_scans"][0]
    vulns = one("fixable_vulnerabilities_patched_in_time", ctx, subject)
    assert vulns.status is Status.UNKNOWN and "failed" in vulns.message


# ------------------------------------------------------------------------------------------
# fixable_vulnerabilities_patched_in_time


def test_critical_fix_open_past_the_window_fails_with_ids_and_the_publication_clock() -> None:
    # CVE-2019-14697 (musl, musl-utils): CRITICAL, fixed in 1.1.20-r5, PublishedDate 2019-08-06
    found = one("fixable_vulnerabilities_patched_in_time", context(alpine_local_inventory(), date(2021, 9, 1)), ALPINE)
    assert (found.status, found.severity) == (Status.FAIL, Severity.CRITICAL)
    assert found.message == (
        "1 fixable critical vulnerability (in 2 packages) open longer than the 30-day window "
        "(clock: publication date): CVE-2019-14697"
    )
    details = {(v["id"], v["package"]): v for v in found.evidence["vulnerabilities"]}
    musl = details[("CVE-2019-14697", "musl")]
    assert (musl["clock_start"], musl["age_days"], musl["sla_days"], musl["fixed_version"]) == (
        "2019-08-06",
        757,
        30,
        "1.1.20-r5",
    )
    assert found.evidence["vulnerability_ids"] == ["CVE-2019-14697"]
    assert found.evidence["by_severity"] == {"critical": 2, "medium": 4}
    assert found.evidence["clock_sources"] == {"publication date": 6}


def test_critical_fix_inside_the_policy_window_passes() -> None:
    policy = Policy(sla_days={Severity.CRITICAL: 1000, Severity.HIGH: 1000})
    ctx = context(alpine_local_inventory(), date(2021, 9, 1), policy=policy)
    found = one("fixable_vulnerabilities_patched_in_time", ctx, ALPINE)
    assert found.status is Status.PASS
    assert found.message == "no fixable critical or high vulnerability is past its window (1 is open, inside it)"


def test_without_dates_the_clock_is_the_first_scan_that_reported_the_fix() -> None:
    # trivy-operator 0.38 report: no publishedDate; updateTimestamp 2023-03-23; matched by tag
    inventory = nginx_inventory("trivy-operator/defectdojo-vulnerabilityreport-nginx-alpine.json")
    fresh = Policy(scan_max_age_days=60)  # the scan counts as recent: only its vulnerabilities decide
    inside = one("fixable_vulnerabilities_patched_in_time", context(inventory, date(2023, 4, 10)), NGINX)
    assert inside.status is Status.PASS
    assert inside.message == (
        "no fixable critical or high vulnerability is past its window (3 are open, inside it) "
        "(scan matched by tag only)"
    )
    late = one("fixable_vulnerabilities_patched_in_time", context(inventory, date(2023, 5, 1), policy=fresh), NGINX)
    assert (late.status, late.severity) == (Status.FAIL, Severity.CRITICAL)
    assert late.message.startswith(
        "1 fixable critical vulnerability (in 2 packages) open longer than the 30-day window (clock: first scan "
        "reporting the fix): CVE-2023-23914; 2 fixable high vulnerabilities (in 3 packages) open longer than the "
        "30-day window (clock: first scan reporting the fix): CVE-2022-3970, CVE-2023-23916"
    )
    assert late.message.endswith("(scan matched by tag only)")
    assert {v["clock_start"] for v in late.evidence["vulnerabilities"]} == {"2023-03-23"}


def test_high_past_the_window_warns_by_default_and_fails_when_policy_says_so() -> None:
    # grype 0.75: CVE-2009-3882 High, fix 1.2.3, no dates; scan 2024-04-10
    pod = make_pod("j", "registry.example/java-app:17", f"registry.example/java-app@{UBUNTU_MANIFEST}")
    inventory = make_inventory([pod], scans=[report("grype/defectdojo-grype-0.75-ubuntu2004-fix-available.json")])
    subject = f"image/registry.example/java-app@{UBUNTU_MANIFEST}"
    fresh = Policy(scan_max_age_days=60)  # the 2024-04-10 scan counts as recent on 2024-06-01
    warn = one("fixable_vulnerabilities_patched_in_time", context(inventory, date(2024, 6, 1), policy=fresh), subject)
    assert (warn.status, warn.severity) == (Status.WARN, Severity.HIGH)
    assert warn.message == (
        "1 fixable high vulnerability open longer than the 30-day window (clock: first scan reporting the fix): "
        "CVE-2009-3882"
    )
    strict = Policy(sla_status={Severity.CRITICAL: Status.FAIL, Severity.HIGH: Status.FAIL}, scan_max_age_days=60)
    assert (
        one(
            "fixable_vulnerabilities_patched_in_time", context(inventory, date(2024, 6, 1), policy=strict), subject
        ).status
        is Status.FAIL
    )


def test_earliest_scan_reporting_the_fix_starts_the_clock() -> None:
    vulns = [("CVE-2024-1111", "Critical", ["3.0.2"])]
    first = grype(grype_doc(timestamp="2024-01-01T00:00:00Z", vulnerabilities=vulns), "scan-jan.json")
    second = grype(grype_doc(timestamp="2024-03-01T00:00:00Z", vulnerabilities=vulns), "scan-mar.json")
    inventory = make_inventory([app_pod()], scans=[second, first])
    found = one(
        "fixable_vulnerabilities_patched_in_time",
        context(inventory, date(2024, 3, 10)),
        f"image/registry.example/app@{DIGEST_A}",
    )
    assert found.status is Status.FAIL
    (detail,) = found.evidence["vulnerabilities"]
    assert (detail["clock"], detail["clock_start"], detail["age_days"]) == (
        "first scan reporting the fix",
        "2024-01-01",
        69,
    )
    assert found.evidence["scan_report"] == "scan-mar.json"  # judged by the newest scan


def test_fix_release_date_is_the_preferred_clock() -> None:
    fixed = Vulnerability(
        id="CVE-2024-2222",
        severity=Severity.CRITICAL,
        package="openssl",
        installed_version="3.0.1",
        fixed_version="3.0.2",
        published=date(2023, 1, 1),
        fix_released=date(2024, 2, 20),
    )
    scan = grype(grype_doc(timestamp="2024-03-01T00:00:00Z", vulnerabilities=[]), "scan.json")
    scan = dataclasses.replace(scan, vulnerabilities=(fixed,))
    found = one(
        "fixable_vulnerabilities_patched_in_time",
        context(make_inventory([app_pod()], scans=[scan]), date(2024, 3, 10)),
        f"image/registry.example/app@{DIGEST_A}",
    )
    assert found.status is Status.PASS  # 19 days since the fix was released, though published long before
    assert found.evidence["clock_sources"] == {"fix release date": 1}


def test_null_severity_is_unknown_severity_and_says_so() -> None:
    doc = grype_doc(timestamp="2024-01-01T00:00:00Z", vulnerabilities=[("CVE-2024-3333", None, ["3.0.9"])])
    inventory = make_inventory([app_pod()], scans=[grype(doc, "null-severity.json")])
    found = one(
        "fixable_vulnerabilities_patched_in_time",
        context(inventory, date(2024, 3, 1)),
        f"image/registry.example/app@{DIGEST_A}",
    )
    assert found.status is Status.UNKNOWN
    assert (
        "without a severity from the scanner (UNKNOWN severity)" in found.message and "CVE-2024-3333" in found.message
    )
    assert found.evidence["vulnerabilities"][0]["severity"] == "unknown"


def test_no_fix_yet_warns_not_fails() -> None:
    # busybox 1.32.1: CVE-2022-48174 critical and ten highs with no fix; CVE-2021-42376 medium fixed in 1.34.0
    recent = Policy(scan_max_age_days=90)  # the 2025-06-19 scan counts as recent on 2025-09-01
    ctx = context(busybox_inventory(), date(2025, 9, 1), policy=recent)
    found = one("fixable_vulnerabilities_patched_in_time", ctx, BUSYBOX)
    assert (found.status, found.severity) == (Status.WARN, Severity.MEDIUM)
    assert found.message == (
        "11 vulnerabilities with no fix released yet: CVE-2022-48174, CVE-2021-28831, CVE-2021-42378, "
        "CVE-2021-42379, CVE-2021-42380 +6 more"
    )
    assert len(found.evidence["vulnerability_ids"]) == 11
    assert found.evidence["fixable_by_severity"] == {"medium": 1}


def test_unknown_digest_and_missing_scans_are_unknown_vulnerabilities() -> None:
    pods = [make_pod("new", "nginx:1.27", "", statuses=[status("app", "nginx:1.27", "", "waiting")]), app_pod()]
    found = run("fixable_vulnerabilities_patched_in_time", context(make_inventory(pods), date(2026, 1, 1)))
    assert found["image/docker.io/library/nginx:1.27"].status is Status.UNKNOWN
    missing = found[f"image/registry.example/app@{DIGEST_A}"]
    assert (missing.status, missing.message) == (
        Status.UNKNOWN,
        "no scan evidence for the running image, so its vulnerabilities are unknown",
    )


# ------------------------------------------------------------------------------------------
# image_os_supported


def test_trivy_eosl_flag_fails() -> None:
    found = one("image_os_supported", context(alpine_local_inventory(), date(2021, 9, 1)), ALPINE)
    assert (found.status, found.message) == (
        Status.FAIL,
        "base OS Alpine Linux 3.9 is end of service life according to the scanner (EOSL)",
    )
    assert found.evidence["lifecycle_verdict"] == "base OS Alpine Linux 3.9 reached end of support on 2020-11-01"
    assert (found.evidence["os_family"], found.evidence["os_version"], found.evidence["scanner_eosl"]) == (
        "alpine",
        "3.9.4",
        True,
    )


def test_os_release_judged_by_the_lifecycle_when_the_scanner_does_not_say() -> None:
    # grype 0.75: distro ubuntu 20.04 (grype never reports EOSL)
    pod = make_pod("j", "registry.example/java-app:17", f"registry.example/java-app@{UBUNTU_MANIFEST}")
    inventory = make_inventory([pod], scans=[report("grype/defectdojo-grype-0.75-ubuntu2004-fix-available.json")])
    subject = f"image/registry.example/java-app@{UBUNTU_MANIFEST}"
    supported = one("image_os_supported", context(inventory, date(2024, 6, 1)), subject)
    assert supported.status is Status.PASS
    assert supported.message.startswith("base OS Ubuntu 20.04")
    # debian 10 (grype 0.28, matched by image ID): LTS until 2024-06-30, then nothing
    debian_pod = make_pod("v", "vulnerable-image:latest", DEBIAN10_IMAGE_ID)
    debian = make_inventory([debian_pod], scans=[report("grype/defectdojo-grype-0.28-debian10-all-fields.json")])
    ended = one(
        "image_os_supported", context(debian, date(2025, 1, 1)), "image/docker.io/library/vulnerable-image:latest"
    )
    assert (ended.status, ended.message) == (Status.FAIL, "base OS Debian 10 reached end of support on 2024-06-30")
    extended = one(
        "image_os_supported", context(debian, date(2023, 1, 1)), "image/docker.io/library/vulnerable-image:latest"
    )
    assert extended.status is Status.WARN and "past end of standard support" in extended.message


def test_os_without_lifecycle_or_unnamed_is_unknown() -> None:
    busybox = one("image_os_supported", context(busybox_inventory(), date(2025, 7, 1)), BUSYBOX)
    assert busybox.status is Status.UNKNOWN
    assert (
        busybox.message
        == "base OS busybox 1.32.1: a BusyBox image has no distribution release with a support lifecycle"
    )
    nginx = one(
        "image_os_supported",
        context(nginx_inventory("trivy-operator/defectdojo-vulnerabilityreport-nginx-alpine.json"), date(2023, 4, 1)),
        NGINX,
    )
    assert (nginx.status, nginx.message) == (Status.UNKNOWN, "the scan report does not name the image's base OS")


@pytest.mark.parametrize(
    ("family", "name", "product", "cycle"),
    [
        ("alpine", "3.9.4", "alpine-linux", "3.9"),
        ("amazon", "2 (Karoo)", "amazon-linux", "2"),
        ("amazon", "2023.3.20240219", "amazon-linux", "2023"),
        ("amzn", "2018.03", "amazon-linux", "2018.03"),
        ("debian", "10.13", "debian", "10"),
        ("debian", "bookworm/sid", "debian", "12"),
        ("ubuntu", "22.04", "ubuntu", "22.04"),
        ("redhat", "8.7", "rhel", "8"),
        ("rhel", "9.4", "rhel", "9"),
        ("centos", "8.0", "centos", "8"),
        ("photon", "3.0", "vmware-photon", "3.0"),
        ("ol", "8.9", "oracle-linux", "8"),
        ("rocky", "9.3", "rocky-linux", "9"),
        ("alma", "9.3", "almalinux", "9"),
        ("suse linux enterprise server", "15.5", "sles", "15.5"),
        ("opensuse.leap", "15.6", "opensuse", "15.6"),
    ],
)
def test_scanner_os_families_map_to_lifecycle_releases(family: str, name: str, product: str, cycle: str) -> None:
    found, release, why = os_release(knowledge().catalog, family, name)
    assert (found.id if found else None, release, why) == (product, cycle, "")


def test_unknown_release_and_family_say_why() -> None:
    assert os_release(knowledge().catalog, "alpine", "edge")[1:] == (
        None,
        "Alpine Linux edge is not a release in the lifecycle data",
    )
    assert os_release(knowledge().catalog, "wolfi", "20230201")[2].startswith("Wolfi is a rolling distribution")
    assert os_release(knowledge().catalog, "plan9", "4")[2] == "no lifecycle data for the OS family 'plan9'"


# ------------------------------------------------------------------------------------------
# patched_image_redeployed (the real-registry tests are in test_registry_check.py)


def resolved(digest: str, created: datetime | None = None, platform: str | None = None) -> Resolution:
    return Resolution(
        ResolutionStatus.RESOLVED,
        f"resolved to {digest}",
        digest,
        "application/vnd.oci.image.index.v1+json",
        created,
        platform,
    )


def test_without_registry_evidence_one_cluster_unknown_says_what_is_needed() -> None:
    (only,) = run("patched_image_redeployed", context(make_inventory([app_pod()]), date(2026, 1, 1))).values()
    assert (only.subject, only.status) == ("cluster", Status.UNKNOWN)
    assert "--registry-check" in only.message


def test_tag_moved_fails_with_both_digests_and_the_newer_created_date() -> None:
    registry = {"registry.example/app:1.0": resolved(DIGEST_B, datetime(2026, 3, 2, 9, 0, tzinfo=UTC))}
    found = one(
        "patched_image_redeployed",
        context(make_inventory([app_pod()]), date(2026, 4, 1), tag_resolutions=registry),
        f"image/registry.example/app@{DIGEST_A}",
    )
    assert (found.status, found.severity) == (Status.FAIL, Severity.HIGH)
    assert found.message == (
        f"the tag now resolves to a different image ({DIGEST_B[:19]}…, created 2026-03-02) than the running digest: "
        "the patched image is not redeployed"
    )
    (tag,) = found.evidence["tags"]
    assert (tag["running_digest"], tag["registry_digest"], tag["state"]) == (DIGEST_A, DIGEST_B, "moved")
    assert found.evidence["newer_image_created"] == "2026-03-02T09:00:00+00:00"


def test_tag_still_at_the_running_digest_or_its_platform_manifest_passes() -> None:
    ctx = context(
        make_inventory([app_pod()]), date(2026, 4, 1), tag_resolutions={"registry.example/app:1.0": resolved(DIGEST_A)}
    )
    assert one("patched_image_redeployed", ctx, f"image/registry.example/app@{DIGEST_A}").message == (
        "the tag still resolves to the running digest"
    )
    platform = {"registry.example/app:1.0": resolved(DIGEST_B, platform=DIGEST_A)}
    ctx = context(make_inventory([app_pod()]), date(2026, 4, 1), tag_resolutions=platform)
    assert one("patched_image_redeployed", ctx, f"image/registry.example/app@{DIGEST_A}").status is Status.PASS


def test_a_registry_answer_given_after_the_as_of_date_is_no_evidence_for_it() -> None:
    """Issue 14: ``--as-of 2026-09-01 --registry-check`` passed on an answer fetched 2026-12-07."""
    subject = f"image/registry.example/app@{DIGEST_A}"
    as_of = date(2026, 9, 1)
    answered = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
    for digest in (DIGEST_A, DIGEST_B):  # the tag at the running digest today, and moved today
        late = {"registry.example/app:1.0": dataclasses.replace(resolved(digest), resolved_at=answered)}
        found = one(
            "patched_image_redeployed", context(make_inventory([app_pod()]), as_of, tag_resolutions=late), subject
        )
        assert (found.status, found.message) == (
            Status.UNKNOWN,
            "where the tag pointed on 2026-09-01 is unknown: the registry answered on 2026-12-07, after the as-of "
            "date 2026-09-01; a later answer is no evidence for that date",
        )
        (tag,) = found.evidence["tags"]
        assert (tag["state"], tag["registry_digest"]) == ("unknown", digest)
        assert tag["registry_resolved_at"] == "2026-12-07T21:00:00+00:00"
    # an answer given on the as-of date (or before it) is evidence for it, as before
    current = {"registry.example/app:1.0": dataclasses.replace(resolved(DIGEST_A), resolved_at=answered)}
    found = one(
        "patched_image_redeployed",
        context(make_inventory([app_pod()]), answered.date(), tag_resolutions=current),
        subject,
    )
    assert (found.status, found.message) == (Status.PASS, "the tag still resolves to the running digest")
    moved = {"registry.example/app:1.0": dataclasses.replace(resolved(DIGEST_B), resolved_at=answered)}
    found = one(
        "patched_image_redeployed",
        context(make_inventory([app_pod()]), date(2026, 12, 8), tag_resolutions=moved),
        subject,
    )
    assert found.status is Status.FAIL


def test_registry_failures_local_ids_and_digest_pins() -> None:
    pods = [
        app_pod(),
        make_pod("local", "registry.example/lib:2", LOCAL_ID),
        make_pod("pinned", f"registry.example/pinned@{DIGEST_B}", f"registry.example/pinned@{DIGEST_B}"),
    ]
    registry = {
        "registry.example/app:1.0": Resolution(
            ResolutionStatus.NOT_FOUND, "registry.example/app:1.0 not found (the repository exists)"
        )
    }
    found = run("patched_image_redeployed", context(make_inventory(pods), date(2026, 4, 1), tag_resolutions=registry))
    missing = found[f"image/registry.example/app@{DIGEST_A}"]
    assert (missing.status, missing.message) == (
        Status.UNKNOWN,
        "where the tag points now is unknown (not_found: registry.example/app:1.0 not found (the repository exists))",
    )
    assert found["image/registry.example/lib:2"].status is Status.UNKNOWN
    pinned = found[f"image/registry.example/pinned@{DIGEST_B}"]
    assert (pinned.status, pinned.message) == (
        Status.PASS,
        "the workload pins the image by digest; no tag can move under it",
    )


# ------------------------------------------------------------------------------------------
# image_reference_immutable


@pytest.mark.parametrize(
    ("reference", "expected", "words"),
    [
        ("nginx", Status.WARN, "':latest' or without a tag"),
        ("nginx:latest", Status.WARN, "':latest' or without a tag"),
        ("nginx:1.27.2", Status.WARN, "a tag without a digest"),
        (f"nginx@{DIGEST_A}", Status.PASS, "referenced by digest"),
        (f"nginx:1.27.2@{DIGEST_A}", Status.PASS, "referenced by digest"),
    ],
)
def test_reference_kinds(reference: str, expected: Status, words: str) -> None:
    pod = make_pod("web", reference, f"docker.io/library/nginx@{DIGEST_A}")
    found = one(
        "image_reference_immutable",
        context(make_inventory([pod]), date(2026, 1, 1)),
        f"image/docker.io/library/nginx@{DIGEST_A}",
    )
    assert found.status is expected and words in found.message


def test_worst_reference_of_an_image_counts_and_openshift_digest_pins_pass() -> None:
    pods = [
        make_pod("a", f"nginx@{DIGEST_A}", f"docker.io/library/nginx@{DIGEST_A}"),
        make_pod("b", "nginx:latest", f"docker.io/library/nginx@{DIGEST_A}"),
        make_pod(
            "etcd",
            f"quay.io/openshift-release-dev/ocp-v4.0-art-dev@{DIGEST_B}",
            f"quay.io/openshift-release-dev/ocp-v4.0-art-dev@{DIGEST_B}",
            namespace="openshift-etcd",
        ),
    ]
    found = run("image_reference_immutable", context(make_inventory(pods), date(2026, 1, 1)))
    nginx = found[f"image/docker.io/library/nginx@{DIGEST_A}"]
    assert nginx.status is Status.WARN
    assert nginx.evidence["reference_kinds"] == {f"nginx@{DIGEST_A}": "digest", "nginx:latest": "latest"}
    assert found[f"image/quay.io/openshift-release-dev/ocp-v4.0-art-dev@{DIGEST_B}"].status is Status.PASS


# ------------------------------------------------------------------------------------------
# image_built_recently


def test_image_created_long_ago_warns_with_the_date_and_its_source() -> None:
    # Trivy golden: Metadata.ImageConfig.created 2019-05-11T00:07:03Z
    found = one("image_built_recently", context(alpine_local_inventory(), date(2021, 9, 1)), ALPINE)
    assert (found.status, found.message) == (
        Status.WARN,
        "the image was built more than 180 days before the as-of date: rebuild it on current packages",
    )
    assert (found.evidence["created"], found.evidence["age_days"]) == ("2019-05-11", 844)
    assert "trivy-golden-alpine-3.9-eosl-current-schema.json" in found.evidence["created_from"]
    lenient = context(alpine_local_inventory(), date(2021, 9, 1), policy=Policy(image_max_age_days=1000))
    young = one("image_built_recently", lenient, ALPINE)
    assert (young.status, young.message) == (Status.PASS, "the image was built within 1000 days of the as-of date")


def test_image_age_from_the_registry_only_when_it_describes_the_running_digest() -> None:
    subject = f"image/registry.example/app@{DIGEST_A}"
    same = {"registry.example/app:1.0": resolved(DIGEST_A, datetime(2026, 3, 1, tzinfo=UTC))}
    check = "image_built_recently"
    found = one(check, context(make_inventory([app_pod()]), date(2026, 4, 1), tag_resolutions=same), subject)
    assert (
        found.status is Status.PASS
        and found.evidence["created_from"] == "registry image config (registry.example/app:1.0)"
    )
    moved = {"registry.example/app:1.0": resolved(DIGEST_B, datetime(2026, 3, 1, tzinfo=UTC))}
    unknown = one(check, context(make_inventory([app_pod()]), date(2026, 4, 1), tag_resolutions=moved), subject)
    assert unknown.status is Status.UNKNOWN


def test_placeholder_creation_date_of_reproducible_builds_is_unknown() -> None:
    epoch = {"registry.example/app:1.0": resolved(DIGEST_A, datetime(1970, 1, 1, tzinfo=UTC))}
    found = one(
        "image_built_recently",
        context(make_inventory([app_pod()]), date(2026, 4, 1), tag_resolutions=epoch),
        f"image/registry.example/app@{DIGEST_A}",
    )
    assert found.status is Status.UNKNOWN and "placeholder (reproducible build)" in found.message


# ------------------------------------------------------------------------------------------
# the runner, the CLI and a generated cluster


def test_evaluate_passes_registry_evidence_through() -> None:
    registry = {"registry.example/app:1.0": resolved(DIGEST_B)}
    findings = evaluate(make_inventory([app_pod()]), knowledge(), Policy(), date(2026, 4, 1), tag_resolutions=registry)
    redeployed = [f for f in findings if f.check == "patched_image_redeployed"]
    assert [(f.subject, f.status) for f in redeployed] == [(f"image/registry.example/app@{DIGEST_A}", Status.FAIL)]
    assert "PCI-CG-10.3" in redeployed[0].requirements and "PCI-DSS-6.3.3" in redeployed[0].requirements


def test_cli_reads_scan_reports_and_reports_every_image(tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    (snapshot / "pod.json").write_bytes((KUBE / "nginx-docker-pullable-pod.json").read_bytes())
    (snapshot / "version.json").write_text(json.dumps({"gitVersion": "v1.31.3", "major": "1", "minor": "31"}))
    pods = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [pod_doc("bb", "busybox:1.32.1", f"docker.io/library/busybox@{BUSYBOX_DIGEST}")],
    }
    (snapshot / "busybox.json").write_text(json.dumps(pods))
    reports = tmp_path / "reports"
    reports.mkdir()
    source = Path(__file__).parent / "data" / "scans"
    (reports / "busybox.json").write_bytes((source / "grype" / "defectdojo-grype-0.94-busybox-epss.json").read_bytes())
    (reports / "README.md").write_text("scan reports of the shop cluster\n")
    operator = source / "trivy-operator" / "defectdojo-vulnerabilityreport-nginx-alpine.json"
    out = tmp_path / "report.json"
    code = main(
        [
            "audit", str(snapshot), "--as-of", "2023-04-10", "--format", "json", "-o", str(out),
            "--scan-report", str(reports), "--scan-report", str(operator), "--fail-on", "never",
        ]
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out.read_text())
    scanned = {f["subject"]: f for f in doc["findings"] if f["check"] == "image_scanned_recently"}
    assert scanned[NGINX]["status"] == "warn"
    assert scanned[BUSYBOX]["status"] == "fail"  # scanned 2025-06-19: after the as-of date
    paths = {i["path"]: i for i in doc["inputs"]}
    assert paths[str(reports / "busybox.json")]["read_as"] == "grype (1 image scan)"
    assert paths[str(reports / "README.md")]["read_as"] == "ignored"
    assert doc["cluster"]["images"] == 2


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--scan-cache", "x"], "--scan-cache needs --scan"),
        (["--insecure-registry", "localhost:5000"], "need --registry-check"),
        (["--scan-report", "/nonexistent/reports"], "no such file or directory"),
        (["--registry-timeout", "0", "--registry-check"], "--registry-timeout"),
    ],
)
def test_cli_refuses_image_options_that_make_no_sense(
    args: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["audit", str(KUBE / "nginx-docker-pullable-pod.json"), *args])  # refused before reading
    assert code == 2
    assert words in capsys.readouterr().err


@pytest.fixture(scope="module")
def generated_cluster(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    out = tmp_path_factory.mktemp("generated")
    return read_snapshot(write_cluster(out, nodes=20, pods=300, images=60, seed=11))


def test_every_running_image_of_a_generated_cluster_gets_a_verdict_from_every_check(
    generated_cluster: Inventory,
) -> None:
    images = running_images(generated_cluster)
    subjects = {i.subject for i in images.images}
    # a scan report for every third digest image, a registry answer for every reference
    known = [i for i in images.images if i.digest]
    scans = [
        grype(
            grype_doc(
                timestamp="2026-11-20T00:00:00Z",
                vulnerabilities=[("CVE-2026-0001", "High", ["2.0"])],
                digest=i.digest or "",
                tag=i.references[0] if ":" in i.references[0].rsplit("/", 1)[-1] else i.references[0] + ":latest",
            ),
            f"scan-{n}.json",
        )
        for n, i in enumerate(known[::3])
    ]
    registry = {ref: resolved(i.digest or "") for i in known for ref in i.references}
    inventory = dataclasses.replace(generated_cluster, scans=tuple(scans))
    findings = evaluate(inventory, knowledge(), Policy(), date(2026, 11, 27), tag_resolutions=registry)
    for check in IMAGE_CHECKS:
        mine = [f for f in findings if f.check == check]
        assert {f.subject for f in mine} == subjects, check
        assert all(f.status is not Status.ERROR for f in mine), [f.message for f in mine if f.status is Status.ERROR]
    scanned = [f for f in findings if f.check == "image_scanned_recently"]
    assert sum(f.status is Status.PASS for f in scanned) == len(scans)
    # the terminal report groups images: one row per situation, not one per image
    groups = group_findings(f for f in findings if f.check in IMAGE_CHECKS and f.status is not Status.PASS)
    assert len(groups) < 15 < len(subjects)
    when = datetime(2026, 11, 27, tzinfo=UTC)
    result = build_report(inventory, knowledge(), Policy(), date(2026, 11, 27), when, tag_resolutions=registry)
    unscanned = [f for f in scanned if f.message == "no scan evidence for the running image"]
    assert len(unscanned) == len(known) - len(scans)
    assert f"{len(unscanned)} images" in render_terminal(result, width=200)


# ------------------------------------------------------------------------------------------
# image_scanned_recently: the scanner's vulnerability database (PCI DSS 11.3.1)


@pytest.mark.parametrize(
    ("built", "status"),
    [("2026-03-24T12:00:00Z", Status.PASS), ("2026-03-23T12:00:00Z", Status.WARN)],
)
def test_a_scan_made_with_an_old_vulnerability_database_warns(built: str, status: Status) -> None:
    # Scanned 2026-03-31T12:00Z: a database built 7 days before is within scanner_db_max_age_days (7); 8 is not.
    doc = grype_doc(timestamp="2026-03-31T12:00:00Z", vulnerabilities=[])
    doc["descriptor"]["db"] = {"built": built}
    inventory = make_inventory([app_pod()], scans=[grype(doc, "grype-old-db.json")])
    found = one(
        "image_scanned_recently", context(inventory, date(2026, 4, 2)), f"image/registry.example/app@{DIGEST_A}"
    )
    assert found.status is status
    assert found.evidence["scanner_db_max_age_days"] == 7
    if status is Status.WARN:
        assert found.message == (
            "scanned within 30 days (matched by digest); the scanner's vulnerability database was 8 days old when the "
            "scan ran (policy: 7 days), so vulnerabilities published since it was built are missing from the scan"
        )
        assert found.evidence["vulnerability_db_age_days_at_scan"] == 8
        # WARN is recent evidence with a reservation, and the coverage warning says which kind
        assert scan_coverage_warning([found, found.replace(subject="image/other", status=Status.FAIL)], 30) == (
            "scan coverage: 1 of 2 running images (50.0%) have scan evidence from the last 30 days (0 without "
            "reservation, 1 with a warning: a match by tag only, or an outdated vulnerability database)"
        )
    else:
        assert found.message == "scanned within 30 days (matched by digest)"


def test_the_database_age_of_real_reports_is_judged_where_they_state_it() -> None:
    # grype 0.94: database built 2025-06-19T04:12:38Z, scan 2025-06-19T11:43:35Z (0 days).
    grype_found = one("image_scanned_recently", context(busybox_inventory(), date(2025, 7, 1)), BUSYBOX)
    assert grype_found.status is Status.PASS and grype_found.evidence["vulnerability_db_age_days_at_scan"] == 0
    strict = Policy(scanner_db_max_age_days=0)
    assert one(
        "image_scanned_recently", context(busybox_inventory(), date(2025, 7, 1), policy=strict), BUSYBOX
    ).status is (Status.PASS)
    # Trivy's JSON does not date its database: judged on the scan time, and the evidence says so.
    trivy_found = one("image_scanned_recently", context(alpine_local_inventory(), date(2021, 9, 1)), ALPINE)
    assert trivy_found.status is Status.PASS
    assert trivy_found.evidence["vulnerability_db_age"] == "not stated by the report"


# ------------------------------------------------------------------------------------------
# image_registry_allowed (PCI container guidance 3.3)


def registry_inventory() -> Inventory:
    return make_inventory(
        [
            real_pod(KUBE / "nginx-docker-pullable-pod.json"),  # docker.io/library/nginx@sha256:482ead…
            app_pod("a"),  # registry.example/app
            make_pod("gh", "ghcr.io/acme/tool:1.2", f"ghcr.io/acme/tool@{DIGEST_B}"),
        ]
    )


def test_without_allowed_registries_the_check_is_unknown_not_a_pass() -> None:
    (only,) = run("image_registry_allowed", context(registry_inventory(), date(2026, 1, 1))).values()
    assert (only.subject, only.status) == ("cluster", Status.UNKNOWN)
    assert "the policy names no allowed registries" in only.message


def test_images_from_registries_outside_the_policys_list_fail() -> None:
    policy = Policy(allowed_registries=("index.docker.io", "ghcr.io/acme"))
    found = run("image_registry_allowed", context(registry_inventory(), date(2026, 1, 1), policy=policy))
    assert found[NGINX].status is Status.PASS
    assert found[NGINX].message == "the image comes from an allowed registry (docker.io)"
    assert (
        found[f"image/ghcr.io/acme/tool@{DIGEST_B}"].message
        == "the image comes from an allowed registry (ghcr.io/acme)"
    )
    outside = found[f"image/registry.example/app@{DIGEST_A}"]
    assert (outside.status, outside.severity) == (Status.FAIL, Severity.HIGH)
    assert (
        outside.message == "the image comes from a registry outside the policy's allowed_registries: registry.example"
    )
    assert outside.evidence["registries"] == {"registry.example/app": None}
    # a path prefix is no host rule: ghcr.io/other is outside ghcr.io/acme; a host pattern allows subdomains
    other = make_inventory([make_pod("x", "ghcr.io/other/tool:1", f"ghcr.io/other/tool@{DIGEST_B}")])
    assert one("image_registry_allowed", context(other, date(2026, 1, 1), policy=policy),
               f"image/ghcr.io/other/tool@{DIGEST_B}").status is Status.FAIL  # fmt: skip
    pattern = Policy(allowed_registries=("*.example", "https://Docker.io/", "ghcr.io"))
    judged = run("image_registry_allowed", context(registry_inventory(), date(2026, 1, 1), policy=pattern))
    assert {f.status for f in judged.values()} == {Status.PASS}


def test_image_registry_allowed_is_registered_and_mapped_to_trusted_sources() -> None:
    ids = [c.id for c in ALL_CHECKS]
    assert ids.count("image_registry_allowed") == 1
    requirements = {r.id: r for r in load_requirements(ids)}
    assert requirements["PCI-CG-3.3"].checks == ("image_registry_allowed",)
