"""CATAIR parse throughput in records per second, against a baseline of splitting the same
text into 80-column slices (the least any fixed-width reader must do)."""

from __future__ import annotations

import time
from typing import Any

from gateway.pgams.catair import parse_catair
from tests.support.filings import sample_text


def _corpus(copies: int) -> str:
    return sample_text("two-lines-disclaimer") * copies


def _rate(fn: Any, text: str, records: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn(text)
        best = min(best, time.perf_counter() - started)
    return records / best


def _baseline(text: str) -> list[list[str]]:
    return [[line[i : i + 10] for i in range(0, 80, 10)] for line in text.splitlines()]


def run(copies: int = 500, repeat: int = 5) -> dict[str, Any]:
    text = _corpus(copies)
    records = text.count("\n")
    _lines, problems = parse_catair(text)
    assert not problems, problems[:3]
    ours = _rate(parse_catair, text, records, repeat)
    base = _rate(_baseline, text, records, repeat)
    return {
        "records": records,
        "records_per_second": round(ours),
        "baseline_split_records_per_second": round(base),
        "ratio_to_baseline": round(ours / base, 4),
    }
