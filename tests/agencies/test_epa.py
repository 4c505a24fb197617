"""EPA rules and simulator answers (agencies/epa.py)."""

from __future__ import annotations

import pytest

from agencies.epa import EPA

from .conftest import check, filing_of, first_line, rec

LINE = "/lines/0/pga_lines/0"
OI = rec("OI", description="ALL-TERRAIN VEHICLE")
IM = rec("PG19", entity_role_code="IM", entity_name="SUMMIT POWERSPORTS LLC")


@pytest.fixture
def epa() -> EPA:
    return EPA()


def pg01(program: str) -> str:
    return rec("PG01", pga_line_number=1, agency_code="EPA", program_code=program)


def pg22(document: str | None, declaration: str | None) -> str:
    return rec(
        "PG22",
        document_identifier=document,
        conformance_declaration="2B",
        declarant_role_code="IM",
        declaration_code=declaration,
        declaration_certification="Y",
    )


def test_vne_with_form_942_and_ep2_passes(epa: EPA) -> None:
    assert check(epa, OI, pg01("VNE"), pg22("942", "EP2"), IM) == []


@pytest.mark.parametrize(("document", "declaration"), [("941", "EP2"), ("942", "EP1")])
def test_vne_needs_form_942_and_ep2(epa: EPA, document: str, declaration: str) -> None:
    (problem,) = check(epa, OI, pg01("VNE"), pg22(document, declaration), IM)
    assert (problem.location, problem.code, problem.field) == (LINE, "P36", "declaration_code")
    assert problem.message == (
        "EPA VNE line needs a PG22 with document identifier 942 and declaration code EP2"
    )


@pytest.mark.parametrize("program", ["VNE", "ODS", "TS1", "PS1"])
def test_every_epa_line_needs_a_declaration(epa: EPA, program: str) -> None:
    (problem,) = check(epa, OI, pg01(program), IM)
    assert (problem.location, problem.code) == (LINE, "P36")
    assert problem.message == f"EPA {program} line needs a PG22 declaration with a declaration code"


def test_other_programs_accept_any_declaration_code(epa: EPA) -> None:
    assert check(epa, OI, pg01("ODS"), pg22(None, "EP7"), IM) == []


@pytest.mark.parametrize(
    ("program", "expected"),
    [("VNE", [("01", None, 0.0), ("07", "22", 1.0)]), ("TS1", [("07", "22", 0.0)])],
)
def test_simulator(epa: EPA, program: str, expected: list[tuple[str, str | None, float]]) -> None:
    epa.simulated_delay = 1.0
    filing = filing_of(OI, pg01(program), pg22("942", "EP2"), IM)
    answers = epa.simulate(filing, first_line(epa, filing))
    assert [(a.status_code, a.reason_code, a.delay_seconds) for a in answers] == expected
