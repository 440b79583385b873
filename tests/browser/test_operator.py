"""The operator's screen: a dead letter is listed with its error and sent again with one
click; afterwards the list is empty."""

from __future__ import annotations

import json
import uuid

from kombu import Connection, Exchange, Queue
from playwright.sync_api import expect

from services.common.messaging import dead_letter_queue_name


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
    target = Queue("intake.replayed-here", durable=True, auto_delete=False)
    with Connection(web.amqp_uri) as conn:  # where the replay will land
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
