"""A broker crash under traffic (issue 12, point 3): the system started the README's way
(`samspil run --migrate`, every service and the gateway in one process, no supervisor)
against a private RabbitMQ node; HTTP traffic registers inquiries while the node is
killed with SIGKILL and started again. Afterwards:

- the process is still running, and traffic flows again by itself;
- every refused request was a 503 (or a 504), never a 500;
- every inquiry answered 201 exists once; no request is written twice (each carries a
  marker in its wish, counted in intake's database);
- intake's outbox drains, and coordination's inbox has taken each inquiry's event once.

Prints sent, acknowledged, refused during the outage, effects, duplicates, lost and the
seconds from the node's return to the first 201."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from services.common.deadletters import DeadLetters
from tests.reliability.checker import marker as new_marker
from tests.support.rabbit import PrivateRabbit
from tests.support.samspil_run import SamspilRun
from tests.support.waiting import wait_for

pytestmark = pytest.mark.reliability

BEFORE, DURING_LIMIT, AFTER = 30, 400, 30


def test_the_system_survives_a_broker_crash_under_traffic(tmp_path):
    node = PrivateRabbit(tmp_path / "rabbit").start()
    system = SamspilRun(tmp_path, {"AMQP_URI": node.amqp_uri})
    base = system.base
    try:
        system.start()
        headers = system.staff_headers("fronten")
        citizen = system.register_citizen(headers)
        outcomes: dict[str, int | str] = {}  # marker -> status code or exception name

        def send() -> int | str:
            marker = new_marker("m")
            try:
                status: int | str = requests.post(
                    f"{base}/api/inquiries", headers=headers, timeout=30, json={
                        "channel": "phone", "inquirer_kind": "citizen", "topics": ["economy"],
                        "wish": f"Hjælp til regninger ({marker})", "citizen_ref": citizen,
                    }).status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            outcomes[marker] = status
            return status

        for _ in range(BEFORE):
            assert send() == 201

        # Traffic keeps coming while the node is killed and started again.
        stop = threading.Event()
        during: list[int | str] = []

        def traffic() -> None:
            while not stop.is_set() and len(during) < DURING_LIMIT:
                during.append(send())
                time.sleep(0.05)

        sender = threading.Thread(target=traffic)
        sender.start()
        wait_for(lambda: len(during) >= 5, timeout=60, what="traffic before the crash")
        node.kill()
        wait_for(lambda: len(during) >= 15 or not sender.is_alive(), timeout=120,
                 what="traffic during the outage")
        system.alive()
        node.start()
        returned = time.monotonic()
        seen = len(during)
        wait_for(lambda: 201 in during[seen:] or not sender.is_alive(), timeout=180,
                 what="a 201 after the broker's return")
        recovery = time.monotonic() - returned
        stop.set()
        sender.join(timeout=120)
        system.alive()

        for _ in range(AFTER):
            assert send() == 201
        system.alive()

        # Every event leaves intake's outbox, and coordination takes each once.
        wait_for(lambda: system.query("intake", "select count(*) from outbox where "
                                               "sent_at is null")[0][0] == 0,
                 timeout=180, what="intake's outbox drained")
        rows = system.query("intake", "select wish from inquiries")
        written: dict[str, int] = {}
        for (wish,) in rows:
            marker = wish.rsplit("(", 1)[-1].rstrip(")")
            written[marker] = written.get(marker, 0) + 1
        wait_for(lambda: system.query("coordination", "select count(*) from inbox where "
                                "consumer like '%inquiry_registered%'")[0][0] == len(rows),
                 timeout=180, what="coordination's inbox has every inquiry")
        acknowledged = [m for m, s in outcomes.items() if s == 201]
        refused = sorted({str(s) for m, s in outcomes.items() if s != 201})
        duplicates = sum(n - 1 for n in written.values())
        lost = sum(1 for m in acknowledged if written.get(m, 0) == 0)
        dead = sum(DeadLetters(node.amqp_uri, s).count() for s in system.health)
        print(f"\nsent {len(outcomes)}, acknowledged {len(acknowledged)}, "
              f"not acknowledged {len(outcomes) - len(acknowledged)} {refused}, "
              f"effects {len(rows)}, duplicates {duplicates}, lost {lost}, "
              f"dead letters {dead}, recovery {recovery:.1f} s")
        assert duplicates == 0 and lost == 0 and dead == 0
        # Never a 500: a broker that is down is a 503 with Retry-After (or, for a request
        # whose answer was lost with the connection, a 504).
        assert set(refused) <= {"503", "504"}, refused
        assert 201 in during[seen:], "traffic flowed again after the broker's return"
    finally:
        system.stop()
        node.stop()
