"""The add-on checks on the right dates: both sides of every boundary day, on real manifests and records."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from typing import Any

import pytest

from addon_pods import DATA, inventory_of, manifest_pods, pod_doc, static_pod_doc
from builders import knowledge, make_context, run
from patchlevel.checks import ALL_CHECKS
from patchlevel.checks.common import Context
from patchlevel.evaluate import check_infos, evaluate
from patchlevel.inventory import Inventory
from patchlevel.lifecycle.osv import OsvFeed, parse_record
from patchlevel.model import Finding, Status
from patchlevel.policy import Policy

ADDON_CHECKS = (
    "addon_version_supported",
    "addon_patch_current",
    "addon_free_of_known_cves",
    "control_plane_components_skew_allowed",
)


def ctx_for(inventory: Inventory, as_of: date, feed: OsvFeed | None = None) -> Context:
    ctx = make_context(inventory, as_of=as_of)
    return dataclasses.replace(ctx, osv=feed) if feed is not None else ctx


def findings(check: str, ctx: Context) -> dict[str, Finding]:
    out: dict[str, Finding] = {}
    for f in run(check, ctx):
        assert f.subject not in out, f.subject
        out[f.subject] = f
    return out


def feed_of(*docs: dict[str, Any]) -> OsvFeed:
    records = tuple(parse_record(doc, str(doc.get("id"))) for doc in docs)
    return OsvFeed(records, "2026-08-21", records[-1].id)


def record(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / name).read_bytes())
    return doc


def constructed_record(module: str, introduced: str, fixed: str, record_id: str = "GO-2099-0001") -> dict[str, Any]:
    """An OSV record as the Go vulnerability database writes them (made up for the test)."""
    return {
        "schema_version": "1.3.1",
        "id": record_id,
        "modified": "0001-01-01T00:00:00Z",
        "published": "0001-01-01T00:00:00Z",
        "aliases": ["CVE-2099-0001"],
        "summary": f"Made-up flaw in {module}",
        "affected": [
            {
                "package": {"name": module, "ecosystem": "Go"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": introduced}, {"fixed": fixed}]}],
            }
        ],
        "references": [{"type": "ADVISORY", "url": "https://example.org/advisory"}],
    }


def with_tag(manifest: str, old: str, new: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    pods, owners = manifest_pods(manifest)
    text = json.dumps(pods).replace(old, new)
    return json.loads(text), owners


# ------------------------------------------------------------------------------------------
# etcd 3.4 (endoflife.date: support ends 2026-06-01), on the real kind pod list


def kind_inventory() -> Inventory:
    doc = json.loads((DATA / "pods-kind-v1.20-kube-system-sonobuoy.json").read_bytes())
    return inventory_of(doc["items"], version="v1.20.0")


ETCD = "addon/etcd/kube-system/Pod/etcd-kind-control-plane"


@pytest.mark.parametrize(
    ("day", "status"),
    [(date(2026, 4, 1), Status.PASS), (date(2026, 6, 1), Status.WARN), (date(2026, 6, 2), Status.FAIL)],
)
def test_etcd_3_4_support_ends_on_its_day(day: date, status: Status) -> None:
    finding = findings("addon_version_supported", ctx_for(kind_inventory(), day))[ETCD]
    assert finding.status is status, finding.message
    if status is Status.FAIL:
        assert finding.message == "etcd 3.4 reached end of support on 2026-06-01"
        assert "(etcd 3.6 (3.6.12), 3.5 (3.5.31))" in finding.remediation  # 3.7 came out later
    if status is Status.WARN:
        assert "0 days left" in finding.message
    evidence = finding.evidence
    assert evidence["namespace"] == "kube-system" and evidence["workload"] == "Pod/etcd-kind-control-plane"
    assert evidence["version_raw"] == "3.4.13-0" and evidence["static_pod"] is True
    assert evidence["lifecycle_product"] == "etcd" and evidence["support_ends"] == "2026-06-01"


def test_etcd_patch_level_on_the_kind_cluster() -> None:
    no_etcd_cves = feed_of(constructed_record("example.org/unrelated", "0", "1.0.0"))
    finding = findings("addon_patch_current", ctx_for(kind_inventory(), date(2026, 12, 7), no_etcd_cves))[ETCD]
    assert finding.status is Status.WARN  # no known CVE fixed on the line: behind, not failing
    assert "32 patch releases behind 3.4.45" in finding.message
    assert finding.remediation.startswith("Upgrade etcd to 3.4.45, the newest patch of its line")


def test_coredns_1_7_on_the_kind_cluster() -> None:
    ctx = ctx_for(kind_inventory(), date(2026, 12, 7))
    subject = "addon/coredns/kube-system/Deployment/coredns"
    supported = findings("addon_version_supported", ctx)[subject]
    assert supported.status is Status.FAIL and supported.message == "CoreDNS 1.7 reached end of support on 2022-02-01"
    assert supported.evidence["lifecycle_curated"] is True
    assert supported.evidence["lifecycle_policy"] == "https://github.com/coredns/coredns/blob/master/RELEASES.md"
    patch = findings("addon_patch_current", ctx)[subject]
    assert patch.status is Status.UNKNOWN  # the curated data lists no 1.7 patches: never "newest"


# ------------------------------------------------------------------------------------------
# Cilium 1.17 (endoflife.date: support ends 2026-07-29), as EKS Anywhere ships it


CILIUM = "addon/cilium/kube-system/DaemonSet/cilium"


@pytest.mark.parametrize(
    ("day", "status"),
    [(date(2026, 5, 29), Status.PASS), (date(2026, 7, 29), Status.WARN), (date(2026, 7, 30), Status.FAIL)],
)
def test_a_cilium_line_past_end_of_life(day: date, status: Status) -> None:
    pods, owners = manifest_pods("cilium-eks-anywhere-v1.17.8-manifest.yaml")
    result = findings("addon_version_supported", ctx_for(inventory_of(pods, owners), day))
    assert set(result) == {CILIUM, "addon/cilium/kube-system/Deployment/cilium-operator"}
    finding = result[CILIUM]
    assert finding.status is status, finding.message
    assert "vendor build" in finding.evidence["vendor_build"]
    if status is Status.FAIL:
        assert finding.message == "Cilium 1.17 reached end of support on 2026-07-29"
        assert finding.remediation.startswith("Upgrade Cilium to a supported release line (Cilium 1.20")
        assert "cilium Helm chart" in finding.remediation


def test_a_constructed_cilium_cve_fails_with_its_fix() -> None:
    pods, owners = manifest_pods("cilium-eks-anywhere-v1.17.8-manifest.yaml")
    feed = feed_of(constructed_record("github.com/cilium/cilium", "1.17.0", "1.17.9"))
    result = findings("addon_free_of_known_cves", ctx_for(inventory_of(pods, owners), date(2026, 1, 1), feed))
    finding = result[CILIUM]
    assert finding.status is Status.FAIL
    # named by its CVE alias where the feed merges records by alias, else by its own id
    assert ("CVE-2099-0001" in finding.message or "GO-2099-0001" in finding.message) and "fixed in 1.17.9" in (
        finding.message
    )
    assert finding.evidence["cves"][0]["fix_released"] == "2025-10-22"  # 1.17.9 in endoflife.date release-data
    assert "1.17.9" in finding.remediation


@pytest.mark.parametrize(
    ("image", "words"),
    [
        # cilium-envoy's tag (Envoy 1.32.6 built for Cilium) read as a Cilium release
        ("quay.io/cilium/cilium:v1.32.6", "Cilium 1.32.6 is newer than every release in the lifecycle data (newest "),
        ("quay.io/cilium/cilium:v1.17.99", "Cilium 1.17.99 is newer than every 1.17 release in the lifecycle data"),
        ("registry.k8s.io/coredns/coredns:v1.6.9", "CoreDNS 1.6 is not a release line in the lifecycle data"),
    ],
)
def test_no_known_cve_of_a_release_the_data_does_not_know_is_unknown(image: str, words: str) -> None:
    addon = image.rsplit("/", 1)[-1].split(":")[0]
    records = [constructed_record(f"github.com/{addon}/{addon}", "1.0.0", "1.0.1", f"GO-2099-000{i}") for i in (1, 2)]
    feed = feed_of(*records)
    ctx = ctx_for(inventory_of([pod_doc("x", image, owner=("DaemonSet", "x"))]), date(2026, 12, 7), feed)
    subject = f"addon/{addon}/default/DaemonSet/x"
    finding = findings("addon_free_of_known_cves", ctx)[subject]
    assert finding.status is Status.UNKNOWN, finding.message
    assert words in finding.message and words in str(finding.evidence["release_unknown"])
    assert finding.evidence["cves"] == []  # the records do not place the version in their ranges
    # the patch level of a release the data does not know was never a pass either, nor an unknown line's support
    assert findings("addon_patch_current", ctx)[subject].status is Status.UNKNOWN
    if "1.32.6" in image:
        assert findings("addon_version_supported", ctx)[subject].status is Status.UNKNOWN
    # a release the data knows, with the same records, passes while the CVE data is recent (2026-09-01)...
    known_image = image.rsplit(":", 1)[0] + (":v1.17.18" if addon == "cilium" else ":v1.14.6")
    known_inventory = inventory_of([pod_doc("x", known_image, owner=("DaemonSet", "x"))])
    passed = findings("addon_free_of_known_cves", ctx_for(known_inventory, date(2026, 9, 1), feed))[subject]
    assert passed.status is Status.PASS and "release_unknown" not in passed.evidence
    # ...and not on 2026-12-07, 108 days after the CVE data ends (the policy allows 90): later CVEs are unknown
    stale = findings("addon_free_of_known_cves", ctx_for(known_inventory, ctx.as_of, feed))[subject]
    assert stale.status is Status.UNKNOWN, stale.message
    assert "108 days after the CVE data ends (2026-08-21" in stale.message
    assert stale.evidence["cve_data_days_before_as_of"] == 108


def test_cilium_envoy_is_never_judged_as_a_cilium_release() -> None:
    """The Cilium chart labels its cilium-envoy DaemonSet part-of: cilium; its Envoy tag is no Cilium release."""
    pods, owners = manifest_pods("cilium-1.17.5-envoy-operator-relay-helm-rendered.yaml")
    feed = feed_of(constructed_record("github.com/cilium/cilium", "1.17.0", "1.17.5"))
    ctx = ctx_for(inventory_of(pods, owners), date(2026, 1, 1), feed)
    for check in ADDON_CHECKS[:3]:
        result = findings(check, ctx)
        assert set(result) == {
            "addon/cilium/kube-system/Deployment/cilium-operator",
            "addon/cilium/kube-system/Deployment/hubble-relay",
        }, check
        assert not any("envoy" in json.dumps(f.evidence) for f in result.values())
    operator = findings("addon_free_of_known_cves", ctx)["addon/cilium/kube-system/Deployment/cilium-operator"]
    assert operator.status is Status.PASS and operator.evidence["version"] == "1.17.5"


# ------------------------------------------------------------------------------------------
# The retired ingress controller (retired in March 2026; the day is not given)


INGRESS = "addon/ingress-nginx/ingress-nginx/Deployment/ingress-nginx-controller"


@pytest.mark.parametrize(
    ("day", "status"),
    [
        (date(2026, 2, 28), Status.UNKNOWN),  # per-line support before the retirement is not recorded
        (date(2026, 3, 1), Status.UNKNOWN),
        (date(2026, 3, 31), Status.UNKNOWN),
        (date(2026, 4, 1), Status.FAIL),
    ],
)
def test_a_retired_ingress_controller_is_unsupported_from_its_retirement(day: date, status: Status) -> None:
    pods, owners = manifest_pods("ingress-nginx-v1.15.1-deploy-cloud.yaml")
    ctx = ctx_for(inventory_of(pods, owners), day)
    finding = findings("addon_version_supported", ctx)[INGRESS]
    assert finding.status is status, finding.message
    patch = findings("addon_patch_current", ctx)[INGRESS]
    if status is Status.FAIL:
        assert "retired" in finding.message and "2025-11-11" in finding.message
        assert finding.remediation.startswith("Replace Ingress NGINX Controller: the project is retired")
        assert patch.status is Status.FAIL and "will get no patch" in patch.message
    else:
        assert "March 2026" in finding.message
        assert patch.status is not Status.PASS


@pytest.mark.skipif(not hasattr(OsvFeed, "assess"), reason="needs the feed that reads the Go database's custom ranges")
@pytest.mark.parametrize(("tag", "status"), [("v1.12.0", Status.FAIL), ("v1.12.1", Status.UNKNOWN)])
def test_ingress_nightmare_from_the_real_go_record(tag: str, status: Status) -> None:
    pods, owners = with_tag("ingress-nginx-v1.15.1-deploy-cloud.yaml", "v1.15.1", tag)
    feed = feed_of(record("GO-2025-3567.json"))
    finding = findings("addon_free_of_known_cves", ctx_for(inventory_of(pods, owners), date(2025, 6, 1), feed))[INGRESS]
    assert finding.status is status, finding.message
    if status is Status.FAIL:
        assert "CVE-2025-1974" in finding.message and "1.12.1" in finding.message
    else:
        # the record places 1.12.1 past the fix, but the curated ingress-nginx data lists no release line
        # (nor any release): "no known CVE" of a release the data does not know is not a pass
        assert finding.evidence["cves"] == []
        assert "Ingress NGINX Controller 1.12 is not a release line in the lifecycle data" in finding.message


# ------------------------------------------------------------------------------------------
# cert-manager two patches behind a CVE fix (GO-2026-4399, CVE-2026-25518: fixed in 1.19.3 on 2026-02-02)


CERT_MANAGER = "addon/cert-manager/cert-manager/Deployment/cert-manager"


def cert_manager_ctx(day: date) -> Context:
    pods, owners = with_tag("cert-manager-v1.19.4-deployments.yaml", "v1.19.4", "v1.19.1")
    return ctx_for(inventory_of(pods, owners), day, feed_of(record("GO-2026-4399.json")))


@pytest.mark.parametrize(
    ("day", "status"),
    [(date(2026, 3, 4), Status.WARN), (date(2026, 3, 5), Status.FAIL)],  # the fix is 30, then 31 days old
)
def test_cert_manager_behind_a_cve_fix_fails_after_the_patch_window(day: date, status: Status) -> None:
    finding = findings("addon_patch_current", cert_manager_ctx(day))[CERT_MANAGER]
    assert finding.status is status, finding.message
    fixed = finding.evidence["fixed_cves"]
    assert fixed == [
        {"id": fixed[0]["id"], "fixed_in": "1.19.3", "fix_released": "2026-02-02", "fixed_on_this_line": True}
    ]
    assert fixed[0]["id"] in ("CVE-2026-25518", "GO-2026-4399")
    if status is Status.FAIL:
        assert "it fixes known CVEs" in finding.message
    assert finding.remediation.startswith("Upgrade cert-manager to 1.19.")


@pytest.mark.parametrize(
    ("day", "status"),
    [(date(2026, 2, 1), Status.WARN), (date(2026, 2, 2), Status.FAIL)],  # no fixed release yet, then one
)
def test_cert_manager_cve_is_judged_by_its_fix_release_date(day: date, status: Status) -> None:
    finding = findings("addon_free_of_known_cves", cert_manager_ctx(day))[CERT_MANAGER]
    assert finding.status is status, finding.message
    if status is Status.FAIL:
        assert "fixed in 1.19.3" in finding.message
        assert "1.19.3" in finding.remediation
    else:
        assert "no fixed release out by 2026-02-01" in finding.message


@pytest.mark.parametrize(("day", "overdue"), [(date(2026, 3, 4), False), (date(2026, 3, 5), True)])
def test_an_add_on_cve_is_overdue_once_its_fix_is_older_than_the_patch_window(day: date, overdue: bool) -> None:
    """The typed vulnerability the metrics count carries the same clock as addon_patch_current: fix out 2026-02-02."""
    finding = findings("addon_free_of_known_cves", cert_manager_ctx(day))[CERT_MANAGER]
    (vulnerability,) = finding.vulnerabilities
    assert vulnerability.fixed_version == "1.19.3"
    assert vulnerability.overdue is overdue


def test_a_fixed_cert_manager_passes_and_says_how_far_the_data_goes() -> None:
    pods, owners = manifest_pods("cert-manager-v1.19.4-deployments.yaml")
    feed = feed_of(record("GO-2026-4399.json"))
    finding = findings("addon_free_of_known_cves", ctx_for(inventory_of(pods, owners), date(2026, 3, 5), feed))[
        CERT_MANAGER
    ]
    assert finding.status is Status.PASS and "later CVEs are not covered" in finding.message


def test_a_module_the_cve_data_does_not_cover_is_unknown_not_pass() -> None:
    pods, owners = manifest_pods("cert-manager-v1.19.4-deployments.yaml")
    feed = feed_of(constructed_record("github.com/cilium/cilium", "1.0.0", "1.0.1"))
    finding = findings("addon_free_of_known_cves", ctx_for(inventory_of(pods, owners), date(2026, 3, 5), feed))[
        CERT_MANAGER
    ]
    assert finding.status is Status.UNKNOWN and "holds no record for github.com/cert-manager/cert-manager" in (
        finding.message
    )


# ------------------------------------------------------------------------------------------
# Unknown add-ons are never judged; unreadable versions are unknown


def test_an_unknown_add_on_is_never_judged() -> None:
    pods = [
        pod_doc("web", "docker.io/library/nginx:1.27.3"),
        pod_doc("pay", "registry.example/payments:2.1.0", labels={"app.kubernetes.io/name": "payments"}),
        pod_doc("kindnet", "docker.io/kindest/kindnetd:v20250214-acbabc1a", namespace="kube-system"),
    ]
    ctx = ctx_for(inventory_of(pods), date(2026, 12, 7))
    for check in ADDON_CHECKS[:3]:
        (finding,) = run(check, ctx)
        assert finding.subject == "cluster" and finding.status is Status.UNKNOWN
        assert "no cluster add-on recognised among 3 pods" in finding.message
    mixed = ctx_for(inventory_of([*pods, pod_doc("dns", "registry.k8s.io/coredns/coredns:v1.14.6")]), date(2026, 12, 7))
    result = findings("addon_version_supported", mixed)
    assert set(result) == {"addon/coredns/default/Pod/dns"}
    assert result["addon/coredns/default/Pod/dns"].status is Status.PASS


def test_unreadable_versions_are_unknown_with_the_raw_value() -> None:
    pods = [
        pod_doc("a", "quay.io/cilium/cilium:latest", owner=("DaemonSet", "cilium")),
        pod_doc("b", "quay.io/jetstack/cert-manager-controller@sha256:" + "cd" * 32, owner=("ReplicaSet", "cm-1")),
    ]
    ctx = ctx_for(inventory_of(pods), date(2026, 12, 7))
    for check in ADDON_CHECKS[:3]:
        result = findings(check, ctx)
        assert {f.status for f in result.values()} == {Status.UNKNOWN}, check
        cilium = result["addon/cilium/default/DaemonSet/cilium"]
        assert cilium.evidence["raw"] == "latest" and "'latest' names no release" in cilium.message


def test_pods_not_collected_make_every_add_on_check_unknown() -> None:
    ctx = make_context(version="v1.33.4", pods=None, as_of=date(2026, 12, 7))
    for check in ADDON_CHECKS:
        (finding,) = run(check, ctx)
        assert finding.status is Status.UNKNOWN and "pods are not in the input" in finding.message


# ------------------------------------------------------------------------------------------
# Managed platforms


def test_provider_managed_add_ons_say_so() -> None:
    aks = pod_doc(
        "coredns-1",
        "mcr.microsoft.com/oss/kubernetes/coredns:v1.9.4-2",
        labels={"kubernetes.azure.com/managedby": "aks", "k8s-app": "kube-dns", "pod-template-hash": "789789675"},
        namespace="kube-system",
        owner=("ReplicaSet", "coredns-789789675"),
    )
    # the distribution is detected from the API server version: an AKS hotfix build
    aks_inventory = inventory_of([aks], version="v1.28.5-hotfix.20240411")
    ctx = ctx_for(aks_inventory, date(2026, 12, 7))
    assert ctx.facts.distribution.id == "aks"
    subject = "addon/coredns/kube-system/Deployment/coredns"
    supported = findings("addon_version_supported", ctx)[subject]
    assert supported.status is Status.WARN and "AKS deploys this add-on" in supported.message
    assert supported.evidence["responsibility"] == "provider" and supported.evidence["upstream_verdict"] == "fail"
    patch = findings("addon_patch_current", ctx)[subject]
    assert patch.status is Status.PASS and patch.evidence["responsibility"] == "provider"
    assert "attestation of compliance" in patch.message and "upstream_comparison" in patch.evidence


def test_eks_add_ons_are_the_customers_to_update() -> None:
    eks = pod_doc(
        "coredns-1",
        "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/coredns:v1.11.4-eksbuild.33",
        labels={"eks.amazonaws.com/component": "coredns", "pod-template-hash": "6b9575c64c"},
        namespace="kube-system",
        owner=("ReplicaSet", "coredns-6b9575c64c"),
    )
    ctx = ctx_for(inventory_of([eks], version="v1.31.13-eks-ecaa3a6"), date(2026, 12, 7))
    finding = findings("addon_version_supported", ctx)["addon/coredns/kube-system/Deployment/coredns"]
    assert finding.status is Status.FAIL  # 1.11 ended when 1.13 came out (2025-10-05)
    assert finding.evidence["responsibility"] == "customer"
    assert "EKS does not update an add-on by itself" in finding.evidence["responsibility_evidence"]


# ------------------------------------------------------------------------------------------
# Control-plane component skew (static pods)


def skew(*pods: dict[str, Any], version: str | None = "v1.31.4") -> dict[str, Finding]:
    return findings(
        "control_plane_components_skew_allowed", ctx_for(inventory_of(list(pods), version=version), date(2026, 12, 7))
    )


def static(component: str, version: str, node: str) -> dict[str, Any]:
    return static_pod_doc(component, f"registry.k8s.io/{component}:{version}", node)


def test_ha_api_servers_more_than_one_minor_apart_fail() -> None:
    result = skew(static("kube-apiserver", "v1.31.4", "cp-1"), static("kube-apiserver", "v1.29.12", "cp-2"))
    for subject in ("pod/kube-system/kube-apiserver-cp-1", "pod/kube-system/kube-apiserver-cp-2"):
        assert result[subject].status is Status.FAIL
        assert "span 1.29 to 1.31" in result[subject].message
        assert result[subject].evidence["policy"] == "https://kubernetes.io/releases/version-skew-policy/"


@pytest.mark.parametrize(
    ("apiservers", "follower", "status", "words"),
    [
        (("v1.31.4",), "v1.31.4", Status.PASS, "within the version-skew policy"),
        (("v1.31.4",), "v1.30.8", Status.PASS, "one minor behind"),
        (("v1.31.4",), "v1.29.12", Status.FAIL, "2 minor versions behind"),
        (("v1.31.4",), "v1.32.1", Status.FAIL, "newer than kube-apiserver 1.31"),
        (("v1.31.4", "v1.30.8"), "v1.31.4", Status.FAIL, "newer than kube-apiserver 1.30"),  # mid-upgrade HA
        (("v1.31.4", "v1.30.8"), "v1.30.8", Status.PASS, "one minor behind"),
    ],
)
def test_controller_manager_and_scheduler_follow_the_api_servers(
    apiservers: tuple[str, ...], follower: str, status: Status, words: str
) -> None:
    pods = [static("kube-apiserver", v, f"cp-{i}") for i, v in enumerate(apiservers)]
    pods += [static("kube-controller-manager", follower, "cp-0"), static("kube-scheduler", follower, "cp-0")]
    result = skew(*pods)
    for component in ("kube-controller-manager", "kube-scheduler"):
        finding = result[f"pod/kube-system/{component}-cp-0"]
        assert finding.status is status, finding.message
        assert words in finding.message


UNREADABLE_API = static_pod_doc("kube-apiserver", "registry.k8s.io/kube-apiserver@sha256:" + "ef" * 32, "cp-3")


def test_an_api_server_whose_version_cannot_be_read_keeps_the_others_from_passing() -> None:
    result = skew(
        static("kube-apiserver", "v1.31.4", "cp-1"),
        static("kube-apiserver", "v1.30.8", "cp-2"),
        UNREADABLE_API,
        static("kube-controller-manager", "v1.30.8", "cp-2"),
        static("kube-scheduler", "v1.30.8", "cp-2"),
    )
    assert result["pod/kube-system/kube-apiserver-cp-3"].status is Status.UNKNOWN
    for subject in (
        "pod/kube-system/kube-apiserver-cp-1",
        "pod/kube-system/kube-apiserver-cp-2",
        "pod/kube-system/kube-controller-manager-cp-2",
        "pod/kube-system/kube-scheduler-cp-2",
    ):
        finding = result[subject]
        assert finding.status is Status.UNKNOWN, (subject, finding.message)
        assert "kube-system/kube-apiserver-cp-3 on node cp-3" in finding.message and "cannot be read" in finding.message
        assert finding.evidence["api_servers_unreadable"] == [
            {
                "pod": "kube-system/kube-apiserver-cp-3",
                "node": "cp-3",
                "image": UNREADABLE_API["spec"]["containers"][0]["image"],
            }
        ]


def test_a_known_skew_violation_fails_beside_an_unreadable_api_server() -> None:
    result = skew(
        static("kube-apiserver", "v1.31.4", "cp-1"),
        static("kube-apiserver", "v1.29.12", "cp-2"),
        UNREADABLE_API,
        static("kube-scheduler", "v1.32.0", "cp-1"),
    )
    assert result["pod/kube-system/kube-apiserver-cp-1"].status is Status.FAIL
    assert result["pod/kube-system/kube-scheduler-cp-1"].status is Status.FAIL  # newer than a known API server


def test_no_readable_api_server_pod_is_not_replaced_by_the_version_endpoint() -> None:
    # /version answers for whichever API server took the request; the static pod that cannot be read is another
    result = skew(UNREADABLE_API, static("kube-scheduler", "v1.31.4", "cp-3"), version="v1.31.4")
    finding = result["pod/kube-system/kube-scheduler-cp-3"]
    assert finding.status is Status.UNKNOWN and "kube-apiserver-cp-3" in finding.message


def test_without_static_api_server_pods_the_version_endpoint_is_the_reference() -> None:
    result = skew(static("kube-scheduler", "v1.32.0", "cp-0"), version="v1.31.4")
    finding = result["pod/kube-system/kube-scheduler-cp-0"]
    assert finding.status is Status.FAIL and finding.evidence["api_server_versions_from"] == "the /version endpoint"


@pytest.mark.parametrize(
    ("version", "status", "words"),
    [
        ("v1.31.13-eks-ecaa3a6", Status.PASS, "out of the cluster's view"),
        ("v1.31.5+k3s1", Status.PASS, "one process"),
        ("v1.31.4", Status.UNKNOWN, "no static control-plane pods"),
    ],
)
def test_no_static_control_plane(version: str, status: Status, words: str) -> None:
    (finding,) = skew(pod_doc("web", "docker.io/library/nginx:1.27.3"), version=version).values()
    assert finding.subject == "cluster" and finding.status is status and words in finding.message


# ------------------------------------------------------------------------------------------
# The registry and the requirement mapping


def test_the_checks_are_registered_after_the_runtime_checks_and_mapped() -> None:
    ids = [c.id for c in ALL_CHECKS]
    for check in ADDON_CHECKS:
        assert check in ids
    assert ids.index("addon_version_supported") > ids.index("container_runtime_patch_current")
    infos = {i.id: i for i in check_infos()}
    assert "PCI-CG-10.1" in infos["addon_version_supported"].requirements
    assert "PCI-DSS-12.3.4" in infos["addon_version_supported"].requirements
    assert {"PCI-CG-10.1", "PCI-DSS-6.3.3"} <= set(infos["addon_patch_current"].requirements)
    assert {"PCI-DSS-6.3.1", "PCI-DSS-6.3.3"} <= set(infos["addon_free_of_known_cves"].requirements)
    assert "version-skew-policy" in infos["control_plane_components_skew_allowed"].description


def test_the_runner_fills_requirements_on_add_on_findings() -> None:
    produced = evaluate(kind_inventory(), knowledge(), Policy(), date(2026, 12, 7))
    mine = [f for f in produced if f.check in ADDON_CHECKS]
    assert mine and all("PCI-CG-10.1" in f.requirements for f in mine)
    assert not [f for f in mine if f.status is Status.ERROR]


def test_workloads_sharing_a_judgement_keep_their_own_evidence() -> None:
    pods, owners = manifest_pods("cilium-eks-anywhere-v1.17.8-manifest.yaml")
    ctx = ctx_for(inventory_of(pods, owners), date(2026, 7, 30))
    for check in ADDON_CHECKS[:3]:
        result = findings(check, ctx)
        agent = result[CILIUM].evidence
        operator = result["addon/cilium/kube-system/Deployment/cilium-operator"].evidence
        assert (agent["workload"], operator["workload"]) == ("DaemonSet/cilium", "Deployment/cilium-operator"), check
        assert agent["images"] != operator["images"]
