"""Housing alerts: housing's events for one case, folded in any order of arrival, give
the same state; the list's priority puts help after the påkrav deadline first."""

from __future__ import annotations

import datetime as dt
import itertools
from functools import reduce

import pytest

from services.coordination import housing_alerts as ha
from services.coordination.housing_alerts import CaseNews

UTC = dt.UTC
T = dt.datetime(2024, 2, 1, 8, 0, tzinfo=UTC)
DEADLINE = dt.datetime(2024, 2, 15, 23, 0, tzinfo=UTC)


def opened(at: dt.datetime = T) -> CaseNews:
    return CaseNews(kind=ha.OPENED, occurred_at=at, level="reported", next_deadline=DEADLINE,
                    requests=("for_information",), association_id="kab")


def warning(at: dt.datetime = T, flag: str = ha.LATE_HELP) -> CaseNews:
    return CaseNews(kind=ha.WARNING, occurred_at=at, level="outreach_due",
                    next_deadline=DEADLINE, requests=("make_plan_or_apply_for_help",),
                    flag=flag, pakrav_deadline=dt.date(2024, 2, 10))


def escalated(at: dt.datetime, level: str = "escalated_to_association",
              deadline: dt.datetime | None = None) -> CaseNews:
    return CaseNews(kind=ha.ESCALATED, occurred_at=at, level=level, next_deadline=deadline,
                    requests=("contact_citizen",))


def overdue(at: dt.datetime) -> CaseNews:
    return CaseNews(kind=ha.OVERDUE, occurred_at=at, level="escalated_to_association",
                    next_deadline=None, deadline_kind="hold_expires")


def closed(at: dt.datetime) -> CaseNews:
    return CaseNews(kind=ha.CLOSED, occurred_at=at, closure="tenancy_kept")


def fold(news: list[CaseNews]) -> ha.CaseState:
    return reduce(ha.merge, news, None)  # type: ignore[arg-type]


STORY = [opened(), warning(T + dt.timedelta(seconds=1)),
         escalated(T + dt.timedelta(days=14), deadline=T + dt.timedelta(days=30)),
         overdue(T + dt.timedelta(days=31))]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(STORY)))))
def test_the_state_does_not_depend_on_the_order_of_arrival(order):
    state = fold([STORY[i] for i in order])
    assert state == fold(STORY)
    assert state.level == "escalated_to_association"  # the newest decision wins
    assert state.flags == (ha.LATE_HELP,)  # a warning stays until the case closes
    assert state.overdue_kind == "hold_expires"  # the overdue came after the escalation
    assert state.requests == ()  # the overdue event asked nothing of the tovholder
    assert state.association_id == "kab"


def test_a_newer_escalation_settles_an_older_overdue_deadline():
    state = fold([opened(), overdue(T + dt.timedelta(days=20)),
                  escalated(T + dt.timedelta(days=21), level="termination_urgent")])
    assert state.overdue_kind is None
    assert state.level == "termination_urgent"
    assert ha.priority(state) == 1  # a termination is standing


@pytest.mark.parametrize("late_first", [True, False])
def test_a_closed_case_stays_closed_whatever_arrives_late(late_first):
    news = [escalated(T + dt.timedelta(days=3)), closed(T + dt.timedelta(days=10))]
    state = fold(list(reversed(news)) if late_first else news)
    assert state.is_closed
    assert state.closure == "tenancy_kept"


def test_priority_puts_help_after_the_pakrav_deadline_first():
    assert ha.priority(fold([opened()])) == 2
    assert ha.priority(fold([opened(), warning(flag=ha.SHORT_PAKRAV)])) == 1
    assert ha.priority(fold([opened(), overdue(T + dt.timedelta(days=1))])) == 1
    assert ha.priority(fold([opened(), warning(flag=ha.SHORT_PAKRAV), warning()])) == 0


def test_sort_deadline_is_the_nearest_of_the_ladder_and_the_pakrav_day():
    # Help too late: the end of the påkrav day (10 February in Copenhagen) comes first.
    state = fold([opened(), warning()])
    assert ha.sort_deadline(state) == dt.datetime(2024, 2, 10, 23, 0, tzinfo=UTC)
    # No deadline at all: after every real one.
    no_deadline = fold([escalated(T)])
    assert ha.sort_deadline(no_deadline) == ha.FAR
    assert ha.sort_deadline(fold([opened()])) == DEADLINE


def test_an_event_without_a_level_is_a_programming_error():
    with pytest.raises(ValueError, match="level"):
        ha.merge(None, CaseNews(kind=ha.OPENED, occurred_at=T))


def deescalated(at: dt.datetime, level: str = "reported") -> CaseNews:
    return CaseNews(kind=ha.DEESCALATED, occurred_at=at, level=level, next_deadline=None,
                    requests=("for_information",))


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_de_escalation_moves_the_case_down_and_settles_an_earlier_overdue(order):
    events = [escalated(T), overdue(T + dt.timedelta(days=1)),
              deescalated(T + dt.timedelta(days=2))]
    state = reduce(ha.merge, [events[i] for i in order], None)
    assert state is not None
    assert (state.level, state.overdue_kind, state.requests) == (
        "reported", None, ("for_information",))
    assert ha.priority(state) == 2


def test_an_older_de_escalation_arriving_late_changes_nothing():
    state = reduce(ha.merge, [escalated(T + dt.timedelta(days=3), "termination_urgent"),
                              deescalated(T)], None)
    assert state is not None and state.level == "termination_urgent"
