"""Several clusters: ``audit --all-contexts`` writes one report per context and a fleet summary; a
cluster that cannot be audited gets exit code 3 and does not stop the others."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeapi import Cluster, KubeAPIServer
from patchlevel.cli import main
from patchlevel.collect.fleet import FleetEntry, fleet_exit_code, report_stem, run_fleet
from patchlevel.errors import CollectError
from test_live_collect import VERSION, cluster_objects


def merged_kubeconfig(path: Path, servers: dict[str, KubeAPIServer]) -> Path:
    """One kubeconfig with a context, cluster and user per server (the way `kubectl config` merges them)."""
    document: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": []}
    for n, (context, api) in enumerate(servers.items()):
        single = yaml.safe_load(api.write_kubeconfig(path.parent / f"single-{n}").read_text(encoding="utf-8"))
        document["clusters"].append({"name": f"cluster-{n}", "cluster": single["clusters"][0]["cluster"]})
        document["users"].append({"name": f"user-{n}", "user": single["users"][0]["user"]})
        document["contexts"].append({"name": context, "context": {"cluster": f"cluster-{n}", "user": f"user-{n}"}})
    document["current-context"] = next(iter(servers))
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


EKS = "arn:aws:eks:eu-west-1:123456789012:cluster/prod-eu"


def test_all_contexts_audits_each_cluster_and_one_failure_does_not_stop_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        KubeAPIServer(Cluster(objects=cluster_objects(), version=VERSION)) as good,
        KubeAPIServer(Cluster(objects=cluster_objects()), forbidden=["nodes"]) as refused,
    ):
        kubeconfig = merged_kubeconfig(tmp_path / "kubeconfig", {EKS: good, "staging": refused, "dev": good})
        code = main(
            ["audit", "--all-contexts", "--kubeconfig", str(kubeconfig), "--as-of", "2026-11-27",
             "--format", "json,html", "-o", str(tmp_path / "fleet")]
        )  # fmt: skip
        good_url = good.url

    assert code == 3
    written = sorted(p.name for p in (tmp_path / "fleet").iterdir())
    stem = "arn_aws_eks_eu-west-1_123456789012_cluster_prod-eu"
    assert written == sorted([f"{stem}.json", f"{stem}.html", "dev.json", "dev.html", "fleet-summary.json"])
    summary = json.loads((tmp_path / "fleet" / "fleet-summary.json").read_text(encoding="utf-8"))
    assert summary["format"] == "patchlevel-fleet-summary" and summary["as_of"] == "2026-11-27"
    assert summary["exit_code"] == 3 and (summary["audited"], summary["failed"]) == (2, 1)
    by_context = {c["context"]: c for c in summary["clusters"]}
    assert list(by_context) == [EKS, "staging", "dev"]
    assert by_context["staging"]["status"] == "failed" and by_context["staging"]["exit_code"] == 3
    assert by_context["staging"]["error"].startswith("the API server refused to list nodes (403 Forbidden")
    prod = by_context[EKS]
    assert prod["status"] == "audited" and prod["exit_code"] == 1 and prod["server"] == good_url
    assert prod["reports"] == [f"{stem}.json", f"{stem}.html"]
    report = json.loads((tmp_path / "fleet" / f"{stem}.json").read_text(encoding="utf-8"))
    assert report["cluster"]["name"] == EKS
    assert sum(prod["findings"].values()) == len(report["findings"])
    assert summary["findings"]["fail"] == prod["findings"]["fail"] + by_context["dev"]["findings"]["fail"]
    err = capsys.readouterr().err
    assert "patchlevel: staging: failed: the API server refused to list nodes" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--all-contexts", "--format", "json"], "--all-contexts writes one report per cluster: give -o DIR"),
        (["--all-contexts", "--context", "x", "-o", "out"], "give neither PATH nor --context"),
        (["--all-contexts", "-o", "out"], "and a file format (e.g. json)"),
    ],
)
def test_all_contexts_usage_errors(
    tmp_path: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n", encoding="utf-8")

    assert main(["audit", "--kubeconfig", str(kubeconfig), *argv]) == 2
    assert message in capsys.readouterr().err


def test_run_fleet_bounds_parallelism_and_keeps_the_order() -> None:
    running, peak = 0, 0
    lock = threading.Lock()

    def audit_one(context: str) -> FleetEntry:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        if context == "c3":
            raise CollectError("cannot connect to c3")
        if context == "c5":
            raise RuntimeError("a bug")
        return FleetEntry(context, 1 if context == "c1" else 0)

    entries = run_fleet([f"c{n}" for n in range(8)], audit_one, parallel=3)

    assert peak == 3
    assert [e.context for e in entries] == [f"c{n}" for n in range(8)]
    assert [e.exit_code for e in entries] == [0, 1, 0, 3, 0, 3, 0, 0]
    assert entries[3].error == "cannot connect to c3"
    assert entries[5].error == "internal error: RuntimeError: a bug"
    assert fleet_exit_code(entries) == 3
    assert fleet_exit_code(entries[:3]) == 1


def test_report_stems_are_safe_and_unique() -> None:
    taken: set[str] = set()

    assert report_stem("prod/eu", taken) == "prod_eu"
    assert report_stem("prod:eu", taken) == "prod_eu-2"
    assert report_stem("fleet-summary", taken) == "fleet-summary-2"
    assert report_stem("..", taken) == "context"
