"""The migrations create exactly the models' schema, and migrating is idempotent."""

from __future__ import annotations

import threading

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from gateway.db.models import Base
from gateway.db.session import Database


def _diff(database: Database) -> list[object]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_migrated_schema_matches_models(blank_database_url: str) -> None:
    database = Database(blank_database_url)
    try:
        database.migrate()
        assert _diff(database) == []
        tables = set(inspect(database.engine).get_table_names())
        assert set(Base.metadata.tables) | {"alembic_version"} == tables
    finally:
        database.dispose()


def test_migrate_twice_is_a_no_op(database: Database) -> None:
    database.migrate()
    database.migrate()
    assert _diff(database) == []


def test_concurrent_migrations_both_succeed(blank_database_url: str) -> None:
    # Two processes starting together: the migration lock makes the second one a no-op.
    errors: list[BaseException] = []

    def run() -> None:
        db = Database(blank_database_url)
        try:
            db.migrate()
        except BaseException as exc:  # collected and asserted in the main thread
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    check = Database(blank_database_url)
    try:
        assert _diff(check) == []
    finally:
        check.dispose()
