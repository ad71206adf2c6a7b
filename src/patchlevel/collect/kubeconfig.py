"""Where a cluster is and how to prove who we are to it: kubeconfig files and the in-cluster service account.

A small loader on the standard library (and httpx for the requests themselves), following what
kubectl does:

- ``--kubeconfig FILE`` reads that file only; otherwise every file of ``KUBECONFIG`` (split on
  ``os.pathsep``, missing files skipped) is merged: the first file to name a cluster, user or
  context wins, and the first ``current-context`` set wins; otherwise ``~/.kube/config``.
- Relative paths (``certificate-authority``, ``client-certificate``, ``client-key``,
  ``tokenFile``, and an exec ``command`` holding a ``/``) are relative to the file naming them.
- Credentials: bearer ``token`` and ``tokenFile`` (re-read every minute, and it wins over
  ``token``), client certificates (``-data`` or file forms), exec credential plugins
  (``client.authentication.k8s.io/v1`` and ``v1beta1``: ``args``, ``env``, ``interactiveMode``,
  ``provideClusterInfo``, ``installHint``; the credential is cached until its
  ``expirationTimestamp``, and the plugin's stderr goes straight to ours).
- With no kubeconfig at all and ``KUBERNETES_SERVICE_HOST``/``_PORT`` set, the pod's service
  account (``/var/run/secrets/kubernetes.io/serviceaccount``) is used, as client-go does.

Hostile or broken files: every file named by a kubeconfig (the kubeconfig itself, CA,
client certificate and key, ``tokenFile``) must be a regular file of reasonable size: a FIFO, a
device or a socket is a one-line error and is never opened (``safeinput.open_regular``).  YAML
alias bombs and nesting too deep to read are one-line errors.  An exec plugin is given at most
``exec_timeout`` seconds without a terminal, and never more than the collection's deadline left
(``Authenticator.credential(timeout=…)``), terminal or not; on timeout its whole process group
is killed (without a terminal; with one it stays in the terminal's group so it can prompt).
Its output is read up to ``MAX_EXEC_OUTPUT_BYTES``.

Why not the official ``kubernetes`` client: it would bring its own HTTP stack (urllib3), a
generated model layer we do not use, and dict trees for every object, where patchlevel decodes
raw pages with msgspec; what we need of it is the kubeconfig semantics above, which fit here.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import selectors
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from patchlevel.errors import CollectError, KubeconfigError, UsageError
from patchlevel.safeinput import YAMLLimitError, load_yaml_documents, read_regular, regular_file_problem

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")
TOKEN_FILE_REREAD_SECONDS = 60.0
IN_CLUSTER = "in-cluster"
MAX_KUBECONFIG_BYTES = 64 * 1024 * 1024  # a kubeconfig, CA bundle, certificate, key or token file
MAX_EXEC_OUTPUT_BYTES = 4 * 1024 * 1024  # what an exec plugin may print


@dataclass(frozen=True, slots=True)
class ExecPlugin:
    """A ``users[].user.exec`` stanza."""

    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    api_version: str = EXEC_API_VERSIONS[0]
    interactive_mode: str = "IfAvailable"
    provide_cluster_info: bool = False
    install_hint: str = ""


@dataclass(frozen=True, slots=True)
class ClusterAccess:
    """Everything needed to reach one cluster as one identity (one kubeconfig context)."""

    context: str
    server: str
    ca_pem: bytes | None = None
    insecure: bool = False
    tls_server_name: str = ""
    proxy_url: str = ""
    client_cert_pem: bytes | None = None
    client_key_pem: bytes | None = None
    token: str = ""
    token_file: Path | None = None
    exec: ExecPlugin | None = None
    exec_cluster_config: Any = None  # clusters[].cluster.extensions[client.authentication.k8s.io/exec]
    namespace: str = ""
    user: str = ""  # the kubeconfig user's name
    origin: str = ""  # "kubeconfig /home/me/.kube/config" or "in-cluster service account"

    def auth_method(self) -> str:
        """How this access authenticates, in a few words (for the bundle manifest and errors)."""
        methods = []
        if self.exec is not None:
            methods.append(f"exec plugin {self.exec.command} ({self.exec.api_version})")
        if self.token_file is not None:
            methods.append(f"bearer token file {self.token_file}")
        elif self.token:
            methods.append("bearer token")
        if self.client_cert_pem is not None:
            methods.append("client certificate")
        return ", ".join(methods) or "no credentials (anonymous)"


@dataclass(frozen=True, slots=True)
class _Named:
    body: Mapping[str, Any]
    origin: Path


@dataclass(frozen=True, slots=True)
class KubeConfig:
    """One or several kubeconfig files, merged the way kubectl merges them."""

    files: tuple[Path, ...]
    clusters: Mapping[str, _Named] = field(default_factory=dict)
    users: Mapping[str, _Named] = field(default_factory=dict)
    contexts: Mapping[str, _Named] = field(default_factory=dict)
    current_context: str = ""

    def context_names(self) -> list[str]:
        return list(self.contexts)

    def access(self, context: str | None = None) -> ClusterAccess:
        """The cluster and credentials of ``context`` (default: the current context)."""
        name = context or self.current_context
        where = ", ".join(str(f) for f in self.files) or "no kubeconfig file"
        if not name:
            raise KubeconfigError(
                f"no current context is set in {where}",
                hint="name one with --context, or run 'kubectl config use-context'",
            )
        entry = self.contexts.get(name)
        if entry is None:
            known = ", ".join(sorted(self.contexts)) or "none"
            raise KubeconfigError(f'context "{name}" is not in {where} (contexts: {known})')
        body = _mapping(entry.body, "context", f'context "{name}"', entry.origin)
        cluster_name = _string(body, "cluster", f'context "{name}"', entry.origin)
        user_name = _string(body, "user", f'context "{name}"', entry.origin)
        cluster = self.clusters.get(cluster_name)
        if cluster is None:
            raise KubeconfigError(f'context "{name}" names cluster "{cluster_name}", which is not in {where}')
        access = _cluster_access(name, cluster_name, cluster)
        if user_name:
            user = self.users.get(user_name)
            if user is None:
                raise KubeconfigError(f'context "{name}" names user "{user_name}", which is not in {where}')
            access = _with_user(access, user_name, user)
        return replace(
            access,
            namespace=_string(body, "namespace", f'context "{name}"', entry.origin),
            origin=f"kubeconfig {where}",
        )


# ------------------------------------------------------------------------------------------
# Loading and merging


def kubeconfig_paths(explicit: Path | None, environ: Mapping[str, str]) -> tuple[Path, ...]:
    """The files to read: ``--kubeconfig``, else ``KUBECONFIG``'s list, else ``~/.kube/config``."""
    if explicit is not None:
        return (explicit,)
    listed = environ.get("KUBECONFIG", "")
    if listed:
        paths = [Path(p).expanduser() for p in listed.split(os.pathsep) if p]
        return tuple(dict.fromkeys(paths))
    home = environ.get("HOME")
    base = Path(home) if home else Path.home()
    return (base / ".kube" / "config",)


def load_kubeconfig(paths: Sequence[Path], *, explicit: bool = False) -> KubeConfig:
    """Read and merge ``paths`` (missing files are skipped unless ``explicit``)."""
    clusters: dict[str, _Named] = {}
    users: dict[str, _Named] = {}
    contexts: dict[str, _Named] = {}
    current = ""
    read: list[Path] = []
    for path in paths:
        if not path.exists():
            if explicit:
                raise UsageError(f"--kubeconfig {path}: no such file")
            continue
        document = _read_document(path)
        read.append(path)
        for key, target in (("clusters", clusters), ("users", users), ("contexts", contexts)):
            for name, body in _named_entries(document, key, path):
                target.setdefault(name, _Named(body, path))
        if not current:
            value = document.get("current-context")
            current = value if isinstance(value, str) else ""
    return KubeConfig(tuple(read), clusters, users, contexts, current)


def _read_document(path: Path) -> Mapping[str, Any]:
    try:
        text = read_regular(path, MAX_KUBECONFIG_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KubeconfigError(f"cannot read kubeconfig {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        documents = load_yaml_documents(text, yaml.SafeLoader)
    except YAMLLimitError as exc:
        raise KubeconfigError(f"kubeconfig {path}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise KubeconfigError(f"kubeconfig {path} is not valid YAML{at}") from None
    if len(documents) > 1:
        raise KubeconfigError(f"kubeconfig {path} holds {len(documents)} YAML documents, not one Config")
    document = documents[0] if documents else None
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise KubeconfigError(f"kubeconfig {path} is not a Config object")
    return document


def _named_entries(document: Mapping[str, Any], key: str, path: Path) -> list[tuple[str, Mapping[str, Any]]]:
    entries = document.get(key) or []
    if not isinstance(entries, list):
        raise KubeconfigError(f"kubeconfig {path}: '{key}' is not a list")
    found = []
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise KubeconfigError(f"kubeconfig {path}: an entry of '{key}' has no name")
        found.append((entry["name"], entry))
    return found


def _mapping(entry: Mapping[str, Any], key: str, what: str, origin: Path) -> Mapping[str, Any]:
    value = entry.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise KubeconfigError(f"kubeconfig {origin}: {what}: '{key}' is not a mapping")
    return value


def _string(body: Mapping[str, Any], key: str, what: str, origin: Path) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise KubeconfigError(f"kubeconfig {origin}: {what}: '{key}' is not a string")
    return value


def _relative(value: str, origin: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else origin.parent.resolve() / path


def _b64(body: Mapping[str, Any], key: str, what: str, origin: Path) -> bytes | None:
    value = _string(body, key, what, origin)
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise KubeconfigError(f"kubeconfig {origin}: {what}: '{key}' is not base64") from None


def _file_or_data(body: Mapping[str, Any], key: str, what: str, origin: Path) -> bytes | None:
    """``<key>-data`` (base64) or ``<key>`` (a path, relative to the kubeconfig); data wins, as in client-go."""
    data = _b64(body, f"{key}-data", what, origin)
    if data is not None:
        return data
    named = _string(body, key, what, origin)
    if not named:
        return None
    path = _relative(named, origin)
    try:
        return read_regular(path, MAX_KUBECONFIG_BYTES)
    except OSError as exc:
        raise KubeconfigError(f"kubeconfig {origin}: {what}: cannot read {key} {path}: {exc.strerror or exc}") from None


def _cluster_access(context: str, name: str, entry: _Named) -> ClusterAccess:
    what = f'cluster "{name}"'
    body = _mapping(entry.body, "cluster", what, entry.origin)
    server = _string(body, "server", what, entry.origin)
    if not server.startswith(("https://", "http://")):
        raise KubeconfigError(f"kubeconfig {entry.origin}: {what} has no https:// server address ({server!r})")
    extension = None
    for item in body.get("extensions") or ():
        if isinstance(item, Mapping) and item.get("name") == "client.authentication.k8s.io/exec":
            extension = item.get("extension")
    return ClusterAccess(
        context=context,
        server=server.rstrip("/"),
        ca_pem=_file_or_data(body, "certificate-authority", what, entry.origin),
        insecure=body.get("insecure-skip-tls-verify") is True,
        tls_server_name=_string(body, "tls-server-name", what, entry.origin),
        proxy_url=_string(body, "proxy-url", what, entry.origin),
        exec_cluster_config=extension,
    )


def _with_user(access: ClusterAccess, name: str, entry: _Named) -> ClusterAccess:
    what = f'user "{name}"'
    origin = entry.origin
    body = _mapping(entry.body, "user", what, origin)
    provider = body.get("auth-provider")
    if provider:
        kind = provider.get("name", "?") if isinstance(provider, Mapping) else "?"
        raise KubeconfigError(
            f'{what} uses auth-provider "{kind}", which patchlevel does not support',
            hint="use an exec credential plugin instead (gke-gcloud-auth-plugin, kubelogin, aws eks get-token)",
        )
    for unsupported, why in (
        ("username", "basic authentication was removed from Kubernetes in 1.19"),
        ("as", "impersonation is not supported: audit as the identity itself"),
        ("as-groups", "impersonation is not supported: audit as the identity itself"),
    ):
        if body.get(unsupported):
            raise KubeconfigError(f"{what} sets '{unsupported}': {why}")
    token = _string(body, "token", what, origin)
    token_file = _string(body, "tokenFile", what, origin)
    plugin = _exec_plugin(body, what, origin)
    if plugin is not None and (token or token_file):
        raise KubeconfigError(f"{what} sets both a token and an exec plugin", hint="keep one authentication method")
    cert = _file_or_data(body, "client-certificate", what, origin)
    key = _file_or_data(body, "client-key", what, origin)
    if (cert is None) != (key is None):
        raise KubeconfigError(f"{what} has a client certificate without its key, or a key without its certificate")
    return replace(
        access,
        client_cert_pem=cert,
        client_key_pem=key,
        token=token,
        token_file=_relative(token_file, origin) if token_file else None,
        exec=plugin,
        user=name,
    )


def _exec_plugin(body: Mapping[str, Any], what: str, origin: Path) -> ExecPlugin | None:
    spec = _mapping(body, "exec", what, origin)
    if not spec:
        return None
    what = f"{what}: exec"
    command = _string(spec, "command", what, origin)
    if not command:
        raise KubeconfigError(f"kubeconfig {origin}: {what} has no command")
    if "/" in command:
        command = str(_relative(command, origin))
    api_version = _string(spec, "apiVersion", what, origin)
    if api_version not in EXEC_API_VERSIONS:
        raise KubeconfigError(
            f"kubeconfig {origin}: {what}: apiVersion {api_version or '(none)'} is not supported",
            hint=f"use {' or '.join(EXEC_API_VERSIONS)}",
        )
    mode = _string(spec, "interactiveMode", what, origin)
    if not mode:
        if api_version.endswith("/v1"):
            raise KubeconfigError(f"kubeconfig {origin}: {what}: interactiveMode must be set for {api_version}")
        mode = "IfAvailable"
    if mode not in INTERACTIVE_MODES:
        raise KubeconfigError(
            f"kubeconfig {origin}: {what}: interactiveMode {mode!r} is not one of {INTERACTIVE_MODES}"
        )
    args = spec.get("args") or []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise KubeconfigError(f"kubeconfig {origin}: {what}: args must be a list of strings")
    env = []
    for item in spec.get("env") or []:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise KubeconfigError(f"kubeconfig {origin}: {what}: each env entry needs a name and a value")
        env.append((item["name"], str(item.get("value", ""))))
    return ExecPlugin(
        command=command,
        args=tuple(args),
        env=tuple(env),
        api_version=api_version,
        interactive_mode=mode,
        provide_cluster_info=spec.get("provideClusterInfo") is True,
        install_hint=_string(spec, "installHint", what, origin).strip(),
    )


# ------------------------------------------------------------------------------------------
# In-cluster


def in_cluster_access(environ: Mapping[str, str], account_dir: Path | None = None) -> ClusterAccess | None:
    """The pod's service account, or None when not running in a cluster (as client-go decides)."""
    account_dir = account_dir or SERVICE_ACCOUNT_DIR
    host, port = environ.get("KUBERNETES_SERVICE_HOST", ""), environ.get("KUBERNETES_SERVICE_PORT", "")
    if not host or not port:
        return None
    token_file = account_dir / "token"
    problem = regular_file_problem(token_file)
    if problem is not None and token_file.exists():
        raise KubeconfigError(f"the service account token {token_file} is {problem}, not a regular file")
    if problem is not None:
        raise KubeconfigError(
            f"running in a cluster (KUBERNETES_SERVICE_HOST is set) but {token_file} does not exist",
            hint="set automountServiceAccountToken: true on the pod (deploy/cronjob.yaml does)",
        )
    ca_file = account_dir / "ca.crt"
    namespace_file = account_dir / "namespace"
    address = f"[{host}]" if ":" in host else host
    try:
        ca_pem = read_regular(ca_file, MAX_KUBECONFIG_BYTES) if ca_file.exists() else None
        namespace = (
            read_regular(namespace_file, MAX_KUBECONFIG_BYTES).decode("utf-8", "replace").strip()
            if namespace_file.exists()
            else ""
        )
    except OSError as exc:
        raise KubeconfigError(f"cannot read the service account's {exc.filename}: {exc.strerror or exc}") from None
    return ClusterAccess(
        context=IN_CLUSTER,
        server=f"https://{address}:{port}",
        ca_pem=ca_pem,
        token_file=token_file,
        namespace=namespace,
        user="service account",
        origin=f"in-cluster service account ({account_dir})",
    )


def resolve_access(
    *,
    kubeconfig: Path | None,
    context: str | None,
    environ: Mapping[str, str],
    account_dir: Path | None = None,
) -> ClusterAccess:
    """The access ``patchlevel audit`` without a path uses.

    A kubeconfig named (``--kubeconfig``) or found (``KUBECONFIG``, ``~/.kube/config``) is used
    with ``context``; with none found, the in-cluster service account; else a one-line error.
    """
    paths = kubeconfig_paths(kubeconfig, environ)
    config = load_kubeconfig(paths, explicit=kubeconfig is not None)
    if config.files and (config.contexts or context):
        return config.access(context)
    if context is None:
        in_cluster = in_cluster_access(environ, account_dir)
        if in_cluster is not None:
            return in_cluster
    looked = ", ".join(str(p) for p in paths)
    raise KubeconfigError(
        f"no kubeconfig context found (looked in {looked}) and not running inside a cluster",
        hint="give a snapshot or bundle path, --kubeconfig, or set KUBECONFIG",
    )


# ------------------------------------------------------------------------------------------
# Credentials


@dataclass(frozen=True, slots=True)
class Credential:
    """What to present on a request: a bearer token and/or a client certificate."""

    token: str = ""
    client_cert_pem: bytes | None = None
    client_key_pem: bytes | None = None
    expires: datetime | None = None
    source: str = ""


class _PluginTimeout(Exception):
    pass


class _PluginTooChatty(Exception):
    pass


def _stop(process: subprocess.Popen[bytes], own_group: bool) -> None:
    """Kill a plugin (and, when it has its own process group, everything it started) and reap it."""
    if process.poll() is None:
        try:
            if own_group:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        except ProcessLookupError:
            pass
    process.wait()


def run_exec_plugin(
    argv: Sequence[str], *, env: Mapping[str, str], interactive: bool, timeout: float | None
) -> tuple[int, bytes]:
    """Run a credential plugin: (exit status, stdout); raises _PluginTimeout, _PluginTooChatty, OSError.

    Without a terminal the plugin gets no stdin and its own process group, killed whole on
    timeout; with one it keeps the terminal (to prompt) and only it is killed.  Its stdout is
    read as it comes, up to MAX_EXEC_OUTPUT_BYTES; its stderr goes to ours.
    """
    own_group = not interactive
    process = subprocess.Popen(
        list(argv),
        stdin=None if interactive else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=None,  # the plugin's own messages (e.g. a login prompt) reach the user unchanged
        env=dict(env),
        process_group=0 if own_group else None,
    )
    deadline = None if timeout is None else time.monotonic() + timeout
    output = bytearray()
    assert process.stdout is not None
    try:
        with selectors.DefaultSelector() as selector:
            descriptor = process.stdout.fileno()
            selector.register(descriptor, selectors.EVENT_READ)
            while True:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise _PluginTimeout
                if not selector.select(left):
                    continue
                data = os.read(descriptor, 65536)
                if not data:
                    break
                output += data
                if len(output) > MAX_EXEC_OUTPUT_BYTES:
                    raise _PluginTooChatty
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            status = process.wait(timeout=left)
        except subprocess.TimeoutExpired:
            raise _PluginTimeout from None
    finally:
        process.stdout.close()
        _stop(process, own_group)
    return status, bytes(output)


class Authenticator:
    """Hands out the credential of a ClusterAccess, running exec plugins and re-reading token files.

    The credential is cached: an exec plugin's until its ``expirationTimestamp`` (for ever
    without one), a token file's for a minute.  ``refresh()`` (after a 401) drops the cache once.
    """

    def __init__(
        self,
        access: ClusterAccess,
        *,
        now: Callable[[], datetime],
        monotonic: Callable[[], float],
        stdin_is_terminal: Callable[[], bool],
        environ: Mapping[str, str],
        exec_timeout: float = 120.0,
    ) -> None:
        self.access = access
        self._now = now
        self._monotonic = monotonic
        self._stdin_is_terminal = stdin_is_terminal
        self._environ = environ
        self._exec_timeout = exec_timeout
        self._cached: Credential | None = None
        self._read_at = 0.0
        self.exec_runs = 0

    @property
    def refreshable(self) -> bool:
        return self.access.exec is not None or self.access.token_file is not None

    def credential(self, timeout: float | None = None) -> Credential:
        """The credential to present; ``timeout`` bounds an exec plugin run (the collection's time left)."""
        cached = self._cached
        if cached is not None and self._still_good(cached):
            return cached
        if self.access.exec is not None:
            fresh = self._run_plugin(self.access.exec, timeout)
        elif self.access.token_file is not None:
            fresh = Credential(token=self._read_token_file(self.access.token_file), source="token file")
            self._read_at = self._monotonic()
        else:
            fresh = Credential(token=self.access.token, source="kubeconfig")
        if fresh.client_cert_pem is None and self.access.client_cert_pem is not None:
            fresh = replace(
                fresh, client_cert_pem=self.access.client_cert_pem, client_key_pem=self.access.client_key_pem
            )
        self._cached = fresh
        return fresh

    def refresh(self) -> bool:
        """Forget the cached credential; True when asking again can give a different one."""
        self._cached = None
        return self.refreshable

    def _still_good(self, credential: Credential) -> bool:
        if credential.expires is not None and self._now() >= credential.expires:
            return False
        if self.access.exec is None and self.access.token_file is not None:
            return self._monotonic() - self._read_at < TOKEN_FILE_REREAD_SECONDS
        return True

    def _read_token_file(self, path: Path) -> str:
        try:
            token = read_regular(path, MAX_KUBECONFIG_BYTES).decode("utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise KubeconfigError(f"cannot read token file {path}: {getattr(exc, 'strerror', None) or exc}") from None
        if not token:
            raise KubeconfigError(f"token file {path} is empty")
        return token

    def _interactive(self, plugin: ExecPlugin) -> bool:
        if plugin.interactive_mode == "Never":
            return False
        terminal = self._stdin_is_terminal()
        if plugin.interactive_mode == "Always" and not terminal:
            raise CollectError(
                f"exec plugin {plugin.command} needs an interactive terminal (interactiveMode: Always) "
                "but standard input is not one",
                hint="log in once interactively, or run where a terminal is attached",
            )
        return terminal

    def _exec_info(self, plugin: ExecPlugin, interactive: bool) -> str:
        spec: dict[str, Any] = {"interactive": interactive}
        if plugin.provide_cluster_info:
            access = self.access
            cluster: dict[str, Any] = {"server": access.server}
            if access.tls_server_name:
                cluster["tls-server-name"] = access.tls_server_name
            if access.insecure:
                cluster["insecure-skip-tls-verify"] = True
            if access.ca_pem:
                cluster["certificate-authority-data"] = base64.b64encode(access.ca_pem).decode("ascii")
            if access.proxy_url:
                cluster["proxy-url"] = access.proxy_url
            if access.exec_cluster_config is not None:
                cluster["config"] = access.exec_cluster_config
            spec["cluster"] = cluster
        return json.dumps({"apiVersion": plugin.api_version, "kind": "ExecCredential", "spec": spec})

    def _run_plugin(self, plugin: ExecPlugin, time_left: float | None) -> Credential:
        interactive = self._interactive(plugin)
        executable = shutil.which(plugin.command, path=self._environ.get("PATH"))
        if executable is None:
            hint = plugin.install_hint.splitlines()[0] if plugin.install_hint else "install it or fix 'command'"
            raise CollectError(f"exec plugin {plugin.command!r} of user {self.access.user!r} was not found", hint=hint)
        env = {**self._environ, **dict(plugin.env), "KUBERNETES_EXEC_INFO": self._exec_info(plugin, interactive)}
        self.exec_runs += 1
        limits = [t for t in (None if interactive else self._exec_timeout, time_left) if t is not None]
        timeout = max(0.0, min(limits)) if limits else None
        try:
            status, output = run_exec_plugin(
                [executable, *plugin.args], env=env, interactive=interactive, timeout=timeout
            )
        except _PluginTimeout:
            bound = "the collection deadline" if timeout == time_left else "--request-timeout"
            raise CollectError(
                f"exec plugin {plugin.command} gave no credential within {timeout:.3g}s",
                hint=f"it was stopped at {bound}; check that it can run without a prompt, or raise the limit",
            ) from None
        except _PluginTooChatty:
            raise CollectError(
                f"exec plugin {plugin.command} printed more than {MAX_EXEC_OUTPUT_BYTES:,} bytes: not an ExecCredential"
            ) from None
        except OSError as exc:
            raise CollectError(f"exec plugin {plugin.command} could not be run: {exc.strerror or exc}") from None
        if status != 0:
            raise CollectError(
                f"exec plugin {plugin.command} exited with status {status}",
                hint="its own message is above",
            )
        return self._parse_credential(plugin, output)

    def _parse_credential(self, plugin: ExecPlugin, output: bytes) -> Credential:
        name = plugin.command
        try:
            document = json.loads(output)
        except (ValueError, RecursionError):
            raise CollectError(f"exec plugin {name} did not print an ExecCredential (not JSON)") from None
        if not isinstance(document, Mapping) or document.get("kind") != "ExecCredential":
            raise CollectError(f"exec plugin {name} did not print an ExecCredential")
        if document.get("apiVersion") != plugin.api_version:
            raise CollectError(
                f"exec plugin {name} answered with apiVersion {document.get('apiVersion')!r}, "
                f"but the kubeconfig asks for {plugin.api_version}"
            )
        status = document.get("status")
        if not isinstance(status, Mapping):
            raise CollectError(f"exec plugin {name} printed an ExecCredential without a status")
        token = status.get("token") or ""
        cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
        if bool(cert) != bool(key):
            raise CollectError(f"exec plugin {name} gave a client certificate without its key, or a key alone")
        if not token and not cert:
            raise CollectError(f"exec plugin {name} gave neither a token nor a client certificate")
        expires = None
        raw_expiry = status.get("expirationTimestamp")
        if raw_expiry:
            shown = repr(str(raw_expiry)[:100])
            try:
                expires = datetime.fromisoformat(str(raw_expiry).replace("Z", "+00:00"))
                if expires.tzinfo is not None:
                    expires = expires.astimezone(UTC)
            except (ValueError, OverflowError):
                raise CollectError(f"exec plugin {name}: expirationTimestamp {shown} is not a time") from None
            if expires.tzinfo is None:
                raise CollectError(f"exec plugin {name}: expirationTimestamp {shown} has no time zone")
        return Credential(
            token=str(token),
            client_cert_pem=str(cert).encode() if cert else None,
            client_key_pem=str(key).encode() if key else None,
            expires=expires,
            source=f"exec plugin {name}",
        )


def tls_context(access: ClusterAccess, credential: Credential) -> ssl.SSLContext:
    """The TLS settings of ``access``: its CA (else the system's), client certificate, insecure mode."""
    try:
        context = ssl.create_default_context(cadata=access.ca_pem.decode("ascii") if access.ca_pem else None)
    except (ssl.SSLError, ValueError, UnicodeDecodeError):
        raise KubeconfigError(
            f'the certificate authority of context "{access.context}" is not a PEM certificate'
        ) from None
    if access.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if credential.client_cert_pem is not None and credential.client_key_pem is not None:
        _load_client_certificate(context, credential.client_cert_pem, credential.client_key_pem, access.context)
    return context


def _load_client_certificate(context: ssl.SSLContext, cert: bytes, key: bytes, name: str) -> None:
    # The ssl module loads certificates from files only: write them to a private directory, load, delete.
    with tempfile.TemporaryDirectory(prefix="patchlevel-tls-") as scratch:
        cert_file, key_file = Path(scratch, "client.crt"), Path(scratch, "client.key")
        for path, data in ((cert_file, cert), (key_file, key)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
        try:
            context.load_cert_chain(cert_file, key_file)
        except ssl.SSLError as exc:
            raise KubeconfigError(
                f'the client certificate of context "{name}" cannot be used: {exc.reason or exc}'
            ) from None
