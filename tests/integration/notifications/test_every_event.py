"""Every event of ADR 0012 that names notifications reaches a person's mail, over real
SMTP: the person responsible where the event names one (a tovholder, an action's
owner, a new team member), otherwise the team's mailbox from the MAILBOXES setting.
Each event is a real envelope built with the contract registry; each check waits on
the ledger row being sent, then reads the mail."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from contracts import registry
from tests.integration.notifications import support

pytestmark = pytest.mark.integration

MAILBOXES = {
    "fronten": "front@test.balk.dk",
    "coordinators": "koord@test.balk.dk",
    "social_vejledning": "sv@test.balk.dk",
    "review_panel": "udvalg@test.balk.dk",
    "housing": "bolig@test.balk.dk",
}


@pytest.fixture
def smtp(tmp_path):
    server = support.SmtpServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def running(amqp_uri, db_url, runner_factory, smtp):
    yield from support.start(amqp_uri, db_url, runner_factory, SMTP_PORT=smtp.port,
                             MAILBOXES=MAILBOXES)


def payload(type_: str, citizen: uuid.UUID, **changes: Any) -> dict[str, Any]:
    """The contract's own example, as Python values, for this citizen."""
    example = dict(registry.contract(type_).example) | {"citizen_ref": str(citizen)}
    return dict(registry.contract(type_).schema().load(example)) | changes


# (event type, changes to its example, the address told, the subject, words in the text)
CASES: list[tuple[str, dict[str, Any], str, str, str]] = [
    # intake.referral_85_made reaches Social Vejledning as its hand-off (test_handoffs).
    ("intake.course_review_requested", {}, "udvalg@test.balk.dk",
     "Til det tværgående udvalg: et forløb slutter 9. oktober 2018",
     "Forløb: Individuelt forløb (serviceloven § 82 b)"),
    ("intake.course_ending_proposed", {}, "front@test.balk.dk",
     "Afgør, om et forløb skal slutte (4-ugers-reglen)",
     "borgeren har ikke overholdt sine aftaler i 4 uger"),
    ("coordination.pathway_opened", {"tovholder_id": None}, "koord@test.balk.dk",
     "Nyt forløb venter på en tovholder", "skal have forrang"),
    ("coordination.member_added", {}, "bo@balk.dk",
     "Du er kommet med i et team", "teamet omkring Vincent Væver"),
    ("coordination.action_overdue", {"owner_email": None}, "mette@balk.dk",
     "Handling ikke udført: fristen var 15. marts 2021", "handleplanen for Vincent Væver"),
    ("coordination.housing_escalation_noted", {}, "mette@balk.dk",
     "Huslejesag rykket et trin op: frist lørdag den 2. marts 2024 kl. 00.00",
     "Opgave: Lav en afdragsplan med borgeren, eller søg om hjælp"),
    ("coordination.housing_warning_noted", {}, "mette@balk.dk",
     "Advarsel i huslejesag: påkravsfristen er 15. februar 2024",
     "Påkravsfrist: 15. februar 2024"),
    ("coordination.housing_warning_noted", {"tovholder_id": None, "tovholder_email": None},
     "koord@test.balk.dk",
     "Advarsel i huslejesag i et forløb uden tovholder: påkravsfristen er 15. februar 2024",
     "Udpeg en tovholder straks"),
    ("housing.warning_flagged", {}, "bolig@test.balk.dk",
     "Advarsel i huslejesag e3f4a5b6-c7d8-4e9f-8a0b-1c2d3e4f5a6b: påkravsfristen er "
     "15. februar 2024", "bliver ikke færdig før påkravsfristen"),
    ("housing.action_overdue", {}, "bolig@test.balk.dk",
     "Frist overskredet i huslejesag e3f4a5b6-c7d8-4e9f-8a0b-1c2d3e4f5a6b",
     "Frist: Svar på ophævelsen af lejemålet"),
    ("coordination.pathway_closed", {}, "vincent@example.dk",
     "Dit forløb er afsluttet", "afsluttet 30. juni 2024"),
    ("coordination.tovholder_handed_over", {"old_tovholder_id": None, "team": None,
                                            "handover_note": None},
     "ulla@balk.dk", "Du er udpeget som tovholder", "tovholder for Vincent Væver"),
    # Wave 3 (issue 16): an unanswered hand-off; a case coming down the ladder.
    ("partners.handoff_escalated", {}, "anne@balk.dk",
     "Ubesvaret overdragelse: Brobygning til beskæftigelse (svarfrist 10. marts 2025)",
     "har ikke svaret på en overdragelse for Vincent Væver, som du er ansvarlig for"),
    ("partners.handoff_escalated", {"responsible_email": None, "mailbox": "coordinators"},
     "koord@test.balk.dk",
     "Ubesvaret overdragelse: Brobygning til beskæftigelse (svarfrist 10. marts 2025)",
     "Overdragelse: Brobygning til beskæftigelse"),
    ("housing.case_deescalated", {}, "front@test.balk.dk",
     "Huslejesag e3f4a5b6-c7d8-4e9f-8a0b-1c2d3e4f5a6b er rykket et trin ned",
     "Trin nu: Sagen er meldt og følges"),
]


def test_each_event_reaches_the_person_responsible_or_the_team_mailbox(running, smtp):
    for event_type, changes, address, subject, words in CASES:
        citizen = uuid.uuid4()
        running.intake.add(citizen, email="vincent@example.dk", name="Vincent Væver")
        before = len(smtp.to(address))
        event = running.publish(event_type, payload(event_type, citizen, **changes))

        # The first tovholder's appointment is told to the citizen too.
        planned = 2 if event_type == "coordination.tovholder_handed_over" else 1
        rows = running.wait_settled(event, planned=planned)
        # The citizen's address is asked of intake at send time: the ledger keeps a ref.
        recipient = f"citizen:{citizen}" if address == "vincent@example.dk" else address
        [row] = [r for r in rows if r.recipient == recipient]
        assert row.status == "sent", (event_type, row.last_error)
        mails = smtp.to(address)
        assert len(mails) == before + 1, event_type
        assert support.subject(mails[-1]) == subject, event_type
        assert words in support.text_part(mails[-1]), event_type
        if address.endswith("test.balk.dk"):  # a shared mailbox never names the citizen
            assert "Vincent" not in support.text_part(mails[-1]), event_type


def test_a_pathway_opened_with_its_tovholder_needs_no_one_to_pick_it_up(running, smtp):
    event = running.publish("coordination.pathway_opened",
                            payload("coordination.pathway_opened", uuid.uuid4()))

    running.wait_consumed(event)

    assert running.deliveries(message_id=str(event.message_id)) == []
    assert smtp.to("koord@test.balk.dk") == []
