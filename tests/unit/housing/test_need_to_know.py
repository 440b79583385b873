"""Need-to-know for arrears cases (pure): who sees and changes which case, and what a
housing association's own list says about each of its cases."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from contracts.actor import Actor
from contracts.housing import PARTNER_CASE_FIELDS, PartnerCaseView
from services.common.errors import DomainError, NotFound
from services.housing import case_list, visibility
from services.housing.ladder import ArrearsCase, Closure, Level, ReportSource
from services.housing.visibility import CaseFacts, Reach
from tests.unit.housing.test_ladder import COMMANDS, REPORTED_AT, D, at, report, steps

OFFICER = Actor("staff", "lone", roles=["housing_officer"])
FRONTEN = Actor("staff", "anne", roles=["fronten"])
TOVHOLDER = Actor("staff", "mette", roles=["tovholder"])
OPERATOR = Actor("staff", "ops", roles=["operator"])
REVIEW = Actor("staff", "udvalg", roles=["review_panel"])
PARTNER = Actor("partner", "bf-ballerup", roles=["partner"], partner_id="bf-ballerup")
SERVICE = Actor.from_label("service:notifications")

MINE = CaseFacts("bf-ballerup", actor_is_tovholder=False)
THEIRS = CaseFacts("bf-other", actor_is_tovholder=False)
OF_MY_CITIZEN = CaseFacts(None, actor_is_tovholder=True)
FRONTENS = CaseFacts(None, actor_is_tovholder=False)


@pytest.mark.parametrize(
    ("actor", "reach", "sees"),
    [
        (OFFICER, Reach.ALL, {"MINE", "THEIRS", "OF_MY_CITIZEN", "FRONTENS"}),
        (FRONTEN, Reach.ALL, {"MINE", "THEIRS", "OF_MY_CITIZEN", "FRONTENS"}),
        (SERVICE, Reach.ALL, {"MINE", "THEIRS", "OF_MY_CITIZEN", "FRONTENS"}),
        (TOVHOLDER, Reach.OWN_CITIZENS, {"OF_MY_CITIZEN"}),
        (PARTNER, Reach.OWN_ASSOCIATION, {"MINE"}),
        (OPERATOR, Reach.NONE, set()),
        (REVIEW, Reach.NONE, set()),
        (Actor.from_label("staff:no-roles"), Reach.NONE, set()),
        # A partner label from a service's test or tool: the label's id is the partner.
        (Actor.from_label("partner:bf-ballerup"), Reach.OWN_ASSOCIATION, {"MINE"}),
    ],
)
def test_who_sees_which_case(actor: Actor, reach: Reach, sees: set[str]) -> None:
    assert visibility.reach(actor) is reach
    cases = {"MINE": MINE, "THEIRS": THEIRS, "OF_MY_CITIZEN": OF_MY_CITIZEN,
             "FRONTENS": FRONTENS}
    assert {name for name, facts in cases.items() if visibility.may_see(actor, facts)} == sees


def test_a_case_one_may_not_see_answers_as_a_missing_one() -> None:
    refused = visibility.case_not_found()
    assert isinstance(refused, NotFound)
    assert refused.as_problem() == NotFound("case_id", "No arrears case with this id.").as_problem()


@pytest.mark.parametrize(
    ("check", "allowed", "refused"),
    [
        (visibility.check_may_change_cases, [OFFICER, FRONTEN, TOVHOLDER, SERVICE],
         [PARTNER, OPERATOR, REVIEW]),
        (visibility.check_may_report, [OFFICER, FRONTEN, PARTNER, SERVICE],
         [TOVHOLDER, OPERATOR, REVIEW]),
        (visibility.check_may_read_worklist, [OFFICER, FRONTEN, SERVICE],
         [PARTNER, TOVHOLDER, OPERATOR]),
        (visibility.check_is_partner, [PARTNER], [OFFICER, FRONTEN, SERVICE]),
        (visibility.check_may_read_access_report, [FRONTEN, OPERATOR, SERVICE],
         [OFFICER, TOVHOLDER, PARTNER]),
        (visibility.check_may_read_refused_reports, [OFFICER, OPERATOR, SERVICE],
         [FRONTEN, TOVHOLDER, PARTNER]),
    ],
)
def test_what_each_role_may_do_at_all(check: Any, allowed: list[Actor],
                                      refused: list[Actor]) -> None:
    for actor in allowed:
        check(actor)
    for actor in refused:
        with pytest.raises(DomainError) as err:
            check(actor)
        assert (err.value.field, err.value.rule) == ("actor", "not_allowed"), actor


def test_an_association_reads_only_its_own_association_report() -> None:
    assert visibility.check_may_read_association_report(PARTNER, "bf-ballerup") is True
    assert visibility.check_may_read_association_report(PARTNER, "bf-other") is False
    assert visibility.check_may_read_association_report(OPERATOR, "bf-other") is True
    with pytest.raises(DomainError):
        visibility.check_may_read_association_report(TOVHOLDER, "bf-other")


# ------------------------------------------------------------- the association's list


def escalated(**changes: Any) -> ArrearsCase:
    """Nobody reached the tenant within 14 days: asked to hold until 18 April. (A far
    påkrav deadline: no § 81 a warning on the officers' list.)"""
    changes.setdefault("pakrav_deadline", D(2025, 6, 2))
    case = ArrearsCase.open(case_id="case-1", report=report(**changes), now=REPORTED_AT,
                            has_tovholder=True)
    case.escalate_if_due(at(2025, 3, 21))
    case.pull_events()
    return case


def test_the_association_is_asked_to_hold_until_a_day_and_sees_its_own_answer() -> None:
    case = escalated()
    code, text = case_list.partner_reason(case)
    assert code == "hold_termination_requested"
    assert text == ("Kommunen beder jer vente med at ophæve lejemålet til og med "
                    "18. april 2025. Svar venligst på anmodningen.")
    assert case_list.partner_due_on(case) == D(2025, 4, 18)
    case.record_hold_granted(at(2025, 3, 24), D(2025, 4, 30), answered_at=at(2025, 3, 24))
    assert case_list.partner_reason(case) == (
        "hold_granted", "I har svaret, at I venter med at ophæve lejemålet til og med "
                        "30. april 2025.")
    assert case_list.partner_due_on(case) == D(2025, 4, 30)
    details = case_list.partner_details(case)
    assert (details["requested"], details["hold_answer"], details["hold_granted_until"]) == (
        "hold_termination", "granted", "2025-04-30")
    # The officers read the answer too.
    assert "Boligforeningen venter med at ophæve lejemålet til og med 30. april 2025." in (
        case_list.reason(case)[1])
    assert case_list.next_step(case).text.startswith(
        "Boligforeningen har lovet at vente med at ophæve lejemålet til og med 30. april")


def test_a_refused_hold_and_a_reported_payment_are_on_the_officers_list() -> None:
    case = escalated()
    case.record_hold_refused(at(2025, 3, 24), answered_at=at(2025, 3, 24))
    assert case_list.reason(case)[0] == "hold_refused"
    assert case_list.partner_reason(case)[0] == "hold_refused"
    assert case_list.partner_due_on(case) is None
    case.register_termination(at(2025, 3, 25))
    case.record_paid_by_association(at(2025, 3, 26), answered_at=at(2025, 3, 26))
    code, text = case_list.reason(case)
    assert code == "association_reports_paid" and "ophævelsen er trukket tilbage" in text


@pytest.mark.parametrize(
    ("setup", "code", "due"),
    [
        (lambda c: None, "outreach_started", D(2025, 3, 20)),  # its påkrav deadline
        (lambda c: c.establish_contact(at(2025, 3, 6)), "contact_established", D(2025, 3, 20)),
        (lambda c: c.agree_payment_plan(at(2025, 3, 6)), "payment_plan_agreed", None),
        (lambda c: c.register_termination(at(2025, 3, 6)), "hold_eviction_requested", None),
        (lambda c: c.set_eviction_date(at(2025, 3, 6), D(2025, 4, 9)),
         "postpone_eviction_requested", D(2025, 4, 9)),
        (lambda c: c.close(at(2025, 3, 6), Closure.TENANCY_ENDED), "case_closed", None),
    ],
)
def test_each_rung_as_the_association_reads_it(setup: Any, code: str,
                                               due: dt.date | None) -> None:
    case = ArrearsCase.open(case_id="case-1", report=report(), now=REPORTED_AT,
                            has_tovholder=False)
    setup(case)
    assert case_list.partner_reason(case)[0] == code
    assert case_list.partner_due_on(case) == due
    assert case_list.partner_sort_due(case) == (due or case_list.PARTNER_NO_DUE)


def test_a_case_without_association_has_no_date_for_any_association() -> None:
    case = ArrearsCase.open(case_id="case-2", now=REPORTED_AT, has_tovholder=False,
                            report=report(source=ReportSource.FRONTEN, association_id=None,
                                          tenancy_ref=None))
    assert case.association_request() is None
    assert case_list.partner_due_on(case) is None


FORBIDDEN = re.compile(r"citizen|amount|cpr|flag|note", re.I)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps)
def test_what_an_association_is_shown_never_names_the_tenant_or_the_amount(
    steps: list[tuple[str, int, int]],
) -> None:
    from services.housing.handlers import partner_case_view

    case = ArrearsCase.open(case_id="3f0c7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80", now=REPORTED_AT,
                            has_tovholder=True, report=report(citizen_ref="citizen-SECRET"))
    now = REPORTED_AT
    for name, minutes, n in steps:
        now = (now + dt.timedelta(minutes=minutes)).astimezone(dt.UTC).astimezone(
            REPORTED_AT.tzinfo)
        try:
            COMMANDS[name](case, now, n)
        except DomainError:
            continue
    details = case_list.partner_details(case)
    view = partner_case_view(case)
    assert tuple(view) == PARTNER_CASE_FIELDS
    assert PartnerCaseView().validate(json.loads(json.dumps(view, default=str))) == {}
    for shown in (details, view, dict(zip(("code", "text"),
                                          case_list.partner_reason(case), strict=True))):
        text = json.dumps(shown, default=str)
        assert "SECRET" not in text and "12500" not in text
        assert not [key for key in shown if FORBIDDEN.search(key)]
    assert case.level in Level
