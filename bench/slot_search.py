"""Benchmark: cross-team slot search for a 12-person team over 8 weeks.

Run from the repository root:  .venv/bin/python bench/slot_search.py [--repeat N]

Builds a realistic team (tovholder, citizen, eight professionals, two parents) with
random busy blocks (fixed seed, 30-50 % of each person's day busy, blocks of
30 minutes to 3 hours on 5-minute boundaries, so not on the 15-minute grid), and
times `propose_slots` with `time.perf_counter`:

- typical: what the tovholder asks for (5 slots, one per day, citizen preferences);
- exhaustive: every feasible slot ranked (limit high enough that nothing stops early);
- naive: `check_meeting` at every 15-minute start, scanning every busy block, for
  contrast and as a cross-check that the bitmask search finds the same slots.

Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

from services.common.errors import DomainError
from services.coordination.scheduling import (
    COPENHAGEN,
    BusyBlock,
    CitizenPreferences,
    MeetingPlace,
    MeetingRole,
    Participant,
    SearchStats,
    WorkingHours,
    check_meeting,
    find_slots,
)

T = TypeVar("T")

SEED = 2018  # Fronten opened in 2018
FIRST_DAY = dt.date(2025, 4, 14)  # 8 weeks with Easter, Kristi himmelfart, 5 June, pinse
WEEKS = 8
LENGTH = dt.timedelta(hours=1)
RESOLUTION = dt.timedelta(minutes=15)
STANDARD = WorkingHours.standard()
SCHOOL_DAY = WorkingHours.weekly({d: (dt.time(8), dt.time(14)) for d in range(5)})
CLINIC = WorkingHours.weekly({d: (dt.time(9), dt.time(15)) for d in range(4)})
# Busy blocks for people without working hours are drawn inside this day.
AWAKE = (dt.time(8), dt.time(16))

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


def build_team(seed: int = SEED) -> tuple[list[Participant], float, int]:
    """The team with random calendars; also the busy share and the number of blocks."""
    rng = random.Random(seed)
    team = []
    busy_minutes = window_minutes = block_count = 0
    for participant_id, role, required, hours in TEAM:
        blocks: list[BusyBlock] = []
        for offset in range(WEEKS * 7):
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
    return team, busy_minutes / window_minutes, block_count


def horizon() -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(FIRST_DAY, dt.time(), tzinfo=COPENHAGEN)
    return start, start + dt.timedelta(weeks=WEEKS)


def timed(call: Callable[[], T], repeat: int) -> tuple[list[float], T]:
    """Run `call` `repeat` times; the times in ms and the last result."""
    result = call()  # warm up caches (working-hours masks) as a running service would have
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - begin) * 1000)
    return times, result


def p95(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=20, method="inclusive")[18]
        if len(values) > 1
        else (values[0])
    )


def naive_scan(team: list[Participant]) -> set[dt.datetime]:
    """Every 15-minute start accepted by check_meeting: the slow, obvious way."""
    start, end = horizon()
    accepted = set()
    cell = start
    while cell + LENGTH <= end:
        try:
            check_meeting(team, cell, cell + LENGTH)
        except DomainError:
            pass
        else:
            accepted.add(cell)
        cell = (cell.replace(tzinfo=None) + RESOLUTION).replace(tzinfo=COPENHAGEN)
    return accepted


def report(name: str, times: list[float], stats: SearchStats | None, found: int) -> None:
    line = f"{name:<11} median {statistics.median(times):8.2f} ms   p95 {p95(times):8.2f} ms"
    if stats is not None:
        line += (
            f"   days {stats.days_examined:3d}   candidate cells "
            f"{stats.start_cells_examined:5d}   feasible {stats.feasible_starts:5d}"
        )
    print(f"{line}   slots {found}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--naive-repeat", type=int, default=3)
    args = parser.parse_args()

    team, busy_share, block_count = build_team()
    start, end = horizon()
    required = sum(p.is_required for p in team)
    print(
        f"team {len(team)} people ({required} required), {WEEKS} weeks from {FIRST_DAY}, "
        f"resolution {RESOLUTION.seconds // 60} min, meeting {LENGTH.seconds // 60} min"
    )
    print(
        f"busy blocks {block_count}, busy share of working time {busy_share:.0%}, "
        f"seed {SEED}, repetitions {args.repeat}"
    )

    preferences = CitizenPreferences(
        not_before=dt.time(10), weekdays=frozenset({1, 3}), place=MeetingPlace.HOME
    )
    typical_times, typical = timed(
        lambda: find_slots(
            team,
            LENGTH,
            start,
            end,
            resolution=RESOLUTION,
            limit=5,
            preferences=preferences,
            max_per_day=1,
        ),
        args.repeat,
    )
    report("typical", typical_times, typical.stats, len(typical.proposals))

    full_times, full = timed(
        lambda: find_slots(
            team, LENGTH, start, end, resolution=RESOLUTION, limit=100_000, preferences=preferences
        ),
        args.repeat,
    )
    report("exhaustive", full_times, full.stats, len(full.proposals))

    naive_times, naive = timed(lambda: naive_scan(team), args.naive_repeat)
    report("naive", naive_times, None, len(naive))
    same = naive == {p.start for p in full.proposals}
    print(f"bitmask search and naive scan agree on every slot: {same}")
    print("typical proposals:")
    for proposal in typical.proposals:
        invited = len(proposal.optional_attending) + len(proposal.optional_missing)
        print(
            f"  {proposal.start:%a %Y-%m-%d %H:%M}  optional attending "
            f"{len(proposal.optional_attending)}/{invited}"
            f"  missed preferences {list(proposal.preference_misses) or '-'}"
        )


if __name__ == "__main__":
    main()
