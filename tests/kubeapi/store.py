"""Where the served objects come from: lists in memory, a generator, or a spooled file.

Whatever the source, a store hands the server each item already encoded as it appears inside
a real list response: compact JSON, without ``kind``/``apiVersion`` for built-in resources
(the list carries them) and with them for custom resources (CRD lists keep them per item).

- a sequence of dicts: small fixtures, encoded on demand;
- ``Generated(make, count)``: ``make(index)`` builds item ``index`` when asked, so 150,000
  pods never sit in memory at once;
- ``spool_list_file(path, resource)``: a List document on disk (``kubectl get -o json``
  output, a ``tests/cluster_gen.py`` snapshot) re-encoded once into an unnamed temporary file,
  keeping only offsets, names and namespaces in memory.
"""

from __future__ import annotations

import mmap
import os
import tempfile
import threading
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import msgspec

from .resources import ResourceType

_encoder = msgspec.json.Encoder()


class Store(Protocol):
    """The items of one resource, in list order."""

    def __len__(self) -> int: ...

    def encoded(self, index: int) -> bytes: ...

    def name(self, index: int) -> str: ...

    def namespace(self, index: int) -> str: ...


@dataclass(frozen=True, slots=True)
class Generated:
    """``count`` items built lazily by ``make(index)`` (which must be deterministic)."""

    make: Callable[[int], Mapping[str, Any]]
    count: int


ObjectSource = Sequence[Mapping[str, Any]] | Generated | Store


def normalise(item: Mapping[str, Any], resource: ResourceType) -> dict[str, Any]:
    """The item as the API puts it inside a list of ``resource``."""
    body = {k: v for k, v in item.items() if k not in ("kind", "apiVersion")}
    if resource.custom:
        return {"apiVersion": resource.group_version, "kind": resource.kind, **body}
    return body


def make_store(source: ObjectSource, resource: ResourceType) -> Store:
    if isinstance(source, Generated):
        return _GeneratedStore(source, resource)
    if isinstance(source, Sequence):
        return _MemoryStore(source, resource)
    if not callable(getattr(source, "encoded", None)):
        raise TypeError(f"objects of {resource.plural}: expected a list of dicts, Generated or a Store")
    return source


def _meta(item: Mapping[str, Any], key: str) -> str:
    metadata = item.get("metadata")
    value = metadata.get(key) if isinstance(metadata, Mapping) else None
    return value if isinstance(value, str) else ""


class _MemoryStore:
    def __init__(self, items: Sequence[Mapping[str, Any]], resource: ResourceType) -> None:
        self._items = items
        self._resource = resource

    def __len__(self) -> int:
        return len(self._items)

    def encoded(self, index: int) -> bytes:
        return _encoder.encode(normalise(self._items[index], self._resource))

    def name(self, index: int) -> str:
        return _meta(self._items[index], "name")

    def namespace(self, index: int) -> str:
        return _meta(self._items[index], "namespace")


class _GeneratedStore:
    def __init__(self, generated: Generated, resource: ResourceType) -> None:
        self._make = generated.make
        self._count = generated.count
        self._resource = resource

    def __len__(self) -> int:
        return self._count

    def _item(self, index: int) -> Mapping[str, Any]:
        if not 0 <= index < self._count:
            raise IndexError(index)
        return self._make(index)

    def encoded(self, index: int) -> bytes:
        return _encoder.encode(normalise(self._item(index), self._resource))

    def name(self, index: int) -> str:
        return _meta(self._item(index), "name")

    def namespace(self, index: int) -> str:
        return _meta(self._item(index), "namespace")


class _RawList(msgspec.Struct):
    items: list[msgspec.Raw] | None = None


class SpooledStore:
    """Items re-encoded into an unnamed temporary file; only offsets and names stay in memory."""

    def __init__(self, resource: ResourceType) -> None:
        self._resource = resource
        # Owned for the store's lifetime (close() ends it); unnamed, so it vanishes with the process.
        self._file = tempfile.TemporaryFile(prefix="kubeapi-spool-")  # noqa: SIM115
        self._offsets = array("Q", [0])
        self._names: list[str] = []
        self._namespaces: list[str] = []
        self._interned: dict[str, str] = {}
        self._lock = threading.Lock()

    def append(self, item: Mapping[str, Any]) -> None:
        encoded = _encoder.encode(normalise(item, self._resource))
        namespace = _meta(item, "namespace")
        with self._lock:
            self._file.write(encoded)
            self._offsets.append(self._offsets[-1] + len(encoded))
            self._names.append(_meta(item, "name"))
            self._namespaces.append(self._interned.setdefault(namespace, namespace))

    def close(self) -> None:
        self._file.close()

    def __len__(self) -> int:
        return len(self._names)

    def encoded(self, index: int) -> bytes:
        if not 0 <= index < len(self._names):
            raise IndexError(index)
        with self._lock:
            self._file.flush()
        start, end = self._offsets[index], self._offsets[index + 1]
        return os.pread(self._file.fileno(), end - start, start)

    def name(self, index: int) -> str:
        return self._names[index]

    def namespace(self, index: int) -> str:
        return self._namespaces[index]

    def namespaces(self) -> set[str]:
        return set(self._interned) - {""}


def spool_list_file(path: str | os.PathLike[str], resource: ResourceType) -> SpooledStore:
    """Spool the ``items`` of a List document (indented or compact JSON) at ``path``.

    The file is memory-mapped and split into raw items without building a tree for the whole
    document, so a 1 GB ``pods.json`` costs page cache, not Python objects.
    """
    store = SpooledStore(resource)
    with open(Path(path), "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            raise ValueError(f"{path}: empty file")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            # Raw items point into the map: none may outlive this call, not even in a traceback.
            problem = _spool_items(mapped, store)
    if problem:
        store.close()
        raise ValueError(f"{path}: {problem}")
    return store


def _spool_items(mapped: mmap.mmap, store: SpooledStore) -> str | None:
    decoder = msgspec.json.Decoder()
    try:
        for raw in msgspec.json.decode(mapped, type=_RawList).items or ():
            item = decoder.decode(raw)
            if not isinstance(item, dict):
                return "an item of the list is not an object"
            store.append(item)
    except msgspec.DecodeError as error:
        return str(error)
    return None
