"""Validation of a filing's entry header fields from JSON (the lines are ``linejson``'s job)."""

from __future__ import annotations

import re
from typing import Any

from gateway.errors import Problem
from gateway.pgams.entry_number import (
    is_valid_filer_code,
    normalize_entry_number,
    validate_entry_number,
)
from gateway.pgams.fieldcodec import FieldValueError
from gateway.pgams.jsonvalues import parse_iso_date
from gateway.pgams.model import Filing

_FILING_KEYS = {
    "entry_number",
    "filer_code",
    "entry_type",
    "port_of_entry",
    "importer_of_record",
    "mode_of_transport",
    "estimated_arrival",
    "lines",
}
_DIGITS = {"entry_type": 2, "port_of_entry": 4, "mode_of_transport": 2}


def _string(obj: dict[str, Any], key: str, problems: list[Problem], required: bool) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            problems.append(Problem(f"{key} is required", field=key, location=f"/{key}"))
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(f"{key} must be a non-empty string", field=key, location=f"/{key}"))
        return None
    digits = _DIGITS.get(key)
    if digits is not None and not re.fullmatch(rf"\d{{{digits}}}", value):
        problems.append(
            Problem(f"{key} must be exactly {digits} digits", field=key, location=f"/{key}")
        )
        return None
    return value


def header_from_json(obj: dict[str, Any]) -> tuple[Filing | None, list[Problem]]:
    problems = [
        Problem(f"unknown key {key!r}", location=f"/{key}")
        for key in obj
        if key not in _FILING_KEYS
    ]
    if "lines" not in obj:
        problems.append(Problem("lines is required", field="lines", location="/lines"))
    raw_entry = obj.get("entry_number")
    entry_number: str | None = None
    if raw_entry is None:
        problems.append(
            Problem("entry_number is required", field="entry_number", location="/entry_number")
        )
    else:
        entry_problems = validate_entry_number(raw_entry, "/entry_number")
        problems += entry_problems
        if not entry_problems:
            entry_number = normalize_entry_number(str(raw_entry))
    filer_code = _string(obj, "filer_code", problems, required=True)
    if filer_code is not None:
        if not is_valid_filer_code(filer_code):
            problems.append(
                Problem(
                    "filer_code must be 3 capital letters/digits (not 000)",
                    field="filer_code",
                    location="/filer_code",
                )
            )
        elif entry_number is not None and entry_number[:3] != filer_code:
            problems.append(
                Problem(
                    f"entry_number {entry_number} does not start with filer code {filer_code}",
                    field="filer_code",
                    location="/filer_code",
                )
            )
    entry_type = _string(obj, "entry_type", problems, required=True)
    port = _string(obj, "port_of_entry", problems, required=True)
    importer = _string(obj, "importer_of_record", problems, required=True)
    mode = _string(obj, "mode_of_transport", problems, required=False)
    arrival = None
    if obj.get("estimated_arrival") is not None:
        try:
            arrival = parse_iso_date(obj["estimated_arrival"])
        except FieldValueError as exc:
            problems.append(
                Problem(
                    f"estimated_arrival {exc}",
                    field="estimated_arrival",
                    location="/estimated_arrival",
                )
            )
    if problems:
        return None, problems
    assert entry_number and filer_code and entry_type and port and importer
    return Filing(entry_number, filer_code, entry_type, port, importer, mode, arrival), []
