"""Answers on the broker: the `partners.answers` queue.

A queue partner publishes its answer to the topic exchange `partners.answers` with its
own partner id as the routing key; the body is JSON
``{"handoff_id", "state", "reason"?, "outcome"?, "hold_until"?, "note"?}``
(contracts.partners.QueueAnswerMessage). One durable queue, `partners.answers`, bound
with `#`, takes every partner's answers; the service answers as the partner whose id is
the routing key, so a partner can only ever answer its own hand-offs.

That the routing key really is the publisher's own id is the broker's to enforce
(issue 12): each partner's broker user gets write permission on the exchange
`partners.answers` only, with a topic permission whose write pattern is its own id
(``^<partner_id>$``), and no permission on the default exchange.

The entrypoint is the kit's reliable handler (retries with backoff, dead letters), fed
with plain answers instead of envelopes. A message that can never succeed (not JSON,
fields missing or wrong, an unknown hand-off, an answer the lifecycle refuses) goes to
`partners.dead-letters` at once, with the reason in its headers, for an operator.
A retried or replayed message comes back through the exchange `partners.retry`: its
partner id then travels in the `samspil-answer-partner` header, which the service writes itself
and never reads from a message that came in through `partners.answers`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from kombu import Exchange, Queue, binding

from contracts.envelope import InvalidMessage
from services.common.messaging import ReliableEventHandler, _attempts, retry_exchange

log = logging.getLogger(__name__)

ANSWERS_EXCHANGE = "partners.answers"
ANSWERS_QUEUE = "partners.answers"
# Not x-samspil-*: a replay from the dead-letter queue strips those, and keeps this one.
PARTNER_HEADER = "samspil-answer-partner"


def answers_exchange() -> Exchange:
    return Exchange(ANSWERS_EXCHANGE, type="topic", durable=True, auto_delete=False)


def answers_queue(queue_type: str | None = None) -> Queue:
    """The queue, bound to the answers exchange (every partner's key) and to partners'
    retry exchange under its own name, where its retries and replays come back."""
    args = {"x-queue-type": "quorum"} if queue_type == "quorum" else None
    return Queue(ANSWERS_QUEUE, bindings=[binding(answers_exchange(), routing_key="#"),
                                          binding(retry_exchange("partners"),
                                                  routing_key=ANSWERS_QUEUE)],
                 durable=True, auto_delete=False, queue_arguments=args)


def partner_of(message: Any) -> str | None:
    """The answering partner: the routing key when the message came in through the
    answers exchange; our own header when it came back from a retry or a replay."""
    info = message.delivery_info or {}
    if info.get("exchange") == ANSWERS_EXCHANGE:
        return str(info.get("routing_key") or "") or None
    headers = message.headers or {}
    given = headers.get(PARTNER_HEADER)
    return str(given) if given else None


def decode(body: Any) -> Any:
    """The JSON body (kombu decodes application/json; anything else arrives raw)."""
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8")
    if isinstance(body, str):
        return json.loads(body)
    return body


class AnswerQueueConsumer(ReliableEventHandler):
    """The kit's reliable handler, on the `partners.answers` queue. The method receives
    ``{"partner_id", "message_id", "body"}``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("partners", "partners.answer", **kwargs)

    def setup(self) -> None:
        super().setup()
        self.queue = answers_queue(self.queue_type)

    def handle_message(self, body: Any, message: Any) -> None:
        partner_id = partner_of(message)
        self._remember_partner(message, partner_id)
        try:
            if not partner_id:
                raise InvalidMessage({"routing_key": ["Publish with your partner id as the "
                                                      "routing key."]})
            try:
                data = decode(body)
            except (ValueError, UnicodeDecodeError) as exc:
                raise InvalidMessage({"_body": [f"Not JSON: {exc}"]}) from None
        except InvalidMessage as exc:
            log.error("answer from %s dead-lettered: %s", partner_id, exc)
            self._settle_failure(message, exc, attempts=_attempts(message) + 1, permanent=True)
            return
        delivery = {"partner_id": partner_id,
                    "message_id": message.properties.get("message_id"), "body": data}
        # nameko's Consumer.handle_message: spawn the worker, settle by its result.
        super(ReliableEventHandler, self).handle_message(delivery, message)

    def handle_undecodable(self, message: Any, exc: Exception) -> None:
        self._remember_partner(message, partner_of(message))
        super().handle_undecodable(message, exc)

    @staticmethod
    def _remember_partner(message: Any, partner_id: str | None) -> None:
        """Write the partner into the headers a retry or dead letter will carry."""
        if not partner_id:
            return
        headers = dict(message.headers or {})
        headers[PARTNER_HEADER] = partner_id
        message.headers = headers


answer_consumer = AnswerQueueConsumer.decorator
