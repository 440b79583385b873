"""Sammenhængende borgerforløb (coherent citizen pathway): the team around one citizen.

Pure domain, no I/O. A pathway has at most one tovholder (the one lead coordinator
and the citizen's known face) at any time, a team of members from several
agencies, the citizen's network (pårørende), and meetings. Every change is recorded
as a frozen domain event in `Pathway.events`; the service turns them into outbox
messages. A change of tovholder is always an explicit handover with a reason,
because the citizen must be told who their new contact is.

Datetimes are timezone-aware (naive ones are refused), as in
`services.coordination.scheduling`; meeting times are kept in Europe/Copenhagen.
`date` values (membership periods) are Copenhagen calendar days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from contracts.vocabulary import Agency
from services.common.errors import Conflict, DomainError, NotFound
from services.coordination.scheduling import MeetingPlace, to_copenhagen

# --- the team ----------------------------------------------------------------


@dataclass(frozen=True)
class TeamMember:
    """A professional in the pathway's team, from one agency, for a period.

    `role` is what they do here in the users' words (e.g. "socialrådgiver",
    "ungekonsulent", "lærer"); `active_to` is their last day, inclusive."""

    member_id: str
    name: str
    agency: Agency
    role: str
    active_from: dt.date
    active_to: dt.date | None = None

    def is_active_on(self, day: dt.date) -> bool:
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)


@dataclass(frozen=True)
class NetworkPerson:
    """Someone from the citizen's network (pårørende, friends) who takes part.

    `may_contact`: the citizen agreed that this person receives meeting invitations
    (and their moves and cancellations) at `email` or `phone`. Without that consent
    the details are not used for anything."""

    person_id: str
    name: str
    relation: str  # in the citizen's words: "mor", "far", "storebror", "ven"
    email: str | None = None
    phone: str | None = None
    may_contact: bool = False


@dataclass(frozen=True)
class TovholderTerm:
    """One tovholder's time on the pathway; `until` None while it lasts."""

    member_id: str
    since: dt.datetime
    until: dt.datetime | None = None
    handover_reason: str | None = None  # why this term ended
    handover_note: str | None = None  # what the leaving tovholder wrote for the next one


class MeetingStatus(StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Meeting:
    """A pathway meeting. Attendance is recorded when it has been held, together
    with who the tovholder was at its start (for the continuity figure)."""

    meeting_id: str
    start: dt.datetime
    end: dt.datetime
    place: MeetingPlace
    invited: frozenset[str]
    status: MeetingStatus = MeetingStatus.PLANNED
    present: frozenset[str] = frozenset()
    citizen_present: bool = False
    tovholder_present: bool = False
    cancel_reason: str | None = None


@dataclass(frozen=True)
class ContinuityFigure:
    """How well the pathway kept its known faces.

    `share` is the share of held meetings where the citizen was present together
    with the tovholder of the day; None when no meeting has been held yet (0 % would
    claim a failure that has not happened)."""

    held_meetings: int
    with_citizen_and_tovholder: int
    share: float | None
    tovholder_changes: int


# --- domain events -----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PathwayEvent:
    pathway_id: str
    at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class PathwayOpened(PathwayEvent):
    citizen_id: str
    tovholder_id: str | None


@dataclass(frozen=True, kw_only=True)
class MemberAdded(PathwayEvent):
    member_id: str
    agency: Agency
    role: str
    active_from: dt.date
    active_to: dt.date | None


@dataclass(frozen=True, kw_only=True)
class MembershipEnded(PathwayEvent):
    member_id: str
    last_day: dt.date


@dataclass(frozen=True, kw_only=True)
class NetworkPersonAdded(PathwayEvent):
    person_id: str
    relation: str


@dataclass(frozen=True, kw_only=True)
class TovholderAppointed(PathwayEvent):
    """The pathway got its first tovholder: the citizen is told who it is."""

    citizen_id: str
    tovholder_id: str
    tovholder_name: str
    tovholder_agency: Agency


@dataclass(frozen=True, kw_only=True)
class TovholderHandedOver(PathwayEvent):
    """The tovholder changed: the citizen is told who their new contact is and why."""

    citizen_id: str
    old_tovholder_id: str
    new_tovholder_id: str
    new_tovholder_name: str
    new_tovholder_agency: Agency
    reason: str
    note: str | None = None  # the handover note, for the new tovholder and the team


@dataclass(frozen=True, kw_only=True)
class MeetingScheduled(PathwayEvent):
    meeting_id: str
    start: dt.datetime
    end: dt.datetime
    place: MeetingPlace
    invited: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class MeetingRescheduled(PathwayEvent):
    meeting_id: str
    old_start: dt.datetime
    old_end: dt.datetime
    start: dt.datetime
    end: dt.datetime
    place: MeetingPlace
    reason: str


@dataclass(frozen=True, kw_only=True)
class MeetingCancelled(PathwayEvent):
    meeting_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class MeetingHeld(PathwayEvent):
    meeting_id: str
    present: tuple[str, ...]
    citizen_present: bool
    tovholder_present: bool


@dataclass(frozen=True, kw_only=True)
class PathwayClosed(PathwayEvent):
    reason: str


# --- the aggregate -----------------------------------------------------------


def _aware(value: dt.datetime, field_name: str) -> dt.datetime:
    to_copenhagen(value, field_name)  # refuses naive datetimes
    return value


def _text(value: str, field_name: str, rule: str, what: str) -> str:
    text = value.strip()
    if not text:
        raise DomainError(field_name, rule, f"{what} must not be empty")
    return text


def _meeting_times(
    start: dt.datetime, end: dt.datetime, at: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """Start and end in Copenhagen time, checked: ends after it starts, not in the past."""
    start = to_copenhagen(start, "meeting.start")
    end = to_copenhagen(end, "meeting.end")
    _aware(at, "at")
    if end <= start:
        raise DomainError(
            "meeting.end", "meeting.end_before_start", "the meeting must end after it starts"
        )
    if start < at:
        raise DomainError(
            "meeting.start", "meeting.in_past", "a meeting cannot be planned in the past"
        )
    return start, end


@dataclass(eq=False)
class Pathway:
    """A sammenhængende borgerforløb. Build a new one with `Pathway.open`; build one
    from storage with the constructor (the invariants are checked again)."""

    pathway_id: str
    citizen_id: str
    opened_at: dt.datetime
    members: dict[str, TeamMember] = field(default_factory=dict)
    tovholder_terms: list[TovholderTerm] = field(default_factory=list)
    network: dict[str, NetworkPerson] = field(default_factory=dict)
    meetings: dict[str, Meeting] = field(default_factory=dict)
    closed_at: dt.datetime | None = None
    events: list[PathwayEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        open_terms = [term for term in self.tovholder_terms if term.until is None]
        if len(open_terms) > 1:
            raise Conflict(
                "tovholder",
                "pathway.second_tovholder",
                "a pathway has one active tovholder, not several",
            )
        for term in self.tovholder_terms:
            if term.member_id not in self.members:
                raise DomainError(
                    "tovholder",
                    "pathway.tovholder_not_member",
                    f"tovholder {term.member_id} is not in the team",
                )

    # -- reading --

    @classmethod
    def open(
        cls,
        pathway_id: str,
        citizen_id: str,
        at: dt.datetime,
        *,
        tovholder: TeamMember | None = None,
    ) -> Pathway:
        """Open a pathway for a citizen, with its tovholder if already found.

        The social worker who opens the pathway may not be the tovholder; then the
        tovholder is appointed later with `appoint_tovholder`."""
        pathway = cls(
            pathway_id=pathway_id, citizen_id=citizen_id, opened_at=_aware(at, "opened_at")
        )
        pathway.events.append(
            PathwayOpened(
                pathway_id=pathway_id,
                at=at,
                citizen_id=citizen_id,
                tovholder_id=tovholder.member_id if tovholder else None,
            )
        )
        if tovholder is not None:
            pathway.add_member(tovholder, at)
            pathway.appoint_tovholder(tovholder.member_id, at)
        return pathway

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def tovholder_id(self) -> str | None:
        """The active tovholder's member id, or None before one is appointed."""
        for term in self.tovholder_terms:
            if term.until is None:
                return term.member_id
        return None

    @property
    def tovholder_changes(self) -> int:
        """Handovers so far; the first appointment is not a change."""
        return sum(1 for term in self.tovholder_terms if term.until is not None)

    def tovholder_at(self, when: dt.datetime) -> str | None:
        """Who was tovholder at `when`."""
        for term in self.tovholder_terms:
            if term.since <= when and (term.until is None or when < term.until):
                return term.member_id
        return None

    def active_members(self, on: dt.date) -> list[TeamMember]:
        """Team members whose period covers the day `on`."""
        return [member for member in self.members.values() if member.is_active_on(on)]

    def continuity(self) -> ContinuityFigure:
        """The continuity figure: held meetings with the citizen and the tovholder of
        the day both present, as a share of held meetings, and tovholder changes."""
        held = [m for m in self.meetings.values() if m.status is MeetingStatus.HELD]
        together = sum(1 for m in held if m.citizen_present and m.tovholder_present)
        return ContinuityFigure(
            held_meetings=len(held),
            with_citizen_and_tovholder=together,
            share=together / len(held) if held else None,
            tovholder_changes=self.tovholder_changes,
        )

    # -- the team --

    def _ensure_open(self) -> None:
        if self.closed_at is not None:
            raise Conflict("pathway", "pathway.closed", "the pathway is closed")

    def add_member(self, member: TeamMember, at: dt.datetime) -> MemberAdded:
        """Add a professional to the team for their period."""
        self._ensure_open()
        _aware(at, "at")
        if (
            member.member_id in self.members
            or member.member_id in self.network
            or (member.member_id == self.citizen_id)
        ):
            raise Conflict(
                "member.member_id", "pathway.member_exists", f"{member.name} is already in the team"
            )
        if member.active_to is not None and member.active_to < member.active_from:
            raise DomainError(
                "member.active_to",
                "member.period_invalid",
                "a membership cannot end before it starts",
            )
        _text(member.role, "member.role", "member.role_missing", "the member's role")
        self.members[member.member_id] = member
        event = MemberAdded(
            pathway_id=self.pathway_id,
            at=at,
            member_id=member.member_id,
            agency=member.agency,
            role=member.role,
            active_from=member.active_from,
            active_to=member.active_to,
        )
        self.events.append(event)
        return event

    def end_membership(self, member_id: str, last_day: dt.date, at: dt.datetime) -> MembershipEnded:
        """A member leaves the team after `last_day`. The tovholder cannot just leave:
        hand over first, so that the citizen is never left without a known face."""
        self._ensure_open()
        _aware(at, "at")
        member = self._member(member_id, "member_id")
        if member_id == self.tovholder_id:
            raise Conflict(
                "member_id",
                "pathway.tovholder_must_hand_over",
                "hand the tovholder role over before the tovholder leaves",
            )
        if last_day < member.active_from:
            raise DomainError(
                "last_day", "member.period_invalid", "a membership cannot end before it starts"
            )
        self.members[member_id] = replace(member, active_to=last_day)
        event = MembershipEnded(
            pathway_id=self.pathway_id, at=at, member_id=member_id, last_day=last_day
        )
        self.events.append(event)
        return event

    def add_network_person(self, person: NetworkPerson, at: dt.datetime) -> NetworkPersonAdded:
        """Add someone from the citizen's network who takes part in meetings.

        Consent to contact them (`may_contact`) needs an e-mail or a phone number to
        contact them at."""
        self._ensure_open()
        _aware(at, "at")
        if person.may_contact and not (person.email or person.phone):
            raise DomainError(
                "may_contact",
                "network.contact_missing",
                "give an e-mail or a phone number for the person the citizen agreed we contact",
            )
        if person.person_id in self.network or person.person_id in self.members:
            raise Conflict(
                "person.person_id",
                "pathway.participant_exists",
                f"{person.name} already takes part",
            )
        self.network[person.person_id] = person
        event = NetworkPersonAdded(
            pathway_id=self.pathway_id, at=at, person_id=person.person_id, relation=person.relation
        )
        self.events.append(event)
        return event

    def _member(self, member_id: str, field_name: str) -> TeamMember:
        try:
            return self.members[member_id]
        except KeyError:
            raise NotFound(field_name, f"no team member {member_id} in this pathway") from None

    def _active_member(self, member_id: str, at: dt.datetime, field_name: str) -> TeamMember:
        member = self._member(member_id, field_name)
        if not member.is_active_on(to_copenhagen(at).date()):
            raise DomainError(
                field_name,
                "pathway.member_not_active",
                f"{member.name} is not in the team on {at:%Y-%m-%d}",
            )
        return member

    # -- the tovholder --

    def appoint_tovholder(self, member_id: str, at: dt.datetime) -> TovholderAppointed:
        """Make an active team member the pathway's first tovholder.

        A second active tovholder is refused (``pathway.second_tovholder``): changing
        the tovholder is a handover, see `hand_over_tovholder`."""
        self._ensure_open()
        _aware(at, "at")
        if self.tovholder_id is not None:
            raise Conflict(
                "tovholder",
                "pathway.second_tovholder",
                "the pathway already has a tovholder; hand over instead",
            )
        member = self._active_member(member_id, at, "member_id")
        self.tovholder_terms.append(TovholderTerm(member_id=member_id, since=at))
        event = TovholderAppointed(
            pathway_id=self.pathway_id,
            at=at,
            citizen_id=self.citizen_id,
            tovholder_id=member_id,
            tovholder_name=member.name,
            tovholder_agency=member.agency,
        )
        self.events.append(event)
        return event

    def hand_over_tovholder(
        self, new_tovholder_id: str, reason: str, at: dt.datetime, *, note: str | None = None
    ) -> TovholderHandedOver:
        """Hand the tovholder role to another active team member, with a reason and,
        for the new tovholder and the team, a handover note.

        The old tovholder stays in the team unless their membership is ended."""
        self._ensure_open()
        _aware(at, "at")
        reason = _text(reason, "reason", "handover.reason_missing", "the reason for the handover")
        note = (note or "").strip() or None
        old_id = self.tovholder_id
        if old_id is None:
            raise Conflict(
                "tovholder",
                "pathway.tovholder_missing",
                "there is no tovholder to hand over from; appoint one",
            )
        if new_tovholder_id == old_id:
            raise Conflict(
                "new_tovholder_id",
                "handover.same_tovholder",
                "the new tovholder is already the tovholder",
            )
        new = self._active_member(new_tovholder_id, at, "new_tovholder_id")
        current = self.tovholder_terms[-1]
        if at < current.since:
            raise DomainError(
                "at",
                "handover.before_term_start",
                "a handover cannot predate the current tovholder's start",
            )
        self.tovholder_terms[-1] = replace(current, until=at, handover_reason=reason,
                                           handover_note=note)
        self.tovholder_terms.append(TovholderTerm(member_id=new_tovholder_id, since=at))
        event = TovholderHandedOver(
            pathway_id=self.pathway_id,
            at=at,
            citizen_id=self.citizen_id,
            old_tovholder_id=old_id,
            new_tovholder_id=new_tovholder_id,
            new_tovholder_name=new.name,
            new_tovholder_agency=new.agency,
            reason=reason,
            note=note,
        )
        self.events.append(event)
        return event

    # -- meetings --

    def _meeting(self, meeting_id: str) -> Meeting:
        try:
            return self.meetings[meeting_id]
        except KeyError:
            raise NotFound("meeting_id", f"no meeting {meeting_id} in this pathway") from None

    def _planned(self, meeting_id: str) -> Meeting:
        meeting = self._meeting(meeting_id)
        if meeting.status is not MeetingStatus.PLANNED:
            raise Conflict(
                "meeting_id",
                "meeting.not_planned",
                f"the meeting is {meeting.status.value}, not planned",
            )
        return meeting

    def schedule_meeting(
        self,
        meeting_id: str,
        start: dt.datetime,
        end: dt.datetime,
        place: MeetingPlace,
        invited: Iterable[str],
        at: dt.datetime,
    ) -> MeetingScheduled:
        """Plan a meeting with the citizen and the tovholder (always invited) and any
        team members active that day and network persons.

        Calendars and working hours are the caller's job (`scheduling.check_meeting`);
        this checks who may be invited."""
        self._ensure_open()
        if meeting_id in self.meetings:
            raise Conflict("meeting_id", "meeting.exists", "a meeting with this id exists")
        start, end = _meeting_times(start, end, at)
        tovholder = self.tovholder_id
        if tovholder is None:
            raise Conflict(
                "tovholder",
                "pathway.tovholder_missing",
                "appoint a tovholder before planning meetings",
            )
        guests = frozenset(invited) | {tovholder, self.citizen_id}
        for guest in sorted(guests):
            if guest == self.citizen_id or guest in self.network:
                continue
            member = self.members.get(guest)
            if member is None or not member.is_active_on(start.date()):
                raise DomainError(
                    "invited",
                    "meeting.unknown_participant",
                    f"{guest} is not in the team or network on {start:%Y-%m-%d}",
                )
        self.meetings[meeting_id] = Meeting(
            meeting_id=meeting_id, start=start, end=end, place=place, invited=guests
        )
        event = MeetingScheduled(
            pathway_id=self.pathway_id,
            at=at,
            meeting_id=meeting_id,
            start=start,
            end=end,
            place=place,
            invited=tuple(sorted(guests)),
        )
        self.events.append(event)
        return event

    def reschedule_meeting(
        self,
        meeting_id: str,
        start: dt.datetime,
        end: dt.datetime,
        at: dt.datetime,
        *,
        reason: str = "",
        place: MeetingPlace | None = None,
    ) -> MeetingRescheduled:
        """Move a planned meeting (check the new time with `check_meeting` first,
        passing ``ignore_ref=meeting_id``)."""
        self._ensure_open()
        meeting = self._planned(meeting_id)
        start, end = _meeting_times(start, end, at)
        moved = replace(meeting, start=start, end=end, place=place or meeting.place)
        self.meetings[meeting_id] = moved
        event = MeetingRescheduled(
            pathway_id=self.pathway_id,
            at=at,
            meeting_id=meeting_id,
            old_start=meeting.start,
            old_end=meeting.end,
            start=start,
            end=end,
            place=moved.place,
            reason=reason.strip(),
        )
        self.events.append(event)
        return event

    def cancel_meeting(self, meeting_id: str, reason: str, at: dt.datetime) -> MeetingCancelled:
        """Cancel a planned meeting; the reason goes to everyone invited."""
        self._ensure_open()
        _aware(at, "at")
        meeting = self._planned(meeting_id)
        reason = _text(reason, "reason", "meeting.cancel_reason_missing", "the reason")
        self.meetings[meeting_id] = replace(
            meeting, status=MeetingStatus.CANCELLED, cancel_reason=reason
        )
        event = MeetingCancelled(
            pathway_id=self.pathway_id, at=at, meeting_id=meeting_id, reason=reason
        )
        self.events.append(event)
        return event

    def record_meeting_held(
        self, meeting_id: str, present: Iterable[str], at: dt.datetime
    ) -> MeetingHeld:
        """Record that a planned meeting took place and who was there.

        The tovholder counted is the one at the meeting's start, so a handover
        recorded later does not rewrite the continuity figure."""
        _aware(at, "at")
        meeting = self._planned(meeting_id)
        if at < meeting.start:
            raise DomainError("at", "meeting.not_yet_held", "the meeting has not started yet")
        attendees = frozenset(present)
        known = {self.citizen_id} | set(self.members) | set(self.network)
        unknown = sorted(attendees - known)
        if unknown:
            raise DomainError(
                "present",
                "meeting.unknown_participant",
                f"not in the team or network: {', '.join(unknown)}",
            )
        tovholder = self.tovholder_at(meeting.start)
        held = replace(
            meeting,
            status=MeetingStatus.HELD,
            present=attendees,
            citizen_present=self.citizen_id in attendees,
            tovholder_present=tovholder is not None and tovholder in attendees,
        )
        self.meetings[meeting_id] = held
        event = MeetingHeld(
            pathway_id=self.pathway_id,
            at=at,
            meeting_id=meeting_id,
            present=tuple(sorted(attendees)),
            citizen_present=held.citizen_present,
            tovholder_present=held.tovholder_present,
        )
        self.events.append(event)
        return event

    def close(self, reason: str, at: dt.datetime) -> PathwayClosed:
        """Close the pathway; planned meetings must be cancelled or held first."""
        self._ensure_open()
        _aware(at, "at")
        reason = _text(reason, "reason", "pathway.close_reason_missing", "the reason")
        if any(m.status is MeetingStatus.PLANNED for m in self.meetings.values()):
            raise Conflict(
                "meetings",
                "pathway.meetings_planned",
                "cancel or record the planned meetings before closing",
            )
        self.closed_at = at
        event = PathwayClosed(pathway_id=self.pathway_id, at=at, reason=reason)
        self.events.append(event)
        return event
