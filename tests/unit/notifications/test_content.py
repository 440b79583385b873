"""What people read, from the real contracts' examples: meetings people can attend
(who is coming, where, one UID, no reply asked for, in the text or the .ics), the
first tovholder is not "ny tovholder", a handover carries its note to staff only, and
no English code reaches a person in any text notifications sends."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from contracts import registry
from services.notifications import content, templates
from services.notifications.content import Context
from services.notifications.gate import RecipientKind
from services.notifications.messages import EVENT_HANDLERS

NOW = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
FRONTEN = "ss-front@balk.dk"
MEETINGS = ("coordination.meeting_scheduled", "coordination.meeting_rescheduled",
            "coordination.meeting_cancelled")
HOME = "Hedelyngen 12, st. tv., 2750 Ballerup"
CITIZEN = Context(citizen_name="Vincent Væver", citizen_address=HOME)
HANNE = Context(citizen_name="Vincent Væver", citizen_address=HOME, recipient_id="n-hanne",
                recipient_name="Hanne Væver")
PEOPLE = (RecipientKind.CITIZEN, RecipientKind.NETWORK)


def payload_of(type_: str, **changes: object) -> dict[str, Any]:
    example = dict(registry.contract(type_).example) | changes
    native = registry.contract(type_).schema().load(example)
    wire = registry.build(type_, native, producer=type_.split(".")[0], correlation_id="c",
                          occurred_at=NOW)
    return dict(registry.load_payload(wire))


def meeting(type_: str, *, sequence: int, place: str = "home") -> dict[str, Any]:
    payload = payload_of(type_, sequence=sequence, place=place)
    payload["participants"] = [
        *payload["participants"],
        {"participant_id": "n-hanne", "kind": "network", "required": False,
         "name": "Hanne", "email": None},
    ]
    return payload


def mail(type_: str, kind: RecipientKind, payload: dict[str, Any], context: Context,
         to: str = "x@example.dk") -> content.Email:
    return content.compose_email(type_, kind, payload, to=to, now=NOW, fronten_email=FRONTEN,
                                 context=context)


def vevent(email: content.Email) -> Any:
    assert email.invitation is not None
    return next(iter(Calendar.from_ical(email.invitation.ics).walk("VEVENT")))


def attendees(event: Any) -> list[Any]:
    found = event.get("ATTENDEE", [])
    return found if isinstance(found, list) else [found]


@pytest.mark.parametrize("kind, context", [
    (RecipientKind.CITIZEN, CITIZEN), (RecipientKind.NETWORK, HANNE),
    (RecipientKind.TEAM_MEMBERS, CITIZEN), (RecipientKind.TOVHOLDER, CITIZEN),
])
def test_one_uid_rising_sequence_and_no_reply_asked_in_text_or_ics(kind, context):
    mails = [mail(t, kind, meeting(t, sequence=n), context) for n, t in enumerate(MEETINGS)]
    events = [vevent(m) for m in mails]

    assert len({str(e["UID"]) for e in events}) == 1
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
    assert [m.invitation.method for m in mails if m.invitation] == [
        "REQUEST", "REQUEST", "CANCEL"]
    for email, event in zip(mails, events, strict=True):
        assert attendees(event)
        assert {a.params["RSVP"] for a in attendees(event)} == {"FALSE"}
        lowered = email.text.lower()
        assert "svar venligst" not in lowered and "svar via" not in lowered
    for email in mails[:2]:  # invitations (not cancellations) say no reply is needed
        assert re.search(r"(behøver ikke at svare|beder ikke om svar)", email.text)


def test_the_citizen_is_told_who_is_coming_and_where_with_the_home_address():
    email = mail(MEETINGS[0], RecipientKind.CITIZEN, meeting(MEETINGS[0], sequence=0),
                 CITIZEN, to="vincent@example.dk")

    assert f"Sted: Hjemme hos dig, {HOME}" in email.text
    who = email.text.split("Med til mødet:\n", 1)[1].split("\n\n", 1)[0]
    assert who.splitlines() == ["- Mette Socialrådgiver (din tovholder)", "- Lærer Lars",
                                "- Hanne"]
    assert str(vevent(email)["LOCATION"]) == f"Hjemme hos dig, {HOME}"
    assert [str(a) for a in attendees(vevent(email))] == ["mailto:vincent@example.dk"]


def test_staff_invitations_name_the_citizen_in_the_text_but_not_in_the_calendar():
    email = mail(MEETINGS[0], RecipientKind.TEAM_MEMBERS, meeting(MEETINGS[0], sequence=0),
                 CITIZEN)

    assert "Borger: Vincent Væver" in email.text
    assert f"Sted: Hjemme hos Vincent Væver, {HOME}" in email.text
    assert "- Hanne (netværk)" in email.text and "- Vincent Væver (borgeren)" in email.text
    event = vevent(email)
    assert str(event["LOCATION"]) == f"Hjemme hos borgeren, {HOME}"
    assert "Vincent" not in email.invitation.ics.decode()  # type: ignore[union-attr]
    assert {str(a) for a in attendees(event)} == {"mailto:mette@balk.dk",
                                                  "mailto:lars@skole.dk"}


def test_a_staff_text_without_the_citizen_s_contact_still_goes_out():
    email = mail(MEETINGS[0], RecipientKind.TEAM_MEMBERS,
                 meeting(MEETINGS[0], sequence=0), Context())

    assert "Borger: Vincent" in email.text  # the name the meeting itself carries
    assert "Hjemme hos Vincent (spørg tovholderen om adressen)" in email.text


def test_a_network_person_is_greeted_and_not_listed_as_coming_to_meet_themselves():
    email = mail(MEETINGS[0], RecipientKind.NETWORK, meeting(MEETINGS[0], sequence=0),
                 HANNE, to="hanne@example.dk")

    assert email.text.startswith("Hej Hanne Væver\n\nDu er inviteret til et møde sammen "
                                 "med Vincent Væver.")
    assert f"Sted: Hjemme hos Vincent Væver, {HOME}" in email.text
    who = email.text.split("Med til mødet:\n", 1)[1].split("\n\n", 1)[0]
    assert who.splitlines() == ["- Mette Socialrådgiver (tovholder)", "- Vincent Væver",
                                "- Lærer Lars"]
    assert "sig det til Mette Socialrådgiver: mette@balk.dk" in email.text
    assert [str(a) for a in attendees(vevent(email))] == ["mailto:hanne@example.dk"]
    assert "lars@skole.dk" not in email.invitation.ics.decode()  # type: ignore[union-attr]


def test_the_first_tovholder_is_not_called_a_new_one():
    first = payload_of("coordination.tovholder_handed_over", old_tovholder_id=None,
                       handover_note=None)
    for kind in (RecipientKind.CITIZEN, RecipientKind.TOVHOLDER, RecipientKind.TEAM_MEMBERS,
                 RecipientKind.COORDINATORS):
        message = content.render_text("coordination.tovholder_handed_over", kind, first,
                                      CITIZEN)
        assert "ny tovholder" not in (message.subject + message.text).lower(), kind
        assert "overtaget" not in message.text, kind
    citizen = content.render_text("coordination.tovholder_handed_over",
                                  RecipientKind.CITIZEN, first, CITIZEN)
    assert citizen.subject == "Du har fået en tovholder"
    handed = content.render_text("coordination.tovholder_handed_over", RecipientKind.CITIZEN,
                                 payload_of("coordination.tovholder_handed_over"), CITIZEN)
    assert handed.subject == "Du har fået en ny tovholder"


def test_a_handover_note_goes_to_the_new_tovholder_and_the_team_never_to_the_citizen():
    payload = payload_of("coordination.tovholder_handed_over")
    note = payload["handover_note"]

    tovholder = content.render_text("coordination.tovholder_handed_over",
                                    RecipientKind.TOVHOLDER, payload, CITIZEN)
    team = content.render_text("coordination.tovholder_handed_over",
                               RecipientKind.TEAM_MEMBERS, payload, CITIZEN)
    citizen = content.render_text("coordination.tovholder_handed_over",
                                  RecipientKind.CITIZEN, payload, CITIZEN)

    assert note in tovholder.text and note in team.text
    assert note not in citizen.text
    assert "Du har overtaget rollen som tovholder for Vincent Væver" in tovholder.text
    # The new tovholder reads the rest of the team, not itself.
    assert "- Mette Socialrådgiver (mette@balk.dk)" in tovholder.text
    assert "Ulla" not in tovholder.text.split("Teamet:", 1)[1]
    assert "Ulla Ungekonsulent har overtaget rollen som tovholder for Vincent Væver." in \
        team.text


def _text_kinds() -> list[tuple[str, RecipientKind]]:
    """Every (event, reader) notifications writes a text for, among the events it consumes."""
    found = []
    for event_type in EVENT_HANDLERS:
        for key, kind in templates.TEMPLATES:
            if key.split(":")[0] == event_type:
                found.append((event_type, kind))
    return sorted(set(found))


_CODE = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")  # snake_case: how codes look on the wire


@pytest.mark.parametrize("event_type, kind", _text_kinds(), ids=lambda v: str(v))
def test_no_english_code_reaches_a_person(event_type, kind):
    if event_type in MEETINGS:
        payloads = [meeting(event_type, sequence=1, place=p)
                    for p in ("home", "fronten", "elsewhere")]
    elif event_type == "coordination.tovholder_handed_over":
        payloads = [payload_of(event_type), payload_of(event_type, old_tovholder_id=None)]
    else:
        payloads = [payload_of(event_type)]
    context = HANNE if kind is RecipientKind.NETWORK else CITIZEN
    for payload in payloads:
        message = content.render_text(event_type, kind, payload, context)
        words = message.subject + "\n" + message.text
        assert "$" not in words
        assert _CODE.findall(words) == [], (event_type, kind)
        for value in payload.values():  # enum codes of the payload appear only as words
            if isinstance(value, str) and _CODE.fullmatch(value):
                assert value not in words


def test_every_rule_a_fresh_database_starts_with_has_its_danish_text():
    for event_type, kind, channel, *_ in _migration("0001").DEFAULT_RULES + \
            _migration("0003").NEW_RULES:
        if channel in ("email", "sms"):
            assert templates.has_template(event_type, content.template_kind(
                event_type, RecipientKind(kind))), (event_type, kind)
        assert event_type in EVENT_HANDLERS, event_type


def _migration(number: str) -> Any:
    versions = Path(content.__file__).parent / "migrations" / "versions"
    [path] = versions.glob(f"{number}_*.py")
    spec = importlib.util.spec_from_file_location(f"notifications_migration_{number}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
