"""StandardAgency defaults: answer parsing, disclaimers, annotations, simulator helpers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agencies.base import BASE_DELAY_SECONDS, StandardAgency, agency_data
from agencies.contract import AgencyPlugin, Disposition
from agencies.cpsc import CPSC
from agencies.fda import FDA
from gateway.errors import ServerError
from gateway.pgams import codes

from .conftest import check, filing_of, first_line, rec

UTC = dt.UTC
STATUS_CODES = sorted(codes.code_tables()["pga_status"]["entry_level"])


def item(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "CBPLineNumber": 1,
        "PGALineNumber": 2,
        "StatusCode": "07",
        "ReasonCode": "22",
        "ActionTime": dt.datetime(2026, 12, 1, 14, 30, tzinfo=UTC),
        "Remark": "MAY PROCEED",
    }
    base.update(changes)
    return base


def test_built_ins_satisfy_the_protocol() -> None:
    assert isinstance(FDA(), AgencyPlugin)


def test_name_and_programs_come_from_the_gateway_code_table() -> None:
    fda = FDA()
    assert fda.name == "Food and Drug Administration"
    assert {"FOO", "DRU", "DEV", "COS"} <= fda.programs
    assert repr(fda) == "<FDA FDA>"


def test_agency_data_is_loaded_once() -> None:
    assert agency_data("fda") is agency_data("fda")


def test_parse_answer() -> None:
    answer = {"Dispositions": [item(), item(StatusCode="01", ReasonCode=None, Remark=None)]}
    assert FDA().parse_agency_answer(answer) == [
        Disposition(1, 2, "07", dt.datetime(2026, 12, 1, 14, 30, tzinfo=UTC), "22", "MAY PROCEED"),
        Disposition(1, 2, "01", dt.datetime(2026, 12, 1, 14, 30, tzinfo=UTC), None, None),
    ]


@pytest.mark.parametrize("answer", [{}, {"Dispositions": None}, {"Dispositions": []}])
def test_parse_answer_without_dispositions(answer: dict[str, Any]) -> None:
    assert FDA().parse_agency_answer(answer) == []


def test_parse_answer_times_become_utc() -> None:
    eastern = dt.timezone(dt.timedelta(hours=-5))
    answer = {
        "Dispositions": [
            item(ActionTime=dt.datetime(2026, 12, 1, 9, 30, tzinfo=eastern)),
            item(ActionTime=dt.datetime(2026, 12, 1, 14, 30)),
            item(ActionTime="2026-12-01T14:30:00+00:00"),
        ]
    }
    times = [d.action_time for d in FDA().parse_agency_answer(answer)]
    assert times == [dt.datetime(2026, 12, 1, 14, 30, tzinfo=UTC)] * 3
    assert all(t.tzinfo is UTC for t in times)


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ({"StatusCode": None}, "unknown PGA status code 'None'"),
        ({"StatusCode": "77"}, "unknown PGA status code '77'"),
        ({"CBPLineNumber": "x"}, "invalid literal"),
        ({"ActionTime": 5}, "ActionTime is not a date-time"),
    ],
)
def test_parse_answer_rejects_bad_items(bad: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ServerError) as caught:
        FDA().parse_agency_answer({"Dispositions": [item(), item(**bad)]})
    assert "FDA answer Dispositions[1]" in caught.value.detail and fragment in caught.value.detail


def test_parse_answer_missing_key_is_named() -> None:
    broken = item()
    del broken["PGALineNumber"]
    with pytest.raises(ServerError, match=r"Dispositions\[0\] lacks PGALineNumber"):
        FDA().parse_agency_answer({"Dispositions": [broken]})


@given(
    st.integers(1, 999),
    st.integers(1, 999),
    st.sampled_from(STATUS_CODES),
    st.datetimes(timezones=st.just(UTC)),
    st.one_of(st.none(), st.sampled_from(["11", "22", "90"])),
)
def test_parse_answer_round_trips(
    cbp: int, pga: int, status: str, when: dt.datetime, reason: str | None
) -> None:
    answer = {
        "Dispositions": [
            item(
                CBPLineNumber=cbp,
                PGALineNumber=pga,
                StatusCode=status,
                ActionTime=when,
                ReasonCode=reason,
                Remark=None,
            )
        ]
    }
    assert FDA().parse_agency_answer(answer) == [Disposition(cbp, pga, status, when, reason)]


@pytest.mark.parametrize(("entry_type", "ok"), [("21", True), ("01", False)])
def test_disclaimer_f_is_for_entry_type_21(entry_type: str, ok: bool) -> None:
    pg01 = rec("PG01", pga_line_number=1, agency_code="FDA", program_code="FOO", disclaimer="F")
    problems = check(FDA(), rec("OI", description="POTS"), pg01, entry_type=entry_type)
    if ok:
        assert problems == []
    else:
        assert [(p.message, p.field) for p in problems] == [
            ("disclaimer F is only for entry type(s) 21, not 01", "disclaimer")
        ]


def test_default_annotations_are_empty() -> None:
    filing = filing_of(
        rec("OI", description="X"),
        rec("PG01", pga_line_number=1, agency_code="CPS", program_code="CPS"),
    )
    assert CPSC().annotations(filing, []) == {}


def test_answer_delay_is_in_steps_of_simulated_delay() -> None:
    agency = CPSC()
    assert agency.answer("07", "22", 0).delay_seconds == 0.0
    assert agency.answer("07", "22", 2).delay_seconds == 2 * BASE_DELAY_SECONDS
    agency.simulated_delay = 0.0  # e.g. tests or demos that want answers at once
    assert agency.answer("01", None, 3).delay_seconds == 0.0
    assert agency.answer("01", None, 0).remark == "DATA UNDER PGA REVIEW"


def test_a_minimal_subclass_gets_every_default() -> None:
    class Minimal(StandardAgency):
        code = "FWS"
        data_file = "fws"

    agency = Minimal()
    filing = filing_of(
        rec("OI", description="X"),
        rec("PG01", pga_line_number=1, agency_code="FWS", program_code="FWS"),
    )
    assert (
        check(
            agency,
            rec("OI", description="X"),
            rec("PG01", pga_line_number=1, agency_code="FWS", program_code="FWS"),
        )
        == []
    )
    line = first_line(agency, filing)
    assert [(a.status_code, a.reason_code) for a in agency.simulate(filing, line)] == [
        ("01", None),
        ("07", "22"),
    ]
