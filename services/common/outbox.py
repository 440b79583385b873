"""The outbox relay: publishes committed outbox rows to RabbitMQ, then marks them sent.

Order of operations per row: publish (persistent, mandatory) -> wait for the broker's
confirm -> mark sent in the database. A crash between the confirm and the mark makes
the row go out again after restart: consumers' inboxes turn that duplicate into a
no-op, so every event has its effect exactly once.

On PostgreSQL the relay claims rows with `FOR UPDATE SKIP LOCKED`, so several relay
instances can run side by side. SQLite has no row locks: run one relay per SQLite
file (the service process runs one); a second one would only cause duplicates that
the inboxes absorb.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from kombu import Exchange, Queue
from nameko.extensions import DependencyProvider
from sqlalchemy import Engine, MetaData, or_, select, update
from sqlalchemy.orm import Session

from contracts.unconsumed import NO_CONSUMER
from services.common import metrics
from services.common.amqp import Broker, Publisher, Unroutable, event_exchange
from services.common.faults import fault_point

log = logging.getLogger(__name__)

# Seconds to wait before retrying a row that failed, by number of failures so far.
BACKOFF_SECONDS = (1, 2, 5, 10, 30, 60, 300)
# After this many unroutable attempts (about 17 minutes with the backoff above) an
# event that no queue takes is parked in UNROUTED_QUEUE instead of being retried
# for ever: kept for an operator to replay once a consumer exists.
DEFAULT_PARK_UNROUTABLE_AFTER = 10
UNROUTED_QUEUE = "samspil.unrouted"
UNROUTED = "unrouted"  # its name in `samspil dead-letters --service unrouted`


def unrouted_queue() -> Queue:
    """The parking queue, reached through its own fanout exchange of the same name."""
    exchange = Exchange(UNROUTED_QUEUE, type="fanout", durable=True, auto_delete=False)
    return Queue(UNROUTED_QUEUE, exchange=exchange, routing_key=UNROUTED_QUEUE,
                 durable=True, auto_delete=False)


class OutboxRelay:
    """Framework-free relay over one service database and one publisher."""

    def __init__(
        self,
        engine: Engine,
        metadata: MetaData,
        publisher: Publisher,
        *,
        batch_size: int = 100,
        park_unroutable_after: int = DEFAULT_PARK_UNROUTABLE_AFTER,
        service: str = "",
    ) -> None:
        self.park_unroutable_after = park_unroutable_after
        self.service = service
        self.engine = engine
        self.outbox = metadata.tables["outbox"]
        self.publisher = publisher
        self.batch_size = batch_size
        self.locking = engine.dialect.name == "postgresql"
        # Unroutable publishes per event type since start (the metric
        # samspil_unroutable_total{type}); a type is warned about once, not per retry.
        self.unroutable: Counter[str] = Counter()
        self._warned: set[str] = set()
        #: When the loop last started a round (time.monotonic()): /ready's liveness.
        self.last_round: float | None = None

    def publish_pending(self) -> int:
        """Publish one batch of due rows; return how many were confirmed."""
        now = dt.datetime.now(dt.UTC)  # wall time: backoff is operational, not domain time
        outbox = self.outbox
        query = (
            select(outbox.c.id, outbox.c.message_id, outbox.c.type, outbox.c.exchange,
                   outbox.c.body, outbox.c.attempts)
            .where(outbox.c.sent_at.is_(None))
            .where(or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now))
            .order_by(outbox.c.id)
            .limit(self.batch_size)
        )
        if self.locking:
            query = query.with_for_update(skip_locked=True)
        with Session(self.engine) as session:
            rows = session.execute(query).all()
            if not self.locking:
                session.rollback()  # never hold SQLite's write lock across network I/O
            if not rows:
                return 0
            sent: list[int] = []
            by_design: list[int] = []  # unroutable, and consumed by no one on purpose
            parked: list[int] = []
            failures: list[tuple[Any, str]] = []
            for row in rows:
                exchange = event_exchange(row.exchange.removesuffix(".events"))
                started = time.perf_counter()
                try:
                    self.publisher.publish(
                        row.body.encode("utf-8"),
                        exchange=exchange,
                        routing_key=row.type,
                        message_id=row.message_id,
                        message_type=row.type,
                        declare=[exchange],
                    )
                except Unroutable as exc:
                    if row.type in NO_CONSUMER:
                        # No one consumes it, on purpose (ADR 0012): published, done.
                        by_design.append(row.id)
                        continue
                    if row.attempts + 1 >= self.park_unroutable_after:
                        try:
                            self._park(row)
                        except Exception as park_exc:
                            failures.append((row, f"unroutable, not parked: {park_exc}"))
                            break
                        parked.append(row.id)
                        continue
                    # No queue is bound for this type yet: keep the row, retry later.
                    self.unroutable[row.type] += 1
                    metrics.UNROUTABLE.labels(self.service, row.type).inc()
                    failures.append((row, f"unroutable: {exc}"))
                    continue
                except Exception as exc:
                    log.warning("outbox relay: broker unavailable: %s", exc)
                    failures.append((row, f"{type(exc).__name__}: {exc}"))
                    break  # the connection is gone; the rest waits for the next round
                sent.append(row.id)
                metrics.RELAY_CONFIRM.labels(self.service).observe(time.perf_counter() - started)
                metrics.RELAY_PUBLISHED.labels(self.service).inc()
                if row.type in self._warned:
                    self._warned.discard(row.type)
                    log.info("outbox relay: %s has a consumer now", row.type)
                fault_point("relay.after_publish")
            done_at = dt.datetime.now(dt.UTC)
            if sent:
                session.execute(
                    update(outbox).where(outbox.c.id.in_(sent)).values(sent_at=done_at)
                )
            if by_design:
                session.execute(
                    update(outbox).where(outbox.c.id.in_(by_design)).values(
                        sent_at=done_at, last_error="no consumer, by design (ADR 0012)"))
            if parked:
                session.execute(
                    update(outbox).where(outbox.c.id.in_(parked)).values(
                        sent_at=done_at, last_error=f"parked in {UNROUTED_QUEUE}: no consumer"
                    )
                )
            for row, error in failures:
                delay = BACKOFF_SECONDS[min(row.attempts, len(BACKOFF_SECONDS) - 1)]
                session.execute(
                    update(outbox)
                    .where(outbox.c.id == row.id)
                    .values(
                        attempts=row.attempts + 1,
                        last_error=error[:2000],
                        next_attempt_at=done_at + dt.timedelta(seconds=delay),
                    )
                )
                if not error.startswith("unroutable:"):
                    log.warning(
                        "outbox row %s (%s) not published, attempt %s: %s",
                        row.message_id, row.type, row.attempts + 1, error,
                        extra={"message_id": row.message_id},
                    )
                elif row.type not in self._warned:
                    self._warned.add(row.type)
                    log.warning(
                        "outbox relay: no consumer is bound for %s; its events wait in the "
                        "outbox and are parked in %s after %s attempts (counted in "
                        "samspil_unroutable_total)", row.type, UNROUTED_QUEUE,
                        self.park_unroutable_after)
                else:
                    log.debug("outbox row %s (%s) still unroutable, attempt %s",
                              row.message_id, row.type, row.attempts + 1)
            session.commit()
        return len(sent)

    def _park(self, row: Any) -> None:
        """Keep an event nobody consumes where an operator can see and replay it."""
        queue = unrouted_queue()
        self.publisher.publish(
            row.body.encode("utf-8"),
            exchange=queue.exchange,
            routing_key=queue.name,
            message_id=row.message_id,
            message_type=row.type,
            headers={
                "x-samspil-original-exchange": row.exchange,
                "x-samspil-original-routing-key": row.type,
                "x-samspil-error": "unroutable: no queue was bound for this event type",
                "x-samspil-dead-letter-id": row.message_id,
                "x-samspil-failed-at": dt.datetime.now(dt.UTC).isoformat(),
                "x-samspil-attempts": row.attempts + 1,
            },
            declare=[queue],
        )
        log.info("outbox row %s (%s) parked in %s: no consumer is bound",
                 row.message_id, row.type, UNROUTED_QUEUE)


def run_relay_loop(
    relay: OutboxRelay, doorbell: Any, poll_seconds: float, running: Callable[[], bool],
    housekeeping: Callable[[], None] | None = None,
) -> None:
    """Publish until `running()` is false: at once when the doorbell rings (a commit
    added events), at the latest every `poll_seconds` (rows left by a crash or an
    outage), and back to back while there is a full batch waiting. `housekeeping` runs
    about once an hour."""
    next_housekeeping = time.monotonic()
    while running():
        doorbell.clear()
        relay.last_round = time.monotonic()
        try:
            published = relay.publish_pending()
        except Exception:
            log.exception("outbox relay round failed")
            published = 0
        if housekeeping is not None and time.monotonic() >= next_housekeeping:
            next_housekeeping = time.monotonic() + HOUSEKEEPING_SECONDS
            try:
                housekeeping()
            except Exception:  # the database may be down; the next hour tries again
                log.warning("outbox housekeeping failed", exc_info=True)
        if published < relay.batch_size and running():
            doorbell.wait(poll_seconds)


HOUSEKEEPING_SECONDS = 3600.0
#: A relay that has not started a round for this long (or 10 polls) is stuck: /ready
#: says so, and an orchestrator restarts the instance.
RELAY_STUCK_SECONDS = 120.0
#: How long a committed RPC request's id is kept (services.common.rpc): far longer than
#: any redelivery of it can take.
RPC_REQUESTS_KEPT = dt.timedelta(hours=24)


def forget_old_rpc_requests(engine: Any, metadata: Any, now: dt.datetime) -> int:
    """Delete `rpc_requests` rows older than RPC_REQUESTS_KEPT; how many went."""
    table = metadata.tables.get("rpc_requests")
    if table is None:
        return 0
    with engine.begin() as conn:
        return int(conn.execute(
            table.delete().where(table.c.at < now - RPC_REQUESTS_KEPT)).rowcount or 0)


class OutboxRelayRunner(DependencyProvider):
    """Runs the relay in a managed green thread next to the service's workers.

    Woken by the `Database` provider after every commit that added events, and by a
    poll (config `OUTBOX_POLL_SECONDS`, default 1) for rows left by a crash or a
    broker outage."""

    def setup(self) -> None:
        from services.common.db import Database

        providers = [d for d in self.container.dependencies if isinstance(d, Database)]
        if len(providers) != 1:
            raise RuntimeError("OutboxRelayRunner needs exactly one Database on the service")
        self.database = providers[0]
        self.poll = float(self.container.config.get("OUTBOX_POLL_SECONDS", 1.0))
        self._running = False
        self._gt: Any = None

    def start(self) -> None:
        self.publisher = Publisher(Broker.from_config(self.container.config))
        self.relay = OutboxRelay(
            self.database.engine, self.database.metadata, self.publisher,
            park_unroutable_after=int(self.container.config.get(
                "OUTBOX_PARK_UNROUTABLE_AFTER", DEFAULT_PARK_UNROUTABLE_AFTER)),
            service=self.container.service_name,
        )
        self._running = True
        self._gt = self.container.spawn_managed_thread(self._run, identifier="outbox_relay")

    def _run(self) -> None:
        database = self.database

        def housekeeping() -> None:
            forget_old_rpc_requests(database.engine, database.metadata, database.clock.now())

        run_relay_loop(self.relay, database.doorbell, self.poll, lambda: self._running,
                       housekeeping)

    def stop(self) -> None:
        self._running = False
        self.database.doorbell.set()
        if self._gt is not None:
            self._gt.wait()
        self.publisher.close()

    def kill(self) -> None:
        self._running = False
        if self._gt is not None:
            self._gt.kill()

    def get_dependency(self, worker_ctx: Any) -> OutboxRelay:
        return self.relay

    def stuck_for(self) -> float | None:
        """Seconds past the longest a healthy round takes (a poll, plus a publish's
        bounded wait for the broker), or None while the relay goes round."""
        last = getattr(getattr(self, "relay", None), "last_round", None)
        if not self._running or last is None:
            return None
        late = time.monotonic() - last - max(RELAY_STUCK_SECONDS, 10 * self.poll)
        return late if late > 0 else None
