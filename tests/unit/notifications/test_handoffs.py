"""Hand-offs: to every subscription of the partner they name (or its directory contact by
e-mail), through the gate of their kind; § 85 referrals to Social Vejledning's mailbox;
what the partner reads is Danish beside every code, and minimal. From the real
contracts' examples (contracts/partners.py)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from contracts import registry
from contracts.notifications import HandoffRequestedMessageV1, HandoffUpdatedMessageV1
from contracts.vocabulary import HandoffKind, HandoffState, PartnerKind
from services.notifications import content, handoffs
from services.notifications.gate import DeliveryChannel, RecipientKind
from services.notifications.mailboxes import Mailboxes
from services.notifications.routing import PartnerSubscription, plan_deliveries

NOW = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)
MAILBOXES = Mailboxes()


def event(type_: str, **changes: object):
    example = dict(registry.contract(type_).example) | changes
    native = registry.contract(type_).schema().load(example)
    wire = registry.build(type_, native, producer="partners", correlation_id="c",
                          occurred_at=NOW)
    return wire, registry.load_payload(wire)


def sub(id_: int, partner: str, channel: str, *types: str,
        kind: PartnerKind | None = PartnerKind.EMPLOYMENT) -> PartnerSubscription:
    return PartnerSubscription(id_, partner, kind, DeliveryChannel(channel), frozenset(types))


SUBS = [
    sub(1, "jobcenter-ballerup", "webhook", "intake.bridging_due"),
    sub(2, "jobcenter-ballerup", "webhook", "partners.handoff_requested"),
    sub(3, "jobcenter-ballerup", "partner_queue", "housing.partner_status"),
    sub(4, "jobcenter-vest", "webhook", "partners.handoff_requested"),
]


def test_a_hand_off_goes_on_every_subscription_of_its_partner_and_no_other():
    _, payload = event("partners.handoff_requested")  # to jobcenter-ballerup

    planned = handoffs.plan_request(payload, SUBS, mailboxes=MAILBOXES)

    assert [(p.recipient, p.channel.value, p.subscription_id) for p in planned] == [
        ("partner:jobcenter-ballerup", "webhook", 1),
        ("partner:jobcenter-ballerup", "webhook", 2),
        ("partner:jobcenter-ballerup", "partner_queue", 3),
    ]
    assert {(p.recipient_kind, p.needs_gate, p.information_kind, p.purpose)
            for p in planned} == {
        (RecipientKind.PARTNER, True, "bridging_status", "bridging_employment")}
    assert len({p.key for p in planned}) == 3  # three ledger rows, not one


def test_a_partner_without_subscriptions_gets_an_email_to_its_directory_contact():
    _, payload = event("partners.handoff_requested", partner_id="frivilligcenter",
                       kind="offer_referral", subject_type="pathway")

    [planned] = handoffs.plan_request(payload, SUBS, mailboxes=MAILBOXES)

    assert (planned.recipient_kind, planned.recipient, planned.channel) == (
        RecipientKind.PARTNER, "partner:frivilligcenter", DeliveryChannel.EMAIL)
    assert (planned.information_kind, planned.purpose, planned.needs_gate) == (
        "contact_status", "offer_referral", True)
    assert planned.subscription_id is None


def test_a_section_85_referral_goes_to_social_vejledning_s_mailbox_without_a_gate():
    _, payload = event("partners.handoff_requested", partner_id="social-vejledning",
                       kind="referral_85")

    [planned] = handoffs.plan_request(payload, [sub(9, "social-vejledning", "webhook",
                                                    "partners.handoff_requested")],
                                      mailboxes=Mailboxes(social_vejledning="sv@test.dk"))

    assert (planned.recipient_kind, planned.recipient, planned.needs_gate) == (
        RecipientKind.SOCIAL_VEJLEDNING, "sv@test.dk", False)


@pytest.mark.parametrize("kind, information_kind, purpose", [
    ("bridging_employment", "bridging_status", "bridging_employment"),
    ("bridging_education", "bridging_status", "bridging_education"),
    ("bridging_health", "bridging_status", "bridging_health"),
    ("offer_referral", "contact_status", "offer_referral"),
    ("hold_termination", "housing_case_status", "keep_home"),
])
def test_each_kind_asks_the_gate_for_its_own_consent_purpose(kind, information_kind, purpose):
    gate = handoffs.gate_of(kind)
    assert gate is not None
    assert (gate.information_kind, gate.purpose.value) == (information_kind, purpose)
    assert set(handoffs.GATES) == set(HandoffKind)  # every kind decided, none forgotten


def test_the_partner_s_message_is_danish_beside_every_code_and_names_no_citizen():
    wire, payload = event("partners.handoff_requested")

    body = json.loads(content.partner_body(wire))

    assert HandoffRequestedMessageV1().validate(body) == {}
    assert set(body) == set(HandoffRequestedMessageV1().fields)
    assert "citizen_ref" not in json.dumps(body)
    assert str(payload["citizen_ref"]) not in json.dumps(body)
    assert (body["kind"], body["kind_text"]) == (
        "bridging_employment", "Brobygning til beskæftigelse")
    assert (body["state"], body["state_text"]) == ("requested", "Sendt, venter på jeres svar")
    assert (body["subject_type"], body["subject_type_text"], body["subject_ref"]) == (
        "course", "Forløb i Fronten", str(payload["subject_id"]))
    assert (body["answer_by"], body["answer_by_text"]) == ("2025-03-10", "10. marts 2025")
    assert body["contact"] == {"name": "Anne Andersen", "email": "anne@balk.dk",
                               "phone": "44 77 34 43"}
    assert body["details"] == [
        {"code": "due_on", "label": "Brobygningen begynder senest", "value": "2025-04-09",
         "value_text": "9. april 2025"},
        {"code": "planned_end", "label": "Forløbet i Fronten slutter efter planen",
         "value": "2025-06-09", "value_text": "9. juni 2025"},
    ]
    assert body["answer"]["http_path"] == f"/api/handoffs/{payload['handoff_id']}/answers"
    assert (body["answer"]["queue_exchange"], body["answer"]["queue_routing_key"]) == (
        "partners.answers", "jobcenter-ballerup")
    assert [s["state"] for s in body["answer"]["next_states"]] == [
        "received", "accepted", "declined"]
    assert body["title"] == "Brobygning til beskæftigelse"
    assert "Kontaktperson i kommunen: Anne Andersen, telefon 44 77 34 43" in body["text"]
    assert "Vi beder om jeres svar senest 10. marts 2025" in body["text"]


def test_details_are_an_allow_list_of_dates_and_references():
    shown = handoffs.details({
        "hold_until_requested": dt.date(2025, 4, 1), "tenancy_ref": "12-0304-2",
        "case_ref": uuid.UUID("e3f4a5b6-c7d8-4e9f-8a0b-1c2d3e4f5a6b"),
        # What a producer must never send, and what never leaves if it did:
        "planned_end": "borgeren har det svært", "diagnosis": "X", "referred_on": None,
    })

    assert [(d["code"], d["value"]) for d in shown] == [
        ("case_ref", "e3f4a5b6-c7d8-4e9f-8a0b-1c2d3e4f5a6b"),
        ("tenancy_ref", "12-0304-2"),
        ("hold_until_requested", "2025-04-01"),
    ]
    assert handoffs.details_text({}) == "Der er ingen yderligere oplysninger."


def test_an_update_repeats_no_free_text_and_says_the_outcome_in_danish():
    wire, _ = event("partners.handoff_updated", state="completed",
                          previous_state="in_progress", reason="Borgeren er syg",
                          outcome="enrolled")

    body = json.loads(content.partner_body(wire))

    assert HandoffUpdatedMessageV1().validate(body) == {}
    assert "Borgeren er syg" not in json.dumps(body, ensure_ascii=False)
    assert (body["state"], body["state_text"], body["previous_state_text"]) == (
        "completed", "Afsluttet", "I gang")
    assert (body["outcome"], body["outcome_text"]) == ("enrolled", "Borgeren er optaget")
    assert body["answer"]["next_states"] == []
    assert handoffs.outcome_text("something_new") == handoffs.OTHER_OUTCOME


def test_updates_go_where_the_request_went_by_mail_only_a_cancellation():
    _, accepted = event("partners.handoff_updated", state="accepted",
                        previous_state="requested", reason=None)
    _, cancelled = event("partners.handoff_updated", state="cancelled",
                         previous_state="accepted", reason=None)
    told = [
        handoffs.Told(RecipientKind.PARTNER, "partner:jobcenter-ballerup",
                      DeliveryChannel.WEBHOOK, 1, "bridging_status", "bridging_employment"),
        handoffs.Told(RecipientKind.PARTNER, "partner:jobcenter-ballerup",
                      DeliveryChannel.WEBHOOK, 2, "bridging_status", "bridging_employment"),
        handoffs.Told(RecipientKind.PARTNER, "partner:jobcenter-ballerup",
                      DeliveryChannel.EMAIL, None, "bridging_status", "bridging_employment"),
    ]

    confirmed = handoffs.plan_update(accepted, told, active_subscriptions=[1])
    ended = handoffs.plan_update(cancelled, told, active_subscriptions=[1, 2])

    # Subscription 2 was removed since: its systems hear nothing more.
    assert [(p.channel.value, p.subscription_id) for p in confirmed] == [("webhook", 1)]
    assert [(p.channel.value, p.subscription_id) for p in ended] == [
        ("webhook", 1), ("webhook", 2), ("email", None)]
    assert all(p.needs_gate and p.purpose == "bridging_employment" for p in ended)


def test_an_unanswered_hand_off_goes_to_the_person_responsible_or_the_mailbox_named():
    from services.notifications.gate import routing_rule

    rules = [routing_rule("partners.handoff_escalated", "team_members", "email",
                          "contact_status", None)]
    _, named = event("partners.handoff_escalated")
    _, nobody = event("partners.handoff_escalated", responsible_email=None, mailbox="housing")

    assert [(p.recipient_kind.value, p.recipient) for p in plan_deliveries(
        "partners.handoff_escalated", named, rules, [], mailboxes=MAILBOXES)] == [
        ("team_members", "anne@balk.dk")]
    assert [(p.recipient_kind.value, p.recipient) for p in plan_deliveries(
        "partners.handoff_escalated", nobody, rules, [], mailboxes=MAILBOXES)] == [
        ("housing_officers", "boligsocial@balk.dk")]


def test_the_escalation_mail_names_the_citizen_only_to_the_person_responsible():
    _, payload = event("partners.handoff_escalated")
    context = content.Context(citizen_name="Vincent Væver", partner_name="Jobcenter Ballerup")

    personal = content.render_text("partners.handoff_escalated", RecipientKind.TEAM_MEMBERS,
                                   payload, context)
    shared = content.render_text("partners.handoff_escalated", RecipientKind.FRONTEN,
                                 payload, context)

    assert personal.subject == ("Ubesvaret overdragelse: Brobygning til beskæftigelse "
                                "(svarfrist 10. marts 2025)")
    assert "Jobcenter Ballerup har ikke svaret på en overdragelse for Vincent Væver" in \
        personal.text
    assert "Vincent" not in shared.text
    assert content.needs_citizen("partners.handoff_escalated", RecipientKind.TEAM_MEMBERS,
                                 payload)
    assert not content.needs_citizen("partners.handoff_escalated", RecipientKind.FRONTEN,
                                     payload)


def test_the_mail_to_a_partner_says_what_is_asked_by_when_and_how_to_answer():
    _, payload = event("partners.handoff_requested")

    message = content.render_text(
        "partners.handoff_requested", RecipientKind.PARTNER, payload,
        content.Context(partner_name="Jobcenter Ballerup",
                        api_base_url="https://samspil.balk.dk"))

    assert message.subject == "Brobygning til beskæftigelse: svar senest 10. marts 2025"
    assert message.text.startswith("Til Jobcenter Ballerup\n")
    assert "Vi beder jer tage imod borgeren i brobygning" in message.text
    assert "Brobygningen begynder senest: 9. april 2025" in message.text
    assert (f"POST https://samspil.balk.dk/api/handoffs/{payload['handoff_id']}/answers"
            in message.text)
    assert "bridging_employment" not in message.text  # no English code reaches a person


def test_every_state_and_kind_has_danish_words():
    assert set(handoffs.STATE_TEXTS) == set(HandoffState)
    assert set(handoffs.KIND_TEXTS) == set(HandoffKind)
    assert set(handoffs.NEXT_STATES) == set(HandoffState)
