"""The kit's one deadline sweep (services.common.deadlines.sweep), on SQLite and
PostgreSQL: a deadline whose handler keeps failing is rolled back, backed off and tried
again later, and blocks none of the deadlines after it; no deadline fires twice. And
`sync`, which keeps an aggregate's deadline rows in step after a command.

The back-off runs on wall time, which the sweep takes as an argument: the test moves it
instead of waiting for it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Boolean, Column, MetaData, String, Table, func, insert, select, update

from services.common import deadlines
from services.common.clock import FixedClock
from services.common.db import Store, UnitOfWork, make_engine
from services.common.tables import BigId, add_kit_tables

pytestmark = pytest.mark.integration

T0 = dt.datetime(2018, 4, 3, 8, 0, tzinfo=dt.UTC)  # the domain's clock
W0 = dt.datetime(2027, 1, 22, 9, 0, tzinfo=dt.UTC)  # wall time, for the back-off
PREFIX = "thing."

metadata = MetaData()
add_kit_tables(metadata)
things = Table(
    "things", metadata,
    Column("id", String(64), primary_key=True),
    Column("failing", Boolean, nullable=False),
)
effects = Table(
    "effects", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("thing_id", String(64), nullable=False),
    Column("deadline_id", BigId, nullable=False),
)
DEADLINES = metadata.tables["deadlines"]


class Wall:
    """The sweep's wall clock, moved by the test."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    engine = make_engine(db_url)
    metadata.create_all(engine)
    yield Store(engine, metadata, "sweeper", FixedClock(T0))
    engine.dispose()


def lock_thing(uow: UnitOfWork, deadline: deadlines.Deadline) -> Any:
    return uow.session.execute(
        select(things).where(things.c.id == deadline.subject_id).with_for_update()).first()


def handle_thing(uow: UnitOfWork, deadline: deadlines.Deadline, thing: Any) -> None:
    # The effect is written first: a failure after it must take it back.
    uow.session.execute(insert(effects).values(thing_id=thing.id, deadline_id=deadline.id))
    if thing.failing:
        raise RuntimeError(f"{thing.id} cannot be handled")


def sweep(store: Store, wall: Wall) -> deadlines.SweepResult:
    return deadlines.sweep(store, store.clock.now(), prefix=PREFIX, lock=lock_thing,
                           handle=handle_thing, wall=wall)


def add_things(store: Store, *specs: tuple[str, bool, dt.timedelta]) -> None:
    with store.unit_of_work() as uow:
        for thing_id, failing, due_in in specs:
            uow.session.execute(insert(things).values(id=thing_id, failing=failing))
            deadlines.schedule(uow, PREFIX + "due", thing_id, T0 + due_in)
        uow.commit()


def set_failing(store: Store, thing_id: str, failing: bool) -> None:
    with store.unit_of_work() as uow:
        uow.session.execute(update(things).where(things.c.id == thing_id).values(failing=failing))
        uow.commit()


def effect_counts(store: Store) -> dict[str, int]:
    with store.read() as session:
        rows = session.execute(
            select(effects.c.thing_id, func.count()).group_by(effects.c.thing_id)).all()
    return {r[0]: r[1] for r in rows}


def deadline_of(store: Store, thing_id: str) -> Any:
    with store.read() as session:
        return session.execute(select(DEADLINES).where(DEADLINES.c.subject_id == thing_id)).one()


def test_a_failing_deadline_is_backed_off_and_blocks_none_after_it(store: Store) -> None:
    hour = dt.timedelta(hours=1)
    # Due in this order: "b" fails, and the ones after it must still fire.
    add_things(store, ("a", False, 1 * hour), ("b", True, 2 * hour), ("c", False, 3 * hour),
               ("d", False, 4 * hour), ("e", False, 30 * hour))
    store.clock.set(T0 + 5 * hour)  # type: ignore[attr-defined]
    wall = Wall(W0)

    first = sweep(store, wall)
    assert (first.fired, first.failed, first.skipped, first.dropped) == (3, 1, 0, 0)
    # b's effect was rolled back with its claim; a, c and d fired; e is not due.
    assert effect_counts(store) == {"a": 1, "c": 1, "d": 1}
    b = deadline_of(store, "b")
    assert b.fired_at is None and b.cancelled_at is None
    assert b.attempts == 1
    assert b.next_attempt_at == W0 + dt.timedelta(seconds=deadlines.BACKOFF_SECONDS[0])
    assert b.last_error == "RuntimeError: b cannot be handled"

    # Backed off: sweeps before its time leave it alone (and fire nothing twice).
    wall.at = W0 + dt.timedelta(seconds=deadlines.BACKOFF_SECONDS[0] - 1)
    assert sweep(store, wall) == deadlines.SweepResult()
    assert deadline_of(store, "b").attempts == 1

    # Its time comes: tried again, fails again, backed off longer.
    wall.at = W0 + dt.timedelta(seconds=deadlines.BACKOFF_SECONDS[0])
    again = sweep(store, wall)
    assert (again.fired, again.failed) == (0, 1)
    b = deadline_of(store, "b")
    assert b.attempts == 2
    assert b.next_attempt_at == wall.at + dt.timedelta(seconds=deadlines.BACKOFF_SECONDS[1])

    # Meanwhile the domain's clock moves on: e falls due and fires although b still fails.
    store.clock.set(T0 + 31 * hour)  # type: ignore[attr-defined]
    later = sweep(store, wall)
    assert (later.fired, later.failed) == (1, 0)
    assert effect_counts(store) == {"a": 1, "c": 1, "d": 1, "e": 1}

    # Fixed: at its next try it fires, once; later sweeps find nothing left.
    set_failing(store, "b", False)
    wall.at = b.next_attempt_at
    fixed = sweep(store, wall)
    assert (fixed.fired, fixed.failed) == (1, 0)
    wall.at += dt.timedelta(days=1)
    store.clock.set(T0 + dt.timedelta(days=10))  # type: ignore[attr-defined]
    assert sweep(store, wall) == deadlines.SweepResult()
    assert effect_counts(store) == {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}
    b = deadline_of(store, "b")
    assert b.fired_at == T0 + 31 * hour and b.attempts == 2
    with store.read() as session:
        fired = session.execute(select(DEADLINES.c.subject_id, effects.c.deadline_id)
                                .join(effects, effects.c.deadline_id == DEADLINES.c.id)).all()
    assert sorted(r.subject_id for r in fired) == ["a", "b", "c", "d", "e"]


def test_the_back_off_grows_to_its_last_step_and_stays_there() -> None:
    steps = deadlines.BACKOFF_SECONDS
    assert [deadlines.backoff_delay(n) for n in range(1, len(steps) + 3)] == [
        *steps, steps[-1], steps[-1]]


def test_a_deadline_about_a_thing_that_is_gone_is_dropped_once(store: Store) -> None:
    with store.unit_of_work() as uow:
        deadlines.schedule(uow, PREFIX + "due", "ghost", T0)
        deadlines.schedule(uow, "other.kind", "ghost", T0)  # not this sweep's
        uow.commit()
    wall = Wall(W0)
    assert sweep(store, wall) == deadlines.SweepResult(dropped=1)
    assert sweep(store, wall) == deadlines.SweepResult()
    with store.read() as session:
        rows = session.execute(select(DEADLINES.c.kind, DEADLINES.c.fired_at)
                               .order_by(DEADLINES.c.kind)).all()
    assert [(r.kind, r.fired_at) for r in rows] == [("other.kind", None), ("thing.due", T0)]


def test_sync_keeps_unchanged_rows_moves_changed_ones_and_cancels_the_rest(
    store: Store,
) -> None:
    day = dt.timedelta(days=1)
    add_things(store, ("x", True, day))
    with store.unit_of_work() as uow:
        deadlines.schedule(uow, PREFIX + "later", "x", T0 + 2 * day)
        deadlines.schedule(uow, PREFIX + "gone", "x", T0 + 3 * day)
        deadlines.schedule(uow, "other.kind", "x", T0 + 3 * day)  # another prefix's
        uow.commit()
    store.clock.set(T0 + day)  # type: ignore[attr-defined]
    assert sweep(store, Wall(W0)).failed == 1  # x's "due" is backed off

    with store.unit_of_work() as uow:
        deadlines.sync(uow, "x", {PREFIX + "due": T0 + day, PREFIX + "later": T0 + 4 * day,
                                  PREFIX + "new": T0 + 5 * day}, prefix=PREFIX)
        uow.commit()
    with store.read() as session:
        rows = session.execute(
            select(DEADLINES).where(DEADLINES.c.subject_id == "x")
            .where(DEADLINES.c.fired_at.is_(None), DEADLINES.c.cancelled_at.is_(None))
        ).all()
    open_rows = {r.kind: (r.due_at, r.attempts) for r in rows}
    assert open_rows == {
        PREFIX + "due": (T0 + day, 1),  # unchanged: the same row, its back-off kept
        PREFIX + "later": (T0 + 4 * day, 0),  # moved
        PREFIX + "new": (T0 + 5 * day, 0),
        "other.kind": (T0 + 3 * day, 0),  # not sync's to touch
    }
    with pytest.raises(ValueError, match="do not start with"), store.unit_of_work() as uow:
        deadlines.sync(uow, "x", {"other.kind": T0}, prefix=PREFIX)
