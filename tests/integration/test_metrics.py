"""`/metrics` on each service's health port, scraped while traffic flows (issue 14):
intake registers inquiries over RPC, its relay publishes them, coordination's consumer
handles them, and the counters move by exactly the traffic sent; the scrape-time
gauges (outbox pending, deadlines due, dead letters) are there for each service."""

from __future__ import annotations

import secrets

import pytest
import requests
from cryptography.fernet import Fernet
from nameko.standalone.rpc import ClusterRpcProxy
from prometheus_client.parser import text_string_to_metric_families

from services.common.migrate import upgrade
from services.coordination.service import CoordinationService
from services.intake.service import IntakeService
from tests.conftest import service_config
from tests.support.net import free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

FRONTEN = {"kind": "staff", "id": "fronten-test", "roles": ["fronten"]}
N = 12
CONSUMER = "coordination.on_intake_inquiry_registered"


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample on the page: (name, sorted labels) -> value."""
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples}


def value(page: dict, name: str, **labels: str) -> float:
    return page.get((name, tuple(sorted(labels.items()))), 0.0)


def test_the_counters_move_with_the_traffic(amqp_uri, db_url_factory, runner_factory):
    urls = {"intake": db_url_factory("intake"), "coordination": db_url_factory("coordination")}
    for service, url in urls.items():
        upgrade(service, url)
    ports = {"intake": free_port(), "coordination": free_port()}
    config = service_config(
        amqp_uri, urls, CPR_HASH_KEY=secrets.token_urlsafe(48),
        CPR_ENCRYPTION_KEY=Fernet.generate_key().decode("ascii"),
        HEALTH_ADDRESSES={s: f"127.0.0.1:{p}" for s, p in ports.items()})
    runner_factory(config, IntakeService, CoordinationService).start()
    wait_for(lambda: requests.get(f"http://127.0.0.1:{ports['intake']}/health",
                                  timeout=5).ok, what="intake's health port")

    before = scrape(ports["intake"])
    with ClusterRpcProxy(config) as cluster:
        citizen = cluster.intake.register_citizen(
            actor=FRONTEN, cpr="150395-1234", name="Mikkel Hansen",
            preferred_channel="letter")["citizen_ref"]
        for i in range(N):
            cluster.intake.register_inquiry(
                actor=FRONTEN, channel="walk_in", inquirer_kind="citizen",
                topics=["housing"], wish=f"Hjælp nr. {i}", citizen_ref=citizen)

    def moved() -> dict | None:
        page = scrape(ports["coordination"])
        handled = (value(page, "samspil_inbox_handled_total", service="coordination",
                         consumer=CONSUMER)
                   - value(before, "samspil_inbox_handled_total", service="coordination",
                           consumer=CONSUMER))
        return page if handled >= N else None

    page = wait_for(moved, timeout=60, what=f"coordination's inbox counter at +{N}")
    # (In one process the page holds every service's series, each with its label.)
    published = (value(page, "samspil_relay_published_total", service="intake")
                 - value(before, "samspil_relay_published_total", service="intake"))
    rpcs = (value(page, "samspil_rpc_seconds_count", service="intake",
                  method="register_inquiry", outcome="ok")
            - value(before, "samspil_rpc_seconds_count", service="intake",
                    method="register_inquiry", outcome="ok"))
    confirms = (value(page, "samspil_relay_confirm_seconds_count", service="intake")
                - value(before, "samspil_relay_confirm_seconds_count", service="intake"))
    print(f"\nmetrics moved: published +{published:.0f} , "
          f"confirms +{confirms:.0f}, register_inquiry +{rpcs:.0f}, handled +{N}")
    assert rpcs == N
    assert published >= N and confirms == published
    assert value(page, "samspil_inbox_duplicates_total", service="coordination",
                 consumer=CONSUMER) == 0
    assert value(page, "samspil_inbox_failures_total", service="coordination",
                 consumer=CONSUMER) == 0

    # The gauges read when scraped: every event out of intake's outbox, no dead letters.
    drained = wait_for(lambda: (lambda p: p if value(p, "samspil_outbox_pending",
                                                     service="intake") == 0 else None)(
        scrape(ports["intake"])), what="intake's outbox drained, by its gauge")
    for service in ports:
        assert ("samspil_dead_letters", (("service", service),)) in drained
        assert ("samspil_deadlines_due", (("service", service),)) in drained
        assert value(drained, "samspil_dead_letters", service=service) == 0
    assert value(drained, "samspil_outbox_oldest_pending_seconds", service="intake") == 0
