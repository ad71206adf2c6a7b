"""Assemble decoded documents from any source into one Inventory.

Snapshot files, bundle files and live API pages are all fed through ``InventoryBuilder.add``;
it de-duplicates objects seen twice, refuses to mix two clusters, and records which resource
kinds the source held so checks can tell "none in the cluster" from "not collected".

Duplicates: an object (node, pod, workload owner, ClusterVersion) given twice with the same
content is kept once (a warning counts them).  Given twice with *different* content it is an
``InputError`` naming both places: never last-wins, which would let a newer copy hide an
end-of-life node.  An error rather than judging both copies because the input is meant to be
one cluster at one moment (as two API server versions already are refused); two states of one
object mean it is not, and no rule can tell which copy is the cluster's.  Objects without a name
are held to the same rule (two different nameless nodes are refused, not merged into one).
Finding where the first copy came from costs nothing until a conflict: each ``add`` records
where its objects start, and the position of the first copy is looked up only then.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from msgspec.structs import astuple, force_setattr

from patchlevel import inventory as inv
from patchlevel.collect.apimetrics import merge_metrics
from patchlevel.collect.decode import LIST_ITEM_KIND, OWNER_KINDS, Decoded
from patchlevel.errors import InputError
from patchlevel.hostscans import NodeScan
from patchlevel.inventory import ApiServerMetrics, Inventory, WrittenObject
from patchlevel.kube import Node, OpenShiftClusterVersion, OwnerObject, Pod, PodDisruptionBudget, VersionInfo
from patchlevel.model import InputFile
from patchlevel.scans import ScanReport
from patchlevel.text import visible

ScanParser = Callable[[list[dict[str, Any]], str], list[ScanReport]]


def share_pod_strings(pods: Iterable[Pod], table: dict[str, str]) -> None:
    """Make equal strings of pods one object: namespaces, node names, images, owners repeat a lot.

    Run page by page (live, bundle), the memory the duplicates held is reused by the next page's
    decode, so 150,000 pods need about a third less.  Structs are frozen; ``force_setattr``
    swaps a string for an equal one, which changes no value.
    """
    share = table.setdefault
    for pod in pods:
        meta = pod.metadata
        force_setattr(meta, "namespace", share(meta.namespace, meta.namespace))
        for ref in meta.ownerReferences or ():
            force_setattr(ref, "kind", share(ref.kind, ref.kind))
            force_setattr(ref, "name", share(ref.name, ref.name))
            force_setattr(ref, "uid", share(ref.uid, ref.uid))
        if meta.labels:
            force_setattr(meta, "labels", {share(k, k): share(v, v) for k, v in meta.labels.items()})
        spec = pod.spec
        if spec.nodeName is not None:
            force_setattr(spec, "nodeName", share(spec.nodeName, spec.nodeName))
        for group in (spec.containers, spec.initContainers or (), spec.ephemeralContainers or ()):
            for container in group:
                force_setattr(container, "name", share(container.name, container.name))
                if container.image is not None:
                    force_setattr(container, "image", share(container.image, container.image))
        status = pod.status
        if status.phase is not None:
            force_setattr(status, "phase", share(status.phase, status.phase))
        for statuses in (
            status.containerStatuses or (),
            status.initContainerStatuses or (),
            status.ephemeralContainerStatuses or (),
        ):
            for cs in statuses:
                force_setattr(cs, "name", share(cs.name, cs.name))
                force_setattr(cs, "image", share(cs.image, cs.image))
                force_setattr(cs, "imageID", share(cs.imageID, cs.imageID))


class InventoryBuilder:
    """Collects decoded documents into one Inventory.

    ``share_strings`` (live collection, bundles) shares equal strings of pods page by page to
    bound memory; the snapshot reader leaves it off because its slabs are already large and the
    time matters more there.
    """

    def __init__(self, source: str, scan_parser: ScanParser | None = None, share_strings: bool = False) -> None:
        self.source = source
        self._scan_parser = scan_parser
        self._strings: dict[str, str] | None = {} if share_strings else None
        self.version: VersionInfo | None = None
        self._version_from = ""
        self.nodes: dict[str, Node] = {}
        self.pods: dict[tuple[str, str], Pod] = {}
        self.owners: dict[str, OwnerObject] = {}
        self.openshift: OpenShiftClusterVersion | None = None
        self.scans: list[ScanReport] = []
        self.inputs: list[InputFile] = []
        self.collected: set[str] = set()
        self.denied: dict[str, str] = {}
        self.warnings: list[str] = []
        self._duplicates = 0
        # per kind of object: (how many were held when an ``add`` began, where that add read from)
        self._starts: dict[str, list[tuple[int, str]]] = {"node": [], "pod": [], "owner": []}
        self._openshift_from = ""
        self.cluster_uid = ""  # the kube-system namespace's UID, when a page or file holds it
        # PodDisruptionBudgets by (namespace, name), with where each was read; objects by the apiVersion
        # they were written in (an ordered set); item kinds of whole lists; the API server's metrics.
        self.budgets: dict[tuple[str, str], tuple[PodDisruptionBudget, str]] = {}
        self.written: dict[WrittenObject, None] = {}
        self.whole_lists: set[str] = set()
        self.apiserver_metrics: ApiServerMetrics | None = None
        # Node update agents' objects (issue 11) by (kind, namespace, name), with where each was read;
        # trivy-operator's node scans (placed on their nodes when the inventory is built).
        self.agent_objects: dict[tuple[str, str, str], tuple[Any, str]] = {}
        self.node_scans: list[NodeScan] = []

    def add(self, decoded: Decoded, where: str) -> None:
        if decoded.version is not None:
            self._set_version(decoded.version, where)
        if decoded.cluster_uid:
            self.cluster_uid = decoded.cluster_uid
        self.warnings.extend(decoded.warnings(where))
        if decoded.nodes:
            nodes = self.nodes
            self._starts["node"].append((len(nodes), where))
            for node in decoded.nodes:
                known = nodes.setdefault(node.metadata.name, node)
                if known is not node:
                    self._repeated("node", node.metadata.name, known, node, where)
        self.share(decoded)
        if decoded.pods:
            pods = self.pods
            self._starts["pod"].append((len(pods), where))
            for pod in decoded.pods:
                pod_meta = pod.metadata
                known_pod = pods.setdefault((pod_meta.namespace, pod_meta.name), pod)
                if known_pod is not pod:
                    self._repeated("pod", (pod_meta.namespace, pod_meta.name), known_pod, pod, where)
        if decoded.owners:
            self._starts["owner"].append((len(self.owners), where))
            for owner in decoded.owners:
                meta = owner.metadata
                owner_key = meta.uid or f"{owner.kind}/{meta.namespace}/{meta.name}"
                known_owner = self.owners.setdefault(owner_key, owner)
                if known_owner is not owner:
                    self._repeated("owner", owner_key, known_owner, owner, where)
        for cluster_version in decoded.openshift:
            if self.openshift is None:
                self.openshift, self._openshift_from = cluster_version, where
            elif not _same(self.openshift, cluster_version):
                raise _conflict("the OpenShift ClusterVersion", self._openshift_from, where, "")
            else:
                self._duplicates += 1
            self.collected.add(inv.CLUSTER_VERSION)
        for budget in decoded.pdbs:
            self._add_budget(budget, where)
        self.written.update(dict.fromkeys(decoded.written))
        self.whole_lists.update(decoded.whole_lists)
        if "PodDisruptionBudget" in decoded.whole_lists:  # a whole list: the budgets are known, even none
            self.collected.add(inv.DISRUPTION_BUDGETS)
        if decoded.apiserver_metrics is not None:
            metrics = decoded.apiserver_metrics
            self.apiserver_metrics = (
                metrics if self.apiserver_metrics is None else merge_metrics(self.apiserver_metrics, metrics)
            )
            self.collected.add(inv.DEPRECATED_API_REQUESTS)
        self._add_agents(decoded, where)
        if decoded.scan_objects:
            self.collected.add(inv.VULNERABILITY_REPORTS)
            if self._scan_parser is not None:
                self.scans.extend(self._scan_parser(decoded.scan_objects, where))
        if decoded.nodes:
            self.collected.add(inv.NODES)
        if decoded.pods:
            self.collected.add(inv.PODS)
        if decoded.owners:
            self.collected.add(inv.OWNERS)
        for list_kind in decoded.list_kinds:
            item = LIST_ITEM_KIND.get(list_kind)
            if item == "Node":
                self.collected.add(inv.NODES)
            elif item == "Pod":
                self.collected.add(inv.PODS)
            elif item in OWNER_KINDS:
                self.collected.add(inv.OWNERS)
            elif item == "VulnerabilityReport":
                self.collected.add(inv.VULNERABILITY_REPORTS)
            elif item in _AGENT_KINDS:
                self.collected.add(_AGENT_KINDS[item])
            if list_kind == "DaemonSetList":  # also owners: the DaemonSets themselves are read too
                self.collected.add(inv.DAEMONSETS)

    def _repeated(self, kind: str, key: Any, known: Any, again: Any, where: str) -> None:
        """An object seen before: counted when it is the same, an InputError naming both places when not."""
        if _same(known, again):
            self._duplicates += 1
            return
        held: dict[Any, Any] = self.nodes if kind == "node" else self.pods if kind == "pod" else self.owners
        position = next(i for i, k in enumerate(held) if k == key)
        starts = self._starts[kind]
        first = starts[bisect_right(starts, position, key=lambda start: start[0]) - 1][1]
        uids = (known.metadata.uid, again.metadata.uid)
        versions = (getattr(known.metadata, "resourceVersion", None), getattr(again.metadata, "resourceVersion", None))
        if all(uids) and uids[0] != uids[1]:  # names are unique in a cluster: two clusters are mixed
            detail = f" (uid {visible(uids[0])} and {visible(uids[1])}: two different objects, from two clusters)"
        elif all(versions):
            detail = f" (resourceVersion {visible(str(versions[0]))} and {visible(str(versions[1]))})"
        else:
            detail = ""
        raise _conflict(_describe(kind, key, known), first, where, detail)

    def _add_budget(self, budget: PodDisruptionBudget, where: str) -> None:
        """A PodDisruptionBudget; given twice, the copy the cluster holds (with a status) wins over a manifest.

        A manifest as written (no status) beside the same budget read from the cluster is one budget
        seen twice, not a conflict: its apiVersion is recorded apart (``written``).  Two different
        copies that both carry a status, or two different manifests, are two states of one object.
        """
        meta = budget.metadata
        key = (meta.namespace, meta.name)
        known = self.budgets.get(key)
        if known is None:
            self.budgets[key] = (budget, where)
            return
        held, first = known
        if _same(held, budget) or (held.status is None and budget.status is None and held.spec == budget.spec):
            self._duplicates += 1
        elif (held.status is None) != (budget.status is None):
            if held.status is None:
                self.budgets[key] = (budget, where)
        else:
            raise _conflict(f"PodDisruptionBudget {visible(meta.namespace)}/{visible(meta.name)}", first, where, "")

    def _add_agents(self, decoded: Decoded, where: str) -> None:
        """Node update agents' objects and node scans: kept once, a different second copy is a conflict."""
        groups: tuple[tuple[str, Sequence[Any]], ...] = (
            ("DaemonSet", decoded.daemonsets),
            ("BottlerocketShadow", decoded.bottlerocket_shadows),
            ("Plan", decoded.upgrade_plans),
            ("MachineConfigPool", decoded.machine_config_pools),
        )
        for kind, objects in groups:
            for obj in objects:
                meta = obj.metadata
                key = (kind, meta.namespace, meta.name)
                known = self.agent_objects.get(key)
                if known is None:
                    self.agent_objects[key] = (obj, where)
                elif _same(known[0], obj):
                    self._duplicates += 1
                else:
                    name = f"{visible(meta.namespace)}/{visible(meta.name)}" if meta.namespace else visible(meta.name)
                    raise _conflict(f"{kind} {name}", known[1], where, "")
                self.collected.add(_AGENT_KINDS.get(kind, inv.DAEMONSETS))
        if decoded.node_scan_objects:
            from patchlevel.importers.host import parse_cluster_node_reports

            self.collected.add(inv.NODE_VULNERABILITY_REPORTS)
            self.node_scans.extend(parse_cluster_node_reports(decoded.node_scan_objects, where))

    def _agents(self) -> inv.UpdateAgentObjects:
        def of(kind: str) -> tuple[Any, ...]:
            return tuple(obj for (k, _, _), (obj, _) in self.agent_objects.items() if k == kind)

        return inv.UpdateAgentObjects(
            daemonsets=of("DaemonSet"),
            bottlerocket_shadows=of("BottlerocketShadow"),
            upgrade_plans=of("Plan"),
            machine_config_pools=of("MachineConfigPool"),
        )

    def share(self, decoded: Decoded) -> None:
        """Share equal strings of a page's pods now (a collector that holds pages back calls it early)."""
        if self._strings is not None and not decoded.strings_shared:
            share_pod_strings(decoded.pods, self._strings)
            decoded.strings_shared = True

    def _set_version(self, version: VersionInfo, where: str) -> None:
        self.collected.add(inv.VERSION)
        if self.version is None:
            self.version, self._version_from = version, where
        elif version.gitVersion != self.version.gitVersion:
            raise InputError(
                f"the input holds the versions of two API servers: {self.version.gitVersion} "
                f"({self._version_from}) and {version.gitVersion} ({where})",
                hint="audit one cluster at a time",
            )

    def record(self, entry: InputFile) -> None:
        self.inputs.append(entry)

    def build(
        self,
        *,
        name: str = "",
        server: str = "",
        collected_at: datetime | None = None,
        evidence_digest: str = "",
        extra_warnings: Sequence[str] = (),
    ) -> Inventory:
        self._strings = None  # the table is only needed while pages arrive
        warnings = list(self.warnings) + list(extra_warnings)
        if self._duplicates:
            warnings.append(f"{self._duplicates} objects appeared more than once in the input; each was counted once")
        node_scans: tuple[NodeScan, ...] = ()
        if self.node_scans:  # trivy-operator names the node it scanned: placed by that name, never guessed
            from patchlevel.importers.host import assign_nodes

            placed = assign_nodes(self.node_scans, self.nodes)
            node_scans = placed.scans
            warnings.extend(placed.warnings)
        return Inventory(
            version=self.version,
            nodes=tuple(self.nodes.values()),
            pods=tuple(self.pods.values()),
            owners=dict(self.owners),
            openshift=self.openshift,
            scans=tuple(self.scans),
            inputs=tuple(self.inputs),
            collected=frozenset(self.collected),
            denied=dict(self.denied),
            source=self.source,
            name=name,
            server=server,
            collected_at=collected_at,
            warnings=tuple(warnings),
            evidence_digest=evidence_digest,
            cluster_uid=self.cluster_uid,
            disruption_budgets=tuple(budget for budget, _ in self.budgets.values()),
            written=tuple(self.written),
            whole_lists=frozenset(self.whole_lists),
            apiserver_metrics=self.apiserver_metrics,
            agents=self._agents(),
            node_scans=node_scans,
        )


_AGENT_KINDS = {
    "BottlerocketShadow": inv.BOTTLEROCKET_SHADOWS,
    "Plan": inv.UPGRADE_PLANS,
    "MachineConfigPool": inv.MACHINE_CONFIG_POOLS,
    "NodeVulnerabilityReport": inv.NODE_VULNERABILITY_REPORTS,
}


def _same(a: Any, b: Any) -> bool:
    """Equal content, whichever Struct class decoded it (the slab decoder's tagged Node is a Node)."""
    return a is b or astuple(a) == astuple(b)


def _describe(kind: str, key: Any, obj: Any) -> str:
    if kind == "pod":
        namespace, name = str(key[0]), str(key[1])
        return (
            f"pod {visible(namespace)}/{visible(name)}"
            if name
            else f"a pod without a name in namespace {visible(namespace)!r}"
        )
    if kind == "owner":
        name = obj.metadata.name
        return (
            f"{obj.kind or 'workload owner'} {visible(name)}"
            if name
            else f"a {obj.kind or 'workload owner'} without a name"
        )
    return f"node {visible(str(key))}" if key else "a node without a name"


def _conflict(what: str, first: str, second: str, detail: str) -> InputError:
    places = f"twice in {first}" if first == second else f"in {first} and in {second}"
    return InputError(
        f"{what} appears {places} with different content{detail}",
        hint="the input must be one cluster at one moment: keep one copy of each object; identical copies may repeat",
    )
