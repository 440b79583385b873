"""housing's use cases against real databases (SQLite and PostgreSQL), without the broker:
cases and their deadline rows, the tovholder projection, partners and the report."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text

from contracts.actor import Actor
from contracts.housing import AssociationReportResult
from services.common.clock import FixedClock
from services.common.db import Store, make_engine
from services.common.errors import DomainError, NotFound
from services.common.migrate import upgrade
from services.housing import handlers
from services.housing.models import metadata
from services.housing.settings import ladder_settings
from tests.integration.housing.support import (
    ASSOCIATION,
    OTHER_ASSOCIATION,
    T0,
    all_text,
    as_delivered,
    coordination_event,
    count,
    outbox_messages,
    pathway_opened,
)

pytestmark = pytest.mark.integration

SETTINGS = ladder_settings({})
OFFICER = Actor("staff", "lone", roles=["housing_officer"])
FRONTEN = Actor("staff", "anne", roles=["fronten"])


@pytest.fixture
def store(db_url):
    upgrade("housing", db_url)
    engine = make_engine(db_url)
    store = Store(engine, metadata, "housing", FixedClock(T0))
    for association in (ASSOCIATION, OTHER_ASSOCIATION):
        with store.unit_of_work() as uow:
            handlers.register_association(uow, actor="staff:test", **association)
    yield store
    engine.dispose()


def no_match(**_: Any) -> str | None:
    raise AssertionError("intake must not be asked when the citizen_ref is known")


def report(store: Store, matcher: Any = no_match, **changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "actor": "partner:bf-ballerup", "source": "association",
        "association_id": "bf-ballerup", "tenancy_ref": "T-1-1",
        "citizen_ref": uuid.UUID(int=1), "match": None,
        "amount_dkk": Decimal("12500.00"), "months_behind": 2,
        "pakrav_sent_on": dt.date(2025, 3, 3), "pakrav_deadline": dt.date(2025, 3, 20),
        "termination_on": None, "eviction_date": None,
    }
    args.update(changes)
    return handlers.report_arrears(store, SETTINGS, matcher, **args)


def command(store: Store, name: str, case_id: str, **args: Any) -> dict[str, Any]:
    return handlers.run_command(
        store, SETTINGS, name, actor=OFFICER, case_id=uuid.UUID(case_id), **args
    )


def staff_view(store: Store, case_id: str) -> dict[str, Any]:
    return handlers.get_case(store, SETTINGS, actor=OFFICER, case_id=uuid.UUID(case_id))


def open_deadlines(store: Store, case_id: str) -> dict[str, dt.datetime]:
    table = metadata.tables["deadlines"]
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(table.c.kind, table.c.due_at)
            .where(table.c.subject_id == case_id)
            .where(table.c.fired_at.is_(None), table.c.cancelled_at.is_(None))
        ).all()
    return {r.kind: r.due_at for r in rows}


def messages_of(store: Store, type_: str) -> list[dict[str, Any]]:
    return [m["payload"] for m in outbox_messages(store.engine) if m["type"] == type_]


def test_deadline_rows_follow_the_case_through_the_ladder(store):
    case = report(store)
    case_id = case["case_id"]
    assert case["level"] == "outreach_due" and case["opened"] is True
    # Outreach "straks" (14 days) and the påkrav deadline (end of 20 March, Copenhagen).
    assert open_deadlines(store, case_id) == {
        "housing.outreach": dt.datetime(2025, 3, 19, 9, 0, tzinfo=dt.UTC),
        "housing.pakrav": dt.datetime(2025, 3, 20, 23, 0, tzinfo=dt.UTC),
    }

    store.clock.set(dt.datetime(2025, 3, 19, 9, 0, tzinfo=dt.UTC))  # type: ignore[attr-defined]
    assert handlers.sweep(store, SETTINGS, store.clock.now()) == 1
    assert handlers.sweep(store, SETTINGS, store.clock.now()) == 0  # fired once only
    assert set(open_deadlines(store, case_id)) == {"housing.hold_expires"}
    escalated = messages_of(store, "housing.case_escalated")[-1]
    assert escalated["level"] == "escalated_to_association"
    assert escalated["previous_level"] == "outreach_due"

    command(store, "agree_payment_plan", case_id)
    assert open_deadlines(store, case_id) == {}
    closed = command(store, "record_paid_in_full", case_id)
    assert closed["closure"] == "tenancy_kept"
    assert open_deadlines(store, case_id) == {}
    assert count(store.engine, "arrears_cases", "where open_tenancy_ref is not null") == 0


def test_second_report_for_a_tenancy_updates_its_open_case(store):
    first = report(store)
    second = report(store, amount_dkk=Decimal("15000"), months_behind=3)
    assert second["opened"] is False
    assert second["case_id"] == first["case_id"]
    assert "amount_dkk" not in second  # the association is shown its view of the case
    staff = staff_view(store, second["case_id"])
    assert staff["amount_dkk"] == "15000" and staff["months_behind"] == 3
    assert count(store.engine, "arrears_cases") == 1
    command(store, "record_contact", first["case_id"])
    command(store, "agree_payment_plan", first["case_id"])
    command(store, "record_paid_in_full", first["case_id"])
    # Closed: the next report for the tenancy is a new case.
    third = report(store)
    assert third["opened"] is True and third["case_id"] != first["case_id"]


def test_fronten_report_without_tenancy_updates_the_citizens_open_case(store):
    first = report(store)
    update = report(store, actor=FRONTEN, source="fronten", association_id=None,
                    tenancy_ref=None, amount_dkk=None, months_behind=None,
                    pakrav_sent_on=None, pakrav_deadline=None)
    assert update["case_id"] == first["case_id"]
    assert update["level"] == "reported"  # the citizen is talking to Fronten: contact
    assert update["first_contact_at"] is not None


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"amount_dkk": Decimal("-1")}, "amount_dkk", "housing.amount_not_positive"),
        ({"amount_dkk": Decimal("2000000")}, "amount_dkk", "housing.amount_absurd"),
        ({"months_behind": 0}, "months_behind", "housing.months_behind_out_of_range"),
        ({"pakrav_deadline": dt.date(2025, 3, 1)}, "pakrav_deadline",
         "housing.pakrav_deadline_before_pakrav"),
        ({"citizen_ref": None}, "citizen_ref", "housing.tenant_unidentified"),
        # An association names itself only, and reports as an association.
        ({"association_id": "bf-other"}, "association_id",
         "housing.association_reports_for_itself"),
        ({"source": "fronten", "tenancy_ref": None}, "source",
         "housing.association_reports_as_association"),
        # Fronten's reports are checked against the register too.
        ({"actor": FRONTEN, "association_id": "bf-unknown"}, "association_id",
         "housing.unknown_association"),
        ({"actor": FRONTEN, "tenancy_ref": "T-7-1"}, "tenancy_ref",
         "housing.tenancy_owned_by_other_association"),
        # Nobody else reports arrears.
        ({"actor": Actor("staff", "mette", roles=["tovholder"])}, "actor", "not_allowed"),
    ],
)
def test_bad_report_writes_and_publishes_nothing(store, changes, field, rule):
    with pytest.raises(DomainError) as err:
        report(store, **changes)
    assert (err.value.field, err.value.rule) == (field, rule)
    assert count(store.engine, "arrears_cases") == 0
    assert count(store.engine, "outbox") == 0
    assert count(store.engine, "deadlines") == 0
    assert count(store.engine, "access_log") == 0
    assert count(store.engine, "refused_reports") == 0  # bad input is not a probe


def test_refused_command_leaves_case_deadlines_and_outbox_unchanged(store):
    case = report(store, termination_on=dt.date(2025, 3, 4))
    assert case["level"] == "termination_urgent"
    before = (outbox_messages(store.engine), open_deadlines(store, case["case_id"]))
    with store.engine.connect() as conn:
        state = conn.execute(text("select state, version from arrears_cases")).one()
    with pytest.raises(DomainError) as err:
        command(store, "record_paid_in_full", case["case_id"])
    assert err.value.rule == "housing.deescalation_skips_step"
    assert (outbox_messages(store.engine), open_deadlines(store, case["case_id"])) == before
    with store.engine.connect() as conn:
        assert conn.execute(text("select state, version from arrears_cases")).one() == state
    with pytest.raises(NotFound):
        command(store, "record_contact", str(uuid.uuid4()))


def test_escalations_are_addressed_to_the_tovholder_while_the_pathway_has_one(store):
    citizen = uuid.UUID(int=7)
    pathway = uuid.uuid4()

    def apply(fn, event):
        with store.unit_of_work() as uow:
            fn(uow, as_delivered(event))
            uow.commit()

    case = report(store, citizen_ref=citizen, tenancy_ref="T-1-2")
    opened_asks = messages_of(store, "housing.case_escalated")[-1]["asks"]
    assert {"addressee": "fronten", "request": "contact_citizen"} in opened_asks

    apply(handlers.record_pathway_opened, pathway_opened(citizen, "m-social", pathway_id=pathway))
    command(store, "propose_payment_plan", case["case_id"])  # not a level change
    store.clock.set(dt.datetime(2025, 3, 20, 9, 0, tzinfo=dt.UTC))  # type: ignore[attr-defined]
    handlers.sweep(store, SETTINGS, store.clock.now())
    asks = messages_of(store, "housing.case_escalated")[-1]["asks"]
    assert asks == [{"addressee": "association", "request": "hold_termination"},
                    {"addressee": "tovholder", "request": "make_plan_or_apply_for_help"}]

    apply(handlers.record_tovholder_handed_over, coordination_event(
        "coordination.tovholder_handed_over",
        {"pathway_id": pathway, "citizen_ref": citizen, "old_tovholder_id": "m-social",
         "new_tovholder_id": "m-upoint", "new_tovholder_name": "Ulla", "new_tovholder_agency":
         "upoint", "new_tovholder_email": None, "handed_over_at": T0 + dt.timedelta(days=16)},
        T0 + dt.timedelta(days=16)))
    assert handlers.get_case(store, SETTINGS, actor=OFFICER,
                             case_id=uuid.UUID(case["case_id"]))["has_tovholder"] is True

    apply(handlers.record_pathway_closed, coordination_event(
        "coordination.pathway_closed",
        {"pathway_id": pathway, "citizen_ref": citizen, "closed_at": T0 + dt.timedelta(days=17)},
        T0 + dt.timedelta(days=17)))
    # An opening delivered late (after the closing) does not reopen the pathway.
    apply(handlers.record_pathway_opened, pathway_opened(citizen, "m-social", pathway_id=pathway))
    command(store, "register_termination", case["case_id"], termination_on=None)
    asks = messages_of(store, "housing.case_escalated")[-1]["asks"]
    assert asks == [{"addressee": "association", "request": "hold_eviction"},
                    {"addressee": "fronten", "request": "involve_boligsocial_team"}]


def test_unidentified_tenant_is_matched_by_intake_and_match_data_is_never_stored(store):
    calls: list[dict[str, Any]] = []
    citizen = uuid.uuid4()

    def matcher(**kwargs: Any) -> str | None:
        calls.append(kwargs)
        return str(citizen)

    match = {"cpr": "0101901234", "name": "Hemmelig Lejer", "birth_date": dt.date(1990, 1, 1)}
    case = report(store, matcher, citizen_ref=None, match=match)
    assert calls == [{"actor": "partner:bf-ballerup", **match}]
    assert "citizen_ref" not in case
    assert staff_view(store, case["case_id"])["citizen_ref"] == str(citizen)

    unmatched = report(store, lambda **_: None, citizen_ref=None, match=match,
                       tenancy_ref="T-1-3")
    assert staff_view(store, unmatched["case_id"])["citizen_identified"] is False
    opened = [m for m in messages_of(store, "housing.case_opened")
              if m["case_id"] == unmatched["case_id"]]
    assert opened[0]["citizen_match_pending"] is True

    stored = all_text(store.engine)
    assert "0101901234" not in stored and "Hemmelig" not in stored and "1990-01-01" not in stored


def test_registering_a_tenancy_another_association_owns_is_refused(store):
    taken = {**OTHER_ASSOCIATION, "association_id": "bf-third",
             "departments": [{"number": "1", "name": "X", "tenancy_refs": ["T-1-1"]}]}
    with store.unit_of_work() as uow, pytest.raises(DomainError) as err:
        handlers.register_association(uow, actor="staff:test", **taken)
    assert err.value.rule == "housing.tenancy_owned_by_two_associations"
    assert count(store.engine, "associations") == 2
    # Re-registering an association replaces its afdelinger and tenancies.
    moved = {**OTHER_ASSOCIATION,
             "departments": [{"number": "8", "name": "Øst", "tenancy_refs": ["T-8-1"]}]}
    with store.unit_of_work() as uow:
        handlers.register_association(uow, actor="staff:test", **moved)
    assert count(store.engine, "tenancies", "where association_id = 'bf-other'") == 1
    assert count(store.engine, "tenancies", "where tenancy_ref = 'T-7-1'") == 0


def test_report_per_association_and_period(store):
    kept = report(store)
    command(store, "record_contact", kept["case_id"])
    store.clock.set(dt.datetime(2025, 3, 21, 9, 0, tzinfo=dt.UTC))  # type: ignore[attr-defined]
    handlers.sweep(store, SETTINGS, store.clock.now())  # påkrav deadline: escalated
    command(store, "agree_payment_plan", kept["case_id"])
    command(store, "record_paid_in_full", kept["case_id"])
    waiting = report(store, tenancy_ref="T-1-2", citizen_ref=uuid.UUID(int=2),
                     pakrav_sent_on=dt.date(2025, 3, 19), pakrav_deadline=dt.date(2025, 4, 10))
    assert waiting["level"] == "outreach_due"
    # Reported after its påkrav deadline ran out: escalated at once, not at the next sweep.
    late = report(store, tenancy_ref="T-1-3", citizen_ref=uuid.UUID(int=3))
    assert late["level"] == "escalated_to_association"

    result = handlers.report_for_association(
        store, SETTINGS, actor=FRONTEN, association_id="bf-ballerup",
        start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31))
    assert result["cases"] == 3
    assert result["levels_reached"]["escalated_to_association"] == 2
    assert result["levels_reached"]["outreach_due"] == 1
    assert result["evictions_avoided"] == 1
    assert result["cases_with_contact"] == 1 and result["cases_without_contact"] == 2
    assert result["median_seconds_to_first_contact"] == 0  # contact at the report's minute

    with pytest.raises(DomainError) as err:
        handlers.report_for_association(store, SETTINGS, actor=FRONTEN, association_id="bf-nope",
                                        start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31))
    assert err.value.rule == "housing.unknown_association"
    unknown = err.value.as_problem()
    with pytest.raises(DomainError) as err:
        handlers.report_for_association(store, SETTINGS, actor=FRONTEN,
                                        association_id="bf-ballerup",
                                        start=dt.date(2025, 3, 31), end=dt.date(2025, 3, 1))
    assert err.value.rule == "report.period_end_before_start"
    # An association reads its own report; another association's answers exactly like
    # an unknown association.
    own = handlers.report_for_association(
        store, SETTINGS, actor="partner:bf-ballerup", association_id="bf-ballerup",
        start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31))
    assert own == result
    assert AssociationReportResult().validate(own) == {}
    with pytest.raises(DomainError) as err:
        handlers.report_for_association(store, SETTINGS, actor="partner:bf-other",
                                        association_id="bf-ballerup",
                                        start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31))
    assert {**err.value.as_problem()} == unknown
