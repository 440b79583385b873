"""Meeting invitations over real SMTP: a scheduled, moved and cancelled meeting give
every participant three mails whose .ics share one UID with rising SEQUENCE
(REQUEST, REQUEST, CANCEL). Staff get theirs at the work address in the event, the
citizen at the address intake gives at send time."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from icalendar import Calendar

from tests.integration.notifications import support
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

T = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PATHWAY = uuid.UUID("b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e")


@pytest.fixture
def smtp(tmp_path):
    server = support.SmtpServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def running(amqp_uri, db_url, runner_factory, smtp):
    yield from support.start(
        amqp_uri, db_url, runner_factory, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port,
        SMTP_FROM="Samspil <samspil@balk.dk>",
    )


def meeting(meeting_id, citizen_ref, *, sequence: int, starts_at: dt.datetime) -> dict:
    return {
        "meeting_id": meeting_id,
        "pathway_id": PATHWAY,
        "citizen_ref": citizen_ref,
        "starts_at": starts_at,
        "ends_at": starts_at + dt.timedelta(hours=1),
        "place": "fronten",
        "sequence": sequence,
        "participants": [
            {"participant_id": "m-social", "kind": "tovholder", "required": True,
             "name": "Mette Socialrådgiver", "email": "mette@balk.dk"},
            {"participant_id": "citizen", "kind": "citizen", "required": True,
             "name": "Vincent", "email": None},
            {"participant_id": "m-school", "kind": "member", "required": False,
             "name": "Lærer Lars", "email": "lars@skole.dk"},
            {"participant_id": "mor", "kind": "network", "required": False,
             "name": "Mor", "email": None},
        ],
    }


PEOPLE = ("mette@balk.dk", "lars@skole.dk", "vincent@example.dk")


def test_scheduled_moved_cancelled_meeting_gives_three_invitations_with_one_uid(
    running, smtp
):
    citizen = uuid.uuid4()
    meeting_id = uuid.uuid4()
    running.intake.add(citizen, email="vincent@example.dk", phone="+45 20 30 40 50")
    steps = [
        ("coordination.meeting_scheduled", 0, T),
        ("coordination.meeting_rescheduled", 1, T + dt.timedelta(days=1)),
        ("coordination.meeting_cancelled", 2, T + dt.timedelta(days=1)),
    ]
    for n, (event_type, sequence, starts_at) in enumerate(steps, start=1):
        running.publish(event_type, meeting(meeting_id, citizen, sequence=sequence,
                                            starts_at=starts_at))
        wait_for(lambda n=n: all(len(smtp.to(p)) == n for p in PEOPLE),
                 what=f"mail {n} to every participant")

    for person in PEOPLE:
        mails = smtp.to(person)
        calendars = [Calendar.from_ical(support.calendar_part(m)) for m in mails]
        events = [next(iter(c.walk("VEVENT"))) for c in calendars]
        assert [str(c["METHOD"]) for c in calendars] == ["REQUEST", "REQUEST", "CANCEL"]
        assert {str(e["UID"]) for e in events} == {f"{meeting_id}@samspil"}
        assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
        assert events[0].decoded("DTSTART") == T
        assert events[1].decoded("DTSTART") == T + dt.timedelta(days=1)
        assert str(events[2]["STATUS"]) == "CANCELLED"
        assert [m.get_content_type() for m in mails] == ["multipart/mixed"] * 3

    citizen_mails = smtp.to("vincent@example.dk")
    assert [support.subject(m) for m in citizen_mails] == [
        "Du er inviteret til et møde", "Dit møde er flyttet", "Dit møde er aflyst",
    ]
    first = support.text_part(citizen_mails[0])
    assert "Tid: mandag den 2. marts 2026 kl. 10.00" in first  # Copenhagen time
    assert "Fronten, Parkvej 10, 2750 Ballerup" in first
    # The citizen's invitation lists the citizen only; staff see staff only.
    own = Calendar.from_ical(support.calendar_part(citizen_mails[0]))
    attendees = next(iter(own.walk("VEVENT")))["ATTENDEE"]
    assert str(attendees) == "mailto:vincent@example.dk"
    team = Calendar.from_ical(support.calendar_part(smtp.to("lars@skole.dk")[0]))
    team_attendees = {str(a) for a in next(iter(team.walk("VEVENT")))["ATTENDEE"]}
    assert team_attendees == {"mailto:mette@balk.dk", "mailto:lars@skole.dk"}
    assert "vincent@example.dk" not in smtp.to("lars@skole.dk")[0].as_string()

    # intake was asked for the address at send time, once per mail to the citizen.
    assert running.intake.calls == [
        {"actor": "service:notifications", "citizen_ref": str(citizen),
         "purpose": "koordinering af sammenhængende borgerforløb"}
    ] * 3
    sent = running.deliveries(status="sent")
    assert len(sent) == 9 and all(r.attempts == 1 for r in sent)
    # The citizen's address is not stored in the ledger, only the reference.
    assert {r.recipient for r in sent} == {"mette@balk.dk", "lars@skole.dk",
                                            f"citizen:{citizen}"}
