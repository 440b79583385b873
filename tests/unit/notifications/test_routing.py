"""Routing: who is told about an event, each recipient once; and what partners and
people receive (content), from the real contracts' examples."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from contracts import registry
from contracts.vocabulary import PartnerKind
from services.common.errors import DomainError
from services.notifications import content, ical
from services.notifications.gate import DeliveryChannel, RecipientKind, routing_rule
from services.notifications.routing import PartnerSubscription, plan_deliveries

NOW = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
FRONTEN = "ss-front@balk.dk"


def event(type_: str, **changes: object):
    example = dict(registry.contract(type_).example) | changes
    wire = registry.build(type_, _native(type_, example), producer=type_.split(".")[0],
                          correlation_id="c", occurred_at=NOW)
    return wire, registry.load_payload(wire)


def _native(type_: str, example: dict) -> dict:
    # registry.build wants Python values for dates; the examples are wire strings.
    schema = registry.contract(type_).schema()
    return schema.load(example)


def rule(event_type: str, kind: str, channel: str = "email"):
    return routing_rule(event_type, kind, channel, "meeting_schedule", "p")


def sub(partner_id: str, kind: PartnerKind, channel: str, *types: str) -> PartnerSubscription:
    return PartnerSubscription(1, partner_id, kind, DeliveryChannel(channel), frozenset(types))


def test_a_meeting_goes_to_each_staff_address_once_and_to_the_citizen_by_reference():
    _, payload = event("coordination.meeting_scheduled")
    payload["participants"].append(dict(payload["participants"][0], participant_id="dup",
                                        email="METTE@balk.dk"))
    rules = [rule("coordination.meeting_scheduled", "team_members"),
             rule("coordination.meeting_scheduled", "tovholder"),
             rule("coordination.meeting_scheduled", "citizen")]

    planned = plan_deliveries("coordination.meeting_scheduled", payload, rules, [],
                              tovholder_email=None, fronten_email=FRONTEN)

    assert [(p.recipient_kind.value, p.recipient) for p in planned] == [
        ("team_members", "mette@balk.dk"),
        ("team_members", "lars@skole.dk"),
        ("citizen", f"citizen:{payload['citizen_ref']}"),
    ]
    assert not any(p.needs_gate for p in planned)


def test_a_partner_status_goes_only_to_the_association_it_is_about():
    _, payload = event("housing.partner_status")
    rules = [routing_rule("housing.partner_status", "housing_association", "webhook",
                          "housing_case_status", "p")]
    subs = [sub("kab-ballerup", PartnerKind.HOUSING, "webhook", "housing.partner_status"),
            sub("other", PartnerKind.HOUSING, "webhook", "housing.partner_status"),
            sub("kab-ballerup", PartnerKind.HOUSING, "partner_queue", "housing.partner_status")]

    planned = plan_deliveries("housing.partner_status", payload, rules, subs,
                              tovholder_email=None, fronten_email=FRONTEN)

    assert [(p.recipient, p.channel.value, p.needs_gate) for p in planned] == [
        ("partner:kab-ballerup", "webhook", True)
    ]
    assert planned[0].partner_id == "kab-ballerup"


def test_escalations_follow_the_asks_and_fall_back_to_fronten():
    _, payload = event("housing.case_escalated")  # asks: association and tovholder
    rules = [rule("housing.case_escalated", "tovholder"),
             rule("housing.case_escalated", "fronten")]

    known = plan_deliveries("housing.case_escalated", payload, rules, [],
                            tovholder_email="Ulla@balk.dk", fronten_email=FRONTEN)
    unknown = plan_deliveries("housing.case_escalated", payload, rules, [],
                              tovholder_email=None, fronten_email=FRONTEN)

    assert [(p.recipient_kind.value, p.recipient) for p in known] == [
        ("tovholder", "ulla@balk.dk")]
    assert [(p.recipient_kind.value, p.recipient) for p in unknown] == [("fronten", FRONTEN)]


def test_partner_body_is_the_allow_list_only():
    wire, _ = event("intake.bridging_due")

    body = json.loads(content.partner_body(wire))

    assert set(body) == {"type", "message_id", "occurred_at", "course_ref", "partner_kind",
                         "due_on", "planned_end"}
    assert "citizen_ref" not in body
    with pytest.raises(DomainError, match=r"partner\.no_message_schema"):
        content.partner_body(event("housing.case_escalated")[0])


@pytest.mark.parametrize(
    "event_type, method, sequence",
    [("coordination.meeting_scheduled", "REQUEST", 0),
     ("coordination.meeting_rescheduled", "REQUEST", 1),
     ("coordination.meeting_cancelled", "CANCEL", 2)],
)
def test_meeting_mails_carry_the_invitation_for_the_change(event_type, method, sequence):
    _, payload = event(event_type)

    email = content.compose_email(event_type, RecipientKind.CITIZEN, payload,
                                  to="vincent@example.dk", now=NOW, fronten_email=FRONTEN)

    assert email.invitation is not None
    assert (email.invitation.method, email.invitation.sequence) == (method, sequence)
    assert email.invitation.uid == ical.meeting_uid(str(payload["meeting_id"]))
    assert b"mailto:vincent@example.dk" in email.invitation.ics
    assert b"lars@skole.dk" not in email.invitation.ics  # the citizen sees only itself
    assert b"LOCATION:Hjemme hos dig" in email.invitation.ics


def test_every_routable_event_has_text_data_that_renders():
    for type_, kind in [("coordination.tovholder_handed_over", RecipientKind.CITIZEN),
                        ("coordination.action_due", RecipientKind.TEAM_MEMBERS),
                        ("housing.case_escalated", RecipientKind.FRONTEN),
                        ("housing.partner_status", RecipientKind.HOUSING_ASSOCIATION),
                        ("intake.bridging_due", RecipientKind.JOBCENTER)]:
        _, payload = event(type_)
        message = content.render_text(type_, kind, payload)
        assert message.subject and "$" not in message.text
    _, payload = event("coordination.tovholder_handed_over", new_tovholder_email=None)
    text = content.render_text("coordination.tovholder_handed_over", RecipientKind.CITIZEN,
                               payload).text
    assert "Fronten, telefon 44 77 34 43" in text
    assert uuid.UUID(str(payload["pathway_id"]))
