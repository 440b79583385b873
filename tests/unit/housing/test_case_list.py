"""The housing officers' worklist: its ordering rule and what each item says (pure)."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import HealthCheck, given, settings

from services.common.errors import DomainError
from services.housing import case_list
from services.housing.case_list import (
    NO_DEADLINE,
    PRIORITY_HELP_TOO_LATE,
    PRIORITY_OTHER,
    danish_date,
    help_too_late,
    last_day,
    next_step,
    sort_key,
)
from services.housing.ladder import (
    ArrearsCase,
    Closure,
    DeadlineKind,
    Flag,
    HelpParagraph,
    HoldAnswer,
    Level,
    ReportSource,
)
from tests.unit.housing.test_ladder import (
    COMMANDS,
    CPH,
    REPORTED_AT,
    D,
    at,
    report,
    restart,
    steps,
)


def case_of(case_id: str, now: dt.datetime = REPORTED_AT, **changes: object) -> ArrearsCase:
    case = ArrearsCase.open(case_id=case_id, report=report(**changes), now=now,
                            has_tovholder=False)
    case.pull_events()
    return case


def listed(cases: list[ArrearsCase]) -> list[str]:
    """The open cases in the list's order: (priority, due, id), as the SQL sorts."""
    open_cases = [c for c in cases if c.is_open]
    return [c.case_id for c in sorted(open_cases, key=lambda c: (*_key(c), c.case_id))]


def _key(case: ArrearsCase) -> tuple[int, dt.datetime]:
    key = sort_key(case)
    return key.priority, key.due_at


# ------------------------------------------------------------------------- the order


def test_help_too_late_comes_first_even_before_an_earlier_deadline() -> None:
    # Reported 5 March, påkrav deadline 20 March: help applied for now (28 days) would
    # be decided after it. Flagged, outreach due 19 March.
    late = case_of("b-late")
    assert Flag.PROCESSING_EXCEEDS_PAKRAV_DEADLINE in late.flags
    # Reported 1 March with a påkrav deadline in June: no warning, outreach due 15 March.
    earlier = case_of("a-earlier", at(2025, 3, 1), pakrav_sent_on=D(2025, 3, 1),
                      pakrav_deadline=D(2025, 6, 1))
    assert not earlier.flags
    assert earlier.next_deadline().due < late.next_deadline().due  # type: ignore[union-attr]

    assert sort_key(late).priority == PRIORITY_HELP_TOO_LATE
    assert sort_key(earlier).priority == PRIORITY_OTHER
    assert listed([earlier, late]) == ["b-late", "a-earlier"]


def test_then_the_nearest_deadline_and_cases_without_one_last() -> None:
    far = {"pakrav_sent_on": D(2025, 3, 1), "pakrav_deadline": D(2025, 6, 1)}
    soon = case_of("c-soon", at(2025, 3, 1), **far)  # outreach 15 March
    later = case_of("a-later", at(2025, 3, 3), **far)  # outreach 17 March
    # Fronten's report: the citizen is in the room (contact), no påkrav: no deadline.
    quiet = case_of("b-quiet", source=ReportSource.FRONTEN, pakrav_sent_on=None,
                    pakrav_deadline=None)
    assert quiet.deadlines() == []
    assert sort_key(quiet) == case_list.SortKey(PRIORITY_OTHER, NO_DEADLINE)
    assert listed([quiet, later, soon]) == ["c-soon", "a-later", "b-quiet"]
    assert sort_key(soon).due_at == at(2025, 3, 15).astimezone(dt.UTC)


def test_equal_keys_are_ordered_by_case_id() -> None:
    one, two = case_of("case-2"), case_of("case-1")
    assert _key(one) == _key(two)
    assert listed([one, two]) == ["case-1", "case-2"]


def test_the_warning_ends_when_a_plan_is_agreed_or_help_granted() -> None:
    agreed = case_of("agreed")
    agreed.agree_payment_plan(at(2025, 3, 6))
    assert Flag.PROCESSING_EXCEEDS_PAKRAV_DEADLINE in agreed.flags  # kept on the case
    assert not help_too_late(agreed)
    assert sort_key(agreed).priority == PRIORITY_OTHER

    granted = case_of("granted")
    granted.apply_for_help(at(2025, 3, 6), HelpParagraph.AKTIVLOVEN_81A)
    assert help_too_late(granted)  # applied, not yet decided: still too late
    granted.grant_help(at(2025, 3, 10))
    assert not help_too_late(granted)


def test_the_warning_stays_while_the_case_climbs_the_ladder() -> None:
    case = case_of("climbing")
    case.escalate_if_due(at(2025, 3, 19, 12))  # no contact by the outreach deadline
    assert case.level is Level.ESCALATED_TO_ASSOCIATION
    assert sort_key(case).priority == PRIORITY_HELP_TOO_LATE
    hold = case.next_deadline()
    assert hold is not None and hold.kind is DeadlineKind.HOLD_EXPIRES
    assert sort_key(case).due_at == hold.due.astimezone(dt.UTC)


def test_a_closed_case_has_no_deadline_and_no_warning() -> None:
    case = case_of("closed")
    case.close(at(2025, 3, 7), Closure.TENANCY_LOST)
    assert sort_key(case) == case_list.SortKey(PRIORITY_OTHER, NO_DEADLINE)


def test_the_sort_key_does_not_depend_on_the_clock_and_survives_a_restart() -> None:
    case = case_of("stable")
    key = sort_key(case)
    # Days pass with nothing done (before the outreach deadline): the key is the same,
    # only what the item says about days left changes.
    early = case_list.details(case, D(2025, 3, 6))
    late = case_list.details(case, D(2025, 3, 18))
    assert (early["pakrav_days_left"], late["pakrav_days_left"]) == (14, 2)
    assert sort_key(case) == key
    assert sort_key(restart(case)) == key


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps)
def test_random_histories_keep_the_sort_key_rule(steps: list[tuple[str, int, int]]) -> None:
    case = case_of("case-1")
    now = REPORTED_AT
    for name, minutes, n in steps:
        now = (now + dt.timedelta(minutes=minutes)).astimezone(dt.UTC).astimezone(CPH)
        try:
            COMMANDS[name](case, now, n)
        except DomainError:
            continue
        key = sort_key(case)
        warned = (case.is_open and Flag.PROCESSING_EXCEEDS_PAKRAV_DEADLINE in case.flags
                  and not case.plan_settled)
        assert key.priority == (PRIORITY_HELP_TOO_LATE if warned else PRIORITY_OTHER)
        deadline = case.next_deadline()
        assert key.due_at == (deadline.due.astimezone(dt.UTC) if deadline and case.is_open
                              else NO_DEADLINE)
        assert key.due_at.tzinfo is not None
        # Every text an officer reads is Danish, without codes.
        code, reason = case_list.reason(case)
        texts = [reason, next_step(case).text, case_list.warning_text(case) or "",
                 case_list.details(case, now.date())["level_text"],
                 case_list.partner_reason(case)[1]]  # and every text an association reads
        for text in texts:
            assert not re.search(r"[a-z]+_[a-z]+", text), text
        # The association's answer, when it changes what to do now, comes first.
        answered = case.is_open and (
            case.hold_answer is HoldAnswer.PAID
            or (case.level is Level.ESCALATED_TO_ASSOCIATION
                and case.hold_answer is HoldAnswer.REFUSED))
        if answered:
            assert code in {"association_reports_paid", "hold_refused"}
        else:
            assert (code == Flag.PROCESSING_EXCEEDS_PAKRAV_DEADLINE.value) == warned


# ---------------------------------------------------------------- what an item says


def test_danish_dates() -> None:
    assert danish_date(D(2025, 3, 20)) == "20. marts 2025"
    assert danish_date(D(2026, 12, 1)) == "1. december 2026"


def test_a_date_deadline_is_met_on_its_own_day() -> None:
    case = case_of("day")
    # The påkrav deadline 20 March is stored as the midnight that ends it.
    case.establish_contact(at(2025, 3, 6))
    pakrav = case.next_deadline()
    assert pakrav is not None and pakrav.kind is DeadlineKind.PAKRAV
    assert pakrav.due == at(2025, 3, 21, 0)
    assert last_day(pakrav.due, case) == D(2025, 3, 20)
    # A deadline at a time of day is met on that day.
    assert last_day(at(2025, 3, 19, 10), case) == D(2025, 3, 19)


def test_the_warning_names_the_pakrav_deadline_and_the_processing_time() -> None:
    case = case_of("warned")
    code, reason = case_list.reason(case)
    assert code == "processing_exceeds_pakrav_deadline"
    assert "20. marts 2025" in reason and "28 dage" in reason and "§ 81 a" in reason
    details = case_list.details(case, D(2025, 3, 5))
    assert details["help_too_late"] is True
    assert details["warning"] == reason
    assert details["pakrav_deadline"] == "2025-03-20"
    assert details["pakrav_days_left"] == 15
    assert details["level"] == "outreach_due"
    assert details["level_text"] == "Borgeren skal kontaktes"


def test_the_next_step_for_each_rung() -> None:
    case = case_of("steps")
    step = next_step(case)
    assert (step.code, step.due_on) == ("outreach", D(2025, 3, 19))
    assert step.text.startswith("Kontakt borgeren senest 19. marts 2025.")
    assert "boligforeningen bliver bedt om at vente" in step.text

    case.establish_contact(at(2025, 3, 6))
    step = next_step(case)
    assert (step.code, step.due_on) == ("pakrav", D(2025, 3, 20))
    assert "inden påkravsfristen 20. marts 2025" in step.text

    held = case_of("held")
    held.establish_contact(at(2025, 3, 6))
    held.escalate_if_due(at(2025, 3, 21, 1))  # the påkrav deadline passed, no plan
    assert held.level is Level.ESCALATED_TO_ASSOCIATION
    step = next_step(held)
    assert (step.code, step.due_on) == ("hold_expires", D(2025, 4, 18))
    assert "vente med at ophæve lejemålet til og med 18. april 2025" in step.text

    case.apply_for_help(at(2025, 3, 7), HelpParagraph.AKTIVLOVEN_81B)
    case.escalate_if_due(at(2025, 3, 21, 1))  # the påkrav deadline passed
    assert case.level is Level.ESCALATED_TO_ASSOCIATION
    step = next_step(case)
    assert (step.code, step.due_on) == ("help_decision", D(2025, 4, 4))
    assert "aktivlovens § 81 b forventes afgjort senest 4. april 2025" in step.text

    case.register_termination(at(2025, 3, 24))  # a Monday
    step = next_step(case)
    assert (step.code, step.due_on) == ("termination_response", D(2025, 3, 26))
    assert "Inddrag det boligsociale team senest 26. marts 2025" in step.text

    case.set_eviction_date(at(2025, 3, 25), D(2025, 4, 10))
    step = next_step(case)
    # Due at the start of 3 April: the plan must exist by the end of 2 April.
    assert (step.code, step.due_on) == ("emergency_plan", D(2025, 4, 2))
    assert "Udsættelsen er den 10. april 2025" in step.text
    assert case_list.reason(case)[0] == "processing_exceeds_pakrav_deadline"

    case.record_emergency_housing_plan(at(2025, 3, 26))
    step = next_step(case)
    assert step.code == "help_decision"
    assert "aktivlovens § 81 b forventes afgjort senest 4. april 2025" in step.text

    case.grant_help(at(2025, 3, 27), months=3)
    step = next_step(case)
    assert (step.code, step.due_on, step.due_at) == ("follow_up", None, None)
    assert "udsættelsen er afblæst" in step.text
    assert case_list.reason(case) == ("eviction_emergency",
                                      "Fogedretten har fastsat en dato for udsættelse.")


def test_a_closed_case_says_how_it_ended() -> None:
    case = case_of("paid")
    case.record_paid_in_full(at(2025, 3, 10))
    assert case_list.reason(case) == (
        "case_closed", "Sagen er lukket: restancen er betalt, og borgeren beholder sin bolig.")
    assert next_step(case).code == "none"
    details = case_list.details(case, D(2025, 3, 11))
    assert details["is_open"] is False
    assert (details["closure"], details["closed_on"]) == ("tenancy_kept", "2025-03-10")


def test_without_an_association_nobody_is_said_to_be_asked_to_wait() -> None:
    case = case_of("private", association_id=None, tenancy_ref=None,
                   source=ReportSource.FOGEDRET, termination_on=None)
    # A fogedret notice opens at TERMINATION_URGENT; no boligforening is involved.
    assert case.level is Level.TERMINATION_URGENT
    assert "boligforening" not in next_step(case).text.lower()
    assert case_list.reason(case)[1] != ""
