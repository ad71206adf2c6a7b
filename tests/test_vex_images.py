"""VEX statements about running images (issue 10; PCI container guidance 10.3, PCI DSS 6.3.1).

The VEX documents are the real ones of tests/data/vex (see its SOURCES.md): go-vex's OpenVEX v0.2.0
test document naming ``pkg:oci/alpine@sha256%3A124c7d…`` (by digest), and the VEX the Trivy project
publishes for its own image in VEX Hub (``pkg:oci/trivy?repository_url=ghcr.io/aquasecurity/trivy``:
by repository only).  No real scan report of those images exists, so the scans are constructed here
in Trivy's SchemaVersion 2 layout, listing the vulnerabilities and packages the statements name.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from builders import make_context, run
from patchlevel.checks.common import Context
from patchlevel.checks.images import fixable_vulnerabilities_patched_in_time
from patchlevel.cli import main
from patchlevel.importers import parse_scan_document
from patchlevel.inventory import Inventory
from patchlevel.model import Finding, OpenVulnerability, Severity, Status
from patchlevel.policy import Policy
from patchlevel.scans import ScanReport
from patchlevel.vuln.vex import load_vex
from test_images import DATA, make_inventory, make_pod, pod_doc

VEX = DATA / "vex"
GO_VEX = VEX / "openvex-go-vex-v0.2.0-alpine-digest-fixed-not-affected.json"  # 2023-07-17T18:28:47-06:00
TRIVY_HUB = VEX / "openvex-aquasec-vexhub-trivy-image.json"  # 2024-07-10T12:17:44+04:00
ALPINE_DIGEST = "sha256:124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126"
ALPINE = f"image/docker.io/library/alpine@{ALPINE_DIGEST}"
TRIVY_DIGEST = "sha256:" + "7" * 64
TRIVY = f"image/ghcr.io/aquasecurity/trivy@{TRIVY_DIGEST}"
# Medium vulnerabilities are timed and fail in this policy, so the OpenSSL CVEs of these documents decide.
STRICT = Policy(
    sla_days={Severity.CRITICAL: 30, Severity.HIGH: 30, Severity.MEDIUM: 30},
    sla_status={Severity.CRITICAL: Status.FAIL, Severity.HIGH: Status.WARN, Severity.MEDIUM: Status.FAIL},
)


def vulnerability(cve: str, package: str, installed: str, fixed: str, published: str, distro: str) -> dict[str, Any]:
    return {
        "VulnerabilityID": cve,
        "PkgName": package,
        "PkgIdentifier": {"PURL": f"pkg:apk/alpine/{package}@{installed}?arch=x86_64&distro={distro}"},
        "InstalledVersion": installed,
        "FixedVersion": fixed,
        "Status": "fixed",
        "SeveritySource": "nvd",
        "Severity": "MEDIUM",
        "PublishedDate": published,
    }


def trivy_doc(
    artifact: str,
    repo_digest: str,
    created: str,
    vulnerabilities: list[dict[str, Any]],
    *,
    distro: str,
    suppressed: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``trivy image -f json`` (SchemaVersion 2) of one alpine image; ``suppressed``: --show-suppressed findings."""
    result: dict[str, Any] = {
        "Target": f"{artifact} (alpine {distro})",
        "Class": "os-pkgs",
        "Type": "alpine",
        "Vulnerabilities": vulnerabilities,
    }
    if suppressed is not None:
        result["ExperimentalModifiedFindings"] = suppressed
    return {
        "SchemaVersion": 2,
        "CreatedAt": created,
        "ArtifactName": artifact,
        "ArtifactType": "container_image",
        "Metadata": {
            "OS": {"Family": "alpine", "Name": distro},
            "RepoTags": [artifact],
            "RepoDigests": [repo_digest],
        },
        "Results": [result],
    }


def parse(doc: dict[str, Any], source: str = "constructed-trivy.json") -> ScanReport:
    (parsed,) = parse_scan_document(json.dumps(doc).encode(), source)
    return parsed


def alpine_doc(created: str) -> dict[str, Any]:
    # The go-vex statements name libssl3/libcrypto3 3.0.8-r3 (alpine 3.17): CVE-2023-3446 not_affected
    # (vulnerable_code_not_present, with an impact statement), CVE-2023-2650 fixed.
    distro = "3.17.4"
    return trivy_doc(
        "alpine:3.17.4",
        f"alpine@{ALPINE_DIGEST}",
        created,
        [
            vulnerability("CVE-2023-3446", "libssl3", "3.0.8-r3", "3.0.9-r3", "2023-07-19T12:15:00Z", distro),
            vulnerability("CVE-2023-3446", "libcrypto3", "3.0.8-r3", "3.0.9-r3", "2023-07-19T12:15:00Z", distro),
            vulnerability("CVE-2023-2650", "libssl3", "3.0.8-r3", "3.0.9-r0", "2023-05-30T14:15:00Z", distro),
        ],
        distro=distro,
    )


def alpine(created: str, *, vex: bool = True) -> Inventory:
    pod = make_pod("web", "alpine:3.17.4", f"docker.io/library/alpine@{ALPINE_DIGEST}")
    inventory = make_inventory([pod], scans=[parse(alpine_doc(created))])
    documents, _ = load_vex(GO_VEX)
    return _with_vex(inventory, documents if vex else [])


def _with_vex(inventory: Inventory, documents: list[Any]) -> Inventory:
    import dataclasses

    return dataclasses.replace(inventory, vex=tuple(documents))


def judge(inventory: Inventory, as_of: date, policy: Policy = STRICT) -> dict[str, Finding]:
    ctx: Context = make_context(inventory, as_of=as_of, policy=policy)
    return {f.subject: f for f in run(fixable_vulnerabilities_patched_in_time, ctx)}


def typed(found: Finding, cve: str) -> list[OpenVulnerability]:
    return [v for v in found.vulnerabilities if v.id == cve]


# ------------------------------------------------------------------------------------------
# A statement by digest turns the image's FAIL into PASS, and stays visible


def test_without_vex_the_overdue_openssl_vulnerabilities_fail() -> None:
    found = judge(alpine("2023-09-01T08:00:00Z", vex=False), date(2023, 9, 10))[ALPINE]
    assert found.status is Status.FAIL
    assert found.message.startswith(
        "2 fixable medium vulnerabilities (in 3 packages) open longer than the 30-day window (clock: publication "
        "date): CVE-2023-2650, CVE-2023-3446"
    )


def test_a_not_affected_statement_by_digest_turns_fail_into_pass_with_the_statement_shown() -> None:
    found = judge(alpine("2023-09-01T08:00:00Z"), date(2023, 9, 10))[ALPINE]
    assert found.status is Status.PASS
    assert found.message == (
        "no fixable critical or high or medium vulnerability is open; 2 vulnerabilities (in 3 packages) out of the "
        "SLA by VEX (counted apart): CVE-2023-3446 NOT AFFECTED (VEX: OpenVEX 0.2.0 "
        "https://openvex.dev/docs/public/vex-d4e9020b6d0d26f131d535e055902dd6ccf3e2088bce3079a8cd3588a4b14c78, "
        "The OpenVEX Project <openvex@openssf.org>, 2023-07-18): vulnerable_code_not_present; +1 more"
    )
    not_affected = typed(found, "CVE-2023-3446")
    assert [(v.package, v.vex, v.status) for v in not_affected] == [
        ("libssl3", "not_affected", Status.PASS),
        ("libcrypto3", "not_affected", Status.PASS),
    ]
    (fixed,) = typed(found, "CVE-2023-2650")
    assert (fixed.vex, fixed.status, fixed.overdue) == ("fixed", Status.PASS, False)
    assert fixed.vex_statement.startswith("FIXED (VEX: OpenVEX 0.2.0 https://openvex.dev/docs/public/vex-d4e9")
    assert found.evidence["vex_out_of_sla"] == {"not_affected": 2, "fixed": 1}
    first = found.evidence["vex"][0]  # type: ignore[index]
    assert first["matched_by"] == "digest"
    assert (first["author"], first["timestamp"], first["justification"]) == (
        "The OpenVEX Project <openvex@openssf.org>",
        "2023-07-17T18:28:47.696004-06:00",
        "vulnerable_code_not_present",
    )
    assert first["impact_statement"] == "affected functions were removed before packaging"
    assert first["document"].endswith("openvex-go-vex-v0.2.0-alpine-digest-fixed-not-affected.json")
    assert found.evidence["by_severity"] == {}  # what VEX took out is not counted as open


def test_a_statement_about_other_packages_of_the_image_does_not_apply() -> None:
    # The statements name libssl3 and libcrypto3; the same CVE in another package of the image stays open.
    doc = alpine_doc("2023-09-01T08:00:00Z")
    doc["Results"][0]["Vulnerabilities"].append(
        vulnerability("CVE-2023-3446", "openssl", "3.0.8-r3", "3.0.9-r3", "2023-07-19T12:15:00Z", "3.17.4")
    )
    pod = make_pod("web", "alpine:3.17.4", f"docker.io/library/alpine@{ALPINE_DIGEST}")
    inventory = _with_vex(make_inventory([pod], scans=[parse(doc)]), load_vex(GO_VEX)[0])
    found = judge(inventory, date(2023, 9, 10))[ALPINE]
    assert found.status is Status.FAIL
    assert [(v.package, v.vex) for v in typed(found, "CVE-2023-3446")] == [
        ("libssl3", "not_affected"),
        ("libcrypto3", "not_affected"),
        ("openssl", ""),
    ]


# ------------------------------------------------------------------------------------------
# Ignored statements are reported


def test_a_statement_older_than_the_maximum_age_is_ignored_and_reported() -> None:
    # 2023-07-18 (UTC) to 2024-08-01 is 380 days: over vex_max_age_days (365).
    found = judge(alpine("2024-07-25T08:00:00Z"), date(2024, 8, 1))[ALPINE]
    assert found.status is Status.FAIL
    assert found.message.endswith(
        "; 2 VEX statements ignored: CVE-2023-3446 "
        "(https://openvex.dev/docs/public/vex-d4e9020b6d0d26f131d535e055902dd6ccf3e2088bce3079a8cd3588a4b14c78): "
        "dated 2023-07-18, 380 days before the as-of date: older than the 365-day maximum; +1 more"
    )
    ignored = found.evidence["vex_ignored"]
    assert {(i["id"], i["status"]) for i in ignored} == {  # type: ignore[union-attr]
        ("CVE-2023-3446", "not_affected"),
        ("CVE-2023-2650", "fixed"),
    }
    assert all(v.vex == "" for v in found.vulnerabilities)
    # A longer maximum in the policy makes the same statement count again.
    policy = Policy(sla_days=STRICT.sla_days, sla_status=STRICT.sla_status, vex_max_age_days=400)
    assert judge(alpine("2024-07-25T08:00:00Z"), date(2024, 8, 1), policy)[ALPINE].status is Status.PASS


# ------------------------------------------------------------------------------------------
# A statement by repository only warns


def trivy_image(suppressed: list[dict[str, Any]] | None = None, *, vulnerabilities: bool = True) -> Inventory:
    distro = "3.20.1"
    listed = (
        [vulnerability("CVE-2024-5535", "libssl3", "3.3.1-r0", "3.3.1-r1", "2024-06-27T11:15:00Z", distro)]
        if vulnerabilities
        else []
    )
    doc = trivy_doc(
        "ghcr.io/aquasecurity/trivy:0.53.0",
        f"ghcr.io/aquasecurity/trivy@{TRIVY_DIGEST}",
        "2024-08-20T06:00:00Z",
        listed,
        distro=distro,
        suppressed=suppressed,
    )
    pod = make_pod("scanner", "ghcr.io/aquasecurity/trivy:0.53.0", f"ghcr.io/aquasecurity/trivy@{TRIVY_DIGEST}")
    return make_inventory([pod], scans=[parse(doc)])


def test_a_statement_naming_the_repository_only_takes_it_out_of_the_sla_but_warns() -> None:
    inventory = _with_vex(trivy_image(), load_vex(TRIVY_HUB)[0])
    found = judge(inventory, date(2024, 8, 25))[TRIVY]
    assert (found.status, found.severity) == (Status.WARN, Severity.MEDIUM)
    assert found.message.startswith(
        "1 vulnerability taken out of the SLA by a VEX statement that names the image's repository, not its digest "
        "(it covers every version of the image): CVE-2024-5535; 1 vulnerability out of the SLA by VEX (counted "
        "apart): CVE-2024-5535 NOT AFFECTED (VEX: OpenVEX 0.2.0 "
    )
    (v,) = found.vulnerabilities
    assert (v.vex, v.status) == ("not_affected", Status.WARN)
    assert found.evidence["vex"][0]["matched_by"] == "repository"  # type: ignore[index]
    assert judge(trivy_image(), date(2024, 8, 25))[TRIVY].status is Status.FAIL  # without the document


# ------------------------------------------------------------------------------------------
# VEX the scanner applied (Trivy --show-suppressed)


def suppressed(cve: str, package: str, status: str, statement: str, source: str) -> dict[str, Any]:
    finding = vulnerability(cve, package, "3.3.1-r0", "3.3.1-r1", "2024-06-27T11:15:00Z", "3.20.1")
    return {"Type": "vulnerability", "Status": status, "Statement": statement, "Source": source, "Finding": finding}


def test_vex_trivy_applied_counts_and_an_ignore_file_does_not() -> None:
    inventory = trivy_image(
        [
            suppressed("CVE-2024-5535", "libssl3", "not_affected", "vulnerable_code_not_in_execute_path", "OpenVEX"),
            suppressed("CVE-2024-4741", "libcrypto3", "ignored", "accepted until the next base image", ".trivyignore"),
            suppressed("CVE-2024-6119", "libcrypto3", "not_affected", "", "CSAF VEX"),
        ],
        vulnerabilities=False,
    )
    (scan,) = inventory.scans
    assert [(v.id, v.suppression.status if v.suppression else "") for v in scan.suppressed] == [
        ("CVE-2024-5535", "not_affected"),
        ("CVE-2024-4741", "ignored"),
        ("CVE-2024-6119", "not_affected"),
    ]
    found = judge(inventory, date(2024, 8, 25))[TRIVY]
    assert found.status is Status.FAIL
    assert found.message.startswith(
        "2 fixable medium vulnerabilities open longer than the 30-day window (clock: publication date): "
        "CVE-2024-4741, CVE-2024-6119"
    )
    assert "CVE-2024-5535 NOT AFFECTED (VEX applied by trivy in its scan of 2024-08-20: OpenVEX): " in found.message
    # Out of the SLA, but a WARN: the report keeps no statement date and no product to check.
    assert (
        "; 1 vulnerability taken out of the SLA by VEX the scanner applied (statement age and product match not "
        "verifiable from the report; give the VEX document with --vex to have it checked): CVE-2024-5535"
    ) in found.message
    by_id = {v.id: v for v in found.vulnerabilities}
    assert (by_id["CVE-2024-5535"].vex, by_id["CVE-2024-5535"].status) == ("not_affected", Status.WARN)
    (applied,) = found.evidence["vex"]  # type: ignore[misc]
    assert (applied["matched_by"], applied["status"]) == ("scanner", "not_affected")  # type: ignore[index]
    assert applied["not_verified"] == "statement age and product match not verifiable from the report"  # type: ignore[index]
    notes = {n["id"]: n["note"] for n in found.evidence["scanner_suppressed_judged"]}  # type: ignore[union-attr]
    assert notes["CVE-2024-4741"] == (
        "the scanner suppressed it (ignored, .trivyignore: accepted until the next base image); that is no VEX "
        "statement: judged as open"
    )
    assert "a not_affected statement without a justification is ignored" in notes["CVE-2024-6119"]


def test_scanner_applied_vex_alone_warns_never_passes() -> None:
    # The only finding is one Trivy suppressed by VEX: without the statement's date and product the
    # image cannot pass; the same statement given with --vex is checked and decides (here: by repository).
    applied = [suppressed("CVE-2024-5535", "libssl3", "not_affected", "vulnerable_code_not_in_execute_path",
                          "OpenVEX")]  # fmt: skip
    found = judge(trivy_image(applied, vulnerabilities=False), date(2024, 8, 25))[TRIVY]
    assert (found.status, found.severity) == (Status.WARN, Severity.MEDIUM)
    assert found.message.startswith("1 vulnerability taken out of the SLA by VEX the scanner applied (statement age")
    # fixed, too: a version the scanner compared, but the statement's date is still unknown
    fixed = [suppressed("CVE-2024-5535", "libssl3", "fixed", "", "CSAF VEX")]
    assert judge(trivy_image(fixed, vulnerabilities=False), date(2024, 8, 25))[TRIVY].status is Status.WARN
    given = _with_vex(trivy_image(applied, vulnerabilities=False), load_vex(TRIVY_HUB)[0])
    found = judge(given, date(2024, 8, 25))[TRIVY]
    assert found.status is Status.WARN and found.evidence["vex"][0]["matched_by"] == "repository"  # type: ignore[index]


def test_a_scanner_applied_statement_patchlevel_ignores_is_judged_as_open() -> None:
    # The Trivy Hub document names CVE-2024-5535 too; on 2025-08-25 it is 411 days old and ignored, so
    # the scanner's application of (perhaps) the same statement is not taken either.
    inventory = _with_vex(
        trivy_image([suppressed("CVE-2024-5535", "libssl3", "not_affected", "vulnerable_code_not_in_execute_path",
                                "ghcr.io/aquasecurity/trivy VEX Hub")], vulnerabilities=False),
        load_vex(TRIVY_HUB)[0],
    )  # fmt: skip
    policy = Policy(sla_days=STRICT.sla_days, sla_status=STRICT.sla_status, scan_max_age_days=400)
    found = judge(inventory, date(2025, 8, 25), policy)[TRIVY]
    (v,) = found.vulnerabilities
    assert (v.vex, v.status) == ("", Status.FAIL)
    assert "but the VEX statement given about it is ignored (dated 2024-07-10, 411 days" in str(
        found.evidence["scanner_suppressed_judged"]
    )


# ------------------------------------------------------------------------------------------
# Through the command line: JSON, HTML and terminal show the statement


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    directory = tmp_path / "snapshot"
    directory.mkdir()
    pods = {"apiVersion": "v1", "kind": "List", "items": [
        pod_doc("web", "alpine:3.17.4", f"docker.io/library/alpine@{ALPINE_DIGEST}")
    ]}  # fmt: skip
    (directory / "pods.json").write_text(json.dumps(pods))
    (directory / "version.json").write_text(json.dumps({"gitVersion": "v1.31.3", "major": "1", "minor": "31"}))
    (tmp_path / "scan.json").write_text(json.dumps(alpine_doc("2023-09-01T08:00:00Z")))
    (tmp_path / "policy.yaml").write_text(
        "version: 1\nsla_days: {critical: 30, high: 30, medium: 30}\nsla_status: {critical: fail, high: warn, "
        "medium: fail}\n"
    )
    return directory


def audit(snapshot: Path, *args: str) -> list[str]:
    base = snapshot.parent
    return [
        "audit", str(snapshot), "--as-of", "2023-09-10", "--scan-report", str(base / "scan.json"),
        "--policy", str(base / "policy.yaml"), "--fail-on", "fail", *args,
    ]  # fmt: skip


def test_the_cli_shows_the_statement_in_json_html_and_terminal(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = snapshot.parent / "out"
    assert main(audit(snapshot, "--format", "json,html", "-o", str(out))) == 1  # FAIL without VEX
    assert main(audit(snapshot, "--vex", str(VEX), "--format", "json,html", "-o", str(out))) == 0
    doc = json.loads((out / "patchlevel-report.json").read_text())
    (finding,) = [f for f in doc["findings"] if f["check"] == "fixable_vulnerabilities_patched_in_time"]
    assert finding["status"] == "pass" and "NOT AFFECTED (VEX: OpenVEX 0.2.0" in finding["message"]
    assert finding["evidence"]["vex"][0]["justification"] == "vulnerable_code_not_present"
    assert doc["summary"]["vex"] == {"vulnerabilities": 2, "images": 1, "by_status": {"not_affected": 1, "fixed": 1}}
    inputs = {Path(i["path"]).name: i for i in doc["inputs"]}
    assert inputs[GO_VEX.name]["read_as"] == "OpenVEX 0.2.0 VEX (5 statements)"
    assert "SOURCES.md" not in inputs  # only *.json files of a directory are read
    assert inputs["openvex-aquasec-vexhub-index.json"]["read_as"] == "ignored"  # VEX Hub's index is no VEX
    html = (out / "patchlevel-report.html").read_text()
    assert '<section id="vex">' in html and "2 vulnerabilities in 1 image out of the SLA by VEX" in html
    assert "NOT AFFECTED (VEX: OpenVEX 0.2.0" in html and "vulnerable_code_not_present" in html
    capsys.readouterr()
    assert main(audit(snapshot, "--vex", str(GO_VEX), "--no-color")) == 0
    terminal = capsys.readouterr().out
    summary = "VEX: 2 vulnerabilities in 1 image out of the SLA by VEX (fixed 1, not affected 1), counted apart"
    assert summary in terminal
    assert "CVE-2023-3446 (libssl3): NOT AFFECTED (VEX: OpenVEX 0.2.0" in terminal


def test_the_cli_refuses_a_vex_path_that_does_not_exist_and_a_file_that_is_not_vex(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(audit(snapshot, "--vex", str(snapshot / "nope.json"))) == 2
    assert "--vex" in capsys.readouterr().err
    assert main(audit(snapshot, "--vex", str(VEX / "openvex-aquasec-vexhub-index.json"))) == 3
    assert "not a VEX document" in capsys.readouterr().err


@pytest.mark.parametrize("status", ["affected", "under_investigation"])
def test_affected_and_under_investigation_change_nothing(status: str, tmp_path: Path) -> None:
    # go-vex's document with every statement's status changed (a constructed variant of the real one)
    doc = json.loads(GO_VEX.read_text())
    for statement in doc["statements"]:
        statement["status"] = status
        statement.pop("justification", None)
        statement.pop("impact_statement", None)
    path = tmp_path / f"{status}.openvex.json"
    path.write_text(json.dumps(doc))
    inventory = _with_vex(alpine("2023-09-01T08:00:00Z", vex=False), load_vex(path)[0])
    found = judge(inventory, date(2023, 9, 10))[ALPINE]
    assert found.status is Status.FAIL and "VEX" not in found.message
    assert all(v.vex == "" for v in found.vulnerabilities) and "vex" not in found.evidence
