"""JUnit XML: valid against the Jenkins xUnit plugin's junit-10.xsd; one testcase per check and subject."""

from __future__ import annotations

import dataclasses
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import xmlschema

from patchlevel.model import Finding, Severity, Status
from patchlevel.render.junit import render_junit
from test_render_reports import DATA, demo_report, generated_report, nodes_report

XSD = DATA / "schemas" / "junit-jenkins-xunit-10.xsd"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(XSD)


@pytest.mark.parametrize("builder", [demo_report, nodes_report, generated_report], ids=["demo", "nodes", "generated"])
def test_valid_against_junit_10_xsd(schema: xmlschema.XMLSchema, builder: Any) -> None:
    schema.validate(render_junit(builder()).decode("utf-8"))


def test_the_xsd_rejects_what_it_should(schema: xmlschema.XMLSchema) -> None:
    assert not schema.is_valid("<testsuites><testsuite name='x'/></testsuites>")  # tests/failures/errors required
    assert not schema.is_valid("<report/>")


def _cases(data: bytes) -> dict[tuple[str, str], ET.Element]:
    root = ET.fromstring(data)
    return {(case.get("classname", ""), case.get("name", "")): case for case in root.iter("testcase")}


def test_one_testcase_per_check_and_subject_with_status_mapping() -> None:
    report = demo_report()
    cases = _cases(render_junit(report))
    expected = {Status.FAIL: "failure", Status.ERROR: "error", Status.UNKNOWN: "skipped", Status.WAIVED: "skipped"}
    for finding in report.findings:
        case = cases[(f"patchlevel.{finding.check}", finding.subject)]
        children = {child.tag for child in case}
        outcome = expected.get(finding.status)
        if outcome is None:
            assert not children & {"failure", "error", "skipped"}, finding
        else:
            assert outcome in children, finding
    waived = cases[("patchlevel.node_os_supported", "node/minikube")]
    skipped = waived.find("skipped")
    assert skipped is not None
    assert skipped.get("type") == "waived"
    assert "W-OS-1" in (skipped.get("message") or "")
    suite = next(s for s in ET.fromstring(render_junit(report)) if s.get("name") == "node_os_supported")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["waived"] == "1"
    assert properties["requirements"] == "PCI-CG-10.2, PCI-DSS-12.3.4"
    root = ET.fromstring(render_junit(report))
    finding_cases = sum(1 for s in root if s.get("name") != "requirements" for _ in s.iter("testcase"))
    assert finding_cases == len(report.findings)
    assert int(root.get("failures", "")) == sum(int(s.get("failures", "")) for s in root)


def test_every_requirement_is_a_testcase_and_unassessed_ones_are_skipped() -> None:
    report = demo_report()
    cases = _cases(render_junit(report))
    for requirement in report.requirements:
        case = cases[("patchlevel.requirements", f"{requirement.id}: {requirement.title}")]
        if not requirement.checks:
            skipped = case.find("skipped")
            assert skipped is not None and "not assessed by patchlevel" in (skipped.get("message") or "")


def test_control_characters_from_the_input_do_not_break_the_xml(schema: xmlschema.XMLSchema) -> None:
    report = demo_report()
    odd = Finding("kubelet_version_supported", Status.FAIL, Severity.HIGH, "node/bad\x01name", "kubelet v1.2\x07\x1b")
    data = render_junit(dataclasses.replace(report, findings=(*report.findings, odd)))
    schema.validate(data.decode("utf-8"))
    assert ("patchlevel.kubelet_version_supported", "node/bad\\x01name") in _cases(data)
