"""Kubernetes and container-runtime CVE checks on the bundled CVE data (Go vulnerability database +
kubernetes-sigs/cve-feed-osv, real records) and the bundled lifecycle data.

The issue's "done when" cases: a control plane on a 2025 patch line that missed a 2025 security
release fails 6.3.3 naming the CVE; a containerd two patches behind a CVE fix fails.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from builders import audit_findings, by_subject, knowledge, make_context, make_node, one, run
from patchlevel.checks import ALL_CHECKS
from patchlevel.checks.common import Context
from patchlevel.collect.snapshot import read_snapshot
from patchlevel.evaluate import build_report
from patchlevel.frameworks import load_requirements, requirements_by_check
from patchlevel.knowledge import load_knowledge
from patchlevel.lifecycle.catalog import load_catalog
from patchlevel.lifecycle.osv import OsvFeed
from patchlevel.model import Severity, Status
from patchlevel.policy import Policy
from patchlevel.render import Format, render

DATA_TO = "(CVE data to 2026-08-21)"
ROOT = Path(__file__).resolve().parents[1]


def cve_ids(finding: object) -> list[str]:
    return [c["id"] for c in finding.evidence["cves"]]  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------
# Control plane


def test_a_2025_patch_line_that_missed_a_2025_security_release_fails_6_3_3() -> None:
    ctx = make_context(version="v1.33.3")
    f = one("control_plane_free_of_known_cves", ctx)
    assert (f.status, f.severity) == (Status.FAIL, Severity.HIGH)
    assert f.message == (
        "control plane: 3 known CVEs affect 1.33.3: CVE-2024-7598 (kube-apiserver; no fixed release), "
        "CVE-2025-5187 (component not stated (counted for the control plane); fixed in 1.33.4), "
        f"CVE-2025-13281 (kube-controller-manager; fixed in 1.33.6) {DATA_TO}"
    )
    cves = {c["id"]: c for c in f.evidence["cves"]}
    assert cves["CVE-2025-5187"]["fix_released"] == "2025-08-13"
    assert cves["CVE-2025-5187"]["known_since"] == "first fix released 2025-08-13"
    assert cves["CVE-2025-5187"]["sources"] == ["GO-2025-3915 (Go vulnerability database)"]
    assert cves["CVE-2025-13281"]["component_basis"] == "summary/details name kube-controller-manager"
    assert f.evidence["cve_data_covers_to"] == "2026-08-21"
    assert "Go vulnerability database to 2026-08-21" in str(f.evidence["feed_coverage"])
    # through the real runner: the finding serves PCI DSS 6.3.3 (and 6.3.1, and the guidance's 10.1)
    audited = next(x for x in audit_findings(ctx) if x.check == "control_plane_free_of_known_cves")
    assert audited.status is Status.FAIL
    assert {"PCI-DSS-6.3.3", "PCI-DSS-6.3.1", "PCI-CG-10.1"} <= set(audited.requirements)


def test_the_patch_check_names_the_2025_cve_too() -> None:
    f = one("control_plane_patch_current", make_context(version="v1.33.3"))
    assert f.status is Status.FAIL
    assert "CVE-2025-5187" in f.message


def test_the_2025_release_that_fixed_it_is_not_known_before_its_date() -> None:
    """As of 2025-06-01 CVE-2025-5187 was not public (first fix 2025-08-13): it does not count."""
    f = one("control_plane_free_of_known_cves", make_context(version="v1.33.1", as_of=date(2025, 6, 1)))
    assert "CVE-2025-5187" not in cve_ids(f)
    assert {"id": "CVE-2025-5187", "known_since": "first fix released 2025-08-13"} in f.evidence[
        "published_after_as_of"
    ]


def test_an_unfixed_cve_alone_warns() -> None:
    f = one("control_plane_free_of_known_cves", make_context(version="v1.34.2"))
    assert (f.status, f.severity) == (Status.WARN, Severity.LOW)
    assert (
        f.message
        == f"control plane: 1 known CVE affects 1.34.2: CVE-2024-7598 (kube-apiserver; no fixed release) {DATA_TO}"
    )
    assert "mitigation" in str(f.evidence["no_fix_note"])


def test_kubelet_and_kubectl_cves_are_not_the_control_plane_s() -> None:
    f = one("control_plane_free_of_known_cves", make_context(version="v1.25.3", as_of=date(2023, 9, 1)))
    assert f.status is Status.FAIL
    assert cve_ids(f) == ["CVE-2022-3162", "CVE-2022-3294", "CVE-2023-2727", "CVE-2023-2728"]
    # cve-feed-osv dates CVE-2024-3177 2018-04-16, before its id's year: the fix date (2024-04-16) is used
    assert {
        "id": "CVE-2024-3177",
        "known_since": "first fix released 2024-04-16 (the record's published date 2018-04-16 precedes its CVE year)",
    } in f.evidence["published_after_as_of"]
    others = {o["id"]: o["component"] for o in f.evidence["other_components"]}
    assert others["CVE-2023-2431"] == "kubelet"
    assert others["CVE-2021-25743"] == "kubectl"


def test_provider_managed_control_planes_keep_the_wording_and_name_the_cves() -> None:
    aks = make_node("aks-1", labels={"kubernetes.azure.com/agentpool": "np1"})
    f = one("control_plane_free_of_known_cves", make_context(version="v1.33.3", nodes=[aks]))
    assert (f.status, f.severity) == (Status.WARN, Severity.MEDIUM)
    assert "CVE-2025-5187" in f.message
    assert f.message.endswith("— the provider patches the control plane; confirm with its bulletins")
    assert f.evidence["responsibility"] == "provider"
    eks = one("control_plane_free_of_known_cves", make_context(version="v1.33.3-eks-ecaa3a6"))
    assert eks.status is Status.WARN and "upstream 1.33.3" in eks.message and "CVE-2025-5187" in eks.message
    assert "vendor_note" in eks.evidence


@pytest.mark.parametrize(
    ("version", "as_of", "reason"),
    [
        ("v1.99.0", date(2026, 11, 27), "1.99.0 is not a Kubernetes release known to the lifecycle data"),
        ("v1.33.99999999999999999999", date(2026, 11, 27), "99999999999999999999"),
        ("v1.37.0", date(2026, 11, 27), "newest 1.36.4"),  # newer than every release in the data
        ("v1.34.3", date(2025, 12, 1), "1.34.3 was released on 2025-12-09, after the as-of date 2025-12-01"),
        ("v1.36", date(2026, 11, 27), "'v1.36' names no patch release"),
        ("v1.35.0-rc.1", date(2026, 11, 27), "is a pre-release"),
    ],
)
def test_an_unknown_release_is_unknown_never_no_known_cve(version: str, as_of: date, reason: str) -> None:
    f = one("control_plane_free_of_known_cves", make_context(version=version, as_of=as_of))
    assert f.status is Status.UNKNOWN
    assert reason in f.message
    kubelet = one(
        "kubelet_free_of_known_cves", make_context(version="v1.33.4", nodes=[make_node(kubelet=version)], as_of=as_of)
    )
    assert kubelet.status is Status.UNKNOWN


def test_k3s_and_rke2_are_matched_by_their_upstream_version_and_their_own_advisories() -> None:
    k3s = one("control_plane_free_of_known_cves", make_context(version="v1.34.5+k3s1"))
    assert k3s.status is Status.FAIL
    assert "CVE-2026-54250" in cve_ids(k3s)  # k3s's etcd snapshot CVE: github.com/k3s-io/k3s custom ranges
    upstream = one("control_plane_free_of_known_cves", make_context(version="v1.34.5"))
    assert "CVE-2026-54250" not in cve_ids(upstream)
    rke2 = one(
        "kubelet_free_of_known_cves",
        make_context(version="v1.29.5+rke2r1", nodes=[make_node(kubelet="v1.29.5+rke2r1")]),
    )
    assert "GO-2024-3222" in cve_ids(rke2) and rke2.status is Status.FAIL


# ------------------------------------------------------------------------------------------
# Kubelets


def test_kubelet_cves_are_kubelet_or_node_side_only() -> None:
    ctx = make_context(
        version="v1.33.4",
        nodes=[
            make_node("n0", kubelet="v1.31.5"),
            make_node("n1", kubelet="v1.20.0+2817867"),
            make_node("n2", kubelet=""),
        ],
    )
    f = by_subject(run("kubelet_free_of_known_cves", ctx))
    assert f["node/n0"].status is Status.FAIL
    assert cve_ids(f["node/n0"]) == ["CVE-2025-0426", "CVE-2025-1767"]  # CVE-2024-9042 was fixed in 1.31.5
    entries = {c["id"]: c for c in f["node/n0"].evidence["cves"]}
    assert entries["CVE-2025-0426"]["component"] == "kubelet"
    assert entries["CVE-2025-1767"]["component"] == "node"
    assert "CVE-2025-5187" not in cve_ids(f["node/n0"])  # the control plane's
    assert f["node/n1"].status is Status.WARN  # an OpenShift build: upstream says affected, vendors backport
    assert "vendor_note" in f["node/n1"].evidence
    assert f["node/n2"].status is Status.UNKNOWN


def test_windows_container_logs_cve_is_the_kubelet_s_not_the_control_plane_s() -> None:
    """CVE-2024-5321 (Windows container log permissions, fixed in 1.30.3) is set by the kubelet."""
    ctx = make_context(version="v1.30.2", nodes=[make_node(kubelet="v1.30.2")], as_of=date(2026, 8, 1))
    control_plane = one("control_plane_free_of_known_cves", ctx)
    assert "CVE-2024-5321" not in cve_ids(control_plane)
    assert "CVE-2024-5321" not in control_plane.message
    assert {"id": "CVE-2024-5321", "component": "node"} in control_plane.evidence["other_components"]
    assert "CVE-2024-5321" not in one("control_plane_patch_current", ctx).message
    kubelet = one("kubelet_free_of_known_cves", ctx)
    assert "CVE-2024-5321 (node; fixed in 1.30.3)" in kubelet.message
    assert "CVE-2024-5321" in one("kubelet_patch_current", ctx).message


# ------------------------------------------------------------------------------------------
# Container runtimes


def test_containerd_two_patches_behind_a_cve_fix_fails() -> None:
    """As of 2025-12-10 containerd 2.1 is at 2.1.5 (2025-11-05), which fixes CVE-2024-25621 and CVE-2025-64329."""
    ctx = make_context(version="v1.33.4", nodes=[make_node(runtime="containerd://2.1.3")], as_of=date(2025, 12, 10))
    patch = one("container_runtime_patch_current", ctx)
    assert (patch.status, patch.severity) == (Status.FAIL, Severity.HIGH)
    assert patch.message.startswith("containerd 2.1.3 is 2 patch releases behind 2.1.5 (released 2025-11-05)")
    assert "it fixes known CVEs (CVE-2024-25621, CVE-2025-64329) and has been out longer than the 30-day window" in (
        patch.message
    )
    cves = one("container_runtime_free_of_known_cves", ctx)
    assert cves.status is Status.FAIL
    assert cves.message == (
        "containerd 2.1.3: 2 known CVEs affect 2.1.3: CVE-2024-25621 (fixed in 2.1.5), CVE-2025-64329 (fixed in "
        f"2.1.5) {DATA_TO}"
    )
    assert cves.evidence["modules"] == ["github.com/containerd/containerd/v2"]
    audited = {x.check: x for x in audit_findings(ctx, as_of=date(2025, 12, 10))}
    assert "PCI-DSS-6.3.3" in audited["container_runtime_patch_current"].requirements
    assert {"PCI-DSS-6.3.1", "PCI-DSS-6.3.3", "PCI-CG-10.1"} <= set(
        audited["container_runtime_free_of_known_cves"].requirements
    )


def test_a_fix_inside_the_window_only_warns() -> None:
    ctx = make_context(version="v1.33.4", nodes=[make_node(runtime="containerd://2.1.4")], as_of=date(2025, 11, 20))
    patch = one("container_runtime_patch_current", ctx)
    assert patch.status is Status.WARN
    assert [c["id"] for c in patch.evidence["fixed_cves"]] == ["CVE-2024-25621", "CVE-2025-64329"]


def test_runtime_cves_per_runtime_and_build() -> None:
    nodes = [
        make_node("k3s", runtime="containerd://1.7.23-k3s2"),
        make_node("ocp", kubelet="v1.20.0+2817867", runtime="cri-o://1.20.3-2.rhaos4.7.gitb53fa9d.el8"),
        make_node("old", runtime="docker://20.10.7"),
        make_node("new", runtime="docker://29.1.0"),
        make_node("top", runtime="containerd://2.2.5"),
        make_node("bogus", runtime="containerd://2.1.99"),
        make_node("none", runtime="containerd://Unknown"),
    ]
    f = by_subject(run("container_runtime_free_of_known_cves", make_context(version="v1.33.4", nodes=nodes)))
    assert f["node/k3s"].status is Status.FAIL  # k3s builds carry the upstream release
    assert "CVE-2024-40635" in cve_ids(f["node/k3s"])
    assert f["node/ocp"].status is Status.WARN and "vendor_note" in f["node/ocp"].evidence
    assert f["node/old"].status is Status.FAIL and "CVE-2022-24769" in cve_ids(f["node/old"])
    assert f["node/new"].status is Status.UNKNOWN
    assert "github.com/moby/moby/v2" in f["node/new"].message
    # no CVE known, but 2026-11-27 is 98 days past the data's end: see the staleness tests below
    assert f["node/top"].status is Status.UNKNOWN
    assert f["node/top"].message.startswith("containerd 2.2.5: no CVE known to the data affects 2.2.5, but ")
    assert f["node/bogus"].status is Status.UNKNOWN and "not a containerd release known" in f["node/bogus"].message
    assert f["node/none"].status is Status.UNKNOWN


def test_the_runtime_patch_check_says_when_cves_could_not_be_judged() -> None:
    ctx = make_context(version="v1.33.4", nodes=[make_node(runtime="docker://29.1.0")])
    f = one("container_runtime_patch_current", ctx)
    assert f.status is Status.WARN
    assert str(f.evidence["known_cves"]).startswith(
        "not judged: the Go vulnerability database records Docker Engine 29"
    )


def test_the_new_check_is_registered_and_mapped() -> None:
    ids = [c.id for c in ALL_CHECKS]
    assert ids[ids.index("container_runtime_patch_current") + 1] == "container_runtime_free_of_known_cves"
    mapped = requirements_by_check(load_requirements(ids))
    assert set(mapped["container_runtime_free_of_known_cves"]) == {"PCI-CG-10.1", "PCI-DSS-6.3.1", "PCI-DSS-6.3.3"}


@pytest.mark.parametrize(
    ("runtime", "release"),
    [
        ("containerd://2.1.0-rc.1", "2.1.0"),
        ("containerd://2.0.0-beta.2", "2.0.0"),
        ("docker://29.0.0-rc.1", "29.0.0"),
        ("containerd://2.2.0-alpha.1", "2.2.0"),
    ],
)
def test_a_runtime_pre_release_is_unknown_as_kubelet_pre_releases_are(runtime: str, release: str) -> None:
    """A pre-release is no vendor package: no vendor leniency (WARN), but no release the ranges name either."""
    ctx = make_context(version="v1.33.4", nodes=[make_node(runtime=runtime)])
    text = runtime.split("://")[1]
    f = one("container_runtime_free_of_known_cves", ctx)
    assert (f.status, f.severity) == (Status.UNKNOWN, Severity.MEDIUM)
    assert f.message.endswith(f"{text} is a pre-release of {release}; CVE ranges are judged for releases only")
    assert "vendor_note" not in f.evidence
    kubelet = one(
        "kubelet_free_of_known_cves", make_context(version="v1.33.4", nodes=[make_node(kubelet="v1.35.0-rc.1")])
    )
    assert kubelet.status is Status.UNKNOWN and "is a pre-release" in kubelet.message
    supported = one("container_runtime_supported", ctx)
    assert "vendor_build" not in supported.evidence
    assert str(supported.evidence["prerelease"]).startswith(f"{text.split('-', 1)[1]}: a pre-release of ")


def test_a_containerd_release_candidate_is_still_behind_its_fixed_patches() -> None:
    """containerd 2.1.0-rc.1 is compared as 2.1.0, which it precedes: 2.1.5 fixes CVE-2024-25621 (as of 2025-12-10)."""
    ctx = make_context(
        version="v1.33.4", nodes=[make_node(runtime="containerd://2.1.0-rc.1")], as_of=date(2025, 12, 10)
    )
    patch = one("container_runtime_patch_current", ctx)
    assert patch.status is Status.FAIL
    assert "CVE-2024-25621" in patch.message
    assert patch.evidence["prerelease"] == "2.1.0-rc.1 is a pre-release, compared as 2.1.0, the release it precedes"


@pytest.mark.parametrize(
    "runtime",
    [
        "containerd://1.7.12-0ubuntu4",  # Ubuntu's package
        "containerd://1.7.27+bottlerocket",
        "cri-o://1.29.1-3.rhaos4.16.git2f2fb91.el9",  # OpenShift's RPM
        "cri-o://1.17.4-18.dev.rhaos4.4.gitfb8131a.el8",  # "dev" inside a RHEL release: a vendor build
        "containerd://1.7.25-eks-1",
    ],
)
def test_distribution_runtime_builds_keep_the_vendor_warning(runtime: str) -> None:
    ctx = make_context(version="v1.33.4", nodes=[make_node(runtime=runtime)], as_of=date(2026, 8, 1))
    f = one("container_runtime_free_of_known_cves", ctx)
    assert f.status is Status.WARN
    assert str(f.evidence["vendor_note"]).startswith(f"{runtime} is a vendor build; vendors backport fixes")
    assert "pre-release" not in f.message
    assert "prerelease" not in one("container_runtime_supported", ctx).evidence


# ------------------------------------------------------------------------------------------
# Stale CVE data: "no known CVE" is unknown once the as-of date is past the policy's limit


STALE = (
    "but the as-of date 2026-12-07 is 108 days after the CVE data ends (2026-08-21; the policy's "
    "lifecycle_stale_days allows 90): CVEs published since are unknown; run 'patchlevel lifecycle update'"
)


def without(*ids: str) -> OsvFeed:
    """The bundled CVE data (real records) less ``ids``: a version those alone affect has no known CVE."""
    feed = knowledge().osv
    return dataclasses.replace(feed, records=tuple(r for r in feed.records if r.id not in ids), _by_package={})


def test_no_known_cve_is_unknown_when_the_cve_data_ends_too_long_before_the_as_of_date() -> None:
    """containerd 2.3.4 on 2026-12-07: no record holds a CVE for it, but the data ends 108 days earlier."""
    node = make_node(runtime="containerd://2.3.4")
    stale = one("container_runtime_free_of_known_cves", make_context(nodes=[node], as_of=date(2026, 12, 7)))
    assert (stale.status, stale.severity) == (Status.UNKNOWN, Severity.MEDIUM)
    assert stale.message == f"containerd 2.3.4: no CVE known to the data affects 2.3.4, {STALE}"
    assert stale.evidence["cve_data_days_before_as_of"] == 108
    assert stale.evidence["cves"] == []
    fresh = one("container_runtime_free_of_known_cves", make_context(nodes=[node], as_of=date(2026, 11, 15)))
    assert (fresh.status, fresh.message) == (Status.PASS, f"containerd 2.3.4: no known CVE affects 2.3.4 {DATA_TO}")
    # the policy's limit decides: 120 days allowed, 108 is recent enough
    allowed = one(
        "container_runtime_free_of_known_cves",
        make_context(nodes=[node], as_of=date(2026, 12, 7), policy=Policy(lifecycle_stale_days=120)),
    )
    assert allowed.status is Status.PASS


def test_stale_data_leaves_known_cves_as_they_were() -> None:
    ctx = make_context(
        version="v1.34.2",
        nodes=[make_node(kubelet="v1.31.5", runtime="containerd://2.1.3")],
        as_of=date(2026, 12, 7),
    )
    assert one("container_runtime_free_of_known_cves", ctx).status is Status.FAIL
    assert one("kubelet_free_of_known_cves", ctx).status is Status.FAIL
    control_plane = one("control_plane_free_of_known_cves", ctx)  # CVE-2024-7598: no fixed release
    assert control_plane.status is Status.WARN
    assert control_plane.message.endswith(DATA_TO)


def test_stale_data_makes_the_kubelet_and_control_plane_unknown_too() -> None:
    """On the real records less the two CVEs no release fixes (every 1.34.2 has them), 1.34.2 has none known."""
    base = make_context(version="v1.34.2", nodes=[make_node(kubelet="v1.34.2")], as_of=date(2026, 12, 7))
    ctx = dataclasses.replace(base, osv=without("CVE-2024-7598", "CVE-2025-1767"))
    kubelet = one("kubelet_free_of_known_cves", ctx)
    assert kubelet.status is Status.UNKNOWN
    assert kubelet.message == f"kubelet v1.34.2: no CVE known to the data affects 1.34.2, {STALE}"
    control_plane = one("control_plane_free_of_known_cves", ctx)
    assert control_plane.status is Status.UNKNOWN
    assert control_plane.message == f"control plane: no CVE known to the data affects 1.34.2, {STALE}"
    # a provider-patched control plane keeps the provider's wording only where a CVE is known
    eks = dataclasses.replace(make_context(version="v1.34.2-eks-ecaa3a6", as_of=date(2026, 12, 7)), osv=ctx.osv)
    assert one("control_plane_free_of_known_cves", eks).status is Status.UNKNOWN
    fresh = dataclasses.replace(ctx, as_of=date(2026, 9, 1))
    assert one("kubelet_free_of_known_cves", fresh).status is Status.PASS


def test_cve_data_without_a_date_cannot_say_no_known_cve() -> None:
    feed = without()
    undated = dataclasses.replace(feed, sources=(), last_updated="", _by_package={})
    ctx = dataclasses.replace(
        make_context(nodes=[make_node(runtime="containerd://2.3.4")], as_of=date(2026, 9, 1)), osv=undated
    )
    f = one("container_runtime_free_of_known_cves", ctx)
    assert f.status is Status.UNKNOWN
    assert f.message == (
        "containerd 2.3.4: no CVE known to the data affects 2.3.4, but the CVE data does not say what date it "
        "covers to; run 'patchlevel lifecycle update'"
    )


# ------------------------------------------------------------------------------------------
# Overdue: the CVEs' SLA clock, for the metrics


def test_a_cve_fixed_long_ago_is_overdue_from_its_fix_release() -> None:
    """kubelet 1.25.3 as of 2026-11-27: CVE-2023-2431's fix 1.25.10 came out on 2023-05-17, 1290 days before."""
    ctx = make_context(version="v1.25.3", nodes=[make_node(kubelet="v1.25.3")])
    f = one("kubelet_free_of_known_cves", ctx)
    typed = {v.id: v for v in f.vulnerabilities}
    seccomp = typed["CVE-2023-2431"]
    assert (seccomp.fixed_version, seccomp.clock_start, seccomp.clock) == (
        "1.25.10",
        date(2023, 5, 17),
        "fix release date",
    )
    assert (seccomp.age_days, seccomp.sla_days, seccomp.overdue, seccomp.status) == (1290, 30, True, Status.FAIL)
    assert seccomp.severity is None  # the Go database gives no severity: it stays unknown
    unfixed = typed["CVE-2025-1767"]  # no fixed release: nothing to be overdue for
    assert (unfixed.fixed_version, unfixed.overdue, unfixed.sla_days) == (None, False, None)
    # the fix is on a newer line only (1.25 is past its end): still a fix out for 681 days
    assert (typed["CVE-2024-9042"].fixed_version, typed["CVE-2024-9042"].overdue) == ("1.29.13", True)


def test_a_fix_inside_the_window_is_not_overdue_yet() -> None:
    """containerd 2.1.4 as of 2025-11-20: 2.1.5 (2025-11-05) fixes CVE-2024-25621, 15 days ago."""
    ctx = make_context(version="v1.33.4", nodes=[make_node(runtime="containerd://2.1.4")], as_of=date(2025, 11, 20))
    typed = {v.id: v for v in one("container_runtime_free_of_known_cves", ctx).vulnerabilities}
    cve = typed["CVE-2024-25621"]
    assert (cve.clock_start, cve.age_days, cve.sla_days, cve.overdue) == (date(2025, 11, 5), 15, 30, False)


def test_a_fix_with_no_release_date_is_not_timed() -> None:
    """CVE-2024-0793 is fixed in 1.27.0-alpha.1, a pre-release the lifecycle data does not date: no clock."""
    f = one("control_plane_free_of_known_cves", make_context(version="v1.25.3"))
    kcm = next(v for v in f.vulnerabilities if v.id == "CVE-2024-0793")
    assert (kcm.fixed_version, kcm.overdue, kcm.age_days, kcm.sla_days) == ("1.27.0-alpha.1", False, None, None)


def _prometheus_values(text: str, metric: str) -> dict[str, float]:
    """``metric``'s samples by their ``source`` label (the whole label set when it has none)."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(metric + "{"):
            labels, _, value = line.rpartition(" ")
            source = re.search(r'source="([^"]*)"', labels)
            key = source[1] if source else labels
            values[key] = values.get(key, 0.0) + float(value)
    return values


def test_the_demo_s_prometheus_output_counts_overdue_kubernetes_and_runtime_cves() -> None:
    """The demo (Kubernetes 1.25.3, containerd 1.6.9, Docker Engine 20.10 as of 2026-11-27) runs releases whose
    CVE fixes came out years ago: patchlevel_vulnerabilities_overdue must not say 0 while the 10.1 checks fail."""
    report = build_report(
        read_snapshot(ROOT / "examples" / "demo-cluster"),
        load_knowledge(load_catalog(None)),
        Policy(),
        date(2026, 11, 27),
        datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
    )
    text = render(report, Format.PROMETHEUS).decode()
    overdue = _prometheus_values(text, "patchlevel_vulnerabilities_overdue")
    fixable = _prometheus_values(text, "patchlevel_vulnerabilities_fixable")
    assert overdue["kubernetes"] > 0 and overdue["runtime"] > 0
    assert overdue["kubernetes"] <= fixable["kubernetes"] and overdue["runtime"] <= fixable["runtime"]
    failing = [f for f in report.findings if f.check == "kubelet_patch_current" and f.status is Status.FAIL]
    assert failing  # the patch check fails on those same fixes
    kubelet_cves = {
        (f.subject, v.id) for f in report.findings if f.check == "kubelet_free_of_known_cves" for v in f.vulnerabilities
    }
    assert {(f.subject, "CVE-2023-2431") for f in failing} <= kubelet_cves


# ------------------------------------------------------------------------------------------
# Vendor builds: the patch check and the CVE check say the same of the same CVEs


@pytest.mark.parametrize(
    ("patch_check", "cve_check", "ctx", "ids"),
    [
        (
            "kubelet_patch_current",
            "kubelet_free_of_known_cves",
            make_context(version="v1.31.4", nodes=[make_node(kubelet="v1.31.4-eks-ecaa3a6")], as_of=date(2026, 8, 1)),
            ["CVE-2024-9042", "CVE-2025-0426"],
        ),
        (
            "control_plane_patch_current",
            "control_plane_free_of_known_cves",
            make_context(version="v1.21.2-13+d2965f0db10712", as_of=date(2026, 8, 1)),
            ["CVE-2021-25741"],
        ),
        (
            "container_runtime_patch_current",
            "container_runtime_free_of_known_cves",
            make_context(
                version="v1.33.4", nodes=[make_node(runtime="containerd://1.7.27+bottlerocket")], as_of=date(2026, 8, 1)
            ),
            ["CVE-2024-25621", "CVE-2025-64329", "CVE-2026-46680", "CVE-2026-47262", "CVE-2026-53488"],
        ),
        (
            "container_runtime_patch_current",
            "container_runtime_free_of_known_cves",
            make_context(
                version="v1.33.4", nodes=[make_node(runtime="containerd://1.7.12-0ubuntu4")], as_of=date(2026, 8, 1)
            ),
            ["CVE-2024-25621", "CVE-2024-40635", "CVE-2025-64329", "CVE-2026-47262", "CVE-2026-53488"],
        ),
    ],
    ids=["eks-kubelet", "vendor-control-plane", "bottlerocket-containerd", "ubuntu-containerd"],
)
def test_a_vendor_build_warns_in_both_checks_naming_the_upstream_cves(
    patch_check: str, cve_check: str, ctx: Context, ids: list[str]
) -> None:
    """Vendors backport fixes: an upstream match is a presumption, so neither check fails on it alone."""
    patch = one(patch_check, ctx)
    cves = one(cve_check, ctx)
    assert (patch.status, patch.severity) == (Status.WARN, Severity.MEDIUM)
    assert cves.status is Status.WARN
    assert f"upstream it fixes known CVEs ({', '.join(ids)}) and has been out longer than the 30-day window" in (
        patch.message
    )
    assert patch.message.endswith("but this vendor build may carry the fixes: confirm with the vendor's advisories")
    assert set(ids) <= set(cve_ids(cves))
    assert patch.evidence["vendor_note"] == cves.evidence["vendor_note"]


def test_k3s_builds_carry_upstream_and_fail_in_both_checks() -> None:
    ctx = make_context(version="v1.33.4", nodes=[make_node(runtime="containerd://1.7.23-k3s2")], as_of=date(2026, 8, 1))
    patch = one("container_runtime_patch_current", ctx)
    assert patch.status is Status.FAIL and "; it fixes known CVEs (" in patch.message
    assert "vendor_note" not in patch.evidence
    assert one("container_runtime_free_of_known_cves", ctx).status is Status.FAIL


def test_a_policy_that_fails_being_behind_fails_a_vendor_build_too() -> None:
    ctx = make_context(
        version="v1.33.4",
        nodes=[make_node(runtime="containerd://1.7.27+bottlerocket")],
        as_of=date(2026, 8, 1),
        policy=Policy(patch_behind=Status.FAIL),
    )
    patch = one("container_runtime_patch_current", ctx)
    assert patch.status is Status.FAIL
    assert patch.message.endswith("longer than the 30-day window")
    assert "vendor_note" in patch.evidence
