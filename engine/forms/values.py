"""Single submitted values as form-js stores them: numbers, dates, times, ticks, option tokens.

Pure parsing, shared by the definition (default values), the form state (conditions see typed
values) and the validation.
"""
from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal
from typing import Any, Mapping

TRUE_STRINGS = frozenset({"true", "on", "1", "yes", "ja"})    # submitted strings that tick a checkbox
FALSE_STRINGS = frozenset({"false", "off", "0", "no", "nein"})
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DE_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")


def option_token(value: Any) -> str:
    """The string the HTML form submits for an option's value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def number_out(d: Decimal | None, digits: int | None):
    """A number as stored in the case data: int when whole (or `decimalDigits` is 0), else float."""
    if d is None:
        return None
    if digits == 0 or (digits is None and d == d.to_integral_value()):
        return int(d)
    return float(d)


def parse_number(value: Any) -> Decimal:
    """A submitted number (accepts '3.5', '3,5', ints and floats) as a Decimal; ValueError if not."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(value)
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise ValueError(value)
    s = value.strip().replace(" ", "").replace("\u00a0", "")
    if "," in s and "." not in s:
        s = s.replace(",", ".")
    if not _NUMBER_RE.match(s) or len(s) > 40:
        raise ValueError(value)
    return Decimal(s)


def parse_date(s: str) -> date:
    """'2026-12-31' or '31.12.2026' as a date; ValueError otherwise."""
    s = s.strip()
    m = _ISO_DATE.match(s)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    m = _DE_DATE.match(s)
    if m:
        return date(int(m[3]), int(m[2]), int(m[1]))
    raise ValueError(s)


def parse_time(s: str) -> time:
    m = _TIME.match(s.strip())
    if not m:
        raise ValueError(s)
    return time(int(m[1]), int(m[2]), int(m[3] or 0))


def read_submitted(form: Any, name: str, multiple: bool):
    """One field's raw value from a MultiDict (request.form) or a plain dict."""
    if multiple and hasattr(form, "getlist"):
        return form.getlist(name) if name in form else None
    if hasattr(form, "getlist") and not multiple:
        vals = form.getlist(name)
        if not vals:
            return None
        # e.g. a hidden "false" before a checkbox: the last value wins
        return vals[-1]
    return form.get(name) if isinstance(form, Mapping) else None
