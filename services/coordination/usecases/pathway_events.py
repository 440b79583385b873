"""Writing a pathway's domain events: the team and tovholder events the domain raised
become rows, timeline entries and outbox messages, in the use case's unit of work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from services.common import deadlines
from services.common.db import UnitOfWork
from services.coordination import repository
from services.coordination.models import MemberRow, NetworkPersonRow, PathwayRow, TovholderTermRow
from services.coordination.pathways import (
    MemberAdded,
    MembershipEnded,
    NetworkPersonAdded,
    Pathway,
    PathwayClosed,
    PathwayEvent,
    PathwayOpened,
    TovholderAppointed,
    TovholderHandedOver,
)
from services.coordination.usecases.shared import ACTIONS_DEADLINE, _timeline, _today


def _team(pathway: Pathway, at: dt.datetime,
          emails: dict[str, str | None]) -> list[dict[str, Any]]:
    """The active team members on the day, as a handover tells them."""
    return [{"member_id": m.member_id, "name": m.name, "email": emails.get(m.member_id)}
            for m in sorted(pathway.active_members(_today(at)), key=lambda m: m.member_id)]


def _save_pathway(uow: UnitOfWork, row: PathwayRow, pathway: Pathway, actor: str) -> None:
    """Turn the team and tovholder events the domain raised into rows, timeline
    entries and outbox messages (meetings are saved by their own use cases)."""
    emails = {s.member_id: s.email for s in repository.staff(uow.session, pathway.members).values()}
    for event in pathway.events:
        handler = _PATHWAY_EVENT_WRITERS.get(type(event))
        if handler is not None:
            handler(uow, row, pathway, event, actor, emails)
    pathway.events.clear()
    uow.session.flush()


def _write_opened(
    uow: UnitOfWork, row: PathwayRow, pathway: Pathway, event: PathwayOpened, actor: str,
    emails: dict[str, str | None],
) -> None:
    uow.add_event(
        "coordination.pathway_opened",
        {"pathway_id": row.id, "citizen_ref": row.citizen_ref,
         "tovholder_id": event.tovholder_id, "opened_at": event.at, "under_30": row.under_30},
        correlation_id=str(row.id),
    )
    _timeline(uow, row.id, "pathway_opened", event.at, actor,
              referral_inquiry_id=str(row.referral_inquiry_id) if row.referral_inquiry_id
              else None)


def _write_member_added(
    uow: UnitOfWork, row: PathwayRow, pathway: Pathway, event: MemberAdded, actor: str,
    emails: dict[str, str | None],
) -> None:
    member = pathway.members[event.member_id]
    uow.session.add(
        MemberRow(
            pathway_id=row.id, member_id=member.member_id, name=member.name,
            agency=member.agency.value, role=member.role, active_from=member.active_from,
            active_to=member.active_to, added_at=event.at, added_by=actor,
        )
    )
    uow.session.flush()
    uow.add_event(
        "coordination.member_added",
        {"pathway_id": row.id, "citizen_ref": row.citizen_ref, "member_id": member.member_id,
         "agency": member.agency, "role": member.role, "added_at": event.at,
         "name": member.name, "email": emails.get(member.member_id)},
        correlation_id=str(row.id),
    )
    _timeline(uow, row.id, "member_added", event.at, actor, member_id=member.member_id,
              name=member.name, agency=member.agency.value, role=member.role)


def _write_membership_ended(
    uow: UnitOfWork, row: PathwayRow, pathway: Pathway, event: MembershipEnded, actor: str,
    emails: dict[str, str | None],
) -> None:
    uow.session.execute(
        update(MemberRow)
        .where(MemberRow.pathway_id == row.id, MemberRow.member_id == event.member_id)
        .values(active_to=event.last_day)
    )
    uow.add_event(
        "coordination.membership_ended",
        {"pathway_id": row.id, "citizen_ref": row.citizen_ref, "member_id": event.member_id,
         "last_day": event.last_day, "ended_at": event.at},
        correlation_id=str(row.id),
    )
    _timeline(uow, row.id, "membership_ended", event.at, actor, member_id=event.member_id,
              last_day=event.last_day.isoformat())


def _write_network_person(
    uow: UnitOfWork, row: PathwayRow, pathway: Pathway, event: NetworkPersonAdded, actor: str,
    emails: dict[str, str | None],
) -> None:
    person = pathway.network[event.person_id]
    uow.session.add(
        NetworkPersonRow(pathway_id=row.id, person_id=person.person_id, name=person.name,
                         relation=person.relation, added_at=event.at, email=person.email,
                         phone=person.phone, may_contact=person.may_contact)
    )
    _timeline(uow, row.id, "network_person_added", event.at, actor,
              person_id=person.person_id, name=person.name, relation=person.relation,
              may_contact=person.may_contact)


def _write_appointed(
    uow: UnitOfWork, row: PathwayRow, pathway: Pathway, event: TovholderAppointed, actor: str,
    emails: dict[str, str | None],
) -> None:
    uow.session.add(
        TovholderTermRow(pathway_id=row.id, member_id=event.tovholder_id, since=event.at,
                         appointed_by=actor)
    )
    # The contract's first appointment is a handover from nobody: the citizen is told.
    uow.add_event(
        "coordination.tovholder_handed_over",
        {"pathway_id": row.id, "citizen_ref": row.citizen_ref, "old_tovholder_id": None,
         "new_tovholder_id": event.tovholder_id, "new_tovholder_name": event.tovholder_name,
         "new_tovholder_agency": event.tovholder_agency,
         "new_tovholder_email": emails.get(event.tovholder_id), "handed_over_at": event.at,
         "handover_note": None, "team": _team(pathway, event.at, emails)},
        correlation_id=str(row.id),
    )
    _timeline(uow, row.id, "tovholder_appointed", event.at, actor,
              tovholder_id=event.tovholder_id, name=event.tovholder_name)


def _write_handed_over(
    uow: UnitOfWork, row: PathwayRow, pathway: Pathway, event: TovholderHandedOver, actor: str,
    emails: dict[str, str | None],
) -> None:
    current = uow.session.execute(
        select(TovholderTermRow)
        .where(TovholderTermRow.pathway_id == row.id, TovholderTermRow.until.is_(None))
    ).scalar_one()
    current.until = event.at
    current.handover_reason = event.reason
    current.handover_note = event.note
    uow.session.add(
        TovholderTermRow(pathway_id=row.id, member_id=event.new_tovholder_id, since=event.at,
                         appointed_by=actor)
    )
    uow.add_event(
        "coordination.tovholder_handed_over",
        {"pathway_id": row.id, "citizen_ref": row.citizen_ref,
         "old_tovholder_id": event.old_tovholder_id,
         "new_tovholder_id": event.new_tovholder_id,
         "new_tovholder_name": event.new_tovholder_name,
         "new_tovholder_agency": event.new_tovholder_agency,
         "new_tovholder_email": emails.get(event.new_tovholder_id),
         "handed_over_at": event.at, "handover_note": event.note,
         "team": _team(pathway, event.at, emails)},
        correlation_id=str(row.id),
    )
    _timeline(uow, row.id, "tovholder_handed_over", event.at, actor,
              old_tovholder_id=event.old_tovholder_id,
              new_tovholder_id=event.new_tovholder_id, name=event.new_tovholder_name,
              reason=event.reason, handover_note=event.note)


def _write_closed(
    uow: UnitOfWork, row: PathwayRow, pathway: Pathway, event: PathwayClosed, actor: str,
    emails: dict[str, str | None],
) -> None:
    row.closed_at, row.closed_by, row.close_reason = event.at, actor, event.reason
    uow.add_event(
        "coordination.pathway_closed",
        {"pathway_id": row.id, "citizen_ref": row.citizen_ref, "closed_at": event.at},
        correlation_id=str(row.id),
    )
    plan = repository.plan_row(uow.session, row.id)
    if plan is not None:
        deadlines.cancel(uow, ACTIONS_DEADLINE, str(plan.id))
    _timeline(uow, row.id, "pathway_closed", event.at, actor, reason=event.reason)


_PATHWAY_EVENT_WRITERS: dict[type[PathwayEvent], Callable[..., None]] = {
    PathwayOpened: _write_opened,
    MemberAdded: _write_member_added,
    MembershipEnded: _write_membership_ended,
    NetworkPersonAdded: _write_network_person,
    TovholderAppointed: _write_appointed,
    TovholderHandedOver: _write_handed_over,
    PathwayClosed: _write_closed,
}
