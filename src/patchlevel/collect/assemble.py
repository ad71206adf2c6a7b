"""Assemble decoded documents from any source into one Inventory.

Snapshot files, bundle files and live API pages are all fed through ``InventoryBuilder.add``;
it de-duplicates objects seen twice, refuses to mix two clusters, and records which resource
kinds the source held so checks can tell "none in the cluster" from "not collected".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from msgspec.structs import force_setattr

from patchlevel import inventory as inv
from patchlevel.collect.decode import LIST_ITEM_KIND, OWNER_KINDS, Decoded
from patchlevel.errors import InputError
from patchlevel.inventory import Inventory
from patchlevel.kube import Node, OpenShiftClusterVersion, OwnerObject, Pod, VersionInfo
from patchlevel.model import InputFile
from patchlevel.scans import ScanReport

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
        if meta.creationTimestamp is not None:
            force_setattr(meta, "creationTimestamp", share(meta.creationTimestamp, meta.creationTimestamp))
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
        if status.startTime is not None:
            force_setattr(status, "startTime", share(status.startTime, status.startTime))
        for statuses in (
            status.containerStatuses or (),
            status.initContainerStatuses or (),
            status.ephemeralContainerStatuses or (),
        ):
            for cs in statuses:
                force_setattr(cs, "name", share(cs.name, cs.name))
                force_setattr(cs, "image", share(cs.image, cs.image))
                force_setattr(cs, "imageID", share(cs.imageID, cs.imageID))
                running = cs.state.running if cs.state else None
                if running is not None and running.startedAt is not None:
                    force_setattr(running, "startedAt", share(running.startedAt, running.startedAt))


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
        self.cluster_uid = ""  # the kube-system namespace's UID, when a page or file holds it

    def add(self, decoded: Decoded, where: str) -> None:
        if decoded.version is not None:
            self._set_version(decoded.version, where)
        if decoded.cluster_uid:
            self.cluster_uid = decoded.cluster_uid
        for node in decoded.nodes:
            if node.metadata.name in self.nodes:
                self._duplicates += 1
            self.nodes[node.metadata.name] = node
        self.share(decoded)
        for pod in decoded.pods:
            pod_key = (pod.metadata.namespace, pod.metadata.name)
            if pod_key in self.pods:
                self._duplicates += 1
            self.pods[pod_key] = pod
        for owner in decoded.owners:
            self.owners[owner.metadata.uid or f"{owner.kind}/{owner.metadata.namespace}/{owner.metadata.name}"] = owner
        if decoded.openshift:
            self.openshift = decoded.openshift[-1]
            self.collected.add(inv.CLUSTER_VERSION)
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
        )
