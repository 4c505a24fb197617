"""Idempotency keys: stored once per principal; a racing second insert is a Conflict."""

from __future__ import annotations

import threading
import time

import pytest

from gateway.db import repository
from gateway.db.session import Database
from gateway.errors import Conflict, GatewayError

HASH = "0" * 64


def test_save_then_find(database: Database) -> None:
    with database.transaction() as session:
        repository.save_idempotent(
            session, "client-a", "key-1", HASH, 202, {"ok": True}, {"Location": "/x"}
        )
    with database.read() as session:
        row = repository.find_idempotent(session, "client-a", "key-1")
        assert repository.find_idempotent(session, "client-b", "key-1") is None
    assert row is not None
    assert (row.request_hash, row.response_status) == (HASH, 202)
    assert (row.response_body, row.response_headers) == ({"ok": True}, {"Location": "/x"})
    assert row.created_at.tzinfo is not None


def test_same_key_for_another_principal_is_independent(database: Database) -> None:
    with database.transaction() as session:
        repository.save_idempotent(session, "client-a", "k", HASH, 202, {}, {})
        repository.save_idempotent(session, "client-b", "k", HASH, 202, {}, {})


def test_second_insert_is_a_conflict(database: Database) -> None:
    with database.transaction() as session:
        repository.save_idempotent(session, "client-a", "k", HASH, 202, {}, {})
    with pytest.raises(Conflict, match="already in use"), database.transaction() as session:
        repository.save_idempotent(session, "client-a", "k", HASH, 202, {}, {})


def test_concurrent_race_surfaces_as_conflict(database: Database) -> None:
    # Both requests looked the key up (absent) before either committed; the loser must get a
    # Conflict (so the API replays the winner's answer), never an IntegrityError.
    outcome: list[BaseException | None] = []
    started = threading.Event()

    def loser() -> None:
        try:
            with database.transaction() as session:
                started.set()
                repository.save_idempotent(session, "client-a", "race", HASH, 202, {}, {})
            outcome.append(None)
        except GatewayError as exc:
            outcome.append(exc)

    with database.transaction() as session:
        repository.save_idempotent(session, "client-a", "race", HASH, 201, {"w": 1}, {})
        thread = threading.Thread(target=loser)
        thread.start()
        started.wait(5)
        time.sleep(0.2)  # let the loser block on the winner's uncommitted row / write lock
    thread.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict)
    with database.read() as session:
        row = repository.find_idempotent(session, "client-a", "race")
        assert row is not None and row.response_body == {"w": 1}
