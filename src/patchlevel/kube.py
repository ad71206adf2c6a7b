"""A thin typed veneer over the Kubernetes objects patchlevel reads.

Each Struct names only the fields the checks use; msgspec skips everything else while decoding,
so a 150,000-pod list never becomes a tree of dicts.  Field names follow the API (camelCase) so
the same Structs decode kubectl output, API pages and evidence bundles alike.

Real objects are often sparse (a Node without ``nodeInfo``, a Pod without ``status``), so every
field has a default; whether a missing value matters is for the checks to say (as UNKNOWN).
"""

from __future__ import annotations

import msgspec


class OwnerReference(msgspec.Struct, frozen=True, gc=False):
    kind: str = ""
    name: str = ""
    uid: str = ""
    controller: bool | None = None


class ObjectMeta(msgspec.Struct, frozen=True):
    name: str = ""
    namespace: str = ""
    uid: str = ""
    creationTimestamp: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    ownerReferences: tuple[OwnerReference, ...] | None = None
    resourceVersion: str | None = None


class NodeSystemInfo(msgspec.Struct, frozen=True, gc=False):
    kernelVersion: str = ""
    osImage: str = ""
    containerRuntimeVersion: str = ""
    kubeletVersion: str = ""
    kubeProxyVersion: str = ""
    operatingSystem: str = ""
    architecture: str = ""
    bootID: str = ""
    machineID: str = ""


class NodeCondition(msgspec.Struct, frozen=True, gc=False):
    type: str = ""
    status: str = ""
    reason: str | None = None
    message: str | None = None
    lastTransitionTime: str | None = None


class Taint(msgspec.Struct, frozen=True, gc=False):
    key: str = ""
    value: str | None = None
    effect: str = ""


class NodeSpec(msgspec.Struct, frozen=True):
    providerID: str | None = None
    unschedulable: bool | None = None
    taints: tuple[Taint, ...] | None = None


class NodeStatus(msgspec.Struct, frozen=True):
    nodeInfo: NodeSystemInfo | None = None
    conditions: tuple[NodeCondition, ...] | None = None


class Node(msgspec.Struct, frozen=True):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: NodeSpec = msgspec.field(default_factory=NodeSpec)
    status: NodeStatus = msgspec.field(default_factory=NodeStatus)

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def labels(self) -> dict[str, str]:
        return self.metadata.labels or {}

    @property
    def annotations(self) -> dict[str, str]:
        return self.metadata.annotations or {}

    @property
    def info(self) -> NodeSystemInfo:
        return self.status.nodeInfo or _EMPTY_INFO

    def condition(self, kind: str) -> NodeCondition | None:
        return next((c for c in self.status.conditions or () if c.type == kind), None)


_EMPTY_INFO = NodeSystemInfo()


class ContainerSpec(msgspec.Struct, frozen=True, gc=False):
    name: str = ""
    image: str | None = None
    restartPolicy: str | None = None  # "Always" on an init container = native sidecar


class StateDetail(msgspec.Struct, frozen=True, gc=False):
    """One container state; only the fields reports use (not dicts: pods are many)."""

    startedAt: str | None = None
    finishedAt: str | None = None
    reason: str | None = None
    exitCode: int | None = None


class ContainerState(msgspec.Struct, frozen=True, gc=False):
    running: StateDetail | None = None
    waiting: StateDetail | None = None
    terminated: StateDetail | None = None


class ContainerStatus(msgspec.Struct, frozen=True, gc=False):
    name: str = ""
    image: str = ""
    imageID: str = ""
    state: ContainerState | None = None


class PodSpec(msgspec.Struct, frozen=True):
    nodeName: str | None = None
    containers: tuple[ContainerSpec, ...] = ()
    initContainers: tuple[ContainerSpec, ...] | None = None
    ephemeralContainers: tuple[ContainerSpec, ...] | None = None


class PodStatus(msgspec.Struct, frozen=True):
    phase: str | None = None
    startTime: str | None = None
    containerStatuses: tuple[ContainerStatus, ...] | None = None
    initContainerStatuses: tuple[ContainerStatus, ...] | None = None
    ephemeralContainerStatuses: tuple[ContainerStatus, ...] | None = None


class PodMeta(msgspec.Struct, frozen=True):
    """Pod metadata without annotations: pods are many, and nothing reads their annotations."""

    name: str = ""
    namespace: str = ""
    uid: str = ""
    creationTimestamp: str | None = None
    labels: dict[str, str] | None = None
    ownerReferences: tuple[OwnerReference, ...] | None = None


class Pod(msgspec.Struct, frozen=True):
    metadata: PodMeta = msgspec.field(default_factory=PodMeta)
    spec: PodSpec = msgspec.field(default_factory=PodSpec)
    status: PodStatus = msgspec.field(default_factory=PodStatus)

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def namespace(self) -> str:
        return self.metadata.namespace

    @property
    def node_name(self) -> str:
        return self.spec.nodeName or ""


class OwnerObject(msgspec.Struct, frozen=True):
    """A ReplicaSet, Job, Deployment, StatefulSet, DaemonSet or CronJob: only who owns it."""

    kind: str = ""
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)


class VersionInfo(msgspec.Struct, frozen=True):
    """The body of ``GET /version`` (or ``serverVersion`` inside ``kubectl version -o json``)."""

    gitVersion: str = ""
    major: str = ""
    minor: str = ""
    gitCommit: str = ""
    buildDate: str = ""
    platform: str = ""


class ClusterVersionHistory(msgspec.Struct, frozen=True):
    state: str = ""
    version: str = ""
    completionTime: str | None = None


class ClusterVersionDesired(msgspec.Struct, frozen=True):
    version: str = ""


class ClusterVersionStatus(msgspec.Struct, frozen=True):
    desired: ClusterVersionDesired | None = None
    history: tuple[ClusterVersionHistory, ...] | None = None


class OpenShiftClusterVersion(msgspec.Struct, frozen=True):
    """OpenShift's ``ClusterVersion`` (config.openshift.io/v1): the OCP release the cluster runs."""

    status: ClusterVersionStatus = msgspec.field(default_factory=ClusterVersionStatus)
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)

    @property
    def current(self) -> str:
        """The newest completed OCP version, else the desired one, else ""."""
        for entry in self.status.history or ():
            if entry.state == "Completed" and entry.version:
                return entry.version
        return self.status.desired.version if self.status.desired else ""
