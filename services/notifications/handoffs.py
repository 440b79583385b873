"""Hand-offs (issue 16): who is told of a request that expects an answer, through which
gate, and what the partner reads.

A hand-off (partners.handoff_requested) names one partner. It is not routed by rules:
- it goes out on EVERY active subscription of that partner (webhook or partner queue),
  or, when the partner has none, by e-mail to the contact in the partner directory
  (the address is asked of partners at send time);
- through the consent gate of its kind (`GATES`): bridging and offer referrals need the
  citizen's consent to that partner for that purpose; a request to hold a termination
  passes on the tenant's consent (purpose keep_home) or on a legal basis, and the
  ledger records which;
- a § 85 referral goes to Social Vejledning, an internal unit: to its team mailbox,
  without a gate.
Its updates (partners.handoff_updated) go where the request went: to the partner's
systems every state (its own answers confirmed), by e-mail only a cancellation.

What a partner reads is minimal and Danish beside every code: the title, what is asked
and by when, whom to contact, typed details (dates and references, an allow-list) and
how to answer. Never the citizen's name, CPR number or free text about the citizen.

Pure: the caller loads subscriptions and passes them in.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.notifications import HANDOFF_DETAIL_CODES
from contracts.vocabulary import ConsentPurpose, HandoffKind, HandoffState
from services.notifications.gate import DeliveryChannel, RecipientKind
from services.notifications.mailboxes import Mailboxes
from services.notifications.routing import PartnerSubscription, PlannedDelivery, partner_recipient
from services.notifications.templates import format_date

REQUESTED = "partners.handoff_requested"
UPDATED = "partners.handoff_updated"
ESCALATED = "partners.handoff_escalated"

# Where a partner answers (docs/partners.md, written by the partners service).
ANSWERS_EXCHANGE = "partners.answers"
PARTNER_GUIDE = "docs/partners.md"


def answer_path(handoff_id: uuid.UUID | str) -> str:
    return f"/api/handoffs/{handoff_id}/answers"


# -- the Danish words beside the codes ----------------------------------------------------

KIND_TEXTS: Mapping[HandoffKind, str] = {
    HandoffKind.BRIDGING_EMPLOYMENT: "Brobygning til beskæftigelse",
    HandoffKind.BRIDGING_EDUCATION: "Brobygning til uddannelse",
    HandoffKind.BRIDGING_HEALTH: "Brobygning til sundhed",
    HandoffKind.REFERRAL_85: "Henvisning til vurdering efter serviceloven § 85",
    HandoffKind.OFFER_REFERRAL: "Henvisning til et tilbud",
    HandoffKind.HOLD_TERMINATION: "Anmodning om at vente med at ophæve et lejemål",
}

STATE_TEXTS: Mapping[HandoffState, str] = {
    HandoffState.REQUESTED: "Sendt, venter på jeres svar",
    HandoffState.RECEIVED: "Modtaget",
    HandoffState.ACCEPTED: "Accepteret",
    HandoffState.DECLINED: "Afvist",
    HandoffState.IN_PROGRESS: "I gang",
    HandoffState.COMPLETED: "Afsluttet",
    HandoffState.CANCELLED: "Annulleret af kommunen",
}

SUBJECT_TEXTS: Mapping[str, str] = {
    "course": "Forløb i Fronten",
    "case": "Huslejesag",
    "pathway": "Sammenhængende borgerforløb",
}

# The outcomes partners record on `completed` (partners' vocabulary); an outcome not
# listed here reads as OTHER_OUTCOME.
OUTCOME_TEXTS: Mapping[str, str] = {
    "started": "Borgeren er startet",
    "not_started": "Borgeren startede ikke",
    "enrolled": "Borgeren er optaget",
    "not_enrolled": "Borgeren blev ikke optaget",
    "withdrawn": "Trukket tilbage",
    "granted": "Støtte efter § 85 er bevilget",
    "refused": "Støtte efter § 85 er afslået",
    "held": "Boligforeningen ventede, og lejemålet blev ikke ophævet",
    "paid": "Lejeren har betalt restancen",
    "terminated": "Lejemålet er ophævet",
}
OTHER_OUTCOME = "Afsluttet med et andet udfald"

DETAIL_LABELS: Mapping[str, str] = {
    "due_on": "Brobygningen begynder senest",
    "planned_end": "Forløbet i Fronten slutter efter planen",
    "referred_on": "Henvist",
    "case_ref": "Huslejesagens reference",
    "tenancy_ref": "Lejemål",
    "hold_until_requested": "Vent med at ophæve lejemålet til og med",
}
if set(DETAIL_LABELS) != set(HANDOFF_DETAIL_CODES):  # checked at import, not at a partner
    raise ValueError("every hand-off detail code needs a Danish label, and no other")

# Which states may follow which (partners' lifecycle, like FHIR Task's); a partner
# answers with any of them except `cancelled`, which only the municipality sets.
NEXT_STATES: Mapping[HandoffState, tuple[HandoffState, ...]] = {
    HandoffState.REQUESTED: (HandoffState.RECEIVED, HandoffState.ACCEPTED,
                             HandoffState.DECLINED),
    HandoffState.RECEIVED: (HandoffState.ACCEPTED, HandoffState.DECLINED),
    HandoffState.ACCEPTED: (HandoffState.IN_PROGRESS, HandoffState.COMPLETED),
    HandoffState.IN_PROGRESS: (HandoffState.COMPLETED,),
    HandoffState.DECLINED: (),
    HandoffState.COMPLETED: (),
    HandoffState.CANCELLED: (),
}


def outcome_text(outcome: str | None) -> str | None:
    return None if outcome is None else OUTCOME_TEXTS.get(outcome, OTHER_OUTCOME)


# -- the gate of each kind ------------------------------------------------------------------


@dataclass(frozen=True)
class HandoffGate:
    """What the consent gate is asked for a hand-off of one kind: a consent (or legal
    basis) naming the partner, this kind of information and this purpose."""

    information_kind: str
    purpose: ConsentPurpose


GATES: Mapping[HandoffKind, HandoffGate | None] = {
    HandoffKind.BRIDGING_EMPLOYMENT: HandoffGate("bridging_status",
                                                 ConsentPurpose.BRIDGING_EMPLOYMENT),
    HandoffKind.BRIDGING_EDUCATION: HandoffGate("bridging_status",
                                                ConsentPurpose.BRIDGING_EDUCATION),
    HandoffKind.BRIDGING_HEALTH: HandoffGate("bridging_status", ConsentPurpose.BRIDGING_HEALTH),
    HandoffKind.OFFER_REFERRAL: HandoffGate("contact_status", ConsentPurpose.OFFER_REFERRAL),
    # The tenant's consent to the association, or the legal basis recorded for it
    # (retssikkerhedsloven § 5 a, almenlejeloven § 90): whichever applies.
    HandoffKind.HOLD_TERMINATION: HandoffGate("housing_case_status", ConsentPurpose.KEEP_HOME),
    # Social Vejledning is the municipality's own authority unit: no disclosure.
    HandoffKind.REFERRAL_85: None,
}
INTERNAL_INFORMATION_KIND = "course_status"


def gate_of(kind: HandoffKind | str) -> HandoffGate | None:
    return GATES[HandoffKind(kind)]


def delivered_to_subscriptions(kind: HandoffKind | str) -> bool:
    """Does a hand-off of this kind go to the partner's subscriptions (and not to a
    team mailbox of the municipality)?"""
    return gate_of(kind) is not None


# -- who is told ----------------------------------------------------------------------------


def plan_request(
    payload: Mapping[str, Any],
    subscriptions: Iterable[PartnerSubscription],
    *,
    mailboxes: Mailboxes,
) -> list[PlannedDelivery]:
    """The deliveries of one hand-off request (payload as loaded values):
    one per active subscription of the named partner, else one e-mail to its directory
    contact; a § 85 referral to Social Vejledning's mailbox."""
    kind = HandoffKind(payload["kind"])
    gate = gate_of(kind)
    if gate is None:
        return [PlannedDelivery(
            RecipientKind.SOCIAL_VEJLEDNING, mailboxes.social_vejledning,
            DeliveryChannel.EMAIL, INTERNAL_INFORMATION_KIND, None, needs_gate=False)]
    partner = str(payload["partner_id"])
    recipient = partner_recipient(partner)
    own = sorted((s for s in subscriptions if s.partner_id == partner), key=lambda s: s.id)
    if not own:
        return [PlannedDelivery(RecipientKind.PARTNER, recipient, DeliveryChannel.EMAIL,
                                gate.information_kind, gate.purpose.value, needs_gate=True)]
    return [
        PlannedDelivery(RecipientKind.PARTNER, recipient, s.channel, gate.information_kind,
                        gate.purpose.value, needs_gate=True, subscription_id=s.id)
        for s in own
    ]


@dataclass(frozen=True)
class Told:
    """One delivery of a hand-off's request, as the ledger has it."""

    recipient_kind: RecipientKind
    recipient: str
    channel: DeliveryChannel
    subscription_id: int | None
    information_kind: str
    purpose: str | None


def plan_update(
    payload: Mapping[str, Any], told: Iterable[Told], active_subscriptions: Iterable[int]
) -> list[PlannedDelivery]:
    """The deliveries of a hand-off's update: where its request went. A partner's
    systems hear every state (over a subscription still active); a person reading
    mail hears only a cancellation (an answer given in Samspil needs no receipt)."""
    state = HandoffState(payload["state"])
    active = set(active_subscriptions)
    planned = []
    for t in told:
        if t.channel is DeliveryChannel.EMAIL:
            if state is not HandoffState.CANCELLED:
                continue
        elif t.subscription_id not in active:
            continue
        planned.append(PlannedDelivery(
            t.recipient_kind, t.recipient, t.channel, t.information_kind, t.purpose,
            needs_gate=t.recipient_kind is RecipientKind.PARTNER,
            subscription_id=t.subscription_id))
    return planned


# -- what the partner reads -----------------------------------------------------------------


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    return None


def details(values: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The hand-off's typed facts, each with its Danish label, in a fixed order. Only
    the allow-listed codes pass, and only as a date or a reference: a free-text value
    never leaves, whatever a producer put there."""
    out = []
    for code in HANDOFF_DETAIL_CODES:
        value = (values or {}).get(code)
        if value is None:
            continue
        day = _as_date(value)
        if day is not None:
            out.append({"code": code, "label": DETAIL_LABELS[code],
                        "value": day.isoformat(), "value_text": format_date(day)})
        elif isinstance(value, uuid.UUID):
            out.append({"code": code, "label": DETAIL_LABELS[code], "value": str(value),
                        "value_text": str(value)})
        elif isinstance(value, str) and _is_reference(value):
            out.append({"code": code, "label": DETAIL_LABELS[code], "value": value,
                        "value_text": value})
    return out


def _is_reference(value: str) -> bool:
    """A reference such as a tenancy number ("12-0304-2"): short, no spaces."""
    return 0 < len(value) <= 64 and all(c.isalnum() or c in "._-/" for c in value)


def details_text(values: Mapping[str, Any] | None) -> str:
    lines = [f"{d['label']}: {d['value_text']}" for d in details(values)]
    return "\n".join(lines) or "Der er ingen yderligere oplysninger."


def contact_text(contact: Mapping[str, Any]) -> str:
    parts = [str(contact["name"])]
    if contact.get("phone"):
        parts.append(f"telefon {contact['phone']}")
    if contact.get("email"):
        parts.append(f"mail {contact['email']}")
    return ", ".join(parts)


def answer_ways(
    handoff_id: uuid.UUID | str, partner_id: str, state: HandoffState | str
) -> dict[str, Any]:
    """Where and how the partner answers, and what it may answer next."""
    return {
        "http_method": "POST",
        "http_path": answer_path(handoff_id),
        "queue_exchange": ANSWERS_EXCHANGE,
        "queue_routing_key": partner_id,
        "next_states": [{"state": s.value, "state_text": STATE_TEXTS[s]}
                        for s in NEXT_STATES[HandoffState(state)]],
        "guide": PARTNER_GUIDE,
    }


def answer_text(handoff_id: uuid.UUID | str, partner_id: str, base_url: str = "") -> str:
    """How to answer, for a person reading the mail."""
    return (
        "Svar med jeres partnernøgle over Samspils API: "
        f"POST {base_url}{answer_path(handoff_id)}\n"
        f"Et system kan også svare på køen {ANSWERS_EXCHANGE} med routing key "
        f"{partner_id}.\n"
        "Mulige svar: modtaget, accepteret, eller afvist med en begrundelse; senere i gang "
        "og afsluttet med et udfald. Vejledningen til jeres udviklere: " + PARTNER_GUIDE
        + ".\nHar I ingen partnernøgle, så giv kontaktpersonen besked."
    )


def request_message(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The hand-off fields of the partner's message (HandoffRequestedMessageV1), from
    the loaded payload: codes with their Danish text, no citizen reference."""
    kind = HandoffKind(payload["kind"])
    contact = payload["contact"]
    return {
        "handoff_id": str(payload["handoff_id"]),
        "kind": kind.value,
        "kind_text": KIND_TEXTS[kind],
        "partner_id": str(payload["partner_id"]),
        "state": HandoffState.REQUESTED.value,
        "state_text": STATE_TEXTS[HandoffState.REQUESTED],
        "subject_type": str(payload["subject_type"]),
        "subject_type_text": SUBJECT_TEXTS[str(payload["subject_type"])],
        "subject_ref": str(payload["subject_id"]),
        "requested_at": payload["requested_at"].astimezone(dt.UTC).isoformat(),
        "answer_by": payload["answer_by"].isoformat(),
        "answer_by_text": format_date(payload["answer_by"]),
        "ask": str(payload["ask"]),
        "contact": {"name": str(contact["name"]), "email": contact.get("email"),
                    "phone": contact.get("phone")},
        "details": details(payload.get("details")),
        "answer": answer_ways(payload["handoff_id"], str(payload["partner_id"]),
                              HandoffState.REQUESTED),
    }


def update_message(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The hand-off fields of the partner's update (HandoffUpdatedMessageV1). The
    reason and the note are left out: free text stays in Samspil."""
    kind = HandoffKind(payload["kind"])
    state = HandoffState(payload["state"])
    previous = HandoffState(payload["previous_state"])
    hold_until = payload.get("hold_until")
    return {
        "handoff_id": str(payload["handoff_id"]),
        "kind": kind.value,
        "kind_text": KIND_TEXTS[kind],
        "partner_id": str(payload["partner_id"]),
        "subject_type": str(payload["subject_type"]),
        "subject_type_text": SUBJECT_TEXTS[str(payload["subject_type"])],
        "subject_ref": str(payload["subject_id"]),
        "state": state.value,
        "state_text": STATE_TEXTS[state],
        "previous_state": previous.value,
        "previous_state_text": STATE_TEXTS[previous],
        "outcome": payload.get("outcome"),
        "outcome_text": outcome_text(payload.get("outcome")),
        "hold_until": hold_until.isoformat() if hold_until else None,
        "changed_at": payload["at"].astimezone(dt.UTC).isoformat(),
        "answer": answer_ways(payload["handoff_id"], str(payload["partner_id"]), state),
    }


def update_facts(payload: Mapping[str, Any]) -> str:
    """The update's facts in Danish, one per line, for a mail."""
    lines = [f"Status: {STATE_TEXTS[HandoffState(payload['state'])]}"]
    if payload.get("outcome"):
        lines.append(f"Udfald: {outcome_text(payload['outcome'])}")
    if payload.get("hold_until"):
        lines.append(f"Ophævelsen venter til og med: {format_date(payload['hold_until'])}")
    return "\n".join(lines)
