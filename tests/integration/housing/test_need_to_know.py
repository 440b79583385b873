"""Need-to-know and partner isolation on real databases (SQLite and PostgreSQL): who
reads and changes which case, the takeover rule for cases Fronten opened, the audit of
refused reports, a housing association's own list, the access log and access report."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from contracts.actor import Actor
from contracts.vocabulary import Closure
from services.common.clock import FixedClock
from services.common.db import Store, make_engine
from services.common.errors import DomainError, NotFound
from services.common.migrate import upgrade
from services.common.worklist import InvalidCursor
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
    pathway_opened,
)

pytestmark = pytest.mark.integration

SETTINGS = ladder_settings({})
ACCESS_LOG = metadata.tables["access_log"]

OFFICER = Actor("staff", "lone", roles=["housing_officer"])
FRONTEN = Actor("staff", "anne", roles=["fronten"])
METTE = Actor("staff", "mette", roles=["tovholder"])  # the citizen's tovholder
OLE = Actor("staff", "ole", roles=["tovholder"])  # another citizen's tovholder
OPERATOR = Actor("staff", "ops", roles=["operator"])
BALLERUP = Actor("partner", "bf-ballerup", roles=["partner"], partner_id="bf-ballerup")
OTHER = Actor("partner", "bf-other", roles=["partner"], partner_id="bf-other")
NOTIFICATIONS = Actor.from_label("service:notifications")

CITIZEN = uuid.UUID("0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80")


@pytest.fixture
def store(db_url):
    upgrade("housing", db_url)
    engine = make_engine(db_url)
    store = Store(engine, metadata, "housing", FixedClock(T0))
    for association in (ASSOCIATION, OTHER_ASSOCIATION):
        register(store, association)
    yield store
    engine.dispose()


def register(store: Store, association: dict[str, Any]) -> None:
    with store.unit_of_work() as uow:
        handlers.register_association(uow, actor="staff:ops", **association)


class Matcher:
    """Stands in for intake's match_citizen: records every call."""

    def __init__(self, found: uuid.UUID | None = CITIZEN) -> None:
        self.found, self.calls = found, []

    def __call__(self, **kwargs: Any) -> str | None:
        self.calls.append(kwargs)
        return str(self.found) if self.found else None


def report(store: Store, actor: Actor = BALLERUP, matcher: Any = None,
           **changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "actor": actor, "source": "association", "association_id": None,
        "tenancy_ref": "T-1-1", "citizen_ref": CITIZEN, "match": None,
        "amount_dkk": Decimal("12500.00"), "months_behind": 2,
        "pakrav_sent_on": dt.date(2025, 3, 3), "pakrav_deadline": dt.date(2025, 3, 20),
        "termination_on": None, "eviction_date": None,
    }
    args.update(changes)
    return handlers.report_arrears(store, SETTINGS, matcher or Matcher(), **args)


def fronten_report(store: Store, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"source": "fronten", "amount_dkk": None, "months_behind": None,
                              "pakrav_sent_on": None, "pakrav_deadline": None}
    values.update(changes)
    return report(store, actor=FRONTEN, **values)


def read(store: Store, actor: Any, case_id: str) -> dict[str, Any]:
    return handlers.get_case(store, SETTINGS, actor=actor, case_id=uuid.UUID(case_id))


def refused_read(store: Store, actor: Any, case_id: str) -> dict[str, Any]:
    with pytest.raises(NotFound) as err:
        read(store, actor, case_id)
    return err.value.as_problem()


def log_rows(store: Store, **where: Any) -> list[Any]:
    query = select(ACCESS_LOG).order_by(ACCESS_LOG.c.id)
    for key, value in where.items():
        query = query.where(ACCESS_LOG.c[key] == value)
    with store.engine.connect() as conn:
        return list(conn.execute(query).all())


def deliver(store: Store, handler: Any, event: Any) -> None:
    with store.unit_of_work() as uow:
        handler(uow, as_delivered(event), SETTINGS)
        uow.commit()


def make_tovholder(store: Store, citizen: uuid.UUID, staff_id: str,
                   pathway: uuid.UUID | None = None) -> uuid.UUID:
    pathway = pathway or uuid.uuid4()
    deliver(store, handlers.record_pathway_opened,
            pathway_opened(citizen, staff_id, pathway_id=pathway))
    return pathway


# ------------------------------------------------------------------------ reading


def test_each_role_reads_the_cases_it_needs_to_know_and_no_other(store):
    case_id = report(store)["case_id"]
    make_tovholder(store, CITIZEN, "mette")
    missing = refused_read(store, OFFICER, str(uuid.uuid4()))
    assert missing == {"errors": [{"field": "case_id", "rule": "not_found",
                                   "message": "No arrears case with this id."}]}

    for actor in (OFFICER, FRONTEN, METTE, NOTIFICATIONS):
        staff_view = read(store, actor, case_id)
        assert staff_view["citizen_ref"] == str(CITIZEN), actor
    own = read(store, BALLERUP, case_id)
    assert "citizen_ref" not in own and "amount_dkk" not in own
    assert (own["association_id"], own["tenancy_ref"], own["level"]) == (
        "bf-ballerup", "T-1-1", "outreach_due")
    # Everyone else: exactly the answer for a case that does not exist.
    for actor in (OLE, OTHER, OPERATOR, Actor("staff", "x", roles=["review_panel"]),
                  "staff:no-roles"):
        assert refused_read(store, actor, case_id) == missing, actor

    # The log has the allowed reads, each with its purpose; the refused ones left none.
    reads = log_rows(store, action="read")
    assert [(r.actor, r.purpose, r.citizen_ref) for r in reads] == [
        (str(actor), "opfølgning på huslejerestance", CITIZEN)
        for actor in (OFFICER, FRONTEN, METTE, NOTIFICATIONS, BALLERUP)]


def test_a_tovholder_loses_the_case_with_the_handover_and_when_the_pathway_closes(store):
    case_id = report(store)["case_id"]
    pathway = make_tovholder(store, CITIZEN, "mette")
    assert read(store, METTE, case_id)["case_id"] == case_id
    deliver(store, handlers.record_tovholder_handed_over, coordination_event(
        "coordination.tovholder_handed_over",
        {"pathway_id": pathway, "citizen_ref": CITIZEN, "old_tovholder_id": "mette",
         "new_tovholder_id": "ole", "new_tovholder_name": "Ole", "new_tovholder_agency":
         "social_services", "new_tovholder_email": None,
         "handed_over_at": T0 + dt.timedelta(days=1)}, T0 + dt.timedelta(days=1)))
    assert refused_read(store, METTE, case_id)["errors"][0]["rule"] == "not_found"
    assert read(store, OLE, case_id)["case_id"] == case_id
    deliver(store, handlers.record_pathway_closed, coordination_event(
        "coordination.pathway_closed",
        {"pathway_id": pathway, "citizen_ref": CITIZEN, "closed_at": T0 + dt.timedelta(days=2)},
        T0 + dt.timedelta(days=2)))
    assert refused_read(store, OLE, case_id)["errors"][0]["rule"] == "not_found"


# ----------------------------------------------------------------------- changing


def test_only_the_municipality_changes_a_case_and_a_tovholder_only_their_citizens(store):
    case_id = report(store)["case_id"]
    make_tovholder(store, CITIZEN, "mette")

    def run(actor: Any, name: str = "record_contact") -> dict[str, Any]:
        return handlers.run_command(store, SETTINGS, name, actor=actor,
                                    case_id=uuid.UUID(case_id))

    before = count(store.engine, "access_log"), count(store.engine, "outbox")
    for actor in (BALLERUP, OPERATOR):
        with pytest.raises(DomainError) as err:
            run(actor)
        assert (err.value.field, err.value.rule) == ("actor", "not_allowed")
    with pytest.raises(NotFound) as err:
        run(OLE)  # another citizen's tovholder: as if the case did not exist
    assert err.value.as_problem() == refused_read(store, OLE, str(uuid.uuid4()))
    assert (count(store.engine, "access_log"), count(store.engine, "outbox")) == before

    assert run(METTE)["first_contact_at"] is not None
    change = log_rows(store, action="change")[-1]
    assert (change.actor, change.roles, change.purpose) == (
        "staff:mette", "tovholder", "opfølgning på huslejerestance")


# ------------------------------------------------ partner isolation and the takeover


def test_the_takeover_of_a_case_fronten_opened_is_impossible(store):
    """Issue 16: Fronten opens a case on a tenancy no association has registered; an
    association then reports the same tenancy with the tenant's CPR number."""
    frontens = fronten_report(store, tenancy_ref="T-99-1")["case_id"]
    matcher = Matcher()
    with pytest.raises(DomainError) as takeover:
        report(store, matcher=matcher, tenancy_ref="T-99-1", citizen_ref=None,
               match={"cpr": "0101901234"})
    assert (takeover.value.field, takeover.value.rule) == (
        "tenancy_ref", "housing.tenancy_not_registered_to_association")
    assert matcher.calls == []  # the CPR number never left for intake
    staff_view = read(store, OFFICER, frontens)
    assert staff_view["association_id"] is None and staff_view["amount_dkk"] is None
    assert refused_read(store, BALLERUP, frontens)["errors"][0]["rule"] == "not_found"
    assert count(store.engine, "arrears_cases") == 1
    assert "0101901234" not in all_text(store.engine)

    # Any refusal reads the same: unregistered, another association's tenancy, or a
    # tenancy whose open case is another association's. Nothing tells them apart.
    with pytest.raises(DomainError) as others:
        report(store, tenancy_ref="T-7-1")  # registered to bf-other
    fronten_report(store, association_id="bf-other", tenancy_ref="T-50-1",
                   citizen_ref=uuid.uuid4())
    register(store, {**ASSOCIATION, "departments": [
        *ASSOCIATION["departments"], {"number": "50", "name": "Ny", "tenancy_refs": ["T-50-1"]}]})
    with pytest.raises(DomainError) as case_of_other:
        report(store, tenancy_ref="T-50-1")
    assert (takeover.value.as_problem() == others.value.as_problem()
            == case_of_other.value.as_problem())
    assert "bf-" not in takeover.value.message

    # Audited: who tried which of its references, when and why (for the municipality).
    page = list_refused(store, OFFICER)
    assert [(i["details"]["association_id"], i["details"]["tenancy_ref"], i["reason_code"])
            for i in page["items"]] == [
        ("bf-ballerup", "T-50-1", "case_of_other_association"),
        ("bf-ballerup", "T-7-1", "tenancy_of_other_association"),
        ("bf-ballerup", "T-99-1", "tenancy_not_registered"),
    ]
    unregistered = page["items"][2]
    assert unregistered["reason"].startswith(
        "Ballerup Boligforening har meldt huslejerestance for lejemål T-99-1, som ikke er "
        "registreret i Samspil.")
    assert unregistered["details"]["reported_by"] == "partner:bf-ballerup"
    assert unregistered["citizen_ref"] is None
    assert count(store.engine, "arrears_cases") == 2  # Fronten's two, nothing more


def test_an_association_attaches_to_a_case_fronten_opened_through_its_registered_tenancy(store):
    frontens = fronten_report(store, tenancy_ref="T-1-2")["case_id"]
    assert refused_read(store, BALLERUP, frontens)["errors"][0]["rule"] == "not_found"
    joined = report(store, tenancy_ref="T-1-2")
    assert (joined["case_id"], joined["opened"]) == (frontens, False)
    assert read(store, BALLERUP, frontens)["association_id"] == "bf-ballerup"
    assert refused_read(store, OTHER, frontens)["errors"][0]["rule"] == "not_found"
    assert count(store.engine, "refused_reports") == 0


def test_refused_reports_are_for_officers_and_operators_and_page_newest_first(store):
    for n in range(3):
        with pytest.raises(DomainError):
            report(store, actor=OTHER, tenancy_ref=f"T-X-{n}")
    first = list_refused(store, OPERATOR, limit=2)
    second = list_refused(store, OPERATOR, cursor=first["next_cursor"], limit=2)
    assert [i["details"]["tenancy_ref"] for i in first["items"] + second["items"]] == [
        "T-X-2", "T-X-1", "T-X-0"]
    assert second["next_cursor"] is None
    for actor in (FRONTEN, METTE, BALLERUP):
        with pytest.raises(DomainError) as err:
            list_refused(store, actor)
        assert err.value.rule == "not_allowed"


def list_refused(store: Store, actor: Any, **args: Any) -> dict[str, Any]:
    with store.unit_of_work() as uow:
        return handlers.refused_reports(uow, actor=actor, **args)


# ----------------------------------------------------------- the association's list


def association_page(store: Store, actor: Any = BALLERUP, **args: Any) -> dict[str, Any]:
    with store.unit_of_work() as uow:
        return handlers.association_cases(uow, SETTINGS, actor=actor, **args)


def test_an_association_lists_its_own_cases_by_the_date_that_matters_to_it(store):
    late = report(store, tenancy_ref="T-1-1", pakrav_deadline=dt.date(2025, 4, 30))
    soon = report(store, tenancy_ref="T-1-2", citizen_ref=uuid.uuid4())  # påkrav 20 March
    evicted = report(store, tenancy_ref="T-1-3", citizen_ref=uuid.uuid4(),
                     eviction_date=dt.date(2025, 3, 28))
    theirs = report(store, actor=OTHER, tenancy_ref="T-7-1", citizen_ref=uuid.uuid4())
    closed = fronten_report(store, tenancy_ref=None, citizen_ref=uuid.uuid4())  # no association

    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = association_page(store, limit=1, cursor=cursor)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i["subject_id"] for i in items] == [
        soon["case_id"], evicted["case_id"], late["case_id"]]
    first = items[0]
    assert (first["kind"], first["citizen_ref"], first["due_on"]) == (
        "association_case", None, "2025-03-20")
    assert (first["reason_code"], first["reason"]) == (
        "outreach_started", "Restancen er registreret. Kommunen kontakter lejeren.")
    assert items[1]["reason_code"] == "postpone_eviction_requested"
    assert items[1]["details"]["eviction_date"] == "2025-03-28"
    assert items[1]["details"]["requested"] == "postpone_eviction"
    text = repr(items)
    assert str(CITIZEN) not in text and "12500" not in text
    assert [i["subject_id"] for i in association_page(store, OTHER)["items"]] == [
        theirs["case_id"]]
    assert closed["case_id"] not in text

    # Closed cases: its own, most recently closed first.
    handlers.run_command(store, SETTINGS, "close_case", actor=OFFICER,
                         case_id=uuid.UUID(late["case_id"]), closure=Closure.TENANCY_ENDED)
    done = association_page(store, status="closed")
    assert [(i["subject_id"], i["reason_code"], i["due_on"]) for i in done["items"]] == [
        (late["case_id"], "case_closed", None)]

    # One search per page, naming the list; the staff's list and its cursors are others'.
    searches = log_rows(store, action="search")
    assert {(r.actor, r.criterion, r.purpose) for r in searches} == {
        ("partner:bf-ballerup", "housing.association_cases.open",
         "boligforeningens liste over egne sager"),
        ("partner:bf-other", "housing.association_cases.open",
         "boligforeningens liste over egne sager"),
        ("partner:bf-ballerup", "housing.association_cases.closed",
         "boligforeningens liste over egne sager"),
    }
    with store.unit_of_work() as uow:
        staff_cursor = handlers.case_worklist(uow, SETTINGS, actor=OFFICER,
                                              limit=1)["next_cursor"]
    with pytest.raises(InvalidCursor):
        association_page(store, cursor=staff_cursor)
    for actor in (OFFICER, FRONTEN):
        with pytest.raises(DomainError) as err:
            association_page(store, actor)
        assert (err.value.field, err.value.rule) == ("actor", "not_allowed")


# --------------------------------------------------------------- the access report


def test_fronten_answers_the_citizens_access_request_and_the_answer_is_logged(store):
    case_id = report(store)["case_id"]
    make_tovholder(store, CITIZEN, "mette")
    read(store, Actor("staff", "mette", roles=["tovholder"], purpose="forberedelse af møde"),
         case_id)

    with store.unit_of_work() as uow:
        entries = handlers.access_report(uow, actor=FRONTEN, citizen_ref=CITIZEN)
    assert [(e["actor"], e["action"], e["action_text"], e["purpose"]) for e in entries] == [
        ("partner:bf-ballerup", "change", "ændret", "indberetning af huslejerestance"),
        ("partner:bf-ballerup", "disclosure", "videregivet",
         "besked til boligforeningen om lejemålet"),
        ("partner:bf-ballerup", "disclosure", "videregivet",
         "besked til boligforeningen om lejemålet"),
        ("staff:mette", "read", "læst", "forberedelse af møde"),
    ]
    assert {e["service"] for e in entries} == {"housing"}
    assert entries[-1]["roles"] == ["tovholder"] and entries[-1]["subject_id"] == case_id
    own = log_rows(store, what="access_log")
    assert [(r.actor, r.action, r.citizen_ref, r.purpose) for r in own] == [
        ("staff:anne", "read", CITIZEN, "borgerens anmodning om indsigt")]
    for actor in (OFFICER, METTE, BALLERUP):
        with store.unit_of_work() as uow, pytest.raises(DomainError) as err:
            handlers.access_report(uow, actor=actor, citizen_ref=CITIZEN)
        assert err.value.rule == "not_allowed"
