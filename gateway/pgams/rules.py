"""Structural rules of the PGA Message Set over a decoded record sequence.

The rules see only (index, type, fields) per record, so the same checks serve CATAIR text and
structured JSON (whose caller maps a record index back to a JSON location). Codes are CBP PGA
Error Dictionary codes where one fits (see ``error_dictionary`` in pga_codes.json); where CBP
publishes none (PGA line numbering, disclaimers, PG50/PG51 grouping, PG00 substitution) the
code is None. Field-level "mandatory field blank" problems (P02, P04, P05, P06 missing, P10,
P12, P14, P16, P18, P19 ...) come from the layout table via ``catair.decode_record``; these
rules check what needs more than one field or record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from gateway.errors import Problem
from gateway.pgams import codes
from gateway.pgams.model import FieldValue

# Records that continue the entity opened by a PG19 (PG19 -> PG20 -> PG21, PG55/PG60 extend).
_ENTITY_CONTINUATION = {"PG20", "PG21", "PG55", "PG60"}


class RecordView(Protocol):
    @property
    def index(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def fields(self) -> Mapping[str, FieldValue]: ...


def problem_at(
    record: RecordView,
    message: str,
    code: str | None = None,
    field: str | None = None,
    positions: str | None = None,
) -> Problem:
    return Problem(message, code, record.index, positions, field)


def check_structure(
    records: Sequence[RecordView], *, single_line: bool = False, check_substitution: bool = True
) -> list[Problem]:
    """Every structural problem in ``records``.

    ``single_line``: the records are one tariff line's ``catair`` string, so a second OI is
    P42 (more than one OI under a single HTS) instead of the start of the next line.
    ``check_substitution``: PG00 numbering spans a whole transaction; a caller checking one
    line of a larger filing turns it off and runs ``check_substitutions`` on the whole.
    """
    problems = _check_placement(records, single_line)
    for header, body in _pga_lines(records):
        problems += _check_pga_line(header, body)
    problems += _check_line_numbering(records)
    if check_substitution:
        from gateway.pgams.substitution import check_substitutions  # needs RecordView from here

        problems += check_substitutions(records)
    return problems


def _check_placement(records: Sequence[RecordView], single_line: bool) -> list[Problem]:
    problems: list[Problem] = []
    seen_oi = seen_pg01 = False
    for record in records:
        if record.type == "OI":
            if seen_oi and single_line:
                problems.append(
                    problem_at(
                        record,
                        f"OI at record {record.index} is a second OI "
                        "for one tariff line; send exactly one OI",
                        "P42",
                    )
                )
            seen_oi, seen_pg01 = True, False
        elif not seen_oi:
            problems.append(
                problem_at(
                    record,
                    f"{record.type} at record {record.index} comes "
                    "before any OI record (missing parent OI)",
                    "P01",
                )
            )
        elif record.type == "PG01":
            seen_pg01 = True
        elif not seen_pg01 and record.type != "PG00":
            problems.append(
                problem_at(
                    record,
                    f"{record.type} at record {record.index} comes "
                    "before any PG01 in its tariff line (missing PG01)",
                    "P03",
                )
            )
    return problems


def _pga_lines(records: Sequence[RecordView]) -> list[tuple[RecordView, list[RecordView]]]:
    """(PG01, records after it up to the next PG01 or OI), PG00 markers left out."""
    lines: list[tuple[RecordView, list[RecordView]]] = []
    for record in records:
        if record.type in ("OI", "PG01"):
            lines.append((record, []))  # an OI entry just closes the previous PGA line
        elif record.type != "PG00" and lines:
            lines[-1][1].append(record)
    return [(h, b) for h, b in lines if h.type == "PG01"]


def _check_pga_line(header: RecordView, body: list[RecordView]) -> list[Problem]:
    problems = _check_header(header)
    disclaimer = header.fields.get("disclaimer")
    if disclaimer is not None and body:
        extra = body[0]
        problems.append(
            problem_at(
                extra,
                f"{extra.type} at record {extra.index} follows PG01 at "
                f"record {header.index}, which carries disclaimer "
                f"{disclaimer!r}; a disclaimed PGA line is OI + PG01 only",
            )
        )
    problems += _check_item_types(body)
    problems += _check_parents(body)
    problems += _check_packaging(body)
    problems += _check_groups(header, body)
    for record in body:
        problems += _check_record_fields(record)
    return problems


def _check_header(pg01: RecordView) -> list[Problem]:
    problems: list[Problem] = []
    fields, at = pg01.fields, f"PG01 at record {pg01.index}"
    agency, program = fields.get("agency_code"), fields.get("program_code")
    if isinstance(agency, str) and not codes.is_known_agency(agency):
        # CBP's P05 is "missing" agency code; for an unknown one we have no published code.
        problems.append(
            problem_at(
                pg01,
                f"{at}: agency code {agency!r} is not a known government agency code",
                None,
                "agency_code",
                "8-10",
            )
        )
    elif (
        isinstance(agency, str)
        and isinstance(program, str)
        and not codes.is_valid_program(agency, program)
    ):
        problems.append(
            problem_at(
                pg01,
                f"{at}: program code {program!r} is not a program of agency {agency}",
                "P06",
                "program_code",
                "11-13",
            )
        )
    disclaimer = fields.get("disclaimer")
    if disclaimer is not None and disclaimer not in codes.disclaimer_codes():
        problems.append(
            problem_at(
                pg01,
                f"{at}: disclaimer code {disclaimer!r} is not one of "
                f"{', '.join(sorted(codes.disclaimer_codes()))}",
                None,
                "disclaimer",
                "80",
            )
        )
    if (
        fields.get("intended_use_code") == codes.intended_use_other()
        and "intended_use_description" not in fields
    ):
        problems.append(
            problem_at(
                pg01,
                f"{at}: intended use {codes.intended_use_other()} "
                "(other) needs an intended use description",
                "P08",
                "intended_use_description",
                "58-78",
            )
        )
    return problems


def _check_item_types(body: list[RecordView]) -> list[Problem]:
    problems: list[Problem] = []
    pg02s = [r for r in body if r.type == "PG02"]
    for position, record in enumerate(pg02s):
        item_type = record.fields.get("item_type")
        at = f"PG02 at record {record.index}"
        if item_type is None:
            continue  # reported as a blank mandatory field
        if item_type not in codes.item_types():
            message = f"{at}: item type {item_type!r} is not P (product) or C (component)"
        elif position == 0 and item_type != "P":
            message = f"{at}: the first PG02 of a PGA line must have item type P (product)"
        elif position > 0 and item_type == "P":
            message = f"{at}: only one PG02 with item type P is allowed per PGA line"
        else:
            continue
        problems.append(problem_at(record, message, "P07", "item_type", "5"))
    return problems


def _check_parents(body: list[RecordView]) -> list[Problem]:
    problems: list[Problem] = []
    seen_pg07 = False
    entity_open = False
    for position, record in enumerate(body):
        at = f"{record.type} at record {record.index}"
        if record.type == "PG07":
            seen_pg07 = True
        elif record.type == "PG08" and not seen_pg07:
            problems.append(
                problem_at(record, f"{at} needs a PG07 earlier in the same PGA line", "P28")
            )
        elif record.type == "PG13":
            rest = body[position + 1 :]
            following = next((r for r in rest if r.type in ("PG13", "PG14")), None)
            if following is None or following.type != "PG14":
                problems.append(
                    problem_at(
                        record,
                        f"{at} needs its associated PG14 after it in the same PGA line",
                        "P29",
                    )
                )
        elif record.type == "PG20" and not entity_open:
            problems.append(
                problem_at(record, f"{at} needs its parent PG19 (entity) before it", "P33")
            )
        elif record.type == "PG21" and not entity_open:
            problems.append(
                problem_at(record, f"{at} needs its parent PG19 (entity) before it", "P34")
            )
        if record.type == "PG19":
            entity_open = True
        elif record.type not in _ENTITY_CONTINUATION:
            entity_open = False
    return problems


def _check_packaging(body: list[RecordView]) -> list[Problem]:
    problems: list[Problem] = []
    packaging = [r for r in body if r.type == "PG26"]
    for record in packaging:
        qualifier = record.fields.get("packaging_qualifier")
        if qualifier is not None and qualifier not in codes.packaging_qualifiers():
            problems.append(
                problem_at(
                    record,
                    f"PG26 at record {record.index}: packaging "
                    f"qualifier {qualifier} is not 1 (outermost) to 6 "
                    "(innermost)",
                    "P17",
                    "packaging_qualifier",
                    "5",
                )
            )
    limit = codes.max_packaging_records()
    for record in packaging[limit:]:
        # CBP has no separate code for "too many PG26"; P17 (invalid packaging qualifier)
        # is the closest: a 7th level has no valid qualifier.
        problems.append(
            problem_at(
                record,
                f"PG26 at record {record.index} is packaging record "
                f"number {packaging.index(record) + 1}; at most {limit} per "
                "PGA line",
                "P17",
            )
        )
    return problems


def _check_groups(header: RecordView, body: list[RecordView]) -> list[Problem]:
    """PG50 opens a group, PG51 closes it; one level only (no CBP code for these)."""
    problems: list[Problem] = []
    open_group: RecordView | None = None
    for record in body:
        if record.type == "PG50":
            if open_group is not None:
                problems.append(
                    problem_at(
                        record,
                        f"PG50 at record {record.index} opens a group "
                        f"inside the group opened at record "
                        f"{open_group.index}; groups cannot be nested",
                    )
                )
            else:
                open_group = record
        elif record.type == "PG51":
            if open_group is None:
                problems.append(
                    problem_at(
                        record,
                        f"PG51 at record {record.index} closes a group "
                        "but no PG50 opened one in this PGA line",
                    )
                )
            open_group = None
    if open_group is not None:
        problems.append(
            problem_at(
                open_group,
                f"PG50 at record {open_group.index} opens a group "
                f"that no PG51 closes in the PGA line of record "
                f"{header.index}",
            )
        )
    return problems


def _check_record_fields(record: RecordView) -> list[Problem]:
    fields, at = record.fields, f"{record.type} at record {record.index}"
    if record.type == "PG30":
        status = fields.get("status")
        if status is not None and status not in codes.pg30_status_codes():
            valid = ", ".join(sorted(codes.pg30_status_codes()))
            return [
                problem_at(
                    record, f"{at}: status {status!r} is not one of {valid}", "P20", "status", "5"
                )
            ]
    needs_description = codes.processing_type_requiring_description()
    if (
        record.type == "PG06"
        and fields.get("processing_type_code") == needs_description
        and "processing_description" not in fields
    ):
        return [
            problem_at(
                record,
                f"{at}: processing type {needs_description} needs a processing description",
                "P27",
                "processing_description",
                "51-80",
            )
        ]
    return []


def _check_line_numbering(records: Sequence[RecordView]) -> list[Problem]:
    """PGA line numbers: 001 for an agency, +1 per further PG01 of that agency, 001 again when
    the agency changes (reference §0). Non-contiguous lines of one agency are undefined [U];
    we apply the rule as written. PG01s with a correction indicator are skipped: vendor
    correction tests send line 000 there."""
    problems: list[Problem] = []
    previous_agency: FieldValue | None = None
    previous_number: int | None = None
    for record in records:
        if record.type == "OI":
            previous_agency, previous_number = None, None
            continue
        if record.type != "PG01" or "correction_indicator" in record.fields:
            continue
        agency, number = record.fields.get("agency_code"), record.fields.get("pga_line_number")
        if not isinstance(number, int):
            continue
        same_agency = agency == previous_agency and previous_number is not None
        expected = previous_number + 1 if same_agency and previous_number is not None else 1
        if number != expected:
            why = (
                f"follows {agency} line {previous_number:03d}"
                if same_agency
                else ("starts a run of PGA lines for agency " + str(agency))
            )
            problems.append(
                problem_at(
                    record,
                    f"PG01 at record {record.index}: PGA line number "
                    f"{number:03d} should be {expected:03d} (it {why})",
                    None,
                    "pga_line_number",
                    "5-7",
                )
            )
        previous_agency, previous_number = agency, number
    return problems
