"""CPSC rules and simulator answers (agencies/cpsc.py)."""

from __future__ import annotations

import pytest

from agencies.cpsc import CPSC

from .conftest import check, filing_of, first_line, rec

LINE = "/lines/0/pga_lines/0"
OI = rec("OI", description="CHILDRENS BICYCLE HELMETS")
PG01 = rec("PG01", pga_line_number=1, agency_code="CPS", program_code="CPS")
PG07 = rec("PG07", trade_name="SAFEKID", model="SK-2")
PG10 = rec("PG10", characteristic_description="BICYCLE HELMET")
MF = rec("PG19", entity_role_code="MF", entity_name="SAFEKID MFG")


@pytest.fixture
def cps() -> CPSC:
    return CPSC()


@pytest.mark.parametrize("product", [PG07, PG10])
def test_entity_and_product_pass(cps: CPSC, product: str) -> None:
    assert check(cps, OI, PG01, product, MF) == []


def test_entity_is_needed(cps: CPSC) -> None:
    (problem,) = check(cps, OI, PG01, PG07)
    assert (problem.location, problem.code, problem.message) == (
        LINE,
        "P46",
        "CPSC line needs a PG19 entity",
    )


def test_product_is_needed(cps: CPSC) -> None:
    (problem,) = check(cps, OI, PG01, MF)
    assert problem.location == LINE
    assert problem.message == (
        "CPSC line needs the product identified by a PG07 (trade name / model / identity) "
        "or a PG10 (commodity characteristics)"
    )


def test_simulator(cps: CPSC) -> None:
    filing = filing_of(OI, PG01, PG07, MF)
    answers = cps.simulate(filing, first_line(cps, filing))
    assert [(a.status_code, a.reason_code, a.delay_seconds) for a in answers] == [("07", "22", 0.0)]
