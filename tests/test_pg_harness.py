"""The PostgreSQL harness: without a server the ledger tests skip locally, and fail where PostgreSQL is required."""

from __future__ import annotations

from pathlib import Path

import pytest

import pg_harness


def _unavailable() -> pg_harness.PostgresServer:
    raise pg_harness.Unavailable("pg_ctl start failed: could not bind IPv4 address")


def test_without_a_server_the_postgres_cases_skip_locally(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(pg_harness.REQUIRE, raising=False)
    monkeypatch.setattr(pg_harness, "postgres_server", _unavailable)
    with pytest.raises(pytest.skip.Exception, match="could not bind"):
        pg_harness.ledger_url_for("postgresql", tmp_path)


def test_where_postgres_is_required_a_server_that_cannot_start_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(pg_harness.REQUIRE, "1")
    monkeypatch.setattr(pg_harness, "postgres_server", _unavailable)
    with pytest.raises(pytest.fail.Exception, match=r"PATCHLEVEL_REQUIRE_POSTGRES=1.*could not bind"):
        pg_harness.ledger_url_for("postgresql", tmp_path)
    # SQLite never needs the server
    assert pg_harness.ledger_url_for("sqlite", tmp_path) == f"sqlite:///{tmp_path / 'ledger.db'}"


def test_ci_requires_postgres() -> None:
    script = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert f"export {pg_harness.REQUIRE}=1" in script
