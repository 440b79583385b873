"""Hand-offs reach the partner they name (issue 16), over real webhooks on loopback whose
receivers verify every signature, real SMTP and real envelopes built with the contract
registry, on SQLite and PostgreSQL:

- on every subscription of the partner, under the citizen's consent (recorded), each
  delivery a disclosure in the access log that the citizen's access report shows;
- by e-mail to the directory contact when the partner has no subscription, and its
  cancellation too; a § 85 referral to Social Vejledning's mailbox, without a gate;
- an update that overtakes its request waits for it, and they arrive in order;
- a withdrawn consent stops the next hand-off.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
import requests
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from contracts import registry
from contracts.notifications import HandoffRequestedMessageV1, HandoffUpdatedMessageV1
from services.notifications import signing
from tests.infra import queue_info
from tests.integration.notifications import support
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

JOBCENTER = "jobcenter-ballerup"
FRONTEN_STAFF = {"kind": "staff", "id": "anne", "roles": ["fronten"],
                 "purpose": "borgerens anmodning om indsigt"}
HOUSING_OFFICER = {"kind": "staff", "id": "bo", "roles": ["housing_officer"]}
SV_MAILBOX = "sv@test.balk.dk"


def secret(name: str) -> str:
    return f"whsec_{name}_only_for_tests_0123456789"


@pytest.fixture
def receivers():
    made = {name: support.HttpReceiver(secret=secret(name)) for name in ("a", "b", "other")}
    yield made
    for receiver in made.values():
        receiver.stop()


@pytest.fixture
def smtp(tmp_path):
    server = support.SmtpServer(tmp_path)
    yield server
    server.stop()


def handoff(citizen: uuid.UUID | None, **changes: Any) -> dict[str, Any]:
    """partners.handoff_requested as partners publishes it (the contract's example)."""
    example = dict(registry.contract("partners.handoff_requested").example)
    payload = dict(registry.contract("partners.handoff_requested").schema().load(example))
    return payload | {"handoff_id": uuid.uuid4(), "citizen_ref": citizen} | changes


def updated(request: dict[str, Any], state: str, previous: str, **changes: Any) -> dict:
    keep = ("handoff_id", "kind", "partner_id", "subject_type", "subject_id", "citizen_ref")
    return {k: request[k] for k in keep} | {
        "state": state, "previous_state": previous, "reason": None, "outcome": None,
        "hold_until": None, "answered_by": f"partner:{request['partner_id']}",
        "at": dt.datetime.now(dt.UTC), "title": f"Overdragelse: {state}"} | changes


def consent(citizen: uuid.UUID, recipient: str, purpose: str, kinds: list[str]) -> dict:
    return {"consent_id": uuid.uuid4(), "citizen_ref": citizen, "recipient": recipient,
            "information_kinds": kinds, "purpose": purpose,
            "given_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)}


def consented(running: support.Running, payload: dict[str, Any]) -> None:
    event = running.publish("intake.consent_given", payload)
    running.wait_consumed(event)


# -- on every subscription, under consent; the disclosure in the access report -------------


@pytest.fixture
def running(amqp_uri, db_url, runner_factory, receivers):
    for run in support.start(amqp_uri, db_url, runner_factory):
        with ClusterRpcProxy(run.config) as cluster:
            # The jobcenter has two subscriptions (one of them to the older statement
            # only): both are used. Another jobcenter is not told of this hand-off.
            for name, types in (("a", ["intake.bridging_due"]),
                                ("b", ["partners.handoff_requested"])):
                cluster.notifications.add_subscription(
                    actor="staff:ops", partner_id=JOBCENTER, partner_kind="employment",
                    channel="webhook", event_types=types, url=receivers[name].url(),
                    secret=secret(name))
            cluster.notifications.add_subscription(
                actor="staff:ops", partner_id="jobcenter-vest", partner_kind="employment",
                channel="webhook", event_types=["partners.handoff_requested"],
                url=receivers["other"].url(), secret=secret("other"))
        run.publish("partners.partner_registered", {
            "partner_id": JOBCENTER, "name": "Jobcenter Ballerup", "category": "employment",
            "accepts": ["bridging_employment"], "active": True,
            "changed_at": dt.datetime.now(dt.UTC)})
        yield run


def test_a_hand_off_reaches_every_subscription_signed_and_is_a_logged_disclosure(
    running, receivers
):
    citizen = uuid.uuid4()
    given = consent(citizen, JOBCENTER, "bridging_employment", ["bridging_status"])
    consented(running, given)

    request = handoff(citizen)
    event = running.publish("partners.handoff_requested", request,
                            correlation_id=str(request["subject_id"]))
    rows = running.wait_settled(event, planned=2)

    assert {(r.channel, r.subscription_id is not None, r.status, r.basis) for r in rows} == {
        ("webhook", True, "sent", str(given["consent_id"]))}
    for name in ("a", "b"):
        [delivered] = receivers[name].requests
        assert delivered.verified is True and delivered.status == 200
        assert delivered.headers[signing.EVENT_TYPE_HEADER] == "partners.handoff_requested"
        assert delivered.headers[signing.IDEMPOTENCY_KEY_HEADER] == str(event.message_id)
        body = delivered.json()
        assert HandoffRequestedMessageV1().validate(body) == {}
        assert body["handoff_id"] == str(request["handoff_id"])
        assert (body["kind_text"], body["answer_by"]) == (
            "Brobygning til beskæftigelse", "2025-03-10")
        assert str(citizen) not in delivered.body.decode()
    assert receivers["other"].requests == []

    # Each delivery is a disclosure in notifications' access log, with why and on what.
    disclosures = running.access_log(action="disclosure", citizen_ref=citizen)
    assert len(disclosures) == 2
    assert {(d.actor, d.what, d.subject_id) for d in disclosures} == {
        ("service:notifications", "handoff_requested", str(request["handoff_id"]))}
    assert disclosures[0].purpose == ("brobygning til beskæftigelse: sendt til Jobcenter "
                                      "Ballerup (webhook); grundlag: samtykke")

    with ClusterRpcProxy(running.config) as cluster:
        report = cluster.notifications.access_report(actor=FRONTEN_STAFF, citizen_ref=citizen)
        assert [(e["service"], e["action"], e["action_text"], e["what"]) for e in report] == [
            ("notifications", "disclosure", "videregivet", "handoff_requested")] * 2
        # Reading the report is logged too, with the caller's purpose.
        [read] = running.access_log(action="read", citizen_ref=citizen)
        assert (read.actor, read.what, read.purpose) == (
            "staff:anne", "access_log", "borgerens anmodning om indsigt")
        with pytest.raises(RemoteError) as refused:
            cluster.notifications.access_report(actor=HOUSING_OFFICER, citizen_ref=citizen)
    assert refused.value.exc_type == "InvalidInput"
    assert [(e["field"], e["rule"]) for e in json.loads(refused.value.value)["errors"]] == [
        ("actor", "not_allowed")]

    # The partner's answer is confirmed to its systems, on both subscriptions.
    answer = running.publish("partners.handoff_updated", updated(request, "accepted",
                                                                 "requested"))
    running.wait_settled(answer, planned=2)
    for name in ("a", "b"):
        confirmed = receivers[name].requests[-1]
        assert confirmed.verified is True
        assert HandoffUpdatedMessageV1().validate(confirmed.json()) == {}
        assert (confirmed.json()["state"], confirmed.json()["state_text"]) == (
            "accepted", "Accepteret")

    # Withdrawn: the next hand-off about the citizen does not leave.
    running.publish("intake.consent_withdrawn", {
        "consent_id": given["consent_id"], "citizen_ref": citizen, "recipient": JOBCENTER,
        "withdrawn_at": dt.datetime.now(dt.UTC)})
    wait_for(lambda: _withdrawn(running), what="the withdrawal in the projection")
    second = running.publish("partners.handoff_requested", handoff(citizen))
    blocked = running.wait_settled(second, planned=2)
    assert {(r.status, r.last_error) for r in blocked} == {("blocked", "consent_withdrawn")}
    assert [len(receivers[n].requests) for n in ("a", "b")] == [2, 2]


def _waiting(infra: Any, vhost: str, queue: str) -> int:
    """Messages in a queue, by the broker's management API (0 before it exists)."""
    try:
        return int(queue_info(infra, vhost, queue).get("messages") or 0)
    except requests.HTTPError:
        return 0


def _withdrawn(running: support.Running) -> bool:
    from sqlalchemy import text

    from services.common.db import make_engine

    engine = make_engine(running.db_url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text(
                "select count(*) from consents where withdrawn_at is not null")).scalar_one())
    finally:
        engine.dispose()


# -- by e-mail: the directory contact, and Social Vejledning ---------------------------------


@pytest.fixture
def mailing(amqp_uri, db_url, runner_factory, smtp):
    yield from support.start(amqp_uri, db_url, runner_factory, SMTP_PORT=smtp.port,
                             MAILBOXES={"social_vejledning": SV_MAILBOX},
                             PUBLIC_API_BASE_URL="https://samspil.test.balk.dk")


def test_without_a_subscription_the_directory_contact_is_mailed_and_told_of_a_cancellation(
    mailing, smtp
):
    citizen = uuid.uuid4()
    mailing.intake.add(citizen, email="vincent@example.dk", name="Vincent Væver")
    mailing.partners.add("frivilligcenter", name="Frivilligcenter Ballerup",
                         contact_email="kontakt@frivillig.example")
    consented(mailing, consent(citizen, "frivilligcenter", "offer_referral",
                               ["contact_status"]))

    request = handoff(citizen, partner_id="frivilligcenter", kind="offer_referral",
                      subject_type="pathway", title="Henvisning til et tilbud", details={})
    event = mailing.publish("partners.handoff_requested", request)
    [row] = mailing.wait_settled(event, planned=1)

    assert (row.recipient, row.channel, row.status) == ("partner:frivilligcenter", "email",
                                                        "sent")
    [mail] = smtp.to("kontakt@frivillig.example")
    text = support.text_part(mail)
    assert support.subject(mail) == "Henvisning til et tilbud: svar senest 10. marts 2025"
    assert text.startswith("Til Frivilligcenter Ballerup\n")
    assert "Kontaktperson i kommunen: Anne Andersen, telefon 44 77 34 43" in text
    assert (f"POST https://samspil.test.balk.dk/api/handoffs/{request['handoff_id']}/answers"
            in text)
    assert "Vincent" not in text and str(citizen) not in text
    assert mailing.partners.calls == [{"actor": "service:notifications",
                                       "partner_id": "frivilligcenter"}]

    # Its own answer needs no receipt by mail; a cancellation by the municipality does.
    accepted = mailing.publish("partners.handoff_updated",
                               updated(request, "accepted", "requested"))
    mailing.wait_consumed(accepted)
    assert mailing.deliveries(message_id=str(accepted.message_id)) == []
    cancelled = mailing.publish("partners.handoff_updated",
                                updated(request, "cancelled", "accepted",
                                        answered_by="staff:anne",
                                        title="Henvisning til et tilbud: annulleret"))
    mailing.wait_settled(cancelled, planned=1)
    last = smtp.to("kontakt@frivillig.example")[-1]
    assert support.subject(last) == "Henvisning til et tilbud: annulleret"
    assert "Status: Annulleret af kommunen" in support.text_part(last)


def test_a_section_85_referral_is_mailed_to_social_vejledning_without_a_gate(mailing, smtp):
    citizen = uuid.uuid4()  # no consent at all: Social Vejledning is the municipality's own
    request = handoff(citizen, partner_id="social-vejledning", kind="referral_85",
                      title="Henvisning til § 85-vurdering",
                      details={"referred_on": dt.date(2025, 3, 3)})
    event = mailing.publish("partners.handoff_requested", request)
    [row] = mailing.wait_settled(event, planned=1)

    assert (row.recipient_kind, row.recipient, row.status, row.basis) == (
        "social_vejledning", SV_MAILBOX, "sent", None)
    [mail] = smtp.to(SV_MAILBOX)
    assert support.subject(mail) == "Henvisning til § 85-vurdering: svar senest 10. marts 2025"
    assert "Henvist: 3. marts 2025" in support.text_part(mail)
    assert mailing.access_log(action="disclosure") == []  # nothing left the municipality


# -- an update that overtakes its request -------------------------------------------------


@pytest.fixture
def patient(amqp_uri, db_url, runner_factory, receivers):
    # Retries slow enough to see the update wait in the kit's delay queue.
    for run in support.start(amqp_uri, db_url, runner_factory,
                             RETRY_DELAYS_MS=[4000, 4000, 4000, 4000], MAX_ATTEMPTS=10):
        with ClusterRpcProxy(run.config) as cluster:
            cluster.notifications.add_subscription(
                actor="staff:ops", partner_id=JOBCENTER, partner_kind="employment",
                channel="webhook", event_types=["partners.handoff_requested"],
                url=receivers["a"].url(), secret=secret("a"))
            cluster.notifications.add_legal_basis(
                actor="staff:jurist", recipient=JOBCENTER, information_kind="bridging_status",
                purpose="bridging_employment", reference="aftale om brobygning (test)")
        yield run


def test_an_update_that_overtakes_its_request_waits_for_it(patient, receivers, infra, vhost):
    request = handoff(uuid.uuid4())
    answer = patient.publish("partners.handoff_updated", updated(request, "received",
                                                                 "requested"))
    wait_for(lambda: _waiting(infra, vhost[0], "notifications.retry.4000") >= 1,
             timeout=30, what="the update waiting for its request")
    assert patient.deliveries() == []

    event = patient.publish("partners.handoff_requested", request)
    patient.wait_settled(event, planned=1)
    wait_for(lambda: len(receivers["a"].requests) == 2, timeout=30,
             what="the update after its request")

    assert [r.headers[signing.IDEMPOTENCY_KEY_HEADER] for r in receivers["a"].requests] == [
        str(event.message_id), str(answer.message_id)]
    assert all(r.verified for r in receivers["a"].requests)
