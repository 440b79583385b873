"""Bad input gets a clear error naming the field and the rule, and writes nothing:
an unknown recipient kind, a webhook URL that is not https, a partner subscription to
events it may not see. A malformed event goes to the dead-letter queue with the reason,
and nothing is planned or sent for it."""

from __future__ import annotations

import json
import uuid

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import text

from services.common.db import make_engine
from services.common.deadletters import DeadLetters
from tests.integration.notifications import support
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def running(amqp_uri, db_url, runner_factory):
    yield from support.start(amqp_uri, db_url, runner_factory)


def problems(error: RemoteError) -> dict[str, str]:
    return {e["field"]: e["rule"] for e in json.loads(error.value)["errors"]}


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {t: int(conn.execute(text(f"select count(*) from {t}")).scalar_one())  # noqa: S608
                    for t in ("routing_rules", "subscriptions", "legal_bases", "deliveries",
                              "received_events")}
    finally:
        engine.dispose()


SUB = {"actor": "staff:ops", "partner_id": "kab-ballerup", "partner_kind": "housing",
       "channel": "webhook", "event_types": ["housing.partner_status"]}


BAD = [
    ("add_routing_rule",
     {"event_type": "coordination.action_due", "recipient_kind": "mayor",
      "channel": "email", "information_kind": "action_plan", "purpose": "pathway_team"},
     "recipient_kind", "routing.unknown_recipient_kind"),
    ("add_routing_rule",
     {"event_type": "coordination.no_such_event", "recipient_kind": "team_members",
      "channel": "email", "information_kind": "action_plan", "purpose": "pathway_team"},
     "event_type", "routing.unknown_event_type"),
    ("add_routing_rule",
     {"event_type": "housing.case_escalated", "recipient_kind": "housing_association",
      "channel": "webhook", "information_kind": "housing_case_status",
      "purpose": "keep_home"},
     "event_type", "subscription.not_visible_to_partner"),
    # Network persons have one rule per event, like the citizen (migration 0003's).
    ("add_routing_rule",
     {"event_type": "coordination.meeting_scheduled", "recipient_kind": "network",
      "channel": "sms", "information_kind": "meeting_schedule", "purpose": "pathway_team"},
     "recipient_kind", "routing.network_rule_exists"),
    ("add_routing_rule",
     {"event_type": "coordination.pathway_opened", "recipient_kind": "coordinators",
      "channel": "sms", "information_kind": "contact_status", "purpose": "pathway_team"},
     "channel", "routing.channel_not_allowed"),
    ("add_routing_rule",
     {"event_type": "coordination.action_due", "recipient_kind": "network",
      "channel": "email", "information_kind": "action_plan", "purpose": "pathway_team"},
     "event_type", "template.not_found"),
    # Purposes come from the consent vocabulary (issue 16 point 6): free text is refused,
    # and a rule to a partner must name one.
    ("add_routing_rule",
     {"event_type": "housing.partner_status", "recipient_kind": "housing_association",
      "channel": "partner_queue", "information_kind": "housing_case_status",
      "purpose": "brobygning til job"},
     "purpose", "schema"),
    ("add_routing_rule",
     {"event_type": "housing.partner_status", "recipient_kind": "housing_association",
      "channel": "email", "information_kind": "housing_case_status"},
     "purpose", "routing.kind_and_purpose_required"),
    ("add_routing_rule",
     {"event_type": "partners.handoff_requested", "recipient_kind": "partner",
      "channel": "webhook", "information_kind": "bridging_status",
      "purpose": "bridging_employment"},
     "recipient_kind", "routing.handoff_recipient"),
    ("add_legal_basis",
     {"recipient": "kab-ballerup", "information_kind": "housing_case_status",
      "purpose": "jobcenter balerup", "reference": "retssikkerhedsloven § 5 a"},
     "purpose", "schema"),
    # Without a partner kind, a subscription takes hand-offs only.
    ("add_subscription",
     {**SUB, "partner_kind": None, "url": "https://kab.example/samspil"},
     "event_type", "subscription.not_visible_to_partner"),
    # An education partner gets bridging as hand-offs; the one-way statement never
    # reached it (issue 16), so it is refused rather than accepted and silent.
    ("add_subscription",
     {**SUB, "partner_kind": "education", "url": "https://skole.example/samspil",
      "event_types": ["intake.bridging_due"]},
     "event_type", "subscription.not_visible_to_partner"),
    ("add_subscription", {**SUB, "url": "http://kab.example/samspil"},
     "url", "webhook.https_required"),
    ("add_subscription", {**SUB, "url": "https://user:pw@kab.example/samspil"},
     "url", "webhook.credentials_in_url"),
    ("add_subscription",
     {**SUB, "url": "https://kab.example/samspil",
      "event_types": ["housing.partner_status", "housing.case_escalated"]},
     "event_type", "subscription.not_visible_to_partner"),
    ("add_subscription",
     {**SUB, "partner_kind": "employment", "url": "https://jc.example/samspil",
      "event_types": ["coordination.meeting_scheduled"]},
     "event_type", "subscription.not_visible_to_partner"),
    ("add_subscription", {**SUB, "partner_id": "KAB Ballerup!", "url": "https://k.example"},
     "partner_id", "schema"),
]


def test_bad_operator_input_is_refused_by_field_and_rule_and_writes_nothing(running):
    before = counts(running.db_url)
    with ClusterRpcProxy(running.config) as cluster:
        for method, args, field, rule in BAD:
            with pytest.raises(RemoteError) as error:
                getattr(cluster.notifications, method)(**{"actor": "staff:ops", **args})
            assert error.value.exc_type == "InvalidInput", (method, args)
            assert problems(error.value) == {field: rule}, (method, args)
    assert counts(running.db_url) == before


def test_unknown_ids_are_not_found(running):
    with ClusterRpcProxy(running.config) as cluster:
        with pytest.raises(RemoteError) as error:
            cluster.notifications.retry_delivery(actor="staff:ops", delivery_id=999)
        assert error.value.exc_type == "NotFoundError"
        with pytest.raises(RemoteError) as error:
            cluster.notifications.remove_subscription(actor="staff:ops", subscription_id=999)
        assert error.value.exc_type == "NotFoundError"


def test_malformed_event_is_dead_lettered_with_the_reason_and_nothing_is_sent(
    running, amqp_uri
):
    body = {
        "message_id": str(uuid.uuid4()), "type": "coordination.meeting_scheduled",
        "schema_version": 1, "occurred_at": "2026-03-01T09:00:00+00:00",
        "producer": "coordination", "correlation_id": "p-1",
        "payload": {"meeting_id": "not-a-uuid", "participants": []},
    }
    running.publish_raw("coordination.meeting_scheduled", body, message_id=body["message_id"])
    letters = DeadLetters(amqp_uri, "notifications")
    [letter] = wait_for(lambda: letters.list(), what="the dead letter")
    assert letter.message_id == body["message_id"]
    assert letter.consumer == "notifications.on_coordination_meeting_scheduled"
    assert "payload.meeting_id" in letter.error and "payload.participants" in letter.error
    assert letter.attempts == 1
    assert counts(running.db_url)["deliveries"] == 0
