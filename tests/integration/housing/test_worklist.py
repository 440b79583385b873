"""The housing officers' worklist on real databases (SQLite and PostgreSQL): the order
over several pages, the filters, the cursor's errors, and the access log of every case
read, change, disclosure and list search. Also the migration that stores the sort key."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from contracts.actor import Actor
from contracts.vocabulary import Closure
from services.common.clock import FixedClock
from services.common.db import Store, make_engine
from services.common.errors import Conflict, DomainError
from services.common.migrate import upgrade
from services.common.worklist import InvalidCursor, encode_cursor
from services.housing import case_list, handlers
from services.housing.ladder import ArrearsCase, ArrearsReport, ReportSource
from services.housing.models import ArrearsCaseRow, metadata
from services.housing.settings import ladder_settings
from tests.integration.housing.support import (
    ASSOCIATION,
    OTHER_ASSOCIATION,
    T0,
    as_delivered,
    pathway_opened,
)

pytestmark = pytest.mark.integration

SETTINGS = ladder_settings({})
ACCESS_LOG = metadata.tables["access_log"]
OFFICER = Actor("staff", "lone", roles=["housing_officer"])
FRONTEN = Actor("staff", "fronten-anne", roles=["fronten"])
FAR = {"pakrav_sent_on": dt.date(2025, 3, 3), "pakrav_deadline": dt.date(2025, 6, 2)}


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
    raise AssertionError("intake is not asked when the citizen_ref is known")


def report(store: Store, actor: str = "partner:bf-ballerup", **changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "actor": actor, "source": "association",
        "association_id": "bf-ballerup", "tenancy_ref": "T-1-1",
        "citizen_ref": uuid.uuid4(), "match": None,
        "amount_dkk": Decimal("12500.00"), "months_behind": 2,
        "pakrav_sent_on": dt.date(2025, 3, 3), "pakrav_deadline": dt.date(2025, 3, 20),
        "termination_on": None, "eviction_date": None,
    }
    args.update(changes)
    case = handlers.report_arrears(store, SETTINGS, no_match, **args)
    # An association is shown its view of the case (no citizen): remember whom it is for.
    return {**case, "citizen_ref": str(args["citizen_ref"])}


def command(store: Store, name: str, case_id: str, actor: str = OFFICER,
            **args: Any) -> dict[str, Any]:
    return handlers.run_command(store, SETTINGS, name, actor=actor,
                                case_id=uuid.UUID(case_id), **args)


def page(store: Store, actor: str = OFFICER, **args: Any) -> dict[str, Any]:
    with store.unit_of_work() as uow:
        return handlers.case_worklist(uow, SETTINGS, actor=actor, **args)


def read_all(store: Store, limit: int, **filters: Any) -> tuple[list[dict[str, Any]], int]:
    """Every item, page by page; (items, pages)."""
    items: list[dict[str, Any]] = []
    cursor, pages = None, 0
    while True:
        result = page(store, cursor=cursor, limit=limit, **filters)
        items += result["items"]
        pages += 1
        cursor = result["next_cursor"]
        if cursor is None:
            return items, pages


def log_rows(store: Store, **where: Any) -> list[Any]:
    query = select(ACCESS_LOG).order_by(ACCESS_LOG.c.id)
    for key, value in where.items():
        query = query.where(ACCESS_LOG.c[key] == value)
    with store.engine.connect() as conn:
        return list(conn.execute(query).all())


@pytest.fixture
def cases(store: Store) -> dict[str, dict[str, Any]]:
    """Five open cases and two closed ones, reported on Wednesday 5 March 2025."""
    made = {
        # Påkrav deadline 20 March: § 81 a help (28 days) comes too late. Outreach 19 March.
        "warned_late": report(store, tenancy_ref="T-1-1"),
        # Påkrav deadline 15 March (and shorter than the legal 14 days): the outreach
        # deadline is the end of 15 March.
        "warned_soon": report(store, tenancy_ref="T-1-2", pakrav_deadline=dt.date(2025, 3, 15)),
        # Far påkrav deadline: no warning; outreach 19 March.
        "other_association": report(store, actor="partner:bf-other",
                                    association_id="bf-other", tenancy_ref="T-7-1", **FAR),
        # Far påkrav deadline, then an ophævelse: the team must act within 2 hverdage.
        "terminated": report(store, tenancy_ref="T-1-3", **FAR),
        # Fronten: the citizen is in the room, no påkrav: no deadline at all.
        "quiet": report(store, actor=FRONTEN, source="fronten",
                        association_id=None, tenancy_ref=None, amount_dkk=None,
                        months_behind=None, pakrav_sent_on=None, pakrav_deadline=None),
        "closed_first": report(store, actor=FRONTEN, source="fronten",
                               association_id=None, tenancy_ref=None, **FAR),
        "closed_last": report(store, actor=FRONTEN, source="fronten",
                              association_id=None, tenancy_ref=None, **FAR),
    }
    command(store, "register_termination", made["terminated"]["case_id"], termination_on=None)
    command(store, "close_case", made["closed_first"]["case_id"], closure=Closure.TENANCY_LOST)
    store.clock.advance(dt.timedelta(hours=1))  # type: ignore[attr-defined]
    command(store, "close_case", made["closed_last"]["case_id"], closure=Closure.TENANCY_ENDED)
    store.clock.set(T0)  # type: ignore[attr-defined]
    return made


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["subject_id"] for item in items]


def names(cases: dict[str, dict[str, Any]], items: list[dict[str, Any]]) -> list[str]:
    by_id = {case["case_id"]: name for name, case in cases.items()}
    return [by_id[i] for i in ids(items)]


def test_the_list_over_three_pages_warning_first_then_the_nearest_deadline(store, cases):
    items, pages = read_all(store, limit=2)
    assert pages == 3
    assert names(cases, items) == [
        "warned_soon", "warned_late",  # the § 81 a warning first, nearest deadline first
        "terminated",  # 7 March, end of the second hverdag
        "other_association",  # outreach 19 March
        "quiet",  # no deadline: last
    ]
    first = items[0]
    assert first["kind"] == "housing_case" and first["subject_type"] == "arrears_case"
    assert first["citizen_ref"] == cases["warned_soon"]["citizen_ref"]
    assert first["reason_code"] == "processing_exceeds_pakrav_deadline"
    assert "påkravsfristen 15. marts 2025" in first["reason"]
    assert (first["due_on"], first["days_left"], first["overdue"]) == ("2025-03-15", 10, False)
    assert first["due_at"] == "2025-03-15T23:00:00+00:00"
    details = first["details"]
    assert details["help_too_late"] is True and details["warning"] == first["reason"]
    assert (details["pakrav_deadline"], details["pakrav_days_left"]) == ("2025-03-15", 10)
    assert details["next_step"] == "outreach"
    assert details["next_step_text"].startswith("Kontakt borgeren senest 15. marts 2025.")
    assert (details["level"], details["level_text"]) == ("outreach_due",
                                                        "Borgeren skal kontaktes")
    assert (details["association_id"], details["tenancy_ref"]) == ("bf-ballerup", "T-1-2")
    assert (details["amount_dkk"], details["months_behind"]) == ("12500.00", 2)

    terminated = items[2]
    assert terminated["reason_code"] == "termination_urgent"
    assert terminated["details"]["next_step"] == "termination_response"
    assert terminated["due_on"] == "2025-03-07"
    quiet = items[4]
    assert (quiet["due_on"], quiet["days_left"], quiet["details"]["next_step"]) == (
        None, None, "follow_up")
    assert quiet["details"]["pakrav_deadline"] is None


def test_filters_by_level_association_and_open_or_closed(store, cases):
    by_level, _ = read_all(store, limit=2, level="outreach_due")
    assert names(cases, by_level) == ["warned_soon", "warned_late", "other_association"]
    urgent, _ = read_all(store, limit=2, level="termination_urgent")
    assert names(cases, urgent) == ["terminated"]
    association, _ = read_all(store, limit=1, association_id="bf-ballerup")
    assert names(cases, association) == ["warned_soon", "warned_late", "terminated"]
    both, _ = read_all(store, limit=1, association_id="bf-ballerup", level="outreach_due")
    assert names(cases, both) == ["warned_soon", "warned_late"]
    assert read_all(store, limit=5, association_id="bf-unknown") == ([], 1)

    closed, pages = read_all(store, limit=1, status="closed")
    assert pages == 2
    assert names(cases, closed) == ["closed_last", "closed_first"]  # newest first
    assert closed[0]["reason_code"] == "case_closed"
    assert closed[0]["reason"] == "Sagen er lukket: lejemålet er ophørt."
    assert closed[0]["details"]["closed_on"] == "2025-03-05"
    assert closed[0]["due_on"] is None


def test_a_case_moves_when_it_changes_never_with_the_clock(store, cases):
    first = page(store, limit=2)
    # Days pass and nothing happens to the cases: the second page follows the first.
    store.clock.set(T0 + dt.timedelta(days=2))  # type: ignore[attr-defined]
    second = page(store, limit=10, cursor=first["next_cursor"])
    assert names(cases, first["items"] + second["items"]) == [
        "warned_soon", "warned_late", "terminated", "other_association", "quiet"]
    assert second["items"][0]["days_left"] == 0  # only what the item says moved on

    # The team's deadline passes and the sweep fires it: the case changed, so it moves
    # (its reminder went out; no deadline is left on it).
    store.clock.set(dt.datetime(2025, 3, 8, 9, 0, tzinfo=dt.UTC))  # type: ignore[attr-defined]
    assert handlers.sweep(store, SETTINGS, store.clock.now()) == 1
    items, _ = read_all(store, limit=10)
    # Both without a deadline now: after every case with one, in case-id order.
    assert names(cases, items)[:3] == ["warned_soon", "warned_late", "other_association"]
    assert sorted(ids(items[3:])) == ids(items[3:])
    assert set(names(cases, items[3:])) == {"terminated", "quiet"}

    # An agreed payment plan ends the warning (and its deadlines): it leaves the top.
    command(store, "agree_payment_plan", cases["warned_soon"]["case_id"])
    items, _ = read_all(store, limit=10)
    assert names(cases, items)[:2] == ["warned_late", "other_association"]
    soon = next(i for i in items if i["subject_id"] == cases["warned_soon"]["case_id"])
    assert soon["details"]["help_too_late"] is False and soon["due_on"] is None


def test_a_bad_or_foreign_cursor_and_partners_are_refused(store, cases):
    with pytest.raises(InvalidCursor) as bad:
        page(store, cursor="not-a-cursor")
    assert (bad.value.field, bad.value.rule) == ("cursor", "cursor")
    open_cursor = page(store, limit=1)["next_cursor"]
    with pytest.raises(InvalidCursor):
        page(store, cursor=open_cursor, status="closed")  # another list's cursor
    # Opaque but not secret: a key re-encoded by hand with other types is refused too.
    for forged in (("1", T0, uuid.uuid4()), (True, T0, uuid.uuid4()), (1, "x", uuid.uuid4()),
                   (1, T0, "not-a-uuid")):
        with pytest.raises(InvalidCursor):
            page(store, cursor=encode_cursor(forged, handlers.WORKLIST_OPEN))
    with pytest.raises(DomainError) as status:
        page(store, status="pending")
    assert (status.value.field, status.value.rule) == ("status",
                                                       "housing.worklist_status_unknown")
    with pytest.raises(DomainError) as partner:
        page(store, actor=Actor("partner", "bf-ballerup", roles=["partner"],
                                partner_id="bf-ballerup"))
    assert (partner.value.field, partner.value.rule) == ("actor", "not_allowed")
    # A tovholder sees the cases of their own citizens one by one, not the whole list.
    with pytest.raises(DomainError) as tovholder:
        page(store, actor=Actor("staff", "mette", roles=["tovholder"]))
    assert (tovholder.value.field, tovholder.value.rule) == ("actor", "not_allowed")
    # Refused: nothing logged for the refused calls.
    searches = log_rows(store, action="search")
    assert len(searches) == 1  # the one page that was read


def test_every_read_change_disclosure_and_search_is_logged(store):
    citizen = uuid.uuid4()
    case = report(store, citizen_ref=citizen)
    case_id = case["case_id"]
    changes = log_rows(store, subject_id=case_id, action="change")
    assert [(r.actor, r.what, r.purpose) for r in changes] == [
        ("partner:bf-ballerup", "arrears_case", "indberetning af huslejerestance")]
    assert changes[0].citizen_ref == citizen and changes[0].roles is None
    # Two statements went to the boligforening: report received, outreach started.
    disclosures = log_rows(store, subject_id=case_id, action="disclosure")
    assert [(r.actor, r.what, r.purpose, r.citizen_ref) for r in disclosures] == [
        ("partner:bf-ballerup", "partner_status", "besked til boligforeningen om lejemålet",
         citizen)] * 2

    # A read with the purpose the caller gave (the gateway or web app sets it), by the
    # citizen's tovholder (known from coordination's events).
    with store.unit_of_work() as uow:
        handlers.record_pathway_opened(uow, as_delivered(pathway_opened(citizen, "mette")))
        uow.commit()
    reader = Actor("staff", "mette", roles=["tovholder"], purpose="forberedelse af møde")
    handlers.get_case(store, SETTINGS, actor=reader, case_id=uuid.UUID(case_id))
    read = log_rows(store, action="read")
    assert [(r.actor, r.roles, r.purpose, r.citizen_ref, r.subject_id) for r in read] == [
        ("staff:mette", "tovholder", "forberedelse af møde", citizen, case_id)]

    # A change without a purpose: the Danish default.
    command(store, "record_contact", case_id, actor=OFFICER)
    contact = log_rows(store, subject_id=case_id, action="change")[-1]
    assert (contact.actor, contact.roles, contact.purpose) == (
        "staff:lone", "housing_officer", "opfølgning på huslejerestance")

    # A refused command logs nothing.
    before = len(log_rows(store))
    with pytest.raises(Conflict):
        command(store, "withdraw_termination", case_id)
    assert len(log_rows(store)) == before

    # A deadline fired by the sweep is a change by the sweep.
    store.clock.set(dt.datetime(2025, 3, 21, 9, 0, tzinfo=dt.UTC))  # type: ignore[attr-defined]
    assert handlers.sweep(store, SETTINGS, store.clock.now()) == 1
    swept = log_rows(store, subject_id=case_id, action="change")[-1]
    assert (swept.actor, swept.purpose) == ("housing:sweep", "frist i sag om huslejerestance")

    # One search per page of the list, naming the list and its filters, no citizen.
    page(store, limit=1, association_id="bf-ballerup", level="escalated_to_association")
    page(store, actor=Actor("staff", "lone", roles=["housing_officer"],
                            purpose="ugentlig gennemgang"), status="closed")
    searches = log_rows(store, action="search")
    assert [(r.actor, r.what, r.criterion, r.purpose, r.citizen_ref) for r in searches] == [
        ("staff:lone", "arrears_case",
         "housing.cases.open level=escalated_to_association association_id=bf-ballerup",
         "arbejdsliste over huslejerestancer", None),
        ("staff:lone", "arrears_case", "housing.cases.closed", "ugentlig gennemgang", None),
    ]


#: Columns added by migrations after 0002 (the worklist's, the association list's).
LATER_COLUMNS = ("worklist_", "partner_due_on")


def test_the_migration_gives_existing_cases_their_sort_key(db_url):
    """Cases saved before the worklist existed get their stored key from their state."""
    upgrade("housing", db_url, "0002")
    now = T0.astimezone(SETTINGS.tz)

    def opened(tenancy: str, deadline: dt.date) -> ArrearsCase:
        return ArrearsCase.open(case_id=str(uuid.uuid4()), report=ArrearsReport(
            source=ReportSource.ASSOCIATION, association_id="bf-ballerup",
            tenancy_ref=tenancy, citizen_ref=str(uuid.uuid4()),
            amount_dkk=Decimal("1000"), months_behind=1,
            pakrav_sent_on=dt.date(2025, 3, 3), pakrav_deadline=deadline), now=now,
            has_tovholder=False, settings=SETTINGS)

    warned = opened("T-1", dt.date(2025, 3, 20))
    calm = opened("T-2", dt.date(2025, 6, 2))
    closed = opened("T-3", dt.date(2025, 3, 20))
    closed.record_paid_in_full(now)
    old_table = sa.table(
        "arrears_cases", *(sa.column(c.name, c.type) for c in ArrearsCaseRow.__table__.c
                           if not c.name.startswith(LATER_COLUMNS)))
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            for case in (warned, calm, closed):
                columns = {k: v for k, v in handlers.case_columns(case).items()
                           if not k.startswith(LATER_COLUMNS)}
                conn.execute(sa.insert(old_table).values(
                    id=uuid.UUID(case.case_id), source="association", reported_at=now,
                    version=1, updated_at=now, updated_by="staff:test", **columns))
        upgrade("housing", db_url)
        with engine.connect() as conn:
            stored = {str(r.id): (r.worklist_priority, r.worklist_due_at) for r in conn.execute(
                select(ArrearsCaseRow.id, ArrearsCaseRow.worklist_priority,
                       ArrearsCaseRow.worklist_due_at)).all()}
    finally:
        engine.dispose()
    for case in (warned, calm, closed):
        key = case_list.sort_key(case)
        assert stored[case.case_id] == (key.priority, key.due_at), case.tenancy_ref
    assert stored[warned.case_id][0] == case_list.PRIORITY_HELP_TOO_LATE
    assert stored[closed.case_id] == (case_list.PRIORITY_OTHER, case_list.NO_DEADLINE)


def test_the_migration_gives_existing_cases_the_association_lists_sort_key(db_url):
    """Cases saved before the association's list existed get its key from their state."""
    upgrade("housing", db_url, "0003")
    now = T0.astimezone(SETTINGS.tz)

    def opened(tenancy: str, **changes: Any) -> ArrearsCase:
        values: dict[str, Any] = {
            "source": ReportSource.ASSOCIATION, "association_id": "bf-ballerup",
            "tenancy_ref": tenancy, "citizen_ref": str(uuid.uuid4()),
            "amount_dkk": Decimal("1000"), "months_behind": 1,
            "pakrav_sent_on": dt.date(2025, 3, 3), "pakrav_deadline": dt.date(2025, 3, 20)}
        values.update(changes)
        return ArrearsCase.open(case_id=str(uuid.uuid4()), report=ArrearsReport(**values),
                                now=now, has_tovholder=False, settings=SETTINGS)

    reported = opened("T-1")  # its påkrav deadline
    escalated = opened("T-2")
    escalated.escalate_if_due(now + dt.timedelta(days=16))  # asked to hold until a day
    evicted = opened("T-3", eviction_date=dt.date(2025, 4, 2))  # the udsættelse date
    settled = opened("T-4")
    settled.agree_payment_plan(now)  # nothing the association must mind
    fronten = opened("T-5", source=ReportSource.FRONTEN, association_id=None)
    closed = opened("T-6")
    closed.record_paid_in_full(now)
    cases = (reported, escalated, evicted, settled, fronten, closed)
    old_table = sa.table("arrears_cases", *(sa.column(c.name, c.type)
                                            for c in ArrearsCaseRow.__table__.c
                                            if c.name != "partner_due_on"))
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            for case in cases:
                columns = {k: v for k, v in handlers.case_columns(case).items()
                           if k != "partner_due_on"}
                conn.execute(sa.insert(old_table).values(
                    id=uuid.UUID(case.case_id), source=case.source.value, reported_at=now,
                    version=1, updated_at=now, updated_by="staff:test", **columns))
        upgrade("housing", db_url)
        with engine.connect() as conn:
            stored = {str(r.id): r.partner_due_on for r in conn.execute(
                select(ArrearsCaseRow.id, ArrearsCaseRow.partner_due_on)).all()}
    finally:
        engine.dispose()
    for case in cases:
        assert stored[case.case_id] == case_list.partner_sort_due(case), case.tenancy_ref
    assert [stored[c.case_id] for c in cases] == [
        dt.date(2025, 3, 20), escalated.hold_until, dt.date(2025, 4, 2),
        case_list.PARTNER_NO_DUE, case_list.PARTNER_NO_DUE, case_list.PARTNER_NO_DUE]
