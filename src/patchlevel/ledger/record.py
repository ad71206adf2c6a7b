"""Record one audit in the ledger: ``record_audit``, idempotent and safe with concurrent writers.

One write transaction per audit.  The audit row goes first, unique per cluster and evidence key
(``ON CONFLICT DO NOTHING``): when the same bundle, or the same inventory at the same as-of date,
was recorded before, nothing else is written and the outcome says so.  Content-addressed rows
(node states, image uses, scans, finding bodies) are inserted in digest order with ``ON CONFLICT
DO NOTHING`` and then looked up, so concurrent writers sharing them neither fail nor deadlock;
on SQLite the transaction holds the write lock from its start (``BEGIN IMMEDIATE``) and other
writers wait (busy timeout).  A failure is one ``LedgerError`` line; the caller keeps its report.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import msgspec
from sqlalchemy import Connection, Table, select, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from patchlevel.facts import ClusterFacts
from patchlevel.inventory import Inventory
from patchlevel.ledger import schema as s
from patchlevel.ledger.errors import LedgerError
from patchlevel.ledger.evidence import AuditEvidence, Body, ClusterIdentity, audit_evidence
from patchlevel.ledger.store import Store, open_store
from patchlevel.model import Report

_CHUNK = 5000  # values per IN (...) lookup: under SQLite's (32,766) and PostgreSQL's (65,535) parameter limits
_LEVEL = 1  # zlib level: the fastest; findings of one audit compress well even so


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What became of one recording."""

    audit_id: int
    cluster: str  # the cluster's name in the ledger
    cluster_key: str  # "uid:…" or "name:…"
    created: bool  # False: this evidence was recorded before (the audit was not written twice)
    as_of: date
    observed_on: date
    findings: int
    ledger: str  # the ledger URL, password hidden

    @property
    def message(self) -> str:
        if self.created:
            return (
                f"recorded audit {self.audit_id} of cluster {self.cluster} (evidence of {self.observed_on}, "
                f"as of {self.as_of}, {self.findings} findings) in {self.ledger}"
            )
        return f"already recorded as audit {self.audit_id} of cluster {self.cluster} in {self.ledger}: nothing written"


def insert_ignoring_conflicts(conn: Connection, table: Table, keys: Sequence[str]) -> Any:
    """``INSERT … ON CONFLICT (keys) DO NOTHING`` in the connection's dialect (both speak it)."""
    if conn.dialect.name == "postgresql":
        return pg_dialect.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    return sqlite_dialect.insert(table).on_conflict_do_nothing(index_elements=list(keys))


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _ids(conn: Connection, table: Table, digests: Sequence[Any]) -> dict[Any, int]:
    found: dict[Any, int] = {}
    for chunk in _chunks(digests):
        for row in conn.execute(select(table.c.digest, table.c.id).where(table.c.digest.in_(chunk))):
            found[row[0]] = row[1]
    return found


def ensure_rows(conn: Connection, table: Table, rows: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """The ids of content-addressed rows (by digest), inserting those not yet stored, in digest order."""
    digests = sorted(rows)
    ids = _ids(conn, table, digests)
    missing = [d for d in digests if d not in ids]
    if missing:
        statement = insert_ignoring_conflicts(conn, table, ["digest"])
        for chunk in _chunks(missing, 2000):
            conn.execute(statement, [dict(rows[d]) for d in chunk])
        ids.update(_ids(conn, table, missing))
    return ids


def _raw_ids(conn: Connection, table: str, column: str, keys: Sequence[Any]) -> dict[Any, int]:
    """``SELECT column, id FROM table WHERE column IN (…)`` through the driver: the lookups of a large audit."""
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    found: dict[Any, int] = {}
    for chunk in _chunks(keys):
        statement = f"SELECT {column}, id FROM {table} WHERE {column} IN ({', '.join([mark] * len(chunk))})"
        found.update((key, int(i)) for key, i in conn.exec_driver_sql(statement, tuple(chunk)))
    return found


def _body_ids(conn: Connection, bodies: Mapping[bytes, Body]) -> dict[bytes, int]:
    """The ids of finding bodies, writing the new ones into one compressed pack (they compress together)."""
    digests = sorted(bodies)
    ids = {bytes(k): v for k, v in _raw_ids(conn, "finding_bodies", "digest", digests).items()}
    missing = [d for d in digests if d not in ids]
    if not missing:
        return ids
    data = zlib.compress(b"[" + b",".join(bodies[d].encoded for d in missing) + b"]", _LEVEL)
    pack_id = conn.execute(
        s.finding_packs.insert().values(bodies=len(missing), data=data).returning(s.finding_packs.c.id)
    ).scalar_one()
    # The hot insert of a large audit: plain executemany through the driver (both speak ON CONFLICT).
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    statement = (
        f'INSERT INTO finding_bodies (digest, pack_id, idx, "check", status) '
        f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark}) ON CONFLICT (digest) DO NOTHING"
    )
    rows = [(d, pack_id, i, bodies[d].check, bodies[d].status) for i, d in enumerate(missing)]
    for start in range(0, len(rows), 5000):
        conn.exec_driver_sql(statement, rows[start : start + 5000])
    ids.update((bytes(k), v) for k, v in _raw_ids(conn, "finding_bodies", "digest", missing).items())
    return ids


def _subject_ids(conn: Connection, wanted: set[str]) -> dict[str, int]:
    names = sorted(wanted)
    found = _raw_ids(conn, "subjects", "subject", names)
    missing = [n for n in names if n not in found]
    if missing:
        statement = insert_ignoring_conflicts(conn, s.subjects, ["subject"])
        for start in range(0, len(missing), 5000):
            conn.execute(statement, [{"subject": n} for n in missing[start : start + 5000]])
        found.update(_raw_ids(conn, "subjects", "subject", missing))
    return found


def _now() -> datetime:
    return datetime.now(UTC)


def cluster_id(conn: Connection, identity: ClusterIdentity) -> int:
    """The cluster's row: by kube-system UID, adopting a cluster recorded by name before; else by name."""
    c = s.clusters
    if identity.uid:
        found = conn.execute(select(c.c.id).where(c.c.key == identity.key)).scalar()
        if found is not None:
            return int(found)
        by_name = conn.execute(select(c.c.id).where(c.c.key == f"name:{identity.name}", c.c.uid.is_(None))).scalar()
        if by_name is not None:  # audits recorded by name before the UID was known line up with this cluster
            conn.execute(update(c).where(c.c.id == by_name).values(key=identity.key, uid=identity.uid))
            return int(by_name)
    else:
        found = conn.execute(select(c.c.id).where(c.c.key == identity.key)).scalar()
        if found is not None:
            return int(found)
        by_name = conn.execute(
            select(c.c.id).where(c.c.name == identity.name, c.c.uid.is_not(None)).order_by(c.c.id.desc()).limit(1)
        ).scalar()
        if by_name is not None:  # a cluster known by its UID under this name: an audit without the UID joins it
            return int(by_name)
    conn.execute(
        insert_ignoring_conflicts(conn, c, ["key"]),
        [{"key": identity.key, "name": identity.name, "uid": identity.uid or None, "created_at": _now()}],
    )
    return int(conn.execute(select(c.c.id).where(c.c.key == identity.key)).scalar_one())


def write_evidence(conn: Connection, evidence: AuditEvidence) -> tuple[int, bool]:
    """Write one audit's rows in the caller's transaction; (audit id, whether it was new)."""
    cid = cluster_id(conn, evidence.identity)
    a = s.audits
    inserted = conn.execute(
        insert_ignoring_conflicts(conn, a, ["cluster_id", "evidence_key"])
        .values(cluster_id=cid, **evidence.audit)
        .returning(a.c.id)
    ).scalar()
    if inserted is None:
        existing = conn.execute(
            select(a.c.id).where(a.c.cluster_id == cid, a.c.evidence_key == evidence.evidence_key)
        ).scalar_one()
        return int(existing), False
    audit_id = int(inserted)

    node_ids = ensure_rows(conn, s.node_states, evidence.node_states)
    if node_ids:
        conn.execute(
            s.audit_nodes.insert(), [{"audit_id": audit_id, "node_state_id": i} for i in sorted(set(node_ids.values()))]
        )

    image_ids = ensure_rows(conn, s.image_uses, evidence.image_uses)
    if evidence.audit_images:
        conn.execute(
            s.audit_images.insert(),
            [
                {"audit_id": audit_id, "image_use_id": image_ids[digest], "pods": pods, "containers": containers}
                for digest, pods, containers in evidence.audit_images
            ],
        )

    if evidence.scans:
        sets = {scan.set_digest: scan for scan in evidence.scans.values()}
        set_rows = {d: {"digest": d, "vulnerabilities": len(scan.vulnerabilities)} for d, scan in sets.items()}
        known_sets = _ids(conn, s.vulnerability_sets, sorted(set_rows))
        set_ids = ensure_rows(conn, s.vulnerability_sets, set_rows)
        for digest in sorted(d for d in set_ids if d not in known_sets):  # a set's rows are written once
            vulnerabilities = sets[digest].vulnerabilities
            if vulnerabilities:
                statement = insert_ignoring_conflicts(conn, s.set_vulnerabilities, ["set_id", "seq"])
                conn.execute(statement, [{"set_id": set_ids[digest], **v} for v in vulnerabilities])
        scan_rows = {
            d: {**scan.row, "vulnerability_set_id": set_ids[scan.set_digest]} for d, scan in evidence.scans.items()
        }
        scan_ids = ensure_rows(conn, s.scans, scan_rows)
        conn.execute(
            s.audit_scans.insert(),
            [
                {"audit_id": audit_id, "scan_id": scan_ids[d], "source": evidence.scans[d].source}
                for d in sorted(evidence.scans)
            ],
        )
        if evidence.scan_matches:
            conn.execute(
                insert_ignoring_conflicts(conn, s.scan_matches, ["image_key", "scan_id"]),
                [
                    {"image_key": key, "scan_id": scan_ids[scan], "match_by": by}
                    for key, scan, by in evidence.scan_matches
                ],
            )

    body_ids = _body_ids(conn, evidence.bodies)
    subject_ids = _subject_ids(conn, {subject for subject, _ in evidence.findings})
    pairs = [[subject_ids[subject], body_ids[digest]] for subject, digest in evidence.findings]
    conn.execute(
        s.audit_findings.insert(),
        [{"audit_id": audit_id, "findings": len(pairs), "data": zlib.compress(msgspec.json.encode(pairs), _LEVEL)}],
    )
    return audit_id, True


def record_evidence(store: Store, evidence: AuditEvidence) -> RecordOutcome:
    audit_id, created = store.write("recording the audit", lambda conn: write_evidence(conn, evidence))
    return RecordOutcome(
        audit_id=audit_id,
        cluster=evidence.identity.name,
        cluster_key=evidence.identity.key,
        created=created,
        as_of=evidence.audit["as_of"],
        observed_on=evidence.audit["observed_on"],
        findings=len(evidence.findings),
        ledger=store.shown,
    )


def record_audit(
    store_url: str,
    report: Report,
    inventory: Inventory,
    facts: ClusterFacts,
    *,
    cluster_name: str | None,
    policy_digest: str,
    bundle_digest: str | None,
) -> RecordOutcome:
    """Record one audit in the ledger at ``store_url`` (created and migrated on first use).

    Idempotent: the same bundle, or the same inventory at the same as-of date, gives one audit
    (``RecordOutcome.created`` is then False).  Raises ``LedgerError`` (one line) on failure.
    """
    try:
        evidence = audit_evidence(
            report,
            inventory,
            facts,
            cluster_name=cluster_name,
            policy_digest=policy_digest,
            bundle_digest=bundle_digest,
            recorded_at=_now(),
        )
        with open_store(store_url) as store:
            return record_evidence(store, evidence)
    except LedgerError:
        raise
    except Exception as exc:  # the caller's report must survive a bug here too: one line, exit 3
        if os.environ.get("PATCHLEVEL_DEBUG"):
            raise
        raise LedgerError(f"recording the audit failed: internal error: {type(exc).__name__}: {exc}") from None
