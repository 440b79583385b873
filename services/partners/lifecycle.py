"""The hand-off lifecycle: its states and transitions, who may answer, what each answer
needs, and the working-day arithmetic of its deadline. Pure: no database, no clock
(`today` and `now` are passed in).

    requested --> received --> accepted --> in_progress --> completed
        |            |            |              |
        |            +--> declined|              |
        +--> accepted / declined  +--> completed |
        +------------+------------+--------------+--> cancelled

- declined needs a `reason`; completed needs an `outcome` from the kind's list
  (`OUTCOMES`); a hold_termination accepted needs `hold_until` (the day the
  association will wait until).
- A partner answers only its own hand-offs (another's is "not found"); it cannot cancel
  (the municipality withdraws a request; a partner declines it).
- Social Vejledning's staff answer § 85 referrals (role social_vejledning).
- Fronten, and the hand-off's responsible staff member, may cancel.
- Services (events from other services, the sweep) act as the system.

An unanswered hand-off (still requested or received) escalates at the end of its
`answer_by` day: N Copenhagen working days after the request, holidays and the days the
municipality is closed counted (services.common.holidays).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from contracts.actor import Actor, ActorKind, StaffRole
from contracts.vocabulary import HandoffKind, HandoffState, PartnerCategory, PartnerKind
from services.common.errors import DomainError, NotFound
from services.common.holidays import add_working_days
from services.common.localtime import local_day, start_of_local_day

S = HandoffState

TRANSITIONS: dict[HandoffState, tuple[HandoffState, ...]] = {
    S.REQUESTED: (S.RECEIVED, S.ACCEPTED, S.DECLINED, S.CANCELLED),
    S.RECEIVED: (S.ACCEPTED, S.DECLINED, S.CANCELLED),
    S.ACCEPTED: (S.IN_PROGRESS, S.COMPLETED, S.CANCELLED),
    S.IN_PROGRESS: (S.COMPLETED, S.CANCELLED),
    S.DECLINED: (),
    S.COMPLETED: (),
    S.CANCELLED: (),
}

#: No answer from the partner yet: these escalate at the end of answer_by.
UNANSWERED = frozenset({S.REQUESTED, S.RECEIVED})
#: Still going: a new hand-off for the same subject, partner and kind is not made.
OPEN = frozenset({S.REQUESTED, S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS})
CLOSED = frozenset({S.DECLINED, S.COMPLETED, S.CANCELLED})

#: The outcome codes `completed` takes, by kind (docs/partners.md explains each).
OUTCOMES: dict[HandoffKind, tuple[str, ...]] = {
    HandoffKind.BRIDGING_EMPLOYMENT: ("started", "not_started", "withdrawn"),
    HandoffKind.BRIDGING_EDUCATION: ("enrolled", "not_enrolled", "withdrawn"),
    HandoffKind.BRIDGING_HEALTH: ("started", "not_started", "withdrawn"),
    # intake records the course's § 85 outcome from these three.
    HandoffKind.REFERRAL_85: ("granted", "refused", "withdrawn"),
    HandoffKind.OFFER_REFERRAL: ("started", "not_started", "withdrawn"),
    # held: the hold ran out without a termination; paid: the tenant paid in full;
    # terminated: the association terminated the tenancy after all.
    HandoffKind.HOLD_TERMINATION: ("held", "paid", "terminated"),
}

#: Which hand-off kinds only a partner of a given category may accept.
RESERVED_KINDS: dict[HandoffKind, PartnerCategory] = {
    HandoffKind.REFERRAL_85: PartnerCategory.SOCIAL_VEJLEDNING,
    HandoffKind.HOLD_TERMINATION: PartnerCategory.HOUSING,
}

#: intake's partner_kind of a bridging_due -> the hand-off kind.
BRIDGING_KINDS: dict[PartnerKind, HandoffKind] = {
    PartnerKind.EMPLOYMENT: HandoffKind.BRIDGING_EMPLOYMENT,
    PartnerKind.EDUCATION: HandoffKind.BRIDGING_EDUCATION,
    PartnerKind.HEALTH: HandoffKind.BRIDGING_HEALTH,
}

#: Which team mailbox hears of an unanswered hand-off when no person is named.
MAILBOX_OF: dict[HandoffKind, str] = {
    HandoffKind.BRIDGING_EMPLOYMENT: "fronten",
    HandoffKind.BRIDGING_EDUCATION: "fronten",
    HandoffKind.BRIDGING_HEALTH: "fronten",
    HandoffKind.REFERRAL_85: "social_vejledning",
    HandoffKind.OFFER_REFERRAL: "coordinators",
    HandoffKind.HOLD_TERMINATION: "housing",
}

#: The subject a hand-off of each kind is about.
SUBJECT_OF: dict[HandoffKind, str] = {
    HandoffKind.BRIDGING_EMPLOYMENT: "course",
    HandoffKind.BRIDGING_EDUCATION: "course",
    HandoffKind.BRIDGING_HEALTH: "course",
    HandoffKind.REFERRAL_85: "course",
    HandoffKind.OFFER_REFERRAL: "pathway",
    HandoffKind.HOLD_TERMINATION: "case",
}

DEFAULT_ANSWER_WORKING_DAYS = 5
NOT_FOUND_MESSAGE = "No such hand-off."


# --------------------------------------------------------------------------- deadlines


def answer_by(requested_at: dt.datetime, working_days: int) -> dt.date:
    """The Copenhagen working day by which the partner should answer: the n-th working
    day after the day of the request (that day itself never counts)."""
    return add_working_days(local_day(requested_at), working_days)


def escalation_due_at(answer_by_day: dt.date) -> dt.datetime:
    """When an unanswered hand-off escalates: at the end of its answer_by day (the UTC
    moment the next Copenhagen day begins)."""
    return start_of_local_day(answer_by_day + dt.timedelta(days=1))


def should_escalate(state: HandoffState, escalated_at: dt.datetime | None) -> bool:
    """Escalate once, and only while no partner has answered."""
    return state in UNANSWERED and escalated_at is None


# -------------------------------------------------------------------- who sees, answers


@dataclass(frozen=True)
class HandoffFacts:
    """What need-to-know and the lifecycle are decided on."""

    kind: HandoffKind
    partner_id: str
    state: HandoffState
    responsible_staff_id: str | None = None


def may_see(actor: Actor, facts: HandoffFacts) -> bool:
    """Who may know of a hand-off: its partner; Fronten (every hand-off: Fronten sees
    all citizen data); Social Vejledning its § 85 referrals; housing officers the hold
    requests; the responsible staff member; services. Operators, coordinators and other
    partners see none."""
    if actor.kind is ActorKind.SERVICE:
        return True
    if actor.kind is ActorKind.PARTNER:
        return actor.partner_id is not None and actor.partner_id == facts.partner_id
    if actor.has_role(StaffRole.FRONTEN):
        return True
    if actor.has_role(StaffRole.SOCIAL_VEJLEDNING) and facts.kind is HandoffKind.REFERRAL_85:
        return True
    if actor.has_role(StaffRole.HOUSING_OFFICER) and facts.kind is HandoffKind.HOLD_TERMINATION:
        return True
    return facts.responsible_staff_id is not None and actor.id == facts.responsible_staff_id


def check_may_answer(actor: Actor, facts: HandoffFacts, state: HandoffState) -> None:
    """Raise NotFound when the actor may not know of the hand-off (exactly as for a
    missing one), DomainError(actor|state) when it may know of it but not answer so."""
    if not may_see(actor, facts):
        raise NotFound("handoff_id", NOT_FOUND_MESSAGE)
    if actor.kind is ActorKind.SERVICE:
        return
    if actor.kind is ActorKind.PARTNER:
        if state is S.CANCELLED:
            raise DomainError(
                "state", "handoff.partner_cannot_cancel",
                "A partner does not cancel a hand-off: decline it, with a reason.")
        return
    if state is S.CANCELLED:
        if actor.has_role(StaffRole.FRONTEN) or actor.id == facts.responsible_staff_id:
            return
        raise DomainError("actor", "not_allowed",
                          "Only Fronten or the responsible staff member may cancel a hand-off.")
    if actor.has_role(StaffRole.SOCIAL_VEJLEDNING) and facts.kind is HandoffKind.REFERRAL_85:
        return
    raise DomainError("actor", "not_allowed",
                      "The partner answers this hand-off; staff may only cancel it.")


# ------------------------------------------------------------------------- the answer


@dataclass(frozen=True)
class Answer:
    state: HandoffState
    reason: str | None = None
    outcome: str | None = None
    hold_until: dt.date | None = None
    note: str | None = None


def _names(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(values) if values else "none"


def next_states(state: HandoffState) -> tuple[HandoffState, ...]:
    return TRANSITIONS[state]


def check_answer(kind: HandoffKind, current: HandoffState, answer: Answer,
                 today: dt.date) -> Answer:
    """The answer, cleaned, if the lifecycle allows it; otherwise a DomainError naming
    the field, the rule and what is allowed."""
    allowed = TRANSITIONS[current]
    if answer.state not in allowed:
        if not allowed:
            message = (f"The hand-off is {current.value}: it is closed and cannot change.")
        else:
            message = (f"A hand-off that is {current.value} can become "
                       f"{_names([s.value for s in allowed])}, not {answer.state.value}.")
        raise DomainError("state", "handoff.transition_not_allowed", message)
    reason = (answer.reason or "").strip() or None
    outcome = (answer.outcome or "").strip() or None
    note = (answer.note or "").strip() or None
    if answer.state is S.DECLINED and reason is None:
        raise DomainError("reason", "handoff.reason_missing",
                          "Say why the hand-off is declined (reason).")
    if reason is not None and answer.state not in (S.DECLINED, S.CANCELLED):
        raise DomainError("reason", "handoff.reason_not_expected",
                          "A reason is given only when declining or cancelling.")
    outcomes = OUTCOMES[kind]
    if answer.state is S.COMPLETED:
        if outcome is None:
            raise DomainError("outcome", "handoff.outcome_missing",
                              f"Give the outcome: one of {_names(outcomes)}.")
        if outcome not in outcomes:
            raise DomainError("outcome", "handoff.outcome_unknown",
                              f"A {kind.value} hand-off's outcome is one of "
                              f"{_names(outcomes)}.")
    elif outcome is not None:
        raise DomainError("outcome", "handoff.outcome_not_expected",
                          "An outcome is given only when completing.")
    holds = kind is HandoffKind.HOLD_TERMINATION and answer.state is S.ACCEPTED
    if holds and answer.hold_until is None:
        raise DomainError("hold_until", "handoff.hold_until_missing",
                          "Say until which day the termination is held (hold_until).")
    if not holds and answer.hold_until is not None:
        raise DomainError("hold_until", "handoff.hold_until_not_expected",
                          "hold_until is given only when accepting a hold_termination.")
    if holds and answer.hold_until is not None and answer.hold_until < today:
        raise DomainError("hold_until", "handoff.hold_until_past",
                          "hold_until cannot be a day that has passed.")
    return Answer(answer.state, reason, outcome, answer.hold_until if holds else None, note)


# ----------------------------------------------------------------------- the directory


def check_accepts(category: PartnerCategory, accepts: list[HandoffKind]) -> None:
    """§ 85 referrals go only to Social Vejledning, hold requests only to housing
    associations."""
    for kind in accepts:
        reserved = RESERVED_KINDS.get(kind)
        if reserved is not None and reserved is not category:
            raise DomainError(
                "accepts", "partner.kind_not_for_category",
                f"Only a partner of category {reserved.value} accepts {kind.value}.")
