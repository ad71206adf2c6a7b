"""The period report over a recorded history: every verdict, the gap, the SLA days, the clocks.

The history is ``ledger_scenario``'s story: real fixture files (a kind node, the nginx pod, an API
server version, a Trivy report) changed over three months and audited with the real audit runner,
recorded in SQLite and in a throwaway PostgreSQL.  Pure parts (coverage, clocks) are also tested on
records built here.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ledger_scenario import CRITICAL, D1, D2, D3, END, GAP, HIGH, MEDIUM, START, audit_days, build_ledger
from patchlevel.knowledge import load_default_knowledge
from patchlevel.ledger.clocks import (
    CLOCK_FIRST_SCAN,
    CLOCK_FIX,
    CLOCK_KEV,
    FixObservation,
    first_known_fix,
    fix_observations,
)
from patchlevel.ledger.history import AuditPoint, ClusterRef, History
from patchlevel.ledger.period import coverage
from patchlevel.ledger.query import load_history
from patchlevel.ledger.report import PeriodReport, period_requirement_results
from patchlevel.ledger.run import judge_period, lookback_days, period_report
from patchlevel.ledger.store import open_store
from patchlevel.model import Finding, Status
from patchlevel.policy import Policy
from patchlevel.vuln.kev import KevCatalog, KevEntry
from pg_harness import ENGINES, ledger_url_for

GENERATED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=ENGINES)
def story(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp(f"story-{request.param}")
    url = ledger_url_for(request.param, root)
    assert build_ledger(url, root) == len(audit_days())
    return url


@pytest.fixture(scope="module")
def report(story: str) -> PeriodReport:
    return period_report(story, "ledger-story", START, END, policy=Policy(), generated_at=GENERATED)


def only(report: PeriodReport, check: str, subject: str) -> Finding:
    found = [f for f in report.findings if f.check == check and f.subject == subject]
    assert len(found) == 1, [(f.check, f.subject) for f in report.findings if f.check == check]
    return found[0]


def test_every_audit_of_the_story_is_in_the_period_report(report: PeriodReport) -> None:
    in_period = [d for d in audit_days() if START <= d <= END]
    assert report.audits == len(in_period)
    assert (report.first_audit, report.last_audit) == (in_period[0], in_period[-1])
    assert report.cluster_name == "ledger-story"


def test_the_gap_is_named_with_its_dates_and_fails_continuity(report: PeriodReport) -> None:
    assert [(g.first, g.last, g.audit_before, g.audit_after) for g in report.gaps] == [
        (GAP[0], GAP[1], date(2026, 2, 9), date(2026, 2, 21))
    ]
    finding = only(report, "audit_evidence_continuous", "cluster")
    assert finding.status is Status.FAIL
    assert "2026-02-10 to 2026-02-20" in finding.message
    assert finding.evidence["days_without_evidence"] == 11
    assert report.evidence_days == (END - START).days + 1 - 11


def test_every_day_judging_check_says_unknown_for_the_gap(report: PeriodReport) -> None:
    for check in (
        "images_scanned_throughout_period",
        "fixes_deployed_within_sla",
        "nodes_rebooted_onto_current_kernel",
        "components_supported_throughout_period",
        "control_plane_patched_within_window",
    ):
        finding = (
            only(report, check, "cluster")
            if check != "fixes_deployed_within_sla"
            else next(f for f in report.findings if f.check == check and f.subject == "cluster")
        )
        assert finding.status is Status.UNKNOWN
        assert "2026-02-10 to 2026-02-20" in finding.message


def test_an_image_unscanned_for_longer_than_the_policy_fails_with_its_dates(report: PeriodReport) -> None:
    stale = only(report, "images_scanned_throughout_period", f"image/docker.io/library/nginx@{D3}")
    assert stale.status is Status.FAIL
    assert stale.evidence["without_fresh_scan"] == [{"first": "2026-03-09", "last": "2026-03-31", "days": 23}]
    assert stale.evidence["workloads"] == ["Deployment/default/nginx"]
    for digest in (D1, D2):
        assert only(report, "images_scanned_throughout_period", f"image/docker.io/library/nginx@{digest}").status is (
            Status.PASS
        )


def test_the_sla_clock_is_the_workloads_and_survives_a_rebuild(report: PeriodReport) -> None:
    finding = only(report, "fixes_deployed_within_sla", "workload/Deployment/default/nginx")
    items = {i["vulnerability"]: i for i in finding.evidence["items"]}  # type: ignore[union-attr]
    critical = items[CRITICAL]
    # the fix was first seen on 2026-01-04 (D1's second scan); the D2 rebuild on 2026-01-22 still had it;
    # D3 without it ran from 2026-02-06: 33 days, over the 30-day window (a restarted clock would say 15)
    assert critical["clock_start"] == "2026-01-04" and critical["clock"] == CLOCK_FIRST_SCAN
    assert critical["clock_image"] == D1
    assert critical["resolved"] == "2026-02-06" and critical["days"] == 33 and critical["status"] == "fail"
    high = items[HIGH]
    assert high["open_at_end"] is True and high["resolved"] is None
    assert high["clock_start"] == "2025-12-18" and high["days"] == (END - date(2025, 12, 18)).days
    assert high["status"] == "warn"  # high past its window is the policy's sla_status: warn
    assert finding.status is Status.FAIL


def test_the_sla_summary_per_severity(report: PeriodReport) -> None:
    summary = {s.severity: s for s in report.sla}
    # the scanner's critical, resolved in 33 days, and the medium CISA KEV lists (critical), open for 103
    assert (summary["critical"].count, summary["critical"].resolved, summary["critical"].worst) == (2, 1, 103)
    assert summary["critical"].median == 68.0 and summary["critical"].p90 == 103.0
    assert (summary["high"].open_at_end, summary["high"].overdue) == (1, 1)
    assert "medium" not in summary or summary["medium"].count == 0  # medium is not timed by the default policy


def test_a_medium_vulnerability_in_cisa_kev_is_critical_over_the_period(report: PeriodReport) -> None:
    # CVE-2020-15999 is medium in the Trivy report, and in the bundled KEV catalog since 2021-11-03: the
    # audit ranks it critical, so the period must too (the default policy does not time medium at all)
    finding = only(report, "fixes_deployed_within_sla", "workload/Deployment/default/nginx")
    items = {i["vulnerability"]: i for i in finding.evidence["items"]}  # type: ignore[union-attr]
    exploited = items[MEDIUM]
    assert (exploited["severity"], exploited["status"], exploited["days"], exploited["sla_days"]) == (
        "critical",
        "fail",
        (END - date(2025, 12, 18)).days,
        30,
    )
    assert exploited["known_exploited"] == {
        "date_added": "2021-11-03",
        "due_date": "2021-11-17",
        "known_ransomware_use": None,
    }
    assert f"{MEDIUM} (known exploited, 103 days > 30)" in finding.message
    assert "cisa-kev" in [d.name for d in report.data_sources]


def _story_history(story: str) -> History:
    with open_store(story) as store:
        return load_history(store, "ledger-story", START, END, lookback_days(Policy()))


def _items(report: PeriodReport) -> dict[str, dict[str, object]]:
    finding = only(report, "fixes_deployed_within_sla", "workload/Deployment/default/nginx")
    return {i["vulnerability"]: i for i in finding.evidence["items"]}  # type: ignore[union-attr,index,misc]


def _kev(*entries: tuple[str, date]) -> KevCatalog:
    return KevCatalog(
        "test",
        date(2026, 4, 1),
        {cve: KevEntry(cve, "v", "p", "n", added, None, None) for cve, added in entries},
    )


def test_without_a_kev_catalog_the_period_says_so_and_times_the_scanners_severities(story: str) -> None:
    knowledge = dataclasses.replace(load_default_knowledge(None), kev=None)
    report = judge_period(_story_history(story), Policy(), knowledge, generated_at=GENERATED)
    assert MEDIUM not in _items(report)  # medium is not timed by the default policy
    assert any("no CISA KEV catalog was found" in w for w in report.warnings)
    assert "cisa-kev" not in [d.name for d in report.data_sources]


def test_a_kev_listing_never_gives_a_fix_more_time_than_its_own_severity(story: str) -> None:
    history = _story_history(story)
    base = load_default_knowledge(None)
    # the critical's clock started 2026-01-04 (deadline 2026-02-03); listed 2026-01-20, the KEV window would end
    # 2026-02-19: the earlier deadline holds and it still fails at 33 days.  The high (warn by policy), listed
    # 2026-03-01 while open, fails: known exploited.  A listing after the period's end changes nothing.
    kev = _kev((CRITICAL, date(2026, 1, 20)), (HIGH, date(2026, 3, 1)), (MEDIUM, date(2026, 4, 5)))
    items = _items(judge_period(history, Policy(), dataclasses.replace(base, kev=kev), generated_at=GENERATED))
    critical, high = items[CRITICAL], items[HIGH]
    assert (critical["clock_start"], critical["days"], critical["status"]) == ("2026-01-04", 33, "fail")
    assert (high["severity"], high["clock_start"], high["status"]) == ("critical", "2025-12-18", "fail")
    assert "known_exploited" in critical and "known_exploited" in high
    assert MEDIUM not in items


def test_a_kev_listing_starts_the_clock_of_a_vulnerability_its_severity_did_not_time(story: str) -> None:
    history = _story_history(story)
    base = load_default_knowledge(None)
    # the medium was open from 2025-12-18 to the period's end; listed on 2026-03-10, its 30 days run to 2026-04-09
    kev = _kev((MEDIUM, date(2026, 3, 10)))
    items = _items(judge_period(history, Policy(), dataclasses.replace(base, kev=kev), generated_at=GENERATED))
    medium = items[MEDIUM]
    assert (medium["clock"], medium["clock_start"], medium["days"], medium["status"]) == (
        CLOCK_KEV,
        "2026-03-10",
        21,
        "pass",
    )
    # listed on 2026-02-01: 58 days by the period's end, past the window
    kev = _kev((MEDIUM, date(2026, 2, 1)))
    items = _items(judge_period(history, Policy(), dataclasses.replace(base, kev=kev), generated_at=GENERATED))
    assert (items[MEDIUM]["days"], items[MEDIUM]["status"]) == (58, "fail")


def test_a_node_without_a_reboot_too_long_fails_and_one_that_rebooted_passes(report: PeriodReport) -> None:
    lagging = only(report, "nodes_rebooted_onto_current_kernel", "node/worker-b")
    assert lagging.status is Status.FAIL
    runs = lagging.evidence["runs_without_reboot"]
    assert runs[0]["days"] == 72 and runs[0]["status"] == "fail"  # type: ignore[index]
    assert lagging.evidence["behind_pool"][0]["days"] == 51  # type: ignore[index]
    assert lagging.evidence["reboots_seen"] == ["2026-03-02"]
    rebooted = only(report, "nodes_rebooted_onto_current_kernel", "node/worker-a")
    assert rebooted.status is Status.PASS
    assert rebooted.evidence["reboots_seen"] == ["2026-01-10", "2026-02-21"]
    assert [k["kernel"] for k in rebooted.evidence["kernels"]] == ["6.5.0-14-generic", "6.5.0-21-generic"]  # type: ignore[union-attr,index]


def test_kernel_lag_is_the_policys_kernel_drift_status(story: str) -> None:
    strict = Policy(node_max_days_without_reboot=400, kernel_drift=Status.FAIL)
    report = period_report(story, "ledger-story", START, END, policy=strict, generated_at=GENERATED)
    assert only(report, "nodes_rebooted_onto_current_kernel", "node/worker-b").status is Status.FAIL
    # 72 days seen without a reboot is within 400, but worker-b booted before the first audit saw it and
    # was created in 2024: it may have run 740 days without one. Unknown, not pass.
    unsure = period_report(story, "ledger-story", START, END, policy=Policy(node_max_days_without_reboot=400))
    finding = only(unsure, "nodes_rebooted_onto_current_kernel", "node/worker-b")
    assert finding.status is Status.UNKNOWN
    assert "booted before the first audit" in finding.evidence["runs_without_reboot"][0]["note"]  # type: ignore[index]
    lenient = Policy(node_max_days_without_reboot=800, node_kernel_max_lag_days=60)  # created 2024-02-20: 740 days
    report = period_report(story, "ledger-story", START, END, policy=lenient, generated_at=GENERATED)
    assert only(report, "nodes_rebooted_onto_current_kernel", "node/worker-b").status is Status.PASS


def test_components_out_of_support_fail_with_their_dates(report: PeriodReport) -> None:
    kubelet = only(report, "components_supported_throughout_period", "kubelet/kubernetes 1.25")
    assert kubelet.status is Status.FAIL
    assert kubelet.evidence["days_ended"] == report.evidence_days
    assert kubelet.evidence["nodes"] == ["worker-a", "worker-b"]
    assert only(report, "components_supported_throughout_period", "os/ubuntu 22.04").status is Status.PASS
    assert only(report, "components_supported_throughout_period", "control-plane/kubernetes 1.33").status is (
        Status.PASS
    )


def test_control_plane_patches_and_the_days_until_they_ran(report: PeriodReport) -> None:
    late = only(report, "control_plane_patched_within_window", "release/kubernetes 1.33.8")
    assert late.status is Status.WARN and late.evidence["days"] == 32
    assert late.evidence["running_it_from"] == "2026-03-14"
    assert only(report, "control_plane_patched_within_window", "release/kubernetes 1.33.9").evidence["days"] == 16
    pending = only(report, "control_plane_patched_within_window", "release/kubernetes 1.33.10")
    assert pending.status is Status.PASS and pending.evidence["open_at_end"] is True
    strict = period_report(story_url(report), "ledger-story", START, END, policy=Policy(patch_behind=Status.FAIL))
    assert only(strict, "control_plane_patched_within_window", "release/kubernetes 1.33.8").status is Status.FAIL


def story_url(report: PeriodReport) -> str:
    url = report.ledger
    return url.replace("***", "") if url.startswith("postgresql") else url


def test_requirement_verdicts_over_the_period(report: PeriodReport) -> None:
    verdicts = {r.requirement.id: r.verdict for r in period_requirement_results(report)}
    assert verdicts["PCI-CG-10.3"] == "fail"
    assert verdicts["PCI-CG-10.2"] == "fail"
    assert verdicts["PCI-DSS-12.3.4"] == "fail"
    assert verdicts["PCI-CG-3.2"] == "not-assessed"  # no period check covers it
    assert all(f.requirements for f in report.findings)


def test_series_cover_every_day_and_leave_the_gap_blank(report: PeriodReport) -> None:
    series = {s.id: s for s in report.series}
    assert {"open-fixable", "scan-coverage", "nodes-support", "kernel-rollout-1"} <= set(series)
    coverage_series = series["scan-coverage"]
    assert len(coverage_series.days) == (END - START).days + 1
    gap_index = (GAP[0] - START).days
    assert coverage_series.total(gap_index) is None
    assert coverage_series.values["fail"][(date(2026, 3, 20) - START).days] == 1
    open_fixable = series["open-fixable"]
    assert open_fixable.values["critical"][(date(2026, 1, 10) - START).days] == 1
    assert open_fixable.values["critical"][(date(2026, 3, 1) - START).days] == 0
    rollout = series["kernel-rollout-1"]
    assert rollout.values["warn"][(date(2026, 1, 20) - START).days] == 1  # worker-b behind
    assert rollout.values["warn"][(date(2026, 3, 10) - START).days] == 0


def test_a_period_without_audits_fails_continuity_and_proves_nothing(story: str) -> None:
    report = period_report(story, "ledger-story", date(2027, 1, 1), date(2027, 1, 31), policy=Policy())
    continuity = only(report, "audit_evidence_continuous", "cluster")
    assert continuity.status is Status.FAIL
    verdicts = {r.requirement.id: r.verdict for r in period_requirement_results(report)}
    assert "pass" not in verdicts.values()


def test_lookback_reads_what_ran_before_the_period(story: str) -> None:
    with open_store(story) as store:
        history = load_history(store, "ledger-story", START, END, lookback_days(Policy()))
    assert history.audits[0].day == date(2025, 12, 20) < START


# ------------------------------------------------------------------------------------------
# Pure parts, on records built here


def _audit(day: date, n: int) -> AuditPoint:
    return AuditPoint(n, day, day, None, "0.1.0", "v1.33.7", "upstream", None, None, (), ())


def _history(days: list[date], start: date, end: date) -> History:
    return History(ClusterRef("name:x", "x", ""), start, end, tuple(_audit(d, i) for i, d in enumerate(days)))


def test_weekly_audits_are_continuous_and_eight_days_are_a_gap() -> None:
    weekly = [date(2026, 1, 1 + 7 * i) for i in range(5)]
    assert coverage(_history(weekly, date(2026, 1, 1), date(2026, 1, 31)), 7).gaps == ()
    late = [date(2026, 1, 1), date(2026, 1, 9), date(2026, 1, 16)]
    cov = coverage(_history(late, date(2026, 1, 1), date(2026, 1, 20)), 7)
    assert [(g.first, g.last) for g in cov.gaps] == [(date(2026, 1, 2), date(2026, 1, 8))]


def test_days_before_the_first_audit_and_after_a_stale_last_one_are_gaps() -> None:
    cov = coverage(_history([date(2026, 1, 5)], date(2026, 1, 1), date(2026, 1, 20)), 7)
    assert [(g.first, g.last) for g in cov.gaps] == [
        (date(2026, 1, 1), date(2026, 1, 4)),
        (date(2026, 1, 6), date(2026, 1, 20)),
    ]


def test_the_next_audit_after_the_period_decides_whether_its_last_days_are_covered() -> None:
    loaded = [date(2026, 1, 1), date(2026, 1, 5)]
    history = dataclasses.replace(_history(loaded, date(2026, 1, 6), date(2026, 1, 10)), after=date(2026, 1, 20))
    cov = coverage(history, 7)
    assert [(g.first, g.last, g.audit_before, g.audit_after) for g in cov.gaps] == [
        (date(2026, 1, 6), date(2026, 1, 10), date(2026, 1, 5), date(2026, 1, 20))
    ]
    assert cov.longest_interval == 15
    soon = dataclasses.replace(history, after=date(2026, 1, 11))
    assert coverage(soon, 7).gaps == () and coverage(soon, 7).longest_interval == 6


def test_without_a_later_audit_the_last_one_is_measured_to_the_report_date_and_later_days_are_a_gap() -> None:
    daily = [date(2026, 1, d) for d in range(1, 6)]
    history = _history(daily, date(2026, 1, 1), date(2026, 1, 31))
    cov = coverage(history, 7, today=date(2026, 1, 6))
    assert [(g.first, g.last, g.audit_after) for g in cov.gaps] == [(date(2026, 1, 7), date(2026, 1, 31), None)]
    assert cov.longest_interval == 1
    assert [(g.first, g.last) for g in coverage(history, 7).gaps] == [(date(2026, 1, 6), date(2026, 1, 31))]


def test_a_control_plane_line_with_no_patch_released_while_it_ran_passes_by_name() -> None:
    # v1.33.7 every day from 2026-01-10 to 2026-01-20; 1.33.8 came out on 2026-02-10 (the bundled release data):
    # nothing to patch in the period, which is a pass for that line, not a check without findings
    days = [date(2026, 1, d) for d in range(10, 21)]
    report = judge_period(
        _history(days, days[0], days[-1]), Policy(), load_default_knowledge(None), generated_at=GENERATED
    )
    (line,) = [f for f in report.findings if f.check == "control_plane_patched_within_window"]
    assert (line.subject, line.status) == ("release/kubernetes 1.33", Status.PASS)
    assert line.evidence["versions"] == ["1.33.7"] and line.evidence["newest_patch"] == "1.33.7"


def test_a_period_check_that_judges_nothing_is_unknown_not_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    from patchlevel.ledger import period as period_module

    def judges_nothing(ctx: period_module.PeriodContext) -> period_module.CheckResult:
        return period_module.CheckResult(())

    judges_nothing.__name__ = "nodes_rebooted_onto_current_kernel"
    specs = tuple(
        dataclasses.replace(spec, function=judges_nothing) if spec.id == judges_nothing.__name__ else spec
        for spec in period_module.PERIOD_CHECKS
    )
    monkeypatch.setattr(period_module, "PERIOD_CHECKS", specs)
    days = [date(2026, 1, d) for d in range(10, 21)]
    report = judge_period(
        _history(days, days[0], days[-1]), Policy(), load_default_knowledge(None), generated_at=GENERATED
    )
    (silent,) = [f for f in report.findings if f.check == "nodes_rebooted_onto_current_kernel"]
    assert (silent.subject, silent.status) == ("cluster", Status.UNKNOWN)
    assert {r.requirement.id: r.verdict.value for r in period_requirement_results(report)}["PCI-CG-10.2"] != "pass"


def test_first_known_fix_is_the_earliest_and_prefers_the_release_date() -> None:
    observations = [
        FixObservation("Deployment/a/web", "CVE-1", D2, date(2026, 2, 1), None, None),
        FixObservation("Deployment/a/web", "CVE-1", D1, date(2026, 1, 10), None, None),
        FixObservation("Deployment/a/api", "CVE-1", D1, date(2026, 1, 20), date(2026, 1, 2), None),
    ]
    clocks = first_known_fix(observations)
    assert clocks[("Deployment/a/web", "CVE-1")].start == date(2026, 1, 10)
    assert clocks[("Deployment/a/web", "CVE-1")].image == D1
    api = clocks[("Deployment/a/api", "CVE-1")]
    assert (api.start, api.clock) == (date(2026, 1, 2), CLOCK_FIX)


def test_fix_observations_come_from_every_scan_of_every_image_a_workload_ran(story: str) -> None:
    with open_store(story) as store:
        history = load_history(store, "ledger-story", START, END, 60)
    observed = {(o.image, o.vulnerability, o.seen_on) for o in fix_observations(history)}
    assert (D1, CRITICAL, date(2026, 1, 4)) in observed
    assert (D2, CRITICAL, date(2026, 1, 22)) in observed
    assert not any(image == D3 and vuln == CRITICAL for image, vuln, _ in observed)


def test_judging_a_period_is_pure_and_repeatable(story: str) -> None:
    with open_store(story) as store:
        history = load_history(store, "ledger-story", START, END, lookback_days(Policy()))
    knowledge = load_default_knowledge(None)
    first = judge_period(history, Policy(), knowledge, generated_at=GENERATED)
    second = judge_period(history, Policy(), knowledge, generated_at=GENERATED)
    assert first == second


@pytest.mark.parametrize("engine", ENGINES)
def test_an_unknown_cluster_is_one_line_naming_those_the_ledger_holds(engine: str, tmp_path: Path) -> None:
    from patchlevel.ledger.errors import LedgerError

    url = ledger_url_for(engine, tmp_path)
    open_store(url).close()  # a ledger, created as the first audit would, holding no audit
    with pytest.raises(LedgerError, match="holds no audit yet"):
        period_report(url, None, START, END, policy=Policy())
