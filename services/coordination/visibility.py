"""Applying need-to-know (services.coordination.needtoknow) inside a unit of work: load
the facts a sight is decided on, and answer a pathway the caller may not see exactly
as a missing one.
"""

from __future__ import annotations

import uuid
from typing import Any

from contracts.actor import Actor, ActorKind
from services.common.db import UnitOfWork
from services.common.errors import NotFound
from services.common.localtime import local_day
from services.coordination import needtoknow, repository
from services.coordination.models import MeetingRow, PathwayRow
from services.coordination.needtoknow import Change, Sight


def as_actor(actor: Any) -> Actor:
    """The caller as an `Actor` (RPCs pass one; internal callers may pass a label)."""
    if isinstance(actor, Actor):
        return actor
    try:
        return Actor.from_label(str(actor))
    except ValueError:
        return Actor(ActorKind.STAFF, str(actor))


def missing_pathway(pathway_id: Any) -> NotFound:
    """The one answer for a pathway that does not exist or that the caller may not see."""
    return NotFound("pathway_id", f"no pathway {pathway_id}")


def missing_meeting(meeting_id: Any) -> NotFound:
    return NotFound("meeting_id", f"no meeting {meeting_id}")


def sight(uow: UnitOfWork, actor: Any, row: PathwayRow) -> Sight | None:
    """The caller's sight of the pathway in `row` (None: it must answer as missing)."""
    who = as_actor(actor)
    if who.kind is not ActorKind.STAFF:
        return needtoknow.sight_of(kind=who.kind, actor_id=who.id, roles=who.roles,
                                   tovholder_id=None, closed=row.closed_at is not None,
                                   member_agency=None, consent_kinds=None)
    session = uow.session
    tovholder = repository.current_tovholder(session, row.id)
    agency = None
    kinds = None
    if who.id != tovholder:
        agency = repository.membership_agency(session, row.id, who.id,
                                              local_day(uow.clock.now()))
        if agency is not None and agency != needtoknow.HOLDING_AGENCY.value:
            kinds = repository.consent_kinds(session, row.citizen_ref, agency,
                                             needtoknow.PATHWAY_TEAM)
    return needtoknow.sight_of(kind=who.kind, actor_id=who.id, roles=who.roles,
                               tovholder_id=tovholder, closed=row.closed_at is not None,
                               member_agency=agency, consent_kinds=kinds)


def visible_pathway(uow: UnitOfWork, actor: Any, pathway_id: uuid.UUID, *,
                    lock: bool = False) -> tuple[PathwayRow, Sight]:
    """The pathway and the caller's sight of it; NotFound, exactly as for a missing
    pathway, when the caller may not see it."""
    try:
        row = repository.pathway_row(uow.session, pathway_id, lock=lock)
    except NotFound:
        raise missing_pathway(pathway_id) from None
    seen = sight(uow, actor, row)
    if seen is None:
        raise missing_pathway(pathway_id)
    return row, seen


def changeable_pathway(uow: UnitOfWork, actor: Any, pathway_id: uuid.UUID,
                       change: Change) -> tuple[PathwayRow, Sight]:
    """The pathway, locked, for a change the caller may make; NotFound when they may not
    see it, `actor`/`not_allowed` when they see it but may not change it."""
    row, seen = visible_pathway(uow, actor, pathway_id, lock=True)
    needtoknow.require_change(seen, change)
    return row, seen


def visible_meeting(uow: UnitOfWork, actor: Any,
                    meeting_id: uuid.UUID) -> tuple[MeetingRow, PathwayRow, Sight]:
    """A meeting of a pathway the caller may change meetings on; a meeting of a pathway
    they may not see answers as a missing meeting."""
    meeting = uow.session.get(MeetingRow, meeting_id)
    if meeting is None:
        raise missing_meeting(meeting_id)
    row = repository.pathway_row(uow.session, meeting.pathway_id, lock=True)
    seen = sight(uow, actor, row)
    if seen is None or not seen.sees(needtoknow.MEETINGS):
        raise missing_meeting(meeting_id)
    needtoknow.require_change(seen, Change.MEETING)
    return meeting, row, seen
