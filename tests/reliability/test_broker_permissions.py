"""Least privilege on the broker (issue 12, point 10): with deploy/rabbitmq/definitions.json
applied, each service's own broker user can read its own queues and publish to its own
exchange, and the broker refuses it another service's queue and another's exchange,
including the other's retry and dead-letter exchanges and the default exchange (through
which any queue could be reached by name).

Each probe opens its own connection as the service's user (py-amqp), so a refusal,
which closes the channel, cannot hide the next probe's answer."""

from __future__ import annotations

import contextlib
from urllib.parse import unquote, urlsplit

import amqp
import pytest

from tests.reliability.test_scale_out import broker_users

pytestmark = pytest.mark.reliability

COORDINATION_QUEUE = ("evt-intake-intake.inquiry_registered--"
                      "coordination.on_intake_inquiry_registered")


def _connect(uri: str) -> amqp.Connection:
    parts = urlsplit(uri)
    conn = amqp.Connection(f"{parts.hostname}:{parts.port or 5672}",
                           userid=unquote(parts.username or ""),
                           password=unquote(parts.password or ""),
                           virtual_host=unquote(parts.path.lstrip("/")),
                           confirm_publish=True)  # a publish waits for the broker's answer
    conn.connect()
    return conn


def _allowed(uri: str, probe) -> bool:
    """Whether `probe(channel)` is allowed; a 403 from the broker is False."""
    conn = _connect(uri)
    try:
        probe(conn.channel())
        return True
    except amqp.exceptions.AccessRefused:
        return False
    finally:
        with contextlib.suppress(Exception):  # the broker may have closed it already
            conn.close()


def _read(queue: str):
    return lambda channel: channel.basic_get(queue, no_ack=False)


def _publish(exchange: str, routing_key: str):
    return lambda channel: channel.basic_publish(amqp.Message(b"{}"), exchange=exchange,
                                                 routing_key=routing_key)


def test_a_service_cannot_read_anothers_queue_or_publish_to_anothers_exchange(infra, vhost):
    with broker_users(infra, vhost[0]) as users:
        def user(service: str) -> str:
            return next(uri for name, uri in users.items() if name.endswith(service))

        intake, coordination = user("intake"), user("coordination")
        checks = {
            "coordination reads its own queue": _allowed(coordination, _read(COORDINATION_QUEUE)),
            "intake publishes to intake.events": _allowed(
                intake, _publish("intake.events", "intake.inquiry_registered")),
            "intake reads coordination's queue": _allowed(intake, _read(COORDINATION_QUEUE)),
            "intake publishes to coordination.events": _allowed(
                intake, _publish("coordination.events", "coordination.pathway_opened")),
            "coordination publishes to intake.events": _allowed(
                coordination, _publish("intake.events", "intake.inquiry_registered")),
            "coordination retries through coordination.retry": _allowed(
                coordination, _publish("coordination.retry", COORDINATION_QUEUE)),
            "coordination dead-letters to coordination.dead-letters": _allowed(
                coordination, _publish("coordination.dead-letters",
                                       "coordination.dead-letters")),
            "intake publishes to coordination.retry": _allowed(
                intake, _publish("coordination.retry", COORDINATION_QUEUE)),
            "intake publishes to coordination.dead-letters": _allowed(
                intake, _publish("coordination.dead-letters", "coordination.dead-letters")),
            "intake publishes to coordination's queue by the default exchange": _allowed(
                intake, _publish("", COORDINATION_QUEUE)),
            "coordination publishes to its own queue by the default exchange": _allowed(
                coordination, _publish("", COORDINATION_QUEUE)),
        }
    print("\n" + "\n".join(f"  {'allowed' if ok else 'refused'}: {what}"
                           for what, ok in checks.items()))
    assert checks == {
        "coordination reads its own queue": True,
        "intake publishes to intake.events": True,
        "intake reads coordination's queue": False,
        "intake publishes to coordination.events": False,
        "coordination publishes to intake.events": False,
        "coordination retries through coordination.retry": True,
        "coordination dead-letters to coordination.dead-letters": True,
        "intake publishes to coordination.retry": False,
        "intake publishes to coordination.dead-letters": False,
        "intake publishes to coordination's queue by the default exchange": False,
        "coordination publishes to its own queue by the default exchange": False,
    }
