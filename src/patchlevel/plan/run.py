"""The one library call behind ``patchlevel plan``: audit a cluster, then plan from that audit.

The plan is derived from the same inventory, knowledge and policy as the audit (``audit.run``), so it
has no source of truth of its own.  The outcome keeps the audit's, whose ``incomplete`` reasons make
the plan's exit code 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from patchlevel.audit import AuditConfig, AuditOutcome, Notify, Source, quiet, run
from patchlevel.knowledge import Knowledge, load_default_knowledge
from patchlevel.lifecycle.removals import load_removals
from patchlevel.model import ExitCode
from patchlevel.plan.build import build_plan
from patchlevel.plan.inputs import from_inventory
from patchlevel.plan.model import Plan, PlanState

if TYPE_CHECKING:
    from patchlevel.collect.live import Progress


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    plan: Plan
    audit: AuditOutcome

    @property
    def exit_code(self) -> ExitCode:
        """3 when the audit behind the plan was incomplete, 1 when a step is already late, else 0."""
        if self.audit.incomplete:
            return ExitCode.INCOMPLETE
        return ExitCode.FINDINGS if self.plan.summary.state is PlanState.LATE else ExitCode.OK


def plan_cluster(
    config: AuditConfig,
    source: Source,
    *,
    target: str | None = None,
    prepared_by: str = "",
    knowledge: Knowledge | None = None,
    notify: Notify = quiet,
    progress: Progress | None = None,
) -> PlanOutcome:
    """Audit ``source`` as ``config`` says, then plan its path to compliant (to ``target``, or the newest supported)."""
    knowledge = knowledge or load_default_knowledge(config.data_dir)
    removals = load_removals()  # before the audit: a broken table fails before a long collection
    outcome = run(config, source, knowledge=knowledge, notify=notify, progress=progress)
    plan = build_plan(
        outcome.report,
        outcome.facts,
        knowledge,
        config.policy,
        removals=removals,
        inputs=from_inventory(outcome.inventory),
        target=target,
        prepared_by=prepared_by,
    )
    return PlanOutcome(plan, outcome)
