"""RPC boundaries: validate arguments with the contract's schema, report errors by field.

`@validated(Schema)` under `@rpc` loads the keyword arguments strictly (unknown fields
refused) and turns a marshmallow ValidationError or a DomainError into `InvalidInput`,
whose message is JSON with one entry per bad field, so the gateway can answer 400
with an RFC 9457 problem body. No stack trace ever reaches the caller for bad input.

`rpc` is nameko's `@rpc` with one addition: each request's AMQP correlation id travels
into the worker's context as `samspil_request_id`, and the `Database` dependency records
it in `rpc_requests` in the same transaction as the request's first commit. A request
the broker delivers again (its first run committed, but the ack was lost with the
connection or the process) then changes nothing: `DuplicateRequest`.

A caller that stops waiting at a deadline sends it along (context key
`samspil_deadline`, seconds since the epoch): a request that reaches its worker after
that, because it sat in a frozen or crashed consumer's prefetch where the broker's TTL
no longer applies, is dropped unanswered, never carried out.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import amqp.exceptions
import kombu.exceptions
from kombu import Queue
from marshmallow import RAISE, Schema, ValidationError
from nameko.amqp.publish import Publisher as NamekoPublisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.rpc import (
    ReplyListener,
    Responder,
    Rpc,
    RpcConsumer,
    ServiceProxy,
    get_rpc_exchange,
)
from nameko.rpc import RpcProxy as NamekoRpcProxy

from contracts.envelope import InvalidMessage, flatten_errors
from services.common import metrics, pii, sanity
from services.common.errors import DomainError, NotFound
from services.common.messaging import SafeAckQueueConsumer

REQUEST_ID = "samspil_request_id"
#: Context key a caller (the gateway) sets to the hash of a client's Idempotency-Key: the
#: request is then recorded under that key, so a retry with the same key that arrives
#: after the first run committed (its answer lost) changes nothing either.
IDEMPOTENCY = "samspil_idempotency"
#: Context key: when the caller stops waiting (epoch seconds); later, the request is dropped.
DEADLINE = "samspil_deadline"
#: Context key: the gateway's request id (X-Request-Id). It names the worker's log lines
#: and becomes the correlation id of the events the request emits, so one HTTP call can
#: be followed to the partner's delivery. nameko passes it on to further calls.
CORRELATION = "samspil_correlation"

log = logging.getLogger(__name__)


def deadline_passed(data: dict[str, Any], now: float | None = None) -> bool:
    """Whether the request's caller has stopped waiting (no deadline: never)."""
    try:
        deadline = float(data[DEADLINE])
    except (KeyError, TypeError, ValueError):
        return False
    return (time.time() if now is None else now) > deadline


#: How long an RPC request's or reply's publish waits for the broker's confirm. Without
#: a bound, a partitioned network (a blackhole) kept it waiting until TCP gave up.
RPC_CONFIRM_TIMEOUT_SECONDS = 5.0
#: Broker errors however the libraries raise them.
_BROKER_ERRORS = (OSError, kombu.exceptions.OperationalError, amqp.exceptions.AMQPError)


class BoundedResponder(Responder):
    """nameko's Responder, except that the reply's publish waits for its confirm at most
    RPC_CONFIRM_TIMEOUT_SECONDS, and that a reply the broker cannot take is logged, not
    raised. Raised, it stopped the whole service: nameko kills a container whose
    handle_result fails (tests/reliability/test_network_faults.py, a reset connection).
    The caller gets no answer and says so (the gateway: 503 or 504); the request's
    commit is recorded, so a redelivery of it changes nothing."""

    publisher_cls = functools.partial(
        NamekoPublisher, confirm_timeout=RPC_CONFIRM_TIMEOUT_SECONDS,
        timeout=RPC_CONFIRM_TIMEOUT_SECONDS)

    def send_response(self, result: Any, exc_info: Any) -> Any:
        try:
            return super().send_response(result, exc_info)
        except _BROKER_ERRORS as exc:
            log.warning("reply to %s not sent, the broker is unreachable: %s",
                        self.message.properties.get("reply_to"), exc)
            return result, exc_info


def quorum_if_configured(config: Any, queue: Any) -> Queue:
    """`queue` as a quorum queue when QUEUE_TYPE is quorum: on every node of a cluster,
    so RPC does not stop with the one node a classic queue lives on."""
    if config.get("QUEUE_TYPE") != "quorum":
        return queue
    return Queue(queue.name, exchange=queue.exchange, routing_key=queue.routing_key,
                 durable=True, auto_delete=False,
                 queue_arguments={**(getattr(queue, "queue_arguments", None) or {}),
                                  "x-queue-type": "quorum"})


class SafeAckRpcConsumer(RpcConsumer):
    """nameko's RpcConsumer on a queue consumer whose acks survive a reset connection,
    replying through BoundedResponder."""

    queue_consumer = SafeAckQueueConsumer()

    def setup(self) -> None:
        super().setup()
        self.queue: Any = quorum_if_configured(self.container.config, self.queue)

    def handle_result(self, message: Any, result: Any, exc_info: Any) -> Any:
        config = self.container.config
        responder = BoundedResponder(
            config[AMQP_URI_CONFIG_KEY], get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class SafeAckReplyListener(ReplyListener):
    """nameko's ReplyListener, likewise: a reply acked as its broker node dies must not
    stop the calling service (the gateway)."""

    queue_consumer = SafeAckQueueConsumer()

    def setup(self) -> None:
        super().setup()
        self.queue: Any = quorum_if_configured(self.container.config, self.queue)


class BrokerUnreachable(kombu.exceptions.OperationalError):
    """The connection RPC replies come back on is down (and being re-made): a request
    sent now could not be answered."""


class _ReplyCheckingServiceProxy(ServiceProxy):
    """nameko's ServiceProxy, except that a method is not even looked up while the reply
    listener's connection is down: the call fails at once with BrokerUnreachable (the
    gateway answers 503) instead of waiting out its timeout for a reply that cannot
    come. A silent broker is so refused within two heartbeats."""

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("__") and not self.reply_listener.queue_consumer.connected:
            raise BrokerUnreachable(
                f"the broker connection for replies from {self.service_name} is down")
        return super().__getattr__(name)


class RpcProxy(NamekoRpcProxy):
    """nameko's RpcProxy with SafeAckReplyListener, whose requests wait for the broker's
    confirm at most RPC_CONFIRM_TIMEOUT_SECONDS, and which refuses a call at once while
    its replies could not come back (BrokerUnreachable). Use this one, not nameko's."""

    rpc_reply_listener = SafeAckReplyListener()

    def setup(self) -> None:
        super().setup()
        # kombu then drops the connection and tries again, instead of leaving a pooled
        # connection whose late confirm would be taken for the next request's.
        self.options.setdefault("confirm_timeout", RPC_CONFIRM_TIMEOUT_SECONDS)
        self.options.setdefault("timeout", RPC_CONFIRM_TIMEOUT_SECONDS)

    def get_dependency(self, worker_ctx: Any) -> ServiceProxy:
        return _ReplyCheckingServiceProxy(worker_ctx, self.target_service,
                                          self.rpc_reply_listener, **self.options)


class RequestTrackingRpc(Rpc):
    """nameko's Rpc entrypoint, passing the request's id to the worker: the caller's
    idempotency key where it sent one, else the AMQP correlation id."""

    rpc_consumer = SafeAckRpcConsumer()

    def handle_message(self, body: Any, message: Any) -> None:
        data = super().unpack_message_headers(message)
        if deadline_passed(data):
            # Its caller answered 504 or 503 and went away: running it now would do
            # what the caller was told did not happen.
            log.warning("%s.%s: request %s arrived after its caller's deadline; dropped",
                        self.container.service_name, self.method_name,
                        (message.properties or {}).get("correlation_id"))
            self.rpc_consumer.queue_consumer.ack_message(message)
            return
        message.samspil_started = time.perf_counter()
        super().handle_message(body, message)

    def handle_result(self, message: Any, worker_ctx: Any, result: Any,
                      exc_info: Any) -> Any:
        started = getattr(message, "samspil_started", None)
        if started is not None:
            outcome = "ok" if exc_info is None else type(exc_info[1]).__name__
            metrics.RPC_SECONDS.labels(self.container.service_name, self.method_name,
                                       outcome).observe(time.perf_counter() - started)
        return super().handle_result(message, worker_ctx, result, exc_info)

    def unpack_message_headers(self, message: Any) -> dict[str, Any]:
        data = dict(super().unpack_message_headers(message))
        data.pop(REQUEST_ID, None)  # never taken from a caller's headers as such
        data.pop(DEADLINE, None)  # this request's own, not passed on to its calls
        key = data.pop(IDEMPOTENCY, None)
        correlation_id = (message.properties or {}).get("correlation_id")
        if key:
            data[REQUEST_ID] = f"idem:{key}"
        elif correlation_id:
            data[REQUEST_ID] = str(correlation_id)
        return data


rpc = RequestTrackingRpc.decorator


class InvalidInput(Exception):
    """Bad input to an RPC method. str() is JSON: {"errors": [{field, rule, message}]}."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        super().__init__(json.dumps({"errors": errors}, ensure_ascii=False))


class NotFoundError(Exception):
    """The RPC target does not exist. str() is JSON like InvalidInput's."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        super().__init__(json.dumps({"errors": errors}, ensure_ascii=False))


def errors_from_marshmallow(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    flat = flatten_errors(messages if isinstance(messages, dict) else {"_schema": messages})
    return [
        {"field": prefix + name, "rule": "schema", "message": " ".join(map(str, msgs))}
        if isinstance(msgs, list)
        else {"field": prefix + name, "rule": "schema", "message": str(msgs)}
        for name, msgs in flat.items()
    ]


def validated(schema: type[Schema]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Load the RPC's keyword arguments through `schema`; pass the result as kwargs."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if args:
                raise InvalidInput(
                    [{"field": "_args", "rule": "keywords_only",
                      "message": "Call with keyword arguments only."}]
                )
            problem = sanity.nul_problem(kwargs) or sanity.surrogate_problem(kwargs)
            if problem is None:
                # A CPR number in free text is reported beside the schema's own errors,
                # so a form shows every problem at once (the value is never repeated).
                cpr = pii.text_problem(kwargs)
                cpr_errors = [] if cpr is None else [
                    {"field": cpr[0], "rule": cpr[1], "message": cpr[2]}]
                try:
                    data = schema().load(kwargs, unknown=RAISE)
                except ValidationError as exc:
                    raise InvalidInput(cpr_errors + errors_from_marshmallow(exc.messages)) \
                        from None
                except OverflowError:  # a time whose UTC form falls outside year 1..9999
                    problem = ("_args", "date_out_of_range", sanity.DATE_MESSAGE)
                else:
                    problem = sanity.date_problem(data) or cpr
            if problem is not None:
                field, rule, message = problem
                raise InvalidInput([{"field": field, "rule": rule, "message": message}])
            try:
                return fn(self, **data)
            except NotFound as exc:
                raise NotFoundError(exc.as_problem()["errors"]) from None
            except DomainError as exc:
                raise InvalidInput(exc.as_problem()["errors"]) from None
            except InvalidMessage as exc:
                raise InvalidInput(errors_from_marshmallow(exc.errors)) from None

        return wrapper

    return decorate
