"""Prometheus metric families derived from one Report: names, help, types, labels and values.

Pure: no I/O, no clock, no Prometheus library.  ``render/prometheus.py`` writes these families as
the text exposition (``--format prometheus``) and ``serve.py`` serves them, so a file written by the
CronJob and a scrape of the exporter say the same thing about the same Report.

Cardinality is bounded by design.  No series is per node, pod, image or vulnerability: findings
are counted by check and status, vulnerabilities by source and severity, and release lines are
shown one by one only when the lifecycle data knows them, at most ``MAX_LINES_PER_COMPONENT`` per
component (a line the data does not know is counted under empty ``product`` and ``line`` labels,
and lines past the cap together, so hostile or odd version strings cannot create series).  Every
other label value comes from a closed table here (components, vulnerability sources, data sources,
statuses, verdicts, severities); a check the tables do not name is counted under ``other``.  The
count is at most ``series_bound`` below: it depends on the number of checks and requirements in
the registry and of waivers in the policy, never on the size of the cluster.

Values are read from the typed facts findings carry (``support``, ``patch``,
``vulnerabilities``) and from statuses, never from the free-form ``evidence``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum

from patchlevel.model import (
    Finding,
    Phase,
    Report,
    Severity,
    Status,
    requirement_results,
)


class MetricType(StrEnum):
    GAUGE = "gauge"
    COUNTER = "counter"


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """What a metric is: its name, type, meaning and label names (the README's metrics table)."""

    name: str
    type: MetricType
    help: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Sample:
    """One series: label values in the order of the family's label names, and its value."""

    labels: tuple[str, ...]
    value: float


@dataclass(frozen=True, slots=True)
class MetricFamily:
    spec: MetricSpec
    samples: tuple[Sample, ...]

    @property
    def name(self) -> str:
        return self.spec.name


# ------------------------------------------------------------------------------------------
# What is exported.  Every report metric carries ``cluster`` (the report's cluster name), so the
# files of several clusters can sit side by side in one node_exporter textfile directory.

CLUSTER = "cluster"

CLUSTER_INFO = MetricSpec(
    "patchlevel_cluster_info",
    MetricType.GAUGE,
    "The audited cluster (always 1): its Kubernetes version, distribution and the patchlevel version that judged it.",
    (CLUSTER, "kubernetes_version", "distribution", "patchlevel_version"),
)
AUDIT_TIMESTAMP = MetricSpec(
    "patchlevel_audit_timestamp_seconds",
    MetricType.GAUGE,
    "When the report was generated (Unix time).",
    (CLUSTER,),
)
AS_OF_TIMESTAMP = MetricSpec(
    "patchlevel_audit_as_of_timestamp_seconds",
    MetricType.GAUGE,
    "The date every verdict is judged as of (Unix time of 00:00 UTC that day).",
    (CLUSTER,),
)
CLUSTER_OBJECTS = MetricSpec(
    "patchlevel_cluster_objects",
    MetricType.GAUGE,
    "Objects audited, by kind: nodes, pods, and distinct running images.",
    (CLUSTER, "kind"),
)
FINDINGS = MetricSpec(
    "patchlevel_findings",
    MetricType.GAUGE,
    "Findings by check and status (pass, warn, fail, unknown, waived, error); every check and status is present.",
    (CLUSTER, "check", "status"),
)
REQUIREMENT_FINDINGS = MetricSpec(
    "patchlevel_requirement_findings",
    MetricType.GAUGE,
    "Findings by requirement (e.g. PCI-CG-10.1) and status; a finding counts for each requirement its check serves.",
    (CLUSTER, "requirement", "status"),
)
REQUIREMENT_VERDICT = MetricSpec(
    "patchlevel_requirement_verdict",
    MetricType.GAUGE,
    "1 for the requirement's verdict (not-assessed, pass, warn, unknown, fail, error), 0 for the others.",
    (CLUSTER, "requirement", "verdict"),
)
DATA_TIMESTAMP = MetricSpec(
    "patchlevel_data_timestamp_seconds",
    MetricType.GAUGE,
    "Date of the reference data the verdicts rest on, by source (lifecycle, kubernetes-cve-feed, cisa-kev, "
    "first-epss), and of the newest image scan (source scans), as Unix time; age is time() minus this.",
    (CLUSTER, "source"),
)
DATA_STALE = MetricSpec(
    "patchlevel_data_stale",
    MetricType.GAUGE,
    "1 when the report judges a reference data source stale as of the audit date (see its warnings), else 0.",
    (CLUSTER, "source"),
)
SUPPORT_REMAINING = MetricSpec(
    "patchlevel_support_remaining_seconds",
    MetricType.GAUGE,
    "Support left for a release line in use after the as-of day: 0 on its last day of support, negative once "
    "past (days x 86400); window standard, or extended for paid/LTS/ESM support. Lines without an announced end "
    "have no series.",
    (CLUSTER, "component", "product", "line", "window"),
)
SUPPORT_SUBJECTS = MetricSpec(
    "patchlevel_support_subjects",
    MetricType.GAUGE,
    "Subjects (the control plane, nodes, images, add-ons) on each release line, with the line's support phase; "
    "lines the lifecycle data does not know are counted with empty product and line and phase unknown, lines past "
    'the 20 per component whose support ends first as line "(other lines)".',
    (CLUSTER, "component", "product", "line", "phase"),
)
PATCH_RELEASES_BEHIND = MetricSpec(
    "patchlevel_patch_releases_behind",
    MetricType.GAUGE,
    "Newest patch releases of a line released by the as-of date that the furthest-behind subject on it lacks "
    '(the 20 lines furthest behind per component; any others as line "(other lines)").',
    (CLUSTER, "component", "line"),
)
PATCH_BEHIND = MetricSpec(
    "patchlevel_patch_behind_seconds",
    MetricType.GAUGE,
    "How long the furthest-behind subject on a line has been behind, as of the audit date: time since the first "
    "patch release newer than what it runs came out (days x 86400; 0 when every subject runs the newest).",
    (CLUSTER, "component", "line"),
)
VULNERABILITIES_FIXABLE = MetricSpec(
    "patchlevel_vulnerabilities_fixable",
    MetricType.GAUGE,
    "Open vulnerabilities with a fix, by source (image, node, kubernetes, runtime, addon) and severity: one per "
    "subject, vulnerability and package, waived findings excluded.",
    (CLUSTER, "source", "severity"),
)
VULNERABILITIES_OVERDUE = MetricSpec(
    "patchlevel_vulnerabilities_overdue",
    MetricType.GAUGE,
    "Open vulnerabilities with a fix past the policy's SLA window, by source (image, node, kubernetes, runtime, "
    "addon) and severity: one per subject, vulnerability and package, waived findings excluded.",
    (CLUSTER, "source", "severity"),
)
IMAGES_WITHOUT_RECENT_SCAN = MetricSpec(
    "patchlevel_images_without_recent_scan",
    MetricType.GAUGE,
    "Running images with no scan shown within the policy's age: image_scanned_recently fail, unknown or "
    "error (waived excluded).",
    (CLUSTER,),
)
NODES_PENDING_REBOOT = MetricSpec(
    "patchlevel_nodes_pending_reboot",
    MetricType.GAUGE,
    "Nodes that report a reboot pending: node_not_pending_reboot fail or warn (waived excluded); nodes that "
    'expose no signal are in patchlevel_findings{check="node_not_pending_reboot",status="unknown"}.',
    (CLUSTER,),
)
NODES_BEHIND_POOL_KERNEL = MetricSpec(
    "patchlevel_nodes_behind_pool_kernel",
    MetricType.GAUGE,
    "Nodes running an older kernel than peers in their pool: node_kernel_consistent_in_pool fail or warn "
    "(waived excluded).",
    (CLUSTER,),
)
WAIVER_EXPIRY = MetricSpec(
    "patchlevel_waiver_expiry_timestamp_seconds",
    MetricType.GAUGE,
    "End of the last day a policy waiver holds (Unix time); waiver is its id, or check and subject glob.",
    (CLUSTER, "waiver"),
)
WAIVER_MATCHED = MetricSpec(
    "patchlevel_waiver_matched_findings",
    MetricType.GAUGE,
    "Findings a policy waiver matched (0: it matched nothing and can go).",
    (CLUSTER, "waiver"),
)
REPORT_WARNINGS = MetricSpec(
    "patchlevel_report_warnings",
    MetricType.GAUGE,
    "Warnings the report carries (stale data, denied reads, incomplete coverage ...).",
    (CLUSTER,),
)

REPORT_METRICS: tuple[MetricSpec, ...] = (
    CLUSTER_INFO,
    AUDIT_TIMESTAMP,
    AS_OF_TIMESTAMP,
    CLUSTER_OBJECTS,
    FINDINGS,
    REQUIREMENT_FINDINGS,
    REQUIREMENT_VERDICT,
    DATA_TIMESTAMP,
    DATA_STALE,
    SUPPORT_REMAINING,
    SUPPORT_SUBJECTS,
    PATCH_RELEASES_BEHIND,
    PATCH_BEHIND,
    VULNERABILITIES_FIXABLE,
    VULNERABILITIES_OVERDUE,
    IMAGES_WITHOUT_RECENT_SCAN,
    NODES_PENDING_REBOOT,
    NODES_BEHIND_POOL_KERNEL,
    WAIVER_EXPIRY,
    WAIVER_MATCHED,
    REPORT_WARNINGS,
)

# The exporter's own metrics (``patchlevel serve`` only: a single report has no duration or history).
AUDIT_SUCCESS = MetricSpec(
    "patchlevel_audit_success",
    MetricType.GAUGE,
    "1 when the most recent audit attempt completed, 0 when it failed (the last good result is still served).",
)
AUDIT_DURATION = MetricSpec(
    "patchlevel_audit_duration_seconds",
    MetricType.GAUGE,
    "Wall time of the most recent audit attempt, collection included.",
)
AUDITS = MetricSpec(
    "patchlevel_audits_total",
    MetricType.COUNTER,
    "Audit attempts since the exporter started, by result (success, failure).",
    ("result",),
)
LAST_SUCCESS = MetricSpec(
    "patchlevel_audit_last_success_timestamp_seconds",
    MetricType.GAUGE,
    "When the audit whose result is served completed (Unix time).",
)
RESULT_AGE = MetricSpec(
    "patchlevel_result_age_seconds",
    MetricType.GAUGE,
    "Age of the result served at this scrape: seconds since its audit completed.",
)
AUDIT_IN_PROGRESS = MetricSpec(
    "patchlevel_audit_in_progress",
    MetricType.GAUGE,
    "1 while an audit runs (scrapes are answered from the last result meanwhile).",
)
AUDIT_INCOMPLETE = MetricSpec(
    "patchlevel_audit_incomplete",
    MetricType.GAUGE,
    "1 when the served result's audit lacked evidence it asked for (e.g. a scanner that did not run), else 0.",
)
AUDIT_INTERVAL = MetricSpec(
    "patchlevel_audit_interval_seconds",
    MetricType.GAUGE,
    "Seconds between the starts of two audits (the exporter's --interval).",
)

EXPORTER_METRICS: tuple[MetricSpec, ...] = (
    AUDIT_SUCCESS,
    AUDIT_DURATION,
    AUDITS,
    LAST_SUCCESS,
    RESULT_AGE,
    AUDIT_IN_PROGRESS,
    AUDIT_INCOMPLETE,
    AUDIT_INTERVAL,
)

ALL_METRICS: tuple[MetricSpec, ...] = REPORT_METRICS + EXPORTER_METRICS

# ------------------------------------------------------------------------------------------
# Which checks feed which metric, and under which label value.  The tables are closed: a check
# not named in one whose findings carry such facts is counted under OTHER, so no check, and no
# input, can add a label value that ``series_bound`` does not count.

OTHER = "other"

# Checks whose findings carry support windows (``Finding.support``), by the component they judge.
SUPPORT_COMPONENTS: Mapping[str, str] = {
    "control_plane_version_supported": "control_plane",
    "kubelet_version_supported": "kubelet",
    "container_runtime_supported": "container_runtime",
    "node_os_supported": "node_os",
    "image_os_supported": "image_os",
    "addon_version_supported": "addon",
}
# Checks whose findings carry patch gaps (``Finding.patch``), by the component they judge.
PATCH_COMPONENTS: Mapping[str, str] = {
    "control_plane_patch_current": "control_plane",
    "kubelet_patch_current": "kubelet",
    "container_runtime_patch_current": "container_runtime",
    "addon_patch_current": "addon",
    "node_running_installed_kernel": "node_kernel",
}
# Checks whose findings carry open vulnerabilities, by where the vulnerable software runs: the
# ``source`` label of the vulnerability counts (container images, node OS packages, Kubernetes
# itself, the container runtime, cluster add-ons).
VULNERABILITY_SOURCES: Mapping[str, str] = {
    "fixable_vulnerabilities_patched_in_time": "image",
    "node_os_packages_patched_in_time": "node",
    "control_plane_free_of_known_cves": "kubernetes",
    "kubelet_free_of_known_cves": "kubernetes",
    "container_runtime_free_of_known_cves": "runtime",
    "addon_free_of_known_cves": "addon",
}
# Every reference data source a report can name (``evaluate.data_sources``; the tests hold the two
# together), and the newest image scan, which is dated but never judged stale.
DATA_SOURCES: tuple[str, ...] = ("lifecycle", "kubernetes-cve-feed", "cisa-kev", "first-epss")
SCANS_SOURCE = "scans"

# (metric, check, statuses counted, subject prefix): counts of subjects by one check's verdicts.
SUBJECT_COUNTS: tuple[tuple[MetricSpec, str, frozenset[Status], str], ...] = (
    (
        IMAGES_WITHOUT_RECENT_SCAN,
        "image_scanned_recently",
        frozenset({Status.FAIL, Status.UNKNOWN, Status.ERROR}),
        "image/",
    ),
    (NODES_PENDING_REBOOT, "node_not_pending_reboot", frozenset({Status.FAIL, Status.WARN}), "node/"),
    (NODES_BEHIND_POOL_KERNEL, "node_kernel_consistent_in_pool", frozenset({Status.FAIL, Status.WARN}), "node/"),
)

STATUSES: tuple[str, ...] = tuple(s.value for s in Status)
VERDICTS: tuple[str, ...] = ("not-assessed", "pass", "warn", "unknown", "fail", "error")
SEVERITIES: tuple[str, ...] = (*(s.value for s in Severity), "unknown")
OBJECT_KINDS: tuple[str, ...] = ("nodes", "pods", "images")
# Sources every severity is exported for, counted or not (OTHER only when it counts something).
VULNERABILITY_SOURCE_NAMES: tuple[str, ...] = tuple(dict.fromkeys(VULNERABILITY_SOURCES.values()))
# Release lines shown one by one per component (those whose support ends first, or furthest behind their
# newest patch); any more are counted together as OTHER_LINES, so odd version strings cannot add series.
MAX_LINES_PER_COMPONENT = 20
WINDOWS: tuple[str, ...] = ("standard", "extended")  # support windows: a line's end of standard, of any support
OTHER_LINES = "(other lines)"
DAY_SECONDS = 86_400


# ------------------------------------------------------------------------------------------
# The derivation


def report_metrics(report: Report) -> tuple[MetricFamily, ...]:
    """Every report metric of ``REPORT_METRICS``, in that order, samples in a stable order."""
    cluster = report.cluster.name
    findings = report.findings
    families = (
        _family(
            CLUSTER_INFO,
            [((report.cluster.version, report.cluster.distribution, report.tool_version), 1.0)],
            cluster,
        ),
        _family(AUDIT_TIMESTAMP, [((), report.generated_at.timestamp())], cluster),
        _family(AS_OF_TIMESTAMP, [((), _day_start(report.as_of))], cluster),
        _family(
            CLUSTER_OBJECTS,
            [
                (("nodes",), float(report.cluster.nodes)),
                (("pods",), float(report.cluster.pods)),
                (("images",), float(report.cluster.images)),
            ],
            cluster,
        ),
        _family(FINDINGS, _findings_by_check(report), cluster),
        *_requirement_families(report, cluster),
        *_data_families(report, cluster),
        *_support_families(findings, report.as_of, cluster),
        *_patch_families(findings, cluster),
        *_vulnerability_families(findings, cluster),
        *_subject_count_families(findings, cluster),
        *_waiver_families(report, cluster),
        _family(REPORT_WARNINGS, [((), float(len(report.warnings)))], cluster),
    )
    return families


def series_count(families: Iterable[MetricFamily]) -> int:
    """Series a scrape of these families holds."""
    return sum(len(f.samples) for f in families)


def series_bound(checks: int, requirements: int, waivers: int = 0) -> int:
    """The most series ``report_metrics`` can produce, whatever the cluster's size and inputs.

    ``checks`` and ``requirements``: how many the registry holds (``patchlevel.checks.ALL_CHECKS`` and
    the requirements of ``patchlevel.frameworks``); ``waivers``: the policy's.  Everything else is
    read from the tables of this module, so the bound follows them when they change:

    - one series each: cluster info, the two timestamps, the warnings and each subject count
      (``SUBJECT_COUNTS``); one per object kind;
    - a timestamp for each data source and the newest scan, a staleness flag for each data source;
    - fixable and overdue vulnerabilities: every severity of every vulnerability source, OTHER included;
    - every status per check; every status and every verdict per requirement; two per waiver;
    - per support component (the components of ``SUPPORT_COMPONENTS`` and OTHER): for each of
      ``MAX_LINES_PER_COMPONENT`` lines two windows and a subject count, one series for lines the
      data does not know, one per known phase for the lines folded together;
    - per patch component (``PATCH_COMPONENTS`` and OTHER): ``MAX_LINES_PER_COMPONENT`` lines and
      the folded ones, two series each.
    """
    single = 1 + 2 + 1 + len(SUBJECT_COUNTS) + len(OBJECT_KINDS)
    data = (len(DATA_SOURCES) + 1) + len(DATA_SOURCES)
    vulnerability_sources = len({*VULNERABILITY_SOURCES.values(), OTHER})
    vulnerabilities = 2 * vulnerability_sources * len(SEVERITIES)
    support_components = len({*SUPPORT_COMPONENTS.values(), OTHER})
    patch_components = len({*PATCH_COMPONENTS.values(), OTHER})
    per_support_component = MAX_LINES_PER_COMPONENT * (len(WINDOWS) + 1) + 1 + (len(Phase) - 1)
    per_patch_component = (MAX_LINES_PER_COMPONENT + 1) * 2
    return (
        single
        + data
        + vulnerabilities
        + len(STATUSES) * checks
        + (len(STATUSES) + len(VERDICTS)) * requirements
        + 2 * waivers
        + per_support_component * support_components
        + per_patch_component * patch_components
    )


# ------------------------------------------------------------------------------------------


def _family(spec: MetricSpec, rows: Iterable[tuple[tuple[str, ...], float]], cluster: str) -> MetricFamily:
    samples = tuple(Sample((cluster, *labels), value) for labels, value in rows)
    for sample in samples:
        if len(sample.labels) != len(spec.labels):  # a programming error, caught by the tests
            raise ValueError(f"{spec.name}: {len(sample.labels)} label values for {spec.labels}")
    return MetricFamily(spec, samples)


def _day_start(day: date) -> float:
    return datetime.combine(day, time(), tzinfo=UTC).timestamp()


def _findings_by_check(report: Report) -> list[tuple[tuple[str, ...], float]]:
    counts: Counter[tuple[str, str]] = Counter((f.check, f.status.value) for f in report.findings)
    checks = list(dict.fromkeys([*(c.id for c in report.checks), *(f.check for f in report.findings)]))
    return [((check, status), float(counts[check, status])) for check in checks for status in STATUSES]


def _requirement_families(report: Report, cluster: str) -> tuple[MetricFamily, MetricFamily]:
    counts: list[tuple[tuple[str, ...], float]] = []
    verdicts: list[tuple[tuple[str, ...], float]] = []
    for result in requirement_results(report):
        rid = result.requirement.id
        counts.extend(((rid, status.value), float(result.counts[status])) for status in Status)
        verdicts.extend(((rid, verdict), 1.0 if verdict == result.verdict else 0.0) for verdict in VERDICTS)
    return _family(REQUIREMENT_FINDINGS, counts, cluster), _family(REQUIREMENT_VERDICT, verdicts, cluster)


def _data_families(report: Report, cluster: str) -> tuple[MetricFamily, MetricFamily]:
    dated = [((source.name,), _day_start(source.retrieved)) for source in report.data_sources]
    if report.newest_scan is not None:
        dated.append(((SCANS_SOURCE,), report.newest_scan.timestamp()))
    stale = [((source.name,), 1.0 if source.stale else 0.0) for source in report.data_sources]
    return _family(DATA_TIMESTAMP, dated, cluster), _family(DATA_STALE, stale, cluster)


@dataclass(slots=True)
class _Line:
    phase: Phase
    subjects: set[str]
    support_ends: date | None
    extended_ends: date | None

    def urgency(self) -> tuple[date, date]:
        """Sort key: the line whose support ends first comes first; an end that passed undated, first of all."""
        undated = date.min if self.phase is Phase.ENDED else date.max
        first = min((d for d in (self.support_ends, self.extended_ends) if d is not None), default=undated)
        last = max((d for d in (self.support_ends, self.extended_ends) if d is not None), default=undated)
        return last, first


def _support_families(findings: Sequence[Finding], as_of: date, cluster: str) -> tuple[MetricFamily, MetricFamily]:
    lines: dict[tuple[str, str, str], _Line] = {}
    for finding in findings:
        window = finding.support
        if window is None:
            continue
        known = window.phase is not Phase.UNKNOWN
        component = SUPPORT_COMPONENTS.get(finding.check, OTHER)
        key = (component, window.product if known else "", window.line if known else "")
        line = lines.get(key)
        if line is None:
            phase = window.phase if known else Phase.UNKNOWN
            line = lines[key] = _Line(phase, set(), window.support_ends, window.extended_ends)
        elif known:  # the same line judged twice: keep the earliest end either judgement states
            line.support_ends = _earliest(line.support_ends, window.support_ends)
            line.extended_ends = _earliest(line.extended_ends, window.extended_ends)
        line.subjects.add(finding.subject)
    remaining: list[tuple[tuple[str, ...], float]] = []
    subjects: Counter[tuple[str, ...]] = Counter()
    by_component: dict[str, list[tuple[str, str, str]]] = {}
    for key in lines:
        by_component.setdefault(key[0], []).append(key)
    for component in sorted(by_component):
        known_keys = sorted(
            (k for k in by_component[component] if k[1:] != ("", "")), key=lambda k: (lines[k].urgency(), k)
        )
        shown = set(known_keys[:MAX_LINES_PER_COMPONENT])
        for key in sorted(by_component[component]):
            line = lines[key]
            if key[1:] == ("", ""):
                subjects[(*key, Phase.UNKNOWN.value)] += len(line.subjects)
                continue
            if key not in shown:  # folded: counted, without dates
                subjects[(component, "", OTHER_LINES, line.phase.value)] += len(line.subjects)
                continue
            subjects[(*key, line.phase.value)] += len(line.subjects)
            for name, end in zip(WINDOWS, (line.support_ends, line.extended_ends), strict=True):
                if end is not None:
                    remaining.append(((*key, name), float((end - as_of).days * DAY_SECONDS)))
    return (
        _family(SUPPORT_REMAINING, remaining, cluster),
        _family(SUPPORT_SUBJECTS, [(key, float(n)) for key, n in sorted(subjects.items())], cluster),
    )


def _earliest(a: date | None, b: date | None) -> date | None:
    return b if a is None else a if b is None else min(a, b)


def _patch_families(findings: Sequence[Finding], cluster: str) -> tuple[MetricFamily, MetricFamily]:
    behind: dict[tuple[str, str], int] = {}
    days: dict[tuple[str, str], int] = {}
    for finding in findings:
        gap = finding.patch
        if gap is None:
            continue
        key = (PATCH_COMPONENTS.get(finding.check, OTHER), gap.line)
        behind[key] = max(behind.get(key, 0), gap.behind)
        days[key] = max(days.get(key, 0), gap.days_behind if gap.behind > 0 else 0)
    by_component: dict[str, list[tuple[str, str]]] = {}
    for key in behind:
        by_component.setdefault(key[0], []).append(key)
    for component, keys in by_component.items():
        folded = sorted(keys, key=lambda k: (-days[k], -behind[k], k))[MAX_LINES_PER_COMPONENT:]
        for key in folded:  # the furthest behind stay; the rest count as one "(other lines)"
            other = (component, OTHER_LINES)
            behind[other] = max(behind.get(other, 0), behind.pop(key))
            days[other] = max(days.get(other, 0), days.pop(key))
    keys = sorted(behind)
    return (
        _family(PATCH_RELEASES_BEHIND, [(key, float(behind[key])) for key in keys], cluster),
        _family(PATCH_BEHIND, [(key, float(days[key] * DAY_SECONDS)) for key in keys], cluster),
    )


def _vulnerability_families(findings: Sequence[Finding], cluster: str) -> tuple[MetricFamily, MetricFamily]:
    fixable: dict[tuple[str, str, str, str], tuple[str, str]] = {}  # -> (source, severity)
    overdue: set[tuple[str, str, str, str]] = set()
    for finding in findings:
        if finding.status is Status.WAIVED or not finding.vulnerabilities:
            continue
        source = VULNERABILITY_SOURCES.get(finding.check, OTHER)
        for vulnerability in finding.vulnerabilities:
            if not vulnerability.fixed_version or not vulnerability.is_open:  # VEX took it out of the SLA
                continue
            key = (finding.subject, vulnerability.id, vulnerability.package, vulnerability.installed_version)
            severity = vulnerability.severity.value if vulnerability.severity is not None else "unknown"
            # One vulnerability seen by two checks counts once, under the first check's source, at the
            # higher severity either gives it.
            known = fixable.get(key)
            if known is None:
                fixable[key] = (source, severity)
            else:
                fixable[key] = (known[0], max(known[1], severity, key=SEVERITIES[::-1].index))
            if vulnerability.overdue:
                overdue.add(key)
    open_counts = Counter(fixable.values())
    overdue_counts = Counter(fixable[key] for key in overdue)
    sources = VULNERABILITY_SOURCE_NAMES + ((OTHER,) if any(s == OTHER for s, _ in open_counts) else ())
    pairs = [(source, severity) for source in sources for severity in SEVERITIES]
    return (
        _family(VULNERABILITIES_FIXABLE, [(pair, float(open_counts[pair])) for pair in pairs], cluster),
        _family(VULNERABILITIES_OVERDUE, [(pair, float(overdue_counts[pair])) for pair in pairs], cluster),
    )


def _subject_count_families(findings: Sequence[Finding], cluster: str) -> list[MetricFamily]:
    families = []
    for spec, check, statuses, prefix in SUBJECT_COUNTS:
        subjects = {
            f.subject for f in findings if f.check == check and f.status in statuses and f.subject.startswith(prefix)
        }
        families.append(_family(spec, [((), float(len(subjects)))], cluster))
    return families


def _waiver_families(report: Report, cluster: str) -> tuple[MetricFamily, MetricFamily]:
    expiry: list[tuple[tuple[str, ...], float]] = []
    matched: list[tuple[tuple[str, ...], float]] = []
    seen: set[str] = set()
    for outcome in report.waivers:
        waiver = outcome.waiver
        label = waiver.id or f"{waiver.check} {waiver.subject}"
        if label in seen:  # two waivers with one label: the policy file says so; keep the first
            continue
        seen.add(label)
        expiry.append(((label,), _day_start(waiver.expires) + DAY_SECONDS))
        matched.append(((label,), float(outcome.matched)))
    return _family(WAIVER_EXPIRY, expiry, cluster), _family(WAIVER_MATCHED, matched, cluster)
