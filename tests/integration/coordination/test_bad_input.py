"""Bad input is refused with a clear error naming the field and the rule, and
changes nothing: no row written, nothing in the outbox, so nothing published."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from nameko.exceptions import RemoteError

from tests.integration.coordination.conftest import copenhagen, utc

pytestmark = pytest.mark.integration

MON = dt.date(2021, 3, 1)
ACTOR = "staff:m-social"  # the tovholder (the actor's id is the member id)


@pytest.fixture
def team(coordination):
    """A pathway with its tovholder, a teacher (8-14), Upoint (busy Tuesday morning),
    and a plan the citizen agreed to."""
    citizen = uuid.uuid4()
    coordination.consent(citizen, "school", "upoint")
    with coordination.rpc() as n:
        rpc = n.coordination
        pathway_id = rpc.open_pathway(actor=ACTOR, citizen_ref=str(citizen), tovholder={
            "member_id": "m-social", "name": "Mette", "email": "mette@balk.dk",
            "agency": "social_services", "role": "socialrådgiver"})["pathway_id"]
        rpc.add_member(actor=ACTOR, pathway_id=pathway_id, member_id="m-school", name="Lars",
                       email="lars@skole.dk", agency="school", role="lærer")
        rpc.add_member(actor=ACTOR, pathway_id=pathway_id, member_id="m-upoint", name="Ulla",
                       email="ulla@balk.dk", agency="upoint", role="ungekonsulent")
        rpc.set_working_hours(actor=ACTOR, member_id="m-school", days=[
            {"weekday": d, "start": "08:00", "end": "14:00"}
            for d in ("mon", "tue", "wed", "thu", "fri")])
        rpc.add_busy_block(actor=ACTOR, participant_id="m-upoint",
                           starts_at=utc(copenhagen(MON + dt.timedelta(days=1), 8)),
                           ends_at=utc(copenhagen(MON + dt.timedelta(days=1), 12)))
    return coordination, pathway_id, citizen


def refused(coordination, method: str, **kwargs) -> dict[str, dict[str, str]]:
    """Call `method`, expect InvalidInput, return its errors by field; and prove that
    not a single row changed (the outbox included: nothing was published)."""
    before = coordination.counts()
    with coordination.rpc() as n, pytest.raises(RemoteError) as err:
        getattr(n.coordination, method)(actor=ACTOR, **kwargs)
    assert err.value.exc_type == "InvalidInput", err.value
    assert coordination.counts() == before
    return {e["field"]: e for e in json.loads(err.value.value)["errors"]}


def meeting(pathway_id: str, start: dt.datetime, end: dt.datetime) -> dict:
    return {"pathway_id": pathway_id, "starts_at": utc(start), "ends_at": utc(end),
            "participants": [{"participant_id": "m-school"}, {"participant_id": "m-upoint"}]}


def test_refused_meetings_name_the_rule_and_change_nothing(team):
    c, pathway_id, _ = team
    tue, easter_monday = MON + dt.timedelta(days=1), dt.date(2021, 4, 5)

    # Outside a required participant's working hours (the teacher works 8-14).
    errors = refused(c, "schedule_meeting",
                     **meeting(pathway_id, copenhagen(MON, 14), copenhagen(MON, 15)))
    assert errors["participants.m-school"]["rule"] == "meeting.outside_working_hours"
    assert "08:00-14:00" in errors["participants.m-school"]["message"]

    # A required participant is busy (Upoint, Tuesday 8-12).
    errors = refused(c, "schedule_meeting",
                     **meeting(pathway_id, copenhagen(tue, 10), copenhagen(tue, 11)))
    assert errors["participants.m-upoint"]["rule"] == "meeting.participant_busy"

    # A holiday.
    errors = refused(c, "schedule_meeting", **meeting(
        pathway_id, copenhagen(easter_monday, 10), copenhagen(easter_monday, 11)))
    assert errors["meeting.start"]["rule"] == "meeting.holiday"
    assert "2. påskedag" in errors["meeting.start"]["message"]

    # An end before the start.
    errors = refused(c, "schedule_meeting",
                     **meeting(pathway_id, copenhagen(MON, 11), copenhagen(MON, 10)))
    assert errors["meeting.end"]["rule"] == "meeting.end_before_start"

    # Someone outside the team and network.
    errors = refused(c, "schedule_meeting", pathway_id=pathway_id,
                     starts_at=utc(copenhagen(MON, 10)), ends_at=utc(copenhagen(MON, 11)),
                     participants=[{"participant_id": "m-stranger"}])
    assert errors["participants.0.participant_id"]["rule"] == "meeting.unknown_participant"

    # Naive times: the schema refuses them before anything else.
    errors = refused(c, "schedule_meeting", pathway_id=pathway_id,
                     starts_at="2021-03-01T10:00:00", ends_at="2021-03-01T11:00:00")
    assert set(errors) == {"starts_at", "ends_at"}


def test_refused_team_and_plan_changes_name_the_rule_and_change_nothing(team):
    c, pathway_id, citizen = team

    # A plan without the citizen's own goal.
    errors = refused(c, "draft_plan", pathway_id=pathway_id, goals=[
        {"text": "Han skal passe sin skole.", "voice": "network", "actions": []}])
    assert errors["goals"]["rule"] == "plan.citizen_goal_missing"

    # An action owned by someone outside the team.
    errors = refused(c, "draft_plan", pathway_id=pathway_id, goals=[
        {"text": "Jeg vil gerne i skole.", "actions": [
            {"text": "Ring om morgenen.", "owner_id": "m-stranger", "due_on": "2021-03-08"}]}])
    assert errors["actions.owner"]["rule"] == "plan.owner_not_member"

    # A second active tovholder.
    errors = refused(c, "appoint_tovholder", pathway_id=pathway_id, member_id="m-upoint")
    assert errors["tovholder"]["rule"] == "pathway.second_tovholder"

    # A handover without a reason.
    errors = refused(c, "hand_over_tovholder", pathway_id=pathway_id,
                     new_tovholder_id="m-upoint", reason="   ")
    assert errors["reason"]["rule"] == "handover.reason_missing"

    # A second pathway for the same citizen.
    errors = refused(c, "open_pathway", citizen_ref=str(citizen), tovholder=None)
    assert errors["citizen_ref"]["rule"] == "pathway.already_open"

    # Schema errors name every field at once.
    errors = refused(c, "add_member", pathway_id=pathway_id, member_id="", name="Bo",
                     email="not-an-address", agency="police", role="betjent", shoe_size=44)
    assert set(errors) == {"member_id", "email", "agency", "shoe_size"}
    assert all(e["rule"] == "schema" for e in errors.values())


def test_not_found_is_its_own_error(team):
    c, _, _ = team
    with c.rpc() as n, pytest.raises(RemoteError) as err:
        n.coordination.get_pathway(actor=ACTOR, pathway_id=str(uuid.uuid4()))
    assert err.value.exc_type == "NotFoundError"
