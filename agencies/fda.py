"""FDA (agency code ``FDA``; programs FOO, DRU, DEV and the [U] ones in pga_codes.json).

Rules (facts: reference §2-§3; code lists: ``agencies/data/fda.json``):

- a PG02 carries exactly one product code with qualifier FDP, 7 characters long;
- entity roles MF, DEQ, FD1 and DP each appear exactly once (PG19 role code);
- a PG19 with an entity ID code has an entity number, and vice versa;
- PG23 AoC codes are known codes (P15 otherwise);
- FOO (prior notice): a PG30 with status A (anticipated arrival) and a date;
- DRU: a processing code from the DRU list.

Simulator (deterministic):

=======================================  ===========================================
line                                     answers (delay steps of ``simulated_delay``)
=======================================  ===========================================
fails the rules (validation bypassed)    01 @0, then 10 reason 90 @1
product code in ``hold_product_codes``   01 @0, then 02 reason 11 @1
otherwise                                01 @0, then 07 reason 22 @1
=======================================  ===========================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agencies.base import StandardAgency, records_of, text_field
from agencies.contract import AgencyLine, SimulatedAnswer
from gateway.errors import Problem
from gateway.pgams.model import Filing

_QUALIFIER_FIELDS = (
    ("product_code_qualifier_1", "product_code_number_1"),
    ("product_code_qualifier_2", "product_code_number_2"),
    ("product_code_qualifier_3", "product_code_number_3"),
)


class FDA(StandardAgency):
    code = "FDA"
    data_file = "fda"

    def validate(self, filing: Filing, line: AgencyLine) -> list[Problem]:
        return [
            *self._product_code(line),
            *self._entities(line),
            *self._aoc(line),
            *self._prior_notice(line),
            *self._processing_code(line),
        ]

    def product_codes(self, line: AgencyLine) -> list[tuple[int, str, str | None]]:
        """(record index, field name, code) of every FDP product code on the line."""
        qualifier = self.data["product_code"]["qualifier"]
        found = []
        for k, record in records_of(line, "PG02"):
            for q_field, n_field in _QUALIFIER_FIELDS:
                if text_field(record, q_field) == qualifier:
                    found.append((k, n_field, text_field(record, n_field)))
        return found

    def _product_code(self, line: AgencyLine) -> list[Problem]:
        spec: dict[str, Any] = self.data["product_code"]
        found = self.product_codes(line)
        if not found:
            return [
                self.problem(
                    line,
                    f"FDA line needs a PG02 with a product code of qualifier {spec['qualifier']}",
                )
            ]
        problems = []
        for k, n_field, number in found[1:]:
            problems.append(
                self.problem(
                    line,
                    f"only one {spec['qualifier']} product code is allowed per FDA line; "
                    f"{number} is a second one (file it on its own PGA line)",
                    record=k,
                    field=n_field,
                )
            )
        k, n_field, number = found[0]
        if number is None or len(number) != spec["length"] or not number.isalnum():
            problems.append(
                self.problem(
                    line,
                    f"FDA product code {number or '(blank)'!s} must be {spec['length']} letters "
                    "or digits",
                    record=k,
                    field=n_field,
                )
            )
        return problems

    def _entities(self, line: AgencyLine) -> list[Problem]:
        problems = []
        roles: dict[str, list[int]] = {}
        for k, record in records_of(line, "PG19"):
            role = text_field(record, "entity_role_code")
            if role:
                roles.setdefault(role, []).append(k)
            id_code = text_field(record, "entity_id_code")
            number = text_field(record, "entity_number")
            if (id_code is None) != (number is None):
                missing, present = (
                    ("entity_number", f"ID code {id_code}")
                    if number is None
                    else ("entity_id_code", f"entity number {number}")
                )
                problems.append(
                    self.problem(
                        line,
                        f"PG19 entity {role or ''} has {present} but no "
                        f"{missing.replace('_', ' ')}; send both or neither",
                        record=k,
                        field=missing,
                    )
                )
        for role, spec in self.data["required_entity_roles"].items():
            where = roles.get(role, [])
            if not where:
                problems.append(
                    self.problem(
                        line,
                        f"FDA line needs a PG19 entity with role {role} ({spec['name']})",
                        code="P46",
                        field="entity_role_code",
                    )
                )
            for k in where[1:]:
                problems.append(
                    self.problem(
                        line,
                        f"entity role {role} ({spec['name']}) appears more than once; "
                        "FDA takes it once per line",
                        record=k,
                        field="entity_role_code",
                    )
                )
        return problems

    def _aoc(self, line: AgencyLine) -> list[Problem]:
        known = self.data["aoc_codes"]
        return [
            self.problem(
                line,
                f"affirmation of compliance code {aoc} is not a known FDA AoC code "
                f"({', '.join(sorted(known))})",
                record=k,
                field="aoc_code",
                code="P15",
            )
            for k, record in records_of(line, "PG23")
            if (aoc := text_field(record, "aoc_code")) is not None and aoc not in known
        ]

    def _prior_notice(self, line: AgencyLine) -> list[Problem]:
        spec = self.data["prior_notice"]
        if line.pga_line.program_code not in spec["programs"]:
            return []
        arrivals = [
            (k, r)
            for k, r in records_of(line, "PG30")
            if text_field(r, "status") == spec["pg30_status"]
        ]
        if not arrivals:
            return [
                self.problem(
                    line,
                    f"FDA {line.pga_line.program_code} line needs prior notice: a PG30 with "
                    f"status {spec['pg30_status']} (anticipated arrival) and a date",
                )
            ]
        k, record = arrivals[0]
        if record.fields.get("date") is None:
            return [
                self.problem(
                    line,
                    "prior notice PG30 (status A, anticipated arrival) needs the arrival date",
                    record=k,
                    field="date",
                )
            ]
        return []

    def _processing_code(self, line: AgencyLine) -> list[Problem]:
        program = line.pga_line.program_code
        known = self.data["processing_codes"].get(program)
        processing = line.pga_line.processing_code
        if known is None:
            return []
        if processing is None:
            if program not in self.data["processing_code_required"]:
                return []
            message = f"FDA {program} line needs a processing code ({', '.join(sorted(known))})"
        elif processing not in known:
            message = (
                f"processing code {processing} is not an FDA {program} processing code "
                f"({', '.join(sorted(known))})"
            )
        else:
            return []
        return [self.problem(line, message, field="processing_code")]

    def annotations(self, filing: Filing, lines: Sequence[AgencyLine]) -> dict[str, str]:
        """Prior-notice arrival per line, key ``prior_notice_arrival/{cbp line}/{pga line}``."""
        status = self.data["prior_notice"]["pg30_status"]
        notes: dict[str, str] = {}
        for line in lines:
            for _, record in records_of(line, "PG30"):
                if text_field(record, "status") != status or "date" not in record.fields:
                    continue
                parts = [
                    str(record.fields[f])
                    for f in ("date", "time", "location")
                    if f in record.fields
                ]
                key = f"prior_notice_arrival/{line.cbp_line_number}/{line.pga_line.pga_line_number}"
                notes[key] = " ".join(parts)
                break
        return notes

    def simulate_valid(self, filing: Filing, line: AgencyLine) -> list[SimulatedAnswer]:
        holds = self.data["hold_product_codes"]
        held = [code for _, _, code in self.product_codes(line) if code in holds]
        if held:
            return [
                self.answer("01", None, 0),
                self.answer("02", "11", 1, f"HOLD INTACT: product code {held[0]} held for review"),
            ]
        return super().simulate_valid(filing, line)
