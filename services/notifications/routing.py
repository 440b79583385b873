"""Who is told about an event: the routing rules and subscriptions applied to one event.

Pure: the service loads the rules, the partner subscriptions, the tovholder
projection and the team mailboxes and passes them in; `plan_deliveries` answers with
one `PlannedDelivery` per (recipient, channel), never two for the same pair. Whether a
partner delivery may leave is the consent gate's question (gate.decide), asked by the
caller.

Urgent items go to the person responsible where the event names one (a tovholder, an
action's owner, a new team member), otherwise to the team's mailbox (ADR 0012).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.vocabulary import ParticipantKind, PartnerKind
from services.notifications.gate import (
    MAILBOX_KINDS,
    PARTNER_RECIPIENTS,
    DeliveryChannel,
    RecipientKind,
    RoutingRule,
    rules_for,
    subscribes_to,
)
from services.notifications.mailboxes import Mailboxes

HANDED_OVER = "coordination.tovholder_handed_over"
HANDOFF_ESCALATED = "partners.handoff_escalated"
# An arrears case moved on the ladder, up or down (issue 16 point 8: each its own type).
CASE_MOVED = frozenset({"housing.case_escalated", "housing.case_deescalated"})
ACTION_EVENTS = frozenset({"coordination.action_due", "coordination.action_overdue"})
HOUSING_NOTED = frozenset(
    {"coordination.housing_escalation_noted", "coordination.housing_warning_noted"}
)
MEETING_EVENTS = frozenset(
    {
        "coordination.meeting_scheduled",
        "coordination.meeting_rescheduled",
        "coordination.meeting_cancelled",
    }
)
STAFF_PARTICIPANTS = frozenset({ParticipantKind.TOVHOLDER, ParticipantKind.MEMBER})

# partners.handoff_escalated's `mailbox` and the team mailbox each one is.
ESCALATION_MAILBOXES: Mapping[str, RecipientKind] = {
    "fronten": RecipientKind.FRONTEN,
    "coordinators": RecipientKind.COORDINATORS,
    "housing": RecipientKind.HOUSING_OFFICERS,
    "social_vejledning": RecipientKind.SOCIAL_VEJLEDNING,
}


@dataclass(frozen=True)
class PartnerSubscription:
    """A partner's subscription as the router needs it (no URL, no secret)."""

    id: int
    partner_id: str
    partner_kind: PartnerKind | None  # None: a partner that receives hand-offs only
    channel: DeliveryChannel
    event_types: frozenset[str]


# (recipient, channel, subscription id or None): one delivery of an event per target.
Target = tuple[str, DeliveryChannel, int | None]


@dataclass(frozen=True)
class PlannedDelivery:
    """One notification to record: to whom, how, and what the gate is asked about."""

    recipient_kind: RecipientKind
    recipient: str
    channel: DeliveryChannel
    information_kind: str
    purpose: str | None  # the consent purpose the gate is asked about (partners)
    needs_gate: bool
    subscription_id: int | None = None

    @property
    def partner_id(self) -> str | None:
        return self.recipient.removeprefix("partner:") if self.needs_gate else None

    @property
    def key(self) -> Target:
        """What makes a delivery one: the recipient, the channel and (for a partner)
        the subscription, so a partner with two subscriptions is told on both."""
        return (self.recipient, self.channel, self.subscription_id)


def citizen_recipient(citizen_ref: uuid.UUID | str) -> str:
    return f"citizen:{citizen_ref}"


def partner_recipient(partner_id: str) -> str:
    return f"partner:{partner_id}"


def network_recipient(participant_id: str) -> str:
    """A network person invited to a meeting: the address is asked of coordination at
    send time (and only if the citizen agreed that this person is contacted)."""
    return f"network:{participant_id}"


@dataclass(frozen=True)
class KnownTovholder:
    """The citizen's tovholder as notifications last heard of it from coordination."""

    tovholder_id: str
    email: str | None


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


def _address(value: Any) -> str | None:
    return value.strip().lower() if value else None


Recipient = tuple[RecipientKind, str]


def plan_deliveries(
    event_type: str,
    payload: Mapping[str, Any],
    rules: Iterable[RoutingRule],
    subscriptions: Iterable[PartnerSubscription],
    *,
    mailboxes: Mailboxes,
    tovholder: KnownTovholder | None = None,
    only: frozenset[Target] | None = None,
) -> list[PlannedDelivery]:
    """Every delivery the rules ask for, for one event (payload as loaded values).

    `tovholder` is the citizen's tovholder as last heard from coordination. `only`,
    when given, keeps just those targets: a correction goes to the recipients of what
    it corrects, and to no one else. A partner is told once per subscription that
    covers the event: every subscription of a partner is used.
    """
    subscriptions = list(subscriptions)
    planned: dict[Target, PlannedDelivery] = {}

    def add(kind: RecipientKind, recipient: str, rule: RoutingRule, sub: int | None = None) -> None:
        delivery = PlannedDelivery(
            kind, recipient, rule.channel, rule.information_kind, rule.purpose,
            rule.needs_gate, sub,
        )
        if only is not None and delivery.key not in only:
            return
        # The same event never goes twice to the same recipient over the same target.
        planned.setdefault(delivery.key, delivery)

    for rule in rules_for(event_type, rules):
        kind = rule.recipient_kind
        if kind in PARTNER_RECIPIENTS:
            for sub in subscriptions:
                if _partner_receives(event_type, payload, rule, sub):
                    add(kind, partner_recipient(sub.partner_id), rule, sub.id)
            continue
        if kind is RecipientKind.CITIZEN:
            found: list[Recipient] = []
            citizen = citizen_of(payload)
            if citizen is not None:
                found.append((kind, citizen_recipient(citizen)))
        elif kind is RecipientKind.NETWORK:
            found = [(kind, network_recipient(p)) for p in network_participants(payload)]
        elif kind is RecipientKind.TEAM_MEMBERS:
            found = _team_members(event_type, payload, tovholder, mailboxes)
        elif kind is RecipientKind.TOVHOLDER:
            found = _tovholders(event_type, payload, tovholder, mailboxes)
        elif kind in MAILBOX_KINDS:
            found = [(kind, mailboxes.of(kind))] if _mailbox_is_told(event_type, kind, payload) \
                else []
        else:  # pragma: no cover - every RecipientKind is handled above
            raise ValueError(f"no routing for {kind}")
        for recipient_kind, recipient in found:
            add(recipient_kind, recipient, rule)
    return list(planned.values())


def network_participants(payload: Mapping[str, Any]) -> list[str]:
    """The ids of a meeting's network participants (pårørende), each once, in order."""
    seen: dict[str, None] = {}
    for participant in payload.get("participants", ()):
        if participant["kind"] == ParticipantKind.NETWORK:
            seen.setdefault(str(participant["participant_id"]), None)
    return list(seen)


def _tovholder_address(
    payload: Mapping[str, Any], known: KnownTovholder | None
) -> str | None:
    """The tovholder's work address: from the event, else from what we last heard (if
    it is the same tovholder the event names, or the event names none)."""
    if payload.get("tovholder_email"):
        return _address(payload["tovholder_email"])
    if known is None or not known.email:
        return None
    named = payload.get("tovholder_id")
    if named is not None and str(named) != known.tovholder_id:
        return None
    return _address(known.email)


def _team_members(
    event_type: str, payload: Mapping[str, Any], known: KnownTovholder | None,
    mailboxes: Mailboxes,
) -> list[Recipient]:
    kind = RecipientKind.TEAM_MEMBERS
    if event_type in MEETING_EVENTS:
        return [(kind, a) for a in staff_addresses(payload, STAFF_PARTICIPANTS)]
    if event_type in ACTION_EVENTS:
        # The action's owner; if the owner has no work address, the tovholder; if the
        # pathway has none either, the coordinators (someone must pick it up).
        owner = _address(payload.get("owner_email")) or _tovholder_address(payload, known)
        return [(kind, owner)] if owner else [(RecipientKind.COORDINATORS,
                                               mailboxes.coordinators)]
    if event_type == "coordination.member_added":
        member = _address(payload.get("email"))
        return [(kind, member)] if member else [(RecipientKind.COORDINATORS,
                                                 mailboxes.coordinators)]
    if event_type == HANDOFF_ESCALATED:
        # The person responsible for the subject, else the team mailbox partners named.
        responsible = _address(payload.get("responsible_email"))
        if responsible:
            return [(kind, responsible)]
        mailbox = ESCALATION_MAILBOXES[str(payload["mailbox"])]
        return [(mailbox, mailboxes.of(mailbox))]
    if event_type == HANDED_OVER:
        # The team hears who its tovholder is now; the new tovholder has a mail of its own.
        new = {str(payload["new_tovholder_id"]), _address(payload.get("new_tovholder_email"))}
        team: dict[str, None] = {}
        for member in payload.get("team") or ():
            email = _address(member.get("email"))
            if email and str(member["member_id"]) not in new and email not in new:
                team.setdefault(email, None)
        return [(kind, email) for email in team]
    owner = _address(payload.get("owner_email"))  # a rule an operator added
    return [(kind, owner)] if owner else []


def _tovholders(
    event_type: str, payload: Mapping[str, Any], known: KnownTovholder | None,
    mailboxes: Mailboxes,
) -> list[Recipient]:
    kind = RecipientKind.TOVHOLDER
    if event_type in MEETING_EVENTS:
        return [(kind, a) for a in staff_addresses(payload, frozenset({ParticipantKind.TOVHOLDER}))]
    if event_type == HANDED_OVER:
        new = _address(payload.get("new_tovholder_email"))
        return [(kind, new)] if new else [(RecipientKind.COORDINATORS, mailboxes.coordinators)]
    if event_type in HOUSING_NOTED:
        # None while the pathway waits for a tovholder: the coordinators must appoint one.
        address = None if payload.get("tovholder_id") is None else \
            _tovholder_address(payload, known)
        return [(kind, address)] if address else [(RecipientKind.COORDINATORS,
                                                   mailboxes.coordinators)]
    if event_type in CASE_MOVED:
        if not _asks_for(payload, "tovholder"):
            return []
        if known is not None:
            # coordination knows the citizen's pathway and tells its tovholder itself
            # (coordination.housing_escalation_noted): one mail, not two.
            return []
        return [(RecipientKind.FRONTEN, mailboxes.fronten)]
    address = _tovholder_address(payload, known)
    return [(kind, address)] if address else [(RecipientKind.FRONTEN, mailboxes.fronten)]


def _mailbox_is_told(event_type: str, kind: RecipientKind, payload: Mapping[str, Any]) -> bool:
    if event_type in CASE_MOVED:
        return kind is not RecipientKind.FRONTEN or _asks_for(payload, "fronten")
    if event_type == "coordination.pathway_opened":
        # A pathway opened with its tovholder needs no one to pick it up.
        return payload.get("tovholder_id") is None
    return True


def _partner_receives(
    event_type: str, payload: Mapping[str, Any], rule: RoutingRule, sub: PartnerSubscription
) -> bool:
    if sub.partner_kind != PARTNER_RECIPIENTS[rule.recipient_kind]:
        return False
    if sub.channel != rule.channel or not subscribes_to(sub.event_types, event_type):
        return False
    # A partner hears only about what is its own: its own tenancies, its kind of bridge.
    if "association_id" in payload:
        return str(payload["association_id"]) == sub.partner_id
    if "partner_kind" in payload:
        return PartnerKind(payload["partner_kind"]) == sub.partner_kind
    return False
