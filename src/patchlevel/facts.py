"""What the cluster is: its distribution, node pools and node images, derived once from the inventory.

Distribution decides which support calendar applies (upstream Kubernetes, EKS, GKE, AKS,
OpenShift, k3s, RKE2) and who patches the control plane.  The evidence for each decision is
kept so reports can say *why* a cluster was taken for EKS.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from patchlevel import inventory as inv
from patchlevel.addons import AddonInventory, recognise_addons
from patchlevel.images import ImageInventory, Workload, pod_workloads, running_images
from patchlevel.inventory import Inventory, pod_containers
from patchlevel.kube import Node, Pod
from patchlevel.timestamps import timestamp
from patchlevel.versions import (
    KernelVersion,
    KubeVersion,
    OsRelease,
    RuntimeVersion,
    kube_version_from_image,
    parse_kernel,
    parse_kube_version,
    parse_os_image,
    parse_runtime,
)


@dataclass(frozen=True, slots=True)
class Distribution:
    id: str  # upstream, eks, gke, aks, openshift, k3s, rke2, unknown
    label: str
    lifecycle_product: str  # endoflife.date product whose calendar applies
    provider_patches_control_plane: bool
    evidence: str
    self_managed: bool = False  # the cluster shows its own control plane (control-plane nodes, installer keys)


DISTRIBUTIONS: Mapping[str, tuple[str, str, bool]] = {
    "upstream": ("Kubernetes (upstream)", "kubernetes", False),
    "eks": ("Amazon EKS", "amazon-eks", True),
    "gke": ("Google Kubernetes Engine", "google-kubernetes-engine", True),
    "aks": ("Azure Kubernetes Service", "azure-kubernetes-service", True),
    "openshift": ("Red Hat OpenShift", "red-hat-openshift", False),
    # k3s and RKE2 ship the upstream Kubernetes release they are named after and have no lifecycle
    # source of their own: patchlevel judges them by the upstream calendar (documented rule).
    "k3s": ("k3s", "kubernetes", False),
    "rke2": ("RKE2", "kubernetes", False),
    "unknown": ("unknown", "kubernetes", False),
}

_VENDOR_TO_DISTRIBUTION = {
    "eks": "eks",
    "gke": "gke",
    "k3s": "k3s",
    "rke2": "rke2",
    "openshift": "openshift",
    "aks-hotfix": "aks",
}

# Node label prefixes (or exact labels) that only a distribution sets.
_LABEL_SIGNS: tuple[tuple[str, str], ...] = (
    ("eks.amazonaws.com/", "eks"),
    ("cloud.google.com/gke-", "gke"),
    ("kubernetes.azure.com/", "aks"),
    ("node.openshift.io/", "openshift"),
    ("machineconfiguration.openshift.io/", "openshift"),
)
# Managed services run the control plane outside the cluster: their nodes are never control-plane
# nodes, and their node images are not bootstrapped by kubeadm or kops.
_MANAGED = frozenset({"eks", "gke", "aks"})
_CONTROL_PLANE_LABELS: tuple[tuple[str, str | None], ...] = (
    ("node-role.kubernetes.io/control-plane", None),
    ("node-role.kubernetes.io/master", None),
    ("kubernetes.io/role", "master"),
    ("kubernetes.azure.com/role", "master"),  # aks-engine / capz-style Azure VMs
)
# Keys (label or annotation prefixes) that self-managed installers put on nodes, and their names.
_SELF_MANAGED_KEYS: tuple[tuple[str, str], ...] = (
    ("kubeadm.alpha.kubernetes.io/", "kubeadm"),
    ("kops.k8s.io/", "kops"),
    ("aks-engine.", "aks-engine"),
)


def _make(dist_id: str, evidence: str, self_managed: bool = False) -> Distribution:
    label, product, provider = DISTRIBUTIONS[dist_id]
    return Distribution(dist_id, label, product, provider, evidence, self_managed)


def self_managed_evidence(nodes: tuple[Node, ...]) -> str:
    """Why the cluster runs its own control plane (visible control-plane nodes, installer labels), or ""."""
    control_plane: Counter[str] = Counter()
    installers: Counter[str] = Counter()
    for node in nodes:
        labels = node.labels
        for key, value in _CONTROL_PLANE_LABELS:
            if key in labels and (value is None or labels[key] == value):
                control_plane[f"{key}={value}" if value else key] += 1
                break
        keys = (*labels, *node.annotations)
        for prefix, tool in _SELF_MANAGED_KEYS:
            if any(k.startswith(prefix) for k in keys):
                installers[tool] += 1
    parts = []
    if control_plane:
        signs = ", ".join(sorted(control_plane))
        parts.append(f"{sum(control_plane.values())} control-plane node(s) are visible ({signs})")
    if installers:
        parts.append(
            "nodes carry " + ", ".join(f"{tool} keys on {n} node(s)" for tool, n in sorted(installers.items()))
        )
    return "; ".join(parts)


def _self_managed(claimed: str, evidence: str, by: str) -> Distribution:
    """A cluster that looks like a managed service by ``by`` but runs its own control plane."""
    label = DISTRIBUTIONS[claimed][0]
    return _make(
        "upstream",
        f"self-managed Kubernetes, not {label}: {evidence}, and a managed control plane is never part of "
        f"the cluster; {by} is taken for the cloud or build it runs on; judged by the upstream calendar",
        self_managed=True,
    )


def detect_distribution(api: KubeVersion | None, inventory: Inventory) -> Distribution:
    """Recognise the distribution from the API server version, ClusterVersion and node labels.

    A cluster that carries a managed service's marks (an EKS Distro build, AKS or GKE node labels)
    but shows its own control plane (control-plane nodes, kubeadm or kops keys) is self-managed on
    that cloud (kops, kubeadm, aks-engine, Cluster API with its own control plane): it is judged by
    the upstream calendar, and the evidence says what decided it.
    """
    own = self_managed_evidence(inventory.nodes)
    if api is not None and api.vendor in _VENDOR_TO_DISTRIBUTION:
        dist = _VENDOR_TO_DISTRIBUTION[api.vendor]
        if dist in _MANAGED and own:
            return _self_managed(dist, own, f"the API server version {api.raw}")
        return _make(dist, f"API server version {api.raw}")
    if inventory.openshift is not None:
        return _make("openshift", "an OpenShift ClusterVersion object is in the input")
    signs: Counter[str] = Counter()
    for node in inventory.nodes:
        keys = [*node.labels, *node.annotations]
        for prefix, dist in _LABEL_SIGNS:
            if any(k.startswith(prefix) for k in keys):
                signs[dist] += 1
                break
        else:
            provider = node.spec.providerID or ""
            if provider.startswith("k3s://") or any(k.startswith("k3s.io/") for k in keys):
                signs["k3s"] += 1
            elif any(k.startswith("rke2.io/") for k in keys):
                signs["rke2"] += 1
    if signs:
        dist, count = signs.most_common(1)[0]
        if dist in _MANAGED and own:
            return _self_managed(dist, own, f"{count} node(s) with {DISTRIBUTIONS[dist][0]} labels")
        return _make(dist, f"{count} node(s) carry {DISTRIBUTIONS[dist][0]} labels")
    vendors = Counter(
        k.vendor for k in (parse_kube_version(n.info.kubeletVersion) for n in inventory.nodes) if k and k.vendor
    )
    for vendor, count in vendors.most_common():
        if vendor in _VENDOR_TO_DISTRIBUTION:
            dist = _VENDOR_TO_DISTRIBUTION[vendor]
            if dist in _MANAGED and own:
                return _self_managed(dist, own, f"{count} kubelet version(s) naming {vendor}")
            return _make(dist, f"{count} kubelet version(s) name {vendor}")
    if api is not None:
        if api.vendor:
            return _make("unknown", f"API server version {api.raw} carries a vendor build patchlevel does not know")
        return _make(
            "upstream",
            f"API server version {api.raw} has no vendor suffix and nodes carry no distribution labels"
            + (f"; self-managed: {own}" if own else ""),
            self_managed=bool(own),
        )
    if inventory.nodes:
        return _make(
            "upstream",
            "kubelet versions have no vendor suffix and nodes carry no distribution labels"
            + (f"; self-managed: {own}" if own else ""),
            self_managed=bool(own),
        )
    return _make("unknown", "no API server version and no nodes in the input")


# OpenShift 4.N ships Kubernetes 1.(N+13) from OpenShift 4.4 / Kubernetes 1.17 on (4.1=1.13,
# 4.2=1.14, 4.3=1.16); patchlevel uses this to name the OpenShift release of a cluster whose
# ClusterVersion is not in the input.
def openshift_release_for_kube_minor(minor: int) -> str | None:
    if minor >= 17:
        return f"4.{minor - 13}"
    return {13: "4.1", 14: "4.2", 16: "4.3"}.get(minor)


@dataclass(frozen=True, slots=True)
class NodeFacts:
    """A node's version strings, parsed once."""

    node: Node
    kubelet: KubeVersion | None
    runtime: RuntimeVersion | None
    os: OsRelease
    kernel: KernelVersion | None
    kube_proxy: KubeVersion | None  # from a kube-proxy pod on the node
    kube_proxy_source: str  # "pod <ns>/<name> image <image>" or why it is unknown
    pool: str  # "label=value" of the node's pool, or "" when no pool label is set
    distribution: Distribution  # the node's own (kubelet suffix, labels), else the cluster's

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def subject(self) -> str:
        return f"node/{self.node.name}"


POOL_LABELS = (
    "eks.amazonaws.com/nodegroup",
    "alpha.eksctl.io/nodegroup-name",
    "karpenter.sh/nodepool",
    "karpenter.sh/provisioner-name",
    "cloud.google.com/gke-nodepool",
    "kubernetes.azure.com/agentpool",
    "agentpool",
    "node.kubernetes.io/pool",
)
_OPENSHIFT_ROLES = (
    "node-role.kubernetes.io/master",
    "node-role.kubernetes.io/control-plane",
    "node-role.kubernetes.io/worker",
)


def node_pool(node: Node) -> str:
    labels = node.labels
    for key in POOL_LABELS:
        if labels.get(key):
            return f"{key}={labels[key]}"
    if labels.get("node.openshift.io/os_id") or any(
        k.startswith("machineconfiguration.openshift.io/") for k in node.annotations
    ):
        for key in _OPENSHIFT_ROLES:
            if key in labels:
                return key  # a MachineConfigPool follows the node role
    return ""


def _is_kube_proxy(pod_name: str, namespace: str, container: str, image: str) -> bool:
    repo = image.split("@", 1)[0].rsplit(":", 1)[0] if ":" in image.split("/")[-1] else image.split("@", 1)[0]
    return (
        repo.endswith("/kube-proxy")
        or repo == "kube-proxy"
        or (namespace == "kube-system" and container == "kube-proxy" and pod_name.startswith("kube-proxy"))
    )


def _may_run_kube_proxy(pod: Pod) -> bool:
    for container in pod.spec.containers:
        if container.name == "kube-proxy" or "kube-proxy" in (container.image or ""):
            return True
    return False


def kube_proxy_versions(inventory: Inventory) -> dict[str, tuple[KubeVersion | None, str]]:
    """Per node name: the kube-proxy version read from its pod's image tag, with the source."""
    found: dict[str, tuple[KubeVersion | None, str]] = {}
    for pod in inventory.pods:
        if not pod.node_name or not _may_run_kube_proxy(pod):
            continue
        for c in pod_containers(pod):
            image = c.image or c.status_image
            if image and _is_kube_proxy(pod.name, pod.namespace, c.name, image):
                version = kube_version_from_image(image)
                where = f"pod {pod.namespace}/{pod.name} image {image}"
                if version is None and c.status_image and c.status_image != image:
                    version = kube_version_from_image(c.status_image)
                found[pod.node_name] = (version, where)
    return found


def _node_distribution(node: Node, kubelet: KubeVersion | None, cluster: Distribution) -> Distribution:
    """The node's own distribution (kubelet suffix, labels), else the cluster's.

    In a self-managed cluster a node's managed-service marks (AKS labels on aks-engine VMs, an EKS
    Distro kubelet) are the cloud it runs on, not the distribution: the node keeps the cluster's.
    """
    self_managed = cluster.self_managed
    if kubelet is not None and kubelet.vendor in _VENDOR_TO_DISTRIBUTION:
        dist = _VENDOR_TO_DISTRIBUTION[kubelet.vendor]
        if dist == cluster.id or (self_managed and dist in _MANAGED):
            return cluster
        return _make(dist, f"kubelet version {kubelet.raw}")
    keys = [*node.labels, *node.annotations]
    for prefix, dist in _LABEL_SIGNS:
        if any(k.startswith(prefix) for k in keys):
            if dist == cluster.id or (self_managed and dist in _MANAGED):
                return cluster
            return _make(dist, f"node labels {prefix}*")
    return cluster


def node_facts(inventory: Inventory, cluster: Distribution) -> tuple[NodeFacts, ...]:
    proxies = kube_proxy_versions(inventory) if inventory.has(inv.PODS) else {}
    facts = []
    for node in inventory.nodes:
        info = node.info
        proxy, proxy_source = proxies.get(node.name, (None, ""))
        if not proxy_source:
            proxy_source = (
                "no kube-proxy pod runs on this node in the input"
                if inventory.has(inv.PODS)
                else f"kube-proxy pods are not in the input ({inventory.missing_reason(inv.PODS)})"
            )
        kubelet = parse_kube_version(info.kubeletVersion)
        facts.append(
            NodeFacts(
                node=node,
                kubelet=kubelet,
                runtime=parse_runtime(info.containerRuntimeVersion),
                os=parse_os_image(info.osImage, info.operatingSystem or "linux", info.kernelVersion),
                kernel=parse_kernel(info.kernelVersion),
                kube_proxy=proxy,
                kube_proxy_source=proxy_source,
                pool=node_pool(node),
                distribution=_node_distribution(node, kubelet, cluster),
            )
        )
    return tuple(facts)


# ------------------------------------------------------------------------------------------
# Node images: how old is the image a node booted from, where the platform says


@dataclass(frozen=True, slots=True)
class NodeImage:
    built: date | None
    source: str  # what the date was read from
    name: str = ""  # image name/version where known


_AKS_IMAGE = re.compile(r"(\d{4})(\d{2})\.(\d{2})\.\d+$")
_AKS_IMAGE_OLD = re.compile(r"(\d{4})\.(\d{2})\.(\d{2})$")


def node_image(facts: NodeFacts) -> NodeImage:
    labels = facts.node.labels
    aks = labels.get("kubernetes.azure.com/node-image-version")
    if aks:
        m = _AKS_IMAGE.search(aks) or _AKS_IMAGE_OLD.search(aks)
        if m:
            try:
                return NodeImage(
                    date(int(m[1]), int(m[2]), int(m[3])),
                    "label kubernetes.azure.com/node-image-version",
                    aks,
                )
            except ValueError:
                pass
        return NodeImage(None, "label kubernetes.azure.com/node-image-version (no date in it)", aks)
    if facts.os.build_date is not None:
        return NodeImage(facts.os.build_date, f"osImage '{facts.os.raw}'", facts.os.version)
    return NodeImage(None, "")


def parse_timestamp(text: str | None) -> datetime | None:
    """A Kubernetes or agent timestamp in UTC (so ``.date()`` is the UTC day), or None when it is not one."""
    return timestamp(text) if text else None


@dataclass(frozen=True, slots=True)
class ClusterFacts:
    """Everything derived once from an inventory before the checks run."""

    api: KubeVersion | None
    distribution: Distribution
    nodes: tuple[NodeFacts, ...]
    openshift_release: str | None  # "4.7.16" from ClusterVersion, or None
    images: ImageInventory  # every running image, deduplicated by digest
    addons: AddonInventory = field(default_factory=AddonInventory)  # recognised add-ons, static control plane
    # The workload of each pod, in the order of ``Inventory.pods`` (``drain.disruption_of`` takes it).
    workloads: tuple[Workload, ...] = ()


def derive_facts(inventory: Inventory) -> ClusterFacts:
    api = parse_kube_version(inventory.version.gitVersion) if inventory.version else None
    distribution = detect_distribution(api, inventory)
    openshift_release = inventory.openshift.current if inventory.openshift else None
    workloads = pod_workloads(inventory.pods, inventory.owners)
    return ClusterFacts(
        api,
        distribution,
        node_facts(inventory, distribution),
        openshift_release or None,
        running_images(inventory, workloads),
        addons=recognise_addons(inventory, distribution.id, workloads=workloads),
        workloads=workloads,
    )
