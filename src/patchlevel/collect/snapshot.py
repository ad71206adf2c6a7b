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

from patchlevel.collect.assemble import InventoryBuilder, ScanParser
from patchlevel.collect.decode import decode_bytes, decode_json_bytes, decode_yaml_bytes, looks_like_json
from patchlevel.errors import InputError, UsageError
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
    if path.name.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"{path}: not a readable gzip file ({exc})") from None
    return data


def read_snapshot(path: Path, scan_parser: ScanParser | None = None) -> Inventory:
    """Read a snapshot directory or file into an Inventory.

    Raises UsageError for a path that does not exist and InputError when nothing usable is found.
    """
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    builder = InventoryBuilder("snapshot", scan_parser)
    files = snapshot_files(path)
    if not files:
        raise InputError(f"{path} is an empty directory", hint="write kubectl output into it first")
    for file in files:
        shown = str(file)
        if file.is_symlink() and not file.exists():
            builder.record(InputFile(shown, "ignored", reason="broken symbolic link"))
            continue
        data = _read(file)
        digest = hashlib.sha256(data).hexdigest()
        if not data.strip():
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
        if decoded.used or decoded.list_kinds:
            ignored = sum(decoded.ignored.values())
            note = f"; ignored {ignored} other object{'s' if ignored != 1 else ''}" if ignored else ""
            builder.record(InputFile(shown, decoded.describe() + note, decoded.used, sha256=digest))
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
