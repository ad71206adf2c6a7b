"""Read a cluster snapshot: a directory (or one file) of what kubectl writes.

Files may come in any order and under any names; each is recognised by its content.  Every file
is reported as read (and as what) or ignored (and why).  Broken data the user clearly meant us
to read (a ``.json``/``.yaml`` file that does not parse) stops the audit with a one-line error
rather than silently dropping nodes.
"""

from __future__ import annotations

import hashlib
import os
from io import BufferedIOBase
from pathlib import Path

import msgspec

from patchlevel.collect.apimetrics import looks_like_exposition, parse_apiserver_metrics
from patchlevel.collect.assemble import InventoryBuilder, ScanParser
from patchlevel.collect.decode import (
    Decoded,
    decode_bytes,
    decode_json_bytes,
    decode_slab,
    decode_yaml_bytes,
    is_blank,
    looks_like_json,
)
from patchlevel.collect.stream import STREAM_MIN_BYTES, NotStreamable, stream_from, stream_items
from patchlevel.errors import InputError, UsageError
from patchlevel.importers.trivy_operator import parse_cluster_objects
from patchlevel.inventory import Inventory
from patchlevel.model import InputFile
from patchlevel.safeinput import (
    SNIFF_BYTES,
    looks_binary,
    max_input_bytes,
    open_input,
    read_limited,
    regular_file_problem,
)

DATA_SUFFIXES = (".json", ".yaml", ".yml", ".json.gz", ".yaml.gz", ".yml.gz")


def _is_data_name(name: str) -> bool:
    return name.lower().endswith(DATA_SUFFIXES)


def snapshot_entries(path: Path) -> list[tuple[Path, str]]:
    """The entries of a snapshot, sorted, each with the reason it is not read ("" when it is).

    Hidden files and folders are skipped unreported; symbolic links to folders are reported
    and not followed (no loops); FIFOs, devices, sockets and broken or looping links are
    reported and never opened.
    """
    if not path.is_dir():
        return [(path, "")]
    entries: list[tuple[Path, str]] = []
    for root, dirs, names in os.walk(path):
        linked = sorted(d for d in dirs if not d.startswith(".") and Path(root, d).is_symlink())
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in linked)
        found = [(Path(root) / n, "") for n in names if not n.startswith(".")]
        found += [(Path(root) / d, "a symbolic link to a directory, not followed") for d in linked]
        entries.extend(sorted(found))
    return [(file, reason or _not_read(file)) for file, reason in entries]


def snapshot_files(path: Path) -> list[Path]:
    """The files of a snapshot, sorted; hidden files and folders are skipped."""
    return [file for file, _ in snapshot_entries(path)]


def _not_read(file: Path) -> str:
    problem = regular_file_problem(file)
    return f"{problem}, not read" if problem else ""


def _stream(file: Path) -> tuple[Decoded, str] | None:
    """Decode a large pretty-printed list in slabs; None when the file needs a whole decode."""
    if os.stat(file).st_size < STREAM_MIN_BYTES:
        return None
    return _streamed(lambda on_slab: stream_items(file, on_slab))


def _stream_gzip(handle: BufferedIOBase, prefix: bytes) -> tuple[Decoded, str] | None:
    """``_stream`` for the content of a .gz file, decompressed chunk by chunk as it is decoded."""
    return _streamed(lambda on_slab: stream_from(handle, on_slab, prefix=prefix))


def _streamed(run: object) -> tuple[Decoded, str] | None:
    decoded = Decoded()

    def on_slab(slab: memoryview, list_kind: str | None) -> None:
        decode_slab(slab, list_kind, decoded)

    try:
        result = run(on_slab)  # type: ignore[operator]
    except (NotStreamable, msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None  # the whole-file decoder gives the precise error, or succeeds
    decoded.list_kinds[result.list_kind or "List"] += len(decoded.pods) + len(decoded.nodes)
    return decoded, result.sha256


def _content(file: Path, shown: str, meant: bool, limit: int) -> tuple[Decoded, str] | bytes | str:
    """What a file holds: decoded by the streaming reader, or its bytes, or why it is not read.

    A ``.gz`` file (by name or by its magic bytes) is decompressed chunk by chunk, never past
    ``limit`` bytes; a large one holding a pretty-printed list is decoded as it is decompressed.
    Content whose first bytes show it is binary is not read further: an InputError when the
    file is ``meant`` as data, else the reason to ignore it.
    """
    gz_name = file.name.lower().endswith(".gz")
    if _is_data_name(file.name) and not gz_name and (streamed := _stream(file)) is not None:
        return streamed
    handle, compressed = open_input(file, limit)
    with handle:
        if gz_name and not compressed:
            raise InputError(f"{shown}: not a readable gzip file (it does not start with the gzip magic bytes)")
        head = _read_up_to(handle, SNIFF_BYTES)
        if looks_binary(head):
            if meant:
                raise InputError(f"{shown}: not JSON or YAML text (a NUL byte at byte {head.index(0)})")
            return "not JSON or YAML"
        if compressed:
            head += _read_up_to(handle, STREAM_MIN_BYTES - len(head))
            if len(head) == STREAM_MIN_BYTES and looks_like_json(head):  # large: decode as it is decompressed
                if (streamed := _stream_gzip(handle, head)) is not None:
                    return streamed
                del head  # 64 MiB not to hold while the whole content is read again
                again, _ = open_input(file, limit)  # not a pretty-printed list: decompress it again, whole
                with again:
                    return read_limited(again, limit, "it decompresses to")
        return read_limited(handle, limit, "it decompresses to" if compressed else "it holds", prefix=head)


def _read_up_to(handle: BufferedIOBase, size: int) -> bytes:
    """At most ``size`` bytes, fewer only at the end of the stream (a gzip stream gives what it has)."""
    parts = []
    wanted = size
    while wanted > 0 and (chunk := handle.read(wanted)):
        parts.append(chunk)
        wanted -= len(chunk)
    return b"".join(parts)


def read_snapshot(path: Path, scan_parser: ScanParser | None = None, *, max_bytes: int | None = None) -> Inventory:
    """Read a snapshot directory or file into an Inventory.

    trivy-operator VulnerabilityReports among the files become ``Inventory.scans`` (through
    ``scan_parser``, by default the trivy-operator importer).

    An evidence bundle (a directory with a bundle manifest, or a ``.tar.gz``) is read, and
    verified, by ``collect.bundle.read_bundle``.

    ``max_bytes`` bounds what one file may hold, after decompression (default: the
    ``PATCHLEVEL_MAX_INPUT_BYTES`` environment variable, else 4 GiB).

    Raises UsageError for a path that does not exist or is not a file or directory, and
    InputError when nothing usable is found.
    """
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"{path} does not exist")
    limit = max_input_bytes() if max_bytes is None else max_bytes
    from patchlevel.collect.bundle import is_bundle, read_bundle

    if not path.is_dir():
        problem = regular_file_problem(path)
        if problem is not None:
            raise UsageError(
                f"{path} is {problem}, not a snapshot directory, snapshot file or evidence bundle",
                hint="give the directory kubectl output was written into",
            )
    if is_bundle(path):
        return read_bundle(path, scan_parser, max_bytes=limit)
    builder = InventoryBuilder("snapshot", scan_parser or parse_cluster_objects)
    entries = snapshot_entries(path)
    if not entries:
        raise InputError(f"{path} is an empty directory", hint="write kubectl output into it first")
    for file, skipped in entries:
        shown = str(file)
        if skipped:
            builder.record(InputFile(shown, "ignored", reason=skipped))
            continue
        meant = _is_data_name(file.name) or path.is_file()
        try:
            content = _content(file, shown, meant, limit)
        except OSError as exc:
            raise InputError(f"cannot read {file}: {exc.strerror or exc}") from None
        if isinstance(content, str):
            builder.record(InputFile(shown, "ignored", reason=content))
            continue
        if isinstance(content, tuple):
            decoded, digest = content
            builder.add(decoded, shown)
            builder.record(InputFile(shown, decoded.describe(), decoded.used, sha256=digest))
            continue
        data = content
        digest = hashlib.sha256(data).hexdigest()
        if is_blank(data):
            builder.record(InputFile(shown, "ignored", reason="empty file", sha256=digest))
            continue
        if not meant and looks_like_exposition(data[:SNIFF_BYTES]):  # kubectl get --raw /metrics
            metrics, problems = parse_apiserver_metrics(data, shown)
            exposition = Decoded(apiserver_metrics=metrics)
            builder.add(exposition, shown)
            builder.warnings.extend(problems)
            builder.record(InputFile(shown, exposition.describe(), exposition.used, sha256=digest))
            continue
        if meant:
            decoded = decode_bytes(data, shown)
        elif looks_like_json(data):
            try:
                decoded = decode_json_bytes(data, shown)
            except InputError as exc:
                builder.record(InputFile(shown, "ignored", reason=f"not a data file ({exc.message})", sha256=digest))
                continue
        else:
            try:
                decoded = decode_yaml_bytes(data, shown)
            except InputError:
                builder.record(InputFile(shown, "ignored", reason="not JSON or YAML", sha256=digest))
                continue
        builder.add(decoded, shown)
        described = decoded.describe()  # "" for a list of kinds patchlevel does not use (a ServiceList)
        if described:
            ignored = sum(decoded.ignored.values())
            note = f"; ignored {ignored} other object{'s' if ignored != 1 else ''}" if ignored else ""
            builder.record(InputFile(shown, described + note, decoded.used, sha256=digest))
        else:
            kinds = ", ".join(f"{n} {k}" for k, n in sorted(decoded.ignored.items())) or "no Kubernetes objects"
            builder.record(InputFile(shown, "ignored", reason=f"nothing patchlevel uses ({kinds})", sha256=digest))
    inventory = builder.build(name=path.resolve().name if path.is_dir() else path.stem)
    if inventory.version is None and not inventory.nodes:
        raise InputError(
            f"no API server version and no nodes found in {path}",
            hint="a snapshot needs 'kubectl version -o json' or 'kubectl get nodes -o json' output",
        )
    return inventory
