"""The SQL side of the history model: load a cluster's ``History`` for a period, list and prune audits.

Everything the period checks judge is loaded here first, in a handful of queries per period
(audits, their nodes and images, the scans matched to those images and their vulnerabilities),
so the checks themselves never touch the database.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Connection, delete, func, select

from patchlevel.ledger import schema as s
from patchlevel.ledger.errors import LedgerError
from patchlevel.ledger.history import (
    AuditPoint,
    ClusterRef,
    History,
    ImageUse,
    NodeState,
    Release,
    Scan,
    Vulnerability,
)
from patchlevel.ledger.store import Store
from patchlevel.model import Finding, Severity

_CHUNK = 500


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _release(product: str | None, cycle: str | None) -> Release | None:
    return Release(product, cycle) if product and cycle else None


def _day(text: str) -> date | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


# ------------------------------------------------------------------------------------------
# Clusters


def list_clusters(conn: Connection) -> list[ClusterRef]:
    rows = conn.execute(select(s.clusters.c.key, s.clusters.c.name, s.clusters.c.uid).order_by(s.clusters.c.name))
    return [ClusterRef(r.key, r.name, r.uid or "") for r in rows]


def find_cluster(conn: Connection, wanted: str | None, shown: str) -> tuple[int, ClusterRef]:
    """The cluster ``wanted`` names (its name, its kube-system UID, or its key); the only one when None."""
    c = s.clusters
    rows = conn.execute(select(c.c.id, c.c.key, c.c.name, c.c.uid).order_by(c.c.id)).all()
    if not rows:
        raise LedgerError(f"ledger {shown} holds no audit yet", hint="record one with 'patchlevel audit --ledger URL'")
    if wanted is None:
        if len(rows) > 1:
            names = ", ".join(r.name for r in rows[:10])
            raise LedgerError(
                f"ledger {shown} holds {len(rows)} clusters ({names}): name one with --cluster",
                hint="or use --all-clusters",
            )
        found = rows
    else:
        found = [r for r in rows if wanted in (r.name, r.uid, r.key)]
        if not found:
            names = ", ".join(r.name for r in rows[:10])
            raise LedgerError(f"ledger {shown} holds no cluster named {wanted!r}", hint=f"it holds: {names}")
        if len(found) > 1:
            keys = ", ".join(r.key for r in found)
            raise LedgerError(f"{wanted!r} names {len(found)} clusters in the ledger ({keys})", hint="name one by UID")
    row = found[0]
    return int(row.id), ClusterRef(row.key, row.name, row.uid or "")


# ------------------------------------------------------------------------------------------
# The history of one cluster


def load_history(store: Store, cluster: str | None, start: date, end: date, lookback_days: int) -> History:
    """Everything the period checks need for ``cluster`` from ``start - lookback_days`` to ``end``."""
    try:
        with store.reading() as conn:
            return _load(conn, store.shown, cluster, start, end, lookback_days)
    except LedgerError:
        raise
    except Exception as exc:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            raise store.error("reading the history", exc) from None
        raise


def recorded_history(store: Store, cluster_key: str, as_of: date, lookback_days: int) -> History | None:
    """The history of the cluster with ``cluster_key`` up to ``as_of`` (audits observed on or before it),
    for the clocks of an audit being recorded; None when the ledger holds no audit of that cluster yet."""
    try:
        with store.reading() as conn:
            known = conn.execute(select(s.clusters.c.id).where(s.clusters.c.key == cluster_key)).first()
    except Exception as exc:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            raise store.error("reading the history", exc) from None
        raise
    if known is None:
        return None
    return load_history(store, cluster_key, as_of, as_of, lookback_days)


def _load(conn: Connection, shown: str, cluster: str | None, start: date, end: date, lookback: int) -> History:
    cluster_id, ref = find_cluster(conn, cluster, shown)
    a = s.audits
    first = start - timedelta(days=max(0, lookback))
    rows = conn.execute(
        select(a)
        .where(a.c.cluster_id == cluster_id, a.c.observed_on >= first, a.c.observed_on <= end)
        .order_by(a.c.observed_on, a.c.collected_at, a.c.id)
    ).all()
    audit_ids = [int(r.id) for r in rows]
    nodes_of = _audit_nodes(conn, audit_ids)
    images_of = _audit_images(conn, audit_ids)
    audits = tuple(
        AuditPoint(
            id=int(r.id),
            day=r.observed_on,
            as_of=r.as_of,
            collected_at=_utc(r.collected_at),
            tool_version=r.tool_version,
            api_version=r.api_version,
            distribution=r.distribution,
            openshift_release=r.openshift_release,
            control_plane=_release(r.control_plane_product, r.control_plane_cycle),
            nodes=tuple(nodes_of.get(int(r.id), ())),
            images=tuple(images_of.get(int(r.id), ())),
            bundle_digest=r.bundle_digest,
            pod_count=int(r.pods),
        )
        for r in rows
    )
    keys = sorted({i.key for audit in audits for i in audit.images if i.identity != "unknown"})
    # The nearest evidence days outside the window: the gaps at the period's edges are measured to them.
    before = conn.execute(
        select(func.max(a.c.observed_on)).where(a.c.cluster_id == cluster_id, a.c.observed_on < first)
    ).scalar()
    after = conn.execute(
        select(func.min(a.c.observed_on)).where(a.c.cluster_id == cluster_id, a.c.observed_on > end)
    ).scalar()
    return History(ref, start, end, audits, _scans(conn, keys), before=_as_date(before), after=_as_date(after))


def _as_date(value: Any) -> date | None:
    """A date column's aggregate (SQLite hands MAX/MIN of a date back as text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _audit_nodes(conn: Connection, audit_ids: Sequence[int]) -> dict[int, list[NodeState]]:
    states: dict[int, NodeState] = {}
    out: dict[int, list[NodeState]] = {}
    n, an = s.node_states, s.audit_nodes
    for chunk in _chunks(audit_ids):
        links = conn.execute(select(an.c.audit_id, an.c.node_state_id).where(an.c.audit_id.in_(chunk))).all()
        wanted = sorted({int(link.node_state_id) for link in links} - set(states))
        for ids in _chunks(wanted):
            for r in conn.execute(select(n).where(n.c.id.in_(ids))):
                states[int(r.id)] = NodeState(
                    name=r.name,
                    uid=r.uid,
                    provider_id=r.provider_id,
                    boot_id=r.boot_id,
                    kernel=r.kernel,
                    os_image=r.os_image,
                    kubelet=r.kubelet,
                    runtime=r.runtime,
                    pool=r.pool,
                    created=_day(r.created),
                    kubelet_release=_release(r.kubelet_product, r.kubelet_cycle),
                    runtime_release=_release(r.runtime_product, r.runtime_cycle),
                    os_release=_release(r.os_product, r.os_cycle),
                )
        for link in links:
            out.setdefault(int(link.audit_id), []).append(states[int(link.node_state_id)])
    for nodes in out.values():
        nodes.sort(key=lambda node: node.name)
    return out


def _audit_images(conn: Connection, audit_ids: Sequence[int]) -> dict[int, list[ImageUse]]:
    uses: dict[int, ImageUse] = {}
    out: dict[int, list[ImageUse]] = {}
    i, ai = s.image_uses, s.audit_images
    for chunk in _chunks(audit_ids):
        links = conn.execute(select(ai.c.audit_id, ai.c.image_use_id).where(ai.c.audit_id.in_(chunk))).all()
        wanted = sorted({int(link.image_use_id) for link in links} - set(uses))
        for ids in _chunks(wanted):
            for r in conn.execute(select(i).where(i.c.id.in_(ids))):
                uses[int(r.id)] = ImageUse(
                    key=r.image_key,
                    identity=r.identity,
                    subject=r.subject,
                    repository=r.repository,
                    references=tuple(json.loads(r.refs)),
                    workloads=tuple(json.loads(r.workloads)),
                    namespaces=tuple(json.loads(r.namespaces)),
                )
        for link in links:
            out.setdefault(int(link.audit_id), []).append(uses[int(link.image_use_id)])
    return out


def _severity(value: str | None) -> Severity | None:
    try:
        return Severity(value) if value else None
    except ValueError:
        return None


def _scans(conn: Connection, image_keys: Sequence[str]) -> dict[str, tuple[Scan, ...]]:
    m, sc, v = s.scan_matches, s.scans, s.set_vulnerabilities
    matched: dict[str, list[int]] = {}
    for chunk in _chunks(image_keys):
        for r in conn.execute(select(m.c.image_key, m.c.scan_id).where(m.c.image_key.in_(chunk))):
            matched.setdefault(r.image_key, []).append(int(r.scan_id))
    scan_ids = sorted({sid for ids in matched.values() for sid in ids})
    rows: list[Any] = []
    for chunk in _chunks(scan_ids):
        rows.extend(
            conn.execute(
                select(
                    sc.c.id, sc.c.digest, sc.c.scanner, sc.c.scanned_at, sc.c.error, sc.c.vulnerability_set_id
                ).where(sc.c.id.in_(chunk))
            ).all()
        )
    set_ids = sorted({int(r.vulnerability_set_id) for r in rows})
    vulnerabilities: dict[int, list[Vulnerability]] = {}
    for chunk in _chunks(set_ids):
        for vr in conn.execute(
            select(
                v.c.set_id,
                v.c.vulnerability,
                v.c.package,
                v.c.severity,
                v.c.fixed_version,
                v.c.published,
                v.c.fix_released,
            )
            .where(v.c.set_id.in_(chunk))
            .order_by(v.c.set_id, v.c.seq)
        ):
            vulnerabilities.setdefault(int(vr.set_id), []).append(
                Vulnerability(
                    vr.vulnerability,
                    vr.package,
                    _severity(vr.severity),
                    vr.fixed_version,
                    vr.published,
                    vr.fix_released,
                )
            )
    shared = {set_id: tuple(found) for set_id, found in vulnerabilities.items()}
    scans = {
        int(r.id): Scan(
            int(r.id), r.digest, r.scanner, _utc(r.scanned_at), r.error, shared.get(int(r.vulnerability_set_id), ())
        )
        for r in rows
    }
    far = datetime.max.replace(tzinfo=UTC)
    return {
        key: tuple(sorted((scans[i] for i in ids), key=lambda scan: (scan.scanned_at or far, scan.id)))
        for key, ids in matched.items()
    }


# ------------------------------------------------------------------------------------------
# Listing and pruning


@dataclass(frozen=True, slots=True)
class AuditListing:
    id: int
    cluster: str
    cluster_key: str
    observed_on: date
    as_of: date
    collected_at: datetime | None
    recorded_at: datetime
    source: str
    tool_version: str
    api_version: str
    nodes: int
    pods: int
    images: int
    status_counts: dict[str, int]
    bundle_digest: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "cluster": self.cluster,
            "cluster_key": self.cluster_key,
            "observed_on": self.observed_on.isoformat(),
            "as_of": self.as_of.isoformat(),
            "collected_at": self.collected_at.isoformat() if self.collected_at else None,
            "recorded_at": self.recorded_at.isoformat(),
            "source": self.source,
            "tool_version": self.tool_version,
            "kubernetes_version": self.api_version or None,
            "nodes": self.nodes,
            "pods": self.pods,
            "images": self.images,
            "findings": self.status_counts,
            "bundle_digest": self.bundle_digest,
        }


def list_audits(store: Store, cluster: str | None = None) -> list[AuditListing]:
    a, c = s.audits, s.clusters
    try:
        with store.reading() as conn:
            statement = select(a, c.c.name.label("cluster_name"), c.c.key.label("cluster_key")).join(c)
            if cluster is not None:
                cluster_id, _ = find_cluster(conn, cluster, store.shown)
                statement = statement.where(a.c.cluster_id == cluster_id)
            rows = conn.execute(statement.order_by(c.c.name, a.c.observed_on, a.c.id)).all()
    except LedgerError:
        raise
    except Exception as exc:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            raise store.error("listing the audits", exc) from None
        raise
    return [
        AuditListing(
            id=int(r.id),
            cluster=r.cluster_name,
            cluster_key=r.cluster_key,
            observed_on=r.observed_on,
            as_of=r.as_of,
            collected_at=_utc(r.collected_at),
            recorded_at=_utc(r.recorded_at) or datetime.min.replace(tzinfo=UTC),
            source=r.source,
            tool_version=r.tool_version,
            api_version=r.api_version,
            nodes=r.nodes,
            pods=r.pods,
            images=r.images,
            status_counts={k: v for k, v in json.loads(r.status_counts).items() if v},
            bundle_digest=r.bundle_digest,
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class PruneOutcome:
    audits: int  # audits removed
    before: date  # evidence older than this day was removed
    orphans: int  # shared rows no audit referred to any more, removed


def prune(store: Store, keep_days: int, today: date) -> PruneOutcome:
    """Remove audits whose evidence is older than ``keep_days`` before ``today``, then rows nothing uses."""
    before = today - timedelta(days=keep_days)

    def work(conn: Connection) -> PruneOutcome:
        a = s.audits
        old = [int(i) for i in conn.execute(select(a.c.id).where(a.c.observed_on < before)).scalars()]
        for chunk in _chunks(old):
            for link in (s.audit_findings, s.audit_nodes, s.audit_images, s.audit_scans):
                conn.execute(delete(link).where(link.c.audit_id.in_(chunk)))
            conn.execute(delete(a).where(a.c.id.in_(chunk)))
        orphans = _prune_bodies(conn)
        for table, column in (
            (s.node_states, s.audit_nodes.c.node_state_id),
            (s.image_uses, s.audit_images.c.image_use_id),
        ):
            unused = select(table.c.id).where(~table.c.id.in_(select(column).distinct()))
            orphans += conn.execute(delete(table).where(table.c.id.in_(unused))).rowcount or 0
        unused_scans = select(s.scans.c.id).where(~s.scans.c.id.in_(select(s.audit_scans.c.scan_id).distinct()))
        scan_ids = [int(i) for i in conn.execute(unused_scans).scalars()]
        for chunk in _chunks(scan_ids):
            conn.execute(delete(s.scan_matches).where(s.scan_matches.c.scan_id.in_(chunk)))
            orphans += conn.execute(delete(s.scans).where(s.scans.c.id.in_(chunk))).rowcount or 0
        sets = s.vulnerability_sets
        unused_sets = select(sets.c.id).where(~sets.c.id.in_(select(s.scans.c.vulnerability_set_id).distinct()))
        set_ids = [int(i) for i in conn.execute(unused_sets).scalars()]
        for chunk in _chunks(set_ids):
            conn.execute(delete(s.set_vulnerabilities).where(s.set_vulnerabilities.c.set_id.in_(chunk)))
            orphans += conn.execute(delete(sets).where(sets.c.id.in_(chunk))).rowcount or 0
        return PruneOutcome(len(old), before, orphans)

    return store.write("pruning", work)


def _prune_bodies(conn: Connection) -> int:
    """Remove finding bodies no remaining audit names, then packs that hold no body any more."""
    used: set[int] = set()
    used_subjects: set[int] = set()
    for (data,) in conn.execute(select(s.audit_findings.c.data)):
        for subject, body in msgspec.json.decode(zlib.decompress(data)):
            used.add(body)
            used_subjects.add(subject)
    stale = [int(i) for i in conn.execute(select(s.subjects.c.id)).scalars() if int(i) not in used_subjects]
    for chunk in _chunks(stale):
        conn.execute(delete(s.subjects).where(s.subjects.c.id.in_(chunk)))
    stored = [int(i) for i in conn.execute(select(s.finding_bodies.c.id)).scalars()]
    unused = [i for i in stored if i not in used]
    for chunk in _chunks(unused):
        conn.execute(delete(s.finding_bodies).where(s.finding_bodies.c.id.in_(chunk)))
    empty = select(s.finding_packs.c.id).where(~s.finding_packs.c.id.in_(select(s.finding_bodies.c.pack_id).distinct()))
    packs = [int(i) for i in conn.execute(empty).scalars()]
    for chunk in _chunks(packs):
        conn.execute(delete(s.finding_packs).where(s.finding_packs.c.id.in_(chunk)))
    return len(unused) + len(packs) + len(stale)


def audit_findings(store: Store, audit_id: int) -> tuple[Finding, ...]:
    """Every finding one recorded audit holds, in report order (evidence as the ledger keeps it: key evidence)."""
    from patchlevel.model import Severity, Status

    with store.reading() as conn:
        data = conn.execute(select(s.audit_findings.c.data).where(s.audit_findings.c.audit_id == audit_id)).scalar()
        if data is None:
            raise LedgerError(f"ledger {store.shown} holds no audit {audit_id}")
        pairs: list[list[Any]] = msgspec.json.decode(zlib.decompress(data))
        ids = sorted({int(body) for _, body in pairs})
        subject_ids = sorted({int(subject) for subject, _ in pairs})
        names: dict[int, str] = {}
        for chunk in _chunks(subject_ids):
            names.update(
                (int(r.id), r.subject)
                for r in conn.execute(select(s.subjects.c.id, s.subjects.c.subject).where(s.subjects.c.id.in_(chunk)))
            )
        where: dict[int, tuple[int, int]] = {}
        for chunk in _chunks(ids):
            for r in conn.execute(
                select(s.finding_bodies.c.id, s.finding_bodies.c.pack_id, s.finding_bodies.c.idx).where(
                    s.finding_bodies.c.id.in_(chunk)
                )
            ):
                where[int(r.id)] = (int(r.pack_id), int(r.idx))
        packs: dict[int, list[list[Any]]] = {}
        for chunk in _chunks(sorted({p for p, _ in where.values()})):
            for pack_row in conn.execute(
                select(s.finding_packs.c.id, s.finding_packs.c.data).where(s.finding_packs.c.id.in_(chunk))
            ):
                packs[int(pack_row.id)] = msgspec.json.decode(zlib.decompress(pack_row.data))
    findings = []
    for subject_id, body_id in pairs:
        subject = names[int(subject_id)]
        pack, index = where[int(body_id)]
        check, status, severity, requirements, message, evidence, remediation, _waiver, note = packs[pack][index]
        findings.append(
            Finding(
                check=check,
                status=Status(status),
                severity=Severity(severity),
                subject=subject,
                message=message,
                evidence=evidence,
                remediation=remediation,
                requirements=tuple(requirements),
                note=note,
            )
        )
    return tuple(findings)


def count_audits(store: Store) -> int:
    with store.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(s.audits)).scalar_one())
