"""Grype JSON (``grype -o json``), descriptor versions 0.7 to 0.96.

``{matches: [{vulnerability, artifact}], source: {type, target}, distro, descriptor}``.  What
moved between versions:

* the fix: ``vulnerability.fixedInVersion`` (0.7) became ``fix: {versions: [...], state}``;
* ``descriptor.timestamp`` (the scan time) appears only in newer versions;
* the database build time is ``descriptor.db.built`` (schema v3-v5) or
  ``descriptor.db.status.built`` (schema v6, grype 0.88 and later);
* ``source.target`` is an object for images and a plain string for directories and files;
* severities are capitalised (``Negligible``, ``Unknown``) and may be null;
* the report never lists the packages grype catalogued (see ``_package_targets``);
* risk data (database schema v6, grype 0.88 and later): ``vulnerability.knownExploited`` (CISA KEV
  entries: ``cve``, ``dateAdded``, ``dueDate``, ``knownRansomwareCampaignUse``), ``vulnerability.epss``
  (``cve``, ``epss``, ``percentile``, ``date``) and ``vulnerability.risk``; NVD's CVSS comes from the
  match's own record when its ``namespace`` is ``nvd``/``nvd:cpe``, else from ``relatedVulnerabilities``
  (a distribution's record links the NVD record of the same CVE; a GHSA record names its CVE there,
  which becomes an alias).
"""

from __future__ import annotations

import math

import msgspec

from patchlevel.importers.base import (
    Node,
    day,
    digest,
    first,
    repo_digests,
    severity,
    text_or_none,
    timestamp,
    unique,
)
from patchlevel.scans import CONTAINER_IMAGE, CvssScore, ReportedEpss, ReportedKev, ScanReport, Vulnerability

# What grype prints as its version when the build did not stamp one.
_UNSTAMPED = "[not provided]"
# grype's source.type to ScanReport.artifact_type.
_ARTIFACT_TYPES = {"image": CONTAINER_IMAGE, "directory": "filesystem", "file": "filesystem"}


class _Fix(msgspec.Struct):
    versions: list[str] | None = None
    state: str = ""


class _CvssMetrics(msgspec.Struct):
    baseScore: float | None = None


class _Cvss(msgspec.Struct):
    version: str = ""
    vector: str = ""
    source: str = ""  # "nvd@nist.gov", a CNA's id, …; absent before grype's v6 database
    type: str = ""  # "Primary" (the record owner's score) or "Secondary"
    metrics: _CvssMetrics | None = None


class _KnownExploited(msgspec.Struct):
    cve: str = ""
    dateAdded: str = ""
    dueDate: str = ""
    knownRansomwareCampaignUse: str = ""


class _Epss(msgspec.Struct):
    cve: str = ""
    epss: float | None = None
    percentile: float | None = None
    date: str = ""


class _Vulnerability(msgspec.Struct):
    id: str = ""
    severity: str | None = None
    fix: _Fix | None = None
    fixedInVersion: str = ""
    dataSource: str = ""
    urls: list[str] | None = None
    links: list[str] | None = None
    namespace: str = ""
    cvss: list[_Cvss] | None = None
    knownExploited: list[_KnownExploited] | None = None
    epss: list[_Epss] | None = None
    risk: float | None = None


class _Related(msgspec.Struct):
    id: str = ""
    namespace: str = ""
    cvss: list[_Cvss] | None = None


class _Artifact(msgspec.Struct):
    name: str = ""
    version: str = ""
    purl: str = ""


class _Match(msgspec.Struct):
    vulnerability: _Vulnerability
    artifact: _Artifact
    relatedVulnerabilities: list[_Related] | None = None


class _ImageTarget(msgspec.Struct):
    userInput: str = ""
    imageID: str = ""
    manifestDigest: str = ""
    repoDigests: list[str] | None = None
    tags: list[str] | None = None


class _Source(msgspec.Struct):
    type: str = ""
    target: _ImageTarget | str | None = None


class _Distro(msgspec.Struct):
    name: str = ""
    version: str = ""


class _DBStatus(msgspec.Struct):
    built: str | None = None


class _DB(msgspec.Struct):
    built: str | None = None
    status: _DBStatus | None = None


class _Descriptor(msgspec.Struct):
    name: str = ""
    version: str = ""
    timestamp: str | None = None
    db: _DB | None = None


class _Document(msgspec.Struct):
    matches: list[_Match] | None = None
    ignoredMatches: list[msgspec.Raw] | None = None  # counted only: matches an ignore rule hid
    source: _Source | None = None
    distro: _Distro | None = None
    descriptor: _Descriptor | None = None


_NVD_SOURCES = frozenset({"nvd", "nvd@nist.gov"})


def _is_nvd(namespace: str) -> bool:
    return namespace.strip().lower().split(":", 1)[0] == "nvd"  # "nvd", "nvd:cpe"


def _nvd_cvss(records: list[tuple[str, list[_Cvss] | None]]) -> tuple[CvssScore, ...]:
    """CVSS v3.x and v4.0 base scores of the NVD records among ``records`` (namespace, cvss), and any
    score whose ``source`` is NVD.

    A v6 database writes every score NVD lists with its ``source`` and ``type``: NVD's own
    (``Primary``, ``nvd@nist.gov``) come first; a CNA's score NVD republishes (``Secondary``) is kept
    after them, named by its source.  Older databases write no source: the NVD record's scores are NVD's.
    """
    primary: list[CvssScore] = []
    secondary: list[CvssScore] = []
    for namespace, entries in records:
        nvd_record = _is_nvd(namespace)
        for entry in entries or ():
            version = entry.version.strip()
            score = entry.metrics.baseScore if entry.metrics else None
            by_nvd = entry.source.strip().lower() in _NVD_SOURCES
            if not (nvd_record or by_nvd) or not version.startswith(("3", "4")) or score is None:
                continue
            if not math.isfinite(score) or not 0.0 <= score <= 10.0:
                continue
            source = entry.source.strip() or "nvd"
            item = CvssScore(version, score, entry.vector.strip(), source)
            own = entry.type.strip().lower() in ("", "primary") and source.lower() in _NVD_SOURCES
            (primary if own else secondary).append(item)
    return tuple(dict.fromkeys(primary + secondary))


def _known_exploited(v: _Vulnerability, ids: tuple[str, ...]) -> ReportedKev | None:
    for entry in v.knownExploited or ():
        if entry.cve.strip().upper() in ids:
            return ReportedKev(
                entry.cve.strip().upper(),
                day(entry.dateAdded),
                day(entry.dueDate),
                True if entry.knownRansomwareCampaignUse.strip().lower() == "known" else None,
            )
    return None


def _epss(v: _Vulnerability, ids: tuple[str, ...]) -> ReportedEpss | None:
    for entry in v.epss or ():
        score, percentile = entry.epss, entry.percentile
        if entry.cve.strip().upper() not in ids or score is None:
            continue
        if not (math.isfinite(score) and 0.0 <= score <= 1.0):
            continue
        if percentile is not None and not (math.isfinite(percentile) and 0.0 <= percentile <= 1.0):
            percentile = None
        return ReportedEpss(entry.cve.strip().upper(), score, percentile, day(entry.date))
    return None


def _vulnerability(match: _Match) -> Vulnerability:
    v = match.vulnerability
    fix = v.fix or _Fix()
    fixed = ", ".join(x.strip() for x in fix.versions or () if x.strip()) or v.fixedInVersion
    related = match.relatedVulnerabilities or []
    aliases = tuple(dict.fromkeys(r.id.strip() for r in related if r.id.strip() and r.id.strip() != v.id))
    ids = tuple(i.upper() for i in (v.id, *aliases))
    risk = v.risk if v.risk is not None and math.isfinite(v.risk) else None
    return Vulnerability(
        id=v.id,
        severity=severity(v.severity),
        package=match.artifact.name,
        installed_version=match.artifact.version,
        fixed_version=text_or_none(fixed),
        status=fix.state,
        url=first([v.dataSource, *(v.urls or []), *(v.links or [])]),
        aliases=aliases,
        purl=match.artifact.purl.strip(),
        severity_origin=v.namespace.strip(),
        nvd_cvss=_nvd_cvss([(v.namespace, v.cvss), *((r.namespace, r.cvss) for r in related)]),
        known_exploited=_known_exploited(v, ids),
        epss=_epss(v, ids),
        risk=risk,
    )


class GrypeImporter:
    """Grype's JSON report: one image (or directory) per document."""

    format = "grype"

    def recognises(self, root: Node) -> bool:
        mapping = root.mapping()
        if mapping is None or "matches" not in mapping:
            return False
        return "descriptor" in mapping or "source" in mapping

    def parse(self, root: Node) -> list[ScanReport]:
        doc = root.decode(_Document)
        descriptor = doc.descriptor or _Descriptor()
        db = descriptor.db or _DB()
        target = doc.source.target if doc.source else None
        image = target if isinstance(target, _ImageTarget) else _ImageTarget(userInput=target or "")
        distro = doc.distro or _Distro()
        version = text_or_none(descriptor.version)
        return [
            ScanReport(
                source=root.source,
                format=self.format,
                scanner="grype",
                scanner_version=None if version == _UNSTAMPED else version,
                scanned_at=timestamp(descriptor.timestamp),
                db_updated_at=timestamp(db.built or (db.status.built if db.status else None)),
                artifact=first([image.userInput, *(image.tags or [])]),
                repo_digests=repo_digests(image.repoDigests),
                manifest_digests=tuple(d for d in [digest(image.manifestDigest)] if d),
                image_id=digest(image.imageID),
                os_family=text_or_none(distro.name),
                os_name=text_or_none(distro.version),
                os_eosl=None,  # grype's report does not say whether the distro is end of life
                vulnerabilities=unique(_vulnerability(m) for m in doc.matches or ()),
                repo_tags=tuple(dict.fromkeys(t.strip() for t in image.tags or () if t.strip())),
                artifact_type=_ARTIFACT_TYPES.get(
                    doc.source.type if doc.source else "", doc.source.type if doc.source else ""
                ),
                package_targets=_package_targets(doc, distro),
            )
        ]


def _package_targets(doc: _Document, distro: _Distro) -> int | None:
    """1 when the report shows grype catalogued the image's packages, None when it does not say.

    Grype's JSON lists matches, not the packages it catalogued, so an empty ``matches`` alone
    cannot tell a clean image from one in which nothing was catalogued.  A match (shown or
    ignored) proves packages were read; so does an identified distribution, whose packages grype
    catalogues to match them against that distribution's advisories.
    """
    if doc.matches or doc.ignoredMatches or distro.name.strip():
        return 1
    return None
