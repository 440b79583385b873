"""Calling the running services over RPC from the command line.

Every failure a script may meet becomes `CommandFailed` with an exit code and one
plain line for stderr: no broker or a service not running (3), invalid input (2, with
each field and rule), not found (4), anything else (1). Never a traceback.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.common.amqp import Broker

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_NO_BROKER, EXIT_NOT_FOUND = 0, 1, 2, 3, 4
DEFAULT_TIMEOUT_SECONDS = 30.0


class CommandFailed(Exception):
    """An expected failure: `message` is printed on one line, `code` is the exit code."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


def operator_actor() -> dict[str, Any]:
    """Who acts, for the services' access logs: $SAMSPIL_ACTOR or the login name, as an
    operator (the CLI is the operator's tool)."""
    user = os.environ.get("SAMSPIL_ACTOR")
    if not user:
        try:
            user = getpass.getuser()
        except Exception:  # no login name (e.g. a container without a passwd entry)
            user = "unknown"
    return {"kind": "staff", "id": user, "name": user, "roles": ["operator"],
            "purpose": "Drift af Samspil"}


def describe_errors(value: str) -> str:
    """`field: message (rule); ...` from an InvalidInput/NotFoundError message."""
    try:
        errors = json.loads(value).get("errors", [])
    except (ValueError, AttributeError):
        return value
    parts = [f"{e.get('field')}: {e.get('message')} ({e.get('rule')})" for e in errors]
    return "; ".join(parts) or value


def failure_for(exc: BaseException, service: str, method: str, timeout: float) -> CommandFailed:
    """Map what an RPC call raised to the exit code and line the operator sees."""
    from nameko.exceptions import RemoteError, RpcTimeout, UnknownService

    where = f"{service}.{method}"
    if isinstance(exc, RemoteError):
        if exc.exc_type == "InvalidInput":
            return CommandFailed(EXIT_USAGE, f"invalid input: {describe_errors(str(exc.value))}")
        if exc.exc_type == "NotFoundError":
            return CommandFailed(EXIT_NOT_FOUND, f"not found: {describe_errors(str(exc.value))}")
        if exc.exc_type == "MethodNotFound":
            return CommandFailed(EXIT_FAIL, f"{where}: the running {service} service does not "
                                            "offer this method (an older version?)")
        first_line = (str(exc.value).splitlines() or [""])[0][:200]
        return CommandFailed(EXIT_FAIL, f"{where} failed: {exc.exc_type}: {first_line}")
    if isinstance(exc, UnknownService):
        return CommandFailed(EXIT_NO_BROKER, f"the {service} service is not running "
                                             f"(start it with `samspil run {service}`)")
    if isinstance(exc, RpcTimeout):
        return CommandFailed(EXIT_NO_BROKER, f"the {service} service did not answer within "
                                             f"{timeout:g} s (is it running and healthy?)")
    if isinstance(exc, (OSError, ConnectionError)):
        return CommandFailed(EXIT_NO_BROKER, f"the message broker is unavailable: {exc}")
    return CommandFailed(EXIT_FAIL, f"{where} failed: {type(exc).__name__}: {exc}")


def service_listening(broker: Broker | str, service: str) -> bool:
    """Does any instance of `service` consume its RPC queue right now? (Asked before the
    first call: see services.common.amqp.rpc_listening.)"""
    from services.common.amqp import rpc_listening

    return rpc_listening(broker, [service])[service]


class Remote:
    """The services' RPC methods, called with keyword arguments; `actor` is added."""

    def __init__(self, proxy: Any, actor: str | dict[str, Any], timeout: float,
                 broker: Broker | str = "") -> None:
        self._proxy = proxy
        self.actor = actor
        self.timeout = timeout
        self._broker = broker
        self._listening: set[str] = set()

    def ensure_running(self, service: str) -> None:
        """CommandFailed (exit 3) naming the service when no instance of it runs."""
        if not self._broker or service in self._listening:
            return
        try:
            listening = service_listening(self._broker, service)
        except Exception as exc:
            raise CommandFailed(EXIT_NO_BROKER,
                                f"the message broker is unavailable: {exc}") from None
        if not listening:
            raise failure_for(_unknown_service(service), service, "", self.timeout)
        self._listening.add(service)

    def call(self, service: str, method: str, **kwargs: Any) -> Any:
        self.ensure_running(service)
        kwargs.setdefault("actor", self.actor)
        try:
            return getattr(getattr(self._proxy, service), method)(**kwargs)
        except Exception as exc:
            raise failure_for(exc, service, method, self.timeout) from None

    def call_async(self, service: str, method: str, **kwargs: Any) -> Any:
        """A reply you `.result()` later (via `result()` below, for the error mapping)."""
        self.ensure_running(service)
        kwargs.setdefault("actor", self.actor)
        try:
            reply = getattr(getattr(self._proxy, service), method).call_async(**kwargs)
        except Exception as exc:
            raise failure_for(exc, service, method, self.timeout) from None
        return service, method, reply

    def result(self, pending: tuple[str, str, Any]) -> Any:
        service, method, reply = pending
        try:
            return reply.result()
        except Exception as exc:
            raise failure_for(exc, service, method, self.timeout) from None


def _unknown_service(service: str) -> Exception:
    from nameko.exceptions import UnknownService

    return UnknownService(service)


@contextmanager
def connect(config: dict[str, Any], *, timeout: float = DEFAULT_TIMEOUT_SECONDS,
            actor: str | dict[str, Any] | None = None) -> Iterator[Remote]:
    """A `Remote` over a cluster RPC proxy; the broker is checked first (exit 3)."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.cli import broker_problem
    from services.common.amqp import Broker

    broker = Broker.from_config(config)
    problem = broker_problem(config)
    if problem:
        raise CommandFailed(EXIT_NO_BROKER, problem.splitlines()[0]
                            + " Start RabbitMQ, or set AMQP_URI.")
    try:
        proxy_cm = ClusterRpcProxy(broker.nameko_config(), timeout=timeout)
        proxy = proxy_cm.__enter__()
    except Exception as exc:  # the broker went away between the check and now
        raise CommandFailed(EXIT_NO_BROKER, f"the message broker is unavailable: {exc}") from None
    try:
        yield Remote(proxy, actor or operator_actor(), timeout, broker)
    finally:
        with contextlib.suppress(Exception):  # closing a dead connection: nothing to do
            proxy_cm.__exit__(None, None, None)
