"""Real OCI registries for the tests of ``patchlevel.registry``: start, fill with images, stop.

``RegistryServer`` runs Debian's ``docker-registry`` (distribution 2.8) on a free loopback port
with its own throwaway config and storage: without auth, with htpasswd Basic auth, or with
token auth backed by ``TokenServer``, a small token service that signs JWTs the registry
trusts.  ``Pusher`` pushes synthetic images through the registry HTTP API (blob uploads, an
image config with a ``created`` date, manifests and image indexes by tag or digest).

Nothing starts on import.  The tests create these in fixtures and skip, saying why, when the
registry binary (``apt-get install docker-registry``) or ``htpasswd`` (apache2-utils) is
missing.  CI installs both with ``.ci/start-registry.sh``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import tarfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

REGISTRY_BINARIES = ("/usr/bin/docker-registry", "docker-registry", "registry")
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
SERVICE = "patchlevel-test-registry"
ISSUER = "patchlevel-test-token-issuer"


def registry_binary() -> str | None:
    """Path of the distribution registry binary, or None when it is not installed."""
    for candidate in REGISTRY_BINARIES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def htpasswd_line(username: str, password: str) -> str | None:
    """A bcrypt htpasswd line (the only hash distribution accepts), or None without ``htpasswd``."""
    tool = shutil.which("htpasswd")
    if tool is None:
        return None
    done = subprocess.run(
        [tool, "-nbB", "-C", "4", username, password], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class RegistryServer:
    """One ``docker-registry serve`` process on 127.0.0.1, with config and storage under ``directory``."""

    def __init__(self, binary: str, directory: Path, auth: Mapping[str, Any] | None = None) -> None:
        self.binary = binary
        self.directory = directory
        self.auth = auth
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        """The registry as an image reference names it: ``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def log(self) -> str:
        path = self.directory / "registry.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, attempts: int = 3) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for _ in range(attempts):
            self.port = free_port()
            if self._start_once():
                return
        raise RuntimeError(f"docker-registry did not start; its log:\n{self.log}")

    def _start_once(self) -> bool:
        config: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.directory / "storage")},
                "delete": {"enabled": True},
            },
            "http": {"addr": self.host, "secret": secrets.token_hex(16)},
        }
        if self.auth is not None:
            config["auth"] = dict(self.auth)
        config_path = self.directory / "config.yml"
        config_path.write_text(json.dumps(config, indent=2))  # JSON is YAML
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        with (self.directory / "registry.log").open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "serve", str(config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + 15
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    return False  # most likely the port was taken meanwhile: try another
                try:
                    if client.get(f"{self.url}/v2/").status_code in (200, 401):
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        self.stop()
        return False

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def running_registry(binary: str, directory: Path, auth: Mapping[str, Any] | None = None) -> Iterator[RegistryServer]:
    server = RegistryServer(binary, directory, auth)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenRequest:
    """What the token service was asked, for assertions."""

    user: str | None  # None: anonymous
    service: str
    scopes: tuple[str, ...]
    status: int


class TokenServer:
    """A token service for distribution's ``auth: token``: signs RS256 JWTs with a throwaway key.

    Anonymous callers get pull access to repositories under ``public/`` and nothing else;
    callers with a known user and password get pull and push everywhere; a wrong password
    gets 401.  ``requests`` records every request.
    """

    def __init__(self, directory: Path, users: Mapping[str, str]) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.users = dict(users)
        self.requests: list[TokenRequest] = []
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "patchlevel test token issuer")])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self._certificate_der = certificate.public_bytes(serialization.Encoding.DER)
        self.certificate_path = directory / "token-issuer.pem"
        directory.mkdir(parents=True, exist_ok=True)
        self.certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def realm(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def registry_auth(self) -> dict[str, Any]:
        """The ``auth`` section of a registry config that trusts this service."""
        return {
            "token": {
                "realm": self.realm,
                "service": SERVICE,
                "issuer": ISSUER,
                "rootcertbundle": str(self.certificate_path),
            }
        }

    def mint(self, subject: str, access: Sequence[tuple[str, Sequence[str]]]) -> str:
        """A signed token granting ``actions`` on each named repository."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self._certificate_der).decode()]}
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "iat": now,
            "nbf": now - 30,
            "exp": now + 300,
            "jti": secrets.token_hex(8),
            "access": [{"type": "repository", "name": repo, "actions": list(actions)} for repo, actions in access],
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"

    def _grant(self, authorization: str | None, scopes: Sequence[str]) -> tuple[int, str | None, str | None]:
        """(HTTP status, user, token) for one token request."""
        user: str | None = None
        if authorization:
            scheme, _, encoded = authorization.partition(" ")
            try:
                name, _, password = base64.b64decode(encoded).decode().partition(":")
            except ValueError:
                return 401, None, None
            if scheme.lower() != "basic" or self.users.get(name) != password:
                return 401, name, None
            user = name
        access: list[tuple[str, list[str]]] = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            repo, _, _actions = rest.rpartition(":")
            if kind != "repository" or not repo:
                continue
            if user is not None:
                access.append((repo, ["pull", "push"]))
            elif repo.startswith("public/"):
                access.append((repo, ["pull"]))
            else:
                access.append((repo, []))  # like Docker Hub: a token, but without the access asked for
        return 200, user, self.mint(user or "", access)

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                scopes = tuple(s for value in query.get("scope", []) for s in value.split(" ") if s)
                status, user, token = owner._grant(self.headers.get("Authorization"), scopes)
                with owner._lock:
                    owner.requests.append(TokenRequest(user, query.get("service", [""])[0], scopes, status))
                body = json.dumps({"token": token, "expires_in": 300} if token else {"details": "denied"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="token-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@dataclass(frozen=True)
class PushedImage:
    repository: str
    digest: str  # of the manifest as pushed
    media_type: str
    config_digest: str
    created: datetime | None
    os: str
    architecture: str


@dataclass(frozen=True)
class PushedIndex:
    repository: str
    digest: str
    media_type: str
    images: tuple[PushedImage, ...]


def _layer(text: str) -> tuple[bytes, str]:
    """A gzipped tar holding one small file, and its diff ID (digest of the uncompressed tar)."""
    content = text.encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("etc/patchlevel-test-release")
        info.size = len(content)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(content))
    uncompressed = raw.getvalue()
    return gzip.compress(uncompressed, mtime=0), digest_of(uncompressed)


@dataclass
class Pusher:
    """Pushes images over the registry HTTP API.  ``authorization(repo)`` gives a header value."""

    server: RegistryServer
    authorization: Callable[[str], str] | None = None
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30.0, trust_env=False))

    def close(self) -> None:
        self.client.close()

    def _headers(self, repository: str, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if self.authorization is not None:
            headers["Authorization"] = self.authorization(repository)
        return headers

    def push_blob(self, repository: str, data: bytes) -> str:
        digest = digest_of(data)
        base = self.server.url
        head = self.client.head(f"{base}/v2/{repository}/blobs/{digest}", headers=self._headers(repository))
        if head.status_code == 200:
            return digest
        started = self.client.post(f"{base}/v2/{repository}/blobs/uploads/", headers=self._headers(repository))
        assert started.status_code == 202, (started.status_code, started.text)
        location = httpx.URL(base).join(started.headers["Location"])
        done = self.client.put(
            location.copy_merge_params({"digest": digest}),
            content=data,
            headers=self._headers(repository, **{"Content-Type": "application/octet-stream"}),
        )
        assert done.status_code == 201, (done.status_code, done.text)
        return digest

    def push_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        response = self.client.put(
            f"{self.server.url}/v2/{repository}/manifests/{reference}",
            content=body,
            headers=self._headers(repository, **{"Content-Type": media_type}),
        )
        assert response.status_code == 201, (response.status_code, response.text)
        digest = digest_of(body)
        assert response.headers.get("Docker-Content-Digest") == digest
        return digest

    def push_image(
        self,
        repository: str,
        tag: str | None,
        *,
        created: datetime | None,
        oci: bool = True,
        os: str = "linux",
        architecture: str = "amd64",
        note: str = "",
    ) -> PushedImage:
        """Push a one-layer image; by ``tag``, or by digest only when ``tag`` is None."""
        stamp = created.isoformat().replace("+00:00", "Z") if created else None
        layer, diff_id = _layer(f"{repository} {stamp} {os}/{architecture} {note}\n")
        config: dict[str, Any] = {
            "architecture": architecture,
            "os": os,
            "config": {"Labels": {"org.example.note": note}},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
        if stamp is not None:
            config["created"] = stamp
            config["history"] = [{"created": stamp, "created_by": "patchlevel test harness"}]
        config_body = json.dumps(config, sort_keys=True).encode()
        manifest_type = OCI_MANIFEST if oci else DOCKER_MANIFEST
        manifest = {
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {
                "mediaType": OCI_CONFIG if oci else DOCKER_CONFIG,
                "digest": self.push_blob(repository, config_body),
                "size": len(config_body),
            },
            "layers": [
                {
                    "mediaType": OCI_LAYER if oci else DOCKER_LAYER,
                    "digest": self.push_blob(repository, layer),
                    "size": len(layer),
                }
            ],
        }
        body = json.dumps(manifest, indent=3).encode()
        digest = self.push_manifest(repository, tag or digest_of(body), body, manifest_type)
        return PushedImage(repository, digest, manifest_type, digest_of(config_body), created, os, architecture)

    def push_index(self, repository: str, tag: str, images: Sequence[PushedImage], *, oci: bool = True) -> PushedIndex:
        """Push an image index (or Docker manifest list) of already pushed images by tag."""
        media_type = OCI_INDEX if oci else DOCKER_LIST
        index = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "manifests": [
                {
                    "mediaType": image.media_type,
                    "digest": image.digest,
                    "size": self._size(repository, image.digest, image.media_type),
                    "platform": {"os": image.os, "architecture": image.architecture},
                }
                for image in images
            ],
        }
        body = json.dumps(index, indent=2).encode()
        digest = self.push_manifest(repository, tag, body, media_type)
        return PushedIndex(repository, digest, media_type, tuple(images))

    def _size(self, repository: str, digest: str, media_type: str) -> int:
        response = self.client.get(
            f"{self.server.url}/v2/{repository}/manifests/{digest}",
            headers=self._headers(repository, Accept=media_type),
        )
        assert response.status_code == 200, (response.status_code, response.text)
        return len(response.content)


@contextmanager
def silent_listener() -> Iterator[int]:
    """A loopback port that accepts TCP connections (the kernel does) but never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        port: int = sock.getsockname()[1]
        yield port


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    return free_port()
