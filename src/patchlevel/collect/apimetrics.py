"""The two series of the API server's ``/metrics`` the planner reads, from the Prometheus text format.

``GET /metrics`` (``kubectl get --raw /metrics``) answers in the Prometheus text exposition format
(https://prometheus.io/docs/instrumenting/exposition_formats/): ``# HELP``/``# TYPE`` lines and one
sample per line, ``name{label="value",…} value``.  Two series matter:

* ``apiserver_requested_deprecated_apis{group,version,resource,subresource,removed_release}``: a
  gauge kube-apiserver sets to 1 for each deprecated API a client has requested since the process
  started (Kubernetes 1.19 and later; STABLE from 1.27, see the Kubernetes deprecation policy);
* ``process_start_time_seconds``: when that process started, so since when the gauge counts.

``apiserver_request_total`` (every kube-apiserver has it) tells an exposition of kube-apiserver from
another one: without it, a missing deprecated-API series proves nothing.

The body is read with byte patterns anchored at line starts, never split into a list of lines:
a large API server's exposition holds tens of thousands of series.  Label values are unescaped
(``\\\\``, ``\\"``, ``\\n``) and kept as text; a sample whose value does not parse counts as not
requested, and the number of such samples is reported.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from patchlevel.inventory import ApiServerMetrics, DeprecatedApiRequest

DEPRECATED_SERIES = "apiserver_requested_deprecated_apis"
START_SERIES = "process_start_time_seconds"
APISERVER_SERIES = "apiserver_request_total"
MAX_REQUEST_SERIES = 10_000  # more deprecated-API series than any API server serves: the rest is not read
# The latest start time taken as real (the year 9999): anything later, or not finite, is not a time.
_LATEST_START = 253402300799.0

_SAMPLE = re.compile(rb"^" + DEPRECATED_SERIES.encode() + rb"(\{[^\n]*\})?[ \t]+([^ \t\n]+)", re.MULTILINE)
_START = re.compile(rb"^" + START_SERIES.encode() + rb"(?:\{[^\n]*\})?[ \t]+([^ \t\n]+)", re.MULTILINE)
_APISERVER = re.compile(rb"^(?:# (?:HELP|TYPE) )?" + APISERVER_SERIES.encode() + rb"[{ \t]", re.MULTILINE)
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\\n]|\\.)*)"')
_ESCAPE = re.compile(r"\\(.)")
_EXPOSITION_START = re.compile(
    rb"\s*(?:# (?:HELP|TYPE) [A-Za-z_:][A-Za-z0-9_:]*[ \t\n]|(?:"
    + b"|".join(n.encode() for n in (DEPRECATED_SERIES, START_SERIES, APISERVER_SERIES))
    + rb")[{ \t])"
)


def looks_like_exposition(head: bytes) -> bool:
    """Whether a file starts as a Prometheus text exposition: a ``# HELP``/``# TYPE`` line, or a sample of a
    series read here (``kubectl get --raw /metrics``, whole or filtered with grep)."""
    return _EXPOSITION_START.match(head) is not None


def _unescape(value: str) -> str:
    return _ESCAPE.sub(lambda m: "\n" if m[1] == "n" else m[1], value)


def _labels(text: str) -> dict[str, str]:
    return {name: _unescape(value) for name, value in _LABEL.findall(text)}


def _number(raw: bytes) -> float | None:
    try:
        return float(raw)
    except ValueError:
        return None


def parse_apiserver_metrics(data: bytes, where: str) -> tuple[ApiServerMetrics, list[str]]:
    """The deprecated-API requests and start time in an exposition, with warnings about what did not parse."""
    warnings: list[str] = []
    requests: dict[DeprecatedApiRequest, None] = {}
    unreadable = 0
    for match in _SAMPLE.finditer(data):
        value = _number(match[2])
        if value is None or math.isnan(value):
            unreadable += 1
            continue
        if value <= 0:
            continue  # the gauge says requested with 1; 0 is not a request
        labels = _labels(match[1].decode("utf-8", "replace")) if match[1] else {}
        request = DeprecatedApiRequest(
            group=labels.get("group", ""),
            version=labels.get("version", ""),
            resource=labels.get("resource", ""),
            subresource=labels.get("subresource", ""),
            removed_release=labels.get("removed_release", ""),
        )
        if not request.version or not request.resource:
            unreadable += 1
            continue
        requests[request] = None
        if len(requests) >= MAX_REQUEST_SERIES:
            warnings.append(f"{where}: more than {MAX_REQUEST_SERIES:,} {DEPRECATED_SERIES} series; the rest not read")
            break
    if unreadable:
        warnings.append(
            f"{where}: {unreadable} {DEPRECATED_SERIES} sample(s) without a readable value, version or resource "
            "were not counted"
        )
    started = None
    start = _START.search(data)
    if start is not None:
        seconds = _number(start[1])
        if seconds is not None and math.isfinite(seconds) and 0 < seconds <= _LATEST_START:
            started = datetime.fromtimestamp(seconds, UTC)
        else:
            warnings.append(f"{where}: {START_SERIES} is not a time ({start[1][:40].decode('utf-8', 'replace')!r})")
    metrics = ApiServerMetrics(
        requests=tuple(sorted(requests, key=lambda r: (r.group, r.version, r.resource, r.subresource))),
        started=started,
        from_apiserver=_APISERVER.search(data) is not None,
        source=where,
    )
    return metrics, warnings


def merge_metrics(first: ApiServerMetrics, second: ApiServerMetrics) -> ApiServerMetrics:
    """Two API servers' expositions (or one read twice): requests of either, counted since the later start.

    A version neither server saw requested was not requested, on both, since the later of their starts.
    """
    requests = dict.fromkeys((*first.requests, *second.requests))
    starts = [s for s in (first.started, second.started) if s is not None]
    started = max(starts) if len(starts) == 2 else None
    return ApiServerMetrics(
        requests=tuple(sorted(requests, key=lambda r: (r.group, r.version, r.resource, r.subresource))),
        started=started,
        from_apiserver=first.from_apiserver and second.from_apiserver,
        source=f"{first.source}; {second.source}",
    )
