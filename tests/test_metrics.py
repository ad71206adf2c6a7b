"""Metric families derived from a Report (patchlevel.metrics) and their text exposition.

Reports are the demo snapshot's (examples/demo-cluster, with the waiver policy of the golden
files), a generated cluster's (tests/cluster_gen.py), and Reports built here with the typed facts
findings carry (support windows, patch gaps, open vulnerabilities) set by hand.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cluster_gen import write_cluster
from patchlevel.metrics import (
    ALL_METRICS,
    DATA_SOURCES,
    MAX_LINES_PER_COMPONENT,
    OTHER,
    OTHER_LINES,
    PATCH_COMPONENTS,
    REPORT_METRICS,
    SEVERITIES,
    STATUSES,
    SUBJECT_COUNTS,
    SUPPORT_COMPONENTS,
    VERDICTS,
    VULNERABILITY_SOURCE_NAMES,
    VULNERABILITY_SOURCES,
    MetricFamily,
    MetricType,
    report_metrics,
    series_bound,
    series_count,
)
from patchlevel.model import (
    ClusterInfo,
    DataSource,
    Finding,
    OpenVulnerability,
    PatchGap,
    Phase,
    Report,
    Severity,
    Status,
    SupportWindow,
    Waiver,
    WaiverOutcome,
    requirement_results,
)
from patchlevel.render import Format, render
from prometheus_harness import promtool, requires_promtool
from test_render_reports import AS_OF, GENERATED_AT, build, demo_report, generated_report


def family(families: tuple[MetricFamily, ...], name: str) -> dict[tuple[str, ...], float]:
    """label values (cluster dropped) -> value, for one family."""
    [found] = [f for f in families if f.name == name]
    return {sample.labels[1:]: sample.value for sample in found.samples}


def finding(
    check: str,
    subject: str,
    status: Status = Status.FAIL,
    *,
    support: SupportWindow | None = None,
    patch: PatchGap | None = None,
    vulnerabilities: tuple[OpenVulnerability, ...] = (),
) -> Finding:
    return Finding(
        check, status, Severity.HIGH, subject, "m", support=support, patch=patch, vulnerabilities=vulnerabilities
    )


def report_of(findings: list[Finding], **changes: object) -> Report:
    """The demo report's frame (checks, requirements, data sources) around these findings."""
    base = demo_report()
    requirements = {f.check: r for f in base.findings for r in [f.requirements]}
    placed = [dataclasses.replace(f, requirements=requirements.get(f.check, ())) for f in findings]
    return dataclasses.replace(base, findings=tuple(placed), waivers=(), warnings=(), **changes)  # type: ignore[arg-type]


def vulnerability(
    cve: str, severity: Severity | None, *, fixed: str | None = "1.2.4", overdue: bool = False, package: str = "openssl"
) -> OpenVulnerability:
    return OpenVulnerability(
        id=cve,
        severity=severity,
        package=package,
        installed_version="1.2.3",
        fixed_version=fixed,
        age_days=40,
        sla_days=30,
        overdue=overdue,
    )


# ------------------------------------------------------------------------------------------
# The metric definitions


def test_metric_names_types_and_labels_follow_prometheus_conventions() -> None:
    names = [spec.name for spec in ALL_METRICS]
    assert len(names) == len(set(names))
    for spec in ALL_METRICS:
        assert re.fullmatch(r"patchlevel_[a-z][a-z0-9_]*", spec.name), spec.name
        assert spec.name.endswith("_total") == (spec.type is MetricType.COUNTER), spec.name
        assert spec.help and "\n" not in spec.help
        assert len(set(spec.labels)) == len(spec.labels)
        assert all(re.fullmatch(r"[a-z][a-z_]*", label) for label in spec.labels)
    for spec in REPORT_METRICS:
        assert spec.labels[0] == "cluster"  # files of several clusters can share a textfile directory


def test_the_checks_metrics_name_are_real_checks() -> None:
    from patchlevel.checks import ALL_CHECKS

    ids = {spec.id for spec in ALL_CHECKS}
    assert set(SUPPORT_COMPONENTS) <= ids
    assert set(PATCH_COMPONENTS) <= ids
    assert set(VULNERABILITY_SOURCES) <= ids
    assert {check for _, check, _, _ in SUBJECT_COUNTS} <= ids
    assert OTHER not in {*SUPPORT_COMPONENTS.values(), *PATCH_COMPONENTS.values(), *VULNERABILITY_SOURCES.values()}


def test_every_report_metric_is_derived_in_the_declared_order() -> None:
    families = report_metrics(demo_report())
    assert [f.spec for f in families] == list(REPORT_METRICS)
    for f in families:
        for sample in f.samples:
            assert len(sample.labels) == len(f.spec.labels)
            assert sample.labels[0] == "demo-cluster"


# ------------------------------------------------------------------------------------------
# The demo snapshot


def test_demo_findings_by_check_and_status_with_every_pair_present() -> None:
    report = demo_report()
    findings = family(report_metrics(report), "patchlevel_findings")
    counts = Counter((f.check, f.status.value) for f in report.findings)

    assert set(findings) == {(c.id, s) for c in report.checks for s in STATUSES}
    for key, value in findings.items():
        assert value == counts[key], key
    assert findings["control_plane_version_supported", "fail"] == 1  # Kubernetes 1.25 is past its end
    assert findings["node_os_supported", "waived"] == 1  # W-OS-1 of the golden policy
    assert sum(findings.values()) == len(report.findings)


def test_demo_requirement_verdicts_are_one_hot_and_match_the_report() -> None:
    report = demo_report()
    families = report_metrics(report)
    verdicts = family(families, "patchlevel_requirement_verdict")
    counts = family(families, "patchlevel_requirement_findings")

    for result in requirement_results(report):
        rid = result.requirement.id
        assert [v for v in VERDICTS if verdicts[rid, v] == 1] == [result.verdict]
        assert sum(verdicts[rid, v] for v in VERDICTS) == 1
        for status in Status:
            assert counts[rid, status.value] == result.counts[status]
    assert verdicts["PCI-CG-10.1", "fail"] == 1
    assert verdicts["PCI-DSS-6.3.2", "not-assessed"] == 1


def test_demo_counts_waivers_data_and_inventory() -> None:
    report = demo_report()
    families = report_metrics(report)

    assert family(families, "patchlevel_cluster_objects") == {("nodes",): 4, ("pods",): 5, ("images",): 3}
    assert family(families, "patchlevel_cluster_info") == {("v1.25.3", "upstream", report.tool_version): 1}
    assert family(families, "patchlevel_audit_timestamp_seconds") == {(): GENERATED_AT.timestamp()}
    assert family(families, "patchlevel_audit_as_of_timestamp_seconds") == {
        (): datetime(2026, 11, 27, tzinfo=UTC).timestamp()
    }
    expiry = family(families, "patchlevel_waiver_expiry_timestamp_seconds")
    assert expiry[("W-OS-1",)] == datetime(2027, 4, 1, tzinfo=UTC).timestamp()  # holds through 2027-03-31
    assert family(families, "patchlevel_waiver_matched_findings") == {("W-OS-1",): 1, ("W-RT-1",): 1, ("W-GONE-1",): 0}
    lifecycle = report.lifecycle
    assert lifecycle is not None
    data = family(families, "patchlevel_data_timestamp_seconds")
    assert data[("lifecycle",)] == datetime.combine(lifecycle.retrieved, datetime.min.time(), UTC).timestamp()
    assert family(families, "patchlevel_data_stale")[("lifecycle",)] == float(lifecycle.stale)
    assert family(families, "patchlevel_report_warnings") == {(): len(report.warnings)}
    # the demo's images have no scan at all: none is shown scanned recently
    assert family(families, "patchlevel_images_without_recent_scan") == {(): 3}


def test_subject_counts_follow_their_checks_verdicts_on_the_demo() -> None:
    report = demo_report()
    families = report_metrics(report)
    for spec, check, statuses, prefix in SUBJECT_COUNTS:
        expected = {f.subject for f in report.findings if f.check == check and f.status in statuses}
        assert family(families, spec.name) == {(): len({s for s in expected if s.startswith(prefix)})}


# ------------------------------------------------------------------------------------------
# Typed facts


EKS_130 = SupportWindow(
    "amazon-eks",
    "1.30",
    Phase.ACTIVE,
    support_ends=AS_OF + timedelta(days=25),
    extended_ends=AS_OF + timedelta(days=390),
)


def test_support_days_remaining_per_component_and_line() -> None:
    ended = SupportWindow("kubernetes", "1.29", Phase.ENDED, support_ends=AS_OF - timedelta(days=10))
    last_day = SupportWindow("containerd", "1.7", Phase.MAINTENANCE, support_ends=AS_OF)
    no_end = SupportWindow("containerd", "2.1", Phase.ACTIVE)
    esm = SupportWindow(
        "ubuntu", "20.04", Phase.EXTENDED, support_ends=date(2025, 5, 31), extended_ends=date(2030, 4, 30)
    )
    report = report_of(
        [
            finding("control_plane_version_supported", "cluster", Status.WARN, support=EKS_130),
            *(finding("kubelet_version_supported", f"node/n{i}", support=ended) for i in range(3)),
            finding("container_runtime_supported", "node/n0", Status.PASS, support=last_day),
            finding("container_runtime_supported", "node/n1", Status.PASS, support=no_end),
            finding("node_os_supported", "node/n2", Status.WARN, support=esm),
            finding("addon_version_supported", "workload/kube-system/coredns", support=ended),
        ]
    )
    families = report_metrics(report)

    day = 86400
    assert family(families, "patchlevel_support_remaining_seconds") == {
        ("control_plane", "amazon-eks", "1.30", "standard"): 25 * day,
        ("control_plane", "amazon-eks", "1.30", "extended"): 390 * day,
        ("kubelet", "kubernetes", "1.29", "standard"): -10 * day,
        ("container_runtime", "containerd", "1.7", "standard"): 0,  # its last day
        ("node_os", "ubuntu", "20.04", "standard"): (date(2025, 5, 31) - AS_OF).days * day,
        ("node_os", "ubuntu", "20.04", "extended"): (date(2030, 4, 30) - AS_OF).days * day,
        ("addon", "kubernetes", "1.29", "standard"): -10 * day,
    }
    assert family(families, "patchlevel_support_subjects") == {
        ("control_plane", "amazon-eks", "1.30", "active"): 1,
        ("kubelet", "kubernetes", "1.29", "ended"): 3,
        ("container_runtime", "containerd", "1.7", "maintenance"): 1,
        ("container_runtime", "containerd", "2.1", "active"): 1,
        ("node_os", "ubuntu", "20.04", "extended"): 1,
        ("addon", "kubernetes", "1.29", "ended"): 1,
    }


def test_a_check_not_in_the_component_tables_is_counted_under_other() -> None:
    # Two checks the tables do not name: one component between them, so no check adds label values.
    gap = PatchGap("etcd 3.5", "3.5.9", "3.5.21", AS_OF, 12, "3.5.10", AS_OF - timedelta(days=90), 90, 30)
    report = report_of(
        [
            finding("etcd_version_supported", "cluster", support=EKS_130),
            finding("image_registry_allowed", "image/a@sha256:1", support=EKS_130, patch=gap),
        ]
    )
    families = report_metrics(report)
    assert set(family(families, "patchlevel_support_remaining_seconds")) == {
        (OTHER, "amazon-eks", "1.30", "standard"),
        (OTHER, "amazon-eks", "1.30", "extended"),
    }
    assert family(families, "patchlevel_support_subjects") == {(OTHER, "amazon-eks", "1.30", "active"): 2}
    assert family(families, "patchlevel_patch_behind_seconds") == {(OTHER, "etcd 3.5"): 90 * 86400}


def test_release_lines_the_data_does_not_know_cannot_add_series() -> None:
    # 5,000 nodes each reporting a different, hostile OS release: one series, no remaining support.
    findings = [
        finding(
            "node_os_supported",
            f"node/n{i}",
            Status.UNKNOWN,
            support=SupportWindow(f'evil"os{i}', f"{i}.0\n}}", Phase.UNKNOWN, support_ends=AS_OF + timedelta(days=i)),
        )
        for i in range(5000)
    ]
    families = report_metrics(report_of(findings))

    assert family(families, "patchlevel_support_subjects") == {("node_os", "", "", "unknown"): 5000}
    assert family(families, "patchlevel_support_remaining_seconds") == {}


def test_patch_gaps_take_the_furthest_behind_subject_of_each_line() -> None:
    def gap(line: str, running: str, behind: int, days: int) -> PatchGap:
        return PatchGap(
            line=line,
            running=running,
            newest="1.31.14",
            newest_released=AS_OF,
            behind=behind,
            first_newer="1.31.9",
            available_since=AS_OF - timedelta(days=days),
            days_behind=days,
            window_days=30,
        )

    report = report_of(
        [
            finding("kubelet_patch_current", "node/a", patch=gap("Kubernetes 1.31", "1.31.8", 6, 200)),
            finding("kubelet_patch_current", "node/b", patch=gap("Kubernetes 1.31", "1.31.12", 2, 45)),
            finding("kubelet_patch_current", "node/c", Status.PASS, patch=gap("Kubernetes 1.32", "1.32.9", 0, 0)),
            finding("control_plane_patch_current", "cluster", patch=gap("Kubernetes 1.31", "1.31.12", 2, 45)),
        ]
    )
    families = report_metrics(report)

    assert family(families, "patchlevel_patch_releases_behind") == {
        ("control_plane", "Kubernetes 1.31"): 2,
        ("kubelet", "Kubernetes 1.31"): 6,
        ("kubelet", "Kubernetes 1.32"): 0,
    }
    assert family(families, "patchlevel_patch_behind_seconds") == {
        ("control_plane", "Kubernetes 1.31"): 45 * 86400,
        ("kubelet", "Kubernetes 1.31"): 200 * 86400,
        ("kubelet", "Kubernetes 1.32"): 0,
    }


def test_vulnerabilities_are_counted_once_by_severity_and_waived_ones_not_at_all() -> None:
    check = "fixable_vulnerabilities_patched_in_time"
    report = report_of(
        [
            finding(
                check,
                "image/a@sha256:1",
                vulnerabilities=(
                    vulnerability("CVE-1", Severity.CRITICAL, overdue=True),
                    vulnerability("CVE-1", Severity.CRITICAL, overdue=True, package="libssl3"),  # another package
                    vulnerability("CVE-2", Severity.HIGH),
                    vulnerability("CVE-3", Severity.CRITICAL, fixed=None),  # no fix: not fixable
                    vulnerability("CVE-4", None, overdue=True),  # severity unknown
                ),
            ),
            # the same image judged by another check: CVE-1 counts once, at the higher severity
            finding(
                "image_free_of_known_exploited_vulnerabilities",
                "image/a@sha256:1",
                vulnerabilities=(vulnerability("CVE-2", Severity.CRITICAL, overdue=True),),
            ),
            finding(
                check, "image/b@sha256:2", vulnerabilities=(vulnerability("CVE-1", Severity.CRITICAL, overdue=True),)
            ),
            finding(
                check,
                "image/c@sha256:3",
                Status.WAIVED,
                vulnerabilities=(vulnerability("CVE-9", Severity.CRITICAL, overdue=True),),
            ),
            # a VEX statement took it out of the SLA: not affected is not open
            finding(
                check,
                "image/d@sha256:4",
                vulnerabilities=(
                    dataclasses.replace(
                        vulnerability("CVE-7", Severity.CRITICAL), vex="not_affected", status=Status.PASS
                    ),
                ),
            ),
        ]
    )
    families = report_metrics(report)

    fixable = family(families, "patchlevel_vulnerabilities_fixable")
    overdue = family(families, "patchlevel_vulnerabilities_overdue")
    # the known sources with every severity; "other" does not appear: CVE-2 counts under image, first seen there
    assert set(fixable) == set(overdue) == {(src, s) for src in VULNERABILITY_SOURCE_NAMES for s in SEVERITIES}
    assert fixable == {**dict.fromkeys(fixable, 0.0), ("image", "critical"): 4, ("image", "unknown"): 1}
    assert overdue == {**dict.fromkeys(overdue, 0.0), ("image", "critical"): 4, ("image", "unknown"): 1}


def test_vulnerabilities_are_counted_by_where_they_run() -> None:
    def critical(package: str, overdue: bool = True) -> tuple[OpenVulnerability, ...]:
        return (vulnerability("CVE-2026-1", Severity.CRITICAL, overdue=overdue, package=package),)

    report = report_of(
        [
            finding("fixable_vulnerabilities_patched_in_time", "image/a@sha256:1", vulnerabilities=critical("openssl")),
            finding("node_os_packages_patched_in_time", "node/a", vulnerabilities=critical("openssl")),
            finding("control_plane_free_of_known_cves", "cluster", vulnerabilities=critical("k8s.io/kubernetes")),
            finding("kubelet_free_of_known_cves", "node/a", vulnerabilities=critical("k8s.io/kubernetes")),
            finding("kubelet_free_of_known_cves", "node/b", vulnerabilities=critical("k8s.io/kubernetes", False)),
            finding("container_runtime_free_of_known_cves", "node/a", vulnerabilities=critical("containerd")),
            finding("addon_free_of_known_cves", "workload/kube-system/coredns", vulnerabilities=critical("coredns")),
            # a check the tables do not name: under "other", which then has every severity too
            finding("image_registry_allowed", "image/b@sha256:2", vulnerabilities=critical("zlib")),
        ]
    )
    families = report_metrics(report)

    fixable = family(families, "patchlevel_vulnerabilities_fixable")
    overdue = family(families, "patchlevel_vulnerabilities_overdue")
    assert (
        set(fixable) == set(overdue) == {(src, s) for src in (*VULNERABILITY_SOURCE_NAMES, OTHER) for s in SEVERITIES}
    )
    assert {key: n for key, n in overdue.items() if n} == {
        ("image", "critical"): 1,
        ("node", "critical"): 1,
        ("kubernetes", "critical"): 2,  # the control plane and node/a's kubelet; node/b's is inside its window
        ("runtime", "critical"): 1,
        ("addon", "critical"): 1,
        (OTHER, "critical"): 1,
    }
    assert fixable["kubernetes", "critical"] == 3


def test_one_vulnerability_seen_by_two_checks_counts_under_the_first_source() -> None:
    same = (vulnerability("CVE-2026-2", Severity.HIGH, overdue=True, package="k8s.io/kubernetes"),)
    report = report_of(
        [
            finding("kubelet_free_of_known_cves", "node/a", vulnerabilities=same),
            finding("node_os_packages_patched_in_time", "node/a", vulnerabilities=same),
        ]
    )
    overdue = family(report_metrics(report), "patchlevel_vulnerabilities_overdue")
    assert {key: n for key, n in overdue.items() if n} == {("kubernetes", "high"): 1}


def test_subject_counts_count_subjects_not_verdicts_of_the_cluster() -> None:
    report = report_of(
        [
            finding("node_not_pending_reboot", "node/a", Status.FAIL),
            finding("node_not_pending_reboot", "node/b", Status.WARN),
            finding("node_not_pending_reboot", "node/c", Status.UNKNOWN),
            finding("node_not_pending_reboot", "node/d", Status.WAIVED),
            finding("node_not_pending_reboot", "cluster", Status.UNKNOWN),
            finding("image_scanned_recently", "image/a@sha256:1", Status.FAIL),
            finding("image_scanned_recently", "image/b@sha256:2", Status.UNKNOWN),
            finding("image_scanned_recently", "image/c@sha256:3", Status.WARN),  # scanned, matched by tag
            finding("image_scanned_recently", "image/d@sha256:4", Status.PASS),
            finding("node_kernel_consistent_in_pool", "node/a", Status.WARN),
            finding("node_kernel_consistent_in_pool", "node/b", Status.PASS),
        ]
    )
    families = report_metrics(report)

    assert family(families, "patchlevel_nodes_pending_reboot") == {(): 2}
    assert family(families, "patchlevel_images_without_recent_scan") == {(): 2}
    assert family(families, "patchlevel_nodes_behind_pool_kernel") == {(): 1}


def test_the_newest_scan_is_a_dated_data_source() -> None:
    scanned = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    families = report_metrics(report_of([], newest_scan=scanned))

    data = family(families, "patchlevel_data_timestamp_seconds")
    assert data[("scans",)] == scanned.timestamp()
    assert ("scans",) not in family(families, "patchlevel_data_stale")
    assert ("scans",) not in family(report_metrics(report_of([])), "patchlevel_data_timestamp_seconds")


# ------------------------------------------------------------------------------------------
# The text exposition (--format prometheus)


def parsed(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for metric in text_string_to_metric_families(text)
        for sample in metric.samples
    }


def expected(families: tuple[MetricFamily, ...]) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (f.name, frozenset(zip(f.spec.labels, sample.labels, strict=True))): sample.value
        for f in families
        for sample in f.samples
    }


def test_the_exposition_holds_exactly_the_derived_series() -> None:
    report = demo_report()
    text = render(report, Format.PROMETHEUS).decode("utf-8")

    assert parsed(text) == expected(report_metrics(report))
    assert "# TYPE patchlevel_findings gauge" in text
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all(
        len(line.rpartition("}")[2].split()) == 1 for line in samples
    )  # no timestamps: the textfile refuses them


def test_external_strings_are_escaped_label_values() -> None:
    hostile = 'prod"}\nfake_metric{a="1"} 1\\'
    report = report_of(
        [
            finding(
                "node_os_supported",
                "node/a",
                support=SupportWindow("ubuntu", '22.04"\n', Phase.ACTIVE, support_ends=AS_OF),
            )
        ],
        cluster=ClusterInfo(hostile, 'v1.31.0"\n', "upstream"),
    )
    text = render(report, Format.PROMETHEUS).decode("utf-8")

    assert parsed(text) == expected(report_metrics(report))
    assert not any(line.startswith("fake_metric") for line in text.splitlines())
    assert {name for name, _ in parsed(text)} <= {spec.name for spec in REPORT_METRICS}


@requires_promtool
@pytest.mark.parametrize("builder", ["demo", "typed-facts"])
def test_promtool_accepts_the_exposition(builder: str) -> None:
    if builder == "demo":
        report = demo_report()
    else:
        report = report_of(
            [
                finding("control_plane_version_supported", "cluster", support=EKS_130),
                finding(
                    "fixable_vulnerabilities_patched_in_time",
                    "image/a@sha256:1",
                    vulnerabilities=(vulnerability("CVE-1", Severity.CRITICAL, overdue=True),),
                ),
            ],
            newest_scan=datetime(2026, 11, 20, tzinfo=UTC),
        )
    done = promtool("check", "metrics", stdin=render(report, Format.PROMETHEUS))

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "" and done.stderr.strip() == ""  # no lint complaint at all


# ------------------------------------------------------------------------------------------
# How many series


def bound_for(report: Report) -> int:
    return series_bound(len(report.checks), len(report.requirements), len(report.waivers))


def registry() -> tuple[int, int]:
    """Checks and requirements in the registry: what every report lists."""
    from patchlevel.checks import ALL_CHECKS
    from patchlevel.frameworks import load_requirements

    return len(ALL_CHECKS), len(load_requirements(c.id for c in ALL_CHECKS))


def exporter_series() -> int:
    """Series ``serve`` adds to a report's: its own (each one set) and the client library's process_*."""
    from prometheus_client.process_collector import ProcessCollector

    from patchlevel.serve import ExporterState

    state = ExporterState(3600.0)
    state.audit_succeeded((), 1.0, incomplete=False)
    state.audit_failed(1.0)
    process = ProcessCollector(registry=None)
    return series_count(state.families()) + sum(len(m.samples) for m in process.collect())


def worst_case_report(waivers: int) -> Report:
    """A report that reaches every series ``series_bound`` counts: every check of the registry with
    every status and more support lines, patch gaps and vulnerabilities than any component or source
    shows one by one, checks the tables do not name among them (counted under "other"), every data
    source, a newest scan, and ``waivers`` waivers."""
    base = demo_report()
    known_phases = [p for p in Phase if p is not Phase.UNKNOWN]
    findings: list[Finding] = []
    for spec in base.checks:
        check = spec.id
        findings += [finding(check, f"node/{check}-{status.value}", status) for status in Status]
        lines = MAX_LINES_PER_COMPONENT + len(known_phases)
        for i in range(lines):
            # the first lines end soonest (shown with both windows); the rest, folded, have every known phase
            phase = Phase.ACTIVE if i < MAX_LINES_PER_COMPONENT else known_phases[i - MAX_LINES_PER_COMPONENT]
            ends = AS_OF + timedelta(days=i)
            window = SupportWindow(f"product-{check}", f"{i}.0", phase, support_ends=ends, extended_ends=ends)
            gap = PatchGap(f"line {i}", f"{i}.0.0", f"{i}.0.9", AS_OF, 9, f"{i}.0.1", AS_OF, i, 30)
            findings.append(finding(check, f"node/{check}-{i}", support=window, patch=gap))
        unknown_line = SupportWindow("?", "?", Phase.UNKNOWN)
        findings.append(finding(check, f"node/{check}-unknown", Status.UNKNOWN, support=unknown_line))
        open_ones = tuple(
            vulnerability(f"CVE-2026-{i}", Severity(s) if s != "unknown" else None, overdue=True)
            for i, s in enumerate(SEVERITIES)
        )
        findings.append(finding(check, f"image/{check}@sha256:1", vulnerabilities=open_ones))
    sources = tuple(
        DataSource(name, name, AS_OF - timedelta(days=i), i, stale=i % 2 == 0) for i, name in enumerate(DATA_SOURCES)
    )
    outcomes = tuple(
        WaiverOutcome(Waiver("node_os_supported", f"node/w{i}", "r", "o", AS_OF, id=f"W-{i}"), i, False)
        for i in range(waivers)
    )
    placed = report_of(findings, data_sources=sources, newest_scan=GENERATED_AT)
    return dataclasses.replace(placed, waivers=outcomes)


def test_a_worst_case_report_reaches_the_bound_exactly() -> None:
    checks, requirements = registry()
    for waivers in (0, 3):
        report = worst_case_report(waivers)
        assert (len(report.checks), len(report.requirements)) == (checks, requirements)  # the registry, all of it
        families = report_metrics(report)
        # every label value from the tables (and "other") is there, and every data source
        assert {k[0] for k in family(families, "patchlevel_support_subjects")} == {*SUPPORT_COMPONENTS.values(), OTHER}
        assert {k[0] for k in family(families, "patchlevel_patch_behind_seconds")} == {
            *PATCH_COMPONENTS.values(),
            OTHER,
        }
        assert {k[0] for k in family(families, "patchlevel_vulnerabilities_overdue")} == {
            *VULNERABILITY_SOURCES.values(),
            OTHER,
        }
        assert set(family(families, "patchlevel_data_timestamp_seconds")) == {(s,) for s in (*DATA_SOURCES, "scans")}

        assert series_count(families) == series_bound(checks, requirements, waivers)


def test_the_data_sources_are_every_one_a_report_can_name() -> None:
    import gzip

    from patchlevel.evaluate import data_sources
    from patchlevel.knowledge import load_knowledge
    from patchlevel.lifecycle.catalog import BUNDLED_DATA, load_catalog
    from patchlevel.policy import Policy

    with tempfile.TemporaryDirectory() as tmp:  # the bundled data and an EPSS file, as lifecycle update writes
        data = Path(tmp) / "data"
        shutil.copytree(BUNDLED_DATA, data)
        (data / "epss").mkdir(exist_ok=True)
        body = (
            "#model_version:v2025.03.14,score_date:2026-11-20T12:55:00Z\ncve,epss,percentile\nCVE-2021-44228,0.9,0.99\n"
        )
        (data / "epss" / "epss_scores-2026-11-20.csv.gz").write_bytes(gzip.compress(body.encode()))
        everything = load_knowledge(load_catalog(data))
    named = tuple(source.name for source in data_sources(everything, Policy(), AS_OF))
    assert named == DATA_SOURCES


def test_the_readme_metrics_table_is_the_metric_definitions() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8").splitlines()
    rows = [line for line in readme if line.startswith("| `patchlevel_")]
    assert rows == [
        f"| `{spec.name}` | {spec.type.value} | {', '.join(f'`{label}`' for label in spec.labels) or 'none'} "
        f"| {spec.help} |"
        for spec in ALL_METRICS
    ]


def test_the_readme_states_the_bound_of_the_registry() -> None:
    # README, metrics section "How many series": its figures are the code's, for today's registry.
    text = " ".join((Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8").split())
    checks, requirements = registry()
    bound = series_bound(checks, requirements)

    def figure(pattern: str) -> int:
        found = re.search(pattern, text, re.IGNORECASE)
        assert found, f"README.md does not say {pattern!r}"
        return int(found.group(1).replace(",", ""))

    assert figure(r"with today's (\d+) checks") == checks
    assert figure(r"checks and (\d+) requirements") == requirements
    assert figure(r"\*\*at most ([\d,]+) report series, plus 2 per waiver\*\*") == bound
    assert figure(r"adds (\d+) of its own and 6 `process_\*`") + 6 == exporter_series()
    assert figure(r"\*\*at most ([\d,]+) per exporter\*\*") == bound + exporter_series()


def test_release_lines_past_the_cap_are_counted_together() -> None:
    def window(i: int) -> SupportWindow:
        return SupportWindow("ingress-nginx", f"1.{i}", Phase.ENDED, support_ends=AS_OF - timedelta(days=i))

    def gap(i: int) -> PatchGap:
        return PatchGap(
            line=f"ingress-nginx 1.{i}",
            running=f"1.{i}.0",
            newest=f"1.{i}.9",
            newest_released=AS_OF,
            behind=9,
            first_newer=f"1.{i}.1",
            available_since=AS_OF - timedelta(days=i),
            days_behind=i,
            window_days=30,
        )

    lines = 100
    findings = [finding("addon_version_supported", f"addon/a{i}", support=window(i)) for i in range(lines)]
    findings += [finding("addon_patch_current", f"addon/a{i}", patch=gap(i)) for i in range(lines)]
    families = report_metrics(report_of(findings))

    subjects = family(families, "patchlevel_support_subjects")
    assert len(subjects) == MAX_LINES_PER_COMPONENT + 1
    assert subjects[("addon", "", OTHER_LINES, "ended")] == lines - MAX_LINES_PER_COMPONENT
    remaining = family(families, "patchlevel_support_remaining_seconds")
    # the lines whose support ended first are the ones shown
    assert {labels[2] for labels in remaining} == {f"1.{i}" for i in range(lines - MAX_LINES_PER_COMPONENT, lines)}
    behind = family(families, "patchlevel_patch_behind_seconds")
    assert len(behind) == MAX_LINES_PER_COMPONENT + 1
    assert (
        behind[("addon", OTHER_LINES)] == (lines - MAX_LINES_PER_COMPONENT - 1) * 86400
    )  # the most behind of the rest
    assert behind[("addon", f"ingress-nginx 1.{lines - 1}")] == (lines - 1) * 86400
    assert series_count(families) <= bound_for(report_of(findings))


def test_the_bound_holds_and_does_not_grow_with_subjects() -> None:
    def rich(nodes: int) -> Report:
        lines = [
            SupportWindow("kubernetes", f"1.{20 + i % 12}", Phase.ACTIVE, support_ends=AS_OF, extended_ends=AS_OF)
            for i in range(nodes)
        ]
        gaps = [
            PatchGap(
                line=f"Kubernetes 1.{20 + i % 12}",
                running="x",
                newest="y",
                newest_released=AS_OF,
                behind=1,
                first_newer="z",
                available_since=AS_OF,
                days_behind=9,
                window_days=30,
            )
            for i in range(nodes)
        ]
        return report_of(
            [
                f
                for i in range(nodes)
                for f in (
                    finding("kubelet_version_supported", f"node/n{i}", support=lines[i]),
                    finding("kubelet_patch_current", f"node/n{i}", patch=gaps[i]),
                    finding(
                        "fixable_vulnerabilities_patched_in_time",
                        f"image/i{i}@sha256:{i}",
                        vulnerabilities=tuple(vulnerability(f"CVE-{i}-{j}", Severity.HIGH) for j in range(5)),
                    ),
                )
            ]
        )

    small, large = rich(50), rich(5000)
    assert series_count(report_metrics(small)) == series_count(report_metrics(large))
    assert series_count(report_metrics(large)) <= bound_for(large)
    assert series_count(report_metrics(demo_report())) <= bound_for(demo_report())
    assert bound_for(large) == series_bound(*registry())  # what the README states


def test_series_of_a_generated_cluster_stay_under_the_bound() -> None:
    report = generated_report()
    count = series_count(report_metrics(report))
    assert count <= bound_for(report)


@pytest.mark.slow
def test_series_of_a_5000_node_cluster(tmp_path: Path) -> None:
    report = build(write_cluster(tmp_path, nodes=5000, pods=15_000, images=400))
    families = report_metrics(report)
    count = series_count(families)

    print(f"5,000 nodes, 15,000 pods, {report.cluster.images} images: {count} report series")
    assert report.cluster.nodes == 5000
    assert count <= bound_for(report) == series_bound(*registry())


# ------------------------------------------------------------------------------------------
# From the command line


def test_audit_writes_the_exposition_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    from patchlevel.cli import main

    assert main(["audit", "examples/demo-cluster", "--as-of", "2026-11-27", "--format", "prometheus"]) == 1
    text = capsys.readouterr().out
    assert 'patchlevel_cluster_info{cluster="demo-cluster"' in text
    assert {name for name, _ in parsed(text)} == {spec.name for spec in REPORT_METRICS} - {
        "patchlevel_waiver_expiry_timestamp_seconds",  # no policy, no waiver
        "patchlevel_waiver_matched_findings",
    }


def test_every_context_gets_its_own_prom_file_for_the_textfile_collector(tmp_path: Path) -> None:
    from kubeapi import Cluster, KubeAPIServer
    from patchlevel.cli import main
    from test_live_collect import VERSION, cluster_objects

    out = tmp_path / "textfile"
    with KubeAPIServer(Cluster(objects=cluster_objects(), version=VERSION)) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig", context="prod-eu")
        argv = ["audit", "--kubeconfig", str(kubeconfig), "--all-contexts", "--format", "prometheus"]
        code = main([*argv, "--fail-on", "never", "--as-of", "2026-11-27", "-o", str(out)])

    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["fleet-summary.json", "prod-eu.prom"]
    series = parsed((out / "prod-eu.prom").read_text(encoding="utf-8"))
    assert {dict(labels)["cluster"] for _, labels in series} == {"prod-eu"}
