"""Tag-to-digest resolution against real registries (docker-registry on loopback) and a few fakes.

The registries are started once per session by the fixtures below (see ``registry_harness``);
tests that need one skip, saying what to install, when ``docker-registry`` is missing.  Each test
pushes into repositories of its own, so the shared registries never couple tests.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from patchlevel.errors import RegistryError
from patchlevel.registry import (
    MANIFEST_ACCEPT,
    Challenge,
    Credential,
    ResolutionStatus,
    load_docker_credentials,
    normalise_registry,
    parse_challenges,
    registry_url,
    resolve,
    uses_plain_http,
)
from registry_harness import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    SERVICE,
    Pusher,
    RegistryServer,
    TokenServer,
    basic_header,
    closed_port,
    digest_of,
    htpasswd_line,
    registry_binary,
    running_registry,
    silent_listener,
)

USER, PASSWORD = "alice", "correct horse"
JAN = datetime(2024, 1, 15, 8, 30, tzinfo=UTC)
JUN = datetime(2024, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
AUG = datetime(2024, 8, 2, tzinfo=UTC)


# -- fixtures: real registries -------------------------------------------------------------------


@pytest.fixture(scope="session")
def binary() -> str:
    found = registry_binary()
    if found is None:
        pytest.skip("docker-registry is not installed (apt-get install -y docker-registry; .ci/start-registry.sh)")
    return found


@pytest.fixture(scope="session")
def plain_registry(binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    with running_registry(binary, tmp_path_factory.mktemp("plain-registry")) as server:
        yield server


@pytest.fixture(scope="session")
def basic_registry(binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    line = htpasswd_line(USER, PASSWORD)
    if line is None:
        pytest.skip("htpasswd is not installed (apt-get install -y apache2-utils; .ci/start-registry.sh)")
    directory = tmp_path_factory.mktemp("basic-registry")
    (directory / "htpasswd").write_text(line + "\n")
    auth = {"htpasswd": {"realm": "patchlevel-test", "path": str(directory / "htpasswd")}}
    with running_registry(binary, directory, auth) as server:
        yield server


@pytest.fixture(scope="session")
def token_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenServer]:
    pytest.importorskip("cryptography", reason="the token service signs with cryptography (test extra)")
    service = TokenServer(tmp_path_factory.mktemp("token-service"), {USER: PASSWORD})
    service.start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def token_registry(
    binary: str, token_service: TokenServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RegistryServer]:
    with running_registry(binary, tmp_path_factory.mktemp("token-registry"), token_service.registry_auth()) as server:
        yield server


@pytest.fixture
def plain(plain_registry: RegistryServer) -> Iterator[Pusher]:
    pusher = Pusher(plain_registry)
    yield pusher
    pusher.close()


@pytest.fixture
def repo() -> str:
    return f"team/app-{uuid.uuid4().hex[:10]}"


def ref(server: RegistryServer, name: str) -> str:
    return f"{server.host}/{name}"


def write_docker_config(directory: Path, key: str, entry: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_text(json.dumps({"auths": {key: entry}, "credsStore": "desktop"}))
    return path


# -- real registry: tags, re-pushes, indexes ---------------------------------------------------------


def test_tag_resolves_to_the_pushed_digest(plain: Pusher, repo: str) -> None:
    image = plain.push_image(repo, "1.0", created=JAN)
    result = resolve([ref(plain.server, f"{repo}:1.0")])[ref(plain.server, f"{repo}:1.0")]
    assert result.status is ResolutionStatus.RESOLVED
    assert result.digest == image.digest
    assert result.media_type == OCI_MANIFEST
    assert result.created is None  # not asked for
    assert image.digest in result.reason


def test_docker_v2_manifest_resolves_with_its_media_type_and_created_date(plain: Pusher, repo: str) -> None:
    image = plain.push_image(repo, "v2", created=JAN, oci=False)
    result = resolve([ref(plain.server, f"{repo}:v2")], fetch_created=True)[ref(plain.server, f"{repo}:v2")]
    assert (result.status, result.digest, result.media_type) == (
        ResolutionStatus.RESOLVED,
        image.digest,
        DOCKER_MANIFEST,
    )
    assert result.created == JAN
    assert result.platform_digest is None


def test_repushed_tag_resolves_to_the_new_digest_and_new_created_date(plain: Pusher, repo: str) -> None:
    name = ref(plain.server, f"{repo}:stable")
    old = plain.push_image(repo, "stable", created=JAN)
    before = resolve([name], fetch_created=True)[name]
    patched = plain.push_image(repo, "stable", created=JUN)
    after = resolve([name], fetch_created=True)[name]
    assert old.digest != patched.digest
    assert (before.digest, before.created) == (old.digest, JAN)
    assert (after.digest, after.created) == (patched.digest, JUN)
    assert after.status is ResolutionStatus.RESOLVED


@pytest.mark.parametrize(("oci", "media_type"), [(True, OCI_INDEX), (False, DOCKER_LIST)])
def test_image_index_resolves_to_its_own_digest_and_the_amd64_created_date(
    plain: Pusher, repo: str, oci: bool, media_type: str
) -> None:
    arm = plain.push_image(repo, None, created=AUG, architecture="arm64", oci=oci)
    amd = plain.push_image(repo, None, created=JUN, architecture="amd64", oci=oci)
    index = plain.push_index(repo, "multi", [arm, amd], oci=oci)
    name = ref(plain.server, f"{repo}:multi")
    result = resolve([name], fetch_created=True)[name]
    assert (result.status, result.digest, result.media_type) == (
        ResolutionStatus.RESOLVED,
        index.digest,
        media_type,
    )
    assert (result.created, result.platform_digest) == (JUN, amd.digest)
    on_arm = resolve([name], fetch_created=True, platform="linux/arm64")[name]
    assert (on_arm.digest, on_arm.created, on_arm.platform_digest) == (index.digest, AUG, arm.digest)


def test_index_without_the_wanted_platform_uses_its_first_image_not_an_attestation(plain: Pusher, repo: str) -> None:
    attestation = plain.push_image(repo, None, created=None, os="unknown", architecture="unknown")
    s390x = plain.push_image(repo, None, created=AUG, architecture="s390x")
    arm = plain.push_image(repo, None, created=JUN, architecture="arm64")
    plain.push_index(repo, "odd", [attestation, s390x, arm])
    name = ref(plain.server, f"{repo}:odd")
    result = resolve([name], fetch_created=True)[name]
    assert (result.created, result.platform_digest) == (AUG, s390x.digest)


def test_missing_created_date_keeps_the_digest_and_says_why(plain: Pusher, repo: str) -> None:
    image = plain.push_image(repo, "undated", created=None)
    name = ref(plain.server, f"{repo}:undated")
    result = resolve([name], fetch_created=True)[name]
    assert (result.status, result.digest, result.created) == (ResolutionStatus.RESOLVED, image.digest, None)
    assert "no created date" in result.reason


def test_digest_reference_is_confirmed_and_an_unknown_digest_is_not_found(plain: Pusher, repo: str) -> None:
    image = plain.push_image(repo, "1", created=JAN)
    known = ref(plain.server, f"{repo}@{image.digest}")
    unknown = ref(plain.server, f"{repo}@sha256:{'0' * 64}")
    results = resolve([known, unknown], fetch_created=True)
    assert (results[known].status, results[known].digest, results[known].created) == (
        ResolutionStatus.RESOLVED,
        image.digest,
        JAN,
    )
    assert results[unknown].status is ResolutionStatus.NOT_FOUND


def test_tag_and_digest_reference_resolves_the_tag(plain: Pusher, repo: str) -> None:
    old = plain.push_image(repo, "1", created=JAN)
    new = plain.push_image(repo, "1", created=JUN)
    name = ref(plain.server, f"{repo}:1@{old.digest}")
    assert resolve([name])[name].digest == new.digest  # the pin is stale: the tag moved on


def test_untagged_reference_means_latest_and_is_resolved_once(plain: Pusher, repo: str) -> None:
    image = plain.push_image(repo, "latest", created=JAN)
    bare, explicit = ref(plain.server, repo), ref(plain.server, f"{repo}:latest")
    results = resolve([bare, explicit, bare])
    assert list(results) == [bare, explicit]
    assert results[bare] is results[explicit]
    assert results[bare].digest == image.digest


def test_missing_tag_is_not_found(plain: Pusher, repo: str) -> None:
    plain.push_image(repo, "1", created=JAN)
    name = ref(plain.server, f"{repo}:2")
    result = resolve([name])[name]
    assert result.status is ResolutionStatus.NOT_FOUND
    assert result.digest is None
    assert "the repository exists" in result.reason


def test_missing_repository_is_not_found(plain_registry: RegistryServer) -> None:
    name = ref(plain_registry, "nobody/pushed-this:1")
    result = resolve([name])[name]
    assert result.status is ResolutionStatus.NOT_FOUND
    assert "repository nobody/pushed-this not found" in result.reason


def test_twenty_references_resolve_concurrently(plain: Pusher, repo: str) -> None:
    pushed = {
        ref(plain.server, f"{repo}-{i % 4}:v{i}"): plain.push_image(
            f"{repo}-{i % 4}", f"v{i}", created=JAN, note=str(i)
        )
        for i in range(20)
    }
    started = time.monotonic()
    results = resolve(list(pushed), concurrency=5, fetch_created=True, timeout=10)
    assert time.monotonic() - started < 10
    assert {name: (r.status, r.digest, r.created) for name, r in results.items()} == {
        name: (ResolutionStatus.RESOLVED, image.digest, JAN) for name, image in pushed.items()
    }
    assert len({r.digest for r in results.values()}) == 20


def test_invalid_reference_is_an_error_resolution_beside_good_ones(plain: Pusher, repo: str) -> None:
    plain.push_image(repo, "1", created=JAN)
    good = ref(plain.server, f"{repo}:1")
    results = resolve(["UPPER/Case", "", good])
    assert results["UPPER/Case"].status is ResolutionStatus.ERROR
    assert "lower-case" in results["UPPER/Case"].reason
    assert results[""].status is ResolutionStatus.ERROR
    assert results[good].status is ResolutionStatus.RESOLVED


# -- real registry: Basic auth -------------------------------------------------------------------------


@pytest.fixture
def basic(basic_registry: RegistryServer) -> Iterator[Pusher]:
    pusher = Pusher(basic_registry, lambda _repo: basic_header(USER, PASSWORD))
    yield pusher
    pusher.close()


def test_basic_auth_registry_refuses_anonymous_callers(basic: Pusher, repo: str) -> None:
    basic.push_image(repo, "1", created=JAN)
    name = ref(basic.server, f"{repo}:1")
    result = resolve([name])[name]
    assert result.status is ResolutionStatus.UNAUTHORIZED
    assert "none are configured" in result.reason


def test_basic_auth_with_credentials_from_a_docker_config_file(basic: Pusher, repo: str, tmp_path: Path) -> None:
    image = basic.push_image(repo, "1", created=JAN)
    encoded = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    config = write_docker_config(tmp_path, basic.server.host, {"auth": encoded})
    name = ref(basic.server, f"{repo}:1")
    result = resolve([name], credentials=load_docker_credentials(config), fetch_created=True)[name]
    assert (result.status, result.digest, result.created) == (ResolutionStatus.RESOLVED, image.digest, JAN)


def test_basic_auth_with_username_and_password_from_docker_config_env(basic: Pusher, repo: str, tmp_path: Path) -> None:
    image = basic.push_image(repo, "1", created=JAN)
    write_docker_config(tmp_path / "dc", f"http://{basic.server.host}", {"username": USER, "password": PASSWORD})
    credentials = load_docker_credentials(environ={"DOCKER_CONFIG": str(tmp_path / "dc")})
    name = ref(basic.server, f"{repo}:1")
    assert resolve([name], credentials=credentials)[name].digest == image.digest


def test_basic_auth_with_wrong_credentials_is_unauthorized(basic: Pusher, repo: str) -> None:
    basic.push_image(repo, "1", created=JAN)
    name = ref(basic.server, f"{repo}:1")
    result = resolve([name], credentials={basic.server.host: Credential(USER, "wrong")})[name]
    assert result.status is ResolutionStatus.UNAUTHORIZED
    assert f"rejected the credentials of {USER!r}" in result.reason
    assert "wrong" not in result.reason


# -- real registry: Bearer token auth ----------------------------------------------------------------


@pytest.fixture
def token(token_registry: RegistryServer, token_service: TokenServer) -> Iterator[Pusher]:
    def authorization(repository: str) -> str:
        return "Bearer " + token_service.mint("pusher", [(repository, ["pull", "push"])])

    pusher = Pusher(token_registry, authorization)
    yield pusher
    pusher.close()


def test_bearer_token_for_an_anonymous_public_pull(token: Pusher, token_service: TokenServer) -> None:
    repository = f"public/app-{uuid.uuid4().hex[:10]}"
    image = token.push_image(repository, "1", created=JUN)
    name = ref(token.server, f"{repository}:1")
    result = resolve([name], fetch_created=True)[name]
    assert (result.status, result.digest, result.created) == (ResolutionStatus.RESOLVED, image.digest, JUN)
    asked = [r for r in token_service.requests if f"repository:{repository}:pull" in r.scopes]
    assert asked
    assert {(r.user, r.service, r.status) for r in asked} == {(None, SERVICE, 200)}


def test_bearer_token_without_pull_access_is_unauthorized(token: Pusher) -> None:
    repository = f"private/app-{uuid.uuid4().hex[:10]}"
    token.push_image(repository, "1", created=JUN)
    name = ref(token.server, f"{repository}:1")
    result = resolve([name])[name]
    assert result.status is ResolutionStatus.UNAUTHORIZED
    assert "anonymous callers no pull access" in result.reason


def test_bearer_token_fetched_with_credentials(token: Pusher, token_service: TokenServer, repo: str) -> None:
    image = token.push_image(repo, "1", created=JUN)
    name = ref(token.server, f"{repo}:1")
    credentials = {token.server.host: Credential(USER, PASSWORD)}
    result = resolve([name], credentials=credentials, fetch_created=True)[name]
    assert (result.status, result.digest, result.created) == (ResolutionStatus.RESOLVED, image.digest, JUN)
    assert any(r.user == USER and f"repository:{repo}:pull" in r.scopes for r in token_service.requests)


def test_bearer_token_service_rejecting_credentials_is_unauthorized(token: Pusher, repo: str) -> None:
    token.push_image(repo, "1", created=JUN)
    name = ref(token.server, f"{repo}:1")
    result = resolve([name], credentials={token.server.host: Credential(USER, "wrong")})[name]
    assert result.status is ResolutionStatus.UNAUTHORIZED
    assert "token service 127.0.0.1:" in result.reason and "rejected" in result.reason


def test_one_token_serves_every_tag_of_a_repository(token: Pusher, token_service: TokenServer, repo: str) -> None:
    names = [ref(token.server, f"{repo}:{tag}") for tag in ("a", "b", "c")]
    for tag in ("a", "b", "c"):
        token.push_image(repo, tag, created=JAN, note=tag)
    results = resolve(
        names, concurrency=1, fetch_created=True, credentials={token.server.host: Credential(USER, PASSWORD)}
    )
    assert {r.status for r in results.values()} == {ResolutionStatus.RESOLVED}
    assert len([r for r in token_service.requests if f"repository:{repo}:pull" in r.scopes]) == 1


# -- unreachable registries ------------------------------------------------------------------------


def test_refused_connection_is_unreachable_at_once() -> None:
    name = f"127.0.0.1:{closed_port()}/team/app:1"
    started = time.monotonic()
    result = resolve([name], timeout=5)[name]
    assert time.monotonic() - started < 5
    assert result.status is ResolutionStatus.UNREACHABLE
    assert "cannot connect" in result.reason


def test_registry_that_never_answers_is_unreachable_within_the_timeout() -> None:
    timeout = 1.0
    with silent_listener() as port:
        names = [f"127.0.0.1:{port}/team/app-{i}:1" for i in range(6)]
        started = time.monotonic()
        results = resolve(names, timeout=timeout, concurrency=2)
        elapsed = time.monotonic() - started
    assert elapsed < timeout + 1  # the first two time out together; the rest are not asked again
    assert {r.status for r in results.values()} == {ResolutionStatus.UNREACHABLE}
    assert all("no answer from 127.0.0.1" in r.reason for r in results.values())


# -- fakes: what a local registry cannot show --------------------------------------------------------

FakeHandler = Callable[[httpx.Request], httpx.Response]


def manifest_body() -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": None, "layers": []}).encode()


def test_head_without_digest_header_falls_back_to_hashing_the_manifest() -> None:
    body = manifest_body()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        assert request.headers["accept"] == MANIFEST_ACCEPT
        return httpx.Response(200, content=b"" if request.method == "HEAD" else body)

    result = resolve(["registry.example.com/team/app:1"], transport=httpx.MockTransport(handler))[
        "registry.example.com/team/app:1"
    ]
    assert seen == ["HEAD", "GET"]
    assert (result.status, result.digest, result.media_type) == (
        ResolutionStatus.RESOLVED,
        digest_of(body),
        OCI_MANIFEST,
    )


def test_remote_registries_use_https_and_insecure_ones_plain_http() -> None:
    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(200, headers={"Docker-Content-Digest": digest_of(b"x")})

    refs = ["registry.example.com/a:1", "nginx:1.25", "insecure.example.com:5000/b:1", "10.1.2.3:5000/c:1"]
    resolve(
        refs,
        insecure_registries=["insecure.example.com", "10.0.0.0/8"],
        transport=httpx.MockTransport(handler),
    )
    assert sorted(urls) == sorted(
        [
            "https://registry.example.com/v2/a/manifests/1",
            "https://registry-1.docker.io/v2/library/nginx/manifests/1.25",
            "http://insecure.example.com:5000/v2/b/manifests/1",
            "http://10.1.2.3:5000/v2/c/manifests/1",
        ]
    )


def hub_like(token_requests: list[httpx.Request]) -> FakeHandler:
    """Docker Hub's shape: a Bearer challenge naming auth.example.com, tokens for anyone."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example.com":
            token_requests.append(request)
            return httpx.Response(200, json={"access_token": "tok-123", "expires_in": 300})
        if request.headers.get("authorization") != "Bearer tok-123":
            challenge = (
                'Bearer realm="https://auth.example.com/token",service="registry.example.com",'
                'scope="repository:library/nginx:pull"'
            )
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        return httpx.Response(200, headers={"Docker-Content-Digest": digest_of(b"nginx"), "Content-Type": OCI_INDEX})

    return handler


def test_bearer_challenge_is_answered_with_a_token_from_the_realm() -> None:
    token_requests: list[httpx.Request] = []
    name = "registry.example.com/library/nginx:1.25"
    result = resolve([name], transport=httpx.MockTransport(hub_like(token_requests)))[name]
    assert (result.status, result.digest, result.media_type) == (
        ResolutionStatus.RESOLVED,
        digest_of(b"nginx"),
        OCI_INDEX,
    )
    [asked] = token_requests
    assert asked.url.scheme == "https"
    assert dict(asked.url.params) == {
        "scope": "repository:library/nginx:pull",
        "service": "registry.example.com",
    }
    assert "authorization" not in asked.headers


def test_bearer_token_request_carries_basic_credentials_over_https() -> None:
    token_requests: list[httpx.Request] = []
    name = "registry.example.com/library/nginx:1.25"
    credentials = {"https://registry.example.com/": Credential("bob", "pw")}
    resolve([name], credentials=credentials, transport=httpx.MockTransport(hub_like(token_requests)))
    assert token_requests[0].headers["authorization"] == basic_header("bob", "pw")


def test_credentials_are_not_sent_to_a_plain_http_token_realm() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="http://auth.example.com/token"'})

    name = "registry.example.com/app:1"
    result = resolve(
        [name],
        credentials={"registry.example.com": Credential("bob", "pw")},
        transport=httpx.MockTransport(handler),
    )[name]
    assert result.status is ResolutionStatus.UNAUTHORIZED
    assert "plain-HTTP token service" in result.reason
    assert all("authorization" not in r.headers for r in sent)


@pytest.mark.parametrize(
    ("code", "status", "words"),
    [
        (403, ResolutionStatus.UNAUTHORIZED, "denied access"),
        (429, ResolutionStatus.ERROR, "rate limiting"),
        (503, ResolutionStatus.ERROR, "HTTP 503"),
    ],
)
def test_registry_refusals_and_failures_get_their_own_status(code: int, status: ResolutionStatus, words: str) -> None:
    name = "registry.example.com/app:1"
    result = resolve([name], transport=httpx.MockTransport(lambda _request: httpx.Response(code)))[name]
    assert result.status is status
    assert words in result.reason


def test_config_blob_that_does_not_match_its_digest_gives_no_created_date() -> None:
    config = json.dumps({"created": "2024-01-01T00:00:00Z"}).encode()
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {"digest": digest_of(b"other"), "size": 5}}
    ).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        if "/blobs/" in request.url.path:
            return httpx.Response(200, content=config)
        return httpx.Response(200, content=manifest, headers={"Docker-Content-Digest": digest_of(manifest)})

    name = "registry.example.com/app:1"
    result = resolve([name], fetch_created=True, transport=httpx.MockTransport(handler))[name]
    assert (result.status, result.digest, result.created) == (
        ResolutionStatus.RESOLVED,
        digest_of(manifest),
        None,
    )
    assert "does not match its digest" in result.reason


def test_no_more_than_concurrency_requests_are_in_flight() -> None:
    lock = threading.Lock()
    in_flight, peak = 0, 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.05)
        with lock:
            in_flight -= 1
        return httpx.Response(200, headers={"Docker-Content-Digest": digest_of(request.url.path.encode())})

    names = [f"registry.example.com/app:{i}" for i in range(20)]
    results = resolve(names, concurrency=4, transport=httpx.MockTransport(handler))
    assert {r.status for r in results.values()} == {ResolutionStatus.RESOLVED}
    assert 2 <= peak <= 4


def test_resolve_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="timeout"):
        resolve(["nginx"], timeout=0)
    with pytest.raises(ValueError, match="concurrency"):
        resolve(["nginx"], concurrency=0)


def test_nothing_to_resolve_makes_no_client() -> None:
    assert resolve([]) == {}


# -- pure helpers ---------------------------------------------------------------------------------


def test_parse_challenges_reads_docker_hub_and_several_challenges() -> None:
    hub = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'
    )
    assert parse_challenges(hub) == [
        Challenge(
            "bearer",
            {
                "realm": "https://auth.docker.io/token",
                "service": "registry.docker.io",
                "scope": "repository:library/nginx:pull",
            },
        )
    ]
    both = 'Basic realm="a \\"quoted\\" realm", Bearer realm="https://x/t",error="insufficient_scope"'
    assert parse_challenges(both) == [
        Challenge("basic", {"realm": 'a "quoted" realm'}),
        Challenge("bearer", {"realm": "https://x/t", "error": "insufficient_scope"}),
    ]
    assert parse_challenges("") == []


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("http://127.0.0.1:5000", "127.0.0.1:5000"),
        ("Quay.IO", "quay.io"),
        ("602401143452.dkr.ecr.us-east-1.amazonaws.com", "602401143452.dkr.ecr.us-east-1.amazonaws.com"),
    ],
)
def test_registry_names_are_normalised_for_credential_lookup(name: str, key: str) -> None:
    assert normalise_registry(name) == key


@pytest.mark.parametrize(
    ("registry", "insecure", "plain_http"),
    [
        ("localhost:5000", (), True),
        ("127.0.0.1:5000", (), True),
        ("127.8.9.10", (), True),
        ("[::1]:5000", (), True),
        ("quay.io", (), False),
        ("10.0.0.5:5000", (), False),
        ("10.0.0.5:5000", ("10.0.0.0/8",), True),
        ("registry.lan:5000", ("registry.lan:5000",), True),
        ("registry.lan:5000", ("registry.lan",), True),
        ("registry.lan:5000", ("other.lan",), False),
    ],
)
def test_plain_http_only_for_loopback_and_insecure_registries(
    registry: str, insecure: tuple[str, ...], plain_http: bool
) -> None:
    assert uses_plain_http(registry, insecure) is plain_http
    assert registry_url(registry, insecure).startswith("http://" if plain_http else "https://")


def test_docker_config_entries_and_default_location(tmp_path: Path) -> None:
    encoded = base64.b64encode(b"bob:pa:ss").decode()
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": encoded},
                    "ghcr.io": {"username": "carol", "password": "x"},
                    "helper.example.com": {},
                    "token.example.com": {"identitytoken": "abc"},
                },
                "credHelpers": {"123.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"},
            }
        )
    )
    credentials = load_docker_credentials(environ={}, home=tmp_path)
    assert credentials == {"docker.io": Credential("bob", "pa:ss"), "ghcr.io": Credential("carol", "x")}
    assert "pa:ss" not in repr(credentials)


def test_missing_default_docker_config_means_no_credentials(tmp_path: Path) -> None:
    assert load_docker_credentials(environ={}, home=tmp_path) == {}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "cannot read"),
        ("{not json", "not valid"),
        (json.dumps({"auths": {"r.example.com": {"auth": "bm9jb2xvbg=="}}}), "not base64 of user:password"),
        (json.dumps({"auths": {"r.example.com": {"auth": "%%%"}}}), "not base64 of user:password"),
    ],
)
def test_unusable_docker_config_raises_a_registry_error(tmp_path: Path, content: str | None, words: str) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(RegistryError, match=words):
        load_docker_credentials(path)
