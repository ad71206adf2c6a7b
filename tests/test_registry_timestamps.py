"""An image config whose ``created`` is no time, served by a real registry (issue 14).

``9999-12-31T23:00:00-05:00`` looks like RFC 3339 but its UTC conversion falls past year 9999: before, the
registry check died with "patchlevel: internal error: OverflowError" and wrote no report.  Now the tag
still resolves to its digest, the image is undated with the raw value in the reason, and the age check
says UNKNOWN.  Debian's docker-registry on loopback (``registry_harness``); skipped, saying what to
install, when it is missing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from patchlevel.cli import main
from patchlevel.model import ResolutionStatus
from patchlevel.registry import resolve
from registry_harness import OCI_MANIFEST, Pusher, digest_of, registry_binary, running_registry
from test_images import pod_doc

OVERFLOW = "9999-12-31T23:00:00-05:00"  # UTC: 10000-01-01T04:00 — no datetime holds it
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pusher]:
    binary = registry_binary()
    if binary is None:
        pytest.skip("docker-registry is not installed (apt-get install -y docker-registry; .ci/start-registry.sh)")
    with running_registry(binary, tmp_path_factory.mktemp("plain-registry")) as server:
        pusher = Pusher(server)
        yield pusher
        pusher.close()


def push_created(pusher: Pusher, repository: str, tag: str, created: str) -> str:
    """Push a one-layer OCI image whose config says ``created``, exactly as given; its manifest digest."""
    layer = f"{repository} {created}\n".encode()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "rootfs": {"type": "layers", "diff_ids": [digest_of(layer)]},
    }
    config_body = json.dumps(config).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG,
            "digest": pusher.push_blob(repository, config_body),
            "size": len(config_body),
        },
        "layers": [{"mediaType": OCI_LAYER, "digest": pusher.push_blob(repository, layer), "size": len(layer)}],
    }
    return pusher.push_manifest(repository, tag, json.dumps(manifest).encode(), OCI_MANIFEST)


@pytest.mark.parametrize("created", [OVERFLOW, "2024-06-01T12:00:00+24:00", "2024-02-30T00:00:00Z", "soon"])
def test_a_created_date_that_is_no_time_leaves_the_image_resolved_but_undated(plain: Pusher, created: str) -> None:
    repository = f"team/ovf-{uuid.uuid4().hex[:10]}"
    digest = push_created(plain, repository, "v1", created)
    name = f"{plain.server.host}/{repository}:v1"
    result = resolve([name], fetch_created=True, timeout=5)[name]
    assert (result.status, result.digest, result.created) == (ResolutionStatus.RESOLVED, digest, None)
    assert f"created date unavailable: unreadable created date {created!r}: not an RFC 3339" in result.reason


def test_a_readable_created_date_with_an_offset_is_read_in_utc(plain: Pusher) -> None:
    repository = f"team/ok-{uuid.uuid4().hex[:10]}"
    push_created(plain, repository, "v1", "2024-06-01T23:30:00.123456789-05:00")
    name = f"{plain.server.host}/{repository}:v1"
    result = resolve([name], fetch_created=True, timeout=5)[name]
    assert result.created == datetime(2024, 6, 2, 4, 30, 0, 123456, tzinfo=UTC)


def test_the_cli_writes_its_report_and_the_age_check_is_unknown(
    plain: Pusher, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repository = f"shop/ovf-{uuid.uuid4().hex[:10]}"
    digest = push_created(plain, repository, "v3", OVERFLOW)
    host = plain.server.host
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    doc = pod_doc("api", f"{host}/{repository}:v3", f"{host}/{repository}@{digest}")
    (snapshot / "pods.json").write_text(json.dumps({"apiVersion": "v1", "kind": "PodList", "items": [doc]}))
    (snapshot / "version.json").write_text(json.dumps({"gitVersion": "v1.31.3", "major": "1", "minor": "31"}))
    out = tmp_path / "report.json"
    today = datetime.now(UTC).date().isoformat()  # the registry answers today: evidence for today only
    args = ["audit", str(snapshot), "--as-of", today, "--format", "json", "-o", str(out), "--fail-on", "never"]
    assert main([*args, "--registry-check", "--registry-timeout", "5"]) == 0
    err = capsys.readouterr().err
    assert "internal error" not in err and "OverflowError" not in err
    assert "registry check: 1 of 1 image references resolved" in err
    findings = json.loads(out.read_text())["findings"]
    (age,) = [f for f in findings if f["check"] == "image_built_recently"]
    assert age["status"] == "unknown"
    (drift,) = [f for f in findings if f["check"] == "patched_image_redeployed"]
    assert drift["status"] == "pass"  # the tag still resolves to the running digest
