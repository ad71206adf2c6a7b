"""What one audit records, as plain rows: built from the Report, the Inventory and the derived facts.

Pure: no database, no clock (the recording time is passed in).  ``audit_evidence`` returns an
``AuditEvidence`` whose content-addressed parts (node states, image uses, scans, finding bodies)
carry the SHA-256 of their canonical JSON, so the store writes each once however many audits
share it, and recording the same evidence twice writes nothing new.

The cluster's identity: the ``kube-system`` namespace UID when the input holds it (live
collections and bundles list namespaces), else the ``--cluster`` name, else the context or
snapshot name the inventory carries.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import msgspec

from patchlevel.facts import ClusterFacts
from patchlevel.images import Identity, RunningImage, ScanIndex
from patchlevel.inventory import Inventory
from patchlevel.ledger.errors import LedgerError
from patchlevel.model import Finding, Report, Status
from patchlevel.policy import Policy
from patchlevel.scans import ScanReport

_ENCODER = msgspec.json.Encoder(order="sorted")

# Checks whose findings name the lifecycle product and release cycle a component was judged by.
CONTROL_PLANE_SUPPORT = "control_plane_version_supported"
NODE_SUPPORT_CHECKS = {
    "kubelet_version_supported": "kubelet",
    "container_runtime_supported": "runtime",
    "node_os_supported": "os",
}


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, no spaces (dates as ISO text)."""
    return _ENCODER.encode(value)


def json_text(value: Any) -> str:
    return canonical(value).decode("utf-8")


def digest_of(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def policy_digest(policy: Mapping[str, Any], waivers: Iterable[Any] = ()) -> str:
    """``sha256:`` of a policy's thresholds and waivers, as recorded with each audit."""
    return "sha256:" + digest_of({"policy": dict(policy), "waivers": list(waivers)})


def policy_digest_of(policy: Policy) -> str:
    """The ``policy_digest`` to record with an audit judged under ``policy`` (thresholds and waivers)."""
    return policy_digest(policy.to_dict(), [dataclasses.asdict(w) for w in policy.waivers])


@dataclass(frozen=True, slots=True)
class ClusterIdentity:
    key: str  # "uid:<uid>" or "name:<name>"
    name: str  # what is shown and what --cluster NAME matches
    uid: str  # "" when the input does not hold the kube-system namespace
    source: str  # kube-system-uid, cluster-option, context, snapshot, bundle, …


def cluster_identity(inventory: Inventory, cluster_name: str | None) -> ClusterIdentity:
    uid = getattr(inventory, "cluster_uid", "") or ""
    name = (cluster_name or "").strip() or inventory.name.strip()
    if uid:
        return ClusterIdentity(f"uid:{uid}", name or uid, uid, "kube-system-uid")
    if cluster_name and cluster_name.strip():
        return ClusterIdentity(f"name:{name}", name, "", "cluster-option")
    if name:
        source = {"live": "context", "bundle": "context"}.get(inventory.source, inventory.source or "name")
        return ClusterIdentity(f"name:{name}", name, "", source)
    raise LedgerError(
        "this audit's cluster has no identity: the input holds no kube-system namespace and no name",
        hint="name it with --cluster NAME",
    )


@dataclass(frozen=True, slots=True)
class ScanEvidence:
    digest: str
    row: Mapping[str, Any]  # the scans row, without its vulnerability set's id
    set_digest: str  # the digest of its vulnerabilities alone: unchanged re-scans share one set
    vulnerabilities: tuple[Mapping[str, Any], ...]
    source: str  # where this audit read it


@dataclass(frozen=True, slots=True)
class AuditEvidence:
    """Everything ``record`` writes for one audit."""

    identity: ClusterIdentity
    evidence_key: str
    audit: Mapping[str, Any]  # the audits row, without id and cluster_id
    node_states: Mapping[str, Mapping[str, Any]]  # digest -> row
    image_uses: Mapping[str, Mapping[str, Any]]  # digest -> row
    audit_images: tuple[tuple[str, int, int], ...]  # (image use digest, pods, containers)
    scans: Mapping[str, ScanEvidence]  # digest -> scan
    scan_matches: tuple[tuple[str, str, str], ...]  # (image key, scan digest, match by)
    bodies: Mapping[bytes, Body]  # digest -> finding body (see BODY_FIELDS)
    findings: tuple[tuple[str, bytes], ...] = field(default=())  # (subject, body digest) in report order


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def inventory_digest(inventory: Inventory) -> str:
    """``sha256:`` of what the inventory was read from: its input files' digests, else its content."""
    hashed = sorted((i.read_as, i.sha256) for i in inventory.inputs if i.sha256)
    if hashed:
        return "sha256:" + digest_of({"inputs": hashed, "scans": len(inventory.scans)})
    digest = hashlib.sha256()
    digest.update(msgspec.json.encode(inventory.version))
    digest.update(msgspec.json.encode(inventory.nodes))
    digest.update(msgspec.json.encode(inventory.pods))
    digest.update(str(len(inventory.scans)).encode())
    return "sha256:" + digest.hexdigest()


KEY_LIST_ITEMS = 10  # items of a list of plain values kept in key evidence
KEY_NESTED_BYTES = 600  # a nested value (lists of objects, objects) kept in key evidence up to this size
_PLAIN = (str, int, float, bool, type(None))
KEY_SMALL_BYTES = 1024  # evidence up to this size is key evidence as it stands


def key_evidence(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """The evidence a ledger keeps for a finding: every plain value, lists of plain values (the first
    ten), and nested values up to a few hundred bytes; a larger nested value is replaced by what it
    held (its size), since the audit's own report keeps it whole and the ledger keeps the records it
    came from (nodes, images and their workloads, scans and their vulnerabilities)."""
    kept: dict[str, Any] = {}
    for key, value in evidence.items():
        if isinstance(value, _PLAIN):
            kept[key] = value
        elif isinstance(value, list | tuple) and all(
            isinstance(v, _PLAIN) for v in value[: KEY_LIST_ITEMS + 1]
        ):  # lists hold one kind of item: the head tells
            kept[key] = list(value[:KEY_LIST_ITEMS]) + (
                [f"… and {len(value) - KEY_LIST_ITEMS} more"] if len(value) > KEY_LIST_ITEMS else []
            )
        else:
            encoded = canonical(value)
            if len(encoded) <= KEY_NESTED_BYTES:
                kept[key] = value
            else:
                size = len(value) if isinstance(value, list | tuple | dict) else 1
                kept[key] = {"omitted": f"{size} item(s), {len(encoded)} bytes: in the audit's own report"}
    return kept


@dataclass(frozen=True, slots=True)
class Body:
    """A finding without its subject, encoded once: its canonical JSON (see BODY_FIELDS) and the two
    columns the finding_bodies row keeps beside it."""

    check: str
    status: str
    encoded: bytes


BODY_FIELDS = ("check", "status", "severity", "requirements", "message", "evidence", "remediation", "waiver", "note")


def _body(f: Finding) -> Body:
    waiver = None
    if f.waiver is not None:
        waiver = {
            "id": f.waiver.id,
            "check": f.waiver.check,
            "subject": f.waiver.subject,
            "reason": f.waiver.reason,
            "owner": f.waiver.owner,
            "approved_by": f.waiver.approved_by,
            "vulnerability": f.waiver.vulnerability,
            "expires": f.waiver.expires.isoformat(),
        }
    evidence = canonical(f.evidence)
    if len(evidence) > KEY_SMALL_BYTES:  # most evidence is small, and kept whole without a look
        evidence = canonical(key_evidence(f.evidence))
    encoded = canonical(
        [
            f.check,
            f.status.value,
            f.severity.value,
            list(f.requirements),
            f.message,
            msgspec.Raw(evidence),
            f.remediation,
            waiver,
            f.note,
        ]
    )
    return Body(f.check, f.status.value, encoded)


def _findings(findings: Sequence[Finding]) -> tuple[dict[bytes, Body], list[tuple[str, bytes]]]:
    """Distinct bodies by digest (16 bytes of SHA-256 over their canonical JSON), and (subject, digest) in order."""
    bodies: dict[bytes, Body] = {}
    order: list[tuple[str, bytes]] = []
    # Findings of one template (per_node) share their evidence object: encode each distinct one once.
    memo: dict[tuple[Any, ...], bytes] = {}
    for f in findings:
        key = (
            f.check,
            f.status,
            f.severity,
            f.message,
            id(f.evidence),
            f.remediation,
            f.requirements,
            f.waiver,
            f.note,
        )
        digest = memo.get(key)
        if digest is None:
            body = _body(f)
            digest = hashlib.sha256(body.encoded).digest()[:16]
            memo[key] = digest
            bodies.setdefault(digest, body)
        order.append((f.subject, digest))
    return bodies, order


def _release(f: Finding) -> tuple[str, str]:
    """(lifecycle product, release line) the finding judged: its typed support window."""
    support = f.support
    if support is None or not support.product or not support.line:
        return "", ""
    return support.product, support.line


def _node_releases(findings: Sequence[Finding]) -> dict[str, dict[str, tuple[str, str]]]:
    """node name -> component -> (lifecycle product, cycle) the audit judged it by."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for f in findings:
        component = NODE_SUPPORT_CHECKS.get(f.check)
        if component is not None and f.subject.startswith("node/"):
            out.setdefault(f.subject[5:], {})[component] = _release(f)
    return out


def _node_rows(facts: ClusterFacts, releases: Mapping[str, Mapping[str, tuple[str, str]]]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for nf in facts.nodes:
        node = nf.node
        info = node.info
        mine = releases.get(node.name, {})
        kubelet = mine.get("kubelet", ("", ""))
        runtime = mine.get("runtime", ("", ""))
        os_release = mine.get("os", ("", ""))
        row: dict[str, Any] = {
            "name": node.name,
            "uid": node.metadata.uid,
            "provider_id": node.spec.providerID or "",
            "boot_id": info.bootID,
            "machine_id": info.machineID,
            "kernel": info.kernelVersion,
            "os_image": info.osImage,
            "kubelet": info.kubeletVersion,
            "runtime": info.containerRuntimeVersion,
            "architecture": info.architecture,
            "pool": nf.pool,
            "created": node.metadata.creationTimestamp or "",
            "kubelet_product": kubelet[0],
            "kubelet_cycle": kubelet[1],
            "runtime_product": runtime[0],
            "runtime_cycle": runtime[1],
            "os_product": os_release[0],
            "os_cycle": os_release[1],
        }
        digest = digest_of(row)
        rows[digest] = {"digest": digest, **row}
    return rows


def image_key(image: RunningImage) -> str:
    """What identifies a running image across audits: its registry digest, its local image ID, or its reference."""
    if image.identity is Identity.DIGEST and image.digest:
        return image.digest
    if image.identity is Identity.LOCAL_ID and image.local_id:
        return image.local_id
    return "ref:" + image.subject.removeprefix("image/")


def workload_key(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def _image_rows(facts: ClusterFacts) -> tuple[dict[str, dict[str, Any]], list[tuple[str, int, int]]]:
    rows: dict[str, dict[str, Any]] = {}
    links: list[tuple[str, int, int]] = []
    for image in facts.images.images:
        row = {
            "image_key": image_key(image),
            "identity": image.identity.value,
            "subject": image.subject,
            "repository": image.repository,
            "refs": json_text(list(image.references)),
            "workloads": json_text(sorted({workload_key(w.kind, w.namespace, w.name) for w in image.workloads})),
            "namespaces": json_text(list(image.namespaces)),
        }
        digest = digest_of(row)
        rows.setdefault(digest, {"digest": digest, **row})
        links.append((digest, len(image.pod_keys), len(image.uses)))
    merged: dict[str, tuple[int, int]] = {}
    for digest, pods, containers in links:  # two images may share a row (same key and users): sum them
        before = merged.get(digest, (0, 0))
        merged[digest] = (before[0] + pods, before[1] + containers)
    return rows, [(d, p, c) for d, (p, c) in merged.items()]


def _scan(report: ScanReport) -> ScanEvidence:
    content = {
        "format": report.format,
        "scanner": report.scanner,
        "scanner_version": report.scanner_version,
        "scanned_at": _utc(report.scanned_at),
        "db_updated_at": _utc(report.db_updated_at),
        "artifact": report.artifact,
        "repo_digests": list(report.repo_digests),
        "manifest_digests": list(report.manifest_digests),
        "image_id": report.image_id,
        "os_family": report.os_family,
        "os_name": report.os_name,
        "os_eosl": report.os_eosl,
        "created": _utc(report.created),
        "artifact_type": report.artifact_type,
        "error": report.error,
    }
    found = [
        [
            v.id,
            v.severity.value if v.severity else None,
            v.package,
            v.installed_version,
            v.fixed_version,
            v.status,
            v.published,
            v.fix_released,
        ]
        for v in report.vulnerabilities
    ]
    set_digest = "sha256:" + digest_of(found)
    content["vulnerabilities"] = set_digest
    digest = "sha256:" + digest_of(content)
    row = {
        "digest": digest,
        "format": report.format,
        "scanner": report.scanner,
        "scanner_version": report.scanner_version,
        "scanned_at": _utc(report.scanned_at),
        "db_updated_at": _utc(report.db_updated_at),
        "artifact": report.artifact,
        "repo_digests": json_text(list(report.repo_digests)),
        "image_id": report.image_id,
        "os_family": report.os_family,
        "os_name": report.os_name,
        "os_eosl": report.os_eosl,
        "error": report.error,
    }
    vulnerabilities = tuple(
        {
            "seq": seq,
            "vulnerability": v.id,
            "package": v.package,
            "installed_version": v.installed_version,
            "fixed_version": v.fixed_version,
            "severity": v.severity.value if v.severity else None,
            "status": v.status,
            "published": v.published,
            "fix_released": v.fix_released,
        }
        for seq, v in enumerate(report.vulnerabilities)
    )
    return ScanEvidence(digest, row, set_digest, vulnerabilities, report.source)


def _scans(inventory: Inventory, facts: ClusterFacts) -> tuple[dict[str, ScanEvidence], list[tuple[str, str, str]]]:
    by_report: dict[int, str] = {}
    scans: dict[str, ScanEvidence] = {}
    for report in inventory.scans:
        scan = _scan(report)
        by_report[id(report)] = scan.digest
        scans.setdefault(scan.digest, scan)
    matches: dict[tuple[str, str], str] = {}
    if scans:
        index = ScanIndex(inventory.scans)
        for image in facts.images.images:
            if image.identity is Identity.UNKNOWN:
                continue
            key = image_key(image)
            for match in index.matches(image):
                if match.usable:
                    matches.setdefault((key, by_report[id(match.report)]), match.by.value)
    return scans, [(key, scan, by) for (key, scan), by in sorted(matches.items())]


def _support(findings: Sequence[Finding]) -> tuple[str, str]:
    for f in findings:
        if f.check == CONTROL_PLANE_SUPPORT and f.subject == "cluster":
            return _release(f)
    return "", ""


def audit_evidence(
    report: Report,
    inventory: Inventory,
    facts: ClusterFacts,
    *,
    cluster_name: str | None,
    policy_digest: str,
    bundle_digest: str | None,
    recorded_at: datetime,
) -> AuditEvidence:
    """The rows one audit records (see the module docstring)."""
    identity = cluster_identity(inventory, cluster_name)
    inv_digest = inventory_digest(inventory)
    bundle = bundle_digest or inventory.evidence_digest or None
    evidence_key = f"bundle:{bundle}" if bundle else f"inventory:{inv_digest}@{report.as_of.isoformat()}"
    collected = _utc(inventory.collected_at)
    observed_on: date = collected.date() if collected is not None else report.as_of
    lifecycle = report.lifecycle
    counts = {s.value: 0 for s in Status}
    for f in report.findings:
        counts[f.status.value] += 1
    cp_product, cp_cycle = _support(report.findings)
    audit = {
        "evidence_key": evidence_key,
        "as_of": report.as_of,
        "observed_on": observed_on,
        "collected_at": collected,
        "generated_at": _utc(report.generated_at),
        "recorded_at": _utc(recorded_at),
        "tool_version": report.tool_version,
        "lifecycle_data_date": lifecycle.retrieved if lifecycle else None,
        "data_sources": json_text(
            [
                {
                    "name": s.name,
                    "source": s.source,
                    "retrieved": s.retrieved,
                    "age_days": s.age_days,
                    "stale": s.stale,
                    "detail": s.detail,
                }
                for s in report.data_sources
            ]
        ),
        "policy_digest": policy_digest,
        "policy": json_text(dict(report.policy)),
        "bundle_digest": bundle,
        "inventory_digest": inv_digest,
        "identity_source": identity.source,
        "source": inventory.source or "",
        "context": inventory.name,
        "server": inventory.server or report.cluster.server,
        "api_version": report.cluster.version,
        "distribution": report.cluster.distribution,
        "openshift_release": facts.openshift_release,
        "control_plane_product": cp_product or None,
        "control_plane_cycle": cp_cycle or None,
        "nodes": report.cluster.nodes,
        "pods": report.cluster.pods,
        "images": report.cluster.images,
        "status_counts": json_text(counts),
        "warnings": json_text(list(report.warnings)),
    }
    bodies, order = _findings(report.findings)
    images, links = _image_rows(facts)
    scans, matches = _scans(inventory, facts)
    return AuditEvidence(
        identity=identity,
        evidence_key=evidence_key,
        audit=audit,
        node_states=_node_rows(facts, _node_releases(report.findings)),
        image_uses=images,
        audit_images=tuple(links),
        scans=scans,
        scan_matches=tuple(matches),
        bodies=bodies,
        findings=tuple(order),
    )
