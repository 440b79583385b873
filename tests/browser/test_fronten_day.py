"""Issue 11, "A Fronten day", in the browser: Fronten registers a citizen (the CPR number
shown only when asked, and logged), records and corrects consents, registers five
inquiries with the keyboard, starts a course, sees its follow-up on the worklist when the
clock moves, decides the 4-week rule's proposal, hands the course over, and the
statistics page agrees with the API. Then the review panel's and Social Vejledning's
steps: the panel refers a course to § 85, Social Vejledning answers the referral's
hand-off, and Fronten sees the outcome on the course.

Set-up that is not the story goes through the API (partners, staff, a course)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Locator, expect
from sqlalchemy.orm import Session

from services.common.db import make_engine
from services.gateway.auth import Role
from services.intake.models import ConsentRow
from tests.support.waiting import wait_for

CPR = "010203-4562"
WISH = "Jeg vil gerne kunne åbne mine breve selv."
GOAL = "Jeg vil åbne mine breve selv, hver mandag."


def danish_date(day: dt.date) -> str:
    """A day as the pages write it: "mandag 16. marts 2026"."""
    from services.web.danish import date

    return date(day)


def reload_until(staff: Any, locator: Callable[[], Locator], what: str,
                 timeout: float = 30.0) -> None:
    """Reload the page until the thing shows (the services work on their own time)."""
    page = staff.page

    def shown() -> bool:
        if locator().count() > 0:
            return True
        page.reload()
        return locator().count() > 0

    wait_for(shown, timeout=timeout, interval=0.3, what=what)
    staff.check_accessibility()


def register_inquiry(staff: Any, topics: list[str], wish: str, cpr: str | None = None) -> None:
    """Fronten registers an inquiry with the keyboard only: the defaults (walk-in, the
    citizen) stand; tick the topics; the CPR number when the citizen is known; type."""
    page = staff.page
    for topic in topics:
        page.get_by_label(topic, exact=True).focus()
        page.keyboard.press("Space")
    if cpr:
        page.get_by_label("Borgerens CPR-nummer").focus()
        page.keyboard.type(cpr)
    page.get_by_label("Borgerens egne ord").focus()
    page.keyboard.type(wish)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Henvendelsen er registreret.")).to_be_visible()
    expect(page.locator("blockquote.citizen-words")).to_have_text(wish)
    staff.check_accessibility()


def legacy_consent(web: Any, citizen_ref: str) -> None:
    """A consent written in free text before the vocabulary, as migration 0005 left the
    ones it could not map: flagged for a person to correct."""
    engine = make_engine(web.urls["intake"])
    try:
        with Session(engine) as session:
            session.add(ConsentRow(
                id=uuid.uuid4(), citizen_ref=uuid.UUID(citizen_ref),
                recipient="Jobcentret på Baltorpvej", information_kinds=["contact_status"],
                purpose="hjælp til at komme i job", form="written",
                given_at=dt.datetime(2025, 11, 3, 9, 0, tzinfo=dt.UTC), given_by="staff:anne",
                needs_correction="recipient_and_purpose_unknown", announce_pending=False))
            session.commit()
    finally:
        engine.dispose()


def test_a_fronten_day(staff, web) -> None:
    ole = web.token(Role.OPERATOR, "ole")
    front = web.token(Role.FRONTEN, "anne")
    web.api("POST", "/api/partners", ole, json={
        "partner_id": "jobcenter-ballerup", "name": "Jobcenter Ballerup",
        "category": "employment", "accepts": ["bridging_employment"],
        "contact_name": "Jobcentrets visitation", "contact_email": "jobcenter@balk.dk"})
    web.api("POST", "/api/staff", ole, json={
        "staff_id": "karl", "name": "Karl Jensen", "agency": "social_services",
        "roles": ["fronten"], "email": "karl@balk.dk", "phone": "+45 44 77 34 44"})
    wait_for(lambda: any(r["recipient"] == "jobcenter-ballerup" for r in web.api(
        "GET", "/api/consent-vocabulary", front)["recipients"]),
        what="intake to know the jobcenter")
    start = web.clock.now().date()

    anne = staff().sign_in_as("anne")
    page = anne.page

    # A new citizen: registered, the CPR number hidden until asked for.
    page.get_by_role("link", name="Borgere").click()
    anne.check_accessibility()
    page.get_by_role("link", name="Registrér en ny borger").click()
    anne.check_accessibility()
    page.get_by_label("CPR-nummer").fill(CPR)
    page.get_by_label("Navn").fill("Mikkel Hansen")
    page.get_by_label("Telefon").fill("+45 20 30 40 50")
    page.get_by_label("SMS", exact=True).check()
    page.get_by_role("button", name="Registrér borgeren").click()
    expect(page.get_by_text("Borgeren er registreret.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mikkel Hansen")
    expect(page.get_by_text(CPR)).to_have_count(0)
    anne.check_accessibility()
    citizen_ref = page.url.rsplit("/", 1)[-1].split("?")[0]

    # Found again by the CPR number (sent only in the form's body), and shown when asked.
    page.get_by_role("link", name="Find en borger").click()
    page.get_by_label("CPR-nummer").fill(CPR)
    page.get_by_role("button", name="Find borgeren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mikkel Hansen")
    assert CPR not in page.url and "0102034562" not in page.url
    page.get_by_role("link", name="Vis CPR-nummer").click()
    expect(page.get_by_text(CPR)).to_be_visible()
    anne.check_accessibility()
    shown = web.rows("intake", "select actor, purpose from access_log where what = 'cpr'")
    assert [(r.actor, r.purpose) for r in shown] == [("staff:anne", "Sagsbehandling i Fronten")]

    # A consent, picked from the vocabulary; the service's refusal next to its field.
    page.get_by_label("Modtager").select_option(label="Jobcenter Ballerup (samarbejdspartner)")
    page.get_by_label("Formål").select_option(label="Brobygning til beskæftigelse")
    page.get_by_role("button", name="Registrér samtykket").click()
    expect(page.locator("#information_kinds-error")).to_contain_text(
        "Vælg eller skriv mindst én")
    anne.check_accessibility()
    page.get_by_label("Brobygningen").check()
    page.get_by_label("Om Fronten har kontakt med borgeren").check()
    page.get_by_role("button", name="Registrér samtykket").click()
    expect(page.get_by_text("Samtykket er registreret.")).to_be_visible()
    consents = page.get_by_role("region", name="Samtykker")
    row = consents.get_by_role("row", name="Jobcenter Ballerup")
    expect(row).to_contain_text("brobygning til beskæftigelse")
    expect(row).to_contain_text("I kraft")
    anne.check_accessibility()
    row.get_by_role("button", name="Træk tilbage").click()
    expect(page.get_by_text("Samtykket er trukket tilbage.")).to_be_visible()
    expect(consents.get_by_role("row", name="Jobcenter Ballerup")).to_contain_text(
        "Trukket tilbage")

    # A consent from before the vocabulary waits on the worklist to be corrected.
    legacy_consent(web, citizen_ref)
    anne.goto("/")
    to_correct = page.get_by_role("region", name="Samtykker der skal rettes").locator("tbody")
    to_correct.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ret et samtykke")
    expect(page.get_by_text("Jobcentret på Baltorpvej")).to_be_visible()
    anne.check_accessibility()
    page.get_by_label("Modtager").select_option(label="Jobcenter Ballerup (samarbejdspartner)")
    page.get_by_label("Formål").select_option(label="Brobygning til beskæftigelse")
    page.get_by_role("button", name="Gem rettelsen").click()
    expect(page.get_by_text("Samtykket er rettet.")).to_be_visible()
    corrected = page.get_by_role("region", name="Samtykker").get_by_role("row").filter(
        has_text="I kraft")
    expect(corrected).to_contain_text("Jobcenter Ballerup")
    anne.goto("/")
    expect(page.get_by_text("Ingen samtykker skal rettes.")).to_be_visible()

    # Five inquiries, with the keyboard: one from the citizen's page, one by CPR number.
    anne.goto(f"/borgere/{citizen_ref}")
    page.get_by_role("link", name="Ny henvendelse for borgeren").click()
    expect(page.get_by_text("Henvendelsen registreres for Mikkel Hansen")).to_be_visible()
    anne.check_accessibility()
    register_inquiry(anne, ["Overblik over økonomi"], WISH)
    first_inquiry = page.url
    expect(page.get_by_role("link", name="Mikkel Hansen")).to_be_visible()
    for topics, wish, cpr in (
            (["Bolig", "Huslejerestance"], "Jeg er bange for at miste lejligheden.", CPR),
            (["Følelser og ensomhed"], "Jeg sidder alene hver aften.", None),
            (["Uddannelse"], "Min søn vil gerne i gang med en uddannelse.", None),
            (["Misbrug"], "Jeg drikker for meget.", None)):
        page.get_by_role("link", name="Ny henvendelse").first.click()
        register_inquiry(anne, topics, wish, cpr)

    # A course from the first inquiry, with the citizen's goal and a follow-up in 14 days.
    follow_up = start + dt.timedelta(days=14)
    planned_end = start + dt.timedelta(days=150)
    page.goto(first_inquiry)
    page.get_by_role("link", name="Start et forløb").click()
    anne.check_accessibility()
    page.get_by_label("Planlagt slutdato").fill(planned_end.isoformat())
    page.get_by_label("Borgerens mål med borgerens egne ord").fill(GOAL)
    page.get_by_label("1. opfølgning").fill(follow_up.isoformat())
    page.get_by_label("Beskæftigelse (jobcenter)").check()
    expect(page.get_by_label("Ansvarlig medarbejder")).to_have_value("anne")
    page.get_by_role("button", name="Start forløbet").click()
    expect(page.get_by_text("Forløbet er startet.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Individuelt forløb (§ 82 b)")
    clocks = page.get_by_role("region", name="Frister")
    expect(clocks.get_by_role("row", name="Opfølgning")).to_contain_text(
        f"{danish_date(follow_up)} om 14 dage")
    expect(clocks.get_by_role("row", name="Planlagt slut")).to_contain_text(
        danish_date(planned_end))
    expect(clocks.get_by_role("row", name="Maksimal længde")).to_contain_text(
        danish_date(dt.date(start.year, start.month + 6, start.day)))
    expect(page.locator("blockquote.citizen-words")).to_have_text(GOAL)
    anne.check_accessibility()
    course_url = page.url.split("?")[0]
    page.get_by_label("Ja, aftalen blev holdt").check()
    page.get_by_role("button", name="Registrér aftalen").click()
    expect(page.get_by_text("Aftalen er registreret.")).to_be_visible()

    # Two weeks on: the follow-up is on the worklist; it was held.
    web.move_clock(dt.timedelta(days=14))
    anne.goto("/")
    follow_ups = page.get_by_role("region", name="Opfølgning på forløb").locator("tbody")
    reload_until(anne, lambda: follow_ups.get_by_role("link"), "the follow-up on the worklist")
    follow_ups.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Individuelt forløb (§ 82 b)")
    anne.check_accessibility()
    page.get_by_role("button", name="Registrér opfølgningen som holdt").click()
    expect(page.get_by_text("Opfølgningen er registreret som holdt.")).to_be_visible()
    expect(page.get_by_role("region", name="Frister").get_by_role(
        "row", name="Opfølgning")).to_contain_text("Holdt")
    # An agreement a week ago was not kept.
    page.get_by_label("Dag for aftalen").fill((start + dt.timedelta(days=7)).isoformat())
    page.get_by_label("Nej, aftalen blev ikke holdt").check()
    page.get_by_role("button", name="Registrér aftalen").click()
    expect(page.get_by_text("Aftalen er registreret.")).to_be_visible()
    expect(page.get_by_role("region", name="Frister").get_by_role(
        "row", name="4-ugersreglen")).to_contain_text(
        danish_date(start + dt.timedelta(days=28)))
    anne.check_accessibility()

    # Four weeks after the last kept agreement the rule proposes an ending; Fronten decides.
    web.move_clock(dt.timedelta(days=14))
    anne.goto("/")
    proposals = page.get_by_role("region", name="Forslag om afslutning (4-ugersreglen)"
                                 ).locator("tbody")
    reload_until(anne, lambda: proposals.get_by_role("link"),
                 "the 4-week proposal on the worklist")
    proposals.get_by_role("link").first.click()
    proposal = page.get_by_role("heading", name="Forslag om afslutning (4-ugersreglen)")
    expect(proposal).to_be_visible()
    anne.check_accessibility()
    page.get_by_role("button", name="Borgeren er tilbage på sporet").click()
    expect(page.get_by_text("Borgeren er tilbage på sporet. De 4 uger tæller fra i dag.")
           ).to_be_visible()
    expect(proposal).to_have_count(0)

    # Handed over to Karl, picked from the staff directory, with a note.
    page.get_by_label("Ny ansvarlig").select_option(label="Karl Jensen")
    page.get_by_label("Besked til den nye ansvarlige").fill("Mikkel vil helst ringes op.")
    page.get_by_role("button", name="Overdrag forløbet").click()
    expect(page.get_by_text("Karl Jensen er nu ansvarlig for forløbet.")).to_be_visible()
    expect(page.get_by_role("region", name="Ansvarlig medarbejder")).to_contain_text(
        "Anne Andersen")
    anne.check_accessibility()
    assert page.url.startswith(course_url)

    # The statistics page agrees with the API for the period.
    today = web.clock.now().date()
    api = web.api("GET", f"/api/statistics?period_start={start}&period_end={today}", front)
    assert api["total_inquiries"] == 5 and api["courses_82b_started"] == 1
    page.get_by_role("link", name="Statistik").click()
    page.get_by_label("Fra (ÅÅÅÅ-MM-DD)").fill(start.isoformat())
    page.get_by_label("Til (ÅÅÅÅ-MM-DD)").fill(today.isoformat())
    page.get_by_role("button", name="Vis perioden").click()
    figures = page.locator("#key-figures")
    expect(figures.get_by_role("row", name="Henvendelser i alt")).to_contain_text(
        str(api["total_inquiries"]))
    expect(figures.get_by_role("row", name="§ 82 b-forløb startet")).to_contain_text(
        str(api["courses_82b_started"]))
    expect(figures.get_by_role("row", name="Aktive forløb")).to_contain_text(
        str(api["active_courses"]))
    topics = page.get_by_role("region", name="Henvendelser efter emne")
    expect(topics.get_by_role("row", name="Huslejerestance")).to_contain_text(
        str(api["by_topic"]["rent_arrears"]))
    anne.check_accessibility()


def _course_via_api(web: Any) -> str:
    """A running § 82 b course of a registered citizen (Fronten's work, set up)."""
    front = web.token(Role.FRONTEN, "anne")
    today = web.clock.now().date()
    citizen = web.api("POST", "/api/citizens", front, json={
        "cpr": "150298-1234", "name": "Sara Nielsen", "preferred_channel": "letter"})
    inquiry = web.api("POST", "/api/inquiries", front, json={
        "channel": "phone", "inquirer_kind": "citizen", "topics": ["mental_health"],
        "wish": "Jeg har brug for hjælp til at komme ud af døren.",
        "citizen_ref": citizen["citizen_ref"]})
    course = web.api("POST", "/api/courses", front, json={
        "inquiry_id": inquiry["inquiry_id"], "kind": "individual_82b",
        "start_date": today.isoformat(),
        "planned_end": (today + dt.timedelta(days=60)).isoformat(),
        "plan": {"goals": ["Jeg vil gå en tur hver dag."],
                 "follow_up_dates": [(today + dt.timedelta(days=21)).isoformat()]}})
    return str(course["course_id"])


def test_the_panel_refers_to_85_and_social_vejledning_answers(staff, web) -> None:
    course_id = _course_via_api(web)

    # Peter works in Fronten and sits on the panel: he sends the course to the panel.
    peter = staff().sign_in_as("peter")
    page = peter.page
    peter.goto(f"/forloeb/{course_id}")
    page.get_by_role("button", name="Gem brobygningen").click()
    expect(page.locator("#partner_kinds-error")).to_contain_text("Vælg mindst én")
    peter.check_accessibility()
    page.get_by_label("Uddannelse", exact=True).check()
    page.get_by_role("button", name="Gem brobygningen").click()
    expect(page.get_by_text("Brobygningen er planlagt.")).to_be_visible()
    expect(page.get_by_text("Borgeren skal videre til: uddannelse.")).to_be_visible()
    page.get_by_role("button", name="Send forløbet til udvalget").click()
    expect(page.get_by_text("Forløbet er sendt til tværgående udvalg.")).to_be_visible()
    peter.check_accessibility()

    # The panel's agenda; its decision, the service's refusal next to the field first.
    page.get_by_role("link", name="Udvalgets dagsorden").click()
    peter.check_accessibility()
    agenda = page.get_by_role("region", name="Dagsorden")
    expect(agenda.get_by_role("row", name="Individuelt forløb (§ 82 b)")).to_contain_text(
        "om 60 dage")
    agenda.get_by_role("link", name="Individuelt forløb (§ 82 b)").click()
    page.get_by_label("Forløbet fortsætter til en ny planlagt slutdato").check()
    page.get_by_role("button", name="Registrér udvalgets afgørelse").click()
    expect(page.locator("#new_planned_end-error")).to_contain_text(
        "Angiv den nye planlagte slutdato")
    expect(page.locator("#error-summary")).to_be_visible()
    peter.check_accessibility()
    page.get_by_label("Forløbet afsluttes, og borgeren henvises til vurdering efter § 85").check()
    page.get_by_role("button", name="Registrér udvalgets afgørelse").click()
    expect(page.get_by_text("Udvalgets afgørelse er registreret.")).to_be_visible()
    expect(page.get_by_text("venter på Social Vejlednings afgørelse")).to_be_visible()
    peter.check_accessibility()
    page.get_by_role("link", name="Udvalgets dagsorden").click()
    expect(page.get_by_text("Ingen forløb venter på udvalget.")).to_be_visible()

    # Social Vejledning sees the referral and answers its hand-off.
    sofie = staff().sign_in_as("sofie")
    sv = sofie.page
    expect(sv.get_by_role("region", name="Henvisninger til § 85").locator("tbody tr")
           ).to_have_count(1)
    sv.get_by_role("link", name="Henvisninger til § 85").first.click()
    sofie.check_accessibility()
    sv.get_by_role("region", name="Henvisninger").get_by_role("link").first.click()
    expect(sv.get_by_role("heading", level=1)).to_have_text("Individuelt forløb (§ 82 b)")
    # Social Vejledning opens the § 85 case: the citizen, and the CPR number when asked.
    sv.get_by_role("link", name="Sara Nielsen").click()
    expect(sv.get_by_role("heading", level=1)).to_have_text("Sara Nielsen")
    sofie.check_accessibility()
    sv.get_by_role("link", name="Vis CPR-nummer").click()
    expect(sv.get_by_text("150298-1234")).to_be_visible()
    shown = web.rows("intake", "select actor, purpose from access_log where what = 'cpr'")
    assert [(r.actor, r.purpose) for r in shown] == [
        ("staff:sofie", "Vurdering efter servicelovens § 85")]
    sv.go_back()
    handoff = "Henvisning til vurdering efter servicelovens § 85"
    reload_until(sofie, lambda: sv.get_by_role("heading", name=handoff),
                 "the § 85 hand-off on the course")
    sv.get_by_role("button", name="Afvis").click()
    # The service's refusal next to the field (its words are the partners' area's).
    expect(sv.get_by_label("Begrundelse for afvisningen")).to_have_attribute(
        "aria-invalid", "true")
    expect(sv.locator(".form-error-message").first).to_contain_text("Skriv")
    sofie.check_accessibility()
    sv.get_by_role("button", name="Acceptér").click()
    expect(sv.get_by_text("Henvisningen er accepteret.")).to_be_visible()
    sofie.check_accessibility()
    sv.get_by_label("Støtte efter § 85 er bevilget").check()
    sv.get_by_role("button", name="Afslut med udfaldet").click()
    expect(sv.get_by_text("Henvisningen er afsluttet med sit udfald.")).to_be_visible()
    # intake records the § 85 outcome from the answer (an event): the course shows it.
    reload_until(sofie, lambda: sv.get_by_text("støtte efter § 85 er bevilget ("),
                 "the § 85 outcome on the course")
    sv.get_by_role("link", name="Henvisninger til § 85").first.click()
    expect(sv.get_by_text("Ingen henvisninger venter på en afgørelse.")).to_be_visible()
    sofie.check_accessibility()

    # Fronten sees the answers on the course's hand-off.
    peter.goto(f"/forloeb/{course_id}")
    section = page.get_by_role("region", name=handoff)
    expect(section).to_contain_text("Støtte efter § 85 er bevilget")
    expect(section.get_by_role("listitem")).to_have_count(3)  # sent, accepted, completed
