"""A failing handler: bounded retries with backoff, then the dead-letter queue, while
other messages keep flowing; invalid messages go straight there; an operator can
list, show and replay; a replayed dead letter has its effect exactly once."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from services.common.amqp import Publisher, event_exchange
from services.common.db import make_engine
from services.common.deadletters import DeadLetters
from services.common.errors import NotFound
from tests.conftest import service_config
from tests.infra import queue_info
from tests.reliability import recorder
from tests.support.waiting import wait_for

pytestmark = pytest.mark.reliability

QUEUE = "evt-intake-intake.inquiry_registered--recorder.on_inquiry"


@pytest.fixture
def running(amqp_uri, db_url, runner_factory):
    engine = make_engine(db_url)
    recorder.metadata.create_all(engine)
    recorder.POISON.clear()
    recorder.POISON.add("other")
    config = service_config(amqp_uri, {"recorder": db_url})
    runner = runner_factory(config, recorder.RecorderService)
    runner.start()
    publisher = Publisher(amqp_uri)
    yield engine, publisher
    recorder.POISON.clear()
    publisher.close()
    engine.dispose()


def publish(publisher: Publisher, body, *, message_id=None):
    publisher.publish(
        body if isinstance(body, bytes) else json.dumps(body).encode(),
        exchange=event_exchange("intake"),
        routing_key="intake.inquiry_registered",
        message_id=message_id,
    )


def effect_counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(recorder.effects)).scalar_one()
        distinct = conn.execute(
            select(func.count(func.distinct(recorder.effects.c.message_id)))
        ).scalar_one()
    return total, distinct


def test_poison_message_is_retried_then_dead_lettered_while_others_flow(
    running, amqp_uri, vhost, infra
):
    engine, publisher = running
    poison = recorder.inquiry_event(["other"])
    good = [recorder.inquiry_event(["housing"]) for _ in range(10)]
    publish(publisher, poison.to_wire(), message_id=str(poison.message_id))
    for event in good:
        publish(publisher, event.to_wire(), message_id=str(event.message_id))

    # The good ones are not held up behind the failing one.
    wait_for(lambda: effect_counts(engine)[0] == 10, what="10 good effects")
    letters = DeadLetters(amqp_uri, "recorder")
    dead = wait_for(lambda: letters.list(), what="a dead letter")
    assert len(dead) == 1
    letter = dead[0]
    assert letter.message_id == str(poison.message_id)
    assert letter.attempts == 4  # MAX_ATTEMPTS in the test config: 1 try + 3 retries
    assert "RuntimeError: cannot handle topics ['other']" in letter.error
    assert letter.consumer == "recorder.on_inquiry"
    assert letter.original_queue == QUEUE
    assert letter.body["payload"]["topics"] == ["other"]
    assert letters.show(letter.id).message_id == letter.message_id
    # Listing does not consume: the letter is still there.
    assert [d.id for d in letters.list()] == [letter.id]
    assert effect_counts(engine) == (10, 10)
    # Nothing is left unacked or waiting in the consumer's queue.
    info = wait_for(
        lambda: (q := queue_info(infra, vhost[0], QUEUE))
        and q.get("messages", 1) == 0 and q,
        what="consumer queue drained",
    )
    assert info["messages"] == 0


def test_invalid_messages_go_straight_to_dead_letters(running, amqp_uri):
    engine, publisher = running
    publish(publisher, b"this is not json {")
    broken = recorder.inquiry_event(["housing"]).to_wire()
    broken["payload"]["channel"] = "fax"
    publish(publisher, broken, message_id=broken["message_id"])
    letters = DeadLetters(amqp_uri, "recorder")
    dead = wait_for(lambda: len(letters.list()) == 2 and letters.list(), what="2 dead letters")
    by_error = sorted(d.error for d in dead)
    assert any("payload.channel" in e for e in by_error), by_error
    # invalid messages are not retried: one attempt each
    assert [d.attempts for d in dead] == [1, 1]
    assert effect_counts(engine) == (0, 0)


def test_replayed_dead_letter_is_processed_once(running, amqp_uri):
    engine, publisher = running
    poison = recorder.inquiry_event(["other"])
    publish(publisher, poison.to_wire(), message_id=str(poison.message_id))
    letters = DeadLetters(amqp_uri, "recorder")
    letter = wait_for(lambda: letters.list(), what="a dead letter")[0]

    recorder.POISON.clear()  # the bug is fixed; the operator replays
    replayed = letters.replay(letter.id)
    assert [r.id for r in replayed] == [letter.id]
    wait_for(lambda: effect_counts(engine) == (1, 1), what="the replayed effect")
    assert letters.list() == []
    with pytest.raises(NotFound):
        letters.replay(letter.id)

    # The same message delivered again (e.g. a second copy replayed by hand) is a no-op.
    publish(publisher, poison.to_wire(), message_id=str(poison.message_id))
    sentinel = recorder.inquiry_event(["housing"])
    publish(publisher, sentinel.to_wire(), message_id=str(sentinel.message_id))
    wait_for(lambda: effect_counts(engine)[0] == 2, what="the sentinel effect")
    assert effect_counts(engine) == (2, 2)
