"""A sammenhængende borgerforløb: team, tovholder handover, meetings, continuity."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts.vocabulary import Agency
from services.common.errors import Conflict, DomainError, NotFound
from services.coordination.pathways import (
    ContinuityFigure,
    MeetingHeld,
    MeetingRescheduled,
    MeetingScheduled,
    MeetingStatus,
    MemberAdded,
    NetworkPerson,
    Pathway,
    PathwayOpened,
    TeamMember,
    TovholderAppointed,
    TovholderHandedOver,
    TovholderTerm,
)
from services.coordination.scheduling import COPENHAGEN, MeetingPlace

OPENED = dt.datetime(2018, 9, 3, 8, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)

SOCIAL_WORKER = TeamMember(
    "m-social", "Mette", Agency.SOCIAL_SERVICES, "socialrådgiver", dt.date(2018, 9, 1)
)
TEACHER = TeamMember("m-teacher", "Tom", Agency.SCHOOL, "lærer", dt.date(2018, 9, 1))
UPOINT = TeamMember("m-upoint", "Ulla", Agency.UPOINT, "ungekonsulent", dt.date(2018, 9, 1))
MOTHER = NetworkPerson("n-mother", "Hanne", "mor")


def vincents_pathway() -> Pathway:
    """The pathway of seed 003: a social worker as tovholder, a teacher, Upoint."""
    pathway = Pathway.open("p-1", "c-vincent", OPENED, tovholder=SOCIAL_WORKER)
    pathway.add_member(TEACHER, OPENED)
    pathway.add_member(UPOINT, OPENED)
    pathway.add_network_person(MOTHER, OPENED)
    pathway.events.clear()
    return pathway


def meeting_at(pathway: Pathway, meeting_id: str, start: dt.datetime, *extra: str) -> None:
    pathway.schedule_meeting(
        meeting_id, start, start + dt.timedelta(hours=1), MeetingPlace.FRONTEN, extra, at=OPENED
    )


# --- opening, team and tovholder -----------------------------------------------


def test_opening_with_a_tovholder_tells_who_it_is() -> None:
    pathway = Pathway.open("p-1", "c-vincent", OPENED, tovholder=SOCIAL_WORKER)

    assert pathway.tovholder_id == "m-social"
    assert [type(event) for event in pathway.events] == [
        PathwayOpened,
        MemberAdded,
        TovholderAppointed,
    ]
    appointed = pathway.events[-1]
    assert isinstance(appointed, TovholderAppointed)
    assert (appointed.citizen_id, appointed.tovholder_name) == ("c-vincent", "Mette")


def test_a_pathway_opened_without_tovholder_gets_one_appointed() -> None:
    pathway = Pathway.open("p-1", "c-vincent", OPENED)
    pathway.add_member(UPOINT, OPENED)

    pathway.appoint_tovholder("m-upoint", OPENED + DAY)

    assert pathway.tovholder_id == "m-upoint"
    assert pathway.tovholder_changes == 0  # a first appointment is not a change


def test_a_second_active_tovholder_is_refused() -> None:
    pathway = vincents_pathway()

    with pytest.raises(Conflict) as error:
        pathway.appoint_tovholder("m-teacher", OPENED + DAY)

    assert error.value.rule == "pathway.second_tovholder"
    assert pathway.tovholder_id == "m-social"
    assert pathway.events == []


def test_stored_state_with_two_active_tovholdere_is_refused() -> None:
    with pytest.raises(Conflict) as error:
        Pathway(
            "p-1",
            "c-vincent",
            OPENED,
            members={m.member_id: m for m in (SOCIAL_WORKER, TEACHER)},
            tovholder_terms=[TovholderTerm("m-social", OPENED), TovholderTerm("m-teacher", OPENED)],
        )

    assert error.value.rule == "pathway.second_tovholder"


def test_handover_is_an_event_the_citizen_is_told_about() -> None:
    pathway = vincents_pathway()
    when = OPENED + 30 * DAY

    event = pathway.hand_over_tovholder("m-upoint", "  Mette går på barsel  ", when)

    assert event == TovholderHandedOver(
        pathway_id="p-1",
        at=when,
        citizen_id="c-vincent",
        old_tovholder_id="m-social",
        new_tovholder_id="m-upoint",
        new_tovholder_name="Ulla",
        new_tovholder_agency=Agency.UPOINT,
        reason="Mette går på barsel",
    )
    assert pathway.events == [event]
    assert pathway.tovholder_id == "m-upoint"
    assert pathway.tovholder_changes == 1
    assert pathway.tovholder_at(when - DAY) == "m-social"
    assert pathway.tovholder_at(when) == "m-upoint"
    assert "m-social" in pathway.members  # the old tovholder stays in the team


@pytest.mark.parametrize(
    ("new", "reason", "error_type", "rule"),
    [
        ("m-upoint", "   ", DomainError, "handover.reason_missing"),
        ("m-social", "ny", Conflict, "handover.same_tovholder"),
        ("m-nobody", "ny", NotFound, "not_found"),
    ],
)
def test_bad_handovers_are_refused(
    new: str, reason: str, error_type: type[DomainError], rule: str
) -> None:
    pathway = vincents_pathway()

    with pytest.raises(error_type) as error:
        pathway.hand_over_tovholder(new, reason, OPENED + DAY)

    assert error.value.rule == rule
    assert pathway.tovholder_id == "m-social"
    assert pathway.tovholder_changes == 0


def test_handover_to_someone_who_has_left_the_team_is_refused() -> None:
    pathway = vincents_pathway()
    pathway.end_membership("m-teacher", dt.date(2019, 6, 30), OPENED)

    with pytest.raises(DomainError) as error:
        pathway.hand_over_tovholder(
            "m-teacher", "skoleskift", dt.datetime(2019, 8, 12, 9, tzinfo=dt.UTC)
        )

    assert error.value.rule == "pathway.member_not_active"


def test_the_tovholder_cannot_leave_without_handing_over() -> None:
    pathway = vincents_pathway()

    with pytest.raises(Conflict) as error:
        pathway.end_membership("m-social", dt.date(2019, 1, 31), OPENED)
    assert error.value.rule == "pathway.tovholder_must_hand_over"

    pathway.hand_over_tovholder("m-upoint", "Mette skifter job", OPENED + DAY)
    pathway.end_membership("m-social", dt.date(2019, 1, 31), OPENED + DAY)
    assert [m.member_id for m in pathway.active_members(dt.date(2019, 2, 1))] == [
        "m-teacher",
        "m-upoint",
    ]


def test_membership_periods_and_duplicates() -> None:
    pathway = vincents_pathway()
    housing = TeamMember(
        "m-housing",
        "Hans",
        Agency.HOUSING,
        "boligrådgiver",
        dt.date(2019, 3, 1),
        dt.date(2019, 2, 1),
    )

    with pytest.raises(DomainError) as error:
        pathway.add_member(housing, OPENED)
    assert error.value.rule == "member.period_invalid"

    with pytest.raises(Conflict) as error:
        pathway.add_member(TEACHER, OPENED)
    assert error.value.rule == "pathway.member_exists"


def test_naive_times_are_refused() -> None:
    pathway = vincents_pathway()

    with pytest.raises(DomainError) as error:
        pathway.hand_over_tovholder("m-upoint", "barsel", dt.datetime(2018, 10, 1, 9))

    assert error.value.rule == "time.timezone_missing"


# --- meetings ----------------------------------------------------------------

FIRST = dt.datetime(2018, 9, 11, 14, 0, tzinfo=COPENHAGEN)


def test_meeting_always_invites_the_tovholder_and_the_citizen() -> None:
    pathway = vincents_pathway()

    event = pathway.schedule_meeting(
        "mt-1",
        FIRST,
        FIRST + dt.timedelta(hours=1),
        MeetingPlace.HOME,
        ["m-upoint", "n-mother"],
        at=OPENED,
    )

    assert isinstance(event, MeetingScheduled)
    assert event.invited == ("c-vincent", "m-social", "m-upoint", "n-mother")
    assert pathway.meetings["mt-1"].status is MeetingStatus.PLANNED


@pytest.mark.parametrize(
    ("start", "end", "invited", "rule"),
    [
        (FIRST, FIRST, [], "meeting.end_before_start"),
        (FIRST, FIRST - DAY, [], "meeting.end_before_start"),
        (OPENED - DAY, OPENED, [], "meeting.in_past"),
        (FIRST, FIRST + DAY / 24, ["stranger"], "meeting.unknown_participant"),
    ],
)
def test_bad_meetings_are_refused(
    start: dt.datetime, end: dt.datetime, invited: list[str], rule: str
) -> None:
    pathway = vincents_pathway()

    with pytest.raises(DomainError) as error:
        pathway.schedule_meeting("mt-1", start, end, MeetingPlace.FRONTEN, invited, at=OPENED)

    assert error.value.rule == rule
    assert pathway.meetings == {}
    assert pathway.events == []


def test_a_member_outside_their_period_cannot_be_invited() -> None:
    pathway = vincents_pathway()
    pathway.end_membership("m-teacher", dt.date(2018, 9, 10), OPENED)

    with pytest.raises(DomainError) as error:
        meeting_at(pathway, "mt-1", FIRST, "m-teacher")

    assert error.value.rule == "meeting.unknown_participant"


def test_no_meetings_before_a_tovholder_is_appointed() -> None:
    pathway = Pathway.open("p-1", "c-vincent", OPENED)

    with pytest.raises(Conflict) as error:
        meeting_at(pathway, "mt-1", FIRST)

    assert error.value.rule == "pathway.tovholder_missing"


def test_reschedule_cancel_and_hold() -> None:
    pathway = vincents_pathway()
    meeting_at(pathway, "mt-1", FIRST)
    meeting_at(pathway, "mt-2", FIRST + 7 * DAY)
    later = FIRST + 2 * DAY

    moved = pathway.reschedule_meeting(
        "mt-1", later, later + dt.timedelta(hours=1), OPENED, reason="Vincent er syg"
    )
    pathway.cancel_meeting("mt-2", "ferie", OPENED)
    held = pathway.record_meeting_held("mt-1", ["c-vincent", "m-social"], later + DAY / 24)

    assert isinstance(moved, MeetingRescheduled)
    assert (moved.old_start, moved.start) == (FIRST, later)
    assert pathway.meetings["mt-2"].status is MeetingStatus.CANCELLED
    assert isinstance(held, MeetingHeld)
    assert held.citizen_present and held.tovholder_present
    with pytest.raises(Conflict) as error:
        pathway.record_meeting_held("mt-2", ["c-vincent"], later + 30 * DAY)
    assert error.value.rule == "meeting.not_planned"


def test_a_meeting_cannot_be_recorded_as_held_before_it_starts() -> None:
    pathway = vincents_pathway()
    meeting_at(pathway, "mt-1", FIRST)

    with pytest.raises(DomainError) as error:
        pathway.record_meeting_held("mt-1", ["c-vincent"], FIRST - DAY)

    assert error.value.rule == "meeting.not_yet_held"


# --- continuity ----------------------------------------------------------------


def test_continuity_counts_citizen_with_the_tovholder_of_the_day() -> None:
    pathway = vincents_pathway()
    starts = [FIRST + n * 14 * DAY for n in range(5)]
    for index, start in enumerate(starts):
        meeting_at(pathway, f"mt-{index}", start, "m-upoint")
    present = [
        ["c-vincent", "m-social", "m-upoint"],  # both
        ["m-social", "m-upoint", "n-mother"],  # Vincent stayed home
        ["c-vincent", "m-upoint"],  # tovholder Mette was ill
    ]
    for index, people in enumerate(present):
        pathway.record_meeting_held(f"mt-{index}", people, starts[index] + DAY)
    # Ulla takes over before the fourth meeting and is there with Vincent
    pathway.hand_over_tovholder("m-upoint", "Mette stopper", starts[3] - DAY)
    pathway.record_meeting_held("mt-3", ["c-vincent", "m-upoint"], starts[3] + DAY)
    pathway.cancel_meeting("mt-4", "aflyst", starts[3] + DAY)

    assert pathway.continuity() == ContinuityFigure(
        held_meetings=4, with_citizen_and_tovholder=2, share=0.5, tovholder_changes=1
    )


def test_continuity_uses_the_tovholder_at_the_meetings_start() -> None:
    pathway = vincents_pathway()
    meeting_at(pathway, "mt-1", FIRST)
    pathway.hand_over_tovholder("m-upoint", "Mette stopper", FIRST + DAY)

    pathway.record_meeting_held("mt-1", ["c-vincent", "m-social"], FIRST + 2 * DAY)

    assert pathway.continuity().with_citizen_and_tovholder == 1


def test_continuity_without_held_meetings_has_no_share() -> None:
    figure = vincents_pathway().continuity()

    assert figure == ContinuityFigure(0, 0, None, 0)


# --- closing -----------------------------------------------------------------


def test_a_closed_pathway_changes_no_more() -> None:
    pathway = vincents_pathway()
    meeting_at(pathway, "mt-1", FIRST)
    with pytest.raises(Conflict) as error:
        pathway.close("Vincent starter på efterskole", FIRST)
    assert error.value.rule == "pathway.meetings_planned"

    pathway.record_meeting_held("mt-1", ["c-vincent", "m-social"], FIRST + DAY)
    pathway.close("Vincent starter på efterskole", FIRST + DAY)

    with pytest.raises(Conflict) as error:
        pathway.hand_over_tovholder("m-upoint", "ny", FIRST + 2 * DAY)
    assert error.value.rule == "pathway.closed"
