"""The slot search against a simple reference, over randomised busy calendars.

`find_slots` merges the required participants' busy blocks into a union, walks its
gaps, groups the slots by the preferences they miss and asks the optional
participants only about the groups that can make the list. `reference` below does
the obvious thing instead: every grid start of every working day in the horizon,
every participant, every busy block, then sort. The two must agree exactly on the
proposals (times, who can come, preferences missed, order) and on the statistics.

The calendars are drawn from a fixed seed (one per case, so a failing case can be
rerun alone): blocks off the grid and with seconds, long absences over several days,
blocks outside the horizon, blocks of the meeting being rescheduled, working hours
off the grid, meeting lengths that are not a multiple of the grid, horizons given in
UTC, weeks with Danish holidays and with the two DST switches.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from services.common.errors import DomainError
from services.common.holidays import is_holiday
from services.coordination.scheduling import (
    COPENHAGEN,
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
    find_slots,
)

SEED = 20250414
CASES = 300
# Weeks with Easter, Kristi himmelfart, Grundlovsdag and pinse, Christmas, and both
# DST switches (30 March 2025, 26 October 2025).
FIRST_DAYS = [
    dt.date(2025, 3, 27),
    dt.date(2025, 4, 14),
    dt.date(2025, 5, 26),
    dt.date(2025, 6, 2),
    dt.date(2025, 10, 23),
    dt.date(2025, 12, 22),
]
RESOLUTIONS = [5, 10, 15, 30, 60]
RESCHEDULED = "meeting-7"


# --- the reference -----------------------------------------------------------


def _wall(value: dt.datetime) -> dt.datetime:
    return value.astimezone(COPENHAGEN).replace(tzinfo=None)


def _free(
    participant: Participant, start: dt.datetime, end: dt.datetime, ignore_ref: str | None
) -> bool:
    """Is `participant` inside their hours and without a block in [start, end) (wall)?"""
    hours = participant.working_hours
    if hours is not None:
        window = hours.window_on(start.weekday())
        if window is None:
            return False
        day = start.date()
        if not (
            dt.datetime.combine(day, window[0]) <= start
            and end <= dt.datetime.combine(day, window[1])
        ):
            return False
    for block in participant.busy:
        if ignore_ref is not None and block.ref == ignore_ref:
            continue
        if _wall(block.start) < end and start < _wall(block.end):
            return False
    return True


def reference(
    participants: list[Participant],
    length: dt.timedelta,
    horizon_start: dt.datetime,
    horizon_end: dt.datetime,
    *,
    resolution: dt.timedelta,
    limit: int,
    preferences: CitizenPreferences,
    max_per_day: int | None,
    ignore_ref: str | None,
) -> SlotSearch:
    """The search the obvious way. A slot starts on the grid, lies in the horizon,
    and occupies whole grid cells (its length rounded up) on one working day, free
    for every required participant; those cells decide who can come. Days are read
    in order until `limit` slots fit every preference (later ones cannot rank
    higher); the statistics count what was read up to there."""
    first, last = _wall(horizon_start), _wall(horizon_end)
    occupied = -(-length // resolution) * resolution
    required = [p for p in participants if p.is_required]
    optional = [p for p in participants if not p.is_required]
    ranked: list[tuple[tuple[Any, ...], tuple[str, ...], tuple[str, ...]]] = []
    days = start_cells = feasible = fitting = 0
    day = first.date()
    while day <= last.date():
        midnight = dt.datetime.combine(day, dt.time())
        day, today = day + dt.timedelta(days=1), day
        if today.weekday() >= 5 or is_holiday(today):
            continue
        grid = (midnight + k * resolution for k in range(dt.timedelta(days=1) // resolution))
        candidates = [
            start
            for start in grid
            if first <= start
            and start + length <= last
            and start + occupied <= midnight + dt.timedelta(days=1)
        ]
        if not candidates:
            continue
        days += 1
        start_cells += len(candidates)
        entries = []
        for start in candidates:
            if not all(_free(p, start, start + occupied, ignore_ref) for p in required):
                continue
            feasible += 1
            end = start + length
            misses: tuple[str, ...] = ()
            if (preferences.not_before is not None and start.time() < preferences.not_before) or (
                preferences.not_after is not None
                and (end.date() > start.date() or end.time() > preferences.not_after)
            ):
                misses += (MISSED_TIME_OF_DAY,)
            if preferences.weekdays and start.weekday() not in preferences.weekdays:
                misses += (MISSED_WEEKDAY,)
            attending = tuple(
                p.participant_id for p in optional if _free(p, start, start + occupied, ignore_ref)
            )
            entries.append(((len(misses), today, -len(attending), start), attending, misses))
        entries.sort()
        if max_per_day is not None:
            entries = entries[:max_per_day]
        ranked += entries
        fitting += sum(1 for key, _, _ in entries if key[0] == 0)
        if entries and fitting >= limit:
            break
    ranked.sort()
    proposals = [
        SlotProposal(
            start=key[3].replace(tzinfo=COPENHAGEN),
            end=(key[3] + length).replace(tzinfo=COPENHAGEN),
            place=preferences.place,
            optional_attending=attending,
            optional_missing=tuple(
                p.participant_id for p in optional if p.participant_id not in attending
            ),
            preference_misses=misses,
        )
        for key, attending, misses in ranked[:limit]
    ]
    return SlotSearch(proposals, SearchStats(days, start_cells, feasible))


# --- random cases --------------------------------------------------------------


def _clock(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


def _hours(rng: random.Random, step: int) -> WorkingHours:
    days: dict[int, tuple[dt.time, dt.time]] = {}
    for weekday in range(7):
        if rng.random() < (0.85 if weekday < 5 else 0.15):
            begin = rng.randrange(6 * 60, 12 * 60, step)
            end = rng.randrange(begin + step, 18 * 60 + 1, step)
            days[weekday] = (_clock(begin), _clock(end))
    return WorkingHours.weekly(days)


def _blocks(
    rng: random.Random, origin: dt.datetime, days: int, step: int, density: float
) -> tuple[BusyBlock, ...]:
    """Busy blocks from a day before the horizon to a day after it (wall clock)."""
    blocks = []
    for _ in range(int(rng.uniform(0, density) * days)):
        start = origin + dt.timedelta(minutes=rng.randrange(-24 * 60, (days + 1) * 24 * 60, step))
        if rng.random() < 0.05:  # an absence of a few days
            length = dt.timedelta(minutes=rng.randrange(step, 4 * 24 * 60, step))
        else:
            length = dt.timedelta(minutes=rng.randrange(step, 4 * 60, step))
        if step == 1 and rng.random() < 0.2:  # not even on the minute
            start += dt.timedelta(seconds=rng.randrange(60), microseconds=rng.randrange(10**6))
        end = start + length
        ref = RESCHEDULED if rng.random() < 0.1 else None
        begin_at, end_at = start.replace(tzinfo=COPENHAGEN), end.replace(tzinfo=COPENHAGEN)
        if rng.random() < 0.3:  # stored in UTC, as the database gives them back
            begin_at, end_at = begin_at.astimezone(dt.UTC), end_at.astimezone(dt.UTC)
        try:
            blocks.append(BusyBlock(begin_at, end_at, ref=ref))
        except DomainError:  # a block in the hour skipped in spring may come out empty
            continue
    rng.shuffle(blocks)
    return tuple(blocks)


def scenario(case: int) -> dict[str, Any]:
    rng = random.Random(f"{SEED}-{case}")
    resolution = rng.choice(RESOLUTIONS)
    step = resolution if rng.random() < 0.4 else rng.choice([1, 5])
    first = rng.choice(FIRST_DAYS)
    days = rng.randint(1, 9 if resolution >= 15 else 5)
    origin = dt.datetime.combine(first, dt.time())
    density = rng.choice([0.5, 2, 4, 8])  # blocks per person per day, at most
    roles = [MeetingRole.TOVHOLDER, MeetingRole.CITIZEN] + [
        rng.choice([MeetingRole.MEMBER, MeetingRole.NETWORK]) for _ in range(rng.randint(0, 6))
    ]
    team = [
        Participant(
            f"p{index}",
            role,
            required=rng.random() < 0.3,
            working_hours=(
                _hours(rng, step)
                if rng.random() < (0.9 if role is MeetingRole.TOVHOLDER else 0.6)
                else None
            ),
            busy=_blocks(rng, origin, days, step, density),
        )
        for index, role in enumerate(roles)
    ]
    rng.shuffle(team)
    horizon_start = (origin + dt.timedelta(minutes=rng.randrange(0, 12 * 60, step))).replace(
        tzinfo=COPENHAGEN
    )
    if rng.random() < 0.4:
        horizon_start = horizon_start.astimezone(dt.UTC)
    return {
        "participants": team,
        "length": dt.timedelta(minutes=rng.choice([15, 30, 45, 50, 60, 90, 100, 180])),
        "horizon_start": horizon_start,
        "horizon_end": horizon_start + dt.timedelta(days=days, minutes=rng.randrange(0, 600, step)),
        "resolution": dt.timedelta(minutes=resolution),
        "limit": rng.choice([1, 2, 3, 5, 10, 40, 100_000]),
        "preferences": CitizenPreferences(
            not_before=rng.choice([None, dt.time(9), dt.time(10, 30)]),
            not_after=rng.choice([None, dt.time(13), dt.time(14, 45), dt.time(15)]),
            weekdays=frozenset(rng.sample(range(5), rng.randint(0, 3))),
            place=rng.choice(list(MeetingPlace)),
        ),
        "max_per_day": rng.choice([None, None, 1, 2, 3]),
        "ignore_ref": rng.choice([None, RESCHEDULED]),
    }


@pytest.mark.parametrize("case", range(CASES))
def test_the_search_returns_exactly_what_the_reference_returns(case: int) -> None:
    arguments = scenario(case)

    assert find_slots(**arguments) == reference(**arguments)


def test_the_random_cases_reach_every_branch_of_the_search() -> None:
    """Guards the generator: the cases above must not be trivially empty."""
    searches = [(arguments, find_slots(**arguments)) for arguments in map(scenario, range(CASES))]

    with_slots = [s for _, s in searches if s.proposals]
    assert len(with_slots) > CASES // 3
    # stopped early: fewer days read than an exhaustive search reads
    assert any(
        s.stats.days_examined > 1
        and s.stats.days_examined < find_slots(**{**a, "limit": 100_000}).stats.days_examined
        for a, s in searches
    )
    assert any(a["max_per_day"] and len(s.proposals) > 1 for a, s in searches)
    assert any(p.optional_attending and p.optional_missing for s in with_slots for p in s.proposals)
    assert any(len(p.preference_misses) == 2 for s in with_slots for p in s.proposals)
    assert any(p.preference_misses == () for s in with_slots for p in s.proposals)
    # many feasible starts on a day, and a few
    assert any(s.stats.feasible_starts > 100 for s in with_slots)
    assert any(0 < s.stats.feasible_starts < 5 for s in with_slots)


def test_a_slot_ending_at_midnight_misses_a_not_after_preference() -> None:
    """Rare in the random cases: nobody required has working hours, so the last slot
    of the day ends at 24:00, which is the next day and so after any "not after"."""
    arguments: dict[str, Any] = {
        "participants": [
            Participant("lise", MeetingRole.TOVHOLDER),
            Participant("vincent", MeetingRole.CITIZEN),
        ],
        "length": dt.timedelta(hours=1),
        "horizon_start": dt.datetime(2025, 4, 22, tzinfo=COPENHAGEN),
        "horizon_end": dt.datetime(2025, 4, 23, 6, tzinfo=COPENHAGEN),
        "resolution": dt.timedelta(minutes=15),
        "limit": 100_000,
        "preferences": CitizenPreferences(not_after=dt.time(15)),
        "max_per_day": None,
        "ignore_ref": None,
    }

    search = find_slots(**arguments)

    assert search == reference(**arguments)
    last = search.proposals[-1]
    assert last.start == dt.datetime(2025, 4, 22, 23, tzinfo=COPENHAGEN)
    assert last.preference_misses == (MISSED_TIME_OF_DAY,)
