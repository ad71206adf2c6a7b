"""Grype JSON (``grype -o json``), descriptor versions 0.7 to 0.96.

``{matches: [{vulnerability, artifact}], source: {type, target}, distro, descriptor}``.  What
moved between versions:

* the fix: ``vulnerability.fixedInVersion`` (0.7) became ``fix: {versions: [...], state}``;
* ``descriptor.timestamp`` (the scan time) appears only in newer versions;
* the database build time is ``descriptor.db.built`` (schema v3-v5) or
  ``descriptor.db.status.built`` (schema v6, grype 0.88 and later);
* ``source.target`` is an object for images and a plain string for directories and files;
* severities are capitalised (``Negligible``, ``Unknown``) and may be null;
* the report never lists the packages grype catalogued (see ``_package_targets``).
"""

from __future__ import annotations

import msgspec

from patchlevel.importers.base import (
    Node,
    digest,
    first,
    repo_digests,
    severity,
    text_or_none,
    timestamp,
    unique,
)
from patchlevel.scans import CONTAINER_IMAGE, ScanReport, Vulnerability

# What grype prints as its version when the build did not stamp one.
_UNSTAMPED = "[not provided]"
# grype's source.type to ScanReport.artifact_type.
_ARTIFACT_TYPES = {"image": CONTAINER_IMAGE, "directory": "filesystem", "file": "filesystem"}


class _Fix(msgspec.Struct):
    versions: list[str] | None = None
    state: str = ""


class _Vulnerability(msgspec.Struct):
    id: str = ""
    severity: str | None = None
    fix: _Fix | None = None
    fixedInVersion: str = ""
    dataSource: str = ""
    urls: list[str] | None = None
    links: list[str] | None = None


class _Artifact(msgspec.Struct):
    name: str = ""
    version: str = ""


class _Match(msgspec.Struct):
    vulnerability: _Vulnerability
    artifact: _Artifact


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


def _vulnerability(match: _Match) -> Vulnerability:
    v = match.vulnerability
    fix = v.fix or _Fix()
    fixed = ", ".join(x.strip() for x in fix.versions or () if x.strip()) or v.fixedInVersion
    return Vulnerability(
        id=v.id,
        severity=severity(v.severity),
        package=match.artifact.name,
        installed_version=match.artifact.version,
        fixed_version=text_or_none(fixed),
        status=fix.state,
        url=first([v.dataSource, *(v.urls or []), *(v.links or [])]),
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
