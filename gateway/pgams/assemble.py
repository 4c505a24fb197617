"""Record sequence <-> model: OI opens a TariffLine, PG01 opens a PGALine, the rest attach.

Records the rules reject for their position (a PG record before any OI, a PGnn before the
line's first PG01) are left out of the model: the Problem list already says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from gateway.pgams.model import FieldValue, PGALine, Record, TariffLine

if TYPE_CHECKING:
    from gateway.pgams.catair import ParsedRecord

# PG01 fields mirrored as PGALine attributes (the model keeps them in ``header`` too).
MIRRORED_PG01_FIELDS = (
    "pga_line_number",
    "agency_code",
    "program_code",
    "processing_code",
    "disclaimer",
    "correction_indicator",
)


def pga_line_from_header(fields: Mapping[str, FieldValue]) -> PGALine:
    def text(name: str) -> str | None:
        value = fields.get(name)
        return None if value is None else str(value)

    number = fields.get("pga_line_number", 0)
    return PGALine(
        agency_code=text("agency_code") or "",
        program_code=text("program_code") or "",
        pga_line_number=number if isinstance(number, int) else 0,
        processing_code=text("processing_code"),
        disclaimer=text("disclaimer"),
        correction_indicator=text("correction_indicator"),
        header=dict(fields),
    )


def header_fields(pga: PGALine) -> dict[str, FieldValue]:
    """PG01 fields for rendering: ``header`` with the mirrored attributes taking precedence."""
    fields = dict(pga.header)
    attributes: dict[str, FieldValue | None] = {
        "pga_line_number": pga.pga_line_number,
        "agency_code": pga.agency_code or None,
        "program_code": pga.program_code or None,
        "processing_code": pga.processing_code,
        "disclaimer": pga.disclaimer,
        "correction_indicator": pga.correction_indicator,
    }
    for name, value in attributes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return fields


def group_records(records: Sequence[ParsedRecord]) -> list[TariffLine]:
    lines: list[TariffLine] = []
    current_line: TariffLine | None = None
    current_pga: PGALine | None = None
    for record in records:
        if record.type == "OI":
            description = str(record.fields.get("description", ""))
            current_line = TariffLine(line_number=len(lines) + 1, description=description)
            lines.append(current_line)
            current_pga = None
        elif current_line is None:
            continue  # P01: no parent OI
        elif record.type == "PG01":
            current_pga = pga_line_from_header(record.fields)
            current_line.pga_lines.append(current_pga)
        elif current_pga is not None:
            current_pga.records.append(Record(record.type, dict(record.fields)))
        elif record.type == "PG00":
            current_line.leading_records.append(Record(record.type, dict(record.fields)))
        # else P03: a PGnn before the line's first PG01
    return lines


def pga_line_records(pga: PGALine) -> list[tuple[str, dict[str, FieldValue]]]:
    records = [("PG01", header_fields(pga))]
    records += [(r.type, dict(r.fields)) for r in pga.records]
    return records


def tariff_line_records(line: TariffLine) -> list[tuple[str, dict[str, FieldValue]]]:
    records: list[tuple[str, dict[str, FieldValue]]] = [
        ("OI", {"description": line.description} if line.description else {})
    ]
    records += [(r.type, dict(r.fields)) for r in line.leading_records]
    for pga in line.pga_lines:
        records += pga_line_records(pga)
    return records
