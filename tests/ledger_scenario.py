"""A cluster's history for the ledger tests, built from real fixture files changed over time.

The files (all already in ``tests/data``, see the SOURCES.md there): a kind node
(``kube/kind-ubuntu2204-containerd-v1.25-node.json``), the nginx pod
(``kube/nginx-docker-pullable-pod.json``), an API server ``/version`` body
(``version/kind-v1.20.0-version.json``) and a Trivy report (``scans/trivy/
defectdojo-scheme2-alpine-3.9-many-severities.json``: CVE-2019-12900 critical, CVE-2020-28196 high,
CVE-2020-15999 medium, each with a fix).  ``write_day`` changes them as the story below says and
writes the snapshot of one day plus the scan reports made so far; ``build_ledger`` audits every
day with the real audit runner and records it.

The story (period 2026-01-01 to 2026-03-31; audits every third day from 2025-12-20, none
between 2026-02-09 and 2026-02-21):

* nodes ``worker-a`` and ``worker-b`` in pool ``workers``, both on kernel 6.5.0-14 at first.
  worker-a reboots onto 6.5.0-21 on 2026-01-10 and again on 2026-02-21 (created 2025-12-01);
  worker-b keeps 6.5.0-14 and its boot until 2026-03-02 (created 2024, long before the evidence).
* Deployment ``default/nginx`` runs digest D1, rebuilt as D2 on 2026-01-22 (still carrying
  CVE-2019-12900) and D3 on 2026-02-06 (without it).  Scans: D1 on 2025-12-18 (no critical yet)
  and on 2026-01-04 (the critical, with its fix: the clock starts), D2 on 2026-01-22, D3 on
  2026-02-06 and never again.  The high CVE-2020-28196 stays in every build.
* control plane v1.33.7; 1.33.8 is released 2026-02-10, 1.33.9 on 2026-02-26, 1.33.10 on
  2026-03-18 (the bundled release data); the cluster moves to v1.33.9 on 2026-03-14.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
NODE = DATA / "kube" / "kind-ubuntu2204-containerd-v1.25-node.json"
POD = DATA / "kube" / "nginx-docker-pullable-pod.json"
VERSION = DATA / "version" / "kind-v1.20.0-version.json"
TRIVY = DATA / "scans" / "trivy" / "defectdojo-scheme2-alpine-3.9-many-severities.json"

START, END = date(2026, 1, 1), date(2026, 3, 31)
CRITICAL, HIGH, MEDIUM = "CVE-2019-12900", "CVE-2020-28196", "CVE-2020-15999"
D1 = "sha256:482ead44b2203fa32b3390abdaf97cbdc8ad15c07fb03a3e68d7c35a19ad7595"  # the fixture's own digest
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64
OLD_KERNEL, NEW_KERNEL = "6.5.0-14-generic", "6.5.0-21-generic"
GAP = (date(2026, 2, 10), date(2026, 2, 20))  # no audit evidence: 2026-02-09 to 2026-02-21 is 12 days


def audit_days() -> list[date]:
    days = []
    day = date(2025, 12, 20)
    while day <= END:
        if not (date(2026, 2, 9) < day < date(2026, 2, 21)):
            days.append(day)
        day += timedelta(days=3)
    return days


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _node(name: str, boot: str, kernel: str, created: str, uid: str) -> dict[str, Any]:
    node = copy.deepcopy(_load(NODE))
    meta = node["metadata"]
    meta["name"], meta["uid"], meta["creationTimestamp"] = name, uid, created
    meta["labels"] = {k: v for k, v in meta["labels"].items() if not k.startswith("node-role")}
    meta["labels"]["kubernetes.io/hostname"] = name
    meta["labels"]["node.kubernetes.io/pool"] = "workers"
    node["spec"]["providerID"] = f"kind://docker/ledger/{name}"
    info = node["status"]["nodeInfo"]
    info["bootID"], info["kernelVersion"] = boot, kernel
    return node


def nodes_on(day: date) -> list[dict[str, Any]]:
    if day < date(2026, 1, 10):
        a = ("boot-a0", OLD_KERNEL)
    elif day < date(2026, 2, 21):
        a = ("boot-a1", NEW_KERNEL)
    else:
        a = ("boot-a2", NEW_KERNEL)
    b = ("boot-b0", OLD_KERNEL) if day < date(2026, 3, 2) else ("boot-b1", NEW_KERNEL)
    return [
        _node("worker-a", a[0], a[1], "2025-12-01T08:00:00Z", "uid-worker-a"),
        _node("worker-b", b[0], b[1], "2024-02-20T11:17:49Z", "uid-worker-b"),
    ]


def digest_on(day: date) -> str:
    if day < date(2026, 1, 22):
        return D1
    return D2 if day < date(2026, 2, 6) else D3


def pod_on(day: date) -> dict[str, Any]:
    pod = copy.deepcopy(_load(POD))
    meta = pod["metadata"]
    meta.pop("annotations", None)
    template = {D1: "7c5ddbdf54", D2: "6f9b8c7d55", D3: "5d8f7b6c44"}[digest_on(day)]
    meta["name"] = f"nginx-{template}-x2zq4"
    meta["labels"] = {"app": "nginx", "pod-template-hash": template}
    meta["ownerReferences"] = [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": f"nginx-{template}",
            "uid": f"rs-{template}",
            "controller": True,
        }
    ]
    pod["spec"]["nodeName"] = "worker-a"
    status = pod["status"]["containerStatuses"][0]
    status["imageID"] = f"docker-pullable://nginx@{digest_on(day)}"
    return pod


def version_on(day: date) -> dict[str, Any]:
    body = _load(VERSION)
    version = "v1.33.7" if day < date(2026, 3, 14) else "v1.33.9"
    body.update({"major": "1", "minor": "33", "gitVersion": version})
    return body


# (scan day, digest, vulnerabilities in it)
SCANS = [
    (date(2025, 12, 18), D1, {HIGH, MEDIUM}),
    (date(2026, 1, 4), D1, {CRITICAL, HIGH, MEDIUM}),
    (date(2026, 1, 22), D2, {CRITICAL, HIGH, MEDIUM}),
    (date(2026, 2, 6), D3, {HIGH, MEDIUM}),
]


def scan_document(day: date, digest: str, vulnerabilities: set[str]) -> dict[str, Any]:
    report = copy.deepcopy(_load(TRIVY))
    report["CreatedAt"] = f"{day.isoformat()}T06:00:00Z"
    report["ArtifactName"] = f"nginx@{digest}"
    report["Metadata"]["RepoDigests"] = [f"nginx@{digest}"]
    report["Metadata"]["RepoTags"] = ["nginx:alpine"]
    for result in report["Results"]:
        kept = []
        for v in result.get("Vulnerabilities") or []:
            v.pop("PublishedDate", None)  # no publication date: the clock starts at the first scan showing the fix
            v.pop("LastModifiedDate", None)
            if v["VulnerabilityID"] in vulnerabilities:
                kept.append(v)
        result["Vulnerabilities"] = kept
    return report


def write_day(root: Path, day: date) -> tuple[Path, Path]:
    """The snapshot directory and the scan-report directory of one audit day."""
    snapshot = root / f"snapshot-{day.isoformat()}"
    snapshot.mkdir(parents=True)
    (snapshot / "version.json").write_text(json.dumps(version_on(day)))
    (snapshot / "nodes.json").write_text(json.dumps({"kind": "NodeList", "apiVersion": "v1", "items": nodes_on(day)}))
    (snapshot / "pods.json").write_text(json.dumps({"kind": "PodList", "apiVersion": "v1", "items": [pod_on(day)]}))
    scans = root / f"scans-{day.isoformat()}"
    scans.mkdir()
    for scan_day, digest, vulnerabilities in SCANS:
        if scan_day <= day:
            name = f"trivy-{scan_day.isoformat()}-{digest[7:19]}.json"
            (scans / name).write_text(json.dumps(scan_document(scan_day, digest, vulnerabilities)))
    return snapshot, scans


def audits(root: Path) -> Iterator[tuple[date, Any]]:
    """(day, AuditOutcome) of every audit of the story, through the real audit runner."""
    from patchlevel.audit import AuditConfig, ImageEvidenceOptions, SnapshotSource, run

    for day in audit_days():
        snapshot, scans = write_day(root, day)
        config = AuditConfig(as_of=day, images=ImageEvidenceOptions(scan_reports=(scans,)), cluster_name="ledger-story")
        yield day, run(config, SnapshotSource(snapshot))


def build_ledger(url: str, root: Path) -> int:
    """Record every audit of the story in the ledger at ``url``; the number recorded."""
    from patchlevel.ledger.evidence import policy_digest_of
    from patchlevel.ledger.record import record_audit
    from patchlevel.policy import Policy

    recorded = 0
    for _, outcome in audits(root):
        result = record_audit(
            url,
            outcome.report,
            outcome.inventory,
            outcome.facts,
            cluster_name="ledger-story",
            policy_digest=policy_digest_of(Policy()),
            bundle_digest=None,
        )
        recorded += result.created
    return recorded
