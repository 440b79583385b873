"""Meeting invitations: what Outlook, Google and Apple calendars will read."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from services.common.errors import DomainError
from services.notifications.ical import (
    CITIZEN_SUMMARY,
    TEAM_SUMMARY,
    Attendee,
    Meeting,
    MeetingChange,
    build_invitation,
    meeting_uid,
    next_sequence,
)

CPH = ZoneInfo("Europe/Copenhagen")
STAMP = dt.datetime(2025, 10, 20, 12, 0, tzinfo=dt.UTC)
MEETING_ID = "5b0c3f0e-7d2a-4c1e-9a55-2b8f0d6c4e11"


def meeting(**changes: object) -> Meeting:
    base = Meeting(
        meeting_id=MEETING_ID,
        # Monday after the last Sunday of October 2025: CET (UTC+1) again.
        start=dt.datetime(2025, 10, 27, 10, 0, tzinfo=CPH),
        end=dt.datetime(2025, 10, 27, 11, 0, tzinfo=CPH),
        summary=CITIZEN_SUMMARY,
        location="Fronten, Parkvej 10, 2750 Ballerup",
        organizer_email="tovholder@balk.dk",
        organizer_name="Åse Østergård",
        attendees=(
            Attendee("borger@example.dk"),
            Attendee("lærer@skole.example.dk", "Søren Ærø", required=False),
        ),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def parse(ics: bytes) -> tuple[Calendar, Any]:
    calendar = Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_scheduling_sends_a_request() -> None:
    invitation = build_invitation(meeting(), MeetingChange.SCHEDULED, sequence=0, dtstamp=STAMP)
    calendar, event = parse(invitation.ics)

    assert calendar["METHOD"] == "REQUEST" == invitation.method
    assert calendar["VERSION"] == "2.0"
    assert event["UID"] == f"{MEETING_ID}@samspil" == invitation.uid
    assert event["SEQUENCE"] == 0
    assert event["STATUS"] == "CONFIRMED"
    assert event.decoded("DTSTAMP") == STAMP
    assert str(event["ORGANIZER"]) == "mailto:tovholder@balk.dk"
    assert invitation.content_type == 'text/calendar; method=REQUEST; charset="UTF-8"'


def test_request_reschedule_cancel_keep_uid_and_raise_sequence() -> None:
    first = build_invitation(
        meeting(), MeetingChange.SCHEDULED, sequence=next_sequence(None), dtstamp=STAMP
    )
    moved = build_invitation(
        meeting(
            start=dt.datetime(2025, 10, 28, 13, 0, tzinfo=CPH),
            end=dt.datetime(2025, 10, 28, 14, 0, tzinfo=CPH),
        ),
        MeetingChange.RESCHEDULED,
        sequence=next_sequence(first.sequence),
        dtstamp=STAMP + dt.timedelta(hours=1),
    )
    cancelled = build_invitation(
        meeting(),
        MeetingChange.CANCELLED,
        sequence=next_sequence(moved.sequence),
        dtstamp=STAMP + dt.timedelta(hours=2),
    )
    parsed = [parse(i.ics) for i in (first, moved, cancelled)]

    assert {str(event["UID"]) for _, event in parsed} == {meeting_uid(MEETING_ID)}
    assert [event["SEQUENCE"] for _, event in parsed] == [0, 1, 2]
    assert [str(cal["METHOD"]) for cal, _ in parsed] == ["REQUEST", "REQUEST", "CANCEL"]
    assert [str(event["STATUS"]) for _, event in parsed] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert parsed[1][1].decoded("DTSTART") == dt.datetime(2025, 10, 28, 12, 0, tzinfo=dt.UTC)
    assert cancelled.content_type.startswith("text/calendar; method=CANCEL;")


def test_times_are_right_across_the_october_dst_change() -> None:
    # 10:00 Copenhagen is 08:00Z on the Friday before (CEST) and 09:00Z on the Monday
    # after (CET): DST ended on Sunday 26 October 2025.
    before = meeting(
        start=dt.datetime(2025, 10, 24, 10, 0, tzinfo=CPH),
        end=dt.datetime(2025, 10, 24, 11, 0, tzinfo=CPH),
    )
    friday = build_invitation(before, MeetingChange.SCHEDULED, sequence=0, dtstamp=STAMP)
    monday = build_invitation(meeting(), MeetingChange.SCHEDULED, sequence=0, dtstamp=STAMP)

    assert b"DTSTART:20251024T080000Z\r\n" in friday.ics
    assert b"DTSTART:20251027T090000Z\r\n" in monday.ics
    assert b"DTEND:20251027T100000Z\r\n" in monday.ics
    for invitation in (friday, monday):
        _, event = parse(invitation.ics)
        local = event.decoded("DTSTART").astimezone(CPH)
        assert (local.hour, local.minute) == (10, 0)


def test_input_in_any_zone_is_written_in_utc() -> None:
    utc = meeting(
        start=dt.datetime(2025, 10, 27, 9, 0, tzinfo=dt.UTC),
        end=dt.datetime(2025, 10, 27, 10, 0, tzinfo=dt.UTC),
    )

    assert (
        build_invitation(utc, MeetingChange.SCHEDULED, sequence=0, dtstamp=STAMP).ics
        == build_invitation(meeting(), MeetingChange.SCHEDULED, sequence=0, dtstamp=STAMP).ics
    )


def test_danish_characters_survive() -> None:
    invitation = build_invitation(
        meeting(summary=TEAM_SUMMARY, location="Rådhuset, mødelokale Ærø, Hold-An Vej 7"),
        MeetingChange.SCHEDULED,
        sequence=0,
        dtstamp=STAMP,
    )
    _, event = parse(invitation.ics)

    assert str(event["SUMMARY"]) == "Teammøde"
    assert str(event["LOCATION"]) == "Rådhuset, mødelokale Ærø, Hold-An Vej 7"
    assert event["ORGANIZER"].params["CN"] == "Åse Østergård"
    assert [a.params.get("CN") for a in event["ATTENDEE"]] == [None, "Søren Ærø"]
    assert str(event["ATTENDEE"][1]) == "mailto:lærer@skole.example.dk"


def test_lines_are_folded_at_75_octets_with_crlf() -> None:
    location = "Bydelshuset på Søndergårdsvej, lokale Æblehaven, " * 4
    invitation = build_invitation(
        meeting(location=location), MeetingChange.SCHEDULED, sequence=0, dtstamp=STAMP
    )
    raw = invitation.ics

    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # no bare LF anywhere
    lines = raw.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # something was folded
    for line in lines:
        line.decode("utf-8")  # no fold splits a multi-byte character
    _, event = parse(raw)
    assert str(event["LOCATION"]) == location


def test_attendee_roles_and_rsvp() -> None:
    request = build_invitation(meeting(), MeetingChange.SCHEDULED, sequence=0, dtstamp=STAMP)
    cancel = build_invitation(meeting(), MeetingChange.CANCELLED, sequence=1, dtstamp=STAMP)
    _, req_event = parse(request.ics)
    _, cancel_event = parse(cancel.ics)

    roles = [(a.params["ROLE"], a.params["RSVP"]) for a in req_event["ATTENDEE"]]
    # Samspil records no replies, so by default no one is asked for one.
    assert roles == [("REQ-PARTICIPANT", "FALSE"), ("OPT-PARTICIPANT", "FALSE")]
    assert {a.params["RSVP"] for a in cancel_event["ATTENDEE"]} == {"FALSE"}
    # The flag still works for a caller that does record replies; never on a CANCEL.
    asking = meeting(attendees=(Attendee("borger@example.dk", rsvp=True),))
    _, asked = parse(build_invitation(asking, MeetingChange.SCHEDULED, sequence=0,
                                      dtstamp=STAMP).ics)
    _, cancelled = parse(build_invitation(asking, MeetingChange.CANCELLED, sequence=1,
                                          dtstamp=STAMP).ics)
    assert asked["ATTENDEE"].params["RSVP"] == "TRUE"
    assert cancelled["ATTENDEE"].params["RSVP"] == "FALSE"


def test_invitation_carries_no_more_than_the_recipient_needs() -> None:
    invitation = build_invitation(meeting(), MeetingChange.SCHEDULED, sequence=0, dtstamp=STAMP)
    _, event = parse(invitation.ics)

    assert set(event.keys()) == {
        "UID",
        "SEQUENCE",
        "DTSTAMP",
        "DTSTART",
        "DTEND",
        "SUMMARY",
        "LOCATION",
        "STATUS",
        "TRANSP",
        "ORGANIZER",
        "ATTENDEE",
    }


@pytest.mark.parametrize(
    "field, value",
    [
        ("summary", "Møde om 010190-1234"),
        ("location", "Hos 0101901234"),
        ("description", "CPR 010190 1234"),
    ],
)
def test_cpr_like_text_is_refused(field: str, value: str) -> None:
    with pytest.raises(DomainError) as error:
        build_invitation(
            meeting(**{field: value}), MeetingChange.SCHEDULED, sequence=0, dtstamp=STAMP
        )

    assert error.value.rule == "ical.personal_data"
    assert error.value.field == f"meeting.{field}"


def test_phone_numbers_and_postcodes_are_not_mistaken_for_cpr() -> None:
    m = meeting(location="Parkvej 10, 2750 Ballerup, tlf. 44 77 34 43")

    assert build_invitation(m, MeetingChange.SCHEDULED, sequence=0, dtstamp=STAMP)


@pytest.mark.parametrize(
    "changes, rule",
    [
        ({"start": dt.datetime(2025, 10, 27, 10, 0)}, "ical.naive_datetime"),
        ({"end": dt.datetime(2025, 10, 27, 9, 0, tzinfo=CPH)}, "ical.end_before_start"),
        ({"organizer_email": "not an address"}, "ical.invalid_address"),
        ({"attendees": (Attendee("x@y.dk\r\nX-EVIL:1"),)}, "ical.invalid_address"),
        ({"attendees": (Attendee("x@y.dk\n"),)}, "ical.invalid_address"),
        ({"meeting_id": ""}, "ical.invalid_id"),
        ({"summary": "  "}, "ical.summary_required"),
    ],
)
def test_bad_input_is_refused(changes: dict[str, object], rule: str) -> None:
    with pytest.raises(DomainError) as error:
        build_invitation(meeting(**changes), MeetingChange.SCHEDULED, sequence=0, dtstamp=STAMP)

    assert error.value.rule == rule


def test_negative_sequence_and_naive_stamp_are_refused() -> None:
    with pytest.raises(DomainError, match=r"ical\.negative_sequence"):
        build_invitation(meeting(), MeetingChange.SCHEDULED, sequence=-1, dtstamp=STAMP)
    with pytest.raises(DomainError, match=r"ical\.naive_datetime"):
        build_invitation(
            meeting(), MeetingChange.SCHEDULED, sequence=0, dtstamp=dt.datetime(2025, 1, 1)
        )


def test_next_sequence() -> None:
    assert [next_sequence(None), next_sequence(0), next_sequence(4)] == [0, 1, 5]
