"""FDA rules, annotations and simulator answers (agencies/fda.py)."""

from __future__ import annotations

import pytest

from agencies.fda import FDA
from gateway.errors import Problem

from .conftest import check, filing_of, first_line, rec, replaced, sample_records, without

LINE = "/lines/0/pga_lines/0"
SHRIMP = sample_records("fda-frozen-shrimp")


@pytest.fixture
def fda() -> FDA:
    return FDA()


def pg01(program: str, processing: str | None = None) -> str:
    return rec(
        "PG01",
        pga_line_number=1,
        agency_code="FDA",
        program_code=program,
        processing_code=processing,
    )


def found(problems: list[Problem]) -> list[tuple[str | None, str, str | None, str | None]]:
    return [(p.location, p.message, p.field, p.code) for p in problems]


def test_shrimp_sample_passes(fda: FDA) -> None:
    assert check(fda, *SHRIMP) == []


def test_product_code_needs_qualifier_fdp(fda: FDA) -> None:
    records = replaced(
        SHRIMP,
        "PG02",
        rec("PG02", item_type="P", product_code_qualifier_1="CAS", product_code_number_1="7732185"),
    )
    assert found(check(fda, *records)) == [
        (LINE, "FDA line needs a PG02 with a product code of qualifier FDP", None, None)
    ]


def test_product_code_is_seven_characters(fda: FDA) -> None:
    records = replaced(
        SHRIMP,
        "PG02",
        rec("PG02", item_type="P", product_code_qualifier_1="FDP", product_code_number_1="16AGT9"),
    )
    assert found(check(fda, *records)) == [
        (
            f"{LINE}/records/0",
            "FDA product code 16AGT9 must be 7 letters or digits",
            "product_code_number_1",
            None,
        )
    ]


def test_only_one_fdp_product_code(fda: FDA) -> None:
    pg02 = rec(
        "PG02",
        item_type="P",
        product_code_qualifier_1="FDP",
        product_code_number_1="16AGT99",
        product_code_qualifier_2="FDP",
        product_code_number_2="16AGT98",
    )
    (problem,) = check(fda, *replaced(SHRIMP, "PG02", pg02))
    assert problem.location == f"{LINE}/records/0"
    assert problem.field == "product_code_number_2"
    assert (
        "only one FDP product code is allowed per FDA line; 16AGT98 is a second one"
        in problem.message
    )


def test_each_required_entity_role_is_needed(fda: FDA) -> None:
    records = [r for r in SHRIMP if not r.startswith("PG19DEQ")]
    records.remove(SHRIMP[SHRIMP.index(next(r for r in SHRIMP if r.startswith("PG19DEQ"))) + 1])
    assert found(check(fda, *records)) == [
        (LINE, "FDA line needs a PG19 entity with role DEQ (Shipper)", "entity_role_code", "P46")
    ]


def test_entity_role_only_once(fda: FDA) -> None:
    dp_instead_of_deq = rec("PG19", entity_role_code="DP", entity_name="SECOND DP")
    problems = check(fda, *replaced(SHRIMP, "PG19DEQ", dp_instead_of_deq))
    assert found(problems) == [
        (LINE, "FDA line needs a PG19 entity with role DEQ (Shipper)", "entity_role_code", "P46"),
        (
            f"{LINE}/records/8",
            "entity role DP (Delivered-to party) appears more than once; "
            "FDA takes it once per line",
            "entity_role_code",
            None,
        ),
    ]


@pytest.mark.parametrize(
    ("fields", "missing", "fragment"),
    [
        ({"entity_id_code": "47"}, "entity_number", "has ID code 47 but no entity number"),
        (
            {"entity_number": "3012345678"},
            "entity_id_code",
            "has entity number 3012345678 but no entity id code",
        ),
    ],
)
def test_entity_id_code_and_number_go_together(
    fda: FDA, fields: dict[str, str], missing: str, fragment: str
) -> None:
    mf = rec("PG19", entity_role_code="MF", entity_name="OCEANIC FOODS", **fields)
    (problem,) = check(fda, *replaced(SHRIMP, "PG19MF", mf))
    assert problem.location == f"{LINE}/records/2"
    assert problem.field == missing
    assert fragment in problem.message


def test_unknown_aoc_code_is_p15(fda: FDA) -> None:
    (problem,) = check(fda, *replaced(SHRIMP, "PG23", rec("PG23", aoc_code="XXX")))
    assert (problem.location, problem.code, problem.field) == (
        f"{LINE}/records/11",
        "P15",
        "aoc_code",
    )
    assert problem.message.startswith(
        "affirmation of compliance code XXX is not a known FDA AoC code"
    )


def test_food_needs_prior_notice(fda: FDA) -> None:
    assert found(check(fda, *without(SHRIMP, "PG30"))) == [
        (
            LINE,
            "FDA FOO line needs prior notice: a PG30 with status A (anticipated arrival) "
            "and a date",
            None,
            None,
        )
    ]


def test_prior_notice_other_status_does_not_count(fda: FDA) -> None:
    (problem,) = check(fda, *replaced(SHRIMP, "PG30", rec("PG30", status="R")))
    assert problem.message.startswith("FDA FOO line needs prior notice")


def test_prior_notice_needs_a_date(fda: FDA) -> None:
    (problem,) = check(fda, *replaced(SHRIMP, "PG30", rec("PG30", status="A", location="USHOU")))
    assert (problem.location, problem.field) == (f"{LINE}/records/16", "date")
    assert "needs the arrival date" in problem.message


def test_devices_need_no_prior_notice(fda: FDA) -> None:
    assert check(fda, *replaced(without(SHRIMP, "PG30"), "PG01", pg01("DEV"))) == []


@pytest.mark.parametrize(
    ("processing", "message"),
    [
        (None, "FDA DRU line needs a processing code (804, INV, OTC, PHN, PRE, RND)"),
        (
            "ZZZ",
            "processing code ZZZ is not an FDA DRU processing code (804, INV, OTC, PHN, PRE, RND)",
        ),
        ("OTC", None),
    ],
)
def test_drug_processing_codes(fda: FDA, processing: str | None, message: str | None) -> None:
    problems = check(fda, *replaced(SHRIMP, "PG01", pg01("DRU", processing)))
    expected = [] if message is None else [(LINE, message, "processing_code", None)]
    assert found(problems) == expected


def test_annotations_carry_prior_notice_arrival(fda: FDA) -> None:
    filing = filing_of(*SHRIMP)
    line = first_line(fda, filing)
    assert fda.annotations(filing, [line]) == {"prior_notice_arrival/1/1": "2026-12-01 14:30 USHOU"}


def test_simulator_holds_listed_product_codes(fda: FDA) -> None:
    pg02 = rec(
        "PG02", item_type="P", product_code_qualifier_1="FDP", product_code_number_1="16AGH01"
    )
    filing = filing_of(*replaced(SHRIMP, "PG02", pg02))
    answers = fda.simulate(filing, first_line(fda, filing))
    assert [(a.status_code, a.reason_code) for a in answers] == [("01", None), ("02", "11")]
    assert "16AGH01" in answers[1].remark


def test_simulator_asks_for_documents_when_an_entity_is_missing(fda: FDA) -> None:
    filing = filing_of(*replaced(SHRIMP, "PG19DEQ", rec("PG19", entity_role_code="CI")))
    answers = fda.simulate(filing, first_line(fda, filing))
    assert [(a.status_code, a.reason_code, a.delay_seconds) for a in answers] == [
        ("01", None, 0.0),
        ("10", "90", fda.simulated_delay),
    ]
    assert answers[0].remark == "DATA UNDER PGA REVIEW"
    assert "role DEQ" in answers[1].remark
