"""The test cluster generator (tests/cluster_gen.py): deterministic, kubectl- and API-shaped, and fast."""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from cluster_gen import write_cluster


@pytest.fixture(scope="module")
def paged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cluster(
        tmp_path_factory.mktemp("paged"), nodes=20, pods=300, images=60, seed=7, pages=True, page_size=128
    )


def items(path: Path) -> list[dict[str, Any]]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return list(document["items"])


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    started = time.perf_counter()
    one = write_cluster(tmp_path / "one", nodes=20, pods=300, images=60, seed=3)
    elapsed = time.perf_counter() - started
    two = write_cluster(tmp_path / "two", nodes=20, pods=300, images=60, seed=3)
    other = write_cluster(tmp_path / "other", nodes=20, pods=300, images=60, seed=4)
    for name in ("version.json", "nodes.json", "pods.json"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    assert (one / "pods.json").read_bytes() != (other / "pods.json").read_bytes()
    assert elapsed < 1.0, f"300 pods took {elapsed:.2f} s"


def test_kubectl_style_lists_are_sorted_and_complete(paged: Path) -> None:
    text = (paged / "pods.json").read_text()
    assert text.startswith('{\n    "apiVersion": "v1",\n    "items": [\n        {\n            "apiVersion": "v1",')
    assert text.endswith(
        '\n    ],\n    "kind": "PodList",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n'
    )
    pods, nodes = items(paged / "pods.json"), items(paged / "nodes.json")
    assert (len(pods), len(nodes)) == (300, 20)
    assert all((p["apiVersion"], p["kind"]) == ("v1", "Pod") for p in pods)
    assert all("managedFields" not in p["metadata"] for p in pods + nodes)  # kubectl hides them
    keys = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods]
    assert keys == sorted(set(keys))
    assert [n["metadata"]["name"] for n in nodes] == sorted({n["metadata"]["name"] for n in nodes})
    assert json.loads((paged / "version.json").read_text())["gitVersion"] == "v1.31.3-eks-59bf375"


def test_pages_hold_the_same_pods_with_continue_tokens(paged: Path) -> None:
    pages = [json.loads(p.read_text()) for p in sorted((paged / "pods").iterdir())]
    assert [len(p["items"]) for p in pages] == [128, 128, 44]
    assert [p["metadata"].get("remainingItemCount") for p in pages] == [172, 44, None]
    assert "continue" not in pages[-1]["metadata"]
    for page in pages[:-1]:
        token = page["metadata"]["continue"]
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        last = page["items"][-1]["metadata"]
        assert decoded["start"] == f"{last['namespace']}/{last['name']}\x00"
        assert str(decoded["rv"]) == page["metadata"]["resourceVersion"]
    served = [p for page in pages for p in page["items"]]
    assert all("kind" not in p and p["metadata"]["managedFields"] for p in served)
    for item in served:
        item["metadata"].pop("managedFields")
    assert served == [
        {k: v for k, v in p.items() if k not in ("apiVersion", "kind")} for p in items(paged / "pods.json")
    ]


def test_the_cluster_has_the_variety_the_checks_need(paged: Path) -> None:
    nodes, pods = items(paged / "nodes.json"), items(paged / "pods.json")
    pools: dict[str, set[str]] = {}
    for node in nodes:
        info = node["status"]["nodeInfo"]
        pools.setdefault(node["metadata"]["labels"]["eks.amazonaws.com/nodegroup"], set()).add(info["kernelVersion"])
        assert "-eks-" in info["kubeletVersion"]
    assert len(pools) == 6
    assert any(len(kernels) > 1 for kernels in pools.values())  # kernel drift inside a pool
    os_images = {n["status"]["nodeInfo"]["osImage"].split(" (")[0].rsplit(".", 1)[0] for n in nodes}
    assert {"Amazon Linux 2", "Ubuntu 20.04", "Ubuntu 22.04", "Bottlerocket OS 1.40"} < os_images
    assert len({n["metadata"]["creationTimestamp"][:7] for n in nodes}) > 3  # nodes of various ages

    assert len({p["metadata"]["namespace"] for p in pods}) > 10
    for pod in pods:
        owner = pod["metadata"]["ownerReferences"][0]
        assert owner["kind"] == "ReplicaSet" and owner["uid"]
        assert owner["name"].endswith("-" + pod["metadata"]["labels"]["pod-template-hash"])
    statuses = [
        s for p in pods for s in p["status"]["containerStatuses"] + p["status"].get("initContainerStatuses", [])
    ]
    waiting = [s for s in statuses if not s["imageID"]]
    assert waiting and all(s["state"] == {"waiting": {"reason": "ContainerCreating"}} for s in waiting)
    assert all(s["imageID"].partition("@")[2].startswith("sha256:") for s in statuses if s["imageID"])
    assert 0.05 < sum("initContainers" in p["spec"] for p in pods) / len(pods) < 0.3
    references = Counter(c["image"] for p in pods for c in p["spec"]["containers"])
    assert references.most_common(1)[0][1] > 5 * sorted(references.values())[len(references) // 2]  # skewed
    assert {s["image"].split("/")[0] for s in statuses} == {
        "docker.io", "registry.k8s.io", "quay.io", "ghcr.io", "444455556666.dkr.ecr.us-east-1.amazonaws.com"
    }  # fmt: skip
    assert any(r.startswith("docker.io/library/") for r in references) and any("/" not in r for r in references)
    assert any("@sha256:" in r for r in references) and any(r.endswith(":latest") for r in references)
