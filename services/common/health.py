"""`/health` and `/ready` for one service, for an orchestrator.

Each service serves them on its own address: `HEALTH_ADDRESSES: {<service>: host:port}`
(when several run in one process) or `HEALTH_ADDRESS: host:port` (one service per
process). Without either, nothing listens (as in tests). A small WSGI server of its
own rather than nameko's `@http`: nameko shares one web server per process, where two
services' `/health` routes would collide.

- GET /health: 200 while the process runs.
- GET /ready: 200 when the broker answers and the service's database answers a query;
  503 with what failed otherwise.
- GET /metrics: Prometheus metrics (services.common.metrics).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import eventlet
import eventlet.wsgi
from nameko.extensions import DependencyProvider
from sqlalchemy import Engine, text

from services.common import metrics
from services.common.amqp import Broker, as_broker

log = logging.getLogger(__name__)


def readiness(broker: Broker | str, engine: Engine | None) -> tuple[bool, dict[str, str]]:
    checks = {"broker": "ok", "database": "ok" if engine is not None else "none"}
    try:
        with as_broker(broker).connection(connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        checks["broker"] = f"unreachable: {type(exc).__name__}"
    if engine is not None:
        try:
            with engine.connect() as conn:
                conn.execute(text("select 1"))
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
    return all(v in ("ok", "none") for v in checks.values()), checks


def health_app(
    service: str, ready: Callable[[], tuple[bool, dict[str, str]]]
) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if method == "GET" and path == "/metrics":
            page = metrics.exposition()
            start_response("200 OK", [("Content-Type", metrics.CONTENT_TYPE),
                                      ("Content-Length", str(len(page)))])
            return [page]
        if method != "GET" or path not in ("/health", "/ready"):
            status, body = "404 Not Found", {"status": 404, "title": "Not found"}
        elif path == "/health":
            status, body = "200 OK", {"status": "ok", "service": service,
                                      "at": dt.datetime.now(dt.UTC).isoformat()}
        else:
            ok, checks = ready()
            status = "200 OK" if ok else "503 Service Unavailable"
            body = {"status": "ready" if ok else "not ready", "service": service,
                    "checks": checks}
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(data)))])
        return [data]

    return app


def _thread_dead(queue_consumer: Any) -> bool:
    """nameko's QueueConsumer runs its consume loop in one green thread (`_gt`, set once
    it started); it ends only at a stop or on an error nameko gave up on."""
    thread = getattr(queue_consumer, "_gt", None)
    return thread is not None and bool(getattr(thread, "dead", False))


class PortTaken(RuntimeError):
    """The address a service must listen on is in use (another instance is running?)."""


class HealthServer(DependencyProvider):
    """Add `health = HealthServer()` to a service class."""

    def setup(self) -> None:
        config = self.container.config
        service = self.container.service_name
        address = (config.get("HEALTH_ADDRESSES") or {}).get(service) or config.get(
            "HEALTH_ADDRESS")
        self.address: tuple[str, int] | None = None
        if address:
            host, _, port = str(address).rpartition(":")
            self.address = (host or "127.0.0.1", int(port))
        self._gt: Any = None
        self._sock: Any = None
        self._unregister: list[Callable[[], None]] = []

    def _database(self) -> Any:
        from services.common.db import Database

        for dep in self.container.dependencies:
            if isinstance(dep, Database):
                return dep
        return None

    def _engine(self) -> Engine | None:
        database = self._database()
        return database.engine if database is not None else None

    def _checked(self, ready: tuple[bool, dict[str, str]]) -> tuple[bool, dict[str, str]]:
        """The broker and database checks, plus this process's own parts: the outbox
        relay goes round, and every consumer's thread is alive."""
        from services.common.outbox import OutboxRelayRunner

        ok, checks = ready
        for dep in self.container.dependencies:
            if isinstance(dep, OutboxRelayRunner):
                late = dep.stuck_for()
                checks["relay"] = "ok" if late is None else f"stuck for {late:.0f} s"
        consumers = {getattr(e, "queue_consumer", None) for e in self.container.entrypoints}
        dead = [c for c in consumers if c is not None and _thread_dead(c)]
        if consumers - {None}:
            checks["consumers"] = "ok" if not dead else "a consumer thread has stopped"
        return ok and all(v in ("ok", "none") for v in checks.values()), checks

    def collectors(self) -> list[Any]:
        """The scrape-time metrics of this service (a service's subclass adds its own)."""
        from services.common.deadletters import DeadLetters

        service = self.container.service_name
        config = self.container.config
        database = self._database()
        letters = DeadLetters(Broker.from_config(config), service,
                              queue_type=config.get("QUEUE_TYPE"))
        return [metrics.kit_gauges(
            service, database.engine if database else None,
            database.metadata if database else None,
            database.clock.now if database else (lambda: dt.datetime.now(dt.UTC)),
            letters.count)]

    def start(self) -> None:
        if self.address is None:
            return
        service = self.container.service_name
        try:
            # No SO_REUSEPORT (eventlet's default): with it a second process would bind
            # the same port and the kernel would split the probes between the two.
            self._sock = eventlet.listen(self.address, reuse_port=False)
        except OSError as exc:
            host, port = self.address
            raise PortTaken(f"port {port} is taken: {service} cannot serve /health and "
                            f"/ready on {host}:{port} ({exc.strerror}); is it already "
                            "running? stop it, or set HEALTH_ADDRESS") from None
        broker = Broker.from_config(self.container.config)
        app = health_app(service, lambda: self._checked(readiness(broker, self._engine())))
        self._unregister = [metrics.register(c) for c in self.collectors()]
        self._gt = self.container.spawn_managed_thread(
            lambda: eventlet.wsgi.server(self._sock, app, log_output=False),
            identifier="health_server",
        )
        log.info("%s: /health and /ready on %s:%s", service, *self.address)

    def stop(self) -> None:
        for unregister in self._unregister:
            unregister()
        self._unregister = []
        if self._gt is not None:
            self._gt.kill()
            self._gt = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    kill = stop

    def get_dependency(self, worker_ctx: Any) -> None:
        return None
