"""Standard Webhooks, secrets at rest and their rotation, with the real service, broker
and database and a real HTTP receiver on loopback that verifies as a partner would, with
the `standardwebhooks` library:

- every delivery carries webhook-id (the event's message_id), webhook-timestamp and
  webhook-signature, and the library accepts it; the deprecated headers come along;
- a captured delivery replayed under another webhook-id fails verification (the
  receiver answers 401), as does one whose body is changed;
- the subscriptions table holds no secret in clear: only a Fernet token that the
  configured key opens;
- during a rotation's overlap every delivery verifies with the old secret and with the
  new one; once the old one is retired, only the new one verifies.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
import uuid

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.common.db import make_engine
from services.notifications import signing
from services.notifications.secretbox import SecretBox
from tests.integration.notifications import support
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

OPERATOR = {"kind": "staff", "id": "ops", "roles": ["operator"]}
PARTNER = "kab-ballerup"


@pytest.fixture
def running(amqp_uri, db_url, runner_factory):
    yield from support.start(amqp_uri, db_url, runner_factory)


@pytest.fixture
def receiver():
    server = support.HttpReceiver()
    yield server
    server.stop()


def partner_status() -> dict:
    return {
        "association_id": PARTNER, "case_ref": uuid.uuid4(), "tenancy_ref": "12-0304-2",
        "status": "hold_termination_requested", "requested": "hold_termination",
        "occurred_on": dt.date(2026, 2, 16), "hold_until": dt.date(2026, 3, 15),
        "eviction_date": None,
    }


def subscribe(running, receiver, secret: str | None = None) -> dict:
    with ClusterRpcProxy(running.config) as cluster:
        sub = cluster.notifications.add_subscription(
            actor="staff:ops", partner_id=PARTNER, partner_kind="housing",
            channel="webhook", event_types=["housing.partner_status"], url=receiver.url(),
            secret=secret,
        )
        cluster.notifications.add_legal_basis(
            actor="staff:jurist", recipient=PARTNER, information_kind="housing_case_status",
            purpose="forebyggelse af udsættelse", reference="retssikkerhedsloven § 5 a",
        )
    return sub


def deliver_one(running, receiver) -> support.Request:
    """Publish a partner status and return the request the receiver got for it."""
    event = running.publish("housing.partner_status", partner_status())
    running.wait_status("sent", message_id=str(event.message_id))
    [request] = [r for r in receiver.requests
                 if r.headers.get("webhook-id") == str(event.message_id)]
    return request


def stored_subscriptions(url: str) -> list[dict]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(
                "select id, secret, secret_ciphertext, previous_secret_ciphertext, "
                "previous_secret_expires_at from subscriptions order by id"))]
    finally:
        engine.dispose()


def test_a_delivery_is_a_standard_webhook_the_library_verifies_and_a_replay_fails(
    running, receiver
):
    sub = subscribe(running, receiver)
    secret = sub["secret"]  # generated, returned once, in the standard form
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    receiver.secret = secret

    delivered = deliver_one(running, receiver)

    assert delivered.verified is True and delivered.status == 200
    headers = delivered.headers
    body = Webhook(secret).verify(delivered.body, headers)
    assert body["message_id"] == headers["webhook-id"]
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert headers["webhook-signature"].startswith("v1,")
    # The deprecated headers, for one more release: the same id, the old scheme.
    assert headers[signing.IDEMPOTENCY_KEY_HEADER] == headers["webhook-id"]
    assert signing.verify(secret.encode(), headers[signing.SIGNATURE_HEADER], delivered.body,
                          now=int(time.time()))
    assert headers[signing.EVENT_TYPE_HEADER] == "housing.partner_status"

    # Replayed under another webhook-id (the attack the old scheme allowed): refused.
    replayed = headers | {"webhook-id": str(uuid.uuid4())}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(delivered.body, replayed)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(delivered.body.replace(b"12-0304-2", b"12-0304-3"), headers)
    answered = requests.post(receiver.url(), data=delivered.body, headers=replayed, timeout=5)
    assert answered.status_code == 401
    assert receiver.requests[-1].verified is False


def test_the_stored_secret_is_encrypted_not_plain_text(running, receiver, db_url):
    given = "whsec_" + "c2FtLXNwaWwtcGxhaW4tdGV4dC1jaGVjay0wMTIzNDU2Nzg5"
    subscribe(running, receiver, secret=given)

    [row] = stored_subscriptions(db_url)

    assert row["secret"] is None
    token = row["secret_ciphertext"]
    assert token and given not in token and given.removeprefix("whsec_") not in token
    assert SecretBox.from_config({}).decrypt(token) == given  # the development key
    # Nothing else in the row or the listing gives it away.
    assert given not in str(row)
    with ClusterRpcProxy(running.config) as cluster:
        listed = cluster.notifications.list_subscriptions(actor="staff:ops")
    assert given not in str(listed) and token not in str(listed)
    # And it signs: the partner holding the secret verifies the delivery.
    receiver.secret = given
    assert deliver_one(running, receiver).verified is True


def test_rotation_signs_with_both_secrets_during_the_overlap_then_retires_the_old(
    running, receiver, db_url
):
    old = subscribe(running, receiver)["secret"]
    [row] = stored_subscriptions(db_url)
    sub_id = row["id"]

    with ClusterRpcProxy(running.config) as cluster:
        rotated = cluster.notifications.rotate_subscription_secret(
            actor=OPERATOR, subscription_id=sub_id, overlap_hours=24)
        new = rotated["secret"]
        assert new != old and rotated["previous_secret_expires_at"]
        # One rotation at a time.
        with pytest.raises(Exception, match="rotation_in_progress"):
            cluster.notifications.rotate_subscription_secret(
                actor=OPERATOR, subscription_id=sub_id)
        listed = cluster.notifications.list_subscriptions(actor="staff:ops")
    assert listed[0]["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]
    assert old not in str(listed) and new not in str(listed)
    [row] = stored_subscriptions(db_url)
    assert row["secret"] is None
    assert old not in str(row) and new not in str(row)

    # During the overlap: a partner still on the old secret, one already on the new.
    receiver.secrets = [old]
    during = deliver_one(running, receiver)
    assert during.verified is True
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(during.body, during.headers)
    Webhook(new).verify(during.body, during.headers)
    assert signing.verify(old.encode(), during.headers[signing.SIGNATURE_HEADER],
                          during.body, now=int(time.time()))
    assert signing.verify(new.encode(), during.headers[signing.SIGNATURE_HEADER],
                          during.body, now=int(time.time()))

    # The old secret is retired: only the new one signs.
    with ClusterRpcProxy(running.config) as cluster:
        retired = cluster.notifications.retire_previous_secret(
            actor=OPERATOR, subscription_id=sub_id)
    assert retired["previous_secret_expires_at"] is None
    assert stored_subscriptions(db_url)[0]["previous_secret_ciphertext"] is None
    receiver.secrets = [new]
    after = deliver_one(running, receiver)
    assert after.verified is True
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after.body, after.headers)


def test_a_rotation_without_overlap_and_the_operator_role(running, receiver, db_url):
    old = subscribe(running, receiver)["secret"]
    sub_id = stored_subscriptions(db_url)[0]["id"]
    new = "whsec_" + "bmV3LXNlY3JldC1zZXQtYnktdGhlLW9wZXJhdG9yLTAxMjM0NQ=="
    with ClusterRpcProxy(running.config) as cluster:
        with pytest.raises(Exception, match="not_allowed"):
            cluster.notifications.rotate_subscription_secret(
                actor="staff:someone", subscription_id=sub_id)
        rotated = cluster.notifications.rotate_subscription_secret(
            actor=OPERATOR, subscription_id=sub_id, secret=new, overlap_hours=0)
    assert "secret" not in rotated  # given by the operator: not echoed
    assert rotated["previous_secret_expires_at"] is None

    receiver.secrets = [old]
    refused = running.publish("housing.partner_status", partner_status())
    wait_for(lambda: any(r.headers.get("webhook-id") == str(refused.message_id)
                         for r in receiver.requests), what="the delivery under the new secret")
    [request] = [r for r in receiver.requests
                 if r.headers.get("webhook-id") == str(refused.message_id)]
    assert request.verified is False and request.status == 401
    Webhook(new).verify(request.body, request.headers)
