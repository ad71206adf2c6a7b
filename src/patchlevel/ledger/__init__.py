"""The audit ledger: evidence over time, and the period report built from it.

Recording is opt-in (``--ledger URL`` or ``PATCHLEVEL_LEDGER``).  Modules, in the order data flows:

* ``store``: one SQLAlchemy Core code path for SQLite (the default: a file, WAL, busy timeout)
  and PostgreSQL (psycopg 3, for fleets); Alembic migrations packaged in ``migrations/`` run on
  first use, and a ledger written by a newer patchlevel is refused with one line.
* ``evidence``: what one audit records, built as plain rows from the Report, the Inventory and the
  derived facts (pure); ``record``: ``record_audit``, which writes them idempotently.
* ``history`` (the history model, pure records) and ``query`` (the SQL that loads it);
  ``clocks``: when a fix was first known, per workload and vulnerability (pure).
* ``period``: the period checks, pure functions over a ``History``; ``report``: the period
  report record the renderers (``patchlevel.render.period_*``) draw from; ``run``: the period
  command's library call; ``importer``: ``ledger import`` of saved evidence bundles.

Nothing is imported here, so a renderer importing ``patchlevel.ledger.report`` never pulls in
SQLAlchemy.
"""
