"""10.2 checks, per node: OS release, kernel drift in a pool, node image age, pending reboots."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest

from builders import (
    DATA,
    audit_findings,
    by_subject,
    make_cluster_version_doc,
    make_context,
    make_inventory,
    make_node,
    make_pod,
    one,
    run,
)
from patchlevel import inventory as inv
from patchlevel.checks import ALL_CHECKS, hosts
from patchlevel.checks.common import Context
from patchlevel.frameworks import load_requirements, requirements_by_check
from patchlevel.hostscans import HostPackage, NodeScan
from patchlevel.inventory import UpdateAgentObjects
from patchlevel.kube import DaemonSet, Node
from patchlevel.model import Finding, Severity, Status
from patchlevel.policy import Policy
from patchlevel.scans import ScanReport, Vulnerability

HOSTS = [c.id for c in ALL_CHECKS if c.function.__module__ == hosts.__name__]


def real_node(path: str) -> Node:
    return msgspec.convert(json.loads((DATA / path).read_text(encoding="utf-8")), Node)


def test_host_checks_are_registered_and_mapped() -> None:
    assert HOSTS == [
        "node_os_supported",
        "node_kernel_consistent_in_pool",
        "node_image_current",
        "node_not_pending_reboot",
        "node_drain_possible",
        "node_update_agent_healthy",
        "node_running_installed_kernel",
        "node_os_packages_patched_in_time",
        "node_scanned_recently",
    ]
    mapped = requirements_by_check(load_requirements(c.id for c in ALL_CHECKS))
    for check in HOSTS:
        assert "PCI-CG-10.2" in mapped[check], check
    interpretations = {c.id: c.interpretation for c in ALL_CHECKS}
    assert "patchlevel's reading of PCI 10.2" in interpretations["node_kernel_consistent_in_pool"]


# ------------------------------------------------------------------------------------------
# Operating system


def os_findings(*images: tuple[str, str, str], as_of: date = date(2026, 11, 27), **kw: Any) -> dict[str, Finding]:
    """Findings of node_os_supported by node name, for (name, osImage, kernel) triples."""
    nodes = [
        make_node(name, os_image=image, kernel=kernel, operating_system="windows" if "Windows" in image else "linux")
        for name, image, kernel in images
    ]
    findings = by_subject(run("node_os_supported", make_context(nodes=nodes, as_of=as_of, **kw)))
    return {subject.removeprefix("node/"): f for subject, f in findings.items()}


def test_os_supported_in_extended_and_ended() -> None:
    f = os_findings(
        ("u24", "Ubuntu 24.04.2 LTS", "6.8.0-51-generic"),
        ("u20", "Ubuntu 20.04.6 LTS", "5.15.0-1051-aws"),
        ("u2010", "Ubuntu 20.10", "5.8.0-63-generic"),
        ("al2023", "Amazon Linux 2023.9.20251208", "6.1.158-180.294.amzn2023.x86_64"),
    )
    assert (f["u24"].status, f["u24"].message) == (
        Status.PASS,
        "Ubuntu 24.04 is supported until 2029-05-31, then extended support until 2036-05-31",
    )
    assert (f["u20"].status, f["u20"].message) == (
        Status.WARN,
        "Ubuntu 20.04 is past end of standard support on 2025-05-31; in Expanded Security Maintenance until 2030-04-02",
    )
    assert (f["u2010"].status, f["u2010"].message) == (
        Status.FAIL,
        "Ubuntu 20.10 reached end of support on 2021-07-22",
    )
    assert f["al2023"].status is Status.PASS
    assert f["u20"].evidence["os_image"] == "Ubuntu 20.04.6 LTS"


def test_esm_can_be_made_a_failure_by_policy() -> None:
    f = os_findings(("u20", "Ubuntu 20.04.6 LTS", "5.15.0-1051-aws"), policy=Policy(extended_support=Status.FAIL))
    assert f["u20"].status is Status.FAIL


def test_code_name_is_resolved_through_the_catalog() -> None:
    """kind 1.20's base image reports 'Ubuntu Groovy Gorilla (development branch)': that is Ubuntu 20.10."""
    image = ("kind", "Ubuntu Groovy Gorilla (development branch)", "5.4.0-58-generic")
    f = os_findings(image)["kind"]
    assert (f.status, f.message) == (Status.FAIL, "Ubuntu 20.10 reached end of support on 2021-07-22")
    assert f.evidence["release_from"] == "code name Groovy Gorilla"
    then = os_findings(image, as_of=date(2021, 3, 1))["kind"]
    assert (then.status, then.message) == (Status.PASS, "Ubuntu 20.10 is supported until 2021-07-22")


def test_windows_nodes() -> None:
    f = os_findings(
        ("win2019", "Windows Server 2019 Datacenter", "10.0.17763.1397"),
        ("win2016", "Microsoft Windows [Version 10.0.14393]", "10.0.14393"),
    )
    assert (f["win2019"].status, f["win2019"].message) == (
        Status.PASS,
        "Microsoft Windows Server 2019 is in maintenance support until 2029-01-09",
    )
    assert (f["win2016"].status, f["win2016"].message) == (
        Status.WARN,
        "Microsoft Windows Server 2016 is in maintenance support until 2027-01-12 — 46 days left, "
        "then extended support until 2030-01-12",
    )
    assert f["win2016"].evidence["operating_system"] == "windows"


@pytest.mark.parametrize(
    ("os_image", "message"),
    [
        (
            "Bottlerocket OS 1.19.4",
            "Bottlerocket: the Bottlerocket variant, whose support the release follows, is not in the osImage",
        ),
        ("Buildroot 2019.02.7", "Buildroot 2019.02.7: a Buildroot image (minikube); it has no support lifecycle"),
        (
            "K3s v1.31.5+k3s1",
            "unknown: the node reports the k3s version (v1.31.5+k3s1) instead of its OS (k3s running in a container)",
        ),
        ("Unknown", "unknown: the node reports its OS image as 'Unknown'"),
        (
            "Container-Optimized OS from Google",
            "Container-Optimized OS: the COS milestone is not in the node's osImage, nor in its kernel or GKE "
            "labels; the lifecycle data knows COS milestones (cos-NN) but cannot tell which one the node runs",
        ),
        (
            "Red Hat Enterprise Linux CoreOS 9.6.20250701-0 (Plow)",
            "Red Hat Enterprise Linux CoreOS: this RHCOS version names its RHEL base, not the OpenShift release",
        ),
    ],
)
def test_os_without_a_lifecycle_is_unknown_with_the_reason(os_image: str, message: str) -> None:
    f = os_findings(("n", os_image, "6.1.0"))["n"]
    assert (f.status, f.message) == (Status.UNKNOWN, message)
    assert f.evidence["os_image"] == os_image


def test_rhcos_release_from_clusterversion() -> None:
    image = ("rhcos", "Red Hat Enterprise Linux CoreOS 9.6.20250701-0 (Plow)", "5.14.0-570.25.1.el9_6.x86_64")
    f = os_findings(image, openshift=make_cluster_version_doc("4.19.10"))["rhcos"]
    assert f.status is Status.WARN
    assert f.message == "RHCOS for OpenShift 4.19 is in maintenance support until 2026-12-17 — 20 days left"
    assert f.evidence["release_from"] == "ClusterVersion 4.19.10"


def test_real_nodes_os() -> None:
    nodes = [
        real_node("kube/kind-ubuntu2204-containerd-v1.25-node.json"),
        real_node("kube/openshift-4.7-rhcos-master-node.json"),
        real_node("nodes/minikube-buildroot-docker-v1.17-node.json"),
    ]
    f = by_subject(run("node_os_supported", make_context(version="v1.25.3", nodes=nodes)))
    assert f["node/attack-chain-6-control-plane"].message == (
        "Ubuntu 22.04 is in maintenance support until 2027-04-01, then extended support until 2032-04-09"
    )
    ocp = f["node/master-0.imeixner20210707.lab.upshift.rdu2.redhat.com"]
    assert (ocp.status, ocp.message) == (Status.FAIL, "RHCOS for OpenShift 4.7 reached end of support on 2022-08-24")
    assert ocp.evidence["detail"] == "RHCOS for OpenShift 4.7 on RHEL 8.3"
    assert f["node/minikube"].status is Status.UNKNOWN


# ------------------------------------------------------------------------------------------
# Kernel drift in a pool


def test_kernel_drift_in_a_pool_warns_with_both_versions() -> None:
    pool = {"eks.amazonaws.com/nodegroup": "ng-1"}
    image = "Amazon Linux 2023.9.20251208"
    nodes = [
        make_node("a", kernel="6.1.158-180.294.amzn2023.x86_64", os_image=image, labels=pool),
        make_node("b", kernel="6.1.155-176.282.amzn2023.x86_64", os_image=image, labels=pool),
        make_node("c", kernel="6.1.158-180.294.amzn2023.x86_64", os_image=image, labels=pool),
        # another pool: its older kernel is not compared with ng-1
        make_node(
            "d", kernel="6.1.100-1.1.amzn2023.x86_64", os_image=image, labels={"eks.amazonaws.com/nodegroup": "ng-2"}
        ),
        make_node("e", kernel="???", os_image=image, labels=pool),
    ]
    f = by_subject(run("node_kernel_consistent_in_pool", make_context(nodes=nodes)))
    # "e" reports no readable kernel: it may run a newer one, so "newest of its pool" is half judged
    assert (f["node/a"].status, f["node/a"].message) == (
        Status.UNKNOWN,
        "runs 6.1.158-180.294.amzn2023.x86_64, the newest readable kernel of its pool, but 1 of 4 nodes in the "
        "pool report no recognisable kernel, so a newer one may run there",
    )
    assert f["node/a"].evidence["pool_nodes_with_unknown_kernel"] == 1
    readable = by_subject(run("node_kernel_consistent_in_pool", make_context(nodes=nodes[:4])))
    assert (readable["node/a"].status, readable["node/a"].message) == (
        Status.PASS,
        "runs the newest kernel of its pool (6.1.158-180.294.amzn2023.x86_64, on 2 of 3 nodes)",
    )
    assert (f["node/b"].status, f["node/b"].severity) == (Status.WARN, Severity.MEDIUM)
    assert f["node/b"].message == (
        "runs kernel 6.1.155-176.282.amzn2023.x86_64, older than 6.1.158-180.294.amzn2023.x86_64 which 2 of 4 "
        "nodes in its pool run: not patched or not rebooted"
    )
    assert f["node/b"].evidence["pool"] == "eks.amazonaws.com/nodegroup=ng-1"
    assert (f["node/b"].evidence["kernel"], f["node/b"].evidence["pool_newest_kernel"]) == (
        "6.1.155-176.282.amzn2023.x86_64",
        "6.1.158-180.294.amzn2023.x86_64",
    )
    assert f["node/d"].message == "the only node of its pool and OS image: no peer runs a newer kernel"
    assert (f["node/e"].status, f["node/e"].message) == (Status.UNKNOWN, "kernel version unknown: unrecognised '???'")


def test_kernel_drift_policy_and_pools_by_platform_label() -> None:
    nodes = [
        make_node("a", kernel="5.15.0-1072-azure", labels={"kubernetes.azure.com/agentpool": "np1"}),
        make_node("b", kernel="5.15.0-1066-azure", labels={"kubernetes.azure.com/agentpool": "np1"}),
    ]
    f = by_subject(
        run("node_kernel_consistent_in_pool", make_context(nodes=nodes, policy=Policy(kernel_drift=Status.FAIL)))
    )
    assert (f["node/b"].status, f["node/b"].severity) == (Status.FAIL, Severity.HIGH)
    assert f["node/b"].evidence["pool"] == "kubernetes.azure.com/agentpool=np1"


def test_nodes_without_pool_labels_group_by_os_image() -> None:
    nodes = [
        make_node("a", kernel="6.8.0-51-generic", os_image="Ubuntu 24.04.2 LTS"),
        make_node("b", kernel="6.8.0-49-generic", os_image="Ubuntu 24.04.2 LTS"),
        make_node("c", kernel="5.15.0-1051-aws", os_image="Ubuntu 22.04.5 LTS"),
        make_node("d", kernel=None),
    ]
    f = by_subject(run("node_kernel_consistent_in_pool", make_context(nodes=nodes)))
    assert (f["node/b"].status, f["node/b"].evidence["pool"]) == (Status.WARN, "(no pool label)")
    assert f["node/c"].status is Status.PASS  # alone with its OS image
    assert (f["node/d"].status, f["node/d"].message) == (
        Status.UNKNOWN,
        "kernel version unknown: the node reports none",
    )


# ------------------------------------------------------------------------------------------
# Node image age


def test_aks_node_image_older_than_30_days_warns() -> None:
    node = make_node(
        "aks-0",
        labels={
            "kubernetes.azure.com/agentpool": "np1",
            "kubernetes.azure.com/node-image-version": "AKSUbuntu-2204gen2containerd-202509.23.0",
        },
        created="2025-09-25T00:00:00Z",
    )
    f = one("node_image_current", make_context(version="v1.31.8", nodes=[node]))
    assert (f.status, f.message) == (
        Status.WARN,
        "node image AKSUbuntu-2204gen2containerd-202509.23.0 was built on 2025-09-23, 430 days before the as-of "
        "date (policy: 30 days)",
    )
    assert (f.evidence["image_built"], f.evidence["read_from"]) == (
        "2025-09-23",
        "label kubernetes.azure.com/node-image-version",
    )
    fresh = one("node_image_current", make_context(version="v1.31.8", nodes=[node], as_of=date(2025, 10, 10)))
    assert (fresh.status, fresh.message) == (
        Status.PASS,
        "node image AKSUbuntu-2204gen2containerd-202509.23.0 was built on 2025-09-23 (17 days old)",
    )


def test_dated_os_builds_and_registration_time() -> None:
    nodes = [
        make_node("al", os_image="Amazon Linux 2023.9.20251208", created="2025-12-10T00:00:00Z"),
        make_node("new", created="2026-11-20T08:00:00Z"),
        make_node("old", created="2025-01-01T00:00:00Z"),
        make_node("future", created="2027-01-01T00:00:00Z"),
        make_node("none", created=None),
    ]
    f = by_subject(run("node_image_current", make_context(nodes=nodes)))
    assert f["node/al"].message == (
        "node image 2023.9.20251208 was built on 2025-12-08, 354 days before the as-of date (policy: 30 days)"
    )
    assert (f["node/new"].status, f["node/new"].message) == (Status.PASS, "node registered 7 days ago")
    assert f["node/old"].status is Status.WARN
    assert f["node/old"].message.startswith("node registered 695 days ago and never replaced (policy: 90 days)")
    assert (f["node/future"].status, f["node/future"].message) == (
        Status.UNKNOWN,
        "the node was registered after the as-of date",
    )
    assert f["node/none"].status is Status.UNKNOWN


def test_rhcos_build_date_is_the_image_date() -> None:
    # the node registered on 2021-07-07 runs RHCOS 47.83.202106032343-0, built on 2021-06-03
    node = real_node("kube/openshift-4.7-rhcos-master-node.json")
    f = one("node_image_current", make_context(nodes=[node], as_of=date(2021, 7, 8)))
    assert (f.status, f.evidence["image_built"], f.evidence["image_age_days"]) == (Status.WARN, "2021-06-03", 35)
    # before the node was registered, nothing it says describes the as-of date
    before = one("node_image_current", make_context(nodes=[node], as_of=date(2021, 6, 20)))
    assert (before.status, before.message) == (Status.UNKNOWN, "the node was registered after the as-of date")


# ------------------------------------------------------------------------------------------
# Pending reboots


def reboot(status: str, since: str, kind: str = "RebootRequired") -> list[dict[str, str]]:
    return [{"type": "Ready", "status": "True"}, {"type": kind, "status": status, "lastTransitionTime": since}]


MCO = "machineconfiguration.openshift.io/"


def test_reboot_signals_per_node() -> None:
    """The agents' own records (tests/test_agents.py judges each agent from its real files)."""
    nodes = [
        # kured sets no node condition (cmd/kured/main.go): a condition by that name is no kured signal
        make_node("kured-condition", conditions=reboot("True", "2026-10-18T00:00:00Z", "kured.dev/reboot-required")),
        make_node("required-5d", conditions=reboot("True", "2026-11-22T00:00:00Z")),
        make_node("required-40d", conditions=reboot("True", "2026-10-18T00:00:00Z")),
        make_node("clear", conditions=reboot("False", "2026-11-01T00:00:00Z")),
        make_node("odd", conditions=reboot("Unknown", "2026-11-01T00:00:00Z")),
        make_node("rebooting", annotations={"weave.works/kured-reboot-in-progress": "2026-11-27T01:00:00Z"}),
        make_node(
            "degraded",
            annotations={
                MCO + "state": "Degraded",
                MCO + "reason": "failed to drain node",
                MCO + "currentConfig": "rendered-worker-a",
                MCO + "desiredConfig": "rendered-worker-b",
            },
        ),
        make_node(
            "pending",
            annotations={
                MCO + "state": "Working",
                MCO + "currentConfig": "rendered-worker-a",
                MCO + "desiredConfig": "rendered-worker-b",
            },
        ),
        make_node(
            "done",
            annotations={
                MCO + "state": "Done",
                MCO + "currentConfig": "rendered-worker-b",
                MCO + "desiredConfig": "rendered-worker-b",
            },
        ),
        make_node("silent"),
    ]
    f = by_subject(run("node_not_pending_reboot", make_context(nodes=nodes)))
    assert f["node/kured-condition"].status is Status.UNKNOWN
    assert f["node/kured-condition"].message.startswith("no update agent covers this node")
    assert (f["node/required-5d"].status, f["node/required-5d"].message) == (
        Status.WARN,
        "RebootRequired condition: a reboot is required (condition RebootRequired) (5 days since 2026-11-22; "
        "policy: 7 days)",
    )
    assert f["node/required-40d"].status is Status.FAIL
    assert f["node/required-40d"].message.endswith("for 40 days since 2026-10-18: longer than the 7-day policy")
    assert f["node/required-40d"].evidence["readings"][0]["since"] == "2026-10-18T00:00:00Z"
    assert f["node/clear"].status is Status.PASS
    assert (f["node/odd"].status, f["node/odd"].message) == (
        Status.UNKNOWN,
        "RebootRequired condition: reboot condition RebootRequired is Unknown",
    )
    assert f["node/rebooting"].status is Status.WARN  # kured: pending since this morning
    # a degraded machine-config daemon is the health check's failure; whether a reboot waits is unknown
    assert f["node/degraded"].status is Status.UNKNOWN
    assert "see node_update_agent_healthy" in f["node/degraded"].message
    health = by_subject(run("node_update_agent_healthy", make_context(nodes=nodes)))
    assert health["node/degraded"].status is Status.FAIL
    assert "reports Degraded: failed to drain node" in health["node/degraded"].message
    assert f["node/pending"].status is Status.WARN
    # Done, but no MachineConfigPool in the input: a node waiting its turn has the same annotations
    assert f["node/done"].status is Status.UNKNOWN and "its pool target is unknown" in f["node/done"].message
    assert f["node/silent"].status is Status.UNKNOWN
    assert f["node/silent"].message.startswith("no update agent covers this node (found in the cluster:")


def test_no_reboot_signal_anywhere_is_one_cluster_level_unknown() -> None:
    nodes = [make_node(f"n{i}") for i in range(50)]
    findings = run("node_not_pending_reboot", make_context(nodes=nodes))
    assert len(findings) == 1
    f = findings[0]
    assert (f.subject, f.status, f.evidence["nodes"]) == ("cluster", Status.UNKNOWN, 50)
    assert "kured" in f.remediation
    assert run("node_not_pending_reboot", make_context(nodes=[])) == []


def test_real_openshift_node_reports_its_machine_config_state() -> None:
    f = one("node_not_pending_reboot", make_context(nodes=[real_node("kube/openshift-4.7-rhcos-master-node.json")]))
    # its annotations say Done; whether its pool has a newer target it has not been handed yet is unknown
    assert (f.status, f.message) == (
        Status.UNKNOWN,
        "OpenShift machine-config: the node's annotations say Done, but its pool target is unknown, and a node "
        "waiting its turn for an update looks the same: the input holds no machineconfigpools (on a live cluster: "
        "its CRD is not installed)",
    )
    assert f.evidence["readings"][0]["currentConfig"] == "rendered-master-025110333ea44423ccb1052723956671"


# ------------------------------------------------------------------------------------------
# Coverage


def test_every_host_check_passes_fails_and_says_unknown() -> None:
    pool = {"eks.amazonaws.com/nodegroup": "ng"}
    scenarios = [
        make_context(
            nodes=[
                make_node(
                    "a",
                    os_image="Ubuntu 24.04.2 LTS",
                    kernel="6.8.0-51-generic",
                    labels=pool,
                    conditions=reboot("False", "2026-11-01T00:00:00Z"),
                ),
                make_node(
                    "b",
                    os_image="Ubuntu 24.04.2 LTS",
                    kernel="6.8.0-49-generic",
                    labels=pool,
                    created="2025-01-01T00:00:00Z",
                    conditions=reboot("True", "2026-10-01T00:00:00Z"),
                ),
                make_node("c", os_image="Bottlerocket OS 1.19.4", kernel="???", created=None),
            ]
        ),
        make_context(nodes=[make_node("x", os_image="Ubuntu 20.10")]),
        host_scanned_context(),
        drainable_context(),
    ]
    seen: dict[str, set[Status]] = defaultdict(set)
    for ctx in scenarios:
        for f in audit_findings(ctx, ctx.as_of):
            seen[f.check].add(f.status)
    for check in HOSTS:
        assert Status.PASS in seen[check], check
        assert seen[check] - {Status.PASS, Status.UNKNOWN}, check
        assert Status.UNKNOWN in seen[check], check
        assert Status.ERROR not in seen[check], check


def drainable_context() -> Context:
    """Pods and the complete (empty) list of PodDisruptionBudgets were collected; no pod runs on the node."""
    import dataclasses

    from patchlevel import inventory as inv

    base = make_context(nodes=[make_node("d")], pods=[])
    collected = base.inventory.collected | {inv.PODS, inv.DISRUPTION_BUDGETS}
    return make_context(dataclasses.replace(base.inventory, collected=collected))


def host_scanned_context() -> Context:
    """Nodes with host scans (tests/test_node_scan.py reads real ones): running the newest installed kernel,
    patched on disk but not rebooted for weeks, and scanned too long ago; one kured agent whose lock is stuck."""
    scanned = datetime(2026, 11, 1, tzinfo=UTC)
    overdue = Vulnerability(
        "CVE-2024-0001", Severity.CRITICAL, "openssl", "3.0.2-1", "3.0.2-2", published=date(2024, 1, 2)
    )

    def scan(node: str, kernels: list[str], when: datetime) -> NodeScan:
        packages = tuple(HostPackage(f"linux-image-{k}", k.replace("-generic", ".1")) for k in kernels)
        report = ScanReport(
            "scan.json", "trivy", "trivy", None, when, None, "/host", (), (), None, "ubuntu", "24.04", None,
            (overdue,) if node == "old" else (), package_targets=1, artifact_type="filesystem",
        )  # fmt: skip
        return NodeScan("scan.json", "trivy", "", when, "ubuntu", "24.04", packages, True, report, node=node,
                        matched_by="explicit NODE=PATH", package_count=len(packages))  # fmt: skip

    kured = "ghcr.io/kubereboot/kured:1.23.0"
    nodes = [
        make_node("new", kernel="6.8.0-51-generic"),
        make_node("old", kernel="6.8.0-49-generic"),
        make_node("unscanned", kernel="6.8.0-51-generic"),
    ]
    pods = [make_pod(f"kured-{n.name}", namespace="kube-system", node=n.name, image=kured) for n in nodes]
    lock = '{"nodeID":"old","created":"2026-11-01T00:00:00Z","TTL":0}'
    container = {"name": "kured", "image": kured, "command": ["/usr/bin/kured", "--annotate-nodes"]}
    metadata = {"name": "kured", "namespace": "kube-system", "annotations": {"weave.works/kured-node-lock": lock}}
    daemonset = msgspec.convert(
        {"metadata": metadata, "spec": {"template": {"spec": {"containers": [container]}}}}, DaemonSet
    )
    inventory = dataclasses.replace(
        make_inventory("v1.33.4", nodes=nodes, pods=pods),
        node_scans=(
            scan("new", ["6.8.0-51-generic"], datetime(2026, 11, 25, tzinfo=UTC)),
            scan("old", ["6.8.0-49-generic", "6.8.0-51-generic"], scanned),
        ),
        agents=UpdateAgentObjects(daemonsets=(daemonset,)),
        collected=frozenset({inv.VERSION, inv.NODES, inv.PODS, inv.DAEMONSETS}),
    )
    return make_context(inventory)
