"""Load the requirement mapping (``pci.yaml``) and validate it against the check registry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

import yaml

from patchlevel.errors import PatchlevelError
from patchlevel.model import Requirement

MAPPING_FILE = "pci.yaml"


def load_requirements(check_ids: Iterable[str]) -> tuple[Requirement, ...]:
    """Every requirement with the checks that serve it; raises if the mapping names an unknown check."""
    text = (resources.files("patchlevel.frameworks") / MAPPING_FILE).read_text(encoding="utf-8")
    doc: Any = yaml.safe_load(text)
    known = set(check_ids)
    requirements: list[Requirement] = []
    seen: set[str] = set()
    for entry in doc.get("requirements", []) if isinstance(doc, Mapping) else []:
        rid = str(entry["id"])
        if rid in seen:
            raise PatchlevelError(f"{MAPPING_FILE}: requirement {rid} is listed twice")
        seen.add(rid)
        checks = tuple(str(c) for c in entry.get("checks") or ())
        unknown = [c for c in checks if c not in known]
        if unknown:
            raise PatchlevelError(f"{MAPPING_FILE}: requirement {rid} names unknown checks {unknown}")
        requirements.append(
            Requirement(
                id=rid,
                framework=str(entry["framework"]),
                title=str(entry["title"]),
                text=" ".join(str(entry.get("text", "")).split()),
                checks=checks,
                note=" ".join(str(entry.get("note", "")).split()),
            )
        )
    return tuple(requirements)


def requirements_by_check(requirements: Iterable[Requirement]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for requirement in requirements:
        for check in requirement.checks:
            out.setdefault(check, []).append(requirement.id)
    return {k: tuple(v) for k, v in out.items()}
