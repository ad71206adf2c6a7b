"""trivy-operator ``VulnerabilityReport`` resources (``aquasecurity.github.io/v1alpha1``).

Exports come as one object, as a ``List`` (``kubectl get vulnerabilityreports -A -o json``),
as a dict keyed by CRD plural (``{"vulnerabilityreports": [...], "configauditreports": [...]}``),
or as a YAML stream; the live collector hands over the objects it listed.  Other report kinds
mixed in (ConfigAuditReport, ExposedSecretReport, …) are skipped.

One ScanReport per VulnerabilityReport.  The image is named by ``report.registry.server`` +
``report.artifact.repository`` + ``tag``; ``artifact.digest`` exists only in newer reports and
``report.os`` is missing from 0.38-era ones.  ``fixedVersion: ""`` means no fix.

What was scanned: the report does not list packages, so a report with no vulnerability shows a
package scan only when it names the image's OS (``report.os.family``); without one it does not
say (``package_targets`` None).  ``report.summary`` counts what the scan found: a summary that
counts more vulnerabilities than ``vulnerabilities`` lists means the list was cut, and the report
says so (``list_incomplete``).  The workload
comes from the ``trivy-operator.resource.*`` and ``trivy-operator.container.name`` labels,
falling back to the controlling owner reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from patchlevel.errors import ImporterError
from patchlevel.importers.base import Node, day, digest, severity, text_or_none, timestamp, unique
from patchlevel.importers.trivy import VendorCvss, nvd_cvss
from patchlevel.kube import ObjectMeta
from patchlevel.scans import CONTAINER_IMAGE, ScanReport, Vulnerability

_GROUP = "aquasecurity.github.io/"
_VULNERABILITY_KINDS = frozenset({"VulnerabilityReport", "ClusterVulnerabilityReport"})
# CRD plurals trivy-operator defines; a dict keyed by these is an export of its reports.
_PLURALS = frozenset(
    {
        "vulnerabilityreports",
        "clustervulnerabilityreports",
        "configauditreports",
        "clusterconfigauditreports",
        "exposedsecretreports",
        "rbacassessmentreports",
        "clusterrbacassessmentreports",
        "infraassessmentreports",
        "clusterinfraassessmentreports",
        "clustercompliancereports",
        "sbomreports",
        "clustersbomreports",
    }
)

_LABEL_KIND = "trivy-operator.resource.kind"
_LABEL_NAME = "trivy-operator.resource.name"
_LABEL_NAMESPACE = "trivy-operator.resource.namespace"
_LABEL_CONTAINER = "trivy-operator.container.name"


class _Artifact(msgspec.Struct):
    repository: str = ""
    tag: str = ""
    digest: str = ""


class _Registry(msgspec.Struct):
    server: str = ""


class _Scanner(msgspec.Struct):
    name: str = ""
    version: str = ""


class _OS(msgspec.Struct):
    family: str = ""
    name: str = ""
    eosl: bool | None = None


class _Vulnerability(msgspec.Struct):
    vulnerabilityID: str = ""
    resource: str = ""
    installedVersion: str = ""
    fixedVersion: str | None = None
    severity: str | None = None
    title: str = ""
    primaryLink: str = ""
    publishedDate: str | None = None
    packagePURL: str = ""
    # Trivy's CVSS map, in newer operator versions.  ``score`` is not read: the operator took it from
    # the vendor's CVSS first in some versions and from NVD's first in others, so it names no source.
    cvss: dict[str, VendorCvss] | None = None


class _Summary(msgspec.Struct):
    criticalCount: int = 0
    highCount: int = 0
    mediumCount: int = 0
    lowCount: int = 0
    unknownCount: int = 0
    noneCount: int = 0

    @property
    def total(self) -> int:
        counts = (self.criticalCount, self.highCount, self.mediumCount, self.lowCount, self.unknownCount)
        return sum(max(0, n) for n in (*counts, self.noneCount))


class _Report(msgspec.Struct):
    artifact: _Artifact | None = None
    registry: _Registry | None = None
    scanner: _Scanner | None = None
    os: _OS | None = None
    updateTimestamp: str | None = None
    summary: _Summary | None = None
    vulnerabilities: list[_Vulnerability] | None = None


class _VulnerabilityReport(msgspec.Struct):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    report: _Report | None = None


@dataclass(frozen=True, slots=True)
class _Item:
    node: Node
    kind: str  # "" when the object does not say
    trivy_operator: bool  # apiVersion is aquasecurity.github.io/…, or it sits under a CRD plural


def _object(node: Node, *, under_plural: str = "") -> _Item:
    members = node.mapping() or {}
    kind = members["kind"].text() if "kind" in members else None
    api_version = members["apiVersion"].text() if "apiVersion" in members else None
    if not kind and under_plural in ("vulnerabilityreports", "clustervulnerabilityreports"):
        kind = "VulnerabilityReport"
    return _Item(node, kind or "", bool(under_plural) or (api_version or "").startswith(_GROUP))


def _plural(key: str) -> str:
    """ "vulnerabilityreports.aquasecurity.github.io" -> "vulnerabilityreports"."""
    return key.split(".", 1)[0].lower()


def _members_of(node: Node) -> list[Node] | None:
    """A collection's objects: a list, a ``List`` object's items, or one object."""
    items = node.sequence()
    if items is not None:
        return items
    members = node.mapping()
    if members is None:
        return None
    if "items" in members and "report" not in members:
        return members["items"].sequence()
    return [node]


def _items(root: Node) -> list[_Item] | None:
    """The Kubernetes objects in the document, None when it is no collection of objects."""
    members = root.mapping()
    if members is None:
        sequence = root.sequence()
        if not sequence or any(item.mapping() is None for item in sequence):
            return None
        return [_object(item) for item in sequence]
    kind = members["kind"].text() if "kind" in members else None
    if kind in _VULNERABILITY_KINDS:
        return [_object(root)]
    if "items" in members and (kind is None or kind.endswith("List")):
        listed = members["items"].sequence()
        if listed is None:
            return None
        return [_object(item) for item in listed]
    if "kind" in members or not any(_plural(key) in _PLURALS for key in members):
        return None
    found: list[_Item] = []
    for key, value in members.items():
        plural = _plural(key)
        if plural not in _PLURALS:
            continue
        objects = _members_of(value)
        if objects is None:
            raise ImporterError(
                f"{root.source}: unexpected report shape: {value.path} is neither a list nor an object",
                hint="a dict keyed by CRD plural should map each plural to a list of reports",
            )
        found.extend(_object(obj, under_plural=plural) for obj in objects)
    return found


class TrivyOperatorImporter:
    """VulnerabilityReports written by trivy-operator, in any of the export containers."""

    format = "trivy-operator"

    def recognises(self, root: Node) -> bool:
        items = _items(root)
        if items is None:
            return False
        if any(item.kind in _VULNERABILITY_KINDS for item in items):
            return True
        # Only other trivy-operator reports (no vulnerability report among them): still an
        # export of the operator, with nothing in it for us.  An empty List is not recognised.
        return bool(items) and all(item.trivy_operator for item in items)

    def parse(self, root: Node) -> list[ScanReport]:
        return [_scan_report(item.node) for item in _items(root) or [] if item.kind in _VULNERABILITY_KINDS]


def _scan_report(node: Node) -> ScanReport:
    obj = node.decode(_VulnerabilityReport)
    meta = obj.metadata
    if obj.report is None:
        raise ImporterError(
            f"{node.source}: VulnerabilityReport {meta.namespace}/{meta.name} has no report",
            hint="the object at " + node.path + " lacks its `report` section",
        )
    report = obj.report
    artifact = report.artifact or _Artifact()
    scanner = report.scanner or _Scanner()
    os_info = report.os or _OS()
    labels = meta.labels or {}
    owner = next((o for o in meta.ownerReferences or () if o.controller), None)
    return ScanReport(
        source=node.source,
        format="trivy-operator",
        scanner=(scanner.name or "trivy").lower(),
        scanner_version=text_or_none(scanner.version),
        scanned_at=timestamp(report.updateTimestamp),
        db_updated_at=None,  # the report does not say how old the scanner's database was
        artifact=_image_reference(report.registry.server if report.registry else "", artifact),
        repo_digests=(),
        manifest_digests=tuple(d for d in [digest(artifact.digest)] if d),
        image_id=None,
        os_family=text_or_none(os_info.family),
        os_name=text_or_none(os_info.name),
        os_eosl=os_info.eosl,
        vulnerabilities=unique(_vulnerability(v) for v in report.vulnerabilities or ()),
        package_targets=1 if report.vulnerabilities or os_info.family.strip() else None,
        list_incomplete=_list_incomplete(report),
        namespace=labels.get(_LABEL_NAMESPACE) or meta.namespace,
        workload_kind=labels.get(_LABEL_KIND) or (owner.kind if owner else ""),
        workload_name=labels.get(_LABEL_NAME) or (owner.name if owner else ""),
        container=labels.get(_LABEL_CONTAINER, ""),
        artifact_type=CONTAINER_IMAGE,  # trivy-operator scans the images of running workloads
    )


def _list_incomplete(report: _Report) -> str:
    """Why the vulnerability list is known to be incomplete: the summary counts more than it lists."""
    listed = len(report.vulnerabilities or ())
    counted = report.summary.total if report.summary is not None else None
    if counted is not None and counted > listed:
        return (
            f"the report's summary counts {counted} vulnerabilities but it lists {listed}: "
            "the vulnerability list is incomplete"
        )
    return ""


def _image_reference(server: str, artifact: _Artifact) -> str:
    """registry/repository:tag (or @digest when there is no tag), as the report names it."""
    if not artifact.repository:
        return ""
    name = f"{server.strip('/')}/{artifact.repository}" if server else artifact.repository
    if artifact.tag:
        return f"{name}:{artifact.tag}"
    return f"{name}@{artifact.digest}" if digest(artifact.digest) else name


def _vulnerability(v: _Vulnerability) -> Vulnerability:
    return Vulnerability(
        id=v.vulnerabilityID,
        severity=severity(v.severity),
        package=v.resource,
        installed_version=v.installedVersion,
        fixed_version=text_or_none(v.fixedVersion),
        published=day(v.publishedDate),
        title=v.title,
        url=v.primaryLink,
        purl=v.packagePURL.strip(),
        nvd_cvss=nvd_cvss(v.cvss),
    )


def parse_cluster_objects(objects: list[dict[str, Any]], source: str) -> list[ScanReport]:
    """VulnerabilityReports a collector found among a snapshot's (or the API's) objects.

    The ``ScanParser`` hook of ``collect.assemble``: objects are the decoded dicts of kind
    VulnerabilityReport or ClusterVulnerabilityReport; ``source`` names the file or API path.
    """
    return TrivyOperatorImporter().parse(Node(list(objects), source))
