"""VEX timestamps that are no time (issue 14): a statement whose time UTC cannot hold is ignored, never an error.

``9999-12-31T23:00:00-05:00`` is a valid-looking RFC 3339 time whose UTC conversion falls past year 9999;
before, ``fixable_vulnerabilities_patched_in_time`` ended in ERROR ("the check failed: OverflowError").
Now the statement is ignored with the raw value in the reason, and the vulnerability is judged as if
no VEX had been given.  The documents are the real ones of tests/data/vex with only their times changed.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from patchlevel.cli import main
from patchlevel.model import Status
from patchlevel.vuln.vex import VexIndex, parse_vex
from test_vex_images import ALPINE, GO_VEX, _with_vex, alpine, audit, judge, snapshot  # noqa: F401 (fixture)

OVERFLOW = "9999-12-31T23:00:00-05:00"  # UTC: 10000-01-01T04:00 — no datetime holds it
VEX = Path(__file__).parent / "data" / "vex"
REASON = f"timestamp '{OVERFLOW}' is not an RFC 3339 date-time (or date) that UTC can hold"


def go_vex(**times: str) -> dict[str, Any]:
    """go-vex's OpenVEX test document (dated 2023-07-17T18:28:47.696004345-06:00) with other times."""
    document: dict[str, Any] = json.loads(GO_VEX.read_text())
    document.update({k: v for k, v in times.items() if k in ("timestamp", "last_updated")})
    if "statement" in times:
        for statement in document["statements"]:
            statement["timestamp"] = times["statement"]
    return document


def test_an_openvex_document_dated_past_utc_is_ignored_and_the_check_still_judges() -> None:
    assert judge(alpine("2023-09-01T08:00:00Z"), date(2023, 9, 10))[ALPINE].status is Status.PASS  # as published
    documents = [parse_vex(json.dumps(go_vex(timestamp=OVERFLOW)).encode(), "vex-ovf.json")]
    inventory = _with_vex(alpine("2023-09-01T08:00:00Z", vex=False), documents)
    found = judge(inventory, date(2023, 9, 10))[ALPINE]
    assert found.status is Status.FAIL  # judged, not ERROR: the statements do not count
    assert all(v.vex == "" for v in found.vulnerabilities)
    reasons = {i["reason"] for i in found.evidence["vex_ignored"]}  # type: ignore[union-attr]
    assert reasons == {f"{REASON}, years 2 to 9999, so its age cannot be judged"}


def test_a_statement_own_time_that_is_no_time_is_not_replaced_by_the_document_time() -> None:
    document = go_vex(statement=OVERFLOW)  # the document keeps its readable 2023-07-17 time
    (parsed,) = [parse_vex(json.dumps(document).encode(), "vex-ovf.json")]
    assert parsed.timestamp is not None
    assert {(s.timestamp, s.timestamp_invalid) for s in parsed.statements} == {(None, OVERFLOW)}
    assert "undated" in parsed.statements[0].describe()


def _statement_reasons(data: bytes, vulnerability: str, product: str) -> list[str]:
    index = VexIndex.build([parse_vex(data, "vex-ovf.json")])
    decision = index.match(
        vulnerability=vulnerability, repository=product, digest="", as_of=date(2026, 7, 1), max_age_days=10_000
    )
    assert decision.applied is None
    return [i.reason for i in decision.ignored]


def test_cyclonedx_and_csaf_times_past_utc_are_ignored_statements() -> None:
    cdx = (VEX / "cdx-1.4-cisa-case1-not-affected.json").read_text().replace("2022-03-03T00:00:00Z", OVERFLOW)
    parsed = parse_vex(cdx.encode(), "cdx-ovf.json")
    assert parsed.timestamp is None
    assert {s.timestamp_invalid for s in parsed.statements} == {OVERFLOW}
    csaf = (VEX / "csaf-trivy-known-not-affected.json").read_text().replace("2022-03-03T11:00:00.000Z", OVERFLOW)
    parsed = parse_vex(csaf.encode(), "csaf-ovf.json")
    assert parsed.timestamp is None
    assert {(s.timestamp, s.timestamp_invalid) for s in parsed.statements} == {(None, OVERFLOW)}


@pytest.mark.parametrize(
    "when",
    [OVERFLOW, "2023-07-17T18:28:47+24:00", "2023-02-30T00:00:00Z", "0001-01-01T00:00:00Z", "yesterday", "9" * 5000],
)
def test_every_unreadable_time_is_an_ignored_statement_with_its_raw_value(when: str) -> None:
    document = go_vex(statement=when)
    (statement, *_) = parse_vex(json.dumps(document).encode(), "vex-bad.json").statements
    assert (statement.timestamp, statement.timestamp_invalid) == (None, when)
    found = judge(_with_vex(alpine("2023-09-01T08:00:00Z", vex=False), [parse_vex(json.dumps(document).encode(), "x")]),
                  date(2023, 9, 10))[ALPINE]  # fmt: skip
    assert found.status is Status.FAIL
    (reason, *_) = {i["reason"] for i in found.evidence["vex_ignored"]}  # type: ignore[union-attr]
    assert reason.startswith("timestamp '") and reason.endswith("so its age cannot be judged")
    assert len(reason) < 200  # a 5,000-digit value is cut


def test_the_cli_judges_the_image_and_exits_with_the_verdict_not_an_error(
    snapshot: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    vex = snapshot.parent / "vex-ovf.json"
    vex.write_text(json.dumps(go_vex(timestamp=OVERFLOW)))
    out = snapshot.parent / "report.json"
    assert main(audit(snapshot, "--vex", str(vex), "--format", "json", "-o", str(out))) == 1  # FAIL, not 3
    doc = json.loads(out.read_text())
    (finding,) = [f for f in doc["findings"] if f["check"] == "fixable_vulnerabilities_patched_in_time"]
    assert finding["status"] == "fail"
    assert OVERFLOW in json.dumps(finding["evidence"]["vex_ignored"])
    assert "OverflowError" not in capsys.readouterr().err
