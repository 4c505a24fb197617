"""``Database``: one engine per process, transactions with all-or-nothing semantics.

SQLite (embedded default) and PostgreSQL via psycopg 3 (production) behave alike from the
outside: every SQLAlchemy error is translated into ``gateway.errors`` here, so nothing above
``gateway.db`` ever sees one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

from gateway.db.errors import safe_url, translate
from gateway.errors import ConfigurationError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# pg_advisory_xact_lock key serialising concurrent `migrate()` calls ("PGAGW" in hex-ish).
MIGRATION_LOCK_KEY = 0x50474147_57


def normalise_url(url: str) -> URL:
    """Parse ``url``; ``postgresql://`` (and ``postgres://``) mean psycopg 3."""
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError as exc:
        raise ConfigurationError(f"database URL is not valid: {exc}") from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
            return parsed.set(drivername="postgresql+psycopg")
        raise ConfigurationError(
            f"database URL {safe_url(parsed)}: only the psycopg (3) driver is supported"
        )
    if backend == "sqlite":
        if parsed.drivername not in ("sqlite", "sqlite+pysqlite"):
            raise ConfigurationError(f"database URL {safe_url(parsed)}: use sqlite:///path")
        return parsed
    raise ConfigurationError(
        f"database URL {safe_url(parsed)}: unsupported database {backend!r} "
        "(use sqlite:///path or postgresql://...)"
    )


class Database:
    """A database reached through one pooled engine.

    ``transaction()`` commits on success and rolls back on any exception; ``read()`` never
    writes. Rows loaded in either stay usable after the block (``expire_on_commit=False``),
    but relationships not loaded inside it cannot be loaded later.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 5,
        max_overflow: int = 10,
        busy_timeout_ms: int = 10_000,
        connect_timeout_s: int = 5,
        echo: bool = False,
    ) -> None:
        self.url: URL = normalise_url(url)
        self.kind: str = "postgresql" if self.url.get_backend_name() != "sqlite" else "sqlite"
        if self.kind == "sqlite":
            self.engine = _sqlite_engine(self.url, pool_size, max_overflow, busy_timeout_ms, echo)
        else:
            self.engine = create_engine(
                self.url,
                echo=echo,
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_pre_ping=True,  # a restarted server costs one retry, not a 500
                connect_args={
                    "connect_timeout": connect_timeout_s,
                    "application_name": "pga-gateway",
                    "options": "-c timezone=UTC",
                },
            )
        # Writers on SQLite take the write lock up front (BEGIN IMMEDIATE): a deferred
        # transaction that later upgrades to a writer can fail with "database is locked"
        # without ever waiting on busy_timeout.
        self._writer = self.engine.execution_options(pga_begin="IMMEDIATE")
        self._write_sessions = sessionmaker(bind=self._writer, expire_on_commit=False)
        self._read_sessions = sessionmaker(bind=self.engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"Database({safe_url(self.url)!r})"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed at the end of the block, or not at all."""
        with self._session(self._write_sessions, commit=True) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; anything written in it is rolled back."""
        with self._session(self._read_sessions, commit=False) as session:
            yield session

    @contextmanager
    def _session(self, factory: sessionmaker[Session], *, commit: bool) -> Iterator[Session]:
        session = factory()
        try:
            try:
                yield session
                if commit:
                    session.commit()
            except BaseException:
                _quiet_rollback(session)
                raise
        except sa_exc.SQLAlchemyError as exc:
            raise translate(exc, self.url) from exc
        finally:
            session.close()

    def migrate(self) -> None:
        """Bring the schema to the newest revision (alembic ``upgrade head``). Idempotent.

        Runs in one transaction; on PostgreSQL an advisory lock makes a second process wait
        and then find nothing to do; on SQLite the immediate write lock does the same.
        """
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        try:
            with self._writer.begin() as connection:
                if self.kind == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                    )
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except sa_exc.SQLAlchemyError as exc:
            raise translate(exc, self.url) from exc

    def ping(self) -> bool:
        """Whether the database answers a trivial query now (readiness probe)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except (sa_exc.SQLAlchemyError, OSError) as exc:
            log.warning("database ping failed: %s", translate_text(exc, self.url))
            return False

    def dispose(self) -> None:
        """Close every pooled connection (call at shutdown and in tests)."""
        self.engine.dispose()


def translate_text(exc: BaseException, url: URL) -> str:
    if isinstance(exc, sa_exc.SQLAlchemyError):
        return translate(exc, url).detail
    return f"{type(exc).__name__}: {exc}"


def _quiet_rollback(session: Session) -> None:
    # The original exception matters more than a rollback failure on a dead connection;
    # the pool discards that connection anyway.
    try:
        session.rollback()
    except sa_exc.SQLAlchemyError:
        log.warning("rollback failed after an error", exc_info=True)


def _sqlite_engine(
    url: URL, pool_size: int, max_overflow: int, busy_timeout_ms: int, echo: bool
) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    kwargs: dict[str, Any] = {"echo": echo}
    if not in_memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself: pysqlite's implicit transactions break SAVEPOINT
        # and transactional DDL (see SQLAlchemy's "sqlite_transactions" notes).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("pga_begin") == "IMMEDIATE"
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
