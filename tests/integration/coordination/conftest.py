"""A running coordination service on a fresh vhost and database (SQLite and
PostgreSQL), its time on a FileClock, an observer queue on `coordination.events`,
and helpers to publish other services' events as those services would (consents
among them: a team member from another agency needs one, see needtoknow)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from kombu import Connection, Queue
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import MetaData, func, select

from contracts import registry
from services.common.amqp import Publisher, event_exchange
from services.common.clock import FileClock
from services.common.db import make_engine
from services.common.migrate import upgrade
from services.coordination.models import ConsentRow
from services.coordination.service import CoordinationService
from tests.conftest import service_config
from tests.support.waiting import wait_for

# Monday 1 March 2021, 08:00 in Copenhagen (CET, UTC+1).
T0 = dt.datetime(2021, 3, 1, 7, 0, tzinfo=dt.UTC)


@dataclass
class Observer:
    """Collects every coordination event from a queue bound before the service starts
    (so that the outbox relay finds its events routable at once)."""

    amqp_uri: str
    seen: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.connection = Connection(self.amqp_uri)
        self.queue = Queue(f"test-observer-{uuid.uuid4().hex[:8]}",
                           exchange=event_exchange("coordination"),
                           routing_key="coordination.#", durable=False, auto_delete=False)
        self.bound = self.queue(self.connection.default_channel)
        self.bound.declare()

    def drain(self) -> list[dict[str, Any]]:
        while True:
            message = self.bound.get(no_ack=True)
            if message is None:
                return self.seen
            self.seen.append(json.loads(message.body))

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [m for m in self.drain() if m["type"] == type_]

    def wait(self, type_: str, count: int = 1,
             where: Callable[[dict[str, Any]], bool] = lambda p: True) -> list[dict[str, Any]]:
        """Payloads of `type_` matching `where`, once at least `count` have arrived."""
        return wait_for(
            lambda: (found if len(found := [m["payload"] for m in self.of_type(type_)
                                             if where(m["payload"])]) >= count else None),
            what=f"{count} x {type_}",
        )

    def close(self) -> None:
        self.connection.release()


@dataclass
class Coordination:
    config: dict[str, Any]
    url: str
    clock: FileClock
    observer: Observer
    publisher: Publisher

    def rpc(self) -> Any:
        return ClusterRpcProxy(self.config)

    def at(self, when: dt.datetime) -> None:
        self.clock.set(when)

    def publish(self, type_: str, payload: dict[str, Any], *,
                occurred_at: dt.datetime | None = None,
                message_id: uuid.UUID | None = None) -> uuid.UUID:
        """Publish an event of another service as its outbox relay would."""
        service = type_.split(".")[0]
        envelope = registry.build(type_, payload, producer=service, correlation_id="test",
                                  occurred_at=occurred_at or self.clock.now(),
                                  message_id=message_id)
        self.publisher.publish(envelope.to_wire(), exchange=event_exchange(service),
                               routing_key=type_, message_id=str(envelope.message_id),
                               message_type=type_, declare=[event_exchange(service)])
        return envelope.message_id

    def consent(self, citizen_ref: uuid.UUID | str, *recipients: str,
                kinds: tuple[str, ...] = ("action_plan", "meeting_schedule"),
                purpose: str = "pathway_team") -> list[uuid.UUID]:
        """The citizen consents (intake.consent_given) to each agency in `recipients`;
        returns once coordination has every consent."""
        ids = []
        for recipient in recipients:
            consent_id = uuid.uuid4()
            self.publish("intake.consent_given", {
                "consent_id": consent_id, "citizen_ref": uuid.UUID(str(citizen_ref)),
                "recipient": recipient, "information_kinds": list(kinds),
                "purpose": purpose, "given_at": self.clock.now()})
            ids.append(consent_id)
        self.wait_consents(ids)
        return ids

    def consent_many(self, pairs: list[tuple[uuid.UUID | str, str]],
                     kinds: tuple[str, ...] = ("action_plan", "meeting_schedule")) -> None:
        """Consents of many citizens at once: (citizen, agency) pairs."""
        ids = []
        for citizen_ref, recipient in pairs:
            consent_id = uuid.uuid4()
            self.publish("intake.consent_given", {
                "consent_id": consent_id, "citizen_ref": uuid.UUID(str(citizen_ref)),
                "recipient": recipient, "information_kinds": list(kinds),
                "purpose": "pathway_team", "given_at": self.clock.now()})
            ids.append(consent_id)
        self.wait_consents(ids)

    def withdraw(self, consent_id: uuid.UUID, citizen_ref: uuid.UUID | str,
                 recipient: str) -> None:
        """The citizen withdraws a consent; returns once coordination knows."""
        self.publish("intake.consent_withdrawn", {
            "consent_id": consent_id, "citizen_ref": uuid.UUID(str(citizen_ref)),
            "recipient": recipient, "withdrawn_at": self.clock.now()})
        wait_for(lambda: self._consents([consent_id], withdrawn=True),
                 what="the withdrawal in coordination")

    def wait_consents(self, ids: list[uuid.UUID]) -> None:
        wait_for(lambda: self._consents(ids), what=f"{len(ids)} consents in coordination")

    def _consents(self, ids: list[uuid.UUID], withdrawn: bool = False) -> bool:
        engine = make_engine(self.url)
        try:
            with engine.connect() as conn:
                column = ConsentRow.withdrawn_at if withdrawn else ConsentRow.given_at
                found = conn.execute(select(func.count()).select_from(ConsentRow).where(
                    ConsentRow.consent_id.in_(ids), column.is_not(None))).scalar_one()
                return int(found) == len(ids)
        finally:
            engine.dispose()

    def counts(self) -> dict[str, int]:
        """Rows per table: a refused command must leave every one unchanged."""
        engine = make_engine(self.url)
        try:
            meta = MetaData()
            meta.reflect(engine)
            with engine.connect() as conn:
                return {
                    name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                    for name, table in meta.tables.items()
                    if name != "alembic_version"
                }
        finally:
            engine.dispose()


@pytest.fixture
def coordination(amqp_uri, db_url, tmp_path, runner_factory) -> Iterator[Coordination]:
    upgrade("coordination", db_url)
    clock = FileClock(tmp_path / "clock")
    clock.set(T0)
    config = service_config(amqp_uri, {"coordination": db_url}, CLOCK=f"file:{clock.path}",
                            COORDINATION_SWEEP_SECONDS=0.1, CALENDAR_FEED_ALLOW_LOOPBACK=True)
    observer = Observer(amqp_uri)
    runner = runner_factory(config, CoordinationService)
    runner.start()
    publisher = Publisher(amqp_uri)
    yield Coordination(config, db_url, clock, observer, publisher)
    publisher.close()
    observer.close()


def copenhagen(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    from services.coordination.scheduling import COPENHAGEN

    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=COPENHAGEN)


def utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def staff(member_id: str, *roles: str) -> dict[str, Any]:
    """A signed-in staff member as the gateway sends them (the id is the member id)."""
    return {"kind": "staff", "id": member_id, "roles": list(roles)}


COORDINATOR = staff("koordinator", "coordinator")
