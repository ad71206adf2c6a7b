"""The period report as NIST OSCAL 1.1.2 assessment-results, the period being the assessment's time span.

One result whose ``start`` and ``end`` are the period's first and last day (00:00:00Z to 23:59:59Z):
every requirement is a reviewed control with a finding (``satisfied`` for a pass or warn verdict
over the period, ``not-satisfied`` otherwise, the verdict in a property); each group of identical
period findings is an observation, and each that is not a pass a risk, as in the audit's OSCAL
document.  Gaps in the evidence are observations of their own.  UUIDs are version 5, derived from
the cluster, the period and the content, so the same report renders the same document.
"""

from __future__ import annotations

import uuid
from typing import Any

from patchlevel.ledger.report import PeriodReport, period_requirement_results
from patchlevel.model import RequirementResult, RequirementVerdict
from patchlevel.render.oscal import (
    assessment_document,
    local_definitions,
    observe_findings,
    oscal_line,
    oscal_markup,
    oscal_prop,
    oscal_time,
    requirement_findings,
)

_NAMESPACE = uuid.UUID("2b0b5f4e-58a1-5b0c-9f1e-7d3c6a2e4b90")
_line = oscal_line
_md = oscal_markup
_prop = oscal_prop
_time = oscal_time


def _remark(result: RequirementResult, counts: str) -> str:
    if result.verdict == RequirementVerdict.NOT_ASSESSED:
        return "Not assessed over a period by patchlevel: no period check gives evidence for this requirement."
    if result.verdict == RequirementVerdict.UNKNOWN:
        return f"Not proven over the period ({counts}); unknown is never a pass."
    return f"Verdict over the period: {result.verdict} ({counts})."


def render_period_oscal(report: PeriodReport) -> bytes:
    scope = f"{report.cluster_key}|{report.start}|{report.end}|{_time(report.generated_at)}"

    def ids(*parts: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, "|".join((scope, *parts))))

    when = _time(report.generated_at)
    start = f"{report.start.isoformat()}T00:00:00Z"
    end = f"{report.end.isoformat()}T23:59:59Z"
    name = report.cluster_name or "unnamed cluster"
    tool_uuid = ids("tool")
    origins = [{"actors": [{"type": "tool", "actor-uuid": tool_uuid}]}]
    infos = {c.id: c for c in report.checks}
    observed = observe_findings(
        report.findings,
        infos,
        [r.id for r in report.requirements],
        ids,
        origins,
        when,
        evidence_for=lambda names: f"Evidence over {report.start} to {report.end} for {_md(names[0])}"
        + (f" (and {len(names) - 1} more subjects with the same finding)" if len(names) > 1 else ""),
        context=f"over {report.start} to {report.end}",
    )
    subjects, observations, risks = observed.subjects, observed.observations, observed.risks

    for gap in report.gaps:
        observations.append(
            {
                "uuid": ids("gap", gap.first.isoformat()),
                "title": f"No audit evidence from {gap.first} to {gap.last}",
                "description": f"No recorded audit speaks for {gap.days} days ({gap.first} to {gap.last}); the last "
                f"audit before was {gap.audit_before or 'none'}, the next {gap.audit_after or 'none'}.",
                "methods": ["EXAMINE"],
                "types": ["finding"],
                "origins": origins,
                "collected": when,
            }
        )

    findings = requirement_findings(period_requirement_results(report), ids, origins, observed.by_requirement, _remark)

    props = [
        _prop("period-start", report.start.isoformat()),
        _prop("period-end", report.end.isoformat()),
        _prop("audits", report.audits),
        _prop("evidence-days", report.evidence_days),
        _prop("tool-version", report.tool_version),
        _prop("cluster", report.cluster_key),
    ]
    local = local_definitions(
        tool_uuid,
        report.tool_version,
        "patchlevel: proves, with evidence over time from its audit ledger, whether a "
        "Kubernetes cluster stayed patched (PCI SSC container guidance 10.1-10.3, PCI DSS v4.0.1).",
        subjects,
    )
    result_doc: dict[str, Any] = {
        "uuid": ids("result"),
        "title": f"patchlevel period assessment of {_md(name)}, {report.start} to {report.end}",
        "description": f"Patch level of Kubernetes cluster {_md(name)} over {report.start} to {report.end}, from "
        f"{report.audits} audits recorded in the ledger ({report.evidence_days} of {report.days} days covered by "
        "evidence).",
        "start": start,
        "end": end,
        "props": props,
        "local-definitions": local,
        "reviewed-controls": {
            "control-selections": [{"include-controls": [{"control-id": r.id} for r in report.requirements]}]
        },
        "findings": findings,
        "remarks": "Every recorded audit's evidence is dated by its collection day; a day is covered by the last audit "
        "on or before it when the next follows within max_evidence_gap_days. Days not covered are named and judged "
        "UNKNOWN by every period check. A requirement's verdict is the worst status of its period findings.",
    }
    result_doc["observations"] = observations
    result_doc["risks"] = risks
    return assessment_document(
        ids,
        title=f"patchlevel period assessment results: {_md(name)}, {report.start} to {report.end}",
        when=when,
        version=f"{report.start.isoformat()}..{report.end.isoformat()}",
        props=props,
        mapping="period checks' requirement mapping in patchlevel's ledger/period.yaml",
        result=result_doc,
    )
