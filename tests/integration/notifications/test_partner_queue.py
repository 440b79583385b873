"""Partner queues: one durable queue per partner behind the `samspil.partners`
exchange. A partner's broker user may read its own queue and nothing else: partner
A's consumer sees A's events and is refused B's queue."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import requests
from amqp.exceptions import AccessRefused
from kombu import Connection
from nameko.standalone.rpc import ClusterRpcProxy

from tests.infra import api
from tests.integration.notifications import support

pytestmark = pytest.mark.integration


@pytest.fixture
def running(amqp_uri, db_url, runner_factory):
    yield from support.start(amqp_uri, db_url, runner_factory)


@pytest.fixture
def partner_users(infra, vhost):
    """Two broker users, each allowed to read only its own partner queue."""
    made = {}
    for partner in ("kab-a", "kab-b"):
        user, password = f"test-{partner}-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
        requests.put(api(infra, f"/api/users/{quote(user, safe='')}"),
                     json={"password": password, "tags": ""}, timeout=10).raise_for_status()
        requests.put(
            api(infra, f"/api/permissions/{quote(vhost[0], safe='')}/{quote(user, safe='')}"),
            json={"configure": "^$", "write": "^$", "read": f"^partner\\.{partner}$"},
            timeout=10,
        ).raise_for_status()
        parts = urlsplit(vhost[1])
        netloc = f"{user}:{password}@{parts.hostname}:{parts.port or 5672}"
        made[partner] = urlunsplit(parts._replace(netloc=netloc))
    yield made
    for uri in made.values():
        user = urlsplit(uri).username or ""
        requests.delete(api(infra, f"/api/users/{quote(user, safe='')}"), timeout=10)


def status(association: str, tenancy: str) -> dict:
    return {"association_id": association, "case_ref": uuid.uuid4(), "tenancy_ref": tenancy,
            "status": "contact_established", "requested": None,
            "occurred_on": dt.date(2026, 2, 16), "hold_until": None, "eviction_date": None}


def test_each_partner_reads_its_own_queue_and_is_refused_the_others(running, partner_users):
    with ClusterRpcProxy(running.config) as cluster:
        for partner in ("kab-a", "kab-b"):
            cluster.notifications.add_subscription(
                actor="staff:ops", partner_id=partner, partner_kind="housing",
                channel="partner_queue", event_types=["housing.partner_status"],
            )
            cluster.notifications.add_legal_basis(
                actor="staff:jurist", recipient=partner,
                information_kind="housing_case_status", purpose="forebyggelse af udsættelse",
                reference="retssikkerhedsloven § 5 a",
            )
    to_a = running.publish("housing.partner_status", status("kab-a", "A-1"))
    to_b = running.publish("housing.partner_status", status("kab-b", "B-1"))
    running.wait_status("sent", count=2, channel="partner_queue")

    with Connection(partner_users["kab-a"]) as conn:
        message = conn.default_channel.basic_get(queue="partner.kab-a", no_ack=False)
        assert message is not None
        body = json.loads(message.body)
        assert body["message_id"] == str(to_a.message_id)
        assert body["tenancy_ref"] == "A-1" and "citizen_ref" not in body
        assert message.properties["message_id"] == str(to_a.message_id)
        assert message.delivery_info["routing_key"] == "kab-a"
        message.channel.basic_ack(message.delivery_tag)
        assert conn.default_channel.basic_get(queue="partner.kab-a") is None  # only its own
        with pytest.raises(AccessRefused):
            conn.channel().basic_get(queue="partner.kab-b")

    with Connection(partner_users["kab-b"]) as conn:
        message = conn.default_channel.basic_get(queue="partner.kab-b", no_ack=True)
        assert json.loads(message.body)["message_id"] == str(to_b.message_id)
        with pytest.raises(AccessRefused):
            conn.channel().basic_get(queue="partner.kab-a")
