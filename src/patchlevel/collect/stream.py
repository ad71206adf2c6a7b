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

No bytes are copied in user space: chunks are read into one reusable buffer, and a slab is made
an array by writing ``[`` over the byte before its first item and ``]`` over the separator after
its last.  The list's ``kind`` comes from whichever end of the file holds it (the API writes it
first, kubectl last).  The file's SHA-256 is computed by a worker thread reading the file on its
own (hashlib releases the GIL while it hashes), so hashing runs beside decoding.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

CHUNK = 32 * 1024 * 1024
STREAM_MIN_BYTES = 64 * 1024 * 1024  # smaller files are decoded whole

_ITEMS_OPEN = re.compile(rb'\n([ \t]*)"items"\s*:\s*\[[ \t\r]*\n([ \t]*)\{')
_LIST_KIND = re.compile(rb'^\{\s*(?:"apiVersion"\s*:\s*"[^"\\]*"\s*,\s*)?"kind"\s*:\s*"([A-Za-z0-9]+)"')
_TAIL_KIND = re.compile(rb'\]\s*,\s*"kind"\s*:\s*"([A-Za-z0-9]+)"')
_SEPARATOR = re.compile(rb"[ \t\r\n]*([,\]])")


class NotStreamable(Exception):
    """The file does not have the shape the fast path needs; decode it whole instead."""


@dataclass(frozen=True, slots=True)
class StreamResult:
    list_kind: str | None
    slabs: int
    sha256: str


SlabHandler = Callable[[memoryview, str | None], None]


def list_kind_of(head: bytes, tail: bytes) -> str | None:
    m = _LIST_KIND.match(head.lstrip())
    if m:
        return m[1].decode()
    m = _TAIL_KIND.search(tail)
    return m[1].decode() if m else None


def file_sha256(path: Path, block: int = 8 * 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while data := handle.read(block):
            digest.update(data)
    return digest.hexdigest()


def stream_items(path: Path, on_slab: SlabHandler, chunk_size: int = CHUNK) -> StreamResult:
    """Call ``on_slab(json_array_of_items, list_kind)`` for consecutive runs of items.

    The memoryview is only valid during the call.  Raises NotStreamable if the file is not a
    pretty-printed list; ``on_slab`` may raise to abort (the caller then decodes the whole file).
    """
    with ThreadPoolExecutor(max_workers=1) as hashing, path.open("rb") as handle:
        digest = hashing.submit(file_sha256, path)
        size = path.stat().st_size
        handle.seek(max(0, size - 4096))
        tail = handle.read()
        handle.seek(0)
        buffer = bytearray(2 * chunk_size)
        end = handle.readinto(memoryview(buffer)[:chunk_size]) or 0
        opened = _ITEMS_OPEN.search(buffer, 0, min(end, 1 << 20))
        if opened is None:
            raise NotStreamable("no pretty-printed items array near the start")
        list_kind = list_kind_of(bytes(buffer[: opened.start() + 1]), tail)
        closer = b"\n" + opened[2] + b"}"
        pos = opened.end() - 1  # the "{" of the first item
        slabs = 0
        eof = False
        while True:
            pos, done = _deliver(buffer, pos, end, closer, on_slab, list_kind, final=eof)
            slabs += 1
            if done:
                break
            if eof:
                raise NotStreamable("the items array does not end where a pretty-printed list would")
            # keep one byte before the next item (it becomes the slab's "["), move the rest to the front
            keep = pos - 1
            remainder = end - keep
            buffer[:remainder] = buffer[keep:end]
            pos, end = 1, remainder
            if len(buffer) - end < chunk_size:
                buffer.extend(bytes(chunk_size))
            read = handle.readinto(memoryview(buffer)[end : end + chunk_size]) or 0
            end += read
            eof = read == 0
        return StreamResult(list_kind, slabs, digest.result())


def _deliver(
    buffer: bytearray,
    pos: int,
    end: int,
    closer: bytes,
    on_slab: SlabHandler,
    list_kind: str | None,
    final: bool,
) -> tuple[int, bool]:
    """Hand over every complete item in buffer[pos:end]; return (where the next item starts, array ended)."""
    while pos < end and buffer[pos] in b" \t\r\n":
        pos += 1
    search_end = end
    while True:
        found = buffer.rfind(closer, pos, search_end)
        if found < 0:
            if final:
                raise NotStreamable("the last item has no closing line")
            return pos, False  # no complete item yet: wait for more data
        stop = found + len(closer)
        sep = _SEPARATOR.match(buffer, stop, end)
        if sep is not None:
            break
        if final:
            raise NotStreamable("the last item is not followed by ',' or ']'")
        search_end = found  # the separator is not read yet: cut at the item before
    if buffer[pos] != ord("{") or pos == 0:
        raise NotStreamable(f"expected an item at byte {pos} of the buffer")
    mark = sep.start(1)
    last = buffer[mark] == ord("]")
    buffer[pos - 1] = ord("[")
    buffer[mark] = ord("]")
    with memoryview(buffer) as view, view[pos - 1 : mark + 1] as slab:
        on_slab(slab, list_kind)
    return mark + 1, last
