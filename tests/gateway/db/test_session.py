"""Database: URLs, readiness, all-or-nothing transactions, errors translated at the edge."""

from __future__ import annotations

import datetime as dt
import socket
import uuid
from decimal import Decimal

import pytest

from gateway.db.models import EventRow, IdempotencyRow
from gateway.db.session import Database, normalise_url
from gateway.errors import ConfigurationError, ServerError, StorageUnavailable
from tests.gateway.db.helpers import row_counts


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u:p@db/gw", "postgresql+psycopg"),
        ("postgresql+psycopg://u:p@db/gw", "postgresql+psycopg"),
        ("postgres://u:p@db/gw", "postgresql+psycopg"),
        ("sqlite:///var/gateway.db", "sqlite"),
    ],
)
def test_urls_are_normalised(given: str, driver: str) -> None:
    assert normalise_url(given).drivername == driver


@pytest.mark.parametrize(
    "url", ["mysql://x/y", "postgresql+psycopg2://u@h/d", "not a url", "sqlite+aiosqlite:///x"]
)
def test_unsupported_urls_fail_at_start_up(url: str) -> None:
    with pytest.raises(ConfigurationError):
        Database(url)


def test_unreachable_database_is_storage_unavailable_without_password() -> None:
    database = Database(f"postgresql://gw:s3cret-pw@127.0.0.1:{_closed_port()}/gw")
    try:
        assert database.ping() is False
        with pytest.raises(StorageUnavailable) as caught, database.transaction() as session:
            session.add(EventRow(kind="x", actor="t", payload={}))
        assert "s3cret-pw" not in str(caught.value)
        assert "127.0.0.1" in str(caught.value)
        with pytest.raises(StorageUnavailable) as caught:
            database.migrate()
        assert "s3cret-pw" not in caught.value.detail
        assert "s3cret-pw" not in repr(database)
    finally:
        database.dispose()


def test_ping_and_kind(database: Database, test_database_kind: str) -> None:
    assert database.ping() is True
    assert database.kind == {"sqlite": "sqlite", "postgres": "postgresql"}[test_database_kind]


def test_datetimes_come_back_aware_utc(database: Database) -> None:
    eastern = dt.timezone(dt.timedelta(hours=-5))
    when = dt.datetime(2024, 3, 10, 1, 30, 15, 123456, tzinfo=eastern)
    with database.transaction() as session:
        row = EventRow(kind="k", actor="a", payload={"n": "1"}, created_at=when)
        session.add(row)
        session.flush()
        row_id = row.id
    with database.read() as session:
        loaded = session.get(EventRow, row_id)
        assert loaded is not None
        assert loaded.created_at == when
        assert loaded.created_at.tzinfo == dt.UTC
        assert loaded.created_at.hour == 6
        assert isinstance(loaded.id, uuid.UUID)


def test_naive_datetimes_are_refused(database: Database) -> None:
    with pytest.raises(ServerError, match="naive datetime"), database.transaction() as session:
        session.add(EventRow(kind="k", actor="a", payload={}, created_at=dt.datetime(2024, 1, 1)))
    assert row_counts(database)["events"] == 0


def test_read_sessions_never_write(database: Database) -> None:
    with database.read() as session:
        session.add(
            IdempotencyRow(
                principal="p",
                key="k",
                request_hash="0" * 64,
                response_status=200,
                response_body=None,
                response_headers={},
                created_at=dt.datetime.now(dt.UTC),
            )
        )
        session.flush()
    assert row_counts(database)["idempotency_keys"] == 0


def test_json_keeps_decimal_text_and_nesting(database: Database) -> None:
    payload = {"amount": str(Decimal("0.10")), "nested": {"list": [1, "two", None]}}
    with database.transaction() as session:
        session.add(EventRow(kind="k", actor="a", payload=payload))
    with database.read() as session:
        assert session.query(EventRow).one().payload == payload
