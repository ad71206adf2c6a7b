"""Clocks from history (issue 9): in an audit with a ledger, a vulnerability's clock for a workload starts when a
fix was first known in any image that workload ran; rebuilding the image without the fix does not restart it.

The story is tests/ledger_scenario.py: Deployment default/nginx runs D1, whose scan of 2026-01-04 first shows
CVE-2019-12900 (critical) with its fix; it is rebuilt as D2 on 2026-01-22, still carrying it, and first scanned
that day.  On 2026-02-05 the scans of the running image alone say 14 days (inside the 30-day window); the ledger
says 32 days (past it).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ledger_scenario import CRITICAL, D1, audit_days, write_day
from patchlevel.audit import AuditConfig, AuditOutcome, ImageEvidenceOptions, SnapshotSource, run
from patchlevel.checks.sla import CLOCK_HISTORY
from patchlevel.model import Finding, Status

CHECK = "fixable_vulnerabilities_patched_in_time"
DAY = date(2026, 2, 5)


def audit(root: Path, day: date, ledger: str | None) -> AuditOutcome:
    snapshot, scans = write_day(root / day.isoformat(), day)
    config = AuditConfig(
        as_of=day, images=ImageEvidenceOptions(scan_reports=(scans,)), ledger=ledger, cluster_name="ledger-story"
    )
    return run(config, SnapshotSource(snapshot))


def nginx_finding(outcome: AuditOutcome) -> Finding:
    (found,) = [f for f in outcome.report.findings if f.check == CHECK and "nginx" in f.subject]
    return found


def test_a_rebuild_does_not_restart_the_clock_of_a_workload(tmp_path: Path) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    for day in [d for d in audit_days() if d <= date(2026, 2, 3)]:
        recorded = audit(tmp_path / "history", day, ledger)
        assert recorded.incomplete == ()

    alone = nginx_finding(audit(tmp_path / "alone", DAY, None))
    assert alone.status is Status.PASS
    (critical,) = [v for v in alone.vulnerabilities if v.id == CRITICAL]
    assert (critical.clock_start, critical.age_days, critical.overdue) == (date(2026, 1, 22), 14, False)

    remembered = nginx_finding(audit(tmp_path / "ledger", DAY, ledger))
    assert remembered.status is Status.FAIL
    (critical,) = [v for v in remembered.vulnerabilities if v.id == CRITICAL]
    assert (critical.clock_start, critical.age_days, critical.overdue) == (date(2026, 1, 4), 32, True)
    assert critical.clock == f"{CLOCK_HISTORY} (first-scan, image {D1})"  # the finding says which clock it used
    assert CRITICAL in remembered.message


def test_a_cluster_the_ledger_has_not_recorded_is_judged_on_its_scans_alone(tmp_path: Path) -> None:
    first = nginx_finding(audit(tmp_path, DAY, f"sqlite:///{tmp_path / 'empty.db'}"))
    assert first.status is Status.PASS
