"""The CATAIR record layouts (``gateway/data/pg_layouts.json``), loaded and checked once.

The JSON file is the single table of every OI/PGnn layout; this module only turns it into
typed objects and refuses to start if the table is inconsistent (gaps, overlaps, a field
whose width cannot hold its type), because a wrong position silently corrupts every record.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from gateway.errors import ConfigurationError

RECORD_LENGTH = 80
FieldClass = Literal["A", "AN", "N", "X"]
FieldStatus = Literal["M", "C", "O"]
FieldKind = Literal["text", "int", "decimal", "date", "month_year", "time"]

_CLASSES = {"A", "AN", "N", "X"}
_STATUSES = {"M", "C", "O"}
# Kinds stored in N fields and the exact width their encoding needs (None = any width).
_NUMERIC_KINDS: dict[str, int | None] = {
    "int": None,
    "decimal": None,
    "date": 8,
    "month_year": 6,
    "time": 4,
}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    start: int  # 1-based, inclusive
    end: int  # 1-based, inclusive
    cls: FieldClass
    status: FieldStatus
    kind: FieldKind
    decimals: int = 0
    missing_code: str | None = None  # CBP error code when a mandatory field is blank

    @property
    def width(self) -> int:
        return self.end - self.start + 1

    @property
    def positions(self) -> str:
        return f"{self.start}-{self.end}" if self.end != self.start else str(self.start)

    @property
    def mandatory(self) -> bool:
        return self.status == "M"

    def slice(self, line: str) -> str:
        return line[self.start - 1 : self.end]


@dataclass(frozen=True)
class RecordLayout:
    record_type: str  # "OI", "PG01", ...
    fields: tuple[FieldSpec, ...]
    fillers: tuple[tuple[int, int], ...]

    @functools.cached_property
    def by_name(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.fields}


def _field(raw: dict[str, Any], record_type: str) -> FieldSpec:
    spec = FieldSpec(
        name=raw["name"],
        start=int(raw["start"]),
        end=int(raw["end"]),
        cls=raw["class"],
        status=raw["status"],
        kind=raw["type"],
        decimals=int(raw.get("decimals", 0)),
        missing_code=raw.get("missing_code"),
    )
    where = f"{record_type}.{spec.name}"
    if spec.cls not in _CLASSES or spec.status not in _STATUSES:
        raise ConfigurationError(f"layout {where}: bad class or status")
    if spec.kind == "text" and spec.cls == "N":
        raise ConfigurationError(f"layout {where}: N field must have a numeric type")
    if spec.kind != "text":
        if spec.cls != "N" or spec.kind not in _NUMERIC_KINDS:
            raise ConfigurationError(f"layout {where}: type {spec.kind} needs class N")
        width = _NUMERIC_KINDS[spec.kind]
        if width is not None and spec.width != width:
            raise ConfigurationError(f"layout {where}: {spec.kind} needs {width} positions")
    if (spec.kind == "decimal") != (spec.decimals > 0) or spec.decimals >= spec.width:
        raise ConfigurationError(f"layout {where}: decimals only for decimal fields")
    return spec


def _check_coverage(layout: RecordLayout) -> None:
    """Identifier + fields + fillers must tile positions 1..80 exactly once."""
    spans = [(1, len(layout.record_type), "record identifier")]
    spans += [(f.start, f.end, f.name) for f in layout.fields]
    spans += [(s, e, "filler") for s, e in layout.fillers]
    expected_start = 1
    for start, end, name in sorted(spans):
        if start > end:
            raise ConfigurationError(f"layout {layout.record_type}.{name}: start after end")
        if start != expected_start:
            problem = "overlaps" if start < expected_start else "leaves a gap before"
            raise ConfigurationError(
                f"layout {layout.record_type}: {name} at {start}-{end} {problem} "
                f"position {expected_start}"
            )
        expected_start = end + 1
    if expected_start != RECORD_LENGTH + 1:
        raise ConfigurationError(
            f"layout {layout.record_type}: positions {expected_start}-80 not covered"
        )


def build_layouts(document: dict[str, Any]) -> dict[str, RecordLayout]:
    """Turn the JSON table into layouts, raising ConfigurationError on any inconsistency."""
    layouts: dict[str, RecordLayout] = {}
    for record_type, raw in document["records"].items():
        if not (record_type == "OI" or (record_type.startswith("PG") and len(record_type) == 4)):
            raise ConfigurationError(f"layout {record_type}: not OI or PGnn")
        fields = tuple(_field(f, record_type) for f in raw["fields"])
        names = [f.name for f in fields]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"layout {record_type}: duplicate field names")
        fillers = tuple((int(s), int(e)) for s, e in raw["fillers"])
        layout = RecordLayout(record_type, fields, fillers)
        _check_coverage(layout)
        layouts[record_type] = layout
    return layouts


@functools.cache
def layouts() -> dict[str, RecordLayout]:
    """Every record layout by record type, loaded and validated once per process."""
    text = resources.files("gateway").joinpath("data/pg_layouts.json").read_text("utf-8")
    return build_layouts(json.loads(text))


def layout_for(record_type: str) -> RecordLayout | None:
    return layouts().get(record_type)
