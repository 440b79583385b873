"""coordination's use cases: load, apply the domain rules, save, add outbox events.

Every use case runs in one unit of work: rows, timeline entries and outgoing events
commit together or not at all. A refused command (DomainError) raises before the
commit, so nothing is written and nothing is published.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select, update

from contracts.vocabulary import Agency, ParticipantKind
from services.common import access, deadlines
from services.common.access import Action
from services.common.db import Store, UnitOfWork
from services.common.errors import Conflict, DomainError, NotFound
from services.coordination import handoffs, icalfeed, needtoknow, plans, repository, texts
from services.coordination.models import (
    ActionAnnouncementRow,
    ActionStatusRow,
    BusyBlockRow,
    HandoffRow,
    MeetingParticipantRow,
    MeetingRow,
    MemberRow,
    NetworkPersonRow,
    OfferReferralRow,
    PartnerRow,
    PathwayRow,
    PlanRow,
    PlanVersionRow,
    StaffRow,
    TimelineRow,
    TovholderTermRow,
)
from services.coordination.needtoknow import Change
from services.coordination.pathways import (
    MemberAdded,
    MembershipEnded,
    NetworkPerson,
    NetworkPersonAdded,
    Pathway,
    PathwayClosed,
    PathwayEvent,
    PathwayOpened,
    TeamMember,
    TovholderAppointed,
    TovholderHandedOver,
)
from services.coordination.scheduling import (
    COPENHAGEN,
    BusyBlock,
    MeetingPlace,
    MeetingRole,
    Participant,
    check_meeting,
    find_slots,
    to_copenhagen,
)
from services.coordination.visibility import (
    as_actor,
    changeable_pathway,
    sight,
    visible_meeting,
    visible_pathway,
)

ACTIONS_DEADLINE = "plan.actions"
# What the citizen reads in the access log about each kind of change (Danish).
PURPOSES = {
    "pathway": "Oprette eller afslutte det sammenhængende forløb",
    "team": "Ændre teamet omkring borgeren",
    "network": "Tilføje en person fra borgerens netværk",
    "tovholder": "Udpege eller skifte tovholder",
    "preferences": "Registrere borgerens ønsker til møder",
    "meeting": "Planlægge og holde møder i forløbet",
    "plan": "Skrive og følge handleplanen",
    "offer_referral": "Henvise borgeren til et andet tilbud",
    "handoff": "Følge op på en overdragelse til en samarbejdspartner",
    "calendar": "Registrere hvornår borgeren ikke kan mødes",
}
# The citizen's display name in invitations: coordination does not know the name;
# notifications fetches the citizen's contact from intake at send time.
CITIZEN_LABEL = "Borgeren"


def _today(at: dt.datetime) -> dt.date:
    return to_copenhagen(at).date()


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value.isoformat()


def _timeline(
    uow: UnitOfWork,
    pathway_id: uuid.UUID | str,
    kind: str,
    at: dt.datetime,
    actor: str | None,
    **details: Any,
) -> None:
    uow.session.add(
        TimelineRow(
            pathway_id=uuid.UUID(str(pathway_id)),
            occurred_at=at,
            kind=kind,
            actor=actor,
            details=details,
        )
    )


def _log_change(uow: UnitOfWork, actor: str, what: str, row: PathwayRow,
                subject_id: Any = None) -> None:
    """One CHANGE entry in the access log, in the change's own transaction."""
    access.record(uow, actor=actor, action=Action.CHANGE, what=what,
                  citizen_ref=row.citizen_ref, subject_id=subject_id or row.id,
                  purpose=PURPOSES[what])


def _team(pathway: Pathway, at: dt.datetime,
          emails: dict[str, str | None]) -> list[dict[str, Any]]:
    """The active team members on the day, as a handover tells them."""
    return [{"member_id": m.member_id, "name": m.name, "email": emails.get(m.member_id)}
            for m in sorted(pathway.active_members(_today(at)), key=lambda m: m.member_id)]


def _upsert_staff(uow: UnitOfWork, member_id: str, name: str, email: str | None,
                  phone: str | None = None) -> None:
    row = uow.session.get(StaffRow, member_id)
    if row is None:
        uow.session.add(StaffRow(member_id=member_id, name=name, email=email, phone=phone))
    else:
        row.name, row.email = name, email
        if phone:  # a later spec without a phone keeps the one known
            row.phone = phone


def _member_from_spec(spec: dict[str, Any], today: dt.date) -> TeamMember:
    return TeamMember(
        member_id=spec["member_id"],
        name=spec["name"].strip(),
        agency=Agency(spec["agency"]),
        role=spec["role"],
        active_from=spec.get("active_from") or today,
        active_to=spec.get("active_to"),
    )


def _load(uow: UnitOfWork, actor: str, pathway_id: uuid.UUID,
          change: Change) -> tuple[PathwayRow, Pathway]:
    """The pathway, locked, for a change `actor` may make (need-to-know: NotFound when
    they may not see it, `actor`/`not_allowed` when they may not change it)."""
    row, _ = changeable_pathway(uow, actor, pathway_id, change)
    return row, repository.load_pathway(uow.session, row)


def require_consent(uow: UnitOfWork, citizen_ref: uuid.UUID, agency: Agency) -> None:
    """A team member from another agency than social services needs the citizen's
    valid consent to that agency for the pathway team (issue 10)."""
    if agency is needtoknow.HOLDING_AGENCY:
        return
    if repository.consent_kinds(uow.session, citizen_ref, agency.value,
                                needtoknow.PATHWAY_TEAM) is None:
        raise DomainError(
            "agency", "consent.missing",
            f"the citizen has not consented to sharing with {agency.value} for the "
            f"pathway team (purpose {needtoknow.PATHWAY_TEAM}); Fronten records the "
            "consent first")


# --- writing a pathway's domain events ----------------------------------------------


def _save_pathway(uow: UnitOfWork, row: PathwayRow, pathway: Pathway, actor: str) -> None:
    """Turn the team and tovholder events the domain raised into rows, timeline
    entries and outbox messages (meetings are saved by their own use cases)."""
    emails = {s.member_id: s.email for s in repository.staff(uow.session, pathway.members).values()}
    for event in pathway.events:
        handler = _PATHWAY_EVENT_WRITERS.get(type(event))
        if handler is not None:
            handler(uow, row, pathway, event, actor, emails)
    pathway.events.clear()
    uow.session.flush()


def _write_opened(
    uow: UnitOfWork, row: PathwayRow, pathway: Pathway, event: PathwayOpened, actor: str,
    emails: dict[str, str | None],
) -> None:
    uow.add_event(
        "coordination.pathway_opened",
        {"pathway_id": row.id, "citizen_ref": row.citizen_ref,
         "tovholder_id": event.tovholder_id, "opened_at": event.at, "under_30": row.under_30},
        correlation_id=str(row.id),
    )
    _timeline(uow, row.id, "pathway_opened", event.at, actor,
              referral_inquiry_id=str(row.referral_inquiry_id) if row.referral_inquiry_id
              else None)


def _write_member_added(
    uow: UnitOfWork, row: PathwayRow, pathway: Pathway, event: MemberAdded, actor: str,
    emails: dict[str, str | None],
) -> None:
    member = pathway.members[event.member_id]
    uow.session.add(
        MemberRow(
            pathway_id=row.id, member_id=member.member_id, name=member.name,
            agency=member.agency.value, role=member.role, active_from=member.active_from,
            active_to=member.active_to, added_at=event.at, added_by=actor,
        )
    )
    uow.session.flush()
    uow.add_event(
        "coordination.member_added",
        {"pathway_id": row.id, "citizen_ref": row.citizen_ref, "member_id": member.member_id,
         "agency": member.agency, "role": member.role, "added_at": event.at,
         "name": member.name, "email": emails.get(member.member_id)},
        correlation_id=str(row.id),
    )
    _timeline(uow, row.id, "member_added", event.at, actor, member_id=member.member_id,
              name=member.name, agency=member.agency.value, role=member.role)


def _write_membership_ended(
    uow: UnitOfWork, row: PathwayRow, pathway: Pathway, event: MembershipEnded, actor: str,
    emails: dict[str, str | None],
) -> None:
    uow.session.execute(
        update(MemberRow)
        .where(MemberRow.pathway_id == row.id, MemberRow.member_id == event.member_id)
        .values(active_to=event.last_day)
    )
    uow.add_event(
        "coordination.membership_ended",
        {"pathway_id": row.id, "citizen_ref": row.citizen_ref, "member_id": event.member_id,
         "last_day": event.last_day, "ended_at": event.at},
        correlation_id=str(row.id),
    )
    _timeline(uow, row.id, "membership_ended", event.at, actor, member_id=event.member_id,
              last_day=event.last_day.isoformat())


def _write_network_person(
    uow: UnitOfWork, row: PathwayRow, pathway: Pathway, event: NetworkPersonAdded, actor: str,
    emails: dict[str, str | None],
) -> None:
    person = pathway.network[event.person_id]
    uow.session.add(
        NetworkPersonRow(pathway_id=row.id, person_id=person.person_id, name=person.name,
                         relation=person.relation, added_at=event.at, email=person.email,
                         phone=person.phone, may_contact=person.may_contact)
    )
    _timeline(uow, row.id, "network_person_added", event.at, actor,
              person_id=person.person_id, name=person.name, relation=person.relation,
              may_contact=person.may_contact)


def _write_appointed(
    uow: UnitOfWork, row: PathwayRow, pathway: Pathway, event: TovholderAppointed, actor: str,
    emails: dict[str, str | None],
) -> None:
    uow.session.add(
        TovholderTermRow(pathway_id=row.id, member_id=event.tovholder_id, since=event.at,
                         appointed_by=actor)
    )
    # The contract's first appointment is a handover from nobody: the citizen is told.
    uow.add_event(
        "coordination.tovholder_handed_over",
        {"pathway_id": row.id, "citizen_ref": row.citizen_ref, "old_tovholder_id": None,
         "new_tovholder_id": event.tovholder_id, "new_tovholder_name": event.tovholder_name,
         "new_tovholder_agency": event.tovholder_agency,
         "new_tovholder_email": emails.get(event.tovholder_id), "handed_over_at": event.at,
         "handover_note": None, "team": _team(pathway, event.at, emails)},
        correlation_id=str(row.id),
    )
    _timeline(uow, row.id, "tovholder_appointed", event.at, actor,
              tovholder_id=event.tovholder_id, name=event.tovholder_name)


def _write_handed_over(
    uow: UnitOfWork, row: PathwayRow, pathway: Pathway, event: TovholderHandedOver, actor: str,
    emails: dict[str, str | None],
) -> None:
    current = uow.session.execute(
        select(TovholderTermRow)
        .where(TovholderTermRow.pathway_id == row.id, TovholderTermRow.until.is_(None))
    ).scalar_one()
    current.until = event.at
    current.handover_reason = event.reason
    current.handover_note = event.note
    uow.session.add(
        TovholderTermRow(pathway_id=row.id, member_id=event.new_tovholder_id, since=event.at,
                         appointed_by=actor)
    )
    uow.add_event(
        "coordination.tovholder_handed_over",
        {"pathway_id": row.id, "citizen_ref": row.citizen_ref,
         "old_tovholder_id": event.old_tovholder_id,
         "new_tovholder_id": event.new_tovholder_id,
         "new_tovholder_name": event.new_tovholder_name,
         "new_tovholder_agency": event.new_tovholder_agency,
         "new_tovholder_email": emails.get(event.new_tovholder_id),
         "handed_over_at": event.at, "handover_note": event.note,
         "team": _team(pathway, event.at, emails)},
        correlation_id=str(row.id),
    )
    _timeline(uow, row.id, "tovholder_handed_over", event.at, actor,
              old_tovholder_id=event.old_tovholder_id,
              new_tovholder_id=event.new_tovholder_id, name=event.new_tovholder_name,
              reason=event.reason, handover_note=event.note)


def _write_closed(
    uow: UnitOfWork, row: PathwayRow, pathway: Pathway, event: PathwayClosed, actor: str,
    emails: dict[str, str | None],
) -> None:
    row.closed_at, row.closed_by, row.close_reason = event.at, actor, event.reason
    uow.add_event(
        "coordination.pathway_closed",
        {"pathway_id": row.id, "citizen_ref": row.citizen_ref, "closed_at": event.at},
        correlation_id=str(row.id),
    )
    plan = repository.plan_row(uow.session, row.id)
    if plan is not None:
        deadlines.cancel(uow, ACTIONS_DEADLINE, str(plan.id))
    _timeline(uow, row.id, "pathway_closed", event.at, actor, reason=event.reason)


_PATHWAY_EVENT_WRITERS: dict[type[PathwayEvent], Callable[..., None]] = {
    PathwayOpened: _write_opened,
    MemberAdded: _write_member_added,
    MembershipEnded: _write_membership_ended,
    NetworkPersonAdded: _write_network_person,
    TovholderAppointed: _write_appointed,
    TovholderHandedOver: _write_handed_over,
    PathwayClosed: _write_closed,
}


# --- pathways and teams ---------------------------------------------------------------


def _open(
    uow: UnitOfWork,
    citizen_ref: uuid.UUID,
    actor: str,
    *,
    tovholder: dict[str, Any] | None = None,
    referral_inquiry_id: uuid.UUID | None = None,
    referred_at: dt.datetime | None = None,
    under_30: bool | None = None,
) -> PathwayRow:
    now = uow.clock.now()
    member = _member_from_spec(tovholder, _today(now)) if tovholder else None
    if member is not None:
        require_consent(uow, citizen_ref, member.agency)
    pathway_id = uuid.uuid4()
    pathway = Pathway.open(str(pathway_id), str(citizen_ref), now, tovholder=member)
    row = PathwayRow(id=pathway_id, citizen_ref=citizen_ref, opened_at=now, opened_by=actor,
                     referral_inquiry_id=referral_inquiry_id, referred_at=referred_at,
                     under_30=under_30)
    uow.session.add(row)
    if tovholder:
        _upsert_staff(uow, tovholder["member_id"], tovholder["name"].strip(), tovholder["email"],
                      tovholder.get("phone"))
    uow.session.flush()
    _save_pathway(uow, row, pathway, actor)
    return row


def open_awaiting_tovholder(
    uow: UnitOfWork, citizen_ref: uuid.UUID, referred_by: str, *,
    referral_inquiry_id: uuid.UUID, referred_at: dt.datetime, under_30: bool | None,
) -> PathwayRow:
    """A pathway opened from Fronten's referral, awaiting its tovholder (the caller
    has checked that the citizen has none open)."""
    return _open(uow, citizen_ref, referred_by, referral_inquiry_id=referral_inquiry_id,
                 referred_at=referred_at, under_30=under_30)


def open_pathway(
    uow: UnitOfWork, *, actor: str, citizen_ref: uuid.UUID, tovholder: dict[str, Any] | None,
    under_30: bool | None = None,
) -> dict[str, Any]:
    """Staff open a pathway directly (with its tovholder when already found)."""
    existing = repository.open_pathway_of(uow.session, citizen_ref)
    if existing is not None:
        # One open pathway per citizen; its id only for those who may see it.
        shown = f" ({existing.id})" if sight(uow, actor, existing) is not None else ""
        raise Conflict("citizen_ref", "pathway.already_open",
                       f"the citizen already has an open pathway{shown}")
    row = _open(uow, citizen_ref, actor, tovholder=tovholder, under_30=under_30)
    _log_change(uow, actor, "pathway", row)
    uow.commit()
    return {"pathway_id": str(row.id)}


def find_pathway(uow: UnitOfWork, *, actor: str, citizen_ref: uuid.UUID) -> dict[str, Any] | None:
    """The citizen's open pathway, or None (a search: logged with the citizen). A
    pathway the caller may not see is not found, as if there were none."""
    row = repository.open_pathway_of(uow.session, citizen_ref)
    if row is not None and sight(uow, actor, row) is None:
        row = None
    access.record(uow, actor=actor, action=Action.SEARCH, what="pathway",
                  citizen_ref=citizen_ref, subject_id=row.id if row else None,
                  criterion="citizen_ref", purpose="Finde borgerens forløb")
    uow.commit()
    return None if row is None else {"pathway_id": str(row.id), "opened_at": _iso(row.opened_at)}


def add_member(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, agency: Agency, **spec: Any
) -> dict[str, Any]:
    result = _add_member(uow, actor, pathway_id, agency, spec)
    uow.commit()
    return result


def add_housing_adviser(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, case_id: uuid.UUID | None,
    **spec: Any,
) -> dict[str, Any]:
    """A housing escalation can bring a boligrådgiver (housing adviser) into the team."""
    result = _add_member(uow, actor, pathway_id, Agency.HOUSING, spec)
    if case_id is not None:
        _timeline(uow, pathway_id, "housing_adviser_for_case", uow.clock.now(), actor,
                  member_id=spec["member_id"], case_id=str(case_id))
    uow.commit()
    return result


def _add_member(
    uow: UnitOfWork, actor: str, pathway_id: uuid.UUID, agency: Agency, spec: dict[str, Any]
) -> dict[str, Any]:
    row, pathway = _load(uow, actor, pathway_id, Change.TEAM)
    now = uow.clock.now()
    member = _member_from_spec({**spec, "agency": agency}, _today(now))
    require_consent(uow, row.citizen_ref, member.agency)
    pathway.add_member(member, now)
    _upsert_staff(uow, member.member_id, member.name, spec["email"], spec.get("phone"))
    uow.session.flush()
    _save_pathway(uow, row, pathway, actor)
    _log_change(uow, actor, "team", row, member.member_id)
    return {"pathway_id": str(row.id), "member_id": member.member_id}


def end_membership(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, member_id: str, last_day: dt.date
) -> dict[str, Any]:
    row, pathway = _load(uow, actor, pathway_id, Change.TEAM)
    pathway.end_membership(member_id, last_day, uow.clock.now())
    _save_pathway(uow, row, pathway, actor)
    _log_change(uow, actor, "team", row, member_id)
    uow.commit()
    return {"pathway_id": str(row.id), "member_id": member_id, "last_day": last_day.isoformat()}


def add_network_person(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, person_id: str | None, name: str,
    relation: str, email: str | None = None, phone: str | None = None,
    may_contact: bool = False,
) -> dict[str, Any]:
    """A relative or friend who takes part in meetings; with the citizen's consent
    (`may_contact`) they are invited at their e-mail or phone."""
    row, pathway = _load(uow, actor, pathway_id, Change.NETWORK)
    name, relation = name.strip(), relation.strip()
    if not name or not relation:
        raise DomainError("name" if not name else "relation", "network.text_missing",
                          "give the person's name and their relation to the citizen")
    person = NetworkPerson(person_id or f"n-{uuid.uuid4().hex[:12]}", name, relation,
                           email=(email or "").strip() or None,
                           phone=(phone or "").strip() or None, may_contact=may_contact)
    pathway.add_network_person(person, uow.clock.now())
    _save_pathway(uow, row, pathway, actor)
    _log_change(uow, actor, "network", row, person.person_id)
    uow.commit()
    return {"pathway_id": str(row.id), "person_id": person.person_id,
            "may_contact": person.may_contact}


def appoint_tovholder(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, member_id: str
) -> dict[str, Any]:
    row, pathway = _load(uow, actor, pathway_id, Change.APPOINT)
    pathway.appoint_tovholder(member_id, uow.clock.now())
    _save_pathway(uow, row, pathway, actor)
    _log_change(uow, actor, "tovholder", row, member_id)
    uow.commit()
    return {"pathway_id": str(row.id), "tovholder_id": member_id}


def hand_over_tovholder(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, new_tovholder_id: str, reason: str,
    handover_note: str | None = None,
) -> dict[str, Any]:
    """A new tovholder; the citizen, the new tovholder and the team are told (the note
    goes to the new tovholder and the team only)."""
    row, pathway = _load(uow, actor, pathway_id, Change.HANDOVER)
    pathway.hand_over_tovholder(new_tovholder_id, reason, uow.clock.now(), note=handover_note)
    _save_pathway(uow, row, pathway, actor)
    _log_change(uow, actor, "tovholder", row, new_tovholder_id)
    uow.commit()
    return {"pathway_id": str(row.id), "tovholder_id": new_tovholder_id}


def close_pathway(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, reason: str
) -> dict[str, Any]:
    row, pathway = _load(uow, actor, pathway_id, Change.CLOSE)
    pathway.close(reason, uow.clock.now())
    _save_pathway(uow, row, pathway, actor)
    _log_change(uow, actor, "pathway", row)
    uow.commit()
    return {"pathway_id": str(row.id), "closed_at": _iso(row.closed_at)}


# --- hand-offs: offer referrals and what needs the tovholder's attention -------------------


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


# --- calendars ------------------------------------------------------------------------


def _calendar_owner(uow: UnitOfWork, actor: str, participant_id: str) -> uuid.UUID | None:
    """Who may change a person's calendar (need-to-know): the person themself, a
    tovholder of an open pathway the person takes part in (a team member, a network
    person, or the citizen, whose participant id is the citizen_ref), or a service.
    Returns the citizen_ref when the calendar is a citizen's (a change of citizen data,
    logged)."""
    who = as_actor(actor)
    try:
        citizen: uuid.UUID | None = uuid.UUID(participant_id)
    except ValueError:
        citizen = None
    if who.is_service or who.id == participant_id:
        return citizen
    led = select(TovholderTermRow.pathway_id).join(
        PathwayRow, PathwayRow.id == TovholderTermRow.pathway_id).where(
        TovholderTermRow.member_id == who.id, TovholderTermRow.until.is_(None),
        PathwayRow.closed_at.is_(None))
    takes_part = [
        select(MemberRow.pathway_id).where(MemberRow.pathway_id.in_(led),
                                           MemberRow.member_id == participant_id),
        select(NetworkPersonRow.pathway_id).where(NetworkPersonRow.pathway_id.in_(led),
                                                  NetworkPersonRow.person_id == participant_id),
    ]
    if citizen is not None:
        takes_part.append(select(PathwayRow.id).where(PathwayRow.id.in_(led),
                                                      PathwayRow.citizen_ref == citizen))
    if any(uow.session.execute(query.limit(1)).first() for query in takes_part):
        return citizen
    raise DomainError("actor", "not_allowed",
                      "you may change your own calendar, or the calendars of the people "
                      "on the pathways you lead")


def check_calendar_access(uow: UnitOfWork, actor: str, participant_id: str) -> None:
    """Refuse, before anything is fetched, a calendar the caller may not change."""
    _calendar_owner(uow, actor, participant_id)


def _log_calendar(uow: UnitOfWork, actor: str, citizen: uuid.UUID | None) -> None:
    """A change to the citizen's own calendar is a change of the citizen's data."""
    if citizen is not None:
        access.record(uow, actor=actor, action=Action.CHANGE, what="calendar",
                      citizen_ref=citizen, subject_id=citizen,
                      purpose=PURPOSES["calendar"])


def set_working_hours(
    uow: UnitOfWork, *, actor: str, member_id: str, days: list[dict[str, Any]]
) -> dict[str, Any]:
    row = uow.session.get(StaffRow, member_id)
    if row is None:
        raise NotFound("member_id", f"no staff member {member_id} in any team")
    _calendar_owner(uow, actor, member_id)
    hours: dict[str, list[str]] = {}
    for index, day in enumerate(days):
        if day["weekday"] in hours:
            raise DomainError(f"days.{index}.weekday", "working_hours.duplicate_day",
                              f"{day['weekday']} is given twice; one window per day")
        if day["end"] <= day["start"]:
            raise DomainError(f"days.{index}.end", "working_hours.end_before_start",
                              "the working day must end after it starts")
        hours[day["weekday"]] = [day["start"].strftime("%H:%M"), day["end"].strftime("%H:%M")]
    row.working_hours = hours
    repository.working_hours_of(row)  # the stored form must load back
    uow.commit()
    return {"member_id": member_id, "working_hours": hours}


def add_busy_block(
    uow: UnitOfWork, *, actor: str, participant_id: str, starts_at: dt.datetime,
    ends_at: dt.datetime,
) -> dict[str, Any]:
    citizen = _calendar_owner(uow, actor, participant_id)
    block = BusyBlock(starts_at, ends_at)  # refuses an end before the start
    row = BusyBlockRow(participant_id=participant_id, starts_at=block.start, ends_at=block.end,
                       source="manual", created_at=uow.clock.now(), created_by=actor)
    _log_calendar(uow, actor, citizen)
    uow.session.add(row)
    uow.commit()
    return {"busy_block_id": row.id}


def import_calendar(
    uow: UnitOfWork, *, actor: str, participant_id: str, calendar: str,
    window_start: dt.datetime, window_end: dt.datetime,
) -> dict[str, Any]:
    """Replace the participant's imported blocks in the window with the feed's."""
    citizen = _calendar_owner(uow, actor, participant_id)
    feed = icalfeed.import_busy_blocks(calendar, window_start=window_start,
                                       window_end=window_end)
    _log_calendar(uow, actor, citizen)
    uow.session.execute(
        delete(BusyBlockRow).where(
            BusyBlockRow.participant_id == participant_id,
            BusyBlockRow.source == "ical",
            BusyBlockRow.starts_at < window_end,
            BusyBlockRow.ends_at > window_start,
        )
    )
    now = uow.clock.now()
    for block in feed.blocks:
        uow.session.add(
            BusyBlockRow(participant_id=participant_id, starts_at=block.start, ends_at=block.end,
                         source="ical", ref=(block.ref or "")[:255] or None, created_at=now,
                         created_by=actor)
        )
    uow.commit()
    return {
        "participant_id": participant_id,
        "imported": len(feed.blocks),
        "ignored": [{"uid": i.uid, "reason": i.reason} for i in feed.ignored],
    }


def set_citizen_preferences(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, not_before: dt.time | None,
    not_after: dt.time | None, weekdays: list[str], place: Any,
) -> dict[str, Any]:
    row, _ = changeable_pathway(uow, actor, pathway_id, Change.PREFERENCES)
    if not_before is not None and not_after is not None and not_after <= not_before:
        raise DomainError("not_after", "preferences.window_empty",
                          "'not after' must be later than 'not before'")
    prefs = {
        "not_before": not_before.strftime("%H:%M") if not_before else None,
        "not_after": not_after.strftime("%H:%M") if not_after else None,
        "weekdays": sorted(set(weekdays), key=repository.WEEKDAYS.index),
        "place": MeetingPlace(getattr(place, "value", place)).value,
    }
    row.preferences = prefs
    _timeline(uow, row.id, "citizen_preferences_set", uow.clock.now(), actor, **prefs)
    _log_change(uow, actor, "preferences", row)
    uow.commit()
    return {"pathway_id": str(row.id), "preferences": prefs}


# --- meetings -------------------------------------------------------------------------


def _invitees(pathway: Pathway, invitees: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The invitation list: the tovholder and the citizen first (always required),
    then the others as asked. A participant listed twice is an error."""
    tovholder = pathway.tovholder_id
    if tovholder is None:
        raise Conflict("tovholder", "pathway.tovholder_missing",
                       "appoint a tovholder before planning meetings")
    result = [{"participant_id": tovholder, "required": True},
              {"participant_id": pathway.citizen_id, "required": True}]
    seen = {tovholder, pathway.citizen_id}
    for index, invitee in enumerate(invitees):
        pid = invitee["participant_id"]
        if pid in seen:
            if pid in (tovholder, pathway.citizen_id):
                continue  # always invited anyway
            raise DomainError(f"participants.{index}.participant_id",
                              "meeting.participant_duplicate", f"{pid} is listed twice")
        known = pid in pathway.members or pid in pathway.network
        if not known:
            raise DomainError(f"participants.{index}.participant_id",
                              "meeting.unknown_participant",
                              f"{pid} is not in the pathway's team or network")
        seen.add(pid)
        result.append({"participant_id": pid, "required": bool(invitee.get("required", True))})
    return result


def _kind(pathway: Pathway, participant_id: str) -> ParticipantKind:
    if participant_id == pathway.tovholder_id:
        return ParticipantKind.TOVHOLDER
    if participant_id == pathway.citizen_id:
        return ParticipantKind.CITIZEN
    if participant_id in pathway.network:
        return ParticipantKind.NETWORK
    return ParticipantKind.MEMBER


_ROLE = {
    ParticipantKind.TOVHOLDER: MeetingRole.TOVHOLDER,
    ParticipantKind.CITIZEN: MeetingRole.CITIZEN,
    ParticipantKind.NETWORK: MeetingRole.NETWORK,
    ParticipantKind.MEMBER: MeetingRole.MEMBER,
}


def _scheduling_participants(
    uow: UnitOfWork, pathway: Pathway, invitees: list[dict[str, Any]],
    start: dt.datetime, end: dt.datetime,
) -> list[Participant]:
    """Invitees with their working hours (staff) and busy blocks in [start, end)."""
    ids = [i["participant_id"] for i in invitees]
    staff = repository.staff(uow.session, (pid for pid in ids if pid in pathway.members))
    busy = repository.busy_blocks(uow.session, ids, start, end)
    result = []
    for invitee in invitees:
        pid = invitee["participant_id"]
        kind = _kind(pathway, pid)
        is_staff = pid in pathway.members
        label = (pathway.members[pid].name if is_staff
                 else pathway.network[pid].name if pid in pathway.network else CITIZEN_LABEL)
        result.append(
            Participant(
                participant_id=pid,
                role=_ROLE[kind],
                required=invitee["required"],
                working_hours=repository.working_hours_of(staff.get(pid)) if is_staff else None,
                busy=tuple(busy[pid]),
                name=label,
            )
        )
    return result


def _wire_participants(
    uow: UnitOfWork, pathway: Pathway, invitees: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Participants as the meeting events carry them: staff with their work e-mail,
    the citizen and the network without any address."""
    staff = repository.staff(uow.session, pathway.members)
    wire = []
    for invitee in invitees:
        pid = invitee["participant_id"]
        kind = _kind(pathway, pid)
        if pid in pathway.members:
            name, email = pathway.members[pid].name, getattr(staff.get(pid), "email", None)
        elif pid in pathway.network:
            name, email = pathway.network[pid].name, None
        else:
            name, email = CITIZEN_LABEL, None
        required = invitee["required"] or kind in (ParticipantKind.TOVHOLDER,
                                                   ParticipantKind.CITIZEN)
        wire.append({"participant_id": pid, "kind": kind, "required": required,
                     "name": name, "email": email})
    return wire


def _meeting_payload(
    uow: UnitOfWork, row: PathwayRow, pathway: Pathway, meeting: MeetingRow
) -> dict[str, Any]:
    return {
        "meeting_id": meeting.id,
        "pathway_id": row.id,
        "citizen_ref": row.citizen_ref,
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "place": meeting.place,
        "sequence": meeting.sequence,
        "participants": _wire_participants(uow, pathway, meeting.participants),
    }


def busy_times(uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID,
               window_start: dt.datetime, window_end: dt.datetime) -> dict[str, Any]:
    """When the citizen, the team and the network are busy in the window: times only
    (the week grid of the scheduling page), for whoever may plan the pathway's meetings."""
    row, _ = changeable_pathway(uow, actor, pathway_id, Change.MEETING)
    pathway = repository.load_pathway(uow.session, row)
    people = [pathway.citizen_id, *pathway.members, *pathway.network]
    found = repository.busy_blocks(uow.session, people, window_start, window_end)
    access.record(uow, actor=actor, action=Action.READ, what="pathway", citizen_ref=row.citizen_ref,
                  subject_id=row.id, purpose="Finde mødetider med borgeren og teamet")
    uow.commit()
    return {
        "pathway_id": str(row.id),
        "participants": [
            {"participant_id": pid,
             "busy": [{"starts_at": _iso(b.start), "ends_at": _iso(b.end), "ref": b.ref}
                      for b in sorted(found.get(pid, []), key=lambda b: b.start)]}
            for pid in people
        ],
    }


def propose_slots(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, length_minutes: int,
    horizon_start: dt.datetime, horizon_end: dt.datetime, participants: list[dict[str, Any]],
    limit: int, max_per_day: int | None, meeting_id: uuid.UUID | None,
) -> dict[str, Any]:
    """The best candidate slots (nothing is written); the tovholder's planning tool."""
    row, _ = changeable_pathway(uow, actor, pathway_id, Change.MEETING)
    pathway = repository.load_pathway(uow.session, row)
    invitees = _invitees(pathway, participants)
    if horizon_end <= horizon_start:
        raise DomainError("horizon_end", "slots.horizon_invalid",
                          "the horizon must end after it starts")
    start = max(horizon_start, uow.clock.now())  # no slot in the past
    if horizon_end <= start:
        raise DomainError("horizon_end", "slots.horizon_in_past", "the horizon has passed")
    search = find_slots(
        _scheduling_participants(uow, pathway, invitees, start, horizon_end),
        dt.timedelta(minutes=length_minutes),
        start,
        horizon_end,
        limit=limit,
        preferences=repository.preferences_of(row),
        max_per_day=max_per_day,
        ignore_ref=str(meeting_id) if meeting_id else None,
    )
    access.record(uow, actor=actor, action=Action.READ, what="pathway", citizen_ref=row.citizen_ref,
                  subject_id=row.id, purpose="Finde mødetider med borgeren og teamet")
    uow.commit()
    return {
        "pathway_id": str(row.id),
        "slots": [
            {"starts_at": _iso(p.start), "ends_at": _iso(p.end), "place": p.place.value,
             "optional_attending": list(p.optional_attending),
             "optional_missing": list(p.optional_missing),
             "preference_misses": list(p.preference_misses)}
            for p in search.proposals
        ],
        "searched": {"days": search.stats.days_examined,
                     "feasible_starts": search.stats.feasible_starts},
    }


def schedule_meeting(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, starts_at: dt.datetime,
    ends_at: dt.datetime, place: Any, participants: list[dict[str, Any]],
) -> dict[str, Any]:
    row, pathway = _load(uow, actor, pathway_id, Change.MEETING)
    invitees = _invitees(pathway, participants)
    now = uow.clock.now()
    where = MeetingPlace(getattr(place, "value", place)) if place else (
        repository.preferences_of(row).place)
    meeting_id = uuid.uuid4()
    # Who may come (team and network, not in the past), then calendars and holidays.
    pathway.schedule_meeting(str(meeting_id), starts_at, ends_at, where,
                             [i["participant_id"] for i in invitees], now)
    check = check_meeting(
        _scheduling_participants(uow, pathway, invitees, starts_at, ends_at), starts_at, ends_at
    )
    meeting = MeetingRow(
        id=meeting_id, pathway_id=row.id, starts_at=starts_at, ends_at=ends_at,
        place=where.value, status="planned", sequence=0, participants=invitees, present=[],
        citizen_present=False, tovholder_present=False, decisions=[], scheduled_at=now,
        scheduled_by=actor,
    )
    uow.session.add(meeting)
    uow.session.flush()
    for invitee in invitees:
        uow.session.add(MeetingParticipantRow(meeting_id=meeting_id,
                                              participant_id=invitee["participant_id"]))
    uow.add_event("coordination.meeting_scheduled", _meeting_payload(uow, row, pathway, meeting),
                  correlation_id=str(row.id))
    _timeline(uow, row.id, "meeting_scheduled", now, actor, meeting_id=str(meeting_id),
              starts_at=_iso(starts_at), ends_at=_iso(ends_at), place=where.value,
              participants=[i["participant_id"] for i in invitees])
    _log_change(uow, actor, "meeting", row, meeting_id)
    uow.commit()
    return {"meeting_id": str(meeting_id), "sequence": 0,
            "optional_unavailable": list(check.optional_unavailable)}


def _load_meeting(
    uow: UnitOfWork, actor: str, meeting_id: uuid.UUID
) -> tuple[MeetingRow, PathwayRow, Pathway]:
    """A meeting the caller may change, with its pathway locked (a meeting of a pathway
    they may not see answers as a missing meeting)."""
    meeting, row, _ = visible_meeting(uow, actor, meeting_id)
    uow.session.refresh(meeting)
    return meeting, row, repository.load_pathway(uow.session, row)


def reschedule_meeting(
    uow: UnitOfWork, *, actor: str, meeting_id: uuid.UUID, starts_at: dt.datetime,
    ends_at: dt.datetime, reason: str, place: Any,
) -> dict[str, Any]:
    meeting, row, pathway = _load_meeting(uow, actor, meeting_id)
    now = uow.clock.now()
    where = MeetingPlace(getattr(place, "value", place)) if place else None
    pathway.reschedule_meeting(str(meeting_id), starts_at, ends_at, now, reason=reason,
                               place=where)
    invitees = list(meeting.participants)
    tovholder = pathway.tovholder_id
    if tovholder is not None and tovholder not in {i["participant_id"] for i in invitees}:
        # The tovholder changed since the meeting was planned: the new one comes too.
        invitees.insert(0, {"participant_id": tovholder, "required": True})
        uow.session.add(MeetingParticipantRow(meeting_id=meeting.id, participant_id=tovholder))
    check = check_meeting(
        _scheduling_participants(uow, pathway, invitees, starts_at, ends_at),
        starts_at, ends_at, ignore_ref=str(meeting_id),
    )
    old_start = meeting.starts_at
    meeting.starts_at, meeting.ends_at = starts_at, ends_at
    meeting.place = pathway.meetings[str(meeting_id)].place.value
    meeting.participants = invitees
    meeting.sequence += 1
    uow.session.flush()
    uow.add_event("coordination.meeting_rescheduled",
                  _meeting_payload(uow, row, pathway, meeting), correlation_id=str(row.id))
    _timeline(uow, row.id, "meeting_rescheduled", now, actor, meeting_id=str(meeting_id),
              old_starts_at=_iso(old_start), starts_at=_iso(starts_at), ends_at=_iso(ends_at),
              reason=reason.strip() or None, sequence=meeting.sequence)
    _log_change(uow, actor, "meeting", row, meeting_id)
    uow.commit()
    return {"meeting_id": str(meeting_id), "sequence": meeting.sequence,
            "optional_unavailable": list(check.optional_unavailable)}


def cancel_meeting(
    uow: UnitOfWork, *, actor: str, meeting_id: uuid.UUID, reason: str
) -> dict[str, Any]:
    meeting, row, pathway = _load_meeting(uow, actor, meeting_id)
    now = uow.clock.now()
    pathway.cancel_meeting(str(meeting_id), reason, now)
    meeting.status = "cancelled"
    meeting.cancel_reason = reason.strip()
    meeting.sequence += 1
    uow.session.flush()
    uow.add_event("coordination.meeting_cancelled",
                  _meeting_payload(uow, row, pathway, meeting), correlation_id=str(row.id))
    _timeline(uow, row.id, "meeting_cancelled", now, actor, meeting_id=str(meeting_id),
              reason=reason.strip(), sequence=meeting.sequence)
    _log_change(uow, actor, "meeting", row, meeting_id)
    uow.commit()
    return {"meeting_id": str(meeting_id), "sequence": meeting.sequence}


def record_meeting_held(
    uow: UnitOfWork, *, actor: str, meeting_id: uuid.UUID, present: list[str],
    decisions: list[str],
) -> dict[str, Any]:
    meeting, row, pathway = _load_meeting(uow, actor, meeting_id)
    now = uow.clock.now()
    held = pathway.record_meeting_held(str(meeting_id), present, now)
    meeting.status = "held"
    meeting.present = list(held.present)
    meeting.citizen_present = held.citizen_present
    meeting.tovholder_present = held.tovholder_present
    meeting.decisions = [d.strip() for d in decisions if d.strip()]
    meeting.held_at = now
    uow.add_event(
        "coordination.meeting_held",
        {"meeting_id": meeting.id, "pathway_id": row.id, "citizen_ref": row.citizen_ref,
         "held_at": now, "citizen_present": held.citizen_present,
         "tovholder_present": held.tovholder_present},
        correlation_id=str(row.id),
    )
    _timeline(uow, row.id, "meeting_held", now, actor, meeting_id=str(meeting_id),
              present=list(held.present), decisions=meeting.decisions)
    _log_change(uow, actor, "meeting", row, meeting_id)
    uow.commit()
    return {"meeting_id": str(meeting_id), "citizen_present": held.citizen_present,
            "tovholder_present": held.tovholder_present}


# --- the handleplan -----------------------------------------------------------------


def _goals(specs: list[dict[str, Any]]) -> list[plans.Goal]:
    return [
        plans.Goal(
            goal_id=spec.get("goal_id") or f"g-{uuid.uuid4().hex[:12]}",
            text=spec["text"],
            voice=plans.GoalVoice(spec.get("voice", "citizen")),
            actions=tuple(
                plans.Action(
                    action_id=a.get("action_id") or f"a-{uuid.uuid4().hex[:12]}",
                    text=a["text"],
                    owner_id=a["owner_id"],
                    due=a["due_on"],
                )
                for a in spec.get("actions", ())
            ),
        )
        for spec in specs
    ]


def _team_ids(pathway: Pathway, at: dt.datetime) -> set[str]:
    return {m.member_id for m in pathway.active_members(_today(at))}


def _save_plan(
    uow: UnitOfWork, plan_row: PlanRow, plan: plans.Handleplan, pathway_row: PathwayRow,
    actor: str | None, notice_days: int,
) -> None:
    """Write the plan's domain events as rows, timeline entries and outbox messages,
    then store the next day something falls due as the plan's deadline."""
    now = uow.clock.now()
    owners: dict[str, StaffRow] = {}
    tovholder_email: str | None = None
    if any(isinstance(e, plans.ActionDue | plans.ActionOverdue) for e in plan.events):
        tovholder_email = repository.staff_email(
            uow.session, repository.current_tovholder(uow.session, pathway_row.id))
    for event in plan.events:
        if isinstance(event, plans.PlanVersionCreated):
            version = plan.version(event.version)
            uow.session.add(PlanVersionRow(
                plan_id=plan_row.id, number=version.number,
                goals=[repository.goal_to_json(g) for g in version.goals],
                created_at=version.created_at, created_by=version.created_by))
            _timeline(uow, pathway_row.id, "plan_version_created", event.at, actor,
                      plan_id=str(plan_row.id), version=event.version, goals=event.goals,
                      actions=event.actions)
        elif isinstance(event, plans.PlanVersionAgreed):
            version_row = uow.session.get(PlanVersionRow, (plan_row.id, event.version))
            assert version_row is not None
            version_row.agreed_at, version_row.agreed_how = event.at, event.how.value
            version_row.agreement_recorded_by = actor
            uow.add_event(
                "coordination.plan_agreed",
                {"pathway_id": pathway_row.id, "citizen_ref": pathway_row.citizen_ref,
                 "plan_id": plan_row.id, "version": event.version, "agreed_at": event.at,
                 "how": event.how.value},
                correlation_id=str(pathway_row.id),
            )
            _timeline(uow, pathway_row.id, "plan_agreed", event.at, actor,
                      plan_id=str(plan_row.id), version=event.version, how=event.how.value)
        elif isinstance(event, plans.ActionStatusChanged):
            status_row = uow.session.get(ActionStatusRow, (plan_row.id, event.action_id))
            if status_row is None:
                uow.session.add(ActionStatusRow(plan_id=plan_row.id, action_id=event.action_id,
                                                status=event.new_status.value,
                                                changed_at=event.at))
            else:
                status_row.status, status_row.changed_at = event.new_status.value, event.at
            _timeline(uow, pathway_row.id, "action_status_changed", event.at, actor,
                      action_id=event.action_id, status=event.new_status.value)
        elif isinstance(event, plans.ActionDue | plans.ActionOverdue):
            overdue = isinstance(event, plans.ActionOverdue)
            kind = plans.OVERDUE if overdue else plans.DUE
            uow.session.add(ActionAnnouncementRow(plan_id=plan_row.id, kind=kind,
                                                  action_id=event.action_id, due_on=event.due,
                                                  announced_at=now))
            if event.owner_id not in owners:
                owners.update(repository.staff(uow.session, [event.owner_id]))
            owner = owners.get(event.owner_id)
            uow.add_event(
                f"coordination.action_{kind}",
                {"pathway_id": pathway_row.id, "citizen_ref": pathway_row.citizen_ref,
                 "action_id": event.action_id, "owner_id": event.owner_id,
                 "owner_email": owner.email if owner else None, "due_on": event.due,
                 "tovholder_email": tovholder_email},
                correlation_id=str(pathway_row.id),
            )
            _timeline(uow, pathway_row.id, f"action_{kind}", now, actor,
                      action_id=event.action_id, owner_id=event.owner_id,
                      due_on=event.due.isoformat())
    plan.events.clear()
    # New actions start open: keep their status rows so a restart knows them.
    for _, action in plan.current.actions:
        if uow.session.get(ActionStatusRow, (plan_row.id, action.action_id)) is None:
            uow.session.add(ActionStatusRow(plan_id=plan_row.id, action_id=action.action_id,
                                            status=plan.status_of(action.action_id).value,
                                            changed_at=now))
    uow.session.flush()
    repository.sync_plan_actions(uow.session, plan_row, plan)
    next_day = plans.next_announcement_day(plan, _today(now), notice_days=notice_days)
    if next_day is None or pathway_row.closed_at is not None:
        deadlines.cancel(uow, ACTIONS_DEADLINE, str(plan_row.id))
    else:
        midnight = dt.datetime.combine(next_day, dt.time(), tzinfo=COPENHAGEN)
        deadlines.schedule(uow, ACTIONS_DEADLINE, str(plan_row.id), midnight.astimezone(dt.UTC))
    uow.session.flush()


def no_plan() -> NotFound:
    """The answer for a pathway without a plan, and for a plan the caller may not see."""
    return NotFound("pathway_id", "the pathway has no handleplan yet; draft one")


def _open_plan(uow: UnitOfWork, pathway_id: uuid.UUID) -> tuple[PlanRow, plans.Handleplan]:
    row = repository.plan_row(uow.session, pathway_id)
    if row is None:
        raise no_plan()
    return row, repository.load_plan(uow.session, row)


def draft_plan(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, goals: list[dict[str, Any]],
    notice_days: int = 0,
) -> dict[str, Any]:
    row, pathway = _load(uow, actor, pathway_id, Change.PLAN)
    if pathway.is_closed:
        raise Conflict("pathway", "pathway.closed", "the pathway is closed")
    existing = repository.plan_row(uow.session, pathway_id)
    if existing is not None:
        # Two editors drafting at once: the second is told which version now stands.
        current = repository.load_plan(uow.session, existing).current.number
        raise plans.PlanVersionConflict(
            "pathway_id", "plan.exists",
            f"the pathway has a handleplan (version {current}); revise it instead",
            current_version=current)
    now = uow.clock.now()
    plan_id = uuid.uuid4()
    plan = plans.Handleplan.draft(str(plan_id), str(row.id), _goals(goals),
                                  _team_ids(pathway, now), now, drafted_by=actor)
    plan_row = PlanRow(id=plan_id, pathway_id=row.id, created_at=now)
    uow.session.add(plan_row)
    uow.session.flush()
    _save_plan(uow, plan_row, plan, row, actor, notice_days)
    _log_change(uow, actor, "plan", row, plan_id)
    uow.commit()
    return _plan_summary(plan_row, plan)


def revise_plan(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, goals: list[dict[str, Any]],
    base_version: int | None = None, notice_days: int = 0,
) -> dict[str, Any]:
    """A new version of the plan. `base_version` is the version the editor started
    from: the pathway row is locked (`_load`), so of two revisions based on the same
    version exactly one is made and the other is refused (plan.version_conflict)."""
    row, pathway = _load(uow, actor, pathway_id, Change.PLAN)
    if pathway.is_closed:
        raise Conflict("pathway", "pathway.closed", "the pathway is closed")
    plan_row, plan = _open_plan(uow, pathway_id)
    now = uow.clock.now()
    plan.revise(_goals(goals), _team_ids(pathway, now), now, revised_by=actor,
                based_on=base_version)
    _save_plan(uow, plan_row, plan, row, actor, notice_days)
    _log_change(uow, actor, "plan", row, plan_row.id)
    uow.commit()
    return _plan_summary(plan_row, plan)


def record_plan_agreement(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, version: int, how: str,
    notice_days: int = 0,
) -> dict[str, Any]:
    row, _pathway = _load(uow, actor, pathway_id, Change.PLAN)
    plan_row, plan = _open_plan(uow, pathway_id)
    plan.record_agreement(version, uow.clock.now(), how, recorded_by=actor)
    _save_plan(uow, plan_row, plan, row, actor, notice_days)
    _log_change(uow, actor, "plan", row, plan_row.id)
    uow.commit()
    return _plan_summary(plan_row, plan)


def set_action_status(
    uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID, action_id: str, status: str,
    notice_days: int = 0,
) -> dict[str, Any]:
    """The action's status, by the tovholder or by the action's owner (a team member
    who sees the plan)."""
    row, seen = visible_pathway(uow, actor, pathway_id, lock=True)
    if not seen.sees(needtoknow.PLAN):
        raise no_plan()  # a plan the caller may not see answers as no plan
    plan_row, plan = _open_plan(uow, pathway_id)
    owner = next((a.owner_id for _, a in plan.current.actions if a.action_id == action_id),
                 None)
    needtoknow.require_change(seen, Change.ACTION_STATUS,
                              owns_action=owner is not None and owner == as_actor(actor).id)
    plan.mark_action(action_id, plans.ActionStatus(status), uow.clock.now())
    _save_plan(uow, plan_row, plan, row, actor, notice_days)
    _log_change(uow, actor, "plan", row, action_id)
    uow.commit()
    return {"action_id": action_id, "status": status}


def _plan_summary(row: PlanRow, plan: plans.Handleplan) -> dict[str, Any]:
    agreed = plan.agreed
    return {"plan_id": str(row.id), "version": plan.current.number,
            "agreed_version": agreed.number if agreed else None}


def announce_due_actions(store: Store, now: dt.datetime, *, notice_days: int = 0) -> int:
    """The timer sweep: for each plan whose next due day has come, publish its
    action_due/action_overdue events once and store the next day. Returns how many
    plans were swept."""
    swept = 0
    for deadline in deadlines.due_deadlines(store, now):
        if deadline.kind != ACTIONS_DEADLINE:
            continue
        with store.unit_of_work() as uow:
            if not deadlines.fire(uow, deadline):
                continue  # another sweep got it first
            plan_row = uow.session.get(PlanRow, uuid.UUID(deadline.subject_id))
            if plan_row is None:
                uow.commit()
                continue
            pathway_row = repository.pathway_row(uow.session, plan_row.pathway_id, lock=True)
            plan = repository.load_plan(uow.session, plan_row)
            today = _today(now)
            plans.due_actions(plan, today, notice_days=notice_days)
            plans.overdue_actions(plan, today)
            _save_plan(uow, plan_row, plan, pathway_row, None, notice_days)
            uow.commit()
            swept += 1
    return swept
