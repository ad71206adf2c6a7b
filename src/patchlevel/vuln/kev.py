"""CISA's Known Exploited Vulnerabilities (KEV) catalog: which CVEs are exploited in the wild, since when.

Source: https://www.cisa.gov/known-exploited-vulnerabilities-catalog (CC0 1.0), served as
``known_exploited_vulnerabilities.json``: ``catalogVersion``, ``dateReleased``, ``count`` and
``vulnerabilities[]`` with ``cveID``, ``vendorProject``, ``product``, ``vulnerabilityName``,
``dateAdded``, ``dueDate`` (the US federal remediation due date, BOD 22-01),
``knownRansomwareCampaignUse`` ("Known" or "Unknown") and more.

The lifecycle data directory keeps ``kev/known_exploited_vulnerabilities.json`` trimmed to those
fields (``trim_kev``) with a ``patchlevel`` block saying where and when it came from; ``parse_kev``
reads both the full and the trimmed file.

API::

    catalog = load_kev(path)                      # or parse_kev(data, where)
    entry = catalog.lookup("CVE-2021-44228", as_of)  # KevEntry | None: None also when added after as_of
    entry.describe()   # "known exploited (CISA KEV, added 2021-12-10, federal due date 2021-12-24)"
    kev_stale_warning(catalog, as_of, max_age_days)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import msgspec

from patchlevel.errors import LifecycleError

KEV_URL: Final = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
KEV_FILE: Final = "known_exploited_vulnerabilities.json"
KEV_LICENCE: Final = "CC0-1.0"
_CVE = re.compile(r"CVE-\d{4}-\d{4,19}")
# The fields the trimmed copy keeps, as the catalog spells them.
KEPT_FIELDS: Final = (
    "cveID",
    "vendorProject",
    "product",
    "vulnerabilityName",
    "dateAdded",
    "dueDate",
    "knownRansomwareCampaignUse",
)


@dataclass(frozen=True, slots=True)
class KevEntry:
    cve_id: str
    vendor_project: str
    product: str
    name: str  # vulnerabilityName
    date_added: date
    due_date: date | None  # the federal remediation due date
    known_ransomware: bool | None  # "Known" -> True, "Unknown" -> None (CISA does not say "no")

    def describe(self) -> str:
        due = f", federal due date {self.due_date}" if self.due_date else ""
        return f"known exploited (CISA KEV, added {self.date_added}{due})"


@dataclass(frozen=True, slots=True)
class KevCatalog:
    version: str  # catalogVersion, e.g. "2025.08.25"
    released: date  # dateReleased (UTC day)
    entries: Mapping[str, KevEntry]
    source: str = ""  # where it was read from (URL or file)
    retrieved: date | None = None  # when patchlevel fetched it (trimmed copies)
    licence: str = KEV_LICENCE

    def lookup(self, cve_id: str, as_of: date | None = None) -> KevEntry | None:
        """The catalog entry of ``cve_id``; None when absent, or added after ``as_of``."""
        entry = self.entries.get(cve_id.strip().upper())
        if entry is None or (as_of is not None and entry.date_added > as_of):
            return None
        return entry

    def __len__(self) -> int:
        return len(self.entries)


_ENTRY_NAMES: Final = {
    "cve_id": "cveID",
    "vendor_project": "vendorProject",
    "name": "vulnerabilityName",
    "date_added": "dateAdded",
    "due_date": "dueDate",
    "ransomware": "knownRansomwareCampaignUse",
}


class _Vulnerability(msgspec.Struct, rename=_ENTRY_NAMES):
    cve_id: str
    date_added: date
    vendor_project: str = ""
    product: str = ""
    name: str = ""
    due_date: date | None = None
    ransomware: str = ""


class _Provenance(msgspec.Struct):
    source: str = ""
    retrieved: date | None = None
    licence: str = KEV_LICENCE


class _Catalog(msgspec.Struct, rename={"version": "catalogVersion", "released": "dateReleased"}):
    version: str
    released: str
    vulnerabilities: list[_Vulnerability]
    count: int | None = None
    patchlevel: _Provenance | None = None


def parse_kev(data: bytes, where: str) -> KevCatalog:
    """Validate and read a KEV catalog (full or trimmed); LifecycleError names ``where`` and the field."""
    try:
        raw = msgspec.json.decode(data, type=_Catalog)
    except msgspec.ValidationError as exc:
        raise LifecycleError(f"{where}: not a CISA KEV catalog: {exc}") from None
    except msgspec.DecodeError as exc:
        raise LifecycleError(f"{where}: not valid JSON: {exc}") from None
    try:
        released = date.fromisoformat(raw.released[:10])
    except ValueError:
        raise LifecycleError(f"{where}: dateReleased {raw.released!r} is not a date") from None
    if raw.count is not None and raw.count != len(raw.vulnerabilities):
        raise LifecycleError(
            f"{where}: the catalog says it holds {raw.count} entries but lists {len(raw.vulnerabilities)} "
            "(a truncated download?)"
        )
    if not raw.vulnerabilities:
        raise LifecycleError(f"{where}: the catalog lists no vulnerabilities")
    entries: dict[str, KevEntry] = {}
    for index, item in enumerate(raw.vulnerabilities):
        cve = item.cve_id.strip().upper()
        if not _CVE.fullmatch(cve):
            raise LifecycleError(f"{where}: vulnerabilities[{index}].cveID {item.cve_id!r} is not a CVE id")
        if item.date_added > released:
            raise LifecycleError(
                f"{where}: vulnerabilities[{index}] ({cve}) was added on {item.date_added}, after the "
                f"catalog's release date {released}"
            )
        entries.setdefault(
            cve,
            KevEntry(
                cve_id=cve,
                vendor_project=item.vendor_project,
                product=item.product,
                name=item.name,
                date_added=item.date_added,
                due_date=item.due_date,
                known_ransomware=True if item.ransomware.strip().lower() == "known" else None,
            ),
        )
    provenance = raw.patchlevel
    return KevCatalog(
        version=raw.version,
        released=released,
        entries=entries,
        source=(provenance.source if provenance and provenance.source else where),
        retrieved=provenance.retrieved if provenance else None,
        licence=provenance.licence if provenance else KEV_LICENCE,
    )


def trim_kev(data: bytes, *, source: str, retrieved: date, where: str) -> bytes:
    """The catalog with only ``KEPT_FIELDS`` per entry and a ``patchlevel`` provenance block.

    Validates ``data`` first (``parse_kev``); the result reads back to the same catalog.
    """
    parse_kev(data, where)
    doc: dict[str, Any] = msgspec.json.decode(data)
    head = {
        "title": doc.get("title", "CISA Catalog of Known Exploited Vulnerabilities"),
        "catalogVersion": doc["catalogVersion"],
        "dateReleased": doc["dateReleased"],
        "count": len(doc["vulnerabilities"]),
        "patchlevel": {
            "source": source,
            "retrieved": retrieved.isoformat(),
            "licence": KEV_LICENCE,
            "note": "trimmed by patchlevel to the fields it uses: " + ", ".join(KEPT_FIELDS),
        },
    }
    # one entry per line: small, and a refresh diffs line by line
    lines = [msgspec.json.encode({k: v[k] for k in KEPT_FIELDS if k in v}) for v in doc["vulnerabilities"]]
    return b"".join([msgspec.json.encode(head)[:-1], b',"vulnerabilities":[\n', b",\n".join(lines), b"\n]}\n"])


def load_kev(path: Path) -> KevCatalog:
    """Read a KEV catalog file (LifecycleError when it cannot be read or is not one)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LifecycleError(f"cannot read the KEV catalog {path}: {exc.strerror or exc}") from None
    return parse_kev(data, str(path))


KEV_FOLDER: Final = "kev"


def load_kev_data(data_dir: Path, fallback: Path | None = None) -> KevCatalog | None:
    """The catalog of a lifecycle data directory (``kev/known_exploited_vulnerabilities.json``).

    A directory written before KEV was bundled has none: then ``fallback`` (the bundled data) is
    read when given; None when neither has it.
    """
    for base in (data_dir, fallback):
        if base is not None and (base / KEV_FOLDER / KEV_FILE).is_file():
            return load_kev(base / KEV_FOLDER / KEV_FILE)
    return None


def kev_stale_warning(catalog: KevCatalog, as_of: date, max_age_days: int) -> str | None:
    """A warning when the catalog was released more than ``max_age_days`` before ``as_of``."""
    age = (as_of - catalog.released).days
    if age <= max_age_days:
        return None
    return (
        f"the CISA KEV catalog is version {catalog.version} of {catalog.released}, {age} days before the as-of "
        f"date {as_of} (more than {max_age_days}): vulnerabilities added since then are not known as exploited; "
        "run 'patchlevel lifecycle update'"
    )
