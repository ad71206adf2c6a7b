"""Read a cluster snapshot: a directory (or one file) of what kubectl writes.

Files may come in any order and under any names; each is recognised by its content.  Every file
is reported as read (and as what) or ignored (and why).  Broken data the user clearly meant us
to read (a ``.json``/``.yaml`` file that does not parse) stops the audit with a one-line error
rather than silently dropping nodes.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import msgspec

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
from patchlevel.collect.stream import STREAM_MIN_BYTES, NotStreamable, stream_items
from patchlevel.errors import InputError, UsageError
from patchlevel.importers.trivy_operator import parse_cluster_objects
from patchlevel.inventory import Inventory
from patchlevel.model import InputFile

DATA_SUFFIXES = (".json", ".yaml", ".yml", ".json.gz", ".yaml.gz", ".yml.gz")


def _is_data_name(name: str) -> bool:
    return name.lower().endswith(DATA_SUFFIXES)


def snapshot_files(path: Path) -> list[Path]:
    """The files of a snapshot, sorted; hidden files and folders are skipped."""
    if path.is_file():
        return [path]
    files: list[Path] = []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files.extend(Path(root) / n for n in sorted(names) if not n.startswith("."))
    return files


def _read(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    named = path.name.lower().endswith(".gz")
    if named or data.startswith(b"\x1f\x8b"):  # gzip by name, or by its magic bytes under any name
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            if named:
                raise InputError(f"{path}: not a readable gzip file ({exc})") from None
    return data


def _stream(file: Path) -> tuple[Decoded, str] | None:
    """Decode a large pretty-printed list in slabs; None when the file needs a whole decode."""
    if file.name.lower().endswith(".gz") or file.stat().st_size < STREAM_MIN_BYTES:
        return None
    decoded = Decoded()
    kinds: list[str | None] = []

    def on_slab(slab: memoryview, list_kind: str | None) -> None:
        decode_slab(slab, list_kind, decoded)
        kinds.append(list_kind)

    try:
        result = stream_items(file, on_slab)
    except (NotStreamable, msgspec.DecodeError, msgspec.ValidationError):
        return None  # the whole-file decoder gives the precise error, or succeeds
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror or exc}") from None
    decoded.list_kinds[result.list_kind or "List"] += len(decoded.pods) + len(decoded.nodes)
    return decoded, result.sha256


def read_snapshot(path: Path, scan_parser: ScanParser | None = None) -> Inventory:
    """Read a snapshot directory or file into an Inventory.

    trivy-operator VulnerabilityReports among the files become ``Inventory.scans`` (through
    ``scan_parser``, by default the trivy-operator importer).

    An evidence bundle (a directory with a bundle manifest, or a ``.tar.gz``) is read, and
    verified, by ``collect.bundle.read_bundle``.

    Raises UsageError for a path that does not exist and InputError when nothing usable is found.
    """
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    from patchlevel.collect.bundle import is_bundle, read_bundle

    if is_bundle(path):
        return read_bundle(path, scan_parser)
    builder = InventoryBuilder("snapshot", scan_parser or parse_cluster_objects)
    files = snapshot_files(path)
    if not files:
        raise InputError(f"{path} is an empty directory", hint="write kubectl output into it first")
    for file in files:
        shown = str(file)
        if file.is_symlink() and not file.exists():
            builder.record(InputFile(shown, "ignored", reason="broken symbolic link"))
            continue
        if _is_data_name(file.name) and (streamed := _stream(file)) is not None:
            decoded, digest = streamed
            builder.add(decoded, shown)
            builder.record(InputFile(shown, decoded.describe(), decoded.used, sha256=digest))
            continue
        data = _read(file)
        digest = hashlib.sha256(data).hexdigest()
        if is_blank(data):
            builder.record(InputFile(shown, "ignored", reason="empty file", sha256=digest))
            continue
        if _is_data_name(file.name) or path.is_file():
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
