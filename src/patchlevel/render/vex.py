"""Vulnerabilities a VEX statement took out of the SLA judgement, for every human-readable format.

The image check keeps such a vulnerability on its finding (typed ``OpenVulnerability.vex`` and
``vex_statement``) with status PASS, or WARN when the statement names the image's repository only.
Like waivers, they are counted apart and always shown: a finding that passes because of VEX is not
listed among the findings that need action, so the terminal, Markdown and HTML reports list these
rows on their own.  Arrangement only: every value comes from the Report as it is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from patchlevel.model import Report


@dataclass(frozen=True, slots=True)
class VexRow:
    subject: str  # "image/registry/repo@sha256:…"
    vulnerability: str
    package: str
    status: str  # "not_affected" or "fixed"
    statement: str  # "NOT AFFECTED (VEX: format document, author, date): justification"


def vex_rows(report: Report) -> list[VexRow]:
    """One row per image, vulnerability and package a VEX statement took out of the SLA, in finding order."""
    rows: dict[tuple[str, str, str], VexRow] = {}
    for finding in report.findings:
        for v in finding.vulnerabilities:
            if v.vex:
                key = (finding.subject, v.id, v.package)
                rows.setdefault(key, VexRow(finding.subject, v.id, v.package, v.vex, v.vex_statement))
    return list(rows.values())


def vex_summary(rows: list[VexRow]) -> str:
    """ "3 vulnerabilities in 2 images out of the SLA by VEX (not affected 2, fixed 1), counted apart"; "" for none."""
    if not rows:
        return ""
    ids = len({(r.subject, r.vulnerability) for r in rows})
    images = len({r.subject for r in rows})
    by_status = vex_counts(rows)
    parts = ", ".join(f"{status.replace('_', ' ')} {n}" for status, n in sorted(by_status.items()))
    return (
        f"{ids} vulnerabilit{'y' if ids == 1 else 'ies'} in {images} image{'' if images == 1 else 's'} "
        f"out of the SLA by VEX ({parts}), counted apart"
    )


def vex_counts(rows: list[VexRow]) -> dict[str, int]:
    """Vulnerabilities (per image, whatever the packages) by VEX status: {"not_affected": 2, "fixed": 1}."""
    return dict(Counter(status for _, _, status in {(r.subject, r.vulnerability, r.status) for r in rows}))
