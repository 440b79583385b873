"""Handleplan (action plan): citizen goals, stepped actions, versions, agreement, sweep."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.errors import Conflict, DomainError, NotFound
from services.coordination.plans import (
    Action,
    ActionDue,
    ActionOverdue,
    ActionStatus,
    AgreementChannel,
    Goal,
    GoalVoice,
    Handleplan,
    PlanVersionAgreed,
    PlanVersionConflict,
    PlanVersionCreated,
    due_actions,
    overdue_actions,
)

TEAM = {"m-social", "m-teacher", "m-upoint"}
MEETING = dt.datetime(2018, 9, 11, 12, 0, tzinfo=dt.UTC)
MONDAY = dt.date(2018, 9, 17)
WEEK = dt.timedelta(days=7)


def school_goal(*actions: Action) -> Goal:
    """The parents' wish that Vincent agreed to: back to school."""
    steps = actions or (
        Action("a-bed", "Ungekonsulenten hjælper Vincent ud af sengen", "m-upoint", MONDAY),
        Action("a-calls", "Et par opkald hver morgen", "m-upoint", MONDAY + 2 * WEEK),
        Action("a-one-call", "Kun ét opkald om morgenen", "m-upoint", MONDAY + 4 * WEEK),
    )
    return Goal("g-school", "Komme i skole igen", steps, voice=GoalVoice.NETWORK)


def own_goal() -> Goal:
    """Vincent's own goal, in his words."""
    return Goal(
        "g-shy",
        "Jeg vil gerne være mindre genert",
        (Action("a-cafe", "Bestille mad selv på en café", "m-upoint", MONDAY + WEEK),),
    )


def vincents_plan() -> Handleplan:
    plan = Handleplan.draft(
        "h-1", "p-1", [school_goal(), own_goal()], TEAM, MEETING, drafted_by="m-social"
    )
    plan.events.clear()
    return plan


# --- drafting and validation ---------------------------------------------------


def test_a_plan_with_a_citizen_goal_and_stepped_actions_is_version_one() -> None:
    plan = Handleplan.draft("h-1", "p-1", [school_goal(), own_goal()], TEAM, MEETING)

    assert plan.current.number == 1
    assert [goal.text for goal in plan.current.goals] == [
        "Komme i skole igen",
        "Jeg vil gerne være mindre genert",
    ]
    assert len(plan.current.actions) == 4
    assert all(plan.status_of(a.action_id) is ActionStatus.OPEN for _, a in plan.current.actions)
    assert plan.events == [
        PlanVersionCreated(
            plan_id="h-1", pathway_id="p-1", at=MEETING, version=1, goals=2, actions=4
        )
    ]
    assert plan.agreed is None


@pytest.mark.parametrize(
    "goals",
    [
        [],
        [school_goal()],  # only the parents' words
        [Goal("g-1", "   ")],  # blank: not a goal at all
    ],
)
def test_a_plan_without_a_goal_in_the_citizens_words_is_refused(goals: list[Goal]) -> None:
    with pytest.raises(DomainError) as error:
        Handleplan.draft("h-1", "p-1", goals, TEAM, MEETING)

    assert error.value.rule in {"plan.citizen_goal_missing", "plan.goal_text_missing"}
    if goals and goals[0].text.strip():
        assert (error.value.field, error.value.rule) == ("goals", "plan.citizen_goal_missing")


def test_an_empty_plan_names_the_goals_field() -> None:
    with pytest.raises(DomainError) as error:
        Handleplan.draft("h-1", "p-1", [], TEAM, MEETING)

    assert (error.value.field, error.value.rule) == ("goals", "plan.citizen_goal_missing")


def test_an_action_owned_by_someone_outside_the_team_is_refused() -> None:
    stranger = Action("a-x", "Ringe til Vincent", "m-jobcenter", MONDAY)

    with pytest.raises(DomainError) as error:
        Handleplan.draft("h-1", "p-1", [school_goal(stranger), own_goal()], TEAM, MEETING)

    assert (error.value.field, error.value.rule) == ("actions.owner", "plan.owner_not_member")
    assert "m-jobcenter" in error.value.message


@pytest.mark.parametrize(
    ("goals", "rule"),
    [
        (
            [Goal("g-1", "Mod", (Action("a-1", " ", "m-upoint", MONDAY),))],
            "plan.action_text_missing",
        ),
        ([own_goal(), own_goal()], "plan.duplicate_id"),
    ],
)
def test_actions_need_text_and_ids_are_unique(goals: list[Goal], rule: str) -> None:
    with pytest.raises(DomainError) as error:
        Handleplan.draft("h-1", "p-1", goals, TEAM, MEETING)

    assert error.value.rule == rule


# --- versions and agreement ----------------------------------------------------


def test_revise_makes_a_new_version_and_keeps_the_old_one() -> None:
    plan = vincents_plan()
    first = plan.current
    plan.record_agreement(1, MEETING, AgreementChannel.IN_MEETING)
    plan.mark_action("a-bed", ActionStatus.DONE, MEETING + WEEK)
    fewer_calls = school_goal(
        Action("a-bed", "Ungekonsulenten hjælper Vincent ud af sengen", "m-upoint", MONDAY),
        Action("a-one-call", "Kun ét opkald om morgenen", "m-upoint", MONDAY + 3 * WEEK),
        Action("a-no-call", "Ingen opkald: Vincent står selv op", "m-upoint", MONDAY + 6 * WEEK),
    )

    second = plan.revise([fewer_calls, own_goal()], TEAM, MEETING + 2 * WEEK)

    assert (second.number, plan.current) == (2, second)
    kept = plan.version(1)
    assert (kept.goals, kept.created_at) == (first.goals, first.created_at)  # never overwritten
    assert plan.version(1).agreement is not None
    assert second.agreement is None  # the citizen must agree again
    assert plan.agreed is plan.version(1)
    assert plan.status_of("a-bed") is ActionStatus.DONE  # progress carries over by id
    assert plan.status_of("a-no-call") is ActionStatus.OPEN


def test_a_revision_based_on_the_current_version_is_made() -> None:
    plan = vincents_plan()

    second = plan.revise([own_goal()], TEAM, MEETING + WEEK, based_on=1)
    third = plan.revise([own_goal(), school_goal()], TEAM, MEETING + 2 * WEEK, based_on=2)

    assert (second.number, third.number, plan.current) == (2, 3, third)


def test_a_revision_based_on_an_older_version_is_refused_and_names_the_current_one() -> None:
    """Two people edit version 1; the first saves version 2. The second one's revision,
    still based on version 1, would silently drop the first one's changes: refused."""
    plan = vincents_plan()
    plan.revise([own_goal(), school_goal()], TEAM, MEETING + WEEK, based_on=1)
    plan.events.clear()

    for stale in (1, 3):  # an older base, or one that does not exist yet
        with pytest.raises(PlanVersionConflict) as error:
            plan.revise([own_goal()], TEAM, MEETING + WEEK, based_on=stale)
        assert (error.value.field, error.value.rule, error.value.current_version) == (
            "base_version", "plan.version_conflict", 2)
        assert "version 2" in error.value.message
        assert error.value.as_problem()["errors"] == [{
            "field": "base_version", "rule": "plan.version_conflict",
            "message": error.value.message, "current_version": 2}]

    assert isinstance(error.value, Conflict)
    assert [v.number for v in plan.versions] == [1, 2]  # nothing was added
    assert plan.events == []
    assert len(plan.current.goals) == 2  # the first editor's version stands


def test_a_revision_without_a_base_is_not_checked() -> None:
    plan = vincents_plan()
    plan.revise([own_goal()], TEAM, MEETING + WEEK)

    assert plan.revise([own_goal()], TEAM, MEETING + WEEK).number == 3


def test_agreement_records_when_and_how() -> None:
    plan = vincents_plan()

    event = plan.record_agreement(1, MEETING, "phone", recorded_by="m-social")

    assert event == PlanVersionAgreed(
        plan_id="h-1", pathway_id="p-1", at=MEETING, version=1, how=AgreementChannel.PHONE
    )
    agreement = plan.current.agreement
    assert agreement is not None
    assert (agreement.at, agreement.how, agreement.recorded_by) == (
        MEETING,
        AgreementChannel.PHONE,
        "m-social",
    )


def test_agreement_rules() -> None:
    plan = vincents_plan()

    with pytest.raises(DomainError) as error:
        plan.record_agreement(1, MEETING, "by_pigeon")
    assert error.value.rule == "plan.agreement_channel_invalid"

    with pytest.raises(NotFound):
        plan.record_agreement(7, MEETING, "written")

    plan.record_agreement(1, MEETING, "written")
    with pytest.raises(Conflict) as error:
        plan.record_agreement(1, MEETING, "written")
    assert error.value.rule == "plan.already_agreed"

    fresh = vincents_plan()
    fresh.revise([own_goal()], TEAM, MEETING + WEEK)
    with pytest.raises(Conflict) as error:
        fresh.record_agreement(1, MEETING + WEEK, "in_meeting")
    assert error.value.rule == "plan.version_superseded"


def test_marking_an_unknown_action_or_the_same_status() -> None:
    plan = vincents_plan()

    with pytest.raises(NotFound):
        plan.mark_action("a-nothing", ActionStatus.DONE, MEETING)
    assert plan.mark_action("a-bed", ActionStatus.OPEN, MEETING) is None
    assert plan.events == []


# --- the timer sweep -----------------------------------------------------------


def test_each_action_falls_due_once_however_often_the_sweep_runs() -> None:
    plan = vincents_plan()

    first = due_actions(plan, MONDAY)
    again = due_actions(plan, MONDAY)

    assert [(e.action_id, e.owner_id, e.due) for e in first] == [("a-bed", "m-upoint", MONDAY)]
    assert isinstance(first[0], ActionDue)
    assert again == []
    assert plan.events == first


def test_notice_days_announce_ahead_but_still_once() -> None:
    plan = vincents_plan()

    week_ahead = due_actions(plan, MONDAY, notice_days=7)
    on_the_day = due_actions(plan, MONDAY + WEEK)

    assert [e.action_id for e in week_ahead] == ["a-bed", "a-cafe"]
    assert on_the_day == []


def test_overdue_is_announced_once_with_days_overdue() -> None:
    plan = vincents_plan()
    plan.mark_action("a-cafe", ActionStatus.DROPPED, MEETING)
    today = MONDAY + dt.timedelta(days=3)

    first = overdue_actions(plan, today)
    again = overdue_actions(plan, today + dt.timedelta(days=1))

    assert [(e.action_id, e.days_overdue) for e in first] == [("a-bed", 3)]
    assert isinstance(first[0], ActionOverdue)
    assert again == []


def test_done_and_dropped_actions_are_not_announced() -> None:
    plan = vincents_plan()
    plan.mark_action("a-bed", ActionStatus.DONE, MEETING)
    plan.mark_action("a-cafe", ActionStatus.DROPPED, MEETING)

    assert due_actions(plan, MONDAY, notice_days=7) == []
    assert overdue_actions(plan, MONDAY + WEEK + dt.timedelta(days=1)) == []


def test_a_revised_due_date_is_announced_again() -> None:
    plan = vincents_plan()
    assert [e.action_id for e in overdue_actions(plan, MONDAY + WEEK + dt.timedelta(days=1))] == [
        "a-bed",
        "a-cafe",
    ]
    postponed = Goal(
        "g-shy",
        "Jeg vil gerne være mindre genert",
        (Action("a-cafe", "Bestille mad selv på en café", "m-upoint", MONDAY + 3 * WEEK),),
    )
    plan.revise([school_goal(), postponed], TEAM, MEETING + 2 * WEEK)

    due = due_actions(plan, MONDAY + 3 * WEEK)

    assert [(e.action_id, e.version) for e in due] == [("a-cafe", 2)]
    # a-bed was announced overdue already; a-calls fell overdue since
    assert [e.action_id for e in overdue_actions(plan, MONDAY + 3 * WEEK)] == ["a-calls"]


def test_notice_days_cannot_be_negative() -> None:
    with pytest.raises(DomainError) as error:
        due_actions(vincents_plan(), MONDAY, notice_days=-1)

    assert error.value.rule == "plan.notice_days_invalid"
