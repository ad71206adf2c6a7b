"""A kube-apiserver ``GET /metrics`` body in the Prometheus text format, shaped like the real one.

What patchlevel reads is there (``apiserver_requested_deprecated_apis``, ``process_start_time_seconds``,
``apiserver_request_total``) among other series, the way client_golang writes them: metric families
sorted by name, each with its ``# HELP`` and ``# TYPE`` lines, labels sorted by name, values in Go's
shortest float format (``1.76454720012e+09``).  A gauge family with no series is left out entirely,
as client_golang does: an API server no client asked for a deprecated API shows no
``apiserver_requested_deprecated_apis`` line at all.  The help texts are kube-apiserver's.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

DEFAULT_START = 1764547200.12  # 2025-12-01T00:00:00.12Z

DEPRECATED_HELP = (
    "[STABLE] Gauge of deprecated APIs that have been requested, broken out by API group, version, resource, "
    "subresource, and removed_release."
)
REQUEST_HELP = (
    "[STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, "
    "scope, component, and HTTP response code."
)


def go_float(value: float) -> str:
    """A float as Go's ``strconv.FormatFloat(v, 'g', -1, 64)`` writes it (exponent from 1e+06 and below 1e-04)."""
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    sign, digits, exponent = Decimal(repr(float(value))).normalize().as_tuple()
    assert isinstance(exponent, int)
    power = len(digits) + exponent - 1
    text = "".join(map(str, digits))
    if -4 <= power < 6:
        return repr(float(value))
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'+' if power >= 0 else '-'}{abs(power):02d}"


def _labels(pairs: dict[str, str]) -> str:
    escaped = (f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in pairs.items())
    return "{" + ",".join(sorted(escaped)) + "}"


def apiserver_exposition(
    deprecated: Iterable[tuple[str, str, str, str]] = (),
    *,
    started: float = DEFAULT_START,
    apiserver: bool = True,
) -> str:
    """The body of ``GET /metrics``: ``deprecated`` are (group, version, resource, removed_release) requested.

    ``apiserver=False`` leaves out kube-apiserver's request counter (an exposition of something else).
    """
    families: list[tuple[str, str, str, list[str]]] = []
    if apiserver:
        requests = [
            ("apps", "v1", "replicasets", "LIST", "200", "42"),
            ("", "v1", "pods", "LIST", "200", "1285"),
            ("", "v1", "nodes", "LIST", "200", "96"),
        ]
        deprecated_requests = [(g, v, r, "LIST", "200", "3") for g, v, r, _ in deprecated]
        samples = [
            "apiserver_request_total"
            + _labels(
                {
                    "code": code,
                    "component": "apiserver",
                    "dry_run": "",
                    "group": group,
                    "resource": resource,
                    "scope": "cluster",
                    "subresource": "",
                    "verb": verb,
                    "version": version,
                }
            )
            + f" {count}"
            for group, version, resource, verb, code, count in sorted(requests + deprecated_requests)
        ]
        families.append(("apiserver_request_total", REQUEST_HELP, "counter", samples))
    series = sorted(set(deprecated))
    if series:
        samples = [
            "apiserver_requested_deprecated_apis"
            + _labels({"group": g, "removed_release": removed, "resource": r, "subresource": "", "version": v})
            + " 1"
            for g, v, r, removed in series
        ]
        families.append(("apiserver_requested_deprecated_apis", DEPRECATED_HELP, "gauge", samples))
    families.append(("go_goroutines", "Number of goroutines that currently exist.", "gauge", ["go_goroutines 311"]))
    families.append(
        (
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            "gauge",
            [f"process_start_time_seconds {go_float(started)}"],
        )
    )
    lines: list[str] = []
    for name, help_text, kind, samples in sorted(families):
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *samples]
    return "\n".join(lines) + "\n"
