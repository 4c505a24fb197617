"""CATAIR text <-> records <-> the canonical model.

``parse_records`` does framing and field decoding only; ``parse_catair`` adds the structural
rules (``rules.py``) and assembles TariffLine/PGALine objects (``assemble.py``);
``render_catair`` writes the model back as 80-column, LF-terminated records.

Framing accepts LF or CRLF line ends, lines whose trailing blanks were trimmed (padded back to
80) and one final newline; everything else that is not a clean 80-column ASCII record is a
located Problem. A record with a framing error is not decoded further.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gateway.errors import Problem
from gateway.pgams import assemble, rules
from gateway.pgams.fieldcodec import FieldValueError, decode_field, encode_field
from gateway.pgams.layouts import RECORD_LENGTH, RecordLayout, layout_for
from gateway.pgams.model import FieldValue, TariffLine


@dataclass(slots=True)
class ParsedRecord:
    """One decoded record: its 1-based record number in the input, type and typed fields."""

    index: int
    type: str
    fields: dict[str, FieldValue] = field(default_factory=dict)
    raw: str = ""


class RecordEncodeError(ValueError):
    """A value that does not fit its record layout; ``field`` names it when known."""

    def __init__(self, record_type: str, field_name: str | None, message: str) -> None:
        super().__init__(f"{record_type} {field_name or ''}: {message}".replace("  ", " "))
        self.record_type = record_type
        self.field = field_name
        self.reason = message


def parse_records(text: str) -> tuple[list[ParsedRecord], list[Problem]]:
    """Frame ``text`` into records and decode every field; all problems, never just the first."""
    records: list[ParsedRecord] = []
    problems: list[Problem] = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # one final newline ends the last record
    if not lines:
        return [], [Problem("The CATAIR text contains no records", positions=None)]
    for index, line in enumerate(lines, start=1):
        if line.endswith("\r"):
            line = line[:-1]
        framing = _framing_problem(index, line)
        if framing is not None:
            problems.append(framing)
            continue
        record, record_problems = decode_record(index, line.ljust(RECORD_LENGTH))
        problems.extend(record_problems)
        if record is not None:
            records.append(record)
    return records, problems


def _framing_problem(index: int, line: str) -> Problem | None:
    for position, char in enumerate(line, start=1):
        if not (" " <= char <= "~"):
            kind = "a non-ASCII character" if ord(char) > 127 else "a control character"
            return Problem(
                f"Record {index} has {kind} ({char!r}) at position {position}",
                record=index,
                positions=str(position),
            )
    if line.strip(" ") == "":
        return Problem(f"Record {index} is a blank line", record=index)
    if len(line) > RECORD_LENGTH:
        return Problem(
            f"Record {index} is {len(line)} characters long; records are {RECORD_LENGTH}",
            record=index,
            positions=f"{RECORD_LENGTH + 1}-{len(line)}",
        )
    return None


def record_type_of(line: str) -> str:
    return "OI" if line.startswith("OI") else line[:4]


def decode_record(index: int, line: str) -> tuple[ParsedRecord | None, list[Problem]]:
    """Decode one 80-column line (already framed) against its layout."""
    record_type = record_type_of(line)
    layout = layout_for(record_type)
    if layout is None:
        positions = "1-4" if line.startswith("PG") else "1-2"
        return None, [
            Problem(
                f"Record {index} has unknown record identifier {line[:4].rstrip()!r}",
                record=index,
                positions=positions,
            )
        ]
    problems: list[Problem] = []
    fields: dict[str, FieldValue] = {}
    for spec in layout.fields:
        where = f"Record {index} ({record_type}) {spec.name} at positions {spec.positions}"
        try:
            value = decode_field(spec, spec.slice(line))
        except FieldValueError as exc:
            problems.append(Problem(f"{where}: {exc}", None, index, spec.positions, spec.name))
            continue
        if value is None:
            if spec.mandatory:
                problems.append(
                    Problem(
                        f"{where}: mandatory field is blank",
                        spec.missing_code,
                        index,
                        spec.positions,
                        spec.name,
                    )
                )
            continue
        fields[spec.name] = value
    for start, end in layout.fillers:
        if line[start - 1 : end].strip(" "):
            problems.append(
                Problem(
                    f"Record {index} ({record_type}) filler at positions {start}-{end} "
                    "must be blank",
                    record=index,
                    positions=f"{start}-{end}",
                )
            )
    return ParsedRecord(index, record_type, fields, line), problems


def parse_catair(text: str, *, single_line: bool = False) -> tuple[list[TariffLine], list[Problem]]:
    """Parse CATAIR text into tariff lines; every framing, field and structural problem."""
    records, problems = parse_records(text)
    problems.extend(rules.check_structure(records, single_line=single_line))
    problems.sort(key=lambda p: p.record or 0)
    return assemble.group_records(records), problems


def encode_record(record_type: str, fields: Mapping[str, FieldValue | None]) -> str:
    """The 80-column line for one record; RecordEncodeError names the offending field."""
    layout = layout_for(record_type)
    if layout is None:
        raise RecordEncodeError(record_type, None, "unknown record type")
    unknown = set(fields) - set(layout.by_name)
    if unknown:
        name = sorted(unknown)[0]
        raise RecordEncodeError(record_type, name, f"{record_type} has no field {name!r}")
    return _encode_with(layout, fields)


def _encode_with(layout: RecordLayout, fields: Mapping[str, FieldValue | None]) -> str:
    chars = list(layout.record_type.ljust(RECORD_LENGTH))
    for spec in layout.fields:
        try:
            encoded = encode_field(spec, fields.get(spec.name))
        except FieldValueError as exc:
            raise RecordEncodeError(layout.record_type, spec.name, str(exc)) from None
        chars[spec.start - 1 : spec.end] = encoded
    return "".join(chars)


def render_records(records: Iterable[tuple[str, Mapping[str, FieldValue | None]]]) -> str:
    return "".join(encode_record(t, f) + "\n" for t, f in records)


def render_catair(lines: list[TariffLine]) -> str:
    """80-column LF-terminated CATAIR for ``lines`` (OI, then each PGA line's PG01 + records)."""
    return render_records(r for line in lines for r in assemble.tariff_line_records(line))
