"""Meeting changes carry the SEQUENCE notifications needs; a planned meeting blocks
its participants in other pathways; other services' events land on the timeline
even before a pathway exists, exactly once per message."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from services.common.db import make_engine
from services.coordination.models import CitizenActivity
from tests.integration.coordination.conftest import T0, copenhagen, utc
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

MON = dt.date(2021, 3, 1)
TUE = MON + dt.timedelta(days=1)
ACTOR = "staff:m-social"  # the tovholder (the actor's id is the member id)
METTE = {"member_id": "m-social", "name": "Mette", "email": "mette@balk.dk",
         "agency": "social_services", "role": "socialrådgiver"}


def test_reschedule_and_cancel_raise_the_sequence_and_keep_the_participants(coordination):
    c, seen = coordination, coordination.observer
    citizen, other_citizen = uuid.uuid4(), uuid.uuid4()
    with c.rpc() as n:
        rpc = n.coordination
        pathway_id = rpc.open_pathway(actor=ACTOR, citizen_ref=str(citizen),
                                      tovholder=METTE)["pathway_id"]
        other = rpc.open_pathway(actor=ACTOR, citizen_ref=str(other_citizen),
                                 tovholder=METTE)["pathway_id"]
        opened = seen.wait("coordination.pathway_opened", 2)
        assert {o["tovholder_id"] for o in opened} == {"m-social"}

        first = rpc.schedule_meeting(actor=ACTOR, pathway_id=pathway_id,
                                     starts_at=utc(copenhagen(MON, 10)),
                                     ends_at=utc(copenhagen(MON, 11)), place="fronten")
        # Mette's meeting with one citizen makes her busy for the other.
        proposal = rpc.propose_slots(actor=ACTOR, pathway_id=other, length_minutes=60,
                                     horizon_start=utc(copenhagen(MON, 9)),
                                     horizon_end=utc(copenhagen(MON, 13)), max_per_day=None,
                                     limit=10)
        starts = {s["starts_at"] for s in proposal["slots"]}
        assert utc(copenhagen(MON, 9)) in starts
        assert not starts & {utc(copenhagen(MON, h, m)) for h in (9, 10) for m in (15, 30, 45)}
        assert utc(copenhagen(MON, 10)) not in starts

        # ... but not for a new time for the meeting itself.
        moved = rpc.propose_slots(actor=ACTOR, pathway_id=pathway_id, length_minutes=60,
                                  horizon_start=utc(copenhagen(MON, 10)),
                                  horizon_end=utc(copenhagen(MON, 11)),
                                  meeting_id=first["meeting_id"])
        assert [s["starts_at"] for s in moved["slots"]] == [utc(copenhagen(MON, 10))]

        assert rpc.reschedule_meeting(actor=ACTOR, meeting_id=first["meeting_id"],
                                      starts_at=utc(copenhagen(TUE, 10)),
                                      ends_at=utc(copenhagen(TUE, 11)),
                                      reason="Lars er syg.")["sequence"] == 1
        assert rpc.cancel_meeting(actor=ACTOR, meeting_id=first["meeting_id"],
                                  reason="Vincent er syg.")["sequence"] == 2

    scheduled = seen.wait("coordination.meeting_scheduled")[0]
    rescheduled = seen.wait("coordination.meeting_rescheduled")[0]
    cancelled = seen.wait("coordination.meeting_cancelled")[0]
    assert [m["sequence"] for m in (scheduled, rescheduled, cancelled)] == [0, 1, 2]
    assert {m["meeting_id"] for m in (scheduled, rescheduled, cancelled)} == {
        first["meeting_id"]}
    assert rescheduled["starts_at"] == utc(copenhagen(TUE, 10))
    assert cancelled["participants"] == scheduled["participants"]
    assert [p["kind"] for p in scheduled["participants"]] == ["tovholder", "citizen"]
    assert scheduled["place"] == "fronten"


def test_meeting_held_without_the_citizen_lowers_continuity(coordination):
    c, seen = coordination, coordination.observer
    citizen = uuid.uuid4()
    with c.rpc() as n:
        rpc = n.coordination
        pathway_id = rpc.open_pathway(actor=ACTOR, citizen_ref=str(citizen),
                                      tovholder=METTE)["pathway_id"]
        ids = [rpc.schedule_meeting(actor=ACTOR, pathway_id=pathway_id,
                                    starts_at=utc(copenhagen(day, 10)),
                                    ends_at=utc(copenhagen(day, 11)))["meeting_id"]
               for day in (MON, TUE)]
        c.at(copenhagen(TUE, 12))
        rpc.record_meeting_held(actor=ACTOR, meeting_id=ids[0],
                                present=["m-social", str(citizen)])
        rpc.record_meeting_held(actor=ACTOR, meeting_id=ids[1], present=["m-social"])
        view = rpc.get_pathway(actor=ACTOR, pathway_id=pathway_id)
    assert view["continuity"] == {"held_meetings": 2, "with_citizen_and_tovholder": 1,
                                  "share": 0.5, "tovholder_changes": 0}
    held = seen.wait("coordination.meeting_held", 2)
    assert sorted(h["citizen_present"] for h in held) == [False, True]


def test_news_before_a_pathway_is_kept_and_duplicates_change_nothing(coordination):
    c, seen = coordination, coordination.observer
    citizen = uuid.uuid4()
    course = {"course_id": uuid.uuid4(), "citizen_ref": citizen, "kind": "individual_82b",
              "reason": "referred_85", "ended_on": dt.date(2021, 2, 26)}
    escalation = {"case_id": uuid.uuid4(), "association_id": "kab-ballerup",
                  "tenancy_ref": None, "citizen_ref": citizen, "level": "outreach_due",
                  "previous_level": "reported", "next_deadline": None, "asks": [],
                  "occurred_at": T0 - dt.timedelta(hours=2)}
    course_message = c.publish("intake.course_ended", course,
                               occurred_at=T0 - dt.timedelta(days=1))
    c.publish("intake.course_ended", course, occurred_at=T0 - dt.timedelta(days=1),
              message_id=course_message)  # redelivered: the inbox absorbs it
    # A marker behind the duplicate on the same queue: once it is in, so is the duplicate.
    marker = c.publish("intake.course_ended", {**course, "citizen_ref": uuid.uuid4()})
    c.publish("housing.case_escalated", escalation)

    def activity() -> list[tuple[str, str]]:
        engine = make_engine(c.url)
        try:
            with engine.connect() as conn:
                return [(kind, str(message_id)) for kind, message_id in conn.execute(
                    select(CitizenActivity.kind, CitizenActivity.source_message_id)
                    .order_by(CitizenActivity.id))]
        finally:
            engine.dispose()

    wait_for(lambda: len(activity()) >= 3 and str(marker) in {m for _, m in activity()},
             what="the course, the marker and the escalation recorded")

    # No pathway yet: nothing for a tovholder.
    with c.rpc() as n:
        rpc = n.coordination
        assert rpc.find_pathway(actor=ACTOR, citizen_ref=str(citizen)) is None
        pathway_id = rpc.open_pathway(actor=ACTOR, citizen_ref=str(citizen),
                                      tovholder=METTE)["pathway_id"]
        kinds = [e["kind"] for e in rpc.timeline(actor=ACTOR, pathway_id=pathway_id)["entries"]]
    assert kinds[:2] == ["course_ended", "housing_case_escalated"]
    assert "pathway_opened" in kinds
    assert [m for _, m in activity()].count(str(course_message)) == 1
    # The escalation before the pathway produced no coordination event; one after does.
    c.publish("housing.case_escalated", {**escalation, "case_id": uuid.uuid4(),
                                         "occurred_at": T0})
    noted = seen.wait("coordination.housing_escalation_noted")
    assert len(noted) == 1 and noted[0]["tovholder_id"] == "m-social"
    assert noted[0]["case_id"] != str(escalation["case_id"])
