"""Reading scan reports: bytes to documents, documents to a format, files and directories.

The format is decided from the content, never from the file name (see ``IMPORTERS``):

1. trivy-operator: an object of kind VulnerabilityReport, a List holding one, a dict keyed by
   CRD plural (``vulnerabilityreports``…), or a list/YAML stream of such objects;
2. ``trivy k8s``: an object with ``ClusterName`` and ``Vulnerabilities``/``Resources``/…;
3. Trivy: an object with ``SchemaVersion``, or a list whose first item has ``Target``;
4. Grype: an object with ``matches`` and ``descriptor`` or ``source``.

Text starting with ``{`` or ``[`` is JSON; anything else is tried as YAML.

Only regular files are read (a FIFO, device or socket in a report directory is listed as
skipped, never opened), each at most the input size limit (``safeinput.max_input_bytes``);
JSON nested deeper than can be decoded, YAML alias bombs and binary data are one-line errors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import yaml

from patchlevel.errors import ImporterError
from patchlevel.hostscans import NodeScan
from patchlevel.importers.base import Importer, Node, NotAScanReport, UnreadableDocument
from patchlevel.importers.grype import GrypeImporter
from patchlevel.importers.trivy import TrivyImporter, TrivyK8sImporter
from patchlevel.importers.trivy_operator import TrivyOperatorImporter
from patchlevel.model import InputFile
from patchlevel.safeinput import (
    NESTED_TOO_DEEP,
    YAMLLimitError,
    load_yaml_documents,
    looks_binary,
    read_regular,
    regular_file_problem,
)
from patchlevel.scans import ScanReport

# Tried in order; the first that recognises a document parses it.  Their shapes do not overlap
# (tests check that every fixture is recognised by exactly one).
IMPORTERS: tuple[Importer, ...] = (
    TrivyOperatorImporter(),
    TrivyK8sImporter(),
    TrivyImporter(),
    GrypeImporter(),
)

# In a directory, a file that fails to parse is an error only when its name says it holds data;
# otherwise (a README, notes) it is listed as skipped.
_DATA_SUFFIXES = frozenset({".json", ".yaml", ".yml"})
_EXPECTED = "expected Trivy, Grype or trivy-operator VulnerabilityReport output, as JSON or YAML"


@dataclass(frozen=True, slots=True)
class LoadResult:
    """The scan reports found under a path, and every file looked at (read or ignored)."""

    reports: tuple[ScanReport, ...]
    inputs: tuple[InputFile, ...]

    @property
    def skipped(self) -> tuple[InputFile, ...]:
        return tuple(f for f in self.inputs if f.read_as == "ignored")


def parse_scan_document(data: bytes | object, source: str) -> list[ScanReport]:
    """The scan reports in one document: JSON or YAML bytes, or already decoded objects.

    Objects must be JSON-compatible (what ``json.loads`` or a Kubernetes API client's raw
    response gives: dicts, lists, strings, numbers, booleans, None).  ``source`` names the
    document in every ScanReport and error ("reports/app.json", "cluster:vulnerabilityreports").
    Raises NotAScanReport (an ImporterError) when the document is in no known format, and
    ImporterError when it is malformed.
    """
    return _parse(_root(data, source), source)[1]


def load_scan_reports(path: Path, *, max_bytes: int | None = None) -> LoadResult:
    """Every scan report in a file, or in the files under a directory (recursive, sorted).

    A file named explicitly must be a scan report.  In a directory, files that are not (a
    README, a Node dump) are skipped and listed in ``LoadResult.inputs`` with the reason; hidden
    files and directories are listed but not read.  An empty directory gives an empty result.
    ``max_bytes`` bounds each file (default: the input size limit, ``safeinput.max_input_bytes``).
    """
    if path.is_dir():
        return _load_directory(path, max_bytes)
    if not path.exists() and not path.is_symlink():
        raise ImporterError(f"{path}: no such file or directory", hint="check the path to the scan reports")
    data = _read(path, max_bytes)
    importer, reports = _parse(_root(data, str(path)), str(path))
    return LoadResult(tuple(reports), (_input(path, hashlib.sha256(data).hexdigest(), importer, reports),))


def _load_directory(directory: Path, max_bytes: int | None) -> LoadResult:
    reports: list[ScanReport] = []
    inputs: list[InputFile] = []
    for path, skip_reason in _walk(directory):
        if skip_reason:
            inputs.append(InputFile(str(path), "ignored", reason=skip_reason))
            continue
        data = _read(path, max_bytes)
        sha256 = hashlib.sha256(data).hexdigest()
        try:
            importer, found = _parse(_root(data, str(path)), str(path))
        except NotAScanReport as exc:
            inputs.append(InputFile(str(path), "ignored", reason=exc.reason, sha256=sha256))
            continue
        except UnreadableDocument as exc:
            if path.suffix.lower() in _DATA_SUFFIXES:
                raise
            inputs.append(InputFile(str(path), "ignored", reason=exc.problem, sha256=sha256))
            continue
        reports.extend(found)
        inputs.append(_input(path, sha256, importer, found))
    return LoadResult(tuple(reports), tuple(inputs))


def _walk(directory: Path) -> Iterator[tuple[Path, str]]:
    """Files under ``directory`` depth first in name order, with a reason for those not read."""
    for entry in sorted(directory.iterdir(), key=lambda p: p.name):
        if entry.name.startswith("."):
            yield entry, "hidden directory, not searched" if entry.is_dir() else "hidden file"
        elif entry.is_dir():
            if entry.is_symlink():
                yield entry, "symbolic link to a directory, not followed"
            else:
                yield from _walk(entry)
        elif (problem := regular_file_problem(entry)) is None:
            yield entry, ""
        else:
            yield entry, f"{problem}, not read"


def _read(path: Path, max_bytes: int | None) -> bytes:
    try:
        return read_regular(path, max_bytes)
    except OSError as exc:
        problem = exc.strerror or str(exc)
        raise ImporterError(f"{path}: cannot read: {problem}", hint="check the file's permissions") from None


def _input(path: Path, sha256: str, importer: Importer, reports: list[ScanReport]) -> InputFile:
    count = len(reports)
    return InputFile(
        str(path),
        f"{importer.format} ({count} image scan{'' if count == 1 else 's'})",
        objects=count,
        sha256=sha256,
    )


def _parse(root: Node, source: str) -> tuple[Importer, list[ScanReport]]:
    for importer in IMPORTERS:
        if importer.recognises(root):
            return importer, importer.parse(root)
    raise NotAScanReport(source, root.describe(), hint=_EXPECTED)


# --- bytes to a document ---------------------------------------------------------------------


def _root(data: bytes | object, source: str) -> Node:
    if isinstance(data, str):
        data = data.encode()
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        return Node(data, source)
    text = _utf8(data, source)
    head = text.lstrip()[:1]
    if not head:
        raise NotAScanReport(source, "the file is empty", hint=_EXPECTED)
    if looks_binary(text[:4096]):
        raise NotAScanReport(source, f"binary data (a NUL byte at byte {text.index(0)})", hint=_EXPECTED)
    if head in (b"{", b"["):
        return _json_root(text, source)
    return _yaml_root(text, source)


def _utf8(data: bytes, source: str) -> bytes:
    """The bytes as UTF-8 without a byte order mark (PowerShell writes UTF-16 when redirecting)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16").encode()
        except UnicodeDecodeError:
            raise UnreadableDocument(source, "has a UTF-16 byte order mark but is not UTF-16") from None
    return data


def _json_root(text: bytes, source: str) -> Node:
    try:
        return Node.from_json(text, source)
    except msgspec.DecodeError as exc:
        raise UnreadableDocument(source, _json_problem(str(exc), text)) from None
    except RecursionError:
        raise UnreadableDocument(source, f"JSON {NESTED_TOO_DEEP}") from None
    except msgspec.ValidationError as exc:  # e.g. an integer of 5,000 digits at the top level
        raise UnreadableDocument(source, f"unreadable JSON: {exc}") from None


def _json_problem(message: str, text: bytes) -> str:
    """msgspec's decode error with its byte offset turned into line and column."""
    offset = len(text) if "truncated" in message else _byte_offset(message)
    if offset is None:
        return f"invalid JSON: {message}"
    line = text.count(b"\n", 0, offset) + 1
    column = offset - (text.rfind(b"\n", 0, offset) + 1) + 1
    reason = message.removeprefix("JSON is malformed: ").split(" (byte ")[0]
    if "truncated" in message:
        reason = "the document ends too early (truncated)"
    return f"invalid JSON at line {line}, column {column} (byte {offset}): {reason}"


def _byte_offset(message: str) -> int | None:
    _, sep, tail = message.rpartition("(byte ")
    number = tail.rstrip(")")
    return int(number) if sep and number.isdigit() else None


class _YAMLLoader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as the strings they were written as.

    Reports are read the same way whether they come as JSON or YAML; a timestamp turned into a
    naive datetime by PyYAML would lose its offset.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.yaml_implicit_resolvers = {
            char: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
            for char, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }


def _yaml_root(text: bytes, source: str) -> Node:
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotAScanReport(source, f"not text (byte {exc.start} is not UTF-8)", hint=_EXPECTED) from None
    try:
        documents = [d for d in load_yaml_documents(decoded, _YAMLLoader) if d is not None]
    except YAMLLimitError as exc:
        raise UnreadableDocument(source, exc.problem) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UnreadableDocument(source, f"neither JSON nor valid YAML{where}: {problem}") from None
    if not documents:
        raise NotAScanReport(source, "an empty YAML document", hint=_EXPECTED)
    return Node(documents[0] if len(documents) == 1 else documents, source)


# --- host scans (issue 11) -------------------------------------------------------------------
# Scans and SBOMs of a node's root filesystem (``--node-scan``) are read by their own importers
# (``importers.host``), never by the image importers above: a host report is no image evidence.

_HOST_EXPECTED = (
    "expected a Trivy rootfs/fs/vm report, a CycloneDX or SPDX SBOM of a host, or a trivy-operator "
    "NodeVulnerabilityReport, as JSON or YAML"
)


@dataclass(frozen=True, slots=True)
class HostLoadResult:
    """The host scans found under a path (not yet placed on nodes), and every file looked at."""

    scans: tuple[NodeScan, ...]
    inputs: tuple[InputFile, ...]


def parse_host_document(data: bytes | object, source: str) -> list[NodeScan]:
    """The host scans in one document; NotAHostScan when it is none (an image scan says so)."""
    from patchlevel.importers.host import HOST_IMPORTERS, NotAHostScan, image_scan_reason

    try:
        root = _root(data, source)
    except NotAScanReport as exc:
        raise NotAHostScan(source, exc.reason) from None
    for importer in HOST_IMPORTERS:
        if importer.recognises(root):
            return importer.parse(root)
    raise NotAHostScan(source, image_scan_reason(root))


def load_host_scans(path: Path, *, max_bytes: int | None = None) -> HostLoadResult:
    """Every host scan in a file, or in the files under a directory (recursive, sorted).

    A file named explicitly must be a host scan; in a directory, other files (image scans, a
    README) are listed as ignored with the reason.
    """
    from patchlevel.importers.host import NotAHostScan

    if not path.is_dir():
        if not path.exists() and not path.is_symlink():
            raise ImporterError(f"{path}: no such file or directory", hint="check the path to the node scans")
        data = _read(path, max_bytes)
        scans = parse_host_document(data, str(path))
        return HostLoadResult(tuple(scans), (_host_input(path, hashlib.sha256(data).hexdigest(), scans),))
    found: list[NodeScan] = []
    inputs: list[InputFile] = []
    for file, skip_reason in _walk(path):
        if skip_reason:
            inputs.append(InputFile(str(file), "ignored", reason=skip_reason))
            continue
        data = _read(file, max_bytes)
        sha256 = hashlib.sha256(data).hexdigest()
        try:
            scans = parse_host_document(data, str(file))
        except NotAHostScan as exc:
            inputs.append(InputFile(str(file), "ignored", reason=exc.reason, sha256=sha256))
            continue
        except UnreadableDocument as exc:
            if file.suffix.lower() in _DATA_SUFFIXES:
                raise
            inputs.append(InputFile(str(file), "ignored", reason=exc.problem, sha256=sha256))
            continue
        found.extend(scans)
        inputs.append(_host_input(file, sha256, scans))
    return HostLoadResult(tuple(found), tuple(inputs))


def _host_input(path: Path, sha256: str, scans: list[NodeScan]) -> InputFile:
    formats = ", ".join(dict.fromkeys(s.format for s in scans)) or "host scan"
    count = len(scans)
    read_as = f"{formats} ({count} host scan{'' if count == 1 else 's'})"
    return InputFile(str(path), read_as, objects=count, sha256=sha256)
