"""NIST OSCAL 1.1.2 assessment-results (JSON): observations, risks and one finding per requirement.

- every requirement of the mapping is a reviewed control and has a finding whose target status is
  ``satisfied`` (verdict pass or warn) or ``not-satisfied`` (fail, error, unknown, not assessed;
  the reason and a ``verdict`` property say which);
- each group of identical patchlevel findings (same check, status and message) is one observation
  whose subjects are the nodes, images or cluster it is about (inventory items in the result's
  local definitions), with the evidence recorded for the first subject;
- each group that is not a pass is a risk: ``open``, or ``deviation-approved`` when waived (with
  the waiver's expiry as deadline), with the remediation as a recommendation.

UUIDs are version 5, derived from the cluster, the generation time and the content, so the same
report always renders the same document.

OSCAL's ``title``, ``description``, ``statement`` and ``remarks`` are markup (Markdown): every
string from the input in them is escaped (``markdown_text``) so a viewer shows it as written, never
as HTML, a link or formatting; the recorded evidence is a fenced JSON code block.  Property values
(StringDatatype) are one line with control characters made visible.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from patchlevel.model import (
    CheckInfo,
    Finding,
    Report,
    RequirementResult,
    RequirementVerdict,
    Status,
    group_findings,
    requirement_results,
)
from patchlevel.render.text import markdown_text
from patchlevel.text import visible

OSCAL_VERSION = "1.1.2"
NS = "urn:patchlevel:oscal"
_NAMESPACE = uuid.UUID("6f1b0d52-3c0e-5b7a-9d43-2a1f2c0b7e11")
SATISFIED = {"pass": ("satisfied", "pass"), "warn": ("satisfied", "pass")}
RISK_STATUSES = (Status.FAIL, Status.ERROR, Status.UNKNOWN, Status.WARN, Status.WAIVED)


def oscal_line(text: object) -> str:
    """A value for OSCAL's StringDatatype: one line, no surrounding whitespace, never empty."""
    return " ".join(visible(str(text)).split()) or "-"


def oscal_markup(text: object) -> str:
    """Input text inside an OSCAL markup field: inert Markdown, kept whole."""
    return markdown_text(text, limit=_WHOLE) or "-"


_line = oscal_line
_md = oscal_markup


_WHOLE = 1 << 62  # OSCAL is the record: fields are escaped, never cut


def oscal_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def oscal_prop(name: str, value: object) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": _line(str(value))}


_time = oscal_time
_prop = oscal_prop
Ids = Callable[..., str]  # deterministic UUIDs from content parts, scoped to one document


class _Ids:
    """Deterministic UUIDs scoped to one report."""

    def __init__(self, report: Report) -> None:
        self.scope = f"{report.cluster.name}|{report.cluster.server}|{_time(report.generated_at)}|{report.as_of}"

    def __call__(self, *parts: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, "|".join((self.scope, *parts))))


def evidence_text(evidence: Mapping[str, Any]) -> str:
    """The evidence as a fenced JSON code block: literal in any Markdown viewer.

    ``json.dumps`` writes one line starting with "{" (newlines in values are escaped), so no line of
    it can close the fence; invisible characters are written as JSON escapes.
    """
    text = json.dumps(dict(evidence), sort_keys=True, default=str, ensure_ascii=False)
    return f"````json\n{visible(text)}\n````"


def render_oscal(report: Report) -> bytes:
    ids = _Ids(report)
    when = _time(report.generated_at)
    cluster = report.cluster
    name = cluster.name or "unnamed cluster"
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
        evidence_for=lambda names: f"Evidence patchlevel recorded for {_md(names[0])}"
        + (f" (the other {len(names) - 1} subjects' findings say the same)" if len(names) > 1 else ""),
    )
    subjects, observations, risks = observed.subjects, observed.observations, observed.risks
    findings = requirement_findings(requirement_results(report), ids, origins, observed.by_requirement, _remark)

    lifecycle = report.lifecycle
    props = [_prop("as-of", report.as_of.isoformat()), _prop("tool-version", report.tool_version)]
    if lifecycle is not None:
        props.append(_prop("lifecycle-data-date", lifecycle.retrieved.isoformat()))
    if report.evidence_digest:
        props.append(_prop("evidence-digest", report.evidence_digest))
    if cluster.version:
        props.append(_prop("kubernetes-version", cluster.version))
    props.append(_prop("distribution", cluster.distribution))
    props.append(_prop("policy", report.policy.get("source", "built-in defaults")))

    local = local_definitions(
        tool_uuid,
        report.tool_version,
        "patchlevel: proves, with evidence, whether a Kubernetes cluster is patched "
        "(PCI SSC container guidance 10.1-10.3, PCI DSS v4.0.1).",
        subjects,
    )
    result_doc: dict[str, Any] = {
        "uuid": ids("result"),
        "title": f"patchlevel audit of {_md(name)} as of {report.as_of}",
        "description": f"Patch level of Kubernetes cluster {_md(name)} ({_md(cluster.version or 'version unknown')}, "
        f"{_md(cluster.distribution)}; {cluster.nodes} nodes, {cluster.pods} pods, {cluster.images} images) judged "
        f"as of {report.as_of} against the PCI SSC container guidance and PCI DSS v4.0.1.",
        "start": when,
        "end": when,
        "props": props,
        "local-definitions": local,
        "reviewed-controls": {
            "control-selections": [{"include-controls": [{"control-id": r.id} for r in report.requirements]}]
        },
        "findings": findings,
        "remarks": _method(report),
        "observations": observations,
        "risks": risks,
    }
    return assessment_document(
        ids,
        title=f"patchlevel assessment results: {_md(name)} as of {report.as_of}",
        when=when,
        version=report.as_of.isoformat(),
        props=props,
        mapping="requirement-to-check mapping in patchlevel's frameworks/pci.yaml",
        result=result_doc,
    )


@dataclass(slots=True)
class Observed:
    """Observations and risks from grouped findings, and which of them speak for each requirement."""

    subjects: dict[str, str] = field(default_factory=dict)  # subject -> inventory-item uuid
    observations: list[dict[str, Any]] = field(default_factory=list)
    risks: list[dict[str, Any]] = field(default_factory=list)
    by_requirement: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)


def observe_findings(
    all_findings: Sequence[Finding],
    infos: Mapping[str, CheckInfo],
    requirement_ids: Sequence[str],
    ids: Ids,
    origins: list[dict[str, Any]],
    when: str,
    *,
    evidence_for: Callable[[list[str]], str],
    context: str = "",
) -> Observed:
    """Each group of identical findings as one observation (its subjects, the evidence of the first), and each
    group that is not a pass as a risk.  ``context`` adds to the risk statement ("over 2026-01-01 to ...")."""
    observed = Observed(by_requirement={rid: ([], []) for rid in requirement_ids})
    for finding, names in group_findings(all_findings):
        for subject in names:
            observed.subjects.setdefault(subject, ids("subject", subject))
        info = infos.get(finding.check)
        title = info.title if info else finding.check
        observation_uuid = ids("observation", finding.check, finding.status.value, finding.message)
        observation: dict[str, Any] = {
            "uuid": observation_uuid,
            "title": f"{title}: {finding.status.value.upper()}",
            "description": _md(finding.message),
            "props": [
                _prop("check", finding.check),
                _prop("status", finding.status.value),
                _prop("severity", finding.severity.value),
                _prop("subjects", len(names)),
            ],
            "methods": ["TEST"],
            "types": ["finding" if finding.status is not Status.PASS else "control-objective"],
            "origins": origins,
            "subjects": [
                {"subject-uuid": observed.subjects[s], "type": "inventory-item", "title": _md(s)} for s in names
            ],
            "relevant-evidence": [{"description": evidence_for(names), "remarks": evidence_text(finding.evidence)}],
            "collected": when,
        }
        if finding.note:
            observation["remarks"] = _md(finding.note)
        observed.observations.append(observation)
        risk_uuid = ""
        if finding.status in RISK_STATUSES:
            risk_uuid = ids("risk", finding.check, finding.status.value, finding.message)
            observed.risks.append(_risk(finding, names, risk_uuid, observation_uuid, origins, ids, title, context))
        for requirement_id in finding.requirements:
            if requirement_id in observed.by_requirement:
                observed.by_requirement[requirement_id][0].append(observation_uuid)
                if risk_uuid:
                    observed.by_requirement[requirement_id][1].append(risk_uuid)
    return observed


def local_definitions(
    tool_uuid: str, tool_version: str, description: str, subjects: Mapping[str, str]
) -> dict[str, Any]:
    """The result's local definitions: patchlevel as the tool, and every subject as an inventory item."""
    local: dict[str, Any] = {
        "components": [
            {
                "uuid": tool_uuid,
                "type": "software",
                "title": f"patchlevel {tool_version}",
                "description": description,
                "props": [_prop("version", tool_version)],
                "status": {"state": "operational"},
            }
        ]
    }
    if subjects:
        local["inventory-items"] = [
            {"uuid": u, "description": _md(subject), "props": [_prop("subject", subject)]}
            for subject, u in subjects.items()
        ]
    return local


def assessment_document(
    ids: Ids, *, title: str, when: str, version: str, props: list[dict[str, str]], mapping: str, result: dict[str, Any]
) -> bytes:
    """The assessment-results document around one result (observations and risks only when there are some)."""
    result = {k: v for k, v in result.items() if k not in ("observations", "risks") or v}
    document = {
        "assessment-results": {
            "uuid": ids("assessment-results"),
            "metadata": {
                "title": title,
                "last-modified": when,
                "version": version,
                "oscal-version": OSCAL_VERSION,
                "props": props,
            },
            "import-ap": {
                "href": "urn:patchlevel:assessment-plan:none",
                "remarks": "patchlevel runs without an OSCAL assessment plan: the method is in the result's remarks "
                f"and the {mapping}.",
            },
            "results": [result],
        }
    }
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def _remark(result: RequirementResult, counts: str) -> str:
    if result.verdict == RequirementVerdict.NOT_ASSESSED:
        return "Not assessed by patchlevel: no check gives evidence for this requirement; assess it by other means."
    if result.verdict == RequirementVerdict.UNKNOWN:
        return f"patchlevel could not prove this requirement ({counts}); unknown is never a pass."
    return f"patchlevel verdict {result.verdict} ({counts}); waived findings count as satisfied."


def requirement_findings(
    results: Sequence[RequirementResult],
    ids: Ids,
    origins: list[dict[str, Any]],
    by_requirement: Mapping[str, tuple[list[str], list[str]]],
    remark: Callable[[RequirementResult, str], str],
) -> list[dict[str, Any]]:
    """One OSCAL finding per requirement: its target status (satisfied or not, with why) and what it rests on."""
    findings = []
    for result in results:
        requirement = result.requirement
        state, reason = SATISFIED.get(
            result.verdict, ("not-satisfied", "fail" if result.verdict in ("fail", "error") else "other")
        )
        counts = ", ".join(f"{s.value} {n}" for s, n in result.counts.items() if n) or "no findings"
        observed, risked = by_requirement.get(requirement.id, ([], []))
        item: dict[str, Any] = {
            "uuid": ids("finding", requirement.id),
            "title": f"{requirement.id}: {requirement.title}",
            "description": requirement.text or requirement.title,
            "props": [
                _prop("verdict", result.verdict),
                _prop("framework", requirement.framework),
                *[_prop(f"count-{s.value}", n) for s, n in result.counts.items() if n],
            ],
            "origins": origins,
            "target": {
                "type": "objective-id",
                "target-id": requirement.id,
                "title": requirement.title,
                "status": {"state": state, "reason": reason, "remarks": remark(result, counts)},
            },
        }
        if requirement.note:
            item["remarks"] = requirement.note
        if observed:
            item["related-observations"] = [{"observation-uuid": u} for u in dict.fromkeys(observed)]
        if risked:
            item["related-risks"] = [{"risk-uuid": u} for u in dict.fromkeys(risked)]
        findings.append(item)
    return findings


def _risk(
    finding: Finding,
    names: list[str],
    risk_uuid: str,
    observation_uuid: str,
    origins: list[dict[str, Any]],
    ids: Ids,
    title: str,
    context: str = "",
) -> dict[str, Any]:
    subjects = (
        _md(names[0])
        if len(names) == 1
        else f"{len(names)} subjects ({', '.join(_md(n) for n in names[:3])}{', …' if len(names) > 3 else ''})"
    )
    risk: dict[str, Any] = {
        "uuid": risk_uuid,
        "title": f"{title or finding.check}: {finding.status.value.upper()} on {subjects}",
        "description": _md(finding.message),
        "statement": f"{finding.status.value.upper()} ({finding.severity.value}){f' {context}' if context else ''} "
        f"for requirement(s) {', '.join(finding.requirements) or 'none'}: {_md(finding.message)}",
        "props": [_prop("check", finding.check), _prop("status", finding.status.value)],
        "status": "deviation-approved" if finding.status is Status.WAIVED else "open",
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
                "description": _md(finding.remediation),
                "origins": origins,
            }
        ]
    waiver = finding.waiver
    if finding.status is Status.WAIVED and waiver is not None:
        risk["deadline"] = f"{waiver.expires.isoformat()}T23:59:59Z"
        risk["mitigating-factors"] = [
            {
                "uuid": ids("waiver", risk_uuid),
                "description": f"Waiver {_md(waiver.id or '(no id)')}: {_md(waiver.reason)}. Owner {_md(waiver.owner)}"
                + (f", approved by {_md(waiver.approved_by)}" if waiver.approved_by else "")
                + f"; expires {waiver.expires}.",
            }
        ]
    return risk


def _method(report: Report) -> str:
    return (
        f"patchlevel {report.tool_version} read the cluster's API objects and judged each check as of {report.as_of} "
        "with pinned lifecycle data. Statuses: pass, warn (holds, attention due), fail, unknown (evidence missing or "
        "unreadable; never a pass), waived (accepted by a policy waiver, reported apart) and error (a check could "
        "not run). A requirement's verdict is the worst status of its findings; requirements no check covers are "
        "reported as not assessed."
    )
