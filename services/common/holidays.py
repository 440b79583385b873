"""Danish public holidays (helligdage) and working days (hverdage).

Pure functions, no I/O. Used by coordination (no meetings on holidays) and housing
(rent paid by the 3rd weekday after the due date is on time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

# Store bededag was abolished as a public holiday from 2024 (lov nr. 151 af 28.2.2023).
LAST_STORE_BEDEDAG_YEAR = 2023


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@lru_cache(maxsize=64)
def public_holidays(year: int) -> Mapping[dt.date, str]:
    """The official Danish public holidays of `year`, with their Danish names."""
    easter = easter_sunday(year)

    def rel(days: int) -> dt.date:
        return easter + dt.timedelta(days=days)

    days = {
        dt.date(year, 1, 1): "Nytårsdag",
        rel(-3): "Skærtorsdag",
        rel(-2): "Langfredag",
        easter: "Påskedag",
        rel(1): "2. påskedag",
        rel(39): "Kristi himmelfartsdag",
        rel(49): "Pinsedag",
        rel(50): "2. pinsedag",
        dt.date(year, 12, 25): "Juledag",
        dt.date(year, 12, 26): "2. juledag",
    }
    if year <= LAST_STORE_BEDEDAG_YEAR:
        days[rel(26)] = "Store bededag"
    return MappingProxyType(days)  # cached: callers must not be able to change it


@lru_cache(maxsize=64)
def closed_days(year: int) -> Mapping[dt.date, str]:
    """Public holidays plus the days the municipality's offices are closed by custom:
    Grundlovsdag (5 June), juleaftensdag (24 December) and nytårsaftensdag (31 December).
    These also count as non-working days in most Danish payment deadlines."""
    days = dict(public_holidays(year))
    days[dt.date(year, 6, 5)] = "Grundlovsdag"
    days[dt.date(year, 12, 24)] = "Juleaftensdag"
    days[dt.date(year, 12, 31)] = "Nytårsaftensdag"
    return MappingProxyType(days)


def is_holiday(day: dt.date, *, include_closed_days: bool = True) -> bool:
    table = closed_days(day.year) if include_closed_days else public_holidays(day.year)
    return day in table


def is_working_day(day: dt.date, *, include_closed_days: bool = True) -> bool:
    """A hverdag: Monday to Friday and not a holiday."""
    return day.weekday() < 5 and not is_holiday(day, include_closed_days=include_closed_days)


def add_working_days(day: dt.date, n: int, *, include_closed_days: bool = True) -> dt.date:
    """The n-th working day after `day` (n >= 1); `day` itself never counts."""
    if n < 1:
        raise ValueError("n must be at least 1")
    current = day
    while n:
        current += dt.timedelta(days=1)
        if is_working_day(current, include_closed_days=include_closed_days):
            n -= 1
    return current
