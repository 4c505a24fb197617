from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.pgams.catair import parse_catair, render_catair
from gateway.pgams.jsonmap import (
    catair_document,
    catair_document_from_json,
    filing_from_json,
    filing_to_json,
    pga_line_from_json,
    pga_line_to_json,
)

from .conftest import pad

SHRIMP = pad(
    "OI        FROZEN SHRIMP",
    "PG01001FDAFOO",
    "PG02PFDP 16AGT99",
    "PG261000000120000CT",
    "PG30A1201202614303   USHOU",
)


def _filing(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "entry_number": "ABC-1234567-8",
        "filer_code": "ABC",
        "entry_type": "01",
        "port_of_entry": "2704",
        "importer_of_record": "GULF COAST SEAFOOD",
        "mode_of_transport": "11",
        "estimated_arrival": "2026-12-01",
        "lines": [
            {
                "line_number": 1,
                "catair": SHRIMP,
                "hts_number": "0306170040",
                "country_of_origin": "VN",
                "value": "48000.00",
            },
            {
                "line_number": 2,
                "description": "ATV",
                "pga_lines": [
                    {
                        "pga_line_number": 1,
                        "agency_code": "EPA",
                        "program_code": "VNE",
                        "header": {},
                        "records": [
                            {
                                "type": "PG07",
                                "fields": {
                                    "trade_name": "TRAILMASTER",
                                    "manufacture_date": "2026-06",
                                },
                            }
                        ],
                    }
                ],
            },
        ],
    }
    base.update(changes)
    return base


def test_pga_line_json_shape() -> None:
    lines, _ = parse_catair(SHRIMP)
    out = pga_line_to_json(lines[0].pga_lines[0])
    assert out == {
        "pga_line_number": 1,
        "agency_code": "FDA",
        "program_code": "FOO",
        "header": {},
        "records": [
            {
                "type": "PG02",
                "fields": {
                    "item_type": "P",
                    "product_code_qualifier_1": "FDP",
                    "product_code_number_1": "16AGT99",
                },
            },
            {
                "type": "PG26",
                "fields": {
                    "packaging_qualifier": 1,
                    "quantity": "1200.00",
                    "unit_of_measure": "CT",
                },
            },
            {
                "type": "PG30",
                "fields": {
                    "status": "A",
                    "date": "2026-12-01",
                    "time": "14:30",
                    "location_code": "3",
                    "location": "USHOU",
                },
            },
        ],
    }


def test_pga_line_from_json_accepts_numbers_and_nulls() -> None:
    obj = {
        "pga_line_number": 1,
        "agency_code": "FDA",
        "program_code": "FOO",
        "disclaimer": None,
        "header": {"intended_use_code": "100.000"},
        "records": [{"type": "PG26", "fields": {"packaging_qualifier": 1, "quantity": 0.1}}],
    }
    pga, problems = pga_line_from_json(obj)
    assert problems == [] and pga is not None
    assert pga.records[0].fields["quantity"] == Decimal("0.10")
    assert pga.header["intended_use_code"] == "100.000"


def test_filing_round_trip() -> None:
    filing, problems = filing_from_json(_filing())
    assert problems == [] and filing is not None
    assert filing.entry_number == "ABC12345678"
    assert filing.estimated_arrival == dt.date(2026, 12, 1)
    assert filing.lines[0].description == "FROZEN SHRIMP"
    assert filing.lines[0].value == Decimal("48000.00")
    assert filing.agencies() == ["FDA", "EPA"]
    as_json = json.loads(json.dumps(filing_to_json(filing)))
    again, problems = filing_from_json(as_json)
    assert problems == [] and again == filing


def test_catair_document_round_trip(samples_dir: Path) -> None:
    for sample in ("fda-frozen-shrimp", "two-lines-disclaimer", "vehicle-epa-nhtsa"):
        text = (samples_dir / f"{sample}.txt").read_text()
        lines, _ = parse_catair(text)
        document = json.loads(json.dumps(catair_document(lines)))
        back, problems = catair_document_from_json(document)
        assert problems == []
        assert back == lines
        assert render_catair(back) == text


@pytest.mark.parametrize(
    ("path", "value", "location"),
    [
        (("entry_number",), "AB-1", "/entry_number"),
        (("filer_code",), "XYZ", "/filer_code"),
        (("entry_type",), "1", "/entry_type"),
        (("port_of_entry",), 2704, "/port_of_entry"),
        (("estimated_arrival",), "12/01/2026", "/estimated_arrival"),
        (("surprise",), 1, "/surprise"),
        (("lines", 0, "hts_number"), "0306.17", "/lines/0/hts_number"),
        (("lines", 0, "country_of_origin"), "vn", "/lines/0/country_of_origin"),
        (("lines", 0, "value"), "-1", "/lines/0/value"),
        (("lines", 0, "description"), "OTHER", "/lines/0/description"),
        (("lines", 1, "line_number"), 3, "/lines/1/line_number"),
        (
            ("lines", 1, "pga_lines", 0, "records", 0, "fields", "trade_name"),
            "X" * 36,
            "/lines/1/pga_lines/0/records/0/fields/trade_name",
        ),
        (
            ("lines", 1, "pga_lines", 0, "records", 0, "fields", "manufacture_date"),
            "2026-13",
            "/lines/1/pga_lines/0/records/0/fields/manufacture_date",
        ),
        (
            ("lines", 1, "pga_lines", 0, "records", 0, "fields", "colour"),
            "RED",
            "/lines/1/pga_lines/0/records/0/fields/colour",
        ),
        (
            ("lines", 1, "pga_lines", 0, "header", "global_product_id_qualifier"),
            5,
            "/lines/1/pga_lines/0/header/global_product_id_qualifier",
        ),
        (("lines", 1, "pga_lines", 0, "program_code"), "ZZZ", "/lines/1/pga_lines/0/program_code"),
    ],
)
def test_filing_problems_are_located(path: tuple[Any, ...], value: Any, location: str) -> None:
    obj = _filing()
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    filing, problems = filing_from_json(obj)
    assert filing is None
    assert [p.location for p in problems] == [location], problems


def test_catair_line_problems_keep_the_record_index() -> None:
    obj = _filing()
    obj["lines"][0]["catair"] = pad("OI        FROZEN SHRIMP", "PG02PFDP 16AGT99")
    _, problems = filing_from_json(obj)
    assert [(p.code, p.record, p.location) for p in problems] == [("P03", 2, "/lines/0/catair")]


def test_catair_line_with_two_oi_is_p42() -> None:
    obj = _filing()
    obj["lines"][0]["catair"] = SHRIMP + SHRIMP
    _, problems = filing_from_json(obj)
    assert [(p.code, p.record) for p in problems] == [("P42", 6)]


def test_line_needs_exactly_one_of_catair_or_pga_lines() -> None:
    obj = _filing()
    obj["lines"][1]["catair"] = SHRIMP
    _, problems = filing_from_json(obj)
    assert [p.location for p in problems] == ["/lines/1"]


def test_structured_lines_get_structural_rules() -> None:
    obj = _filing()
    obj["lines"][1]["pga_lines"][0]["records"].insert(0, {"type": "PG08", "fields": {}})
    obj["lines"][1]["pga_lines"].append(
        {"pga_line_number": 3, "agency_code": "EPA", "program_code": "VNE"}
    )
    _, problems = filing_from_json(obj)
    assert sorted((p.code or "", p.location or "") for p in problems) == [
        ("", "/lines/1/pga_lines/1/pga_line_number"),
        ("P28", "/lines/1/pga_lines/0/records/0"),
    ]


def test_substitution_numbers_span_the_whole_filing() -> None:
    obj = _filing()
    obj["lines"][0]["catair"] = pad(
        "OI        FROZEN SHRIMP", "PG00S0001", "PG01001FDAFOO", "PG02PFDP 16AGT99", "PG00E"
    )
    obj["lines"][1]["leading_records"] = [
        {"type": "PG00", "fields": {"substitution_action": "S", "substitution_number": "0001"}}
    ]
    obj["lines"][1]["pga_lines"][0]["records"].append(
        {"type": "PG00", "fields": {"substitution_action": "E"}}
    )
    _, problems = filing_from_json(obj)
    assert [p.location for p in problems] == [
        "/lines/1/leading_records/0/fields/substitution_number"
    ]
    assert "already used" in problems[0].message


def test_wrong_json_types_are_problems_not_exceptions() -> None:
    for bad in (None, [], "x", {"lines": "x"}, {"lines": [1]}, {"lines": [{"pga_lines": 5}]}):
        filing, problems = filing_from_json(bad)
        assert filing is None and problems
    lines, problems = catair_document_from_json(
        {"lines": [{"line_number": 1, "description": "X", "pga_lines": [{"records": 3}]}]}
    )
    assert lines == [] and {p.location for p in problems} >= {
        "/lines/0/pga_lines/0/records",
        "/lines/0/pga_lines/0/pga_line_number",
    }


def test_model_to_json_to_model_is_identity_for_a_deep_copy() -> None:
    lines, _ = parse_catair(SHRIMP)
    document = catair_document(lines)
    back, _ = catair_document_from_json(copy.deepcopy(document))
    assert catair_document(back) == document
