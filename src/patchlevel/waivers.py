"""Apply waivers (accepted exceptions from the policy file) to findings.

A waiver never hides a finding: it turns a FAIL, WARN or UNKNOWN finding into WAIVED, keeps the
waiver on the finding, and says in ``note`` what the status would otherwise be.  A waiver past its
``expires`` date (the last day it holds) changes nothing: the finding keeps its status, the note
says the waiver expired, and the waiver is reported as expired.  A waiver that matched no finding
is reported too, so stale exceptions do not pile up unseen.

Matching: ``check`` is a check id (exact), ``subject`` a glob over the finding's subject
(``fnmatch``, case-sensitive), and the optional ``vulnerability`` a glob over the vulnerabilities a
finding is about (``vulnerability_ids``: its typed open vulnerabilities that need action, and the
known CVEs a missed patch fixes).  A finding about several vulnerabilities is waived only when
valid waivers cover every one of them; otherwise it stands, and its note names what is waived.
PASS findings need no waiver and ERROR findings (a check crashed) cannot be waived.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date
from fnmatch import fnmatchcase

from patchlevel.model import Finding, Status, Waiver, WaiverOutcome

WAIVABLE = frozenset({Status.FAIL, Status.WARN, Status.UNKNOWN})


def vulnerability_ids(finding: Finding) -> tuple[str, ...]:
    """The vulnerabilities a finding is about: open ones that need action (status not PASS), then the
    known CVEs fixed by a patch the finding says is missing."""
    ids = [v.id for v in finding.vulnerabilities if v.status is not Status.PASS]
    if finding.patch is not None:
        ids.extend(finding.patch.fixes_known_cves)
    return tuple(dict.fromkeys(ids))


def waiver_label(waiver: Waiver) -> str:
    return waiver.id or f"{waiver.check} {waiver.subject}"


def is_expired(waiver: Waiver, as_of: date) -> bool:
    """A waiver holds through its ``expires`` day and is expired from the day after."""
    return as_of > waiver.expires


def _matches(waiver: Waiver, finding: Finding) -> bool:
    return finding.status in WAIVABLE and waiver.check == finding.check and fnmatchcase(finding.subject, waiver.subject)


def _covered(waiver: Waiver, vulnerabilities: Sequence[str]) -> list[str]:
    if waiver.vulnerability is None:
        return list(vulnerabilities)
    pattern = waiver.vulnerability
    return [v for v in vulnerabilities if fnmatchcase(v, pattern)]


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def apply_waivers(
    findings: Iterable[Finding], waivers: Sequence[Waiver], as_of: date
) -> tuple[tuple[Finding, ...], tuple[WaiverOutcome, ...]]:
    """The findings with waivers applied, and what became of each waiver (in policy order)."""
    matched = [0] * len(waivers)
    out: list[Finding] = []
    by_check: dict[str, list[int]] = {}
    for index, waiver in enumerate(waivers):
        by_check.setdefault(waiver.check, []).append(index)
    for finding in findings:
        candidates = [i for i in by_check.get(finding.check, ()) if _matches(waivers[i], finding)]
        if not candidates:
            out.append(finding)
            continue
        vulnerabilities = vulnerability_ids(finding)
        valid: list[int] = []
        expired: list[int] = []
        for i in candidates:
            waiver = waivers[i]
            if waiver.vulnerability is not None and not _covered(waiver, vulnerabilities):
                continue  # scoped to vulnerabilities this finding is not about
            matched[i] += 1
            (expired if is_expired(waiver, as_of) else valid).append(i)
        expired_note = ", ".join(f"waiver {waiver_label(waivers[i])} expired on {waivers[i].expires}" for i in expired)
        if expired_note:
            expired_note += "; the finding counts again"
        if not valid:
            out.append(dataclasses.replace(finding, note=_join(finding.note, expired_note)) if expired else finding)
            continue
        whole = [i for i in valid if waivers[i].vulnerability is None]
        if whole:
            chosen = waivers[whole[0]]
        else:
            covered = {v for i in valid for v in _covered(waivers[i], vulnerabilities)}
            open_ids = [v for v in vulnerabilities if v not in covered]
            if open_ids:
                note = (
                    f"waived: {', '.join(sorted(covered))} (waiver "
                    f"{', '.join(waiver_label(waivers[i]) for i in valid)}); still open: {', '.join(open_ids)}"
                )
                out.append(dataclasses.replace(finding, note=_join(finding.note, note, expired_note)))
                continue
            chosen = waivers[valid[0]]
        note = f"waived; without the waiver this finding is {finding.status.value.upper()}"
        out.append(
            dataclasses.replace(
                finding,
                status=Status.WAIVED,
                waiver=chosen,
                note=_join(finding.note, note, expired_note),
            )
        )
    outcomes = tuple(
        WaiverOutcome(waiver=w, matched=matched[i], expired=is_expired(w, as_of)) for i, w in enumerate(waivers)
    )
    return tuple(out), outcomes


def waiver_warnings(outcomes: Iterable[WaiverOutcome]) -> tuple[str, ...]:
    """One line per waiver that needs attention: expired, or matching no finding."""
    lines: list[str] = []
    for outcome in outcomes:
        waiver = outcome.waiver
        label = waiver_label(waiver)
        if outcome.expired:
            lines.append(
                f"waiver {label} ({waiver.check}, {waiver.subject}, owner {waiver.owner}) expired on "
                f"{waiver.expires}: the {outcome.matched} finding(s) it matched count again"
            )
        if outcome.matched == 0:
            lines.append(
                f"waiver {label} ({waiver.check}, {waiver.subject}"
                + (f", {waiver.vulnerability}" if waiver.vulnerability else "")
                + ") matched no finding: remove it or correct its check or subject"
            )
    return tuple(lines)
