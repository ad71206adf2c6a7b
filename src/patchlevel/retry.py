"""When to try a request again: one rule for every client patchlevel runs (API server, lifecycle updates).

``retry_after_seconds`` reads an HTTP ``Retry-After`` header: delay-seconds only (an HTTP date is rare from
the servers patchlevel talks to; the backoff applies instead), never negative, and a longer or non-finite
value than ``MAX_RETRY_AFTER`` is ignored so a hostile server cannot park a run for days.
``backoff_delay`` is capped exponential backoff, with "equal jitter" (between half and all of the delay)
when a random number is given, so a fleet of clients does not retry in step.
"""

from __future__ import annotations

import math

MAX_RETRY_AFTER = 3600.0


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait, or None when it gives no usable number."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) and seconds <= MAX_RETRY_AFTER else None


def backoff_delay(attempt: int, base: float, cap: float, jitter: float | None = None) -> float:
    """The wait after failed attempt ``attempt`` (1 for the first): ``base`` doubling, at most ``cap``;
    with ``jitter`` (a number in [0, 1)), between half and all of it."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return float(ceiling if jitter is None else ceiling * (0.5 + jitter / 2))
