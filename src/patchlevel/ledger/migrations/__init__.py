"""Alembic migrations of the ledger schema; run by ``patchlevel.ledger.store`` on first use."""
