"""The library calls behind ``patchlevel period`` and ``patchlevel ledger import``.

``period_report(store_url, cluster, start, end, ...)`` loads a cluster's history from the ledger
and runs the period checks over it; ``fleet_table`` does it for every cluster; ``judge_period``
is the pure part (history in, report out) tests call directly.  ``import_bundles`` reads saved
evidence bundles, audits each through the audit runner (``audit_saved_evidence``, the one place
that knows how to call it) and records it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from patchlevel import __version__
from patchlevel.errors import PatchlevelError, UsageError
from patchlevel.facts import ClusterFacts
from patchlevel.frameworks import load_requirements
from patchlevel.inventory import Inventory
from patchlevel.knowledge import Knowledge, kev_source, lifecycle_source, load_default_knowledge
from patchlevel.ledger.errors import LedgerError
from patchlevel.ledger.history import History
from patchlevel.ledger.period import (
    PeriodContext,
    coverage,
    period_check_infos,
    period_mapping,
    run_period_checks,
)
from patchlevel.ledger.report import FleetRow, FleetTable, PeriodReport, period_requirement_results
from patchlevel.model import Report, Requirement, Status, count_by_status
from patchlevel.policy import Policy, SeveritySource
from patchlevel.vuln.kev import kev_stale_warning


def lookback_days(policy: Policy) -> int:
    """How far before the period the history is read: enough to see what ran, and since when, on its first day."""
    return max(policy.node_max_days_without_reboot, policy.scan_max_age_days, policy.node_kernel_max_lag_days) + (
        policy.max_evidence_gap_days
    )


def _requirements() -> tuple[Requirement, ...]:
    from patchlevel.checks import ALL_CHECKS

    return load_requirements(c.id for c in ALL_CHECKS)


def judge_period(
    history: History,
    policy: Policy,
    knowledge: Knowledge,
    *,
    generated_at: datetime,
    ledger: str = "",
) -> PeriodReport:
    """The period report of one cluster's history (pure: no database, no clock)."""
    if history.end < history.start:
        raise UsageError(f"the period ends ({history.end}) before it starts ({history.start})")
    requirements, mapping = period_mapping(_requirements())
    cov = coverage(history, policy.max_evidence_gap_days, generated_at.date())
    result = run_period_checks(PeriodContext(history, policy, knowledge.catalog, cov, knowledge.kev), mapping)
    in_period = history.in_period()
    catalog = knowledge.catalog
    lifecycle = lifecycle_source(catalog, policy.lifecycle_stale_days, history.end)
    warnings: list[str] = []
    if lifecycle.stale:
        warnings.append(
            f"lifecycle data was retrieved on {catalog.data_date}, {lifecycle.age_days} days before the period's end: "
            "releases and end-of-life announcements since then are unknown; run 'patchlevel lifecycle update'"
        )
    sources = [lifecycle]
    kev = knowledge.kev
    if kev is None:
        warnings.append(
            "no CISA KEV catalog was found: known-exploited vulnerabilities are judged by their scanners' severities"
        )
    else:
        sources.append(kev_source(kev, policy.lifecycle_stale_days, history.end))
        stale_kev = kev_stale_warning(kev, history.end, policy.lifecycle_stale_days)
        if stale_kev:
            warnings.append(stale_kev.replace("the as-of date", "the period's end"))
    if policy.severity_source is not SeveritySource.REPORT or policy.epss_threshold is not None:
        warnings.append(
            "the ledger keeps each vulnerability's severity as its scanner reported it: the period judges by that "
            "severity (and CISA KEV), not by the policy's severity_source or epss_threshold"
        )
    if history.end > generated_at.date():
        warnings.append(
            f"the period ends on {history.end}, after today ({generated_at.date()}): those days have no evidence yet"
        )
    tools = sorted({a.tool_version for a in in_period})
    if len(tools) > 1:
        warnings.append(f"the audits of this period were recorded by patchlevel {', '.join(tools)}")
    return PeriodReport(
        tool_version=__version__,
        generated_at=generated_at,
        cluster_name=history.cluster.name,
        cluster_key=history.cluster.key,
        cluster_uid=history.cluster.uid,
        start=history.start,
        end=history.end,
        findings=result.findings,
        checks=period_check_infos(mapping),
        requirements=requirements,
        audits=len(in_period),
        evidence_days=cov.covered,
        first_audit=in_period[0].day if in_period else None,
        last_audit=in_period[-1].day if in_period else None,
        gaps=cov.gaps,
        series=result.series,
        sla=result.sla,
        data_sources=tuple(sources),
        policy=policy.to_dict(),
        warnings=tuple(warnings),
        ledger=ledger,
    )


def period_report(
    store_url: str,
    cluster: str | None,
    start: date,
    end: date,
    *,
    policy: Policy,
    knowledge: Knowledge | None = None,
    generated_at: datetime | None = None,
) -> PeriodReport:
    """Load ``cluster``'s history from the ledger and judge the period ``start``..``end`` (both included)."""
    from patchlevel.ledger.query import load_history
    from patchlevel.ledger.store import open_existing

    if end < start:
        raise UsageError(f"--to {end} is before --from {start}")
    knowledge = knowledge or load_default_knowledge(None)
    with open_existing(store_url) as store:  # read-only: never created nor migrated
        history = load_history(store, cluster, start, end, lookback_days(policy))
        shown = store.shown
    return judge_period(history, policy, knowledge, generated_at=generated_at or datetime.now(UTC), ledger=shown)


def fleet_table(
    store_url: str,
    start: date,
    end: date,
    *,
    policy: Policy,
    knowledge: Knowledge | None = None,
    generated_at: datetime | None = None,
    each: Callable[[PeriodReport], None] | None = None,
) -> FleetTable:
    """Every cluster in the ledger over one period: a row each, a verdict per requirement.

    ``each`` receives every cluster's full report as it is made (the CLI writes them).
    """
    from patchlevel.ledger.query import list_clusters, load_history
    from patchlevel.ledger.store import open_existing

    if end < start:
        raise UsageError(f"--to {end} is before --from {start}")
    knowledge = knowledge or load_default_knowledge(None)
    moment = generated_at or datetime.now(UTC)
    rows: list[FleetRow] = []
    requirements, _ = period_mapping(_requirements())
    with open_existing(store_url) as store:  # read-only: never created nor migrated
        with store.reading() as conn:
            clusters = list_clusters(conn)
        for ref in clusters:
            try:
                history = load_history(store, ref.key, start, end, lookback_days(policy))
                report = judge_period(history, policy, knowledge, generated_at=moment, ledger=store.shown)
            except PatchlevelError as exc:
                rows.append(FleetRow(ref.name, ref.key, {}, 0, 0, {}, error=str(exc)))
                continue
            if each is not None:
                each(report)
            verdicts = {r.requirement.id: r.verdict for r in period_requirement_results(report)}
            counts = {s.value: n for s, n in count_by_status(report.findings).items() if n}
            rows.append(FleetRow(ref.name, ref.key, verdicts, report.audits, len(report.gaps), counts))
        shown = store.shown
    return FleetTable(start, end, moment, requirements, tuple(rows), ledger=shown)


def period_fleet(
    store_url: str,
    start: date,
    end: date,
    *,
    policy: Policy,
    formats: Sequence[str],
    output: Path,
    fail_on: Status | None,
    knowledge: Knowledge | None = None,
    notify: Callable[[str], None] | None = None,
) -> int:
    """``period --all-clusters``: each cluster's report and the fleet table (``fleet.<ext>``) in ``output``.

    Returns the worst exit code: 3 when a cluster could not be judged, else its findings' (``fail_on``).
    """
    from patchlevel.collect.fleet import report_stem
    from patchlevel.output import write_atomically
    from patchlevel.render.period_formats import FLEET_RENDERERS, PERIOD_EXTENSIONS, PERIOD_RENDERERS, PeriodFormat

    chosen = [PeriodFormat(f) for f in formats]
    taken: set[str] = set()
    codes: list[int] = []

    def write_one(report: PeriodReport) -> None:
        stem = report_stem(report.cluster_name, taken)
        for f in chosen:
            write_atomically(output / f"{stem}.{PERIOD_EXTENSIONS[f]}", PERIOD_RENDERERS[f](report))
        codes.append(exit_code_of(report, fail_on))

    table = fleet_table(store_url, start, end, policy=policy, knowledge=knowledge, each=write_one)
    for f in chosen:
        target = output / f"fleet.{PERIOD_EXTENSIONS[f]}"
        write_atomically(target, FLEET_RENDERERS[f](table))
        if notify is not None:
            notify(f"wrote the fleet table to {target}")
    if any(row.error for row in table.rows):
        return 3
    return max(codes, default=0)


def exit_code_of(report: PeriodReport, fail_on: Status | None) -> int:
    from patchlevel.model import exit_code

    return exit_code(report.findings, fail_on)


# ------------------------------------------------------------------------------------------
# Importing saved evidence


def audit_saved_evidence(
    path: Path,
    *,
    as_of: date | None,
    policy: Policy,
    data_dir: Path | None,
    cluster_name: str | None,
    knowledge: Knowledge | None = None,
) -> tuple[Report, Inventory, ClusterFacts]:
    """Audit a saved bundle or snapshot with the audit runner: (report, inventory, facts).

    The one adapter between the ledger and ``patchlevel.audit``: as of ``as_of``, else the day the
    evidence was collected (a bundle's manifest says), else today.
    """
    from patchlevel.audit import AuditConfig, InventorySource, SnapshotSource, collect, run

    inventory = collect(SnapshotSource(path))
    day = as_of or (inventory.collected_at.date() if inventory.collected_at else datetime.now(UTC).date())
    outcome = run(
        AuditConfig(as_of=day, policy=policy, data_dir=data_dir, cluster_name=cluster_name),
        InventorySource(inventory),
        knowledge=knowledge,
    )
    return outcome.report, outcome.inventory, outcome.facts


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    path: str
    message: str
    created: bool
    error: str = ""


def import_bundles(
    store_url: str,
    paths: Sequence[Path],
    *,
    as_of: date | None,
    policy: Policy,
    data_dir: Path | None,
    cluster_name: str | None,
    notify: Callable[[ImportOutcome], None] | None = None,
) -> list[ImportOutcome]:
    """Audit and record each saved bundle (or snapshot); one that cannot be read or audited is reported
    and the others go on.  A ledger that cannot be opened stops the import (LedgerError)."""
    from patchlevel.ledger.evidence import audit_evidence, policy_digest_of
    from patchlevel.ledger.record import record_evidence
    from patchlevel.ledger.store import open_store

    knowledge = load_default_knowledge(data_dir)
    digest = policy_digest_of(policy)
    outcomes: list[ImportOutcome] = []
    with open_store(store_url) as store:
        for path in paths:
            try:
                report, inventory, facts = audit_saved_evidence(
                    path, as_of=as_of, policy=policy, data_dir=data_dir, cluster_name=cluster_name, knowledge=knowledge
                )
                evidence = audit_evidence(
                    report,
                    inventory,
                    facts,
                    cluster_name=cluster_name,
                    policy_digest=digest,
                    bundle_digest=inventory.evidence_digest or None,
                    recorded_at=datetime.now(UTC),
                )
                recorded = record_evidence(store, evidence)
                outcome = ImportOutcome(str(path), recorded.message, recorded.created)
            except LedgerError:
                raise
            except PatchlevelError as exc:
                outcome = ImportOutcome(str(path), f"not imported: {exc}", False, error=str(exc))
            outcomes.append(outcome)
            if notify is not None:
                notify(outcome)
    return outcomes
