"""Known Kubernetes CVEs with affected version ranges (kubernetes-sigs/cve-feed-osv, OSV format).

The feed is bundled (``data/osv``) and its coverage ends in 2024: a version with no match here is
"no CVE known *to this feed*", which every finding built on it must say.

Ranges are read pairwise: each ``introduced`` opens an interval that the next ``fixed`` (or
``last_affected``) closes.  The pairs are not always in ascending order in the real files
(CVE-2023-3676 lists 1.28 first), so they are never assumed to be sorted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from patchlevel.errors import LifecycleError
from patchlevel.versions import release_key


@dataclass(frozen=True, slots=True)
class Interval:
    introduced: tuple[int, ...]
    fixed: tuple[int, ...] | None  # exclusive upper bound
    last_affected: tuple[int, ...] | None  # inclusive upper bound
    fixed_text: str = ""

    def contains(self, version: tuple[int, ...]) -> bool:
        if version < self.introduced:
            return False
        if self.fixed is not None:
            return version < self.fixed
        if self.last_affected is not None:
            return version <= self.last_affected
        return True


@dataclass(frozen=True, slots=True)
class OsvRecord:
    id: str
    summary: str
    packages: Mapping[str, tuple[Interval, ...]]  # package name -> intervals
    severity: str  # CVSS vector, "" when none
    published: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    """A CVE affecting a version, with the release that fixes it on the same line (if any)."""

    id: str
    summary: str
    package: str
    fixed_in: str | None
    severity: str
    url: str


@dataclass(frozen=True, slots=True)
class OsvFeed:
    records: tuple[OsvRecord, ...]
    last_updated: str  # the feed's own last_updated.json date, "" when absent
    newest: str  # id of the newest CVE in the feed

    def affecting(self, packages: Iterable[str], version: str) -> list[Match]:
        """CVEs of any of ``packages`` whose ranges contain ``version`` (an ``X.Y.Z`` string)."""
        key = release_key(version)[:3]
        wanted = set(packages)
        matches: list[Match] = []
        for record in self.records:
            for name, intervals in record.packages.items():
                if name not in wanted:
                    continue
                hit = next((i for i in intervals if i.contains(key)), None)
                if hit is not None:
                    matches.append(
                        Match(
                            record.id,
                            record.summary,
                            name,
                            hit.fixed_text or None,
                            record.severity,
                            record.url,
                        )
                    )
                    break
        return matches


def _version(text: str) -> tuple[int, ...]:
    return (0,) if text in ("0", "") else release_key(text)[:3]


def parse_record(doc: Mapping[str, Any], where: str) -> OsvRecord:
    try:
        packages: dict[str, tuple[Interval, ...]] = {}
        severity = ""
        for affected in doc.get("affected") or []:
            name = affected["package"]["name"]
            for sev in affected.get("severity") or []:
                severity = severity or str(sev.get("score", ""))
            intervals: list[Interval] = list(packages.get(name, ()))
            for rng in affected.get("ranges") or []:
                if rng.get("type") not in ("SEMVER", "ECOSYSTEM"):
                    continue
                opened: str | None = None
                for event in rng.get("events") or []:
                    if "introduced" in event:
                        if opened is not None:
                            intervals.append(Interval(_version(opened), None, None))
                        opened = str(event["introduced"])
                    elif "fixed" in event and opened is not None:
                        fixed = str(event["fixed"])
                        intervals.append(Interval(_version(opened), _version(fixed), None, fixed))
                        opened = None
                    elif "last_affected" in event and opened is not None:
                        intervals.append(Interval(_version(opened), None, _version(str(event["last_affected"]))))
                        opened = None
                if opened is not None:
                    intervals.append(Interval(_version(opened), None, None))
            packages[name] = tuple(intervals)
        for sev in doc.get("severity") or []:
            severity = severity or str(sev.get("score", ""))
        refs = doc.get("references") or []
        url = next((str(r.get("url", "")) for r in refs if r.get("type") == "ADVISORY"), "")
        return OsvRecord(
            id=str(doc["id"]),
            summary=str(doc.get("summary", "")),
            packages=packages,
            severity=severity,
            published=str(doc.get("published", "")),
            url=url or (str(refs[0].get("url", "")) if refs else ""),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise LifecycleError(f"{where}: not an OSV record ({exc})") from None


def load_osv(directory: Path) -> OsvFeed:
    records: list[OsvRecord] = []
    last_updated = ""
    for path in sorted(directory.glob("*.json")):
        try:
            doc = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise LifecycleError(f"cannot read OSV record {path}: {exc}") from None
        if path.name == "last_updated.json":
            value = next(iter(doc.values()), "") if isinstance(doc, dict) else ""
            last_updated = str(value)[:10]
            continue
        records.append(parse_record(doc, str(path)))
    newest = max((r.id for r in records), key=lambda i: release_key(i), default="")
    return OsvFeed(tuple(records), last_updated, newest)


def feed_coverage_note(feed: OsvFeed) -> str:
    return (
        f"Kubernetes OSV feed (kubernetes-sigs/cve-feed-osv, newest record {feed.newest}, "
        f"feed updated {feed.last_updated or 'unknown'}): CVEs published after 2024 are not in it, "
        "so no match means none known to this feed, not none at all"
    )
