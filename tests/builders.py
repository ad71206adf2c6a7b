"""Builders for tests: Kubernetes objects, inventories and check contexts from a few keywords.

``*_doc`` functions return the raw dict kubectl would write (for snapshot files); the others
return the typed records the checks read.  Everything is built through the real decoders
(``msgspec.convert`` into ``patchlevel.kube``), so a builder cannot produce a shape the
snapshot reader would not.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import msgspec

from patchlevel import inventory as inv
from patchlevel.checks import ALL_CHECKS, CheckSpec
from patchlevel.checks.common import CheckFunction, Context
from patchlevel.evaluate import evaluate, stamp
from patchlevel.facts import derive_facts
from patchlevel.inventory import Inventory
from patchlevel.knowledge import Knowledge, load_knowledge
from patchlevel.kube import Node, OpenShiftClusterVersion, Pod, VersionInfo
from patchlevel.lifecycle.catalog import BUNDLED_DATA, load_catalog
from patchlevel.model import Finding, Status
from patchlevel.policy import Policy
from patchlevel.registry import Resolution

AS_OF = date(2026, 11, 27)
DATA = Path(__file__).parent / "data"
_UNSET: Any = object()


@cache
def knowledge() -> Knowledge:
    """The bundled lifecycle data, CVE feed and runtime matrix (never the user's updated copy)."""
    return load_knowledge(load_catalog(BUNDLED_DATA))


# ------------------------------------------------------------------------------------------
# Kubernetes objects


def make_node_doc(
    name: str = "node-1",
    *,
    kubelet: str | None = "v1.33.4",
    runtime: str | None = "containerd://2.1.4",
    os_image: str | None = "Ubuntu 24.04.2 LTS",
    kernel: str | None = "6.8.0-1018-aws",
    operating_system: str | None = "linux",
    kube_proxy: str | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    conditions: Sequence[Mapping[str, Any]] | None = None,
    created: str | None = "2026-11-01T00:00:00Z",
    provider_id: str | None = None,
    node_info: bool = True,
    kind: bool = True,
) -> dict[str, Any]:
    """A Node as ``kubectl get node -o json`` writes it.  ``None`` leaves a field out."""
    metadata: dict[str, Any] = {"name": name}
    if created is not None:
        metadata["creationTimestamp"] = created
    if labels:
        metadata["labels"] = dict(labels)
    if annotations:
        metadata["annotations"] = dict(annotations)
    doc: dict[str, Any] = {"apiVersion": "v1", "kind": "Node"} if kind else {}
    doc["metadata"] = metadata
    doc["spec"] = {"providerID": provider_id} if provider_id else {}
    status: dict[str, Any] = {}
    if node_info:
        info = {
            "kubeletVersion": kubelet,
            "containerRuntimeVersion": runtime,
            "osImage": os_image,
            "kernelVersion": kernel,
            "operatingSystem": operating_system,
            "kubeProxyVersion": kube_proxy,
            "architecture": "amd64",
        }
        status["nodeInfo"] = {k: v for k, v in info.items() if v is not None}
    if conditions is not None:
        status["conditions"] = [dict(c) for c in conditions]
    doc["status"] = status
    return doc


def make_node(name: str = "node-1", **kw: Any) -> Node:
    return msgspec.convert(make_node_doc(name, **kw), Node)


def make_pod_doc(
    name: str = "pod-1",
    *,
    namespace: str = "default",
    node: str | None = "node-1",
    image: str = "registry.example/app:1.0",
    container: str = "app",
    image_id: str | None = None,
    status: bool = True,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [{"name": container, "image": image}]},
    }
    if node is not None:
        doc["spec"]["nodeName"] = node
    if status:
        doc["status"] = {
            "phase": "Running",
            "containerStatuses": [{"name": container, "image": image, "imageID": image_id or ""}],
        }
    return doc


def make_pod(name: str = "pod-1", **kw: Any) -> Pod:
    return msgspec.convert(make_pod_doc(name, **kw), Pod)


def make_kube_proxy_pod(node: str, image: str, name: str | None = None) -> Pod:
    """A kube-proxy DaemonSet pod on ``node`` running ``image``."""
    return make_pod(
        name or f"kube-proxy-{node}",
        namespace="kube-system",
        node=node,
        image=image,
        container="kube-proxy",
    )


def make_cluster_version_doc(current: str, *, history: Sequence[tuple[str, str]] | None = None) -> dict[str, Any]:
    """OpenShift's ClusterVersion: ``history`` is (state, version) newest first."""
    entries = history if history is not None else [("Completed", current)]
    return {
        "apiVersion": "config.openshift.io/v1",
        "kind": "ClusterVersion",
        "metadata": {"name": "version"},
        "spec": {"channel": "stable-" + ".".join(current.split(".")[:2])},
        "status": {
            "desired": {"version": current},
            "history": [
                {"state": state, "version": version, "completionTime": "2026-11-01T00:00:00Z"}
                for state, version in entries
            ],
        },
    }


def version_doc(git_version: str) -> dict[str, Any]:
    """The body of ``GET /version``."""
    major, minor = git_version.lstrip("v").split(".")[:2]
    return {"major": major, "minor": minor, "gitVersion": git_version, "platform": "linux/amd64"}


# ------------------------------------------------------------------------------------------
# Inventories and contexts


def make_inventory(
    version: str | None = "v1.33.4",
    nodes: Iterable[Node] = (),
    pods: Iterable[Pod] | None = None,
    openshift: OpenShiftClusterVersion | Mapping[str, Any] | None = None,
) -> Inventory:
    """An inventory as a snapshot would give it.  ``pods=None``: pods were not collected at all."""
    node_list = tuple(nodes)
    collected = set()
    if version is not None:
        collected.add(inv.VERSION)
    if node_list:
        collected.add(inv.NODES)
    if pods is not None:
        collected.add(inv.PODS)
    if isinstance(openshift, Mapping):
        openshift = msgspec.convert(openshift, OpenShiftClusterVersion)
    if openshift is not None:
        collected.add(inv.CLUSTER_VERSION)
    return Inventory(
        version=VersionInfo(gitVersion=version) if version is not None else None,
        nodes=node_list,
        pods=tuple(pods or ()),
        openshift=openshift,
        collected=frozenset(collected),
        source="snapshot",
    )


def make_context(
    inventory: Inventory | None = None,
    *,
    version: str | None = _UNSET,
    nodes: Iterable[Node] = (),
    pods: Iterable[Pod] | None = None,
    openshift: OpenShiftClusterVersion | Mapping[str, Any] | None = None,
    as_of: date = AS_OF,
    policy: Policy | None = None,
    tag_resolutions: Mapping[str, Resolution] | None = None,
) -> Context:
    """A check context over the bundled knowledge, as the audit runner builds it."""
    if inventory is None:
        inventory = make_inventory(
            "v1.33.4" if version is _UNSET else version, nodes=nodes, pods=pods, openshift=openshift
        )
    k = knowledge()
    return Context(
        inventory=inventory,
        facts=derive_facts(inventory),
        catalog=k.catalog,
        osv=k.osv,
        policy=policy or Policy(),
        as_of=as_of,
        runtime_compat=k.runtime_compat,
        tag_resolutions=tag_resolutions,
    )


def run(check: CheckSpec | CheckFunction | str, ctx: Context) -> list[Finding]:
    """The findings of one check (by spec, function or id), stamped with its id as the evaluator does."""
    if isinstance(check, CheckSpec):
        spec = check
    else:
        name = check if isinstance(check, str) else check.__name__
        spec = next(c for c in ALL_CHECKS if c.id == name)
    return [stamp(spec.id, judged) for judged in spec.function(ctx)]


def by_subject(findings: Iterable[Finding]) -> dict[str, Finding]:
    out: dict[str, Finding] = {}
    for f in findings:
        assert f.subject not in out, f"two findings for {f.subject}"
        out[f.subject] = f
    return out


def one(check: str, ctx: Context, subject: str | None = None) -> Finding:
    """The single finding of ``check`` (for ``subject`` when given)."""
    findings = run(check, ctx)
    if subject is not None:
        return by_subject(findings)[subject]
    assert len(findings) == 1, [(f.subject, f.status, f.message) for f in findings]
    return findings[0]


def audit_findings(ctx_or_inventory: Context | Inventory, as_of: date = AS_OF) -> tuple[Finding, ...]:
    """Every check through the real runner (ERROR findings included, requirements filled)."""
    inventory = ctx_or_inventory.inventory if isinstance(ctx_or_inventory, Context) else ctx_or_inventory
    return evaluate(inventory, knowledge(), Policy(), as_of)


def statuses(findings: Iterable[Finding]) -> set[Status]:
    return {f.status for f in findings}


def write_json(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path


def one_snapshot_of_nodes(files: Iterable[Path], dest: Path) -> Path:
    """Real node documents from several clusters written into ``dest`` as one snapshot.

    Published node files of different clusters share names (three are called ``minikube``); one
    snapshot is one cluster at one moment, so a name another file already used gets a suffix
    (``minikube-2``).  Nothing else in the documents changes.
    """
    dest.mkdir(parents=True, exist_ok=True)
    seen: dict[str, int] = {}
    for path in files:
        document = json.loads(path.read_text(encoding="utf-8"))
        items = document.get("items") if document.get("kind") == "NodeList" else [document]
        for item in items or ():
            name = item["metadata"]["name"]
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                item["metadata"]["name"] = f"{name}-{seen[name]}"
        (dest / path.name).write_text(json.dumps(document), encoding="utf-8")
    return dest
