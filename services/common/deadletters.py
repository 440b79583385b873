"""The operator's view of dead letters: list, show and replay.

Dead letters sit in `<service>.dead-letters` (durable). Listing takes messages
without acking them and closes the channel afterwards, which returns them to the
queue in their order. Replaying re-publishes one to the queue of the consumer that
failed (attempt count reset, with confirms and mandatory routing) and only then
acks it out of the dead-letter queue; the consumer's inbox makes a replay of an
already-processed message a no-op.

Any letter can be listed, shown and replayed, whatever it carries: the tools read the
raw AMQP message (py-amqp's basic_get, so no library decompresses or deserialises it),
every header is read defensively, and a body that is not plain JSON of sane depth
(compressed, binary, not UTF-8, nested deeper than the gateway admits) is shown as
opaque: its size, its encoding and a short preview. Replaying sends the raw bytes back
as they came. `replay_each` goes on past a letter it cannot replay and reports each.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from services.common.amqp import Broker, Publisher, as_broker
from services.common.errors import NotFound
from services.common.messaging import (
    ATTEMPTS,
    HEADER_PREFIX,
    count_header,
    dead_letter_queue,
    retry_exchange,
)

REPLAYED_FROM = HEADER_PREFIX + "replayed-from"
#: Deeper JSON is shown as opaque (the gateway refuses deeper bodies too).
MAX_DEPTH = 64
PREVIEW_CHARS = 200
log = logging.getLogger(__name__)


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
    raw: bytes = field(repr=False, default=b"")
    opaque: bool = False  # the body is not JSON a person can read (see `body`)

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
            "opaque": self.opaque,
        }


@dataclass(frozen=True)
class ReplayOutcome:
    """One letter of a replay: sent back (`replayed`), or left in place with why."""

    letter: DeadLetter
    replayed: bool
    destination: str
    problem: str | None = None


def _depth_within(value: Any, limit: int) -> bool:
    """Whether a parsed JSON value nests no deeper than `limit` (iteratively)."""
    stack: builtins.list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return True


def _raw_depth_within(raw: bytes, limit: int) -> bool:
    """A cheap upper bound before parsing: brackets never nest deeper than `limit`
    (a 200,000-deep body would exhaust the parser's recursion)."""
    depth = 0
    for byte in raw:
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return False
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return True


def read_body(raw: bytes, headers: dict[str, Any], content_encoding: Any
              ) -> tuple[Any, bool]:
    """(what a person is shown, opaque?) for a letter's raw body."""
    compressed = headers.get("compression")
    encoding = str(content_encoding or "utf-8").lower()
    if not compressed and encoding in ("utf-8", "utf8") and _raw_depth_within(raw, MAX_DEPTH):
        try:
            value = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            pass
        else:
            if _depth_within(value, MAX_DEPTH):
                return value, False
    preview = raw[:PREVIEW_CHARS].decode("utf-8", "replace")
    return {"bytes": len(raw), "content_encoding": str(content_encoding or ""),
            "compression": str(compressed or ""), "preview": preview}, True


def _owner(queue: str, default: str) -> str:
    """The service a consumer queue belongs to: `evt-<source>-<type>--<service>.<method>`."""
    _, sep, tail = queue.partition("--")
    return tail.split(".", 1)[0] if sep and "." in tail else default


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _as_bytes(body: Any, content_encoding: Any) -> bytes:
    """py-amqp decodes a body by its content_encoding when it can: undo that."""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    try:
        return str(body).encode(str(content_encoding or "utf-8"))
    except (LookupError, UnicodeError):
        return str(body).encode("utf-8", "surrogateescape")


def _to_dead_letter(service: str, message: Any) -> DeadLetter:
    props = dict(getattr(message, "properties", None) or {})
    headers_value = props.get("application_headers")
    headers = dict(headers_value) if isinstance(headers_value, dict) else {}
    raw = _as_bytes(message.body, props.get("content_encoding"))
    body, opaque = read_body(raw, headers, props.get("content_encoding"))
    message_id = _text(props.get("message_id")) or None
    letter_id = (_text(headers.get(HEADER_PREFIX + "dead-letter-id")) or message_id
                 or "sha256-" + hashlib.sha256(raw).hexdigest()[:32])
    return DeadLetter(
        id=letter_id,
        service=service,
        consumer=_text(headers.get(HEADER_PREFIX + "consumer")),
        original_queue=_text(headers.get(HEADER_PREFIX + "original-queue")),
        message_type=_text(props.get("type")) or None,
        message_id=message_id,
        attempts=count_header(headers, ATTEMPTS),
        error=_text(headers.get(HEADER_PREFIX + "error")),
        failed_at=_text(headers.get(HEADER_PREFIX + "failed-at")),
        body=body,
        headers=headers,
        raw=raw,
        opaque=opaque,
    )


def find_dead_letter(
    broker: Broker | str, services: list[str], dead_letter_id: str, *, queue_type: str | None = None
) -> tuple[DeadLetters, DeadLetter]:
    """The queue holding dead letter `dead_letter_id`, and the letter; NotFound if none."""
    for service in services:
        letters = DeadLetters(broker, service, queue_type=queue_type)
        try:
            return letters, letters.show(dead_letter_id)
        except NotFound:
            continue
    raise NotFound("dead_letter_id", f"No dead letter {dead_letter_id}.")


class DeadLetters:
    """Dead-letter tools for one service's queue."""

    def __init__(self, broker: Broker | str, service: str, *,
                 queue_type: str | None = None) -> None:
        from services.common.outbox import UNROUTED, unrouted_queue

        self.broker = as_broker(broker)
        self.service = service
        # "unrouted" is the parking queue of events no consumer was bound for.
        self.queue = unrouted_queue() if service == UNROUTED else dead_letter_queue(
            service, queue_type)

    @contextmanager
    def _taking(self, limit: int) -> Iterator[tuple[Any, Iterator[Any]]]:
        """(channel, raw messages taken unacked, at most `limit`). Leaving the block
        closes the channel: every message not acked goes back, in its order."""
        with self.broker.connection() as conn:
            channel = conn.channel()
            try:
                self.queue(channel).declare()

                def messages() -> Iterator[Any]:
                    for _ in range(limit):
                        message = channel.basic_get(queue=self.queue.name, no_ack=False)
                        if message is None:
                            return
                        yield message

                yield channel, messages()
            finally:
                channel.close()

    def list(self, limit: int = 100, offset: int = 0) -> builtins.list[DeadLetter]:
        """Letters `offset` to `offset + limit` in the queue's order (a page)."""
        with self._taking(offset + limit) as (_, messages):
            return [_to_dead_letter(self.service, m)
                    for index, m in enumerate(messages) if index >= offset]

    def count(self) -> int:
        with self.broker.connection() as conn:
            queue = self.queue(conn.channel())
            queue.declare()
            return int(queue.queue_declare(passive=True).message_count)

    def show(self, dead_letter_id: str, scan: int = 10_000) -> DeadLetter:
        with self._taking(scan) as (_, messages):
            for message in messages:
                letter = _to_dead_letter(self.service, message)
                if letter.id == dead_letter_id:
                    return letter
        raise NotFound("dead_letter_id", f"No dead letter {dead_letter_id} in {self.queue.name}.")

    def replay(
        self, dead_letter_id: str | None = None, scan: int = 10_000
    ) -> builtins.list[DeadLetter]:
        """Replay one dead letter (by id), or all of them when no id is given; the
        letters replayed. A named letter that cannot be replayed raises."""
        outcomes = self.replay_each(dead_letter_id, scan)
        if dead_letter_id is not None:
            if not outcomes:
                raise NotFound(
                    "dead_letter_id", f"No dead letter {dead_letter_id} in {self.queue.name}.")
            if not outcomes[0].replayed:
                raise ReplayFailed(outcomes[0])
        return [o.letter for o in outcomes if o.replayed]

    def replay_each(
        self, dead_letter_id: str | None = None, scan: int = 10_000
    ) -> builtins.list[ReplayOutcome]:
        """Replay one letter (by id) or every letter, going on past any that cannot be
        sent back (it stays in the queue): one outcome per letter tried."""
        outcomes: builtins.list[ReplayOutcome] = []
        publisher = Publisher(self.broker)
        try:
            with self._taking(scan) as (channel, messages):
                for message in messages:
                    letter = _to_dead_letter(self.service, message)
                    if dead_letter_id is not None and letter.id != dead_letter_id:
                        continue
                    outcomes.append(self._replay_one(publisher, channel, message, letter))
                    if dead_letter_id is not None:
                        break
        finally:
            publisher.close()
        return outcomes

    def _replay_one(self, publisher: Publisher, channel: Any, message: Any,
                    letter: DeadLetter) -> ReplayOutcome:
        headers = {k: v for k, v in letter.headers.items()
                   if not str(k).startswith(HEADER_PREFIX)}
        headers[ATTEMPTS] = 0
        headers[REPLAYED_FROM] = letter.id
        # Back to the consumer's queue, or (for a parked event nobody was bound for)
        # to its exchange, so every queue bound since receives it.
        exchange, routing_key = "", letter.original_queue
        if letter.original_queue:
            # Through the owning service's retry exchange, where its queues are bound
            # under their own names (no one may write to the default exchange).
            exchange = retry_exchange(_owner(letter.original_queue, self.service)).name
        else:
            exchange = _text(letter.headers.get(HEADER_PREFIX + "original-exchange"))
            routing_key = _text(letter.headers.get(HEADER_PREFIX + "original-routing-key"))
        destination = f"{exchange or '(default)'}/{routing_key}"
        if not routing_key:
            return ReplayOutcome(letter, False, destination,
                                 "the letter names no queue or exchange to go back to")
        try:
            publisher.publish(letter.raw, exchange=exchange, routing_key=routing_key,
                              headers=headers, message_id=letter.message_id,
                              message_type=letter.message_type)
        except Exception as exc:  # reported per letter; the rest go on
            log.warning("dead letter %s not replayed: %s", letter.id, type(exc).__name__)
            return ReplayOutcome(letter, False, destination, f"{type(exc).__name__}: {exc}")
        channel.basic_ack(message.delivery_tag)  # only after the broker confirmed it
        return ReplayOutcome(letter, True, destination)


class ReplayFailed(Exception):
    """A named letter could not be sent back; it stays in the dead-letter queue."""

    def __init__(self, outcome: ReplayOutcome) -> None:
        super().__init__(outcome.problem)
        self.outcome = outcome
