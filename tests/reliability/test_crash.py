"""Kill processes inside the windows the delivery guarantees must survive.

- A consumer SIGKILLed after its database commit and before nameko acks: the broker
  redelivers, the inbox recognises the message, the effect is not repeated.
- The outbox relay SIGKILLed after the broker confirmed a publish and before the row
  was marked sent: the row goes out again, the consumer's inbox absorbs it.

Each test reports (sent, effects, duplicates) and must end at (N, N, 0), with at
least one kill actually having happened.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from sqlalchemy import func, select, text

from contracts.vocabulary import Channel, InquirerKind, Topic
from services.common.amqp import Publisher, event_exchange
from services.common.clock import SystemClock
from services.common.db import Store, make_engine
from services.common.migrate import upgrade
from services.coordination.models import CitizenActivity
from services.intake import handlers as intake_handlers
from services.intake.models import Citizen
from services.intake.models import metadata as intake_metadata
from tests.conftest import service_config
from tests.infra import queue_info
from tests.reliability.recorder import inquiry_event
from tests.support.processes import ServiceProcess, write_config
from tests.support.waiting import wait_for

pytestmark = pytest.mark.reliability

N = 150
COORDINATION_QUEUE = (
    "evt-intake-intake.inquiry_registered--coordination.on_intake_inquiry_registered"
)
TIME_LIMIT = 240.0


def effects(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(CitizenActivity)).scalar_one()
            distinct = conn.execute(
                select(func.count(func.distinct(CitizenActivity.source_message_id)))
            ).scalar_one()
    finally:
        engine.dispose()
    return int(total), int(distinct)


def pending_outbox(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("select count(*) from outbox where sent_at is null"))
                       .scalar_one())
    finally:
        engine.dispose()


def a_citizen(uow) -> uuid.UUID:
    """A registered citizen in the caller's unit of work (intake refuses an inquiry for
    an unknown citizen_ref); the CPR columns hold placeholders nobody reads here."""
    ref = uuid.uuid4()
    now = dt.datetime.now(dt.UTC)
    uow.session.add(Citizen(
        citizen_ref=ref, cpr_lookup_hash=ref.hex, cpr_encrypted="test-placeholder",
        birth_date=dt.date(1990, 1, 1), name="Test Borger", name_key="test borger",
        email=None, phone=None, address=None, preferred_channel="letter",
        registered_at=now, registered_by="test", updated_at=now))
    uow.session.flush()
    return ref


def supervise(procs: list[ServiceProcess], done) -> None:
    """Restart whatever dies until `done()` holds; bounded in time."""
    deadline = time.monotonic() + TIME_LIMIT
    while not done():
        if time.monotonic() > deadline:
            logs = "\n".join(p.log_text()[-3000:] for p in procs)
            raise AssertionError(f"did not converge within {TIME_LIMIT}s\n{logs}")
        for proc in procs:
            proc.keep_alive()
        time.sleep(0.2)


def report(name: str, sent: int, total: int, distinct: int, kills: int) -> None:
    print(f"\n{name}: sent={sent} effects={distinct} duplicates={total - distinct} kills={kills}")


def test_consumer_killed_between_commit_and_ack(
    amqp_uri, vhost, infra, db_url_factory, tmp_path, backend
):
    coordination_db = db_url_factory("coordination")
    upgrade("coordination", coordination_db)
    config = write_config(
        tmp_path / "coordination.yaml",
        service_config(amqp_uri, {"coordination": coordination_db}),
    )
    consumer = ServiceProcess(
        "coordination", config, tmp_path, faults="inbox.after_commit:0.05", seed=backend
    )
    consumer.start()
    try:
        wait_for(lambda: _queue_exists(infra, vhost[0], COORDINATION_QUEUE), timeout=30,
                 what="the consumer's queue")
        publisher = Publisher(amqp_uri)
        for _ in range(N):
            event = inquiry_event(["housing"])
            publisher.publish(event.to_wire(), exchange=event_exchange("intake"),
                              routing_key=event.type, message_id=str(event.message_id))
        publisher.close()

        supervise([consumer], lambda: effects(coordination_db)[0] >= N
                  and queue_info(infra, vhost[0], COORDINATION_QUEUE).get("messages", 1) == 0)
    finally:
        consumer.stop()
    total, distinct = effects(coordination_db)
    report(f"consumer crash [{backend}]", N, total, distinct, consumer.deaths)
    assert consumer.deaths >= 1, "the fault point never fired: the test proved nothing"
    assert (N, total, distinct) == (N, N, N)
    assert "duplicate intake.inquiry_registered ignored" in consumer.log_text()


def test_relay_killed_between_publish_and_mark_sent(
    amqp_uri, vhost, infra, db_url_factory, tmp_path, backend
):
    urls = {"intake": db_url_factory("intake"), "coordination": db_url_factory("coordination")}
    for service, url in urls.items():
        upgrade(service, url)
    # N inquiries written exactly as the RPC writes them: rows + outbox, one transaction each.
    engine = make_engine(urls["intake"])
    store = Store(engine, intake_metadata, "intake", SystemClock())
    for _ in range(N):
        with store.unit_of_work() as uow:
            intake_handlers.register_inquiry(
                uow, channel=Channel.PHONE, inquirer_kind=InquirerKind.CITIZEN,
                topics=[Topic.HOUSING], wish="Hjælp til huslejen.", citizen_ref=a_citizen(uow),
                registered_at=None, registered_by="test",
            )
    engine.dispose()
    assert pending_outbox(urls["intake"]) == N

    config = write_config(tmp_path / "all.yaml", service_config(amqp_uri, urls))
    consumer = ServiceProcess("coordination", config, tmp_path)
    producer = ServiceProcess(
        "intake", config, tmp_path, faults="relay.after_publish:0.01", seed=backend
    )
    consumer.start()
    try:
        wait_for(lambda: _queue_exists(infra, vhost[0], COORDINATION_QUEUE), timeout=30,
                 what="the consumer's queue")
        producer.start()
        supervise([producer, consumer], lambda: pending_outbox(urls["intake"]) == 0
                  and effects(urls["coordination"])[0] >= N
                  and queue_info(infra, vhost[0], COORDINATION_QUEUE).get("messages", 1) == 0)
    finally:
        producer.stop()
        consumer.stop()
    total, distinct = effects(urls["coordination"])
    report(f"relay crash [{backend}]", N, total, distinct, producer.deaths)
    assert producer.deaths >= 1, "the fault point never fired: the test proved nothing"
    assert consumer.deaths == 0
    assert (N, total, distinct) == (N, N, N)
    # The republished rows really reached the consumer and were absorbed by its inbox.
    assert "duplicate intake.inquiry_registered ignored" in consumer.log_text()


def _queue_exists(infra, vhost_name: str, queue: str) -> bool:
    try:
        queue_info(infra, vhost_name, queue)
    except Exception:
        return False
    return True
