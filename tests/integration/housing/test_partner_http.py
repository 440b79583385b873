"""Partner isolation through the real stack: HTTP -> gateway -> RabbitMQ -> housing ->
SQLite or PostgreSQL. The takeover of issue 16 is refused over HTTP, the 404 bodies for
another association's case and a missing case compare equal (apart from the request
id), refusals of a report never say whose a tenancy is, and an association pages
through its own cases at /api/partner/cases."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import requests
from sqlalchemy.orm import Session

from services.common.clock import FileClock
from services.common.db import make_engine
from services.common.migrate import upgrade
from services.gateway.auth import Role, create_token
from services.gateway.service import GatewayService
from services.housing.service import HousingService
from tests.conftest import service_config
from tests.integration.housing.support import ASSOCIATION, OTHER_ASSOCIATION, T0, count
from tests.support.net import free_port

pytestmark = pytest.mark.integration

CITIZEN = "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80"
REPORT = {"tenancy_ref": "T-1-1", "citizen_ref": CITIZEN, "amount_dkk": "12500.00",
          "months_behind": 2, "pakrav_sent_on": "2025-03-03", "pakrav_deadline": "2025-03-20"}


class Stack:
    def __init__(self, base: str, urls: dict[str, str]) -> None:
        self.base, self.urls = base, urls

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

    def ok(self, method: str, path: str, token: str, status: int = 200,
           **kwargs: Any) -> Any:
        response = self.call(method, path, token, **kwargs)
        assert response.status_code == status, response.text
        return response.json()


@pytest.fixture
def stack(amqp_uri, db_url_factory, runner_factory, tmp_path) -> Stack:
    urls = {"gateway": db_url_factory("gateway"), "housing": db_url_factory("housing")}
    for name, url in urls.items():
        upgrade(name, url)
    clock = FileClock(tmp_path / "clock")
    clock.set(T0)
    port = free_port()
    config = service_config(amqp_uri, urls, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
                            CLOCK=f"file:{clock.path}", RPC_TIMEOUT_SECONDS=20)
    runner_factory(config, GatewayService, HousingService).start()
    return Stack(f"http://127.0.0.1:{port}", urls)


def body(response: requests.Response) -> dict[str, Any]:
    """The problem body without what differs per request."""
    return {k: v for k, v in response.json().items() if k != "request_id"}


def test_associations_cannot_probe_or_take_over_each_others_cases(stack):
    operator = stack.token(Role.OPERATOR, "ops")
    fronten = stack.token(Role.FRONTEN, "anne")
    ballerup = stack.token(Role.PARTNER, "bf", "bf-ballerup")
    other = stack.token(Role.PARTNER, "other", "bf-other")
    for association in (ASSOCIATION, OTHER_ASSOCIATION):
        stack.ok("POST", "/api/housing/associations", operator, json=association)

    # Fronten opens a case on a tenancy no association has registered.
    frontens = stack.ok("POST", "/api/housing/cases", fronten, 201, json={
        "source": "fronten", "tenancy_ref": "T-99-1", "citizen_ref": CITIZEN})["case_id"]

    # The takeover: an association reports that tenancy with the tenant's CPR number.
    takeover = stack.call("POST", "/api/housing/cases", ballerup, json={
        **REPORT, "tenancy_ref": "T-99-1", "citizen_ref": None,
        "match": {"cpr": "010190-1234"}})
    assert takeover.status_code == 400
    assert [(e["field"], e["rule"]) for e in takeover.json()["errors"]] == [
        ("tenancy_ref", "housing.tenancy_not_registered_to_association")]
    # Another association's tenancy: the same answer, byte for byte but the request id.
    foreign = stack.call("POST", "/api/housing/cases", ballerup,
                         json={**REPORT, "tenancy_ref": "T-7-1"})
    assert foreign.status_code == 400 and body(foreign) == body(takeover)
    assert "bf-other" not in foreign.text and "010190" not in takeover.text
    assert stack.ok("GET", f"/api/housing/cases/{frontens}", fronten)["association_id"] is None

    # Its own tenancy: accepted, and shown as the association's view.
    own = stack.ok("POST", "/api/housing/cases", ballerup, 201, json=REPORT)
    assert "citizen_ref" not in own and "amount_dkk" not in own
    assert own["requested"] == "for_information" and own["association_id"] == "bf-ballerup"

    # Reading: another's case and a missing case are the same 404.
    for path in ("/api/partner/cases/{}", "/api/housing/cases/{}"):
        theirs = stack.call("GET", path.format(own["case_id"]), other)
        frontens_case = stack.call("GET", path.format(frontens), ballerup)
        missing = stack.call("GET", path.format(uuid.uuid4()), other)
        assert theirs.status_code == frontens_case.status_code == missing.status_code == 404
        assert body(theirs) == body(frontens_case) == body(missing), path
    mine = stack.ok("GET", f"/api/partner/cases/{own['case_id']}", ballerup)
    assert mine["tenancy_ref"] == "T-1-1" and "citizen_ref" not in mine

    # A tovholder who is not the citizen's: the same 404 as a missing case.
    stranger = stack.token(Role.TOVHOLDER, "ole")
    hidden = stack.call("GET", f"/api/housing/cases/{own['case_id']}", stranger)
    nothing = stack.call("GET", f"/api/housing/cases/{uuid.uuid4()}", stranger)
    assert hidden.status_code == nothing.status_code == 404
    assert body(hidden) == body(nothing)

    # The refused reports were audited for the municipality (never with the CPR number).
    officer = stack.token(Role.HOUSING_OFFICER, "lone")
    refused = stack.ok("GET", "/api/worklists/housing/refused-reports", officer)
    assert [(i["details"]["tenancy_ref"], i["reason_code"]) for i in refused["items"]] == [
        ("T-7-1", "tenancy_of_other_association"), ("T-99-1", "tenancy_not_registered")]
    assert "010190" not in str(refused)
    assert stack.call("GET", "/api/worklists/housing/refused-reports",
                      ballerup).status_code == 403
    engine = make_engine(stack.urls["housing"])
    try:
        assert count(engine, "arrears_cases") == 2
    finally:
        engine.dispose()


def test_an_association_pages_through_its_own_cases(stack):
    operator = stack.token(Role.OPERATOR, "ops")
    ballerup = stack.token(Role.PARTNER, "bf", "bf-ballerup")
    for association in (ASSOCIATION, OTHER_ASSOCIATION):
        stack.ok("POST", "/api/housing/associations", operator, json=association)
    made = [stack.ok("POST", "/api/housing/cases", ballerup, 201, json={
        **REPORT, "tenancy_ref": ref, "citizen_ref": str(uuid.uuid4()),
        "pakrav_deadline": deadline})["case_id"]
        for ref, deadline in (("T-1-1", "2025-04-20"), ("T-1-2", "2025-03-20"))]

    first = stack.ok("GET", "/api/partner/cases", ballerup, params={"limit": 1})
    second = stack.ok("GET", "/api/partner/cases", ballerup,
                      params={"limit": 1, "cursor": first["next_cursor"]})
    assert [i["subject_id"] for i in first["items"] + second["items"]] == made[::-1]
    assert second["next_cursor"] is None
    item = first["items"][0]
    assert (item["due_on"], item["citizen_ref"], item["details"]["tenancy_ref"]) == (
        "2025-03-20", None, "T-1-2")
    assert stack.ok("GET", "/api/partner/cases", ballerup,
                    params={"status": "closed"}) == {"items": [], "next_cursor": None}
    bad = stack.call("GET", "/api/partner/cases", ballerup, params={"status": "pending"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "status"
    # Staff have their own list; the association's is for associations.
    fronten = stack.token(Role.FRONTEN, "anne")
    assert stack.call("GET", "/api/partner/cases", fronten).status_code == 403
