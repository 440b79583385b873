"""Need-to-know through the real broker, on SQLite and PostgreSQL (issue 10): a pathway
answers only its tovholder and team (and coordinators while it awaits a tovholder),
exactly as a missing pathway to everyone else; a team member from another agency
needs the citizen's consent to join and sees only what it covers; a withdrawal leaves
the membership and hides the pathway; every allowed read is in the access log with its
purpose, and the citizen's access report lists them."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from nameko.exceptions import RemoteError

from services.coordination.models import metadata
from tests.integration.coordination.conftest import (
    COORDINATOR,
    T0,
    Coordination,
    copenhagen,
    staff,
    utc,
)
from tests.integration.coordination.paging import rows

pytestmark = pytest.mark.integration

MON = dt.date(2021, 3, 1)
METTE = staff("m-social", "tovholder")
LARS = staff("m-school", "tovholder")
BO = staff("m-bo", "tovholder")  # social services, in the team
FRONTEN = staff("anne", "fronten")
STRANGER = staff("m-stranger", "tovholder")
PARTNER = {"kind": "partner", "id": "kab", "roles": ["partner"], "partner_id": "kab"}
SPEC = {
    "m-social": {"member_id": "m-social", "name": "Mette Socialrådgiver",
                 "email": "mette@balk.dk", "agency": "social_services",
                 "role": "socialrådgiver"},
    "m-school": {"member_id": "m-school", "name": "Lars Lærer", "email": "lars@skole.dk",
                 "agency": "school", "role": "lærer"},
    "m-bo": {"member_id": "m-bo", "name": "Bo Bostøtte", "email": "bo@balk.dk",
             "agency": "social_services", "role": "bostøttemedarbejder"},
}
GOALS = [{"goal_id": "g-1", "text": "Jeg vil gerne komme i skole igen.", "actions": [
    {"action_id": "a-mette", "text": "Mette ringer til skolen.", "owner_id": "m-social",
     "due_on": "2021-03-20"},
    {"action_id": "a-lars", "text": "Lars følger op på fremmøde.", "owner_id": "m-school",
     "due_on": "2021-03-01"}]}]


def refusal(call: Callable[[], Any]) -> tuple[str, list[dict[str, str]]]:
    with pytest.raises(RemoteError) as error:
        call()
    return error.value.exc_type, json.loads(error.value.value)["errors"]


def the_pathway(c: Coordination, kinds: tuple[str, ...] = ("action_plan", "meeting_schedule"),
                ) -> tuple[str, uuid.UUID, str, str]:
    """Mette leads; Lars (school, with the citizen's consent of `kinds`) and Bo (social
    services) are in the team; a plan, a meeting and Hanne, who may be contacted.
    Returns the pathway, the citizen, the meeting and Hanne's id."""
    citizen = uuid.uuid4()
    c.consent(citizen, "school", kinds=kinds)
    with c.rpc() as n:
        rpc = n.coordination
        pathway_id = rpc.open_pathway(actor=METTE, citizen_ref=str(citizen),
                                      tovholder=SPEC["m-social"])["pathway_id"]
        rpc.add_member(actor=METTE, pathway_id=pathway_id, **SPEC["m-school"])
        rpc.add_member(actor=METTE, pathway_id=pathway_id, **SPEC["m-bo"])
        hanne = rpc.add_network_person(actor=METTE, pathway_id=pathway_id, name="Hanne",
                                       relation="mor", email="hanne@example.dk",
                                       may_contact=True)["person_id"]
        rpc.draft_plan(actor=METTE, pathway_id=pathway_id, goals=GOALS)
        meeting = rpc.schedule_meeting(
            actor=METTE, pathway_id=pathway_id, starts_at=utc(copenhagen(MON, 10)),
            ends_at=utc(copenhagen(MON, 11)),
            participants=[{"participant_id": "m-school"}])["meeting_id"]
    # Lars's action falls due today: the sweep announces it (and then rests till tomorrow).
    c.observer.wait("coordination.action_due", where=lambda p: p["pathway_id"] == pathway_id)
    return pathway_id, citizen, meeting, hanne


def reads(url: str) -> list[tuple[str, str, str, str | None]]:
    log = metadata.tables["access_log"]
    return [(r.actor, r.action, r.what, r.purpose)
            for r in rows(url, log, log.c.action.in_(["read", "disclosure"]))]


def test_a_pathway_answers_as_missing_to_everyone_who_may_not_see_it(coordination):
    c = coordination
    pathway_id, citizen, meeting, hanne = the_pathway(c)
    with c.rpc() as n:
        rpc = n.coordination
        # Former: Bo leaves the team today; from tomorrow he is an outsider too.
        rpc.end_membership(actor=METTE, pathway_id=pathway_id, member_id="m-bo",
                           last_day=MON.isoformat())
    c.at(copenhagen(MON + dt.timedelta(days=1), 8))
    # The day's sweep: Lars's action is overdue (announced once; nothing more changes).
    c.observer.wait("coordination.action_overdue")
    missing_id, missing_meeting = str(uuid.uuid4()), str(uuid.uuid4())

    def pathway_calls(rpc: Any, who: Any, pid: str) -> dict[str, Callable[[], Any]]:
        at = utc(copenhagen(MON + dt.timedelta(days=2), 10))
        end = utc(copenhagen(MON + dt.timedelta(days=2), 11))
        return {
            "get_pathway": lambda: rpc.get_pathway(actor=who, pathway_id=pid),
            "timeline": lambda: rpc.timeline(actor=who, pathway_id=pid),
            "list_plan_versions": lambda: rpc.list_plan_versions(actor=who, pathway_id=pid),
            "get_plan_version": lambda: rpc.get_plan_version(actor=who, pathway_id=pid,
                                                             version=1),
            "get_participant_contact": lambda: rpc.get_participant_contact(
                actor=who, pathway_id=pid, participant_id=hanne, purpose="Indkaldelse"),
            "add_member": lambda: rpc.add_member(actor=who, pathway_id=pid,
                                                 **{**SPEC["m-bo"], "member_id": "m-new"}),
            "schedule_meeting": lambda: rpc.schedule_meeting(actor=who, pathway_id=pid,
                                                             starts_at=at, ends_at=end),
            "propose_slots": lambda: rpc.propose_slots(
                actor=who, pathway_id=pid, length_minutes=60, horizon_start=at,
                horizon_end=end),
            "revise_plan": lambda: rpc.revise_plan(actor=who, pathway_id=pid, goals=GOALS),
            "set_action_status": lambda: rpc.set_action_status(
                actor=who, pathway_id=pid, action_id="a-mette", status="done"),
            "close_pathway": lambda: rpc.close_pathway(actor=who, pathway_id=pid,
                                                       reason="Flyttet."),
            "appoint_tovholder": lambda: rpc.appoint_tovholder(actor=who, pathway_id=pid,
                                                               member_id="m-bo"),
        }

    before = c.counts()
    with c.rpc() as n:
        rpc = n.coordination
        missing = {name: refusal(call)
                   for name, call in pathway_calls(rpc, METTE, missing_id).items()}
        missing_meeting_answer = refusal(lambda: rpc.cancel_meeting(
            actor=METTE, meeting_id=missing_meeting, reason="Syg."))
        for who in (STRANGER, FRONTEN, PARTNER, COORDINATOR, BO, "staff:nobody"):
            for name, call in pathway_calls(rpc, who, pathway_id).items():
                assert refusal(call) == (missing[name][0], json.loads(json.dumps(
                    missing[name][1]).replace(missing_id, pathway_id))), (who, name)
            for call in (lambda w=who: rpc.cancel_meeting(actor=w, meeting_id=meeting,
                                                          reason="Syg."),
                         lambda w=who: rpc.record_meeting_held(actor=w, meeting_id=meeting,
                                                               present=["m-social"])):
                assert refusal(call) == (missing_meeting_answer[0], json.loads(json.dumps(
                    missing_meeting_answer[1]).replace(missing_meeting, meeting))), who
    assert missing["get_pathway"] == ("NotFoundError", [{
        "field": "pathway_id", "rule": "not_found", "message": f"no pathway {missing_id}"}])
    assert c.counts() == before  # refused: nothing written, not even to the access log

    with c.rpc() as n:
        for who in (STRANGER, FRONTEN, PARTNER, COORDINATOR, BO):
            assert n.coordination.find_pathway(actor=who, citizen_ref=str(citizen)) is None
        assert n.coordination.find_pathway(actor=METTE, citizen_ref=str(citizen))[
            "pathway_id"] == pathway_id
        # Opening a second pathway for the citizen: refused, its id only to those who see it.
        _, errors = refusal(lambda: n.coordination.open_pathway(
            actor=FRONTEN, citizen_ref=str(citizen)))
        assert errors == [{"field": "citizen_ref", "rule": "pathway.already_open",
                           "message": "the citizen already has an open pathway"}]
    assert reads(c.url) == []  # no read was allowed; the searches found nothing to read


def test_a_team_member_marks_only_their_own_actions_and_the_tovholder_the_rest(coordination):
    c = coordination
    pathway_id, _, meeting, _ = the_pathway(c)
    before = c.counts()
    with c.rpc() as n:
        rpc = n.coordination
        for who, call in [
            (LARS, lambda: rpc.schedule_meeting(
                actor=LARS, pathway_id=pathway_id, starts_at=utc(copenhagen(MON, 12)),
                ends_at=utc(copenhagen(MON, 13)))),
            (LARS, lambda: rpc.revise_plan(actor=LARS, pathway_id=pathway_id, goals=GOALS)),
            (LARS, lambda: rpc.set_action_status(actor=LARS, pathway_id=pathway_id,
                                                 action_id="a-mette", status="done")),
            (BO, lambda: rpc.cancel_meeting(actor=BO, meeting_id=meeting, reason="Syg.")),
            (BO, lambda: rpc.add_network_person(actor=BO, pathway_id=pathway_id,
                                                name="Peter", relation="far")),
            (BO, lambda: rpc.hand_over_tovholder(actor=BO, pathway_id=pathway_id,
                                                 new_tovholder_id="m-bo", reason="Ferie.")),
        ]:
            exc_type, errors = refusal(call)
            assert exc_type == "InvalidInput", who
            assert [(e["field"], e["rule"]) for e in errors] == [("actor", "not_allowed")]
        assert c.counts() == before
        assert rpc.set_action_status(actor=LARS, pathway_id=pathway_id, action_id="a-lars",
                                     status="done") == {"action_id": "a-lars",
                                                        "status": "done"}


def test_another_agency_joins_only_with_the_citizens_consent_to_it(coordination):
    c = coordination
    citizen = uuid.uuid4()
    with c.rpc() as n:
        rpc = n.coordination
        pathway_id = rpc.open_pathway(actor=METTE, citizen_ref=str(citizen),
                                      tovholder=SPEC["m-social"])["pathway_id"]
        # Social services needs no consent.
        rpc.add_member(actor=METTE, pathway_id=pathway_id, **SPEC["m-bo"])

    def join() -> tuple[str, list[dict[str, str]]]:
        with c.rpc() as n:
            return refusal(lambda: n.coordination.add_member(
                actor=METTE, pathway_id=pathway_id, **SPEC["m-school"]))

    missing = ("InvalidInput", [{
        "field": "agency", "rule": "consent.missing",
        "message": "the citizen has not consented to sharing with school for the pathway "
                   "team (purpose pathway_team); Fronten records the consent first"}])
    before = c.counts()
    assert join() == missing
    # A consent to the school for another purpose, or to another agency, is not one.
    c.consent(citizen, "school", purpose="bridging_education")
    c.consent(citizen, "upoint")
    assert join() == missing
    # A withdrawn consent is not one either.
    (withdrawn,) = c.consent(citizen, "school")
    c.withdraw(withdrawn, citizen, "school")
    assert join() == missing
    # The tovholder of a new pathway from another agency needs one too.
    other = uuid.uuid4()
    with c.rpc() as n:
        assert refusal(lambda: n.coordination.open_pathway(
            actor=METTE, citizen_ref=str(other), tovholder=SPEC["m-school"]))[1][0][
            "rule"] == "consent.missing"
    after = c.counts()
    assert {k: v for k, v in after.items() if k not in ("consents", "consent_kinds", "inbox")
            } == {k: v for k, v in before.items() if k not in ("consents", "consent_kinds",
                                                               "inbox")}
    c.consent(citizen, "school")
    with c.rpc() as n:
        n.coordination.add_member(actor=METTE, pathway_id=pathway_id, **SPEC["m-school"])
    added = c.observer.wait("coordination.member_added",
                            where=lambda p: p["member_id"] == "m-school")
    assert added[0]["agency"] == "school"


def test_another_agency_sees_only_what_the_consent_covers(coordination):
    c = coordination
    pathway_id, citizen, _, hanne = the_pathway(c, kinds=("meeting_schedule",))
    c.publish("housing.case_opened", {
        "case_id": uuid.uuid4(), "association_id": "kab-ballerup", "tenancy_ref": "1-2",
        "citizen_ref": citizen, "level": "reported", "next_deadline": T0 + dt.timedelta(days=9),
        "asks": [], "occurred_at": T0, "source": "association", "citizen_match_pending": False})
    without_plan = None
    with c.rpc() as n:
        rpc = n.coordination
        without_plan = rpc.open_pathway(actor=METTE, citizen_ref=str(uuid.uuid4()),
                                        tovholder=SPEC["m-social"])["pathway_id"]
        no_plan = refusal(lambda: rpc.list_plan_versions(actor=METTE, pathway_id=without_plan))

        def housing_on_timeline() -> bool:
            entries = rpc.timeline(actor=METTE, pathway_id=pathway_id)["entries"]
            return "housing_case_opened" in [e["kind"] for e in entries]

        from tests.support.waiting import wait_for
        wait_for(housing_on_timeline, what="the housing case on the tovholder's timeline")

        full = rpc.get_pathway(actor=METTE, pathway_id=pathway_id)
        bo = rpc.get_pathway(actor=BO, pathway_id=pathway_id)  # social services: all
        lars = rpc.get_pathway(actor=LARS, pathway_id=pathway_id)
        lars_timeline = rpc.timeline(actor=LARS, pathway_id=pathway_id)
        lars_plan = refusal(lambda: rpc.list_plan_versions(actor=LARS, pathway_id=pathway_id))
        lars_contact = refusal(lambda: rpc.get_participant_contact(
            actor=LARS, pathway_id=pathway_id, participant_id=hanne, purpose="Indkaldelse"))
        unknown_contact = refusal(lambda: rpc.get_participant_contact(
            actor=METTE, pathway_id=pathway_id, participant_id=hanne + "x",
            purpose="Indkaldelse"))
        lars_meetings = rpc.my_meetings(actor=LARS, limit=50)["items"]
        lars_actions = rpc.my_actions(actor=LARS, limit=50)["items"]
        lars_pathways = rpc.my_pathways(actor=LARS, limit=50)["items"]

    assert full["withheld"] == [] and bo["withheld"] == [] and bo["plan"] is not None
    assert lars["withheld"] == ["network", "plan", "offer_referrals"]
    assert lars["plan"] is None and lars["network"] == []
    assert [m["meeting_id"] for m in lars["meetings"]] == [m["meeting_id"] for m in
                                                         full["meetings"]]
    assert {m["member_id"] for m in lars["members"]} == {"m-social", "m-school", "m-bo"}
    assert (lars["my_standing"], lars["restricted"]) == ("member", False)
    # The plan he may not see answers as a pathway without a plan; the contact too.
    assert lars_plan == no_plan == ("NotFoundError", [{
        "field": "pathway_id", "rule": "not_found",
        "message": "the pathway has no handleplan yet"}])
    assert lars_contact[0] == unknown_contact[0] == "NotFoundError"
    assert lars_contact[1][0]["message"] == f"{hanne} is not a network person of this pathway"
    kinds = {e["kind"] for e in lars_timeline["entries"]}
    assert {"member_added", "tovholder_appointed", "meeting_scheduled"} <= kinds
    assert not kinds & {"plan_version_created", "network_person_added",
                        "housing_case_opened"}
    assert [i["kind"] for i in lars_meetings] == ["meeting"]
    assert lars_actions == []  # his own action is in a plan the consent does not show
    assert [(i["details"]["plan_state"], i["due_on"]) for i in lars_pathways] == [(None, None)]
    assert lars_pathways[0]["reason"] == "Du er med i teamet som lærer."
    assert ("staff:m-school", "read", "pathway", "Se forløbet: team, møder og handleplan") in \
        reads(c.url)


def test_a_withdrawn_consent_keeps_the_member_and_hides_the_pathway(coordination):
    c = coordination
    citizen = uuid.uuid4()
    (consent_id,) = c.consent(citizen, "school")
    with c.rpc() as n:
        rpc = n.coordination
        pathway_id = rpc.open_pathway(actor=METTE, citizen_ref=str(citizen),
                                      tovholder=SPEC["m-social"])["pathway_id"]
        rpc.add_member(actor=METTE, pathway_id=pathway_id, **SPEC["m-school"])
        rpc.schedule_meeting(actor=METTE, pathway_id=pathway_id,
                             starts_at=utc(copenhagen(MON, 10)), ends_at=utc(copenhagen(MON, 11)),
                             participants=[{"participant_id": "m-school"}])
        assert rpc.get_pathway(actor=LARS, pathway_id=pathway_id)["restricted"] is False
    c.withdraw(consent_id, citizen, "school")
    with c.rpc() as n:
        rpc = n.coordination
        view = rpc.get_pathway(actor=LARS, pathway_id=pathway_id)
        entries = rpc.timeline(actor=LARS, pathway_id=pathway_id)
        listed = rpc.my_pathways(actor=LARS)["items"]
        meetings = rpc.my_meetings(actor=LARS)["items"]
        team = rpc.get_pathway(actor=METTE, pathway_id=pathway_id)["members"]
        exc_type, errors = refusal(lambda: rpc.get_plan_version(
            actor=LARS, pathway_id=pathway_id, version=1))
    assert view["restricted"] is True
    assert (view["members"], view["meetings"], view["plan"], view["tovholder_id"]) == (
        [], [], None, None)
    assert view["restricted_reason"] == ("Du er med i teamet som lærer. Borgeren har ikke "
                                         "givet samtykke til, at din organisation ser "
                                         "forløbet.")
    assert view["citizen_ref"] == str(citizen)  # intake shows the first name by it
    assert (entries["restricted"], entries["entries"]) == (True, [])
    assert [(i["reason_code"], i["details"]["restricted"]) for i in listed] == [
        ("team_member_without_consent", True)]
    assert meetings == []
    assert "m-school" in {m["member_id"] for m in team}  # still in the team
    assert exc_type == "NotFoundError" and errors[0]["field"] == "pathway_id"
    # Consent again: he sees the pathway again.
    c.consent(citizen, "school")
    with c.rpc() as n:
        again = n.coordination.get_pathway(actor=LARS, pathway_id=pathway_id)
        assert len(n.coordination.my_meetings(actor=LARS)["items"]) == 1
    assert again["restricted"] is False and len(again["meetings"]) == 1


def test_coordinators_see_a_pathway_while_it_awaits_its_tovholder(coordination):
    c, seen = coordination, coordination.observer
    citizen = uuid.uuid4()
    c.publish("intake.pathway_referral", {
        "inquiry_id": uuid.uuid4(), "citizen_ref": citizen, "topics": ["education"],
        "under_30": True, "referred_at": T0, "referred_by": "staff:fronten-anne"})
    pathway_id = seen.wait("coordination.pathway_opened")[0]["pathway_id"]
    with c.rpc() as n:
        rpc = n.coordination
        assert rpc.get_pathway(actor=COORDINATOR, pathway_id=pathway_id)["my_standing"] == \
            "coordinator"
        listed = rpc.awaiting_tovholder(actor=COORDINATOR)["items"]
        assert [i["subject_id"] for i in listed] == [pathway_id]
        for who in (METTE, FRONTEN):
            assert refusal(lambda w=who: rpc.get_pathway(actor=w, pathway_id=pathway_id))[0] \
                == "NotFoundError"
            exc_type, errors = refusal(lambda w=who: rpc.awaiting_tovholder(actor=w))
            assert (exc_type, errors[0]["field"], errors[0]["rule"]) == (
                "InvalidInput", "actor", "not_allowed")
        # The coordinator gathers the tovholder and appoints her; the plan is hers.
        rpc.add_member(actor=COORDINATOR, pathway_id=pathway_id, **SPEC["m-social"])
        exc_type, errors = refusal(lambda: rpc.draft_plan(actor=COORDINATOR,
                                                          pathway_id=pathway_id, goals=GOALS))
        assert (errors[0]["field"], errors[0]["rule"]) == ("actor", "not_allowed")
        rpc.appoint_tovholder(actor=COORDINATOR, pathway_id=pathway_id, member_id="m-social")
        assert refusal(lambda: rpc.get_pathway(actor=COORDINATOR, pathway_id=pathway_id)) == (
            "NotFoundError", [{"field": "pathway_id", "rule": "not_found",
                               "message": f"no pathway {pathway_id}"}])
        assert rpc.get_pathway(actor=METTE, pathway_id=pathway_id)["my_standing"] == \
            "tovholder"
        assert rpc.awaiting_tovholder(actor=COORDINATOR)["items"] == []


def test_a_member_who_leaves_is_announced_and_sees_nothing_after_the_last_day(coordination):
    c = coordination
    pathway_id, citizen, _, _ = the_pathway(c)
    with c.rpc() as n:
        n.coordination.end_membership(actor=METTE, pathway_id=pathway_id,
                                      member_id="m-school", last_day="2021-03-05")
        assert n.coordination.get_pathway(actor=LARS, pathway_id=pathway_id)
    ended = c.observer.wait("coordination.membership_ended")[0]
    assert ended == {"pathway_id": pathway_id, "citizen_ref": str(citizen),
                     "member_id": "m-school", "last_day": "2021-03-05",
                     "ended_at": utc(T0)}
    c.at(copenhagen(dt.date(2021, 3, 6), 8))
    with c.rpc() as n:
        assert refusal(lambda: n.coordination.get_pathway(
            actor=LARS, pathway_id=pathway_id))[0] == "NotFoundError"
        assert n.coordination.my_pathways(actor=LARS)["items"] == []


def test_the_access_report_lists_every_allowed_read_with_its_purpose(coordination):
    c = coordination
    pathway_id, citizen, _, _ = the_pathway(c)
    with c.rpc() as n:
        rpc = n.coordination
        rpc.get_pathway(actor=METTE, pathway_id=pathway_id)
        rpc.timeline(actor={**LARS, "purpose": "Forberede næste møde"}, pathway_id=pathway_id)
        refusal(lambda: rpc.get_pathway(actor=STRANGER, pathway_id=pathway_id))
        exc_type, errors = refusal(lambda: rpc.access_report(actor=METTE,
                                                             citizen_ref=str(citizen)))
        assert (exc_type, errors[0]["field"], errors[0]["rule"]) == (
            "InvalidInput", "actor", "not_allowed")
        report = rpc.access_report(actor=FRONTEN, citizen_ref=str(citizen))
        again = rpc.access_report(actor=staff("ole", "operator"), citizen_ref=str(citizen))
    read = [(e["actor"], e["what"], e["purpose"], e["roles"], e["action_text"])
            for e in report if e["action"] == "read"]
    assert read == [
        ("staff:m-social", "pathway", "Se forløbet: team, møder og handleplan",
         ["tovholder"], "læst"),
        ("staff:m-school", "timeline", "Forberede næste møde", ["tovholder"], "læst"),
    ]
    assert {e["service"] for e in report} == {"coordination"}
    changes = [e["what"] for e in report if e["action"] == "change"]
    assert changes[:3] == ["pathway", "team", "team"]
    assert "staff:m-stranger" not in {e["actor"] for e in report}
    # The report is itself a read of the access log, in the next report.
    assert [(e["actor"], e["what"]) for e in again if e["what"] == "access_log"] == [
        ("staff:anne", "access_log")]


def test_calendars_are_changed_by_their_owner_or_the_tovholder_of_their_pathway(coordination):
    c = coordination
    _, citizen, _, hanne = the_pathway(c)
    block = {"starts_at": utc(copenhagen(MON, 12)), "ends_at": utc(copenhagen(MON, 13))}
    before = c.counts()
    with c.rpc() as n:
        rpc = n.coordination
        for who, participant in [(STRANGER, str(citizen)), (STRANGER, "m-school"),
                                 (LARS, str(citizen)), (BO, hanne), (FRONTEN, "m-social")]:
            exc_type, errors = refusal(lambda w=who, p=participant: rpc.add_busy_block(
                actor=w, participant_id=p, **block))
            assert (exc_type, errors[0]["field"], errors[0]["rule"]) == (
                "InvalidInput", "actor", "not_allowed"), (who, participant)
        # Refused before anything is fetched (the address would not even answer).
        exc_type, errors = refusal(lambda: rpc.import_calendar(
            actor=STRANGER, participant_id="m-school", feed_url="http://127.0.0.1:9/x.ics",
            window_start=utc(T0), window_end=utc(T0 + dt.timedelta(days=7))))
        assert (errors[0]["field"], errors[0]["rule"]) == ("actor", "not_allowed")
        assert c.counts() == before
        rpc.add_busy_block(actor=LARS, participant_id="m-school", **block)  # his own
        rpc.add_busy_block(actor=METTE, participant_id=hanne, **block)  # her pathway's
        rpc.add_busy_block(actor=METTE, participant_id=str(citizen), **block)
    log = metadata.tables["access_log"]
    changes = rows(c.url, log, log.c.what == "calendar")
    assert [(r.actor, r.action, r.citizen_ref, r.purpose) for r in changes] == [
        ("staff:m-social", "change", citizen, "Registrere hvornår borgeren ikke kan mødes")]


def test_busy_times_show_the_weeks_busy_blocks_to_whoever_plans_meetings(coordination):
    c = coordination
    pathway_id, citizen, meeting, hanne = the_pathway(c)
    window = {"window_start": utc(copenhagen(MON, 0)),
              "window_end": utc(copenhagen(MON + dt.timedelta(days=5), 0))}
    with c.rpc() as n:
        rpc = n.coordination
        rpc.add_busy_block(actor=LARS, participant_id="m-school",
                           starts_at=utc(copenhagen(MON, 12)), ends_at=utc(copenhagen(MON, 13)))
        found = rpc.busy_times(actor=METTE, pathway_id=pathway_id, **window)
        exc_type, errors = refusal(lambda: rpc.busy_times(actor=STRANGER,
                                                          pathway_id=pathway_id, **window))
    busy = {p["participant_id"]: p["busy"] for p in found["participants"]}
    assert set(busy) == {str(citizen), "m-social", "m-school", "m-bo", hanne}
    # Lars's own block and the pathway's meeting; times and the meeting's id, nothing more.
    assert [(b["starts_at"], b["ref"]) for b in busy["m-school"]] == [
        (utc(copenhagen(MON, 10)), meeting), (utc(copenhagen(MON, 12)), None)]
    assert exc_type == "NotFoundError" and errors[0]["field"] == "pathway_id"
    assert ("staff:m-social", "read", "pathway", "Finde mødetider med borgeren og teamet") \
        in reads(c.url)
