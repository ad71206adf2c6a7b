"""Concurrent writers lose nothing: eight at once (and each twice), on PostgreSQL and on SQLite.

Every writer opens the ledger itself, as a fleet of CronJobs would, so the first-use migration
races too.  The audits share nodes, images, scans and finding bodies, so the content-addressed
inserts collide on purpose.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ledger_scenario import audits
from patchlevel.audit import AuditConfig, InventorySource, run
from patchlevel.ledger import schema as s
from patchlevel.ledger.evidence import policy_digest_of
from patchlevel.ledger.record import record_audit
from patchlevel.ledger.store import open_store
from patchlevel.policy import Policy
from pg_harness import ENGINES, ledger_url_for

WRITERS = 8


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """Eight audits of eight clusters: the story's first audits, each under its own cluster name."""
    found = []
    for index, (day, outcome) in enumerate(audits(tmp_path_factory.mktemp("concurrent"))):
        if index == WRITERS:
            break
        inventory = dataclasses.replace(outcome.inventory, name=f"cluster-{index}")
        found.append(run(AuditConfig(as_of=day + timedelta(days=index)), InventorySource(inventory)))
    return found


@pytest.mark.parametrize("engine", ENGINES)
def test_eight_concurrent_writers_lose_no_audit_and_write_none_twice(
    engine: str, tmp_path: Path, outcomes: list[Any]
) -> None:
    url = ledger_url_for(engine, tmp_path)
    barrier = threading.Barrier(2 * WRITERS)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def write(outcome: Any) -> None:
        barrier.wait()
        try:
            result = record_audit(
                url,
                outcome.report,
                outcome.inventory,
                outcome.facts,
                cluster_name=None,
                policy_digest=policy_digest_of(Policy()),
                bundle_digest=None,
            )
            with lock:
                results.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(o,)) for o in outcomes for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    assert len(results) == 2 * WRITERS
    assert sum(r.created for r in results) == WRITERS  # each audit written once; its twin found it
    with open_store(url) as store, store.reading() as conn:
        assert conn.execute(select(func.count()).select_from(s.audits)).scalar_one() == WRITERS
        assert conn.execute(select(func.count()).select_from(s.clusters)).scalar_one() == WRITERS
        findings = conn.execute(select(func.sum(s.audit_findings.c.findings))).scalar_one()
        assert findings == sum(len(o.report.findings) for o in outcomes)
        bodies = conn.execute(select(s.finding_bodies.c.digest)).scalars().all()
        assert len(bodies) == len(set(bodies))
