"""A consumer's own database outage is not the message's fault (issue 12, point 6).

The recorder consumes intake.inquiry_registered into its own PostgreSQL database, through
a loopback fault proxy. The test config's retry budget for a failing handler is under a
second (100, 200, 400 ms, 4 attempts), so before this rule every event that arrived
during an outage was dead-lettered. Here the proxy resets every connection to the
database for OUTAGE_SECONDS (many times that budget) while events keep arriving: they
wait in a delay queue without spending attempts, and once the database is back every
event has its effect once. Nothing is dead-lettered."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import func, select

from services.common.amqp import Publisher, event_exchange
from services.common.db import make_engine
from services.common.deadletters import DeadLetters
from tests.conftest import service_config
from tests.reliability import recorder
from tests.support.faultproxy import FaultProxy
from tests.support.waiting import wait_for

pytestmark = pytest.mark.reliability

BEFORE, DURING = 20, 40
OUTAGE_SECONDS = 15.0  # the fault's length (about 20 times the retry budget), not a bound


def _through(proxy: FaultProxy, url: str) -> str:
    parts = urlsplit(url)
    user = parts.netloc.rsplit("@", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{proxy.port}"))


def _effects(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(recorder.effects)).scalar_one()
        distinct = conn.execute(
            select(func.count(func.distinct(recorder.effects.c.message_id)))).scalar_one()
    return total, distinct


def test_a_database_outage_dead_letters_nothing(amqp_uri, pg_url, runner_factory, caplog):
    caplog.set_level(logging.WARNING, logger="services.common.messaging")
    direct = make_engine(pg_url)
    recorder.metadata.create_all(direct)
    recorder.POISON.clear()
    upstream = urlsplit(pg_url)
    proxy = FaultProxy(upstream.hostname or "127.0.0.1", upstream.port or 5432).start()
    config = service_config(amqp_uri, {"recorder": _through(proxy, pg_url)},
                            OUTAGE_BASE_MS=200, OUTAGE_MAX_DELAY_MS=2000)
    runner = runner_factory(config, recorder.RecorderService)
    runner.start()
    publisher = Publisher(amqp_uri)

    def send(n: int) -> None:
        for _ in range(n):
            event = recorder.inquiry_event(["housing"])
            publisher.publish(event.to_wire(), exchange=event_exchange("intake"),
                              routing_key="intake.inquiry_registered",
                              message_id=str(event.message_id))

    try:
        send(BEFORE)
        wait_for(lambda: _effects(direct)[1] == BEFORE, timeout=120,
                 what="the events before the outage")

        proxy.reset()
        outage_started = time.monotonic()
        send(DURING)
        wait_for(lambda: any("attempt not counted" in r.getMessage() for r in caplog.records),
                 timeout=120, what="a consumer meeting the outage")
        time.sleep(max(OUTAGE_SECONDS - (time.monotonic() - outage_started), 0))
        waits = sum("attempt not counted" in r.getMessage() for r in caplog.records)
        proxy.heal()
        healed = time.monotonic()

        wait_for(lambda: _effects(direct)[1] == BEFORE + DURING, timeout=180,
                 what="every event once the database is back")
        recovery = time.monotonic() - healed
        total, distinct = _effects(direct)
        dead = DeadLetters(amqp_uri, "recorder").count()
        print(f"\nsent {BEFORE + DURING}, effects {distinct}, duplicates {total - distinct}, "
              f"lost {BEFORE + DURING - distinct}, dead letters {dead}, outage waits {waits}, "
              f"connections reset {proxy.counters.resets + proxy.counters.refused}, "
              f"outage {OUTAGE_SECONDS:.0f} s, recovery {recovery:.1f} s")
        assert (total, distinct, dead) == (BEFORE + DURING, BEFORE + DURING, 0)
        assert waits > 0
    finally:
        publisher.close()
        runner.stop()
        proxy.close()
        direct.dispose()
