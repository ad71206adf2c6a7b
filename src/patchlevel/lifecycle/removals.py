"""Which Kubernetes API versions each release stops serving, and what replaces them.

The table is bundled dated data (``data/api-removals.json``; provenance in ``data/SOURCES.md``):
one entry per (apiVersion, kind) with the release that deprecated it, the release that removed it,
the replacement apiVersion and since when that is served.  ``patchlevel plan`` lists the entries
removed on the path to the target release before the control-plane step that removes them.

API::

    table = load_removals()                         # the bundled table (or load_removals(path))
    table.removed_in("1.25")                        # entries the 1.25 API server no longer serves
    table.lookup("policy/v1beta1", "PodDisruptionBudget")

Loading reads one file; nothing else here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import msgspec

from patchlevel.errors import LifecycleError
from patchlevel.lifecycle.catalog import BUNDLED_DATA

REMOVALS_FILE = "api-removals.json"
_MINOR = re.compile(r"1\.(0|[1-9]\d{0,2})")
_API_VERSION = re.compile(r"(?:[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?/)?v\d+(?:(?:alpha|beta)\d+)?")
_KIND = re.compile(r"[A-Z][A-Za-z0-9]{0,99}")


class _Source(msgspec.Struct, forbid_unknown_fields=True):
    repository: str
    path: str
    licence: str
    commit: str = ""
    file_date: date | None = None
    url: str = ""


class _Entry(msgspec.Struct, forbid_unknown_fields=True):
    api_version: str
    kind: str
    resource: str
    deprecated_in: str
    removed_in: str
    replacement: str | None
    replacement_available_in: str | None
    sources: list[str]
    note: str = ""


class _Table(msgspec.Struct, forbid_unknown_fields=True):
    format: int
    title: str
    retrieved: date
    reaches: str
    sources: dict[str, _Source]
    removals: list[_Entry]
    note: str = ""


@dataclass(frozen=True, slots=True)
class ApiRemoval:
    """One apiVersion of one kind that a Kubernetes release stops serving."""

    api_version: str  # "policy/v1beta1" ("v1" style for the core group)
    kind: str  # "PodDisruptionBudget"
    resource: str  # "poddisruptionbudgets": the plural the API server's metrics name
    deprecated_in: str  # "1.21"
    removed_in: str  # "1.25": the first release that no longer serves it
    replacement: str | None  # "policy/v1"; None when nothing replaces it (PodSecurityPolicy)
    replacement_available_in: str | None
    sources: tuple[str, ...]  # keys of RemovalTable.sources
    note: str = ""

    @property
    def group(self) -> str:
        """The API group ("" for the core group)."""
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def removed_minor(self) -> int:
        return int(self.removed_in.split(".")[1])


@dataclass(frozen=True, slots=True)
class RemovalTable:
    """The removal table and where its facts come from."""

    removals: tuple[ApiRemoval, ...]
    retrieved: date  # date of the newest source file
    reaches: str  # the newest release the table covers ("1.36"): later releases' removals are unknown
    sources: dict[str, str]  # key -> "repository path @ commit (licence)"
    path: str  # where the table was read from

    @property
    def reaches_minor(self) -> int:
        return int(self.reaches.split(".")[1])

    def removed_in(self, release: str) -> tuple[ApiRemoval, ...]:
        return tuple(r for r in self.removals if r.removed_in == release)

    def lookup(self, api_version: str, kind: str) -> ApiRemoval | None:
        return next((r for r in self.removals if r.api_version == api_version and r.kind == kind), None)

    def describe(self) -> str:
        return (
            f"Kubernetes API removal table to {self.reaches} (sources to {self.retrieved}: {', '.join(self.sources)})"
        )


def _check(where: str, entry: _Entry, index: int, sources: dict[str, _Source]) -> None:
    here = f"{where}: removals[{index}] ({entry.api_version} {entry.kind})"
    if not _API_VERSION.fullmatch(entry.api_version):
        raise LifecycleError(f"{here}: api_version {entry.api_version!r} is not group/version")
    if not _KIND.fullmatch(entry.kind):
        raise LifecycleError(f"{here}: kind {entry.kind!r} is not a Kubernetes kind")
    for name in ("deprecated_in", "removed_in", "replacement_available_in"):
        value = getattr(entry, name)
        if value is not None and not _MINOR.fullmatch(value):
            raise LifecycleError(f"{here}: {name} {value!r} is not a Kubernetes minor release like 1.25")
    if entry.replacement is not None and not _API_VERSION.fullmatch(entry.replacement):
        raise LifecycleError(f"{here}: replacement {entry.replacement!r} is not group/version")
    if int(entry.deprecated_in.split(".")[1]) > int(entry.removed_in.split(".")[1]):
        raise LifecycleError(f"{here}: deprecated in {entry.deprecated_in}, after its removal in {entry.removed_in}")
    unknown = [s for s in entry.sources if s not in sources]
    if not entry.sources or unknown:
        raise LifecycleError(f"{here}: sources {entry.sources!r} must name entries of 'sources'")


def parse_removals(data: bytes, where: str) -> RemovalTable:
    """Validate and read a removal table; LifecycleError names ``where`` and the entry."""
    try:
        raw = msgspec.json.decode(data, type=_Table)
    except msgspec.ValidationError as exc:
        raise LifecycleError(f"{where}: not a patchlevel API removal table: {exc}") from None
    except msgspec.DecodeError as exc:
        raise LifecycleError(f"{where}: not valid JSON: {exc}") from None
    if raw.format != 1:
        raise LifecycleError(f"{where}: removal table format {raw.format} is not one this patchlevel reads (1)")
    if not _MINOR.fullmatch(raw.reaches):
        raise LifecycleError(f"{where}: reaches {raw.reaches!r} is not a Kubernetes minor release")
    if not raw.removals:
        raise LifecycleError(f"{where}: the table lists no removals")
    seen: set[tuple[str, str]] = set()
    for index, entry in enumerate(raw.removals):
        _check(where, entry, index, raw.sources)
        key = (entry.api_version, entry.kind)
        if key in seen:
            raise LifecycleError(f"{where}: removals[{index}]: {entry.api_version} {entry.kind} is listed twice")
        seen.add(key)
    return RemovalTable(
        removals=tuple(
            ApiRemoval(
                api_version=e.api_version,
                kind=e.kind,
                resource=e.resource,
                deprecated_in=e.deprecated_in,
                removed_in=e.removed_in,
                replacement=e.replacement,
                replacement_available_in=e.replacement_available_in,
                sources=tuple(e.sources),
                note=e.note,
            )
            for e in raw.removals
        ),
        retrieved=raw.retrieved,
        reaches=raw.reaches,
        sources={
            key: f"{s.repository} {s.path}" + (f" @ {s.commit[:12]}" if s.commit else "") + f" ({s.licence})"
            for key, s in raw.sources.items()
        },
        path=where,
    )


def load_removals(path: Path | None = None) -> RemovalTable:
    """The removal table at ``path``, by default the bundled one (LifecycleError when unreadable or invalid)."""
    target = path if path is not None else BUNDLED_DATA / REMOVALS_FILE
    try:
        data = target.read_bytes()
    except OSError as exc:
        raise LifecycleError(f"cannot read the API removal table {target}: {exc.strerror or exc}") from None
    return parse_removals(data, str(target))
