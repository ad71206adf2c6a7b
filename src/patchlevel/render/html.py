"""The HTML evidence report: one self-contained file an assessor can file and an engineer can act on.

Rendered from a Jinja2 template with autoescape, every value passing ``render.jinja``'s finalize first (control
and invisible format characters from the input made visible: an escape sequence or a right-to-left
override in a node name is shown, not obeyed); inline CSS and SVG only (no script, font, image or
style from anywhere else, which the page's Content-Security-Policy also forbids), readable printed
to PDF.  Identical findings are grouped and long lists capped with counts, so the report of a
5,000-node, 150,000-pod cluster stays a few megabytes at most.  This module arranges what the
Report holds (grouping, chart geometry); it judges nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from patchlevel.model import Chart, Report, Status, requirement_results
from patchlevel.render.groups import (
    ACTION_STATUSES,
    check_counts,
    cross_references,
    grouped_by_check,
    subject_kind,
    subject_names,
)
from patchlevel.render.jinja import environment
from patchlevel.render.vex import vex_rows, vex_summary

GUIDANCE_PREFIX = "PCI SSC Container Guidance"
MAX_GROUPS_PER_CHECK = 25  # rows per check in "what needs action"
MAX_SUBJECTS_PER_GROUP = 20  # names listed per row, then "+N more"
MAX_INPUTS = 100  # input files listed in the appendix
MAX_VEX_ROWS = 200  # vulnerabilities out of the SLA by VEX, listed one by one
STATUS_LABELS: Mapping[str, str] = {
    "pass": "PASS",
    "warn": "WARN",
    "fail": "FAIL",
    "unknown": "UNKNOWN",
    "waived": "WAIVED",
    "error": "ERROR",
    "not-assessed": "NOT ASSESSED",
}

# Chart geometry, in SVG user units.
CHART_WIDTH = 780
LABEL_WIDTH = 320
BAR_AREA = 400
ROW_HEIGHT = 22
BAR_HEIGHT = 14
LABEL_CHARS = 48


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def chart_view(chart: Chart) -> dict[str, Any]:
    """Rows of positioned segments for one stacked horizontal bar chart."""
    largest = max((bar.total for bar in chart.bars), default=0)
    present = {key for bar in chart.bars for key, n in bar.counts.items() if n}
    legend = [(key, label) for key, label in chart.categories if key in present]
    rows = []
    for index, bar in enumerate(chart.bars):
        x = float(LABEL_WIDTH)
        segments = []
        for key, label in chart.categories:
            count = bar.counts.get(key, 0)
            if not count:
                continue
            width = BAR_AREA * count / largest if largest else 0.0
            segments.append({"key": key, "label": label, "count": count, "x": round(x, 2), "width": round(width, 2)})
            x += width
        rows.append(
            {
                "y": index * ROW_HEIGHT,
                "label": bar.label,
                "short": _short(bar.label),
                "total": bar.total,
                "end": round(x, 2),
                "segments": segments,
            }
        )
    return {
        "chart": chart,
        "rows": rows,
        "legend": legend,
        "width": CHART_WIDTH,
        "height": max(1, len(rows)) * ROW_HEIGHT + 4,
        "bar_height": BAR_HEIGHT,
        "label_width": LABEL_WIDTH,
    }


def _group_rows(report: Report, statuses: frozenset[Status] | set[Status]) -> list[dict[str, Any]]:
    out = []
    for check in grouped_by_check(report, statuses, MAX_GROUPS_PER_CHECK):
        rows = []
        for group in check.groups:
            names, more = subject_names(group.subjects, MAX_SUBJECTS_PER_GROUP)
            rows.append(
                {
                    "finding": group.finding,
                    "size": group.size,
                    "kind": subject_kind(group.subjects),
                    "names": names,
                    "more": more,
                }
            )
        out.append({"check": check, "rows": rows})
    return out


def view(report: Report) -> dict[str, Any]:
    results = requirement_results(report)
    per_check = check_counts(report)
    checks = {c.id: c for c in report.checks}
    guidance = []
    for result in results:
        requirement = result.requirement
        if not requirement.framework.startswith(GUIDANCE_PREFIX):
            continue
        guidance.append(
            {
                "result": result,
                "cross_references": cross_references(report, requirement),
                "checks": [
                    {"info": checks.get(c), "id": c, "counts": per_check.get(c, {})} for c in requirement.checks
                ],
            }
        )
    counts = {s.value: 0 for s in Status}
    for finding in report.findings:
        counts[finding.status.value] += 1
    read = [i for i in report.inputs if i.read_as != "ignored"]
    vex = vex_rows(report)
    return {
        "report": report,
        "results": results,
        "guidance": guidance,
        "counts": counts,
        "actions": _group_rows(report, ACTION_STATUSES),
        "waived": _group_rows(report, {Status.WAIVED}),
        "charts": [chart_view(c) for c in report.charts],
        "inputs": report.inputs[:MAX_INPUTS],
        "more_inputs": max(0, len(report.inputs) - MAX_INPUTS),
        "inputs_read": len(read),
        "inputs_ignored": len(report.inputs) - len(read),
        "policy_items": sorted(report.policy.items()),
        "labels": STATUS_LABELS,
        "max_groups": MAX_GROUPS_PER_CHECK,
        "generated": report.generated_at.isoformat().replace("+00:00", "Z"),
        "vex": vex,
        "vex_summary": vex_summary(vex),
        "max_vex": MAX_VEX_ROWS,
    }





def render_html(report: Report) -> bytes:
    template = environment().get_template("report.html.j2")
    return template.render(**view(report)).encode("utf-8")
