"""FSIS rules and simulator answers (agencies/fsis.py)."""

from __future__ import annotations

import pytest

from agencies.fsis import FSIS

from .conftest import check, filing_of, first_line, rec

LINE = "/lines/0/pga_lines/0"
OI = rec("OI", description="FROZEN BEEF CUTS")
PG01 = rec("PG01", pga_line_number=1, agency_code="FSI", program_code="FSI")
PG13 = rec("PG13", lpco_issuer="MINISTRY OF AGRICULTURE")


def pg14(lpco: str) -> str:
    return rec("PG14", lpco_transaction_type=1, lpco_type=lpco, lpco_number="CERT-1")


@pytest.fixture
def fsi() -> FSIS:
    return FSIS()


def test_foreign_inspection_certificate_passes(fsi: FSIS) -> None:
    assert check(fsi, OI, PG01, PG13, pg14("FS7")) == []


def test_missing_pg14_is_p45(fsi: FSIS) -> None:
    (problem,) = check(fsi, OI, PG01)
    assert (problem.location, problem.code, problem.field) == (LINE, "P45", "lpco_type")
    assert (
        problem.message
        == "FSIS line needs a PG14 LPCO of type FS7 (Foreign inspection certificate)"
    )


def test_other_lpco_type_is_not_enough(fsi: FSIS) -> None:
    (problem,) = check(fsi, OI, PG01, PG13, pg14("FS1"))
    assert (problem.location, problem.code) == (LINE, None)
    assert "type FS7" in problem.message


def test_simulator(fsi: FSIS) -> None:
    filing = filing_of(OI, PG01, PG13, pg14("FS7"))
    answers = fsi.simulate(filing, first_line(fsi, filing))
    assert [(a.status_code, a.reason_code) for a in answers] == [("01", None), ("07", "22")]
