"""The delivery kit's storage, the same tests on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import eventlet
import pytest
from kombu import Connection, Queue
from sqlalchemy import text

from contracts import InvalidMessage
from contracts.vocabulary import Channel, InquirerKind, Topic
from services.common import deadlines
from services.common.amqp import Publisher, event_exchange
from services.common.clock import FixedClock
from services.common.db import Store, make_engine
from services.common.migrate import upgrade
from services.common.outbox import OutboxRelay
from services.intake import handlers
from services.intake.models import Citizen, metadata
from tests.reliability.recorder import inquiry_event

pytestmark = pytest.mark.integration

T0 = dt.datetime(2018, 4, 3, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(db_url):
    upgrade("intake", db_url)
    engine = make_engine(db_url)
    yield Store(engine, metadata, "intake", FixedClock(T0))
    engine.dispose()


def count(store: Store, table: str, where: str = "") -> int:
    with store.engine.connect() as conn:
        query = f"select count(*) from {table} {where}"  # noqa: S608 - test-only literals
        return int(conn.execute(text(query)).scalar_one())


def a_citizen(uow) -> uuid.UUID:
    """A registered citizen, written in the caller's unit of work: intake refuses an
    inquiry for a citizen_ref it does not know. The CPR columns hold placeholders
    (these tests have no CPR keys and never read them)."""
    ref = uuid.uuid4()
    uow.session.add(Citizen(
        citizen_ref=ref, cpr_lookup_hash=ref.hex, cpr_encrypted="test-placeholder",
        birth_date=dt.date(1990, 1, 1), name="Test Borger", name_key="test borger",
        email=None, phone=None, address=None, preferred_channel="letter",
        registered_at=T0, registered_by="test", updated_at=T0))
    uow.session.flush()
    return ref


def register(uow, **overrides):
    args: dict[str, Any] = dict(channel=Channel.PHONE, inquirer_kind=InquirerKind.CITIZEN,
                                topics=[Topic.HOUSING], wish="Hjælp.", registered_at=None,
                                registered_by="test")
    args.update(overrides)
    if "citizen_ref" not in args:
        args["citizen_ref"] = a_citizen(uow)
    return handlers.register_inquiry(uow, **args)


def test_rows_and_events_commit_together(store):
    with store.unit_of_work() as uow:
        register(uow)
    assert (count(store, "inquiries"), count(store, "outbox")) == (1, 1)


def test_a_use_case_that_fails_writes_nothing(store):
    with pytest.raises(InvalidMessage), store.unit_of_work() as uow:
        # the row is added, then the event is refused by its contract
        register(uow, topics=[])
    assert (count(store, "citizens"), count(store, "inquiries"), count(store, "outbox")) == (
        0, 0, 0)


def test_leaving_without_commit_rolls_back(store):
    with store.unit_of_work() as uow:
        uow.add_event("intake.inquiry_registered", inquiry_event(["housing"]).payload
                      | {"registered_at": T0}, correlation_id="x")
    assert count(store, "outbox") == 0


def test_inbox_claims_a_message_once(store):
    event = inquiry_event(["housing"])
    with store.unit_of_work() as uow:
        assert uow.claim("svc.handler", event) is True
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.claim("svc.handler", event) is False
        assert uow.claim("svc.other_handler", event) is True
        uow.commit()
    assert count(store, "inbox") == 2


def test_deadlines_fire_once_and_survive_a_restart(store, db_url):
    subject = str(uuid.uuid4())
    with store.unit_of_work() as uow:
        deadlines.schedule(uow, "course.broken_agreements", subject, T0 + dt.timedelta(days=28))
        deadlines.schedule(uow, "course.bridging", subject, T0 + dt.timedelta(days=30))
        uow.commit()
    assert deadlines.due_deadlines(store, T0 + dt.timedelta(days=27)) == []

    # "restart": a new engine and store over the same database
    engine = make_engine(db_url)
    restarted = Store(engine, metadata, "intake", FixedClock(T0 + dt.timedelta(days=28)))
    due = deadlines.due_deadlines(restarted, T0 + dt.timedelta(days=28))
    assert [(d.kind, d.subject_id) for d in due] == [("course.broken_agreements", subject)]
    with restarted.unit_of_work() as uow:
        assert deadlines.fire(uow, due[0]) is True
        uow.commit()
    with restarted.unit_of_work() as uow:
        assert deadlines.fire(uow, due[0]) is False  # an overlapping sweep gets nothing
    assert [d.kind for d in deadlines.due_deadlines(restarted, T0 + dt.timedelta(days=60))] == [
        "course.bridging"
    ]
    engine.dispose()


def test_rescheduling_replaces_the_open_deadline(store):
    with store.unit_of_work() as uow:
        deadlines.schedule(uow, "course.end", "c1", T0 + dt.timedelta(days=10))
        deadlines.schedule(uow, "course.end", "c1", T0 + dt.timedelta(days=20))
        uow.commit()
    due = deadlines.due_deadlines(store, T0 + dt.timedelta(days=30))
    assert [d.due_at for d in due] == [T0 + dt.timedelta(days=20)]


def bound_queue(amqp_uri: str, name: str = "test-sink") -> Queue:
    queue = Queue(name, exchange=event_exchange("intake"), routing_key="#", durable=True)
    with Connection(amqp_uri) as conn:
        queue(conn.channel()).declare()
    return queue


def queue_depth(amqp_uri: str, queue: Queue) -> int:
    with Connection(amqp_uri) as conn:
        return int(queue(conn.channel()).queue_declare(passive=True).message_count)


def test_relay_keeps_unroutable_rows_and_sends_them_once_a_queue_exists(store, amqp_uri):
    with store.unit_of_work() as uow:
        register(uow)
    publisher = Publisher(amqp_uri)
    relay = OutboxRelay(store.engine, metadata, publisher)
    assert relay.publish_pending() == 0  # nobody listens yet: returned, not lost
    with store.engine.connect() as conn:
        row = conn.execute(text("select sent_at, attempts, last_error from outbox")).one()
    assert row.sent_at is None and row.attempts == 1 and row.last_error.startswith("unroutable")

    queue = bound_queue(amqp_uri)
    with store.engine.begin() as conn:  # skip the backoff wait
        conn.execute(text("update outbox set next_attempt_at = null"))
    assert relay.publish_pending() == 1
    assert count(store, "outbox", "where sent_at is null") == 0
    assert queue_depth(amqp_uri, queue) == 1
    publisher.close()


def test_relay_without_a_broker_keeps_every_row(store):
    with store.unit_of_work() as uow:
        register(uow)
        register(uow)
    relay = OutboxRelay(store.engine, metadata, Publisher("amqp://guest:guest@127.0.0.1:1//"))
    assert relay.publish_pending() == 0
    assert count(store, "outbox", "where sent_at is null") == 2
    assert count(store, "outbox", "where attempts = 1") == 1  # stopped at the first failure


@pytest.fixture
def pg_store(pg_url):
    upgrade("intake", pg_url)
    engine = make_engine(pg_url)
    yield Store(engine, metadata, "intake", FixedClock(T0))
    engine.dispose()


def test_two_relays_on_postgresql_never_publish_a_row_twice(pg_store, amqp_uri):
    """FOR UPDATE SKIP LOCKED is PostgreSQL's; SQLite runs one relay per file."""
    store = pg_store
    n = 300
    for _ in range(n):
        with store.unit_of_work() as uow:
            register(uow)
    queue = bound_queue(amqp_uri)
    relays = [OutboxRelay(store.engine, metadata, Publisher(amqp_uri), batch_size=25)
              for _ in range(2)]

    def drain(relay: OutboxRelay) -> int:
        total = 0
        while (published := relay.publish_pending()) > 0:
            total += published
        return total

    threads = [eventlet.spawn(drain, relay) for relay in relays]
    shares = [t.wait() for t in threads]
    assert sum(shares) == n
    assert all(share > 0 for share in shares), shares  # both really worked concurrently
    assert queue_depth(amqp_uri, queue) == n
    for relay in relays:
        relay.publisher.close()


def test_a_service_refuses_to_start_on_an_unmigrated_database(db_url):
    from services.common.migrate import NotMigrated, check_at_head

    with pytest.raises(NotMigrated, match="run `samspil migrate intake`"):
        check_at_head("intake", db_url)
    upgrade("intake", db_url)
    check_at_head("intake", db_url)  # at head: no complaint


def test_an_event_nobody_consumes_is_parked_then_replayed_to_a_late_consumer(store, amqp_uri):
    from services.common.deadletters import DeadLetters

    with store.unit_of_work() as uow:
        register(uow)
    publisher = Publisher(amqp_uri)
    relay = OutboxRelay(store.engine, metadata, publisher, park_unroutable_after=2)
    assert relay.publish_pending() == 0  # attempt 1: returned by the broker, kept
    with store.engine.begin() as conn:
        conn.execute(text("update outbox set next_attempt_at = null"))
    assert relay.publish_pending() == 0  # attempt 2: parked, not retried for ever
    with store.engine.connect() as conn:
        row = conn.execute(text("select sent_at, last_error, message_id from outbox")).one()
    assert row.sent_at is not None and row.last_error.startswith("parked in samspil.unrouted")

    parked = DeadLetters(amqp_uri, "unrouted")
    letters = parked.list()
    assert [letter.message_id for letter in letters] == [row.message_id]
    queue = bound_queue(amqp_uri)  # a consumer appears later
    parked.replay(letters[0].id)
    assert queue_depth(amqp_uri, queue) == 1
    assert parked.list() == []
    publisher.close()
