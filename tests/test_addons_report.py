"""The add-on chart and table of the HTML report, drawn from the add-on findings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from addon_pods import DATA, inventory_of, manifest_pods, pod_doc
from builders import knowledge
from patchlevel.charts import addon_support_chart, compute_charts
from patchlevel.evaluate import build_report
from patchlevel.inventory import Inventory
from patchlevel.model import Report
from patchlevel.policy import Policy
from patchlevel.render.html import render_html

AS_OF = date(2026, 12, 7)


def report_of(inventory: Inventory) -> Report:
    return build_report(inventory, knowledge(), Policy(), AS_OF, datetime(2026, 12, 7, 12, tzinfo=UTC))


def kind_and_cilium() -> Inventory:
    kind = json.loads((DATA / "pods-kind-v1.20-kube-system-sonobuoy.json").read_bytes())["items"]
    cilium, owners = manifest_pods("cilium-eks-anywhere-v1.17.8-manifest.yaml")
    unknown = [pod_doc("web", "docker.io/library/nginx:1.27.3")]
    return inventory_of([*kind, *cilium, *unknown], owners, version="v1.20.0")


def test_the_chart_counts_add_on_workloads_by_support_state() -> None:
    report = report_of(kind_and_cilium())
    chart = addon_support_chart(report.findings)
    assert chart.id == "addons-by-support-state" and chart.unit == "workloads"
    assert {bar.label: dict(bar.counts) for bar in chart.bars} == {
        "Cilium 1.17": {"fail": 2},  # the agent DaemonSet and the operator
        "CoreDNS 1.7": {"fail": 1},
        "etcd 3.4": {"fail": 1},
    }
    assert chart in report.charts
    ids = [c.id for c in compute_charts(report.findings, Policy().sla_days)]
    assert ids.index("addons-by-support-state") == ids.index("kernel-drift-per-pool") + 1


def test_the_chart_without_add_ons_says_why() -> None:
    chart = addon_support_chart(report_of(inventory_of([pod_doc("web", "docker.io/library/nginx:1.27.3")])).findings)
    assert chart.bars == () and chart.note.startswith("no data")


def test_the_html_report_lists_each_add_on_workload() -> None:
    html = render_html(report_of(kind_and_cilium())).decode()
    section = html[html.index('<section id="addons">') : html.index('<section id="actions">')]
    assert section.count("<tr><td><strong>") == 4
    assert "kube-system/DaemonSet/cilium" in section and "v1.17.8-0" in section
    assert "Cilium 1.17 reached end of support on 2026-07-29" in section
    assert "nginx" not in section  # an unknown add-on is never listed
    assert 'id="chart-addons-by-support-state"' in html


def test_the_html_table_escapes_what_the_cluster_wrote() -> None:
    hostile = pod_doc(
        "x",
        "quay.io/cilium/cilium:v1.18.4",
        namespace="<script>alert(1)</script>",
        labels={"app.kubernetes.io/name": "cilium", "helm.sh/chart": "cilium-<b>1</b>"},
    )
    html = render_html(report_of(inventory_of([hostile]))).decode()
    section = html[html.index('<section id="addons">') : html.index('<section id="actions">')]
    assert "<script>" not in section and "&lt;script&gt;alert(1)&lt;/script&gt;" in section


def test_without_pods_the_section_says_why() -> None:
    from builders import make_inventory

    html = render_html(report_of(make_inventory("v1.33.4", pods=None))).decode()
    section = html[html.index('<section id="addons">') : html.index('<section id="actions">')]
    assert "pods are not in the input" in section and "<table>" not in section
