"""Receiving events: validated, idempotent, retried with backoff, never dropped.

`inbox_handler(source_service, event_type)` decorates a service method
``def on_x(self, uow, event)``. For every delivery:

1. The envelope and payload are validated against `contracts`. An invalid message
   can never succeed: it goes straight to the service's dead-letter queue.
2. A unit of work opens; `(consumer, message_id)` is recorded in the inbox table.
   If it was already there, the delivery is a duplicate: nothing happens, it is acked.
3. The method runs with the uow and the event (payload loaded into Python values);
   the wrapper commits. Only then does nameko ack the message.
4. If the method raises, the message is re-published to a delay queue
   (`<service>.retry.<ms>`, dead-lettered through the service's own exchange
   `<service>.retry` back to this consumer's queue when its TTL runs out) and acked;
   after `MAX_ATTEMPTS` it goes to `<service>.dead-letters` with the error and the
   attempt count. If even that publish fails, the message
   is requeued, not acked: nothing is acked and dropped. The delays grow exponentially
   (from `RETRY_BASE_MS`, times `RETRY_MULTIPLIER`, capped at `RETRY_MAX_DELAY_MS`:
   1 s, 5 s, 25 s, 2 min, 10 min, 30 min by default) with jitter, unless
   `RETRY_DELAYS_MS` lists them exactly.
5. If the consumer's own database cannot be reached (checked with a `SELECT 1` when a
   handler fails with a connection-class error), the message is not at fault: it waits
   in a delay queue (1 s doubling to 1 minute, with jitter) without spending an attempt,
   as long as the outage lasts, and no dead letter comes of it.

Queue names follow nameko (`evt-<source>-<type>--<service>.<method>`), so this is a
drop-in for `@event_handler`; `QUEUE_TYPE: quorum` in config declares quorum queues.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import math
import random
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from kombu import Exchange, Queue, binding
from nameko.events import SERVICE_POOL, EventHandler
from nameko.messaging import QueueConsumer
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from contracts import registry
from contracts.envelope import Envelope, InvalidMessage, parse_envelope
from services.common import logs, metrics
from services.common.amqp import Broker, Publisher, event_exchange
from services.common.faults import fault_point

log = logging.getLogger(__name__)

HEADER_PREFIX = "x-samspil-"
ATTEMPTS = HEADER_PREFIX + "attempts"
OUTAGE_WAITS = HEADER_PREFIX + "outage-waits"  # delays spent waiting out the database
DEFAULT_RETRY_BASE_MS = 1_000
DEFAULT_RETRY_MULTIPLIER = 5
DEFAULT_RETRY_MAX_DELAY_MS = 30 * 60_000
DEFAULT_MAX_ATTEMPTS = 7  # the first delivery plus six retries, about 43 minutes
OUTAGE_BASE_MS = 1_000
OUTAGE_MAX_DELAY_MS = 60_000
JITTER = 0.2  # a delay is drawn from ±20 % around its step


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help: the message is dead-lettered now."""


class DatabaseUnavailable(Exception):
    """The consumer's own database could not be reached when a handler failed: the
    message is not at fault, so waiting for the database spends none of its attempts."""


def _connection_class(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and bool(exc.connection_invalidated))


def database_reachable(engine: Any) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # whatever the driver raises: the database is not there
        return False


#: The values a jittered delay is rounded to, per decade: few distinct delay queues.
NICE_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def jittered(delay_ms: int, rng: random.Random | None = None) -> int:
    """`delay_ms` ± `JITTER`, rounded to the nearest of `NICE_STEPS` in its decade, so a
    burst of retries spreads over a few delay queues instead of returning at the same
    moment, and the number of delay queues stays small (two to four per step)."""
    drawn = max(delay_ms * (1 + (rng or random).uniform(-JITTER, JITTER)), 100.0)
    decade = 10 ** math.floor(math.log10(drawn))
    nearest = min(NICE_STEPS, key=lambda step: abs(math.log(drawn / (step * decade))))
    return round(nearest * decade)


def dead_letter_queue_name(service: str) -> str:
    return f"{service}.dead-letters"


def dead_letter_exchange(service: str) -> Exchange:
    """`<service>.dead-letters` (fanout): the only way into the service's dead-letter
    queue, for the kit and for the broker's own dead-lettering of quorum queues."""
    return Exchange(dead_letter_queue_name(service), type="fanout", durable=True,
                    auto_delete=False)


def dead_letter_queue(service: str, queue_type: str | None = None) -> Queue:
    args = {"x-queue-type": queue_type} if queue_type == "quorum" else None
    return Queue(
        dead_letter_queue_name(service),
        exchange=dead_letter_exchange(service),
        routing_key=dead_letter_queue_name(service),
        durable=True,
        auto_delete=False,
        queue_arguments=args,
    )


def retry_exchange(service: str) -> Exchange:
    """`<service>.retry` (direct): brings a service's waiting messages back to its own
    consumer queues, each bound to it with its own name as the routing key. Through it,
    and not through the default exchange, nobody can put a message into another
    service's queue (deploy/rabbitmq/definitions.py grants no one amq.default)."""
    return Exchange(f"{service}.retry", type="direct", durable=True, auto_delete=False)


def delay_entities(service: str, delay_ms: int,
                   queue_type: str | None = None) -> tuple[Exchange, Queue]:
    """A fanout exchange + queue of `service`'s holding messages for `delay_ms`, then
    dead-lettering them to `<service>.retry` with their routing key (= the consumer's
    queue name). A quorum queue where the service's queues are (a cluster: a retry can
    be parked while any one node is down; RabbitMQ 3.10+ expires quorum messages)."""
    name = f"{service}.retry.{delay_ms}"
    exchange = Exchange(name, type="fanout", durable=True, auto_delete=False)
    args: dict[str, Any] = {"x-message-ttl": delay_ms,
                            "x-dead-letter-exchange": retry_exchange(service).name}
    if queue_type == "quorum":
        args["x-queue-type"] = "quorum"
    queue = Queue(
        name,
        exchange=exchange,
        durable=True,
        auto_delete=False,
        queue_arguments=args,
    )
    return exchange, queue


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How long a failed message waits before its next try.

    `delays_ms` (config `RETRY_DELAYS_MS`) lists the delays exactly, the last repeated;
    without it the delay grows from `base_ms` by `multiplier` up to `max_delay_ms`,
    with jitter."""

    delays_ms: tuple[int, ...] = ()
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    base_ms: int = DEFAULT_RETRY_BASE_MS
    max_delay_ms: int = DEFAULT_RETRY_MAX_DELAY_MS
    multiplier: int = DEFAULT_RETRY_MULTIPLIER
    outage_base_ms: int = OUTAGE_BASE_MS
    outage_max_delay_ms: int = OUTAGE_MAX_DELAY_MS

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RetryPolicy:
        delays = tuple(int(d) for d in config.get("RETRY_DELAYS_MS") or ())
        return cls(delays, int(config.get("MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS),
                   int(config.get("RETRY_BASE_MS") or DEFAULT_RETRY_BASE_MS),
                   int(config.get("RETRY_MAX_DELAY_MS") or DEFAULT_RETRY_MAX_DELAY_MS),
                   max(int(config.get("RETRY_MULTIPLIER") or DEFAULT_RETRY_MULTIPLIER), 1),
                   int(config.get("OUTAGE_BASE_MS") or OUTAGE_BASE_MS),
                   int(config.get("OUTAGE_MAX_DELAY_MS") or OUTAGE_MAX_DELAY_MS))

    def delay_for(self, attempts: int) -> int:
        """Delay before the next try after `attempts` failed ones."""
        if self.delays_ms:
            return self.delays_ms[min(attempts, len(self.delays_ms)) - 1]
        step = min(self.base_ms * self.multiplier ** min(attempts - 1, 40),
                   self.max_delay_ms)
        return min(jittered(step), self.max_delay_ms)

    def outage_delay(self, waits: int) -> int:
        """Delay before looking again after `waits` waits for the database."""
        return min(jittered(min(self.outage_base_ms * 2 ** min(waits, 20),
                                self.outage_max_delay_ms)), self.outage_max_delay_ms)


class SafeAckQueueConsumer(QueueConsumer):
    """nameko's QueueConsumer, except that an ack or requeue on a connection the broker
    has just reset (its node killed) does not stop the service. nameko ignores only
    amqp's own ConnectionError; the socket's OSError (ECONNRESET, EPIPE) escaped into the
    worker and killed the whole container (tests/reliability/test_cluster.py). The
    message stays unacknowledged: the broker delivers it again, and the inbox (or
    `rpc_requests`) makes that second delivery change nothing."""

    def ack_message(self, message: Any) -> None:
        try:
            super().ack_message(message)
        except OSError as exc:
            log.warning("ack lost with the broker connection (%s); it comes again", exc)

    def requeue_message(self, message: Any) -> None:
        try:
            super().requeue_message(message)
        except OSError as exc:
            log.warning("requeue lost with the broker connection (%s); it comes again", exc)

    #: Whether the consumer's connection is up: set when its consumers are ready, unset
    #: as soon as it is lost (heartbeats missed, a reset). A caller waiting for RPC replies
    #: on it (services.common.rpc.RpcProxy) refuses at once while it is unset.
    connected = False

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any,
                         **kwargs: Any) -> None:
        self.connected = True
        super().on_consume_ready(connection, channel, consumers, **kwargs)

    @contextlib.contextmanager
    def establish_connection(self) -> Iterator[Any]:
        """kombu's ConsumerMixin.establish_connection, except that a connection lost
        (heartbeats missed, a reset) is dropped without a word to the broker. kombu
        closes it politely, waiting for the broker's Close-Ok with no timeout: on a
        partitioned network (a blackhole) that answer never comes, and every consumer
        of the process, having noticed the silence within two heartbeats, then hung
        until the network healed (or TCP gave up) instead of reconnecting
        (tests/reliability/test_network_faults.py)."""
        conn = self.create_connection()
        try:
            conn.ensure_connection(self.on_connection_error, self.connect_max_retries)
            yield conn
        except conn.connection_errors:
            self.connected = False
            conn.collect()
            raise
        except BaseException:
            self.connected = False
            conn.release()
            raise
        else:
            self.connected = False
            conn.release()


class DecodeSafeQueueConsumer(SafeAckQueueConsumer):
    """nameko's QueueConsumer, except that a body kombu cannot decode (not JSON) goes
    to the provider's `handle_undecodable` instead of raising inside the consume loop,
    where it would be redelivered forever."""

    def get_consumers(self, consumer_cls: Any, channel: Any) -> Any:
        consumers = super().get_consumers(consumer_cls, channel)
        for provider, consumer in self._consumers.items():
            consumer.on_decode_error = functools.partial(self._on_decode_error, provider)
        return consumers

    def _on_decode_error(self, provider: Any, message: Any, exc: Exception) -> None:
        self.container.spawn_managed_thread(
            functools.partial(provider.handle_undecodable, message, exc),
            identifier="handle_undecodable",
        )


class ReliableEventHandler(EventHandler):
    """nameko's EventHandler with validation, bounded retries and a dead-letter queue."""

    queue_consumer = DecodeSafeQueueConsumer()
    queue: Queue

    def __init__(self, source_service: str, event_type: str, **kwargs: Any) -> None:
        # requeue_on_error is moot: handle_message_processed below decides every case.
        super().__init__(
            source_service,
            event_type,
            handler_type=SERVICE_POOL,
            reliable_delivery=True,
            requeue_on_error=True,
            **kwargs,
        )

    def setup(self) -> None:
        super().setup()
        config = self.container.config
        self.service = self.container.service_name
        self.queue_type = config.get("QUEUE_TYPE")
        args = {"x-queue-type": "quorum"} if self.queue_type == "quorum" else None
        self.queue = Queue(
            self.queue.name,
            # (kombu ignores `exchange=` once a queue has `bindings`: both are here.)
            bindings=[binding(event_exchange(self.source_service), routing_key=self.event_type),
                      # Retries come back through the service's own retry exchange.
                      binding(retry_exchange(self.service), routing_key=self.queue.name)],
            durable=True,
            auto_delete=False,
            queue_arguments=args,
        )
        self.policy = RetryPolicy.from_config(config)
        self.publisher = Publisher(Broker.from_config(config))
        self.consumer_name = f"{self.service}.{self.method_name}"

    def stop(self) -> None:
        super().stop()
        self.publisher.close()

    # -- receiving ------------------------------------------------------------------

    def handle_message(self, body: Any, message: Any) -> None:
        try:
            envelope = parse_envelope(body)
            if envelope.type != self.event_type:
                raise InvalidMessage({"type": [f"Expected {self.event_type}."]})
            payload = registry.load_payload(envelope)
        except InvalidMessage as exc:
            log.error("invalid message dead-lettered: %s", exc)
            self._settle_failure(message, exc, attempts=_attempts(message) + 1, permanent=True)
            return
        event = dataclasses.replace(envelope, payload=payload)
        super().handle_message(event, message)

    def handle_undecodable(self, message: Any, exc: Exception) -> None:
        log.error("undecodable message dead-lettered: %s", exc)
        invalid = InvalidMessage({"_body": [f"Cannot be decoded as JSON: {exc}"]})
        self._settle_failure(message, invalid, attempts=_attempts(message) + 1, permanent=True)

    def handle_message_processed(
        self, message: Any, result: Any = None, exc_info: Any = None
    ) -> None:
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return
        exc = exc_info[1]
        metrics.INBOX_FAILURES.labels(self.service, self.consumer_name).inc()
        if isinstance(exc, DatabaseUnavailable):
            self._wait_for_database(message, exc)
            return
        attempts = _attempts(message) + 1
        permanent = isinstance(exc, PermanentFailure | InvalidMessage)
        self._settle_failure(message, exc, attempts=attempts, permanent=permanent)

    def _delay(self, message: Any, headers: dict[str, Any], delay: int) -> None:
        exchange, queue = delay_entities(self.service, delay, self.queue_type)
        self.publisher.publish(
            message.body,
            exchange=exchange,
            routing_key=self.queue.name,
            headers=headers,
            message_id=message.properties.get("message_id"),
            message_type=message.properties.get("type"),
            declare=[exchange, queue],
        )

    def _wait_for_database(self, message: Any, exc: DatabaseUnavailable) -> None:
        """The database is down: the message waits, its attempts untouched."""
        headers = dict(message.headers or {})
        waits = count_header(headers, OUTAGE_WAITS)
        headers[OUTAGE_WAITS] = waits + 1
        delay = self.policy.outage_delay(waits)
        try:
            self._delay(message, headers, delay)
        except Exception:
            log.exception("could not park a message while the database is down; requeueing")
            self.queue_consumer.requeue_message(message)
            return
        log.warning("%s: database unreachable (%s); message waits %s ms, attempt not "
                    "counted", self.consumer_name, exc, delay)
        self.queue_consumer.ack_message(message)

    def _settle_failure(
        self, message: Any, exc: BaseException, *, attempts: int, permanent: bool
    ) -> None:
        headers = dict(message.headers or {})
        headers[ATTEMPTS] = attempts
        headers[HEADER_PREFIX + "last-error"] = f"{type(exc).__name__}: {exc}"[:2000]
        try:
            if permanent or attempts >= self.policy.max_attempts:
                self._dead_letter(message, exc, headers, attempts)
            else:
                delay = self.policy.delay_for(attempts)
                self._delay(message, headers, delay)
                log.warning(
                    "%s failed (attempt %s of %s), retrying in %s ms: %s",
                    self.consumer_name, attempts, self.policy.max_attempts, delay, exc,
                )
        except Exception:
            # Could not park it anywhere: give it back to the broker rather than lose it.
            log.exception("could not retry or dead-letter a message; requeueing it")
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)

    def _dead_letter(
        self, message: Any, exc: BaseException, headers: dict[str, Any], attempts: int
    ) -> None:
        headers.update(
            {
                HEADER_PREFIX + "dead-letter-id": str(uuid.uuid4()),
                HEADER_PREFIX + "consumer": self.consumer_name,
                HEADER_PREFIX + "original-queue": self.queue.name,
                HEADER_PREFIX + "original-exchange": message.delivery_info.get("exchange", ""),
                HEADER_PREFIX + "original-routing-key": message.delivery_info.get(
                    "routing_key", ""
                ),
                HEADER_PREFIX + "error": f"{type(exc).__name__}: {exc}"[:4000],
                HEADER_PREFIX + "traceback": "".join(
                    traceback.format_exception(type(exc), exc, exc.__traceback__)
                )[-4000:],
                HEADER_PREFIX + "failed-at": dt.datetime.now(dt.UTC).isoformat(),
            }
        )
        dlq = dead_letter_queue(self.service, self.queue_type)
        self.publisher.publish(
            message.body,
            exchange=dlq.exchange,
            routing_key=dlq.name,
            headers=headers,
            message_id=message.properties.get("message_id"),
            message_type=message.properties.get("type"),
            declare=[dlq.exchange, dlq],
        )
        log.error(
            "%s: message dead-lettered after %s attempt(s): %s",
            self.consumer_name, attempts, exc,
        )


def count_header(headers: Mapping[str, Any], name: str) -> int:
    """A counter header (attempts, outage waits) as a non-negative int; 0 if unreadable."""
    try:
        return max(int(headers.get(name, 0) or 0), 0)
    except (TypeError, ValueError, OverflowError):
        return 0


def _attempts(message: Any) -> int:
    return count_header(message.headers or {}, ATTEMPTS)


def inbox_handler(
    source_service: str, event_type: str, *, db_attr: str = "db"
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate ``def handler(self, uow, event)`` as an idempotent, reliable handler.

    The service must have a `Database` dependency called `db` (or `db_attr`)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(self: Any, event: Envelope) -> Any:
            consumer = f"{self.name}.{fn.__name__}"
            store = getattr(self, db_attr)
            with logs.bind(correlation=event.correlation_id, message=str(event.message_id)):
                try:
                    with store.unit_of_work() as uow:
                        if not uow.claim(consumer, event):
                            log.info("duplicate %s ignored by %s", event.type, consumer)
                            metrics.INBOX_DUPLICATES.labels(self.name, consumer).inc()
                            return None
                        result = fn(self, uow, event)
                        uow.commit()
                    metrics.INBOX_HANDLED.labels(self.name, consumer).inc()
                except Exception as exc:
                    # A connection-class error while the database does not answer is
                    # the outage's fault, not the message's.
                    if _connection_class(exc) and not database_reachable(store.engine):
                        raise DatabaseUnavailable(type(exc).__name__) from exc
                    raise
                fault_point("inbox.after_commit")  # killed here: committed, not acked
                return result

        ReliableEventHandler.decorator(source_service, event_type)(wrapper)
        return wrapper

    return decorate



# -- one map per service: message type -> handler ------------------------------------------

EventHandlerFn = Callable[..., Any]


def consumer_method_name(event_type: str) -> str:
    """The entrypoint (and queue and inbox consumer) name for an event type:
    ``intake.inquiry_registered`` -> ``on_intake_inquiry_registered``."""
    return "on_" + event_type.replace(".", "_")


def consumes(
    event_handlers: Mapping[str, EventHandlerFn], *, db_attr: str = "db",
    context_attr: str | None = None,
) -> Callable[[type], type]:
    """Class decorator: one reliable, idempotent entrypoint per entry of the service's
    message map (cosmicpython's EVENT_HANDLERS), so the map is the one place to read
    what a service consumes and what it does with each message.

    Each handler is called as ``handler(uow, event)``, or, where the service gives a
    `context_attr`, as ``handler(uow, event, getattr(service, context_attr))`` (for
    the few handlers that need settings or a client)."""

    def decorate(cls: type) -> type:
        for event_type, handler in event_handlers.items():
            source = registry.contract(event_type).service
            name = consumer_method_name(event_type)
            if name in cls.__dict__:
                raise TypeError(f"{cls.__name__}.{name} is defined twice")
            setattr(cls, name, _entrypoint(source, event_type, name, handler, db_attr,
                                           context_attr))
        cls.event_handlers = dict(event_handlers)  # type: ignore[attr-defined]
        return cls

    return decorate


def _entrypoint(source: str, event_type: str, name: str, handler: EventHandlerFn,
                db_attr: str, context_attr: str | None) -> Callable[..., Any]:
    if context_attr is None:
        def method(self: Any, uow: Any, event: Envelope) -> Any:
            return handler(uow, event)
    else:
        def method(self: Any, uow: Any, event: Envelope) -> Any:
            return handler(uow, event, getattr(self, context_attr))
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"{event_type} -> {getattr(handler, '__module__', '')}." \
                     f"{getattr(handler, '__qualname__', handler)}"
    return inbox_handler(source, event_type, db_attr=db_attr)(method)
