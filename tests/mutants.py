"""Type-wise mutations of real JSON documents, for tests that untrusted input never crashes a reader."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

MISSING = object()  # the key removed
# One value of each JSON type, and strings that are almost dates or times.
MUTANTS: tuple[Any, ...] = (
    MISSING,
    None,
    True,
    False,
    0,
    -1,
    10**30,
    1.5,
    "",
    "x",
    "2026-02-30",
    "20260901",
    "9999-12-31T23:00:00-05:00",
    [],
    [1],
    {},
    {"x": 1},
)
FieldPath = tuple[str | int, ...]


def field_paths(value: Any, here: FieldPath = ()) -> Iterator[FieldPath]:
    """Every field path of a document; of a list only its first item, of ``versions`` only its first entry."""
    if isinstance(value, dict):
        items = list(value.items())
        if here and here[-1] == "versions":
            items = items[:1]
        for key, child in items:
            yield (*here, key)
            yield from field_paths(child, (*here, key))
    elif isinstance(value, list) and value:
        yield (*here, 0)
        yield from field_paths(value[0], (*here, 0))


def mutated(doc: Any, path: FieldPath, mutant: Any) -> Any:
    """A copy of ``doc`` with the field at ``path`` replaced by ``mutant`` (removed for MISSING); ``()``: the whole."""
    if not path:
        return mutant
    doc = copy.deepcopy(doc)
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if mutant is MISSING:
        del parent[path[-1]]
    else:
        parent[path[-1]] = mutant
    return doc


def mutations(doc: Any) -> Iterator[tuple[FieldPath, Any, str]]:
    """(path, mutant, test id) for every field of ``doc`` and the document itself."""
    for path in [(), *field_paths(doc)]:
        for mutant in MUTANTS:
            if path == () and mutant is MISSING:
                continue
            label = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
            shown = "missing" if mutant is MISSING else json.dumps(mutant)[:20]
            yield path, mutant, f"{label}={shown}"
