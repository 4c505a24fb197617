"""JSON input for one tariff line or PGA line, validated exactly like CATAIR.

Structured values are converted to typed values, written into 80-column records and decoded
back with ``catair.decode_record``; the structural rules then run on that record sequence.
``LocatedRecord`` remembers where each record came from so every Problem gets a JSON location.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Literal

from gateway.errors import Problem
from gateway.pgams import assemble, catair, rules
from gateway.pgams.assemble import MIRRORED_PG01_FIELDS
from gateway.pgams.fieldcodec import FieldValueError, encode_field
from gateway.pgams.jsonvalues import parse_decimal, value_from_json
from gateway.pgams.layouts import RECORD_LENGTH, layout_for
from gateway.pgams.model import FieldValue, PGALine, Record, TariffLine

RecordKind = Literal["catair", "oi", "pg01", "record"]
_HTS = re.compile(r"\d{10}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_LINE_KEYS = {
    "line_number",
    "description",
    "hts_number",
    "country_of_origin",
    "value",
    "pga_lines",
    "catair",
    "leading_records",
}
_PGA_KEYS = set(MIRRORED_PG01_FIELDS) | {"header", "records"}


@dataclass(frozen=True, slots=True)
class LocatedRecord:
    """A record plus where it came from in the JSON request."""

    index: int  # 1-based position in the line's record sequence (or the catair string)
    type: str
    fields: dict[str, FieldValue]
    location: str
    catair_index: int | None  # record number inside a ``catair`` string, else None
    kind: RecordKind = "record"

    def renumbered(self, index: int) -> LocatedRecord:
        return replace(self, index=index)

    def field_location(self, name: str | None) -> str:
        if self.kind in ("catair", "oi") or name is None:
            return self.location
        if self.kind == "pg01":
            return f"{self.location}/{'' if name in MIRRORED_PG01_FIELDS else 'header/'}{name}"
        return f"{self.location}/fields/{name}"

    def locate(self, problem: Problem) -> Problem:
        return Problem(
            problem.message,
            problem.code,
            self.catair_index,
            problem.positions,
            problem.field,
            self.field_location(problem.field),
        )


def validate_record(record: LocatedRecord) -> tuple[catair.ParsedRecord | None, list[Problem]]:
    """Encode ``record`` into its 80 columns field by field, then decode it like CATAIR."""
    layout = layout_for(record.type)
    if layout is None:
        return None, [Problem(f"unknown record type {record.type!r}", location=record.location)]
    problems = [
        Problem(
            f"{record.type} has no field {name!r}", field=name, location=record.field_location(name)
        )
        for name in record.fields
        if name not in layout.by_name
    ]
    chars = list(record.type.ljust(RECORD_LENGTH))
    for spec in layout.fields:
        try:
            chars[spec.start - 1 : spec.end] = encode_field(spec, record.fields.get(spec.name))
        except FieldValueError as exc:
            problems.append(
                Problem(
                    f"{record.type} {spec.name} {exc}",
                    None,
                    None,
                    spec.positions,
                    spec.name,
                    record.field_location(spec.name),
                )
            )
    parsed, decode_problems = catair.decode_record(record.index, "".join(chars))
    problems += [record.locate(p) for p in decode_problems]
    return parsed, problems


def _convert_fields(
    record_type: str, raw: Any, location: str, skip: frozenset[str] = frozenset()
) -> tuple[dict[str, FieldValue], list[Problem]]:
    layout = layout_for(record_type)
    if not isinstance(raw, dict):
        return {}, [Problem("must be an object of field values", location=location)]
    assert layout is not None
    fields: dict[str, FieldValue] = {}
    problems: list[Problem] = []
    for name, value in raw.items():
        spec = layout.by_name.get(name)
        if spec is None or name in skip:
            problems.append(
                Problem(
                    f"{record_type} has no field {name!r} here",
                    field=name,
                    location=f"{location}/{name}",
                )
            )
        elif value is not None:
            try:
                fields[name] = value_from_json(spec, value)
            except FieldValueError as exc:
                problems.append(
                    Problem(
                        f"{record_type} {name} {exc}",
                        None,
                        None,
                        spec.positions,
                        name,
                        f"{location}/{name}",
                    )
                )
    return fields, problems


def _records_from_json(
    raw: Any, location: str, allowed: set[str] | None
) -> tuple[list[Record], list[Problem]]:
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [Problem("must be a list of records", location=location)]
    records: list[Record] = []
    problems: list[Problem] = []
    for k, item in enumerate(raw):
        where = f"{location}/{k}"
        if not isinstance(item, dict):
            problems.append(Problem("must be an object with 'type' and 'fields'", location=where))
            continue
        problems += [
            Problem(f"unknown key {key!r}", location=f"{where}/{key}")
            for key in item
            if key not in ("type", "fields")
        ]
        record_type = item.get("type")
        ok_types = (
            allowed if allowed is not None else {t for t in _all_types() if t not in ("OI", "PG01")}
        )
        if not isinstance(record_type, str) or record_type not in ok_types:
            problems.append(
                Problem(
                    f"type {record_type!r} is not one of {', '.join(sorted(ok_types))}",
                    location=f"{where}/type",
                )
            )
            continue
        fields, field_problems = _convert_fields(
            record_type, item.get("fields", {}), f"{where}/fields"
        )
        problems += field_problems
        records.append(Record(record_type, fields))
    return records, problems


def _all_types() -> list[str]:
    from gateway.pgams.layouts import layouts

    return list(layouts())


def pga_line_from_json_unchecked(obj: Any, location: str) -> tuple[PGALine | None, list[Problem]]:
    """Convert a structured PGA line; value-type problems only (records not yet validated)."""
    if not isinstance(obj, dict):
        return None, [Problem("a PGA line must be a JSON object", location=location)]
    problems = [
        Problem(f"unknown key {key!r}", location=f"{location}/{key}")
        for key in obj
        if key not in _PGA_KEYS
    ]
    header = obj.get("header") or {}
    fields, header_problems = _convert_fields("PG01", header, f"{location}/header")
    problems += header_problems
    top = {k: obj[k] for k in MIRRORED_PG01_FIELDS if k in obj}
    mirrored, top_problems = _convert_fields("PG01", top, location)
    problems += top_problems
    for name, value in mirrored.items():
        if name in fields and fields[name] != value:
            problems.append(
                Problem(
                    f"{name} differs between the PGA line and its header",
                    field=name,
                    location=f"{location}/header/{name}",
                )
            )
        fields[name] = value
    if "pga_line_number" not in fields and not any(p.field == "pga_line_number" for p in problems):
        problems.append(
            Problem(
                "PGA line number is missing",
                "P04",
                None,
                "5-7",
                "pga_line_number",
                f"{location}/pga_line_number",
            )
        )
    records, record_problems = _records_from_json(obj.get("records"), f"{location}/records", None)
    pga = assemble.pga_line_from_header(fields)
    pga.records = records
    return pga, problems + record_problems


def _line_attributes(obj: dict[str, Any], location: str, line: TariffLine) -> list[Problem]:
    problems: list[Problem] = []
    hts, country, value = obj.get("hts_number"), obj.get("country_of_origin"), obj.get("value")
    if hts is not None:
        if isinstance(hts, str) and _HTS.fullmatch(hts):
            line.hts_number = hts
        else:
            problems.append(
                Problem(
                    "hts_number must be 10 digits",
                    field="hts_number",
                    location=f"{location}/hts_number",
                )
            )
    if country is not None:
        if isinstance(country, str) and _COUNTRY.fullmatch(country):
            line.country_of_origin = country
        else:
            problems.append(
                Problem(
                    "country_of_origin must be 2 capital letters (ISO 3166)",
                    field="country_of_origin",
                    location=f"{location}/country_of_origin",
                )
            )
    if value is not None:
        try:
            number = parse_decimal(value)
            if number < 0:
                raise FieldValueError("must not be negative")
            line.value = number
        except FieldValueError as exc:
            problems.append(Problem(f"value {exc}", field="value", location=f"{location}/value"))
    return problems


def tariff_line_from_json(
    obj: Any, location: str, expected_number: int
) -> tuple[TariffLine | None, list[LocatedRecord], list[Problem]]:
    """One tariff line; its located records feed the transaction-wide PG00 check."""
    if not isinstance(obj, dict):
        return None, [], [Problem("a tariff line must be a JSON object", location=location)]
    problems = [
        Problem(f"unknown key {key!r}", location=f"{location}/{key}")
        for key in obj
        if key not in _LINE_KEYS
    ]
    number = obj.get("line_number")
    if isinstance(number, bool) or not isinstance(number, int) or number != expected_number:
        problems.append(
            Problem(
                f"line_number must be {expected_number} (lines are numbered 1..n in order)",
                field="line_number",
                location=f"{location}/line_number",
            )
        )
    description = obj.get("description")
    if description is not None and not isinstance(description, str):
        problems.append(
            Problem(
                "description must be a string",
                field="description",
                location=f"{location}/description",
            )
        )
        description = None
    has_catair, has_pga = obj.get("catair") is not None, obj.get("pga_lines") is not None
    if has_catair == has_pga:
        problems.append(
            Problem("a tariff line needs exactly one of 'catair' or 'pga_lines'", location=location)
        )
        return None, [], problems
    line = TariffLine(line_number=expected_number, description=description or "")
    problems += _line_attributes(obj, location, line)
    if has_catair:
        records, more = _catair_line(obj, location, line, description)
    else:
        records, more = _structured_line(obj, location, line)
    problems += more
    return (line if not problems else None), records, problems


def _catair_line(
    obj: dict[str, Any], location: str, line: TariffLine, description: str | None
) -> tuple[list[LocatedRecord], list[Problem]]:
    where = f"{location}/catair"
    text = obj["catair"]
    if not isinstance(text, str):
        return [], [Problem("catair must be a string of OI/PG records", location=where)]
    if "leading_records" in obj:
        return [], [
            Problem(
                "leading_records goes with pga_lines, not catair",
                location=f"{location}/leading_records",
            )
        ]
    parsed, problems = catair.parse_records(text)
    problems += rules.check_structure(parsed, single_line=True, check_substitution=False)
    located = [LocatedRecord(r.index, r.type, r.fields, where, r.index, "catair") for r in parsed]
    problems = [replace(p, location=where) for p in problems]
    grouped = assemble.group_records(parsed)
    if grouped:
        line.pga_lines = grouped[0].pga_lines
        line.leading_records = grouped[0].leading_records
        if description is None:
            line.description = grouped[0].description
        elif description != grouped[0].description:
            problems.append(
                Problem(
                    f"description differs from the catair OI text {grouped[0].description!r}",
                    field="description",
                    location=f"{location}/description",
                )
            )
    return located, problems


def _structured_line(
    obj: dict[str, Any], location: str, line: TariffLine
) -> tuple[list[LocatedRecord], list[Problem]]:
    problems: list[Problem] = []
    leading, leading_problems = _records_from_json(
        obj.get("leading_records"), f"{location}/leading_records", {"PG00"}
    )
    problems += leading_problems
    line.leading_records = leading
    raw_lines = obj["pga_lines"]
    if not isinstance(raw_lines, list):
        return [], [Problem("pga_lines must be a list", location=f"{location}/pga_lines")]
    located: list[LocatedRecord] = [
        LocatedRecord(
            1,
            "OI",
            {"description": line.description} if line.description else {},
            f"{location}/description",
            None,
            "oi",
        )
    ]
    for k, record in enumerate(leading):
        located.append(
            LocatedRecord(
                len(located) + 1,
                record.type,
                record.fields,
                f"{location}/leading_records/{k}",
                None,
            )
        )
    for j, raw in enumerate(raw_lines):
        pga_location = f"{location}/pga_lines/{j}"
        pga, pga_problems = pga_line_from_json_unchecked(raw, pga_location)
        problems += pga_problems
        if pga is None:
            continue
        line.pga_lines.append(pga)
        for k, (record_type, fields) in enumerate(assemble.pga_line_records(pga)):
            record_location = pga_location if k == 0 else f"{pga_location}/records/{k - 1}"
            located.append(
                LocatedRecord(
                    len(located) + 1,
                    record_type,
                    fields,
                    record_location,
                    None,
                    "pg01" if k == 0 else "record",
                )
            )
    parsed: list[catair.ParsedRecord] = []
    for located_record in located:
        decoded, record_problems = validate_record(located_record)
        problems += record_problems
        if decoded is not None:
            parsed.append(decoded)
    by_index = {r.index: r for r in located}
    for problem in rules.check_structure(parsed, single_line=True, check_substitution=False):
        assert problem.record is not None
        problems.append(by_index[problem.record].locate(problem))
    return located, problems
