"""The period report: what every period renderer draws from (``patchlevel.render.period_*``).

A ``PeriodReport`` is to a period what ``model.Report`` is to one audit: findings in the same
shape (check, status, severity, subject, requirements, message, evidence), the requirement
verdicts they give, and what frames them (the period, the audits behind it, the gaps in the
evidence), plus daily time series for charts and the SLA summary per severity.

This module imports nothing but ``patchlevel.model``: renderers may import it without pulling in
the database, the lifecycle data or the checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from patchlevel.model import (
    CheckInfo,
    DataSource,
    Finding,
    JSONValue,
    Requirement,
    RequirementResult,
    results_by_requirement,
)

PERIOD_SCHEMA_VERSION = "1.0"


@dataclass(frozen=True, slots=True)
class Series:
    """A daily time series: one value per day and category; None where the day has no evidence.

    ``categories`` are (key, legend label) in stacking order; a key is a status or severity word
    renderers colour by.  ``group`` names what the series is about when there are several of one
    kind (the node pool of a kernel rollout).
    """

    id: str
    title: str
    unit: str
    categories: tuple[tuple[str, str], ...]
    days: tuple[date, ...]
    values: Mapping[str, tuple[int | None, ...]]
    group: str = ""
    note: str = ""

    def total(self, index: int) -> int | None:
        parts = [self.values[key][index] for key, _ in self.categories]
        if all(p is None for p in parts):
            return None
        return sum(p or 0 for p in parts)


@dataclass(frozen=True, slots=True)
class EvidenceGap:
    """Days of the period no recorded audit speaks for."""

    first: date
    last: date
    audit_before: date | None  # the evidence day before the gap, None when none
    audit_after: date | None  # the evidence day after it, None when none

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "days": self.days,
            "audit_before": self.audit_before.isoformat() if self.audit_before else None,
            "audit_after": self.audit_after.isoformat() if self.audit_after else None,
        }


@dataclass(frozen=True, slots=True)
class SlaSummary:
    """Days from a fix being known to no running image of the workload having it, per severity."""

    severity: str
    sla_days: int | None
    count: int  # (workload, vulnerability) pairs open during the period
    resolved: int
    open_at_end: int
    overdue: int
    unknown: int
    median: float | None
    p90: float | None
    worst: int | None

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "severity": self.severity,
            "sla_days": self.sla_days,
            "count": self.count,
            "resolved": self.resolved,
            "open_at_end": self.open_at_end,
            "overdue": self.overdue,
            "unknown": self.unknown,
            "median_days": self.median,
            "p90_days": self.p90,
            "worst_days": self.worst,
        }


@dataclass(frozen=True, slots=True)
class PeriodReport:
    tool_version: str
    generated_at: datetime
    cluster_name: str
    cluster_key: str
    cluster_uid: str
    start: date
    end: date
    findings: tuple[Finding, ...]
    checks: tuple[CheckInfo, ...]
    requirements: tuple[Requirement, ...]
    audits: int  # audits whose evidence falls in the period
    evidence_days: int  # days of the period some audit speaks for
    first_audit: date | None
    last_audit: date | None
    gaps: tuple[EvidenceGap, ...] = ()
    series: tuple[Series, ...] = ()
    sla: tuple[SlaSummary, ...] = ()
    data_sources: tuple[DataSource, ...] = ()
    policy: Mapping[str, JSONValue] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    ledger: str = ""  # the ledger URL, password hidden
    schema_version: str = PERIOD_SCHEMA_VERSION

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def period_requirement_results(report: PeriodReport) -> list[RequirementResult]:
    """Every requirement of the mapping with its verdict over the period (a requirement no period check
    covers is "not-assessed")."""
    return results_by_requirement(report.requirements, report.findings)


@dataclass(frozen=True, slots=True)
class FleetRow:
    """One cluster of ``period --all-clusters``: its verdict per requirement, or why it has none."""

    cluster: str
    cluster_key: str
    verdicts: Mapping[str, str]  # requirement id -> verdict
    audits: int
    gaps: int
    counts: Mapping[str, int]  # findings by status
    error: str = ""


@dataclass(frozen=True, slots=True)
class FleetTable:
    start: date
    end: date
    generated_at: datetime
    requirements: tuple[Requirement, ...]
    rows: tuple[FleetRow, ...]
    ledger: str = ""
