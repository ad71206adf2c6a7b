"""Judgement gaps (issue 15) read through shared stages: image base OSes and an empty node list.

Image base OSes are named by scanners (Trivy goldens in tests/data/judgement-gaps, SOURCES.md there);
their verdicts are shown on both sides of the boundary day.  Kept apart from test_judgement_gaps.py
because they exercise checks/images.py and the evaluation runner.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from builders import DATA, knowledge, version_doc, write_json
from patchlevel.checks.images import OS_PRODUCTS, OS_WITHOUT_LIFECYCLE, os_release
from patchlevel.collect.snapshot import read_snapshot
from patchlevel.evaluate import evaluate
from patchlevel.importers.detect import parse_scan_document
from patchlevel.lifecycle.catalog import Phase
from patchlevel.model import Status
from patchlevel.policy import Policy

GAPS = DATA / "judgement-gaps"


def test_scanner_families_come_from_the_same_table() -> None:
    assert OS_PRODUCTS["amazon"] == "amazon-linux" and OS_PRODUCTS["cbl-mariner"] == "azure-linux"
    assert OS_PRODUCTS["azurelinux"] == "azure-linux" and OS_PRODUCTS["bottlerocket"] == "bottlerocket"
    assert "wolfi" in OS_WITHOUT_LIFECYCLE and "azurelinux" not in OS_WITHOUT_LIFECYCLE
    assert set(OS_PRODUCTS).isdisjoint(OS_WITHOUT_LIFECYCLE)


def scan_os(path: Path) -> tuple[str, str]:
    report = parse_scan_document(path.read_bytes(), str(path))[0]
    return report.os_family or "", report.os_name or ""


def test_trivy_ami_release_names_amazon_linux_1() -> None:
    family, name = scan_os(GAPS / "trivy-amazon-1-ami-release-2018.03.json")
    assert (family, name) == ("amazon", "AMI release 2018.03")
    product, cycle, why = os_release(knowledge().catalog, family, name)
    assert (product.id if product else None, cycle, why) == ("amazon-linux", "2018.03", "")
    catalog = knowledge().catalog
    assert catalog.support("amazon-linux", "2018.03", date(2023, 12, 31)).supported is True
    assert catalog.support("amazon-linux", "2018.03", date(2024, 1, 1)).phase is Phase.ENDED


def test_trivy_cbl_mariner_1_on_both_sides_of_its_window() -> None:
    family, name = scan_os(GAPS / "trivy-cbl-mariner-1.0.20220122.json")
    product, cycle, why = os_release(knowledge().catalog, family, name)
    assert (product.id if product else None, cycle, why) == ("azure-linux", "1.0", "")
    catalog = knowledge().catalog
    assert catalog.support("azure-linux", "1.0", date(2023, 8, 30)).supported is True
    inside = catalog.support("azure-linux", "1.0", date(2023, 9, 15))
    assert inside.phase is Phase.UNKNOWN and "between 2023-08-30 and 2023-10-03" in inside.reason
    assert catalog.support("azure-linux", "1.0", date(2023, 10, 4)).phase is Phase.ENDED


@pytest.mark.parametrize(
    ("family", "name", "product", "cycle"),
    [
        ("suse linux enterprise server", "SUSE Linux Enterprise Server 15 SP5", "sles", "15.5"),
        ("redhat", "Red Hat Enterprise Linux CoreOS 414.92.202402130420-0 (Plow)", "red-hat-openshift", "4.14"),
        ("amazon", "Amazon Linux AMI 2018.03", "amazon-linux", "2018.03"),
        ("azurelinux", "3.0.20240727", "azure-linux", "3.0"),
    ],
)
def test_scanner_names_of_several_words(family: str, name: str, product: str, cycle: str) -> None:
    found, release, why = os_release(knowledge().catalog, family, name)
    assert (found.id if found else None, release, why) == (product, cycle, "")


# ------------------------------------------------------------------------------------------
# 8. An empty node list says the input holds no nodes


def test_an_empty_node_list_says_no_nodes_not_no_pods(tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot"
    write_json(snapshot / "nodes.json", {"apiVersion": "v1", "kind": "NodeList", "items": []})
    (snapshot / "version.json").write_bytes((DATA / "version" / "kind-v1.20.0-version.json").read_bytes())
    inventory = read_snapshot(snapshot)
    findings = evaluate(inventory, knowledge(), Policy(), date(2026, 12, 7))
    node_os = next(f for f in findings if f.check == "node_os_supported")
    assert node_os.status is Status.UNKNOWN
    assert (
        node_os.message
        == "nothing in the input for this check to judge: the snapshot holds no nodes: its nodes list is empty"
    )
    assert "pods" not in node_os.message and node_os.evidence["missing"] == ["nodes"]


def test_without_a_node_file_the_reason_is_the_missing_file(tmp_path: Path) -> None:
    write_json(tmp_path / "s" / "version.json", version_doc("v1.33.4"))
    findings = evaluate(read_snapshot(tmp_path / "s"), knowledge(), Policy(), date(2026, 12, 7))
    node_os = next(f for f in findings if f.check == "node_os_supported")
    assert node_os.message == "nothing in the input for this check to judge: the snapshot holds no nodes"
