"""A real Prometheus (Debian's package) scrapes ``patchlevel serve``; promtool checks the alert rules.

The exporter audits the HTTPS test API server's cluster (tests/kubeapi, the live tests' objects);
Prometheus scrapes it every second, evaluates the alert rules of
deploy/prometheus-operator/prometheusrule.yaml, and its HTTP API must return exactly the series an
in-process audit of the same cluster derives.  The Grafana dashboard's queries run against the
same Prometheus.  Skipped, saying why, without the prometheus/promtool binaries.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import yaml

from kubeapi import Cluster, KubeAPIServer
from patchlevel.audit import AuditConfig, LiveSource
from patchlevel.metrics import ALL_METRICS
from prometheus_harness import (
    JOB,
    PrometheusServer,
    promtool,
    requires_prometheus,
    requires_promtool,
    rule_groups,
    sample_value,
)
from test_live_collect import AS_OF, VERSION, cluster_objects
from test_serve import ServeProcess, expected_series

REPO = Path(__file__).parent.parent
RULES = REPO / "deploy" / "prometheus-operator" / "prometheusrule.yaml"
DASHBOARD = REPO / "deploy" / "grafana" / "patchlevel-dashboard.json"
ALERT_TESTS = Path(__file__).parent / "data" / "prometheus" / "alerts.test.yaml"
EXPORTED = {spec.name for spec in ALL_METRICS}
# Metrics a query may name besides patchlevel's: Prometheus' own target health.
OTHER_METRICS = {"up"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool"}


def write_rules(directory: Path) -> Path:
    path = directory / "rules.yml"
    path.write_text(yaml.safe_dump(rule_groups(RULES), sort_keys=False), encoding="utf-8")
    return path


def rule_expressions() -> list[str]:
    return [rule["expr"] for group in rule_groups(RULES)["groups"] for rule in group["rules"]]


def dashboard_targets() -> list[dict[str, Any]]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [target for panel in dashboard["panels"] for target in panel.get("targets", [])]


def metric_names(expr: str) -> set[str]:
    """Names a PromQL expression selects: identifiers followed by a selector, or standing alone."""
    without_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    without_labels = re.sub(r"\{[^}]*\}", "{}", without_strings)
    without_groupings = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", without_labels)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_groupings):
        after = without_groupings[match.end() :].lstrip()
        if after.startswith("(") or match.group() in PROMQL_WORDS:
            continue  # a function or aggregation
        names.add(match.group())
    return names


# ------------------------------------------------------------------------------------------
# The alert rules and the dashboard, statically


@requires_promtool
def test_promtool_checks_the_alert_rules(tmp_path: Path) -> None:
    done = promtool("check", "rules", str(write_rules(tmp_path)))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 11 rules found" in done.stdout


@requires_promtool
def test_promtool_unit_tests_of_the_alerts_pass(tmp_path: Path) -> None:
    write_rules(tmp_path)
    shutil.copy(ALERT_TESTS, tmp_path / ALERT_TESTS.name)
    done = promtool("test", "rules", ALERT_TESTS.name, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_the_alerts_are_the_ones_the_issue_asks_for() -> None:
    alerts = {rule["alert"]: rule for group in rule_groups(RULES)["groups"] for rule in group["rules"]}
    assert {
        "PatchlevelControlPlaneSupportEndingSoon",  # control plane within 30 days of end of support
        "PatchlevelPatchingRequirementFailing",  # any FAIL on 10.1/10.2/10.3 for more than a day
        "PatchlevelCriticalFixPastWindow",
        "PatchlevelImagesNotScannedRecently",  # scans stale
        "PatchlevelScansStale",
        "PatchlevelExporterDown",
    } <= set(alerts)
    assert alerts["PatchlevelPatchingRequirementFailing"]["for"] == "1d"
    assert "< 30 * 86400" in alerts["PatchlevelControlPlaneSupportEndingSoon"]["expr"]
    for rule in alerts.values():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_metric_names_of_expressions_are_found() -> None:
    assert metric_names('sum by (check) (patchlevel_findings{status="fail"}) > 0') == {"patchlevel_findings"}
    assert metric_names('absent(up{job="x"} == 1)') == {"up"}
    assert metric_names("time() - patchlevel_audit_timestamp_seconds > 36 * 3600") == {
        "patchlevel_audit_timestamp_seconds"
    }


def test_rules_and_dashboard_name_only_exported_metrics() -> None:
    expressions = rule_expressions() + [target["expr"] for target in dashboard_targets()]
    named = set().union(*(metric_names(expr) for expr in expressions))
    assert named - OTHER_METRICS <= EXPORTED, named - OTHER_METRICS - EXPORTED
    assert len(named & EXPORTED) >= 15  # the dashboard shows most of what is exported


def test_the_dashboard_is_a_grafana_dashboard_over_a_chosen_prometheus() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}

    assert dashboard["uid"] == "patchlevel" and dashboard["title"]
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["cluster"]["definition"] == "label_values(patchlevel_cluster_info, cluster)"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"] and panel["title"]
    for target in dashboard_targets():
        assert 'cluster="$cluster"' in target["expr"], target["expr"]


# ------------------------------------------------------------------------------------------
# Prometheus scrapes the exporter


def prometheus_series(prometheus: PrometheusServer) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every patchlevel report series Prometheus holds now, without the target labels."""
    found = prometheus.query('{__name__=~"patchlevel_.+", cluster!=""}')
    return {
        (
            series["metric"]["__name__"],
            frozenset((k, v) for k, v in series["metric"].items() if k not in ("__name__", "job", "instance")),
        ): sample_value(series)
        for series in found
    }


def without_empty_labels(
    series: dict[tuple[str, frozenset[tuple[str, str]]], float],
) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """As Prometheus stores them: a label with an empty value is no label."""
    return {(name, frozenset((k, v) for k, v in labels if v)): value for (name, labels), value in series.items()}


@requires_prometheus
def test_prometheus_scrapes_serve_and_answers_with_the_audits_values(tmp_path: Path) -> None:
    with KubeAPIServer(Cluster(objects=cluster_objects(), version=VERSION)) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        expected = without_empty_labels(expected_series(AuditConfig(as_of=AS_OF), LiveSource(kubeconfig=kubeconfig)))
        failing_10x = failing_patching_requirements(expected)
        assert failing_10x  # the test cluster runs unsupported Kubernetes on unpatched nodes
        args = ["--kubeconfig", str(kubeconfig), "--listen", "127.0.0.1:0", "--as-of", "2026-11-27", "--interval", "1h"]
        with ServeProcess(args, tmp_path) as serve:
            target = serve.url.removeprefix("http://")
            (tmp_path / "prometheus").mkdir()
            with PrometheusServer(tmp_path / "prometheus", [target], [write_rules(tmp_path)]) as prometheus:
                prometheus.wait_for('patchlevel_findings{cluster="test"}', "a scrape of an audit's result")
                scraped = prometheus_series(prometheus)
                exposition = httpx.get(f"{serve.url}/metrics").content  # the result is there: Prometheus saw it
                up = prometheus.query(f'up{{job="{JOB}"}}')
                own = {
                    s["metric"]["__name__"]: sample_value(s)
                    for s in prometheus.query('{__name__=~"patchlevel_.+", cluster=""}')
                    if set(s["metric"]) == {"__name__", "job", "instance"}
                }
                prometheus.wait_until(lambda: _rules_evaluated(prometheus), "every alert rule to be evaluated")
                # Once the scraped values reach the rules, the failing requirements' alerts are pending
                # (for: 1d) and the exporter-down alert, pending before the first scrape, is gone.
                prometheus.wait_until(
                    lambda: (
                        _alerting(prometheus) >= {("PatchlevelPatchingRequirementFailing", r) for r in failing_10x}
                        and not {name for name, _ in _alerting(prometheus)} & {"PatchlevelExporterDown"}
                    ),
                    "the alert rules to see the scraped values",
                )
                rules = prometheus.api("rules")
                alerts = prometheus.query("ALERTS")
                cluster_values = prometheus.api("label/cluster/values", **{"match[]": "patchlevel_cluster_info"})
                dashboard = {
                    t["expr"]: prometheus.query(t["expr"].replace("$cluster", "test")) for t in dashboard_targets()
                }
            code, stderr = serve.stop()

    # The values Prometheus holds are the audit's, series for series.
    timestamp = "patchlevel_audit_timestamp_seconds"  # when the served audit ran, not the in-process one
    assert {k: v for k, v in scraped.items() if k[0] != timestamp} == {
        k: v for k, v in expected.items() if k[0] != timestamp
    }
    assert {k for k in scraped if k[0] == timestamp} == {k for k in expected if k[0] == timestamp}
    labels = frozenset({("cluster", "test"), ("check", "kubelet_version_supported"), ("status", "fail")})
    assert scraped["patchlevel_findings", labels] == expected["patchlevel_findings", labels] > 0
    nodes = frozenset({("cluster", "test"), ("kind", "nodes")})
    assert scraped["patchlevel_cluster_objects", nodes] == 3
    assert [sample_value(s) for s in up] == [1.0]
    assert own["patchlevel_audit_success"] == 1 and own["patchlevel_audit_in_progress"] == 0
    assert own["patchlevel_audit_interval_seconds"] == 3600

    # Every rule evaluates without error; the ones whose condition holds wait out their "for".
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["health"] == "ok", rule
    pending = {(a["metric"]["alertname"], a["metric"].get("requirement", "")) for a in alerts}
    assert {("PatchlevelPatchingRequirementFailing", r) for r in failing_10x} <= pending
    assert {a["metric"]["alertstate"] for a in alerts} == {"pending"}
    assert not {name for name, _ in pending} & {"PatchlevelExporterDown", "PatchlevelAuditStale"}

    # The dashboard's queries run, and its cluster variable finds the cluster.
    assert cluster_values == ["test"]
    empty = {expr for expr, result in dashboard.items() if not result}
    shown = [expr for expr in dashboard if "patchlevel_findings" in expr or "requirement_verdict" in expr]
    assert shown and not empty & set(shown)
    assert not {expr for expr in empty if "patchlevel_result_age_seconds" in expr or "audit_success" in expr}

    # The exporter's exposition passes promtool's lint, and it stops cleanly.
    if shutil.which("promtool"):
        done = promtool("check", "metrics", stdin=exposition)
        assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stdout + done.stderr
    assert code == 0, stderr


def failing_patching_requirements(series: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> set[str]:
    """PCI-CG-10.1/10.2/10.3 requirements with failing findings in these series."""
    return {
        dict(labels)["requirement"]
        for (name, labels), value in series.items()
        if name == "patchlevel_requirement_findings"
        and dict(labels)["status"] == "fail"
        and value > 0
        and re.fullmatch(r"PCI-CG-10\.[123]", dict(labels)["requirement"])
    }


def _alerting(prometheus: PrometheusServer) -> set[tuple[str, str]]:
    return {(a["metric"]["alertname"], a["metric"].get("requirement", "")) for a in prometheus.query("ALERTS")}


def _rules_evaluated(prometheus: PrometheusServer) -> bool:
    groups = prometheus.api("rules")["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    return bool(rules) and all(not rule["lastEvaluation"].startswith("0001-") for rule in rules)
