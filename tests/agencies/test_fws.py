"""FWS rules and simulator answers (agencies/fws.py)."""

from __future__ import annotations

import pytest

from agencies.fws import FWS

from .conftest import check, filing_of, first_line, rec

LINE = "/lines/0/pga_lines/0"
OI = rec("OI", description="PYTHON SKIN HANDBAGS")
PG05 = rec("PG05", genus="PYTHON", species="RETICULATUS")
PG17 = rec("PG17", specific_common_name="RETICULATED PYTHON")


@pytest.fixture
def fws() -> FWS:
    return FWS()


def pg01(disclaimer: str | None = None) -> str:
    return rec(
        "PG01", pga_line_number=1, agency_code="FWS", program_code="FWS", disclaimer=disclaimer
    )


def test_scientific_and_common_name_pass(fws: FWS) -> None:
    assert check(fws, OI, pg01(), PG05, PG17) == []


def test_scientific_name_is_needed(fws: FWS) -> None:
    (problem,) = check(fws, OI, pg01(), PG17)
    assert (problem.location, problem.message) == (
        LINE,
        "FWS line needs a PG05 with the scientific name (genus and species)",
    )


def test_scientific_name_needs_genus(fws: FWS) -> None:
    (problem,) = check(fws, OI, pg01(), rec("PG05", species="RETICULATUS"), PG17)
    assert (problem.location, problem.field) == (f"{LINE}/records/0", "genus")
    assert problem.message == "FWS PG05 scientific name lacks the genus"


def test_common_name_is_needed(fws: FWS) -> None:
    (problem,) = check(fws, OI, pg01(), PG05)
    assert (problem.location, problem.message) == (
        LINE,
        "FWS line needs a PG17 with the common name",
    )


def test_common_name_record_needs_a_name(fws: FWS) -> None:
    (problem,) = check(fws, OI, pg01(), PG05, rec("PG17", live_venomous_wildlife="N"))
    assert (problem.location, problem.field) == (f"{LINE}/records/1", "specific_common_name")


def test_general_common_name_is_enough(fws: FWS) -> None:
    assert check(fws, OI, pg01(), PG05, rec("PG17", general_common_name="SNAKE")) == []


def test_disclaimer_e_needs_no_names(fws: FWS) -> None:
    assert check(fws, OI, pg01("E")) == []


def test_simulator(fws: FWS) -> None:
    filing = filing_of(OI, pg01(), PG05, PG17)
    answers = fws.simulate(filing, first_line(fws, filing))
    assert [(a.status_code, a.reason_code) for a in answers] == [("01", None), ("07", "22")]
