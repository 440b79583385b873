"""housing's use cases: load, apply the ladder, save, add outbox events, commit.

A case is loaded with a row lock (PostgreSQL; SQLite serialises writers with BEGIN
IMMEDIATE), rebuilt from its stored state, told whether its citizen has a tovholder
(from the projection of coordination's events), changed by one domain command, and
saved with its deadlines and its outgoing messages in the same transaction. A refused
command raises before the commit: nothing is written, nothing is published.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts.actor import ActorKind
from contracts.envelope import Envelope
from services.common import access, deadlines, worklist
from services.common.access import Action
from services.common.db import Store, UnitOfWork
from services.common.errors import DomainError, NotFound
from services.common.localtime import local_day
from services.housing import case_list, wire
from services.housing.ladder import (
    ArrearsCase,
    ArrearsReport,
    Closure,
    HelpParagraph,
    HousingEvent,
    LadderSettings,
    ReportSource,
    validate_report,
)
from services.housing.models import (
    ArrearsCaseRow,
    Association,
    Department,
    PathwayTovholder,
    Tenancy,
)
from services.housing.partners import Department as DomainDepartment
from services.housing.partners import HousingAssociation, PartnerRegistry
from services.housing.reports import ReportPeriod, association_report

log = logging.getLogger(__name__)

#: Deadline rows of housing are `housing.<DeadlineKind>` with the case id as subject.
KIND_PREFIX = "housing."

#: Asks intake for a citizen_ref: (actor, cpr, name, birth_date) -> citizen_ref or None.
MatchCitizen = Callable[..., str | None]

#: Who changes a case when one of its deadlines fires.
SWEEP_ACTOR = "housing:sweep"

# Why a case was read or changed, for the access log when the caller gives no purpose:
# the citizen reads these when asking who looked at their data and why.
PURPOSE_REPORT = "indberetning af huslejerestance"
PURPOSE_CASE = "opfølgning på huslejerestance"
PURPOSE_DEADLINE = "frist i sag om huslejerestance"
PURPOSE_WORKLIST = "arbejdsliste over huslejerestancer"
PURPOSE_PARTNER_STATUS = "besked til boligforeningen om lejemålet"

#: What the access log calls an arrears case.
WHAT_CASE = "arrears_case"


def purpose_of(actor: str, default: str) -> str:
    """The purpose the caller gave (the gateway or web app sets it on the actor), or
    the use case's Danish default."""
    given: str | None = getattr(actor, "purpose", None)
    return given or default

# ------------------------------------------------------------------------ associations


def _associations(session: Session, ids: Iterable[str]) -> list[HousingAssociation]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    rows = session.scalars(
        select(Association).where(Association.association_id.in_(wanted))
    ).all()
    departments = session.scalars(
        select(Department).where(Department.association_id.in_(wanted))
    ).all()
    tenancies = session.scalars(select(Tenancy).where(Tenancy.association_id.in_(wanted))).all()
    refs: dict[tuple[str, str], set[str]] = {}
    for tenancy in tenancies:
        key = (tenancy.association_id, tenancy.department_number)
        refs.setdefault(key, set()).add(tenancy.tenancy_ref)
    return [
        HousingAssociation(
            row.association_id,
            row.name,
            cvr=row.cvr,
            departments=tuple(
                DomainDepartment(
                    d.number, d.name, frozenset(refs.get((d.association_id, d.number), ()))
                )
                for d in departments
                if d.association_id == row.association_id
            ),
        )
        for row in rows
    ]


def register_association(
    uow: UnitOfWork,
    *,
    actor: str,
    association_id: str,
    name: str,
    cvr: str | None,
    delivery: str,
    departments: list[dict[str, Any]],
) -> dict[str, Any]:
    """Register a housing association, or replace its name, CVR and afdelinger.

    Refused (`housing.tenancy_owned_by_two_associations`) when one of its tenancies is
    registered by another association."""
    now = uow.clock.now()
    association = HousingAssociation(
        association_id,
        name,
        cvr=cvr,
        departments=tuple(
            DomainDepartment(
                d["number"], d["name"], frozenset(ref.strip() for ref in d["tenancy_refs"])
            )
            for d in departments
        ),
    )
    refs = {ref for d in association.departments for ref in d.tenancy_refs}
    session = uow.session
    others = session.scalars(
        select(Tenancy.association_id)
        .where(Tenancy.tenancy_ref.in_(sorted(refs)))
        .where(Tenancy.association_id != association_id)
        .distinct()
    ).all()
    PartnerRegistry([association, *_associations(session, others)])  # checks ownership
    session.execute(delete(Tenancy).where(Tenancy.association_id == association_id))
    session.execute(delete(Department).where(Department.association_id == association_id))
    row = session.get(Association, association_id)
    if row is None:
        row = Association(association_id=association_id, registered_at=now)
        session.add(row)
    row.name = association.name
    row.cvr = association.cvr
    row.delivery = delivery
    row.registered_at = now
    row.registered_by = actor
    session.flush()
    for department in association.departments:
        session.add(Department(
            association_id=association_id, number=department.number, name=department.name
        ))
        for ref in sorted(department.tenancy_refs):
            session.add(Tenancy(
                tenancy_ref=ref, association_id=association_id,
                department_number=department.number,
            ))
    uow.commit()
    return {
        "association_id": association_id,
        "name": association.name,
        "delivery": delivery,
        "departments": len(association.departments),
        "tenancies": len(refs),
    }


def _check_partner(session: Session, report: ArrearsReport) -> None:
    """Unknown association, or a tenancy another association owns: DomainError."""
    if report.association_id is None:
        return
    ids = {report.association_id}
    owner = session.get(Tenancy, report.tenancy_ref.strip()) if report.tenancy_ref else None
    if owner is not None:
        ids.add(owner.association_id)
    partners = PartnerRegistry(_associations(session, ids))
    if report.tenancy_ref:
        partners.check_report(report.association_id, report.tenancy_ref)
    else:
        partners.get(report.association_id)


# ------------------------------------------------------------------------- tovholder


def has_tovholder(session: Session, citizen_ref: str | None) -> bool:
    """Does the citizen have a tovholder in an open pathway (coordination's events)?"""
    if not citizen_ref:
        return False
    found = session.execute(
        select(PathwayTovholder.pathway_id)
        .where(PathwayTovholder.citizen_ref == uuid.UUID(citizen_ref))
        .where(PathwayTovholder.closed_at.is_(None))
        .where(PathwayTovholder.tovholder_id.is_not(None))
        .limit(1)
    ).first()
    return found is not None


def record_pathway_opened(uow: UnitOfWork, event: Envelope) -> None:
    payload = event.payload
    row = uow.session.get(PathwayTovholder, payload["pathway_id"])
    if row is None:
        uow.session.add(PathwayTovholder(
            pathway_id=payload["pathway_id"],
            citizen_ref=payload["citizen_ref"],
            tovholder_id=payload["tovholder_id"],
            opened_at=payload["opened_at"],
            closed_at=None,
            changed_at=event.occurred_at,
        ))
        return
    row.opened_at = payload["opened_at"]  # a handover or closing overtook it: keep theirs
    if row.tovholder_id is None and row.closed_at is None:
        row.tovholder_id = payload["tovholder_id"]


def record_tovholder_handed_over(uow: UnitOfWork, event: Envelope) -> None:
    payload = event.payload
    row = uow.session.get(PathwayTovholder, payload["pathway_id"])
    if row is None:
        uow.session.add(PathwayTovholder(
            pathway_id=payload["pathway_id"],
            citizen_ref=payload["citizen_ref"],
            tovholder_id=payload["new_tovholder_id"],
            opened_at=None,
            closed_at=None,
            changed_at=event.occurred_at,
        ))
        return
    if event.occurred_at >= row.changed_at:
        row.tovholder_id = payload["new_tovholder_id"]
        row.changed_at = event.occurred_at


def record_pathway_closed(uow: UnitOfWork, event: Envelope) -> None:
    payload = event.payload
    row = uow.session.get(PathwayTovholder, payload["pathway_id"])
    if row is None:  # closed before we heard it open: remember, so a late opening stays closed
        uow.session.add(PathwayTovholder(
            pathway_id=payload["pathway_id"],
            citizen_ref=payload["citizen_ref"],
            tovholder_id=None,
            opened_at=None,
            closed_at=payload["closed_at"],
            changed_at=event.occurred_at,
        ))
        return
    row.closed_at = payload["closed_at"]
    row.changed_at = max(row.changed_at, event.occurred_at)


# ------------------------------------------------------------------------------ cases


def _load_row(session: Session, case_id: str | uuid.UUID) -> ArrearsCaseRow | None:
    return session.scalars(
        select(ArrearsCaseRow)
        .where(ArrearsCaseRow.id == uuid.UUID(str(case_id)))
        .with_for_update()
    ).first()


def _case(session: Session, row: ArrearsCaseRow, settings: LadderSettings) -> ArrearsCase:
    case = ArrearsCase.from_state(row.state, settings)
    case.set_has_tovholder(has_tovholder(session, case.citizen_ref))
    return case


def case_columns(case: ArrearsCase) -> dict[str, Any]:
    """The row's columns that follow from the case: its state, what queries filter on,
    and the worklist's stored sort key (services.housing.case_list)."""
    key = case_list.sort_key(case)
    return {
        "state": case.to_state(),
        "level": case.level.value,
        "association_id": case.association_id,
        "tenancy_ref": case.tenancy_ref,
        "open_tenancy_ref": case.tenancy_ref if case.is_open else None,
        "citizen_ref": uuid.UUID(case.citizen_ref) if case.citizen_ref else None,
        "closed_at": case.closed_at,
        "closure": case.closure.value if case.closure else None,
        "worklist_priority": key.priority,
        "worklist_due_at": key.due_at,
    }


def _save(
    uow: UnitOfWork,
    row: ArrearsCaseRow,
    case: ArrearsCase,
    events: list[HousingEvent],
    level_before: Any,
    *,
    actor: str,
    purpose: str,
) -> None:
    """Write the case, keep its deadline rows equal to its stored deadlines, add its
    outgoing messages to the outbox and log the change (and every statement to the
    association): one transaction."""
    now = uow.clock.now()
    for name, value in case_columns(case).items():
        setattr(row, name, value)
    row.version = (row.version or 0) + 1
    row.updated_at = now
    row.updated_by = actor
    uow.session.flush()
    _sync_deadlines(uow, case)
    access.record(
        uow, actor=actor, action=Action.CHANGE, what=WHAT_CASE, purpose=purpose,
        citizen_ref=case.citizen_ref, subject_id=case.case_id,
    )
    for message in wire.outgoing_messages(
        events, level_before, pakrav_deadline=case.pakrav_deadline,
        timezone=case.settings.timezone,
    ):
        uow.add_event(message.type, message.payload, correlation_id=message.correlation_id)
        if message.type == "housing.partner_status":
            # The case's status leaves for the boligforening: a disclosure.
            access.record(
                uow, actor=actor, action=Action.DISCLOSURE, what="partner_status",
                purpose=PURPOSE_PARTNER_STATUS, citizen_ref=case.citizen_ref,
                subject_id=case.case_id,
            )


def _sync_deadlines(uow: UnitOfWork, case: ArrearsCase) -> None:
    table = uow.metadata.tables["deadlines"]
    open_rows = uow.session.execute(
        select(table.c.kind, table.c.due_at)
        .where(table.c.subject_id == case.case_id)
        .where(table.c.kind.startswith(KIND_PREFIX))
        .where(table.c.fired_at.is_(None), table.c.cancelled_at.is_(None))
    ).all()
    current = {r.kind: r.due_at for r in open_rows}
    wanted = {
        KIND_PREFIX + kind.value: due.astimezone(dt.UTC)
        for kind, due in case.stored_deadlines.items()
    }
    for kind in current.keys() - wanted.keys():
        deadlines.cancel(uow, kind, case.case_id)
    for kind, due in wanted.items():
        if current.get(kind) != due:
            deadlines.schedule(uow, kind, case.case_id, due)


def case_view(case: ArrearsCase) -> dict[str, Any]:
    """The case as the municipality's staff see it (JSON-safe)."""

    def iso(value: dt.date | dt.datetime | None) -> str | None:
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).isoformat()
        return value.isoformat() if value is not None else None

    return {
        "case_id": case.case_id,
        "source": case.source.value,
        "level": case.level.value,
        "highest_level": case.highest_level.value,
        "is_open": case.is_open,
        "closure": case.closure.value if case.closure else None,
        "association_id": case.association_id,
        "tenancy_ref": case.tenancy_ref,
        "citizen_ref": case.citizen_ref,
        "citizen_identified": case.citizen_ref is not None,
        "has_tovholder": case.has_tovholder,
        "amount_dkk": str(case.amount_dkk) if case.amount_dkk is not None else None,
        "months_behind": case.months_behind,
        "pakrav_sent_on": iso(case.pakrav_sent_on),
        "pakrav_deadline": iso(case.pakrav_deadline),
        "reported_at": iso(case.reported_at),
        "first_contact_at": iso(case.first_contact_at),
        "payment_plan": case.payment_plan.value if case.payment_plan else None,
        "help_status": case.help_status.value if case.help_status else None,
        "hold_until": iso(case.hold_until),
        "termination_on": iso(case.termination_on),
        "eviction_date": iso(case.eviction_date),
        "flags": sorted(flag.value for flag in case.flags),
        "deadlines": [{"kind": d.kind.value, "due": iso(d.due)} for d in case.deadlines()],
        "closed_at": iso(case.closed_at),
    }


def report_arrears(
    store: Store,
    settings: LadderSettings,
    match_citizen: MatchCitizen,
    *,
    actor: str,
    source: str,
    association_id: str | None,
    tenancy_ref: str | None,
    citizen_ref: uuid.UUID | None,
    match: dict[str, Any] | None,
    amount_dkk: Decimal | None,
    months_behind: int | None,
    pakrav_sent_on: dt.date | None,
    pakrav_deadline: dt.date | None,
    termination_on: dt.date | None,
    eviction_date: dt.date | None,
) -> dict[str, Any]:
    """Open a case, or update the open case of the same tenancy (or, without a tenancy,
    of the same citizen). Without a citizen_ref, intake is asked to match the tenant
    first, outside the transaction; the match data is never stored."""
    match_data = {k: v for k, v in (match or {}).items() if v is not None}
    report = ArrearsReport(
        source=ReportSource(source),
        association_id=association_id,
        tenancy_ref=tenancy_ref,
        citizen_ref=str(citizen_ref) if citizen_ref else None,
        match_request=match_data or None,
        amount_dkk=amount_dkk,
        months_behind=months_behind,
        pakrav_sent_on=pakrav_sent_on,
        pakrav_deadline=pakrav_deadline,
        termination_on=termination_on,
        eviction_date=eviction_date,
    )
    # Refuse bad input before asking intake anything.
    validate_report(report, store.clock.now(), settings)
    with store.read() as session:
        _check_partner(session, report)
    if report.citizen_ref is None and match_data:
        found = match_citizen(actor=actor, **match_data)  # network I/O: no transaction open
        if found:
            report = dataclasses.replace(report, citizen_ref=str(found))

    try:
        case, opened = _open_or_update(store, settings, report, actor)
    except IntegrityError:
        # Another report for the same tenancy opened its case in the meantime (the
        # one-open-case-per-tenancy constraint): this report now updates that case.
        case, opened = _open_or_update(store, settings, report, actor)
    return {**case_view(case), "opened": opened}


def _open_or_update(
    store: Store, settings: LadderSettings, report: ArrearsReport, actor: str
) -> tuple[ArrearsCase, bool]:
    with store.unit_of_work() as uow:
        now = uow.clock.now()
        session = uow.session
        _check_partner(session, report)
        row = _open_case_row(session, report)
        if row is None:
            case = ArrearsCase.open(
                case_id=str(uuid.uuid4()),
                report=report,
                now=now,
                has_tovholder=has_tovholder(session, report.citizen_ref),
                settings=settings,
            )
            level_before = None
            row = ArrearsCaseRow(
                id=uuid.UUID(case.case_id), source=case.source.value,
                reported_at=case.reported_at, version=0,
            )
            session.add(row)
        else:
            case = _case(session, row, settings)
            level_before = case.level
            # The report may identify the citizen: address its events accordingly.
            case.set_has_tovholder(has_tovholder(session, case.citizen_ref or report.citizen_ref))
            case.update_from_report(report, now)
        case.escalate_if_due(now)  # a påkrav deadline already passed escalates at once
        _save(uow, row, case, case.pull_events(), level_before, actor=actor,
              purpose=purpose_of(actor, PURPOSE_REPORT))
        uow.commit()
    return case, level_before is None


def _open_case_row(session: Session, report: ArrearsReport) -> ArrearsCaseRow | None:
    query = select(ArrearsCaseRow).with_for_update()
    if report.tenancy_ref:
        query = query.where(ArrearsCaseRow.open_tenancy_ref == report.tenancy_ref.strip())
    elif report.citizen_ref:
        query = (
            query.where(ArrearsCaseRow.citizen_ref == uuid.UUID(report.citizen_ref))
            .where(ArrearsCaseRow.closed_at.is_(None))
            .order_by(ArrearsCaseRow.reported_at)
        )
    else:
        return None
    return session.scalars(query.limit(1)).first()


#: The case commands behind the RPC methods: name -> (case, now, **args) -> events.
COMMANDS: dict[str, Callable[..., list[HousingEvent]]] = {
    "record_contact": lambda case, now: case.establish_contact(now),
    "propose_payment_plan": lambda case, now: case.propose_payment_plan(now),
    "agree_payment_plan": lambda case, now: case.agree_payment_plan(now),
    "break_payment_plan": lambda case, now: case.break_payment_plan(now),
    "apply_for_help": lambda case, now, paragraph: case.apply_for_help(
        now, HelpParagraph(paragraph)
    ),
    "grant_help": lambda case, now, months: case.grant_help(now, months=months),
    "refuse_help": lambda case, now: case.refuse_help(now),
    "register_termination": lambda case, now, termination_on: case.register_termination(
        now, termination_on
    ),
    "set_eviction_date": lambda case, now, eviction_date: case.set_eviction_date(
        now, eviction_date
    ),
    "withdraw_termination": lambda case, now: case.withdraw_termination(now),
    "resolve_eviction": lambda case, now: case.resolve_eviction(now),
    "record_emergency_housing_plan": lambda case, now: case.record_emergency_housing_plan(now),
    "record_paid_in_full": lambda case, now: case.record_paid_in_full(now),
    "close_case": lambda case, now, closure: case.close(now, Closure(closure.value)),
}


def run_command(
    store: Store,
    settings: LadderSettings,
    command: str,
    *,
    actor: str,
    case_id: uuid.UUID,
    **args: Any,
) -> dict[str, Any]:
    """Apply one ladder command to a case; NotFound for an unknown case id."""
    with store.unit_of_work() as uow:
        row = _load_row(uow.session, case_id)
        if row is None:
            raise NotFound("case_id", "No arrears case with this id.")
        case = _case(uow.session, row, settings)
        level_before = case.level
        now = uow.clock.now()
        COMMANDS[command](case, now, **args)
        _save(uow, row, case, case.pull_events(), level_before, actor=actor,
              purpose=purpose_of(actor, PURPOSE_CASE))
        uow.commit()
    return case_view(case)


def get_case(
    store: Store, settings: LadderSettings, *, actor: str, case_id: uuid.UUID
) -> dict[str, Any]:
    """The case as staff see it (the gateway narrows it for a partner); the read is
    logged."""
    with store.unit_of_work() as uow:
        row = uow.session.get(ArrearsCaseRow, case_id)
        if row is None:
            raise NotFound("case_id", "No arrears case with this id.")
        view = case_view(_case(uow.session, row, settings))
        access.record(
            uow, actor=actor, action=Action.READ, what=WHAT_CASE,
            purpose=purpose_of(actor, PURPOSE_CASE), citizen_ref=row.citizen_ref,
            subject_id=row.id,
        )
        uow.commit()
    return view


def report_for_association(
    store: Store,
    settings: LadderSettings,
    *,
    association_id: str,
    start: dt.date,
    end: dt.date,
) -> dict[str, Any]:
    """The report per association and period (definitions: services.housing.reports)."""
    period = ReportPeriod(start, end)
    with store.read() as session:
        association = PartnerRegistry(_associations(session, [association_id])).get(
            association_id
        )
        rows = session.scalars(
            select(ArrearsCaseRow).where(ArrearsCaseRow.association_id == association_id)
        ).all()
        cases = [ArrearsCase.from_state(row.state, settings) for row in rows]
    return association_report(association, cases, period, timezone=settings.timezone).as_dict()


# ------------------------------------------------------------------------------ sweep


def sweep(store: Store, settings: LadderSettings, now: dt.datetime) -> int:
    """Fire every housing deadline due at `now`, each case in its own transaction.

    The case row is locked before its deadline row is claimed: the same lock order as
    the commands, so a sweep and a command on one case cannot deadlock. A case whose
    escalation fails is logged and retried by the next sweep; the others go on."""
    fired = 0
    for deadline in deadlines.due_deadlines(store, now):
        if not deadline.kind.startswith(KIND_PREFIX):
            continue
        try:
            with store.unit_of_work() as uow:
                row = _load_row(uow.session, deadline.subject_id)
                if not deadlines.fire(uow, deadline):
                    continue  # another sweep got it, or a command cancelled it
                if row is None:
                    log.warning("deadline %s for unknown case %s dropped",
                                deadline.kind, deadline.subject_id)
                    uow.commit()
                    continue
                case = _case(uow.session, row, settings)
                level_before = case.level
                case.escalate_if_due(now)
                _save(uow, row, case, case.pull_events(), level_before, actor=SWEEP_ACTOR,
                      purpose=PURPOSE_DEADLINE)
                uow.commit()
                fired += 1
        except Exception:
            log.exception("housing sweep: deadline %s of case %s failed; retried next sweep",
                          deadline.kind, deadline.subject_id)
    return fired



# --------------------------------------------------------------------------- worklist

#: The officers' lists of open and of closed cases (their cursors are not interchangeable).
WORKLIST_OPEN = "housing.cases.open"
WORKLIST_CLOSED = "housing.cases.closed"
WORKLIST_STATUSES = ("open", "closed")
def case_worklist_query(
    *, status: str = "open", level: str | None = None, association_id: str | None = None
) -> tuple[Select[Any], list[worklist.SortColumn], str]:
    """The SQL of the officers' list: (query, order, list name) for `worklist.paginate`.

    Open cases in `case_list`'s order, from the stored sort key (served by the partial
    indexes ix_arrears_cases_worklist*); closed cases most recently closed first. The
    sort-key columns are selected first, as `paginate` expects."""
    if status not in WORKLIST_STATUSES:
        raise DomainError("status", "housing.worklist_status_unknown",
                          "Choose the open or the closed cases.")
    cases = ArrearsCaseRow
    if status == "open":
        order = [worklist.asc(cases.worklist_priority), worklist.asc(cases.worklist_due_at),
                 worklist.asc(cases.id)]
        query = select(cases.worklist_priority, cases.worklist_due_at, cases.id,
                       cases.state).where(cases.closed_at.is_(None))
        name = WORKLIST_OPEN
    else:
        order = [worklist.desc(cases.closed_at), worklist.desc(cases.id)]
        query = select(cases.closed_at, cases.id, cases.state).where(
            cases.closed_at.is_not(None))
        name = WORKLIST_CLOSED
    if level is not None:
        query = query.where(cases.level == str(level))
    if association_id is not None:
        query = query.where(cases.association_id == association_id)
    return query, order, name


def case_worklist(
    uow: UnitOfWork,
    settings: LadderSettings,
    *,
    actor: str,
    cursor: str | None = None,
    limit: int = worklist.DEFAULT_LIMIT,
    status: str = "open",
    level: str | None = None,
    association_id: str | None = None,
) -> dict[str, Any]:
    """One page of the housing officers' worklist (services.housing.case_list), logged
    as one search. Not for partners: a boligforening sees its own cases one by one."""
    if getattr(actor, "kind", None) is ActorKind.PARTNER:
        raise DomainError("actor", "housing.worklist_for_staff_only",
                          "The worklist of arrears cases is for the municipality's staff.")
    query, order, name = case_worklist_query(
        status=status, level=level, association_id=association_id)
    page = worklist.paginate(uow.session, query, order=order, list_name=name,
                             cursor=cursor, limit=limit)
    filters = {"level": level and str(level), "association_id": association_id}
    access.record(
        uow, actor=actor, action=Action.SEARCH, what=WHAT_CASE,
        purpose=purpose_of(actor, PURPOSE_WORKLIST),
        criterion=" ".join([name, *(f"{k}={v}" for k, v in filters.items() if v)])[:300],
    )
    uow.commit()
    today = local_day(uow.clock.now())
    return page.render(lambda row: case_item(
        ArrearsCase.from_state(row.state, settings), today))


def case_item(case: ArrearsCase, today: dt.date) -> dict[str, Any]:
    """One item of the officers' list (contracts.worklist's shape)."""
    code, text = case_list.reason(case)
    step = case_list.next_step(case)
    return worklist.item(
        kind="housing_case", subject_type="arrears_case", subject_id=case.case_id,
        reason_code=code, reason=text, due_on=step.due_on, due_at=step.due_at, today=today,
        citizen_ref=case.citizen_ref, **case_list.details(case, today),
    )
