"""CPR numbers outside intake: how to recognise one, so that it is refused where it does
not belong (URLs, free text, logs) and never echoed.

One rule (docs/security.md): a CPR number is ten digits, written DDMMYY-SSSS or
DDMMYYSSSS, standing alone (no digit right before or after), whose first six digits
are a real date in the century that the 7th digit gives (CPR-kontoret's table). Other
10-digit ids (a phone number with a country code, a case number, 9999999999) are not
CPR numbers. A CPR number may travel only in a field named `cpr`, in a request body,
to intake; anywhere else in a request it is refused with a 400 that names the field and
does not repeat the value.

Modulus 11 is deliberately not checked (numbers failing it are issued since 2007).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

# Digits standing alone; the separator may be a hyphen or nothing (a space too, in
# text people type).
_CANDIDATE = re.compile(r"(?<![0-9])([0-9]{2})([0-9]{2})([0-9]{2})[- ]?([0-9]{4})(?![0-9])",
                        re.ASCII)
# A UUID's hex runs can hold a date-shaped run of digits: UUIDs are taken out first.
_UUID = re.compile(r"[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}")

CPR_FIELD = "cpr"
MASK = "******-****"
TEXT_RULE = "cpr_in_text"
TEXT_MESSAGE = ("A CPR number may only be given in the field named cpr; take it out of "
                "this field.")


def century_of(seventh_digit: int, yy: int) -> int:
    """The century (1800, 1900 or 2000) of a CPR birth year, from CPR-kontoret's table.

    7th digit 0-3: 1900s. 4 and 9: 2000s if YY <= 36, else 1900s.
    5-8: 2000s if YY <= 57, else 1800s.
    """
    if not 0 <= seventh_digit <= 9 or not 0 <= yy <= 99:
        raise ValueError("seventh_digit must be 0-9 and yy 0-99")
    if seventh_digit <= 3:
        return 1900
    if seventh_digit in (4, 9):
        return 2000 if yy <= 36 else 1900
    return 2000 if yy <= 57 else 1800


def birth_date_of(day: int, month: int, yy: int, serial: str) -> dt.date | None:
    """The birth date a CPR number's digits stand for, or None if there is no such date."""
    try:
        return dt.date(century_of(int(serial[0]), yy) + yy, month, day)
    except ValueError:
        return None


def _matches(text: str) -> Iterator[re.Match[str]]:
    for match in _CANDIDATE.finditer(text):
        day, month, yy = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if birth_date_of(day, month, yy, match.group(4)) is not None:
            yield match


def contains_cpr(text: str) -> bool:
    """Whether `text` holds a CPR number (a real date; UUIDs do not count)."""
    return next(_matches(_UUID.sub(" ", text)), None) is not None


def mask_cpr(text: str) -> str:
    """`text` with every CPR number replaced by ******-**** (for logs); UUIDs are kept."""
    uuids = [(u.start(), u.end()) for u in _UUID.finditer(text)]
    cleaned = text
    for match in reversed(list(_matches(text))):
        if not any(start <= match.start() < end for start, end in uuids):
            cleaned = cleaned[:match.start()] + MASK + cleaned[match.end():]
    return cleaned


def _leaves(value: Any, where: str = "") -> Iterator[tuple[str, str, str]]:
    """(dotted path, last key, text) for every string in a JSON-like value."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            yield from _leaves(item, path)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{where}.{index}" if where else str(index))
    elif isinstance(value, str):
        yield (where or "_body"), where.rsplit(".", 1)[-1], value


def text_problem(value: Any, where: str = "") -> tuple[str, str, str] | None:
    """The first field outside `cpr` that holds a CPR number, as (field, rule, message);
    the value itself is never part of the problem."""
    for path, key, text in _leaves(value, where):
        if key != CPR_FIELD and contains_cpr(text):
            return path, TEXT_RULE, TEXT_MESSAGE
    return None
