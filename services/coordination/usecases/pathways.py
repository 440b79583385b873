"""Pathways and teams: open, find and close a pathway; team members, network persons,
the tovholder's appointment and handover; the citizen's consent a team member needs."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from contracts.vocabulary import Agency
from services.common import access
from services.common.access import Action
from services.common.db import UnitOfWork
from services.common.errors import Conflict, DomainError
from services.coordination import needtoknow, repository
from services.coordination.models import PathwayRow, StaffRow
from services.coordination.needtoknow import Change
from services.coordination.pathways import NetworkPerson, Pathway, TeamMember
from services.coordination.usecases.pathway_events import _save_pathway
from services.coordination.usecases.shared import _iso, _load, _log_change, _timeline, _today
from services.coordination.visibility import sight


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
