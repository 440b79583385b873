"""The consent gate, fixed (issue 16, point 5, and its acceptance), for a housing
association's statements and hold-termination hand-offs, over real webhooks on loopback
whose receivers verify every signature, on SQLite and PostgreSQL:

- with the tenant's consent only, the update is delivered, and the ledger says so;
- with no basis, it is blocked, and the subscription is on the operators' worklist of
  silent subscriptions and in the `samspil_silent_subscriptions` metric;
- once a basis is added, the blocked deliveries are sent, in order, and it leaves the
  list; a hold-termination hand-off then passes on that basis (the ledger says which);
- a statement that arrives before its case's tenant is known is sent once the tenant
  is (their consent covers it);
- a partner with two subscriptions is told on both.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
import requests
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from contracts import registry
from tests.integration.notifications import support
from tests.support.net import free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

WITH_CONSENT = "kab-ballerup"  # its tenants consent
WITHOUT = "bo-vest"  # no consent, no basis, until the basis is recorded
OPERATOR = {"kind": "staff", "id": "ops", "roles": ["operator"]}
REFERENCE = "retssikkerhedsloven § 5 a; almenlejeloven § 90"


def secret(name: str) -> str:
    return f"whsec_{name}_only_for_tests_0123456789"


@pytest.fixture
def receivers():
    made = {name: support.HttpReceiver(secret=secret(name))
            for name in ("kab", "kab-queue-like", "bo")}
    yield made
    for receiver in made.values():
        receiver.stop()


@pytest.fixture
def health_port() -> int:
    return free_port()


@pytest.fixture
def running(amqp_uri, db_url, runner_factory, receivers, health_port):
    for run in support.start(amqp_uri, db_url, runner_factory,
                             HEALTH_ADDRESS=f"127.0.0.1:{health_port}"):
        with ClusterRpcProxy(run.config) as cluster:
            for partner, name in ((WITH_CONSENT, "kab"), (WITH_CONSENT, "kab-queue-like"),
                                  (WITHOUT, "bo")):
                cluster.notifications.add_subscription(
                    actor="staff:ops", partner_id=partner, partner_kind="housing",
                    channel="webhook", event_types=["housing.partner_status"],
                    url=receivers[name].url(), secret=secret(name))
        for partner in (WITH_CONSENT, WITHOUT):
            run.publish("partners.partner_registered", {
                "partner_id": partner, "name": partner.upper(), "category": "housing",
                "accepts": ["hold_termination"], "active": True,
                "changed_at": dt.datetime.now(dt.UTC)})
        yield run


def case_opened(case: uuid.UUID, association: str, citizen: uuid.UUID | None) -> dict:
    return {"case_id": case, "association_id": association, "tenancy_ref": "12-0304-2",
            "citizen_ref": citizen, "source": "association", "level": "reported",
            "next_deadline": None, "citizen_match_pending": citizen is None,
            "asks": [{"addressee": "association", "request": "for_information"}],
            "occurred_at": dt.datetime.now(dt.UTC)}


def status(case: uuid.UUID, association: str, code: str, day: int) -> dict:
    return {"association_id": association, "case_ref": case, "tenancy_ref": "12-0304-2",
            "status": code, "requested": None, "occurred_on": dt.date(2026, 2, day),
            "hold_until": None, "eviction_date": None}


def hold_termination(case: uuid.UUID, association: str, citizen: uuid.UUID) -> dict:
    example = dict(registry.contract("partners.handoff_requested").example)
    payload = dict(registry.contract("partners.handoff_requested").schema().load(example))
    return payload | {
        "handoff_id": uuid.uuid4(), "kind": "hold_termination", "partner_id": association,
        "subject_type": "case", "subject_id": case, "citizen_ref": citizen,
        "title": "Anmodning om at vente med at ophæve lejemålet",
        "details": {"case_ref": case, "tenancy_ref": "12-0304-2",
                    "hold_until_requested": dt.date(2026, 3, 31)}}


def silent(running: support.Running) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    with ClusterRpcProxy(running.config) as cluster:
        while True:
            page = cluster.notifications.silent_subscriptions(actor=OPERATOR, cursor=cursor,
                                                              limit=1)
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items


def metric(port: int) -> int:
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    response.raise_for_status()
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    [line] = [line for line in response.text.splitlines()
              if line.startswith("samspil_silent_subscriptions ")]
    return int(float(line.split()[1]))


def test_the_gate_consent_only_no_basis_then_a_basis_added(running, receivers, health_port):
    tenant, other_tenant = uuid.uuid4(), uuid.uuid4()
    kab_case, bo_case = uuid.uuid4(), uuid.uuid4()
    given = {"consent_id": uuid.uuid4(), "citizen_ref": tenant, "recipient": WITH_CONSENT,
             "information_kinds": ["housing_case_status"], "purpose": "keep_home",
             "given_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)}
    running.wait_consumed(running.publish("intake.consent_given", given))
    for case, association, citizen in ((kab_case, WITH_CONSENT, tenant),
                                       (bo_case, WITHOUT, other_tenant)):
        running.wait_consumed(running.publish("housing.case_opened",
                                              case_opened(case, association, citizen)))

    # 1. The tenant's consent only: delivered, on both of the association's subscriptions.
    delivered = running.publish("housing.partner_status",
                                status(kab_case, WITH_CONSENT, "contact_established", 16))
    rows = running.wait_settled(delivered, planned=2)
    assert {(r.status, r.basis, r.citizen_ref) for r in rows} == {
        ("sent", str(given["consent_id"]), str(tenant))}
    for name in ("kab", "kab-queue-like"):
        [request] = receivers[name].requests
        assert request.verified is True
        assert request.json()["status"] == "contact_established"
        assert "citizen_ref" not in request.json()

    # 2. No basis: blocked, and a warning: the worklist and the metric.
    first = running.publish("housing.partner_status",
                            status(bo_case, WITHOUT, "hold_termination_requested", 17))
    running.wait_settled(first, planned=1)
    second = running.publish("housing.partner_status",
                             status(bo_case, WITHOUT, "payment_plan_proposed", 18))
    [blocked] = running.wait_settled(second, planned=1)
    assert (blocked.status, blocked.last_error) == ("blocked", "no_consent")
    assert receivers["bo"].requests == []
    [warning] = silent(running)
    assert (warning["details"]["partner_id"], warning["reason_code"]) == (
        WITHOUT, "only_blocked")
    assert warning["details"]["blocked_deliveries"] == 2
    assert "hverken samtykke eller lovgrundlag" in warning["reason"]
    assert metric(health_port) == 1

    # 3. The basis is added: the blocked deliveries are sent, in order, on that basis.
    with ClusterRpcProxy(running.config) as cluster:
        added = cluster.notifications.add_legal_basis(
            actor="staff:jurist", recipient=WITHOUT, information_kind="housing_case_status",
            purpose="keep_home", reference=REFERENCE)
    assert added["released"] == 2
    wait_for(lambda: len(receivers["bo"].requests) == 2, what="the blocked statements sent")
    assert [r.json()["status"] for r in receivers["bo"].requests] == [
        "hold_termination_requested", "payment_plan_proposed"]
    assert all(r.verified for r in receivers["bo"].requests)
    assert {(r.status, r.basis) for r in running.deliveries(subject_ref=str(bo_case))} == {
        ("sent", REFERENCE)}
    assert silent(running) == []
    assert metric(health_port) == 0

    # A hold-termination hand-off passes on the tenant's consent or the legal basis,
    # and the ledger records which.
    on_consent = running.publish("partners.handoff_requested",
                                 hold_termination(kab_case, WITH_CONSENT, tenant))
    on_basis = running.publish("partners.handoff_requested",
                               hold_termination(bo_case, WITHOUT, other_tenant))
    assert {(r.status, r.basis) for r in running.wait_settled(on_consent, planned=2)} == {
        ("sent", str(given["consent_id"]))}
    assert {(r.status, r.basis) for r in running.wait_settled(on_basis, planned=1)} == {
        ("sent", REFERENCE)}
    body = receivers["bo"].requests[-1].json()
    assert (body["kind"], body["details"][-1]["code"], body["details"][-1]["value"]) == (
        "hold_termination", "hold_until_requested", "2026-03-31")
    assert str(other_tenant) not in receivers["bo"].requests[-1].body.decode()


def test_a_statement_waits_for_its_case_s_tenant_then_leaves_on_their_consent(
    running, receivers
):
    tenant, case = uuid.uuid4(), uuid.uuid4()
    given = {"consent_id": uuid.uuid4(), "citizen_ref": tenant, "recipient": WITH_CONSENT,
             "information_kinds": ["housing_case_status"],
             # given in the words of the first release: still the same purpose
             "purpose": "forebyggelse af udsættelse",
             "given_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)}
    running.wait_consumed(running.publish("intake.consent_given", given))

    # The statement arrives before the case event that names the tenant (other queue).
    early = running.publish("housing.partner_status",
                            status(case, WITH_CONSENT, "report_received", 16))
    rows = running.wait_settled(early, planned=2)
    assert {(r.status, r.last_error) for r in rows} == {("blocked", "no_consent")}

    running.publish("housing.case_opened", case_opened(case, WITH_CONSENT, tenant))
    wait_for(lambda: len(running.deliveries(message_id=str(early.message_id),
                                            status="sent")) == 2,
             what="the statement sent once the tenant is known")
    assert {(r.basis, r.citizen_ref) for r in running.deliveries(
        message_id=str(early.message_id))} == {(str(given["consent_id"]), str(tenant))}
    assert [len(receivers[n].requests) for n in ("kab", "kab-queue-like", "bo")] == [1, 1, 0]


def test_the_worklist_is_for_operators(running):
    with ClusterRpcProxy(running.config) as cluster, pytest.raises(RemoteError) as refused:
        cluster.notifications.silent_subscriptions(
            actor={"kind": "staff", "id": "anne", "roles": ["fronten"]}, cursor=None,
            limit=10)
    assert refused.value.exc_type == "InvalidInput"
    assert [(e["field"], e["rule"]) for e in json.loads(refused.value.value)["errors"]] == [
        ("actor", "not_allowed")]
