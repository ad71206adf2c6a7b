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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any

import msgspec
from sqlalchemy import Connection, Integer, Table, Text, select, update
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


def _mark(conn: Connection) -> str:
    """The driver's parameter mark (sqlite3: qmark; psycopg: format)."""
    return "?" if conn.dialect.name == "sqlite" else "%s"


def _plain(table: Table) -> bool:
    """Whether every column is text or an integer: its rows go to the driver as they are, with no type to convert."""
    return all(type(column.type) in (Integer, Text) for column in table.c)


def _insert_plain(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]], conflict: str | None = None
) -> None:
    """``INSERT`` of many rows through the driver's executemany (``ON CONFLICT (conflict) DO NOTHING``)."""
    mark = _mark(conn)
    names = ", ".join('"' + c + '"' for c in columns)  # quoted: a column may be a keyword ("check", "key")
    statement = f"INSERT INTO {table} ({names}) VALUES ({', '.join([mark] * len(columns))})"
    if conflict:
        statement += f" ON CONFLICT ({conflict}) DO NOTHING"
    for chunk in _chunks(rows):
        conn.exec_driver_sql(statement, list(chunk))


def _max_id(conn: Connection, table: str) -> int:
    return int(conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar_one())


def _ids_after(conn: Connection, table: str, column: str, keys: Sequence[Any], before: int) -> dict[Any, int]:
    """The ids of ``keys`` just inserted into ``table`` (``before``: its largest id beforehand).

    Every id this transaction gives a row is above the largest id it could see before inserting
    (SQLite: the next rowid; PostgreSQL: a sequence, which only grows), so the new rows are read by
    a range of the primary key rather than by ``column IN (…)`` over all of them; a key whose row
    is not in that range (another writer stored it meanwhile and won the conflict) is then looked
    up by its value.
    """
    wanted = set(keys)
    found: dict[Any, int] = {}
    for key, i in conn.exec_driver_sql(
        f"SELECT {column}, id FROM {table} WHERE id > {_mark(conn)}", (before,)
    ).fetchall():
        if key in wanted:
            found[key] = int(i)
    rest = [k for k in keys if k not in found]
    if rest:
        found.update(_raw_ids(conn, table, column, rest))
    return found


def ensure_rows(
    conn: Connection, table: Table, rows: Mapping[str, Mapping[str, Any]], *, new: bool = False
) -> dict[str, int]:
    """The ids of content-addressed rows (by digest), inserting those not yet stored, in digest order.

    ``new``: the rows are most likely not stored yet (the first audit of a cluster), so they are
    inserted without looking first; those stored already are left as they are (``ON CONFLICT DO
    NOTHING``) and looked up.
    """
    digests = sorted(rows)
    ids = {} if new else _raw_ids(conn, table.name, "digest", digests)
    missing = [d for d in digests if d not in ids]
    if missing:
        before = _max_id(conn, table.name)
        if _plain(table):
            columns = [c.name for c in table.c if c.name != "id"]
            row = itemgetter(*columns)  # a tuple of the columns' values (the tables have several)
            _insert_plain(conn, table.name, columns, [row(rows[d]) for d in missing], "digest")
        else:
            statement = insert_ignoring_conflicts(conn, table, ["digest"])
            for chunk in _chunks(missing, 2000):
                conn.execute(statement, [dict(rows[d]) for d in chunk])
        ids.update(_ids_after(conn, table.name, "digest", missing, before))
    return ids


def _raw_ids(conn: Connection, table: str, column: str, keys: Sequence[Any]) -> dict[Any, int]:
    """``SELECT column, id FROM table WHERE column IN (…)`` through the driver: the lookups of a large audit."""
    mark = _mark(conn)
    found: dict[Any, int] = {}
    for chunk in _chunks(keys):
        statement = f"SELECT {column}, id FROM {table} WHERE {column} IN ({', '.join([mark] * len(chunk))})"
        found.update((key, int(i)) for key, i in conn.exec_driver_sql(statement, tuple(chunk)).fetchall())
    return found


def _known_bodies(conn: Connection, bodies: Mapping[bytes, Body]) -> tuple[dict[bytes, int], list[bytes]]:
    """(ids of the finding bodies already stored, digests of the others in digest order)."""
    digests = sorted(bodies)
    ids = {bytes(k): v for k, v in _raw_ids(conn, "finding_bodies", "digest", digests).items()}
    return ids, [d for d in digests if d not in ids]


def _pack(bodies: Mapping[bytes, Body], missing: Sequence[bytes]) -> bytes:
    """The new bodies' pack: zlib of their JSON list (they compress together)."""
    return zlib.compress(b"[" + b",".join(bodies[d].encoded for d in missing) + b"]", _LEVEL)


def _write_bodies(
    conn: Connection, bodies: Mapping[bytes, Body], missing: Sequence[bytes], pack_id: int, ids: dict[bytes, int]
) -> None:
    """Write the rows of the new bodies, which ``pack_id`` holds; add their ids to ``ids``."""
    before = _max_id(conn, "finding_bodies")
    # The hot insert of a large audit: plain executemany through the driver (both speak ON CONFLICT).
    rows = [(d, pack_id, i, bodies[d].check, bodies[d].status) for i, d in enumerate(missing)]
    _insert_plain(conn, "finding_bodies", ["digest", "pack_id", "idx", "check", "status"], rows, "digest")
    # The rows just written (see _ids_after), only this transaction's rows naming its pack; a body
    # another writer stored meanwhile (its row won the conflict) is then looked up by digest.
    mark = _mark(conn)
    written = conn.exec_driver_sql(
        f"SELECT digest, id FROM finding_bodies WHERE id > {mark} AND pack_id = {mark}", (before, pack_id)
    ).fetchall()
    ids.update((bytes(k), int(v)) for k, v in written)
    raced = [d for d in missing if d not in ids]
    if raced:
        ids.update((bytes(k), v) for k, v in _raw_ids(conn, "finding_bodies", "digest", raced).items())


def _subject_ids(conn: Connection, wanted: set[str], *, new: bool = False) -> dict[str, int]:
    """The subjects' ids, inserting those not yet stored (``new``: without looking first, see ``ensure_rows``)."""
    names = sorted(wanted)
    found = {} if new else _raw_ids(conn, "subjects", "subject", names)
    missing = [n for n in names if n not in found]
    if missing:
        before = _max_id(conn, "subjects")
        _insert_plain(conn, "subjects", ["subject"], [(n,) for n in missing], "subject")
        found.update(_ids_after(conn, "subjects", "subject", missing, before))
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

    # The new bodies' pack is compressed on another thread (zlib lets go of the GIL) while the node,
    # image, scan, subject and body rows are written: on a cluster's first audit it is the largest
    # single cost.  Its row is inserted first, for its id, and given its data once compressed.
    body_ids, new_bodies = _known_bodies(conn, evidence.bodies)
    # The first audit of a cluster: its nodes, images and subjects are (mostly) new to the ledger.
    first = conn.execute(select(a.c.id).where(a.c.cluster_id == cid, a.c.id != audit_id).limit(1)).first() is None
    with ThreadPoolExecutor(max_workers=1) as pool:
        packed = pool.submit(_pack, evidence.bodies, new_bodies) if new_bodies else None
        pack_id = None
        if new_bodies:
            pack_id = conn.execute(
                s.finding_packs.insert().values(bodies=len(new_bodies), data=b"").returning(s.finding_packs.c.id)
            ).scalar_one()
        _write_rows(conn, evidence, audit_id, new=first)
        subject_ids = _subject_ids(conn, {subject for subject, _ in evidence.findings}, new=first)
        if packed is not None and pack_id is not None:
            _write_bodies(conn, evidence.bodies, new_bodies, int(pack_id), body_ids)
            conn.execute(update(s.finding_packs).where(s.finding_packs.c.id == pack_id).values(data=packed.result()))
    pairs = [[subject_ids[subject], body_ids[digest]] for subject, digest in evidence.findings]
    conn.execute(
        s.audit_findings.insert(),
        [{"audit_id": audit_id, "findings": len(pairs), "data": zlib.compress(msgspec.json.encode(pairs), _LEVEL)}],
    )
    return audit_id, True


def _write_rows(conn: Connection, evidence: AuditEvidence, audit_id: int, *, new: bool) -> None:
    """The audit's node, image and scan rows (and the content-addressed rows they name)."""
    node_ids = ensure_rows(conn, s.node_states, evidence.node_states, new=new)
    if node_ids:
        _insert_plain(
            conn, "audit_nodes", ["audit_id", "node_state_id"], [(audit_id, i) for i in sorted(set(node_ids.values()))]
        )

    image_ids = ensure_rows(conn, s.image_uses, evidence.image_uses, new=new)
    if evidence.audit_images:
        _insert_plain(
            conn,
            "audit_images",
            ["audit_id", "image_use_id", "pods", "containers"],
            [(audit_id, image_ids[digest], pods, containers) for digest, pods, containers in evidence.audit_images],
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
