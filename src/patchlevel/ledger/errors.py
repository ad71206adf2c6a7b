"""The ledger's errors: a message of one line, exit code 3 (the evidence could not be kept or read)."""

from __future__ import annotations

from patchlevel.errors import PatchlevelError


class LedgerError(PatchlevelError):
    """The ledger could not be opened, migrated, written or read (exit 3).

    A failed recording never loses the audit's report: the caller writes the report first and
    turns this error into one line and exit code 3.
    """


class LedgerUnavailable(LedgerError):
    """The ledger could not be opened at all: unreachable, missing, not a patchlevel ledger, or at a schema
    revision this patchlevel cannot use.  Nothing can be read from it or recorded in it."""
