"""Several clusters at once: one audit per kubeconfig context, a few at a time, and a fleet summary.

``run_fleet`` runs ``audit_one(context)`` for each context on a small thread pool (collection is
mostly waiting on API servers).  A context that fails (unreachable, refused, broken kubeconfig
entry, even a bug) becomes an entry with exit code 3 and the one-line reason; the others go on.
What one audit does, and how its report is written, is the caller's (the CLI's) business.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from patchlevel.errors import PatchlevelError
from patchlevel.model import ExitCode

FAILED_EXIT_CODE = ExitCode.INCOMPLETE
SUMMARY_FORMAT = "patchlevel-fleet-summary"


@dataclass(frozen=True, slots=True)
class FleetEntry:
    """The outcome for one context: the exit code its own audit would have had, and where its reports are."""

    context: str
    exit_code: int
    error: str = ""
    server: str = ""
    version: str = ""
    counts: Mapping[str, int] = field(default_factory=dict)  # findings by status
    reports: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return bool(self.error)

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "context": self.context,
            "status": "failed" if self.failed else "audited",
            "exit_code": self.exit_code,
        }
        if self.error:
            entry["error"] = self.error
        if self.server:
            entry["server"] = self.server
        if self.version:
            entry["version"] = self.version
        if not self.failed:
            entry["findings"] = dict(self.counts)
            entry["reports"] = list(self.reports)
        return entry


def _guarded(audit_one: Callable[[str], FleetEntry], context: str) -> FleetEntry:
    try:
        return audit_one(context)
    except PatchlevelError as exc:
        return FleetEntry(context, FAILED_EXIT_CODE, error=str(exc))
    except Exception as exc:  # one cluster's bug must not lose the others' reports
        return FleetEntry(context, FAILED_EXIT_CODE, error=f"internal error: {type(exc).__name__}: {exc}")


def run_fleet(
    contexts: Sequence[str], audit_one: Callable[[str], FleetEntry], *, parallel: int = 4
) -> list[FleetEntry]:
    """Audit every context, at most ``parallel`` at a time; entries come back in the order given."""
    if not contexts:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(contexts))), thread_name_prefix="fleet") as pool:
        futures = [pool.submit(_guarded, audit_one, context) for context in contexts]
        return [future.result() for future in futures]


def fleet_exit_code(entries: Sequence[FleetEntry]) -> int:
    """The worst exit code: 3 when any cluster could not be audited, else 1 when any had findings, else 0."""
    return max((e.exit_code for e in entries), default=0)


def fleet_summary(entries: Sequence[FleetEntry], *, as_of: date, generated_at: datetime) -> dict[str, Any]:
    totals: dict[str, int] = {}
    for entry in entries:
        for status, count in entry.counts.items():
            totals[status] = totals.get(status, 0) + count
    return {
        "format": SUMMARY_FORMAT,
        "generated_at": generated_at.isoformat(),
        "as_of": as_of.isoformat(),
        "exit_code": fleet_exit_code(entries),
        "clusters": [e.to_json() for e in entries],
        "audited": sum(1 for e in entries if not e.failed),
        "failed": sum(1 for e in entries if e.failed),
        "findings": totals,
    }


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def report_stem(context: str, taken: set[str]) -> str:
    """A file name stem for a context (EKS contexts are ARNs with ':' and '/'), unique within ``taken``."""
    stem = _UNSAFE.sub("_", context).strip("._") or "context"
    candidate, n = stem, 1
    while candidate.lower() in taken or candidate.lower() == "fleet-summary":
        n += 1
        candidate = f"{stem}-{n}"
    taken.add(candidate.lower())
    return candidate
