"""Partners in the browser: a housing association answers the municipality's request to
hold the ophævelse, and the tovholder and the housing officer see the answer; the
jobcenter accepts one hand-off and declines another with a reason.

The set-up another system (or an earlier screen) would make goes through the API: the
partners in the directory, the association's tenancy, a citizen with a pathway whose
tovholder is Mette, the association's arrears report. The rest is the users' steps.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections import Counter
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import requests
from playwright.sync_api import Page, expect

from services.gateway.auth import Role
from tests import infra as infra_mod
from tests.support.waiting import wait_for

KAB = "kab-ballerup"
JOBCENTER = "jobcenter-ballerup"
TENANCY = "12-0304-2"
OTHER_TENANCY = "12-0304-3"
METTE = {"member_id": "mette", "name": "Mette Socialrådgiver", "email": "mette@balk.dk",
         "agency": "social_services", "role": "socialrådgiver"}
KARIN = {"member_id": "karin", "name": "Karin Koordinator", "email": "karin@balk.dk",
         "agency": "social_services", "role": "socialrådgiver"}


# -- set-up through the API (shared with the axe crawl and the screenshots) -------------------


SERVICES = ("intake", "coordination", "housing", "notifications", "partners")


def wait_until_every_event_queue_is_bound(infra: Any, web: Any) -> None:
    """Wait until each service's queue for each event it consumes (its message map) is
    bound. /ready says every service answers RPC; an event published before a
    consumer's queue is bound would never reach it (set-up right after start-up)."""
    wanted: Counter[str] = Counter()
    for service in SERVICES:
        wanted.update(list(importlib.import_module(f"services.{service}.messages").EVENT_HANDLERS))
    vhost = quote(unquote(urlsplit(web.amqp_uri).path[1:]), safe="")

    def bound() -> bool:
        bindings = requests.get(infra_mod.api(infra, f"/api/bindings/{vhost}"), timeout=10).json()
        found = Counter(b["routing_key"] for b in bindings if b["destination_type"] == "queue")
        return all(found[event_type] >= n for event_type, n in wanted.items())

    wait_for(bound, timeout=60, interval=0.2, what="every consumer's queue to be bound")


def status_of(web: Any, path: str, token: str) -> int:
    return requests.get(web.base + path, timeout=30,
                        headers={"Authorization": f"Bearer {token}"}).status_code


def register_partners(infra: Any, web: Any) -> str:
    """KAB Ballerup (a housing association with two tenancies) and Jobcenter Ballerup in
    the directory, as the operators register them. Returns an operator token."""
    wait_until_every_event_queue_is_bound(infra, web)
    operator = web.token(Role.OPERATOR, "ole")
    web.api("POST", "/api/partners", operator, json={
        "partner_id": KAB, "name": "KAB Ballerup", "category": "housing",
        "accepts": ["hold_termination"], "contact_name": "KAB's udlejning",
        "contact_email": "udlejning@kab.example"})
    web.api("POST", "/api/partners", operator, json={
        "partner_id": JOBCENTER, "name": "Jobcenter Ballerup", "category": "employment",
        "accepts": ["bridging_employment", "offer_referral"],
        "contact_name": "Jobcentrets visitation", "contact_email": "jobcenter@balk.dk",
        "contact_phone": "44 77 20 00"})
    web.api("POST", "/api/housing/associations", operator, json={
        "association_id": KAB, "name": "KAB Ballerup", "departments": [
            {"number": "12", "name": "Grantoften", "tenancy_refs": [TENANCY, OTHER_TENANCY]}]})
    return operator


def citizen_with_tovholder(web: Any, cpr: str, name: str,
                           tovholder: dict[str, str] = METTE) -> tuple[str, str]:
    """A citizen registered at Fronten whose pathway has a tovholder (Mette unless
    said): (citizen_ref, pathway_id)."""
    fronten = web.token(Role.FRONTEN, "anne")
    citizen = web.api("POST", "/api/citizens", fronten, json={
        "cpr": cpr, "name": name, "email": f"{name.split()[0].lower()}@example.dk",
        "preferred_channel": "email"})["citizen_ref"]
    coordinator = web.token(Role.COORDINATOR, "karin")
    pathway = web.api("POST", "/api/pathways", coordinator,
                      json={"citizen_ref": citizen, "tovholder": tovholder})
    return str(citizen), str(pathway["pathway_id"])


def report_arrears(web: Any, tenancy: str, citizen: str, pakrav_days: int) -> str:
    """KAB reports arrears on its tenancy; the påkrav was sent a week ago with a deadline
    `pakrav_days` from today. Returns the case id."""
    kab = web.token(Role.PARTNER, "kab", partner=KAB)
    today = web.clock.now().date()
    case = web.api("POST", "/api/housing/cases", kab, json={
        "tenancy_ref": tenancy, "citizen_ref": citizen, "amount_dkk": "14250.00",
        "months_behind": 2, "pakrav_sent_on": (today - dt.timedelta(days=7)).isoformat(),
        "pakrav_deadline": (today + dt.timedelta(days=pakrav_days)).isoformat()})
    return str(case["case_id"])


def hold_request_for(web: Any, case_id: str) -> dict[str, Any]:
    """Wait until KAB has the request to hold the case's ophævelse; its partner view."""
    kab = web.token(Role.PARTNER, "kab-list", partner=KAB)

    def probe() -> dict[str, Any] | None:
        items = web.api("GET", "/api/partner/handoffs?limit=200", kab)["items"]
        return next((i["details"] for i in items if i["kind"] == "hold_termination"
                     and i["details"]["details"].get("case_ref") == case_id), None)

    found: dict[str, Any] = wait_for(probe, timeout=30, what="the hold request to KAB")
    return found


def set_up_hold_request(infra: Any, web: Any) -> dict[str, str]:
    """The story's set-up: partners, a citizen with Mette as tovholder, an arrears case
    whose påkrav deadline is too close for § 81 a help, another case without the
    warning, and the clock past the outreach deadline, so that KAB is asked to hold the
    ophævelse. Returns the ids."""
    register_partners(infra, web)
    citizen, pathway = citizen_with_tovholder(web, "120801-4321", "Vincent Jensen")
    tovholder = web.token(Role.TOVHOLDER, "mette")
    # Housing learns of the pathway and its tovholder from coordination's events.
    case = report_arrears(web, TENANCY, citizen, pakrav_days=10)
    wait_for(lambda: status_of(web, f"/api/housing/cases/{case}", tovholder) == 200,
             timeout=30, what="housing to know Mette is Vincent's tovholder")
    other_citizen, _ = citizen_with_tovholder(web, "030595-1236", "Sara Hansen", KARIN)
    other = report_arrears(web, OTHER_TENANCY, other_citizen, pakrav_days=45)
    return {"case": case, "other_case": other, "citizen": citizen, "pathway": pathway}


def escalate_to_association(web: Any, case_id: str) -> dict[str, Any]:
    """Nobody reaches the citizen: the clock passes the outreach deadline (never later
    than the påkrav deadline), the case moves up and KAB is asked to hold."""
    web.move_clock(dt.timedelta(days=11))
    return hold_request_for(web, case_id)


def reload_until(page: Page, probe: Any, what: str) -> None:
    """Reload the page until `probe()` holds (an effect another service makes)."""

    def again() -> bool:
        page.reload()
        return bool(probe())

    wait_for(again, timeout=30, interval=0.5, what=what)


def fill_date(page: Page, legend: str, day_month_year: str) -> None:
    """Type a date into DKFDS's date input (Dag, Måned, År) under its legend."""
    group = page.get_by_role("group", name=legend)
    for label, value in zip(("Dag", "Måned", "År"), day_month_year.split(), strict=True):
        group.get_by_label(label, exact=True).fill(value)


def register_step(page: Page, group: str, step: str) -> None:
    """On a case page: open the group of steps, and register one."""
    page.locator("summary", has_text=group).click()
    page.get_by_role("button", name=step).click()


# -- the stories ------------------------------------------------------------------------------


def test_a_partner_answers_a_hold_request_and_the_tovholder_sees_the_answer(
        staff, web, infra) -> None:
    ids = set_up_hold_request(infra, web)
    case = ids["case"]

    # Bo, the housing officer, sees the § 81 a warning first, with the påkrav deadline.
    bo = staff().sign_in_as("bo")
    page = bo.page
    page.get_by_role("navigation", name="Hovedmenu").get_by_role(
        "link", name="Huslejesager").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Huslejesager")
    rows = page.locator("#cases tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("§ 81 a-advarsel")
    expect(rows.first).to_contain_text("12. marts 2026")
    expect(rows.first).to_contain_text("om 10 dage")
    expect(rows.nth(1)).not_to_contain_text("§ 81 a-advarsel")
    bo.check_accessibility()
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Huslejesag, lejemål {TENANCY}")
    expect(page.locator(".step-indicator li.current")).to_contain_text(
        "Borgeren skal kontaktes")
    expect(page.get_by_role("alert").filter(has_text="§ 81 a-advarsel")).to_contain_text(
        "torsdag 12. marts 2026")
    expect(page.locator("#facts")).to_contain_text("14.250,00 kr.")
    expect(page.locator("#deadlines")).to_contain_text("Kontakt borgeren")
    bo.check_accessibility()

    # Nobody reaches Vincent in time: the case moves up, and KAB is asked to hold.
    request = escalate_to_association(web, case)
    assert request["state"] == "requested"

    # Karen at KAB answers in the browser: first without the day, then with it.
    kab = staff().sign_in_as("kab")
    page = kab.page
    section = page.get_by_role("region", name="Anmodninger fra kommunen")
    section.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Anmodning om at vente med at ophæve lejemålet")
    expect(page.locator("#facts")).to_contain_text(TENANCY)
    kab.check_accessibility()
    page.get_by_label("Vi venter med at ophæve lejemålet").check()
    page.get_by_role("button", name="Send svaret").click()
    expect(page.locator("#hold_until-error")).to_contain_text(
        "Skriv, til og med hvilken dag I venter.")
    kab.check_accessibility()
    fill_date(page, "Til og med hvilken dag venter I?", "10 4 2026")
    page.get_by_label("Bemærkning til kommunen").fill("Vi ringer til Mette i morgen.")
    page.get_by_role("button", name="Send svaret").click()
    expect(page.get_by_text("Jeres svar er sendt til kommunen.")).to_be_visible()
    expect(page.locator("#facts .handoff-state")).to_have_text("Accepteret")
    expect(page.locator("#facts")).to_contain_text("fredag 10. april 2026")
    kab.check_accessibility()

    # Housing follows the answer (partners.handoff_updated).
    officer = web.token(Role.HOUSING_OFFICER, "bo")
    wait_for(lambda: web.api("GET", f"/api/housing/cases/{case}", officer)["hold_answer"]
             == "granted", timeout=30, what="housing to record KAB's answer")

    # KAB's own list says so too.
    page.get_by_role("navigation", name="Hovedmenu").get_by_role(
        "link", name="Huslejesager").click()
    expect(page.locator("#cases")).to_contain_text(
        "I har svaret, at I venter med at ophæve lejemålet til og med 10. april 2026.")
    kab.check_accessibility()
    page.locator("#cases").get_by_role("link", name=f"Lejemål {TENANCY}").click()
    expect(page.get_by_role("status").filter(has_text="Jeres svar")).to_contain_text(
        "I venter med at ophæve lejemålet til og med fredag 10. april 2026.")
    expect(page.locator("#facts")).not_to_contain_text("14.250")  # never the amount
    kab.check_accessibility()

    # Mette, the tovholder, sees the answer from her housing warnings.
    mette = staff().sign_in_as("mette")
    page = mette.page
    alerts = page.get_by_role("region", name="Boligvarsler om mine borgere")
    alerts.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Huslejesag, lejemål {TENANCY}")
    answer = page.get_by_role("status").filter(has_text="Boligforeningens svar")
    expect(answer).to_contain_text(
        "Boligforeningen venter med at ophæve lejemålet til og med fredag 10. april 2026.")
    expect(page.locator(".step-indicator li.current")).to_contain_text(
        "Boligforeningen bedt om at vente")
    mette.check_accessibility()

    # Bo sees the request, the answer and who gave it; he registers the contact, and a
    # step the case does not allow is refused next to it, in Danish.
    page = bo.page
    page.reload()
    expect(page.locator(".handoff-state").first).to_have_text("Accepteret")
    expect(page.locator(".handoff-history")).to_contain_text("KAB Ballerup")
    expect(page.locator(".handoff-history")).to_contain_text("Vi ringer til Mette i morgen.")
    bo.check_accessibility()
    register_step(page, "Hjælp efter aktivloven", "Hjælpen er bevilget")
    expect(page.locator("#error-summary")).to_contain_text(
        "Der er ingen ansøgning om hjælp, der venter på afgørelse.")
    expect(page.locator("#cmd-hjaelp-bevilget")).to_contain_text(
        "Der er ingen ansøgning om hjælp, der venter på afgørelse.")
    bo.check_accessibility()
    page.locator("summary", has_text="Ophævelse og udsættelse").click()
    fill_date(page, "Dato for udsættelsen", "31 2 2026")
    page.get_by_role("button", name="Registrér datoen for udsættelse").click()
    expect(page.locator("#eviction_date-error")).to_contain_text("Angiv en gyldig dato.")
    expect(page.get_by_role("group", name="Dato for udsættelsen").get_by_label(
        "Dag", exact=True)).to_have_value("31")
    bo.check_accessibility()
    register_step(page, "Kontakt med borgeren", "Borgeren er kontaktet")
    expect(page.get_by_text("Kontakten med borgeren er registreret.")).to_be_visible()
    expect(page.locator("#facts")).not_to_contain_text("Ikke endnu")
    bo.check_accessibility()

    # The tenant pays; KAB says so, and the case closes with the tenancy kept.
    page = kab.page
    page.get_by_role("navigation", name="Hovedmenu").get_by_role(
        "link", name="Anmodninger").click()
    page.locator("#handoffs").get_by_role("link").first.click()
    page.get_by_label("Sagen er afsluttet", exact=False).check()
    page.get_by_label("Lejeren har betalt restancen").check()
    page.get_by_role("button", name="Send svaret").click()
    expect(page.locator("#facts .handoff-state")).to_have_text("Afsluttet")
    expect(page.get_by_text("Anmodningen er afsluttet.")).to_be_visible()
    kab.check_accessibility()
    wait_for(lambda: not web.api("GET", f"/api/housing/cases/{case}", officer)["is_open"],
             timeout=30, what="the case to close on KAB's word that the tenant paid")
    page = bo.page
    bo.goto("/boligsager?status=closed")
    closed = page.locator("#cases tbody tr")
    expect(closed).to_have_count(1)
    expect(closed.first).to_contain_text("Sagen er lukket")
    closed.first.get_by_role("link").click()
    expect(page.locator(".font-lead")).to_contain_text(
        "restancen er betalt, og borgeren beholder sin bolig")
    bo.check_accessibility()


def test_the_jobcenter_accepts_one_referral_and_declines_another_with_a_reason(
        staff, web, infra) -> None:
    register_partners(infra, web)
    tovholder = web.token(Role.TOVHOLDER, "mette")
    pathways = [citizen_with_tovholder(web, cpr, name)[1] for cpr, name in
                (("120801-4321", "Vincent Jensen"), ("030595-1236", "Sara Hansen"))]

    def refer(pathway: str) -> bool:  # once coordination has the jobcenter in its copy
        response = requests.post(
            f"{web.base}/api/pathways/{pathway}/offer-referrals", timeout=30,
            headers={"Authorization": f"Bearer {tovholder}"},
            json={"partner_id": JOBCENTER, "ask": "Kan borgeren komme i praktik?"})
        return response.status_code == 201

    for pathway in pathways:
        wait_for(lambda p=pathway: refer(p), timeout=30, interval=0.5,
                 what="coordination to know the jobcenter")
    jobcenter_token = web.token(Role.PARTNER, "jobcenter", partner=JOBCENTER)
    wait_for(lambda: len(web.api("GET", "/api/partner/handoffs", jobcenter_token)["items"])
             == 2, timeout=30, what="two referrals to the jobcenter")

    jens = staff().sign_in_as("jobcenter")
    page = jens.page
    page.get_by_role("navigation", name="Hovedmenu").get_by_role(
        "link", name="Anmodninger").click()
    requests_table = page.locator("#handoffs")
    expect(requests_table.locator("tbody tr")).to_have_count(2)
    jens.check_accessibility()
    requests_table.get_by_role("link").first.click()
    expect(page.locator("#facts")).to_contain_text("Mette Socialrådgiver")
    page.get_by_label("Ja, vi tager imod borgeren").check()
    page.get_by_role("button", name="Send svaret").click()
    expect(page.get_by_text("Jeres svar er sendt til kommunen.")).to_be_visible()
    expect(page.locator("#facts .handoff-state")).to_have_text("Accepteret")
    jens.check_accessibility()

    page.get_by_role("link", name="Anmodninger fra kommunen").click()
    open_row = page.locator("#handoffs tbody tr").filter(has_not_text="Besvaret")
    open_row.get_by_role("link").click()
    page.get_by_label("Nej, vi kan ikke").check()
    page.get_by_role("button", name="Send svaret").click()
    expect(page.locator("#reason-error")).to_contain_text("Skriv, hvorfor I ikke kan.")
    jens.check_accessibility()
    page.get_by_label("Hvorfor kan I ikke?").fill("Vi har ikke plads før efter sommerferien.")
    page.get_by_role("button", name="Send svaret").click()
    expect(page.locator("#facts .handoff-state")).to_have_text("Afvist")
    declined_url = page.url
    jens.check_accessibility()

    # Mette, the responsible tovholder, reads the answer and its reason.
    mette = staff().sign_in_as("mette")
    mette.goto(declined_url.removeprefix(web.base))
    page = mette.page
    expect(page.locator("#facts .handoff-state")).to_have_text("Afvist")
    expect(page.locator("#facts")).to_contain_text("Vi har ikke plads før efter sommerferien.")
    expect(page.locator(".handoff-history")).to_contain_text("Jobcenter Ballerup")
    mette.check_accessibility()
