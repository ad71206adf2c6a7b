"""Chart series, derived from findings before rendering; absent data says "no data"."""

from __future__ import annotations

from datetime import date

from patchlevel.charts import compute_charts, fix_age_chart, image_severity_chart
from patchlevel.model import Chart, Finding, OpenVulnerability, PatchGap, Severity, Status
from test_render_reports import demo_report, generated_report, nodes_report

SLA = {Severity.CRITICAL: 30, Severity.HIGH: 60}


def bars(chart: Chart) -> dict[str, dict[str, int]]:
    return {b.label: dict(b.counts) for b in chart.bars}


def chart(report_charts: tuple[Chart, ...], chart_id: str) -> Chart:
    return next(c for c in report_charts if c.id == chart_id)


def test_fixture_nodes_by_kubernetes_minor_and_os_release() -> None:
    charts = nodes_report().charts
    minors = bars(chart(charts, "nodes-by-kubernetes-minor"))
    # The fixture's RHCOS node makes the snapshot an OpenShift cluster, so every kubelet is judged by (and
    # labelled with) the OpenShift 4.7 calendar, which ended on 2022-08-24.
    assert minors == {"Red Hat OpenShift 4.7": {"fail": 5}}
    assert sum(sum(c.values()) for c in minors.values()) == nodes_report().cluster.nodes == 5
    releases = bars(chart(charts, "nodes-by-os-release"))
    assert releases["Red Hat OpenShift 4.7"] == {"fail": 1}
    assert releases["Ubuntu 20.04"] == {"warn": 1}
    assert releases["Ubuntu 22.04"] == {"pass": 1}
    assert releases["unknown"] == {"unknown": 2}  # minikube's Buildroot publishes no lifecycle


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
    empty = compute_charts([], SLA)
    assert [c.bars for c in empty] == [()] * len(empty)
    assert all(c.note.startswith("no data: ") for c in empty)


def vuln(vid: str, severity: Severity | None, *, fixed: str | None = "1.2", age: int | None = None,
         sla: int | None = None) -> OpenVulnerability:  # fmt: skip
    return OpenVulnerability(vid, severity, "pkg", "1.0", fixed, age_days=age, sla_days=sla, overdue=False)


def image(subject: str, status: Status, *vulnerabilities: OpenVulnerability, **evidence: object) -> Finding:
    return Finding(
        "fixable_vulnerabilities_patched_in_time", status, Severity.HIGH, subject, "m", evidence,  # type: ignore[arg-type]
        vulnerabilities=vulnerabilities,
    )  # fmt: skip


def test_images_by_worst_open_severity_reads_the_typed_vulnerabilities() -> None:
    findings = [
        image("image/a", Status.FAIL, vuln("CVE-1", Severity.CRITICAL), *(vuln(i, Severity.LOW) for i in "abcd")),
        image("image/b", Status.PASS, vuln("CVE-2", Severity.MEDIUM), vuln("CVE-3", None)),
        image("image/c", Status.PASS),  # a scan with no open vulnerability
        image("image/d", Status.UNKNOWN),  # no usable scan
        image("image/e", Status.WARN, vuln("CVE-4", Severity.HIGH, fixed=None)),
        image("image/f", Status.UNKNOWN, vuln("CVE-5", None)),  # open, but no severity known
        # evidence keys are for people: a finding that only names a severity there is not counted as one
        image("image/g", Status.UNKNOWN, by_severity={"critical": 9}),
    ]
    assert bars(image_severity_chart(findings)) == {
        "critical": {"critical": 1},
        "high": {"high": 1},
        "medium": {"medium": 1},
        "no open vulnerability": {"none": 1},
        "not scanned or unknown": {"unknown": 3},
    }


def test_fix_age_against_sla_per_severity() -> None:
    vulnerabilities = [
        vuln("CVE-1", Severity.CRITICAL, age=45, sla=30),
        vuln("CVE-2", Severity.CRITICAL, age=10, sla=30),
        vuln("CVE-3", Severity.HIGH, age=70),  # SLA from the policy: 60
        vuln("CVE-4", Severity.MEDIUM, age=70),  # not timed
        vuln("CVE-5", Severity.CRITICAL, fixed=None, age=900),  # no fix: no fix age
        vuln("CVE-6", Severity.CRITICAL, age=None, sla=30),  # clock unknown: not charted
    ]
    gap = PatchGap("Kubernetes 1.31", "v1.31.1", "1.31.9", date(2026, 5, 1), 8, "1.31.2", date(2026, 1, 10), 40, 30)
    patch = Finding("kubelet_patch_current", Status.WARN, Severity.MEDIUM, "node/n1", "m", patch=gap)
    result = bars(fix_age_chart([image("image/a", Status.FAIL, *vulnerabilities), patch], SLA))
    assert result == {
        "kubelet patch (SLA 30 d; oldest 40 d)": {"fail": 1},
        "image fix: critical (SLA 30 d; oldest 45 d)": {"fail": 1, "pass": 1},
        "image fix: high (SLA 60 d; oldest 70 d)": {"fail": 1},
        "image fix: medium (no SLA, oldest 70 d)": {"unknown": 1},
    }


def test_a_release_line_of_thousands_of_digits_sorts_without_int() -> None:
    """A hostile kubelet version can make a 5,000-digit line; Python's int() refuses over 4,300 digits."""
    from patchlevel.charts import kubernetes_minor_chart
    from patchlevel.model import Phase, SupportWindow

    def node(name: str, line: str) -> Finding:
        window = SupportWindow("kubernetes", line, Phase.UNKNOWN)
        check = "kubelet_version_supported"
        return Finding(check, Status.UNKNOWN, Severity.MEDIUM, f"node/{name}", "m", support=window)

    huge = "1." + "9" * 5000
    labels = [b.label for b in kubernetes_minor_chart([node("a", "1.31"), node("b", huge), node("c", "1.9")]).bars]
    assert labels == [huge, "1.31", "1.9"]  # newest first; the absurd line ranks above every real one


def test_vulnerabilities_vex_took_out_of_the_sla_are_not_open() -> None:
    import dataclasses

    vexed = dataclasses.replace(vuln("CVE-9", Severity.CRITICAL, age=90, sla=30), vex="not_affected")
    still = vuln("CVE-8", Severity.LOW, age=90)
    findings = [image("image/a", Status.PASS, vexed, still), image("image/b", Status.PASS, vexed)]
    assert bars(image_severity_chart(findings)) == {"low": {"low": 1}, "no open vulnerability": {"none": 1}}
    assert bars(fix_age_chart(findings, SLA)) == {"image fix: low (no SLA, oldest 90 d)": {"unknown": 1}}
