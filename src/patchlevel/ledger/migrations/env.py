"""Alembic environment: migrations run on the connection ``patchlevel.ledger.store`` hands over.

There is no alembic.ini and no URL here: the store opens the database (SQLite or PostgreSQL),
holds a lock so concurrent first runs migrate once, and passes its connection in
``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from patchlevel.ledger.schema import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
