"""Run a scanner (Trivy or Grype) on each unique running image, with an on-disk cache.

``audit --scan trivy|grype`` uses this: every image known by a registry digest is scanned by
that digest (``registry/repo@sha256:…``), so the report is of exactly what runs; an image known
only by a runtime-local ID is scanned by its reference (the report's image ID then proves, or
not, that it is the same image).  Images whose digest is unknown are not scanned.

* At most ``concurrency`` scanners run at once; each gets ``timeout`` seconds and is killed
  (with its process group) after that.
* Results are cached under ``cache_dir/<scanner>/``: the scanner's output unchanged
  (``<algorithm>-<hex>.json``, readable with ``--scan-report`` too) and beside it
  ``….meta.json`` with the target and the scan time.  A cached result is reused while it is no
  older than ``max_age_days`` (the policy's ``scan_max_age_days``) at ``clock()``.
* A scanner that is missing, times out, exits non-zero or writes something that is not a report
  never stops the audit: the image gets a failed ``ScanReport`` (``error`` says why, in one
  line: the reason, then " — " and the scanner's own last words).  A failed scan is no scan
  evidence: ``image_scanned_recently`` FAILs for the image exactly as without ``--scan`` (asking
  for a scan never judges better than not asking), and its finding says why the scanner did not
  run.  ``ScanRun.messages`` says what happened, for the user; ``ScanRun.complete`` is False
  when any scan failed, which makes the audit incomplete.

This module runs programs and reads and writes files; it does not read the clock (``clock`` is
passed in) and decides nothing about compliance.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from patchlevel.errors import ImporterError, UsageError
from patchlevel.images import Identity, ImageInventory
from patchlevel.importers import parse_scan_document
from patchlevel.model import InputFile
from patchlevel.scans import ScanReport, failed_scan
from patchlevel.timestamps import timestamp

SCANNERS = ("trivy", "grype")
DEFAULT_TIMEOUT = 600.0  # seconds per image: a first Trivy run downloads its database
DEFAULT_CONCURRENCY = 4
CACHE_FORMAT = 1
_STDERR_TAIL = 300  # characters of the scanner's stderr kept in an error


@dataclass(frozen=True, slots=True)
class ScanTarget:
    """One image to scan: what the scanner is given, and what the result is keyed by."""

    reference: str  # "registry/repo@sha256:…", or the spec reference for a local image
    key: str  # cache key: the registry digest, or the local image ID
    repo_digest: str | None = None  # the running image's registry digest, when scanned by it
    image_id: str | None = None  # the runtime-local image ID, for local images


@dataclass(frozen=True, slots=True)
class ScanRun:
    """What a scan run produced: reports (failed ones included), the files behind them, and what happened."""

    reports: tuple[ScanReport, ...]
    inputs: tuple[InputFile, ...]
    scanned: int  # scanner runs that produced a report
    cached: int  # reports reused from the cache
    failed: int
    messages: tuple[str, ...]  # one line each, for stderr and the report's warnings

    @property
    def complete(self) -> bool:
        """Whether every image asked for was scanned (or taken from the cache): no scan failed."""
        return self.failed == 0

    @property
    def failures(self) -> tuple[ScanReport, ...]:
        """The failed scans' records (``ScanReport.error`` says why each did not run)."""
        return tuple(r for r in self.reports if r.error)


def scan_targets(images: ImageInventory) -> list[ScanTarget]:
    """The unique images worth scanning: by registry digest, else (local images) by reference."""
    targets: list[ScanTarget] = []
    for image in images.images:
        if image.identity is Identity.DIGEST and image.repo_digest and image.digest:
            targets.append(ScanTarget(image.repo_digest, image.digest, repo_digest=image.repo_digest))
        elif image.identity is Identity.LOCAL_ID and image.local_id and image.references:
            targets.append(ScanTarget(image.references[0], image.local_id, image_id=image.local_id))
    return targets


def default_cache_dir(environ: Mapping[str, str], home: Path | None = None) -> Path:
    """``$XDG_CACHE_HOME/patchlevel/scans``, else ``~/.cache/patchlevel/scans``."""
    base = environ.get("XDG_CACHE_HOME") or str((home or Path.home()) / ".cache")
    return Path(base) / "patchlevel" / "scans"


def scanner_command(scanner: str, executable: str, reference: str, timeout: float) -> list[str]:
    """The command line that writes one image's JSON report to stdout."""
    if scanner == "trivy":
        # Vulnerabilities only (no secret scanning); Trivy's own timeout a little inside ours.
        return [
            executable,
            "image",
            "--format",
            "json",
            "--quiet",
            "--scanners",
            "vuln",
            "--timeout",
            f"{max(1, int(timeout) - 5)}s",
            reference,
        ]
    if scanner == "grype":
        return [executable, reference, "--output", "json", "--quiet"]
    raise UsageError(f"unknown scanner {scanner!r}", hint=f"choose {' or '.join(SCANNERS)}")


def _cache_name(key: str) -> str:
    algorithm, _, encoded = key.partition(":")
    if encoded and algorithm.isalnum() and encoded.isalnum():
        return f"{algorithm}-{encoded}"
    return "ref-" + hashlib.sha256(key.encode()).hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True, slots=True)
class _Outcome:
    target: ScanTarget
    reports: tuple[ScanReport, ...]
    input: InputFile | None
    cached: bool
    error: str = ""


class _Runner:
    def __init__(
        self,
        scanner: str,
        executable: str | None,
        cache_dir: Path | None,
        clock: Callable[[], datetime],
        max_age: timedelta,
        timeout: float,
        environ: Mapping[str, str],
    ) -> None:
        self.scanner = scanner
        self.executable = executable
        self.cache_dir = cache_dir / scanner if cache_dir is not None else None
        self.clock = clock
        self.max_age = max_age
        self.timeout = timeout
        self.environ = dict(environ)

    def paths(self, target: ScanTarget) -> tuple[Path, Path] | None:
        if self.cache_dir is None:
            return None
        name = _cache_name(target.key)
        return self.cache_dir / f"{name}.json", self.cache_dir / f"{name}.meta.json"

    def cached(self, target: ScanTarget) -> _Outcome | None:
        paths = self.paths(target)
        if paths is None or not paths[1].is_file() or not paths[0].is_file():
            return None
        report_path, meta_path = paths
        try:
            meta = json.loads(meta_path.read_text())
            scanned_at = timestamp(meta["scanned_at"])
            if meta.get("format") != CACHE_FORMAT or meta.get("key") != target.key:
                return None
            data = report_path.read_bytes()
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # an unreadable entry is scanned again and rewritten
        # an undated entry, or one dated in the future (it would never expire), is scanned again too
        now = self.clock()
        if scanned_at is None or scanned_at > now or now - scanned_at > self.max_age:
            return None
        try:
            reports = self.parse(target, data, str(report_path), scanned_at)
        except ImporterError:
            return None
        return _Outcome(target, reports, self.input(report_path, data, target, reports, "cached"), cached=True)

    def parse(self, target: ScanTarget, data: bytes, source: str, scanned_at: datetime) -> tuple[ScanReport, ...]:
        reports = parse_scan_document(data, source)
        if not reports:
            raise ImporterError(f"{source}: the report holds no image scan")
        out = []
        for report in reports:
            changes: dict[str, object] = {}
            if report.scanned_at is None:
                changes["scanned_at"] = scanned_at  # older scanners do not date their reports
            if target.repo_digest and target.repo_digest.rpartition("@")[2] not in report.digests:
                # Scanned by digest: the report is of that digest whether or not the scanner says so.
                changes["repo_digests"] = (*report.repo_digests, target.repo_digest)
            out.append(dataclasses.replace(report, **changes) if changes else report)  # type: ignore[arg-type]
        return tuple(out)

    def input(
        self, path: Path | str, data: bytes, target: ScanTarget, reports: Sequence[ScanReport], how: str
    ) -> InputFile:
        return InputFile(
            str(path),
            f"{self.scanner} scan of {target.reference} ({how})",
            objects=len(reports),
            sha256=hashlib.sha256(data).hexdigest(),
        )

    def failure(self, target: ScanTarget, error: str, started: datetime | None) -> _Outcome:
        report = failed_scan(
            f"{self.scanner} {target.reference}",
            self.scanner,
            target.reference,
            error,
            scanned_at=started,
            repo_digest=target.repo_digest,
            image_id=target.image_id,
        )
        return _Outcome(target, (report,), None, cached=False, error=error)

    def scan(self, target: ScanTarget) -> _Outcome:
        found = self.cached(target)
        if found is not None:
            return found
        if self.executable is None:
            return self.failure(target, f"{self.scanner} is not installed (not found on PATH)", None)
        started = self.clock()
        command = scanner_command(self.scanner, self.executable, target.reference, self.timeout)
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self.environ,
                start_new_session=True,
            )
        except OSError as error:
            return self.failure(target, f"cannot run {self.scanner} — {error.strerror or error}", started)
        try:
            out, err = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            out, err = process.communicate()
            return self.failure(target, _with_words(f"{self.scanner} timed out after {self.timeout:g} s", err), started)
        if process.returncode != 0:
            return self.failure(
                target, _with_words(f"{self.scanner} exited with status {process.returncode}", err), started
            )
        paths = self.paths(target)
        source = str(paths[0]) if paths else f"{self.scanner} {target.reference}"
        try:
            reports = self.parse(target, out, source, started)
        except ImporterError as error:
            return self.failure(target, f"{self.scanner} wrote no readable report — {error.message}", started)
        shown: Path | str = source
        if paths is not None:
            try:
                _write_atomically(paths[0], out)
                meta = {
                    "format": CACHE_FORMAT,
                    "scanner": self.scanner,
                    "key": target.key,
                    "target": target.reference,
                    "scanned_at": started.isoformat(),
                }
                _write_atomically(paths[1], json.dumps(meta, indent=2).encode())
            except OSError:
                shown = f"{self.scanner} {target.reference}"  # not cached; the report is still used
                reports = tuple(dataclasses.replace(r, source=shown) for r in reports)
        return _Outcome(target, reports, self.input(shown, out, target, reports, "scanned"), cached=False)


def _with_words(reason: str, stderr: bytes) -> str:
    words = " ".join(stderr.decode("utf-8", "replace").split())
    if not words:
        return reason
    return f"{reason} — {words[-_STDERR_TAIL:]}"


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


def run_scans(
    targets: Sequence[ScanTarget],
    scanner: str,
    *,
    clock: Callable[[], datetime],
    max_age_days: int,
    cache_dir: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int = DEFAULT_CONCURRENCY,
    environ: Mapping[str, str] | None = None,
) -> ScanRun:
    """Scan each target (cache first) and return every report, failed scans included.

    ``environ`` is the scanner's environment and its ``PATH`` is where the scanner is looked up
    (default: this process's).  Raises UsageError for an unknown scanner or nonsense settings;
    scanner problems never raise (see the module docstring).
    """
    if scanner not in SCANNERS:
        raise UsageError(f"unknown scanner {scanner!r}", hint=f"choose {' or '.join(SCANNERS)}")
    if timeout <= 0 or concurrency < 1:
        raise UsageError("the scan timeout must be positive and the concurrency at least 1")
    env = dict(os.environ if environ is None else environ)
    executable = shutil.which(scanner, path=env.get("PATH", os.defpath))
    runner = _Runner(
        scanner, executable, cache_dir, clock, timeout=timeout, max_age=timedelta(days=max_age_days), environ=env
    )
    unique = list({t.key: t for t in targets}.values())
    outcomes: list[_Outcome] = []
    if unique:
        with ThreadPoolExecutor(min(concurrency, len(unique)), "patchlevel-scan") as pool:
            outcomes = list(pool.map(runner.scan, unique))
    return _summarise(scanner, executable, outcomes)


def _summarise(scanner: str, executable: str | None, outcomes: Sequence[_Outcome]) -> ScanRun:
    failed = [o for o in outcomes if o.error]
    cached = sum(1 for o in outcomes if o.cached)
    scanned = len(outcomes) - cached - len(failed)
    messages: list[str] = []
    if outcomes:
        messages.append(
            f"{scanner}: {len(outcomes)} image{'s' if len(outcomes) != 1 else ''}: {scanned} scanned, "
            f"{cached} from the cache, {len(failed)} failed"
        )
    if executable is None and failed:
        messages.append(
            f"{scanner} is not installed (not found on PATH): {len(failed)} image(s) could not be scanned and have "
            f"no scan evidence (image_scanned_recently FAILs); install {scanner} or give reports with --scan-report"
        )
    else:
        reasons: dict[str, int] = {}
        for outcome in failed:
            head = outcome.error.split(" — ", 1)[0]
            reasons[head] = reasons.get(head, 0) + 1
        for head, count in reasons.items():
            example = next(o for o in failed if o.error.startswith(head))
            messages.append(
                f"{head} for {count} image(s), which have no scan evidence (first: {example.target.reference}: "
                f"{example.error})"
            )
    return ScanRun(
        reports=tuple(r for o in outcomes for r in o.reports),
        inputs=tuple(o.input for o in outcomes if o.input is not None),
        scanned=scanned,
        cached=cached,
        failed=len(failed),
        messages=tuple(messages),
    )
