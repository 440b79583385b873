"""The seed-003 story, entirely in the browser (issue 11).

Vincent (19) is referred by Fronten to a sammenhængende borgerforløb. Karin, a
coordinator, takes the referral from "awaiting a tovholder" and appoints Mette. Mette
gathers the team (Lars, his teacher; Ulla, an Upoint youth consultant; a housing adviser
is refused: Vincent has not consented to housing) and his parents, enters availability
(Lars's working hours and his holiday, Ulla's busy morning) for the week before Easter,
and picks a proposed slot with the keyboard alone: the invitations arrive. She moves the
meeting, then cancels it. She writes the plan and records Vincent's agreement; a second
editor's revision, based on an older version, is caught and shown the current plan, so
nothing is lost. Finally she hands over to Ulla with a note.

Set-up outside the story goes through the API, as another system would: Fronten's
referral and Vincent's consents (school, Upoint), and the staff directory.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from email.message import Message
from typing import Any
from urllib.parse import quote

import requests
from playwright.sync_api import Locator, Page, expect

from services.gateway.auth import Role
from tests.integration.notifications.support import subject, text_part
from tests.support.waiting import wait_for

VINCENT = {"cpr": "120806-4321", "name": "Vincent Jensen", "email": "vincent@example.dk",
           "preferred_channel": "email", "address": "Hedelyngen 12, st. tv., 2750 Ballerup"}
# The staff directory as the provider's users have it (deploy/oidc-dev/users.json).
STAFF: dict[str, dict[str, Any]] = {
    "mette": {"name": "Mette Socialrådgiver", "email": "mette@balk.dk", "phone": "+45 44 77 30 01",
              "agency": "social_services", "roles": ["tovholder"]},
    "ulla": {"name": "Ulla Ungekonsulent", "email": "ulla@balk.dk", "phone": "+45 44 77 30 02",
             "agency": "upoint", "roles": ["tovholder"]},
    "lars": {"name": "Lærer Lars", "email": "lars@skole.dk", "phone": "+45 44 77 30 03",
             "agency": "school", "roles": ["tovholder"]},
    "bo": {"name": "Bo Boligrådgiver", "email": "bo@balk.dk", "phone": "+45 44 77 30 07",
           "agency": "housing", "roles": ["housing_officer"]},
}
CLUB = "ungdomsklubben"
AGENCY = {"housing": "Boligrådgivning", "school": "Skole", "upoint": "Upoint"}


# -- set-up through the API ------------------------------------------------------------------


def consumers_listening(infra: Any, web: Any, *consumers: str) -> None:
    """Wait until coordination's queues for these events exist: `/ready` can answer
    before every consumer has declared its queue, and an event published before that
    reaches only the queues already bound (reported to the lead)."""
    vhost = quote(web.amqp_uri.rsplit("/", 1)[-1], safe="")

    def bound() -> bool:
        found = requests.get(f"{infra.rabbit_api.rstrip('/')}/api/queues/{vhost}", timeout=5)
        names = " ".join(q["name"] for q in found.json()) if found.ok else ""
        return all(f"coordination.{c}" in names for c in consumers)

    wait_for(bound, timeout=30, interval=0.2, what=f"coordination's queues for {consumers}")


def fronten_refers_vincent(web: Any) -> str:
    """Fronten registers Vincent, refers him to a pathway, and records his consents to
    share the plan, the meetings and contact with his school and Upoint."""
    fronten = web.token(Role.FRONTEN, "anne")
    citizen = web.api("POST", "/api/citizens", fronten, json=VINCENT)["citizen_ref"]
    inquiry = web.api("POST", "/api/inquiries", fronten, json={
        "channel": "phone", "inquirer_kind": "relative", "topics": ["education", "loneliness"],
        "wish": "Vincent vil gerne ud af sit værelse og i skole igen.",
        "citizen_ref": citizen})["inquiry_id"]
    web.api("POST", f"/api/inquiries/{inquiry}/resolution", fronten,
            json={"outcome": "referral_pathway"})
    for agency in ("school", "upoint"):
        web.api("POST", f"/api/citizens/{citizen}/consents", fronten, json={
            "recipient": agency, "purpose": "pathway_team", "form": "written",
            "information_kinds": ["action_plan", "meeting_schedule", "contact_status"]})
    operator = web.token(Role.OPERATOR, "ole")
    for staff_id, person in STAFF.items():
        web.api("POST", "/api/staff", operator, json={"staff_id": staff_id, **person})
    web.api("POST", "/api/partners", operator, json={
        "partner_id": CLUB, "name": "Ungdomsklubben Ballerup", "category": "volunteer",
        "accepts": ["offer_referral"], "contact_name": "Klubbens leder",
        "contact_email": "klub@example.dk"})
    wait_for(lambda: web.rows("coordination", "select count(*) as n from partners where "
                                              "partner_id = 'ungdomsklubben'")[0].n == 1,
             timeout=30, what="the club in coordination's copy of the directory")
    # Coordination keeps its own copy of the consents (from intake's events).
    wait_for(lambda: web.rows("coordination", "select count(*) as n from consents")[0].n >= 2,
             timeout=30, what="the consents in coordination")
    return str(citizen)


def mails_to(web: Any, address: str, starts: str, count: int = 1) -> list[Message]:
    """The mails to `address` whose subject starts so, once `count` have arrived."""
    def arrived() -> list[Message]:
        found = [m for m in web.smtp.to(address) if subject(m).startswith(starts)]
        return found if len(found) >= count else []

    return wait_for(arrived, timeout=60, what=f"{count} mail(s) '{starts}' to {address}")


# -- the person at the screen ------------------------------------------------------------------


def reload_until(page: Page, shown: Callable[[], Locator], what: str) -> None:
    """Reload until an effect of another service's event is on the page."""
    def probe() -> bool:
        if shown().count() > 0:
            return True
        page.reload()
        return False

    wait_for(probe, timeout=30, interval=0.5, what=what)


def tab_to(page: Page, target: Locator, limit: int = 400) -> None:
    """Press Tab until `target` has the keyboard focus (as a keyboard user moves)."""
    handle = target.element_handle()
    for _ in range(limit):
        if page.evaluate("el => document.activeElement === el", handle):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def pick_slot(page: Page, slot: str) -> None:
    """Choose a proposed slot on the week grid with the keyboard alone."""
    button = page.get_by_role("button", name=f"Vælg {slot}", exact=True)
    tab_to(page, button)
    page.keyboard.press("Enter")


def looked_at(person: Any) -> None:
    """Every page the story visits: axe finds nothing, and no code went untranslated."""
    person.check_accessibility()
    expect(person.page.locator("main")).not_to_contain_text("(ukendt værdi)")


def open_details(page: Page, summary: str) -> None:
    page.locator("summary", has_text=summary).first.click()


def choose(page: Page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).select_option(label=option)


# -- the story --------------------------------------------------------------------------------


def test_the_seed_003_story_in_the_browser(staff, web, infra) -> None:
    consumers_listening(infra, web, "on_intake_pathway_referral", "on_intake_consent_given",
                        "on_partners_partner_registered")
    citizen = fronten_refers_vincent(web)

    # -- Karin, coordinator: the referral awaits a tovholder; she appoints Mette.
    karin = staff().sign_in_as("karin")
    page = karin.page
    awaiting = page.get_by_role("region", name="Borgerforløb uden tovholder").first
    reload_until(page, lambda: awaiting.get_by_role("link"), "the referral on Karin's list")
    expect(awaiting).to_contain_text("Borger under 30 år venter på en tovholder")
    awaiting.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Borgerforløb")
    expect(page.get_by_text("Forløbet venter på en tovholder.")).to_be_visible()
    looked_at(karin)
    pathway = page.url.rstrip("/").split("/")[-1]
    assert uuid.UUID(pathway)
    appoint = page.get_by_role("region", name="Tovholder", exact=True)
    appoint.get_by_label("Hvem bliver tovholder?").select_option(
        label="Mette Socialrådgiver (Socialforvaltningen)")
    appoint.get_by_label("Rolle i teamet").fill("socialrådgiver")
    appoint.get_by_role("button", name="Udpeg tovholderen").click()
    expect(page.get_by_text("Mette Socialrådgiver er udpeget som tovholder for forløbet."))\
        .to_be_visible()
    looked_at(karin)
    # It is Mette's now: no longer a coordinator's to see.
    karin.goto(f"/borgerforloeb/{pathway}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Borgerforløbet findes ikke")

    # -- Mette, tovholder: her pathway, with Vincent's name once intake knows she leads it.
    mette = staff().sign_in_as("mette")
    page = mette.page
    mine = page.get_by_role("region", name="Mine borgerforløb").first
    reload_until(page, lambda: mine.get_by_role("link"), "the pathway on Mette's list")
    mine.get_by_role("link", name="Du er tovholder for forløbet.").first.click()
    reload_until(page, lambda: page.get_by_role("heading", name="Borgerforløb for Vincent Jensen"),
                 "Vincent's name on the pathway page")
    expect(page.get_by_text("vincent@example.dk")).to_be_visible()
    looked_at(mette)

    # The team, from the directory. Housing: no consent, and the page says so by the field.
    for staff_id, role in (("bo", "boligrådgiver"), ("lars", "lærer"), ("ulla", "ungekonsulent")):
        open_details(page, "Tilføj en person til teamet")
        person = STAFF[staff_id]
        choose(page, "Medarbejder", f"{person['name']} ({AGENCY[person['agency']]})")
        page.get_by_label("Rolle i teamet").fill(role)
        page.get_by_role("button", name="Tilføj til teamet").click()
        if staff_id == "bo":
            expect(page.locator("#team-staff_id-error")).to_contain_text(
                "Borgeren har ikke givet samtykke til at dele oplysninger med denne forvaltning.")
            expect(page.locator("#error-summary")).to_be_visible()
            looked_at(mette)
            page.goto(web.base + f"/borgerforloeb/{pathway}")
        else:
            expect(page.get_by_text(f"{person['name']} er med i teamet.")).to_be_visible()
    team = page.get_by_role("region", name="Tabel over teamet")
    for name in ("Mette Socialrådgiver", "Lærer Lars", "Ulla Ungekonsulent"):
        expect(team.get_by_role("row", name=name)).to_be_visible()
    expect(team.get_by_role("row", name="Lærer Lars")).to_contain_text("Skole")
    expect(team).not_to_contain_text("Bo Boligrådgiver")

    # The parents: Vincent agreed that his mother is invited, not (yet) his father.
    for name, relation, email, may in (("Hanne Jensen", "mor", "hanne@example.dk", True),
                                       ("Jens Jensen", "far", "jens@example.dk", False)):
        open_details(page, "Tilføj en person fra netværket")
        page.get_by_label("Navn", exact=True).fill(name)
        page.get_by_label("Relation til borgeren").fill(relation)
        page.get_by_label("E-mail (frivilligt)").fill(email)
        page.get_by_label("Ja, borgeren har sagt ja" if may else "Nej, ikke endnu",
                          exact=False).check()
        page.get_by_role("button", name="Tilføj til netværket").click()
        expect(page.get_by_text(f"{name} er med i borgerens netværk.")).to_be_visible()
    network = page.get_by_role("region", name="Tabel over netværket")
    expect(network.get_by_role("row", name="Hanne Jensen")).to_contain_text(
        "Ja, borgeren har sagt ja")
    expect(network.get_by_role("row", name="Jens Jensen")).to_contain_text("Nej")
    # Vincent's wishes: not before ten.
    open_details(page, "Ret borgerens ønsker")
    page.get_by_label("Ikke før (frivilligt)").fill("10:00")
    page.get_by_role("button", name="Gem ønskerne").click()
    expect(page.get_by_text("Ikke før kl. 10.00")).to_be_visible()
    looked_at(mette)

    # -- Availability: Lars works 8-14 and is on holiday Monday and Tuesday of Easter week;
    # Ulla is busy Wednesday morning. Thursday and Friday are public holidays.
    page.get_by_role("link", name="Møder", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Møder")
    looked_at(mette)
    open_details(page, "Arbejdstid for en i teamet")
    choose(page, "Hvis arbejdstid", "Lærer Lars (lærer)")
    for day in ("mon", "tue", "wed", "thu", "fri"):
        page.locator(f"#hours-{day}-start").fill("08:00")
        page.locator(f"#hours-{day}-end").fill("14:00")
    page.get_by_role("button", name="Gem arbejdstiden").click()
    expect(page.get_by_text("Arbejdstiden for Lærer Lars er gemt.")).to_be_visible()
    open_details(page, "Ferie")
    choose(page, "Hvem holder ferie", "Lærer Lars")
    page.get_by_label("Første dag").fill("2026-03-30")
    page.get_by_label("Sidste dag").fill("2026-03-31")
    page.get_by_role("button", name="Gem ferien").click()
    expect(page.get_by_text("Lærer Lars holder ferie fra mandag 30. marts 2026 til og med "
                            "tirsdag 31. marts 2026.")).to_be_visible()
    open_details(page, "Optaget tid")
    choose(page, "Hvem er optaget", "Ulla Ungekonsulent")
    page.get_by_label("Dato").fill("2026-04-01")
    page.get_by_label("Fra kl.").fill("08:00")
    page.get_by_label("Til kl.").fill("12:00")
    page.get_by_role("button", name="Gem den optagede tid").click()
    expect(page.get_by_text("Ulla Ungekonsulent er optaget onsdag 1. april 2026 kl. 08.00 til "
                            "kl. 12.00.")).to_be_visible()
    looked_at(mette)

    # -- Scheduling, keyboard only: to Easter week, then pick a proposed slot.
    for _ in range(4):
        tab_to(page, page.get_by_role("link", name="Næste uge"))
        page.keyboard.press("Enter")
        page.wait_for_load_state()
    grid = page.locator("#week-grid")
    expect(page.get_by_role("heading", name="Uge 14: 30. marts 2026 til 3. april 2026"))\
        .to_be_visible()
    expect(grid.get_by_role("columnheader", name="torsdag 2. april")).to_contain_text(
        "Helligdag: Skærtorsdag")
    expect(grid.get_by_role("columnheader", name="fredag 3. april")).to_contain_text(
        "Helligdag: Langfredag")
    # Lars's holiday and Ulla's morning leave Wednesday from noon (Lars leaves at two).
    slots = grid.get_by_role("button")
    expect(slots.first).to_have_accessible_name("Vælg onsdag 1. april kl. 12.00")
    for button in slots.all():
        expect(button).to_have_accessible_name(
            re.compile(r"^Vælg onsdag 1\. april kl\. 1[23]\.\d\d$"))
    looked_at(mette)
    pick_slot(page, "onsdag 1. april kl. 12.00")
    expect(page.get_by_text("Mødet er planlagt onsdag 1. april 2026 kl. 12.00. "
                            "Invitationerne er sendt.")).to_be_visible()
    planned = page.get_by_role("region", name="Planlagte møder", exact=True)
    expect(planned.get_by_role("heading", name="onsdag 1. april 2026 kl. 12.00–13.00"))\
        .to_be_visible()
    looked_at(mette)

    # The invitations arrive: the team, Vincent, his mother; not his father.
    [teacher] = mails_to(web, "lars@skole.dk", "Teammøde")
    assert "1. april 2026" in subject(teacher)
    mails_to(web, "ulla@balk.dk", "Teammøde")
    [mother] = mails_to(web, "hanne@example.dk", "Du er inviteret til et møde")
    assert text_part(mother).startswith("Hej Hanne Jensen")
    mails_to(web, "vincent@example.dk", "Du er inviteret til et møde")
    assert web.smtp.to("jens@example.dk") == []

    # -- Move the meeting (the grid proposes new times for it), then cancel it.
    planned.get_by_role("link", name="Flyt mødet").click()
    expect(page.get_by_role("heading", name="Find en ny tid til mødet")).to_be_visible()
    looked_at(mette)
    page.get_by_label("Hvorfor flyttes mødet? (frivilligt)").fill("Lars har forældremøde.")
    pick_slot(page, "onsdag 1. april kl. 12.45")
    expect(page.get_by_text("Mødet er flyttet til onsdag 1. april 2026 kl. 12.45. "
                            "Deltagerne får besked.")).to_be_visible()
    mails_to(web, "hanne@example.dk", "Mødet er flyttet")
    mails_to(web, "lars@skole.dk", "Teammøde flyttet")
    open_details(page, "Aflys mødet")
    page.get_by_label("Hvorfor aflyses mødet?").fill("Vincent er syg.")
    page.get_by_role("button", name="Aflys mødet").click()
    expect(page.get_by_text("Mødet er aflyst. Deltagerne får besked.")).to_be_visible()
    expect(page.get_by_text("Der er ingen planlagte møder.")).to_be_visible()
    looked_at(mette)
    mails_to(web, "hanne@example.dk", "Mødet er aflyst")
    mails_to(web, "vincent@example.dk", "Dit møde er aflyst")

    # -- The plan, in Vincent's words; he agrees by phone.
    page.get_by_role("link", name="Handleplan", exact=True).click()
    looked_at(mette)
    page.get_by_role("link", name="Skriv handleplanen").click()
    page.get_by_label("Målet").fill("Jeg vil gerne komme i skole igen.")
    page.get_by_label("Hvad skal der ske?").fill("Ulla hjælper Vincent ud af sengen.")
    page.get_by_label("Ansvarlig").select_option(label="Ulla Ungekonsulent (ungekonsulent)")
    page.get_by_label("Frist").fill("2026-03-09")
    looked_at(mette)
    page.get_by_role("button", name="Gem handleplanen").click()
    expect(page.get_by_text("Handleplanen er gemt som version 1.")).to_be_visible()
    page.get_by_label("Telefonisk").check()
    page.get_by_role("button", name="Registrér borgerens ja").click()
    expect(page.get_by_text("Borgerens ja til version 1 er registreret.")).to_be_visible()
    versions = page.locator("#plan-versions")
    expect(versions.get_by_role("row", name="Version 1")).to_contain_text(
        "Borgeren sagde ja mandag 2. marts 2026 kl. 09.00, telefonisk. "
        "Registreret af Mette Socialrådgiver.")
    looked_at(mette)

    # Two editors start from version 1. The first saves version 2; the second is told,
    # sees version 2, keeps their own text, and saves version 3 on top of it.
    second = staff()
    second.page.context.add_cookies(page.context.cookies())
    editor = second.page
    second.goto(f"/borgerforloeb/{pathway}/handleplan/ret")
    page.get_by_role("link", name="Ret handleplanen (ny version)").click()
    page.locator("#goals-0-actions-1-text").fill("Mette ringer til skolen.")
    page.locator("#goals-0-actions-1-owner_id").select_option(
        label="Mette Socialrådgiver (socialrådgiver)")
    page.locator("#goals-0-actions-1-due_on").fill("2026-03-16")
    page.get_by_role("button", name="Gem handleplanen").click()
    expect(page.get_by_text("Handleplanen er gemt som version 2.")).to_be_visible()

    editor.locator("#goals-0-text").fill("Jeg vil gerne i skole igen, først to dage om ugen.")
    editor.get_by_role("button", name="Gem handleplanen").click()
    conflict = editor.locator("#plan-conflict")
    expect(conflict).to_contain_text("Handleplanen er ændret, mens du skrev")
    expect(conflict).to_contain_text("Mette Socialrådgiver har gemt version 2")
    expect(editor.locator("#current-plan")).to_contain_text("Mette ringer til skolen.")
    expect(editor.locator("#goals-0-text")).to_have_value(
        "Jeg vil gerne i skole igen, først to dage om ugen.")  # nothing of theirs is lost
    looked_at(second)
    editor.locator("#goals-0-actions-1-text").fill("Mette ringer til skolen.")
    editor.locator("#goals-0-actions-1-owner_id").select_option(
        label="Mette Socialrådgiver (socialrådgiver)")
    editor.locator("#goals-0-actions-1-due_on").fill("2026-03-16")
    editor.get_by_role("button", name="Gem handleplanen").click()
    expect(editor.get_by_text("Handleplanen er gemt som version 3.")).to_be_visible()
    page.reload()
    expect(versions.get_by_role("row")).to_have_count(4)  # a header and three versions
    expect(page.get_by_role("heading", name="Mål 1: »Jeg vil gerne i skole igen, først to "
                                            "dage om ugen.«")).to_be_visible()
    expect(page.get_by_role("row", name="Mette ringer til skolen.")).to_be_visible()
    page.get_by_label("På et møde").check()
    page.get_by_role("button", name="Registrér borgerens ja").click()
    expect(versions.get_by_role("row", name="Version 3")).to_contain_text("på et møde")
    # Actions and their owners: Ulla got Vincent out of bed, so the step is done.
    bed = page.get_by_role("row", name="Ulla hjælper Vincent ud af sengen.")
    expect(bed).to_contain_text("Ulla Ungekonsulent")
    bed.get_by_label("Status for »Ulla hjælper Vincent ud af sengen.«").select_option(
        label="Gjort")
    bed.get_by_role("button", name="Gem status").click()
    expect(page.get_by_text("Handlingen er markeret som gjort.")).to_be_visible()
    expect(page.get_by_label("Status for »Ulla hjælper Vincent ud af sengen.«"))\
        .to_have_value("done")
    page.get_by_role("link", name="Version 1", exact=True).click()
    expect(page.locator("#agreement")).to_contain_text("telefonisk")
    expect(page.get_by_text("Ulla hjælper Vincent ud af sengen.")).to_be_visible()
    looked_at(mette)

    # -- The timeline tells it all, newest first.
    page.get_by_role("link", name="Tidslinje", exact=True).click()
    timeline = page.get_by_role("list", name="Tidslinjen")
    for kind in ("Borgeren sagde ja til handleplanen", "Møde aflyst", "Møde flyttet",
                 "Møde planlagt", "Ny person fra netværket", "Ny i teamet", "Tovholder udpeget",
                 "Fronten henviste borgeren til et sammenhængende borgerforløb"):
        expect(timeline.get_by_role("heading", name=kind).first).to_be_visible()
    looked_at(mette)

    # -- A referral to the youth club; the club declines, and Mette follows up.
    page.get_by_role("link", name="Overblik").click()
    open_details(page, "Henvis borgeren til et andet tilbud")
    choose(page, "Tilbud", "Ungdomsklubben Ballerup")
    page.get_by_label("Hvad spørger I tilbuddet om?").fill(
        "Kan Vincent komme med på klubbens onsdagshold?")
    page.get_by_role("button", name="Send henvisningen").click()
    expect(page.get_by_text("Henvisningen er sendt til tilbuddet.")).to_be_visible()
    referrals = page.get_by_role("region", name="Tabel over henvisningerne")
    expect(referrals.get_by_role("row", name="Ungdomsklubben Ballerup")).to_contain_text(
        "Kan Vincent komme med på klubbens onsdagshold?")
    club = web.token(Role.PARTNER, "klub", partner=CLUB)
    [handoff] = wait_for(lambda: web.api("GET", "/api/partner/handoffs", club)["items"],
                         timeout=30, what="the referral at the club")
    web.api("POST", f"/api/handoffs/{handoff['subject_id']}/answers", club,
            json={"state": "declined", "reason": "Holdet er fuldt til sommer."})
    attention = page.get_by_role("region", name="Overdragelser der kræver opfølgning")
    reload_until(page, lambda: attention.get_by_text("Holdet er fuldt til sommer."),
                 "the club's decline on Mette's pathway page")
    expect(attention).to_contain_text("Ungdomsklubben Ballerup")
    looked_at(mette)
    open_details(page, "Markér som fulgt op")
    attention.get_by_label("Hvad er aftalt? (frivilligt)").fill(
        "Vi spørger klubben igen efter sommerferien.")
    attention.get_by_role("button", name="Markér som fulgt op").click()
    expect(page.get_by_text("Overdragelsen er fulgt op.")).to_be_visible()
    expect(attention).to_contain_text("Ingen overdragelser venter på dig.")
    looked_at(mette)

    # -- The next meeting, before Mette leaves: the first slot of Easter week again.
    page.get_by_role("link", name="Møder", exact=True).click()
    page.get_by_label("Ugen der begynder").fill("2026-03-30")
    page.get_by_role("button", name="Find ledige tider").click()
    page.get_by_role("button", name="Vælg onsdag 1. april kl. 12.00", exact=True).click()
    expect(page.get_by_text("Mødet er planlagt onsdag 1. april 2026 kl. 12.00.")).to_be_visible()

    # -- Mette hands over to Ulla, with a note for her and the team.
    page.get_by_role("link", name="Skift tovholder").click()
    looked_at(mette)
    page.get_by_label("Ny tovholder").select_option(label="Ulla Ungekonsulent (ungekonsulent)")
    page.get_by_label("Hvorfor skiftes der?").fill("Mette går på barsel.")
    page.get_by_label("Overdragelsesnote til den nye tovholder og teamet (frivilligt)").fill(
        "Vincent svarer bedst på sms om formiddagen.")
    page.get_by_role("button", name="Skift tovholder").click()
    expect(page.get_by_text("Ulla Ungekonsulent er nu tovholder. Borgeren og teamet får "
                            "besked.")).to_be_visible()
    expect(page.get_by_role("region", name="Tovholder", exact=True)).to_contain_text(
        "Ulla Ungekonsulent (ungekonsulent, Upoint) er borgerens tovholder.")
    looked_at(mette)
    [told] = mails_to(web, "ulla@balk.dk", "Du er ny tovholder")
    assert "Vincent svarer bedst på sms om formiddagen." in text_part(told)
    mails_to(web, "vincent@example.dk", "Du har fået en ny tovholder")

    ulla = staff().sign_in_as("ulla")
    page = ulla.page
    mine = page.get_by_role("region", name="Mine borgerforløb").first
    expect(mine.get_by_role("link", name="Du er tovholder for forløbet.").first).to_be_visible()
    ulla.goto(f"/borgerforloeb/{pathway}/tidslinje")
    expect(page.get_by_role("list", name="Tidslinjen")).to_contain_text(
        "Overdragelsesnote: Vincent svarer bedst på sms om formiddagen.")

    # -- Wednesday 1 April, after the meeting: Ulla, the new tovholder, records it as held
    # (reached from her list of meetings); the continuity figure counts it.
    web.clock.set(dt.datetime(2026, 4, 1, 12, 0, tzinfo=dt.UTC))  # 14.00 in Copenhagen
    ulla.goto("/")
    meetings = page.get_by_role("region", name="Mine næste møder").first
    meetings.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Møder")
    looked_at(ulla)
    open_details(page, "Registrér mødet som holdt")
    page.get_by_label("Hanne Jensen", exact=True).uncheck()  # his mother could not come
    page.get_by_label("Hvad blev besluttet? (frivilligt)").fill(
        "Vincent prøver skolen to dage om ugen.")
    page.get_by_role("button", name="Registrér mødet som holdt").click()
    expect(page.get_by_text("Mødet er registreret som holdt.")).to_be_visible()
    expect(page.get_by_role("region", name="Holdte og aflyste møder")).to_contain_text(
        "holdt. Besluttet: Vincent prøver skolen to dage om ugen.")
    looked_at(ulla)
    page.get_by_role("link", name="Overblik").click()
    continuity = page.get_by_role("region", name="Kontinuitet")
    expect(continuity.get_by_role("term")).to_have_text(
        ["Holdte møder", "Med både borgeren og tovholderen", "Skift af tovholder"])
    expect(continuity.get_by_role("definition")).to_have_text(["1", "1 (100 %)", "1"])
    looked_at(ulla)
    assert web.rows("coordination", "select count(*) as n from pathways")[0].n == 1
    assert citizen  # one citizen, one pathway, followed from referral to handover
