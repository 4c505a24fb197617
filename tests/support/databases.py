"""Fresh, migrated test databases for the suite's database kind (SQLite or PostgreSQL).

``PGA_TEST_DATABASE`` chooses the kind (``sqlite`` when unset). The schema is migrated
once per process into a template; each test then gets a cheap copy of it: a file copy on
SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gateway.db.session import Database
from tests.support import postgres

ENV_VAR = "PGA_TEST_DATABASE"
KINDS = ("sqlite", "postgres")
TEMPLATE_NAME = "pga_gateway_template"


def database_kind() -> str:
    """``sqlite`` or ``postgres``, from the environment (a typo fails rather than defaults)."""
    kind = os.environ.get(ENV_VAR, "sqlite").strip().lower() or "sqlite"
    if kind not in KINDS:
        raise ValueError(f"{ENV_VAR}={kind!r}: expected one of {', '.join(KINDS)}")
    return kind


def _migrate(url: str) -> None:
    database = Database(url)
    try:
        database.migrate()
    finally:
        database.dispose()


_lock = threading.Lock()
_templates: dict[str, str] = {}


def _sqlite_template() -> str:
    with _lock:
        if "sqlite" not in _templates:
            directory = Path(tempfile.mkdtemp(prefix="pga-gateway-sqlite-"))
            path = directory / "template.db"
            _migrate(f"sqlite:///{path}")
            # Disposing closed the last connection, which checkpointed the WAL into the file.
            _templates["sqlite"] = str(path)
            atexit.register(shutil.rmtree, directory, True)
        return _templates["sqlite"]


def _postgres_template() -> str:
    with _lock:
        if "postgres" not in _templates:
            server = postgres.session_server()
            server.drop_database(TEMPLATE_NAME)
            server.create_database(TEMPLATE_NAME)
            _migrate(server.url(TEMPLATE_NAME))
            _templates["postgres"] = TEMPLATE_NAME
        return _templates["postgres"]


@contextmanager
def fresh_database_url(directory: Path, *, migrated: bool = True) -> Iterator[str]:
    """A new empty database of the run's kind; ``migrated=False`` gives one with no tables.

    SQLite files live in ``directory``; a PostgreSQL database is dropped after exit (in
    batches; the server and its files are deleted at session end anyway).
    """
    kind = database_kind()
    if kind == "sqlite":
        path = directory / f"gateway-{uuid.uuid4().hex[:8]}.db"
        if migrated:
            shutil.copyfile(_sqlite_template(), path)
        yield f"sqlite:///{path}"
        return
    server = postgres.session_server()
    name = server.create_database(template=_postgres_template() if migrated else None)
    try:
        yield server.url(name)
    finally:
        server.retire_database(name)
