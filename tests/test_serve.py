"""``patchlevel serve``: the exporter's audit worker, HTTP endpoints, failures, options and signals.

Audits read the HTTPS test API server (tests/kubeapi) serving the live tests' cluster, or the demo
snapshot.  To hold an audit in progress without timing, ``run`` is given a clock that blocks when
the audit asks it for the report's generation time, until the test releases it.  Other test
modules import ``ServeProcess`` and ``scrape`` from here.
"""

from __future__ import annotations

import gc
import gzip
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from builders import knowledge
from kubeapi import Action, Cluster, Fault, KubeAPIServer
from patchlevel.audit import (
    AuditConfig,
    AuditOutcome,
    Clock,
    ImageEvidenceOptions,
    LiveSource,
    SnapshotSource,
    Source,
    run,
)
from patchlevel.cli import main
from patchlevel.errors import UsageError
from patchlevel.knowledge import Knowledge
from patchlevel.lifecycle.catalog import BUNDLED_DATA
from patchlevel.metrics import report_metrics
from patchlevel.serve import HANG_MARGIN, Exporter, Notify, ServeConfig, parse_duration, parse_listen
from patchlevel.vuln.epss import EpssScores
from test_live_collect import AS_OF, VERSION, cluster_objects

REPO = Path(__file__).parent.parent
DEMO = REPO / "examples" / "demo-cluster"
GENERATED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
WAIT_SECONDS = 120.0  # a bound on every wait: a hang guard, not a timing assertion

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Series:
    """Every sample of one scrape of ``url``/metrics."""
    answer = httpx.get(f"{url}/metrics", timeout=10.0)
    assert answer.status_code == 200, answer.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for metric in text_string_to_metric_families(answer.text)
        for sample in metric.samples
    }


def value(series: Series, name: str, **labels: str) -> float | None:
    return series.get((name, frozenset(labels.items())))


def report_series(series: Series) -> Series:
    """The report's series of a scrape (the exporter's own and the process's left out)."""
    return {key: v for key, v in series.items() if any(label == "cluster" for label, _ in key[1])}


def expected_series(config: AuditConfig, source: LiveSource | SnapshotSource) -> Series:
    """The report series an in-process audit of the same source gives."""
    outcome = run(config, source, knowledge=knowledge(), clock=lambda: GENERATED)
    return {
        (f.name, frozenset(zip(f.spec.labels, s.labels, strict=True))): s.value
        for f in report_metrics(outcome.report)
        for s in f.samples
    }


def wait_until(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


class GateClock:
    """``run``'s clock: the n-th call blocks until ``gates[n]`` is released; calls past the gates pass."""

    def __init__(self, gates: int) -> None:
        self.entered = [threading.Event() for _ in range(gates)]
        self.released = [threading.Event() for _ in range(gates)]
        self._calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            call = self._calls
            self._calls += 1
        if call < len(self.entered):
            self.entered[call].set()
            self.released[call].wait(WAIT_SECONDS)
        return GENERATED

    def release_all(self) -> None:
        for gate in self.released:
            gate.set()


@pytest.fixture
def api() -> Iterator[KubeAPIServer]:
    with KubeAPIServer(Cluster(objects=cluster_objects(), version=VERSION)) as server:
        yield server


def live_config(api: KubeAPIServer, tmp_path: Path, **changes: object) -> ServeConfig:
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    options: dict[str, object] = {"port": 0, "interval": 0.05, "retry_interval": 0.05, "as_of_today": False}
    options.update(changes)
    return ServeConfig(AuditConfig(as_of=AS_OF), LiveSource(kubeconfig=kubeconfig), **options)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# The exporter in-process


def test_scrapes_are_answered_while_audits_run(api: KubeAPIServer, tmp_path: Path) -> None:
    config = live_config(api, tmp_path)
    expected = expected_series(config.audit, config.source)  # type: ignore[arg-type]
    clock = GateClock(2)
    lines: list[str] = []
    try:
        with Exporter(config, knowledge=knowledge(), clock=clock, notify=lines.append) as exporter:
            url = exporter.url
            # The first audit is held: alive, not ready, and /metrics answers with the exporter's own series.
            assert clock.entered[0].wait(WAIT_SECONDS)
            assert httpx.get(f"{url}/healthz").status_code == 200
            not_ready = httpx.get(f"{url}/readyz")
            assert (not_ready.status_code, not_ready.text) == (503, "not ready: no audit has completed yet\n")
            first = scrape(url)
            assert value(first, "patchlevel_audit_in_progress") == 1
            assert value(first, "patchlevel_audits_total", result="success") == 0
            assert not report_series(first)

            clock.released[0].set()
            wait_until(lambda: httpx.get(f"{url}/readyz").status_code == 200, "the first audit")
            # The second audit is held: the first one's result is served meanwhile.
            assert clock.entered[1].wait(WAIT_SECONDS)
            during = scrape(url)
            assert report_series(during) == expected
            assert value(during, "patchlevel_audit_in_progress") == 1
            assert value(during, "patchlevel_audit_success") == 1
            assert value(during, "patchlevel_audits_total", result="success") == 1
            assert value(during, "patchlevel_audit_interval_seconds") == 0.05
            assert (value(during, "patchlevel_result_age_seconds") or -1) >= 0

            clock.released[1].set()
            wait_until(lambda: (value(scrape(url), "patchlevel_audits_total", result="success") or 0) >= 2, "audit 2")
            assert report_series(scrape(url)) == expected
    finally:
        clock.release_all()
    assert any(line.startswith("audited test as of 2026-11-27") for line in lines), lines


def test_a_failed_audit_keeps_the_last_good_result(tmp_path: Path) -> None:
    # The second audit's node list is refused: that audit fails; the third succeeds again.
    refused = Fault("/api/v1/nodes", Action.STATUS, status=403, nth=2, times=1)
    with KubeAPIServer(Cluster(objects=cluster_objects(), version=VERSION), faults=[refused]) as api:
        config = live_config(api, tmp_path)
        clock = GateClock(2)  # call 1: the first audit (passes once released); call 2: the third audit
        lines: list[str] = []
        clock.released[0].set()
        try:
            with Exporter(config, knowledge=knowledge(), clock=clock, notify=lines.append) as exporter:
                assert clock.entered[1].wait(WAIT_SECONDS)  # audit 2 has failed, audit 3 is held
                series = scrape(exporter.url)
                ready = httpx.get(f"{exporter.url}/readyz")
                clock.release_all()  # let audit 3 finish, so closing need not wait for it
        finally:
            clock.release_all()

    assert value(series, "patchlevel_audit_success") == 0
    assert value(series, "patchlevel_audits_total", result="failure") == 1
    assert value(series, "patchlevel_audits_total", result="success") == 1
    assert value(series, "patchlevel_findings", cluster="test", check="kubelet_version_supported", status="fail")
    assert value(series, "patchlevel_audit_last_success_timestamp_seconds")
    assert (value(series, "patchlevel_result_age_seconds") or -1) >= 0
    assert ready.status_code == 200 and ready.text.startswith("ready: the served result is from the audit completed")
    errors = [line for line in lines if line.startswith("error: the audit of")]
    assert len(errors) == 1 and "refused to list nodes (403 Forbidden" in errors[0], lines
    assert errors[0].endswith("still serving the last good result")


def test_endpoints_other_than_the_three_answer_404_or_405(tmp_path: Path) -> None:
    config = ServeConfig(AuditConfig(as_of=AS_OF), SnapshotSource(DEMO), port=0, as_of_today=False)
    with Exporter(config, knowledge=knowledge()) as exporter:
        assert httpx.get(f"{exporter.url}/nope").status_code == 404
        assert httpx.post(f"{exporter.url}/metrics").status_code == 405
        assert httpx.get(f"{exporter.url}/").text == "patchlevel exporter: /metrics /healthz /readyz\n"


def test_openmetrics_is_served_when_the_scraper_asks_for_it(tmp_path: Path) -> None:
    config = ServeConfig(AuditConfig(as_of=AS_OF), SnapshotSource(DEMO), port=0, as_of_today=False)
    with Exporter(config, knowledge=knowledge()) as exporter:
        wait_until(lambda: exporter.state.ready, "the demo audit")
        answer = httpx.get(f"{exporter.url}/metrics", headers={"Accept": "application/openmetrics-text"})
    assert answer.headers["content-type"].startswith("application/openmetrics-text")
    assert answer.text.endswith("# EOF\n")
    assert 'patchlevel_findings{check="control_plane_version_supported",cluster="demo-cluster",status="fail"} 1.0' in (
        answer.text
    )


# ------------------------------------------------------------------------------------------
# Reference data: read afresh by each audit


def day_start(day: str) -> float:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC).timestamp()


def test_each_audit_reads_the_reference_data_afresh_and_keeps_none_of_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, data)  # a data directory, as --data-dir or lifecycle update gives
    scan = REPO / "tests" / "data" / "scans" / "trivy" / "trivy-golden-alpine-3.9-schema2-2021.json"
    images = ImageEvidenceOptions(scan_reports=(scan,))  # its CVEs are those EPSS scores are read for
    config = ServeConfig(
        AuditConfig(as_of=AS_OF, data_dir=data, images=images),
        SnapshotSource(DEMO),
        port=0,
        interval=0.05,
        retry_interval=0.05,
        as_of_today=False,
    )
    held: list[int] = []  # EPSS score sets of this data directory alive as each audit starts
    epss_details: list[str] = []

    def audit(
        config: AuditConfig, source: Source, *, knowledge: Knowledge | None, clock: Clock, notify: Notify
    ) -> AuditOutcome:
        gc.collect()
        held.append(sum(1 for o in gc.get_objects() if isinstance(o, EpssScores) and o.source.startswith(str(data))))
        outcome = run(config, source, knowledge=knowledge, clock=clock, notify=notify)
        epss_details.extend(d.detail for d in outcome.report.data_sources if d.name == "first-epss")
        return outcome

    def timestamp(series: Series, source: str) -> float | None:
        return value(series, "patchlevel_data_timestamp_seconds", cluster="demo-cluster", source=source)

    with Exporter(config, audit=audit) as exporter:  # no knowledge given: what the CLI does
        wait_until(lambda: exporter.state.ready, "the first audit")
        before = scrape(exporter.url)
        # lifecycle update: newer lifecycle data, and EPSS scores (one for a CVE of the scan, one not)
        manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
        manifest["products"]["retrieved"] = "2026-11-20"
        (data / "manifest.json.new").write_text(json.dumps(manifest), encoding="utf-8")
        os.replace(data / "manifest.json.new", data / "manifest.json")
        (data / "epss").mkdir()
        rows = "CVE-2019-1549,0.00412,0.7\nCVE-2021-44228,0.94358,0.99959\n"
        epss = f"#model_version:v2025.03.14,score_date:2026-11-25T12:55:00Z\ncve,epss,percentile\n{rows}"
        (data / "epss" / "epss_scores-2026-11-25.csv.gz").write_bytes(gzip.compress(epss.encode()))
        updated = (day_start("2026-11-20"), day_start("2026-11-25"))

        def audited_anew() -> bool:  # an audit that began before the update may have read half of it
            series = scrape(exporter.url)
            return (timestamp(series, "lifecycle"), timestamp(series, "first-epss")) == updated

        wait_until(audited_anew, "an audit of the new data")

    assert timestamp(before, "lifecycle") == day_start("2026-08-22")  # the bundled data's date
    assert timestamp(before, "first-epss") is None  # then the update was used without a restart
    assert epss_details and all("2 scores, 1 of them for the scans' CVEs" in d for d in epss_details)
    assert len(held) >= 2 and set(held) == {0}  # nothing of the reference data is kept between audits


def test_serve_refuses_a_data_directory_that_is_not_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", str(DEMO), "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path)]) != 0
    err = capsys.readouterr().err
    assert "is not a patchlevel lifecycle data directory" in err and err.count("\n") == 1, err


# ------------------------------------------------------------------------------------------
# An audit that hangs


class Monotonic:
    """``time.monotonic`` for the exporter's state, moved on by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_healthz_fails_once_an_audit_runs_past_its_deadline() -> None:
    config = ServeConfig(
        AuditConfig(as_of=AS_OF),
        SnapshotSource(DEMO),
        port=0,
        interval=0.05,
        retry_interval=0.05,
        as_of_today=False,
        hang_after=300.0,
    )
    monotonic = Monotonic()
    hanging, released = threading.Event(), threading.Event()
    calls: list[int] = []

    def audit(
        config: AuditConfig, source: Source, *, knowledge: Knowledge | None, clock: Clock, notify: Notify
    ) -> AuditOutcome:
        calls.append(1)
        if len(calls) == 2:  # the second audit hangs (a read that never returns) until released
            hanging.set()
            released.wait(WAIT_SECONDS)
        return run(config, source, knowledge=knowledge, clock=clock, notify=notify)

    lines: list[str] = []
    try:
        with Exporter(config, knowledge=knowledge(), audit=audit, monotonic=monotonic, notify=lines.append) as exporter:
            url = exporter.url
            assert hanging.wait(WAIT_SECONDS)
            alive = httpx.get(f"{url}/healthz")
            monotonic.now += 300.0
            at_deadline = httpx.get(f"{url}/healthz")
            monotonic.now += 1.0
            hung = httpx.get(f"{url}/healthz")
            still_hung = httpx.get(f"{url}/healthz")
            ready = httpx.get(f"{url}/readyz")
            series = scrape(url)
            released.set()
            wait_until(lambda: httpx.get(f"{url}/healthz").status_code == 200, "the audit to end")
    finally:
        released.set()

    assert (alive.status_code, alive.text) == (200, "ok\n")
    assert at_deadline.status_code == 200
    message = f"the audit of {DEMO} has run for 301 s, longer than its deadline of 300 s: it is taken to hang"
    assert (hung.status_code, hung.text) == (503, message + "\n")
    assert still_hung.status_code == 503
    assert ready.status_code == 200  # readiness unchanged: the last good result is still served
    assert value(series, "patchlevel_audit_in_progress") == 1
    assert value(series, "patchlevel_audits_total", result="success") == 1
    assert [line for line in lines if "taken to hang" in line] == [
        f"error: {message}; /healthz fails from now on, until it ends"
    ]


def test_the_audit_deadline_is_the_collections_and_a_margin() -> None:
    audit = AuditConfig(as_of=AS_OF)
    assert ServeConfig(audit, LiveSource(deadline=120.0)).audit_deadline == 120.0 + HANG_MARGIN
    assert ServeConfig(audit, SnapshotSource(DEMO)).audit_deadline == LiveSource().deadline + HANG_MARGIN
    assert ServeConfig(audit, SnapshotSource(DEMO), hang_after=5.0).audit_deadline == 5.0
    with pytest.raises(UsageError, match="deadline"):
        ServeConfig(audit, SnapshotSource(DEMO), hang_after=0.0).validate()


# ------------------------------------------------------------------------------------------
# Options


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("6h", 21600), ("30m", 1800), ("90s", 90), ("1h30m", 5400), ("1d", 86400), ("45", 45), ("0.5s", 0.5)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "0s", "-5m", "6x", "h", "1h 30m", "inf", "nan", "1e400"])
def test_bad_durations_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="--interval"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1:9877", ("127.0.0.1", 9877)),
        (":9877", ("0.0.0.0", 9877)),
        ("[::1]:0", ("::1", 0)),
        ("localhost:80", ("localhost", 80)),
    ],
)
def test_listen_addresses(text: str, address: tuple[str, int]) -> None:
    assert parse_listen(text) == address


@pytest.mark.parametrize("text", ["9877", "127.0.0.1", "127.0.0.1:http", "::1:9877", "127.0.0.1:70000"])
def test_bad_listen_addresses_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="--listen"):
        parse_listen(text)


def test_serve_usage_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cases = [
            (
                ["serve", str(DEMO), "--listen", f"127.0.0.1:{port}"],
                f"--listen 127.0.0.1:{port}: Address already in use",
            ),
            (["serve", str(DEMO), "--interval", "soon"], "--interval 'soon' is not a duration"),
            (["serve", str(DEMO), "--retry-interval", "0"], "--retry-interval '0': give a duration longer than zero"),
            (["serve", str(tmp_path / "missing")], "missing: no such file or directory"),
            (["serve", str(DEMO), "--context", "prod"], "--context and --kubeconfig are for live clusters"),
            (["serve", str(DEMO), "--as-of", "2026-13-01"], "--as-of '2026-13-01' is not a date"),
        ]
        for argv, message in cases:
            assert main(argv) == 2, argv
            err = capsys.readouterr().err
            assert message in err and err.count("\n") == 1 and "Traceback" not in err, err


def test_serve_is_listed_and_its_help_names_the_endpoints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert re.search(r"^\s+serve\s", capsys.readouterr().out, re.MULTILINE)
    assert main(["serve", "--help"]) == 0
    help_text = capsys.readouterr().out
    for option in ("--listen", "--interval", "--retry-interval", "--as-of", "--policy", "--scan-report", "--context"):
        assert option in help_text
    assert "/metrics, /healthz (liveness) and /readyz" in " ".join(help_text.split())


# ------------------------------------------------------------------------------------------
# The command as a process: SIGTERM and SIGINT


class ServeProcess:
    """``patchlevel serve ARGS`` as a child process; ``url`` once it says where it listens."""

    def __init__(self, args: list[str], home: Path, env: dict[str, str] | None = None) -> None:
        environment = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "PYTHONUNBUFFERED": "1"}
        environment.update(env or {})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "patchlevel", "serve", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._wait_for_url()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1.0)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.stderr.append(line)
            match = re.search(r"serving (http://\S+)/metrics", line)
            if match:
                return match.group(1)
        raise AssertionError(f"serve did not start: {''.join(self.stderr)}")

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, str]:
        """Send ``signum``; the exit code and everything it wrote on stderr."""
        self.process.send_signal(signum)
        code = self.process.wait(timeout=WAIT_SECONDS)
        time.sleep(0)  # let the reader thread drain what is left
        while True:
            try:
                self.stderr.append(self.lines.get(timeout=1.0))
            except queue.Empty:
                break
        return code, "".join(self.stderr)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=WAIT_SECONDS)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_exits_cleanly_on_a_signal(tmp_path: Path, signum: int) -> None:
    with ServeProcess([str(DEMO), "--listen", "127.0.0.1:0", "--as-of", "2026-11-27"], tmp_path) as serve:
        wait_until(lambda: httpx.get(f"{serve.url}/readyz").status_code == 200, "the demo audit")
        series = scrape(serve.url)
        code, stderr = serve.stop(signum)

    assert value(series, "patchlevel_cluster_objects", cluster="demo-cluster", kind="nodes") == 4
    assert code == 0, stderr
    assert stderr.splitlines()[-2:] == ["patchlevel: stopping", "patchlevel: stopped"], stderr
    assert "Traceback" not in stderr


def test_sigterm_during_a_hung_audit_stops_within_the_grace(tmp_path: Path) -> None:
    hang = Fault("/api/v1/nodes", Action.HANG, times=None)
    with KubeAPIServer(Cluster(objects=cluster_objects(), version=VERSION), faults=[hang]) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        args = ["--kubeconfig", str(kubeconfig), "--listen", "127.0.0.1:0", "--request-timeout", "600"]
        with ServeProcess(args, tmp_path) as serve:
            wait_until(lambda: bool(api.requests_to("/api/v1/nodes")), "the audit to ask for nodes")
            series = scrape(serve.url)
            ready = httpx.get(f"{serve.url}/readyz").status_code
            code, stderr = serve.stop()

    assert value(series, "patchlevel_audit_in_progress") == 1
    assert ready == 503
    assert code == 0, stderr
    assert "patchlevel: stopped while an audit was running; it was abandoned" in stderr
    assert stderr.rstrip().endswith("patchlevel: stopped")
