"""Alembic environment: run only through ``gateway.db.session.Database.migrate()``.

The caller hands over an open connection (``config.attributes["connection"]``) already inside
a transaction that holds the migration lock, so alembic runs inside it and commits nothing
itself.
"""

from __future__ import annotations

from alembic import context

from gateway.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("run migrations with `pga-gateway migrate` (Database.migrate())")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    compare_type=True,
    # SQLite cannot ALTER most things; batch mode rebuilds tables for future revisions.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
