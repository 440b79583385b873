import datetime as dt
from collections.abc import Iterable

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contracts.vocabulary import CourseKind, PartnerKind
from services.common.errors import Conflict, DomainError
from services.intake.courses import (
    BackOnTrack,
    BridgingCancelled,
    BridgingDue,
    BridgingPartnerMissing,
    Course,
    CourseEnded,
    CourseExtended,
    CourseSettings,
    CourseStarted,
    Deadline,
    DeadlineKind,
    EndingDecision,
    EndingProposed,
    EndOverdue,
    EndReason,
    FollowUpDue,
    Plan,
    ReferralOutcome,
    ReferredTo85,
    ReviewDecision,
    ReviewDue,
    add_months,
    deadlines,
    validate_plan,
)

D = dt.date
CITIZEN = "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80"
START, PLANNED_END = D(2024, 1, 10), D(2024, 7, 10)
GOAL = "Jeg vil gerne kunne stå op om morgenen og komme ud af døren."


def a_plan(*follow_ups: dt.date, goals: Iterable[str] = (GOAL,)) -> Plan:
    return validate_plan(goals, follow_ups)


def individual(
    start: dt.date = START,
    planned_end: dt.date = PLANNED_END,
    follow_ups: Iterable[dt.date] = (),
    *,
    bridging_to: Iterable[PartnerKind | str] = (),
    settings: CourseSettings | None = None,
) -> Course:
    follow_ups = tuple(follow_ups) or (start + dt.timedelta(days=14),)
    return Course.start(
        CourseKind.INDIVIDUAL_82B,
        CITIZEN,
        start,
        planned_end,
        a_plan(*follow_ups),
        bridging_to=bridging_to,
        settings=settings,
    )


def rule_of(error: pytest.ExceptionInfo[DomainError]) -> tuple[str, str]:
    return error.value.field, error.value.rule


def ended(course: Course) -> tuple[EndReason | None, dt.date | None]:
    return course.end_reason, course.ended_on


# --- month arithmetic --------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2023, 8, 31), 6, D(2024, 2, 29)),  # leap year: clamped to 29 Feb
        (D(2022, 8, 31), 6, D(2023, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2024, 3, 31), 1, D(2024, 4, 30)),
        (D(2024, 1, 15), 6, D(2024, 7, 15)),
        (D(2024, 11, 30), 3, D(2025, 2, 28)),
        (D(2024, 8, 31), -2, D(2024, 6, 30)),
        (D(2024, 1, 31), -2, D(2023, 11, 30)),
        (D(2024, 4, 30), -2, D(2024, 2, 29)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(
    day: dt.date, months: int, expected: dt.date
) -> None:
    assert add_months(day, months) == expected


@given(st.dates(D(1900, 1, 1), D(2200, 12, 31)), st.integers(-120, 120))
def test_add_months_moves_exactly_that_many_months(day: dt.date, months: int) -> None:
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day == day.day or (moved.day < day.day and (moved + dt.timedelta(1)).day == 1)


# --- starting: plan and lengths --------------------------------------------------------


def test_start_records_the_plan_in_the_citizens_words_and_raises_course_started() -> None:
    course = individual(follow_ups=[D(2024, 2, 1), D(2024, 1, 20), D(2024, 2, 1)])
    assert course.plan.goals == (GOAL,)
    assert course.plan.follow_up_dates == (D(2024, 1, 20), D(2024, 2, 1))
    assert course.events == [
        CourseStarted(
            CourseKind.INDIVIDUAL_82B, D(2024, 1, 10), D(2024, 7, 10), course.plan.follow_up_dates
        )
    ]


@pytest.mark.parametrize(
    ("goals", "follow_ups", "field", "rule"),
    [
        ((), (D(2024, 2, 1),), "plan.goals", "plan.goals_missing"),
        ((GOAL, "   "), (D(2024, 2, 1),), "plan.goals[1]", "plan.goal_blank"),
        ((GOAL,), (), "plan.follow_up_dates", "plan.follow_up_missing"),
    ],
)
def test_a_plan_needs_goals_and_follow_up(
    goals: tuple[str, ...], follow_ups: tuple[dt.date, ...], field: str, rule: str
) -> None:
    with pytest.raises(DomainError) as error:
        validate_plan(goals, follow_ups)
    assert rule_of(error) == (field, rule)


@pytest.mark.parametrize(
    ("follow_up", "allowed"),
    [
        (D(2024, 1, 9), False),  # day before the start
        (D(2024, 1, 10), True),  # the start
        (D(2024, 7, 10), True),  # the planned end
        (D(2024, 7, 11), False),  # day after the planned end
    ],
)
def test_follow_up_dates_must_fall_within_the_course(follow_up: dt.date, allowed: bool) -> None:
    if allowed:
        assert individual(follow_ups=[follow_up]).plan.follow_up_dates == (follow_up,)
        return
    with pytest.raises(DomainError) as error:
        individual(follow_ups=[follow_up])
    assert rule_of(error) == ("plan.follow_up_dates[0]", "plan.follow_up_outside_course")


@pytest.mark.parametrize(
    ("start", "planned_end", "allowed"),
    [
        (D(2024, 1, 15), D(2024, 7, 14), True),
        (D(2024, 1, 15), D(2024, 7, 15), True),  # exactly 6 months
        (D(2024, 1, 15), D(2024, 7, 16), False),  # one day more
        (D(2023, 8, 31), D(2024, 2, 29), True),  # 31 August + 6 months, leap year
        (D(2023, 8, 31), D(2024, 3, 1), False),
        (D(2022, 8, 31), D(2023, 2, 28), True),
        (D(2022, 8, 31), D(2023, 3, 1), False),
    ],
)
def test_individual_course_lasts_at_most_six_months(
    start: dt.date, planned_end: dt.date, allowed: bool
) -> None:
    if allowed:
        assert individual(start, planned_end).planned_end == planned_end
        return
    with pytest.raises(DomainError) as error:
        individual(start, planned_end)
    assert rule_of(error) == ("planned_end", "course.max_length_exceeded")


def test_maximum_length_is_a_setting() -> None:
    four_months = CourseSettings(individual_max_months=4)
    assert individual(D(2024, 1, 15), D(2024, 5, 15), settings=four_months).max_end == D(
        2024, 5, 15
    )
    with pytest.raises(DomainError) as error:
        individual(D(2024, 1, 15), D(2024, 5, 16), settings=four_months)
    assert error.value.rule == "course.max_length_exceeded"


@pytest.mark.parametrize("planned_end", [D(2024, 1, 10), D(2024, 1, 9)])
def test_planned_end_must_be_after_the_start(planned_end: dt.date) -> None:
    with pytest.raises(DomainError) as error:
        Course.start(
            CourseKind.INDIVIDUAL_82B, CITIZEN, D(2024, 1, 10), planned_end, a_plan(D(2024, 1, 10))
        )
    assert rule_of(error) == ("planned_end", "course.end_before_start")


def test_sft_is_fixed_at_nine_months() -> None:
    plan = a_plan(D(2023, 6, 7))
    course = Course.start(CourseKind.SFT, CITIZEN, D(2023, 5, 31), None, plan)
    assert course.planned_end == D(2024, 2, 29) == course.max_end
    same = Course.start("sft", CITIZEN, D(2023, 5, 31), D(2024, 2, 29), plan)
    assert same.planned_end == D(2024, 2, 29)
    with pytest.raises(DomainError) as error:
        Course.start(CourseKind.SFT, CITIZEN, D(2023, 5, 31), D(2024, 2, 28), plan)
    assert rule_of(error) == ("planned_end", "course.sft_fixed_length")
    with pytest.raises(DomainError) as error:
        course.extend(D(2024, 3, 1))
    assert error.value.rule == "course.sft_fixed_length"


def test_group_course_length_is_given_at_start() -> None:
    plan = a_plan(D(2024, 1, 20))
    with pytest.raises(DomainError) as error:
        Course.start(CourseKind.GROUP_82A, CITIZEN, D(2024, 1, 10), None, plan)
    assert rule_of(error) == ("planned_end", "course.planned_end_missing")
    long_group = Course.start(CourseKind.GROUP_82A, CITIZEN, D(2024, 1, 10), D(2025, 1, 10), plan)
    assert long_group.max_end is None
    with pytest.raises(DomainError):
        Course.start(
            CourseKind.GROUP_82A,
            CITIZEN,
            D(2024, 1, 10),
            D(2025, 1, 10),
            plan,
            settings=CourseSettings(group_max_months=3),
        )


def test_unknown_kind_and_missing_citizen_are_refused() -> None:
    plan = a_plan(D(2024, 1, 20))
    with pytest.raises(DomainError) as error:
        Course.start("therapy", CITIZEN, D(2024, 1, 10), D(2024, 3, 1), plan)
    assert error.value.rule == "course.kind_unknown"
    with pytest.raises(DomainError) as error:
        Course.start(CourseKind.INDIVIDUAL_82B, " ", D(2024, 1, 10), D(2024, 3, 1), plan)
    assert error.value.rule == "course.citizen_missing"


def test_settings_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        CourseSettings(broken_agreement_window_days=0)
    with pytest.raises(ValueError):
        CourseSettings(review_lead_days=-1)


# --- extension and the maximum length -------------------------------------------------


def test_extension_within_the_maximum_resets_the_review() -> None:
    course = individual(D(2024, 1, 15), D(2024, 5, 15))
    course.request_review(D(2024, 4, 20))
    course.extend(D(2024, 7, 15))
    assert course.planned_end == D(2024, 7, 15)
    assert course.review is None
    assert course.events[-1] == CourseExtended(D(2024, 5, 15), D(2024, 7, 15))


@pytest.mark.parametrize(
    ("new_end", "rule"),
    [
        (D(2024, 7, 16), "course.max_length_exceeded"),
        (D(2024, 5, 15), "course.extension_not_later"),
        (D(2024, 5, 1), "course.extension_not_later"),
    ],
)
def test_extension_is_refused_past_the_maximum_or_backwards(new_end: dt.date, rule: str) -> None:
    course = individual(D(2024, 1, 15), D(2024, 5, 15))
    with pytest.raises(DomainError) as error:
        course.extend(new_end)
    assert rule_of(error) == ("planned_end", rule)
    assert course.planned_end == D(2024, 5, 15)


# --- the review panel (tværgående udvalg) and ending ---------------------------------


def test_ending_needs_the_review_panels_decision() -> None:
    course = individual()
    with pytest.raises(DomainError) as error:
        course.end(D(2024, 7, 10))
    assert rule_of(error) == ("review", "course.review_missing")
    course.request_review(D(2024, 6, 1))
    with pytest.raises(DomainError) as error:
        course.end(D(2024, 7, 10))
    assert error.value.rule == "course.review_missing"
    course.decide_review(ReviewDecision.END, D(2024, 6, 10))
    course.end(D(2024, 7, 10))
    assert ended(course) == (EndReason.PLANNED_END, D(2024, 7, 10))
    assert course.events[-1] == CourseEnded(EndReason.PLANNED_END, D(2024, 7, 10))


def test_ending_before_the_decision_date_is_refused() -> None:
    course = individual()
    course.request_review(D(2024, 6, 1))
    course.decide_review(ReviewDecision.END, D(2024, 6, 10))
    with pytest.raises(DomainError) as error:
        course.end(D(2024, 6, 9))
    assert error.value.rule == "course.review_missing"
    course.end(D(2024, 6, 10))  # early end, on the decision day
    assert course.ended_on == D(2024, 6, 10)


def test_review_steps_in_order_and_once() -> None:
    course = individual()
    with pytest.raises(DomainError) as error:
        course.decide_review(ReviewDecision.END, D(2024, 6, 10))
    assert error.value.rule == "review.not_requested"
    course.request_review(D(2024, 6, 1))
    with pytest.raises(Conflict) as conflict:
        course.request_review(D(2024, 6, 2))
    assert conflict.value.rule == "review.already_requested"
    with pytest.raises(DomainError) as error:
        course.decide_review(ReviewDecision.END, D(2024, 5, 31))
    assert error.value.rule == "review.before_request"
    course.decide_review("end", D(2024, 6, 10))
    with pytest.raises(Conflict) as conflict:
        course.decide_review(ReviewDecision.END, D(2024, 6, 11))
    assert conflict.value.rule == "review.already_decided"


def test_review_decision_to_continue_extends_and_needs_a_new_review() -> None:
    course = individual(D(2024, 1, 15), D(2024, 5, 15))
    course.request_review(D(2024, 4, 20))
    with pytest.raises(DomainError) as error:
        course.decide_review(ReviewDecision.CONTINUE, D(2024, 5, 1))
    assert error.value.rule == "review.new_planned_end_missing"
    with pytest.raises(DomainError) as error:
        course.decide_review(ReviewDecision.CONTINUE, D(2024, 5, 1), new_planned_end=D(2024, 7, 16))
    assert error.value.rule == "course.max_length_exceeded"
    assert course.review is not None and course.review.decision is None  # nothing half-done
    course.decide_review(ReviewDecision.CONTINUE, D(2024, 5, 1), new_planned_end=D(2024, 7, 15))
    assert course.planned_end == D(2024, 7, 15)
    with pytest.raises(DomainError) as error:
        course.end(D(2024, 7, 15))
    assert error.value.rule == "course.review_missing"


def test_review_decision_to_refer_to_85_records_the_referral_and_allows_the_end() -> None:
    course = individual()
    course.request_review(D(2024, 6, 1))
    course.decide_review(ReviewDecision.REFER_85, D(2024, 6, 10))
    assert ReferredTo85(D(2024, 6, 10)) in course.events
    assert course.referred_to_85
    course.end(D(2024, 7, 1))
    assert course.end_reason is EndReason.PLANNED_END


def test_the_citizen_may_always_stop_without_review() -> None:
    course = individual()
    course.end(D(2024, 2, 1), EndReason.CITIZEN_WITHDREW)
    assert ended(course) == (EndReason.CITIZEN_WITHDREW, D(2024, 2, 1))


def test_review_requirement_is_a_setting() -> None:
    course = individual(settings=CourseSettings(review_required_before_end=False))
    course.end(D(2024, 7, 10))
    assert course.end_reason is EndReason.PLANNED_END


@pytest.mark.parametrize(
    ("on", "reason", "field", "rule"),
    [
        (D(2024, 3, 1), EndReason.BROKEN_AGREEMENTS, "reason", "course.end_reason_automatic"),
        (D(2024, 3, 1), EndReason.MAX_LENGTH_REACHED, "reason", "course.end_reason_automatic"),
        (D(2024, 1, 9), EndReason.CITIZEN_WITHDREW, "ended_on", "course.end_before_start"),
        (D(2024, 7, 11), EndReason.CITIZEN_WITHDREW, "ended_on", "course.max_length_exceeded"),
    ],
)
def test_end_refuses(on: dt.date, reason: EndReason, field: str, rule: str) -> None:
    course = individual()
    with pytest.raises(DomainError) as error:
        course.end(on, reason)
    assert rule_of(error) == (field, rule)
    assert course.is_active


def test_an_ended_course_takes_no_more_commands() -> None:
    course = individual()
    course.end(D(2024, 2, 1), EndReason.CITIZEN_WITHDREW)
    for command in (
        lambda: course.record_attendance(D(2024, 1, 20), True),
        lambda: course.extend(D(2024, 7, 1)),
        lambda: course.request_review(D(2024, 2, 2)),
        lambda: course.refer_to_85(D(2024, 2, 2)),
        lambda: course.end(D(2024, 2, 2), EndReason.CITIZEN_WITHDREW),
    ):
        with pytest.raises(Conflict) as conflict:
            command()
        assert conflict.value.rule == "course.ended"
    assert course.apply_due(D(2025, 1, 1)) == []
    assert deadlines(course) == []


# --- § 85 referral ----------------------------------------------------------------------


def test_referral_to_85_is_tracked_to_its_outcome_even_after_the_end() -> None:
    course = individual()
    course.refer_to_85(D(2024, 3, 1))
    with pytest.raises(Conflict) as conflict:
        course.refer_to_85(D(2024, 3, 2))
    assert conflict.value.rule == "referral_85.already_referred"
    course.end(D(2024, 3, 5), EndReason.CITIZEN_WITHDREW)
    with pytest.raises(DomainError) as error:
        course.record_referral_outcome(ReferralOutcome.GRANTED, D(2024, 2, 28))
    assert error.value.rule == "referral_85.before_referral"
    course.record_referral_outcome("refused", D(2024, 4, 1))
    assert (course.referrals_85[0].outcome, course.referrals_85[0].outcome_on) == (
        ReferralOutcome.REFUSED,
        D(2024, 4, 1),
    )
    with pytest.raises(DomainError) as error:
        course.record_referral_outcome(ReferralOutcome.GRANTED, D(2024, 4, 2))
    assert error.value.rule == "referral_85.none_open"


def test_a_new_referral_is_allowed_after_the_last_one_was_decided() -> None:
    course = individual()
    course.refer_to_85(D(2024, 2, 1))
    course.record_referral_outcome(ReferralOutcome.WITHDRAWN, D(2024, 2, 10))
    course.refer_to_85(D(2024, 3, 1))
    assert [r.referred_on for r in course.referrals_85] == [D(2024, 2, 1), D(2024, 3, 1)]


# --- attendance and the 4-week rule -----------------------------------------------------


def long_course(
    *, bridging_to: Iterable[PartnerKind | str] = (), settings: CourseSettings | None = None
) -> Course:
    # 1 March to 1 August: the rule's dates fall before any other clock (bridging on 1 June).
    return individual(
        D(2024, 3, 1),
        D(2024, 8, 1),
        follow_ups=[D(2024, 8, 1)],
        bridging_to=bridging_to,
        settings=settings,
    )


def proposals(course: Course) -> list[EndingProposed]:
    return [e for e in course.events if isinstance(e, EndingProposed)]


@pytest.mark.parametrize(
    ("days_since_last_kept", "proposed"), [(27, False), (28, True), (29, True)]
)
def test_four_weeks_of_broken_agreements_propose_an_ending_and_end_nothing(
    days_since_last_kept: int, proposed: bool
) -> None:
    course = long_course()
    course.record_attendance(D(2024, 3, 1), kept=True)
    course.record_attendance(D(2024, 3, 5), kept=False)
    today = D(2024, 3, 1) + dt.timedelta(days=days_since_last_kept)
    course.apply_due(today)
    assert course.is_active  # only a person ends a course
    assert not any(isinstance(e, CourseEnded) for e in course.events)
    if proposed:
        # Proposed on the day it is seen (a day-late sweep proposes a day late), with
        # the day the rule was met and the last kept agreement kept apart.
        assert proposals(course) == [EndingProposed(today, D(2024, 3, 29), D(2024, 3, 1))]
        assert course.open_ending_proposal is not None
        assert course.last_message_on == today
    else:
        assert proposals(course) == [] and course.open_ending_proposal is None


def test_without_any_kept_agreement_the_window_runs_from_the_start() -> None:
    course = long_course()
    course.record_attendance(D(2024, 3, 20), kept=False)
    course.apply_due(D(2024, 3, 28))
    assert proposals(course) == []
    course.apply_due(D(2024, 3, 29))
    assert proposals(course) == [EndingProposed(D(2024, 3, 29), D(2024, 3, 29), None)]


def test_a_kept_agreement_restarts_the_window() -> None:
    course = long_course()
    course.record_attendance(D(2024, 3, 5), kept=False)
    course.record_attendance(D(2024, 3, 20), kept=True)
    course.apply_due(D(2024, 4, 10))
    assert proposals(course) == []  # no broken agreement since 20 March
    course.record_attendance(D(2024, 3, 25), kept=False)
    course.apply_due(D(2024, 4, 16))
    assert proposals(course) == []  # 27 days after 20 March
    course.apply_due(D(2024, 4, 17))
    assert [p.rule_met_on for p in proposals(course)] == [D(2024, 4, 17)]


def test_silence_alone_never_proposes_an_ending() -> None:
    course = long_course()
    course.apply_due(D(2024, 5, 31))
    assert proposals(course) == [] and course.is_active


def test_kept_and_broken_on_the_same_day_count_as_kept() -> None:
    course = long_course()
    course.record_attendance(D(2024, 3, 10), kept=True)
    course.record_attendance(D(2024, 3, 10), kept=False)
    assert course.broken_agreements_rule_on is None
    course.apply_due(D(2024, 4, 30))
    assert proposals(course) == []


def test_the_window_is_a_setting() -> None:
    course = long_course(settings=CourseSettings(broken_agreement_window_days=14))
    course.record_attendance(D(2024, 3, 2), kept=False)
    assert course.broken_agreements_rule_on == D(2024, 3, 15)


def test_a_late_entry_proposes_today_and_never_ends_the_course_back_in_time() -> None:
    # The example: agreements broken since March, typed in on 30 June, the same
    # morning the jobcenter was told about bridging. The old rule ended the course as of
    # 30 March; now it is proposed on 30 June and nothing ends until a person decides.
    course = individual(D(2026, 3, 2), D(2026, 8, 31), follow_ups=[D(2026, 8, 31)],
                        bridging_to=[PartnerKind.EMPLOYMENT])
    course.apply_due(D(2026, 6, 30))  # bridging due 30 June: the jobcenter is told
    assert [e for e in course.events if isinstance(e, BridgingDue)] == [
        BridgingDue(PartnerKind.EMPLOYMENT, D(2026, 6, 30), D(2026, 8, 31))
    ]
    course.record_attendance(D(2026, 3, 2), kept=True)
    course.record_attendance(D(2026, 3, 9), kept=False)
    assert course.broken_agreements_rule_on == D(2026, 3, 30)
    course.apply_due(D(2026, 6, 30))
    assert course.is_active
    assert proposals(course) == [EndingProposed(D(2026, 6, 30), D(2026, 3, 30), D(2026, 3, 2))]
    assert deadlines(course)[0].kind is not DeadlineKind.BROKEN_AGREEMENTS  # not re-armed


def test_confirming_ends_the_course_on_the_day_of_the_decision_and_cancels_bridging() -> None:
    course = long_course(bridging_to=[PartnerKind.HEALTH])
    course.record_attendance(D(2024, 3, 1), kept=True)
    course.record_attendance(D(2024, 3, 5), kept=False)
    course.apply_due(D(2024, 3, 29))
    assert course.open_ending_proposal is not None
    # The course is still running while nobody decides: bridging goes out on 1 June.
    course.apply_due(D(2024, 6, 1))
    course.events.clear()
    course.confirm_ending(D(2024, 6, 3))
    assert ended(course) == (EndReason.BROKEN_AGREEMENTS, D(2024, 6, 3))
    assert course.events == [
        CourseEnded(EndReason.BROKEN_AGREEMENTS, D(2024, 6, 3)),
        BridgingCancelled(PartnerKind.HEALTH, D(2024, 6, 1), D(2024, 6, 3)),
    ]
    proposal = course.ending_proposals[0]
    assert (proposal.decision, proposal.decided_on) == (EndingDecision.CONFIRMED, D(2024, 6, 3))


def test_back_on_track_keeps_the_course_and_restarts_the_window_from_the_decision() -> None:
    course = long_course()
    course.record_attendance(D(2024, 3, 1), kept=True)
    course.record_attendance(D(2024, 3, 5), kept=False)
    course.apply_due(D(2024, 3, 29))
    course.back_on_track(D(2024, 4, 2))
    assert course.is_active and course.open_ending_proposal is None
    assert course.events[-1] == BackOnTrack(D(2024, 4, 2))
    assert course.four_week_anchor == D(2024, 4, 2)
    # The old broken agreements no longer count; a new one after the decision re-arms.
    assert course.broken_agreements_rule_on is None
    course.record_attendance(D(2024, 4, 9), kept=False)
    assert course.broken_agreements_rule_on == D(2024, 4, 30)
    course.apply_due(D(2024, 4, 30))
    assert [p.proposed_on for p in proposals(course)] == [D(2024, 3, 29), D(2024, 4, 30)]


def test_a_decision_needs_an_open_proposal_and_is_not_dated_before_it() -> None:
    course = long_course()
    with pytest.raises(Conflict) as error:
        course.confirm_ending(D(2024, 3, 10))
    assert rule_of(error) == ("ending_proposal", "ending.none_proposed")
    course.record_attendance(D(2024, 3, 2), kept=False)
    course.apply_due(D(2024, 4, 2))  # proposed on 2 April (rule met on 29 March)
    for decide in (course.confirm_ending, course.back_on_track):
        with pytest.raises(DomainError) as error:
            decide(D(2024, 4, 1))
        assert rule_of(error) == ("decided_on", "ending.before_proposal")
    assert course.is_active


def test_another_ending_closes_an_open_proposal() -> None:
    course = long_course()
    course.record_attendance(D(2024, 3, 2), kept=False)
    course.apply_due(D(2024, 3, 29))
    course.end(D(2024, 4, 1), EndReason.CITIZEN_WITHDREW)
    proposal = course.ending_proposals[0]
    assert (proposal.decision, proposal.decided_on) == (
        EndingDecision.ENDED_OTHERWISE, D(2024, 4, 1)
    )


# --- an ending never takes a date before messages already sent -------------------------------


def test_an_ending_is_never_dated_before_a_message_about_the_course() -> None:
    course = individual(bridging_to=[PartnerKind.EMPLOYMENT])
    course.apply_due(D(2024, 5, 12))  # bridging_due sent on 12 May (the sweep was late)
    assert course.last_message_on == D(2024, 5, 12)
    with pytest.raises(DomainError) as error:
        course.end(D(2024, 5, 11), EndReason.CITIZEN_WITHDREW)
    assert rule_of(error) == ("ended_on", "course.end_before_messages")
    assert course.is_active
    course.end(D(2024, 5, 12), EndReason.CITIZEN_WITHDREW)
    assert ended(course) == (EndReason.CITIZEN_WITHDREW, D(2024, 5, 12))


def test_messages_sent_by_commands_count_from_the_day_they_are_sent() -> None:
    course = individual()
    course.request_review(D(2024, 5, 1))  # dated 1 May, sent on 20 May
    course.note_messages_sent(D(2024, 5, 20))
    assert course.last_message_on == D(2024, 5, 20)
    course.decide_review(ReviewDecision.END, D(2024, 5, 21))
    with pytest.raises(DomainError) as error:
        course.end(D(2024, 5, 19))
    assert rule_of(error) == ("ended_on", "course.end_before_messages")
    course.note_messages_sent(D(2024, 5, 2))  # an earlier day never moves it back
    assert course.last_message_on == D(2024, 5, 20)


def test_an_early_end_cancels_every_bridging_message_sent_and_only_those() -> None:
    course = individual(bridging_to=[PartnerKind.EDUCATION, PartnerKind.EMPLOYMENT])
    course.apply_due(D(2024, 5, 10))
    course.plan_bridging([PartnerKind.HEALTH])  # chosen, not told yet
    course.events.clear()
    course.end(D(2024, 5, 20), EndReason.CITIZEN_WITHDREW)
    assert course.events == [
        CourseEnded(EndReason.CITIZEN_WITHDREW, D(2024, 5, 20)),
        BridgingCancelled(PartnerKind.EDUCATION, D(2024, 5, 10), D(2024, 5, 20)),
        BridgingCancelled(PartnerKind.EMPLOYMENT, D(2024, 5, 10), D(2024, 5, 20)),
    ]


def test_an_end_on_the_planned_day_cancels_nothing() -> None:
    course = individual(bridging_to=[PartnerKind.EDUCATION])
    course.request_review(D(2024, 6, 1))
    course.decide_review(ReviewDecision.END, D(2024, 6, 10))
    course.apply_due(D(2024, 7, 10))
    assert ended(course) == (EndReason.PLANNED_END, D(2024, 7, 10))
    assert not any(isinstance(e, BridgingCancelled) for e in course.events)


def test_a_late_sweep_that_ends_the_course_sends_no_stale_messages() -> None:
    # Down from April to August: the maximum length (10 July) ends the course on its
    # day; the bridging due on 10 May is not sent in August about a finished course.
    course = individual(bridging_to=[PartnerKind.EMPLOYMENT])
    course.record_attendance(D(2024, 3, 1), kept=False)
    fired = course.apply_due(D(2024, 8, 1))
    assert ended(course) == (EndReason.MAX_LENGTH_REACHED, D(2024, 7, 10))
    assert not any(isinstance(e, (BridgingDue, EndingProposed, BridgingCancelled))
                   for e in fired)
    assert course.last_message_on is None


# --- import mode ------------------------------------------------------------------------------


def test_import_settles_past_clocks_silently_and_runs_todays() -> None:
    course = individual(D(2024, 1, 10), D(2024, 7, 10), follow_ups=[D(2024, 2, 1),
                        D(2024, 6, 3)], bridging_to=[PartnerKind.EMPLOYMENT])
    settled = course.settle_history(D(2024, 6, 3))
    assert settled == [] and course.is_active
    # Follow-up 1 Feb and bridging 10 May were handled before Samspil; 3 June is today's.
    assert course.apply_due(D(2024, 6, 3)) == [FollowUpDue(D(2024, 6, 3))]
    assert course.last_message_on is None and course.told_bridging == []
    assert [d.kind for d in deadlines(course)] == [
        DeadlineKind.REVIEW_DUE, DeadlineKind.PLANNED_END, DeadlineKind.MAX_LENGTH
    ]
    # A partner chosen after the import is told at once: that choice is live.
    course.plan_bridging([PartnerKind.EMPLOYMENT, PartnerKind.HEALTH])
    assert course.apply_due(D(2024, 6, 4)) == [
        BridgingDue(PartnerKind.HEALTH, D(2024, 5, 10), D(2024, 7, 10))
    ]


def test_import_of_a_course_past_its_maximum_ends_it_on_its_day() -> None:
    course = individual(D(2017, 1, 10), D(2017, 7, 10), bridging_to=[PartnerKind.EDUCATION])
    events = course.settle_history(D(2018, 8, 1))
    assert events == [CourseEnded(EndReason.MAX_LENGTH_REACHED, D(2017, 7, 10))]


@pytest.mark.parametrize("on", [D(2024, 2, 29), D(2024, 9, 2)])
def test_attendance_outside_the_course_is_refused(on: dt.date) -> None:
    course = long_course()
    with pytest.raises(DomainError) as error:
        course.record_attendance(on, kept=True)
    assert rule_of(error) == ("attendance.date", "attendance.outside_course")


def test_attendance_after_the_planned_end_but_within_the_maximum_is_allowed() -> None:
    course = individual(D(2024, 1, 10), D(2024, 5, 10))
    course.record_attendance(D(2024, 6, 1), kept=True)  # an overdue course is still running
    assert course.last_kept_on == D(2024, 6, 1)


# --- bridging (brobygning) ---------------------------------------------------------------


def test_bridging_is_due_exactly_two_months_before_the_planned_end() -> None:
    course = individual(bridging_to=[PartnerKind.EMPLOYMENT, "education"])
    assert course.bridging_due_on == D(2024, 5, 10)
    before = course.apply_due(D(2024, 5, 9))
    assert not any(isinstance(e, BridgingDue) for e in before)
    on_the_day = course.apply_due(D(2024, 5, 10))
    assert on_the_day == [
        BridgingDue(PartnerKind.EDUCATION, D(2024, 5, 10), D(2024, 7, 10)),
        BridgingDue(PartnerKind.EMPLOYMENT, D(2024, 5, 10), D(2024, 7, 10)),
    ]
    assert course.apply_due(D(2024, 5, 11)) == []


@pytest.mark.parametrize(
    ("start", "planned_end", "due_on"),
    [
        (D(2024, 3, 1), D(2024, 8, 31), D(2024, 6, 30)),
        (D(2024, 1, 2), D(2024, 4, 30), D(2024, 2, 29)),
    ],
)
def test_bridging_date_at_month_ends(start: dt.date, planned_end: dt.date, due_on: dt.date) -> None:
    assert individual(start, planned_end).bridging_due_on == due_on


def test_bridging_is_never_due_before_the_start() -> None:
    plan = a_plan(D(2024, 3, 5))
    group = Course.start(CourseKind.GROUP_82A, CITIZEN, D(2024, 3, 1), D(2024, 4, 1), plan)
    assert group.bridging_due_on == D(2024, 3, 1)


def test_bridging_without_a_partner_alerts_once_then_tells_the_partner_when_chosen() -> None:
    course = individual()
    fired = course.apply_due(D(2024, 5, 10))
    assert BridgingPartnerMissing(D(2024, 5, 10), D(2024, 7, 10)) in fired
    assert not any(isinstance(e, BridgingPartnerMissing) for e in course.apply_due(D(2024, 5, 12)))
    course.plan_bridging([PartnerKind.HEALTH])
    assert course.apply_due(D(2024, 5, 13)) == [
        BridgingDue(PartnerKind.HEALTH, D(2024, 5, 10), D(2024, 7, 10))
    ]
    assert course.apply_due(D(2024, 5, 13)) == []


def test_bridging_goes_to_employment_education_or_health_only() -> None:
    course = individual()
    with pytest.raises(DomainError) as error:
        course.plan_bridging([PartnerKind.HOUSING])
    assert rule_of(error) == ("bridging.partner_kinds", "bridging.partner_kind")
    with pytest.raises(DomainError) as error:
        course.plan_bridging([])
    assert error.value.rule == "bridging.partner_kinds_missing"


# --- the other clocks and apply_due ---------------------------------------------------------


def test_deadlines_of_a_new_course() -> None:
    course = individual(follow_ups=[D(2024, 2, 1)])
    assert deadlines(course) == [
        Deadline(DeadlineKind.FOLLOW_UP, D(2024, 2, 1)),
        Deadline(DeadlineKind.BRIDGING_DUE, D(2024, 5, 10)),
        Deadline(DeadlineKind.REVIEW_DUE, D(2024, 6, 12)),  # 28 days before the end
        Deadline(DeadlineKind.PLANNED_END, D(2024, 7, 10)),
        Deadline(DeadlineKind.MAX_LENGTH, D(2024, 7, 10)),
    ]


def test_follow_up_and_review_reminders_fire_on_their_day_once() -> None:
    course = individual(follow_ups=[D(2024, 2, 1)])
    assert course.apply_due(D(2024, 1, 31)) == []
    assert course.apply_due(D(2024, 2, 1)) == [FollowUpDue(D(2024, 2, 1))]
    assert course.apply_due(D(2024, 2, 1)) == []
    course.plan_bridging([PartnerKind.EMPLOYMENT])
    course.apply_due(D(2024, 6, 11))
    assert not any(isinstance(e, ReviewDue) for e in course.events)
    assert course.apply_due(D(2024, 6, 12)) == [ReviewDue(D(2024, 6, 12), D(2024, 7, 10))]
    assert course.apply_due(dt.datetime(2024, 6, 12, 23, 59)) == []


def test_no_review_reminder_once_the_review_is_requested() -> None:
    course = individual(bridging_to=[PartnerKind.EDUCATION])
    course.request_review(D(2024, 6, 1))
    assert not any(isinstance(e, ReviewDue) for e in course.apply_due(D(2024, 6, 20)))


def test_planned_end_ends_an_approved_course_on_the_day() -> None:
    course = individual(bridging_to=[PartnerKind.EDUCATION])
    course.request_review(D(2024, 6, 1))
    course.decide_review(ReviewDecision.END, D(2024, 6, 10))
    course.apply_due(D(2024, 7, 9))
    assert course.is_active
    course.apply_due(D(2024, 7, 10))
    assert ended(course) == (EndReason.PLANNED_END, D(2024, 7, 10))


def test_planned_end_without_review_is_overdue_until_the_maximum_length() -> None:
    course = individual(D(2024, 1, 10), D(2024, 5, 10), bridging_to=[PartnerKind.EDUCATION])
    fired = course.apply_due(D(2024, 5, 10))
    assert EndOverdue(D(2024, 5, 10)) in fired and course.is_active
    assert course.apply_due(D(2024, 5, 11)) == []  # told once
    course.apply_due(D(2024, 7, 9))
    assert course.is_active
    course.apply_due(D(2024, 7, 10))
    assert ended(course) == (EndReason.MAX_LENGTH_REACHED, D(2024, 7, 10))


def test_a_late_sweep_fires_in_date_order_and_nothing_after_the_end() -> None:
    course = long_course(bridging_to=[PartnerKind.HEALTH])
    course.record_attendance(D(2024, 3, 2), kept=False)  # the rule is met on 29 March
    fired = course.apply_due(D(2024, 12, 31))
    # The maximum length (1 September) ends it; the proposal and the bridging it missed
    # are not sent about a course that has ended by its dates.
    assert fired == [
        ReviewDue(D(2024, 7, 4), D(2024, 8, 1)),
        EndOverdue(D(2024, 8, 1)),
        FollowUpDue(D(2024, 8, 1)),
        CourseEnded(EndReason.MAX_LENGTH_REACHED, D(2024, 9, 1)),
    ]


# --- idempotency and late sweeps, for any attendance ---------------------------------------

attendance_records = st.lists(st.tuples(st.integers(0, 180), st.booleans()), max_size=12)


def course_with(records: list[tuple[int, bool]]) -> Course:
    course = individual(D(2024, 1, 10), D(2024, 7, 10), bridging_to=[PartnerKind.EMPLOYMENT])
    for offset, kept in records:
        course.record_attendance(D(2024, 1, 10) + dt.timedelta(days=offset), kept)
    return course


@hypothesis_settings(max_examples=60, deadline=None)
@given(attendance_records, st.integers(0, 200))
def test_apply_due_twice_fires_nothing_new(records: list[tuple[int, bool]], offset: int) -> None:
    course = course_with(records)
    now = D(2024, 1, 10) + dt.timedelta(days=offset)
    course.apply_due(now)
    assert course.apply_due(now) == []


@hypothesis_settings(max_examples=60, deadline=None)
@given(attendance_records)
def test_a_daily_sweep_and_one_late_sweep_agree(records: list[tuple[int, bool]]) -> None:
    daily, late = course_with(records), course_with(records)
    for offset in range(200):
        daily.apply_due(D(2024, 1, 10) + dt.timedelta(days=offset))
    late.apply_due(D(2024, 1, 10) + dt.timedelta(days=199))
    assert ended(daily) == ended(late)
    # The late sweep finds the course ended by its dates: it sends none of the messages
    # it missed, and everything else agrees.
    messages = (BridgingDue, EndingProposed, BridgingCancelled)
    assert not any(isinstance(e, messages) for e in late.events)
    assert [e for e in daily.events if not isinstance(e, messages)] == late.events
