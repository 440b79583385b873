"""Finding and checking times for a sammenhængende borgerforløb's cross-team meetings.

Pure domain: no I/O, no clock. The tovholder (lead coordinator) and the citizen are
always required; other team members and the citizen's network are required or
optional. A meeting never falls on a weekend or on a Danish holiday or closed day
(`services.common.holidays.is_holiday`, so 5 June and 24/31 December count too).

Time convention
---------------
Every `datetime` that goes in or comes out is **timezone-aware** (like the rest of
Samspil, whose clock and columns are aware UTC). Naive datetimes are refused with a
`DomainError` (rule ``time.timezone_missing``), because guessing their zone is how
meetings end up an hour off. Rules that speak of the wall clock (working hours,
"not before 10:00", which day it is) are applied in Europe/Copenhagen local time,
so inputs in any zone are converted to Copenhagen first, and every datetime this
module returns is in Europe/Copenhagen. `time` values (working hours, preferences)
are Copenhagen wall-clock times. Meeting lengths are wall-clock lengths; the two
DST switches happen at night, outside any working hours, so this never matters.

The search (`propose_slots`) splits each working day into cells of `resolution`
(15 minutes by default) and keeps one int bitmask per participant per day: bit i
set means "free for the whole of cell i". Busy blocks round outwards to whole cells
and working hours round inwards, so the search may miss a slot that is free only
to the minute, but it never proposes a slot that `check_meeting` would refuse.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from services.common.errors import DomainError
from services.common.holidays import closed_days, is_holiday

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
DAY = dt.timedelta(days=1)
DEFAULT_RESOLUTION = dt.timedelta(minutes=15)
# A horizon longer than this is a mistake, not a wish: refuse it rather than loop.
MAX_HORIZON = dt.timedelta(days=366)
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# --- time convention helpers -------------------------------------------------


def to_copenhagen(value: dt.datetime, field_name: str = "time") -> dt.datetime:
    """`value` as an aware Europe/Copenhagen datetime; refuses naive datetimes."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise DomainError(
            field_name,
            "time.timezone_missing",
            f"{value.isoformat()} has no time zone; give an offset or a zone",
        )
    return value.astimezone(COPENHAGEN)


def _wall(value: dt.datetime, field_name: str) -> dt.datetime:
    """Naive Copenhagen wall-clock time, used only inside this module for grid maths."""
    return to_copenhagen(value, field_name).replace(tzinfo=None)


def _aware(wall: dt.datetime) -> dt.datetime:
    return wall.replace(tzinfo=COPENHAGEN)


# --- the vocabulary of a meeting ---------------------------------------------


class MeetingRole(StrEnum):
    """Who a participant is to the pathway."""

    TOVHOLDER = "tovholder"  # the one lead coordinator; always required
    CITIZEN = "citizen"  # borgeren; always required
    MEMBER = "member"  # a team member from an agency
    NETWORK = "network"  # pårørende and network (relatives, friends)


class MeetingPlace(StrEnum):
    """Where the citizen would like to meet."""

    HOME = "home"  # i borgerens hjem
    FRONTEN = "fronten"  # Fronten, Parkvej 10, Ballerup
    ELSEWHERE = "elsewhere"  # school, a café, a walk ...


@dataclass(frozen=True)
class WorkingHours:
    """Weekly working hours: at most one window per weekday (index 0 = Monday).

    A lunch break or a half day off is a busy block, not a second window."""

    windows: tuple[tuple[dt.time, dt.time] | None, ...]

    def __post_init__(self) -> None:
        if len(self.windows) != 7:
            raise ValueError("working hours need one entry per weekday (7)")
        for window in self.windows:
            if window is None:
                continue
            begin, end = window
            if begin.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("working hours are Copenhagen wall-clock times, without tzinfo")
            if end <= begin:
                raise ValueError(f"working hours end {end} is not after start {begin}")

    @classmethod
    def weekly(cls, days: Mapping[int, tuple[dt.time, dt.time]]) -> WorkingHours:
        """Working hours from ``{weekday: (start, end)}``; missing weekdays are off."""
        return cls(tuple(days.get(weekday) for weekday in range(7)))

    @classmethod
    def standard(cls) -> WorkingHours:
        """The municipality's usual hours: Mon-Thu 08:00-15:30, Fri 08:00-13:00."""
        long_day = (dt.time(8, 0), dt.time(15, 30))
        return cls.weekly(
            {0: long_day, 1: long_day, 2: long_day, 3: long_day, 4: (dt.time(8, 0), dt.time(13, 0))}
        )

    def window_on(self, weekday: int) -> tuple[dt.time, dt.time] | None:
        return self.windows[weekday]

    def covers(self, start: dt.datetime, end: dt.datetime) -> bool:
        """True if [start, end) lies inside one day's window (aware datetimes)."""
        wall_start, wall_end = _wall(start, "start"), _wall(end, "end")
        window = self.windows[wall_start.weekday()]
        if window is None:
            return False
        day = wall_start.date()
        return dt.datetime.combine(
            day, window[0]
        ) <= wall_start and wall_end <= dt.datetime.combine(day, window[1])


@dataclass(frozen=True)
class BusyBlock:
    """A time when a participant cannot meet, [start, end). Only times are kept:
    what the participant is doing is none of the meeting's business.

    `ref` ties the block to its origin (a meeting id, an iCalendar UID) so that
    rescheduling a meeting can ignore the block the meeting itself put there."""

    start: dt.datetime
    end: dt.datetime
    ref: str | None = None

    def __post_init__(self) -> None:
        start = to_copenhagen(self.start, "busy.start")
        end = to_copenhagen(self.end, "busy.end")
        if end <= start:
            raise DomainError(
                "busy.end", "busy.end_before_start", "a busy block must end after it starts"
            )
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class Participant:
    """Someone invited to a meeting, with the times they can and cannot meet.

    `working_hours` None means no hours of their own (the citizen, relatives): they
    are bounded only by their busy blocks and by the others' hours."""

    participant_id: str
    role: MeetingRole = MeetingRole.MEMBER
    required: bool = True
    working_hours: WorkingHours | None = None
    busy: tuple[BusyBlock, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "busy", tuple(self.busy))  # accept any iterable

    @property
    def is_required(self) -> bool:
        """The tovholder and the citizen are required whatever `required` says."""
        return self.required or self.role in (MeetingRole.TOVHOLDER, MeetingRole.CITIZEN)

    @property
    def label(self) -> str:
        return self.name or self.participant_id


@dataclass(frozen=True)
class CitizenPreferences:
    """What suits the citizen. Soft: slots that fit rank first, others still count.

    `not_before`/`not_after` are Copenhagen wall-clock times (e.g. "not before
    10:00"); `weekdays` empty means any weekday suits."""

    not_before: dt.time | None = None
    not_after: dt.time | None = None
    weekdays: frozenset[int] = frozenset()
    place: MeetingPlace = MeetingPlace.FRONTEN


# Names of the preferences a slot can miss, as reported in `SlotProposal`.
MISSED_TIME_OF_DAY = "time_of_day"
MISSED_WEEKDAY = "weekday"


@dataclass(frozen=True)
class SlotProposal:
    """A candidate meeting time where every required participant is free."""

    start: dt.datetime
    end: dt.datetime
    place: MeetingPlace
    optional_attending: tuple[str, ...]
    optional_missing: tuple[str, ...]
    preference_misses: tuple[str, ...]

    @property
    def fits_preferences(self) -> bool:
        return not self.preference_misses


@dataclass(frozen=True)
class SearchStats:
    """What a search looked at, for the benchmark and for curious operators."""

    days_examined: int = 0  # working days inside the horizon that were looked at
    start_cells_examined: int = 0  # candidate start cells tested (in parallel, per day)
    feasible_starts: int = 0  # of those, free for every required participant


@dataclass(frozen=True)
class SlotSearch:
    proposals: list[SlotProposal]
    stats: SearchStats = field(default_factory=SearchStats)


@dataclass(frozen=True)
class MeetingCheck:
    """A concrete meeting that passed `check_meeting`; lists optional absentees."""

    optional_unavailable: tuple[str, ...] = ()


# --- validation shared by search and check -----------------------------------


def _check_participants(participants: Sequence[Participant]) -> None:
    seen: set[str] = set()
    for participant in participants:
        if participant.participant_id in seen:
            raise DomainError(
                "participants",
                "meeting.participant_duplicate",
                f"{participant.label} is listed twice",
            )
        seen.add(participant.participant_id)
    tovholdere = [p for p in participants if p.role is MeetingRole.TOVHOLDER]
    citizens = [p for p in participants if p.role is MeetingRole.CITIZEN]
    if not tovholdere:
        raise DomainError(
            "participants", "meeting.tovholder_missing", "a pathway meeting needs its tovholder"
        )
    if len(tovholdere) > 1:
        raise DomainError(
            "participants", "meeting.second_tovholder", "a pathway has one tovholder, not several"
        )
    if len(citizens) != 1:
        raise DomainError(
            "participants",
            "meeting.citizen_missing",
            "a pathway meeting is held with its one citizen",
        )


def _unavailability(
    participant: Participant, start: dt.datetime, end: dt.datetime, ignore_ref: str | None
) -> tuple[str, str] | None:
    """(rule, message) saying why `participant` cannot attend, or None."""
    hours = participant.working_hours
    if hours is not None and not hours.covers(start, end):
        window = hours.window_on(start.weekday())
        said = (
            "is not working that day"
            if window is None
            else (f"works {window[0]:%H:%M}-{window[1]:%H:%M} on {WEEKDAY_NAMES[start.weekday()]}")
        )
        return (
            "meeting.outside_working_hours",
            f"{participant.label} {said}; the meeting is {start:%H:%M}-{end:%H:%M}",
        )
    for block in participant.busy:
        if block.ref is not None and block.ref == ignore_ref:
            continue
        if block.overlaps(start, end):
            busy_from, busy_to = block.start, block.end
            return (
                "meeting.participant_busy",
                f"{participant.label} is busy {busy_from:%Y-%m-%d %H:%M}-{busy_to:%Y-%m-%d %H:%M}",
            )
    return None


def check_meeting(
    participants: Sequence[Participant],
    start: dt.datetime,
    end: dt.datetime,
    *,
    ignore_ref: str | None = None,
) -> MeetingCheck:
    """Validate a concrete meeting time before scheduling or rescheduling it.

    Raises `DomainError` on the first broken rule, in this order:
    ``meeting.end_before_start``, ``meeting.spans_days``, ``meeting.weekend``,
    ``meeting.holiday`` (field ``meeting.start``/``meeting.end``), then per required
    participant ``meeting.outside_working_hours`` or ``meeting.participant_busy``
    with field ``participants.<participant_id>``. Optional participants who cannot
    come do not block the meeting; they are returned. Busy blocks whose `ref` equals
    `ignore_ref` are ignored (the meeting being rescheduled)."""
    _check_participants(participants)
    start = to_copenhagen(start, "meeting.start")
    end = to_copenhagen(end, "meeting.end")
    if end <= start:
        raise DomainError(
            "meeting.end", "meeting.end_before_start", "the meeting must end after it starts"
        )
    day = start.date()
    if (end - dt.timedelta(microseconds=1)).date() != day:
        raise DomainError(
            "meeting.end", "meeting.spans_days", "a meeting starts and ends on the same day"
        )
    if day.weekday() >= 5:
        raise DomainError(
            "meeting.start",
            "meeting.weekend",
            f"{day:%Y-%m-%d} is a {day:%A}; meetings are held on weekdays",
        )
    if is_holiday(day):
        raise DomainError(
            "meeting.start",
            "meeting.holiday",
            f"{day:%Y-%m-%d} is {closed_days(day.year)[day]}; the offices are closed",
        )
    optional_unavailable: list[str] = []
    for participant in participants:
        problem = _unavailability(participant, start, end, ignore_ref)
        if problem is None:
            continue
        if participant.is_required:
            rule, message = problem
            raise DomainError(f"participants.{participant.participant_id}", rule, message)
        optional_unavailable.append(participant.participant_id)
    return MeetingCheck(optional_unavailable=tuple(optional_unavailable))


# --- the bitmask search ------------------------------------------------------


def _ceil_div(a: dt.timedelta, b: dt.timedelta) -> int:
    return -((-a) // b)


def _cell_range(lo: int, hi: int) -> int:
    """Bits lo..hi-1 set."""
    return ((1 << (hi - lo)) - 1) << lo if hi > lo else 0


@lru_cache(maxsize=1024)
def _hours_mask(
    hours: WorkingHours | None, weekday: int, resolution: dt.timedelta, cells: int
) -> int:
    """Cells lying wholly inside the working hours of `weekday`."""
    if hours is None:
        return _cell_range(0, cells)
    window = hours.window_on(weekday)
    if window is None:
        return 0
    midnight = dt.datetime(2000, 1, 1)
    begin = dt.datetime.combine(midnight.date(), window[0]) - midnight
    end = dt.datetime.combine(midnight.date(), window[1]) - midnight
    return _cell_range(_ceil_div(begin, resolution), end // resolution)


def _busy_masks(
    blocks: Iterable[BusyBlock],
    first_day: dt.date,
    last_day: dt.date,
    resolution: dt.timedelta,
    ignore_ref: str | None,
) -> dict[int, int]:
    """Per day (as an ordinal), the cells touched by any busy block, rounded outwards.

    Integer seconds from the wall-clock fields, not datetime arithmetic: this loop
    runs once per busy block per search and dominated the search time."""
    masks: dict[int, int] = {}
    step = resolution // dt.timedelta(seconds=1)
    cells = 86_400 // step
    first, last = first_day.toordinal(), last_day.toordinal()
    for block in blocks:
        if block.ref is not None and block.ref == ignore_ref:
            continue
        start, end = block.start, block.end  # aware Copenhagen: fields are wall clock
        start_s = (start.toordinal() - first) * 86_400 + (
            start.hour * 3600 + start.minute * 60 + start.second
        )
        end_s = (end.toordinal() - first) * 86_400 + (
            end.hour * 3600 + end.minute * 60 + end.second + (end.microsecond > 0)
        )
        lo, hi = start_s // step, -(-end_s // step)  # global cell numbers
        day, last_cell_day = max(lo // cells, 0), min((hi - 1) // cells, last - first)
        while day <= last_cell_day:
            offset = day * cells
            mask = _cell_range(max(lo - offset, 0), min(hi - offset, cells))
            masks[first + day] = masks.get(first + day, 0) | mask
            day += 1
    return masks


def _runs(mask: int, length: int) -> int:
    """Bit i set iff bits i..i+length-1 are all set in `mask` (doubling shifts)."""
    result, span = mask, 1
    while span < length:
        step = min(span, length - span)
        result &= result >> step
        span += step
    return result


def _preference_misses(
    prefs: CitizenPreferences, start: dt.datetime, end: dt.datetime
) -> tuple[str, ...]:
    misses: list[str] = []
    if (prefs.not_before is not None and start.time() < prefs.not_before) or (
        prefs.not_after is not None and (end.date() > start.date() or end.time() > prefs.not_after)
    ):
        misses.append(MISSED_TIME_OF_DAY)
    if prefs.weekdays and start.weekday() not in prefs.weekdays:
        misses.append(MISSED_WEEKDAY)
    return tuple(misses)


# (preference misses, date ordinal, -optional attending, start cell): smaller ranks first;
# then the day, the optional participants attending and the preferences missed.
_Ranked = tuple[tuple[int, int, int, int], dt.date, tuple[str, ...], tuple[str, ...]]


def find_slots(
    participants: Sequence[Participant],
    length: dt.timedelta,
    horizon_start: dt.datetime,
    horizon_end: dt.datetime,
    *,
    resolution: dt.timedelta = DEFAULT_RESOLUTION,
    limit: int = 5,
    preferences: CitizenPreferences | None = None,
    max_per_day: int | None = None,
    ignore_ref: str | None = None,
) -> SlotSearch:
    """`propose_slots` with the search statistics; see there."""
    _check_participants(participants)
    if length <= dt.timedelta():
        raise DomainError("length", "slots.length_invalid", "a meeting must last some time")
    if resolution <= dt.timedelta() or DAY % resolution:
        raise DomainError(
            "resolution",
            "slots.resolution_invalid",
            "the resolution must divide a day (e.g. 5, 10, 15 or 30 minutes)",
        )
    if limit < 1 or (max_per_day is not None and max_per_day < 1):
        raise DomainError("limit", "slots.limit_invalid", "ask for at least one slot")
    first = _wall(horizon_start, "horizon_start")
    last = _wall(horizon_end, "horizon_end")
    if last <= first:
        raise DomainError(
            "horizon_end", "slots.horizon_invalid", "the horizon must end after it starts"
        )
    if last - first > MAX_HORIZON:
        raise DomainError("horizon_end", "slots.horizon_too_long", "search at most a year ahead")
    prefs = preferences or CitizenPreferences()
    cells = DAY // resolution
    length_cells = _ceil_div(length, resolution)
    required = [p for p in participants if p.is_required]
    optional = [p for p in participants if not p.is_required]
    busy = {
        p.participant_id: _busy_masks(p.busy, first.date(), last.date(), resolution, ignore_ref)
        for p in participants
    }

    def free_mask(participant: Participant, day: dt.date) -> int:
        hours = _hours_mask(participant.working_hours, day.weekday(), resolution, cells)
        return hours & ~busy[participant.participant_id].get(day.toordinal(), 0)

    ranked: list[_Ranked] = []
    fitting = days_examined = start_cells = feasible = 0
    day = first.date()
    while day <= last.date():
        if day.weekday() >= 5 or is_holiday(day):
            day += DAY
            continue
        midnight = dt.datetime.combine(day, dt.time())
        earliest = max(_ceil_div(first - midnight, resolution), 0)
        latest = min((last - length - midnight) // resolution, cells - length_cells)
        starts = _cell_range(earliest, latest + 1)
        if not starts:  # the horizon leaves no room on this day
            day += DAY
            continue
        days_examined += 1
        start_cells += starts.bit_count()
        together = _cell_range(0, cells)
        for participant in required:
            together &= free_mask(participant, day)
        starts &= _runs(together, length_cells)
        feasible += starts.bit_count()
        if starts:
            optional_runs = [
                (p.participant_id, _runs(free_mask(p, day), length_cells)) for p in optional
            ]
            todays: list[_Ranked] = []
            remaining = starts
            while remaining:
                low = remaining & -remaining
                cell = low.bit_length() - 1
                remaining ^= low
                slot_start = midnight + cell * resolution
                misses = _preference_misses(prefs, slot_start, slot_start + length)
                attending = tuple(pid for pid, runs in optional_runs if runs >> cell & 1)
                key = (len(misses), day.toordinal(), -len(attending), cell)
                todays.append((key, day, attending, misses))
            if max_per_day is not None:
                todays = heapq.nsmallest(max_per_day, todays)
            ranked.extend(todays)
            fitting += sum(1 for entry in todays if entry[0][0] == 0)
            # Later days rank after every slot that fits all preferences: stop early.
            if fitting >= limit:
                break
        day += DAY

    proposals = []
    for key, slot_day, attending, misses in heapq.nsmallest(limit, ranked):
        start_wall = dt.datetime.combine(slot_day, dt.time()) + key[3] * resolution
        proposals.append(
            SlotProposal(
                start=_aware(start_wall),
                end=_aware(start_wall + length),
                place=prefs.place,
                optional_attending=attending,
                optional_missing=tuple(
                    p.participant_id for p in optional if p.participant_id not in attending
                ),
                preference_misses=misses,
            )
        )
    stats = SearchStats(days_examined, start_cells, feasible)
    return SlotSearch(proposals=proposals, stats=stats)


def propose_slots(
    participants: Sequence[Participant],
    length: dt.timedelta,
    horizon_start: dt.datetime,
    horizon_end: dt.datetime,
    *,
    resolution: dt.timedelta = DEFAULT_RESOLUTION,
    limit: int = 5,
    preferences: CitizenPreferences | None = None,
    max_per_day: int | None = None,
    ignore_ref: str | None = None,
) -> list[SlotProposal]:
    """The best `limit` meeting slots of `length` within [horizon_start, horizon_end).

    Every required participant (always the tovholder and the citizen) is free for
    the whole slot and inside their working hours; no slot is on a weekend or a
    Danish holiday/closed day. Slots start on multiples of `resolution` after
    midnight. Ranking: slots that fit the citizen's preferences first (fewest
    missed preferences), then the earliest date, then the most optional
    participants able to attend, then the earliest time. `max_per_day` caps the
    slots proposed per day, so that the citizen is offered different days.
    Busy blocks whose `ref` equals `ignore_ref` are ignored (rescheduling)."""
    return find_slots(
        participants,
        length,
        horizon_start,
        horizon_end,
        resolution=resolution,
        limit=limit,
        preferences=preferences,
        max_per_day=max_per_day,
        ignore_ref=ignore_ref,
    ).proposals
