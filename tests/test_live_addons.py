"""Add-ons read live: the labels on pods' owners (Deployments, StatefulSets) come from the API server.

Flux labels its release (``app.kubernetes.io/version``) only on its Deployments; its controller images
carry their own versions.  The test API server (tests/kubeapi) serves the pods, ReplicaSets and
Deployments that Flux v0.29.3's real gotk-components manifest creates (tests/data/addons, see
SOURCES.md there), as a cluster running it would list them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from addon_pods import manifest_pods
from kubeapi import Cluster, KubeAPIServer, namespaces_of
from patchlevel import inventory as inv
from patchlevel.addons import recognise_addons
from patchlevel.collect.live import RESOURCES
from test_live_collect import NODES, VERSION, collect

FLUX = "flux-v0.29.3-workloads.yaml"
FLUX_CONTROLLERS = ("helm-controller", "kustomize-controller", "notification-controller", "source-controller")
# kubectl apply's record of the whole object: what a Deployment's metadata carries besides its labels
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def flux_objects() -> dict[str, list[dict[str, Any]]]:
    pods, owners = manifest_pods(FLUX, namespace="flux-system", replicas=2)
    by_kind: dict[str, list[dict[str, Any]]] = {"ReplicaSet": [], "Deployment": []}
    for owner in owners:
        body = {"apiVersion": "apps/v1", **owner}
        if owner["kind"] == "Deployment":
            applied = json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"padding": "x" * 20_000}})
            body["metadata"] = {**owner["metadata"], "annotations": {LAST_APPLIED: applied}}
        by_kind[owner["kind"]].append(body)
    assert len(by_kind["Deployment"]) == len(FLUX_CONTROLLERS)
    return {
        "nodes": NODES,
        "pods": pods,
        "namespaces": namespaces_of(pods),
        "replicasets": by_kind["ReplicaSet"],
        "deployments": by_kind["Deployment"],
    }


def flux_versions(inventory: inv.Inventory) -> dict[str, tuple[str | None, str]]:
    return {
        i.workload.name: (i.version.text, i.version.reason)
        for i in recognise_addons(inventory).instances
        if i.addon.id == "flux"
    }


def test_deployments_and_statefulsets_are_listed_read_only() -> None:
    listed = {r.qualified: r for r in RESOURCES}
    for name in ("deployments.apps", "statefulsets.apps"):
        assert listed[name].inventory_kind == inv.OWNERS and listed[name].metadata_only
        assert not listed[name].required  # a refusal degrades, as for ReplicaSets


def test_flux_s_release_is_read_from_its_deployments_labels_live(tmp_path: Path) -> None:
    with KubeAPIServer(Cluster(objects=flux_objects(), version=VERSION)) as server:
        collection = collect(server, tmp_path)
        assert [r.status for r in server.requests_to("/apis/apps/v1/deployments")] == [200]
        assert [r.status for r in server.requests_to("/apis/apps/v1/statefulsets")] == [200]

    inventory = collection.inventory
    assert inventory.denied == {}
    assert flux_versions(inventory) == {name: ("0.29.3", "") for name in FLUX_CONTROLLERS}
    deployments = [o for o in inventory.owners.values() if o.kind == "Deployment"]
    assert {d.metadata.name for d in deployments} == set(FLUX_CONTROLLERS)
    for deployment in deployments:
        # only what recognition and workload naming read is kept: no 20 kB last-applied configuration
        assert deployment.metadata.labels is not None
        assert deployment.metadata.labels["app.kubernetes.io/version"] == "v0.29.3"
        assert deployment.metadata.annotations is None and deployment.metadata.uid
    # the apiVersion the object was applied in is still recorded (the planner's API removals)
    written = {(w.kind, w.name): w.last_applied for w in inventory.written if w.kind == "Deployment"}
    assert written == {("Deployment", name): "apps/v1" for name in FLUX_CONTROLLERS}
    entry = next(r for r in collection.metadata["resources"] if r["resource"] == "deployments.apps")
    assert entry["status"] == "collected" and entry["items"] == len(FLUX_CONTROLLERS)


def test_without_deployments_flux_is_unknown_and_says_the_list_was_refused(tmp_path: Path) -> None:
    with KubeAPIServer(Cluster(objects=flux_objects(), version=VERSION), forbidden=["deployments.apps"]) as server:
        collection = collect(server, tmp_path)

    inventory = collection.inventory
    assert "may not list deployments.apps (403 Forbidden" in inventory.denied[inv.OWNERS]
    assert inventory.warnings[-1].endswith(
        "add-ons whose release is only on their Deployments' labels (Flux) are unknown"
    )
    denied = [r["resource"] for r in collection.metadata["resources"] if r["status"] == "denied"]
    assert denied == ["deployments.apps"]
    versions = flux_versions(inventory)
    assert set(versions) == set(FLUX_CONTROLLERS)  # still recognised by their images, and their workloads named
    for text, reason in versions.values():
        assert text is None  # never a controller image's own version
        assert "owner objects could not all be read" in reason and "deployments.apps" in reason
    assert len(inventory.pods) == 2 * len(FLUX_CONTROLLERS)
