"""``patchlevel serve``: a Prometheus exporter that re-audits on an interval.

One worker thread runs ``audit.run`` (the same call as ``patchlevel audit``) every ``interval``;
an HTTP server answers from the last good result at any time:

- ``/metrics``: the metric families of ``patchlevel.metrics`` for the last good Report, plus the
  exporter's own (success, duration, result age, audits by result), through the official client
  library (text format, or OpenMetrics when the scraper asks for it);
- ``/healthz``: liveness, 200 while the audit worker runs and no audit has run longer than
  ``ServeConfig.audit_deadline`` (the collection's ``--deadline`` plus ``HANG_MARGIN``); 503
  otherwise, so the kubelet restarts an exporter whose audit hangs (an input that never answers);
- ``/readyz``: readiness, 200 once an audit has completed, 503 before.

A scrape never waits for an audit: the worker swaps in the derived families when an audit
completes, and a scrape reads whatever is there.  A failed audit keeps the last good result
(its age keeps growing in ``patchlevel_result_age_seconds``) and is retried after
``retry_interval``.  Each audit reads the reference data afresh, as ``patchlevel audit`` does
(``audit.run`` without ``knowledge``): a ``lifecycle update`` is used from the next audit on, and
EPSS scores are read for the CVEs of that audit's scans only.  Only the derived families are kept
between audits, never the report, the inventory or the reference data, so memory between audits
is small whatever the cluster's size.  ``stop`` (the CLI sets it on SIGTERM or SIGINT) ends
serving at once and waits at most ``shutdown_grace`` seconds for an audit in progress; an audit
still running then is abandoned with the process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from types import FrameType
from typing import Any, Protocol
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client.exposition import make_wsgi_app
from prometheus_client.metrics_core import Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import CollectorRegistry

from patchlevel.audit import (
    AuditConfig,
    AuditOutcome,
    Clock,
    LiveSource,
    SnapshotSource,
    Source,
    quiet,
    run,
    utc_now,
)
from patchlevel.errors import PatchlevelError, UsageError
from patchlevel.knowledge import Knowledge, load_default_knowledge
from patchlevel.metrics import (
    AUDIT_DURATION,
    AUDIT_IN_PROGRESS,
    AUDIT_INCOMPLETE,
    AUDIT_INTERVAL,
    AUDIT_SUCCESS,
    AUDITS,
    LAST_SUCCESS,
    RESULT_AGE,
    MetricFamily,
    MetricSpec,
    Sample,
    report_metrics,
)
from patchlevel.model import Status
from patchlevel.render.prometheus import client_families

Notify = Callable[[str], None]
WSGIEnviron = dict[str, Any]
StartResponse = Callable[..., Any]

DEFAULT_PORT = 9877
# Time an audit may take beyond the live collection's --deadline (reading scan reports, VEX and
# node scans, judging, recording in the ledger) before /healthz takes it to hang.  Judging
# 150,000 pods takes some 20 s (README, Performance): ten minutes leave room for a slow ledger.
HANG_MARGIN = 600.0


class AuditRunner(Protocol):
    """What the worker calls for one audit: ``audit.run`` (tests give a slower or failing one)."""

    def __call__(
        self, config: AuditConfig, source: Source, *, knowledge: Knowledge | None, clock: Clock, notify: Notify
    ) -> AuditOutcome: ...


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """What ``serve`` audits, how often, and where it listens.

    Every choice in ``audit`` (policy, data directory, image evidence, and whatever else
    ``AuditConfig`` carries, such as ledger recording) applies to every re-audit unchanged, except
    the as-of date: with ``as_of_today`` each audit is judged as of the UTC day it starts, else as
    of ``audit.as_of`` every time (``--as-of``).
    """

    audit: AuditConfig
    source: Source
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    interval: float = 6 * 3600.0
    retry_interval: float = 300.0
    as_of_today: bool = True
    shutdown_grace: float = 10.0
    hang_after: float | None = None  # seconds; None: ``audit_deadline`` from the source's --deadline

    @property
    def audit_deadline(self) -> float:
        """Seconds an audit may run before /healthz fails: ``hang_after``, else the live collection's
        ``--deadline`` (its default for a snapshot, whose reading nothing else bounds) plus ``HANG_MARGIN``."""
        if self.hang_after is not None:
            return self.hang_after
        source = self.source if isinstance(self.source, LiveSource) else LiveSource()
        return source.deadline + HANG_MARGIN

    def validate(self) -> None:
        if not (self.interval > 0 and self.retry_interval > 0):
            raise UsageError("--interval and --retry-interval must be longer than zero")
        if not self.audit_deadline > 0:
            raise UsageError("the audit deadline must be longer than zero")
        if not 0 <= self.port <= 65535:
            raise UsageError(f"--listen: port {self.port} is not a TCP port")
        self.audit.images.validate()
        if isinstance(self.source, SnapshotSource) and not self.source.path.exists():
            raise UsageError(f"{self.source.path}: no such file or directory")


# ------------------------------------------------------------------------------------------
# Option values


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(d|h|m|s)")
_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(value: str, option: str = "--interval") -> float:
    """Seconds in ``90``, ``90s``, ``30m``, ``6h``, ``1d`` or combinations such as ``1h30m``."""
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        parts = _DURATION_PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise UsageError(f"{option} {value!r} is not a duration (e.g. 6h, 30m, 90s, 1h30m)") from None
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    if not 0 < seconds < float("inf"):
        raise UsageError(f"{option} {value!r}: give a duration longer than zero")
    return seconds


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` (every IPv4 address) or ``[IPv6]:PORT``; port 0 picks a free one."""
    host, sep, port_text = value.strip().rpartition(":")
    if not sep or not port_text.isdigit() or int(port_text) > 65535:
        raise UsageError(f"--listen {value!r}: give HOST:PORT, e.g. 127.0.0.1:{DEFAULT_PORT} or :{DEFAULT_PORT}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise UsageError(f"--listen {value!r}: write an IPv6 address in brackets, e.g. [::1]:{DEFAULT_PORT}")
    return host or "0.0.0.0", int(port_text)


# ------------------------------------------------------------------------------------------
# What a scrape reads


@dataclass(frozen=True, slots=True)
class _Result:
    families: tuple[MetricFamily, ...]
    completed_at: float  # Unix time
    incomplete: bool


class ExporterState:
    """The last good result and the audit history; the worker writes it, scrapes read it.

    It is the client library's Collector: ``collect`` yields the families of the last good
    Report and the exporter's own metrics, computed at scrape time (the result's age).
    """

    def __init__(
        self,
        interval: float,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._wall_clock = wall_clock
        self._monotonic = monotonic
        self._interval = interval
        self._result: _Result | None = None
        self._last_success: bool | None = None
        self._last_duration: float | None = None
        self._attempts = {"success": 0, "failure": 0}
        self._started: float | None = None  # monotonic start of the audit in progress, None between audits
        self._overrun_reported = False

    @property
    def ready(self) -> bool:
        return self._result is not None

    @property
    def completed_at(self) -> float | None:
        result = self._result
        return None if result is None else result.completed_at

    def audit_started(self) -> None:
        started = self._monotonic()
        with self._lock:
            self._started = started
            self._overrun_reported = False

    def audit_succeeded(self, families: tuple[MetricFamily, ...], duration: float, incomplete: bool) -> None:
        result = _Result(families, self._wall_clock(), incomplete)
        with self._lock:
            self._result = result
            self._last_success = True
            self._last_duration = duration
            self._attempts["success"] += 1
            self._started = None

    def audit_failed(self, duration: float) -> None:
        with self._lock:
            self._last_success = False
            self._last_duration = duration
            self._attempts["failure"] += 1
            self._started = None

    def overrun(self, deadline: float) -> tuple[float, bool] | None:
        """How long the audit in progress has run, if longer than ``deadline`` seconds, and whether
        this is the first time it is asked about (to say so once); None when it has not (or none runs)."""
        now = self._monotonic()
        with self._lock:
            if self._started is None or now - self._started <= deadline:
                return None
            first = not self._overrun_reported
            self._overrun_reported = True
            return now - self._started, first

    def families(self) -> tuple[MetricFamily, ...]:
        """The served families: the last good Report's, then the exporter's own."""
        with self._lock:
            result = self._result
            last_success = self._last_success
            duration = self._last_duration
            attempts = dict(self._attempts)
            in_progress = self._started is not None
        own: list[tuple[MetricSpec, list[tuple[tuple[str, ...], float]]]] = [
            (AUDIT_SUCCESS, [((), 1.0 if last_success else 0.0)] if last_success is not None else []),
            (AUDIT_DURATION, [((), duration)] if duration is not None else []),
            (AUDITS, [((name,), float(count)) for name, count in attempts.items()]),
            (LAST_SUCCESS, [((), result.completed_at)] if result else []),
            (RESULT_AGE, [((), max(0.0, self._wall_clock() - result.completed_at))] if result else []),
            (AUDIT_IN_PROGRESS, [((), 1.0 if in_progress else 0.0)]),
            (AUDIT_INCOMPLETE, [((), 1.0 if result.incomplete else 0.0)] if result else []),
            (AUDIT_INTERVAL, [((), self._interval)]),
        ]
        exporter = tuple(MetricFamily(spec, tuple(Sample(labels, v) for labels, v in rows)) for spec, rows in own)
        return (result.families if result else ()) + exporter

    def collect(self) -> Iterator[Metric]:
        return client_families(self.families())


# ------------------------------------------------------------------------------------------
# The audit worker


def _audit_once(
    config: ServeConfig,
    state: ExporterState,
    knowledge: Knowledge | None,
    *,
    notify: Notify,
    clock: Clock,
    audit: AuditRunner = run,
) -> bool:
    """Run one audit and publish its result; False when it failed (the last good result stays).

    ``knowledge`` None: the audit reads the reference data itself (``audit.run``), so what
    ``lifecycle update`` wrote since the last audit is used, and EPSS scores only for its scans' CVEs.
    """
    audit_config = config.audit
    if config.as_of_today:
        audit_config = dataclasses.replace(audit_config, as_of=clock().astimezone(UTC).date())
    state.audit_started()
    started = time.monotonic()
    try:
        outcome = audit(audit_config, config.source, knowledge=knowledge, clock=clock, notify=notify)
        families = report_metrics(outcome.report)
    except PatchlevelError as error:
        state.audit_failed(time.monotonic() - started)
        notify(f"error: the audit of {config.source.label} failed: {error}; still serving the last good result")
        return False
    except Exception as error:  # a bug must not stop the exporter: say so, keep serving, retry
        state.audit_failed(time.monotonic() - started)
        notify(
            f"internal error: the audit of {config.source.label} failed: {type(error).__name__}: {error}; "
            "still serving the last good result"
        )
        return False
    duration = time.monotonic() - started
    state.audit_succeeded(families, duration, bool(outcome.incomplete))
    report = outcome.report
    failing = sum(1 for f in report.findings if f.status is Status.FAIL)
    notify(
        f"audited {report.cluster.name or config.source.label} as of {audit_config.as_of} in {duration:.1f} s: "
        f"{len(report.findings)} findings, {failing} failing"
    )
    for reason in outcome.incomplete:
        notify(f"warning: the audit is incomplete: {reason}")
    return True


def _audit_loop(
    config: ServeConfig,
    state: ExporterState,
    knowledge: Knowledge | None,
    stop: threading.Event,
    *,
    notify: Notify,
    clock: Clock,
    audit: AuditRunner = run,
) -> None:
    while not stop.is_set():
        started = time.monotonic()
        ok = _audit_once(config, state, knowledge, notify=notify, clock=clock, audit=audit)
        pause = config.interval if ok else min(config.retry_interval, config.interval)
        stop.wait(max(0.0, started + pause - time.monotonic()))


# ------------------------------------------------------------------------------------------
# HTTP


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _ThreadingWSGIServer6(_ThreadingWSGIServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # a line per scrape is noise
        pass


def _text(start_response: StartResponse, status: str, body: str) -> list[bytes]:
    data = body.encode("utf-8")
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))])
    return [data]


def _wsgi_app(
    state: ExporterState, worker: Callable[[], bool], config: ServeConfig, notify: Notify = quiet
) -> Callable[[WSGIEnviron, StartResponse], Iterable[bytes]]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(state)
    ProcessCollector(registry=registry)
    metrics = make_wsgi_app(registry)

    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return _text(start_response, "405 Method Not Allowed", "only GET\n")
        if path == "/metrics":
            result: Iterable[bytes] = metrics(environ, start_response)
            return result
        if path == "/healthz":
            if not worker():
                return _text(start_response, "503 Service Unavailable", "the audit worker has stopped\n")
            overrun = state.overrun(config.audit_deadline)
            if overrun is None:
                return _text(start_response, "200 OK", "ok\n")
            running, first = overrun
            message = (
                f"the audit of {config.source.label} has run for {running:.0f} s, longer than its deadline of "
                f"{config.audit_deadline:.0f} s: it is taken to hang"
            )
            if first:
                notify(f"error: {message}; /healthz fails from now on, until it ends")
            return _text(start_response, "503 Service Unavailable", message + "\n")
        if path == "/readyz":
            completed = state.completed_at
            if completed is None:
                return _text(start_response, "503 Service Unavailable", "not ready: no audit has completed yet\n")
            when = datetime.fromtimestamp(completed, UTC).isoformat(timespec="seconds")
            return _text(start_response, "200 OK", f"ready: the served result is from the audit completed {when}\n")
        if path == "/":
            return _text(start_response, "200 OK", "patchlevel exporter: /metrics /healthz /readyz\n")
        return _text(start_response, "404 Not Found", "not found: try /metrics, /healthz or /readyz\n")

    return app


# ------------------------------------------------------------------------------------------
# Running it


class Exporter:
    """A started exporter: the HTTP server and the audit worker, until ``close``."""

    def __init__(
        self,
        config: ServeConfig,
        *,
        knowledge: Knowledge | None = None,
        notify: Notify = quiet,
        clock: Clock = utc_now,
        audit: AuditRunner = run,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``knowledge``: the reference data of every audit (tests); None, each audit reads its own.
        ``audit`` runs one audit (``audit.run``); ``monotonic`` times the audit in progress for /healthz."""
        config.validate()
        self.config = config
        self.state = ExporterState(config.interval, monotonic=monotonic)
        self._notify = notify
        self._stop = threading.Event()
        if knowledge is None:  # broken reference data is a usage error now, not at every audit
            load_default_knowledge(config.audit.data_dir, epss=False)
        self._worker = threading.Thread(
            target=_audit_loop,
            args=(config, self.state, knowledge, self._stop),
            kwargs={"notify": notify, "clock": clock, "audit": audit},
            name="patchlevel-audit",
            daemon=True,  # an audit still running at shutdown ends with the process
        )
        server_class = _ThreadingWSGIServer6 if ":" in config.host else _ThreadingWSGIServer
        try:
            self._server = make_server(
                config.host,
                config.port,
                _wsgi_app(self.state, self._worker.is_alive, config, notify),
                server_class=server_class,
                handler_class=_QuietHandler,
            )
        except OSError as error:
            raise UsageError(f"--listen {config.host}:{config.port}: {error.strerror or error}") from None
        self._http = threading.Thread(target=self._server.serve_forever, name="patchlevel-http", daemon=True)
        self._worker.start()  # first, so /healthz never sees a worker not yet started
        self._http.start()

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"http://{host}:{self.port}"

    def close(self) -> None:
        """Stop serving at once; wait up to ``shutdown_grace`` for an audit in progress."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._worker.join(self.config.shutdown_grace)
        if self._worker.is_alive():
            self._notify("stopped while an audit was running; it was abandoned")

    def __enter__(self) -> Exporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve(
    config: ServeConfig,
    stop: threading.Event,
    *,
    knowledge: Knowledge | None = None,
    notify: Notify = quiet,
    clock: Clock = utc_now,
) -> None:
    """Serve until ``stop`` is set (``stop_on_signals`` sets it on SIGTERM and SIGINT)."""
    with Exporter(config, knowledge=knowledge, notify=notify, clock=clock) as exporter:
        as_of = "the day of each audit (UTC)" if config.as_of_today else str(config.audit.as_of)
        notify(
            f"serving {exporter.url}/metrics (/healthz, /readyz); auditing {config.source.label} "
            f"every {_duration_text(config.interval)}, as of {as_of}"
        )
        while not stop.wait(1.0):
            pass
        notify("stopping")
    notify("stopped")


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT while the block runs (main thread only); handlers restored after."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _duration_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
