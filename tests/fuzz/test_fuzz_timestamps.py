"""Properties of the one timestamp parser (``patchlevel.timestamps.timestamp``, which importers, VEX, the registry
client, bundles and lifecycle data share): never raises, gives an aware UTC time or None, and round-trips
RFC 3339 and Go ``time.String`` text with any offset and precision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from fuzz_settings import FUZZ
from hypothesis import example, given
from hypothesis import strategies as st

from patchlevel.timestamps import day, shown, timestamp

offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1)  # minutes; RFC 3339 allows ±23:59
moments = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999))
fractions = st.text(alphabet="0123456789", min_size=0, max_size=12)


def _offset_text(minutes: int, colon: bool = True) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{mins:02d}"


def _expected(naive: datetime, minutes: int, fraction: str) -> datetime | None:
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    local = naive.replace(microsecond=micro, tzinfo=timezone(timedelta(minutes=minutes)))
    try:
        return local.astimezone(UTC)
    except OverflowError:
        return None  # not representable in UTC (year 9999 with a negative offset, year 1 with a positive one)


DATE_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}"
garbage = st.one_of(
    st.text(max_size=200),
    st.from_regex(rf"\A{DATE_TIME}(\.[0-9]{{0,40}})?([Zz]|[+-][0-9]{{2}}:?[0-9]{{2}})?\Z"),
    st.from_regex(rf"\A{DATE_TIME}(\.[0-9]{{1,12}})? [+-][0-9]{{4}}( [A-Z]{{3}})?\Z"),
)


@FUZZ
@given(garbage)
@example("9999-12-31T23:59:59-01:00")
@example("0001-01-01T00:00:00+01:00")
@example("2021-12-24 08:14:02.123 +2400 UTC")
@example("2021-12-24 08:14:02.123 -9959 XYZ")
@example("2026-11-20T10:00:00.123456789123456789123456789Z")
@example("9" * 5000)
@example("2026-02-30T00:00:00Z")
@example("2026-01-01T24:00:00Z")
@example("2026-01-01T23:59:60Z")
@example("9999-12-31T23:00:00-05:00")
def test_any_text_is_a_utc_time_or_none(text: str) -> None:
    parsed = timestamp(text)
    assert parsed is None or (parsed.tzinfo is UTC and parsed.year >= 1)
    day(text)
    as_written = timestamp(text, keep_offset=True)
    assert (as_written is None) == (parsed is None)
    if as_written is not None:
        assert as_written == parsed and as_written.astimezone(UTC) == parsed  # UTC can hold what is kept
    assert len(shown(text)) <= 64


@FUZZ
@given(moments, offsets, fractions, st.sampled_from(["T", "t", " "]), st.booleans())
def test_rfc3339_round_trips_with_any_offset_and_precision(
    naive: datetime, minutes: int, fraction: str, separator: str, colon: bool
) -> None:
    text = naive.isoformat(sep=separator, timespec="seconds") + (f".{fraction}" if fraction else "")
    text += _offset_text(minutes, colon)
    assert timestamp(text) == _expected(naive.replace(microsecond=0), minutes, fraction)


@FUZZ
@given(moments, fractions)
def test_z_and_no_offset_mean_utc(naive: datetime, fraction: str) -> None:
    text = naive.isoformat(timespec="seconds") + (f".{fraction}" if fraction else "")
    expected = _expected(naive.replace(microsecond=0), 0, fraction)
    assert timestamp(text + "Z") == expected
    assert timestamp(text) == expected


@FUZZ
@given(
    moments,
    offsets,
    fractions,
    st.sampled_from(["", " UTC", " CEST", " -03"]),
    st.sampled_from(["", " m=+0.000000001"]),
)
def test_go_time_strings_round_trip(naive: datetime, minutes: int, fraction: str, zone: str, monotonic: str) -> None:
    text = naive.isoformat(sep=" ", timespec="seconds") + (f".{fraction}" if fraction else "")
    text += " " + _offset_text(minutes, colon=False) + zone + monotonic
    assert timestamp(text) == _expected(naive.replace(microsecond=0), minutes, fraction)


@FUZZ
@given(moments, st.integers(min_value=24, max_value=99), st.integers(min_value=0, max_value=99))
def test_offsets_of_a_day_or_more_are_not_times(naive: datetime, hours: int, mins: int) -> None:
    base = naive.isoformat(sep=" ", timespec="seconds")
    assert timestamp(f"{base} +{hours:02d}{mins:02d} UTC") is None
    assert timestamp(f"{base.replace(' ', 'T')}-{hours:02d}:{mins:02d}") is None


@FUZZ
@given(st.datetimes(timezones=st.timezones()))
def test_datetimes_pass_through_as_utc(moment: datetime) -> None:
    try:
        expected = moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    except OverflowError:
        expected = None
    if expected is not None and moment.year <= 1:
        expected = None
    assert timestamp(moment) == expected
