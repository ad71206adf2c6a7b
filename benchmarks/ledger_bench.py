#!/usr/bin/env python3
"""Benchmark the audit ledger; print the figures (nothing here asserts).

    python3 benchmarks/ledger_bench.py record           # 5,000 nodes / 150,000 pods / 3,000 images:
                                                        #   the audit's own time, then recording it
    python3 benchmarks/ledger_bench.py year             # a year of daily audits of 500 nodes / 15,000 pods
                                                        #   into SQLite: ledger size, 'period' time and peak RSS
    python3 benchmarks/ledger_bench.py fleet            # 100 clusters writing one audit each to PostgreSQL at once
    python3 benchmarks/ledger_bench.py all --json figures.json

Clusters come from ``tests/cluster_gen.py`` (written into ``--work`` and reused).  The year changes
the cluster day by day as a real one changes: each node reboots (a new bootID) every 30 days,
staggered; a new kernel rolls out over 20 days from day 120; every deployment ships a new image
digest every 20 weeks, staggered; every running image is re-scanned daily (synthetic reports of
15 vulnerabilities, fixes included) as trivy-operator does.  Each day is a real audit
(``patchlevel.audit.run``) recorded with ``record_audit``; 'period' runs as a child process so its
wall time and peak RSS are its own.  The fleet test starts PostgreSQL with ``tests/pg_harness.py``
and 100 writer processes, released together.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "src"))

SIZES = {"large": (5_000, 150_000, 3_000), "small": (500, 15_000, 800), "fleet": (50, 1_500, 200)}
FIGURES: dict[str, Any] = {}


def cluster(work: Path, size: str) -> Path:
    from cluster_gen import write_cluster

    nodes, pods, images = SIZES[size]
    target = work / f"cluster-{nodes}-{pods}"
    if not (target / "pods.json").is_file():
        print(f"generating {nodes} nodes / {pods} pods / {images} images into {target} …", file=sys.stderr)
        write_cluster(target, nodes=nodes, pods=pods, images=images, seed=7)
    return target


def rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(cmd: list[str]) -> tuple[float, float, int, str]:
    """Run a command; (wall seconds, its own peak RSS in MiB, exit code, stderr).

    The peak RSS comes from GNU time (``/usr/bin/time -f %M``) where it exists: a child forked from
    this (large) process would otherwise report this process's pages as its own (Linux keeps the
    high-water mark across exec).
    """
    gnu_time = Path("/usr/bin/time")
    prefix = [str(gnu_time), "-f", "MAXRSS_KB=%M"] if gnu_time.exists() else []
    start = time.perf_counter()
    proc = subprocess.Popen([*prefix, *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    rss = usage.ru_maxrss / 1024
    for line in err.splitlines():
        if line.startswith("MAXRSS_KB="):
            rss = int(line.split("=", 1)[1]) / 1024
    return elapsed, rss, os.waitstatus_to_exitcode(status), err


# ------------------------------------------------------------------------------------------
# record: the cost of recording the large audit


def bench_record(work: Path, repeat: int) -> None:
    from patchlevel.audit import AuditConfig, InventorySource, SnapshotSource, collect, run
    from patchlevel.ledger.evidence import policy_digest_of
    from patchlevel.ledger.record import record_audit
    from patchlevel.policy import Policy

    source = cluster(work, "large")
    day = date(2026, 11, 27)
    inventory = collect(SnapshotSource(source))
    audit_times, record_times, again_times = [], [], []
    outcome = None
    for attempt in range(repeat):
        started = time.perf_counter()
        outcome = run(AuditConfig(as_of=day), SnapshotSource(source))
        audit_times.append(time.perf_counter() - started)
        ledger = work / f"record-{attempt}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{ledger}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{ledger}"
        started = time.perf_counter()
        record_audit(
            url,
            outcome.report,
            outcome.inventory,
            outcome.facts,
            cluster_name=None,
            policy_digest=policy_digest_of(Policy()),
            bundle_digest=None,
        )
        record_times.append(time.perf_counter() - started)
        next_day = run(AuditConfig(as_of=day + timedelta(days=1)), InventorySource(inventory))
        started = time.perf_counter()
        record_audit(
            url,
            next_day.report,
            next_day.inventory,
            next_day.facts,
            cluster_name=None,
            policy_digest=policy_digest_of(Policy()),
            bundle_digest=None,
        )
        again_times.append(time.perf_counter() - started)
    assert outcome is not None
    audit_s, record_s, again_s = min(audit_times), min(record_times), min(again_times)
    FIGURES["record"] = {
        "nodes": len(outcome.inventory.nodes),
        "pods": len(outcome.inventory.pods),
        "images": len(outcome.facts.images.images),
        "findings": len(outcome.report.findings),
        "audit_seconds": round(audit_s, 2),
        "record_first_seconds": round(record_s, 2),
        "record_next_day_seconds": round(again_s, 2),
        "record_share_of_audit": round(record_s / audit_s, 3),
        "record_next_day_share_of_audit": round(again_s / audit_s, 3),
        "ledger_mib_after_two_audits": round(Path(f"{work}/record-0.db").stat().st_size / 2**20, 1),
        "peak_rss_mib": round(rss_mib(), 0),
    }
    print(json.dumps(FIGURES["record"], indent=2))


# ------------------------------------------------------------------------------------------
# year: a year of daily audits into SQLite, then 'period' over it


def _hex(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _day_inventory(base: Any, day_index: int, day: date) -> Any:
    import msgspec

    from patchlevel.model import Severity
    from patchlevel.scans import ScanReport, Vulnerability

    nodes = []
    for i, node in enumerate(base.nodes):
        info = node.status.nodeInfo
        boot = _hex("boot", i, (day_index + i) // 30)[:36]
        kernel = info.kernelVersion
        if day_index >= 120 + (i % 20):
            kernel = kernel.replace("-", ".1-", 1) if "-" in kernel else kernel + ".1"
        info = msgspec.structs.replace(info, bootID=boot, kernelVersion=kernel)
        nodes.append(msgspec.structs.replace(node, status=msgspec.structs.replace(node.status, nodeInfo=info)))
    week = day_index // 7
    pods = []
    for pod in base.pods:
        template = (pod.metadata.labels or {}).get("pod-template-hash", pod.metadata.name)
        version = (week + int(_hex(template)[:4], 16) % 20) // 20
        if version == 0 or not pod.status.containerStatuses:
            pods.append(pod)
            continue
        statuses = tuple(
            msgspec.structs.replace(s, imageID=s.imageID[:-64] + _hex(s.imageID, version))
            if "@sha256:" in s.imageID
            else s
            for s in pod.status.containerStatuses
        )
        pods.append(
            msgspec.structs.replace(pod, status=msgspec.structs.replace(pod.status, containerStatuses=statuses))
        )
    digests = sorted(
        {
            s.imageID.rpartition("@")[2]
            for p in pods
            for s in p.status.containerStatuses or ()
            if "@sha256:" in s.imageID
        }
    )
    scanned = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)
    severities = (Severity.CRITICAL, Severity.HIGH, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
    scans = []
    for digest in digests:
        seed = int(digest[7:15], 16)
        vulnerabilities = tuple(
            Vulnerability(
                id=f"CVE-2026-{(seed + k * 7919) % 90000 + 10000}",
                severity=severities[(seed + k) % len(severities)],
                package=f"pkg{k}",
                installed_version="1.0.0",
                fixed_version="1.0.1" if (seed + k) % 3 else None,
                status="fixed" if (seed + k) % 3 else "affected",
                published=date(2026, 1, 1) + timedelta(days=(seed + k) % 300),
            )
            for k in range(15)
        )
        scans.append(
            ScanReport(
                source=f"cluster:vulnerabilityreport/{digest[7:19]}",
                format="trivy-operator",
                scanner="trivy",
                scanner_version="0.58.0",
                scanned_at=scanned,
                db_updated_at=scanned,
                artifact="",
                repo_digests=(f"registry.example/app@{digest}",),
                manifest_digests=(digest,),
                image_id=None,
                os_family="debian",
                os_name="12.8",
                os_eosl=False,
                vulnerabilities=vulnerabilities,
                artifact_type="container_image",
            )
        )
    return replace(base, nodes=tuple(nodes), pods=tuple(pods), scans=tuple(scans), name="year-cluster")


def bench_year(work: Path, days: int) -> None:
    import gc

    from patchlevel.audit import AuditConfig, InventorySource, SnapshotSource, collect, run
    from patchlevel.knowledge import load_default_knowledge
    from patchlevel.ledger.evidence import policy_digest_of
    from patchlevel.ledger.record import record_audit
    from patchlevel.policy import Policy

    source = cluster(work, "small")
    base = collect(SnapshotSource(source))
    ledger = work / "year.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ledger}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{ledger}"
    knowledge = load_default_knowledge(None)
    first = date(2025, 12, 1)
    audit_total = record_total = 0.0
    started_all = time.perf_counter()
    for index in range(days):
        day = first + timedelta(days=index)
        inventory = _day_inventory(base, index, day)
        started = time.perf_counter()
        outcome = run(AuditConfig(as_of=day), InventorySource(inventory), knowledge=knowledge)
        audit_total += time.perf_counter() - started
        started = time.perf_counter()
        record_audit(
            url,
            outcome.report,
            outcome.inventory,
            outcome.facts,
            cluster_name=None,
            policy_digest=policy_digest_of(Policy()),
            bundle_digest=None,
        )
        record_total += time.perf_counter() - started
        del outcome, inventory
        gc.collect()
        if index % 30 == 29:
            print(f"  day {index + 1}: ledger {ledger.stat().st_size / 2**20:.0f} MiB", file=sys.stderr)
    import sqlite3

    with sqlite3.connect(ledger) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in (
                "audits",
                "audit_findings",
                "finding_bodies",
                "node_states",
                "image_uses",
                "scans",
                "vulnerability_sets",
                "set_vulnerabilities",
            )
        }
    size = sum(Path(f"{ledger}{s}").stat().st_size for s in ("", "-wal") if Path(f"{ledger}{s}").exists())
    out = work / "year-period"
    shutil.rmtree(out, ignore_errors=True)
    last = first + timedelta(days=days - 1)
    cmd = [
        sys.executable,
        "-m",
        "patchlevel",
        "period",
        "--ledger",
        url,
        "--from",
        first.isoformat(),
        "--to",
        last.isoformat(),
        "--format",
        "html,json,markdown,oscal",
        "-o",
        str(out),
    ]
    period_s, period_rss, code, err = child(cmd)
    if code not in (0, 1):
        print(f"  ! period exited {code}: {err.strip()[:400]}", file=sys.stderr)
    FIGURES["year"] = {
        "days": days,
        "nodes": len(base.nodes),
        "pods": len(base.pods),
        "ledger_mib": round(size / 2**20, 1),
        "rows": counts,
        "audit_seconds_per_day": round(audit_total / days, 2),
        "record_seconds_per_day": round(record_total / days, 2),
        "build_seconds": round(time.perf_counter() - started_all, 0),
        "period_seconds": round(period_s, 2),
        "period_peak_rss_mib": round(period_rss, 0),
        "period_exit_code": code,
        "period_files": sorted(p.name for p in out.iterdir()) if out.is_dir() else [],
    }
    print(json.dumps(FIGURES["year"], indent=2))


# ------------------------------------------------------------------------------------------
# fleet: 100 clusters writing one audit each to PostgreSQL at the same time

WRITER = r"""
import json, pickle, sys, time
from dataclasses import replace
sys.path.insert(0, sys.argv[4])
from patchlevel.ledger.record import record_audit
report, inventory, facts = pickle.loads(open(sys.argv[1], "rb").read())
name, url, start_at = sys.argv[2], sys.argv[3], float(sys.argv[5])
inventory = replace(inventory, name=name)
while time.time() < start_at:
    time.sleep(0.005)
began = time.time()
result = record_audit(
    url, report, inventory, facts, cluster_name=name, policy_digest="sha256:bench", bundle_digest=None
)
print(json.dumps({"cluster": name, "created": result.created, "began": began, "ended": time.time()}))
"""


def bench_fleet(work: Path, clusters: int) -> None:
    from patchlevel.audit import AuditConfig, SnapshotSource, run
    from patchlevel.ledger.store import open_store
    from pg_harness import postgres_server

    server = postgres_server()
    url = server.new_database()
    open_store(url).close()  # the schema exists before the writers start, as after any first run
    outcome = run(AuditConfig(as_of=date(2026, 11, 27)), SnapshotSource(cluster(work, "fleet")))
    blob = work / "fleet-audit.pickle"
    blob.write_bytes(pickle.dumps((outcome.report, outcome.inventory, outcome.facts)))
    script = work / "fleet-writer.py"
    script.write_text(WRITER)
    start_at = time.time() + 20 + clusters * 0.15  # every writer started and waiting
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(blob), f"cluster-{i:03d}", url, str(REPO / "src"), str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(clusters)
    ]
    results, failures = [], []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        if proc.returncode == 0:
            results.append(json.loads(out.strip().splitlines()[-1]))
        else:
            failures.append(err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}")
    from sqlalchemy import func, select

    from patchlevel.ledger import schema as s

    with open_store(url) as store, store.reading() as conn:
        recorded = conn.execute(select(func.count()).select_from(s.audits)).scalar_one()
        distinct = conn.execute(select(func.count()).select_from(s.clusters)).scalar_one()
    ends = [r["ended"] for r in results]
    FIGURES["fleet"] = {
        "writers": clusters,
        "nodes_pods_per_cluster": f"{len(outcome.inventory.nodes)}/{len(outcome.inventory.pods)}",
        "findings_per_audit": len(outcome.report.findings),
        "succeeded": len(results),
        "failed": len(failures),
        "failures": failures[:5],
        "audits_in_ledger": recorded,
        "clusters_in_ledger": distinct,
        "seconds_from_release_to_last_commit": round(max(ends) - start_at, 2) if ends else None,
        "slowest_writer_seconds": round(max(r["ended"] - r["began"] for r in results), 2) if results else None,
    }
    print(json.dumps(FIGURES["fleet"], indent=2))


def main() -> int:
    import gc

    gc.disable()  # as the CLI does for audits: short-lived runs over millions of acyclic records
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["record", "year", "fleet", "all"])
    parser.add_argument("--work", type=Path, default=Path("/tmp/patchlevel-ledger-bench"))
    parser.add_argument("--repeat", type=int, default=2, help="record: best of N")
    parser.add_argument("--days", type=int, default=365, help="year: how many daily audits")
    parser.add_argument("--clusters", type=int, default=100, help="fleet: concurrent writers")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.what in ("record", "all"):
        bench_record(args.work, args.repeat)
    if args.what in ("year", "all"):
        bench_year(args.work, args.days)
    if args.what in ("fleet", "all"):
        bench_fleet(args.work, args.clusters)
    if args.json:
        args.json.write_text(json.dumps(FIGURES, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
