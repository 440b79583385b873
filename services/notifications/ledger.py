"""The ledger's rows and the data the pure modules decide on, loaded from the database.

Shared by the event use cases (handlers), the sweep (delivery) and the operators'
use cases (operators): the routing rules, the partner subscriptions, the consent
projection, the legal bases, and the mapping between a delivery row and its state.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.vocabulary import PartnerKind
from services.notifications.gate import (
    ConsentGrant,
    DeliveryChannel,
    LegalBasis,
    RecipientKind,
    RoutingRule,
)
from services.notifications.models import (
    ConsentRow,
    DeliveryRow,
    LegalBasisRow,
    RoutingRuleRow,
    Subscription,
)
from services.notifications.retry import Delivery, DeliveryStatus, FailureKind
from services.notifications.routing import PartnerSubscription

PARTNER_PREFIX = "partner:"


def partner_of(recipient: str) -> str:
    """The partner id of a ledger recipient ``partner:<id>``."""
    return recipient.removeprefix(PARTNER_PREFIX)


def load_rules(session: Session, event_type: str | None = None) -> list[RoutingRule]:
    query = select(RoutingRuleRow).order_by(RoutingRuleRow.id)
    if event_type:
        query = query.where(RoutingRuleRow.event_type == event_type)
    return [
        RoutingRule(
            r.event_type, RecipientKind(r.recipient_kind), DeliveryChannel(r.channel),
            r.information_kind, r.purpose,
        )
        for r in session.scalars(query)
    ]


def subscription_of(r: Subscription) -> PartnerSubscription:
    return PartnerSubscription(
        r.id, r.partner_id, PartnerKind(r.partner_kind) if r.partner_kind else None,
        DeliveryChannel(r.channel), frozenset(r.event_types),
    )


def load_subscriptions(session: Session, partner_id: str | None = None
                       ) -> list[PartnerSubscription]:
    """The active subscriptions (of one partner, when named), oldest first."""
    query = select(Subscription).where(Subscription.active.is_(True))
    if partner_id is not None:
        query = query.where(Subscription.partner_id == partner_id)
    return [subscription_of(r) for r in session.scalars(query.order_by(Subscription.id))]


def load_grants(session: Session, citizen_ref: str | None) -> list[ConsentGrant]:
    if citizen_ref is None:
        return []
    rows = session.scalars(
        select(ConsentRow).where(
            ConsentRow.citizen_ref == citizen_ref, ConsentRow.given_at.is_not(None)
        )
    )
    return [
        ConsentGrant(
            r.consent_id, r.citizen_ref, r.recipient, frozenset(r.information_kinds),
            r.purpose or "", r.given_at, r.withdrawn_at,  # type: ignore[arg-type]
        )
        for r in rows
    ]


def load_legal_bases(session: Session, recipient: str) -> list[LegalBasis]:
    rows = session.scalars(select(LegalBasisRow).where(LegalBasisRow.recipient == recipient))
    return [LegalBasis(r.recipient, r.information_kind, r.purpose, r.reference) for r in rows]


def state_of(row: DeliveryRow) -> Delivery:
    return Delivery(
        status=DeliveryStatus(row.status), attempts=row.attempts, last_error=row.last_error,
        next_attempt_at=row.next_attempt_at,
        failure_kind=FailureKind(row.failure_kind) if row.failure_kind else None,
        last_attempt_at=row.last_attempt_at, failing_since=row.failing_since,
    )


def save_state(row: DeliveryRow, state: Delivery) -> None:
    row.status = state.status.value
    row.attempts = state.attempts
    row.last_error = state.last_error
    row.next_attempt_at = state.next_attempt_at
    row.failure_kind = state.failure_kind.value if state.failure_kind else None
    row.last_attempt_at = state.last_attempt_at
    row.failing_since = state.failing_since


def delivery_dict(r: DeliveryRow) -> dict[str, Any]:
    def iso(value: dt.datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "delivery_id": r.id, "message_id": r.message_id, "event_type": r.event_type,
        "correlation_id": r.correlation_id, "recipient_kind": r.recipient_kind,
        "recipient": r.recipient, "channel": r.channel,
        "subscription_id": r.subscription_id, "status": r.status,
        "attempts": r.attempts, "failure_kind": r.failure_kind, "last_error": r.last_error,
        "basis": r.basis, "created_at": iso(r.created_at), "sent_at": iso(r.sent_at),
        "last_attempt_at": iso(r.last_attempt_at), "next_attempt_at": iso(r.next_attempt_at),
        "failing_since": iso(r.failing_since),
        # The case or hand-off it is about: deliveries go in order per subject and target.
        "subject_ref": r.subject_ref,
    }
