"""The operators' worklist of subscriptions that can deliver nothing (issue 16, point 5):
each with its reason in Danish, most urgent first, paginated with the kit's cursor; the
same count on the health port's /metrics; a subscription leaves the list when the
directory or the rules change so that it can deliver. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from tests.integration.notifications import support
from tests.support.net import free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

OPERATOR = {"kind": "staff", "id": "ops", "roles": ["operator"]}


@pytest.fixture
def health_port() -> int:
    return free_port()


@pytest.fixture
def running(amqp_uri, db_url, runner_factory, health_port):
    yield from support.start(amqp_uri, db_url, runner_factory,
                             HEALTH_ADDRESS=f"127.0.0.1:{health_port}")


def registered(running: support.Running, partner: str, *, active: bool = True,
               accepts: tuple[str, ...] = ()) -> None:
    running.wait_consumed(running.publish("partners.partner_registered", {
        "partner_id": partner, "name": partner, "category": "housing",
        "accepts": list(accepts), "active": active, "changed_at": dt.datetime.now(dt.UTC)}))


def listed(running: support.Running, **page: object) -> dict:
    with ClusterRpcProxy(running.config) as cluster:
        return cluster.notifications.silent_subscriptions(actor=OPERATOR, **page)


def metric(port: int) -> int:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    [line] = [line for line in text.splitlines()
              if line.startswith("samspil_silent_subscriptions ")]
    return int(float(line.split()[1]))


def test_each_silent_subscription_with_its_reason_most_urgent_first(running, health_port):
    with ClusterRpcProxy(running.config) as cluster:
        # No routing rule sends housing statuses to a partner queue any more.
        [queue_rule] = [r for r in cluster.notifications.list_routing_rules(
            actor="staff:ops", event_type="housing.partner_status")
            if r["channel"] == "partner_queue"]
        cluster.notifications.remove_routing_rule(actor="staff:ops",
                                                  rule_id=queue_rule["rule_id"])
        made = {}
        for partner, channel in (("kab-ballerup", "webhook"), ("ukendt", "webhook"),
                                 ("lukket", "webhook"), ("kun-koe", "partner_queue")):
            made[partner] = cluster.notifications.add_subscription(
                actor="staff:ops", partner_id=partner, partner_kind="housing",
                channel=channel, event_types=["housing.partner_status"],
                url="http://127.0.0.1:9/hook" if channel == "webhook" else None,
            )["subscription_id"]
    registered(running, "kab-ballerup")
    registered(running, "lukket", active=False, accepts=("hold_termination",))
    registered(running, "kun-koe")

    first = listed(running, cursor=None, limit=2)
    rest = listed(running, cursor=first["next_cursor"], limit=2)

    assert rest["next_cursor"] is None
    items = first["items"] + rest["items"]
    assert [(i["subject_id"], i["reason_code"]) for i in items] == [
        (str(made["ukendt"]), "partner_unknown"),
        (str(made["lukket"]), "partner_inactive"),
        (str(made["kun-koe"]), "nothing_routed"),
    ]
    assert items[0]["reason"].startswith("Partneren findes ikke i partnerkataloget")
    assert {i["kind"] for i in items} == {"silent_subscription"}
    assert items[2]["details"] == {
        "partner_id": "kun-koe", "partner_kind": "housing", "channel": "partner_queue",
        "event_types": ["housing.partner_status"], "url": None, "blocked_deliveries": 0}
    assert metric(health_port) == 3

    # The directory learns of the unknown one; the queue-only one takes hand-offs.
    registered(running, "ukendt")
    registered(running, "kun-koe", accepts=("hold_termination",))
    wait_for(lambda: metric(health_port) == 1, what="two subscriptions delivering again")
    assert [i["reason_code"] for i in listed(running, cursor=None, limit=50)["items"]] == [
        "partner_inactive"]


def test_a_cursor_from_another_list_is_refused_by_field(running):
    with ClusterRpcProxy(running.config) as cluster, pytest.raises(RemoteError) as error:
        cluster.notifications.silent_subscriptions(actor=OPERATOR, cursor="bm90LWEtY3Vyc29y",
                                                   limit=5)
    assert error.value.exc_type == "InvalidInput"
    assert [e["field"] for e in json.loads(error.value.value)["errors"]] == ["cursor"]
