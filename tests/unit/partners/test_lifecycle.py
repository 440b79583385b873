"""The hand-off lifecycle, pure: transitions, what each answer needs, who may see and
answer which hand-off, and the working-day deadline with holidays counted."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts.actor import Actor
from contracts.vocabulary import HandoffKind, HandoffState, PartnerCategory
from services.common.errors import DomainError, NotFound
from services.partners import lifecycle
from services.partners.lifecycle import Answer, HandoffFacts

S = HandoffState
K = HandoffKind
TODAY = dt.date(2025, 3, 5)

PARTNER = Actor("partner", "jobcenter-ballerup", roles=["partner"],
                partner_id="jobcenter-ballerup")
OTHER_PARTNER = Actor("partner", "uu-ballerup", roles=["partner"], partner_id="uu-ballerup")
FRONTEN = Actor("staff", "anne", roles=["fronten"])
SOCIAL_VEJLEDNING = Actor("staff", "sofie", roles=["social_vejledning"])
HOUSING_OFFICER = Actor("staff", "lone", roles=["housing_officer"])
TOVHOLDER = Actor("staff", "mette", roles=["tovholder"])
OPERATOR = Actor("staff", "ole", roles=["operator"])
SERVICE = Actor.from_label("service:intake")


def facts(kind: HandoffKind = K.BRIDGING_EMPLOYMENT, state: HandoffState = S.REQUESTED,
          partner_id: str = "jobcenter-ballerup", responsible: str | None = None) -> HandoffFacts:
    return HandoffFacts(kind, partner_id, state, responsible)


def problem(err: pytest.ExceptionInfo[DomainError]) -> tuple[str, str]:
    return err.value.field, err.value.rule


# ---------------------------------------------------------------------- transitions


ALLOWED = {
    (S.REQUESTED, S.RECEIVED), (S.REQUESTED, S.ACCEPTED), (S.REQUESTED, S.DECLINED),
    (S.REQUESTED, S.CANCELLED), (S.RECEIVED, S.ACCEPTED), (S.RECEIVED, S.DECLINED),
    (S.RECEIVED, S.CANCELLED), (S.ACCEPTED, S.IN_PROGRESS), (S.ACCEPTED, S.COMPLETED),
    (S.ACCEPTED, S.CANCELLED), (S.IN_PROGRESS, S.COMPLETED), (S.IN_PROGRESS, S.CANCELLED),
}


def _needs(kind: HandoffKind, state: HandoffState) -> Answer:
    """The smallest valid answer moving to `state`."""
    return Answer(
        state,
        reason="Ingen plads" if state is S.DECLINED else None,
        outcome=lifecycle.OUTCOMES[kind][0] if state is S.COMPLETED else None,
        hold_until=TODAY if kind is K.HOLD_TERMINATION and state is S.ACCEPTED else None,
    )


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("new", list(S))
def test_exactly_the_agreed_transitions_are_allowed(current, new):
    answer = _needs(K.HOLD_TERMINATION, new)
    if (current, new) in ALLOWED:
        assert lifecycle.check_answer(K.HOLD_TERMINATION, current, answer, TODAY).state is new
        return
    with pytest.raises(DomainError) as err:
        lifecycle.check_answer(K.HOLD_TERMINATION, current, answer, TODAY)
    assert problem(err) == ("state", "handoff.transition_not_allowed")
    for allowed in lifecycle.TRANSITIONS[current]:  # the message lists what is allowed
        assert allowed.value in err.value.message


def test_a_closed_hand_off_says_it_is_closed():
    with pytest.raises(DomainError) as err:
        lifecycle.check_answer(K.REFERRAL_85, S.COMPLETED, Answer(S.ACCEPTED), TODAY)
    assert "closed" in err.value.message


def test_open_unanswered_and_closed_cover_every_state_once():
    assert set(S) == lifecycle.OPEN | lifecycle.CLOSED
    assert not lifecycle.OPEN & lifecycle.CLOSED
    assert lifecycle.UNANSWERED < lifecycle.OPEN
    assert all(not lifecycle.TRANSITIONS[s] for s in lifecycle.CLOSED)


# ------------------------------------------------------------- what an answer needs


def test_declined_needs_a_reason_and_a_reason_belongs_to_declined_or_cancelled():
    with pytest.raises(DomainError) as err:
        lifecycle.check_answer(K.BRIDGING_EDUCATION, S.REQUESTED,
                               Answer(S.DECLINED, reason="   "), TODAY)
    assert problem(err) == ("reason", "handoff.reason_missing")
    with pytest.raises(DomainError) as err:
        lifecycle.check_answer(K.BRIDGING_EDUCATION, S.REQUESTED,
                               Answer(S.ACCEPTED, reason="fordi"), TODAY)
    assert problem(err) == ("reason", "handoff.reason_not_expected")
    cleaned = lifecycle.check_answer(K.BRIDGING_EDUCATION, S.REQUESTED,
                                     Answer(S.DECLINED, reason="  Ingen plads  "), TODAY)
    assert cleaned.reason == "Ingen plads"


def test_completed_needs_an_outcome_of_its_kind():
    with pytest.raises(DomainError) as err:
        lifecycle.check_answer(K.REFERRAL_85, S.ACCEPTED, Answer(S.COMPLETED), TODAY)
    assert problem(err) == ("outcome", "handoff.outcome_missing")
    assert "granted, refused, withdrawn" in err.value.message
    with pytest.raises(DomainError) as err:
        lifecycle.check_answer(K.REFERRAL_85, S.ACCEPTED,
                               Answer(S.COMPLETED, outcome="paid"), TODAY)
    assert problem(err) == ("outcome", "handoff.outcome_unknown")
    with pytest.raises(DomainError) as err:
        lifecycle.check_answer(K.REFERRAL_85, S.REQUESTED,
                               Answer(S.ACCEPTED, outcome="granted"), TODAY)
    assert problem(err) == ("outcome", "handoff.outcome_not_expected")
    done = lifecycle.check_answer(K.HOLD_TERMINATION, S.ACCEPTED,
                                  Answer(S.COMPLETED, outcome="paid"), TODAY)
    assert done.outcome == "paid"


def test_a_hold_accepted_needs_a_day_not_passed_and_only_a_hold_takes_one():
    with pytest.raises(DomainError) as err:
        lifecycle.check_answer(K.HOLD_TERMINATION, S.REQUESTED, Answer(S.ACCEPTED), TODAY)
    assert problem(err) == ("hold_until", "handoff.hold_until_missing")
    with pytest.raises(DomainError) as err:
        lifecycle.check_answer(K.HOLD_TERMINATION, S.REQUESTED,
                               Answer(S.ACCEPTED, hold_until=TODAY - dt.timedelta(days=1)),
                               TODAY)
    assert problem(err) == ("hold_until", "handoff.hold_until_past")
    with pytest.raises(DomainError) as err:
        lifecycle.check_answer(K.BRIDGING_HEALTH, S.REQUESTED,
                               Answer(S.ACCEPTED, hold_until=TODAY), TODAY)
    assert problem(err) == ("hold_until", "handoff.hold_until_not_expected")
    held = lifecycle.check_answer(K.HOLD_TERMINATION, S.RECEIVED,
                                  Answer(S.ACCEPTED, hold_until=dt.date(2025, 4, 16)), TODAY)
    assert held.hold_until == dt.date(2025, 4, 16)


# ------------------------------------------------------------ who sees, who answers


@pytest.mark.parametrize(("actor", "kind", "seen"), [
    (PARTNER, K.BRIDGING_EMPLOYMENT, True),
    (OTHER_PARTNER, K.BRIDGING_EMPLOYMENT, False),
    (FRONTEN, K.HOLD_TERMINATION, True),
    (SOCIAL_VEJLEDNING, K.REFERRAL_85, True),
    (SOCIAL_VEJLEDNING, K.BRIDGING_EMPLOYMENT, False),
    (HOUSING_OFFICER, K.HOLD_TERMINATION, True),
    (HOUSING_OFFICER, K.OFFER_REFERRAL, False),
    (TOVHOLDER, K.OFFER_REFERRAL, False),
    (OPERATOR, K.BRIDGING_EMPLOYMENT, False),
    (SERVICE, K.REFERRAL_85, True),
])
def test_who_may_know_of_a_hand_off(actor, kind, seen):
    assert lifecycle.may_see(actor, facts(kind)) is seen


def test_the_responsible_staff_member_sees_their_own_hand_offs():
    assert lifecycle.may_see(TOVHOLDER, facts(K.OFFER_REFERRAL, responsible="mette"))
    assert not lifecycle.may_see(TOVHOLDER, facts(K.OFFER_REFERRAL, responsible="karl"))


def test_a_partner_without_a_partner_id_sees_nothing():
    assert not lifecycle.may_see(Actor("partner", "x", roles=["partner"]), facts())


def test_another_partners_hand_off_is_not_found_like_a_missing_one():
    with pytest.raises(NotFound) as err:
        lifecycle.check_may_answer(OTHER_PARTNER, facts(), S.ACCEPTED)
    assert (err.value.field, err.value.rule, err.value.message) == (
        "handoff_id", "not_found", lifecycle.NOT_FOUND_MESSAGE)
    with pytest.raises(NotFound):
        lifecycle.check_may_answer(OPERATOR, facts(), S.CANCELLED)


def test_a_partner_answers_its_own_but_does_not_cancel():
    lifecycle.check_may_answer(PARTNER, facts(), S.ACCEPTED)
    with pytest.raises(DomainError) as err:
        lifecycle.check_may_answer(PARTNER, facts(), S.CANCELLED)
    assert problem(err) == ("state", "handoff.partner_cannot_cancel")


def test_social_vejledning_answers_referrals_fronten_and_the_responsible_cancel():
    lifecycle.check_may_answer(SOCIAL_VEJLEDNING, facts(K.REFERRAL_85, partner_id="sv"),
                               S.ACCEPTED)
    lifecycle.check_may_answer(FRONTEN, facts(), S.CANCELLED)
    lifecycle.check_may_answer(TOVHOLDER, facts(K.OFFER_REFERRAL, responsible="mette"),
                               S.CANCELLED)
    lifecycle.check_may_answer(SERVICE, facts(), S.CANCELLED)
    with pytest.raises(DomainError) as err:
        lifecycle.check_may_answer(FRONTEN, facts(), S.ACCEPTED)
    assert problem(err) == ("actor", "not_allowed")
    with pytest.raises(DomainError) as err:
        lifecycle.check_may_answer(HOUSING_OFFICER, facts(K.HOLD_TERMINATION), S.CANCELLED)
    assert problem(err) == ("actor", "not_allowed")
    with pytest.raises(DomainError) as err:
        lifecycle.check_may_answer(SOCIAL_VEJLEDNING, facts(K.REFERRAL_85), S.CANCELLED)
    assert problem(err) == ("actor", "not_allowed")


# --------------------------------------------------------------- working-day deadline


@pytest.mark.parametrize(("requested", "days", "expected"), [
    # Wednesday 5 March 2025 + 5 working days: Wednesday 12 March.
    (dt.datetime(2025, 3, 5, 9, 0, tzinfo=dt.UTC), 5, dt.date(2025, 3, 12)),
    # Friday evening in Copenhagen is still Friday: Monday, Tuesday, ... the next Friday.
    (dt.datetime(2025, 3, 7, 22, 30, tzinfo=dt.UTC), 5, dt.date(2025, 3, 14)),
    # 23:30 UTC on Friday is Saturday in Copenhagen: counted from Saturday.
    (dt.datetime(2025, 3, 7, 23, 30, tzinfo=dt.UTC), 1, dt.date(2025, 3, 10)),
    # Easter 2025: Skærtorsdag 17, Langfredag 18, 2. påskedag 21 April are not counted.
    (dt.datetime(2025, 4, 15, 9, 0, tzinfo=dt.UTC), 3, dt.date(2025, 4, 23)),
    # Christmas: 24, 25, 26 and 31 December and 1 January are closed days.
    (dt.datetime(2025, 12, 23, 9, 0, tzinfo=dt.UTC), 2, dt.date(2025, 12, 30)),
    (dt.datetime(2025, 12, 30, 9, 0, tzinfo=dt.UTC), 1, dt.date(2026, 1, 2)),
    # Grundlovsdag (5 June) is closed too.
    (dt.datetime(2025, 6, 4, 9, 0, tzinfo=dt.UTC), 1, dt.date(2025, 6, 6)),
])
def test_answer_by_counts_copenhagen_working_days(requested, days, expected):
    assert lifecycle.answer_by(requested, days) == expected


def test_an_unanswered_hand_off_escalates_when_its_answer_by_day_ends():
    # 12 March is in winter time (UTC+1): the day ends at 23:00 UTC.
    assert lifecycle.escalation_due_at(dt.date(2025, 3, 12)) == dt.datetime(
        2025, 3, 12, 23, 0, tzinfo=dt.UTC)
    # 30 March 2025 is the switch to summer time (UTC+2): 31 March ends at 22:00 UTC.
    assert lifecycle.escalation_due_at(dt.date(2025, 3, 31)) == dt.datetime(
        2025, 3, 31, 22, 0, tzinfo=dt.UTC)


def test_only_an_unanswered_hand_off_escalates_and_only_once():
    now = dt.datetime(2025, 3, 13, tzinfo=dt.UTC)
    assert lifecycle.should_escalate(S.REQUESTED, None)
    assert lifecycle.should_escalate(S.RECEIVED, None)
    assert not lifecycle.should_escalate(S.RECEIVED, now)
    assert not any(lifecycle.should_escalate(s, None) for s in S
                   if s not in (S.REQUESTED, S.RECEIVED))


# ----------------------------------------------------------------------- directory


def test_reserved_kinds_go_only_to_their_category():
    lifecycle.check_accepts(PartnerCategory.SOCIAL_VEJLEDNING, [K.REFERRAL_85])
    lifecycle.check_accepts(PartnerCategory.HOUSING, [K.HOLD_TERMINATION])
    lifecycle.check_accepts(PartnerCategory.VOLUNTEER, [K.OFFER_REFERRAL])
    with pytest.raises(DomainError) as err:
        lifecycle.check_accepts(PartnerCategory.EMPLOYMENT,
                                [K.BRIDGING_EMPLOYMENT, K.REFERRAL_85])
    assert problem(err) == ("accepts", "partner.kind_not_for_category")


def test_every_kind_has_outcomes_a_mailbox_and_a_subject():
    for kind in K:
        assert lifecycle.OUTCOMES[kind]
        assert lifecycle.MAILBOX_OF[kind] in ("fronten", "coordinators", "housing",
                                              "social_vejledning")
        assert lifecycle.SUBJECT_OF[kind] in ("course", "case", "pathway")
    # intake records a course's § 85 outcome from exactly these.
    assert lifecycle.OUTCOMES[K.REFERRAL_85] == ("granted", "refused", "withdrawn")
    assert "paid" in lifecycle.OUTCOMES[K.HOLD_TERMINATION]
