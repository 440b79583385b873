"""What one delivery says: the text from templates, the invitation from ical, the
partner's JSON from its allow-list schema. Pure: `now`, addresses and what was looked
up at send time (`Context`) are passed in.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts import registry
from contracts.envelope import Envelope, InvalidMessage
from contracts.notifications import PARTNER_MESSAGES
from contracts.vocabulary import HandoffKind, MeetingPlace, ParticipantKind
from services.common.errors import DomainError
from services.common.localtime import local_day
from services.notifications import handoffs, ical, purposes, templates
from services.notifications.gate import RecipientKind
from services.notifications.routing import (
    CASE_MOVED,
    HANDED_OVER,
    MEETING_EVENTS,
    STAFF_PARTICIPANTS,
    tovholder_of_meeting,
)

FRONTEN_PLACE = "Fronten, Parkvej 10, 2750 Ballerup"
FRONTEN_BY_PHONE = "Fronten, telefon 44 77 34 43"
# When intake does not know the citizen, a staff text still goes out, without a name.
UNNAMED_CITIZEN = "borgeren"
NO_DEADLINE = "ingen fast frist"
NOT_GIVEN = "ikke oplyst"

# Where a meeting is, as the reader says it (a home meeting: see `location`).
PLACES_FOR_STAFF = {
    MeetingPlace.FRONTEN: FRONTEN_PLACE,
    MeetingPlace.ELSEWHERE: "Efter aftale med tovholderen",
}
PLACES_FOR_CITIZEN = {
    MeetingPlace.FRONTEN: FRONTEN_PLACE,
    MeetingPlace.ELSEWHERE: "Det aftaler du med din tovholder",
}
PLACES_FOR_NETWORK = {
    MeetingPlace.FRONTEN: FRONTEN_PLACE,
    MeetingPlace.ELSEWHERE: "Det aftaler du med tovholderen",
}

# Which lookup purpose intake's access log shows for the citizen's contact.
MEETING_PURPOSE = "mødeindkaldelse"

_CHANGES = {
    "coordination.meeting_scheduled": ical.MeetingChange.SCHEDULED,
    "coordination.meeting_rescheduled": ical.MeetingChange.RESCHEDULED,
    "coordination.meeting_cancelled": ical.MeetingChange.CANCELLED,
}

_PEOPLE = frozenset({RecipientKind.CITIZEN, RecipientKind.NETWORK})


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    invitation: ical.Invitation | None = None


@dataclass(frozen=True)
class Context:
    """What was looked up at send time for one delivery, and is never stored: the
    citizen's name and address (intake), and the network person it goes to
    (coordination)."""

    citizen_name: str | None = None
    citizen_address: str | None = None
    recipient_id: str | None = None
    recipient_name: str | None = None
    # The partner a hand-off is about, as the directory names it; where the API is.
    partner_name: str | None = None
    api_base_url: str = ""


NO_CONTEXT = Context()


# -- which text ------------------------------------------------------------------------------


def template_key(event_type: str, payload: Mapping[str, Any]) -> str:
    """The text an event is told with: the first tovholder of a pathway is appointed,
    not handed over ("ny tovholder" would be wrong)."""
    if event_type == HANDED_OVER and payload.get("old_tovholder_id") is None:
        return templates.TOVHOLDER_APPOINTED
    return event_type


def template_kind(event_type: str, recipient_kind: RecipientKind) -> RecipientKind:
    """The tovholder and Fronten read the team's text where they have none of their own."""
    staff = (RecipientKind.TOVHOLDER, RecipientKind.FRONTEN)
    if recipient_kind in staff and not templates.has_template(event_type, recipient_kind):
        return RecipientKind.TEAM_MEMBERS
    return recipient_kind


def template_for(
    event_type: str, recipient_kind: RecipientKind, payload: Mapping[str, Any]
) -> tuple[str, RecipientKind]:
    """The (text, reader) key of TEMPLATES for one delivery: the event's variant where
    this reader has one, else the event's own text."""
    key = template_key(event_type, payload)
    kind = template_kind(key, recipient_kind)
    if key != event_type and not templates.has_template(key, kind):
        key = event_type
        kind = template_kind(key, recipient_kind)
    return key, kind


def needs_citizen(
    event_type: str, recipient_kind: RecipientKind, payload: Mapping[str, Any]
) -> bool:
    """Does this delivery need the citizen's contact from intake (its address, or the
    name or home address its text prints)?"""
    if recipient_kind is RecipientKind.CITIZEN:
        return True
    key, kind = template_for(event_type, recipient_kind, payload)
    if not templates.has_template(key, kind):
        return False
    fields = templates.TEMPLATES[(key, kind)].fields
    home = event_type in MEETING_EVENTS and MeetingPlace(payload["place"]) is MeetingPlace.HOME
    return "citizen_name" in fields or (home and "location" in fields)


def lookup_purpose(event_type: str, rule_purpose: str | None) -> str:
    """The purpose a send-time lookup is logged under by its owner, in Danish (the
    citizen reads it in the access log): the rule's consent purpose in words."""
    return MEETING_PURPOSE if event_type in MEETING_EVENTS else purposes.text_of(rule_purpose)


# -- the values a text may print --------------------------------------------------------------


def template_data(
    event_type: str,
    recipient_kind: RecipientKind,
    payload: Mapping[str, Any],
    context: Context = NO_CONTEXT,
) -> dict[str, object]:
    """The values a template may print, from the event's payload and the lookups."""
    citizen_name = context.citizen_name or UNNAMED_CITIZEN
    if event_type in MEETING_EVENTS:
        return _meeting_data(recipient_kind, payload, context)
    if event_type == HANDED_OVER:
        return {
            "pathway_ref": str(payload["pathway_id"]),
            "citizen_name": citizen_name,
            "new_tovholder_name": payload["new_tovholder_name"],
            "new_tovholder_agency": str(payload["new_tovholder_agency"]),
            "new_tovholder_contact": payload["new_tovholder_email"] or FRONTEN_BY_PHONE,
            "handover_note": (payload.get("handover_note") or "").strip()
            or "Den tidligere tovholder har ikke skrevet en note.",
            "team": _team(payload) or "Der er ingen andre i teamet endnu.",
        }
    if event_type == "coordination.pathway_opened":
        return {
            "pathway_ref": str(payload["pathway_id"]),
            "opened_at": payload["opened_at"],
            "priority": _priority(payload.get("under_30")),
        }
    if event_type == "coordination.pathway_closed":
        return {"closed_on": local_day(payload["closed_at"])}
    if event_type == "coordination.member_added":
        return {
            "pathway_ref": str(payload["pathway_id"]),
            "citizen_name": citizen_name,
            "member_name": payload.get("name") or payload["member_id"],
            "role": payload["role"],
            "agency": str(payload["agency"]),
        }
    if event_type in ("coordination.action_due", "coordination.action_overdue"):
        return {
            "pathway_ref": str(payload["pathway_id"]),
            "citizen_name": citizen_name,
            "due_on": payload["due_on"],
            "action_ref": payload["action_id"],
        }
    if event_type in ("coordination.housing_escalation_noted",
                      "coordination.housing_warning_noted"):
        return {
            "pathway_ref": str(payload["pathway_id"]),
            "citizen_name": citizen_name,
            "case_ref": str(payload["case_id"]),
            "level": str(payload["level"]),
            "requests": _requests(payload.get("requests") or ()),
            "flag": _flag(payload.get("flag")),
            "pakrav_deadline": payload.get("pakrav_deadline") or NOT_GIVEN,
            "deadline": payload["next_deadline"] or NO_DEADLINE,
        }
    if event_type in CASE_MOVED:
        addressee = "fronten" if recipient_kind is RecipientKind.FRONTEN else "tovholder"
        requests = [str(a["request"]) for a in payload["asks"] if str(a["addressee"]) == addressee]
        return {
            "case_ref": str(payload["case_id"]),
            "level": str(payload["level"]),
            "request": requests[0] if requests else "for_information",
            "deadline": payload["next_deadline"] or NO_DEADLINE,
        }
    if event_type in ("housing.warning_flagged", "housing.action_overdue"):
        return {
            "case_ref": str(payload["case_id"]),
            "tenancy_ref": payload["tenancy_ref"] or "uden reference",
            "level": str(payload["level"]),
            "flag": _flag(payload.get("flag")),
            "pakrav_deadline": payload.get("pakrav_deadline") or NOT_GIVEN,
            "deadline_kind": str(payload.get("deadline_kind") or ""),
            "requests": _requests(str(a["request"]) for a in payload["asks"]),
            "deadline": payload["next_deadline"] or NO_DEADLINE,
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
    if event_type == "intake.bridging_cancelled":
        return {
            "course_ref": str(payload["course_id"]),
            "due_on": payload["due_on"],
            "cancelled_on": payload["cancelled_on"],
            "reason": str(payload["reason"]),
        }
    if event_type == "intake.referral_85_made":
        return {"course_ref": str(payload["course_id"]), "referred_on": payload["referred_on"]}
    if event_type == "intake.course_review_requested":
        return {
            "course_ref": str(payload["course_id"]),
            "kind": str(payload["kind"]),
            "requested_on": payload["requested_on"],
            "planned_end": payload["planned_end"],
        }
    if event_type == "intake.course_ending_proposed":
        return {
            "course_ref": str(payload["course_id"]),
            "kind": str(payload["kind"]),
            "rule": str(payload["rule"]),
            "proposed_on": payload["proposed_on"],
            "last_kept_on": payload.get("last_kept_on") or "ingen registreret",
        }
    if event_type == "intake.consent_withdrawn":
        return {"withdrawn_at": payload["withdrawn_at"], "recipient_name": payload["recipient"]}
    if event_type in (handoffs.REQUESTED, handoffs.UPDATED, handoffs.ESCALATED):
        return _handoff_data(event_type, payload, context, citizen_name)
    raise DomainError("event_type", "template.not_found", f"No text for {event_type}.")


def _handoff_data(
    event_type: str, payload: Mapping[str, Any], context: Context, citizen_name: str
) -> dict[str, object]:
    """A hand-off's values in Danish words: its kind, what is asked, the details and
    the contact as lines, how to answer; never the citizen for a partner."""
    kind = handoffs.KIND_TEXTS[HandoffKind(payload["kind"])]
    partner = context.partner_name or context.recipient_name or str(payload["partner_id"])
    subject_line = (f"{handoffs.SUBJECT_TEXTS[str(payload['subject_type'])]}, reference "
                    f"{payload['subject_id']}")
    common: dict[str, object] = {
        "kind": kind, "partner_name": partner, "handoff_ref": str(payload["handoff_id"]),
        "subject_line": subject_line,
    }
    if event_type == handoffs.REQUESTED:
        return common | {
            "title": payload["title"],
            "answer_by": payload["answer_by"],
            "ask": payload["ask"],
            "details": handoffs.details_text(payload.get("details")),
            "contact": handoffs.contact_text(payload["contact"]),
            "answer_where": handoffs.answer_text(payload["handoff_id"],
                                                 str(payload["partner_id"]),
                                                 context.api_base_url),
        }
    if event_type == handoffs.UPDATED:
        return common | {"title": payload["title"], "facts": handoffs.update_facts(payload)}
    return common | {
        "answer_by": payload["answer_by"],
        "requested_at": payload["requested_at"],
        "citizen_name": citizen_name,
    }


def _meeting_data(
    recipient_kind: RecipientKind, payload: Mapping[str, Any], context: Context
) -> dict[str, object]:
    tovholder = tovholder_of_meeting(payload)
    return {
        "starts_at": payload["starts_at"],
        "location": location(recipient_kind, payload, context, named=True),
        "tovholder_name": tovholder["name"] if tovholder else "Fronten",
        "tovholder_contact": (tovholder or {}).get("email") or FRONTEN_BY_PHONE,
        "pathway_ref": str(payload["pathway_id"]),
        "citizen_name": _citizen_name(payload, context),
        "recipient_name": context.recipient_name or _participant_name(
            payload, context.recipient_id),
        "participants": participants(recipient_kind, payload, context),
    }


def location(
    recipient_kind: RecipientKind, payload: Mapping[str, Any], context: Context, *,
    named: bool,
) -> str:
    """Where the meeting is, for this reader. A home meeting carries the citizen's
    address (from intake at send time); `named` puts the citizen's name in it, for a
    mail text but not for a calendar entry, which is copied to shared calendars."""
    place = MeetingPlace(payload["place"])
    citizen = recipient_kind is RecipientKind.CITIZEN
    if place is MeetingPlace.HOME:
        address = (context.citizen_address or "").strip()
        if citizen:
            return f"Hjemme hos dig, {address}" if address else "Hjemme hos dig"
        whose = _citizen_name(payload, context) if named else UNNAMED_CITIZEN
        if address:
            return f"Hjemme hos {whose}, {address}"
        return f"Hjemme hos {whose} (spørg tovholderen om adressen)"
    if citizen:
        return PLACES_FOR_CITIZEN[place]
    if recipient_kind is RecipientKind.NETWORK:
        return PLACES_FOR_NETWORK[place]
    return PLACES_FOR_STAFF[place]


def participants(
    recipient_kind: RecipientKind, payload: Mapping[str, Any], context: Context
) -> str:
    """Who is coming, one per line, as this reader needs it: the citizen does not see
    itself listed, a network person not itself, staff see everyone."""
    lines = []
    for p in payload["participants"]:
        kind = ParticipantKind(p["kind"])
        if kind is ParticipantKind.CITIZEN:
            if recipient_kind is RecipientKind.CITIZEN:
                continue
            name = _citizen_name(payload, context)
            role = "" if recipient_kind is RecipientKind.NETWORK else " (borgeren)"
        else:
            if recipient_kind is RecipientKind.NETWORK and p["participant_id"] == \
                    context.recipient_id:
                continue
            name = p["name"]
            if kind is ParticipantKind.TOVHOLDER:
                role = " (din tovholder)" if recipient_kind is RecipientKind.CITIZEN \
                    else " (tovholder)"
            elif kind is ParticipantKind.NETWORK and recipient_kind not in _PEOPLE:
                role = " (netværk)"
            else:
                role = ""
        lines.append(f"- {name}{role}")
    return "\n".join(lines) or "- Kun dig og tovholderen"


def _citizen_name(payload: Mapping[str, Any], context: Context) -> str:
    if context.citizen_name:
        return context.citizen_name
    for p in payload.get("participants", ()):
        if p["kind"] == ParticipantKind.CITIZEN and p.get("name"):
            return str(p["name"])
    return UNNAMED_CITIZEN


def _participant_name(payload: Mapping[str, Any], participant_id: str | None) -> str | None:
    for p in payload.get("participants", ()):
        if p["participant_id"] == participant_id:
            return str(p["name"])
    return None


def _team(payload: Mapping[str, Any]) -> str:
    """The team on a handover, without the new tovholder (who reads it)."""
    lines = []
    for member in payload.get("team") or ():
        if str(member["member_id"]) == str(payload["new_tovholder_id"]):
            continue
        email = f" ({member['email']})" if member.get("email") else ""
        lines.append(f"- {member['name']}{email}")
    return "\n".join(lines)


def _priority(under_30: bool | None) -> str:
    if under_30 is True:
        return "Borgeren er under 30 år og skal have forrang (Plads til alle)."
    if under_30 is False:
        return "Borgeren er 30 år eller ældre."
    return "Borgerens alder er ikke oplyst."


def _requests(codes: Iterable[Any]) -> str:
    words = []
    for code in codes:
        label = templates.HOUSING_REQUESTS.get(str(code))
        if label is None:
            raise DomainError("data.requests", "template.unknown_value",
                              f"No Danish text for {code!r}.")
        if label not in words:
            words.append(label)
    return "; ".join(words) or templates.HOUSING_REQUESTS["for_information"]


def _flag(code: str | None) -> str:
    if code is None:
        return templates.UNKNOWN_HOUSING_FLAG
    return templates.HOUSING_FLAGS.get(str(code), templates.UNKNOWN_HOUSING_FLAG)


# -- composing ---------------------------------------------------------------------------------


def render_text(
    event_type: str,
    recipient_kind: RecipientKind,
    payload: Mapping[str, Any],
    context: Context = NO_CONTEXT,
) -> templates.Message:
    key, kind = template_for(event_type, recipient_kind, payload)
    data = template_data(event_type, recipient_kind, payload, context)
    return templates.render(key, kind, data)


def compose_email(
    event_type: str,
    recipient_kind: RecipientKind,
    payload: Mapping[str, Any],
    *,
    to: str,
    now: dt.datetime,
    fronten_email: str,
    context: Context = NO_CONTEXT,
) -> Email:
    """The e-mail for one recipient; meetings carry an iCalendar invitation."""
    message = render_text(event_type, recipient_kind, payload, context)
    invitation = None
    if event_type in MEETING_EVENTS:
        invitation = meeting_invitation(
            event_type, recipient_kind, payload, to=to, now=now, fronten_email=fronten_email,
            context=context,
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
    context: Context = NO_CONTEXT,
) -> ical.Invitation:
    """REQUEST or CANCEL with the meeting's stable UID and the event's SEQUENCE.

    Staff see the staff attendees; the citizen's and a network person's invitation
    list only themselves, so no one's private address is shown to anyone else. No
    attendee is asked to reply (RSVP=FALSE), as the texts say."""
    tovholder = tovholder_of_meeting(payload)
    if recipient_kind in _PEOPLE:
        attendees: list[ical.Attendee] = [ical.Attendee(email=to, name=context.recipient_name)]
    else:
        attendees = [
            ical.Attendee(email=p["email"], name=p["name"], required=p["required"])
            for p in payload["participants"]
            if p["kind"] in STAFF_PARTICIPANTS and p["email"]
        ]
    summary = {RecipientKind.CITIZEN: ical.CITIZEN_SUMMARY,
               RecipientKind.NETWORK: ical.NETWORK_SUMMARY}.get(recipient_kind,
                                                                 ical.TEAM_SUMMARY)
    meeting = ical.Meeting(
        meeting_id=str(payload["meeting_id"]),
        start=payload["starts_at"],
        end=payload["ends_at"],
        summary=summary,
        location=location(recipient_kind, payload, context, named=False),
        organizer_email=(tovholder or {}).get("email") or fronten_email,
        organizer_name=(tovholder or {}).get("name") or "Fronten",
        attendees=attendees,
    )
    return ical.build_invitation(
        meeting, _CHANGES[event_type], sequence=int(payload["sequence"]), dtstamp=now
    )


# Partner messages whose allow-list carries a Danish title and text, and the recipient
# kind whose template writes them.
_PARTNER_TEXTS = {
    "intake.bridging_due": RecipientKind.JOBCENTER,
    "intake.bridging_cancelled": RecipientKind.JOBCENTER,
    "housing.partner_status": RecipientKind.HOUSING_ASSOCIATION,
}

# The Danish words beside the codes of the one-way statements (`<field>_text`).
_CODE_TEXTS: Mapping[str, Mapping[str, str]] = {
    "partner_kind": templates.PARTNER_KINDS,
    "reason": templates.BRIDGING_CANCEL_REASONS,
    "status": templates.PARTNER_STATUSES,
    "requested": templates.PARTNER_REQUESTS,
}


def partner_body(envelope: Envelope, context: Context = NO_CONTEXT) -> bytes:
    """The JSON a partner receives for `envelope`: exactly its allow-listed fields.

    The payload is the wire form (strings, as received); fields outside the partner
    schema are dropped, and what is left is validated strictly before it leaves.
    Where the schema has a `title` and `text`, they are the Danish words of the
    partner's template, beside the codes. A hand-off's message is built field by field
    (handoffs.request_message, update_message): codes with their Danish text."""
    schema_cls = PARTNER_MESSAGES.get(envelope.type)
    if schema_cls is None:
        raise DomainError(
            "event_type", "partner.no_message_schema", f"No partner message for {envelope.type}."
        )
    payload = dict(envelope.payload)
    if "course_id" in payload:
        payload["course_ref"] = payload["course_id"]  # the partner's word for it
    data: dict[str, Any] = {
        "type": envelope.type,
        "message_id": str(envelope.message_id),
        "occurred_at": envelope.occurred_at.astimezone(dt.UTC).isoformat(),
    }
    schema = schema_cls()
    if envelope.type in (handoffs.REQUESTED, handoffs.UPDATED):
        loaded = registry.load_payload(envelope)
        build = handoffs.request_message if envelope.type == handoffs.REQUESTED \
            else handoffs.update_message
        message = render_text(envelope.type, RecipientKind.PARTNER, loaded, context)
        data |= build(loaded) | {"title": loaded["title"], "text": message.text}
        payload = {}  # nothing else is copied: the message is exactly what was built
    elif envelope.type in _PARTNER_TEXTS and "text" in schema.fields:
        message = render_text(envelope.type, _PARTNER_TEXTS[envelope.type],
                              registry.load_payload(envelope))
        data["title"], data["text"] = message.subject, message.text
    for name, field in schema.fields.items():
        key = field.data_key or name
        if key not in data and key in payload:
            data[key] = payload[key]
    for code, words in _CODE_TEXTS.items():
        if f"{code}_text" in schema.fields and code in data:
            data[f"{code}_text"] = None if data[code] is None else words[str(data[code])]
    errors = schema.validate(data)  # only allow-listed keys were copied
    if errors:
        raise InvalidMessage({"partner_message": errors})
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
