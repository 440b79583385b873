"""Fixtures for intake's integration tests: the service on a real broker and a real
database (SQLite and PostgreSQL), a FileClock the test moves, and a tap queue bound to
`intake.events` that shows every event intake published."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from kombu import Connection, Queue
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import MetaData, func, select

from contracts import registry
from services.common.amqp import Publisher, event_exchange
from services.common.clock import FileClock
from services.common.db import Store, make_engine
from services.common.migrate import upgrade
from services.intake.models import metadata
from services.intake.service import IntakeService
from tests.conftest import service_config
from tests.support.waiting import wait_for


@pytest.fixture
def cpr_keys() -> dict[str, str]:
    """Fresh keys for each test, as production would get from its secret store."""
    return {
        "CPR_HASH_KEY": secrets.token_urlsafe(48),
        "CPR_ENCRYPTION_KEY": Fernet.generate_key().decode("ascii"),
    }


class EventTap:
    """A queue bound to every intake event: what left intake's outbox, in order."""

    def __init__(self, amqp_uri: str) -> None:
        self.connection = Connection(amqp_uri)
        self.queue = Queue(
            "test.intake-tap",
            exchange=event_exchange("intake"),
            routing_key="intake.#",
            durable=True,
            auto_delete=False,
        )(self.connection.default_channel)
        self.queue.declare()
        self.seen: list[dict[str, Any]] = []

    def poll(self) -> list[dict[str, Any]]:
        while True:
            message = self.queue.get(no_ack=True)
            if message is None:
                return self.seen
            body = message.body
            self.seen.append(json.loads(body.decode() if isinstance(body, bytes) else body))

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.poll() if e["type"] == type_]

    def wait(
        self, type_: str, where: Callable[[dict[str, Any]], bool] = lambda e: True
    ) -> dict[str, Any]:
        found = wait_for(
            lambda: [e for e in self.of_type(type_) if where(e)], what=f"a {type_} event"
        )
        assert len(found) == 1, found
        return found[0]

    def close(self) -> None:
        self.connection.release()


@pytest.fixture
def tap(amqp_uri: str) -> Iterator[EventTap]:
    tap = EventTap(amqp_uri)
    yield tap
    tap.close()


@dataclass
class Intake:
    """intake running under nameko, its database and its clock."""

    config: dict[str, Any]
    url: str
    clock: FileClock
    start: Callable[[], Any]
    runners: list[Any] = field(default_factory=list)

    def run(self) -> None:
        runner = self.start()
        self.runners.append(runner)

    def stop(self) -> None:
        self.runners.pop().stop()

    def restart(self, clock_at: dt.datetime | None = None) -> None:
        """Stop the service, optionally move the clock while it is down, start it again."""
        self.stop()
        if clock_at is not None:
            self.clock.set(clock_at)
        self.run()

    def rpc(self) -> Any:
        return ClusterRpcProxy(self.config)

    def publish(self, type_: str, payload: dict[str, Any], *,
                occurred_at: dt.datetime | None = None,
                message_id: uuid.UUID | None = None) -> uuid.UUID:
        """Publish another service's event as its outbox relay would: a real envelope
        built and validated by the registry, on the producer's exchange."""
        service = type_.split(".")[0]
        envelope = registry.build(type_, payload, producer=service, correlation_id="test",
                                  occurred_at=occurred_at or self.clock.now(),
                                  message_id=message_id)
        publisher = Publisher(self.config["AMQP_URI"])
        try:
            publisher.publish(envelope.to_wire(), exchange=event_exchange(service),
                              routing_key=type_, message_id=str(envelope.message_id),
                              message_type=type_, declare=[event_exchange(service)])
        finally:
            publisher.close()
        return envelope.message_id

    def store(self) -> Store:
        return Store(make_engine(self.url), metadata, "intake", self.clock)

    def counts(self) -> dict[str, int]:
        """Rows per table: "nothing written" means these do not change."""
        engine = make_engine(self.url)
        try:
            reflected = MetaData()
            reflected.reflect(engine)
            with engine.connect() as conn:
                return {
                    name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                    for name, table in reflected.tables.items()
                    if name != "alembic_version"
                }
        finally:
            engine.dispose()

    def rows(self, query: Any) -> list[Any]:
        engine = make_engine(self.url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(query).all())
        finally:
            engine.dispose()


def make_intake(
    amqp_uri: str,
    url: str,
    tmp_path: Path,
    runner_factory: Any,
    keys: dict[str, str],
    at: dt.datetime,
    **extra: Any,
) -> Intake:
    upgrade("intake", url)
    clock = FileClock(tmp_path / "clock")
    clock.set(at)
    settings = {"INTAKE_SWEEP_SECONDS": 0.05, **keys, **extra}
    config = service_config(amqp_uri, {"intake": url}, CLOCK=f"file:{clock.path}", **settings)
    return Intake(config, url, clock, lambda: _started(runner_factory, config))


def _started(runner_factory: Any, config: dict[str, Any]) -> Any:
    runner = runner_factory(config, IntakeService)
    runner.start()
    return runner
