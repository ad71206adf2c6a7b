"""The live commands from the command line: ``audit`` without a path, as a kubectl plugin, and as the
in-cluster CronJob of deploy/cronjob.yaml runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kubeapi import Cluster, KubeAPIServer
from patchlevel.cli import main
from patchlevel.collect import kubeconfig as kubeconfig_module
from test_live_collect import VERSION, cluster_objects

REPO = Path(__file__).parent.parent
KUBECTL = shutil.which("kubectl")
PLUGIN = Path(sys.executable).parent / "kubectl-patchlevel"


@pytest.fixture
def api() -> Iterator[KubeAPIServer]:
    with KubeAPIServer(Cluster(objects=cluster_objects(), version=VERSION)) as server:
        yield server


def test_audit_without_a_path_audits_the_current_context(
    api: KubeAPIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(api.write_kubeconfig(tmp_path / "kubeconfig")))

    code = main(["audit", "--as-of", "2026-11-27", "--format", "json", "--page-size", "4"])

    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert document["cluster"]["name"] == "test" and document["cluster"]["server"] == api.url
    assert document["cluster"]["nodes"] == 3 and document["cluster"]["pods"] == 10
    assert [r.query["limit"] for r in api.requests_to("/api/v1/pods")] == ["4", "4", "4"]


def test_audit_of_a_named_context(api: KubeAPIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig", context="prod-eu")

    code = main(["audit", "--kubeconfig", str(kubeconfig), "--context", "prod-eu", "--as-of", "2026-11-27"])

    assert code == 1
    assert "v1.20.0" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--context", "nope"], 2, 'context "nope" is not in'),
        (["examples/demo-cluster", "--context", "test"], 2, "--context and --kubeconfig are for live clusters"),
        (["--request-timeout", "0"], 2, "Invalid value for '--request-timeout'"),
        (["--page-size", "0"], 2, "Invalid value for '--page-size'"),
    ],
)
def test_live_usage_errors_are_one_line(
    api: KubeAPIServer, tmp_path: Path, argv: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")

    assert main(["audit", "--kubeconfig", str(kubeconfig), *argv]) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_an_unreachable_cluster_exits_3_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with KubeAPIServer(Cluster(objects=cluster_objects()), forbidden=["nodes"]) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        assert main(["audit", "--kubeconfig", str(kubeconfig)]) == 3

    err = capsys.readouterr().err.strip()
    assert err.startswith("patchlevel: error: the API server refused to list nodes (403 Forbidden")
    assert err.endswith(
        "deploy/rbac.yaml grants it (ClusterRole patchlevel-reader); apply it, or give the identity the same rule)"
    )


@pytest.mark.skipif(KUBECTL is None or not PLUGIN.exists(), reason="kubectl or the installed plugin is missing")
def test_kubectl_patchlevel_audit_works_as_a_kubectl_plugin(api: KubeAPIServer, tmp_path: Path) -> None:
    assert KUBECTL is not None
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    env = {
        "PATH": f"{PLUGIN.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "KUBECONFIG": str(kubeconfig),
    }

    listed = subprocess.run([KUBECTL, "plugin", "list"], capture_output=True, text=True, env=env, timeout=60)
    result = subprocess.run(
        [KUBECTL, "patchlevel", "audit", "--as-of", "2026-11-27", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )

    assert str(PLUGIN) in listed.stdout
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["cluster"]["server"] == api.url and document["as_of"] == "2026-11-27"
    assert api.requests_to("/api/v1/nodes")


def cronjob_args() -> list[str]:
    documents = yaml.safe_load_all((REPO / "deploy" / "cronjob.yaml").read_text(encoding="utf-8"))
    cronjob = next(d for d in documents if d and d["kind"] == "CronJob")
    [container] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return list(container["args"])


def test_the_cronjob_command_audits_the_cluster_it_runs_in(
    api: KubeAPIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(api.token, encoding="utf-8")
    (account / "ca.crt").write_bytes(api.ca_pem)
    (account / "namespace").write_text("patchlevel", encoding="utf-8")
    monkeypatch.setattr(kubeconfig_module, "SERVICE_ACCOUNT_DIR", account)  # where a pod has it mounted
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the image's HOME=/tmp holds no kubeconfig
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(api.port))
    args = [
        a.replace("/reports/$(JOB_NAME)", str(tmp_path / "reports" / "patchlevel-audit-29000000"))
        for a in cronjob_args()
    ]

    code = main(args)

    assert code in (0, 1), capsys.readouterr().err
    report = json.loads((tmp_path / "reports" / "patchlevel-audit-29000000.json").read_text(encoding="utf-8"))
    assert report["cluster"]["name"] == "in-cluster" and report["cluster"]["server"] == api.url
    assert {r.headers.get("authorization") for r in api.requests} == {f"Bearer {api.token}"}
