"""USDA FSIS (agency code ``FSI``; program FSI).

Rules (facts: reference §3 [S]; code lists: ``agencies/data/fsi.json``):

- a PG14 of each ``required_lpco_types`` type: FS7, the foreign inspection certificate
  (P45 when the line has no PG14 at all).

Declaration FS3 (hold-intact agreement) and PG10 category type FS1 are kept as data only.

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


class FSIS(StandardAgency):
    code = "FSI"
    data_file = "fsi"

    def validate(self, filing: Filing, line: AgencyLine) -> list[Problem]:
        lpcos = records_of(line, "PG14")
        types = {text_field(r, "lpco_type") for _, r in lpcos}
        return [
            self.problem(
                line,
                f"FSIS line needs a PG14 LPCO of type {lpco} ({spec['name']})",
                # P45 is CBP's "missing PG14"; a PG14 of another type is not that.
                code=None if lpcos else "P45",
                field="lpco_type",
            )
            for lpco, spec in self.data["required_lpco_types"].items()
            if lpco not in types
        ]
