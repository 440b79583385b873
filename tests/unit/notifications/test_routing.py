"""Routing: who is told about an event, each recipient once; to the person responsible
where the event names one, otherwise to the team's mailbox. From the real contracts'
examples."""

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
from services.notifications.mailboxes import Mailboxes
from services.notifications.routing import (
    KnownTovholder,
    PartnerSubscription,
    plan_deliveries,
)

NOW = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
MAILBOXES = Mailboxes()
FRONTEN = MAILBOXES.fronten
COORDINATORS = "koordinering@balk.dk"


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
    return routing_rule(event_type, kind, channel, "meeting_schedule", "pathway_team")


def sub(partner_id: str, kind: PartnerKind, channel: str, *types: str) -> PartnerSubscription:
    return PartnerSubscription(1, partner_id, kind, DeliveryChannel(channel), frozenset(types))


def plan(event_type: str, payload, *kinds: str, known: KnownTovholder | None = None,
         subs=(), only=None) -> list[tuple[str, str]]:
    planned = plan_deliveries(event_type, payload, [rule(event_type, k) for k in kinds],
                              list(subs), mailboxes=MAILBOXES, tovholder=known, only=only)
    return [(p.recipient_kind.value, p.recipient) for p in planned]


def test_a_meeting_goes_to_each_staff_address_once_and_to_people_by_reference():
    _, payload = event("coordination.meeting_scheduled")
    payload["participants"].append(dict(payload["participants"][0], participant_id="dup",
                                        email="METTE@balk.dk"))
    payload["participants"].append({"participant_id": "n-hanne", "kind": "network",
                                    "required": False, "name": "Hanne", "email": None})

    planned = plan("coordination.meeting_scheduled", payload,
                   "team_members", "tovholder", "citizen", "network")

    assert planned == [
        ("team_members", "mette@balk.dk"),
        ("team_members", "lars@skole.dk"),
        ("citizen", f"citizen:{payload['citizen_ref']}"),
        ("network", "network:n-hanne"),
    ]


def test_a_partner_status_goes_only_to_the_association_it_is_about():
    _, payload = event("housing.partner_status")
    rules = [routing_rule("housing.partner_status", "housing_association", "webhook",
                          "housing_case_status", "keep_home")]
    subs = [sub("kab-ballerup", PartnerKind.HOUSING, "webhook", "housing.partner_status"),
            sub("other", PartnerKind.HOUSING, "webhook", "housing.partner_status"),
            sub("kab-ballerup", PartnerKind.HOUSING, "partner_queue", "housing.partner_status")]

    planned = plan_deliveries("housing.partner_status", payload, rules, subs,
                              mailboxes=MAILBOXES)

    assert [(p.recipient, p.channel.value, p.needs_gate) for p in planned] == [
        ("partner:kab-ballerup", "webhook", True)
    ]
    assert planned[0].partner_id == "kab-ballerup"


def test_escalations_go_to_fronten_while_no_tovholder_is_known_and_never_twice():
    _, payload = event("housing.case_escalated")  # asks: association and tovholder
    kinds = ("tovholder", "fronten")

    unknown = plan("housing.case_escalated", payload, *kinds)
    # A known tovholder hears it from coordination (housing_escalation_noted), not twice.
    known = plan("housing.case_escalated", payload, *kinds,
                 known=KnownTovholder("m-upoint", "ulla@balk.dk"))

    assert unknown == [("fronten", FRONTEN)]
    assert known == []
    _, asks_fronten = event("housing.case_escalated",
                            asks=[{"addressee": "fronten", "request": "contact_citizen"}])
    assert plan("housing.case_escalated", asks_fronten, *kinds) == [("fronten", FRONTEN)]


@pytest.mark.parametrize("event_type, kind, mailbox", [
    ("intake.referral_85_made", "social_vejledning", "socialvejledning@balk.dk"),
    ("intake.course_review_requested", "review_panel", "tvaergaaende-udvalg@balk.dk"),
    ("intake.course_ending_proposed", "fronten", "ss-front@balk.dk"),
    ("housing.warning_flagged", "housing_officers", "boligsocial@balk.dk"),
    ("housing.action_overdue", "housing_officers", "boligsocial@balk.dk"),
])
def test_events_without_a_responsible_person_go_to_the_team_mailbox(event_type, kind, mailbox):
    _, payload = event(event_type)

    assert plan(event_type, payload, kind) == [(kind, mailbox)]


def test_the_mailboxes_are_a_setting():
    boxes = Mailboxes.from_config({"MAILBOXES": {"social_vejledning": "SV@Test.dk"},
                                   "FRONTEN_EMAIL": "front@test.dk"})
    _, payload = event("intake.referral_85_made")

    planned = plan_deliveries("intake.referral_85_made", payload,
                              [rule("intake.referral_85_made", "social_vejledning")], [],
                              mailboxes=boxes)

    assert [p.recipient for p in planned] == ["sv@test.dk"]
    assert boxes.fronten == "front@test.dk"
    assert boxes.coordinators == COORDINATORS  # the default where the setting is silent
    assert Mailboxes.from_config({"MAILBOXES": {"fronten": "a@b.dk"},
                                  "FRONTEN_EMAIL": "x@y.dk"}).fronten == "a@b.dk"


@pytest.mark.parametrize("config, key", [
    ({"MAILBOXES": {"mayor": "m@balk.dk"}}, "mayor"),
    ({"MAILBOXES": {"housing": "not an address"}}, "MAILBOXES.housing"),
    ({"MAILBOXES": ["koordinering@balk.dk"]}, "mapping"),
])
def test_a_bad_mailbox_setting_is_refused_naming_the_key(config, key):
    with pytest.raises(ValueError, match=key):
        Mailboxes.from_config(config)


def test_a_pathway_awaiting_a_tovholder_goes_to_the_coordinators_only():
    _, waiting = event("coordination.pathway_opened", tovholder_id=None)
    _, appointed = event("coordination.pathway_opened")

    assert plan("coordination.pathway_opened", waiting, "coordinators") == [
        ("coordinators", COORDINATORS)]
    assert plan("coordination.pathway_opened", appointed, "coordinators") == []


def test_a_handover_tells_the_new_tovholder_and_the_rest_of_the_team():
    _, payload = event("coordination.tovholder_handed_over", team=[
        {"member_id": "m-social", "name": "Mette", "email": "Mette@balk.dk"},
        {"member_id": "m-upoint", "name": "Ulla", "email": "ulla@balk.dk"},  # the new one
        {"member_id": "m-school", "name": "Lars", "email": None},  # no address: not told
    ])

    planned = plan("coordination.tovholder_handed_over", payload,
                   "citizen", "tovholder", "team_members")

    assert planned == [
        ("citizen", f"citizen:{payload['citizen_ref']}"),
        ("tovholder", "ulla@balk.dk"),
        ("team_members", "mette@balk.dk"),
    ]
    _, no_address = event("coordination.tovholder_handed_over", new_tovholder_email=None)
    assert plan("coordination.tovholder_handed_over", no_address, "tovholder") == [
        ("coordinators", COORDINATORS)]


def test_a_new_member_is_told_at_the_work_address_or_the_coordinators_are():
    _, payload = event("coordination.member_added")
    _, no_address = event("coordination.member_added", email=None)

    assert plan("coordination.member_added", payload, "team_members") == [
        ("team_members", "bo@balk.dk")]
    assert plan("coordination.member_added", no_address, "team_members") == [
        ("coordinators", COORDINATORS)]


@pytest.mark.parametrize("event_type", ["coordination.action_due",
                                        "coordination.action_overdue"])
def test_an_action_goes_to_its_owner_then_the_tovholder_then_the_coordinators(event_type):
    _, owned = event(event_type)
    _, orphan = event(event_type, owner_email=None)
    _, lost = event(event_type, owner_email=None, tovholder_email=None)

    assert plan(event_type, owned, "team_members") == [("team_members", "ulla@balk.dk")]
    assert plan(event_type, orphan, "team_members") == [("team_members", "mette@balk.dk")]
    assert plan(event_type, lost, "team_members") == [("coordinators", COORDINATORS)]
    # What notifications last heard of the tovholder fills in for an older producer.
    assert plan(event_type, lost, "team_members",
                known=KnownTovholder("m-social", "mette@balk.dk")) == [
        ("team_members", "mette@balk.dk")]


@pytest.mark.parametrize("event_type", ["coordination.housing_escalation_noted",
                                        "coordination.housing_warning_noted"])
def test_housing_news_goes_to_the_tovholder_or_to_the_coordinators(event_type):
    _, payload = event(event_type)
    _, waiting = event(event_type, tovholder_id=None, tovholder_email=None)
    _, no_email = event(event_type, tovholder_email=None)

    assert plan(event_type, payload, "tovholder") == [("tovholder", "mette@balk.dk")]
    assert plan(event_type, waiting, "tovholder") == [("coordinators", COORDINATORS)]
    assert plan(event_type, no_email, "tovholder",
                known=KnownTovholder("m-social", "Mette@balk.dk")) == [
        ("tovholder", "mette@balk.dk")]
    # A different tovholder last heard of is not this one: the coordinators are told.
    assert plan(event_type, no_email, "tovholder",
                known=KnownTovholder("m-other", "other@balk.dk")) == [
        ("coordinators", COORDINATORS)]


def test_a_bridging_cancellation_reaches_the_subscribers_of_bridging_only_those_told():
    _, payload = event("intake.bridging_cancelled")
    rules = [routing_rule("intake.bridging_cancelled", "jobcenter", kind, "bridging_status",
                          "bridging_employment") for kind in ("webhook", "partner_queue")]
    subs = [sub("jobcenter-ballerup", PartnerKind.EMPLOYMENT, "webhook", "intake.bridging_due"),
            sub("jobcenter-2", PartnerKind.EMPLOYMENT, "partner_queue", "intake.bridging_due"),
            sub("skole", PartnerKind.EDUCATION, "webhook", "intake.bridging_due")]

    every = plan_deliveries("intake.bridging_cancelled", payload, rules, subs,
                            mailboxes=MAILBOXES)
    told = plan_deliveries(
        "intake.bridging_cancelled", payload, rules, subs, mailboxes=MAILBOXES,
        only=frozenset({("partner:jobcenter-ballerup", DeliveryChannel.WEBHOOK, 1)}))

    assert [(p.recipient, p.channel.value) for p in every] == [
        ("partner:jobcenter-ballerup", "webhook"), ("partner:jobcenter-2", "partner_queue")]
    assert [(p.recipient, p.needs_gate) for p in told] == [("partner:jobcenter-ballerup", True)]


def test_partner_body_is_the_allow_list_only_with_danish_words_beside_the_codes():
    wire, _ = event("intake.bridging_due")

    body = json.loads(content.partner_body(wire))

    assert set(body) == {"type", "message_id", "occurred_at", "course_ref", "partner_kind",
                         "partner_kind_text", "due_on", "planned_end", "title", "text"}
    assert body["partner_kind_text"] == "Beskæftigelse (jobcenter)"
    assert "citizen_ref" not in body
    assert body["title"] == "Brobygning: forløb i Fronten slutter 9. oktober 2018"
    with pytest.raises(DomainError, match=r"partner\.no_message_schema"):
        content.partner_body(event("housing.case_escalated")[0])


def test_the_association_reads_its_status_in_danish_beside_the_codes():
    wire, _ = event("housing.partner_status")

    body = json.loads(content.partner_body(wire))

    assert (body["status"], body["status_text"]) == (
        "hold_termination_requested",
        "Kommunen arbejder på en løsning sammen med lejer og beder jer vente med at ophæve "
        "lejemålet, mens det sker.")
    assert (body["requested"], body["requested_text"]) == (
        "hold_termination", "Vi beder jer vente med at ophæve lejemålet.")
    assert body["title"] == "Status på lejemål 12-0304-2"
    assert "citizen_ref" not in body


def test_the_bridging_cancellation_says_brobygning_aflyst():
    wire, payload = event("intake.bridging_cancelled")

    body = json.loads(content.partner_body(wire))

    assert set(body) == {"type", "message_id", "occurred_at", "course_ref", "partner_kind",
                         "partner_kind_text", "due_on", "cancelled_on", "reason",
                         "reason_text", "title", "text"}
    assert body["reason_text"] == "Forløbet i Fronten er afsluttet før planlagt."
    assert body["title"] == "Brobygning aflyst"
    assert body["course_ref"] == str(payload["course_id"])
    assert (body["due_on"], body["reason"]) == ("2018-05-09", "course_ended_early")
    assert "Forløbet i Fronten er afsluttet før planlagt." in body["text"]
    assert "senest: 9. maj 2018" in body["text"]
    assert "course_ended_early" not in body["text"]


@pytest.mark.parametrize(
    "event_type, method, sequence",
    [("coordination.meeting_scheduled", "REQUEST", 0),
     ("coordination.meeting_rescheduled", "REQUEST", 1),
     ("coordination.meeting_cancelled", "CANCEL", 2)],
)
def test_meeting_mails_carry_the_invitation_for_the_change(event_type, method, sequence):
    _, payload = event(event_type, sequence=sequence)

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
