"""Turn bytes holding Kubernetes objects into the typed Structs of ``patchlevel.kube``.

One decoder serves snapshot files, evidence bundles and live API pages, so the three paths
cannot disagree.  JSON is decoded with msgspec straight into Structs that name only the
fields patchlevel reads (a 150,000-pod list never becomes a tree of dicts); YAML (and the rare
concatenated-JSON file) goes through Python objects and ``msgspec.convert``.

Accepted shapes: single objects; ``List``/``NodeList``/``PodList``/… (also lists without a
``kind``, and items without ``kind`` as the API returns them); YAML multi-document streams;
``kubectl version -o json|yaml`` (its ``serverVersion``) and the raw ``/version`` body.

An item's own ``kind`` wins over its list's: a ``NodeList`` holding ``kind: Pod`` items gives
pods, not phantom nodes, and the mismatch is reported (``Decoded.warnings``).  Node and Pod
items of typed lists are decoded as tagged Structs, so msgspec checks a ``kind`` an item
carries at no extra cost and a mismatch falls back to the careful per-item path.  Input nested
deeper than can be decoded, and YAML alias bombs, are one-line ``InputError``s.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
import yaml

from patchlevel.errors import InputError
from patchlevel.inventory import LAST_APPLIED, ApiServerMetrics, WrittenObject
from patchlevel.kube import (
    BottlerocketShadow,
    DaemonSet,
    MachineConfigPool,
    Node,
    ObjectMeta,
    OpenShiftClusterVersion,
    OwnerObject,
    Pod,
    PodDisruptionBudget,
    UpgradePlan,
    VersionInfo,
)
from patchlevel.safeinput import NESTED_TOO_DEEP, YAMLLimitError, load_yaml_documents

_T = TypeVar("_T")

OWNER_KINDS = frozenset(
    {"ReplicaSet", "Deployment", "DaemonSet", "StatefulSet", "Job", "CronJob", "ReplicationController"}
)
SCAN_KINDS = frozenset({"VulnerabilityReport"})
LIST_ITEM_KIND = {
    "NodeList": "Node",
    "PodList": "Pod",
    "ReplicaSetList": "ReplicaSet",
    "DeploymentList": "Deployment",
    "DaemonSetList": "DaemonSet",
    "StatefulSetList": "StatefulSet",
    "JobList": "Job",
    "CronJobList": "CronJob",
    "ClusterVersionList": "ClusterVersion",
    "VulnerabilityReportList": "VulnerabilityReport",
    "NamespaceList": "Namespace",
    "PodDisruptionBudgetList": "PodDisruptionBudget",
    # node update agents' objects (issue 11) and trivy-operator's node scans
    "BottlerocketShadowList": "BottlerocketShadow",
    "PlanList": "Plan",
    "MachineConfigPoolList": "MachineConfigPool",
    "NodeVulnerabilityReportList": "NodeVulnerabilityReport",
}
# Custom resources of node update agents, each only under its API group (a "Plan" of another group is not SUC's).
AGENT_GROUPS = {
    "BottlerocketShadow": "brupop.bottlerocket.aws/",
    "Plan": "upgrade.cattle.io/",
    "MachineConfigPool": "machineconfiguration.openshift.io/",
    "NodeVulnerabilityReport": "aquasecurity.github.io/",
}


def is_agent_kind(kind: str | None, api_version: object) -> bool:
    """Whether an object is a node update agent's resource (or a node scan): its kind, in its group."""
    group = AGENT_GROUPS.get(kind or "")
    return group is not None and (not api_version or (isinstance(api_version, str) and api_version.startswith(group)))


@dataclass(slots=True)
class Decoded:
    """What one document (file or API page) held."""

    version: VersionInfo | None = None
    nodes: list[Node] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    owners: list[OwnerObject] = field(default_factory=list)
    openshift: list[OpenShiftClusterVersion] = field(default_factory=list)
    scan_objects: list[dict[str, Any]] = field(default_factory=list)  # trivy-operator reports, as dicts
    ignored: Counter[str] = field(default_factory=Counter)  # kind -> count of objects not used
    strings_shared: bool = False  # see InventoryBuilder.share
    list_kinds: Counter[str] = field(
        default_factory=Counter
    )  # list kind -> items: an empty PodList still says "pods collected"
    mismatched: Counter[tuple[str, str]] = field(default_factory=Counter)  # (list kind, item kind) -> items
    cluster_uid: str = ""  # the kube-system Namespace's UID, when the document holds it (the cluster's identity)
    pdbs: list[PodDisruptionBudget] = field(default_factory=list)
    # Every object but pods and nodes (only ever core v1) and /version, by the apiVersion it was written
    # in (see inventory.WrittenObject).
    written: list[WrittenObject] = field(default_factory=list)
    whole_lists: set[str] = field(default_factory=set)  # item kinds of the list documents held
    apiserver_metrics: ApiServerMetrics | None = None  # a /metrics exposition (snapshot file, bundle page)
    # Node update agents' objects and trivy-operator NodeVulnerabilityReports (as dicts, for the importer).
    daemonsets: list[DaemonSet] = field(default_factory=list)
    bottlerocket_shadows: list[BottlerocketShadow] = field(default_factory=list)
    upgrade_plans: list[UpgradePlan] = field(default_factory=list)
    machine_config_pools: list[MachineConfigPool] = field(default_factory=list)
    node_scan_objects: list[dict[str, Any]] = field(default_factory=list)

    def warnings(self, where: str) -> list[str]:
        """Input warnings about this document, naming it: list items whose kind is not the list's."""
        return [
            f"{where}: a {list_kind} holds {count} item{'s' if count != 1 else ''} of kind {item_kind!r}; "
            f"{'each was' if count != 1 else 'it was'} read as its own kind, not as {LIST_ITEM_KIND[list_kind]}"
            for (list_kind, item_kind), count in sorted(self.mismatched.items())
        ]

    def describe(self) -> str:
        parts = []
        if self.version is not None:
            parts.append(f"version {self.version.gitVersion or '(no gitVersion)'}")
        for label, items in (
            ("node", self.nodes),
            ("pod", self.pods),
            ("workload owner", self.owners),
            ("OpenShift ClusterVersion", self.openshift),
            ("vulnerability report", self.scan_objects),
            ("PodDisruptionBudget", self.pdbs),
            ("BottlerocketShadow", self.bottlerocket_shadows),
            ("system-upgrade-controller Plan", self.upgrade_plans),
            ("MachineConfigPool", self.machine_config_pools),
            ("node vulnerability report", self.node_scan_objects),
        ):
            if items:
                parts.append(f"{len(items)} {label}{'' if len(items) == 1 else 's'}")
        if self.apiserver_metrics is not None:
            requested = len(self.apiserver_metrics.requests)
            parts.append(f"API server metrics ({requested} deprecated API{'' if requested == 1 else 's'} requested)")
        parts.extend(f"empty {kind}" for kind, items in sorted(self.list_kinds.items()) if items == 0)
        return ", ".join(parts)

    @property
    def used(self) -> int:
        return (
            (self.version is not None)
            + len(self.nodes)
            + len(self.pods)
            + len(self.owners)
            + len(self.openshift)
            + len(self.scan_objects)
            + len(self.pdbs)
            + len(self.bottlerocket_shadows)
            + len(self.upgrade_plans)
            + len(self.machine_config_pools)
            + len(self.node_scan_objects)
            + (self.apiserver_metrics is not None)
        )


# ---------------------------------------------------------------------------------------------
# JSON fast path


class _Head(msgspec.Struct):
    """Just enough of a JSON document to know what it is; everything else stays raw."""

    kind: str | None = None
    apiVersion: str | None = None
    items: list[msgspec.Raw] | None = None
    gitVersion: str | None = None
    serverVersion: msgspec.Raw = msgspec.Raw()
    clientVersion: msgspec.Raw = msgspec.Raw()
    data: msgspec.Raw = msgspec.Raw()
    metadata: msgspec.Raw = msgspec.Raw()
    spec: msgspec.Raw = msgspec.Raw()
    status: msgspec.Raw = msgspec.Raw()


class _ItemSpecHead(msgspec.Struct):
    containers: msgspec.Raw = msgspec.Raw()
    providerID: str | None = None


class _ItemStatusHead(msgspec.Struct):
    nodeInfo: msgspec.Raw = msgspec.Raw()
    containerStatuses: msgspec.Raw = msgspec.Raw()


class _ItemHead(msgspec.Struct):
    kind: str | None = None
    apiVersion: str | None = None
    spec: _ItemSpecHead | None = None
    status: _ItemStatusHead | None = None
    items: msgspec.Raw = msgspec.Raw()
    gitVersion: str | None = None


class _TaggedPod(Pod, tag_field="kind", tag="Pod", frozen=True):
    """A Pod whose ``kind``, when present, must say Pod (checked by msgspec while decoding)."""


class _TaggedNode(Node, tag_field="kind", tag="Node", frozen=True):
    """A Node whose ``kind``, when present, must say Node."""


_HEAD = msgspec.json.Decoder(_Head)
_ITEM_HEAD = msgspec.json.Decoder(_ItemHead)
_TAGGED_ITEM: Mapping[str, msgspec.json.Decoder[Any]] = {
    "Node": msgspec.json.Decoder(_TaggedNode),
    "Pod": msgspec.json.Decoder(_TaggedPod),
}


class _WrittenAnnotations(msgspec.Struct):
    last_applied: str | None = msgspec.field(default=None, name=LAST_APPLIED)


class _WrittenMeta(msgspec.Struct):
    name: str = ""
    namespace: str = ""
    annotations: _WrittenAnnotations | None = None


class _WrittenHead(msgspec.Struct):
    """Of an object patchlevel does not otherwise read: its name and kubectl's last-applied configuration."""

    metadata: _WrittenMeta | None = None


class _AppliedHead(msgspec.Struct):
    apiVersion: str | None = None


_WRITTEN = msgspec.json.Decoder(_WrittenHead)
_APPLIED = msgspec.json.Decoder(_AppliedHead)
_PDB = msgspec.json.Decoder(PodDisruptionBudget)
_DAEMONSET = msgspec.json.Decoder(DaemonSet)
_AGENT_DECODERS: Mapping[str, msgspec.json.Decoder[Any]] = {
    "BottlerocketShadow": msgspec.json.Decoder(BottlerocketShadow),
    "Plan": msgspec.json.Decoder(UpgradePlan),
    "MachineConfigPool": msgspec.json.Decoder(MachineConfigPool),
}
_NODE = msgspec.json.Decoder(Node)
_POD = msgspec.json.Decoder(Pod)
_OWNER = msgspec.json.Decoder(OwnerObject)
_VERSION = msgspec.json.Decoder(VersionInfo)
_CLUSTER_VERSION = msgspec.json.Decoder(OpenShiftClusterVersion)


def _shape_kind(kind: str | None, has_node_info: bool, has_containers: bool, git_version: bool) -> str | None:
    if kind:
        return kind
    if git_version:
        return "Version"
    if has_node_info:
        return "Node"
    if has_containers:
        return "Pod"
    return None


def decode_json_item(
    raw: msgspec.Raw | bytes | memoryview, hint: str | None, out: Decoded, where: str, list_kind: str = ""
) -> None:
    """Decode one object; ``hint`` is the item kind its list names (None outside a typed list)."""
    tagged = _TAGGED_ITEM.get(hint or "")
    if tagged is not None:
        try:
            obj = tagged.decode(raw)  # a Node/Pod item: the tag check costs nothing
        except msgspec.ValidationError:
            head = _ITEM_HEAD.decode(raw)
            if not head.kind or head.kind == hint:
                raise  # a shape error of a real Node/Pod: the caller reports it
        else:
            (out.nodes if hint == "Node" else out.pods).append(obj)
            return
    else:
        head = _ITEM_HEAD.decode(raw)
    if hint is None and head.items and head.kind and head.kind.endswith("List"):
        _decode_json_list(_HEAD.decode(raw), out, where)
        return
    if hint is not None and head.kind and head.kind != hint:
        out.mismatched[(list_kind, head.kind)] += 1
        hint = None
    kind = head.kind or hint
    if kind is None:
        kind = _shape_kind(
            None,
            bool(head.status and head.status.nodeInfo),
            bool(head.spec and head.spec.containers),
            head.gitVersion is not None,
        )
    if kind is None:
        kind = _implied_kind(list_kind)
    _decode_typed(raw, kind, head.apiVersion, out)


def _implied_kind(list_kind: str) -> str | None:
    """The item kind a typed list names (``HorizontalPodAutoscalerList``: HorizontalPodAutoscaler), else None."""
    if list_kind in LIST_ITEM_KIND:
        return LIST_ITEM_KIND[list_kind]
    if list_kind.endswith("List") and len(list_kind) > len("List"):
        return list_kind[: -len("List")]
    return None


def _applied_version(text: str | None) -> str:
    """The apiVersion of a last-applied configuration (JSON), "" when there is none or it does not parse."""
    if not text:
        return ""
    try:
        head = _APPLIED.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return ""
    return head.apiVersion or ""


def _record(out: Decoded, kind: str, api_version: object, name: object, namespace: object, applied: object) -> None:
    """Record an object by the apiVersion it was written in (values that are not text are left out)."""
    out.written.append(
        WrittenObject(
            kind=kind,
            namespace=namespace if isinstance(namespace, str) else "",
            name=name if isinstance(name, str) else "",
            api_version=api_version if isinstance(api_version, str) else "",
            last_applied=_applied_version(applied if isinstance(applied, str) else None),
        )
    )


def _record_meta(out: Decoded, kind: str, api_version: str | None, meta: ObjectMeta) -> None:
    annotations = meta.annotations or {}
    _record(out, kind, api_version, meta.name, meta.namespace, annotations.get(LAST_APPLIED))


def _record_raw(raw: msgspec.Raw | bytes | memoryview, kind: str, api_version: str | None, out: Decoded) -> None:
    """Record an object of a kind patchlevel does not otherwise read, from its name and annotations only."""
    try:
        meta = _WRITTEN.decode(raw).metadata
    except msgspec.ValidationError:  # a metadata of another shape: recorded without a name
        meta = None
    annotations = meta.annotations if meta is not None else None
    _record(
        out,
        kind,
        api_version,
        meta.name if meta is not None else "",
        meta.namespace if meta is not None else "",
        annotations.last_applied if annotations is not None else None,
    )


def _decode_typed(
    raw: msgspec.Raw | bytes | memoryview, kind: str | None, api_version: str | None, out: Decoded
) -> None:
    if kind == "Node":
        out.nodes.append(_NODE.decode(raw))
    elif kind == "Pod":
        out.pods.append(_POD.decode(raw))
    elif kind in OWNER_KINDS:
        owner = _OWNER.decode(raw)
        out.owners.append(owner if owner.kind else OwnerObject(kind=kind or "", metadata=owner.metadata))
        _record_meta(out, owner.kind or kind or "", api_version, owner.metadata)
        if kind == "DaemonSet":  # an update agent's DaemonSet (kured's lock and flags): kept whole
            out.daemonsets.append(_DAEMONSET.decode(raw))
    elif is_agent_kind(kind, api_version):
        _decode_agent_json(raw, kind or "", out)
        _record_raw(raw, kind or "", api_version, out)
    elif kind == "Version":
        out.version = _VERSION.decode(raw)
    elif kind == "ClusterVersion" and (api_version is None or api_version.startswith("config.openshift.io")):
        cluster_version = _CLUSTER_VERSION.decode(raw)
        out.openshift.append(cluster_version)
        _record_meta(out, kind, api_version, cluster_version.metadata)
    elif kind in SCAN_KINDS:
        obj = msgspec.json.decode(raw)
        if isinstance(obj, dict):
            obj.setdefault("kind", kind)
            out.scan_objects.append(obj)
        _record_raw(raw, kind or "", api_version, out)
    elif kind == "PodDisruptionBudget":
        budget = _PDB.decode(raw)
        out.pdbs.append(budget)
        _record_meta(out, kind, api_version, budget.metadata)
    elif kind == "Namespace":  # counted as not used, as before; kube-system's UID names the cluster
        out.ignored[kind] += 1
        meta = _OWNER.decode(raw).metadata
        if meta.name == "kube-system" and meta.uid:
            out.cluster_uid = meta.uid
        _record_meta(out, kind, api_version, meta)
    else:
        out.ignored[kind or "object of unknown kind"] += 1
        if kind:
            _record_raw(raw, kind, api_version, out)


def _decode_agent_json(raw: msgspec.Raw | bytes | memoryview, kind: str, out: Decoded) -> None:
    if kind == "NodeVulnerabilityReport":
        obj = msgspec.json.decode(raw)
        if isinstance(obj, dict):
            obj.setdefault("kind", kind)
            out.node_scan_objects.append(obj)
        return
    _add_agent_object(out, kind, _AGENT_DECODERS[kind].decode(raw))


def _add_agent_object(out: Decoded, kind: str, obj: Any) -> None:
    if kind == "BottlerocketShadow":
        out.bottlerocket_shadows.append(obj)
    elif kind == "Plan":
        out.upgrade_plans.append(obj)
    elif kind == "MachineConfigPool":
        out.machine_config_pools.append(obj)


_AGENT_TYPES: Mapping[str, type] = {
    "BottlerocketShadow": BottlerocketShadow,
    "Plan": UpgradePlan,
    "MachineConfigPool": MachineConfigPool,
}


def _decode_json_list(head: _Head, out: Decoded, where: str) -> None:
    list_kind = head.kind or "List"
    hint = LIST_ITEM_KIND.get(list_kind)
    before = sum(n for (kind, _), n in out.mismatched.items() if kind == list_kind)
    written = len(out.written)
    for raw in head.items or ():
        decode_json_item(raw, hint, out, where, list_kind)
    _count_list(out, list_kind, len(head.items or ()), before)
    _whole_list(out, list_kind, written)


def _whole_list(out: Decoded, list_kind: str, written_before: int) -> None:
    """Note the item kinds of a list document: a typed list names its kind (even empty), a List its items'."""
    item = _implied_kind(list_kind)
    if item is not None:
        out.whole_lists.add(item)
    else:
        out.whole_lists.update(w.kind for w in out.written[written_before:])


def _count_list(out: Decoded, list_kind: str, items: int, mismatched_before: int) -> None:
    """Count a list's items that are what it says; a list none of whose items are says nothing."""
    mismatched = sum(n for (kind, _), n in out.mismatched.items() if kind == list_kind) - mismatched_before
    if items == 0 or items > mismatched:
        out.list_kinds[list_kind] += items - mismatched


# Objects that carry a /version body under ``data``: kubescape's (kind APIServerInfo) and kind-less wrappers.
_VERSION_WRAPPERS = (None, "APIServerInfo")


def _decode_json(data: bytes, where: str) -> Decoded:
    out = Decoded()
    head = _HEAD.decode(data)
    if head.items is not None:
        _decode_json_list(head, out, where)
        return out
    if head.serverVersion:
        out.version = _VERSION.decode(head.serverVersion)
        return out
    if head.gitVersion is not None:
        out.version = _VERSION.decode(data)
        return out
    if head.clientVersion:
        out.ignored["kubectl version output without serverVersion"] += 1
        return out
    if head.kind in _VERSION_WRAPPERS and head.data:  # a wrapper such as kubescape's APIServerInfo
        inner = _HEAD.decode(head.data)
        if inner.gitVersion is not None:
            out.version = _VERSION.decode(head.data)
            return out
    decode_json_item(data, None, out, where)
    return out


# ---------------------------------------------------------------------------------------------
# Slabs: many items of one list as one JSON array (collect.stream), decoded in a single call


_POD_SLAB = msgspec.json.Decoder(list[_TaggedPod])
_NODE_SLAB = msgspec.json.Decoder(list[_TaggedNode])
_MIXED_SLAB = msgspec.json.Decoder(list[_TaggedPod | _TaggedNode])


def decode_slab(slab: bytes | memoryview, list_kind: str | None, out: Decoded) -> None:
    """Decode a JSON array of list items; raises msgspec errors when the slab is not what it claims.

    An item whose ``kind`` is not its list's fails the slab too: the caller then decodes the
    whole file, which reads each item as its own kind and reports the mismatch.
    """
    item = LIST_ITEM_KIND.get(list_kind or "")
    if item == "Pod":
        out.pods.extend(_POD_SLAB.decode(slab))
    elif item == "Node":
        out.nodes.extend(_NODE_SLAB.decode(slab))
    else:  # a List: every item must say it is a Pod or a Node, or the caller decodes the file whole
        for obj in _MIXED_SLAB.decode(slab):
            if isinstance(obj, Pod):
                out.pods.append(obj)
            else:
                out.nodes.append(obj)


# ---------------------------------------------------------------------------------------------
# Python-object path (YAML, concatenated JSON)


class _YamlLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader that keeps timestamps as strings, as the API sends them."""


_YamlLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _object_kind(obj: Mapping[str, Any], hint: str | None) -> str | None:
    kind = obj.get("kind") or hint
    status: Mapping[str, Any] = obj["status"] if isinstance(obj.get("status"), Mapping) else {}
    spec: Mapping[str, Any] = obj["spec"] if isinstance(obj.get("spec"), Mapping) else {}
    return _shape_kind(
        kind if isinstance(kind, str) else None,
        "nodeInfo" in status,
        "containers" in spec,
        "gitVersion" in obj,
    )


_CONVERT_TYPES: Mapping[str, type] = {
    "Node": Node,
    "Pod": Pod,
    "Version": VersionInfo,
    "ClusterVersion": OpenShiftClusterVersion,
}


def _decode_object(obj: Any, hint: str | None, out: Decoded, where: str) -> None:
    if obj is None:
        return
    if not isinstance(obj, Mapping):
        out.ignored["document that is not an object"] += 1
        return
    if isinstance(obj.get("items"), list) and (
        obj.get("kind") in (None, "List") or str(obj.get("kind")).endswith("List")
    ):
        list_kind = str(obj.get("kind") or "List")
        hint = LIST_ITEM_KIND.get(list_kind)
        implied = _implied_kind(list_kind)
        before = sum(n for (kind, _), n in out.mismatched.items() if kind == list_kind)
        written = len(out.written)
        for item in obj["items"]:
            own = item.get("kind") if isinstance(item, Mapping) else None
            if hint is not None and isinstance(own, str) and own and own != hint:
                out.mismatched[(list_kind, own)] += 1
                _decode_object(item, None, out, where)
            elif hint is None and implied is not None and isinstance(item, Mapping) and not own:
                _decode_object({**item, "kind": implied}, None, out, where)  # an item of a typed list names no kind
            else:
                _decode_object(item, hint, out, where)
        _count_list(out, list_kind, len(obj["items"]), before)
        _whole_list(out, list_kind, written)
        return
    if isinstance(obj.get("serverVersion"), Mapping):
        out.version = _convert(obj["serverVersion"], VersionInfo, where)
        return
    if "clientVersion" in obj and "gitVersion" not in obj:
        out.ignored["kubectl version output without serverVersion"] += 1
        return
    if obj.get("kind") in _VERSION_WRAPPERS and isinstance(obj.get("data"), Mapping) and "gitVersion" in obj["data"]:
        out.version = _convert(obj["data"], VersionInfo, where)
        return
    kind = _object_kind(obj, hint)
    api_version = obj.get("apiVersion")
    if kind == "Node":
        out.nodes.append(_convert(obj, Node, where))
    elif kind == "Pod":
        out.pods.append(_convert(obj, Pod, where))
    elif kind in OWNER_KINDS:
        owner = _convert(obj, OwnerObject, where)
        out.owners.append(owner if owner.kind else OwnerObject(kind=kind or "", metadata=owner.metadata))
        _record_dict(out, owner.kind or kind or "", obj)
        if kind == "DaemonSet":  # an update agent's DaemonSet (kured's lock and flags): kept whole
            out.daemonsets.append(_convert(obj, DaemonSet, where))
    elif is_agent_kind(kind, api_version):
        if kind == "NodeVulnerabilityReport":
            item = dict(obj)
            item.setdefault("kind", kind)
            out.node_scan_objects.append(item)
        else:
            _add_agent_object(out, kind or "", _convert(obj, _AGENT_TYPES[kind or ""], where))
        _record_dict(out, kind or "", obj)
    elif kind == "Version":
        out.version = _convert(obj, VersionInfo, where)
    elif kind == "ClusterVersion" and (not api_version or str(api_version).startswith("config.openshift.io")):
        out.openshift.append(_convert(obj, OpenShiftClusterVersion, where))
        _record_dict(out, kind, obj)
    elif kind in SCAN_KINDS:
        item = dict(obj)
        item.setdefault("kind", kind)
        out.scan_objects.append(item)
        _record_dict(out, kind or "", obj)
    elif kind == "PodDisruptionBudget":
        out.pdbs.append(_convert(obj, PodDisruptionBudget, where))
        _record_dict(out, kind, obj)
    elif kind == "Namespace":  # counted as not used, as before; kube-system's UID names the cluster
        out.ignored[kind] += 1
        meta = obj.get("metadata")
        if isinstance(meta, Mapping) and meta.get("name") == "kube-system" and isinstance(meta.get("uid"), str):
            out.cluster_uid = meta["uid"]
        _record_dict(out, kind, obj)
    else:
        out.ignored[kind or "object of unknown kind"] += 1
        if kind:
            _record_dict(out, kind, obj)


def _record_dict(out: Decoded, kind: str, obj: Mapping[str, Any]) -> None:
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    annotations = meta.get("annotations")
    applied = annotations.get(LAST_APPLIED) if isinstance(annotations, Mapping) else None
    _record(out, kind, obj.get("apiVersion"), meta.get("name"), meta.get("namespace"), applied)


def _convert(obj: Any, kind: type[_T], where: str) -> _T:
    try:
        return msgspec.convert(obj, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise InputError(f"{where}: a {kind.__name__} object does not have the expected shape: {exc}") from None


def _concatenated_json(text: str) -> Iterator[Any]:
    decoder = json.JSONDecoder()
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            return
        obj, pos = decoder.raw_decode(text, pos)
        yield obj


# ---------------------------------------------------------------------------------------------
# Entry points


# Possessive quantifiers (*+): a run of blanks is consumed once and never given back, so a long
# run that does not end in a bracket fails in linear time. (The earlier ``\s*(?:BOM)?\s*[\[{]``
# could split a run between its two ``\s*`` in every way: 128 KiB of spaces took minutes.)
_JSON_START = re.compile(rb"\s*+(?:\xef\xbb\xbf\s*+)?[\[{]")
_BLANK = re.compile(rb"\s*+\Z")
_ARRAY_START = re.compile(rb"\s*+\[")
JSON_SNIFF_BYTES = 1024 * 1024
"""How far ``looks_like_json`` looks for the opening bracket: content with more leading blank
space than this is read as YAML (of which JSON is a subset), not as JSON."""


def looks_like_json(data: bytes) -> bool:
    """Whether the first non-blank byte (after a UTF-8 byte order mark) opens a JSON value.

    Examines at most the first ``JSON_SNIFF_BYTES`` bytes, in linear time; copies nothing.
    """
    return _JSON_START.match(data, 0, JSON_SNIFF_BYTES) is not None


def is_blank(data: bytes) -> bool:
    """Whether ``data`` is only blank space (linear in its length)."""
    return _BLANK.match(data) is not None


def decode_json_bytes(data: bytes, where: str) -> Decoded:
    """Decode one JSON document (or several concatenated); raise InputError with the position."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        if _ARRAY_START.match(data):  # a bare array of objects (e.g. the output of jq '.items')
            return decode_objects([msgspec.json.decode(data)], where)
        return _decode_json(data, where)
    except msgspec.ValidationError as exc:
        raise InputError(f"{where}: an object does not have the expected shape: {exc}") from None
    except msgspec.DecodeError as exc:
        if "trailing characters" not in str(exc):
            raise InputError(f"{where}: invalid JSON: {exc}", hint="is the file complete?") from None
    except RecursionError:
        raise InputError(f"{where}: JSON {NESTED_TOO_DEEP}") from None
    # several JSON documents one after another (e.g. kubectl cluster-info dump)
    try:
        docs = list(_concatenated_json(data.decode("utf-8")))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: invalid JSON: {exc}", hint="is the file complete?") from None
    except RecursionError:
        raise InputError(f"{where}: JSON {NESTED_TOO_DEEP}") from None
    return decode_objects(docs, where)


def decode_yaml_bytes(data: bytes, where: str) -> Decoded:
    try:
        docs = load_yaml_documents(data, _YamlLoader)
    except YAMLLimitError as exc:
        raise InputError(f"{where}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{where}: invalid YAML{at}: {problem}") from None
    return decode_objects(docs, where)


def decode_objects(docs: Iterable[Any], where: str) -> Decoded:
    """Decode already-parsed documents (dicts from YAML or JSON)."""
    out = Decoded()
    try:
        for doc in docs:
            if doc is None:
                continue
            if isinstance(doc, list):  # a bare JSON array of objects
                for item in doc:
                    _decode_object(item, None, out, where)
            else:
                _decode_object(doc, None, out, where)
    except RecursionError:
        raise InputError(f"{where}: the document is {NESTED_TOO_DEEP}") from None
    return out


def decode_bytes(data: bytes, where: str) -> Decoded:
    """Decode a file's bytes, JSON or YAML, whatever its name."""
    if looks_like_json(data):
        return decode_json_bytes(data, where)
    return decode_yaml_bytes(data, where)
