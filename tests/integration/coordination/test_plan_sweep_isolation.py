"""coordination's action sweep, on SQLite and PostgreSQL: a plan that cannot be swept
(here its stored action status is one the plan does not know) is backed off and blocks
no other plan's reminders. Before the kit's sweep, its exception ended the sweep, and
every sweep after it, before the later plans' reminders went out."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from contracts.actor import Actor
from services.common.clock import FixedClock
from services.common.db import Store, make_engine
from services.common.migrate import upgrade
from services.coordination import handlers
from services.coordination.models import ActionAnnouncementRow, ActionStatusRow, metadata
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

METTE = Actor("staff", "m-social", roles=["tovholder"])
TOVHOLDER = {"member_id": "m-social", "name": "Mette Socialrådgiver",
             "email": "mette@balk.dk", "agency": "social_services", "role": "socialrådgiver"}
FRIDAY, MONDAY = dt.date(2021, 2, 26), dt.date(2021, 3, 1)
DEADLINES = metadata.tables["deadlines"]
OUTBOX = metadata.tables["outbox"]


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    upgrade("coordination", db_url)
    engine = make_engine(db_url)
    yield Store(engine, metadata, "coordination",
                FixedClock(dt.datetime(2021, 2, 22, 7, 0, tzinfo=dt.UTC)))
    engine.dispose()


def plan_with_an_action_due(store: Store, due_on: dt.date) -> uuid.UUID:
    def run(use_case: Callable[..., Any], **kwargs: Any) -> Any:
        with store.unit_of_work() as uow:
            return use_case(uow, **kwargs)

    pathway_id = uuid.UUID(run(handlers.open_pathway, actor=METTE, citizen_ref=uuid.uuid4(),
                               tovholder=TOVHOLDER)["pathway_id"])
    return uuid.UUID(run(handlers.draft_plan, actor=METTE, pathway_id=pathway_id, goals=[
        {"goal_id": "g-1", "text": "Jeg vil gerne i skole igen.", "actions": [
            {"action_id": "a-1", "text": "Mette ringer til skolen.", "owner_id": "m-social",
             "due_on": due_on}]}])["plan_id"])


def announced(store: Store) -> set[tuple[uuid.UUID, str]]:
    with store.read() as session:
        return {(r.plan_id, r.kind) for r in session.execute(
            select(ActionAnnouncementRow.plan_id, ActionAnnouncementRow.kind))}


def test_a_plan_that_fails_is_backed_off_and_the_later_plans_are_reminded(store: Store):
    broken = plan_with_an_action_due(store, FRIDAY)  # due first
    later = [plan_with_an_action_due(store, MONDAY) for _ in range(2)]
    with store.unit_of_work() as uow:  # stored data the plan cannot read back
        uow.session.execute(update(ActionStatusRow).where(ActionStatusRow.plan_id == broken)
                            .values(status="mislaid"))
        uow.commit()
    store.clock.set(dt.datetime(2021, 3, 1, 7, 0, tzinfo=dt.UTC))  # type: ignore[attr-defined]

    assert handlers.announce_due_actions(store, store.clock.now()) == 2
    assert announced(store) == {(plan, "due") for plan in later}
    with store.read() as session:
        failed = session.execute(select(DEADLINES).where(
            DEADLINES.c.subject_id == str(broken))).one()
        sent = session.execute(select(OUTBOX.c.type).where(
            OUTBOX.c.type.like("coordination.action_%"))).scalars().all()
    assert sent == ["coordination.action_due", "coordination.action_due"]
    assert failed.fired_at is None and failed.attempts == 1
    assert "mislaid" in failed.last_error
    assert failed.next_attempt_at > dt.datetime.now(dt.UTC)
    # Backed off: the next sweep does not try it yet, and fires nothing twice.
    assert handlers.announce_due_actions(store, store.clock.now()) == 0
    with store.read() as session:
        assert session.execute(select(DEADLINES.c.attempts).where(
            DEADLINES.c.subject_id == str(broken))).scalar_one() == 1
    assert len(announced(store)) == 2

    # Repaired, it is reminded at its next try, once its back-off (wall time) has passed.
    with store.unit_of_work() as uow:
        uow.session.execute(update(ActionStatusRow).where(ActionStatusRow.plan_id == broken)
                            .values(status="open"))
        uow.commit()
    wait_for(lambda: handlers.announce_due_actions(store, store.clock.now()) == 1,
             timeout=120, interval=0.5, what="the repaired plan's reminder")
    assert dt.datetime.now(dt.UTC) >= failed.next_attempt_at
    # Friday's action is overdue by Monday: that is its reminder now.
    assert announced(store) == {(broken, "overdue"), *((plan, "due") for plan in later)}
    assert handlers.announce_due_actions(store, store.clock.now()) == 0
    with store.read() as session:
        retried = session.execute(select(DEADLINES).where(
            DEADLINES.c.subject_id == str(broken), DEADLINES.c.fired_at.is_not(None))).one()
    assert retried.attempts == 1 and retried.id == failed.id
