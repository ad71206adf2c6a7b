"""Hostile scanner reports: impossible timestamps, deep or bombed documents, odd files in a report folder.

The importers' verdicts on what a report proves belong to tests/test_importers.py and the checks'
suites; here the reading: every hostile report is read (dates that cannot be times become None,
hence UNKNOWN downstream) or refused in one line, and nothing hangs.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from hostile_inputs import HOSTILE, deep_json, fifo
from patchlevel.errors import ImporterError
from patchlevel.importers import UnreadableDocument, load_scan_reports, parse_scan_document

TIMESTAMPS = HOSTILE / "scan-timestamps"


@pytest.mark.parametrize(
    "name",
    [
        "trivy-year-9999-with-offset.json",
        "trivy-go-offset-24h.json",
        "trivy-garbage-dates.json",
        "grype-overflowing-dates.json",
    ],
)
def test_impossible_scan_dates_are_read_as_unknown(name: str) -> None:
    """Reproducers: year 9999 with an offset overflowed UTC; a +2400 Go offset raised ValueError."""
    [report] = load_scan_reports(TIMESTAMPS / name).reports
    assert report.scanned_at is None
    assert report.created is None
    if name.startswith("grype"):
        assert report.db_updated_at is None


def test_a_100000_deep_report_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(b'{"SchemaVersion": 2, "Results": ' + deep_json() + b"}")
    with pytest.raises(UnreadableDocument) as raised:
        load_scan_reports(path)
    assert str(raised.value).startswith(
        f"{path}: JSON nested too deeply (more than about 1,000 levels) to be a Kubernetes object or scan report"
    )


def test_deep_values_inside_a_recognised_report_are_a_one_line_error() -> None:
    document = b'{"SchemaVersion": 2, "ArtifactName": "a", "Results": [{"Target": "t", "Vulnerabilities": '
    document += deep_json(5000) + b"}]}"
    with pytest.raises(ImporterError, match="nested too deeply"):
        parse_scan_document(document, "deep.json")


def test_a_scan_report_alias_bomb_is_refused() -> None:
    with pytest.raises(UnreadableDocument, match=r"YAML aliases expand the document by more than 100,000 nodes"):
        load_scan_reports(HOSTILE / "scan-alias-bomb.yaml")


@pytest.mark.parametrize(
    "data",
    [b'{"SchemaVersion": ' + b"9" * 5000 + b"}", b"[" + b"1" * 5000 + b"]", b"\x00\x00binary\xff"],
    ids=["huge-int", "huge-int-in-list", "binary"],
)
def test_odd_documents_are_one_line_importer_errors(data: bytes) -> None:
    with pytest.raises(ImporterError) as raised:
        parse_scan_document(data, "odd.json")
    assert "\n" not in str(raised.value)


def test_non_regular_files_in_a_report_folder_are_skipped_and_never_opened(tmp_path: Path) -> None:
    (tmp_path / "loop.json").symlink_to("loop.json")
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(tmp_path / "scanner.sock"))
    listener.close()
    with contextlib.ExitStack() as stack:
        stack.enter_context(fifo(tmp_path / "pipe.json"))
        result = load_scan_reports(tmp_path)
    assert {Path(i.path).name: i.reason for i in result.skipped} == {
        "loop.json": "a symbolic link loop, not read",
        "pipe.json": "a FIFO (named pipe), not read",
        "scanner.sock": "a socket, not read",
        "zero.json": "a symbolic link to a character device, not read",
    }


def test_a_report_path_that_is_a_fifo_is_a_one_line_error(tmp_path: Path) -> None:
    with fifo(tmp_path / "report.json") as path, pytest.raises(ImporterError) as raised:
        load_scan_reports(path)
    assert str(raised.value).startswith(f"{path}: cannot read: a FIFO (named pipe), not a regular file")


def test_a_report_larger_than_the_limit_is_a_one_line_error() -> None:
    path = TIMESTAMPS / "trivy-go-offset-24h.json"
    with pytest.raises(ImporterError) as raised:
        load_scan_reports(path, max_bytes=100)
    assert str(raised.value).startswith(f"{path}: cannot read: it holds more than 100 bytes, the input size limit")


# A Trivy result target of many " (" and no closing parenthesis: the regex that split targets into
# image and OS backtracked quadratically (24 KB took 2 s, this one would take many minutes).
LOADER = (
    "import sys, pathlib; from patchlevel.importers import load_scan_reports; "
    "print(len(load_scan_reports(pathlib.Path(sys.argv[1])).reports))"
)


@pytest.mark.parametrize("klass", ["os-pkgs", ""], ids=["schema-2", "legacy-list"])
def test_a_hostile_result_target_is_read_in_linear_time(klass: str, tmp_path: Path) -> None:
    result = {"Target": "img (" * 200_000, "Class": klass, "Type": "alpine", "Vulnerabilities": None}
    document: object = [result] if not klass else {"SchemaVersion": 2, "ArtifactName": "img", "Results": [result]}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    child = subprocess.run(
        [sys.executable, "-c", LOADER, str(path)],
        capture_output=True,
        text=True,
        timeout=20,
        stdin=subprocess.DEVNULL,
    )
    assert (child.returncode, child.stdout, child.stderr) == (0, "1\n", "")
