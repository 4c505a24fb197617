"""Corrections: replacing PGA data re-dispatches only what changed, to whom it changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from agencies.registry import AgencyRegistry, load_registry
from gateway.auth.principal import Principal
from gateway.corrections import changes_in_version
from gateway.db.models import OutboxRow
from gateway.db.session import Database
from gateway.dispatch import Dispatcher, RetryPolicy
from gateway.intake import IntakeService
from tests.support.filings import sample_filing, sample_text

FILER = Principal("filer-ABC", frozenset({"filer"}), "ABC", None, "filer-ABC")


@dataclass
class Row:
    agency_code: str
    pga_line_number: int
    entry_version: int
    records: list[dict[str, Any]] = field(default_factory=list)
    cbp_line_number: int = 1
    program_code: str = "FOO"
    processing_code: str | None = None
    disclaimer: str | None = None
    header: dict[str, Any] = field(default_factory=dict)
    superseded: bool = False


def test_changes_are_found_per_agency() -> None:
    same = [{"type": "PG02", "fields": {"item_type": "P"}}]
    rows = [
        Row("FDA", 1, 1, same),
        Row("EPA", 1, 1, same),
        Row("NHT", 1, 1, same),
        Row("FDA", 1, 2, same),  # unchanged
        Row("EPA", 1, 2, [{"type": "PG02", "fields": {"item_type": "C"}}]),  # amended
        # NHT's line is gone; APH's is new
        Row("APH", 1, 2, same),
    ]
    changes = changes_in_version(rows, 2)
    assert set(changes) == {"EPA", "NHT", "APH"}
    assert [k.agency_code for k in changes["EPA"].changed] == ["EPA"]
    assert [r.agency_code for r in changes["NHT"].removed] == ["NHT"] and not changes["NHT"].changed
    disclaimed = [Row("FDA", 1, 1, same), Row("FDA", 1, 2, same, disclaimer="A")]
    assert [r.entry_version for r in changes_in_version(disclaimed, 2)["FDA"].removed] == [1]


class Capturing:
    def __init__(self) -> None:
        self.messages: list[tuple[str, Mapping[str, Any]]] = []

    def submit_pga_data(self, agency_code: str, message: Mapping[str, Any]) -> Mapping[str, Any]:
        self.messages.append((agency_code, message))
        return {"ReturnCode": "SUCCESS", "Duplicate": False, "Dispositions": []}


@pytest.fixture(scope="module")
def registry() -> AgencyRegistry:
    return load_registry()


def _send_all(database: Database, registry: AgencyRegistry) -> Capturing:
    agency = Capturing()
    dispatcher = Dispatcher(database, registry, agency, RetryPolicy())
    while dispatcher.run_once():
        pass
    return agency


def _versions(database: Database) -> list[tuple[str, int]]:
    with database.read() as session:
        rows = session.scalars(
            select(OutboxRow).order_by(OutboxRow.entry_version, OutboxRow.agency_code)
        )
        return [(row.agency_code, row.entry_version) for row in rows]


def test_a_correction_to_one_line_goes_only_to_its_agency(
    database: Database, registry: AgencyRegistry
) -> None:
    intake = IntakeService(database, registry)
    filing = sample_filing("vehicle-epa-nhtsa")
    intake.submit(filing, FILER, None)
    first = _send_all(database, registry)
    assert sorted(a for a, _ in first.messages) == ["EPA", "NHT"]

    records = sample_text("vehicle-epa-nhtsa").splitlines()
    assert records[7].startswith("PG07") and "TM450X" in records[7]  # NHTSA's PG07
    records[7] = records[7].replace("TM450X", "TM450Y")
    intake.replace_pga(filing["entry_number"], "\n".join(records) + "\n", FILER, None)
    assert _versions(database)[-1:] == [("NHT", 2)]  # no new EPA row
    second = _send_all(database, registry)
    [(agency, message)] = second.messages
    assert agency == "NHT" and message["EntryVersion"] == 2
    [line] = message["PGALine"]
    assert (line["CBPLineNumber"], line["PGALineNumber"]) == (1, 1)
    assert "CorrectionIndicator" not in line


def test_a_removed_line_is_sent_as_a_deletion(database: Database, registry: AgencyRegistry) -> None:
    intake = IntakeService(database, registry)
    filing = sample_filing("vehicle-epa-nhtsa")
    intake.submit(filing, FILER, None)
    _send_all(database, registry)
    epa_only = sample_text("vehicle-epa-nhtsa").splitlines()[:6]  # OI + EPA's records
    intake.replace_pga(filing["entry_number"], "\n".join(epa_only) + "\n", FILER, None)
    [(agency, message)] = _send_all(database, registry).messages
    assert agency == "NHT"
    [line] = message["PGALine"]
    assert line["CorrectionIndicator"] == "D"
    assert line["ProgramCode"] == "MVS"


def test_cancelling_tells_every_agency_and_freezes_the_entry(
    database: Database, registry: AgencyRegistry
) -> None:
    from gateway.dispositions import DispositionService
    from gateway.errors import Conflict, NotFound
    from gateway.queries import EntryQueries

    intake = IntakeService(database, registry)
    filing = sample_filing("vehicle-epa-nhtsa")
    intake.submit(filing, FILER, None)
    _send_all(database, registry)
    result = intake.cancel(filing["entry_number"], FILER)
    assert result == {
        "entry_number": filing["entry_number"],
        "status": "CANCELLED",
        "version": 2,
        "agencies": ["EPA", "NHT"],
    }
    messages = _send_all(database, registry).messages
    assert sorted(a for a, _ in messages) == ["EPA", "NHT"]
    assert all(line["CorrectionIndicator"] == "D" for _, m in messages for line in m["PGALine"])

    view = EntryQueries(database).get(filing["entry_number"], FILER)
    assert view["status"] == "CANCELLED" and view["coordinated"]["status"] == "CANCELLED"
    with pytest.raises(Conflict, match="cancelled"):
        intake.replace_pga(filing["entry_number"], sample_text("vehicle-epa-nhtsa"), FILER, None)
    with pytest.raises(Conflict, match="already cancelled"):
        intake.cancel(filing["entry_number"], FILER)
    epa = Principal("agency-EPA", frozenset({"agency"}), None, "EPA", "agency-EPA")
    answer = {
        "dispositions": [
            {
                "cbp_line_number": 1,
                "pga_line_number": 1,
                "status_code": "07",
                "action_time": "2026-11-21T10:00:00Z",
            }
        ]
    }
    # The agency no longer has lines on the entry, so for it the entry is gone.
    with pytest.raises(NotFound):
        DispositionService(database).submit(filing["entry_number"], answer, epa, source="test")
