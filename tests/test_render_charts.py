"""Chart series, derived from findings before rendering; absent data says "no data"."""

from __future__ import annotations

from patchlevel.charts import compute_charts, fix_age_chart, image_severity_chart
from patchlevel.model import Chart, Finding, Severity, Status
from test_render_reports import demo_report, generated_report, nodes_report

SLA = {Severity.CRITICAL: 30, Severity.HIGH: 60}


def bars(chart: Chart) -> dict[str, dict[str, int]]:
    return {b.label: dict(b.counts) for b in chart.bars}


def chart(report_charts: tuple[Chart, ...], chart_id: str) -> Chart:
    return next(c for c in report_charts if c.id == chart_id)


def test_fixture_nodes_by_kubernetes_minor_and_os_release() -> None:
    charts = nodes_report().charts
    minors = bars(chart(charts, "nodes-by-kubernetes-minor"))
    assert minors["1.25"] == {"fail": 1}  # kind v1.25.3
    assert minors["1.20"] == {"fail": 1}  # OpenShift 4.7 kubelet
    assert sum(sum(c.values()) for c in minors.values()) == nodes_report().cluster.nodes
    releases = bars(chart(charts, "nodes-by-os-release"))
    assert releases["red-hat-openshift 4.7"] == {"fail": 1}
    assert releases["ubuntu 20.04"] == {"warn": 1}
    assert releases["ubuntu 22.04"] == {"pass": 1}


def test_demo_kernel_drift_and_fix_age() -> None:
    charts = demo_report().charts
    assert bars(chart(charts, "kernel-drift-per-pool")) == {"(no pool label)": {"pass": 3, "warn": 1}}
    ages = bars(chart(charts, "open-fix-age-vs-sla"))
    assert ages["control plane patch (SLA 30 d; oldest 1479 d)"] == {"fail": 1}
    assert ages["kubelet patch (SLA 30 d; oldest 1773 d)"] == {"fail": 4}


def test_generated_cluster_pools() -> None:
    report = generated_report()
    pools = bars(chart(report.charts, "kernel-drift-per-pool"))
    assert sum(sum(c.values()) for c in pools.values()) == report.cluster.nodes == 20
    assert len(pools) >= 3


def test_charts_without_data_say_no_data() -> None:
    empty = compute_charts([], SLA, 30)
    assert [c.bars for c in empty] == [()] * 5
    assert all(c.note.startswith("no data: ") for c in empty)


def image(subject: str, status: Status, **evidence: object) -> Finding:
    return Finding("fixable_vulnerabilities_patched_in_time", status, Severity.HIGH, subject, "m", evidence)  # type: ignore[arg-type]


def test_images_by_worst_open_severity_reads_image_evidence() -> None:
    findings = [
        image("image/a", Status.FAIL, by_severity={"critical": 1, "low": 4}),
        image("image/b", Status.PASS, by_severity={"medium": 2, "unknown": 1}),
        image("image/c", Status.PASS, by_severity={}),
        image("image/d", Status.UNKNOWN),
        image("image/e", Status.WARN, vulnerabilities=[{"id": "CVE-1", "severity": "high"}]),
    ]
    assert bars(image_severity_chart(findings)) == {
        "critical": {"critical": 1},
        "high": {"high": 1},
        "medium": {"medium": 1},
        "no open vulnerability": {"none": 1},
        "not scanned or unknown": {"unknown": 1},
    }


def test_fix_age_against_sla_per_severity() -> None:
    vulnerabilities = [
        {"id": "CVE-1", "severity": "critical", "fixed_version": "1.2", "age_days": 45, "sla_days": 30},
        {"id": "CVE-2", "severity": "critical", "fixed_version": "1.2", "age_days": 10, "sla_days": 30},
        {"id": "CVE-3", "severity": "high", "fixed_version": "2", "age_days": 70},
        {"id": "CVE-4", "severity": "medium", "fixed_version": "2", "age_days": 70},
        {"id": "CVE-5", "severity": "critical", "fixed_version": None, "age_days": 900},
    ]
    result = bars(fix_age_chart([image("image/a", Status.FAIL, vulnerabilities=vulnerabilities)], SLA, 30))
    assert result == {
        "image fix: critical (SLA 30 d; oldest 45 d)": {"fail": 1, "pass": 1},
        "image fix: high (SLA 60 d; oldest 70 d)": {"fail": 1},
        "image fix: medium (no SLA, oldest 70 d)": {"unknown": 1},
    }
