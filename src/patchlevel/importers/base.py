"""What every importer shares: the document view, the Importer interface, and field helpers.

A scanner report arrives as JSON bytes, as YAML, or as objects a caller already holds (the
live collector lists trivy-operator objects from the API).  ``Node`` hides the difference: JSON
stays undecoded (``msgspec.Raw``) until an importer asks for a typed view of one part, so a
300 MB ``trivy k8s`` report never becomes a tree of dicts.  Importers decode into msgspec
Structs that name only the fields they read; a value of the wrong type is an ``ImporterError``
naming the file and the path inside it, never a ``KeyError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol, TypeVar

import msgspec

from patchlevel.errors import ImporterError
from patchlevel.model import Severity
from patchlevel.safeinput import NESTED_TOO_DEEP
from patchlevel.scans import ScanReport, Vulnerability
from patchlevel.timestamps import day as day  # re-exported: the importers' field helpers
from patchlevel.timestamps import timestamp as timestamp

T = TypeVar("T")

# One level of a JSON document: containers stay raw, scalars are decoded.
_JSONLevel = dict[str, msgspec.Raw] | list[msgspec.Raw] | str | int | float | bool | None


class NotAScanReport(ImporterError):
    """The document was read but is no scanner report patchlevel knows (a README, a Node …)."""

    def __init__(self, source: str, reason: str, hint: str = "") -> None:
        super().__init__(f"{source}: not a scan report: {reason}", hint)
        self.reason = reason


class UnreadableDocument(ImporterError):
    """The bytes are not valid JSON (or YAML): truncated, corrupt, or not text at all."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}", hint="is the file complete? export the report again")
        self.problem = problem


class Node:
    """One value inside a report: raw JSON still to decode, or an already decoded object."""

    __slots__ = ("_level", "path", "source", "value")

    def __init__(self, value: object, source: str, path: str = "$") -> None:
        self.value = value
        self.source = source
        self.path = path
        self._level: object = _UNREAD

    @classmethod
    def from_json(cls, data: bytes, source: str) -> Node:
        """The root of a JSON document; raises msgspec.DecodeError when it is not valid JSON.

        Only the top level is decoded here (which still checks the syntax of the whole text);
        deeper values stay raw until an importer decodes them into its Structs.
        """
        node = cls(msgspec.Raw(data), source)
        node._level = msgspec.json.decode(data, type=_JSONLevel)
        return node

    def decode(self, into: type[T]) -> T:
        """This value as ``into`` (a Struct or a plain type); a mismatch raises ImporterError."""
        try:
            if isinstance(self.value, msgspec.Raw):
                return msgspec.json.decode(self.value, type=into)
            return msgspec.convert(self.value, into)
        except RecursionError:
            raise ImporterError(f"{self.source}: {self.path} is {NESTED_TOO_DEEP}") from None
        except msgspec.ValidationError as exc:
            where = str(exc).replace("`$", f"`{self.path}", 1)
            raise ImporterError(
                f"{self.source}: unexpected report shape: {where}",
                hint="the file looks like a scanner report but a field has an unexpected type",
            ) from None

    def _read_level(self) -> object:
        if self._level is _UNREAD:
            try:
                self._level = (
                    msgspec.json.decode(self.value, type=_JSONLevel)
                    if isinstance(self.value, msgspec.Raw)
                    else self.value
                )
            except RecursionError:
                raise ImporterError(f"{self.source}: {self.path} is {NESTED_TOO_DEEP}") from None
            except msgspec.ValidationError as exc:  # e.g. an integer of 5,000 digits
                raise ImporterError(f"{self.source}: unreadable value at {self.path}: {exc}") from None
        return self._level

    def mapping(self) -> dict[str, Node] | None:
        """The members of an object, or None when this value is not an object."""
        level = self._read_level()
        if not isinstance(level, dict):
            return None
        return {str(k): Node(v, self.source, f"{self.path}.{k}") for k, v in level.items()}

    def sequence(self) -> list[Node] | None:
        """The elements of an array, or None when this value is not an array."""
        level = self._read_level()
        if not isinstance(level, list):
            return None
        return [Node(v, self.source, f"{self.path}[{i}]") for i, v in enumerate(level)]

    def text(self) -> str | None:
        """This value when it is a string, else None."""
        level = self._read_level()
        return level if isinstance(level, str) else None

    def describe(self) -> str:
        """A few words on what this value is, for "not a scan report" messages."""
        level = self._read_level()
        if isinstance(level, dict):
            kind = level.get("kind")
            kind_text = Node(kind, self.source).text() if kind is not None else None
            if kind_text:
                return f"a Kubernetes {kind_text} object"
            keys = ", ".join(sorted(str(k) for k in level)[:6])
            return f"an object with keys {keys}" if keys else "an empty object"
        if isinstance(level, list):
            return f"a list of {len(level)} items" if level else "an empty list"
        if level is None:
            return "an empty document"
        return f"a single {type(level).__name__} value"


_UNREAD = object()


class Importer(Protocol):
    """Turns one scanner's report format into ScanReports."""

    @property
    def format(self) -> str:
        """The ``ScanReport.format`` this importer produces ("trivy", "grype", …)."""
        ...

    def recognises(self, root: Node) -> bool:
        """Whether the document is in this importer's format (cheap: looks at keys, not content)."""
        ...

    def parse(self, root: Node) -> list[ScanReport]:
        """Every image scan in the document; ImporterError when its shape is wrong."""
        ...


# --- field helpers -------------------------------------------------------------------------

_SEVERITIES: dict[str, Severity] = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,
    "low": Severity.LOW,
    "negligible": Severity.LOW,
    "info": Severity.INFO,
    "informational": Severity.INFO,
}


def severity(word: str | None) -> Severity | None:
    """A scanner's severity word in any case; ``Unknown``, empty or unrecognised words are None."""
    if not word:
        return None
    return _SEVERITIES.get(word.strip().lower())


_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[A-Za-z0-9=_-]{32,}$")


def digest(value: str | None) -> str | None:
    """A bare content digest ("sha256:…"); placeholders such as "REDACTED" or "" are None."""
    if value and _DIGEST.match(value.strip()):
        return value.strip()
    return None


def repo_digests(values: Iterable[str] | None) -> tuple[str, ...]:
    """The "repository@sha256:…" values that really are repository digests, in order, once."""
    kept: list[str] = []
    for value in values or ():
        repo, sep, tail = value.strip().rpartition("@")
        if sep and repo and digest(tail) and value.strip() not in kept:
            kept.append(value.strip())
    return tuple(kept)


def unique(vulnerabilities: Iterable[Vulnerability]) -> tuple[Vulnerability, ...]:
    """Drop exact repeats (scanners list one match per file location), keeping first order."""
    return tuple(dict.fromkeys(vulnerabilities))


def text_or_none(value: str | None) -> str | None:
    """A stripped string, None for empty or missing values."""
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


def first(values: Iterable[str | None]) -> str:
    """The first non-empty value, "" when there is none."""
    return next((v.strip() for v in values if v and v.strip()), "")
