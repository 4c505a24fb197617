"""Filings built directly from the model dataclasses (no dependency on the CATAIR parser)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from gateway.db import models
from gateway.db.session import Database
from gateway.pgams.model import Filing, PGALine, Record, TariffLine

TABLES = (
    models.EntryRow,
    models.TariffLineRow,
    models.PGALineRow,
    models.OutboxRow,
    models.IdempotencyRow,
    models.EventRow,
)


def pga_line_json(pga: PGALine) -> dict[str, Any]:
    """A stand-in for the JSON mapping: JSON-ready header and records."""

    def plain(value: object) -> object:
        return value.isoformat() if isinstance(value, dt.date) else str(value)

    return {
        "header": {k: plain(v) for k, v in pga.header.items()},
        "records": [
            {"type": r.type, "fields": {k: plain(v) for k, v in r.fields.items()}}
            for r in pga.records
        ],
    }


def pga(agency: str, number: int, *, disclaimer: str | None = None) -> PGALine:
    return PGALine(
        agency_code=agency,
        program_code="FOO" if agency == "FDA" else "APL",
        pga_line_number=number,
        processing_code="NSF",
        disclaimer=disclaimer,
        header={"agency_code": agency, "pga_line_number": number},
        records=[Record("PG02", {"item_type": "P", "quantity": Decimal("12.345")})],
    )


def filing(
    entry_number: str = "ABC12345675",
    *,
    filer_code: str = "ABC",
    disclaim_all: bool = False,
) -> Filing:
    disclaimer = "A" if disclaim_all else None
    return Filing(
        entry_number=entry_number,
        filer_code=filer_code,
        entry_type="01",
        port_of_entry="2704",
        importer_of_record="12-3456789AB",
        mode_of_transport="40",
        estimated_arrival=dt.date(2024, 6, 30),
        lines=[
            TariffLine(
                line_number=1,
                description="FROZEN SHRIMP",
                hts_number="0306170040",
                country_of_origin="VN",
                value=Decimal("12345678901234.56"),
                pga_lines=[
                    pga("FDA", 1, disclaimer=disclaimer),
                    pga("APH", 2, disclaimer=disclaimer),
                ],
            ),
            TariffLine(
                line_number=2,
                description="OAK FURNITURE",
                value=None,
                pga_lines=[pga("APH", 1, disclaimer=disclaimer)],
            ),
        ],
    )


def insert(database: Database, f: Filing | None = None) -> uuid.UUID:
    from gateway.db import repository

    f = f or filing()
    transaction_id = uuid.uuid4()
    with database.transaction() as session:
        repository.insert_entry(
            session,
            f,
            document={"entry_number": f.entry_number},
            transaction_id=transaction_id,
            pga_line_json=pga_line_json,
        )
    return transaction_id


def row_counts(database: Database) -> dict[str, int]:
    with database.read() as session:
        return {
            table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
            for table in TABLES
        }
