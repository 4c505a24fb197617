"""Filings for tests, built from the shared CATAIR samples."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SAMPLES = SHARED / "samples" / "catair"
VALID_SAMPLES = [
    "aphis-lacey-oak",
    "fda-frozen-shrimp",
    "two-lines-disclaimer",
    "vehicle-epa-nhtsa",
]


def entry_number(filer: str, serial: int) -> str:
    # The gateway checks the format only (the check-digit algorithm is not confirmed from CBP
    # material), so any final digit is valid; derive one so numbers stay distinct per serial.
    return f"{filer}{serial:07d}{serial % 10}"


def sample_text(name: str) -> str:
    return (SAMPLES / f"{name}.txt").read_text()


def split_lines(catair: str) -> list[str]:
    """One CATAIR chunk per tariff line: each OI and the records after it."""
    chunks: list[list[str]] = []
    for record in catair.splitlines():
        if record.startswith("OI") or not chunks:
            chunks.append([])
        chunks[-1].append(record)
    return ["\n".join(chunk) + "\n" for chunk in chunks]


def sample_filing(name: str, *, filer: str = "ABC", serial: int = 1234567) -> dict[str, Any]:
    lines = [
        {
            "line_number": i,
            "hts_number": "0306170040",
            "country_of_origin": "VN",
            "value": "48000.00",
            "catair": chunk,
        }
        for i, chunk in enumerate(split_lines(sample_text(name)), start=1)
    ]
    return {
        "entry_number": entry_number(filer, serial),
        "filer_code": filer,
        "entry_type": "01",
        "port_of_entry": "5301",
        "importer_of_record": "12-3456789AB",
        "mode_of_transport": "11",
        "estimated_arrival": "2026-12-01",
        "lines": lines,
    }


def with_changes(filing: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(filing)
    changed.update(changes)
    return changed
