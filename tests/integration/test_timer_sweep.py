"""The timer-sweep pattern: deadlines are rows, a @timer sweep fires them against the
Clock, exactly once, and a restart between two sweeps loses none."""

from __future__ import annotations

import datetime as dt

import pytest
from nameko.timer import timer
from sqlalchemy import Column, MetaData, String, Table, func, insert, select

from services.common import deadlines
from services.common.clock import Clock, FileClock
from services.common.db import Database, Store, make_engine
from services.common.tables import add_kit_tables
from services.common.types import UTCDateTime
from tests.conftest import service_config
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

T0 = dt.datetime(2018, 4, 3, 8, 0, tzinfo=dt.UTC)

metadata = MetaData()
add_kit_tables(metadata)
fired = Table(
    "fired", metadata,
    Column("subject_id", String(64), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("fired_at", UTCDateTime, nullable=False),
)


class SweepService:
    name = "sweeper"
    db = Database(metadata)
    clock = Clock()

    @timer(interval=0.05)
    def sweep(self) -> None:
        now = self.clock.now()
        for deadline in deadlines.due_deadlines(self.db, now):
            with self.db.unit_of_work() as uow:
                if not deadlines.fire(uow, deadline):
                    continue
                uow.session.execute(insert(fired).values(
                    subject_id=deadline.subject_id, kind=deadline.kind, fired_at=now))
                uow.commit()


def fired_rows(engine) -> list:
    with engine.connect() as conn:
        return list(conn.execute(select(fired.c.subject_id, fired.c.kind, fired.c.fired_at)))


def sweeps_seen(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(fired)).scalar_one())


def test_deadline_fires_once_when_the_clock_reaches_it_even_across_a_restart(
    amqp_uri, db_url, tmp_path, runner_factory
):
    engine = make_engine(db_url)
    metadata.create_all(engine)
    clock = FileClock(tmp_path / "clock")
    clock.set(T0)
    config = service_config(amqp_uri, {"sweeper": db_url}, CLOCK=f"file:{clock.path}")

    store = Store(engine, metadata, "sweeper", clock)
    with store.unit_of_work() as uow:
        deadlines.schedule(uow, "course.broken_agreements", "course-1", T0 + dt.timedelta(days=28))
        uow.commit()

    first = runner_factory(config, SweepService)
    first.start()
    clock.set(T0 + dt.timedelta(days=27, hours=23))
    # Let several sweeps pass the day before: nothing may fire.
    probe = T0 + dt.timedelta(days=27, hours=23)
    with store.unit_of_work() as uow:  # a marker deadline proves sweeps really ran
        deadlines.schedule(uow, "marker", "m", probe)
        uow.commit()
    wait_for(lambda: sweeps_seen(engine) == 1, what="the marker to fire")
    assert [r.kind for r in fired_rows(engine)] == ["marker"]
    first.stop()  # restart between two sweeps

    clock.set(T0 + dt.timedelta(days=28))
    second = runner_factory(config, SweepService)
    second.start()
    wait_for(lambda: sweeps_seen(engine) == 2, what="the deadline to fire after the restart")
    with store.unit_of_work() as uow:  # a later marker: sweeps kept running after the fire
        deadlines.schedule(uow, "marker", "m2", T0 + dt.timedelta(days=28))
        uow.commit()
    wait_for(lambda: sweeps_seen(engine) == 3, what="the second marker")
    rows = [r for r in fired_rows(engine) if r.kind == "course.broken_agreements"]
    assert len(rows) == 1
    assert rows[0].subject_id == "course-1"
    assert rows[0].fired_at == T0 + dt.timedelta(days=28)
    second.stop()
    engine.dispose()
