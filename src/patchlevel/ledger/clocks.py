"""Clocks from history: when a fix was first known for a vulnerability in a workload.

A vulnerability's clock for a *workload* (not for one image digest) starts the first time the
history shows a fix for it in any image that workload ran: rebuilding the image without the fix,
or rolling a new digest that still carries it, does not restart the clock.

``fix_observations(history)`` turns a ``History`` into ``FixObservation`` records (one per
workload, image scan and fixable vulnerability); ``first_known_fix(observations)`` reduces them to
one ``FixClock`` per (workload, vulnerability id).  Both are pure.  For each observation the clock
candidate is, as in the audit's ``fixable_vulnerabilities_patched_in_time``: the fix's release
date where the scanner gives it (``fix-released``), else the vulnerability's publication date
(``published``), else the day of the first scan that already reported the fix (``first-scan``);
the earliest candidate over the whole history wins, and the clock says which kind it was.

The image SLA check of a ledger-backed audit can call ``first_known_fix`` on the history of the
cluster and look up ``(workload key, vulnerability id)`` for each open vulnerability (workload
keys as ``patchlevel.ledger.evidence.workload_key`` writes them: ``Kind/namespace/name``).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from patchlevel.ledger.history import History, Scan

CLOCK_FIX = "fix-released"
CLOCK_PUBLISHED = "published"
CLOCK_FIRST_SCAN = "first-scan"
CLOCK_KEV = "kev-added"  # added to CISA KEV after the fix was known: critical from that day
_CLOCK_ORDER = {CLOCK_FIX: 0, CLOCK_PUBLISHED: 1, CLOCK_FIRST_SCAN: 2}


@dataclass(frozen=True, slots=True)
class FixObservation:
    """A scan of an image a workload ran reported a fixable vulnerability."""

    workload: str  # "Kind/namespace/name"
    vulnerability: str  # CVE-…, GHSA-…
    image: str  # the image key (digest) whose scan reported it
    seen_on: date  # the day of that scan (or of the audit, when the scan is undated)
    fix_released: date | None
    published: date | None


@dataclass(frozen=True, slots=True)
class FixClock:
    """When the clock of one vulnerability in one workload started, and from what."""

    start: date
    clock: str  # fix-released, published, first-scan
    image: str  # the image whose scan gave that date

    @property
    def evidence(self) -> dict[str, str]:
        return {"clock_start": self.start.isoformat(), "clock": self.clock, "clock_image": self.image}


def _candidate(observation: FixObservation) -> tuple[date, str]:
    if observation.fix_released is not None:
        return observation.fix_released, CLOCK_FIX
    if observation.published is not None:
        return observation.published, CLOCK_PUBLISHED
    return observation.seen_on, CLOCK_FIRST_SCAN


def first_known_fix(observations: Iterable[FixObservation]) -> dict[tuple[str, str], FixClock]:
    """The earliest known-fix date per (workload, vulnerability id), with the clock that gave it."""
    clocks: dict[tuple[str, str], FixClock] = {}
    for observation in observations:
        start, clock = _candidate(observation)
        key = (observation.workload, observation.vulnerability)
        known = clocks.get(key)
        if known is None or (start, _CLOCK_ORDER[clock]) < (known.start, _CLOCK_ORDER[known.clock]):
            clocks[key] = FixClock(start, clock, observation.image)
    return clocks


class ScanTimeline:
    """The scans of one image, by day: which scan tells what the image holds on a given day.

    The newest successful dated scan on or before the day; else (an image's content does not
    change) its earliest successful scan.  ``scans`` come oldest first, undated last.
    """

    def __init__(self, scans: Sequence[Scan]) -> None:
        usable = [scan for scan in scans if not scan.error]
        self._dated = [scan for scan in usable if scan.day is not None]
        self._days: list[date] = [scan.day for scan in self._dated if scan.day is not None]
        self._first = usable[0] if usable else None

    def on(self, day: date) -> Scan | None:
        index = bisect.bisect_right(self._days, day) - 1
        return self._dated[index] if index >= 0 else self._first


def scan_for_day(scans: Sequence[Scan], day: date) -> Scan | None:
    """``ScanTimeline(scans).on(day)``, for one lookup."""
    return ScanTimeline(scans).on(day)


def fix_observations(history: History) -> Iterator[FixObservation]:
    """Every (workload, image scan, fixable vulnerability) the history holds, once per image and its workloads.

    An undated scan counts from the first audit that saw its image run.
    """
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for audit in history.audits:
        for image in audit.images:
            marker = (image.key, image.workloads)
            if marker in seen:
                continue
            seen.add(marker)
            sets: set[int] = set()
            for scan in history.scans.get(image.key, ()):
                # Scans come oldest first: a later scan of a set already seen (the daily re-scan of an
                # unchanged image) can only give later clocks, so each distinct set is read once.
                if scan.error or id(scan.vulnerabilities) in sets:
                    continue
                sets.add(id(scan.vulnerabilities))
                seen_on = scan.day or audit.day
                for v in scan.vulnerabilities:
                    if v.fixable:
                        for workload in image.workloads:
                            yield FixObservation(workload, v.id, image.key, seen_on, v.fix_released, v.published)
