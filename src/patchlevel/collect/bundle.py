"""Evidence bundles: the API pages of one collection, exactly as received, and a manifest over them.

A bundle is a directory, or a ``.tar.gz`` of that directory (one top-level folder)::

    manifest.json                     what, when, who, and every file's SHA-256 and size
    version.json                      GET /version
    selfsubjectreview.json            POST selfsubjectreviews: the identity that collected (when offered)
    nodes/page-0001.json …            GET /api/v1/nodes?limit=…, one file per page
    pods/page-0001.json …             and so on for each listed resource
    metrics.txt                       GET /metrics (Prometheus text), when the identity may read it

``manifest.json`` holds ``digest.sha256``: the SHA-256 of the manifest's canonical JSON (sorted
keys, no spaces) without the ``digest`` member.  ``verify_bundle`` recomputes it and every
file's hash, and names each changed, added or removed file.  In a ``.tar.gz`` the manifest is
the first member, so a bundle is read in one pass.  A bundle is written under a temporary name
and renamed into place; an existing bundle is replaced only when asked (``force``).

``read_bundle`` turns a bundle back into the Inventory the live collection produced: the same
pages go through the same decoder (``decode_json_bytes``) and ``InventoryBuilder``, in the same
order and under the same names, so auditing a bundle later gives the live audit's findings.

Reading is bounded and never extracts anything: every member is hashed as it is decompressed,
in chunks; only the pages to decode are kept, each at most ``max_bytes`` (the input size limit)
and only when its first bytes are text.  A member or manifest path that is absolute, holds
``..`` or leaves the bundle's folder, and a member that is a link, a device, a FIFO or anything
but a regular file, is a problem ("unsafe: …") like a changed file: ``verify`` fails naming it
and ``read_bundle`` refuses the bundle.  Names from the bundle are shown with control characters
escaped (``patchlevel.text.visible``), so a member name cannot forge a line of ``verify``'s output.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from patchlevel.collect.apimetrics import parse_apiserver_metrics
from patchlevel.collect.assemble import InventoryBuilder, ScanParser
from patchlevel.collect.decode import Decoded, decode_json_bytes
from patchlevel.errors import BundleError, UsageError
from patchlevel.inventory import Inventory
from patchlevel.model import InputFile
from patchlevel.safeinput import (
    NESTED_TOO_DEEP,
    READ_CHUNK,
    SNIFF_BYTES,
    InputTooLarge,
    looks_binary,
    max_input_bytes,
    open_regular,
    read_limited,
    read_regular,
    regular_file_problem,
)
from patchlevel.text import visible
from patchlevel.timestamps import ACCEPTED, timestamp
from patchlevel.timestamps import shown as shown_raw

FORMAT = "patchlevel-evidence-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TAR_SUFFIXES = (".tar.gz", ".tgz")
# Roles of the files a manifest lists; pages of these roles are decoded into the inventory.
VERSION_ROLE = "version"
IDENTITY_ROLE = "identity"
PAGE_ROLE = "list-page"
METRICS_ROLE = "metrics"  # GET /metrics (Prometheus text): the deprecated-API request gauge
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
    if not manifest.is_file() or manifest.is_symlink():
        return manifest.is_symlink()  # a linked manifest is a broken bundle (reading it says so), not a snapshot
    try:
        document = json.loads(read_regular(manifest))
    except (OSError, ValueError, RecursionError):
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
    except RecursionError:
        raise BundleError(f"{where}: the manifest is JSON {NESTED_TOO_DEEP}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{where}: not a patchlevel evidence bundle manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(
            f"{where}: bundle format {visible(repr(manifest.get('format_version')))} is not supported (this "
            f"patchlevel reads {FORMAT_VERSION})"
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
        return [f"changed: {MANIFEST} (its digest is {actual}, it records {visible(str(value or 'none'))})"]
    return []


def _unsafe_path(name: str) -> str:
    """Why a path from a bundle (manifest entry or member name) is unsafe to follow, "" when it is not."""
    if not name or name.startswith("/") or PurePosixPath(name).is_absolute():
        return "an absolute path" if name else "an empty path"
    if ".." in PurePosixPath(name).parts:
        return "a path with '..'"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "a path with control characters"
    return ""


def _member_problem(member: tarfile.TarInfo) -> str:
    """Why a tar member is not a plain file of the bundle, "" when it is one."""
    if member.issym():
        return f"a symbolic link to {visible(member.linkname)!r}"
    if member.islnk():
        return f"a hard link to {visible(member.linkname)!r}"
    if member.ischr() or member.isblk():
        return "a device"
    if member.isfifo():
        return "a FIFO (named pipe)"
    if not member.isfile():
        return "not a regular file"
    return ""


# Extended tar headers (long names, pax records) are read whole by tarfile: a bundle needs a few
# hundred bytes of them; more is refused before it is read.
_MAX_TAR_HEADER_BYTES = 1024 * 1024
_EXTENDED_HEADER_TYPES = frozenset(
    {tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE}
)


class _BoundedTarInfo(tarfile.TarInfo):
    """TarInfo that refuses extended headers larger than a bundle needs, and GNU sparse files."""

    def _proc_member(self, tar: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _EXTENDED_HEADER_TYPES and self.size > _MAX_TAR_HEADER_BYTES:
            raise tarfile.HeaderError(f"an extended header of {self.size:,} bytes (at most {_MAX_TAR_HEADER_BYTES:,})")
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise tarfile.HeaderError("a GNU sparse member")
        return super()._proc_member(tar)  # type: ignore[misc, no-any-return]


@dataclass(frozen=True, slots=True)
class _Intact:
    """A bundle file whose hash and size match the manifest; ``data`` when it was kept for decoding."""

    entry: Mapping[str, Any]
    data: bytes | None
    binary: bool = False  # its first bytes showed it is not text (not kept)


class _Reader:
    """Walks a bundle's members once: the manifest first, then every file, checking each.

    Every file is hashed in chunks as it is read; only files whose role is in ``keep`` are held
    in memory (for decoding), each at most ``limit`` bytes.
    """

    def __init__(self, path: Path, limit: int, keep: frozenset[str] = frozenset()) -> None:
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"{path} does not exist")
        self.path = path
        self.limit = limit
        self.keep = keep
        self.problems: list[str] = []
        self.manifest: dict[str, Any] = {}

    def members(self) -> Iterator[_Intact]:
        """Every listed file that is intact, in manifest order for a directory, archive order for a tarball."""
        if self.path.is_dir():
            yield from self._directory()
        else:
            problem = regular_file_problem(self.path)
            if problem is not None:
                raise BundleError(f"{self.path} is {problem}, not an evidence bundle")
            yield from self._tarball()

    def _expected(self) -> dict[str, Mapping[str, Any]]:
        self.problems.extend(_manifest_problems(self.manifest))
        expected: dict[str, Mapping[str, Any]] = {}
        for entry in self.manifest["files"]:
            path = entry["path"]
            unsafe = _unsafe_path(path) or ("the manifest's own name" if path == MANIFEST else "")
            if unsafe:
                self.problems.append(f"unsafe: the manifest lists {visible(path)!r} ({unsafe})")
            else:
                expected[path] = entry
        return expected

    def _take(self, stream: IO[bytes], entry: Mapping[str, Any], shown: str) -> _Intact | None:
        """Hash (and maybe keep) one file's content; the _Intact when it matches its manifest entry."""
        digest = hashlib.sha256()
        keep = entry.get("role") in self.keep
        kept = io.BytesIO()  # its bytes are handed over without a copy
        size = 0
        binary = False
        while chunk := stream.read(READ_CHUNK):
            if size == 0 and keep and looks_binary(chunk[:SNIFF_BYTES]):
                keep, binary = False, True
            digest.update(chunk)
            size += len(chunk)
            if size > self.limit:
                self.problems.append(f"too large: {shown} (more than {self.limit:,} bytes, the input size limit)")
                return None
            if keep:
                kept.write(chunk)
        sha256 = digest.hexdigest()
        recorded_size = entry.get("size", size)
        if sha256 != entry["sha256"] or size != recorded_size:
            self.problems.append(
                f"changed: {shown} (sha256 {sha256}, {size} bytes; the manifest records "
                f"{visible(entry['sha256'])}, {visible(str(recorded_size))} bytes)"
            )
            return None
        return _Intact(entry, kept.getvalue() if keep else None, binary)

    def _directory(self) -> Iterator[_Intact]:
        manifest_file = self.path / MANIFEST
        problem = regular_file_problem(manifest_file)
        if problem is not None or manifest_file.is_symlink():
            raise BundleError(
                f"{self.path} holds no {MANIFEST}"
                + (f" ({MANIFEST} is {problem or 'a symbolic link'})" if manifest_file.is_symlink() or problem else "")
                + ": not an evidence bundle"
            )
        try:
            data = read_regular(manifest_file, self.limit)
        except OSError as exc:
            raise BundleError(f"cannot read {manifest_file}: {exc.strerror or exc}") from None
        self.manifest = _load_manifest(data, str(manifest_file))
        expected = self._expected()
        for relative, entry in expected.items():
            file = self.path / relative
            shown = visible(relative)
            problem = regular_file_problem(file)
            if file.is_symlink() or problem is not None:
                missing = problem in ("No such file or directory", "Not a directory")
                self.problems.append(
                    f"removed: {shown} (listed in the manifest, not in the bundle)"
                    if missing
                    else f"unsafe: {shown} ({problem or 'a symbolic link'})"
                )
                continue
            try:
                with open_regular(file, self.limit) as handle:
                    intact = self._take(handle, entry, shown)
            except InputTooLarge:
                self.problems.append(f"too large: {shown} (more than {self.limit:,} bytes, the input size limit)")
                continue
            except OSError as exc:
                raise BundleError(f"cannot read {file}: {exc.strerror or exc}") from None
            if intact is not None:
                yield intact
        for root, dirs, names in os.walk(self.path):
            dirs.sort()
            for name in sorted(names) + [d for d in dirs if Path(root, d).is_symlink()]:
                relative = Path(root, name).relative_to(self.path).as_posix()
                if relative != MANIFEST and relative not in expected:
                    self.problems.append(f"added: {visible(relative)} (not in the manifest)")

    def _tarball(self) -> Iterator[_Intact]:
        try:
            with open_regular(self.path) as raw, tarfile.open(fileobj=raw, mode="r|gz", tarinfo=_BoundedTarInfo) as tar:
                yield from self._tar_members(tar)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            problem = getattr(exc, "strerror", None) or exc
            raise BundleError(f"{self.path}: not a readable .tar.gz bundle ({problem})") from None

    def _tar_members(self, tar: tarfile.TarFile) -> Iterator[_Intact]:
        first = tar.next()
        if first is None or not first.isfile() or PurePosixPath(first.name).name != MANIFEST:
            raise BundleError(f"{self.path}: the first member is not {MANIFEST}: not an evidence bundle")
        top = PurePosixPath(first.name).parent
        if _unsafe_path(first.name) or len(top.parts) > 1:
            self.problems.append(
                f"unsafe: {visible(first.name)} ({_unsafe_path(first.name) or 'a manifest below the top folder'})"
            )
        if first.size > self.limit:
            raise BundleError(f"{self.path}: {MANIFEST} is more than {self.limit:,} bytes, the input size limit")
        self.manifest = _load_manifest(_read_member(tar, first, self.limit), f"{self.path}:{visible(first.name)}")
        expected = self._expected()
        seen: set[str] = set()
        while (member := tar.next()) is not None:
            name = PurePosixPath(member.name)
            inside = name.is_relative_to(top) and name != top
            relative = name.relative_to(top).as_posix() if inside else member.name
            shown = visible(relative)
            unsafe = _unsafe_path(member.name) or ("" if inside else f"outside the bundle's folder {visible(str(top))}")
            if unsafe:
                self.problems.append(f"unsafe: {visible(member.name)} ({unsafe})")
                continue
            if member.isdir():
                continue
            not_plain = _member_problem(member)
            if not_plain:
                self.problems.append(f"unsafe: {shown} ({not_plain})")
                continue
            entry = expected.get(relative)
            if entry is None or relative in seen:
                self.problems.append(f"added: {shown} ({'a second copy' if entry else 'not in the manifest'})")
                continue
            seen.add(relative)
            if member.size > self.limit:
                self.problems.append(
                    f"too large: {shown} ({member.size:,} bytes; the input size limit is {self.limit:,})"
                )
                continue
            handle = tar.extractfile(member)
            if handle is None:
                raise BundleError(f"cannot read {shown} from the bundle")
            intact = self._take(handle, entry, shown)
            if intact is not None:
                yield intact
        for relative in expected:
            if relative not in seen:
                self.problems.append(f"removed: {visible(relative)} (listed in the manifest, not in the bundle)")


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo, limit: int) -> bytes:
    handle = tar.extractfile(member)
    if handle is None:
        raise BundleError(f"cannot read {visible(member.name)} from the bundle")
    return read_limited(handle, limit, "it holds")


def verify_bundle(path: Path, *, max_bytes: int | None = None) -> Verification:
    """Check the manifest's digest and every file; problems name each changed, added, removed or unsafe file.

    Files are hashed as they are read, never held whole: memory stays small whatever the bundle holds.
    """
    reader = _Reader(path, max_input_bytes() if max_bytes is None else max_bytes)
    count = sum(1 for _ in reader.members())
    manifest = reader.manifest
    recorded = manifest.get("digest")
    digest = str(recorded.get("value", "")) if isinstance(recorded, Mapping) else ""
    return Verification(path, count, digest, tuple(reader.problems), manifest)


def read_bundle(path: Path, scan_parser: ScanParser | None = None, *, max_bytes: int | None = None) -> Inventory:
    """An intact bundle as the Inventory its collection produced; BundleError when it is not intact.

    ``max_bytes`` bounds each file of the bundle (default: the input size limit).
    """
    from patchlevel.importers.trivy_operator import parse_cluster_objects

    reader = _Reader(path, max_input_bytes() if max_bytes is None else max_bytes, keep=DECODED_ROLES | {METRICS_ROLE})
    builder = InventoryBuilder("bundle", scan_parser or parse_cluster_objects, share_strings=True)
    context = ""
    for intact in reader.members():
        entry = intact.entry
        if not context:
            context = visible(str(_section(reader.manifest, "cluster").get("context", "")))
        if entry.get("role") not in DECODED_ROLES | {METRICS_ROLE}:
            continue
        where = page_where(context, entry["path"])
        if intact.data is None:
            raise BundleError(f"{visible(where)}: not JSON (binary data), though the manifest records it intact")
        if entry.get("role") == METRICS_ROLE:  # its parse warnings are among the manifest's, as in the live audit
            decoded = Decoded(apiserver_metrics=parse_apiserver_metrics(intact.data, where)[0])
        else:
            decoded = decode_json_bytes(intact.data, where)
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
        collected_at=_collected_at(path, collection.get("finished")),
        evidence_digest=str(manifest["digest"]["value"]),
    )


def _section(manifest: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = manifest.get(key)
    return value if isinstance(value, Mapping) else {}


def _collected_at(path: Path, value: Any) -> datetime | None:
    """When the collection finished (UTC), None when the manifest does not say; BundleError when what it says
    is no time (``9999-12-31T23:00:00-05:00``: UTC cannot hold it): a ledger would date the audit by it."""
    if value is None:
        return None
    moment = timestamp(value) if isinstance(value, str) else None
    if moment is None:
        raise BundleError(
            f"{visible(str(path))}: the manifest's collection.finished {shown_raw(value)} is not {ACCEPTED}: "
            "when the evidence was collected is unknown",
            hint="collect the evidence again ('patchlevel collect')",
        )
    return moment
