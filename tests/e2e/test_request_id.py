"""One HTTP call can be followed to the deliveries it causes (issue 14, observability):
the gateway's `X-Request-Id` reaches the service's RPC worker (its log lines name it),
becomes the correlation id of the events the request emits, and so of the delivery
ledger's rows in notifications, and of the events the request causes further on."""

from __future__ import annotations

import logging

import pytest

from services.common.logs import ContextFilter
from services.gateway.auth import Role
from tests.e2e.conftest import System

pytestmark = pytest.mark.e2e


def test_a_request_id_names_the_workers_logs_the_events_and_the_deliveries(
        system: System, caplog: pytest.LogCaptureFixture):
    caplog.handler.addFilter(ContextFilter())
    caplog.set_level(logging.DEBUG, logger="nameko.containers")
    fronten = system.token(Role.FRONTEN, "anne")
    coordinator = system.token(Role.COORDINATOR, "karin")
    citizen = system.ok("POST", "/api/citizens", fronten, 201, json={
        "cpr": "241190-1234", "name": "Jonas Eksempel", "email": "jonas@example.dk",
        "preferred_channel": "email"})["citizen_ref"]

    # Opened without a tovholder: notifications tells Fronten's mailbox.
    response = system.call("POST", "/api/pathways", coordinator, json={"citizen_ref": citizen})
    assert response.status_code == 201, response.text
    request_id = response.headers["X-Request-Id"]
    pathway = response.json()["pathway_id"]

    # The event the request emitted carries the request's id ...
    emitted = system.rows("coordination", "select type, correlation_id from outbox where "
                                          "type = 'coordination.pathway_opened'")
    assert emitted == [("coordination.pathway_opened", request_id)]
    # ... and so does every delivery notifications plans for it.
    deliveries = system.wait_until(lambda: system.rows(
        "notifications", "select correlation_id, recipient_kind from deliveries where "
                         "event_type = 'coordination.pathway_opened'"),
        what="deliveries for the opened pathway")
    assert {correlation for correlation, _ in deliveries} == {request_id}
    # The coordination worker that served the call logged under the request's id.
    served = [r for r in caplog.records if getattr(r, "correlation_id", None) == request_id
              and "open_pathway" in r.getMessage()]
    assert served, "no log line of the RPC worker names the request id"

    # Each request has its own id.
    other = system.call("GET", f"/api/pathways/{pathway}", coordinator)
    assert other.status_code == 200 and other.headers["X-Request-Id"] != request_id
