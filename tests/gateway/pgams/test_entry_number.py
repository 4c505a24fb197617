from __future__ import annotations

import pytest

import gateway.pgams.entry_number as entry_number
from gateway.pgams.entry_number import normalize_entry_number, validate_entry_number


def test_normalizes_dashed_and_lowercase() -> None:
    assert normalize_entry_number("ABC-1234567-8") == "ABC12345678"
    assert normalize_entry_number(" abc12345678 ") == "ABC12345678"


@pytest.mark.parametrize(
    "value", ["ABC123456789", "AB-1234567-8", "ABC-12345A7-8", "A#C12345678", "ABC-1234567-X", ""]
)
def test_rejects_malformed(value: str) -> None:
    problems = validate_entry_number(value, "/entry_number")
    assert len(problems) == 1
    assert problems[0].location == "/entry_number"


def test_filer_code_000_and_non_strings_are_rejected() -> None:
    assert len(validate_entry_number("000-1234567-1")) == 1
    assert validate_entry_number(12345678901)[0].message == "entry_number must be a string"


def test_valid_formats_for_every_filer_code_pattern() -> None:
    for filer in ("001", "A01", "AB1", "ABC", "A1B", "1A1", "11A", "1AB"):
        assert validate_entry_number(f"{filer}-1234567-0") == []


def test_check_digit_is_not_guessed() -> None:
    # The Appendix E procedure could not be confirmed from CBP material: no calculator exists.
    assert not hasattr(entry_number, "compute_check_digit")
