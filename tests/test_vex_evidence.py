"""VEX never makes a verdict better than the scan evidence allows (issue 10; "more evidence, never a weaker verdict").

A VEX statement says a vulnerability does not affect an image; it says nothing about the
vulnerabilities a scan did not show.  So where the image's scan evidence is missing or unusable (no
scan, a failed scan, an undated or out-of-date scan, an unknown running digest) the verdict is
UNKNOWN with VEX exactly as without it: VEX never turns UNKNOWN into PASS (or WARN).  And VEX the
scanner applied, whose statement cannot be checked, never gives more than WARN.

The VEX documents are the real go-vex document (by digest) and a constructed repository-wide one;
the scans are constructed in Trivy's layout as in test_vex_images.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from typing import Any

import pytest

from patchlevel.inventory import Inventory
from patchlevel.model import Finding, Status
from patchlevel.policy import Policy
from patchlevel.scans import ScanReport
from patchlevel.vuln.vex import load_vex, parse_vex
from test_images import make_inventory, make_pod, pod_doc, status
from test_vex_images import ALPINE, ALPINE_DIGEST, GO_VEX, STRICT, alpine_doc, judge, parse, suppressed, trivy_doc

AS_OF = date(2023, 9, 10)
UNKNOWN_SUBJECT = "image/docker.io/library/alpine:3.17.4"


def repository_wide() -> Any:
    """Constructed: the go-vex statements' CVEs marked not_affected for every alpine image (no digest, no tag)."""
    statements = [
        {
            "vulnerability": {"name": cve},
            "products": [{"@id": "pkg:oci/alpine?repository_url=docker.io/library/alpine"}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_present",
            "timestamp": "2023-08-01T00:00:00Z",
        }
        for cve in ("CVE-2023-3446", "CVE-2023-2650")
    ]
    body = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.invalid/alpine", "author": "Team"}
    return parse_vex(json.dumps(body | {"statements": statements}).encode(), "alpine-team.json")


def vex_documents() -> tuple[Any, ...]:
    return (*load_vex(GO_VEX)[0], repository_wide())


def both(inventory: Inventory, subject: str = ALPINE, policy: Policy = STRICT) -> tuple[Finding, Finding]:
    """The image's finding without VEX, and with every VEX document."""
    without = judge(dataclasses.replace(inventory, vex=()), AS_OF, policy)[subject]
    with_vex = judge(dataclasses.replace(inventory, vex=vex_documents()), AS_OF, policy)[subject]
    return without, with_vex


def pod() -> Any:
    return make_pod("web", "alpine:3.17.4", f"docker.io/library/alpine@{ALPINE_DIGEST}")


def undated() -> ScanReport:
    doc = alpine_doc("2023-09-01T08:00:00Z")
    del doc["CreatedAt"]
    return parse(doc)


def failed() -> ScanReport:
    return dataclasses.replace(parse(alpine_doc("2023-09-01T08:00:00Z")), error="trivy exited 1: TOOMANYREQUESTS")


@pytest.mark.parametrize(
    ("scans", "policy", "why"),
    [
        ((), STRICT, "no scan evidence for the running image"),
        ((failed(),), STRICT, "the scan of this image failed"),
        ((undated(),), STRICT, "the scan report is undated"),
        (
            (parse(alpine_doc("2023-09-01T08:00:00Z")),),
            dataclasses.replace(STRICT, scan_max_age_days=7),
            "the newest scan ran 9 days before the as-of date (policy: 7 days)",
        ),
    ],
    ids=["no-scan", "failed-scan", "undated-scan", "old-scan"],
)
def test_vex_never_lifts_an_image_whose_scan_evidence_is_unknown(
    scans: tuple[ScanReport, ...], policy: Policy, why: str
) -> None:
    without, with_vex = both(make_inventory([pod()], scans=scans), policy=policy)
    # Without VEX the overdue vulnerabilities an undated or old scan still lists FAIL (worse than UNKNOWN);
    # with VEX they are out of the SLA, and what the scan cannot show keeps the image UNKNOWN.
    assert without.status in (Status.UNKNOWN, Status.FAIL) and why in without.message
    assert with_vex.status is Status.UNKNOWN and why in with_vex.message


def test_the_same_scan_made_usable_lets_the_statement_decide() -> None:
    # The control for the cases above: a dated, recent scan of the running digest, and the statements apply.
    without, with_vex = both(make_inventory([pod()], scans=[parse(alpine_doc("2023-09-01T08:00:00Z"))]))
    assert (without.status, with_vex.status) == (Status.FAIL, Status.PASS)


def test_vex_never_lifts_an_image_whose_running_digest_is_unknown() -> None:
    # No imageID: the image is known by its reference only; the repository-wide statement would match it.
    blind = make_pod("web", "alpine:3.17.4", statuses=[status("app", "alpine:3.17.4", "")])
    assert pod_doc("web")["status"]["containerStatuses"][0]["imageID"]  # the usual pod has one
    without, with_vex = both(
        make_inventory([blind], scans=[parse(alpine_doc("2023-09-01T08:00:00Z"))]), UNKNOWN_SUBJECT
    )
    assert (without.status, with_vex.status) == (Status.UNKNOWN, Status.UNKNOWN)
    assert with_vex.message == without.message


def test_scanner_applied_vex_in_an_old_scan_stays_unknown() -> None:
    distro = "3.17.4"
    finding = suppressed("CVE-2023-3446", "libssl3", "not_affected", "vulnerable_code_not_present", "OpenVEX")
    doc = trivy_doc("alpine:3.17.4", f"alpine@{ALPINE_DIGEST}", "2023-09-01T08:00:00Z", [], distro=distro,
                    suppressed=[finding])  # fmt: skip
    inventory = make_inventory([pod()], scans=[parse(doc)])
    recent = judge(inventory, AS_OF)[ALPINE]
    assert recent.status is Status.WARN  # applied by the scanner: WARN at best, never PASS
    old = judge(inventory, AS_OF, dataclasses.replace(STRICT, scan_max_age_days=7))[ALPINE]
    assert old.status is Status.UNKNOWN


def test_a_vulnerability_without_a_severity_needs_a_statement_about_the_digest_to_pass() -> None:
    # UNKNOWN severity, fixable, open 73 days: UNKNOWN without VEX.  The repository-wide statement takes it
    # out of the SLA but only WARNs; the go-vex statement about the running digest decides it (PASS): it
    # says the vulnerability does not affect this build, whatever its severity.
    doc = alpine_doc("2023-09-01T08:00:00Z")
    for v in doc["Results"][0]["Vulnerabilities"]:
        v["Severity"] = "UNKNOWN"
    inventory = make_inventory([pod()], scans=[parse(doc)])
    assert judge(inventory, AS_OF)[ALPINE].status is Status.UNKNOWN
    by_repository = judge(dataclasses.replace(inventory, vex=(repository_wide(),)), AS_OF)[ALPINE]
    assert by_repository.status is Status.WARN
    assert {v.status for v in by_repository.vulnerabilities} == {Status.WARN}
    by_digest = judge(dataclasses.replace(inventory, vex=tuple(load_vex(GO_VEX)[0])), AS_OF)[ALPINE]
    assert by_digest.status is Status.PASS
