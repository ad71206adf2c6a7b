"""Verdicts that were UNKNOWN though the data can decide them (issue 15), each on both sides of its boundary day.

Real data: node objects in tests/data/kube and tests/data/nodes, Trivy goldens and an AKS Azure Linux 3
node image log in tests/data/judgement-gaps (SOURCES.md there), the bundled lifecycle data, and OS
and version strings seen in public sources (each named where it is used).
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from builders import (
    DATA,
    by_subject,
    knowledge,
    make_cluster_version_doc,
    make_context,
    make_inventory,
    make_node,
    one,
    run,
)
from patchlevel.facts import derive_facts, detect_distribution
from patchlevel.kube import Node
from patchlevel.lifecycle.catalog import BUNDLED_DATA, Phase, load_catalog
from patchlevel.lifecycle.curated import load_curated
from patchlevel.lifecycle.show import render_product
from patchlevel.model import Finding, Status
from patchlevel.osnames import OS_RULES, WINDOWS_BUILDS, match_os_name, parse_os_image
from patchlevel.versions import parse_kube_version

GAPS = DATA / "judgement-gaps"
DAY = timedelta(days=1)


def real_node(path: str) -> Node:
    return msgspec.convert(json.loads((DATA / path).read_text(encoding="utf-8")), Node)


def node_doc(path: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / path).read_text(encoding="utf-8"))
    return doc


def with_labels(path: str, labels: dict[str, str], name: str | None = None) -> Node:
    """A real node with labels added (a constructed variation of real data)."""
    doc = node_doc(path)
    doc["metadata"]["labels"] = {**doc["metadata"].get("labels", {}), **labels}
    if name:
        doc["metadata"]["name"] = name
    return msgspec.convert(doc, Node)


def os_verdict(os_image: str, kernel: str, as_of: date, operating_system: str = "linux", **kw: Any) -> Finding:
    node = make_node("n", os_image=os_image, kernel=kernel, operating_system=operating_system)
    return by_subject(run("node_os_supported", make_context(nodes=[node], as_of=as_of, **kw)))["node/n"]


# ------------------------------------------------------------------------------------------
# 1. The OS-image parser is a table: every real osImage reads as before or better


REAL_NODE_FILES = sorted((DATA / "kube").glob("*-node.json")) + sorted((DATA / "nodes").glob("*-node.json"))


@pytest.mark.parametrize("path", REAL_NODE_FILES, ids=lambda p: p.name)
def test_every_real_node_os_image_reads_through_the_table(path: Path) -> None:
    info = json.loads(path.read_text(encoding="utf-8"))["status"]["nodeInfo"]
    os = parse_os_image(info["osImage"], info["operatingSystem"], info["kernelVersion"])
    expected = {
        "Ubuntu 22.04.1 LTS": ("ubuntu", "22.04"),
        "Ubuntu 20.04.2 LTS": ("ubuntu", "20.04"),
        "Red Hat Enterprise Linux CoreOS 47.83.202106032343-0 (Ootpa)": ("red-hat-openshift", "4.7"),
        "Buildroot 2019.02.7": (None, None),
        "Buildroot 2018.05.3": (None, None),
    }[info["osImage"]]
    assert (os.product, os.cycle) == expected
    assert os.product is not None or os.reason


# Strings seen in public sources (../shared/fixtures/NOTES.md lists where), with what they name.
OBSERVED = [
    ("Container-Optimized OS from Google", "4.14.56+", "linux", ("cos", None)),
    ("Amazon Linux 2", "4.14.198-152.320.amzn2.x86_64", "linux", ("amazon-linux", "2")),
    ("Amazon Linux 2023.9.20251208", "6.1.158-180.294.amzn2023.x86_64", "linux", ("amazon-linux", "2023")),
    ("Ubuntu 20.10", "", "linux", ("ubuntu", "20.10")),
    ("Ubuntu 24.04.2 LTS", "", "linux", ("ubuntu", "24.04")),
    ("Ubuntu Groovy Gorilla (development branch)", "", "linux", ("ubuntu", None)),
    ("Bottlerocket OS 1.19.4 (aws-k8s-1.27)", "", "linux", ("bottlerocket", "aws-k8s-1.27")),
    ("Talos (v1.7.0)", "6.1.82-talos", "linux", ("talos", "1.7")),
    ("Talos (v1.12.6)", "6.12.48-talos", "linux", ("talos", "1.12")),
    ("Windows Server 2019 Datacenter", "10.0.17763.1397", "windows", ("windows-server", "2019")),
    ("Microsoft Windows [Version 10.0.14393]", "10.0.14393", "windows", ("windows-server", "2016")),
    ("K3s v1.31.5+k3s1", "", "linux", (None, None)),
    ("Unknown", "", "linux", (None, None)),
    # Microsoft's AKS Azure Linux migration guide and AKS hybrid `kubectl get nodes -o wide` output
    ("CBL-Mariner/Linux", "5.15.153.1-2.cm2", "linux", ("azure-linux", "2.0")),
    # the osImage shapes the issue names
    ("SUSE Linux Enterprise Server 15 SP5", "", "linux", ("sles", "15.5")),
    ("Red Hat Enterprise Linux CoreOS 414.92.202402130420-0 (Plow)", "", "linux", ("red-hat-openshift", "4.14")),
    ("Flatcar Container Linux by Kinvolk 3510.2.1 (Oklo)", "", "linux", ("flatcar", "3510")),
]


@pytest.mark.parametrize(("os_image", "kernel", "system", "expected"), OBSERVED, ids=[o[0] for o in OBSERVED])
def test_observed_os_strings(os_image: str, kernel: str, system: str, expected: tuple[str | None, str | None]) -> None:
    os = parse_os_image(os_image, system, kernel)
    assert (os.product, os.cycle) == expected
    if os.cycle is None:
        assert os.reason or os.candidates or os.codename


# One name per table rule: every rule is reachable (no earlier rule shadows it) and reads as stated.
RULE_SAMPLES = {
    "Ubuntu": ["Ubuntu 22.04.1 LTS", "Ubuntu Groovy Gorilla (development branch)"],
    "Debian": ["Debian GNU/Linux 12 (bookworm)", "Debian GNU/Linux bookworm/sid"],
    "Red Hat Enterprise Linux CoreOS": [
        "Red Hat Enterprise Linux CoreOS 416.94.202410211619-0 (Plow)",
        "Red Hat Enterprise Linux CoreOS 9.6.20250701-0 (Plow)",
    ],
    "Red Hat Enterprise Linux": ["Red Hat Enterprise Linux 8.6 (Ootpa)"],
    "Amazon Linux": ["Amazon Linux 2023.9.20251208", "Amazon Linux 2"],
    "Amazon Linux AMI": ["Amazon Linux AMI 2018.03"],
    "Container-Optimized OS": ["Container-Optimized OS from Google"],
    "SUSE Linux Enterprise Server": ["SUSE Linux Enterprise Server 15 SP5"],
    "SUSE Linux Enterprise Micro": ["SUSE Linux Enterprise Micro 5.5"],
    "SUSE Linux Micro": ["SUSE Linux Micro 6.1"],
    "openSUSE Leap": ["openSUSE Leap 15.6"],
    "openSUSE Tumbleweed": ["openSUSE Tumbleweed"],
    "Rocky Linux": ["Rocky Linux 9.3 (Blue Onyx)"],
    "AlmaLinux": ["AlmaLinux 9.4 (Seafoam Ocelot)"],
    "CentOS Stream": ["CentOS Stream 9"],
    "CentOS Linux": ["CentOS Linux 7 (Core)"],
    "Oracle Linux": ["Oracle Linux Server 8.9"],
    "Fedora": ["Fedora CoreOS 40.20240416.3.1"],
    "VMware Photon OS": ["VMware Photon OS/Linux 5.0"],
    "Alpine Linux": ["Alpine Linux v3.19"],
    "Bottlerocket": ["Bottlerocket OS 1.19.4 (aws-k8s-1.27)"],
    "Flatcar Container Linux": ["Flatcar Container Linux by Kinvolk 3510.2.1 (Oklo)"],
    "Talos Linux": ["Talos (v1.7.0)"],
    "Azure Linux": ["Microsoft Azure Linux 3.0", "CBL-Mariner/Linux"],
    "Buildroot": ["Buildroot 2019.02.7"],
    "unknown": ["K3s v1.31.5+k3s1"],
}


def test_every_table_rule_is_reached_by_its_names() -> None:
    for rule in OS_RULES:
        if not rule.pattern:
            continue  # a scanner family only
        samples = RULE_SAMPLES[rule.name]
        read = [match_os_name(s) for s in samples]
        assert all(r is not None and r.name == rule.name and r.product == rule.product for r in read), rule.name
    assert set(RULE_SAMPLES) == {r.name for r in OS_RULES if r.pattern}


def test_the_parser_reads_each_distinct_os_image_once() -> None:
    first = parse_os_image("Ubuntu 24.04.2 LTS", "linux", "6.8.0-51-generic")
    assert parse_os_image("Ubuntu 24.04.2 LTS", "linux", "6.8.0-51-generic") is first


# ------------------------------------------------------------------------------------------
# 2. A release older than the oldest line of the data is unsupported once that line's support ended


def kubelet(ctx_nodes: list[Node], version: str | None, as_of: date, **kw: Any) -> Finding:
    findings = run("kubelet_version_supported", make_context(nodes=ctx_nodes, version=version, as_of=as_of, **kw))
    return findings[0]


def test_kubernetes_1_15_kubelet_on_the_real_minikube_node() -> None:
    """Kubernetes 1.15 predates the data (oldest 1.16, supported until 2020-08-04)."""
    node = real_node("nodes/minikube-buildroot-docker-v1.15-node.json")
    end = date(2020, 8, 4)
    assert knowledge().catalog.product("kubernetes").cycles[-1].name == "1.16"  # type: ignore[union-attr]
    before = kubelet([node], None, end)
    assert before.status is Status.UNKNOWN and "whether 1.15 was still supported on 2020-08-04 is not recorded" in (
        before.message
    )
    after = kubelet([node], None, end + DAY)
    assert after.status is Status.FAIL
    assert "predates every release in the lifecycle data" in after.message and "2020-08-04" in after.message


@pytest.mark.parametrize(
    ("api", "product", "oldest_end"),
    [
        ("v1.16.13-eks-ec92d4", "amazon-eks", date(2022, 8, 15)),  # EKS 2020 build (NOTES.md); data from 1.18
        ("v1.10.7-gke.2", "google-kubernetes-engine", date(2021, 11, 1)),  # GKE 2018 (NOTES.md); data from 1.17
    ],
)
def test_distribution_releases_older_than_the_data(api: str, product: str, oldest_end: date) -> None:
    for day, status in ((oldest_end, Status.UNKNOWN), (oldest_end + DAY, Status.FAIL)):
        f = one("control_plane_version_supported", make_context(version=api, as_of=day))
        assert f.status is status, (day, f.message)
        assert f.evidence["lifecycle_product"] == product


def test_an_os_release_older_than_the_data() -> None:
    """Flatcar 3033 (LTS-2022) predates the curated lines (oldest 3510, supported at most to 2025-04-05)."""
    image = "Flatcar Container Linux by Kinvolk 3033.2.4 (Oklo)"
    assert os_verdict(image, "5.10.102-flatcar", date(2025, 4, 5)).status is Status.UNKNOWN
    after = os_verdict(image, "5.10.102-flatcar", date(2025, 4, 6))
    assert after.status is Status.FAIL and "predates every release" in after.message


def test_older_is_not_decided_where_numbering_is_not_time() -> None:
    catalog = knowledge().catalog
    # Amazon Linux "2" (2018) numbers below "2018.03" (2018) and "2010.11": no "older than the oldest"
    assert catalog.support("amazon-linux", "1", date(2030, 1, 1)).phase is Phase.UNKNOWN
    # Windows Server lines are not version numbers ("2012-r2", "23h2-ac")
    assert catalog.support("windows-server", "1999", date(2030, 1, 1)).phase is Phase.UNKNOWN
    # newer than every line: not in the data
    assert catalog.support("kubernetes", "1.99", date(2030, 1, 1)).phase is Phase.UNKNOWN


# ------------------------------------------------------------------------------------------
# 3. Windows Server semi-annual channel builds are recognised by build number


def windows_sac_lines() -> list[tuple[str, int, date]]:
    product = knowledge().catalog.product("windows-server")
    assert product is not None
    lines = []
    for cycle in product.cycles:
        if cycle.name.endswith(("-sac", "-ac")) and cycle.latest and isinstance(cycle.eol, date):
            lines.append((cycle.name, int(cycle.latest.rsplit(".", 1)[1]), cycle.eol))
    return lines


def test_the_build_table_agrees_with_the_lifecycle_data() -> None:
    product = knowledge().catalog.product("windows-server")
    assert product is not None
    for build, names in WINDOWS_BUILDS.items():
        for name in names:
            cycle = product.cycle(name)
            assert cycle is not None and cycle.latest == f"10.0.{build}", (build, name)


@pytest.mark.parametrize(("line", "build", "end"), windows_sac_lines(), ids=lambda v: str(v))
def test_semi_annual_builds_on_both_sides_of_their_end(line: str, build: int, end: date) -> None:
    image = "Windows Server Datacenter"  # semi-annual releases name no year
    kernel = f"10.0.{build}.1"
    assert parse_os_image(image, "windows", kernel).cycle == line
    on_the_day = os_verdict(image, kernel, end, "windows")
    assert on_the_day.status in (Status.PASS, Status.WARN), on_the_day.message
    after = os_verdict(image, kernel, end + DAY, "windows")
    assert after.status is Status.FAIL and line in after.message


def test_a_build_shared_by_ltsc_and_sac_is_judged_only_where_both_agree() -> None:
    """Build 17763 is Windows Server 2019 (LTSC, to 2029-01-09) and 1809 (SAC, to 2020-11-10)."""
    both_supported = os_verdict("", "10.0.17763.1397", date(2020, 11, 10), "windows")
    assert both_supported.status in (Status.PASS, Status.WARN)
    assert both_supported.evidence["candidate_releases"] == ["2019", "1809-sac"]
    differ = os_verdict("", "10.0.17763.1397", date(2020, 11, 11), "windows")
    assert differ.status is Status.UNKNOWN and "the releases differ" in differ.message
    named = os_verdict("Windows Server 2019 Datacenter", "10.0.17763.1397", date(2029, 1, 9), "windows")
    assert named.status in (Status.PASS, Status.WARN)
    assert os_verdict("Windows Server 2019 Datacenter", "10.0.17763.1", date(2029, 1, 10), "windows").status is (
        Status.FAIL
    )


# ------------------------------------------------------------------------------------------
# 4. OS names of more than one word before the version, for nodes (image base OSes: test_judgement_gaps_images.py)


def test_sles_node_on_both_sides_of_its_standard_end() -> None:
    image = "SUSE Linux Enterprise Server 15 SP5"
    standard = os_verdict(image, "5.14.21-150500.55.39-default", date(2024, 12, 31))
    assert standard.status in (Status.PASS, Status.WARN) and "SUSE Linux Enterprise Server 15.5" in standard.message
    ltss = os_verdict(image, "5.14.21-150500.55.39-default", date(2025, 1, 1))
    assert ltss.status is Status.WARN and "past end of standard support" in ltss.message


# ------------------------------------------------------------------------------------------
# 5. A self-managed cluster on cloud VMs is not the managed service


KIND = "kube/kind-ubuntu2204-containerd-v1.25-node.json"  # a real kubeadm control-plane node


def test_real_kubeadm_control_plane_says_self_managed() -> None:
    dist = detect_distribution(parse_kube_version("v1.25.3"), make_inventory("v1.25.3", nodes=[real_node(KIND)]))
    assert (dist.id, dist.self_managed) == ("upstream", True)
    assert "1 control-plane node(s) are visible (node-role.kubernetes.io/control-plane)" in dist.evidence
    assert "kubeadm keys on 1 node(s)" in dist.evidence


def test_azure_labels_on_a_self_managed_control_plane_are_not_aks() -> None:
    """aks-engine/capz-style VMs carry kubernetes.azure.com labels, but AKS never shows its control plane."""
    azure = {"kubernetes.azure.com/cluster": "rg-k8s", "kubernetes.azure.com/role": "master"}
    nodes = [with_labels(KIND, azure)]
    inventory = make_inventory("v1.25.3", nodes=nodes)
    facts = derive_facts(inventory)
    assert facts.distribution.id == "upstream" and facts.distribution.self_managed
    assert "not Azure Kubernetes Service" in facts.distribution.evidence
    assert facts.nodes[0].distribution.id == "upstream"  # the node keeps the cluster's distribution
    # upstream 1.25 ended on 2023-10-27; AKS 1.25 only on 2024-01-14: the upstream day decides
    for day, status in ((date(2023, 10, 27), Status.WARN), (date(2023, 10, 28), Status.FAIL)):
        f = one("control_plane_version_supported", make_context(inventory, as_of=day))
        assert (f.status, f.evidence["judged_by"]) == (status, "Kubernetes (upstream) 1.25"), f.message
        assert "self-managed" in str(f.evidence["distribution_evidence"])


def test_managed_aks_workers_stay_aks() -> None:
    workers = [
        make_node("aks-1", labels={"kubernetes.azure.com/agentpool": "np1", "kubernetes.azure.com/role": "agent"})
    ]
    dist = derive_facts(make_inventory("v1.25.3", nodes=workers)).distribution
    assert (dist.id, dist.self_managed) == ("aks", False)


def test_an_eks_distro_build_with_control_plane_nodes_is_self_managed() -> None:
    nodes = [with_labels(KIND, {})]
    dist = detect_distribution(parse_kube_version("v1.27.4-eks-cedffd4"), make_inventory("v1.27.4-eks-cedffd4", nodes))
    assert dist.id == "upstream" and "not Amazon EKS" in dist.evidence and "API server version" in dist.evidence


# ------------------------------------------------------------------------------------------
# 6. Azure Linux, Bottlerocket, Flatcar, Talos and COS: curated, dated, sourced


CURATED_OSES = {"azure-linux", "bottlerocket", "flatcar", "talos"}


def test_curated_os_entries_are_dated_and_sourced() -> None:
    products = {p.product: p for p in load_curated(BUNDLED_DATA / "curated")}
    assert set(products) >= CURATED_OSES
    for name in CURATED_OSES:
        product = products[name]
        assert product.retrieved == date(2026, 12, 7) and product.policy_source.startswith("https://")
        for cycle in product.cycles:
            assert cycle.note or cycle.released_source.startswith("https://"), (name, cycle.cycle)
            assert cycle.eol is None or cycle.eol_source.startswith("https://"), (name, cycle.cycle)


def test_azure_linux_2_node_from_its_kernel_tag() -> None:
    image, kernel = "CBL-Mariner/Linux", "5.15.153.1-2.cm2"  # Microsoft's migration guide shapes
    last = os_verdict(image, kernel, date(2025, 11, 29))
    assert last.status is Status.WARN and last.evidence["release_from"] == f"kernel {kernel}"
    assert os_verdict(image, kernel, date(2025, 11, 30)).status is Status.FAIL


def test_azure_linux_3_node_from_the_real_aks_node_image() -> None:
    text = (GAPS / "aks-azurelinux3-202608.20.0-release-notes.txt").read_text(encoding="utf-8")
    pretty = re.search(r'^PRETTY_NAME="([^"]+)"', text, re.M)
    kernel = re.search(r"^Linux version (\S+)", text, re.M)
    assert pretty and kernel and (pretty[1], kernel[1]) == ("Microsoft Azure Linux 3.0", "6.6.150.1-1.azl3")
    f = os_verdict(pretty[1], kernel[1], date(2026, 12, 7))
    assert f.status is Status.PASS and "no end date announced" in f.message
    later = os_verdict(pretty[1], kernel[1], date(2027, 6, 1))
    assert later.status is Status.PASS and "no end date announced as of 2026-12-07" in later.message


def test_bottlerocket_variant_follows_eks() -> None:
    image = "Bottlerocket OS 1.19.4 (aws-k8s-1.27)"  # NOTES.md
    standard_end, extended_end = date(2024, 7, 24), date(2025, 7, 24)  # EKS 1.27
    assert os_verdict(image, "5.15.160", standard_end).status is Status.WARN
    extended = os_verdict(image, "5.15.160", standard_end + DAY)
    assert extended.status is Status.WARN and "Extended Support" in extended.message
    assert os_verdict(image, "5.15.160", extended_end).status is Status.WARN
    ended = os_verdict(image, "5.15.160", extended_end + DAY)
    assert ended.status is Status.FAIL and "follows Amazon EKS 1.27" in ended.message
    other = os_verdict("Bottlerocket OS 1.19.4 (vmware-k8s-1.27)", "5.15.160", date(2024, 1, 1))
    assert other.status is Status.UNKNOWN and "no published end day" in other.message


@pytest.mark.parametrize(
    ("image", "kernel", "end"),
    [
        ("Talos (v1.7.0)", "6.1.82-talos", date(2024, 9, 23)),  # 1.8.0 released
        ("Talos (v1.12.6)", "6.12.48-talos", date(2026, 4, 27)),  # 1.13.0 released
    ],
)
def test_talos_minor_ends_when_the_next_is_released(image: str, kernel: str, end: date) -> None:
    assert os_verdict(image, kernel, end).status is Status.WARN
    assert os_verdict(image, kernel, end + DAY).status is Status.FAIL


def test_talos_newest_line_is_unknown_after_the_sources_were_read() -> None:
    assert os_verdict("Talos (v1.14.1)", "6.18.1-talos", date(2026, 9, 3)).status in (Status.PASS, Status.WARN)
    after = os_verdict("Talos (v1.14.1)", "6.18.1-talos", date(2026, 9, 4))
    assert after.status is Status.UNKNOWN and "a newer line released since" in after.message


def test_flatcar_stable_and_lts_major() -> None:
    image = "Flatcar Container Linux by Kinvolk 3510.2.1 (Oklo)"  # NOTES.md
    assert os_verdict(image, "5.15.98-flatcar", date(2023, 10, 5)).status is Status.WARN
    channel_unknown = os_verdict(image, "5.15.98-flatcar", date(2023, 10, 6))
    assert channel_unknown.status is Status.UNKNOWN and "between 2023-10-05 and 2025-04-05" in channel_unknown.message
    assert os_verdict(image, "5.15.98-flatcar", date(2025, 4, 6)).status is Status.FAIL
    stable = "Flatcar Container Linux by Kinvolk 3602.2.3 (Oklo)"
    assert os_verdict(stable, "5.15.133-flatcar", date(2024, 1, 18)).status is Status.WARN
    assert os_verdict(stable, "5.15.133-flatcar", date(2024, 1, 19)).status is Status.FAIL


def test_cos_stays_unknown_and_says_why() -> None:
    """COS milestones are in the data, but the node names none (osImage, kernel 4.14.56+, GKE labels)."""
    for day in (date(2019, 1, 1), date(2026, 12, 7)):
        f = os_verdict("Container-Optimized OS from Google", "4.14.56+", day)
        assert f.status is Status.UNKNOWN and "COS milestone is not in the node's osImage" in f.message


# ------------------------------------------------------------------------------------------
# 7. OpenShift EUS Term 2, recorded with its source


def test_openshift_eus_term_2_on_rhcos_and_the_control_plane() -> None:
    image = "Red Hat Enterprise Linux CoreOS 414.92.202402130420-0 (Plow)"
    term1 = os_verdict(image, "5.14.0-284.55.1.el9_2.x86_64", date(2025, 10, 31))
    assert term1.status is Status.WARN and "Extended Update Support until 2025-10-31" in term1.message
    term2 = os_verdict(image, "5.14.0-284.55.1.el9_2.x86_64", date(2025, 11, 1))
    assert term2.status is Status.WARN and "Extended Update Support Term 2 until 2026-10-31" in term2.message
    assert os_verdict(image, "5.14.0-284.55.1.el9_2.x86_64", date(2026, 10, 31)).status is Status.WARN
    ended = os_verdict(image, "5.14.0-284.55.1.el9_2.x86_64", date(2026, 11, 1))
    assert ended.status is Status.FAIL and "2026-10-31" in ended.message
    openshift = make_cluster_version_doc("4.14.38")
    cp = one(
        "control_plane_version_supported",
        make_context(version="v1.27.16+6f2a1b0", openshift=openshift, as_of=date(2026, 10, 31)),
    )
    assert cp.status is Status.WARN and "Term 2" in cp.message
    product = knowledge().catalog.product("red-hat-openshift")
    assert product is not None and any("4.14: Extended Update Support Term 2" in p for p in product.provenance)


def test_lifecycle_show_prints_a_curated_products_own_date_and_windows() -> None:
    catalog = load_catalog(BUNDLED_DATA)
    text = render_product(catalog, "flatcar", date(2026, 12, 7))
    assert "data retrieved 2026-12-07 (0 days before the as-of date)" in text
    assert "between 2023-10-05 and 2025-04-05" in text and "not before 2025-11-12; then unknown" in text
    doc = json.loads(render_product(catalog, "red-hat-openshift", date(2026, 12, 7), as_json=True))
    rows = {r["cycle"]: r for r in doc["releases"]}
    assert rows["4.16"]["later_phases"] == [{"label": "Extended Update Support Term 2", "ends": "2027-06-27"}]
    assert doc["data_retrieved"] == "2026-08-22" and doc["provenance"]
