"""What intake keeps of other services' facts, fed by their events, and the questions
need-to-know asks of it (services.intake.need_to_know).

- The partner directory (`partners.partner_registered`): who a consent may name.
- Pathway membership (coordination's `pathway_opened`, `tovholder_handed_over`,
  `member_added`, `membership_ended`, `pathway_closed`): who leads or is in the team
  of which citizen's pathway.

Events of different types travel on different queues and may arrive in any order:
every handler is an upsert that never lets an older fact overwrite a newer one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from contracts.envelope import Envelope
from contracts.vocabulary import Agency, ConsentPurpose
from services.common.db import UnitOfWork
from services.common.localtime import local_day
from services.intake.models import (
    ConsentRow,
    CourseRow,
    PartnerRow,
    PathwayAccessRow,
    PathwayMemberRow,
    Referral85Row,
)
from services.intake.need_to_know import CitizenFacts, CourseFacts

# --- the partner directory ----------------------------------------------------------------


def partner_registered(uow: UnitOfWork, event: Envelope) -> None:
    """A partner was created or changed (also deactivated): keep the newest."""
    p = event.payload
    row = uow.session.get(PartnerRow, p["partner_id"], with_for_update=True)
    if row is not None and row.changed_at > p["changed_at"]:
        return  # an older change arriving late
    if row is None:
        row = PartnerRow(partner_id=p["partner_id"])
        uow.session.add(row)
    row.name = p["name"]
    row.category = str(p["category"])
    row.accepts = [str(k) for k in p["accepts"]]
    row.active = bool(p["active"])
    row.changed_at = p["changed_at"]


def active_partners(session: Session) -> list[PartnerRow]:
    return list(session.scalars(
        select(PartnerRow).where(PartnerRow.active.is_(True)).order_by(PartnerRow.partner_id)
    ))


def partner_names(session: Session) -> dict[str, str]:
    return {r.partner_id: r.name for r in session.scalars(select(PartnerRow))}


# --- pathway membership -----------------------------------------------------------------------


def _pathway(uow: UnitOfWork, payload: dict[str, Any]) -> PathwayAccessRow:
    row = uow.session.get(PathwayAccessRow, payload["pathway_id"], with_for_update=True)
    if row is None:
        row = PathwayAccessRow(pathway_id=payload["pathway_id"],
                               citizen_ref=payload["citizen_ref"])
        uow.session.add(row)
    return row


def _set_tovholder(row: PathwayAccessRow, tovholder_id: str | None, since: dt.datetime) -> None:
    if row.tovholder_since is None or since >= row.tovholder_since:
        row.tovholder_id, row.tovholder_since = tovholder_id, since


def _member(uow: UnitOfWork, pathway_id: uuid.UUID, member_id: str) -> PathwayMemberRow:
    row = uow.session.get(PathwayMemberRow, (pathway_id, member_id), with_for_update=True)
    if row is None:
        row = PathwayMemberRow(pathway_id=pathway_id, member_id=member_id)
        uow.session.add(row)
    return row


def pathway_opened(uow: UnitOfWork, event: Envelope) -> None:
    p = event.payload
    row = _pathway(uow, p)
    if p["tovholder_id"] is not None:
        _set_tovholder(row, p["tovholder_id"], p["opened_at"])


def tovholder_handed_over(uow: UnitOfWork, event: Envelope) -> None:
    """The new tovholder leads the pathway from `handed_over_at` (also the first one,
    appointed to a pathway that had none); the old one stays a member until their
    membership ends."""
    p = event.payload
    row = _pathway(uow, p)
    _set_tovholder(row, p["new_tovholder_id"], p["handed_over_at"])
    member = _member(uow, p["pathway_id"], p["new_tovholder_id"])
    if member.agency is None:
        member.agency = str(p["new_tovholder_agency"])
        member.added_at = member.added_at or p["handed_over_at"]


def member_added(uow: UnitOfWork, event: Envelope) -> None:
    p = event.payload
    _pathway(uow, p)
    member = _member(uow, p["pathway_id"], p["member_id"])
    member.agency = str(p["agency"])
    member.added_at = p["added_at"]


def membership_ended(uow: UnitOfWork, event: Envelope) -> None:
    """The member sees nothing of the pathway's citizen from the day after `last_day`."""
    p = event.payload
    _pathway(uow, p)
    member = _member(uow, p["pathway_id"], p["member_id"])
    if member.ended_at is None or p["ended_at"] >= member.ended_at:
        member.last_day, member.ended_at = p["last_day"], p["ended_at"]


def pathway_closed(uow: UnitOfWork, event: Envelope) -> None:
    p = event.payload
    row = _pathway(uow, p)
    row.closed_at = p["closed_at"]


# --- the facts need-to-know decides on ----------------------------------------------------------


def _today(uow: UnitOfWork) -> dt.date:
    return local_day(uow.clock.now())


def pathway_team_consents(
    session: Session, citizen_ref: uuid.UUID, now: dt.datetime
) -> dict[Agency, frozenset[str]]:
    """The citizen's consents to pathway team agencies that are valid at `now`: agency
    -> the kinds of information they cover (all of them together)."""
    rows = session.scalars(
        select(ConsentRow).where(
            ConsentRow.citizen_ref == citizen_ref,
            ConsentRow.purpose == ConsentPurpose.PATHWAY_TEAM.value,
            ConsentRow.needs_correction.is_(None),
            ConsentRow.given_at <= now,
            or_(ConsentRow.withdrawn_at.is_(None), ConsentRow.withdrawn_at > now),
        )
    ).all()
    found: dict[Agency, set[str]] = {}
    agencies = {a.value: a for a in Agency}
    for row in rows:
        agency = agencies.get(row.recipient)
        if agency is not None:
            found.setdefault(agency, set()).update(row.information_kinds)
    return {agency: frozenset(kinds) for agency, kinds in found.items()}


def _agenda_condition(today: dt.date) -> Any:
    """A course on the review panel's agenda (worklist review_agenda, with the reviews
    due but not yet requested): running, undecided, requested or due."""
    return and_(
        CourseRow.status == "active",
        CourseRow.review_decision.is_(None),
        or_(CourseRow.review_requested_on.is_not(None), CourseRow.review_due_on <= today),
    )


def _has_referral(course_id: Any) -> Any:
    return exists().where(Referral85Row.course_id == course_id)


def citizen_facts(uow: UnitOfWork, actor_id: str, citizen_ref: uuid.UUID) -> CitizenFacts:
    """What need-to-know needs to decide how much of the citizen `actor_id` sees."""
    session = uow.session
    now = uow.clock.now()
    today = local_day(now)
    pathways = session.scalars(
        select(PathwayAccessRow).where(
            PathwayAccessRow.citizen_ref == citizen_ref, PathwayAccessRow.closed_at.is_(None)
        )
    ).all()
    tovholder = any(p.tovholder_id == actor_id for p in pathways)
    agencies: set[Agency] = set()
    if pathways:
        members = session.scalars(
            select(PathwayMemberRow).where(
                PathwayMemberRow.pathway_id.in_([p.pathway_id for p in pathways]),
                PathwayMemberRow.member_id == actor_id,
                PathwayMemberRow.agency.is_not(None),
                or_(PathwayMemberRow.last_day.is_(None), PathwayMemberRow.last_day >= today),
            )
        ).all()
        known = {a.value: a for a in Agency}
        agencies = {known[m.agency] for m in members if m.agency in known}
    courses = select(CourseRow.id).where(CourseRow.citizen_ref == citizen_ref)
    referred = bool(session.scalar(
        select(exists().where(Referral85Row.course_id.in_(courses)))
    ))
    on_agenda = bool(session.scalar(
        select(exists().where(CourseRow.citizen_ref == citizen_ref, _agenda_condition(today)))
    ))
    consents = pathway_team_consents(session, citizen_ref, now) if agencies else {}
    return CitizenFacts(
        tovholder=tovholder, member_agencies=frozenset(agencies), consents=consents,
        referred_85=referred, on_agenda=on_agenda,
    )


def course_facts(uow: UnitOfWork, course: CourseRow) -> CourseFacts:
    today = _today(uow)
    referred = bool(uow.session.scalar(select(_has_referral(course.id))))
    on_agenda = (
        course.status == "active"
        and course.review_decision is None
        and (course.review_requested_on is not None
             or (course.review_due_on is not None and course.review_due_on <= today))
    )
    return CourseFacts(referred_85=referred, on_agenda=on_agenda)
