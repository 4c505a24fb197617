"""DOT NHTSA (agency code ``NHT``; program MVS, and REI [U] in pga_codes.json).

Rules (facts: reference §2-§3; tables: ``agencies/data/nht.json``):

- a PG07 with item identity qualifier VIN (P35 otherwise) and a 17-character VIN of the VIN
  character set (no I, O, Q); PG08 numbers after it are VINs too;
- the HS-7 declaration: a PG22 carrying the HS-7 box in its conformance declaration and/or a
  PG14 of LPCO type NH0/NH3;
- the box must be in the ``hs7_boxes`` table; the box's ``lpco_types`` must be present as PG14
  LPCO types, and a box with ``bond`` needs a PG35 conformance bond (surety code and serial);
- for a box with ``vin_check_digit`` (vehicles certified to FMVSS) the VIN's 9th character is
  the 49 CFR 565.15 check digit (transliterate letters, weights 8 7 6 5 4 3 2 10 0 9 8 7 6 5
  4 3 2, sum mod 11, 10 = X). Other boxes (e.g. 25-year-old or non-US-market vehicles) may
  carry VINs without one, so only the format is checked for them.

Simulator (deterministic):

=======================================  ===========================================
line                                     answers (delay steps of ``simulated_delay``)
=======================================  ===========================================
box needs a bond and no PG35 is sent     01 @0, then 02 reason 11 @1
fails other rules (validation bypassed)  01 @0, then 10 reason 90 @1
otherwise                                07 reason 22 @0
=======================================  ===========================================
"""

from __future__ import annotations

from typing import Any

from agencies.base import StandardAgency, records_of, text_field
from agencies.contract import AgencyLine, SimulatedAnswer
from gateway.errors import Problem
from gateway.pgams.model import Filing

_TRANSLITERATION = dict(
    zip(
        "ABCDEFGHJKLMNPRSTUVWXYZ",
        (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9),
        strict=True,
    )
)
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    """The 49 CFR 565.15 check digit of a 17-character VIN ("0"-"9" or "X")."""
    total = sum(
        (int(c) if c.isdigit() else _TRANSLITERATION[c]) * w
        for c, w in zip(vin, _WEIGHTS, strict=True)
    )
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def normalise_box(box: str) -> str:
    """HS-7 box as the table keys it: "03" and "3" are the same box."""
    return box.strip().upper().lstrip("0") or "0"


class NHTSA(StandardAgency):
    code = "NHT"
    data_file = "nht"

    def hs7_box(self, line: AgencyLine) -> tuple[int, str] | None:
        """(record index, normalised box) of the first PG22 conformance declaration."""
        for k, record in records_of(line, "PG22"):
            box = text_field(record, "conformance_declaration")
            if box:
                return k, normalise_box(box)
        return None

    def box_rule(self, line: AgencyLine) -> dict[str, Any] | None:
        found = self.hs7_box(line)
        rule: dict[str, Any] | None = self.data["hs7_boxes"].get(found[1]) if found else None
        return rule

    def bond_missing(self, line: AgencyLine) -> bool:
        rule = self.box_rule(line)
        return bool(rule and rule["bond"]) and not records_of(line, "PG35")

    def validate(self, filing: Filing, line: AgencyLine) -> list[Problem]:
        rule = self.box_rule(line)
        problems = self._vins(line, check_digit=bool(rule and rule["vin_check_digit"]))
        problems.extend(self._hs7(line))
        return problems

    def _vins(self, line: AgencyLine, *, check_digit: bool) -> list[Problem]:
        spec = self.data["vin"]
        identities = [
            (k, r)
            for k, r in records_of(line, "PG07")
            if text_field(r, "item_identity_qualifier") == spec["qualifier"]
        ]
        if not identities:
            return [
                self.problem(
                    line,
                    f"NHTSA line needs a PG07 with item identity qualifier {spec['qualifier']} "
                    "and the vehicle identification number",
                    code="P35",
                    field="item_identity_qualifier",
                )
            ]
        vins = [
            (k, "item_identity_number", text_field(r, "item_identity_number"))
            for k, r in identities
        ]
        # PG08 records after the VIN's PG07 carry more numbers of the same (VIN) qualifier.
        first_vin_record = identities[0][0]
        for k, record in records_of(line, "PG08"):
            if k < first_vin_record:
                continue
            for n in range(1, 5):
                name = f"item_identity_number_{n}"
                if (value := text_field(record, name)) is not None:
                    vins.append((k, name, value))
        problems = []
        for k, field, vin in vins:
            message = self._vin_problem(vin, check_digit=check_digit)
            if message:
                problems.append(self.problem(line, message, record=k, field=field))
        return problems

    def _vin_problem(self, vin: str | None, *, check_digit: bool) -> str | None:
        spec = self.data["vin"]
        if vin is None:
            return "the VIN is blank"
        if len(vin) != spec["length"] or any(c not in spec["alphabet"] for c in vin):
            return f"VIN {vin} must be {spec['length']} characters of 0-9 and A-Z without I, O, Q"
        if check_digit and vin[8] != vin_check_digit(vin):
            return (
                f"VIN {vin} has check digit {vin[8]} in position 9; 49 CFR 565 gives "
                f"{vin_check_digit(vin)}"
            )
        return None

    def _hs7(self, line: AgencyLine) -> list[Problem]:
        lpco_types = {
            t for _, r in records_of(line, "PG14") if (t := text_field(r, "lpco_type")) is not None
        }
        found = self.hs7_box(line)
        hs7_lpco = set(self.data["hs7_lpco_types"])
        if found is None:
            if lpco_types & hs7_lpco:
                return []
            return [
                self.problem(
                    line,
                    "NHTSA line needs its HS-7 declaration: a PG22 with the HS-7 box as "
                    "conformance declaration and/or a PG14 of LPCO type "
                    + " or ".join(sorted(hs7_lpco)),
                )
            ]
        k, box = found
        rule = self.data["hs7_boxes"].get(box)
        if rule is None:
            return [
                self.problem(
                    line,
                    f"HS-7 box {box} is not in the NHTSA box table "
                    f"({', '.join(self.data['hs7_boxes'])})",
                    record=k,
                    field="conformance_declaration",
                )
            ]
        problems = [
            self.problem(
                line, f"HS-7 box {box} needs a PG14 of LPCO type {lpco}", field="lpco_type"
            )
            for lpco in rule["lpco_types"]
            if lpco not in lpco_types
        ]
        if rule["bond"]:
            problems.extend(self._bond(line, box))
        return problems

    def _bond(self, line: AgencyLine, box: str) -> list[Problem]:
        bonds = records_of(line, "PG35")
        if not bonds:
            return [self.problem(line, f"HS-7 box {box} needs a PG35 DOT conformance bond")]
        k, bond = bonds[0]
        missing = [f for f in ("surety_code", "bond_serial_number") if text_field(bond, f) is None]
        return (
            [
                self.problem(
                    line,
                    f"PG35 conformance bond lacks the {missing[0].replace('_', ' ')}",
                    record=k,
                    field=missing[0],
                )
            ]
            if missing
            else []
        )

    def simulate(self, filing: Filing, line: AgencyLine) -> list[SimulatedAnswer]:
        # The bond is checked first: a missing bond holds the vehicle rather than asking for
        # documents (reachable only when validation was bypassed).
        if self.bond_missing(line):
            return [
                self.answer("01", None, 0),
                self.answer("02", "11", 1, "HOLD INTACT: HS-7 box requires a DOT conformance bond"),
            ]
        return super().simulate(filing, line)

    def simulate_valid(self, filing: Filing, line: AgencyLine) -> list[SimulatedAnswer]:
        return [self.answer("07", "22", 0)]
