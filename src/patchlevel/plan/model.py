"""The plan as data: a frozen ``Plan`` of ordered, dated ``Step`` records that every renderer draws.

A plan answers "what exactly do I do, in which order, by when?" for one audited cluster.  Each
step says what to change (kind, subjects, from and to), why (the findings and facts behind it),
what must be done before it (prerequisites, by step id), by when at the latest (a ``Deadline``
with its reason), and what the planner could not see (``unknowns``: never read as "fine").

Nothing here computes anything or imports another stage: renderers import this module only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

PLAN_SCHEMA_VERSION = "1.0"


class StepKind(StrEnum):
    CONTROL_PLANE_UPGRADE = "control-plane-upgrade"
    NODE_POOL_UPGRADE = "node-pool-upgrade"  # upgrade in place, or replace the pool's nodes
    RUNTIME_UPGRADE = "runtime-upgrade"
    API_MIGRATION = "api-migration"
    IMAGE_REBUILD = "image-rebuild"  # rebuild the image and redeploy the workload
    OS_REPLACEMENT = "os-replacement"


STEP_KIND_LABELS: dict[StepKind, str] = {
    StepKind.CONTROL_PLANE_UPGRADE: "control-plane upgrade",
    StepKind.NODE_POOL_UPGRADE: "node pool upgrade",
    StepKind.RUNTIME_UPGRADE: "container runtime upgrade",
    StepKind.API_MIGRATION: "API migration",
    StepKind.IMAGE_REBUILD: "image rebuild and redeploy",
    StepKind.OS_REPLACEMENT: "node OS replacement",
}


class DeadlineBasis(StrEnum):
    """What a step's latest safe date is derived from."""

    END_OF_SUPPORT = "end-of-support"  # a release's standard support ends (minus the policy's warning window)
    END_OF_EXTENDED_SUPPORT = "end-of-extended-support"  # extended/LTS support ends (policy accepts it)
    PATCH_WINDOW = "patch-window"  # a newer patch has been out longer than the policy's patch window
    SLA = "sla"  # a fixable vulnerability's remediation SLA expires
    KEV = "kev"  # CISA KEV's remediation due date for a known exploited vulnerability
    PREREQUISITE = "prerequisite"  # must be done before a later step that has an earlier date
    NONE = "none"  # no date forces the step (reason says why)


class Certainty(StrEnum):
    """Whether the evidence shows the step is needed, or only that it could not rule the need out."""

    REQUIRED = "required"
    VERIFY = "verify"  # needed unless evidence the input did not hold shows otherwise (see unknowns)


class PlanState(StrEnum):
    COMPLIANT = "compliant"  # nothing to do and nothing unknown: the empty plan
    UNPROVEN = "unproven"  # no step derived, but findings or inputs are unknown: compliance not shown
    ON_TRACK = "on-track"  # steps to do, none past its latest safe date
    LATE = "late"  # at least one step is past its latest safe date


class ApiUseStatus(StrEnum):
    """Whether the cluster still uses an API version a step removes."""

    USED = "used"  # an object, manifest or request in the input uses it
    NOT_FOUND = "not-found"  # the input covers every client and object of it and none uses it
    UNKNOWN = "unknown"  # the input does not show whether it is used


@dataclass(frozen=True, slots=True)
class Deadline:
    """The latest safe date of a step and why; ``latest_safe`` None means no date forces it (or it is unknown)."""

    latest_safe: date | None
    basis: DeadlineBasis
    reason: str  # one sentence naming the date it is derived from
    event: date | None = None  # the underlying date (end of support, SLA expiry, KEV due date)

    def late(self, as_of: date) -> bool:
        """Past the latest safe date on ``as_of`` (the day itself is still safe)."""
        return self.latest_safe is not None and as_of > self.latest_safe


@dataclass(frozen=True, slots=True)
class ApiMigration:
    """One API version removed by a control-plane step, and whether the cluster uses it."""

    api_version: str
    kind: str
    removed_in: str
    replacement: str | None  # None: nothing replaces it (note says what to do)
    status: ApiUseStatus
    evidence: tuple[str, ...] = ()  # objects or request counts that use it (capped), or why unknown
    note: str = ""


@dataclass(frozen=True, slots=True)
class RolloutNode:
    """One node in a pool's rollout order and why it has its place."""

    name: str
    reasons: tuple[str, ...] = ()  # "pending reboot", "older kernel than its pool" (first in the order)


@dataclass(frozen=True, slots=True)
class Rollout:
    """How a pool's nodes are replaced or upgraded: batch size, order, blockers, unknowns."""

    batch_size: int  # nodes at a time
    batch_basis: str  # why that many (the pool's maxUnavailable, a Plan's concurrency, or the default: one)
    order: tuple[RolloutNode, ...]
    blockers: tuple[str, ...] = ()  # workloads whose pods cannot be evicted without an outage
    unknowns: tuple[str, ...] = ()
    batches: int = 1  # rounds of ``batch_size`` nodes the rollout takes, in ``order``


@dataclass(frozen=True, slots=True)
class VulnerabilityFix:
    """A fixable vulnerability an image step removes, with the fixed version the scan names."""

    id: str
    severity: str  # "critical", "high" (or "unknown")
    package: str
    installed_version: str
    fixed_version: str
    due: date | None  # when its SLA (or KEV due date) expires; None: unknown
    due_basis: str  # "sla 30 days from fix release date", "CISA KEV due date", or why unknown


@dataclass(frozen=True, slots=True)
class ImageChange:
    """One image of a workload to rebuild or redeploy, and why."""

    image: str  # the finding subject's image part: registry/repo@digest (or the reference)
    references: tuple[str, ...]  # how the workload's pod specs name it
    reasons: tuple[str, ...]
    fixes: tuple[VulnerabilityFix, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    id: str  # "S01", "S02" … in plan order
    kind: StepKind
    title: str  # what to do, one line
    why: tuple[str, ...]  # the facts and findings behind it
    deadline: Deadline
    late: bool  # past its latest safe date on the plan's as-of date
    certainty: Certainty = Certainty.REQUIRED
    prerequisites: tuple[str, ...] = ()  # step ids that must be done first
    subjects: tuple[str, ...] = ()  # what it changes: "cluster", "node/<name>", "Deployment/<ns>/<name>"
    pool: str = ""  # node steps: the pool ("" when its nodes carry no pool label)
    namespace: str = ""  # image steps: the workload's namespace
    from_version: str = ""
    to_version: str = ""
    resolves: tuple[str, ...] = ()  # check ids whose findings on ``subjects`` the step addresses
    caveats: tuple[str, ...] = ()  # costs, contracts, platform limits the step runs into
    unknowns: tuple[str, ...] = ()  # what the planner could not see for this step
    migrations: tuple[ApiMigration, ...] = ()  # API_MIGRATION steps
    rollout: Rollout | None = None  # node steps
    images: tuple[ImageChange, ...] = ()  # IMAGE_REBUILD steps


@dataclass(frozen=True, slots=True)
class OpenItem:
    """Findings that need action but no step of the plan addresses (e.g. scan evidence missing)."""

    check: str
    status: str  # the worst status among them
    findings: int
    message: str  # a representative message
    remediation: str
    subjects: tuple[str, ...]  # capped


@dataclass(frozen=True, slots=True)
class PlanTarget:
    """Where the plan leads: the Kubernetes minor (and the platform's name for it) and why that one."""

    kubernetes: str  # "1.36"
    platform_release: str  # "1.36", or "4.22" on OpenShift
    reason: str


@dataclass(frozen=True, slots=True)
class Summary:
    state: PlanState
    headline: str  # one sentence: compliant, or how many steps, how many late, until when
    late: tuple[str, ...] = ()  # step ids past their latest safe date
    next_deadline: date | None = None  # the earliest latest-safe date not yet passed
    steps_by_kind: dict[str, int] = field(default_factory=dict)
    unjudged_findings: int = 0  # findings no step addresses that could not be judged (unknown, error)
    unknowns: int = 0  # distinct things the planner could not see: the plan's, its steps' and their rollouts'


@dataclass(frozen=True, slots=True)
class Plan:
    id: str  # stable: derived from the plan's content ("PL-" + 12 hex digits)
    as_of: date
    generated_at: datetime
    tool_version: str
    prepared_by: str
    cluster: str  # the cluster's name ("" when unknown)
    distribution: str  # "Amazon EKS"
    distribution_id: str  # "eks"
    running: str  # the API server's version ("" when unknown)
    target: PlanTarget | None  # None: no path can be planned (the reason is in unknowns)
    summary: Summary
    steps: tuple[Step, ...]
    open_items: tuple[OpenItem, ...]
    unknowns: tuple[str, ...]  # what the planner could not see, for the whole plan
    data: tuple[str, ...]  # the reference data the plan rests on, with dates
    policy: dict[str, int | str]  # the policy thresholds the dates use
    evidence_digest: str = ""
    schema_version: str = PLAN_SCHEMA_VERSION

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)
