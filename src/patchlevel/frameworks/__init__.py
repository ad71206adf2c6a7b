"""Load the requirement mapping (``pci.yaml``) once per process and validate it against the check registry."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources

import msgspec
import yaml

from patchlevel.errors import PatchlevelError
from patchlevel.model import Requirement

MAPPING_FILE = "pci.yaml"


class _Entry(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    framework: str
    title: str
    text: str = ""
    checks: list[str] | None = None
    note: str = ""


class _Mapping(msgspec.Struct, forbid_unknown_fields=True):
    requirements: list[_Entry]


def _words(text: str) -> str:
    return " ".join(text.split())


@cache
def _mapping() -> tuple[Requirement, ...]:
    text = (resources.files("patchlevel.frameworks") / MAPPING_FILE).read_text(encoding="utf-8")
    try:
        doc = msgspec.convert(yaml.safe_load(text), _Mapping)
    except (yaml.YAMLError, msgspec.ValidationError) as exc:
        raise PatchlevelError(f"{MAPPING_FILE}: {exc}") from None
    requirements: list[Requirement] = []
    seen: set[str] = set()
    for entry in doc.requirements:
        if entry.id in seen:
            raise PatchlevelError(f"{MAPPING_FILE}: requirement {entry.id} is listed twice")
        seen.add(entry.id)
        requirements.append(
            Requirement(
                id=entry.id,
                framework=entry.framework,
                title=entry.title,
                text=_words(entry.text),
                checks=tuple(entry.checks or ()),
                note=_words(entry.note),
            )
        )
    return tuple(requirements)


def load_requirements(check_ids: Iterable[str]) -> tuple[Requirement, ...]:
    """Every requirement with the checks that serve it; raises if the mapping names an unknown check."""
    known = set(check_ids)
    requirements = _mapping()
    for requirement in requirements:
        unknown = [c for c in requirement.checks if c not in known]
        if unknown:
            raise PatchlevelError(f"{MAPPING_FILE}: requirement {requirement.id} names unknown checks {unknown}")
    return requirements


def requirements_by_check(requirements: Iterable[Requirement]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for requirement in requirements:
        for check in requirement.checks:
            out.setdefault(check, []).append(requirement.id)
    return {k: tuple(v) for k, v in out.items()}
