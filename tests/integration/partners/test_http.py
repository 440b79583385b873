"""Partners and staff over HTTP, through the real stack: HTTP -> gateway -> RabbitMQ ->
partners -> SQLite or PostgreSQL. A partner answers with its token and lists its own
hand-offs; another partner's hand-off is a 404 with the body of a missing one; staff
read the subject's hand-offs and the directory."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import requests
from sqlalchemy.orm import Session

from contracts import registry
from services.common.amqp import Publisher, event_exchange
from services.common.clock import FileClock
from services.common.db import make_engine
from services.common.migrate import upgrade
from services.gateway.auth import Role, create_token
from services.gateway.service import GatewayService
from services.partners.service import PartnersService
from tests.conftest import service_config
from tests.integration.partners.conftest import T0, wait_for
from tests.support.net import free_port

pytestmark = pytest.mark.integration

CITIZEN = uuid.UUID("0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80")


class Stack:
    def __init__(self, base: str, urls: dict[str, str], config: dict[str, Any]) -> None:
        self.base, self.urls, self.config = base, urls, config

    def token(self, role: Role, name: str, partner: str | None = None) -> str:
        engine = make_engine(self.urls["gateway"])
        try:
            with Session(engine) as session:
                token = create_token(session, name=name, role=role, partner_id=partner,
                                     now=dt.datetime.now(dt.UTC))
                session.commit()
        finally:
            engine.dispose()
        return token

    def call(self, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, self.base + path, timeout=30,
                                headers={"Authorization": f"Bearer {token}"}, **kwargs)


@pytest.fixture
def stack(amqp_uri, db_url_factory, runner_factory, tmp_path) -> Stack:
    urls = {"gateway": db_url_factory("gateway"), "partners": db_url_factory("partners")}
    for name, url in urls.items():
        upgrade(name, url)
    clock = FileClock(tmp_path / "clock")
    clock.set(T0)
    port = free_port()
    config = service_config(amqp_uri, urls, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
                            CLOCK=f"file:{clock.path}", RPC_TIMEOUT_SECONDS=20)
    runner_factory(config, GatewayService, PartnersService).start()
    return Stack(f"http://127.0.0.1:{port}", urls, config)


def without_request_id(response: requests.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    body.pop("request_id", None)
    return body


def test_a_partner_answers_over_http_and_sees_only_its_own(stack):
    operator = stack.token(Role.OPERATOR, "ole")
    for pid in ("jobcenter-ballerup", "jobcenter-herlev"):
        made = stack.call("POST", "/api/partners", operator, json={
            "partner_id": pid, "name": pid.replace("-", " ").title(), "category": "employment",
            "accepts": ["bridging_employment"], "contact_name": "Visitationen",
            "contact_email": f"{pid}@example.dk"})
        assert made.status_code == 201, made.text
    patched = stack.call("PATCH", "/api/partners/jobcenter-ballerup", operator,
                         json={"contact_phone": "44 77 20 01"})
    assert patched.status_code == 200, patched.text
    read = stack.call("GET", "/api/partners/jobcenter-ballerup",
                      stack.token(Role.TOVHOLDER, "mette")).json()
    assert (read["active"], read["contact_phone"]) == (True, "44 77 20 01")

    course = uuid.uuid4()
    publisher = Publisher(stack.config["AMQP_URI"])
    envelope = registry.build("intake.bridging_due", {
        "course_id": course, "citizen_ref": CITIZEN, "partner_kind": "employment",
        "due_on": dt.date(2025, 4, 9), "planned_end": dt.date(2025, 6, 9)},
        producer="intake", correlation_id=str(course), occurred_at=T0)
    publisher.publish(envelope.to_wire(), exchange=event_exchange("intake"),
                      routing_key=envelope.type, message_id=str(envelope.message_id))
    publisher.close()

    ballerup = stack.token(Role.PARTNER, "jobcenter", "jobcenter-ballerup")
    herlev = stack.token(Role.PARTNER, "herlev", "jobcenter-herlev")
    listed = wait_for(lambda: (r := stack.call("GET", "/api/partner/handoffs", ballerup))
                      .json().get("items") and r, what="the partner's hand-off")
    item = listed.json()["items"][0]
    handoff_id = item["details"]["handoff_id"]
    assert item["details"]["answer_by"] == "2025-03-12"
    assert item["details"]["contact"]["name"] == "Fronten"

    answered = stack.call("POST", f"/api/handoffs/{handoff_id}/answers", ballerup,
                          json={"state": "accepted", "note": "Vi tager den."})
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["state"] == "accepted" and "citizen_ref" not in body and "history" not in body

    refused = stack.call("POST", f"/api/handoffs/{handoff_id}/answers", ballerup,
                         json={"state": "received"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "state"

    # Another partner's hand-off and a missing one: the same 404, apart from the request id.
    other = stack.call("POST", f"/api/handoffs/{handoff_id}/answers", herlev,
                       json={"state": "declined", "reason": "x"})
    missing = stack.call("POST", f"/api/handoffs/{uuid.uuid4()}/answers", herlev,
                         json={"state": "declined", "reason": "x"})
    assert other.status_code == missing.status_code == 404
    assert without_request_id(other) == without_request_id(missing)
    other_get = stack.call("GET", f"/api/partner/handoffs/{handoff_id}", herlev)
    assert other_get.status_code == 404
    assert without_request_id(other_get) == without_request_id(missing)
    assert stack.call("GET", f"/api/partner/handoffs/{handoff_id}", ballerup).json()[
        "state"] == "accepted"

    # Staff read the course's hand-offs; a partner may not use the staff routes.
    fronten = stack.token(Role.FRONTEN, "anne")
    of_course = stack.call("GET", "/api/handoffs", fronten,
                           params={"subject_type": "course", "subject_id": str(course)})
    assert of_course.status_code == 200, of_course.text
    assert sorted((h["partner_id"], h["state"]) for h in of_course.json()["items"]) == [
        ("jobcenter-ballerup", "accepted"), ("jobcenter-herlev", "requested")]
    assert stack.call("GET", "/api/worklists/handoffs/awaiting-answer",
                      ballerup).status_code == 403
    assert stack.call("GET", "/api/partners", ballerup).status_code == 403
