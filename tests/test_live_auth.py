"""Authenticating to the test API server over HTTPS as kubectl users do: exec credential plugins (a
small script), client certificates (data and file forms), token files and the in-cluster service
account.  The server records which identity each request ran as."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeapi import SERVICE_ACCOUNT, Cluster, KubeAPIServer
from patchlevel.collect.kubeconfig import load_kubeconfig, resolve_access
from patchlevel.collect.live import collect_live
from patchlevel.errors import CollectError
from test_kubeconfig import plugin_script
from test_live_collect import FakeHost, cluster_objects


def kubeconfig_with_user(api: KubeAPIServer, path: Path, user: dict[str, Any]) -> Path:
    """The server's kubeconfig with its user replaced by ``user``."""
    document = yaml.safe_load(api.write_kubeconfig(path).read_text(encoding="utf-8"))
    document["users"] = [{"name": "test-user", "user": user}]
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def exec_user(script: Path, api_version: str = "client.authentication.k8s.io/v1", **env: str) -> dict[str, Any]:
    return {
        "exec": {
            "apiVersion": api_version,
            "command": str(script),
            "args": ["get-token"],
            "env": [{"name": k, "value": v} for k, v in env.items()],
            "interactiveMode": "Never",
            "provideClusterInfo": True,
        }
    }


def authorizations(api: KubeAPIServer) -> set[str | None]:
    return {r.headers.get("authorization") for r in api.requests}


@pytest.mark.parametrize("api_version", ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"])
def test_an_exec_plugin_token_authenticates_and_is_asked_once(
    tmp_path: Path, api_version: str, capfd: pytest.CaptureFixture[str]
) -> None:
    script = plugin_script(tmp_path)
    env = {"PLUGIN_LOG": str(tmp_path / "log"), "PLUGIN_TOKEN": "exec-secret", "PLUGIN_API": api_version}
    with KubeAPIServer(Cluster(objects=cluster_objects()), token="exec-secret") as api:
        kubeconfig = kubeconfig_with_user(api, tmp_path / "kubeconfig", exec_user(script, api_version, **env))
        collection = collect_live(load_kubeconfig([kubeconfig]).access(), host=FakeHost().host())

        assert authorizations(api) == {"Bearer exec-secret"}
        assert {r.status for r in api.requests} <= {200, 201, 404}
        assert len((tmp_path / "log").read_text().splitlines()) == 1
    assert len(collection.inventory.nodes) == 3
    assert collection.metadata["identity"]["auth"] == f"exec plugin {script} ({api_version})"
    assert "fake-auth-plugin: signing in" in capfd.readouterr().err


def test_an_expired_exec_credential_is_renewed(tmp_path: Path) -> None:
    script = plugin_script(tmp_path)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    env = {"PLUGIN_LOG": str(tmp_path / "log"), "PLUGIN_TOKEN": "t", "PLUGIN_EXPIRES": past}
    with KubeAPIServer(Cluster(objects=cluster_objects()), token="t") as api:
        kubeconfig = kubeconfig_with_user(api, tmp_path / "kubeconfig", exec_user(script, **env))
        collect_live(load_kubeconfig([kubeconfig]).access(), host=FakeHost().host())
        requests = len(api.requests)

    assert len((tmp_path / "log").read_text().splitlines()) == requests  # asked again before each request


def test_a_401_makes_the_plugin_run_again_once(tmp_path: Path) -> None:
    script = plugin_script(tmp_path)
    rotating = tmp_path / "rotating-plugin"
    # First call: a stale token; later calls: the good one (the plugin's log counts its runs).
    rotating.write_text(
        f"#!/bin/sh\n"
        f'if [ -s "{tmp_path}/log" ]; then export PLUGIN_TOKEN=good; else export PLUGIN_TOKEN=stale; fi\n'
        f'exec "{script}" "$@"\n',
        encoding="utf-8",
    )
    rotating.chmod(0o755)
    with KubeAPIServer(Cluster(objects=cluster_objects()), token="good") as api:
        kubeconfig = kubeconfig_with_user(
            api, tmp_path / "kubeconfig", exec_user(rotating, PLUGIN_LOG=str(tmp_path / "log"))
        )
        collection = collect_live(load_kubeconfig([kubeconfig]).access(), host=FakeHost().host())
        statuses = [r.status for r in api.requests_to("/version")]

    assert statuses == [401, 200]
    assert len((tmp_path / "log").read_text().splitlines()) == 2
    assert collection.inventory.version is not None


def test_a_plugin_that_keeps_failing_auth_gives_the_401_error(tmp_path: Path) -> None:
    env = {"PLUGIN_LOG": str(tmp_path / "log"), "PLUGIN_TOKEN": "wrong"}
    with KubeAPIServer(Cluster(objects=cluster_objects()), token="right") as api:
        kubeconfig = kubeconfig_with_user(api, tmp_path / "kubeconfig", exec_user(plugin_script(tmp_path), **env))
        with pytest.raises(CollectError, match=r"refused the credentials of context \"test\" \(exec plugin"):
            collect_live(load_kubeconfig([kubeconfig]).access(), host=FakeHost().host())


def test_a_client_certificate_in_data_form_authenticates(tmp_path: Path) -> None:
    with KubeAPIServer(Cluster(objects=cluster_objects()), client_certificates=True) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig", client_certificate=True)
        access = load_kubeconfig([kubeconfig]).access()
        collection = collect_live(access, host=FakeHost().host())

        assert authorizations(api) == {None}
        assert {r.user for r in api.requests} == {SERVICE_ACCOUNT.name}
    assert access.auth_method() == "client certificate"
    assert collection.metadata["identity"]["username"] == SERVICE_ACCOUNT.name
    assert "system:serviceaccounts:patchlevel" in collection.metadata["identity"]["groups"]


def test_a_client_certificate_in_file_form_relative_to_the_kubeconfig(tmp_path: Path) -> None:
    with KubeAPIServer(Cluster(objects=cluster_objects()), client_certificates=True) as api:
        pair = api.client_certificate()
        folder = tmp_path / "conf"
        (folder / "pki").mkdir(parents=True)
        (folder / "pki" / "me.crt").write_bytes(pair.cert_pem)
        (folder / "pki" / "me.key").write_bytes(pair.key_pem)
        (folder / "pki" / "ca.crt").write_bytes(api.ca_pem)
        document = yaml.safe_load(api.write_kubeconfig(folder / "config", client_certificate=True).read_text())
        document["clusters"][0]["cluster"] = {"server": api.url, "certificate-authority": "pki/ca.crt"}
        document["users"][0]["user"] = {"client-certificate": "pki/me.crt", "client-key": "pki/me.key"}
        (folder / "config").write_text(yaml.safe_dump(document), encoding="utf-8")

        collect_live(load_kubeconfig([folder / "config"]).access(), host=FakeHost().host())

        assert {r.user for r in api.requests} == {SERVICE_ACCOUNT.name}


def test_an_exec_plugin_may_answer_with_a_client_certificate(tmp_path: Path) -> None:
    with KubeAPIServer(Cluster(objects=cluster_objects()), client_certificates=True) as api:
        pair = api.client_certificate()
        plugin = tmp_path / "cert-plugin"
        credential = (
            '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{'
            f'"clientCertificateData":{pair.cert_pem.decode()!r},"clientKeyData":{pair.key_pem.decode()!r}}}}}'
        ).replace("'", '"')
        plugin.write_text(f"#!/bin/sh\ncat <<'EOF'\n{credential}\nEOF\n", encoding="utf-8")
        plugin.chmod(0o755)
        kubeconfig = kubeconfig_with_user(api, tmp_path / "kubeconfig", exec_user(plugin))

        collect_live(load_kubeconfig([kubeconfig]).access(), host=FakeHost().host())

        assert {r.user for r in api.requests} == {SERVICE_ACCOUNT.name}
        assert authorizations(api) == {None}


def test_a_token_file_authenticates(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("from-a-file\n", encoding="utf-8")
    with KubeAPIServer(Cluster(objects=cluster_objects()), token="from-a-file") as api:
        kubeconfig = kubeconfig_with_user(api, tmp_path / "kubeconfig", {"tokenFile": "token"})
        collect_live(load_kubeconfig([kubeconfig]).access(), host=FakeHost().host())

        assert authorizations(api) == {"Bearer from-a-file"}


def test_the_in_cluster_service_account_authenticates(tmp_path: Path) -> None:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    with KubeAPIServer(Cluster(objects=cluster_objects()), token="projected-sa-token") as api:
        (account / "token").write_text("projected-sa-token", encoding="utf-8")
        (account / "ca.crt").write_bytes(api.ca_pem)
        (account / "namespace").write_text("patchlevel", encoding="utf-8")
        environ = {
            "HOME": str(tmp_path),
            "KUBERNETES_SERVICE_HOST": "127.0.0.1",
            "KUBERNETES_SERVICE_PORT": str(api.port),
        }
        access = resolve_access(kubeconfig=None, context=None, environ=environ, account_dir=account)
        collection = collect_live(access, host=FakeHost().host())

        assert authorizations(api) == {"Bearer projected-sa-token"}
        assert access.server == api.url
    assert collection.inventory.name == "in-cluster"
    assert collection.metadata["cluster"]["access"] == f"in-cluster service account ({account})"
    assert collection.metadata["identity"]["username"] == SERVICE_ACCOUNT.name


def test_certificate_authority_data_is_what_the_kubeconfig_says(tmp_path: Path) -> None:
    """The generated kubeconfig carries the CA inline: the loader hands exactly those bytes to TLS."""
    with KubeAPIServer() as api:
        document = yaml.safe_load(api.write_kubeconfig(tmp_path / "kubeconfig").read_text())
        access = load_kubeconfig([tmp_path / "kubeconfig"]).access()

        assert access.ca_pem == api.ca_pem
        assert base64.b64decode(document["clusters"][0]["cluster"]["certificate-authority-data"]) == api.ca_pem
