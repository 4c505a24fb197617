"""gateway.coordination: the coordinated status is a pure function of lines and dispositions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.coordination import (
    DISCLAIMED,
    HOLD,
    HOLD_CODES,
    MAY_PROCEED,
    OUTCOME_RANK,
    PENDING,
    REJECTED,
    Coordination,
    DispositionInput,
    LineInput,
    coordinate,
    current_lines,
    dispositions_from_rows,
    outcome_of_code,
)

T0 = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.UTC)
CODES = ["01", "02", "04", "06", "07", "08", "10", "11", "13"]
REASONS = {"02": "25", "04": "14", "06": "21", "07": "22", "08": "28", "10": "90", "11": "34"}

LINES = [
    LineInput("EPA", "VNE", 1, 1),
    LineInput("NHT", "MVS", 1, 1),
    LineInput("FDA", "FOO", 2, 1),
    LineInput("FDA", "FOO", 3, 1, disclaimed=True),
]


def d(
    line: LineInput, code: str, minutes: int, *, version: int = 1, **extra: Any
) -> DispositionInput:
    return DispositionInput(
        agency_code=line.agency_code,
        cbp_line_number=line.cbp_line_number,
        pga_line_number=line.pga_line_number,
        status_code=code,
        action_time=T0 + dt.timedelta(minutes=minutes),
        reason_code=extra.pop("reason_code", REASONS.get(code)),
        entry_version=version,
        **extra,
    )


lines_st = st.lists(
    st.builds(
        LineInput,
        agency_code=st.sampled_from(["EPA", "NHT", "FDA"]),
        program_code=st.just("ABC"),
        cbp_line_number=st.integers(1, 3),
        pga_line_number=st.integers(1, 2),
        disclaimed=st.booleans(),
        changed_in_version=st.integers(1, 3),
    ),
    max_size=6,
    unique_by=lambda line: line.key,
)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[LineInput], list[DispositionInput]]:
    lines = draw(lines_st)
    if not lines:
        return lines, []
    answers = draw(
        st.lists(
            st.builds(
                lambda line, code, minutes, version, remark: d(
                    line, code, minutes, version=version, remark=remark
                ),
                st.sampled_from(lines),
                st.sampled_from([*CODES, "12"]),
                st.integers(0, 5),  # few distinct times: plenty of ties
                st.integers(1, 3),
                st.sampled_from([None, "a", "b"]),
            ),
            max_size=12,
        )
    )
    return lines, answers


# -- examples --------------------------------------------------------------------------------


def test_no_answer_is_pending_and_disclaimed_lines_are_not_awaited() -> None:
    result = coordinate(LINES, [])
    assert result.status == PENDING
    assert {(r.agency_code, r.cbp_line_number) for r in result.reasons} == {
        ("EPA", 1),
        ("NHT", 1),
        ("FDA", 2),
    }
    assert [line.status for line in result.lines if line.cbp_line_number == 3] == [DISCLAIMED]
    assert "await a final answer from EPA, FDA and NHT" in result.explanation


def test_hold_names_who_and_why_then_a_later_release_lifts_it() -> None:
    epa, nht, fda = LINES[0], LINES[1], LINES[2]
    answers = [d(epa, "07", 1), d(nht, "02", 2), d(fda, "07", 3)]
    held = coordinate(LINES, answers)
    assert held.status == HOLD
    [reason] = held.reasons
    assert (reason.agency_code, reason.status_code, reason.reason_code) == ("NHT", "02", "25")
    assert reason.reason_text == "Additional verification needed"
    assert reason.status_text == "HOLD INTACT"
    assert held.explanation == "On hold: NHT holds 1 PGA line (02 HOLD INTACT)."
    agencies = {a.agency_code: a.status for a in held.agencies}
    assert agencies == {"EPA": MAY_PROCEED, "NHT": HOLD, "FDA": MAY_PROCEED}

    released = coordinate(LINES, [*answers, d(nht, "07", 4)])
    assert released.status == MAY_PROCEED
    assert released.latest_action_time == T0 + dt.timedelta(minutes=4)
    assert "07 MAY PROCEED or disclaimed" in released.explanation


def test_an_older_release_arriving_late_does_not_lift_a_newer_hold() -> None:
    epa = LINES[0]
    result = coordinate([epa], [d(epa, "02", 10), d(epa, "07", 5)])
    assert result.status == HOLD
    assert result.lines[0].action_time == T0 + dt.timedelta(minutes=10)


def test_same_time_the_more_severe_code_wins() -> None:
    epa = LINES[0]
    assert coordinate([epa], [d(epa, "07", 0), d(epa, "02", 0)]).status == HOLD
    assert coordinate([epa], [d(epa, "02", 0), d(epa, "04", 0)]).status == REJECTED


def test_rejection_outranks_everything() -> None:
    epa, nht = LINES[0], LINES[1]
    result = coordinate(LINES[:2], [d(epa, "04", 0), d(nht, "02", 1)])
    assert result.status == REJECTED
    assert [r.agency_code for r in result.reasons] == ["EPA"]
    assert result.explanation.startswith("Rejected: EPA rejected")


def test_amended_line_needs_a_new_answer_unchanged_line_keeps_its_own() -> None:
    changed = LineInput("EPA", "VNE", 1, 1, changed_in_version=2)
    kept = LineInput("NHT", "MVS", 1, 1, changed_in_version=1)
    answers = [d(changed, "07", 0, version=1), d(kept, "07", 0, version=1)]
    result = coordinate([changed, kept], answers)
    assert result.status == PENDING
    epa_line = next(line for line in result.lines if line.agency_code == "EPA")
    assert (epa_line.status_code, epa_line.reset_answers) == (None, 1)
    assert "amended in version 2" in epa_line.reason_text
    answers.append(d(changed, "07", 1, version=2))
    assert coordinate([changed, kept], answers).status == MAY_PROCEED


def test_only_disclaimed_or_no_lines_may_proceed() -> None:
    assert coordinate([], []).status == MAY_PROCEED
    only = coordinate([LINES[3]], [d(LINES[3], "04", 0)])
    assert only.status == MAY_PROCEED
    assert only.agencies[0].status == DISCLAIMED
    assert "no PGA line needs an agency answer (1 disclaimed)" in only.explanation


def test_answers_for_unknown_lines_are_ignored_and_counted() -> None:
    stray = LineInput("APH", "APQ", 9, 9)
    result = coordinate(LINES[:1], [d(stray, "04", 0), d(LINES[0], "07", 0)])
    assert (result.status, result.unmatched) == (MAY_PROCEED, 1)


def test_naive_action_times_and_duplicate_lines_are_programming_errors() -> None:
    naive = DispositionInput("EPA", 1, 1, "07", dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone"):
        coordinate(LINES[:1], [naive])
    with pytest.raises(ValueError, match="twice"):
        coordinate([LINES[0], LINES[0]], [])


def test_unknown_codes_are_not_a_final_answer() -> None:
    assert coordinate(LINES[:1], [d(LINES[0], "12", 0)]).status == PENDING


def test_as_dict_is_json_ready() -> None:
    body = coordinate(LINES, [d(LINES[0], "02", 0)]).as_dict()
    assert body["status"] == HOLD
    assert body["reasons"][0]["action_time"] == "2026-11-21T10:00:00+00:00"
    assert {a["agency_code"] for a in body["agencies"]} == {"EPA", "NHT", "FDA"}


# -- adapters from rows ----------------------------------------------------------------------


@dataclass
class Row:
    agency_code: str
    cbp_line_number: int
    pga_line_number: int
    entry_version: int
    superseded: bool
    program_code: str = "VNE"
    processing_code: str | None = None
    disclaimer: str | None = None
    header: dict[str, Any] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)


def test_current_lines_track_the_version_each_line_last_changed_in() -> None:
    rows = [
        Row("EPA", 1, 1, 1, True, records=[{"type": "PG07", "fields": {"vin": "A"}}]),
        Row("NHT", 1, 1, 1, True),
        Row("EPA", 1, 1, 2, True, records=[{"type": "PG07", "fields": {"vin": "B"}}]),
        Row("NHT", 1, 1, 2, True),
        Row("EPA", 1, 1, 3, False, records=[{"type": "PG07", "fields": {"vin": "B"}}]),
        Row("NHT", 1, 1, 3, False, disclaimer="A"),
        Row("FDA", 2, 1, 3, False),
    ]
    found = {line.agency_code: line for line in current_lines(rows)}
    assert found["EPA"].changed_in_version == 2
    assert (found["NHT"].changed_in_version, found["NHT"].disclaimed) == (3, True)
    assert found["FDA"].changed_in_version == 3


def test_dispositions_from_rows_keep_what_the_function_needs() -> None:
    @dataclass
    class Disp:
        agency_code: str = "EPA"
        program_code: str | None = "VNE"
        cbp_line_number: int = 1
        pga_line_number: int = 1
        status_code: str = "07"
        reason_code: str | None = "22"
        action_time: dt.datetime = T0
        entry_version: int = 2
        actor: str = "agency:x"
        remark: str | None = None

    [made] = dispositions_from_rows([Disp()])
    assert (made.entry_version, made.actor, made.reason_code) == (2, "agency:x", "22")


# -- properties ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(scenario(), st.randoms(use_true_random=False))
def test_arrival_order_never_matters(
    case: tuple[list[LineInput], list[DispositionInput]], rnd: Any
) -> None:
    lines, answers = case
    shuffled_answers = list(answers)
    rnd.shuffle(shuffled_answers)
    shuffled_lines = list(lines)
    rnd.shuffle(shuffled_lines)
    assert coordinate(shuffled_lines, shuffled_answers) == coordinate(lines, answers)


def outcome(result: Coordination) -> tuple[Any, ...]:
    """Everything that decides the answer (not the counts of answers seen)."""
    return (
        result.status,
        result.reasons,
        [(s.status, s.status_code, s.reason_code, s.action_time) for s in result.lines],
    )


@settings(max_examples=300, deadline=None)
@given(scenario(), st.sampled_from(sorted(HOLD_CODES)))
def test_a_later_release_lifts_a_hold_an_older_one_never_does(
    case: tuple[list[LineInput], list[DispositionInput]], hold: str
) -> None:
    lines, answers = case
    scoped = [line for line in lines if not line.disclaimed]
    if not scoped:
        return
    target = scoped[0]
    version = target.changed_in_version
    held = [*answers, d(target, hold, 100, version=version)]
    before = coordinate(lines, held)
    assert before.status in (HOLD, REJECTED)
    older = coordinate(lines, [*held, d(target, "07", 50, version=version)])
    assert outcome(older) == outcome(before)
    later = coordinate(lines, [*held, d(target, "07", 200, version=version)])
    rest = coordinate([line for line in lines if line != target], held)
    assert later.status == rest.status  # the target line no longer holds anything
    if before.status == HOLD and len(before.reasons) == 1:  # the target line was the only hold
        assert later.status in (PENDING, MAY_PROCEED)


@settings(max_examples=300, deadline=None)
@given(scenario())
def test_any_counted_rejection_rejects_the_entry(
    case: tuple[list[LineInput], list[DispositionInput]],
) -> None:
    lines, answers = case
    scoped = [line for line in lines if not line.disclaimed]
    if not scoped:
        return
    target = scoped[-1]
    rejected = [*answers, d(target, "04", 1000, version=target.changed_in_version)]
    result = coordinate(lines, rejected)
    assert result.status == REJECTED
    assert all(r.status_code == "04" for r in result.reasons)


@settings(max_examples=300, deadline=None)
@given(scenario(), st.sampled_from(CODES), st.integers(0, 2000))
def test_disclaimed_lines_never_block(
    case: tuple[list[LineInput], list[DispositionInput]], code: str, minutes: int
) -> None:
    lines, answers = case
    disclaimed = [line for line in lines if line.disclaimed]
    if not disclaimed:
        return
    before = coordinate(lines, answers)
    after = coordinate(lines, [*answers, d(disclaimed[0], code, minutes, version=9)])
    assert (after.status, after.reasons) == (before.status, before.reasons)


@settings(max_examples=300, deadline=None)
@given(scenario(), st.sampled_from(["04", *sorted(HOLD_CODES)]))
def test_adding_a_blocking_status_never_makes_it_better(
    case: tuple[list[LineInput], list[DispositionInput]], code: str
) -> None:
    lines, answers = case
    if not lines:
        return
    before = coordinate(lines, answers)
    blocking = outcome_of_code(code)
    for line in lines:
        after = coordinate(lines, [*answers, d(line, code, 1000, version=9)])
        if line.disclaimed:
            assert (after.status, after.reasons) == (before.status, before.reasons)
            continue
        # Never better than before, unless the line itself was worse (a later 02 after a 04
        # on the same line is a hold: the latest action time wins), and always blocked.
        assert OUTCOME_RANK[after.status] >= min(
            OUTCOME_RANK[before.status], OUTCOME_RANK[blocking]
        )
        assert OUTCOME_RANK[after.status] >= OUTCOME_RANK[blocking]
        if code == "04":
            assert after.status == REJECTED
