"""The housing association answers the request to hold the ophævelse (a partners
hand-off of kind hold_termination), and the case follows: on real databases (SQLite and
PostgreSQL) through the use case, and through the real broker as a published
partners.handoff_updated envelope."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from contracts.actor import Actor
from services.common.amqp import Publisher, event_exchange
from services.common.clock import FileClock, FixedClock
from services.common.db import Store, make_engine
from services.common.migrate import upgrade
from services.housing import handlers
from services.housing.models import metadata
from services.housing.service import HousingService
from services.housing.settings import ladder_settings
from tests.conftest import service_config
from tests.integration.housing.support import (
    ASSOCIATION,
    OTHER_ASSOCIATION,
    T0,
    Listener,
    as_delivered,
    count,
    handoff_updated,
    outbox_messages,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

SETTINGS = ladder_settings({})
OFFICER = Actor("staff", "lone", roles=["housing_officer"])
CITIZEN = uuid.UUID("0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80")
ESCALATED_AT = dt.datetime(2025, 3, 21, 9, 0, tzinfo=dt.UTC)  # after the påkrav deadline


def report_args(**changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "actor": "partner:bf-ballerup", "source": "association", "association_id": None,
        "tenancy_ref": "T-1-1", "citizen_ref": CITIZEN, "match": None,
        "amount_dkk": Decimal("12500.00"), "months_behind": 2,
        "pakrav_sent_on": dt.date(2025, 3, 3), "pakrav_deadline": dt.date(2025, 3, 20),
        "termination_on": None, "eviction_date": None,
    }
    args.update(changes)
    return args


@pytest.fixture
def store(db_url):
    upgrade("housing", db_url)
    engine = make_engine(db_url)
    store = Store(engine, metadata, "housing", FixedClock(T0))
    for association in (ASSOCIATION, OTHER_ASSOCIATION):
        with store.unit_of_work() as uow:
            handlers.register_association(uow, actor="staff:ops", **association)
    yield store
    engine.dispose()


def escalated_case(store: Store, **changes: Any) -> str:
    """A case whose association is asked to hold the ophævelse until 18 April."""
    case_id = handlers.report_arrears(store, SETTINGS, lambda **_: None,
                                      **report_args(**changes))["case_id"]
    store.clock.set(ESCALATED_AT)  # type: ignore[attr-defined]
    handlers.sweep(store, SETTINGS, store.clock.now())
    case = view(store, case_id)
    assert (case["level"], case["hold_until"]) == ("escalated_to_association", "2025-04-18")
    return str(case_id)


def view(store: Store, case_id: str) -> dict[str, Any]:
    return handlers.get_case(store, SETTINGS, actor=OFFICER, case_id=uuid.UUID(case_id))


def answer(store: Store, case_id: str, state: str, at: dt.datetime, **fields: Any) -> None:
    with store.unit_of_work() as uow:
        handlers.record_handoff_updated(
            uow, as_delivered(handoff_updated(case_id, state, at=at, **fields)), SETTINGS)
        uow.commit()


def deadlines_of(store: Store, case_id: str) -> dict[str, dt.datetime]:
    table = metadata.tables["deadlines"]
    with store.engine.connect() as conn:
        rows = conn.execute(table.select().where(
            table.c.subject_id == case_id, table.c.fired_at.is_(None),
            table.c.cancelled_at.is_(None))).all()
    return {r.kind: r.due_at for r in rows}


def sent(store: Store, type_: str) -> list[dict[str, Any]]:
    return [m["payload"] for m in outbox_messages(store.engine) if m["type"] == type_]


def test_hold_granted_until_a_date_and_the_case_state_follows(store):
    case_id = escalated_case(store)
    at = ESCALATED_AT + dt.timedelta(days=1)
    answer(store, case_id, "accepted", at, hold_until=dt.date(2025, 4, 4))
    case = view(store, case_id)
    assert (case["hold_answer"], case["hold_granted_until"], case["hold_until"]) == (
        "granted", "2025-04-04", "2025-04-04")
    assert case["level"] == "escalated_to_association"
    # No ophævelse expected before 4 April: the hold expires at its end, Copenhagen time.
    assert deadlines_of(store, case_id)["housing.hold_expires"] == dt.datetime(
        2025, 4, 4, 22, 0, tzinfo=dt.UTC)
    with store.unit_of_work() as uow:
        item = handlers.association_cases(uow, SETTINGS, actor="partner:bf-ballerup")["items"][0]
    assert (item["reason_code"], item["due_on"]) == ("hold_granted", "2025-04-04")
    change = [r for r in store_log(store) if r.action == "change"][-1]
    assert (change.actor, change.purpose) == (
        "partner:bf-ballerup", "boligforeningens svar på anmodning om at vente med ophævelse")

    # An older answer arriving late (received before accepted) changes nothing.
    before = view(store, case_id)
    answer(store, case_id, "declined", at - dt.timedelta(hours=1), reason="Nej")
    assert view(store, case_id) == before


def test_hold_refused_asks_the_tovholder_at_once_and_the_escalation_goes_on(store):
    case_id = escalated_case(store)
    answer(store, case_id, "declined", ESCALATED_AT + dt.timedelta(days=1),
           previous_state="received", reason="Vi kan ikke vente længere.")
    case = view(store, case_id)
    assert (case["hold_answer"], case["level"]) == ("refused", "escalated_to_association")
    overdue = sent(store, "housing.action_overdue")
    assert [o["deadline_kind"] for o in overdue] == ["hold_expires"]
    assert {"addressee": "fronten", "request": "make_plan_or_apply_for_help"} in overdue[0][
        "asks"]
    assert "housing.hold_expires" not in deadlines_of(store, case_id)
    with store.unit_of_work() as uow:
        item = handlers.case_worklist(uow, SETTINGS, actor=OFFICER)["items"][0]
    assert item["reason_code"] == "hold_refused"


def test_paid_closes_the_case_and_other_answers_change_nothing(store):
    case_id = escalated_case(store)
    before = view(store, case_id)
    at = ESCALATED_AT + dt.timedelta(days=1)
    answer(store, case_id, "received", at)  # acknowledged: nothing to do yet
    answer(store, case_id, "completed", at, outcome="held", previous_state="accepted")
    answer(store, case_id, "accepted", at, kind="bridging_employment",
           hold_until=dt.date(2025, 5, 1))  # not a hold hand-off
    answer(store, case_id, "accepted", at, partner_id="bf-other",
           hold_until=dt.date(2025, 5, 1))  # not this case's association
    answer(store, str(uuid.uuid4()), "accepted", at, hold_until=dt.date(2025, 5, 1))
    assert view(store, case_id) == before

    answer(store, case_id, "completed", at + dt.timedelta(hours=1), outcome="paid",
           previous_state="in_progress")
    case = view(store, case_id)
    assert (case["is_open"], case["closure"], case["hold_answer"]) == (
        False, "tenancy_kept", "paid")
    assert [c["closure"] for c in sent(store, "housing.case_closed")] == ["tenancy_kept"]
    # A later answer on the closed case is ignored.
    answer(store, case_id, "declined", at + dt.timedelta(hours=2), reason="Fejl")
    assert view(store, case_id)["hold_answer"] == "paid"


def test_paid_while_an_ophaevelse_stands_is_left_for_the_officers(store):
    case_id = escalated_case(store)
    handlers.run_command(store, SETTINGS, "register_termination", actor=OFFICER,
                         case_id=uuid.UUID(case_id), termination_on=None)
    answer(store, case_id, "completed", ESCALATED_AT + dt.timedelta(days=1), outcome="paid")
    case = view(store, case_id)
    assert (case["is_open"], case["level"], case["hold_answer"]) == (
        True, "termination_urgent", "paid")
    with store.unit_of_work() as uow:
        item = handlers.case_worklist(uow, SETTINGS, actor=OFFICER)["items"][0]
    assert item["reason_code"] == "association_reports_paid"


def store_log(store: Store) -> list[Any]:
    table = metadata.tables["access_log"]
    with store.engine.connect() as conn:
        return list(conn.execute(table.select().order_by(table.c.id)).all())


# ------------------------------------------------------------------ through the broker


def test_a_published_hand_off_answer_reaches_the_case(amqp_uri, db_url, tmp_path,
                                                      container_factory):
    upgrade("housing", db_url)
    clock = FileClock(tmp_path / "clock")
    clock.set(T0)
    config = service_config(amqp_uri, {"housing": db_url}, CLOCK=f"file:{clock.path}",
                            HOUSING_SWEEP_SECONDS=0.05)
    listener = Listener(amqp_uri, name="test.housing-hold-answers")
    container = container_factory(HousingService, config)
    container.start()
    try:
        with ClusterRpcProxy(config) as cluster:
            cluster.housing.register_association(actor="staff:ops", **ASSOCIATION)
            case_id = cluster.housing.report_arrears(
                actor="partner:bf-ballerup", source="association", tenancy_ref="T-1-1",
                citizen_ref=str(CITIZEN), amount_dkk="12500.00", months_behind=2,
                pakrav_sent_on="2025-03-03", pakrav_deadline="2025-03-20")["case_id"]
            clock.set(ESCALATED_AT)
            wait_for(lambda: listener.find("housing.case_escalated", case_id=case_id,
                                           level="escalated_to_association"),
                     timeout=60, what="the request to hold")

            envelope = handoff_updated(case_id, "accepted", at=ESCALATED_AT,
                                       hold_until=dt.date(2025, 5, 2), citizen_ref=CITIZEN)
            publisher = Publisher(amqp_uri)
            publisher.publish(envelope.to_wire(), exchange=event_exchange("partners"),
                              routing_key=envelope.type, message_id=str(envelope.message_id))
            publisher.close()
            officer = {"kind": "staff", "id": "lone", "roles": ["housing_officer"]}

            def granted() -> dict[str, Any] | None:
                case = cluster.housing.get_case(actor=officer, case_id=case_id)
                return case if case["hold_answer"] == "granted" else None

            case = wait_for(granted, timeout=60, what="the hold granted")
            assert (case["hold_until"], case["hold_granted_until"]) == (
                "2025-05-02", "2025-05-02")
            engine = make_engine(db_url)
            try:  # the change was logged with the case, as the association's answer
                changes = count(engine, "access_log",
                                "where action = 'change' and actor = 'partner:bf-ballerup' "
                                "and purpose like 'boligforeningens svar%'")
                assert changes == 1
            finally:
                engine.dispose()
    finally:
        listener.close()
