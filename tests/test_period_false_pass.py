"""Period verdicts that must not pass without evidence (issue 9 audit findings).

Histories are the demo cluster snapshot (``examples/demo-cluster``: a kind control plane and two workers, a
minikube node, kube-proxy pods and the nginx pod) audited with the real audit runner on given days, with
files left out of the snapshot on some days, and a Trivy report of nginx (``tests/data/scans/trivy``, see
``ledger_scenario.scan_document``) dated as the test says.  Each is recorded in SQLite and in a throwaway
PostgreSQL (``pg_harness``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ledger_scenario import D1, scan_document
from patchlevel.audit import AuditConfig, ImageEvidenceOptions, SnapshotSource, run
from patchlevel.cli import main
from patchlevel.ledger.evidence import policy_digest_of
from patchlevel.ledger.record import record_audit
from patchlevel.ledger.report import PeriodReport, period_requirement_results
from patchlevel.ledger.run import period_report
from patchlevel.model import Finding, Status
from patchlevel.policy import Policy
from pg_harness import ENGINES, ledger_url_for

DEMO = Path(__file__).parent.parent / "examples" / "demo-cluster"
NODES, LEGACY_NODE, PODS = "nodes.json", "legacy-node.yaml", "pods-all-namespaces.json"
GENERATED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
NGINX = "workload/Pod/default/nginx"
KUBE_PROXY_IMAGES = (
    "image/registry.k8s.io/kube-proxy@sha256:476cd9d6cf760c7b6615cfd869cfd7cd1544caf87d4953a1417018cdacab94e6",
    "image/k8s.gcr.io/kube-proxy@sha256:9497f39d4d1a508621f6cef360fc114efc45cc51f4b73b3b6fdd9925faf62fe6",
)


@pytest.fixture(params=ENGINES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return ledger_url_for(request.param, tmp_path)


def record_day(
    url: str,
    root: Path,
    day: date,
    *,
    drop: Sequence[str] = (),
    scanned: date | None = None,
    digests: Sequence[str] = (D1,),
    tweak: Callable[[Path], None] | None = None,
) -> None:
    """Audit the demo cluster as of ``day`` without the files in ``drop`` (and changed by ``tweak``), with clean
    scans of the images with ``digests`` (nginx's by default) made on ``scanned`` (none when None); record it."""
    snapshot = root / f"snapshot-{day.isoformat()}"
    shutil.copytree(DEMO, snapshot)
    for name in drop:
        (snapshot / name).unlink()
    if tweak is not None:
        tweak(snapshot)
    scans = root / f"scans-{day.isoformat()}"
    scans.mkdir()
    if scanned is not None:
        for n, digest in enumerate(digests):
            document = scan_document(scanned, digest, set())
            (scans / f"scan-{n}.json").write_text(json.dumps(document), encoding="utf-8")
    config = AuditConfig(as_of=day, images=ImageEvidenceOptions(scan_reports=(scans,)), cluster_name="demo")
    outcome = run(config, SnapshotSource(snapshot))
    record_audit(
        url,
        outcome.report,
        outcome.inventory,
        outcome.facts,
        cluster_name="demo",
        policy_digest=policy_digest_of(Policy()),
        bundle_digest=None,
    )


def judge(url: str, start: date, end: date, policy: Policy | None = None) -> PeriodReport:
    return period_report(url, "demo", start, end, policy=policy or Policy(), generated_at=GENERATED)


def findings(report: PeriodReport, check: str) -> dict[str, Finding]:
    found = {f.subject: f for f in report.findings if f.check == check}
    assert len(found) == sum(1 for f in report.findings if f.check == check)
    return found


def verdicts(report: PeriodReport) -> dict[str, str]:
    return {r.requirement.id: r.verdict.value for r in period_requirement_results(report)}


# ------------------------------------------------------------------------------------------
# Evidence continuity does not stop at --to


def test_a_gap_is_a_gap_wherever_the_period_ends(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for day in (date(2026, 1, 1), date(2026, 1, 5), date(2026, 1, 20)):
        record_day(url, tmp_path, day)
    for end in ("2026-01-10", "2026-01-19"):
        code = main(["period", "--ledger", url, "--from", "2026-01-06", "--to", end, "--format", "json"])
        document = json.loads(capsys.readouterr().out)
        assert code == 1
        (continuity,) = [f for f in document["findings"] if f["check"] == "audit_evidence_continuous"]
        assert continuity["status"] == "fail", end
        # 2026-01-05 to the next audit on 2026-01-20 is 15 days: no day of the period is covered
        assert continuity["evidence"]["gaps"] == [
            {"first": "2026-01-06", "last": end, "days": int(end[-2:]) - 5, "audit_before": "2026-01-05",
             "audit_after": "2026-01-20"}
        ]  # fmt: skip
        assert continuity["evidence"]["longest_interval_days"] == 15


def test_the_gap_before_a_period_is_measured_to_the_audit_before_the_look_back(url: str, tmp_path: Path) -> None:
    record_day(url, tmp_path, date(2025, 9, 1))  # long before the period and its look-back
    record_day(url, tmp_path, date(2026, 1, 10))
    report = judge(url, date(2026, 1, 1), date(2026, 1, 10))
    (gap,) = report.gaps
    assert (gap.first, gap.last, gap.audit_before, gap.audit_after) == (
        date(2026, 1, 1),
        date(2026, 1, 9),
        date(2025, 9, 1),
        date(2026, 1, 10),
    )
    assert findings(report, "audit_evidence_continuous")["cluster"].evidence["longest_interval_days"] == 131


def test_a_period_with_no_audit_inside_it_never_passes(url: str, tmp_path: Path) -> None:
    for day in (date(2026, 1, 1), date(2026, 1, 6)):
        record_day(url, tmp_path, day)
    report = judge(url, date(2026, 1, 2), date(2026, 1, 5))  # covered by 2026-01-01's audit, five days to the next
    assert report.gaps == () and report.audits == 0
    continuity = findings(report, "audit_evidence_continuous")["cluster"]
    assert continuity.status is Status.FAIL
    assert "no audit of this cluster is recorded between 2026-01-02 and 2026-01-05" in continuity.message
    assert "pass" not in verdicts(report).values()


# ------------------------------------------------------------------------------------------
# Fixes deployed within the SLA: every running image needs a scan


def test_an_unscanned_workload_is_unknown_with_its_dates_not_a_cluster_pass(url: str, tmp_path: Path) -> None:
    days = [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)]
    for day in days:
        record_day(url, tmp_path, day, scanned=date(2025, 12, 31))  # nginx scanned clean; kube-proxy never
    report = judge(url, days[0], days[-1])
    sla = findings(report, "fixes_deployed_within_sla")
    assert "cluster" not in sla  # no "no fixable vulnerability was open" pass
    proxy = sla["workload/DaemonSet/kube-system/kube-proxy"]
    assert proxy.status is Status.UNKNOWN
    assert "with no scan on 3 days (2026-01-01 to 2026-01-03)" in proxy.message
    assert sorted(proxy.evidence["unscanned_images"]) == sorted(KUBE_PROXY_IMAGES)  # type: ignore[arg-type]
    assert proxy.evidence["without_scan"] == [{"first": "2026-01-01", "last": "2026-01-03", "days": 3}]
    assert verdicts(report)["PCI-DSS-6.3.3"] != "pass"


def test_with_every_running_image_scanned_and_nothing_open_the_sla_passes(url: str, tmp_path: Path) -> None:
    every = (D1, *(subject.rsplit("@", 1)[1] for subject in KUBE_PROXY_IMAGES))
    days = [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)]
    for day in days:
        record_day(url, tmp_path, day, scanned=date(2025, 12, 31), digests=every)
    sla = findings(judge(url, days[0], days[-1]), "fixes_deployed_within_sla")
    assert list(sla) == ["cluster"]
    assert sla["cluster"].status is Status.PASS and sla["cluster"].evidence["scanned_images"] == 3


# ------------------------------------------------------------------------------------------
# Audits whose input held no nodes, or no pods


def test_audits_without_nodes_leave_the_node_checks_unknown_for_those_days(url: str, tmp_path: Path) -> None:
    days = [date(2026, 1, 1), date(2026, 1, 4), date(2026, 1, 7)]
    for day in days:
        record_day(url, tmp_path, day, drop=(NODES, LEGACY_NODE))
    report = judge(url, days[0], days[-1])
    assert verdicts(report)["PCI-CG-10.2"] != "pass"
    for check in ("nodes_rebooted_onto_current_kernel", "components_supported_throughout_period"):
        unknown = findings(report, check)["cluster"]
        assert unknown.status is Status.UNKNOWN
        assert "the audits of 7 days of the period hold no nodes (2026-01-01 to 2026-01-07)" in unknown.message
        assert unknown.evidence["days_without_nodes"] == 7
    nodes_support = next(s for s in report.series if s.id == "nodes-support")
    assert set(nodes_support.values["pass"]) == {None}  # no node counted, not zero nodes out of support


def test_audits_without_pods_leave_the_image_checks_unknown_for_those_days(url: str, tmp_path: Path) -> None:
    days = [date(2026, 1, 1), date(2026, 1, 4), date(2026, 1, 7)]
    for day in days:
        record_day(url, tmp_path, day, drop=(PODS,), scanned=date(2025, 12, 31))
    report = judge(url, days[0], days[-1])
    assert verdicts(report)["PCI-DSS-11.3.1"] != "pass"
    assert verdicts(report)["PCI-DSS-6.3.3"] != "pass"
    for check in ("images_scanned_throughout_period", "fixes_deployed_within_sla"):
        found = findings(report, check)
        assert list(found) == ["cluster"]
        assert found["cluster"].status is Status.UNKNOWN
        assert "hold no pods (2026-01-01 to 2026-01-07)" in found["cluster"].message


def test_a_vulnerability_is_not_resolved_by_an_audit_that_held_no_pods(url: str, tmp_path: Path) -> None:
    # nginx runs D1 with the critical open since its scan of 2025-12-18 (30-day window to 2026-01-17). The audit
    # of 2026-01-14 holds no pods: it tells nothing about what ran, so it is not the day the fix was deployed
    # (which would have been 27 days, a pass); by the period's end it may have been open 33 days: unknown
    from ledger_scenario import CRITICAL

    def with_critical(day: date, drop: Sequence[str] = ()) -> None:
        snapshot = tmp_path / f"snapshot-{day.isoformat()}"
        shutil.copytree(DEMO, snapshot)
        for name in drop:
            (snapshot / name).unlink()
        scans = tmp_path / f"scans-{day.isoformat()}"
        scans.mkdir()
        (scans / "nginx.json").write_text(json.dumps(scan_document(date(2025, 12, 18), D1, {CRITICAL})))
        config = AuditConfig(as_of=day, images=ImageEvidenceOptions(scan_reports=(scans,)), cluster_name="demo")
        outcome = run(config, SnapshotSource(snapshot))
        record_audit(
            url, outcome.report, outcome.inventory, outcome.facts, cluster_name="demo",
            policy_digest=policy_digest_of(Policy()), bundle_digest=None,
        )  # fmt: skip

    with_critical(date(2026, 1, 10))
    with_critical(date(2026, 1, 14), drop=(PODS,))
    report = judge(url, date(2026, 1, 10), date(2026, 1, 20))
    nginx = findings(report, "fixes_deployed_within_sla")[NGINX]
    (item,) = [i for i in nginx.evidence["items"] if i["vulnerability"] == CRITICAL]  # type: ignore[union-attr]
    assert (item["clock_start"], item["resolved"], item["status"]) == ("2025-12-18", None, "unknown")
    assert (item["days_at_least"], item["days"]) == (27, 33)
    assert nginx.status is Status.UNKNOWN
    open_fixable = next(s for s in report.series if s.id == "open-fixable")
    assert open_fixable.values["critical"][:4] == (1, 1, 1, 1) and set(open_fixable.values["critical"][4:]) == {None}


# ------------------------------------------------------------------------------------------
# A node's first boot seen partway through the ledger


def test_nodes_first_seen_after_audits_without_nodes_have_an_unknown_uptime(url: str, tmp_path: Path) -> None:
    record_day(url, tmp_path, date(2026, 1, 1), drop=(NODES, LEGACY_NODE))
    record_day(url, tmp_path, date(2026, 1, 4), drop=(NODES, LEGACY_NODE))
    record_day(url, tmp_path, date(2026, 1, 7))
    nodes = findings(judge(url, date(2026, 1, 1), date(2026, 1, 7)), "nodes_rebooted_onto_current_kernel")
    minikube = nodes["node/minikube"]  # created 2022-04-26: its boot may be years old, not 0 days
    assert minikube.status is Status.UNKNOWN
    (run_,) = minikube.evidence["runs_without_reboot"]  # type: ignore[misc]
    assert run_["status"] == "unknown" and run_["first_seen"] == "2026-01-07"  # type: ignore[index]
    assert "booted before the first audit that saw it (2026-01-07)" in run_["note"]  # type: ignore[index]
    assert all(f.status is not Status.PASS for f in nodes.values())


def _minikube_created(day: str) -> Callable[[Path], None]:
    def tweak(snapshot: Path) -> None:
        node = snapshot / LEGACY_NODE
        text = node.read_text(encoding="utf-8")
        assert "creationTimestamp: '2022-04-26T05:54:17Z'" in text
        node.write_text(text.replace("2022-04-26T05:54:17Z", f"{day}T09:00:00Z"), encoding="utf-8")

    return tweak


@pytest.mark.parametrize(("limit", "status"), [(45, Status.PASS), (7, Status.FAIL)])
def test_a_node_created_after_the_last_audit_that_held_nodes_is_counted_from_its_creation(
    limit: int, status: Status, url: str, tmp_path: Path
) -> None:
    # the kind nodes, no minikube yet; minikube seen from 2026-01-04 (6 days, within 7), created 2026-01-02 (8)
    record_day(url, tmp_path, date(2026, 1, 1), drop=(LEGACY_NODE,))
    for day in (date(2026, 1, 4), date(2026, 1, 10)):
        record_day(url, tmp_path, day, tweak=_minikube_created("2026-01-02"))
    report = judge(url, date(2026, 1, 1), date(2026, 1, 10), Policy(node_max_days_without_reboot=limit))
    minikube = findings(report, "nodes_rebooted_onto_current_kernel")["node/minikube"]
    (run_,) = minikube.evidence["runs_without_reboot"]  # type: ignore[misc]
    assert (run_["days"], run_["counted_from"]) == (8, "node created 2026-01-02")  # type: ignore[index]
    assert minikube.status is status


def test_a_node_created_before_the_last_audit_that_held_nodes_but_missing_from_it_is_unknown(
    url: str, tmp_path: Path
) -> None:
    # minikube, created 2025-09-20, is missing from the audit of 2026-01-01 (its input left it out): when its
    # boot began is unknown, whatever the first audit that saw it says
    record_day(url, tmp_path, date(2026, 1, 1), drop=(LEGACY_NODE,))
    record_day(url, tmp_path, date(2026, 1, 4), tweak=_minikube_created("2025-09-20"))
    report = judge(url, date(2026, 1, 1), date(2026, 1, 4))
    assert findings(report, "nodes_rebooted_onto_current_kernel")["node/minikube"].status is Status.UNKNOWN
