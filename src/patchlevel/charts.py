"""Chart series for reports, derived from findings before rendering (renderers only draw them).

Every chart reads the evidence checks already record, so a chart and the findings beside it can
never disagree.  A chart whose data is absent has no bars and a note saying "no data" and why.

- nodes by Kubernetes minor and support status: ``kubelet_version_supported`` (evidence ``kubelet``)
- nodes by OS release and support status: ``node_os_supported`` (``lifecycle_product``, ``release_cycle``)
- kernel drift per pool: ``node_kernel_consistent_in_pool`` (``pool``, ``os_image``)
- running images by worst open severity: image findings (subject ``image/…``, or a check about
  vulnerabilities) whose evidence lists ``vulnerabilities`` (objects with ``severity``), or gives
  ``worst_severity`` or counts ``by_severity``
- cluster add-ons by support state: ``addon_version_supported`` (subject ``addon/…``; evidence
  ``addon_name``, ``release_cycle``), one count per add-on workload
- age of open fixes against the SLA: ``*_patch_current`` findings behind a newer patch
  (``days_behind`` against ``patch_window_days``) and open image vulnerabilities with a fix
  (``age_days`` or ``days_open`` against the policy's ``sla_days`` for their severity)
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence

from patchlevel.model import SEVERITY_RANK, Chart, ChartBar, Finding, JSONValue, Severity, Status

STATUS_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("fail", "unsupported"),
    ("warn", "warning"),
    ("unknown", "unknown"),
    ("waived", "waived"),
    ("pass", "supported"),
)
KERNEL_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("fail", "older kernel than pool (fail)"),
    ("warn", "older kernel than pool"),
    ("unknown", "kernel unknown"),
    ("waived", "waived"),
    ("pass", "newest kernel of pool"),
)
SEVERITY_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("critical", "critical"),
    ("high", "high"),
    ("medium", "medium"),
    ("low", "low"),
    ("info", "negligible"),
    ("none", "no open vulnerability"),
    ("unknown", "not scanned or unknown"),
)
SLA_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("fail", "past SLA"),
    ("waived", "waived"),
    ("unknown", "no SLA set"),
    ("pass", "within SLA"),
)
PATCH_CHECKS: tuple[tuple[str, str], ...] = (
    ("control_plane_patch_current", "control plane patch"),
    ("kubelet_patch_current", "kubelet patch"),
    ("container_runtime_patch_current", "container runtime patch"),
)
_MINOR = re.compile(r"v?(\d+)\.(\d+)")
_STATUS_KEY = {s: s.value if s is not Status.ERROR else "unknown" for s in Status}


def _status_key(finding: Finding) -> str:
    return _STATUS_KEY[finding.status]


def _text(evidence: Mapping[str, JSONValue], key: str) -> str:
    value = evidence.get(key)
    return value if isinstance(value, str) else ""


def _int(value: JSONValue) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _version_sort(label: str) -> tuple[int, ...]:
    return tuple(-int(n) for n in re.findall(r"\d+", label)) or (1,)


def _bars(counts: Mapping[str, Counter[str]], order: Sequence[str] | None = None) -> tuple[ChartBar, ...]:
    labels = order if order is not None else sorted(counts)
    return tuple(ChartBar(label, dict(counts[label])) for label in labels if counts.get(label))


def _status_chart(
    chart_id: str,
    title: str,
    findings: Iterable[Finding],
    label: Callable[[Finding], str],
    categories: tuple[tuple[str, str], ...],
    no_data: str,
    sort_versions: bool,
) -> Chart:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for finding in findings:
        name = label(finding)
        counts[name][_status_key(finding)] += 1
    order = sorted(counts, key=lambda k: (k == "unknown", _version_sort(k) if sort_versions else (), k))
    bars = _bars(counts, order)
    return Chart(chart_id, title, "nodes", categories, bars, "" if bars else f"no data: {no_data}")


def _node_findings(findings: Iterable[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check and f.subject.startswith("node/")]


def kubernetes_minor_chart(findings: Sequence[Finding]) -> Chart:
    def label(finding: Finding) -> str:
        raw = _text(finding.evidence, "kubelet") or _text(finding.evidence, "raw")
        match = _MINOR.match(raw)
        return f"{match.group(1)}.{match.group(2)}" if match else "unknown"

    return _status_chart(
        "nodes-by-kubernetes-minor",
        "Nodes by Kubernetes minor and support status",
        _node_findings(findings, "kubelet_version_supported"),
        label,
        STATUS_CATEGORIES,
        "no kubelet support findings (no nodes in the input)",
        sort_versions=True,
    )


def os_release_chart(findings: Sequence[Finding]) -> Chart:
    def label(finding: Finding) -> str:
        product = _text(finding.evidence, "lifecycle_product")
        cycle = _text(finding.evidence, "release_cycle")
        if product and cycle:
            return f"{product} {cycle}"
        return _text(finding.evidence, "os_image") or "unknown"

    return _status_chart(
        "nodes-by-os-release",
        "Nodes by OS release and support status",
        _node_findings(findings, "node_os_supported"),
        label,
        STATUS_CATEGORIES,
        "no node OS findings (no nodes in the input)",
        sort_versions=False,
    )


def kernel_drift_chart(findings: Sequence[Finding]) -> Chart:
    def label(finding: Finding) -> str:
        return _text(finding.evidence, "pool") or "(no pool label)"

    return _status_chart(
        "kernel-drift-per-pool",
        "Kernel drift per node pool",
        _node_findings(findings, "node_kernel_consistent_in_pool"),
        label,
        KERNEL_CATEGORIES,
        "no kernel findings (no nodes in the input)",
        sort_versions=False,
    )


def addon_support_chart(findings: Sequence[Finding]) -> Chart:
    """Add-on workloads by add-on release line and support state (``addon_version_supported``)."""

    def label(finding: Finding) -> str:
        name = _text(finding.evidence, "addon_name") or _text(finding.evidence, "addon") or "unknown add-on"
        cycle = _text(finding.evidence, "release_cycle")
        return f"{name} {cycle}" if cycle else f"{name} (version unknown)"

    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for finding in findings:
        if finding.check == "addon_version_supported" and finding.subject.startswith("addon/"):
            counts[label(finding)][_status_key(finding)] += 1
    bars = _bars(counts, sorted(counts, key=lambda k: (k.endswith("(version unknown)"), k.lower())))
    note = "" if bars else "no data: no recognised cluster add-on in this report (or pods were not in the input)"
    title = "Cluster add-ons by support state"
    return Chart("addons-by-support-state", title, "workloads", STATUS_CATEGORIES, bars, note)


def _severity(value: JSONValue) -> str | None:
    if isinstance(value, str) and value.lower() in {s.value for s in Severity}:
        return value.lower()
    return None


def _open_severities(evidence: Mapping[str, JSONValue]) -> list[str] | None:
    """Severities of the open vulnerabilities an image finding lists; None when it lists none at all."""
    found: list[str] = []
    listed = False
    vulnerabilities = evidence.get("vulnerabilities")
    if isinstance(vulnerabilities, list):
        listed = True
        for item in vulnerabilities:
            if isinstance(item, dict):
                severity = _severity(item.get("severity"))
                found.append(severity or "unknown")
    by_severity = evidence.get("by_severity")
    if isinstance(by_severity, dict):
        listed = True
        found.extend(k for k, n in by_severity.items() if _severity(k) and isinstance(n, int) and n > 0)
    worst = _severity(evidence.get("worst_severity"))
    if worst:
        listed = True
        found.append(worst)
    return found if listed else None


def _is_image_finding(finding: Finding) -> bool:
    return finding.subject.startswith("image/") or "vulnerab" in finding.check


def image_severity_chart(findings: Sequence[Finding]) -> Chart:
    worst: dict[str, str] = {}
    rank = {**{s.value: SEVERITY_RANK[s] + 1 for s in Severity}, "none": 0, "unknown": -1}
    for finding in findings:
        if not _is_image_finding(finding):
            continue
        severities = _open_severities(finding.evidence)
        if severities is None:
            if finding.status is Status.UNKNOWN and "vulnerab" in finding.check:
                worst.setdefault(finding.subject, "unknown")
            continue
        known = [s for s in severities if s != "unknown"]
        key = max(known, key=lambda s: rank[s]) if known else ("none" if not severities else "unknown")
        previous = worst.get(finding.subject)
        if previous is None or rank[key] > rank[previous]:
            worst[finding.subject] = key
    counts = Counter(worst.values())
    bars = tuple(ChartBar(label, {key: counts[key]}) for key, label in SEVERITY_CATEGORIES if counts[key])
    note = "" if bars else "no data: no image scan findings in this report (give scan reports with --scan-report)"
    return Chart(
        "images-by-worst-open-severity",
        "Running images by worst open vulnerability severity",
        "images",
        SEVERITY_CATEGORIES,
        bars,
        note,
    )


def _age(item: Mapping[str, JSONValue]) -> int | None:
    for key in ("age_days", "days_open", "open_days", "clock_days"):
        value = _int(item.get(key))
        if value is not None:
            return value
    return None


def fix_age_chart(findings: Sequence[Finding], sla_days: Mapping[Severity, int], patch_window_days: int) -> Chart:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    oldest: dict[str, int] = {}
    order: list[str] = []
    sla_of: dict[str, int | None] = {}

    def add(label: str, age: int, sla: int | None, waived: bool) -> None:
        if label not in sla_of:
            order.append(label)
            sla_of[label] = sla
        key = "waived" if waived else "unknown" if sla is None else "fail" if age > sla else "pass"
        counts[label][key] += 1
        oldest[label] = max(oldest.get(label, 0), age)

    patch_names = dict(PATCH_CHECKS)
    for finding in findings:
        waived = finding.status is Status.WAIVED
        if finding.check in patch_names:
            age = _int(finding.evidence.get("days_behind"))
            if age is None:
                continue
            window = _int(finding.evidence.get("patch_window_days"))
            add(patch_names[finding.check], age, window if window is not None else patch_window_days, waived)
        elif _is_image_finding(finding):
            vulnerabilities = finding.evidence.get("vulnerabilities")
            for item in vulnerabilities if isinstance(vulnerabilities, list) else ():
                if not isinstance(item, dict):
                    continue
                age = _age(item)
                if age is None or ("fixed_version" in item and item.get("fixed_version") in ("", None)):
                    continue
                severity = _severity(item.get("severity")) or "unknown"
                sla = _int(item.get("sla_days"))
                if sla is None and severity != "unknown":
                    sla = sla_days.get(Severity(severity))
                add(f"image fix: {severity}", age, sla, waived)
    ordered = [label for _, label in PATCH_CHECKS if label in counts]
    ordered += sorted(
        (label for label in order if label.startswith("image fix: ")),
        key=lambda label: -rank_of(label.removeprefix("image fix: ")),
    )
    bars = tuple(
        ChartBar(
            f"{label} (SLA {sla_of[label]} d; oldest {oldest[label]} d)"
            if sla_of[label] is not None
            else f"{label} (no SLA, oldest {oldest[label]} d)",
            dict(counts[label]),
        )
        for label in ordered
    )
    note = "" if bars else "no data: no open patch or fixable vulnerability with a known age in this report"
    return Chart("open-fix-age-vs-sla", "Age of open fixes against the SLA", "fixes", SLA_CATEGORIES, bars, note)


def rank_of(severity: str) -> int:
    try:
        return SEVERITY_RANK[Severity(severity)]
    except ValueError:
        return -1


def compute_charts(
    findings: Sequence[Finding], sla_days: Mapping[Severity, int], patch_window_days: int
) -> tuple[Chart, ...]:
    """Every chart the reports show, in display order."""
    return (
        kubernetes_minor_chart(findings),
        os_release_chart(findings),
        kernel_drift_chart(findings),
        addon_support_chart(findings),
        image_severity_chart(findings),
        fix_age_chart(findings, sla_days, patch_window_days),
    )
