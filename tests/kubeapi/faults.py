"""Declarative fault injection: a short list of rules, each naming requests and what goes wrong.

A rule matches a request by method, URL path (a shell-style glob, where ``*`` also crosses
``/``) and, for lists, by page (1 = the request without ``continue``).  Each rule counts the
requests it matches on its own; it fires on the ``nth`` of them and on the ``times - 1`` that
follow (``times=None``: on every one from ``nth`` on).  When several rules fire on one
request, the first in the list wins.  Examples::

    Fault("/api/v1/pods", Action.STATUS, status=429, retry_after=1, nth=2)   # 2nd request: 429
    Fault("/api/v1/nodes", Action.STATUS, status=500, times=3)               # 500 three times
    Fault("/version", Action.RESET)                                          # TCP reset, no answer
    Fault("/apis/batch/v1/jobs", Action.DELAY, seconds=2)                    # slow, then normal
    Fault("/api/v1/pods", Action.HANG)                                       # until the client gives up
    Fault("/api/v1/pods", Action.EXPIRE, page=3)                             # 410 on page 3

The same rules load from YAML or JSON (``load_faults``): a list of mappings with these field
names, e.g. ``- {path: /api/v1/pods, action: status, status: 429, retry_after: 1, nth: 2}``.
"""

from __future__ import annotations

import fnmatch
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml


class Action(StrEnum):
    STATUS = "status"  # answer with the error ``status`` (Status body; APF's plain text for 429)
    RESET = "reset"  # close the connection with a TCP reset before answering
    DELAY = "delay"  # wait ``seconds``, then answer normally
    HANG = "hang"  # answer nothing until the client closes the connection or the server stops
    EXPIRE = "expire"  # 410 Expired, as if the continue token's revision had been compacted


@dataclass(frozen=True, slots=True)
class Fault:
    path: str
    action: Action = Action.STATUS
    status: int = 500
    nth: int = 1
    times: int | None = 1
    page: int | None = None
    method: str | None = None
    seconds: float = 0.0
    retry_after: int | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", Action(self.action))
        if self.nth < 1 or (self.times is not None and self.times < 1):
            raise ValueError(f"fault on {self.path}: nth and times count from 1")
        if self.action is Action.STATUS and not 400 <= self.status <= 599:
            raise ValueError(f"fault on {self.path}: status {self.status} is not an error code")
        if self.page is not None and self.page < 1:
            raise ValueError(f"fault on {self.path}: pages count from 1")

    def matches(self, method: str, path: str, page: int | None) -> bool:
        return (
            (self.method is None or self.method.upper() == method)
            and fnmatch.fnmatchcase(path, self.path)
            and (self.page is None or self.page == page)
        )


class FaultPlan:
    """The rules plus their per-rule counters; safe to consult from many handler threads."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self._lock = threading.Lock()
        self._faults: tuple[Fault, ...] = tuple(faults)
        self._seen = [0] * len(self._faults)

    def replace(self, faults: Iterable[Fault]) -> None:
        """Swap in new rules, with fresh counters."""
        with self._lock:
            self._faults = tuple(faults)
            self._seen = [0] * len(self._faults)

    def decide(self, method: str, path: str, page: int | None) -> Fault | None:
        """Count this request against every rule it matches; return the first that fires."""
        chosen: Fault | None = None
        with self._lock:
            for position, fault in enumerate(self._faults):
                if not fault.matches(method, path, page):
                    continue
                self._seen[position] += 1
                seen = self._seen[position]
                fires = seen >= fault.nth and (fault.times is None or seen < fault.nth + fault.times)
                if fires and chosen is None:
                    chosen = fault
        return chosen


_FIELDS = frozenset(f.name for f in fields(Fault))


def fault_from_mapping(raw: Mapping[str, Any]) -> Fault:
    unknown = set(raw) - _FIELDS
    if unknown:
        raise ValueError(f"unknown fault field(s) {sorted(unknown)}; known: {sorted(_FIELDS)}")
    if "path" not in raw:
        raise ValueError("a fault needs a path")
    return Fault(**raw)


def load_faults(path: str | os.PathLike[str]) -> tuple[Fault, ...]:
    """Rules from a YAML (or JSON) file holding a list of mappings."""
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if document is None:
        return ()
    if not isinstance(document, Sequence) or isinstance(document, str | bytes):
        raise ValueError(f"{path}: expected a list of faults")
    return tuple(fault_from_mapping(entry) for entry in document)
