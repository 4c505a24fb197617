from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from gateway.errors import ConfigurationError
from gateway.pgams.layouts import build_layouts, layouts

EVERY_RECORD = [
    "OI",
    "PG00",
    "PG01",
    "PG02",
    "PG04",
    "PG05",
    "PG06",
    "PG07",
    "PG08",
    "PG10",
    "PG13",
    "PG14",
    *[f"PG{n}" for n in range(17, 36)],
    "PG50",
    "PG51",
    "PG55",
    "PG60",
]


def _document() -> dict[str, Any]:
    text = resources.files("gateway").joinpath("data/pg_layouts.json").read_text("utf-8")
    return json.loads(text)


def test_every_record_of_the_reference_has_a_layout() -> None:
    assert sorted(layouts()) == sorted(EVERY_RECORD)
    assert len(layouts()) == 35


def test_pg01_field_names_and_positions() -> None:
    pg01 = layouts()["PG01"].by_name
    expected = {
        "pga_line_number": (5, 7),
        "agency_code": (8, 10),
        "program_code": (11, 13),
        "processing_code": (14, 16),
        "electronic_image_submitted": (17, 17),
        "confidential_information_indicator": (18, 18),
        "global_product_id_qualifier": (19, 22),
        "global_product_id": (23, 41),
        "intended_use_code": (42, 57),
        "intended_use_description": (58, 78),
        "correction_indicator": (79, 79),
        "disclaimer": (80, 80),
    }
    assert {n: (f.start, f.end) for n, f in pg01.items()} == expected
    assert layouts()["OI"].by_name["description"].start == 11


def test_each_layout_tiles_positions_1_to_80() -> None:
    for record_type, layout in layouts().items():
        covered = set(range(1, len(record_type) + 1))
        for spec in layout.fields:
            span = set(range(spec.start, spec.end + 1))
            assert not covered & span, (record_type, spec.name)
            covered |= span
        for start, end in layout.fillers:
            covered |= set(range(start, end + 1))
        assert covered == set(range(1, 81)), record_type


def test_special_kinds() -> None:
    assert layouts()["PG07"].by_name["manufacture_date"].kind == "month_year"
    assert layouts()["PG30"].by_name["time"].kind == "time"
    assert layouts()["PG26"].by_name["quantity"].decimals == 2
    assert layouts()["PG14"].by_name["lpco_quantity"].decimals == 4


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["records"]["PG02"]["fields"][1].update(start=5), "overlaps"),
        (lambda d: d["records"]["PG02"]["fillers"].clear(), "not covered"),
        (lambda d: d["records"]["PG13"]["fields"][0].update(end=38), "gap"),
        (lambda d: d["records"]["PG30"]["fields"][1].update(type="time"), "needs 4"),
    ],
)
def test_inconsistent_table_is_refused_at_load(mutate: Any, message: str) -> None:
    document = copy.deepcopy(_document())
    mutate(document)
    with pytest.raises(ConfigurationError, match=message):
        build_layouts(document)
