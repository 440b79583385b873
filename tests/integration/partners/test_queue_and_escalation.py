"""Answers on the `partners.answers` queue, and the escalation of unanswered hand-offs on
the working-day clock (the FileClock is moved; Easter is in the way), through the real
broker on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.integration.partners.conftest import FRONTEN, RESPONSIBLE, partner, wait_for

pytestmark = pytest.mark.integration

CITIZEN = uuid.UUID("0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80")


def bridging(svc, kind: str = "education", responsible=None) -> uuid.UUID:
    course = uuid.uuid4()
    svc.publish("intake.bridging_due", {
        "course_id": course, "citizen_ref": CITIZEN, "partner_kind": kind,
        "due_on": dt.date(2025, 5, 9), "planned_end": dt.date(2025, 7, 9),
        "responsible": responsible}, correlation=course)
    return course


def accept(svc, row) -> None:
    svc.rpc("answer_handoff", actor=partner(row.partner_id), handoff_id=str(row.id),
            state="accepted")


def dead_letter_errors(svc) -> list[str]:
    return [str(h.get("x-samspil-error")) for h, _ in svc.dead_letters()]


def test_a_queue_partner_answers_on_its_own_routing_key(partners_service):
    svc = partners_service
    svc.register("uu-ballerup", "education", ["bridging_education"], name="UU Ballerup")
    svc.register("fgu-vest", "education", ["bridging_education"])
    course = bridging(svc)
    rows = svc.wait_handoffs(2, subject_id=course)
    mine = next(r for r in rows if r.partner_id == "uu-ballerup")
    theirs = next(r for r in rows if r.partner_id == "fgu-vest")

    svc.answer_on_queue("uu-ballerup", {"handoff_id": str(mine.id), "state": "received"},
                        message_id="uu-1")
    svc.observer.wait("partners.handoff_updated", handoff_id=str(mine.id), state="received")
    svc.answer_on_queue("uu-ballerup", {"handoff_id": str(mine.id), "state": "declined",
                                        "reason": "Holdet er fyldt op til august."},
                        message_id="uu-2")
    updates = svc.observer.wait("partners.handoff_updated", 2, handoff_id=str(mine.id))
    assert [u["state"] for u in updates] == ["received", "declined"]
    assert updates[1]["answered_by"] == "partner:uu-ballerup"
    assert updates[1]["reason"] == "Holdet er fyldt op til august."

    # The same message again (the partner retried), and a late receipt: nothing happens.
    svc.answer_on_queue("uu-ballerup", {"handoff_id": str(mine.id), "state": "declined",
                                        "reason": "Holdet er fyldt op til august."},
                        message_id="uu-2")
    svc.answer_on_queue("uu-ballerup", {"handoff_id": str(mine.id), "state": "received"})
    # Answering another partner's hand-off with one's own key is refused, as if missing.
    svc.answer_on_queue("uu-ballerup", {"handoff_id": str(theirs.id), "state": "accepted"},
                        message_id="uu-3")
    # Bad messages: not JSON, a field wrong, a CPR number in the note, a key that is no
    # partner, and an answer the lifecycle refuses.
    svc.answer_on_queue("uu-ballerup", b"accepted!", message_id="uu-4")
    svc.answer_on_queue("uu-ballerup", {"handoff_id": "x", "state": "maybe"},
                        message_id="uu-5")
    svc.answer_on_queue("uu-ballerup", {"handoff_id": str(mine.id), "state": "completed",
                                        "note": "CPR 010190-1234"}, message_id="uu-6")
    svc.answer_on_queue("ukendt", {"handoff_id": str(theirs.id), "state": "accepted"})
    svc.answer_on_queue("uu-ballerup", {"handoff_id": str(mine.id), "state": "completed",
                                        "outcome": "enrolled"})  # after declined: never
    errors = wait_for(lambda: e if len(e := dead_letter_errors(svc)) >= 6 else None,
                      what="six dead letters")
    assert any("No such hand-off." in e for e in errors)
    assert any("Cannot be decoded as JSON" in e for e in errors)
    assert any("state: Must be one of" in e and "handoff_id: Not a valid UUID" in e
               for e in errors)
    assert any("cpr_in_text" in e for e in errors)
    assert any("'ukendt' is not a partner" in e for e in errors)
    # (an answer the state does not allow is retried first: answers may arrive out of
    # order; this one never becomes possible and ends here after the last attempt)
    assert any("The hand-off is declined: it is closed and cannot change." in e
               for e in errors)
    # The dead letters keep the partner for a replay; nothing changed.
    headers = [h for h, _ in svc.dead_letters()]
    assert {h.get("samspil-answer-partner") for h in headers} == {"uu-ballerup", "ukendt"}
    assert [r.state for r in svc.handoffs(subject_id=course)
            if r.partner_id == "fgu-vest"] == ["requested"]
    assert len(svc.observer.payloads("partners.handoff_updated", handoff_id=str(mine.id))) == 2
    assert svc.observer.payloads("partners.handoff_updated", handoff_id=str(theirs.id)) == []

    # fgu-vest answers on its own key, out of order: completed overtakes accepted, is
    # retried, and goes through once accepted is in.
    svc.answer_on_queue("fgu-vest", {"handoff_id": str(theirs.id), "state": "completed",
                                     "outcome": "enrolled"})
    svc.answer_on_queue("fgu-vest", {"handoff_id": str(theirs.id), "state": "accepted"})
    done = svc.observer.wait("partners.handoff_updated", 2, handoff_id=str(theirs.id))
    assert [(u["previous_state"], u["state"]) for u in done] == [
        ("requested", "accepted"), ("accepted", "completed")]
    assert done[1]["outcome"] == "enrolled"


def test_an_unanswered_hand_off_escalates_once_after_n_working_days(partners_service):
    svc = partners_service
    svc.register("uu-ballerup", "education", ["bridging_education"])
    svc.register("jobcenter-ballerup", "employment", ["bridging_employment"])
    # Tuesday 15 April 2025, 10:00: five working days skip Skærtorsdag, Langfredag and
    # 2. påskedag, so the answer is due Wednesday 23 April... plus two: Friday 25 April.
    svc.clock.set(dt.datetime(2025, 4, 15, 8, 0, tzinfo=dt.UTC))
    quiet = bridging(svc, responsible=RESPONSIBLE)
    answered = bridging(svc, kind="employment")
    quiet_row = svc.wait_handoffs(1, subject_id=quiet)[0]
    answered_row = svc.wait_handoffs(1, subject_id=answered)[0]
    assert quiet_row.answer_by == dt.date(2025, 4, 25)
    svc.rpc("answer_handoff", actor=partner("jobcenter-ballerup"),
            handoff_id=str(answered_row.id), state="accepted")
    # Received is not an answer: it still escalates.
    svc.rpc("answer_handoff", actor=partner("uu-ballerup"), handoff_id=str(quiet_row.id),
            state="received")

    # The last minute of 25 April in Copenhagen (UTC+2): not yet.
    svc.clock.set(dt.datetime(2025, 4, 25, 21, 59, tzinfo=dt.UTC))
    marker = bridging(svc, kind="employment")  # processed after a few sweeps ran
    accept(svc, svc.wait_handoffs(1, subject_id=marker)[0])
    wait_for(lambda: svc.count("deadlines") >= 3, what="the deadlines stored")
    assert svc.handoffs(subject_id=quiet)[0].escalated_at is None

    svc.clock.set(dt.datetime(2025, 4, 25, 22, 0, tzinfo=dt.UTC))
    escalated = svc.observer.wait("partners.handoff_escalated", handoff_id=str(quiet_row.id))
    assert escalated[0] == {
        "handoff_id": str(quiet_row.id), "kind": "bridging_education",
        "partner_id": "uu-ballerup", "subject_type": "course", "subject_id": str(quiet),
        "citizen_ref": str(CITIZEN), "requested_at": "2025-04-15T08:00:00+00:00",
        "answer_by": "2025-04-25", "escalated_at": "2025-04-25T22:00:00+00:00",
        "responsible_email": "anne@balk.dk", "mailbox": "fronten"}
    row = wait_for(lambda: (r := svc.handoffs(subject_id=quiet)[0]).escalated_at and r,
                   what="escalated_at stored")
    assert row.state == "received"

    # Days later: still once; the accepted one never escalated.
    svc.clock.set(dt.datetime(2025, 5, 5, 9, 0, tzinfo=dt.UTC))
    later = bridging(svc, kind="employment")
    accept(svc, svc.wait_handoffs(1, subject_id=later)[0])
    wait_for(lambda: all(d.fired_at or d.cancelled_at for d in svc.rows("deadlines")
                         if d.subject_id in (str(quiet_row.id), str(answered_row.id))),
             what="both deadlines settled")
    assert len(svc.observer.payloads("partners.handoff_escalated",
                                     handoff_id=str(quiet_row.id))) == 1
    assert svc.observer.payloads("partners.handoff_escalated",
                                 handoff_id=str(answered_row.id)) == []

    # Staff see it on the list of those awaiting an answer, escalated ones filtered.
    page = svc.rpc("handoffs_awaiting_answer", actor=FRONTEN, escalated_only=True)
    assert [i["details"]["handoff_id"] for i in page["items"]] == [str(quiet_row.id)]
    item = page["items"][0]
    assert item["reason_code"] == "escalated" and item["overdue"] is True
    assert item["reason"].startswith("Uu Ballerup har ikke svaret på: Brobygning til "
                                     "uddannelse. Fristen var 25. april 2025")
    # The partner can still answer after the escalation.
    svc.rpc("answer_handoff", actor=partner("uu-ballerup"), handoff_id=str(quiet_row.id),
            state="accepted")
    assert svc.rpc("handoffs_awaiting_answer", actor=FRONTEN,
                   escalated_only=True)["items"] == []
