"""One fixed-width field <-> one typed value, per its layout class and kind.

Decoding (text -> value) and encoding (value -> text) are exact inverses for every valid
value, which is what makes parse -> render byte-identical.

Choices:
* A/AN/X values keep leading blanks and lose trailing blanks. A and AN fields must be
  left-justified and contain only letters (A) or letters and digits (AN), so for them a leading
  blank is an error; X fields accept any printable ASCII, and a leading blank is part of the
  value (" ABC" stays " ABC"), so X fields round-trip exactly.
* ``month_year`` (MMCCYY, PG07 manufacture date) decodes to "CCYY-MM", or "CCYY" when the
  month is 00 (year only). ``time`` (HHMM, 0001-2400) decodes to "HH:MM".
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from gateway.pgams.layouts import FieldSpec
from gateway.pgams.model import FieldValue

_PRINTABLE = re.compile(r"[\x20-\x7e]*")
_ALPHA = re.compile(r"[A-Za-z]+")
_ALNUM = re.compile(r"[A-Za-z0-9]+")
_MONTH_YEAR = re.compile(r"(\d{4})(?:-(\d{2}))?")
_TIME = re.compile(r"(\d{2}):(\d{2})")


class FieldValueError(ValueError):
    """A value that cannot be written to (or read from) its field; the message says why."""


def decode_field(spec: FieldSpec, raw: str) -> FieldValue | None:
    """The typed value of ``raw`` (the field's characters), None when blank."""
    if raw.strip(" ") == "":
        return None
    if spec.cls != "N":
        text = raw.rstrip(" ")
        _check_text(spec, text)
        return text
    if not raw.isdigit() or not raw.isascii():
        raise FieldValueError(f"must be {spec.width} digits (zero-filled) or all blank")
    if spec.kind == "int":
        return int(raw)
    if spec.kind == "decimal":
        return Decimal(raw).scaleb(-spec.decimals)
    if spec.kind == "date":
        try:
            return dt.date(int(raw[4:8]), int(raw[0:2]), int(raw[2:4]))
        except ValueError:
            raise FieldValueError(f"{raw} is not a valid MMDDCCYY date") from None
    if spec.kind == "month_year":
        month, year = int(raw[0:2]), raw[2:6]
        if month > 12 or year == "0000":
            raise FieldValueError(f"{raw} is not a valid MMCCYY month/year (MM 00-12)")
        return year if month == 0 else f"{year}-{raw[0:2]}"
    # time
    hours, minutes = int(raw[0:2]), int(raw[2:4])
    if not _valid_time(hours, minutes):
        raise FieldValueError(f"{raw} is not a valid HHMM time (0001-2400)")
    return f"{raw[0:2]}:{raw[2:4]}"


def encode_field(spec: FieldSpec, value: FieldValue | None) -> str:
    """The field's ``spec.width`` characters for ``value`` (blanks when None)."""
    if value is None:
        return " " * spec.width
    if spec.cls != "N":
        if not isinstance(value, str):
            raise FieldValueError("must be a string")
        text = value.rstrip(" ")
        if text:
            _check_text(spec, text)
        return _fit(spec, text.ljust(spec.width))
    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise FieldValueError("must be a non-negative integer")
        return _fit(spec, str(value).rjust(spec.width, "0"))
    if spec.kind == "decimal":
        return _encode_decimal(spec, value)
    if spec.kind == "date":
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise FieldValueError("must be a date")
        if value.year < 1:
            raise FieldValueError("year out of range")
        return value.strftime("%m%d") + f"{value.year:04d}"
    if not isinstance(value, str):
        raise FieldValueError("must be a string")
    if spec.kind == "month_year":
        match = _MONTH_YEAR.fullmatch(value)
        month = int(match.group(2)) if match and match.group(2) else 0
        if (
            not match
            or match.group(1) == "0000"
            or not (match.group(2) is None or 1 <= month <= 12)
        ):
            raise FieldValueError(f"{value!r} is not CCYY-MM or CCYY")
        return f"{month:02d}{match.group(1)}"
    match = _TIME.fullmatch(value)
    if not match or not _valid_time(int(match.group(1)), int(match.group(2))):
        raise FieldValueError(f"{value!r} is not a valid HH:MM time (00:01-24:00)")
    return match.group(1) + match.group(2)


def _encode_decimal(spec: FieldSpec, value: FieldValue) -> str:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise FieldValueError("must be a decimal number")
    number = Decimal(value)
    if not number.is_finite() or number < 0:
        raise FieldValueError("must be a non-negative number")
    try:
        scaled = number.scaleb(spec.decimals)
        if scaled != scaled.to_integral_value():
            raise FieldValueError(f"has more than {spec.decimals} decimal places")
        digits = str(int(scaled))
    except InvalidOperation:
        raise FieldValueError("is not a valid number") from None
    return _fit(spec, digits.rjust(spec.width, "0"))


def _check_text(spec: FieldSpec, text: str) -> None:
    if not _PRINTABLE.fullmatch(text):
        raise FieldValueError("contains characters that are not printable ASCII")
    if spec.cls == "A" and not _ALPHA.fullmatch(text):
        raise FieldValueError("must be letters only, left-justified (class A)")
    if spec.cls == "AN" and not _ALNUM.fullmatch(text):
        raise FieldValueError("must be letters and digits only, left-justified (class AN)")


def _fit(spec: FieldSpec, text: str) -> str:
    if len(text) > spec.width:
        raise FieldValueError(f"is longer than the field's {spec.width} positions")
    return text


def _valid_time(hours: int, minutes: int) -> bool:
    if hours == 24:
        return minutes == 0
    return 0 <= hours < 24 and 0 <= minutes < 60 and (hours, minutes) != (0, 0)
