"""What one delivery says: the text from templates, the invitation from ical, the
partner's JSON from its allow-list schema. Pure: `now` and addresses are passed in.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.envelope import Envelope, InvalidMessage
from contracts.notifications import PARTNER_MESSAGES
from contracts.vocabulary import MeetingPlace
from services.common.errors import DomainError
from services.notifications import ical, templates
from services.notifications.gate import RecipientKind
from services.notifications.routing import MEETING_EVENTS, STAFF_PARTICIPANTS, tovholder_of_meeting

FRONTEN_PLACE = "Fronten, Parkvej 10, 2750 Ballerup"
FRONTEN_BY_PHONE = "Fronten, telefon 44 77 34 43"

# Where a meeting is, as the reader says it.
PLACES_FOR_STAFF = {
    MeetingPlace.HOME: "Hjemme hos borgeren",
    MeetingPlace.FRONTEN: FRONTEN_PLACE,
    MeetingPlace.ELSEWHERE: "Efter aftale med tovholderen",
}
PLACES_FOR_CITIZEN = {
    MeetingPlace.HOME: "Hjemme hos dig",
    MeetingPlace.FRONTEN: FRONTEN_PLACE,
    MeetingPlace.ELSEWHERE: "Det aftaler du med din tovholder",
}

_CHANGES = {
    "coordination.meeting_scheduled": ical.MeetingChange.SCHEDULED,
    "coordination.meeting_rescheduled": ical.MeetingChange.RESCHEDULED,
    "coordination.meeting_cancelled": ical.MeetingChange.CANCELLED,
}


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    invitation: ical.Invitation | None = None


def template_kind(event_type: str, recipient_kind: RecipientKind) -> RecipientKind:
    """The tovholder and Fronten read the team's text where they have none of their own."""
    staff = (RecipientKind.TOVHOLDER, RecipientKind.FRONTEN)
    if recipient_kind in staff and not templates.has_template(
        event_type, recipient_kind
    ):
        return RecipientKind.TEAM_MEMBERS
    return recipient_kind


def template_data(
    event_type: str, recipient_kind: RecipientKind, payload: Mapping[str, Any]
) -> dict[str, object]:
    """The values a template may print, taken from the event's payload."""
    if event_type in MEETING_EVENTS:
        tovholder = tovholder_of_meeting(payload)
        places = PLACES_FOR_CITIZEN if recipient_kind is RecipientKind.CITIZEN else (
            PLACES_FOR_STAFF
        )
        return {
            "starts_at": payload["starts_at"],
            "location": places[MeetingPlace(payload["place"])],
            "tovholder_name": tovholder["name"] if tovholder else "Fronten",
            "pathway_ref": str(payload["pathway_id"]),
        }
    if event_type == "coordination.tovholder_handed_over":
        return {
            "pathway_ref": str(payload["pathway_id"]),
            "new_tovholder_name": payload["new_tovholder_name"],
            "new_tovholder_agency": str(payload["new_tovholder_agency"]),
            "new_tovholder_contact": payload["new_tovholder_email"] or FRONTEN_BY_PHONE,
        }
    if event_type in ("coordination.action_due", "coordination.action_overdue"):
        return {
            "pathway_ref": str(payload["pathway_id"]),
            "due_on": payload["due_on"],
            "action_ref": payload["action_id"],
        }
    if event_type == "housing.case_escalated":
        addressee = "fronten" if recipient_kind is RecipientKind.FRONTEN else "tovholder"
        requests = [str(a["request"]) for a in payload["asks"] if str(a["addressee"]) == addressee]
        return {
            "case_ref": str(payload["case_id"]),
            "level": str(payload["level"]),
            "request": requests[0] if requests else "for_information",
            "deadline": payload["next_deadline"] or "ingen fast frist",
        }
    if event_type == "housing.partner_status":
        return {
            "tenancy_ref": payload["tenancy_ref"] or "uden reference",
            "status": str(payload["status"]),
        }
    if event_type == "intake.bridging_due":
        return {
            "course_ref": str(payload["course_id"]),
            "due_on": payload["due_on"],
            "planned_end": payload["planned_end"],
        }
    if event_type == "intake.consent_withdrawn":
        return {"withdrawn_at": payload["withdrawn_at"], "recipient_name": payload["recipient"]}
    raise DomainError("event_type", "template.not_found", f"No text for {event_type}.")


def render_text(
    event_type: str, recipient_kind: RecipientKind, payload: Mapping[str, Any]
) -> templates.Message:
    data = template_data(event_type, recipient_kind, payload)
    return templates.render(event_type, template_kind(event_type, recipient_kind), data)


def compose_email(
    event_type: str,
    recipient_kind: RecipientKind,
    payload: Mapping[str, Any],
    *,
    to: str,
    now: dt.datetime,
    fronten_email: str,
) -> Email:
    """The e-mail for one recipient; meetings carry an iCalendar invitation."""
    message = render_text(event_type, recipient_kind, payload)
    invitation = None
    if event_type in MEETING_EVENTS:
        invitation = meeting_invitation(
            event_type, recipient_kind, payload, to=to, now=now, fronten_email=fronten_email
        )
    return Email(message.subject, message.text, invitation)


def meeting_invitation(
    event_type: str,
    recipient_kind: RecipientKind,
    payload: Mapping[str, Any],
    *,
    to: str,
    now: dt.datetime,
    fronten_email: str,
) -> ical.Invitation:
    """REQUEST or CANCEL with the meeting's stable UID and the event's SEQUENCE.

    Staff see the staff attendees; the citizen's invitation lists only the citizen,
    so no one's private address is shown to anyone else."""
    tovholder = tovholder_of_meeting(payload)
    citizen = recipient_kind is RecipientKind.CITIZEN
    if citizen:
        attendees: list[ical.Attendee] = [ical.Attendee(email=to)]
    else:
        attendees = [
            ical.Attendee(email=p["email"], name=p["name"], required=p["required"])
            for p in payload["participants"]
            if p["kind"] in STAFF_PARTICIPANTS and p["email"]
        ]
    places = PLACES_FOR_CITIZEN if citizen else PLACES_FOR_STAFF
    meeting = ical.Meeting(
        meeting_id=str(payload["meeting_id"]),
        start=payload["starts_at"],
        end=payload["ends_at"],
        summary=ical.CITIZEN_SUMMARY if citizen else ical.TEAM_SUMMARY,
        location=places[MeetingPlace(payload["place"])],
        organizer_email=(tovholder or {}).get("email") or fronten_email,
        organizer_name=(tovholder or {}).get("name") or "Fronten",
        attendees=attendees,
    )
    return ical.build_invitation(
        meeting, _CHANGES[event_type], sequence=int(payload["sequence"]), dtstamp=now
    )


def partner_body(envelope: Envelope) -> bytes:
    """The JSON a partner receives for `envelope`: exactly its allow-listed fields.

    The payload is the wire form (strings, as received); fields outside the partner
    schema are dropped, and what is left is validated strictly before it leaves."""
    schema_cls = PARTNER_MESSAGES.get(envelope.type)
    if schema_cls is None:
        raise DomainError(
            "event_type", "partner.no_message_schema", f"No partner message for {envelope.type}."
        )
    payload = dict(envelope.payload)
    if envelope.type == "intake.bridging_due":
        payload["course_ref"] = payload.get("course_id")
    data: dict[str, Any] = {
        "type": envelope.type,
        "message_id": str(envelope.message_id),
        "occurred_at": envelope.occurred_at.astimezone(dt.UTC).isoformat(),
    }
    schema = schema_cls()
    for name, field in schema.fields.items():
        key = field.data_key or name
        if key not in data and key in payload:
            data[key] = payload[key]
    errors = schema.validate(data)  # only allow-listed keys were copied
    if errors:
        raise InvalidMessage({"partner_message": errors})
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
