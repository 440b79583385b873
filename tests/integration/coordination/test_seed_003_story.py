"""Seed 003 through the real broker, on SQLite and PostgreSQL: Fronten refers a young
citizen; a pathway opens awaiting its tovholder; a coordinator appoints the social
worker as tovholder; she gathers a school teacher and an Upoint youth consultant (the
citizen consented to sharing with the school and Upoint), with the citizen and his
parents; the first meeting is proposed and scheduled; the citizen agrees to a
handleplan with small stepped actions, which fall due as the clock moves; a
housing escalation and a course ending reach the tovholder; the tovholder hands
over; and the timeline shows it all in order."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.integration.coordination.conftest import COORDINATOR, T0, copenhagen, staff, utc
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

MON = dt.date(2021, 3, 1)
ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Skolen//Skema//DA\r
BEGIN:VEVENT\r
UID:skema-onsdag@skole.dk\r
DTSTART;TZID=Europe/Copenhagen:20210303T100000\r
DTEND;TZID=Europe/Copenhagen:20210303T110000\r
SUMMARY:Matematik 8.b\r
END:VEVENT\r
END:VCALENDAR\r
"""

TEAM = [
    ("m-social", "Mette Socialrådgiver", "mette@balk.dk", "social_services", "socialrådgiver"),
    ("m-school", "Lars Lærer", "lars@skole.dk", "school", "lærer"),
    ("m-upoint", "Ulla Ungekonsulent", "ulla@balk.dk", "upoint", "ungekonsulent"),
]


def referral(citizen_ref: uuid.UUID, at: dt.datetime) -> dict:
    return {"inquiry_id": uuid.uuid4(), "citizen_ref": citizen_ref,
            "topics": ["education", "loneliness"], "under_30": True, "referred_at": at,
            "referred_by": "staff:fronten-anne"}


def test_seed_003_from_referral_to_handover(coordination):
    c, seen = coordination, coordination.observer
    citizen = uuid.uuid4()
    actor = staff("m-social", "tovholder")  # Mette, the tovholder to be
    lars, ulla = staff("m-school", "tovholder"), staff("m-upoint", "tovholder")

    # Fronten refers him (his parents called): a pathway opens, awaiting a tovholder.
    c.publish("intake.pathway_referral", referral(citizen, T0))
    opened = seen.wait("coordination.pathway_opened")[0]
    assert opened["citizen_ref"] == str(citizen)
    assert opened["tovholder_id"] is None
    assert opened["under_30"] is True  # from the referral: first on the coordinators' list
    pathway_id = opened["pathway_id"]

    with c.rpc() as n:
        rpc = n.coordination
        # The coordinators see it (it awaits a tovholder); Mette does not, yet.
        found = rpc.find_pathway(actor=COORDINATOR, citizen_ref=str(citizen))
        assert found["pathway_id"] == pathway_id
        assert rpc.find_pathway(actor=actor, citizen_ref=str(citizen)) is None

        # A second referral is recorded on the timeline, not a second pathway.
        c.at(T0 + dt.timedelta(minutes=30))
        c.publish("intake.pathway_referral", referral(citizen, T0 + dt.timedelta(minutes=30)))

        def timeline_of(reader: object = actor) -> list[dict]:
            return rpc.timeline(actor=reader, pathway_id=pathway_id)["entries"]

        wait_for(lambda: [e["kind"] for e in timeline_of(COORDINATOR)].count(
            "pathway_referral") == 2, what="the second referral on the timeline")

        # A coordinator makes Mette tovholder; she gathers the team, the citizen and his
        # parents (he consented to sharing the plan and the meetings with the school and
        # Upoint).
        c.at(T0 + dt.timedelta(hours=1))
        social, *others = TEAM
        member_id, name, email, agency, role = social
        rpc.add_member(actor=COORDINATOR, pathway_id=pathway_id, member_id=member_id,
                       name=name, email=email, agency=agency, role=role)
        rpc.appoint_tovholder(actor=COORDINATOR, pathway_id=pathway_id, member_id="m-social")
        c.consent(citizen, "school", "upoint")
        for member_id, name, email, agency, role in others:
            rpc.add_member(actor=actor, pathway_id=pathway_id, member_id=member_id, name=name,
                           email=email, agency=agency, role=role)
        mother = rpc.add_network_person(actor=actor, pathway_id=pathway_id, name="Hanne",
                                        relation="mor")["person_id"]
        father = rpc.add_network_person(actor=actor, pathway_id=pathway_id, name="Peter",
                                        relation="far")["person_id"]
        appointed = seen.wait("coordination.tovholder_handed_over")[0]
        assert appointed["old_tovholder_id"] is None
        assert appointed["new_tovholder_id"] == "m-social"
        assert appointed["new_tovholder_email"] == "mette@balk.dk"
        assert {m["member_id"] for m in seen.wait("coordination.member_added", 3)} == {
            "m-social", "m-school", "m-upoint"}

        # Calendars: the teacher's school day and timetable, Upoint's busy morning.
        rpc.set_working_hours(actor=lars, member_id="m-school", days=[
            {"weekday": d, "start": "08:00", "end": "14:00"}
            for d in ("mon", "tue", "wed", "thu", "fri")])
        rpc.import_calendar(actor=lars, participant_id="m-school", calendar=ICS,
                            window_start=utc(T0), window_end=utc(T0 + dt.timedelta(weeks=8)))
        rpc.add_busy_block(actor=ulla, participant_id="m-upoint",
                           starts_at=utc(copenhagen(MON + dt.timedelta(days=1), 8)),
                           ends_at=utc(copenhagen(MON + dt.timedelta(days=1), 12)))
        # He sleeps late: not before ten, at home.
        rpc.set_citizen_preferences(actor=actor, pathway_id=pathway_id, not_before="10:00",
                                    place="home")

        # The first meeting: proposed, then scheduled.
        invitees = [{"participant_id": "m-school", "required": True},
                    {"participant_id": "m-upoint", "required": True},
                    {"participant_id": mother, "required": False},
                    {"participant_id": father, "required": False}]
        proposal = rpc.propose_slots(actor=actor, pathway_id=pathway_id, length_minutes=60,
                                     horizon_start=utc(T0),
                                     horizon_end=utc(T0 + dt.timedelta(weeks=2)),
                                     participants=invitees, limit=3)
        starts = [s["starts_at"] for s in proposal["slots"]]
        assert starts == [
            utc(copenhagen(MON, 10)),  # Monday at ten: everyone free
            utc(copenhagen(MON + dt.timedelta(days=1), 12)),  # Tuesday: Upoint busy till 12
            utc(copenhagen(MON + dt.timedelta(days=2), 11)),  # Wednesday: maths 10-11
        ]
        first = proposal["slots"][0]
        assert first["place"] == "home" and first["preference_misses"] == []
        assert sorted(first["optional_attending"]) == sorted([mother, father])

        meeting = rpc.schedule_meeting(actor=actor, pathway_id=pathway_id,
                                       starts_at=first["starts_at"], ends_at=first["ends_at"],
                                       participants=invitees)
        scheduled = seen.wait("coordination.meeting_scheduled")[0]
        assert scheduled["meeting_id"] == meeting["meeting_id"]
        assert scheduled["sequence"] == 0 and scheduled["place"] == "home"
        assert scheduled["starts_at"] == first["starts_at"]
        people = {p["participant_id"]: p for p in scheduled["participants"]}
        assert people["m-social"] == {"participant_id": "m-social", "kind": "tovholder",
                                      "required": True, "name": "Mette Socialrådgiver",
                                      "email": "mette@balk.dk"}
        assert people[str(citizen)] == {"participant_id": str(citizen), "kind": "citizen",
                                        "required": True, "name": "Borgeren", "email": None}
        assert people["m-school"]["kind"] == "member" and people["m-school"]["required"]
        assert people["m-upoint"]["email"] == "ulla@balk.dk"
        assert people[mother] == {"participant_id": mother, "kind": "network",
                                  "required": False, "name": "Hanne", "email": None}
        assert set(people) == {"m-social", str(citizen), "m-school", "m-upoint", mother, father}

        # The meeting is held with him and his family in the room.
        c.at(copenhagen(MON, 11))
        rpc.record_meeting_held(actor=actor, meeting_id=meeting["meeting_id"],
                                present=["m-social", str(citizen), "m-school", "m-upoint",
                                         mother, father],
                                decisions=["Ulla kommer om morgenen den første uge."])
        held = seen.wait("coordination.meeting_held")[0]
        assert held["citizen_present"] and held["tovholder_present"]

        # The handleplan: his own goals, small stepped actions; he agrees to it.
        plan = rpc.draft_plan(actor=actor, pathway_id=pathway_id, goals=[
            {"goal_id": "g-school", "text": "Jeg vil gerne komme i skole igen.", "actions": [
                {"action_id": "a-bed", "text": "Ulla hjælper Vincent ud af sengen.",
                 "owner_id": "m-upoint", "due_on": "2021-03-08"},
                {"action_id": "a-calls", "text": "Ulla ringer to gange hver morgen.",
                 "owner_id": "m-upoint", "due_on": "2021-03-22"},
                {"action_id": "a-call", "text": "Ulla ringer én gang hver morgen.",
                 "owner_id": "m-upoint", "due_on": "2021-04-12"}]},
            {"goal_id": "g-shy", "text": "Jeg vil gerne være mindre genert.", "actions": [
                {"action_id": "a-cafe", "text": "Vincent bestiller selv på caféen.",
                 "owner_id": "m-upoint", "due_on": "2021-03-15"}]},
            {"goal_id": "g-parents", "text": "Han skal passe sin skole.", "voice": "network",
             "actions": [{"action_id": "a-attendance", "text": "Lars følger op på fremmøde.",
                          "owner_id": "m-school", "due_on": "2021-03-10"}]},
        ])
        assert plan["version"] == 1 and plan["agreed_version"] is None
        rpc.record_plan_agreement(actor=actor, pathway_id=pathway_id, version=1,
                                  how="in_meeting")
        agreed = seen.wait("coordination.plan_agreed")[0]
        assert (agreed["version"], agreed["how"], agreed["plan_id"]) == (1, "in_meeting",
                                                                        plan["plan_id"])

        # Actions fall due as the clock moves; the timer sweep announces each once.
        c.at(copenhagen(dt.date(2021, 3, 8), 7))
        due = seen.wait("coordination.action_due")
        assert [(d["action_id"], d["owner_email"], d["due_on"]) for d in due] == [
            ("a-bed", "ulla@balk.dk", "2021-03-08")]
        rpc.set_action_status(actor=ulla, pathway_id=pathway_id, action_id="a-bed",
                              status="done")  # Ulla owns the action
        c.at(copenhagen(dt.date(2021, 3, 10), 7))
        seen.wait("coordination.action_due", where=lambda p: p["action_id"] == "a-attendance")
        c.at(copenhagen(dt.date(2021, 3, 11), 7))
        overdue = seen.wait("coordination.action_overdue")
        assert [(o["action_id"], o["owner_email"], o["tovholder_email"]) for o in overdue] == [
            ("a-attendance", "lars@skole.dk", "mette@balk.dk")]  # a-bed was done: never overdue

        # Other services' news reaches the pathway: a course ended, a housing escalation.
        c.at(copenhagen(dt.date(2021, 3, 11), 7, 30))
        c.publish("intake.course_ended", {
            "course_id": uuid.uuid4(), "citizen_ref": citizen, "kind": "individual_82b",
            "reason": "planned_end", "ended_on": dt.date(2021, 3, 11)})
        case_id = uuid.uuid4()
        c.at(copenhagen(dt.date(2021, 3, 11), 8))
        c.publish("housing.case_escalated", {
            "case_id": case_id, "association_id": "kab-ballerup", "tenancy_ref": "12-0304-2",
            "citizen_ref": citizen, "level": "outreach_due", "previous_level": "reported",
            "next_deadline": T0 + dt.timedelta(days=25),
            "asks": [{"addressee": "tovholder", "request": "contact_citizen"}],
            "occurred_at": c.clock.now()})
        noted = seen.wait("coordination.housing_escalation_noted")[0]
        assert noted == {
            "pathway_id": pathway_id, "citizen_ref": str(citizen), "case_id": str(case_id),
            "level": "outreach_due", "next_deadline": utc(T0 + dt.timedelta(days=25)),
            "requests": ["contact_citizen"], "tovholder_id": "m-social",
            "tovholder_email": "mette@balk.dk", "noted_at": noted["noted_at"]}
        c.at(copenhagen(dt.date(2021, 3, 11), 9))
        c.consent(citizen, "housing", kinds=("housing_case_status",))
        rpc.add_housing_adviser(actor=actor, pathway_id=pathway_id, member_id="m-bolig",
                                name="Bo Boligrådgiver", email="bo@balk.dk",
                                case_id=str(case_id))
        adviser = seen.wait("coordination.member_added",
                            where=lambda p: p["agency"] == "housing")[0]
        assert (adviser["name"], adviser["email"]) == ("Bo Boligrådgiver", "bo@balk.dk")

        # The tovholder hands over; the citizen will be told who his new contact is.
        c.at(copenhagen(dt.date(2021, 3, 12), 9))
        rpc.hand_over_tovholder(actor=actor, pathway_id=pathway_id,
                                new_tovholder_id="m-upoint",
                                reason="Mette skifter afdeling; Ulla kender Vincent bedst.",
                                handover_note="Vincent svarer bedst på sms om formiddagen.")
        handover = seen.wait("coordination.tovholder_handed_over", 2)[1]
        # The new tovholder and the team get the note; the reason stays here.
        assert handover["handover_note"] == "Vincent svarer bedst på sms om formiddagen."
        assert {m["member_id"]: m["email"] for m in handover["team"]} == {
            "m-social": "mette@balk.dk", "m-school": "lars@skole.dk",
            "m-upoint": "ulla@balk.dk", "m-bolig": "bo@balk.dk"}
        assert "reason" not in handover
        assert handover["old_tovholder_id"] == "m-social"
        assert handover["new_tovholder_id"] == "m-upoint"
        assert handover["new_tovholder_name"] == "Ulla Ungekonsulent"
        assert handover["new_tovholder_agency"] == "upoint"
        assert handover["new_tovholder_email"] == "ulla@balk.dk"

        # The timeline shows it all, in order, to the new tovholder.
        wait_for(lambda: "course_ended" in [e["kind"] for e in timeline_of(ulla)],
                 what="the course ending on the timeline")
        entries = timeline_of(ulla)
        kinds = [e["kind"] for e in entries]
        story = ["pathway_referral", "pathway_opened", "pathway_referral", "member_added",
                 "tovholder_appointed", "network_person_added", "meeting_scheduled",
                 "meeting_held", "plan_version_created", "plan_agreed", "action_due",
                 "action_status_changed", "action_due", "action_overdue", "course_ended",
                 "housing_case_escalated", "member_added", "tovholder_handed_over"]
        positions = iter(range(len(kinds)))
        for kind in story:  # `story` is a subsequence of `kinds`
            assert any(kinds[i] == kind for i in positions), (kind, kinds)
        times = [dt.datetime.fromisoformat(e["at"]) for e in entries]
        assert times == sorted(times)
        assert entries[-1]["details"]["reason"].startswith("Mette skifter afdeling")

        # Continuity: one meeting held, with him and his tovholder; one change so far.
        view = rpc.get_pathway(actor=ulla, pathway_id=pathway_id)
        assert view["tovholder_id"] == "m-upoint"
        assert view["continuity"] == {"held_meetings": 1, "with_citizen_and_tovholder": 1,
                                      "share": 1.0, "tovholder_changes": 1}
        assert view["plan"]["agreed_version"] == 1
        statuses = {a["action_id"]: a["status"] for g in view["plan"]["goals"]
                    for a in g["actions"]}
        assert statuses["a-bed"] == "done" and statuses["a-attendance"] == "open"

    # Each reminder went out once, however many sweeps ran.
    due_ids = [m["payload"]["action_id"] for m in seen.of_type("coordination.action_due")]
    assert sorted(due_ids) == ["a-attendance", "a-bed"]
    assert len(seen.of_type("coordination.pathway_opened")) == 1
