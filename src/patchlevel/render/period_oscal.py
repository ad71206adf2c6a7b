"""The period report as NIST OSCAL 1.1.2 assessment-results, the period being the assessment's time span.

One result whose ``start`` and ``end`` are the period's first and last day (00:00:00Z to 23:59:59Z):
every requirement is a reviewed control with a finding (``satisfied`` for a pass or warn verdict
over the period, ``not-satisfied`` otherwise, the verdict in a property); each group of identical
period findings is an observation, and each that is not a pass a risk, as in the audit's OSCAL
document.  Gaps in the evidence are observations of their own.  UUIDs are version 5, derived from
the cluster, the period and the content, so the same report renders the same document.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from patchlevel.ledger.report import PeriodReport, period_requirement_results
from patchlevel.model import Status, group_findings

OSCAL_VERSION = "1.1.2"
NS = "urn:patchlevel:oscal"
_NAMESPACE = uuid.UUID("2b0b5f4e-58a1-5b0c-9f1e-7d3c6a2e4b90")
SATISFIED = {"pass": ("satisfied", "pass"), "warn": ("satisfied", "pass")}
RISK_STATUSES = (Status.FAIL, Status.ERROR, Status.UNKNOWN, Status.WARN)


def _line(text: object) -> str:
    return " ".join(str(text).split()) or "-"


def _time(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _prop(name: str, value: object) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": _line(value)}


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
    subjects: dict[str, str] = {}
    observations: list[dict[str, Any]] = []
    risks: list[dict[str, Any]] = []
    by_requirement: dict[str, tuple[list[str], list[str]]] = {r.id: ([], []) for r in report.requirements}

    for finding, names in group_findings(report.findings):
        for subject in names:
            subjects.setdefault(subject, ids("subject", subject))
        info = infos.get(finding.check)
        observation_uuid = ids("observation", finding.check, finding.status.value, finding.message)
        observations.append(
            {
                "uuid": observation_uuid,
                "title": f"{info.title if info else finding.check}: {finding.status.value.upper()}",
                "description": _line(finding.message),
                "props": [
                    _prop("check", finding.check),
                    _prop("status", finding.status.value),
                    _prop("severity", finding.severity.value),
                    _prop("subjects", len(names)),
                ],
                "methods": ["TEST"],
                "types": ["finding" if finding.status is not Status.PASS else "control-objective"],
                "origins": origins,
                "subjects": [{"subject-uuid": subjects[s], "type": "inventory-item", "title": _line(s)} for s in names],
                "relevant-evidence": [
                    {
                        "description": f"Evidence over {report.start} to {report.end} for {_line(names[0])}"
                        + (f" (and {len(names) - 1} more subjects with the same finding)" if len(names) > 1 else ""),
                        "remarks": json.dumps(dict(finding.evidence), sort_keys=True, default=str, ensure_ascii=False),
                    }
                ],
                "collected": when,
            }
        )
        risk_uuid = ""
        if finding.status in RISK_STATUSES:
            risk_uuid = ids("risk", finding.check, finding.status.value, finding.message)
            who = names[0] if len(names) == 1 else f"{len(names)} subjects"
            risk: dict[str, Any] = {
                "uuid": risk_uuid,
                "title": f"{info.title if info else finding.check}: {finding.status.value.upper()} on {_line(who)}",
                "description": _line(finding.message),
                "statement": _line(
                    f"{finding.status.value.upper()} over {report.start} to {report.end} for requirement(s) "
                    f"{', '.join(finding.requirements) or 'none'}: {finding.message}"
                ),
                "props": [_prop("check", finding.check), _prop("status", finding.status.value)],
                "status": "open",
                "origins": origins,
                "characterizations": [
                    {
                        "origin": origins[0],
                        "facets": [{"name": "severity", "system": NS, "value": finding.severity.value}],
                    }
                ],
                "related-observations": [{"observation-uuid": observation_uuid}],
            }
            if finding.remediation:
                risk["remediations"] = [
                    {
                        "uuid": ids("remediation", risk_uuid),
                        "lifecycle": "recommendation",
                        "title": "Remediation",
                        "description": _line(finding.remediation),
                        "origins": origins,
                    }
                ]
            risks.append(risk)
        for requirement_id in finding.requirements:
            if requirement_id in by_requirement:
                by_requirement[requirement_id][0].append(observation_uuid)
                if risk_uuid:
                    by_requirement[requirement_id][1].append(risk_uuid)

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

    findings = []
    for result in period_requirement_results(report):
        requirement = result.requirement
        state, reason = SATISFIED.get(
            result.verdict, ("not-satisfied", "fail" if result.verdict in ("fail", "error") else "other")
        )
        counts = ", ".join(f"{s.value} {n}" for s, n in result.counts.items() if n) or "no findings"
        if result.verdict == "not-assessed":
            remark = "Not assessed over a period by patchlevel: no period check gives evidence for this requirement."
        elif result.verdict == "unknown":
            remark = f"Not proven over the period ({counts}); unknown is never a pass."
        else:
            remark = f"Verdict over the period: {result.verdict} ({counts})."
        observed, risked = by_requirement[requirement.id]
        item: dict[str, Any] = {
            "uuid": ids("finding", requirement.id),
            "title": f"{requirement.id}: {requirement.title}",
            "description": _line(requirement.text or requirement.title),
            "props": [_prop("verdict", result.verdict), _prop("framework", requirement.framework)],
            "origins": origins,
            "target": {
                "type": "objective-id",
                "target-id": requirement.id,
                "title": _line(requirement.title),
                "status": {"state": state, "reason": reason, "remarks": remark},
            },
        }
        if observed:
            item["related-observations"] = [{"observation-uuid": u} for u in dict.fromkeys(observed)]
        if risked:
            item["related-risks"] = [{"risk-uuid": u} for u in dict.fromkeys(risked)]
        findings.append(item)

    props = [
        _prop("period-start", report.start.isoformat()),
        _prop("period-end", report.end.isoformat()),
        _prop("audits", report.audits),
        _prop("evidence-days", report.evidence_days),
        _prop("tool-version", report.tool_version),
        _prop("cluster", report.cluster_key),
    ]
    local: dict[str, Any] = {
        "components": [
            {
                "uuid": tool_uuid,
                "type": "software",
                "title": f"patchlevel {report.tool_version}",
                "description": "patchlevel: proves, with evidence over time from its audit ledger, whether a "
                "Kubernetes cluster stayed patched (PCI SSC container guidance 10.1-10.3, PCI DSS v4.0.1).",
                "props": [_prop("version", report.tool_version)],
                "status": {"state": "operational"},
            }
        ]
    }
    if subjects:
        local["inventory-items"] = [
            {"uuid": u, "description": _line(subject), "props": [_prop("subject", subject)]}
            for subject, u in subjects.items()
        ]
    result_doc: dict[str, Any] = {
        "uuid": ids("result"),
        "title": f"patchlevel period assessment of {_line(name)}, {report.start} to {report.end}",
        "description": _line(
            f"Patch level of Kubernetes cluster {name} over {report.start} to {report.end}, from {report.audits} "
            f"audits recorded in the ledger ({report.evidence_days} of {report.days} days covered by evidence)."
        ),
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
    if observations:
        result_doc["observations"] = observations
    if risks:
        result_doc["risks"] = risks
    document = {
        "assessment-results": {
            "uuid": ids("assessment-results"),
            "metadata": {
                "title": f"patchlevel period assessment results: {_line(name)}, {report.start} to {report.end}",
                "last-modified": when,
                "version": f"{report.start.isoformat()}..{report.end.isoformat()}",
                "oscal-version": OSCAL_VERSION,
                "props": props,
            },
            "import-ap": {
                "href": "urn:patchlevel:assessment-plan:none",
                "remarks": "patchlevel runs without an OSCAL assessment plan: the method is in the result's remarks "
                "and the period checks' requirement mapping in patchlevel's ledger/period.yaml.",
            },
            "results": [result_doc],
        }
    }
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
