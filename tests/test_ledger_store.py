"""The ledger store on SQLite and on a real PostgreSQL server: migrations, refusals, recording.

Every test runs on both engines (``pg_harness`` starts a throwaway PostgreSQL server, or the
PostgreSQL cases skip saying why).  Audits come from the demo cluster snapshot and from real
fixture files copied into ``tests/data``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import func, select, update

from patchlevel.audit import AuditConfig, AuditOutcome, InventorySource, SnapshotSource, run
from patchlevel.collect.decode import decode_json_bytes, decode_yaml_bytes
from patchlevel.ledger import schema as s
from patchlevel.ledger.errors import LedgerError
from patchlevel.ledger.evidence import cluster_identity, key_evidence, policy_digest
from patchlevel.ledger.query import audit_findings
from patchlevel.ledger.record import record_audit
from patchlevel.ledger.store import known_revisions, ledger_url, open_store, schema_revision, shown_url
from patchlevel.policy import Policy
from pg_harness import ENGINES, ledger_url_for

ROOT = Path(__file__).parent.parent
DEMO = ROOT / "examples" / "demo-cluster"
AS_OF = date(2026, 11, 27)


@pytest.fixture(params=ENGINES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return ledger_url_for(request.param, tmp_path)


@pytest.fixture(scope="module")
def demo() -> AuditOutcome:
    return run(AuditConfig(as_of=AS_OF), SnapshotSource(DEMO))


def record(url: str, outcome: AuditOutcome, cluster_name: str | None = None, bundle: str | None = None) -> object:
    return record_audit(
        url,
        outcome.report,
        outcome.inventory,
        outcome.facts,
        cluster_name=cluster_name,
        policy_digest=policy_digest(Policy().to_dict()),
        bundle_digest=bundle,
    )


def count(url: str, table: s.Table) -> int:
    with open_store(url) as store, store.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# ------------------------------------------------------------------------------------------
# Opening and migrating


def test_first_use_creates_the_schema_at_the_newest_revision(url: str) -> None:
    head, known = known_revisions()
    with open_store(url) as store:
        assert schema_revision(store) == head
    assert head in known
    with open_store(url) as store:  # a second open finds it migrated
        assert schema_revision(store) == head


def test_the_migrations_create_exactly_the_tables_the_code_declares(url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with open_store(url) as store, store.engine.connect() as conn:
        differences = compare_metadata(
            MigrationContext.configure(conn, opts={"version_table": s.VERSION_TABLE}), s.metadata
        )
    assert differences == []


def test_a_schema_newer_than_this_patchlevel_is_refused_in_one_line(url: str) -> None:
    with open_store(url) as store, store.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE {s.VERSION_TABLE} SET version_num = '9999'")
    with pytest.raises(LedgerError) as caught:
        open_store(url)
    message = str(caught.value)
    assert "schema revision 9999" in message and "newer patchlevel" in message
    assert "\n" not in message


def test_concurrent_first_use_migrates_once(url: str) -> None:
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            open_store(url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with open_store(url) as store:
        assert schema_revision(store) == known_revisions()[0]


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("", "empty"),
        ("mysql://db/ledger", "not 'mysql'"),
        ("sqlite://", "needs a file"),
        ("sqlite:///:memory:", "needs a file"),
    ],
)
def test_bad_ledger_urls_are_one_line_errors(given: str, problem: str) -> None:
    with pytest.raises(LedgerError, match=problem):
        ledger_url(given)


def test_postgres_urls_use_psycopg_and_passwords_are_never_shown() -> None:
    url = ledger_url("postgres://audit:s3cret@db.example:5432/compliance")
    assert url.drivername == "postgresql+psycopg"
    assert "s3cret" not in shown_url(url)
    assert shown_url(url) == "postgresql://audit:***@db.example:5432/compliance"
    assert ledger_url("ledger.db").get_backend_name() == "sqlite"


def test_an_unreachable_postgres_is_one_line_naming_the_ledger_without_its_password() -> None:
    with pytest.raises(LedgerError) as caught:
        open_store("postgresql://u:topsecret@127.0.0.1:1/none")
    text = str(caught.value)
    assert "topsecret" not in text and "127.0.0.1:1" in text and "\n" not in text


def test_an_unwritable_sqlite_location_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(LedgerError, match="cannot create the ledger's directory"):
        open_store(f"sqlite:///{blocker}/sub/ledger.db")


# ------------------------------------------------------------------------------------------
# Recording


def test_recording_keeps_every_finding_node_and_image(url: str, demo: AuditOutcome) -> None:
    outcome = record(url, demo)
    assert outcome.created and outcome.findings == len(demo.report.findings)  # type: ignore[attr-defined]
    with open_store(url) as store, store.reading() as conn:
        audit = conn.execute(select(s.audits)).one()
        assert audit.as_of == AS_OF and audit.observed_on == AS_OF
        assert audit.api_version == demo.report.cluster.version
        assert json.loads(audit.status_counts)["fail"] == sum(1 for f in demo.report.findings if f.status == "fail")
        assert conn.execute(select(s.audit_findings.c.findings)).scalar_one() == len(demo.report.findings)
        nodes = conn.execute(select(s.node_states)).all()
        assert sorted(n.name for n in nodes) == sorted(n.name for n in demo.inventory.nodes)
        by_name = {n.name: n for n in nodes}
        for node in demo.inventory.nodes:
            row = by_name[node.name]
            assert (row.boot_id, row.kernel, row.os_image) == (
                node.info.bootID,
                node.info.kernelVersion,
                node.info.osImage,
            )
            assert row.kubelet_product and row.kubelet_cycle and row.os_product
        images = conn.execute(select(s.image_uses.c.subject)).scalars().all()
        assert sorted(images) == sorted(i.subject for i in demo.facts.images.images)
    with open_store(url) as store:
        kept = audit_findings(store, outcome.audit_id)  # type: ignore[attr-defined]
    assert [(f.subject, f.check, f.status, f.message, f.requirements) for f in kept] == [
        (f.subject, f.check, f.status, f.message, f.requirements) for f in demo.report.findings
    ]
    assert all(set(k.evidence) == set(f.evidence) for k, f in zip(kept, demo.report.findings, strict=True))


def test_key_evidence_keeps_plain_values_and_bounds_the_rest() -> None:
    evidence = {
        "version": "v1.25.3",
        "days": 12,
        "ok": True,
        "none": None,
        "names": [f"pod-{i}" for i in range(25)],
        "small": {"a": 1},
        "large": [{"vulnerability": f"CVE-2026-{i}", "severity": "high"} for i in range(200)],
    }
    kept = key_evidence(evidence)
    assert {k: kept[k] for k in ("version", "days", "ok", "none", "small")} == {
        "version": "v1.25.3",
        "days": 12,
        "ok": True,
        "none": None,
        "small": {"a": 1},
    }
    assert kept["names"][:10] == evidence["names"][:10] and kept["names"][10] == "… and 15 more"
    assert kept["large"]["omitted"].startswith("200 item(s)")


def test_recording_the_same_inventory_twice_gives_one_audit(url: str, demo: AuditOutcome) -> None:
    first = record(url, demo)
    again = record(url, demo)
    assert first.created and not again.created  # type: ignore[attr-defined]
    assert first.audit_id == again.audit_id  # type: ignore[attr-defined]
    assert "already recorded" in again.message  # type: ignore[attr-defined]
    assert count(url, s.audits) == 1
    assert count(url, s.audit_findings) == 1


def test_the_same_inventory_at_another_as_of_is_another_audit_sharing_its_rows(url: str, demo: AuditOutcome) -> None:
    record(url, demo)
    later = run(AuditConfig(as_of=date(2026, 11, 28)), InventorySource(demo.inventory))
    assert record(url, later).created  # type: ignore[attr-defined]
    assert count(url, s.audits) == 2
    assert count(url, s.node_states) == len(demo.inventory.nodes)  # unchanged nodes are stored once
    assert count(url, s.audit_nodes) == 2 * len(demo.inventory.nodes)


def test_a_new_cluster_shares_the_rows_another_cluster_stored_and_reads_its_own_findings(
    url: str, demo: AuditOutcome
) -> None:
    """The first audit of a cluster inserts its rows without looking first: rows another cluster
    stored already (the same nodes, images, subjects and finding bodies) are kept once and found."""
    record(url, demo, cluster_name="staging")
    shared = {t.name: count(url, t) for t in (s.node_states, s.image_uses, s.subjects, s.finding_bodies)}
    # One node rebooted since: its new state is the one row this cluster adds among rows already stored.
    node = demo.inventory.nodes[0]
    rebooted = msgspec.structs.replace(
        node,
        status=msgspec.structs.replace(
            node.status, nodeInfo=msgspec.structs.replace(node.status.nodeInfo, bootID="rebooted-0001")
        ),
    )
    inventory = dataclasses.replace(demo.inventory, nodes=(rebooted, *demo.inventory.nodes[1:]))
    prod = run(AuditConfig(as_of=AS_OF), InventorySource(inventory))
    outcome = record(url, prod, cluster_name="prod")
    assert outcome.created  # type: ignore[attr-defined]
    assert count(url, s.clusters) == 2
    assert count(url, s.node_states) == shared["node_states"] + 1
    assert count(url, s.image_uses) == shared["image_uses"]
    assert count(url, s.subjects) == shared["subjects"]
    assert count(url, s.finding_bodies) >= shared["finding_bodies"]
    with open_store(url) as store, store.reading() as conn:
        boots = conn.execute(
            select(s.node_states.c.boot_id)
            .join(s.audit_nodes, s.audit_nodes.c.node_state_id == s.node_states.c.id)
            .where(s.audit_nodes.c.audit_id == outcome.audit_id)  # type: ignore[attr-defined]
        ).scalars()
        assert sorted(boots) == sorted(n.info.bootID for n in inventory.nodes)
        packs = conn.execute(select(s.finding_packs.c.bodies, func.length(s.finding_packs.c.data))).all()
        assert all(size > 0 for _, size in packs)  # each pack holds its compressed bodies
    with open_store(url) as store:
        kept = audit_findings(store, outcome.audit_id)  # type: ignore[attr-defined]
    assert [(f.subject, f.check, f.status, f.message) for f in kept] == [
        (f.subject, f.check, f.status, f.message) for f in prod.report.findings
    ]
    assert all(set(k.evidence) == set(f.evidence) for k, f in zip(kept, prod.report.findings, strict=True))


def test_the_same_bundle_is_one_audit_whatever_the_as_of(url: str, demo: AuditOutcome) -> None:
    first = record(url, demo, bundle="sha256:" + "ab" * 32)
    later = run(AuditConfig(as_of=date(2027, 1, 5)), InventorySource(demo.inventory))
    again = record(url, later, bundle="sha256:" + "ab" * 32)
    assert not again.created and again.audit_id == first.audit_id  # type: ignore[attr-defined]


def test_a_failed_recording_is_one_line_and_writes_nothing(url: str, demo: AuditOutcome) -> None:
    record(url, demo)
    with open_store(url) as store, store.engine.begin() as conn:
        conn.execute(update(s.clusters).values(name="renamed"))
    broken = dataclasses.replace(demo.inventory, name="")
    outcome = dataclasses.replace(demo, inventory=broken)
    with pytest.raises(LedgerError, match="no identity"):
        record(url, outcome)
    assert count(url, s.audits) == 1


# ------------------------------------------------------------------------------------------
# The cluster's identity


def _namespaces(uid: str) -> bytes:
    return json.dumps(
        {
            "kind": "NamespaceList",
            "apiVersion": "v1",
            "items": [
                {"metadata": {"name": "default", "uid": "0000"}},
                {"metadata": {"name": "kube-system", "uid": uid}},
            ],
        }
    ).encode()


def test_the_kube_system_uid_is_read_from_json_and_yaml_namespace_lists() -> None:
    uid = "8f0f2bb6-0c52-4f6b-9d43-0f6a1b2c3d4e"
    decoded = decode_json_bytes(_namespaces(uid), "namespaces.json")
    assert decoded.cluster_uid == uid and decoded.ignored["Namespace"] == 2
    yaml_text = f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-system\n  uid: {uid}\n".encode()
    assert decode_yaml_bytes(yaml_text, "ns.yaml").cluster_uid == uid


def test_a_snapshot_with_the_kube_system_namespace_is_identified_by_its_uid(tmp_path: Path) -> None:
    snapshot = tmp_path / "prod-eu"
    shutil.copytree(DEMO, snapshot)
    (snapshot / "namespaces.json").write_bytes(_namespaces("uid-1"))
    outcome = run(AuditConfig(as_of=AS_OF), SnapshotSource(snapshot))
    assert outcome.inventory.cluster_uid == "uid-1"
    identity = cluster_identity(outcome.inventory, None)
    assert (identity.key, identity.name, identity.source) == ("uid:uid-1", "prod-eu", "kube-system-uid")
    assert cluster_identity(outcome.inventory, "prod").name == "prod"


def test_audits_recorded_by_name_line_up_with_the_uid_once_it_is_known(
    url: str, demo: AuditOutcome, tmp_path: Path
) -> None:
    record(url, demo, cluster_name="prod-eu")  # no namespaces: known by name
    with_uid = dataclasses.replace(demo.inventory, cluster_uid="uid-7")
    later = run(AuditConfig(as_of=date(2026, 11, 28)), InventorySource(with_uid))
    assert record(url, later, cluster_name="prod-eu").created  # type: ignore[attr-defined]
    still_by_name = run(AuditConfig(as_of=date(2026, 11, 29)), InventorySource(demo.inventory))
    record(url, still_by_name, cluster_name="prod-eu")
    with open_store(url) as store, store.reading() as conn:
        clusters = conn.execute(select(s.clusters)).all()
        assert [(c.key, c.name, c.uid) for c in clusters] == [("uid:uid-7", "prod-eu", "uid-7")]
        assert conn.execute(select(func.count()).select_from(s.audits)).scalar_one() == 3


def test_recorded_times_are_utc(url: str, demo: AuditOutcome) -> None:
    collected = dataclasses.replace(demo.inventory, collected_at=datetime(2026, 11, 26, 23, 30, tzinfo=UTC))
    outcome = run(AuditConfig(as_of=AS_OF), InventorySource(collected))
    record(url, outcome)
    with open_store(url) as store, store.reading() as conn:
        audit = conn.execute(select(s.audits)).one()
    assert audit.observed_on == date(2026, 11, 26)  # the evidence's own day, not the as-of date
    assert audit.collected_at.replace(tzinfo=None) == datetime(2026, 11, 26, 23, 30)


def test_any_failure_while_recording_is_one_ledger_error_line(url: str, demo: AuditOutcome) -> None:
    odd = demo.report.findings[0].replace(evidence={"value": object()})  # evidence no JSON encoder takes
    report = dataclasses.replace(demo.report, findings=(odd, *demo.report.findings[1:]))
    broken = dataclasses.replace(demo, report=report)
    with pytest.raises(LedgerError) as caught:
        record(url, broken)
    assert "internal error" in str(caught.value) and "\n" not in str(caught.value)
    assert count(url, s.audits) == 0
