"""NMFS rules and simulator answers (agencies/nmfs.py)."""

from __future__ import annotations

import pytest

from agencies.nmfs import NMFS

from .conftest import check, filing_of, first_line, rec

LINE = "/lines/0/pga_lines/0"
OI = rec("OI", description="FROZEN TUNA LOINS")
PG02 = rec(
    "PG02", item_type="P", product_code_qualifier_1="HTS", product_code_number_1="0304870000"
)
PG31 = rec("PG31", characteristic_type_code="NAM", characteristic="SEA STAR")
PG33 = rec("PG33", ocean_area_code="FAO71", ocean_area_name="PACIFIC WESTERN CENTRAL")


@pytest.fixture
def nmf() -> NMFS:
    return NMFS()


def pg01(program: str, image: str | None = None) -> str:
    return rec(
        "PG01",
        pga_line_number=1,
        agency_code="NMF",
        program_code=program,
        electronic_image_submitted=image,
    )


def test_sim_with_harvest_data_passes(nmf: NMFS) -> None:
    assert check(nmf, OI, pg01("SIM"), PG02, PG31, PG33) == []


def test_sim_needs_harvest_data(nmf: NMFS) -> None:
    problems = check(nmf, OI, pg01("SIM"), PG02)
    assert [(p.location, p.message) for p in problems] == [
        (LINE, "NMFS SIM line needs a PG31 (harvesting vessel characteristic)"),
        (LINE, "NMFS SIM line needs a PG33 (ocean geographic area)"),
    ]


def test_370_needs_the_image_indicator(nmf: NMFS) -> None:
    (problem,) = check(nmf, OI, pg01("370"), PG02)
    assert (problem.location, problem.field) == (LINE, "electronic_image_submitted")
    assert "electronic image submitted indicator (PG01 position 17)" in problem.message
    assert check(nmf, OI, pg01("370", "Y"), PG02) == []


@pytest.mark.parametrize("program", ["AMR", "HMS", "COA"])
def test_programs_without_known_rules(nmf: NMFS, program: str) -> None:
    assert check(nmf, OI, pg01(program), PG02) == []


@pytest.mark.parametrize(
    ("program", "expected"),
    [("SIM", [("01", None), ("07", "22")]), ("HMS", [("07", "22")])],
)
def test_simulator(nmf: NMFS, program: str, expected: list[tuple[str, str | None]]) -> None:
    filing = filing_of(OI, pg01(program), PG02, PG31, PG33)
    answers = nmf.simulate(filing, first_line(nmf, filing))
    assert [(a.status_code, a.reason_code) for a in answers] == expected
