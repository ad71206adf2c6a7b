"""The planner's inputs from snapshot files: API versions as written, the API server's metric, completeness.

kube-no-trouble's own fixtures (a policy/v1beta1 PodDisruptionBudget and an autoscaling/v2beta2
HorizontalPodAutoscaler as their authors wrote them, a Deployment whose last-applied configuration
says apps/v1beta1; tests/data/plan2/SOURCES.md) beside constructed lists and a kube-apiserver
``/metrics`` exposition (tests/kubeapi/metrics.py), read by the real snapshot reader.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from builders import DATA, make_node_doc, version_doc, write_json
from kubeapi import apiserver_exposition
from patchlevel import inventory as inv
from patchlevel.collect.snapshot import read_snapshot
from patchlevel.plan.inputs import NO_OBJECTS_BY_API_VERSION, UsageSource, from_inventory
from patchlevel.plan.model import ApiUseStatus, Certainty, Plan, Step, StepKind
from plan_helpers import before, plan_for, steps_of

PLAN2 = DATA / "plan2"
AS_OF = date(2026, 12, 7)


def cluster(directory: Path, version: str = "v1.24.17") -> Path:
    write_json(directory / "version.json", version_doc(version))
    write_json(directory / "nodes.json", {"kind": "NodeList", "items": [make_node_doc("n1", kubelet=version)]})
    write_json(directory / "pods.json", {"apiVersion": "v1", "kind": "PodList", "items": []})
    return directory


def copy(name: str, directory: Path) -> None:
    (directory / name).write_bytes((PLAN2 / name).read_bytes())


def migrations(plan: Plan) -> dict[str, Step]:
    return {s.to_version: s for s in steps_of(plan, StepKind.API_MIGRATION)}


def control_plane(plan: Plan) -> dict[str, Step]:
    return {s.to_version.rsplit(".", 1)[0]: s for s in steps_of(plan, StepKind.CONTROL_PLANE_UPGRADE)}


def migration(step: Step, kind: str) -> Any:
    return next(m for m in step.migrations if m.kind == kind)


def hpa(name: str, api_version: str = "autoscaling/v2") -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}, "maxReplicas": 3},
    }


def test_v1beta1_budgets_and_v2beta2_autoscalers_as_written_are_migrated_before_the_step_that_removes_them(
    tmp_path: Path,
) -> None:
    snap = cluster(tmp_path)
    copy("poddisruptionbudget-v1beta1.yaml", snap)
    copy("autoscaler-v2beta2.yaml", snap)

    plan = plan_for(read_snapshot(snap), AS_OF, target="1.26")
    steps, hops = migrations(plan), control_plane(plan)
    pdb = migration(steps["1.25"], "PodDisruptionBudget")
    assert (pdb.api_version, pdb.status, pdb.replacement) == ("policy/v1beta1", ApiUseStatus.USED, "policy/v1")
    assert pdb.evidence == ("1 object(s) written as policy/v1beta1 (manifest): xy-pdb",)
    autoscaler = migration(steps["1.26"], "HorizontalPodAutoscaler")
    assert (autoscaler.api_version, autoscaler.status) == ("autoscaling/v2beta2", ApiUseStatus.USED)
    assert autoscaler.evidence == ("1 object(s) written as autoscaling/v2beta2 (manifest): php-apache",)
    assert before(plan, steps["1.25"], hops["1.25"]) and before(plan, steps["1.26"], hops["1.26"])
    assert steps["1.25"].certainty is Certainty.REQUIRED and steps["1.26"].certainty is Certainty.REQUIRED
    # the v1beta1 HPA of 1.25 is not in use as far as the files go, but the input cannot say "not found"
    assert migration(steps["1.25"], "HorizontalPodAutoscaler").status is ApiUseStatus.UNKNOWN


def test_a_last_applied_configuration_shows_the_version_kubectl_applied(tmp_path: Path) -> None:
    snap = cluster(tmp_path)
    copy("fake-deployment-v1beta1-with-annotation.yaml", snap)
    usage = from_inventory(read_snapshot(snap)).api_usage

    uses = {(u.api_version, u.kind, u.source): u for u in usage.uses if u.kind == "Deployment"}
    assert uses[("apps/v1beta1", "Deployment", UsageSource.LAST_APPLIED)].objects == ("default/nginx-deployment-old",)
    assert uses[("apps/v1", "Deployment", UsageSource.MANIFEST)].count == 1
    assert usage.uses_of("apps/v1beta1", "Deployment", "deployments")  # what the planner matches removals with


def test_whole_lists_and_the_metric_make_a_removed_version_not_found(tmp_path: Path) -> None:
    snap = cluster(tmp_path)
    write_json(snap / "hpa.json", {"apiVersion": "v1", "kind": "List", "items": [hpa("web"), hpa("api")]})
    write_json(
        snap / "pdb.json", {"apiVersion": "policy/v1", "kind": "PodDisruptionBudgetList", "items": []}
    )  # none at all
    (snap / "apiserver-metrics.txt").write_text(apiserver_exposition(), encoding="utf-8")

    inventory = read_snapshot(snap)
    assert inventory.has(inv.DEPRECATED_API_REQUESTS) and inventory.has(inv.DISRUPTION_BUDGETS)
    read = {i.path.rsplit("/", 1)[-1]: i.read_as for i in inventory.inputs}
    assert read["apiserver-metrics.txt"] == "API server metrics (0 deprecated APIs requested)"
    usage = from_inventory(inventory).api_usage
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget"} <= usage.kinds_complete
    assert usage.requests_read and usage.requests_since.startswith("2025-12-01 00:00 UTC")
    assert NO_OBJECTS_BY_API_VERSION not in usage.gaps and not any("metric" in g for g in usage.gaps)

    plan = plan_for(inventory, AS_OF, target="1.26")
    steps = migrations(plan)
    autoscaler = migration(steps["1.26"], "HorizontalPodAutoscaler")
    assert autoscaler.status is ApiUseStatus.NOT_FOUND
    assert "no client requested it since 2025-12-01 00:00 UTC" in autoscaler.evidence[0]
    assert migration(steps["1.25"], "PodDisruptionBudget").status is ApiUseStatus.NOT_FOUND
    assert migration(steps["1.25"], "CronJob").status is ApiUseStatus.UNKNOWN  # no CronJob list in the input


def test_the_metric_shows_a_client_that_requests_a_removed_version(tmp_path: Path) -> None:
    snap = cluster(tmp_path)
    exposition = apiserver_exposition([("autoscaling", "v2beta2", "horizontalpodautoscalers", "1.26")])
    (snap / "metrics").write_text(exposition, encoding="utf-8")

    usage = from_inventory(read_snapshot(snap)).api_usage
    (use,) = usage.uses_of("autoscaling/v2beta2", "HorizontalPodAutoscaler", "horizontalpodautoscalers")
    assert use.source is UsageSource.REQUEST_METRIC
    autoscaler = migration(
        migrations(plan_for(read_snapshot(snap), AS_OF, target="1.26"))["1.26"], "HorizontalPodAutoscaler"
    )
    assert autoscaler.status is ApiUseStatus.USED
    assert autoscaler.evidence[0].startswith(
        "clients requested autoscaling/v2beta2 horizontalpodautoscalers since 2025-12-01"
    )


def test_an_exposition_that_is_not_kube_apiservers_proves_nothing(tmp_path: Path) -> None:
    snap = cluster(tmp_path)
    (snap / "metrics.txt").write_text(apiserver_exposition(apiserver=False), encoding="utf-8")
    write_json(snap / "hpa.json", {"apiVersion": "v1", "kind": "List", "items": [hpa("web")]})

    usage = from_inventory(read_snapshot(snap)).api_usage
    assert not usage.requests_read
    assert any("not kube-apiserver's exposition" in g for g in usage.gaps)
    plan = plan_for(read_snapshot(snap), AS_OF, target="1.26")
    assert migration(migrations(plan)["1.26"], "HorizontalPodAutoscaler").status is ApiUseStatus.UNKNOWN


def test_without_objects_as_written_or_the_metric_the_plan_says_what_is_unknown_and_how_to_add_it(
    tmp_path: Path,
) -> None:
    usage = from_inventory(read_snapshot(cluster(tmp_path))).api_usage
    assert NO_OBJECTS_BY_API_VERSION in usage.gaps
    (metric,) = [g for g in usage.gaps if "apiserver_requested_deprecated_apis" in g]
    assert "kubectl get --raw /metrics" in metric
    assert not usage.requests_read
    assert usage.kinds_complete <= {"Node", "Pod"}  # the lists it holds: kinds no release removes


def test_an_api_server_older_than_the_metric_is_not_read_as_none_requested(tmp_path: Path) -> None:
    snap = cluster(tmp_path, "v1.18.20")
    (snap / "metrics.txt").write_text(apiserver_exposition(), encoding="utf-8")
    usage = from_inventory(read_snapshot(snap)).api_usage
    assert not usage.requests_read and any("from 1.19" in g for g in usage.gaps)


def test_objects_of_every_kind_are_recorded_once_with_their_version_as_written(tmp_path: Path) -> None:
    snap = cluster(tmp_path)
    copy("autoscaler-v2beta2.yaml", snap)
    (snap / "again").mkdir()
    copy("autoscaler-v2beta2.yaml", snap / "again")
    ingress = {
        "apiVersion": "networking.k8s.io/v1beta1",
        "kind": "Ingress",
        "metadata": {"name": "shop", "namespace": "shop"},
    }
    write_json(snap / "ingress.json", ingress)
    written = read_snapshot(snap).written
    assert sorted((w.kind, w.api_version, w.namespace, w.name) for w in written) == [
        ("HorizontalPodAutoscaler", "autoscaling/v2beta2", "", "php-apache"),  # twice in the input, once here
        ("Ingress", "networking.k8s.io/v1beta1", "shop", "shop"),
    ]
