"""Meetings: busy times and proposed slots for planning, then schedule, reschedule,
cancel and record a meeting held."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from contracts.vocabulary import ParticipantKind
from services.common import access
from services.common.access import Action
from services.common.db import UnitOfWork
from services.common.errors import Conflict, DomainError
from services.coordination import repository
from services.coordination.models import MeetingParticipantRow, MeetingRow, PathwayRow
from services.coordination.needtoknow import Change
from services.coordination.pathways import Pathway
from services.coordination.scheduling import (
    MeetingPlace,
    MeetingRole,
    Participant,
    check_meeting,
    find_slots,
)
from services.coordination.usecases.shared import _iso, _load, _log_change, _timeline
from services.coordination.visibility import changeable_pathway, visible_meeting

# The citizen's display name in invitations: coordination does not know the name;
# notifications fetches the citizen's contact from intake at send time.
CITIZEN_LABEL = "Borgeren"


def _invitees(pathway: Pathway, invitees: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The invitation list: the tovholder and the citizen first (always required),
    then the others as asked. A participant listed twice is an error."""
    tovholder = pathway.tovholder_id
    if tovholder is None:
        raise Conflict("tovholder", "pathway.tovholder_missing",
                       "appoint a tovholder before planning meetings")
    result = [{"participant_id": tovholder, "required": True},
              {"participant_id": pathway.citizen_id, "required": True}]
    seen = {tovholder, pathway.citizen_id}
    for index, invitee in enumerate(invitees):
        pid = invitee["participant_id"]
        if pid in seen:
            if pid in (tovholder, pathway.citizen_id):
                continue  # always invited anyway
            raise DomainError(f"participants.{index}.participant_id",
                              "meeting.participant_duplicate", f"{pid} is listed twice")
        known = pid in pathway.members or pid in pathway.network
        if not known:
            raise DomainError(f"participants.{index}.participant_id",
                              "meeting.unknown_participant",
                              f"{pid} is not in the pathway's team or network")
        seen.add(pid)
        result.append({"participant_id": pid, "required": bool(invitee.get("required", True))})
    return result


def _kind(pathway: Pathway, participant_id: str) -> ParticipantKind:
    if participant_id == pathway.tovholder_id:
        return ParticipantKind.TOVHOLDER
    if participant_id == pathway.citizen_id:
        return ParticipantKind.CITIZEN
    if participant_id in pathway.network:
        return ParticipantKind.NETWORK
    return ParticipantKind.MEMBER


_ROLE = {
    ParticipantKind.TOVHOLDER: MeetingRole.TOVHOLDER,
    ParticipantKind.CITIZEN: MeetingRole.CITIZEN,
    ParticipantKind.NETWORK: MeetingRole.NETWORK,
    ParticipantKind.MEMBER: MeetingRole.MEMBER,
}


def _scheduling_participants(
    uow: UnitOfWork, pathway: Pathway, invitees: list[dict[str, Any]],
    start: dt.datetime, end: dt.datetime,
) -> list[Participant]:
    """Invitees with their working hours (staff) and busy blocks in [start, end)."""
    ids = [i["participant_id"] for i in invitees]
    staff = repository.staff(uow.session, (pid for pid in ids if pid in pathway.members))
    busy = repository.busy_blocks(uow.session, ids, start, end)
    result = []
    for invitee in invitees:
        pid = invitee["participant_id"]
        kind = _kind(pathway, pid)
        is_staff = pid in pathway.members
        label = (pathway.members[pid].name if is_staff
                 else pathway.network[pid].name if pid in pathway.network else CITIZEN_LABEL)
        result.append(
            Participant(
                participant_id=pid,
                role=_ROLE[kind],
                required=invitee["required"],
                working_hours=repository.working_hours_of(staff.get(pid)) if is_staff else None,
                busy=tuple(busy[pid]),
                name=label,
            )
        )
    return result


def _wire_participants(
    uow: UnitOfWork, pathway: Pathway, invitees: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Participants as the meeting events carry them: staff with their work e-mail,
    the citizen and the network without any address."""
    staff = repository.staff(uow.session, pathway.members)
    wire = []
    for invitee in invitees:
        pid = invitee["participant_id"]
        kind = _kind(pathway, pid)
        if pid in pathway.members:
            name, email = pathway.members[pid].name, getattr(staff.get(pid), "email", None)
        elif pid in pathway.network:
            name, email = pathway.network[pid].name, None
        else:
            name, email = CITIZEN_LABEL, None
        required = invitee["required"] or kind in (ParticipantKind.TOVHOLDER,
                                                   ParticipantKind.CITIZEN)
        wire.append({"participant_id": pid, "kind": kind, "required": required,
                     "name": name, "email": email})
    return wire


def _meeting_payload(
    uow: UnitOfWork, row: PathwayRow, pathway: Pathway, meeting: MeetingRow
) -> dict[str, Any]:
    return {
        "meeting_id": meeting.id,
        "pathway_id": row.id,
        "citizen_ref": row.citizen_ref,
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "place": meeting.place,
        "sequence": meeting.sequence,
        "participants": _wire_participants(uow, pathway, meeting.participants),
    }


def busy_times(uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID,
               window_start: dt.datetime, window_end: dt.datetime) -> dict[str, Any]:
    """When the citizen, the team and the network are busy in the window: times only
    (the week grid of the scheduling page), for whoever may plan the pathway's meetings."""
    row, _ = changeable_pathway(uow, actor, pathway_id, Change.MEETING)
    pathway = repository.load_pathway(uow.session, row)
    people = [pathway.citizen_id, *pathway.members, *pathway.network]
    found = repository.busy_blocks(uow.session, people, window_start, window_end)
    access.record(uow, actor=actor, action=Action.READ, what="pathway", citizen_ref=row.citizen_ref,
                  subject_id=row.id, purpose="Finde mødetider med borgeren og teamet")
    uow.commit()
    return {
        "pathway_id": str(row.id),
        "participants": [
            {"participant_id": pid,
             "busy": [{"starts_at": _iso(b.start), "ends_at": _iso(b.end), "ref": b.ref}
                      for b in sorted(found.get(pid, []), key=lambda b: b.start)]}
            for pid in people
        ],
    }


def propose_slots(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, length_minutes: int,
    horizon_start: dt.datetime, horizon_end: dt.datetime, participants: list[dict[str, Any]],
    limit: int, max_per_day: int | None, meeting_id: uuid.UUID | None,
) -> dict[str, Any]:
    """The best candidate slots (nothing is written); the tovholder's planning tool."""
    row, _ = changeable_pathway(uow, actor, pathway_id, Change.MEETING)
    pathway = repository.load_pathway(uow.session, row)
    invitees = _invitees(pathway, participants)
    if horizon_end <= horizon_start:
        raise DomainError("horizon_end", "slots.horizon_invalid",
                          "the horizon must end after it starts")
    start = max(horizon_start, uow.clock.now())  # no slot in the past
    if horizon_end <= start:
        raise DomainError("horizon_end", "slots.horizon_in_past", "the horizon has passed")
    search = find_slots(
        _scheduling_participants(uow, pathway, invitees, start, horizon_end),
        dt.timedelta(minutes=length_minutes),
        start,
        horizon_end,
        limit=limit,
        preferences=repository.preferences_of(row),
        max_per_day=max_per_day,
        ignore_ref=str(meeting_id) if meeting_id else None,
    )
    access.record(uow, actor=actor, action=Action.READ, what="pathway", citizen_ref=row.citizen_ref,
                  subject_id=row.id, purpose="Finde mødetider med borgeren og teamet")
    uow.commit()
    return {
        "pathway_id": str(row.id),
        "slots": [
            {"starts_at": _iso(p.start), "ends_at": _iso(p.end), "place": p.place.value,
             "optional_attending": list(p.optional_attending),
             "optional_missing": list(p.optional_missing),
             "preference_misses": list(p.preference_misses)}
            for p in search.proposals
        ],
        "searched": {"days": search.stats.days_examined,
                     "feasible_starts": search.stats.feasible_starts},
    }


def schedule_meeting(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, starts_at: dt.datetime,
    ends_at: dt.datetime, place: Any, participants: list[dict[str, Any]],
) -> dict[str, Any]:
    row, pathway = _load(uow, actor, pathway_id, Change.MEETING)
    invitees = _invitees(pathway, participants)
    now = uow.clock.now()
    where = MeetingPlace(getattr(place, "value", place)) if place else (
        repository.preferences_of(row).place)
    meeting_id = uuid.uuid4()
    # Who may come (team and network, not in the past), then calendars and holidays.
    pathway.schedule_meeting(str(meeting_id), starts_at, ends_at, where,
                             [i["participant_id"] for i in invitees], now)
    check = check_meeting(
        _scheduling_participants(uow, pathway, invitees, starts_at, ends_at), starts_at, ends_at
    )
    meeting = MeetingRow(
        id=meeting_id, pathway_id=row.id, starts_at=starts_at, ends_at=ends_at,
        place=where.value, status="planned", sequence=0, participants=invitees, present=[],
        citizen_present=False, tovholder_present=False, decisions=[], scheduled_at=now,
        scheduled_by=actor,
    )
    uow.session.add(meeting)
    uow.session.flush()
    for invitee in invitees:
        uow.session.add(MeetingParticipantRow(meeting_id=meeting_id,
                                              participant_id=invitee["participant_id"]))
    uow.add_event("coordination.meeting_scheduled", _meeting_payload(uow, row, pathway, meeting),
                  correlation_id=str(row.id))
    _timeline(uow, row.id, "meeting_scheduled", now, actor, meeting_id=str(meeting_id),
              starts_at=_iso(starts_at), ends_at=_iso(ends_at), place=where.value,
              participants=[i["participant_id"] for i in invitees])
    _log_change(uow, actor, "meeting", row, meeting_id)
    uow.commit()
    return {"meeting_id": str(meeting_id), "sequence": 0,
            "optional_unavailable": list(check.optional_unavailable)}


def _load_meeting(
    uow: UnitOfWork, actor: str, meeting_id: uuid.UUID
) -> tuple[MeetingRow, PathwayRow, Pathway]:
    """A meeting the caller may change, with its pathway locked (a meeting of a pathway
    they may not see answers as a missing meeting)."""
    meeting, row, _ = visible_meeting(uow, actor, meeting_id)
    uow.session.refresh(meeting)
    return meeting, row, repository.load_pathway(uow.session, row)


def reschedule_meeting(
    uow: UnitOfWork, *, actor: str, meeting_id: uuid.UUID, starts_at: dt.datetime,
    ends_at: dt.datetime, reason: str, place: Any,
) -> dict[str, Any]:
    meeting, row, pathway = _load_meeting(uow, actor, meeting_id)
    now = uow.clock.now()
    where = MeetingPlace(getattr(place, "value", place)) if place else None
    pathway.reschedule_meeting(str(meeting_id), starts_at, ends_at, now, reason=reason,
                               place=where)
    invitees = list(meeting.participants)
    tovholder = pathway.tovholder_id
    if tovholder is not None and tovholder not in {i["participant_id"] for i in invitees}:
        # The tovholder changed since the meeting was planned: the new one comes too.
        invitees.insert(0, {"participant_id": tovholder, "required": True})
        uow.session.add(MeetingParticipantRow(meeting_id=meeting.id, participant_id=tovholder))
    check = check_meeting(
        _scheduling_participants(uow, pathway, invitees, starts_at, ends_at),
        starts_at, ends_at, ignore_ref=str(meeting_id),
    )
    old_start = meeting.starts_at
    meeting.starts_at, meeting.ends_at = starts_at, ends_at
    meeting.place = pathway.meetings[str(meeting_id)].place.value
    meeting.participants = invitees
    meeting.sequence += 1
    uow.session.flush()
    uow.add_event("coordination.meeting_rescheduled",
                  _meeting_payload(uow, row, pathway, meeting), correlation_id=str(row.id))
    _timeline(uow, row.id, "meeting_rescheduled", now, actor, meeting_id=str(meeting_id),
              old_starts_at=_iso(old_start), starts_at=_iso(starts_at), ends_at=_iso(ends_at),
              reason=reason.strip() or None, sequence=meeting.sequence)
    _log_change(uow, actor, "meeting", row, meeting_id)
    uow.commit()
    return {"meeting_id": str(meeting_id), "sequence": meeting.sequence,
            "optional_unavailable": list(check.optional_unavailable)}


def cancel_meeting(
    uow: UnitOfWork, *, actor: str, meeting_id: uuid.UUID, reason: str
) -> dict[str, Any]:
    meeting, row, pathway = _load_meeting(uow, actor, meeting_id)
    now = uow.clock.now()
    pathway.cancel_meeting(str(meeting_id), reason, now)
    meeting.status = "cancelled"
    meeting.cancel_reason = reason.strip()
    meeting.sequence += 1
    uow.session.flush()
    uow.add_event("coordination.meeting_cancelled",
                  _meeting_payload(uow, row, pathway, meeting), correlation_id=str(row.id))
    _timeline(uow, row.id, "meeting_cancelled", now, actor, meeting_id=str(meeting_id),
              reason=reason.strip(), sequence=meeting.sequence)
    _log_change(uow, actor, "meeting", row, meeting_id)
    uow.commit()
    return {"meeting_id": str(meeting_id), "sequence": meeting.sequence}


def record_meeting_held(
    uow: UnitOfWork, *, actor: str, meeting_id: uuid.UUID, present: list[str],
    decisions: list[str],
) -> dict[str, Any]:
    meeting, row, pathway = _load_meeting(uow, actor, meeting_id)
    now = uow.clock.now()
    held = pathway.record_meeting_held(str(meeting_id), present, now)
    meeting.status = "held"
    meeting.present = list(held.present)
    meeting.citizen_present = held.citizen_present
    meeting.tovholder_present = held.tovholder_present
    meeting.decisions = [d.strip() for d in decisions if d.strip()]
    meeting.held_at = now
    uow.add_event(
        "coordination.meeting_held",
        {"meeting_id": meeting.id, "pathway_id": row.id, "citizen_ref": row.citizen_ref,
         "held_at": now, "citizen_present": held.citizen_present,
         "tovholder_present": held.tovholder_present},
        correlation_id=str(row.id),
    )
    _timeline(uow, row.id, "meeting_held", now, actor, meeting_id=str(meeting_id),
              present=list(held.present), decisions=meeting.decisions)
    _log_change(uow, actor, "meeting", row, meeting_id)
    uow.commit()
    return {"meeting_id": str(meeting_id), "citizen_present": held.citizen_present,
            "tovholder_present": held.tovholder_present}
