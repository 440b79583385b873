"""Contracts of the notifications service: its RPC arguments and partner-facing messages.

notifications publishes no events. What leaves Samspil for a partner (a webhook body,
a message on the partner's own queue) is one of the `PARTNER_MESSAGES` below: one
schema per event type a partner may receive, and that schema is the allow-list of
fields. Anything else in the producer's payload (a citizen_ref, internal levels)
never reaches the partner.
"""

from __future__ import annotations

from collections.abc import Mapping

from marshmallow import Schema, fields, validate

from contracts.actor import actor_field
from contracts.fields import Enum, UTCDateTime
from contracts.registry import registry
from contracts.vocabulary import INFORMATION_KINDS, PartnerKind, PartnerStatus

SERVICE = "notifications"

RECIPIENT_KINDS = (
    "tovholder", "team_members", "citizen", "network", "jobcenter", "housing_association",
    # the team mailboxes (the MAILBOXES setting)
    "fronten", "coordinators", "social_vejledning", "review_panel", "housing_officers",
)
CHANNELS = ("email", "webhook", "partner_queue", "sms")
PARTNER_CHANNELS = ("webhook", "partner_queue")
DELIVERY_STATUSES = ("pending", "sent", "retrying", "failed", "blocked")
# A partner id is also its queue name (partner.<id>) and routing key: keep it plain.
PARTNER_ID = r"^[a-z0-9][a-z0-9._-]{0,63}$"
EVENT_TYPE = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"


class _Actor(Schema):
    # Who is acting, set by the gateway from the authenticated caller (never by a client).
    actor = actor_field()


# -- routing rules -------------------------------------------------------------------


@registry.rpc(SERVICE, "list_routing_rules", summary="The routing rules, in the order they fire.")
class ListRoutingRulesArgs(_Actor):
    event_type = fields.String(load_default=None, allow_none=True)


@registry.rpc(
    SERVICE,
    "add_routing_rule",
    summary="When an event type happens, tell a kind of recipient over a channel.",
    example={"actor": "staff:ops", "event_type": "coordination.action_due",
             "recipient_kind": "team_members", "channel": "email",
             "information_kind": "action_plan", "purpose": "koordinering af forløb"},
)
class AddRoutingRuleArgs(_Actor):
    event_type = fields.String(required=True, validate=validate.Regexp(EVENT_TYPE))
    # Checked by the domain (routing.unknown_recipient_kind), so the error names the rule.
    recipient_kind = fields.String(required=True, validate=validate.Length(min=1, max=64))
    channel = fields.String(required=True, validate=validate.Length(min=1, max=32))
    information_kind = fields.String(required=True, validate=validate.OneOf(INFORMATION_KINDS))
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=200))


@registry.rpc(SERVICE, "remove_routing_rule", summary="Stop a routing rule.")
class RemoveRoutingRuleArgs(_Actor):
    rule_id = fields.Integer(required=True, strict=True)


# -- partner subscriptions -------------------------------------------------------------


@registry.rpc(SERVICE, "list_subscriptions", summary="Partner subscriptions (secrets hidden).")
class ListSubscriptionsArgs(_Actor):
    partner_id = fields.String(load_default=None, allow_none=True)


@registry.rpc(
    SERVICE,
    "add_subscription",
    summary="Subscribe a partner to event types it may see, by webhook or its own queue.",
    example={"actor": "staff:ops", "partner_id": "kab-ballerup", "partner_kind": "housing",
             "channel": "webhook", "event_types": ["housing.partner_status"],
             "url": "https://kab.example/samspil"},
)
class AddSubscriptionArgs(_Actor):
    partner_id = fields.String(required=True, validate=validate.Regexp(PARTNER_ID))
    partner_kind = Enum(PartnerKind, required=True)
    channel = fields.String(required=True, validate=validate.OneOf(PARTNER_CHANNELS))
    event_types = fields.List(
        fields.String(validate=validate.Regexp(EVENT_TYPE)),
        required=True,
        validate=validate.Length(min=1),
    )
    # Webhooks only: https (loopback only where WEBHOOK_ALLOW_LOOPBACK is set).
    url = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    # Webhooks only: the shared HMAC secret; generated (and returned once) when left out.
    secret = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=16, max=256)
    )


@registry.rpc(SERVICE, "remove_subscription", summary="End a partner subscription.")
class RemoveSubscriptionArgs(_Actor):
    subscription_id = fields.Integer(required=True, strict=True)


# -- legal bases -----------------------------------------------------------------------


@registry.rpc(SERVICE, "list_legal_bases", summary="Recorded legal bases for disclosures.")
class ListLegalBasesArgs(_Actor):
    pass


@registry.rpc(
    SERVICE,
    "add_legal_basis",
    summary="Record a disclosure the law allows without consent (recipient, kind, purpose).",
    example={"actor": "staff:jurist", "recipient": "kab-ballerup",
             "information_kind": "housing_case_status",
             "purpose": "forebyggelse af udsættelse",
             "reference": "retssikkerhedsloven § 5 a; almenlejeloven § 90"},
)
class AddLegalBasisArgs(_Actor):
    recipient = fields.String(required=True, validate=validate.Regexp(PARTNER_ID))
    information_kind = fields.String(required=True, validate=validate.OneOf(INFORMATION_KINDS))
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=200))
    reference = fields.String(required=True, validate=validate.Length(min=3, max=300))


# -- the delivery ledger ---------------------------------------------------------------


@registry.rpc(SERVICE, "list_deliveries", summary="The delivery ledger, filtered, newest first.")
class ListDeliveriesArgs(_Actor):
    status = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf(DELIVERY_STATUSES))
    channel = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CHANNELS))
    recipient_kind = fields.String(load_default=None, allow_none=True,
                                   validate=validate.OneOf(RECIPIENT_KINDS))
    event_type = fields.String(load_default=None, allow_none=True)
    message_id = fields.UUID(load_default=None, allow_none=True)
    limit = fields.Integer(load_default=100, strict=True, validate=validate.Range(min=1, max=1000))


@registry.rpc(SERVICE, "retry_delivery", summary="Send a failed delivery again (a new round).")
class RetryDeliveryArgs(_Actor):
    delivery_id = fields.Integer(required=True, strict=True)


# -- what partners receive -------------------------------------------------------------


class _PartnerMessage(Schema):
    """Every partner message names its type and the event's message_id (the
    idempotency key, also in the Samspil-Idempotency-Key header)."""

    type = fields.String(required=True)
    message_id = fields.UUID(required=True)
    occurred_at = UTCDateTime(required=True)


class HousingPartnerStatusMessageV1(_PartnerMessage):
    """To one housing association, about its own tenancy: a typed status, what we ask
    of it, its tenancy reference, our case reference and dates. Nothing else."""

    association_id = fields.String(required=True)
    case_ref = fields.UUID(required=True)
    tenancy_ref = fields.String(required=True, allow_none=True)
    status = Enum(PartnerStatus, required=True)
    requested = fields.String(required=True, allow_none=True)
    occurred_on = fields.Date(required=True)
    hold_until = fields.Date(required=True, allow_none=True)
    eviction_date = fields.Date(required=True, allow_none=True)


class _DanishText(Schema):
    """The message in Danish, for a person at the partner to read beside the codes."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class BridgingDueMessageV1(_PartnerMessage, _DanishText):
    """To the jobcenter (or an education partner): a course at Fronten ends, bridging
    starts. The course reference only: who the citizen is, the partner learns from
    Fronten when they speak (CPR numbers exist only in intake)."""

    course_ref = fields.UUID(required=True)
    partner_kind = Enum(PartnerKind, required=True)
    due_on = fields.Date(required=True)
    planned_end = fields.Date(required=True)


class BridgingCancelledMessageV1(_PartnerMessage, _DanishText):
    """To the partner told that bridging starts (BridgingDueMessageV1, same course_ref
    and due_on): the course ended early, so the bridging will not happen. `title` is
    "Brobygning aflyst"."""

    course_ref = fields.UUID(required=True)
    partner_kind = Enum(PartnerKind, required=True)
    due_on = fields.Date(required=True)  # as announced in the bridging message
    cancelled_on = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(["course_ended_early"]))


# Event type -> the schema of what a partner receives for it.
PARTNER_MESSAGES: Mapping[str, type[Schema]] = {
    "housing.partner_status": HousingPartnerStatusMessageV1,
    "intake.bridging_due": BridgingDueMessageV1,
    "intake.bridging_cancelled": BridgingCancelledMessageV1,
}
