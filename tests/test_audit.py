"""The audit runner: every check is accounted for, even when the input holds nothing it judges; ``audit.run``
turns a source into an outcome and records it in a ledger when asked."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from patchlevel.audit import AuditConfig, SnapshotSource, run
from patchlevel.checks import ALL_CHECKS
from patchlevel.cli import main
from patchlevel.collect.snapshot import read_snapshot
from patchlevel.evaluate import build_report
from patchlevel.knowledge import load_knowledge
from patchlevel.lifecycle.catalog import load_catalog
from patchlevel.model import ExitCode, Status
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


# ------------------------------------------------------------------------------------------
# audit.run: the one library call (snapshot in, outcome out), and recording into a ledger


DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo-cluster"


def test_run_gives_the_report_and_what_it_was_judged_on() -> None:
    outcome = run(AuditConfig(as_of=date(2026, 11, 27)), SnapshotSource(DEMO))
    assert outcome.report.cluster.name == "demo-cluster"
    assert len(outcome.inventory.nodes) == outcome.report.cluster.nodes == 4
    assert outcome.incomplete == ()
    assert outcome.exit_code(Status.FAIL) == ExitCode.FINDINGS
    assert outcome.exit_code(None) == ExitCode.OK
    assert (DEMO / "nodes.json").resolve() in outcome.protected  # reports are never written over inputs


def test_run_records_once_in_the_ledger(tmp_path: Path) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    notes: list[str] = []
    config = AuditConfig(as_of=date(2026, 11, 27), ledger=ledger)
    first = run(config, SnapshotSource(DEMO), notify=notes.append)
    again = run(config, SnapshotSource(DEMO), notify=notes.append)
    assert first.incomplete == again.incomplete == ()
    assert notes[0].startswith("recorded audit 1 of cluster demo-cluster")
    assert notes[1].startswith("already recorded as audit 1")  # idempotent: one audit


def test_a_ledger_that_cannot_be_written_keeps_the_report_and_makes_the_audit_incomplete(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    config = AuditConfig(as_of=date(2026, 11, 27), ledger=f"sqlite:///{blocker / 'ledger.db'}")
    outcome = run(config, SnapshotSource(DEMO))
    assert outcome.report.findings  # the report stands
    (reason,) = outcome.incomplete  # neither the history's clocks nor the record could be had: said once
    assert reason.startswith("not recorded in the ledger, and its clocks come from the scans alone: ")
    assert "cannot create the ledger's directory" in reason
    assert outcome.exit_code(None) == ExitCode.INCOMPLETE


def test_cli_records_through_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATCHLEVEL_LEDGER", f"sqlite:///{tmp_path / 'ledger.db'}")
    code = main(["audit", str(DEMO), "--as-of", "2026-11-27", "--format", "json", "-o", str(tmp_path / "r.json")])
    assert code == ExitCode.FINDINGS
    assert "recorded audit 1 of cluster demo-cluster" in capsys.readouterr().err
    assert (tmp_path / "r.json").is_file()
