"""Hand-offs: made from other services' events, answered by partners (RPC or queue),
escalated when unanswered, listed for partners and staff.

Every use case loads, decides with the pure lifecycle (services.partners.lifecycle),
saves the hand-off with a history row, its outgoing event and its access-log entry in
one unit of work, and commits. A refused answer raises before the commit: nothing is
written, nothing is published.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from marshmallow import RAISE, ValidationError
from sqlalchemy import ColumnElement, exists, false, or_, select, true
from sqlalchemy.orm import Session

from contracts.actor import Actor, ActorKind, StaffRole, service_actor
from contracts.envelope import Envelope, InvalidMessage
from contracts.partners import (
    PARTNER_ID_PATTERN,
    HandoffDetailsSchema,
    HandoffView,
    PartnerHandoffView,
    QueueAnswerMessage,
)
from contracts.vocabulary import (
    Addressee,
    HandoffKind,
    HandoffState,
    HousingRequest,
    PartnerCategory,
    PartnerKind,
)
from services.common import access, deadlines, pii, sanity, worklist
from services.common.access import Action
from services.common.db import Store, UnitOfWork
from services.common.errors import DomainError, NotFound
from services.common.localtime import local_day
from services.common.messaging import PermanentFailure
from services.partners import danish, directory, lifecycle
from services.partners.lifecycle import Answer, HandoffFacts
from services.partners.models import HandoffHistoryRow, HandoffRow, MissingPartner, Partner
from services.partners.settings import PartnersSettings

log = logging.getLogger(__name__)

#: The kit deadline of a hand-off's answer (subject = the hand-off id).
ANSWER_DUE = "partners.answer_due"
#: Who acts when the service itself changes a hand-off (events, the sweep).
SYSTEM = service_actor("partners")

PARTNER_LIST = "partners.partner_handoffs"
AWAITING_LIST = "partners.handoffs_awaiting_answer"

WHAT = "handoff"
# Why a hand-off was read or changed, for the access log (the caller's purpose wins):
# the citizen reads these when asking who looked at their data and why.
PURPOSE_CREATED = "overdragelse til en samarbejdspartner"
PURPOSE_ANSWER = "svar på en overdragelse"
PURPOSE_READ = "opfølgning på en overdragelse"
PURPOSE_ESCALATED = "overdragelse ikke besvaret inden fristen"
PURPOSE_CONTACT = "ny kontaktperson på en overdragelse"
PURPOSE_PARTNER_LIST = "partnerens liste over overdragelser"
PURPOSE_AWAITING_LIST = "arbejdsliste: overdragelser der venter på svar"
PURPOSE_ACCESS_REPORT = "borgerens indsigt i, hvem der har set oplysningerne"


def _purpose(actor: Any, default: str) -> str:
    given: str | None = getattr(actor, "purpose", None)
    return given or default


def _open_key(subject_type: str, subject_id: uuid.UUID, partner_id: str, kind: str) -> str:
    return f"{subject_type}:{subject_id}:{partner_id}:{kind}"


def _facts(row: HandoffRow) -> HandoffFacts:
    return HandoffFacts(HandoffKind(row.kind), row.partner_id, HandoffState(row.state),
                        row.responsible_staff_id)


# ---------------------------------------------------------------------------- views


def _partner_next_states(state: HandoffState) -> list[str]:
    return [s.value for s in lifecycle.next_states(state) if s is not HandoffState.CANCELLED]


def _base_view(row: HandoffRow, next_states: list[str]) -> dict[str, Any]:
    kind = HandoffKind(row.kind)
    state = HandoffState(row.state)
    return {
        "handoff_id": row.id,
        "kind": row.kind,
        "kind_text": danish.KIND_TEXT[kind],
        "partner_id": row.partner_id,
        "state": row.state,
        "state_text": danish.STATE_TEXT[state],
        "title": row.title,
        "ask": row.ask,
        "requested_at": row.requested_at,
        "answer_by": row.answer_by,
        "contact": {"name": row.contact_name, "email": row.contact_email,
                    "phone": row.contact_phone},
        "details": HandoffDetailsSchema().load(row.details or {}),
        "reason": row.reason,
        "outcome": row.outcome,
        "outcome_text": danish.OUTCOME_TEXT.get(row.outcome) if row.outcome else None,
        "hold_until": row.hold_until,
        "answered_at": row.answered_at,
        "next_states": next_states,
        "outcomes": list(lifecycle.OUTCOMES[kind]),
    }


def partner_view(row: HandoffRow) -> dict[str, Any]:
    """What the partner sees (wire form): no citizen reference, no staff ids."""
    data = _base_view(row, _partner_next_states(HandoffState(row.state)))
    dumped: dict[str, Any] = PartnerHandoffView().dump(data)
    return dumped


def _history(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    found: dict[uuid.UUID, list[Any]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = session.scalars(
        select(HandoffHistoryRow).where(HandoffHistoryRow.handoff_id.in_(list(ids)))
        .order_by(HandoffHistoryRow.at, HandoffHistoryRow.id)
    ).all()
    for h in rows:
        found[h.handoff_id].append({
            "at": h.at, "actor": h.actor, "change": h.change, "from_state": h.from_state,
            "to_state": h.to_state, "reason": h.reason, "outcome": h.outcome,
            "hold_until": h.hold_until, "note": h.note,
            "text": danish.history_text(h.change, h.from_state, h.to_state),
        })
    return found


def staff_view(row: HandoffRow, partner_name: str, history: list[Any]) -> dict[str, Any]:
    """What staff see (wire form): the partner's view, the subject, the citizen
    reference, the responsible person, escalation and the history."""
    data = _base_view(row, [s.value for s in lifecycle.next_states(HandoffState(row.state))])
    data.update({
        "partner_name": partner_name,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "citizen_ref": row.citizen_ref,
        "responsible_staff_id": row.responsible_staff_id,
        "mailbox": row.mailbox,
        "escalated_at": row.escalated_at,
        "answered_by": row.answered_by,
        "history": history,
    })
    dumped: dict[str, Any] = HandoffView().dump(data)
    return dumped


def view_for(session: Session, actor: Actor, row: HandoffRow) -> dict[str, Any]:
    if actor.kind is ActorKind.PARTNER:
        return partner_view(row)
    name = session.scalar(select(Partner.name).where(Partner.partner_id == row.partner_id))
    return staff_view(row, name or row.partner_id, _history(session, [row.id])[row.id])


# -------------------------------------------------------------------------- making


def _add_history(uow: UnitOfWork, row: HandoffRow, *, actor: str, change: str,
                 from_state: str | None = None, to_state: str | None = None,
                 answer: Answer | None = None, note: str | None = None) -> None:
    uow.session.add(HandoffHistoryRow(
        handoff_id=row.id, at=uow.clock.now(), actor=str(actor)[:160], change=change,
        from_state=from_state, to_state=to_state,
        reason=answer.reason if answer else None, outcome=answer.outcome if answer else None,
        hold_until=answer.hold_until if answer else None,
        note=(answer.note if answer else None) or note,
    ))


def _contact(responsible: dict[str, Any] | None, settings: PartnersSettings,
             mailbox: str) -> tuple[str, str | None, str | None, str | None, str | None]:
    """(name, email, phone, responsible staff id, responsible e-mail): the responsible
    person when the event names one (the team's address fills what the person lacks),
    otherwise the team."""
    team = settings.team(mailbox)
    if not responsible:
        return team.name, team.email, team.phone, None, None
    email = responsible.get("email")
    phone = responsible.get("phone")
    return (str(responsible["name"]), email or team.email, phone or team.phone,
            str(responsible["staff_id"]), email)


def create(
    uow: UnitOfWork, settings: PartnersSettings, *, kind: HandoffKind, partner: Partner,
    subject_id: uuid.UUID, citizen_ref: uuid.UUID | None, details: dict[str, Any],
    responsible: dict[str, Any] | None, source: Envelope,
) -> HandoffRow | None:
    """Make one hand-off to one partner (None if an open one for the same subject,
    partner and kind exists): stored, its answer deadline scheduled, its
    `partners.handoff_requested` in the outbox, its creation in the access log."""
    subject_type = lifecycle.SUBJECT_OF[kind]
    key = _open_key(subject_type, subject_id, partner.partner_id, kind.value)
    session = uow.session
    if session.scalar(select(exists().where(HandoffRow.open_key == key))):
        log.info("an open %s hand-off to %s for %s exists; none made", kind.value,
                 partner.partner_id, subject_id)
        return None
    now = uow.clock.now()
    mailbox = lifecycle.MAILBOX_OF[kind]
    name, email, phone, staff_id, responsible_email = _contact(responsible, settings, mailbox)
    wire_details = {k: (v.isoformat() if isinstance(v, dt.date) else
                        str(v) if isinstance(v, uuid.UUID) else v)
                    for k, v in details.items() if v is not None}
    by = lifecycle.answer_by(now, settings.answer_working_days)
    row = HandoffRow(
        id=uuid.uuid4(), kind=kind.value, partner_id=partner.partner_id,
        subject_type=subject_type, subject_id=subject_id, citizen_ref=citizen_ref,
        state=HandoffState.REQUESTED.value, open_rank=0, open_key=key, requested_at=now,
        answer_by=by, escalated_at=None, title=danish.KIND_TEXT[kind],
        ask=danish.ask(kind, wire_details, name), contact_name=name, contact_email=email,
        contact_phone=phone, responsible_staff_id=staff_id,
        responsible_email=responsible_email, mailbox=mailbox, details=wire_details,
        source_event=source.type, updated_at=now, version=1,
    )
    session.add(row)
    session.flush()
    _add_history(uow, row, actor=SYSTEM, change="created", to_state=row.state)
    deadlines.schedule(uow, ANSWER_DUE, str(row.id), lifecycle.escalation_due_at(by))
    access.record(uow, actor=SYSTEM, action=Action.CHANGE, what=WHAT, subject_id=row.id,
                  citizen_ref=citizen_ref, purpose=f"{PURPOSE_CREATED}: {partner.name}")
    uow.add_event("partners.handoff_requested", {
        "handoff_id": row.id, "kind": kind, "partner_id": partner.partner_id,
        "subject_type": subject_type, "subject_id": subject_id, "citizen_ref": citizen_ref,
        "requested_at": now, "answer_by": by, "title": row.title, "ask": row.ask,
        "contact": {"name": name, "email": email, "phone": phone},
        "details": {k: v for k, v in details.items() if v is not None},
    }, correlation_id=str(subject_id))
    return row


def _missing(uow: UnitOfWork, *, partner_id: str, kind: HandoffKind, subject_id: uuid.UUID,
             source: Envelope) -> None:
    """A named partner not in the directory (or not active): no hand-off; logged once per
    subject, partner and kind."""
    session = uow.session
    key = {"partner_id": partner_id[:64], "kind": kind.value, "subject_id": subject_id}
    if session.get(MissingPartner, (key["partner_id"], key["kind"], subject_id)) is not None:
        return
    session.add(MissingPartner(**key, subject_type=lifecycle.SUBJECT_OF[kind],
                               source_event=source.type, first_seen_at=uow.clock.now()))
    log.warning("no %s hand-off for %s %s: partner %r is not an active partner in the "
                "directory", kind.value, lifecycle.SUBJECT_OF[kind], subject_id, partner_id)


def _named_partner(session: Session, partner_id: str) -> Partner | None:
    partner = session.get(Partner, partner_id)
    return partner if partner is not None and partner.active else None


# ----------------------------------------------------------- from the source events


def on_bridging_due(uow: UnitOfWork, event: Envelope, settings: PartnersSettings) -> None:
    """intake.bridging_due: a bridging hand-off to every active partner that accepts it."""
    p = event.payload
    kind = lifecycle.BRIDGING_KINDS.get(PartnerKind(p["partner_kind"]))
    if kind is None:
        log.info("bridging to %s is not a hand-off; nothing made", p["partner_kind"])
        return
    partners = directory.active_partners(uow.session, accepts=kind)
    if not partners:
        log.warning("no active partner accepts %s: course %s has no hand-off", kind.value,
                    p["course_id"])
    for partner in partners:
        create(uow, settings, kind=kind, partner=partner, subject_id=p["course_id"],
               citizen_ref=p["citizen_ref"], responsible=p.get("responsible"), source=event,
               details={"due_on": p["due_on"], "planned_end": p["planned_end"]})


def on_bridging_cancelled(uow: UnitOfWork, event: Envelope,
                          settings: PartnersSettings) -> None:
    """intake.bridging_cancelled: the course ended early; its open bridging hand-offs of
    that kind are cancelled."""
    p = event.payload
    kind = lifecycle.BRIDGING_KINDS.get(PartnerKind(p["partner_kind"]))
    if kind is None:
        return
    for row in _open_of_subject(uow.session, "course", p["course_id"], [kind]):
        apply_answer(uow, row, Answer(HandoffState.CANCELLED,
                                      note="Forløbet i Fronten sluttede før tid."),
                     actor=SYSTEM)


def on_referral_85_made(uow: UnitOfWork, event: Envelope, settings: PartnersSettings) -> None:
    """intake.referral_85_made: a § 85 referral to every active Social Vejledning unit."""
    p = event.payload
    partners = directory.active_partners(uow.session,
                                         category=PartnerCategory.SOCIAL_VEJLEDNING)
    if not partners:
        log.warning("no active Social Vejledning in the directory: course %s has no "
                    "referral_85 hand-off", p["course_id"])
    for partner in partners:
        create(uow, settings, kind=HandoffKind.REFERRAL_85, partner=partner,
               subject_id=p["course_id"], citizen_ref=p["citizen_ref"],
               responsible=p.get("responsible"), source=event,
               details={"referred_on": p["referred_on"]})


def _asks_hold(asks: Iterable[dict[str, Any]]) -> bool:
    return any(str(a["addressee"]) == Addressee.ASSOCIATION.value
               and str(a["request"]) == HousingRequest.HOLD_TERMINATION.value for a in asks)


def hold_until_requested(payload: dict[str, Any]) -> dt.date | None:
    """The day the association is asked to wait until: the event's own `hold_until` when
    it carries one, else the last day before its next deadline (housing stores a date
    deadline as the following Copenhagen midnight)."""
    given = payload.get("hold_until")
    if isinstance(given, dt.date):
        return given
    deadline = payload.get("next_deadline")
    if isinstance(deadline, dt.datetime):
        return local_day(deadline - dt.timedelta(microseconds=1))
    return None


def on_case_escalated(uow: UnitOfWork, event: Envelope, settings: PartnersSettings) -> None:
    """housing.case_escalated asking the association to hold the termination: a
    hold_termination hand-off to the case's association, when it is in the directory."""
    p = event.payload
    if not _asks_hold(p.get("asks") or []):
        return
    association = p.get("association_id") or ""
    if not association:
        return
    kind = HandoffKind.HOLD_TERMINATION
    partner = _named_partner(uow.session, association)
    if partner is None:
        _missing(uow, partner_id=association, kind=kind, subject_id=p["case_id"], source=event)
        return
    # A new request to hold replaces one the association already answered (housing: an
    # answer to an earlier request no longer stands); an unanswered one stays the request.
    for row in _open_of_subject(uow.session, "case", p["case_id"], [kind]):
        if HandoffState(row.state) not in lifecycle.UNANSWERED:
            apply_answer(uow, row, Answer(HandoffState.CANCELLED,
                                          note="Erstattet af en ny anmodning om at vente."),
                         actor=SYSTEM)
    create(uow, settings, kind=kind, partner=partner, subject_id=p["case_id"],
           citizen_ref=p.get("citizen_ref"), responsible=None, source=event,
           details={"case_ref": p["case_id"], "tenancy_ref": p.get("tenancy_ref"),
                    "hold_until_requested": hold_until_requested(p)})


def on_case_settled(uow: UnitOfWork, event: Envelope, settings: PartnersSettings) -> None:
    """housing.case_deescalated or case_closed: a hold request the association has not
    answered yet no longer stands; it is cancelled (an answered one stays, for the
    association to complete)."""
    p = event.payload
    if event.type == "housing.case_deescalated" and _asks_hold(p.get("asks") or []):
        return
    for row in _open_of_subject(uow.session, "case", p["case_id"],
                                [HandoffKind.HOLD_TERMINATION]):
        if HandoffState(row.state) in lifecycle.UNANSWERED:
            apply_answer(uow, row, Answer(HandoffState.CANCELLED,
                                          note="Sagen kræver ikke længere, at I venter."),
                         actor=SYSTEM)


def on_offer_referral_requested(uow: UnitOfWork, event: Envelope,
                                settings: PartnersSettings) -> None:
    """coordination.offer_referral_requested: an offer_referral hand-off to the named
    partner (the tovholder's `ask` stays in coordination; the partner reads the standard
    text)."""
    p = event.payload
    kind = HandoffKind.OFFER_REFERRAL
    partner = _named_partner(uow.session, p["partner_id"])
    if partner is None:
        _missing(uow, partner_id=p["partner_id"], kind=kind, subject_id=p["pathway_id"],
                 source=event)
        return
    create(uow, settings, kind=kind, partner=partner, subject_id=p["pathway_id"],
           citizen_ref=p["citizen_ref"], responsible=p.get("responsible"), source=event,
           details={})


def _change_contact(uow: UnitOfWork, settings: PartnersSettings, rows: Iterable[HandoffRow],
                    responsible: dict[str, Any], note: str) -> None:
    for row in rows:
        name, email, phone, staff_id, responsible_email = _contact(
            responsible, settings, row.mailbox)
        row.contact_name, row.contact_email, row.contact_phone = name, email, phone
        row.responsible_staff_id, row.responsible_email = staff_id, responsible_email
        row.updated_at = uow.clock.now()
        row.version += 1
        _add_history(uow, row, actor=SYSTEM, change="contact", note=note)
        access.record(uow, actor=SYSTEM, action=Action.CHANGE, what=WHAT, subject_id=row.id,
                      citizen_ref=row.citizen_ref, purpose=PURPOSE_CONTACT)


def _open_of_subject(session: Session, subject_type: str, subject_id: uuid.UUID,
                     kinds: Iterable[HandoffKind]) -> list[HandoffRow]:
    return list(session.scalars(
        select(HandoffRow).where(
            HandoffRow.subject_type == subject_type, HandoffRow.subject_id == subject_id,
            HandoffRow.kind.in_([k.value for k in kinds]), HandoffRow.open_key.is_not(None))
        .order_by(HandoffRow.requested_at, HandoffRow.id).with_for_update()
    ).all())


def on_tovholder_handed_over(uow: UnitOfWork, event: Envelope,
                             settings: PartnersSettings) -> None:
    """coordination.tovholder_handed_over: the new tovholder is the contact of the
    pathway's open offer referrals (known faces)."""
    p = event.payload
    rows = _open_of_subject(uow.session, "pathway", p["pathway_id"],
                            [HandoffKind.OFFER_REFERRAL])
    _change_contact(uow, settings, rows, {
        "staff_id": p["new_tovholder_id"], "name": p["new_tovholder_name"],
        "email": p.get("new_tovholder_email"), "phone": None,
    }, "Ny tovholder")


def on_course_responsible_changed(uow: UnitOfWork, event: Envelope,
                                  settings: PartnersSettings) -> None:
    """intake.course_responsible_changed: the course's new responsible staff member is
    the contact of its open hand-offs."""
    p = event.payload
    rows = _open_of_subject(uow.session, "course", p["course_id"], [
        HandoffKind.BRIDGING_EMPLOYMENT, HandoffKind.BRIDGING_EDUCATION,
        HandoffKind.BRIDGING_HEALTH, HandoffKind.REFERRAL_85])
    _change_contact(uow, settings, rows, {
        "staff_id": p["staff_id"], "name": p["name"], "email": p.get("email"),
        "phone": p.get("phone"),
    }, "Ny ansvarlig for forløbet")


# ------------------------------------------------------------------------ answering


def apply_answer(uow: UnitOfWork, row: HandoffRow, answer: Answer, *, actor: Actor) -> None:
    """Record a checked answer: the new state, its history row, the cancelled escalation
    once answered, `partners.handoff_updated` and the access-log entry."""
    now = uow.clock.now()
    previous = HandoffState(row.state)
    state = answer.state
    row.state = state.value
    if state in lifecycle.CLOSED:
        row.open_rank, row.open_key = 1, None
    if state in (HandoffState.DECLINED, HandoffState.CANCELLED):
        row.reason = answer.reason
    if state is HandoffState.COMPLETED:
        row.outcome = answer.outcome
    if answer.hold_until is not None:
        row.hold_until = answer.hold_until
    row.answered_at, row.answered_by = now, str(actor)[:160]
    row.updated_at = now
    row.version += 1
    if state not in lifecycle.UNANSWERED:
        deadlines.cancel(uow, ANSWER_DUE, str(row.id))
    _add_history(uow, row, actor=actor, change="state", from_state=previous.value,
                 to_state=state.value, answer=answer)
    partner_name = uow.session.scalar(
        select(Partner.name).where(Partner.partner_id == row.partner_id)) or row.partner_id
    by_partner = actor.kind is ActorKind.PARTNER or (
        actor.kind is ActorKind.STAFF and state is not HandoffState.CANCELLED)
    kind = HandoffKind(row.kind)
    access.record(uow, actor=actor, action=Action.CHANGE, what=WHAT, subject_id=row.id,
                  citizen_ref=row.citizen_ref, purpose=_purpose(actor, PURPOSE_ANSWER))
    uow.add_event("partners.handoff_updated", {
        "handoff_id": row.id, "kind": kind, "partner_id": row.partner_id,
        "subject_type": row.subject_type, "subject_id": row.subject_id,
        "citizen_ref": row.citizen_ref, "state": state, "previous_state": previous,
        "reason": row.reason if state in (HandoffState.DECLINED,
                                          HandoffState.CANCELLED) else None,
        "outcome": row.outcome if state is HandoffState.COMPLETED else None,
        "hold_until": answer.hold_until, "answered_by": str(actor)[:160], "at": now,
        "title": danish.status_title(kind, state, partner_name, by_partner=by_partner,
                                     outcome=answer.outcome, hold_until=answer.hold_until),
    }, correlation_id=str(row.subject_id))


def _load(session: Session, handoff_id: uuid.UUID, *, lock: bool = False) -> HandoffRow:
    query = select(HandoffRow).where(HandoffRow.id == handoff_id)
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise NotFound("handoff_id", lifecycle.NOT_FOUND_MESSAGE)
    return row


def answer_handoff(
    uow: UnitOfWork, *, actor: Actor, handoff_id: uuid.UUID, state: HandoffState,
    reason: str | None = None, outcome: str | None = None, hold_until: dt.date | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Answer a hand-off (lifecycle.check_may_answer and check_answer decide); returns the
    hand-off as the actor may see it."""
    row = _load(uow.session, handoff_id, lock=True)
    lifecycle.check_may_answer(actor, _facts(row), HandoffState(state))
    answer = lifecycle.check_answer(
        HandoffKind(row.kind), HandoffState(row.state),
        Answer(HandoffState(state), reason, outcome, hold_until, note),
        today=local_day(uow.clock.now()))
    apply_answer(uow, row, answer, actor=actor)
    uow.session.flush()
    result = view_for(uow.session, actor, row)
    uow.commit()
    return result


# --------------------------------------------------------------------------- escalating


def sweep(store: Store, now: dt.datetime) -> int:
    """Fire every due answer deadline (the kit's sweep): a hand-off still unanswered is
    escalated once (`partners.handoff_escalated`). The hand-off is locked first, as an
    answer locks it, then its deadline row is claimed; one that fails is logged and
    backed off, and the others go on. Returns how many were escalated."""
    escalated = 0

    def lock(uow: UnitOfWork, deadline: deadlines.Deadline) -> HandoffRow | None:
        try:
            return _load(uow.session, uuid.UUID(deadline.subject_id), lock=True)
        except NotFound:
            return None

    def handle(uow: UnitOfWork, deadline: deadlines.Deadline, row: HandoffRow) -> None:
        nonlocal escalated
        if lifecycle.should_escalate(HandoffState(row.state), row.escalated_at):
            escalate(uow, row)
            escalated += 1

    deadlines.sweep(store, now, prefix=ANSWER_DUE, lock=lock, handle=handle)
    return escalated


def escalate(uow: UnitOfWork, row: HandoffRow) -> None:
    now = uow.clock.now()
    row.escalated_at = now
    row.updated_at = now
    row.version += 1
    _add_history(uow, row, actor=SYSTEM, change="escalated")
    access.record(uow, actor=SYSTEM, action=Action.CHANGE, what=WHAT, subject_id=row.id,
                  citizen_ref=row.citizen_ref, purpose=PURPOSE_ESCALATED)
    uow.add_event("partners.handoff_escalated", {
        "handoff_id": row.id, "kind": row.kind, "partner_id": row.partner_id,
        "subject_type": row.subject_type, "subject_id": row.subject_id,
        "citizen_ref": row.citizen_ref, "requested_at": row.requested_at,
        "answer_by": row.answer_by, "escalated_at": now,
        "responsible_email": row.responsible_email, "mailbox": row.mailbox,
    }, correlation_id=str(row.subject_id))


# -------------------------------------------------------------------------------- reads


def _visible_to(actor: Actor) -> ColumnElement[bool]:
    """lifecycle.may_see as a query condition."""
    if actor.kind is ActorKind.SERVICE:
        return true()
    if actor.kind is ActorKind.PARTNER:
        return HandoffRow.partner_id == actor.partner_id if actor.partner_id else false()
    if actor.has_role(StaffRole.FRONTEN):
        return true()
    clauses: list[ColumnElement[bool]] = [HandoffRow.responsible_staff_id == actor.id]
    if actor.has_role(StaffRole.SOCIAL_VEJLEDNING):
        clauses.append(HandoffRow.kind == HandoffKind.REFERRAL_85.value)
    if actor.has_role(StaffRole.HOUSING_OFFICER):
        clauses.append(HandoffRow.kind == HandoffKind.HOLD_TERMINATION.value)
    return or_(*clauses)


def get_handoff(uow: UnitOfWork, *, actor: Actor, handoff_id: uuid.UUID) -> dict[str, Any]:
    """One hand-off as the actor may see it; one it may not know of is 'not found'."""
    row = _load(uow.session, handoff_id)
    if not lifecycle.may_see(actor, _facts(row)):
        raise NotFound("handoff_id", lifecycle.NOT_FOUND_MESSAGE)
    result = view_for(uow.session, actor, row)
    access.record(uow, actor=actor, action=Action.READ, what=WHAT, subject_id=row.id,
                  citizen_ref=row.citizen_ref, purpose=_purpose(actor, PURPOSE_READ))
    uow.commit()
    return result


def handoffs_of_subject(uow: UnitOfWork, *, actor: Actor, subject_type: str,
                        subject_id: uuid.UUID) -> dict[str, Any]:
    """A subject's hand-offs that the actor may know of, with their history, oldest
    first. None known reads the same as none made."""
    session = uow.session
    rows = session.execute(
        select(HandoffRow, Partner.name).join(Partner, Partner.partner_id == HandoffRow.partner_id)
        .where(HandoffRow.subject_type == subject_type, HandoffRow.subject_id == subject_id)
        .where(_visible_to(actor))
        .order_by(HandoffRow.requested_at, HandoffRow.id)
    ).all()
    history = _history(session, [r.HandoffRow.id for r in rows])
    if actor.kind is ActorKind.PARTNER:
        items = [partner_view(r.HandoffRow) for r in rows]
    else:
        items = [staff_view(r.HandoffRow, r.name, history[r.HandoffRow.id]) for r in rows]
    for citizen_ref in sorted({str(r.HandoffRow.citizen_ref) for r in rows
                               if r.HandoffRow.citizen_ref is not None}):
        access.record(uow, actor=actor, action=Action.READ, what=WHAT, subject_id=subject_id,
                      citizen_ref=citizen_ref, purpose=_purpose(actor, PURPOSE_READ))
    uow.commit()
    return {"items": items, "count": len(items)}


def _reason_of(row: HandoffRow, partner_name: str, *, for_partner: bool) -> tuple[str, str]:
    """Why an item is on a list: a code and a Danish sentence."""
    kind = danish.KIND_TEXT[HandoffKind(row.kind)]
    state = HandoffState(row.state)
    due = danish.danish_date(row.answer_by)
    if for_partner:
        if state in lifecycle.UNANSWERED:
            return state.value, f"{kind}: {danish.STATE_TEXT[state]}. Svar senest {due}."
        return state.value, f"{kind}: {danish.STATE_TEXT[state]}."
    if row.escalated_at is not None:
        return "escalated", (f"{partner_name} har ikke svaret på: {kind}. Fristen var {due}; "
                             "følg op.")
    return "awaiting_answer", f"{partner_name} skal svare på: {kind}. Svar senest {due}."


def _search_logged(uow: UnitOfWork, actor: Actor, list_name: str, purpose: str) -> None:
    access.record(uow, actor=actor, action=Action.SEARCH, what="worklist",
                  criterion=list_name, purpose=_purpose(actor, purpose))


def partner_handoffs(uow: UnitOfWork, *, actor: Actor, cursor: str | None, limit: int,
                     state: HandoffState | None = None) -> dict[str, Any]:
    """A partner's own hand-offs: open ones first by answer_by, then closed ones. An item
    answered while the list is read moves among the closed ones (seen again, never
    missed)."""
    if actor.kind is not ActorKind.PARTNER or not actor.partner_id:
        raise DomainError("actor", "not_allowed", "This list is a partner's own hand-offs.")
    query: Any = (select(HandoffRow.open_rank, HandoffRow.answer_by, HandoffRow.id, HandoffRow)
             .where(HandoffRow.partner_id == actor.partner_id))
    if state is not None:
        query = query.where(HandoffRow.state == str(state))
    page = worklist.paginate(
        uow.session, query, list_name=PARTNER_LIST, cursor=cursor, limit=limit,
        order=[worklist.asc(HandoffRow.open_rank), worklist.asc(HandoffRow.answer_by),
               worklist.asc(HandoffRow.id)],
    )
    today = local_day(uow.clock.now())

    def render(r: Any) -> dict[str, Any]:
        row: HandoffRow = r.HandoffRow
        code, text = _reason_of(row, "", for_partner=True)
        unanswered = HandoffState(row.state) in lifecycle.UNANSWERED
        item = worklist.item(
            kind=row.kind, subject_type="handoff", subject_id=row.id, reason_code=code,
            reason=text, due_on=row.answer_by if unanswered else None, today=today)
        item["details"] = {**partner_view(row),
                           "open": HandoffState(row.state) in lifecycle.OPEN}
        return item

    result = page.render(render)
    _search_logged(uow, actor, PARTNER_LIST, PURPOSE_PARTNER_LIST)
    uow.commit()
    return result


def handoffs_awaiting_answer(
    uow: UnitOfWork, *, actor: Actor, cursor: str | None, limit: int,
    kind: HandoffKind | None = None, escalated_only: bool = False,
) -> dict[str, Any]:
    """Hand-offs no partner has answered yet, the oldest answer_by first, among those the
    actor may know of (staff)."""
    if actor.kind is ActorKind.PARTNER:
        raise DomainError("actor", "not_allowed", "This list is for the municipality's staff.")
    query: Any = (
        select(HandoffRow.answer_by, HandoffRow.id, HandoffRow, Partner.name)
        .join(Partner, Partner.partner_id == HandoffRow.partner_id)
        .where(HandoffRow.state.in_([s.value for s in lifecycle.UNANSWERED]))
        .where(_visible_to(actor))
    )
    if kind is not None:
        query = query.where(HandoffRow.kind == str(kind))
    if escalated_only:
        query = query.where(HandoffRow.escalated_at.is_not(None))
    page = worklist.paginate(
        uow.session, query, list_name=AWAITING_LIST, cursor=cursor, limit=limit,
        order=[worklist.asc(HandoffRow.answer_by), worklist.asc(HandoffRow.id)],
    )
    today = local_day(uow.clock.now())

    def render(r: Any) -> dict[str, Any]:
        row: HandoffRow = r.HandoffRow
        code, text = _reason_of(row, r.name, for_partner=False)
        return worklist.item(
            kind=row.kind, subject_type=row.subject_type, subject_id=row.subject_id,
            reason_code=code, reason=text, due_on=row.answer_by, today=today,
            citizen_ref=row.citizen_ref,
            handoff_id=str(row.id), kind_text=danish.KIND_TEXT[HandoffKind(row.kind)],
            partner_id=row.partner_id, partner_name=r.name, state=row.state,
            state_text=danish.STATE_TEXT[HandoffState(row.state)],
            requested_at=row.requested_at.isoformat(),
            escalated_at=row.escalated_at.isoformat() if row.escalated_at else None,
            contact_name=row.contact_name, responsible_staff_id=row.responsible_staff_id)

    result = page.render(render)
    _search_logged(uow, actor, AWAITING_LIST, PURPOSE_AWAITING_LIST)
    uow.commit()
    return result


def access_report(uow: UnitOfWork, *, actor: Actor, citizen_ref: uuid.UUID) -> list[Any]:
    """Everything done with the citizen's hand-offs here (Fronten, operators, services);
    the report itself is logged as a read of the access log."""
    if actor.kind is not ActorKind.SERVICE and not actor.has_role(StaffRole.FRONTEN,
                                                                    StaffRole.OPERATOR):
        raise DomainError("actor", "not_allowed",
                          "Fronten answers a citizen's request for insight.")
    entries = access.entries_of_citizen(uow.session, uow.metadata, citizen_ref, "partners")
    access.record(uow, actor=actor, action=Action.READ, what="access_log",
                  citizen_ref=citizen_ref, purpose=_purpose(actor, PURPOSE_ACCESS_REPORT))
    uow.commit()
    return entries


def claim_answer_message(uow: UnitOfWork, partner_id: str, message_id: str | None) -> bool:
    """True when this queue answer was not processed before (by the partner's AMQP
    message id; without one there is nothing to recognise a repeat by)."""
    if not message_id:
        return True
    key = uuid.uuid5(uuid.NAMESPACE_URL, f"samspil:partners.answers:{partner_id}:{message_id}")
    return uow.claim("partners.on_partner_answer", _Marker(key))  # type: ignore[arg-type]


class _Marker:
    """What UnitOfWork.claim reads of an envelope: its message id and type."""

    type = "partners.answer"

    def __init__(self, message_id: uuid.UUID) -> None:
        self.message_id = message_id


class AnswerOutOfOrder(Exception):
    """A queue answer the hand-off's state does not allow yet: retried, then dead-lettered."""


def answer_from_queue(store: Store, delivery: dict[str, Any]) -> None:
    """An answer from the `partners.answers` queue, as the partner whose id was its
    routing key. Raises InvalidMessage or PermanentFailure (dead-lettered at once) for a
    message that can never succeed; a repeat of a message id already processed changes
    nothing."""
    partner_id = str(delivery["partner_id"])
    body = delivery["body"]
    if not isinstance(body, dict):
        raise InvalidMessage({"_body": ["The answer is a JSON object."]})
    problem = sanity.nul_problem(body) or pii.text_problem(body)
    if problem is not None:
        raise InvalidMessage({problem[0]: [f"{problem[2]} ({problem[1]})"]})
    try:
        data = QueueAnswerMessage().load(body, unknown=RAISE)
    except ValidationError as exc:
        raise InvalidMessage(exc.messages if isinstance(exc.messages, dict)
                             else {"_body": exc.messages}) from None
    actor = Actor(ActorKind.PARTNER, partner_id, roles=[StaffRole.PARTNER],
                  partner_id=partner_id)
    with store.unit_of_work() as uow:
        if not re.match(PARTNER_ID_PATTERN, partner_id) or \
                uow.session.get(Partner, partner_id) is None:
            raise PermanentFailure(f"routing_key: {partner_id!r} is not a partner in the "
                                   "directory")
        if not claim_answer_message(uow, partner_id, delivery.get("message_id")):
            log.info("answer %s from %s was processed before; ignored",
                     delivery.get("message_id"), partner_id)
            return
        row = uow.session.get(HandoffRow, data["handoff_id"])
        if row is not None and row.partner_id == partner_id and \
                data["state"] is HandoffState.RECEIVED and \
                row.state != HandoffState.REQUESTED.value:
            # A receipt overtaken by a later answer (or sent twice) says nothing new.
            log.info("receipt of %s from %s came after %s; ignored", row.id, partner_id,
                     row.state)
            uow.commit()
            return
        try:
            answer_handoff(uow, actor=actor, **data)
        except DomainError as exc:
            if exc.rule == "handoff.transition_not_allowed":
                # Answers on a queue may be processed out of order: retried with backoff,
                # the later answer goes through once the earlier one is in.
                raise AnswerOutOfOrder(str(exc)) from None
            raise PermanentFailure(str(exc)) from None
