"""Builders of hostile inputs for the tests/test_hostile_*.py suites and tests/fuzz.

Small hostile documents are stored under tests/data/hostile/ (see its SOURCES.md); big ones
(100,000-deep JSON, decompression bombs, FIFOs, devices, crafted tarballs) are made here, at test
time, so the repository stays small and a fresh clone needs nothing else.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import tarfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from builders import DATA, make_node_doc, version_doc
from patchlevel.collect.bundle import MANIFEST, PAGE_ROLE, VERSION_ROLE, BundleWriter

HOSTILE = DATA / "hostile"
AS_OF = "2026-11-27"
DEPTH = 100_000


def deep_json(depth: int = DEPTH, *, inside: str = "") -> bytes:
    """``depth`` nested arrays, optionally as the value of a field of an object (``inside``)."""
    nested = b"[" * depth + b"]" * depth
    if not inside:
        return nested
    return b'{"kind": "' + inside.encode() + b'", "apiVersion": "v1", "x": ' + nested + b"}"


def deep_yaml(depth: int = 5_000) -> bytes:
    """Flow sequences nested ``depth`` deep (YAML readers must refuse, not recurse without end)."""
    return b"kind: Node\nx: " + b"[" * depth + b"]" * depth + b"\n"


def alias_bomb(levels: int = 9, width: int = 9, *, head: str = "") -> str:
    """The "billion laughs": each level holds ``width`` aliases of the one before (width**levels strings)."""
    lines = [head] if head else []
    lines.append('l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]')
    for level in range(1, levels + 1):
        refs = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


def gzip_of_zeros(path: Path, size: int, *, chunk: int = 16 * 1024 * 1024) -> Path:
    """A .gz file that decompresses to ``size`` zero bytes (written in chunks: a 1 GB bomb is ~1 MB)."""
    zeros = bytes(min(chunk, size))
    with gzip.open(path, "wb", compresslevel=9) as out:
        left = size
        while left > 0:
            out.write(zeros[: min(left, len(zeros))])
            left -= min(left, len(zeros))
    return path


def small_bundle(target: Path, nodes: Iterable[Mapping[str, Any]] = (), *, git_version: str = "v1.33.4") -> Path:
    """A valid evidence bundle (directory or .tar.gz by name) made with the real writer, no API server."""
    writer = BundleWriter(target)
    writer.page(
        "version.json", json.dumps(version_doc(git_version)).encode(), role=VERSION_ROLE, request="GET /version"
    )
    items = list(nodes) or [make_node_doc("worker-1")]
    page = json.dumps({"kind": "NodeList", "apiVersion": "v1", "items": items}).encode()
    writer.page("nodes/page-0001.json", page, role=PAGE_ROLE, request="GET /api/v1/nodes?limit=500")
    writer.finish(
        {
            "cluster": {"context": "hostile", "server": "https://hostile.example:6443"},
            "collection": {"started": "2026-11-27T09:00:00Z", "finished": "2026-11-27T09:00:01Z"},
        }
    )
    return target


def tar_member(
    name: str, data: bytes = b"", *, kind: bytes = tarfile.REGTYPE, linkname: str = "", size: int | None = None
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mode = 0o644
    info.size = len(data) if size is None else size
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 5  # /dev/zero
    return info, data


def retar(directory: Path, target: Path, extra: Iterable[tuple[tarfile.TarInfo, bytes]] = ()) -> Path:
    """Pack a bundle directory as a tarball (manifest first), then ``extra`` members as given."""
    top = directory.name
    with tarfile.open(target, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        tar.add(directory / MANIFEST, arcname=f"{top}/{MANIFEST}")
        for path in sorted(directory.rglob("*")):
            if path.is_file() and path.name != MANIFEST:
                tar.add(path, arcname=f"{top}/{path.relative_to(directory).as_posix()}")
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return target


@contextlib.contextmanager
def fifo(path: Path, patience: float = 10.0) -> Iterator[Path]:
    """A FIFO at ``path``; should anything open it for reading and block, it is released after ``patience``
    seconds (a writer opens and closes it: the reader sees an empty file), so a regression fails, never hangs."""
    os.mkfifo(path)
    finished = threading.Event()

    def release() -> None:
        while not finished.wait(patience):
            with contextlib.suppress(OSError):  # ENXIO: nobody is reading, nothing to release
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    watchdog = threading.Thread(target=release, daemon=True)
    watchdog.start()
    try:
        yield path
    finally:
        finished.set()
        watchdog.join()


def node_list(*items: Mapping[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "NodeList", "items": list(items)}
