"""Period report renderers: every format, the JSON against its schema, OSCAL against NIST's, text stays text."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from ledger_scenario import END, GAP, START, build_ledger
from patchlevel.ledger.report import FleetRow, FleetTable, PeriodReport
from patchlevel.ledger.run import period_report
from patchlevel.model import Finding, Severity, Status
from patchlevel.policy import Policy
from patchlevel.render.period_formats import (
    FLEET_RENDERERS,
    PERIOD_EXTENSIONS,
    PERIOD_RENDERERS,
    PeriodFormat,
    render_period,
)
from patchlevel.render.period_html import chart_view, runs
from patchlevel.render.period_json import period_document
from test_render_oscal import errors as oscal_errors

GENERATED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> | **bold** [link](http://x)'


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> PeriodReport:
    root = tmp_path_factory.mktemp("render")
    url = f"sqlite:///{root / 'ledger.db'}"
    build_ledger(url, root)
    return period_report(url, None, START, END, policy=Policy(), generated_at=GENERATED)


def hostile(report: PeriodReport) -> PeriodReport:
    finding = Finding(
        check="images_scanned_throughout_period",
        status=Status.FAIL,
        severity=Severity.HIGH,
        subject=f"image/{HOSTILE}",
        message=f"message {HOSTILE}",
        evidence={"raw": HOSTILE},
        remediation=f"fix {HOSTILE}",
        requirements=("PCI-CG-10.3",),
    )
    return dataclasses.replace(report, cluster_name=HOSTILE, findings=(*report.findings, finding))


def test_every_format_has_a_renderer_and_an_extension() -> None:
    assert set(PERIOD_RENDERERS) == set(PeriodFormat) == set(PERIOD_EXTENSIONS) == set(FLEET_RENDERERS)
    assert len(set(PERIOD_EXTENSIONS.values())) == len(PeriodFormat)


@pytest.mark.parametrize("fmt", list(PeriodFormat))
def test_every_format_renders_the_period_and_the_gap(report: PeriodReport, fmt: PeriodFormat) -> None:
    text = render_period(report, fmt).decode("utf-8")
    assert "2026-01-01" in text and "2026-03-31" in text
    assert GAP[0].isoformat() in text


def _schema() -> dict[str, Any]:
    text = (resources.files("patchlevel") / "schemas" / "period-report.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def test_the_json_report_validates_against_its_schema(report: PeriodReport) -> None:
    Draft202012Validator.check_schema(_schema())
    document = json.loads(render_period(report, PeriodFormat.JSON))
    errors = list(Draft202012Validator(_schema(), format_checker=FormatChecker()).iter_errors(document))
    assert errors == []
    assert document["period"] == {"start": "2026-01-01", "end": "2026-03-31", "days": 90}
    assert document["evidence"]["gaps"][0]["first"] == GAP[0].isoformat()
    for series in document["series"]:
        assert len(series["days"]) == 90
        for values in series["values"].values():
            assert len(values) == 90 and values[(GAP[0] - START).days] is None
    verdicts = {r["id"]: r["verdict"] for r in document["summary"]["requirements"]}
    assert verdicts["PCI-CG-10.3"] == "fail" and verdicts["PCI-CG-3.2"] == "not-assessed"


def test_the_schema_rejects_an_unknown_status(report: PeriodReport) -> None:
    document = period_document(report)
    document["findings"][0]["status"] = "passed"
    assert list(Draft202012Validator(_schema()).iter_errors(json.loads(json.dumps(document, default=str))))


def test_oscal_is_valid_and_spans_the_period(report: PeriodReport) -> None:
    document = json.loads(render_period(report, PeriodFormat.OSCAL))
    assert oscal_errors(document) == []
    result = document["assessment-results"]["results"][0]
    assert (result["start"], result["end"]) == ("2026-01-01T00:00:00Z", "2026-03-31T23:59:59Z")
    targets = {f["target"]["target-id"]: f["target"]["status"]["state"] for f in result["findings"]}
    assert targets["PCI-CG-10.3"] == "not-satisfied"
    assert any("No audit evidence from 2026-02-10" in o["title"] for o in result["observations"])
    assert render_period(report, PeriodFormat.OSCAL) == render_period(report, PeriodFormat.OSCAL)


def test_oscal_stays_valid_with_hostile_text(report: PeriodReport) -> None:
    assert oscal_errors(json.loads(render_period(hostile(report), PeriodFormat.OSCAL))) == []


def test_html_escapes_every_external_string(report: PeriodReport) -> None:
    html = render_period(hostile(report), PeriodFormat.HTML).decode("utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "default-src 'none'" in html


def test_html_shows_control_characters_from_the_input_instead_of_passing_them_on(report: PeriodReport) -> None:
    node = dataclasses.replace(hostile(report), cluster_name="prod\x1b[2J\u202eevil")
    html = render_period(node, PeriodFormat.HTML).decode("utf-8")
    assert "\x1b" not in html and "\u202e" not in html
    assert "prod\\x1b[2J\\u202eevil" in html


def test_markdown_keeps_external_text_inert(report: PeriodReport) -> None:
    text = render_period(hostile(report), PeriodFormat.MARKDOWN).decode("utf-8")
    assert "<script>" not in text and "\\<script\\>" in text
    assert "\\*\\*bold\\*\\*" in text and "\\[link\\]" in text


def test_the_html_charts_draw_runs_not_days_and_leave_the_gap_grey(report: PeriodReport) -> None:
    coverage = next(s for s in report.series if s.id == "scan-coverage")
    assert len(runs(coverage)) < 10 < len(coverage.days)
    view = chart_view(coverage)
    grey = [r for r in view["rects"] if r["key"] == "nodata"]
    assert len(grey) == 1 and "no audit evidence" in grey[0]["title"]
    assert any(row["values"] is None for row in view["table"])


def test_the_fleet_table_has_a_column_per_assessed_requirement(report: PeriodReport, tmp_path: Path) -> None:
    table = FleetTable(
        START,
        END,
        GENERATED,
        report.requirements,
        (
            FleetRow("prod-eu", "uid:1", {"PCI-CG-10.1": "pass", "PCI-CG-10.3": "fail"}, 30, 0, {"pass": 3}),
            FleetRow(HOSTILE, "name:x", {}, 0, 0, {}, error="ledger says no"),
        ),
    )
    markdown = FLEET_RENDERERS[PeriodFormat.MARKDOWN](table).decode()
    header = markdown.splitlines()[2]
    assert "PCI-CG-10.1" in header and "PCI-CG-3.2" not in header
    assert "| prod-eu | 30 | 0 | PASS |" in markdown and "ledger says no" in markdown
    html = FLEET_RENDERERS[PeriodFormat.HTML](table).decode()
    assert "<script>" not in html and "prod-eu" in html
    document = json.loads(FLEET_RENDERERS[PeriodFormat.JSON](table))
    assert document["clusters"][0]["verdicts"]["PCI-CG-10.3"] == "fail"
    assert document["clusters"][1]["error"] == "ledger says no"
