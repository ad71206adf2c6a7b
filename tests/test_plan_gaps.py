"""Issue 13: the plan's rollouts follow the pools' surge settings, and missing input is said, never skipped.

Surge settings come from the update agents' real objects (tests/data/update-agents/SOURCES.md): the
system-upgrade-controller's k3s example Plans (``concurrency: 1`` for servers, ``2`` for agents) and an
OpenShift 4.7 worker MachineConfigPool with one of its real worker nodes, read by the real snapshot
reader.  Where a test needs a value the real pool does not set, it changes ``spec.maxUnavailable`` only,
and says so.  The machine-config operator's arithmetic (unset is 1; a percentage of the pool's nodes
rounds down; 0 becomes 1) is its ``maxUnavailable()`` in pkg/controller/node/node_controller.go; the
system-upgrade-controller selects nodes while fewer than ``spec.concurrency`` are applying
(pkg/upgrade/plan/plan.go, ``SelectConcurrentNodes``).
"""

from __future__ import annotations

import copy
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from builders import (
    DATA,
    make_cluster_version_doc,
    make_inventory,
    make_kube_proxy_pod,
    make_node,
    make_node_doc,
    version_doc,
    write_json,
)
from patchlevel.collect.snapshot import read_snapshot
from patchlevel.model import Status
from patchlevel.plan.inputs import Surge, SurgeSetting, from_inventory
from patchlevel.plan.model import Certainty, Plan, PlanState, Step, StepKind
from patchlevel.render.plan_json import plan_document
from plan_helpers import EKS_POOL, audit, plan_for, steps_of
from test_plan import all_pass

AGENTS = DATA / "update-agents"
K3S_AS_OF = date(2026, 11, 27)
OCP_AS_OF = date(2021, 7, 20)


def rollouts(plan: Plan) -> list[Step]:
    return [s for s in plan.steps if s.rollout is not None]


# ------------------------------------------------------------------------------------------
# Surge settings: system-upgrade-controller Plans


def k3s_snapshot(root: Path, *, servers: int = 3, agents: int = 5, plans: str | None = None) -> Path:
    """A k3s cluster whose nodes carry the labels the example Plans select (k3s-upgrade, a hostname)."""
    write_json(root / "version.json", version_doc("v1.30.5+k3s1"))
    nodes = []
    for role, count in (("server", servers), ("agent", agents)):
        for i in range(count):
            labels = {"k3s-upgrade": "true", "kubernetes.io/hostname": f"{role}-{i}", "node.kubernetes.io/pool": role}
            if role == "server":
                labels["node-role.kubernetes.io/control-plane"] = "true"
            nodes.append(
                make_node_doc(f"{role}-{i}", kubelet="v1.30.5+k3s1", runtime="containerd://1.7.21-k3s2", labels=labels)
            )
    write_json(root / "nodes.json", {"apiVersion": "v1", "kind": "NodeList", "items": nodes})
    if plans is None:
        shutil.copy(AGENTS / "suc-plan-k3s-upgrade.yaml", root)
    else:
        (root / "plans.yaml").write_text(plans, encoding="utf-8")
    return root


def test_a_system_upgrade_controller_plan_sets_the_batch_of_the_nodes_it_takes(tmp_path: Path) -> None:
    plan = plan_for(read_snapshot(k3s_snapshot(tmp_path)), K3S_AS_OF)
    by_pool = {(s.pool, s.to_version): s.rollout for s in rollouts(plan)}
    agents = by_pool[("node.kubernetes.io/pool=agent", "1.36")]
    servers = by_pool[("node.kubernetes.io/pool=server", "1.36")]
    assert agents is not None and servers is not None
    assert (agents.batch_size, agents.batches) == (2, 3)  # 5 agents, concurrency 2: 2 + 2 + 1
    assert agents.batch_basis == (
        "2 nodes at a time per the plan's concurrency (Plan system-upgrade/k3s-agent sets concurrency 2): "
        "3 rounds for 5 nodes"
    )
    assert (servers.batch_size, servers.batches) == (1, 3)
    assert servers.batch_basis.startswith(
        "one node at a time per the plan's concurrency (Plan system-upgrade/k3s-server"
    )
    # the skew step before 1.34 moves the same pools with the same settings
    assert all(s.rollout is not None and s.rollout.batch_size == 2 for s in rollouts(plan) if s.pool.endswith("agent"))
    document = plan_document(plan)
    agent_step = next(
        s
        for s in document["steps"]
        if s["pool"] == "node.kubernetes.io/pool=agent" and s["kind"] == "node-pool-upgrade"
    )
    assert agent_step["rollout"]["batch_size"] == 2 and agent_step["rollout"]["batches"] == 3


def test_a_plan_without_concurrency_upgrades_nothing_and_the_rollout_says_so(tmp_path: Path) -> None:
    # The real k3s-agent Plan with its concurrency line taken out: the controller selects no node for it.
    text = (AGENTS / "suc-plan-k3s-upgrade.yaml").read_text(encoding="utf-8")
    without = text.replace(
        "  concurrency: 2 # Batch size (roughly maps to maximum number of unschedulable nodes)\n", ""
    )
    assert without != text
    plan = plan_for(read_snapshot(k3s_snapshot(tmp_path, plans=without)), K3S_AS_OF)
    agents = next(s.rollout for s in rollouts(plan) if s.pool.endswith("agent") and s.to_version == "1.36")
    assert agents is not None and agents.batch_size == 1
    assert "Plan system-upgrade/k3s-agent sets no concurrency" in agents.batch_basis
    assert "starts no upgrade job for its nodes until concurrency is at least 1" in agents.batch_basis


def test_nodes_no_plan_takes_go_one_at_a_time_by_default_and_say_so(tmp_path: Path) -> None:
    root = k3s_snapshot(tmp_path)
    nodes = json.loads((root / "nodes.json").read_text())
    nodes["items"][-1]["metadata"]["labels"]["k3s-upgrade"] = "disabled"  # the Plans' NotIn excludes it
    write_json(root / "nodes.json", nodes)
    plan = plan_for(read_snapshot(root), K3S_AS_OF)
    agents = next(s.rollout for s in rollouts(plan) if s.pool.endswith("agent") and s.to_version == "1.36")
    assert agents is not None and agents.batch_size == 1
    assert agents.batch_basis.startswith("one node at a time, the default: 1 node (agent-4) is taken by no updater")


def test_without_any_surge_setting_the_rollout_is_one_at_a_time_and_says_why() -> None:
    nodes = [make_node(f"n{i}", kubelet="v1.33.4", labels={EKS_POOL: "ng"}) for i in range(3)]
    plan = plan_for(make_inventory("v1.33.4-eks-1", nodes=nodes, pods=[]), date(2026, 11, 27))
    for step in rollouts(plan):
        assert step.rollout is not None
        assert (step.rollout.batch_size, step.rollout.batches) == (1, 3)
        assert step.rollout.batch_basis.startswith("one node at a time, the default: the input shows no surge setting")


# ------------------------------------------------------------------------------------------
# Surge settings: OpenShift MachineConfigPools


def openshift_snapshot(root: Path, workers: int, max_unavailable: Any = None, paused: bool = False) -> Path:
    write_json(root / "version.json", version_doc("v1.20.0+2817867"))
    write_json(root / "clusterversion.json", make_cluster_version_doc("4.7.16"))
    worker = json.loads((AGENTS / "mco-worker-node-4.7-done.json").read_text(encoding="utf-8"))
    items = []
    for i in range(workers):  # copies of the real worker, renamed
        node = copy.deepcopy(worker)
        node["metadata"]["name"] = node["metadata"]["labels"]["kubernetes.io/hostname"] = f"worker-{i}"
        items.append(node)
    write_json(root / "nodes.json", {"apiVersion": "v1", "kind": "NodeList", "items": items})
    pool = json.loads((AGENTS / "mco-machineconfigpool-worker-4.7.json").read_text(encoding="utf-8"))
    if max_unavailable is not None:  # the real pool leaves it unset; only this field is changed
        pool["spec"]["maxUnavailable"] = max_unavailable
    if paused:
        pool["spec"]["paused"] = True
    write_json(root / "machineconfigpool-worker.json", pool)
    return root


def worker_rollout(root: Path) -> Any:
    plan = plan_for(read_snapshot(root), OCP_AS_OF)
    (step,) = rollouts(plan)
    assert plan.distribution_id == "openshift" and step.pool == "node-role.kubernetes.io/worker"
    return step.rollout


def test_the_real_worker_pool_sets_no_max_unavailable_so_the_operator_default_one_applies(tmp_path: Path) -> None:
    rollout = worker_rollout(openshift_snapshot(tmp_path, 2))
    assert (rollout.batch_size, rollout.batches) == (1, 2)
    assert rollout.batch_basis == (
        "one node at a time per the pool's maxUnavailable (MachineConfigPool worker sets no maxUnavailable: the "
        "machine-config operator's default, 1)"
    )


@pytest.mark.parametrize(
    ("workers", "value", "size", "batches", "says"),
    [
        (25, "10%", 2, 13, "maxUnavailable 10% of its 25 nodes: 2, rounded down as the machine-config operator does"),
        (9, "50%", 4, 3, "maxUnavailable 50% of its 9 nodes: 4, rounded down"),  # 4.5 rounds down, not up
        (3, "25%", 1, 3, "0.75 rounds down to 0, which the machine-config operator takes as 1"),
        (7, 3, 3, 3, "sets maxUnavailable 3)"),
        (4, 0, 1, 4, "sets maxUnavailable 0, which the machine-config operator takes as 1"),
        (2, 5, 2, 1, "sets maxUnavailable 5)"),  # more than the pool: all of them at once
    ],
)
def test_a_pools_max_unavailable_is_resolved_as_the_operator_does(
    tmp_path: Path, workers: int, value: Any, size: int, batches: int, says: str
) -> None:
    rollout = worker_rollout(openshift_snapshot(tmp_path, workers, value))
    assert (rollout.batch_size, rollout.batches) == (size, batches)
    assert "per the pool's maxUnavailable" in rollout.batch_basis and says in rollout.batch_basis


def test_a_max_unavailable_the_operator_refuses_leaves_one_at_a_time(tmp_path: Path) -> None:
    rollout = worker_rollout(openshift_snapshot(tmp_path, 3, "two"))
    assert rollout.batch_size == 1
    assert rollout.batch_basis.startswith(
        "one node at a time, the default: MachineConfigPool worker sets maxUnavailable"
    )
    assert "neither a count nor a percentage" in rollout.batch_basis


def test_a_paused_pool_says_the_operator_updates_none_of_its_nodes(tmp_path: Path) -> None:
    rollout = worker_rollout(openshift_snapshot(tmp_path, 2, paused=True))
    assert "the pool is paused, so the operator updates none of its nodes until it is unpaused" in rollout.batch_basis


def test_the_operator_chooses_a_single_custom_pool_over_worker_and_refuses_two(tmp_path: Path) -> None:
    root = openshift_snapshot(tmp_path, 2, 2)
    pool = json.loads((root / "machineconfigpool-worker.json").read_text())
    infra = copy.deepcopy(pool)
    infra["metadata"]["name"] = "infra"
    infra["spec"]["nodeSelector"] = {"matchLabels": {"node-role.kubernetes.io/infra": ""}}
    infra["spec"].pop("maxUnavailable")
    write_json(root / "machineconfigpool-infra.json", infra)
    nodes = json.loads((root / "nodes.json").read_text())
    nodes["items"][0]["metadata"]["labels"]["node-role.kubernetes.io/infra"] = ""
    write_json(root / "nodes.json", nodes)
    surge = from_inventory(read_snapshot(root)).surge
    assert [s.name for s in surge.by_node["worker-0"]] == ["infra"]
    assert [(s.name, s.value, s.size) for s in surge.by_node["worker-1"]] == [("worker", 2, 1)]

    second = copy.deepcopy(infra)
    second["metadata"]["name"] = "gpu"
    write_json(root / "machineconfigpool-gpu.json", second)
    surge = from_inventory(read_snapshot(root)).surge
    assert "worker-0" not in surge.by_node
    assert "2 custom MachineConfigPools (gpu, infra)" in surge.unknowns["worker-0"]
    settings, uncovered, unknowns = surge.of(["worker-0"])
    assert settings == [] and uncovered == [] and len(unknowns) == 1


@pytest.mark.parametrize(
    ("value", "size", "expected"),
    [(None, 10, 1), ("10%", 10, 1), ("19%", 10, 1), ("20%", 10, 2), ("99%", 10, 9), ("100%", 10, 10), (0, 10, 1)],
)
def test_max_unavailable_percentages_round_down_with_at_least_one(value: Any, size: int, expected: int) -> None:
    resolved, _ = SurgeSetting("MachineConfigPool", "worker", "maxUnavailable", value, size).resolve()
    assert resolved == expected


def test_surge_of_nodes_reports_settings_uncovered_and_unknown() -> None:
    pool = SurgeSetting("MachineConfigPool", "worker", "maxUnavailable", "50%", 4)
    surge = Surge({"a": (pool,), "b": (pool,)}, {"c": "which updater takes node c is unknown: …"})
    settings, uncovered, unknowns = surge.of(["a", "b", "c", "d"])
    assert settings == [pool] and uncovered == ["d"] and unknowns == ["which updater takes node c is unknown: …"]


# ------------------------------------------------------------------------------------------
# No nodes in the input


def test_a_snapshot_of_only_the_version_says_nodes_are_missing_and_counts_its_unknowns_honestly(tmp_path: Path) -> None:
    write_json(tmp_path / "version.json", version_doc("v1.36.4"))
    inventory = read_snapshot(tmp_path)
    outcome = audit(inventory, date(2026, 11, 27))
    plan = plan_for(inventory, date(2026, 11, 27))
    assert plan.steps == ()
    (nodes,) = [u for u in plan.unknowns if u.startswith("nodes are not in the input")]
    assert "(the snapshot holds no nodes)" in nodes and "no node, runtime or node OS step can be planned" in nodes
    unjudged = [f for f in outcome.report.findings if f.status in (Status.UNKNOWN, Status.ERROR)]
    assert len(unjudged) > 20  # every node check, every image check …
    summary = plan.summary
    assert summary.state is PlanState.UNPROVEN
    assert summary.unjudged_findings == len(unjudged) and summary.unknowns == len(plan.unknowns) >= 1
    assert f"{len(unjudged)} findings could not be judged from the input" in summary.headline
    assert "0 thing" not in summary.headline
    assert f"{len(plan.unknowns)} thing" in summary.headline


def test_without_nodes_each_control_plane_step_says_the_skew_is_unknown(tmp_path: Path) -> None:
    write_json(tmp_path / "version.json", version_doc("v1.34.2"))
    plan = plan_for(read_snapshot(tmp_path), date(2026, 11, 27))
    hops = steps_of(plan, StepKind.CONTROL_PLANE_UPGRADE)
    assert [s.to_version.rsplit(".", 1)[0] for s in hops] == ["1.35", "1.36"]
    for hop in hops:
        assert any(
            u.startswith("whether nodes break the version-skew policy after this step is unknown") for u in hop.unknowns
        )
    assert not steps_of(plan, StepKind.NODE_POOL_UPGRADE)
    assert any(u.startswith("nodes are not in the input") for u in plan.unknowns)
    assert plan.summary.state is not PlanState.COMPLIANT
    assert "Not shown:" in plan.summary.headline and plan.summary.unknowns >= 3


# ------------------------------------------------------------------------------------------
# Missing versions: the API server, a runtime, a kubelet, a kube-proxy


def test_without_the_api_server_version_node_upgrades_say_they_must_follow_the_control_plane() -> None:
    nodes = [make_node("n1", kubelet="v1.30.4", runtime="containerd://2.1.4")]
    plan = plan_for(make_inventory(None, nodes=nodes, pods=[]), date(2026, 11, 27))
    (message,) = [u for u in plan.unknowns if u.startswith("the API server's version is not in the input")]
    assert "nor the API migrations and node upgrades its steps need first" in message
    (step,) = steps_of(plan, StepKind.NODE_POOL_UPGRADE)
    assert step.to_version == "1.36"
    assert any("this step must follow the control plane's upgrade to 1.36" in u for u in step.unknowns)


def test_an_api_server_version_that_is_not_1_x_is_named() -> None:
    plan = plan_for(make_inventory("v2.0.0", nodes=[make_node("n1", kubelet="v1.36.1")], pods=[]), date(2026, 11, 27))
    assert any(u.startswith("the API server's version 'v2.0.0' is not a Kubernetes 1.x release") for u in plan.unknowns)


@pytest.mark.parametrize(
    ("runtime", "says"),
    [
        ("containerd://unknown", "containerd's version cannot be read ('containerd://unknown'): whether it supports"),
        (None, "the container runtime cannot be read (''): whether it supports Kubernetes 1.3"),
        ("rkt://1.30.0", "the bundled support table covers containerd only: whether rkt://1.30.0 supports"),
        ("docker://24.0.7", "runs docker://24.0.7 through cri-dockerd, whose version the API does not show"),
    ],
)
def test_a_runtime_whose_support_cannot_be_read_is_an_unknown_of_the_step_that_moves_its_kubelet(
    runtime: str | None, says: str
) -> None:
    # Every finding passes: no runtime step replaces the runtime, so only its support is in question.
    nodes = [make_node("n1", kubelet="v1.30.4", runtime=runtime, labels={EKS_POOL: "ng"})]
    plan = plan_for(make_inventory("v1.34.2", nodes=nodes, pods=[]), date(2026, 11, 27), findings=all_pass)
    moves = steps_of(plan, StepKind.NODE_POOL_UPGRADE)
    assert [s.to_version for s in moves] == ["1.34", "1.36"] and not steps_of(plan, StepKind.RUNTIME_UPGRADE)
    for step in moves:
        assert any(says in u and "(n1)" in u for u in step.unknowns), step.unknowns


def test_a_runtime_the_step_replaces_raises_no_question_about_it() -> None:
    # Docker Engine 24.0 on kubelet 1.30 (cri-dockerd): its own findings replace it with containerd first.
    nodes = [make_node("n1", kubelet="v1.30.4", runtime="docker://24.0.7", labels={EKS_POOL: "ng"})]
    plan = plan_for(make_inventory("v1.34.2", nodes=nodes, pods=[]), date(2026, 11, 27))
    (first, *_) = steps_of(plan, StepKind.RUNTIME_UPGRADE)
    assert first.from_version == "docker://24.0.7" and first.to_version.startswith("containerd")
    assert not any("cri-dockerd" in u for s in plan.steps for u in s.unknowns)


def test_cri_o_outside_openshift_moves_with_its_kubelet() -> None:
    nodes = [make_node("n1", kubelet="v1.34.2", runtime="cri-o://1.34.2", labels={EKS_POOL: "ng"})]
    plan = plan_for(make_inventory("v1.34.2", nodes=nodes, pods=[]), date(2026, 11, 27))
    (step,) = (s for s in steps_of(plan, StepKind.NODE_POOL_UPGRADE) if s.to_version == "1.36")
    assert any("install CRI-O 1.36 with the kubelet (n1)" in c for c in step.caveats)


def test_an_unknown_kubelet_is_a_verify_step_and_an_unknown_of_every_hop() -> None:
    nodes = [make_node("odd", kubelet="v9000", runtime="containerd://2.1.4"), make_node("ok", kubelet="v1.34.2")]
    plan = plan_for(make_inventory("v1.34.2", nodes=nodes, pods=[]), date(2026, 11, 27))
    hops = steps_of(plan, StepKind.CONTROL_PLANE_UPGRADE)
    assert hops and all(any("1 node (odd) report no usable kubelet version" in u for u in h.unknowns) for h in hops)
    final = next(s for s in steps_of(plan, StepKind.NODE_POOL_UPGRADE) if "node/odd" in s.subjects)
    assert any("kubelet version unknown ('v9000')" in w for w in final.why)

    # already at the target: no hop to carry it, the node's own step says to verify
    at_target = plan_for(make_inventory("v1.36.4", nodes=nodes[:1], pods=[]), date(2026, 11, 27))
    (step,) = steps_of(at_target, StepKind.NODE_POOL_UPGRADE)
    assert any("kubelet version unknown" in w for w in step.why)


def test_a_kube_proxy_whose_version_cannot_be_read_is_an_unknown_of_every_hop() -> None:
    nodes = [make_node("n1", kubelet="v1.33.4", runtime="containerd://2.1.4")]
    digest = "registry.k8s.io/kube-proxy@sha256:" + "a" * 64
    pods = [make_kube_proxy_pod("n1", digest)]
    plan = plan_for(make_inventory("v1.34.2", nodes=nodes, pods=pods), date(2026, 11, 27))
    hops = steps_of(plan, StepKind.CONTROL_PLANE_UPGRADE)
    assert hops
    for hop in hops:
        (line,) = [u for u in hop.unknowns if "run a kube-proxy whose version cannot be read" in u]
        assert line.startswith("1 node (n1)") and "kube-proxy-n1" in line


def test_a_plan_with_steps_still_counts_what_it_could_not_see() -> None:
    nodes = [make_node("n1", kubelet="v1.33.4", runtime="containerd://2.1.4")]
    plan = plan_for(make_inventory("v1.34.2", nodes=nodes, pods=None), date(2026, 11, 27))
    assert plan.steps and plan.summary.unknowns > 0 and plan.summary.unjudged_findings > 0
    assert f"Not shown: {plan.summary.unjudged_findings} findings could not be judged" in plan.summary.headline
    document = plan_document(plan)
    assert document["summary"]["unknowns"] == plan.summary.unknowns
    assert document["summary"]["unjudged_findings"] == plan.summary.unjudged_findings
    assert all(step.certainty in (Certainty.REQUIRED, Certainty.VERIFY) for step in plan.steps)
