"""When a course ends early, the partners who were told that bridging starts receive a
cancellation ("Brobygning aflyst"): through the same subscription, routing and
consent gate as the announcement, to no partner that was not told, and an
announcement that arrives after its cancellation is not sent at all. Real webhooks on
loopback, real envelopes, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from tests.integration.notifications import support
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

PURPOSE = "brobygning til beskæftigelse"
DUE = dt.date(2026, 8, 9)


@pytest.fixture
def told():
    server = support.HttpReceiver()
    yield server
    server.stop()


@pytest.fixture
def not_told():
    server = support.HttpReceiver()
    yield server
    server.stop()


@pytest.fixture
def running(amqp_uri, db_url, runner_factory, told, not_told):
    for run in support.start(amqp_uri, db_url, runner_factory):
        with ClusterRpcProxy(run.config) as cluster:
            # Subscribed to the announcement only: the cancellation comes with it.
            for partner, receiver in (("jobcenter-ballerup", told), ("jobcenter-vest", not_told)):
                cluster.notifications.add_subscription(
                    actor="staff:ops", partner_id=partner, partner_kind="employment",
                    channel="webhook", event_types=["intake.bridging_due"],
                    url=receiver.url(),
                )
        yield run


def due(course: uuid.UUID, citizen: uuid.UUID) -> dict:
    return {"course_id": course, "citizen_ref": citizen, "partner_kind": "employment",
            "due_on": DUE, "planned_end": dt.date(2026, 10, 9)}


def cancelled(course: uuid.UUID, citizen: uuid.UUID) -> dict:
    return {"course_id": course, "citizen_ref": citizen, "partner_kind": "employment",
            "due_on": DUE, "cancelled_on": dt.date(2026, 6, 30),
            "reason": "course_ended_early"}


def test_the_partner_told_of_bridging_is_told_of_its_cancellation_and_no_one_else(
    running, told, not_told
):
    citizen, course, consent_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # The citizen consented to sharing with one of the two jobcenters only.
    running.publish("intake.consent_given", {
        "consent_id": consent_id, "citizen_ref": citizen, "recipient": "jobcenter-ballerup",
        "information_kinds": ["bridging_status"], "purpose": PURPOSE,
        "given_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)})
    wait_for(lambda: _consents(running.db_url) == 1, what="the consent in the projection")

    announced = running.publish("intake.bridging_due", due(course, citizen))
    rows = running.wait_settled(announced, planned=2)
    assert {(r.recipient, r.status) for r in rows} == {
        ("partner:jobcenter-ballerup", "sent"), ("partner:jobcenter-vest", "blocked")}

    cancel = running.publish("intake.bridging_cancelled", cancelled(course, citizen))
    [row] = running.wait_settled(cancel, planned=1)
    assert (row.recipient, row.status, row.basis) == (
        "partner:jobcenter-ballerup", "sent", str(consent_id))
    assert [r.headers["Samspil-Event-Type"] for r in told.requests] == [
        "intake.bridging_due", "intake.bridging_cancelled"]
    body = json.loads(told.requests[1].body)
    assert body["title"] == "Brobygning aflyst"
    assert (body["course_ref"], body["due_on"], body["cancelled_on"], body["reason"]) == (
        str(course), DUE.isoformat(), "2026-06-30", "course_ended_early")
    assert "Forløbet i Fronten er afsluttet før planlagt." in body["text"]
    assert "citizen_ref" not in body
    assert json.loads(told.requests[0].body)["course_ref"] == body["course_ref"]
    assert not_told.requests == []


def test_a_cancellation_that_arrives_first_stops_the_announcement(running, told):
    # The two events travel on different queues and may arrive in either order.
    citizen, course = uuid.uuid4(), uuid.uuid4()

    cancel = running.publish("intake.bridging_cancelled", cancelled(course, citizen))
    running.wait_consumed(cancel)
    announced = running.publish("intake.bridging_due", due(course, citizen))
    running.wait_consumed(announced)

    assert running.deliveries(message_id=str(cancel.message_id)) == []
    assert running.deliveries(message_id=str(announced.message_id)) == []
    assert told.requests == []


def _consents(url: str) -> int:
    from sqlalchemy import text

    from services.common.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("select count(*) from consents")).scalar_one())
    finally:
        engine.dispose()
