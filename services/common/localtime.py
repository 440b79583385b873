"""Copenhagen days: the clock speaks UTC, dates that people read are Copenhagen days
(ADR 0006). Pure functions; the one conversion point between the two.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def local_day(moment: dt.datetime) -> dt.date:
    """The Copenhagen calendar day of a timezone-aware moment."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(COPENHAGEN).date()


def start_of_local_day(day: dt.date) -> dt.datetime:
    """The UTC moment at which `day` begins in Copenhagen ("on day D" = from its start)."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=COPENHAGEN).astimezone(dt.UTC)


def to_copenhagen(moment: dt.datetime) -> dt.datetime:
    """The same moment on Copenhagen's wall clock."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(COPENHAGEN)
