"""Pods as a cluster runs them, from the workload manifests add-on projects publish (tests/data/addons).

``manifest_pods(path)`` turns every Deployment, DaemonSet, StatefulSet and Job of a manifest into
the pods their controllers create: the pod template's labels and containers, an owner reference to
the ReplicaSet (Deployment, with its ``pod-template-hash``), DaemonSet, StatefulSet or Job, and
container statuses reporting the spec's image by a registry digest.  The owner objects come along
(ReplicaSet → Deployment), as ``kubectl get replicasets,deployments -A -o json`` would add them.
Everything goes through the real decoders (``msgspec.convert`` into ``patchlevel.kube``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
import yaml

from patchlevel import inventory as inv
from patchlevel.inventory import Inventory
from patchlevel.kube import OwnerObject, Pod, VersionInfo

DATA = Path(__file__).parent / "data" / "addons"
WORKLOAD_KINDS = ("Deployment", "DaemonSet", "StatefulSet", "Job")


def _hash(text: str, length: int = 10) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _digest(image: str) -> str:
    repository = image.split("@", 1)[0]
    last = repository.rsplit("/", 1)[-1]
    if ":" in last:
        repository = repository[: repository.rfind(":")]
    pinned = image.split("@", 1)[1] if "@" in image else "sha256:" + hashlib.sha256(image.encode()).hexdigest()
    return f"{repository}@{pinned}"


def _container_statuses(containers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "name": c["name"],
            "image": c["image"],
            "imageID": _digest(c["image"]),
            "state": {"running": {"startedAt": "2026-11-01T00:00:00Z"}},
        }
        for c in containers
        if c.get("image")
    ]


def workload_pods(
    workload: Mapping[str, Any], namespace: str = "default", replicas: int = 1, phase: str | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(pod documents, owner documents) for one workload object."""
    kind = workload["kind"]
    meta = workload.get("metadata") or {}
    name = meta["name"]
    ns = meta.get("namespace") or namespace
    template = workload["spec"]["template"]
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    spec = template["spec"]
    workload_uid = f"uid-{_hash(kind + ns + name)}"
    owners: list[dict[str, Any]] = [
        {"kind": kind, "metadata": {"name": name, "namespace": ns, "uid": workload_uid, "labels": meta.get("labels")}}
    ]
    owner_ref = {"kind": kind, "name": name, "uid": workload_uid, "controller": True}
    if kind == "Deployment":
        template_hash = _hash(repr(template), 9)
        rs_name = f"{name}-{template_hash}"
        rs_uid = f"uid-{_hash('rs' + ns + rs_name)}"
        labels["pod-template-hash"] = template_hash
        owners.append(
            {
                "kind": "ReplicaSet",
                "metadata": {
                    "name": rs_name,
                    "namespace": ns,
                    "uid": rs_uid,
                    "labels": labels,
                    "ownerReferences": [owner_ref],
                },
            }
        )
        owner_ref = {"kind": "ReplicaSet", "name": rs_name, "uid": rs_uid, "controller": True}
        base = rs_name
    else:
        base = name
    pods = []
    for index in range(replicas):
        pod_name = f"{base}-{index}" if kind == "StatefulSet" else f"{base}-{_hash(base + str(index), 5)}"
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": pod_name, "namespace": ns, "labels": labels, "ownerReferences": [owner_ref]},
                "spec": {
                    "nodeName": f"node-{index % 3 + 1}",
                    "containers": spec.get("containers") or [],
                    "initContainers": spec.get("initContainers") or [],
                },
                "status": {
                    "phase": phase or ("Succeeded" if kind == "Job" else "Running"),
                    "containerStatuses": _container_statuses(spec.get("containers") or []),
                    "initContainerStatuses": _container_statuses(spec.get("initContainers") or []),
                },
            }
        )
    return pods, owners


def manifest_pods(
    path: Path | str, namespace: str = "default", replicas: int = 1
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Pods and owners of every workload in a manifest file (a name in tests/data/addons, or a path)."""
    file = Path(path) if Path(path).is_file() else DATA / str(path)
    pods: list[dict[str, Any]] = []
    owners: list[dict[str, Any]] = []
    for doc in yaml.safe_load_all(file.read_text(encoding="utf-8")):
        if isinstance(doc, dict) and doc.get("kind") in WORKLOAD_KINDS:
            p, o = workload_pods(doc, namespace, replicas)
            pods += p
            owners += o
    return pods, owners


def inventory_of(
    pods: Iterable[Mapping[str, Any] | Pod],
    owners: Iterable[Mapping[str, Any]] = (),
    version: str | None = "v1.33.4",
) -> Inventory:
    """An inventory holding these pods (and owner objects), as a snapshot with pods would give it."""
    pod_list = tuple(p if isinstance(p, Pod) else msgspec.convert(p, Pod) for p in pods)
    owner_objects = [msgspec.convert(o, OwnerObject) for o in owners]
    collected = {inv.PODS}
    if version is not None:
        collected.add(inv.VERSION)
    if owner_objects:
        collected.add(inv.OWNERS)
    return Inventory(
        version=VersionInfo(gitVersion=version) if version is not None else None,
        nodes=(),
        pods=pod_list,
        owners={o.metadata.uid: o for o in owner_objects},
        collected=frozenset(collected),
        source="snapshot",
    )


def pod_doc(
    name: str,
    image: str | Sequence[str],
    *,
    namespace: str = "default",
    labels: Mapping[str, str] | None = None,
    owner: tuple[str, str] | None = None,
    status_images: Mapping[str, str] | None = None,
    node: str = "node-1",
    phase: str = "Running",
) -> dict[str, Any]:
    """A pod running ``image`` (or several, one container each), owned by ``owner`` (kind, name)."""
    images = [image] if isinstance(image, str) else list(image)
    containers = [{"name": f"c{i}", "image": img} for i, img in enumerate(images)]
    statuses = _container_statuses(containers)
    for status in statuses:
        if status_images and status["name"] in status_images:
            status["image"] = status_images[status["name"]]
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": dict(labels or {})}
    if owner is not None:
        metadata["ownerReferences"] = [
            {"kind": owner[0], "name": owner[1], "uid": f"uid-{_hash(owner[0] + owner[1])}", "controller": True}
        ]
    return {
        "metadata": metadata,
        "spec": {"nodeName": node, "containers": containers},
        "status": {"phase": phase, "containerStatuses": statuses},
    }


def static_pod_doc(component: str, image: str, node: str, *, namespace: str = "kube-system") -> dict[str, Any]:
    """A kubeadm-style static (mirror) pod of a control-plane component on ``node``."""
    doc = pod_doc(
        f"{component}-{node}",
        image,
        namespace=namespace,
        labels={"component": component, "tier": "control-plane"},
        node=node,
    )
    doc["metadata"]["ownerReferences"] = [{"kind": "Node", "name": node, "uid": f"uid-{node}", "controller": True}]
    doc["spec"]["containers"][0]["name"] = component
    doc["status"]["containerStatuses"][0]["name"] = component
    return doc
