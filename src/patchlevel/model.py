"""The vocabulary every stage shares: statuses, severities, findings and the report.

Nothing here does I/O or imports another patchlevel module; every other module may import it.
A ``Finding`` is one judgement about one subject by one check.  A ``Report`` is everything a
renderer needs: the findings plus the facts that frame them (as-of date, data sources, cluster,
inputs read), so renderers never compute anything themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import IntEnum, StrEnum
from typing import Any

REPORT_SCHEMA_VERSION = "1.0"


class Status(StrEnum):
    """The verdict of a finding.  UNKNOWN means the data needed was missing or unreadable."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"
    WAIVED = "waived"
    ERROR = "error"


# How bad a status is for ``--fail-on``: a threshold trips on its own rank and above.
# UNKNOWN ranks above WARN: a control that could not be proven is worse evidence than a warning.
STATUS_RANK: Mapping[Status, int] = {
    Status.PASS: 0,
    Status.WAIVED: 0,
    Status.WARN: 1,
    Status.UNKNOWN: 2,
    Status.FAIL: 3,
    Status.ERROR: 3,
}


class ExitCode(IntEnum):
    """What the process says when it ends (README "Exit codes")."""

    OK = 0  # nothing at or above --fail-on
    FINDINGS = 1  # at least one finding at or above --fail-on
    USAGE = 2  # bad option, bad date, a path that does not exist, an invalid policy
    INCOMPLETE = 3  # the audit could not complete, or evidence asked for could not be had
    INTERRUPTED = 130  # Ctrl-C


class RequirementVerdict(StrEnum):
    """One word for a requirement in one report (or over a period)."""

    NOT_ASSESSED = "not-assessed"  # no check gives evidence for it
    PASS = "pass"
    WARN = "warn"
    UNKNOWN = "unknown"
    FAIL = "fail"
    ERROR = "error"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


SEVERITY_RANK: Mapping[Severity, int] = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}

# JSON-compatible values, used for evidence.
JSONValue = str | int | float | bool | None | list[Any] | dict[str, Any]


class Phase(StrEnum):
    """Where a release stands in its vendor's support calendar on the as-of date."""

    ACTIVE = "active"  # full/active support
    MAINTENANCE = "maintenance"  # past end of active support, still receiving security fixes
    EXTENDED = "extended"  # past end of standard support, inside extended/LTS/paid support
    ENDED = "ended"  # no support of any kind
    UNRELEASED = "unreleased"  # the cycle was not yet released on the as-of date
    UNKNOWN = "unknown"  # the product or cycle is not in the data


# ------------------------------------------------------------------------------------------
# Typed facts a finding carries for other modules (charts, metrics, the planner, the ledger).
# ``Finding.evidence`` is for humans and the JSON report; code that consumes another check's
# result reads these fields, never evidence keys.


@dataclass(frozen=True, slots=True)
class SupportWindow:
    """The support calendar of the release a finding judged."""

    product: str  # lifecycle product id ("kubernetes", "amazon-eks", "ubuntu", "containerd")
    line: str  # release cycle ("1.31", "22.04"); "" when unknown
    phase: Phase
    label: str = ""  # the product's name for people ("Amazon EKS", "Ubuntu")
    support_ends: date | None = None  # last day of standard support; None: not announced, or unknown
    extended_ends: date | None = None  # last day of extended/LTS/paid support; None: none or unknown


@dataclass(frozen=True, slots=True)
class PatchGap:
    """How far a running release is behind the newest patch of its line, as of the audit's date."""

    line: str  # "Kubernetes 1.31", "containerd 1.7"
    running: str
    newest: str
    newest_released: date
    behind: int  # newer patch releases of the line, released by the as-of date
    first_newer: str
    available_since: date  # release date of the first newer patch
    days_behind: int
    window_days: int  # the policy's patch window
    fixes_known_cves: tuple[str, ...] = ()  # CVEs of the running release that a newer patch of this line fixes


@dataclass(frozen=True, slots=True)
class OpenVulnerability:
    """A vulnerability open in what a finding judged (an image, a node's packages), with its SLA clock."""

    id: str
    severity: Severity | None  # the rank the SLA applies (after KEV/EPSS/source policy); None: unknown
    package: str
    installed_version: str
    fixed_version: str | None  # None: no fix known
    clock_start: date | None = None  # when the SLA clock started; None: unknown
    clock: str = ""  # what started it ("fix release date", "publication date", ...)
    age_days: int | None = None
    sla_days: int | None = None  # None: this severity is not timed by the policy
    overdue: bool = False  # open past its SLA
    # Its own verdict under the policy: PASS inside its window or not timed; WARN/FAIL overdue or
    # without a fix; UNKNOWN when its severity or clock is unknown.  A finding is about (and a
    # waiver must cover) the vulnerabilities whose status is not PASS.
    status: Status = Status.PASS
    # What set ``severity`` (issue 10, PCI DSS 6.3.1): "kev" (in CISA KEV: critical whatever its CVSS),
    # "epss" (raised to high by the policy's EPSS threshold), "report" (the scanner report's vendor
    # severity), "nvd" (NVD CVSS v3/v4 under ``severity_source``); "" when nothing ranked it.
    rank_source: str = ""
    # CISA KEV's federal remediation due date, for a vulnerability known exploited on the as-of date.
    known_exploited_due: date | None = None
    # A VEX statement that takes the vulnerability out of the SLA judgement: "not_affected" or "fixed"
    # ("" when none applies); ``status`` is then PASS and it is counted apart, never as open.
    vex: str = ""
    vex_statement: str = ""  # where it comes from: document, author, timestamp, justification (one line)

    @property
    def is_open(self) -> bool:
        """Still open: no VEX statement says the image is not affected, or that it is fixed."""
        return not self.vex


@dataclass(frozen=True, slots=True)
class WorkloadFixClock:
    """From the audit ledger: when a fix for a vulnerability was first known in any image a workload ran.

    Rebuilding the image without the fix, or rolling a new digest that still carries the vulnerability,
    does not restart this clock (PCI DSS 6.3.3: within one month of the fix being available).
    """

    start: date
    clock: str  # what gave the date: fix-released, published, first-scan
    image: str  # the image (digest) whose scan gave it


@dataclass(frozen=True, slots=True)
class Waiver:
    """An accepted exception from a policy file (see policy.py)."""

    check: str
    subject: str
    reason: str
    owner: str
    expires: date
    id: str | None = None
    approved_by: str | None = None
    vulnerability: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One judgement.

    ``message`` says what was found without naming the subject, so identical findings on many
    subjects group into one line ("412 nodes: containerd 1.7 reached end of life on ...").
    ``evidence`` holds the raw values and dates the verdict rests on (JSON-compatible).
    ``requirements`` is filled from the requirement mapping by the audit runner.
    """

    check: str
    status: Status
    severity: Severity
    subject: str
    message: str
    evidence: Mapping[str, JSONValue] = field(default_factory=dict)
    remediation: str = ""
    requirements: tuple[str, ...] = ()
    waiver: Waiver | None = None
    # For a finding turned back from WAIVED because its waiver expired, or similar notes.
    note: str = ""
    # Typed facts for other modules (see above); empty when the check does not judge that kind of thing.
    support: SupportWindow | None = None
    patch: PatchGap | None = None
    vulnerabilities: tuple[OpenVulnerability, ...] = ()
    node_pool: str = ""  # for node findings: the pool the node belongs to ("" when none is labelled)

    def replace(self, **changes: Any) -> Finding:
        """A copy with ``changes`` (field names as keywords).

        Runs once per finding on clusters with hundreds of thousands of them: copying the slots
        directly is about 1.5x faster than ``dataclasses.replace``, and names no field by hand, so a
        field added to Finding is never dropped by a copy.
        """
        unknown = changes.keys() - _FINDING_FIELDS_SET
        if unknown:
            raise TypeError(f"Finding has no field(s) {sorted(unknown)}")
        new = object.__new__(Finding)
        for name in _FINDING_FIELDS:
            object.__setattr__(new, name, changes[name] if name in changes else getattr(self, name))
        return new


_FINDING_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Finding))
_FINDING_FIELDS_SET = frozenset(_FINDING_FIELDS)


@dataclass(frozen=True, slots=True)
class CheckInfo:
    """What a check is, for reports: id, one-line title, what it means, its requirements."""

    id: str
    title: str
    description: str
    requirements: tuple[str, ...]
    interpretation: str = ""


@dataclass(frozen=True, slots=True)
class Requirement:
    """A requirement of a framework (PCI SSC container guidance, PCI DSS) and the checks covering it."""

    id: str
    framework: str
    title: str
    text: str
    checks: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class InputFile:
    """A file that was read (or ignored) and what it was read as."""

    path: str
    read_as: str  # e.g. "version", "NodeList (3 nodes)", or "ignored"
    objects: int = 0
    reason: str = ""  # why it was ignored
    sha256: str = ""


@dataclass(frozen=True, slots=True)
class DataSource:
    """Reference data used for judgements, with the date it describes."""

    name: str
    source: str
    retrieved: date
    age_days: int
    stale: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    name: str
    version: str  # raw gitVersion, "" when unknown
    distribution: str  # "upstream", "eks", "gke", "aks", "openshift", "k3s", "rke2", ... or "unknown"
    distribution_evidence: str = ""
    server: str = ""
    nodes: int = 0
    pods: int = 0
    images: int = 0


@dataclass(frozen=True, slots=True)
class ChartBar:
    """One bar of a chart: a label and a count per category (categories the chart names, in its order)."""

    label: str
    counts: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class Chart:
    """A stacked bar chart's data, derived from findings before rendering (see ``patchlevel.charts``).

    ``categories`` are (key, legend label) pairs in stacking order; a key is a status or severity word
    renderers colour by.  No bars means no data: ``note`` then says why.
    """

    id: str
    title: str
    unit: str  # what a count counts: "nodes", "images", "fixes"
    categories: tuple[tuple[str, str], ...]
    bars: tuple[ChartBar, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class ScanCoverage:
    """How many running images (or nodes) have scan evidence from the last ``max_age_days`` days.

    ``recent`` counts the subjects whose scan-freshness finding (``image_scanned_recently``,
    ``node_scanned_recently``) says so, before waivers: a waiver changes how a finding counts, not
    whether a scan exists.
    """

    subjects: str  # "images" or "nodes"
    recent: int
    total: int
    max_age_days: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.recent / self.total, 1) if self.total else None

    def text(self) -> str:
        share = f" ({self.percent}%)" if self.percent is not None else ""
        return f"{self.recent} of {self.total} {self.subjects}{share} scanned in the last {self.max_age_days} days"


@dataclass(frozen=True, slots=True)
class Report:
    tool_version: str
    generated_at: datetime
    as_of: date
    cluster: ClusterInfo
    findings: tuple[Finding, ...]
    checks: tuple[CheckInfo, ...]
    requirements: tuple[Requirement, ...]
    data_sources: tuple[DataSource, ...] = ()
    inputs: tuple[InputFile, ...] = ()
    warnings: tuple[str, ...] = ()
    policy: Mapping[str, JSONValue] = field(default_factory=dict)
    waivers: tuple[WaiverOutcome, ...] = ()
    evidence_digest: str = ""
    schema_version: str = REPORT_SCHEMA_VERSION
    charts: tuple[Chart, ...] = ()  # computed by patchlevel.charts before rendering
    # When the newest scan among the image evidence ran (None: no dated scan); metrics export its age.
    newest_scan: datetime | None = None
    # Scan coverage of the running images and of the nodes (host scans); empty where not judged.
    scan_coverage: tuple[ScanCoverage, ...] = ()

    @property
    def lifecycle(self) -> DataSource | None:
        return next((s for s in self.data_sources if s.name == "lifecycle"), None)


@dataclass(frozen=True, slots=True)
class WaiverOutcome:
    """What became of a waiver: how many findings it matched, whether it had expired."""

    waiver: Waiver
    matched: int
    expired: bool


# ------------------------------------------------------------------------------------------
# Evidence from registries (``--registry-check``), produced by ``patchlevel.registry`` and read by
# the image checks.  Kept here so checks judge it without importing the network client.


class ResolutionStatus(StrEnum):
    RESOLVED = "resolved"  # the registry named the digest the tag points to now
    NOT_FOUND = "not_found"  # the repository, tag or digest does not exist there
    UNAUTHORIZED = "unauthorized"  # credentials missing, rejected, or without pull access
    UNREACHABLE = "unreachable"  # no connection, or no answer within the timeout
    ERROR = "error"  # an invalid reference or an answer we could not use


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a registry says one image reference points to now."""

    status: ResolutionStatus
    reason: str  # one line, for the finding
    digest: str | None = None  # manifest or index digest the tag resolves to
    media_type: str | None = None  # of that manifest or index
    created: datetime | None = None  # image config "created" (UTC), with fetch_created only
    platform_digest: str | None = None  # for an index: the manifest whose config gave ``created``
    # When the registry answered (UTC).  An answer given after the as-of date says where the tag
    # points then, not on the as-of date: the checks take it as no evidence for that date.
    resolved_at: datetime | None = None


def count_by_status(findings: Iterable[Finding]) -> dict[Status, int]:
    counts = dict.fromkeys(Status, 0)
    for f in findings:
        counts[f.status] += 1
    return counts


def worst_status(findings: Iterable[Finding]) -> Status | None:
    """The worst status among findings, None when there are none."""
    worst: Status | None = None
    for f in findings:
        if (
            worst is None
            or STATUS_RANK[f.status] > STATUS_RANK[worst]
            or (STATUS_RANK[f.status] == STATUS_RANK[worst] and f.status is Status.ERROR)
        ):
            worst = f.status
    return worst


def requirement_verdict(findings: Iterable[Finding], covered: bool) -> RequirementVerdict:
    """One word for a requirement: not-assessed, pass, warn, unknown, fail, error.

    A requirement whose checks produced no finding at all is "unknown": nothing was proven.
    """
    if not covered:
        return RequirementVerdict.NOT_ASSESSED
    worst = worst_status(findings)
    if worst is None:
        return RequirementVerdict.UNKNOWN
    if worst is Status.WAIVED:
        return RequirementVerdict.PASS
    return RequirementVerdict(worst.value)


def group_findings(findings: Iterable[Finding]) -> list[tuple[Finding, list[str]]]:
    """Group findings that say the same thing about different subjects.

    Returns (representative finding, subjects) pairs in first-seen order.  Renderers use it so
    that 5,000 nodes on the same containerd line print one row, not 5,000.
    """
    groups: dict[tuple[str, Status, str], tuple[Finding, list[str]]] = {}
    for f in findings:
        key = (f.check, f.status, f.message)
        if key in groups:
            groups[key][1].append(f.subject)
        else:
            groups[key] = (f, [f.subject])
    return list(groups.values())


@dataclass(frozen=True, slots=True)
class RequirementResult:
    """A requirement's standing in one report: the verdict and the finding counts behind it."""

    requirement: Requirement
    verdict: RequirementVerdict
    counts: Mapping[Status, int]
    findings: int


def requirement_results(report: Report) -> list[RequirementResult]:
    """Every requirement of the report's mapping, assessed or not, with its verdict."""
    return results_by_requirement(report.requirements, report.findings)


def results_by_requirement(requirements: Iterable[Requirement], findings: Sequence[Finding]) -> list[RequirementResult]:
    """Each requirement's verdict from the findings that serve it (one audit's, or a period's)."""
    serving: dict[str, list[Finding]] = {}
    for f in findings:
        for rid in f.requirements:
            serving.setdefault(rid, []).append(f)
    results = []
    for requirement in requirements:
        mine = serving.get(requirement.id, [])
        results.append(
            RequirementResult(
                requirement=requirement,
                verdict=requirement_verdict(mine, covered=bool(requirement.checks)),
                counts=count_by_status(mine),
                findings=len(mine),
            )
        )
    return results


def exit_code(findings: Iterable[Finding], fail_on: Status | None) -> ExitCode:
    """OK: nothing at or above ``fail_on``; FINDINGS: findings at or above it; INCOMPLETE: a check failed to run.

    ``fail_on=None`` never fails on findings.
    """
    findings = list(findings)
    if any(f.status is Status.ERROR for f in findings):
        return ExitCode.INCOMPLETE
    if fail_on is None:
        return ExitCode.OK
    threshold = STATUS_RANK[fail_on]
    failing = any(STATUS_RANK[f.status] >= threshold and f.status is not Status.WAIVED for f in findings)
    return ExitCode.FINDINGS if failing else ExitCode.OK
