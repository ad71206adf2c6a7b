"""JUnit XML for CI dashboards: one testcase per check and subject, one testsuite per check.

FAIL → ``<failure>``, ERROR → ``<error>``, UNKNOWN and WAIVED → ``<skipped>`` with the reason,
PASS and WARN pass (a WARN says so in ``<system-out>``).  A last testsuite, ``requirements``,
holds one testcase per requirement of the mapping, so requirements no check covers appear too
(skipped: "not assessed by patchlevel").  Valid against the Jenkins xUnit plugin's junit-10.xsd.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from xml.etree import ElementTree as ET

from patchlevel.model import Finding, Report, Status, requirement_results
from patchlevel.text import visible

SKIPPED = (Status.UNKNOWN, Status.WAIVED)


def _xml_text(text: str) -> str:
    """Text XML 1.0 can hold: control characters, surrogates and U+FFFE/U+FFFF (which raw values from
    the input may contain) written as visible escapes; newlines and tabs kept."""
    return visible(text, keep_lines=True)


def _details(finding: Finding) -> str:
    lines = [
        f"status: {finding.status.value}",
        f"severity: {finding.severity.value}",
        f"subject: {finding.subject}",
        f"finding: {finding.message}",
    ]
    if finding.requirements:
        lines.append(f"requirements: {', '.join(finding.requirements)}")
    if finding.remediation:
        lines.append(f"remediation: {finding.remediation}")
    if finding.waiver is not None:
        w = finding.waiver
        lines.append(
            f"waiver: {w.id or '(no id)'}: {w.reason} (owner {w.owner}"
            + (f", approved by {w.approved_by}" if w.approved_by else "")
            + f", expires {w.expires})"
        )
    if finding.note:
        lines.append(f"note: {finding.note}")
    if finding.evidence:
        lines.append("evidence: " + json.dumps(dict(finding.evidence), sort_keys=True, default=str))
    return "\n".join(lines)


def _skip_reason(finding: Finding) -> str:
    if finding.status is Status.WAIVED and finding.waiver is not None:
        w = finding.waiver
        return f"waived by {w.id or 'a waiver'} until {w.expires} (owner {w.owner}): {w.reason}"
    return f"unknown: {finding.message}"


def _testcase(parent: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(parent, "testcase", {"classname": classname, "name": name, "time": "0"})


def _suite(root: ET.Element, name: str, report: Report, findings: Iterable[Finding]) -> ET.Element:
    items = list(findings)
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": name,
            "tests": str(len(items)),
            "failures": str(sum(f.status is Status.FAIL for f in items)),
            "errors": str(sum(f.status is Status.ERROR for f in items)),
            "skipped": str(sum(f.status in SKIPPED for f in items)),
            "time": "0",
            "timestamp": report.generated_at.strftime("%Y-%m-%dT%H:%M:%S"),
            "hostname": report.cluster.name or "cluster",
        },
    )
    return suite


def render_junit(report: Report) -> bytes:
    root = ET.Element("testsuites", {"name": f"patchlevel {report.cluster.name or 'cluster'} as of {report.as_of}"})
    per_check: dict[str, list[Finding]] = {c.id: [] for c in report.checks}
    for finding in report.findings:
        per_check.setdefault(finding.check, []).append(finding)
    titles = {c.id: c for c in report.checks}
    for check, findings in per_check.items():
        suite = _suite(root, check, report, findings)
        properties = ET.SubElement(suite, "properties")
        info = titles.get(check)
        ET.SubElement(properties, "property", {"name": "title", "value": info.title if info else check})
        ET.SubElement(
            properties, "property", {"name": "requirements", "value": ", ".join(info.requirements) if info else ""}
        )
        ET.SubElement(properties, "property", {"name": "as_of", "value": report.as_of.isoformat()})
        for status in (Status.UNKNOWN, Status.WAIVED):  # both are "skipped": their counts apart
            count = sum(f.status is status for f in findings)
            ET.SubElement(properties, "property", {"name": status.value, "value": str(count)})
        for finding in findings:
            case = _testcase(suite, f"patchlevel.{check}", finding.subject)
            details = _details(finding)
            if finding.status is Status.FAIL:
                ET.SubElement(case, "failure", {"type": "fail", "message": finding.message}).text = details
            elif finding.status is Status.ERROR:
                ET.SubElement(case, "error", {"type": "error", "message": finding.message}).text = details
            elif finding.status in SKIPPED:
                ET.SubElement(case, "skipped", {"type": finding.status.value, "message": _skip_reason(finding)})
                ET.SubElement(case, "system-out").text = details
            else:
                ET.SubElement(case, "system-out").text = details

    results = requirement_results(report)
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": "requirements",
            "tests": str(len(results)),
            "failures": str(sum(r.verdict == "fail" for r in results)),
            "errors": str(sum(r.verdict == "error" for r in results)),
            "skipped": str(sum(r.verdict in ("unknown", "not-assessed") for r in results)),
            "time": "0",
            "timestamp": report.generated_at.strftime("%Y-%m-%dT%H:%M:%S"),
            "hostname": report.cluster.name or "cluster",
        },
    )
    for result in results:
        requirement = result.requirement
        case = _testcase(suite, "patchlevel.requirements", f"{requirement.id}: {requirement.title}")
        counts = ", ".join(f"{s.value} {n}" for s, n in result.counts.items() if n)
        summary = (
            f"{requirement.framework} {requirement.id}: verdict {result.verdict}"
            + (f" ({counts})" if counts else "")
            + (f"; checks: {', '.join(requirement.checks)}" if requirement.checks else "")
        )
        if result.verdict == "not-assessed":
            ET.SubElement(
                case,
                "skipped",
                {"type": "not-assessed", "message": "not assessed by patchlevel: no check gives evidence for it"},
            )
        elif result.verdict == "unknown":
            ET.SubElement(case, "skipped", {"type": "unknown", "message": f"unknown: {summary}"})
        elif result.verdict == "fail":
            ET.SubElement(case, "failure", {"type": "fail", "message": summary})
        elif result.verdict == "error":
            ET.SubElement(case, "error", {"type": "error", "message": summary})
        ET.SubElement(case, "system-out").text = summary
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in root)))
    root.set("failures", str(sum(int(s.get("failures", "0")) for s in root)))
    root.set("errors", str(sum(int(s.get("errors", "0")) for s in root)))
    root.set("time", "0")
    for element in root.iter():
        if element.text:
            element.text = _xml_text(element.text)
        for key, value in element.attrib.items():
            element.set(key, _xml_text(value))
    ET.indent(root, space="  ")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"
