"""Builders for plan tests: run the real audit on an inventory, then plan from its outcome."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import date

from builders import knowledge
from patchlevel.audit import AuditConfig, AuditOutcome, InventorySource, run
from patchlevel.inventory import Inventory
from patchlevel.lifecycle.removals import load_removals
from patchlevel.model import Finding
from patchlevel.plan.build import build_plan
from patchlevel.plan.inputs import PlanInputs, from_inventory
from patchlevel.plan.model import Plan, Step, StepKind
from patchlevel.policy import Policy

EKS_POOL = "eks.amazonaws.com/nodegroup"


def audit(inventory: Inventory, as_of: date, policy: Policy | None = None) -> AuditOutcome:
    return run(AuditConfig(as_of=as_of, policy=policy or Policy()), InventorySource(inventory), knowledge=knowledge())


def plan_for(
    inventory: Inventory,
    as_of: date,
    *,
    target: str | None = None,
    policy: Policy | None = None,
    inputs: PlanInputs | None = None,
    findings: Callable[[tuple[Finding, ...]], Iterable[Finding]] | None = None,
) -> Plan:
    """The plan of the audit of ``inventory``; ``findings`` may rewrite the audit's findings first."""
    policy = policy or Policy()
    outcome = audit(inventory, as_of, policy)
    report = outcome.report
    if findings is not None:
        report = dataclasses.replace(report, findings=tuple(findings(report.findings)))
    return build_plan(
        report,
        outcome.facts,
        knowledge(),
        policy,
        removals=load_removals(),
        inputs=inputs if inputs is not None else from_inventory(outcome.inventory),
        target=target,
    )


def steps_of(plan: Plan, kind: StepKind) -> list[Step]:
    return [s for s in plan.steps if s.kind is kind]


def control_plane_path(plan: Plan) -> list[tuple[str, str]]:
    return [(s.from_version, s.to_version) for s in steps_of(plan, StepKind.CONTROL_PLANE_UPGRADE)]


def position(plan: Plan, step: Step) -> int:
    return [s.id for s in plan.steps].index(step.id)


def before(plan: Plan, first: Step, second: Step) -> bool:
    """``first`` comes earlier in the plan and ``second`` names it (directly or not) as a prerequisite."""
    needed: set[str] = set()
    frontier = [second.id]
    while frontier:
        step = plan.step(frontier.pop())
        assert step is not None
        for p in step.prerequisites:
            if p not in needed:
                needed.add(p)
                frontier.append(p)
    return first.id in needed and position(plan, first) < position(plan, second)
