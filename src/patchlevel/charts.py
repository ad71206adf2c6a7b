"""Chart series for reports, derived from findings before rendering (renderers only draw them).

Every chart reads the typed facts findings carry (``support``, ``patch``, ``vulnerabilities``,
``node_pool``: see ``patchlevel.model``), never evidence keys, so a chart and the findings beside it
can never disagree.  A chart whose data is absent has no bars and a note saying "no data" and why.

- nodes by Kubernetes release line and support status: ``kubelet_version_supported``
- nodes by OS release and support status: ``node_os_supported``
- kernel drift per pool: ``node_kernel_consistent_in_pool`` (its findings' node pool)
- add-on workloads by release line and support state: ``addon_version_supported``
- running images by worst open severity: ``fixable_vulnerabilities_patched_in_time`` (the open
  vulnerabilities of each image's scan; no scan evidence is "unknown")
- age of open fixes against the SLA: ``*_patch_current`` findings behind a newer patch (days behind
  against the patch window) and open image vulnerabilities with a fix (age against their SLA)
- nodes patched on disk but not running it, per pool: ``node_running_installed_kernel`` (its findings'
  node pool and status; a newer kernel installed and not booted is its WARN or FAIL)
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence

from patchlevel.model import SEVERITY_RANK, Chart, ChartBar, Finding, Severity, Status
from patchlevel.versions import release_key

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
INSTALLED_KERNEL_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("fail", "newer kernel on disk, not booted past the policy"),
    ("warn", "newer kernel on disk, not booted"),
    ("unknown", "unknown"),
    ("waived", "waived"),
    ("pass", "runs the newest installed kernel"),
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
_STATUS_KEY = {s: s.value if s is not Status.ERROR else "unknown" for s in Status}


def _status_key(finding: Finding) -> str:
    return _STATUS_KEY[finding.status]


def _version_sort(label: str) -> tuple[int, ...]:
    """Newest first: negated version order (never int() on a digit run from input: it may be 5,000 digits)."""
    key = release_key(label)
    return tuple(-n for n in key) if key else (1,)


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


def _release_label(finding: Finding, plain_product: str = "") -> str:
    """"1.31" for the plain product (upstream Kubernetes), else "Amazon EKS 1.31"; "unknown" without a line."""
    support = finding.support
    if support is None or not support.line:
        return "unknown"
    if support.product == plain_product:
        return support.line
    return f"{support.label or support.product} {support.line}"


def kubernetes_minor_chart(findings: Sequence[Finding]) -> Chart:
    def label(finding: Finding) -> str:
        return _release_label(finding, plain_product="kubernetes")

    return _status_chart(
        "nodes-by-kubernetes-minor",
        "Nodes by Kubernetes release line and support status",
        _node_findings(findings, "kubelet_version_supported"),
        label,
        STATUS_CATEGORIES,
        "no kubelet support findings (no nodes in the input)",
        sort_versions=True,
    )


def os_release_chart(findings: Sequence[Finding]) -> Chart:
    def label(finding: Finding) -> str:
        return _release_label(finding)

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
        return finding.node_pool or "(no pool label)"

    return _status_chart(
        "kernel-drift-per-pool",
        "Kernel drift per node pool",
        _node_findings(findings, "node_kernel_consistent_in_pool"),
        label,
        KERNEL_CATEGORIES,
        "no kernel findings (no nodes in the input)",
        sort_versions=False,
    )


def installed_kernel_chart(findings: Sequence[Finding]) -> Chart:
    """Per node pool: nodes that run the newest kernel on their disk, and nodes patched on disk but not running it."""

    def label(finding: Finding) -> str:
        return finding.node_pool or "(no pool label)"

    return _status_chart(
        "installed-kernel-not-running-per-pool",
        "Nodes patched on disk but not running it, per pool",
        _node_findings(findings, "node_running_installed_kernel"),
        label,
        INSTALLED_KERNEL_CATEGORIES,
        "no per-node host evidence (give host scans of the nodes with --node-scan)",
        sort_versions=False,
    )


def addon_support_chart(findings: Sequence[Finding]) -> Chart:
    """Add-on workloads by add-on release line and support state (``addon_version_supported``)."""

    def label(finding: Finding) -> str:
        support = finding.support
        if support is None:
            return "unknown add-on (version unknown)"
        name = support.label or support.product
        return f"{name} {support.line}" if support.line else f"{name} (version unknown)"

    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for finding in findings:
        if finding.check == "addon_version_supported" and finding.subject.startswith("addon/"):
            counts[label(finding)][_status_key(finding)] += 1
    bars = _bars(counts, sorted(counts, key=lambda k: (k.endswith("(version unknown)"), k.lower())))
    note = "" if bars else "no data: no recognised cluster add-on in this report (or pods were not in the input)"
    title = "Cluster add-ons by support state"
    return Chart("addons-by-support-state", title, "workloads", STATUS_CATEGORIES, bars, note)


VULNERABILITY_CHECK = "fixable_vulnerabilities_patched_in_time"


def image_severity_chart(findings: Sequence[Finding]) -> Chart:
    """Each running image once, by the worst severity open in its scan ("unknown": no usable scan)."""
    rank = {**{s.value: SEVERITY_RANK[s] + 1 for s in Severity}, "none": 0, "unknown": -1}
    worst: dict[str, str] = {}
    for finding in findings:
        if finding.check != VULNERABILITY_CHECK or not finding.subject.startswith("image/"):
            continue
        still_open = [v for v in finding.vulnerabilities if v.is_open]  # VEX: not affected, or fixed
        severities = [v.severity.value for v in still_open if v.severity is not None]
        if severities:
            key = max(severities, key=lambda s: rank[s])
        elif still_open:
            key = "unknown"  # open vulnerabilities, none with a severity
        else:
            key = "none" if finding.status in (Status.PASS, Status.WAIVED) else "unknown"
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


def fix_age_chart(findings: Sequence[Finding], sla_days: Mapping[Severity, int]) -> Chart:
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
            if finding.patch is not None:
                add(patch_names[finding.check], finding.patch.days_behind, finding.patch.window_days, waived)
        elif finding.check == VULNERABILITY_CHECK:
            for v in finding.vulnerabilities:
                if v.age_days is None or not v.fixed_version or not v.is_open:
                    continue
                severity = v.severity.value if v.severity is not None else "unknown"
                sla = v.sla_days if v.sla_days is not None else sla_days.get(v.severity) if v.severity else None
                add(f"image fix: {severity}", v.age_days, sla, waived)
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


def compute_charts(findings: Sequence[Finding], sla_days: Mapping[Severity, int]) -> tuple[Chart, ...]:
    """Every chart the reports show, in display order."""
    return (
        kubernetes_minor_chart(findings),
        os_release_chart(findings),
        kernel_drift_chart(findings),
        addon_support_chart(findings),
        image_severity_chart(findings),
        fix_age_chart(findings, sla_days),
        installed_kernel_chart(findings),
    )
