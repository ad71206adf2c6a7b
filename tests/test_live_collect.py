"""Collecting from a live API server (the HTTPS test server in tests/kubeapi): what is read, how it
is paged, and that the live audit gives the snapshot audit's findings for the same objects.

Served objects are real ones from tests/data/kube and tests/data/scans/trivy-operator (see the
SOURCES.md files there) plus constructed pods, ReplicaSets and Jobs.  Other live test modules
import the helpers defined here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from builders import knowledge, make_pod_doc
from kubeapi import Cluster, KubeAPIServer, load_snapshot, namespaces_of, synthetic_pod
from patchlevel import inventory as inv
from patchlevel.collect.kubeconfig import ClusterAccess, load_kubeconfig
from patchlevel.collect.live import RESOURCES, Collection, Host, LiveOptions, collect_live
from patchlevel.collect.snapshot import read_snapshot
from patchlevel.evaluate import build_report
from patchlevel.model import Finding, Report
from patchlevel.policy import Policy

DATA = Path(__file__).parent / "data"
AS_OF = date(2026, 11, 27)
GENERATED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


NODES = [
    load(DATA / "kube" / "kind-ubuntu2204-containerd-v1.25-node.json"),
    load(DATA / "kube" / "minikube-ubuntu2004-docker-v1.23-node.json"),
    load(DATA / "kube" / "openshift-4.7-rhcos-master-node.json"),
]
VERSION = load(DATA / "version" / "kind-v1.20.0-version.json")
REPORTS = [
    load(DATA / "scans" / "trivy-operator" / "defectdojo-vulnerabilityreport-nginx-alpine.json"),
    load(DATA / "scans" / "trivy-operator" / "trivy-operator-envtest-coredns-vulnerabilityreport.json"),
]


def replica_set(image_number: int) -> dict[str, Any]:
    """The ReplicaSet ``synthetic_pod`` pods name as their owner, owned by a Deployment."""
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"app-{image_number:04d}-5d8f7c",
            "namespace": "team-000",
            "uid": f"00000000-0000-4000-9000-{image_number:012d}",
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"web-{image_number:04d}", "controller": True}
            ],
        },
        "spec": {"replicas": 1},
    }


def job(name: str, cronjob: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"job-{name}",
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": cronjob, "controller": True}],
        },
    }


def job_pod() -> dict[str, Any]:
    pod = make_pod_doc("backup-29000000-abcde", node="kind-control-plane", image="registry.example/backup:2.1")
    pod["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": "backup-29000000",
            "uid": "job-backup-29000000",
            "controller": True,
        }
    ]
    return pod


def cluster_objects(pods: int = 7) -> dict[str, list[dict[str, Any]]]:
    """Nodes, pods (real, constructed and synthetic), owners and trivy-operator reports."""
    served_pods = [
        load(DATA / "kube" / "nginx-docker-pullable-pod.json"),
        load(DATA / "kube" / "ephemeral-containers-pod-spec-only.json"),
        job_pod(),
        *(synthetic_pod(i, namespaces=1, nodes=1) for i in range(pods)),
    ]
    images = sorted({(i * 7919) % 300 for i in range(pods)})
    return {
        "nodes": NODES,
        "pods": served_pods,
        "namespaces": namespaces_of(served_pods),
        "replicasets": [replica_set(n) for n in images],
        "jobs": [job("backup-29000000", "backup")],
        "poddisruptionbudgets": [],  # none: the snapshot holds that list too, so both audits know it
        "vulnerabilityreports": REPORTS,
    }


def write_snapshot(directory: Path, objects: Mapping[str, list[dict[str, Any]]]) -> Path:
    """A snapshot directory both ``read_snapshot`` and the test server (``load_snapshot``) read."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "version.json").write_text(json.dumps(VERSION), encoding="utf-8")
    kinds = {
        "nodes": "NodeList",
        "pods": "PodList",
        "replicasets": "ReplicaSetList",
        "jobs": "JobList",
        "poddisruptionbudgets": "PodDisruptionBudgetList",
    }
    for plural, items in objects.items():
        if plural == "namespaces":
            continue
        kind = kinds.get(plural, "List")
        (directory / f"{plural}.json").write_text(
            json.dumps({"apiVersion": "v1", "kind": kind, "items": items}, indent=1), encoding="utf-8"
        )
    return directory


# -- a host whose sleeping and randomness tests control ----------------------------------------


@dataclass
class FakeHost:
    """Records every back-off wait instead of sleeping; jitter is fixed at the middle of its range."""

    sleeps: list[float] = field(default_factory=list)
    environ: dict[str, str] = field(default_factory=dict)
    wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    terminal: bool = False

    def host(self) -> Host:
        import time

        return Host(
            wall=self.wall_clock,
            monotonic=time.monotonic,
            sleep=self.sleeps.append,
            random=lambda: 0.5,
            environ={"PATH": "/usr/bin:/bin", **self.environ},
            stdin_is_terminal=lambda: self.terminal,
        )


def access_for(api: KubeAPIServer, tmp_path: Path, **kwargs: Any) -> ClusterAccess:
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig", **kwargs)
    return load_kubeconfig([kubeconfig]).access()


def collect(
    api: KubeAPIServer, tmp_path: Path, options: LiveOptions | None = None, fake: FakeHost | None = None, **kw: Any
) -> Collection:
    return collect_live(access_for(api, tmp_path), host=(fake or FakeHost()).host(), options=options, **kw)


def run_audit(inventory: inv.Inventory) -> Report:
    return build_report(inventory, knowledge(), Policy(), AS_OF, GENERATED)


def comparable(findings: Sequence[Finding], sources: Sequence[str] = ()) -> list[tuple[str, ...]]:
    """Findings as sortable tuples; ``sources`` (regexes naming where scan evidence came from) are masked."""
    rows = []
    for f in findings:
        evidence = json.dumps(f.evidence, sort_keys=True, default=str)
        for pattern in sources:
            evidence = re.sub(pattern, "<source>", evidence)
        rows.append((f.check, f.status.value, f.severity.value, f.subject, f.message, evidence))
    return sorted(rows)


@pytest.fixture
def api() -> Iterator[KubeAPIServer]:
    with KubeAPIServer(Cluster(objects=cluster_objects(), version=VERSION)) as server:
        yield server


# -- what is read ----------------------------------------------------------------------------


def test_the_collector_reads_version_identity_and_every_listed_resource_read_only(
    api: KubeAPIServer, tmp_path: Path
) -> None:
    collection = collect(api, tmp_path)

    methods = {(r.method, r.path) for r in api.requests}
    assert ("GET", "/version") in methods
    assert ("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews") in methods
    for resource in RESOURCES:
        assert ("GET", resource.path) in methods
    assert {m for m, _ in methods} == {"GET", "POST"}
    assert [p for m, p in methods if m == "POST"] == ["/apis/authentication.k8s.io/v1/selfsubjectreviews"]

    inventory = collection.inventory
    assert inventory.source == "live" and inventory.name == "test" and inventory.server == api.url
    assert inventory.version is not None and inventory.version.gitVersion == "v1.20.0"
    assert [n.name for n in inventory.nodes] == [n["metadata"]["name"] for n in NODES]
    assert len(inventory.pods) == 10
    assert {"version", "nodes", "pods", "owners", "vulnerabilityreports"} <= inventory.collected
    assert {r.artifact for r in inventory.scans} == {
        "index.docker.io/library/nginx:alpine",
        "k8s.gcr.io/coredns/coredns:v1.8.0",
    }
    assert inventory.denied == {}
    identity = collection.metadata["identity"]
    assert identity["username"] == "system:serviceaccount:patchlevel:patchlevel"
    assert "system:serviceaccounts:patchlevel" in identity["groups"]
    assert identity["auth"] == "bearer token"


def test_lists_are_paged_with_limit_and_continue(api: KubeAPIServer, tmp_path: Path) -> None:
    collection = collect(api, tmp_path, LiveOptions(page_size=3))

    pages = api.requests_to("/api/v1/pods")
    assert [r.query.get("limit") for r in pages] == ["3", "3", "3", "3"]
    assert "continue" not in pages[0].query
    assert all(r.query.get("continue") for r in pages[1:])
    assert [r.page for r in pages] == [1, 2, 3, 4]
    assert len(collection.inventory.pods) == 10
    pods = next(r for r in collection.metadata["resources"] if r["resource"] == "pods")
    assert pods == {
        "resource": "pods",
        "path": "/api/v1/pods",
        "status": "collected",
        "items": 10,
        "pages": 4,
        "resourceVersion": "1000",
        "relists": 0,
    }
    inputs = [i.path for i in collection.inventory.inputs if i.path.startswith("test:pods/")]
    assert inputs == [f"test:pods/page-000{n}.json" for n in (1, 2, 3, 4)]


def test_owners_name_the_workloads(api: KubeAPIServer, tmp_path: Path) -> None:
    from patchlevel.images import workload_of

    inventory = collect(api, tmp_path).inventory
    workloads = {(p.name, workload_of(p, inventory.owners)) for p in inventory.pods}

    names = {(name, w.kind, w.name, w.inferred) for name, w in workloads}
    assert ("backup-29000000-abcde", "CronJob", "backup", False) in names
    assert ("app-0000000", "Deployment", "web-0000", False) in names  # pod -> ReplicaSet -> Deployment


def test_without_the_trivy_operator_crd_the_reports_are_absent_not_an_error(tmp_path: Path) -> None:
    objects = cluster_objects()
    del objects["vulnerabilityreports"]
    with KubeAPIServer(Cluster(objects=objects)) as server:
        collection = collect(server, tmp_path)
        assert [r.status for r in server.requests_to(RESOURCES[-1].path)] == [404]

    inventory = collection.inventory
    assert not inventory.has(inv.VULNERABILITY_REPORTS)
    assert inventory.denied == {} and inventory.warnings == ()
    entry = collection.metadata["resources"][-1]
    assert entry["status"] == "absent" and "CRD is not installed" in entry["reason"]


def test_progress_reports_each_page_with_the_expected_total(api: KubeAPIServer, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int | None]] = []

    class Recorder:
        def update(self, resource: str, done: int, total: int | None) -> None:
            seen.append((resource, done, total))

    collect(api, tmp_path, LiveOptions(page_size=4), progress=Recorder())

    assert [s for s in seen if s[0] == "pods"] == [("pods", 4, 10), ("pods", 8, 10), ("pods", 10, None)]
    assert ("nodes", 3, None) in seen


# -- live audit == snapshot audit ------------------------------------------------------------


def test_the_live_audit_equals_the_snapshot_audit_of_the_same_objects(tmp_path: Path) -> None:
    snapshot = write_snapshot(tmp_path / "snapshot", cluster_objects(pods=40))
    with KubeAPIServer(load_snapshot(snapshot)) as server:
        live = collect(server, tmp_path, LiveOptions(page_size=7)).inventory

    offline = read_snapshot(snapshot)
    live_report, snapshot_report = run_audit(live), run_audit(offline)

    sources = [re.escape(str(snapshot / "vulnerabilityreports.json")), r"test:vulnerabilityreports[^\"]*?\.json"]
    assert comparable(live_report.findings, sources) == comparable(snapshot_report.findings, sources)
    assert len(live_report.findings) > 50
    statuses = {f.status.value for f in live_report.findings}
    assert {"pass", "fail", "unknown"} <= statuses  # a real mix, not an empty audit
    assert live_report.cluster.version == snapshot_report.cluster.version == "v1.20.0"
    assert live_report.cluster.pods == snapshot_report.cluster.pods == 43


def test_the_progress_bar_appears_only_on_a_terminal(api: KubeAPIServer, tmp_path: Path) -> None:
    import io

    from patchlevel.collect.live import terminal_progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert terminal_progress(io.StringIO()) is None
    screen = Terminal()
    progress = terminal_progress(screen)
    assert progress is not None
    with progress:
        collect(api, tmp_path, LiveOptions(page_size=4), progress=progress)

    assert "listing pods" in screen.getvalue()
