"""Times from outside as aware UTC datetimes, or None: the one parser for every timestamp patchlevel reads.

Scanner reports, VEX documents, registry image configs, evidence bundle manifests and lifecycle data
all carry times written by someone else.  ``timestamp`` reads them all the same way and never raises:
a value that is not a time, or a time UTC cannot hold (``9999-12-31T23:00:00-05:00``: its UTC
conversion falls past year 9999), is None, and the caller reports the value as unknown or invalid,
with the raw text.  Every result is in UTC, so later ``astimezone``/``date()`` calls cannot overflow.

Depends on the standard library only: collectors, importers, VEX and lifecycle readers all import it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

MAX_TIMESTAMP_TEXT = 128  # longer text is no timestamp (a 9-digit fraction and a zone name fit in 60)

# RFC 3339 (date-time, or a bare full-date): "2024-05-01T10:20:30.123456789+02:00", "…Z", "2024-05-01".
_RFC3339 = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[Tt ](?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?:\.(?P<frac>\d{1,32}))?"
    r"(?:(?P<z>[Zz])|(?P<sign>[+-])(?P<hh>\d{2}):?(?P<mm>\d{2}))?)?",
    re.ASCII,
)
# Go's time.Time.String(): "2021-12-24 08:14:02.123 +0000 UTC", maybe with a monotonic " m=+0.001".
_GO_TIME = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2}) (?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})"
    r"(?:\.(?P<frac>\d{1,32}))? (?P<sign>[+-])(?P<hh>\d{2})(?P<mm>\d{2})(?: [A-Za-z0-9+-]{1,32})?"
    r"(?: m=[+-]\d{1,20}\.\d{1,32})?",
    re.ASCII,
)

# For messages: what ``timestamp`` accepts, in a few words.
ACCEPTED = "an RFC 3339 date-time (or date) that UTC can hold, years 2 to 9999"


def timestamp(value: object, *, keep_offset: bool = False) -> datetime | None:
    """An RFC 3339 (or Go ``time.String``) timestamp as an aware UTC datetime; None when it is not one.

    With ``keep_offset`` the time keeps the offset it was written with (evidence shows it as written);
    it is still only returned when UTC can hold it, so converting it later cannot overflow.

    Never raises.  Accepted: ``YYYY-MM-DD``, and ``YYYY-MM-DD[T ]hh:mm:ss[.fraction][Z|±hh:mm]`` (a
    time without an offset is taken as UTC), and Go's ``YYYY-MM-DD hh:mm:ss[.fraction] ±hhmm
    [ZONE] [m=±monotonic]``; a ``datetime`` (naive: UTC) or ``date`` passes through.  Fractions
    beyond microseconds (nanoseconds) are cut, not rounded.  None for anything else: empty or
    garbage text, text over ``MAX_TIMESTAMP_TEXT`` characters, impossible dates and times (month
    13, hour 24, leap second 60), offsets of 24 hours or more, year 0 and Go's zero time (year 1),
    and moments that UTC cannot hold (year 9999 with a negative offset): downstream that is UNKNOWN.
    """
    parsed: datetime | None = None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and len(value) <= MAX_TIMESTAMP_TEXT:
        text = value.strip()
        match = _RFC3339.fullmatch(text) or _GO_TIME.fullmatch(text)
        parsed = _from_match(match) if match is not None else None
    if parsed is None or parsed.year <= 1:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        utc = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return parsed if keep_offset else utc


def day(value: object) -> date | None:
    """The UTC calendar date of a timestamp (or date) value, None when there is none."""
    moment = timestamp(value)
    return moment.date() if moment else None


def shown(value: object, limit: int = 64) -> str:
    """A raw value for a one-line message: its repr, cut to ``limit`` characters."""
    text = repr(value if isinstance(value, str) else str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _from_match(match: re.Match[str]) -> datetime | None:
    parts = match.groupdict()
    try:
        offset = None
        if parts.get("z"):
            offset = UTC
        elif parts["sign"] is not None:
            hours, minutes = int(parts["hh"]), int(parts["mm"])
            if hours >= 24 or minutes >= 60:
                return None
            delta = timedelta(hours=hours, minutes=minutes)
            offset = timezone(-delta if parts["sign"] == "-" else delta)
        if parts["hour"] is None:
            return datetime(int(parts["year"]), int(parts["month"]), int(parts["day"]), tzinfo=offset)
        micro = int((parts["frac"] or "0")[:6].ljust(6, "0"))
        return datetime(
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"]),
            int(parts["minute"]),
            int(parts["second"]),
            micro,
            tzinfo=offset,
        )
    except ValueError:  # month 13, day 31 in April, hour 24, second 60
        return None
