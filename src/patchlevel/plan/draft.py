"""What the plan's parts share while they are built: the context, draft steps keyed by name, deadlines.

A draft step has a key ("cp:1.30", "pool:<pool>:1.29") instead of an id; ``build`` orders the
drafts, numbers them S01, S02 … and freezes them into ``Step`` records.  Deadlines are computed
here, from the lifecycle catalog (the same data the audit judged by) and the policy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from patchlevel.lifecycle.catalog import Catalog, Support
from patchlevel.model import Finding, Phase, Status
from patchlevel.plan.model import (
    ApiMigration,
    Certainty,
    Deadline,
    DeadlineBasis,
    ImageChange,
    Rollout,
    StepKind,
)
from patchlevel.policy import Policy
from patchlevel.versions import release_key

# Statuses of a finding that ask for action (a plan step, or an open item when no step addresses it).
ACTION = frozenset({Status.FAIL, Status.WARN, Status.UNKNOWN, Status.ERROR})


@dataclass(frozen=True, slots=True)
class PlanContext:
    as_of: date
    catalog: Catalog
    policy: Policy
    runtime_compat: Mapping[str, Any]
    findings: tuple[Finding, ...]
    # (check, subject) -> finding, for the checks the planner reads by subject
    by_check_subject: Mapping[tuple[str, str], Finding] = field(default_factory=dict)
    _supports: dict[tuple[str, str], Support] = field(default_factory=dict, compare=False, repr=False)

    def support(self, product: str, cycle: str) -> Support:
        """The catalog's support of a release on the as-of date (looked up once per release)."""
        key = (product, cycle)
        found = self._supports.get(key)
        if found is None:
            found = self._supports[key] = self.catalog.support(product, cycle, self.as_of)
        return found

    @classmethod
    def of(
        cls,
        as_of: date,
        catalog: Catalog,
        policy: Policy,
        runtime_compat: Mapping[str, Any],
        findings: Iterable[Finding],
    ) -> PlanContext:
        found = tuple(findings)
        index = {(f.check, f.subject): f for f in found}
        return cls(as_of, catalog, policy, runtime_compat, found, index)

    def finding(self, check: str, subject: str) -> Finding | None:
        return self.by_check_subject.get((check, subject))

    def needs_action(self, check: str, subject: str) -> Finding | None:
        """The finding of ``check`` on ``subject`` when it asks for action (not pass, not waived)."""
        found = self.by_check_subject.get((check, subject))
        return found if found is not None and found.status in ACTION else None

    def of_check(self, check: str) -> list[Finding]:
        return [f for f in self.findings if f.check == check]


@dataclass(slots=True)
class DraftStep:
    key: str
    kind: StepKind
    title: str
    why: list[str]
    deadline: Deadline
    late_anyway: bool = False  # past a support end whose day the data does not record
    certainty: Certainty = Certainty.REQUIRED
    after: set[str] = field(default_factory=set)  # keys of prerequisites
    subjects: list[str] = field(default_factory=list)
    pool: str = ""
    namespace: str = ""
    from_version: str = ""
    to_version: str = ""
    resolves: tuple[str, ...] = ()
    caveats: list[str] = field(default_factory=list)
    unknowns: list[str] = field(default_factory=list)
    migrations: tuple[ApiMigration, ...] = ()
    rollout: Rollout | None = None
    images: tuple[ImageChange, ...] = ()
    origin: str = ""  # the title of the step whose date this one's latest safe date comes from (itself, or later)
    origin_reason: str = ""


class Drafts:
    """The draft steps of one plan, by key, in the order they were added."""

    def __init__(self) -> None:
        self.steps: dict[str, DraftStep] = {}

    def add(self, step: DraftStep) -> DraftStep:
        if step.key in self.steps:
            raise ValueError(f"two plan steps share the key {step.key!r}")
        self.steps[step.key] = step
        return step

    def get(self, key: str) -> DraftStep | None:
        return self.steps.get(key)

    def values(self) -> list[DraftStep]:
        return list(self.steps.values())

    def dependents(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for step in self.steps.values():
            for before in step.after:
                out[before].append(step.key)
        return out


def grouped(pairs: Iterable[tuple[str, str]], limit: int = 3) -> list[str]:
    """(subject, reason) pairs as one line per reason naming its subjects: "reason (a, b and 3 more)"."""
    by_reason: dict[str, dict[str, None]] = {}
    for subject, reason in pairs:
        by_reason.setdefault(reason, {})[subject] = None
    lines = []
    for reason, seen in by_reason.items():
        names = list(seen)
        shown = ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")
        lines.append(f"{reason} ({shown})" if names != [""] else reason)
    return lines


# ------------------------------------------------------------------------------------------
# Deadlines


def minus_window(day: date, days: int) -> date:
    return day - timedelta(days=days)


def support_deadline(support: Support, what: str, policy: Policy, data_date: date) -> tuple[Deadline, bool]:
    """The latest safe date to leave a release: its support end minus the policy's warning window.

    Standard support ends it, unless the policy accepts extended/LTS support (``extended_support:
    pass``) and the release has a dated one.  Returns the deadline and whether the release is
    known to be out of support on a day the data does not record (then the step is late).
    """
    window = policy.support_warning_days
    extended = support.extended_ends
    if policy.extended_support is Status.PASS and isinstance(extended, date):
        return (
            Deadline(
                minus_window(extended, window),
                DeadlineBasis.END_OF_EXTENDED_SUPPORT,
                f"{what}: extended support ends {extended}; the policy accepts extended support "
                f"and warns {window} days before its end",
                extended,
            ),
            False,
        )
    end = support.support_ends
    if isinstance(end, date):
        return (
            Deadline(
                minus_window(end, window),
                DeadlineBasis.END_OF_SUPPORT,
                f"{what}: standard support ends {end}, minus the policy's {window}-day warning window",
                end,
            ),
            False,
        )
    if end is True:
        return (
            Deadline(
                None,
                DeadlineBasis.END_OF_SUPPORT,
                f"{what}: standard support had ended by {data_date} (the lifecycle data does not record the day)",
            ),
            True,
        )
    if support.phase is Phase.UNKNOWN:
        return Deadline(None, DeadlineBasis.NONE, f"{what}: support end unknown ({support.reason})"), False
    return (
        Deadline(None, DeadlineBasis.NONE, f"{what}: no end of support announced as of the data's date {data_date}"),
        False,
    )


def patch_deadline(catalog: Catalog, product: str, line: str, running: str, what: str, policy: Policy, as_of: date) -> (
    Deadline | None
):  # fmt: skip
    """When running ``running`` of ``line`` stops being safe: the first newer patch's release + the patch window.

    None when no newer patch of the line was released by ``as_of`` (or the line is not in the data).
    """
    key = release_key(running)
    newer = [r for r in catalog.patches(product, line, as_of) if tuple(release_key(r.version)[: len(key)]) > key]
    if not newer:
        return None
    first = min(newer, key=lambda r: release_key(r.version))
    window = policy.patch_window_days
    return Deadline(
        first.date + timedelta(days=window),
        DeadlineBasis.PATCH_WINDOW,
        f"{what}: a newer patch ({first.version}) has been out since {first.date}; "
        f"the policy's patch window is {window} days",
        first.date,
    )


def typed_patch_deadline(finding: Finding | None, what: str) -> Deadline | None:
    """The patch deadline from a finding's typed ``PatchGap``, when the check recorded one."""
    if finding is None or finding.patch is None:
        return None
    gap = finding.patch
    return Deadline(
        gap.available_since + timedelta(days=gap.window_days),
        DeadlineBasis.PATCH_WINDOW,
        f"{what}: {gap.first_newer} has been out since {gap.available_since}; "
        f"the patch window is {gap.window_days} days"
        + (f" (it fixes {', '.join(gap.fixes_known_cves)})" if gap.fixes_known_cves else ""),
        gap.available_since,
    )


def earliest(deadlines: Iterable[Deadline | None]) -> Deadline | None:
    """The deadline with the earliest latest-safe date; dated ones win over undated."""
    dated = [d for d in deadlines if d is not None and d.latest_safe is not None]
    if dated:
        return min(dated, key=lambda d: d.latest_safe or date.max)
    undated = [d for d in deadlines if d is not None]
    return undated[0] if undated else None


NO_DEADLINE = Deadline(None, DeadlineBasis.NONE, "no date in the input forces this step")
