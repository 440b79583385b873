"""Properties of the slot search, over random teams, calendars and holidays.

Soundness: every proposed slot is really free for every required participant,
inside their working hours, inside the horizon, and not on a weekend or holiday.
Completeness (when everything lies on the grid): the search finds exactly the slots
that a brute-force scan with `check_meeting` accepts.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.common.errors import DomainError
from services.common.holidays import is_holiday
from services.coordination.scheduling import (
    COPENHAGEN,
    BusyBlock,
    CitizenPreferences,
    MeetingRole,
    Participant,
    SlotProposal,
    WorkingHours,
    check_meeting,
    propose_slots,
)

# Start weeks that hold Danish holidays: Easter, Kristi himmelfart, Grundlovsdag and
# pinse, Christmas; and one DST switch (30 March 2025).
FIRST_DAYS = [
    dt.date(2025, 3, 27),
    dt.date(2025, 4, 14),
    dt.date(2025, 5, 26),
    dt.date(2025, 6, 2),
    dt.date(2025, 12, 22),
    dt.date(2026, 3, 30),
]
RESOLUTIONS = [5, 10, 15, 30, 60]
ZONES = [COPENHAGEN, dt.UTC]

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _minutes(value: int) -> dt.time:
    return dt.time(value // 60, value % 60)


@st.composite
def working_hours(draw: st.DrawFn, step: int) -> WorkingHours:
    days: dict[int, tuple[dt.time, dt.time]] = {}
    for weekday in range(7):
        if draw(st.booleans()) or (weekday < 5 and draw(st.booleans())):
            begin = draw(st.integers(6 * 60 // step, 12 * 60 // step)) * step
            end = draw(st.integers(begin // step + 1, 18 * 60 // step)) * step
            days[weekday] = (_minutes(begin), _minutes(end))
    return WorkingHours.weekly(days)


@st.composite
def busy_blocks(draw: st.DrawFn, first: dt.date, days: int, step: int) -> tuple[BusyBlock, ...]:
    origin = dt.datetime.combine(first, dt.time(), tzinfo=COPENHAGEN)
    blocks = []
    for _ in range(draw(st.integers(0, 12))):
        start = draw(st.integers(0, days * 24 * 60 // step)) * step
        length = draw(st.integers(1, 8 * 60 // step)) * step
        begin = origin.replace(tzinfo=None) + dt.timedelta(minutes=start)
        end = begin + dt.timedelta(minutes=length)
        blocks.append(BusyBlock(begin.replace(tzinfo=COPENHAGEN), end.replace(tzinfo=COPENHAGEN)))
    return tuple(blocks)


@st.composite
def scenarios(draw: st.DrawFn, aligned: bool, max_days: int = 12) -> dict:
    """A team, a horizon and a meeting length. `aligned`: all times on the grid."""
    resolution = draw(st.sampled_from(RESOLUTIONS))
    step = resolution if aligned else 1
    first = draw(st.sampled_from(FIRST_DAYS))
    days = draw(st.integers(1, max_days))
    others = draw(st.lists(st.sampled_from([MeetingRole.MEMBER, MeetingRole.NETWORK]), max_size=4))
    kinds = [MeetingRole.TOVHOLDER, MeetingRole.CITIZEN, *others]
    team = []
    for index, role in enumerate(kinds):
        hours = (
            draw(working_hours(step))
            if role is MeetingRole.TOVHOLDER or draw(st.booleans())
            else None
        )
        team.append(
            Participant(
                f"p{index}",
                role,
                required=draw(st.booleans()),
                working_hours=hours,
                busy=draw(busy_blocks(first, days, step)),
            )
        )
    length_steps = draw(st.integers(1, 180 // resolution if aligned else 180))
    length = dt.timedelta(minutes=length_steps * (resolution if aligned else 1))
    zone = draw(st.sampled_from(ZONES))
    offset = draw(st.integers(0, 10 * 60 // step)) * step
    horizon_start = dt.datetime.combine(first, dt.time()) + dt.timedelta(minutes=offset)
    horizon_start = horizon_start.replace(tzinfo=COPENHAGEN).astimezone(zone)
    horizon_end = horizon_start + dt.timedelta(days=days)
    preferences = CitizenPreferences(
        not_before=draw(st.none() | st.sampled_from([dt.time(9), dt.time(10)])),
        not_after=draw(st.none() | st.sampled_from([dt.time(13), dt.time(15)])),
        weekdays=frozenset(draw(st.sets(st.integers(0, 4), max_size=3))),
    )
    return {
        "participants": team,
        "length": length,
        "horizon_start": horizon_start,
        "horizon_end": horizon_end,
        "resolution": dt.timedelta(minutes=resolution),
        "preferences": preferences,
    }


def _rank(proposal: SlotProposal) -> tuple:
    return (
        len(proposal.preference_misses),
        proposal.start.date(),
        -len(proposal.optional_attending),
        proposal.start,
    )


@PROPERTY_SETTINGS
@given(scenarios(aligned=False), st.integers(1, 60))
def test_every_proposed_slot_is_free_for_every_required_participant(
    scenario: dict, limit: int
) -> None:
    proposals = propose_slots(**scenario, limit=limit)

    assert len(proposals) <= limit
    assert [_rank(p) for p in proposals] == sorted(_rank(p) for p in proposals)
    for proposal in proposals:
        start, end = proposal.start, proposal.end
        assert end - start == scenario["length"]
        assert scenario["horizon_start"] <= start and end <= scenario["horizon_end"]
        assert start.weekday() < 5
        assert not is_holiday(start.date())
        for participant in scenario["participants"]:
            if not participant.is_required:
                continue
            if participant.working_hours is not None:
                assert participant.working_hours.covers(start, end), participant
            assert not any(block.overlaps(start, end) for block in participant.busy)
        # and the check used when the tovholder books it agrees
        checked = check_meeting(scenario["participants"], start, end)
        # the grid may only under-report who can come, never over-report
        assert not set(checked.optional_unavailable) & set(proposal.optional_attending)


def _brute_force(scenario: dict) -> set[dt.datetime]:
    """Every grid start in the horizon that check_meeting accepts."""
    resolution = scenario["resolution"]
    local_start = scenario["horizon_start"].astimezone(COPENHAGEN).replace(tzinfo=None)
    local_end = scenario["horizon_end"].astimezone(COPENHAGEN).replace(tzinfo=None)
    midnight = dt.datetime.combine(local_start.date(), dt.time())
    cell = midnight + -((midnight - local_start) // resolution) * resolution
    accepted = set()
    while cell + scenario["length"] <= local_end:
        start = cell.replace(tzinfo=COPENHAGEN)
        try:
            check_meeting(scenario["participants"], start, start + scenario["length"])
        except DomainError:
            pass
        else:
            accepted.add(start)
        cell += resolution
    return accepted


@settings(PROPERTY_SETTINGS, max_examples=100)
@given(scenarios(aligned=True, max_days=6))
def test_on_the_grid_the_search_finds_every_free_slot(scenario: dict) -> None:
    proposals = propose_slots(**scenario, limit=100_000)

    assert {p.start for p in proposals} == _brute_force(scenario)
    for proposal in proposals:
        checked = check_meeting(scenario["participants"], proposal.start, proposal.end)
        assert set(checked.optional_unavailable) == set(proposal.optional_missing)
