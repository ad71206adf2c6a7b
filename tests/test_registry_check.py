"""patched_image_redeployed (and image_built_recently) against real registries: Debian's docker-registry on loopback.

Each test pushes its own images through the registry HTTP API (``registry_harness``), points a pod
at the digest it pushed, then moves the tag, and judges with what ``registry.resolve`` answers.
Tests skip, saying what to install, when ``docker-registry`` (or ``htpasswd``) is missing; CI runs
``bash .ci/start-registry.sh`` first.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from patchlevel.cli import main
from patchlevel.images import registry_references, running_images
from patchlevel.kube import Pod
from patchlevel.model import Finding, Status
from patchlevel.registry import Credential, load_docker_credentials, resolve
from registry_harness import (
    Pusher,
    RegistryServer,
    basic_header,
    htpasswd_line,
    registry_binary,
    running_registry,
    silent_listener,
)
from test_image_checks import context, run
from test_images import make_inventory, make_pod, pod_doc

USER, PASSWORD = "ci-bot", "s3cret patch"
JAN = datetime(2024, 1, 15, 8, 30, tzinfo=UTC)
JUN = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
AS_OF = date(2024, 7, 1)


@pytest.fixture(scope="module")
def binary() -> str:
    found = registry_binary()
    if found is None:
        pytest.skip("docker-registry is not installed (apt-get install -y docker-registry; .ci/start-registry.sh)")
    return found


@pytest.fixture(scope="module")
def plain(binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pusher]:
    with running_registry(binary, tmp_path_factory.mktemp("plain-registry")) as server:
        pusher = Pusher(server)
        yield pusher
        pusher.close()


@pytest.fixture(scope="module")
def basic(binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pusher]:
    line = htpasswd_line(USER, PASSWORD)
    if line is None:
        pytest.skip("htpasswd is not installed (apt-get install -y apache2-utils; .ci/start-registry.sh)")
    directory = tmp_path_factory.mktemp("basic-registry")
    (directory / "htpasswd").write_text(line + "\n")
    auth = {"htpasswd": {"realm": "patchlevel-test", "path": str(directory / "htpasswd")}}
    with running_registry(binary, directory, auth) as server:
        pusher = Pusher(server, lambda _repo: basic_header(USER, PASSWORD))
        yield pusher
        pusher.close()


@pytest.fixture
def repo() -> str:
    return f"shop/api-{uuid.uuid4().hex[:10]}"


def pod_on(server: RegistryServer, repository: str, tag: str, digest: str, name: str = "api") -> Pod:
    """A pod whose spec names ``repository:tag`` and whose kubelet reports ``digest`` running."""
    return make_pod(name, f"{server.host}/{repository}:{tag}", f"{server.host}/{repository}@{digest}")


def judge(
    pods: Sequence[Pod],
    *,
    timeout: float = 5.0,
    credentials: Mapping[str, Credential] | None = None,
) -> tuple[dict[str, Finding], dict[str, Finding]]:
    """What the CLI does for --registry-check, then the redeploy and age checks."""
    inventory = make_inventory(pods)
    answers = resolve(
        registry_references(running_images(inventory)), timeout=timeout, fetch_created=True, credentials=credentials
    )
    assert all(a.resolved_at is not None and a.resolved_at.date() >= date.today() for a in answers.values())
    # judged as an audit run on AS_OF would be: its answers came that day
    registry = {raw: replace(a, resolved_at=datetime(2024, 7, 1, 6, 0, tzinfo=UTC)) for raw, a in answers.items()}
    ctx = context(inventory, AS_OF, tag_resolutions=registry)
    return run("patched_image_redeployed", ctx), run("image_built_recently", ctx)


def subject(server: RegistryServer, repository: str, digest: str) -> str:
    return f"image/{server.host}/{repository}@{digest}"


# ------------------------------------------------------------------------------------------


def test_pushing_a_patched_image_under_the_running_tag_fails_with_both_digests(plain: Pusher, repo: str) -> None:
    old = plain.push_image(repo, "stable", created=JAN)
    pod = pod_on(plain.server, repo, "stable", old.digest)
    redeployed, age = judge([pod])
    current = redeployed[subject(plain.server, repo, old.digest)]
    assert (current.status, current.message) == (Status.PASS, "the tag still resolves to the running digest")
    built = age[subject(plain.server, repo, old.digest)]
    assert (built.status, built.evidence["created"], built.evidence["age_days"]) == (Status.PASS, "2024-01-15", 168)
    assert built.evidence["created_from"] == f"registry image config ({plain.server.host}/{repo}:stable)"

    patched = plain.push_image(repo, "stable", created=JUN, note="patched")
    redeployed, age = judge([pod])
    drift = redeployed[subject(plain.server, repo, old.digest)]
    assert drift.status is Status.FAIL
    assert drift.message == (
        f"the tag now resolves to a different image ({patched.digest[:19]}…, created 2024-06-01) than the running "
        "digest: the patched image is not redeployed"
    )
    (tag,) = drift.evidence["tags"]
    assert (tag["running_digest"], tag["registry_digest"], tag["registry_image_created"]) == (
        old.digest,
        patched.digest,
        "2024-06-01T12:00:00+00:00",
    )
    assert (drift.evidence["newer_digest"], drift.evidence["newer_image_created"]) == (
        patched.digest,
        "2024-06-01T12:00:00+00:00",
    )
    # the registry's created date now describes the newer image, not the one that runs
    assert age[subject(plain.server, repo, old.digest)].status is Status.UNKNOWN


def test_image_index_running_by_index_or_platform_digest_is_current(plain: Pusher, repo: str) -> None:
    arm = plain.push_image(repo, None, created=JUN, architecture="arm64")
    amd = plain.push_image(repo, None, created=JAN, architecture="amd64")
    index = plain.push_index(repo, "2.1", [arm, amd])
    pods = [
        pod_on(plain.server, repo, "2.1", index.digest, "by-index"),
        pod_on(plain.server, repo, "2.1", amd.digest, "by-platform"),
    ]
    redeployed, age = judge(pods)
    assert redeployed[subject(plain.server, repo, index.digest)].status is Status.PASS
    assert redeployed[subject(plain.server, repo, amd.digest)].status is Status.PASS
    assert age[subject(plain.server, repo, amd.digest)].evidence["created"] == "2024-01-15"


def test_missing_tag_is_unknown_with_the_registry_reason(plain: Pusher, repo: str) -> None:
    image = plain.push_image(repo, "1.0", created=JAN)
    pod = pod_on(plain.server, repo, "1.0-deleted", image.digest)
    redeployed, _ = judge([pod])
    found = redeployed[subject(plain.server, repo, image.digest)]
    assert found.status is Status.UNKNOWN
    assert found.message.startswith("where the tag points now is unknown (not_found: ")
    assert "the repository exists" in found.message


def test_unreachable_registry_is_unknown_within_the_timeout() -> None:
    with silent_listener() as port:
        pods = [
            make_pod(f"p{i}", f"127.0.0.1:{port}/shop/app-{i}:1", f"127.0.0.1:{port}/shop/app-{i}@sha256:{str(i) * 64}")
            for i in range(3)
        ]
        started = time.monotonic()
        redeployed, _ = judge(pods, timeout=1.0)
        elapsed = time.monotonic() - started
    assert elapsed < 3.0
    assert len(redeployed) == 3
    for found in redeployed.values():
        assert found.status is Status.UNKNOWN
        assert "(unreachable: no answer from 127.0.0.1" in found.message


def test_registry_asking_for_credentials_is_unknown_until_they_are_given(
    basic: Pusher, repo: str, tmp_path: Path
) -> None:
    old = basic.push_image(repo, "stable", created=JAN)
    basic.push_image(repo, "stable", created=JUN)
    pod = pod_on(basic.server, repo, "stable", old.digest)
    anonymous, _ = judge([pod])
    refused = anonymous[subject(basic.server, repo, old.digest)]
    assert refused.status is Status.UNKNOWN
    assert "(unauthorized: " in refused.message and "none are configured" in refused.message
    encoded = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {basic.server.host: {"auth": encoded}}}))
    with_credentials, _ = judge([pod], credentials=load_docker_credentials(config))
    assert with_credentials[subject(basic.server, repo, old.digest)].status is Status.FAIL


def test_cli_registry_check_end_to_end(
    basic: Pusher, repo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = basic.push_image(repo, "v3", created=JAN)
    patched = basic.push_image(repo, "v3", created=JUN)
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    doc = pod_doc("api", f"{basic.server.host}/{repo}:v3", f"{basic.server.host}/{repo}@{old.digest}")
    (snapshot / "pods.json").write_text(json.dumps({"apiVersion": "v1", "kind": "PodList", "items": [doc]}))
    (snapshot / "version.json").write_text(json.dumps({"gitVersion": "v1.31.3", "major": "1", "minor": "31"}))
    encoded = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    config = tmp_path / "docker" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"auths": {basic.server.host: {"auth": encoded}}}))
    out = tmp_path / "report.json"
    today = datetime.now(UTC).date().isoformat()  # the registry answers today: evidence for today only
    args = ["audit", str(snapshot), "--as-of", today, "--format", "json", "-o", str(out), "--fail-on", "never"]
    code = main([*args, "--registry-check", "--registry-timeout", "5", "--docker-config", str(config)])
    assert code == 0
    assert "registry check: 1 of 1 image references resolved" in capsys.readouterr().err
    findings = json.loads(out.read_text())["findings"]
    (drift,) = [f for f in findings if f["check"] == "patched_image_redeployed"]
    assert drift["status"] == "fail"
    assert drift["subject"] == subject(basic.server, repo, old.digest)
    assert drift["evidence"]["newer_digest"] == patched.digest
    assert set(drift["requirements"]) >= {"PCI-CG-10.3", "PCI-DSS-6.3.3"}


def test_an_answer_after_the_as_of_date_is_no_evidence_for_it(
    plain: Pusher, repo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The registry answers now: where the tag points today says nothing of where it pointed on 2024-07-01."""
    old = plain.push_image(repo, "v1", created=JAN)
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    doc = pod_doc("api", f"{plain.server.host}/{repo}:v1", f"{plain.server.host}/{repo}@{old.digest}")
    (snapshot / "pods.json").write_text(json.dumps({"apiVersion": "v1", "kind": "PodList", "items": [doc]}))
    (snapshot / "version.json").write_text(json.dumps({"gitVersion": "v1.31.3", "major": "1", "minor": "31"}))
    verdicts = {}
    for as_of in ("2024-07-01", datetime.now(UTC).date().isoformat()):
        out = tmp_path / f"report-{as_of}.json"
        args = ["audit", str(snapshot), "--as-of", as_of, "--format", "json", "-o", str(out), "--fail-on", "never"]
        assert main([*args, "--registry-check", "--registry-timeout", "5"]) == 0
        (drift,) = [f for f in json.loads(out.read_text())["findings"] if f["check"] == "patched_image_redeployed"]
        verdicts[as_of] = drift
    past = verdicts["2024-07-01"]
    assert past["status"] == "unknown", past["message"]
    assert "after the as-of date 2024-07-01; a later answer is no evidence for that date" in past["message"]
    (today,) = [v for k, v in verdicts.items() if k != "2024-07-01"]
    assert today["status"] == "pass" and today["message"] == "the tag still resolves to the running digest"
