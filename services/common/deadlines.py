"""Stored deadlines, the one deadline sweep, and keeping an aggregate's deadlines in step.

Every deadline in Samspil (course end, 4 weeks of broken agreements, bridging, påkrav
deadline, escalation steps, actions falling due, a partner's answer) is a row in the
service's `deadlines` table, about one aggregate (its `subject_id`). Because deadlines
are rows, a restart loses none.

A command changes an aggregate and then keeps its deadline rows in step with `sync`
(or `schedule`/`cancel`), in the command's own transaction. A `@timer` entrypoint
fires the due ones with `sweep`:

    @timer(interval=SWEEP_SECONDS)
    def sweep(self):
        deadlines.sweep(self.db, self.clock.now(), prefix="course.",
                        lock=lock_course,       # SELECT ... FOR UPDATE, as the commands
                        handle=apply_deadline)  # the domain effect, uow.add_event(...)

`sweep` gives each due deadline its own unit of work, in the commands' lock order:

1. `lock` locks the aggregate the deadline is about, with the very lock the service's
   commands take first (its row, SELECT ... FOR UPDATE on PostgreSQL);
2. `fire` claims the deadline row with a conditional UPDATE, so it fires exactly once
   even if two sweeps overlap, a command cancelled it meanwhile, or the process dies;
3. `handle` applies the deadline to the locked aggregate, and the kit commits.

Aggregate first, deadline second: a command also locks its aggregate before it touches
the aggregate's deadline rows, so a command and a sweep on one aggregate queue on the
aggregate's lock and can never hold one lock each while waiting for the other's. (On
SQLite there are no row locks: every write transaction takes the database's one write
lock at BEGIN IMMEDIATE, so no order between rows arises there.)

A deadline whose lock or handler raises is rolled back (its claim with it: it did not
fire), logged, and backed off: `attempts`, `next_attempt_at` and `last_error` on its row,
after BACKOFF_SECONDS. The sweep goes on with the next deadline; the failed one is not
due again for the sweep until its time has come. The back-off runs on wall time, like
the outbox's: it is about the operation, not about the domain's clock. It never gives
up: a deadline is a duty, and a failing one stays visible (the log, `attempts`, and the
sweep lag on /metrics) until it is fixed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, insert, or_, select, update

from services.common.db import Store, UnitOfWork

log = logging.getLogger(__name__)

#: Seconds a deadline whose handler failed waits before its next try, by failures so far
#: (the last one repeats: a deadline is tried again every hour until it works).
BACKOFF_SECONDS: tuple[float, ...] = (10, 30, 60, 300, 900, 3600)
#: How much of a failure's text its row keeps.
LAST_ERROR_CHARS = 1000

A = TypeVar("A")


@dataclass(frozen=True)
class Deadline:
    id: int
    kind: str
    subject_id: str
    due_at: dt.datetime
    attempts: int = 0  # failed tries so far


@dataclass
class SweepResult:
    """What one sweep did."""

    fired: int = 0  # claimed and handled
    dropped: int = 0  # claimed, but the aggregate is gone: nothing to apply it to
    skipped: int = 0  # fired by an overlapping sweep or cancelled by a command meanwhile
    failed: int = 0  # lock or handler raised: rolled back and backed off


def wall_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _kinds(table: Any, prefix: str | None) -> ColumnElement[bool] | None:
    if prefix is None:
        return None
    return table.c.kind.startswith(prefix, autoescape=True)


def schedule(uow: UnitOfWork, kind: str, subject_id: str, due_at: dt.datetime) -> None:
    """Store a deadline, replacing any open one of the same kind for the subject."""
    cancel(uow, kind, subject_id)
    uow.session.execute(
        insert(uow.metadata.tables["deadlines"]).values(
            kind=kind, subject_id=str(subject_id), due_at=due_at, created_at=uow.clock.now(),
            attempts=0,
        )
    )


def cancel(uow: UnitOfWork, kind: str, subject_id: str) -> None:
    table = uow.metadata.tables["deadlines"]
    uow.session.execute(
        update(table)
        .where(table.c.kind == kind, table.c.subject_id == str(subject_id))
        .where(table.c.fired_at.is_(None), table.c.cancelled_at.is_(None))
        .values(cancelled_at=uow.clock.now())
    )


def sync(
    uow: UnitOfWork, subject_id: str, wanted: Mapping[str, dt.datetime], *, prefix: str
) -> None:
    """Make the subject's open deadlines whose kind starts with `prefix` exactly `wanted`
    (kind -> due at): a kind no longer wanted is cancelled, a new or moved one is
    scheduled, and one that is unchanged keeps its row (and with it any back-off).

    Call it in the command's unit of work, after locking the aggregate (as every command
    does): the aggregate's lock, then its deadline rows, the order `sweep` keeps too."""
    strays = [kind for kind in wanted if not kind.startswith(prefix)]
    if strays:
        raise ValueError(f"deadline kinds {strays} do not start with {prefix!r}")
    table = uow.metadata.tables["deadlines"]
    subject = str(subject_id)
    current = {
        r.kind: r.due_at
        for r in uow.session.execute(
            select(table.c.kind, table.c.due_at).where(
                table.c.subject_id == subject,
                table.c.kind.startswith(prefix, autoescape=True),
                table.c.fired_at.is_(None),
                table.c.cancelled_at.is_(None),
            )
        )
    }
    for kind in current.keys() - wanted.keys():
        cancel(uow, kind, subject)
    for kind, due_at in wanted.items():
        if current.get(kind) != due_at:
            schedule(uow, kind, subject, due_at)


def due_deadlines(
    store: Store,
    now: dt.datetime,
    limit: int = 500,
    *,
    prefix: str | None = None,
    retry_at: dt.datetime | None = None,
) -> list[Deadline]:
    """The open deadlines due at `now` (of the kinds starting with `prefix`), oldest
    first. With `retry_at` (wall time), those backed off past it are left out."""
    table = store.metadata.tables["deadlines"]
    query = (
        select(table.c.id, table.c.kind, table.c.subject_id, table.c.due_at, table.c.attempts)
        .where(table.c.fired_at.is_(None), table.c.cancelled_at.is_(None))
        .where(table.c.due_at <= now)
    )
    kinds = _kinds(table, prefix)
    if kinds is not None:
        query = query.where(kinds)
    if retry_at is not None:
        query = query.where(
            or_(table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= retry_at))
    with store.read() as session:
        rows = session.execute(query.order_by(table.c.due_at, table.c.id).limit(limit)).all()
    return [Deadline(r.id, r.kind, r.subject_id, r.due_at, r.attempts or 0) for r in rows]


def fire(uow: UnitOfWork, deadline: Deadline) -> bool:
    """Claim the deadline in this unit of work; False if it already fired or was cancelled."""
    table = uow.metadata.tables["deadlines"]
    result = uow.session.execute(
        update(table)
        .where(table.c.id == deadline.id)
        .where(table.c.fired_at.is_(None), table.c.cancelled_at.is_(None))
        .values(fired_at=uow.clock.now())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def backoff_delay(attempts: int, backoff: Sequence[float] = BACKOFF_SECONDS) -> float:
    """Seconds before the next try of a deadline that has failed `attempts` times (>= 1)."""
    return float(backoff[min(max(attempts, 1), len(backoff)) - 1])


def back_off(
    store: Store,
    deadline: Deadline,
    error: BaseException,
    at: dt.datetime,
    backoff: Sequence[float] = BACKOFF_SECONDS,
) -> dt.datetime:
    """Record a failed try of an open deadline and when to try it next (wall time `at`
    plus the back-off for its number of failures); returns that time."""
    attempts = deadline.attempts + 1
    next_at = at + dt.timedelta(seconds=backoff_delay(attempts, backoff))
    table = store.metadata.tables["deadlines"]
    with store.unit_of_work() as uow:
        uow.session.execute(
            update(table)
            .where(table.c.id == deadline.id)
            .where(table.c.fired_at.is_(None), table.c.cancelled_at.is_(None))
            .values(attempts=table.c.attempts + 1, next_attempt_at=next_at,
                    last_error=f"{type(error).__name__}: {error}"[:LAST_ERROR_CHARS])
        )
        uow.commit()
    return next_at


def sweep(
    store: Store,
    now: dt.datetime,
    *,
    prefix: str,
    lock: Callable[[UnitOfWork, Deadline], A | None],
    handle: Callable[[UnitOfWork, Deadline, A], None],
    backoff: Sequence[float] = BACKOFF_SECONDS,
    wall: Callable[[], dt.datetime] = wall_now,
    limit: int = 500,
) -> SweepResult:
    """Fire the deadlines due at `now` whose kind starts with `prefix`, each in its own
    unit of work: `lock(uow, deadline)` locks the deadline's aggregate as the service's
    commands lock it and returns it (None: it no longer exists), then the deadline row
    is claimed (`fire`), then `handle(uow, deadline, aggregate)` applies it; the kit
    commits. A deadline whose lock or handler raises is rolled back, logged and backed
    off, and the sweep goes on with the next one."""
    result = SweepResult()
    for deadline in due_deadlines(store, now, limit, prefix=prefix, retry_at=wall()):
        try:
            with store.unit_of_work() as uow:
                aggregate = lock(uow, deadline)  # the aggregate first, as the commands
                if not fire(uow, deadline):  # then the deadline row
                    result.skipped += 1
                    continue
                if aggregate is None:
                    log.warning("deadline %s (%s) is about %s, which no longer exists: "
                                "dropped", deadline.id, deadline.kind, deadline.subject_id)
                    uow.commit()
                    result.dropped += 1
                    continue
                handle(uow, deadline, aggregate)
                uow.commit()
                result.fired += 1
        except Exception as error:
            result.failed += 1
            try:
                next_at = back_off(store, deadline, error, wall(), backoff)
            except Exception:
                # The database itself fails (the back-off could not be written): the
                # deadlines after this one would fail alike. The next sweep tries again.
                log.exception("deadline %s (%s) of %s failed, and so did recording it; "
                              "this sweep stops", deadline.id, deadline.kind,
                              deadline.subject_id)
                return result
            log.exception("deadline %s (%s) of %s failed (attempt %s); tried again from "
                          "%s, the sweep goes on", deadline.id, deadline.kind,
                          deadline.subject_id, deadline.attempts + 1, next_at.isoformat())
    return result
