"""The node update agents' objects through the live path (the HTTPS test API server in tests/kubeapi).

Their CRDs served (the objects listed, read and judged), absent (404: not installed, no error, the
agents that need them say so) and denied (403: recorded, and the checks that need them are unknown,
never a pass).  The objects are those of tests/test_agents.py: the agents' real files, with the state
their source writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import node_scan_data as nsd
from builders import make_node_doc, make_pod_doc
from kubeapi import Cluster, KubeAPIServer
from patchlevel import inventory as inv
from patchlevel.collect.bundle import read_bundle
from patchlevel.collect.live import RESOURCES
from patchlevel.model import Status
from test_agents import HASH, resolved, yaml_documents
from test_live_collect import VERSION, collect, run_audit

DATA = Path(__file__).parent / "data" / "update-agents"
AGENT_RESOURCES = {
    "daemonsets.apps",
    "bottlerocketshadows.brupop.bottlerocket.aws",
    "plans.upgrade.cattle.io",
    "machineconfigpools.machineconfiguration.openshift.io",
    "nodevulnerabilityreports.aquasecurity.github.io",
}


def agent_objects() -> dict[str, list[dict[str, Any]]]:
    """A cluster running kured, the Bottlerocket operator, system-upgrade-controller and MCO side by side."""
    [kured] = [d for d in yaml_documents("kured-ds.yaml") if d["kind"] == "DaemonSet"]
    kured["spec"]["template"]["spec"]["containers"][0]["command"].append("--annotate-nodes")
    kured["metadata"]["annotations"] = {
        "weave.works/kured-node-lock": '{"nodeID":"kured-b","metadata":{"unschedulable":false},'
        '"created":"2026-11-26T22:00:00Z","TTL":0}'
    }
    nodes = [
        make_node_doc("kured-a", annotations={"weave.works/kured-reboot-in-progress": "2026-11-15T03:00:00Z"}),
        # kured marks a node before it takes the lock for it (cmd/kured/main.go): the holder carries the mark
        make_node_doc("kured-b", annotations={"weave.works/kured-reboot-in-progress": "2026-11-26T21:00:00Z"}),
        make_node_doc(
            "bottlerocket",
            os_image="Bottlerocket OS 1.19.4 (aws-k8s-1.27)",
            kernel="5.15.128",
            labels={"bottlerocket.aws/updater-interface-version": "2.0.0"},
        ),
        make_node_doc("k3s-agent", labels={"k3s-upgrade": "true", "plan.upgrade.cattle.io/k3s-agent": HASH}),
        make_node_doc(
            "rhcos-worker",
            labels={"node-role.kubernetes.io/worker": ""},
            annotations={
                "machineconfiguration.openshift.io/currentConfig": "rendered-worker-39c9df4a2c026c3149a02abe6f88cfc8",
                "machineconfiguration.openshift.io/desiredConfig": "rendered-worker-39c9df4a2c026c3149a02abe6f88cfc8",
                "machineconfiguration.openshift.io/state": "Done",
            },
        ),
    ]
    pods = [
        make_pod_doc(f"kured-{n}", namespace="kube-system", node=n, image="ghcr.io/kubereboot/kured:1.23.0")
        for n in ("kured-a", "kured-b")
    ]
    [agent_plan] = [d for d in yaml_documents("suc-plan-k3s-upgrade.yaml") if d["metadata"]["name"] == "k3s-agent"]
    agent_plan["status"] = resolved("2026-11-20T00:00:00Z")
    shadow = {
        "apiVersion": "brupop.bottlerocket.aws/v2",
        "kind": "BottlerocketShadow",
        "metadata": {"name": "brs-bottlerocket", "namespace": "brupop-bottlerocket-aws"},
        "spec": {"state": "Idle", "version": "1.19.4"},
        "status": {"current_state": "Idle", "current_version": "1.19.4", "target_version": "1.19.4", "crash_count": 0},
    }
    pool = json.loads((DATA / "mco-machineconfigpool-worker-4.7.json").read_text(encoding="utf-8"))
    cve = nsd.operator_vulnerability(
        "CVE-2026-1000", "openssl", "3.0.2-0ubuntu1.10", "3.0.2-0ubuntu1.12", "CRITICAL", "2026-10-01T00:00:00Z"
    )
    return {
        "nodes": nodes,
        "pods": pods,
        "daemonsets": [kured],
        "bottlerocketshadows": [shadow],
        "plans": [agent_plan],
        "machineconfigpools": [pool],
        "nodevulnerabilityreports": [
            nsd.node_vulnerability_report("kured-b", updated="2026-11-26T00:00:00Z", vulnerabilities=[cve])
        ],
    }


def statuses(inventory: inv.Inventory, check: str) -> dict[str, Status]:
    return {f.subject: f.status for f in run_audit(inventory).findings if f.check == check}


def test_the_agents_resources_are_listed_read_only_and_granted(tmp_path: Path) -> None:
    listed = {r.qualified for r in RESOURCES}
    assert listed >= AGENT_RESOURCES
    custom = {r.qualified for r in RESOURCES if r.custom}
    assert AGENT_RESOURCES - {"daemonsets.apps"} <= custom  # 404 on them means "not installed"


def test_with_the_agents_installed_each_gives_a_real_verdict(tmp_path: Path) -> None:
    with KubeAPIServer(Cluster(objects=agent_objects(), version=VERSION)) as server:
        collection = collect(server, tmp_path)
        assert {r.method for r in server.requests} == {"GET", "POST"}

    inventory = collection.inventory
    assert {
        inv.DAEMONSETS,
        inv.BOTTLEROCKET_SHADOWS,
        inv.UPGRADE_PLANS,
        inv.MACHINE_CONFIG_POOLS,
        inv.NODE_VULNERABILITY_REPORTS,
    } <= inventory.collected
    agents = inventory.agents
    assert [d.metadata.name for d in agents.daemonsets] == ["kured"]
    assert [s.metadata.name for s in agents.bottlerocket_shadows] == ["brs-bottlerocket"]
    assert [p.metadata.name for p in agents.upgrade_plans] == ["k3s-agent"]
    assert [p.metadata.name for p in agents.machine_config_pools] == ["worker"]
    assert [(s.node, s.matched_by) for s in inventory.node_scans] == [("kured-b", "host name in the report")]
    pending = statuses(inventory, "node_not_pending_reboot")
    assert pending == {
        "node/kured-a": Status.FAIL,  # reboot pending since 2026-11-15: 12 days
        "node/kured-b": Status.WARN,  # holds kured's lock: draining or rebooting
        "node/bottlerocket": Status.PASS,
        "node/k3s-agent": Status.UNKNOWN,  # its plan is applied: a plan says nothing about reboots
        "node/rhcos-worker": Status.PASS,  # Done, and its pool's target is the config it runs
    }
    healthy = statuses(inventory, "node_update_agent_healthy")
    assert healthy["daemonset/kube-system/kured"] is Status.PASS
    assert healthy["machineconfigpool/worker"] is Status.PASS
    assert healthy["plan/system-upgrade/k3s-agent"] is Status.PASS
    packages = statuses(inventory, "node_os_packages_patched_in_time")
    assert packages["node/kured-b"] is Status.FAIL  # a critical fix open since 2026-10-01
    resources = {r["resource"]: r["status"] for r in collection.metadata["resources"]}
    assert {resources[name] for name in AGENT_RESOURCES} == {"collected"}


def test_a_bundle_of_the_agents_objects_audits_like_the_live_cluster(tmp_path: Path) -> None:
    from patchlevel.collect.live import collect_bundle
    from test_live_collect import FakeHost, access_for

    with KubeAPIServer(Cluster(objects=agent_objects(), version=VERSION)) as server:
        access = access_for(server, tmp_path)
        collection, _ = collect_bundle(access, tmp_path / "bundle", host=FakeHost().host())
    bundle = read_bundle(tmp_path / "bundle")
    assert bundle.agents == collection.inventory.agents
    assert [s.node for s in bundle.node_scans] == [s.node for s in collection.inventory.node_scans]
    for check in ("node_not_pending_reboot", "node_update_agent_healthy", "node_os_packages_patched_in_time"):
        assert statuses(bundle, check) == statuses(collection.inventory, check), check


def test_without_the_crds_the_agents_are_not_installed_not_an_error(tmp_path: Path) -> None:
    objects = agent_objects()
    for plural in ("bottlerocketshadows", "plans", "machineconfigpools", "nodevulnerabilityreports"):
        del objects[plural]
    with KubeAPIServer(Cluster(objects=objects, version=VERSION)) as server:
        collection = collect(server, tmp_path)
        paths = [r.path for r in RESOURCES if r.qualified in AGENT_RESOURCES - {"daemonsets.apps"}]
        for path in paths:
            assert {r.status for r in server.requests_to(path)} == {404}, path

    resources = {r["resource"]: r for r in collection.metadata["resources"]}
    assert resources["plans.upgrade.cattle.io"]["status"] == "absent"
    assert "its CRD is not installed" in resources["plans.upgrade.cattle.io"]["reason"]
    inventory = collection.inventory
    assert inventory.denied == {} and inventory.node_scans == ()
    pending = statuses(inventory, "node_not_pending_reboot")
    assert pending["node/kured-a"] is Status.FAIL  # kured's record is on nodes and its DaemonSet: still read
    assert pending["node/bottlerocket"] is Status.UNKNOWN  # opted in, but no BottlerocketShadow to read
    assert pending["node/k3s-agent"] is Status.UNKNOWN  # its plan label names a plan that is not there
    # the node's own annotations say Done, but without its pool a node waiting its turn looks the same
    assert pending["node/rhcos-worker"] is Status.UNKNOWN
    finding = next(
        f
        for f in run_audit(inventory).findings
        if f.subject == "node/bottlerocket" and f.check == "node_not_pending_reboot"
    )
    assert "the input holds no bottlerocketshadows (on a live cluster: its CRD is not installed)" in finding.message


@pytest.mark.parametrize(
    ("forbidden", "kind", "subject"),
    [
        ("bottlerocketshadows.brupop.bottlerocket.aws", inv.BOTTLEROCKET_SHADOWS, "node/bottlerocket"),
        ("plans.upgrade.cattle.io", inv.UPGRADE_PLANS, "node/k3s-agent"),
        ("daemonsets.apps", inv.DAEMONSETS, "node/kured-b"),
        # the Done worker passed while its pool could not be read (issue 11 audit)
        ("machineconfigpools.machineconfiguration.openshift.io", inv.MACHINE_CONFIG_POOLS, "node/rhcos-worker"),
    ],
)
def test_a_denied_agent_resource_is_recorded_and_never_passes(
    tmp_path: Path, forbidden: str, kind: str, subject: str
) -> None:
    with KubeAPIServer(Cluster(objects=agent_objects(), version=VERSION), forbidden=[forbidden]) as server:
        collection = collect(server, tmp_path)

    inventory = collection.inventory
    assert kind in inventory.denied and forbidden in inventory.denied[kind]
    assert any(forbidden in w for w in inventory.warnings)
    pending = statuses(inventory, "node_not_pending_reboot")
    assert pending[subject] is not Status.PASS
    if kind != inv.DAEMONSETS:
        assert pending[subject] is Status.UNKNOWN
        finding = next(
            f for f in run_audit(inventory).findings if f.subject == subject and f.check == "node_not_pending_reboot"
        )
        assert "could not be read: the identity may not list" in finding.message


def test_a_denied_node_scan_list_leaves_host_vulnerabilities_unknown(tmp_path: Path) -> None:
    forbidden = ["nodevulnerabilityreports.aquasecurity.github.io"]
    with KubeAPIServer(Cluster(objects=agent_objects(), version=VERSION), forbidden=forbidden) as server:
        inventory = collect(server, tmp_path).inventory

    assert inv.NODE_VULNERABILITY_REPORTS in inventory.denied and inventory.node_scans == ()
    packages = statuses(inventory, "node_os_packages_patched_in_time")
    assert packages == {"cluster": Status.UNKNOWN}
