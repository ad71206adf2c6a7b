"""Resolve image tags to registry digests over the OCI distribution API (evidence for 10.3).

A tag is resolved with ``HEAD /v2/<repository>/manifests/<tag>`` and the registry's
``Docker-Content-Digest`` header; when a registry leaves that header out, the manifest is
fetched and hashed.  With ``fetch_created`` the manifest (for an image index: the manifest of
the wanted platform) and its config blob are read for the image's ``created`` date.

Authentication follows the distribution protocol: every request goes out anonymously first; a
``401`` with a ``Bearer`` challenge is answered with a token from the challenge's realm (asked
with Basic credentials when some are configured for the registry), a ``Basic`` challenge with
the credentials themselves.  Credentials come from a docker ``config.json``
(``load_docker_credentials``).  Credential helpers (``credsStore``, ``credHelpers``) are not
run: registries that need them are queried anonymously and come back ``unauthorized``.

Like docker, registries on loopback addresses and those listed as insecure are spoken to over
plain HTTP; every other registry over HTTPS.

``resolve`` never raises for one image: each reference gets a ``Resolution`` whose status
says what happened and whose reason says why, in one line.  Nothing here keeps state between
calls; the HTTP client lives for one ``resolve`` call.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import os
import re
import ssl
import threading
import time
from collections.abc import Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import httpx
import msgspec

from patchlevel import __version__
from patchlevel.errors import RegistryError
from patchlevel.imageref import DOCKER_HUB, ImageRef, InvalidReferenceError, parse_digest, parse_reference
from patchlevel.model import Resolution, ResolutionStatus
from patchlevel.timestamps import ACCEPTED, shown, timestamp

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST))

DEFAULT_TAG = "latest"
DEFAULT_PLATFORM = "linux/amd64"
_DOCKER_HUB_API = "registry-1.docker.io"
_DOCKER_HUB_ALIASES = frozenset({DOCKER_HUB, "index.docker.io", _DOCKER_HUB_API, "registry.hub.docker.com"})
_MANIFEST_LIMIT = 4 * 1024 * 1024  # distribution refuses larger manifests
_CONFIG_LIMIT = 16 * 1024 * 1024
_ERROR_BODY_LIMIT = 256 * 1024


@dataclass(frozen=True, slots=True)
class Credential:
    username: str
    password: str = field(repr=False)


def normalise_registry(name: str) -> str:
    """The key a registry is known by: ``https://index.docker.io/v1/`` is ``docker.io``."""
    text = name.strip()
    for scheme in ("https://", "http://"):
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]
            break
    text = text.split("/", 1)[0].lower()
    return DOCKER_HUB if text in _DOCKER_HUB_ALIASES else text


class _AuthEntry(msgspec.Struct):
    auth: str = ""
    username: str = ""
    password: str = ""


class _DockerConfig(msgspec.Struct):
    auths: dict[str, _AuthEntry] = msgspec.field(default_factory=dict)


def load_docker_credentials(
    path: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> dict[str, Credential]:
    """Registry credentials from a docker ``config.json``, keyed by ``normalise_registry``.

    ``path`` when given must exist; otherwise ``$DOCKER_CONFIG/config.json`` or
    ``~/.docker/config.json`` is read, and a missing file means no credentials.  An entry gives
    ``auth`` (base64 of ``user:password``) or ``username`` and ``password``; entries with
    neither (identity tokens, helper-managed registries) are skipped.
    """
    if path is None:
        env = os.environ if environ is None else environ
        folder = Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else (home or Path.home()) / ".docker"
        path = folder / "config.json"
        if not path.is_file():
            return {}
    try:
        config = msgspec.json.decode(path.read_bytes(), type=_DockerConfig)
    except OSError as error:
        raise RegistryError(f"cannot read docker config {path}: {error.strerror}") from None
    except msgspec.DecodeError as error:
        raise RegistryError(f"docker config {path} is not valid: {error}", "fix or move the file") from None
    credentials: dict[str, Credential] = {}
    for key, entry in config.auths.items():
        if entry.auth:
            try:
                decoded = base64.b64decode(entry.auth, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            username, colon, password = decoded.partition(":")
            if not colon or not username:
                raise RegistryError(
                    f"docker config {path}: auths[{key!r}].auth is not base64 of user:password",
                    "log in again to rewrite it",
                )
            credentials[normalise_registry(key)] = Credential(username, password)
        elif entry.username and entry.password:
            credentials[normalise_registry(key)] = Credential(entry.username, entry.password)
    return credentials


def _host(registry: str) -> str:
    """The host part of ``host[:port]`` or ``[v6]:port``, without brackets."""
    if registry.startswith("["):
        return registry[1 : registry.find("]")]
    return registry.rsplit(":", 1)[0] if ":" in registry else registry


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def uses_plain_http(registry: str, insecure_registries: Collection[str] = ()) -> bool:
    """True for loopback registries and those listed as insecure (``host``, ``host:port`` or a CIDR)."""
    key = normalise_registry(registry)
    host = _host(key)
    ip = _ip(host)
    if host == "localhost" or (ip is not None and ip.is_loopback):
        return True
    for entry in insecure_registries:
        if "/" in entry and "://" not in entry:
            try:
                network = ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                continue
            if ip is not None and ip in network:
                return True
        elif normalise_registry(entry) in (key, host):
            return True
    return False


def registry_url(registry: str, insecure_registries: Collection[str] = ()) -> str:
    """Base URL of a registry's API: ``https://registry-1.docker.io`` for docker.io."""
    key = normalise_registry(registry)
    host = _DOCKER_HUB_API if key == DOCKER_HUB else key
    scheme = "http" if uses_plain_http(key, insecure_registries) else "https"
    return f"{scheme}://{host}"


@dataclass(frozen=True, slots=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: scheme (lower-case) and parameters."""

    scheme: str
    params: Mapping[str, str]


_SCHEME = re.compile(r"[\s,]*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?=[\s,]|$)")
_PARAM = re.compile(r'[\s,]*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))')


def parse_challenges(header: str) -> list[Challenge]:
    """Parse a ``WWW-Authenticate`` value (several challenges may share it)."""
    challenges: list[Challenge] = []
    pos = 0
    while (scheme := _SCHEME.match(header, pos)) is not None:
        pos = scheme.end()
        params: dict[str, str] = {}
        while (param := _PARAM.match(header, pos)) is not None:
            quoted, bare = param.group(2), param.group(3)
            params[param.group(1).lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
            pos = param.end()
        challenges.append(Challenge(scheme.group(1).lower(), params))
    return challenges


# The fields we read from registry JSON; everything else is ignored.
class _Descriptor(msgspec.Struct, rename="camel"):
    digest: str
    media_type: str = ""


class _Platform(msgspec.Struct):
    os: str = ""
    architecture: str = ""
    variant: str = ""


class _IndexEntry(msgspec.Struct, rename="camel"):
    digest: str
    media_type: str = ""
    platform: _Platform | None = None


class _Manifest(msgspec.Struct, rename="camel"):
    media_type: str = ""
    config: _Descriptor | None = None
    manifests: list[_IndexEntry] | None = None


class _ImageConfig(msgspec.Struct):
    created: str | None = None


class _TokenReply(msgspec.Struct):
    token: str = ""
    access_token: str = ""


class _ErrorEntry(msgspec.Struct):
    code: str = ""
    message: str = ""


class _ErrorReply(msgspec.Struct):
    errors: list[_ErrorEntry] = msgspec.field(default_factory=list)


_T = TypeVar("_T")


class _Failure(Exception):
    """Why one image could not be resolved; turned into its Resolution, never raised out."""

    def __init__(self, status: ResolutionStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(slots=True)
class _Budget:
    """The time one image may take, over all its requests."""

    deadline: float
    first_request: bool = True


def _decode(body: bytes, kind: type[_T], what: str) -> _T:
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.DecodeError as error:
        raise _Failure(ResolutionStatus.ERROR, f"unreadable {what}: {error}") from None


def _media_type(response: httpx.Response) -> str | None:
    value = response.headers.get("content-type", "").split(";", 1)[0].strip()
    return value or None


def _header_digest(response: httpx.Response) -> str | None:
    value = response.headers.get("docker-content-digest", "").strip()
    try:
        return parse_digest(value)
    except InvalidReferenceError:
        return None


def _content_digest(body: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"


def _parse_created(value: str) -> datetime:
    """The config's ``created`` in UTC; a value that is no time (or one UTC cannot hold) leaves the image undated."""
    when = timestamp(value)
    if when is None:
        raise _Failure(ResolutionStatus.ERROR, f"unreadable created date {shown(value)}: not {ACCEPTED}")
    return when


def _pick_platform(entries: list[_IndexEntry], platform: str) -> _IndexEntry | None:
    """The entry for ``os/arch[/variant]``; else the first real image (attestations are unknown/unknown)."""
    wanted_os, _, rest = platform.partition("/")
    wanted_arch, _, wanted_variant = rest.partition("/")
    for entry in entries:
        p = entry.platform
        if (
            p is not None
            and p.os == wanted_os
            and p.architecture == wanted_arch
            and (not wanted_variant or p.variant == wanted_variant)
        ):
            return entry
    for entry in entries:
        if entry.platform is None or entry.platform.os != "unknown":
            return entry
    return entries[0] if entries else None


def _describe(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[-1] if text else type(error).__name__


class _Session:
    """Connections, tokens and registry health shared by the images of one ``resolve`` call."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        timeout: float,
        insecure_registries: Collection[str],
        credentials: Mapping[str, Credential],
        fetch_created: bool,
        platform: str,
    ) -> None:
        self._client = client
        self._timeout = timeout
        self._insecure = tuple(insecure_registries)
        self._credentials = {normalise_registry(k): v for k, v in credentials.items()}
        self._fetch_created = fetch_created
        self._platform = platform
        self._lock = threading.Lock()
        self._auth: dict[tuple[str, str], str] = {}  # (registry, scope or "*") -> Authorization
        self._challenges: dict[str, Challenge] = {}  # registry -> the challenge it last sent
        self._down: dict[str, str] = {}  # registry -> why it is unreachable

    # -- one image ---------------------------------------------------------------------------

    def resolve_one(self, ref: ImageRef) -> Resolution:
        budget = _Budget(time.monotonic() + self._timeout)
        if ref.tag is not None:
            target, shown = ref.tag, f"{ref.name}:{ref.tag}"
        elif ref.digest is not None:
            target, shown = ref.digest, f"{ref.name}@{ref.digest}"
        else:
            target, shown = DEFAULT_TAG, f"{ref.name}:{DEFAULT_TAG}"
        path = f"/v2/{ref.repository}/manifests/{target}"
        body: bytes | None = None
        try:
            response, _ = self._fetch(ref, "HEAD", path, budget, accept=MANIFEST_ACCEPT, limit=0)
            digest = _header_digest(response) if response.status_code == 200 else None
            if response.status_code == 404:
                raise self._not_found(ref, shown, budget)
            if response.status_code in (403, 429) or response.status_code >= 500:
                self._expect_ok(response, ref, shown)
            if digest is None and response.status_code == 200 and target == ref.digest:
                digest = ref.digest  # a pinned digest the registry confirmed without repeating it
            media_type = _media_type(response)
            if digest is None:  # HEAD refused, or silent about the digest: read and hash the manifest
                response, body = self._fetch(ref, "GET", path, budget, accept=MANIFEST_ACCEPT, limit=_MANIFEST_LIMIT)
                if response.status_code == 404:
                    raise self._not_found(ref, shown, budget)
                self._expect_ok(response, ref, shown)
                digest = _header_digest(response) or _content_digest(body)
                media_type = _media_type(response) or _decode(body, _Manifest, "manifest").media_type or None
        except _Failure as failure:
            return Resolution(failure.status, failure.reason)
        resolution = Resolution(ResolutionStatus.RESOLVED, f"{shown} is {digest}", digest, media_type)
        if not self._fetch_created:
            return resolution
        try:
            created, platform_digest = self._created(ref, digest, body, media_type, budget)
        except _Failure as failure:
            return replace(resolution, reason=f"{resolution.reason}; created date unavailable: {failure.reason}")
        return replace(resolution, created=created, platform_digest=platform_digest)

    def _created(
        self, ref: ImageRef, digest: str, body: bytes | None, media_type: str | None, budget: _Budget
    ) -> tuple[datetime, str | None]:
        if body is None:
            body, media_type = self._manifest(ref, digest, budget)
        manifest = _decode(body, _Manifest, "manifest")
        platform_digest: str | None = None
        if manifest.manifests is not None:
            entry = _pick_platform(manifest.manifests, self._platform)
            if entry is None:
                raise _Failure(ResolutionStatus.ERROR, "the image index lists no manifests")
            platform_digest = self._valid_digest(entry.digest, "index entry")
            body, media_type = self._manifest(ref, platform_digest, budget)
            manifest = _decode(body, _Manifest, "manifest")
            if manifest.manifests is not None:
                raise _Failure(ResolutionStatus.ERROR, "nested image indexes are not supported")
        if manifest.config is None:
            kind = media_type or manifest.media_type or "unknown media type"
            raise _Failure(ResolutionStatus.ERROR, f"the manifest ({kind}) names no config blob")
        config_digest = self._valid_digest(manifest.config.digest, "config")
        path = f"/v2/{ref.repository}/blobs/{config_digest}"
        response, blob = self._fetch(ref, "GET", path, budget, accept=None, limit=_CONFIG_LIMIT)
        self._expect_ok(response, ref, f"config blob {config_digest}")
        algorithm = config_digest.split(":", 1)[0]
        if _content_digest(blob, algorithm) != config_digest:
            raise _Failure(ResolutionStatus.ERROR, f"config blob does not match its digest {config_digest}")
        config = _decode(blob, _ImageConfig, "image config")
        if not config.created:
            raise _Failure(ResolutionStatus.ERROR, "the image config has no created date")
        return _parse_created(config.created), platform_digest

    def _manifest(self, ref: ImageRef, digest: str, budget: _Budget) -> tuple[bytes, str | None]:
        path = f"/v2/{ref.repository}/manifests/{digest}"
        response, body = self._fetch(ref, "GET", path, budget, accept=MANIFEST_ACCEPT, limit=_MANIFEST_LIMIT)
        self._expect_ok(response, ref, f"manifest {digest}")
        return body, _media_type(response)

    @staticmethod
    def _valid_digest(value: str, what: str) -> str:
        try:
            return parse_digest(value)
        except InvalidReferenceError:
            raise _Failure(ResolutionStatus.ERROR, f"the {what} digest {value!r} is not valid") from None

    def _not_found(self, ref: ImageRef, shown: str, budget: _Budget) -> _Failure:
        """Tell a missing repository from a missing tag by listing (at most one of) its tags."""
        path = f"/v2/{ref.repository}/tags/list?n=1"
        code, status = "", 0
        try:
            response, body = self._fetch(ref, "GET", path, budget, accept=None, limit=_ERROR_BODY_LIMIT)
            status = response.status_code
            if status == 404:
                errors = msgspec.json.decode(body, type=_ErrorReply).errors
                code = errors[0].code if errors else ""
        except (_Failure, msgspec.DecodeError):
            pass
        if code == "NAME_UNKNOWN":
            return _Failure(ResolutionStatus.NOT_FOUND, f"repository {ref.repository} not found on {ref.registry}")
        if status == 200:
            return _Failure(ResolutionStatus.NOT_FOUND, f"{shown} not found (the repository exists)")
        return _Failure(ResolutionStatus.NOT_FOUND, f"{shown} not found (HTTP 404)")

    @staticmethod
    def _expect_ok(response: httpx.Response, ref: ImageRef, what: str) -> None:
        status = response.status_code
        if status == 200:
            return
        if status == 403:
            raise _Failure(
                ResolutionStatus.UNAUTHORIZED, f"{ref.registry} denied access to {ref.repository} (HTTP 403)"
            )
        if status == 404:
            raise _Failure(ResolutionStatus.ERROR, f"{what} disappeared from {ref.registry} (HTTP 404)")
        if status == 429:
            raise _Failure(ResolutionStatus.ERROR, f"{ref.registry} is rate limiting requests (HTTP 429)")
        raise _Failure(ResolutionStatus.ERROR, f"{ref.registry} answered HTTP {status} for {what}")

    # -- authentication ----------------------------------------------------------------------

    def _fetch(
        self, ref: ImageRef, method: str, path: str, budget: _Budget, *, accept: str | None, limit: int
    ) -> tuple[httpx.Response, bytes]:
        """One request to the registry API, answering an authentication challenge once."""
        registry = normalise_registry(ref.registry)
        scope = f"repository:{ref.repository}:pull"
        url = registry_url(registry, self._insecure) + path
        headers = {"Accept": accept} if accept else {}
        authorization = self._known_authorization(ref, registry, scope, budget)
        if authorization:
            headers["Authorization"] = authorization
        response, body = self._send(registry, method, url, headers, budget, limit)
        if response.status_code != 401:
            return response, body
        headers["Authorization"] = self._answer(ref, registry, scope, response, budget)
        response, body = self._send(registry, method, url, headers, budget, limit)
        if response.status_code == 401:
            raise _Failure(ResolutionStatus.UNAUTHORIZED, self._refusal(ref, registry, response))
        return response, body

    def _known_authorization(self, ref: ImageRef, registry: str, scope: str, budget: _Budget) -> str | None:
        """Authorization from an earlier exchange with this registry, so most images need no 401 round."""
        with self._lock:
            cached = self._auth.get((registry, scope)) or self._auth.get((registry, "*"))
            challenge = self._challenges.get(registry)
        if cached or challenge is None or challenge.scheme != "bearer":
            return cached
        return self._answer_bearer(ref, registry, scope, challenge, budget)

    def _answer(self, ref: ImageRef, registry: str, scope: str, response: httpx.Response, budget: _Budget) -> str:
        header = ", ".join(response.headers.get_list("www-authenticate"))
        challenges = parse_challenges(header)
        bearer = next((c for c in challenges if c.scheme == "bearer" and "realm" in c.params), None)
        if bearer is not None:
            with self._lock:
                self._challenges[registry] = bearer
            return self._answer_bearer(ref, registry, scope, bearer, budget)
        if any(c.scheme == "basic" for c in challenges):
            credential = self._credentials.get(registry)
            if credential is None:
                raise _Failure(
                    ResolutionStatus.UNAUTHORIZED,
                    f"{ref.registry} asks for credentials (Basic) and none are configured for it",
                )
            value = "Basic " + base64.b64encode(f"{credential.username}:{credential.password}".encode()).decode()
            with self._lock:
                self._challenges[registry] = Challenge("basic", {})
                self._auth[(registry, "*")] = value
            return value
        raise _Failure(
            ResolutionStatus.UNAUTHORIZED,
            f"{ref.registry} answered 401 without a challenge we can answer ({header or 'none'})",
        )

    def _answer_bearer(self, ref: ImageRef, registry: str, scope: str, challenge: Challenge, budget: _Budget) -> str:
        """Fetch a token from the challenge's realm for pull access to ``ref``'s repository."""
        try:
            realm = httpx.URL(challenge.params["realm"])
        except httpx.InvalidURL:
            realm = httpx.URL()
        if realm.scheme not in ("http", "https") or not realm.host:
            raise _Failure(ResolutionStatus.ERROR, f"{ref.registry} named an unusable token realm")
        realm_name = f"[{realm.host}]" if ":" in realm.host else realm.host
        if realm.port is not None:
            realm_name += f":{realm.port}"
        params = {"scope": scope}
        if challenge.params.get("service"):
            params["service"] = challenge.params["service"]
        headers: dict[str, str] = {}
        credential = self._credentials.get(registry)
        if credential is not None:
            if realm.scheme == "http" and not uses_plain_http(realm_name, self._insecure):
                raise _Failure(
                    ResolutionStatus.UNAUTHORIZED,
                    f"credentials for {ref.registry} are not sent to plain-HTTP token service {realm_name}",
                )
            userpass = f"{credential.username}:{credential.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(userpass).decode()
        response, body = self._send(registry, "GET", str(realm.copy_merge_params(params)), headers, budget, 64 * 1024)
        if response.status_code in (401, 403):
            if credential is None:
                reason = f"token service {realm_name} wants credentials; none are configured for {ref.registry}"
            else:
                reason = f"token service {realm_name} rejected the credentials of {credential.username!r}"
            raise _Failure(ResolutionStatus.UNAUTHORIZED, reason)
        if response.status_code != 200:
            raise _Failure(ResolutionStatus.ERROR, f"token service {realm_name} answered HTTP {response.status_code}")
        reply = _decode(body, _TokenReply, "token reply")
        token = reply.token or reply.access_token
        if not token:
            raise _Failure(ResolutionStatus.ERROR, f"token service {realm_name} returned no token")
        value = f"Bearer {token}"
        with self._lock:
            self._auth[(registry, scope)] = value
        return value

    def _refusal(self, ref: ImageRef, registry: str, response: httpx.Response) -> str:
        credential = self._credentials.get(registry)
        challenges = parse_challenges(", ".join(response.headers.get_list("www-authenticate")))
        error = next((c.params["error"] for c in challenges if "error" in c.params), "")
        if error == "insufficient_scope":
            who = f"user {credential.username!r}" if credential else "anonymous callers"
            return f"{ref.registry} grants {who} no pull access to {ref.repository} (private, or missing)"
        if credential is not None:
            return f"{ref.registry} rejected the credentials of {credential.username!r}"
        return f"{ref.registry} refused anonymous access to {ref.repository}; no credentials configured"

    # -- transport ---------------------------------------------------------------------------

    def _send(
        self, registry: str, method: str, url: str, headers: Mapping[str, str], budget: _Budget, limit: int
    ) -> tuple[httpx.Response, bytes]:
        with self._lock:
            down = self._down.get(registry)
        if down is not None:
            raise _Failure(ResolutionStatus.UNREACHABLE, f"{down} (not asked again)")
        remaining = budget.deadline - time.monotonic()
        if remaining <= 0:
            raise _Failure(ResolutionStatus.UNREACHABLE, f"{registry} took longer than {self._timeout:g} s")
        first, budget.first_request = budget.first_request, False
        request = self._client.build_request(method, url, headers=headers, timeout=httpx.Timeout(remaining))
        host = request.url.host
        try:
            response = self._client.send(request, stream=True)
            try:
                body = _read_capped(response, limit)
            finally:
                response.close()
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            reason = f"cannot connect to {host}: {_describe(error)}"
            self._mark_down(registry, reason)
            raise _Failure(ResolutionStatus.UNREACHABLE, reason) from None
        except httpx.TimeoutException:
            reason = f"no answer from {host} within {self._timeout:g} s"
            if first:  # it had the whole budget: the registry is down, not just slow for this image
                self._mark_down(registry, reason)
            raise _Failure(ResolutionStatus.UNREACHABLE, reason) from None
        except httpx.RequestError as error:
            raise _Failure(ResolutionStatus.ERROR, f"request to {host} failed: {_describe(error)}") from None
        return response, body

    def _mark_down(self, registry: str, reason: str) -> None:
        with self._lock:
            self._down.setdefault(registry, reason)


def _read_capped(response: httpx.Response, limit: int) -> bytes:
    if response.request.method == "HEAD":
        return b""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise _Failure(
                ResolutionStatus.ERROR,
                f"{response.url.host} sent more than {limit} bytes for {response.url.path}",
            )
        chunks.append(chunk)
    return b"".join(chunks)


def resolve(
    refs: Iterable[str],
    *,
    timeout: float = 10.0,
    concurrency: int = 8,
    insecure_registries: Collection[str] = (),
    credentials: Mapping[str, Credential] | None = None,
    fetch_created: bool = False,
    platform: str = DEFAULT_PLATFORM,
    verify: ssl.SSLContext | bool = True,
    transport: httpx.BaseTransport | None = None,
) -> dict[str, Resolution]:
    """Ask each image's registry what its tag points to now; one ``Resolution`` per reference.

    A reference without a tag or digest means ``latest``; one with only a digest is checked
    for existence; ``name:tag@digest`` resolves the tag (compare with the pinned digest).
    ``timeout`` bounds each image (all its requests together); at most ``concurrency``
    images are in flight.  A registry that refused connections or never answered is not
    asked again during the call.  ``platform`` (``os/arch[/variant]``) picks the manifest of
    an image index whose config gives ``created``.  ``transport`` replaces the network (tests).

    Docker Hub counts manifest GETs, not HEADs, against its pull rate limit: resolving costs
    nothing there, ``fetch_created`` one or two pulls per image.
    """
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, not {timeout}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    order: dict[str, None] = {}  # input order, without repeats
    results: dict[str, Resolution] = {}
    jobs: dict[tuple[str, str, str], list[str]] = {}
    parsed: dict[tuple[str, str, str], ImageRef] = {}
    for raw in refs:
        if raw in order:
            continue
        order[raw] = None
        try:
            ref = parse_reference(raw)
        except InvalidReferenceError as error:
            results[raw] = Resolution(ResolutionStatus.ERROR, str(error))
            continue
        key = (normalise_registry(ref.registry), ref.repository, ref.tag or ref.digest or DEFAULT_TAG)
        jobs.setdefault(key, []).append(raw)
        parsed.setdefault(key, ref)
    if jobs:
        client = httpx.Client(
            transport=transport,
            verify=verify,
            follow_redirects=True,
            limits=httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency),
            headers={"User-Agent": f"patchlevel/{__version__}"},
            timeout=timeout,
        )
        with client, ThreadPoolExecutor(min(concurrency, len(jobs)), "patchlevel-registry") as pool:
            session = _Session(
                client,
                timeout=timeout,
                insecure_registries=insecure_registries,
                credentials=credentials or {},
                fetch_created=fetch_created,
                platform=platform,
            )
            futures = {key: pool.submit(session.resolve_one, parsed[key]) for key in jobs}
            for key, future in futures.items():
                # When the registry answered: an answer is evidence of where a tag pointed on that day only.
                answer = replace(future.result(), resolved_at=datetime.now(UTC))
                for raw in jobs[key]:
                    results[raw] = answer
    return {raw: results[raw] for raw in order}
