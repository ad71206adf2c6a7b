"""OSCAL assessment-results: valid against the official 1.1.2 JSON schema, and saying what the report says.

The schema's patterns use ``\\p{L}``/``\\p{N}``, which Python's ``re`` rejects, so the validator uses
the ``regex`` module for the ``pattern`` keyword and the ``regex`` format.  The two official NIST
example documents must validate too: that proves the validator setup, not only our output.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import regex

from patchlevel.model import Report, requirement_results
from patchlevel.render.oscal import render_oscal
from test_render_reports import DATA, demo_report, generated_report, nodes_report

SCHEMAS = DATA / "schemas"
SCHEMA = SCHEMAS / "oscal-1.1.2-assessment-results.schema.json"
EXAMPLES = [SCHEMAS / "oscal-1.1.2-ar-example.json", SCHEMAS / "oscal-1.1.2-ar-example-min.json"]


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if isinstance(instance, str) and regex.search(pattern, instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text())
    checker = jsonschema.FormatChecker()

    @checker.checks("regex", raises=regex.error)
    def _regex(value: object) -> bool:
        return not isinstance(value, str) or regex.compile(value) is not None

    cls = jsonschema.validators.extend(jsonschema.Draft7Validator, {"pattern": _pattern})
    meta = jsonschema.Draft7Validator(jsonschema.Draft7Validator.META_SCHEMA, format_checker=checker)
    meta.validate(schema)  # the schema itself is valid draft-07 once \p{..} patterns are understood
    return cls(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def errors(document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(document)]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_official_examples_validate(path: Path) -> None:
    assert errors(json.loads(path.read_text())) == []


def test_validator_rejects_what_only_the_unicode_token_pattern_catches() -> None:
    document = json.loads(EXAMPLES[0].read_text())
    document["assessment-results"]["metadata"]["roles"][0]["id"] = "bad id!"
    assert len(errors(document)) == 1
    del document["assessment-results"]["results"]
    assert len(errors(document)) == 2


@pytest.mark.parametrize("builder", [demo_report, nodes_report, generated_report], ids=["demo", "nodes", "generated"])
def test_rendered_documents_validate(builder: Any) -> None:
    document = json.loads(render_oscal(builder()))
    assert errors(document) == []


def _result(report: Report) -> dict[str, Any]:
    document = json.loads(render_oscal(report))
    assert document["assessment-results"]["metadata"]["oscal-version"] == "1.1.2"
    results = document["assessment-results"]["results"]
    assert len(results) == 1
    result: dict[str, Any] = results[0]
    return result


def test_one_finding_per_requirement_with_its_verdict() -> None:
    report = demo_report()
    result = _result(report)
    controls = [c["control-id"] for c in result["reviewed-controls"]["control-selections"][0]["include-controls"]]
    assert controls == [r.id for r in report.requirements]
    findings = {f["target"]["target-id"]: f for f in result["findings"]}
    assert list(findings) == [r.id for r in report.requirements]
    for outcome in requirement_results(report):
        finding = findings[outcome.requirement.id]
        verdict = next(p["value"] for p in finding["props"] if p["name"] == "verdict")
        assert verdict == outcome.verdict
        state = finding["target"]["status"]["state"]
        assert state == ("satisfied" if outcome.verdict in ("pass", "warn") else "not-satisfied")
        if outcome.verdict == "not-assessed":
            assert "Not assessed by patchlevel" in finding["target"]["status"]["remarks"]


def test_observations_risks_and_waivers_are_linked() -> None:
    report = demo_report()
    result = _result(report)
    observations = {o["uuid"]: o for o in result["observations"]}
    risks = {r["uuid"]: r for r in result["risks"]}
    for finding in result["findings"]:
        for ref in finding.get("related-observations", []):
            assert ref["observation-uuid"] in observations
        for ref in finding.get("related-risks", []):
            assert ref["risk-uuid"] in risks
    items = {i["uuid"]: i["description"] for i in result["local-definitions"]["inventory-items"]}
    for observation in observations.values():
        for subject in observation["subjects"]:
            assert items[subject["subject-uuid"]] == subject["title"]
    waived = [r for r in risks.values() if r["status"] == "deviation-approved"]
    assert len(waived) == 1
    assert waived[0]["deadline"] == "2027-03-31T23:59:59Z"
    assert "W-OS-1" in waived[0]["mitigating-factors"][0]["description"]
    # every finding of the report is a subject of exactly one observation
    subjects = sum(len(o["subjects"]) for o in observations.values())
    assert subjects == len(report.findings)


def test_same_report_same_document() -> None:
    assert render_oscal(demo_report()) == render_oscal(demo_report())
