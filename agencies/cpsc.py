"""CPSC (agency code ``CPS``; program CPS).

Rules (facts: reference §3, CPSC uses PG07, PG10, PG14, PG19-22, PG25, PG30, PG60 [S]; table:
``agencies/data/cps.json``):

- at least one PG19 entity (P46 otherwise);
- the product identified by a PG07 (trade name / model / identity) or a PG10 (commodity).

Simulator (deterministic):

=======================================  ===========================================
line                                     answers (delay steps of ``simulated_delay``)
=======================================  ===========================================
fails the rules (validation bypassed)    01 @0, then 10 reason 90 @1
otherwise                                07 reason 22 @0
=======================================  ===========================================
"""

from __future__ import annotations

from agencies.base import StandardAgency, records_of
from agencies.contract import AgencyLine, SimulatedAnswer
from gateway.errors import Problem
from gateway.pgams.model import Filing


class CPSC(StandardAgency):
    code = "CPS"
    data_file = "cps"

    def validate(self, filing: Filing, line: AgencyLine) -> list[Problem]:
        problems = []
        if self.data["entity_required"] and not records_of(line, "PG19"):
            problems.append(
                self.problem(
                    line, "CPSC line needs a PG19 entity", code="P46", field="entity_role_code"
                )
            )
        product = self.data["product_records"]
        if not records_of(line, *product):
            problems.append(
                self.problem(
                    line,
                    "CPSC line needs the product identified by a "
                    + " or a ".join(f"{r} ({what})" for r, what in product.items()),
                )
            )
        return problems

    def simulate_valid(self, filing: Filing, line: AgencyLine) -> list[SimulatedAnswer]:
        return [self.answer("07", "22", 0)]
