"""A running partners service on a fresh vhost and database (SQLite and PostgreSQL), its
time on a FileClock, an observer queue on `partners.events` bound before it starts, and
helpers to publish other services' events as those services would (real envelopes
built with `contracts.registry.build`), to answer on the `partners.answers` queue and
to read the service's tables."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from kombu import Connection, Queue
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import Engine, select, text

from contracts import registry
from services.common.amqp import Publisher, event_exchange
from services.common.clock import FileClock
from services.common.db import make_engine
from services.common.messaging import dead_letter_queue
from services.common.migrate import upgrade
from services.partners.answers import answers_exchange
from services.partners.models import metadata
from services.partners.service import PartnersService
from tests.conftest import service_config
from tests.support.waiting import wait_for as _wait_for

# Wednesday 5 March 2025, 10:00 in Copenhagen (CET, UTC+1).
T0 = dt.datetime(2025, 3, 5, 9, 0, tzinfo=dt.UTC)

OPERATOR = {"kind": "staff", "id": "drift-ole", "roles": ["operator"]}
FRONTEN = {"kind": "staff", "id": "fronten-anne", "roles": ["fronten"]}
SOCIAL_VEJLEDNING = {"kind": "staff", "id": "sv-sofie", "roles": ["social_vejledning"]}
HOUSING_OFFICER = {"kind": "staff", "id": "bolig-lone", "roles": ["housing_officer"]}
TOVHOLDER = {"kind": "staff", "id": "m-social", "roles": ["tovholder"]}
NEW_TOVHOLDER = {"kind": "staff", "id": "m-upoint", "roles": ["tovholder"]}

RESPONSIBLE = {"staff_id": "fronten-anne", "name": "Anne Andersen", "email": "anne@balk.dk",
               "phone": "+45 44 77 34 43"}


def partner(partner_id: str) -> dict[str, Any]:
    """The actor the gateway sends for a partner token."""
    return {"kind": "partner", "id": partner_id, "roles": ["partner"],
            "partner_id": partner_id}


def wait_for(probe: Callable[[], Any], *, what: str, timeout: float = 60.0) -> Any:
    return _wait_for(probe, timeout=timeout, what=what)


def problems(err: pytest.ExceptionInfo[RemoteError]) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = json.loads(err.value.value)["errors"]
    return errors


@dataclass
class Observer:
    """Every partners.* event, from a queue bound before the service starts."""

    amqp_uri: str
    seen: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.connection = Connection(self.amqp_uri)
        self.queue = Queue(f"test-partners-observer-{uuid.uuid4().hex[:8]}",
                           exchange=event_exchange("partners"), routing_key="partners.#",
                           durable=False, auto_delete=False)
        self.bound = self.queue(self.connection.default_channel)
        self.bound.declare()

    def drain(self) -> list[dict[str, Any]]:
        while True:
            message = self.bound.get(no_ack=True)
            if message is None:
                return self.seen
            self.seen.append(json.loads(message.body))

    def payloads(self, type_: str, **match: Any) -> list[dict[str, Any]]:
        return [m["payload"] for m in self.drain() if m["type"] == type_
                and all(m["payload"].get(k) == v for k, v in match.items())]

    def wait(self, type_: str, count: int = 1, **match: Any) -> list[dict[str, Any]]:
        """Payloads of `type_` matching `match`, once at least `count` have arrived."""
        return wait_for(
            lambda: found if len(found := self.payloads(type_, **match)) >= count else None,
            what=f"{count} x {type_} {match}")

    def close(self) -> None:
        self.connection.release()


@dataclass
class Partners:
    config: dict[str, Any]
    url: str
    clock: FileClock
    observer: Observer
    publisher: Publisher
    engine: Engine
    cluster: Any = None

    def rpc(self, method: str, **kwargs: Any) -> Any:
        return getattr(self.cluster.partners, method)(**kwargs)

    def publish(self, type_: str, payload: dict[str, Any], *, correlation: Any = None,
                at: dt.datetime | None = None) -> None:
        """Another service's event, as its outbox relay would publish it."""
        producer = type_.split(".", 1)[0]
        envelope = registry.build(type_, payload, producer=producer,
                                  correlation_id=str(correlation or uuid.uuid4()),
                                  occurred_at=at or self.clock.now())
        self.publisher.publish(envelope.to_wire(), exchange=event_exchange(producer),
                               routing_key=type_, message_id=str(envelope.message_id),
                               message_type=type_)

    def answer_on_queue(self, routing_key: str, body: Any, *,
                        message_id: str | None = None) -> None:
        """What a queue partner publishes: JSON to `partners.answers`, its id as key."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.publisher.publish(raw, exchange=answers_exchange(), routing_key=routing_key,
                               message_id=message_id)

    def handoffs(self, **where: Any) -> list[Any]:
        table = metadata.tables["handoffs"]
        query = select(table).order_by(table.c.requested_at, table.c.id)
        for name, value in where.items():
            query = query.where(table.c[name] == value)
        with self.engine.connect() as conn:
            return list(conn.execute(query).all())

    def wait_handoffs(self, count: int, **where: Any) -> list[Any]:
        return wait_for(lambda: rows if len(rows := self.handoffs(**where)) >= count else None,
                        what=f"{count} hand-off(s) {where}")

    def rows(self, table: str, **where: Any) -> list[Any]:
        t = metadata.tables[table]
        query = select(t)
        for name, value in where.items():
            query = query.where(t.c[name] == value)
        with self.engine.connect() as conn:
            return list(conn.execute(query).all())

    def count(self, table: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text(f"select count(*) from {table}")).scalar_one())  # noqa: S608

    def dead_letters(self) -> list[Any]:
        """What is in partners.dead-letters now (returned to the queue afterwards)."""
        with Connection(self.config["AMQP_URI"]) as conn:
            queue = dead_letter_queue("partners")(conn.channel())
            queue.declare()
            found = []
            while (message := queue.get(no_ack=False)) is not None:
                found.append(message)
            result = [(m.headers, m.body) for m in found]
        return result

    def register(self, partner_id: str, category: str, accepts: list[str],
                 **extra: Any) -> dict[str, Any]:
        args = {"actor": OPERATOR, "partner_id": partner_id,
                "name": extra.pop("name", partner_id.replace("-", " ").title()),
                "category": category, "accepts": accepts,
                "contact_name": "Visitationen", "contact_email": f"{partner_id}@example.dk"}
        args.update(extra)
        result: dict[str, Any] = self.rpc("register_partner", **args)
        return result


@pytest.fixture
def partners_service(amqp_uri: str, db_url: str, tmp_path: Any,
                     container_factory: Any) -> Iterator[Partners]:
    upgrade("partners", db_url)
    clock = FileClock(tmp_path / "clock")
    clock.set(T0)
    config = service_config(amqp_uri, {"partners": db_url}, CLOCK=f"file:{clock.path}",
                            PARTNERS_SWEEP_SECONDS=0.05, HANDOFF_ANSWER_WORKING_DAYS=5)
    observer = Observer(amqp_uri)
    publisher = Publisher(amqp_uri)
    engine = make_engine(db_url)
    running = Partners(config, db_url, clock, observer, publisher, engine)
    container = container_factory(PartnersService, config)
    container.start()
    with ClusterRpcProxy(config) as cluster:
        running.cluster = cluster
        yield running
    observer.close()
    publisher.close()
    engine.dispose()
