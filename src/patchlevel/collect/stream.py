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

``stream_from`` does the same over any stream, such as a ``.gz`` file decompressed chunk by
chunk: the content is hashed as it is read, and the list's ``kind`` is looked for at the end.
Only regular files are opened (``safeinput.open_regular``); the hashing thread reads the same
descriptor with ``pread``, so it cannot read a different file than the decoder.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BufferedIOBase
from pathlib import Path

from patchlevel.safeinput import open_regular

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
    with open_regular(path) as handle:
        while data := handle.read(block):
            digest.update(data)
    return digest.hexdigest()


def _descriptor_sha256(descriptor: int, stop: threading.Event, block: int = 8 * 1024 * 1024) -> str:
    """SHA-256 of an open file, read with ``pread`` (the descriptor's offset is left to the decoder)."""
    digest = hashlib.sha256()
    offset = 0
    while not stop.is_set() and (data := os.pread(descriptor, block, offset)):
        digest.update(data)
        offset += len(data)
    return digest.hexdigest()


def stream_items(path: Path, on_slab: SlabHandler, chunk_size: int = CHUNK) -> StreamResult:
    """Call ``on_slab(json_array_of_items, list_kind)`` for consecutive runs of items of a regular file.

    The memoryview is only valid during the call.  Raises NotStreamable if the file is not a
    pretty-printed list; ``on_slab`` may raise to abort (the caller then decodes the whole file).
    """
    with ThreadPoolExecutor(max_workers=1) as hashing, open_regular(path) as handle:
        descriptor = handle.fileno()
        stop = threading.Event()
        digest = hashing.submit(_descriptor_sha256, descriptor, stop)
        try:
            size = os.fstat(descriptor).st_size
            tail = os.pread(descriptor, 4096, max(0, size - 4096))
            result = stream_from(handle, on_slab, chunk_size, tail=tail, hash_content=False)
        except BaseException:
            stop.set()
            raise
        finally:
            sha256 = digest.result()  # the thread reads the descriptor: wait for it before it is closed
        return StreamResult(result.list_kind, result.slabs, sha256)


def stream_from(
    handle: BufferedIOBase,
    on_slab: SlabHandler,
    chunk_size: int = CHUNK,
    *,
    prefix: bytes = b"",
    tail: bytes | None = None,
    hash_content: bool = True,
) -> StreamResult:
    """``stream_items`` over a stream: ``prefix`` (bytes already read from it) and then the rest of it.

    ``tail`` is the end of the content when known up front (a file); otherwise the list's kind
    is taken from its start, or else from its end once the stream is read (the slabs were then
    decoded as items that each name their kind).  With ``hash_content`` the result's ``sha256``
    is that of the content read; without, it is "".
    """
    digest = hashlib.sha256() if hash_content else None
    buffer = bytearray(max(2 * chunk_size, len(prefix) + chunk_size))
    buffer[: len(prefix)] = prefix
    end = len(prefix)
    while end < chunk_size:
        read = handle.readinto(memoryview(buffer)[end:chunk_size]) or 0
        if read == 0:
            break
        end += read
    if digest is not None:
        digest.update(memoryview(buffer)[:end])
    opened = _ITEMS_OPEN.search(buffer, 0, min(end, 1 << 20))
    if opened is None:
        raise NotStreamable("no pretty-printed items array near the start")
    list_kind = list_kind_of(bytes(buffer[: opened.start() + 1]), tail or b"")
    closer = b"\n" + opened[2] + b"}"
    pos = opened.end() - 1  # the "{" of the first item
    slabs = 0
    eof = end < chunk_size
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
        if digest is not None and read:
            digest.update(memoryview(buffer)[end : end + read])
        end += read
        eof = read == 0
    if tail is None:
        # the rest of the stream after the items array: where kubectl writes the list's kind
        rest = bytearray(buffer[pos - 1 : end])  # from the "]" that closed the items
        while len(rest) < 1 << 20 and (more := handle.read(chunk_size)):
            if digest is not None:
                digest.update(more)
            rest += more
        if digest is not None:
            while more := handle.read(chunk_size):
                digest.update(more)
        list_kind = list_kind or list_kind_of(b"", bytes(rest))
    return StreamResult(list_kind, slabs, digest.hexdigest() if digest is not None else "")


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
