"""A thin typed veneer over the Kubernetes objects patchlevel reads.

Each Struct names only the fields the checks use; msgspec skips everything else while decoding,
so a 150,000-pod list never becomes a tree of dicts.  Field names follow the API (camelCase) so
the same Structs decode kubectl output, API pages and evidence bundles alike.

The Structs a cluster has many of (pods, nodes, their metadata, workload owners) are ``gc=False``:
decoded objects cannot form reference cycles, and untracked ones cost the cyclic garbage collector
nothing (with the collector on, as in a library caller or ``serve``, 150,000 pods decode in about
half the time).

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


class ObjectMeta(msgspec.Struct, frozen=True, gc=False):
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
    lastTransitionTime: str | None = None


class Taint(msgspec.Struct, frozen=True, gc=False):
    key: str = ""
    value: str | None = None
    effect: str = ""


class NodeSpec(msgspec.Struct, frozen=True, gc=False):
    providerID: str | None = None
    taints: tuple[Taint, ...] | None = None


class NodeStatus(msgspec.Struct, frozen=True, gc=False):
    nodeInfo: NodeSystemInfo | None = None
    conditions: tuple[NodeCondition, ...] | None = None


class Node(msgspec.Struct, frozen=True, gc=False):
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


class ContainerStatus(msgspec.Struct, frozen=True, gc=False):
    name: str = ""
    image: str = ""
    imageID: str = ""


class PodSpec(msgspec.Struct, frozen=True, gc=False):
    nodeName: str | None = None
    containers: tuple[ContainerSpec, ...] = ()
    initContainers: tuple[ContainerSpec, ...] | None = None
    ephemeralContainers: tuple[ContainerSpec, ...] | None = None


class PodStatus(msgspec.Struct, frozen=True, gc=False):
    phase: str | None = None
    containerStatuses: tuple[ContainerStatus, ...] | None = None
    initContainerStatuses: tuple[ContainerStatus, ...] | None = None
    ephemeralContainerStatuses: tuple[ContainerStatus, ...] | None = None


class PodMeta(msgspec.Struct, frozen=True, gc=False):
    """Pod metadata without annotations or timestamps: pods are many, and nothing reads those."""

    name: str = ""
    namespace: str = ""
    uid: str = ""  # read only to tell two clusters' copies of a pod apart (collect.assemble)
    labels: dict[str, str] | None = None
    ownerReferences: tuple[OwnerReference, ...] | None = None


class Pod(msgspec.Struct, frozen=True, gc=False):
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


class OwnerObject(msgspec.Struct, frozen=True, gc=False):
    """A ReplicaSet, Job, Deployment, StatefulSet, DaemonSet or CronJob: only who owns it."""

    kind: str = ""
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)


class VersionInfo(msgspec.Struct, frozen=True):
    """The body of ``GET /version`` (or ``serverVersion`` inside ``kubectl version -o json``)."""

    gitVersion: str = ""
    platform: str = ""


class ClusterVersionHistory(msgspec.Struct, frozen=True):
    state: str = ""
    version: str = ""


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


# ------------------------------------------------------------------------------------------
# Node update and reboot agents (issue 11): the objects whose state ``patchlevel.agents`` reads.


class LabelSelectorRequirement(msgspec.Struct, frozen=True, gc=False):
    key: str = ""
    operator: str = ""  # In, NotIn, Exists, DoesNotExist
    values: tuple[str, ...] | None = None


class LabelSelector(msgspec.Struct, frozen=True):
    """A Kubernetes label selector (``matchLabels`` and ``matchExpressions``, ANDed)."""

    matchLabels: dict[str, str] | None = None
    matchExpressions: tuple[LabelSelectorRequirement, ...] | None = None

    def matches(self, labels: dict[str, str]) -> bool | None:
        """Whether ``labels`` match; None for an operator the API does not define (the match is unknown)."""
        for key, value in (self.matchLabels or {}).items():
            if labels.get(key) != value:
                return False
        for requirement in self.matchExpressions or ():
            present = requirement.key in labels
            values = requirement.values or ()
            if requirement.operator == "In":
                ok = present and labels[requirement.key] in values
            elif requirement.operator == "NotIn":
                ok = not present or labels[requirement.key] not in values
            elif requirement.operator == "Exists":
                ok = present
            elif requirement.operator == "DoesNotExist":
                ok = not present
            else:
                return None
            if not ok:
                return False
        return True


class EnvVar(msgspec.Struct, frozen=True, gc=False):
    name: str = ""
    value: str | None = None  # values from secrets or config maps (valueFrom) are not read


class TemplateContainer(msgspec.Struct, frozen=True, gc=False):
    """A container of a workload's pod template: how it is started (an agent's flags live here)."""

    name: str = ""
    image: str | None = None
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    env: tuple[EnvVar, ...] | None = None


class TemplatePodSpec(msgspec.Struct, frozen=True):
    containers: tuple[TemplateContainer, ...] = ()


class PodTemplate(msgspec.Struct, frozen=True):
    spec: TemplatePodSpec = msgspec.field(default_factory=TemplatePodSpec)


class DaemonSetSpec(msgspec.Struct, frozen=True):
    template: PodTemplate = msgspec.field(default_factory=PodTemplate)


class DaemonSet(msgspec.Struct, frozen=True):
    """A DaemonSet: its annotations (kured keeps its reboot lock there) and its containers' flags."""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: DaemonSetSpec = msgspec.field(default_factory=DaemonSetSpec)


class Condition(msgspec.Struct, frozen=True, gc=False):
    """A status condition of a custom resource (``lastUpdateTime`` is what some controllers set instead)."""

    type: str = ""
    status: str = ""
    reason: str | None = None
    message: str | None = None
    lastTransitionTime: str | None = None
    lastUpdateTime: str | None = None


class BottlerocketShadowSpec(msgspec.Struct, frozen=True):
    state: str = ""
    state_transition_timestamp: str | None = None
    version: str | None = None


class BottlerocketShadowStatus(msgspec.Struct, frozen=True):
    current_state: str = ""
    current_version: str = ""
    target_version: str = ""
    crash_count: int | None = None
    state_transition_failure_timestamp: str | None = None


class BottlerocketShadow(msgspec.Struct, frozen=True):
    """The Bottlerocket update operator's per-node record (brupop.bottlerocket.aws), named ``brs-<node>``."""

    apiVersion: str = ""
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: BottlerocketShadowSpec = msgspec.field(default_factory=BottlerocketShadowSpec)
    status: BottlerocketShadowStatus | None = None


class UpgradePlanSpec(msgspec.Struct, frozen=True):
    version: str | None = None
    channel: str | None = None
    nodeSelector: LabelSelector | None = None
    concurrency: int | None = None


class UpgradePlanStatus(msgspec.Struct, frozen=True):
    conditions: tuple[Condition, ...] | None = None
    latestVersion: str | None = None
    latestHash: str | None = None
    applying: tuple[str, ...] | None = None


class UpgradePlan(msgspec.Struct, frozen=True):
    """A Rancher system-upgrade-controller ``Plan`` (upgrade.cattle.io/v1)."""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: UpgradePlanSpec = msgspec.field(default_factory=UpgradePlanSpec)
    status: UpgradePlanStatus = msgspec.field(default_factory=UpgradePlanStatus)


class NamedReference(msgspec.Struct, frozen=True, gc=False):
    name: str = ""


class MachineConfigPoolSpec(msgspec.Struct, frozen=True):
    nodeSelector: LabelSelector | None = None
    paused: bool | None = None
    configuration: NamedReference | None = None
    # How many of the pool's nodes the operator updates at once: a count or a percentage ("10%"), as
    # written; None when unset (the operator's default, 1).  Read by the planner (issue 13).
    maxUnavailable: int | str | None = None


class MachineConfigPoolStatus(msgspec.Struct, frozen=True):
    conditions: tuple[Condition, ...] | None = None
    configuration: NamedReference | None = None
    machineCount: int | None = None
    updatedMachineCount: int | None = None
    readyMachineCount: int | None = None
    unavailableMachineCount: int | None = None
    degradedMachineCount: int | None = None


class MachineConfigPool(msgspec.Struct, frozen=True):
    """An OpenShift ``MachineConfigPool`` (machineconfiguration.openshift.io/v1)."""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: MachineConfigPoolSpec = msgspec.field(default_factory=MachineConfigPoolSpec)
    status: MachineConfigPoolStatus = msgspec.field(default_factory=MachineConfigPoolStatus)

    def condition(self, kind: str) -> Condition | None:
        return next((c for c in self.status.conditions or () if c.type == kind), None)


# ------------------------------------------------------------------------------------------
# PodDisruptionBudgets (issue 13): what a node drain may evict, for ``patchlevel.drain``.


class PodDisruptionBudgetSpec(msgspec.Struct, frozen=True):
    minAvailable: int | str | None = None  # an int or a percentage ("50%"), as written
    maxUnavailable: int | str | None = None
    selector: LabelSelector | None = None


class PodDisruptionBudgetStatus(msgspec.Struct, frozen=True):
    disruptionsAllowed: int | None = None
    currentHealthy: int | None = None
    desiredHealthy: int | None = None
    expectedPods: int | None = None


class PodDisruptionBudget(msgspec.Struct, frozen=True):
    """A PodDisruptionBudget (policy/v1, or the removed policy/v1beta1 as a manifest writes it).

    ``apiVersion`` is what the object says ("" for items of an API list, which name it once);
    ``status`` is None when the input holds the manifest only (no disruption controller wrote it).
    """

    apiVersion: str = ""
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PodDisruptionBudgetSpec = msgspec.field(default_factory=PodDisruptionBudgetSpec)
    status: PodDisruptionBudgetStatus | None = None
