"""PGA code tables (``gateway/data/pga_codes.json``), loaded once.

Uncertain codes ([U] in the reference) stay in the data with a ``note``; the gateway accepts
them like any other code, so a wrong guess costs a data edit, not a code change.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any


@functools.cache
def code_tables() -> dict[str, Any]:
    text = resources.files("gateway").joinpath("data/pga_codes.json").read_text("utf-8")
    tables: dict[str, Any] = json.loads(text)
    return tables


def is_known_agency(agency_code: str) -> bool:
    return agency_code in code_tables()["agencies"]


def program_codes(agency_code: str) -> frozenset[str]:
    agency = code_tables()["agencies"].get(agency_code, {})
    return frozenset(agency.get("programs", {}))


def programs_are_known(agency_code: str) -> bool:
    """False where no program list was found for the agency: any program is then accepted."""
    agency = code_tables()["agencies"].get(agency_code, {})
    return bool(agency.get("programs_known", True))


def is_valid_program(agency_code: str, program_code: str) -> bool:
    if not programs_are_known(agency_code):
        return True
    return program_code in program_codes(agency_code)


def disclaimer_codes() -> frozenset[str]:
    return frozenset(code_tables()["disclaimer_codes"])


def substitution_actions() -> frozenset[str]:
    return frozenset(code_tables()["pg00_substitution_actions"])


def item_types() -> frozenset[str]:
    return frozenset(code_tables()["pg02_item_types"])


def packaging_qualifiers() -> frozenset[int]:
    return frozenset(int(q) for q in code_tables()["pg26_packaging_qualifiers"])


def max_packaging_records() -> int:
    return int(code_tables()["pg26_max_records_per_pga_line"])


def pg30_status_codes() -> frozenset[str]:
    return frozenset(code_tables()["pg30_status_codes"])


def intended_use_other() -> str:
    return str(code_tables()["intended_use_other"]["code"])


def processing_type_requiring_description() -> str:
    return str(code_tables()["processing_type_requiring_description"]["code"])


def error_text(code: str) -> str:
    return str(code_tables()["error_dictionary"].get(code, ""))


def pga_status_codes() -> dict[str, str]:
    """Entry-level PGA status codes agencies may send, with their text (uncertain ones out)."""
    table = code_tables()["pga_status"]["entry_level"]
    return {code: row["text"] for code, row in table.items() if row.get("confidence") != "U"}


def reason_code_status(reason_code: str) -> str | None:
    """The status code a reason code belongs to (CBP pairs each reason with one status)."""
    row = code_tables()["pga_status"]["reason_codes"].get(reason_code)
    return row["status"] if row else None
