"""Reading snapshots: every shape kubectl (and friends) write, in any order and naming; bad input fails in one line."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import time
from pathlib import Path

import pytest
import yaml

from builders import (
    AS_OF,
    DATA,
    audit_findings,
    make_cluster_version_doc,
    make_node_doc,
    make_pod_doc,
    version_doc,
    write_json,
)
from cluster_gen import write_cluster
from patchlevel import inventory as inv
from patchlevel.collect.decode import Decoded, decode_bytes
from patchlevel.collect.snapshot import read_snapshot
from patchlevel.errors import InputError, UsageError
from patchlevel.inventory import Inventory
from patchlevel.model import Status

SNAPSHOTS = DATA / "snapshots"
KUBE = DATA / "kube"
REAL_NODES = [
    KUBE / "kind-ubuntu2204-containerd-v1.25-node.json",
    KUBE / "minikube-ubuntu2004-docker-v1.23-node.json",
    KUBE / "openshift-4.7-rhcos-master-node.json",
    DATA / "nodes" / "minikube-buildroot-docker-v1.15-node.json",
    DATA / "nodes" / "minikube-buildroot-docker-v1.17-node.json",
]


def decode(doc: object | bytes | str, where: str = "test") -> Decoded:
    if isinstance(doc, bytes):
        return decode_bytes(doc, where)
    if isinstance(doc, str):
        return decode_bytes(doc.encode(), where)
    return decode_bytes(json.dumps(doc).encode(), where)


def read_as(inventory: Inventory) -> dict[str, tuple[str, str]]:
    return {Path(i.path).name: (i.read_as, i.reason) for i in inventory.inputs}


# ------------------------------------------------------------------------------------------
# Shapes


def test_single_objects() -> None:
    node = decode(make_node_doc("n1"))
    assert [n.name for n in node.nodes] == ["n1"]
    assert node.nodes[0].info.kubeletVersion == "v1.33.4"
    pod = decode(make_pod_doc("p1", namespace="kube-system"))
    assert [(p.namespace, p.name) for p in pod.pods] == [("kube-system", "p1")]
    assert decode(version_doc("v1.30.2")).version is not None


@pytest.mark.parametrize("list_kind", ["NodeList", "List", None])
def test_node_lists_with_and_without_kinds(list_kind: str | None) -> None:
    """Items of a List carry no kind as the API returns them; some dumps have no list kind either."""
    items = [make_node_doc(f"n{i}", kind=False) for i in range(3)]
    doc: dict[str, object] = {"apiVersion": "v1", "items": items}
    if list_kind:
        doc["kind"] = list_kind
    decoded = decode(doc)
    assert [n.name for n in decoded.nodes] == ["n0", "n1", "n2"]
    assert decoded.list_kinds[list_kind or "List"] == 3


def test_pod_list_and_an_empty_pod_list() -> None:
    decoded = decode({"kind": "PodList", "apiVersion": "v1", "items": [make_pod_doc("a"), make_pod_doc("b")]})
    assert [p.name for p in decoded.pods] == ["a", "b"]
    empty = decode({"kind": "PodList", "apiVersion": "v1", "items": []})
    assert (empty.pods, empty.list_kinds["PodList"], empty.describe()) == ([], 0, "empty PodList")


def test_mixed_list_items() -> None:
    decoded = decode({"kind": "List", "items": [make_node_doc("n"), make_pod_doc("p"), {"kind": "Service"}]})
    assert ([n.name for n in decoded.nodes], [p.name for p in decoded.pods]) == (["n"], ["p"])
    assert decoded.ignored == {"Service": 1}


def test_yaml_multi_document_stream() -> None:
    text = yaml.safe_dump_all([make_node_doc("n1"), None, make_pod_doc("p1"), version_doc("v1.33.4")])
    decoded = decode(text)
    assert ([n.name for n in decoded.nodes], [p.name for p in decoded.pods]) == (["n1"], ["p1"])
    assert decoded.version is not None and decoded.version.gitVersion == "v1.33.4"


def test_yaml_timestamps_stay_strings() -> None:
    decoded = decode("kind: Node\nmetadata:\n  name: n\n  creationTimestamp: 2026-11-01T10:00:00Z\n")
    assert decoded.nodes[0].metadata.creationTimestamp == "2026-11-01T10:00:00Z"


def test_kubectl_version_json_and_yaml() -> None:
    both = {
        "clientVersion": version_doc("v1.33.1"),
        "kustomizeVersion": "v5.6.0",
        "serverVersion": version_doc("v1.31.4"),
    }
    for data in (json.dumps(both), yaml.safe_dump(both)):
        decoded = decode(data)
        assert decoded.version is not None and decoded.version.gitVersion == "v1.31.4"


def test_kubectl_version_without_a_server_is_ignored_with_a_reason() -> None:
    client_only = {"clientVersion": version_doc("v1.33.1"), "kustomizeVersion": "v5.6.0"}
    for data in (json.dumps(client_only), yaml.safe_dump(client_only)):
        decoded = decode(data)
        assert decoded.version is None
        assert decoded.ignored == {"kubectl version output without serverVersion": 1}


def test_eks_minor_with_a_plus_is_fine() -> None:
    """EKS reports minor "31+": the version comes from gitVersion (major and minor are not read)."""
    decoded = decode({"major": "1", "minor": "31+", "gitVersion": "v1.31.13-eks-ecaa3a6"})
    assert decoded.version is not None and decoded.version.gitVersion == "v1.31.13-eks-ecaa3a6"


@pytest.mark.parametrize("kind", [None, "APIServerInfo"])
def test_kubescape_wrapper(kind: str | None) -> None:
    """kubescape stores /version under ``data`` of an APIServerInfo object."""
    doc: dict[str, object] = {"apiVersion": "kubescape.io/v1", "data": version_doc("v1.24.9-gke.3200")}
    if kind:
        doc["kind"] = kind
    for data in (json.dumps(doc), yaml.safe_dump(doc)):
        decoded = decode(data)
        assert decoded.version is not None and decoded.version.gitVersion == "v1.24.9-gke.3200"


def test_concatenated_json_documents() -> None:
    """``kubectl cluster-info dump`` writes several JSON documents one after another."""
    data = (
        json.dumps(version_doc("v1.33.4"), indent=2)
        + "\n"
        + json.dumps({"kind": "NodeList", "items": [make_node_doc("a")]})
    )
    decoded = decode(data)
    assert decoded.version is not None and [n.name for n in decoded.nodes] == ["a"]


def test_bare_json_array_of_objects() -> None:
    """What ``jq .items`` writes: an array of objects, no list wrapper."""
    decoded = decode([make_node_doc("a"), make_node_doc("b", kind=False)])
    assert [n.name for n in decoded.nodes] == ["a", "b"]


def test_byte_order_mark_and_compact_json() -> None:
    real = (DATA / "version" / "kind-v1.20.0-version.json").read_bytes()
    decoded = decode(b"\xef\xbb\xbf" + real)
    assert decoded.version is not None and decoded.version.gitVersion == "v1.20.0"


def test_openshift_cluster_version() -> None:
    decoded = decode(make_cluster_version_doc("4.7.16", history=[("Partial", "4.7.19"), ("Completed", "4.7.16")]))
    assert len(decoded.openshift) == 1
    assert decoded.openshift[0].current == "4.7.16"  # the newest *completed* update
    other = decode({"apiVersion": "example.com/v1", "kind": "ClusterVersion", "status": {}})
    assert other.openshift == [] and other.ignored == {"ClusterVersion": 1}


@pytest.mark.parametrize("path", REAL_NODES, ids=lambda p: p.name)
def test_real_node_files(path: Path) -> None:
    decoded = decode(path.read_bytes(), path.name)
    assert len(decoded.nodes) == 1
    node = decoded.nodes[0]
    assert node.name and node.info.kubeletVersion.startswith("v1.")
    assert node.info.containerRuntimeVersion and node.info.osImage and node.info.kernelVersion


def test_openshift_node_without_kind_is_recognised_by_its_shape() -> None:
    raw = json.loads((KUBE / "openshift-4.7-rhcos-master-node.json").read_text(encoding="utf-8"))
    assert "kind" not in raw
    decoded = decode(raw)
    assert decoded.nodes[0].labels["node.openshift.io/os_id"] == "rhcos"


# ------------------------------------------------------------------------------------------
# Snapshot directories


def test_mixed_shapes_directory() -> None:
    snapshot = read_snapshot(SNAPSHOTS / "mixed-shapes-read")
    assert snapshot.version is not None and snapshot.version.gitVersion == "v1.33.4"
    assert [n.name for n in snapshot.nodes] == ["worker-a", "worker-b"]
    assert sorted(p.name for p in snapshot.pods) == ["kube-proxy-7xk2p", "kube-proxy-9bq4d"]
    assert snapshot.collected == {inv.VERSION, inv.NODES, inv.PODS}
    assert read_as(snapshot) == {
        "README.md": ("ignored", "nothing patchlevel uses (1 document that is not an object)"),
        "cluster-info.txt": ("version v1.33.4, 2 nodes", ""),
        "kubectl-version-client.json": (
            "ignored",
            "nothing patchlevel uses (1 kubectl version output without serverVersion)",
        ),
        "pods.yaml": ("2 pods", ""),
    }  # .partial.json is hidden: skipped, never read
    assert all(len(i.sha256) == 64 for i in snapshot.inputs)


def test_kubescape_wrapper_directory() -> None:
    snapshot = read_snapshot(SNAPSHOTS / "kubescape-wrapper-read")
    assert snapshot.version is not None and snapshot.version.gitVersion == "v1.24.9-gke.3200"
    assert read_as(snapshot) == {"apiserverinfo.json": ("version v1.24.9-gke.3200", "")}


def test_file_order_and_names_do_not_matter(tmp_path: Path) -> None:
    source = SNAPSHOTS / "mixed-shapes-read"
    renamed = {"cluster-info.txt": "zzz", "pods.yaml": "0-pods.yml", "README.md": "m/README.md"}
    for old, new in renamed.items():
        (tmp_path / new).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / old, tmp_path / new)
    a, b = read_snapshot(source), read_snapshot(tmp_path)
    assert a.version == b.version
    assert a.nodes == b.nodes
    assert sorted(p.name for p in a.pods) == sorted(p.name for p in b.pods)


def test_real_node_files_as_a_snapshot(tmp_path: Path) -> None:
    for path in REAL_NODES[:3]:
        shutil.copy(path, tmp_path / path.name)
    shutil.copy(DATA / "version" / "kind-v1.20.0-version.json", tmp_path / "version")
    snapshot = read_snapshot(tmp_path)
    assert sorted(n.name for n in snapshot.nodes) == [
        "attack-chain-6-control-plane",
        "master-0.imeixner20210707.lab.upshift.rdu2.redhat.com",
        "minikube",
    ]
    assert read_as(snapshot)["version"] == ("version v1.20.0", "")
    assert not snapshot.has(inv.PODS)
    assert snapshot.name == tmp_path.name


def test_openshift_snapshot_with_clusterversion(tmp_path: Path) -> None:
    """``oc get clusterversion -o yaml`` writes a List; its history names the OpenShift release."""
    shutil.copy(KUBE / "openshift-4.7-rhcos-master-node.json", tmp_path / "node.json")
    write_json(tmp_path / "version.json", version_doc("v1.20.0+2817867"))
    cv = make_cluster_version_doc("4.7.16", history=[("Partial", "4.7.19"), ("Completed", "4.7.16")])
    (tmp_path / "clusterversion.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [cv]}), encoding="utf-8"
    )
    snapshot = read_snapshot(tmp_path)
    assert snapshot.openshift is not None and snapshot.openshift.current == "4.7.16"
    assert snapshot.has(inv.CLUSTER_VERSION)
    assert read_as(snapshot)["clusterversion.yaml"] == ("1 OpenShift ClusterVersion", "")
    findings = {(f.check, f.subject): f for f in audit_findings(snapshot, AS_OF)}
    control = findings[("control_plane_version_supported", "cluster")]
    assert control.evidence["judged_by"] == "OpenShift 4.7 (ClusterVersion 4.7.16)"
    assert control.status is Status.FAIL
    assert Status.ERROR not in {f.status for f in findings.values()}


def test_gzip_by_name_and_by_content(tmp_path: Path) -> None:
    nodes = json.dumps({"kind": "NodeList", "items": [make_node_doc("gz")]}).encode()
    (tmp_path / "nodes.json.gz").write_bytes(gzip.compress(nodes))
    (tmp_path / "version.json").write_bytes(gzip.compress(json.dumps(version_doc("v1.33.4")).encode()))
    snapshot = read_snapshot(tmp_path)
    assert [n.name for n in snapshot.nodes] == ["gz"]
    assert snapshot.version is not None and snapshot.version.gitVersion == "v1.33.4"


def test_single_file_of_any_name(tmp_path: Path) -> None:
    path = write_json(tmp_path / "output.log", {"kind": "List", "items": [make_node_doc("only")]})
    snapshot = read_snapshot(path)
    assert [n.name for n in snapshot.nodes] == ["only"]
    assert snapshot.name == "output"


def test_same_node_twice_is_counted_once_with_a_warning(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", make_node_doc("dup"))
    write_json(tmp_path / "b.json", {"kind": "NodeList", "items": [make_node_doc("dup")]})
    snapshot = read_snapshot(tmp_path)
    assert len(snapshot.nodes) == 1
    assert snapshot.warnings == ("1 objects appeared more than once in the input; each was counted once",)


def test_empty_file_is_ignored_beside_real_data(tmp_path: Path) -> None:
    (tmp_path / "pods.json").write_bytes(b"  \n")
    write_json(tmp_path / "version.json", version_doc("v1.33.4"))
    snapshot = read_snapshot(tmp_path)
    assert read_as(snapshot)["pods.json"] == ("ignored", "empty file")
    assert not snapshot.has(inv.PODS)  # an empty file does not say "no pods"


def test_a_list_of_unused_kinds_is_reported_as_ignored(tmp_path: Path) -> None:
    """A ServiceList is not "read"; an empty PodList is (it proves the pods were collected, and none exist)."""
    write_json(tmp_path / "services.json", {"kind": "ServiceList", "items": [{"metadata": {"name": "a"}}] * 2})
    write_json(tmp_path / "pods.json", {"kind": "PodList", "apiVersion": "v1", "items": []})
    write_json(tmp_path / "version.json", version_doc("v1.33.4"))
    snapshot = read_snapshot(tmp_path)
    read = read_as(snapshot)
    assert read["services.json"][0] == "ignored"
    assert read["services.json"][1].startswith("nothing patchlevel uses (2 ")
    assert read["pods.json"] == ("empty PodList", "")
    assert snapshot.has(inv.PODS) and snapshot.pods == ()


def test_binary_garbage_without_a_data_name_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "core").write_bytes(bytes(range(256)) * 8)
    write_json(tmp_path / "node.json", make_node_doc("n"))
    assert read_as(read_snapshot(tmp_path))["core"] == ("ignored", "not JSON or YAML")


# ------------------------------------------------------------------------------------------
# Bad input: one-line errors, never a traceback, never a silent pass


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        read_snapshot(tmp_path / "nope")


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is an empty directory"):
        read_snapshot(tmp_path)


def test_directory_with_only_a_readme(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# notes\n\nsome: text\n", encoding="utf-8")
    with pytest.raises(InputError, match="no API server version and no nodes found") as err:
        read_snapshot(tmp_path)
    assert "kubectl version -o json" in str(err.value)


def test_only_empty_files(tmp_path: Path) -> None:
    (tmp_path / "nodes.json").write_bytes(b"")
    with pytest.raises(InputError, match="no API server version and no nodes found"):
        read_snapshot(tmp_path)


def test_truncated_json_names_the_file() -> None:
    with pytest.raises(InputError) as err:
        read_snapshot(SNAPSHOTS / "truncated-json-refused")
    message = str(err.value)
    assert "nodes.json: invalid JSON" in message and "is the file complete?" in message
    assert "\n" not in message


def test_yaml_that_is_not_kubernetes() -> None:
    with pytest.raises(InputError, match="no API server version and no nodes found"):
        read_snapshot(SNAPSHOTS / "not-kubernetes-refused")


def test_two_clusters_are_refused() -> None:
    with pytest.raises(InputError) as err:
        read_snapshot(SNAPSHOTS / "two-clusters-refused")
    assert "two API servers: v1.33.4" in str(err.value)
    assert "v1.31.13-eks-ecaa3a6" in str(err.value)
    assert err.value.hint == "audit one cluster at a time"


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b'{"kind": "Node", "metadata": {"name": 5}}', "$.metadata.name"),
        (b'{"kind": "NodeList", "items": [{"metadata": {"name": "a", "labels": ["x"]}}]}', "$.metadata.labels"),
        (b'{"kind": "NodeList", "items": [{"status": {"nodeInfo": "v1.30"}}]}', "$.status.nodeInfo"),
        (b"kind: Node\nmetadata:\n  name: a\n  labels: [x]\n", "$.metadata.labels"),
    ],
)
def test_wrong_types_inside_an_object(tmp_path: Path, content: bytes, where: str) -> None:
    (tmp_path / "node.json").write_bytes(content)
    with pytest.raises(InputError) as err:
        read_snapshot(tmp_path)
    assert "does not have the expected shape" in str(err.value) and where in str(err.value)


def test_binary_garbage_in_a_data_file(tmp_path: Path) -> None:
    (tmp_path / "nodes.yaml").write_bytes(b"\x00\x01\x02garbage\xff")
    with pytest.raises(InputError, match=r"nodes\.yaml: not JSON or YAML text \(a NUL byte at byte 0\)"):
        read_snapshot(tmp_path)
    (tmp_path / "nodes.yaml").write_bytes(b"kind: Node\n\x01\x02garbage\xff")
    with pytest.raises(InputError, match=r"nodes\.yaml: invalid YAML"):
        read_snapshot(tmp_path)


def test_broken_gzip(tmp_path: Path) -> None:
    (tmp_path / "nodes.json.gz").write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="not a readable gzip file"):
        read_snapshot(tmp_path)


def test_node_without_node_info_gives_unknown_findings() -> None:
    snapshot = read_snapshot(SNAPSHOTS / "node-without-nodeinfo-unknown")
    assert [n.name for n in snapshot.nodes] == ["bare-node"]
    findings = [f for f in audit_findings(snapshot, AS_OF) if f.subject == "node/bare-node"]
    assert {f.check for f in findings} >= {
        "kubelet_version_supported",
        "kubelet_version_skew_allowed",
        "container_runtime_supported",
        "node_os_supported",
        "node_kernel_consistent_in_pool",
    }
    for f in findings:
        if f.check == "node_image_current":  # the creation time is there
            assert f.status is Status.PASS
        else:
            assert f.status is Status.UNKNOWN, (f.check, f.message)
    kubelet = next(f for f in findings if f.check == "kubelet_version_supported")
    assert kubelet.message == "the node reports no kubelet version (nodeInfo missing or empty)"
    assert kubelet.evidence["raw"] is None


# ------------------------------------------------------------------------------------------
# Size


@pytest.mark.slow
def test_a_200_mb_snapshot_reads_in_seconds(tmp_path: Path) -> None:
    """2000 nodes and 20000 pods from tests/cluster_gen.py: about 250 MB of kubectl-style JSON."""
    out = write_cluster(tmp_path / "big", nodes=2000, pods=20000, images=800)
    size = sum(p.stat().st_size for p in out.iterdir())
    assert size > 150_000_000
    started = time.perf_counter()
    snapshot = read_snapshot(out)
    elapsed = time.perf_counter() - started
    assert (len(snapshot.nodes), len(snapshot.pods)) == (2000, 20000)
    assert snapshot.version is not None and snapshot.version.gitVersion.startswith("v1.")
    assert elapsed < 30, f"reading took {elapsed:.1f} s"
    if os.environ.get("PATCHLEVEL_BENCH"):
        print(f"read {size / 1e6:.0f} MB in {elapsed:.1f} s")
