"""Suite-wide fixtures: the database of the run (``PGA_TEST_DATABASE``).

``make test`` runs the suite twice, with ``sqlite`` and with ``postgres``; for ``postgres`` one
throw-away server is started per session (tests/support/postgres.py). Fixtures:

- ``test_database_kind`` -> ``"sqlite"`` | ``"postgres"``
- ``database_url`` -> URL of a fresh, empty, migrated database for this test
- ``blank_database_url`` -> URL of a fresh database with no tables (migration tests)
- ``database`` -> a ``gateway.db.session.Database`` on ``database_url``, disposed after
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# `tests.support` is importable because pyproject's pytest settings put the repository root
# on sys.path (pythonpath = ["."]).
from gateway.db.session import Database
from tests.support import postgres
from tests.support.databases import database_kind, fresh_database_url


@pytest.fixture(scope="session")
def test_database_kind() -> Iterator[str]:
    try:
        kind = database_kind()
    except ValueError as exc:
        pytest.fail(str(exc), pytrace=False)
    if kind == "postgres":
        try:
            postgres.session_server()
        except postgres.PostgresHarnessError as exc:
            pytest.fail(str(exc), pytrace=False)
    yield kind
    postgres.stop_session_server()


@pytest.fixture
def database_url(test_database_kind: str, tmp_path: Path) -> Iterator[str]:
    with fresh_database_url(tmp_path) as url:
        yield url


@pytest.fixture
def blank_database_url(test_database_kind: str, tmp_path: Path) -> Iterator[str]:
    with fresh_database_url(tmp_path, migrated=False) as url:
        yield url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    try:
        yield db
    finally:
        db.dispose()
