"""APHIS rules and simulator answers (agencies/aphis.py)."""

from __future__ import annotations

import pytest

from agencies.aphis import APHIS
from agencies.fda import FDA

from .conftest import check, filing_of, first_line, rec, replaced, sample_records, without

LINE = "/lines/0/pga_lines/0"
OAK = sample_records("aphis-lacey-oak")
OI = rec("OI", description="LIVE PLANTS")
PG02 = rec(
    "PG02", item_type="P", product_code_qualifier_1="HTS", product_code_number_1="0602909000"
)


@pytest.fixture
def aphis() -> APHIS:
    return APHIS()


def pg01(program: str, disclaimer: str | None = None, agency: str = "APH") -> str:
    return rec(
        "PG01", pga_line_number=1, agency_code=agency, program_code=program, disclaimer=disclaimer
    )


def test_lacey_sample_passes(aphis: APHIS) -> None:
    assert check(aphis, *OAK) == []


def test_lacey_needs_scientific_name(aphis: APHIS) -> None:
    (problem,) = check(aphis, *without(OAK, "PG05"))
    assert (problem.location, problem.code) == (LINE, None)
    assert (
        problem.message
        == "Lacey Act line needs a PG05 with the scientific name (genus and species)"
    )


def test_lacey_scientific_name_needs_species(aphis: APHIS) -> None:
    (problem,) = check(aphis, *replaced(OAK, "PG05", rec("PG05", genus="QUERCUS")))
    assert (problem.location, problem.field) == (f"{LINE}/records/1", "species")
    assert problem.message == "Lacey Act PG05 scientific name lacks the species"


def test_lacey_needs_harvest_source(aphis: APHIS) -> None:
    (problem,) = check(aphis, *without(OAK, "PG06"))
    assert (problem.location, problem.code) == (LINE, "P43")
    assert "PG06 with source type HRV (country of harvest)" in problem.message


def test_lacey_other_source_type_is_not_harvest(aphis: APHIS) -> None:
    (problem,) = check(
        aphis, *replaced(OAK, "PG06", rec("PG06", source_type_code="39", country="US"))
    )
    assert (problem.location, problem.code) == (LINE, None)
    assert "source type HRV" in problem.message


def test_lacey_harvest_needs_country(aphis: APHIS) -> None:
    (problem,) = check(aphis, *replaced(OAK, "PG06", rec("PG06", source_type_code="HRV")))
    assert (problem.location, problem.field) == (f"{LINE}/records/2", "country")
    assert "needs the harvest country" in problem.message


@pytest.mark.parametrize(("lpco", "ok"), [("A02", True), ("A37", True), ("A99", False)])
def test_lpco_types_are_aphis_types(aphis: APHIS, lpco: str, ok: bool) -> None:
    problems = check(
        aphis,
        OI,
        pg01("APQ"),
        PG02,
        rec("PG13", lpco_issuer="CFIA"),
        rec("PG14", lpco_transaction_type=1, lpco_type=lpco, lpco_number="PC-1"),
    )
    if ok:
        assert problems == []
    else:
        (problem,) = problems
        assert (problem.location, problem.field) == (f"{LINE}/records/2", "lpco_type")
        assert (
            problem.message == "LPCO type A99 is not an APHIS LPCO type (A01, A02, A30, A31, A37)"
        )


def test_disclaimer_g_is_for_lacey_only(aphis: APHIS) -> None:
    assert check(aphis, OI, pg01("APL", "G")) == []
    (problem,) = check(aphis, OI, pg01("APQ", "G"))
    assert (problem.location, problem.field) == (LINE, "disclaimer")
    assert problem.message == "disclaimer G is only for APH program(s) APL, not APQ"
    (other,) = check(FDA(), OI, pg01("FOO", "G", agency="FDA"))
    assert other.message == "disclaimer G is not accepted by FDA; it accepts A, B, C, D, F"


def test_general_disclaimers_are_accepted(aphis: APHIS) -> None:
    assert check(aphis, OI, pg01("APQ", "A")) == []


def test_simulator_lacey_may_proceed_in_the_ack(aphis: APHIS) -> None:
    filing = filing_of(*OAK)
    answers = aphis.simulate(filing, first_line(aphis, filing))
    assert [(a.status_code, a.reason_code, a.delay_seconds) for a in answers] == [("07", "22", 0.0)]
    assert answers[0].remark == "MAY PROCEED"


def test_simulator_other_programs_review_first(aphis: APHIS) -> None:
    filing = filing_of(OI, pg01("APQ"), PG02)
    answers = aphis.simulate(filing, first_line(aphis, filing))
    assert [(a.status_code, a.reason_code) for a in answers] == [("01", None), ("07", "22")]
