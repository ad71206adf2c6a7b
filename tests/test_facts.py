"""What the cluster is: distribution (and why), node pools, node image dates, kube-proxy versions."""

from __future__ import annotations

import json
from datetime import date

import msgspec
import pytest

from builders import (
    DATA,
    make_cluster_version_doc,
    make_inventory,
    make_kube_proxy_pod,
    make_node,
    make_pod,
    make_pod_doc,
)
from patchlevel.facts import (
    derive_facts,
    detect_distribution,
    kube_proxy_versions,
    node_image,
    node_pool,
    openshift_release_for_kube_minor,
    parse_timestamp,
)
from patchlevel.kube import Node, Pod
from patchlevel.versions import parse_kube_version


def real_node(path: str) -> Node:
    return msgspec.convert(json.loads((DATA / path).read_text(encoding="utf-8")), Node)


@pytest.mark.parametrize(
    ("api", "distribution", "provider_patches"),
    [
        ("v1.31.13-eks-ecaa3a6", "eks", True),
        ("v1.16.13-eks-ec92d4", "eks", True),
        ("v1.24.9-gke.3200", "gke", True),
        ("v1.28.3-hotfix.20231026", "aks", True),
        ("v1.20.0+2817867", "openshift", False),
        ("v1.31.5+k3s1", "k3s", False),
        ("v1.27.10+rke2r1", "rke2", False),
        ("v1.33.4", "upstream", False),
        ("v1.9.0-alpha.0.478+e5facc9bfcc1e1-dirty", "upstream", False),
        ("v1.21.2-13+d2965f0db10712", "unknown", False),
    ],
)
def test_distribution_from_the_api_server_version(api: str, distribution: str, provider_patches: bool) -> None:
    dist = detect_distribution(parse_kube_version(api), make_inventory(api))
    assert (dist.id, dist.provider_patches_control_plane) == (distribution, provider_patches)
    assert dist.evidence


def test_lifecycle_products_per_distribution() -> None:
    products = {
        d: detect_distribution(parse_kube_version(v), make_inventory(v)).lifecycle_product
        for d, v in [("eks", "v1.31.1-eks-1234567"), ("k3s", "v1.31.5+k3s1"), ("openshift", "v1.20.0+2817867")]
    }
    assert products == {"eks": "amazon-eks", "k3s": "kubernetes", "openshift": "red-hat-openshift"}


@pytest.mark.parametrize(
    ("labels", "annotations", "provider_id", "distribution", "evidence"),
    [
        ({"kubernetes.azure.com/agentpool": "np1"}, {}, None, "aks", "1 node(s) carry Azure Kubernetes Service labels"),
        ({"eks.amazonaws.com/nodegroup": "ng"}, {}, None, "eks", "1 node(s) carry Amazon EKS labels"),
        ({"cloud.google.com/gke-nodepool": "p"}, {}, None, "gke", "1 node(s) carry Google Kubernetes Engine labels"),
        ({"node.openshift.io/os_id": "rhcos"}, {}, None, "openshift", "1 node(s) carry Red Hat OpenShift labels"),
        ({}, {"machineconfiguration.openshift.io/state": "Done"}, None, "openshift", None),
        ({}, {}, "k3s://node-1", "k3s", "1 node(s) carry k3s labels"),
        ({}, {"k3s.io/node-args": "[]"}, None, "k3s", None),
        ({}, {"rke2.io/node-args": "[]"}, None, "rke2", "1 node(s) carry RKE2 labels"),
        ({"kubernetes.io/os": "linux"}, {}, "kind://docker/demo/n", "upstream", None),
    ],
)
def test_distribution_from_node_labels(
    labels: dict[str, str],
    annotations: dict[str, str],
    provider_id: str | None,
    distribution: str,
    evidence: str | None,
) -> None:
    """AKS does not mark its version string: its nodes' labels say it."""
    node = make_node("n", kubelet="v1.31.8", labels=labels, annotations=annotations, provider_id=provider_id)
    dist = detect_distribution(parse_kube_version("v1.31.8"), make_inventory("v1.31.8", nodes=[node]))
    assert dist.id == distribution
    if evidence:
        assert dist.evidence == evidence


def test_clusterversion_means_openshift() -> None:
    inventory = make_inventory("v1.33.4", openshift=make_cluster_version_doc("4.20.3"))
    facts = derive_facts(inventory)
    assert (facts.distribution.id, facts.openshift_release) == ("openshift", "4.20.3")
    assert facts.distribution.evidence == "an OpenShift ClusterVersion object is in the input"


def test_distribution_without_an_api_version() -> None:
    assert detect_distribution(None, make_inventory(None)).id == "unknown"
    plain = make_inventory(None, nodes=[make_node("n", kubelet="v1.33.4")])
    assert detect_distribution(None, plain).id == "upstream"
    gke = make_inventory(None, nodes=[make_node("n", kubelet="v1.10.7-gke.2")])
    assert detect_distribution(None, gke).evidence == "1 kubelet version(s) name gke"


def test_node_distribution_falls_back_to_the_cluster() -> None:
    inventory = make_inventory(
        "v1.31.13-eks-ecaa3a6",
        nodes=[
            make_node("eks", kubelet="v1.31.13-eks-ecaa3a6"),
            make_node("plain", kubelet="v1.31.13"),
            make_node("k3s", kubelet="v1.31.5+k3s1"),
        ],
    )
    by_name = {n.name: n.distribution.id for n in derive_facts(inventory).nodes}
    assert by_name == {"eks": "eks", "plain": "eks", "k3s": "k3s"}


def test_openshift_release_for_kube_minor() -> None:
    assert [openshift_release_for_kube_minor(m) for m in (13, 14, 15, 16, 17, 20, 33)] == [
        "4.1",
        "4.2",
        None,
        "4.3",
        "4.4",
        "4.7",
        "4.20",
    ]


@pytest.mark.parametrize(
    ("labels", "annotations", "pool"),
    [
        ({"eks.amazonaws.com/nodegroup": "ng-1"}, {}, "eks.amazonaws.com/nodegroup=ng-1"),
        ({"karpenter.sh/nodepool": "default"}, {}, "karpenter.sh/nodepool=default"),
        ({"cloud.google.com/gke-nodepool": "pool-1"}, {}, "cloud.google.com/gke-nodepool=pool-1"),
        ({"kubernetes.azure.com/agentpool": "np1", "agentpool": "np1"}, {}, "kubernetes.azure.com/agentpool=np1"),
        (
            {"node.openshift.io/os_id": "rhcos", "node-role.kubernetes.io/worker": ""},
            {},
            "node-role.kubernetes.io/worker",
        ),
        (
            {"node-role.kubernetes.io/master": ""},
            {"machineconfiguration.openshift.io/state": "Done"},
            "node-role.kubernetes.io/master",
        ),
        ({"node-role.kubernetes.io/control-plane": ""}, {}, ""),  # not OpenShift: a role is not a pool
        ({}, {}, ""),
    ],
)
def test_node_pools(labels: dict[str, str], annotations: dict[str, str], pool: str) -> None:
    assert node_pool(make_node("n", labels=labels, annotations=annotations)) == pool


@pytest.mark.parametrize(
    ("label", "built"),
    [
        ("AKSUbuntu-2204gen2containerd-202509.23.0", date(2025, 9, 23)),
        ("AKSUbuntu-1804gen2containerd-2022.07.19", date(2022, 7, 19)),
        ("AKSCBLMariner-V2gen2-202405.20.0", date(2024, 5, 20)),
        ("AKSUbuntu-2204gen2containerd-latest", None),
        ("AKSUbuntu-2204gen2containerd-202513.45.0", None),  # month 13: not a date
    ],
)
def test_aks_node_image_dates(label: str, built: date | None) -> None:
    node = make_node("aks", labels={"kubernetes.azure.com/node-image-version": label})
    facts = derive_facts(make_inventory("v1.31.8", nodes=[node])).nodes[0]
    image = node_image(facts)
    assert (image.built, image.name) == (built, label)
    assert image.source.startswith("label kubernetes.azure.com/node-image-version")


def test_node_image_from_a_dated_os_build_or_nothing() -> None:
    nodes = [make_node("al", os_image="Amazon Linux 2023.9.20251208"), make_node("u", os_image="Ubuntu 24.04.2 LTS")]
    facts = derive_facts(make_inventory("v1.33.4", nodes=nodes)).nodes
    assert node_image(facts[0]).built == date(2025, 12, 8)
    assert node_image(facts[1]).built is None


def test_kube_proxy_versions_from_pods() -> None:
    pods = [
        make_kube_proxy_pod("a", "registry.k8s.io/kube-proxy:v1.33.4"),
        make_kube_proxy_pod("b", "registry.k8s.io/kube-proxy@sha256:" + "c" * 64),
        make_pod("web", node="a", image="nginx:1.27"),
        make_pod("pending-proxy", namespace="kube-system", node=None, image="registry.k8s.io/kube-proxy:v1.33.4"),
    ]
    found = kube_proxy_versions(make_inventory("v1.33.4", nodes=[make_node("a"), make_node("b")], pods=pods))
    assert set(found) == {"a", "b"}
    version, source = found["a"]
    assert version is not None and version.semver == "1.33.4"
    assert source == "pod kube-system/kube-proxy-a image registry.k8s.io/kube-proxy:v1.33.4"
    assert found["b"][0] is None  # pinned by digest: no version in the reference


def test_kube_proxy_digest_pinned_spec_takes_the_status_tag() -> None:
    doc = make_pod_doc(
        "kube-proxy-x",
        namespace="kube-system",
        node="a",
        container="kube-proxy",
        image="registry.k8s.io/kube-proxy@sha256:" + "d" * 64,
    )
    doc["status"]["containerStatuses"][0]["image"] = "registry.k8s.io/kube-proxy:v1.33.2"  # what the kubelet resolved
    pod = msgspec.convert(doc, Pod)
    found = kube_proxy_versions(make_inventory("v1.33.4", nodes=[make_node("a")], pods=[pod]))
    version = found["a"][0]
    assert version is not None and version.semver == "1.33.2"


def test_node_facts_of_real_nodes() -> None:
    rhcos = real_node("kube/openshift-4.7-rhcos-master-node.json")
    kind = real_node("kube/kind-ubuntu2204-containerd-v1.25-node.json")
    facts = {n.name: n for n in derive_facts(make_inventory("v1.20.0+2817867", nodes=[rhcos, kind])).nodes}
    ocp = facts["master-0.imeixner20210707.lab.upshift.rdu2.redhat.com"]
    assert (ocp.pool, ocp.os.cycle, ocp.distribution.id) == ("node-role.kubernetes.io/master", "4.7", "openshift")
    assert ocp.kube_proxy is None
    assert ocp.kube_proxy_source.startswith("kube-proxy pods are not in the input")
    assert facts["attack-chain-6-control-plane"].subject == "node/attack-chain-6-control-plane"


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-11-01T10:00:00Z", date(2026, 11, 1)),
        ("2021-07-07T11:23:18+02:00", date(2021, 7, 7)),
        ("not a time", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_timestamp(text: str | None, day: date | None) -> None:
    parsed = parse_timestamp(text)
    assert (parsed.date() if parsed else None) == day


def test_node_and_agent_timestamps_are_read_in_utc_and_never_overflow() -> None:
    from datetime import UTC, datetime

    from patchlevel.facts import parse_timestamp

    # 23:30 at -05:00 is the next day in UTC: dates compared with the as-of date are UTC days
    assert parse_timestamp("2026-11-26T23:30:00-05:00") == datetime(2026, 11, 27, 4, 30, tzinfo=UTC)
    assert parse_timestamp("2026-11-27T04:30:00Z") == datetime(2026, 11, 27, 4, 30, tzinfo=UTC)
    # UTC cannot hold it, or it is no time at all: unknown, never an OverflowError
    for text in ("9999-12-31T23:00:00-05:00", "2026-02-30T00:00:00Z", "yesterday", "", None):
        assert parse_timestamp(text) is None, text
