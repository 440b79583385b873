"""Meeting invitations as iCalendar (RFC 5545) objects, sent by e-mail (iTIP/iMIP).

Scheduling sends METHOD:REQUEST with SEQUENCE 0; rescheduling sends REQUEST again
with the same UID and a higher SEQUENCE, so calendars move the existing entry;
cancelling sends METHOD:CANCEL, STATUS:CANCELLED, same UID, higher SEQUENCE again.

Times are written in UTC (``DTSTART:20251027T090000Z``), not as local time with a
TZID and a VTIMEZONE. Our meetings are single events, never recurring, so the one
DST rule that matters is applied here, once, from the tz database. Outlook converts
UTC times correctly in every version we know of, whereas a VTIMEZONE with an IANA
TZID must be matched to a Windows zone: Outlook then sometimes shows a
"Customized Time Zone" or, in Outlook on the web, ignores the definition. Every client
displays the UTC time in the reader's own zone (Danish users: Copenhagen time).
If recurring meetings ever come, switch to TZID=Europe/Copenhagen with a VTIMEZONE,
because a recurrence rule in UTC drifts by an hour across DST.

Personal data: the invitation carries what the recipient needs to turn up and no
more: a plain summary ("Møde i dit forløb", "Teammøde"), the place, the organiser
(the tovholder) and the attendees the caller chooses to list. Never a CPR number,
a diagnosis or the citizen's name in the summary; a CPR-like number is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from icalendar import Calendar, Event, vCalAddress

from services.common.errors import DomainError

PRODID = "-//Ballerup Kommune//Samspil//DA"
CITIZEN_SUMMARY = "Møde i dit forløb"
NETWORK_SUMMARY = "Møde med tovholder og team"
TEAM_SUMMARY = "Teammøde"
UID_DOMAIN = "samspil"

# Six digits, optional dash or space, four digits: the shape of a CPR number.
_CPR_LIKE = re.compile(r"(?<!\d)\d{6}[- ]?\d{4}(?!\d)")
_ADDRESS = re.compile(r"[^@\s:]+@[^@\s]+")


class MeetingChange(StrEnum):
    """What happened to the meeting; decides METHOD and STATUS."""

    SCHEDULED = "scheduled"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Attendee:
    """One invited person. `name` is shown by calendars (CN); leave it out if unneeded."""

    email: str
    name: str | None = None
    required: bool = True  # ROLE=REQ-PARTICIPANT, else OPT-PARTICIPANT
    # Ask the client to send a reply to the organiser. Samspil records no replies, so
    # it never asks (docs/notifications.md, "RSVP"); the texts say the same.
    rsvp: bool = False


@dataclass(frozen=True)
class Meeting:
    """The facts of one meeting that an invitation may show.

    `start` and `end` must be timezone-aware (any zone; they are written in UTC).
    `organizer_email` is the tovholder's address: replies go there.
    """

    meeting_id: str
    start: dt.datetime
    end: dt.datetime
    summary: str
    location: str
    organizer_email: str
    organizer_name: str | None = None
    attendees: Sequence[Attendee] = field(default_factory=tuple)
    description: str | None = None


@dataclass(frozen=True)
class Invitation:
    """A built invitation: the .ics bytes and what the e-mail around it needs."""

    uid: str
    method: str
    sequence: int
    ics: bytes

    @property
    def content_type(self) -> str:
        """MIME type for the calendar part; Outlook wants the method repeated here."""
        return f'text/calendar; method={self.method}; charset="UTF-8"'

    @property
    def filename(self) -> str:
        return "invite.ics" if self.method == "REQUEST" else "cancel.ics"


def meeting_uid(meeting_id: str) -> str:
    """The UID of a meeting: stable across request, reschedule and cancel."""
    return f"{meeting_id}@{UID_DOMAIN}"


def next_sequence(previous: int | None) -> int:
    """SEQUENCE for the next invitation: 0 the first time, then one more each change.

    The notifications service stores the last sequence sent per meeting; calendars
    ignore an update whose SEQUENCE is not higher than the one they hold.
    """
    return 0 if previous is None else previous + 1


def build_invitation(
    meeting: Meeting,
    change: MeetingChange,
    *,
    sequence: int,
    dtstamp: dt.datetime,
) -> Invitation:
    """Build the iCalendar object for `change` to `meeting`.

    `dtstamp` is when the invitation is created (passed in: there is no clock here).
    Raises DomainError for naive or reversed times, a bad address, a negative
    sequence, or text that looks like a CPR number.
    """
    change = MeetingChange(change)
    _check(meeting, sequence, dtstamp)
    method = "CANCEL" if change is MeetingChange.CANCELLED else "REQUEST"

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)

    event = Event()
    event.add("uid", meeting_uid(meeting.meeting_id))
    event.add("sequence", sequence)
    event.add("dtstamp", dtstamp.astimezone(dt.UTC))
    event.add("dtstart", meeting.start.astimezone(dt.UTC))
    event.add("dtend", meeting.end.astimezone(dt.UTC))
    event.add("summary", meeting.summary)
    event.add("location", meeting.location)
    if meeting.description:
        event.add("description", meeting.description)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(meeting.organizer_email, meeting.organizer_name))
    for attendee in meeting.attendees:
        address = _address(attendee.email, attendee.name)
        address.params["CUTYPE"] = "INDIVIDUAL"
        address.params["ROLE"] = "REQ-PARTICIPANT" if attendee.required else "OPT-PARTICIPANT"
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        address.params["RSVP"] = "TRUE" if attendee.rsvp and method == "REQUEST" else "FALSE"
        event.add("attendee", address)
    calendar.add_component(event)

    # icalendar folds lines at 75 octets (never inside a UTF-8 character) and ends
    # every line with CRLF, as RFC 5545 section 3.1 requires.
    return Invitation(
        uid=meeting_uid(meeting.meeting_id),
        method=method,
        sequence=sequence,
        ics=calendar.to_ical(),
    )


def _address(email: str, name: str | None) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = name
    return address


def _check(meeting: Meeting, sequence: int, dtstamp: dt.datetime) -> None:
    for name, value in (("start", meeting.start), ("end", meeting.end), ("dtstamp", dtstamp)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise DomainError(f"meeting.{name}", "ical.naive_datetime", "Must be timezone-aware.")
    if meeting.end <= meeting.start:
        raise DomainError(
            "meeting.end", "ical.end_before_start", "The meeting must end after it starts."
        )
    if sequence < 0:
        raise DomainError("sequence", "ical.negative_sequence", "Must be 0 or more.")
    if not meeting.meeting_id or "@" in meeting.meeting_id:
        raise DomainError(
            "meeting.meeting_id", "ical.invalid_id", "Must be a non-empty id without '@'."
        )
    emails = [("meeting.organizer_email", meeting.organizer_email)]
    emails += [(f"meeting.attendees.{i}.email", a.email) for i, a in enumerate(meeting.attendees)]
    for name, email in emails:
        if not _ADDRESS.fullmatch(email):
            raise DomainError(name, "ical.invalid_address", "Not an e-mail address.")
    texts = {
        "meeting.summary": meeting.summary,
        "meeting.location": meeting.location,
        "meeting.description": meeting.description or "",
    }
    texts |= {f"meeting.attendees.{i}.name": a.name or "" for i, a in enumerate(meeting.attendees)}
    for name, text in texts.items():
        if _CPR_LIKE.search(text):
            # A calendar entry is copied to phones and shared calendars: no CPR there.
            raise DomainError(
                name,
                "ical.personal_data",
                "Looks like a CPR number; an invitation must not carry one.",
            )
    if not meeting.summary.strip():
        raise DomainError("meeting.summary", "ical.summary_required", "Must not be empty.")
