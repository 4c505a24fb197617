from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.pgams.catair import (
    decode_record,
    encode_record,
    parse_catair,
    parse_records,
    render_catair,
)
from gateway.pgams.layouts import FieldSpec, layouts

from .conftest import pad

VALID = ["aphis-lacey-oak", "fda-frozen-shrimp", "two-lines-disclaimer", "vehicle-epa-nhtsa"]
SHRIMP_HEAD = ["OI        FROZEN SHRIMP", "PG01001FDAFOO", "PG02PFDP 16AGT99"]


@pytest.mark.parametrize("name", VALID)
def test_valid_samples_parse_to_expected_pga_lines(samples_dir: Path, name: str) -> None:
    expected = json.loads((samples_dir / f"{name}.expected.json").read_text())
    lines, problems = parse_catair((samples_dir / f"{name}.txt").read_text())
    assert problems == []
    got = [
        {
            "cbp_line": line.line_number,
            "agency": p.agency_code,
            "program": p.program_code,
            "pga_line": p.pga_line_number,
            **({"disclaimer": p.disclaimer} if p.disclaimer else {}),
        }
        for line in lines
        for p in line.pga_lines
    ]
    assert got == expected["pga_lines"]


@pytest.mark.parametrize("name", VALID)
def test_valid_samples_round_trip_byte_for_byte(samples_dir: Path, name: str) -> None:
    text = (samples_dir / f"{name}.txt").read_text()
    lines, _ = parse_catair(text)
    assert render_catair(lines) == text


def test_invalid_sample_gives_p03_at_record_2(samples_dir: Path) -> None:
    expected = json.loads((samples_dir / "invalid-missing-pg01.expected.json").read_text())
    _, problems = parse_catair((samples_dir / "invalid-missing-pg01.txt").read_text())
    assert [{"code": p.code, "record": p.record} for p in problems] == expected["errors"]


def test_typed_values_of_the_shrimp_sample(samples_dir: Path) -> None:
    lines, _ = parse_catair((samples_dir / "fda-frozen-shrimp.txt").read_text())
    pga = lines[0].pga_lines[0]
    assert lines[0].description == "FROZEN PEELED SHRIMP, 26/30 COUNT, 2 KG BAGS"
    assert pga.header["intended_use_code"] == "100.000"
    assert pga.header["agency_code"] == "FDA"
    by_type = [(r.type, r.fields) for r in pga.records]
    assert by_type[0] == (
        "PG02",
        {"item_type": "P", "product_code_qualifier_1": "FDP", "product_code_number_1": "16AGT99"},
    )
    pg26 = [f for t, f in by_type if t == "PG26"]
    assert pg26[0] == {
        "packaging_qualifier": 1,
        "quantity": Decimal("1200.00"),
        "unit_of_measure": "CT",
    }
    pg30 = next(f for t, f in by_type if t == "PG30")
    assert pg30 == {
        "status": "A",
        "date": dt.date(2026, 12, 1),
        "time": "14:30",
        "location_code": "3",
        "location": "USHOU",
    }
    pg25 = next(f for t, f in by_type if t == "PG25")
    assert pg25["pga_line_value"] == 48000


def test_month_year_kind() -> None:
    record, problems = decode_record(1, "PG07".ljust(54) + "002026".ljust(26))
    assert problems == [] and record is not None
    assert record.fields == {"manufacture_date": "2026"}
    assert encode_record("PG07", {"manufacture_date": "2026-06"})[54:60] == "062026"


def test_crlf_and_trimmed_lines_are_accepted_and_rendered_canonically() -> None:
    text = "\r\n".join(r.rstrip() for r in SHRIMP_HEAD) + "\r\n"
    lines, problems = parse_catair(text)
    assert problems == []
    assert render_catair(lines) == pad(*SHRIMP_HEAD)


def test_no_final_newline_is_accepted() -> None:
    _, problems = parse_catair(pad(*SHRIMP_HEAD).rstrip("\n"))
    assert problems == []


@pytest.mark.parametrize(
    ("text", "record", "positions", "fragment"),
    [
        (pad(*SHRIMP_HEAD[:2]) + "PG02PFDP 16AGT99".ljust(81) + "\n", 3, "81-81", "81 characters"),
        (pad(SHRIMP_HEAD[0]) + "PG01001FDA\tFOO\n", 2, "11", "control character"),
        (pad(SHRIMP_HEAD[0]) + "PG01001FDAFOO\rX\n", 2, "14", "control character"),
        (pad(SHRIMP_HEAD[0]) + "PG01001FDAFOO\x00\n", 2, "14", "control character"),
        (pad(SHRIMP_HEAD[0]) + "PG01001FDAFOÖ\n", 2, "13", "non-ASCII"),
        (pad(SHRIMP_HEAD[0]) + "\n" + pad(*SHRIMP_HEAD[1:]), 2, None, "blank line"),
        (pad(*SHRIMP_HEAD, "PG03X"), 4, "1-4", "unknown record identifier 'PG03'"),
        (pad(*SHRIMP_HEAD, "XX01X"), 4, "1-2", "unknown record identifier 'XX01'"),
    ],
)
def test_framing_errors_are_located(
    text: str, record: int, positions: str | None, fragment: str
) -> None:
    _, problems = parse_catair(text)
    framing = [p for p in problems if p.record == record]
    assert framing, problems
    assert framing[0].positions == positions
    assert fragment in framing[0].message


@pytest.mark.parametrize(
    ("record_text", "field", "positions", "code"),
    [
        ("PG26100000012X000CT", "quantity", "6-17", None),
        ("PG30A0230202614303", "date", "6-13", None),
        ("PG30A1201202625003", "time", "14-17", None),
        ("PG301", "status", "5", None),
        ("PG02C FDP", "product_code_qualifier_1", "6-9", None),
        ("PG02CFDP 16AGT99".ljust(76, " ") + "X", None, "75-80", None),
        ("PG19   47 3012345678", "entity_role_code", "5-7", "P12"),
        ("PG23     12345", "aoc_code", "5-9", "P14"),
        ("PG27", "container_number_1", "5-24", "P18"),
        ("PG30 12012026", "status", "5", "P19"),
        ("PG26 000000120000CT", "packaging_qualifier", "5", "P16"),
        ("PG02 FDP 16AGT99", "item_type", "5", "P07"),
    ],
)
def test_field_errors_name_field_and_positions(
    record_text: str, field: str | None, positions: str, code: str | None
) -> None:
    _, problems = parse_catair(pad(*SHRIMP_HEAD, record_text))
    located = [p for p in problems if p.record == 4]
    assert len(located) == 1, problems
    assert (located[0].field, located[0].positions, located[0].code) == (field, positions, code)
    assert "record 4" in located[0].message.lower()


def test_missing_pg01_mandatory_fields_carry_cbp_codes() -> None:
    _, problems = parse_catair(pad(SHRIMP_HEAD[0], "PG01"))
    assert {(p.code, p.field) for p in problems} == {
        ("P04", "pga_line_number"),
        ("P05", "agency_code"),
        ("P06", "program_code"),
    }


def test_all_problems_are_reported_at_once() -> None:
    text = pad("PG02PFDP", "OI        X", "PG01001FDAFOO", "PG08A", "PG30Z1301202600003", "PG03")
    _, problems = parse_catair(text)
    summary = [(p.record, p.code, p.field) for p in problems]
    assert (1, "P01", None) in summary
    assert (4, "P28", None) in summary
    assert (5, None, "date") in summary
    assert (5, None, "time") in summary
    assert (5, "P20", "status") in summary
    assert (6, None, None) in summary


def test_x_field_leading_blanks_survive_round_trip() -> None:
    text = pad(SHRIMP_HEAD[0], "PG01001FDAFOO", "PG10                     INDENTED")
    lines, problems = parse_catair(text)
    assert problems == []
    assert lines[0].pga_lines[0].records[0].fields["characteristic_description"] == "  INDENTED"
    assert render_catair(lines) == text


def test_empty_text_is_a_problem() -> None:
    records, problems = parse_records("")
    assert records == [] and len(problems) == 1


# -- property: every layout, random valid values --------------------------------------------

_PRINTABLE = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126))
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _value(spec: FieldSpec) -> st.SearchStrategy[object]:
    width = spec.width
    if spec.kind == "int":
        return st.integers(0, 10**width - 1)
    if spec.kind == "decimal":
        return st.integers(0, 10**width - 1).map(lambda n: Decimal(n).scaleb(-spec.decimals))
    if spec.kind == "date":
        return st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))
    if spec.kind == "month_year":
        year = st.integers(1, 9999).map(lambda y: f"{y:04d}")
        return st.one_of(
            year, st.tuples(year, st.integers(1, 12)).map(lambda t: f"{t[0]}-{t[1]:02d}")
        )
    if spec.kind == "time":
        return st.sampled_from(["00:01", "12:30", "23:59", "24:00", "09:05"])
    alphabet = _LETTERS if spec.cls == "A" else _LETTERS + "0123456789"
    if spec.cls == "X":
        return _PRINTABLE.filter(lambda s: len(s) <= width and s.strip() != "").map(
            lambda s: s.rstrip()
        )
    return st.text(alphabet=alphabet, min_size=1, max_size=width)


@st.composite
def _record(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    record_type = draw(st.sampled_from(sorted(layouts())))
    fields: dict[str, object] = {}
    for spec in layouts()[record_type].fields:
        if spec.mandatory or draw(st.booleans()):
            fields[spec.name] = draw(_value(spec))
    return record_type, fields


@settings(max_examples=400, deadline=None)
@given(_record())
def test_every_layout_round_trips_random_values(record: tuple[str, dict[str, object]]) -> None:
    record_type, fields = record
    line = encode_record(record_type, fields)  # type: ignore[arg-type]
    assert len(line) == 80
    decoded, problems = decode_record(1, line)
    assert problems == []
    assert decoded is not None and decoded.fields == fields
    assert encode_record(record_type, decoded.fields) == line
