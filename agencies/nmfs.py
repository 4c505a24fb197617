"""NOAA NMFS (agency code ``NMF``; programs 370, AMR, HMS, SIM, COA).

Rules (facts: reference §1-§3; per-program table: ``agencies/data/nmf.json``
``program_requirements``):

- 370 (tuna tracking): the PG01 electronic image submitted indicator (position 17) is sent;
- SIM (Seafood Import Monitoring): harvest data, a PG31 (harvesting vessel characteristic)
  and a PG33 (ocean geographic area);
- AMR, HMS, COA: the reference gives no rule, so none is enforced.

Simulator (deterministic):

=======================================  ===========================================
line                                     answers (delay steps of ``simulated_delay``)
=======================================  ===========================================
fails the rules (validation bypassed)    01 @0, then 10 reason 90 @1
SIM (``simulate_review_programs``)       01 @0, then 07 reason 22 @1
other programs                           07 reason 22 @0
=======================================  ===========================================
"""

from __future__ import annotations

from agencies.base import StandardAgency, records_of
from agencies.contract import AgencyLine, SimulatedAnswer
from gateway.errors import Problem
from gateway.pgams.model import Filing


class NMFS(StandardAgency):
    code = "NMF"
    data_file = "nmf"

    def validate(self, filing: Filing, line: AgencyLine) -> list[Problem]:
        program = line.pga_line.program_code
        need = self.data["program_requirements"].get(program)
        if need is None:
            return []
        problems = [
            self.problem(line, f"NMFS {program} line needs the PG01 {what}", field=name)
            for name, what in need["pg01_fields"].items()
            if not str(line.pga_line.header.get(name, "")).strip()
        ]
        problems.extend(
            self.problem(line, f"NMFS {program} line needs a {record} ({what})")
            for record, what in need["records"].items()
            if not records_of(line, record)
        )
        return problems

    def simulate_valid(self, filing: Filing, line: AgencyLine) -> list[SimulatedAnswer]:
        if line.pga_line.program_code in self.data["simulate_review_programs"]:
            return super().simulate_valid(filing, line)
        return [self.answer("07", "22", 0)]
