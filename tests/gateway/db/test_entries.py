"""Entries, their lines, outbox rows and events round-trip exactly and atomically."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from gateway.db import repository
from gateway.db.models import EventRow
from gateway.db.session import Database
from gateway.errors import Conflict, ValidationFailed
from tests.gateway.db.helpers import filing, insert, pga, pga_line_json, row_counts


def test_insert_then_get_round_trips_exactly(database: Database) -> None:
    transaction_id = insert(database)
    with database.read() as session:
        entry = repository.get_entry(session, "ABC12345675", filer_code="ABC")
    assert entry is not None
    # Loaded inside read(): lines stay usable after the session closed.
    assert entry.transaction_id == transaction_id
    assert isinstance(entry.id, uuid.UUID)
    assert (entry.version, entry.status, entry.filer_code) == (1, "ACCEPTED", "ABC")
    assert entry.estimated_arrival == dt.date(2024, 6, 30)
    assert entry.document == {"entry_number": "ABC12345675"}
    assert entry.created_at.tzinfo is not None and entry.created_at.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - entry.created_at) < dt.timedelta(minutes=1)
    assert [t.line_number for t in entry.tariff_lines] == [1, 2]
    assert entry.tariff_lines[0].value == Decimal("12345678901234.56")
    assert entry.tariff_lines[1].value is None
    assert [(p.cbp_line_number, p.agency_code, p.pga_line_number) for p in entry.pga_lines] == [
        (1, "FDA", 1),
        (1, "APH", 2),
        (2, "APH", 1),
    ]
    first = next(p for p in entry.pga_lines if p.agency_code == "FDA")
    assert first.records == [{"type": "PG02", "fields": {"item_type": "P", "quantity": "12.345"}}]
    assert first.header == {"agency_code": "FDA", "pga_line_number": "1"}
    assert first.tariff_line_id == entry.tariff_lines[0].id
    assert (first.entry_version, first.superseded) == (1, False)


def test_one_pending_outbox_row_per_agency(database: Database) -> None:
    insert(database)
    with database.read() as session:
        entry = repository.get_entry(session, "ABC12345675", filer_code=None)
        assert entry is not None
        rows = repository.outbox_for_entry(session, entry)
    assert sorted(r.agency_code for r in rows) == ["APH", "FDA"]
    assert len({r.message_id for r in rows}) == 2
    for row in rows:
        assert (row.kind, row.state, row.attempts, row.entry_version) == (
            "pga_data",
            "pending",
            0,
            1,
        )
        assert row.next_attempt_at.tzinfo is not None
        assert row.next_attempt_at <= dt.datetime.now(dt.UTC)


def test_all_disclaimed_filing_has_no_outbox_rows(database: Database) -> None:
    insert(database, filing(disclaim_all=True))
    counts = row_counts(database)
    assert counts["outbox"] == 0
    assert counts["pga_lines"] == 3


def test_accepted_event_is_logged(database: Database) -> None:
    transaction_id = insert(database)
    with database.read() as session:
        events = session.query(EventRow).all()
    assert [(e.kind, e.actor) for e in events] == [("entry.accepted", "filer:ABC")]
    assert events[0].payload == {
        "transaction_id": str(transaction_id),
        "version": 1,
        "agencies": ["FDA", "APH"],
    }


def test_other_filers_entries_are_invisible(database: Database) -> None:
    insert(database, filing("ABC12345675", filer_code="ABC"))
    insert(database, filing("XYZ00000011", filer_code="XYZ"))
    with database.read() as session:
        assert repository.get_entry(session, "ABC12345675", filer_code="XYZ") is None
        assert repository.get_entry(session, "ABC12345675", filer_code="ABC") is not None
        assert repository.get_entry(session, "ABC12345675", filer_code=None) is not None
        rows, total = repository.list_entries(session, filer_code="XYZ", limit=10, offset=0)
        assert ([r.entry_number for r in rows], total) == (["XYZ00000011"], 1)
        rows, total = repository.list_entries(session, filer_code=None, limit=10, offset=0)
        assert total == 2


def test_agency_filter_sees_only_entries_with_its_lines(database: Database) -> None:
    insert(database, filing("ABC12345675"))
    other = filing("ABC00000022")
    for line in other.lines:
        line.pga_lines = [pga("EPA", 1)]
    insert(database, other)
    with database.read() as session:
        rows, total = repository.list_entries(session, agency_code="FDA", limit=10, offset=0)
        assert ([r.entry_number for r in rows], total) == (["ABC12345675"], 1)
        assert (
            repository.get_entry(session, "ABC00000022", filer_code=None, agency_code="FDA") is None
        )


def test_list_is_newest_first_paged_and_filtered(database: Database) -> None:
    numbers = [f"ABC{n:07d}{n % 10}" for n in range(1, 6)]
    for number in numbers:
        insert(database, filing(number))
    with database.read() as session:
        rows, total = repository.list_entries(
            session, filer_code="ABC", status="ACCEPTED", limit=2, offset=1
        )
        assert total == 5
        assert [r.entry_number for r in rows] == [numbers[3], numbers[2]]
        all_rows, _ = repository.list_entries(session, limit=10, offset=0)
        middle = all_rows[2].created_at
        rows, total = repository.list_entries(session, created_from=middle, limit=10, offset=0)
        assert [r.entry_number for r in rows] == [r.entry_number for r in all_rows[:3]]
        rows, total = repository.list_entries(session, created_to=middle, limit=10, offset=0)
        assert [r.entry_number for r in rows] == [r.entry_number for r in all_rows[3:]]
        # An aware time in another zone means the same instant.
        eastern = middle.astimezone(dt.timezone(dt.timedelta(hours=-5)))
        _, total = repository.list_entries(session, created_from=eastern, limit=10, offset=0)
        assert total == 3
        _, total = repository.list_entries(session, status="REJECTED", limit=10, offset=0)
        assert total == 0
        with pytest.raises(ValueError, match="timezone-aware"):
            repository.list_entries(session, created_from=dt.datetime(2024, 1, 1), limit=1)


def test_duplicate_entry_is_a_conflict_and_writes_nothing(database: Database) -> None:
    insert(database)
    before = row_counts(database)
    with pytest.raises(Conflict, match="entry ABC12345675 already exists"):
        insert(database)
    assert row_counts(database) == before


def test_duplicate_leaves_the_session_usable(database: Database) -> None:
    insert(database)
    with database.transaction() as session:
        with pytest.raises(Conflict):
            repository.insert_entry(
                session,
                filing(),
                document={},
                transaction_id=uuid.uuid4(),
                pga_line_json=pga_line_json,
            )
        # Same transaction, after the conflict: still works and still commits.
        repository.insert_entry(
            session,
            filing("ABC00000099"),
            document={},
            transaction_id=uuid.uuid4(),
            pga_line_json=pga_line_json,
        )
    with database.read() as session:
        _, total = repository.list_entries(session, limit=10, offset=0)
    assert total == 2


def test_failure_part_way_through_a_transaction_leaves_nothing(database: Database) -> None:
    with pytest.raises(RuntimeError, match="injected"), database.transaction() as session:
        repository.insert_entry(
            session,
            filing(),
            document={},
            transaction_id=uuid.uuid4(),
            pga_line_json=pga_line_json,
        )
        session.flush()
        raise RuntimeError("injected")
    assert set(row_counts(database).values()) == {0}


def test_conflict_inside_a_larger_transaction_rolls_all_of_it_back(database: Database) -> None:
    insert(database)
    before = row_counts(database)
    with pytest.raises(Conflict), database.transaction() as session:
        repository.insert_entry(
            session,
            filing("ABC00000099"),
            document={},
            transaction_id=uuid.uuid4(),
            pga_line_json=pga_line_json,
        )
        repository.insert_entry(
            session,
            filing(),
            document={},
            transaction_id=uuid.uuid4(),
            pga_line_json=pga_line_json,
        )
    assert row_counts(database) == before


def test_invalid_shapes_are_validation_errors(database: Database) -> None:
    bad = filing()
    bad.lines[1].line_number = 1
    with pytest.raises(ValidationFailed, match="appears twice"), database.transaction() as session:
        repository.insert_entry(
            session, bad, document={}, transaction_id=uuid.uuid4(), pga_line_json=pga_line_json
        )
    with pytest.raises(ValidationFailed, match="11 characters"), database.transaction() as session:
        repository.insert_entry(
            session,
            filing("ABC1"),
            document={},
            transaction_id=uuid.uuid4(),
            pga_line_json=pga_line_json,
        )
    assert set(row_counts(database).values()) == {0}
