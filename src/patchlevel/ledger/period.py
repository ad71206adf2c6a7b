"""Period checks: pure functions over a cluster's ``History`` that judge a period, not a moment.

Each check reads a ``PeriodContext`` (the history, the policy, the lifecycle catalog and the
day-by-day ``Coverage``) and returns findings in the audit's shape, plus daily series for charts.
No SQL, no clock, no I/O: ``patchlevel.ledger.query`` loads the history first.

Evidence over days.  An audit's evidence is dated by the day it was collected (``AuditPoint.day``).
A day of the period is covered by the last audit on or before it when the time from that audit to
the next recorded one (after the period's end too), or when there is none to the earlier of the
period's end and the report's date, is no longer than ``max_evidence_gap_days``; otherwise the
days after it are a gap.  Days before the first audit, and days after the report's date, are a gap
too.  Unknown is never pass: every check that judges days says UNKNOWN, once, naming the dates no
evidence covers, and a period with no audit inside it fails continuity.  An audit whose input held
no nodes (no pods) tells nothing about them: the node checks (the image checks) say UNKNOWN for the
days it speaks for, and a check left with nothing to judge says UNKNOWN for the cluster rather than
leaving its requirements to continuity alone.

Checks (ids as the issue names them; requirements in ``period.yaml``):

* ``audit_evidence_continuous``: no gap longer than the policy allows; gaps listed with dates.
* ``images_scanned_throughout_period``: every image that ran had scan evidence no older than
  ``scan_max_age_days`` on every day it ran; each stretch without it named with its dates.
* ``fixes_deployed_within_sla``: per (workload, vulnerability with a fix), the days from the fix
  being first known (``clocks``) to no running image of the workload having it, against the
  severity's window; still open at the end is counted to the end.  A workload that ran an image
  no scan speaks for is UNKNOWN for those dates, so the check passes only when every running
  image had a scan.
* ``nodes_rebooted_onto_current_kernel``: per node, the kernels it ran and its reboots (bootID
  changes); too long without a reboot, or on an older kernel than its pool peers for too long.
* ``components_supported_throughout_period``: the days each control plane, kubelet, runtime and
  node OS release ran outside support.
* ``control_plane_patched_within_window``: each patch release of the running line and the days
  until the cluster ran it or a later one.
"""

from __future__ import annotations

import bisect
import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from typing import Any

import yaml

from patchlevel.facts import DISTRIBUTIONS
from patchlevel.ledger.clocks import CLOCK_KEV, FixClock, ScanTimeline, first_known_fix, fix_observations
from patchlevel.ledger.history import AuditPoint, History, ImageUse, NodeState, Release, Scan
from patchlevel.ledger.report import EvidenceGap, Series, SlaSummary
from patchlevel.lifecycle.catalog import Catalog
from patchlevel.model import (
    SEVERITY_RANK,
    STATUS_RANK,
    CheckInfo,
    Finding,
    JSONValue,
    Phase,
    Requirement,
    Severity,
    Status,
)
from patchlevel.policy import Policy
from patchlevel.versions import parse_kernel, parse_kube_version, parse_os_image, release_key
from patchlevel.vuln.kev import KevCatalog, KevEntry

CLUSTER = "cluster"
EVIDENCE_CAP = 25  # items listed in a finding's evidence before "and N more"
MAPPING_FILE = "period.yaml"


# ------------------------------------------------------------------------------------------
# Days covered by evidence


@dataclass(frozen=True, slots=True)
class DayEvidence:
    """The audits that speak for one day: those of that day, or of the last evidence day before it."""

    audits: tuple[AuditPoint, ...]
    carried: bool  # True when the day itself has no audit and the one before stands for it

    @property
    def last(self) -> AuditPoint:
        return self.audits[-1]


@dataclass(frozen=True, slots=True)
class Coverage:
    days: tuple[date, ...]  # every day of the period
    evidence: tuple[DayEvidence | None, ...]  # per day; None: no evidence
    gaps: tuple[EvidenceGap, ...]
    longest_interval: int  # the most days between two consecutive evidence days in (or touching) the period

    @property
    def covered(self) -> int:
        return sum(1 for e in self.evidence if e is not None)


def coverage(history: History, max_gap: int, today: date | None = None) -> Coverage:
    """Which audit speaks for each day of the period, and the gaps no audit speaks for.

    The time from an audit to the next is measured to the next recorded audit, wherever it is (after the
    period's end too: ``History.after``); after the last audit there is, to the earlier of the period's end
    and ``today`` (the report's date).  Days after ``today`` have no evidence yet.
    """
    by_day: dict[date, list[AuditPoint]] = defaultdict(list)
    for audit in history.audits:
        by_day[audit.day].append(audit)
    evidence_days = sorted(by_day)
    frozen = {d: tuple(a) for d, a in by_day.items()}
    horizon = history.end if today is None else min(history.end, today)
    after = history.after if history.after is not None and history.after > history.end else None
    days = tuple(history.start + timedelta(days=i) for i in range((history.end - history.start).days + 1))
    per_day: list[DayEvidence | None] = []
    carried: dict[date, DayEvidence] = {}
    for day in days:
        j = bisect.bisect_right(evidence_days, day) - 1
        if j < 0 or (day > horizon and day not in frozen):
            per_day.append(None)
            continue
        previous = evidence_days[j]
        if previous == day:
            per_day.append(DayEvidence(frozen[day], False))
            continue
        following = evidence_days[j + 1] if j + 1 < len(evidence_days) else after
        span = (following - previous).days if following is not None else (horizon - previous).days
        if span <= max_gap:
            per_day.append(carried.setdefault(previous, DayEvidence(frozen[previous], True)))
        else:
            per_day.append(None)
    before = history.before if history.before is not None and history.before < history.start else None
    gaps: list[EvidenceGap] = []
    i = 0
    while i < len(days):
        if per_day[i] is not None:
            i += 1
            continue
        j = i
        while j + 1 < len(days) and per_day[j + 1] is None:
            j += 1
        k = bisect.bisect_right(evidence_days, days[i]) - 1
        gap_before = evidence_days[k] if k >= 0 else before
        after_index = bisect.bisect_right(evidence_days, days[j])
        gap_after = evidence_days[after_index] if after_index < len(evidence_days) else after
        gaps.append(EvidenceGap(days[i], days[j], gap_before, gap_after))
        i = j + 1
    relevant = [d for d in evidence_days if history.start <= d <= history.end]
    earlier = [d for d in evidence_days if d < history.start] or ([before] if before is not None else [])
    points = ([earlier[-1]] if earlier else []) + relevant + ([after] if after is not None else [])
    longest = max(((b - a).days for a, b in itertools.pairwise(points)), default=0)
    if points and after is None:
        longest = max(longest, (horizon - points[-1]).days)
    return Coverage(days, tuple(per_day), tuple(gaps), longest)


# ------------------------------------------------------------------------------------------
# What every check shares


@dataclass(frozen=True, slots=True)
class PeriodContext:
    history: History
    policy: Policy
    catalog: Catalog
    coverage: Coverage
    kev: KevCatalog | None = None  # CISA KEV: a vulnerability in it is critical from the day it was added


@dataclass(frozen=True, slots=True)
class CheckResult:
    findings: tuple[Finding, ...]
    series: tuple[Series, ...] = ()
    sla: tuple[SlaSummary, ...] = ()


@dataclass(frozen=True, slots=True)
class PeriodCheckSpec:
    function: Callable[[PeriodContext], CheckResult]
    title: str
    description: str

    @property
    def id(self) -> str:
        return self.function.__name__


_SEVERITY_OF_STATUS = {
    Status.PASS: Severity.INFO,
    Status.WARN: Severity.MEDIUM,
    Status.UNKNOWN: Severity.MEDIUM,
    Status.FAIL: Severity.HIGH,
    Status.WAIVED: Severity.INFO,
    Status.ERROR: Severity.HIGH,
}


def _finding(
    check: str,
    status: Status,
    subject: str,
    message: str,
    evidence: Mapping[str, JSONValue],
    remediation: str = "",
    severity: Severity | None = None,
) -> Finding:
    return Finding(
        check=check,
        status=status,
        severity=severity or _SEVERITY_OF_STATUS[status],
        subject=subject,
        message=message,
        evidence=dict(evidence),
        remediation=remediation if status is not Status.PASS else "",
    )


def worst(statuses: Iterable[Status]) -> Status:
    found = Status.PASS
    for status in statuses:
        if STATUS_RANK[status] > STATUS_RANK[found]:
            found = status
    return found


def day_ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) ranges."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if ranges and (day - ranges[-1][1]).days == 1:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def range_text(ranges: Sequence[tuple[date, date]], cap: int = 6) -> str:
    shown = [f"{a}" if a == b else f"{a} to {b}" for a, b in ranges[:cap]]
    more = f" and {len(ranges) - cap} more" if len(ranges) > cap else ""
    return ", ".join(shown) + more


def range_json(ranges: Sequence[tuple[date, date]], cap: int = EVIDENCE_CAP) -> list[JSONValue]:
    out: list[JSONValue] = [
        {"first": a.isoformat(), "last": b.isoformat(), "days": (b - a).days + 1} for a, b in ranges[:cap]
    ]
    if len(ranges) > cap:
        out.append(f"… and {len(ranges) - cap} more")
    return out


def _capped(values: Sequence[str], cap: int = EVIDENCE_CAP) -> list[str]:
    return list(values[:cap]) + ([f"… and {len(values) - cap} more"] if len(values) > cap else [])


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else f"{n} {word}s"


def no_evidence(check: str, ctx: PeriodContext, what: str) -> list[Finding]:
    """The UNKNOWN finding every day-judging check gives for the days no audit speaks for."""
    gaps = ctx.coverage.gaps
    if not gaps:
        return []
    days = sum(g.days for g in gaps)
    ranges = [(g.first, g.last) for g in gaps]
    return [
        _finding(
            check,
            Status.UNKNOWN,
            CLUSTER,
            f"no audit evidence for {_plural(days, 'day')} of the period ({range_text(ranges)}): {what} on those "
            "dates is unknown",
            {"days_without_evidence": days, "gaps": [g.to_json() for g in gaps]},
            "Record an audit at least every max_evidence_gap_days days (a scheduled 'patchlevel audit --ledger'); "
            "backfill saved evidence bundles with 'patchlevel ledger import'.",
        )
    ]


def _pods_seen(evidence: DayEvidence) -> bool:
    return any(audit.has_pods for audit in evidence.audits)


def _nodes_seen(evidence: DayEvidence) -> bool:
    return any(audit.has_nodes for audit in evidence.audits)


def _node_audit(evidence: DayEvidence) -> AuditPoint | None:
    """The last audit of a day whose input held nodes (None when none did)."""
    return next((audit for audit in reversed(evidence.audits) if audit.has_nodes), None)


def without(check: str, ctx: PeriodContext, seen: Callable[[DayEvidence], bool], noun: str, what: str) -> list[Finding]:
    """The UNKNOWN finding for the days whose audits hold no ``noun`` (nodes, pods): the input of those audits
    left them out, so they tell nothing about them."""
    days = [ctx.coverage.days[i] for i, e in enumerate(ctx.coverage.evidence) if e is not None and not seen(e)]
    if not days:
        return []
    ranges = day_ranges(days)
    return [
        _finding(
            check,
            Status.UNKNOWN,
            CLUSTER,
            f"the audits of {_plural(len(days), 'day')} of the period hold no {noun} ({range_text(ranges)}): {what} "
            "on those dates is unknown",
            {f"days_without_{noun}": len(days), "dates": range_json(ranges)},
            f"Audit with the cluster's {noun} in the input (a snapshot or bundle that lists them, or a live "
            f"collection allowed to list {noun}).",
        )
    ]


# ------------------------------------------------------------------------------------------
# audit_evidence_continuous


def audit_evidence_continuous(ctx: PeriodContext) -> CheckResult:
    check = "audit_evidence_continuous"
    history, cov = ctx.history, ctx.coverage
    limit = ctx.policy.max_evidence_gap_days
    in_period = history.in_period()
    remediation = (
        "Schedule an audit recorded in the ledger at least every max_evidence_gap_days days (deploy/ledger); "
        "import saved evidence bundles for the missing dates with 'patchlevel ledger import'."
    )
    evidence: dict[str, JSONValue] = {
        "period_start": history.start.isoformat(),
        "period_end": history.end.isoformat(),
        "audits_in_period": len(in_period),
        "evidence_days": len({a.day for a in in_period}),
        "days_covered": cov.covered,
        "period_days": len(cov.days),
        "max_evidence_gap_days": limit,
        "longest_interval_days": cov.longest_interval,
        "first_audit": in_period[0].day.isoformat() if in_period else None,
        "last_audit": in_period[-1].day.isoformat() if in_period else None,
    }
    if not in_period:  # evidence carried in from an audit before the period is no audit of the period
        finding = _finding(
            check,
            Status.FAIL,
            CLUSTER,
            f"no audit of this cluster is recorded between {history.start} and {history.end}",
            evidence | ({"gaps": [g.to_json() for g in cov.gaps]} if cov.gaps else {}),
            remediation,
        )
        return CheckResult((finding,))
    if not cov.gaps:
        finding = _finding(
            check,
            Status.PASS,
            CLUSTER,
            f"audits recorded throughout the period: {_plural(len(in_period), 'audit')} on "
            f"{evidence['evidence_days']} days; at most {cov.longest_interval} days between two (limit {limit})",
            evidence,
        )
        return CheckResult((finding,))
    days = sum(g.days for g in cov.gaps)
    evidence["gaps"] = [g.to_json() for g in cov.gaps]
    evidence["days_without_evidence"] = days
    finding = _finding(
        check,
        Status.FAIL,
        CLUSTER,
        f"the evidence has {_plural(len(cov.gaps), 'gap')} longer than {limit} days, {_plural(days, 'day')} without "
        f"evidence: {range_text([(g.first, g.last) for g in cov.gaps])}",
        evidence,
        remediation,
    )
    return CheckResult((finding,))


# ------------------------------------------------------------------------------------------
# Images by day


def _images_of(evidence: DayEvidence) -> dict[str, ImageUse]:
    images: dict[str, ImageUse] = {}
    for audit in evidence.audits:
        for image in audit.images:
            images.setdefault(image.key, image)
    return images


def _daily_images(cov: Coverage) -> list[dict[str, ImageUse] | None]:
    """The images that ran each day; None for a day without evidence, or whose audits hold no pods."""
    memo: dict[int, dict[str, ImageUse]] = {}
    out: list[dict[str, ImageUse] | None] = []
    for evidence in cov.evidence:
        if evidence is None or not _pods_seen(evidence):
            out.append(None)
            continue
        key = id(evidence.audits)
        found = memo.get(key)
        if found is None:
            found = memo[key] = _images_of(evidence)
        out.append(found)
    return out


def _fresh_days(days: Sequence[date], scans: Sequence[Scan], max_age: int) -> list[bool]:
    """For each day an image ran (ascending): whether a successful dated scan no older than ``max_age`` existed."""
    dated = sorted(s.day for s in scans if not s.error and s.day is not None)
    out = []
    for day in days:
        j = bisect.bisect_right(dated, day) - 1
        out.append(j >= 0 and (day - dated[j]).days <= max_age)
    return out


def images_scanned_throughout_period(ctx: PeriodContext) -> CheckResult:
    check = "images_scanned_throughout_period"
    max_age = ctx.policy.scan_max_age_days
    cov = ctx.coverage
    daily = _daily_images(cov)
    ran: dict[str, list[int]] = defaultdict(list)
    meta: dict[str, ImageUse] = {}
    workloads: dict[str, set[str]] = defaultdict(set)
    for index, images in enumerate(daily):
        for key, image in (images or {}).items():
            ran[key].append(index)
            meta[key] = image
            workloads[key].update(image.workloads)
    remediation = (
        f"Scan every running image at least every {max_age} days (trivy-operator, or 'patchlevel audit --scan') "
        "and record the audits; scans are matched by digest."
    )
    fresh_by_day: list[list[bool]] = [[] for _ in cov.days]
    findings: list[Finding] = []
    for key in sorted(ran, key=lambda k: meta[k].subject):
        image = meta[key]
        indices = ran[key]
        days = [cov.days[i] for i in indices]
        names = sorted(workloads[key])
        evidence: dict[str, JSONValue] = {
            "image": key,
            "repository": image.repository or None,
            "workloads": _capped(names),
            "days_ran": len(days),
            "ran_from": days[0].isoformat(),
            "ran_to": days[-1].isoformat(),
            "scan_max_age_days": max_age,
        }
        if image.identity == "unknown":
            findings.append(
                _finding(
                    check,
                    Status.UNKNOWN,
                    image.subject,
                    f"ran on {_plural(len(days), 'day')} with no known digest: no scan can be matched to it",
                    evidence,
                    "Make the kubelet report the image's registry digest (a pullable image), then scan it.",
                )
            )
            for i in indices:
                fresh_by_day[i].append(False)
            continue
        scans = ctx.history.scans.get(key, ())
        fresh = _fresh_days(days, scans, max_age)
        for i, ok in zip(indices, fresh, strict=True):
            fresh_by_day[i].append(ok)
        dated = sorted({s.day for s in scans if not s.error and s.day is not None})
        evidence["scans"] = len(scans)
        evidence["scan_days"] = _capped([d.isoformat() for d in dated])
        failed = sum(1 for s in scans if s.error)
        if failed:
            evidence["failed_scans"] = failed
        stale = [d for d, ok in zip(days, fresh, strict=True) if not ok]
        if not stale:
            findings.append(
                _finding(
                    check,
                    Status.PASS,
                    image.subject,
                    f"scan evidence no older than {max_age} days on each of the {_plural(len(days), 'day')} it ran",
                    evidence,
                )
            )
            continue
        ranges = day_ranges(stale)
        evidence["days_without_fresh_scan"] = len(stale)
        evidence["without_fresh_scan"] = range_json(ranges)
        undated = [s for s in scans if not s.error and s.day is None]
        if undated and not dated:
            findings.append(
                _finding(
                    check,
                    Status.UNKNOWN,
                    image.subject,
                    f"its {_plural(len(undated), 'scan')} carry no date, so their age on the {len(stale)} days it ran "
                    "is unknown",
                    evidence,
                    remediation,
                )
            )
            continue
        findings.append(
            _finding(
                check,
                Status.FAIL,
                image.subject,
                f"no scan evidence younger than {max_age} days on {len(stale)} of the {len(days)} days it ran "
                f"({range_text(ranges)}); workloads: {', '.join(names[:3]) or 'none named'}"
                + (f" and {len(names) - 3} more" if len(names) > 3 else ""),
                evidence,
                remediation,
            )
        )
    findings.extend(no_evidence(check, ctx, "which images ran, and whether they were scanned,"))
    findings.extend(without(check, ctx, _pods_seen, "pods", "which images ran, and whether they were scanned,"))
    values: dict[str, list[int | None]] = {"pass": [], "fail": []}
    for images_day, flags in zip(daily, fresh_by_day, strict=True):
        if images_day is None:
            values["pass"].append(None)
            values["fail"].append(None)
        else:
            values["pass"].append(sum(flags))
            values["fail"].append(len(flags) - sum(flags))
    series = Series(
        "scan-coverage",
        "Scan coverage over time",
        "images",
        (("pass", f"scanned within {max_age} days"), ("fail", "no scan that recent")),
        cov.days,
        {k: tuple(v) for k, v in values.items()},
        note="Running images per day; days without audit evidence are left blank.",
    )
    return CheckResult(tuple(findings), (series,))


# ------------------------------------------------------------------------------------------
# fixes_deployed_within_sla


@dataclass(frozen=True, slots=True)
class _OpenSet:
    open: frozenset[str]  # fixable vulnerability ids some image of the workload has
    unscanned: frozenset[str]  # keys of the workload's images with no scan at all
    severities: Mapping[str, Severity | None]
    counts: Mapping[str, int] = field(default_factory=dict)  # open ones by severity word

    @property
    def unknown(self) -> bool:
        return bool(self.unscanned)


@dataclass(frozen=True, slots=True)
class UnscannedRun:
    """Consecutive evidence days on which a workload ran images no scan in the ledger speaks for."""

    first: int  # day indices
    last: int
    images: frozenset[str]  # image keys


@dataclass(slots=True)
class _Exposure:
    workload: str
    vulnerability: str
    severity: Severity | None = None
    first: int = -1  # the first day index it was open
    last: int = -1  # the last day index it was open


@dataclass(frozen=True, slots=True)
class SlaItem:
    workload: str
    vulnerability: str
    severity: Severity | None
    clock: FixClock | None
    first_open: date
    last_open: date
    resolved: date | None  # the first day evidence shows no running image of the workload has it
    days_low: int | None
    days_high: int | None
    sla_days: int | None
    status: Status
    open_at_end: bool
    known_exploited: KevEntry | None = None  # in CISA KEV while open: critical, on the KEV window

    def to_json(self) -> dict[str, JSONValue]:
        out: dict[str, JSONValue] = {
            "vulnerability": self.vulnerability,
            "severity": self.severity.value if self.severity else None,
            "first_open": self.first_open.isoformat(),
            "last_open": self.last_open.isoformat(),
            "resolved": self.resolved.isoformat() if self.resolved else None,
            "open_at_end": self.open_at_end,
            "days": self.days_high,
            "sla_days": self.sla_days,
            "status": self.status.value,
        }
        if self.days_low != self.days_high:
            out["days_at_least"] = self.days_low
        if self.clock is not None:
            out.update(self.clock.evidence)
        if self.known_exploited is not None:
            out["known_exploited"] = {
                "date_added": self.known_exploited.date_added.isoformat(),
                "due_date": self.known_exploited.due_date.isoformat() if self.known_exploited.due_date else None,
                "known_ransomware_use": self.known_exploited.known_ransomware,
            }
        return out


def _workloads_of(images: Mapping[str, ImageUse]) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for key, image in images.items():
        for workload in image.workloads:
            out[workload].add(key)
    return {w: frozenset(keys) for w, keys in out.items()}


def sla_items(
    ctx: PeriodContext,
) -> tuple[list[SlaItem], list[dict[str, int] | None], dict[str, list[UnscannedRun]]]:
    """Every (workload, fixable vulnerability) open during the period, judged; open counts per day by severity;
    and per workload, the runs of days it ran an image without any scan (what it held then is unknown).

    A workload's state only changes when its images or their scans do, so states are followed as
    runs of days (a year of daily audits is a handful of runs per workload, not 365 days each).
    """
    history, cov, policy = ctx.history, ctx.coverage, ctx.policy
    clocks = first_known_fix(fix_observations(history))
    daily = _daily_images(cov)
    workload_memo: dict[int, dict[str, frozenset[str]]] = {}
    open_memo: dict[tuple[tuple[int, ...], frozenset[str]], _OpenSet] = {}
    timelines = {key: ScanTimeline(scans) for key, scans in history.scans.items()}
    nothing = ScanTimeline(())
    exposures: dict[tuple[str, str], _Exposure] = {}
    unknown_runs: dict[str, list[UnscannedRun]] = defaultdict(list)  # workload -> runs of days with an unscanned image
    running: dict[str, tuple[int, int, _OpenSet]] = {}  # workload -> its current run (first, last, state)
    days = len(cov.days)
    diff: dict[str, list[int]] = {"critical": [0] * (days + 1), "high": [0] * (days + 1)}

    def close(workload: str) -> None:
        first, last, state = running.pop(workload)
        for vulnerability in state.open:
            exposure = exposures.get((workload, vulnerability))
            if exposure is None:
                exposure = exposures[(workload, vulnerability)] = _Exposure(workload, vulnerability, first=first)
            severity = state.severities.get(vulnerability)
            if severity is not None and (
                exposure.severity is None or SEVERITY_RANK[severity] > SEVERITY_RANK[exposure.severity]
            ):
                exposure.severity = severity
            exposure.last = last
        if state.unknown:
            unknown_runs[workload].append(UnscannedRun(first, last, state.unscanned))
        for word, n in state.counts.items():
            if word in diff:
                diff[word][first] += n
                diff[word][last + 1] -= n

    for index, images in enumerate(daily):
        if images is None:
            for workload in list(running):
                close(workload)
            continue
        day = cov.days[index]
        by_workload = workload_memo.get(id(images))
        if by_workload is None:
            by_workload = workload_memo[id(images)] = _workloads_of(images)
        for workload in [w for w in running if w not in by_workload]:  # not running: nothing of it is open
            close(workload)
        for workload, keys in by_workload.items():
            # What each image of the workload held that day: the vulnerability set of its scan (sets are
            # shared objects, so an unchanged image re-scanned daily keeps one state).
            found = [timelines.get(k, nothing).on(day) for k in keys]
            unscanned = frozenset(k for k, scan in zip(keys, found, strict=True) if scan is None)
            state_key = (tuple(sorted(id(scan.vulnerabilities) for scan in found if scan is not None)), unscanned)
            state = open_memo.get(state_key)
            if state is None:
                state = open_memo[state_key] = _open_set(found, unscanned)
            current = running.get(workload)
            if current is not None and current[2] is state and current[1] == index - 1:
                running[workload] = (current[0], index, state)
                continue
            if current is not None:
                close(workload)
            running[workload] = (index, index, state)
    for workload in list(running):
        close(workload)
    per_day: list[dict[str, int] | None] = []
    totals = dict.fromkeys(diff, 0)
    for index, images in enumerate(daily):
        for word in diff:
            totals[word] += diff[word][index]
        per_day.append(None if images is None else dict(totals))

    def resolution(workload: str, last: int) -> int | None:
        """The first day after ``last`` with evidence that no running image of the workload has it."""
        runs = unknown_runs.get(workload, [])
        index = last + 1
        while index < days:
            if daily[index] is None:  # no evidence of what ran that day
                index += 1
                continue
            inside = next((run.last for run in runs if run.first <= index <= run.last), None)
            if inside is None:
                return index
            index = inside + 1
        return None

    last_index = len(cov.days) - 1
    items = []
    for (workload, vulnerability), exposure in sorted(exposures.items()):
        first, last = exposure.first, exposure.last
        resolved_index = resolution(workload, last)
        open_at_end = resolved_index is None and last == last_index
        resolved = cov.days[resolved_index] if resolved_index is not None else None
        base = exposure.severity
        base_sla = policy.sla_days.get(base) if base is not None else None
        # In CISA KEV by the day it is last known open (or, unresolved, the period's end): critical whatever
        # the scanner said, FAIL past the known-exploited window counted from no earlier than the day it was
        # added.  Its own severity's deadline still holds when that is earlier: a listing never gives more time.
        exploited = ctx.kev.lookup(vulnerability, resolved or history.end) if ctx.kev is not None else None
        if exploited is None and base is not None and base_sla is None:
            continue  # severities the policy does not time
        clock = clocks.get((workload, vulnerability))
        severity, sla = base, base_sla
        if exploited is not None:
            severity, kev_sla = Severity.CRITICAL, policy.known_exploited_sla_days
            if clock is None or base_sla is None:
                sla = kev_sla
            else:
                kev_start = max(clock.start, exploited.date_added)
                if (kev_start - clock.start).days + kev_sla < base_sla:
                    sla = kev_sla
                    if kev_start > clock.start:
                        clock = FixClock(kev_start, CLOCK_KEV, clock.image)
            if clock is not None and base_sla is None and exploited.date_added > clock.start:
                clock = FixClock(exploited.date_added, CLOCK_KEV, clock.image)
        days_low = days_high = None
        if clock is not None:
            low_day = cov.days[last] + timedelta(days=1) if not open_at_end else cov.days[last_index]
            high_day = resolved if resolved is not None else history.end
            days_low = max(0, (low_day - clock.start).days)
            days_high = max(0, (high_day - clock.start).days)
        if severity is None or clock is None:
            status = Status.UNKNOWN
        elif days_low is not None and sla is not None and days_low > sla:
            status = Status.FAIL if exploited is not None else policy.sla_status.get(severity, Status.FAIL)
        elif days_high is not None and sla is not None and days_high <= sla:
            status = Status.PASS
        else:
            status = Status.UNKNOWN
        items.append(
            SlaItem(
                workload,
                vulnerability,
                severity,
                clock,
                cov.days[first],
                cov.days[last],
                resolved,
                days_low,
                days_high,
                sla,
                status,
                open_at_end,
                exploited,
            )
        )
    return items, per_day, dict(unknown_runs)


def _open_set(found: Sequence[Scan | None], unscanned: frozenset[str]) -> _OpenSet:
    open_ids: set[str] = set()
    severities: dict[str, Severity | None] = {}
    for scan in found:
        if scan is None:
            continue
        for v in scan.vulnerabilities:
            if not v.fixable:
                continue
            open_ids.add(v.id)
            known = severities.get(v.id)
            if v.severity is not None and (known is None or SEVERITY_RANK[v.severity] > SEVERITY_RANK[known]):
                severities[v.id] = v.severity
            else:
                severities.setdefault(v.id, known)
    counts = Counter(s.value for s in severities.values() if s is not None)
    return _OpenSet(frozenset(open_ids), unscanned, severities, dict(counts))


def _percentile(values: Sequence[int], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-int(share * 100) * len(ordered) // 100))  # nearest rank
    return float(ordered[min(rank, len(ordered)) - 1])


def sla_summary(items: Sequence[SlaItem], policy: Policy) -> tuple[SlaSummary, ...]:
    out = []
    for severity in (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW):
        mine = [i for i in items if i.severity is severity]
        if not mine and severity not in policy.sla_days:
            continue
        days = [i.days_high for i in mine if i.days_high is not None]
        out.append(
            SlaSummary(
                severity=severity.value,
                sla_days=policy.sla_days.get(severity),
                count=len(mine),
                resolved=sum(1 for i in mine if i.resolved is not None),
                open_at_end=sum(1 for i in mine if i.open_at_end),
                overdue=sum(1 for i in mine if i.status in (Status.FAIL, Status.WARN)),
                unknown=sum(1 for i in mine if i.status is Status.UNKNOWN),
                median=float(statistics.median(days)) if days else None,
                p90=_percentile(days, 0.9),
                worst=max(days) if days else None,
            )
        )
    unknown_severity = [i for i in items if i.severity is None]
    if unknown_severity:
        out.append(SlaSummary("unknown", None, len(unknown_severity), 0, 0, 0, len(unknown_severity), None, None, None))
    return tuple(out)


def _rank_word(item: SlaItem) -> str:
    if item.known_exploited is not None:
        return "known exploited"
    return item.severity.value if item.severity else "?"


def fixes_deployed_within_sla(ctx: PeriodContext) -> CheckResult:
    check = "fixes_deployed_within_sla"
    cov = ctx.coverage
    items, per_day, unscanned = sla_items(ctx)
    by_workload: dict[str, list[SlaItem]] = defaultdict(list)
    for item in items:
        by_workload[item.workload].append(item)
    distinct = {id(images): images for images in _daily_images(cov) if images is not None}.values()
    subjects = {key: image.subject for images in distinct for key, image in images.items()}
    findings: list[Finding] = []
    remediation = (
        "Rebuild the image with the fixed package versions and roll the workload out; the clock does not restart "
        "when an image is rebuilt without the fix."
    )
    scan_remediation = (
        "Scan every running image and record the scans with the audits (--scan-report, --scan, or trivy-operator); "
        "scans are matched by digest."
    )
    for workload in sorted(by_workload.keys() | unscanned.keys()):
        mine = sorted(
            by_workload.get(workload, ()),
            key=lambda i: (-STATUS_RANK[i.status], -(SEVERITY_RANK[i.severity] if i.severity else 5), i.vulnerability),
        )
        runs = unscanned.get(workload, [])
        status = worst([*(i.status for i in mine), *([Status.UNKNOWN] if runs else [])])
        overdue = [i for i in mine if i.status in (Status.FAIL, Status.WARN)]
        unknown = [i for i in mine if i.status is Status.UNKNOWN]
        parts = [f"{_plural(len(mine), 'fixable vulnerability')} open during the period"] if mine else []
        if overdue:
            shown = ", ".join(
                f"{i.vulnerability} ({_rank_word(i)}, {i.days_high} days > {i.sla_days})" for i in overdue[:4]
            )
            parts.append(f"{len(overdue)} past the window: {shown}" + (" …" if len(overdue) > 4 else ""))
        if unknown:
            parts.append(
                f"{len(unknown)} unknown (no severity, or resolved on a day without scan evidence): "
                + ", ".join(i.vulnerability for i in unknown[:4])
                + (" …" if len(unknown) > 4 else "")
            )
        evidence: dict[str, JSONValue] = {
            "workload": workload,
            "vulnerabilities": len(mine),
            "past_window": len(overdue),
            "open_at_end": sum(1 for i in mine if i.open_at_end),
            "items": [i.to_json() for i in mine[:EVIDENCE_CAP]],
        }
        if len(mine) > EVIDENCE_CAP:
            evidence["items_left_out"] = len(mine) - EVIDENCE_CAP
        if runs:
            days = [cov.days[i] for run in runs for i in range(run.first, run.last + 1)]
            ranges = day_ranges(days)
            images = sorted({subjects.get(key, key) for run in runs for key in run.images})
            parts.append(
                f"ran {', '.join(images[:2])}{f' and {len(images) - 2} more' if len(images) > 2 else ''} with no scan "
                f"on {_plural(len(days), 'day')} ({range_text(ranges)}): which fixes it lacked then is unknown"
            )
            evidence["unscanned_images"] = _capped(images)
            evidence["days_without_scan"] = len(days)
            evidence["without_scan"] = range_json(ranges)
        if not overdue and not unknown and not runs:
            parts.append("each fixed within its window")
        findings.append(
            _finding(
                check,
                status,
                f"workload/{workload}",
                "; ".join(parts),
                evidence,
                remediation if not runs else (f"{remediation} {scan_remediation}" if mine else scan_remediation),
                severity=max((i.severity for i in overdue if i.severity), key=lambda s: SEVERITY_RANK[s], default=None),
            )
        )
    summary = sla_summary(items, ctx.policy)
    ran = bool(subjects)
    if not items and not unscanned and ran:  # every image that ran had a scan on every day it ran
        findings.append(
            _finding(
                check,
                Status.PASS,
                CLUSTER,
                "no fixable vulnerability of a timed severity was open in a running workload during the period, "
                "and every running image had a scan",
                {"scanned_images": len(subjects)},
            )
        )
    elif not ran and all(e is None or _pods_seen(e) for e in cov.evidence) and any(cov.evidence):
        findings.append(
            _finding(
                check,
                Status.UNKNOWN,
                CLUSTER,
                "no running image is recorded in the period's audits: whether fixes were deployed is unknown",
                {"scanned_images": 0},
                scan_remediation,
            )
        )
    findings.extend(no_evidence(check, ctx, "which vulnerabilities were open"))
    findings.extend(without(check, ctx, _pods_seen, "pods", "which vulnerabilities were open"))
    values: dict[str, list[int | None]] = {"critical": [], "high": []}
    for counts in per_day:
        for severity in ("critical", "high"):
            values[severity].append(None if counts is None else counts.get(severity, 0))
    series = Series(
        "open-fixable",
        "Open fixable critical and high vulnerabilities over time",
        "workload vulnerabilities",
        (("critical", "critical"), ("high", "high")),
        ctx.coverage.days,
        {k: tuple(v) for k, v in values.items()},
        note="(workload, vulnerability) pairs with a fix available, per day.",
    )
    return CheckResult(tuple(findings), (series,), summary)


# ------------------------------------------------------------------------------------------
# nodes_rebooted_onto_current_kernel


def _os_family(node: NodeState) -> str:
    if node.os_release is not None:
        return node.os_release.product
    parsed = parse_os_image(node.os_image, "linux", node.kernel)
    return parsed.product or (node.os_image.split(" ")[0] if node.os_image else "")


def _pool_of(node: NodeState) -> str:
    family = _os_family(node)
    pool = node.pool or "(no pool label)"
    return f"{pool} · {family}" if family else pool


def _behind(audit: AuditPoint) -> dict[str, tuple[bool | None, str]]:
    """node identity -> (on an older kernel than its pool's newest; None when unparseable, the newest kernel)."""
    pools: dict[str, list[NodeState]] = defaultdict(list)
    for node in audit.nodes:
        pools[_pool_of(node)].append(node)
    out: dict[str, tuple[bool | None, str]] = {}
    for members in pools.values():
        parsed = [(n, parse_kernel(n.kernel)) for n in members]
        known = [(n, k) for n, k in parsed if k is not None]
        if not known:
            for n in members:
                out[n.identity] = (None, "")
            continue
        newest = max((k for _, k in known), key=lambda k: k.numbers)
        for n, k in parsed:
            out[n.identity] = (None, newest.raw) if k is None else (k.numbers < newest.numbers, newest.raw)
    return out


@dataclass(slots=True)
class _NodeHistory:
    name: str
    observations: list[tuple[date, NodeState, bool | None, str]] = field(default_factory=list)


def nodes_rebooted_onto_current_kernel(ctx: PeriodContext) -> CheckResult:
    check = "nodes_rebooted_onto_current_kernel"
    history, policy = ctx.history, ctx.policy
    limit = policy.node_max_days_without_reboot
    lag_limit = policy.node_kernel_max_lag_days
    nodes: dict[str, _NodeHistory] = {}
    seen_in_audit: dict[str, set[date]] = defaultdict(set)
    behind_memo: dict[int, dict[str, tuple[bool | None, str]]] = {}
    for audit in history.audits:
        flags = behind_memo.setdefault(audit.id, _behind(audit))
        for node in audit.nodes:
            entry = nodes.setdefault(node.identity, _NodeHistory(node.name))
            if audit.day in seen_in_audit[node.identity]:
                entry.observations[-1] = (audit.day, node, *flags[node.identity])
                continue
            seen_in_audit[node.identity].add(audit.day)
            entry.observations.append((audit.day, node, *flags[node.identity]))
    names = Counter(h.name for h in nodes.values())
    node_days = sorted({audit.day for audit in history.audits if audit.has_nodes})
    findings: list[Finding] = []
    remediation = (
        f"Drain and reboot (or replace) the node onto its pool's newest kernel at least every {limit} days, "
        f"within {lag_limit} days of the pool moving to a newer kernel (kured, or node image upgrades)."
    )
    for identity in sorted(nodes, key=lambda i: (nodes[i].name, i)):
        entry = nodes[identity]
        obs = entry.observations
        if not any(history.start <= day <= history.end for day, *_ in obs):
            continue
        node = obs[-1][1]
        subject = f"node/{entry.name}" + (f" ({node.provider_id or node.uid})" if names[entry.name] > 1 else "")
        finding = _node_finding(check, subject, obs, ctx, limit, lag_limit, remediation, node_days)
        findings.append(finding)
    findings.extend(no_evidence(check, ctx, "which kernels nodes ran, and when they rebooted,"))
    findings.extend(without(check, ctx, _nodes_seen, "nodes", "which kernels nodes ran, and when they rebooted,"))
    return CheckResult(tuple(findings), tuple(_kernel_series(ctx)))


def _node_finding(
    check: str,
    subject: str,
    obs: list[tuple[date, NodeState, bool | None, str]],
    ctx: PeriodContext,
    limit: int,
    lag_limit: int,
    remediation: str,
    node_days: Sequence[date],
) -> Finding:
    """One node's reboots and kernels.  ``node_days``: the evidence days of the audits that held nodes."""
    history = ctx.history
    first_node = obs[0][1]
    # Boots: runs of observations with one bootID.
    boots: list[tuple[str, int, int]] = []  # (boot id, first observation index, last)
    for i, (_, node, _, _) in enumerate(obs):
        if boots and boots[-1][0] == node.boot_id:
            boots[-1] = (boots[-1][0], boots[-1][1], i)
        else:
            boots.append((node.boot_id, i, i))
    reboots = [obs[b[1]][0] for b in boots[1:]]
    reboots_in_period = [d for d in reboots if history.start <= d <= history.end]
    streaks: list[dict[str, JSONValue]] = []
    statuses: list[Status] = []
    for n, (boot_id, first, last) in enumerate(boots):
        start_day = obs[first][0]
        end_day = obs[boots[n + 1][1]][0] if n + 1 < len(boots) else obs[last][0]
        if end_day < history.start or start_day > history.end:
            continue
        observed = (end_day - start_day).days
        entry: dict[str, JSONValue] = {
            "boot_id": boot_id or None,
            "first_seen": start_day.isoformat(),
            "last_seen": obs[last][0].isoformat(),
            "days": observed,
        }
        if not boot_id:
            entry["note"] = "the node reports no bootID"
            statuses.append(Status.UNKNOWN)
        elif n == 0:
            # The first boot seen: it began before the first audit that saw the node, and may have begun long
            # before, unless the node is new: created after the last earlier audit that held nodes (with none,
            # on or after the period's start).  Either way it began no earlier than the node was created.
            created = first_node.created
            earlier = node_days[bisect.bisect_left(node_days, start_day) - 1] if node_days[0] < start_day else None
            new = created is not None and (created > earlier if earlier is not None else created >= history.start)
            if observed > limit:
                statuses.append(Status.FAIL)
            elif created is not None and (new or (end_day - created).days <= limit):
                counted = (end_day - min(created, start_day)).days
                entry["days"] = counted
                entry["counted_from"] = f"node created {created}"
                statuses.append(Status.FAIL if counted > limit else Status.PASS)
            else:
                entry["note"] = (
                    f"booted before the first audit that saw it ({start_day}); its uptime before then is unknown"
                    + (f" (node created {created})" if created else "")
                )
                statuses.append(Status.UNKNOWN)
        else:
            statuses.append(Status.FAIL if observed > limit else Status.PASS)
        entry["status"] = statuses[-1].value
        streaks.append(entry)
    # Kernels the node ran, and stretches behind its pool's newest kernel.
    kernels: dict[str, list[date]] = {}
    for day, node, _, _ in obs:
        kernels.setdefault(node.kernel, []).append(day)
    behind_runs: list[dict[str, JSONValue]] = []
    kernel_statuses: list[Status] = []
    i = 0
    while i < len(obs):
        if obs[i][2] is not True:
            i += 1
            continue
        j = i
        while j + 1 < len(obs) and obs[j + 1][2] is True:
            j += 1
        start_day = obs[i][0]
        end_day = obs[j + 1][0] if j + 1 < len(obs) else obs[j][0]
        if not (end_day < history.start or start_day > history.end):
            days = (end_day - start_day).days
            status = ctx.policy.kernel_drift if days > lag_limit else Status.PASS
            kernel_statuses.append(status)
            behind_runs.append(
                {
                    "kernel": obs[i][1].kernel,
                    "pool_newest_kernel": obs[i][3],
                    "from": start_day.isoformat(),
                    "until": end_day.isoformat(),
                    "days": days,
                    "caught_up": j + 1 < len(obs),
                    "status": status.value,
                }
            )
        i = j + 1
    unparseable = any(flag is None for _, _, flag, _ in obs)
    status = worst([*statuses, *kernel_statuses])
    if unparseable and status is Status.PASS:
        status = Status.UNKNOWN
    longest = max((int(s["days"]) for s in streaks if isinstance(s["days"], int)), default=0)
    parts = [
        f"ran {_plural(len(kernels), 'kernel')} ({', '.join(list(kernels)[:3])}{' …' if len(kernels) > 3 else ''})",
        f"rebooted {_plural(len(reboots_in_period), 'time')} in the period",
        f"longest run without a reboot {longest} days (limit {limit})",
    ]
    if any(s is Status.FAIL for s in statuses):
        parts.append("over the limit")
    if any(s is Status.UNKNOWN for s in statuses):
        parts.append("the start of its first run is unknown" if any("note" in s for s in streaks) else "")
    late = [r for r in behind_runs if r["status"] != "pass"]
    if late:
        parts.append(
            f"kept an older kernel than its pool for {max(int(str(r['days'])) for r in late)} days "
            f"(limit {lag_limit}) from {late[0]['from']}"
        )
    if unparseable:
        parts.append("a kernel version could not be read")
    evidence: dict[str, JSONValue] = {
        "pool": _pool_of(obs[-1][1]),
        "kernels": [
            {"kernel": k or None, "first_seen": days[0].isoformat(), "last_seen": days[-1].isoformat()}
            for k, days in kernels.items()
        ],
        "reboots_seen": [d.isoformat() for d in reboots_in_period][:EVIDENCE_CAP],
        "runs_without_reboot": streaks[:EVIDENCE_CAP],
        "behind_pool": behind_runs[:EVIDENCE_CAP],
        "node_max_days_without_reboot": limit,
        "node_kernel_max_lag_days": lag_limit,
        "provider_id": obs[-1][1].provider_id or None,
    }
    return _finding(check, status, subject, "; ".join(p for p in parts if p), evidence, remediation)


def _kernel_series(ctx: PeriodContext) -> list[Series]:
    cov = ctx.coverage
    memo: dict[int, dict[str, tuple[int, int, int]]] = {}
    per_day: list[dict[str, tuple[int, int, int]] | None] = []
    pools: set[str] = set()
    for day_evidence in cov.evidence:
        audit = _node_audit(day_evidence) if day_evidence is not None else None
        if audit is None:
            per_day.append(None)
            continue
        counts = memo.get(audit.id)
        if counts is None:
            flags = _behind(audit)
            tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
            for node in audit.nodes:
                behind, _ = flags[node.identity]
                tally[_pool_of(node)][0 if behind is False else 1 if behind else 2] += 1
            counts = memo[audit.id] = {p: (a, b, c) for p, (a, b, c) in tally.items()}
        pools.update(counts)
        per_day.append(counts)
    out: list[Series] = []
    for pool in sorted(pools):
        values: dict[str, list[int | None]] = {"pass": [], "warn": [], "unknown": []}
        for counts in per_day:
            triple = None if counts is None else counts.get(pool, (0, 0, 0))
            for index, key in enumerate(("pass", "warn", "unknown")):
                values[key].append(None if triple is None else triple[index])
        out.append(
            Series(
                f"kernel-rollout-{len(out) + 1}",
                f"Kernel rollout: {pool}",
                "nodes",
                (
                    ("pass", "on the pool's newest kernel"),
                    ("warn", "on an older kernel"),
                    ("unknown", "kernel unreadable"),
                ),
                cov.days,
                {k: tuple(v) for k, v in values.items()},
                group=pool,
            )
        )
    return out


# ------------------------------------------------------------------------------------------
# components_supported_throughout_period

_SUPPORTED, _EXTENDED, _ENDED, _UNKNOWN = "supported", "extended", "ended", "unknown"
_STATE_RANK = {_SUPPORTED: 0, _EXTENDED: 1, _UNKNOWN: 2, _ENDED: 3}


class _Phases:
    """Where a release stood on a day, by the lifecycle catalog (memoised)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.memo: dict[tuple[str, str, date], str] = {}

    def __call__(self, release: Release | None, day: date) -> str:
        if release is None:
            return _UNKNOWN
        key = (release.product, release.cycle, day)
        found = self.memo.get(key)
        if found is None:
            phase = self.catalog.support(release.product, release.cycle, day).phase
            found = self.memo[key] = (
                _SUPPORTED
                if phase in (Phase.ACTIVE, Phase.MAINTENANCE)
                else _EXTENDED
                if phase is Phase.EXTENDED
                else _ENDED
                if phase is Phase.ENDED
                else _UNKNOWN
            )
        return found


def _label(catalog: Catalog, release: Release | None, kind: str) -> str:
    if release is None:
        return f"{kind} (release unknown)"
    product = catalog.product(release.product)
    return f"{product.label if product else release.product} {release.cycle}"


_KINDS = (
    ("control-plane", "control plane"),
    ("kubelet", "kubelet"),
    ("runtime", "container runtime"),
    ("os", "node OS"),
)


def components_supported_throughout_period(ctx: PeriodContext) -> CheckResult:
    check = "components_supported_throughout_period"
    cov, catalog, policy = ctx.coverage, ctx.catalog, ctx.policy
    phases = _Phases(catalog)
    ran: dict[tuple[str, Release | None], list[int]] = defaultdict(list)
    on_nodes: dict[tuple[str, Release | None], set[str]] = defaultdict(set)
    node_states: list[dict[str, int] | None] = []
    memo: dict[tuple[int, int | None], list[tuple[tuple[str, Release | None], list[str]]]] = {}
    for index, day_evidence in enumerate(cov.evidence):
        if day_evidence is None:
            node_states.append(None)
            continue
        audit = day_evidence.last
        node_audit = _node_audit(day_evidence)  # the nodes: from the day's last audit that held any
        nodes = node_audit.nodes if node_audit is not None else ()
        day = cov.days[index]
        memo_key = (audit.id, node_audit.id if node_audit is not None else None)
        components = memo.get(memo_key)
        if components is None:
            grouped: dict[tuple[str, Release | None], list[str]] = defaultdict(list)
            grouped[("control-plane", audit.control_plane)] = []
            for node in nodes:
                grouped[("kubelet", node.kubelet_release)].append(node.name)
                grouped[("runtime", node.runtime_release)].append(node.name)
                grouped[("os", node.os_release)].append(node.name)
            components = memo[memo_key] = list(grouped.items())
        for key, node_names in components:
            ran[key].append(index)
            on_nodes[key].update(node_names)
        if node_audit is None:
            node_states.append(None)
            continue
        tally: Counter[str] = Counter()
        for node in nodes:
            state = max(
                (phases(r, day) for r in (node.kubelet_release, node.runtime_release, node.os_release)),
                key=lambda s: _STATE_RANK[s],
            )
            tally[state] += 1
        node_states.append(dict(tally))
    findings: list[Finding] = []
    kind_order = {k: i for i, (k, _) in enumerate(_KINDS)}
    for key in sorted(ran, key=lambda k: (kind_order[k[0]], k[1].label if k[1] else "")):
        kind, release = key
        kind_label = dict(_KINDS)[kind]
        indices = ran[key]
        by_state: dict[str, list[date]] = defaultdict(list)
        for i in indices:
            by_state[phases(release, cov.days[i])].append(cov.days[i])
        label = _label(catalog, release, kind_label)
        subject = f"{kind}/{release.label}" if release else f"{kind}/unknown"
        evidence: dict[str, JSONValue] = {
            "component": kind_label,
            "lifecycle_product": release.product if release else None,
            "release_cycle": release.cycle if release else None,
            "days_ran": len(indices),
            "ran_from": cov.days[indices[0]].isoformat(),
            "ran_to": cov.days[indices[-1]].isoformat(),
        }
        if kind != "control-plane":
            evidence["nodes"] = _capped(sorted(on_nodes[key]))
        for state in (_ENDED, _EXTENDED, _UNKNOWN):
            if by_state.get(state):
                evidence[f"days_{state}"] = len(by_state[state])
                evidence[f"{state}_dates"] = range_json(day_ranges(by_state[state]))
        statuses = [Status.PASS]
        parts = [f"{kind_label} {label} ran on {_plural(len(indices), 'day')} of the period"]
        if by_state.get(_ENDED):
            statuses.append(Status.FAIL)
            parts.append(f"outside any support on {len(by_state[_ENDED])} ({range_text(day_ranges(by_state[_ENDED]))})")
        if by_state.get(_EXTENDED):
            statuses.append(policy.extended_support)
            parts.append(
                f"in extended support on {len(by_state[_EXTENDED])} ({range_text(day_ranges(by_state[_EXTENDED]))})"
            )
        if by_state.get(_UNKNOWN):
            statuses.append(Status.UNKNOWN)
            why = "the audit could not name the release" if release is None else "the lifecycle data does not say"
            parts.append(f"support unknown on {len(by_state[_UNKNOWN])} ({why})")
        status = worst(statuses)
        if status is Status.PASS:
            parts.append("in support on every one")
        findings.append(
            _finding(
                check,
                status,
                subject,
                "; ".join(parts),
                evidence,
                f"Move off {label} before its support ends (PCI DSS 12.3.4: plan for end of life).",
            )
        )
    findings.extend(no_evidence(check, ctx, "which releases ran"))
    findings.extend(
        without(check, ctx, _nodes_seen, "nodes", "which kubelet, container runtime and node OS releases ran")
    )
    values: dict[str, list[int | None]] = {k: [] for k in ("pass", "warn", "fail", "unknown")}
    states = {"pass": _SUPPORTED, "warn": _EXTENDED, "fail": _ENDED, "unknown": _UNKNOWN}
    for day_tally in node_states:
        for series_key, state in states.items():
            values[series_key].append(None if day_tally is None else day_tally.get(state, 0))
    series = Series(
        "nodes-support",
        "Nodes by support state over time",
        "nodes",
        (("pass", "supported"), ("warn", "extended support"), ("fail", "out of support"), ("unknown", "unknown")),
        cov.days,
        {k: tuple(v) for k, v in values.items()},
        note="Each node counts by the worst of its kubelet, container runtime and OS release that day.",
    )
    return CheckResult(tuple(findings), (series,))


# ------------------------------------------------------------------------------------------
# control_plane_patched_within_window


def _control_plane_line(audit: AuditPoint) -> tuple[str, str, tuple[int, ...], str] | None:
    """(lifecycle product, release line, comparable version, version text) of the running control plane."""
    if audit.distribution == "openshift" and audit.openshift_release:
        key = tuple(release_key(audit.openshift_release)[:3])
        return "red-hat-openshift", ".".join(audit.openshift_release.split(".")[:2]), key, audit.openshift_release
    version = parse_kube_version(audit.api_version)
    if version is None:
        return None
    product = audit.control_plane.product if audit.control_plane else "kubernetes"
    if product != "kubernetes":
        product = "kubernetes"
    return product, version.cycle, version.semver_key, version.semver


_NO_EVIDENCE = "no-evidence"
_PROVIDER = "provider"
_Running = tuple[str, str, tuple[int, ...], str] | str | None  # a line; _NO_EVIDENCE; _PROVIDER; None: unknown


def control_plane_patched_within_window(ctx: PeriodContext) -> CheckResult:
    check = "control_plane_patched_within_window"
    cov, catalog, policy = ctx.coverage, ctx.catalog, ctx.policy
    window = policy.patch_window_days
    running: list[_Running] = []
    providers: dict[str, list[date]] = defaultdict(list)
    for index, evidence in enumerate(cov.evidence):
        if evidence is None:
            running.append(_NO_EVIDENCE)
            continue
        audit = evidence.last
        distribution = DISTRIBUTIONS.get(audit.distribution)
        if distribution is not None and distribution[2]:
            providers[f"{distribution[0]}|{audit.api_version}"].append(cov.days[index])
            running.append(_PROVIDER)
            continue
        running.append(_control_plane_line(audit))
    findings: list[Finding] = []
    if providers:
        versions = sorted({k.split("|", 1)[1] for k in providers})
        label = next(iter(providers)).split("|", 1)[0]
        days = sorted(d for ds in providers.values() for d in ds)
        findings.append(
            _finding(
                check,
                Status.PASS,
                CLUSTER,
                f"{label} applies control plane patches itself; the control plane ran {', '.join(versions[:5])} "
                f"on {_plural(len(days), 'day')} of the period. Keep the provider's attestation of compliance (AOC) "
                "as the evidence for its patching",
                {"responsibility": "provider", "versions": versions, "days": len(days)},
            )
        )
    lines: dict[tuple[str, str], list[int]] = defaultdict(list)
    unknown_days: list[date] = []
    for index, value in enumerate(running):
        if value is None:
            unknown_days.append(cov.days[index])
        elif isinstance(value, tuple):
            lines[(value[0], value[1])].append(index)
    remediation = "Upgrade the control plane to the newest patch release of its minor within the patch window."
    for product, line in sorted(lines):
        patches = catalog.patches(product, line, ctx.history.end)
        if not patches:
            findings.append(
                _finding(
                    check,
                    Status.UNKNOWN,
                    f"release/{product} {line}",
                    f"no patch releases of {product} {line} are known to the lifecycle data",
                    {"lifecycle_product": product, "release_line": line},
                    remediation,
                )
            )
            continue
        found = [
            finding
            for patch in patches
            if (
                finding := _patch_finding(check, product, line, patch.version, patch.date, running, cov, window, policy)
            )
            is not None
        ]
        if not found:  # no patch release of the line came out while it ran, and it was never behind one
            indices = lines[(product, line)]
            versions = sorted({v[3] for i in indices if isinstance(v := running[i], tuple)})
            newest = max(patches, key=lambda patch: release_key(patch.version))
            found.append(
                _finding(
                    check,
                    Status.PASS,
                    f"release/{product} {line}",
                    f"{product} {line} ran on {_plural(len(indices), 'day')} of the period "
                    f"({', '.join(versions[:5])}), never behind a patch release of it published by then "
                    f"(newest known: {newest.version}, released {newest.date})",
                    {
                        "lifecycle_product": product,
                        "release_line": line,
                        "versions": list(versions),
                        "days": len(indices),
                        "newest_patch": newest.version,
                        "newest_patch_released": newest.date.isoformat(),
                        "patch_window_days": window,
                    },
                )
            )
        findings.extend(found)
    if unknown_days:
        findings.append(
            _finding(
                check,
                Status.UNKNOWN,
                CLUSTER,
                f"the control plane version is unknown on {_plural(len(unknown_days), 'day')} "
                f"({range_text(day_ranges(unknown_days))})",
                {"dates": range_json(day_ranges(unknown_days))},
                "Include the API server version (/version) in every audit.",
            )
        )
    findings.extend(no_evidence(check, ctx, "which control plane version ran"))
    return CheckResult(tuple(findings))


def _patch_finding(
    check: str,
    product: str,
    line: str,
    version: str,
    released: date,
    running: Sequence[_Running],
    cov: Coverage,
    window: int,
    policy: Policy,
) -> Finding | None:
    target = tuple(release_key(version)[:3])
    line_key = tuple(release_key(line))
    behind: list[int] = []
    on_line_after_release = False
    for index, value in enumerate(running):
        if not isinstance(value, tuple) or cov.days[index] < released:
            continue
        value_line = tuple(release_key(value[1]))
        if value[0] != product or value_line < line_key:
            continue
        if value_line == line_key:
            on_line_after_release = True
            if value[2] < target:
                behind.append(index)
    published_in_period = cov.days[0] <= released <= cov.days[-1]
    if not behind:
        if not (published_in_period and on_line_after_release):
            return None
        return _finding(
            check,
            Status.PASS,
            f"release/{product} {version}",
            f"{product} {version} (released {released}): the cluster ran it or a later release from the first audit "
            "after its release",
            {"release": version, "released": released.isoformat(), "days": 0, "patch_window_days": window},
        )
    last = behind[-1]
    after = next((i for i in range(last + 1, len(running)) if isinstance(running[i], tuple)), None)
    open_at_end = after is None and last == len(running) - 1
    low_day = cov.days[last] + timedelta(days=1) if not open_at_end else cov.days[last]
    high_day = cov.days[after] if after is not None else cov.days[-1]
    days_low = max(0, (low_day - released).days)
    days_high = max(0, (high_day - released).days)
    first_seen_behind = cov.days[behind[0]]
    running_then = running[behind[0]]
    evidence: dict[str, JSONValue] = {
        "release": version,
        "released": released.isoformat(),
        "running_when_released": running_then[3] if isinstance(running_then, tuple) else None,
        "first_seen_behind": first_seen_behind.isoformat(),
        "last_seen_behind": cov.days[last].isoformat(),
        "running_it_from": cov.days[after].isoformat() if after is not None else None,
        "days": days_high,
        "patch_window_days": window,
        "open_at_end": open_at_end,
    }
    if days_low != days_high:
        evidence["days_at_least"] = days_low
    if days_low > window:
        status = policy.patch_behind
        if status is Status.PASS:
            status = Status.WARN
        state = "still not running it at the end of the period" if open_at_end else f"ran it after {days_high} days"
        message = f"{product} {version} (released {released}): {state}, beyond the {window}-day window"
    elif days_high <= window:
        status = Status.PASS
        state = (
            f"not yet running it at the end of the period, {days_high} days after its release"
            if open_at_end
            else f"ran it (or a later release) {days_high} days after its release"
        )
        message = f"{product} {version} (released {released}): {state}, within the {window}-day window"
    else:
        status = Status.UNKNOWN
        message = (
            f"{product} {version} (released {released}): adopted between {days_low} and {days_high} days after its "
            f"release; days without evidence leave it open whether that was within the {window}-day window"
        )
    remediation = "Upgrade the control plane to the newest patch release of its minor within the patch window."
    return _finding(check, status, f"release/{product} {version}", message, evidence, remediation)


# ------------------------------------------------------------------------------------------
# The registry and the requirement mapping

PERIOD_CHECKS: tuple[PeriodCheckSpec, ...] = (
    PeriodCheckSpec(
        audit_evidence_continuous,
        "Audit evidence is continuous",
        "Recorded audits leave no gap longer than max_evidence_gap_days (default 7) over the period; each gap is "
        "listed with its dates. The days in a gap are unknown to every other period check.",
    ),
    PeriodCheckSpec(
        images_scanned_throughout_period,
        "Images were scanned throughout the period",
        "Every image that ran during the period (by digest) had scan evidence no older than scan_max_age_days on "
        "every day it ran; each stretch without it is named with the image, its workloads and the dates.",
    ),
    PeriodCheckSpec(
        fixes_deployed_within_sla,
        "Fixes were deployed within the SLA",
        "For each vulnerability with a fix that was open in a running workload: the days from the fix being first "
        "known for that workload (fix release, else publication, else the first scan showing the fix; rebuilding "
        "the image without the fix does not restart the clock) to no running image of the workload having it, "
        "against the severity's window; still open at the period's end counts to the end. Summary per severity: "
        "count, median, 90th percentile, worst. A workload that ran an image with no scan is UNKNOWN for those "
        "dates: the check passes only when every running image had a scan.",
    ),
    PeriodCheckSpec(
        nodes_rebooted_onto_current_kernel,
        "Nodes were rebooted onto their pool's current kernel",
        "Per node: the kernels it ran and its reboots (bootID changes). A node that ran longer than "
        "node_max_days_without_reboot (default 45) without a reboot fails; one that kept an older kernel than its "
        "pool peers longer than node_kernel_max_lag_days gets the kernel_drift status. A node's first boot in the "
        "ledger began before the first audit that saw it: it counts from the node's creation when the node is new "
        "(created after the last earlier audit that held nodes), else its start is unknown.",
    ),
    PeriodCheckSpec(
        components_supported_throughout_period,
        "Components were supported throughout the period",
        "The days each control plane, kubelet, container runtime and node OS release ran outside support (by the "
        "lifecycle data), with the dates; extended support gets the policy's extended_support status.",
    ),
    PeriodCheckSpec(
        control_plane_patched_within_window,
        "Control plane patches were applied within the window",
        "Each patch release of the running control plane line published during (or still pending at the start of) "
        "the period, and the days until the cluster ran it or a later release, against patch_window_days. Provider-"
        "patched control planes (EKS, GKE, AKS) say so.",
    ),
)


def period_mapping(known: Iterable[Requirement]) -> tuple[tuple[Requirement, ...], dict[str, tuple[str, ...]]]:
    """Requirements (texts from the audit's mapping) with the period checks that serve each, from ``period.yaml``."""
    text = (resources.files("patchlevel.ledger") / MAPPING_FILE).read_text(encoding="utf-8")
    doc: Any = yaml.safe_load(text)
    by_id = {r.id: r for r in known}
    ids = {spec.id for spec in PERIOD_CHECKS}
    mapping: dict[str, tuple[str, ...]] = {}
    for check_id, requirement_ids in (doc.get("checks") or {}).items():
        if check_id not in ids:
            raise ValueError(f"{MAPPING_FILE}: no period check is called {check_id!r}")
        unknown = [r for r in requirement_ids if r not in by_id]
        if unknown:
            raise ValueError(f"{MAPPING_FILE}: {check_id} names unknown requirements {unknown}")
        mapping[check_id] = tuple(requirement_ids)
    missing = ids - set(mapping)
    if missing:
        raise ValueError(f"{MAPPING_FILE}: no requirements for {sorted(missing)}")
    requirements = tuple(
        Requirement(
            id=r.id,
            framework=r.framework,
            title=r.title,
            text=r.text,
            checks=tuple(c.id for c in PERIOD_CHECKS if r.id in mapping[c.id]),
            note=r.note,
        )
        for r in by_id.values()
    )
    return requirements, mapping


def period_check_infos(mapping: Mapping[str, tuple[str, ...]]) -> tuple[CheckInfo, ...]:
    return tuple(CheckInfo(spec.id, spec.title, spec.description, mapping.get(spec.id, ())) for spec in PERIOD_CHECKS)


def run_period_checks(ctx: PeriodContext, mapping: Mapping[str, tuple[str, ...]]) -> CheckResult:
    """Every period check; a check that raises gives an ERROR finding instead of stopping the report."""
    findings: list[Finding] = []
    series: list[Series] = []
    sla: list[SlaSummary] = []
    for spec in PERIOD_CHECKS:
        requirements = mapping.get(spec.id, ())
        try:
            result = spec.function(ctx)
        except Exception as exc:
            result = CheckResult(
                (
                    _finding(
                        spec.id,
                        Status.ERROR,
                        CLUSTER,
                        f"the check failed: {type(exc).__name__}: {exc}",
                        {"error": repr(exc)},
                        "Report this as a patchlevel bug with the ledger that caused it.",
                    ),
                )
            )
        if not result.findings:  # nothing judged is no evidence: the requirement must not pass on continuity alone
            result = CheckResult(
                (
                    _finding(
                        spec.id,
                        Status.UNKNOWN,
                        CLUSTER,
                        "the period's audits hold nothing this check judges: it has no evidence either way",
                        {"audits_in_period": len(ctx.history.in_period())},
                        "Record audits whose input holds the cluster's nodes, pods and scans.",
                    ),
                ),
                result.series,
                result.sla,
            )
        findings.extend(f.replace(requirements=requirements) for f in result.findings)
        series.extend(result.series)
        sla.extend(result.sla)
    order = {s.id: i for i, s in enumerate(series)}
    preferred = ["open-fixable", "scan-coverage", "nodes-support"]
    series.sort(key=lambda s: (preferred.index(s.id) if s.id in preferred else len(preferred), order[s.id]))
    return CheckResult(tuple(findings), tuple(series), tuple(sla))
