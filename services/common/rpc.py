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

from marshmallow import RAISE, Schema, ValidationError
from nameko.rpc import Rpc

from contracts.envelope import InvalidMessage, flatten_errors
from services.common import pii, sanity
from services.common.errors import DomainError, NotFound

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


class RequestTrackingRpc(Rpc):
    """nameko's Rpc entrypoint, passing the request's id to the worker: the caller's
    idempotency key where it sent one, else the AMQP correlation id."""

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
        super().handle_message(body, message)

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
