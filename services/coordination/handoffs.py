"""Hand-offs of a citizen with a pathway: coordination's copy, for the tovholder's list
of hand-offs needing attention (ADR 0012: a list that needs another service's facts
keeps its own copy, fed by events).

Pure: no I/O. partners' events about one hand-off (`partners.handoff_updated` on every
state change, `partners.handoff_escalated` once when it was not answered in time)
travel on different queues, so they arrive in any order; `merge` folds them into one
state that does not depend on that order:
- the state comes from the newest update (by `at`, when it was answered);
- the escalation is kept once it happened;
- an escalation before the first update starts the hand-off as requested.

A hand-off needs the tovholder's attention (`attention`) when
- it was declined (the partner said no, with a reason): since the answer, or
- it was escalated and is still unanswered (requested or received): since the
  escalation.
It leaves the list when the partner answers, or when the tovholder acknowledges it
(`acknowledge`); a new reason for attention (an escalated hand-off that is then
declined) brings it back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

UPDATED = "updated"
ESCALATED = "escalated"
DECLINED = "declined"
UNANSWERED = frozenset({"requested", "received"})
TERMINAL = frozenset({"declined", "completed", "cancelled"})


@dataclass(frozen=True)
class HandoffNews:
    """One partners event about a hand-off, as coordination needs it."""

    kind: str  # UPDATED | ESCALATED
    at: dt.datetime  # the answer's time, or the escalation's
    handoff_kind: str
    partner_id: str
    subject_type: str
    subject_id: str
    state: str | None = None  # UPDATED
    reason: str | None = None
    outcome: str | None = None
    hold_until: dt.date | None = None
    title: str | None = None
    answered_by: str | None = None
    requested_at: dt.datetime | None = None  # ESCALATED
    answer_by: dt.date | None = None  # ESCALATED


@dataclass(frozen=True)
class Handoff:
    handoff_kind: str
    partner_id: str
    subject_type: str
    subject_id: str
    state: str
    state_at: dt.datetime
    reason: str | None = None
    outcome: str | None = None
    hold_until: dt.date | None = None
    title: str | None = None
    answered_by: str | None = None
    requested_at: dt.datetime | None = None
    answer_by: dt.date | None = None
    escalated_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None
    acknowledged_by: str | None = None

    @property
    def attention(self) -> tuple[str, dt.datetime] | None:
        """Why and since when the tovholder must look at it, or None."""
        if self.state == DECLINED:
            return DECLINED, self.state_at
        if self.escalated_at is not None and self.state in UNANSWERED:
            return ESCALATED, self.escalated_at
        return None

    @property
    def needs_attention(self) -> bool:
        """On the list: a reason for attention not yet acknowledged."""
        reason = self.attention
        return reason is not None and (self.acknowledged_at is None
                                       or self.acknowledged_at < reason[1])


def merge(current: Handoff | None, news: HandoffNews) -> Handoff:
    """The hand-off after `news`, whatever order the events arrive in."""
    if current is None:
        if news.kind == ESCALATED:
            start_at = news.requested_at or news.at
            current = Handoff(news.handoff_kind, news.partner_id, news.subject_type,
                              news.subject_id, state="requested", state_at=start_at)
        else:
            if news.state is None:
                raise ValueError("an update carries the hand-off's state")
            return Handoff(news.handoff_kind, news.partner_id, news.subject_type,
                           news.subject_id, state=news.state, state_at=news.at,
                           reason=news.reason, outcome=news.outcome,
                           hold_until=news.hold_until, title=news.title,
                           answered_by=news.answered_by)
    if news.kind == ESCALATED:
        escalated = news.at if current.escalated_at is None else min(current.escalated_at,
                                                                      news.at)
        return replace(current, escalated_at=escalated,
                       requested_at=current.requested_at or news.requested_at,
                       answer_by=current.answer_by or news.answer_by)
    if news.state is None:
        raise ValueError("an update carries the hand-off's state")
    if news.at < current.state_at:
        return current  # an older answer arriving late changes nothing
    return replace(current, state=news.state, state_at=news.at, reason=news.reason,
                   outcome=news.outcome, hold_until=news.hold_until,
                   title=news.title or current.title, answered_by=news.answered_by)


def acknowledge(handoff: Handoff, at: dt.datetime, by: str) -> Handoff:
    """The tovholder has dealt with the reason for attention: off the list."""
    return replace(handoff, acknowledged_at=at, acknowledged_by=by)
