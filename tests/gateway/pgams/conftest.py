"""Shared helpers for the PGA Message Set tests: where the shared CATAIR samples live."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.filings import SHARED

SAMPLES = SHARED / "samples" / "catair"


@pytest.fixture
def samples_dir() -> Path:
    # CI clones the repository with shared/ beside it; a missing folder is a broken checkout,
    # not a reason to skip the acceptance samples.
    assert SAMPLES.is_dir(), f"shared CATAIR samples missing: {SAMPLES}"
    return SAMPLES


def pad(*records: str) -> str:
    """80-column LF-terminated CATAIR text from short record strings."""
    return "".join(r.ljust(80) + "\n" for r in records)
