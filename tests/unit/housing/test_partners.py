"""Housing associations as partners, and the allow-list of what they may be told."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.common.errors import DomainError
from services.housing.ladder import (
    Addressee,
    ArrearsCase,
    ArrearsReport,
    Ask,
    CaseClosed,
    Closure,
    Deadline,
    DeadlineKind,
    EscalationReason,
    EvictionDateSet,
    Flag,
    HelpParagraph,
    HoldAnswer,
    HousingEvent,
    Level,
    ReportSource,
    Request,
    all_event_types,
)
from services.housing.partners import (
    INTERNAL_EVENTS,
    PARTNER_FIELDS,
    PARTNER_REQUESTS,
    PARTNER_STATUS,
    STATUS_BY_EVENT,
    Department,
    HousingAssociation,
    PartnerRegistry,
    ReportRefusal,
    check_tenancy_ownership,
    partner_report_refusal,
    partner_statement,
    partner_statements,
    tenancy_not_registered_to_you,
)

CPH = ZoneInfo("Europe/Copenhagen")
D = dt.date
SECRET_CITIZEN = "citizen-SECRET-7f3a"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=CPH)


def registry() -> PartnerRegistry:
    return PartnerRegistry(
        [
            HousingAssociation(
                "bf-ballerup",
                "Ballerup Boligforening",
                cvr="12345678",
                departments=(
                    Department("1", "Søndergården", frozenset({"T-1-1", "T-1-2"})),
                    Department("2", "Grantoften", frozenset({"T-2-1"})),
                ),
            ),
            HousingAssociation(
                "bf-other",
                "Anden Boligforening",
                departments=(Department("7", "Vest", frozenset({"T-7-1"})),),
            ),
        ]
    )


# ------------------------------------------------------------------------ identity


def test_own_tenancy_is_accepted_with_its_department() -> None:
    department = registry().check_report("bf-ballerup", " T-2-1 ")
    assert department is not None
    assert department.name == "Grantoften"


def test_tenancy_of_another_association_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        registry().check_report("bf-ballerup", "T-7-1")
    assert (refused.value.field, refused.value.rule) == (
        "tenancy_ref",
        "housing.tenancy_owned_by_other_association",
    )


def test_unknown_association_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        registry().check_report("bf-nobody", "T-1-1")
    assert (refused.value.field, refused.value.rule) == (
        "association_id",
        "housing.unknown_association",
    )


def test_unregistered_tenancy_is_accepted_without_department_for_staff() -> None:
    # Fronten's report on a tenancy nobody registered (a private landlord, or a gap in
    # the register): the municipality opens the case; an association may not (below).
    assert registry().check_report("bf-ballerup", "T-99-1") is None


@pytest.mark.parametrize(
    ("owner", "open_case", "refusal"),
    [
        ("bf-ballerup", None, None),  # its own tenancy, no open case
        ("bf-ballerup", "bf-ballerup", None),  # its own tenancy and its own case
        (None, None, ReportRefusal.TENANCY_NOT_REGISTERED),
        # The takeover of issue 16: Fronten opened the case on a tenancy nobody has
        # registered; the association's report (with the tenant's CPR) does not attach.
        (None, None, ReportRefusal.TENANCY_NOT_REGISTERED),
        ("bf-other", None, ReportRefusal.TENANCY_OF_OTHER_ASSOCIATION),
        ("bf-other", "bf-other", ReportRefusal.TENANCY_OF_OTHER_ASSOCIATION),
        # Registered to it now, but the open case names another association.
        ("bf-ballerup", "bf-other", ReportRefusal.CASE_OF_OTHER_ASSOCIATION),
    ],
)
def test_an_association_reports_only_through_a_tenancy_registered_to_it(
    owner: str | None, open_case: str | None, refusal: ReportRefusal | None
) -> None:
    assert partner_report_refusal("bf-ballerup", owner_association_id=owner,
                                  open_case_association_id=open_case) is refusal


def test_every_refusal_of_an_association_reads_the_same_and_names_no_one() -> None:
    answer = tenancy_not_registered_to_you()
    assert (answer.field, answer.rule) == ("tenancy_ref",
                                           "housing.tenancy_not_registered_to_association")
    assert "bf-" not in answer.message and "T-" not in answer.message
    assert tenancy_not_registered_to_you().as_problem() == answer.as_problem()


def test_ownership_check_for_a_service_that_looks_the_owner_up_itself() -> None:
    check_tenancy_ownership("bf-ballerup", "T-1-1", "bf-ballerup")
    check_tenancy_ownership("bf-ballerup", "T-1-1", None)
    with pytest.raises(DomainError, match="tenancy_owned_by_other_association"):
        check_tenancy_ownership("bf-ballerup", "T-1-1", "bf-other")


@pytest.mark.parametrize(
    ("build", "field", "rule"),
    [
        (lambda: HousingAssociation("bf", "X", cvr="1234"), "cvr", "housing.cvr_invalid"),
        (lambda: HousingAssociation("bf", "X", cvr="1234567a"), "cvr", "housing.cvr_invalid"),
        (lambda: HousingAssociation(" ", "X"), "association_id", "housing.association_id_required"),
        (lambda: HousingAssociation("bf", ""), "name", "housing.association_name_required"),
        (
            lambda: HousingAssociation(
                "bf", "X", departments=(Department("1", "A"), Department("1", "B"))
            ),
            "departments",
            "housing.department_duplicated",
        ),
        (
            lambda: HousingAssociation(
                "bf",
                "X",
                departments=(
                    Department("1", "A", frozenset({"T"})),
                    Department("2", "B", frozenset({"T"})),
                ),
            ),
            "tenancy_ref",
            "housing.tenancy_in_two_departments",
        ),
        (
            lambda: PartnerRegistry([HousingAssociation("bf", "X"), HousingAssociation("bf", "Y")]),
            "association_id",
            "housing.association_duplicated",
        ),
        (
            lambda: PartnerRegistry(
                [
                    HousingAssociation(
                        "a", "A", departments=(Department("1", "A", frozenset({"T"})),)
                    ),
                    HousingAssociation(
                        "b", "B", departments=(Department("1", "B", frozenset({"T"})),)
                    ),
                ]
            ),
            "tenancy_ref",
            "housing.tenancy_owned_by_two_associations",
        ),
    ],
)
def test_bad_partner_data_is_refused(build: Any, field: str, rule: str) -> None:
    with pytest.raises(DomainError) as refused:
        build()
    assert (refused.value.field, refused.value.rule) == (field, rule)


def test_cvr_is_optional() -> None:
    assert HousingAssociation("bf", "Uden CVR").cvr is None


# ---------------------------------------------------------------------- allow-list

#: A value for every field any event has; a new event field fails here until added,
#: which is the moment to decide whether a partner may see it.
SAMPLE: dict[str, Any] = {
    "case_id": "case-1",
    "occurred_at": at(2025, 3, 19),
    "level": Level.ESCALATED_TO_ASSOCIATION,
    "next_deadline": Deadline(DeadlineKind.HOLD_EXPIRES, at(2025, 4, 17, 0)),
    "asks": (),
    "association_id": "bf-ballerup",
    "tenancy_ref": "T-1-1",
    "citizen_ref": SECRET_CITIZEN,
    "hold_until": D(2025, 4, 16),
    "source": ReportSource.ASSOCIATION,
    "amount_dkk": Decimal("31337.42"),
    "months_behind": 3,
    "pakrav_sent_on": D(2025, 3, 3),
    "pakrav_deadline": D(2025, 3, 20),
    "citizen_match_pending": True,
    "flag": Flag.PROCESSING_EXCEEDS_PAKRAV_DEADLINE,
    "reason": EscalationReason.HELP_REFUSED,
    "termination_on": D(2025, 3, 14),
    "eviction_date": D(2025, 4, 1),
    "paragraph": HelpParagraph.AKTIVLOVEN_81B,
    "months": 6,
    "closure": Closure.TENANCY_LOST,
    "deadline_kind": DeadlineKind.TERMINATION_RESPONSE,
    "answer": HoldAnswer.GRANTED,
    "granted_until": D(2025, 4, 30),
}


def sample_event(cls: type[HousingEvent], request: Request) -> HousingEvent:
    values = {f.name: SAMPLE[f.name] for f in dataclasses.fields(cls)}
    values["asks"] = (
        Ask(Addressee.ASSOCIATION, request),
        Ask(Addressee.TOVHOLDER, Request.MAKE_PLAN_OR_APPLY_FOR_HELP),
    )
    return cls(**values)


def assert_allowed(statement: dict[str, str], event: HousingEvent) -> None:
    """Keys within the allow-list; every value typed: no free text, no citizen."""
    assert statement.keys() <= PARTNER_FIELDS
    for key, value in statement.items():
        assert isinstance(value, str)
        if key == "status":
            assert value in PARTNER_STATUS
        elif key == "requested":
            assert value in PARTNER_REQUESTS
        elif key in {"occurred_on", "hold_until", "eviction_date"}:
            assert ISO_DATE.fullmatch(value)
            dt.date.fromisoformat(value)
        else:
            assert (
                value
                == {
                    "case_ref": event.case_id,
                    "association_id": event.association_id,
                    "tenancy_ref": event.tenancy_ref,
                }[key]
            )
    text = json.dumps(statement)
    for leak in (SECRET_CITIZEN, "31337", "citizen"):
        assert leak not in text


def test_every_event_type_is_classified_for_partners() -> None:
    # A new event must be given a partner status or declared internal: no default.
    types = set(all_event_types())
    assert set(STATUS_BY_EVENT) | INTERNAL_EVENTS == types
    assert not set(STATUS_BY_EVENT) & INTERNAL_EVENTS
    assert {s.value for s in STATUS_BY_EVENT.values()} <= PARTNER_STATUS


@pytest.mark.parametrize("cls", sorted(STATUS_BY_EVENT, key=str))
@pytest.mark.parametrize("request_", sorted(PARTNER_REQUESTS))
def test_every_partner_event_maps_to_allowed_fields_only(
    cls: type[HousingEvent], request_: str
) -> None:
    event = sample_event(cls, Request(request_))
    statement = partner_statement(event)
    assert statement is not None
    assert_allowed(statement, event)
    assert statement["status"] == STATUS_BY_EVENT[cls].value
    assert ("hold_until" in statement) == (request_ == Request.HOLD_TERMINATION)
    assert ("eviction_date" in statement) == (cls is EvictionDateSet)


@pytest.mark.parametrize("cls", sorted(INTERNAL_EVENTS, key=str))
def test_internal_events_are_never_stated_to_a_partner(cls: type[HousingEvent]) -> None:
    values = {f.name: SAMPLE[f.name] for f in dataclasses.fields(cls)}
    values["asks"] = (Ask(Addressee.FRONTEN, Request.FOR_INFORMATION),)
    assert partner_statement(cls(**values)) is None
    # Even if one were addressed to the association by mistake, no status is improvised.
    with pytest.raises(ValueError, match="no partner status"):
        partner_statement(sample_event(cls, Request.FOR_INFORMATION))


def test_a_request_not_meant_for_partners_is_refused() -> None:
    event = sample_event(CaseClosed, Request.MAKE_EMERGENCY_HOUSING_PLAN)
    with pytest.raises(ValueError, match="may not be asked"):
        partner_statement(event)


def test_occurred_on_is_the_local_date() -> None:
    values = {f.name: SAMPLE[f.name] for f in dataclasses.fields(CaseClosed)}
    values["occurred_at"] = dt.datetime(2025, 3, 31, 22, 30, tzinfo=dt.UTC)  # 00:30 in Ballerup
    values["asks"] = (Ask(Addressee.ASSOCIATION, Request.FOR_INFORMATION),)
    statement = partner_statement(CaseClosed(**values))
    assert statement is not None
    assert statement["occurred_on"] == "2025-04-01"


def full_history() -> list[HousingEvent]:
    """A real case through every rung and back, with every kind of event raised."""
    case = ArrearsCase.open(
        case_id="case-9",
        report=ArrearsReport(
            source=ReportSource.ASSOCIATION,
            association_id="bf-ballerup",
            tenancy_ref="T-1-1",
            match_request={"cpr": "0101901234"},
            amount_dkk=Decimal("31337.42"),
            months_behind=3,
            pakrav_sent_on=D(2025, 3, 3),
            pakrav_deadline=D(2025, 3, 10),
        ),
        now=at(2025, 3, 5),
        has_tovholder=False,
    )
    case.identify_citizen(SECRET_CITIZEN, at(2025, 3, 6), has_tovholder=True)
    case.update_from_report(
        ArrearsReport(
            source=ReportSource.ASSOCIATION,
            association_id="bf-ballerup",
            tenancy_ref="T-1-1",
            citizen_ref=SECRET_CITIZEN,
            amount_dkk=Decimal("35000"),
            months_behind=3,
        ),
        at(2025, 3, 7),
    )
    case.escalate_if_due(at(2025, 3, 11))  # outreach capped by the påkrav deadline
    case.apply_for_help(at(2025, 3, 12), HelpParagraph.AKTIVLOVEN_81A)
    case.refuse_help(at(2025, 3, 13))
    case.propose_payment_plan(at(2025, 3, 14))
    case.agree_payment_plan(at(2025, 3, 17))
    case.break_payment_plan(at(2025, 3, 18))
    case.register_termination(at(2025, 3, 19))
    case.escalate_if_due(at(2025, 3, 24))  # termination response overdue
    case.establish_contact(at(2025, 3, 24))  # the boligsocial team reaches the citizen
    case.set_eviction_date(at(2025, 3, 24), D(2025, 4, 1))
    case.record_emergency_housing_plan(at(2025, 3, 25))
    case.apply_for_help(at(2025, 3, 26), HelpParagraph.AKTIVLOVEN_81B)
    case.grant_help(at(2025, 3, 27), months=6)
    case.resolve_eviction(at(2025, 3, 28))
    case.withdraw_termination(at(2025, 3, 31))
    case.record_hold_granted(at(2025, 4, 1), D(2025, 4, 20), answered_at=at(2025, 4, 1))
    case.record_paid_by_association(at(2025, 4, 2), answered_at=at(2025, 4, 2))
    return case.pull_events()


def test_a_real_history_raises_every_event_and_each_is_safe_for_partners() -> None:
    events = full_history()
    assert {type(e) for e in events} == set(all_event_types())
    statements = partner_statements(events)
    assert statements
    for event in events:
        statement = partner_statement(event)
        if type(event) in INTERNAL_EVENTS:
            assert Addressee.ASSOCIATION not in event.addressees
            assert statement is None
        else:
            assert Addressee.ASSOCIATION in event.addressees
            assert statement is not None
            assert_allowed(statement, event)
    assert statements[-1]["status"] == "case_closed"
    assert {s["status"] for s in statements} >= {
        "report_received",
        "hold_termination_requested",
        "help_applied_for",
        "help_not_granted",
        "payment_plan_broken",
        "hold_eviction_requested",
        "postpone_eviction_requested",
        "help_granted",
        "case_closed",
    }


def test_a_case_without_association_states_nothing_to_partners() -> None:
    case = ArrearsCase.open(
        case_id="case-2",
        report=ArrearsReport(source=ReportSource.FRONTEN, citizen_ref=SECRET_CITIZEN),
        now=at(2025, 3, 5),
        has_tovholder=True,
    )
    case.register_termination(at(2025, 3, 6))
    assert partner_statements(case.pull_events()) == []
