"""The consent gate at the outbound edge, fed by intake's consent events: without a
consent nothing leaves and the ledger says why; a withdrawal stops deliveries from
that moment, including one that was waiting for a retry."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from tests.integration.notifications import support
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

PURPOSE = "brobygning til beskæftigelse"
OPERATOR = {"kind": "staff", "id": "ops", "roles": ["operator"]}


@pytest.fixture
def receiver():
    server = support.HttpReceiver()
    yield server
    server.stop()


@pytest.fixture
def running(amqp_uri, db_url, runner_factory, receiver):
    # Many quick retries: a delivery keeps retrying until the withdrawal arrives.
    for run in support.start(amqp_uri, db_url, runner_factory, DELIVERY_MAX_ATTEMPTS=1000):
        with ClusterRpcProxy(run.config) as cluster:
            cluster.notifications.add_subscription(
                actor="staff:ops", partner_id="jobcenter-ballerup", partner_kind="employment",
                channel="webhook", event_types=["intake.bridging_due"], url=receiver.url(),
            )
        yield run


def bridging(citizen: uuid.UUID) -> dict:
    return {"course_id": uuid.uuid4(), "citizen_ref": citizen, "partner_kind": "employment",
            "due_on": dt.date(2026, 8, 9), "planned_end": dt.date(2026, 10, 9)}


def consent(citizen: uuid.UUID, consent_id: uuid.UUID) -> dict:
    return {"consent_id": consent_id, "citizen_ref": citizen, "recipient": "jobcenter-ballerup",
            "information_kinds": ["bridging_status"], "purpose": PURPOSE,
            "given_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)}


def test_without_consent_nothing_leaves_and_the_reason_is_recorded(running, receiver):
    citizen = uuid.uuid4()
    # Another citizen's consent covers only that citizen.
    running.publish("intake.consent_given", consent(uuid.uuid4(), uuid.uuid4()))
    event = running.publish("intake.bridging_due", bridging(citizen))

    [row] = running.wait_status("blocked", message_id=str(event.message_id))
    assert row.last_error == "no_consent"
    assert row.recipient == "partner:jobcenter-ballerup" and row.attempts == 0
    assert row.last_attempt_at is not None and row.basis is None
    with ClusterRpcProxy(running.config) as cluster:
        blocked = cluster.notifications.list_deliveries(actor=OPERATOR, status="blocked")
        # The ledger names citizens: it is for operators, and reading it is logged.
        with pytest.raises(RemoteError) as refused:
            cluster.notifications.list_deliveries(actor="staff:ops", status="blocked")
    assert [(d["delivery_id"], d["last_error"]) for d in blocked] == [(row.id, "no_consent")]
    assert [(e["field"], e["rule"]) for e in json.loads(refused.value.value)["errors"]] == [
        ("actor", "not_allowed")]
    [search] = running.access_log(action="search")
    assert (search.actor, search.what, search.criterion) == (
        "staff:ops", "deliveries", "deliveries: status=blocked")
    assert receiver.requests == []  # blocked is final: it is never attempted


def test_withdrawn_consent_stops_deliveries_from_that_moment(running, receiver):
    citizen, consent_id = uuid.uuid4(), uuid.uuid4()
    running.publish("intake.consent_given", consent(citizen, consent_id))
    wait_for(lambda: _consents(running) == 1, what="the consent in the projection")

    first = running.publish("intake.bridging_due", bridging(citizen))
    [sent] = running.wait_status("sent", message_id=str(first.message_id))
    assert sent.basis == str(consent_id)
    assert len(receiver.requests) == 1

    receiver.default = 503  # the jobcenter is down: the next one waits for a retry
    second = running.publish("intake.bridging_due", bridging(citizen))
    running.wait_status("retrying", message_id=str(second.message_id))

    running.publish("intake.consent_withdrawn", {
        "consent_id": consent_id, "citizen_ref": citizen, "recipient": "jobcenter-ballerup",
        "withdrawn_at": dt.datetime.now(dt.UTC)})
    [stopped] = running.wait_status("blocked", message_id=str(second.message_id))
    assert stopped.last_error == "consent_withdrawn" and stopped.attempts >= 1
    tried = len(receiver.requests)

    receiver.default = 200
    third = running.publish("intake.bridging_due", bridging(citizen))
    [refused] = running.wait_status("blocked", message_id=str(third.message_id))
    assert refused.last_error == "consent_withdrawn" and refused.attempts == 0
    # Nothing was delivered after the withdrawal: only the failed tries before it.
    assert len(receiver.requests) == tried
    assert receiver.requests[0].status == 200
    assert all(r.status == 503 for r in receiver.requests[1:])


def _consents(running) -> int:
    from sqlalchemy import text

    from services.common.db import make_engine

    engine = make_engine(running.db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("select count(*) from consents")).scalar_one())
    finally:
        engine.dispose()
