"""Partner queues on RabbitMQ: one durable queue per partner, fed by one exchange.

Exchange `samspil.partners` (direct, durable); queue `partner.<partner_id>` (durable)
bound with routing key = partner id. A partner that prefers AMQP gets a broker user
with read permission on its own queue only (deploy/runbook: `^partner\\.<id>$`), so it
can never read another partner's messages. Messages are persistent, published with
confirms and mandatory routing: a missing queue is an error, not a silent loss.
"""

from __future__ import annotations

from kombu import Exchange, Queue

from services.common.amqp import Publisher

PARTNER_EXCHANGE_NAME = "samspil.partners"


def partner_exchange() -> Exchange:
    return Exchange(PARTNER_EXCHANGE_NAME, type="direct", durable=True, auto_delete=False)


def partner_queue_name(partner_id: str) -> str:
    return f"partner.{partner_id}"


def partner_queue(partner_id: str, queue_type: str | None = None) -> Queue:
    args = {"x-queue-type": "quorum"} if queue_type == "quorum" else None
    return Queue(
        partner_queue_name(partner_id),
        exchange=partner_exchange(),
        routing_key=partner_id,
        durable=True,
        auto_delete=False,
        queue_arguments=args,
    )


class PartnerQueues:
    def __init__(self, publisher: Publisher, queue_type: str | None = None) -> None:
        self.publisher = publisher
        self.queue_type = queue_type

    def declare(self, partner_id: str) -> None:
        """Create the partner's queue and its binding (idempotent)."""
        self.publisher.declare([partner_exchange(), partner_queue(partner_id, self.queue_type)])

    def publish(self, partner_id: str, body: bytes, *, message_id: str, event_type: str) -> None:
        exchange = partner_exchange()
        self.publisher.publish(
            body,
            exchange=exchange,
            routing_key=partner_id,
            message_id=message_id,
            message_type=event_type,
            declare=[exchange, partner_queue(partner_id, self.queue_type)],
        )

    def close(self) -> None:
        self.publisher.close()
