"""Stream the items of a large pretty-printed Kubernetes List without holding the whole file.

``kubectl get pods -A -o json`` for a big cluster is one document of over a gigabyte.  Decoding it
whole means holding the file plus a skip-parse of every item before the first Pod is built.  This
module reads the file in chunks and cuts the ``items`` array at the item boundaries a
pretty-printer leaves: an item that opens with ``{`` at column *c* closes with a line holding
only ``}`` at column *c* (JSON strings cannot hold raw newlines, and nested values are indented
deeper).  All complete items of a chunk go to the caller as one JSON array (a "slab"), which
msgspec decodes in a single call.  Every slab is proven by that decode: a wrong cut cannot
decode, and the caller then falls back to decoding the whole file, so the fast path can only be
slower, never lose an object.

The list's ``kind`` comes from whichever end of the file holds it (the API writes it first,
kubectl last).  The file's SHA-256 is computed on a worker thread from the same chunks (hashlib
releases the GIL while hashing).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 32 * 1024 * 1024
STREAM_MIN_BYTES = 64 * 1024 * 1024  # smaller files are decoded whole

_ITEMS_OPEN = re.compile(rb'\n([ \t]*)"items"\s*:\s*\[[ \t\r]*\n([ \t]*)\{')
_LIST_KIND = re.compile(rb'^\{\s*(?:"apiVersion"\s*:\s*"[^"\\]*"\s*,\s*)?"kind"\s*:\s*"([A-Za-z0-9]+)"')
_TAIL_KIND = re.compile(rb'\]\s*,\s*"kind"\s*:\s*"([A-Za-z0-9]+)"')
_SEPARATOR = re.compile(rb"[ \t\r\n]*([,\]])[ \t\r\n]*")


class NotStreamable(Exception):
    """The file does not have the shape the fast path needs; decode it whole instead."""


@dataclass(frozen=True, slots=True)
class StreamResult:
    list_kind: str | None
    slabs: int
    sha256: str


SlabHandler = Callable[[bytes, str | None], None]


def list_kind_of(head: bytes, tail: bytes) -> str | None:
    m = _LIST_KIND.match(head.lstrip())
    if m:
        return m[1].decode()
    m = _TAIL_KIND.search(tail)
    return m[1].decode() if m else None


def stream_items(path: Path, on_slab: SlabHandler, chunk_size: int = CHUNK) -> StreamResult:
    """Call ``on_slab(json_array_of_items, list_kind)`` for consecutive runs of items.

    Raises NotStreamable if the file is not a pretty-printed list; ``on_slab`` may raise to abort
    (the caller then decodes the whole file).
    """
    hasher = hashlib.sha256()
    with path.open("rb") as handle, ThreadPoolExecutor(max_workers=1) as hashing:
        tail = _read_tail(handle, path.stat().st_size)
        handle.seek(0)
        buffer = handle.read(chunk_size)
        hashing.submit(hasher.update, buffer)
        opened = _ITEMS_OPEN.search(buffer, 0, 1 << 20)
        if opened is None:
            raise NotStreamable("no pretty-printed items array near the start")
        list_kind = list_kind_of(buffer[: opened.start() + 1], tail)
        closer = b"\n" + opened[2] + b"}"
        pos = opened.end() - 1  # the "{" of the first item
        slabs = 0
        done = False
        while not done:
            chunk = handle.read(chunk_size)
            if chunk:
                hashing.submit(hasher.update, chunk)
            pos, done = _deliver(buffer, pos, closer, on_slab, list_kind, final=not chunk)
            slabs += 1
            if not chunk and not done:
                raise NotStreamable("the items array does not end where a pretty-printed list would")
            buffer = buffer[pos:] + chunk
            pos = 0
        while chunk := handle.read(chunk_size):  # the rest (kind, metadata) only feeds the hash
            hashing.submit(hasher.update, chunk)
    return StreamResult(list_kind, slabs, hasher.hexdigest())


def _read_tail(handle: BinaryIO, size: int) -> bytes:
    handle.seek(max(0, size - 4096))
    return handle.read()


def _deliver(
    buffer: bytes, pos: int, closer: bytes, on_slab: SlabHandler, list_kind: str | None, final: bool
) -> tuple[int, bool]:
    """Hand over every complete item in buffer[pos:]; return (where the rest starts, array ended)."""
    end = len(buffer)
    while True:
        found = buffer.rfind(closer, pos, end)
        if found < 0:
            if final:
                raise NotStreamable("the last item has no closing line")
            return pos, False  # no complete item yet: wait for more data
        stop = found + len(closer)
        sep = _SEPARATOR.match(buffer, stop)
        if sep is not None and (sep.end() < len(buffer) or final):
            break
        end = found  # the separator is not read yet: cut at the item before
    if buffer[pos : pos + 1] != b"{":
        raise NotStreamable(f"expected an item at byte {pos} of the chunk")
    on_slab(b"[" + buffer[pos:stop] + b"]", list_kind)
    return sep.end(), sep[1] == b"]"
