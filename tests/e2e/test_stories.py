"""The three stories of the issue, driven through the HTTP API only, with every
service and the gateway running on loopback (SQLite and PostgreSQL).

Fronten: a citizen, an inquiry resolved with a course, an individual § 82 b course
with the citizen's goals, attendance, consent, the statistics report.
Pathway: a Fronten inquiry resolved as a referral to a sammenhængende borgerforløb;
the pathway appears for the tovholder, who gathers the team, finds a time, holds the
meeting, gets the plan agreed, hands over; the timeline shows it in order.
Housing: an association reports arrears for a tenant; the case escalates when the
påkrav deadline passes; Fronten reaches the tenant and a payment plan is agreed; the
case comes down and closes. The association sees its own case, and nobody else's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from services.gateway.auth import Role
from tests.e2e.conftest import System, once_consent_known, register_directory_partner

pytestmark = pytest.mark.e2e

CPR = "150395-1234"  # born 15 March 1995 (century digit 1: the 1900s)


def problem_fields(resp: Any) -> dict[str, str]:
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert "Traceback" not in resp.text
    return {e["field"]: e["rule"] for e in resp.json().get("errors", [])}


def register_citizen(system: System, token: str, cpr: str = CPR,
                     name: str = "Mikkel Hansen") -> str:
    body = {"cpr": cpr, "name": name, "email": "mikkel@example.dk",
            "phone": "+45 20 30 40 50", "preferred_channel": "email"}
    return str(system.ok("POST", "/api/citizens", token, 201, json=body)["citizen_ref"])


def register_inquiry(system: System, token: str, citizen_ref: str | None,
                     topics: list[str], wish: str) -> str:
    body = {"channel": "walk_in", "inquirer_kind": "citizen", "topics": topics,
            "wish": wish, "citizen_ref": citizen_ref}
    return str(system.ok("POST", "/api/inquiries", token, 201, json=body)["inquiry_id"])


# --------------------------------------------------------------------------- Fronten


def test_fronten_story(system: System) -> None:
    fronten = system.token(Role.FRONTEN, "anne")
    citizen = register_citizen(system, fronten)

    # Bad input first: nothing is written, every problem names its field.
    bad = system.call("POST", "/api/citizens", fronten,
                      json={"cpr": "320195-1234", "name": "X", "preferred_channel": "email"})
    assert "cpr" in problem_fields(bad)
    again = system.call("POST", "/api/citizens", fronten,
                        json={"cpr": CPR, "name": "Mikkel", "preferred_channel": "letter"})
    assert problem_fields(again) == {"cpr": "citizen.already_registered"}
    in_url = system.call("GET", f"/api/citizens/{citizen}?purpose=1503951234", fronten)
    assert problem_fields(in_url) == {"purpose": "cpr_in_url"}
    no_purpose = system.call("GET", f"/api/citizens/{citizen}", fronten)
    assert problem_fields(no_purpose) == {"purpose": "schema"}
    assert system.call("GET", "/api/citizens/not-a-uuid?purpose=x", fronten).status_code == 400

    # The CPR number travels in bodies only: a search is a POST.
    found = system.ok("POST", "/api/citizens/search", fronten,
                      json={"cpr": CPR, "purpose": "henvendelse i Fronten"})
    assert found == {"citizen_ref": citizen}
    shown = system.ok("GET", f"/api/citizens/{citizen}?purpose=forberedelse+af+samtale",
                      fronten)
    assert shown["name"] == "Mikkel Hansen" and shown.get("cpr") is None

    inquiry = register_inquiry(system, fronten, citizen, ["economy", "housing"],
                               "Jeg vil gerne have styr på mine regninger.")
    resolved = system.ok("POST", f"/api/inquiries/{inquiry}/resolution", fronten,
                         json={"outcome": "individual_course_82b"})
    assert resolved["outcome"] == "individual_course_82b"

    goals = ["Jeg vil kunne åbne mine breve selv.", "Jeg vil have et budget."]
    no_plan = system.call("POST", "/api/courses", fronten,
                          json={"inquiry_id": inquiry, "kind": "individual_82b"})
    assert problem_fields(no_plan) == {"plan": "schema"}
    too_long = system.call("POST", "/api/courses", fronten, json={
        "inquiry_id": inquiry, "kind": "individual_82b", "start_date": "2018-04-03",
        "planned_end": "2019-04-03",
        "plan": {"goals": goals, "follow_up_dates": ["2018-05-01"]}})
    assert set(problem_fields(too_long)) == {"planned_end"}
    course = system.ok("POST", "/api/courses", fronten, 201, json={
        "inquiry_id": inquiry, "kind": "individual_82b", "start_date": "2018-04-03",
        "planned_end": "2018-09-28", "bridging_to": ["employment"],
        "plan": {"goals": goals, "follow_up_dates": ["2018-05-01", "2018-07-02"]}})
    course_id = course["course_id"]

    # Two weeks of agreements: one kept, one broken; a future day is refused.
    system.ok("POST", f"/api/courses/{course_id}/attendance", fronten,
              json={"on": "2018-04-03", "kept": True})
    system.clock.set(dt.datetime(2018, 4, 10, 9, 0, tzinfo=dt.UTC))
    system.ok("POST", f"/api/courses/{course_id}/attendance", fronten,
              json={"on": "2018-04-10", "kept": False})
    future = system.call("POST", f"/api/courses/{course_id}/attendance", fronten,
                         json={"on": "2018-04-30", "kept": True})
    assert set(problem_fields(future)) == {"attendance.date"}
    shown_course = system.ok("GET", f"/api/courses/{course_id}?purpose=opf%C3%B8lgning",
                             fronten)
    assert shown_course["plan"]["goals"] == goals
    assert [(a["on"], a["kept"]) for a in shown_course["attendance"]] == [
        ("2018-04-03", True), ("2018-04-10", False)]

    # Consent to tell the jobcenter (a partner in the directory) about the bridging.
    register_directory_partner(
        system, system.token(Role.OPERATOR, "ops"), fronten, partner_id="jobcenter-ballerup",
        name="Jobcenter Ballerup", category="employment", accepts=["bridging_employment"],
        email="jobcenter@balk.dk")
    consent = system.ok("POST", f"/api/citizens/{citizen}/consents", fronten, 201, json={
        "recipient": "jobcenter-ballerup", "information_kinds": ["bridging_status"],
        "purpose": "bridging_employment", "form": "written"})
    consents = system.ok("GET", f"/api/citizens/{citizen}/consents?purpose=gennemgang",
                         fronten)
    assert [c["consent_id"] for c in consents["items"]] == [consent["consent_id"]]

    # The report for Fronten's first four months, by the leader and by an operator.
    report = system.ok("GET", "/api/statistics?period_start=2018-04-01&period_end=2018-07-31",
                       system.token(Role.OPERATOR, "ops"))
    assert (report["total_inquiries"], report["courses_82b_started"],
            report["courses_82b_referred_85"], report["active_courses"]) == (1, 1, 0, 1)
    assert report["by_under_30"] == {"under_30": 1, "30_and_over": 0, "unknown": 0}
    assert "Antal samlede henvendelser = 1" in report["text"]
    reversed_period = system.call(
        "GET", "/api/statistics?period_start=2018-07-31&period_end=2018-04-01", fronten)
    assert problem_fields(reversed_period) == {"period_end": "statistics.period_reversed"}
    assert system.call("GET", "/api/statistics?period_start=2018-04-01&period_end=2018-07-31",
                       system.token(Role.TOVHOLDER, "mette")).status_code == 403

    # The citizen may ask who looked: dates and purposes of every lookup.
    lookups = system.ok("GET", f"/api/citizens/{citizen}/lookups?purpose=indsigt", fronten)
    assert lookups["count"] >= 3
    assert system.rows("intake", "select count(*) from citizens")[0][0] == 1


# --------------------------------------------------------------------------- pathway

# Monday 1 March 2021, 08:00 in Copenhagen (CET, UTC+1).
MONDAY = dt.datetime(2021, 3, 1, 7, 0, tzinfo=dt.UTC)
TEAM = [
    ("m-social", "Mette Socialrådgiver", "mette@balk.dk", "social_services", "socialrådgiver"),
    ("m-school", "Lars Lærer", "lars@skole.dk", "school", "lærer"),
    ("m-upoint", "Ulla Ungekonsulent", "ulla@balk.dk", "upoint", "ungekonsulent"),
]


def test_pathway_story(system: System) -> None:
    system.clock.set(MONDAY)
    fronten = system.token(Role.FRONTEN, "anne")
    coordinator = system.token(Role.COORDINATOR, "karin")
    # Staff sit in teams under their member id: the token's name is that id.
    tovholder = system.token(Role.TOVHOLDER, "m-social")

    # His parents call Fronten; Fronten refers him to a coherent pathway. He consents to
    # his school and Upoint joining the team (the plan and the meetings).
    citizen = register_citizen(system, fronten, "120805-4321", "Vincent Jensen")
    for agency in ("school", "upoint"):
        system.ok("POST", f"/api/citizens/{citizen}/consents", fronten, 201, json={
            "recipient": agency, "purpose": "pathway_team", "form": "written",
            "information_kinds": ["action_plan", "meeting_schedule"]})
    inquiry = register_inquiry(system, fronten, citizen, ["education", "loneliness"],
                               "Han vil gerne ud af sit værelse og i skole igen.")
    system.ok("POST", f"/api/inquiries/{inquiry}/resolution", fronten,
              json={"outcome": "referral_pathway"})

    # The pathway appears on the coordinators' list once coordination has heard about it.
    def pathway() -> Any:
        found = system.ok("GET", "/api/worklists/coordinators/awaiting-tovholder",
                          coordinator)["items"]
        return next((i["subject_id"] for i in found if i["citizen_ref"] == citizen), None)

    pathway_id = system.wait_until(pathway, what="the pathway to open")
    base = f"/api/pathways/{pathway_id}"
    assert system.call("GET", base, system.token(Role.PARTNER, "kab", "kab")).status_code == 403
    assert system.call("GET", base, tovholder).status_code == 404  # not hers yet

    # The coordinator makes Mette tovholder; she gathers the team, with his mother.
    system.clock.set(MONDAY + dt.timedelta(hours=1))
    member_id, name, email, agency, role = TEAM[0]
    system.ok("POST", f"{base}/team", coordinator, 201, json={
        "member_id": member_id, "name": name, "email": email, "agency": agency,
        "role": role})
    system.ok("PUT", f"{base}/tovholder", coordinator, json={"member_id": "m-social"})
    for member_id, name, email, agency, role in TEAM[1:]:
        once_consent_known(system, "POST", f"{base}/team", tovholder, json={
            "member_id": member_id, "name": name, "email": email, "agency": agency,
            "role": role})
    bad_member = system.call("POST", f"{base}/team", tovholder, json={
        "member_id": "m-x", "name": "X", "email": "not-an-address", "agency": "nowhere",
        "role": "x"})
    assert set(problem_fields(bad_member)) == {"email", "agency"}
    mother = system.ok("POST", f"{base}/network", tovholder, 201,
                       json={"name": "Hanne", "relation": "mor"})["person_id"]
    system.ok("PUT", f"{base}/preferences", tovholder,
              json={"not_before": "10:00", "place": "home"})

    # A time that suits everyone, then the meeting.
    invitees = [{"participant_id": "m-school", "required": True},
                {"participant_id": "m-upoint", "required": True},
                {"participant_id": mother, "required": False}]
    proposal = system.ok("POST", f"{base}/slot-proposals", tovholder, json={
        "length_minutes": 60, "horizon_start": "2021-03-01T07:00:00+00:00",
        "horizon_end": "2021-03-15T07:00:00+00:00", "participants": invitees, "limit": 3})
    first = proposal["slots"][0]
    assert first["starts_at"] == "2021-03-01T09:00:00+00:00"  # Monday at ten, at home
    meeting = system.ok("POST", f"{base}/meetings", tovholder, 201, json={
        "starts_at": first["starts_at"], "ends_at": first["ends_at"],
        "participants": invitees})
    system.clock.set(dt.datetime(2021, 3, 1, 10, 0, tzinfo=dt.UTC))
    system.ok("POST", f"/api/meetings/{meeting['meeting_id']}/minutes", tovholder, json={
        "present": ["m-social", citizen, "m-school", "m-upoint", mother],
        "decisions": ["Ulla kommer om morgenen den første uge."]})

    # The plan in his own words; he agrees to it in the meeting.
    plan = system.ok("POST", f"{base}/plans", tovholder, 201, json={"goals": [
        {"goal_id": "g-school", "text": "Jeg vil gerne komme i skole igen.", "actions": [
            {"action_id": "a-bed", "text": "Ulla hjælper Vincent ud af sengen.",
             "owner_id": "m-upoint", "due_on": "2021-03-08"}]},
        {"goal_id": "g-shy", "text": "Jeg vil gerne være mindre genert.", "actions": []},
    ]})
    assert plan["version"] == 1
    wrong_version = system.call("POST", f"{base}/plans/x/agreement", tovholder,
                                json={"how": "in_meeting"})
    assert set(problem_fields(wrong_version)) == {"version"}
    agreed = system.ok("POST", f"{base}/plans/1/agreement", tovholder,
                       json={"how": "in_meeting"})
    assert agreed["agreed_version"] == 1
    system.ok("PUT", f"{base}/plans/current/actions/a-bed/status", tovholder,
              json={"status": "done"})

    # Mette goes on leave: Ulla takes over, and the pathway shows who holds it.
    system.clock.set(dt.datetime(2021, 3, 15, 9, 0, tzinfo=dt.UTC))
    system.ok("POST", f"{base}/tovholder/handover", tovholder,
              json={"new_tovholder_id": "m-upoint", "reason": "Mette går på barsel."})
    shown = system.ok("GET", base, system.token(Role.TOVHOLDER, "m-upoint"))
    assert shown["tovholder_id"] == "m-upoint"
    # Need-to-know: Fronten does not see the pathway; it answers as a missing one.
    assert system.call("GET", base, fronten).status_code == 404

    # The timeline: in time order; the pathway's own story exactly in the order it
    # happened; what intake reported (its events arrive on separate queues, in any order
    # within the same moment) once each, and before the pathway it led to.
    timeline = system.ok("GET", f"{base}/timeline", tovholder)["entries"]
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)
    own = [e["kind"] for e in timeline if e["source"] == "coordination"]
    assert own == [
        "pathway_opened", "member_added", "tovholder_appointed", "member_added",
        "member_added", "network_person_added", "citizen_preferences_set",
        "meeting_scheduled", "meeting_held", "plan_version_created", "plan_agreed",
        "action_status_changed", "tovholder_handed_over",
    ]
    reported = [e for e in timeline if e["source"] != "coordination"]
    assert sorted(e["kind"] for e in reported) == [
        "inquiry_registered", "inquiry_resolved", "pathway_referral"]
    kinds = [e["kind"] for e in timeline]
    assert max(kinds.index(k) for k in ("inquiry_registered", "pathway_referral")) \
        < kinds.index("pathway_opened")
    at = {e["kind"]: e["at"] for e in reported}
    assert at["inquiry_registered"] <= min(at["inquiry_resolved"], at["pathway_referral"])
    assert timeline[-1]["actor"] == "staff:m-social"  # the identity came from the token


# --------------------------------------------------------------------------- housing

WEDNESDAY = dt.datetime(2025, 3, 5, 9, 0, tzinfo=dt.UTC)
ASSOCIATIONS = [
    {"association_id": "bf-ballerup", "name": "Ballerup Boligforening", "cvr": "12345678",
     "delivery": "webhook", "departments": [
         {"number": "1", "name": "Søndergården", "tenancy_refs": ["T-1-1", "T-1-2"]}]},
    {"association_id": "bf-other", "name": "Anden Boligforening", "delivery": "partner_queue",
     "departments": [{"number": "7", "name": "Vest", "tenancy_refs": ["T-7-1"]}]},
]


def test_housing_story(system: System) -> None:
    system.clock.set(WEDNESDAY)
    operator = system.token(Role.OPERATOR, "ops")
    fronten = system.token(Role.FRONTEN, "anne")
    partner = system.token(Role.PARTNER, "bf", partner="bf-ballerup")
    other = system.token(Role.PARTNER, "other", partner="bf-other")
    for association in ASSOCIATIONS:
        system.ok("POST", "/api/housing/associations", operator, json=association)
    assert system.call("POST", "/api/housing/associations", partner,
                       json=ASSOCIATIONS[0]).status_code == 403
    citizen = register_citizen(system, fronten, "010190-1234", "Lise Lejer")

    # The association knows its tenant by CPR number, sent in the body only; intake finds
    # the citizen. The partner cannot report for another association.
    report = {"tenancy_ref": "T-1-1", "match": {"cpr": "010190-1234"},
              "amount_dkk": "12500.00", "months_behind": 2,
              "pakrav_sent_on": "2025-03-03", "pakrav_deadline": "2025-03-20"}
    foreign = system.call("POST", "/api/housing/cases", partner,
                          json={**report, "association_id": "bf-other"})
    assert foreign.status_code == 403
    assert problem_fields(foreign) == {"association_id": "partner_scope"}
    bad = system.call("POST", "/api/housing/cases", partner,
                      json={**report, "amount_dkk": 12.5, "months_behind": "two"})
    assert problem_fields(bad) == {"amount_dkk": "schema", "months_behind": "schema"}
    not_theirs = system.call("POST", "/api/housing/cases", partner,
                             json={**report, "tenancy_ref": "T-7-1"})
    # (Not "another association's": a partner learns nothing of other associations.)
    assert problem_fields(not_theirs) == {
        "tenancy_ref": "housing.tenancy_not_registered_to_association"}
    assert system.rows("housing", "select count(*) from arrears_cases")[0][0] == 0

    reported = system.ok("POST", "/api/housing/cases", partner, 201, json=report)
    case_id = reported["case_id"]
    # The association sees status and dates of its own case: no citizen, no amount.
    assert reported["association_id"] == "bf-ballerup" and reported["tenancy_ref"] == "T-1-1"
    assert "citizen_ref" not in reported and "amount_dkk" not in reported
    case = f"/api/housing/cases/{case_id}"
    staff_view = system.ok("GET", case, fronten)
    assert staff_view["citizen_ref"] == citizen
    assert staff_view["level"] == "outreach_due"

    # Nobody reaches her by the påkrav deadline: the case goes up the ladder by itself.
    system.clock.set(dt.datetime(2025, 3, 19, 10, 0, tzinfo=dt.UTC))
    system.wait_until(lambda: system.ok("GET", case, fronten)["level"]
                      == "escalated_to_association", what="the escalation")

    # Fronten reaches her and a payment plan is agreed: the case comes down and closes.
    system.clock.set(dt.datetime(2025, 3, 20, 9, 0, tzinfo=dt.UTC))
    system.ok("POST", f"{case}/contact", fronten)
    system.ok("POST", f"{case}/payment-plan/proposal", fronten)
    agreed = system.ok("POST", f"{case}/payment-plan/agreement", fronten)
    assert agreed["level"] == "reported"
    skip = system.call("POST", f"{case}/closure", fronten, json={"closure": "vanished"})
    assert problem_fields(skip) == {"closure": "schema"}
    closed = system.ok("POST", f"{case}/paid-in-full", fronten)
    assert (closed["is_open"], closed["closure"]) == (False, "tenancy_kept")

    # The association reads its own case; another association's token gets a 404, as for
    # a case that does not exist, and the denial is logged.
    own = system.ok("GET", case, partner)
    assert own["is_open"] is False and own["closure"] == "tenancy_kept"
    # Status, dates and the hold request with its answer: never the citizen or amounts.
    assert set(own) <= {"case_id", "association_id", "tenancy_ref", "level", "is_open",
                        "closure", "reported_at", "hold_until", "termination_on",
                        "eviction_date", "closed_at", "requested", "hold_answer",
                        "hold_granted_until"}
    hidden = system.call("GET", case, other)
    missing = system.call("GET", f"/api/housing/cases/{uuid.uuid4()}", other)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["title"] == missing.json()["title"]
    assert system.call("POST", f"{case}/contact", partner).status_code == 403
    report_path = "/api/housing/associations/{}/report?start=2025-03-01&end=2025-03-31"
    assert system.call("GET", report_path.format("bf-ballerup"), other).status_code == 404
    mine = system.ok("GET", report_path.format("bf-ballerup"), partner)
    assert (mine["cases"], mine["evictions_avoided"]) == (1, 1)
    denials = system.rows("gateway", "select principal, reason, path from access_denials "
                                     "where reason = 'other_partner' order by id")
    assert [(d[0], d[2]) for d in denials] == [
        ("partner:bf-ballerup", "/api/housing/cases"),
        ("partner:bf-other", "/api/housing/associations/bf-ballerup/report"),
    ]
    # Housing decides who sees a case, and logs the refused read in its access log.
    refused = system.rows("housing", "select actor, action, subject_id from access_log "
                                     "where action = 'refused'")
    assert [(r[0], r[1], str(r[2])) for r in refused] == [
        ("partner:bf-other", "refused", case_id)]

    # The escalation reached Fronten (the citizen has no tovholder) through notifications.
    def escalations() -> Any:
        found = system.ok("GET", "/api/deliveries?event_type=housing.case_escalated",
                          operator)
        return found["items"] if found["count"] else None

    assert system.wait_until(escalations, what="the escalation deliveries")


def test_every_rpc_method_of_every_service_has_a_route() -> None:
    from contracts import registry
    from services.gateway.api import ROUTES
    from services.gateway.service import ACCESS_LOG_SERVICES

    routed = {(r.service, r.rpc) for r in ROUTES.routes if r.service}
    # The citizen's access report (GET /api/citizens/<ref>/access-report) is the gateway's
    # own route: it asks every service's access_report and merges them.
    routed |= {(service, "access_report") for service in ACCESS_LOG_SERVICES}
    assert {(c.service, c.method) for c in registry.rpcs()} == routed
    for route in ROUTES.routes:  # no CPR number can be asked for in a URL
        assert "cpr" not in route.query and "cpr" not in route.path
