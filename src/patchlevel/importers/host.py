"""Host package evidence: scans and SBOMs of a node's root filesystem, to ``NodeScan`` records.

Formats, recognised from the content (``HOST_IMPORTERS``, tried in order; their shapes do not
overlap, and none is an image scan):

1. trivy-operator ``NodeVulnerabilityReport`` (``aquasecurity.github.io/v1alpha1``, from pull request
   #2898: ``report.artifact.{nodeName,kind,rootPath}``, ``report.os``, ``report.scanner``,
   ``report.vulnerabilities[]``, ``report.updateTimestamp``): one object, a List, or a bare list.
   The report lists vulnerable packages, not every package.
2. Trivy host reports (``trivy rootfs``, ``trivy fs``, ``trivy vm``, or ``trivy sbom`` of a host
   SBOM): SchemaVersion 2 with ``ArtifactType`` filesystem, rootfs, vm, cyclonedx or spdx.  The
   vulnerabilities are read by the image importer (``importers.trivy``), so both judge alike;
   ``Results[].Packages`` (written with ``--list-all-pkgs``) is the package list.  Without it the
   report names only vulnerable packages.  ``ArtifactName`` is a path or a disk, which names the
   node only if it equals the node's name.
3. CycloneDX (``bomFormat: CycloneDX``) of a host: components with a ``pkg:deb``, ``pkg:rpm``,
   ``pkg:apk`` … purl, the ``operating-system`` component, ``metadata.timestamp``.  An SBOM whose
   subject is a container image, or a Trivy KBOM of a cluster (nodes' OS and kernel, no packages),
   is not host package evidence.
4. SPDX JSON (``spdxVersion``) of a host: packages with a purl external reference, ``creationInfo.created``.

An SBOM lists packages, not vulnerabilities: it can show which kernel is installed, not which
vulnerability is open (``NodeScan.report`` is None).

Which node a scan describes (``assign_nodes``): an explicit ``NODE=PATH`` first, else the host
name the report names (trivy-operator's ``nodeName``; a Trivy ``ArtifactName``, a CycloneDX
subject or SPDX name equal to a node's name), else a file name equal to a node's name (``node-1.json``,
``node-1.cdx.json``).  A scan no rule places is kept unplaced and reported, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import msgspec

from patchlevel.errors import ImporterError
from patchlevel.hostscans import BY_EXPLICIT, BY_FILE_NAME, BY_HOST_NAME, HostPackage, NodeScan, kernel_candidates
from patchlevel.importers.base import Node, text_or_none, timestamp, unique
from patchlevel.importers.trivy import TrivyImporter
from patchlevel.importers.trivy_operator import _Vulnerability as _OperatorVulnerability
from patchlevel.importers.trivy_operator import _vulnerability as _operator_vulnerability
from patchlevel.kube import ObjectMeta
from patchlevel.purl import Purl, parse_purl
from patchlevel.scans import ScanReport
from patchlevel.text import visible

HOST_ARTIFACT_TYPES = frozenset({"filesystem", "rootfs", "vm", "cyclonedx", "spdx"})
OS_PACKAGE_TYPES = frozenset({"deb", "rpm", "apk", "alpm", "opkg", "portage"})


class NotAHostScan(ImporterError):
    """The document was read but is no host scan patchlevel knows (an image scan, a KBOM, a README …)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(
            f"{source}: not a host scan: {reason}",
            hint="give a Trivy rootfs/fs/vm report, a CycloneDX or SPDX SBOM of the host, or a NodeVulnerabilityReport",
        )
        self.reason = reason


class HostImporter(Protocol):
    @property
    def format(self) -> str: ...

    def recognises(self, root: Node) -> bool: ...

    def parse(self, root: Node) -> list[NodeScan]: ...


# ------------------------------------------------------------------------------------------
# purls


def _package_from_purl(purl: Purl) -> HostPackage:
    version = purl.version
    epoch = purl.qualifiers.get("epoch", "")
    if purl.type == "rpm" and epoch and epoch != "0" and ":" not in version:
        version = f"{epoch}:{version}"
    return HostPackage(purl.name, version, purl.qualifiers.get("arch", ""), purl.type)


def _os_from_purl(purl: Purl) -> tuple[str, str]:
    """(family, release) from a purl's namespace and ``distro`` qualifier ("ubuntu", "22.04")."""
    family = purl.namespace.split("/")[0].lower()
    distro = purl.qualifiers.get("distro", "")
    release = distro
    for prefix in (f"{family}-", family):
        if family and distro.lower().startswith(prefix):
            release = distro[len(prefix) :]
            break
    return family, release.strip()


# ------------------------------------------------------------------------------------------
# trivy-operator NodeVulnerabilityReport


class _NodeArtifact(msgspec.Struct):
    nodeName: str = ""
    kind: str = ""
    rootPath: str = ""


class _NodeOS(msgspec.Struct):
    family: str = ""
    name: str = ""
    eosl: bool | None = None


class _NodeScanner(msgspec.Struct):
    name: str = ""
    version: str = ""


class _NodeSummary(msgspec.Struct):
    criticalCount: int = 0
    highCount: int = 0
    mediumCount: int = 0
    lowCount: int = 0
    unknownCount: int = 0
    noneCount: int = 0


class _NodeReport(msgspec.Struct):
    artifact: _NodeArtifact | None = None
    os: _NodeOS | None = None
    scanner: _NodeScanner | None = None
    summary: _NodeSummary | None = None
    updateTimestamp: str | None = None
    vulnerabilities: list[_OperatorVulnerability] | None = None


class _NodeVulnerabilityReport(msgspec.Struct):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    report: _NodeReport | None = None


NODE_REPORT_KIND = "NodeVulnerabilityReport"


def _kind(node: Node) -> str | None:
    members = node.mapping()
    if members is None or "kind" not in members:
        return None
    return members["kind"].text()


def _node_report_items(root: Node) -> list[Node] | None:
    members = root.mapping()
    if members is not None:
        kind = _kind(root)
        if kind == NODE_REPORT_KIND:
            return [root]
        if "items" in members and (kind is None or kind.endswith("List")):
            items = members["items"].sequence()
            if items and all(_kind(i) == NODE_REPORT_KIND for i in items):
                return items
        return None
    items = root.sequence()
    if items and all(_kind(i) == NODE_REPORT_KIND for i in items):
        return items
    return None


class NodeVulnerabilityReportImporter:
    format = "trivy-operator"

    def recognises(self, root: Node) -> bool:
        return _node_report_items(root) is not None

    def parse(self, root: Node) -> list[NodeScan]:
        return [_node_report(item) for item in _node_report_items(root) or []]


def _node_report(node: Node) -> NodeScan:
    obj = node.decode(_NodeVulnerabilityReport)
    if obj.report is None:
        raise ImporterError(f"{node.source}: NodeVulnerabilityReport {obj.metadata.name} has no report")
    report = obj.report
    artifact = report.artifact or _NodeArtifact()
    os_info = report.os or _NodeOS()
    scanner = report.scanner or _NodeScanner()
    vulnerabilities = unique(_operator_vulnerability(v) for v in report.vulnerabilities or ())
    listed, counted = len(report.vulnerabilities or ()), _summary_total(report.summary)
    scan = ScanReport(
        source=node.source,
        format="trivy-operator",
        scanner=(scanner.name or "trivy").lower(),
        scanner_version=text_or_none(scanner.version),
        scanned_at=timestamp(report.updateTimestamp) or timestamp(obj.metadata.creationTimestamp),
        db_updated_at=None,
        artifact=artifact.rootPath or artifact.nodeName,
        repo_digests=(),
        manifest_digests=(),
        image_id=None,
        os_family=text_or_none(os_info.family),
        os_name=text_or_none(os_info.name),
        os_eosl=os_info.eosl,
        vulnerabilities=vulnerabilities,
        package_targets=1 if vulnerabilities or os_info.family.strip() else None,
        list_incomplete=(
            f"the report's summary counts {counted} vulnerabilities but it lists {listed}: the list is incomplete"
            if counted is not None and counted > listed
            else ""
        ),
        artifact_type=artifact.kind or "node-rootfs",
    )
    packages, count = kernel_candidates(
        HostPackage(v.package, v.installed_version) for v in vulnerabilities if v.package
    )
    return NodeScan(
        source=node.source,
        format="trivy-operator",
        host_name=artifact.nodeName,
        scanned_at=scan.scanned_at,
        os_family=os_info.family.strip().lower(),
        os_name=os_info.name.strip(),
        packages=packages,
        packages_complete=False,
        report=scan,
        package_count=count,
        artifact=artifact.rootPath,
        artifact_type=scan.artifact_type,
    )


def _summary_total(summary: _NodeSummary | None) -> int | None:
    if summary is None:
        return None
    counts = (summary.criticalCount, summary.highCount, summary.mediumCount, summary.lowCount, summary.unknownCount)
    return sum(max(0, n) for n in (*counts, summary.noneCount))


def parse_cluster_node_reports(objects: list[dict[str, Any]], source: str) -> list[NodeScan]:
    """NodeVulnerabilityReports a collector found among a snapshot's (or the API's) objects."""
    return NodeVulnerabilityReportImporter().parse(Node(list(objects), source))


# ------------------------------------------------------------------------------------------
# Trivy host reports


class _TrivyPackageId(msgspec.Struct):
    PURL: str = ""


class _TrivyPackage(msgspec.Struct):
    Name: str = ""
    Version: str = ""
    Release: str = ""
    Epoch: int | None = None
    Arch: str = ""
    Identifier: _TrivyPackageId | None = None


class _TrivyVulnerabilityId(msgspec.Struct):
    VulnerabilityID: str = ""
    PkgName: str = ""


class _TrivyResult(msgspec.Struct):
    Target: str = ""
    Class: str = ""
    Type: str = ""
    Packages: list[_TrivyPackage] | None = None
    Vulnerabilities: list[_TrivyVulnerabilityId] | None = None


class _TrivyOS(msgspec.Struct):
    Family: str = ""
    Name: str = ""


class _TrivyMetadata(msgspec.Struct):
    OS: _TrivyOS | None = None


class _TrivyHostReport(msgspec.Struct):
    SchemaVersion: int = 0
    CreatedAt: str | None = None
    ArtifactName: str = ""
    ArtifactType: str = ""
    Metadata: _TrivyMetadata | None = None
    Results: list[_TrivyResult] | None = None


def _trivy_version(package: _TrivyPackage) -> str:
    version = package.Version
    if package.Release:
        version = f"{version}-{package.Release}"
    if package.Epoch:
        version = f"{package.Epoch}:{version}"
    return version


class TrivyHostImporter:
    format = "trivy"

    def recognises(self, root: Node) -> bool:
        members = root.mapping()
        if members is None or "SchemaVersion" not in members or "ArtifactType" not in members:
            return False
        artifact_type = members["ArtifactType"].text()
        return artifact_type is not None and artifact_type.strip().lower() in HOST_ARTIFACT_TYPES

    def parse(self, root: Node) -> list[NodeScan]:
        everything = TrivyImporter().parse(root)[0]
        doc = root.decode(_TrivyHostReport)
        os_info = doc.Metadata.OS if doc.Metadata and doc.Metadata.OS else _TrivyOS()
        os_results = [r for r in doc.Results or [] if r.Class == "os-pkgs"]
        # Only OS package vulnerabilities are the host's to patch here; binaries on the host (a kubelet,
        # CNI plugins: lang-pkgs results) are judged by the checks of those components.
        os_ids = {(v.VulnerabilityID, v.PkgName) for r in os_results for v in r.Vulnerabilities or []}
        vulnerabilities = replace(
            everything,
            vulnerabilities=tuple(v for v in everything.vulnerabilities if (v.id, v.package) in os_ids),
            suppressed=tuple(v for v in everything.suppressed if (v.id, v.package) in os_ids),
            # Only an OS package result shows the host's packages were scanned: a report of language
            # packages alone (lang-pkgs: binaries on the host) is no evidence about them.
            package_targets=len(os_results),
        )
        other = len(everything.vulnerabilities) - len(vulnerabilities.vulnerabilities)
        packages, count = kernel_candidates(
            HostPackage(p.Name, _trivy_version(p), p.Arch, r.Type)
            for r in os_results
            for p in r.Packages or []
            if p.Name
        )
        if not count:  # a report without --list-all-pkgs names the vulnerable packages only
            packages, count = kernel_candidates(
                HostPackage(v.package, v.installed_version)
                for v in vulnerabilities.vulnerabilities
                if v.package and v.installed_version
            )
        return [
            NodeScan(
                source=root.source,
                format="trivy",
                host_name=doc.ArtifactName.strip(),
                scanned_at=vulnerabilities.scanned_at,
                os_family=os_info.Family.strip().lower(),
                os_name=os_info.Name.strip(),
                packages=packages,
                packages_complete=bool(os_results) and all(r.Packages is not None for r in os_results),
                package_count=count,
                report=vulnerabilities,
                artifact=doc.ArtifactName,
                artifact_type=doc.ArtifactType.strip().lower(),
                other_vulnerabilities=other,
            )
        ]


# ------------------------------------------------------------------------------------------
# CycloneDX and SPDX SBOMs


class _CdxProperty(msgspec.Struct):
    name: str = ""
    value: str = ""


class _CdxComponent(msgspec.Struct):
    type: str = ""
    name: str = ""
    version: str = ""
    purl: str = ""
    properties: list[_CdxProperty] | None = None
    components: list[_CdxComponent] | None = None


class _CdxMetadata(msgspec.Struct):
    timestamp: str | None = None
    component: _CdxComponent | None = None


class _CycloneDx(msgspec.Struct):
    bomFormat: str = ""
    metadata: _CdxMetadata | None = None
    components: list[_CdxComponent] | None = None


def _walk_components(components: Iterable[_CdxComponent], depth: int = 0) -> Iterable[_CdxComponent]:
    for component in components:
        yield component
        if component.components and depth < 8:
            yield from _walk_components(component.components, depth + 1)


class CycloneDxHostImporter:
    format = "cyclonedx"

    def recognises(self, root: Node) -> bool:
        members = root.mapping()
        return (
            members is not None and members.get("bomFormat") is not None and members["bomFormat"].text() == "CycloneDX"
        )

    def parse(self, root: Node) -> list[NodeScan]:
        doc = root.decode(_CycloneDx)
        subject = doc.metadata.component if doc.metadata and doc.metadata.component else None
        if subject is not None and subject.type == "container":
            raise NotAHostScan(root.source, "a CycloneDX SBOM of a container image (give it to the image checks)")
        components = list(_walk_components(doc.components or []))
        purls = [p for p in (parse_purl(c.purl) for c in components if c.purl) if p and p.type in OS_PACKAGE_TYPES]
        if not purls:
            kbom = any(c.type == "platform" for c in components) or (subject is not None and subject.type == "platform")
            raise NotAHostScan(
                root.source,
                "a Trivy KBOM of a cluster: it names each node's OS and kernel, not the packages installed"
                if kbom
                else "a CycloneDX SBOM with no OS package (no pkg:deb, pkg:rpm or pkg:apk component)",
            )
        os_component = next((c for c in components if c.type == "operating-system"), None)
        family, release = _os_from_purl(purls[0])
        if os_component is not None:
            family, release = os_component.name.strip().lower() or family, os_component.version.strip() or release
        host = ""
        if subject is not None:
            host = next((p.value for p in subject.properties or () if p.name.endswith(":HostName")), "") or subject.name
        return [
            NodeScan(
                source=root.source,
                format="cyclonedx",
                host_name=host.strip(),
                scanned_at=timestamp(doc.metadata.timestamp if doc.metadata else None),
                os_family=family,
                os_name=release,
                packages=kernel_candidates(_package_from_purl(p) for p in purls)[0],
                packages_complete=True,
                report=None,
                package_count=kernel_candidates(_package_from_purl(p) for p in purls)[1],
                artifact=subject.name if subject is not None else "",
                artifact_type=subject.type if subject is not None else "",
            )
        ]


class _SpdxRef(msgspec.Struct):
    referenceType: str = ""
    referenceLocator: str = ""


class _SpdxPackage(msgspec.Struct):
    name: str = ""
    versionInfo: str = ""
    externalRefs: list[_SpdxRef] | None = None


class _SpdxCreation(msgspec.Struct):
    created: str | None = None


class _Spdx(msgspec.Struct):
    spdxVersion: str = ""
    name: str = ""
    creationInfo: _SpdxCreation | None = None
    packages: list[_SpdxPackage] | None = None


class SpdxHostImporter:
    format = "spdx"

    def recognises(self, root: Node) -> bool:
        members = root.mapping()
        return members is not None and "spdxVersion" in members and "SPDXID" in members

    def parse(self, root: Node) -> list[NodeScan]:
        doc = root.decode(_Spdx)
        purls = [
            p
            for p in (
                parse_purl(ref.referenceLocator)
                for package in doc.packages or []
                for ref in package.externalRefs or []
                if ref.referenceType == "purl"
            )
            if p is not None and p.type in OS_PACKAGE_TYPES
        ]
        if not purls:
            raise NotAHostScan(root.source, "an SPDX document with no OS package (no pkg:deb, pkg:rpm or pkg:apk purl)")
        family, release = _os_from_purl(purls[0])
        return [
            NodeScan(
                source=root.source,
                format="spdx",
                host_name=doc.name.strip(),
                scanned_at=timestamp(doc.creationInfo.created if doc.creationInfo else None),
                os_family=family,
                os_name=release,
                packages=kernel_candidates(_package_from_purl(p) for p in purls)[0],
                packages_complete=True,
                report=None,
                package_count=kernel_candidates(_package_from_purl(p) for p in purls)[1],
                artifact=doc.name,
                artifact_type="spdx",
            )
        ]


HOST_IMPORTERS: tuple[HostImporter, ...] = (
    NodeVulnerabilityReportImporter(),
    TrivyHostImporter(),
    CycloneDxHostImporter(),
    SpdxHostImporter(),
)


def image_scan_reason(root: Node) -> str:
    """Why a document that is no host scan was not read, naming an image scan as one."""
    members = root.mapping()
    if members is not None and "SchemaVersion" in members:
        kind = members["ArtifactType"].text() if "ArtifactType" in members else None
        return (
            f"a Trivy scan of {kind or 'an image'} (ArtifactType {kind!r}), not of a host: "
            "give image scans with --scan-report"
        )
    if members is not None and ("matches" in members or _kind(root) == "VulnerabilityReport"):
        return "an image scan report, not a host scan: give image scans with --scan-report"
    return root.describe()


# ------------------------------------------------------------------------------------------
# Which node a scan describes


_DATA_SUFFIXES = (".json", ".yaml", ".yml")


def file_name_candidates(source: str) -> list[str]:
    """Node names a file name may be: ``n1.cdx.json`` -> ``n1.cdx``, ``n1`` (dots in node names are kept)."""
    name = Path(source).name
    lowered = name.lower()
    for suffix in _DATA_SUFFIXES:
        if lowered.endswith(suffix):
            name = name[: -len(suffix)]
            break
    candidates = [name]
    while "." in name:
        name = name.rsplit(".", 1)[0]
        candidates.append(name)
    return [c for c in candidates if c]


@dataclass(frozen=True, slots=True)
class Assigned:
    scans: tuple[NodeScan, ...]
    warnings: tuple[str, ...]


def assign_nodes(scans: Sequence[NodeScan], node_names: Iterable[str], explicit: str = "") -> Assigned:
    """Place each scan on its node: ``explicit`` (``NODE=PATH``), else its host name, else its file name.

    A scan no rule places keeps ``node`` empty, with a warning naming what it was tried against.
    """
    names = set(node_names)
    by_lower: dict[str, list[str]] = {}
    for name in names:
        by_lower.setdefault(name.lower(), []).append(name)

    def exact(candidate: str) -> str | None:
        if candidate in names:
            return candidate
        found = by_lower.get(candidate.lower(), [])
        return found[0] if len(found) == 1 else None

    placed: list[NodeScan] = []
    warnings: list[str] = []
    for scan in scans:
        if explicit:
            if explicit not in names:
                warnings.append(
                    f"--node-scan {visible(explicit)}={visible(scan.source)}: the input has no node named "
                    f"{visible(explicit)!r}; the scan is not used"
                )
                placed.append(scan)
                continue
            if scan.host_name and exact(scan.host_name) not in (None, explicit):
                warnings.append(
                    f"{visible(scan.source)}: given for node {visible(explicit)}, but the report names host "
                    f"{visible(scan.host_name)!r}; it is used for {visible(explicit)} as given"
                )
            placed.append(replace(scan, node=explicit, matched_by=BY_EXPLICIT))
            continue
        host = exact(scan.host_name) if scan.host_name else None
        if host is not None:
            placed.append(replace(scan, node=host, matched_by=BY_HOST_NAME))
            continue
        by_file = next((n for n in (exact(c) for c in file_name_candidates(scan.source)) if n), None)
        if by_file is not None:
            placed.append(replace(scan, node=by_file, matched_by=BY_FILE_NAME))
            continue
        named = f"host name {visible(scan.host_name)!r}" if scan.host_name else "no host name"
        warnings.append(
            f"{visible(scan.source)}: a host scan ({scan.format}) that matches no node of the input ({named}; "
            f"file name {visible(Path(scan.source).name)!r}): not used; give it as --node-scan NODE=PATH"
        )
        placed.append(scan)
    return Assigned(tuple(placed), tuple(warnings))
