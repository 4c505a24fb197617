"""The canonical PGA Message Set model: one ``Filing`` whatever channel it came in on.

Filing (entry header) -> TariffLine (one HTS line; CATAIR ``OI``) -> PGALine (one ``PG01`` and
the records that follow it) -> Record (one fixed-width PGnn record as named, typed values).

Field values are typed: ``str`` for A/AN/X fields (trailing blanks stripped), ``int`` for N
fields without implied decimals, ``Decimal`` for N fields with implied decimals (the decimals
applied), ``datetime.date`` for dates. A field that is blank in the record is absent from
``Record.fields`` (not ``None``), so a record compares equal however it was produced.

The PG01 record is the PGA line's header: its fields live on ``PGALine`` (``agency_code``,
``program_code``, ...) and in ``PGALine.header`` (every PG01 field by layout name);
``PGALine.records`` holds the records after PG01 in input order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

FieldValue = str | int | Decimal | dt.date


@dataclass(slots=True)
class Record:
    """One PG record after PG01 (PG02..PG60), by layout field name."""

    type: str  # "PG02" .. "PG60"
    fields: dict[str, FieldValue] = field(default_factory=dict)


@dataclass(slots=True)
class PGALine:
    """One PGA line: the PG01 header plus the records that belong to it."""

    agency_code: str
    program_code: str
    pga_line_number: int
    processing_code: str | None = None
    disclaimer: str | None = None
    correction_indicator: str | None = None
    # Every PG01 field by layout name, including the ones mirrored above.
    header: dict[str, FieldValue] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, int]:
        return (self.agency_code, self.pga_line_number)


@dataclass(slots=True)
class TariffLine:
    """One CBP (HTS) line of the entry and its PGA data."""

    line_number: int
    description: str  # OI commercial description
    hts_number: str | None = None
    country_of_origin: str | None = None
    value: Decimal | None = None
    pga_lines: list[PGALine] = field(default_factory=list)
    # PG00 substitution markers sent between the OI and the line's first PG01 (the only
    # records allowed there); kept so that parse -> render reproduces the input.
    leading_records: list[Record] = field(default_factory=list)


@dataclass(slots=True)
class Filing:
    """An entry's header and its tariff lines."""

    entry_number: str  # 11 characters: filer code (3) + 7 digits + check digit
    filer_code: str
    entry_type: str  # two digits, e.g. "01"
    port_of_entry: str  # four-digit CBP port code
    importer_of_record: str
    mode_of_transport: str | None = None
    estimated_arrival: dt.date | None = None
    lines: list[TariffLine] = field(default_factory=list)

    def agencies(self) -> list[str]:
        """Agency codes with at least one PGA line that is not disclaimed, in first-seen order."""
        seen: dict[str, None] = {}
        for line in self.lines:
            for pga in line.pga_lines:
                if pga.disclaimer is None:
                    seen.setdefault(pga.agency_code, None)
        return list(seen)
