"""Helpers for the agency plugin tests: filings from the shared samples or from records."""

from __future__ import annotations

from typing import Any

import pytest

from agencies.contract import AgencyLine, AgencyPlugin
from agencies.registry import AgencyRegistry, load_registry
from gateway.errors import Problem
from gateway.pgams.catair import encode_record, parse_catair
from gateway.pgams.model import Filing
from tests.support.filings import SAMPLES, VALID_SAMPLES

__all__ = ["VALID_SAMPLES", "filing_of", "rec", "sample_filing", "sample_records"]


def rec(record_type: str, **fields: Any) -> str:
    """One 80-column record built from layout field names."""
    return encode_record(record_type, fields)


def filing_of(*records: str, entry_type: str = "01") -> Filing:
    """A filing from CATAIR records; the records must pass the gateway's structural rules."""
    text = "".join(r.ljust(80) + "\n" for r in records)
    lines, problems = parse_catair(text)
    assert problems == [], problems
    return Filing(
        entry_number="ABC12345670",
        filer_code="ABC",
        entry_type=entry_type,
        port_of_entry="5301",
        importer_of_record="X",
        lines=lines,
    )


def sample_records(name: str) -> list[str]:
    assert SAMPLES.is_dir(), f"shared CATAIR samples missing: {SAMPLES}"
    return (SAMPLES / f"{name}.txt").read_text().splitlines()


def sample_filing(name: str) -> Filing:
    return filing_of(*sample_records(name))


def without(records: list[str], prefix: str) -> list[str]:
    """The records minus every one starting with ``prefix``."""
    return [r for r in records if not r.startswith(prefix)]


def replaced(records: list[str], prefix: str, new: str) -> list[str]:
    """The records with the first one starting with ``prefix`` replaced by ``new``."""
    index = next(i for i, r in enumerate(records) if r.startswith(prefix))
    return [*records[:index], new, *records[index + 1 :]]


def check(plugin: AgencyPlugin, *records: str, entry_type: str = "01") -> list[Problem]:
    """The plugin's problems for a filing, seen through a registry holding only it."""
    return AgencyRegistry([plugin]).validate_filing(filing_of(*records, entry_type=entry_type))


def first_line(plugin: AgencyPlugin, filing: Filing) -> AgencyLine:
    return AgencyRegistry([plugin]).agency_lines(filing, plugin.code)[0]


@pytest.fixture(scope="session")
def registry() -> AgencyRegistry:
    return load_registry()
