"""Waivers: WAIVED never hides a finding; expired ones count again; unmatched ones are reported."""

from __future__ import annotations

from datetime import date

from patchlevel.model import (
    Finding,
    OpenVulnerability,
    PatchGap,
    Severity,
    Status,
    Waiver,
    count_by_status,
    exit_code,
)
from patchlevel.waivers import apply_waivers, vulnerability_ids, waiver_warnings

AS_OF = date(2026, 11, 27)
IMAGE_CHECK = "fixable_vulnerabilities_patched_in_time"


def node_finding(subject: str, status: Status = Status.FAIL, check: str = "node_os_supported") -> Finding:
    return Finding(check, status, Severity.HIGH, subject, "Ubuntu 18.04 reached end of support", remediation="upgrade")


def image_finding(subject: str, ids: list[str]) -> Finding:
    return Finding(
        IMAGE_CHECK,
        Status.FAIL,
        Severity.CRITICAL,
        subject,
        "fixable critical vulnerabilities open longer than 30 days",
        vulnerabilities=tuple(
            OpenVulnerability(i, Severity.CRITICAL, "pkg", "1", "2", age_days=40, sla_days=30, overdue=True,
                              status=Status.FAIL)
            for i in ids
        ),
    )  # fmt: skip


def waiver(subject: str, expires: date = date(2027, 1, 31), **kw: str) -> Waiver:
    return Waiver(kw.pop("check", "node_os_supported"), subject, "accepted", "team", expires, **kw)


def test_a_waiver_turns_matching_findings_to_waived_and_keeps_them() -> None:
    findings = [node_finding("node/pool-a-1"), node_finding("node/pool-a-2"), node_finding("node/pool-b-1")]
    out, outcomes = apply_waivers(findings, [waiver("node/pool-a-*", id="W-1")], AS_OF)
    assert [(f.subject, f.status) for f in out] == [
        ("node/pool-a-1", Status.WAIVED),
        ("node/pool-a-2", Status.WAIVED),
        ("node/pool-b-1", Status.FAIL),
    ]
    assert out[0].waiver is not None and out[0].waiver.id == "W-1"
    assert "without the waiver this finding is FAIL" in out[0].note
    assert out[0].message == findings[0].message and out[0].evidence == findings[0].evidence
    assert outcomes[0].matched == 2 and not outcomes[0].expired
    counts = count_by_status(out)
    assert (counts[Status.WAIVED], counts[Status.FAIL]) == (2, 1)
    assert exit_code(out, Status.FAIL) == 1
    assert exit_code(out[:2], Status.FAIL) == 0


def test_an_expired_waiver_changes_nothing_and_is_reported() -> None:
    finding = node_finding("node/a")
    out, outcomes = apply_waivers([finding], [waiver("node/a", expires=date(2026, 11, 26), id="W-OLD")], AS_OF)
    assert out[0].status is Status.FAIL
    assert out[0].waiver is None
    assert "waiver W-OLD expired on 2026-11-26; the finding counts again" in out[0].note
    assert outcomes[0].expired and outcomes[0].matched == 1
    assert any("W-OLD" in w and "expired on 2026-11-26" in w for w in waiver_warnings(outcomes))


def test_a_waiver_holds_through_its_expiry_day() -> None:
    out, outcomes = apply_waivers([node_finding("node/a")], [waiver("node/a", expires=AS_OF)], AS_OF)
    assert out[0].status is Status.WAIVED
    assert not outcomes[0].expired


def test_a_valid_waiver_wins_over_an_expired_one() -> None:
    waivers = [waiver("node/*", expires=date(2026, 1, 1), id="OLD"), waiver("node/a", id="NEW")]
    out, outcomes = apply_waivers([node_finding("node/a")], waivers, AS_OF)
    assert out[0].status is Status.WAIVED and out[0].waiver is not None and out[0].waiver.id == "NEW"
    assert "waiver OLD expired" in out[0].note
    assert [o.matched for o in outcomes] == [1, 1]


def test_a_waiver_matching_nothing_is_reported() -> None:
    out, outcomes = apply_waivers([node_finding("node/a")], [waiver("node/decommissioned-*", id="W-GONE")], AS_OF)
    assert out[0].status is Status.FAIL
    assert outcomes[0].matched == 0
    assert any("W-GONE" in w and "matched no finding" in w for w in waiver_warnings(outcomes))


def test_check_must_match_exactly_and_subject_glob_is_case_sensitive() -> None:
    findings = [node_finding("node/a", check="kubelet_version_supported"), node_finding("node/A")]
    out, outcomes = apply_waivers(findings, [waiver("node/a")], AS_OF)
    assert [f.status for f in out] == [Status.FAIL, Status.FAIL]
    assert outcomes[0].matched == 0


def test_pass_and_error_findings_are_not_waived() -> None:
    findings = [node_finding("node/a", Status.PASS), node_finding("node/b", Status.ERROR)]
    out, outcomes = apply_waivers(findings, [waiver("node/*")], AS_OF)
    assert [f.status for f in out] == [Status.PASS, Status.ERROR]
    assert outcomes[0].matched == 0


def test_warn_and_unknown_findings_can_be_waived() -> None:
    findings = [node_finding("node/a", Status.WARN), node_finding("node/b", Status.UNKNOWN)]
    out, _ = apply_waivers(findings, [waiver("node/*")], AS_OF)
    assert [f.status for f in out] == [Status.WAIVED, Status.WAIVED]
    assert "this finding is UNKNOWN" in out[1].note


def test_vulnerability_waiver_waives_an_image_only_when_every_vulnerability_is_covered() -> None:
    image = "image/registry.example.com/payments@sha256:0123"
    both = image_finding(image, ["CVE-2024-1111", "CVE-2025-2222"])
    one = image_finding(image.replace("payments", "ledger"), ["CVE-2024-3333"])
    scoped = waiver("image/registry.example.com/*", check=IMAGE_CHECK, vulnerability="CVE-2024-*", id="W-V")
    out, outcomes = apply_waivers([both, one], [scoped], AS_OF)
    assert out[0].status is Status.FAIL
    assert "waived: CVE-2024-1111 (waiver W-V); still open: CVE-2025-2222" in out[0].note
    assert out[1].status is Status.WAIVED
    assert outcomes[0].matched == 2
    second = waiver(image, check=IMAGE_CHECK, vulnerability="CVE-2025-2222", id="W-V2")
    out, _ = apply_waivers([both], [scoped, second], AS_OF)
    assert out[0].status is Status.WAIVED


def test_vulnerability_waiver_does_not_match_findings_without_those_ids() -> None:
    scoped = waiver("node/*", vulnerability="CVE-2024-*")
    out, outcomes = apply_waivers([node_finding("node/a")], [scoped], AS_OF)
    assert out[0].status is Status.FAIL
    assert outcomes[0].matched == 0


def test_a_finding_is_about_its_open_vulnerabilities_needing_action_and_the_cves_a_missed_patch_fixes() -> None:
    def open_vuln(vid: str, status: Status) -> OpenVulnerability:
        return OpenVulnerability(vid, Severity.HIGH, "pkg", "1", "2", status=status)

    image = Finding(
        IMAGE_CHECK, Status.FAIL, Severity.HIGH, "image/a", "m",
        evidence={"vulnerability_ids": ["CVE-EVIDENCE-ONLY"]},  # evidence is for people: not read
        vulnerabilities=(
            open_vuln("CVE-1", Status.FAIL), open_vuln("CVE-2", Status.PASS), open_vuln("CVE-3", Status.UNKNOWN),
        ),
    )  # fmt: skip
    assert vulnerability_ids(image) == ("CVE-1", "CVE-3")  # CVE-2 is inside its window: nothing to waive
    gap = PatchGap("Kubernetes 1.31", "v1.31.1", "1.31.9", AS_OF, 8, "1.31.2", AS_OF, 40, 30, ("CVE-7", "CVE-8"))
    patch = Finding("control_plane_patch_current", Status.FAIL, Severity.HIGH, "cluster", "m", patch=gap)
    assert vulnerability_ids(patch) == ("CVE-7", "CVE-8")


def test_a_waiver_for_one_unfixed_kubernetes_cve_holds_until_another_cve_needs_action() -> None:
    """CVE-2024-7598 has no fixed release: a team records its mitigation with a scoped waiver.  The waiver
    covers the finding while that CVE is the only one needing action, and never a finding with more."""
    from builders import make_context, make_node, run
    from patchlevel.checks.orchestration import control_plane_free_of_known_cves

    mitigated = waiver("cluster", check="control_plane_free_of_known_cves", vulnerability="CVE-2024-7598")
    current = make_context(version="v1.35.2", nodes=[make_node("a", kubelet="v1.35.2")], as_of=date(2026, 3, 1))
    (finding,) = run(control_plane_free_of_known_cves, current)
    assert finding.status is Status.WARN and vulnerability_ids(finding) == ("CVE-2024-7598",)
    out, _ = apply_waivers([finding], [mitigated], date(2026, 3, 1))
    assert out[0].status is Status.WAIVED
    old = make_context(version="v1.25.3", nodes=[make_node("a", kubelet="v1.25.3")], as_of=date(2026, 3, 1))
    (behind,) = run(control_plane_free_of_known_cves, old)
    assert behind.status is Status.FAIL and "CVE-2024-7598" in vulnerability_ids(behind)
    out, _ = apply_waivers([behind], [mitigated], date(2026, 3, 1))
    assert out[0].status is Status.FAIL  # fixable CVEs stand: the waiver covers one, not all
