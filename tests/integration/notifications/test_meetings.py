"""Meetings people can attend, over real SMTP and a real SMS gateway on loopback: a
scheduled, moved and cancelled meeting give every participant three messages, and
every .ics shares one UID with rising SEQUENCE (REQUEST, REQUEST, CANCEL), asking no
one for a reply. Staff get theirs at the work address in the event, naming the
citizen; the citizen at the address intake gives at send time, saying who is coming
and where; network persons (the parents) at the address coordination gives at send
time, only where the citizen agreed that they are contacted.

Each step waits on the ledger (every delivery of the event settled), not only on the
mail: the SMTP server has the mail a moment before the sweep records it as sent."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from icalendar import Calendar

from tests.integration.notifications import support

pytestmark = pytest.mark.integration

T = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
HOME = "Hedelyngen 12, st. tv., 2750 Ballerup"
MEETING_PURPOSE = "mødeindkaldelse"


@pytest.fixture
def smtp(tmp_path):
    server = support.SmtpServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def sms_gateway():
    server = support.HttpReceiver(default=202)
    yield server
    server.stop()


@pytest.fixture
def running(amqp_uri, db_url, runner_factory, smtp, sms_gateway):
    yield from support.start(
        amqp_uri, db_url, runner_factory, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port,
        SMTP_FROM="Samspil <samspil@balk.dk>", SMS_GATEWAY_URL=sms_gateway.url("/sms"),
    )


def meeting(meeting_id, pathway_id, citizen_ref, *, sequence: int, starts_at: dt.datetime,
            place: str = "home") -> dict:
    return {
        "meeting_id": meeting_id,
        "pathway_id": pathway_id,
        "citizen_ref": citizen_ref,
        "starts_at": starts_at,
        "ends_at": starts_at + dt.timedelta(hours=1),
        "place": place,
        "sequence": sequence,
        "participants": [
            {"participant_id": "m-social", "kind": "tovholder", "required": True,
             "name": "Mette Socialrådgiver", "email": "mette@balk.dk"},
            {"participant_id": "citizen", "kind": "citizen", "required": True,
             "name": "Borgeren", "email": None},
            {"participant_id": "m-school", "kind": "member", "required": False,
             "name": "Lærer Lars", "email": "lars@skole.dk"},
            {"participant_id": "n-mor", "kind": "network", "required": True,
             "name": "Hanne", "email": None},
            {"participant_id": "n-far", "kind": "network", "required": True,
             "name": "Jens", "email": None},
            {"participant_id": "n-moster", "kind": "network", "required": False,
             "name": "Moster Inge", "email": None},
        ],
    }


STAFF = ("mette@balk.dk", "lars@skole.dk")
BY_MAIL = (*STAFF, "vincent@example.dk", "hanne@example.dk")
# Per event: 2 staff, the citizen, 3 network persons (moster may not be contacted).
PLANNED = 6


def test_everyone_invited_hears_of_the_meeting_its_move_and_its_cancellation_under_one_uid(
    running, smtp, sms_gateway
):
    citizen, pathway, meeting_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    running.intake.add(citizen, email="vincent@example.dk", phone="+45 20 30 40 50",
                       name="Vincent Væver", address=HOME)
    running.coordination.add(pathway, "n-mor", name="Hanne Væver", email="hanne@example.dk",
                             phone="+45 11 22 33 44")
    running.coordination.add(pathway, "n-far", name="Jens Væver", phone="+45 55 66 77 88")
    running.coordination.add(pathway, "n-moster", name="Inge", email="inge@example.dk",
                             may_contact=False)
    steps = [
        ("coordination.meeting_scheduled", 0, T),
        ("coordination.meeting_rescheduled", 1, T + dt.timedelta(days=1)),
        ("coordination.meeting_cancelled", 2, T + dt.timedelta(days=1)),
    ]
    for n, (event_type, sequence, starts_at) in enumerate(steps, start=1):
        event = running.publish(event_type, meeting(meeting_id, pathway, citizen,
                                                    sequence=sequence, starts_at=starts_at))
        rows = running.wait_settled(event, planned=PLANNED)
        assert {r.recipient: r.status for r in rows} == {
            "mette@balk.dk": "sent", "lars@skole.dk": "sent", f"citizen:{citizen}": "sent",
            "network:n-mor": "sent", "network:n-far": "sent", "network:n-moster": "failed",
        }
        assert all(len(smtp.to(p)) == n for p in BY_MAIL)
        assert len(sms_gateway.requests) == n

    for person in BY_MAIL:
        mails = smtp.to(person)
        calendars = [Calendar.from_ical(support.calendar_part(m)) for m in mails]
        events = [next(iter(c.walk("VEVENT"))) for c in calendars]
        assert [str(c["METHOD"]) for c in calendars] == ["REQUEST", "REQUEST", "CANCEL"]
        assert {str(e["UID"]) for e in events} == {f"{meeting_id}@samspil"}
        assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
        assert events[0].decoded("DTSTART") == T
        assert events[1].decoded("DTSTART") == T + dt.timedelta(days=1)
        assert str(events[2]["STATUS"]) == "CANCELLED"
        # No one is asked to reply, and no text asks for one.
        for event in events:
            found = event["ATTENDEE"]
            for attendee in found if isinstance(found, list) else [found]:
                assert attendee.params["RSVP"] == "FALSE"
        assert all("svar venligst" not in support.text_part(m).lower() for m in mails)
        assert [m.get_content_type() for m in mails] == ["multipart/mixed"] * 3

    citizen_mails = smtp.to("vincent@example.dk")
    assert [support.subject(m) for m in citizen_mails] == [
        "Du er inviteret til et møde", "Dit møde er flyttet", "Dit møde er aflyst",
    ]
    first = support.text_part(citizen_mails[0])
    assert "Tid: mandag den 2. marts 2026 kl. 10.00" in first  # Copenhagen time
    assert f"Sted: Hjemme hos dig, {HOME}" in first
    assert "Med til mødet:\n- Mette Socialrådgiver (din tovholder)\n- Lærer Lars\n- Hanne" \
           "\n- Jens\n- Moster Inge" in first
    assert "Du behøver ikke at svare på invitationen." in first
    own = Calendar.from_ical(support.calendar_part(citizen_mails[0]))
    assert str(next(iter(own.walk("VEVENT")))["ATTENDEE"]) == "mailto:vincent@example.dk"

    # Staff: the citizen's name from intake in the text, not in the calendar entry.
    team_mail = smtp.to("lars@skole.dk")[0]
    team_text = support.text_part(team_mail)
    assert "Borger: Vincent Væver" in team_text
    assert f"Sted: Hjemme hos Vincent Væver, {HOME}" in team_text
    team = Calendar.from_ical(support.calendar_part(team_mail))
    team_event = next(iter(team.walk("VEVENT")))
    assert {str(a) for a in team_event["ATTENDEE"]} == {"mailto:mette@balk.dk",
                                                         "mailto:lars@skole.dk"}
    assert str(team_event["LOCATION"]) == f"Hjemme hos borgeren, {HOME}"
    assert b"Vincent" not in support.calendar_part(team_mail)  # type: ignore[operator]
    assert "vincent@example.dk" not in team_mail.as_string()
    assert "hanne@example.dk" not in team_mail.as_string()

    # The mother: her own invitation, at the address coordination gave, and no one else's.
    hanne = smtp.to("hanne@example.dk")
    assert [support.subject(m) for m in hanne] == [
        "Du er inviteret til et møde", "Mødet er flyttet", "Mødet er aflyst"]
    hanne_text = support.text_part(hanne[0])
    assert hanne_text.startswith("Hej Hanne Væver\n\nDu er inviteret til et møde sammen med "
                                 "Vincent Væver.")
    assert f"Sted: Hjemme hos Vincent Væver, {HOME}" in hanne_text
    hanne_event = next(iter(Calendar.from_ical(support.calendar_part(hanne[0]))
                            .walk("VEVENT")))
    assert str(hanne_event["ATTENDEE"]) == "mailto:hanne@example.dk"
    assert "vincent@example.dk" not in hanne[0].as_string()

    # The father has only a phone: three SMS to it, in Danish.
    texts = [json.loads(r.body) for r in sms_gateway.requests]
    assert {t["to"] for t in texts} == {"+45 55 66 77 88"}
    assert "Hej Jens Væver" in texts[0]["text"] and "er aflyst" in texts[2]["text"]

    # The aunt may not be contacted: coordination says not found, and the ledger says so.
    [moster, *_] = running.deliveries(recipient="network:n-moster")
    assert moster.status == "failed" and moster.failure_kind == "permanent"
    assert "citizen has not agreed" in moster.last_error
    assert smtp.to("inge@example.dk") == []

    # Addresses were asked for at send time, for this purpose; none is in the ledger.
    assert {(c["citizen_ref"], c["purpose"]) for c in running.intake.calls} == {
        (str(citizen), MEETING_PURPOSE)}
    assert {(c["pathway_id"], c["participant_id"], c["purpose"])
            for c in running.coordination.calls} == {
        (str(pathway), p, MEETING_PURPOSE) for p in ("n-mor", "n-far", "n-moster")}
    sent = running.deliveries(status="sent")
    assert len(sent) == 15 and all(r.attempts == 1 for r in sent)
    assert {r.recipient for r in sent} == {"mette@balk.dk", "lars@skole.dk",
                                            f"citizen:{citizen}", "network:n-mor",
                                            "network:n-far"}
    assert {r.channel for r in sent if r.recipient == "network:n-far"} == {"sms"}


def test_a_lookup_that_does_not_answer_is_retried_and_then_sent(running, smtp):
    citizen, pathway = uuid.uuid4(), uuid.uuid4()
    running.intake.add(citizen, email="vincent@example.dk", name="Vincent Væver")
    running.coordination.add(pathway, "n-mor", name="Hanne Væver", email="hanne@example.dk")
    running.coordination.down = True

    event = running.publish("coordination.meeting_scheduled", meeting(
        uuid.uuid4(), pathway, citizen, sequence=0, starts_at=T, place="fronten"))

    [waiting] = running.wait_status("retrying", recipient="network:n-mor")
    assert waiting.failure_kind == "temporary" and "coordination failed" in waiting.last_error
    assert smtp.to("hanne@example.dk") == []
    running.coordination.down = False
    [sent] = running.wait_status("sent", recipient="network:n-mor")
    assert sent.attempts >= 2
    assert "Sted: Fronten, Parkvej 10, 2750 Ballerup" in support.text_part(
        smtp.to("hanne@example.dk")[0])
    rows = running.wait_settled(event, planned=PLANNED)
    assert {r.status for r in rows if r.recipient != "network:n-mor"} <= {"sent", "failed"}
