"""Hostile input to the collectors and decoders: duplicates, wrong kinds, odd files, deep and bombed documents.

Each class of issue 14 has a regression test on its reproducer (tests/data/hostile/) and tests
that generalise it over every path the input can take: snapshot files (JSON, YAML, the
streaming slab reader, .gz), evidence bundles and live API pages all go through the same
decoder and assembler, and all must agree.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from builders import make_node_doc, make_pod_doc, version_doc, write_json
from hostile_inputs import HOSTILE, deep_json, deep_yaml, fifo, node_list, small_bundle
from patchlevel import inventory as inv
from patchlevel.collect import snapshot
from patchlevel.collect.assemble import InventoryBuilder
from patchlevel.collect.bundle import read_bundle
from patchlevel.collect.decode import (
    JSON_SNIFF_BYTES,
    LIST_ITEM_KIND,
    decode_bytes,
    decode_json_bytes,
    is_blank,
    looks_like_json,
)
from patchlevel.collect.snapshot import read_snapshot
from patchlevel.errors import InputError, UsageError
from patchlevel.inventory import Inventory


def read_as(inventory: Inventory) -> dict[str, tuple[str, str]]:
    return {Path(i.path).name: (i.read_as, i.reason) for i in inventory.inputs}


# ------------------------------------------------------------------------------------------
# 1. Conflicting duplicates: never last-wins


def test_an_end_of_life_node_cannot_hide_behind_a_newer_copy() -> None:
    """Reproducer: worker-1 is v1.21 in nodes.json and v1.33 in worker-1.json; the newer copy used to win."""
    directory = HOSTILE / "duplicate-node-conflict"
    with pytest.raises(InputError) as raised:
        read_snapshot(directory)
    message = str(raised.value)
    assert message.startswith(
        f"node worker-1 appears in {directory / 'nodes.json'} and in {directory / 'worker-1.json'} with different "
        "content (resourceVersion 90 and 120)"
    )
    assert "keep one copy of each object" in message and "\n" not in message


def test_two_nodes_of_one_name_from_two_clusters_are_named_as_such(tmp_path: Path) -> None:
    """Names are unique within a cluster: different uids mean the input mixes clusters (real minikube files)."""
    for name in ("minikube-buildroot-docker-v1.15-node.json", "minikube-buildroot-docker-v1.17-node.json"):
        (tmp_path / name).write_bytes((HOSTILE.parent / "nodes" / name).read_bytes())
    with pytest.raises(InputError) as raised:
        read_snapshot(tmp_path)
    assert "node minikube appears in" in str(raised.value)
    assert "(uid 3a554aa2-fee7-435b-ae1b-e67bdaac069a and a33a26f0-7688-47b6-8dbf-5a04ea7f43d4: two different " in (
        str(raised.value)
    )


def test_identical_copies_merge_with_a_warning() -> None:
    snap = read_snapshot(HOSTILE / "duplicate-node-identical")
    assert [n.name for n in snap.nodes] == ["worker-1"]
    assert "1 objects appeared more than once in the input; each was counted once" in snap.warnings


def test_two_different_nodes_without_a_name_are_not_merged() -> None:
    with pytest.raises(InputError, match=r"a node without a name appears twice in .*nodes\.json with different"):
        read_snapshot(HOSTILE / "nameless-nodes")


def test_the_same_pod_twice_in_one_list_with_different_images_is_refused() -> None:
    with pytest.raises(InputError, match=r"pod default/app-1 appears twice in .*pods\.json with different content"):
        read_snapshot(HOSTILE / "duplicate-pod-conflict")


def _owner(name: str, uid: str, label: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": "default", "uid": uid, "labels": {"v": label}},
    }


def _cluster_version(version: str) -> dict[str, Any]:
    return {
        "apiVersion": "config.openshift.io/v1",
        "kind": "ClusterVersion",
        "metadata": {"name": "version"},
        "status": {"history": [{"state": "Completed", "version": version}], "desired": {"version": version}},
    }


# (first copy, conflicting copy, what the error names)
CONFLICTS = {
    "node": (make_node_doc("n1"), make_node_doc("n1", kubelet="v1.21.14"), "node n1"),
    "pod": (make_pod_doc("p1"), make_pod_doc("p1", image="registry.example/app:0.1"), "pod default/p1"),
    "nameless pod": (make_pod_doc(""), make_pod_doc("", image="b:1"), "a pod without a name in namespace 'default'"),
    "owner": (_owner("rs", "u1", "a"), _owner("rs", "u1", "b"), "ReplicaSet rs"),
    "cluster version": (_cluster_version("4.7.16"), _cluster_version("4.7.2"), "the OpenShift ClusterVersion"),
}


@pytest.mark.parametrize("kind", CONFLICTS)
@pytest.mark.parametrize("form", ["json", "yaml", "one-file"])
def test_differing_copies_are_refused_on_every_snapshot_path(tmp_path: Path, kind: str, form: str) -> None:
    first, second, named = CONFLICTS[kind]
    write_json(tmp_path / "version.json", version_doc("v1.33.4"))
    if form == "one-file":
        write_json(tmp_path / "all.json", {"kind": "List", "apiVersion": "v1", "items": [first, second]})
        expected = f"{named} appears twice in {tmp_path / 'all.json'}"
    else:
        write_json(tmp_path / "a.json", first)
        (tmp_path / f"b.{form}").write_text(
            json.dumps(second) if form == "json" else yaml.safe_dump(second), encoding="utf-8"
        )
        expected = f"{named} appears in {tmp_path / 'a.json'} and in {tmp_path / f'b.{form}'}"
    with pytest.raises(InputError) as raised:
        read_snapshot(tmp_path)
    assert str(raised.value).startswith(f"{expected} with different content")


@pytest.mark.parametrize("kind", CONFLICTS)
def test_identical_copies_from_json_and_yaml_merge(tmp_path: Path, kind: str) -> None:
    first, _, _ = CONFLICTS[kind]
    write_json(tmp_path / "version.json", version_doc("v1.33.4"))
    write_json(tmp_path / "a.json", {"kind": "List", "items": [first, first]})
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(first), encoding="utf-8")
    snap = read_snapshot(tmp_path)
    assert "2 objects appeared more than once in the input; each was counted once" in snap.warnings


def test_the_streamed_reader_refuses_differing_copies_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "STREAM_MIN_BYTES", 1)
    write_json(tmp_path / "nodes.json", node_list(*(make_node_doc(f"n{i}") for i in range(5))))
    write_json(tmp_path / "old.json", node_list(make_node_doc("n3", kubelet="v1.21.14")))
    with pytest.raises(InputError, match=r"^node n3 appears in .*nodes\.json and in .*old\.json with different"):
        read_snapshot(tmp_path)


def test_live_pages_and_bundles_share_the_rule(tmp_path: Path) -> None:
    builder = InventoryBuilder("live")
    builder.add(
        decode_json_bytes(json.dumps(node_list(make_node_doc("n1"))).encode(), "ctx:nodes/page-0001.json"),
        "ctx:nodes/page-0001.json",
    )
    again = node_list(make_node_doc("n1", os_image="Ubuntu 16.04.7 LTS"))
    with pytest.raises(InputError, match=r"^node n1 appears in ctx:nodes/page-0001\.json and in ctx:nodes/page-0002"):
        builder.add(
            decode_json_bytes(json.dumps(again).encode(), "ctx:nodes/page-0002.json"), "ctx:nodes/page-0002.json"
        )

    bundle = small_bundle(tmp_path / "b", [make_node_doc("n1"), make_node_doc("n1", kubelet="v1.20.0")])
    with pytest.raises(InputError, match=r"^node n1 appears twice in hostile:nodes/page-0001\.json"):
        read_bundle(bundle)


# ------------------------------------------------------------------------------------------
# 2. Wrong kind in a list: the item's own kind wins, the mismatch is reported


def test_a_nodelist_of_pods_gives_pods_not_phantom_nodes() -> None:
    """Reproducer: a NodeList holding two kind: Pod items used to make two phantom nodes."""
    snap = read_snapshot(HOSTILE / "nodelist-of-pods")
    assert [n.name for n in snap.nodes] == ["worker-1"]
    assert sorted(p.metadata.name for p in snap.pods) == ["phantom-1", "phantom-2"]
    shown = HOSTILE / "nodelist-of-pods" / "nodes.json"
    assert f"{shown}: a NodeList holds 2 items of kind 'Pod'; each was read as its own kind, not as Node" in (
        snap.warnings
    )


def _kind_of(kind: str) -> dict[str, Any]:
    if kind == "Node":
        return make_node_doc("item")
    if kind == "Pod":
        return make_pod_doc("item")
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": "item", "namespace": "default", "uid": kind}}


@pytest.mark.parametrize("list_kind", sorted(k for k in LIST_ITEM_KIND if k != "VulnerabilityReportList"))
@pytest.mark.parametrize("item_kind", ["Node", "Pod", "ReplicaSet", "Secret"])
@pytest.mark.parametrize("form", ["json", "yaml"])
def test_every_typed_list_reads_items_as_their_own_kind(list_kind: str, item_kind: str, form: str) -> None:
    document = {"apiVersion": "v1", "kind": list_kind, "items": [_kind_of(item_kind)]}
    data = json.dumps(document).encode() if form == "json" else yaml.safe_dump(document).encode()
    decoded = decode_bytes(data, "list.json")
    got = {"Node": len(decoded.nodes), "Pod": len(decoded.pods), "ReplicaSet": len(decoded.owners)}
    assert got == {k: int(k == item_kind) for k in got}
    if item_kind == LIST_ITEM_KIND[list_kind]:
        assert decoded.warnings("list.json") == []
        assert decoded.list_kinds[list_kind] == 1
    else:
        [warning] = decoded.warnings("list.json")
        assert warning.startswith(f"list.json: a {list_kind} holds 1 item of kind '{item_kind}'; it was read as")
        assert decoded.list_kinds[list_kind] == 0  # a list whose items are not what it says proves nothing


def test_the_streamed_reader_falls_back_and_reports_the_mismatch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "STREAM_MIN_BYTES", 1)
    write_json(tmp_path / "version.json", version_doc("v1.33.4"))
    items = [{k: v for k, v in make_node_doc(f"n{i}").items() if k != "kind"} for i in range(20)]
    write_json(tmp_path / "nodes.json", node_list(*items, make_pod_doc("sneaky")))
    snap = read_snapshot(tmp_path)
    assert len(snap.nodes) == 20 and [p.metadata.name for p in snap.pods] == ["sneaky"]
    assert any("a NodeList holds 1 item of kind 'Pod'" in w for w in snap.warnings)
    assert snap.has(inv.NODES)


def test_a_nodelist_of_only_pods_does_not_say_nodes_were_collected() -> None:
    decoded = decode_bytes(json.dumps(node_list(make_pod_doc("a"))).encode(), "x")
    builder = InventoryBuilder("snapshot")
    builder.add(decoded, "x")
    assert not builder.build().has(inv.NODES)


# ------------------------------------------------------------------------------------------
# 5. FIFOs, devices, sockets and links in a snapshot folder: reported, never opened


def _odd_entries(root: Path, stack: contextlib.ExitStack) -> dict[str, str]:
    """Every kind of non-regular entry a folder can hold; name -> the reason the report must give."""
    stack.enter_context(fifo(root / "pipe.json"))
    (root / "loop.json").symlink_to("loop.json")
    (root / "zero.json").symlink_to("/dev/zero")
    (root / "gone.json").symlink_to(root / "missing.json")
    (root / "elsewhere").symlink_to(root.parent)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(root / "api.sock"))
    listener.close()
    return {
        "pipe.json": "a FIFO (named pipe), not read",
        "loop.json": "a symbolic link loop, not read",
        "zero.json": "a symbolic link to a character device, not read",
        "gone.json": "a broken symbolic link, not read",
        "elsewhere": "a symbolic link to a directory, not followed",
        "api.sock": "a socket, not read",
    }


def test_non_regular_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    root = tmp_path / "snap"
    root.mkdir()
    write_json(root / "version.json", version_doc("v1.33.4"))
    with contextlib.ExitStack() as stack:
        expected = _odd_entries(root, stack)
        read = read_as(read_snapshot(root))
    assert {name: read[name] for name in expected} == {name: ("ignored", why) for name, why in expected.items()}
    assert read["version.json"][0] == "version v1.33.4"


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        ("fifo", "a FIFO (named pipe)"),
        (lambda p: p.symlink_to("/dev/null"), "a symbolic link to a character device"),
        (lambda p: p.symlink_to(p), "a symbolic link loop"),
    ],
)
def test_a_snapshot_path_that_is_no_file_or_folder_is_a_usage_error(tmp_path: Path, make: Any, problem: str) -> None:
    path = tmp_path / "snapshot"
    with contextlib.ExitStack() as stack:
        if make == "fifo":
            stack.enter_context(fifo(path))
        else:
            make(path)
        with pytest.raises(UsageError) as raised:
            read_snapshot(path)
    assert str(raised.value).startswith(f"{path} is {problem}, not a snapshot directory, snapshot file or evidence")


def test_dev_null_is_named_for_what_it_is() -> None:
    with pytest.raises(UsageError, match=r"^/dev/null is a character device, not a snapshot directory"):
        read_snapshot(Path("/dev/null"))


# ------------------------------------------------------------------------------------------
# 6. Deep JSON and YAML, alias bombs: one line, no RecursionError


@pytest.mark.parametrize("name", ["nodes.json", "nodes.txt", "nodes.yaml"])
@pytest.mark.parametrize("inside", ["", "Node", "Secret"])
def test_100000_deep_json_is_a_one_line_error_or_ignored(tmp_path: Path, name: str, inside: str) -> None:
    (tmp_path / name).write_bytes(deep_json(inside=inside))
    write_json(tmp_path / "version.json", version_doc("v1.33.4"))
    if name == "nodes.txt":  # not named as data: ignored with the reason
        reason = read_as(read_snapshot(tmp_path))[name]
        assert reason[0] == "ignored" and "nested too deeply" in reason[1]
        return
    with pytest.raises(InputError) as raised:
        read_snapshot(tmp_path)
    assert str(raised.value) == (
        f"{tmp_path / name}: JSON nested too deeply (more than about 1,000 levels) to be a Kubernetes object or "
        "scan report"
    )


def test_deep_yaml_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "nodes.yaml").write_bytes(deep_yaml())
    with pytest.raises(InputError, match=r"nodes\.yaml: invalid YAML at line 2.*nesting depth"):
        read_snapshot(tmp_path)


def test_a_yaml_alias_bomb_is_refused_before_it_expands() -> None:
    with pytest.raises(InputError) as raised:
        read_snapshot(HOSTILE / "yaml-alias-bomb")
    assert str(raised.value).endswith(
        "nodes.yaml: YAML aliases expand the document by more than 100,000 nodes (an alias bomb?)"
    )


def test_a_recursive_yaml_alias_is_refused(tmp_path: Path) -> None:
    (tmp_path / "nodes.yaml").write_text("kind: Node\nmetadata: &m\n  labels: *m\n", encoding="utf-8")
    with pytest.raises(InputError, match="a YAML alias refers to a node that contains it"):
        read_snapshot(tmp_path)


def test_a_few_yaml_aliases_are_still_fine(tmp_path: Path) -> None:
    (tmp_path / "nodes.yaml").write_text(
        "kind: NodeList\nitems:\n"
        "- &n {kind: Node, metadata: {name: a}, status: {nodeInfo: &i {kubeletVersion: v1.33.4}}}\n"
        "- {kind: Node, metadata: {name: b}, status: {nodeInfo: *i}}\n",
        encoding="utf-8",
    )
    assert [n.info.kubeletVersion for n in read_snapshot(tmp_path).nodes] == ["v1.33.4", "v1.33.4"]


# ------------------------------------------------------------------------------------------
# 7. Compressed files: streamed, bounded, binary content never read whole


def test_a_gz_file_that_expands_past_the_limit_is_a_one_line_error(tmp_path: Path) -> None:
    document = json.dumps(node_list(*(make_node_doc(f"n{i}") for i in range(400)))).encode()
    (tmp_path / "nodes.json.gz").write_bytes(gzip.compress(document))
    with pytest.raises(InputError) as raised:
        read_snapshot(tmp_path, max_bytes=len(document) - 1)
    assert str(raised.value) == (
        f"cannot read {tmp_path / 'nodes.json.gz'}: it decompresses to more than {len(document) - 1:,} bytes, the "
        "input size limit (set PATCHLEVEL_MAX_INPUT_BYTES to allow more)"
    )
    assert len(read_snapshot(tmp_path, max_bytes=len(document)).nodes) == 400


def test_the_limit_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_json(tmp_path / "nodes.json", node_list(make_node_doc("n")))
    monkeypatch.setenv("PATCHLEVEL_MAX_INPUT_BYTES", "100")
    with pytest.raises(InputError, match=r"it holds more than 100 bytes, the input size limit"):
        read_snapshot(tmp_path)
    monkeypatch.setenv("PATCHLEVEL_MAX_INPUT_BYTES", "1M")
    assert len(read_snapshot(tmp_path).nodes) == 1
    monkeypatch.setenv("PATCHLEVEL_MAX_INPUT_BYTES", "lots")
    with pytest.raises(UsageError, match=r"PATCHLEVEL_MAX_INPUT_BYTES='lots' is not a size"):
        read_snapshot(tmp_path)


@pytest.mark.parametrize("name", ["nodes.json.gz", "dump.gz"])
def test_gzipped_zeros_are_refused_after_the_first_bytes(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(gzip.compress(bytes(8 * 1024 * 1024)))
    write_json(tmp_path / "version.json", version_doc("v1.33.4"))
    if name == "dump.gz":
        assert read_as(read_snapshot(tmp_path))[name] == ("ignored", "not JSON or YAML")
        return
    with pytest.raises(InputError, match=r"nodes\.json\.gz: not JSON or YAML text \(a NUL byte at byte 0\)"):
        read_snapshot(tmp_path)


def test_a_large_gz_list_is_decoded_as_it_is_decompressed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "STREAM_MIN_BYTES", 4096)
    document = json.dumps(node_list(*(make_node_doc(f"n{i}") for i in range(200))), indent=4).encode()
    (tmp_path / "nodes.json.gz").write_bytes(gzip.compress(document))
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "nodes.json").write_bytes(document)
    streamed, whole = read_snapshot(tmp_path), read_snapshot(plain)
    assert streamed.nodes == whole.nodes and len(streamed.nodes) == 200
    assert read_as(streamed)["nodes.json.gz"] == ("200 nodes", "")
    assert streamed.inputs[0].sha256 == whole.inputs[0].sha256  # the content's hash, as before


def test_a_truncated_gz_file_is_a_one_line_error(tmp_path: Path) -> None:
    data = gzip.compress(json.dumps(node_list(make_node_doc("n"))).encode())
    (tmp_path / "nodes.json.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cannot read .*nodes\.json\.gz: not a readable gzip file"):
        read_snapshot(tmp_path)


# ------------------------------------------------------------------------------------------
# 8. Sniffing JSON: linear in the blank space before the first bracket, and bounded


@pytest.mark.parametrize("blank", [b" ", b"\n", b"\t", b"\r\n"])
def test_sniffing_a_long_blank_run_is_linear(blank: bytes) -> None:
    """32 KiB of blanks that open nothing: microseconds when linear, seconds when quadratic (as it was).

    Kept small so that a regression fails here rather than hangs; the 128 KiB and 8 MB reproducers
    run through ``patchlevel audit`` in a child process with a timeout (tests/test_hostile_corpus.py).
    """
    data = blank * (32 * 1024 // len(blank)) + b"x"
    started = time.perf_counter()
    assert not looks_like_json(data)
    assert not looks_like_json(b"\xef\xbb\xbf" + data)
    assert not is_blank(data)
    assert is_blank(data[:-1])
    assert time.perf_counter() - started < 1


def test_json_past_a_megabyte_of_blanks_is_read_as_yaml(tmp_path: Path) -> None:
    """The sniffer looks only so far; what it does not call JSON is read as YAML, of which JSON is a subset."""
    document = b" " * JSON_SNIFF_BYTES + json.dumps(node_list(make_node_doc("n1"))).encode()
    assert not looks_like_json(document)
    assert looks_like_json(document[1:])
    (tmp_path / "nodes.json").write_bytes(document)
    assert [n.name for n in read_snapshot(tmp_path).nodes] == ["n1"]
