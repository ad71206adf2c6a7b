"""Open a ledger: one code path for SQLite and PostgreSQL, migrated on first use.

``open_store(url)`` accepts ``sqlite:///path/ledger.db`` (or a bare file path), and
``postgresql://user@host/db`` (``postgres://`` too; the psycopg 3 driver is used whatever the URL
names).  SQLite runs in WAL mode with a busy timeout, and every write transaction takes the
database's write lock at its start (``BEGIN IMMEDIATE``) so concurrent writers queue instead of
failing half-way; PostgreSQL writers rely on unique keys and ``ON CONFLICT DO NOTHING``.

Migrations (Alembic, ``migrations/``) run on first use under a lock (an advisory lock on
PostgreSQL, the write lock on SQLite), so a fleet of CronJobs starting at once migrates once.  A
ledger whose schema revision this patchlevel does not know was written by a newer patchlevel and
is refused with one line.  Every database error becomes a ``LedgerError`` of one line naming the
ledger (its password hidden); one that keeps the ledger from being opened at all is a
``LedgerUnavailable``.

Two ways in:

* ``open_store``: for commands that record (``audit --ledger``, ``ledger import``): the ledger is
  created on first use and migrated to this patchlevel's schema.
* ``open_existing``: for commands that only read (``period``, ``ledger list``) and for ``ledger
  prune``.  The ledger must exist and be a patchlevel ledger (a missing SQLite file, or a database
  without the ledger's revision table, is refused with one line and left untouched).  Readers
  connect read-only and never migrate: a ledger at an older schema revision is refused, since
  migrating it from a reader (an assessor's newer patchlevel) would lock out the older patchlevel
  still recording into it; its next audit by an upgraded patchlevel migrates it.  ``prune``
  (``migrate=True``) migrates an older patchlevel ledger, as recording does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from patchlevel.ledger.errors import LedgerError, LedgerUnavailable
from patchlevel.ledger.schema import VERSION_TABLE

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 60_000  # a writer waits this long for another to finish
PG_CONNECT_TIMEOUT_S = 15
_PG_MIGRATION_LOCK = 0x70617463  # pg_advisory_lock key ("patc"): one migrating process at a time
_RETRIES = 5  # a transaction lost to a deadlock or serialization failure is run again this often
_RETRY_CODES = {"40P01", "40001"}  # PostgreSQL: deadlock detected, serialization failure

T = TypeVar("T")


def ledger_url(text_url: str) -> URL:
    """The SQLAlchemy URL of a ledger, from what a user writes; raises LedgerError when it is not one."""
    raw = text_url.strip()
    if not raw:
        raise LedgerError("the ledger URL is empty", hint="e.g. sqlite:///var/lib/patchlevel/ledger.db")
    if "://" not in raw:  # a bare path means a SQLite file
        return URL.create("sqlite", database=str(Path(raw).expanduser()))
    try:
        url = make_url(raw)
    except ArgumentError:
        raise LedgerError(
            f"not a ledger URL: {raw!r}", hint="use sqlite:///PATH or postgresql://USER@HOST/DB"
        ) from None
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if url.drivername != "sqlite":
            url = url.set(drivername="sqlite")
        if not url.database or url.database == ":memory:":
            raise LedgerError("a SQLite ledger needs a file: sqlite:///PATH", hint="an in-memory ledger keeps nothing")
        return url
    raise LedgerError(
        f"the ledger supports SQLite and PostgreSQL, not {backend!r}",
        hint="use sqlite:///PATH or postgresql://USER@HOST/DB",
    )


def shown_url(url: URL) -> str:
    """The URL to show in messages, with any password hidden."""
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{url.database}"
    return url.set(drivername="postgresql").render_as_string(hide_password=True)


def one_line(exc: BaseException) -> str:
    """A database error's own message, on one line (psycopg and sqlite3 messages can span several)."""
    original = getattr(exc, "orig", None) or exc
    text_ = " ".join(str(original).split())
    return text_[:400] or type(original).__name__


@dataclass(slots=True)
class Store:
    """An open ledger.  Use as a context manager, or call ``close``."""

    engine: Engine
    url: URL
    shown: str

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def error(self, doing: str, exc: BaseException) -> LedgerError:
        return LedgerError(f"ledger {self.shown}: {doing} failed: {one_line(exc)}")

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads (SQLite: a deferred transaction; a consistent snapshot in WAL mode)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def write(self, doing: str, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one write transaction; retried on deadlock; errors become one LedgerError line."""
        for attempt in range(_RETRIES):
            try:
                with self.engine.connect() as conn:
                    if self.dialect == "sqlite":
                        conn.execution_options(sqlite_begin="IMMEDIATE")
                    with conn.begin():
                        return work(conn)
            except DBAPIError as exc:
                code = getattr(getattr(exc, "orig", None), "sqlstate", None)
                if code in _RETRY_CODES and attempt < _RETRIES - 1:
                    time.sleep(0.05 * (attempt + 1))
                    continue
                raise self.error(doing, exc) from None
            except SQLAlchemyError as exc:
                raise self.error(doing, exc) from None
        raise LedgerError(f"ledger {self.shown}: {doing} failed {_RETRIES} times on conflicting writers")


def _sqlite_engine(url: URL, *, read_only: bool = False) -> Engine:
    """A SQLite engine.  ``read_only``: the file is not created (nor its directory), its journal mode is left
    as it is (WAL is a setting stored in the file) and the connection refuses writes (``query_only``)."""
    assert url.database is not None
    path = Path(url.database)
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LedgerError(f"cannot create the ledger's directory {path.parent}: {exc.strerror or exc}") from None
    # NullPool: one connection per use.  SQLite connections are cheap, and none is ever shared
    # between threads (fleet audits record from several).
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # BEGIN is ours (below): the driver must not emit its own
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if read_only:
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _postgres_engine(url: URL, *, read_only: bool = False) -> Engine:
    """A PostgreSQL engine (psycopg 3).  ``read_only``: every transaction is read-only."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise LedgerError(
            "a PostgreSQL ledger needs the psycopg package, which is not installed",
            hint="pip install 'patchlevel[postgres]'",
        ) from None
    connect_args: dict[str, Any] = {"connect_timeout": PG_CONNECT_TIMEOUT_S, "application_name": "patchlevel"}
    if read_only:
        connect_args["options"] = "-c default_transaction_read_only=on"
    return create_engine(url, pool_size=2, max_overflow=2, connect_args=connect_args)


def _engine(url: URL, shown: str, *, read_only: bool) -> Engine:
    try:
        if url.get_backend_name() == "sqlite":
            return _sqlite_engine(url, read_only=read_only)
        return _postgres_engine(url, read_only=read_only)
    except LedgerError as exc:
        raise LedgerUnavailable(exc.message, hint=exc.hint) from None
    except SQLAlchemyError as exc:
        raise LedgerUnavailable(f"ledger {shown}: cannot open it: {one_line(exc)}") from None


def open_store(url_text: str, *, migrate: bool = True) -> Store:
    """Open (and, on first use, create or migrate) the ledger at ``url_text``: for commands that record.

    Raises ``LedgerUnavailable`` (one line) when it cannot be opened, created or migrated.
    """
    url = ledger_url(url_text)
    shown = shown_url(url)
    store = Store(_engine(url, shown, read_only=False), url, shown)
    if migrate:
        try:
            migrate_store(store)
        except LedgerError as exc:
            store.close()
            raise LedgerUnavailable(exc.message, hint=exc.hint) from None
        except BaseException:
            store.close()
            raise
    return store


def open_existing(url_text: str, *, migrate: bool = False) -> Store:
    """Open a ledger that must exist already and be a patchlevel ledger (see the module docstring).

    ``migrate=False`` (``period``, ``ledger list``): a read-only connection, and a ledger at an older schema
    revision is refused.  ``migrate=True`` (``ledger prune``): an older revision is migrated first.  A missing
    SQLite file, a database that is not a patchlevel ledger, a newer schema: ``LedgerUnavailable``, one line,
    and nothing is created or changed.
    """
    url = ledger_url(url_text)
    shown = shown_url(url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        path = Path(url.database)
        if not path.is_file():
            raise LedgerUnavailable(
                f"ledger {shown} does not exist" if not path.exists() else f"ledger {shown} is not a file",
                hint="check the path; a ledger is created by the first 'patchlevel audit --ledger URL'",
            )
    # Look first through a read-only connection: nothing is written to a database that is not a ledger.
    reader = Store(_engine(url, shown, read_only=True), url, shown)
    try:
        current = _ledger_revision(reader)
        head, known = known_revisions()
        _refuse_unknown(reader, current, head, known)
    except LedgerError as exc:
        reader.close()
        raise LedgerUnavailable(exc.message, hint=exc.hint) from None
    except BaseException:
        reader.close()
        raise
    if current == head:
        if not migrate:
            return reader
    elif not migrate:
        reader.close()
        raise LedgerUnavailable(
            f"ledger {shown} is at schema revision {current}, older than this patchlevel's {head}: a command that "
            "only reads a ledger does not migrate it (a patchlevel still recording into it would then refuse it)",
            hint="upgrade the patchlevel that records into it: its next audit migrates the ledger",
        )
    reader.close()
    return open_store(url_text, migrate=True)


def _ledger_revision(store: Store) -> str:
    """The schema revision of a patchlevel ledger; LedgerError when the database is not one."""
    not_a_ledger = f"ledger {store.shown} is not a patchlevel ledger"
    hint = "check the URL; a ledger is created by the first 'patchlevel audit --ledger URL'"
    try:
        with store.reading() as conn:
            if not inspect(conn).has_table(VERSION_TABLE):
                raise LedgerError(f"{not_a_ledger}: it has no {VERSION_TABLE} table", hint=hint)
            current = _current_revision(conn)
    except DBAPIError as exc:
        if store.dialect == "sqlite" and "not a database" in one_line(exc):
            raise LedgerError(f"{not_a_ledger}: {one_line(exc)}", hint=hint) from None
        raise store.error("opening it", exc) from None
    except SQLAlchemyError as exc:
        raise store.error("opening it", exc) from None
    if current is None:
        raise LedgerError(f"{not_a_ledger}: its {VERSION_TABLE} table names no schema revision", hint=hint)
    return current


# ------------------------------------------------------------------------------------------
# Migrations


def _alembic_config(conn: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if conn is not None:
        config.attributes["connection"] = conn
    return config


def known_revisions() -> tuple[str, list[str]]:
    """(head revision, every revision this patchlevel knows)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    head = script.get_current_head()
    assert head is not None
    return head, [r.revision for r in script.walk_revisions()]


def _current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def _refuse_unknown(store: Store, current: str | None, head: str, known: list[str]) -> None:
    if current is not None and current not in known:
        from patchlevel import __version__

        raise LedgerError(
            f"ledger {store.shown} has schema revision {current}, which patchlevel {__version__} does not know "
            f"(it knows up to {head}): it was written by a newer patchlevel",
            hint="upgrade patchlevel to use this ledger",
        )


def schema_revision(store: Store) -> str | None:
    try:
        with store.reading() as conn:
            return _current_revision(conn)
    except SQLAlchemyError as exc:
        raise store.error("opening it", exc) from None


def migrate_store(store: Store) -> None:
    """Bring the schema to this patchlevel's head revision; refuse a newer one."""
    from alembic import command

    head, known = known_revisions()
    current = schema_revision(store)
    _refuse_unknown(store, current, head, known)
    if current == head:
        return
    try:
        with store.engine.connect() as conn:
            postgres = store.dialect == "postgresql"
            if postgres:
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
                conn.commit()
            else:
                conn.execution_options(sqlite_begin="IMMEDIATE")
            try:
                with conn.begin():
                    current = _current_revision(conn)  # again, under the lock: another process may have migrated
                    _refuse_unknown(store, current, head, known)
                    if current != head:
                        command.upgrade(_alembic_config(conn), "head")
            finally:
                if postgres:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATION_LOCK})
                    conn.commit()
    except SQLAlchemyError as exc:
        raise store.error("creating or migrating the schema", exc) from None
