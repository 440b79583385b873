"""One small publisher for everything Samspil itself puts on the broker.

Used by the outbox relay, by the retry/dead-letter path of event handlers and by the
operator's dead-letter tools. Always persistent, always with publisher confirms, and
mandatory by default: a message that no queue takes raises `Unroutable` instead of
vanishing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from amqp.exceptions import ChannelError
from kombu import Connection, Exchange, Queue

log = logging.getLogger(__name__)

PERSISTENT = 2


@dataclass(frozen=True)
class Broker:
    """How to reach the broker, read once from a service's config with nameko's own keys,
    so the kit's connections and nameko's agree:

    - `AMQP_URI`: one URL, or several separated by `;` (kombu fails over between them,
      e.g. the nodes of a cluster);
    - `AMQP_SSL`: TLS; true, or kombu/py-amqp ssl options such as
      `{ca_certs: /etc/samspil/ca.pem, cert_reqs: 2, server_hostname: rabbitmq}`;
    - `LOGIN_METHOD`: e.g. `EXTERNAL` with client certificates;
    - `HEARTBEAT`: seconds (nameko's default is 60); a silent broker is noticed within two.
    """

    uri: str
    ssl: Any = None
    login_method: str | None = None
    heartbeat: float | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Broker:
        heartbeat = config.get("HEARTBEAT")
        return cls(
            uri=str(config["AMQP_URI"]),
            ssl=config.get("AMQP_SSL") or None,
            login_method=config.get("LOGIN_METHOD") or None,
            heartbeat=float(heartbeat) if heartbeat not in (None, "") else None,
        )

    def connection(self, **kwargs: Any) -> Connection:
        """A kombu connection with these settings (keyword arguments win)."""
        options: dict[str, Any] = {"ssl": self.ssl, "login_method": self.login_method}
        options.update(kwargs)
        return Connection(self.uri, **options)

    def nameko_config(self) -> dict[str, Any]:
        """The keys a nameko standalone proxy needs to reach the same broker."""
        config: dict[str, Any] = {"AMQP_URI": self.uri}
        if self.ssl:
            config["AMQP_SSL"] = self.ssl
        if self.login_method:
            config["LOGIN_METHOD"] = self.login_method
        if self.heartbeat is not None:
            config["HEARTBEAT"] = self.heartbeat
        return config


def as_broker(broker: Broker | str) -> Broker:
    """A Broker from a Broker or a bare URL (tests and tools that only have a URL)."""
    return broker if isinstance(broker, Broker) else Broker(broker)


class Unroutable(Exception):
    """The broker returned the message: no queue is bound for its routing key."""


def event_exchange(service: str) -> Exchange:
    """`<service>.events`, declared exactly as nameko's event handlers declare it."""
    return Exchange(f"{service}.events", type="topic", durable=True, auto_delete=False)


#: How long a publish may take (connecting, declaring, the broker's confirm) before it
#: counts as failed. Without a bound a partitioned network (a blackhole: no RST, no
#: FIN, nothing) would keep the outbox relay waiting for its confirm until TCP itself
#: gave up, a quarter of an hour later (tests/reliability/test_network_faults.py).
PUBLISH_TIMEOUT_SECONDS = 10.0


class Publisher:
    """A long-lived confirming publisher on one connection (reconnects on failure).

    Every wait on the broker is bounded by `timeout`: connecting, declaring, the confirm
    and closing. A publish that times out raises (socket.timeout, an OSError) and the
    connection is dropped without a word to the broker (it may not be listening); the
    caller publishes again later, and consumers' inboxes absorb a message that had
    arrived after all."""

    def __init__(self, broker: Broker | str, *, heartbeat: int = 0,
                 timeout: float = PUBLISH_TIMEOUT_SECONDS) -> None:
        self.broker = as_broker(broker)
        self.heartbeat = heartbeat
        self.timeout = timeout
        self._conn: Connection | None = None
        self._producer: Any = None
        self._declared: set[str] = set()
        # One channel must not interleave frames of two publishes (green threads share it).
        self._lock = threading.Lock()

    def _ensure(self) -> Any:
        if self._producer is None:
            conn = self._conn = self.broker.connection(
                transport_options={"confirm_publish": True},
                heartbeat=self.heartbeat,
                connect_timeout=self.timeout,  # py-amqp: the TCP connect and the handshake
            )
            conn.ensure_connection(max_retries=1)
            # Every later wait without a timeout of its own (a declare's answer, the
            # close) gets this one: py-amqp waits on the socket, green or not.
            conn.connection.sock.settimeout(self.timeout)
            self._producer = conn.Producer()
            self._declared.clear()
        return self._producer

    def close(self) -> None:
        """Close politely (within `timeout`: the broker may not answer)."""
        try:
            if self._conn is not None:
                self._conn.release()
        finally:
            self._conn = None
            self._producer = None

    def _drop(self) -> None:
        """Forget the connection after an error, without network I/O: closing it politely
        would wait for an answer that a broken or partitioned connection never gives."""
        try:
            if self._conn is not None:
                self._conn.collect()
        except Exception as exc:  # already gone; nothing to tidy
            log.debug("publisher: dropping the connection: %s", exc)
        finally:
            self._conn = None
            self._producer = None

    def declare(self, entities: Iterable[Exchange | Queue]) -> None:
        producer = self._ensure()
        for entity in entities:
            key = f"{type(entity).__name__}:{entity.name}"
            if key not in self._declared:
                # A bound copy: the caller's entity may still be bound to a channel of
                # a connection dropped since (maybe_bind would keep that one).
                entity.bind(producer.channel).declare()
                self._declared.add(key)

    def publish(
        self,
        body: bytes | str | dict[str, Any],
        *,
        exchange: Exchange | str,
        routing_key: str,
        headers: dict[str, Any] | None = None,
        message_id: str | None = None,
        message_type: str | None = None,
        mandatory: bool = True,
        declare: Iterable[Exchange | Queue] = (),
    ) -> None:
        """Publish and wait for the broker's confirm. Raises Unroutable or a
        connection error; on any error the connection is dropped and re-made next time."""
        # A received body may come back as text (py-amqp decodes utf-8): re-send it as is.
        if isinstance(body, bytes):
            raw = body
        elif isinstance(body, str):
            raw = body.encode("utf-8")
        else:
            raw = json.dumps(body).encode("utf-8")
        with self._lock:
            self._publish(raw, exchange, routing_key, headers, message_id, message_type,
                          mandatory, declare)

    def _publish(
        self,
        raw: bytes,
        exchange: Exchange | str,
        routing_key: str,
        headers: dict[str, Any] | None,
        message_id: str | None,
        message_type: str | None,
        mandatory: bool,
        declare: Iterable[Exchange | Queue],
    ) -> None:
        try:
            producer = self._ensure()
            self.declare(declare)
            producer.publish(
                raw,
                exchange=exchange,
                routing_key=routing_key,
                headers=headers or {},
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=PERSISTENT,
                mandatory=mandatory,
                message_id=message_id,
                type=message_type,
                retry=False,
                timeout=self.timeout,  # the frames' write
                confirm_timeout=self.timeout,
            )
        except ChannelError as exc:
            self.close()  # the broker closed the channel and answers: a polite close
            if "NO_ROUTE" in str(exc) or getattr(exc, "reply_code", None) == 312:
                raise Unroutable(f"{getattr(exchange, 'name', exchange)}/{routing_key}") from exc
            raise
        except Exception:
            self._drop()
            raise


def rpc_listening(broker: Broker | str, services: Iterable[str]) -> dict[str, bool]:
    """For each service: does any instance consume its RPC queue right now?

    A stopped service's durable RPC queue would keep a request and run it whenever the
    service came back, long after its caller gave up: callers ask first."""
    found: dict[str, bool] = {}
    with as_broker(broker).connection(connect_timeout=5) as conn:
        for service in services:
            channel = conn.channel()
            try:
                _, _, consumers = channel.queue_declare(queue=f"rpc-{service}", passive=True)
                found[service] = bool(consumers)
            except Exception:  # 404: the queue was never declared, the service never ran
                found[service] = False
            finally:
                with contextlib.suppress(Exception):  # closed by the broker already (404)
                    channel.close()
    return found
