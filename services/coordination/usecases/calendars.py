"""Calendars: who may change whose calendar, working hours, busy blocks, imported
iCalendar feeds, and the citizen's meeting preferences."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete, select

from services.common import access
from services.common.access import Action
from services.common.db import UnitOfWork
from services.common.errors import DomainError, NotFound
from services.coordination import icalfeed, repository
from services.coordination.models import (
    BusyBlockRow,
    MemberRow,
    NetworkPersonRow,
    PathwayRow,
    StaffRow,
    TovholderTermRow,
)
from services.coordination.needtoknow import Change
from services.coordination.scheduling import BusyBlock, MeetingPlace
from services.coordination.usecases.shared import PURPOSES, _log_change, _timeline
from services.coordination.visibility import as_actor, changeable_pathway


def _calendar_owner(uow: UnitOfWork, actor: str, participant_id: str) -> uuid.UUID | None:
    """Who may change a person's calendar (need-to-know): the person themself, a
    tovholder of an open pathway the person takes part in (a team member, a network
    person, or the citizen, whose participant id is the citizen_ref), or a service.
    Returns the citizen_ref when the calendar is a citizen's (a change of citizen data,
    logged)."""
    who = as_actor(actor)
    try:
        citizen: uuid.UUID | None = uuid.UUID(participant_id)
    except ValueError:
        citizen = None
    if who.is_service or who.id == participant_id:
        return citizen
    led = select(TovholderTermRow.pathway_id).join(
        PathwayRow, PathwayRow.id == TovholderTermRow.pathway_id).where(
        TovholderTermRow.member_id == who.id, TovholderTermRow.until.is_(None),
        PathwayRow.closed_at.is_(None))
    takes_part = [
        select(MemberRow.pathway_id).where(MemberRow.pathway_id.in_(led),
                                           MemberRow.member_id == participant_id),
        select(NetworkPersonRow.pathway_id).where(NetworkPersonRow.pathway_id.in_(led),
                                                  NetworkPersonRow.person_id == participant_id),
    ]
    if citizen is not None:
        takes_part.append(select(PathwayRow.id).where(PathwayRow.id.in_(led),
                                                      PathwayRow.citizen_ref == citizen))
    if any(uow.session.execute(query.limit(1)).first() for query in takes_part):
        return citizen
    raise DomainError("actor", "not_allowed",
                      "you may change your own calendar, or the calendars of the people "
                      "on the pathways you lead")


def check_calendar_access(uow: UnitOfWork, actor: str, participant_id: str) -> None:
    """Refuse, before anything is fetched, a calendar the caller may not change."""
    _calendar_owner(uow, actor, participant_id)


def _log_calendar(uow: UnitOfWork, actor: str, citizen: uuid.UUID | None) -> None:
    """A change to the citizen's own calendar is a change of the citizen's data."""
    if citizen is not None:
        access.record(uow, actor=actor, action=Action.CHANGE, what="calendar",
                      citizen_ref=citizen, subject_id=citizen,
                      purpose=PURPOSES["calendar"])


def set_working_hours(
    uow: UnitOfWork, *, actor: str, member_id: str, days: list[dict[str, Any]]
) -> dict[str, Any]:
    row = uow.session.get(StaffRow, member_id)
    if row is None:
        raise NotFound("member_id", f"no staff member {member_id} in any team")
    _calendar_owner(uow, actor, member_id)
    hours: dict[str, list[str]] = {}
    for index, day in enumerate(days):
        if day["weekday"] in hours:
            raise DomainError(f"days.{index}.weekday", "working_hours.duplicate_day",
                              f"{day['weekday']} is given twice; one window per day")
        if day["end"] <= day["start"]:
            raise DomainError(f"days.{index}.end", "working_hours.end_before_start",
                              "the working day must end after it starts")
        hours[day["weekday"]] = [day["start"].strftime("%H:%M"), day["end"].strftime("%H:%M")]
    row.working_hours = hours
    repository.working_hours_of(row)  # the stored form must load back
    uow.commit()
    return {"member_id": member_id, "working_hours": hours}


def add_busy_block(
    uow: UnitOfWork, *, actor: str, participant_id: str, starts_at: dt.datetime,
    ends_at: dt.datetime,
) -> dict[str, Any]:
    citizen = _calendar_owner(uow, actor, participant_id)
    block = BusyBlock(starts_at, ends_at)  # refuses an end before the start
    row = BusyBlockRow(participant_id=participant_id, starts_at=block.start, ends_at=block.end,
                       source="manual", created_at=uow.clock.now(), created_by=actor)
    _log_calendar(uow, actor, citizen)
    uow.session.add(row)
    uow.commit()
    return {"busy_block_id": row.id}


def import_calendar(
    uow: UnitOfWork, *, actor: str, participant_id: str, calendar: str,
    window_start: dt.datetime, window_end: dt.datetime,
) -> dict[str, Any]:
    """Replace the participant's imported blocks in the window with the feed's."""
    citizen = _calendar_owner(uow, actor, participant_id)
    feed = icalfeed.import_busy_blocks(calendar, window_start=window_start,
                                       window_end=window_end)
    _log_calendar(uow, actor, citizen)
    uow.session.execute(
        delete(BusyBlockRow).where(
            BusyBlockRow.participant_id == participant_id,
            BusyBlockRow.source == "ical",
            BusyBlockRow.starts_at < window_end,
            BusyBlockRow.ends_at > window_start,
        )
    )
    now = uow.clock.now()
    for block in feed.blocks:
        uow.session.add(
            BusyBlockRow(participant_id=participant_id, starts_at=block.start, ends_at=block.end,
                         source="ical", ref=(block.ref or "")[:255] or None, created_at=now,
                         created_by=actor)
        )
    uow.commit()
    return {
        "participant_id": participant_id,
        "imported": len(feed.blocks),
        "ignored": [{"uid": i.uid, "reason": i.reason} for i in feed.ignored],
    }


def set_citizen_preferences(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, not_before: dt.time | None,
    not_after: dt.time | None, weekdays: list[str], place: Any,
) -> dict[str, Any]:
    row, _ = changeable_pathway(uow, actor, pathway_id, Change.PREFERENCES)
    if not_before is not None and not_after is not None and not_after <= not_before:
        raise DomainError("not_after", "preferences.window_empty",
                          "'not after' must be later than 'not before'")
    prefs = {
        "not_before": not_before.strftime("%H:%M") if not_before else None,
        "not_after": not_after.strftime("%H:%M") if not_after else None,
        "weekdays": sorted(set(weekdays), key=repository.WEEKDAYS.index),
        "place": MeetingPlace(getattr(place, "value", place)).value,
    }
    row.preferences = prefs
    _timeline(uow, row.id, "citizen_preferences_set", uow.clock.now(), actor, **prefs)
    _log_change(uow, actor, "preferences", row)
    uow.commit()
    return {"pathway_id": str(row.id), "preferences": prefs}
