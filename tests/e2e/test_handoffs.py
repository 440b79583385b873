"""Issue 16's acceptance, end to end over HTTP: closed-loop hand-offs with partners.

The whole system runs (intake, coordination, housing, notifications, partners and the
gateway, on SQLite and on PostgreSQL), with a FileClock the test moves and aiosmtpd
catching the mail. Each partner has a real webhook receiver on loopback that verifies
every request's signature as docs/webhooks.md tells a partner to (the reference
verifier, at the receiver's own clock; a request that fails is answered 401 and would
count as undelivered). Partners answer over HTTP with their partner tokens, and every
response a partner route gives is validated against its schema in the live OpenAPI
document (GET /api/openapi.json) with jsonschema. The tests wait on effects (a webhook
request, a ledger row, a worklist item, the case's state), never on time.

- The jobcenter accepts a bridging hand-off; education declines one with a reason and
  it lands on the tovholder's worklist; Social Vejledning completes a § 85 hand-off
  with an outcome, and the course shows it.
- A boligforening answers "hold granted until <date>", and the case follows; the gate:
  with the tenant's consent only the update is delivered (on the consent); with no
  basis it is blocked and the operators' silent-subscriptions worklist warns; once a
  basis is added the blocked deliveries are sent, in order (on the basis).
- An unanswered hand-off escalates after N working days (configured), Easter counted.
- Partner isolation: the takeover of a case Fronten opened is refused; another
  partner's case or hand-off answers with the body of a missing one.
- Every route a partner may use has a response schema in the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest
import requests

from services.gateway.auth import Role
from tests.e2e.conftest import System, register_directory_partner
from tests.integration.notifications.support import HttpReceiver, subject, text_part

pytestmark = pytest.mark.e2e

JOBCENTER = "jobcenter-ballerup"
EDUCATION = "uu-ballerup"  # Ungdommens Uddannelsesvejledning
SOCIAL_VEJLEDNING = "social-vejledning"  # seeded in the directory (partners 0002)
KAB = "kab-ballerup"
BO_VEST = "bo-vest"
OFFER = "ungdomsklubben"
METTE = {"member_id": "m-social", "name": "Mette Socialrådgiver", "email": "mette@balk.dk",
         "agency": "social_services", "role": "socialrådgiver"}
REFERENCE = "retssikkerhedsloven § 5 a; almenlejeloven § 90"
WORKING_DAYS = 3  # HANDOFF_ANSWER_WORKING_DAYS for these tests (5 by default)


@pytest.fixture
def system_extra_config() -> dict[str, Any]:
    """Webhooks to the tests' loopback receivers; a short answer deadline."""
    return {"WEBHOOK_ALLOW_LOOPBACK": "true", "HANDOFF_ANSWER_WORKING_DAYS": WORKING_DAYS}


def at(year: int, month: int, day: int, hour: int = 8, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


# --------------------------------------------------------------- partners' receivers


def secret(partner_id: str) -> str:
    return f"whsec_{partner_id}_e2e_only_0123456789"


@dataclass
class Receivers:
    """One loopback webhook receiver per partner, each verifying every signature with
    its partner's secret (docs/webhooks.md's verifier: 401 when it fails)."""

    by_partner: dict[str, HttpReceiver] = field(default_factory=dict)

    def add(self, partner_id: str) -> HttpReceiver:
        self.by_partner[partner_id] = HttpReceiver(secret=secret(partner_id))
        return self.by_partner[partner_id]

    def bodies(self, partner_id: str, event_type: str | None = None) -> list[dict[str, Any]]:
        """What the partner accepted (2xx), in the order it arrived."""
        found = []
        for request in list(self.by_partner[partner_id].requests):
            assert request.verified is True, f"unsigned request to {partner_id}: {request}"
            body = request.json()
            if event_type is None or body["type"] == event_type:
                found.append(body)
        return found

    def counts(self) -> tuple[int, int]:
        every = [r for rec in self.by_partner.values() for r in list(rec.requests)]
        return len(every), sum(1 for r in every if r.verified is True)

    def report(self, what: str) -> None:
        received, verified = self.counts()
        print(f"{what}: webhook deliveries received {received}, signatures verified "
              f"{verified}")
        assert received == verified

    def stop(self) -> None:
        for receiver in self.by_partner.values():
            receiver.stop()


@pytest.fixture
def receivers() -> Any:
    made = Receivers()
    yield made
    made.stop()


def subscribe(system: System, operator: str, receivers: Receivers, partner_id: str,
              partner_kind: str | None, event_types: list[str]) -> int:
    """A webhook subscription to the partner's own loopback receiver."""
    receiver = receivers.add(partner_id)
    made = system.ok("POST", "/api/subscriptions", operator, 201, json={
        "partner_id": partner_id, "partner_kind": partner_kind, "channel": "webhook",
        "event_types": event_types, "url": receiver.url(f"/samspil/{partner_id}"),
        "secret": secret(partner_id)})
    return int(made["subscription_id"])


HANDOFF_EVENTS = ["partners.handoff_requested", "partners.handoff_updated"]


# ---------------------------------------------------- partner routes against OpenAPI


@dataclass
class PartnerApi:
    """A partner's calls, each response validated against the live OpenAPI document:
    a success against its route's response schema, an error against Problem."""

    system: System
    doc: dict[str, Any]
    validated: int = 0

    @classmethod
    def load(cls, system: System) -> PartnerApi:
        response = system.call("GET", "/api/openapi.json")
        assert response.status_code == 200
        return cls(system, response.json())

    def operation(self, method: str, path: str) -> dict[str, Any]:
        concrete = path.split("?")[0]
        for template, operations in self.doc["paths"].items():
            pattern = "^" + re.sub(r"\{[a-z_]+\}", "[^/]+", template) + "$"
            if re.match(pattern, concrete) and method.lower() in operations:
                op: dict[str, Any] = operations[method.lower()]
                return op
        raise AssertionError(f"{method} {concrete} is not in the OpenAPI document")

    def call(self, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
        response = self.system.call(method, path, token, **kwargs)
        op = self.operation(method, path)
        roles = op["description"].split(".")[0].removeprefix("Roles: ").split(", ")
        assert "partner" in roles, f"{method} {path} is not a partner route: {roles}"
        documented = op["responses"].get(str(response.status_code))
        assert documented is not None, (
            f"{method} {path}: {response.status_code} is not documented")
        content_type = response.headers["Content-Type"].split(";")[0]
        schema = documented["content"][content_type]["schema"]
        # Resolve "#/components/..." against the whole document.
        jsonschema.validate(response.json(), {**schema, "components": self.doc["components"]},
                            format_checker=jsonschema.FormatChecker())
        self.validated += 1
        return response

    def ok(self, method: str, path: str, token: str, status: int = 200,
           **kwargs: Any) -> Any:
        response = self.call(method, path, token, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        return response.json()

    def handoffs(self, token: str, **query: str) -> list[dict[str, Any]]:
        """Every item of the partner's own list, page by page (pages of 2)."""
        found: list[dict[str, Any]] = []
        params = {"limit": "2", **query}
        while True:
            page = self.ok("GET", "/api/partner/handoffs", token, params=params)
            found.extend(page["items"])
            if not page["next_cursor"]:
                return found
            params["cursor"] = page["next_cursor"]


@pytest.fixture
def partner_api(system: System) -> Any:
    api = PartnerApi.load(system)
    yield api
    print(f"partner responses validated against the OpenAPI document: {api.validated}")


# --------------------------------------------------------------------------- helpers


def problem_rules(response: requests.Response) -> dict[str, str]:
    assert 400 <= response.status_code < 500, response.text
    return {e["field"]: e["rule"] for e in response.json().get("errors", [])}


def without_request_id(response: requests.Response) -> dict[str, Any]:
    body = dict(response.json())
    body.pop("request_id", None)
    return body


def register_citizen(system: System, fronten: str, cpr: str, name: str) -> str:
    body = {"cpr": cpr, "name": name, "email": f"{name.split()[0].lower()}@example.dk",
            "preferred_channel": "email"}
    return str(system.ok("POST", "/api/citizens", fronten, 201, json=body)["citizen_ref"])


def consent(system: System, fronten: str, citizen: str, recipient: str, purpose: str,
            information_kind: str) -> str:
    given = system.ok("POST", f"/api/citizens/{citizen}/consents", fronten, 201, json={
        "recipient": recipient, "information_kinds": [information_kind],
        "purpose": purpose, "form": "written"})
    return str(given["consent_id"])


def consents_known_to_the_gate(system: System, count: int) -> None:
    system.wait_until(lambda: system.rows("notifications", "select count(*) from consents")
                      [0][0] == count, what=f"{count} consent(s) in notifications' gate")


def open_pathway(system: System, coordinator: str, citizen: str) -> str:
    made = system.ok("POST", "/api/pathways", coordinator, 201,
                     json={"citizen_ref": citizen, "tovholder": METTE})
    return str(made["pathway_id"])


def ledger(system: System, operator: str, event_type: str) -> list[dict[str, Any]]:
    found = system.ok("GET", f"/api/deliveries?event_type={event_type}&limit=1000", operator)
    items: list[dict[str, Any]] = found["items"]
    return items


def wait_for_body(system: System, receivers: Receivers, partner_id: str, event_type: str,
                  match: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        return next((b for b in receivers.bodies(partner_id, event_type) if match(b)), None)

    found: dict[str, Any] = system.wait_until(probe, what=what)
    return found


def items(system: System, path: str, token: str) -> list[dict[str, Any]]:
    """Every item of a staff worklist, page by page."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        sep = "&" if "?" in path else "?"
        page = system.ok("GET", f"{path}{sep}limit=50" + (f"&cursor={cursor}" if cursor
                                                         else ""), token)
        found.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return found


# ------------------------------------------------------------- bridging and § 85


def test_bridging_is_accepted_and_declined_and_a_85_referral_completed(
        receivers: Receivers, system: System, partner_api: PartnerApi) -> None:
    system.clock.set(at(2018, 4, 3))  # Tuesday 3 April 2018
    operator = system.token(Role.OPERATOR, "ops")
    fronten = system.token(Role.FRONTEN, "anne")
    coordinator = system.token(Role.COORDINATOR, "karin")
    tovholder = system.token(Role.TOVHOLDER, METTE["member_id"])
    vejledning = system.token(Role.SOCIAL_VEJLEDNING, "lise")
    jobcenter = system.token(Role.PARTNER, "jobcenter", partner=JOBCENTER)
    education = system.token(Role.PARTNER, "uu", partner=EDUCATION)

    # The jobcenter and education in the directory, each with a webhook.
    register_directory_partner(system, operator, fronten, partner_id=JOBCENTER,
                               name="Jobcenter Ballerup", category="employment",
                               accepts=["bridging_employment"], email="jobcenter@balk.dk")
    register_directory_partner(system, operator, fronten, partner_id=EDUCATION,
                               name="UU Ballerup", category="education",
                               accepts=["bridging_education"], email="uu@balk.dk")
    subscribe(system, operator, receivers, JOBCENTER, "employment", HANDOFF_EVENTS)
    subscribe(system, operator, receivers, EDUCATION, "education", HANDOFF_EVENTS)

    # Amalie: a course at Fronten bridging to a job and to education, a pathway with
    # Mette as tovholder, and her consent to each partner.
    citizen = register_citizen(system, fronten, "150395-1234", "Amalie Andersen")
    inquiry = system.ok("POST", "/api/inquiries", fronten, 201, json={
        "channel": "walk_in", "inquirer_kind": "citizen", "topics": ["employment"],
        "wish": "Jeg vil gerne i job eller uddannelse.", "citizen_ref": citizen})["inquiry_id"]
    course = str(system.ok("POST", "/api/courses", fronten, 201, json={
        "inquiry_id": inquiry, "kind": "individual_82b", "start_date": "2018-04-03",
        "planned_end": "2018-07-03", "bridging_to": ["employment", "education"],
        "plan": {"goals": ["Jeg vil gerne i job."], "follow_up_dates": ["2018-05-01"]}})
        ["course_id"])
    open_pathway(system, coordinator, citizen)
    consent(system, fronten, citizen, JOBCENTER, "bridging_employment", "bridging_status")
    consent(system, fronten, citizen, EDUCATION, "bridging_education", "bridging_status")
    consents_known_to_the_gate(system, 2)

    # Two months before the planned end bridging is due: each partner is asked, on its
    # webhook, with a Danish ask, a contact and an answer-by day; never the citizen.
    system.clock.set(at(2018, 5, 3))
    asked = {partner: wait_for_body(
        system, receivers, partner, "partners.handoff_requested",
        lambda b: b["subject_ref"] == course, what=f"the bridging request to {partner}")
        for partner in (JOBCENTER, EDUCATION)}
    for partner, kind in ((JOBCENTER, "bridging_employment"),
                          (EDUCATION, "bridging_education")):
        body = asked[partner]
        assert (body["kind"], body["state"], body["partner_id"]) == (kind, "requested", partner)
        assert body["ask"] and body["title"] and body["contact"]["email"]
        assert body["answer"]["http_path"] == f"/api/handoffs/{body['handoff_id']}/answers"
        assert citizen not in str(body) and "Amalie" not in str(body)
        assert "150395" not in str(body)

    # The jobcenter finds it on its own list, and accepts.
    [mine] = partner_api.handoffs(jobcenter, state="requested")
    job_handoff = asked[JOBCENTER]["handoff_id"]
    assert mine["subject_id"] == job_handoff and mine["details"]["open"] is True
    accepted = partner_api.ok("POST", f"/api/handoffs/{job_handoff}/answers", jobcenter,
                              json={"state": "accepted",
                                    "note": "Vi ringer til kontaktpersonen i morgen."})
    assert (accepted["state"], accepted["next_states"]) == (
        "accepted", ["in_progress", "completed"])  # a partner never cancels
    again = partner_api.call("POST", f"/api/handoffs/{job_handoff}/answers", jobcenter,
                             json={"state": "accepted"})
    assert problem_rules(again) == {"state": "handoff.transition_not_allowed"}

    # Education declines with a reason; without one it is refused, by field.
    edu_handoff = asked[EDUCATION]["handoff_id"]
    no_reason = partner_api.call("POST", f"/api/handoffs/{edu_handoff}/answers", education,
                                 json={"state": "declined"})
    assert problem_rules(no_reason) == {"reason": "handoff.reason_missing"}
    reason = "Vi har ikke plads før efter sommerferien."
    declined = partner_api.ok("POST", f"/api/handoffs/{edu_handoff}/answers", education,
                              json={"state": "declined", "reason": reason})
    assert (declined["state"], declined["reason"], declined["next_states"]) == (
        "declined", reason, [])

    # Each answer comes back to the partner's webhook as its receipt.
    for partner, handoff, state in ((JOBCENTER, job_handoff, "accepted"),
                                    (EDUCATION, edu_handoff, "declined")):
        receipt = wait_for_body(system, receivers, partner, "partners.handoff_updated",
                                lambda b, h=handoff, s=state: b["handoff_id"] == h
                                and b["state"] == s, what=f"{partner}'s receipt")
        assert receipt["previous_state"] == "requested"

    # The decline lands on Mette's worklist, with the reason.
    def declined_on_list() -> dict[str, Any] | None:
        found = items(system, "/api/worklists/me/handoffs", tovholder)
        return next((i for i in found if i["subject_id"] == edu_handoff), None)

    item = system.wait_until(declined_on_list, what="the decline on the tovholder's list")
    assert item["reason_code"] == "handoff_declined"
    assert reason in str(item)
    # The accepted one needs no attention.
    assert job_handoff not in [i["subject_id"] for i in
                               items(system, "/api/worklists/me/handoffs", tovholder)]

    # § 85: Fronten refers Amalie; Social Vejledning accepts and completes the hand-off
    # with its outcome, and the course shows the decision.
    system.clock.set(at(2018, 5, 7))
    system.ok("POST", f"/api/courses/{course}/referral-85", fronten, json={})

    def referral() -> dict[str, Any] | None:
        found = system.ok("GET", f"/api/handoffs?subject_type=course&subject_id={course}",
                          vejledning)["items"]
        return next((h for h in found if h["kind"] == "referral_85"), None)

    referral_85 = system.wait_until(referral, what="the § 85 hand-off to Social Vejledning")
    assert (referral_85["partner_id"], referral_85["state"]) == (SOCIAL_VEJLEDNING, "requested")
    path = f"/api/handoffs/{referral_85['handoff_id']}/answers"
    system.ok("POST", path, vejledning, json={"state": "accepted"})
    system.clock.set(at(2018, 5, 9))
    unknown = system.call("POST", path, vejledning,
                          json={"state": "completed", "outcome": "started"})
    assert problem_rules(unknown) == {"outcome": "handoff.outcome_unknown"}
    done = system.ok("POST", path, vejledning, json={"state": "completed",
                                                    "outcome": "granted"})
    assert (done["state"], done["outcome"]) == ("completed", "granted")

    def decided() -> dict[str, Any] | None:
        shown = system.ok("GET", f"/api/courses/{course}?purpose=opf%C3%B8lgning", fronten)
        return shown if shown["referrals_85"] and shown["referrals_85"][-1].get(
            "outcome") else None

    shown = system.wait_until(decided, what="the § 85 outcome on the course")
    assert shown["referrals_85"] == [{"referred_on": "2018-05-07", "outcome": "granted",
                                      "outcome_on": "2018-05-09"}]
    receivers.report("bridging and § 85")


# ------------------------------------------------------- housing: the hold, the gate

KAB_TENANCY, BO_TENANCY = "12-0304-2", "7-0101-1"
LISE_CPR, SARA_CPR = "010190-1234", "030595-1236"


def register_associations(system: System, operator: str, fronten: str) -> None:
    """KAB Ballerup and Bo-Vest: in the partner directory and in housing's register of
    tenancies, each with one tenancy."""
    for partner_id, name, number, tenancy in ((KAB, "KAB Ballerup", "12", KAB_TENANCY),
                                              (BO_VEST, "Bo-Vest", "7", BO_TENANCY)):
        register_directory_partner(system, operator, fronten, partner_id=partner_id,
                                   name=name, category="housing",
                                   accepts=["hold_termination"],
                                   email=f"udlejning@{partner_id}.example")
        system.ok("POST", "/api/housing/associations", operator, json={
            "association_id": partner_id, "name": name, "departments": [
                {"number": number, "name": f"Afdeling {number}", "tenancy_refs": [tenancy]}]})


def report_arrears(partner_api: PartnerApi, token: str, tenancy: str, cpr: str) -> str:
    """The association reports arrears on its tenancy, naming the tenant by CPR number
    (in the body only); the påkrav deadline is 20 March 2025."""
    reported = partner_api.ok("POST", "/api/housing/cases", token, 201, json={
        "tenancy_ref": tenancy, "match": {"cpr": cpr}, "amount_dkk": "12500.00",
        "months_behind": 2, "pakrav_sent_on": "2025-03-03",
        "pakrav_deadline": "2025-03-20"})
    return str(reported["case_id"])


def silent_subscriptions(system: System, operator: str) -> list[dict[str, Any]]:
    return items(system, "/api/worklists/operators/silent-subscriptions", operator)


def test_a_hold_is_granted_until_a_date_and_the_gate_passes_blocks_and_releases(
        receivers: Receivers, system: System, partner_api: PartnerApi) -> None:
    system.clock.set(at(2025, 3, 5, 9))  # Wednesday 5 March 2025
    operator = system.token(Role.OPERATOR, "ops")
    fronten = system.token(Role.FRONTEN, "anne")
    officer = system.token(Role.HOUSING_OFFICER, "bo")
    kab = system.token(Role.PARTNER, "kab", partner=KAB)
    bo_vest = system.token(Role.PARTNER, "bo-vest", partner=BO_VEST)
    register_associations(system, operator, fronten)
    subscriptions = {partner: subscribe(system, operator, receivers, partner, "housing",
                                        ["housing.partner_status", *HANDOFF_EVENTS])
                     for partner in (KAB, BO_VEST)}

    # Lise (KAB's tenant) consents to KAB being told; Sara (Bo-Vest's) gives none, and
    # there is no legal basis for Bo-Vest yet.
    lise = register_citizen(system, fronten, LISE_CPR, "Lise Lejer")
    sara = register_citizen(system, fronten, SARA_CPR, "Sara Hansen")
    lise_consent = consent(system, fronten, lise, KAB, "keep_home", "housing_case_status")
    consents_known_to_the_gate(system, 1)
    kab_case = report_arrears(partner_api, kab, KAB_TENANCY, LISE_CPR)
    bo_case = report_arrears(partner_api, bo_vest, BO_TENANCY, SARA_CPR)
    assert system.ok("GET", f"/api/housing/cases/{bo_case}", fronten)["citizen_ref"] == sara

    # 1. The tenant's consent only: KAB's statements are delivered, on that consent.
    first = wait_for_body(system, receivers, KAB, "housing.partner_status",
                          lambda b: b["case_ref"] == kab_case, what="KAB's first statement")
    assert first["tenancy_ref"] == KAB_TENANCY and lise not in str(first)

    def kab_rows() -> list[dict[str, Any]]:
        return [d for d in ledger(system, operator, "housing.partner_status")
                if d["subscription_id"] == subscriptions[KAB]]

    # (A statement that overtook the case's tenant in notifications waits for it, then
    # leaves on the same consent.)
    system.wait_until(lambda: {d["status"] for d in kab_rows()} == {"sent"},
                      what="KAB's statements sent")
    assert {(d["status"], d["basis"]) for d in kab_rows()} == {("sent", lise_consent)}

    # 2. No basis: Bo-Vest's statements are blocked, and the operators are warned.
    def warning() -> dict[str, Any] | None:
        return next((i for i in silent_subscriptions(system, operator)
                     if i["details"]["partner_id"] == BO_VEST), None)

    warned = system.wait_until(warning, what="Bo-Vest on the silent-subscriptions list")
    assert warned["reason_code"] == "only_blocked"
    assert "hverken samtykke eller lovgrundlag" in warned["reason"]
    assert KAB not in [i["details"]["partner_id"]
                       for i in silent_subscriptions(system, operator)]

    # Nobody reaches the tenants by the outreach deadline: both cases escalate, and each
    # association is asked to hold the ophævelse: KAB on Lise's consent, Bo-Vest not.
    system.clock.set(at(2025, 3, 19, 10))
    request = wait_for_body(system, receivers, KAB, "partners.handoff_requested",
                            lambda b: b["kind"] == "hold_termination",
                            what="KAB's hold request")
    details = {d["code"]: d["value"] for d in request["details"]}
    assert (details["case_ref"], details["tenancy_ref"]) == (kab_case, KAB_TENANCY)
    hold_handoff = request["handoff_id"]

    def blocked_for_bo() -> list[dict[str, Any]] | None:
        rows = [d for d in ledger(system, operator, "partners.handoff_requested")
                if d["subscription_id"] == subscriptions[BO_VEST]]
        return rows if rows and all(d["status"] == "blocked" for d in rows) else None

    [bo_request_row] = system.wait_until(blocked_for_bo, what="Bo-Vest's hold request blocked")
    assert bo_request_row["last_error"] == "no_consent"
    assert receivers.bodies(BO_VEST) == []

    # KAB answers: held until 10 April 2025. The case follows, for staff and for KAB.
    view = partner_api.ok("GET", f"/api/partner/handoffs/{hold_handoff}", kab)
    assert (view["kind"], view["state"], view["details"]["case_ref"]) == (
        "hold_termination", "requested", kab_case)
    no_day = partner_api.call("POST", f"/api/handoffs/{hold_handoff}/answers", kab,
                              json={"state": "accepted"})
    assert problem_rules(no_day) == {"hold_until": "handoff.hold_until_missing"}
    held = partner_api.ok("POST", f"/api/handoffs/{hold_handoff}/answers", kab,
                          json={"state": "accepted", "hold_until": "2025-04-10"})
    assert (held["state"], held["hold_until"]) == ("accepted", "2025-04-10")
    def followed() -> dict[str, Any] | None:
        case: dict[str, Any] = system.ok("GET", f"/api/housing/cases/{kab_case}", officer)
        return case if case["hold_answer"] == "granted" else None

    case = system.wait_until(followed, what="the case to follow KAB's answer")
    assert case["hold_granted_until"] == "2025-04-10"
    for path in (f"/api/partner/cases/{kab_case}", f"/api/housing/cases/{kab_case}"):
        own = partner_api.ok("GET", path, kab)
        assert (own["hold_answer"], own["hold_granted_until"]) == ("granted", "2025-04-10")
        assert "citizen_ref" not in own and "amount_dkk" not in own
    listed = partner_api.ok("GET", "/api/partner/cases", kab)["items"]
    assert [i["subject_id"] for i in listed] == [kab_case]
    receipt = wait_for_body(system, receivers, KAB, "partners.handoff_updated",
                            lambda b: b["handoff_id"] == hold_handoff,
                            what="KAB's receipt of its answer")
    assert (receipt["state"], receipt["hold_until"]) == ("accepted", "2025-04-10")

    # Partner isolation: Bo-Vest asking for KAB's case or hand-off gets the body of a
    # missing one, byte for byte apart from the request id.
    for method, path, body in (
            ("GET", "/api/partner/cases/{}", None),
            ("GET", "/api/housing/cases/{}", None),
            ("GET", "/api/partner/handoffs/{}", None),
            ("POST", "/api/handoffs/{}/answers", {"state": "received"})):
        kwargs = {"json": body} if body else {}
        theirs = partner_api.call(method, path.format(
            kab_case if "cases" in path else hold_handoff), bo_vest, **kwargs)
        missing = partner_api.call(method, path.format(uuid.uuid4()), bo_vest, **kwargs)
        assert theirs.status_code == missing.status_code == 404, (method, path)
        assert theirs.headers["Content-Type"] == missing.headers["Content-Type"]
        assert without_request_id(theirs) == without_request_id(missing), (method, path)
        assert theirs.json()["request_id"] != missing.json()["request_id"]

    # 3. The legal basis is added: Bo-Vest's blocked deliveries are sent on that basis,
    # those about one case or hand-off in the order they were planned (different
    # subjects go side by side), and the warning goes.
    planned = sorted((d for e in ("housing.partner_status", "partners.handoff_requested")
                      for d in ledger(system, operator, e)
                      if d["subscription_id"] == subscriptions[BO_VEST]),
                     key=lambda d: d["delivery_id"])
    assert planned and {d["status"] for d in planned} == {"blocked"}
    system.ok("POST", "/api/legal-bases", operator, 201, json={
        "recipient": BO_VEST, "information_kind": "housing_case_status",
        "purpose": "keep_home", "reference": REFERENCE})
    system.wait_until(lambda: len(receivers.bodies(BO_VEST)) >= len(planned),
                      what="Bo-Vest's blocked deliveries sent")
    arrived = [b["message_id"] for b in receivers.bodies(BO_VEST)][:len(planned)]
    assert sorted(arrived) == sorted(d["message_id"] for d in planned)
    for about in {d["subject_ref"] for d in planned}:
        mine = [d["message_id"] for d in planned if d["subject_ref"] == about]
        assert [m for m in arrived if m in mine] == mine, about
    # The ledger row is marked sent after the partner answered: wait on the row.
    ids = {p["delivery_id"] for p in planned}
    released = system.wait_until(lambda: (lambda rows: rows if {d["status"] for d in rows}
                                          == {"sent"} else None)(
        [d for e in ("housing.partner_status", "partners.handoff_requested")
         for d in ledger(system, operator, e) if d["delivery_id"] in ids]),
        what="the released deliveries marked sent in the ledger")
    assert {(d["status"], d["basis"]) for d in released} == {("sent", REFERENCE)}
    system.wait_until(lambda: warning() is None, what="Bo-Vest off the silent list")
    receivers.report("hold and gate")


# ------------------------------------------------------- escalation on working days


def test_an_unanswered_hand_off_escalates_after_n_working_days_across_easter(
        receivers: Receivers, system: System, partner_api: PartnerApi) -> None:
    # Tuesday 15 April 2025, 10:00 in Copenhagen. Skærtorsdag (17), langfredag (18),
    # påskedag (20) and 2. påskedag (21) are ahead.
    system.clock.set(at(2025, 4, 15, 8))
    operator = system.token(Role.OPERATOR, "ops")
    fronten = system.token(Role.FRONTEN, "anne")
    coordinator = system.token(Role.COORDINATOR, "karin")
    tovholder = system.token(Role.TOVHOLDER, METTE["member_id"])
    club = system.token(Role.PARTNER, "klub", partner=OFFER)
    register_directory_partner(system, operator, fronten, partner_id=OFFER,
                               name="Ungdomsklubben", category="volunteer",
                               accepts=["offer_referral"], email="klub@example.dk")
    subscribe(system, operator, receivers, OFFER, None, HANDOFF_EVENTS)
    vincent = register_citizen(system, fronten, "120801-4321", "Vincent Jensen")
    sara = register_citizen(system, fronten, "030595-1236", "Sara Hansen")
    consent(system, fronten, vincent, OFFER, "offer_referral", "contact_status")
    consent(system, fronten, sara, OFFER, "offer_referral", "contact_status")
    consents_known_to_the_gate(system, 2)
    pathways = [open_pathway(system, coordinator, c) for c in (vincent, sara)]

    def refer(pathway: str) -> str:
        """The tovholder refers the citizen to the club (once coordination knows the
        club from partners' event); the hand-off, once the club has it."""
        def made() -> bool:
            response = system.call("POST", f"/api/pathways/{pathway}/offer-referrals",
                                   tovholder, json={"partner_id": OFFER,
                                                    "ask": "Kan han komme med onsdag?"})
            assert response.status_code in (201, 400), response.text
            return response.status_code == 201

        system.wait_until(made, what="the offer referral")
        body = wait_for_body(system, receivers, OFFER, "partners.handoff_requested",
                             lambda b: b["subject_ref"] == pathway,
                             what="the referral to the club")
        return str(body["handoff_id"])

    # Vincent's on Tuesday 15 April, Sara's on Wednesday 16 April.
    first = refer(pathways[0])
    system.clock.set(at(2025, 4, 16, 8))
    second = refer(pathways[1])
    answer_by = {h["subject_id"]: h["due_on"] for h in partner_api.handoffs(club)}
    # Three working days, Easter skipped: Wed 16, Tue 22, Wed 23 / Tue 22, Wed 23, Thu 24.
    assert answer_by == {first: "2025-04-23", second: "2025-04-24"}

    # The club answers neither. When Wednesday 23 April ends (midnight in Copenhagen,
    # 22:00 UTC) the first is escalated: on the tovholder's list and in her mail; the
    # second, due a day later, is not.
    system.clock.set(at(2025, 4, 23, 22, 1))
    awaiting = "/api/worklists/handoffs/awaiting-answer?escalated_only=true"

    def escalated_ones() -> list[str]:
        return [i["details"]["handoff_id"] for i in items(system, awaiting, tovholder)]

    system.wait_until(lambda: first in escalated_ones(), what="the escalation")
    assert escalated_ones() == [first]  # the second is not due yet
    [escalated] = items(system, awaiting, tovholder)
    assert (escalated["reason_code"], escalated["due_on"], escalated["overdue"]) == (
        "escalated", "2025-04-23", True)
    assert escalated["details"]["escalated_at"] == "2025-04-23T22:01:00+00:00"
    on_list = system.wait_until(
        lambda: next((i for i in items(system, "/api/worklists/me/handoffs", tovholder)
                      if i["subject_id"] == first), None),
        what="the escalation on the tovholder's own list")
    assert on_list["reason_code"] == "handoff_escalated"
    def escalation_mails() -> list[str] | None:
        found = [text_part(m) for m in system.smtp.to(METTE["email"])
                 if " ".join(subject(m).split()).startswith("Ubesvaret overdragelse")]
        return found or None

    [mail] = system.wait_until(escalation_mails, what="the escalation mail to the tovholder")
    assert "Ungdomsklubben" in mail and "23. april 2025" in mail

    # The club answers late: still allowed, and the escalation leaves the lists.
    partner_api.ok("POST", f"/api/handoffs/{first}/answers", club, json={"state": "accepted"})
    system.wait_until(lambda: first not in escalated_ones(),
                      what="the answered hand-off off the list")
    receivers.report("escalation")


# ------------------------------------------------------------------- isolation, OpenAPI


def test_a_partner_cannot_take_over_a_case_fronten_opened(
        system: System, partner_api: PartnerApi) -> None:
    system.clock.set(at(2025, 3, 5, 9))
    operator = system.token(Role.OPERATOR, "ops")
    fronten = system.token(Role.FRONTEN, "anne")
    kab = system.token(Role.PARTNER, "kab", partner=KAB)
    register_associations(system, operator, fronten)
    lise = register_citizen(system, fronten, LISE_CPR, "Lise Lejer")

    # Fronten opens a case on a tenancy no association has registered (the tenant came
    # to Fronten herself), naming no association.
    unregistered = "99-0001-1"
    opened = system.ok("POST", "/api/housing/cases", fronten, 201, json={
        "source": "fronten", "tenancy_ref": unregistered,
        "citizen_ref": lise, "amount_dkk": "9000.00", "months_behind": 2,
        "pakrav_sent_on": "2025-03-03", "pakrav_deadline": "2025-03-20"})
    fronten_case = opened["case_id"]

    # KAB reports the same tenancy with the tenant's CPR number: refused with the one
    # answer every refused report gets, and no case id; nothing opened or changed.
    takeover = partner_api.call("POST", "/api/housing/cases", kab, json={
        "tenancy_ref": unregistered, "match": {"cpr": LISE_CPR}, "amount_dkk": "9000.00",
        "months_behind": 2, "pakrav_sent_on": "2025-03-03",
        "pakrav_deadline": "2025-03-20"})
    assert problem_rules(takeover) == {
        "tenancy_ref": "housing.tenancy_not_registered_to_association"}
    assert fronten_case not in takeover.text
    assert "KAB" not in takeover.json()["errors"][0]["message"]
    # A tenancy registered to another association gets the very same answer.
    other = partner_api.call("POST", "/api/housing/cases", kab, json={
        "tenancy_ref": BO_TENANCY, "match": {"cpr": LISE_CPR}, "amount_dkk": "9000.00",
        "months_behind": 2, "pakrav_sent_on": "2025-03-03",
        "pakrav_deadline": "2025-03-20"})
    assert without_request_id(other) == without_request_id(takeover)
    assert [uuid.UUID(str(r[0])) for r in system.rows(
        "housing", "select id from arrears_cases")] == [uuid.UUID(fronten_case)]
    # KAB cannot read it, and it is not on KAB's list.
    hidden = partner_api.call("GET", f"/api/partner/cases/{fronten_case}", kab)
    missing = partner_api.call("GET", f"/api/partner/cases/{uuid.uuid4()}", kab)
    assert hidden.status_code == missing.status_code == 404
    assert without_request_id(hidden) == without_request_id(missing)
    assert partner_api.ok("GET", "/api/partner/cases", kab)["items"] == []
    # The refused reports are audited for the municipality to act on.
    refused = system.ok("GET", "/api/worklists/housing/refused-reports", operator)["items"]
    assert len(refused) == 2


def test_every_route_a_partner_uses_has_a_response_schema(
        system: System, partner_api: PartnerApi) -> None:
    """Each route the OpenAPI document lists for the partner role answers with a
    schema (a redirect excepted), never a bare object; the ones a partner can call
    without a hand-off or a case are called here (the others in the tests above), and
    each response validates."""
    partner_routes = []
    for path, operations in partner_api.doc["paths"].items():
        for method, op in operations.items():
            roles = op["description"].split(".")[0].removeprefix("Roles: ").split(", ")
            if "partner" not in roles:
                continue
            success = [c for c in op["responses"] if c.startswith("2")]
            if not success:
                assert {c for c in op["responses"] if c.startswith("3")}, (method, path)
                continue  # a redirect (signing in): no body
            partner_routes.append(f"{method.upper()} {path}")
            [code] = success
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            assert schema != {"type": "object"}, f"{method} {path}: a bare object"
            assert "properties" in schema or "oneOf" in schema, (method, path, schema)
    print(f"partner routes with a response schema: {len(partner_routes)}")
    assert {"GET /api/partner/handoffs", "GET /api/partner/handoffs/{handoff_id}",
            "POST /api/handoffs/{handoff_id}/answers", "GET /api/partner/cases",
            "GET /api/partner/cases/{case_id}", "POST /api/housing/cases",
            "GET /api/housing/cases/{case_id}",
            "GET /api/housing/associations/{association_id}/report"} <= set(partner_routes)

    system.clock.set(at(2025, 3, 5, 9))
    operator = system.token(Role.OPERATOR, "ops")
    register_associations(system, operator, system.token(Role.FRONTEN, "anne"))
    kab = system.token(Role.PARTNER, "kab", partner=KAB)
    for path in ("/health", "/ready", "/api/me", "/api/partner/handoffs",
                 "/api/partner/handoffs?state=declined", "/api/partner/cases",
                 "/api/partner/cases?status=closed",
                 f"/api/housing/associations/{KAB}/report?start=2025-03-01&end=2025-03-31"):
        partner_api.ok("GET", path, kab)
    assert partner_api.validated == 8
