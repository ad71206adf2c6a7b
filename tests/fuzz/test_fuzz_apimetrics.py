"""The API server's /metrics exposition is external text: its reader never raises, and reads back what it wrote."""

from __future__ import annotations

from datetime import UTC, datetime

from fuzz_settings import FUZZ
from hypothesis import example, given
from hypothesis import strategies as st

from patchlevel.collect.apimetrics import looks_like_exposition, parse_apiserver_metrics

# Bytes shaped like the format: series names, braces, quotes, escapes, numbers, newlines.
PIECES = st.sampled_from(
    [
        b"apiserver_requested_deprecated_apis",
        b"process_start_time_seconds",
        b"apiserver_request_total",
        b"# HELP ",
        b"# TYPE ",
        b"{",
        b"}",
        b'group="',
        b'version="v1beta1"',
        b'resource="x"',
        b'"',
        b"\\",
        b"\\n",
        b",",
        b"=",
        b" ",
        b"\n",
        b"1",
        b"0",
        b"NaN",
        b"+Inf",
        b"-1e+999",
        b"1.7e+09",
        b"9e99",
        b"\xff\xfe",
        b"\x00",
    ]
)
EXPOSITIONS = st.lists(PIECES, max_size=60).map(b"".join) | st.binary(max_size=400)


@FUZZ
@given(EXPOSITIONS)
@example(b'apiserver_requested_deprecated_apis{group="a\\"b",version="v1",resource="r\\\\"} 1\n')
@example(b"process_start_time_seconds 1e+400\nprocess_start_time_seconds -5\n")
@example(b'apiserver_requested_deprecated_apis{version="v1",resource="r"} NaN\n')
def test_any_exposition_is_read_without_raising(data: bytes) -> None:
    looks_like_exposition(data)
    metrics, warnings = parse_apiserver_metrics(data, "fuzz")
    assert all(r.version and r.resource for r in metrics.requests)
    assert metrics.started is None or metrics.started.tzinfo is UTC
    assert all(isinstance(w, str) for w in warnings)


LABEL = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@FUZZ
@given(LABEL, st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8), LABEL, st.floats(1, 4e9))
def test_labels_and_the_start_time_read_back_as_written(group: str, version: str, resource: str, start: float) -> None:
    def escaped(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    line = (
        f'apiserver_requested_deprecated_apis{{group="{escaped(group)}",removed_release="1.25",'
        f'resource="{escaped(resource)}",subresource="",version="{escaped(version)}"}} 1\n'
        f'apiserver_request_total{{code="200"}} 4\nprocess_start_time_seconds {start!r}\n'
    )
    metrics, _ = parse_apiserver_metrics(line.encode("utf-8"), "fuzz")
    if resource:
        (request,) = metrics.requests
        assert (request.group, request.version, request.resource) == (group, version, resource)
    assert metrics.from_apiserver
    assert metrics.started == datetime.fromtimestamp(start, UTC)
