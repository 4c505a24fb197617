"""The REST (JSON) representation of filings, tariff lines and PGA lines.

Output: snake_case keys; blank/absent values are omitted; field values per ``jsonvalues``.
Input: every structured PGA line is turned into the same record sequence CATAIR would give
(values encoded into 80-column records and decoded back), so JSON and CATAIR get the same
field validation and the same structural rules. Problems carry a JSON location
("/lines/0/pga_lines/1/records/2/fields/product_code_number_1"); for a ``catair`` string the
location is "/lines/0/catair" plus the record index within that string.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import Problem
from gateway.pgams import assemble, linejson
from gateway.pgams.assemble import MIRRORED_PG01_FIELDS
from gateway.pgams.filingjson import header_from_json
from gateway.pgams.jsonvalues import value_to_json
from gateway.pgams.linejson import LocatedRecord, pga_line_from_json_unchecked
from gateway.pgams.model import FieldValue, Filing, PGALine, Record, TariffLine
from gateway.pgams.substitution import check_substitutions

__all__ = [
    "catair_document",
    "catair_document_from_json",
    "filing_from_json",
    "filing_to_json",
    "lines_from_json",
    "lines_to_json",
    "pga_line_from_json",
    "pga_line_to_json",
]


def _fields_to_json(fields: dict[str, FieldValue]) -> dict[str, str | int]:
    return {name: value_to_json(value) for name, value in fields.items()}


def record_to_json(record: Record) -> dict[str, Any]:
    return {"type": record.type, "fields": _fields_to_json(record.fields)}


def pga_line_to_json(pga: PGALine) -> dict[str, Any]:
    fields = assemble.header_fields(pga)
    out: dict[str, Any] = {
        name: value_to_json(fields[name]) for name in MIRRORED_PG01_FIELDS if name in fields
    }
    out["header"] = _fields_to_json(
        {k: v for k, v in fields.items() if k not in MIRRORED_PG01_FIELDS}
    )
    out["records"] = [record_to_json(r) for r in pga.records]
    return out


def _line_common(line: TariffLine) -> dict[str, Any]:
    out: dict[str, Any] = {"line_number": line.line_number, "description": line.description}
    if line.leading_records:
        out["leading_records"] = [record_to_json(r) for r in line.leading_records]
    out["pga_lines"] = [pga_line_to_json(p) for p in line.pga_lines]
    return out


def tariff_line_to_json(line: TariffLine) -> dict[str, Any]:
    out = _line_common(line)
    pga_lines = out.pop("pga_lines")
    if line.hts_number is not None:
        out["hts_number"] = line.hts_number
    if line.country_of_origin is not None:
        out["country_of_origin"] = line.country_of_origin
    if line.value is not None:
        out["value"] = str(line.value)
    out["pga_lines"] = pga_lines
    return out


def lines_to_json(lines: list[TariffLine]) -> list[dict[str, Any]]:
    return [tariff_line_to_json(line) for line in lines]


def filing_to_json(filing: Filing) -> dict[str, Any]:
    out: dict[str, Any] = {
        "entry_number": filing.entry_number,
        "filer_code": filing.filer_code,
        "entry_type": filing.entry_type,
        "port_of_entry": filing.port_of_entry,
        "importer_of_record": filing.importer_of_record,
    }
    if filing.mode_of_transport is not None:
        out["mode_of_transport"] = filing.mode_of_transport
    if filing.estimated_arrival is not None:
        out["estimated_arrival"] = filing.estimated_arrival.isoformat()
    out["lines"] = lines_to_json(filing.lines)
    return out


def catair_document(lines: list[TariffLine]) -> dict[str, Any]:
    """The ``catair parse`` output: lines with their description and PGA lines only."""
    return {"lines": [_line_common(line) for line in lines]}


def pga_line_from_json(obj: Any, location: str = "") -> tuple[PGALine | None, list[Problem]]:
    """One structured PGA line, with field validation (structural rules need the whole line)."""
    pga, problems = pga_line_from_json_unchecked(obj, location)
    if pga is None:
        return None, problems
    checked: list[Problem] = []
    for index, (record_type, fields) in enumerate(assemble.pga_line_records(pga), start=1):
        record_location = location if index == 1 else f"{location}/records/{index - 2}"
        _, record_problems = linejson.validate_record(
            LocatedRecord(index, record_type, fields, record_location, None)
        )
        checked += record_problems
    problems += checked
    return (pga if not problems else None), problems


def lines_from_json(obj: Any, location: str = "/lines") -> tuple[list[TariffLine], list[Problem]]:
    """Tariff lines (structured or ``catair``), with all field and structural validation."""
    if not isinstance(obj, list):
        return [], [Problem("must be a list of tariff lines", location=location)]
    if not obj:
        return [], [Problem("must contain at least one tariff line", location=location)]
    lines: list[TariffLine] = []
    problems: list[Problem] = []
    every_record: list[LocatedRecord] = []
    for position, line_obj in enumerate(obj):
        line, records, line_problems = linejson.tariff_line_from_json(
            line_obj, f"{location}/{position}", expected_number=position + 1
        )
        problems += line_problems
        every_record += records
        if line is not None:
            lines.append(line)
    # PG00 substitution numbers are unique and sequential across the whole transaction.
    renumbered = [r.renumbered(i) for i, r in enumerate(every_record, start=1)]
    by_index = {r.index: r for r in renumbered}
    for problem in check_substitutions(renumbered):
        assert problem.record is not None
        problems.append(by_index[problem.record].locate(problem))
    return lines, problems


def filing_from_json(obj: Any) -> tuple[Filing | None, list[Problem]]:
    """A validated Filing, or None and every problem found (header and every line)."""
    if not isinstance(obj, dict):
        return None, [Problem("the filing must be a JSON object", location="")]
    header, problems = header_from_json(obj)
    lines, line_problems = lines_from_json(obj.get("lines"), "/lines")
    problems += line_problems
    if problems or header is None:
        return None, problems
    header.lines = lines
    return header, []


def catair_document_from_json(obj: Any) -> tuple[list[TariffLine], list[Problem]]:
    """Inverse of ``catair_document`` (what ``catair render`` reads)."""
    if not isinstance(obj, dict):
        return [], [Problem("the document must be a JSON object with 'lines'", location="")]
    problems = [
        Problem(f"unknown key {key!r}", location=f"/{key}") for key in obj if key != "lines"
    ]
    lines, line_problems = lines_from_json(obj.get("lines"), "/lines")
    problems += line_problems
    return (lines if not problems else []), problems
