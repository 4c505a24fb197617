"""SO70-style 80-column PGA status lines (reference/pga-message-set.md §4.2), for ABI software.

One record per PGA line that has a counted agency answer (in action-time order), then
optionally one entry-level summary record. Layout (1-based, inclusive):

====== ==== ===============================================================================
1-4    4    ``SO70``
5-7    3    agency code (blank on the entry-level summary record)
8-10   3    program code (blank on the summary)
11-16  6    status action date MMDDYY (UTC)
17-20  4    status action time HHMM (UTC)
21-22  2    PGA entry-level status code: the agency's code as sent (01 02 04 06 07 08 10 11 13);
            on the summary, the coordinated status as a code (see ``SUMMARY_CODES``)
23-50  28   status text (the code's CBP text, cut to 28 characters)
51-52  2    entry-line-level status (01/02/04/07), see ``ENTRY_LINE_LEVEL``
53-54  2    PGA-line-level status (01/04/07), see ``PGA_LINE_LEVEL``
55-56  2    reason code (blank if none)
57-64  3/2/3 begin CBP line / tariff position / PGA line (zero-filled)
65-72  3/2/3 end CBP line / tariff position / PGA line
73-77  5    document type code (blank: the gateway has none)
78     1    PGA entry hold flag: ``Y`` when the status is a hold, else blank
79-80  2    filler
====== ==== ===============================================================================

Mapping of entry-level codes onto the narrower levels (§4.3 lists 01/02/04/07 for the
entry-line level and 01/04/07 for the PGA-line level): 01, 02, 04 and 07 map to themselves
where the level has them; every other hold (06, 08, 10, 11, 13) is ``02`` HOLD INTACT at the
entry-line level and ``01`` (not released, not rejected: still under PGA review) at the
PGA-line level; unknown codes are ``01`` at both levels. The tariff position is ``01``: the
gateway models one HTS number per CBP line. A time without a zone is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from gateway.coordination import (
    HOLD,
    HOLD_CODES,
    MAY_PROCEED,
    PENDING,
    REJECTED,
    Coordination,
    LineStatus,
    outcome_of_code,
)
from gateway.pgams.codes import code_tables

WIDTH: Final = 80
TEXT_WIDTH: Final = 28
TARIFF_POSITION: Final = 1

#: The coordinated status written as a code on the entry-level summary record.
SUMMARY_CODES: Final[Mapping[str, str]] = {
    REJECTED: "04",
    HOLD: "02",
    PENDING: "01",
    MAY_PROCEED: "07",
}


def entry_line_level(status_code: str) -> str:
    """Entry-line-level code (01/02/04/07) for an entry-level status code."""
    if status_code in ("01", "02", "04", "07"):
        return status_code
    return "02" if status_code in HOLD_CODES else "01"


def pga_line_level(status_code: str) -> str:
    """PGA-line-level code (01/04/07) for an entry-level status code."""
    return status_code if status_code in ("04", "07") else "01"


# Named tables for the README / docs (same rules as the functions above).
ENTRY_LINE_LEVEL: Final = {c: entry_line_level(c) for c in ("01", "02", "04", "06", "07")}
PGA_LINE_LEVEL: Final = {c: pga_line_level(c) for c in ("01", "02", "04", "06", "07")}


@dataclass(frozen=True, slots=True)
class LinePosition:
    cbp_line_number: int
    tariff_position: int
    pga_line_number: int


@dataclass(frozen=True, slots=True)
class SO70Record:
    agency_code: str
    program_code: str
    action_time: dt.datetime | None  # UTC, minute resolution; None renders blank
    entry_status: str
    text: str
    entry_line_status: str
    pga_line_status: str
    reason_code: str | None
    begin: LinePosition | None
    end: LinePosition | None
    document_type: str = ""
    hold: bool = False


def render_record(record: SO70Record) -> str:
    """One 80-column SO70 line (no newline)."""
    when = record.action_time
    if when is not None and when.tzinfo is None:
        raise ValueError("SO70 times must be timezone-aware")
    date = when.astimezone(dt.UTC).strftime("%m%d%y") if when else ""
    clock = when.astimezone(dt.UTC).strftime("%H%M") if when else ""
    line = "".join(
        [
            "SO70",
            _alpha(record.agency_code, 3),
            _alpha(record.program_code, 3),
            _alpha(date, 6),
            _alpha(clock, 4),
            _alpha(record.entry_status, 2),
            _alpha(record.text.upper(), TEXT_WIDTH),
            _alpha(record.entry_line_status, 2),
            _alpha(record.pga_line_status, 2),
            _alpha(record.reason_code or "", 2),
            _position(record.begin),
            _position(record.end),
            _alpha(record.document_type, 5),
            "Y" if record.hold else " ",
            "  ",
        ]
    )
    assert len(line) == WIDTH, line
    return line


def parse_record(line: str) -> SO70Record:
    """Read one SO70 line back (for tests and ABI-style consumers)."""
    line = line.rstrip("\r\n")
    if len(line) != WIDTH or not line.startswith("SO70"):
        raise ValueError(f"not an 80-column SO70 record: {line!r}")
    date, clock = line[10:16], line[16:20]
    when = (
        dt.datetime.strptime(date + clock, "%m%d%y%H%M").replace(tzinfo=dt.UTC)
        if date.strip()
        else None
    )
    return SO70Record(
        agency_code=line[4:7].strip(),
        program_code=line[7:10].strip(),
        action_time=when,
        entry_status=line[20:22].strip(),
        text=line[22:50].rstrip(),
        entry_line_status=line[50:52].strip(),
        pga_line_status=line[52:54].strip(),
        reason_code=line[54:56].strip() or None,
        begin=_read_position(line[56:64]),
        end=_read_position(line[64:72]),
        document_type=line[72:77].strip(),
        hold=line[77] == "Y",
    )


def records(
    coordination: Coordination, *, summary: bool = True, as_of: dt.datetime | None = None
) -> list[SO70Record]:
    """Records for every answered line in scope (action-time order), then the summary."""
    answered = [
        line
        for line in coordination.lines
        if line.status_code is not None and line.action_time is not None and line.in_scope
    ]
    answered.sort(
        key=lambda s: (s.action_time, s.agency_code, s.cbp_line_number, s.pga_line_number)
    )
    found = [_line_record(line) for line in answered]
    if summary:
        found.append(_summary_record(coordination, as_of))
    return found


def render(
    coordination: Coordination, *, summary: bool = True, as_of: dt.datetime | None = None
) -> str:
    """The SO70 lines as text, one per line, each ending in a newline."""
    return "".join(
        render_record(r) + "\n" for r in records(coordination, summary=summary, as_of=as_of)
    )


def _line_record(line: LineStatus) -> SO70Record:
    code = line.status_code or "01"
    position = LinePosition(line.cbp_line_number, TARIFF_POSITION, line.pga_line_number)
    return SO70Record(
        agency_code=line.agency_code,
        program_code=line.program_code,
        action_time=line.action_time,
        entry_status=code,
        text=line.status_text or _status_text(code),
        entry_line_status=entry_line_level(code),
        pga_line_status=pga_line_level(code),
        reason_code=line.reason_code,
        begin=position,
        end=position,
        hold=outcome_of_code(code) == HOLD,
    )


def _summary_record(coordination: Coordination, as_of: dt.datetime | None) -> SO70Record:
    code = SUMMARY_CODES[coordination.status]
    scoped = [line for line in coordination.lines if line.in_scope]
    first = min(scoped, key=lambda s: (s.cbp_line_number, s.pga_line_number), default=None)
    last = max(scoped, key=lambda s: (s.cbp_line_number, s.pga_line_number), default=None)
    return SO70Record(
        agency_code="",
        program_code="",
        action_time=coordination.latest_action_time or as_of,
        entry_status=code,
        text=_status_text(code),
        entry_line_status=entry_line_level(code),
        pga_line_status=pga_line_level(code),
        reason_code=None,
        begin=LinePosition(first.cbp_line_number, TARIFF_POSITION, first.pga_line_number)
        if first
        else None,
        end=LinePosition(last.cbp_line_number, TARIFF_POSITION, last.pga_line_number)
        if last
        else None,
        hold=coordination.status == HOLD,
    )


def _status_text(code: str) -> str:
    row = code_tables()["pga_status"]["entry_level"].get(code, {})
    return str(row.get("text", ""))


def _alpha(value: str, width: int) -> str:
    """Left-justified, space-filled, cut to the width."""
    return value[:width].ljust(width)


def _number(value: int, width: int) -> str:
    """Right-justified, zero-filled."""
    text = str(value)
    if value < 0 or len(text) > width:
        raise ValueError(f"{value} does not fit {width} digits")
    return text.zfill(width)


def _position(position: LinePosition | None) -> str:
    if position is None:
        return " " * 8
    return (
        _number(position.cbp_line_number, 3)
        + _number(position.tariff_position, 2)
        + _number(position.pga_line_number, 3)
    )


def _read_position(field: str) -> LinePosition | None:
    if not field.strip():
        return None
    return LinePosition(int(field[0:3]), int(field[3:5]), int(field[5:8]))
