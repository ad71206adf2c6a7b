"""Evidence bundles: the API pages of one collection, exactly as received, and a manifest over them.

A bundle is a directory, or a ``.tar.gz`` of that directory (one top-level folder)::

    manifest.json                     what, when, who, and every file's SHA-256 and size
    version.json                      GET /version
    selfsubjectreview.json            POST selfsubjectreviews: the identity that collected (when offered)
    nodes/page-0001.json …            GET /api/v1/nodes?limit=…, one file per page
    pods/page-0001.json …             and so on for each listed resource

``manifest.json`` holds ``digest.sha256``: the SHA-256 of the manifest's canonical JSON (sorted
keys, no spaces) without the ``digest`` member.  ``verify_bundle`` recomputes it and every
file's hash, and names each changed, added or removed file.  In a ``.tar.gz`` the manifest is
the first member, so a bundle is read in one pass.  A bundle is written under a temporary name
and renamed into place; an existing bundle is replaced only when asked (``force``).

``read_bundle`` turns a bundle back into the Inventory the live collection produced: the same
pages go through the same decoder (``decode_json_bytes``) and ``InventoryBuilder``, in the same
order and under the same names, so auditing a bundle later gives the live audit's findings.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from patchlevel.collect.assemble import InventoryBuilder, ScanParser
from patchlevel.collect.decode import Decoded, decode_json_bytes
from patchlevel.errors import BundleError, UsageError
from patchlevel.inventory import Inventory
from patchlevel.model import InputFile

FORMAT = "patchlevel-evidence-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TAR_SUFFIXES = (".tar.gz", ".tgz")
# Roles of the files a manifest lists; pages of these roles are decoded into the inventory.
VERSION_ROLE = "version"
IDENTITY_ROLE = "identity"
PAGE_ROLE = "list-page"
DECODED_ROLES = frozenset({VERSION_ROLE, PAGE_ROLE})


@dataclass(frozen=True, slots=True)
class BundleFile:
    path: str  # relative, with '/'
    sha256: str
    size: int
    role: str
    request: str = ""  # the API request that returned it

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"path": self.path, "sha256": self.sha256, "size": self.size, "role": self.role}
        if self.request:
            entry["request"] = self.request
        return entry


def is_tarball(path: Path) -> bool:
    return path.name.lower().endswith(TAR_SUFFIXES)


def is_bundle(path: Path) -> bool:
    """A directory holding a bundle manifest, or a ``.tar.gz``/``.tgz`` file (read as a bundle)."""
    if path.is_dir():
        return _declares_bundle(path / MANIFEST)
    return path.is_file() and is_tarball(path)


def _declares_bundle(manifest: Path) -> bool:
    if not manifest.is_file():
        return False
    try:
        document = json.loads(manifest.read_bytes())
    except (OSError, ValueError):
        return True  # a manifest that does not parse is a broken bundle, not a snapshot
    return not isinstance(document, Mapping) or document.get("format") == FORMAT


def canonical_json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def manifest_digest(manifest: Mapping[str, Any]) -> str:
    """SHA-256 over the manifest's canonical JSON without its ``digest`` member."""
    body = {k: v for k, v in manifest.items() if k != "digest"}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def page_where(context: str, name: str) -> str:
    """How a page is named in the inventory's inputs and in scan evidence, live and from a bundle alike."""
    return f"{context or 'cluster'}:{name}"


def describe_page(decoded: Decoded) -> str:
    if decoded.used or not any(decoded.list_kinds.values()):
        return decoded.describe() or "nothing patchlevel uses"
    items = sum(decoded.list_kinds.values())
    kinds = ", ".join(sorted(decoded.list_kinds))
    return f"{kinds}: {items} item{'s' if items != 1 else ''} kept as evidence (not read by checks)"


def page_input(where: str, decoded: Decoded, sha256: str) -> InputFile:
    return InputFile(where, describe_page(decoded), decoded.used, sha256=sha256)


# ------------------------------------------------------------------------------------------
# Writing


class BundleWriter:
    """Writes pages into a temporary directory next to ``target``; ``finish`` renames it into place.

    Pages may be discarded before ``finish`` (a list that had to start again after 410 Expired).
    """

    def __init__(self, target: Path, *, force: bool = False) -> None:
        self.target = target
        self.force = force
        self.tarball = is_tarball(target)
        _check_target(target, force)
        parent = target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self._dir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=parent))
        except OSError as exc:
            raise BundleError(f"cannot create the bundle next to {target}: {exc.strerror or exc}") from None
        self._files: dict[str, BundleFile] = {}
        self._finished = False

    def page(self, name: str, data: bytes, *, role: str, request: str = "") -> str:
        """Store one page (the bytes exactly as received); returns its SHA-256."""
        relative = _safe_relative(name)
        path = self._dir / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError as exc:
            raise BundleError(f"cannot write {path}: {exc.strerror or exc}") from None
        digest = hashlib.sha256(data).hexdigest()
        self._files[relative] = BundleFile(relative, digest, len(data), role, request)
        return digest

    def discard(self, names: Sequence[str]) -> None:
        for name in names:
            relative = _safe_relative(name)
            if self._files.pop(relative, None) is not None:
                (self._dir / relative).unlink(missing_ok=True)

    def finish(self, metadata: Mapping[str, Any]) -> str:
        """Write the manifest (``metadata`` plus files and digest), move the bundle into place; return the digest."""
        manifest: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION, **metadata}
        manifest["files"] = [f.to_json() for f in self._files.values()]
        digest = manifest_digest(manifest)
        manifest["digest"] = {"algorithm": "sha256", "value": digest}
        text = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
        try:
            (self._dir / MANIFEST).write_bytes(text)
            _check_target(self.target, self.force)
            if self.tarball:
                self._write_tarball(text)
            else:
                _replace_directory(self._dir, self.target)
        except OSError as exc:
            self.abort()
            raise BundleError(f"cannot write the bundle {self.target}: {exc.strerror or exc}") from None
        except BaseException:
            self.abort()
            raise
        self._finished = True
        return digest

    def abort(self) -> None:
        """Remove what was written (the target is left as it was)."""
        shutil.rmtree(self._dir, ignore_errors=True)

    def _write_tarball(self, manifest: bytes) -> None:
        top = _top_name(self.target)
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{self.target.name}.", suffix=".partial", dir=self.target.parent
        )
        try:
            with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add_member(tar, f"{top}/{MANIFEST}", io.BytesIO(manifest), len(manifest))
                for entry in self._files.values():
                    with (self._dir / entry.path).open("rb") as page:
                        _add_member(tar, f"{top}/{entry.path}", page, entry.size)
            os.replace(temporary, self.target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        shutil.rmtree(self._dir, ignore_errors=True)


def _add_member(tar: tarfile.TarFile, name: str, data: Any, size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    tar.addfile(info, data)


def _top_name(target: Path) -> str:
    name = target.name
    for suffix in TAR_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or "bundle"
    return name


def _safe_relative(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or name == MANIFEST:
        raise ValueError(f"not a bundle member name: {name!r}")
    return path.as_posix()


def _check_target(target: Path, force: bool) -> None:
    if not target.exists() and not target.is_symlink():
        return
    if not force:
        raise BundleError(f"{target} already exists", hint="use --force to replace it, or name another bundle")
    if target.is_dir() and not (target / MANIFEST).is_file():
        raise BundleError(f"{target} is a directory but not a bundle; refusing to replace it, even with --force")
    if target.is_dir() != (not is_tarball(target)):
        raise BundleError(f"{target} exists and is not a bundle of the kind asked for; refusing to replace it")


def _replace_directory(source: Path, target: Path) -> None:
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
        os.replace(target, old / "bundle")
        os.replace(source, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(source, target)


# ------------------------------------------------------------------------------------------
# Reading and verifying


@dataclass(frozen=True, slots=True)
class Verification:
    """What ``verify_bundle`` found: no problems means every file is as the manifest says."""

    path: Path
    files: int
    digest: str
    problems: tuple[str, ...]
    manifest: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _load_manifest(data: bytes, where: str) -> dict[str, Any]:
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise BundleError(f"{where}: the manifest is not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{where}: not a patchlevel evidence bundle manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(
            f"{where}: bundle format {manifest.get('format_version')!r} is not supported (this patchlevel reads "
            f"{FORMAT_VERSION})"
        )
    files = manifest.get("files")
    if not isinstance(files, list) or not all(
        isinstance(f, dict) and isinstance(f.get("path"), str) and isinstance(f.get("sha256"), str) for f in files
    ):
        raise BundleError(f"{where}: the manifest's file list is malformed")
    return manifest


def _manifest_problems(manifest: Mapping[str, Any]) -> list[str]:
    recorded = manifest.get("digest")
    value = recorded.get("value") if isinstance(recorded, Mapping) else None
    actual = manifest_digest(manifest)
    if value != actual:
        return [f"changed: {MANIFEST} (its digest is {actual}, it records {value or 'none'})"]
    return []


class _Reader:
    """Walks a bundle's members once: the manifest first, then every file, checking each."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise UsageError(f"{path} does not exist")
        self.path = path
        self.problems: list[str] = []
        self.manifest: dict[str, Any] = {}

    def members(self) -> Iterator[tuple[Mapping[str, Any], bytes]]:
        """(manifest entry, bytes) of every listed file that is intact, in manifest order for a directory."""
        if self.path.is_dir():
            yield from self._directory()
        else:
            yield from self._tarball()

    def _expected(self) -> dict[str, Mapping[str, Any]]:
        self.problems.extend(_manifest_problems(self.manifest))
        return {entry["path"]: entry for entry in self.manifest["files"]}

    def _check(self, entry: Mapping[str, Any], data: bytes) -> bool:
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"] or len(data) != entry.get("size", len(data)):
            self.problems.append(
                f"changed: {entry['path']} (sha256 {digest}, {len(data)} bytes; the manifest records "
                f"{entry['sha256']}, {entry.get('size')} bytes)"
            )
            return False
        return True

    def _directory(self) -> Iterator[tuple[Mapping[str, Any], bytes]]:
        manifest_file = self.path / MANIFEST
        if not manifest_file.is_file():
            raise BundleError(f"{self.path} holds no {MANIFEST}: not an evidence bundle")
        self.manifest = _load_manifest(manifest_file.read_bytes(), str(manifest_file))
        expected = self._expected()
        for relative, entry in expected.items():
            file = self.path / _safe_member(relative, self.path)
            if file.is_symlink() or not file.is_file():
                self.problems.append(f"removed: {relative} (listed in the manifest, not in the bundle)")
                continue
            data = file.read_bytes()
            if self._check(entry, data):
                yield entry, data
        for root, dirs, names in os.walk(self.path):
            dirs.sort()
            for name in sorted(names) + [d for d in dirs if Path(root, d).is_symlink()]:
                relative = Path(root, name).relative_to(self.path).as_posix()
                if relative != MANIFEST and relative not in expected:
                    self.problems.append(f"added: {relative} (not in the manifest)")

    def _tarball(self) -> Iterator[tuple[Mapping[str, Any], bytes]]:
        try:
            with tarfile.open(self.path, mode="r|gz") as tar:
                yield from self._tar_members(tar)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BundleError(f"{self.path}: not a readable .tar.gz bundle ({exc})") from None

    def _tar_members(self, tar: tarfile.TarFile) -> Iterator[tuple[Mapping[str, Any], bytes]]:
        first = tar.next()
        if first is None or not first.isfile() or PurePosixPath(first.name).name != MANIFEST:
            raise BundleError(f"{self.path}: the first member is not {MANIFEST}: not an evidence bundle")
        top = PurePosixPath(first.name).parent
        self.manifest = _load_manifest(_read_member(tar, first), f"{self.path}:{first.name}")
        expected = self._expected()
        seen: set[str] = set()
        while (member := tar.next()) is not None:
            name = PurePosixPath(member.name)
            relative = name.relative_to(top).as_posix() if name.is_relative_to(top) else member.name
            if member.isdir():
                continue
            if not member.isfile():
                self.problems.append(f"added: {relative} (not a regular file)")
                continue
            entry = expected.get(relative)
            if entry is None or relative in seen:
                self.problems.append(f"added: {relative} ({'a second copy' if entry else 'not in the manifest'})")
                continue
            seen.add(relative)
            data = _read_member(tar, member)
            if self._check(entry, data):
                yield entry, data
        for relative in expected:
            if relative not in seen:
                self.problems.append(f"removed: {relative} (listed in the manifest, not in the bundle)")


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    if handle is None:
        raise BundleError(f"cannot read {member.name} from the bundle")
    return handle.read()


def _safe_member(relative: str, root: Path) -> str:
    try:
        return _safe_relative(relative)
    except ValueError:
        raise BundleError(f"{root}: the manifest lists an unsafe path {relative!r}") from None


def verify_bundle(path: Path) -> Verification:
    """Check the manifest's digest and every file; problems name each changed, added or removed file."""
    reader = _Reader(path)
    count = sum(1 for _ in reader.members())
    manifest = reader.manifest
    recorded = manifest.get("digest")
    digest = str(recorded.get("value", "")) if isinstance(recorded, Mapping) else ""
    return Verification(path, count, digest, tuple(reader.problems), manifest)


def read_bundle(path: Path, scan_parser: ScanParser | None = None) -> Inventory:
    """An intact bundle as the Inventory its collection produced; BundleError when it is not intact."""
    from patchlevel.importers.trivy_operator import parse_cluster_objects

    reader = _Reader(path)
    builder = InventoryBuilder("bundle", scan_parser or parse_cluster_objects, share_strings=True)
    context = ""
    for entry, data in reader.members():
        if not context:
            context = str(_section(reader.manifest, "cluster").get("context", ""))
        if entry.get("role") not in DECODED_ROLES:
            continue
        where = page_where(context, entry["path"])
        decoded = decode_json_bytes(data, where)
        builder.add(decoded, where)
        builder.record(page_input(where, decoded, entry["sha256"]))
    if reader.problems:
        shown = "; ".join(reader.problems[:3]) + (
            f"; and {len(reader.problems) - 3} more" if len(reader.problems) > 3 else ""
        )
        raise BundleError(f"{path} is not intact: {shown}", hint=f"'patchlevel verify {path}' lists every problem")
    manifest = reader.manifest
    cluster = _section(manifest, "cluster")
    collection = _section(manifest, "collection")
    denied = _section(manifest, "denied")
    warnings = manifest.get("warnings")
    warnings = warnings if isinstance(warnings, list) else []
    builder.denied.update({str(k): str(v) for k, v in denied.items()})
    builder.warnings.extend(str(w) for w in warnings)
    return builder.build(
        name=str(cluster.get("context", "")),
        server=str(cluster.get("server", "")),
        collected_at=_time(collection.get("finished")),
        evidence_digest=str(manifest["digest"]["value"]),
    )


def _section(manifest: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = manifest.get(key)
    return value if isinstance(value, Mapping) else {}


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
