"""The directory of partners and offers: operators keep it, staff read it.

Every create and change publishes `partners.partner_registered` (the whole entry, with
`active`), so that intake knows the consent recipients and notifications the partners
its subscriptions may deliver to. The directory holds no citizen data: reading it is
not written to the access log.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from contracts.actor import Actor, ActorKind, StaffRole
from contracts.partners import PartnerView
from contracts.vocabulary import HandoffKind, PartnerCategory
from services.common import worklist
from services.common.db import Store, UnitOfWork
from services.common.errors import Conflict, DomainError, NotFound
from services.partners import danish
from services.partners.lifecycle import check_accepts
from services.partners.models import Partner, PartnerAccepts

DIRECTORY_LIST = "partners.directory"
NOT_FOUND_MESSAGE = "No such partner."
_FIELDS = ("name", "category", "contact_name", "contact_email", "contact_phone", "description")


def _require_operator(actor: Actor) -> None:
    if actor.kind is ActorKind.SERVICE or actor.has_role(StaffRole.OPERATOR):
        return
    raise DomainError("actor", "not_allowed", "Only operators keep the directory of partners.")


def _require_reader(actor: Actor) -> None:
    if actor.kind in (ActorKind.SERVICE, ActorKind.STAFF):
        return
    raise DomainError("actor", "not_allowed", "The directory is for the municipality's staff.")


def accepts_of(session: Session, partner_ids: Iterable[str]) -> dict[str, list[str]]:
    """The hand-off kinds each partner accepts, in the vocabulary's order."""
    wanted = sorted(set(partner_ids))
    found: dict[str, list[str]] = {pid: [] for pid in wanted}
    if not wanted:
        return found
    rows = session.execute(
        select(PartnerAccepts.partner_id, PartnerAccepts.kind)
        .where(PartnerAccepts.partner_id.in_(wanted))
    ).all()
    order = {kind.value: i for i, kind in enumerate(HandoffKind)}
    for partner_id, kind in rows:
        found[partner_id].append(kind)
    return {pid: sorted(kinds, key=lambda k: order.get(k, 99)) for pid, kinds in found.items()}


def view(partner: Partner, accepts: list[str]) -> dict[str, Any]:
    """A directory entry as staff read it (wire form), with Danish words beside codes."""
    data = {
        "partner_id": partner.partner_id,
        "name": partner.name,
        "category": partner.category,
        "category_text": danish.CATEGORY_TEXT[PartnerCategory(partner.category)],
        "accepts": accepts,
        "accepts_text": [danish.KIND_TEXT[HandoffKind(k)] for k in accepts],
        "contact_name": partner.contact_name,
        "contact_email": partner.contact_email,
        "contact_phone": partner.contact_phone,
        "description": partner.description,
        "active": partner.active,
        "registered_at": partner.registered_at,
        "changed_at": partner.changed_at,
        "changed_by": partner.changed_by,
    }
    dumped: dict[str, Any] = PartnerView().dump(data)
    return dumped


def _check_contact(partner: Partner) -> None:
    if not partner.contact_name:
        raise DomainError("contact_name", "partner.contact_missing",
                          "Name the contact at the partner (a person or a desk).")
    if not partner.contact_email and not partner.contact_phone:
        raise DomainError("contact_email", "partner.contact_missing",
                          "Give the contact's e-mail address or phone number.")


def _publish(uow: UnitOfWork, partner: Partner, accepts: list[str]) -> None:
    uow.add_event(
        "partners.partner_registered",
        {"partner_id": partner.partner_id, "name": partner.name,
         "category": partner.category, "accepts": accepts, "active": partner.active,
         "changed_at": partner.changed_at},
        correlation_id=partner.partner_id,
    )


def _set_accepts(session: Session, partner_id: str, accepts: list[HandoffKind]) -> list[str]:
    session.execute(delete(PartnerAccepts).where(PartnerAccepts.partner_id == partner_id))
    kinds = sorted({str(k) for k in accepts}, key=lambda k: list(HandoffKind).index(
        HandoffKind(k)))
    session.add_all(PartnerAccepts(partner_id=partner_id, kind=k) for k in kinds)
    return kinds


def _load(session: Session, partner_id: str, *, lock: bool = False) -> Partner:
    query = select(Partner).where(Partner.partner_id == partner_id)
    if lock:
        query = query.with_for_update()
    partner = session.scalars(query).first()
    if partner is None:
        raise NotFound("partner_id", NOT_FOUND_MESSAGE)
    return partner


def register_partner(
    uow: UnitOfWork, *, actor: Actor, partner_id: str, name: str, category: PartnerCategory,
    accepts: list[HandoffKind], contact_name: str, contact_email: str | None,
    contact_phone: str | None, description: str | None,
) -> dict[str, Any]:
    """Add a partner to the directory (operators). An id already in use is a conflict:
    change an entry with update_partner."""
    _require_operator(actor)
    session = uow.session
    if session.scalar(select(exists().where(Partner.partner_id == partner_id))):
        raise Conflict("partner_id", "partner.exists",
                       f"The directory already has {partner_id}; change it with update_partner.")
    check_accepts(category, accepts)
    now = uow.clock.now()
    partner = Partner(
        partner_id=partner_id, name=name.strip(), category=str(category),
        contact_name=contact_name.strip(), contact_email=_lower(contact_email),
        contact_phone=_strip(contact_phone), description=_strip(description), active=True,
        registered_at=now, registered_by=str(actor), changed_at=now, changed_by=str(actor),
    )
    _check_contact(partner)
    session.add(partner)
    session.flush()
    kinds = _set_accepts(session, partner_id, accepts)
    _publish(uow, partner, kinds)
    result = view(partner, kinds)
    uow.commit()
    return result


def update_partner(uow: UnitOfWork, *, actor: Actor, partner_id: str,
                   **changes: Any) -> dict[str, Any]:
    """Change the fields given (operators); `active: true` takes a deactivated partner
    back into use."""
    _require_operator(actor)
    session = uow.session
    partner = _load(session, partner_id, lock=True)
    for name in _FIELDS:
        if name in changes:
            value = changes[name]
            if name == "category":
                value = str(value)
            elif name == "contact_email":
                value = _lower(value)
            elif isinstance(value, str):
                value = value.strip() or None
            if name in ("name", "category") and value is None:
                raise DomainError(name, "partner.required", f"A partner must have a {name}.")
            setattr(partner, name, value)
    if "active" in changes:
        partner.active = bool(changes["active"])
    category = PartnerCategory(partner.category)
    if "accepts" in changes:
        kinds_given = [HandoffKind(k) for k in changes["accepts"]]
    else:
        kinds_given = [HandoffKind(k) for k in accepts_of(session, [partner_id])[partner_id]]
    check_accepts(category, kinds_given)
    _check_contact(partner)
    partner.changed_at = uow.clock.now()
    partner.changed_by = str(actor)
    kinds = _set_accepts(session, partner_id, kinds_given)
    _publish(uow, partner, kinds)
    result = view(partner, kinds)
    uow.commit()
    return result


def deactivate_partner(uow: UnitOfWork, *, actor: Actor, partner_id: str) -> dict[str, Any]:
    """Take a partner out of use: no new hand-offs go to it; its open ones can still be
    answered (operators)."""
    _require_operator(actor)
    session = uow.session
    partner = _load(session, partner_id, lock=True)
    kinds = accepts_of(session, [partner_id])[partner_id]
    if partner.active:
        partner.active = False
        partner.changed_at = uow.clock.now()
        partner.changed_by = str(actor)
        _publish(uow, partner, kinds)
    result = view(partner, kinds)
    uow.commit()
    return result


def get_partner(store: Store, *, actor: Actor, partner_id: str) -> dict[str, Any]:
    """One directory entry: staff and services read any; a partner reads only its own."""
    if actor.kind is ActorKind.PARTNER and actor.partner_id != partner_id:
        raise NotFound("partner_id", NOT_FOUND_MESSAGE)
    with store.read() as session:
        partner = _load(session, partner_id)
        return view(partner, accepts_of(session, [partner_id])[partner_id])


def list_partners(
    store: Store, *, actor: Actor, cursor: str | None, limit: int,
    category: PartnerCategory | None = None, accepts: HandoffKind | None = None,
    active: bool | None = None,
) -> dict[str, Any]:
    """The directory by name (staff and services), filtered by category, by a hand-off
    kind accepted, and by active."""
    _require_reader(actor)
    query: Any = select(Partner.name, Partner.partner_id, Partner)
    if category is not None:
        query = query.where(Partner.category == str(category))
    if active is not None:
        query = query.where(Partner.active.is_(active))
    if accepts is not None:
        query = query.where(exists().where(
            PartnerAccepts.partner_id == Partner.partner_id,
            PartnerAccepts.kind == str(accepts)))
    with store.read() as session:
        page = worklist.paginate(
            session, query,
            order=[worklist.asc(Partner.name), worklist.asc(Partner.partner_id)],
            list_name=DIRECTORY_LIST, cursor=cursor, limit=limit,
        )
        kinds = accepts_of(session, [row.Partner.partner_id for row in page.rows])
        return page.render(lambda row: view(row.Partner, kinds[row.Partner.partner_id]))


def active_partners(session: Session, *, accepts: HandoffKind | None = None,
                    category: PartnerCategory | None = None) -> list[Partner]:
    """The active partners that accept a kind, or are of a category (by id)."""
    query = select(Partner).where(Partner.active.is_(True))
    if accepts is not None:
        query = query.where(exists().where(
            PartnerAccepts.partner_id == Partner.partner_id,
            PartnerAccepts.kind == str(accepts)))
    if category is not None:
        query = query.where(Partner.category == str(category))
    return list(session.scalars(query.order_by(Partner.partner_id)).all())


def _strip(value: str | None) -> str | None:
    return (value or "").strip() or None


def _lower(value: str | None) -> str | None:
    stripped = _strip(value)
    return stripped.lower() if stripped else None
