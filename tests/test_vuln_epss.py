"""FIRST EPSS daily scores: files constructed in the published format (comment line, exponent scores)."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pytest

from patchlevel.errors import LifecycleError
from patchlevel.vuln.epss import epss_stale_warning, load_epss, load_epss_data, newest_epss_file, parse_epss

HEAD = "#model_version:v2025.03.14,score_date:2026-12-01T12:55:00Z\ncve,epss,percentile\n"
ROWS = "CVE-2021-44228,0.94358,0.99959\nCVE-2025-5187,2e-05,0.00512\nCVE-2024-7598,0.00043,0.1207\n"


def epss_file(folder: Path, body: str = HEAD + ROWS, name: str = "epss_scores-2026-12-01.csv.gz") -> Path:
    path = folder / name
    path.write_bytes(gzip.compress(body.encode()) if name.endswith(".gz") else body.encode())
    return path


def test_a_constructed_daily_file(tmp_path: Path) -> None:
    scores = load_epss(epss_file(tmp_path))
    assert (scores.score_date, scores.model_version, scores.rows, len(scores)) == (
        date(2026, 12, 1),
        "v2025.03.14",
        3,
        3,
    )
    small = scores.lookup("cve-2025-5187")
    assert small is not None
    expected = ("CVE-2025-5187", 2e-05, 0.00512, date(2026, 12, 1))
    assert (small.cve, small.score, small.percentile, small.date) == expected
    assert small.describe() == "EPSS 0.00002 (percentile 0.005, scored 2026-12-01, model v2025.03.14)"
    assert scores.lookup("CVE-1999-0001") is None


def test_only_keeps_what_the_audit_needs(tmp_path: Path) -> None:
    scores = load_epss(epss_file(tmp_path), only={"CVE-2024-7598", "CVE-2030-0001"})
    assert (scores.rows, list(scores.scores)) == (3, ["CVE-2024-7598"])


def test_plain_csv_and_a_byte_order_mark(tmp_path: Path) -> None:
    scores = parse_epss(("\ufeff" + HEAD + ROWS).encode(), "scores.csv")
    assert scores.lookup("CVE-2021-44228") is not None


def test_newest_file_in_a_folder(tmp_path: Path) -> None:
    epss_file(tmp_path, name="epss_scores-2026-11-30.csv.gz", body=HEAD.replace("12-01", "11-30") + ROWS)
    newest = epss_file(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    assert newest_epss_file(tmp_path) == newest
    assert newest_epss_file(tmp_path / "absent") is None


def test_stale_warning(tmp_path: Path) -> None:
    scores = load_epss(epss_file(tmp_path))
    assert epss_stale_warning(scores, date(2026, 12, 7), 7) is None
    warning = epss_stale_warning(scores, date(2026, 12, 9), 7)
    assert warning is not None and warning.startswith("EPSS scores are of 2026-12-01, 8 days before")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", r"empty file"),
        ("cve,epss,percentile\n" + ROWS, r"line 1 is not the '#model_version:…,score_date:…' comment"),
        ("#model_version:v1,score_date:yesterday\ncve,epss,percentile\n", r"line 1: score_date 'yesterday'"),
        ("#score_date:2026-12-01\ncve,epss,percentile\n" + ROWS, r"line 1 names no model_version"),
        (HEAD.replace("percentile", "pct") + ROWS, r"line 2 is not the header 'cve,epss,percentile'"),
        (HEAD + "CVE-2021-44228,0.9\n", r"line 3: expected 3 columns, got 2"),
        (HEAD + "GHSA-xxxx,0.9,0.1\n", r"line 3: 'GHSA-xxxx' is not a CVE id"),
        (HEAD + ROWS + "CVE-2021-0001,1.5,0.2\n", r"line 6: epss '1.5' is not between 0 and 1"),
        (HEAD + "CVE-2021-0001,0.1,nan\n", r"line 3: percentile 'nan' is not between 0 and 1"),
        (HEAD + "CVE-2021-0001,0.1,high\n", r"line 3: percentile 'high' is not a number"),
        (HEAD, r"the file holds no scores"),
    ],
)
def test_invalid_files_name_the_line(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(LifecycleError, match=message):
        load_epss(epss_file(tmp_path, body))


def test_the_file_name_date_must_match_the_score_date(tmp_path: Path) -> None:
    path = epss_file(tmp_path, name="epss_scores-2026-11-30.csv.gz")
    with pytest.raises(LifecycleError, match=r"the file name says 2026-11-30 but its score_date is 2026-12-01"):
        load_epss(path)


def test_a_truncated_gzip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "epss_scores-2026-12-01.csv.gz"
    path.write_bytes(gzip.compress((HEAD + ROWS * 200).encode())[:-30])
    with pytest.raises(LifecycleError, match=r"not a readable gzip file"):
        load_epss(path)


def test_load_from_a_data_directory(tmp_path: Path) -> None:
    assert load_epss_data(tmp_path) is None  # not bundled: nothing until 'lifecycle update' fetched it
    (tmp_path / "epss").mkdir()
    epss_file(tmp_path / "epss")
    scores = load_epss_data(tmp_path, only={"CVE-2021-44228"})
    assert scores is not None and list(scores.scores) == ["CVE-2021-44228"]
