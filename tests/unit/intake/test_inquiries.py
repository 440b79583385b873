"""Resolving an inquiry, and which inquiry a course may start from."""

import datetime as dt
import uuid

import pytest

from contracts.vocabulary import Channel, CourseKind, InquirerKind, Outcome, Topic
from services.common.errors import Conflict, DomainError
from services.intake.inquiries import (
    COURSE_OUTCOMES,
    check_course_for_inquiry,
    register_inquiry,
    resolve_inquiry,
)

NOW = dt.datetime(2018, 4, 3, 10, 0, tzinfo=dt.UTC)
REF = uuid.uuid4()


def resolve(**overrides):
    args = dict(
        current_outcome=None, registered_at=NOW - dt.timedelta(hours=1), citizen_ref=REF,
        outcome=Outcome.ADVICE_ONLY, resolved_at=NOW, conversations=2, now=NOW,
    )
    return resolve_inquiry(**{**args, **overrides})


def test_register_keeps_the_citizens_words_and_topics_once() -> None:
    new = register_inquiry(
        channel=Channel.PHONE, inquirer_kind=InquirerKind.RELATIVE,
        topics=[Topic.LONELINESS, Topic.LONELINESS, Topic.EDUCATION],
        wish="  Han vil gerne i skole.  ", citizen_ref=None, registered_at=NOW, now=NOW,
    )
    assert new.topics == (Topic.LONELINESS, Topic.EDUCATION)
    assert new.wish == "Han vil gerne i skole."
    assert new.anonymous


@pytest.mark.parametrize(
    ("wish", "registered_at", "field", "rule"),
    [
        ("   ", NOW, "wish", "inquiry.wish_missing"),
        ("x", NOW + dt.timedelta(minutes=6), "registered_at", "inquiry.in_future"),
    ],
)
def test_register_refuses(wish, registered_at, field, rule) -> None:
    with pytest.raises(DomainError) as err:
        register_inquiry(
            channel=Channel.MAIL, inquirer_kind=InquirerKind.CITIZEN, topics=[Topic.OTHER],
            wish=wish, citizen_ref=None, registered_at=registered_at, now=NOW,
        )
    assert (err.value.field, err.value.rule) == (field, rule)


def test_advice_may_take_several_conversations() -> None:
    resolution = resolve(conversations=3)
    assert (resolution.outcome, resolution.conversations) == (Outcome.ADVICE_ONLY, 3)


@pytest.mark.parametrize("outcome", [Outcome.ADVICE_ONLY, Outcome.REFERRAL_OTHER])
def test_anonymous_advice_can_end_as_advice_or_another_offer(outcome) -> None:
    assert resolve(citizen_ref=None, outcome=outcome).outcome is outcome


@pytest.mark.parametrize(
    "outcome",
    [
        Outcome.GROUP_COURSE_82A,
        Outcome.SOCIAL_SKILLS_TRAINING,
        Outcome.INDIVIDUAL_COURSE_82B,
        Outcome.REFERRAL_85,
        Outcome.REFERRAL_PATHWAY,
    ],
)
def test_anonymous_advice_cannot_become_a_course_or_referral(outcome) -> None:
    with pytest.raises(DomainError) as err:
        resolve(citizen_ref=None, outcome=outcome)
    assert (err.value.field, err.value.rule) == ("outcome", "inquiry.outcome_needs_citizen")


def test_resolving_twice_is_a_conflict() -> None:
    with pytest.raises(Conflict) as err:
        resolve(current_outcome=Outcome.ADVICE_ONLY)
    assert err.value.rule == "inquiry.already_resolved"


@pytest.mark.parametrize(
    ("resolved_at", "rule"),
    [
        (NOW - dt.timedelta(hours=1, seconds=1), "inquiry.resolved_before_registered"),
        (NOW + dt.timedelta(minutes=5, seconds=1), "inquiry.in_future"),
    ],
)
def test_resolution_time_must_be_after_registration_and_not_in_future(resolved_at, rule) -> None:
    with pytest.raises(DomainError) as err:
        resolve(resolved_at=resolved_at)
    assert (err.value.field, err.value.rule) == ("resolved_at", rule)


def test_resolution_at_the_registration_moment_and_within_five_minutes_is_allowed() -> None:
    assert resolve(resolved_at=NOW - dt.timedelta(hours=1)).resolved_at < NOW
    assert resolve(resolved_at=NOW + dt.timedelta(minutes=5)).resolved_at > NOW


@pytest.mark.parametrize("kind", list(CourseKind))
def test_a_course_starts_from_an_unresolved_or_matching_inquiry(kind) -> None:
    check_course_for_inquiry(kind, REF, None)
    check_course_for_inquiry(kind, REF, COURSE_OUTCOMES[kind])


def test_a_course_needs_an_identified_citizen() -> None:
    with pytest.raises(DomainError) as err:
        check_course_for_inquiry(CourseKind.INDIVIDUAL_82B, None, None)
    assert (err.value.field, err.value.rule) == ("inquiry_id", "course.anonymous_inquiry")


def test_a_course_must_match_the_inquirys_outcome() -> None:
    with pytest.raises(DomainError) as err:
        check_course_for_inquiry(CourseKind.SFT, REF, Outcome.INDIVIDUAL_COURSE_82B)
    assert (err.value.field, err.value.rule) == ("kind", "course.outcome_mismatch")
