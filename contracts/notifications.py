"""Contracts of the notifications service: its RPC arguments and partner-facing messages.

notifications publishes no events. What leaves Samspil for a partner (a webhook body,
a message on the partner's own queue) is one of the `PARTNER_MESSAGES` below: one
schema per event type a partner may receive, and that schema is the allow-list of
fields. Anything else in the producer's payload (a citizen_ref, internal levels, a
partner's or a member of staff's free text) never reaches the partner. Every code in
a partner message has its Danish text beside it (`<field>_text`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from contracts.actor import actor_field
from contracts.fields import Enum, UTCDateTime
from contracts.registry import registry
from contracts.vocabulary import (
    INFORMATION_KINDS,
    ConsentPurpose,
    HandoffKind,
    HandoffState,
    PartnerKind,
    PartnerStatus,
)
from contracts.worklist import WorklistArgs, WorklistPage

SERVICE = "notifications"

RECIPIENT_KINDS = (
    "tovholder", "team_members", "citizen", "network", "jobcenter", "housing_association",
    # the team mailboxes (the MAILBOXES setting)
    "fronten", "coordinators", "social_vejledning", "review_panel", "housing_officers",
    # the partner a hand-off names (partners.handoff_requested), not for routing rules
    "partner",
)
CHANNELS = ("email", "webhook", "partner_queue", "sms")
PARTNER_CHANNELS = ("webhook", "partner_queue")
DELIVERY_STATUSES = ("pending", "sent", "retrying", "failed", "blocked")
# A partner id is also its queue name (partner.<id>) and routing key: keep it plain.
PARTNER_ID = r"^[a-z0-9][a-z0-9._-]{0,63}$"
EVENT_TYPE = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"


CITIZEN = "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80"

# The Danish phrases purposes were written in before the consent vocabulary, and the
# ConsentPurpose each one meant (compared whitespace-collapsed and case-folded). An RPC
# given one stores its code; consents and rules written with one still match.
LEGACY_PURPOSE_PHRASES: Mapping[str, ConsentPurpose] = {
    "brobygning til beskæftigelse": ConsentPurpose.BRIDGING_EMPLOYMENT,
    "brobygning til uddannelse": ConsentPurpose.BRIDGING_EDUCATION,
    "brobygning til sundhed": ConsentPurpose.BRIDGING_HEALTH,
    "koordinering af sammenhængende borgerforløb": ConsentPurpose.PATHWAY_TEAM,
    "koordinering af forløb": ConsentPurpose.PATHWAY_TEAM,
    "samarbejde i et sammenhængende borgerforløb": ConsentPurpose.PATHWAY_TEAM,
    "forebyggelse af udsættelse": ConsentPurpose.KEEP_HOME,
    "at fastholde boligen": ConsentPurpose.KEEP_HOME,
    "at fastholde boligen (huslejerestance)": ConsentPurpose.KEEP_HOME,
    "henvisning til et andet tilbud": ConsentPurpose.OFFER_REFERRAL,
}


def purpose_code(text: str | None) -> ConsentPurpose | None:
    """The ConsentPurpose `text` names (its code, or a phrase from before), else None."""
    if text is None:
        return None
    folded = " ".join(text.split()).casefold()
    try:
        return ConsentPurpose(folded)
    except ValueError:
        return LEGACY_PURPOSE_PHRASES.get(folded)


class ConsentPurposeField(fields.String):
    """A purpose from the consent vocabulary (ConsentPurpose), loaded as its code; an
    unknown purpose is refused with the list of allowed values."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        code = purpose_code(text)
        if code is None:
            allowed = ", ".join(p.value for p in ConsentPurpose)
            raise ValidationError(f"Not a consent purpose. Allowed: {allowed}.")
        return code.value


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
    summary="When an event type happens, tell a kind of recipient over a channel. "
    "`purpose` is a consent purpose (required for a rule to a partner).",
    example={"actor": "staff:ops", "event_type": "coordination.action_due",
             "recipient_kind": "team_members", "channel": "email",
             "information_kind": "action_plan", "purpose": "pathway_team"},
)
class AddRoutingRuleArgs(_Actor):
    event_type = fields.String(required=True, validate=validate.Regexp(EVENT_TYPE))
    # Checked by the domain (routing.unknown_recipient_kind), so the error names the rule.
    recipient_kind = fields.String(required=True, validate=validate.Length(min=1, max=64))
    channel = fields.String(required=True, validate=validate.Length(min=1, max=32))
    information_kind = fields.String(required=True, validate=validate.OneOf(INFORMATION_KINDS))
    # What the consent gate compares with the citizen's consent (rules to partners); a
    # rule to staff or the citizen may leave it out.
    purpose = ConsentPurposeField(load_default=None, allow_none=True)


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
    summary="Subscribe a partner to event types it may see, by webhook or its own queue. "
    "Every active subscription of a partner also receives its hand-offs.",
    example={"actor": "staff:ops", "partner_id": "kab-ballerup", "partner_kind": "housing",
             "channel": "webhook", "event_types": ["housing.partner_status"],
             "url": "https://kab.example/samspil"},
)
class AddSubscriptionArgs(_Actor):
    partner_id = fields.String(required=True, validate=validate.Regexp(PARTNER_ID))
    # Left out for a partner that receives hand-offs only (an offer, a volunteer
    # organisation): then event_types may name only partners.handoff_requested/_updated.
    partner_kind = Enum(PartnerKind, load_default=None, allow_none=True)
    channel = fields.String(required=True, validate=validate.OneOf(PARTNER_CHANNELS))
    event_types = fields.List(
        fields.String(validate=validate.Regexp(EVENT_TYPE)),
        required=True,
        validate=validate.Length(min=1),
    )
    # Webhooks only: https (loopback only where WEBHOOK_ALLOW_LOOPBACK is set).
    url = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    # Webhooks only: the shared HMAC secret; generated (and returned once) when left out.
    # Stored encrypted. Standard Webhooks form (whsec_ + base64 of 24-64 bytes) is advised.
    secret = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=16, max=256)
    )


@registry.rpc(SERVICE, "remove_subscription", summary="End a partner subscription.")
class RemoveSubscriptionArgs(_Actor):
    subscription_id = fields.Integer(required=True, strict=True)


@registry.rpc(
    SERVICE,
    "rotate_subscription_secret",
    summary="Give a webhook subscription a new secret (generated and returned once when "
    "left out). The old one keeps signing beside it for `overlap_hours` (default "
    "WEBHOOK_SECRET_OVERLAP_HOURS, 168), then is retired.",
    example={"actor": "staff:ops", "subscription_id": 1, "overlap_hours": 72},
)
class RotateSubscriptionSecretArgs(_Actor):
    subscription_id = fields.Integer(required=True, strict=True)
    secret = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=16, max=256)
    )
    # 0 retires the old secret at once (no overlap); at most 90 days.
    overlap_hours = fields.Integer(
        load_default=None, allow_none=True, strict=True,
        validate=validate.Range(min=0, max=90 * 24),
    )


@registry.rpc(
    SERVICE,
    "retire_previous_secret",
    summary="End a webhook secret rotation's overlap now: only the new secret signs.",
)
class RetirePreviousSecretArgs(_Actor):
    subscription_id = fields.Integer(required=True, strict=True)


# -- legal bases -----------------------------------------------------------------------


@registry.rpc(SERVICE, "list_legal_bases", summary="Recorded legal bases for disclosures.")
class ListLegalBasesArgs(_Actor):
    pass


@registry.rpc(
    SERVICE,
    "add_legal_basis",
    summary="Record a disclosure the law allows without consent (recipient, kind, consent "
    "purpose). Deliveries it now allows that were blocked are sent, in order.",
    example={"actor": "staff:jurist", "recipient": "kab-ballerup",
             "information_kind": "housing_case_status", "purpose": "keep_home",
             "reference": "retssikkerhedsloven § 5 a; almenlejeloven § 90"},
)
class AddLegalBasisArgs(_Actor):
    recipient = fields.String(required=True, validate=validate.Regexp(PARTNER_ID))
    information_kind = fields.String(required=True, validate=validate.OneOf(INFORMATION_KINDS))
    purpose = ConsentPurposeField(required=True)
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
    subscription_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    limit = fields.Integer(load_default=100, strict=True, validate=validate.Range(min=1, max=1000))


@registry.rpc(SERVICE, "retry_delivery", summary="Send a failed delivery again (a new round).")
class RetryDeliveryArgs(_Actor):
    delivery_id = fields.Integer(required=True, strict=True)


# -- operators' worklist and the citizen's access report ----------------------------------


@registry.rpc(
    SERVICE,
    "silent_subscriptions",
    summary="The operators' worklist: every active subscription that can deliver nothing "
    "(its partner is not in the directory or is deactivated, no rule or hand-off reaches "
    "it, or everything planned for it is blocked by the consent gate), most urgent first.",
    result=WorklistPage,
    example={"actor": "staff:ops", "limit": 50},
)
class SilentSubscriptionsArgs(WorklistArgs):
    pass


@registry.rpc(
    SERVICE,
    "access_report",
    summary="What notifications has passed on about the citizen (to partners) and who "
    "read it here, when and why (Fronten and operators; merged by the gateway).",
    example={"actor": "staff:fronten-anne", "citizen_ref": CITIZEN},
)
class AccessReportArgs(_Actor):
    citizen_ref = fields.UUID(required=True)


# -- what partners receive -------------------------------------------------------------


class _PartnerMessage(Schema):
    """Every partner message names its type and the event's message_id (the
    idempotency key, also in the Samspil-Idempotency-Key header)."""

    type = fields.String(required=True)
    message_id = fields.UUID(required=True)
    occurred_at = UTCDateTime(required=True)


class _DanishText(Schema):
    """The message in Danish, for a person at the partner to read beside the codes."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    text = fields.String(required=True, validate=validate.Length(min=1, max=6000))


class HousingPartnerStatusMessageV1(_PartnerMessage, _DanishText):
    """To one housing association, about its own tenancy: a typed status, what we ask
    of it, its tenancy reference, our case reference and dates, each code with its
    Danish words. Nothing else."""

    association_id = fields.String(required=True)
    case_ref = fields.UUID(required=True)
    tenancy_ref = fields.String(required=True, allow_none=True)
    status = Enum(PartnerStatus, required=True)
    status_text = fields.String(required=True)
    requested = fields.String(required=True, allow_none=True)
    requested_text = fields.String(required=True, allow_none=True)
    occurred_on = fields.Date(required=True)
    hold_until = fields.Date(required=True, allow_none=True)
    eviction_date = fields.Date(required=True, allow_none=True)


class BridgingDueMessageV1(_PartnerMessage, _DanishText):
    """To the jobcenter (or an education partner): a course at Fronten ends, bridging
    starts. The course reference only: who the citizen is, the partner learns from
    Fronten when they speak (CPR numbers exist only in intake)."""

    course_ref = fields.UUID(required=True)
    partner_kind = Enum(PartnerKind, required=True)
    partner_kind_text = fields.String(required=True)
    due_on = fields.Date(required=True)
    planned_end = fields.Date(required=True)


class BridgingCancelledMessageV1(_PartnerMessage, _DanishText):
    """To the partner told that bridging starts (BridgingDueMessageV1, same course_ref
    and due_on): the course ended early, so the bridging will not happen. `title` is
    "Brobygning aflyst"."""

    course_ref = fields.UUID(required=True)
    partner_kind = Enum(PartnerKind, required=True)
    partner_kind_text = fields.String(required=True)
    due_on = fields.Date(required=True)  # as announced in the bridging message
    cancelled_on = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(["course_ended_early"]))
    reason_text = fields.String(required=True)


# -- hand-offs (issue 16): requests that expect an answer --------------------------------

HANDOFF_SUBJECT_TYPES = ("course", "case", "pathway")
# The typed facts a hand-off message may carry (partners' HandoffDetailsSchema): dates
# and references only. Any other key is dropped before the message leaves.
HANDOFF_DETAIL_CODES = ("due_on", "planned_end", "referred_on", "case_ref", "tenancy_ref",
                        "hold_until_requested")


class HandoffContactMessage(Schema):
    """Whom to contact at the municipality: a work contact (a person or a team)."""

    name = fields.String(required=True)
    email = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True)


class HandoffDetailMessage(Schema):
    """One typed fact: its code, its Danish label, its value (an ISO date or a
    reference) and the value in Danish words (a date written out)."""

    code = fields.String(required=True, validate=validate.OneOf(HANDOFF_DETAIL_CODES))
    label = fields.String(required=True)
    value = fields.String(required=True)
    value_text = fields.String(required=True)


class HandoffStateOption(Schema):
    state = Enum(HandoffState, required=True)
    state_text = fields.String(required=True)


class HandoffAnswerWays(Schema):
    """Where and how the partner answers (docs/partners.md): over HTTP with its partner
    token, or on the answers queue with its own id as routing key."""

    http_method = fields.String(required=True, validate=validate.Equal("POST"))
    http_path = fields.String(required=True)  # /api/handoffs/<handoff_id>/answers
    queue_exchange = fields.String(required=True)  # partners.answers
    queue_routing_key = fields.String(required=True)  # the partner's own id
    next_states = fields.List(fields.Nested(HandoffStateOption), required=True)
    guide = fields.String(required=True)


class HandoffRequestedMessageV1(_PartnerMessage, _DanishText):
    """To the partner a hand-off names: what is asked (`ask`, Danish), by when
    (`answer_by`), whom to contact, the typed details, and how to answer. The citizen
    is not named: who it is, the partner learns from the contact person."""

    handoff_id = fields.UUID(required=True)
    kind = Enum(HandoffKind, required=True)
    kind_text = fields.String(required=True)
    partner_id = fields.String(required=True)
    state = Enum(HandoffState, required=True)
    state_text = fields.String(required=True)
    subject_type = fields.String(required=True, validate=validate.OneOf(HANDOFF_SUBJECT_TYPES))
    subject_type_text = fields.String(required=True)
    subject_ref = fields.UUID(required=True)
    requested_at = UTCDateTime(required=True)
    answer_by = fields.Date(required=True)
    answer_by_text = fields.String(required=True)
    ask = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    contact = fields.Nested(HandoffContactMessage, required=True)
    details = fields.List(fields.Nested(HandoffDetailMessage), required=True)
    answer = fields.Nested(HandoffAnswerWays, required=True)


class HandoffUpdatedMessageV1(_PartnerMessage, _DanishText):
    """To the partner that was asked: the hand-off's new state (its own answer
    confirmed, or a cancellation by the municipality), with the outcome code and the
    date a termination is held until. No reason or note text is repeated."""

    handoff_id = fields.UUID(required=True)
    kind = Enum(HandoffKind, required=True)
    kind_text = fields.String(required=True)
    partner_id = fields.String(required=True)
    subject_type = fields.String(required=True, validate=validate.OneOf(HANDOFF_SUBJECT_TYPES))
    subject_type_text = fields.String(required=True)
    subject_ref = fields.UUID(required=True)
    state = Enum(HandoffState, required=True)
    state_text = fields.String(required=True)
    previous_state = Enum(HandoffState, required=True)
    previous_state_text = fields.String(required=True)
    outcome = fields.String(required=True, allow_none=True)
    outcome_text = fields.String(required=True, allow_none=True)
    hold_until = fields.Date(required=True, allow_none=True)
    changed_at = UTCDateTime(required=True)
    answer = fields.Nested(HandoffAnswerWays, required=True)


# Event type -> the schema of what a partner receives for it.
PARTNER_MESSAGES: Mapping[str, type[Schema]] = {
    "housing.partner_status": HousingPartnerStatusMessageV1,
    "intake.bridging_due": BridgingDueMessageV1,
    "intake.bridging_cancelled": BridgingCancelledMessageV1,
    "partners.handoff_requested": HandoffRequestedMessageV1,
    "partners.handoff_updated": HandoffUpdatedMessageV1,
}
