"""Calendar days people write (``--as-of``, ``--from``/``--to``, a waiver's ``expires``): YYYY-MM-DD, nothing else.

``date.fromisoformat`` also reads ``20260901``, ``2026-W36-2`` and, on ten characters,
``2026W362aa``-like text as real days, so a typo in a waiver's expiry silently becomes another date.
``iso_day`` takes exactly four digits, a dash, two digits, a dash, two digits, naming a real day.
Standard library only: the CLI, the policy loader and any reader can import it.
"""

from __future__ import annotations

import re
from datetime import date

ISO_DAY_FORMAT = "YYYY-MM-DD"
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_day(text: str) -> date | None:
    """The day ``text`` names when it is written YYYY-MM-DD and exists (not 2026-02-30); None otherwise."""
    if not _ISO_DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
