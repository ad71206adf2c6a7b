"""Kubeconfig loading as kubectl does it (checked against kubectl itself where it is installed), the
in-cluster service account, and the credentials: tokens, token files and exec credential plugins."""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from patchlevel.collect.kubeconfig import (
    Authenticator,
    ClusterAccess,
    ExecPlugin,
    in_cluster_access,
    kubeconfig_paths,
    load_kubeconfig,
    resolve_access,
)
from patchlevel.errors import CollectError, KubeconfigError, UsageError

KUBECTL = shutil.which("kubectl")
CA = b"-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n"


def config(
    clusters: dict[str, dict[str, Any]],
    users: dict[str, dict[str, Any]],
    contexts: dict[str, tuple[str, str]],
    current: str | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": c} for n, c in clusters.items()],
        "users": [{"name": n, "user": u} for n, u in users.items()],
        "contexts": [{"name": n, "context": {"cluster": c, "user": u}} for n, (c, u) in contexts.items()],
    }
    if current is not None:
        document["current-context"] = current
    return document


def write(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


# -- which files, merged how ---------------------------------------------------------------------


def test_paths_come_from_the_flag_then_kubeconfig_then_home(tmp_path: Path) -> None:
    listed = f"{tmp_path / 'a'}{os.pathsep}{os.pathsep}{tmp_path / 'b'}{os.pathsep}{tmp_path / 'a'}"

    assert kubeconfig_paths(tmp_path / "x", {"KUBECONFIG": listed}) == (tmp_path / "x",)
    assert kubeconfig_paths(None, {"KUBECONFIG": listed}) == (tmp_path / "a", tmp_path / "b")
    assert kubeconfig_paths(None, {"HOME": str(tmp_path)}) == (tmp_path / ".kube" / "config",)


def merge_fixture(tmp_path: Path) -> tuple[Path, Path]:
    first = write(
        tmp_path / "one" / "config",
        config(
            {"shared": {"server": "https://one.example:6443"}, "only-one": {"server": "https://1.example"}},
            {"alice": {"token": "from-one"}},
            {"prod": ("shared", "alice"), "dev": ("only-one", "alice")},
        ),  # no current-context: the next file's applies
    )
    second = write(
        tmp_path / "two" / "config",
        config(
            {"shared": {"server": "https://two.example:6443"}, "only-two": {"server": "https://2.example"}},
            {"alice": {"token": "from-two"}, "bob": {"token": "bob"}},
            {"prod": ("only-two", "bob"), "staging": ("only-two", "bob")},
            current="staging",
        ),
    )
    return first, second


def test_kubeconfig_files_merge_first_name_wins_and_first_current_context_wins(tmp_path: Path) -> None:
    first, second = merge_fixture(tmp_path)

    merged = load_kubeconfig([tmp_path / "missing", first, second])

    assert merged.files == (first, second)
    assert merged.context_names() == ["prod", "dev", "staging"]
    assert merged.current_context == "staging"
    prod = merged.access("prod")
    assert (prod.server, prod.token, prod.user) == ("https://one.example:6443", "from-one", "alice")
    assert merged.access().server == "https://2.example"


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_the_merge_agrees_with_kubectl(tmp_path: Path) -> None:
    assert KUBECTL is not None
    first, second = merge_fixture(tmp_path)
    env = {"KUBECONFIG": f"{first}{os.pathsep}{second}", "HOME": str(tmp_path), "PATH": os.environ.get("PATH", "")}
    shown = subprocess.run(
        [KUBECTL, "config", "view", "--merge", "--raw", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=True,
    )
    view = json.loads(shown.stdout)
    ours = load_kubeconfig([first, second])

    assert view["current-context"] == ours.current_context
    kubectl_contexts = {c["name"]: c["context"]["cluster"] for c in view["contexts"]}
    kubectl_servers = {c["name"]: c["cluster"]["server"] for c in view["clusters"]}
    kubectl_tokens = {u["name"]: u["user"]["token"] for u in view["users"]}
    for name in ours.context_names():
        access = ours.access(name)
        assert access.server == kubectl_servers[kubectl_contexts[name]]
        assert access.token == kubectl_tokens[access.user]


def test_relative_paths_are_relative_to_the_file_naming_them(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    (folder / "pki").mkdir(parents=True)
    (folder / "pki" / "ca.crt").write_bytes(CA)
    (folder / "pki" / "client.crt").write_bytes(b"CERT")
    (folder / "pki" / "client.key").write_bytes(b"KEY")
    (folder / "token").write_text("file-token\n", encoding="utf-8")
    path = write(
        folder / "config",
        config(
            {"c": {"server": "https://c.example", "certificate-authority": "pki/ca.crt"}},
            {
                "u": {"client-certificate": "pki/client.crt", "client-key": "pki/client.key", "tokenFile": "token"},
                "x": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "./bin/plugin",
                               "interactiveMode": "Never"}},
            },
            {"ctx": ("c", "u"), "with-exec": ("c", "x")},
            current="ctx",
        ),
    )  # fmt: skip

    access = load_kubeconfig([path]).access()
    plugin = load_kubeconfig([path]).access("with-exec").exec

    assert access.ca_pem == CA
    assert (access.client_cert_pem, access.client_key_pem) == (b"CERT", b"KEY")
    assert access.token_file == folder.resolve() / "token"
    assert plugin is not None and plugin.command == str(folder.resolve() / "bin" / "plugin")


def test_data_fields_win_over_file_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config",
        config(
            {"c": {"server": "https://c.example", "certificate-authority": "/nonexistent",
                   "certificate-authority-data": base64.b64encode(CA).decode()}},
            {"u": {"token": "t"}},
            {"ctx": ("c", "u")},
            current="ctx",
        ),
    )  # fmt: skip

    assert load_kubeconfig([path]).access().ca_pem == CA


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ({"auth-provider": {"name": "gcp"}}, 'user "u" uses auth-provider "gcp", which patchlevel does not support'),
        ({"username": "admin", "password": "x"}, "basic authentication was removed from Kubernetes in 1.19"),
        ({"as": "someone"}, "impersonation is not supported"),
        ({"client-certificate-data": base64.b64encode(b"C").decode()}, "a client certificate without its key"),
        ({"token": "t", "exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "x"}},
         "sets both a token and an exec plugin"),
        ({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "x"}},
         "interactiveMode must be set for client.authentication.k8s.io/v1"),
        ({"exec": {"apiVersion": "client.authentication.k8s.io/v1alpha1", "command": "x"}},
         "apiVersion client.authentication.k8s.io/v1alpha1 is not supported"),
        ({"client-key-data": "***"}, "'client-key-data' is not base64"),
    ],
)  # fmt: skip
def test_unusable_users_are_one_line_errors(tmp_path: Path, user: dict[str, Any], message: str) -> None:
    path = write(tmp_path / "config", config({"c": {"server": "https://c"}}, {"u": user}, {"ctx": ("c", "u")}, "ctx"))

    with pytest.raises(KubeconfigError) as raised:
        load_kubeconfig([path]).access()

    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert raised.value.exit_code == 2


def test_unknown_context_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "config", config({"c": {"server": "https://c"}}, {"u": {}}, {"a": ("c", "u")}, "a"))

    with pytest.raises(KubeconfigError) as raised:
        load_kubeconfig([path]).access("prod-eu")

    assert str(raised.value) == f'context "prod-eu" is not in {path} (contexts: a)'


def test_an_explicit_kubeconfig_must_exist(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        resolve_access(kubeconfig=tmp_path / "nope", context=None, environ={})


def test_broken_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("clusters:\n  - name: [unclosed\n", encoding="utf-8")

    with pytest.raises(KubeconfigError, match=rf"kubeconfig {path} is not valid YAML at line \d"):
        load_kubeconfig([path])


# -- in-cluster ------------------------------------------------------------------------------------


def service_account(directory: Path, token: str = "sa-token") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "token").write_text(token, encoding="utf-8")
    (directory / "ca.crt").write_bytes(CA)
    (directory / "namespace").write_text("patchlevel", encoding="utf-8")
    return directory


def test_in_cluster_access_reads_the_service_account(tmp_path: Path) -> None:
    account = service_account(tmp_path / "sa")
    environ = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}

    access = in_cluster_access(environ, account)

    assert access is not None
    assert (access.server, access.ca_pem, access.token_file) == ("https://10.96.0.1:443", CA, account / "token")
    assert access.namespace == "patchlevel" and access.context == "in-cluster"
    ipv6 = in_cluster_access({"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}, account)
    assert ipv6 is not None and ipv6.server == "https://[fd00::1]:443"
    assert in_cluster_access({"KUBERNETES_SERVICE_HOST": "10.96.0.1"}, account) is None


def test_in_cluster_without_a_mounted_token_says_how_to_fix_it(tmp_path: Path) -> None:
    environ = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}

    with pytest.raises(KubeconfigError, match="automountServiceAccountToken: true"):
        in_cluster_access(environ, tmp_path / "empty")


def test_resolve_prefers_a_kubeconfig_and_falls_back_to_the_service_account(tmp_path: Path) -> None:
    account = service_account(tmp_path / "sa")
    environ = {"HOME": str(tmp_path / "home"), "KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "6443"}

    assert resolve_access(kubeconfig=None, context=None, environ=environ, account_dir=account).context == "in-cluster"

    write(
        tmp_path / "home" / ".kube" / "config",
        config({"c": {"server": "https://k"}}, {"u": {}}, {"a": ("c", "u")}, "a"),
    )
    assert resolve_access(kubeconfig=None, context=None, environ=environ, account_dir=account).server == "https://k"


def test_resolve_without_kubeconfig_or_cluster_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError) as raised:
        resolve_access(kubeconfig=None, context=None, environ={"HOME": str(tmp_path)}, account_dir=tmp_path / "sa")

    assert str(raised.value).startswith(f"no kubeconfig context found (looked in {tmp_path}/.kube/config)")


# -- credentials -----------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
        self.ticks = 0.0

    def wall(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.ticks


def authenticator(access: ClusterAccess, clock: Clock, terminal: bool = False, **environ: str) -> Authenticator:
    return Authenticator(
        access,
        now=clock.wall,
        monotonic=clock.monotonic,
        stdin_is_terminal=lambda: terminal,
        environ={"PATH": os.environ.get("PATH", ""), **environ},
    )


def plugin_script(tmp_path: Path) -> Path:
    """An exec credential plugin: logs what it was given, writes to stderr, prints an ExecCredential."""
    script = tmp_path / "bin" / "fake-auth-plugin"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import json, os, sys
            with open(os.environ["PLUGIN_LOG"], "a") as log:
                log.write(json.dumps({{"args": sys.argv[1:], "info": json.loads(os.environ["KUBERNETES_EXEC_INFO"]),
                                       "region": os.environ.get("REGION"), "stdin_tty": sys.stdin.isatty()}}) + "\\n")
            print("fake-auth-plugin: signing in as", os.environ.get("REGION"), file=sys.stderr)
            if os.environ.get("PLUGIN_FAIL"):
                sys.exit(4)
            status = {{"token": os.environ.get("PLUGIN_TOKEN", "exec-token")}}
            if os.environ.get("PLUGIN_EXPIRES"):
                status["expirationTimestamp"] = os.environ["PLUGIN_EXPIRES"]
            print(json.dumps({{"apiVersion": os.environ.get("PLUGIN_API", "client.authentication.k8s.io/v1"),
                               "kind": "ExecCredential", "status": status}}))
            """
        ),
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def exec_access(script: Path, api_version: str = "client.authentication.k8s.io/v1", **kw: Any) -> ClusterAccess:
    plugin = ExecPlugin(
        command=str(script),
        args=("token", "--cluster", "prod"),
        env=(("REGION", "eu-west-1"),),
        api_version=api_version,
        interactive_mode=kw.pop("mode", "Never"),
        provide_cluster_info=kw.pop("cluster_info", False),
        install_hint=kw.pop("hint", ""),
    )
    return ClusterAccess(context="prod", server="https://prod.example:6443", ca_pem=CA, exec=plugin, user="eks", **kw)


def log_of(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "plugin.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_an_exec_plugin_gets_its_args_env_and_exec_info_and_its_stderr_passes_through(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    auth = authenticator(
        exec_access(plugin_script(tmp_path), cluster_info=True), Clock(), PLUGIN_LOG=str(tmp_path / "plugin.log")
    )

    credential = auth.credential()

    assert credential.token == "exec-token" and credential.expires is None
    [call] = log_of(tmp_path)
    assert call["args"] == ["token", "--cluster", "prod"]
    assert call["region"] == "eu-west-1"
    assert call["stdin_tty"] is False
    assert call["info"] == {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "spec": {
            "interactive": False,
            "cluster": {
                "server": "https://prod.example:6443",
                "certificate-authority-data": base64.b64encode(CA).decode(),
            },
        },
    }
    assert "fake-auth-plugin: signing in as eu-west-1" in capfd.readouterr().err


def test_an_exec_credential_is_cached_until_it_expires(tmp_path: Path) -> None:
    clock = Clock()
    expires = (clock.now + timedelta(minutes=15)).isoformat().replace("+00:00", "Z")
    auth = authenticator(
        exec_access(plugin_script(tmp_path)), clock, PLUGIN_LOG=str(tmp_path / "plugin.log"), PLUGIN_EXPIRES=expires
    )

    first = auth.credential()
    clock.now += timedelta(minutes=14)
    assert auth.credential() is first
    assert auth.exec_runs == 1
    clock.now += timedelta(minutes=2)
    assert auth.credential() is not first
    assert auth.exec_runs == 2
    assert first.expires == datetime(2026, 11, 27, 9, 15, tzinfo=UTC)


def test_refresh_after_a_401_runs_the_plugin_again(tmp_path: Path) -> None:
    auth = authenticator(exec_access(plugin_script(tmp_path)), Clock(), PLUGIN_LOG=str(tmp_path / "plugin.log"))

    auth.credential()
    assert auth.refresh() is True
    auth.credential()

    assert auth.exec_runs == 2


def test_v1beta1_plugins_default_to_if_available_and_see_a_terminal(tmp_path: Path) -> None:
    access = exec_access(plugin_script(tmp_path), "client.authentication.k8s.io/v1beta1", mode="IfAvailable")
    auth = authenticator(
        access,
        Clock(),
        terminal=True,
        PLUGIN_LOG=str(tmp_path / "plugin.log"),
        PLUGIN_API="client.authentication.k8s.io/v1beta1",
    )

    assert auth.credential().token == "exec-token"
    assert log_of(tmp_path)[0]["info"]["spec"] == {"interactive": True}


@pytest.mark.parametrize(
    ("environ", "kw", "message"),
    [
        ({"PLUGIN_FAIL": "1"}, {}, "exec plugin {script} exited with status 4 (its own message is above)"),
        ({"PLUGIN_API": "client.authentication.k8s.io/v1beta1"}, {},
         "exec plugin {script} answered with apiVersion 'client.authentication.k8s.io/v1beta1', but the kubeconfig "
         "asks for client.authentication.k8s.io/v1"),
        ({"PLUGIN_EXPIRES": "tomorrow"}, {}, "exec plugin {script}: expirationTimestamp 'tomorrow' is not a time"),
        ({}, {"mode": "Always"}, "exec plugin {script} needs an interactive terminal (interactiveMode: Always)"),
    ],
)  # fmt: skip
def test_exec_plugin_failures_are_one_line(
    tmp_path: Path, environ: dict[str, str], kw: dict[str, Any], message: str
) -> None:
    script = plugin_script(tmp_path)
    auth = authenticator(exec_access(script, **kw), Clock(), PLUGIN_LOG=str(tmp_path / "plugin.log"), **environ)

    with pytest.raises(CollectError) as raised:
        auth.credential()

    assert str(raised.value).startswith(message.format(script=script))


def test_a_missing_plugin_shows_its_install_hint(tmp_path: Path) -> None:
    access = exec_access(
        tmp_path / "nowhere" / "gke-gcloud-auth-plugin",
        hint="Install gke-gcloud-auth-plugin: gcloud components install",
    )

    with pytest.raises(CollectError) as raised:
        authenticator(access, Clock()).credential()

    assert str(raised.value) == (
        f"exec plugin '{tmp_path}/nowhere/gke-gcloud-auth-plugin' of user 'eks' was not found "
        "(Install gke-gcloud-auth-plugin: gcloud components install)"
    )


def test_a_token_file_is_read_again_after_a_minute(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("first\n", encoding="utf-8")
    clock = Clock()
    auth = authenticator(ClusterAccess(context="c", server="https://c", token="ignored", token_file=token), clock)

    assert auth.credential().token == "first"
    token.write_text("rotated", encoding="utf-8")
    clock.ticks += 30
    assert auth.credential().token == "first"
    clock.ticks += 31
    assert auth.credential().token == "rotated"
