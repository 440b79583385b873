"""The day the action sweep must next look at a plan: stored as a deadline row, so
that a restart loses no reminder and a late sweep catches up."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.errors import DomainError
from services.coordination.plans import (
    ActionStatus,
    due_actions,
    next_announcement_day,
    overdue_actions,
)
from tests.unit.coordination.test_plans import MEETING, MONDAY, WEEK, vincents_plan


def sweep(plan, today, notice_days=0):
    return due_actions(plan, today, notice_days=notice_days) + overdue_actions(plan, today)


def test_next_day_is_the_first_due_date():
    plan = vincents_plan()
    assert next_announcement_day(plan, MONDAY - WEEK) == MONDAY


def test_notice_days_bring_the_reminder_forward():
    plan = vincents_plan()
    assert next_announcement_day(plan, MONDAY - WEEK, notice_days=2) == MONDAY - dt.timedelta(2)


def test_after_the_due_reminder_comes_the_overdue_day():
    plan = vincents_plan()
    assert [e.action_id for e in sweep(plan, MONDAY)] == ["a-bed"]
    assert next_announcement_day(plan, MONDAY) == MONDAY + dt.timedelta(days=1)


def test_a_done_action_needs_no_overdue_reminder():
    plan = vincents_plan()
    sweep(plan, MONDAY)
    plan.mark_action("a-bed", ActionStatus.DONE, MEETING)
    assert next_announcement_day(plan, MONDAY) == MONDAY + WEEK  # a-cafe falls due


def test_following_the_days_announces_everything_once_and_then_nothing_is_left():
    plan = vincents_plan()
    today, announced = MONDAY - WEEK, []
    while (day := next_announcement_day(plan, today)) is not None:
        assert day >= today
        today = day
        announced += [(type(e).__name__, e.action_id) for e in sweep(plan, today)]
    assert sorted(announced) == sorted(
        [(kind, action) for action in ("a-bed", "a-calls", "a-one-call", "a-cafe")
         for kind in ("ActionDue", "ActionOverdue")])


def test_a_late_sweep_catches_up_with_overdue_only():
    plan = vincents_plan()
    late = MONDAY + 10 * WEEK
    assert next_announcement_day(plan, late) == late
    assert {type(e).__name__ for e in sweep(plan, late)} == {"ActionOverdue"}
    assert next_announcement_day(plan, late) is None


def test_negative_notice_is_refused():
    with pytest.raises(DomainError) as err:
        next_announcement_day(vincents_plan(), MONDAY, notice_days=-1)
    assert err.value.rule == "plan.notice_days_invalid"
