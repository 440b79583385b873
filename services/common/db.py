"""Database access for services: engines, the unit of work, and the nameko provider.

A use case runs inside `with db.unit_of_work() as uow:`; it writes its rows through
`uow.session`, adds outgoing events with `uow.add_event(...)` (written to the outbox
table in the same transaction) and ends with `uow.commit()`. Leaving the block
without committing rolls everything back: a refused command writes nothing and
publishes nothing.

The commit happens inside the entrypoint, so it is durable before nameko acks the
message or answers the RPC.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from nameko.extensions import DependencyProvider
from sqlalchemy import Engine, MetaData, create_engine, event, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts import registry
from contracts.envelope import Envelope
from services.common import logs
from services.common.clock import ClockLike, clock_from_config
from services.common.faults import fault_point
from services.common.tables import add_kit_tables

log = logging.getLogger(__name__)


def _green_psycopg2_if_needed() -> None:
    """Under eventlet, psycopg2 must yield to the hub while it waits on the server."""
    try:
        import eventlet.patcher

        if eventlet.patcher.is_monkey_patched("socket"):
            from psycopg2 import extensions

            extensions.set_wait_callback(_green_wait)
    except ImportError:  # pragma: no cover - eventlet is a dependency
        pass


def _green_wait(conn: Any) -> None:
    """eventlet's psycopg2 wait callback (eventlet.support.psycopg2_patcher), except that
    on a connection made with a read timeout (make_engine's `read_timeout`, config
    DATABASE_READ_TIMEOUT_SECONDS) it gives up on a server that has sent nothing for that
    long: psycopg2 then closes the connection and the query (or the connect) fails with
    OperationalError, as if the server had gone away. A partitioned network (a
    blackhole) sends nothing, not even a reset, and without a bound the worker waited
    until TCP gave up, a quarter of an hour later (tests/reliability/
    test_network_faults.py). Under eventlet only: that is how the services run."""
    import eventlet.hubs
    import psycopg2
    from psycopg2 import extensions

    limit = getattr(conn, "samspil_read_timeout", None)
    while True:
        state = conn.poll()
        if state == extensions.POLL_OK:
            return
        if state not in (extensions.POLL_READ, extensions.POLL_WRITE):
            raise psycopg2.OperationalError(f"Bad result from poll: {state!r}")
        eventlet.hubs.trampoline(
            conn.fileno(), read=state == extensions.POLL_READ,
            write=state == extensions.POLL_WRITE, timeout=limit,
            timeout_exc=psycopg2.OperationalError(
                f"could not receive data from server: nothing for {limit} s"))


@functools.cache
def _timed_connection(read_timeout: float) -> type:
    """A psycopg2 connection class that _green_wait gives `read_timeout` seconds."""
    from psycopg2.extensions import connection

    return type("TimedConnection", (connection,), {"samspil_read_timeout": read_timeout})


def normalize_url(url: str) -> str:
    """Pin PostgreSQL to psycopg2: eventlet can green it (SQLAlchemy 2.1 would pick
    psycopg 3 for a bare `postgresql://`, which eventlet cannot)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, read_timeout: float | None = None, **kwargs: Any) -> Engine:
    """An engine with Samspil's settings for SQLite (WAL, synchronous=FULL, explicit
    BEGIN) or PostgreSQL (pre-ping; green psycopg2 under eventlet, where `read_timeout`
    bounds each wait for the server: see _green_wait)."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin
            # (SQLAlchemy's documented recipe; makes SAVEPOINT work too).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # a committed row survives power loss
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # IMMEDIATE takes the write lock at BEGIN: no deadlock upgrading a read lock.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if parsed.get_backend_name() == "postgresql":
        _green_psycopg2_if_needed()
        if read_timeout:
            connect_args = kwargs.setdefault("connect_args", {})
            connect_args["connection_factory"] = _timed_connection(float(read_timeout))
        return create_engine(url, pool_pre_ping=True, **kwargs)
    backend = parsed.get_backend_name()
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


class DuplicateRequest(Exception):
    """An RPC request delivered again after its first run committed: nothing is done
    twice. (Its caller gave up on the first run's answer long ago.)"""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"request {request_id} was carried out before; not run again")
        self.request_id = request_id


@dataclasses.dataclass
class RequestMark:
    """The RPC request a worker serves, and whether its id is recorded yet."""

    request_id: str
    recorded: bool = False


class UnitOfWork:
    """One database transaction of one use case, with its outgoing events."""

    def __init__(
        self,
        session: Session,
        *,
        metadata: MetaData,
        producer: str,
        clock: ClockLike,
        after_commit: Callable[[], None] | None = None,
        request: RequestMark | None = None,
    ) -> None:
        self.session = session
        self.metadata = metadata
        self.producer = producer
        self.clock = clock
        self.events: list[Envelope] = []
        self._after_commit = after_commit
        self._request = request
        self.committed = False

    def add_event(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        correlation_id: str,
        version: int | None = None,
    ) -> Envelope:
        """Validate `payload` against its contract and write it to the outbox.

        Raises contracts.InvalidMessage naming every bad field: a producer can never
        put a message on the wire that its consumers would refuse."""
        envelope = registry.build(
            type_,
            payload,
            producer=self.producer,
            # Within a request from the gateway, its id: the HTTP call can be followed.
            correlation_id=logs.request_correlation.get() or correlation_id,
            occurred_at=self.clock.now(),
            version=version,
        )
        contract = registry.contract(envelope.type, envelope.schema_version)
        self.session.execute(
            insert(self.metadata.tables["outbox"]).values(
                message_id=str(envelope.message_id),
                type=envelope.type,
                exchange=contract.exchange,
                correlation_id=envelope.correlation_id,
                body=json.dumps(envelope.to_wire(), ensure_ascii=False),
                created_at=self.clock.now(),
                attempts=0,
            )
        )
        self.events.append(envelope)
        return envelope

    def claim(self, consumer: str, envelope: Envelope) -> bool:
        """Record (consumer, message_id) in the inbox. False if it was already there:
        the message was processed before and this delivery must change nothing."""
        inbox = self.metadata.tables["inbox"]
        key = {"consumer": consumer, "message_id": str(envelope.message_id)}
        exists = self.session.execute(
            select(inbox.c.message_id).filter_by(**key)
        ).first()
        if exists:
            return False
        try:
            with self.session.begin_nested():
                self.session.execute(
                    insert(inbox).values(
                        **key, type=envelope.type, processed_at=self.clock.now()
                    )
                )
        except IntegrityError:
            return False  # a concurrent delivery of the same message won the race
        return True

    def commit(self) -> None:
        request = self._request
        if request is not None and not request.recorded:
            # The request's first commit records its id with its effect: a delivery of
            # the same request again finds it and changes nothing.
            try:
                with self.session.begin_nested():
                    self.session.execute(insert(self.metadata.tables["rpc_requests"]).values(
                        request_id=request.request_id[:64], at=self.clock.now()))
            except IntegrityError:
                self.session.rollback()
                raise DuplicateRequest(request.request_id) from None
            request.recorded = True
        self.session.commit()
        self.committed = True
        if request is not None:
            fault_point("rpc.after_commit")  # killed here: committed, not answered or acked
        if self.events and self._after_commit:
            self._after_commit()

    def rollback(self) -> None:
        self.session.rollback()


class Store:
    """What a worker gets from the `Database` provider."""

    def __init__(
        self,
        engine: Engine,
        metadata: MetaData,
        producer: str,
        clock: ClockLike,
        after_commit: Callable[[], None] | None = None,
        request: RequestMark | None = None,
    ) -> None:
        self.engine = engine
        self.metadata = metadata
        self.producer = producer
        self.clock = clock
        self.after_commit = after_commit
        self.request = request

    def for_request(self, request_id: str | None) -> Store:
        """This store as one RPC worker sees it (its request id recorded on commit)."""
        if not request_id:
            return self
        return Store(self.engine, self.metadata, self.producer, self.clock,
                     self.after_commit, RequestMark(request_id))

    @contextlib.contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        session = Session(self.engine, expire_on_commit=False)
        uow = UnitOfWork(
            session,
            metadata=self.metadata,
            producer=self.producer,
            clock=self.clock,
            after_commit=self.after_commit,
            request=self.request,
        )
        try:
            yield uow
        finally:
            if not uow.committed:
                session.rollback()
            session.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (rolled back at the end)."""
        session = Session(self.engine)
        try:
            yield session
        finally:
            session.rollback()
            session.close()


def database_url(config: dict[str, Any], service: str) -> str:
    """`DATABASES: {<service>: url}` wins over `DATABASE_URL`; SQLite in var/ otherwise."""
    urls = config.get("DATABASES") or {}
    return str(urls.get(service) or config.get("DATABASE_URL") or f"sqlite:///var/{service}.db")


def read_timeout(config: dict[str, Any]) -> float | None:
    """DATABASE_READ_TIMEOUT_SECONDS: a PostgreSQL server silent this long while a
    worker waits on it counts as gone (unset or 0: wait as long as it takes). Longer
    than the slowest query, which sends nothing until it is done."""
    value = config.get("DATABASE_READ_TIMEOUT_SECONDS")
    return float(value) if value not in (None, "", 0, "0") else None


class Database(DependencyProvider):
    """Gives each worker a `Store`; the outbox relay is woken after each commit."""

    def __init__(self, metadata: MetaData) -> None:
        add_kit_tables(metadata)
        self.metadata = metadata
        self.doorbell = threading.Event()  # green under eventlet's monkey patching

    def setup(self) -> None:
        from services.common.migrate import check_at_head

        service = self.container.service_name
        self.url = database_url(self.container.config, service)
        check_at_head(service, self.url)
        self.engine = make_engine(self.url, read_timeout=read_timeout(self.container.config))
        self.clock = clock_from_config(self.container.config)
        self.store = Store(
            self.engine, self.metadata, service, self.clock, after_commit=self.doorbell.set
        )

    def get_dependency(self, worker_ctx: Any) -> Store:
        from services.common.rpc import REQUEST_ID

        return self.store.for_request((getattr(worker_ctx, "data", None) or {}).get(REQUEST_ID))

    def worker_setup(self, worker_ctx: Any) -> None:
        """In the worker's own green thread: a request from the gateway names its log
        lines and its events' correlation ids."""
        from services.common.rpc import CORRELATION

        correlation = (getattr(worker_ctx, "data", None) or {}).get(CORRELATION)
        if correlation:
            logs.correlation_id.set(str(correlation)[:128])
            logs.request_correlation.set(str(correlation)[:128])

    def stop(self) -> None:
        self.engine.dispose()

    def kill(self) -> None:
        self.engine.dispose()

