"""The HTML evidence report: header facts, verdicts per PCI item, grouped actions, appendix, size bounds."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser

from patchlevel.model import Chart, Finding, Report, Severity, Status
from patchlevel.render.html import MAX_GROUPS_PER_CHECK, chart_view, render_html
from test_render_reports import demo_report, generated_report, nodes_report


class _Page(HTMLParser):
    """Text, tags and attributes of a page, for assertions that do not depend on layout."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def page(report: Report) -> tuple[str, _Page]:
    html = render_html(report).decode("utf-8")
    parser = _Page()
    parser.feed(html)
    return html, parser


def flat(parser: _Page) -> str:
    return " ".join(" ".join(parser.text).split())


def test_header_names_cluster_version_dates_tool_and_digest() -> None:
    report = dataclasses.replace(demo_report(), evidence_digest="sha256:" + "ab" * 32)
    _, parser = page(report)
    text = flat(parser)
    assert "Cluster demo-cluster" in text
    assert "Kubernetes version v1.25.3 · upstream" in text
    assert "As-of date 2026-11-27" in text
    assert re.search(r"Lifecycle data date 2026-08-22 \(97 days before the as-of date\s*,\s*stale\s*\)", text)
    assert f"Tool version patchlevel {report.tool_version}" in text
    assert "Evidence bundle digest sha256:" + "ab" * 32 in text


def test_no_digest_is_said_not_left_blank() -> None:
    assert "none: the input was not an evidence bundle" in flat(page(demo_report())[1])


def test_self_contained_no_script_no_external_reference() -> None:
    html, parser = page(demo_report())
    tags = {tag for tag, _ in parser.tags}
    assert "script" not in tags and "link" not in tags and "img" not in tags and "iframe" not in tags
    for _, attrs in parser.tags:
        for name, value in attrs.items():
            if name in ("src", "href") and value:
                assert value.startswith("#"), (name, value)
    assert "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html


def test_verdict_per_pci_item_with_cross_references_and_check_meanings() -> None:
    report = demo_report()
    html, parser = page(report)
    text = flat(parser)
    assert re.search(r"FAIL PCI-CG-10\.1: Orchestration tool components are supported and patched", text)
    assert "PCI-CG-10.2:" in text and "PCI-CG-10.3:" in text
    item = html[html.index('id="req-PCI-CG-10.1"') : html.index('id="req-PCI-CG-10.2"')]
    assert "PCI-DSS-6.3.3" in item and "PCI-DSS-12.3.4" in item
    assert "Control plane version is supported" in item
    assert "support calendar" in item  # what the check means


def test_every_requirement_appears_and_unassessed_ones_say_so() -> None:
    report = demo_report()
    html, _ = page(report)
    table = html[html.index('id="requirements"') : html.index('id="charts"')]
    for requirement in report.requirements:
        assert requirement.id in table
    unassessed = dataclasses.replace(report, requirements=(*report.requirements[:1],))
    bare = dataclasses.replace(report.requirements[0], id="PCI-DSS-99.9", checks=())
    text = flat(page(dataclasses.replace(unassessed, requirements=(*unassessed.requirements, bare)))[1])
    assert "PCI-DSS-99.9" in text and "not assessed by patchlevel" in text


def test_waived_findings_are_shown_and_counted_apart_and_waivers_listed() -> None:
    html, parser = page(demo_report())
    text = flat(parser)
    counts = html[html.index('id="counts"') : html.index("</div>", html.index('id="counts"'))]
    assert re.search(r"<b>1</b><span class=\"badge s-waived\">WAIVED</span>", counts)
    waived = html[html.index('id="waived"') : html.index('id="appendix-waivers"')]
    assert "minikube" in waived and "W-OS-1" in waived and "2027-03-31" in waived
    appendix = html[html.index('id="appendix-waivers"') : html.index('id="appendix-policy"')]
    assert "W-RT-1" in appendix and "expired: its findings count again" in appendix
    assert "W-GONE-1" in appendix and "matched no finding" in appendix
    assert "Appendix C: Data sources and inputs" in text and "Appendix D: Method" in text


def test_actions_carry_remediation_and_group_identical_findings() -> None:
    html, _ = page(demo_report())
    actions = html[html.index('id="actions"') : html.index('id="waived"')]
    assert "→ Replace or upgrade the node to a kubelet minor release" in actions
    assert "<strong>3 nodes</strong>: attack-chain-6-control-plane, attack-chain-6-worker, attack-chain-6-worker2" in (
        actions
    )


def test_text_from_the_input_is_escaped() -> None:
    report = demo_report()
    evil = Finding("node_os_supported", Status.FAIL, Severity.HIGH, "node/<script>x</script>", "<img src=x>")
    html = render_html(dataclasses.replace(report, findings=(*report.findings, evil))).decode()
    assert "<script>x" not in html and "<img src=x>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def test_charts_draw_bars_or_say_no_data() -> None:
    report = nodes_report()
    html, _ = page(report)
    charts = html[html.index('id="charts"') : html.index('id="actions"')]
    assert charts.count("<svg") == sum(1 for c in report.charts if c.bars)
    for chart in report.charts:
        assert chart.title in charts
        if not chart.bars:
            assert chart.note.startswith("no data") and chart.note in charts
    os_chart = next(c for c in report.charts if c.id == "nodes-by-os-release")
    assert "Red Hat OpenShift 4.7: 1 nodes unsupported" in charts
    assert os_chart.bars


def test_chart_geometry_is_proportional() -> None:
    from patchlevel.model import ChartBar

    chart = Chart("c", "t", "nodes", (("fail", "bad"), ("pass", "good")), (ChartBar("a", {"fail": 1, "pass": 3}),))
    view = chart_view(chart)
    fail, good = view["rows"][0]["segments"]
    assert good["width"] == 3 * fail["width"]
    assert good["x"] == fail["x"] + fail["width"]
    assert view["legend"] == [("fail", "bad"), ("pass", "good")]


def _huge_report() -> Report:
    """A 5,000-node, 150,000-pod cluster's worth of findings: nodes of many ages, 3,000 distinct images."""
    base = generated_report()
    findings: list[Finding] = []
    node_checks = [c.id for c in base.checks if not c.id.startswith(("image", "fixable", "patched", "running"))]
    for i in range(5000):
        node = f"node/ip-10-{i // 256}-{i % 256}.ec2.internal"
        for n, check in enumerate(node_checks):
            status = (Status.FAIL, Status.WARN, Status.PASS, Status.UNKNOWN)[(i + n) % 4]
            message = f"node registered {i % 400} days ago (policy: 90 days)" if n % 2 else f"kernel 6.1.{i % 50}"
            findings.append(Finding(check, status, Severity.MEDIUM, node, message, {"n": i}, "Roll the node pool."))
    image_checks = [c.id for c in base.checks if c.id not in node_checks]
    for i in range(3000):
        image = f"image/registry.example.com/app-{i:05d}@sha256:{i:064x}"
        for check in image_checks:
            message = f"{i % 17 + 1} fixable critical vulnerabilities open longer than 30 days: CVE-2026-{i:05d}"
            findings.append(Finding(check, Status.FAIL, Severity.CRITICAL, image, message, {}, "Rebuild and redeploy."))
    cluster = dataclasses.replace(base.cluster, nodes=5000, pods=150_000, images=3000)
    return dataclasses.replace(base, findings=tuple(findings), cluster=cluster)


def test_a_5000_node_150000_pod_cluster_stays_under_5_mb() -> None:
    report = _huge_report()
    html = render_html(report)
    assert len(html) <= 5 * 1024 * 1024, len(html)
    text = html.decode()
    assert "more groups" in text  # long lists are capped with counts
    assert text.count('<tr><td><span class="badge') <= (MAX_GROUPS_PER_CHECK + 1) * len(report.checks) * 2
