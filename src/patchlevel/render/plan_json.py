"""The plan as a versioned JSON document (``schemas/plan.schema.json``; keys are only ever added).

Every value comes from the Plan as it is; strings are kept whole (the JSON is data, not a display).
The approval block is empty: it is filled by whoever approves the plan (PCI DSS 12.3.4).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from patchlevel.plan.model import Deadline, Plan, Rollout, Step


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _deadline(deadline: Deadline) -> dict[str, Any]:
    return {
        "latest_safe": _day(deadline.latest_safe),
        "basis": deadline.basis.value,
        "reason": deadline.reason,
        "event": _day(deadline.event),
    }


def _rollout(rollout: Rollout | None) -> dict[str, Any] | None:
    if rollout is None:
        return None
    return {
        "batch_size": rollout.batch_size,
        "batch_basis": rollout.batch_basis,
        "order": [{"name": n.name, "reasons": list(n.reasons)} for n in rollout.order],
        "blockers": list(rollout.blockers),
        "unknowns": list(rollout.unknowns),
        "batches": rollout.batches,
    }


def _step(step: Step) -> dict[str, Any]:
    return {
        "id": step.id,
        "kind": step.kind.value,
        "title": step.title,
        "why": list(step.why),
        "deadline": _deadline(step.deadline),
        "late": step.late,
        "certainty": step.certainty.value,
        "prerequisites": list(step.prerequisites),
        "subjects": list(step.subjects),
        "pool": step.pool,
        "namespace": step.namespace,
        "from_version": step.from_version,
        "to_version": step.to_version,
        "resolves": list(step.resolves),
        "caveats": list(step.caveats),
        "unknowns": list(step.unknowns),
        "migrations": [
            {
                "api_version": m.api_version,
                "kind": m.kind,
                "removed_in": m.removed_in,
                "replacement": m.replacement,
                "status": m.status.value,
                "evidence": list(m.evidence),
                "note": m.note,
            }
            for m in step.migrations
        ],
        "rollout": _rollout(step.rollout),
        "images": [
            {
                "image": i.image,
                "references": list(i.references),
                "reasons": list(i.reasons),
                "fixes": [
                    {
                        "id": f.id,
                        "severity": f.severity,
                        "package": f.package,
                        "installed_version": f.installed_version,
                        "fixed_version": f.fixed_version,
                        "due": _day(f.due),
                        "due_basis": f.due_basis,
                    }
                    for f in i.fixes
                ],
            }
            for i in step.images
        ],
    }


def plan_document(plan: Plan) -> dict[str, Any]:
    target = plan.target
    return {
        "schema_version": plan.schema_version,
        "kind": "patchlevel-plan",
        "id": plan.id,
        "as_of": plan.as_of.isoformat(),
        "generated_at": plan.generated_at.isoformat(),
        "tool_version": plan.tool_version,
        "prepared_by": plan.prepared_by,
        "cluster": {
            "name": plan.cluster,
            "distribution": plan.distribution,
            "distribution_id": plan.distribution_id,
            "running": plan.running,
            "evidence_digest": plan.evidence_digest,
        },
        "target": (
            {"kubernetes": target.kubernetes, "platform_release": target.platform_release, "reason": target.reason}
            if target is not None
            else None
        ),
        "summary": {
            "state": plan.summary.state.value,
            "headline": plan.summary.headline,
            "late": list(plan.summary.late),
            "next_deadline": _day(plan.summary.next_deadline),
            "steps_by_kind": dict(plan.summary.steps_by_kind),
            "unjudged_findings": plan.summary.unjudged_findings,
            "unknowns": plan.summary.unknowns,
        },
        "steps": [_step(s) for s in plan.steps],
        "open_items": [
            {
                "check": o.check,
                "status": o.status,
                "findings": o.findings,
                "message": o.message,
                "remediation": o.remediation,
                "subjects": list(o.subjects),
            }
            for o in plan.open_items
        ],
        "unknowns": list(plan.unknowns),
        "data": list(plan.data),
        "policy": dict(plan.policy),
        "approval": {
            "plan_id": plan.id,
            "as_of": plan.as_of.isoformat(),
            "prepared_by": plan.prepared_by,
            "approved_by": None,
            "approved_on": None,
        },
    }


def render_plan_json(plan: Plan) -> bytes:
    return json.dumps(plan_document(plan), indent=2, ensure_ascii=False).encode("utf-8", "backslashreplace") + b"\n"
