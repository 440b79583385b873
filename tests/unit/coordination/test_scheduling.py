"""Slot search and meeting checks for a pathway's cross-team meetings (no broker)."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.errors import DomainError
from services.coordination.scheduling import (
    COPENHAGEN,
    MISSED_TIME_OF_DAY,
    MISSED_WEEKDAY,
    BusyBlock,
    CitizenPreferences,
    MeetingPlace,
    MeetingRole,
    Participant,
    WorkingHours,
    check_meeting,
    find_slots,
    propose_slots,
)

HOUR = dt.timedelta(hours=1)
STANDARD = WorkingHours.standard()


def at(day: str, clock: str = "00:00") -> dt.datetime:
    """Copenhagen wall-clock time, aware: at("2025-04-22", "09:30")."""
    return dt.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=COPENHAGEN)


def busy(day: str, start: str, end: str, ref: str | None = None) -> BusyBlock:
    return BusyBlock(at(day, start), at(day, end), ref=ref)


def tovholder(*blocks: BusyBlock, hours: WorkingHours = STANDARD) -> Participant:
    return Participant(
        "lise", MeetingRole.TOVHOLDER, working_hours=hours, busy=blocks, name="Lise (tovholder)"
    )


def citizen(*blocks: BusyBlock) -> Participant:
    return Participant("vincent", MeetingRole.CITIZEN, busy=blocks, name="Vincent")


def member(member_id: str, *blocks: BusyBlock, required: bool = True) -> Participant:
    return Participant(
        member_id, MeetingRole.MEMBER, required=required, working_hours=STANDARD, busy=blocks
    )


def starts(proposals: list) -> list[dt.datetime]:
    return [proposal.start for proposal in proposals]


# --- the search --------------------------------------------------------------


def test_first_slot_is_the_first_quarter_hour_everyone_required_is_free() -> None:
    team = [tovholder(busy("2025-04-22", "08:00", "10:05")), citizen(), member("teacher")]

    proposals = propose_slots(team, HOUR, at("2025-04-22"), at("2025-04-23"), limit=3)

    # busy until 10:05 rounds out to the 10:15 cell: never a slot that is free
    # only to the minute
    assert starts(proposals) == [
        at("2025-04-22", "10:15"),
        at("2025-04-22", "10:30"),
        at("2025-04-22", "10:45"),
    ]
    assert all(p.end - p.start == HOUR for p in proposals)
    assert all(p.start.tzinfo is COPENHAGEN for p in proposals)


def test_touching_busy_blocks_do_not_collide() -> None:
    team = [
        tovholder(busy("2025-04-22", "08:00", "10:00"), busy("2025-04-22", "11:00", "16:00")),
        citizen(),
    ]

    proposals = propose_slots(team, HOUR, at("2025-04-22"), at("2025-04-23"))

    assert starts(proposals) == [at("2025-04-22", "10:00")]


def test_citizens_busy_blocks_count_as_much_as_the_tovholders() -> None:
    school = busy("2025-04-22", "08:00", "14:00")
    team = [tovholder(), citizen(school)]

    proposals = propose_slots(team, HOUR, at("2025-04-22"), at("2025-04-23"), limit=10)

    # after school and before the tovholder's day ends at 15:30
    assert starts(proposals) == [at("2025-04-22", t) for t in ("14:00", "14:15", "14:30")]


def test_weekend_is_skipped() -> None:
    # Friday 2025-04-25 ends at 13:00; Saturday and Sunday are not meeting days
    team = [tovholder(busy("2025-04-25", "08:00", "13:00")), citizen()]

    proposals = propose_slots(team, HOUR, at("2025-04-25"), at("2025-05-01"), limit=1)

    assert starts(proposals) == [at("2025-04-28", "08:00")]


@pytest.mark.parametrize(
    ("holiday", "next_working_day"),
    [
        ("2025-04-21", "2025-04-22"),  # 2. påskedag (Monday)
        ("2025-05-29", "2025-05-30"),  # Kristi himmelfartsdag (Thursday)
        ("2025-06-05", "2025-06-06"),  # Grundlovsdag, 5 June: the offices are closed
        ("2025-12-24", "2025-12-29"),  # juleaftensdag, juledag, 2. juledag, weekend
    ],
)
def test_holidays_are_skipped(holiday: str, next_working_day: str) -> None:
    team = [tovholder(), citizen()]

    proposals = propose_slots(
        team, HOUR, at(holiday), at(holiday) + dt.timedelta(days=7), limit=200
    )

    assert proposals[0].start == at(next_working_day, "08:00")
    assert all(p.start.date() != dt.date.fromisoformat(holiday) for p in proposals)


def test_easter_week_leaves_only_monday_to_wednesday() -> None:
    team = [tovholder(), citizen()]

    proposals = propose_slots(team, HOUR, at("2025-04-14"), at("2025-04-22"), limit=500)

    assert {p.start.date().isoformat() for p in proposals} == {
        "2025-04-14",
        "2025-04-15",
        "2025-04-16",
    }


def test_friday_ends_at_one_so_a_long_meeting_ends_by_then() -> None:
    team = [tovholder(), citizen()]

    proposals = propose_slots(
        team, dt.timedelta(minutes=90), at("2025-04-25"), at("2025-04-26"), limit=100
    )

    assert proposals[-1].start == at("2025-04-25", "11:30")
    assert proposals[-1].end == at("2025-04-25", "13:00")


def test_a_required_member_blocks_and_an_optional_member_does_not() -> None:
    all_day = busy("2025-04-22", "00:00", "23:59")
    blocked = [tovholder(), citizen(), member("teacher", all_day)]
    optional = [tovholder(), citizen(), member("teacher", all_day, required=False)]

    first_blocked = propose_slots(blocked, HOUR, at("2025-04-22"), at("2025-04-24"), limit=1)
    first_optional = propose_slots(optional, HOUR, at("2025-04-22"), at("2025-04-24"), limit=1)

    assert first_blocked[0].start.date() == dt.date(2025, 4, 23)
    assert first_optional[0].start == at("2025-04-22", "08:00")
    assert first_optional[0].optional_missing == ("teacher",)
    assert first_optional[0].optional_attending == ()


def test_on_the_same_day_more_optional_attendees_rank_higher() -> None:
    team = [
        tovholder(),
        citizen(),
        member("teacher", busy("2025-04-22", "08:00", "09:00"), required=False),
        member("upoint", busy("2025-04-22", "08:00", "09:30"), required=False),
    ]

    proposals = propose_slots(team, HOUR, at("2025-04-22"), at("2025-04-23"), limit=100)

    attending = [len(p.optional_attending) for p in proposals]
    assert attending == sorted(attending, reverse=True)
    assert proposals[0].start == at("2025-04-22", "09:30")
    assert proposals[0].optional_attending == ("teacher", "upoint")
    # then the ones where only the teacher can come, earliest first
    teacher_only = [p for p in proposals if p.optional_attending == ("teacher",)]
    assert starts(teacher_only) == [at("2025-04-22", "09:00"), at("2025-04-22", "09:15")]
    assert teacher_only[0].optional_missing == ("upoint",)
    assert proposals[-1].start == at("2025-04-22", "08:45")


def test_an_earlier_date_beats_more_optional_attendees() -> None:
    team = [
        tovholder(),
        citizen(),
        member("teacher", busy("2025-04-22", "00:00", "23:59"), required=False),
    ]

    proposals = propose_slots(team, HOUR, at("2025-04-22"), at("2025-04-24"), limit=1)

    assert proposals[0].start == at("2025-04-22", "08:00")
    assert proposals[0].optional_missing == ("teacher",)


def test_the_tovholder_and_the_citizen_are_required_even_if_marked_optional() -> None:
    lise = Participant(
        "lise",
        MeetingRole.TOVHOLDER,
        required=False,
        working_hours=STANDARD,
        busy=(busy("2025-04-22", "08:00", "12:00"),),
    )
    vincent = Participant(
        "vincent", MeetingRole.CITIZEN, required=False, busy=(busy("2025-04-22", "12:00", "13:00"),)
    )

    proposals = propose_slots([lise, vincent], HOUR, at("2025-04-22"), at("2025-04-23"))

    assert proposals[0].start == at("2025-04-22", "13:00")


def test_citizen_preference_ranks_before_date() -> None:
    team = [tovholder(), citizen()]
    prefers_thursday_after_ten = CitizenPreferences(
        not_before=dt.time(10), weekdays=frozenset({3}), place=MeetingPlace.HOME
    )

    proposals = propose_slots(
        team,
        HOUR,
        at("2025-04-22"),
        at("2025-05-03"),
        limit=40,
        preferences=prefers_thursday_after_ten,
    )

    # Thursday 24 April (Tuesday 22 is earlier but not a Thursday)
    assert proposals[0].start == at("2025-04-24", "10:00")
    assert proposals[0].fits_preferences
    assert proposals[0].place is MeetingPlace.HOME
    fitting = [p for p in proposals if p.fits_preferences]
    assert {p.start.date() for p in fitting} == {dt.date(2025, 4, 24), dt.date(2025, 5, 1)}
    # slots that miss a preference still come, after all the fitting ones
    first_miss = proposals[len(fitting)]
    assert first_miss.start == at("2025-04-22", "10:00")
    assert first_miss.preference_misses == (MISSED_WEEKDAY,)


def test_not_before_is_a_preference_not_a_rule() -> None:
    team = [tovholder(busy("2025-04-22", "10:00", "16:00")), citizen()]
    late_riser = CitizenPreferences(not_before=dt.time(10))

    proposals = propose_slots(
        team, HOUR, at("2025-04-22"), at("2025-04-23"), limit=1, preferences=late_riser
    )

    assert proposals[0].start == at("2025-04-22", "08:00")
    assert proposals[0].preference_misses == (MISSED_TIME_OF_DAY,)


def test_not_after_counts_the_meetings_end() -> None:
    team = [tovholder(), citizen()]
    before_school_ends = CitizenPreferences(not_before=dt.time(13), not_after=dt.time(14))

    proposals = propose_slots(
        team, HOUR, at("2025-04-22"), at("2025-04-23"), limit=2, preferences=before_school_ends
    )

    assert starts(proposals) == [at("2025-04-22", "13:00"), at("2025-04-22", "08:00")]
    assert proposals[1].preference_misses == (MISSED_TIME_OF_DAY,)


def test_max_per_day_offers_different_days() -> None:
    team = [tovholder(), citizen()]

    proposals = propose_slots(
        team, HOUR, at("2025-04-22"), at("2025-05-03"), limit=3, max_per_day=1
    )

    assert starts(proposals) == [
        at("2025-04-22", "08:00"),
        at("2025-04-23", "08:00"),
        at("2025-04-24", "08:00"),
    ]


def test_rescheduling_ignores_the_meetings_own_busy_block() -> None:
    own = busy("2025-04-22", "08:00", "09:00", ref="meeting-7")
    team = [tovholder(own), citizen(own)]

    without = propose_slots(team, HOUR, at("2025-04-22"), at("2025-04-23"), limit=1)
    ignoring = propose_slots(
        team, HOUR, at("2025-04-22"), at("2025-04-23"), limit=1, ignore_ref="meeting-7"
    )

    assert without[0].start == at("2025-04-22", "09:00")
    assert ignoring[0].start == at("2025-04-22", "08:00")


def test_a_holiday_away_from_work_spanning_days_blocks_every_day() -> None:
    vacation = BusyBlock(at("2025-04-22", "12:00"), at("2025-04-25", "10:00"))
    team = [tovholder(vacation), citizen()]

    proposals = propose_slots(team, HOUR, at("2025-04-22", "12:00"), at("2025-04-30"), limit=1)

    assert proposals[0].start == at("2025-04-25", "10:00")


def test_slots_start_on_the_resolution_and_respect_the_horizon() -> None:
    team = [tovholder(), citizen()]

    proposals = propose_slots(
        team,
        HOUR,
        at("2025-04-22", "09:10"),
        at("2025-04-22", "11:40"),
        resolution=dt.timedelta(minutes=30),
        limit=10,
    )

    assert starts(proposals) == [
        at("2025-04-22", "09:30"),
        at("2025-04-22", "10:00"),
        at("2025-04-22", "10:30"),
    ]


def test_horizon_may_be_given_in_utc() -> None:
    team = [tovholder(), citizen()]
    # 06:00 UTC is 08:00 in Copenhagen in summer time
    start_utc = dt.datetime(2025, 4, 22, 6, 0, tzinfo=dt.UTC)

    proposals = propose_slots(team, HOUR, start_utc, start_utc + dt.timedelta(days=1), limit=1)

    assert proposals[0].start == at("2025-04-22", "08:00")
    assert proposals[0].start.tzinfo is COPENHAGEN


def test_no_common_time_gives_no_proposals() -> None:
    team = [tovholder(BusyBlock(at("2025-04-22"), at("2025-05-01"))), citizen()]

    search = find_slots(team, HOUR, at("2025-04-22"), at("2025-05-01"))

    assert search.proposals == []
    assert search.stats.days_examined == 7
    assert search.stats.feasible_starts == 0


def test_search_stops_once_enough_slots_fit_every_preference() -> None:
    team = [tovholder(), citizen()]

    search = find_slots(team, HOUR, at("2025-04-22"), at("2025-06-22"), limit=3)

    assert search.stats.days_examined == 1


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        ({"length": dt.timedelta(0)}, "length", "slots.length_invalid"),
        ({"resolution": dt.timedelta(minutes=7)}, "resolution", "slots.resolution_invalid"),
        ({"limit": 0}, "limit", "slots.limit_invalid"),
        ({"horizon_end": at("2025-04-22")}, "horizon_end", "slots.horizon_invalid"),
        ({"horizon_end": at("2027-01-01")}, "horizon_end", "slots.horizon_too_long"),
        ({"horizon_start": dt.datetime(2025, 4, 22, 8)}, "horizon_start", "time.timezone_missing"),
    ],
)
def test_search_input_is_validated(kwargs: dict, field: str, rule: str) -> None:
    arguments = {
        "participants": [tovholder(), citizen()],
        "length": HOUR,
        "horizon_start": at("2025-04-22"),
        "horizon_end": at("2025-04-29"),
    }
    arguments.update(kwargs)

    with pytest.raises(DomainError) as error:
        propose_slots(**arguments)

    assert (error.value.field, error.value.rule) == (field, rule)


@pytest.mark.parametrize(
    ("team", "rule"),
    [
        ([citizen()], "meeting.tovholder_missing"),
        ([tovholder()], "meeting.citizen_missing"),
        ([tovholder(), citizen(), tovholder()], "meeting.participant_duplicate"),
        (
            [tovholder(), citizen(), Participant("anne", MeetingRole.TOVHOLDER)],
            "meeting.second_tovholder",
        ),
    ],
)
def test_a_meeting_needs_one_tovholder_and_one_citizen(team: list, rule: str) -> None:
    with pytest.raises(DomainError) as error:
        propose_slots(team, HOUR, at("2025-04-22"), at("2025-04-29"))

    assert error.value.rule == rule


def test_busy_block_must_end_after_it_starts_and_have_a_zone() -> None:
    with pytest.raises(DomainError) as error:
        BusyBlock(at("2025-04-22", "10:00"), at("2025-04-22", "10:00"))
    assert error.value.rule == "busy.end_before_start"

    with pytest.raises(DomainError) as error:
        BusyBlock(dt.datetime(2025, 4, 22, 10), dt.datetime(2025, 4, 22, 11))
    assert error.value.rule == "time.timezone_missing"


def test_working_hours_reject_a_window_that_ends_before_it_starts() -> None:
    with pytest.raises(ValueError, match="not after"):
        WorkingHours.weekly({0: (dt.time(15), dt.time(8))})


# --- check_meeting -----------------------------------------------------------


def test_a_good_meeting_passes_and_lists_optional_absentees() -> None:
    team = [
        tovholder(),
        citizen(),
        member("upoint", busy("2025-04-22", "09:00", "10:00"), required=False),
    ]

    checked = check_meeting(team, at("2025-04-22", "09:30"), at("2025-04-22", "10:30"))

    assert checked.optional_unavailable == ("upoint",)


def test_meeting_outside_working_hours_names_the_participant() -> None:
    team = [tovholder(), citizen(), member("teacher")]

    with pytest.raises(DomainError) as error:
        # Friday: the team's hours end at 13:00
        check_meeting(team, at("2025-04-25", "12:30"), at("2025-04-25", "13:30"))

    assert error.value.rule == "meeting.outside_working_hours"
    assert error.value.field == "participants.lise"
    assert "Lise (tovholder)" in error.value.message
    assert "08:00-13:00" in error.value.message


def test_the_citizen_has_no_working_hours_but_the_team_does() -> None:
    team = [tovholder(), citizen()]

    with pytest.raises(DomainError) as error:
        check_meeting(team, at("2025-04-22", "16:00"), at("2025-04-22", "17:00"))

    assert error.value.field == "participants.lise"


def test_required_participant_busy_is_refused() -> None:
    team = [tovholder(), citizen(busy("2025-04-22", "09:00", "10:00")), member("teacher")]

    with pytest.raises(DomainError) as error:
        check_meeting(team, at("2025-04-22", "09:45"), at("2025-04-22", "10:45"))

    assert (error.value.field, error.value.rule) == (
        "participants.vincent",
        "meeting.participant_busy",
    )
    assert "Vincent" in error.value.message


def test_rescheduled_meeting_is_not_busy_with_itself() -> None:
    own = busy("2025-04-22", "09:00", "10:00", ref="meeting-7")
    team = [tovholder(own), citizen(own)]

    check_meeting(
        team, at("2025-04-22", "09:30"), at("2025-04-22", "10:30"), ignore_ref="meeting-7"
    )


@pytest.mark.parametrize(
    ("day", "name"),
    [
        ("2025-04-21", "2. påskedag"),
        ("2025-05-29", "Kristi himmelfartsdag"),
        ("2025-06-05", "Grundlovsdag"),
    ],
)
def test_meeting_on_a_holiday_is_refused(day: str, name: str) -> None:
    with pytest.raises(DomainError) as error:
        check_meeting([tovholder(), citizen()], at(day, "10:00"), at(day, "11:00"))

    assert (error.value.field, error.value.rule) == ("meeting.start", "meeting.holiday")
    assert name in error.value.message


def test_meeting_on_a_weekend_is_refused() -> None:
    team = [tovholder(hours=WorkingHours.weekly({5: (dt.time(8), dt.time(16))})), citizen()]

    with pytest.raises(DomainError) as error:
        check_meeting(team, at("2025-04-26", "10:00"), at("2025-04-26", "11:00"))

    assert error.value.rule == "meeting.weekend"


@pytest.mark.parametrize("end", ["10:00", "09:00"])
def test_meeting_ending_before_or_when_it_starts_is_refused(end: str) -> None:
    with pytest.raises(DomainError) as error:
        check_meeting([tovholder(), citizen()], at("2025-04-22", "10:00"), at("2025-04-22", end))

    assert (error.value.field, error.value.rule) == ("meeting.end", "meeting.end_before_start")


def test_meeting_over_midnight_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        check_meeting(
            [tovholder(), citizen()], at("2025-04-22", "23:00"), at("2025-04-23", "01:00")
        )

    assert error.value.rule == "meeting.spans_days"


def test_check_reads_utc_times_in_copenhagen_time_across_dst() -> None:
    team = [tovholder(), citizen()]
    # Monday 31 March 2025, the day after the switch to summer time:
    # 06:00 UTC is 08:00 local (in winter it would be 07:00, before work)
    check_meeting(
        team, dt.datetime(2025, 3, 31, 6, tzinfo=dt.UTC), dt.datetime(2025, 3, 31, 7, tzinfo=dt.UTC)
    )

    with pytest.raises(DomainError) as error:
        check_meeting(
            team,
            dt.datetime(2025, 3, 28, 6, tzinfo=dt.UTC),
            dt.datetime(2025, 3, 28, 7, tzinfo=dt.UTC),
        )
    assert error.value.rule == "meeting.outside_working_hours"


def test_naive_meeting_times_are_refused() -> None:
    with pytest.raises(DomainError) as error:
        check_meeting(
            [tovholder(), citizen()], dt.datetime(2025, 4, 22, 10), dt.datetime(2025, 4, 22, 11)
        )

    assert (error.value.field, error.value.rule) == ("meeting.start", "time.timezone_missing")
