from __future__ import annotations

import pytest

from gateway.errors import Problem
from gateway.pgams.catair import parse_catair, parse_records
from gateway.pgams.rules import check_structure

from .conftest import pad

OI = "OI        FROZEN SHRIMP"
FDA = "PG01001FDAFOO"
PG02 = "PG02PFDP 16AGT99"


def problems_of(*records: str, single_line: bool = False) -> list[Problem]:
    parsed, framing = parse_records(pad(*records))
    assert framing == [], framing
    return check_structure(parsed, single_line=single_line)


def codes_at(problems: list[Problem]) -> list[tuple[str | None, int | None]]:
    return [(p.code, p.record) for p in problems]


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ((PG02, OI, FDA), [("P01", 1)]),
        ((OI, PG02, FDA), [("P03", 2)]),
        ((OI, FDA, "PG02XFDP"), [("P07", 3)]),
        ((OI, FDA, "PG02CFDP"), [("P07", 3)]),
        ((OI, FDA, PG02, "PG02PCAS"), [("P07", 4)]),
        ((OI, "PG01001FDAFOO" + " " * 28 + "980.000"), [("P08", 2)]),
        ((OI, "PG01001FDAZZZ"), [("P06", 2)]),
        ((OI, FDA, "PG21DP MARIA"), [("P34", 3)]),
        ((OI, FDA, "PG20" + " " * 37 + "HOUSTON"), [("P33", 3)]),
        ((OI, FDA, "PG19MF", "PG24GEN", "PG20" + " " * 37 + "HOUSTON"), [("P33", 5)]),
        ((OI, FDA, "PG267000000000100CT"), [("P17", 3)]),
        ((OI, FDA, *[f"PG26{q}000000000100CT" for q in (1, 2, 3, 4, 5, 6, 6)]), [("P17", 9)]),
        ((OI, FDA, "PG30Z"), [("P20", 3)]),
        ((OI, FDA, "PG06HRVUS" + " " * 36 + "017"), [("P27", 3)]),
        ((OI, FDA, "PG08VIN123"), [("P28", 3)]),
        ((OI, FDA, "PG13USDA", "PG24GEN"), [("P29", 3)]),
    ],
)
def test_cbp_coded_rules(records: tuple[str, ...], expected: list[tuple[str, int]]) -> None:
    assert codes_at(problems_of(*records)) == expected


def test_p42_only_for_a_single_line_string() -> None:
    records = (OI, FDA, PG02, OI, FDA, PG02)
    assert problems_of(*records) == []
    assert codes_at(problems_of(*records, single_line=True)) == [("P42", 4)]


def test_missing_agency_is_p05_and_unknown_agency_is_uncoded() -> None:
    _, problems = parse_catair(pad(OI, "PG01001   FOO"))
    assert codes_at(problems) == [("P05", 2)]
    unknown = problems_of(OI, "PG01001XYZFOO")
    assert [(p.code, p.field, p.positions) for p in unknown] == [(None, "agency_code", "8-10")]


def test_valid_entity_trio_pg13_pg14_pairs_and_pg14_alone() -> None:
    assert (
        problems_of(
            OI, FDA, PG02, "PG19MF", "PG20", "PG21MF JOE", "PG60TELX", "PG13USDA", "PG141A01X"
        )
        == []
    )
    assert problems_of(OI, FDA, "PG141NH0HS7-BOX-2B") == []


def test_pga_line_numbering_per_agency() -> None:
    good = (OI, FDA, PG02, "PG01002FDAFOO", PG02, "PG01001EPAVNE", "PG01001FDAFOO", PG02)
    assert problems_of(*good) == []
    bad = problems_of(OI, "PG01002FDAFOO", PG02, "PG01001FDAFOO", PG02, "PG01002EPAVNE")
    assert [(p.record, p.field, p.positions) for p in bad] == [
        (2, "pga_line_number", "5-7"),
        (4, "pga_line_number", "5-7"),
        (6, "pga_line_number", "5-7"),
    ]
    assert "should be 001" in bad[0].message and "should be 003" in bad[1].message


def test_numbering_restarts_in_each_tariff_line() -> None:
    assert problems_of(OI, FDA, PG02, OI, FDA, PG02) == []


def test_disclaimed_line_has_no_further_records_and_code_must_be_known() -> None:
    problems = problems_of(OI, FDA.ljust(79) + "A", PG02)
    assert [(p.code, p.record) for p in problems] == [(None, 3)]
    assert "disclaimer 'A'" in problems[0].message
    unknown = problems_of(OI, FDA.ljust(79) + "Z")
    assert [(p.field, p.positions) for p in unknown] == [("disclaimer", "80")]


def test_groups_pg50_pg51() -> None:
    assert problems_of(OI, FDA, PG02, "PG50", "PG04", "PG51") == []
    assert [p.record for p in problems_of(OI, FDA, PG02, "PG51")] == [4]
    assert [p.record for p in problems_of(OI, FDA, PG02, "PG50", "PG04")] == [4]
    nested = problems_of(OI, FDA, PG02, "PG50", "PG50", "PG51")
    assert [p.record for p in nested] == [5]
    assert "nested" in nested[0].message
    # A PG01 closes the PGA line, so a PG51 in the next one has no PG50.
    split = problems_of(OI, FDA, PG02, "PG50", "PG01002FDAFOO", PG02, "PG51")
    assert sorted(p.record for p in split if p.record is not None) == [4, 7]


def test_substitution_valid_sequence() -> None:
    records = (
        OI,
        "PG00S0001",
        FDA,
        PG02,
        "PG00E0001",
        "PG00S0002",
        "PG01002FDAFOO",
        PG02,
        "PG00E",
        "PG00R0001",
    )
    assert problems_of(*records) == []


@pytest.mark.parametrize(
    ("records", "record", "fragment"),
    [
        ((OI, "PG00S0001", FDA), 2, "no PG00 E ends"),
        ((OI, FDA, "PG00E"), 3, "no PG00 S started"),
        ((OI, FDA, "PG00S0001", "PG00E", "PG00S0003", "PG00E"), 5, "should be 0002"),
        ((OI, FDA, "PG00S0001", "PG00E", "PG00S0001", "PG00E"), 5, "already used"),
        ((OI, FDA, "PG00R0007"), 3, "no PG00 S defines"),
        ((OI, FDA, "PG00X0001"), 3, "is not S"),
        ((OI, FDA, "PG00S0000", "PG00E"), 3, "not 0001-9999"),
        ((OI, FDA, "PG00S"), 3, "needs a substitution number"),
        ((OI, FDA, "PG00S0001", "PG00S0002", "PG00E", "PG00E"), 4, "no PG00 E yet"),
    ],
)
def test_substitution_errors(records: tuple[str, ...], record: int, fragment: str) -> None:
    problems = problems_of(*records)
    assert any(p.record == record and fragment in p.message for p in problems), problems
