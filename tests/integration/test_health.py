"""Each service answers /health and /ready on its own address, for an orchestrator."""

from __future__ import annotations

import pytest
import requests

from services.common.db import make_engine
from services.common.health import readiness
from services.common.migrate import upgrade
from services.coordination.service import CoordinationService
from services.intake.service import IntakeService
from tests.conftest import service_config
from tests.support.net import free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration




def test_two_services_in_one_process_each_answer_on_their_own_address(
    amqp_uri, db_url_factory, runner_factory
):
    urls = {"intake": db_url_factory("intake"), "coordination": db_url_factory("coordination")}
    for name, url in urls.items():
        upgrade(name, url)
    ports = {"intake": free_port(), "coordination": free_port()}
    config = service_config(
        amqp_uri, urls, CPR_HASH_KEY="k" * 40,
        HEALTH_ADDRESSES={name: f"127.0.0.1:{port}" for name, port in ports.items()},
    )
    runner_factory(config, IntakeService, CoordinationService).start()
    for name, port in ports.items():
        base = f"http://127.0.0.1:{port}"
        health = wait_for(lambda b=base: _get(b + "/health"), what=f"{name} /health")
        assert health.json()["service"] == name
        ready = requests.get(base + "/ready", timeout=10)
        assert ready.status_code == 200
        body = ready.json()
        assert (body["status"], body["service"]) == ("ready", name)
        # The broker and database answer, the relay goes round, the consumers run.
        assert set(body["checks"]) >= {"broker", "database", "relay", "consumers"}
        assert set(body["checks"].values()) == {"ok"}, body
        assert requests.get(base + "/elsewhere", timeout=10).status_code == 404


def test_not_ready_says_what_is_unreachable(sqlite_url):
    ok, checks = readiness("amqp://guest:guest@127.0.0.1:1//", make_engine(sqlite_url))
    assert not ok
    assert checks["broker"].startswith("unreachable") and checks["database"] == "ok"


def _get(url: str) -> requests.Response | None:
    try:
        return requests.get(url, timeout=5)
    except requests.ConnectionError:
        return None
