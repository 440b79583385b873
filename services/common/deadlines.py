"""Stored deadlines and the timer-sweep pattern.

Every deadline in Samspil (course end, 4 weeks of broken agreements, bridging, påkrav
deadline, escalation steps, actions falling due) is a row in the service's
`deadlines` table. A `@timer` entrypoint sweeps: it asks the Clock for now, finds
the due rows, and fires each in its own unit of work, claiming the row with a
conditional UPDATE so that it fires exactly once even if two sweeps overlap or
the process dies mid-sweep. Because deadlines are rows, a restart loses none.

    @timer(interval=SWEEP_SECONDS)
    def sweep(self):
        for deadline in due_deadlines(self.db, self.clock.now()):
            with self.db.unit_of_work() as uow:
                if not fire(uow, deadline):
                    continue            # another sweep got it first
                ...domain effect, uow.add_event(...)
                uow.commit()
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from services.common.db import Store, UnitOfWork


@dataclass(frozen=True)
class Deadline:
    id: int
    kind: str
    subject_id: str
    due_at: dt.datetime


def schedule(uow: UnitOfWork, kind: str, subject_id: str, due_at: dt.datetime) -> None:
    """Store a deadline, replacing any open one of the same kind for the subject."""
    cancel(uow, kind, subject_id)
    uow.session.execute(
        insert(uow.metadata.tables["deadlines"]).values(
            kind=kind, subject_id=str(subject_id), due_at=due_at, created_at=uow.clock.now()
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


def due_deadlines(store: Store, now: dt.datetime, limit: int = 500) -> list[Deadline]:
    table = store.metadata.tables["deadlines"]
    with store.read() as session:
        rows = session.execute(
            select(table.c.id, table.c.kind, table.c.subject_id, table.c.due_at)
            .where(table.c.fired_at.is_(None), table.c.cancelled_at.is_(None))
            .where(table.c.due_at <= now)
            .order_by(table.c.due_at, table.c.id)
            .limit(limit)
        ).all()
    return [Deadline(r.id, r.kind, r.subject_id, r.due_at) for r in rows]


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
