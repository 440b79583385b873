"""Benchmark: cross-team slot search, the current search against the one it replaced.

Run from the repository root:

    .venv/bin/python bench/slot_search.py [--rounds 5] [--repeat 15] [--naive-rounds 1]

Two teams, both on a 5-minute grid (busy blocks on 5-minute boundaries, so the
grid is exact): 12 people over 8 weeks (tovholder, citizen, eight professionals,
two parents; 3 required) and 50 people over 26 weeks (the same 12 plus 38 optional
professionals and relatives). Random calendars with a fixed seed: 30-50 % of each
person's day busy, in blocks of 30 minutes to 3 hours. Two queries for each team:

- typical: what the tovholder asks for (5 slots, one per day, citizen preferences);
- exhaustive: every feasible slot ranked (a limit high enough that nothing stops early).

Three implementations, each timed with `time.perf_counter`:

- current: `services.coordination.scheduling.find_slots` (the required participants'
  busy blocks merged once into a sorted union, free gaps walked day by day, optional
  participants asked by bisection; days after the search has enough are not read);
- previous: the bitmask search it replaced (one int mask per participant per day, every
  busy block of every participant converted up front), kept below verbatim as the
  reference, with its helpers renamed `_prev_...`;
- naive: `check_meeting` at every grid start, scanning every busy block (exhaustive
  query only: it is what every other search must agree with).

A round times each implementation (the median of --repeat calls after one warm-up call,
current and previous taking turns to go first) and takes the ratios within the round;
printed are the medians over --rounds rounds.
Every round also checks that current and previous give identical proposals and
statistics, and the exhaustive search the same starts as the naive scan.

Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from services.common.errors import DomainError
from services.common.holidays import is_holiday
from services.coordination.scheduling import (
    COPENHAGEN,
    DAY,
    DEFAULT_RESOLUTION,
    MISSED_TIME_OF_DAY,
    MISSED_WEEKDAY,
    BusyBlock,
    CitizenPreferences,
    MeetingPlace,
    MeetingRole,
    Participant,
    SearchStats,
    SlotProposal,
    SlotSearch,
    WorkingHours,
    _aware,
    check_meeting,
    checked_search,
    find_slots,
)

T = TypeVar("T")

SEED = 2018  # Fronten opened in 2018
FIRST_DAY = dt.date(2025, 4, 14)  # with Easter, Kristi himmelfart, 5 June and pinse
LENGTH = dt.timedelta(hours=1)
RESOLUTION = dt.timedelta(minutes=5)
STANDARD = WorkingHours.standard()
SCHOOL_DAY = WorkingHours.weekly({d: (dt.time(8), dt.time(14)) for d in range(5)})
CLINIC = WorkingHours.weekly({d: (dt.time(9), dt.time(15)) for d in range(4)})
# Busy blocks for people without working hours are drawn inside this day.
AWAKE = (dt.time(8), dt.time(16))
PREFERENCES = CitizenPreferences(
    not_before=dt.time(10), weekdays=frozenset({1, 3}), place=MeetingPlace.HOME
)

# (id, role, required, working hours)
TEAM: list[tuple[str, MeetingRole, bool, WorkingHours | None]] = [
    ("tovholder", MeetingRole.TOVHOLDER, True, STANDARD),
    ("citizen", MeetingRole.CITIZEN, True, None),
    ("teacher", MeetingRole.MEMBER, False, SCHOOL_DAY),
    ("upoint", MeetingRole.MEMBER, True, STANDARD),
    ("jobcenter", MeetingRole.MEMBER, False, STANDARD),
    ("mentor", MeetingRole.MEMBER, False, STANDARD),
    ("psychiatry", MeetingRole.MEMBER, False, CLINIC),
    ("housing", MeetingRole.MEMBER, False, STANDARD),
    ("socialpaedagog", MeetingRole.MEMBER, False, STANDARD),
    ("health", MeetingRole.MEMBER, False, STANDARD),
    ("mother", MeetingRole.NETWORK, False, None),
    ("father", MeetingRole.NETWORK, False, None),
]
# (people, weeks): the team above, and a large network of 50 over half a year.
SIZES = ((12, 8), (50, 26))


def team_roles(people: int) -> list[tuple[str, MeetingRole, bool, WorkingHours | None]]:
    """`TEAM`, then more optional people cycling through its optional roles."""
    extra = [entry for entry in TEAM if not entry[2]]
    roles = list(TEAM[:people])
    for index in range(people - len(roles)):
        name, role, _, hours = extra[index % len(extra)]
        roles.append((f"{name}-{index // len(extra) + 2}", role, False, hours))
    return roles


def _minutes(value: dt.time) -> int:
    return value.hour * 60 + value.minute


def random_busy_day(
    rng: random.Random, day: dt.date, window: tuple[dt.time, dt.time]
) -> tuple[list[BusyBlock], int, int]:
    """Busy blocks filling 30-50 % of `window` on `day`; (blocks, busy min, window min)."""
    begin, end = _minutes(window[0]), _minutes(window[1])
    span = end - begin
    target = int(rng.uniform(0.30, 0.50) * span)
    taken = [False] * span
    busy = 0
    blocks = []
    for _ in range(50):  # enough tries to reach the target on a crowded day
        if target - busy < 30:
            break
        length = rng.randrange(30, min(180, target - busy) + 1, 5)
        start = rng.randrange(0, max(span - length, 1), 5)
        stop = min(start + length, span)
        if any(taken[start:stop]):
            continue
        taken[start:stop] = [True] * (stop - start)
        busy += stop - start
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=COPENHAGEN)
        blocks.append(
            BusyBlock(
                midnight + dt.timedelta(minutes=begin + start),
                midnight + dt.timedelta(minutes=begin + stop),
            )
        )
    return blocks, busy, span


@dataclass(frozen=True)
class Scenario:
    people: int
    weeks: int
    team: list[Participant]
    busy_share: float
    block_count: int

    @property
    def horizon(self) -> tuple[dt.datetime, dt.datetime]:
        start = dt.datetime.combine(FIRST_DAY, dt.time(), tzinfo=COPENHAGEN)
        return start, start + dt.timedelta(weeks=self.weeks)


def build_team(people: int, weeks: int, seed: int = SEED) -> Scenario:
    """The team with random calendars, with its busy share and number of blocks."""
    rng = random.Random(seed)
    team = []
    busy_minutes = window_minutes = block_count = 0
    for participant_id, role, required, hours in team_roles(people):
        blocks: list[BusyBlock] = []
        for offset in range(weeks * 7):
            day = FIRST_DAY + dt.timedelta(days=offset)
            window = (
                hours.window_on(day.weekday()) if hours else (AWAKE if day.weekday() < 5 else None)
            )
            if window is None:
                continue
            day_blocks, busy, span = random_busy_day(rng, day, window)
            blocks += day_blocks
            busy_minutes += busy
            window_minutes += span
        block_count += len(blocks)
        team.append(
            Participant(
                participant_id, role, required=required, working_hours=hours, busy=tuple(blocks)
            )
        )
    return Scenario(people, weeks, team, busy_minutes / window_minutes, block_count)


def median(values: Sequence[float]) -> float:
    """The median (not `statistics.median`: bench/statistics.py shadows that module)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def timed(call: Callable[[], T], repeat: int) -> tuple[float, T]:
    """Run `call` once to warm up, then `repeat` times; the median in ms, the last result."""
    result = call()  # warm up caches (working-hours cells) as a running service would have
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - begin) * 1000)
    return median(times), result


def naive_scan(scenario: Scenario) -> set[dt.datetime]:
    """Every grid start accepted by check_meeting: the slow, obvious way."""
    start, end = scenario.horizon
    accepted = set()
    cell = start
    while cell + LENGTH <= end:
        try:
            check_meeting(scenario.team, cell, cell + LENGTH)
        except DomainError:
            pass
        else:
            accepted.add(cell)
        cell = (cell.replace(tzinfo=None) + RESOLUTION).replace(tzinfo=COPENHAGEN)
    return accepted


def query(
    search: Callable[..., SlotSearch], scenario: Scenario, exhaustive: bool
) -> Callable[[], SlotSearch]:
    start, end = scenario.horizon
    if exhaustive:
        return lambda: search(
            scenario.team, LENGTH, start, end, resolution=RESOLUTION, limit=100_000,
            preferences=PREFERENCES,
        )
    return lambda: search(
        scenario.team, LENGTH, start, end, resolution=RESOLUTION, limit=5,
        preferences=PREFERENCES, max_per_day=1,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=15, help="calls per round (median)")
    parser.add_argument(
        "--naive-rounds", type=int, default=1,
        help="rounds that also time the naive scan, one call each (0: none)",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()

    print(
        f"grid {RESOLUTION.seconds // 60} min, meeting {LENGTH.seconds // 60} min, from "
        f"{FIRST_DAY}, seed {args.seed}, {args.rounds} rounds of {args.repeat} calls "
        "(median per round; printed: median over rounds)"
    )
    for people, weeks in SIZES:
        scenario = build_team(people, weeks, args.seed)
        required = sum(p.is_required for p in scenario.team)
        print(
            f"\n{people} people ({required} required) x {weeks} weeks: "
            f"{scenario.block_count} busy blocks, busy share {scenario.busy_share:.0%}"
        )
        for name, exhaustive in (("typical", False), ("exhaustive", True)):
            current_ms: list[float] = []
            previous_ms: list[float] = []
            naive_ms: list[float] = []
            agree = True
            for round_number in range(args.rounds):
                # Alternate which goes first, so neither always runs on a warmer machine.
                if round_number % 2:
                    before, reference = timed(
                        query(previous_find_slots, scenario, exhaustive), args.repeat
                    )
                now, result = timed(query(find_slots, scenario, exhaustive), args.repeat)
                if not round_number % 2:
                    before, reference = timed(
                        query(previous_find_slots, scenario, exhaustive), args.repeat
                    )
                current_ms.append(now)
                previous_ms.append(before)
                agree &= result == reference
                if exhaustive and round_number < args.naive_rounds:
                    begin = time.perf_counter()
                    naive = naive_scan(scenario)
                    naive_ms.append((time.perf_counter() - begin) * 1000)
                    agree &= naive == {p.start for p in result.proposals}
            stats = result.stats
            ratios = [b / a for a, b in zip(current_ms, previous_ms, strict=True)]
            line = (
                f"  {name:<10}  current {median(current_ms):7.2f} ms"
                f"  previous {median(previous_ms):7.2f} ms"
                f"  previous/current {median(ratios):5.1f}x"
            )
            if naive_ms:
                naive_ratios = [n / c for n, c in zip(naive_ms, current_ms, strict=False)]
                line += (
                    f"  naive {median(naive_ms):8.1f} ms"
                    f"  naive/current {median(naive_ratios):6.0f}x"
                )
            print(line)
            print(
                f"  {'':<10}  days {stats.days_examined}, candidate starts "
                f"{stats.start_cells_examined}, feasible {stats.feasible_starts}, "
                f"slots {len(result.proposals)}, identical results: {agree}"
            )
        typical = find_slots(
            scenario.team, LENGTH, *scenario.horizon, resolution=RESOLUTION, limit=5,
            preferences=PREFERENCES, max_per_day=1,
        )
        print("  typical proposals:")
        for proposal in typical.proposals:
            invited = len(proposal.optional_attending) + len(proposal.optional_missing)
            print(
                f"    {proposal.start:%a %Y-%m-%d %H:%M}  optional attending "
                f"{len(proposal.optional_attending)}/{invited}"
                f"  missed preferences {list(proposal.preference_misses) or '-'}"
            )


# --- the previous search, kept as the reference ------------------------------
# Verbatim from services/coordination/scheduling.py before the gap walk, but for the
# names (previous_find_slots, _prev_...).

def _prev_ceil_div(a: dt.timedelta, b: dt.timedelta) -> int:
    return -((-a) // b)


def _prev_cell_range(lo: int, hi: int) -> int:
    """Bits lo..hi-1 set."""
    return ((1 << (hi - lo)) - 1) << lo if hi > lo else 0


@lru_cache(maxsize=1024)
def _prev_hours_mask(
    hours: WorkingHours | None, weekday: int, resolution: dt.timedelta, cells: int
) -> int:
    """Cells lying wholly inside the working hours of `weekday`."""
    if hours is None:
        return _prev_cell_range(0, cells)
    window = hours.window_on(weekday)
    if window is None:
        return 0
    midnight = dt.datetime(2000, 1, 1)
    begin = dt.datetime.combine(midnight.date(), window[0]) - midnight
    end = dt.datetime.combine(midnight.date(), window[1]) - midnight
    return _prev_cell_range(_prev_ceil_div(begin, resolution), end // resolution)


def _prev_busy_masks(
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
            mask = _prev_cell_range(max(lo - offset, 0), min(hi - offset, cells))
            masks[first + day] = masks.get(first + day, 0) | mask
            day += 1
    return masks


def _prev_runs(mask: int, length: int) -> int:
    """Bit i set iff bits i..i+length-1 are all set in `mask` (doubling shifts)."""
    result, span = mask, 1
    while span < length:
        step = min(span, length - span)
        result &= result >> step
        span += step
    return result


def _prev_preference_misses(
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


def previous_find_slots(
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
    """The bitmask search as it was before the gap walk replaced it."""
    first, last = checked_search(participants, length, horizon_start, horizon_end,
                                 resolution, limit, max_per_day)
    prefs = preferences or CitizenPreferences()
    cells = DAY // resolution
    length_cells = _prev_ceil_div(length, resolution)
    required = [p for p in participants if p.is_required]
    optional = [p for p in participants if not p.is_required]
    busy = {
        p.participant_id: _prev_busy_masks(
            p.busy, first.date(), last.date(), resolution, ignore_ref
        )
        for p in participants
    }

    def free_mask(participant: Participant, day: dt.date) -> int:
        hours = _prev_hours_mask(participant.working_hours, day.weekday(), resolution, cells)
        return hours & ~busy[participant.participant_id].get(day.toordinal(), 0)

    ranked: list[_Ranked] = []
    fitting = days_examined = start_cells = feasible = 0
    day = first.date()
    while day <= last.date():
        if day.weekday() >= 5 or is_holiday(day):
            day += DAY
            continue
        midnight = dt.datetime.combine(day, dt.time())
        earliest = max(_prev_ceil_div(first - midnight, resolution), 0)
        latest = min((last - length - midnight) // resolution, cells - length_cells)
        starts = _prev_cell_range(earliest, latest + 1)
        if not starts:  # the horizon leaves no room on this day
            day += DAY
            continue
        days_examined += 1
        start_cells += starts.bit_count()
        together = _prev_cell_range(0, cells)
        for participant in required:
            together &= free_mask(participant, day)
        starts &= _prev_runs(together, length_cells)
        feasible += starts.bit_count()
        if starts:
            optional_runs = [
                (p.participant_id, _prev_runs(free_mask(p, day), length_cells)) for p in optional
            ]
            todays: list[_Ranked] = []
            remaining = starts
            while remaining:
                low = remaining & -remaining
                cell = low.bit_length() - 1
                remaining ^= low
                slot_start = midnight + cell * resolution
                misses = _prev_preference_misses(prefs, slot_start, slot_start + length)
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


if __name__ == "__main__":
    main()
