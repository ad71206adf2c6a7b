"""The SLA clock of a vulnerability: when it started, which window applies, and whether it is overdue.

One rule for every check that times fixable vulnerabilities (images, node OS packages): the clock
starts at the fix's release date, else the vulnerability's publication, else the first scan that
already listed the fix; a known exploited vulnerability (CISA KEV) is timed by
``known_exploited_sla_days`` from no earlier than the day it was added; a VEX statement (``not_affected``
with a justification, or ``fixed``) takes it out of the judgement (PASS when it names the running digest;
WARN when it names a tag or the repository only, or the scanner applied it); a clock that would start after the
as-of date, or a severity or date that is unknown, is UNKNOWN, never within the window.
``vulnerability_parts`` words what needs action, so both checks say it the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from patchlevel.images import ScanMatch
from patchlevel.model import SEVERITY_RANK, JSONValue, OpenVulnerability, Severity, Status, WorkloadFixClock
from patchlevel.policy import Policy
from patchlevel.scans import ScanReport, Vulnerability
from patchlevel.vuln.rank import RANK_KEV, Rank
from patchlevel.vuln.vex import VexMatchBy, VexStatus

MESSAGE_IDS = 5  # vulnerability ids named in a message before "+N more"


def scan_day(report: ScanReport) -> date | None:
    return report.scanned_at.date() if report.scanned_at else None


CLOCK_FIX = "fix release date"
CLOCK_PUBLISHED = "publication date"
CLOCK_FIRST_SCAN = "first scan reporting the fix"
CLOCK_KEV = "date added to CISA KEV"
CLOCK_HISTORY = "fix first known for the workload in the audit ledger"
VEX_REMOVES = frozenset({VexStatus.NOT_AFFECTED.value, VexStatus.FIXED.value})
SCANNER = "scanner"  # VexOverride.by of a statement the scanner applied
SCANNER_UNVERIFIED = "statement age and product match not verifiable from the report"
# What a WARN-grade VEX match leaves open, by how it matched (VexOverride.by)
VEX_WARNINGS = (
    (
        VexMatchBy.TAG.value,
        "taken out of the SLA by a VEX statement that names the image's tag, not its digest (a tag can be moved "
        "to another build)",
    ),
    (
        VexMatchBy.REPOSITORY.value,
        "taken out of the SLA by a VEX statement that names the image's repository, not its digest (it covers "
        "every version of the image)",
    ),
    (
        SCANNER,
        f"taken out of the SLA by VEX the scanner applied ({SCANNER_UNVERIFIED}; give the VEX document with --vex "
        "to have it checked)",
    ),
)


@dataclass(frozen=True, slots=True)
class VexOverride:
    """A VEX statement that takes one vulnerability out of the SLA judgement."""

    status: str  # "not_affected" or "fixed"
    # "digest" (exact: PASS); "tag" (the image's tag, which can move), "repository" (every version of the
    # image), "scanner" (applied by the scanner; its age and product match are not in the report): WARN
    by: str
    statement: str  # one line: "NOT AFFECTED (VEX: format document, author, date): justification"
    detail: dict[str, JSONValue]


@dataclass(frozen=True, slots=True)
class Judged:
    vulnerability: Vulnerability
    status: Status  # PASS when inside its window, not timed, or out of the SLA by VEX by digest (else WARN)
    # "overdue", "no-fix", "unknown-severity", "unknown-clock", "future-clock", "within", "untimed", "vex"
    reason: str
    clock: str
    clock_start: date | None
    age_days: int | None
    sla_days: int | None
    rank: Rank
    vex: VexOverride | None = None
    note: str = ""  # why a finding the scanner suppressed is judged anyway

    @property
    def severity(self) -> Severity | None:
        """The ranked severity (the one the SLA applies)."""
        return self.rank.severity

    @property
    def known_exploited(self) -> bool:
        return self.rank.source == RANK_KEV

    def detail(self) -> dict[str, JSONValue]:
        v = self.vulnerability
        out: dict[str, JSONValue] = {
            "id": v.id,
            "package": v.package,
            "installed_version": v.installed_version,
            "fixed_version": v.fixed_version,
            "severity": self.severity.value if self.severity else "unknown",
            "scanner_status": v.status or None,
            "status": self.status.value,
            "clock": self.clock or None,
            "clock_start": self.clock_start.isoformat() if self.clock_start else None,
            "age_days": self.age_days,
            "sla_days": self.sla_days,
            "url": v.url or None,
            "rank": self.rank.evidence(),
        }
        if v.aliases:
            out["aliases"] = list(v.aliases)
        if v.risk is not None:
            out["scanner_risk"] = v.risk
        if self.vex is not None:
            out["vex"] = self.vex.detail
        if self.note:
            out["note"] = self.note
        return out

    def typed(self) -> OpenVulnerability:
        v = self.vulnerability
        exploited = self.rank.known_exploited
        return OpenVulnerability(
            id=v.id,
            severity=self.severity,
            package=v.package,
            installed_version=v.installed_version,
            fixed_version=v.fixed_version,
            clock_start=self.clock_start,
            clock=self.clock,
            age_days=self.age_days,
            sla_days=self.sla_days,
            overdue=self.reason == "overdue",
            status=self.status,
            rank_source=self.rank.source,
            known_exploited_due=exploited.due_date if exploited is not None else None,
            vex=self.vex.status if self.vex is not None else "",
            vex_statement=self.vex.statement if self.vex is not None else "",
        )


def first_fix_seen(matches: Sequence[ScanMatch]) -> dict[tuple[str, str], date]:
    """For each (vulnerability, package): the earliest scan day that already listed its fix."""
    first: dict[tuple[str, str], date] = {}
    for match in matches:
        day = scan_day(match.report)
        if day is None:
            continue
        for v in (*match.report.vulnerabilities, *match.report.suppressed):
            if v.fixable:
                key = (v.id, v.package)
                if key not in first or day < first[key]:
                    first[key] = day
    return first


def judge(
    v: Vulnerability,
    rank: Rank,
    first_fix: dict[tuple[str, str], date],
    policy: Policy,
    as_of: date,
    vex: VexOverride | None = None,
    note: str = "",
    history: WorkloadFixClock | None = None,
) -> Judged:
    """One vulnerability under the policy: VEX first, then its ranked severity's window.

    ``history`` (from the audit ledger) starts the clock earlier when a fix was known before in an
    image the same workload ran.  A known exploited vulnerability (CISA KEV) is judged against
    ``known_exploited_sla_days`` and FAILs past it; its clock starts no earlier than the day it was
    added to KEV (it became critical then), unless the window of the severity it has without KEV ends
    sooner: a listing never gives a fix more time than it had (more evidence, never a weaker verdict).
    """
    if vex is not None:
        # Only a statement about the running digest is exact; a tag moves, a repository is every build,
        # and a statement the scanner applied cannot be checked for age or product from its report.
        status = Status.PASS if vex.by == VexMatchBy.DIGEST.value else Status.WARN
        return Judged(v, status, "vex", "", None, None, None, rank, vex, note)
    severity = rank.severity
    exploited = rank.known_exploited if rank.source == RANK_KEV else None
    if exploited is not None:
        sla: int | None = policy.known_exploited_sla_days
    else:
        sla = policy.sla_days.get(severity) if severity else None
    timed = severity is None or sla is not None

    def judged(
        status: Status, reason: str, clock: str, start: date | None, age: int | None, days: int | None
    ) -> Judged:
        return Judged(v, status, reason, clock, start, age, days, rank, None, note)

    if not v.fixable:
        if timed:
            return judged(policy.no_fix_status, "no-fix", "", None, None, sla)
        return judged(Status.PASS, "untimed", "", None, None, None)
    if v.fix_released:
        clock, start = CLOCK_FIX, v.fix_released
    elif v.published:
        clock, start = CLOCK_PUBLISHED, v.published
    elif (v.id, v.package) in first_fix:
        clock, start = CLOCK_FIRST_SCAN, first_fix[(v.id, v.package)]
    else:
        clock, start = "", None
    if history is not None and (start is None or history.start < start):
        # the ledger knew the fix earlier, in an image the same workload ran: a rebuild did not restart it
        clock, start = f"{CLOCK_HISTORY} ({history.clock}, image {history.image})", history.start
    if exploited is not None and start is not None:
        own = rank.severity_without_kev
        own_sla = policy.sla_days.get(own) if own is not None else None
        kev_start = max(start, exploited.date_added or start)
        if own_sla is not None and own_sla <= (kev_start - start).days + (sla or 0):
            sla = own_sla  # its own window ends first (or with the KEV one): its clock, FAIL past it
        elif kev_start > start:
            clock, start = CLOCK_KEV, kev_start
    if start is not None and start > as_of:
        # A fix released (or a vulnerability published) after the as-of date, in a scan dated on
        # or before it: the dates contradict each other, so the clock cannot be started.
        if severity is not None and sla is None:
            return judged(Status.PASS, "untimed", clock, start, None, None)
        return judged(Status.UNKNOWN, "future-clock", clock, start, None, sla)
    age = (as_of - start).days if start else None
    if severity is None:
        shortest = min(policy.sla_days.values(), default=None)
        if age is None or shortest is None or age > shortest:
            return judged(Status.UNKNOWN, "unknown-severity", clock, start, age, shortest)
        return judged(Status.PASS, "within", clock, start, age, shortest)
    if sla is None:
        return judged(Status.PASS, "untimed", clock, start, age, None)
    if age is None:
        return judged(Status.UNKNOWN, "unknown-clock", clock, start, age, sla)
    if age > sla:
        status = Status.FAIL if exploited is not None else policy.sla_status.get(severity, Status.FAIL)
        return judged(status, "overdue", clock, start, age, sla)
    return judged(Status.PASS, "within", clock, start, age, sla)


def ids_text(judged: Sequence[Judged]) -> str:
    ids = list(dict.fromkeys(j.vulnerability.id for j in judged))
    shown = ", ".join(ids[:MESSAGE_IDS])
    return shown + (f" +{len(ids) - MESSAGE_IDS} more" if len(ids) > MESSAGE_IDS else "")


def _kevids_text(judged: Sequence[Judged]) -> str:
    """ "CVE-2020-15999 known exploited (CISA KEV, added 2021-11-03, federal due date 2021-11-17), …"."""
    described: dict[str, str] = {}
    for j in judged:
        exploited = j.rank.known_exploited
        if exploited is not None:
            described.setdefault(j.vulnerability.id, f"{j.vulnerability.id} {exploited.describe()}")
    shown = ", ".join(list(described.values())[:MESSAGE_IDS])
    return shown + (f" +{len(described) - MESSAGE_IDS} more" if len(described) > MESSAGE_IDS else "")


def plural(n: int, word: str) -> str:
    if n == 1:
        return f"1 {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


def count_text(judged: Sequence[Judged], word: str) -> str:
    """ "2 fixable critical vulnerabilities", saying so when they affect more packages than that."""
    ids = len({j.vulnerability.id for j in judged})
    text = plural(ids, word)
    return text + (f" (in {len(judged)} packages)" if len(judged) > ids else "")


def clocks_text(judged: Sequence[Judged]) -> str:
    clocks = list(dict.fromkeys(j.clock for j in judged if j.clock))
    return ("clock: " if len(clocks) == 1 else "clocks: ") + ", ".join(clocks)


def _kev_window_text(exploited: Sequence[Judged], policy: Policy) -> str:
    window = f"the {policy.known_exploited_sla_days}-day window for known exploited vulnerabilities"
    if all(j.sla_days == policy.known_exploited_sla_days for j in exploited):
        return window
    return f"{window}, or their own severity's window where that ended sooner"


# Why a fixable vulnerability could not be judged against its window, as the finding words it.
_UNKNOWN_REASONS = (
    (
        "unknown-severity",
        "without a severity from the scanner (UNKNOWN severity), open longer than the shortest window or for an "
        "unknown time",
    ),
    ("unknown-clock", "with no fix date, publication date or dated scan to start the clock"),
    (
        "future-clock",
        "whose clock would start after the as-of date (a fix release or publication date later than it, in a scan "
        "dated before it)",
    ),
)


def vulnerability_parts(judged: Sequence[Judged], policy: Policy) -> list[tuple[Status, Severity, str]]:
    """(status, finding severity, sentence) for each group of vulnerabilities that needs action."""
    parts: list[tuple[Status, Severity, str]] = []
    exploited = sorted(
        (j for j in judged if j.reason == "overdue" and j.known_exploited and j.status is not Status.PASS),
        key=lambda j: (-(j.age_days or 0), j.vulnerability.id),
    )
    if exploited:
        parts.append(
            (
                exploited[0].status,
                Severity.CRITICAL,
                f"{count_text(exploited, 'fixable known exploited vulnerability')} open longer than "
                f"{_kev_window_text(exploited, policy)} ({clocks_text(exploited)}): {_kevids_text(exploited)}",
            )
        )
    for severity in sorted(policy.sla_days, key=lambda s: -SEVERITY_RANK[s]):
        overdue = sorted(
            (
                j
                for j in judged
                if j.reason == "overdue"
                and not j.known_exploited
                and j.severity is severity
                and j.status is not Status.PASS
            ),
            key=lambda j: (-(j.age_days or 0), j.vulnerability.id),
        )
        if overdue:
            status = overdue[0].status
            window = policy.sla_days[severity]
            parts.append(
                (
                    status,
                    severity,
                    f"{count_text(overdue, f'fixable {severity.value} vulnerability')} open longer than the "
                    f"{window}-day window ({clocks_text(overdue)}): {ids_text(overdue)}",
                )
            )
    for reason, what in _UNKNOWN_REASONS:
        group = [j for j in judged if j.reason == reason]
        if group:
            parts.append(
                (
                    Status.UNKNOWN,
                    Severity.MEDIUM,
                    f"{count_text(group, 'fixable vulnerability')} {what}: {ids_text(group)}",
                )
            )
    no_fix = sorted(
        (j for j in judged if j.reason == "no-fix" and j.status is not Status.PASS),
        key=lambda j: (-SEVERITY_RANK[j.severity] if j.severity else 1, j.vulnerability.id),
    )
    if no_fix:
        parts.append(
            (
                no_fix[0].status,
                Severity.MEDIUM,
                f"{count_text(no_fix, 'vulnerability')} with no fix released yet: {ids_text(no_fix)}",
            )
        )
    for by, text in VEX_WARNINGS:
        warned = [j for j in judged if j.vex is not None and j.vex.by == by and j.status is Status.WARN]
        if warned:
            parts.append(
                (Status.WARN, Severity.MEDIUM, f"{count_text(warned, 'vulnerability')} {text}: {ids_text(warned)}")
            )
    return parts


def scanner_vex(v: Vulnerability, report: ScanReport) -> tuple[VexOverride | None, str]:
    """A finding the scanner suppressed: a VEX statement it applied (``VexOverride``), or why it is judged anyway.

    What the report keeps of the statement (Trivy's ``ModifiedFindings``: type, status, statement,
    source, finding) has no statement date and no product, so neither ``vex_max_age_days`` nor the
    product match (digest, tag or repository) can be checked: it is matched ``by="scanner"``, which
    ``judge`` makes a WARN at best.  The same document given with ``--vex`` is matched by our own
    rules first (digest: PASS).
    """
    suppression = v.suppression
    assert suppression is not None
    source = suppression.source or "source not stated"
    said = f"{suppression.status}, {source}" + (f": {suppression.statement}" if suppression.statement else "")
    if suppression.status in VEX_REMOVES:
        if suppression.status == VexStatus.NOT_AFFECTED.value and not suppression.statement:
            return None, (
                f"the scanner suppressed it ({said}), but a not_affected statement without a justification "
                "is ignored: judged as open"
            )
        day = scan_day(report)
        label = suppression.status.replace("_", " ").upper()
        statement = f"{label} (VEX applied by {report.scanner} in its scan of {day or 'an undated day'}: {source})"
        statement += f": {suppression.statement}" if suppression.statement else ""
        detail: dict[str, JSONValue] = {
            "status": suppression.status,
            "matched_by": SCANNER,
            "not_verified": SCANNER_UNVERIFIED,
            "document": suppression.source or None,
            "justification": suppression.statement or None,
            "applied_by": f"{report.scanner} {report.scanner_version or ''}".strip(),
            "scan_report": report.source,
            "statement": statement,
        }
        return VexOverride(suppression.status, SCANNER, statement, detail), ""
    return None, f"the scanner suppressed it ({said}); that is no VEX statement: judged as open"
