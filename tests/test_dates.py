"""``iso_day``: the one reader of calendar days people write (``--as-of``, ``--from``/``--to``, waiver expiries)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fuzz.fuzz_settings import FUZZ
from patchlevel.cli import main
from patchlevel.dates import iso_day


@pytest.mark.parametrize(
    "text",
    [
        "2026W362aa",
        "2026-W36-2",
        "20260901",
        "2026-02-30",
        "2026-9-1",
        " 2026-09-01",
        "2026-09-01 ",
        "2026-09-01Z",
        "٢٠٢٦-٠٩-٠١",
        "",
        "2026-13-01",
        "0000-01-01",
    ],
)
def test_only_yyyy_mm_dd_naming_a_real_day(text: str) -> None:
    assert iso_day(text) is None


def test_a_real_day() -> None:
    assert iso_day("2026-09-01") == date(2026, 9, 1)
    assert iso_day("2028-02-29") == date(2028, 2, 29)


@FUZZ
@given(st.text(max_size=16) | st.dates().map(date.isoformat))
@example("2026W362aa")
def test_a_day_read_is_the_day_written(text: str) -> None:
    day = iso_day(text)
    assert day is None or day.isoformat() == text


@pytest.mark.parametrize("text", ["2026W362aa", "2026-W36-2", "20260901"])
def test_as_of_takes_no_other_form(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lifecycle", "show", "kubernetes", "--as-of", text]) == 2
    assert f"--as-of {text!r} is not a date (use YYYY-MM-DD)" in capsys.readouterr().err
