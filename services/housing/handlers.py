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
from typing import Any, cast

from sqlalchemy import Select, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts.actor import Actor
from contracts.envelope import Envelope
from contracts.housing import PARTNER_CASE_FIELDS
from services.common import access, deadlines, worklist
from services.common.access import Action
from services.common.db import Store, UnitOfWork
from services.common.errors import DomainError
from services.common.localtime import local_day
from services.housing import case_list, visibility, wire
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
    RefusedReport,
    Tenancy,
)
from services.housing.partners import Department as DomainDepartment
from services.housing.partners import (
    HousingAssociation,
    PartnerRegistry,
    ReportRefusal,
    partner_report_refusal,
    tenancy_not_registered_to_you,
)
from services.housing.reports import ReportPeriod, association_report
from services.housing.visibility import CaseFacts, as_actor, case_not_found, partner_of

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
PURPOSE_ASSOCIATION_LIST = "boligforeningens liste over egne sager"
PURPOSE_HOLD_ANSWER = "boligforeningens svar på anmodning om at vente med ophævelse"
PURPOSE_ACCESS_REPORT = "borgerens anmodning om indsigt"

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


def is_tovholder_of(session: Session, staff_id: str, citizen_ref: Any) -> bool:
    """Is `staff_id` the tovholder of the citizen in an open pathway (coordination's
    events)? The need-to-know of a tovholder."""
    if not citizen_ref:
        return False
    found = session.execute(
        select(PathwayTovholder.pathway_id)
        .where(PathwayTovholder.citizen_ref == uuid.UUID(str(citizen_ref)))
        .where(PathwayTovholder.closed_at.is_(None))
        .where(PathwayTovholder.tovholder_id == staff_id)
        .limit(1)
    ).first()
    return found is not None


def _visible(session: Session, actor: Actor, row: ArrearsCaseRow) -> bool:
    """May `actor` see this case (services.housing.visibility)?"""
    reach = visibility.reach(actor)
    tovholder = (reach is visibility.Reach.OWN_CITIZENS
                 and is_tovholder_of(session, actor.id, row.citizen_ref))
    return visibility.may_see(actor, CaseFacts(row.association_id, tovholder))


# The message map's handlers are called with the service's LadderSettings too
# (`consumes(..., context_attr="settings")`); the projection does not need them.


def record_pathway_opened(uow: UnitOfWork, event: Envelope, settings: Any = None) -> None:
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


def record_tovholder_handed_over(
    uow: UnitOfWork, event: Envelope, settings: Any = None
) -> None:
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


def record_pathway_closed(uow: UnitOfWork, event: Envelope, settings: Any = None) -> None:
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
        "partner_due_on": case_list.partner_sort_due(case),
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
    deadlines.sync(uow, case.case_id, {
        KIND_PREFIX + kind.value: due.astimezone(dt.UTC)
        for kind, due in case.stored_deadlines.items()
    }, prefix=KIND_PREFIX)


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
        "requested": (request.value if (request := case.association_request()) else None),
        "hold_answer": case.hold_answer.value if case.hold_answer else None,
        "hold_granted_until": iso(case.hold_granted_until),
    }


def partner_case_view(case: ArrearsCase) -> dict[str, Any]:
    """The case as its housing association sees it: contracts.housing.PartnerCaseView
    (status and dates; never the citizen, the amount, flags or deadlines)."""
    view = case_view(case)
    return {name: view[name] for name in PARTNER_CASE_FIELDS}


def view_for(actor: Actor, case: ArrearsCase) -> dict[str, Any]:
    """What `actor` is shown of a case it may see."""
    return partner_case_view(case) if partner_of(actor) else case_view(case)


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
    first, outside the transaction; the match data is never stored.

    A housing association reports for itself, with source "association", and only for
    a tenancy registered to it (services.housing.partners.partner_report_refusal); any
    other report of an association is refused with one answer and audited."""
    who = as_actor(actor)
    visibility.check_may_report(who)
    partner = partner_of(who)
    if partner is not None:
        if source != ReportSource.ASSOCIATION.value:
            raise DomainError("source", "housing.association_reports_as_association",
                              'A housing association reports with source "association".')
        if association_id is not None and association_id != partner:
            raise DomainError("association_id", "housing.association_reports_for_itself",
                              "A housing association reports for itself only.")
        association_id = partner
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
    try:
        with store.read() as session:
            _check_reporter(session, report, partner)
        if report.citizen_ref is None and match_data:
            found = match_citizen(actor=actor, **match_data)  # network I/O: no transaction
            if found:
                report = dataclasses.replace(report, citizen_ref=str(found))
        try:
            case, opened = _open_or_update(store, settings, report, who, partner)
        except IntegrityError:
            # Another report for the same tenancy opened its case in the meantime (the
            # one-open-case-per-tenancy constraint): this report now updates that case.
            case, opened = _open_or_update(store, settings, report, who, partner)
    except _Refused as refused:
        _audit_refused_report(store, who, report, refused.reason)
        raise tenancy_not_registered_to_you() from None
    return {**view_for(who, case), "opened": opened}


class _Refused(Exception):
    """An association's report refused by partner_report_refusal (audited, then
    answered with the one refusal)."""

    def __init__(self, reason: ReportRefusal) -> None:
        super().__init__(reason)
        self.reason = reason


def _check_reporter(session: Session, report: ArrearsReport, partner: str | None) -> None:
    """Staff: the association must be known and the tenancy not another's. An
    association: the tenancy must be registered to it (`_Refused` otherwise)."""
    if partner is None:
        _check_partner(session, report)
        return
    PartnerRegistry(_associations(session, [partner])).get(partner)  # its own: known?
    assert report.tenancy_ref  # validate_report: an association names the tenancy
    ref = report.tenancy_ref.strip()
    owner = session.get(Tenancy, ref)
    open_case = session.scalars(
        select(ArrearsCaseRow.association_id).where(ArrearsCaseRow.open_tenancy_ref == ref)
    ).first()
    refusal = partner_report_refusal(
        partner, owner_association_id=owner.association_id if owner else None,
        open_case_association_id=open_case,
    )
    if refusal is not None:
        raise _Refused(refusal)


def _audit_refused_report(
    store: Store, actor: Actor, report: ArrearsReport, reason: ReportRefusal
) -> None:
    """Record a refused association report in its own transaction (the report itself
    wrote nothing): who, which of its references, when and why. No tenant data."""
    with store.unit_of_work() as uow:
        uow.session.add(RefusedReport(
            at=uow.clock.now(), actor=str(actor)[:160],
            association_id=(report.association_id or "")[:64],
            tenancy_ref=(report.tenancy_ref or "").strip()[:64], reason=reason.value,
        ))
        uow.commit()
    log.warning("housing: refused a report of %s for a tenancy not registered to it (%s)",
                actor, reason.value)


def _open_or_update(
    store: Store, settings: LadderSettings, report: ArrearsReport, actor: Actor,
    partner: str | None,
) -> tuple[ArrearsCase, bool]:
    with store.unit_of_work() as uow:
        now = uow.clock.now()
        session = uow.session
        _check_reporter(session, report, partner)  # again, in the writing transaction
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
    """Apply one ladder command to a case. Only the municipality changes a case; a case
    the actor may not see answers like an unknown case id (NotFound)."""
    who = as_actor(actor)
    visibility.check_may_change_cases(who)
    with store.unit_of_work() as uow:
        row = _load_row(uow.session, case_id)
        if row is None or not _visible(uow.session, who, row):
            raise case_not_found()
        case = _case(uow.session, row, settings)
        level_before = case.level
        now = uow.clock.now()
        COMMANDS[command](case, now, **args)
        _save(uow, row, case, case.pull_events(), level_before, actor=who,
              purpose=purpose_of(who, PURPOSE_CASE))
        uow.commit()
    return case_view(case)


def get_case(
    store: Store, settings: LadderSettings, *, actor: str, case_id: uuid.UUID
) -> dict[str, Any]:
    """The case as staff see it, or as its association sees it (`partner_case_view`);
    a case the actor may not see answers like an unknown case id. The read is logged."""
    who = as_actor(actor)
    with store.unit_of_work() as uow:
        row = uow.session.get(ArrearsCaseRow, case_id)
        if row is None:
            raise case_not_found()
        if not _visible(uow.session, who, row):
            # Answered as an unknown case, and logged: who tried to read whose case.
            access.record(
                uow, actor=who, action=Action.REFUSED, what=WHAT_CASE,
                purpose=purpose_of(who, PURPOSE_CASE), citizen_ref=row.citizen_ref,
                subject_id=row.id,
            )
            uow.commit()
            raise case_not_found()
        view = view_for(who, _case(uow.session, row, settings))
        access.record(
            uow, actor=who, action=Action.READ, what=WHAT_CASE,
            purpose=purpose_of(who, PURPOSE_CASE), citizen_ref=row.citizen_ref,
            subject_id=row.id,
        )
        uow.commit()
    return view


def report_for_association(
    store: Store,
    settings: LadderSettings,
    *,
    actor: str,
    association_id: str,
    start: dt.date,
    end: dt.date,
) -> dict[str, Any]:
    """The report per association and period (definitions: services.housing.reports).
    An association reads its own only: another's answers like an unknown association."""
    period = ReportPeriod(start, end)
    own = visibility.check_may_read_association_report(as_actor(actor), association_id)
    with store.read() as session:
        known = _associations(session, [association_id]) if own else []
        association = PartnerRegistry(known).get(association_id)
        rows = session.scalars(
            select(ArrearsCaseRow).where(ArrearsCaseRow.association_id == association_id)
        ).all()
        cases = [ArrearsCase.from_state(row.state, settings) for row in rows]
    return association_report(association, cases, period, timezone=settings.timezone).as_dict()


# ------------------------------------------------------------------------------ sweep


def sweep(store: Store, settings: LadderSettings, now: dt.datetime) -> int:
    """Fire every housing deadline due at `now`, each case in its own transaction (the
    kit's sweep): the case row is locked before its deadline row is claimed, the same
    lock order as the commands, so a sweep and a command on one case cannot deadlock. A
    case whose escalation fails is logged and backed off; the others go on. Returns how
    many fired."""

    def handle(uow: UnitOfWork, deadline: deadlines.Deadline, row: ArrearsCaseRow) -> None:
        case = _case(uow.session, row, settings)
        level_before = case.level
        case.escalate_if_due(now)
        _save(uow, row, case, case.pull_events(), level_before, actor=SWEEP_ACTOR,
              purpose=PURPOSE_DEADLINE)

    return deadlines.sweep(
        store, now, prefix=KIND_PREFIX,
        lock=lambda uow, deadline: _load_row(uow.session, deadline.subject_id),
        handle=handle,
    ).fired


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
    as one search. For housing officers and Fronten; an association has its own list
    (`association_cases`)."""
    visibility.check_may_read_worklist(as_actor(actor))
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


# ------------------------------------------------------------ the association's own list

ASSOCIATION_OPEN = "housing.association_cases.open"
ASSOCIATION_CLOSED = "housing.association_cases.closed"


def association_cases(
    uow: UnitOfWork,
    settings: LadderSettings,
    *,
    actor: str,
    cursor: str | None = None,
    limit: int = worklist.DEFAULT_LIMIT,
    status: str = "open",
) -> dict[str, Any]:
    """One page of a housing association's own cases (issue 16 point 4): open cases by
    the date that matters to the association (case_list.partner_due_on), or its closed
    cases most recently closed first. Each item is the association's view: where the
    case stands and its status fields, never the tenant. Logged as one search."""
    association = visibility.check_is_partner(as_actor(actor))
    if status not in WORKLIST_STATUSES:
        raise DomainError("status", "housing.worklist_status_unknown",
                          "Choose the open or the closed cases.")
    cases = ArrearsCaseRow
    mine = cases.association_id == association
    if status == "open":
        order = [worklist.asc(cases.partner_due_on), worklist.asc(cases.id)]
        query = select(cases.partner_due_on, cases.id, cases.state).where(
            mine, cases.closed_at.is_(None))
        name = ASSOCIATION_OPEN
    else:
        order = [worklist.desc(cases.closed_at), worklist.desc(cases.id)]
        query = select(cases.closed_at, cases.id, cases.state).where(
            mine, cases.closed_at.is_not(None))
        name = ASSOCIATION_CLOSED
    page = worklist.paginate(uow.session, query, order=order, list_name=name,
                             cursor=cursor, limit=limit)
    access.record(uow, actor=actor, action=Action.SEARCH, what=WHAT_CASE,
                  purpose=purpose_of(actor, PURPOSE_ASSOCIATION_LIST), criterion=name)
    uow.commit()
    today = local_day(uow.clock.now())
    return page.render(lambda row: association_item(
        ArrearsCase.from_state(row.state, settings), today))


def association_item(case: ArrearsCase, today: dt.date) -> dict[str, Any]:
    """One item of the association's list (contracts.worklist's shape, no citizen)."""
    code, text = case_list.partner_reason(case)
    return worklist.item(
        kind="association_case", subject_type="arrears_case", subject_id=case.case_id,
        reason_code=code, reason=text, due_on=case_list.partner_due_on(case), today=today,
        citizen_ref=None, **case_list.partner_details(case),
    )


# ------------------------------------------------------------------ refused reports

REFUSED_REPORTS = "housing.refused_reports"

_REFUSAL_TEXT = {
    ReportRefusal.TENANCY_NOT_REGISTERED:
        "{who} har meldt huslejerestance for lejemål {ref}, som ikke er registreret i "
        "Samspil. Registrér lejemålet hos boligforeningen, så den kan melde igen, eller "
        "opret sagen fra Fronten, hvis lejeren er i risiko.",
    ReportRefusal.TENANCY_OF_OTHER_ASSOCIATION:
        "{who} har meldt huslejerestance for lejemål {ref}, som er registreret hos en "
        "anden boligforening. Undersøg, om registreringen er rigtig.",
    ReportRefusal.CASE_OF_OTHER_ASSOCIATION:
        "{who} har meldt huslejerestance for lejemål {ref}, hvis åbne sag hører til en "
        "anden boligforening. Undersøg sagen.",
}


def refused_reports(
    uow: UnitOfWork,
    *,
    actor: str,
    cursor: str | None = None,
    limit: int = worklist.DEFAULT_LIMIT,
) -> dict[str, Any]:
    """The audit of refused association reports, newest first, for housing officers and
    operators: who tried to report which tenancy, when, and why it was refused."""
    visibility.check_may_read_refused_reports(as_actor(actor))
    refused = RefusedReport
    query = cast(Select[Any], (
        select(refused.at, refused.id, refused.actor, refused.association_id,
               refused.tenancy_ref, refused.reason, Association.name)
        .outerjoin(Association, Association.association_id == refused.association_id)
    ))
    page = worklist.paginate(uow.session, query,
                             order=[worklist.desc(refused.at), worklist.desc(refused.id)],
                             list_name=REFUSED_REPORTS, cursor=cursor, limit=limit)
    today = local_day(uow.clock.now())
    return page.render(lambda row: refused_report_item(row, today))


def refused_report_item(row: Any, today: dt.date) -> dict[str, Any]:
    reason = ReportRefusal(row.reason)
    who = row.name or row.association_id
    return worklist.item(
        kind="refused_report", subject_type="refused_report", subject_id=row.id,
        reason_code=reason.value,
        reason=_REFUSAL_TEXT[reason].format(who=who, ref=row.tenancy_ref), today=today,
        association_id=row.association_id, association_name=row.name,
        tenancy_ref=row.tenancy_ref, reported_by=row.actor,
        reported_at=row.at.astimezone(dt.UTC).isoformat(),
    )


# ---------------------------------------------------------------- the access report


def access_report(uow: UnitOfWork, *, actor: str, citizen_ref: uuid.UUID) -> list[dict[str, Any]]:
    """Everything done with the citizen's data in housing, oldest first (the citizen's
    request for insight, answered by Fronten); the read of the log is itself logged."""
    visibility.check_may_read_access_report(as_actor(actor))
    entries = access.entries_of_citizen(uow.session, uow.metadata, citizen_ref, "housing")
    access.record(uow, actor=actor, action=Action.READ, what="access_log",
                  purpose=purpose_of(actor, PURPOSE_ACCESS_REPORT), citizen_ref=citizen_ref)
    uow.commit()
    return entries


# ------------------------------------------------- the association answers a hold request


def record_handoff_updated(uow: UnitOfWork, event: Envelope, settings: LadderSettings) -> None:
    """partners.handoff_updated: the association answered our request to hold the
    ophævelse (a hand-off of kind hold_termination on the case). The case follows:

    - accepted with `hold_until`: hold granted until that day (ladder.record_hold_granted);
    - declined, or completed with outcome "refused": hold refused, the escalation goes
      on (ladder.record_hold_refused);
    - completed with outcome "paid": the paid-in-full path (ladder.record_paid_by_association).

    Other states (received, in progress, cancelled, other outcomes) change nothing on
    the case. Hand-offs of other kinds, of unknown cases, of another association's case
    and answers older than the last one recorded are ignored (and logged)."""
    payload = event.payload
    if str(payload["kind"]) != "hold_termination" or payload["subject_type"] != "case":
        return
    row = _load_row(uow.session, payload["subject_id"])
    if row is None or row.association_id != payload["partner_id"]:
        log.warning("housing: hand-off %s is for no case of %s; ignored",
                    payload["handoff_id"], payload["partner_id"])
        return
    case = _case(uow.session, row, settings)
    answered_at = payload["at"]
    if not case.is_open or case.is_older_answer(answered_at):
        return
    state, outcome = str(payload["state"]), payload.get("outcome")
    now = uow.clock.now()
    level_before = case.level
    try:
        if state == "accepted":
            case.record_hold_granted(now, payload.get("hold_until"), answered_at=answered_at)
        elif state == "declined" or (state == "completed" and outcome == "refused"):
            case.record_hold_refused(now, answered_at=answered_at)
        elif state == "completed" and outcome == "paid":
            case.record_paid_by_association(now, answered_at=answered_at)
        else:
            return
    except DomainError as refused:
        log.warning("housing: hand-off %s (%s) not applied to case %s: %s",
                    payload["handoff_id"], state, row.id, refused)
        return
    _save(uow, row, case, case.pull_events(), level_before,
          actor=str(payload["answered_by"]), purpose=PURPOSE_HOLD_ANSWER)
