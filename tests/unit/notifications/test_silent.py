"""Silent subscriptions: which can deliver nothing, and the reason an operator reads; the
metric's exposition; a blocked delivery released when the gate says yes; purposes from
the consent vocabulary."""

from __future__ import annotations

import datetime as dt

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from contracts.notifications import AddLegalBasisArgs, AddRoutingRuleArgs
from contracts.vocabulary import PartnerKind
from services.common.errors import Conflict
from services.notifications import metrics, purposes, silent
from services.notifications.gate import DeliveryChannel, routing_rule
from services.notifications.retry import Delivery, DeliveryStatus
from services.notifications.routing import PartnerSubscription

NOW = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
RULES = [routing_rule("housing.partner_status", "housing_association", "webhook",
                      "housing_case_status", "keep_home"),
         routing_rule("intake.bridging_due", "jobcenter", "webhook", "bridging_status",
                      "bridging_employment")]
LISTED = silent.DirectoryEntry(active=True, accepts=frozenset())


def sub(kind: PartnerKind | None, channel: str, *types: str) -> PartnerSubscription:
    return PartnerSubscription(1, "p", kind, DeliveryChannel(channel), frozenset(types))


HOUSING = sub(PartnerKind.HOUSING, "webhook", "housing.partner_status")


@pytest.mark.parametrize("subscription, partner, ledger, expected", [
    # Delivers: a rule routes it, and some of it has left.
    (HOUSING, LISTED, silent.Ledger(blocked=3, sent=1), None),
    # Everything planned for it is blocked: nothing has ever left (most urgent).
    (HOUSING, LISTED, silent.Ledger(blocked=2), silent.SilentReason.ONLY_BLOCKED),
    (HOUSING, None, silent.Ledger(blocked=2), silent.SilentReason.ONLY_BLOCKED),
    (HOUSING, None, silent.Ledger(), silent.SilentReason.PARTNER_UNKNOWN),
    (HOUSING, silent.DirectoryEntry(False, frozenset({"hold_termination"})), silent.Ledger(),
     silent.SilentReason.PARTNER_INACTIVE),
    # An education partner subscribed to the one-way bridging statement: no rule sends it
    # to education, and the partner takes no hand-offs.
    (sub(PartnerKind.EDUCATION, "webhook", "intake.bridging_due"), LISTED, silent.Ledger(),
     silent.SilentReason.NOTHING_ROUTED),
    # ... until it accepts bridging hand-offs: every subscription gets those.
    (sub(PartnerKind.EDUCATION, "webhook", "intake.bridging_due"),
     silent.DirectoryEntry(True, frozenset({"bridging_education"})), silent.Ledger(), None),
    # A rule for the jobcenter over webhooks does not reach its partner queue.
    (sub(PartnerKind.EMPLOYMENT, "partner_queue", "intake.bridging_due"), LISTED,
     silent.Ledger(), silent.SilentReason.NOTHING_ROUTED),
    # § 85 referrals go to a mailbox, never to subscriptions.
    (sub(None, "webhook", "partners.handoff_requested"),
     silent.DirectoryEntry(True, frozenset({"referral_85"})), silent.Ledger(),
     silent.SilentReason.NOTHING_ROUTED),
    (sub(None, "webhook", "partners.handoff_requested"),
     silent.DirectoryEntry(True, frozenset({"offer_referral"})), silent.Ledger(), None),
])
def test_why_a_subscription_is_silent(subscription, partner, ledger, expected):
    assert silent.why_silent(subscription, partner, ledger, RULES) == expected


def test_every_reason_has_danish_words_and_a_rank():
    assert set(silent.REASON_TEXTS) == set(silent.SilentReason) == set(silent.RANK)
    assert silent.RANK[silent.SilentReason.ONLY_BLOCKED] == 0


def _page(collector) -> str:
    registry = CollectorRegistry()
    registry.register(collector)
    return generate_latest(registry).decode()


def test_the_metrics_are_prometheus_gauges():
    page = _page(metrics.notification_gauges(lambda: 2, lambda: {"sent": 120, "failed": 1}))
    assert (
        "# HELP samspil_silent_subscriptions Partner subscriptions that can deliver nothing.\n"
        "# TYPE samspil_silent_subscriptions gauge\n"
        "samspil_silent_subscriptions 2.0\n"
    ) in page
    assert 'samspil_deliveries{status="failed"} 1.0' in page
    assert 'samspil_deliveries{status="sent"} 120.0' in page


def test_a_database_that_does_not_answer_leaves_the_gauges_out_not_the_page():
    def broken() -> int:
        raise OSError("database down")

    page = _page(metrics.notification_gauges(broken, dict))
    assert "samspil_silent_subscriptions" not in page


def test_a_blocked_delivery_is_released_only_from_blocked_and_starts_afresh():
    delivery = Delivery(status=DeliveryStatus.RETRYING, attempts=3, next_attempt_at=NOW)
    delivery.record_blocked("consent_withdrawn", NOW)

    delivery.release(NOW + dt.timedelta(days=2))

    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.PENDING, 0, None)
    assert delivery.next_attempt_at == NOW + dt.timedelta(days=2)
    with pytest.raises(Conflict):
        delivery.release(NOW)  # pending, not blocked
    blocked = Delivery()
    blocked.record_blocked("no_consent", NOW)
    with pytest.raises(Conflict):
        blocked.replay(NOW)  # an operator cannot send what the gate refused


def test_purposes_are_codes_and_the_old_phrases_read_as_their_code():
    assert purposes.canonical("Forebyggelse af udsættelse") == "keep_home"
    assert purposes.same_purpose("brobygning til beskæftigelse", "bridging_employment")
    assert not purposes.same_purpose("bridging_employment", "bridging_education")
    assert purposes.text_of("pathway_team") == "samarbejde i et sammenhængende borgerforløb"
    assert purposes.text_of(None) == purposes.STAFF_LOOKUP_PURPOSE
    assert purposes.text_of("noget helt andet") == "noget helt andet"


def test_rpc_purposes_are_refused_unless_in_the_vocabulary_listing_what_is_allowed():
    basis = {"actor": "staff:ops", "recipient": "kab", "information_kind":
             "housing_case_status", "reference": "retssikkerhedsloven § 5 a"}
    errors = AddLegalBasisArgs().validate(basis | {"purpose": "brobygning til job"})
    assert "keep_home" in errors["purpose"][0] and "Allowed" in errors["purpose"][0]
    assert AddLegalBasisArgs().load(basis | {"purpose": "forebyggelse af udsættelse"})[
        "purpose"] == "keep_home"
    rule = {"actor": "staff:ops", "event_type": "coordination.action_due",
            "recipient_kind": "team_members", "channel": "email",
            "information_kind": "action_plan"}
    assert AddRoutingRuleArgs().load(rule)["purpose"] is None
