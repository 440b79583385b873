"""Fronten's day in the browser: register inquiries with the keyboard, see them on the
open-inquiries list, open one and resolve it."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

WISH = "Jeg vil gerne have styr på huslejen, og jeg er bange for at miste lejligheden."


def test_fronten_registers_an_inquiry_with_the_keyboard_and_resolves_it(staff, web) -> None:
    anne = staff().sign_in_as("anne")
    page = anne.page
    page.get_by_role("link", name="Ny henvendelse").click()
    anne.check_accessibility()
    # Keyboard only: the defaults (walk-in, the citizen) stand; pick two topics; type.
    page.get_by_label("Bolig", exact=True).focus()
    page.keyboard.press("Space")
    page.get_by_label("Huslejerestance").focus()
    page.keyboard.press("Space")
    page.get_by_label("Borgerens egne ord").focus()
    page.keyboard.type(WISH)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Henvendelsen er registreret.")).to_be_visible()
    expect(page.locator("blockquote.citizen-words")).to_have_text(WISH)  # verbatim
    # Danish words for the codes, never the codes.
    for words in ("Personligt fremmøde", "Borgeren selv", "Bolig, Huslejerestance",
                  "Anonym rådgivning"):
        expect(page.get_by_text(words, exact=True)).to_be_visible()
    anne.check_accessibility()

    anne.goto("/")
    expect(page.get_by_role("link", name="Ny henvendelse").first).to_be_visible()
    section = page.get_by_role("region", name="Åbne henvendelser")
    section.get_by_role("link").first.click()
    page.get_by_label("Råd og vejledning", exact=True).check()
    page.get_by_label("Antal samtaler (ved råd og vejledning)").fill("1")
    page.get_by_role("button", name="Afslut henvendelsen").click()
    expect(page.get_by_text("Henvendelsen er afsluttet.")).to_be_visible()
    expect(page.get_by_text("Udfald")).to_be_visible()
    anne.check_accessibility()


def test_a_form_error_is_shown_next_to_its_field_in_danish(staff, web) -> None:
    anne = staff().sign_in_as("anne")
    page = anne.page
    anne.goto("/henvendelser/ny")
    page.get_by_label("Borgerens egne ord").fill("Mit CPR-nummer er 010190-1234")
    page.get_by_role("button", name="Registrér henvendelsen").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Hvad handler det om?: Vælg eller skriv mindst én.")
    expect(page.locator("#wish-error")).to_contain_text("Skriv ikke CPR-nummeret her")
    # Nothing was written, and the citizen's words are still in the field to correct.
    expect(page.get_by_label("Borgerens egne ord")).to_have_value("Mit CPR-nummer er 010190-1234")
    anne.check_accessibility()
    assert web.rows("intake", "select count(*) as n from inquiries")[0].n == 0


def test_the_statistics_page_agrees_with_the_api_and_exports_csv(staff, web) -> None:
    from services.gateway.auth import Role

    token = web.token(Role.FRONTEN, "anne")
    for channel, topic in (("walk_in", "housing"), ("phone", "loneliness"),
                           ("phone", "economy")):
        web.api("POST", "/api/inquiries", token, json={
            "channel": channel, "inquirer_kind": "citizen", "topics": [topic],
            "wish": "Jeg har brug for hjælp."})
    day = web.clock.now().date().isoformat()
    api = web.api("GET", f"/api/statistics?period_start={day}&period_end={day}", token)
    assert api["total_inquiries"] == 3

    anne = staff().sign_in_as("anne")
    page = anne.page
    page.get_by_role("link", name="Statistik").click()
    page.get_by_label("Fra (ÅÅÅÅ-MM-DD)").fill(day)
    page.get_by_label("Til (ÅÅÅÅ-MM-DD)").fill(day)
    page.get_by_role("button", name="Vis perioden").click()
    figures = page.locator("#key-figures")
    expect(figures.get_by_role("row", name="Henvendelser i alt")).to_contain_text(
        str(api["total_inquiries"]))
    phone = page.get_by_role("region", name="Henvendelser efter kontaktform")
    expect(phone.get_by_role("row", name="Telefon")).to_contain_text(
        str(api["by_channel"]["phone"]))
    anne.check_accessibility()
    with page.expect_download() as download:
        page.get_by_role("link", name="Hent som CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "henvendelser i alt;;3" in text and "Telefon;2" in text


def test_an_unknown_cpr_number_and_a_citizen_outside_the_target_group(staff, web) -> None:
    from services.gateway.auth import Role

    anne = staff().sign_in_as("anne")
    page = anne.page
    # An inquiry for a CPR number no citizen has is refused next to the field.
    anne.goto("/henvendelser/ny")
    page.get_by_label("Overblik over økonomi").check()
    page.get_by_label("Borgerens CPR-nummer").fill("241150-1231")
    page.get_by_label("Borgerens egne ord").fill("Jeg kan ikke få pengene til at slå til.")
    page.get_by_role("button", name="Registrér henvendelsen").click()
    expect(page.locator("#cpr-error")).to_contain_text("Der er ingen borger med dette CPR")
    expect(page.get_by_label("Borgerens egne ord")).to_have_value(
        "Jeg kan ikke få pengene til at slå til.")
    anne.check_accessibility()
    assert web.rows("intake", "select count(*) as n from inquiries")[0].n == 0

    # Looked up by that number: not found, so the register form opens with it filled in.
    page.get_by_role("link", name="Borgere", exact=True).click()
    page.get_by_label("CPR-nummer").fill("241150-1231")
    page.get_by_role("button", name="Find borgeren").click()
    expect(page.get_by_text("Der er ingen borger med dette CPR-nummer.")).to_be_visible()
    expect(page.get_by_label("CPR-nummer")).to_have_value("241150-1231")
    anne.check_accessibility()
    page.get_by_label("Navn").fill("Poul Madsen")
    page.get_by_label("E-mail", exact=True).check()  # preferred, with no address given
    page.get_by_role("button", name="Registrér borgeren").click()
    expect(page.locator("#email-error")).to_contain_text("skriv en e-mailadresse")
    page.get_by_label("Brev (Digital Post eller papir)").check()
    page.get_by_role("button", name="Registrér borgeren").click()
    expect(page.get_by_text("Borgeren er registreret.")).to_be_visible()
    expect(page.get_by_text("Uden for målgruppen (16 år til folkepensionsalderen)")
           ).to_be_visible()
    anne.check_accessibility()
    citizen_ref = page.url.split("?")[0].rsplit("/", 1)[-1]

    # A course for him all the same (set up through the API): Fronten decides the flag.
    token = web.token(Role.FRONTEN, "anne")
    today = web.clock.now().date().isoformat()
    inquiry = web.api("POST", "/api/inquiries", token, json={
        "channel": "phone", "inquirer_kind": "citizen", "topics": ["economy"],
        "wish": "Jeg vil have hjælp til budgettet.", "citizen_ref": citizen_ref})
    web.api("POST", "/api/courses", token, json={
        "inquiry_id": inquiry["inquiry_id"], "kind": "group_82a", "start_date": today,
        "planned_end": "2026-06-01", "plan": {"goals": ["Et budget."],
                                             "follow_up_dates": ["2026-04-01"]}})
    anne.goto("/")
    flags = page.get_by_role("region", name="Uden for målgruppen").locator("tbody")
    flags.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Borger uden for målgruppen")
    expect(page.get_by_role("link", name="Poul Madsen")).to_be_visible()
    anne.check_accessibility()
    page.get_by_role("button", name="Registrér afgørelsen").click()
    expect(page.locator("#decision-error")).to_be_visible()
    anne.check_accessibility()
    page.get_by_label("Forløbet fortsætter alligevel").check()
    page.get_by_role("button", name="Registrér afgørelsen").click()
    expect(page.get_by_text("Afgørelsen er registreret.")).to_be_visible()
    expect(page.get_by_text("Ingen sager venter på en vurdering af målgruppen.")).to_be_visible()
    anne.check_accessibility()
