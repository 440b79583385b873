"""Pathway statistics from what really happened, on SQLite and PostgreSQL: referrals
waiting for a tovholder, meetings held around a handover (continuity), an agreed plan."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from nameko.exceptions import RemoteError

from tests.integration.coordination.conftest import COORDINATOR, T0, copenhagen, utc

pytestmark = pytest.mark.integration

MON = dt.date(2021, 3, 1)
ACTOR = "staff:m-social"  # the tovholder (the actor's id is the member id)
NEW_TOVHOLDER = "staff:m-upoint"
LEADER = {"kind": "staff", "id": "leder", "roles": ["operator"]}
METTE = {"member_id": "m-social", "name": "Mette Socialrådgiver", "email": "mette@balk.dk",
         "agency": "social_services", "role": "socialrådgiver"}
ULLA = {"member_id": "m-upoint", "name": "Ulla Ungekonsulent", "email": "ulla@balk.dk",
        "agency": "upoint", "role": "ungekonsulent"}


def day(offset: int, hour: int) -> dt.datetime:
    return copenhagen(MON + dt.timedelta(days=offset), hour)


def test_the_months_figures(coordination):
    c, seen = coordination, coordination.observer
    young, older, direct = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for citizen, under_30, referred_at in ((young, True, T0),
                                           (older, False, T0 - dt.timedelta(days=2))):
        c.publish("intake.pathway_referral", {
            "inquiry_id": uuid.uuid4(), "citizen_ref": citizen, "topics": ["education"],
            "under_30": under_30, "referred_at": referred_at,
            "referred_by": "staff:fronten-anne"})
    opened = {p["citizen_ref"]: p["pathway_id"]
              for p in seen.wait("coordination.pathway_opened", 2)}
    c.consent_many([(direct, "upoint"), (older, "upoint")])
    with c.rpc() as n:
        rpc = n.coordination
        pathway = rpc.open_pathway(actor=ACTOR, citizen_ref=str(direct),
                                   tovholder=METTE)["pathway_id"]
        rpc.add_member(actor=ACTOR, pathway_id=pathway, **ULLA)
        meetings = [rpc.schedule_meeting(actor=ACTOR, pathway_id=pathway,
                                         starts_at=utc(day(d, 10)), ends_at=utc(day(d, 11)),
                                         participants=[{"participant_id": "m-upoint"}]
                                         )["meeting_id"] for d in (0, 1, 2)]
        rpc.draft_plan(actor=ACTOR, pathway_id=pathway, goals=[
            {"text": "Jeg vil gerne have en hverdag med faste tider."}])
        rpc.record_plan_agreement(actor=ACTOR, pathway_id=pathway, version=1, how="in_meeting")

        c.at(day(0, 12))  # with Mette, his tovholder
        rpc.record_meeting_held(actor=ACTOR, meeting_id=meetings[0],
                                present=["m-social", str(direct)])
        c.at(day(0, 13))
        rpc.hand_over_tovholder(actor=ACTOR, pathway_id=pathway, new_tovholder_id="m-upoint",
                                reason="Mette skifter afdeling.")
        c.at(day(1, 12))  # Ulla, a new face
        rpc.record_meeting_held(actor=NEW_TOVHOLDER, meeting_id=meetings[1],
                                present=["m-upoint", str(direct)])
        c.at(day(2, 8))  # the young citizen waited 2 days
        rpc.add_member(actor=COORDINATOR, pathway_id=opened[str(young)], **METTE)
        rpc.appoint_tovholder(actor=COORDINATOR, pathway_id=opened[str(young)],
                              member_id="m-social")
        c.at(day(2, 12))  # Ulla again: the same tovholder
        rpc.record_meeting_held(actor=NEW_TOVHOLDER, meeting_id=meetings[2],
                                present=["m-upoint"])
        c.at(day(4, 8))  # the older citizen was referred 2 days before T0: 6 days
        rpc.add_member(actor=COORDINATOR, pathway_id=opened[str(older)], **ULLA)
        rpc.appoint_tovholder(actor=COORDINATOR, pathway_id=opened[str(older)],
                              member_id="m-upoint")

        march = rpc.pathway_statistics(actor=LEADER, period_start="2021-03-01",
                                       period_end="2021-03-31")
        february = rpc.pathway_statistics(actor=LEADER, period_start="2021-02-01",
                                          period_end="2021-02-28")
        with pytest.raises(RemoteError) as reversed_period:
            rpc.pathway_statistics(actor=LEADER, period_start="2021-03-31",
                                   period_end="2021-03-01")

    assert {k: v for k, v in march.items() if k != "text"} == {
        "period_start": "2021-03-01", "period_end": "2021-03-31",
        "active_pathways": 3, "active_under_30": 1, "opened": 3, "closed": 0,
        "referral_to_tovholder": {"appointed": 2, "median_days": 4.0, "mean_days": 4.0,
                                  "still_waiting": 0},
        "meetings_held": 3, "plans_agreed": 1,
        "continuity": {"held_meetings": 3, "same_tovholder": 2, "share": 0.6667,
                       "with_citizen_and_tovholder": 2},
        "tovholder_changes": 1,
    }
    assert "Kontinuitet: 67 % af møderne blev holdt med den samme tovholder (2 af 3)" in \
        march["text"]
    assert (february["active_pathways"], february["meetings_held"]) == (0, 0)
    assert february["continuity"]["share"] is None
    assert reversed_period.value.exc_type == "InvalidInput"
    assert json.loads(reversed_period.value.value)["errors"][0] == {
        "field": "period_end", "rule": "statistics.period_reversed",
        "message": "The period ends before it starts."}
