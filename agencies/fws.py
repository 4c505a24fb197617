"""DOI FWS (agency code ``FWS``; program FWS).

Rules (facts: reference §2-§3; code lists: ``agencies/data/fws.json``):

- a PG05 with the scientific name (genus and species);
- a PG17 with a common name (specific or general).

A line disclaimed with E (no fish or wildlife content) needs neither: a disclaimed line is
OI + PG01 only, and the registry only hands it to ``validate_disclaimer``, where E is accepted
because it is FWS's own disclaimer (``disclaimers`` in the data file). LPCO types (FWE, FWL)
and declaration FW3 are kept as data only: the reference lists examples, not the table.

Simulator (deterministic):

=======================================  ===========================================
line                                     answers (delay steps of ``simulated_delay``)
=======================================  ===========================================
fails the rules (validation bypassed)    01 @0, then 10 reason 90 @1
otherwise                                01 @0, then 07 reason 22 @1
=======================================  ===========================================
"""

from __future__ import annotations

from agencies.base import StandardAgency, records_of, text_field
from agencies.contract import AgencyLine
from gateway.errors import Problem
from gateway.pgams.model import Filing


class FWS(StandardAgency):
    code = "FWS"
    data_file = "fws"

    def validate(self, filing: Filing, line: AgencyLine) -> list[Problem]:
        problems = self.scientific_name_problems(line, "FWS")
        common = records_of(line, "PG17")
        if not common:
            problems.append(self.problem(line, "FWS line needs a PG17 with the common name"))
        for k, record in common:
            if not (
                text_field(record, "specific_common_name")
                or text_field(record, "general_common_name")
            ):
                problems.append(
                    self.problem(
                        line,
                        "FWS PG17 needs a specific or general common name",
                        record=k,
                        field="specific_common_name",
                    )
                )
        return problems
