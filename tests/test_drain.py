"""node_drain_possible and the planner's rollout blockers: one rule (``patchlevel.drain``), read from snapshot files.

Clusters are snapshot directories the real reader reads: constructed Nodes, Pods and
PodDisruptionBudgets (kubectl's list shapes), kube-no-trouble's policy/v1beta1 budget as its author
wrote it, and a kind cluster's real kube-system pods (static pods, DaemonSets, CoreDNS).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from builders import DATA, by_subject, make_context, make_node_doc, run, version_doc, write_json
from patchlevel import inventory as inv
from patchlevel.collect.snapshot import read_snapshot
from patchlevel.drain import BlockReason, disruption_of, judge
from patchlevel.errors import InputError
from patchlevel.facts import derive_facts
from patchlevel.model import Status
from patchlevel.plan.model import StepKind
from plan_helpers import EKS_POOL, plan_for, steps_of

PLAN2 = DATA / "plan2"
SONOBUOY = DATA / "addons" / "pods-kind-v1.20-kube-system-sonobuoy.json"
CHECK = "node_drain_possible"


def pod(
    name: str,
    node: str,
    *,
    namespace: str = "shop",
    owner: tuple[str, str] | None = None,
    labels: dict[str, str] | None = None,
    phase: str = "Running",
) -> dict[str, Any]:
    """A pod as kubectl prints it; ``owner`` (kind, name) is its controller (a ReplicaSet names a Deployment)."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": dict(labels or {})}
    if owner is not None:
        kind, owner_name = owner
        metadata["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": kind, "name": owner_name, "controller": True}]
        if kind == "ReplicaSet":
            metadata["labels"]["pod-template-hash"] = owner_name.rsplit("-", 1)[1]
    image = "registry.example/app:1.0"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": image}]},
        "status": {"phase": phase, "containerStatuses": [{"name": "app", "image": image, "imageID": ""}]},
    }


def deployment_pods(name: str, nodes: list[str], namespace: str = "shop") -> list[dict[str, Any]]:
    return [
        pod(
            f"{name}-5d8f7c-{i}",
            node,
            namespace=namespace,
            owner=("ReplicaSet", f"{name}-5d8f7c"),
            labels={"app": name},
        )
        for i, node in enumerate(nodes)
    ]


def budget(
    name: str,
    selector: dict[str, Any] | None,
    *,
    namespace: str = "shop",
    api_version: str = "policy/v1",
    min_available: int | str | None = None,
    max_unavailable: int | str | None = None,
    allowed: int | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if selector is not None:
        spec["selector"] = selector
    if min_available is not None:
        spec["minAvailable"] = min_available
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    document: dict[str, Any] = {
        "apiVersion": api_version,
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }
    if allowed is not None:
        document["status"] = {
            "disruptionsAllowed": allowed,
            "currentHealthy": 2,
            "desiredHealthy": 2,
            "expectedPods": 2,
        }
    return document


def snapshot(
    directory: Path,
    nodes: list[str],
    pods: list[dict[str, Any]],
    budgets: list[dict[str, Any]] | None,
    *,
    pool: str = "apps",
) -> Path:
    """A snapshot: ``budgets`` None writes no budgets at all, a list writes ``kubectl get pdb -A -o json``
    (an empty one as ``kubectl get --raw /apis/policy/v1/poddisruptionbudgets``: kubectl's empty ``List``
    names no kind, so it cannot show that there are no budgets)."""
    write_json(directory / "version.json", version_doc("v1.33.5-eks-1"))
    node_docs = [make_node_doc(n, kubelet="v1.33.5-eks-1") for n in nodes]
    for doc in node_docs:
        doc["metadata"].setdefault("labels", {})[EKS_POOL] = pool
    write_json(directory / "nodes.json", {"apiVersion": "v1", "kind": "NodeList", "items": node_docs})
    write_json(directory / "pods.json", {"apiVersion": "v1", "kind": "PodList", "items": pods})
    if budgets is not None:
        write_json(directory / "pdbs.json", {"apiVersion": "v1", "kind": "List", "items": budgets})
        if not budgets:
            write_json(
                directory / "pdbs.json", {"apiVersion": "policy/v1", "kind": "PodDisruptionBudgetList", "items": []}
            )
    return directory


def findings(directory: Path) -> dict[str, Any]:
    return by_subject(run(CHECK, make_context(read_snapshot(directory))))


# ------------------------------------------------------------------------------------------
# The check


def test_a_budget_with_max_unavailable_zero_fails_every_node_it_covers_and_blocks_the_pool(tmp_path: Path) -> None:
    pods = deployment_pods("web", ["n0", "n1"]) + deployment_pods("api", ["n2", "n0"])
    snap = snapshot(
        tmp_path, ["n0", "n1", "n2"], pods, [budget("web-pdb", {"matchLabels": {"app": "web"}}, max_unavailable=0)]
    )

    found = findings(snap)
    for node in ("n0", "n1"):
        assert found[f"node/{node}"].status is Status.FAIL
        assert (
            "Deployment/shop/web: PodDisruptionBudget shop/web-pdb allows 0 disruptions"
            in found[f"node/{node}"].message
        )
        assert found[f"node/{node}"].remediation
    assert found["node/n2"].status is Status.PASS  # api: two replicas, no budget holds it
    assert found["node/n0"].evidence["zero_disruption_budgets"] == 1

    plan = plan_for(read_snapshot(snap), date(2026, 12, 7))
    rollout = steps_of(plan, StepKind.NODE_POOL_UPGRADE)[-1].rollout
    assert rollout is not None
    assert rollout.blockers == ("Deployment/shop/web: PodDisruptionBudget shop/web-pdb allows 0 disruptions",)
    assert not rollout.unknowns


def test_the_budget_status_wins_over_its_spec(tmp_path: Path) -> None:
    pods = deployment_pods("web", ["n0", "n1", "n2"])
    held = budget("web-pdb", {"matchLabels": {"app": "web"}}, min_available=1, allowed=0)  # e.g. two pods not ready
    found = findings(snapshot(tmp_path / "held", ["n0", "n1", "n2"], pods, [held]))
    assert {f.status for f in found.values()} == {Status.FAIL}

    free = budget("web-pdb", {"matchLabels": {"app": "web"}}, max_unavailable=0, allowed=1)  # status says 1
    found = findings(snapshot(tmp_path / "free", ["n0", "n1", "n2"], pods, [free]))
    assert {f.status for f in found.values()} == {Status.PASS}


@pytest.mark.parametrize(
    ("spec", "status"),
    [
        ({"min_available": "100%"}, Status.FAIL),  # ceil(100% of 3) = 3: none may go
        ({"min_available": 3}, Status.FAIL),
        ({"min_available": 2}, Status.PASS),
        ({"max_unavailable": "50%"}, Status.PASS),  # ceil(1.5) = 2 may go
        ({"max_unavailable": "0%"}, Status.FAIL),
    ],
)
def test_a_manifest_without_status_is_judged_from_its_spec_and_the_pods_it_selects(
    tmp_path: Path, spec: dict[str, Any], status: Status
) -> None:
    pods = deployment_pods("web", ["n0", "n1", "n2"])
    snap = snapshot(tmp_path, ["n0", "n1", "n2"], pods, [budget("web-pdb", {"matchLabels": {"app": "web"}}, **spec)])
    assert {f.status for f in findings(snap).values()} == {status}
    (resolved,) = disruption_of(read_snapshot(snap)).budgets
    assert resolved.pods == 3 and "taken as healthy" in resolved.derived


def test_a_single_replica_fails_its_node_unless_a_budget_allows_its_disruption(tmp_path: Path) -> None:
    pods = [pod("solo-5d8f7c-0", "n0", owner=("ReplicaSet", "solo-5d8f7c"), labels={"app": "solo"})]
    found = findings(snapshot(tmp_path / "bare", ["n0", "n1"], pods, []))
    assert found["node/n0"].status is Status.FAIL
    assert found["node/n0"].message.endswith("Deployment/shop/solo: a single replica: draining its node interrupts it")
    assert found["node/n1"].status is Status.PASS and "no pod on the node is evicted" in found["node/n1"].message

    allowing = budget("solo", {"matchLabels": {"app": "solo"}}, max_unavailable=1)
    found = findings(snapshot(tmp_path / "allowed", ["n0", "n1"], pods, [allowing]))
    assert found["node/n0"].status is Status.PASS


def test_without_budgets_a_node_is_unknown_never_pass_and_a_bare_pod_still_fails(tmp_path: Path) -> None:
    pods = [*deployment_pods("web", ["n0", "n1"]), pod("solo-5d8f7c-0", "n1", owner=("ReplicaSet", "solo-5d8f7c"))]
    pods.append(pod("debug", "n2"))  # no controller
    found = findings(snapshot(tmp_path, ["n0", "n1", "n2", "n3"], pods, None))

    assert found["node/n0"].status is Status.UNKNOWN
    assert found["node/n0"].message.startswith(
        "whether a PodDisruptionBudget holds a drain of the node is unknown: the snapshot holds no list of "
        "PodDisruptionBudgets (kubectl get --raw /apis/policy/v1/poddisruptionbudgets"
    )
    assert found["node/n1"].status is Status.UNKNOWN and "1 single-replica workload(s)" in found["node/n1"].message
    assert found["node/n2"].status is Status.FAIL
    assert (
        "Pod/shop/debug: a single replica (a bare pod: it is not recreated after a drain)" in found["node/n2"].message
    )
    assert found["node/n3"].status is Status.UNKNOWN  # no pods, but the budgets are not known: never PASS
    assert Status.PASS not in {f.status for f in found.values()}


def test_single_budget_manifests_show_a_blocker_but_never_the_absence_of_one(tmp_path: Path) -> None:
    pods = deployment_pods("web", ["n0", "n2"]) + deployment_pods("api", ["n1", "n2"])
    snap = snapshot(tmp_path, ["n0", "n1", "n2"], pods, None)
    write_json(snap / "web-pdb.json", budget("web-pdb", {"matchLabels": {"app": "web"}}, max_unavailable=0))

    inventory = read_snapshot(snap)
    assert not inventory.has(inv.DISRUPTION_BUDGETS) and len(inventory.disruption_budgets) == 1
    found = findings(snap)
    assert found["node/n0"].status is Status.FAIL
    assert found["node/n1"].status is Status.UNKNOWN
    assert "not the whole list" in found["node/n1"].message


def test_static_daemonset_finished_and_unscheduled_pods_do_not_block_a_drain(tmp_path: Path) -> None:
    """A real kind cluster's kube-system: etcd and the control plane as static pods, kindnet and kube-proxy
    DaemonSets, four CoreDNS replicas (two on the control-plane node, two not scheduled)."""
    pods = json.loads(SONOBUOY.read_text(encoding="utf-8"))["items"]
    pods.append(pod("report-1", "kind-worker", phase="Succeeded"))
    nodes = ["kind-control-plane", "kind-worker", "kind-worker2"]
    found = findings(snapshot(tmp_path / "free", nodes, pods, []))
    assert {s: f.status for s, f in found.items()} == {f"node/{n}": Status.PASS for n in nodes}
    assert found["node/kind-control-plane"].evidence["workloads_evicted"] == 1  # CoreDNS only
    assert found["node/kind-worker"].evidence["workloads_evicted"] == 0

    coredns = budget(
        "coredns", {"matchLabels": {"k8s-app": "kube-dns"}}, namespace="kube-system", min_available=2
    )  # two pods on nodes, minAvailable 2: none may go
    found = findings(snapshot(tmp_path / "held", nodes, pods, [coredns]))
    assert found["node/kind-control-plane"].status is Status.FAIL
    assert (
        "Deployment/kube-system/coredns: PodDisruptionBudget kube-system/coredns"
        in found["node/kind-control-plane"].message
    )
    assert found["node/kind-worker"].status is Status.PASS


def test_kube_no_trouble_v1beta1_budget_as_written_lands_in_the_default_namespace(tmp_path: Path) -> None:
    pods = [
        pod(f"xy-5d8f7c-{i}", f"n{i}", namespace="default", owner=("ReplicaSet", "xy-5d8f7c"), labels={"app": "xy"})
        for i in range(2)
    ]
    snap = snapshot(tmp_path, ["n0", "n1"], pods, [])
    (snap / "pdb.yaml").write_bytes((PLAN2 / "poddisruptionbudget-v1beta1.yaml").read_bytes())
    inventory = read_snapshot(snap)
    (resolved,) = disruption_of(inventory).budgets
    assert (resolved.namespace, resolved.api_version, resolved.workloads) == (
        "default",
        "policy/v1beta1",
        ("Deployment/default/xy",),
    )
    assert resolved.disruptions_allowed == 0  # minAvailable 2 of the 2 pods it selects
    assert {f.status for f in findings(snap).values()} == {Status.FAIL}


def test_an_empty_selector_selects_every_pod_in_policy_v1_and_none_in_v1beta1(tmp_path: Path) -> None:
    pods = deployment_pods("web", ["n0", "n1"])
    v1 = disruption_of(
        read_snapshot(snapshot(tmp_path / "v1", ["n0", "n1"], pods, [budget("all", {}, max_unavailable=0)]))
    )
    assert v1.budgets[0].workloads == ("Deployment/shop/web",)
    old = [budget("all", {}, max_unavailable=0, api_version="policy/v1beta1")]
    v1beta1 = disruption_of(read_snapshot(snapshot(tmp_path / "v1beta1", ["n0", "n1"], pods, old)))
    assert v1beta1.budgets[0].workloads == ()
    nothing = disruption_of(
        read_snapshot(snapshot(tmp_path / "null", ["n0", "n1"], pods, [budget("x", None, max_unavailable=0)]))
    )
    assert nothing.budgets[0].workloads == ()


def test_match_expressions_select_and_an_unknown_operator_is_unknown(tmp_path: Path) -> None:
    pods = deployment_pods("web", ["n0", "n1"]) + deployment_pods("api", ["n0", "n1"])
    expression = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}
    found = findings(snapshot(tmp_path / "in", ["n0", "n1"], pods, [budget("b", expression, max_unavailable=0)]))
    assert {f.status for f in found.values()} == {Status.FAIL}
    assert all("Deployment/shop/api" not in f.message for f in found.values())

    odd = {"matchExpressions": [{"key": "app", "operator": "Like", "values": ["w*"]}]}
    found = findings(snapshot(tmp_path / "odd", ["n0", "n1"], pods, [budget("b", odd, max_unavailable=0)]))
    assert {f.status for f in found.values()} == {Status.UNKNOWN}
    assert "operator Kubernetes does not define" in found["node/n0"].message


def test_a_manifest_and_the_clusters_copy_of_one_budget_are_one_budget(tmp_path: Path) -> None:
    pods = deployment_pods("web", ["n0", "n1"])
    live = budget("web-pdb", {"matchLabels": {"app": "web"}}, max_unavailable=1, allowed=1)
    snap = snapshot(tmp_path, ["n0", "n1"], pods, [live])
    written = budget("web-pdb", {"matchLabels": {"app": "web"}}, max_unavailable=1, api_version="policy/v1beta1")
    write_json(snap / "git" / "web-pdb.json", written)
    inventory = read_snapshot(snap)
    (kept,) = inventory.disruption_budgets
    assert kept.status is not None  # the cluster's copy: its status is what a drain meets
    assert {(w.api_version, w.kind) for w in inventory.written} >= {("policy/v1beta1", "PodDisruptionBudget")}

    other = budget("web-pdb", {"matchLabels": {"app": "web"}}, max_unavailable=0, allowed=0)
    write_json(snap / "later.json", other)
    with pytest.raises(InputError, match="PodDisruptionBudget shop/web-pdb appears"):
        read_snapshot(snap)


def test_the_check_and_the_planner_judge_with_the_same_rule(tmp_path: Path) -> None:
    pods = [*deployment_pods("web", ["n0", "n1"]), pod("solo-5d8f7c-0", "n1", owner=("ReplicaSet", "solo-5d8f7c"))]
    snap = snapshot(tmp_path, ["n0", "n1"], pods, [budget("web-pdb", {"matchLabels": {"app": "web"}}, min_available=2)])
    inventory = read_snapshot(snap)
    disruption = disruption_of(inventory)
    assert disruption.placement is not None
    verdict = judge(["n0", "n1"], disruption.placement, disruption)
    assert [(b.workload, b.reason) for b in verdict.blockers] == [
        ("Deployment/shop/solo", BlockReason.SINGLE_REPLICA),
        ("Deployment/shop/web", BlockReason.ZERO_BUDGET),
    ]
    rollout = steps_of(plan_for(inventory, date(2026, 12, 7)), StepKind.NODE_POOL_UPGRADE)[-1].rollout
    assert rollout is not None and rollout.blockers == tuple(b.message for b in verdict.blockers)
    failing = {f.subject for f in findings(snap).values() if f.status is Status.FAIL}
    assert failing == {"node/n0", "node/n1"}


def test_the_audits_workloads_give_the_same_placement_and_budgets(tmp_path: Path) -> None:
    pods = [
        *deployment_pods("web", ["n0", "n1"]),
        pod("solo-5d8f7c-0", "n1", owner=("ReplicaSet", "solo-5d8f7c")),
        pod("bare", "n0", labels={"app": "web"}),
        pod("agent-x1", "n0", owner=("DaemonSet", "agent")),
        pod("done-1", "n1", owner=("Job", "done"), phase="Succeeded"),
    ]
    snap = snapshot(tmp_path, ["n0", "n1"], pods, [budget("web-pdb", {"matchLabels": {"app": "web"}}, min_available=2)])
    inventory = read_snapshot(snap)
    shared = disruption_of(inventory, derive_facts(inventory).workloads)
    assert shared == disruption_of(inventory)
    assert shared.placement is not None and shared.placement.kinds == {
        "Deployment/shop/web": "Deployment",
        "Deployment/shop/solo": "Deployment",
        "Pod/shop/bare": "Pod",
    }
    assert shared.budgets[0].workloads == ("Deployment/shop/web", "Pod/shop/bare")


def test_the_check_is_registered_for_pci_10_2_with_its_interpretation() -> None:
    from patchlevel.checks import ALL_CHECKS
    from patchlevel.frameworks import load_requirements, requirements_by_check

    spec = next(c for c in ALL_CHECKS if c.id == CHECK)
    assert "patchlevel's reading of PCI 10.2" in spec.interpretation
    assert "PCI-CG-10.2" in requirements_by_check(load_requirements(c.id for c in ALL_CHECKS))[CHECK]


def test_without_pods_the_check_says_which_pods_run_is_unknown() -> None:
    from builders import make_node

    found = by_subject(run(CHECK, make_context(nodes=[make_node("n0")], pods=None)))
    assert (
        found["node/n0"].status is Status.UNKNOWN
        and "which pods run on the node is unknown" in found["node/n0"].message
    )
