"""The JSON report: a stable, versioned document (schema: ``patchlevel/schemas/report.schema.json``).

Version 1.x promises: keys are only ever added; ``status`` values are lower-case words from
pass/fail/warn/unknown/waived/error; every requirement appears, assessed or not.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import msgspec

from patchlevel.model import DataSource, Finding, Report, Status, requirement_results
from patchlevel.render.vex import vex_counts, vex_rows


def finding_json(f: Finding) -> dict[str, Any]:
    """One finding as the audit and period JSON documents write it."""
    out: dict[str, Any] = {
        "check": f.check,
        "status": f.status,  # StrEnum: msgspec writes its value (and .value is slow per call)
        "severity": f.severity,
        "subject": f.subject,
        "requirements": list(f.requirements),
        "message": f.message,
        "evidence": dict(f.evidence),
        "remediation": f.remediation,
    }
    if f.waiver is not None:
        out["waiver"] = {
            "id": f.waiver.id,
            "reason": f.waiver.reason,
            "owner": f.waiver.owner,
            "expires": f.waiver.expires.isoformat(),
            "approved_by": f.waiver.approved_by,
        }
    if f.note:
        out["note"] = f.note
    return out


def data_sources_json(sources: Sequence[DataSource]) -> list[dict[str, Any]]:
    """The reference data a report rests on, as the audit and period JSON documents write it."""
    return [
        {
            "name": s.name,
            "source": s.source,
            "retrieved": s.retrieved.isoformat(),
            "age_days": s.age_days,
            "stale": s.stale,
            "detail": s.detail,
        }
        for s in sources
    ]


def report_document(report: Report, with_findings: bool = True) -> dict[str, Any]:
    """The report as plain JSON-ready data (also used by other renderers that embed it)."""
    lifecycle = report.lifecycle
    counts = {s.value: 0 for s in Status}
    for f in report.findings:
        counts[f.status.value] += 1
    vex = vex_rows(report)
    return {
        "schema_version": report.schema_version,
        "tool": {"name": "patchlevel", "version": report.tool_version},
        "generated_at": report.generated_at.isoformat().replace("+00:00", "Z"),
        "as_of": report.as_of.isoformat(),
        "lifecycle_data_date": lifecycle.retrieved.isoformat() if lifecycle else None,
        "cluster": {
            "name": report.cluster.name,
            "version": report.cluster.version or None,
            "distribution": report.cluster.distribution,
            "distribution_evidence": report.cluster.distribution_evidence,
            "server": report.cluster.server or None,
            "nodes": report.cluster.nodes,
            "pods": report.cluster.pods,
            "images": report.cluster.images,
        },
        "evidence_digest": report.evidence_digest or None,
        "data_sources": data_sources_json(report.data_sources),
        "warnings": list(report.warnings),
        "inputs": [
            {
                "path": i.path,
                "read_as": i.read_as,
                "objects": i.objects,
                "reason": i.reason or None,
                "sha256": i.sha256 or None,
            }
            for i in report.inputs
        ],
        "policy": dict(report.policy),
        "summary": {
            "findings": len(report.findings),
            "by_status": counts,
            # Vulnerabilities a VEX statement took out of the SLA judgement: counted apart, like waivers.
            "vex": {
                "vulnerabilities": len({(r.subject, r.vulnerability) for r in vex}),
                "images": len({r.subject for r in vex}),
                "by_status": vex_counts(vex),
            },
            # Running images and nodes with scan evidence from the last scan_max_age_days days (null: not judged).
            "scan_coverage": {
                subjects: next(
                    (
                        {"recent": c.recent, "total": c.total, "percent": c.percent, "max_age_days": c.max_age_days}
                        for c in report.scan_coverage
                        if c.subjects == subjects
                    ),
                    None,
                )
                for subjects in ("images", "nodes")
            },
            "requirements": [
                {
                    "id": r.requirement.id,
                    "framework": r.requirement.framework,
                    "title": r.requirement.title,
                    "verdict": r.verdict,
                    "assessed": bool(r.requirement.checks),
                    "checks": list(r.requirement.checks),
                    "counts": {s.value: n for s, n in r.counts.items()},
                    "note": r.requirement.note or None,
                }
                for r in requirement_results(report)
            ],
        },
        "checks": [
            {
                "id": c.id,
                "title": c.title,
                "description": c.description,
                "requirements": list(c.requirements),
                "interpretation": c.interpretation or None,
            }
            for c in report.checks
        ],
        "waivers": [
            {
                "check": w.waiver.check,
                "subject": w.waiver.subject,
                "vulnerability": w.waiver.vulnerability,
                "reason": w.waiver.reason,
                "owner": w.waiver.owner,
                "expires": w.waiver.expires.isoformat(),
                "id": w.waiver.id,
                "approved_by": w.waiver.approved_by,
                "matched": w.matched,
                "expired": w.expired,
            }
            for w in report.waivers
        ],
        "findings": [finding_json(f) for f in report.findings] if with_findings else [],
    }


_ENCODE = msgspec.json.Encoder().encode
FINDINGS_PER_WRITE = 2000


def iter_json(report: Report) -> Iterator[bytes]:
    """The JSON report in pieces, so a report with 100,000 findings is never one object in memory.

    Everything but the findings is indented; each finding is one compact line (which also suits
    ``grep``).  Joined, the pieces are one JSON document.
    """
    head = report_document(report, with_findings=False)  # "findings": [] is its last key
    text = msgspec.json.format(_ENCODE(head), indent=2)
    yield text[: text.rindex(b"[]")] + b"["
    findings = report.findings
    for start in range(0, len(findings), FINDINGS_PER_WRITE):
        batch = findings[start : start + FINDINGS_PER_WRITE]
        lines = b",\n    ".join(_ENCODE(finding_json(f)) for f in batch)
        yield (b"\n    " if start == 0 else b",\n    ") + lines
    yield b"\n  ]\n}\n"


def render_json(report: Report) -> bytes:
    return b"".join(iter_json(report))
