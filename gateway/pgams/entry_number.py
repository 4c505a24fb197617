"""CBP entry numbers: 3-character entry filer code + 7-digit transaction number + check digit.

Format per CATAIR Appendix E "Valid Entry Numbers" (public copies, e.g.
https://info.5y1.org/mod-10-algorithm-calculator_1_21ff8e.html and
online.documentine.com "ACE CATAIR Appendix E: Valid Entry Numbers", May 2012 / Jan 2018):
entry numbers appear as XXX-NNNNNNN-C; the filer code is 3 positions, each alphabetic or
numeric, no special characters, in one of the formats NNN (001-999), ANN, AAN, AAA, ANA, NAN,
NNA, NAA; the transaction number is 7 digits; C is a check digit computed on the first 10.

CHECK DIGIT NOT VERIFIED: the public copies we could search stop before Appendix E's
check-digit procedure and its worked example, so the calculation could not be confirmed from
CBP material (a third-party transcription exists, but no CBP text to check it against). Only
the format is validated here: the 11th character must be a digit. ``compute_check_digit`` is
deliberately not provided; add it together with a test on CBP's published example.
"""

from __future__ import annotations

import re

from gateway.errors import Problem

_ENTRY_NUMBER = re.compile(r"([A-Z0-9]{3})-?(\d{7})-?(\d)")
_FILER_CODE = re.compile(r"[A-Z0-9]{3}")


def normalize_entry_number(value: str) -> str:
    """ "ABC-1234567-8" or "abc12345678" -> "ABC12345678"; ValueError if not that shape."""
    match = _ENTRY_NUMBER.fullmatch(value.strip().upper())
    if match is None:
        raise ValueError(f"{value!r} is not an entry number (XXX-NNNNNNN-C)")
    return "".join(match.groups())


def is_valid_filer_code(value: str) -> bool:
    return bool(_FILER_CODE.fullmatch(value)) and value != "000"


def validate_entry_number(value: object, location: str | None = None) -> list[Problem]:
    """Problems with ``value`` as an entry number (format only; see module docstring)."""
    if not isinstance(value, str):
        return [Problem("entry_number must be a string", location=location, field="entry_number")]
    try:
        normalized = normalize_entry_number(value)
    except ValueError as exc:
        return [Problem(str(exc), location=location, field="entry_number")]
    if not is_valid_filer_code(normalized[:3]):
        return [
            Problem(
                f"entry number {value!r}: filer code {normalized[:3]!r} is not a valid entry "
                "filer code (001-999 or letters and digits)",
                location=location,
                field="entry_number",
            )
        ]
    return []
