"""The data a test API server serves: ``/version`` plus the objects of each resource.

``Cluster(objects={"nodes": [...], "pods": Generated(make_pod, 150_000)})`` serves those and
an empty list for every other built-in resource.  A custom resource (trivy-operator's reports,
the node update agents' objects) is served only when its plural is among the objects (an empty
list is enough), e.g. ``"vulnerabilityreports"``; otherwise its paths answer 404 (and a group with
nothing served is absent from discovery), as on a cluster without the operator.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .metrics import apiserver_exposition
from .resources import BY_PLURAL, RESOURCES, ResourceType
from .store import ObjectSource, SpooledStore, spool_list_file

# A made-up but well-formed /version answer, used when a test does not care.
DEFAULT_VERSION: Mapping[str, str] = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-08-13T07:28:49Z",
    "goVersion": "go1.22.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}


@dataclass(frozen=True)
class Cluster:
    objects: Mapping[str, ObjectSource] = field(default_factory=dict)
    version: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_VERSION))
    resource_version: int = 1000  # reported as the lists' metadata.resourceVersion
    # The body of GET /metrics (Prometheus text): by default a kube-apiserver's with no deprecated API
    # requested (see ``metrics.apiserver_exposition``); None answers 404.
    metrics: str | None = field(default_factory=apiserver_exposition)

    def __post_init__(self) -> None:
        for plural in self.objects:
            resource = BY_PLURAL.get(plural)
            if resource is None or not resource.listable:
                listable = sorted(r.plural for r in RESOURCES if r.listable)
                raise ValueError(f"cannot serve objects of {plural!r}; known resources: {listable}")

    @property
    def trivy_operator(self) -> bool:
        return "vulnerabilityreports" in self.objects

    @property
    def minor(self) -> int | None:
        match = re.match(r"v?1\.(\d+)", str(self.version.get("gitVersion", "")))
        return int(match[1]) if match else None

    def served(self) -> tuple[ResourceType, ...]:
        """Every resource the server knows about at its minor, the CRD only when installed."""
        minor = self.minor
        return tuple(
            r
            for r in RESOURCES
            if (not r.custom or r.plural in self.objects)  # a CRD is served only when installed
            and (minor is None or r.since_minor is None or minor >= r.since_minor)
            and (minor is None or r.removed_in_minor is None or minor < r.removed_in_minor)
        )


def namespace_object(name: str, created: str = "2024-01-01T00:00:00Z") -> dict[str, Any]:
    """A Namespace as the API returns it (the uid is derived from the name, so it is stable)."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.namespace.kubeapi.test")),
            "resourceVersion": "1",
            "creationTimestamp": created,
            "labels": {"kubernetes.io/metadata.name": name},
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def namespaces_of(objects: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Namespace objects for every namespace the given objects live in, sorted by name."""
    names = {(o.get("metadata") or {}).get("namespace") for o in objects}
    return [namespace_object(n) for n in sorted(n for n in names if isinstance(n, str) and n)]


def load_snapshot(directory: str | Path) -> Cluster:
    """Serve a snapshot directory, as written by ``tests/cluster_gen.py`` or by hand.

    ``version.json`` is the ``/version`` body; ``<plural>.json`` (``nodes.json``,
    ``pods.json``, ``replicasets.json``, ``vulnerabilityreports.json`` …) are List
    documents, spooled to disk rather than held in memory.  Without ``namespaces.json`` the
    namespaces are those the namespaced objects live in.  ``metrics.txt`` is the body of
    ``GET /metrics`` (default: a kube-apiserver's exposition with no deprecated API requested).
    """
    root = Path(directory)
    if not root.is_dir():
        raise ValueError(f"{root}: not a directory")
    version_file = root / "version.json"
    version = json.loads(version_file.read_text(encoding="utf-8")) if version_file.exists() else DEFAULT_VERSION
    objects: dict[str, ObjectSource] = {}
    for resource in RESOURCES:
        path = root / f"{resource.plural}.json"
        if resource.listable and path.is_file() and resource.plural not in objects:  # one store for all versions
            objects[resource.plural] = spool_list_file(path, resource)
    if "namespaces" not in objects:
        used: set[str] = set()
        for store in objects.values():
            if isinstance(store, SpooledStore):
                used |= store.namespaces()
        objects["namespaces"] = [namespace_object(n) for n in sorted(used)]
    metrics_file = root / "metrics.txt"
    metrics = metrics_file.read_text(encoding="utf-8") if metrics_file.is_file() else apiserver_exposition()
    return Cluster(objects=objects, version=version, metrics=metrics)
