"""endoflife.date API responses are untrusted: every field of a real v1 response, mutated type-wise, is refused
with one LifecycleError line naming the product, or converted into a product file the catalog reads back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mutants import FieldPath, mutated, mutations
from patchlevel.errors import LifecycleError
from patchlevel.lifecycle.catalog import parse_product
from patchlevel.lifecycle.update import convert_v1_product

RESPONSE = Path(__file__).parent / "data" / "eol-api" / "snapshot" / "amazon-eks.json"


def _cases() -> Iterator[Any]:
    for path, mutant, label in mutations(json.loads(RESPONSE.read_bytes())):
        yield pytest.param(path, mutant, id=label)


@pytest.mark.parametrize(("path", "mutant"), list(_cases()))
def test_a_mutated_response_converts_or_is_one_clear_error(path: FieldPath, mutant: Any) -> None:
    doc = json.loads(RESPONSE.read_bytes())
    body = json.dumps(mutated(doc, path, mutant)).encode()
    try:
        converted = convert_v1_product(body, product="amazon-eks", origin="eks.json", retrieved=date(2026, 9, 1))
    except LifecycleError as exc:
        message = str(exc)
        assert message.startswith("amazon-eks: ") and "(eks.json)" in message and "\n" not in message, message
        return
    # What the update accepts, the catalog reads: the stored product file decodes and names the product.
    stored = json.dumps(converted.document).encode()
    product = parse_product(stored, None, "products/amazon-eks.json")
    assert product.id == "amazon-eks" and product.cycles
    assert product.retrieved == date(2026, 9, 1)  # the day of the update
