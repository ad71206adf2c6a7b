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

from patchlevel.hostscans import NodeScan
from patchlevel.kube import (
    BottlerocketShadow,
    ContainerSpec,
    ContainerStatus,
    DaemonSet,
    MachineConfigPool,
    Node,
    OpenShiftClusterVersion,
    OwnerObject,
    Pod,
    PodDisruptionBudget,
    UpgradePlan,
    VersionInfo,
)
from patchlevel.model import InputFile
from patchlevel.scans import ScanReport
from patchlevel.vuln.vex import VexDocument

# Resource kinds a source may hold; used in ``Inventory.collected`` and ``Inventory.denied``.
VERSION = "version"
NODES = "nodes"
PODS = "pods"
OWNERS = "owners"
CLUSTER_VERSION = "clusterversion"
VULNERABILITY_REPORTS = "vulnerabilityreports"
DISRUPTION_BUDGETS = "poddisruptionbudgets"
DEPRECATED_API_REQUESTS = "apiserver_requested_deprecated_apis"  # the API server's metric, from GET /metrics

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class WrittenObject(msgspec.Struct, frozen=True, gc=False):
    """An object of the input by the apiVersion it was written in: what the planner's API migrations read.

    ``api_version`` is what the object itself says: in a snapshot file, the version the file was
    written in; "" for an item of an API list (the list names the version the collector asked
    for, which proves nothing about use).  ``last_applied`` is the apiVersion of its
    ``kubectl.kubernetes.io/last-applied-configuration``: what ``kubectl apply`` last sent.
    """

    kind: str
    namespace: str
    name: str
    api_version: str
    last_applied: str = ""

    @property
    def as_written(self) -> bool:
        """Whether the input shows how the object was written (its own apiVersion, or a last-applied one)."""
        return bool(self.api_version or self.last_applied)


class DeprecatedApiRequest(msgspec.Struct, frozen=True, gc=False):
    """One series of ``apiserver_requested_deprecated_apis``: a client requested this deprecated API."""

    group: str
    version: str
    resource: str
    subresource: str = ""
    removed_release: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True, slots=True)
class ApiServerMetrics:
    """What the API server's ``/metrics`` said about requests for deprecated APIs.

    The gauge is kept per API server process since it started (``process_start_time_seconds``):
    with several API servers each counts its own clients.  ``from_apiserver`` is True when the
    exposition holds kube-apiserver's own request counter, so an absent series means "not
    requested" rather than "not this kind of server".
    """

    requests: tuple[DeprecatedApiRequest, ...]
    started: datetime | None
    from_apiserver: bool
    source: str = ""


# Node update agents' objects (issue 11) and trivy-operator's node scans.
DAEMONSETS = "daemonsets"
BOTTLEROCKET_SHADOWS = "bottlerocketshadows"
UPGRADE_PLANS = "plans"
MACHINE_CONFIG_POOLS = "machineconfigpools"
NODE_VULNERABILITY_REPORTS = "nodevulnerabilityreports"


@dataclass(frozen=True, slots=True)
class UpdateAgentObjects:
    """The objects node update and reboot agents keep their state in (read by ``patchlevel.agents``).

    Node annotations and labels are on ``Inventory.nodes``; these are the agents' own objects: the
    DaemonSets (kured keeps its reboot lock on its own), Bottlerocket update operator shadows,
    system-upgrade-controller Plans and OpenShift MachineConfigPools.  Whether each kind was read
    is in ``Inventory.collected`` / ``Inventory.denied``.
    """

    daemonsets: tuple[DaemonSet, ...] = ()
    bottlerocket_shadows: tuple[BottlerocketShadow, ...] = ()
    upgrade_plans: tuple[UpgradePlan, ...] = ()
    machine_config_pools: tuple[MachineConfigPool, ...] = ()


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
    # VEX documents given with ``--vex`` (OpenVEX, CycloneDX VEX, CSAF VEX): statements the image
    # checks match to running images.  Each file read is also in ``inputs``.
    vex: tuple[VexDocument, ...] = ()
    # Node update agents' objects (issue 11), and host package evidence: scans and SBOMs of nodes'
    # root filesystems (``--node-scan``, trivy-operator NodeVulnerabilityReports).  A scan no rule
    # placed on a node keeps ``NodeScan.node`` empty (and a warning says so).
    agents: UpdateAgentObjects = field(default_factory=UpdateAgentObjects)
    node_scans: tuple[NodeScan, ...] = ()
    # Issue 13 (the planner, node_drain_possible): PodDisruptionBudgets; every object but pods and
    # nodes by the apiVersion it was written in (pods and nodes exist only as v1); the item kinds
    # of which the input holds whole lists; the API server's deprecated-API request metric.
    disruption_budgets: tuple[PodDisruptionBudget, ...] = ()
    written: tuple[WrittenObject, ...] = ()
    whole_lists: frozenset[str] = frozenset()
    apiserver_metrics: ApiServerMetrics | None = None

    def has(self, kind: str) -> bool:
        return kind in self.collected

    def missing_reason(self, kind: str) -> str:
        """Why a kind of resource is not in the inventory, or why there is none of it (for UNKNOWN findings)."""
        if kind in self.denied:
            return self.denied[kind]
        if kind in self.collected:  # read, but the list was empty
            return f"the {self.source or 'input'} holds no {kind}: its {kind} list is empty"
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
