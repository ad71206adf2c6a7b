"""Opening a ledger: commands that only read it (period, ledger list) and prune never create a ledger, never
change a database that is not one, and say so in one line; an audit whose ledger cannot be opened says so once.

Every case runs on SQLite and on a throwaway PostgreSQL server (``pg_harness``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from patchlevel.cli import main
from patchlevel.ledger import store as store_module
from patchlevel.ledger.errors import LedgerUnavailable
from patchlevel.ledger.schema import VERSION_TABLE
from patchlevel.ledger.store import ledger_url, open_existing, open_store, schema_revision
from pg_harness import ENGINES, ledger_url_for

ROOT = Path(__file__).parent.parent
DEMO = ROOT / "examples" / "demo-cluster"
READERS = [
    ["period", "--from", "2026-01-01", "--to", "2026-01-31"],
    ["ledger", "list"],
    ["ledger", "prune", "--keep-days", "30"],
]


@pytest.fixture(params=ENGINES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return ledger_url_for(request.param, tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def tables(url: str) -> set[str]:
    engine = create_engine(ledger_url(url))
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def unrelated_database(url: str) -> None:
    """Make the database at ``url`` someone else's: one table of its own, nothing of patchlevel's."""
    engine = create_engine(ledger_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)"))
            conn.execute(text("INSERT INTO invoices VALUES (1, 100)"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("argv", READERS, ids=["period", "list", "prune"])
def test_a_missing_sqlite_ledger_is_refused_and_not_created(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "nowhere" / "empty.db"
    code, _, err = run(capsys, *argv, "--ledger", target)
    assert code == 3
    assert f"ledger sqlite:///{target} does not exist" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not target.parent.exists()


@pytest.mark.parametrize("argv", READERS, ids=["period", "list", "prune"])
def test_a_database_that_is_not_a_ledger_is_refused_and_left_as_it_was(
    argv: list[str], url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    unrelated_database(url)
    journal = None
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        journal = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()
    code, _, err = run(capsys, *argv, "--ledger", url)
    assert code == 3
    assert "is not a patchlevel ledger: it has no patchlevel_ledger_version table" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert tables(url) == {"invoices"}  # no migration ran
    if journal is not None:  # not even switched to WAL
        assert sqlite3.connect(url.removeprefix("sqlite:///")).execute("PRAGMA journal_mode").fetchone() == journal


def test_a_file_that_is_not_a_database_is_not_a_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n" * 100)
    code, _, err = run(capsys, "ledger", "list", "--ledger", notes)
    assert code == 3 and "is not a patchlevel ledger" in err and err.count("\n") == 1
    assert notes.read_text() == "not a database\n" * 100


def test_readers_open_a_ledger_read_only(url: str) -> None:
    open_store(url).close()  # a ledger, as the first audit creates it
    with open_existing(url) as store, pytest.raises(SQLAlchemyError), store.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {VERSION_TABLE}"))
    with open_existing(url) as store:
        assert schema_revision(store) is not None


def test_an_empty_ledger_lists_no_audit_and_has_no_period(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    open_store(url).close()
    code, out, err = run(capsys, "ledger", "list", "--ledger", url, "--format", "json")
    assert (code, out.strip()) == (0, "[]"), err
    code, _, err = run(capsys, "period", "--ledger", url, "--from", "2026-01-01")
    assert code == 3 and "holds no audit yet" in err


def test_an_older_schema_is_refused_by_readers_not_migrated(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    open_store(url).close()
    current, known = store_module.known_revisions()
    # as a newer patchlevel, whose schema has a revision after this one, would see this ledger
    monkeypatch.setattr(store_module, "known_revisions", lambda: ("9000", ["9000", *known]))
    for argv in READERS[:2]:
        code, _, err = run(capsys, *argv, "--ledger", url)
        assert code == 3, err
        assert f"is at schema revision {current}, older than this patchlevel's 9000" in err
        assert "its next audit migrates the ledger" in err and err.count("\n") == 1
    monkeypatch.undo()
    with open_existing(url) as store:
        assert schema_revision(store) == current  # untouched


def test_prune_runs_on_a_ledger(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    open_store(url).close()
    code, _, err = run(capsys, "ledger", "prune", "--ledger", url, "--keep-days", "30")
    assert code == 0 and "removed 0 audits" in err


def test_an_unreachable_ledger_makes_an_audit_incomplete_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    code, _, err = run(
        capsys, "audit", DEMO, "--as-of", "2026-11-27", "--format", "json", "-o", report,
        "--ledger", "postgresql://audit:secret@127.0.0.1:1/ledger",
    )  # fmt: skip
    assert code == 3
    problems = [line for line in err.splitlines() if "error" in line]
    assert len(problems) == 1, err
    assert "not recorded in the ledger, and its clocks come from the scans alone" in problems[0]
    assert "127.0.0.1:1" in problems[0] and "secret" not in err
    assert report.is_file()  # the report stands


def test_open_failures_are_ledger_unavailable(tmp_path: Path) -> None:
    with pytest.raises(LedgerUnavailable):
        open_store("postgresql://u@127.0.0.1:1/none")
    with pytest.raises(LedgerUnavailable):
        open_existing(str(tmp_path / "missing.db"))
