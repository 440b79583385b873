"""The housing officers' worklist through the real stack: HTTP -> gateway -> RabbitMQ ->
housing -> SQLite or PostgreSQL. Cases are reported over RPC; the list is read over HTTP
page by page, with its filters, roles and errors, and its access log is checked."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.clock import FileClock
from services.common.db import make_engine
from services.common.migrate import upgrade
from services.gateway.auth import Role, create_token
from services.gateway.service import GatewayService
from services.housing.models import metadata
from services.housing.service import HousingService
from tests.conftest import service_config
from tests.integration.housing.support import ASSOCIATION, T0
from tests.support.net import free_port

pytestmark = pytest.mark.integration

PATH = "/api/worklists/housing/cases"
ACCESS_LOG = metadata.tables["access_log"]


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

    def get(self, token: str, **params: Any) -> requests.Response:
        return requests.get(self.base + PATH, params=params, timeout=30,
                            headers={"Authorization": f"Bearer {token}"})

    def rpc(self, method: str, **kwargs: Any) -> Any:
        with ClusterRpcProxy(self.config) as cluster:
            return getattr(cluster.housing, method)(**kwargs)

    def searches(self) -> list[Any]:
        engine = make_engine(self.urls["housing"])
        try:
            with engine.connect() as conn:
                return list(conn.execute(select(ACCESS_LOG).where(
                    ACCESS_LOG.c.action == "search").order_by(ACCESS_LOG.c.id)).all())
        finally:
            engine.dispose()


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
    return Stack(f"http://127.0.0.1:{port}", urls, config)


def report(stack: Stack, tenancy: str, deadline: str) -> str:
    case = stack.rpc("report_arrears", actor="partner:bf-ballerup", source="association",
                     association_id="bf-ballerup", tenancy_ref=tenancy,
                     citizen_ref=str(uuid.uuid4()), amount_dkk="9000", months_behind=2,
                     pakrav_sent_on="2025-03-03", pakrav_deadline=deadline)
    return str(case["case_id"])


def test_officers_page_through_the_list_over_http(stack):
    stack.rpc("register_association", actor="staff:operator", **ASSOCIATION)
    calm = report(stack, "T-1-1", "2025-06-02")  # no warning; outreach 19 March
    late = report(stack, "T-1-2", "2025-03-20")  # § 81 a help comes too late
    later = report(stack, "T-1-3", "2025-05-02")  # no warning; outreach 19 March

    officer = stack.token(Role.HOUSING_OFFICER, "lone")
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(3):
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        resp = stack.get(officer, **params)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        seen += body["items"]
        cursor = body["next_cursor"]
    assert cursor is None
    assert [i["subject_id"] for i in seen] == [late, *sorted([calm, later])]
    assert seen[0]["reason_code"] == "processing_exceeds_pakrav_deadline"
    assert seen[0]["details"]["pakrav_deadline"] == "2025-03-20"
    assert seen[0]["details"]["next_step_text"].startswith("Kontakt borgeren senest")

    # Filters travel as query parameters.
    only = stack.get(officer, level="outreach_due", association_id="bf-ballerup", limit=50)
    assert [i["subject_id"] for i in only.json()["items"]] == [late, *sorted([calm, later])]
    assert stack.get(officer, status="closed").json() == {"items": [], "next_cursor": None}

    # Fronten reads it too; a partner and a tovholder may not.
    assert stack.get(stack.token(Role.FRONTEN, "anne")).status_code == 200
    assert stack.get(stack.token(Role.PARTNER, "bf", "bf-ballerup")).status_code == 403
    assert stack.get(stack.token(Role.TOVHOLDER, "mette")).status_code == 403

    # Bad input: a problem naming the field, never a stack trace.
    bad = stack.get(officer, cursor="nonsense")
    assert bad.status_code == 400
    assert [e["field"] for e in bad.json()["errors"]] == ["cursor"]
    assert stack.get(officer, level="evicted").status_code == 400
    assert stack.get(officer, limit=0).status_code == 400

    # One search per page read, by the caller the gateway named.
    searches = stack.searches()
    officer_reads = [r for r in searches if r.actor == "staff:lone"]
    assert len(officer_reads) == 5  # three pages, the filtered page, the closed list
    assert officer_reads[0].roles == "housing_officer"
    assert officer_reads[0].purpose == "arbejdsliste over huslejerestancer"
    assert officer_reads[3].criterion == (
        "housing.cases.open level=outreach_due association_id=bf-ballerup")
    assert [r.actor for r in searches] == ["staff:lone"] * 5 + ["staff:anne"]

    # Over RPC, a caller's own purpose is what the log keeps.
    stack.rpc("case_worklist", actor={"kind": "staff", "id": "lone",
                                      "roles": ["housing_officer"],
                                      "purpose": "ugentlig gennemgang"})
    assert stack.searches()[-1].purpose == "ugentlig gennemgang"
