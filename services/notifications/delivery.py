"""The sweep: send what the ledger says is due, one delivery at a time, outside any
transaction.

For each due row: claim it with a short lease (commit), ask the gate again, fetch what
the text needs from its owner (the citizen's contact from intake, a network person's
from coordination, a partner's directory contact from partners), send (no transaction
open), then record the outcome (commit): `sent`, `retrying` with backoff, `failed`, or
`blocked`. A crash between sending and recording re-sends after the lease: webhooks
and mails carry the message_id as idempotency key for exactly that case.

Every partner delivery that is sent is a disclosure of the citizen's data: it is
written to the access log in the unit of work that records it sent, with the purpose
and the basis (consent or legal basis) it went out on. Every attempt is written to
the ledger's `delivery_attempts` in the unit of work that records its outcome.

Deliveries about one subject (an arrears case, a hand-off) to one target (recipient,
channel, subscription) go in the order they were planned: one is due only when no
earlier one in its line is still pending or retrying. While the first waits for a
retry (the partner is down), the ones after it wait behind it, untried, and follow it
in order once it is through. One that ends `failed` or `blocked` no longer holds the
line (an operator's replay, or a consent's release, sends it later, out of order).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import aliased

from contracts import registry
from contracts.envelope import Envelope, parse_envelope
from services.common import access
from services.common.access import Action
from services.common.db import Store
from services.notifications import content, gate, purposes
from services.notifications.gate import (
    ConsentGrant,
    DeliveryChannel,
    LegalBasis,
    Reason,
    RecipientKind,
)
from services.notifications.ledger import (
    load_grants,
    load_legal_bases,
    partner_of,
    save_state,
    state_of,
)
from services.notifications.models import (
    DeliveryAttempt,
    DeliveryRow,
    DirectoryPartner,
    ReceivedEvent,
    Subscription,
)
from services.notifications.retry import (
    BackoffPolicy,
    DeliveryStatus,
    Rng,
    classify_exception,
)

log = logging.getLogger(__name__)

ACTOR = "service:notifications"

CHANNEL_TEXTS: Mapping[DeliveryChannel, str] = {
    DeliveryChannel.EMAIL: "e-mail",
    DeliveryChannel.WEBHOOK: "webhook",
    DeliveryChannel.PARTNER_QUEUE: "partnerkø",
    DeliveryChannel.SMS: "sms",
}


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
    purpose: str | None
    needs_gate: bool
    subscription: dict[str, Any] | None
    grants: tuple[ConsentGrant, ...]
    legal_bases: tuple[LegalBasis, ...]
    partner_name: str | None = None  # the directory's name of the partner it is about

    @property
    def partner_id(self) -> str:
        return partner_of(self.recipient)


class Senders(Protocol):
    """The transports, as the service's Channels dependency gives them."""

    def email(self, email: content.Email, *, to: str, idempotency_key: str) -> None: ...

    def sms(self, *, to: str, text: str, reference: str) -> None: ...

    def webhook(self, *, url: str, secrets: Sequence[str], body: bytes, message_id: str,
                event_type: str) -> None: ...

    def unseal(self, token: str) -> str: ...

    def partner_queue(self, partner_id: str, body: bytes, *, message_id: str,
                      event_type: str) -> None: ...


# intake.get_contact(citizen_ref, purpose), coordination.get_participant_contact(
# pathway_id, participant_id, purpose) and partners.get_partner(partner_id), at send time,
# through the service's wrappers: they raise RecipientUnknown when the owner says no
# (unknown, or no consent to contact), and ConnectionError (temporary) when it does not
# answer.
ContactLookup = Callable[[str, str], dict[str, Any]]
ParticipantLookup = Callable[[str, str, str], dict[str, Any]]
DirectoryLookup = Callable[[str], dict[str, Any]]


class RecipientUnknown(ValueError):
    """No address to send to (unknown citizen, a network person who may not be
    contacted, a partner with no e-mail in the directory, no address for any channel):
    permanent, recorded as failed."""


def sealed_secrets(sub: Subscription, now: dt.datetime) -> list[str]:
    """The subscription's encrypted secrets that sign a delivery at `now`: the current
    one, and during a rotation's overlap the previous one after it."""
    sealed = [sub.secret_ciphertext] if sub.secret_ciphertext else []
    expires = sub.previous_secret_expires_at
    if sub.previous_secret_ciphertext and expires is not None and now < expires:
        sealed.append(sub.previous_secret_ciphertext)
    return sealed


UNSENT = ("pending", "retrying")


def due_delivery_ids(store: Store, now: dt.datetime, limit: int = 100) -> list[int]:
    """The deliveries to attempt now, oldest due first: at most one per line (subject
    and target), its first unsent one; the others in it wait (see the module's doc)."""
    earlier = aliased(DeliveryRow)
    held = exists().where(
        earlier.subject_ref == DeliveryRow.subject_ref,  # never true for a NULL subject
        earlier.recipient == DeliveryRow.recipient,
        earlier.channel == DeliveryRow.channel,
        earlier.subscription_key == DeliveryRow.subscription_key,
        earlier.status.in_(UNSENT),
        earlier.id < DeliveryRow.id,
    )
    with store.read() as session:
        return list(
            session.scalars(
                select(DeliveryRow.id)
                .where(DeliveryRow.status.in_(UNSENT))
                .where(or_(DeliveryRow.next_attempt_at.is_(None),
                           DeliveryRow.next_attempt_at <= now))
                .where(~held)
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
            .where(DeliveryRow.status.in_(UNSENT))
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
                "active": sub.active, "url": sub.url, "partner_id": sub.partner_id,
                "sealed_secrets": sealed_secrets(sub, now),
                "plain_secret": sub.legacy_plain_secret,
            }
        kind = RecipientKind(row.recipient_kind)
        needs_gate = kind in gate.GATED_RECIPIENTS
        event = parse_envelope(received.envelope)
        named = event.payload.get("partner_id") if isinstance(event.payload, dict) else None
        if needs_gate:
            named = partner_of(row.recipient)
        listed = session.get(DirectoryPartner, str(named)) if named else None
        job = Job(
            delivery_id=row.id,
            event=event,
            recipient_kind=kind,
            recipient=row.recipient,
            channel=DeliveryChannel(row.channel),
            citizen_ref=row.citizen_ref,
            information_kind=row.information_kind,
            purpose=row.purpose,
            needs_gate=needs_gate,
            subscription=subscription,
            grants=tuple(load_grants(session, row.citizen_ref)) if needs_gate else (),
            legal_bases=tuple(load_legal_bases(session, partner_of(row.recipient)))
            if needs_gate else (),
            partner_name=listed.name if listed is not None else None,
        )
        uow.commit()
    return job


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: DeliveryStatus
    channel: DeliveryChannel
    error: BaseException | None = None
    blocked_reason: str | None = None
    # What the gate allowed the delivery on at this attempt (a consent id or a legal
    # reference) and which of the two it was.
    basis: str | None = None
    basis_reason: Reason | None = None
    partner_name: str | None = None


def attempt(
    job: Job,
    *,
    now: dt.datetime,
    senders: Senders,
    contacts: ContactLookup,
    participants: ParticipantLookup,
    directory: DirectoryLookup,
    fronten_email: str,
    api_base_url: str = "",
) -> Outcome:
    """Ask the gate again, find the address, send. No database transaction is open."""
    basis = basis_reason = None
    if job.needs_gate:
        decision = gate.decide(
            citizen_ref=job.citizen_ref or "", recipient=job.partner_id,
            information_kind=job.information_kind, purpose=job.purpose or "", at=now,
            grants=job.grants, legal_bases=job.legal_bases,
        )
        if not decision.allowed:
            return Outcome(DeliveryStatus.BLOCKED, job.channel,
                           blocked_reason=decision.reason.value)
        basis, basis_reason = decision.basis, decision.reason
    channel = job.channel
    partner_name = job.partner_name
    try:
        event = job.event
        payload = registry.load_payload(event)  # loaded values for texts and invitations
        key = str(event.message_id)
        context = content.Context(partner_name=job.partner_name, api_base_url=api_base_url)
        if channel in (DeliveryChannel.EMAIL, DeliveryChannel.SMS):
            channel, address, context = _person(job, payload, contacts, participants,
                                                directory, context)
            partner_name = context.partner_name
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
            body = content.partner_body(event, context)
            if channel is DeliveryChannel.WEBHOOK:
                secrets = [senders.unseal(t) for t in sub["sealed_secrets"]]
                if not secrets and sub.get("plain_secret"):
                    # Written by a release before 0005 during the rolling upgrade.
                    secrets = [sub["plain_secret"]]
                if not secrets:
                    raise RecipientUnknown("the webhook subscription has no secret")
                senders.webhook(url=sub["url"], secrets=secrets, body=body,
                                message_id=key, event_type=event.type)
            else:
                senders.partner_queue(job.partner_id, body, message_id=key,
                                      event_type=event.type)
    except Exception as exc:
        log.warning("delivery %s over %s failed: %s: %s", job.delivery_id, channel.value,
                    type(exc).__name__, exc)
        return Outcome(DeliveryStatus.FAILED, channel, error=exc)
    return Outcome(DeliveryStatus.SENT, channel, basis=basis, basis_reason=basis_reason,
                   partner_name=partner_name)


def _person(
    job: Job, payload: Mapping[str, Any], contacts: ContactLookup,
    participants: ParticipantLookup, directory: DirectoryLookup, context: content.Context,
) -> tuple[DeliveryChannel, str, content.Context]:
    """The channel and address of a mail or SMS, and what its text needs looked up.

    Addresses of the citizen and of network persons are asked of their owners now and
    never stored; so are the citizen's name and home address for a staff text, and a
    partner's directory contact."""
    event_type = job.event.type
    if job.recipient_kind is RecipientKind.PARTNER:
        # A partner with no subscription: the contact address in the partner directory.
        listed = directory(job.partner_id)
        address = listed.get("contact_email")
        if not address:
            raise RecipientUnknown("the partner directory has no e-mail for the partner")
        return DeliveryChannel.EMAIL, str(address), dataclasses.replace(
            context, partner_name=listed.get("name") or context.partner_name)
    purpose = content.lookup_purpose(event_type, job.purpose)
    citizen: dict[str, Any] | None = None
    if job.citizen_ref and content.needs_citizen(event_type, job.recipient_kind, payload):
        try:
            citizen = contacts(job.citizen_ref, purpose)
        except RecipientUnknown:
            if job.recipient_kind is RecipientKind.CITIZEN:
                raise
            citizen = None  # a staff text goes out without the name
    context = dataclasses.replace(
        context,
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


def disclosure_purpose(job: Job, outcome: Outcome) -> str:
    """What the citizen reads in the access log for a delivery to a partner: why, to
    whom, how, and on what basis."""
    whom = outcome.partner_name or job.partner_name or job.partner_id
    basis = "samtykke" if outcome.basis_reason is Reason.CONSENT else \
        f"lovgrundlag ({outcome.basis})" if outcome.basis else "ukendt"
    return (f"{purposes.text_of(job.purpose)}: sendt til {whom} "
            f"({CHANNEL_TEXTS[outcome.channel]}); grundlag: {basis}")


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
        state = state_of(row)
        if outcome.status is DeliveryStatus.SENT:
            state.record_success(now)
            row.sent_at = now
            if job.needs_gate:
                row.basis = outcome.basis  # what it left on, at this attempt
                if job.citizen_ref:
                    access.record(
                        uow, actor=ACTOR, action=Action.DISCLOSURE,
                        what=job.event.type.partition(".")[2][:32],
                        purpose=disclosure_purpose(job, outcome),
                        citizen_ref=job.citizen_ref,
                        subject_id=row.subject_ref or row.message_id,
                    )
        elif outcome.status is DeliveryStatus.BLOCKED:
            state.record_blocked(outcome.blocked_reason or "blocked", now)
        else:
            assert outcome.error is not None
            exc = outcome.error
            state.record_failure(
                classify_exception(exc), f"{type(exc).__name__}: {exc}", now,
                policy=policy, rng=rng,
            )
        save_state(row, state)
        row.channel = outcome.channel.value
        uow.session.add(DeliveryAttempt(
            delivery_id=row.id, attempt=state.attempts, attempted_at=now,
            outcome=state.status.value, channel=row.channel,
            failure_kind=state.failure_kind.value
            if outcome.status is DeliveryStatus.FAILED and state.failure_kind else None,
            error=None if outcome.status is DeliveryStatus.SENT else state.last_error,
        ))
        uow.commit()
    return state.status


Each = Callable[[Callable[[int], bool], list[int]], Iterable[bool]]


def deliver_due(
    store: Store,
    *,
    now: Callable[[], dt.datetime],
    senders: Senders,
    contacts: ContactLookup,
    participants: ParticipantLookup,
    directory: DirectoryLookup,
    policy: BackoffPolicy,
    rng: Rng,
    lease: dt.timedelta,
    fronten_email: str,
    api_base_url: str = "",
    limit: int = 100,
    each: Each = map,
) -> int:
    """One sweep: every due delivery, each claimed, attempted and recorded on its own,
    in the order they became due (released blocked deliveries in the order planned),
    the first unsent one of each line only (`due_delivery_ids`).

    `each(one, ids)` runs `one` for every id: `map` (one at a time), or the service's
    pool of green threads, a few at a time (DELIVERY_CONCURRENCY). Running them side by
    side keeps each line's order: a sweep holds at most one delivery of a line."""

    def one(delivery_id: int) -> bool:
        job = claim(store, delivery_id, now(), lease)
        if job is None:
            return False
        outcome = attempt(job, now=now(), senders=senders, contacts=contacts,
                          participants=participants, directory=directory,
                          fronten_email=fronten_email, api_base_url=api_base_url)
        record_outcome(store, job, outcome, now=now(), policy=policy, rng=rng)
        return True

    return sum(each(one, due_delivery_ids(store, now(), limit)))
