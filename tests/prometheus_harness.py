"""A real Prometheus for the exporter tests: Debian's ``prometheus`` on a loopback port.

``PrometheusServer`` writes its own configuration (one scrape job, ``patchlevel-exporter``, with a
one-second scrape and rule evaluation interval, and the rule files given) and keeps its data in
the test's directory; ``query`` asks the HTTP API, ``wait_for`` polls it until an answer is there
(bounded, so a broken setup fails instead of hanging).  ``promtool`` runs the same package's
checker.  Nothing starts on import; tests skip, saying why, when the binaries are missing
(``.ci/run`` installs the package).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import pytest
import yaml

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
requires_prometheus = pytest.mark.skipif(
    PROMETHEUS is None, reason="Debian's prometheus package is not installed (.ci/run installs it)"
)
requires_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool (Debian's prometheus package) is not installed (.ci/run installs it)"
)
JOB = "patchlevel-exporter"
WAIT_SECONDS = 120.0  # a bound on every wait: a hang guard, not a timing assertion


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def promtool(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=WAIT_SECONDS,
    )


class PrometheusServer:
    """``prometheus`` scraping ``targets`` as job ``patchlevel-exporter``, evaluating ``rule_files``."""

    def __init__(self, workdir: Path, targets: Sequence[str], rule_files: Sequence[Path] = ()) -> None:
        assert PROMETHEUS is not None
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(path) for path in rule_files],
            "scrape_configs": [{"job_name": JOB, "static_configs": [{"targets": list(targets)}]}],
        }
        self.config = workdir / "prometheus.yml"
        self.config.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.log = workdir / "prometheus.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._client = httpx.Client(base_url=self.url, timeout=10.0)

    def start(self) -> Self:
        assert PROMETHEUS is not None
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={self.config}",
                    f"--storage.tsdb.path={self.workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=1h",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self._wait(lambda: self._get("/-/ready").status_code == 200, "Prometheus to be ready")
        return self

    def stop(self) -> None:
        self._client.close()
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=30)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # -- the HTTP API ---------------------------------------------------------------------------

    def api(self, path: str, **params: str) -> Any:
        """``data`` of an API answer; fails the test on an error answer."""
        answer = self._get(f"/api/v1/{path}", params=params).json()
        assert answer["status"] == "success", answer
        return answer["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant vector results of a query: ``[{"metric": {...}, "value": [t, "v"]}, ...]``."""
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", data
        result: list[dict[str, Any]] = data["result"]
        return result

    def wait_for(self, expr: str, what: str | None = None) -> list[dict[str, Any]]:
        """Poll ``expr`` until it returns at least one series."""
        found: list[dict[str, Any]] = []

        def ready() -> bool:
            nonlocal found
            found = self.query(expr)
            return bool(found)

        self._wait(ready, what or f"a result for {expr}")
        return found

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        self._wait(condition, what)

    # -- internals --------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        return self._client.get(path, params=params)

    def _wait(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise AssertionError(f"prometheus exited ({self._process.returncode}): {self._log_tail()}")
            try:
                if condition():
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting for {what}; prometheus log: {self._log_tail()}")
            time.sleep(0.2)

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""


def rule_groups(prometheus_rule: Path) -> dict[str, Any]:
    """The rule groups of a PrometheusRule manifest, as a Prometheus rule file holds them."""
    document = yaml.safe_load(prometheus_rule.read_text(encoding="utf-8"))
    assert document["kind"] == "PrometheusRule"
    spec: dict[str, Any] = document["spec"]
    return spec


def sample_value(series: dict[str, Any]) -> float:
    return float(series["value"][1])
