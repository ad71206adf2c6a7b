"""Hostile evidence bundles: unsafe tar members, forged output lines, bombs in members and headers.

A tarball's members with ``..``, absolute paths, links or devices make ``verify`` fail naming
them and ``audit`` refuse, as directory bundles do; names with control characters are shown
escaped, so they cannot forge a line of ``verify``'s output; members are hashed as they are
decompressed, never held whole, and tarfile's own extended headers are bounded.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from builders import make_node_doc
from hostile_inputs import AS_OF, deep_json, fifo, retar, small_bundle, tar_member
from patchlevel.cli import main
from patchlevel.collect.bundle import MANIFEST, manifest_digest, read_bundle, verify_bundle
from patchlevel.errors import BundleError


@pytest.fixture
def bundle_dir(tmp_path: Path) -> Path:
    return small_bundle(tmp_path / "evidence")


def refused(target: Path, capsys: pytest.CaptureFixture[str], expected: str) -> None:
    """``verify`` exits 1 printing ``expected`` as one line; ``audit`` refuses in one line."""
    assert main(["verify", str(target)]) == 1
    out = capsys.readouterr().out
    assert f"{target}: {expected}" in out.splitlines()
    with pytest.raises(BundleError) as raised:
        read_bundle(target)
    assert expected in str(raised.value)
    assert main(["audit", str(target), "--as-of", AS_OF]) == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"patchlevel: error: {target} is not intact:") and "\n" not in err


UNSAFE_MEMBERS = {
    "dot-dot": (tar_member("evidence/../escaped.json", b"{}"), "unsafe: evidence/../escaped.json (a path with '..')"),
    "absolute": (tar_member("/etc/passwd", b"root"), "unsafe: /etc/passwd (an absolute path)"),
    "outside": (tar_member("other/page.json", b"{}"), "unsafe: other/page.json (outside the bundle's folder evidence)"),
    "symlink": (
        tar_member("evidence/nodes/link.json", kind=tarfile.SYMTYPE, linkname="/etc/shadow"),
        "unsafe: nodes/link.json (a symbolic link to '/etc/shadow')",
    ),
    "hardlink": (
        tar_member("evidence/nodes/hard.json", kind=tarfile.LNKTYPE, linkname="evidence/version.json"),
        "unsafe: nodes/hard.json (a hard link to 'evidence/version.json')",
    ),
    "device": (tar_member("evidence/zero", kind=tarfile.CHRTYPE), "unsafe: zero (a device)"),
    "fifo": (tar_member("evidence/pipe", kind=tarfile.FIFOTYPE), "unsafe: pipe (a FIFO (named pipe))"),
}


@pytest.mark.parametrize("case", UNSAFE_MEMBERS)
def test_unsafe_tar_members_fail_verify_and_audit(
    bundle_dir: Path, tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    member, expected = UNSAFE_MEMBERS[case]
    target = retar(bundle_dir, tmp_path / "evidence.tar.gz", [member])
    verification = verify_bundle(target)
    assert verification.problems == (expected,)
    refused(target, capsys, expected)


def test_a_manifest_that_lists_an_unsafe_path_is_a_problem_in_both_forms(
    bundle_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = json.loads((bundle_dir / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"].append({"path": "../../etc/passwd", "sha256": "0" * 64, "size": 4, "role": "list-page"})
    manifest["digest"]["value"] = manifest_digest(manifest)  # a consistent manifest: the path itself is the problem
    (bundle_dir / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    expected = "unsafe: the manifest lists '../../etc/passwd' (a path with '..')"
    assert verify_bundle(bundle_dir).problems == (expected,)
    refused(bundle_dir, capsys, expected)
    target = retar(bundle_dir, tmp_path / "evidence.tar.gz")
    assert verify_bundle(target).problems == (expected,)


@pytest.mark.parametrize("form", ["directory", "tarball"])
def test_member_names_with_control_characters_cannot_forge_verify_lines(
    bundle_dir: Path, tmp_path: Path, form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = "x\nevidence.tar.gz: intact: 99 files match the manifest\x1b[2J"
    if form == "directory":
        (bundle_dir / forged).write_text("{}", encoding="utf-8")
        target = bundle_dir
    else:
        target = retar(bundle_dir, tmp_path / "evidence.tar.gz", [tar_member(f"evidence/{forged}", b"{}")])
    assert main(["verify", str(target)]) == 1
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "\x1b" not in out
    shown = "x\\nevidence.tar.gz: intact: 99 files match the manifest\\x1b[2J"
    expected = f"unsafe: evidence/{shown} (a path with control characters)" if form == "tarball" else f"added: {shown}"
    assert out.startswith(f"{target}: {expected}")


def test_a_directory_bundle_member_that_is_a_fifo_is_never_opened(bundle_dir: Path) -> None:
    page = bundle_dir / "nodes" / "page-0001.json"
    page.unlink()
    with fifo(page):
        assert verify_bundle(bundle_dir).problems == ("unsafe: nodes/page-0001.json (a FIFO (named pipe))",)


def test_a_linked_manifest_is_not_followed(bundle_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere.json").write_bytes((bundle_dir / MANIFEST).read_bytes())
    (bundle_dir / MANIFEST).unlink()
    (bundle_dir / MANIFEST).symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(BundleError, match=r"holds no manifest\.json \(manifest\.json is a symbolic link\)"):
        verify_bundle(bundle_dir)


# -- bombs ---------------------------------------------------------------------------------------


def put_page(bundle_dir: Path, relative: str, data: bytes) -> None:
    """Write a page into a bundle and record it in a consistent manifest (as a forger would)."""
    page = bundle_dir / relative
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_bytes(data)
    manifest = json.loads((bundle_dir / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"] = [e for e in manifest["files"] if e["path"] != relative]
    entry = {"path": relative, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "role": "list-page"}
    manifest["files"].append(entry)
    manifest["digest"]["value"] = manifest_digest(manifest)
    (bundle_dir / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize("form", ["directory", "tarball"])
def test_a_member_larger_than_the_limit_is_a_problem_not_a_read(bundle_dir: Path, tmp_path: Path, form: str) -> None:
    put_page(bundle_dir, "nodes/page-0002.json", b" " * 5000)
    target = bundle_dir if form == "directory" else retar(bundle_dir, tmp_path / "evidence.tar.gz")
    verification = verify_bundle(target, max_bytes=4096)
    expected = (
        "too large: nodes/page-0002.json (more than 4,096 bytes, the input size limit)"
        if form == "directory"
        else "too large: nodes/page-0002.json (5,000 bytes; the input size limit is 4,096)"
    )
    assert verification.problems == (expected,)
    with pytest.raises(BundleError, match="too large"):
        read_bundle(target, max_bytes=4096)


def test_a_listed_page_of_zeros_is_refused_from_its_first_bytes(bundle_dir: Path, tmp_path: Path) -> None:
    """A page the manifest records intact but that holds zeros: refused without being held (audit), hashed (verify)."""
    put_page(bundle_dir, "nodes/page-0002.json", bytes(4 * 1024 * 1024))
    target = retar(bundle_dir, tmp_path / "evidence.tar.gz")
    assert verify_bundle(target).ok
    with pytest.raises(BundleError, match=r"^hostile:nodes/page-0002\.json: not JSON \(binary data\)"):
        read_bundle(target)


def test_a_100000_deep_page_is_a_one_line_error(
    bundle_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_page(bundle_dir, "nodes/page-0001.json", deep_json(inside="NodeList"))
    assert main(["audit", str(bundle_dir), "--as-of", AS_OF]) == 3
    err = capsys.readouterr().err.strip()
    assert err == (
        "patchlevel: error: hostile:nodes/page-0001.json: JSON nested too deeply (more than about 1,000 levels) to be "
        "a Kubernetes object or scan report"
    )


def test_a_100000_deep_manifest_is_a_one_line_error(tmp_path: Path) -> None:
    target = tmp_path / "evidence"
    target.mkdir()
    (target / MANIFEST).write_bytes(deep_json())
    with pytest.raises(BundleError, match="the manifest is JSON nested too deeply"):
        verify_bundle(target)


def _tar_with_header(bundle_dir: Path, kind: bytes, size: int) -> bytes:
    """The bundle's manifest as a tar member, then an extended header claiming ``size`` bytes."""
    stream = io.BytesIO()
    with tarfile.open(fileobj=stream, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        tar.add(bundle_dir / MANIFEST, arcname=f"evidence/{MANIFEST}")
        members = stream.getvalue()  # before closing writes the end-of-archive blocks
    header = tarfile.TarInfo("././@LongLink")
    header.type = kind
    header.size = size
    return members + header.tobuf(format=tarfile.USTAR_FORMAT) + bytes(64 * tarfile.BLOCKSIZE)


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        (tarfile.GNUTYPE_LONGNAME, "an extended header of 1,073,741,824 bytes (at most 1,048,576)"),
        (tarfile.XHDTYPE, "an extended header of 1,073,741,824 bytes (at most 1,048,576)"),
        (tarfile.GNUTYPE_SPARSE, "a GNU sparse member"),
    ],
)
def test_tar_extended_headers_larger_than_a_bundle_needs_are_refused_unread(
    bundle_dir: Path, tmp_path: Path, kind: bytes, problem: str
) -> None:
    target = tmp_path / "evidence.tar.gz"
    target.write_bytes(gzip.compress(_tar_with_header(bundle_dir, kind, 1 << 30)))
    with pytest.raises(BundleError) as raised:
        verify_bundle(target)
    assert str(raised.value) == f"{target}: not a readable .tar.gz bundle ({problem})"


def test_a_bundle_path_that_is_a_fifo_is_not_opened(tmp_path: Path) -> None:
    with fifo(tmp_path / "evidence.tar.gz"), pytest.raises(BundleError, match=r"is a FIFO \(named pipe\), not an evid"):
        verify_bundle(tmp_path / "evidence.tar.gz")


def test_a_good_bundle_still_reads(bundle_dir: Path, tmp_path: Path) -> None:
    target = retar(bundle_dir, tmp_path / "evidence.tar.gz")
    for form in (bundle_dir, target):
        assert verify_bundle(form).ok
        assert [n.name for n in read_bundle(form).nodes] == ["worker-1"]
    assert make_node_doc("worker-1")["metadata"]["name"] == "worker-1"
