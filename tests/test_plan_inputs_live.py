"""The planner's inputs from a live cluster and its evidence bundle: PodDisruptionBudgets and ``GET /metrics``.

The HTTPS test API server (tests/kubeapi) serves policy/v1 PodDisruptionBudgets (policy/v1beta1 on a
1.20 API server), a kube-apiserver ``/metrics`` exposition, and refuses either on request (403), or
has no ``/metrics`` (404).  Budgets carry kubectl's last-applied configuration as a cluster keeps it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from builders import make_node_doc, version_doc
from kubeapi import Cluster, KubeAPIServer, apiserver_exposition
from patchlevel import inventory as inv
from patchlevel.collect.bundle import read_bundle, verify_bundle
from patchlevel.collect.live import LiveOptions, collect_bundle
from patchlevel.inventory import LAST_APPLIED
from patchlevel.model import Status
from patchlevel.plan.inputs import UsageSource, from_inventory
from patchlevel.plan.model import ApiUseStatus, StepKind
from plan_helpers import EKS_POOL, audit, plan_for, steps_of
from test_live_collect import FakeHost, access_for, collect

AS_OF = date(2026, 12, 7)
VERSION = version_doc("v1.24.17")


def node(name: str) -> dict[str, Any]:
    doc = make_node_doc(name, kubelet="v1.24.17")
    doc["metadata"].setdefault("labels", {})[EKS_POOL] = "apps"
    return doc


def web_pod(index: int, node_name: str) -> dict[str, Any]:
    image = "registry.example/web:1.0"
    return {
        "metadata": {
            "name": f"web-5d8f7c-{index}",
            "namespace": "shop",
            "labels": {"app": "web", "pod-template-hash": "5d8f7c"},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f7c", "controller": True}
            ],
        },
        "spec": {"nodeName": node_name, "containers": [{"name": "web", "image": image}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "web", "image": image, "imageID": ""}]},
    }


def pdb(name: str, allowed: int, applied_as: str | None = "policy/v1beta1") -> dict[str, Any]:
    """A budget as the API server lists it: no kind or apiVersion, a status, kubectl's last-applied annotation."""
    spec = {"maxUnavailable": allowed, "selector": {"matchLabels": {"app": "web"}}}
    metadata: dict[str, Any] = {"name": name, "namespace": "shop", "uid": f"uid-{name}", "resourceVersion": "7"}
    if applied_as is not None:
        applied = {"apiVersion": applied_as, "kind": "PodDisruptionBudget", "metadata": metadata, "spec": spec}
        metadata = {**metadata, "annotations": {LAST_APPLIED: json.dumps(applied)}}
    status = {"disruptionsAllowed": allowed, "currentHealthy": 2, "desiredHealthy": 2 - allowed, "expectedPods": 2}
    return {"metadata": metadata, "spec": spec, "status": status}


def objects(budgets: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "nodes": [node("n0"), node("n1")],
        "pods": [web_pod(0, "n0"), web_pod(1, "n1")],
        "poddisruptionbudgets": budgets,
    }


REQUESTED = [("autoscaling", "v2beta2", "horizontalpodautoscalers", "1.26")]


def test_live_budgets_last_applied_versions_and_the_metric_reach_the_plan(tmp_path: Path) -> None:
    cluster = Cluster(objects=objects([pdb("web", 1)]), version=VERSION, metrics=apiserver_exposition(REQUESTED))
    with KubeAPIServer(cluster) as api:
        collection = collect(api, tmp_path)
        (metrics_request,) = api.requests_to("/metrics")
        assert [r.status for r in api.requests_to("/apis/policy/v1/poddisruptionbudgets")] == [200]
    assert metrics_request.status == 200 and metrics_request.headers["accept"].startswith("text/plain")

    inventory = collection.inventory
    assert {inv.DISRUPTION_BUDGETS, inv.DEPRECATED_API_REQUESTS} <= inventory.collected
    assert inventory.apiserver_metrics is not None and inventory.apiserver_metrics.from_apiserver
    entry = next(r for r in collection.metadata["resources"] if r["resource"] == "metrics")
    assert entry == {"resource": "metrics", "path": "/metrics", "status": "collected", "deprecated_apis_requested": 1}

    usage = from_inventory(inventory).api_usage
    sources = {(u.api_version, u.kind or u.resource, u.source) for u in usage.uses}
    assert ("policy/v1beta1", "PodDisruptionBudget", UsageSource.LAST_APPLIED) in sources
    assert ("autoscaling/v2beta2", "horizontalpodautoscalers", UsageSource.REQUEST_METRIC) in sources
    assert "PodDisruptionBudget" in usage.kinds_complete  # every budget shows how it was written
    assert usage.requests_read and usage.requests_since.startswith("2025-12-01 00:00 UTC")

    plan = plan_for(inventory, AS_OF, target="1.26")
    by_release = {s.to_version: s for s in steps_of(plan, StepKind.API_MIGRATION)}
    budget_use = next(m for m in by_release["1.25"].migrations if m.kind == "PodDisruptionBudget")
    assert budget_use.status is ApiUseStatus.USED
    assert budget_use.evidence == ("1 object(s) written as policy/v1beta1 (last-applied): shop/web",)
    hpa_use = next(m for m in by_release["1.26"].migrations if m.kind == "HorizontalPodAutoscaler")
    assert hpa_use.status is ApiUseStatus.USED and "clients requested autoscaling/v2beta2" in hpa_use.evidence[0]


def test_without_the_metric_and_budgets_applied_another_way_the_plan_says_unknown_not_unused(tmp_path: Path) -> None:
    budgets = [pdb("web", 1, applied_as="policy/v1"), pdb("helm-made", 1, applied_as=None)]
    with KubeAPIServer(Cluster(objects=objects(budgets), version=VERSION), forbidden={"/metrics"}) as api:
        collection = collect(api, tmp_path)
        assert [r.status for r in api.requests_to("/metrics")] == [403]

    inventory = collection.inventory
    assert not inventory.has(inv.DEPRECATED_API_REQUESTS)
    assert "may not get /metrics (403 Forbidden" in inventory.denied[inv.DEPRECATED_API_REQUESTS]
    assert any(w.startswith("/metrics could not be read") for w in inventory.warnings)
    entry = next(r for r in collection.metadata["resources"] if r["resource"] == "metrics")
    assert entry["status"] == "denied"

    usage = from_inventory(inventory).api_usage
    assert not usage.requests_read and "PodDisruptionBudget" not in usage.kinds_complete  # helm-made shows nothing
    step = next(s for s in steps_of(plan_for(inventory, AS_OF, target="1.25"), StepKind.API_MIGRATION))
    budget_use = next(m for m in step.migrations if m.kind == "PodDisruptionBudget")
    assert budget_use.status is ApiUseStatus.UNKNOWN
    assert budget_use.evidence[0].endswith("the API server's deprecated-API request metric was not read")


def test_a_metric_absent_from_the_api_server_is_recorded_and_a_clean_one_proves_not_requested(tmp_path: Path) -> None:
    cluster = Cluster(objects=objects([pdb("web", 1)]), version=VERSION, metrics=None)
    with KubeAPIServer(cluster) as api:
        absent = collect(api, tmp_path / "absent")
    assert "GET /metrics answered 404 Not Found" in absent.inventory.denied[inv.DEPRECATED_API_REQUESTS]
    assert next(r for r in absent.metadata["resources"] if r["resource"] == "metrics")["status"] == "absent"

    clean = Cluster(objects=objects([pdb("web", 1, applied_as="policy/v1")]), version=VERSION)
    with KubeAPIServer(clean) as api:
        inventory = collect(api, tmp_path / "clean").inventory
    assert inventory.apiserver_metrics is not None and inventory.apiserver_metrics.requests == ()
    step = steps_of(plan_for(inventory, AS_OF, target="1.25"), StepKind.API_MIGRATION)[0]
    budget_use = next(m for m in step.migrations if m.kind == "PodDisruptionBudget")
    assert budget_use.status is ApiUseStatus.NOT_FOUND  # every budget applied as policy/v1, no client asked v1beta1


def test_a_budget_allowing_no_disruption_fails_the_nodes_of_its_pods_live(tmp_path: Path) -> None:
    cluster = Cluster(objects=objects([pdb("web", 0)]), version=version_doc("v1.33.5-eks-1"))
    with KubeAPIServer(cluster) as api:
        inventory = collect(api, tmp_path).inventory
    report = audit(inventory, AS_OF).report
    drain = {f.subject: f for f in report.findings if f.check == "node_drain_possible"}
    assert {s: f.status for s, f in drain.items()} == {"node/n0": Status.FAIL, "node/n1": Status.FAIL}
    assert "PodDisruptionBudget shop/web allows 0 disruptions" in drain["node/n0"].message
    assert "PCI-CG-10.2" in drain["node/n0"].requirements


def test_a_refused_budget_list_makes_every_node_unknown_never_pass(tmp_path: Path) -> None:
    cluster = Cluster(objects=objects([pdb("web", 1)]), version=version_doc("v1.33.5-eks-1"))
    with KubeAPIServer(cluster, forbidden={"poddisruptionbudgets.policy"}) as api:
        inventory = collect(api, tmp_path).inventory
    assert "may not list poddisruptionbudgets.policy" in inventory.denied[inv.DISRUPTION_BUDGETS]
    drain = [f for f in audit(inventory, AS_OF).report.findings if f.check == "node_drain_possible"]
    assert {f.status for f in drain} == {Status.UNKNOWN}
    assert all("PodDisruptionBudgets could not be read" in f.message for f in drain)


def test_an_api_server_before_1_21_is_read_at_policy_v1beta1(tmp_path: Path) -> None:
    cluster = Cluster(objects=objects([pdb("web", 0)]), version=version_doc("v1.20.15"))
    with KubeAPIServer(cluster) as api:
        collection = collect(api, tmp_path)
        assert [r.status for r in api.requests_to("/apis/policy/v1/poddisruptionbudgets")] == [404]
        assert [r.status for r in api.requests_to("/apis/policy/v1beta1/poddisruptionbudgets")] == [200]
    inventory = collection.inventory
    assert inventory.has(inv.DISRUPTION_BUDGETS) and len(inventory.disruption_budgets) == 1
    entry = next(r for r in collection.metadata["resources"] if r["resource"] == "poddisruptionbudgets.policy")
    assert entry["path"] == "/apis/policy/v1beta1/poddisruptionbudgets"


def test_a_bundle_keeps_the_metric_and_the_budgets_and_gives_the_live_inputs(tmp_path: Path) -> None:
    cluster = Cluster(objects=objects([pdb("web", 0)]), version=VERSION, metrics=apiserver_exposition(REQUESTED))
    with KubeAPIServer(cluster) as api:
        access = access_for(api, tmp_path / "kube")
        collection, _ = collect_bundle(
            access, tmp_path / "evidence.tar.gz", host=FakeHost().host(), options=LiveOptions(page_size=1)
        )
    verification = verify_bundle(tmp_path / "evidence.tar.gz")
    assert verification.ok
    files = {f["path"]: f for f in verification.manifest["files"]}
    assert files["metrics.txt"]["role"] == "metrics" and files["metrics.txt"]["request"] == "GET /metrics"
    assert "poddisruptionbudgets.policy/page-0001.json" in files

    offline = read_bundle(tmp_path / "evidence.tar.gz")
    live = collection.inventory
    assert offline.apiserver_metrics is not None and live.apiserver_metrics is not None
    assert offline.apiserver_metrics.requests == live.apiserver_metrics.requests
    assert offline.disruption_budgets == live.disruption_budgets and offline.written == live.written
    assert offline.collected >= {inv.DISRUPTION_BUDGETS, inv.DEPRECATED_API_REQUESTS}
    assert from_inventory(offline).api_usage.uses == from_inventory(live).api_usage.uses
    assert from_inventory(offline).disruption.budgets == from_inventory(live).disruption.budgets
