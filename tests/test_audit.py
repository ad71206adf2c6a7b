"""The audit runner: every check is accounted for, even when the input holds nothing it judges."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from patchlevel.checks import ALL_CHECKS
from patchlevel.collect.snapshot import read_snapshot
from patchlevel.evaluate import build_report
from patchlevel.knowledge import load_knowledge
from patchlevel.lifecycle.catalog import load_catalog
from patchlevel.model import Status
from patchlevel.policy import Policy


def test_a_version_only_snapshot_reports_every_check_and_never_passes_node_checks(tmp_path: Path) -> None:
    (tmp_path / "version.json").write_text('{"gitVersion": "v1.33.2"}')
    report = build_report(
        read_snapshot(tmp_path),
        load_knowledge(load_catalog()),
        Policy(),
        date(2026, 11, 27),
        datetime(2026, 11, 27, 12, tzinfo=UTC),
    )
    by_check = {f.check: f for f in report.findings}
    assert set(by_check) == {spec.id for spec in ALL_CHECKS}
    # 1.33 left maintenance support on 2026-06-28
    assert by_check["control_plane_version_supported"].status is Status.FAIL
    for check in ("node_os_supported", "kubelet_version_supported", "node_kernel_consistent_in_pool"):
        finding = by_check[check]
        assert finding.status is Status.UNKNOWN
        assert finding.subject == "cluster"
        assert "the snapshot holds no nodes" in finding.message
        assert finding.requirements, "the requirement mapping still applies"
