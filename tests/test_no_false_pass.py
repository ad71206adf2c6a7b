"""Issue 14, generalised: a hostile cluster through every check and every renderer.

``hostile.hostile_inventory`` builds nodes, pods and scans that carry markup, escape sequences,
control characters, HTML and Markdown, huge fields, future dates, missing halves of conditions,
versions the data does not know, scans that scanned nothing and scans that could not run.  Every
check runs on it (through the real runner): no check raises, and every subject with a defect gets,
from each check the defect concerns, only a status its input can justify (``hostile.ALLOWED``,
never PASS).  The Report built from it renders in every format, valid against the published
schemas.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from xml.etree import ElementTree as ET

import pytest
import xmlschema
from jsonschema import Draft202012Validator

from builders import knowledge
from hostile import ACTIVE, ALLOWED, MARKUP, findings_by_subject, hostile_inventory
from patchlevel.checks import ALL_CHECKS
from patchlevel.evaluate import build_report, evaluate
from patchlevel.model import Finding, Report, Status
from patchlevel.policy import Policy
from patchlevel.render import RENDERERS, Format
from test_render_hostile_text import DATA_FORMATS, JUNIT_XSD
from test_render_oscal import errors as oscal_errors

AS_OF = date(2026, 11, 27)


@cache
def hostile_findings() -> tuple[Finding, ...]:
    return evaluate(hostile_inventory(), knowledge(), Policy(), AS_OF)


@cache
def hostile_audit() -> Report:
    return build_report(hostile_inventory(), knowledge(), Policy(), AS_OF, datetime(2026, 11, 27, 12, tzinfo=UTC))


def test_no_check_raises_on_the_hostile_cluster() -> None:
    findings = hostile_findings()
    errors = [(f.check, f.subject, f.message) for f in findings if f.status is Status.ERROR]
    assert errors == []
    assert {f.check for f in findings} == {c.id for c in ALL_CHECKS}


@pytest.mark.parametrize("subject", sorted(ALLOWED), ids=lambda s: s[:40])
def test_no_pass_where_the_input_cannot_justify_it(subject: str) -> None:
    judged = findings_by_subject(hostile_findings())[subject]
    for check, allowed in ALLOWED[subject].items():
        finding = judged[check]
        assert finding.status in allowed, (check, finding.status, finding.message)
        assert finding.message  # says why


def test_no_image_check_passes_an_image_whose_scan_proves_nothing() -> None:
    """Across every image check: no PASS for an image whose only evidence is empty, undated or failed."""
    judged = findings_by_subject(hostile_findings())
    for subject, checks in ALLOWED.items():
        if not subject.startswith("image/"):
            continue
        for check in ("image_scanned_recently", "fixable_vulnerabilities_patched_in_time"):
            if check in checks:
                assert judged[subject][check].status is not Status.PASS


def test_hostile_text_in_findings_is_kept_as_data() -> None:
    """The checks keep raw values as evidence; only the renderers make them safe to show."""
    subjects = {f.subject for f in hostile_findings()}
    assert f"node/{MARKUP}" in subjects


@cache
def _schema_validator() -> Draft202012Validator:
    text = (resources.files("patchlevel") / "schemas" / "report.schema.json").read_text(encoding="utf-8")
    return Draft202012Validator(json.loads(text))


@pytest.mark.parametrize("fmt", list(Format), ids=[f.value for f in Format])
def test_the_hostile_audit_renders_in_every_format(fmt: Format) -> None:
    data = RENDERERS[fmt](hostile_audit())
    text = data.decode("utf-8")
    if fmt.value not in DATA_FORMATS:
        for char in ACTIVE:
            assert char not in text, (fmt, repr(char))
    if fmt is Format.JSON:
        assert list(_schema_validator().iter_errors(json.loads(text))) == []
    elif fmt is Format.JUNIT:
        xmlschema.XMLSchema(JUNIT_XSD).validate(text)
        assert ET.fromstring(data) is not None
    elif fmt is Format.OSCAL:
        assert oscal_errors(json.loads(text)) == []
