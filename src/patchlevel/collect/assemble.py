"""Assemble decoded documents from any source into one Inventory.

Snapshot files, bundle files and live API pages are all fed through ``InventoryBuilder.add``;
it de-duplicates objects seen twice, refuses to mix two clusters, and records which resource
kinds the source held so checks can tell "none in the cluster" from "not collected".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from patchlevel import inventory as inv
from patchlevel.collect.decode import LIST_ITEM_KIND, OWNER_KINDS, Decoded
from patchlevel.errors import InputError
from patchlevel.inventory import Inventory
from patchlevel.kube import Node, OpenShiftClusterVersion, OwnerObject, Pod, VersionInfo
from patchlevel.model import InputFile
from patchlevel.scans import ScanReport

ScanParser = Callable[[list[dict[str, Any]], str], list[ScanReport]]


class InventoryBuilder:
    def __init__(self, source: str, scan_parser: ScanParser | None = None) -> None:
        self.source = source
        self._scan_parser = scan_parser
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

    def add(self, decoded: Decoded, where: str) -> None:
        if decoded.version is not None:
            self._set_version(decoded.version, where)
        for node in decoded.nodes:
            if node.metadata.name in self.nodes:
                self._duplicates += 1
            self.nodes[node.metadata.name] = node
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
        )
