"""The period report as JSON (schema: ``patchlevel/schemas/period-report.schema.json``).

Version 1.x promises, as the audit report does: keys are only ever added; statuses are the
lower-case words pass/warn/fail/unknown/waived/error; every requirement appears, assessed or not.
Findings have the audit report's shape.  Series hold one value per day of the period (``null``
where no audit evidence covers the day).
"""

from __future__ import annotations

from typing import Any

import msgspec

from patchlevel.ledger.report import FleetTable, PeriodReport, period_requirement_results
from patchlevel.model import Status, count_by_status
from patchlevel.render.json import data_sources_json, finding_json

KIND = "patchlevel-period-report"
FLEET_KIND = "patchlevel-period-fleet"


def _time(report: PeriodReport) -> str:
    return report.generated_at.isoformat().replace("+00:00", "Z")


def period_document(report: PeriodReport) -> dict[str, Any]:
    counts = {s.value: n for s, n in count_by_status(report.findings).items()}
    checks_of = {c.id: c for c in report.checks}
    return {
        "schema_version": report.schema_version,
        "kind": KIND,
        "tool": {"name": "patchlevel", "version": report.tool_version},
        "generated_at": _time(report),
        "cluster": {"name": report.cluster_name, "key": report.cluster_key, "uid": report.cluster_uid or None},
        "period": {"start": report.start.isoformat(), "end": report.end.isoformat(), "days": report.days},
        "ledger": report.ledger,
        "evidence": {
            "audits": report.audits,
            "evidence_days": report.evidence_days,
            "first_audit": report.first_audit.isoformat() if report.first_audit else None,
            "last_audit": report.last_audit.isoformat() if report.last_audit else None,
            "gaps": [g.to_json() for g in report.gaps],
        },
        "policy": dict(report.policy),
        "data_sources": data_sources_json(report.data_sources),
        "warnings": list(report.warnings),
        "summary": {
            "counts": counts,
            "requirements": [
                {
                    "id": r.requirement.id,
                    "framework": r.requirement.framework,
                    "title": r.requirement.title,
                    "verdict": r.verdict,
                    "counts": {s.value: n for s, n in r.counts.items() if n},
                    "checks": list(r.requirement.checks),
                }
                for r in period_requirement_results(report)
            ],
        },
        "checks": [
            {
                "id": c.id,
                "title": c.title,
                "description": c.description,
                "requirements": list(checks_of[c.id].requirements),
            }
            for c in report.checks
        ],
        "sla": [s.to_json() for s in report.sla],
        "series": [
            {
                "id": s.id,
                "title": s.title,
                "unit": s.unit,
                "group": s.group,
                "note": s.note,
                "categories": [{"key": k, "label": label} for k, label in s.categories],
                "days": [d.isoformat() for d in s.days],
                "values": {k: list(v) for k, v in s.values.items()},
            }
            for s in report.series
        ],
        "findings": [finding_json(f) for f in report.findings],
    }


def render_period_json(report: PeriodReport) -> bytes:
    return msgspec.json.format(msgspec.json.encode(period_document(report)), indent=2) + b"\n"


def fleet_document(table: FleetTable) -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "kind": FLEET_KIND,
        "generated_at": table.generated_at.isoformat().replace("+00:00", "Z"),
        "period": {"start": table.start.isoformat(), "end": table.end.isoformat()},
        "ledger": table.ledger,
        "requirements": [{"id": r.id, "title": r.title, "assessed": bool(r.checks)} for r in table.requirements],
        "clusters": [
            {
                "cluster": row.cluster,
                "key": row.cluster_key,
                "audits": row.audits,
                "gaps": row.gaps,
                "verdicts": dict(row.verdicts),
                "findings": dict(row.counts),
                **({"error": row.error} if row.error else {}),
            }
            for row in table.rows
        ],
    }


def render_fleet_json(table: FleetTable) -> bytes:
    return msgspec.json.format(msgspec.json.encode(fleet_document(table)), indent=2) + b"\n"


def worst_verdict(table: FleetTable) -> Status | None:
    """The worst finding status over the fleet (None when no cluster had findings)."""
    order = [Status.ERROR, Status.FAIL, Status.UNKNOWN, Status.WARN, Status.PASS]
    for status in order:
        if any(row.counts.get(status.value) for row in table.rows):
            return status
    return None
