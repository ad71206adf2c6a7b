"""Hostile kubeconfigs and credentials: FIFOs and devices where files should be, YAML bombs, and exec
plugins that never answer (terminal or not), flood their output or give impossible expiry times."""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from hostile_inputs import HOSTILE, fifo
from kubeapi import Cluster, KubeAPIServer
from patchlevel.collect.kubeconfig import (
    Authenticator,
    ClusterAccess,
    ExecPlugin,
    in_cluster_access,
    load_kubeconfig,
)
from patchlevel.collect.live import Host, LiveOptions, collect_live
from patchlevel.errors import CollectError, KubeconfigError
from test_live_collect import VERSION, cluster_objects

CA = b"-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n"


def kubeconfig(path: Path, user: dict[str, Any], cluster: dict[str, Any] | None = None) -> Path:
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster or {"server": "https://c.example:6443"}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def authenticator(access: ClusterAccess, *, terminal: bool = False, exec_timeout: float = 120.0) -> Authenticator:
    return Authenticator(
        access,
        now=lambda: datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
        monotonic=time.monotonic,
        stdin_is_terminal=lambda: terminal,
        environ={"PATH": os.environ.get("PATH", "")},
        exec_timeout=exec_timeout,
    )


# -- files that are not files ----------------------------------------------------------------------


def test_a_token_file_that_is_a_fifo_is_a_one_line_error(tmp_path: Path) -> None:
    with fifo(tmp_path / "token") as token:
        access = load_kubeconfig([kubeconfig(tmp_path / "config", {"tokenFile": str(token)})]).access()
        with pytest.raises(KubeconfigError) as raised:
            authenticator(access).credential()
    assert str(raised.value) == f"cannot read token file {token}: a FIFO (named pipe), not a regular file"


@pytest.mark.parametrize("key", ["client-certificate", "client-key"])
def test_client_certificate_files_that_are_fifos_are_never_opened(tmp_path: Path, key: str) -> None:
    other = "client-key" if key == "client-certificate" else "client-certificate"
    (tmp_path / "other.pem").write_bytes(CA)
    with fifo(tmp_path / "pipe.pem") as pipe:
        path = kubeconfig(tmp_path / "config", {key: str(pipe), other: str(tmp_path / "other.pem")})
        with pytest.raises(KubeconfigError) as raised:
            load_kubeconfig([path]).access()
    assert str(raised.value) == (
        f'kubeconfig {path}: user "u": cannot read {key} {pipe}: a FIFO (named pipe), not a regular file'
    )


def test_a_certificate_authority_that_is_a_device_is_never_opened(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").symlink_to("/dev/zero")
    path = kubeconfig(
        tmp_path / "config",
        {"token": "t"},
        {"server": "https://c.example:6443", "certificate-authority": str(tmp_path / "ca.crt")},
    )
    with pytest.raises(KubeconfigError) as raised:
        load_kubeconfig([path]).access()
    assert str(raised.value).endswith(f"cannot read certificate-authority {tmp_path / 'ca.crt'}: a symbolic link to a "
                                      "character device, not a regular file")  # fmt: skip


def test_a_kubeconfig_that_is_a_fifo_is_never_opened(tmp_path: Path) -> None:
    with fifo(tmp_path / "config") as path, pytest.raises(KubeconfigError) as raised:
        load_kubeconfig([path], explicit=True)
    assert str(raised.value) == f"cannot read kubeconfig {path}: a FIFO (named pipe), not a regular file"


@pytest.mark.parametrize("name", ["token", "ca.crt"])
def test_in_cluster_files_that_are_fifos_are_one_line_errors(tmp_path: Path, name: str) -> None:
    account = tmp_path / "sa"
    account.mkdir()
    (account / "token").write_text("t", encoding="utf-8")
    if name == "token":
        (account / "token").unlink()
    environ = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    with fifo(account / name), pytest.raises(KubeconfigError) as raised:
        in_cluster_access(environ, account)
    assert "a FIFO (named pipe), not a regular file" in str(raised.value)


# -- YAML bombs and depth --------------------------------------------------------------------------


def test_a_kubeconfig_alias_bomb_is_refused() -> None:
    with pytest.raises(KubeconfigError) as raised:
        load_kubeconfig([HOSTILE / "kubeconfig-alias-bomb.yaml"])
    assert str(raised.value) == (
        f"kubeconfig {HOSTILE / 'kubeconfig-alias-bomb.yaml'}: YAML aliases expand the document by more than "
        "100,000 nodes (an alias bomb?)"
    )


def test_a_100000_deep_kubeconfig_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("clusters: " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(KubeconfigError, match=r"YAML nested too deeply"):
        load_kubeconfig([path])


def test_an_exec_extension_bomb_never_expands(tmp_path: Path) -> None:
    """The cluster's exec extension is passed to the plugin as JSON: an alias bomb there must not be built."""
    bomb = "\n".join(f"    l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10))
    path = tmp_path / "config"
    path.write_text(
        "clusters:\n- name: c\n  cluster:\n    server: https://c.example:6443\n    extensions:\n"
        "    - name: client.authentication.k8s.io/exec\n      extension:\n        l0: &l0 [lol, lol]\n"
        + textwrap.indent(bomb, "    ")
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(KubeconfigError, match="alias bomb"):
        load_kubeconfig([path])


# -- exec plugins ----------------------------------------------------------------------------------


def script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bin" / "plugin"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body), encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def exec_access(command: Path, mode: str = "Never") -> ClusterAccess:
    plugin = ExecPlugin(command=str(command), api_version="client.authentication.k8s.io/v1", interactive_mode=mode)
    return ClusterAccess(context="prod", server="https://prod.example:6443", ca_pem=CA, exec=plugin, user="u")


SLEEPER = """\
import os, subprocess, sys, time
if os.environ.get("CHILD_PID_FILE"):  # a child of its own, to see that it is stopped too
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open(os.environ["CHILD_PID_FILE"], "w") as out:
        out.write(str(child.pid))
time.sleep(60)
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return True
    return state in "ZX"


@pytest.mark.parametrize("terminal", [False, True], ids=["no-terminal", "terminal"])
def test_a_plugin_that_never_answers_is_stopped_at_the_time_left(tmp_path: Path, terminal: bool) -> None:
    plugin = script(tmp_path, SLEEPER)
    auth = authenticator(exec_access(plugin, "IfAvailable"), terminal=terminal)
    with pytest.raises(CollectError) as raised:
        auth.credential(timeout=1.0)
    assert str(raised.value).startswith(f"exec plugin {plugin} gave no credential within 1s (it was stopped at the")


def test_without_a_terminal_the_request_timeout_bounds_a_plugin_and_its_children(tmp_path: Path) -> None:
    plugin = script(tmp_path, SLEEPER)
    pid_file = tmp_path / "child.pid"
    access = exec_access(plugin)
    auth = Authenticator(
        access,
        now=lambda: datetime(2026, 11, 27, tzinfo=UTC),
        monotonic=time.monotonic,
        stdin_is_terminal=lambda: False,
        environ={"PATH": os.environ.get("PATH", ""), "CHILD_PID_FILE": str(pid_file)},
        exec_timeout=1.0,
    )
    with pytest.raises(CollectError, match=r"gave no credential within 1s \(it was stopped at --request-timeout"):
        auth.credential(timeout=None)
    child = int(pid_file.read_text())
    for _ in range(100):  # the whole process group was killed; wait (bounded) for the kernel to reap it
        if _gone(child):
            break
        time.sleep(0.05)
    assert _gone(child)


def test_a_plugin_that_floods_its_output_is_stopped(tmp_path: Path) -> None:
    plugin = script(tmp_path, "import sys\nwhile True:\n    sys.stdout.write('y' * 65536)\n")
    with pytest.raises(CollectError, match=r"printed more than 4,194,304 bytes: not an ExecCredential"):
        authenticator(exec_access(plugin)).credential()


@pytest.mark.parametrize(
    "expiry", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+05:00", "2026-13-01T00:00:00Z", "9" * 5000]
)
def test_impossible_expiry_times_are_one_line_errors(tmp_path: Path, expiry: str) -> None:
    answer = {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
              "status": {"token": "t", "expirationTimestamp": expiry}}  # fmt: skip
    plugin = script(tmp_path, f"print({json.dumps(json.dumps(answer))})\n")
    with pytest.raises(CollectError, match=r"expirationTimestamp .* is not a time"):
        authenticator(exec_access(plugin)).credential()


def test_a_deeply_nested_plugin_answer_is_a_one_line_error(tmp_path: Path) -> None:
    plugin = script(tmp_path, "print('[' * 100000 + ']' * 100000)\n")
    with pytest.raises(CollectError, match=r"did not print an ExecCredential \(not JSON\)"):
        authenticator(exec_access(plugin)).credential()


@pytest.fixture
def api() -> Iterator[KubeAPIServer]:
    with KubeAPIServer(Cluster(objects=cluster_objects(), version=VERSION)) as server:
        yield server


@pytest.mark.parametrize("terminal", [False, True], ids=["no-terminal", "terminal"])
def test_a_live_collection_with_a_silent_plugin_ends_at_its_deadline(
    api: KubeAPIServer, tmp_path: Path, terminal: bool
) -> None:
    plugin = script(tmp_path, SLEEPER)
    path = api.write_kubeconfig(tmp_path / "kubeconfig")
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for user in document["users"]:
        user["user"] = {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1",
                "command": str(plugin),
                "interactiveMode": "IfAvailable",
            }
        }
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    host = Host(
        wall=lambda: datetime.now(UTC),
        monotonic=time.monotonic,
        sleep=time.sleep,
        random=lambda: 0.5,
        environ={"PATH": os.environ.get("PATH", "")},
        stdin_is_terminal=lambda: terminal,
    )
    access = load_kubeconfig([path]).access()
    with pytest.raises(CollectError) as raised:
        collect_live(access, host=host, options=LiveOptions(deadline=1.5, request_timeout=30.0))
    message = str(raised.value)
    assert message.startswith(f"exec plugin {plugin} gave no credential within 1.")
    assert "it was stopped at the collection deadline" in message
