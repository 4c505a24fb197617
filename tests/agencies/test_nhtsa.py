"""NHTSA rules, VIN check digit and simulator answers (agencies/nhtsa.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agencies.nhtsa import NHTSA, normalise_box, vin_check_digit

from .conftest import check, filing_of, first_line, rec

LINE = "/lines/0/pga_lines/0"
VIN = "1TMX4500XRA000451"  # the shared vehicle sample's VIN; its check digit is right
OI = rec("OI", description="ALL-TERRAIN VEHICLE")
PG01 = rec("PG01", pga_line_number=1, agency_code="NHT", program_code="MVS")
IM = rec("PG19", entity_role_code="IM", entity_name="SUMMIT POWERSPORTS LLC")
VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


@pytest.fixture
def nht() -> NHTSA:
    return NHTSA()


def pg07(vin: str, qualifier: str = "VIN") -> str:
    return rec(
        "PG07",
        trade_name="TRAILMASTER",
        item_identity_qualifier=qualifier,
        item_identity_number=vin,
    )


def pg14(lpco: str) -> str:
    return rec("PG14", lpco_transaction_type=1, lpco_type=lpco, lpco_number="HS7")


def pg22(box: str) -> str:
    return rec(
        "PG22",
        conformance_declaration=box,
        declarant_role_code="IM",
        declaration_code="NH1",
        declaration_certification="Y",
    )


BOND = rec("PG35", surety_code="123", bond_serial_number="B-1", bond_type=1, bond_amount=15000)


def test_box_2b_vehicle_passes(nht: NHTSA) -> None:
    assert check(nht, OI, PG01, pg07(VIN), pg14("NH0"), pg22("2B"), IM) == []


def test_vin_identity_is_needed(nht: NHTSA) -> None:
    (problem,) = check(nht, OI, PG01, pg07(VIN, "SER"), pg22("2B"), IM)
    assert (problem.location, problem.code, problem.field) == (
        LINE,
        "P35",
        "item_identity_qualifier",
    )
    assert "PG07 with item identity qualifier VIN" in problem.message


@pytest.mark.parametrize("vin", ["1TMX4500XRA00045", "1TMX4500XRA00045I", "1TMX4500XRA0004-1"])
def test_vin_format(nht: NHTSA, vin: str) -> None:
    (problem,) = check(nht, OI, PG01, pg07(vin), pg22("1"), IM)
    assert (problem.location, problem.field) == (f"{LINE}/records/0", "item_identity_number")
    assert problem.message == f"VIN {vin} must be 17 characters of 0-9 and A-Z without I, O, Q"


def test_check_digit_is_enforced_for_certified_vehicles(nht: NHTSA) -> None:
    wrong = VIN[:8] + "1" + VIN[9:]
    (problem,) = check(nht, OI, PG01, pg07(wrong), pg22("2B"), IM)
    assert problem.location == f"{LINE}/records/0"
    assert problem.message == f"VIN {wrong} has check digit 1 in position 9; 49 CFR 565 gives X"
    # Box 1 vehicles may predate or not follow 49 CFR 565: format only.
    assert check(nht, OI, PG01, pg07(wrong), pg22("1"), IM) == []


def test_pg08_numbers_are_vins(nht: NHTSA) -> None:
    pg08 = rec("PG08", item_identity_number_1=VIN, item_identity_number_2="SHORT")
    (problem,) = check(nht, OI, PG01, pg07(VIN), pg08, pg22("2B"), IM)
    assert (problem.location, problem.field) == (f"{LINE}/records/1", "item_identity_number_2")


def test_hs7_declaration_is_needed(nht: NHTSA) -> None:
    (problem,) = check(nht, OI, PG01, pg07(VIN), IM)
    assert problem.location == LINE
    assert problem.message.startswith("NHTSA line needs its HS-7 declaration")
    assert check(nht, OI, PG01, pg07(VIN), pg14("NH3"), IM) == []


def test_unknown_box(nht: NHTSA) -> None:
    (problem,) = check(nht, OI, PG01, pg07(VIN), pg22("99"), IM)
    assert (problem.location, problem.field) == (f"{LINE}/records/1", "conformance_declaration")
    assert problem.message.startswith("HS-7 box 99 is not in the NHTSA box table")


def test_box_3_needs_its_lpcos_and_a_bond(nht: NHTSA) -> None:
    problems = check(nht, OI, PG01, pg07(VIN), pg14("NH0"), pg22("03"), IM)
    assert [(p.location, p.message) for p in problems] == [
        (LINE, "HS-7 box 3 needs a PG14 of LPCO type NH3"),
        (LINE, "HS-7 box 3 needs a PG35 DOT conformance bond"),
    ]
    assert check(nht, OI, PG01, pg07(VIN), pg14("NH0"), pg14("NH3"), pg22("3"), IM, BOND) == []


def test_bond_needs_its_serial(nht: NHTSA) -> None:
    bond = rec("PG35", surety_code="123", bond_type=1)
    (problem,) = check(nht, OI, PG01, pg07(VIN), pg14("NH0"), pg14("NH3"), pg22("3"), IM, bond)
    assert (problem.location, problem.field) == (f"{LINE}/records/5", "bond_serial_number")
    assert problem.message == "PG35 conformance bond lacks the bond serial number"


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ((pg07(VIN), pg22("2B"), IM), [("07", "22")]),
        ((pg07(VIN), pg14("NH0"), pg14("NH3"), pg22("3"), IM), [("01", None), ("02", "11")]),
        ((pg07("SHORT"), pg22("2B"), IM), [("01", None), ("10", "90")]),
    ],
)
def test_simulator(
    nht: NHTSA, records: tuple[str, ...], expected: list[tuple[str, str | None]]
) -> None:
    filing = filing_of(OI, PG01, *records)
    answers = nht.simulate(filing, first_line(nht, filing))
    assert [(a.status_code, a.reason_code) for a in answers] == expected


def test_check_digit_known_vectors() -> None:
    # 49 CFR 565.15 Table V sample (check digit 4) and a well-known worked example (X).
    assert vin_check_digit("1G4AH59H05G118341") == "4"
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"
    assert vin_check_digit(VIN) == "X"


@given(st.text(alphabet=VIN_CHARS, min_size=17, max_size=17))
def test_check_digit_makes_any_vin_valid(vin: str) -> None:
    fixed = vin[:8] + vin_check_digit(vin) + vin[9:]
    assert vin_check_digit(fixed) == fixed[8]
    assert NHTSA()._vin_problem(fixed, check_digit=True) is None


@given(st.text(alphabet=VIN_CHARS, min_size=17, max_size=17), st.integers(0, 16))
def test_check_digit_catches_single_digit_changes(vin: str, position: int) -> None:
    fixed = vin[:8] + vin_check_digit(vin) + vin[9:]
    if position == 8 or not fixed[position].isdigit():
        return
    changed = fixed[:position] + str((int(fixed[position]) + 1) % 10) + fixed[position + 1 :]
    # Weights are non-zero and below 11 off position 9, so a digit change moves the sum.
    assert vin_check_digit(changed) != fixed[8]


def test_box_normalisation() -> None:
    assert [normalise_box(b) for b in ("03", "3", " 2b ", "10")] == ["3", "3", "2B", "10"]
