"""Housing alerts: coordination's copy of a citizen's rent-arrears case, for the
tovholder's list (ADR 0012: a list that needs another service's facts keeps its own
copy, fed by events).

Pure: no I/O. Housing's events for one case arrive on different queues, so in any
order; `merge` folds them into one state that does not depend on that order:
- the level, next deadline and what housing asks of the tovholder come from the
  newest event that carries them (by the time housing decided it, `occurred_at`);
- warning flags are kept once raised, until the case is closed;
- an overdue deadline is shown until housing moves the case on (a newer escalation or
  de-escalation), also when the move arrives before the overdue it settles;
- a closed case stays closed: a late, older event does not bring it back.

The list is sorted by `priority` then `sort_deadline` (then the case id):
0. help (§ 81 a) would come after the påkrav deadline (``processing_exceeds_pakrav_deadline``);
1. another warning, an overdue deadline, or a termination or eviction standing;
2. the rest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from services.common.localtime import start_of_local_day

LATE_HELP = "processing_exceeds_pakrav_deadline"
SHORT_PAKRAV = "pakrav_deadline_shorter_than_legal"
URGENT_LEVELS = frozenset({"termination_urgent", "eviction_emergency"})
# The sort deadline of a case without one: after every real deadline, and far enough
# from year 9999 that converting it to any zone cannot overflow.
FAR = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)

OPENED = "case_opened"
ESCALATED = "case_escalated"
DEESCALATED = "case_deescalated"  # down the ladder: folded like an escalation
WARNING = "warning_flagged"
OVERDUE = "action_overdue"
CLOSED = "case_closed"


@dataclass(frozen=True)
class CaseNews:
    """One housing event about a case, as coordination needs it."""

    kind: str  # OPENED | ESCALATED | DEESCALATED | WARNING | OVERDUE | CLOSED
    occurred_at: dt.datetime  # when housing decided it
    level: str | None = None  # None only for CLOSED
    next_deadline: dt.datetime | None = None
    requests: tuple[str, ...] = ()  # what housing asks of the tovholder
    association_id: str | None = None
    flag: str | None = None  # WARNING
    pakrav_deadline: dt.date | None = None  # WARNING
    deadline_kind: str | None = None  # OVERDUE
    closure: str | None = None  # CLOSED


@dataclass(frozen=True)
class CaseState:
    level: str
    next_deadline: dt.datetime | None
    state_at: dt.datetime
    requests: tuple[str, ...]
    last_event: str
    association_id: str | None = None
    flags: tuple[str, ...] = field(default=())
    pakrav_deadline: dt.date | None = None
    overdue_kind: str | None = None
    overdue_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    closure: str | None = None
    moved_at: dt.datetime | None = None  # the newest move on the ladder (up or down)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


def merge(state: CaseState | None, news: CaseNews) -> CaseState:
    """The case after `news`, whatever order the events arrive in."""
    if news.kind == CLOSED:
        if state is None:  # the closing came first: remember it, so nothing reopens it
            return CaseState(level="reported", next_deadline=None, state_at=news.occurred_at,
                             requests=(), last_event=CLOSED, closed_at=news.occurred_at,
                             closure=news.closure)
        if state.is_closed:
            return state
        return replace(state, closed_at=news.occurred_at, closure=news.closure,
                       last_event=CLOSED)
    if news.level is None:
        raise ValueError(f"a {news.kind} event carries the case's level")
    if state is None:
        state = CaseState(level=news.level, next_deadline=news.next_deadline,
                          state_at=news.occurred_at, requests=news.requests,
                          last_event=news.kind, association_id=news.association_id)
    elif news.occurred_at >= state.state_at:
        state = replace(state, level=news.level, next_deadline=news.next_deadline,
                        state_at=news.occurred_at, requests=news.requests,
                        last_event=news.kind if not state.is_closed else state.last_event)
    if state.association_id is None and news.association_id is not None:
        state = replace(state, association_id=news.association_id)  # it never changes
    if news.kind == WARNING and news.flag:
        flags = state.flags if news.flag in state.flags else (*state.flags, news.flag)
        state = replace(state, flags=flags,
                        pakrav_deadline=news.pakrav_deadline or state.pakrav_deadline)
    if news.kind in (ESCALATED, DEESCALATED) and (state.moved_at is None
                                                  or news.occurred_at > state.moved_at):
        state = replace(state, moved_at=news.occurred_at)
    if (news.kind == OVERDUE
            and (state.overdue_at is None or news.occurred_at >= state.overdue_at)
            and (state.moved_at is None or news.occurred_at >= state.moved_at)):
        state = replace(state, overdue_kind=news.deadline_kind, overdue_at=news.occurred_at)
    # A newer move on the ladder (up or down) settles an overdue deadline reported
    # before it.
    if (state.overdue_at is not None and state.moved_at is not None
            and state.moved_at > state.overdue_at):
        state = replace(state, overdue_kind=None, overdue_at=None)
    return state


def priority(state: CaseState) -> int:
    """0, 1 or 2: see the module's docstring."""
    if LATE_HELP in state.flags:
        return 0
    if state.flags or state.overdue_kind is not None or state.level in URGENT_LEVELS:
        return 1
    return 2


def sort_deadline(state: CaseState) -> dt.datetime:
    """The deadline the case is sorted by: the next one on the ladder, or the end of the
    påkrav deadline's day when help would come too late, whichever is first."""
    candidates = [d for d in (state.next_deadline,) if d is not None]
    if LATE_HELP in state.flags and state.pakrav_deadline is not None:
        candidates.append(start_of_local_day(state.pakrav_deadline + dt.timedelta(days=1)))
    return min(candidates, default=FAR)
