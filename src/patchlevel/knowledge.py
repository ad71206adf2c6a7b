"""The reference data checks judge by, loaded once per run: lifecycle catalog, CVE feed, runtime matrix.

Loading reads files (the bundled data, or a directory ``lifecycle update`` wrote); judging never
does.  A ``Knowledge`` value is immutable and may be shared by every audit of a fleet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from patchlevel.lifecycle.catalog import Catalog, load_catalog
from patchlevel.lifecycle.osv import OsvFeed, load_osv


@dataclass(frozen=True, slots=True)
class Knowledge:
    """Reference data the checks judge by: lifecycle catalog, Kubernetes CVE feed, runtime matrix."""

    catalog: Catalog
    osv: OsvFeed
    runtime_compat: dict[str, Any]


def load_knowledge(catalog: Catalog) -> Knowledge:
    """The CVE feed and runtime matrix come from the same data directory as the catalog."""
    osv_dir = catalog.data_dir / "osv"
    compat_path = catalog.data_dir / "runtime-compat.json"
    bundled = resources.files("patchlevel.lifecycle") / "data"
    if not osv_dir.is_dir():
        osv_dir = type(catalog.data_dir)(str(bundled / "osv"))
    compat_text = compat_path.read_text() if compat_path.is_file() else (bundled / "runtime-compat.json").read_text()
    return Knowledge(catalog, load_osv(osv_dir), json.loads(compat_text))


def load_default_knowledge(data_dir: Path | None = None) -> Knowledge:
    """Knowledge from ``data_dir`` (or the user's updated data, else the bundled data)."""
    return load_knowledge(load_catalog(data_dir))
