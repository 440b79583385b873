"""A command and a deadline sweep on the same aggregate at the same time do not deadlock,
on PostgreSQL, in the kit and in every service that sweeps deadlines (intake's courses,
coordination's plans, partners' hand-offs, housing's cases).

Each round makes the dangerous interleaving happen, instead of hoping for it: a third
transaction (the gate) holds the aggregate's row lock; the service's real command
starts and queues on that lock; then the real sweep starts and queues too (the test
waits until PostgreSQL shows both waiting on a lock); then the gate lets go. The command
goes first, and changes the very deadline row the sweep is about to fire. A sweep that
claimed the deadline row before locking the aggregate (the old order in intake,
coordination and partners) now holds the row the command needs while it waits for the
aggregate the command holds: PostgreSQL detects the deadlock and aborts one of them
(the control test shows that it does). The kit's sweep locks the aggregate first, as
the commands do, so it waits holding nothing, then finds the deadline cancelled or
moved, and skips it.

PostgreSQL only: on SQLite there are no row locks. Every write transaction takes the
database's one write lock at BEGIN IMMEDIATE, so a command and a sweep run one after the
other and no order between rows can arise.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from contracts import registry
from contracts.actor import Actor
from contracts.envelope import Envelope
from contracts.vocabulary import (
    Channel,
    CourseKind,
    HandoffKind,
    InquirerKind,
    PartnerCategory,
    Topic,
)
from services.common import deadlines
from services.common.clock import FixedClock
from services.common.db import Store, make_engine
from services.common.migrate import upgrade
from tests.integration.test_deadline_sweep import (
    PREFIX,
    handle_thing,
    lock_thing,
    metadata,
    things,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

ROUNDS = 30  # kit
SERVICE_ROUNDS = 24  # each service
JOIN_SECONDS = 120.0


class Worker(threading.Thread):
    """Runs one call and keeps its result or its error."""

    def __init__(self, call: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.call = call
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.call()
        except BaseException as error:  # kept for the test to assert on
            self.error = error


def lock_waiters(engine: Engine) -> int:
    """Backends of this database waiting for a lock right now."""
    with engine.connect() as conn:
        return int(conn.execute(text(
            "select count(*) from pg_stat_activity "
            "where datname = current_database() and wait_event_type = 'Lock'")).scalar_one())


def race(engine: Engine, hold: Any, command: Callable[[], Any],
         sweep: Callable[[], Any]) -> tuple[Worker, Worker]:
    """The command and the sweep, both queued on the aggregate's row lock (`hold`, a
    SELECT ... FOR UPDATE) held by a gate, the command first; then the gate lets go."""
    assert lock_waiters(engine) == 0
    with engine.connect() as gate, gate.begin():
        gate.execute(hold)
        first = Worker(command)
        first.start()
        wait_for(lambda: lock_waiters(engine) == 1 or not first.is_alive(), timeout=60,
                 what="the command to queue on the aggregate's lock")
        second = Worker(sweep)
        second.start()
        wait_for(lambda: lock_waiters(engine) == 2 or not second.is_alive(), timeout=60,
                 what="the sweep to queue on a lock too")
        # Both were still waiting: neither got past the gate.
        assert first.is_alive() and second.is_alive()
    for worker in (first, second):
        worker.join(JOIN_SECONDS)
        assert not worker.is_alive(), "a worker is still blocked after the gate let go"
    return first, second


def failed_deadlines(engine: Engine, table: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(table.c.id, table.c.kind, table.c.last_error)
                                 .where(table.c.attempts > 0)))


def is_deadlock(error: BaseException | None) -> bool:
    return isinstance(error, DBAPIError) and "deadlock detected" in str(error)


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What went wrong, as logged: a sweep logs (and backs off) a deadline that fails,
    a deadlock among them, rather than raising it. (A deadline the command cancelled
    meanwhile has no back-off to show for it: only the log tells.)"""
    return [record.getMessage() for record in caplog.records
            if record.levelno >= logging.ERROR]


# ----------------------------------------------------------------------------- the kit

T0 = dt.datetime(2018, 4, 3, 8, 0, tzinfo=dt.UTC)
DEADLINES = metadata.tables["deadlines"]


@pytest.fixture
def kit_store(pg_url: str) -> Iterator[Store]:
    engine = make_engine(pg_url)
    metadata.create_all(engine)
    yield Store(engine, metadata, "sweeper", FixedClock(T0))
    engine.dispose()


def new_thing(store: Store) -> str:
    thing_id = uuid.uuid4().hex
    with store.unit_of_work() as uow:
        uow.session.execute(things.insert().values(id=thing_id, failing=False))
        deadlines.schedule(uow, PREFIX + "due", thing_id, T0)
        uow.commit()
    return thing_id


def move_deadline(store: Store, thing_id: str) -> Callable[[], None]:
    """A command: lock the thing, then move its deadline a day on (its row cancelled)."""

    def run() -> None:
        with store.unit_of_work() as uow:
            uow.session.execute(select(things).where(things.c.id == thing_id).with_for_update())
            deadlines.sync(uow, thing_id, {PREFIX + "due": T0 + dt.timedelta(days=1)},
                           prefix=PREFIX)
            uow.commit()

    return run


def sweep_old_order(store: Store) -> int:
    """The sweep as intake, coordination and partners wrote it: claim, then lock."""
    fired = 0
    for deadline in deadlines.due_deadlines(store, store.clock.now(), prefix=PREFIX):
        with store.unit_of_work() as uow:
            if not deadlines.fire(uow, deadline):
                continue
            thing = lock_thing(uow, deadline)
            handle_thing(uow, deadline, thing)
            uow.commit()
            fired += 1
    return fired


def test_the_kits_sweep_and_a_command_on_one_aggregate_do_not_deadlock(kit_store, caplog):
    store = kit_store
    for _ in range(ROUNDS):
        thing_id = new_thing(store)
        hold = select(things.c.id).where(things.c.id == thing_id).with_for_update()
        command, sweep = race(
            store.engine, hold, move_deadline(store, thing_id),
            lambda: deadlines.sweep(store, store.clock.now(), prefix=PREFIX, lock=lock_thing,
                                    handle=handle_thing))
        assert command.error is None, command.error
        assert sweep.error is None, sweep.error
        assert errors_logged(caplog) == []
        # The command moved the deadline first; the sweep found its row cancelled.
        assert sweep.result == deadlines.SweepResult(skipped=1)
        with store.read() as session:
            rows = session.execute(select(DEADLINES.c.due_at, DEADLINES.c.fired_at,
                                          DEADLINES.c.cancelled_at)
                                   .where(DEADLINES.c.subject_id == thing_id)
                                   .order_by(DEADLINES.c.id)).all()
        assert [(r.due_at, r.fired_at, r.cancelled_at is not None) for r in rows] == [
            (T0, None, True), (T0 + dt.timedelta(days=1), None, False)]
    assert failed_deadlines(store.engine, DEADLINES) == []


def test_control_the_old_order_deadlocks_under_the_same_interleaving(kit_store):
    """Shows the rounds above would catch a sweep that claims before it locks."""
    store = kit_store
    thing_id = new_thing(store)
    hold = select(things.c.id).where(things.c.id == thing_id).with_for_update()
    command, sweep = race(store.engine, hold, move_deadline(store, thing_id),
                          lambda: sweep_old_order(store))
    assert is_deadlock(command.error) or is_deadlock(sweep.error), (command.error, sweep.error)


# ------------------------------------------------------------------------------ intake


def test_intake_course_command_and_course_sweep_do_not_deadlock(pg_url, caplog):
    from services.intake import handlers
    from services.intake.models import CourseNotice, CourseRow
    from services.intake.models import metadata as intake_metadata
    from services.intake.protection import CprProtection
    from services.intake.settings import IntakeContext, IntakeSettings

    upgrade("intake", pg_url)
    engine = make_engine(pg_url)
    start = dt.datetime(2018, 5, 25, 8, 0, tzinfo=dt.UTC)  # Friday 25 May, 10:00 local
    today = dt.date(2018, 6, 1)
    clock = FixedClock(start)
    store = Store(engine, intake_metadata, "intake", clock)
    ctx = IntakeContext(IntakeSettings(), CprProtection.from_config({
        "CPR_HASH_KEY": "k" * 64, "CPR_ENCRYPTION_KEY": _fernet_key()}))
    anne = Actor("staff", "fronten-anne", roles=["fronten"])

    def run(use_case: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with store.unit_of_work() as uow:
            return use_case(uow, *args, **kwargs)

    try:
        for n in range(SERVICE_ROUNDS):
            clock.set(start)
            citizen = run(handlers.register_citizen, ctx, actor=anne,
                          cpr=f"010395{1000 + n:04d}", name=f"Borger {n}", email=None,
                          phone=None, preferred_channel="letter")["citizen_ref"]
            inquiry = run(handlers.register_inquiry, channel=Channel.WALK_IN,
                          inquirer_kind=InquirerKind.CITIZEN,
                          topics=[Topic.EVERYDAY_STRUCTURE], wish="Mine egne ord.",
                          citizen_ref=uuid.UUID(str(citizen)), registered_at=start,
                          registered_by=anne)["inquiry_id"]
            # The first follow-up falls due today: the one deadline due.
            course_id = uuid.UUID(str(run(
                handlers.start_course, ctx, actor=anne, inquiry_id=uuid.UUID(str(inquiry)),
                kind=CourseKind.INDIVIDUAL_82B,
                plan={"goals": ["Mit eget mål."],
                      "follow_up_dates": [today, today + dt.timedelta(days=14)]},
                start_date=start.date(), planned_end=today + dt.timedelta(days=90),
                bridging_to=[])["course_id"]))
            clock.set(dt.datetime(2018, 6, 1, 8, 0, tzinfo=dt.UTC))
            hold = select(CourseRow.id).where(CourseRow.id == course_id).with_for_update()
            command, sweep = race(
                engine, hold,
                functools.partial(run, handlers.record_attendance, actor=anne,
                                  course_id=course_id, on=today, kept=True),
                lambda: handlers.sweep_course_deadlines(store, clock.now()))
            assert command.error is None, command.error
            assert sweep.error is None, sweep.error
            assert errors_logged(caplog) == []
            # The command brought the course's clocks to today (the follow-up reminder)
            # and moved its deadline; the sweep found that row cancelled.
            assert sweep.result == 0
            with engine.connect() as conn:
                reminders = conn.execute(select(CourseNotice.kind).where(
                    CourseNotice.course_id == course_id)).scalars().all()
            assert reminders == ["follow_up_due"]
        assert failed_deadlines(engine, intake_metadata.tables["deadlines"]) == []
    finally:
        engine.dispose()


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


# ------------------------------------------------------------------------ coordination


def test_coordination_plan_command_and_action_sweep_do_not_deadlock(pg_url, caplog):
    from services.coordination import handlers
    from services.coordination.models import ActionAnnouncementRow, PathwayRow
    from services.coordination.models import metadata as coordination_metadata

    upgrade("coordination", pg_url)
    engine = make_engine(pg_url)
    monday = dt.date(2021, 3, 1)
    week_before = dt.datetime(2021, 2, 22, 7, 0, tzinfo=dt.UTC)
    clock = FixedClock(week_before)
    store = Store(engine, coordination_metadata, "coordination", clock)
    mette = Actor("staff", "m-social", roles=["tovholder"])
    tovholder = {"member_id": "m-social", "name": "Mette Socialrådgiver",
                 "email": "mette@balk.dk", "agency": "social_services",
                 "role": "socialrådgiver"}

    def run(use_case: Callable[..., Any], **kwargs: Any) -> Any:
        with store.unit_of_work() as uow:
            return use_case(uow, **kwargs)

    try:
        for _ in range(SERVICE_ROUNDS):
            clock.set(week_before)
            pathway_id = uuid.UUID(run(handlers.open_pathway, actor=mette,
                                       citizen_ref=uuid.uuid4(),
                                       tovholder=tovholder)["pathway_id"])
            # One action, due on Monday: the plan's deadline is Monday's start.
            run(handlers.draft_plan, actor=mette, pathway_id=pathway_id, goals=[
                {"goal_id": "g-1", "text": "Jeg vil gerne i skole igen.", "actions": [
                    {"action_id": "a-1", "text": "Mette ringer til skolen.",
                     "owner_id": "m-social", "due_on": monday}]}])
            clock.set(dt.datetime(2021, 3, 1, 7, 0, tzinfo=dt.UTC))  # Monday, 08:00
            hold = select(PathwayRow.id).where(PathwayRow.id == pathway_id).with_for_update()
            command, sweep = race(
                engine, hold,
                functools.partial(run, handlers.set_action_status, actor=mette,
                                  pathway_id=pathway_id, action_id="a-1", status="done"),
                lambda: handlers.announce_due_actions(store, clock.now()))
            assert command.error is None, command.error
            assert sweep.error is None, sweep.error
            assert errors_logged(caplog) == []
            # The action was done before the sweep got the plan: no reminder of it.
            assert sweep.result == 0
            with engine.connect() as conn:
                announced = conn.execute(select(ActionAnnouncementRow.kind)).scalars().all()
            assert announced == []
        assert failed_deadlines(engine, coordination_metadata.tables["deadlines"]) == []
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------- partners


def test_partners_answer_and_escalation_sweep_do_not_deadlock(pg_url, caplog):
    from services.partners import directory, handoffs
    from services.partners.models import HandoffRow
    from services.partners.models import metadata as partners_metadata
    from services.partners.settings import PartnersSettings

    upgrade("partners", pg_url)
    engine = make_engine(pg_url)
    requested = dt.datetime(2025, 3, 5, 9, 0, tzinfo=dt.UTC)  # a Wednesday
    clock = FixedClock(requested)
    store = Store(engine, partners_metadata, "partners", clock)
    settings = PartnersSettings()
    operator = Actor("staff", "drift-ole", roles=["operator"])
    jobcenter = Actor("partner", "jobcenter", roles=["partner"], partner_id="jobcenter")
    try:
        with store.unit_of_work() as uow:
            directory.register_partner(
                uow, actor=operator, partner_id="jobcenter", name="Jobcenter Ballerup",
                category=PartnerCategory.EMPLOYMENT, accepts=[HandoffKind.BRIDGING_EMPLOYMENT],
                contact_name="Visitationen", contact_email="jobcenter@example.dk",
                contact_phone=None, description=None)
        for _ in range(SERVICE_ROUNDS):
            clock.set(requested)
            course = uuid.uuid4()
            with store.unit_of_work() as uow:
                handoffs.on_bridging_due(uow, delivered(registry.build(
                    "intake.bridging_due",
                    {"course_id": course, "citizen_ref": uuid.uuid4(),
                     "partner_kind": "employment", "due_on": dt.date(2025, 4, 9),
                     "planned_end": dt.date(2025, 6, 9)},
                    producer="intake", correlation_id=str(course), occurred_at=requested)),
                    settings)
                uow.commit()
            with engine.connect() as conn:
                handoff_id, answer_by = conn.execute(
                    select(HandoffRow.id, HandoffRow.answer_by)
                    .where(HandoffRow.subject_id == course)).one()
            clock.set(deadlines_due_at(answer_by))
            hold = select(HandoffRow.id).where(HandoffRow.id == handoff_id).with_for_update()
            command, sweep = race(
                engine, hold,
                functools.partial(answer, store, handoffs, jobcenter, handoff_id),
                lambda: handoffs.sweep(store, clock.now()))
            assert command.error is None, command.error
            assert sweep.error is None, sweep.error
            assert errors_logged(caplog) == []
            # Accepted first, so never escalated.
            assert sweep.result == 0
            with engine.connect() as conn:
                state, escalated_at = conn.execute(
                    select(HandoffRow.state, HandoffRow.escalated_at)
                    .where(HandoffRow.id == handoff_id)).one()
            assert (state, escalated_at) == ("accepted", None)
        assert failed_deadlines(engine, partners_metadata.tables["deadlines"]) == []
    finally:
        engine.dispose()


def delivered(envelope: Envelope) -> Envelope:
    """The event as an inbox handler receives it: its payload loaded into Python values."""
    return dataclasses.replace(envelope, payload=registry.load_payload(envelope))


def deadlines_due_at(answer_by: dt.date) -> dt.datetime:
    from services.partners import lifecycle

    return lifecycle.escalation_due_at(answer_by)


def answer(store: Store, handoffs: Any, actor: Actor, handoff_id: uuid.UUID) -> Any:
    from contracts.vocabulary import HandoffState

    with store.unit_of_work() as uow:
        return handoffs.answer_handoff(uow, actor=actor, handoff_id=handoff_id,
                                       state=HandoffState.ACCEPTED)


# ----------------------------------------------------------------------------- housing


def test_housing_case_command_and_case_sweep_do_not_deadlock(pg_url, caplog):
    from services.housing import handlers
    from services.housing.models import ArrearsCaseRow
    from services.housing.models import metadata as housing_metadata
    from services.housing.settings import ladder_settings

    upgrade("housing", pg_url)
    engine = make_engine(pg_url)
    reported = dt.datetime(2025, 3, 5, 9, 0, tzinfo=dt.UTC)  # a Wednesday
    outreach_due = dt.datetime(2025, 3, 19, 9, 0, tzinfo=dt.UTC)  # 14 days on
    clock = FixedClock(reported)
    store = Store(engine, housing_metadata, "housing", clock)
    settings = ladder_settings({})
    officer = Actor("staff", "lone", roles=["housing_officer"])
    refs = [f"T-1-{n}" for n in range(SERVICE_ROUNDS)]
    try:
        with store.unit_of_work() as uow:
            handlers.register_association(
                uow, actor="staff:test", association_id="bf-ballerup",
                name="Ballerup Boligforening", cvr="12345678", delivery="webhook",
                departments=[{"number": "1", "name": "Søndergården", "tenancy_refs": refs}])
        for ref in refs:
            clock.set(reported)
            case_id = uuid.UUID(str(handlers.report_arrears(
                store, settings, _no_match, actor="partner:bf-ballerup", source="association",
                association_id="bf-ballerup", tenancy_ref=ref, citizen_ref=uuid.uuid4(),
                match=None, amount_dkk=Decimal("12500.00"), months_behind=2,
                pakrav_sent_on=dt.date(2025, 3, 3), pakrav_deadline=dt.date(2025, 3, 20),
                termination_on=None, eviction_date=None)["case_id"]))
            clock.set(outreach_due)
            hold = (select(ArrearsCaseRow.id).where(ArrearsCaseRow.id == case_id)
                    .with_for_update())
            command, sweep = race(
                engine, hold,
                functools.partial(handlers.run_command, store, settings, "record_contact",
                                  actor=officer, case_id=case_id),
                lambda: handlers.sweep(store, settings, clock.now()))
            assert command.error is None, command.error
            assert sweep.error is None, sweep.error
            assert errors_logged(caplog) == []
            # Contact was made first: the outreach deadline went with it, unfired.
            assert sweep.result == 0
            deadline_rows = housing_metadata.tables["deadlines"]
            with engine.connect() as conn:
                outreach = conn.execute(
                    select(deadline_rows.c.fired_at, deadline_rows.c.cancelled_at)
                    .where(deadline_rows.c.subject_id == str(case_id),
                           deadline_rows.c.kind == "housing.outreach")).one()
            assert outreach.fired_at is None and outreach.cancelled_at is not None
        assert failed_deadlines(engine, housing_metadata.tables["deadlines"]) == []
    finally:
        engine.dispose()


def _no_match(**_: Any) -> str | None:
    raise AssertionError("intake must not be asked when the citizen_ref is known")
