"""Issue 10's permission matrix, generated from the gateway's route table: every route
(`services.gateway.api.ROUTES`), for every role (`contracts.actor.StaffRole`), on the
caller's own resource and on someone else's, over HTTP against the whole system.

One system per backend is seeded once, with two "worlds" of data:

- world A, the caller's own: citizen A, whose pathway the tovholder `m-a` leads (with a
  team member, a network person, a meeting, a plan and an offer referral to the partner
  `bf-a`), a course on the review panel's agenda and referred to Social Vejledning
  (§ 85), a consent, an inquiry, and a rent-arrears case reported by association `bf-a`;
- world B, someone else's: the same for citizen B, led by tovholder `m-b`, with partner
  and association `bf-b`, and a course neither on the agenda nor referred;
- for the coordinator, its own pathway is C: one still awaiting a tovholder.

Every (route, role, world) is called and classified:

- `denied`: the route's roles do not include the caller's: a 403, always;
- `hidden`: the route lets the role in, but the resource is not the caller's to see
  (docs/security.md, "Roles and what each sees"): never a 2xx, and a read answers 403 or
  404 ("as if it did not exist");
- `visible`: the caller may see it: a read answers 2xx (404 where the seeded world has
  no such resource); a write is sent with an empty body and may be refused (400/409);
- `public`: sign-in and health: any role, never a 403.

Never a 5xx. Every 2xx body must not contain an id the caller may not see (so a list
cannot leak someone else's pathway, case or hand-off). Reads are made first, then writes
that must be refused, then writes on the caller's own resources (which may change them).

The matrix must stay complete: a route the table below cannot classify (a new endpoint,
or a new kind of path parameter) fails the test.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from services.gateway.api import PUBLIC_ENDPOINTS, ROUTES
from services.gateway.auth import Role
from services.gateway.routing import Route
from tests.e2e.conftest import System, register_directory_partner

pytestmark = pytest.mark.e2e

MONDAY = dt.datetime(2021, 3, 1, 7, 0, tzinfo=dt.UTC)
NAMES = {
    Role.FRONTEN: "anne", Role.TOVHOLDER: "m-a", Role.COORDINATOR: "karin",
    Role.REVIEW_PANEL: "panel", Role.SOCIAL_VEJLEDNING: "sv", Role.HOUSING_OFFICER: "ho",
    Role.OPERATOR: "ops", Role.PARTNER: "bf-a",
}
OWN, OTHER = "own", "other"
# Calls in flight at once while reading (the gateway serves 10 at a time).
PARALLEL = 6

# -- how each path parameter is filled: the kind of resource it names --------------------

# Path parameter -> the kind of resource (per route, where the same name means two things).
PARAM_KINDS = {
    "citizen_ref": "citizen", "inquiry_id": "inquiry", "consent_id": "consent",
    "course_id": "course", "flag_id": "flag", "pathway_id": "pathway",
    "version": "plan", "action_id": "action", "meeting_id": "meeting", "case_id": "case",
    "association_id": "association", "partner_id": "partner", "handoff_id": "handoff",
    "rule_id": "ops", "subscription_id": "ops", "delivery_id": "ops", "token_id": "token",
    "dead_letter_id": "dead_letter",
}
# Where a parameter's name is not enough.
ROUTE_PARAM_KINDS = {
    ("/api/pathways/<pathway_id>/team/<member_id>/end", "member_id"): "member",
    ("/api/pathways/<pathway_id>/network/<participant_id>/contact", "participant_id"):
        "network",
    ("/api/calendars/<member_id>/working-hours", "member_id"): "calendar",
    ("/api/calendars/<participant_id>/busy", "participant_id"): "calendar",
    ("/api/calendars/<participant_id>/import", "participant_id"): "calendar",
}
# The citizen's access report is the auditors' (Fronten, operators): it names the
# citizen but shows none of their data, so the citizen_ref there is an "audit" kind.
AUDIT_ROUTES = frozenset({
    "GET /api/citizens/<citizen_ref>/access-report",
    "GET /api/citizens/<citizen_ref>/access-report/coordination",
    "GET /api/citizens/<citizen_ref>/access-report/notifications",
    "GET /api/housing/citizens/<citizen_ref>/access-report",
})

# What each role sees of each kind, in each world (docs/security.md): the need-to-know
# the services decide. A kind not named for a role is not visible to it.
BOTH, A_ONLY = frozenset({OWN, OTHER}), frozenset({OWN})
PATHWAY_KINDS = ("pathway", "plan", "action", "meeting", "member", "network")
SIGHT: dict[Role, dict[str, frozenset[str]]] = {
    Role.FRONTEN: {**dict.fromkeys(("citizen", "inquiry", "consent", "course", "flag",
                                    "case", "association", "partner", "handoff",
                                    "audit"), BOTH)},
    # The tovholder sees everything of the pathway they lead, its timeline included
    # (which names the citizen's inquiries, courses and consents by id).
    Role.TOVHOLDER: {**dict.fromkeys((*PATHWAY_KINDS, "citizen", "case", "handoff",
                                      "calendar", "course", "inquiry", "consent"), A_ONLY),
                     "partner": BOTH},
    # The coordinator's own pathway (C) awaits a tovholder; A and B have theirs.
    Role.COORDINATOR: {**dict.fromkeys((*PATHWAY_KINDS, "citizen"), A_ONLY),
                       "partner": BOTH},
    # A course names the inquiry it came from (by id; the inquiry is Fronten's).
    Role.REVIEW_PANEL: {"course": A_ONLY, "citizen": A_ONLY, "inquiry": A_ONLY,
                        "partner": BOTH},
    Role.SOCIAL_VEJLEDNING: {"course": A_ONLY, "citizen": A_ONLY, "inquiry": A_ONLY,
                             "partner": BOTH},
    Role.HOUSING_OFFICER: {"case": BOTH, "partner": BOTH},
    Role.OPERATOR: {**dict.fromkeys(("partner", "ops", "token", "dead_letter", "audit",
                                     "association"), BOTH)},
    Role.PARTNER: {"case": A_ONLY, "handoff": A_ONLY, "association": A_ONLY},
}
# Ids whose appearance in a 2xx body to a role that may not see them is a leak (the
# UUIDs of citizen data; words like partner ids are public in the directory).
SECRET_KINDS = ("citizen", "inquiry", "consent", "course", "pathway", "meeting", "case",
                "handoff")

# Reads of something under a resource that the world may not hold (the coordinator's
# pathway C has no plan yet): a 404 there is the right answer.
SUBRESOURCES = {"GET /api/pathways/<pathway_id>/plans": "plan"}
# 2xx bodies not checked for ids the role may not see, and why:
# - the access reports exist to name what was read (Fronten answers the citizen);
# - Fronten follows every hand-off, and a hand-off names its subject (a course, case or
#   pathway) by id; the pathway itself still answers Fronten 404 (checked above).
LEAK_EXEMPT = {*((Role.FRONTEN, endpoint) for endpoint in AUDIT_ROUTES),
               (Role.FRONTEN, "GET /api/handoffs"),
               (Role.FRONTEN, "GET /api/worklists/handoffs/awaiting-answer")}

# Every route, by endpoint: the query string it is called with ({own} ids filled in).
# A route missing here, or here but gone from the table, fails the test.
PERIOD = "period_start=2021-01-01&period_end=2021-12-31"
QUERIES: dict[str, str] = {
    **{endpoint: "" for endpoint in (
        "GET /health", "GET /ready", "GET /auth/login", "GET /auth/callback",
        "POST /auth/logout", "GET /api/me", "GET /api/staff", "POST /api/staff",
        "GET /api/tokens", "POST /api/tokens", "DELETE /api/tokens/<token_id>",
        "GET /api/dead-letters", "GET /api/dead-letters/<dead_letter_id>",
        "POST /api/dead-letters/<dead_letter_id>/replay",
        "GET /api/citizens/<citizen_ref>/access-report",
    )},
    # intake
    **{endpoint: "" for endpoint in (
        "POST /api/inquiries", "POST /api/inquiries/<inquiry_id>/resolution",
        "POST /api/citizens", "POST /api/citizens/search",
        "PATCH /api/citizens/<citizen_ref>", "POST /api/citizens/<citizen_ref>/consents",
        "POST /api/consents/<consent_id>/withdrawal",
        "POST /api/consents/<consent_id>/correction", "GET /api/consent-vocabulary",
        "POST /api/courses", "POST /api/courses/<course_id>/attendance",
        "POST /api/courses/<course_id>/follow-ups", "PUT /api/courses/<course_id>/plan",
        "PUT /api/courses/<course_id>/bridging", "POST /api/courses/<course_id>/review",
        "POST /api/courses/<course_id>/review/decision",
        "POST /api/courses/<course_id>/extension",
        "POST /api/courses/<course_id>/referral-85",
        "POST /api/courses/<course_id>/referral-85/outcome",
        "POST /api/courses/<course_id>/ending/confirmation",
        "POST /api/courses/<course_id>/ending/back-on-track",
        "POST /api/courses/<course_id>/end", "POST /api/courses/<course_id>/handover",
        "POST /api/target-group-flags/<flag_id>/decision",
        "GET /api/worklists/fronten/open-inquiries", "GET /api/worklists/fronten/follow-ups",
        "GET /api/worklists/fronten/bridging", "GET /api/worklists/fronten/end-overdue",
        "GET /api/worklists/fronten/ending-proposed",
        "GET /api/worklists/fronten/outside-target-group",
        "GET /api/worklists/fronten/consents-to-correct",
        "GET /api/worklists/review-panel/agenda",
        "GET /api/worklists/social-vejledning/referrals-85",
    )},
    "GET /api/inquiries/<inquiry_id>": "purpose=adgangstest",
    "GET /api/citizens/<citizen_ref>": "purpose=adgangstest",
    "GET /api/citizens/<citizen_ref>/contact": "purpose=adgangstest",
    "GET /api/citizens/<citizen_ref>/lookups": "purpose=adgangstest",
    "GET /api/citizens/<citizen_ref>/consents": "purpose=adgangstest",
    "GET /api/courses/<course_id>": "purpose=adgangstest",
    "GET /api/statistics": PERIOD,
    # coordination
    **{endpoint: "" for endpoint in (
        "POST /api/pathways", "GET /api/pathways/<pathway_id>",
        "GET /api/pathways/<pathway_id>/timeline", "POST /api/pathways/<pathway_id>/team",
        "POST /api/pathways/<pathway_id>/team/housing-adviser",
        "POST /api/pathways/<pathway_id>/team/<member_id>/end",
        "POST /api/pathways/<pathway_id>/network",
        "PUT /api/pathways/<pathway_id>/tovholder",
        "POST /api/pathways/<pathway_id>/tovholder/handover",
        "POST /api/pathways/<pathway_id>/closure",
        "POST /api/pathways/<pathway_id>/offer-referrals",
        "POST /api/pathways/<pathway_id>/handoffs/<handoff_id>/acknowledgement",
        "PUT /api/pathways/<pathway_id>/preferences",
        "POST /api/pathways/<pathway_id>/slot-proposals",
        "POST /api/pathways/<pathway_id>/meetings",
        "POST /api/meetings/<meeting_id>/reschedule",
        "POST /api/meetings/<meeting_id>/cancellation",
        "POST /api/meetings/<meeting_id>/minutes", "POST /api/pathways/<pathway_id>/plans",
        "GET /api/pathways/<pathway_id>/plans", "PUT /api/pathways/<pathway_id>/plans/current",
        "GET /api/pathways/<pathway_id>/plans/<version>",
        "POST /api/pathways/<pathway_id>/plans/<version>/agreement",
        "PUT /api/pathways/<pathway_id>/plans/current/actions/<action_id>/status",
        "PUT /api/calendars/<member_id>/working-hours",
        "POST /api/calendars/<participant_id>/busy",
        "PUT /api/calendars/<participant_id>/import",
        "GET /api/worklists/coordinators/awaiting-tovholder",
        "GET /api/worklists/me/pathways", "GET /api/worklists/me/meetings",
        "GET /api/worklists/me/actions", "GET /api/worklists/me/housing-alerts",
        "GET /api/worklists/me/handoffs",
        "GET /api/citizens/<citizen_ref>/access-report/coordination",
    )},
    "GET /api/pathways": "citizen_ref={citizen}",
    "GET /api/pathways/<pathway_id>/network/<participant_id>/contact": "purpose=adgangstest",
    "GET /api/pathways/<pathway_id>/busy-times":
        "window_start=2021-03-01T07:00:00%2B00:00&window_end=2021-03-08T07:00:00%2B00:00",
    "GET /api/statistics/pathways": PERIOD,
    # housing
    **{endpoint: "" for endpoint in (
        "GET /api/worklists/housing/cases", "GET /api/worklists/housing/refused-reports",
        "GET /api/partner/cases", "GET /api/partner/cases/<case_id>",
        "GET /api/housing/citizens/<citizen_ref>/access-report",
        "POST /api/housing/associations", "POST /api/housing/cases",
        "GET /api/housing/cases/<case_id>",
        *(f"POST /api/housing/cases/<case_id>/{suffix}" for suffix in (
            "contact", "payment-plan/proposal", "payment-plan/agreement",
            "payment-plan/breach", "help", "help/grant", "help/refusal", "termination",
            "termination/withdrawal", "eviction-date", "eviction/resolution",
            "emergency-housing-plan", "paid-in-full", "closure")),
    )},
    "GET /api/housing/associations/<association_id>/report": "start=2021-01-01&end=2021-12-31",
    # notifications
    **{endpoint: "" for endpoint in (
        "GET /api/routing-rules", "POST /api/routing-rules",
        "DELETE /api/routing-rules/<rule_id>", "GET /api/subscriptions",
        "POST /api/subscriptions", "DELETE /api/subscriptions/<subscription_id>",
        "POST /api/subscriptions/<subscription_id>/secret-rotations",
        "DELETE /api/subscriptions/<subscription_id>/previous-secret",
        "GET /api/legal-bases", "POST /api/legal-bases", "GET /api/deliveries",
        "POST /api/deliveries/<delivery_id>/retry",
        "GET /api/worklists/operators/silent-subscriptions",
        "GET /api/citizens/<citizen_ref>/access-report/notifications",
    )},
    # partners
    **{endpoint: "" for endpoint in (
        "GET /api/partners", "POST /api/partners", "GET /api/partners/<partner_id>",
        "PATCH /api/partners/<partner_id>", "POST /api/partners/<partner_id>/deactivation",
        "POST /api/handoffs/<handoff_id>/answers", "GET /api/partner/handoffs",
        "GET /api/partner/handoffs/<handoff_id>",
        "GET /api/worklists/handoffs/awaiting-answer",
    )},
    "GET /api/handoffs": "subject_type=pathway&subject_id={pathway}",
}

_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def params_of(route: Route) -> list[str]:
    return _PARAM.findall(route.path)


def kind_of(route: Route, param: str) -> str | None:
    if param == "citizen_ref" and route.endpoint in AUDIT_ROUTES:
        return "audit"
    return ROUTE_PARAM_KINDS.get((route.path, param)) or PARAM_KINDS.get(param)


def unclassified() -> list[str]:
    """Routes the matrix cannot classify: not in QUERIES, or with an unknown parameter;
    and QUERIES entries for routes that are gone."""
    endpoints = {r.endpoint for r in ROUTES.routes}
    problems = [f"{r.endpoint}: not in the matrix" for r in ROUTES.routes
                if r.endpoint not in QUERIES]
    problems += [f"{r.endpoint}: parameter <{p}> has no kind" for r in ROUTES.routes
                 for p in params_of(r) if kind_of(r, p) is None]
    problems += [f"{e}: in the matrix but not in the route table" for e in QUERIES
                 if e not in endpoints]
    return problems


def test_the_matrix_classifies_every_route() -> None:
    """Runs without the system: a new route fails here first, naming itself."""
    assert not unclassified(), "\n".join(unclassified())


# -- the two worlds ------------------------------------------------------------------


@dataclass
class World:
    ids: dict[str, str | None]  # kind -> id (None: no such resource in this world)


def citizen(system: System, fronten: str, cpr: str, name: str) -> str:
    body = {"cpr": cpr, "name": name, "email": f"{name.split()[0].lower()}@example.dk",
            "preferred_channel": "email"}
    return str(system.ok("POST", "/api/citizens", fronten, 201, json=body)["citizen_ref"])


def inquiry(system: System, fronten: str, citizen_ref: str, outcome: str) -> str:
    found = system.ok("POST", "/api/inquiries", fronten, 201, json={
        "channel": "walk_in", "inquirer_kind": "citizen", "topics": ["economy"],
        "wish": "Hjælp til at komme videre.", "citizen_ref": citizen_ref})
    system.ok("POST", f"/api/inquiries/{found['inquiry_id']}/resolution", fronten,
              json={"outcome": outcome})
    return str(found["inquiry_id"])


def seed_world(system: System, tokens: dict[Role, str], letter: str, cpr: str,
               name: str, on_agenda: bool) -> World:
    fronten, coordinator = tokens[Role.FRONTEN], tokens[Role.COORDINATOR]
    lead = f"m-{letter}"
    tovholder = tokens[Role.TOVHOLDER] if letter == "a" else system.token(Role.TOVHOLDER, lead)
    partner_id = f"bf-{letter}"
    partner = tokens[Role.PARTNER] if letter == "a" else system.token(
        Role.PARTNER, partner_id, partner=partner_id)
    ref = citizen(system, fronten, cpr, name)
    consent = system.ok("POST", f"/api/citizens/{ref}/consents", fronten, 201, json={
        "recipient": "upoint", "purpose": "pathway_team", "form": "written",
        "information_kinds": ["action_plan", "meeting_schedule"]})["consent_id"]
    first_inquiry = inquiry(system, fronten, ref, "individual_course_82b")
    course = system.ok("POST", "/api/courses", fronten, 201, json={
        "inquiry_id": first_inquiry, "kind": "individual_82b", "start_date": "2021-03-01",
        "planned_end": "2021-08-01",
        "plan": {"goals": ["Jeg vil have styr på min økonomi."],
                 "follow_up_dates": ["2021-04-01"]}})["course_id"]
    if on_agenda:  # on the review panel's agenda, and referred to Social Vejledning
        system.ok("POST", f"/api/courses/{course}/review", fronten, json={})
        system.ok("POST", f"/api/courses/{course}/referral-85", fronten, json={})

    # The pathway: opened by the coordinator, who gathers the team and appoints the lead.
    pathway = system.ok("POST", "/api/pathways", coordinator, 201,
                        json={"citizen_ref": ref})["pathway_id"]
    base = f"/api/pathways/{pathway}"
    system.ok("POST", f"{base}/team", coordinator, 201, json={
        "member_id": lead, "name": f"Tovholder {letter.upper()}", "email": f"{lead}@balk.dk",
        "agency": "social_services", "role": "socialrådgiver"})
    system.ok("PUT", f"{base}/tovholder", coordinator, json={"member_id": lead})
    member = f"{lead}2"
    system.ok("POST", f"{base}/team", tovholder, 201, json={
        "member_id": member, "name": f"Medlem {letter.upper()}", "email": f"{member}@balk.dk",
        "agency": "social_services", "role": "socialrådgiver"})
    person = system.ok("POST", f"{base}/network", tovholder, 201,
                       json={"name": "Hanne", "relation": "mor", "email": "hanne@example.dk",
                             "may_contact": True})["person_id"]
    meeting = system.ok("POST", f"{base}/meetings", tovholder, 201, json={
        "starts_at": "2021-03-03T09:00:00+00:00", "ends_at": "2021-03-03T10:00:00+00:00",
        "place": "fronten", "participants": [{"participant_id": member}]})["meeting_id"]
    system.ok("POST", f"{base}/plans", tovholder, 201, json={"goals": [
        {"goal_id": "g-1", "text": "Jeg vil i skole igen.", "actions": [
            {"action_id": "a-1", "text": "Find en skole.", "owner_id": lead,
             "due_on": "2021-03-20"}]}]})
    once_known = once_partner_known(system, f"{base}/offer-referrals", tovholder, partner_id)
    assert once_known["pathway_id"] == pathway

    def handoff() -> Any:
        found = system.ok("GET", "/api/partner/handoffs", partner)["items"]
        return found[0]["subject_id"] if found else None

    handoff_id = system.wait_until(handoff, what=f"the hand-off to {partner_id}")

    # The association reports arrears for the citizen's tenancy.
    case = system.ok("POST", "/api/housing/cases", partner, 201, json={
        "tenancy_ref": f"T-{letter.upper()}-1", "match": {"cpr": cpr},
        "amount_dkk": "9500.00", "months_behind": 2, "pakrav_sent_on": "2021-02-26",
        "pakrav_deadline": "2021-03-15"})["case_id"]
    # The tovholder sees the case of their citizen once housing has heard who leads.
    system.wait_until(lambda: system.call("GET", f"/api/housing/cases/{case}",
                                          tovholder).status_code == 200,
                      what=f"{lead} to see the case of their citizen")
    return World({
        "citizen": ref, "inquiry": first_inquiry, "consent": consent, "course": course,
        "flag": None, "pathway": pathway, "plan": "1", "action": "a-1", "meeting": meeting,
        "member": member, "network": person, "case": case, "association": partner_id,
        "partner": partner_id, "handoff": handoff_id, "calendar": lead, "audit": ref,
        "ops": None, "token": None, "dead_letter": None,
    })


def once_partner_known(system: System, path: str, token: str, partner_id: str) -> Any:
    """Refer to the partner once coordination has heard of it from partners' event."""
    def attempt() -> Any:
        resp = system.call("POST", path, token, json={"partner_id": partner_id,
                                                       "ask": "Kan han komme med?"})
        if resp.status_code == 400 and any(e.get("rule") == "partner.unknown"
                                           for e in resp.json().get("errors", [])):
            return None
        assert resp.status_code == 201, f"{path}: {resp.status_code} {resp.text}"
        return resp.json()

    return system.wait_until(attempt, what=f"coordination to know {partner_id}")


def seed(system: System, tokens: dict[Role, str]) -> dict[str, World]:
    system.clock.set(MONDAY)
    operator, fronten = tokens[Role.OPERATOR], tokens[Role.FRONTEN]
    for letter in "ab":
        register_directory_partner(
            system, operator, fronten, partner_id=f"bf-{letter}",
            name=f"Boligforening {letter.upper()}", category="volunteer",
            accepts=["offer_referral"], email=f"bf-{letter}@example.dk")
        system.ok("POST", "/api/housing/associations", operator, json={
            "association_id": f"bf-{letter}", "name": f"Boligforening {letter.upper()}",
            "delivery": "partner_queue", "departments": [
                {"number": "1", "name": "Vest", "tenancy_refs": [f"T-{letter.upper()}-1"]}]})
    own = seed_world(system, tokens, "a", "120801-4321", "Anders Andersen", on_agenda=True)
    other = seed_world(system, tokens, "b", "150785-1234", "Birte Berg", on_agenda=False)
    # The coordinator's own: a pathway awaiting its tovholder (nothing under it yet).
    ref_c = citizen(system, fronten, "010203-4321", "Carl Clausen")
    pathway_c = system.ok("POST", "/api/pathways", tokens[Role.COORDINATOR], 201,
                          json={"citizen_ref": ref_c})["pathway_id"]
    waiting = World({**dict.fromkeys(own.ids), "citizen": ref_c, "pathway": pathway_c,
                     "partner": "bf-a"})
    # A token to revoke (the operator's DELETE), never one the matrix calls with.
    system.token(Role.PARTNER, "to-revoke", partner="bf-a")
    tokens_now = system.ok("GET", "/api/tokens", operator)
    rows = tokens_now["items"] if isinstance(tokens_now, dict) else tokens_now
    revoke = next(str(t["token_id"]) for t in rows if t["name"] == "to-revoke")
    for world in (own, other, waiting):
        world.ids["token"] = revoke
    return {OWN: own, OTHER: other, "coordinator_own": waiting}


# -- the matrix ------------------------------------------------------------------------


@dataclass
class Call:
    route: Route
    role: Role
    world: str
    path: str
    expect: str  # denied | hidden | visible | public
    absent: bool  # a visible read of something the world does not hold: 404


DUMMY = {"plan": "99", "action": "a-none", "member": "m-none", "network": "p-none",
         "calendar": "m-none", "ops": "999999", "token": "999999", "association": "bf-none",
         "partner": "p-none"}


def plan_call(route: Route, role: Role, world_name: str, worlds: dict[str, World]) -> Call:
    world = worlds["coordinator_own"] if (role is Role.COORDINATOR and world_name == OWN) \
        else worlds[world_name]
    path, absent, hidden = route.path, False, False
    for index, param in enumerate(params_of(route)):
        kind = kind_of(route, param)
        assert kind is not None
        value = world.ids.get(kind)
        if value is None:
            absent = True
            value = DUMMY.get(kind, str(uuid.uuid4()))
        if index == 0 and world_name not in SIGHT[role].get(kind, frozenset()):
            hidden = True
        path = re.sub(rf"<(?:[a-z]+:)?{param}>", value, path, count=1)
    needed = SUBRESOURCES.get(route.endpoint)
    if needed and world.ids.get(needed) is None:
        absent = True
    query = QUERIES[route.endpoint].format(**{k: v or str(uuid.uuid4())
                                               for k, v in world.ids.items()})
    if route.endpoint in PUBLIC_ENDPOINTS:
        expect = "public"
    elif role not in route.roles:
        expect = "denied"
    elif hidden:
        expect = "hidden"
    else:
        expect = "visible"
    return Call(route, role, world_name, f"{path}?{query}" if query else path, expect,
                absent)


def forbidden_ids(role: Role, worlds: dict[str, World]) -> dict[str, str]:
    """The ids of citizen data the role may not see, in any world, by what they are."""
    found: dict[str, str] = {}
    if role is Role.OPERATOR:  # the access reports show who read what: by design
        return found
    for world_name in (OWN, OTHER):
        world = worlds["coordinator_own"] if (role is Role.COORDINATOR
                                              and world_name == OWN) else worlds[world_name]
        for kind in SECRET_KINDS:
            value = world.ids.get(kind)
            if value and world_name not in SIGHT[role].get(kind, frozenset()):
                found[value] = f"{kind} of world {world_name}"
    if role is Role.COORDINATOR:  # A is neither the coordinator's own nor hidden by SIGHT
        for kind in SECRET_KINDS:
            value = worlds[OWN].ids.get(kind)
            if value:
                found[value] = f"{kind} of world A (led by its tovholder)"
    if role is Role.HOUSING_OFFICER:  # a case names its citizen
        for world_name in (OWN, OTHER):
            found.pop(str(worlds[world_name].ids["citizen"]), None)
    return found


def judge(call: Call, status: int, body: str, leaks: dict[str, str]) -> str | None:
    """What is wrong with the answer to `call`, or None."""
    if status >= 500:
        return "a server error"
    if call.expect == "public":
        return "refused a public route" if status in (401, 403) else None
    if call.expect == "denied":
        return None if status == 403 else "not refused with a 403"
    if 200 <= status < 300 and (call.role, call.route.endpoint) not in LEAK_EXEMPT:
        leaked = [what for value, what in leaks.items() if value in body]
        if leaked:
            return f"the body shows {', '.join(sorted(set(leaked)))}"
    if call.expect == "hidden":
        if 200 <= status < 300:
            return "answered someone else's resource"
        if call.route.method == "GET" and status not in (403, 404):
            return "a hidden read not answered 403/404"
        return None
    if call.route.method == "GET":  # visible reads
        want = (404,) if call.absent else tuple(range(200, 300))
        return None if status in want else f"a visible read not answered {want[0]}"
    return None if status != 401 else "the caller's token was refused"


def test_every_route_for_every_role_on_own_and_others_resources(system: System) -> None:
    assert not unclassified(), "\n".join(unclassified())
    tokens = {role: system.token(role, NAMES[role], partner="bf-a" if role is Role.PARTNER
                                 else None) for role in Role}
    worlds = seed(system, tokens)
    leaks = {role: forbidden_ids(role, worlds) for role in Role}

    calls = [plan_call(route, role, world, worlds) for route in ROUTES.routes
             for role in Role for world in (OWN, OTHER)]
    reads = [c for c in calls if c.route.method == "GET"]
    refused_writes = [c for c in calls if c.route.method != "GET"
                      and c.expect in ("denied", "hidden")]
    other_writes = [c for c in calls if c.route.method != "GET"
                    and c.expect in ("visible", "public")]
    def make(call: Call) -> tuple[Call, int, str]:
        kwargs: dict[str, Any] = {"allow_redirects": False}
        if call.route.method != "GET":
            kwargs["json"] = {}
        resp = system.call(call.route.method, call.path, tokens[call.role], **kwargs)
        return call, resp.status_code, resp.text

    # Reads and refused writes change nothing a later call depends on: a few at a time.
    # The writes on the caller's own resources may change them: one after the other.
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        answers = list(pool.map(make, [*reads, *refused_writes]))
    answers += [make(call) for call in other_writes]
    violations: list[str] = []
    statuses: Counter[str] = Counter()
    for call, status, text in answers:
        statuses[f"{call.expect}:{status}"] += 1
        wrong = judge(call, status, text, leaks[call.role])
        if wrong:
            violations.append(f"{call.role.value} on {call.world}: {call.route.method} "
                              f"{call.path} -> {status}: {wrong}: {text[:200]}")
    kinds = Counter(c.expect for c in calls)
    print(f"\npermission matrix: {len(ROUTES.routes)} routes x {len(Role)} roles x 2 "
          f"(own, other) = {len(calls)} calls; {dict(sorted(kinds.items()))}; "
          f"answers {dict(sorted(statuses.items()))}; violations={len(violations)}")
    assert len(calls) == len(ROUTES.routes) * len(Role) * 2
    assert not violations, f"{len(violations)} violations:\n" + "\n".join(violations)
