"""An evidence bundle whose manifest says it finished at a time that is no time (issue 14).

``9999-12-31T23:00:00-05:00`` looks like RFC 3339 but UTC cannot hold it; before, ``ledger import`` and
``audit --ledger`` died with "internal error: OverflowError" when the ledger converted it.  The bundle
reader now refuses such a manifest in one line (a ledger dates the audit by this time, so "unknown"
would quietly become "today"); a manifest without the time reads as before.  The bundles are made by
the real writer (``hostile_inputs.small_bundle``'s pages), then their collection times replaced.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from builders import make_node_doc
from hostile_inputs import AS_OF, retar, version_doc
from patchlevel.cli import main
from patchlevel.collect.bundle import PAGE_ROLE, VERSION_ROLE, BundleWriter, read_bundle, verify_bundle
from patchlevel.errors import BundleError

OVERFLOW = "9999-12-31T23:00:00-05:00"  # UTC: 10000-01-01T04:00 — no datetime holds it


def bundle(target: Path, collection: dict[str, Any]) -> Path:
    """A valid bundle (digest and all) whose manifest's ``collection`` section is ``collection``."""
    writer = BundleWriter(target)
    writer.page("version.json", json.dumps(version_doc("v1.33.4")).encode(), role=VERSION_ROLE, request="GET /version")
    page = json.dumps({"kind": "NodeList", "apiVersion": "v1", "items": [make_node_doc("worker-1")]}).encode()
    writer.page("nodes/page-0001.json", page, role=PAGE_ROLE, request="GET /api/v1/nodes?limit=500")
    writer.finish({"cluster": {"context": "ovf", "server": "https://ovf.example:6443"}, "collection": collection})
    return target


@pytest.fixture(params=["directory", "tarball"])
def overflowing(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    directory = bundle(tmp_path / "evidence", {"started": "2026-11-27T09:00:00Z", "finished": OVERFLOW})
    return directory if request.param == "directory" else retar(directory, tmp_path / "evidence.tar.gz")


def one_line_error(err: str, path: Path) -> None:
    line = err.strip()
    assert "internal error" not in line and "OverflowError" not in line and "Traceback" not in line
    assert f"{path}: the manifest's collection.finished '{OVERFLOW}' is not an RFC 3339 date-time" in line
    assert "when the evidence was collected is unknown" in line


def test_the_bundle_is_intact_but_not_read(overflowing: Path) -> None:
    assert verify_bundle(overflowing).ok  # the digest covers the time: nothing was tampered with after writing
    with pytest.raises(BundleError, match=re.escape(f"collection.finished '{OVERFLOW}' is not an RFC 3339")):
        read_bundle(overflowing)


def test_ledger_import_reports_the_bundle_in_one_line_and_fails(
    overflowing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert main(["ledger", "import", str(overflowing), "--ledger", url]) != 0
    one_line_error(capsys.readouterr().err, overflowing)


def test_audit_with_a_ledger_refuses_in_one_line(
    overflowing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    out = tmp_path / "report.json"
    code = main(["audit", str(overflowing), "--as-of", AS_OF, "--ledger", url, "--format", "json", "-o", str(out)])
    assert code == 3
    one_line_error(capsys.readouterr().err, overflowing)
    assert main(["audit", str(overflowing), "--as-of", AS_OF]) == 3  # without a ledger too: the same evidence
    one_line_error(capsys.readouterr().err, overflowing)


@pytest.mark.parametrize("finished", ["2026-11-27T09:00:01+24:00", "2026-02-30T09:00:00Z", "yesterday", 1764234001])
def test_every_collection_time_that_is_no_time_is_refused(tmp_path: Path, finished: object) -> None:
    target = bundle(tmp_path / "evidence", {"finished": finished})
    with pytest.raises(BundleError, match=r"collection\.finished .* is not an RFC 3339"):
        read_bundle(target)


def test_a_time_with_an_offset_is_read_in_utc_and_a_missing_one_stays_unknown(tmp_path: Path) -> None:
    offset = bundle(tmp_path / "offset", {"finished": "2026-11-27T23:30:00.5-05:00"})
    assert read_bundle(offset).collected_at == datetime(2026, 11, 28, 4, 30, 0, 500000, tzinfo=UTC)
    assert read_bundle(bundle(tmp_path / "none", {})).collected_at is None
