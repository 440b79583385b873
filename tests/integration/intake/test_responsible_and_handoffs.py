"""A course's responsible staff member (issue 10, known faces) and the partners' answers
to a course's hand-offs (issue 16), over RPC, on a real broker and both databases; the
partners' events are real envelopes built by the registry.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from services.intake import handlers
from services.intake.models import CourseTimelineRow
from tests.integration.intake.conftest import EventTap, make_intake
from tests.integration.intake.support import (
    ACCESS_LOG,
    FRONTEN,
    KARL,
    NOW,
    OTHER_FRONTEN,
    World,
    partner_known,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

D = dt.date
KARL_AT_WORK = {"staff_id": "fronten-karl", "name": "Karl Jensen", "email": "karl@balk.dk",
                "phone": "+45 44 77 34 44"}


@pytest.fixture
def world(amqp_uri, db_url, tmp_path, runner_factory, cpr_keys) -> Iterator[World]:
    intake = make_intake(
        amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, NOW, INTAKE_SWEEP_SECONDS=3600
    )
    made = World.of(intake, cpr_keys)
    intake.run()
    yield made
    made.close()


def test_the_known_face_is_handed_over_with_history_timeline_and_an_event(
    world: World, tap: EventTap
):
    # Started by Karl without naming anyone: Karl is responsible.
    course_id = world.course(D(2018, 4, 2), D(2018, 9, 1), [D(2018, 6, 20)], by=KARL)
    with world.intake.rpc() as cluster:
        view = cluster.intake.get_course(actor=FRONTEN, course_id=course_id, purpose="samtale")
        assert view["responsible"] == {"staff_id": "fronten-karl", "name": "fronten-karl",
                                       "email": None, "phone": None}
        assert [i["subject_id"] for i in cluster.intake.worklist_follow_ups(
            actor=OTHER_FRONTEN, mine=True)["items"]] == []  # nothing due yet

        world.intake.clock.set(NOW + dt.timedelta(days=3))
        handed = cluster.intake.hand_over_course(
            actor=OTHER_FRONTEN, course_id=course_id,
            responsible={"staff_id": "fronten-anne", "name": "Anne Andersen",
                         "email": "anne@balk.dk", "phone": "+45 44 77 34 43"},
            note="  Mikkel foretrækker at blive ringet op om formiddagen. ")
        assert handed["responsible"]["name"] == "Anne Andersen"
        assert [(t["staff_id"], t["until"] is None, t["handover_note"])
                for t in handed["responsible_history"]] == [
            ("fronten-karl", False, "Mikkel foretrækker at blive ringet op om formiddagen."),
            ("fronten-anne", True, None),
        ]
        assert handed["responsible_history"][0]["until"] == "2018-06-04T08:00:00+00:00"
        assert [(e["kind"], e["text"], e["staff_id"]) for e in handed["timeline"]] == [
            ("responsible_changed", "Anne Andersen er nu ansvarlig medarbejder for forløbet "
             "(overtaget fra fronten-karl).", "fronten-anne")]

        # "Mine" follows the responsible staff member, not who started the course.
        world.intake.clock.set(dt.datetime(2018, 6, 20, 8, 0, tzinfo=dt.UTC))
        world.sweep()
        mine = {who["id"]: [i["subject_id"] for i in cluster.intake.worklist_follow_ups(
            actor=who, mine=True)["items"]] for who in (FRONTEN, OTHER_FRONTEN)}
        assert mine == {"fronten-anne": [course_id], "fronten-karl": []}
        item = cluster.intake.worklist_follow_ups(actor=FRONTEN)["items"][0]
        assert (item["details"]["responsible"], item["details"]["responsible_name"]) == (
            "fronten-anne", "Anne Andersen")
        # Back to Karl, now with his work contact: the § 85 referral names him.
        cluster.intake.hand_over_course(actor=FRONTEN, course_id=course_id,
                                        responsible=KARL_AT_WORK, note=None)
        cluster.intake.refer_to_85(actor=FRONTEN, course_id=course_id)

    changed = tap.wait("intake.course_responsible_changed",
                       lambda e: e["payload"]["staff_id"] == "fronten-anne")
    assert changed["payload"] == {
        "course_id": course_id, "citizen_ref": view["citizen_ref"], "staff_id": "fronten-anne",
        "name": "Anne Andersen", "changed_at": "2018-06-04T08:00:00+00:00",
        "email": "anne@balk.dk", "phone": "+45 44 77 34 43"}
    assert changed["correlation_id"] == course_id
    assert "note" not in str(changed["payload"])  # the note stays in intake
    referral = tap.wait("intake.referral_85_made")
    assert referral["payload"]["responsible"] == KARL_AT_WORK
    handovers = world.intake.rows(
        select(ACCESS_LOG.c.actor, ACCESS_LOG.c.subject_id).where(
            ACCESS_LOG.c.action == "change",
            ACCESS_LOG.c.purpose == "skift af ansvarlig medarbejder for forløb"))
    assert [tuple(r) for r in handovers] == [("staff:fronten-karl", course_id),
                                             ("staff:fronten-anne", course_id)]


def handoff(course_id: str, citizen_ref: str, *, kind: str, state: str, previous: str,
            at: dt.datetime, handoff_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "handoff_id": handoff_id or str(uuid.uuid4()), "kind": kind,
        "partner_id": extra.pop("partner_id", "jobcenter-ballerup"), "subject_type": "course",
        "subject_id": course_id, "citizen_ref": citizen_ref, "state": state,
        "previous_state": previous, "reason": None, "outcome": None, "hold_until": None,
        "answered_by": "partner:jobcenter-ballerup", "at": at,
        "title": f"Status: {state}", **extra,
    }


def timeline(world: World, course_id: str) -> list[Any]:
    return world.intake.rows(
        select(CourseTimelineRow.kind, CourseTimelineRow.text, CourseTimelineRow.details)
        .where(CourseTimelineRow.course_id == uuid.UUID(course_id))
        .order_by(CourseTimelineRow.at, CourseTimelineRow.id))


def test_partners_answers_land_on_the_course_and_a_completed_85_records_the_outcome(
    world: World, tap: EventTap
):
    partner_known(world.intake, "jobcenter-ballerup", name="Jobcenter Ballerup")
    ref = world.citizen()
    course_id = world.course(D(2018, 4, 2), D(2018, 9, 1), [D(2018, 6, 20)], citizen_ref=ref)
    world.run(handlers.refer_to_85, actor=KARL, course_id=uuid.UUID(course_id), on=None)
    at = NOW + dt.timedelta(hours=2)

    # Declined, with a reason: on the timeline, in Danish, with the partner's name.
    bridging = str(uuid.uuid4())
    declined = handoff(course_id, ref, kind="bridging_employment", state="declined",
                       previous="received", at=at, handoff_id=bridging,
                       reason="Vi har ikke plads før efter sommerferien.",
                       title="Brobygning til beskæftigelse: afvist af Jobcenter Ballerup")
    world.intake.publish("partners.handoff_updated", declined)
    # The same answer again (another message id): shown once.
    world.intake.publish("partners.handoff_updated", declined)
    # Social Vejledning completes the § 85 hand-off: the course's outcome is recorded.
    world.intake.publish("partners.handoff_updated", handoff(
        course_id, ref, kind="referral_85", state="completed", previous="in_progress",
        at=at + dt.timedelta(hours=1), outcome="granted", partner_id="social-vejledning",
        answered_by="staff:sv-lise", title="Henvisning til § 85-vurdering: afsluttet"))
    # Not intake's: a housing case's hand-off, and a course intake does not know.
    world.intake.publish("partners.handoff_updated", {
        **handoff(course_id, ref, kind="hold_termination", state="accepted",
                  previous="requested", at=at, hold_until=D(2018, 8, 1)),
        "subject_type": "case", "subject_id": str(uuid.uuid4())})
    world.intake.publish("partners.handoff_updated", handoff(
        str(uuid.uuid4()), ref, kind="bridging_health", state="accepted",
        previous="requested", at=at))

    decided = tap.wait("intake.referral_85_decided")
    assert decided["payload"] == {"course_id": course_id, "citizen_ref": ref,
                                  "outcome": "granted", "decided_on": "2018-06-01"}
    entries = wait_for(lambda: (rows := timeline(world, course_id)) and len(rows) >= 3 and rows,
                       what="the timeline")
    assert [(e.kind, e.text) for e in entries] == [
        ("handoff_updated", "Brobygning til beskæftigelse: afvist af Jobcenter Ballerup"),
        ("handoff_updated", "Henvisning til § 85-vurdering: afsluttet"),
        ("referral_85_decided", "§ 85-afgørelsen er registreret: bevilget."),
    ]
    assert entries[0].details["reason"] == "Vi har ikke plads før efter sommerferien."
    with world.intake.rpc() as cluster:
        view = cluster.intake.get_course(actor=FRONTEN, course_id=course_id, purpose="samtale")
    assert view["referrals_85"][0]["outcome"] == "granted"
    assert [(e["kind"], e.get("state"), e.get("partner_name")) for e in view["timeline"]] == [
        ("handoff_updated", "declined", "Jobcenter Ballerup"),
        ("handoff_updated", "completed", "social-vejledning"),
        ("referral_85_decided", None, None),
    ]
    # Every one of the five messages was handled (none dead-lettered): the inbox has
    # them all; only the course's two answers changed the course (logged).
    inbox = world.store.metadata.tables["inbox"]
    wait_for(lambda: len(world.intake.rows(select(inbox.c.message_id).where(
        inbox.c.consumer == "intake.on_partners_handoff_updated"))) == 5,
        what="five hand-off messages handled")
    assert [tuple(r) for r in world.intake.rows(select(ACCESS_LOG.c.actor).where(
        ACCESS_LOG.c.purpose == "svar fra samarbejdspartner på overdragelse"))] == [
        ("partner:jobcenter-ballerup",), ("staff:sv-lise",)]
