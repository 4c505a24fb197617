"""Typed field values <-> JSON values, per the field's layout kind.

JSON representation: text -> string (leading blanks of X fields kept, trailing dropped);
int -> number; decimal -> string with the field's decimals ("1200.00"; JSON numbers are also
accepted on input and converted through ``str`` so no binary float error creeps in);
date -> "YYYY-MM-DD"; month_year (PG07 MMCCYY) -> "YYYY-MM", or "YYYY" when the month is 00;
time (PG30 HHMM) -> "HH:MM" ("24:00" allowed).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.pgams.fieldcodec import FieldValueError
from gateway.pgams.layouts import FieldSpec
from gateway.pgams.model import FieldValue

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def value_to_json(value: FieldValue) -> str | int:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def parse_decimal(raw: Any) -> Decimal:
    """A Decimal from a JSON string or number (via str, never via binary float)."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise FieldValueError("must be a decimal number or a string holding one")
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        raise FieldValueError(f"{raw!r} is not a decimal number") from None
    if not number.is_finite():
        raise FieldValueError(f"{raw!r} is not a finite number")
    return number


def parse_iso_date(raw: Any) -> dt.date:
    if not isinstance(raw, str) or not _ISO_DATE.fullmatch(raw):
        raise FieldValueError("must be a date string YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise FieldValueError(f"{raw!r} is not a valid date") from None


def value_from_json(spec: FieldSpec, raw: Any) -> FieldValue:
    """The typed value for ``raw`` in field ``spec``; FieldValueError says why not."""
    if spec.kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise FieldValueError("must be an integer")
        return raw
    if spec.kind == "decimal":
        number = parse_decimal(raw)
        # Give the value the field's scale when that is exact ("1200" -> 1200.00); a value
        # with more places stays as is and is refused when it is written to the record.
        return (
            number.quantize(Decimal(1).scaleb(-spec.decimals))
            if _fits(number, spec.decimals)
            else number
        )
    if spec.kind == "date":
        return parse_iso_date(raw)
    if not isinstance(raw, str):
        raise FieldValueError("must be a string")
    return raw


def _fits(number: Decimal, decimals: int) -> bool:
    """True when ``number`` has no more than ``decimals`` places (so quantizing is exact)."""
    try:
        return number == number.quantize(Decimal(1).scaleb(-decimals))
    except InvalidOperation:
        return False
