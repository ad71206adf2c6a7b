"""Hypothesis settings shared by the property tests of every parser of external strings (tests/fuzz).

``FUZZ`` runs 200 examples per property, fast enough for CI.  For a hostile-input round, or after
touching a parser, run many more (minutes)::

    PATCHLEVEL_FUZZ_EXAMPLES=20000 python -m pytest -q tests/fuzz

No deadline: a loaded CI machine must not fail a property on time; timing is not what is tested.
These settings are applied per test (``@FUZZ``), never loaded globally, so other suites keep theirs.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

FUZZ = settings(
    max_examples=int(os.environ.get("PATCHLEVEL_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
