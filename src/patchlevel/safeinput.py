"""Reading what patchlevel is given, within bounds: every file, archive and YAML document from outside.

One place for the limits every reader shares (snapshots, bundles, scan reports, kubeconfigs):

- **Regular files only.** ``regular_file_problem`` says, without opening anything, why a path
  is not a readable regular file (a FIFO, a device, a socket, a symbolic link loop, a link to a
  device …); ``open_regular`` opens only regular files, without blocking (``O_NONBLOCK``: a FIFO
  swapped in after the check is not waited on) and checks the opened descriptor again.  Both
  raise ``NotARegularFile``, an ``OSError``, so every caller's ``except OSError`` turns it into
  its own one-line error.
- **Size.** No input document is read past ``max_input_bytes`` bytes (default 4 GiB, or the
  ``PATCHLEVEL_MAX_INPUT_BYTES`` environment variable): a file larger than that, or a ``.gz``
  file or bundle member that expands past it, raises ``InputTooLarge`` (an ``OSError``).
  Compressed data is always decompressed in chunks (``open_input``, ``read_limited``), never
  whole, so a decompression bomb costs CPU, not memory.
- **Binary data.** ``looks_binary`` spots content that cannot be JSON or YAML (a NUL byte in
  its first bytes) so it is refused before it is read whole.
- **YAML.** ``load_yaml_documents`` refuses alias bombs ("billion laughs": aliases may add at
  most ``MAX_YAML_ALIAS_NODES`` nodes), recursive aliases, and nesting too deep for the loader,
  with a ``YAMLLimitError`` (a ``yaml.YAMLError``).
- **Depth.** JSON nested deeper than Python's recursion limit (about 1,000 levels: no Kubernetes
  object or scanner report comes near 50) makes msgspec and ``json`` raise ``RecursionError``;
  readers catch it next to their decode errors and report ``NESTED_TOO_DEEP``.
- **Display.** ``patchlevel.text.visible`` makes control characters in names from the input visible
  (``\\n``, ``\\x1b``), so a file name cannot forge a line of output or drive the terminal.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import stat
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Final

import yaml

from patchlevel.errors import UsageError

MAX_INPUT_BYTES_ENV: Final = "PATCHLEVEL_MAX_INPUT_BYTES"
DEFAULT_MAX_INPUT_BYTES: Final = 4 * 1024**3
SNIFF_BYTES: Final = 64 * 1024
READ_CHUNK: Final = 1024 * 1024
MAX_YAML_ALIAS_NODES: Final = 100_000
NESTED_TOO_DEEP: Final = "nested too deeply (more than about 1,000 levels) to be a Kubernetes object or scan report"
GZIP_MAGIC: Final = b"\x1f\x8b"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class NotARegularFile(OSError):
    """The path is a FIFO, a device, a socket, a directory or a broken/looping link: it is not read."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(errno.EINVAL, problem, str(path))
        self.problem = problem


class InputTooLarge(OSError):
    """An input (or what it decompresses to) is larger than the limit."""

    def __init__(self, what: str, limit: int) -> None:
        problem = f"{what} more than {limit:,} bytes, the input size limit (set {MAX_INPUT_BYTES_ENV} to allow more)"
        super().__init__(errno.EFBIG, problem)
        self.limit = limit


class YAMLLimitError(yaml.YAMLError):
    """A YAML document that would expand without bound, or nests deeper than can be read."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


# --------------------------------------------------------------------------------------------
# Limits


def _parse_size(text: str) -> int | None:
    units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
    value = text.strip().lower().removesuffix("ib").removesuffix("b")
    unit = value[-1:] if value[-1:] in units else ""
    number = value[: len(value) - len(unit)].strip()
    if not number.isdigit() or len(number) > 15:
        return None
    size = int(number) * units[unit]
    return size if size > 0 else None


def max_input_bytes(environ: Mapping[str, str] | None = None) -> int:
    """The input size limit: ``PATCHLEVEL_MAX_INPUT_BYTES`` (bytes, or with a K/M/G/T suffix), else 4 GiB."""
    environ = os.environ if environ is None else environ
    raw = environ.get(MAX_INPUT_BYTES_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_INPUT_BYTES
    size = _parse_size(raw)
    if size is None:
        raise UsageError(
            f"{MAX_INPUT_BYTES_ENV}={raw!r} is not a size",
            hint="give a number of bytes, e.g. 2147483648 or 2G",
        )
    return size


# --------------------------------------------------------------------------------------------
# Files


def describe_mode(mode: int) -> str:
    """What kind of file a ``st_mode`` is, in a few words."""
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def regular_file_problem(path: Path | str) -> str | None:
    """Why ``path`` is not a regular file (or a link to one), None when it is; never opens it."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return exc.strerror or str(exc)
    if stat.S_ISLNK(info.st_mode):
        try:
            info = os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "a symbolic link loop"
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return "a broken symbolic link"
            return f"a symbolic link that cannot be followed ({exc.strerror or exc})"
        if not stat.S_ISREG(info.st_mode):
            return f"a symbolic link to {describe_mode(info.st_mode)}"
        return None
    if not stat.S_ISREG(info.st_mode):
        return describe_mode(info.st_mode)
    return None


def open_regular(path: Path | str, limit: int | None = None) -> io.BufferedReader:
    """Open a regular file for reading; NotARegularFile for anything else, InputTooLarge past ``limit``.

    The type is checked before opening (a device is never opened) and again on the opened
    descriptor; the open does not block, so a FIFO put in the file's place is not waited on.
    """
    problem = regular_file_problem(path)
    if problem is not None:
        raise NotARegularFile(path, f"{problem}, not a regular file")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(path, f"{describe_mode(info.st_mode)}, not a regular file")
        if limit is not None and info.st_size > limit:
            raise InputTooLarge("it holds", limit)
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_limited(handle: IO[bytes], limit: int, what: str, prefix: bytes = b"") -> bytes:
    """``prefix`` and everything ``handle`` gives, read in chunks; InputTooLarge once past ``limit`` bytes.

    The chunks go into one growing buffer whose bytes are returned without a copy, so the peak is
    the content's size, not twice it.
    """
    if len(prefix) > limit:
        raise InputTooLarge(what, limit)
    buffer = io.BytesIO()
    buffer.write(prefix)
    total = len(prefix)
    while chunk := handle.read(min(READ_CHUNK, limit + 1 - total)):
        buffer.write(chunk)
        total += len(chunk)
        if total > limit:
            raise InputTooLarge(what, limit)
    return buffer.getvalue()


def read_regular(path: Path | str, limit: int | None = None) -> bytes:
    """A regular file's bytes (at most ``limit``, default ``max_input_bytes()``)."""
    limit = max_input_bytes() if limit is None else limit
    with open_regular(path, limit) as handle:
        return read_limited(handle, limit, "it holds")


class BoundedReader(io.RawIOBase):
    """A read-only stream over ``inner`` that raises InputTooLarge once more than ``limit`` bytes came out."""

    def __init__(self, inner: IO[bytes] | gzip.GzipFile, limit: int, what: str) -> None:
        super().__init__()
        self._inner = inner
        self._limit = limit
        self._what = what
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._limit + 1 - self.count)
        if wanted <= 0:
            raise InputTooLarge(self._what, self._limit)
        try:
            data = self._inner.read(wanted)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise OSError(errno.EIO, f"not a readable gzip file ({exc})") from None
        view[: len(data)] = data
        self.count += len(data)
        if self.count > self._limit:
            raise InputTooLarge(self._what, self._limit)
        return len(data)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


def is_gzip(head: bytes) -> bool:
    return head.startswith(GZIP_MAGIC)


def open_input(path: Path | str, limit: int | None = None) -> tuple[io.BufferedReader, bool]:
    """A regular file's content as a stream, decompressed in chunks when it is gzip; and whether it was.

    The stream raises InputTooLarge past ``limit`` bytes (of content, after decompression).
    """
    limit = max_input_bytes() if limit is None else limit
    handle = open_regular(path)
    try:
        compressed = is_gzip(handle.read(2))
        handle.seek(0)
        if compressed:
            inner = gzip.GzipFile(fileobj=handle, mode="rb")
            return io.BufferedReader(BoundedReader(inner, limit, "it decompresses to"), READ_CHUNK), True
        if os.fstat(handle.fileno()).st_size > limit:
            raise InputTooLarge("it holds", limit)
        return handle, False
    except BaseException:
        handle.close()
        raise


def looks_binary(head: bytes) -> bool:
    """Whether the first bytes of a document show it cannot be JSON or YAML text (a NUL byte, not UTF-16)."""
    return b"\x00" in head and not head.startswith(_UTF16_BOMS)


# --------------------------------------------------------------------------------------------
# YAML


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_yaml_node(root: yaml.Node) -> None:
    """Refuse a composed YAML node graph whose aliases expand it by more than MAX_YAML_ALIAS_NODES, or that loops.

    For readers that compose YAML themselves (``yaml.compose``) before building objects.
    """
    expanded: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            expanded[key] = 1 + sum(expanded[id(child)] for child in _children(node))
            continue
        if key in expanded:
            continue
        open_nodes.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_nodes:
                raise YAMLLimitError("a YAML alias refers to a node that contains it (a loop)")
            if id(child) not in expanded:
                stack.append((child, False))
    added = expanded[id(root)] - len(expanded)
    if added > MAX_YAML_ALIAS_NODES:
        raise YAMLLimitError(
            f"YAML aliases expand the document by more than {MAX_YAML_ALIAS_NODES:,} nodes (an alias bomb?)"
        )


def load_yaml_documents(data: bytes | str, loader: type[Any]) -> list[Any]:
    """Every document of a YAML stream, built by ``loader`` (a SafeLoader or CSafeLoader subclass).

    Raises YAMLLimitError (a yaml.YAMLError) for alias bombs, recursive aliases and nesting too
    deep to compose, besides the YAMLError of malformed YAML.
    """
    aliases_possible = (b"&" in data and b"*" in data) if isinstance(data, bytes) else ("&" in data and "*" in data)
    instance = loader(data)
    documents: list[Any] = []
    try:
        while instance.check_node():
            node = instance.get_node()
            if aliases_possible:
                check_yaml_node(node)
            documents.append(instance.construct_document(node))
    except RecursionError:
        raise YAMLLimitError(f"YAML {NESTED_TOO_DEEP}") from None
    finally:
        instance.dispose()
    return documents


# --------------------------------------------------------------------------------------------
# Display
