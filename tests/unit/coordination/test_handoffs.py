"""The hand-off read model: partners' events in any order give the same state, and a
hand-off needs the tovholder's attention when declined or escalated while unanswered,
until answered or acknowledged."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from services.coordination import handoffs
from services.coordination.handoffs import ESCALATED, UPDATED, HandoffNews, merge

T0 = dt.datetime(2021, 3, 1, 8, 0, tzinfo=dt.UTC)


def news(kind: str, hours: int, state: str | None = None, **extra) -> HandoffNews:
    return HandoffNews(kind=kind, at=T0 + dt.timedelta(hours=hours),
                       handoff_kind="bridging_education", partner_id="uu-ballerup",
                       subject_type="course", subject_id="c-1", state=state, **extra)


def fold(events: list[HandoffNews]) -> handoffs.Handoff:
    state = None
    for event in events:
        state = merge(state, event)
    assert state is not None
    return state


def escalation(hours: int) -> HandoffNews:
    return news(ESCALATED, hours, requested_at=T0, answer_by=dt.date(2021, 3, 8))


def test_an_escalated_unanswered_handoff_needs_attention_since_the_escalation():
    state = fold([news(UPDATED, 0, "requested"), escalation(100)])
    assert state.attention == ("escalated", T0 + dt.timedelta(hours=100))
    assert state.needs_attention
    assert state.answer_by == dt.date(2021, 3, 8)


def test_an_escalation_first_starts_the_handoff_as_requested():
    state = fold([escalation(100)])
    assert (state.state, state.state_at) == ("requested", T0)
    assert state.needs_attention


def test_a_later_answer_takes_it_off_the_list():
    state = fold([news(UPDATED, 0, "requested"), escalation(100),
                  news(UPDATED, 101, "accepted")])
    assert state.attention is None and not state.needs_attention


def test_declined_needs_attention_with_its_reason():
    state = fold([news(UPDATED, 0, "requested"),
                  news(UPDATED, 5, "declined", reason="Ingen pladser før august.")])
    assert state.attention == ("declined", T0 + dt.timedelta(hours=5))
    assert state.reason == "Ingen pladser før august."


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_the_order_of_arrival_does_not_change_the_state(order):
    events = [news(UPDATED, 0, "requested"), news(UPDATED, 2, "received"),
              escalation(100), news(UPDATED, 120, "declined", reason="Fuldt.")]
    state = fold([events[i] for i in order])
    assert (state.state, state.reason, state.escalated_at) == (
        "declined", "Fuldt.", T0 + dt.timedelta(hours=100))
    assert state.attention == ("declined", T0 + dt.timedelta(hours=120))


def test_acknowledged_until_a_new_reason_for_attention():
    state = fold([news(UPDATED, 0, "requested"), escalation(100)])
    seen = handoffs.acknowledge(state, T0 + dt.timedelta(hours=101), "staff:m-social")
    assert not seen.needs_attention
    later = merge(seen, news(UPDATED, 130, "declined", reason="Fuldt."))
    assert later.needs_attention and later.acknowledged_by == "staff:m-social"


def test_an_update_without_a_state_is_a_programming_error():
    with pytest.raises(ValueError):
        merge(None, news(UPDATED, 0, None))
