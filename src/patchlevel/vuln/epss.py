"""FIRST's Exploit Prediction Scoring System (EPSS): the probability a CVE is exploited in the next 30 days.

FIRST publishes every score once a day as ``epss_scores-YYYY-MM-DD.csv.gz``
(https://www.first.org/epss/data_stats; served at https://epss.cyentia.com/):

    #model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z
    cve,epss,percentile
    CVE-1999-0001,0.0123,0.45678
    CVE-2024-99999,2e-05,0.00512

The first line is a ``#`` comment naming the model and the score date; scores may be written in
exponent form (``2e-05``).  ``parse_epss`` validates every row (a CVE id, a score and a
percentile in 0..1) and fails with the file and line of the first bad one; a file whose name
carries a date must agree with its ``score_date``.  The whole feed is about 300,000 rows: pass
``only`` (the CVE ids an audit needs) to keep just those in memory.

API::

    scores = load_epss(path, only={"CVE-2021-44228"})    # or parse_epss(data, where, only)
    scores.lookup("CVE-2021-44228")   # EpssScore(cve, score, percentile, date, model_version) | None
    epss_stale_warning(scores, as_of, max_age_days)
"""

from __future__ import annotations

import gzip
import io
import math
import re
import zlib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Final, cast

from patchlevel.errors import LifecycleError

EPSS_URL: Final = "https://epss.cyentia.com/epss_scores-current.csv.gz"
EPSS_FILE: Final = re.compile(r"epss_scores-(\d{4}-\d{2}-\d{2})\.csv(?:\.gz)?")
MAX_DECOMPRESSED_BYTES: Final = 256 * 1024 * 1024  # the 2025 feed is about 12 MB uncompressed
_CVE = re.compile(r"CVE-\d{4}-\d{4,19}")
_HEADER = ("cve", "epss", "percentile")


@dataclass(frozen=True, slots=True)
class EpssScore:
    cve: str
    score: float  # probability of exploitation activity in the next 30 days, 0..1
    percentile: float  # share of scored CVEs with a score at or below this one, 0..1
    date: date  # the score date
    model_version: str

    def describe(self) -> str:
        return (
            f"EPSS {self.score:.5f} (percentile {self.percentile:.3f}, scored {self.date}, model {self.model_version})"
        )


@dataclass(frozen=True, slots=True)
class EpssScores:
    """One day's scores (all, or the ``only`` subset they were read with)."""

    score_date: date
    model_version: str
    scores: Mapping[str, tuple[float, float]]  # cve -> (score, percentile)
    rows: int  # rows in the file (before ``only``)
    source: str = ""

    def lookup(self, cve: str) -> EpssScore | None:
        key = cve.strip().upper()
        found = self.scores.get(key)
        if found is None:
            return None
        return EpssScore(key, found[0], found[1], self.score_date, self.model_version)

    def __len__(self) -> int:
        return len(self.scores)


def _text_lines(data: bytes, where: str) -> Iterator[str]:
    """Lines of a plain or gzip-compressed file, decompressed lazily and bounded."""
    stream: io.BufferedIOBase = io.BytesIO(data)
    if data[:2] == b"\x1f\x8b":
        stream = cast(io.BufferedIOBase, gzip.GzipFile(fileobj=stream))
    total = 0
    try:
        with io.TextIOWrapper(cast(IO[bytes], stream), encoding="utf-8-sig", newline="") as text:
            for line in text:
                total += len(line)
                if total > MAX_DECOMPRESSED_BYTES:
                    raise LifecycleError(
                        f"{where}: more than {MAX_DECOMPRESSED_BYTES} bytes of scores; not an EPSS file"
                    )
                yield line.rstrip("\r\n")
    except (OSError, EOFError, zlib.error) as exc:
        raise LifecycleError(f"{where}: not a readable gzip file ({exc})") from None
    except UnicodeDecodeError:
        raise LifecycleError(f"{where}: not UTF-8 text") from None


def _metadata(line: str, where: str) -> tuple[str, date]:
    if not line.startswith("#"):
        raise LifecycleError(
            f"{where}: line 1 is not the '#model_version:…,score_date:…' comment of an EPSS file: {line[:80]!r}"
        )
    fields: dict[str, str] = {}
    for part in line[1:].split(","):
        key, sep, value = part.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    model = fields.get("model_version", "")
    raw_date = fields.get("score_date", "")
    try:
        score_date = date.fromisoformat(raw_date[:10])
    except ValueError:
        raise LifecycleError(f"{where}: line 1: score_date {raw_date!r} is not a date") from None
    if not model:
        raise LifecycleError(f"{where}: line 1 names no model_version")
    return model, score_date


def _probability(text: str, where: str, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise LifecycleError(f"{where}: line {line}: {column} {text!r} is not a number") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise LifecycleError(f"{where}: line {line}: {column} {text!r} is not between 0 and 1")
    return value


def parse_epss(data: bytes, where: str, only: Collection[str] | None = None) -> EpssScores:
    """Validate and read an EPSS score file (gzip or plain CSV); keep the ``only`` CVEs when given."""
    wanted = {c.strip().upper() for c in only} if only is not None else None
    lines = _text_lines(data, where)
    first = next(lines, None)
    if first is None:
        raise LifecycleError(f"{where}: empty file; not an EPSS score file")
    model, score_date = _metadata(first, where)
    header = next(lines, None)
    if header is None or tuple(h.strip().lower() for h in header.split(",")) != _HEADER:
        raise LifecycleError(f"{where}: line 2 is not the header 'cve,epss,percentile': {(header or '')[:80]!r}")
    scores: dict[str, tuple[float, float]] = {}
    rows = 0
    for number, line in enumerate(lines, start=3):
        if not line:
            continue
        parts = line.split(",")
        if len(parts) != 3:
            raise LifecycleError(f"{where}: line {number}: expected 3 columns, got {len(parts)}")
        cve = parts[0].strip().upper()
        if not _CVE.fullmatch(cve):
            raise LifecycleError(f"{where}: line {number}: {parts[0]!r} is not a CVE id")
        score = _probability(parts[1].strip(), where, number, "epss")
        percentile = _probability(parts[2].strip(), where, number, "percentile")
        rows += 1
        if wanted is None or cve in wanted:
            scores[cve] = (score, percentile)
    if rows == 0:
        raise LifecycleError(f"{where}: the file holds no scores")
    named = EPSS_FILE.search(Path(where).name)
    if named and date.fromisoformat(named[1]) != score_date:
        raise LifecycleError(f"{where}: the file name says {named[1]} but its score_date is {score_date}")
    return EpssScores(score_date, model, scores, rows, where)


def load_epss(path: Path, only: Collection[str] | None = None) -> EpssScores:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LifecycleError(f"cannot read EPSS scores {path}: {exc.strerror or exc}") from None
    return parse_epss(data, str(path), only)


def newest_epss_file(directory: Path) -> Path | None:
    """The ``epss_scores-DATE.csv.gz`` with the latest date in ``directory`` (None when there is none)."""
    if not directory.is_dir():
        return None
    dated = [(m[1], p) for p in directory.iterdir() if (m := EPSS_FILE.fullmatch(p.name))]
    return max(dated)[1] if dated else None


EPSS_FOLDER: Final = "epss"


def load_epss_data(data_dir: Path, only: Collection[str] | None = None) -> EpssScores | None:
    """The newest scores ``patchlevel lifecycle update`` stored in ``data_dir/epss`` (None: never fetched).

    EPSS is not bundled: without an update there are no scores, and reports must say so.
    """
    newest = newest_epss_file(data_dir / EPSS_FOLDER)
    return load_epss(newest, only) if newest is not None else None


def epss_stale_warning(scores: EpssScores, as_of: date, max_age_days: int) -> str | None:
    age = (as_of - scores.score_date).days
    if age <= max_age_days:
        return None
    return (
        f"EPSS scores are of {scores.score_date}, {age} days before the as-of date {as_of} (more than "
        f"{max_age_days}); run 'patchlevel lifecycle update'"
    )
