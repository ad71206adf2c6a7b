"""Shaping shared by the human-readable renderers: findings grouped per check, worst first, capped.

Identical findings (same check, status and message) on many subjects form one group; each check
shows at most ``max_groups`` groups and says how many more there are, so a report on 5,000 nodes
and 150,000 pods stays readable and small.  This is arrangement only: every status and count comes
from the Report as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from patchlevel.model import (
    STATUS_RANK,
    CheckInfo,
    Finding,
    Report,
    Requirement,
    Status,
    count_by_status,
    group_findings,
)

ACTION_STATUSES = frozenset({Status.FAIL, Status.ERROR, Status.UNKNOWN, Status.WARN})
# Order in which statuses are listed: worst first; ERROR before FAIL (the check itself broke).
STATUS_ORDER: Mapping[Status, int] = {
    Status.ERROR: 0,
    Status.FAIL: 1,
    Status.UNKNOWN: 2,
    Status.WARN: 3,
    Status.WAIVED: 4,
    Status.PASS: 5,
}


@dataclass(frozen=True, slots=True)
class Group:
    finding: Finding  # the representative: every finding of the group says the same
    subjects: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.subjects)


@dataclass(frozen=True, slots=True)
class CheckGroups:
    check: str
    info: CheckInfo | None
    groups: tuple[Group, ...]  # at most the cap, worst and largest first
    more_groups: int  # groups left out by the cap
    more_findings: int  # findings in the groups left out
    findings: int  # findings of this check in the selection

    @property
    def worst(self) -> Status:
        return self.groups[0].finding.status


def grouped_by_check(report: Report, statuses: Iterable[Status], max_groups: int | None = None) -> list[CheckGroups]:
    """Findings with one of ``statuses``, grouped per check (checks in report order, worst check first)."""
    wanted = frozenset(statuses)
    infos = {c.id: c for c in report.checks}
    per_check: dict[str, list[Finding]] = {}
    for finding in report.findings:
        if finding.status in wanted:
            per_check.setdefault(finding.check, []).append(finding)
    order = {c.id: i for i, c in enumerate(report.checks)}
    out: list[CheckGroups] = []
    for check, findings in per_check.items():
        groups = [Group(f, tuple(subjects)) for f, subjects in group_findings(findings)]
        groups.sort(key=lambda g: (STATUS_ORDER[g.finding.status], -g.size))
        shown = groups if max_groups is None else groups[:max_groups]
        hidden = groups[len(shown) :]
        out.append(
            CheckGroups(
                check=check,
                info=infos.get(check),
                groups=tuple(shown),
                more_groups=len(hidden),
                more_findings=sum(g.size for g in hidden),
                findings=len(findings),
            )
        )
    out.sort(key=lambda c: (STATUS_ORDER[c.worst], order.get(c.check, len(order))))
    return out


def subject_kind(subjects: Sequence[str]) -> str:
    """The plural kind ("nodes", "images") when every subject has the same kind prefix, else "subjects"."""
    kinds = {s.split("/", 1)[0] for s in subjects if "/" in s}
    if len(kinds) == 1 and all("/" in s for s in subjects):
        return kinds.pop() + "s"
    return "subjects"


def subject_names(subjects: Sequence[str], limit: int) -> tuple[list[str], int]:
    """The first ``limit`` subject names (without their kind prefix when all share one) and how many more."""
    strip = subject_kind(subjects) != "subjects"
    names = [s.split("/", 1)[1] if strip else s for s in subjects[:limit]]
    return names, max(0, len(subjects) - limit)


def check_counts(report: Report) -> dict[str, dict[Status, int]]:
    per_check: dict[str, list[Finding]] = {c.id: [] for c in report.checks}
    for finding in report.findings:
        per_check.setdefault(finding.check, []).append(finding)
    return {check: count_by_status(findings) for check, findings in per_check.items()}


def cross_references(report: Report, requirement: Requirement) -> list[Requirement]:
    """Other requirements that share at least one check with ``requirement`` (e.g. PCI DSS for a guidance item)."""
    mine = set(requirement.checks)
    return [
        other
        for other in report.requirements
        if other.id != requirement.id and other.framework != requirement.framework and mine & set(other.checks)
    ]


def status_rank(status: Status) -> int:
    return STATUS_RANK[status]
