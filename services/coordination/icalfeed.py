"""Busy blocks from a team member's iCalendar feed or exported .ics file.

Pure: the caller fetches the feed (HTTP, upload) and passes its text; this module
only reads it. Only *when* someone is busy is kept, never what they are doing
(summaries, locations and attendees are other people's business).

Rules (RFC 5545 read the way a free/busy search reads it):
- each VEVENT with a DTSTART is busy from DTSTART to DTEND (or DTSTART + DURATION);
- TRANSP:TRANSPARENT ("show as free") and STATUS:CANCELLED occurrences are not busy;
  each occurrence is judged by the component that defines it (the series, a moved
  occurrence, or a "this and following" edit);
- all-day events (VALUE=DATE) are busy the whole Copenhagen day, DTEND exclusive;
  an all-day event without an end lasts one day; a timed event without one lasts
  no time and is not busy;
- times with a zone (TZID or UTC "Z") are converted to Europe/Copenhagen; floating
  times (no zone) are read as Copenhagen wall-clock time; a calendar's
  X-WR-TIMEZONE (Google) is honoured. Blocks come out aware, in Europe/Copenhagen,
  as everywhere in `services.coordination.scheduling`;
- recurring events are expanded inside the window with `recurring-ical-events`:
  RRULE, RDATE and EXDATE; a RECURRENCE-ID event replaces the occurrence it names,
  and with RANGE=THISANDFUTURE (Outlook's and Google's "this and following events")
  it moves and resizes that occurrence and every later one. A rule that would need
  more than `MAX_OCCURRENCES_PER_EVENT` occurrences to reach the window end is left
  out and reported. Without the library only each event's first occurrence is read
  and every recurring event is reported in `FeedImport.ignored`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.common.errors import DomainError
from services.coordination.scheduling import COPENHAGEN, BusyBlock, to_copenhagen

# Guards against a feed that would make us iterate forever (FREQ=SECONDLY since 1970):
# a rule is expanded only if it reaches the window's end within this many occurrences.
MAX_OCCURRENCES_PER_EVENT = 20_000


def _load_expander() -> Any | None:
    try:
        import recurring_ical_events
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    return recurring_ical_events


# The recurrence expander (recurring-ical-events, which expands with dateutil.rrule).
_RRULE: Any | None = _load_expander()
RRULE_SUPPORTED = _RRULE is not None


class IgnoredReason:
    """Why an event in a feed did not become a busy block (stable identifiers)."""

    TRANSPARENT = "transparent"
    CANCELLED = "cancelled"
    NO_START = "no_start"
    NO_DURATION = "no_duration"
    UNREADABLE = "unreadable"
    RECURRENCE_NOT_EXPANDED = "recurrence_not_expanded"
    RECURRENCE_TOO_LONG = "recurrence_too_long"


@dataclass(frozen=True)
class IgnoredEvent:
    uid: str | None
    reason: str


@dataclass(frozen=True)
class FeedImport:
    """The busy blocks of a feed within a window, and what was left out and why."""

    blocks: tuple[BusyBlock, ...]
    ignored: tuple[IgnoredEvent, ...]
    recurrence_expanded: bool = RRULE_SUPPORTED


def _as_local(value: dt.date | dt.datetime) -> dt.datetime:
    """An iCalendar DATE or DATE-TIME as an aware Copenhagen datetime."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=COPENHAGEN)  # floating time: local wall clock
        return value.astimezone(COPENHAGEN)
    return dt.datetime.combine(value, dt.time(), tzinfo=COPENHAGEN)


def _uid(event: Any) -> str | None:
    return str(event.get("UID")) if event.get("UID") is not None else None


def _start_and_length(event: Any) -> tuple[Any, dt.timedelta] | None:
    """DTSTART as written in the feed and the event's length, or None if it has none."""
    start = event.get("DTSTART").dt
    if event.get("DTEND") is not None:
        end = event.get("DTEND").dt
        return start, _as_local(end) - _as_local(start)
    if event.get("DURATION") is not None:
        return start, event.get("DURATION").dt
    if isinstance(start, dt.datetime):
        return None  # RFC 5545: a DATE-TIME start without an end takes no time
    return start, dt.timedelta(days=1)


def _unusable(event: Any) -> str | None:
    """Why a VEVENT cannot stand for busy time at all, before any expansion."""
    if event.get("DTSTART") is None:
        return IgnoredReason.NO_START
    try:
        timing = _start_and_length(event)
    except (AttributeError, TypeError, ValueError, KeyError):
        return IgnoredReason.UNREADABLE
    if timing is None or timing[1] <= dt.timedelta():
        return IgnoredReason.NO_DURATION
    return None


def _not_busy(occurrence: Any) -> str | None:
    if str(occurrence.get("TRANSP", "")).upper() == "TRANSPARENT":
        return IgnoredReason.TRANSPARENT
    if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
        return IgnoredReason.CANCELLED
    return None


class _Report:
    """The blocks found and the events left out (each UID and reason once)."""

    def __init__(self, window: tuple[dt.datetime, dt.datetime]) -> None:
        self.window = window
        self.blocks: list[BusyBlock] = []
        self.ignored: dict[tuple[str | None, str], IgnoredEvent] = {}

    def ignore(self, uid: str | None, reason: str) -> None:
        self.ignored.setdefault((uid, reason), IgnoredEvent(uid, reason))

    def busy(self, uid: str | None, start: dt.datetime, end: dt.datetime) -> None:
        if start < end and start < self.window[1] and end > self.window[0]:
            self.blocks.append(BusyBlock(start, end, ref=uid))


def _runaway(series: Any, window_end: dt.datetime) -> bool:
    """Would the series' rules need more than MAX_OCCURRENCES_PER_EVENT occurrences to
    reach `window_end`? (dateutil walks every occurrence from DTSTART onwards.)"""
    for rule in getattr(series.recurrence, "rrules", ()):
        for count, start in enumerate(rule):
            bound = window_end if start.tzinfo is not None else window_end.replace(tzinfo=None)
            if start >= bound:
                break
            if count >= MAX_OCCURRENCES_PER_EVENT:
                return True
    return False


def _expand(calendar: Any, report: _Report) -> None:
    """Every busy occurrence of the calendar's events inside the window."""
    expander: Any = _RRULE
    uids: dict[int, str | None] = {}  # id(series) -> the UID its blocks carry as ref

    class Events(expander.ComponentsWithName):
        """VEVENTs grouped into series by UID, as the library does, but leaving out
        (and reporting) unusable events, and series it cannot build one at a time."""

        def __init__(self) -> None:
            super().__init__("VEVENT")

        def collect_series_from(self, source: Any, suppress_errors: Any) -> Sequence[Any]:
            groups: dict[str | int, list[Any]] = defaultdict(list)
            for event in source.walk("VEVENT"):
                reason = _unusable(event)
                if reason is not None:
                    report.ignore(_uid(event), reason)
                    continue
                uid = _uid(event)
                groups[uid if uid is not None else id(event)].append(event)
            collected = []
            for key, events in groups.items():
                uid = key if isinstance(key, str) else None
                try:
                    series = expander.Series([expander.EventAdapter(e) for e in events])
                except Exception:  # a broken rule or date: only this series is lost
                    report.ignore(uid, IgnoredReason.UNREADABLE)
                    continue
                uids[id(series)] = uid
                collected.append(series)
            return collected

    query = expander.of(calendar, components=[Events()])
    for series in query.series:
        uid = uids[id(series)]
        try:
            if _runaway(series, report.window[1]):
                report.ignore(uid, IgnoredReason.RECURRENCE_TOO_LONG)
                continue
            occurrences = [
                (_not_busy(event), _as_local(event["DTSTART"].dt), _as_local(event["DTEND"].dt))
                for event in (o.as_component(False) for o in series.between(*report.window))
            ]
        except Exception:  # one series the library cannot expand spoils no other
            report.ignore(uid, IgnoredReason.UNREADABLE)
            continue
        for reason, start, end in occurrences:
            if reason is None:
                report.busy(uid, start, end)
            else:
                report.ignore(uid, reason)


def _first_occurrences(calendar: Any, report: _Report) -> None:
    """Without the expander: each event once, at its DTSTART."""
    for event in calendar.walk("VEVENT"):
        uid = _uid(event)
        reason = _unusable(event) or _not_busy(event)
        if reason is not None:
            report.ignore(uid, reason)
            continue
        if event.get("RECURRENCE-ID") is None and (
            event.get("RRULE") is not None or event.get("RDATE") is not None
        ):
            report.ignore(uid, IgnoredReason.RECURRENCE_NOT_EXPANDED)
        timing = _start_and_length(event)
        assert timing is not None
        start = _as_local(timing[0])
        report.busy(uid, start, start + timing[1])


def import_busy_blocks(
    feed: str | bytes,
    *,
    window_start: dt.datetime,
    window_end: dt.datetime,
) -> FeedImport:
    """Read the busy blocks overlapping [window_start, window_end) from iCalendar text.

    `window_start`/`window_end` must be timezone-aware (they bound the expansion of
    recurring events). Each block's `ref` is the event's UID, so that a meeting we
    sent out ourselves (UID = meeting id) can be ignored when rescheduling it.
    Raises `DomainError` (field ``calendar``, rule ``ical.unreadable``) if the text
    is not iCalendar at all; single broken events are skipped and reported."""
    from icalendar import Calendar  # imported here: only feed imports need it

    window = (to_copenhagen(window_start, "window_start"), to_copenhagen(window_end, "window_end"))
    if window[1] <= window[0]:
        raise DomainError(
            "window_end", "ical.window_invalid", "the window must end after it starts"
        )
    try:
        calendars = Calendar.from_ical(feed, multiple=True)
    except Exception as exc:  # icalendar raises several types for garbage input
        raise DomainError(
            "calendar", "ical.unreadable", "the calendar could not be read as iCalendar"
        ) from exc
    if not calendars:
        raise DomainError("calendar", "ical.unreadable", "the text holds no calendar")

    report = _Report(window)
    for calendar in calendars:
        if _RRULE is not None:
            _expand(calendar, report)
        else:
            _first_occurrences(calendar, report)
    report.blocks.sort(key=lambda block: (block.start, block.end))
    return FeedImport(
        blocks=tuple(report.blocks),
        ignored=tuple(report.ignored.values()),
        recurrence_expanded=_RRULE is not None,
    )
