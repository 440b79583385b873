"""One HTTP request, one effect (issue 12, points 1 and 2), tried from outside: the
gateway and intake run as their own processes against PostgreSQL, and a client
registers inquiries over HTTP the way a careful client does, with an `Idempotency-Key`
and retrying on 503/504 with the same key.

1. **Killed between commit and answer.** Intake SIGKILLs itself right after an RPC
   request's commit, before the answer (fault point `rpc.after_commit`), again and
   again; a supervisor starts it again. The broker redelivers the unacknowledged
   request and the client retries: every inquiry is written once, and a retry of one
   that ran is a 409 (`idempotency_key.already_done`), never a second inquiry.
2. **A request its caller gave up on never runs.**
   - Frozen (SIGSTOP): intake still holds its connection, so the broker has handed it
     requests that the gateway then answers 504. Woken (SIGCONT), intake finds them
     past the caller's deadline and drops them.
   - Stopped (SIGTERM): requests are answered 503 and expire in the queue; started
     again, intake never runs them.

Each part prints sent, acknowledged, effects, duplicates, lost and recovery seconds.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.orm import Session

from services.common.db import make_engine
from services.common.deadletters import DeadLetters
from services.common.migrate import upgrade
from services.gateway.auth import Role, create_token
from tests.conftest import service_config
from tests.infra import queue_info
from tests.reliability.checker import marker as new_marker
from tests.support.net import free_port
from tests.support.processes import ServiceProcess, write_config
from tests.support.waiting import wait_for

pytestmark = pytest.mark.reliability

N = 40
FROZEN, STOPPED = 6, 6
RPC_TIMEOUT = 3.0
RETRY_LIMIT_SECONDS = 180.0


def _rows(url: str, sql: str) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        engine.dispose()


def _written(url: str) -> Counter[str]:
    """Marker -> how many inquiries carry it (in their wish)."""
    return Counter(wish.rsplit("(", 1)[-1].rstrip(")")
                   for (wish,) in _rows(url, "select wish from inquiries"))


class Client:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: dict[str, Any], key: str) -> int | str:
        try:
            return requests.post(self.base + path, json=body, timeout=30, headers={
                **self.headers, "Idempotency-Key": key}).status_code
        except requests.RequestException as exc:
            return type(exc).__name__

    def until_answered(self, path: str, body: dict[str, Any], key: str) -> list[int | str]:
        """Retry with the same key until the request is done (201) or known done (409)."""
        outcomes: list[int | str] = []
        deadline = time.monotonic() + RETRY_LIMIT_SECONDS
        while time.monotonic() < deadline:
            outcomes.append(self.post(path, body, key))
            if outcomes[-1] in (201, 409):
                return outcomes
            time.sleep(0.3)
        raise AssertionError(f"{path} never answered within {RETRY_LIMIT_SECONDS:.0f} s: "
                             f"{outcomes}")


def _inquiry(citizen: str, marker: str) -> dict[str, Any]:
    return {"channel": "phone", "inquirer_kind": "citizen", "topics": ["economy"],
            "wish": f"Hjælp til regninger ({marker})", "citizen_ref": citizen}


@pytest.fixture
def parts(amqp_uri: str, db_url_factory: Any, tmp_path: Path) -> Any:
    urls = {name: db_url_factory(name) for name in ("intake", "gateway")}
    for name, url in urls.items():
        upgrade(name, url)
    port = free_port()
    config = write_config(tmp_path / "config.yaml", service_config(
        amqp_uri, urls, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
        RPC_TIMEOUT_SECONDS=RPC_TIMEOUT, CPR_HASH_KEY="k" * 48,
        CPR_ENCRYPTION_KEY="FKfh8UKGUEcXhk3VvgkwnDiVxE5pgwjW057z7Zg17_0=", max_workers=4))
    engine = make_engine(urls["gateway"])
    with Session(engine) as session:
        token = create_token(session, name="anne", role=Role("fronten"), partner_id=None,
                             now=dt.datetime.now(dt.UTC))
        session.commit()
    engine.dispose()
    intake = ServiceProcess("intake", config, tmp_path, faults="rpc.after_commit:0.2",
                            seed="effects")
    gateway = ServiceProcess("gateway", config, tmp_path)
    intake.start()
    gateway.start()
    client = Client(f"http://127.0.0.1:{port}", token)
    try:
        wait_for(lambda: _ready(client.base), timeout=120, interval=0.3,
                 what="the gateway and intake ready")
        yield client, intake, urls
    finally:
        for proc in (gateway, intake):
            if proc.proc is not None and proc.proc.poll() is None:
                os.kill(proc.proc.pid, signal.SIGCONT)
            proc.stop()


def _ready(base: str) -> bool:
    try:
        checks = requests.get(base + "/ready", timeout=5).json().get("checks", {})
    except (requests.RequestException, ValueError):
        return False
    return checks.get("intake") == "ok"


@pytest.mark.parametrize("backend", ["postgresql"])
def test_one_request_one_effect_through_kills_freezes_and_stops(parts, infra, vhost):
    client, intake, urls = parts

    def dead_letters() -> int:
        return DeadLetters(vhost[1], "intake").count()

    # -- 1. killed between commit and answer, under retries -------------------------
    stop = threading.Event()

    def supervise() -> None:
        while not stop.is_set():
            intake.keep_alive()
            time.sleep(0.2)

    supervisor = threading.Thread(target=supervise, daemon=True)
    supervisor.start()
    try:
        citizen_key = str(uuid.uuid4())
        citizen_body = {"cpr": "241190-1234", "name": "Jonas Eksempel",
                        "preferred_channel": "letter"}
        assert client.until_answered("/api/citizens", citizen_body, citizen_key)[-1] in (
            201, 409)
        citizen = str(_rows(urls["intake"], "select citizen_ref from citizens")[0][0])
        markers = {new_marker("k"): str(uuid.uuid4()) for _ in range(N)}
        answers: dict[str, list[int | str]] = {}
        for marker, key in markers.items():
            answers[marker] = client.until_answered("/api/inquiries",
                                                    _inquiry(citizen, marker), key)
    finally:
        stop.set()
        supervisor.join(timeout=10)
    written = _written(urls["intake"])
    finals = Counter(str(a[-1]) for a in answers.values())
    retried = sum(1 for a in answers.values() if len(a) > 1)
    duplicates = sum(n - 1 for n in written.values())
    lost = sum(1 for m in markers if written.get(m, 0) == 0)
    print(f"\nkilled between commit and answer: sent {N} (retried by the client {retried}), "
          f"acknowledged {finals['201']} + {finals['409']} known done (409), "
          f"effects {sum(written[m] for m in markers)}, duplicates {duplicates}, "
          f"lost {lost}, dead letters {dead_letters()}, kills {intake.deaths} "
          f"(recovery: each a restart)")
    assert intake.deaths >= 1, "the fault point never fired: the test proved nothing"
    assert set(finals) <= {"201", "409"}
    assert (duplicates, lost) == (0, 0)
    assert sum(written[m] for m in markers) == N

    # A clean intake for part 2: no more kills.
    intake.stop()
    intake.faults = ""
    intake.start()
    wait_for(lambda: _ready(client.base), timeout=120, interval=0.3, what="intake again")

    # -- 2a. frozen: requests handed to a frozen consumer, answered 504 --------------
    assert intake.proc is not None
    os.kill(intake.proc.pid, signal.SIGSTOP)
    frozen = {new_marker("f"): str(uuid.uuid4()) for _ in range(FROZEN)}
    results: dict[str, int | str] = {}
    senders = [threading.Thread(target=lambda m=m, k=k: results.__setitem__(
        m, client.post("/api/inquiries", _inquiry(citizen, m), k)))
        for m, k in frozen.items()]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=120)
    # Woken, it finds the requests past the caller's deadline.
    os.kill(intake.proc.pid, signal.SIGCONT)
    woken = time.monotonic()
    probe = new_marker("p")
    assert client.until_answered("/api/inquiries", _inquiry(citizen, probe),
                                 str(uuid.uuid4()))[-1] == 201
    recovery = time.monotonic() - woken
    wait_for(lambda: queue_info(infra, vhost[0], "rpc-intake").get("messages", 1) == 0,
             timeout=60, what="intake's RPC queue empty")
    dropped = intake.log_text().count("arrived after its caller's deadline; dropped")
    written = _written(urls["intake"])
    ran_late = sum(written.get(m, 0) for m in frozen)
    print(f"frozen consumer: sent {FROZEN}, answered "
          f"{sorted(Counter(map(str, results.values())).items())}, effects {ran_late} "
          f"(0 expected), dropped by intake {dropped}, by the broker's TTL "
          f"{FROZEN - dropped}, lost 0, dead letters {dead_letters()}, "
          f"recovery {recovery:.1f} s")
    assert set(map(str, results.values())) == {"504"}
    assert ran_late == 0
    assert written[probe] == 1

    # -- 2b. stopped: 503, and never run after the restart -----------------------------
    intake.stop()
    stopped = {new_marker("s"): str(uuid.uuid4()) for _ in range(STOPPED)}
    answered = {m: client.post("/api/inquiries", _inquiry(citizen, m), k)
                for m, k in stopped.items()}
    intake.start()
    started = time.monotonic()
    probe = new_marker("p")
    assert client.until_answered("/api/inquiries", _inquiry(citizen, probe),
                                 str(uuid.uuid4()))[-1] == 201
    recovery = time.monotonic() - started
    wait_for(lambda: queue_info(infra, vhost[0], "rpc-intake").get("messages", 1) == 0,
             timeout=60, what="intake's RPC queue empty")
    written = _written(urls["intake"])
    ran_late = sum(written.get(m, 0) for m in stopped)
    print(f"stopped service: sent {STOPPED}, answered "
          f"{sorted(Counter(map(str, answered.values())).items())}, effects {ran_late} "
          f"(0 expected), duplicates 0, lost 0, dead letters {dead_letters()}, "
          f"recovery {recovery:.1f} s")
    assert set(map(str, answered.values())) == {"503"}
    assert ran_late == 0
    assert written[probe] == 1
    assert sum(n - 1 for n in written.values()) == 0
    assert dead_letters() == 0
