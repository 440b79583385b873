"""The operator's view of dead letters: list, show and replay.

Dead letters sit in `<service>.dead-letters` (durable). Listing takes messages
without acking them and closes the channel afterwards, which returns them to the
queue in their order. Replaying re-publishes one to the queue of the consumer that
failed (attempt count reset, with confirms and mandatory routing) and only then
acks it out of the dead-letter queue; the consumer's inbox makes a replay of an
already-processed message a no-op.
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass, field
from typing import Any

from kombu import Connection

from services.common.amqp import Publisher
from services.common.errors import NotFound
from services.common.messaging import ATTEMPTS, HEADER_PREFIX, dead_letter_queue

REPLAYED_FROM = HEADER_PREFIX + "replayed-from"


@dataclass(frozen=True)
class DeadLetter:
    id: str
    service: str
    consumer: str
    original_queue: str
    message_type: str | None
    message_id: str | None
    attempts: int
    error: str
    failed_at: str
    body: Any
    headers: dict[str, Any] = field(repr=False, default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "service": self.service,
            "consumer": self.consumer,
            "type": self.message_type,
            "message_id": self.message_id,
            "attempts": self.attempts,
            "error": self.error,
            "failed_at": self.failed_at,
        }


def _to_dead_letter(service: str, message: Any) -> DeadLetter:
    headers = dict(message.headers or {})
    raw = message.body
    try:
        body: Any = json.loads(raw)
    except (ValueError, TypeError):
        body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return DeadLetter(
        id=str(headers.get(HEADER_PREFIX + "dead-letter-id", "")),
        service=service,
        consumer=str(headers.get(HEADER_PREFIX + "consumer", "")),
        original_queue=str(headers.get(HEADER_PREFIX + "original-queue", "")),
        message_type=message.properties.get("type"),
        message_id=message.properties.get("message_id"),
        attempts=int(headers.get(ATTEMPTS, 0) or 0),
        error=str(headers.get(HEADER_PREFIX + "error", "")),
        failed_at=str(headers.get(HEADER_PREFIX + "failed-at", "")),
        body=body,
        headers=headers,
    )


def find_dead_letter(
    amqp_uri: str, services: list[str], dead_letter_id: str, *, queue_type: str | None = None
) -> tuple[DeadLetters, DeadLetter]:
    """The queue holding dead letter `dead_letter_id`, and the letter; NotFound if none."""
    for service in services:
        letters = DeadLetters(amqp_uri, service, queue_type=queue_type)
        try:
            return letters, letters.show(dead_letter_id)
        except NotFound:
            continue
    raise NotFound("dead_letter_id", f"No dead letter {dead_letter_id}.")


class DeadLetters:
    """Dead-letter tools for one service's queue."""

    def __init__(self, amqp_uri: str, service: str, *, queue_type: str | None = None) -> None:
        from services.common.outbox import UNROUTED, unrouted_queue

        self.amqp_uri = amqp_uri
        self.service = service
        # "unrouted" is the parking queue of events no consumer was bound for.
        self.queue = unrouted_queue() if service == UNROUTED else dead_letter_queue(
            service, queue_type)

    def _fetch(self, conn: Connection, limit: int) -> builtins.list[Any]:
        queue = self.queue(conn.channel())
        queue.declare()
        messages: builtins.list[Any] = []
        while len(messages) < limit:
            message = queue.get(no_ack=False)
            if message is None:
                break
            messages.append(message)
        return messages

    def list(self, limit: int = 100) -> list[DeadLetter]:
        with Connection(self.amqp_uri) as conn:
            return [_to_dead_letter(self.service, m) for m in self._fetch(conn, limit)]
            # leaving the block closes the channel: every message goes back unacked

    def count(self) -> int:
        with Connection(self.amqp_uri) as conn:
            queue = self.queue(conn.channel())
            queue.declare()
            return int(queue.queue_declare(passive=True).message_count)

    def show(self, dead_letter_id: str, scan: int = 10_000) -> DeadLetter:
        for letter in self.list(limit=scan):
            if letter.id == dead_letter_id:
                return letter
        raise NotFound("dead_letter_id", f"No dead letter {dead_letter_id} in {self.queue.name}.")

    def replay(
        self, dead_letter_id: str | None = None, scan: int = 10_000
    ) -> builtins.list[DeadLetter]:
        """Replay one dead letter (by id), or all of them when no id is given."""
        replayed: builtins.list[DeadLetter] = []
        publisher = Publisher(self.amqp_uri)
        try:
            with Connection(self.amqp_uri) as conn:
                for message in self._fetch(conn, scan):
                    letter = _to_dead_letter(self.service, message)
                    if dead_letter_id is not None and letter.id != dead_letter_id:
                        continue
                    headers = {
                        k: v for k, v in letter.headers.items() if not k.startswith(HEADER_PREFIX)
                    }
                    headers[ATTEMPTS] = 0
                    headers[REPLAYED_FROM] = letter.id
                    # Back to the consumer's queue, or (for a parked event nobody was
                    # bound for) to its exchange, so every queue bound since receives it.
                    exchange, routing_key = ("", letter.original_queue)
                    if not letter.original_queue:
                        exchange = str(letter.headers.get(HEADER_PREFIX + "original-exchange"))
                        routing_key = str(
                            letter.headers.get(HEADER_PREFIX + "original-routing-key"))
                    publisher.publish(
                        message.body,
                        exchange=exchange,
                        routing_key=routing_key,
                        headers=headers,
                        message_id=letter.message_id,
                        message_type=letter.message_type,
                    )
                    message.ack()  # only after the broker confirmed the replay
                    replayed.append(letter)
        finally:
            publisher.close()
        if dead_letter_id is not None and not replayed:
            raise NotFound(
                "dead_letter_id", f"No dead letter {dead_letter_id} in {self.queue.name}."
            )
        return replayed
