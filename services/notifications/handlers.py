"""notifications' use cases: record what must be delivered, deliver it, keep the ledger.

Two steps, never one transaction around network I/O:

1. `record_event` (inside the inbox handler's unit of work): apply the routing rules
   and subscriptions, ask the consent gate for partner deliveries, and write one
   ledger row per (event, recipient, channel): `pending`, or `blocked` with the gate's
   reason. It commits with the inbox row, so an event is planned exactly once.
2. `deliver` (from the sweep): claim a due row with a short lease (commit), ask the
   gate again, fetch what the text needs from its owner (the citizen's contact from
   intake, a network person's from coordination), send (no transaction open), then
   record the outcome (commit): `sent`, `retrying` with backoff, `failed`, or
   `blocked`. A crash between sending and recording re-sends after the lease: webhooks
   and mails carry the message_id as idempotency key for exactly that case.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from contracts import registry
from contracts.envelope import Envelope, parse_envelope
from contracts.vocabulary import ParticipantKind, PartnerKind
from services.common.db import Store, UnitOfWork
from services.common.errors import Conflict, DomainError, NotFound
from services.notifications import content, gate
from services.notifications.gate import (
    ConsentGrant,
    DeliveryChannel,
    LegalBasis,
    RecipientKind,
    RoutingRule,
)
from services.notifications.mailboxes import Mailboxes
from services.notifications.models import (
    BridgingAnnouncement,
    ConsentRow,
    DeliveryRow,
    LegalBasisRow,
    ReceivedEvent,
    RoutingRuleRow,
    Subscription,
    TovholderContact,
)
from services.notifications.retry import (
    BackoffPolicy,
    Delivery,
    DeliveryStatus,
    FailureKind,
    Rng,
    classify_exception,
)
from services.notifications.routing import KnownTovholder, PartnerSubscription, plan_deliveries

log = logging.getLogger(__name__)

ACTOR = "service:notifications"


# -- loading the data the pure modules decide on ----------------------------------------


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


def load_subscriptions(session: Session) -> list[PartnerSubscription]:
    rows = session.scalars(select(Subscription).where(Subscription.active.is_(True)))
    return [
        PartnerSubscription(
            r.id, r.partner_id, PartnerKind(r.partner_kind), DeliveryChannel(r.channel),
            frozenset(r.event_types),
        )
        for r in rows
    ]


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


# -- consuming events ---------------------------------------------------------------------


def record_event(
    uow: UnitOfWork,
    event: Envelope,
    settings: Any,
    *,
    only: frozenset[tuple[str, DeliveryChannel]] | None = None,
) -> int:
    """Plan the deliveries of one event into the ledger; returns how many rows.

    `settings` is the service's delivery settings (`Channels`: its `mailboxes`).
    `only`, when given, limits the plan to those (recipient, channel) pairs."""
    mailboxes: Mailboxes = settings.mailboxes
    session = uow.session
    now = uow.clock.now()
    payload = event.payload
    _remember_tovholder(session, event)
    rules = load_rules(session, event.type)
    if not rules:
        return 0
    citizen = None if payload.get("citizen_ref") is None else str(payload["citizen_ref"])
    known = session.get(TovholderContact, citizen) if citizen else None
    planned = plan_deliveries(
        event.type,
        payload,
        rules,
        load_subscriptions(session),
        mailboxes=mailboxes,
        tovholder=KnownTovholder(known.tovholder_id, known.email) if known else None,
        only=only,
    )
    if not planned:
        return 0
    session.add(
        ReceivedEvent(
            message_id=str(event.message_id),
            type=event.type,
            schema_version=event.schema_version,
            correlation_id=event.correlation_id,
            envelope=_wire(event),
            received_at=now,
        )
    )
    session.flush()
    grants = load_grants(session, citizen)
    for item in planned:
        row = DeliveryRow(
            message_id=str(event.message_id),
            event_type=event.type,
            correlation_id=event.correlation_id,
            recipient_kind=item.recipient_kind.value,
            recipient=item.recipient,
            channel=item.channel.value,
            citizen_ref=citizen,
            subscription_id=item.subscription_id,
            information_kind=item.information_kind,
            purpose=item.purpose,
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        if item.needs_gate:
            assert item.partner_id is not None
            decision = gate.decide(
                citizen_ref=citizen or "",
                recipient=item.partner_id,
                information_kind=item.information_kind,
                purpose=item.purpose,
                at=now,
                grants=grants,
                legal_bases=load_legal_bases(session, item.partner_id),
            )
            if decision.allowed:
                row.basis = decision.basis
            else:
                row.status = DeliveryStatus.BLOCKED.value
                row.last_error = decision.reason.value
                row.last_attempt_at = now
                row.next_attempt_at = None
                log.info(
                    "delivery of %s to %s blocked: %s", event.type, item.recipient,
                    decision.reason.value,
                )
        session.add(row)
    return len(planned)


# -- bridging and its cancellation ---------------------------------------------------------


def _announcement(session: Session, payload: Any) -> BridgingAnnouncement:
    key = (str(payload["course_id"]), PartnerKind(payload["partner_kind"]).value,
           payload["due_on"])
    row = session.get(BridgingAnnouncement, key)
    if row is None:
        row = BridgingAnnouncement(course_id=key[0], partner_kind=key[1], due_on=key[2])
        session.add(row)
    return row


def bridging_due(uow: UnitOfWork, event: Envelope, settings: Any) -> int:
    """Tell the partner that bridging starts, unless intake has already cancelled it
    (the two events travel on different queues and may arrive in either order)."""
    row = _announcement(uow.session, event.payload)
    row.announced_message_id = str(event.message_id)
    if row.cancelled_message_id is not None:
        log.info("bridging for course %s was cancelled before it was announced: not sent",
                 row.course_id)
        return 0
    return record_event(uow, event, settings)


def bridging_cancelled(uow: UnitOfWork, event: Envelope, settings: Any) -> int:
    """Tell the partners who were told that bridging starts that it is cancelled: the
    same routing and consent gate, limited to the recipients of the announcement (a
    partner never told is not told of a cancellation either)."""
    session = uow.session
    row = _announcement(session, event.payload)
    row.cancelled_message_id = str(event.message_id)
    if row.announced_message_id is None:
        return 0  # nothing announced yet; the announcement will not be sent either
    told = session.execute(
        select(DeliveryRow.recipient, DeliveryRow.channel).where(
            DeliveryRow.message_id == row.announced_message_id,
            DeliveryRow.status != DeliveryStatus.BLOCKED.value,
        )
    ).all()
    if not told:
        return 0
    return record_event(uow, event, settings,
                        only=frozenset((r, DeliveryChannel(c)) for r, c in told))


def _wire(event: Envelope) -> dict[str, Any]:
    """The envelope as it travelled (the payload re-serialised from loaded values)."""
    schema = registry.contract(event.type, event.schema_version).schema()
    wire = dataclasses.replace(event, payload=schema.dump(event.payload)).to_wire()
    return wire


def _remember_tovholder(session: Session, event: Envelope) -> None:
    """Keep the citizen's tovholder (for escalations about the citizen's home), and
    forget it when the pathway closes."""
    payload = event.payload
    citizen = payload.get("citizen_ref")
    if citizen is None:
        return
    if event.type == "coordination.pathway_closed":
        known = session.get(TovholderContact, str(citizen))
        if known is not None and known.as_of <= event.occurred_at:
            session.delete(known)
        return
    if event.type == "coordination.tovholder_handed_over":
        found = (payload["new_tovholder_id"], payload["new_tovholder_name"],
                 payload["new_tovholder_email"])
    elif event.type in ("coordination.meeting_scheduled", "coordination.meeting_rescheduled"):
        people = [p for p in payload["participants"] if p["kind"] == ParticipantKind.TOVHOLDER]
        if not people:
            return
        found = (people[0]["participant_id"], people[0]["name"], people[0]["email"])
    else:
        return
    row = session.get(TovholderContact, str(citizen))
    if row is not None and row.as_of > event.occurred_at:
        return  # an older event arriving late does not undo a newer hand-over
    if row is None:
        row = TovholderContact(citizen_ref=str(citizen))
        session.add(row)
    row.tovholder_id, row.name, row.email = found
    row.as_of = event.occurred_at


def consent_given(uow: UnitOfWork, event: Envelope, settings: Any = None) -> None:
    p = event.payload
    row = uow.session.get(ConsentRow, str(p["consent_id"]))
    if row is None:
        row = ConsentRow(consent_id=str(p["consent_id"]))
        uow.session.add(row)
    row.citizen_ref = str(p["citizen_ref"])
    row.recipient = p["recipient"]
    row.information_kinds = list(p["information_kinds"])
    row.purpose = p["purpose"]
    row.given_at = p["given_at"]
    # withdrawn_at is kept: a withdrawal that arrived first still stands.


def consent_withdrawn(uow: UnitOfWork, event: Envelope, settings: Any = None) -> None:
    p = event.payload
    row = uow.session.get(ConsentRow, str(p["consent_id"]))
    if row is None:
        row = ConsentRow(
            consent_id=str(p["consent_id"]), citizen_ref=str(p["citizen_ref"]),
            recipient=p["recipient"], information_kinds=[], purpose=None, given_at=None,
        )
        uow.session.add(row)
    if row.withdrawn_at is None or p["withdrawn_at"] < row.withdrawn_at:
        row.withdrawn_at = p["withdrawn_at"]


# -- operators: routing rules, subscriptions, legal bases -----------------------------------


def list_routing_rules(store: Store, event_type: str | None) -> list[dict[str, Any]]:
    with store.read() as session:
        query = select(RoutingRuleRow).order_by(RoutingRuleRow.id)
        if event_type:
            query = query.where(RoutingRuleRow.event_type == event_type)
        return [_rule_dict(r) for r in session.scalars(query)]


def _rule_dict(r: RoutingRuleRow) -> dict[str, Any]:
    return {"rule_id": r.id, "event_type": r.event_type, "recipient_kind": r.recipient_kind,
            "channel": r.channel, "information_kind": r.information_kind, "purpose": r.purpose,
            "created_by": r.created_by}


def add_routing_rule(uow: UnitOfWork, *, actor: str, **values: str) -> dict[str, Any]:
    rule = gate.routing_rule(
        values["event_type"], values["recipient_kind"], values["channel"],
        values["information_kind"], values["purpose"],
    )
    _known_event_type(rule.event_type, "event_type")
    if rule.channel in (DeliveryChannel.EMAIL, DeliveryChannel.SMS):
        kind = content.template_kind(rule.event_type, rule.recipient_kind)
        if not content.templates.has_template(rule.event_type, kind):
            raise DomainError("event_type", "template.not_found",
                              f"No text for {rule.event_type} to {rule.recipient_kind}.")
    existing = uow.session.scalars(
        select(RoutingRuleRow).where(
            RoutingRuleRow.event_type == rule.event_type,
            RoutingRuleRow.recipient_kind == rule.recipient_kind.value,
            RoutingRuleRow.channel == rule.channel.value,
        )
    ).first()
    if existing is not None:
        raise Conflict("event_type", "routing.rule_exists",
                       f"Rule {existing.id} already does this.")
    if rule.recipient_kind in gate.PERSONAL_RECIPIENTS:
        # One rule per event for the citizen (and for network persons): their own
        # choice or what they have decides how it travels, so a second rule would only
        # send it twice.
        other = uow.session.scalars(
            select(RoutingRuleRow).where(
                RoutingRuleRow.event_type == rule.event_type,
                RoutingRuleRow.recipient_kind == rule.recipient_kind.value,
            )
        ).first()
        if other is not None:
            rule_name = "routing.citizen_rule_exists" \
                if rule.recipient_kind is RecipientKind.CITIZEN else "routing.network_rule_exists"
            raise Conflict("recipient_kind", rule_name,
                           f"Rule {other.id} already tells the {rule.recipient_kind} about this.")
    row = RoutingRuleRow(
        event_type=rule.event_type, recipient_kind=rule.recipient_kind.value,
        channel=rule.channel.value, information_kind=rule.information_kind,
        purpose=rule.purpose, created_at=uow.clock.now(), created_by=actor,
    )
    uow.session.add(row)
    uow.session.flush()
    result = _rule_dict(row)
    uow.commit()
    return result


def remove_routing_rule(uow: UnitOfWork, *, rule_id: int) -> dict[str, Any]:
    result = uow.session.execute(delete(RoutingRuleRow).where(RoutingRuleRow.id == rule_id))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound("rule_id", f"No routing rule {rule_id}.")
    uow.commit()
    return {"rule_id": rule_id, "removed": True}


def _known_event_type(event_type: str, field: str) -> None:
    try:
        registry.latest_version(event_type)
    except Exception:
        raise DomainError(field, "routing.unknown_event_type",
                          f"{event_type} is not in the event catalogue.") from None


def list_subscriptions(store: Store, partner_id: str | None) -> list[dict[str, Any]]:
    with store.read() as session:
        query = select(Subscription).where(Subscription.active.is_(True))
        if partner_id:
            query = query.where(Subscription.partner_id == partner_id)
        return [_subscription_dict(r) for r in session.scalars(query.order_by(Subscription.id))]


def _subscription_dict(r: Subscription) -> dict[str, Any]:
    return {"subscription_id": r.id, "partner_id": r.partner_id, "partner_kind": r.partner_kind,
            "channel": r.channel, "event_types": list(r.event_types), "url": r.url}


class QueueDeclarer(Protocol):
    def declare(self, partner_id: str) -> None: ...


def add_subscription(
    uow: UnitOfWork,
    *,
    actor: str,
    partner_id: str,
    partner_kind: PartnerKind,
    channel: str,
    event_types: list[str],
    url: str | None,
    secret: str | None,
    allow_loopback: bool,
    queues: QueueDeclarer,
) -> dict[str, Any]:
    """Validate and store a subscription. A webhook secret is generated when none is
    given, and returned this once; a partner queue is declared and bound at once."""
    for event_type in event_types:
        _known_event_type(event_type, "event_types")
    gate.validate_subscription(partner_kind, event_types)
    if channel == DeliveryChannel.WEBHOOK:
        if not url:
            raise DomainError("url", "webhook.url_required", "A webhook needs a URL.")
        gate.validate_webhook_url(url, allow_loopback=allow_loopback)
        secret = secret or "whsec_" + secrets.token_urlsafe(32)
    elif url or secret:
        raise DomainError("url", "subscription.url_only_for_webhooks",
                          "A partner queue has no URL or secret.")
    if channel == DeliveryChannel.PARTNER_QUEUE:
        # Before any row is written: no network I/O inside a (SQLite) transaction, and
        # no subscription without its queue. A queue left by a failed commit is empty.
        queues.declare(partner_id)
    row = Subscription(
        partner_id=partner_id, partner_kind=PartnerKind(partner_kind).value, channel=channel,
        event_types=sorted(set(event_types)), url=url, secret=secret, active=True,
        created_at=uow.clock.now(), created_by=actor,
    )
    uow.session.add(row)
    uow.session.flush()
    result = _subscription_dict(row)
    uow.commit()
    if secret is not None:
        result["secret"] = secret
    return result


def remove_subscription(uow: UnitOfWork, *, subscription_id: int) -> dict[str, Any]:
    row = uow.session.get(Subscription, subscription_id)
    if row is None or not row.active:
        raise NotFound("subscription_id", f"No active subscription {subscription_id}.")
    row.active = False
    row.removed_at = uow.clock.now()
    uow.commit()
    return {"subscription_id": subscription_id, "removed": True}


def add_legal_basis(uow: UnitOfWork, *, actor: str, **values: str) -> dict[str, Any]:
    row = LegalBasisRow(**values, created_at=uow.clock.now(), created_by=actor)
    uow.session.add(row)
    uow.session.flush()
    result = _basis_dict(row)
    uow.commit()
    return result


def _basis_dict(r: LegalBasisRow) -> dict[str, Any]:
    return {"legal_basis_id": r.id, "recipient": r.recipient,
            "information_kind": r.information_kind, "purpose": r.purpose,
            "reference": r.reference}


def list_legal_bases(store: Store) -> list[dict[str, Any]]:
    with store.read() as session:
        return [_basis_dict(r) for r in session.scalars(select(LegalBasisRow))]


# -- operators: the ledger ---------------------------------------------------------------


def delivery_dict(r: DeliveryRow) -> dict[str, Any]:
    def iso(value: dt.datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "delivery_id": r.id, "message_id": r.message_id, "event_type": r.event_type,
        "correlation_id": r.correlation_id, "recipient_kind": r.recipient_kind,
        "recipient": r.recipient, "channel": r.channel, "status": r.status,
        "attempts": r.attempts, "failure_kind": r.failure_kind, "last_error": r.last_error,
        "basis": r.basis, "created_at": iso(r.created_at), "sent_at": iso(r.sent_at),
        "last_attempt_at": iso(r.last_attempt_at), "next_attempt_at": iso(r.next_attempt_at),
    }


def list_deliveries(store: Store, *, limit: int, **filters: Any) -> list[dict[str, Any]]:
    query = select(DeliveryRow)
    for name, value in filters.items():
        if value is not None:
            query = query.where(getattr(DeliveryRow, name) == str(value))
    with store.read() as session:
        rows = session.scalars(query.order_by(DeliveryRow.id.desc()).limit(limit))
        return [delivery_dict(r) for r in rows]


def retry_delivery(uow: UnitOfWork, *, delivery_id: int) -> dict[str, Any]:
    """An operator sends a failed delivery again: a fresh round of attempts."""
    row = uow.session.get(DeliveryRow, delivery_id)
    if row is None:
        raise NotFound("delivery_id", f"No delivery {delivery_id}.")
    state = _state(row)
    state.replay(uow.clock.now())  # Conflict unless it failed
    _save(row, state)
    uow.commit()
    return delivery_dict(row)


def _state(row: DeliveryRow) -> Delivery:
    return Delivery(
        status=DeliveryStatus(row.status), attempts=row.attempts, last_error=row.last_error,
        next_attempt_at=row.next_attempt_at,
        failure_kind=FailureKind(row.failure_kind) if row.failure_kind else None,
        last_attempt_at=row.last_attempt_at,
    )


def _save(row: DeliveryRow, state: Delivery) -> None:
    row.status = state.status.value
    row.attempts = state.attempts
    row.last_error = state.last_error
    row.next_attempt_at = state.next_attempt_at
    row.failure_kind = state.failure_kind.value if state.failure_kind else None
    row.last_attempt_at = state.last_attempt_at


# -- delivering ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Job:
    """A claimed delivery and everything needed to send it without a transaction open."""

    delivery_id: int
    event: Envelope  # payload in wire form
    recipient_kind: RecipientKind
    recipient: str
    channel: DeliveryChannel
    citizen_ref: str | None
    information_kind: str
    purpose: str
    needs_gate: bool
    subscription: dict[str, Any] | None
    grants: tuple[ConsentGrant, ...]
    legal_bases: tuple[LegalBasis, ...]

    @property
    def partner_id(self) -> str:
        return self.recipient.removeprefix("partner:")


class Senders(Protocol):
    """The transports, as the service's Channels dependency gives them."""

    def email(self, email: content.Email, *, to: str, idempotency_key: str) -> None: ...

    def sms(self, *, to: str, text: str, reference: str) -> None: ...

    def webhook(self, *, url: str, secret: str, body: bytes, message_id: str,
                event_type: str) -> None: ...

    def partner_queue(self, partner_id: str, body: bytes, *, message_id: str,
                      event_type: str) -> None: ...


# intake.get_contact(citizen_ref, purpose) and coordination.get_participant_contact(
# pathway_id, participant_id, purpose), at send time, through the service's wrappers:
# they raise RecipientUnknown when the owner says no (unknown, or no consent to
# contact), and ConnectionError (temporary) when it does not answer.
ContactLookup = Callable[[str, str], dict[str, Any]]
ParticipantLookup = Callable[[str, str, str], dict[str, Any]]


class RecipientUnknown(ValueError):
    """No address to send to (unknown citizen, a network person who may not be
    contacted, no address for any channel): permanent, recorded as failed."""


def due_delivery_ids(store: Store, now: dt.datetime, limit: int = 100) -> list[int]:
    with store.read() as session:
        return list(
            session.scalars(
                select(DeliveryRow.id)
                .where(DeliveryRow.status.in_(("pending", "retrying")))
                .where(or_(DeliveryRow.next_attempt_at.is_(None),
                           DeliveryRow.next_attempt_at <= now))
                .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
                .limit(limit)
            )
        )


def claim(store: Store, delivery_id: int, now: dt.datetime, lease: dt.timedelta) -> Job | None:
    """Take a due delivery for `lease` (commit), or None if another sweep has it."""
    with store.unit_of_work() as uow:
        session = uow.session
        result = session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id == delivery_id)
            .where(DeliveryRow.status.in_(("pending", "retrying")))
            .where(or_(DeliveryRow.next_attempt_at.is_(None), DeliveryRow.next_attempt_at <= now))
            .values(next_attempt_at=now + lease)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return None
        row = session.get_one(DeliveryRow, delivery_id)
        received = session.get_one(ReceivedEvent, row.message_id)
        subscription = None
        if row.subscription_id is not None:
            sub = session.get(Subscription, row.subscription_id)
            subscription = None if sub is None else {
                "active": sub.active, "url": sub.url, "secret": sub.secret,
                "partner_id": sub.partner_id,
            }
        kind = RecipientKind(row.recipient_kind)
        needs_gate = kind in gate.PARTNER_RECIPIENTS
        job = Job(
            delivery_id=row.id,
            event=parse_envelope(received.envelope),
            recipient_kind=kind,
            recipient=row.recipient,
            channel=DeliveryChannel(row.channel),
            citizen_ref=row.citizen_ref,
            information_kind=row.information_kind,
            purpose=row.purpose,
            needs_gate=needs_gate,
            subscription=subscription,
            grants=tuple(load_grants(session, row.citizen_ref)) if needs_gate else (),
            legal_bases=tuple(load_legal_bases(session, row.recipient.removeprefix("partner:")))
            if needs_gate else (),
        )
        uow.commit()
    return job


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: DeliveryStatus
    channel: DeliveryChannel
    error: BaseException | None = None
    blocked_reason: str | None = None


def attempt(
    job: Job,
    *,
    now: dt.datetime,
    senders: Senders,
    contacts: ContactLookup,
    participants: ParticipantLookup,
    fronten_email: str,
) -> Outcome:
    """Ask the gate again, find the address, send. No database transaction is open."""
    if job.needs_gate:
        decision = gate.decide(
            citizen_ref=job.citizen_ref or "", recipient=job.partner_id,
            information_kind=job.information_kind, purpose=job.purpose, at=now,
            grants=job.grants, legal_bases=job.legal_bases,
        )
        if not decision.allowed:
            return Outcome(DeliveryStatus.BLOCKED, job.channel,
                           blocked_reason=decision.reason.value)
    channel = job.channel
    try:
        event = job.event
        payload = registry.load_payload(event)  # loaded values for texts and invitations
        key = str(event.message_id)
        if channel in (DeliveryChannel.EMAIL, DeliveryChannel.SMS):
            channel, address, context = _person(job, payload, contacts, participants)
        if channel is DeliveryChannel.EMAIL:
            email = content.compose_email(
                event.type, job.recipient_kind, payload, to=address, now=now,
                fronten_email=fronten_email, context=context,
            )
            senders.email(email, to=address, idempotency_key=key)
        elif channel is DeliveryChannel.SMS:
            message = content.render_text(event.type, job.recipient_kind, payload, context)
            senders.sms(to=address, text=message.text, reference=key)
        else:
            sub = job.subscription
            if sub is None or not sub["active"]:
                raise RecipientUnknown("the partner's subscription was removed")
            body = content.partner_body(event)
            if channel is DeliveryChannel.WEBHOOK:
                senders.webhook(url=sub["url"], secret=sub["secret"], body=body,
                                message_id=key, event_type=event.type)
            else:
                senders.partner_queue(job.partner_id, body, message_id=key,
                                      event_type=event.type)
    except Exception as exc:
        log.warning("delivery %s over %s failed: %s: %s", job.delivery_id, channel.value,
                    type(exc).__name__, exc)
        return Outcome(DeliveryStatus.FAILED, channel, error=exc)
    return Outcome(DeliveryStatus.SENT, channel)


def _person(
    job: Job, payload: Mapping[str, Any], contacts: ContactLookup,
    participants: ParticipantLookup,
) -> tuple[DeliveryChannel, str, content.Context]:
    """The channel and address of a mail or SMS, and what its text needs looked up.

    Addresses of the citizen and of network persons are asked of their owners now and
    never stored; so are the citizen's name and home address for a staff text."""
    event_type = job.event.type
    purpose = content.lookup_purpose(event_type, job.purpose)
    citizen: dict[str, Any] | None = None
    if job.citizen_ref and content.needs_citizen(event_type, job.recipient_kind, payload):
        try:
            citizen = contacts(job.citizen_ref, purpose)
        except RecipientUnknown:
            if job.recipient_kind is RecipientKind.CITIZEN:
                raise
            citizen = None  # a staff text goes out without the name
    context = content.Context(
        citizen_name=(citizen or {}).get("name"),
        citizen_address=(citizen or {}).get("address"),
    )
    if job.recipient_kind is RecipientKind.CITIZEN:
        assert citizen is not None
        channel, address = _reachable(job.channel, citizen, "intake", "the citizen")
        return channel, address, context
    if job.recipient_kind is RecipientKind.NETWORK:
        participant_id = job.recipient.removeprefix("network:")
        person = participants(str(payload["pathway_id"]), participant_id, purpose)
        channel, address = _reachable(job.channel, person, "coordination",
                                      "the network person")
        context = dataclasses.replace(context, recipient_id=participant_id,
                                      recipient_name=person.get("name"))
        return channel, address, context
    return job.channel, job.recipient, context


def _reachable(
    rule_channel: DeliveryChannel, contact: Mapping[str, Any], owner: str, who: str
) -> tuple[DeliveryChannel, str]:
    """The person's own choice of channel wins; the rule's channel is the fallback,
    then whatever address there is."""
    addresses = {DeliveryChannel.EMAIL: contact.get("email"),
                 DeliveryChannel.SMS: contact.get("phone")}
    preferred = contact.get("preferred_channel")
    if preferred == "letter":
        raise RecipientUnknown(f"{who} wants letters: send this one by post")
    order: list[DeliveryChannel] = []
    if preferred in ("email", "sms"):
        order.append(DeliveryChannel(preferred))
    order += [rule_channel, DeliveryChannel.EMAIL, DeliveryChannel.SMS]
    for channel in order:
        if addresses.get(channel):
            return channel, str(addresses[channel])
    raise RecipientUnknown(f"{owner} has no e-mail address or phone number for {who}")


def record_outcome(
    store: Store,
    job: Job,
    outcome: Outcome,
    *,
    now: dt.datetime,
    policy: BackoffPolicy,
    rng: Rng,
) -> DeliveryStatus:
    with store.unit_of_work() as uow:
        row = uow.session.get_one(DeliveryRow, job.delivery_id)
        state = _state(row)
        if outcome.status is DeliveryStatus.SENT:
            state.record_success(now)
            row.sent_at = now
        elif outcome.status is DeliveryStatus.BLOCKED:
            state.record_blocked(outcome.blocked_reason or "blocked", now)
        else:
            assert outcome.error is not None
            exc = outcome.error
            state.record_failure(
                classify_exception(exc), f"{type(exc).__name__}: {exc}", now,
                policy=policy, rng=rng,
            )
        _save(row, state)
        row.channel = outcome.channel.value
        uow.commit()
    return state.status


def deliver_due(
    store: Store,
    *,
    now: Callable[[], dt.datetime],
    senders: Senders,
    contacts: ContactLookup,
    participants: ParticipantLookup,
    policy: BackoffPolicy,
    rng: Rng,
    lease: dt.timedelta,
    fronten_email: str,
    limit: int = 100,
) -> int:
    """One sweep: every due delivery, each claimed, attempted and recorded on its own."""
    done = 0
    for delivery_id in due_delivery_ids(store, now(), limit):
        job = claim(store, delivery_id, now(), lease)
        if job is None:
            continue
        outcome = attempt(job, now=now(), senders=senders, contacts=contacts,
                          participants=participants, fronten_email=fronten_email)
        record_outcome(store, job, outcome, now=now(), policy=policy, rng=rng)
        done += 1
    return done
