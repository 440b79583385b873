"""Signed webhooks to a real HTTP receiver on loopback: a receiver that fails three
times (HTTP 503) and then succeeds gets the partner status delivered once, signed so
that the reference verifier accepts it, with the event's message_id as idempotency
key on every attempt; another association's status never reaches it."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import text

from services.common.db import make_engine
from services.notifications import signing
from tests.integration.notifications import support
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

SECRET = "whsec_test_only_0123456789"


@pytest.fixture
def receiver():
    server = support.HttpReceiver(script=[503, 503, 503])
    yield server
    server.stop()


@pytest.fixture
def running(amqp_uri, db_url, runner_factory):
    yield from support.start(amqp_uri, db_url, runner_factory)


def partner_status(association: str) -> dict:
    return {
        "association_id": association, "case_ref": uuid.uuid4(), "tenancy_ref": "12-0304-2",
        "status": "hold_termination_requested", "requested": "hold_termination",
        "occurred_on": dt.date(2026, 2, 16), "hold_until": dt.date(2026, 3, 15),
        "eviction_date": None,
    }


def inbox_count(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("select count(*) from inbox")).scalar_one())
    finally:
        engine.dispose()


def test_failing_receiver_gets_the_partner_status_once_signed_after_retries(
    running, receiver
):
    with ClusterRpcProxy(running.config) as cluster:
        sub = cluster.notifications.add_subscription(
            actor="staff:ops", partner_id="kab-ballerup", partner_kind="housing",
            channel="webhook", event_types=["housing.partner_status"], url=receiver.url(),
            secret=SECRET,
        )
        cluster.notifications.add_legal_basis(
            actor="staff:jurist", recipient="kab-ballerup",
            information_kind="housing_case_status", purpose="forebyggelse af udsættelse",
            reference="retssikkerhedsloven § 5 a",
        )
        assert sub["secret"] == SECRET  # returned once, when it is set
        listed = cluster.notifications.list_subscriptions(actor="staff:ops")
        assert [s["partner_id"] for s in listed] == ["kab-ballerup"]
        assert "secret" not in listed[0]

    other = running.publish("housing.partner_status", partner_status("other-association"))
    event = running.publish("housing.partner_status", partner_status("kab-ballerup"))
    [row] = running.wait_status("sent", message_id=str(event.message_id))

    assert [r.status for r in receiver.requests] == [503, 503, 503, 200]
    assert row.attempts == 4 and row.basis == "retssikkerhedsloven § 5 a"
    assert row.recipient == "partner:kab-ballerup" and row.channel == "webhook"
    for request in receiver.requests:
        assert request.headers[signing.IDEMPOTENCY_KEY_HEADER] == str(event.message_id)
        assert request.headers[signing.EVENT_TYPE_HEADER] == "housing.partner_status"
    delivered = receiver.requests[-1]
    assert signing.verify(SECRET.encode(), delivered.headers[signing.SIGNATURE_HEADER],
                          delivered.body, now=int(time.time()))
    with pytest.raises(signing.SignatureMismatch):
        signing.verify(SECRET.encode(), delivered.headers[signing.SIGNATURE_HEADER],
                       delivered.body.replace(b"12-0304-2", b"12-0304-3"), now=int(time.time()))
    body = json.loads(delivered.body)
    # Exactly the partner schema's allow-list: no citizen_ref, nothing internal.
    assert set(body) == {"type", "message_id", "occurred_at", "association_id", "case_ref",
                         "tenancy_ref", "status", "status_text", "requested",
                         "requested_text", "occurred_on", "hold_until", "eviction_date",
                         "title", "text"}
    assert body["message_id"] == str(event.message_id)
    assert body["status"] == "hold_termination_requested"

    # The other association's status was consumed, and planned for no one.
    wait_for(lambda: inbox_count(running.db_url) == 2, what="both events consumed")
    assert running.deliveries(message_id=str(other.message_id)) == []
    assert len(receiver.requests) == 4
    with ClusterRpcProxy(running.config) as cluster:
        ledger = cluster.notifications.list_deliveries(
            actor={"kind": "staff", "id": "ops", "roles": ["operator"]}, channel="webhook")
    assert [(d["status"], d["attempts"]) for d in ledger] == [("sent", 4)]


def test_permanent_refusal_is_not_retried_and_an_operator_can_retry_it(running, receiver):
    receiver.script[:] = [410]
    with ClusterRpcProxy(running.config) as cluster:
        cluster.notifications.add_subscription(
            actor="staff:ops", partner_id="kab-ballerup", partner_kind="housing",
            channel="webhook", event_types=["housing.partner_status"], url=receiver.url(),
        )
        cluster.notifications.add_legal_basis(
            actor="staff:jurist", recipient="kab-ballerup",
            information_kind="housing_case_status", purpose="forebyggelse af udsættelse",
            reference="retssikkerhedsloven § 5 a",
        )
    event = running.publish("housing.partner_status", partner_status("kab-ballerup"))
    [row] = running.wait_status("failed", message_id=str(event.message_id))
    assert row.attempts == 1 and row.failure_kind == "permanent"
    assert "410" in row.last_error
    assert [r.status for r in receiver.requests] == [410]

    with ClusterRpcProxy(running.config) as cluster:
        again = cluster.notifications.retry_delivery(actor="staff:ops", delivery_id=row.id)
        assert again["status"] == "pending"
    running.wait_status("sent", message_id=str(event.message_id))
    assert [r.status for r in receiver.requests] == [410, 200]
    keys = {r.headers[signing.IDEMPOTENCY_KEY_HEADER] for r in receiver.requests}
    assert keys == {str(event.message_id)}
