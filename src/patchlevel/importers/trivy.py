"""Trivy JSON: ``trivy image`` (legacy list and SchemaVersion 2) and ``trivy k8s``.

Shapes handled, all seen in real reports:

* legacy (Trivy <= 0.19): a bare list of results ``[{Target, Type, Class?, Vulnerabilities}]``
  with no Metadata.  The OS comes only from the OS result's target, "image (alpine 3.9.4)".
* SchemaVersion 2: ``{SchemaVersion, CreatedAt?, Trivy?{Version}, ArtifactName, Metadata{OS,
  ImageID, RepoTags, RepoDigests, ImageConfig}, Results}``.  ``Metadata.OS.EOSL`` is written
  only when true, so its absence stays None.
* ``trivy k8s``: ``{ClusterName, Vulnerabilities|Resources|Findings: [{Namespace, Kind, Name,
  Metadata?, Results}]}``.  Older reports put image resources under ``Vulnerabilities``; newer
  ones mix image and config resources under ``Resources`` with ``Metadata`` an object or a
  list.  One ScanReport per image that has package (vulnerability) results.

``ScanReport.package_targets`` counts the package results (class ``os-pkgs`` or ``lang-pkgs``,
or a legacy result that lists vulnerabilities or names an OS).  A report with none (config or
secret results only; ``Results`` empty, null or absent, which is how Trivy writes an image it
found no package in) shows no package scan, so it cannot show that the image has no
vulnerability.

A report that names the image's OS (``Metadata.OS``) and has package results, but none of class
``os-pkgs``, scanned the language packages only: Trivy writes an OS package result, with or
without vulnerabilities, whenever it scans the packages of an OS it detected (``scanOSPkgs`` in
its ``pkg/scanner/local/scan.go``); it writes none when OS package scanning was not asked for
(``--pkg-types library``) or the OS is one it cannot scan for vulnerabilities.  Such a report's
list says nothing about the OS packages, so it is marked incomplete (``list_incomplete``).  An
image with no OS detected (distroless static, scratch) has no OS packages to miss.

A missing ``FixedVersion`` means no fix; a comma separated one is kept as written.

Risk-ranking inputs: ``SeveritySource`` (whose severity ``Severity`` is: a distribution, "nvd",
"ghsa"), ``CVSS.nvd`` (NVD's ``V3Score``/``V40Score``; other vendors' scores are not NVD's and
are not read), ``PkgIdentifier.PURL`` (for VEX statements naming packages).  Findings Trivy
suppressed (``--show-suppressed``: ``ExperimentalModifiedFindings``, written from Go's
``ModifiedFindings``, ``{Type, Status, Statement, Source, Finding}``) go into
``ScanReport.suppressed`` with their status (``not_affected``/``fixed`` from a VEX document,
``ignored`` from ``.trivyignore``); without that flag Trivy drops them silently and no report
can show them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from patchlevel.errors import ImporterError
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
from patchlevel.scans import CONTAINER_IMAGE, CvssScore, ScanReport, Suppression, Vulnerability

_PACKAGE_CLASSES = frozenset({"os-pkgs", "lang-pkgs"})


class VendorCvss(msgspec.Struct):
    """One entry of Trivy's ``CVSS`` map (``{"nvd": {...}, "redhat": {...}}``), also in trivy-operator reports."""

    V3Vector: str = ""
    V3Score: float | None = None
    V40Vector: str = ""
    V40Score: float | None = None


class _PkgIdentifier(msgspec.Struct):
    PURL: str = ""


class _Vulnerability(msgspec.Struct):
    VulnerabilityID: str = ""
    PkgName: str = ""
    InstalledVersion: str = ""
    FixedVersion: str | None = None
    Status: str = ""
    Severity: str | None = None
    PublishedDate: str | None = None
    Title: str = ""
    PrimaryURL: str = ""
    SeveritySource: str = ""
    PkgIdentifier: _PkgIdentifier | None = None
    CVSS: dict[str, VendorCvss] | None = None


class _ModifiedFinding(msgspec.Struct):
    """A finding Trivy left out of its list (``--show-suppressed``): a VEX statement or an ignore file."""

    Type: str = ""
    Status: str = ""
    Statement: str = ""
    Source: str = ""
    Finding: Any = None  # a DetectedVulnerability when Type is "vulnerability"; other types are not read


class _Result(msgspec.Struct):
    Target: str = ""
    Class: str = ""
    Type: str = ""
    # UNSET: the key is absent (a config or secret result); None: scanned, nothing found.
    Vulnerabilities: list[_Vulnerability] | UnsetType | None = UNSET
    # Trivy writes the suppressed findings under this key (the Go field is ModifiedFindings).
    ExperimentalModifiedFindings: list[_ModifiedFinding] | None = None
    ModifiedFindings: list[_ModifiedFinding] | None = None


class _OS(msgspec.Struct):
    Family: str = ""
    Name: str = ""
    EOSL: bool | None = None


class _ImageConfig(msgspec.Struct):
    created: str | None = None


class _Metadata(msgspec.Struct):
    OS: _OS | None = None
    ImageID: str = ""
    RepoTags: list[str] | None = None
    RepoDigests: list[str] | None = None
    Reference: str = ""
    ImageConfig: _ImageConfig | None = None


class _TrivyInfo(msgspec.Struct):
    Version: str = ""


class _ImageReport(msgspec.Struct):
    SchemaVersion: int = 0
    CreatedAt: str | None = None
    Trivy: _TrivyInfo | None = None
    ArtifactName: str = ""
    ArtifactType: str = ""
    Metadata: _Metadata | None = None
    Results: list[_Result] | None = None


class _K8sResource(msgspec.Struct):
    Namespace: str = ""
    Kind: str = ""
    Name: str = ""
    Metadata: _Metadata | list[_Metadata] | None = None
    Results: list[_Result] | None = None


class _K8sReport(msgspec.Struct):
    ClusterName: str = ""
    Vulnerabilities: list[_K8sResource] | None = None
    Resources: list[_K8sResource] | None = None
    Findings: list[_K8sResource] | None = None


def _split_os_target(target: str) -> tuple[str, str] | None:
    r"""``(artifact, os)`` of a target written "artifact (os)"; None for other targets.

    "registry/app:1.0 (alpine 3.9.4)", "debian (debian 10.8)", "img (amazon 2 (Karoo))": the
    artifact ends at the first " (", the OS part runs to the closing parenthesis at the end.  Linear
    in the target's length (the regex ``^(.+?) \((.+)\)$`` it replaces backtracked quadratically on
    a hostile target of many " (" without the closing one: 24 KB took 2 s).
    """
    if "\n" in target or not target.endswith(")"):
        return None
    start = target.find(" (", 1)
    if start < 0 or start + 2 >= len(target) - 1:  # no artifact, or nothing between the parentheses
        return None
    return target[:start], target[start + 2 : -1]


@dataclass(frozen=True, slots=True)
class _OSTarget:
    artifact: str
    family: str
    name: str


def _os_target(result: _Result) -> _OSTarget | None:
    """The image and OS an OS-package result names in its target; None for other results."""
    if result.Class not in ("", "os-pkgs"):
        return None
    split = _split_os_target(result.Target)
    if split is None:
        return _OSTarget(result.Target, result.Type, "") if result.Class == "os-pkgs" else None
    artifact, inner = split
    if result.Type and inner.lower().startswith(result.Type.lower() + " "):
        return _OSTarget(artifact, result.Type, inner[len(result.Type) + 1 :])
    if result.Class == "os-pkgs" or not result.Type:
        family, _, name = inner.partition(" ")
        return _OSTarget(artifact, family, name)
    return None


def _is_package_result(result: _Result) -> bool:
    if result.Class:
        return result.Class in _PACKAGE_CLASSES
    return result.Vulnerabilities is not UNSET or _os_target(result) is not None


def _vulnerabilities(results: list[_Result]) -> tuple[Vulnerability, ...]:
    found: list[Vulnerability] = []
    for result in results:
        if isinstance(result.Vulnerabilities, list):
            found.extend(_vulnerability(v) for v in result.Vulnerabilities)
    return unique(found)


def _suppressed(results: list[_Result], source: str) -> tuple[Vulnerability, ...]:
    """The vulnerabilities Trivy suppressed, each with what suppressed it (other finding types are skipped)."""
    found: list[Vulnerability] = []
    for result in results:
        for modified in [*(result.ExperimentalModifiedFindings or []), *(result.ModifiedFindings or [])]:
            if modified.Type.strip().lower() != "vulnerability" or not isinstance(modified.Finding, dict):
                continue
            try:
                raw = msgspec.convert(modified.Finding, _Vulnerability)
            except msgspec.ValidationError as exc:
                raise ImporterError(
                    f"{source}: unexpected report shape: a suppressed vulnerability of {result.Target!r}: {exc}",
                    hint="ExperimentalModifiedFindings[].Finding should be shaped like an entry of Vulnerabilities",
                ) from None
            why = Suppression(modified.Status.strip().lower(), modified.Statement.strip(), modified.Source.strip())
            found.append(replace(_vulnerability(raw), suppression=why))
    return unique(found)


def nvd_cvss(cvss: Mapping[str, VendorCvss] | None) -> tuple[CvssScore, ...]:
    """NVD's CVSS v3.x and v4.0 base scores in a Trivy ``CVSS`` map (scores outside 0..10 are dropped)."""
    entry = (cvss or {}).get("nvd")
    if entry is None:
        return ()
    scores: list[CvssScore] = []
    for vector, score, default in ((entry.V3Vector, entry.V3Score, "3"), (entry.V40Vector, entry.V40Score, "4.0")):
        if score is None or not math.isfinite(score) or not 0.0 <= score <= 10.0:
            continue
        if score == 0.0 and not vector:
            continue  # Go's zero value: no score
        version = vector.split("/", 1)[0].removeprefix("CVSS:") if vector.startswith("CVSS:") else default
        scores.append(CvssScore(version, score, vector, "nvd"))
    return tuple(scores)


def _vulnerability(v: _Vulnerability) -> Vulnerability:
    return Vulnerability(
        id=v.VulnerabilityID,
        severity=severity(v.Severity),
        package=v.PkgName,
        installed_version=v.InstalledVersion,
        fixed_version=text_or_none(v.FixedVersion),
        status=v.Status,
        published=day(v.PublishedDate),
        title=v.Title,
        url=v.PrimaryURL,
        purl=v.PkgIdentifier.PURL.strip() if v.PkgIdentifier else "",
        severity_origin=v.SeveritySource.strip(),
        nvd_cvss=nvd_cvss(v.CVSS),
    )


@dataclass(slots=True)
class _Image:
    """The results of one image, with what its report says about the image."""

    os_target: _OSTarget | None
    results: list[_Result] = field(default_factory=list)
    metadata: _Metadata | None = None


def _report(
    image: _Image,
    *,
    source: str,
    format: str,
    artifact_name: str = "",
    scanner_version: str | None = None,
    scanned_at: str | None = None,
    namespace: str = "",
    workload_kind: str = "",
    workload_name: str = "",
    artifact_type: str = "",
    cluster: str = "",
) -> ScanReport:
    meta = image.metadata or _Metadata()
    target = image.os_target or _OSTarget("", "", "")
    # Metadata.OS is the scanner's own statement; the target text is all older reports have.
    os_info = meta.OS or _OS(Family=target.family, Name=target.name)
    return ScanReport(
        source=source,
        format=format,
        scanner="trivy",
        scanner_version=text_or_none(scanner_version),
        scanned_at=timestamp(scanned_at),
        db_updated_at=None,  # Trivy's JSON does not say how old its database was
        artifact=first([artifact_name, meta.Reference, *(meta.RepoTags or []), target.artifact]),
        repo_digests=repo_digests(meta.RepoDigests),
        manifest_digests=(),
        image_id=digest(meta.ImageID),
        os_family=text_or_none(os_info.Family),
        os_name=text_or_none(os_info.Name),
        os_eosl=os_info.EOSL,
        vulnerabilities=_vulnerabilities(image.results),
        suppressed=_suppressed(image.results, source),
        package_targets=sum(1 for r in image.results if _is_package_result(r)),
        list_incomplete=_os_packages_not_scanned(image, meta.OS),
        created=timestamp(meta.ImageConfig.created if meta.ImageConfig else None),
        namespace=namespace,
        workload_kind=workload_kind,
        workload_name=workload_name,
        repo_tags=tuple(dict.fromkeys(t.strip() for t in meta.RepoTags or () if t.strip())),
        artifact_type=artifact_type,
        cluster=cluster,
    )


def _os_packages_not_scanned(image: _Image, os_info: _OS | None) -> str:
    """Why the list misses the OS packages: the report names the image's OS but has no OS package result.

    "" when it has one, when no OS was detected, or when the report has no package result at
    all (``absence_unproven`` says so for that one).
    """
    family = os_info.Family.strip() if os_info is not None else ""
    if not family or image.os_target is not None:
        return ""
    if not any(_is_package_result(r) for r in image.results):
        return ""
    label = " ".join(filter(None, (family, os_info.Name.strip() if os_info is not None else "")))
    return (
        f"the report names the image's OS ({label}) but has no OS package result: Trivy did not scan the OS "
        "packages (OS package scanning was off, or the OS is one it cannot scan), so their vulnerabilities are "
        "unknown"
    )


def _single_image(results: list[_Result], metadata: _Metadata | None) -> _Image:
    os_target = next((t for t in map(_os_target, results) if t is not None), None)
    return _Image(os_target, results, metadata)


class TrivyImporter:
    """``trivy image -f json`` output, legacy list or SchemaVersion 2."""

    format = "trivy"

    def recognises(self, root: Node) -> bool:
        mapping = root.mapping()
        if mapping is not None:
            return "SchemaVersion" in mapping and bool({"Results", "ArtifactName", "Metadata"} & mapping.keys())
        items = root.sequence()
        if not items:
            return False
        head = items[0].mapping()
        return head is not None and "Target" in head and "apiVersion" not in head

    def parse(self, root: Node) -> list[ScanReport]:
        if root.sequence() is not None:
            results = root.decode(list[_Result])
            return [_report(_single_image(results, None), source=root.source, format=self.format)]
        doc = root.decode(_ImageReport)
        if doc.SchemaVersion != 2:
            raise ImporterError(
                f"{root.source}: Trivy SchemaVersion {doc.SchemaVersion} is not supported",
                hint="patchlevel reads Trivy's legacy list and SchemaVersion 2 reports",
            )
        image = _single_image(doc.Results or [], doc.Metadata)
        return [
            _report(
                image,
                source=root.source,
                format=self.format,
                artifact_name=doc.ArtifactName,
                scanner_version=doc.Trivy.Version if doc.Trivy else None,
                scanned_at=doc.CreatedAt,
                artifact_type=doc.ArtifactType,
            )
        ]


class TrivyK8sImporter:
    """``trivy k8s -f json`` output, in both envelope layouts."""

    format = "trivy-k8s"

    def recognises(self, root: Node) -> bool:
        mapping = root.mapping()
        return (
            mapping is not None
            and "ClusterName" in mapping
            and bool({"Vulnerabilities", "Resources", "Findings", "Misconfigurations"} & mapping.keys())
        )

    def parse(self, root: Node) -> list[ScanReport]:
        doc = root.decode(_K8sReport)
        reports: list[ScanReport] = []
        for resource in [*(doc.Vulnerabilities or []), *(doc.Resources or []), *(doc.Findings or [])]:
            for image in _images(resource):
                reports.append(
                    _report(
                        image,
                        source=root.source,
                        format=self.format,
                        namespace=resource.Namespace,
                        workload_kind=resource.Kind,
                        workload_name=resource.Name,
                        artifact_type=CONTAINER_IMAGE,  # `trivy k8s` scans the images of workloads
                        cluster=doc.ClusterName,
                    )
                )
        return reports


def _images(resource: _K8sResource) -> list[_Image]:
    """Split a resource's package results by image.

    Each OS result starts an image; language results join the image before them (Trivy writes
    an image's OS result first).  Metadata is matched to an image by tag, or taken as is when
    the resource holds exactly one image and one Metadata.
    """
    images: list[_Image] = []
    for result in resource.Results or []:
        if not _is_package_result(result):
            continue
        target = _os_target(result)
        if target is not None or not images:
            images.append(_Image(target))
        images[-1].results.append(result)

    metadata = resource.Metadata
    metas = metadata if isinstance(metadata, list) else [metadata] if metadata else []
    if len(images) == 1 and len(metas) == 1:
        images[0].metadata = metas[0]
        return images
    for image in images:
        if image.os_target is None:
            continue
        wanted = image.os_target.artifact
        image.metadata = next(
            (m for m in metas if wanted and (wanted == m.Reference or wanted in (m.RepoTags or []))),
            None,
        )
    return images
