"""A release older than every line of the data is unsupported for image base OSes as for nodes (issue 15).

Node OSes reached the catalog's "predates every release" rule; an image's base OS named by a scanner
("oracle" + "5.11") matched no line and stopped at "not a release in the lifecycle data".  Both now
reach the same rule, on both sides of the day the oldest line's last support ended.

The scan reports are the real Trivy golden (tests/data/scans/trivy, SOURCES.md there) with only its
``Metadata.OS`` (and its scan time) rewritten in memory to the OS under test; the node objects are built by the shared
builders with the osImage strings the OSes write in /etc/os-release.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from builders import DATA, by_subject, knowledge, make_context, make_node, run
from patchlevel.checks.images import os_release
from patchlevel.importers.detect import parse_scan_document
from patchlevel.lifecycle.catalog import Phase
from patchlevel.model import Finding, Status
from patchlevel.osnames import parse_os_image
from test_images import ALPINE39_IMAGE_ID, make_inventory, make_pod

DAY = timedelta(days=1)
TRIVY_GOLDEN = DATA / "scans" / "trivy" / "trivy-golden-alpine-3.9-eosl-current-schema.json"  # scanned 2021-08-25

# (scanner family, scanner OS name, node osImage, product, cycle the release is read as, the oldest
# line of the data, the last day of that line's support in the bundled data)
OLDER_THAN_THE_DATA = [
    ("oracle", "5.11", "Oracle Linux Server 5.11", "oracle-linux", "5", "6", date(2024, 12, 31)),
    ("redhat", "2.1", "Red Hat Enterprise Linux 2.1", "rhel", "2", "4", date(2017, 3, 31)),
    ("sles", "9", "SUSE Linux Enterprise Server 9", "sles", "9", "10.0", date(2007, 12, 31)),
    ("photon", "0.9", "VMware Photon OS/Linux 0.9", "vmware-photon", "0.9", "1.0", date(2022, 2, 28)),
]


def image_os(family: str, name: str, as_of: date) -> Finding:
    doc: dict[str, Any] = json.loads(TRIVY_GOLDEN.read_bytes())
    doc["Metadata"]["OS"] = {"Family": family, "Name": name}  # the golden says alpine 3.9.4, EOSL
    doc["CreatedAt"] = f"{as_of - DAY}T12:00:00Z"  # a scan the day before, so it is evidence on the day
    reports = parse_scan_document(json.dumps(doc).encode(), str(TRIVY_GOLDEN))
    pod = make_pod("app", "ghcr.io/aquasecurity/trivy-test-images:alpine-39", ALPINE39_IMAGE_ID)
    ctx = make_context(make_inventory([pod], scans=list(reports)), as_of=as_of)
    (finding,) = [f for f in run("image_os_supported", ctx) if f.subject != "cluster"]
    return finding


def node_os(os_image: str, as_of: date) -> Finding:
    node = make_node("n", os_image=os_image, kernel="2.6.18-398.el5")
    return by_subject(run("node_os_supported", make_context(nodes=[node], as_of=as_of)))["node/n"]


@pytest.mark.parametrize(
    ("family", "name", "os_image", "product", "cycle", "oldest", "end"), OLDER_THAN_THE_DATA, ids=lambda v: str(v)
)
def test_a_scanner_release_older_than_the_data_reaches_the_predates_rule(
    family: str, name: str, os_image: str, product: str, cycle: str, oldest: str, end: date
) -> None:
    catalog = knowledge().catalog
    found, release, why = os_release(catalog, family, name)
    assert (found.id if found else None, release, why) == (product, cycle, "")
    lines = catalog.product(product)
    assert lines is not None and lines.cycle(cycle) is None  # not a line of the data: judged as older
    on_the_day = image_os(family, name, end)
    assert on_the_day.status is Status.UNKNOWN
    assert "predates every release" in on_the_day.message and f"was still supported on {end}" in on_the_day.message
    after = image_os(family, name, end + DAY)
    assert after.status is Status.FAIL, after.message
    assert after.message.startswith(f"base OS {lines.label} {cycle}")
    assert "the oldest line in the lifecycle data" in after.message and str(end) in after.message
    assert f"{lines.label} {oldest}," in after.message
    assert "not a release in the lifecycle data" not in after.message


@pytest.mark.parametrize(
    ("family", "name", "os_image", "product", "cycle", "oldest", "end"), OLDER_THAN_THE_DATA, ids=lambda v: str(v)
)
def test_the_node_and_the_image_on_the_same_release_get_the_same_verdict(
    family: str, name: str, os_image: str, product: str, cycle: str, oldest: str, end: date
) -> None:
    assert parse_os_image(os_image).cycle in (cycle, f"{cycle}.0")  # SLES 9 reads as 9.0 on a node
    for day in (end, end + DAY):
        assert node_os(os_image, day).status is image_os(family, name, day).status, day


def test_a_release_newer_than_every_line_stays_unknown() -> None:
    finding = image_os("oracle", "11.0", date(2026, 9, 1))
    assert finding.status is Status.UNKNOWN
    assert "Oracle Linux 11 is not in the lifecycle data" in finding.message


def test_a_release_inside_the_data_is_still_read_as_its_line() -> None:
    catalog = knowledge().catalog
    assert os_release(catalog, "oracle", "7.9")[1] == "7"
    assert os_release(catalog, "sles", "15.5")[1] == "15.5"
    assert os_release(catalog, "debian", "2.2")[1] == "2.2"
    # a line named by code name only, or a product whose lines follow another's calendar: unchanged
    assert os_release(catalog, "debian", "bookworm/sid")[1] == "12"
    assert os_release(catalog, "bottlerocket", "1.19.4")[1] is None


# ------------------------------------------------------------------------------------------
# Debian before 4.0 numbered each release x.y (2.2 potato); the data lists those lines


@pytest.mark.parametrize(
    ("os_image", "cycle"),
    [
        ("Debian GNU/Linux 2.2", "2.2"),
        ("Debian GNU/Linux 3.1", "3.1"),
        ("Debian GNU/Linux 1.3", "1.3"),
        ("Debian GNU/Linux 4.0", "4"),
        ("Debian GNU/Linux 10", "10"),
        ("Debian GNU/Linux 12 (bookworm)", "12"),
    ],
)
def test_debian_releases_before_4_are_their_point_number(os_image: str, cycle: str) -> None:
    read = parse_os_image(os_image)
    assert (read.product, read.cycle) == ("debian", cycle)
    assert knowledge().catalog.product("debian").cycle(cycle) is not None  # type: ignore[union-attr]


def test_a_debian_2_2_node_is_judged_by_its_own_line() -> None:
    """Debian 2.2 (potato): security support ended 2003-06-30 in the bundled data."""
    line = knowledge().catalog.product("debian").cycle("2.2")  # type: ignore[union-attr]
    assert line is not None and line.eol == date(2003, 6, 30)
    assert node_os("Debian GNU/Linux 2.2", date(2003, 6, 30)).status in (Status.PASS, Status.WARN)
    after = node_os("Debian GNU/Linux 2.2", date(2003, 7, 1))
    assert (after.status, after.message) == (Status.FAIL, "Debian 2.2 reached end of support on 2003-06-30")
    image = image_os("debian", "2.2", date(2003, 7, 1))
    assert (image.status, image.message) == (Status.FAIL, "base OS Debian 2.2 reached end of support on 2003-06-30")
    assert knowledge().catalog.support("debian", "2.2", date(2003, 7, 1)).phase is Phase.ENDED
