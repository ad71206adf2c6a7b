"""The reference data checks judge by, loaded once per run: lifecycle catalog, CVE feed, KEV, runtime matrix.

Loading reads files (the bundled data, or a directory ``lifecycle update`` wrote); judging never
does.  A ``Knowledge`` value is immutable and may be shared by every audit of a fleet.  Each source
of a user data directory that an older ``lifecycle update`` did not write (no ``vulndb/``, no
``kev/``) is read from the bundled data instead, so coverage never silently falls back to older data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from patchlevel.lifecycle.catalog import BUNDLED_DATA, Catalog, load_catalog
from patchlevel.lifecycle.osv import OsvFeed, load_cve_feed
from patchlevel.vuln.kev import KevCatalog, load_kev_data

RUNTIME_COMPAT = "runtime-compat.json"


@dataclass(frozen=True, slots=True)
class Knowledge:
    """Reference data the checks judge by, each dated by its own source."""

    catalog: Catalog
    osv: OsvFeed  # Kubernetes, container-runtime and add-on CVEs (Go vulnerability database + cve-feed-osv)
    runtime_compat: dict[str, Any]
    kev: KevCatalog | None = None  # CISA Known Exploited Vulnerabilities; None when no copy is found


def load_knowledge(catalog: Catalog) -> Knowledge:
    """Everything else comes from the same data directory as the catalog (bundled data for what it lacks)."""
    data_dir = catalog.data_dir
    compat_path = data_dir / RUNTIME_COMPAT
    if not compat_path.is_file():
        compat_path = BUNDLED_DATA / RUNTIME_COMPAT
    return Knowledge(
        catalog=catalog,
        osv=load_cve_feed(data_dir, fallback=BUNDLED_DATA),
        runtime_compat=json.loads(compat_path.read_text(encoding="utf-8")),
        kev=load_kev_data(data_dir, fallback=BUNDLED_DATA),
    )


def load_default_knowledge(data_dir: Path | None = None) -> Knowledge:
    """Knowledge from ``data_dir`` (or the user's updated data, else the bundled data)."""
    return load_knowledge(load_catalog(data_dir))
