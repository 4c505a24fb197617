"""EPA (agency code ``EPA``; programs ODS, TS1, VNE, PS1 and the [U] variants in pga_codes.json).

Rules (facts: reference §2-§3; code lists: ``agencies/data/epa.json``):

- every EPA line carries a PG22 declaration with a declaration code (P36 otherwise);
- a program listed under ``program_requirements`` (VNE) needs a PG22 with that document
  identifier (942, EPA form 3520-1) and declaration code (EP2).

Simulator (deterministic):

=======================================  ===========================================
line                                     answers (delay steps of ``simulated_delay``)
=======================================  ===========================================
fails the rules (validation bypassed)    01 @0, then 10 reason 90 @1
vehicles and engines (VNE)               01 @0, then 07 reason 22 @1
other programs                           07 reason 22 @0
=======================================  ===========================================
"""

from __future__ import annotations

from agencies.base import StandardAgency, records_of, text_field
from agencies.contract import AgencyLine, SimulatedAnswer
from gateway.errors import Problem
from gateway.pgams.model import Filing


class EPA(StandardAgency):
    code = "EPA"
    data_file = "epa"

    def validate(self, filing: Filing, line: AgencyLine) -> list[Problem]:
        declarations = records_of(line, "PG22")
        program = line.pga_line.program_code
        if not any(text_field(r, "declaration_code") for _, r in declarations):
            return [
                self.problem(
                    line,
                    f"EPA {program} line needs a PG22 declaration with a declaration code",
                    code="P36",
                    field="declaration_code",
                )
            ]
        need = self.data["program_requirements"].get(program)
        if need is None:
            return []
        for _, record in declarations:
            if (
                text_field(record, "document_identifier") == need["document_identifier"]
                and text_field(record, "declaration_code") == need["declaration_code"]
            ):
                return []
        return [
            self.problem(
                line,
                f"EPA {program} line needs a PG22 with document identifier "
                f"{need['document_identifier']} and declaration code {need['declaration_code']}",
                code="P36",
                field="declaration_code",
            )
        ]

    def simulate_valid(self, filing: Filing, line: AgencyLine) -> list[SimulatedAnswer]:
        if line.pga_line.program_code in self.data["program_requirements"]:
            return super().simulate_valid(filing, line)
        return [self.answer("07", "22", 0)]
