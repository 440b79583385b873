"""notifications' event use cases: plan what must be delivered, keep the projections the
consent gate decides on, and look again at blocked deliveries when that changes.

Delivering is two steps, never one transaction around network I/O:

1. Here (inside the inbox handler's unit of work): apply the routing rules and
   subscriptions (or, for a hand-off, the partner it names), ask the consent gate for
   partner deliveries, and write one ledger row per (event, recipient, channel,
   subscription): `pending`, or `blocked` with the gate's reason. It commits with the
   inbox row, so an event is planned exactly once.
2. The sweep (services.notifications.delivery) sends what is due.

A blocked delivery is looked at again when a consent (intake.consent_given), a legal
basis (operators.add_legal_basis) or the tenant of an arrears case becomes known:
what the gate now allows is released and sent, in the order it was planned
(`reconsider_blocked`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts import registry
from contracts.envelope import Envelope
from contracts.vocabulary import HandoffKind, HandoffState, ParticipantKind, PartnerKind
from services.common.db import UnitOfWork
from services.notifications import gate, handoffs
from services.notifications.gate import ConsentGrant, DeliveryChannel, LegalBasis, RecipientKind
from services.notifications.ledger import (
    load_grants,
    load_legal_bases,
    load_rules,
    load_subscriptions,
    partner_of,
    save_state,
    state_of,
)
from services.notifications.mailboxes import Mailboxes
from services.notifications.models import (
    ArrearsCaseTenant,
    BridgingAnnouncement,
    ConsentRow,
    DeliveryRow,
    DirectoryPartner,
    HandoffCopy,
    ReceivedEvent,
    TovholderContact,
)
from services.notifications.retry import DeliveryStatus
from services.notifications.routing import (
    KnownTovholder,
    PlannedDelivery,
    Target,
    plan_deliveries,
)

log = logging.getLogger(__name__)

ACTOR = "service:notifications"

PARTNER_STATUS = "housing.partner_status"
# housing's events that name an arrears case and its tenant (citizen_ref).
CASE_EVENTS = frozenset({"housing.case_opened", "housing.case_escalated",
                         "housing.case_deescalated", "housing.warning_flagged",
                         "housing.action_overdue"})
GATED_KINDS = tuple(k.value for k in gate.GATED_RECIPIENTS)


class HandoffNotYetKnown(RuntimeError):
    """An update of a hand-off whose request has not arrived yet (they travel on
    different queues): the update is retried by the kit until the request is here."""


# -- planning ---------------------------------------------------------------------------


def citizen_of_event(session: Session, event: Envelope) -> str | None:
    """The citizen an event is about: its citizen_ref, or for a partner status (which
    carries none, by its allow-list) the tenant of the arrears case it is about."""
    payload = event.payload
    if payload.get("citizen_ref") is not None:
        return str(payload["citizen_ref"])
    if event.type == PARTNER_STATUS:
        return case_tenant(session, str(payload["case_ref"]), event.occurred_at).citizen_ref
    return None


def case_tenant(session: Session, case_id: str, as_of: dt.datetime) -> ArrearsCaseTenant:
    """The case's tenant row, made if missing and locked until the transaction ends.

    A case's statement and the case event that names its tenant can be handled at the
    same moment (different queues). Both take this row first, so one waits for the
    other: either the statement sees the tenant, or the case event's update sees the
    statement's blocked deliveries (on PostgreSQL's READ COMMITTED, the statement's rows
    are committed before the lock is released)."""
    row = session.scalars(select(ArrearsCaseTenant).where(
        ArrearsCaseTenant.case_id == case_id).with_for_update()).first()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.add(ArrearsCaseTenant(case_id=case_id, citizen_ref=None, as_of=as_of))
    except IntegrityError:
        pass  # the other one made it first: wait for its lock below
    return session.scalars(select(ArrearsCaseTenant).where(
        ArrearsCaseTenant.case_id == case_id).with_for_update()).one()


def subject_of(event: Envelope) -> str | None:
    """What a delivery is about besides the citizen: the case of a partner status, the
    hand-off of a hand-off's message."""
    payload = event.payload
    if event.type == PARTNER_STATUS:
        return str(payload["case_ref"])
    if event.type.startswith("partners.handoff_"):
        return str(payload["handoff_id"])
    return None


def record_event(
    uow: UnitOfWork,
    event: Envelope,
    settings: Any,
    *,
    only: frozenset[Target] | None = None,
) -> int:
    """Plan the deliveries of one event into the ledger by the routing rules; returns
    how many rows.

    `settings` is the service's delivery settings (`Channels`: its `mailboxes`).
    `only`, when given, limits the plan to those targets (recipient, channel,
    subscription)."""
    mailboxes: Mailboxes = settings.mailboxes
    session = uow.session
    _remember_tovholder(session, event)
    rules = load_rules(session, event.type)
    if not rules:
        return 0
    citizen = citizen_of_event(session, event)
    known = session.get(TovholderContact, citizen) if citizen else None
    planned = plan_deliveries(
        event.type,
        event.payload,
        rules,
        load_subscriptions(session),
        mailboxes=mailboxes,
        tovholder=KnownTovholder(known.tovholder_id, known.email) if known else None,
        only=only,
    )
    return write_plan(uow, event, planned, citizen=citizen)


def write_plan(
    uow: UnitOfWork, event: Envelope, planned: Iterable[PlannedDelivery], *,
    citizen: str | None,
) -> int:
    """One ledger row per planned delivery; a partner delivery the gate refuses now is
    written `blocked`, with the reason (it is looked at again when that changes)."""
    planned = list(planned)
    if not planned:
        return 0
    session = uow.session
    now = uow.clock.now()
    if session.get(ReceivedEvent, str(event.message_id)) is None:
        session.add(ReceivedEvent(
            message_id=str(event.message_id), type=event.type,
            schema_version=event.schema_version, correlation_id=event.correlation_id,
            envelope=_wire(event), received_at=now,
        ))
        session.flush()
    grants = load_grants(session, citizen)
    subject = subject_of(event)
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
            subscription_key="" if item.subscription_id is None else str(item.subscription_id),
            subject_ref=subject,
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
                purpose=item.purpose or "",
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
    session.flush()
    return len(planned)


def _wire(event: Envelope) -> dict[str, Any]:
    """The envelope as it travelled (the payload re-serialised from loaded values)."""
    schema = registry.contract(event.type, event.schema_version).schema()
    wire = dataclasses.replace(event, payload=schema.dump(event.payload)).to_wire()
    return wire


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
        select(DeliveryRow.recipient, DeliveryRow.channel, DeliveryRow.subscription_id).where(
            DeliveryRow.message_id == row.announced_message_id,
            DeliveryRow.status != DeliveryStatus.BLOCKED.value,
        )
    ).all()
    if not told:
        return 0
    return record_event(uow, event, settings,
                        only=frozenset((r, DeliveryChannel(c), s) for r, c, s in told))


# -- projections: the tovholder, the consent, the directory, arrears cases ----------------


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


def consent_given(uow: UnitOfWork, event: Envelope, settings: Any = None) -> int:
    """Keep the consent, then send what it now allows that was blocked, in order.
    Returns how many blocked deliveries were released."""
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
    uow.session.flush()
    return reconsider_blocked(uow, citizen_ref=row.citizen_ref,
                              recipient=str(p["recipient"]).strip())


def consent_withdrawn(uow: UnitOfWork, event: Envelope, settings: Any = None) -> None:
    """Keep the withdrawal. From its instant the gate refuses what rested on the
    consent, at every attempt: a delivery waiting for a retry is not sent either."""
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


def partner_registered(uow: UnitOfWork, event: Envelope, settings: Any = None) -> None:
    """Keep the directory's word on a partner (the newest change wins)."""
    p = event.payload
    row = uow.session.get(DirectoryPartner, p["partner_id"])
    if row is not None and row.changed_at > p["changed_at"]:
        return  # an older change arriving late
    if row is None:
        row = DirectoryPartner(partner_id=p["partner_id"])
        uow.session.add(row)
    row.name = p["name"]
    row.category = str(p["category"])
    row.accepts = sorted(str(k) for k in p["accepts"])
    row.active = bool(p["active"])
    row.changed_at = p["changed_at"]


def arrears_case_event(uow: UnitOfWork, event: Envelope, settings: Any) -> int:
    """An arrears case event: learn whose home the case is about (the tenant's consent
    lets the case's statements reach the association), then plan its own deliveries."""
    _remember_case(uow, event)
    return record_event(uow, event, settings)


def _remember_case(uow: UnitOfWork, event: Envelope) -> None:
    payload = event.payload
    case_id = str(payload["case_id"])
    citizen = payload.get("citizen_ref")
    association = payload.get("association_id") or None
    row = case_tenant(uow.session, case_id, event.occurred_at)
    row.association_id = association or row.association_id
    if citizen is None or row.citizen_ref == str(citizen):
        return
    # The tenant is known now (or intake matched them): the case's statements planned
    # without a citizen are about this citizen, and the gate may now say yes.
    row.citizen_ref = str(citizen)
    row.as_of = max(row.as_of, event.occurred_at)
    handoffs_of_case = select(HandoffCopy.handoff_id).where(
        HandoffCopy.subject_type == "case", HandoffCopy.subject_id == case_id)
    uow.session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.citizen_ref.is_(None),
               ((DeliveryRow.event_type == PARTNER_STATUS) & (DeliveryRow.subject_ref == case_id))
               | DeliveryRow.subject_ref.in_(handoffs_of_case))
        .values(citizen_ref=str(citizen))
    )
    reconsider_blocked(uow, citizen_ref=str(citizen))


# -- hand-offs ------------------------------------------------------------------------------


def handoff_requested(uow: UnitOfWork, event: Envelope, settings: Any) -> int:
    """Deliver a hand-off to the partner it names: on every active subscription of the
    partner, else by e-mail to its directory contact; a § 85 referral to Social
    Vejledning's mailbox. Through the gate of its kind (handoffs.GATES)."""
    p = event.payload
    handoff_id = str(p["handoff_id"])
    session = uow.session
    copy = session.get(HandoffCopy, handoff_id)
    if copy is not None:
        log.warning("hand-off %s was requested twice (%s, %s): the second is not sent",
                    handoff_id, copy.request_message_id, event.message_id)
        return 0
    session.add(HandoffCopy(
        handoff_id=handoff_id, kind=HandoffKind(p["kind"]).value, partner_id=p["partner_id"],
        citizen_ref=None if p["citizen_ref"] is None else str(p["citizen_ref"]),
        subject_type=p["subject_type"], subject_id=str(p["subject_id"]),
        request_message_id=str(event.message_id), state=HandoffState.REQUESTED.value,
        changed_at=p["requested_at"],
    ))
    planned = handoffs.plan_request(
        p, load_subscriptions(session, p["partner_id"]), mailboxes=settings.mailboxes)
    return write_plan(uow, event, planned, citizen=citizen_of_event(session, event))


def handoff_updated(uow: UnitOfWork, event: Envelope, settings: Any) -> int:
    """Tell the partner that was asked what became of the hand-off: its own answer
    confirmed to its systems, a cancellation also by mail. A cancelled § 85 referral
    is told to Social Vejledning's mailbox."""
    p = event.payload
    session = uow.session
    copy = session.get(HandoffCopy, str(p["handoff_id"]))
    if copy is None:
        raise HandoffNotYetKnown(f"hand-off {p['handoff_id']}: its request has not arrived")
    if p["at"] >= copy.changed_at:
        copy.state, copy.changed_at = HandoffState(p["state"]).value, p["at"]
    rows = session.scalars(
        select(DeliveryRow).where(DeliveryRow.message_id == copy.request_message_id)
        .order_by(DeliveryRow.id)
    ).all()
    told = [
        handoffs.Told(RecipientKind(r.recipient_kind), r.recipient, DeliveryChannel(r.channel),
                      r.subscription_id, r.information_kind, r.purpose)
        for r in rows
    ]
    active = [s.id for s in load_subscriptions(session, copy.partner_id)]
    planned = handoffs.plan_update(p, told, active)
    return write_plan(uow, event, planned, citizen=citizen_of_event(session, event))


# -- the gate, asked again -----------------------------------------------------------------


def reconsider_blocked(
    uow: UnitOfWork, *, citizen_ref: str | None = None, recipient: str | None = None,
    subject_ref: str | None = None,
) -> int:
    """Ask the gate again about blocked partner deliveries (of one citizen, one partner
    or one subject, as given): release those it now allows, in the order they were
    planned, and keep the current reason on the others. Returns how many were released.

    Called when a consent is given, a legal basis is recorded, or an arrears case's
    tenant becomes known. A bridging statement whose bridging was cancelled before it
    left is not released: the partner would be told of a bridging that will not happen.
    """
    session = uow.session
    query = select(DeliveryRow).where(
        DeliveryRow.status == DeliveryStatus.BLOCKED.value,
        DeliveryRow.recipient_kind.in_(GATED_KINDS),
    )
    if citizen_ref is not None:
        query = query.where(DeliveryRow.citizen_ref == citizen_ref)
    if recipient is not None:
        query = query.where(DeliveryRow.recipient == f"partner:{recipient}")
    if subject_ref is not None:
        query = query.where(DeliveryRow.subject_ref == subject_ref)
    # Locked (PostgreSQL): a consent and a legal basis arriving together must not both
    # release a row, the second after the sweep has sent it. SQLite writes one at a time.
    rows = session.scalars(query.order_by(DeliveryRow.id).with_for_update()).all()
    now = uow.clock.now()
    grants: dict[str | None, list[ConsentGrant]] = {}
    bases: dict[str, list[LegalBasis]] = {}
    released = 0
    for row in rows:
        partner = partner_of(row.recipient)
        if row.citizen_ref not in grants:
            grants[row.citizen_ref] = load_grants(session, row.citizen_ref)
        if partner not in bases:
            bases[partner] = load_legal_bases(session, partner)
        decision = gate.decide(
            citizen_ref=row.citizen_ref or "", recipient=partner,
            information_kind=row.information_kind, purpose=row.purpose or "", at=now,
            grants=grants[row.citizen_ref], legal_bases=bases[partner],
        )
        if not decision.allowed:
            row.last_error = decision.reason.value
            continue
        if _superseded(session, row):
            continue
        state = state_of(row)
        state.release(now)
        save_state(row, state)
        row.basis = decision.basis
        released += 1
    if released:
        log.info("%d blocked deliveries released (citizen %s, partner %s, subject %s)",
                 released, citizen_ref, recipient, subject_ref)
    return released


def _superseded(session: Session, row: DeliveryRow) -> bool:
    """A bridging statement whose bridging intake cancelled while it was blocked."""
    if row.event_type != "intake.bridging_due":
        return False
    return session.scalars(
        select(BridgingAnnouncement.course_id).where(
            BridgingAnnouncement.announced_message_id == row.message_id,
            BridgingAnnouncement.cancelled_message_id.is_not(None),
        )
    ).first() is not None
