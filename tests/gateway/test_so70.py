"""gateway.so70: SO70-style 80-column PGA status lines (reference §4.2)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway import so70
from gateway.coordination import DispositionInput, LineInput, coordinate

WHEN = dt.datetime(2016, 5, 26, 9, 19, tzinfo=dt.UTC)


def test_cbp_example_prefix_is_reproduced() -> None:
    record = so70.SO70Record(
        agency_code="FDA",
        program_code="DEV",
        action_time=WHEN,
        entry_status="01",
        text="DATA UNDER PGA REVIEW",
        entry_line_status="01",
        pga_line_status="01",
        reason_code=None,
        begin=so70.LinePosition(1, 1, 1),
        end=so70.LinePosition(1, 1, 1),
    )
    line = so70.render_record(record)
    assert len(line) == 80
    assert line.startswith("SO70FDADEV052616091901DATA UNDER PGA REVIEW")


def test_every_field_sits_at_its_positions() -> None:
    record = so70.SO70Record(
        agency_code="EPA",
        program_code="VNE",
        action_time=dt.datetime(2026, 11, 21, 5, 7, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        entry_status="06",
        text="DO NOT DEVAN AND A TEXT FAR TOO LONG FOR THE FIELD",
        entry_line_status="02",
        pga_line_status="01",
        reason_code="21",
        begin=so70.LinePosition(7, 1, 12),
        end=so70.LinePosition(123, 2, 3),
        document_type="AB123",
        hold=True,
    )
    line = so70.render_record(record)

    def at(first: int, last: int) -> str:  # 1-based inclusive, as in the reference
        return line[first - 1 : last]

    assert at(1, 4) == "SO70"
    assert (at(5, 7), at(8, 10)) == ("EPA", "VNE")
    assert (at(11, 16), at(17, 20)) == ("112126", "1007")  # 05:07 at -05:00 is 10:07 UTC
    assert at(21, 22) == "06"
    assert at(23, 50) == "DO NOT DEVAN AND A TEXT FAR "  # cut to 28
    assert (at(51, 52), at(53, 54), at(55, 56)) == ("02", "01", "21")
    assert (at(57, 59), at(60, 61), at(62, 64)) == ("007", "01", "012")
    assert (at(65, 67), at(68, 69), at(70, 72)) == ("123", "02", "003")
    assert (at(73, 77), at(78, 78), at(79, 80)) == ("AB123", "Y", "  ")


def test_level_mapping() -> None:
    assert [so70.entry_line_level(c) for c in ("01", "02", "04", "06", "07", "11", "12")] == [
        "01",
        "02",
        "04",
        "02",
        "07",
        "02",
        "01",
    ]
    assert [so70.pga_line_level(c) for c in ("01", "02", "04", "06", "07", "12")] == [
        "01",
        "01",
        "04",
        "01",
        "07",
        "01",
    ]


def test_lines_from_a_coordination_then_the_entry_summary() -> None:
    lines = [
        LineInput("EPA", "VNE", 1, 1),
        LineInput("NHT", "MVS", 1, 2),
        LineInput("FDA", "FOO", 2, 1, disclaimed=True),
    ]
    answers = [
        DispositionInput("NHT", 1, 2, "02", WHEN, "25"),
        DispositionInput("EPA", 1, 1, "07", WHEN - dt.timedelta(hours=1), "22"),
    ]
    text = so70.render(coordinate(lines, answers))
    rows = text.splitlines()
    assert all(len(row) == 80 for row in rows) and text.endswith("\n")
    parsed = [so70.parse_record(row) for row in rows]
    assert [(p.agency_code, p.entry_status, p.reason_code) for p in parsed] == [
        ("EPA", "07", "22"),  # earlier action time first
        ("NHT", "02", "25"),
        ("", "02", None),  # the entry-level summary: on hold
    ]
    assert parsed[1].hold and parsed[2].hold and not parsed[0].hold
    assert parsed[1].text == "HOLD INTACT"
    assert (parsed[1].entry_line_status, parsed[1].pga_line_status) == ("02", "01")
    assert parsed[2].begin == so70.LinePosition(1, 1, 1)
    assert parsed[2].end == so70.LinePosition(1, 1, 2)
    assert parsed[2].action_time == WHEN


def test_no_answer_yet_gives_only_the_summary_at_the_given_time() -> None:
    result = coordinate([LineInput("EPA", "VNE", 1, 1)], [])
    [row] = so70.render(result, as_of=WHEN).splitlines()
    parsed = so70.parse_record(row)
    assert (parsed.entry_status, parsed.text, parsed.action_time) == (
        "01",
        "DATA UNDER PGA REVIEW",
        WHEN,
    )
    assert so70.render(result, summary=False) == ""
    blank = so70.parse_record(so70.render(result).rstrip("\n"))
    assert blank.action_time is None


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="80-column"):
        so70.parse_record("SO70FDA")
    with pytest.raises(ValueError, match="fit"):
        so70.render_record(
            so70.SO70Record(
                "EPA",
                "VNE",
                None,
                "07",
                "",
                "07",
                "07",
                None,
                so70.LinePosition(1000, 1, 1),
                None,
            )
        )
    with pytest.raises(ValueError, match="timezone"):
        so70.render_record(
            so70.SO70Record(
                "EPA", "VNE", dt.datetime(2026, 1, 1), "07", "", "07", "07", None, None, None
            )
        )


positions = st.builds(
    so70.LinePosition, st.integers(0, 999), st.integers(0, 99), st.integers(0, 999)
)
code = st.sampled_from(["01", "02", "04", "06", "07", "08", "10", "11", "13"])


@given(
    st.builds(
        so70.SO70Record,
        agency_code=st.from_regex(r"[A-Z]{3}", fullmatch=True),
        program_code=st.from_regex(r"[A-Z]{3}", fullmatch=True),
        action_time=st.datetimes(
            min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2068, 12, 31)
        ).map(lambda t: t.replace(second=0, microsecond=0, tzinfo=dt.UTC)),
        entry_status=code,
        text=st.from_regex(r"[A-Z0-9][A-Z0-9 /-]{0,26}[A-Z0-9]", fullmatch=True),
        entry_line_status=code,
        pga_line_status=code,
        reason_code=st.none() | st.from_regex(r"[0-9]{2}", fullmatch=True),
        begin=st.none() | positions,
        end=st.none() | positions,
        document_type=st.from_regex(r"[A-Z0-9]{0,5}", fullmatch=True),
        hold=st.booleans(),
    )
)
def test_round_trip(record: so70.SO70Record) -> None:
    line = so70.render_record(record)
    assert len(line) == 80
    assert so70.parse_record(line) == record
