"""Evidence bundles: written from a live collection (directory or .tar.gz), read back into the same
inventory, and verified: every changed, added or removed file, and an edited manifest, is named."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import ssl
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubeapi import Cluster, KubeAPIServer
from patchlevel import __version__
from patchlevel.cli import main
from patchlevel.collect.bundle import MANIFEST, is_bundle, manifest_digest, read_bundle, verify_bundle
from patchlevel.collect.live import Collection, LiveOptions, collect_bundle
from patchlevel.collect.snapshot import read_snapshot
from patchlevel.errors import BundleError, CollectError
from test_live_collect import VERSION, FakeHost, access_for, cluster_objects, comparable, run_audit


@pytest.fixture
def api() -> Iterator[KubeAPIServer]:
    with KubeAPIServer(Cluster(objects=cluster_objects(), version=VERSION)) as server:
        yield server


def collect_into(api: KubeAPIServer, target: Path, **kw: Any) -> tuple[Collection, str]:
    access = access_for(api, target.parent / "kube")
    return collect_bundle(access, target, host=FakeHost().host(), options=LiveOptions(page_size=4), **kw)


def make_bundle(api: KubeAPIServer, target: Path, **kw: Any) -> str:
    return collect_into(api, target, **kw)[1]


# -- what a bundle holds -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["evidence", "evidence.tar.gz"])
def test_a_bundle_holds_the_pages_and_a_manifest_with_hashes_and_digest(
    api: KubeAPIServer, tmp_path: Path, name: str
) -> None:
    target = tmp_path / name
    digest = make_bundle(api, target)

    verification = verify_bundle(target)
    assert verification.ok and verification.problems == ()
    manifest = verification.manifest
    assert manifest["format"] == "patchlevel-evidence-bundle" and manifest["format_version"] == 1
    assert manifest["digest"] == {"algorithm": "sha256", "value": digest} and digest == manifest_digest(manifest)
    assert manifest["tool"] == {"name": "patchlevel", "version": __version__}
    assert manifest["cluster"]["server"] == api.url and manifest["cluster"]["context"] == "test"
    assert manifest["cluster"]["version"]["gitVersion"] == "v1.20.0"
    assert manifest["identity"]["username"] == "system:serviceaccount:patchlevel:patchlevel"
    assert manifest["identity"]["source"] == "SelfSubjectReview authentication.k8s.io/v1"
    assert manifest["collection"]["started"] <= manifest["collection"]["finished"]
    paths = [f["path"] for f in manifest["files"]]
    assert paths[:3] == ["version.json", "selfsubjectreview.json", "nodes/page-0001.json"]
    assert [p for p in paths if p.startswith("pods/")] == [f"pods/page-000{n}.json" for n in (1, 2, 3)]
    assert "vulnerabilityreports.aquasecurity.github.io/page-0001.json" in paths
    assert verification.files == len(paths)


def test_the_pages_are_the_bytes_the_api_server_sent(api: KubeAPIServer, tmp_path: Path) -> None:
    make_bundle(api, tmp_path / "evidence")
    verify = ssl.create_default_context(cadata=api.ca_pem.decode())
    with httpx.Client(base_url=api.url, verify=verify, headers={"Authorization": f"Bearer {api.token}"}) as client:
        nodes = client.get("/api/v1/nodes", params={"limit": "4"}).content
        version = client.get("/version").content

    assert (tmp_path / "evidence" / "nodes" / "page-0001.json").read_bytes() == nodes
    assert (tmp_path / "evidence" / "version.json").read_bytes() == version
    manifest = json.loads((tmp_path / "evidence" / MANIFEST).read_bytes())
    entry = next(f for f in manifest["files"] if f["path"] == "nodes/page-0001.json")
    assert entry == {
        "path": "nodes/page-0001.json",
        "sha256": hashlib.sha256(nodes).hexdigest(),
        "size": len(nodes),
        "role": "list-page",
        "request": "GET /api/v1/nodes?limit=4",
    }


def test_a_tarball_has_one_top_folder_and_the_manifest_first(api: KubeAPIServer, tmp_path: Path) -> None:
    make_bundle(api, tmp_path / "prod-eu-2026-11-27.tar.gz")

    with tarfile.open(tmp_path / "prod-eu-2026-11-27.tar.gz") as tar:
        names = tar.getnames()
        tar.extractall(tmp_path / "unpacked", filter="data")

    assert names[0] == "prod-eu-2026-11-27/manifest.json"
    assert all(n.startswith("prod-eu-2026-11-27/") for n in names)
    assert verify_bundle(tmp_path / "unpacked" / "prod-eu-2026-11-27").ok  # unpacked, it is a directory bundle


# -- reading a bundle back -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["evidence", "evidence.tgz"])
def test_auditing_a_bundle_equals_the_live_audit(api: KubeAPIServer, tmp_path: Path, name: str) -> None:
    collection, digest = collect_into(api, tmp_path / name)
    live = collection.inventory  # what the live audit of this very collection reads

    offline = read_bundle(tmp_path / name)

    assert offline.source == "bundle" and offline.evidence_digest == digest
    assert (offline.name, offline.server) == (live.name, live.server)
    assert offline.inputs == live.inputs
    assert offline.warnings == live.warnings and offline.denied == live.denied
    live_report, bundle_report = run_audit(live), run_audit(offline)
    assert comparable(bundle_report.findings) == comparable(live_report.findings)
    assert bundle_report.evidence_digest == digest
    assert bundle_report.warnings == live_report.warnings


def test_denials_and_warnings_travel_in_the_bundle(tmp_path: Path) -> None:
    with KubeAPIServer(Cluster(objects=cluster_objects()), forbidden=["pods"]) as api:
        make_bundle(api, tmp_path / "evidence")

    inventory = read_bundle(tmp_path / "evidence")
    assert "pods" in inventory.denied and not inventory.has("pods")
    assert inventory.warnings[0].startswith("pods could not be read: the identity may not list pods")


def test_read_snapshot_hands_a_bundle_to_the_bundle_reader(api: KubeAPIServer, tmp_path: Path) -> None:
    make_bundle(api, tmp_path / "evidence")
    make_bundle(api, tmp_path / "evidence.tar.gz")

    assert is_bundle(tmp_path / "evidence") and is_bundle(tmp_path / "evidence.tar.gz")
    assert read_snapshot(tmp_path / "evidence").source == "bundle"
    assert read_snapshot(tmp_path / "evidence.tar.gz").source == "bundle"
    assert not is_bundle(Path(__file__).parent / "data" / "kube")


# -- tampering -------------------------------------------------------------------------------------


def change_page(root: Path) -> str:
    page = root / "pods" / "page-0002.json"
    page.write_bytes(page.read_bytes().replace(b"registry.example.com", b"registry.evil.example"))
    return "changed: pods/page-0002.json"


def add_file(root: Path) -> str:
    (root / "nodes" / "extra-node.json").write_text("{}", encoding="utf-8")
    return "added: nodes/extra-node.json (not in the manifest)"


def remove_file(root: Path) -> str:
    (root / "jobs.batch" / "page-0001.json").unlink()
    return "removed: jobs.batch/page-0001.json (listed in the manifest, not in the bundle)"


def edit_manifest(root: Path) -> str:
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    manifest["cluster"]["server"] = "https://somewhere-else.example"
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return "changed: manifest.json (its digest is "


def rehash_in_manifest(root: Path) -> str:
    """Change a page and update its hash in the manifest: the manifest's digest still gives it away."""
    change_page(root)
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    page = root / "pods" / "page-0002.json"
    for entry in manifest["files"]:
        if entry["path"] == "pods/page-0002.json":
            entry["sha256"] = hashlib.sha256(page.read_bytes()).hexdigest()
            entry["size"] = page.stat().st_size
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return "changed: manifest.json"


TAMPERING = [change_page, add_file, remove_file, edit_manifest, rehash_in_manifest]


def retar(directory: Path, target: Path) -> None:
    """Pack ``directory`` as a bundle tarball again (manifest first), as someone editing one would."""
    with tarfile.open(target, "w:gz") as tar:
        tar.add(directory / MANIFEST, arcname=f"{directory.name}/{MANIFEST}")
        for path in sorted(directory.rglob("*")):
            if path.is_file() and path.name != MANIFEST:
                tar.add(path, arcname=f"{directory.name}/{path.relative_to(directory).as_posix()}")


@pytest.mark.parametrize("tamper", TAMPERING, ids=[t.__name__ for t in TAMPERING])
@pytest.mark.parametrize("form", ["directory", "tarball"])
def test_verify_names_what_was_tampered_with(
    api: KubeAPIServer, tmp_path: Path, tamper: Callable[[Path], str], form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_bundle(api, tmp_path / "evidence")
    if form == "directory":
        target = tmp_path / "evidence"
        expected = tamper(target)
    else:
        expected = tamper(tmp_path / "evidence")
        target = tmp_path / "evidence.tar.gz"
        retar(tmp_path / "evidence", target)

    verification = verify_bundle(target)

    assert not verification.ok
    assert len(verification.problems) == 1
    assert verification.problems[0].startswith(expected)
    assert main(["verify", str(target)]) == 1
    captured = capsys.readouterr()
    assert f"{target}: {expected}" in captured.out
    assert f"{target} is NOT intact: 1 problem(s)" in captured.err
    with pytest.raises(BundleError) as raised:
        read_bundle(target)
    assert expected in str(raised.value) and f"'patchlevel verify {target}' lists every problem" in str(raised.value)
    assert main(["audit", str(target), "--as-of", "2026-11-27"]) == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"patchlevel: error: {target} is not intact: {expected}") and "\n" not in err


def test_an_intact_bundle_verifies_through_the_cli(
    api: KubeAPIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    digest = make_bundle(api, tmp_path / "evidence.tar.gz")

    assert main(["verify", str(tmp_path / "evidence.tar.gz")]) == 0
    assert capsys.readouterr().out.strip() == (
        f"{tmp_path / 'evidence.tar.gz'}: intact: 16 files match the manifest (manifest sha256 {digest})"
    )


def test_a_tarball_that_is_not_a_bundle_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "random.tar.gz"
    with tarfile.open(target, "w:gz") as tar:
        info = tarfile.TarInfo("notes.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))

    with pytest.raises(BundleError, match=r"the first member is not manifest\.json: not an evidence bundle"):
        verify_bundle(target)


# -- writing safely --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["evidence", "evidence.tar.gz"])
def test_an_existing_bundle_is_replaced_only_with_force(api: KubeAPIServer, tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    first = make_bundle(api, target)

    with pytest.raises(BundleError, match=f"{target} already exists"):
        make_bundle(api, target)
    assert verify_bundle(target).digest == first
    second = make_bundle(api, target, force=True)

    assert second != first  # new collection times
    assert verify_bundle(target).ok and verify_bundle(target).digest == second
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "kube"])  # nothing temporary left


def test_force_never_replaces_a_directory_that_is_not_a_bundle(api: KubeAPIServer, tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"meow")

    with pytest.raises(BundleError, match="is a directory but not a bundle; refusing to replace it, even with --force"):
        make_bundle(api, tmp_path / "photos", force=True)
    assert (tmp_path / "photos" / "cat.jpg").read_bytes() == b"meow"


def test_a_failed_collection_leaves_no_bundle_and_no_temporary_files(tmp_path: Path) -> None:
    with KubeAPIServer(Cluster(objects=cluster_objects()), forbidden=["nodes"]) as api, pytest.raises(CollectError):
        make_bundle(api, tmp_path / "evidence.tar.gz")

    assert sorted(p.name for p in tmp_path.iterdir()) == ["kube"]


def test_a_bundle_is_written_under_a_temporary_name_then_renamed(api: KubeAPIServer, tmp_path: Path) -> None:
    """While the collection runs, the target name does not exist; only a hidden .partial folder does."""
    seen: list[list[str]] = []

    class Watch:
        def update(self, resource: str, done: int, total: int | None) -> None:
            seen.append(sorted(p.name for p in tmp_path.iterdir()))

    make_bundle(api, tmp_path / "evidence", progress=Watch())

    assert seen and all("evidence" not in names for names in seen)
    assert all(any(n.startswith(".evidence.") and n.endswith(".partial") for n in names) for names in seen)
    assert (tmp_path / "evidence" / MANIFEST).is_file()


def test_collect_and_audit_through_the_cli(
    api: KubeAPIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    bundle = tmp_path / "evidence" / "prod-eu-2026-11-27.tar.gz"

    assert main(["collect", "--kubeconfig", str(kubeconfig), "-o", str(bundle)]) == 0
    err = capsys.readouterr().err
    assert f'wrote {bundle}: 3 nodes, 10 pods from {api.url} (context "test"); manifest sha256 ' in err
    assert main(["collect", "--kubeconfig", str(kubeconfig), "-o", str(bundle)]) == 3
    assert "already exists (use --force to replace it" in capsys.readouterr().err
    assert main(["collect", "--kubeconfig", str(kubeconfig), "-o", str(bundle), "--force"]) == 0
    capsys.readouterr()
    shutil.copy(bundle, tmp_path / "copy.tar.gz")
    code = main(["audit", str(tmp_path / "copy.tar.gz"), "--as-of", "2026-11-27", "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert code in (0, 1)
    assert document["evidence_digest"] == verify_bundle(bundle).digest
    assert document["cluster"]["server"] == api.url
