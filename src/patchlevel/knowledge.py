"""The reference data checks judge by, loaded once per run: lifecycle catalog, CVE feed, KEV, EPSS, runtime matrix.

Loading reads files (the bundled data, or a directory ``lifecycle update`` wrote); judging never
does.  A ``Knowledge`` value is immutable and may be shared by every audit of a fleet.  Each source
of a user data directory that an older ``lifecycle update`` did not write (no ``vulndb/``, no
``kev/``) is read from the bundled data instead, so coverage never silently falls back to older data.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from patchlevel.inventory import Inventory
from patchlevel.lifecycle.catalog import BUNDLED_DATA, Catalog, load_catalog
from patchlevel.lifecycle.osv import OsvFeed, load_cve_feed
from patchlevel.model import DataSource
from patchlevel.vuln.epss import EpssScores, load_epss_data
from patchlevel.vuln.kev import KevCatalog, load_kev_data

RUNTIME_COMPAT = "runtime-compat.json"


@dataclass(frozen=True, slots=True)
class Knowledge:
    """Reference data the checks judge by, each dated by its own source."""

    catalog: Catalog
    osv: OsvFeed  # Kubernetes, container-runtime and add-on CVEs (Go vulnerability database + cve-feed-osv)
    runtime_compat: dict[str, Any]
    kev: KevCatalog | None = None  # CISA Known Exploited Vulnerabilities; None when no copy is found
    # FIRST EPSS scores: not bundled, so None until ``lifecycle update`` fetched them into the data
    # directory; possibly only the CVEs an audit's scans name (``EpssScores.rows`` counts the whole file).
    epss: EpssScores | None = None


def lifecycle_source(catalog: Catalog, stale_days: int, on: date) -> DataSource:
    """The lifecycle data as a dated source of a report judged on ``on`` (an audit's as-of, a period's end)."""
    age = catalog.age_days(on)
    return DataSource(
        name="lifecycle",
        source=f"{catalog.source or 'endoflife.date'} ({'bundled' if catalog.bundled else catalog.data_dir})",
        retrieved=catalog.data_date,
        age_days=age,
        stale=age > stale_days,
        detail=f"{len(catalog.products)} products",
    )


def kev_source(kev: KevCatalog, stale_days: int, on: date) -> DataSource:
    """The CISA KEV catalog as a dated source of a report judged on ``on``."""
    age = (on - kev.released).days
    return DataSource(
        name="cisa-kev",
        source=f"CISA Known Exploited Vulnerabilities catalog {kev.version} ({kev.licence})",
        retrieved=kev.released,
        age_days=age,
        stale=age > stale_days,
        detail=f"{len(kev.entries)} entries",
    )


def load_knowledge(catalog: Catalog, *, epss_only: Collection[str] | None = None, epss: bool = True) -> Knowledge:
    """Everything else comes from the same data directory as the catalog (bundled data for what it lacks).

    ``epss_only``: keep only these CVEs' EPSS scores (``scan_cves`` of the inventory to be judged);
    None keeps every score (about 300,000: some 60 MB), as a ``Knowledge`` shared by many audits must.
    ``epss=False`` reads no EPSS file (``with_epss_for`` adds the scores once the scans are known).
    """
    data_dir = catalog.data_dir
    compat_path = data_dir / RUNTIME_COMPAT
    if not compat_path.is_file():
        compat_path = BUNDLED_DATA / RUNTIME_COMPAT
    return Knowledge(
        catalog=catalog,
        osv=load_cve_feed(data_dir, fallback=BUNDLED_DATA),
        runtime_compat=json.loads(compat_path.read_text(encoding="utf-8")),
        kev=load_kev_data(data_dir, fallback=BUNDLED_DATA),
        epss=load_epss_data(data_dir, only=epss_only) if epss else None,
    )


def load_default_knowledge(
    data_dir: Path | None = None, *, epss_only: Collection[str] | None = None, epss: bool = True
) -> Knowledge:
    """Knowledge from ``data_dir`` (or the user's updated data, else the bundled data)."""
    return load_knowledge(load_catalog(data_dir), epss_only=epss_only, epss=epss)


def with_epss_for(knowledge: Knowledge, inventory: Inventory) -> Knowledge:
    """``knowledge`` with the EPSS scores of the CVEs the inventory's scans name (none read without scans)."""
    cves = scan_cves(inventory)
    if not cves:
        return knowledge
    return replace(knowledge, epss=load_epss_data(knowledge.catalog.data_dir, only=cves))


def scan_cves(inventory: Inventory) -> frozenset[str]:
    """Every CVE id (and alias) the inventory's scan reports name: the EPSS scores an audit of it can use."""
    found: set[str] = set()
    for report in inventory.scans:
        for vulnerability in (*report.vulnerabilities, *report.suppressed):
            found.update(i for i in vulnerability.ids if i.startswith("CVE-"))
    return frozenset(found)
