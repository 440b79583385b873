"""Messages to people over real SMTP and a real SMS gateway on loopback: the citizen
is told who the new tovholder is, by the channel the citizen prefers (from intake at
send time), and the new tovholder and the team are told with the handover note; an
unknown citizen is a permanent failure in the ledger; escalations go to the citizen's
tovholder through coordination (or to Fronten while no tovholder is known), never
twice; actions falling due go to their owner."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from tests.integration.notifications import support
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

FRONTEN = "fronten@test.balk.dk"


@pytest.fixture
def smtp(tmp_path):
    server = support.SmtpServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def sms_gateway():
    server = support.HttpReceiver(default=202)
    yield server
    server.stop()


@pytest.fixture
def running(amqp_uri, db_url, runner_factory, smtp, sms_gateway):
    yield from support.start(
        amqp_uri, db_url, runner_factory, SMTP_PORT=smtp.port, FRONTEN_EMAIL=FRONTEN,
        SMS_GATEWAY_URL=sms_gateway.url("/sms"), SMS_GATEWAY_TOKEN="token-1",
    )


def handed_over(citizen: uuid.UUID) -> dict:
    return {"pathway_id": uuid.uuid4(), "citizen_ref": citizen, "old_tovholder_id": "m-social",
            "new_tovholder_id": "m-upoint", "new_tovholder_name": "Ulla Ungekonsulent",
            "new_tovholder_agency": "upoint", "new_tovholder_email": "ulla@balk.dk",
            "handed_over_at": dt.datetime.now(dt.UTC),
            "handover_note": "Vincent ringer helst om formiddagen.",
            "team": [{"member_id": "m-social", "name": "Mette Socialrådgiver",
                      "email": "mette@balk.dk"},
                     {"member_id": "m-upoint", "name": "Ulla Ungekonsulent",
                      "email": "ulla@balk.dk"}]}


def escalated(citizen: uuid.UUID | None, asks: list[dict]) -> dict:
    return {"case_id": uuid.uuid4(), "association_id": "kab-ballerup",
            "tenancy_ref": "12-0304-2", "citizen_ref": citizen,
            "level": "escalated_to_association", "previous_level": "outreach_due",
            "next_deadline": dt.datetime(2026, 3, 1, 23, 0, tzinfo=dt.UTC), "asks": asks,
            "occurred_at": dt.datetime.now(dt.UTC)}


def test_citizen_staff_and_fronten_get_their_messages(running, smtp, sms_gateway):
    citizen, stranger = uuid.uuid4(), uuid.uuid4()
    running.intake.add(citizen, email="vincent@example.dk", phone="+45 20 30 40 50",
                       preferred="sms", name="Vincent Væver")

    handover = running.publish("coordination.tovholder_handed_over", handed_over(citizen))
    [sms] = wait_for(lambda: sms_gateway.requests, what="the SMS")
    sent = json.loads(sms.body)
    assert sent["to"] == "+45 20 30 40 50"
    assert sms.headers["Authorization"] == "Bearer token-1"
    assert "Du har fået en ny tovholder. Det er Ulla Ungekonsulent fra Upoint." in sent["text"]
    assert "ulla@balk.dk" in sent["text"] and "44 77 34 43" in sent["text"]
    assert "formiddagen" not in sent["text"]  # the handover note is for staff only
    rows = running.wait_settled(handover, planned=3)
    assert {(r.recipient_kind, r.recipient, r.channel, r.status) for r in rows} == {
        ("citizen", f"citizen:{citizen}", "sms", "sent"),
        ("tovholder", "ulla@balk.dk", "email", "sent"),
        ("team_members", "mette@balk.dk", "email", "sent"),
    }
    [to_ulla] = smtp.to("ulla@balk.dk")
    assert support.subject(to_ulla) == "Du er ny tovholder i et forløb"
    assert "tovholder for Vincent Væver" in support.text_part(to_ulla)
    assert "Vincent ringer helst om formiddagen." in support.text_part(to_ulla)
    [to_team] = smtp.to("mette@balk.dk")
    assert "Ulla Ungekonsulent har overtaget rollen som tovholder for Vincent Væver." in \
        support.text_part(to_team)

    # The escalation asks the tovholder (known from the hand-over) and the association.
    # coordination knows the pathway and tells the tovholder (housing_escalation_noted);
    # housing's own event does not mail the tovholder a second time.
    escalation = running.publish("housing.case_escalated", escalated(citizen, [
        {"addressee": "tovholder", "request": "make_plan_or_apply_for_help"},
        {"addressee": "association", "request": "hold_termination"}]))
    noted = running.publish("coordination.housing_escalation_noted", {
        "pathway_id": uuid.uuid4(), "citizen_ref": citizen, "case_id": uuid.uuid4(),
        "level": "escalated_to_association",
        "next_deadline": dt.datetime(2026, 3, 1, 23, 0, tzinfo=dt.UTC),
        "requests": ["make_plan_or_apply_for_help"], "tovholder_id": "m-upoint",
        "tovholder_email": "ulla@balk.dk", "noted_at": dt.datetime.now(dt.UTC)})
    [row] = running.wait_settled(noted, planned=1)
    assert (row.recipient, row.status) == ("ulla@balk.dk", "sent")
    mail = smtp.to("ulla@balk.dk")[1]
    text = support.text_part(mail)
    assert "Der er nyt i en huslejesag for Vincent Væver, som du er tovholder for." in text
    assert "Opgave: Lav en afdragsplan med borgeren, eller søg om hjælp" in text
    assert "Frist for næste skridt: mandag den 2. marts 2026 kl. 00.00" in text
    running.wait_consumed(escalation)
    assert running.deliveries(message_id=str(escalation.message_id)) == []

    running.publish("housing.case_escalated", escalated(None, [
        {"addressee": "fronten", "request": "contact_citizen"}]))
    [mail] = wait_for(lambda: smtp.to(FRONTEN), what="the escalation to Fronten")
    assert "Opgave: Kontakt borgeren" in support.text_part(mail)

    due = running.publish("coordination.action_due", {
        "pathway_id": uuid.uuid4(), "citizen_ref": citizen, "action_id": "ring-om-morgenen",
        "owner_id": "m-upoint", "owner_email": "ulla@balk.dk", "due_on": dt.date(2026, 3, 15)})
    running.wait_settled(due, planned=1)
    assert support.subject(smtp.to("ulla@balk.dk")[2]) == "Handling forfalder 15. marts 2026"
    assert "handleplanen for Vincent Væver" in support.text_part(smtp.to("ulla@balk.dk")[2])

    running.publish("coordination.tovholder_handed_over", handed_over(stranger))
    [failed] = running.wait_status("failed", recipient=f"citizen:{stranger}")
    assert failed.failure_kind == "permanent" and failed.attempts == 1
    assert "intake does not know the citizen" in failed.last_error
    assert {"actor": "service:notifications", "citizen_ref": str(stranger),
            "purpose": "samarbejde i et sammenhængende borgerforløb"} in running.intake.calls
    # The staff mails about the stranger still went out, without a name.
    running.wait_status("sent", count=2, event_type="coordination.tovholder_handed_over",
                        citizen_ref=str(stranger))
    assert "tovholder for borgeren" in support.text_part(smtp.to("ulla@balk.dk")[-1])
    assert len(sms_gateway.requests) == 1
    assert all("vincent@example.dk" not in (r.last_error or "") for r in running.deliveries())


def test_routing_rules_are_data_an_operator_changes(running, smtp):
    with ClusterRpcProxy(running.config) as cluster:
        rules = cluster.notifications.list_routing_rules(
            actor="staff:ops", event_type="coordination.action_due")
        assert [(r["recipient_kind"], r["channel"]) for r in rules] == [("team_members", "email")]
        cluster.notifications.remove_routing_rule(actor="staff:ops", rule_id=rules[0]["rule_id"])
        added = cluster.notifications.add_routing_rule(
            actor="staff:ops", event_type="coordination.action_due", recipient_kind="fronten",
            channel="email", information_kind="action_plan")
        assert (added["created_by"], added["purpose"]) == ("staff:ops", None)
    running.publish("coordination.action_due", {
        "pathway_id": uuid.uuid4(), "citizen_ref": uuid.uuid4(), "action_id": "a-1",
        "owner_id": "m-upoint", "owner_email": "ulla@balk.dk", "due_on": dt.date(2026, 3, 15)})
    [row] = running.wait_status("sent", event_type="coordination.action_due")
    assert (row.recipient_kind, row.recipient) == ("fronten", FRONTEN)
    assert smtp.to("ulla@balk.dk") == []
