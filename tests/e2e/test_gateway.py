"""The HTTP API over real services: authentication, roles, problem bodies, limits,
timeouts, OpenAPI. Only HTTP is used to drive the system."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import eventlet
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nameko.rpc import rpc
from sqlalchemy import text
from sqlalchemy.orm import Session

from services.common.db import make_engine
from services.common.migrate import upgrade
from services.gateway.api import ROUTES
from services.gateway.auth import Role, create_token
from services.gateway.openapi import openapi_path
from services.gateway.service import GatewayService
from services.intake.service import IntakeService
from tests.conftest import service_config
from tests.support.net import free_port

pytestmark = pytest.mark.e2e




class Api:
    def __init__(self, base: str, urls: dict[str, str]) -> None:
        self.base = base
        self.urls = urls
        self.tokens: dict[str, str] = {}

    def token(self, role: Role, name: str = "anne", partner: str | None = None) -> str:
        engine = make_engine(self.urls["gateway"])
        with Session(engine) as session:
            token = create_token(session, name=name, role=role, partner_id=partner,
                                 now=dt.datetime.now(dt.UTC))
            session.commit()
        engine.dispose()
        return token

    def call(self, method: str, path: str, token: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.base + path, headers=headers, timeout=30, **kwargs)

    def count(self, service: str, table: str) -> int:
        engine = make_engine(self.urls[service])
        with engine.connect() as conn:
            n = int(conn.execute(text(f"select count(*) from {table}")).scalar_one())  # noqa: S608
        engine.dispose()
        return n


def start(amqp_uri, db_url_factory, runner_factory, *services, **extra) -> Api:
    urls = {"gateway": db_url_factory("gateway"), "intake": db_url_factory("intake")}
    for name, url in urls.items():
        upgrade(name, url)
    port = free_port()
    config = service_config(amqp_uri, urls, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", **extra)
    runner = runner_factory(config, GatewayService, *services)
    runner.start()
    return Api(f"http://127.0.0.1:{port}", urls)


@pytest.fixture
def api(amqp_uri, db_url_factory, runner_factory) -> Api:
    return start(amqp_uri, db_url_factory, runner_factory, IntakeService)


INQUIRY = {"channel": "walk_in", "inquirer_kind": "citizen", "topics": ["housing"],
           "wish": "Jeg vil gerne have styr på huslejen."}


def test_fronten_registers_an_inquiry_over_http(api):
    token = api.token(Role.FRONTEN)
    resp = api.call("POST", "/api/inquiries", token, json=INQUIRY)
    assert resp.status_code == 201, resp.text
    assert uuid.UUID(resp.json()["inquiry_id"])
    assert api.count("intake", "inquiries") == 1
    engine = make_engine(api.urls["intake"])
    with engine.connect() as conn:
        actor = conn.execute(text("select registered_by from inquiries")).scalar_one()
    engine.dispose()
    assert actor == "staff:anne"  # the identity came from the token


def test_an_idempotency_key_makes_a_retry_safe(api):
    """The IETF httpapi draft's Idempotency-Key: the same key and body replay the first
    answer (and do nothing), another body is a 422, a refused request is refused again
    the same way, and a key counts per caller."""
    anne, bo = api.token(Role.FRONTEN), api.token(Role.FRONTEN, name="bo")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.call("POST", "/api/inquiries", anne, json=INQUIRY, headers=dict(key))
    assert first.status_code == 201, first.text
    again = api.call("POST", "/api/inquiries", anne, json=INQUIRY, headers=dict(key))
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert api.count("intake", "inquiries") == 1

    other_body = api.call("POST", "/api/inquiries", anne, headers=dict(key),
                          json={**INQUIRY, "wish": "Noget andet."})
    assert other_body.status_code == 422
    assert other_body.json()["errors"][0]["field"] == "Idempotency-Key"
    assert other_body.json()["errors"][0]["rule"] == "idempotency_key.reused"

    # The same key from another caller is another key.
    theirs = api.call("POST", "/api/inquiries", bo, json=INQUIRY, headers=dict(key))
    assert theirs.status_code == 201 and theirs.json() != first.json()
    assert api.count("intake", "inquiries") == 2

    # A refusal from the service is the answer to that key, too.
    bad_key = {"Idempotency-Key": str(uuid.uuid4())}
    unknown = {**INQUIRY, "citizen_ref": str(uuid.uuid4())}
    refused = api.call("POST", "/api/inquiries", anne, json=unknown, headers=dict(bad_key))
    replayed = api.call("POST", "/api/inquiries", anne, json=unknown, headers=dict(bad_key))
    assert refused.status_code == replayed.status_code == 400
    assert replayed.json()["errors"] == refused.json()["errors"]
    assert api.count("intake", "inquiries") == 2

    # A request that ran but whose answer was lost (a 5xx releases the key, so the gateway
    # has no answer to replay): the retry reaches intake, which recorded the request
    # under the key, and changes nothing.
    lost_key = {"Idempotency-Key": str(uuid.uuid4())}
    ran = api.call("POST", "/api/inquiries", anne, json=INQUIRY, headers=dict(lost_key))
    assert ran.status_code == 201
    engine = make_engine(api.urls["gateway"])
    with engine.begin() as conn:  # what the gateway does with a key whose answer was a 5xx
        conn.execute(text("delete from idempotency_keys where status = 201 and "
                          "completed_at = (select max(completed_at) from idempotency_keys)"))
    engine.dispose()
    retried = api.call("POST", "/api/inquiries", anne, json=INQUIRY, headers=dict(lost_key))
    assert retried.status_code == 409, retried.text
    assert retried.json()["errors"][0]["rule"] == "idempotency_key.already_done"
    assert api.count("intake", "inquiries") == 3

    malformed = api.call("POST", "/api/inquiries", anne, json=INQUIRY,
                         headers={"Idempotency-Key": "x" * 300})
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["rule"] == "idempotency_key.invalid"
    assert api.count("intake", "inquiries") == 3


def test_missing_or_wrong_token_and_wrong_role_are_refused_and_logged(api):
    assert api.call("POST", "/api/inquiries", json=INQUIRY).status_code == 401
    assert api.call("POST", "/api/inquiries", "smp_not-a-token", json=INQUIRY).status_code == 401
    partner = api.token(Role.PARTNER, "kab", partner="kab-ballerup")
    resp = api.call("POST", "/api/inquiries", partner, json=INQUIRY)
    assert resp.status_code == 403
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert resp.json()["status"] == 403
    assert api.count("intake", "inquiries") == 0
    engine = make_engine(api.urls["gateway"])
    with engine.connect() as conn:
        rows = conn.execute(text("select principal, reason from access_denials order by id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(None, "unauthenticated"), (None, "unauthenticated"),
                                        ("partner:kab-ballerup", "forbidden")]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({**INQUIRY, "channel": "fax"}, {"channel"}),
        ({**INQUIRY, "topics": [], "cpr": "0101901234"}, {"topics", "cpr"}),
        ({**INQUIRY, "wish": 42}, {"wish"}),
        ({**INQUIRY, "actor": "operator:mallory"}, {"actor"}),
        ({k: v for k, v in INQUIRY.items() if k != "channel"}, {"channel"}),
    ],
)
def test_bad_bodies_get_a_problem_naming_the_fields_and_write_nothing(api, body, fields):
    resp = api.call("POST", "/api/inquiries", api.token(Role.FRONTEN), json=body)
    assert resp.status_code == 400, resp.text
    problem = resp.json()
    assert {e["field"] for e in problem["errors"]} == fields
    assert "Traceback" not in resp.text
    assert api.count("intake", "inquiries") == 0


def test_limits_media_type_json_and_cpr_in_url(api):
    token = api.token(Role.FRONTEN)
    big = {**INQUIRY, "wish": "x" * 70_000}
    assert api.call("POST", "/api/inquiries", token, json=big).status_code == 413
    resp = api.call("POST", "/api/inquiries", token, data="channel=phone",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 415
    resp = api.call("POST", "/api/inquiries", token, data="{not json",
                    headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "_body"
    resp = api.call("GET", "/api/dead-letters?service=010190-1234", api.token(Role.OPERATOR))
    assert resp.status_code == 400 and resp.json()["errors"][0]["rule"] == "cpr_in_url"
    assert api.call("GET", "/api/nothing-here", token).status_code == 404
    assert api.call("DELETE", "/api/inquiries", token).status_code == 405


def test_health_ready_and_openapi_match_the_routes(api):
    assert api.call("GET", "/health").json()["status"] == "ok"
    # Ready only when every service the gateway routes to has an instance: here intake
    # runs and the others do not, and /ready says which.
    ready = api.call("GET", "/ready")
    checks = ready.json()["checks"]
    assert (checks["broker"], checks["database"], checks["intake"]) == ("ok", "ok", "ok")
    assert ready.status_code == 503 and checks["coordination"] == "not running"
    doc = api.call("GET", "/api/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == {(r.method, openapi_path(r.path)) for r in ROUTES.routes}
    body = doc["paths"]["/api/inquiries"]["post"]["requestBody"]["content"]["application/json"]
    assert "actor" not in body["schema"]["properties"]  # set by the gateway, not the client
    assert "wish" in body["schema"]["required"]
    page = api.call("GET", "/api/docs")
    assert page.status_code == 200 and "/api/inquiries" in page.text


def test_dead_letters_for_operators(api):
    token = api.token(Role.OPERATOR, "ops")
    listed = api.call("GET", "/api/dead-letters", token)
    assert listed.status_code == 200 and listed.json() == {"items": [], "count": 0}
    missing = api.call("GET", f"/api/dead-letters/{uuid.uuid4()}", token)
    assert missing.status_code == 404
    malformed = api.call("GET", "/api/dead-letters/not-a-uuid", token)
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["field"] == "dead_letter_id"
    assert api.call("GET", "/api/dead-letters", api.token(Role.FRONTEN)).status_code == 403


class SlowIntake:
    """Stands in for an intake that hangs (the gateway's behaviour is under test)."""

    name = "intake"

    @rpc
    def register_inquiry(self, **kwargs):
        eventlet.sleep(30)


def test_a_service_that_is_not_running_gives_503(amqp_uri, db_url_factory, runner_factory):
    api = start(amqp_uri, db_url_factory, runner_factory)  # no intake at all
    resp = api.call("POST", "/api/inquiries", api.token(Role.FRONTEN), json=INQUIRY)
    assert resp.status_code == 503
    assert resp.json()["detail"] == "The intake service is not running."


def test_a_request_to_a_stopped_service_is_a_503_and_never_runs_later(
    amqp_uri, db_url_factory, runner_factory
):
    api = start(amqp_uri, db_url_factory, runner_factory, RPC_TIMEOUT_SECONDS=2)
    config = service_config(amqp_uri, api.urls)
    intake = runner_factory(config, IntakeService)
    intake.start()
    token = api.token(Role.FRONTEN)
    assert api.call("POST", "/api/inquiries", token, json=INQUIRY).status_code == 201
    intake.stop()  # its durable request queue stays, with no one consuming it

    stopped = api.call("POST", "/api/inquiries", token, json={**INQUIRY, "wish": "Ikke nu."})
    assert stopped.status_code == 503, stopped.text
    assert stopped.json()["detail"] == "The intake service is not running."
    assert stopped.headers["Retry-After"]

    # Intake returns. The refused request expired in the queue: only the next one runs
    # (the queue is first in, first out, so the refused one would have run before it).
    back = runner_factory(config, IntakeService)
    back.start()
    assert api.call("POST", "/api/inquiries", token, json=INQUIRY).status_code == 201
    engine = make_engine(api.urls["intake"])
    with engine.connect() as conn:
        wishes = conn.execute(text("select wish from inquiries")).scalars().all()
    engine.dispose()
    assert sorted(wishes) == [INQUIRY["wish"]] * 2


def test_a_service_that_does_not_answer_gives_504_not_a_hang(
    amqp_uri, db_url_factory, runner_factory
):
    api = start(amqp_uri, db_url_factory, runner_factory, SlowIntake, RPC_TIMEOUT_SECONDS=1)
    resp = api.call("POST", "/api/inquiries", api.token(Role.FRONTEN), json=INQUIRY)
    assert resp.status_code == 504
    assert resp.json()["title"] == "Service did not answer in time"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=8,
)


def test_random_bodies_never_cause_a_5xx(amqp_uri, db_url_factory, runner_factory):
    api = start(amqp_uri, db_url_factory, runner_factory, IntakeService)
    token = api.token(Role.FRONTEN)
    keys = st.sampled_from([*INQUIRY, "citizen_ref", "registered_at", "extra"])

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.dictionaries(keys, json_values, max_size=6))
    def post(body):
        resp = api.call("POST", "/api/inquiries", token, data=json.dumps(body),
                        headers={"Content-Type": "application/json"})
        assert resp.status_code < 500, resp.text
        if resp.status_code >= 400:
            assert resp.headers["Content-Type"] == "application/problem+json"

    post()
