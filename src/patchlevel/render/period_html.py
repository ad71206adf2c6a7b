"""The period report as one self-contained HTML file: verdicts, time-series charts and the tables behind them.

Rendered from ``templates/period.html.j2`` with autoescape; inline CSS and SVG only (the page's
Content-Security-Policy forbids anything else).  Charts are stacked columns, one per day, merged
into runs where consecutive days have the same values, so a year of daily audits draws a few
hundred rectangles, not thousands; days without evidence are a grey band, never a zero.  This
module arranges what the PeriodReport holds; it judges nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from patchlevel.ledger.report import FleetTable, PeriodReport, Series, period_requirement_results
from patchlevel.model import STATUS_RANK, Status, count_by_status, group_findings
from patchlevel.render.jinja import environment

STATUS_LABELS: Mapping[str, str] = {
    "pass": "PASS",
    "warn": "WARN",
    "fail": "FAIL",
    "unknown": "UNKNOWN",
    "waived": "WAIVED",
    "error": "ERROR",
    "not-assessed": "NOT ASSESSED",
}
MAX_GROUPS = 60  # finding groups listed under "what needs attention"
MAX_SUBJECTS = 15
MAX_POOL_CHARTS = 8

WIDTH = 780
LEFT = 48
RIGHT = 12
TOP = 10
PLOT_HEIGHT = 150
BOTTOM = 34
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _nice(value: int) -> int:
    """A round axis maximum at or above ``value``."""
    if value <= 5:
        return max(1, value)
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return value


def runs(series: Series) -> list[dict[str, Any]]:
    """Consecutive days with equal values, as (first day, last day, values) rows."""
    out: list[dict[str, Any]] = []
    keys = [k for k, _ in series.categories]
    for index, day in enumerate(series.days):
        values = tuple(series.values[k][index] for k in keys)
        if out and out[-1]["values"] == values and out[-1]["end"] == index - 1:
            out[-1]["end"] = index
            out[-1]["last"] = day
        else:
            out.append({"start": index, "end": index, "first": day, "last": day, "values": values})
    return out


def _ticks(days: tuple[date, ...]) -> list[tuple[int, str]]:
    """Index and label of the first day of each month (each quarter over two years)."""
    months = [(i, d) for i, d in enumerate(days) if d.day == 1 or i == 0]
    if len(months) > 24:
        months = [(i, d) for i, d in months if d.month in (1, 4, 7, 10) or i == 0]
    return [
        (i, f"{_MONTHS[d.month - 1]} {d.year}" if d.month == 1 or i == 0 else _MONTHS[d.month - 1]) for i, d in months
    ]


def chart_view(series: Series) -> dict[str, Any]:
    n = max(1, len(series.days))
    plot_width = WIDTH - LEFT - RIGHT
    step = plot_width / n
    totals = [series.total(i) for i in range(len(series.days))]
    top = _nice(max((t for t in totals if t is not None), default=0))
    keys = [k for k, _ in series.categories]
    labels = dict(series.categories)
    rects: list[dict[str, Any]] = []
    table: list[dict[str, Any]] = []
    for run in runs(series):
        x = LEFT + run["start"] * step
        width = (run["end"] - run["start"] + 1) * step
        span = f"{run['first']}" if run["first"] == run["last"] else f"{run['first']} to {run['last']}"
        if all(v is None for v in run["values"]):
            rects.append(
                {
                    "x": round(x, 2),
                    "y": TOP,
                    "width": round(width, 2),
                    "height": PLOT_HEIGHT,
                    "key": "nodata",
                    "title": f"{span}: no audit evidence",
                }
            )
            table.append({"span": span, "values": None})
            continue
        y = TOP + PLOT_HEIGHT
        parts = []
        for key, value in zip(keys, run["values"], strict=True):
            parts.append((labels[key], value or 0))
            if not value:
                continue
            height = PLOT_HEIGHT * value / top
            y -= height
            rects.append(
                {
                    "x": round(x, 2),
                    "y": round(y, 2),
                    "width": round(width, 2),
                    "height": round(height, 2),
                    "key": key,
                    "title": f"{span}: {value} {labels[key]}",
                }
            )
        table.append({"span": span, "values": parts})
    legend = [(k, label) for k, label in series.categories if any(v for v in series.values[k] if v)]
    return {
        "series": series,
        "rects": rects,
        "legend": legend,
        "table": table,
        "width": WIDTH,
        "height": TOP + PLOT_HEIGHT + BOTTOM,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": TOP + PLOT_HEIGHT,
        "y_ticks": [(round(TOP + PLOT_HEIGHT - PLOT_HEIGHT * v / top, 2), v) for v in sorted({0, top // 2, top})],
        "x_ticks": [(round(LEFT + i * step, 2), label) for i, label in _ticks(series.days)],
        "has_gap": any(r["key"] == "nodata" for r in rects),
    }


def view(report: PeriodReport) -> dict[str, Any]:
    results = period_requirement_results(report)
    counts = {s.value: n for s, n in count_by_status(report.findings).items()}
    per_check: dict[str, dict[str, int]] = {}
    for finding in report.findings:
        bucket = per_check.setdefault(finding.check, {})
        bucket[finding.status.value] = bucket.get(finding.status.value, 0) + 1
    groups = [g for g in group_findings(report.findings) if g[0].status is not Status.PASS]
    groups.sort(key=lambda g: (-STATUS_RANK[g[0].status], g[0].check, g[0].subject))
    attention = [
        {
            "finding": finding,
            "size": len(subjects),
            "names": subjects[:MAX_SUBJECTS],
            "more": max(0, len(subjects) - MAX_SUBJECTS),
        }
        for finding, subjects in groups[:MAX_GROUPS]
    ]
    main_series = [s for s in report.series if not s.id.startswith("kernel-rollout")]
    pools = [s for s in report.series if s.id.startswith("kernel-rollout")]
    return {
        "report": report,
        "results": results,
        "checks": {c.id: c for c in report.checks},
        "per_check": per_check,
        "counts": counts,
        "attention": attention,
        "more_groups": max(0, len(groups) - MAX_GROUPS),
        "charts": [chart_view(s) for s in main_series],
        "pool_charts": [chart_view(s) for s in pools[:MAX_POOL_CHARTS]],
        "more_pools": max(0, len(pools) - MAX_POOL_CHARTS),
        "policy_items": sorted(report.policy.items()),
        "labels": STATUS_LABELS,
        "generated": report.generated_at.isoformat().replace("+00:00", "Z"),
    }




def render_period_html(report: PeriodReport) -> bytes:
    return environment().get_template("period.html.j2").render(**view(report)).encode("utf-8")


def render_fleet_html(table: FleetTable) -> bytes:
    assessed = [r for r in table.requirements if r.checks]
    return (
        environment()
        .get_template("period-fleet.html.j2")
        .render(
            table=table,
            assessed=assessed,
            labels=STATUS_LABELS,
            generated=table.generated_at.isoformat().replace("+00:00", "Z"),
        )
        .encode("utf-8")
    )
