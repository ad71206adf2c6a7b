"""One retry rule for every client: Retry-After read safely, capped exponential backoff with jitter."""

from __future__ import annotations

import pytest

from patchlevel.retry import MAX_RETRY_AFTER, backoff_delay, retry_after_seconds


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 0.5 ", 0.5),
        ("-5", 0.0),  # never a negative wait
        (str(MAX_RETRY_AFTER), MAX_RETRY_AFTER),
        (str(MAX_RETRY_AFTER + 1), None),  # a server cannot park a run for days: the backoff applies
        ("inf", None),
        ("nan", None),
        ("1e309", None),
        ("Wed, 21 Oct 2026 07:28:00 GMT", None),  # an HTTP date: the backoff applies
        ("", None),
        (None, None),
    ],
)
def test_retry_after(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header) == seconds


def test_backoff_doubles_to_its_cap_and_jitter_keeps_half_to_all() -> None:
    assert [backoff_delay(n, 0.5, 8.0) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert backoff_delay(3, 0.5, 8.0, jitter=0.0) == 1.0
    assert backoff_delay(3, 0.5, 8.0, jitter=0.999) == pytest.approx(2.0, rel=1e-3)
