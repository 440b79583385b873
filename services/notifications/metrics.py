"""`/metrics` beside the kit's `/health` and `/ready`, on notifications' health port.

One gauge, in the Prometheus text exposition format (version 0.0.4), computed from the
database when scraped:

    # HELP samspil_silent_subscriptions Partner subscriptions that can deliver nothing.
    # TYPE samspil_silent_subscriptions gauge
    samspil_silent_subscriptions 2

The list behind the number is the operators' worklist
`/api/worklists/operators/silent-subscriptions` (services.notifications.silent).
A wrapper around the kit's health app rather than a change to it: the kit serves
/health and /ready for every service; only notifications has this metric.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import eventlet
import eventlet.wsgi

from services.common.amqp import Broker
from services.common.db import Database, Store
from services.common.health import HealthServer, health_app, readiness
from services.notifications import operators

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SILENT = "samspil_silent_subscriptions"


def exposition(silent: int) -> bytes:
    """The metrics page's body."""
    return (
        f"# HELP {SILENT} Partner subscriptions that can deliver nothing.\n"
        f"# TYPE {SILENT} gauge\n"
        f"{SILENT} {silent}\n"
    ).encode()


def with_metrics(app: Callable[..., Iterable[bytes]],
                 count: Callable[[], int]) -> Callable[..., Iterable[bytes]]:
    """`app` with GET /metrics answered from `count`."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics" or environ.get("REQUEST_METHOD") != "GET":
            return app(environ, start_response)
        try:
            body, status = exposition(count()), "200 OK"
        except Exception as exc:  # the database is down: say so, as /ready does
            log.warning("metrics: %s: %s", type(exc).__name__, exc)
            body, status = b"# the database did not answer\n", "503 Service Unavailable"
        start_response(status, [("Content-Type", CONTENT_TYPE),
                                ("Content-Length", str(len(body)))])
        return [body]

    return wrapped


class HealthAndMetrics(HealthServer):
    """The kit's health server, with /metrics."""

    def _store(self) -> Store | None:
        for dep in self.container.dependencies:
            if isinstance(dep, Database):
                return dep.store
        return None

    def start(self) -> None:
        if self.address is None:
            return
        self._sock = eventlet.listen(self.address)
        service, broker = self.container.service_name, Broker.from_config(self.container.config)
        app = health_app(service, lambda: readiness(broker, self._engine()))
        store = self._store()
        app = with_metrics(app, lambda: operators.silent_count(store) if store else 0)
        self._gt = self.container.spawn_managed_thread(
            lambda: eventlet.wsgi.server(self._sock, app, log_output=False),
            identifier="health_server",
        )
        log.info("%s: /health, /ready and /metrics on %s:%s", service, *self.address)
