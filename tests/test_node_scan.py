"""Host package evidence (issue 11): host scans and SBOMs read, placed on nodes, and judged.

Real files: tests/data/node-packages (AKS Ubuntu 22.04 Trivy filesystem report, Trivy vm goldens,
a Trivy KBOM, Fedora CoreOS's package lock, AKS build logs with their package lists); what the tests
construct from them is said in tests/node_scan_data.py and that folder's SOURCES.md.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import node_scan_data as nsd
from builders import by_subject, make_context, make_inventory, make_node, make_node_doc, run, version_doc, write_json
from patchlevel.charts import installed_kernel_chart
from patchlevel.checks.common import Context
from patchlevel.checks.hosts import node_scan_coverage_warning
from patchlevel.cli import main
from patchlevel.errors import ImporterError
from patchlevel.hostscans import BY_EXPLICIT, BY_FILE_NAME, BY_HOST_NAME, HostPackage, NodeScan
from patchlevel.importers.detect import load_host_scans, parse_host_document
from patchlevel.importers.host import NotAHostScan, assign_nodes, file_name_candidates, parse_purl
from patchlevel.kernels import compare_running, installed_kernels
from patchlevel.kube import Node
from patchlevel.model import Severity, Status
from patchlevel.policy import Policy

AS_OF = date(2026, 12, 7)
ROOT = Path(__file__).parent
IMAGE_SCAN = ROOT / "data" / "scans" / "trivy" / "trivy-golden-alpine-3.9-schema2-2021.json"
STRICT = Policy(sla_status={Severity.CRITICAL: Status.FAIL, Severity.HIGH: Status.FAIL})  # high past its SLA fails too


def read(document: Any, source: str = "scan.json") -> NodeScan:
    [scan] = parse_host_document(json.dumps(document).encode(), source)
    return scan


def placed(scan: NodeScan, node: str) -> NodeScan:
    return dataclasses.replace(scan, node=node, matched_by=BY_EXPLICIT)


def context(nodes: list[Node], scans: list[NodeScan], *, as_of: date = AS_OF, policy: Policy | None = None) -> Context:
    inventory = dataclasses.replace(make_inventory("v1.33.4", nodes=nodes), node_scans=tuple(scans))
    return make_context(inventory, as_of=as_of, policy=policy)


def one_node(check: str, node: Node, scans: list[NodeScan], **kw: Any) -> Any:
    return by_subject(run(check, context([node], scans, **kw)))[f"node/{node.name}"]


# ------------------------------------------------------------------------------------------
# Reading host scans


def test_the_real_aks_filesystem_report_is_host_evidence_of_its_os_packages() -> None:
    [scan] = load_host_scans(nsd.AKS_UBUNTU_REPORT).scans
    assert (scan.format, scan.artifact_type, scan.os_family, scan.os_name) == ("trivy", "filesystem", "ubuntu", "22.04")
    assert scan.host_name == "pkrvmquaygbdnnv"  # a throw-away Packer VM name, not a node's
    assert scan.scanned_at is None  # the report predates Trivy's CreatedAt
    assert scan.report is not None and len(scan.report.vulnerabilities) == 40
    assert scan.other_vulnerabilities == 11  # kubelet, kubectl, CNI binaries: judged by their own checks
    assert not scan.packages_complete  # no --list-all-pkgs: only the vulnerable packages are named
    assert scan.package_count == 8  # the vulnerable packages it names: kernel headers, modules, tools …
    assert {p.name for p in scan.packages} == {
        "linux-modules-5.15.0-1041-azure",
        "linux-modules-extra-5.15.0-1041-azure",
    }


def test_trivy_vm_goldens_are_host_evidence() -> None:
    amazon = load_host_scans(nsd.AMAZON_LINUX_VM).scans[0]
    ubuntu = load_host_scans(nsd.UBUNTU_VM).scans[0]
    assert (amazon.artifact_type, amazon.os_family, amazon.os_name, amazon.host_name) == (
        "vm",
        "amazon",
        "2 (Karoo)",
        "disk.img",
    )
    assert amazon.scanned_at is not None and amazon.scanned_at.date() == date(2021, 8, 25)
    assert amazon.report is not None and [v.id for v in amazon.report.vulnerabilities] == ["CVE-2022-38177"]
    assert (ubuntu.os_family, ubuntu.os_name) == ("ubuntu", "22.04")


def test_a_list_all_pkgs_report_lists_every_installed_package() -> None:
    scan = read(nsd.ubuntu_rootfs_report())
    assert scan.packages_complete
    assert HostPackage("linux-image-5.15.0-1041-azure", "5.15.0-1041.48", "amd64", "ubuntu") in scan.packages
    assert scan.package_count == len(nsd.apt_installed()) > 600
    # only what may be a kernel is kept: a host lists hundreds of packages, and no check reads the rest
    assert {p.name for p in scan.packages} == {
        "linux-image-5.15.0-1041-azure",
        "linux-image-azure",  # the meta package: kept here, not taken for a kernel (see the kernel tests)
        "linux-modules-5.15.0-1041-azure",
        "linux-modules-extra-5.15.0-1041-azure",
    }


def test_sboms_of_hosts_are_package_evidence_without_vulnerabilities() -> None:
    fcos = read(nsd.fcos_cyclonedx(), "fcos.cdx.json")
    assert (fcos.format, fcos.os_family, fcos.os_name, fcos.report) == ("cyclonedx", "fedora", "40", None)
    assert fcos.packages_complete and fcos.package_count == 439
    assert HostPackage("kernel-core", "6.11.4-201.fc40", "x86_64", "rpm") in fcos.packages
    assert {p.name for p in fcos.packages} == {"kernel", "kernel-core", "kernel-modules", "kernel-modules-core"}
    suse = read(nsd.suse_spdx(kernels=["5.14.21-150500.55.39.1"]), "sles.spdx.json")
    assert (suse.format, suse.os_family, suse.os_name, suse.host_name) == ("spdx", "sles", "15.5", "/host")
    assert HostPackage("kernel-default", "5.14.21-150500.55.39.1", "x86_64", "rpm") in suse.packages


def test_a_node_vulnerability_report_names_its_node() -> None:
    cve = nsd.operator_vulnerability(
        "CVE-2026-1000", "openssl", "3.0.2-0ubuntu1.10", "3.0.2-0ubuntu1.12", "CRITICAL", "2026-11-01T00:00:00Z"
    )
    single = read(nsd.node_vulnerability_report("node-a", vulnerabilities=[cve]))
    assert (single.format, single.host_name, single.os_family) == ("trivy-operator", "node-a", "ubuntu")
    assert single.report is not None and single.report.vulnerabilities[0].severity is Severity.CRITICAL
    listed = parse_host_document(
        {"apiVersion": "v1", "kind": "List", "items": [nsd.node_vulnerability_report(n) for n in ("a", "b")]}, "cluster"
    )
    assert [s.host_name for s in listed] == ["a", "b"]


def test_what_is_no_host_evidence_is_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(NotAHostScan, match="a Trivy KBOM of a cluster"):
        load_host_scans(nsd.KBOM)
    with pytest.raises(NotAHostScan, match="give image scans with --scan-report"):
        load_host_scans(IMAGE_SCAN)
    folder = tmp_path / "scans"
    nsd.write(folder / "node-a.json", nsd.ubuntu_rootfs_report())
    (folder / "README.md").write_text("node scans\n", encoding="utf-8")
    (folder / "image.json").write_bytes(IMAGE_SCAN.read_bytes())
    loaded = load_host_scans(folder)
    assert [s.source for s in loaded.scans] == [str(folder / "node-a.json")]
    reasons = {Path(i.path).name: i.reason for i in loaded.inputs if i.read_as == "ignored"}
    assert "not of a host" in reasons["image.json"] and set(reasons) == {"image.json", "README.md"}


def test_purls_are_read_with_their_qualifiers() -> None:
    purl = parse_purl(
        "pkg:rpm/amazon/bind-export-libs@9.11.4-26.P2.amzn2.5.2?arch=x86_64&distro=amazon-2%20%28Karoo%29&epoch=32"
    )
    assert purl is not None
    assert (purl.type, purl.namespace, purl.name, purl.version) == (
        "rpm",
        "amazon",
        "bind-export-libs",
        "9.11.4-26.P2.amzn2.5.2",
    )
    assert purl.qualifiers["distro"] == "amazon-2 (Karoo)"
    assert parse_purl("not a purl") is None


# ------------------------------------------------------------------------------------------
# Which node a scan describes


def test_scans_are_placed_by_explicit_name_host_name_or_file_name_and_never_guessed() -> None:
    nodes = ["node-a", "worker-0.example.com", "node-c"]
    explicit = assign_nodes([read(nsd.ubuntu_rootfs_report(), "/x/anything.json")], nodes, explicit="node-c")
    assert [(s.node, s.matched_by) for s in explicit.scans] == [("node-c", BY_EXPLICIT)]
    by_host = assign_nodes([read(nsd.node_vulnerability_report("NODE-A"), "/x/r.json")], nodes)
    assert [(s.node, s.matched_by) for s in by_host.scans] == [("node-a", BY_HOST_NAME)]
    by_file = assign_nodes([read(nsd.fcos_cyclonedx(), "/x/worker-0.example.com.cdx.json")], nodes)
    assert [(s.node, s.matched_by) for s in by_file.scans] == [("worker-0.example.com", BY_FILE_NAME)]
    unmatched = assign_nodes([read(nsd.ubuntu_rootfs_report(), "/x/aks-image.json")], nodes)
    assert unmatched.scans[0].node == "" and len(unmatched.warnings) == 1
    assert "matches no node of the input" in unmatched.warnings[0] and "pkrvmquaygbdnnv" in unmatched.warnings[0]
    wrong = assign_nodes([read(nsd.ubuntu_rootfs_report(), "/x/a.json")], nodes, explicit="node-z")
    assert wrong.scans[0].node == "" and "no node named 'node-z'" in wrong.warnings[0]
    assert file_name_candidates("/r/n1.cdx.json") == ["n1.cdx", "n1"]


# ------------------------------------------------------------------------------------------
# Installed kernels against the running one


@pytest.mark.parametrize(
    ("packages", "running", "booted", "newer"),
    [
        # Ubuntu: the release is in the package name (AKS 22.04, real names and versions)
        ([("linux-image-5.15.0-1041-azure", "5.15.0-1041.48"), ("linux-image-azure", "5.15.0.1041.37")],
         "5.15.0-1041-azure", "5.15.0-1041-azure", []),
        ([("linux-image-5.15.0-1041-azure", "5.15.0-1041.48"), ("linux-image-5.15.0-1042-azure", "5.15.0-1042.49")],
         "5.15.0-1041-azure", "5.15.0-1041-azure", ["5.15.0-1042-azure"]),
        # another flavour installed beside the running one is no newer kernel for it
        ([("linux-image-6.8.0-49-generic", "6.8.0-49.49"), ("linux-image-6.8.0-51-lowlatency", "6.8.0-51.52")],
         "6.8.0-49-generic", "6.8.0-49-generic", []),
        # RHEL family: version-release plus the architecture
        ([("kernel-core", "5.14.0-362.8.1.el9_3"), ("kernel-core", "5.14.0-427.13.1.el9_4")],
         "5.14.0-362.8.1.el9_3.x86_64", "5.14.0-362.8.1.el9_3", ["5.14.0-427.13.1.el9_4"]),
        # Azure Linux 3 writes no architecture (its real build log: Linux version 6.6.150.1-1.azl3)
        ([("kernel", "6.6.150.1-1.azl3")], "6.6.150.1-1.azl3", "6.6.150.1-1.azl3", []),
        # Amazon Linux 2
        ([("kernel", "4.14.198-152.320.amzn2"), ("kernel", "4.14.200-155.322.amzn2")],
         "4.14.198-152.320.amzn2.x86_64", "4.14.198-152.320.amzn2", ["4.14.200-155.322.amzn2"]),
        # SUSE: the release loses its rebuild number and gains the flavour
        ([("kernel-default", "5.14.21-150500.55.39.1"), ("kernel-default", "5.14.21-150500.55.44.1")],
         "5.14.21-150500.55.39-default", "5.14.21-150500.55.39", ["5.14.21-150500.55.44"]),
    ],
)  # fmt: skip
def test_installed_kernels_against_the_running_one(
    packages: list[tuple[str, str]], running: str, booted: str, newer: list[str]
) -> None:
    comparison = compare_running(running, installed_kernels([HostPackage(n, v) for n, v in packages]))
    assert comparison is not None and comparison.booted is not None
    assert comparison.booted.release == booted
    assert [k.release for k in comparison.newer] == newer


def test_kernel_tools_headers_and_meta_packages_are_no_kernels() -> None:
    names = ["linux-headers-5.15.0-1041-azure", "linux-tools-5.15.0-1041-azure", "linux-image-azure", "kernel-headers",
             "kernel-tools", "kernel-devel", "linux-image-5.15.0-1041-azure-dbgsym"]  # fmt: skip
    assert installed_kernels([HostPackage(n, "5.15.0-1041.48") for n in names]) == ()


# ------------------------------------------------------------------------------------------
# node_running_installed_kernel


def aks_node(name: str = "node-a", kernel: str = nsd.AKS_UBUNTU_KERNEL, **kw: Any) -> Node:
    labels = {"kubernetes.azure.com/agentpool": "nodepool1"}
    return make_node(name, os_image="Ubuntu 22.04.3 LTS", kernel=kernel, labels=labels, **kw)


def test_a_node_running_its_newest_installed_kernel_passes() -> None:
    f = one_node("node_running_installed_kernel", aks_node(), [placed(read(nsd.ubuntu_rootfs_report()), "node-a")])
    assert (f.status, f.message) == (Status.PASS, "runs the newest installed kernel (5.15.0-1041-azure)")
    assert f.patch is None


def test_a_newer_kernel_on_disk_not_booted_warns_then_fails_after_the_policy_window() -> None:
    scan = placed(read(nsd.ubuntu_rootfs_report(extra=nsd.UBUNTU_NEWER_KERNEL)), "node-a")  # scanned 2026-12-01
    warn = one_node("node_running_installed_kernel", aks_node(), [scan])
    assert warn.status is Status.WARN
    assert warn.message.startswith(
        "patched on disk, not running: kernel 5.15.0-1042-azure (linux-image-5.15.0-1042-azure 5.15.0-1042.49) is "
        "installed but the node runs 5.15.0-1041-azure"
    )
    assert warn.patch is not None and (warn.patch.running, warn.patch.newest, warn.patch.days_behind) == (
        "5.15.0-1041-azure",
        "5.15.0-1042-azure",
        6,
    )
    fail = one_node("node_running_installed_kernel", aks_node(), [scan], as_of=date(2026, 12, 20))
    assert fail.status is Status.FAIL and "not rebooted within 7 days" in fail.message
    assert fail.evidence["newest_installed_kernel"] == "5.15.0-1042-azure"
    # the policy's window decides
    lenient = one_node("node_running_installed_kernel", aks_node(), [scan], as_of=date(2026, 12, 20),
                       policy=Policy(reboot_pending_max_days=30))  # fmt: skip
    assert lenient.status is Status.WARN


def test_a_report_of_vulnerable_packages_only_cannot_show_the_newest_kernel() -> None:
    real = load_host_scans(nsd.AKS_UBUNTU_REPORT).scans[0]  # undated, vulnerable packages only
    running_it = one_node("node_running_installed_kernel", aks_node(), [placed(real, "node-a")])
    assert running_it.status is Status.UNKNOWN and "lists vulnerable packages only" in running_it.message
    older = one_node("node_running_installed_kernel", aks_node(kernel="5.15.0-1040-azure"), [placed(real, "node-a")])
    assert older.status is Status.UNKNOWN and "the scan is undated" in older.message
    assert older.message.startswith("patched on disk, not running: kernel 5.15.0-1041-azure")
    dated = placed(read(nsd.ubuntu_rootfs_report(packages=False)), "node-a")
    assert (
        one_node("node_running_installed_kernel", aks_node(kernel="5.15.0-1040-azure"), [dated]).status is Status.WARN
    )


@pytest.mark.parametrize(
    ("document", "node_kwargs", "status"),
    [
        (nsd.amazon_linux_report(created="2026-12-05T00:00:00Z"),
         {"os_image": "Amazon Linux 2", "kernel": nsd.AMAZON_LINUX_KERNEL}, Status.PASS),
        (nsd.amazon_linux_report(kernels=["4.14.198-152.320.amzn2", "4.14.200-155.322.amzn2"],
                                 created="2026-11-01T00:00:00Z"),
         {"os_image": "Amazon Linux 2", "kernel": nsd.AMAZON_LINUX_KERNEL}, Status.FAIL),
        (nsd.azure_linux_report(),
         {"os_image": "Microsoft Azure Linux 3.0", "kernel": nsd.AZURE_LINUX_KERNEL}, Status.PASS),
        (nsd.fcos_cyclonedx(), {"os_image": "Fedora CoreOS 40.20241023.3.0", "kernel": nsd.FCOS_KERNEL}, Status.PASS),
        (nsd.fcos_cyclonedx(extra_kernels=["6.11.5-200.fc40"]),
         {"os_image": "Fedora CoreOS 40.20241023.3.0", "kernel": nsd.FCOS_KERNEL}, Status.WARN),
        (nsd.suse_spdx(kernels=["5.14.21-150500.55.39.1", "5.14.21-150500.55.44.1"]),
         {"os_image": "SUSE Linux Enterprise Server 15 SP5", "kernel": "5.14.21-150500.55.39-default"}, Status.WARN),
        (nsd.suse_spdx(kernels=["5.14.21-150500.55.44.1"]),
         {"os_image": "SUSE Linux Enterprise Server 15 SP5", "kernel": "5.14.21-150500.55.44-default"}, Status.PASS),
    ],
)  # fmt: skip
def test_every_family_is_judged(document: dict[str, Any], node_kwargs: dict[str, str], status: Status) -> None:
    node = make_node("n1", **node_kwargs)
    f = one_node("node_running_installed_kernel", node, [placed(read(document), "n1")])
    assert f.status is status, f.message


def test_what_host_evidence_cannot_tell_is_unknown() -> None:
    scan = read(nsd.ubuntu_rootfs_report())
    # a running kernel newer than every installed one: the scan predates a kernel change
    newer = one_node("node_running_installed_kernel", aks_node(kernel="5.15.0-1050-azure"), [placed(scan, "node-a")])
    assert newer.status is Status.UNKNOWN and "is not among the installed kernel packages" in newer.message
    # an image-based OS has no kernel package
    bottlerocket = make_node("br", os_image="Bottlerocket OS 1.19.4 (aws-k8s-1.27)", kernel="5.15.128")
    f = one_node("node_running_installed_kernel", bottlerocket, [placed(scan, "br")])
    assert f.status is Status.UNKNOWN and "image-based OS" in f.message
    # a node among scanned ones that has no scan of its own, and a scan dated after the as-of date
    findings = by_subject(
        run("node_running_installed_kernel", context([aks_node(), aks_node("node-b")], [placed(scan, "node-a")]))
    )
    assert (
        findings["node/node-b"].status is Status.UNKNOWN
        and "no host scan of this node" in findings["node/node-b"].message
    )
    later = placed(read(nsd.ubuntu_rootfs_report(created="2026-12-10T00:00:00Z")), "node-a")
    assert "dated after" in one_node("node_running_installed_kernel", aks_node(), [later]).message


def test_without_any_host_evidence_each_host_check_gives_one_cluster_finding() -> None:
    ctx = context([aks_node(), aks_node("node-b")], [])
    for check, status in (
        ("node_running_installed_kernel", Status.UNKNOWN),
        ("node_os_packages_patched_in_time", Status.UNKNOWN),
        ("node_scanned_recently", Status.UNKNOWN),  # hosts may be scanned outside patchlevel's view
    ):
        [f] = run(check, ctx)
        assert (f.subject, f.status) == ("cluster", status), check
        assert f.message.startswith("no node has host scan evidence"), check
    assert run("node_scanned_recently", context([], [])) == []


# ------------------------------------------------------------------------------------------
# node_os_packages_patched_in_time


def test_os_package_vulnerabilities_are_judged_by_the_image_sla_clock() -> None:
    scan = placed(read(nsd.ubuntu_rootfs_report()), "node-a")  # 40 fixable HIGH, published 2023
    f = one_node("node_os_packages_patched_in_time", aks_node(), [scan])
    assert f.status is Status.WARN  # high past its 30-day window: the policy's high status (warn)
    assert f.message == (
        "5 fixable high vulnerabilities (in 40 packages) open longer than the 30-day window (clock: publication "
        "date): CVE-2023-3090, CVE-2023-3389, CVE-2023-3390, CVE-2023-31248, CVE-2023-35001"
    )
    assert {v.status for v in f.vulnerabilities} == {Status.WARN} and all(v.overdue for v in f.vulnerabilities)
    assert {v.clock for v in f.vulnerabilities} == {"publication date"}
    assert f.evidence["other_vulnerabilities_not_judged"] == 11
    strict = one_node("node_os_packages_patched_in_time", aks_node(), [scan], policy=STRICT)
    assert strict.status is Status.FAIL


def test_a_fresh_operator_report_passes_within_the_window_and_fails_past_it() -> None:
    cve = nsd.operator_vulnerability(
        "CVE-2026-1000", "openssl", "3.0.2-0ubuntu1.10", "3.0.2-0ubuntu1.12", "CRITICAL", "2026-11-20T00:00:00Z"
    )
    scan = placed(read(nsd.node_vulnerability_report("node-a", vulnerabilities=[cve])), "node-a")
    f = one_node("node_os_packages_patched_in_time", aks_node(), [scan])
    assert (f.status, f.message) == (
        Status.PASS,
        "no fixable critical or high OS package vulnerability is past its window (1 open, inside it)",
    )
    late = one_node("node_os_packages_patched_in_time", aks_node(), [scan], as_of=date(2026, 12, 25))
    assert late.status is Status.FAIL and "CVE-2026-1000" in late.message


def test_an_sbom_or_a_stale_or_undated_scan_leaves_vulnerabilities_unknown() -> None:
    sbom = one_node("node_os_packages_patched_in_time", make_node("n1"), [placed(read(nsd.fcos_cyclonedx()), "n1")])
    assert sbom.status is Status.UNKNOWN and "an SBOM: it lists packages, not vulnerabilities" in sbom.message
    undated = load_host_scans(nsd.AKS_UBUNTU_REPORT).scans[0]
    f = one_node("node_os_packages_patched_in_time", aks_node(), [placed(undated, "node-a")], policy=STRICT)
    assert f.status is Status.FAIL  # known overdue vulnerabilities still fail
    assert "the host scan is undated" in f.message
    clean = nsd.node_vulnerability_report("node-a", updated="2026-09-01T00:00:00Z")
    stale = one_node("node_os_packages_patched_in_time", aks_node(), [placed(read(clean), "node-a")])
    assert stale.status is Status.UNKNOWN and "vulnerabilities published since are unknown" in stale.message


EOSL_SCAN = ROOT / "data" / "scans" / "trivy" / "trivy-golden-alpine-3.9-eosl-current-schema.json"


def eosl_rootfs_report(*, vulnerabilities: bool, eosl: bool = True) -> dict[str, Any]:
    """Trivy's real golden of an end-of-life Alpine 3.9.4 (``Metadata.OS.EOSL`` true); constructed: written as a
    ``trivy rootfs /host`` report (ArtifactType filesystem, ArtifactName /host), run on 2026-12-01, and with
    ``vulnerabilities`` False its os-pkgs result listing none (the EOSL flag removed with ``eosl`` False)."""
    report: dict[str, Any] = nsd.load(EOSL_SCAN)
    report.update(ArtifactType="filesystem", ArtifactName="/host", CreatedAt="2026-12-01T02:00:00Z")
    if not eosl:
        del report["Metadata"]["OS"]["EOSL"]
    if not vulnerabilities:
        for result in report["Results"]:
            result.pop("Vulnerabilities", None)
    return report


def test_a_host_os_past_its_end_of_service_life_fails_like_an_image_does() -> None:
    """The reproducer: a host scan whose scanner says the OS is end of service life, and which lists no fixable
    vulnerability (the vendor publishes no fixes any more), passed node_os_packages_patched_in_time."""
    node = make_node("n1", os_image="Alpine Linux v3.9", kernel="4.19.80-0-virt")
    clean = placed(read(eosl_rootfs_report(vulnerabilities=False)), "n1")
    assert clean.report is not None and clean.report.os_eosl is True and clean.has_vulnerability_scan
    f = one_node("node_os_packages_patched_in_time", node, [clean])
    assert (f.status, f.severity) == (Status.FAIL, Severity.HIGH)
    assert f.message == (
        "host OS alpine 3.9.4 is end of service life according to the scanner (EOSL): its vendor publishes no more "
        "fixes, so the absence of fixable vulnerabilities proves nothing"
    )
    assert f.evidence["scanner_eosl"] is True
    # the same report without the flag: nothing open, a pass (the flag alone fails it)
    supported = placed(read(eosl_rootfs_report(vulnerabilities=False, eosl=False)), "n1")
    g = one_node("node_os_packages_patched_in_time", node, [supported])
    assert g.status is Status.PASS and g.evidence["scanner_eosl"] is None
    # with its real vulnerabilities (a critical musl fix of 2019), both reasons are named, EOSL first
    overdue = one_node(
        "node_os_packages_patched_in_time", node, [placed(read(eosl_rootfs_report(vulnerabilities=True)), "n1")]
    )
    assert overdue.status is Status.FAIL
    assert overdue.message.startswith("host OS alpine 3.9.4 is end of service life") and "CVE-2019-14697" in (
        overdue.message
    )


# ------------------------------------------------------------------------------------------
# node_scanned_recently and coverage


def test_scan_freshness_per_node_with_coverage() -> None:
    nodes = [aks_node(n) for n in ("fresh", "stale", "sbom", "undated", "none")]
    scans = [
        placed(read(nsd.ubuntu_rootfs_report()), "fresh"),
        placed(read(nsd.ubuntu_rootfs_report(created="2026-10-01T00:00:00Z")), "stale"),
        placed(read(nsd.fcos_cyclonedx()), "sbom"),
        placed(load_host_scans(nsd.AKS_UBUNTU_REPORT).scans[0], "undated"),
    ]
    findings = run("node_scanned_recently", context(nodes, scans))
    f = by_subject(findings)
    assert f["node/fresh"].status is Status.PASS
    assert f["node/fresh"].evidence["scan_coverage"] == {"nodes": 5, "scanned_recently": 1, "percent": 20.0}
    assert f["node/stale"].message == "the newest host scan is older than the 30-day policy"
    assert "an SBOM" in f["node/sbom"].message
    assert "does not say when it ran" in f["node/undated"].message
    assert f["node/none"].message == "no host scan evidence for this node"
    assert {f[s].status for s in ("node/stale", "node/sbom", "node/undated", "node/none")} == {Status.FAIL}
    assert node_scan_coverage_warning(findings, 30) == (
        "host scan coverage: 1 of 5 nodes (20.0%) have host scan evidence from the last 30 days"
    )
    assert node_scan_coverage_warning([f["node/fresh"]], 30) is None


# ------------------------------------------------------------------------------------------
# Through the command line, into the reports


def snapshot(root: Path, *names: str, kernel: str = nsd.AKS_UBUNTU_KERNEL) -> Path:
    labels = {"kubernetes.azure.com/agentpool": "nodepool1"}
    nodes = [make_node_doc(n, os_image="Ubuntu 22.04.3 LTS", kernel=kernel, labels=labels) for n in names]
    write_json(root / "version.json", version_doc("v1.33.4"))
    write_json(root / "nodes.json", {"kind": "NodeList", "items": nodes})
    return root


def test_node_scans_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cluster = snapshot(tmp_path / "cluster", "node-a", "node-b", "node-c")
    explicit = nsd.write(tmp_path / "scans" / "aks.json", nsd.ubuntu_rootfs_report(extra=nsd.UBUNTU_NEWER_KERNEL))
    folder = tmp_path / "dir"
    nsd.write(folder / "node-b.json", nsd.ubuntu_rootfs_report())
    nsd.write(folder / "unknown-host.json", nsd.ubuntu_rootfs_report())
    code = main(["audit", str(cluster), "--as-of", "2026-12-07", "--format", "json", "--fail-on", "never",
                 "--node-scan", f"node-a={explicit}", "--node-scan", str(folder)])  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    findings = {(f["check"], f["subject"]): f for f in report["findings"]}
    kernel = findings[("node_running_installed_kernel", "node/node-a")]
    assert kernel["status"] == "warn" and kernel["evidence"]["matched_by"] == BY_EXPLICIT
    assert findings[("node_running_installed_kernel", "node/node-b")]["status"] == "pass"
    assert findings[("node_running_installed_kernel", "node/node-b")]["evidence"]["matched_by"] == BY_FILE_NAME
    assert findings[("node_scanned_recently", "node/node-c")]["status"] == "fail"
    warnings = "\n".join(report["warnings"])
    assert "unknown-host.json: a host scan (trivy) that matches no node of the input" in warnings
    assert "host scan coverage: 2 of 3 nodes (66.7%) have host scan evidence from the last 30 days" in warnings
    assert any(i["path"].endswith("aks.json") and "host scan" in i["read_as"] for i in report["inputs"])


def test_a_missing_node_scan_path_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cluster = snapshot(tmp_path / "cluster", "node-a")
    assert main(["audit", str(cluster), "--node-scan", f"node-a={tmp_path / 'nope.json'}"]) == 2
    assert "--node-scan node-a=" in capsys.readouterr().err


def test_the_html_report_lists_per_pool_the_nodes_patched_on_disk_but_not_running_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = snapshot(tmp_path / "cluster", "node-a", "node-b")
    newer = nsd.write(tmp_path / "node-a.json", nsd.ubuntu_rootfs_report(extra=nsd.UBUNTU_NEWER_KERNEL))
    current = nsd.write(tmp_path / "node-b.json", nsd.ubuntu_rootfs_report())
    out = tmp_path / "report.html"
    main(["audit", str(cluster), "--as-of", "2026-12-07", "--format", "html", "-o", str(out), "--fail-on", "never",
          "--node-scan", str(newer), "--node-scan", str(current)])  # fmt: skip
    html = out.read_text(encoding="utf-8")
    section = html[html.index('<section id="patched-not-running">') : html.index('<section id="addons">')]
    assert (
        "node/node-a" in section
        and "5.15.0-1042-azure" in section
        and "kubernetes.azure.com/agentpool=nodepool1" in section
    )
    assert "node/node-b" not in section
    assert 'id="chart-installed-kernel-not-running-per-pool"' in html


def test_the_chart_counts_per_pool_from_typed_facts() -> None:
    nodes = [aks_node("node-a"), aks_node("node-b"), make_node("other", kernel=nsd.AKS_UBUNTU_KERNEL)]
    scans = [
        placed(read(nsd.ubuntu_rootfs_report(extra=nsd.UBUNTU_NEWER_KERNEL)), "node-a"),
        placed(read(nsd.ubuntu_rootfs_report()), "node-b"),
    ]
    from builders import audit_findings

    findings = audit_findings(context(nodes, scans), AS_OF)  # the audit stamps each node finding with its pool
    chart = installed_kernel_chart(findings)
    bars = {bar.label: dict(bar.counts) for bar in chart.bars}
    assert bars == {
        "kubernetes.azure.com/agentpool=nodepool1": {"warn": 1, "pass": 1},
        "(no pool label)": {"unknown": 1},
    }
    assert installed_kernel_chart([]).note.startswith("no data")


def test_an_unreadable_node_scan_stops_the_audit_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = snapshot(tmp_path / "cluster", "node-a")
    broken = tmp_path / "node-a.json"
    broken.write_text('{"SchemaVersion": 2, "ArtifactType": "filesystem", "Results": [', encoding="utf-8")
    assert main(["audit", str(cluster), "--node-scan", str(broken)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) <= 2 and "node-a.json" in err[0]
    with pytest.raises(ImporterError):
        load_host_scans(broken)


def test_hostile_node_scan_inputs_are_bounded_and_one_line(tmp_path: Path) -> None:
    import os

    folder = tmp_path / "scans"
    folder.mkdir()
    os.mkfifo(folder / "node-a.json")  # never opened: it would block the reader
    nested = folder / "deep.json"
    nested.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(ImporterError, match="nested"):
        load_host_scans(folder)
    nested.unlink()
    loaded = load_host_scans(folder)
    assert [(Path(i.path).name, i.read_as) for i in loaded.inputs] == [("node-a.json", "ignored")]
    big = nsd.write(tmp_path / "big.json", nsd.ubuntu_rootfs_report())
    with pytest.raises(ImporterError) as refused:
        load_host_scans(big, max_bytes=1000)
    assert "\n" not in str(refused.value)


def test_outside_text_in_a_scan_is_shown_escaped() -> None:
    report = nsd.ubuntu_rootfs_report()
    report["ArtifactName"] = "evil\x1b[31mhost\u202e"
    scan = read(report, "/x/evil.json")
    [warning] = assign_nodes([scan], ["node-a"]).warnings
    assert "\x1b" not in warning and "\\x1b" in warning and "\u202e" not in warning
