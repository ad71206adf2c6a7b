"""A throwaway PostgreSQL server for the ledger tests: Debian's binaries, its own data directory and port.

``postgres_server()`` starts one server per test process on first use (``initdb`` into a temporary
directory, ``pg_ctl start`` listening on 127.0.0.1 only, on a free port, no Unix socket) and stops
it and removes its files when the process exits.  ``new_database()`` creates an empty database
on it for one test and returns its URL.

``initdb`` refuses to run as root, and CI runs as root: the server then runs as the ``postgres``
system user that Debian's ``postgresql`` package creates (through ``runuser``), and the data
directory is given to that user.  When the binaries (or, as root, that user) are missing,
``postgres_server`` raises ``Unavailable`` with the reason, and the tests skip saying what to
install.  Where PostgreSQL must be tested (CI: ``.ci/run`` installs ``postgresql`` and exports
``PATCHLEVEL_REQUIRE_POSTGRES=1``), a server that cannot start fails those tests instead: a
broken PostgreSQL setup must not pass CI as a row of skips.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "patchlevel"
START_TIMEOUT = 60


class Unavailable(Exception):
    """PostgreSQL cannot be started here; the message says why."""


def _bindir() -> Path | None:
    explicit = os.environ.get("PATCHLEVEL_PG_BINDIR")
    if explicit:
        return Path(explicit)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int
    run_as: str | None  # the system user running the server, when we are root

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = START_TIMEOUT) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.root)

    def start(self) -> None:
        initdb = self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        if initdb.returncode != 0:
            raise Unavailable(f"initdb failed: {initdb.stderr.strip()[-500:]}")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            "-c shared_buffers=32MB"
        )
        started = self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            str(START_TIMEOUT),
            "start",
        )
        if started.returncode != 0:
            log = (
                (self.root / "server.log").read_text(errors="replace")[-800:]
                if (self.root / "server.log").exists()
                else ""
            )
            raise Unavailable(f"pg_ctl start failed: {started.stderr.strip()[-300:]} {log}")

    def stop(self) -> None:
        if self.data.exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def new_database(self) -> str:
        """An empty database of its own for one test; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


_lock = threading.Lock()
_server: PostgresServer | None = None
_failure: str | None = None


def _system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise Unavailable(
            "running as root and there is no 'postgres' user to run PostgreSQL as (apt-get install postgresql)"
        ) from None
    if shutil.which("runuser") is None:
        raise Unavailable("running as root without runuser to start PostgreSQL as another user")
    return "postgres"


def postgres_server() -> PostgresServer:
    """The process's PostgreSQL server, started on first use; raises Unavailable with the reason."""
    global _server, _failure
    with _lock:
        if _server is not None:
            return _server
        if _failure is not None:
            raise Unavailable(_failure)
        try:
            bindir = _bindir()
            if bindir is None or not (bindir / "initdb").exists() or not (bindir / "pg_ctl").exists():
                raise Unavailable("PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)")
            try:
                import psycopg  # noqa: F401
            except ImportError:
                raise Unavailable("the psycopg package is not installed (pip install -e '.[test]')") from None
            run_as = _system_user()
            root = Path(tempfile.mkdtemp(prefix="patchlevel-pg-"))
            if run_as is not None:
                entry = pwd.getpwnam(run_as)
                os.chmod(root, 0o700)
                os.chown(root, entry.pw_uid, entry.pw_gid)
            server = PostgresServer(bindir, root, _free_port(), run_as)
            try:
                server.start()
            except BaseException:
                server.stop()
                raise
        except Unavailable as exc:
            _failure = str(exc)
            raise
        atexit.register(server.stop)
        _server = server
        return server


ENGINES = ("sqlite", "postgresql")
REQUIRE = "PATCHLEVEL_REQUIRE_POSTGRES"  # "1": PostgreSQL tests fail rather than skip when no server can start


def postgres_required() -> bool:
    return os.environ.get(REQUIRE, "").strip() not in ("", "0")


def ledger_url_for(engine: str, tmp_path: Path) -> str:
    """A fresh, empty ledger URL on ``engine`` for one test.  When PostgreSQL cannot run: skips with the
    reason, or fails with it when ``PATCHLEVEL_REQUIRE_POSTGRES=1`` (CI)."""
    import pytest

    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    try:
        return postgres_server().new_database()
    except Unavailable as exc:
        if postgres_required():
            pytest.fail(f"PostgreSQL is required ({REQUIRE}=1) but could not be started: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL is not available: {exc}")
