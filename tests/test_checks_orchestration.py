"""10.1 checks, per resource: control plane, kubelets, kube-proxy and container runtimes.

Every scenario is built with the builders and judged as of a fixed date against the bundled
lifecycle data (retrieved 2026-08-22) and Kubernetes OSV feed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date

import pytest

from builders import (
    AS_OF,
    DATA,
    audit_findings,
    by_subject,
    make_cluster_version_doc,
    make_context,
    make_inventory,
    make_kube_proxy_pod,
    make_node,
    make_pod,
    one,
    run,
)
from patchlevel.checks import ALL_CHECKS, orchestration
from patchlevel.checks.common import Context
from patchlevel.frameworks import load_requirements, requirements_by_check
from patchlevel.kube import Node
from patchlevel.model import Severity, Status
from patchlevel.policy import Policy

ORCHESTRATION = [c.id for c in ALL_CHECKS if c.function.__module__ == orchestration.__name__]


def real_node(name: str) -> Node:
    import msgspec

    return msgspec.convert(json.loads((DATA / "kube" / name).read_text(encoding="utf-8")), Node)


# ------------------------------------------------------------------------------------------
# The registry


def test_check_ids_are_unique_and_mapped() -> None:
    ids = [c.id for c in ALL_CHECKS]
    assert len(ids) == len(set(ids))
    mapped = requirements_by_check(load_requirements(ids))
    for check in ORCHESTRATION:
        assert "PCI-CG-10.1" in mapped[check], check
    assert ORCHESTRATION == [
        "control_plane_version_supported",
        "control_plane_patch_current",
        "control_plane_free_of_known_cves",
        "kubelet_version_supported",
        "kubelet_patch_current",
        "kubelet_free_of_known_cves",
        "kubelet_version_skew_allowed",
        "kube_proxy_version_skew_allowed",
        "container_runtime_supported",
        "container_runtime_patch_current",
        "container_runtime_free_of_known_cves",
    ]


# ------------------------------------------------------------------------------------------
# Control plane: supported


def test_control_plane_supported_upstream() -> None:
    f = one("control_plane_version_supported", make_context(version="v1.35.2", as_of=date(2026, 3, 1)))
    assert (f.status, f.subject, f.severity) == (Status.PASS, "cluster", Severity.INFO)
    assert f.message == "control plane Kubernetes 1.35 is supported until 2027-02-28"
    assert f.evidence["judged_by"] == "Kubernetes (upstream) 1.35"
    assert f.evidence["distribution"] == "upstream"
    assert f.remediation == ""  # nothing to do on a pass


def test_control_plane_past_end_of_support_fails() -> None:
    f = one("control_plane_version_supported", make_context(version="v1.31.8"))
    assert f.status is Status.FAIL
    assert f.message == "control plane Kubernetes 1.31 reached end of support on 2025-11-11"
    assert f.evidence["support_ends"] == "2025-11-11"
    assert "minor release of Kubernetes (upstream)" in f.remediation


def test_control_plane_support_ending_within_60_days_warns() -> None:
    f = one("control_plane_version_supported", make_context(version="v1.34.2", as_of=date(2026, 9, 15)))
    assert f.status is Status.WARN
    assert f.message == "control plane Kubernetes 1.34 is in maintenance support until 2026-10-27 — 42 days left"
    edge = one("control_plane_version_supported", make_context(version="v1.34.2", as_of=date(2026, 8, 28)))
    assert (edge.status, edge.message.endswith("— 60 days left")) == (Status.WARN, True)  # the window is inclusive
    quiet = one("control_plane_version_supported", make_context(version="v1.34.2", as_of=date(2026, 8, 27)))
    assert (quiet.status, quiet.message) == (Status.PASS, "control plane Kubernetes 1.34 is supported until 2026-10-27")
    policy = Policy(support_warning_days=90)
    earlier = one(
        "control_plane_version_supported", make_context(version="v1.34.2", as_of=date(2026, 8, 20), policy=policy)
    )
    assert earlier.status is Status.WARN


def test_eks_extended_support_warns_with_its_end_date() -> None:
    ctx = make_context(version="v1.31.13-eks-ecaa3a6", as_of=date(2026, 3, 1))
    f = one("control_plane_version_supported", ctx)
    assert f.status is Status.WARN
    assert f.message == (
        "control plane Amazon EKS 1.31 is past end of standard support on 2025-11-26; "
        "in Extended Support until 2026-11-26"
    )
    assert (f.evidence["distribution"], f.evidence["phase"], f.evidence["phase_ends"]) == (
        "eks",
        "extended",
        "2026-11-26",
    )
    strict = one(
        "control_plane_version_supported",
        make_context(
            version="v1.31.13-eks-ecaa3a6", as_of=date(2026, 3, 1), policy=Policy(extended_support=Status.FAIL)
        ),
    )
    assert strict.status is Status.FAIL
    accepted = Policy(extended_support=Status.PASS)
    calm = one(
        "control_plane_version_supported",
        make_context(version="v1.31.13-eks-ecaa3a6", as_of=date(2026, 3, 1), policy=accepted),
    )
    assert (calm.status, calm.severity) == (Status.PASS, Severity.INFO)
    late = one(
        "control_plane_version_supported",
        make_context(version="v1.31.13-eks-ecaa3a6", as_of=date(2026, 10, 1), policy=accepted),
    )
    assert late.status is Status.WARN and late.message.endswith("until 2026-11-26 (56 days left)")
    after = one("control_plane_version_supported", make_context(version="v1.31.13-eks-ecaa3a6"))
    assert after.message == "control plane Amazon EKS 1.31 reached end of support on 2026-11-26"


def test_aks_lts_and_gke_by_their_calendars() -> None:
    aks_node = make_node("aks-1", kubelet="v1.31.8", labels={"kubernetes.azure.com/agentpool": "nodepool1"})
    aks = one("control_plane_version_supported", make_context(version="v1.31.8", nodes=[aks_node]))
    assert aks.status is Status.WARN
    assert aks.message == (
        "control plane Azure Kubernetes Service 1.31 is past end of standard support on 2025-11-01; "
        "in LTS Support until 2026-11-30 (3 days left)"
    )
    assert aks.evidence["distribution_evidence"] == "1 node(s) carry Azure Kubernetes Service labels"
    gke = one("control_plane_version_supported", make_context(version="v1.33.5-gke.1014001", as_of=date(2026, 1, 1)))
    assert (gke.status, gke.evidence["lifecycle_product"]) == (Status.PASS, "google-kubernetes-engine")


def test_k3s_and_rke2_follow_the_upstream_calendar() -> None:
    k3s = one("control_plane_version_supported", make_context(version="v1.31.5+k3s1"))
    assert (k3s.status, k3s.evidence["distribution"], k3s.evidence["lifecycle_product"]) == (
        Status.FAIL,
        "k3s",
        "kubernetes",
    )
    assert k3s.message == "control plane k3s 1.31 reached end of support on 2025-11-11"
    rke2 = one("control_plane_version_supported", make_context(version="v1.35.1+rke2r1", as_of=date(2026, 3, 1)))
    assert (rke2.status, rke2.evidence["judged_by"]) == (Status.PASS, "RKE2 1.35")


def test_openshift_is_judged_by_its_release_from_clusterversion() -> None:
    ctx = make_context(version="v1.20.0+2817867", openshift=make_cluster_version_doc("4.7.16"), as_of=date(2022, 9, 1))
    f = one("control_plane_version_supported", ctx)
    assert f.status is Status.FAIL
    assert f.message == "control plane OpenShift 4.7 (Kubernetes 1.20) reached end of support on 2022-08-24"
    assert f.evidence["judged_by"] == "OpenShift 4.7 (ClusterVersion 4.7.16)"
    # without ClusterVersion the release comes from the RHCOS nodes, else from the Kubernetes minor
    rhcos = real_node("openshift-4.7-rhcos-master-node.json")
    from_nodes = one("control_plane_version_supported", make_context(version="v1.20.0+2817867", nodes=[rhcos]))
    assert from_nodes.evidence["judged_by"] == "OpenShift 4.7 (RHCOS osImage on 1 node(s))"
    from_minor = one("control_plane_version_supported", make_context(version="v1.20.0+2817867"))
    assert from_minor.evidence["judged_by"] == "OpenShift 4.7 (Kubernetes 1.20 ships with OpenShift 4.7)"


def test_control_plane_version_unknown() -> None:
    missing = one("control_plane_version_supported", make_context(version=None, nodes=[make_node()]))
    assert missing.status is Status.UNKNOWN
    assert missing.message == "control plane version unknown: the API server version is not in the input"
    garbage = one("control_plane_version_supported", make_context(version="v-weird"))
    assert garbage.status is Status.UNKNOWN
    assert (garbage.message, garbage.evidence["raw"]) == (
        "control plane version unknown: unrecognised version 'v-weird'",
        "v-weird",
    )
    unlisted = one("control_plane_version_supported", make_context(version="v1.99.1"))
    assert unlisted.status is Status.UNKNOWN
    assert "Kubernetes 1.99 is not in the lifecycle data (retrieved 2026-08-22)" in unlisted.message
    # older than every line of the data: ended once the oldest line (1.16) had (tests/test_judgement_gaps.py)
    assert one("control_plane_version_supported", make_context(version="v1.9.11")).status is Status.FAIL
    future = one("control_plane_version_supported", make_context(version="v1.36.1", as_of=date(2026, 1, 1)))
    assert future.status is Status.UNKNOWN
    assert "released on 2026-04-22, after the as-of date" in future.message


# ------------------------------------------------------------------------------------------
# Control plane: patch currency


def test_control_plane_on_the_newest_patch_passes() -> None:
    f = one("control_plane_patch_current", make_context(version="v1.33.13"))
    assert f.status is Status.PASS
    assert (
        f.message
        == "the control plane (v1.33.13) runs the newest patch of Kubernetes 1.33 released by 2026-11-27: 1.33.13"
    )
    assert f.evidence["responsibility"] == "customer"


def test_control_plane_behind_without_known_cve_warns() -> None:
    f = one("control_plane_patch_current", make_context(version="v1.33.10"))
    assert (f.status, f.severity) == (Status.WARN, Severity.MEDIUM)
    assert f.message == (
        "the control plane (v1.33.10) is 3 patch releases behind 1.33.13 (released 2026-06-11); a newer patch "
        "has been available since 2026-04-15 (226 days), beyond the 30-day window"
    )
    assert (f.evidence["patches_behind"], f.evidence["first_newer_patch"], f.evidence["days_behind"]) == (
        3,
        "1.33.11",
        226,
    )
    inside = one("control_plane_patch_current", make_context(version="v1.33.12", as_of=date(2026, 6, 20)))
    assert (inside.status, inside.severity) == (Status.WARN, Severity.LOW)
    assert inside.message.endswith("(9 days), within the 30-day window")
    strict = one(
        "control_plane_patch_current", make_context(version="v1.33.10", policy=Policy(patch_behind=Status.FAIL))
    )
    assert strict.status is Status.FAIL and strict.message.endswith("longer than the 30-day window")


def test_control_plane_behind_a_patch_that_fixes_a_known_cve_fails() -> None:
    f = one("control_plane_patch_current", make_context(version="v1.25.3", as_of=date(2023, 9, 1)))
    assert (f.status, f.severity) == (Status.FAIL, Severity.HIGH)
    assert "it fixes known CVEs (CVE-2022-3162, CVE-2022-3294, CVE-2023-2727, CVE-2023-2728)" in f.message
    fixed = {c["id"]: c for c in f.evidence["fixed_cves"]}
    assert fixed["CVE-2022-3162"] == {
        "id": "CVE-2022-3162",
        "fixed_in": "1.25.4",
        "fix_released": "2022-11-09",
        "fixed_on_this_line": True,
    }


def test_a_cve_fixed_only_in_a_newer_minor_does_not_make_a_patch_overdue() -> None:
    """Kubelet 1.23.12 is behind 1.23.17; CVE-2023-2431 affects it but only 1.24.14 fixes it, no 1.23 patch."""
    ctx = make_context(version="v1.23.12", nodes=[make_node("a", kubelet="v1.23.12")], as_of=date(2023, 9, 1))
    f = one("kubelet_patch_current", ctx)
    assert f.status is Status.WARN
    assert "fixes known CVEs" not in f.message
    assert f.evidence["fixed_cves"] == [
        {"id": "CVE-2023-2431", "fixed_in": "1.24.14", "fix_released": "2023-05-17", "fixed_on_this_line": False},
        {"id": "CVE-2023-3676", "fixed_in": "1.24.17", "fix_released": "2023-08-23", "fixed_on_this_line": False},
        {"id": "CVE-2023-3955", "fixed_in": "1.24.17", "fix_released": "2023-08-23", "fixed_on_this_line": False},
    ]


def test_a_cve_fix_inside_the_window_only_warns() -> None:
    """CVE-2023-3676 and CVE-2023-3955 are fixed in 1.25.13 (2023-08-23); nine days later not yet overdue."""
    ctx = make_context(version="v1.25.12", nodes=[make_node("a", kubelet="v1.25.12")], as_of=date(2023, 9, 1))
    f = one("kubelet_patch_current", ctx)
    assert f.status is Status.WARN
    assert f.message.endswith("(9 days), within the 30-day window")
    assert [c["id"] for c in f.evidence["fixed_cves"]] == ["CVE-2023-3676", "CVE-2023-3955"]


@pytest.mark.parametrize(
    ("version", "label"),
    [("v1.31.13-eks-ecaa3a6", "Amazon EKS"), ("v1.33.5-gke.1014001", "Google Kubernetes Engine")],
)
def test_provider_managed_control_plane_passes_and_says_so(version: str, label: str) -> None:
    f = one("control_plane_patch_current", make_context(version=version))
    assert f.status is Status.PASS
    assert f.message.startswith(f"{label} applies control plane patches itself; the control plane runs {version}.")
    assert f.evidence["responsibility"] == "provider"
    assert "patch release" in str(f.evidence["upstream_comparison"])


def test_aks_control_plane_is_provider_patched() -> None:
    node = make_node("aks-1", labels={"kubernetes.azure.com/agentpool": "np1"})
    f = one("control_plane_patch_current", make_context(version="v1.31.8", nodes=[node]))
    assert (f.status, f.evidence["responsibility"]) == (Status.PASS, "provider")


def test_openshift_patch_level_is_its_z_stream() -> None:
    ctx = make_context(version="v1.20.0+2817867", openshift=make_cluster_version_doc("4.7.16"), as_of=date(2021, 7, 7))
    f = one("control_plane_patch_current", ctx)
    assert f.status is Status.WARN
    assert f.message.startswith("the control plane (OpenShift 4.7.16) is 2 patch releases behind 4.7.19")
    unknown = one("control_plane_patch_current", make_context(version="v1.20.0+2817867", as_of=date(2021, 7, 7)))
    assert unknown.status is Status.UNKNOWN
    assert unknown.evidence["hint"] == "add 'oc get clusterversion -o json' to the snapshot"


def test_control_plane_patch_unknown() -> None:
    f = one("control_plane_patch_current", make_context(version=None, nodes=[make_node()]))
    assert (f.status, f.message) == (
        Status.UNKNOWN,
        "control plane patch level unknown: no API server version in the input",
    )
    old = one("control_plane_patch_current", make_context(version="v1.99.1"))
    assert old.status is Status.UNKNOWN
    assert old.message.endswith("no patch releases of the Kubernetes 1.99 line are known to the lifecycle data")


# ------------------------------------------------------------------------------------------
# Known CVEs


def test_control_plane_cves() -> None:
    clean = one("control_plane_free_of_known_cves", make_context(version="v1.27.5", as_of=date(2023, 9, 1)))
    assert clean.status is Status.PASS
    assert clean.message == "control plane: no known CVE affects 1.27.5 (CVE data to 2026-08-21)"
    assert "no match means none known as of 2026-08-21" in clean.evidence["feed_coverage"]
    affected = one("control_plane_free_of_known_cves", make_context(version="v1.25.3", as_of=date(2023, 9, 1)))
    assert affected.status is Status.FAIL
    assert affected.message == (  # CVE-2024-3177 was not public on 2023-09-01
        "control plane: 4 known CVEs affect 1.25.3: CVE-2022-3162 (kube-apiserver; fixed in 1.25.4), CVE-2022-3294 "
        "(kube-apiserver; fixed in 1.25.4), CVE-2023-2727 (kube-apiserver; fixed in 1.25.11), CVE-2023-2728 "
        "(kube-apiserver; fixed in 1.25.11) (CVE data to 2026-08-21)"
    )
    provider = one("control_plane_free_of_known_cves", make_context(version="v1.25.16-eks-1234567"))
    assert provider.status is Status.WARN
    assert provider.message.endswith("the provider patches the control plane; confirm with its bulletins")
    assert "vendor_note" in provider.evidence
    unknown = one("control_plane_free_of_known_cves", make_context(version=None, nodes=[make_node()]))
    assert unknown.status is Status.UNKNOWN


# ------------------------------------------------------------------------------------------
# Kubelets


def kubelet_ctx(*kubelets: str, version: str = "v1.33.4", as_of: date = AS_OF, **kw: object) -> Context:
    nodes = [make_node(f"n{i}", kubelet=k) for i, k in enumerate(kubelets)]
    return make_context(version=version, nodes=nodes, as_of=as_of, **kw)  # type: ignore[arg-type]


def test_kubelet_version_supported_per_node() -> None:
    ctx = kubelet_ctx("v1.35.2", "v1.31.8", "", "v-weird", as_of=date(2026, 3, 1), version="v1.35.2")
    f = by_subject(run("kubelet_version_supported", ctx))
    assert f["node/n0"].status is Status.PASS
    assert f["node/n0"].message == "kubelet Kubernetes 1.35 is supported until 2027-02-28"
    assert f["node/n1"].status is Status.FAIL
    assert f["node/n1"].evidence["kubelet"] == "v1.31.8"
    assert (f["node/n2"].status, f["node/n2"].message) == (
        Status.UNKNOWN,
        "the node reports no kubelet version (nodeInfo missing or empty)",
    )
    assert (f["node/n3"].status, f["node/n3"].evidence["raw"]) == (Status.UNKNOWN, "v-weird")


def test_kubelet_of_a_managed_node_uses_its_platform_calendar() -> None:
    eks = make_node("eks-1", kubelet="v1.31.13-eks-ecaa3a6", labels={"eks.amazonaws.com/nodegroup": "ng"})
    f = one(
        "kubelet_version_supported", make_context(version="v1.31.13-eks-ecaa3a6", nodes=[eks], as_of=date(2026, 3, 1))
    )
    assert f.status is Status.WARN
    assert f.evidence["judged_by"] == "Amazon EKS 1.31"
    assert "in Extended Support until 2026-11-26" in f.message


def test_kubelet_patch_current_per_node() -> None:
    ctx = kubelet_ctx("v1.33.13", "v1.33.10", "v1.25.3", "", version="v1.33.13")
    f = by_subject(run("kubelet_patch_current", ctx))
    assert f["node/n0"].status is Status.PASS
    assert f["node/n1"].status is Status.WARN
    assert f["node/n2"].status is Status.FAIL
    assert "it fixes known CVEs (CVE-2023-2431, CVE-2023-3676, CVE-2023-3955)" in f["node/n2"].message
    assert f["node/n3"].status is Status.UNKNOWN


def test_gke_kubelet_is_compared_with_gke_builds() -> None:
    node = make_node("g", kubelet="v1.33.5-gke.1014001", labels={"cloud.google.com/gke-nodepool": "default-pool"})
    f = one("kubelet_patch_current", make_context(version="v1.33.5-gke.1014001", nodes=[node]))
    assert f.status in (Status.WARN, Status.FAIL)
    assert f.evidence["release_line"] == "GKE 1.33"
    assert str(f.evidence["newest_patch"]).startswith("1.33.") and "-gke." in str(f.evidence["newest_patch"])
    assert f.evidence["release_data"] == "endoflife.date release-data: google-kubernetes-engine"


def test_vendor_kubelet_is_compared_by_its_upstream_version() -> None:
    node = make_node("e", kubelet="v1.31.13-eks-ecaa3a6", labels={"eks.amazonaws.com/nodegroup": "ng"})
    f = one("kubelet_patch_current", make_context(version="v1.31.13-eks-ecaa3a6", nodes=[node]))
    assert f.status is Status.WARN
    assert f.evidence["compared_as"] == "upstream 1.31.13 (eks build)"
    assert f.message.startswith("kubelet v1.31.13-eks-ecaa3a6 is 1 patch release behind 1.31.14 (released 2025-11-11)")


def test_openshift_kubelet_patch() -> None:
    rhcos = real_node("openshift-4.7-rhcos-master-node.json")
    with_cv = make_context(
        version="v1.20.0+2817867", nodes=[rhcos], openshift=make_cluster_version_doc("4.7.16"), as_of=date(2021, 7, 7)
    )
    f = one("kubelet_patch_current", with_cv)
    assert f.status is Status.WARN
    assert "(OpenShift 4.7.16) is 2 patch releases behind 4.7.19" in f.message
    without = one(
        "kubelet_patch_current", make_context(version="v1.20.0+2817867", nodes=[rhcos], as_of=date(2021, 7, 7))
    )
    assert without.status is Status.UNKNOWN


def test_kubelet_cves() -> None:
    ctx = kubelet_ctx("v1.31.8", "v1.25.3", "v1.20.0+2817867", "")
    f = by_subject(run("kubelet_free_of_known_cves", ctx))
    assert f["node/n0"].status is Status.WARN  # CVE-2025-1767 (gitRepo volumes) has no fixed release
    assert f["node/n0"].message == (
        "kubelet v1.31.8: 1 known CVE affects 1.31.8: CVE-2025-1767 (node; no fixed release) (CVE data to 2026-08-21)"
    )
    assert f["node/n1"].status is Status.FAIL
    assert [c["id"] for c in f["node/n1"].evidence["cves"]] == [
        "CVE-2023-2431",
        "CVE-2023-3676",
        "CVE-2023-3955",
        "CVE-2024-5321",  # Windows container logs: node side
        "CVE-2024-9042",
        "CVE-2024-10220",
        "CVE-2025-0426",
        "CVE-2025-1767",
    ]
    assert f["node/n2"].status is Status.WARN  # vendor build: upstream says affected, vendors backport
    assert f["node/n3"].status is Status.UNKNOWN


# ------------------------------------------------------------------------------------------
# Version skew


@pytest.mark.parametrize(
    ("api", "kubelet", "status", "message"),
    [
        ("v1.33.4", "v1.33.4", Status.PASS, "kubelet 1.33 is within the version-skew policy of API server 1.33"),
        (
            "v1.33.4",
            "v1.30.14",
            Status.PASS,
            "kubelet 1.30 is within the version-skew policy of API server 1.33 "
            "(at the limit: upgrade it before the next control-plane upgrade)",
        ),
        (
            "v1.33.4",
            "v1.29.10",
            Status.FAIL,
            "kubelet 1.29 is 4 minor versions behind the API server 1.33; the skew policy allows 3",
        ),
        (
            "v1.27.4",
            "v1.24.17",
            Status.FAIL,
            "kubelet 1.24 is 3 minor versions behind the API server 1.27; the skew policy allows 2",
        ),
        ("v1.27.4", "v1.25.0", Status.PASS, "kubelet 1.25 is within the version-skew policy of API server 1.27"),
        (
            "v1.33.4",
            "v1.34.1",
            Status.FAIL,
            "kubelet 1.34 is newer than the API server 1.33; the skew policy forbids it",
        ),
        ("v1.31.13-eks-ecaa3a6", "v1.28.15-eks-1234567", Status.PASS, None),
        ("v1.24.9-gke.3200", "v1.22.11-gke.400", Status.PASS, None),
    ],
)
def test_kubelet_skew(api: str, kubelet: str, status: Status, message: str | None) -> None:
    f = one("kubelet_version_skew_allowed", kubelet_ctx(kubelet, version=api))
    assert f.status is status
    if message:
        assert f.message == message
    assert f.evidence["api_server"] == api and f.evidence["kubelet"] == kubelet


def test_kubelet_skew_unknown() -> None:
    no_api = one("kubelet_version_skew_allowed", kubelet_ctx("v1.33.4", version=None))  # type: ignore[arg-type]
    assert (no_api.status, no_api.message) == (Status.UNKNOWN, "skew unknown: no API server version in the input")
    no_kubelet = one("kubelet_version_skew_allowed", kubelet_ctx(""))
    assert no_kubelet.status is Status.UNKNOWN


def test_kube_proxy_read_from_its_pod_image_tag() -> None:
    nodes = [
        make_node("a"),
        make_node("b"),
        make_node("c", kubelet="v1.30.1"),
        make_node("d", kubelet="v1.33.4"),
        make_node("e", kubelet="v1.29.1"),
    ]
    pods = [
        make_kube_proxy_pod("a", "registry.k8s.io/kube-proxy:v1.33.4"),
        make_kube_proxy_pod(
            "c", "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.29.10-minimal-eksbuild.8"
        ),
        # a mirrored image under another name, recognised by the DaemonSet's pod and container names
        make_kube_proxy_pod("d", "mirror.example/k8s/proxy:v1.33.4"),
        make_kube_proxy_pod("e", "registry.k8s.io/kube-proxy:v1.33.4"),
        make_pod("web", node="b"),
    ]
    f = by_subject(run("kube_proxy_version_skew_allowed", make_context(version="v1.33.4", nodes=nodes, pods=pods)))
    assert f["node/a"].status is Status.PASS
    assert f["node/a"].evidence["kube_proxy_source"] == (
        "pod kube-system/kube-proxy-a image registry.k8s.io/kube-proxy:v1.33.4"
    )
    assert (f["node/b"].status, f["node/b"].message) == (
        Status.UNKNOWN,
        "kube-proxy version unknown: no kube-proxy pod runs on this node in the input",
    )
    assert f["node/c"].status is Status.FAIL
    assert (
        f["node/c"].message
        == "kube-proxy 1.29 is 4 minor versions behind the API server 1.33; the skew policy allows 3"
    )
    assert f["node/d"].status is Status.PASS
    assert f["node/e"].status is Status.FAIL
    assert (
        f["node/e"].message == "kube-proxy 1.33 is 4 minors away from its node's kubelet 1.29; the skew policy allows 3"
    )


def test_kube_proxy_unknown_without_pods_even_if_node_info_says_a_version() -> None:
    node = make_node("a", kube_proxy="v1.33.4")
    f = one("kube_proxy_version_skew_allowed", make_context(version="v1.33.4", nodes=[node]))
    assert f.status is Status.UNKNOWN
    assert f.message == "kube-proxy version unknown: kube-proxy pods are not in the input (the snapshot holds no pods)"
    assert f.evidence["node_info_kube_proxy_version"] == "v1.33.4"
    assert "deprecated" in f.evidence["note"]


def test_kube_proxy_without_an_api_version() -> None:
    pods = [make_kube_proxy_pod("a", "registry.k8s.io/kube-proxy:v1.33.4")]
    f = one("kube_proxy_version_skew_allowed", make_context(version=None, nodes=[make_node("a")], pods=pods))
    assert (f.status, f.evidence["kube_proxy"]) == (Status.UNKNOWN, "v1.33.4")


# ------------------------------------------------------------------------------------------
# Container runtimes


def runtime_ctx(*pairs: tuple[str | None, str], as_of: date = AS_OF, version: str = "v1.33.4") -> Context:
    nodes = [make_node(f"n{i}", runtime=runtime, kubelet=kubelet) for i, (runtime, kubelet) in enumerate(pairs)]
    return make_context(version=version, nodes=nodes, as_of=as_of)


def test_containerd_support() -> None:
    ctx = runtime_ctx(
        ("containerd://2.2.1", "v1.35.2"),
        ("containerd://1.6.9", "v1.25.3"),
        ("containerd://1.7.20", "v1.33.4"),
        as_of=date(2026, 3, 1),
        version="v1.35.2",
    )
    f = by_subject(run("container_runtime_supported", ctx))
    assert (f["node/n0"].status, f["node/n0"].message) == (Status.PASS, "containerd 2.2 is supported until 2026-11-06")
    # the known FAIL stays FAIL; the part that cannot be judged is named beside it
    assert (f["node/n1"].status, f["node/n1"].message) == (
        Status.FAIL,
        "containerd 1.6 reached end of support on 2025-08-23; containerd's support for kubelet 1.25 is unknown: "
        "its bundled support table covers Kubernetes 1.32 to 1.36 only",
    )
    assert f["node/n2"].status is Status.WARN
    assert f["node/n2"].message == "containerd supports Kubernetes 1.33 from 1.7.24 on this line; the node runs 1.7.20"


def test_containerd_without_cri_v1_fails_on_kubelet_1_26() -> None:
    """containerd 1.5 was still supported in December 2022, but kubelet 1.26 needs CRI v1 (containerd 1.6+)."""
    f = one("container_runtime_supported", runtime_ctx(("containerd://1.5.18", "v1.26.0"), as_of=date(2022, 12, 15)))
    assert (f.status, f.severity) == (Status.FAIL, Severity.HIGH)
    assert f.message == (
        "containerd 1.5.18 lacks CRI v1, which kubelet 1.26 requires (containerd 1.6 or newer from Kubernetes 1.26)"
    )
    older = one(
        "container_runtime_supported", runtime_ctx(("containerd://1.5.18", "v1.25.5"), as_of=date(2022, 12, 15))
    )
    # containerd 1.5 itself is supported, but whether it supports kubelet 1.25 is not in the bundled table
    assert (older.status, older.message) == (
        Status.UNKNOWN,
        "containerd's support for kubelet 1.25 is unknown: its bundled support table covers Kubernetes 1.32 to "
        "1.36 only",
    )
    assert older.evidence["phase"] == "maintenance"


def test_vendor_containerd_builds_are_judged_by_their_upstream_line() -> None:
    f = one(
        "container_runtime_supported", runtime_ctx(("containerd://1.7.28-k3s2", "v1.33.5+k3s1"), as_of=date(2025, 9, 1))
    )
    assert (f.status, f.message) == (Status.PASS, "containerd 1.7 is in maintenance support until 2026-09-01")
    assert f.evidence["vendor_build"].startswith("k3s2: a vendor package of containerd 1.7.28")


def test_crio_tracks_the_kubernetes_minor() -> None:
    ctx = runtime_ctx(("cri-o://1.32.5", "v1.33.4"), ("cri-o://1.33.2", "v1.33.4"), as_of=date(2025, 9, 1))
    f = by_subject(run("container_runtime_supported", ctx))
    assert f["node/n0"].status is Status.WARN
    assert f["node/n0"].message == (
        "CRI-O 1.32 does not match the kubelet minor 1.33; CRI-O minors track Kubernetes minors"
    )
    assert f["node/n1"].status is Status.PASS
    assert "CRI-O 1.N is supported while Kubernetes 1.N is" in f["node/n1"].evidence["rule"]


def test_crio_on_openshift_follows_the_openshift_release() -> None:
    rhcos = real_node("openshift-4.7-rhcos-master-node.json")
    ctx = make_context(
        version="v1.20.0+2817867", nodes=[rhcos], openshift=make_cluster_version_doc("4.7.16"), as_of=date(2021, 7, 7)
    )
    f = one("container_runtime_supported", ctx)
    assert (f.status, f.message) == (
        Status.PASS,
        "CRI-O 1.20 (shipped with OpenShift 4.7) is supported until 2022-08-24",
    )


def test_docker_engine_lines() -> None:
    ctx = runtime_ctx(
        ("docker://17.3.2", "v1.10.7-gke.2"),
        ("docker://20.10.12", "v1.23.1"),
        ("docker://23.0.6", "v1.26.3"),
        ("docker://26.1.4", "v1.30.2"),
        as_of=date(2024, 6, 1),
        version="v1.30.2",
    )
    f = by_subject(run("container_runtime_supported", ctx))
    assert f["node/n0"].message == "Docker Engine 17.03 reached end of support on 2017-05-05"
    assert f["node/n0"].status is Status.FAIL
    assert (f["node/n1"].status, f["node/n1"].message) == (
        Status.FAIL,
        "Docker Engine 20.10 reached end of support on 2023-12-10",
    )
    assert "dockershim" in f["node/n1"].evidence  # kubelet 1.23 still had dockershim built in
    # Docker Engine 23.0 is supported, but from 1.24 the kubelet reaches it through cri-dockerd, whose
    # version the API does not show: that half of the runtime cannot be judged
    assert (f["node/n2"].status, f["node/n2"].message) == (
        Status.UNKNOWN,
        "kubelet 1.26 runs Docker Engine through cri-dockerd (dockershim was removed in 1.24), whose version and "
        "support the API does not show",
    )
    assert "cri_dockerd" in f["node/n2"].evidence and f["node/n2"].evidence["phase"] == "active"
    assert f["node/n3"].status is Status.UNKNOWN and f["node/n3"].message.startswith("kubelet 1.30 runs Docker Engine")
    assert f["node/n3"].evidence["phase_ends"] == "2025-02-17"


def test_docker_with_no_announced_end() -> None:
    f = one("container_runtime_supported", runtime_ctx(("docker://29.0.1", "v1.23.4")))
    assert f.status is Status.PASS  # kubelet 1.23: dockershim, no cri-dockerd to judge
    assert f.message == "Docker Engine 29 is supported; no end date announced (no end date announced as of 2026-08-22)"


def test_runtime_unknown() -> None:
    ctx = runtime_ctx(
        ("docker://Unknown", "v1.9.0-alpha.0.478+e5facc9bfcc1e1-dirty"),
        (None, "v1.33.4"),
        ("remote://1.0.0", "v1.33.4"),
    )
    for check in ("container_runtime_supported", "container_runtime_patch_current"):
        f = by_subject(run(check, ctx))
        assert {s.status for s in f.values()} == {Status.UNKNOWN}, check
        assert f["node/n0"].message == "unrecognised container runtime version 'docker://Unknown'"
        assert f["node/n1"].message == "the node reports no container runtime version"
    assert (
        one("container_runtime_supported", ctx, "node/n2").message
        == "no lifecycle source for container runtime 'remote'"
    )


def test_runtime_patch_current() -> None:
    ctx = runtime_ctx(
        ("containerd://2.1.9", "v1.33.4"),
        ("containerd://2.1.5", "v1.33.4"),
        ("docker://17.3.2", "v1.10.7-gke.2"),
        ("cri-o://1.33.2", "v1.33.4"),
    )
    f = by_subject(run("container_runtime_patch_current", ctx))
    assert f["node/n0"].status is Status.PASS
    assert f["node/n1"].status is Status.FAIL  # the newer patches fix known CVEs
    assert f["node/n1"].message == (
        "containerd 2.1.5 is 4 patch releases behind 2.1.9 (released 2026-06-18); a newer patch has been available "
        "since 2025-12-17 (345 days); it fixes known CVEs (CVE-2026-47262, CVE-2026-50195, CVE-2026-53488, "
        "CVE-2026-53489, CVE-2026-53492) and has been out longer than the 30-day window"
    )
    assert f["node/n2"].message == "docker 17.3.2 runs the newest patch of docker 17.03 released by 2026-11-27: 17.03.2"
    assert f["node/n3"].status is Status.UNKNOWN
    assert f["node/n3"].message == "cri-o 1.33.2: no list of patch releases is bundled for cri-o"
    assert str(f["node/n3"].evidence["release_data"]).startswith("endoflife.date has no CRI-O product")


# ------------------------------------------------------------------------------------------
# Coverage and end-to-end shapes


SCENARIOS = [
    make_context(
        version="v1.35.2",
        as_of=date(2026, 3, 1),
        nodes=[
            make_node("a", kubelet="v1.35.2", runtime="containerd://2.2.1"),
            make_node("b", kubelet="v1.31.8", runtime="containerd://1.6.9"),
            make_node("c", node_info=False),
        ],
        pods=[
            make_kube_proxy_pod("a", "registry.k8s.io/kube-proxy:v1.35.2"),
            make_kube_proxy_pod("b", "registry.k8s.io/kube-proxy:v1.30.1"),
        ],
    ),
    make_context(version="v1.25.3", as_of=date(2023, 9, 1), nodes=[make_node("a", kubelet="v1.25.3")]),
    # patched as of 2023-09-01: the CVE checks pass (since 2024 unfixed CVEs keep them at WARN)
    make_context(
        version="v1.27.5",
        as_of=date(2023, 9, 1),
        nodes=[make_node("a", kubelet="v1.27.5", runtime="containerd://1.7.5")],
    ),
    make_context(version=None, nodes=[make_node("a")]),
]


def test_every_orchestration_check_passes_fails_and_says_unknown() -> None:
    seen: dict[str, set[Status]] = defaultdict(set)
    for ctx in SCENARIOS:
        for f in audit_findings(ctx, ctx.as_of):
            seen[f.check].add(f.status)
    for check in ORCHESTRATION:
        assert Status.PASS in seen[check], check
        assert seen[check] - {Status.PASS, Status.UNKNOWN}, check
        assert Status.UNKNOWN in seen[check], check
        assert Status.ERROR not in seen[check], check


@pytest.mark.parametrize(
    ("name", "api", "node"),
    [
        (
            "aks",
            "v1.31.8",
            make_node(
                "aks-nodepool1-0",
                kubelet="v1.31.8",
                runtime="containerd://1.7.27-1",
                os_image="Ubuntu 22.04.5 LTS",
                kernel="5.15.0-1089-azure",
                labels={
                    "kubernetes.azure.com/agentpool": "nodepool1",
                    "kubernetes.azure.com/node-image-version": "AKSUbuntu-2204gen2containerd-202509.23.0",
                },
            ),
        ),
        (
            "k3s",
            "v1.31.5+k3s1",
            make_node(
                "k3s-server",
                kubelet="v1.31.5+k3s1",
                runtime="containerd://1.7.23-k3s2",
                os_image="K3s v1.31.5+k3s1",
                kernel="6.8.0-51-generic",
                provider_id="k3s://k3s-server",
            ),
        ),
        (
            "rke2",
            "v1.27.10+rke2r1",
            make_node(
                "rke2-0",
                kubelet="v1.27.10+rke2r1",
                runtime="containerd://1.7.11-k3s2",
                labels={"rke2.io/node-args": "[]"},
            ),
        ),
        (
            "windows",
            "v1.31.8",
            make_node(
                "win-0",
                kubelet="v1.31.8",
                runtime="containerd://1.7.20",
                os_image="Windows Server 2019 Datacenter",
                kernel="10.0.17763.1397",
                operating_system="windows",
            ),
        ),
        (
            "bottlerocket",
            "v1.27.16-eks-a18cd3a",
            make_node(
                "br-0",
                kubelet="v1.27.16-eks-a18cd3a",
                runtime="containerd://1.6.34+bottlerocket",
                os_image="Bottlerocket OS 1.19.4 (aws-k8s-1.27)",
                kernel="5.15.160",
                labels={"eks.amazonaws.com/nodegroup": "br"},
            ),
        ),
        ("talos", "v1.30.0", make_node("talos-0", kubelet="v1.30.0", os_image="Talos (v1.7.0)", kernel="6.6.29-talos")),
        (
            "flatcar",
            "v1.30.0",
            make_node(
                "fc-0",
                kubelet="v1.30.0",
                os_image="Flatcar Container Linux by Kinvolk 3815.2.2 (Oklo)",
                kernel="6.1.90-flatcar",
            ),
        ),
    ],
)
def test_held_back_platform_shapes_work_end_to_end(name: str, api: str, node: Node) -> None:
    ctx = make_context(version=api, nodes=[node])
    findings = audit_findings(ctx)
    assert Status.ERROR not in {f.status for f in findings}
    mine = {f.check: f for f in findings if f.subject == f"node/{node.name}"}
    for check in ("kubelet_version_supported", "kubelet_version_skew_allowed", "container_runtime_supported"):
        assert mine[check].status is not Status.UNKNOWN, (name, check, mine[check].message)
    expected = {
        "aks": "aks",
        "k3s": "k3s",
        "rke2": "rke2",
        "windows": "upstream",
        "bottlerocket": "eks",
        "talos": "upstream",
        "flatcar": "upstream",
    }[name]
    assert ctx.facts.distribution.id == expected


def test_end_to_end_verdicts_for_aks_k3s_windows() -> None:
    aks = make_node(
        "aks-0",
        kubelet="v1.31.8",
        labels={
            "kubernetes.azure.com/agentpool": "nodepool1",
            "kubernetes.azure.com/node-image-version": "AKSUbuntu-2204gen2containerd-202509.23.0",
        },
    )
    f = {x.check: x for x in audit_findings(make_context(version="v1.31.8", nodes=[aks]))}
    assert f["kubelet_version_supported"].evidence["judged_by"] == "Azure Kubernetes Service 1.31"
    assert f["control_plane_patch_current"].evidence["responsibility"] == "provider"
    k3s = make_node("k3s-0", kubelet="v1.31.5+k3s1", os_image="K3s v1.31.5+k3s1")
    ctx = make_context(version=None, nodes=[k3s])
    assert (ctx.facts.distribution.id, ctx.facts.distribution.evidence) == ("k3s", "1 kubelet version(s) name k3s")
    by_provider = make_context(version=None, nodes=[make_node("k3s-1", kubelet="v1.31.5", provider_id="k3s://k3s-1")])
    assert (by_provider.facts.distribution.id, by_provider.facts.distribution.evidence) == (
        "k3s",
        "1 node(s) carry k3s labels",
    )
    win = make_node(
        "win-0",
        kubelet="v1.31.8",
        os_image="Windows Server 2019 Datacenter",
        kernel="10.0.17763.1397",
        operating_system="windows",
    )
    w = {x.check: x for x in audit_findings(make_context(version="v1.31.8", nodes=[win]))}
    assert w["node_os_supported"].message == "Microsoft Windows Server 2019 is in maintenance support until 2029-01-09"
    assert w["node_kernel_consistent_in_pool"].status is Status.PASS


def test_openshift_end_to_end_with_clusterversion() -> None:
    rhcos = real_node("openshift-4.7-rhcos-master-node.json")
    inventory = make_inventory(
        "v1.20.0+2817867",
        nodes=[rhcos],
        openshift=make_cluster_version_doc("4.7.16", history=[("Partial", "4.7.18"), ("Completed", "4.7.16")]),
    )
    findings = {f.check: f for f in audit_findings(inventory, date(2021, 7, 7))}
    assert findings["control_plane_version_supported"].evidence["judged_by"] == "OpenShift 4.7 (ClusterVersion 4.7.16)"
    assert findings["node_os_supported"].message == "RHCOS for OpenShift 4.7 is supported until 2022-08-24"
    # no MachineConfigPool in this input: the node's Done cannot show it is not waiting its turn (issue 11)
    assert findings["node_not_pending_reboot"].status is Status.UNKNOWN
    assert "the input holds no machineconfigpools" in findings["node_not_pending_reboot"].message
    assert findings["container_runtime_supported"].status is Status.PASS
