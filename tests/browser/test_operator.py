"""The operator's screen: a dead letter is listed with its error and sent again with one
click; afterwards the list is empty."""

from __future__ import annotations

import json
import uuid

from kombu import Connection, Exchange, Queue, binding
from playwright.sync_api import expect

from services.common.messaging import dead_letter_queue_name, retry_exchange


def test_an_operator_replays_a_dead_letter(staff, web) -> None:
    # A letter as the kit leaves it in intake's dead-letter queue (set-up, not driving).
    letter_id = str(uuid.uuid4())
    queue = dead_letter_queue_name("intake")
    with Connection(web.amqp_uri) as conn:
        producer = conn.Producer()
        producer.publish(
            json.dumps({"type": "coordination.pathway_opened"}), exchange=Exchange(""),
            routing_key=queue, declare=[Queue(queue, durable=True)],
            content_type="application/json", headers={
                "x-samspil-dead-letter-id": letter_id, "x-samspil-attempts": 4,
                "x-samspil-consumer": "intake.on_coordination_pathway_opened",
                "x-samspil-original-queue": "intake.replayed-here",
                "x-samspil-error": "ValueError: databasen svarede ikke"},
            type="coordination.pathway_opened", message_id=letter_id)
    # Where the replay will land: a queue of intake's, bound as the kit binds its queues
    # to intake's retry exchange under its own name.
    target = Queue("intake.replayed-here", bindings=[binding(
        retry_exchange("intake"), routing_key="intake.replayed-here")],
        durable=True, auto_delete=False)
    with Connection(web.amqp_uri) as conn:
        target(conn.default_channel).declare()

    ole = staff().sign_in_as("ole")
    page = ole.page
    page.get_by_role("link", name="Drift").click()
    row = page.get_by_role("row").filter(has_text="databasen svarede ikke")
    expect(row).to_contain_text("Fronten (intake)")
    ole.check_accessibility()
    row.get_by_role("button", name="Send igen").click()
    expect(page.get_by_text("Brevet er sendt igen til intake.replayed-here.")).to_be_visible()
    expect(page.get_by_text("Der er ingen døde breve.")).to_be_visible()
    with Connection(web.amqp_uri) as conn:
        replayed = conn.SimpleQueue(target).get(timeout=10)
        assert replayed.properties.get("message_id") == letter_id
        replayed.ack()


def test_an_operator_fixes_silent_subscriptions_from_the_partner_directory(staff, web) -> None:
    from services.gateway.auth import Role
    from tests.browser.test_partner import reload_until

    # Two subscriptions for partners the directory does not know (set-up, not driving).
    operator = web.token(Role.OPERATOR, "ole")
    for partner in ("ungdomsklubben", "gammel-partner"):
        web.api("POST", "/api/subscriptions", operator, json={
            "partner_id": partner, "channel": "webhook",
            "event_types": ["partners.handoff_requested"],
            "url": f"https://{partner}.example/samspil"})

    ole = staff().sign_in_as("ole")
    page = ole.page
    home = page.get_by_role("region", name="Abonnementer, der ikke kan levere noget").first
    expect(home).to_contain_text("Partneren findes ikke i partnerkataloget")
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Drift").click()
    silent = page.locator("#silent-subscriptions tbody tr")
    expect(silent).to_have_count(2)
    ole.check_accessibility()

    # The one still wanted: register the partner, from the line that says what to do.
    page.get_by_role("link", name="Opret ungdomsklubben i partnerkataloget").click()
    expect(page.get_by_label("Partnerens id")).to_have_value("ungdomsklubben")
    page.get_by_role("button", name="Opret partneren").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Navn: Skal udfyldes.")
    expect(page.locator("#contact_name-error")).to_contain_text("Skal udfyldes.")
    ole.check_accessibility()
    page.get_by_label("Navn", exact=True).fill("Ungdomsklubben Ballerup")
    page.get_by_label("Kategori").select_option(label="Frivillig organisation")
    page.get_by_label("Henvisning til et tilbud").check()
    page.get_by_label("Kontaktperson eller -enhed").fill("Klubbens leder")
    page.get_by_label("E-mail").fill("klub@ungdomsklubben.example")
    page.get_by_role("button", name="Opret partneren").click()
    expect(page.get_by_text("Ungdomsklubben Ballerup er oprettet i kataloget.")).to_be_visible()
    row = page.locator("#partners tbody tr").filter(has_text="ungdomsklubben")
    expect(row).to_contain_text("Henvisning til jeres tilbud")
    expect(row).to_contain_text("Frivillig organisation")
    ole.check_accessibility()

    # Notifications learns of the partner: its subscription can deliver and leaves the list.
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Drift").click()
    reload_until(page, lambda: silent.count() == 1,
                 "the registered partner's subscription to leave the list")
    expect(silent.first).to_contain_text("gammel-partner")
    # The other is not wanted any more: remove it.
    silent.first.get_by_role("button", name="Fjern abonnementet").click()
    expect(page.get_by_text("Abonnementet er fjernet.")).to_be_visible()
    expect(page.get_by_text("Alle abonnementer kan levere.")).to_be_visible()
    ole.check_accessibility()
