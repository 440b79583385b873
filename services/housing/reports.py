"""The report per housing association and period.

Pure: the service loads the cases and passes them in. A period is a range of whole
local dates, both ends included (1 April to 31 July, as Fronten reports).

Definitions (each figure is reproducible later: it uses only what the case recorded
with a time stamp, never what happened after the period ended):

- **cases**: the association's cases reported within the period (the cohort).
- **levels_reached**: for the cohort, how many cases had each level as their highest
  level reached by the end of the period; every level is present, zeros included.
- **evictions_avoided**: the association's cases (reported at any time) closed within
  the period with the tenancy kept (paid in full) after having reached at least
  ESCALATED_TO_ASSOCIATION: the ophævelse or udsættelse risk was real and was averted.
  A case paid before the association was ever asked to hold termination is not counted.
- **time to first contact**: for the cohort's cases whose first contact happened by
  the end of the period, from the report to that contact; median and max. Cases not
  yet reached are counted in `cases_without_contact`. Cases opened by Fronten count
  with zero (the citizen was in the room).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from services.common.errors import DomainError
from services.housing.ladder import Closure, Level
from services.housing.partners import HousingAssociation


class CaseFacts(Protocol):
    """What a report needs of a case; `ArrearsCase` has it, and so can a database row."""

    @property
    def association_id(self) -> str | None: ...
    @property
    def reported_at(self) -> dt.datetime: ...
    @property
    def first_contact_at(self) -> dt.datetime | None: ...
    @property
    def closure(self) -> Closure | None: ...
    @property
    def closed_at(self) -> dt.datetime | None: ...
    @property
    def reached_at(self) -> Mapping[Level, dt.datetime]: ...


@dataclass(frozen=True)
class ReportPeriod:
    """Whole local dates, `start` and `end` both included."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise DomainError(
                "period.end", "report.period_end_before_start", "The period ends before it starts."
            )

    def bounds(self, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """[first instant, first instant after) in local time."""
        first = dt.datetime.combine(self.start, dt.time(), tzinfo=tz)
        after = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        return first, after


@dataclass(frozen=True)
class AssociationReport:
    association_id: str
    association_name: str
    period: ReportPeriod
    cases: int
    levels_reached: dict[Level, int]
    evictions_avoided: int
    cases_with_contact: int
    cases_without_contact: int
    median_time_to_first_contact: dt.timedelta | None
    max_time_to_first_contact: dt.timedelta | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: levels by their wire value, durations in whole seconds."""

        def seconds(value: dt.timedelta | None) -> int | None:
            return round(value.total_seconds()) if value is not None else None

        return {
            "association_id": self.association_id,
            "association_name": self.association_name,
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "cases": self.cases,
            "levels_reached": {level.value: n for level, n in self.levels_reached.items()},
            "evictions_avoided": self.evictions_avoided,
            "cases_with_contact": self.cases_with_contact,
            "cases_without_contact": self.cases_without_contact,
            "median_seconds_to_first_contact": seconds(self.median_time_to_first_contact),
            "max_seconds_to_first_contact": seconds(self.max_time_to_first_contact),
        }


def _highest_by(reached_at: Mapping[Level, dt.datetime], moment: dt.datetime) -> Level:
    reached = [level for level, at in reached_at.items() if at < moment]
    return max(reached, key=lambda level: level.rank, default=Level.REPORTED)


def association_report(
    association: HousingAssociation,
    cases: Iterable[CaseFacts],
    period: ReportPeriod,
    *,
    timezone: str = "Europe/Copenhagen",
) -> AssociationReport:
    """Build the report for `association` over `period` from `cases` (others' cases
    are ignored, so the service may pass all it has). Definitions: the module docstring."""
    tz = ZoneInfo(timezone)
    first, after = period.bounds(tz)
    mine = [c for c in cases if c.association_id == association.association_id]
    cohort = [c for c in mine if first <= c.reported_at < after]

    levels = dict.fromkeys(Level, 0)
    for case in cohort:
        levels[_highest_by(case.reached_at, after)] += 1

    avoided = sum(
        1
        for c in mine
        if c.closure is Closure.TENANCY_KEPT
        and c.closed_at is not None
        and first <= c.closed_at < after
        and _highest_by(c.reached_at, c.closed_at + dt.timedelta(microseconds=1)).rank
        >= Level.ESCALATED_TO_ASSOCIATION.rank
    )

    waits = [
        c.first_contact_at - c.reported_at
        for c in cohort
        if c.first_contact_at is not None and c.first_contact_at < after
    ]
    return AssociationReport(
        association_id=association.association_id,
        association_name=association.name,
        period=period,
        cases=len(cohort),
        levels_reached=levels,
        evictions_avoided=avoided,
        cases_with_contact=len(waits),
        cases_without_contact=len(cohort) - len(waits),
        median_time_to_first_contact=_median(waits),
        max_time_to_first_contact=max(waits) if waits else None,
    )


def _median(values: list[dt.timedelta]) -> dt.timedelta | None:
    if not values:
        return None
    # Median of seconds, so that an even count averages the two middle waits.
    return dt.timedelta(seconds=statistics.median(v.total_seconds() for v in values))
