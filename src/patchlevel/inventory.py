"""The one typed Inventory every collector produces and every check reads.

A collector (snapshot files, a live cluster, an evidence bundle) decodes Kubernetes objects into
the Structs of ``patchlevel.kube`` and hands them here.  ``collected`` records which resource
kinds the source actually contained, so a check can tell "the cluster has no kube-proxy pods"
from "pods were not collected" (the second is UNKNOWN, never PASS).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from patchlevel.kube import (
    ContainerSpec,
    ContainerStatus,
    Node,
    OpenShiftClusterVersion,
    OwnerObject,
    Pod,
    VersionInfo,
)
from patchlevel.model import InputFile
from patchlevel.scans import ScanReport

# Resource kinds a source may hold; used in ``Inventory.collected`` and ``Inventory.denied``.
VERSION = "version"
NODES = "nodes"
PODS = "pods"
OWNERS = "owners"
CLUSTER_VERSION = "clusterversion"
VULNERABILITY_REPORTS = "vulnerabilityreports"


@dataclass(frozen=True, slots=True)
class Inventory:
    version: VersionInfo | None
    nodes: tuple[Node, ...]
    pods: tuple[Pod, ...]
    owners: Mapping[str, OwnerObject] = field(default_factory=dict)  # by uid
    openshift: OpenShiftClusterVersion | None = None
    scans: tuple[ScanReport, ...] = ()
    inputs: tuple[InputFile, ...] = ()
    collected: frozenset[str] = frozenset()
    denied: Mapping[str, str] = field(default_factory=dict)  # resource kind -> why it is missing
    source: str = ""  # "snapshot", "live", "bundle"
    name: str = ""  # cluster or context name, "" when unknown
    server: str = ""
    collected_at: datetime | None = None
    warnings: tuple[str, ...] = ()
    evidence_digest: str = ""
    cluster_uid: str = ""  # the kube-system namespace's UID: the cluster's stable identity ("" when not in the input)

    def has(self, kind: str) -> bool:
        return kind in self.collected

    def missing_reason(self, kind: str) -> str:
        """Why a kind of resource is not in the inventory (for UNKNOWN findings)."""
        if kind in self.denied:
            return self.denied[kind]
        return f"the {self.source or 'input'} holds no {kind}"


CONTAINER = "container"
INIT = "init"
SIDECAR = "sidecar"  # init container with restartPolicy Always: keeps running
EPHEMERAL = "ephemeral"


class PodContainer(msgspec.Struct, frozen=True, gc=False):
    """One container of a pod: its spec reference and, when the pod reported it, what runs.

    A Struct rather than a dataclass: a big cluster has hundreds of thousands of containers, and
    Structs are built several times faster.
    """

    kind: str  # CONTAINER, INIT, SIDECAR, EPHEMERAL
    name: str
    image: str  # reference as written in the spec ("" when the spec has none)
    status_image: str  # image as the kubelet reports it ("" when no status)
    image_id: str  # status imageID, raw ("" when unknown)


def pod_containers(pod: Pod) -> Iterator[PodContainer]:
    """Every container, init container and ephemeral container of a pod, matched to its status by name."""
    sections: tuple[tuple[tuple[ContainerSpec, ...] | None, tuple[ContainerStatus, ...] | None, str], ...] = (
        (pod.spec.containers, pod.status.containerStatuses, CONTAINER),
        (pod.spec.initContainers, pod.status.initContainerStatuses, INIT),
        (pod.spec.ephemeralContainers, pod.status.ephemeralContainerStatuses, EPHEMERAL),
    )
    for specs, statuses, kind in sections:
        by_name = {s.name: s for s in statuses or ()}
        for spec in specs or ():
            status = by_name.get(spec.name)
            actual_kind = SIDECAR if kind == INIT and spec.restartPolicy == "Always" else kind
            yield PodContainer(
                kind=actual_kind,
                name=spec.name,
                image=spec.image or "",
                status_image=status.image if status else "",
                image_id=status.imageID if status else "",
            )
