"""Per-case order across retries, and the ledger's every attempt (issue 12, point 7).

Three statements about one arrears case to one webhook: while the first waits for a
retry (HTTP 503), the two after it wait behind it, untried; when it is through they
follow, in order. The clock is moved by hand (CLOCK=file:...), so the retries happen
when the test says. Every attempt is a row in `delivery_attempts`. A statement that
fails for good (HTTP 410) does not hold back the one after it."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import select

from services.common.clock import FileClock
from services.common.db import make_engine
from services.notifications.models import DeliveryAttempt
from tests.integration.notifications import support
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def receiver():
    server = support.HttpReceiver()
    yield server
    server.stop()


@pytest.fixture
def clock(tmp_path) -> FileClock:
    moved = FileClock(tmp_path / "clock")
    moved.set(T0)
    return moved


@pytest.fixture
def running(amqp_uri, db_url, runner_factory, receiver, clock):
    for run in support.start(amqp_uri, db_url, runner_factory, CLOCK=f"file:{clock.path}",
                             DELIVERY_BACKOFF_BASE_SECONDS=30,
                             DELIVERY_BACKOFF_CAP_SECONDS=3600, DELIVERY_MAX_ATTEMPTS=None):
        with ClusterRpcProxy(run.config) as cluster:
            cluster.notifications.add_subscription(
                actor="staff:ops", partner_id="kab-ballerup", partner_kind="housing",
                channel="webhook", event_types=["housing.partner_status"], url=receiver.url(),
            )
            cluster.notifications.add_legal_basis(
                actor="staff:jurist", recipient="kab-ballerup",
                information_kind="housing_case_status", purpose="keep_home",
                reference="retssikkerhedsloven § 5 a",
            )
        yield run


def statement(case: uuid.UUID, n: int) -> dict[str, Any]:
    return {"association_id": "kab-ballerup", "case_ref": case, "tenancy_ref": f"L-{n}",
            "status": "hold_termination_requested", "requested": "hold_termination",
            "occurred_on": dt.date(2026, 2, 16), "hold_until": dt.date(2026, 3, 15),
            "eviction_date": None}


def attempts(db_url: str, delivery_id: int) -> list[tuple[int, str, str | None]]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(DeliveryAttempt.attempt, DeliveryAttempt.outcome, DeliveryAttempt.error)
                .where(DeliveryAttempt.delivery_id == delivery_id)
                .order_by(DeliveryAttempt.id)).all()
    finally:
        engine.dispose()
    return [(int(r[0]), str(r[1]), r[2]) for r in rows]


def seen(receiver: support.HttpReceiver) -> list[tuple[str, int]]:
    return [(json.loads(r.body)["tenancy_ref"], r.status) for r in receiver.requests]


def test_later_statements_wait_behind_a_retry_and_follow_in_order(running, receiver, clock):
    case = uuid.uuid4()
    receiver.script[:] = [503, 503]
    first = running.publish("housing.partner_status", statement(case, 1))
    [head] = running.wait_status("retrying", message_id=str(first.message_id))
    later = [running.publish("housing.partner_status", statement(case, n)) for n in (2, 3)]
    for event in later:
        running.wait_status("pending", message_id=str(event.message_id))
    assert seen(receiver) == [("L-1", 503)]  # the later ones were not tried

    clock.set(T0 + dt.timedelta(minutes=1))  # past the first retry (15-30 s)
    wait_for(lambda: len(attempts(running.db_url, head.id)) == 2, what="the second try")
    assert seen(receiver) == [("L-1", 503), ("L-1", 503)]

    clock.set(T0 + dt.timedelta(minutes=3))  # past the second retry (30-60 s later)
    for event in later:
        running.wait_status("sent", message_id=str(event.message_id))

    assert seen(receiver) == [("L-1", 503), ("L-1", 503), ("L-1", 200), ("L-2", 200),
                              ("L-3", 200)]
    assert len({r.headers["webhook-id"] for r in receiver.requests[:3]}) == 1
    [head] = running.deliveries(message_id=str(first.message_id))
    assert (head.status, head.attempts, head.failing_since) == ("sent", 3, None)
    error = "HTTPError: webhook answered HTTP 503"
    assert attempts(running.db_url, head.id) == [
        (1, "retrying", error), (2, "retrying", error), (3, "sent", None)]
    for event in later:
        [row] = running.deliveries(message_id=str(event.message_id))
        assert attempts(running.db_url, row.id) == [(1, "sent", None)]


def test_a_statement_that_fails_for_good_holds_no_one_back(running, receiver, clock):
    case = uuid.uuid4()
    receiver.script[:] = [410]
    first = running.publish("housing.partner_status", statement(case, 1))
    [head] = running.wait_status("failed", message_id=str(first.message_id))
    second = running.publish("housing.partner_status", statement(case, 2))

    running.wait_status("sent", message_id=str(second.message_id))

    assert seen(receiver) == [("L-1", 410), ("L-2", 200)]
    assert attempts(running.db_url, head.id) == [
        (1, "failed", "HTTPError: webhook answered HTTP 410")]
