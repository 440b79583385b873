"""The escalation ladder: every transition and every deadline, with the clock passed in."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.common.errors import Conflict, DomainError
from services.housing.ladder import (
    ActionOverdue,
    Addressee,
    ArrearsCase,
    ArrearsReport,
    ArrearsReported,
    ArrearsReportUpdated,
    Ask,
    CaseClosed,
    CaseFlagged,
    CitizenIdentified,
    Closure,
    ContactEstablished,
    Deadline,
    DeadlineKind,
    EmergencyHousingPlanMade,
    EscalatedToAssociation,
    EscalationReason,
    EvictionDateSet,
    EvictionResolved,
    Flag,
    HelpAppliedFor,
    HelpGranted,
    HelpParagraph,
    HelpRefused,
    HoldAnswer,
    HoldAnswered,
    HousingEvent,
    Level,
    OutreachDue,
    PaymentPlanAgreed,
    PaymentPlanBroken,
    PaymentPlanProposed,
    ReportSource,
    Request,
    TerminationRegistered,
    TerminationWithdrawn,
)

CPH = ZoneInfo("Europe/Copenhagen")
D = dt.date


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CPH)


def midnight(year: int, month: int, day: int) -> dt.datetime:
    return at(year, month, day, 0)


REPORTED_AT = at(2025, 3, 5)  # a Wednesday


def report(**changes: Any) -> ArrearsReport:
    """An association's report: påkrav sent 3 March, deadline 20 March (17 days)."""
    base = ArrearsReport(
        source=ReportSource.ASSOCIATION,
        association_id="bf-ballerup",
        tenancy_ref="T-100-7",
        citizen_ref="citizen-1",
        amount_dkk=Decimal("12500.00"),
        months_behind=2,
        pakrav_sent_on=D(2025, 3, 3),
        pakrav_deadline=D(2025, 3, 20),
    )
    return dataclasses.replace(base, **changes)


def open_case(
    now: dt.datetime = REPORTED_AT, *, has_tovholder: bool = False, **changes: Any
) -> ArrearsCase:
    case = ArrearsCase.open(
        case_id="case-1", report=report(**changes), now=now, has_tovholder=has_tovholder
    )
    case.pull_events()
    return case


def kinds(events: list[HousingEvent]) -> list[type]:
    return [type(e) for e in events]


def deadline_map(case: ArrearsCase) -> dict[DeadlineKind, dt.datetime]:
    return {d.kind: d.due for d in case.deadlines()}


def restart(case: ArrearsCase) -> ArrearsCase:
    """What a service restart does: the stored state through JSON, and back."""
    return ArrearsCase.from_state(json.loads(json.dumps(case.to_state())), case.settings)


def assert_refused_unchanged(
    case: ArrearsCase, command: Callable[[], object], field: str, rule: str
) -> DomainError:
    before = case.to_state()
    pending = len(case._pending)
    with pytest.raises(DomainError) as refused:
        command()
    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert case.to_state() == before
    assert len(case._pending) == pending
    return refused.value


# ------------------------------------------------------------------------- opening


def test_open_raises_reported_then_outreach_due_and_stores_both_deadlines() -> None:
    case = ArrearsCase.open(case_id="case-1", report=report(), now=REPORTED_AT, has_tovholder=False)
    events = case.pull_events()
    assert kinds(events) == [ArrearsReported, OutreachDue, CaseFlagged]
    reported, outreach, flagged = events
    assert reported.level is Level.REPORTED
    assert outreach.level is Level.OUTREACH_DUE
    assert case.level is Level.OUTREACH_DUE
    # 14 days after the report, earlier than the end of the påkrav deadline day.
    assert deadline_map(case) == {
        DeadlineKind.OUTREACH: at(2025, 3, 19),
        DeadlineKind.PAKRAV: midnight(2025, 3, 21),
    }
    assert outreach.next_deadline == Deadline(DeadlineKind.OUTREACH, at(2025, 3, 19))
    assert outreach.asks == (
        Ask(Addressee.ASSOCIATION, Request.FOR_INFORMATION),
        Ask(Addressee.FRONTEN, Request.CONTACT_CITIZEN),
    )
    assert isinstance(flagged, CaseFlagged)
    assert flagged.flag is Flag.PROCESSING_EXCEEDS_PAKRAV_DEADLINE
    assert case.flags == {Flag.PROCESSING_EXCEEDS_PAKRAV_DEADLINE}
    assert isinstance(reported, ArrearsReported)
    assert reported.amount_dkk == Decimal("12500.00")


def test_outreach_deadline_never_later_than_the_pakrav_deadline() -> None:
    case = open_case(pakrav_sent_on=D(2025, 2, 26), pakrav_deadline=D(2025, 3, 12))
    assert deadline_map(case)[DeadlineKind.OUTREACH] == midnight(2025, 3, 13)


def test_outreach_deadline_without_pakrav_is_14_days_across_summer_time() -> None:
    # Calendar days in local time: the wall clock stays at 10:00 across the DST change.
    case = open_case(at(2025, 3, 25), pakrav_sent_on=None, pakrav_deadline=None)
    assert deadline_map(case) == {DeadlineKind.OUTREACH: at(2025, 4, 8)}
    assert case.flags == set()


def test_pakrav_without_stated_deadline_assumes_the_legal_14_days() -> None:
    case = open_case(pakrav_deadline=None)
    assert case.pakrav_deadline == D(2025, 3, 17)
    assert deadline_map(case)[DeadlineKind.PAKRAV] == midnight(2025, 3, 18)


def test_processing_time_within_pakrav_deadline_is_not_flagged() -> None:
    case = open_case(pakrav_sent_on=D(2025, 3, 4), pakrav_deadline=D(2025, 4, 15))
    assert case.flags == set()


def test_short_pakrav_deadline_is_flagged_not_refused() -> None:
    case = ArrearsCase.open(
        case_id="case-1",
        report=report(pakrav_sent_on=D(2025, 3, 3), pakrav_deadline=D(2025, 3, 10)),
        now=REPORTED_AT,
        has_tovholder=True,
    )
    flags = [e.flag for e in case.pull_events() if isinstance(e, CaseFlagged)]
    assert flags == [
        Flag.PAKRAV_DEADLINE_SHORTER_THAN_LEGAL,
        Flag.PROCESSING_EXCEEDS_PAKRAV_DEADLINE,
    ]
    assert case.is_open


def test_with_a_tovholder_every_escalation_is_addressed_to_them() -> None:
    case = ArrearsCase.open(case_id="case-1", report=report(), now=REPORTED_AT, has_tovholder=True)
    events = case.pull_events() + case.escalate_if_due(at(2025, 3, 19))
    for event in events:
        assert Addressee.TOVHOLDER in event.addressees
        assert Addressee.FRONTEN not in event.addressees


def test_without_a_tovholder_fronten_is_addressed_and_the_flag_can_change() -> None:
    case = open_case()
    (escalated,) = case.escalate_if_due(at(2025, 3, 19))
    assert escalated.addressees == (Addressee.ASSOCIATION, Addressee.FRONTEN)
    case.set_has_tovholder(True)
    (applied,) = case.apply_for_help(at(2025, 3, 20), HelpParagraph.AKTIVLOVEN_81A)
    assert applied.addressees == (Addressee.ASSOCIATION, Addressee.TOVHOLDER)


def test_fronten_report_means_contact_already_exists() -> None:
    case = ArrearsCase.open(
        case_id="case-2",
        report=ArrearsReport(source=ReportSource.FRONTEN, citizen_ref="citizen-1"),
        now=REPORTED_AT,
        has_tovholder=False,
    )
    events = case.pull_events()
    assert kinds(events) == [ArrearsReported]
    assert case.level is Level.REPORTED
    assert case.first_contact_at == REPORTED_AT
    assert case.deadlines() == []
    # No association is known, so nobody asks anything of one.
    assert events[0].addressees == (Addressee.FRONTEN,)


def test_fogedret_notice_opens_at_termination_urgent() -> None:
    case = ArrearsCase.open(
        case_id="case-3",
        report=ArrearsReport(
            source=ReportSource.FOGEDRET, tenancy_ref="T-100-7", citizen_ref="citizen-1"
        ),
        now=at(2025, 3, 14),  # a Friday
        has_tovholder=False,
    )
    events = case.pull_events()
    assert kinds(events) == [ArrearsReported, OutreachDue, TerminationRegistered]
    assert case.level is Level.TERMINATION_URGENT
    # 2 hverdage: Monday and Tuesday; due at the end of Tuesday.
    assert deadline_map(case) == {DeadlineKind.TERMINATION_RESPONSE: midnight(2025, 3, 19)}


def test_fogedret_notice_with_udsaettelse_date_opens_at_eviction_emergency() -> None:
    case = ArrearsCase.open(
        case_id="case-3",
        report=ArrearsReport(
            source=ReportSource.FOGEDRET,
            citizen_ref="citizen-1",
            association_id="bf-ballerup",
            eviction_date=D(2025, 4, 10),
        ),
        now=REPORTED_AT,
        has_tovholder=False,
    )
    events = case.pull_events()
    assert kinds(events) == [ArrearsReported, OutreachDue, TerminationRegistered, EvictionDateSet]
    assert case.level is Level.EVICTION_EMERGENCY
    assert set(case.reached_at) == set(Level) - {Level.ESCALATED_TO_ASSOCIATION}
    assert events[-1].asks == (
        Ask(Addressee.ASSOCIATION, Request.POSTPONE_EVICTION),
        Ask(Addressee.FRONTEN, Request.MAKE_EMERGENCY_HOUSING_PLAN),
    )


# ----------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"amount_dkk": Decimal("-100")}, "amount_dkk", "housing.amount_not_positive"),
        ({"amount_dkk": Decimal("0")}, "amount_dkk", "housing.amount_not_positive"),
        ({"amount_dkk": Decimal("2500000")}, "amount_dkk", "housing.amount_absurd"),
        ({"amount_dkk": None}, "amount_dkk", "housing.amount_required"),
        ({"months_behind": 0}, "months_behind", "housing.months_behind_out_of_range"),
        ({"months_behind": 99}, "months_behind", "housing.months_behind_out_of_range"),
        (
            {"pakrav_deadline": D(2025, 3, 1)},
            "pakrav_deadline",
            "housing.pakrav_deadline_before_pakrav",
        ),
        (
            {"pakrav_deadline": D(2025, 3, 3)},
            "pakrav_deadline",
            "housing.pakrav_deadline_before_pakrav",
        ),
        ({"pakrav_sent_on": D(2025, 3, 6)}, "pakrav_sent_on", "housing.pakrav_sent_in_future"),
        ({"association_id": None}, "association_id", "housing.association_required"),
        ({"tenancy_ref": None}, "tenancy_ref", "housing.tenancy_ref_required"),
        ({"tenancy_ref": "  "}, "tenancy_ref", "housing.tenancy_ref_required"),
        ({"citizen_ref": None}, "citizen_ref", "housing.tenant_unidentified"),
        ({"eviction_date": D(2025, 3, 4)}, "eviction_date", "housing.eviction_date_in_past"),
        ({"termination_on": D(2025, 3, 6)}, "termination_on", "housing.termination_in_future"),
    ],
)
def test_bad_reports_are_refused_naming_field_and_rule(
    changes: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(DomainError) as refused:
        open_case(**changes)
    assert (refused.value.field, refused.value.rule) == (field, rule)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        open_case(dt.datetime(2025, 3, 5, 10))


# ------------------------------------------------------- outreach and the legal clock


def test_no_contact_by_outreach_deadline_escalates_exactly_once() -> None:
    case = open_case()
    assert case.escalate_if_due(at(2025, 3, 19, 9, 59)) == []
    events = case.escalate_if_due(at(2025, 3, 19))
    assert kinds(events) == [EscalatedToAssociation]
    (event,) = events
    assert isinstance(event, EscalatedToAssociation)
    assert event.reason is EscalationReason.NO_CONTACT_BY_DEADLINE
    assert event.level is Level.ESCALATED_TO_ASSOCIATION
    assert event.hold_until == D(2025, 4, 16)
    assert event.asks == (
        Ask(Addressee.ASSOCIATION, Request.HOLD_TERMINATION),
        Ask(Addressee.FRONTEN, Request.MAKE_PLAN_OR_APPLY_FOR_HELP),
    )
    # PAKRAV is moot once the association has been asked: only the hold remains.
    assert deadline_map(case) == {DeadlineKind.HOLD_EXPIRES: midnight(2025, 4, 17)}
    assert event.next_deadline == Deadline(DeadlineKind.HOLD_EXPIRES, midnight(2025, 4, 17))
    assert case.escalate_if_due(at(2025, 3, 19)) == []
    assert case.escalate_if_due(at(2025, 3, 25)) == []


def test_a_sweep_after_downtime_fires_what_was_missed_once() -> None:
    case = open_case()
    events = case.escalate_if_due(at(2025, 3, 30))  # both OUTREACH and PAKRAV passed
    assert kinds(events) == [EscalatedToAssociation]
    assert case.reached_at[Level.ESCALATED_TO_ASSOCIATION] == at(2025, 3, 30)


def test_pakrav_deadline_already_passed_at_report_is_due_at_once() -> None:
    case = open_case(at(2025, 3, 25), pakrav_sent_on=D(2025, 3, 3), pakrav_deadline=D(2025, 3, 20))
    assert deadline_map(case)[DeadlineKind.OUTREACH] == midnight(2025, 3, 21)
    assert kinds(case.escalate_if_due(at(2025, 3, 25))) == [EscalatedToAssociation]


def test_restart_loses_no_deadline_and_fires_nothing_twice() -> None:
    case = open_case()
    rebuilt = restart(case)
    assert rebuilt == case
    assert rebuilt.deadlines() == case.deadlines()
    fired = rebuilt.escalate_if_due(at(2025, 3, 19))
    assert kinds(fired) == [EscalatedToAssociation]
    again = restart(rebuilt)
    assert again.escalate_if_due(at(2025, 3, 19)) == []
    assert kinds(again.escalate_if_due(midnight(2025, 4, 17))) == [ActionOverdue]


def test_hold_expiry_reminds_the_municipality_only() -> None:
    case = open_case()
    case.escalate_if_due(at(2025, 3, 19))
    assert case.escalate_if_due(at(2025, 4, 16, 23, 59)) == []
    (reminder,) = case.escalate_if_due(midnight(2025, 4, 17))
    assert isinstance(reminder, ActionOverdue)
    assert reminder.deadline_kind is DeadlineKind.HOLD_EXPIRES
    assert reminder.asks == (Ask(Addressee.FRONTEN, Request.MAKE_PLAN_OR_APPLY_FOR_HELP),)
    assert reminder.level is Level.ESCALATED_TO_ASSOCIATION
    assert case.deadlines() == []


def test_contact_deescalates_outreach_due_to_reported() -> None:
    case = open_case()
    (event,) = case.establish_contact(at(2025, 3, 10))
    assert isinstance(event, ContactEstablished)
    assert event.level is Level.REPORTED
    assert case.first_contact_at == at(2025, 3, 10)
    assert deadline_map(case) == {DeadlineKind.PAKRAV: midnight(2025, 3, 21)}
    assert case.escalate_if_due(at(2025, 3, 19)) == []
    assert case.establish_contact(at(2025, 3, 11)) == []  # nothing new: no event


def test_contact_without_plan_escalates_at_the_pakrav_deadline() -> None:
    case = open_case()
    case.establish_contact(at(2025, 3, 10))
    assert case.escalate_if_due(at(2025, 3, 20, 23, 59)) == []
    (event,) = case.escalate_if_due(midnight(2025, 3, 21))
    assert isinstance(event, EscalatedToAssociation)
    assert event.reason is EscalationReason.NO_PLAN_BY_PAKRAV_DEADLINE
    assert case.hold_until == D(2025, 4, 18)


def test_agreed_payment_plan_before_the_deadline_means_no_escalation() -> None:
    case = open_case()
    case.establish_contact(at(2025, 3, 10))
    (proposed,) = case.propose_payment_plan(at(2025, 3, 11))
    assert isinstance(proposed, PaymentPlanProposed)
    assert case.level is Level.REPORTED
    (agreed,) = case.agree_payment_plan(at(2025, 3, 12))
    assert isinstance(agreed, PaymentPlanAgreed)
    assert case.deadlines() == []
    assert case.escalate_if_due(at(2025, 5, 1)) == []


def test_agreed_payment_plan_without_contact_ends_outreach() -> None:
    case = open_case()
    (agreed,) = case.agree_payment_plan(at(2025, 3, 7))
    assert agreed.level is Level.REPORTED
    assert case.first_contact_at is None  # the plan was made with the landlord directly


def test_agreed_payment_plan_deescalates_escalated_case() -> None:
    case = open_case()
    case.escalate_if_due(at(2025, 3, 19))
    (agreed,) = case.agree_payment_plan(at(2025, 3, 24))
    assert agreed.level is Level.REPORTED
    assert agreed.asks == (
        Ask(Addressee.ASSOCIATION, Request.FOR_INFORMATION),
        Ask(Addressee.FRONTEN, Request.FOR_INFORMATION),
    )
    assert case.hold_until is None
    assert case.deadlines() == []


def test_contact_alone_does_not_end_escalation() -> None:
    case = open_case()
    case.escalate_if_due(at(2025, 3, 19))
    (event,) = case.establish_contact(at(2025, 3, 20))
    assert event.level is Level.ESCALATED_TO_ASSOCIATION
    assert DeadlineKind.HOLD_EXPIRES in deadline_map(case)


def test_broken_payment_plan_reescalates() -> None:
    case = open_case()
    case.establish_contact(at(2025, 3, 10))
    case.agree_payment_plan(at(2025, 3, 12))
    events = case.break_payment_plan(at(2025, 4, 7))
    assert kinds(events) == [PaymentPlanBroken, EscalatedToAssociation]
    escalated = events[1]
    assert isinstance(escalated, EscalatedToAssociation)
    assert escalated.reason is EscalationReason.PAYMENT_PLAN_BROKEN
    assert case.level is Level.ESCALATED_TO_ASSOCIATION
    assert deadline_map(case) == {DeadlineKind.HOLD_EXPIRES: midnight(2025, 5, 6)}
    # A new plan de-escalates again.
    (agreed,) = case.agree_payment_plan(at(2025, 4, 9))
    assert agreed.level is Level.REPORTED


def test_payment_plan_commands_refused_out_of_order() -> None:
    case = open_case()
    assert_refused_unchanged(
        case,
        lambda: case.break_payment_plan(at(2025, 3, 7)),
        "payment_plan",
        "housing.no_agreed_payment_plan",
    )
    case.agree_payment_plan(at(2025, 3, 7))
    assert_refused_unchanged(
        case,
        lambda: case.agree_payment_plan(at(2025, 3, 8)),
        "payment_plan",
        "housing.payment_plan_already_agreed",
    )
    assert_refused_unchanged(
        case,
        lambda: case.propose_payment_plan(at(2025, 3, 8)),
        "payment_plan",
        "housing.payment_plan_already_agreed",
    )


# ----------------------------------------------------------------------- § 81 a / b


def test_help_applied_for_at_escalated_extends_the_hold_to_the_expected_decision() -> None:
    case = open_case()
    case.escalate_if_due(at(2025, 3, 19))
    (applied,) = case.apply_for_help(at(2025, 3, 25), HelpParagraph.AKTIVLOVEN_81A)
    assert isinstance(applied, HelpAppliedFor)
    assert applied.level is Level.ESCALATED_TO_ASSOCIATION
    assert applied.hold_until == D(2025, 4, 22)
    assert deadline_map(case) == {
        DeadlineKind.HELP_DECISION: at(2025, 4, 22),
        DeadlineKind.HOLD_EXPIRES: midnight(2025, 4, 23),
    }
    (overdue,) = case.escalate_if_due(at(2025, 4, 22))
    assert isinstance(overdue, ActionOverdue)
    assert overdue.deadline_kind is DeadlineKind.HELP_DECISION
    assert overdue.asks == (Ask(Addressee.FRONTEN, Request.CHASE_HELP_DECISION),)


def test_granted_help_deescalates() -> None:
    case = open_case()
    case.escalate_if_due(at(2025, 3, 19))
    case.apply_for_help(at(2025, 3, 25), HelpParagraph.AKTIVLOVEN_81A)
    (granted,) = case.grant_help(at(2025, 4, 1))
    assert isinstance(granted, HelpGranted)
    assert granted.level is Level.REPORTED
    assert granted.paragraph is HelpParagraph.AKTIVLOVEN_81A
    assert case.deadlines() == []


def test_help_applied_before_the_pakrav_deadline_still_escalates_if_undecided() -> None:
    # The landlord may ophæve at the påkrav deadline: a pending application is not a plan.
    case = open_case()
    case.apply_for_help(at(2025, 3, 11), HelpParagraph.AKTIVLOVEN_81A)
    assert case.first_contact_at == at(2025, 3, 11)
    (event,) = case.escalate_if_due(midnight(2025, 3, 21))
    assert isinstance(event, EscalatedToAssociation)
    assert event.reason is EscalationReason.NO_PLAN_BY_PAKRAV_DEADLINE
    assert event.hold_until == D(2025, 4, 18)  # later of 28 days and the decision date


def test_refused_help_reescalates() -> None:
    case = open_case()
    case.apply_for_help(at(2025, 3, 11), HelpParagraph.AKTIVLOVEN_81A)
    events = case.refuse_help(at(2025, 3, 14))
    assert kinds(events) == [HelpRefused, EscalatedToAssociation]
    assert case.escalation_reason is EscalationReason.HELP_REFUSED
    assert deadline_map(case) == {DeadlineKind.HOLD_EXPIRES: midnight(2025, 4, 12)}


def test_refused_help_with_an_agreed_plan_does_not_escalate() -> None:
    case = open_case()
    case.agree_payment_plan(at(2025, 3, 7))
    case.apply_for_help(at(2025, 3, 8), HelpParagraph.AKTIVLOVEN_81A)
    assert kinds(case.refuse_help(at(2025, 3, 9))) == [HelpRefused]
    assert case.level is Level.REPORTED


def test_81b_help_needs_months_within_the_setting() -> None:
    case = open_case()
    case.apply_for_help(at(2025, 3, 11), HelpParagraph.AKTIVLOVEN_81B)
    for months in (None, 0, 7):

        def grant(months: int | None = months) -> object:
            return case.grant_help(at(2025, 3, 12), months=months)

        assert_refused_unchanged(
            case,
            grant,
            "months",
            "housing.help_81b_months_out_of_range",
        )
    (granted,) = case.grant_help(at(2025, 3, 12), months=6)
    assert isinstance(granted, HelpGranted)
    assert granted.months == 6


def test_81a_help_takes_no_months_and_decisions_need_an_application() -> None:
    case = open_case()
    assert_refused_unchanged(
        case,
        lambda: case.grant_help(at(2025, 3, 12)),
        "help",
        "housing.no_pending_help_application",
    )
    assert_refused_unchanged(
        case,
        lambda: case.refuse_help(at(2025, 3, 12)),
        "help",
        "housing.no_pending_help_application",
    )
    case.apply_for_help(at(2025, 3, 11), HelpParagraph.AKTIVLOVEN_81A)
    assert_refused_unchanged(
        case,
        lambda: case.apply_for_help(at(2025, 3, 12), HelpParagraph.AKTIVLOVEN_81B),
        "help",
        "housing.help_already_applied_for",
    )
    assert_refused_unchanged(
        case,
        lambda: case.grant_help(at(2025, 3, 12), months=3),
        "months",
        "housing.help_months_not_applicable",
    )


# --------------------------------------------------------------- ophævelse, udsættelse


def test_termination_on_a_friday_gives_the_team_two_hverdage() -> None:
    case = open_case()
    (event,) = case.register_termination(at(2025, 3, 14), D(2025, 3, 14))
    assert isinstance(event, TerminationRegistered)
    assert event.level is Level.TERMINATION_URGENT
    assert event.asks == (
        Ask(Addressee.ASSOCIATION, Request.HOLD_EVICTION),
        Ask(Addressee.FRONTEN, Request.INVOLVE_BOLIGSOCIAL_TEAM),
    )
    # Monday 17 and Tuesday 18 March; the outreach and påkrav clocks are superseded.
    assert deadline_map(case) == {DeadlineKind.TERMINATION_RESPONSE: midnight(2025, 3, 19)}
    assert case.escalate_if_due(at(2025, 3, 18, 23, 59)) == []
    (overdue,) = case.escalate_if_due(midnight(2025, 3, 19))
    assert isinstance(overdue, ActionOverdue)
    assert overdue.deadline_kind is DeadlineKind.TERMINATION_RESPONSE
    assert overdue.asks == (Ask(Addressee.FRONTEN, Request.INVOLVE_BOLIGSOCIAL_TEAM),)


def test_termination_before_easter_skips_the_holidays() -> None:
    case = open_case(at(2025, 4, 10), pakrav_sent_on=None, pakrav_deadline=None)
    case.register_termination(at(2025, 4, 16))
    # Skærtorsdag, langfredag, the weekend and 2. påskedag do not count: 22 and 23 April.
    assert deadline_map(case) == {DeadlineKind.TERMINATION_RESPONSE: midnight(2025, 4, 24)}
    assert case.escalate_if_due(at(2025, 4, 23, 12)) == []
    assert kinds(case.escalate_if_due(midnight(2025, 4, 24))) == [ActionOverdue]


def test_contact_after_termination_answers_the_response_deadline() -> None:
    case = open_case()
    case.establish_contact(at(2025, 3, 10))
    case.register_termination(at(2025, 3, 14))
    (event,) = case.establish_contact(at(2025, 3, 17))
    assert event.level is Level.TERMINATION_URGENT
    assert case.deadlines() == []


def test_registering_the_same_termination_twice_is_idempotent() -> None:
    case = open_case()
    case.register_termination(at(2025, 3, 14))
    assert case.register_termination(at(2025, 3, 15), D(2025, 3, 13)) == []
    assert case.termination_on == D(2025, 3, 13)


def test_eviction_date_asks_for_an_emergency_plan_a_week_before() -> None:
    case = open_case()
    events = case.set_eviction_date(at(2025, 3, 14), D(2025, 4, 1))
    assert tuple(kinds(events)) == (TerminationRegistered, EvictionDateSet)
    assert case.level is Level.EVICTION_EMERGENCY
    assert deadline_map(case) == {DeadlineKind.EMERGENCY_PLAN: midnight(2025, 3, 25)}
    assert case.escalate_if_due(at(2025, 3, 24, 23, 59)) == []
    (overdue,) = case.escalate_if_due(midnight(2025, 3, 25))
    assert isinstance(overdue, ActionOverdue)
    assert overdue.asks == (Ask(Addressee.FRONTEN, Request.MAKE_EMERGENCY_HOUSING_PLAN),)


def test_eviction_days_away_makes_the_emergency_plan_due_now() -> None:
    case = open_case()
    case.set_eviction_date(at(2025, 3, 14), D(2025, 3, 17))
    assert deadline_map(case) == {DeadlineKind.EMERGENCY_PLAN: at(2025, 3, 14)}
    assert kinds(case.escalate_if_due(at(2025, 3, 14))) == [ActionOverdue]


def test_emergency_plan_recorded_and_moved_eviction_date() -> None:
    case = open_case()
    case.set_eviction_date(at(2025, 3, 14), D(2025, 4, 1))
    (made,) = case.record_emergency_housing_plan(at(2025, 3, 20))
    assert isinstance(made, EmergencyHousingPlanMade)
    assert made.addressees == (Addressee.FRONTEN,)
    assert case.deadlines() == []
    assert case.record_emergency_housing_plan(at(2025, 3, 21)) == []
    (moved,) = case.set_eviction_date(at(2025, 3, 21), D(2025, 4, 15))
    assert isinstance(moved, EvictionDateSet)
    assert case.deadlines() == []  # the plan exists; it follows the new date
    assert case.set_eviction_date(at(2025, 3, 22), D(2025, 4, 15)) == []


def test_emergency_plan_without_eviction_is_a_conflict() -> None:
    case = open_case()
    error = assert_refused_unchanged(
        case,
        lambda: case.record_emergency_housing_plan(at(2025, 3, 14)),
        "eviction",
        "housing.no_eviction_date",
    )
    assert isinstance(error, Conflict)


# -------------------------------------------------------- de-escalation and skipping


def evicting_case() -> ArrearsCase:
    case = open_case()
    case.establish_contact(at(2025, 3, 10))
    case.set_eviction_date(at(2025, 3, 14), D(2025, 4, 1))
    case.pull_events()
    return case


def test_eviction_emergency_cannot_close_with_tenancy_kept_directly() -> None:
    case = evicting_case()
    assert_refused_unchanged(
        case,
        lambda: case.record_paid_in_full(at(2025, 3, 20)),
        "eviction",
        "housing.deescalation_skips_step",
    )


def test_eviction_emergency_cannot_withdraw_the_termination_first() -> None:
    case = evicting_case()
    assert_refused_unchanged(
        case,
        lambda: case.withdraw_termination(at(2025, 3, 20)),
        "termination",
        "housing.deescalation_skips_step",
    )


def test_termination_urgent_cannot_close_with_tenancy_kept_directly() -> None:
    case = open_case()
    case.register_termination(at(2025, 3, 14))
    assert_refused_unchanged(
        case,
        lambda: case.record_paid_in_full(at(2025, 3, 20)),
        "termination",
        "housing.deescalation_skips_step",
    )


def test_step_by_step_from_eviction_emergency_to_tenancy_kept() -> None:
    case = evicting_case()
    (resolved,) = case.resolve_eviction(at(2025, 3, 20))  # a Thursday
    assert isinstance(resolved, EvictionResolved)
    assert resolved.level is Level.TERMINATION_URGENT
    # The ophævelse stands, and nobody has acted on it yet: the team gets 2 hverdage.
    assert deadline_map(case) == {DeadlineKind.TERMINATION_RESPONSE: midnight(2025, 3, 25)}
    (withdrawn,) = case.withdraw_termination(at(2025, 3, 21))
    assert isinstance(withdrawn, TerminationWithdrawn)
    assert withdrawn.level is Level.REPORTED
    (closed,) = case.record_paid_in_full(at(2025, 3, 24))
    assert isinstance(closed, CaseClosed)
    assert closed.closure is Closure.TENANCY_KEPT
    assert not case.is_open
    assert case.deadlines() == []
    assert case.highest_level is Level.EVICTION_EMERGENCY


def test_withdrawn_termination_falls_back_to_an_open_escalation_with_a_fresh_hold() -> None:
    case = open_case()
    case.escalate_if_due(at(2025, 3, 19))  # escalated, hold until 16 April
    case.register_termination(at(2025, 3, 24))
    assert case.deadlines()[0].kind is DeadlineKind.TERMINATION_RESPONSE
    (withdrawn,) = case.withdraw_termination(at(2025, 4, 10))
    assert withdrawn.level is Level.ESCALATED_TO_ASSOCIATION
    assert withdrawn.hold_until == D(2025, 5, 8)
    assert withdrawn.asks[0] == Ask(Addressee.ASSOCIATION, Request.HOLD_TERMINATION)
    assert deadline_map(case) == {DeadlineKind.HOLD_EXPIRES: midnight(2025, 5, 9)}


def test_withdrawn_termination_without_contact_restarts_outreach() -> None:
    case = open_case(pakrav_sent_on=None, pakrav_deadline=None)
    case.register_termination(at(2025, 3, 6))
    (withdrawn,) = case.withdraw_termination(at(2025, 3, 7))
    assert withdrawn.level is Level.OUTREACH_DUE
    assert deadline_map(case) == {DeadlineKind.OUTREACH: at(2025, 3, 21)}


def test_resolution_without_the_rung_is_a_conflict() -> None:
    case = open_case()
    assert isinstance(
        assert_refused_unchanged(
            case,
            lambda: case.resolve_eviction(at(2025, 3, 6)),
            "eviction",
            "housing.no_eviction_to_resolve",
        ),
        Conflict,
    )
    assert_refused_unchanged(
        case,
        lambda: case.withdraw_termination(at(2025, 3, 6)),
        "termination",
        "housing.no_termination_to_withdraw",
    )


def test_paid_in_full_from_escalated_closes_with_tenancy_kept() -> None:
    case = open_case()
    case.escalate_if_due(at(2025, 3, 19))
    (closed,) = case.record_paid_in_full(at(2025, 3, 24))
    assert isinstance(closed, CaseClosed)
    assert closed.closure is Closure.TENANCY_KEPT
    assert closed.addressees == (Addressee.ASSOCIATION, Addressee.FRONTEN)
    assert case.escalate_if_due(at(2025, 6, 1)) == []


def test_tenancy_lost_may_close_at_any_level_but_kept_needs_payment() -> None:
    case = evicting_case()
    assert_refused_unchanged(
        case,
        lambda: case.close(at(2025, 4, 1), Closure.TENANCY_KEPT),
        "closure",
        "housing.tenancy_kept_requires_payment",
    )
    (closed,) = case.close(at(2025, 4, 1), Closure.TENANCY_LOST)
    assert isinstance(closed, CaseClosed)
    assert closed.level is Level.EVICTION_EMERGENCY
    assert case.deadlines() == []


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (lambda c: c.establish_contact(at(2025, 3, 20)), "contact"),
        (lambda c: c.agree_payment_plan(at(2025, 3, 20)), "payment_plan"),
        (lambda c: c.apply_for_help(at(2025, 3, 20), HelpParagraph.AKTIVLOVEN_81A), "help"),
        (lambda c: c.register_termination(at(2025, 3, 20)), "termination"),
        (lambda c: c.set_eviction_date(at(2025, 3, 20), D(2025, 4, 20)), "eviction"),
        (lambda c: c.record_paid_in_full(at(2025, 3, 20)), "case"),
        (lambda c: c.close(at(2025, 3, 20), Closure.TENANCY_ENDED), "case"),
        (lambda c: c.update_from_report(report(), at(2025, 3, 20)), "case"),
        (
            lambda c: c.identify_citizen("citizen-2", at(2025, 3, 20), has_tovholder=False),
            "citizen_ref",
        ),
    ],
)
def test_a_closed_case_refuses_commands_unchanged(
    command: Callable[[ArrearsCase], object], field: str
) -> None:
    case = open_case()
    case.record_paid_in_full(at(2025, 3, 10))
    error = assert_refused_unchanged(case, lambda: command(case), field, "housing.case_closed")
    assert isinstance(error, Conflict)
    assert case.escalate_if_due(at(2025, 6, 1)) == []


# -------------------------------------------------------------------- later reports


def test_second_report_updates_the_open_case() -> None:
    case = open_case()
    events = case.update_from_report(
        report(amount_dkk=Decimal("19000.00"), months_behind=3), at(2025, 3, 12)
    )
    assert kinds(events) == [ArrearsReportUpdated]
    assert (case.amount_dkk, case.months_behind) == (Decimal("19000.00"), 3)
    assert case.level is Level.OUTREACH_DUE


def test_new_pakrav_brings_the_outreach_deadline_forward_and_is_flagged() -> None:
    case = open_case(pakrav_sent_on=None, pakrav_deadline=None)
    assert deadline_map(case) == {DeadlineKind.OUTREACH: at(2025, 3, 19)}
    events = case.update_from_report(
        report(pakrav_sent_on=D(2025, 3, 6), pakrav_deadline=D(2025, 3, 12)), at(2025, 3, 7)
    )
    assert kinds(events) == [ArrearsReportUpdated, CaseFlagged, CaseFlagged]
    assert deadline_map(case) == {
        DeadlineKind.OUTREACH: midnight(2025, 3, 13),
        DeadlineKind.PAKRAV: midnight(2025, 3, 13),
    }
    assert case.flags == set(Flag)


def test_later_pakrav_never_pushes_outreach_back() -> None:
    case = open_case()
    case.update_from_report(
        report(pakrav_sent_on=D(2025, 3, 10), pakrav_deadline=D(2025, 4, 30)), at(2025, 3, 12)
    )
    assert deadline_map(case)[DeadlineKind.OUTREACH] == at(2025, 3, 19)


def test_report_naming_another_association_is_refused_unchanged() -> None:
    case = open_case()
    assert_refused_unchanged(
        case,
        lambda: case.update_from_report(report(association_id="bf-other"), at(2025, 3, 12)),
        "tenancy_ref",
        "housing.tenancy_owned_by_other_association",
    )


def test_report_with_bad_amount_is_refused_unchanged() -> None:
    case = open_case()
    assert_refused_unchanged(
        case,
        lambda: case.update_from_report(report(amount_dkk=Decimal("-5")), at(2025, 3, 12)),
        "amount_dkk",
        "housing.amount_not_positive",
    )


def test_update_pairing_a_deadline_with_an_older_pakrav_date_is_refused() -> None:
    case = open_case()
    assert_refused_unchanged(
        case,
        lambda: case.update_from_report(
            report(pakrav_sent_on=None, pakrav_deadline=D(2025, 3, 2)), at(2025, 3, 12)
        ),
        "pakrav_deadline",
        "housing.pakrav_deadline_before_pakrav",
    )


def test_report_naming_another_citizen_or_tenancy_is_refused() -> None:
    case = open_case()
    error = assert_refused_unchanged(
        case,
        lambda: case.update_from_report(report(citizen_ref="citizen-2"), at(2025, 3, 12)),
        "citizen_ref",
        "housing.citizen_ref_mismatch",
    )
    assert isinstance(error, Conflict)
    assert_refused_unchanged(
        case,
        lambda: case.update_from_report(report(tenancy_ref="T-9"), at(2025, 3, 12)),
        "tenancy_ref",
        "housing.tenancy_mismatch",
    )


def test_update_carrying_an_ophaevelse_escalates() -> None:
    case = open_case()
    events = case.update_from_report(report(termination_on=D(2025, 3, 21)), at(2025, 3, 24))
    assert kinds(events) == [ArrearsReportUpdated, TerminationRegistered]
    assert case.level is Level.TERMINATION_URGENT


def test_fronten_case_gets_the_association_from_its_report() -> None:
    case = ArrearsCase.open(
        case_id="case-2",
        report=ArrearsReport(source=ReportSource.FRONTEN, citizen_ref="citizen-1"),
        now=REPORTED_AT,
        has_tovholder=True,
    )
    case.update_from_report(report(), at(2025, 3, 6))
    assert (case.association_id, case.tenancy_ref) == ("bf-ballerup", "T-100-7")


# --------------------------------------------------------- matching the citizen later


def test_unidentified_tenant_is_matched_later_and_the_match_data_is_never_stored() -> None:
    case = ArrearsCase.open(
        case_id="case-4",
        report=report(citizen_ref=None, match_request={"cpr": "0101901234", "name": "Ane"}),
        now=REPORTED_AT,
        has_tovholder=False,
    )
    events = case.pull_events()
    assert isinstance(events[0], ArrearsReported)
    assert events[0].citizen_match_pending
    assert case.citizen_match_pending
    stored = json.dumps(case.to_state())
    assert "0101901234" not in stored and "Ane" not in stored
    assert "0101901234" not in repr(report(match_request={"cpr": "0101901234"}))
    (identified,) = case.identify_citizen("citizen-9", at(2025, 3, 6), has_tovholder=True)
    assert isinstance(identified, CitizenIdentified)
    assert identified.asks == (Ask(Addressee.TOVHOLDER, Request.CONTACT_CITIZEN),)
    assert identified.citizen_ref == "citizen-9"
    assert not case.citizen_match_pending
    assert case.identify_citizen("citizen-9", at(2025, 3, 7), has_tovholder=True) == []
    assert_refused_unchanged(
        case,
        lambda: case.identify_citizen("citizen-8", at(2025, 3, 7), has_tovholder=True),
        "citizen_ref",
        "housing.citizen_ref_mismatch",
    )


# -------------------------------------------------- properties over random histories


def grant_months(case: ArrearsCase, n: int) -> int | None:
    """Mostly valid months for the pending paragraph; now and then an invalid number."""
    if n > 27:
        return n  # out of range for § 81 b, not applicable for § 81 a
    return n % 6 + 1 if case.help_paragraph is HelpParagraph.AKTIVLOVEN_81B else None


COMMANDS: dict[str, Callable[[ArrearsCase, dt.datetime, int], list[HousingEvent]]] = {
    "contact": lambda c, now, n: c.establish_contact(now),
    "propose": lambda c, now, n: c.propose_payment_plan(now),
    "agree": lambda c, now, n: c.agree_payment_plan(now),
    "break": lambda c, now, n: c.break_payment_plan(now),
    "apply_81a": lambda c, now, n: c.apply_for_help(now, HelpParagraph.AKTIVLOVEN_81A),
    "apply_81b": lambda c, now, n: c.apply_for_help(now, HelpParagraph.AKTIVLOVEN_81B),
    "grant": lambda c, now, n: c.grant_help(now, months=grant_months(c, n)),
    "refuse": lambda c, now, n: c.refuse_help(now),
    "terminate": lambda c, now, n: c.register_termination(now),
    "withdraw": lambda c, now, n: c.withdraw_termination(now),
    "evict": lambda c, now, n: c.set_eviction_date(now, now.date() + dt.timedelta(days=n)),
    "resolve": lambda c, now, n: c.resolve_eviction(now),
    "emergency_plan": lambda c, now, n: c.record_emergency_housing_plan(now),
    "paid": lambda c, now, n: c.record_paid_in_full(now),
    "lost": lambda c, now, n: c.close(now, Closure.TENANCY_LOST),
    "report": lambda c, now, n: c.update_from_report(
        report(amount_dkk=Decimal(n * 1000 - 2000)), now
    ),
    "sweep": lambda c, now, n: c.escalate_if_due(now),
    # The association's answers to the hold request (partners.handoff_updated).
    "hold_granted": lambda c, now, n: c.record_hold_granted(
        now, now.date() + dt.timedelta(days=n - 5), answered_at=now),
    "hold_refused": lambda c, now, n: c.record_hold_refused(now, answered_at=now),
    "hold_paid": lambda c, now, n: c.record_paid_by_association(now, answered_at=now),
}

# The only ways down, and from where: anything else lowering the level skips a step.
ALLOWED_DESCENTS: dict[str, set[tuple[Level, Level]]] = {
    "resolve": {(Level.EVICTION_EMERGENCY, Level.TERMINATION_URGENT)},
    "withdraw": {
        (Level.TERMINATION_URGENT, lower)
        for lower in (Level.ESCALATED_TO_ASSOCIATION, Level.OUTREACH_DUE, Level.REPORTED)
    },
    "contact": {(Level.OUTREACH_DUE, Level.REPORTED)},
    "apply_81a": {(Level.OUTREACH_DUE, Level.REPORTED)},
    "apply_81b": {(Level.OUTREACH_DUE, Level.REPORTED)},
    "agree": {
        (Level.OUTREACH_DUE, Level.REPORTED),
        (Level.ESCALATED_TO_ASSOCIATION, Level.REPORTED),
    },
    "grant": {(Level.ESCALATED_TO_ASSOCIATION, Level.REPORTED)},
    "paid": {
        (Level.OUTREACH_DUE, Level.REPORTED),
        (Level.ESCALATED_TO_ASSOCIATION, Level.REPORTED),
    },
}

# Closing ends a history, so closing commands are drawn less often than the others.
WEIGHTED = [name for name in sorted(COMMANDS)
            if name not in {"paid", "lost", "hold_paid"}] * 4
WEIGHTED += ["sweep"] * 4 + ["paid", "lost", "hold_paid"]

steps = st.lists(
    st.tuples(
        st.sampled_from(WEIGHTED),
        st.integers(min_value=0, max_value=12 * 24 * 60),  # minutes the clock moves
        st.integers(min_value=0, max_value=30),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps, has_tovholder=st.booleans())
def test_random_histories_keep_the_ladder_invariants(
    steps: list[tuple[str, int, int]], has_tovholder: bool
) -> None:
    case = open_case(has_tovholder=has_tovholder)
    now = REPORTED_AT
    for name, minutes, n in steps:
        # Time passes as a real clock's does: in UTC, shown in Copenhagen (no gap times).
        now = (now + dt.timedelta(minutes=minutes)).astimezone(dt.UTC).astimezone(CPH)
        before_state = case.to_state()
        before_level = case.level
        try:
            events = COMMANDS[name](case, now, n)
        except DomainError:
            assert case.to_state() == before_state  # refused: unchanged
            continue
        after_level = case.level
        if after_level.rank < before_level.rank and case.is_open:
            assert (before_level, after_level) in ALLOWED_DESCENTS.get(name, set()), name
        if name == "paid":
            assert before_level.rank <= Level.ESCALATED_TO_ASSOCIATION.rank
        if name == "hold_paid" and not case.is_open:  # paid in full: only below ophævelse
            assert before_level.rank <= Level.ESCALATED_TO_ASSOCIATION.rank
            assert case.closure is Closure.TENANCY_KEPT
        for event in events:
            assert event.case_id == "case-1"
            assert event.occurred_at == now
            municipal = Addressee.TOVHOLDER if case.has_tovholder else Addressee.FRONTEN
            assert municipal in event.addressees
        # Exactly once: a second sweep at the same moment fires nothing new.
        case.escalate_if_due(now)
        assert case.escalate_if_due(now) == []
        # A restart rebuilds an equal case with the same deadlines.
        rebuilt = restart(case)
        assert rebuilt == case
        assert rebuilt.deadlines() == case.deadlines()
        if not case.is_open:
            assert case.deadlines() == []
        assert case.highest_level.rank >= case.level.rank or not case.is_open


def test_a_wall_time_in_the_summer_time_gap_is_stored_as_the_instant_it_denotes() -> None:
    # 02:30 on 30 March 2025 does not exist in Copenhagen (the clocks jump 02:00 -> 03:00).
    gap = dt.datetime(2025, 3, 30, 2, 30, tzinfo=CPH)
    case = open_case()
    case.establish_contact(gap)
    assert case.first_contact_at == dt.datetime(2025, 3, 30, 3, 30, tzinfo=CPH)
    assert case.first_contact_at.astimezone(dt.UTC) == gap.astimezone(dt.UTC)
    assert restart(case) == case
    # A deadline computed by wall-clock day arithmetic that lands in the gap, too.
    late = open_case(dt.datetime(2025, 3, 16, 2, 30, tzinfo=CPH),
                     pakrav_sent_on=None, pakrav_deadline=None)
    outreach = {d.kind: d.due for d in late.deadlines()}[DeadlineKind.OUTREACH]
    assert outreach == dt.datetime(2025, 3, 30, 3, 30, tzinfo=CPH)
    assert restart(late) == late


# ------------------------------------------------ the association's answers to the hold


def escalated_case() -> ArrearsCase:
    """Nobody reached the tenant by the påkrav deadline (20 March): the association is
    asked to hold the ophævelse for 28 days, until 18 April."""
    case = open_case(has_tovholder=True)
    case.escalate_if_due(at(2025, 3, 21))
    case.pull_events()
    assert case.level is Level.ESCALATED_TO_ASSOCIATION
    assert case.hold_until == D(2025, 4, 18)
    return case


@pytest.mark.parametrize("until", [D(2025, 4, 4), D(2025, 5, 2)])
def test_a_granted_hold_is_recorded_and_the_hold_deadline_follows_the_associations_date(
    until: dt.date,
) -> None:
    case = escalated_case()
    events = case.record_hold_granted(at(2025, 3, 24), until, answered_at=at(2025, 3, 24))
    assert kinds(events) == [HoldAnswered]
    assert events[0].answer is HoldAnswer.GRANTED and events[0].granted_until == until
    assert Addressee.ASSOCIATION not in events[0].addressees  # it knows its own answer
    assert (case.hold_answer, case.hold_granted_until, case.hold_until) == (
        HoldAnswer.GRANTED, until, until)
    # No ophævelse is expected before the day the association named (earlier or later
    # than we asked): the hold expires at the end of that day.
    assert deadline_map(case)[DeadlineKind.HOLD_EXPIRES] == midnight(
        until.year, until.month, until.day) + dt.timedelta(days=1)
    assert case.level is Level.ESCALATED_TO_ASSOCIATION
    assert restart(case) == case


def test_a_hold_granted_until_a_day_already_past_is_overdue_at_once() -> None:
    case = escalated_case()
    events = case.record_hold_granted(at(2025, 3, 24), D(2025, 3, 22),
                                      answered_at=at(2025, 3, 24))
    assert kinds(events) == [HoldAnswered, ActionOverdue]
    assert DeadlineKind.HOLD_EXPIRES not in deadline_map(case)


def test_a_refused_hold_asks_the_tovholder_at_once_and_the_escalation_goes_on() -> None:
    case = escalated_case()
    events = case.record_hold_refused(at(2025, 3, 24), answered_at=at(2025, 3, 24))
    assert kinds(events) == [HoldAnswered, ActionOverdue]
    answered, overdue = events
    assert answered.asks == (Ask(Addressee.TOVHOLDER, Request.MAKE_PLAN_OR_APPLY_FOR_HELP),)
    assert isinstance(overdue, ActionOverdue)
    assert overdue.deadline_kind is DeadlineKind.HOLD_EXPIRES
    assert overdue.asks == (Ask(Addressee.TOVHOLDER, Request.MAKE_PLAN_OR_APPLY_FOR_HELP),)
    assert case.level is Level.ESCALATED_TO_ASSOCIATION  # the next rung is an ophævelse
    assert case.hold_answer is HoldAnswer.REFUSED and case.hold_granted_until is None
    # The escalation goes on: the ophævelse, when it comes, is registered as ever.
    case.register_termination(at(2025, 3, 25))
    assert case.level is Level.TERMINATION_URGENT


def test_paid_by_the_association_closes_the_case_with_the_tenancy_kept() -> None:
    case = escalated_case()
    events = case.record_paid_by_association(at(2025, 3, 24), answered_at=at(2025, 3, 24))
    assert kinds(events) == [HoldAnswered, CaseClosed]
    assert (case.is_open, case.closure, case.deadlines()) == (False, Closure.TENANCY_KEPT, [])
    assert events[1].asks[0] == Ask(Addressee.ASSOCIATION, Request.FOR_INFORMATION)


def test_paid_while_an_ophaevelse_stands_is_recorded_and_left_to_the_officers() -> None:
    case = escalated_case()
    case.register_termination(at(2025, 3, 24))
    case.pull_events()
    events = case.record_paid_by_association(at(2025, 3, 25), answered_at=at(2025, 3, 25))
    assert kinds(events) == [HoldAnswered]
    assert case.is_open and case.hold_answer is HoldAnswer.PAID
    assert case.level is Level.TERMINATION_URGENT  # steps come down one at a time


def test_answers_on_a_closed_case_are_refused_and_an_older_answer_is_recognised() -> None:
    case = escalated_case()
    case.record_hold_granted(at(2025, 3, 24), D(2025, 4, 10), answered_at=at(2025, 3, 24))
    assert case.is_older_answer(at(2025, 3, 23))
    assert not case.is_older_answer(at(2025, 3, 24, 11))
    assert_refused_unchanged(
        case, lambda: case.record_hold_granted(at(2025, 3, 25), None,
                                               answered_at=at(2025, 3, 25)),
        "hold_until", "housing.hold_until_required")
    case.record_paid_by_association(at(2025, 3, 26), answered_at=at(2025, 3, 26))
    with pytest.raises(Conflict):
        case.record_hold_refused(at(2025, 3, 27), answered_at=at(2025, 3, 27))


def test_a_new_request_to_hold_starts_without_the_earlier_answer() -> None:
    case = escalated_case()
    case.record_hold_granted(at(2025, 3, 24), D(2025, 4, 10), answered_at=at(2025, 3, 24))
    case.agree_payment_plan(at(2025, 3, 25))
    case.break_payment_plan(at(2025, 4, 1))  # asked again
    assert case.level is Level.ESCALATED_TO_ASSOCIATION
    assert (case.hold_answer, case.hold_granted_until) == (None, None)
    assert case.association_request() is Request.HOLD_TERMINATION


def test_a_state_stored_before_hold_answers_existed_still_loads() -> None:
    case = escalated_case()
    state = case.to_state()
    for key in ("hold_answer", "hold_granted_until", "hold_answered_at"):
        del state[key]
    assert ArrearsCase.from_state(state, case.settings) == case
