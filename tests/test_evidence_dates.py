"""Evidence collected after the as-of date is no evidence of the cluster on that date: the report says so."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from builders import knowledge, make_inventory
from patchlevel.evaluate import report_warnings
from patchlevel.policy import Policy


@pytest.mark.parametrize(
    ("as_of", "warned"),
    [(date(2027, 5, 31), True), (date(2027, 6, 1), False), (date(2027, 6, 2), False)],
)
def test_evidence_collected_after_the_as_of_date_is_named(as_of: date, warned: bool) -> None:
    inventory = dataclasses.replace(make_inventory(), collected_at=datetime(2027, 6, 1, 23, 30, tzinfo=UTC))
    warnings = report_warnings(knowledge(), Policy(), as_of, inventory)
    backdated = [w for w in warnings if w.startswith("the evidence was collected on 2027-06-01, after the as-of date")]
    assert bool(backdated) is warned, warnings
    if warned:
        assert "this report is no evidence of the cluster's state on 2027-05-31" in backdated[0]


def test_a_snapshot_without_a_collection_time_gets_no_such_warning() -> None:
    warnings = report_warnings(knowledge(), Policy(), date(2026, 1, 1), make_inventory())
    assert not [w for w in warnings if w.startswith("the evidence was collected on")]
