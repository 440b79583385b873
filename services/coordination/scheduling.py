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

The search (`propose_slots`) places meetings on a grid of `resolution` (15 minutes
by default) from each Copenhagen midnight. Busy blocks round outwards to whole
cells of the grid, working hours round inwards, and a meeting occupies whole cells,
so the search may miss a slot that is free only to the minute, but it never
proposes a slot that `check_meeting` would refuse. It merges the required
participants' busy blocks once into one sorted union and walks the free gaps of
each working day; optional participants are asked by bisection, and only about
the slots that can make the list.
"""

from __future__ import annotations

import datetime as dt
import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import filterfalse, islice
from operator import attrgetter, le
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


# --- the search ----------------------------------------------------------------
#
# Times inside a day are counted in cells of `resolution` from the day's midnight.
# A busy block occupies every cell it touches (rounded outwards), working hours
# every cell wholly inside them (rounded inwards), and a meeting of `length` the
# ceil(length / resolution) cells from its start. A slot's bounds lie on the grid,
# so "the slot's cells meet a block's rounded cells" is the same as "the slot's cell
# span overlaps the block", compared exactly: blocks are never rounded one by one
# but compared as aware Copenhagen datetimes (all with the same tzinfo, so Python
# compares their wall-clock fields, as the rules do).

_START = attrgetter("start")
_MICROSECOND = dt.timedelta(microseconds=1)


def _ceil_div(a: dt.timedelta, b: dt.timedelta) -> int:
    return -((-a) // b)


def _us(value: dt.time) -> int:
    """A wall-clock time of day in microseconds after midnight."""
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


def _hours_cells(
    hours: WorkingHours | None, weekday: int, resolution: dt.timedelta, cells: int
) -> tuple[int, int]:
    """[first, end) cells lying wholly inside the working hours of `weekday`;
    first >= end when there are none."""
    if hours is None:
        return 0, cells
    window = hours.window_on(weekday)
    if window is None:
        return 0, 0
    step = resolution // _MICROSECOND
    return -(-_us(window[0]) // step), _us(window[1]) // step


def _relevant(
    blocks: Iterable[BusyBlock], lo: dt.datetime, hi: dt.datetime, ignore_ref: str | None
) -> list[BusyBlock]:
    """The blocks overlapping [lo, hi), but the one being rescheduled."""
    if ignore_ref is None:
        return [block for block in blocks if block.start < hi and block.end > lo]
    return [
        block
        for block in blocks
        if block.start < hi and block.end > lo and block.ref != ignore_ref
    ]


def _union(blocks: list[BusyBlock]) -> tuple[list[dt.datetime], list[dt.datetime]]:
    """The blocks merged into disjoint intervals: (starts, ends), both ascending."""
    starts: list[dt.datetime] = []
    ends: list[dt.datetime] = []
    end: dt.datetime | None = None
    for block in sorted(blocks, key=_START):
        if end is not None and block.start <= end:
            if block.end > end:
                end = ends[-1] = block.end
        else:
            starts.append(block.start)
            end = block.end
            ends.append(end)
    return starts, ends


def _reach(blocks: list[BusyBlock]) -> tuple[list[dt.datetime], list[dt.datetime]]:
    """An optional participant's busy blocks as (starts, reach): the starts in order,
    and for each the latest end so far, so that the blocks starting before t reach
    past u iff reach[bisect_left(starts, t) - 1] > u."""
    blocks.sort(key=_START)
    reach = [block.end for block in blocks]
    if not all(map(le, reach, islice(reach, 1, None))):  # a block lies inside another
        for i in range(1, len(reach)):
            if reach[i] < reach[i - 1]:
                reach[i] = reach[i - 1]
    return [block.start for block in blocks], reach


def _free_starts(
    union: tuple[list[dt.datetime], list[dt.datetime]],
    midnight: dt.datetime,
    resolution: dt.timedelta,
    first: int,
    last: int,
    length_cells: int,
) -> list[int]:
    """Start cells in [first, last] whose `length_cells` cells meet no interval of
    `union`: the gaps between the intervals that touch the day, walked in order."""
    union_starts, union_ends = union
    free: list[int] = []
    cursor = first  # the earliest start cell not yet ruled out
    i = bisect_right(union_ends, midnight)  # the first interval ending after midnight
    while i < len(union_starts):
        busy_from = (union_starts[i] - midnight) // resolution  # rounded outwards
        if busy_from >= last + length_cells:
            break  # this and every later interval begin after the last slot would end
        if busy_from - length_cells >= cursor:
            free.extend(range(cursor, min(busy_from - length_cells, last) + 1))
        busy_to = -((midnight - union_ends[i]) // resolution)
        if busy_to > cursor:
            cursor = busy_to
            if cursor > last:
                return free
        i += 1
    free.extend(range(cursor, last + 1))
    return free


@dataclass(frozen=True)
class _Group:
    """A day's feasible starts that miss the same preferences, and how many of them
    can be proposed (all of them, or what `max_per_day` leaves)."""

    misses: tuple[str, ...]
    day: dt.date
    midnight: dt.datetime  # aware
    cells: list[int]
    take: int


# (preference misses, date ordinal, -optional attending, start cell): smaller ranks first;
# then the day, the optional participants attending and the preferences missed.
_Ranked = tuple[tuple[int, int, int, int], dt.date, tuple[str, ...], tuple[str, ...]]


def checked_search(
    participants: Sequence[Participant],
    length: dt.timedelta,
    horizon_start: dt.datetime,
    horizon_end: dt.datetime,
    resolution: dt.timedelta,
    limit: int,
    max_per_day: int | None,
) -> tuple[dt.datetime, dt.datetime]:
    """A slot search's arguments checked (DomainError naming the field); the horizon's
    first and last wall-clock moments."""
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
    return first, last


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
    """`propose_slots` with the search statistics; see there.

    First the required participants' busy blocks are merged into one sorted union,
    whose free gaps are walked day by day, up to the day on which enough slots fit
    every preference. The rank of a slot depends on the optional participants only
    among the same day's slots that miss the same preferences, so they are asked
    (by bisection) only about the groups of slots that can make the list."""
    first, last = checked_search(participants, length, horizon_start, horizon_end,
                                 resolution, limit, max_per_day)
    prefs = preferences or CitizenPreferences()
    cells = DAY // resolution
    length_cells = _ceil_div(length, resolution)
    required = [p for p in participants if p.is_required]
    optional = [p for p in participants if not p.is_required]
    days_from = _aware(dt.datetime.combine(first.date(), dt.time()))
    days_to = _aware(dt.datetime.combine(last.date() + DAY, dt.time()))
    union = _union(
        [
            block
            for p in required
            for block in _relevant(p.busy, days_from, days_to, ignore_ref)
        ]
    )
    # The start cells the required participants' working hours allow, per weekday.
    allowed: dict[int, tuple[int, int]] = {}
    for weekday in range(5):
        low, high = 0, cells - length_cells
        for participant in required:
            begin, end = _hours_cells(participant.working_hours, weekday, resolution, cells)
            low, high = max(low, begin), min(high, end - length_cells)
        allowed[weekday] = low, high
    # The citizen's preferences in microseconds after midnight, as the start cells are.
    step_us, length_us = resolution // _MICROSECOND, length // _MICROSECOND
    not_before = _us(prefs.not_before) if prefs.not_before is not None else None
    not_after = _us(prefs.not_after) if prefs.not_after is not None else None
    on_time, early_or_late = (), (MISSED_TIME_OF_DAY,)
    cap = max_per_day if max_per_day is not None else cells

    # 1. Each working day's feasible starts, grouped by the preferences they miss.
    groups: list[_Group] = []
    fitting = days_examined = start_cells = feasible = 0
    day = first.date()
    while day <= last.date():
        weekday = day.weekday()
        if weekday >= 5 or is_holiday(day):
            day += DAY
            continue
        midnight = dt.datetime.combine(day, dt.time())
        earliest = max(_ceil_div(first - midnight, resolution), 0)
        latest = min((last - length - midnight) // resolution, cells - length_cells)
        if earliest > latest:  # the horizon leaves no room on this day
            day += DAY
            continue
        days_examined += 1
        start_cells += latest - earliest + 1
        low, high = allowed[weekday]
        low, high = max(low, earliest), min(high, latest)
        if low > high:
            day += DAY
            continue
        aware_midnight = _aware(midnight)
        free = _free_starts(union, aware_midnight, resolution, low, high, length_cells)
        if not free:
            day += DAY
            continue
        feasible += len(free)
        good: list[int] = []
        missing: list[int] = []
        for cell in free:
            start_us = cell * step_us
            end_us = start_us + length_us
            # (an end at or after midnight is after any "not after": end_us > not_after)
            if (not_before is not None and start_us < not_before) or (
                not_after is not None and end_us > not_after
            ):
                missing.append(cell)
            else:
                good.append(cell)
        wrong_day = (MISSED_WEEKDAY,) if prefs.weekdays and weekday not in prefs.weekdays else ()
        taken = min(len(good), cap)
        if good:
            groups.append(_Group(on_time + wrong_day, day, aware_midnight, good, taken))
        if missing and taken < cap:
            groups.append(
                _Group(
                    early_or_late + wrong_day,
                    day,
                    aware_midnight,
                    missing,
                    min(len(missing), cap - taken),
                )
            )
        if not wrong_day:
            fitting += taken
            # Later days rank after every slot that fits all preferences: stop early.
            if fitting >= limit:
                break
        day += DAY

    # 2. The groups that make the list, in rank order; the optional participants
    # decide the order inside a group (and which slots of it a day may propose).
    groups.sort(key=lambda group: (len(group.misses), group.day))
    chosen: list[_Group] = []
    count = 0
    for group in groups:
        if count >= limit:
            break
        chosen.append(group)
        count += group.take

    ranked: list[_Ranked] = []
    if chosen:
        lo = min(group.midnight for group in chosen)
        hi = max(group.midnight for group in chosen) + DAY
        calendars = [_reach(_relevant(p.busy, lo, hi, ignore_ref)) for p in optional]
        span = length_cells * resolution  # the cells a slot occupies
        # Per weekday: (id, first and last start cell in their hours, busy starts, reach).
        tables: dict[int, list[tuple[str, int, int, list[dt.datetime], list[dt.datetime]]]] = {}
        for group in chosen:
            weekday = group.day.weekday()
            table = tables.get(weekday)
            if table is None:
                table = tables[weekday] = []
                for p, (starts, reach) in zip(optional, calendars, strict=True):
                    begin, end = _hours_cells(p.working_hours, weekday, resolution, cells)
                    table.append((p.participant_id, begin, end - length_cells, starts, reach))
            ordinal = group.day.toordinal()
            entries: list[_Ranked] = []
            for cell in group.cells:
                slot_start = group.midnight + cell * resolution
                slot_end = slot_start + span
                attending = tuple(
                    [
                        pid
                        for pid, first, last_start, starts, reach in table
                        if first <= cell <= last_start
                        and (
                            (i := bisect_left(starts, slot_end)) == 0 or reach[i - 1] <= slot_start
                        )
                    ]
                )
                key = (len(group.misses), ordinal, -len(attending), cell)
                entries.append((key, group.day, attending, group.misses))
            ranked.extend(
                entries if group.take == len(entries) else heapq.nsmallest(group.take, entries)
            )

    optional_ids = [p.participant_id for p in optional]
    proposals = []
    for key, slot_day, attending_ids, misses in heapq.nsmallest(limit, ranked):
        start_wall = dt.datetime.combine(slot_day, dt.time()) + key[3] * resolution
        proposals.append(
            SlotProposal(
                start=_aware(start_wall),
                end=_aware(start_wall + length),
                place=prefs.place,
                optional_attending=attending_ids,
                optional_missing=tuple(filterfalse(set(attending_ids).__contains__, optional_ids)),
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
