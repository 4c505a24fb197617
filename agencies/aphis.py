"""USDA APHIS (agency code ``APH``; programs AAC, APQ, AVS, APL, ABS - see pga_codes.json notes).

Rules (facts: reference §2-§3; code lists: ``agencies/data/aph.json``):

- Lacey Act (APL): a PG05 with genus and species (the scientific name) and a PG06 with source
  type HRV and the harvest country. A Lacey line disclaimed with G needs neither (a disclaimed
  line is OI + PG01 only);
- every APHIS PG14 LPCO type is a known APHIS type (A01, A02, A30, A31, A37);
- disclaimer G is accepted for Lacey (APL) lines only (``validate_disclaimer``).

Simulator (deterministic):

=======================================  ===========================================
line                                     answers (delay steps of ``simulated_delay``)
=======================================  ===========================================
fails the rules (validation bypassed)    01 @0, then 10 reason 90 @1
Lacey (APL)                              07 reason 22 @0 (may proceed in the ack)
other programs                           01 @0, then 07 reason 22 @1
=======================================  ===========================================
"""

from __future__ import annotations

from agencies.base import StandardAgency, records_of, text_field
from agencies.contract import AgencyLine, SimulatedAnswer
from gateway.errors import Problem
from gateway.pgams.model import Filing


class APHIS(StandardAgency):
    code = "APH"
    data_file = "aph"

    def validate(self, filing: Filing, line: AgencyLine) -> list[Problem]:
        problems = self._lpco_types(line)
        if line.pga_line.program_code == self.data["lacey"]["program"]:
            problems.extend(self._lacey(line))
        return problems

    def _lacey(self, line: AgencyLine) -> list[Problem]:
        problems = self.scientific_name_problems(line, "Lacey Act")
        harvest = self.data["lacey"]["harvest_source_type"]
        sources = [
            (k, r)
            for k, r in records_of(line, "PG06")
            if text_field(r, "source_type_code") == harvest
        ]
        if not sources:
            problems.append(
                self.problem(
                    line,
                    f"Lacey Act line needs a PG06 with source type {harvest} (country of harvest)",
                    # P43 is CBP's "missing PG06"; a PG06 of another source type is not that.
                    code=None if records_of(line, "PG06") else "P43",
                )
            )
        for k, record in sources:
            if text_field(record, "country") is None:
                problems.append(
                    self.problem(
                        line,
                        f"Lacey Act PG06 source {harvest} needs the harvest country "
                        "(XZ for 5+ possible countries, ZZ for high seas)",
                        record=k,
                        field="country",
                    )
                )
        return problems

    def _lpco_types(self, line: AgencyLine) -> list[Problem]:
        known = self.data["lpco_types"]
        return [
            self.problem(
                line,
                f"LPCO type {lpco} is not an APHIS LPCO type ({', '.join(sorted(known))})",
                record=k,
                field="lpco_type",
            )
            for k, record in records_of(line, "PG14")
            if (lpco := text_field(record, "lpco_type")) is not None and lpco not in known
        ]

    def simulate_valid(self, filing: Filing, line: AgencyLine) -> list[SimulatedAnswer]:
        if line.pga_line.program_code == self.data["lacey"]["program"]:
            return [self.answer("07", "22", 0)]
        return super().simulate_valid(filing, line)
