"""Replacing PGA data bumps the version, keeps history and queues new messages."""

from __future__ import annotations

import uuid
from decimal import Decimal

from gateway.db import repository
from gateway.db.models import EventRow
from gateway.db.session import Database
from gateway.pgams.model import TariffLine
from tests.gateway.db.helpers import filing, insert, pga, pga_line_json


def test_replace_pga_data_versions_and_supersedes(database: Database) -> None:
    insert(database)
    new_lines = [
        TariffLine(
            line_number=1,
            description="FROZEN SHRIMP, PEELED",
            value=Decimal("10.50"),
            pga_lines=[pga("FDA", 1)],
        ),
        TariffLine(line_number=3, description="NEW LINE", pga_lines=[pga("EPA", 1)]),
    ]
    transaction_id = uuid.uuid4()
    with database.transaction() as session:
        entry = repository.get_entry(session, "ABC12345675", filer_code="ABC")
        assert entry is not None
        updated = repository.replace_pga_data(
            session,
            entry,
            new_lines,
            document={"replaced": True},
            transaction_id=transaction_id,
            pga_line_json=pga_line_json,
        )
        assert updated.version == 2
    with database.read() as session:
        entry = repository.get_entry(session, "ABC12345675", filer_code="ABC")
        assert entry is not None
        events = session.query(EventRow).order_by(EventRow.created_at).all()
    assert (entry.version, entry.transaction_id, entry.document) == (
        2,
        transaction_id,
        {"replaced": True},
    )
    assert entry.updated_at >= entry.created_at
    old = [p for p in entry.pga_lines if p.superseded]
    assert sorted((p.entry_version, p.agency_code) for p in old) == [
        (1, "APH"),
        (1, "APH"),
        (1, "FDA"),
    ]
    current = entry.current_pga_lines
    assert sorted((p.entry_version, p.cbp_line_number, p.agency_code) for p in current) == [
        (2, 1, "FDA"),
        (2, 3, "EPA"),
    ]
    assert [(t.line_number, t.description, t.value) for t in entry.tariff_lines] == [
        (1, "FROZEN SHRIMP, PEELED", Decimal("10.50")),
        (2, "OAK FURNITURE", None),  # kept: superseded lines still refer to it
        (3, "NEW LINE", None),
    ]
    new_outbox = [(o.entry_version, o.agency_code, o.state) for o in entry.outbox]
    # Version 2 goes only to agencies whose lines changed: APH (its lines were removed: a
    # deletion) and EPA (new); FDA's line is unchanged, so FDA is not sent it again.
    assert sorted(new_outbox) == [
        (1, "APH", "pending"),
        (1, "FDA", "pending"),
        (2, "APH", "pending"),
        (2, "EPA", "pending"),
    ]
    assert len({o.message_id for o in entry.outbox}) == 4
    assert [e.kind for e in events] == ["entry.accepted", "entry.pga_replaced"]
    assert events[1].payload["version"] == 2


def test_replace_twice_counts_versions(database: Database) -> None:
    insert(database, filing())
    for expected in (2, 3):
        with database.transaction() as session:
            entry = repository.get_entry(session, "ABC12345675", filer_code=None)
            assert entry is not None
            lines = [TariffLine(line_number=1, description="X", pga_lines=[pga("FDA", 1)])]
            updated = repository.replace_pga_data(
                session,
                entry,
                lines,
                document={},
                transaction_id=uuid.uuid4(),
                pga_line_json=pga_line_json,
            )
            assert updated.version == expected
    with database.read() as session:
        entry = repository.get_entry(session, "ABC12345675", filer_code=None)
        assert entry is not None
        assert [p.entry_version for p in entry.current_pga_lines] == [3]
