"""Shared helpers for the PGA Message Set tests: where the shared CATAIR samples live."""

from __future__ import annotations

from pathlib import Path

import pytest


def _shared_samples() -> Path | None:
    for parent in Path(__file__).resolve().parents:
        if parent.name == "main":
            candidate = parent.parent / "shared" / "samples" / "catair"
            return candidate if candidate.is_dir() else None
    return None


SAMPLES = _shared_samples()


@pytest.fixture
def samples_dir() -> Path:
    if SAMPLES is None:
        pytest.skip("shared CATAIR samples (../shared/samples/catair next to the repo) absent")
    return SAMPLES


def pad(*records: str) -> str:
    """80-column LF-terminated CATAIR text from short record strings."""
    return "".join(r.ljust(80) + "\n" for r in records)
