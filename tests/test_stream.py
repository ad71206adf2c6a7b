"""The streaming reader for large pretty-printed lists: same objects as a whole decode, or a fallback."""

from __future__ import annotations

import gc
import hashlib
import json
from pathlib import Path

import pytest

from patchlevel.collect import snapshot
from patchlevel.collect.decode import Decoded, decode_json_bytes, decode_slab
from patchlevel.collect.stream import NotStreamable, stream_items
from patchlevel.errors import InputError


def make_pod(i: int, with_kind: bool = True) -> dict[str, object]:
    pod: dict[str, object] = {
        "metadata": {
            "name": f"app-{i}",
            "namespace": f"team-{i % 7}",
            "uid": f"uid-{i}",
            # values that look like the cut pattern must not confuse it (escaped newline, braces)
            "labels": {"app": f"app-{i % 13}", "note": "line one\n        }, {tricky"},
            "annotations": {"big": "x" * (i % 500)},
        },
        "spec": {
            "nodeName": f"node-{i % 5}",
            "containers": [{"name": "c0", "image": f"registry.example/app-{i % 17}:1.{i % 3}"}],
        },
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "c0",
                    "image": f"registry.example/app-{i % 17}:1.{i % 3}",
                    "imageID": f"registry.example/app-{i % 17}@sha256:{i % 17:064x}",
                }
            ],
        },
    }
    if with_kind:
        return {"apiVersion": "v1", "kind": "Pod", **pod}
    return pod


def write_list(
    path: Path, kind: str, items: list[dict[str, object]], indent: int = 4, kind_first: bool = False
) -> bytes:
    doc: dict[str, object] = {"apiVersion": "v1"}
    if kind_first:
        doc["kind"] = kind
    doc["items"] = items
    if not kind_first:
        doc["kind"] = kind
    doc["metadata"] = {"resourceVersion": ""}
    data = json.dumps(doc, indent=indent).encode()
    path.write_bytes(data)
    return data


def collect(path: Path, chunk_size: int) -> tuple[Decoded, str, str | None]:
    out = Decoded()
    result = stream_items(path, lambda slab, kind: decode_slab(slab, kind, out), chunk_size=chunk_size)
    return out, result.sha256, result.list_kind


@pytest.mark.parametrize("chunk_size", [512, 4096, 1 << 20])
@pytest.mark.parametrize("indent", [2, 4])
def test_stream_gives_the_same_pods_as_a_whole_decode(tmp_path: Path, chunk_size: int, indent: int) -> None:
    path = tmp_path / "pods.json"
    data = write_list(path, "PodList", [make_pod(i, with_kind=False) for i in range(300)], indent=indent)
    streamed, digest, kind = collect(path, chunk_size)
    whole = decode_json_bytes(data, str(path))
    assert kind == "PodList"
    assert digest == hashlib.sha256(data).hexdigest()
    assert len(streamed.pods) == 300
    assert streamed.pods == whole.pods
    assert streamed.pods[123].metadata.labels == {"app": "app-6", "note": "line one\n        }, {tricky"}


def test_decoded_pods_and_nodes_cost_the_cycle_collector_nothing(tmp_path: Path) -> None:
    """Pods, nodes and their parts are acyclic and untracked: a full collection need not walk 150,000 pods."""
    path = tmp_path / "pods.json"
    node = {"kind": "Node", "metadata": {"name": "n1", "labels": {"a": "b"}}, "status": {"nodeInfo": {}}}
    data = write_list(path, "List", [make_pod(i) for i in range(40)] + [node])
    streamed, _, _ = collect(path, 2048)
    whole = decode_json_bytes(data, str(path))
    for decoded in (streamed, whole):
        assert len(decoded.pods) == 40 and len(decoded.nodes) == 1
        for obj in [*decoded.pods, *decoded.nodes]:
            parts = (obj, obj.metadata, obj.spec, obj.status)
            assert not any(gc.is_tracked(part) for part in parts), obj.metadata.name


def test_kubectl_style_list_with_kind_last_uses_each_items_kind(tmp_path: Path) -> None:
    path = tmp_path / "pods.json"
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "n1"},
        "status": {"nodeInfo": {"kubeletVersion": "v1.33.1"}},
    }
    write_list(path, "List", [make_pod(i) for i in range(50)] + [node], indent=4)
    streamed, _, kind = collect(path, 2048)
    assert kind == "List"
    assert len(streamed.pods) == 50
    assert [n.name for n in streamed.nodes] == ["n1"]


def test_api_order_with_kind_first(tmp_path: Path) -> None:
    path = tmp_path / "pods.json"
    write_list(path, "PodList", [make_pod(i, with_kind=False) for i in range(20)], kind_first=True)
    streamed, _, kind = collect(path, 1024)
    assert kind == "PodList"
    assert len(streamed.pods) == 20


def test_compact_json_is_not_streamable(tmp_path: Path) -> None:
    path = tmp_path / "pods.json"
    path.write_text(json.dumps({"kind": "PodList", "items": [make_pod(1)]}))
    with pytest.raises(NotStreamable):
        collect(path, 1024)


def test_read_snapshot_streams_large_files_and_falls_back_when_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "STREAM_MIN_BYTES", 1)
    (tmp_path / "version.json").write_text('{"gitVersion": "v1.33.2"}')
    # a kubectl-style List mixing a ReplicaSet in: the slab decoder refuses it, the whole decoder reads it
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "app-7d9", "namespace": "team-0", "uid": "rs1"},
    }
    write_list(tmp_path / "mixed.json", "List", [make_pod(i) for i in range(30)] + [rs])
    write_list(tmp_path / "more.json", "PodList", [make_pod(i, with_kind=False) for i in range(30, 90)])
    inventory = snapshot.read_snapshot(tmp_path)
    assert len(inventory.pods) == 90
    assert [o.kind for o in inventory.owners.values()] == ["ReplicaSet"]
    by_path = {Path(i.path).name: i for i in inventory.inputs}
    assert by_path["more.json"].read_as == "60 pods"
    assert by_path["more.json"].sha256 == hashlib.sha256((tmp_path / "more.json").read_bytes()).hexdigest()
    assert by_path["mixed.json"].read_as == "30 pods, 1 workload owner"


def test_truncated_large_file_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "STREAM_MIN_BYTES", 1)
    path = tmp_path / "pods.json"
    data = write_list(path, "PodList", [make_pod(i) for i in range(40)])
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(InputError) as error:
        snapshot.read_snapshot(tmp_path)
    assert "pods.json: invalid JSON" in str(error.value)
    assert "\n" not in str(error.value)
