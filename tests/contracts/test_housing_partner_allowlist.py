"""The partner allow-list: what a housing association may ever receive from housing.

Every housing.partner_status message the service can produce (built by the same code
the service uses, `services.housing.wire`, from the ladder's events) validates against
contracts.housing.PartnerStatusV1 and the released JSON Schema, and carries no key
outside the domain's PARTNER_FIELDS. The released schema itself admits no other field,
no citizen reference, no amount and no free text.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import generate, registry
from contracts.housing import PartnerStatusV1
from contracts.vocabulary import PartnerStatus
from services.common.errors import DomainError
from services.housing.ladder import (
    ArrearsCase,
    ArrearsReport,
    Closure,
    HelpParagraph,
    HousingEvent,
    ReportSource,
)
from services.housing.partners import PARTNER_FIELDS
from services.housing.wire import outgoing_messages

CPH = ZoneInfo("Europe/Copenhagen")
CITIZEN = "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80"
SNAPSHOT = json.loads(
    generate.snapshot_path(registry.contract("housing.partner_status", 1)).read_text()
)
START = dt.datetime(2025, 3, 5, 10, 0, tzinfo=CPH)


def association_report(**changes: Any) -> ArrearsReport:
    values: dict[str, Any] = {
        "source": ReportSource.ASSOCIATION, "association_id": "bf-ballerup",
        "tenancy_ref": "T-100-7", "citizen_ref": CITIZEN, "amount_dkk": Decimal("12500.00"),
        "months_behind": 2, "pakrav_sent_on": dt.date(2025, 3, 3),
        "pakrav_deadline": dt.date(2025, 3, 20),
    }
    values.update(changes)
    return ArrearsReport(**values)


def partner_messages(events: list[HousingEvent]) -> list[dict[str, Any]]:
    return [m.payload for m in outgoing_messages(events, None)
            if m.type == "housing.partner_status"]


def assert_allowed(payload: dict[str, Any]) -> None:
    assert set(payload) <= PARTNER_FIELDS
    envelope = registry.build("housing.partner_status", payload, producer="housing",
                              correlation_id=str(payload["case_ref"]), occurred_at=START)
    jsonschema.validate(envelope.payload, SNAPSHOT)
    assert PartnerStatusV1().validate(envelope.payload) == {}
    assert set(envelope.payload) <= PARTNER_FIELDS
    assert CITIZEN not in json.dumps(envelope.payload)


def full_ladder(has_tovholder: bool) -> list[HousingEvent]:
    """Every rung up and down, every help decision, and the closing."""
    now = START
    case = ArrearsCase.open(case_id=str(uuid.uuid4()), report=association_report(), now=now,
                            has_tovholder=has_tovholder)

    def step(days: int = 1) -> dt.datetime:
        nonlocal now
        now += dt.timedelta(days=days)
        return now

    case.update_from_report(association_report(amount_dkk=Decimal("15000")), step())
    case.establish_contact(step())
    case.propose_payment_plan(step())
    case.agree_payment_plan(step())
    case.break_payment_plan(step())
    case.apply_for_help(step(), HelpParagraph.AKTIVLOVEN_81A)
    case.refuse_help(step())
    case.apply_for_help(step(), HelpParagraph.AKTIVLOVEN_81B)
    case.escalate_if_due(step(40))  # the decision is overdue: an internal reminder
    case.grant_help(step(), months=3)
    case.register_termination(step(), now.date())
    case.escalate_if_due(step(5))
    case.set_eviction_date(step(), now.date() + dt.timedelta(days=30))
    case.record_emergency_housing_plan(step())
    case.resolve_eviction(step())
    case.withdraw_termination(step())
    case.record_paid_in_full(step())
    return case.pull_events()


def court_to_lost() -> list[HousingEvent]:
    case = ArrearsCase.open(
        case_id=str(uuid.uuid4()), now=START, has_tovholder=False,
        report=ArrearsReport(source=ReportSource.FOGEDRET, association_id="bf-ballerup",
                             tenancy_ref=None, citizen_ref=CITIZEN,
                             eviction_date=dt.date(2025, 4, 1)),
    )
    case.escalate_if_due(START + dt.timedelta(days=30))
    case.close(START + dt.timedelta(days=31), Closure.TENANCY_LOST)
    return case.pull_events()


@pytest.mark.parametrize("has_tovholder", [True, False])
def test_every_status_the_service_can_send_is_on_the_allow_list(has_tovholder):
    payloads = partner_messages(full_ladder(has_tovholder)) + partner_messages(court_to_lost())
    for payload in payloads:
        assert_allowed(payload)
    # The scenarios reach every status of the contract: none is untested.
    assert {p["status"] for p in payloads} == set(PartnerStatus)
    postpone = PartnerStatus.POSTPONE_EVICTION_REQUESTED
    with_eviction = [p for p in payloads if p["status"] is postpone]
    assert all(p["eviction_date"] is not None for p in with_eviction)


def test_a_case_without_an_association_sends_the_partner_nothing():
    case = ArrearsCase.open(
        case_id=str(uuid.uuid4()), now=START, has_tovholder=True,
        report=ArrearsReport(source=ReportSource.FRONTEN, citizen_ref=CITIZEN),
    )
    case.register_termination(START + dt.timedelta(days=1))
    assert partner_messages(case.pull_events()) == []


COMMANDS = st.sampled_from([
    "contact", "propose", "agree", "break", "apply_81a", "apply_81b", "grant", "refuse",
    "terminate", "evict", "emergency", "resolve", "withdraw", "paid", "lost", "sweep",
    "report",
])


def run(case: ArrearsCase, command: str, now: dt.datetime) -> None:
    actions = {
        "contact": lambda: case.establish_contact(now),
        "propose": lambda: case.propose_payment_plan(now),
        "agree": lambda: case.agree_payment_plan(now),
        "break": lambda: case.break_payment_plan(now),
        "apply_81a": lambda: case.apply_for_help(now, HelpParagraph.AKTIVLOVEN_81A),
        "apply_81b": lambda: case.apply_for_help(now, HelpParagraph.AKTIVLOVEN_81B),
        "grant": lambda: case.grant_help(
            now, months=3 if case.help_paragraph is HelpParagraph.AKTIVLOVEN_81B else None),
        "refuse": lambda: case.refuse_help(now),
        "terminate": lambda: case.register_termination(now),
        "evict": lambda: case.set_eviction_date(now, now.date() + dt.timedelta(days=20)),
        "emergency": lambda: case.record_emergency_housing_plan(now),
        "resolve": lambda: case.resolve_eviction(now),
        "withdraw": lambda: case.withdraw_termination(now),
        "paid": lambda: case.record_paid_in_full(now),
        "lost": lambda: case.close(now, Closure.TENANCY_LOST),
        "sweep": lambda: case.escalate_if_due(now),
        "report": lambda: case.update_from_report(
            association_report(pakrav_sent_on=None, pakrav_deadline=None), now),
    }
    with contextlib.suppress(DomainError):  # a refused command changes and sends nothing
        actions[command]()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    history=st.lists(st.tuples(COMMANDS, st.integers(min_value=0, max_value=20)), max_size=25),
    has_tovholder=st.booleans(),
)
def test_random_histories_only_ever_send_allowed_statements(history, has_tovholder):
    now = START
    case = ArrearsCase.open(case_id=str(uuid.uuid4()), report=association_report(), now=now,
                            has_tovholder=has_tovholder)
    for command, days in history:
        now += dt.timedelta(days=days)
        run(case, command, now)
    for payload in partner_messages(case.pull_events()):
        assert_allowed(payload)


def test_released_schema_admits_only_the_allow_list():
    assert SNAPSHOT["additionalProperties"] is False
    assert SNAPSHOT["type"] == "object"
    properties = SNAPSHOT["properties"]
    assert set(properties) == PARTNER_FIELDS
    assert set(PartnerStatusV1().fields) == PARTNER_FIELDS
    forbidden = {"citizen_ref", "cpr", "name", "amount", "amount_dkk", "months_behind",
                 "note", "notes", "reason", "comment", "text", "description", "message"}
    assert not forbidden & set(properties)
    references = {"association_id", "tenancy_ref"}  # the association's own identifiers
    for name, spec in properties.items():
        typed = "enum" in spec or spec.get("format") in {"date", "uuid"}
        assert typed or name in references, f"{name} could carry free text"


def test_the_released_schema_refuses_a_citizen_ref_or_an_amount():
    example = registry.contract("housing.partner_status", 1).example
    for extra in ({"citizen_ref": CITIZEN}, {"amount_dkk": "12500.00"}, {"note": "syg"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**example, **extra}, SNAPSHOT)


def test_what_an_association_reads_of_its_cases_admits_no_tenant_amount_or_free_text():
    """`get_case` and `association_cases` answer a housing association with the fields
    of PartnerCaseView only: references, typed codes and dates."""
    from contracts.housing import PARTNER_CASE_FIELDS, PartnerCaseView

    fields_ = PartnerCaseView().fields
    assert tuple(fields_) == PARTNER_CASE_FIELDS
    forbidden = {"citizen_ref", "cpr", "name", "amount", "amount_dkk", "months_behind",
                 "note", "notes", "reason", "comment", "text", "description", "message",
                 "flags", "deadlines", "has_tovholder", "citizen_identified"}
    assert not forbidden & set(fields_)
    free_text = [name for name, field in fields_.items()
                 if type(field).__name__ == "String" and not field.validate
                 and name not in {"association_id", "tenancy_ref"}]
    assert free_text == []
