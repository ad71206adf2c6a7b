"""Deterministic made-up pods, cheap enough to generate 150,000 of on demand.

``synthetic_pod(index)`` has the fields patchlevel reads (node, containers, images, digests,
owner) and little else; for realistic object sizes serve a ``tests/cluster_gen.py`` snapshot.
"""

from __future__ import annotations

import hashlib
from typing import Any


def synthetic_pod(index: int, *, namespaces: int = 20, nodes: int = 50, images: int = 300) -> dict[str, Any]:
    namespace = f"team-{index % namespaces:03d}"
    image_number = (index * 7919) % images
    image = f"registry.example.com/app-{image_number:04d}:1.{image_number % 17}.{image_number % 5}"
    digest = "sha256:" + hashlib.sha256(image.encode()).hexdigest()
    name = f"app-{index:07d}"
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"00000000-0000-4000-8000-{index:012d}",
            "resourceVersion": str(10_000 + index),
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"app": f"app-{image_number:04d}"},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"app-{image_number:04d}-5d8f7c",
                 "uid": f"00000000-0000-4000-9000-{image_number:012d}", "controller": True}
            ],
        },
        "spec": {
            "nodeName": f"node-{index % nodes:04d}",
            "containers": [{"name": "app", "image": image, "imagePullPolicy": "IfNotPresent"}],
        },
        "status": {
            "phase": "Running",
            "startTime": "2026-01-01T00:00:05Z",
            "containerStatuses": [
                {"name": "app", "ready": True, "restartCount": 0, "image": image,
                 "imageID": image.rsplit(":", 1)[0] + "@" + digest,
                 "state": {"running": {"startedAt": "2026-01-01T00:00:05Z"}}}
            ],
        },
    }  # fmt: skip
