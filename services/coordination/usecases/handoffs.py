"""Hand-offs: offer referrals to partners, and the tovholder's acknowledgement of a
hand-off that needed their attention."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from services.common.db import UnitOfWork
from services.common.errors import Conflict, DomainError, NotFound
from services.coordination import handoffs, repository, texts
from services.coordination.models import (
    HandoffRow,
    OfferReferralRow,
    PartnerRow,
    PathwayRow,
    StaffRow,
)
from services.coordination.needtoknow import Change
from services.coordination.usecases.shared import _iso, _load, _log_change, _timeline
from services.coordination.visibility import changeable_pathway


def _offer_partner(uow: UnitOfWork, partner_id: str) -> PartnerRow:
    """An active partner of the directory that takes offer referrals (else 400 listing
    those that do)."""
    partner = uow.session.get(PartnerRow, partner_id)
    if partner is not None and partner.active and texts.OFFER_REFERRAL in partner.accepts:
        return partner
    allowed = sorted(p.partner_id for p in uow.session.scalars(
        select(PartnerRow).where(PartnerRow.active.is_(True)))
        if texts.OFFER_REFERRAL in p.accepts)
    listed = ", ".join(allowed[:50]) if allowed else "none yet"
    raise DomainError("partner_id", "partner.unknown",
                      f"no active partner {partner_id} in the directory takes offer "
                      f"referrals; allowed: {listed}")


def _open_referral_to(uow: UnitOfWork, row: PathwayRow, partner_id: str) -> bool:
    """Whether an earlier referral of this pathway to the partner is still unanswered
    or under way (its hand-off not yet declined, completed or cancelled)."""
    earlier = uow.session.scalars(select(OfferReferralRow.id).where(
        OfferReferralRow.pathway_id == row.id, OfferReferralRow.partner_id == partner_id)
    ).first()
    if earlier is None:
        return False
    states = set(uow.session.scalars(select(HandoffRow.state).where(
        HandoffRow.subject_type == "pathway", HandoffRow.subject_id == row.id,
        HandoffRow.partner_id == partner_id)))
    return not states or not states <= handoffs.TERMINAL


def refer_to_offer(uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, partner_id: str,
                   ask: str) -> dict[str, Any]:
    """The tovholder refers the citizen to another offer or a volunteer organisation:
    the partners service makes the hand-off from coordination.offer_referral_requested,
    with the tovholder as the contact. `ask` stays here, on the pathway."""
    row, pathway = _load(uow, actor, pathway_id, Change.OFFER_REFERRAL)
    if pathway.is_closed:
        raise Conflict("pathway", "pathway.closed", "the pathway is closed")
    text = ask.strip()
    if not text:
        raise DomainError("ask", "offer_referral.ask_missing",
                          "say what is asked of the offer")
    partner = _offer_partner(uow, partner_id)
    tovholder = pathway.tovholder_id
    if tovholder is None:
        raise Conflict("tovholder", "pathway.tovholder_missing",
                       "appoint a tovholder first: the partner contacts the tovholder")
    if _open_referral_to(uow, row, partner_id):
        raise Conflict("partner_id", "offer_referral.open",
                       f"the citizen is already referred to {partner_id}; wait for the answer")
    staff = uow.session.get(StaffRow, tovholder)
    now = uow.clock.now()
    referral = OfferReferralRow(id=uuid.uuid4(), pathway_id=row.id, partner_id=partner_id,
                                ask=text, requested_at=now, requested_by=str(actor)[:160])
    uow.session.add(referral)
    uow.add_event(
        "coordination.offer_referral_requested",
        {"pathway_id": row.id, "citizen_ref": row.citizen_ref, "partner_id": partner_id,
         "requested_at": now,
         "responsible": {"staff_id": tovholder, "name": pathway.members[tovholder].name,
                         "email": staff.email if staff else None,
                         "phone": staff.phone if staff else None}},
        correlation_id=str(row.id),
    )
    _timeline(uow, row.id, "offer_referral_requested", now, actor,
              referral_id=str(referral.id), partner_id=partner_id, partner_name=partner.name,
              ask=text)
    _log_change(uow, actor, "offer_referral", row, referral.id)
    uow.commit()
    return {"referral_id": str(referral.id), "pathway_id": str(row.id),
            "partner_id": partner_id, "requested_at": _iso(now)}


def acknowledge_handoff(uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID,
                        handoff_id: uuid.UUID, note: str | None = None) -> dict[str, Any]:
    """The tovholder has dealt with a declined or unanswered hand-off: off their list
    (until a new reason for attention comes), and on the timeline."""
    row, _ = changeable_pathway(uow, actor, pathway_id, Change.HANDOFF)
    found = uow.session.get(HandoffRow, handoff_id, with_for_update=True)
    if found is None or found.citizen_ref != row.citizen_ref:
        raise NotFound("handoff_id", f"no hand-off {handoff_id} on this pathway")
    state = repository.handoff_of(found)
    if not state.needs_attention:
        raise Conflict("handoff_id", "handoff.no_attention_needed",
                       "the hand-off needs no attention: it was answered, or it is "
                       "acknowledged already")
    now = uow.clock.now()
    reason = state.attention
    for name, value in repository.handoff_values(
            handoffs.acknowledge(state, now, str(actor)[:160])).items():
        setattr(found, name, value)
    found.updated_at = now
    cleaned = (note or "").strip() or None
    _timeline(uow, row.id, "handoff_acknowledged", now, actor, handoff_id=str(handoff_id),
              handoff_kind=found.kind, partner_id=found.partner_id,
              attention=reason[0] if reason else None, note=cleaned)
    _log_change(uow, actor, "handoff", row, handoff_id)
    uow.commit()
    return {"handoff_id": str(handoff_id), "acknowledged_at": _iso(now)}
