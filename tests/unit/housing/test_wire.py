"""From ladder events to housing's messages; settings; the RPC amount field; the intake
matcher. Pure: no broker, no database."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import eventlet
import pytest
from marshmallow import ValidationError
from nameko.exceptions import RemoteError, UnknownService

from contracts import registry
from contracts.housing import ReportArrearsArgs
from services.common.errors import DomainError
from services.housing.intake_client import MATCH_PURPOSE, IntakeMatcher
from services.housing.ladder import (
    ArrearsCase,
    ArrearsReport,
    HelpParagraph,
    LadderSettings,
    Level,
    ReportSource,
)
from services.housing.rent import RentSettings
from services.housing.settings import ladder_settings
from services.housing.wire import Outgoing, outgoing_messages

CPH = ZoneInfo("Europe/Copenhagen")
NOW = dt.datetime(2025, 3, 5, 10, 0, tzinfo=CPH)
CITIZEN = str(uuid.UUID(int=42))


def new_case(has_tovholder: bool = True, **changes: Any) -> ArrearsCase:
    values: dict[str, Any] = {
        "source": ReportSource.ASSOCIATION, "association_id": "bf-ballerup",
        "tenancy_ref": "T-1", "citizen_ref": CITIZEN, "amount_dkk": Decimal("9000"),
        "months_behind": 1, "pakrav_sent_on": dt.date(2025, 3, 3),
        "pakrav_deadline": dt.date(2025, 4, 15),
    }
    values.update(changes)
    return ArrearsCase.open(case_id=str(uuid.uuid4()), report=ArrearsReport(**values),
                            now=NOW, has_tovholder=has_tovholder)


def valid(messages: list[Outgoing]) -> list[Outgoing]:
    """Each message passes the producer's strict contract check, as uow.add_event does."""
    for message in messages:
        registry.build(message.type, message.payload, producer="housing",
                       correlation_id=message.correlation_id, occurred_at=NOW)
    return messages


def types(messages: list[Outgoing]) -> list[str]:
    return [m.type for m in messages]


def test_opening_announces_the_case_and_the_outreach_due_step():
    case = new_case()
    messages = valid(outgoing_messages(case.pull_events(), None))
    assert types(messages) == [
        "housing.case_opened", "housing.partner_status",
        "housing.case_escalated", "housing.partner_status",
    ]
    escalated = messages[2].payload
    assert (escalated["previous_level"].value, escalated["level"].value) == (
        "reported", "outreach_due")
    assert [(a["addressee"].value, a["request"].value) for a in escalated["asks"]] == [
        ("association", "for_information"), ("tovholder", "contact_citizen")]
    assert escalated["next_deadline"] == dt.datetime(2025, 3, 19, 9, 0, tzinfo=dt.UTC)
    assert all(m.correlation_id == case.case_id for m in messages)


def test_only_level_changes_are_sent_and_a_deescalation_has_its_own_type():
    case = new_case(has_tovholder=False)
    case.pull_events()
    case.propose_payment_plan(NOW)  # level stands: the association hears, no escalation
    assert types(outgoing_messages(case.pull_events(), Level.OUTREACH_DUE)) == [
        "housing.partner_status"]
    case.agree_payment_plan(NOW)
    messages = valid(outgoing_messages(case.pull_events(), Level.OUTREACH_DUE))
    assert "housing.case_escalated" not in types(messages)  # only a move up is escalated
    down = next(m.payload for m in messages if m.type == "housing.case_deescalated")
    assert (down["previous_level"].value, down["level"].value) == ("outreach_due", "reported")
    assert {a["addressee"].value for a in down["asks"]} == {"association", "fronten"}


def test_every_move_down_the_ladder_is_deescalated_and_every_move_up_escalated():
    case = new_case(has_tovholder=True)
    case.pull_events()
    level = case.level
    directions: list[tuple[str, str, str]] = []

    def step(command: Any) -> None:
        nonlocal level
        command()
        for message in valid(outgoing_messages(case.pull_events(), level)):
            if message.type in ("housing.case_escalated", "housing.case_deescalated"):
                payload = message.payload
                directions.append((message.type, payload["previous_level"].value,
                                   payload["level"].value))
        level = case.level

    later = NOW + dt.timedelta(days=1)
    step(lambda: case.register_termination(later))
    step(lambda: case.set_eviction_date(later, dt.date(2025, 4, 30)))
    step(lambda: case.resolve_eviction(later))
    step(lambda: case.withdraw_termination(later))
    step(lambda: case.establish_contact(later))
    assert directions == [
        ("housing.case_escalated", "outreach_due", "termination_urgent"),
        ("housing.case_escalated", "termination_urgent", "eviction_emergency"),
        ("housing.case_deescalated", "eviction_emergency", "termination_urgent"),
        # The ophævelse withdrawn: back to the rung whose cause still stands.
        ("housing.case_deescalated", "termination_urgent", "outreach_due"),
        ("housing.case_deescalated", "outreach_due", "reported"),
    ]


def test_the_associations_hold_answers_are_internal_and_send_no_message():
    case = new_case(pakrav_deadline=dt.date(2025, 3, 10))
    case.pull_events()
    case.escalate_if_due(dt.datetime(2025, 3, 11, 9, 0, tzinfo=CPH))
    escalated = valid(outgoing_messages(case.pull_events(), Level.OUTREACH_DUE))
    up = next(m.payload for m in escalated if m.type == "housing.case_escalated")
    # The request to hold names its day (partners makes the hand-off from it).
    assert (up["level"].value, up["hold_until"]) == ("escalated_to_association",
                                                     dt.date(2025, 4, 8))
    case.record_hold_granted(NOW + dt.timedelta(days=7), dt.date(2025, 4, 1),
                             answered_at=NOW + dt.timedelta(days=7))
    assert outgoing_messages(case.pull_events(), case.level) == []
    case.record_hold_refused(NOW + dt.timedelta(days=8), answered_at=NOW + dt.timedelta(days=8))
    # Refused: the tovholder is asked at once to make a plan (an overdue hold).
    messages = valid(outgoing_messages(case.pull_events(), case.level))
    assert types(messages) == ["housing.action_overdue"]
    assert messages[0].payload["deadline_kind"] == "hold_expires"


def test_warnings_carry_the_pakrav_deadline_and_overdue_actions_are_internal():
    case = new_case(pakrav_deadline=dt.date(2025, 3, 20))  # help would come too late
    messages = valid(outgoing_messages(case.pull_events(), None,
                                       pakrav_deadline=case.pakrav_deadline))
    flagged = [m.payload for m in messages if m.type == "housing.warning_flagged"]
    assert [f["flag"] for f in flagged] == ["processing_exceeds_pakrav_deadline"]
    assert flagged[0]["pakrav_deadline"] == dt.date(2025, 3, 20)

    case.apply_for_help(NOW, HelpParagraph.AKTIVLOVEN_81A)
    case.pull_events()
    case.escalate_if_due(NOW + dt.timedelta(days=60))
    messages = valid(outgoing_messages(case.pull_events(), case.level))
    overdue = [m.payload for m in messages if m.type == "housing.action_overdue"]
    assert [o["deadline_kind"] for o in overdue] == ["help_decision"]
    assert [a["addressee"].value for a in overdue[0]["asks"]] == ["tovholder"]


def test_a_case_without_association_still_reaches_fronten():
    case = ArrearsCase.open(
        case_id=str(uuid.uuid4()), now=NOW, has_tovholder=False,
        report=ArrearsReport(source=ReportSource.FRONTEN, citizen_ref=CITIZEN),
    )
    case.register_termination(NOW)
    messages = valid(outgoing_messages(case.pull_events(), None))
    assert "housing.partner_status" not in types(messages)
    escalated = next(m.payload for m in messages if m.type == "housing.case_escalated")
    assert escalated["association_id"] == ""  # case_escalated v1 has no null here
    assert [a["addressee"].value for a in escalated["asks"]] == ["fronten"]
    with pytest.raises(DomainError):  # closing needs the ophævelse withdrawn first
        case.record_paid_in_full(NOW)
    case.withdraw_termination(NOW)
    case.record_paid_in_full(NOW)
    closed = valid(outgoing_messages(case.pull_events(), Level.TERMINATION_URGENT))
    assert types(closed)[-1] == "housing.case_closed"


def test_settings_come_from_config_with_the_legal_defaults():
    assert ladder_settings({}) == LadderSettings()
    custom = ladder_settings({"HOUSING_LADDER": {
        "outreach_days": 7, "expected_processing_days": 35,
        "rent": {"on_time_working_days": 3, "max_amount_dkk": 500000}}})
    assert custom.outreach_days == 7 and custom.expected_processing_days == 35
    assert custom.rent == RentSettings(max_amount_dkk=Decimal("500000"))
    with pytest.raises(ValueError, match="outreach_dayz"):
        ladder_settings({"HOUSING_LADDER": {"outreach_dayz": 7}})
    with pytest.raises(ValueError, match="at least 1"):
        ladder_settings({"HOUSING_LADDER": {"outreach_days": 0}})


@pytest.mark.parametrize("amount", ["12500.50", 12500, "0.01"])
def test_amounts_are_loaded_as_decimals(amount):
    loaded = ReportArrearsArgs().load({"actor": "staff:a", "amount_dkk": amount})
    assert loaded["amount_dkk"] == Decimal(str(amount))


@pytest.mark.parametrize("amount", [12.5, True, "tolv", "NaN", [1]])
def test_floats_and_non_numbers_are_refused_by_the_schema(amount):
    with pytest.raises(ValidationError) as err:
        ReportArrearsArgs().load({"actor": "staff:a", "amount_dkk": amount})
    assert "amount_dkk" in err.value.messages


class FakeIntake:
    def __init__(self, result: Any = None, error: Exception | None = None) -> None:
        self.result, self.error, self.calls = result, error, []

    def match_citizen(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if self.error:
            raise self.error
        return self.result


def test_matcher_asks_intake_with_purpose_and_iso_birth_date():
    intake = FakeIntake({"citizen_ref": CITIZEN})
    found = IntakeMatcher(intake)(actor="partner:x", cpr="0101901234", name=None,
                                  birth_date=dt.date(1990, 1, 1))
    assert found == CITIZEN
    assert intake.calls == [{"actor": "service:housing", "purpose": MATCH_PURPOSE,
                             "cpr": "0101901234", "name": None, "birth_date": "1990-01-01"}]
    assert IntakeMatcher(FakeIntake({"citizen_ref": None}))(actor="a", cpr="0101901234") is None


def test_matcher_refuses_data_intake_refuses_and_survives_intake_failing():
    refused = RemoteError("InvalidInput", '{"errors": [{"field": "cpr", "rule": "cpr.invalid",'
                                          ' "message": "Not a CPR number."}]}')
    with pytest.raises(DomainError) as err:
        IntakeMatcher(FakeIntake(error=refused))(actor="a", cpr="0101901234")
    assert (err.value.field, err.value.rule) == ("match", "housing.match_data_refused")
    assert "0101901234" not in str(err.value)
    broken = IntakeMatcher(FakeIntake(error=RemoteError("RuntimeError", "boom")))
    assert broken(actor="a", cpr="0101901234") is None
    assert IntakeMatcher(FakeIntake(error=UnknownService("intake")))(actor="a") is None


def test_the_deployed_config_holds_the_legal_defaults():
    from services.cli import ROOT, load_config

    config = load_config(ROOT / "deploy" / "config" / "housing.yaml")
    assert ladder_settings(config) == LadderSettings()
    assert float(config["HOUSING_SWEEP_SECONDS"]) > 0


@pytest.mark.parametrize("match", [{"name": "Lejer"}, {"birth_date": "1990-01-01"}, {}])
def test_match_data_must_be_enough_for_intake_to_search(match):
    with pytest.raises(ValidationError) as err:
        ReportArrearsArgs().load({"actor": "staff:a", "match": match})
    assert "cpr" in err.value.messages["match"]


class HungIntake:
    """An intake that takes its time: the RPC's reply never comes in time."""

    def __init__(self) -> None:
        self.calls = 0

    def match_citizen(self, **kwargs: Any) -> Any:
        self.calls += 1
        eventlet.sleep(30)
        return {"citizen_ref": CITIZEN}


def test_a_hung_intake_is_given_up_on_after_the_timeout_and_the_case_opens_unidentified():
    matcher = IntakeMatcher(HungIntake(), timeout=0.05)
    started = time.monotonic()
    assert matcher(actor="partner:x", cpr="0101901234") is None
    assert time.monotonic() - started < 10  # not the 30 s intake would have taken
    assert IntakeMatcher(FakeIntake({"citizen_ref": CITIZEN}), timeout=0.05)(
        actor="a", cpr="0101901234") == CITIZEN


def test_a_timeout_that_is_not_the_matchers_own_is_not_swallowed():
    class Outer(FakeIntake):
        def match_citizen(self, **kwargs: Any) -> Any:
            raise eventlet.Timeout(None)  # e.g. the worker's own deadline, raised inside

    with pytest.raises(eventlet.Timeout):
        IntakeMatcher(Outer(), timeout=5)(actor="a", cpr="0101901234")
