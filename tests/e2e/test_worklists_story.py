"""Issue 15's acceptance, end to end over HTTP: every clock and every event reaches a
person, on a worklist and, where it is urgent, in a mailbox.

The whole system runs (intake, coordination, housing, notifications and the gateway,
on SQLite and on PostgreSQL), with a FileClock the test moves and aiosmtpd catching
the mail. The tests drive it over HTTP only and wait on effects (a list item, a mail,
a row in the delivery ledger, a message on the partner's queue), never on time. The
jobcenter reads its own partner queue, as a partner does.

- The pathway: a Fronten referral lands on the coordinators' "awaiting tovholder"
  list and in their mailbox; a tovholder is appointed and has the pathway on "my
  pathways"; a meeting is held; an action falls due, then is overdue; each step is on
  the list and in the mail. Plan version 1 is readable after version 2. The parents
  are invited, told of the move and of the cancellation, under one UID. A housing
  warning reaches the tovholder's list, and a mail names the påkrav deadline.
- Fronten's courses: a § 85 referral reaches Social Vejledning's list and mailbox and
  its decision shows on the course; the panel's agenda lists the courses due for
  review and its decisions take them off; the 4-week rule proposes, a person confirms,
  the course ends dated today and the jobcenter receives the cancellation of the
  bridging it was told about.
- The check that `samspil.unrouted` stays empty (tests/e2e/conftest.py) can fail.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from email.message import Message
from typing import Any

import pytest
from icalendar import Calendar
from kombu import Connection
from sqlalchemy import text

from services.common.amqp import Publisher
from services.common.db import make_engine
from services.common.outbox import UNROUTED_QUEUE, unrouted_queue
from services.gateway.auth import Role
from tests.e2e.conftest import (
    System,
    assert_nothing_unrouted,
    once_consent_known,
    parked_unrouted,
    register_directory_partner,
    unrouted_events,
)
from tests.integration.notifications.support import calendar_part, subject, text_part

pytestmark = pytest.mark.e2e

# The team mailboxes (notifications' MAILBOXES defaults; the system sets none).
COORDINATORS_MAILBOX = "koordinering@balk.dk"
FRONTEN_MAILBOX = "ss-front@balk.dk"
SOCIAL_VEJLEDNING_MAILBOX = "socialvejledning@balk.dk"
REVIEW_PANEL_MAILBOX = "tvaergaaende-udvalg@balk.dk"
HOUSING_MAILBOX = "boligsocial@balk.dk"


# --------------------------------------------------------------------------- helpers


def at(year: int, month: int, day: int, hour: int = 8) -> dt.datetime:
    return dt.datetime(year, month, day, hour, 0, tzinfo=dt.UTC)


def items(system: System, path: str, token: str) -> list[dict[str, Any]]:
    """Every item of a worklist, page by page (a short page size, so paging is used)."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = f"limit=2&cursor={cursor}" if cursor else "limit=2"
        page = system.ok("GET", f"{path}{'&' if '?' in path else '?'}{query}", token)
        found.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return found


def wait_item(system: System, path: str, token: str,
              match: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    """The first item of the list that `match`es, once it is there."""
    def probe() -> dict[str, Any] | None:
        return next((i for i in items(system, path, token) if match(i)), None)

    found: dict[str, Any] = system.wait_until(probe, what=what)
    return found


def subjects_of(system: System, path: str, token: str) -> list[str]:
    return [i["subject_id"] for i in items(system, path, token)]


def subject_of(mail: Message) -> str:
    """The decoded subject, as one line (a long one comes folded)."""
    return " ".join(subject(mail).split())


def wait_mail(system: System, address: str, subject_starts: str, count: int = 1
              ) -> list[Message]:
    """The mails to `address` whose subject starts so, once there are `count` of them."""
    def probe() -> list[Message] | None:
        found = [m for m in system.smtp.to(address)
                 if subject_of(m).startswith(subject_starts)]
        return found if len(found) >= count else None

    mails: list[Message] = system.wait_until(
        probe, what=f"{count} mail(s) '{subject_starts}' to {address}")
    return mails


def register_citizen(system: System, token: str, cpr: str, name: str, email: str,
                     address: str | None = None) -> str:
    body = {"cpr": cpr, "name": name, "email": email, "preferred_channel": "email",
            "address": address}
    return str(system.ok("POST", "/api/citizens", token, 201, json=body)["citizen_ref"])


def register_inquiry(system: System, token: str, citizen: str, wish: str) -> str:
    body = {"channel": "walk_in", "inquirer_kind": "citizen", "topics": ["economy"],
            "wish": wish, "citizen_ref": citizen}
    return str(system.ok("POST", "/api/inquiries", token, 201, json=body)["inquiry_id"])


# --------------------------------------------------------------------------- pathway

MONDAY = at(2021, 3, 1, 7)  # Monday 1 March 2021, 08:00 in Copenhagen
HOME = "Hedelyngen 12, st. tv., 2750 Ballerup"
METTE = {"member_id": "m-social", "name": "Mette Socialrådgiver", "email": "mette@balk.dk",
         "agency": "social_services", "role": "socialrådgiver"}
ULLA = {"member_id": "m-upoint", "name": "Ulla Ungekonsulent", "email": "ulla@balk.dk",
        "agency": "upoint", "role": "ungekonsulent"}
PARENTS = {"hanne@example.dk": ("Hanne Jensen", "mor"), "jens@example.dk": ("Jens Jensen", "far")}


def test_a_referred_pathway_reaches_the_coordinators_the_tovholder_the_team_and_the_parents(
    system: System,
) -> None:
    system.clock.set(MONDAY)
    fronten = system.token(Role.FRONTEN, "anne")
    coordinator = system.token(Role.COORDINATOR, "karin")
    # Staff sit in teams under their member id: a token's name is that id.
    mette = system.token(Role.TOVHOLDER, "m-social")
    ulla = system.token(Role.TOVHOLDER, "m-upoint")

    # -- Fronten refers Vincent (19) to a sammenhængende borgerforløb.
    citizen = register_citizen(system, fronten, "120801-4321", "Vincent Jensen",
                               "vincent@example.dk", HOME)
    # He consents to Upoint joining his team, seeing the plan and the meetings.
    system.ok("POST", f"/api/citizens/{citizen}/consents", fronten, 201, json={
        "recipient": "upoint", "purpose": "pathway_team", "form": "written",
        "information_kinds": ["action_plan", "meeting_schedule"]})
    inquiry = register_inquiry(system, fronten, citizen,
                               "Han vil gerne ud af sit værelse og i skole igen.")
    system.ok("POST", f"/api/inquiries/{inquiry}/resolution", fronten,
              json={"outcome": "referral_pathway"})

    # -- The coordinators' list and mailbox: a pathway awaits a tovholder, under-30 first.
    awaiting = "/api/worklists/coordinators/awaiting-tovholder"
    item = wait_item(system, awaiting, coordinator, lambda i: i["citizen_ref"] == citizen,
                     "the referral on the coordinators' list")
    pathway = item["subject_id"]
    assert item["reason_code"] == "under_30_awaiting_tovholder"
    assert (item["due_on"], item["overdue"]) == ("2021-03-15", False)
    assert item["details"]["under_30"] is True and item["details"]["from_referral"] is True
    assert item["details"]["referral_inquiry_id"] == inquiry
    [opened] = wait_mail(system, COORDINATORS_MAILBOX, "Nyt forløb venter på en tovholder")
    assert pathway in text_part(opened)
    assert "Vincent" not in opened.as_string()  # a shared mailbox never names the citizen

    # -- The coordinator puts Mette on the team and appoints her; she adds Ulla.
    base = f"/api/pathways/{pathway}"
    system.ok("POST", f"{base}/team", coordinator, 201, json=METTE)
    system.ok("PUT", f"{base}/tovholder", coordinator, json={"member_id": "m-social"})
    assert pathway not in subjects_of(system, awaiting, coordinator)
    once_consent_known(system, "POST", f"{base}/team", mette, json=ULLA)
    [mine] = [i for i in items(system, "/api/worklists/me/pathways", mette)
              if i["subject_id"] == pathway]
    assert (mine["reason_code"], mine["details"]["my_role"]) == ("tovholder", "tovholder")
    assert mine["details"]["plan_state"] == "none"
    [ullas] = items(system, "/api/worklists/me/pathways", ulla)
    assert (ullas["subject_id"], ullas["details"]["my_role"]) == (pathway, "member")
    [appointed] = wait_mail(system, "mette@balk.dk", "Du er udpeget som tovholder")
    assert "Du er udpeget som tovholder for Vincent Jensen" in text_part(appointed)
    wait_mail(system, "vincent@example.dk", "Du har fået en tovholder")

    # -- A meeting: on Ulla's list and in her mail; once held, off the list.
    meeting = system.ok("POST", f"{base}/meetings", mette, 201, json={
        "starts_at": "2021-03-02T09:00:00+00:00", "ends_at": "2021-03-02T10:00:00+00:00",
        "place": "fronten", "participants": [{"participant_id": "m-upoint"}]})["meeting_id"]
    planned = wait_item(system, "/api/worklists/me/meetings", ulla,
                        lambda i: i["subject_id"] == meeting, "the meeting on Ulla's list")
    assert planned["reason_code"] == "meeting_planned"
    assert planned["details"]["my_role"] == "participant"
    [invitation] = wait_mail(system, "ulla@balk.dk", "Teammøde")
    assert "Borger: Vincent Jensen" in text_part(invitation)
    system.clock.set(at(2021, 3, 2, 10))
    system.ok("POST", f"/api/meetings/{meeting}/minutes", mette,
              json={"present": ["m-social", citizen, "m-upoint"],
                    "decisions": ["Ulla hjælper Vincent op om morgenen."]})
    assert meeting not in subjects_of(system, "/api/worklists/me/meetings", ulla)
    assert system.ok("GET", base, mette)["continuity"]["held_meetings"] == 1

    # -- The plan: version 1 agreed by phone, then version 2. Version 1 stays readable.
    bed = {"action_id": "a-bed", "text": "Ulla hjælper Vincent ud af sengen.",
           "owner_id": "m-upoint", "due_on": "2021-03-04"}
    school = {"goal_id": "g-school", "text": "Jeg vil gerne komme i skole igen.",
              "actions": [bed]}
    system.ok("POST", f"{base}/plans", mette, 201, json={"goals": [school]})
    system.ok("POST", f"{base}/plans/1/agreement", mette, json={"how": "phone"})
    call = {"action_id": "a-call", "text": "Mette ringer til skolen.", "owner_id": "m-social",
            "due_on": "2021-03-10"}
    revised = system.ok("PUT", f"{base}/plans/current", mette, json={"goals": [
        {**school, "actions": [bed, call]},
        {"goal_id": "g-shy", "text": "Jeg vil gerne være mindre genert.", "actions": []}]})
    assert (revised["version"], revised["agreed_version"]) == (2, 1)
    versions = system.ok("GET", f"{base}/plans", mette)
    assert [(v["version"], v["current"], (v["agreement"] or {}).get("how"))
            for v in versions["versions"]] == [(1, False, "phone"), (2, True, None)]
    first = system.ok("GET", f"{base}/plans/1", mette)
    assert first["current"] is False and first["superseded_at"] is not None
    assert first["agreement"]["how_text"] == "telefonisk"
    assert first["agreement"]["recorded_by"] == "staff:m-social"
    assert [g["text"] for g in first["goals"]] == ["Jeg vil gerne komme i skole igen."]
    assert [(a["text"], a["owner_name"]) for g in first["goals"] for a in g["actions"]] == [
        ("Ulla hjælper Vincent ud af sengen.", "Ulla Ungekonsulent")]
    second = system.ok("GET", f"{base}/plans/2", mette)
    assert second["current"] is True and second["agreement"] is None
    assert len(second["goals"]) == 2
    assert system.call("GET", f"{base}/plans/3", mette).status_code == 404
    assert items(system, "/api/worklists/me/actions", ulla) == []  # nothing due yet

    # -- The action falls due (Thursday), then is overdue (Friday): list and mail each time.
    system.clock.set(at(2021, 3, 4))
    due = wait_item(system, "/api/worklists/me/actions", ulla,
                    lambda i: i["subject_id"] == "a-bed", "the action due on Ulla's list")
    assert (due["reason_code"], due["due_on"], due["details"]["my_role"]) == (
        "action_due", "2021-03-04", "owner")
    [on_mettes] = [i for i in items(system, "/api/worklists/me/actions", mette)
                   if i["subject_id"] == "a-bed"]
    assert on_mettes["details"]["my_role"] == "tovholder"  # it sits on her pathway
    [due_mail] = wait_mail(system, "ulla@balk.dk", "Handling forfalder 4. marts 2021")
    assert "Vincent Jensen" in text_part(due_mail)

    system.clock.set(at(2021, 3, 5))
    overdue = wait_item(system, "/api/worklists/me/actions", ulla,
                        lambda i: i["subject_id"] == "a-bed"
                        and i["reason_code"] == "action_overdue",
                        "the overdue action on Ulla's list")
    assert (overdue["overdue"], overdue["days_left"]) == (True, -1)
    wait_mail(system, "ulla@balk.dk", "Handling ikke udført: fristen var 4. marts 2021")
    assert [i["subject_id"] for i in items(
        system, "/api/worklists/me/actions?overdue_only=true", ulla)] == ["a-bed"]

    # -- The parents: invited, told of the move and of the cancellation, under one UID.
    parents = []
    for email, (name, relation) in PARENTS.items():
        parents.append(system.ok("POST", f"{base}/network", mette, 201, json={
            "name": name, "relation": relation, "email": email,
            "may_contact": True})["person_id"])
    family = system.ok("POST", f"{base}/meetings", mette, 201, json={
        "starts_at": "2021-03-08T09:00:00+00:00", "ends_at": "2021-03-08T10:00:00+00:00",
        "place": "home",
        "participants": [{"participant_id": "m-upoint"},
                         *({"participant_id": p, "required": False} for p in parents)],
    })["meeting_id"]
    for email in PARENTS:
        wait_mail(system, email, "Du er inviteret til et møde")
    system.ok("POST", f"/api/meetings/{family}/reschedule", mette, json={
        "starts_at": "2021-03-09T09:00:00+00:00", "ends_at": "2021-03-09T10:00:00+00:00",
        "reason": "Ulla er på kursus mandag."})
    for email in PARENTS:
        wait_mail(system, email, "Mødet er flyttet")
    system.ok("POST", f"/api/meetings/{family}/cancellation", mette,
              json={"reason": "Vincent er syg."})
    for email, (name, _) in PARENTS.items():
        wait_mail(system, email, "Mødet er aflyst")
        mails = system.smtp.to(email)
        assert len(mails) == 3, [subject_of(m) for m in mails]
        calendars = sorted((Calendar.from_ical(calendar_part(m) or b"") for m in mails),
                           key=lambda c: str(next(iter(c.walk("VEVENT")))["SEQUENCE"]))
        events = [next(iter(c.walk("VEVENT"))) for c in calendars]
        assert {str(e["UID"]) for e in events} == {f"{family}@samspil"}
        assert [(str(c["METHOD"]), str(e["SEQUENCE"])) for c, e in zip(
            calendars, events, strict=True)] == [("REQUEST", "0"), ("REQUEST", "1"),
                                                 ("CANCEL", "2")]
        assert events[1].decoded("DTSTART") == at(2021, 3, 9, 9)
        invitation_text = text_part(next(m for m in mails if subject_of(m).startswith(
            "Du er inviteret")))
        assert invitation_text.startswith(f"Hej {name}\n")
        assert f"Sted: Hjemme hos Vincent Jensen, {HOME}" in invitation_text
        assert "Mette Socialrådgiver" in invitation_text  # who is coming

    # -- Housing: Vincent shows Fronten a påkrav whose deadline is too close for § 81 a
    # help; the warning reaches Mette's list and her mail, naming the deadline.
    case = report_arrears(system, fronten, citizen, pakrav_sent_on="2021-02-26",
                          pakrav_deadline="2021-03-15")
    # (The case's events travel on separate queues: wait for the warning, not the case.)
    alert = wait_item(system, "/api/worklists/me/housing-alerts", mette,
                      lambda i: i["subject_id"] == case
                      and i["reason_code"] == "processing_exceeds_pakrav_deadline",
                      "the housing warning on Mette's list")
    assert alert["details"]["priority"] == 0  # first on her list
    assert (alert["due_on"], alert["details"]["pathway_id"]) == ("2021-03-15", pathway)
    assert "15. marts 2021" in alert["reason"]
    [warned] = wait_mail(system, "mette@balk.dk",
                         "Advarsel i huslejesag: påkravsfristen er 15. marts 2021")
    warning_text = text_part(warned)
    assert "Påkravsfrist: 15. marts 2021" in warning_text and "Vincent Jensen" in warning_text
    assert "(aktivloven § 81 a) bliver ikke færdig før påkravsfristen" in warning_text
    wait_mail(system, HOUSING_MAILBOX, f"Advarsel i huslejesag {case}: påkravsfristen er "
                                       "15. marts 2021")
    assert items(system, "/api/worklists/me/housing-alerts", ulla) == []  # not her business


def report_arrears(system: System, fronten: str, citizen: str, *, pakrav_sent_on: str,
                   pakrav_deadline: str) -> str:
    """The association is registered (by an operator); Fronten reports the arrears the
    citizen told about, with the påkrav's dates; the case id."""
    system.ok("POST", "/api/housing/associations", system.token(Role.OPERATOR, "ops"), json={
        "association_id": "bf-ballerup", "name": "Ballerup Boligforening",
        "departments": [{"number": "1", "name": "Søndergården", "tenancy_refs": ["T-1-1"]}]})
    return str(system.ok("POST", "/api/housing/cases", fronten, 201, json={
        "source": "fronten", "association_id": "bf-ballerup", "tenancy_ref": "T-1-1",
        "citizen_ref": citizen, "amount_dkk": "9800.00", "months_behind": 2,
        "pakrav_sent_on": pakrav_sent_on, "pakrav_deadline": pakrav_deadline})["case_id"])


def test_a_case_that_comes_down_is_not_mailed_to_the_tovholder_as_a_step_up(
    system: System,
) -> None:
    """The påkrav deadline passes: the case goes up a rung and the tovholder is told.
    Then a payment plan is agreed and the case comes down: it shows so on the
    tovholder's list, but no mail says that the case "rykket et trin op" and that the
    municipality must act at once."""
    system.clock.set(MONDAY)
    fronten = system.token(Role.FRONTEN, "anne")
    mette = system.token(Role.TOVHOLDER, "m-social")
    operator = system.token(Role.OPERATOR, "ops")
    citizen = register_citizen(system, fronten, "120801-4321", "Vincent Jensen",
                               "vincent@example.dk")
    system.ok("POST", "/api/pathways", fronten, 201,
              json={"citizen_ref": citizen, "tovholder": METTE})
    case = report_arrears(system, fronten, citizen, pakrav_sent_on="2021-03-01",
                          pakrav_deadline="2021-03-15")
    alerts = "/api/worklists/me/housing-alerts"
    wait_item(system, alerts, mette, lambda i: i["subject_id"] == case,
              "the case on Mette's list")

    system.clock.set(at(2021, 3, 16, 9))  # the påkrav deadline has passed, no plan
    up = wait_item(system, alerts, mette, lambda i: i["details"]["level"] ==
                   "escalated_to_association", "the step up on Mette's list")
    assert up["subject_id"] == case
    wait_mail(system, "mette@balk.dk", "Huslejesag rykket et trin op")

    for step in ("payment-plan/proposal", "payment-plan/agreement"):
        system.ok("POST", f"/api/housing/cases/{case}/{step}", fronten)
    wait_item(system, alerts, mette, lambda i: i["details"]["level"] == "reported",
              "the step down on Mette's list")

    def settled() -> bool:  # every mail coordination asked for about the case is sent
        asked = system.rows("coordination", "select count(*) from outbox where type = "
                                            "'coordination.housing_escalation_noted'")[0][0]
        rows = system.ok("GET", "/api/deliveries?event_type="
                                "coordination.housing_escalation_noted", operator)["items"]
        return len({r["message_id"] for r in rows}) == asked and all(
            r["status"] in ("sent", "failed") for r in rows)

    system.wait_until(settled, what="the mails about the case sent")
    told = [text_part(m) for m in system.smtp.to("mette@balk.dk")
            if subject_of(m).startswith("Huslejesag rykket et trin op")]
    assert [t for t in told if "Trin: Sagen er meldt og følges" in t] == [], told


# --------------------------------------------------------------------------- Fronten

T0 = at(2018, 4, 3)  # Tuesday 3 April 2018, 10:00 in Copenhagen: Fronten's first day
JOBCENTER = "jobcenter-ballerup"


def start_course(system: System, fronten: str, cpr: str, name: str, planned_end: str,
                 follow_up: str, bridging_to: tuple[str, ...] = ()) -> str:
    citizen = register_citizen(system, fronten, cpr, name,
                               f"{name.split()[0].lower()}@example.dk")
    inquiry = register_inquiry(system, fronten, citizen, "Jeg vil have styr på min hverdag.")
    course = system.ok("POST", "/api/courses", fronten, 201, json={
        "inquiry_id": inquiry, "kind": "individual_82b", "start_date": "2018-04-03",
        "planned_end": planned_end, "bridging_to": list(bridging_to),
        "plan": {"goals": ["Jeg vil have styr på min hverdag."],
                 "follow_up_dates": [follow_up]}})
    return str(course["course_id"])


def partner_messages(amqp_uri: str, partner_id: str) -> list[dict[str, Any]]:
    """What is waiting on the partner's own queue, read as the partner reads it."""
    found = []
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        while (message := channel.basic_get(queue=f"partner.{partner_id}", no_ack=True)):
            found.append(json.loads(message.body))
    return found


def test_fronten_s_clocks_and_decisions_reach_social_vejledning_the_panel_and_the_jobcenter(
    system: System, amqp_uri: str,
) -> None:
    system.clock.set(T0)
    fronten = system.token(Role.FRONTEN, "anne")
    panel = system.token(Role.REVIEW_PANEL, "bo")
    vejledning = system.token(Role.SOCIAL_VEJLEDNING, "lise")
    operator = system.token(Role.OPERATOR, "ops")

    # The jobcenter (a partner in the directory) reads its own partner queue; the citizen
    # on course A consents.
    register_directory_partner(system, operator, fronten, partner_id=JOBCENTER,
                               name="Jobcenter Ballerup", category="employment",
                               accepts=["bridging_employment"], email="jobcenter@balk.dk")
    system.ok("POST", "/api/subscriptions", operator, 201, json={
        "partner_id": JOBCENTER, "partner_kind": "employment", "channel": "partner_queue",
        "event_types": ["intake.bridging_due"]})
    course_a = start_course(system, fronten, "150395-1234", "Amalie Andersen", "2018-07-03",
                            "2018-06-20", bridging_to=("employment",))
    citizen_a = system.ok("GET", f"/api/courses/{course_a}?purpose=opf%C3%B8lgning",
                          fronten)["citizen_ref"]
    system.ok("POST", f"/api/citizens/{citizen_a}/consents", fronten, 201, json={
        "recipient": JOBCENTER, "information_kinds": ["bridging_status"],
        "purpose": "bridging_employment", "form": "written"})
    course_b = start_course(system, fronten, "020290-2345", "Bent Berg", "2018-08-03",
                            "2018-06-20")
    course_c1 = start_course(system, fronten, "030385-3456", "Carla Cold", "2018-06-01",
                             "2018-05-15")
    course_c2 = start_course(system, fronten, "040480-4567", "Conrad Cort", "2018-06-05",
                             "2018-05-15")
    # The consent gate in notifications must know the consent before bridging is due.
    system.wait_until(lambda: system.rows("notifications", "select count(*) from consents")
                      [0][0] == 1, what="the consent in notifications' gate")

    # -- § 85: Fronten refers B; Social Vejledning's list and mailbox; its decision.
    system.clock.set(at(2018, 4, 10))
    system.ok("POST", f"/api/courses/{course_b}/referral-85", fronten, json={})
    referrals = "/api/worklists/social-vejledning/referrals-85"
    referral = wait_item(system, referrals, vejledning, lambda i: i["subject_id"] == course_b,
                         "the referral on Social Vejledning's list")
    assert referral["reason_code"] == "referral_85_awaiting"
    assert referral["details"]["referred_on"] == "2018-04-10"
    assert referral["due_on"] == "2018-04-24"  # 10 working days
    # (Social Vejledning gets it as a hand-off to answer, issue 16.)
    [referred] = wait_mail(system, SOCIAL_VEJLEDNING_MAILBOX,
                           "Henvisning til vurdering efter servicelovens § 85")
    assert "Fronten har henvist en borger til Social Vejledning" in text_part(referred)
    assert "Bent" not in referred.as_string()
    system.clock.set(at(2018, 4, 12))
    system.ok("POST", f"/api/courses/{course_b}/referral-85/outcome", vejledning,
              json={"outcome": "granted"})
    assert course_b not in subjects_of(system, referrals, vejledning)
    shown = system.ok("GET", f"/api/courses/{course_b}?purpose=%C2%A7+85-afg%C3%B8relse",
                      vejledning)
    assert shown["referrals_85"] == [{"referred_on": "2018-04-10", "outcome": "granted",
                                      "outcome_on": "2018-04-12"}]

    # -- The 4-week rule: kept on the first day, broken three days later. 28 days after
    # the last kept agreement the rule is met; the sweep proposes, nothing ends by itself.
    system.ok("POST", f"/api/courses/{course_a}/attendance", fronten,
              json={"on": "2018-04-03", "kept": True})
    system.ok("POST", f"/api/courses/{course_a}/attendance", fronten,
              json={"on": "2018-04-06", "kept": False})
    system.clock.set(at(2018, 5, 2))
    ending = "/api/worklists/fronten/ending-proposed"
    proposal = wait_item(system, ending, fronten, lambda i: i["subject_id"] == course_a,
                         "the 4-week rule's proposal on Fronten's list")
    assert (proposal["reason_code"], proposal["due_on"]) == ("ending_proposed", "2018-05-02")
    assert proposal["details"]["last_kept_on"] == "2018-04-03"
    [proposed] = wait_mail(system, FRONTEN_MAILBOX,
                           "Afgør, om et forløb skal slutte (4-ugers-reglen)")
    assert course_a in text_part(proposed)
    running = system.ok("GET", f"/api/courses/{course_a}?purpose=opf%C3%B8lgning", fronten)
    assert (running["status"], running["ending_proposed"]) == ("active", True)

    # The next day bridging is due (two months before the planned end): the jobcenter
    # is told. Then Fronten confirms the ending: the course ends today, and the
    # jobcenter receives the cancellation of the bridging it was told about.
    system.clock.set(at(2018, 5, 3))

    def sent(event_type: str) -> list[dict[str, Any]] | None:
        found = system.ok("GET", f"/api/deliveries?event_type={event_type}", operator)
        rows = [d for d in found["items"] if d["status"] == "sent"]
        return rows or None

    [announced] = system.wait_until(lambda: sent("intake.bridging_due"),
                                    what="bridging_due sent to the jobcenter")
    assert announced["recipient"] == f"partner:{JOBCENTER}"
    confirmed = system.ok("POST", f"/api/courses/{course_a}/ending/confirmation", fronten)
    assert (confirmed["status"], confirmed["end_reason"], confirmed["ended_on"]) == (
        "ended", "broken_agreements", "2018-05-03")
    assert course_a not in subjects_of(system, ending, fronten)
    [cancellation] = system.wait_until(lambda: sent("intake.bridging_cancelled"),
                                       what="bridging_cancelled sent to the jobcenter")
    assert (cancellation["recipient"], cancellation["channel"]) == (
        f"partner:{JOBCENTER}", "partner_queue")
    # On its queue: the bridging statement and its cancellation, and (issue 16) the
    # bridging hand-off, requested and then cancelled. They may arrive in any order.
    received: dict[str, dict[str, Any]] = {}

    def all_received() -> bool:
        for message in partner_messages(amqp_uri, JOBCENTER):
            received[message["type"]] = message
        return {"intake.bridging_due", "intake.bridging_cancelled"} <= set(received)

    system.wait_until(all_received, what="the bridging and its cancellation on the queue")
    bridging, cancelled = received["intake.bridging_due"], received["intake.bridging_cancelled"]
    assert (bridging["course_ref"], bridging["due_on"], bridging["planned_end"]) == (
        course_a, "2018-05-03", "2018-07-03")
    assert (cancelled["course_ref"], cancelled["partner_kind"], cancelled["due_on"],
            cancelled["cancelled_on"], cancelled["reason"], cancelled["title"]) == (
        course_a, "employment", "2018-05-03", "2018-05-03", "course_ended_early",
        "Brobygning aflyst")
    assert "citizen_ref" not in cancelled and citizen_a not in json.dumps(cancelled)

    # -- The panel's agenda: C1 and C2 are due for review (28 days before their planned
    # ends); Fronten puts them on the agenda; the panel's decisions take them off.
    system.clock.set(at(2018, 5, 9))
    agenda = "/api/worklists/review-panel/agenda"
    due = system.wait_until(
        lambda: (found := [i for i in items(system, f"{agenda}?include_not_requested=true",
                                            panel) if i["subject_id"] in (course_c1, course_c2)])
        and len(found) == 2 and found, what="C1 and C2 due for review")
    assert [(i["subject_id"], i["reason_code"]) for i in due] == [
        (course_c1, "review_not_requested"), (course_c2, "review_not_requested")]
    assert subjects_of(system, agenda, panel) == []  # not requested yet
    for course in (course_c1, course_c2):
        system.ok("POST", f"/api/courses/{course}/review", fronten, json={})
    requested = items(system, agenda, panel)
    assert [(i["subject_id"], i["reason_code"], i["due_on"]) for i in requested] == [
        (course_c1, "review_requested", "2018-06-01"),
        (course_c2, "review_requested", "2018-06-05")]
    mails = wait_mail(system, REVIEW_PANEL_MAILBOX, "Til det tværgående udvalg", count=2)
    assert {subject_of(m) for m in mails} == {
        "Til det tværgående udvalg: et forløb slutter 1. juni 2018",
        "Til det tværgående udvalg: et forløb slutter 5. juni 2018"}
    system.ok("POST", f"/api/courses/{course_c1}/review/decision", panel,
              json={"decision": "continue", "new_planned_end": "2018-07-01"})
    system.ok("POST", f"/api/courses/{course_c2}/review/decision", panel,
              json={"decision": "end"})
    assert subjects_of(system, f"{agenda}?include_not_requested=true", panel) == []
    # Fronten sees the decisions on the courses (the panel sees only its agenda's).
    c1 = system.ok("GET", f"/api/courses/{course_c1}?purpose=opf%C3%B8lgning", fronten)
    assert (c1["status"], c1["planned_end"]) == ("active", "2018-07-01")  # continues
    c2 = system.ok("GET", f"/api/courses/{course_c2}?purpose=opf%C3%B8lgning", fronten)
    assert (c2["review"]["decision"], c2["review"]["decided_on"]) == ("end", "2018-05-09")


# --------------------------------------------------------------------------- the check


def test_events_no_one_consumes_by_design_do_not_wait_to_be_parked_in_unrouted(
    system: System,
) -> None:
    """ADR 0012 says no service consumes `coordination.meeting_held` and
    `coordination.plan_agreed`, on purpose. Then publishing them is not a failure: they
    must not sit in the outbox as unroutable, retried for about 17 minutes and then
    parked in `samspil.unrouted`, where the operator's dead letters would show them and
    the queue would never be empty."""
    system.clock.set(MONDAY)
    fronten = system.token(Role.FRONTEN, "anne")
    mette = system.token(Role.TOVHOLDER, "m-social")
    citizen = register_citizen(system, fronten, "120801-4321", "Vincent Jensen",
                               "vincent@example.dk")
    pathway = system.ok("POST", "/api/pathways", fronten, 201,
                        json={"citizen_ref": citizen, "tovholder": METTE})["pathway_id"]
    base = f"/api/pathways/{pathway}"
    meeting = system.ok("POST", f"{base}/meetings", mette, 201, json={
        "starts_at": "2021-03-02T09:00:00+00:00", "ends_at": "2021-03-02T10:00:00+00:00",
        "place": "fronten"})["meeting_id"]
    system.clock.set(at(2021, 3, 2, 10))
    system.ok("POST", f"/api/meetings/{meeting}/minutes", mette,
              json={"present": ["m-social", citizen]})
    system.ok("POST", f"{base}/plans", mette, 201, json={"goals": [
        {"goal_id": "g-school", "text": "Jeg vil gerne komme i skole igen.", "actions": []}]})
    system.ok("POST", f"{base}/plans/1/agreement", mette, json={"how": "in_meeting"})
    published = {r[0] for r in system.rows("coordination", "select type from outbox")}
    assert {"coordination.meeting_held", "coordination.plan_agreed"} <= published

    lonely = unrouted_events(system.urls, settle=10.0, exempt=frozenset())
    assert lonely == [], (
        "published for no one, retried as unroutable and parked in samspil.unrouted "
        f"after about 17 minutes: {lonely}")


def test_the_unrouted_check_fails_on_an_event_no_queue_takes(
    system: System, amqp_uri: str
) -> None:
    """The end-of-test check (conftest's `nothing_unrouted`) must be able to fail: an
    event of a type no one consumes, and a message parked in samspil.unrouted."""
    assert unrouted_events(system.urls) == []
    assert parked_unrouted(amqp_uri) == 0

    # An event nobody consumes, in intake's outbox as a use case would write it.
    engine = make_engine(system.urls["intake"])
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "insert into outbox (message_id, type, exchange, correlation_id, body, "
                "created_at, attempts) values (:m, 'intake.nobody_listens', 'intake.events', "
                "'e2e', '{}', :now, 0)"), {"m": str(uuid.uuid4()), "now": T0})
        lonely = unrouted_events(system.urls, settle=5.0)
        assert [(service, type_) for service, type_, _ in lonely] == [
            ("intake", "intake.nobody_listens")]
        assert lonely[0][2].startswith("unroutable")
        with pytest.raises(AssertionError, match=r"intake\.nobody_listens"):
            assert_nothing_unrouted(amqp_uri, system.urls)
        with engine.begin() as conn:  # taken away again, so that this test's own check passes
            conn.execute(text("delete from outbox where type = 'intake.nobody_listens'"))
    finally:
        engine.dispose()

    # A message parked in samspil.unrouted (as the relay parks one after ~17 minutes).
    publisher = Publisher(amqp_uri)
    try:
        publisher.publish(b"{}", exchange="", routing_key=UNROUTED_QUEUE,
                          message_id=str(uuid.uuid4()), declare=[unrouted_queue()])
    finally:
        publisher.close()
    assert parked_unrouted(amqp_uri) == 1
    with pytest.raises(AssertionError, match=r"parked in samspil\.unrouted: 1"):
        assert_nothing_unrouted(amqp_uri)
    with Connection(amqp_uri) as conn:
        unrouted_queue()(conn.channel()).purge()
    assert_nothing_unrouted(amqp_uri, system.urls)
