"""Busy blocks from a team member's iCalendar feed or exported .ics file.

Pure: the caller fetches the feed (HTTP, upload) and passes its text; this module
only reads it. Only *when* someone is busy is kept, never what they are doing
(summaries, locations and attendees are other people's business).

Rules (RFC 5545 read the way a free/busy search reads it):
- each VEVENT with a DTSTART is busy from DTSTART to DTEND (or DTSTART + DURATION);
- TRANSP:TRANSPARENT ("show as free") and STATUS:CANCELLED events are not busy;
- all-day events (VALUE=DATE) are busy the whole Copenhagen day, DTEND exclusive;
  an all-day event without an end lasts one day; a timed event without one lasts
  no time and is not busy;
- times with a zone (TZID or UTC "Z") are converted to Europe/Copenhagen; floating
  times (no zone) are read as Copenhagen wall-clock time. Blocks come out aware, in
  Europe/Copenhagen, as everywhere in `services.coordination.scheduling`;
- RRULE/RDATE/EXDATE are expanded inside the window with `dateutil.rrule` when it is
  importable (it comes with icalendar); a RECURRENCE-ID event replaces the
  occurrence it names. Without dateutil only the first occurrence is read and
  every recurring event is reported in `FeedImport.ignored`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.common.errors import DomainError
from services.coordination.scheduling import COPENHAGEN, BusyBlock, to_copenhagen

# Guards against a feed that would make us iterate forever (FREQ=SECONDLY since 1970).
MAX_OCCURRENCES_PER_EVENT = 20_000


def _load_rrule() -> Any | None:
    try:
        from dateutil import rrule
    except ImportError:  # pragma: no cover - dateutil ships with icalendar
        return None
    return rrule


_RRULE: Any | None = _load_rrule()
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


def _prop_values(component: Any, name: str) -> list[Any]:
    """The decoded values of a property that may repeat and may hold lists (EXDATE)."""
    raw = component.get(name)
    if raw is None:
        return []
    values: list[Any] = []
    for prop in raw if isinstance(raw, list) else [raw]:
        dts = getattr(prop, "dts", None)
        if dts is None:
            values.append(getattr(prop, "dt", prop))
        else:
            values.extend(item.dt for item in dts)
    return values


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


def _same_kind(value: Any, dtstart: Any) -> Any:
    """`value` (an EXDATE, RDATE or RECURRENCE-ID) in the form the rule expands in,
    so that dateutil compares like with like (aware with aware, naive with naive)."""
    if isinstance(value, tuple):  # an RDATE PERIOD: its start is what recurs
        value = value[0]
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    expand_aware = isinstance(dtstart, dt.datetime) and dtstart.tzinfo is not None
    value_aware = value.tzinfo is not None
    if expand_aware and not value_aware:
        return value.replace(tzinfo=dtstart.tzinfo)
    if not expand_aware and value_aware:
        return value.astimezone(COPENHAGEN).replace(tzinfo=None)
    return value


def _occurrences(
    event: Any, dtstart: Any, length: dt.timedelta, window: tuple[dt.datetime, dt.datetime]
) -> tuple[list[dt.datetime], bool]:
    """Starts (aware, Copenhagen) of a recurring event's occurrences that may overlap
    the window, and whether the expansion was cut short."""
    assert _RRULE is not None
    # dateutil wants datetimes; all-day events expand as naive midnights.
    first = dtstart if isinstance(dtstart, dt.datetime) else dt.datetime.combine(dtstart, dt.time())
    aware = first.tzinfo is not None
    rules = event.get("RRULE")
    ruleset = _RRULE.rruleset()
    ruleset.rdate(first)  # DTSTART is always the first instance (RFC 5545 3.8.5.3)
    for recur in rules if isinstance(rules, list) else [rules] if rules is not None else []:
        spec = {key: value for key, value in recur.items() if key.upper() != "UNTIL"}
        text = type(recur)(spec).to_ical().decode()
        rule = _RRULE.rrulestr(text, dtstart=first)
        until = recur.get("UNTIL")
        if until:
            # Align UNTIL with DTSTART (the RFC requires it; real feeds do not always).
            bound = until[0]
            if not isinstance(bound, dt.datetime):
                bound = dt.datetime.combine(bound, dt.time.max)
            rule = rule.replace(until=_same_kind(bound, first))
        ruleset.rrule(rule)
    for value in _prop_values(event, "RDATE"):
        ruleset.rdate(_same_kind(value, first))
    for value in _prop_values(event, "EXDATE"):
        ruleset.exdate(_same_kind(value, first))

    window_start, window_end = window
    if not aware:
        window_start = window_start.replace(tzinfo=None)
        window_end = window_end.replace(tzinfo=None)
    starts: list[dt.datetime] = []
    for count, occurrence in enumerate(ruleset):
        if count >= MAX_OCCURRENCES_PER_EVENT:
            return starts, True
        if occurrence >= window_end:
            break
        if occurrence + length > window_start:
            starts.append(_as_local(occurrence))
    return starts, False


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

    events = [event for calendar in calendars for event in calendar.walk("VEVENT")]
    blocks: list[BusyBlock] = []
    ignored: list[IgnoredEvent] = []
    # Occurrences moved or cancelled by a RECURRENCE-ID event, per UID (as instants).
    overridden: dict[str, set[dt.datetime]] = {}
    for event in events:
        if event.get("RECURRENCE-ID") is not None and event.get("UID") is not None:
            try:
                replaced = _as_local(event.get("RECURRENCE-ID").dt)
            except (AttributeError, TypeError, ValueError):
                continue
            overridden.setdefault(str(event.get("UID")), set()).add(replaced)

    for event in events:
        uid = str(event.get("UID")) if event.get("UID") is not None else None
        if str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
            ignored.append(IgnoredEvent(uid, IgnoredReason.TRANSPARENT))
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            ignored.append(IgnoredEvent(uid, IgnoredReason.CANCELLED))
            continue
        if event.get("DTSTART") is None:
            ignored.append(IgnoredEvent(uid, IgnoredReason.NO_START))
            continue
        try:
            timing = _start_and_length(event)
            if timing is None:
                ignored.append(IgnoredEvent(uid, IgnoredReason.NO_DURATION))
                continue
            dtstart, length = timing
            recurring = event.get("RECURRENCE-ID") is None and (
                event.get("RRULE") is not None or event.get("RDATE") is not None
            )
            if recurring and _RRULE is not None:
                starts, cut_short = _occurrences(event, dtstart, length, window)
                if cut_short:
                    ignored.append(IgnoredEvent(uid, IgnoredReason.RECURRENCE_TOO_LONG))
                moved = overridden.get(uid or "", set())
                starts = [start for start in starts if start not in moved]
            else:
                if recurring:
                    ignored.append(IgnoredEvent(uid, IgnoredReason.RECURRENCE_NOT_EXPANDED))
                starts = [_as_local(dtstart)]
        except (AttributeError, TypeError, ValueError, KeyError):
            ignored.append(IgnoredEvent(uid, IgnoredReason.UNREADABLE))
            continue
        if length <= dt.timedelta():
            ignored.append(IgnoredEvent(uid, IgnoredReason.NO_DURATION))
            continue
        for start in starts:
            # Aware + timedelta is wall-clock arithmetic in Copenhagen, as the feed meant.
            end = start + length
            if start < window[1] and end > window[0]:
                blocks.append(BusyBlock(start, end, ref=uid))
    blocks.sort(key=lambda block: (block.start, block.end))
    return FeedImport(
        blocks=tuple(blocks), ignored=tuple(ignored), recurrence_expanded=_RRULE is not None
    )
