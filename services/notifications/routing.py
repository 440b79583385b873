"""Who is told about an event: the routing rules and subscriptions applied to one event.

Pure: the service loads the rules, the partner subscriptions and the tovholder
projection and passes them in; `plan_deliveries` answers with one `PlannedDelivery`
per (recipient, channel), never two for the same pair. Whether a partner delivery
may leave is the consent gate's question (gate.decide), asked by the caller.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.vocabulary import ParticipantKind, PartnerKind
from services.notifications.gate import (
    PARTNER_RECIPIENTS,
    DeliveryChannel,
    RecipientKind,
    RoutingRule,
    rules_for,
)

MEETING_EVENTS = frozenset(
    {
        "coordination.meeting_scheduled",
        "coordination.meeting_rescheduled",
        "coordination.meeting_cancelled",
    }
)
STAFF_PARTICIPANTS = frozenset({ParticipantKind.TOVHOLDER, ParticipantKind.MEMBER})


@dataclass(frozen=True)
class PartnerSubscription:
    """A partner's subscription as the router needs it (no URL, no secret)."""

    id: int
    partner_id: str
    partner_kind: PartnerKind
    channel: DeliveryChannel
    event_types: frozenset[str]


@dataclass(frozen=True)
class PlannedDelivery:
    """One notification to record: to whom, how, and what the gate is asked about."""

    recipient_kind: RecipientKind
    recipient: str
    channel: DeliveryChannel
    information_kind: str
    purpose: str
    needs_gate: bool
    subscription_id: int | None = None

    @property
    def partner_id(self) -> str | None:
        return self.recipient.removeprefix("partner:") if self.needs_gate else None


def citizen_recipient(citizen_ref: uuid.UUID | str) -> str:
    return f"citizen:{citizen_ref}"


def partner_recipient(partner_id: str) -> str:
    return f"partner:{partner_id}"


def citizen_of(payload: Mapping[str, Any]) -> str | None:
    """The citizen an event is about, if it names one."""
    ref = payload.get("citizen_ref")
    return None if ref is None else str(ref)


def staff_addresses(payload: Mapping[str, Any], kinds: frozenset[ParticipantKind]) -> list[str]:
    """Work addresses of the meeting's participants of `kinds`, each once, in order."""
    seen: dict[str, None] = {}
    for participant in payload.get("participants", ()):
        email = participant.get("email")
        if participant["kind"] in kinds and email:
            seen.setdefault(email.strip().lower(), None)
    return list(seen)


def tovholder_of_meeting(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for participant in payload.get("participants", ()):
        if participant["kind"] == ParticipantKind.TOVHOLDER:
            return participant
    return None


def _asks_for(payload: Mapping[str, Any], addressee: str) -> bool:
    return any(str(ask["addressee"]) == addressee for ask in payload.get("asks", ()))


def plan_deliveries(
    event_type: str,
    payload: Mapping[str, Any],
    rules: Iterable[RoutingRule],
    subscriptions: Iterable[PartnerSubscription],
    *,
    tovholder_email: str | None,
    fronten_email: str,
) -> list[PlannedDelivery]:
    """Every delivery the rules ask for, for one event (payload as loaded values).

    `tovholder_email` is the citizen's tovholder as last heard from coordination;
    escalations that ask the tovholder go to Fronten's mailbox while none is known.
    """
    subscriptions = list(subscriptions)
    planned: dict[tuple[str, DeliveryChannel], PlannedDelivery] = {}

    def add(kind: RecipientKind, recipient: str, rule: RoutingRule, sub: int | None = None) -> None:
        key = (recipient, rule.channel)
        if key not in planned:  # the same event never goes twice to the same recipient
            planned[key] = PlannedDelivery(
                kind, recipient, rule.channel, rule.information_kind, rule.purpose,
                rule.needs_gate, sub,
            )

    for rule in rules_for(event_type, rules):
        kind = rule.recipient_kind
        if kind in PARTNER_RECIPIENTS:
            for sub in subscriptions:
                if _partner_receives(event_type, payload, rule, sub):
                    add(kind, partner_recipient(sub.partner_id), rule, sub.id)
        elif kind is RecipientKind.CITIZEN:
            citizen = citizen_of(payload)
            if citizen is not None:
                add(kind, citizen_recipient(citizen), rule)
        elif kind is RecipientKind.TEAM_MEMBERS:
            for address in _team_addresses(event_type, payload):
                add(kind, address, rule)
        elif kind is RecipientKind.TOVHOLDER:
            if event_type in MEETING_EVENTS:
                for address in staff_addresses(payload, frozenset({ParticipantKind.TOVHOLDER})):
                    add(kind, address, rule)
            elif event_type != "housing.case_escalated" or _asks_for(payload, "tovholder"):
                if tovholder_email:
                    add(kind, tovholder_email.strip().lower(), rule)
                else:
                    add(RecipientKind.FRONTEN, fronten_email, rule)
        elif kind is RecipientKind.FRONTEN and (
            event_type != "housing.case_escalated" or _asks_for(payload, "fronten")
        ):
            add(kind, fronten_email, rule)
    return list(planned.values())


def _team_addresses(event_type: str, payload: Mapping[str, Any]) -> list[str]:
    if event_type in MEETING_EVENTS:
        return staff_addresses(payload, STAFF_PARTICIPANTS)
    owner = payload.get("owner_email")  # coordination.action_due / action_overdue
    return [owner.strip().lower()] if owner else []


def _partner_receives(
    event_type: str, payload: Mapping[str, Any], rule: RoutingRule, sub: PartnerSubscription
) -> bool:
    if sub.partner_kind != PARTNER_RECIPIENTS[rule.recipient_kind]:
        return False
    if sub.channel != rule.channel or event_type not in sub.event_types:
        return False
    # A partner hears only about what is its own: its own tenancies, its kind of bridge.
    if "association_id" in payload:
        return str(payload["association_id"]) == sub.partner_id
    if "partner_kind" in payload:
        return PartnerKind(payload["partner_kind"]) == sub.partner_kind
    return False
