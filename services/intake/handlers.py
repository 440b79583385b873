"""intake's use cases: load, apply the domain rules, save, add outbox events, commit.

Each function runs in one unit of work: rows, outbox events, deadline rows and the
access-log entry commit together or not at all. A DomainError raised before the
commit leaves nothing written and nothing published.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from contracts.envelope import Envelope
from contracts.vocabulary import (
    INFORMATION_KINDS,
    Agency,
    Channel,
    ConsentPurpose,
    CourseKind,
    HandoffKind,
    HandoffState,
    InquirerKind,
    Outcome,
    PartnerKind,
    Topic,
)
from services.common import access
from services.common import deadlines as stored_deadlines
from services.common.access import Action
from services.common.db import Store, UnitOfWork
from services.common.errors import Conflict, DomainError, NotFound
from services.common.localtime import local_day, start_of_local_day
from services.intake import (
    courses,
    danish,
    flags,
    inquiries,
    projections,
    statistics,
    statistics_sql,
)
from services.intake import need_to_know as ntk
from services.intake.citizens import (
    check_contact,
    clean_address,
    clean_name,
    match_criterion,
    name_key,
    unambiguous,
)
from services.intake.consent import AGENCIES, Consent, CorrectionReason, check_recipient
from services.intake.cpr import parse_cpr, target_group
from services.intake.models import (
    Citizen,
    ConsentRow,
    CourseNotice,
    CourseResponsibleRow,
    CourseRow,
    CourseTimelineRow,
    Inquiry,
    TargetGroupFlag,
)
from services.intake.repository import (
    Responsible,
    get_course_row,
    load_consent,
    load_course,
    new_course_row,
    responsible_of,
    save_course,
    set_responsible,
)
from services.intake.settings import IntakeContext

log = logging.getLogger(__name__)

# Deadline rows of courses: kind "course.<DeadlineKind>", subject = the course id.
COURSE_DEADLINE_PREFIX = "course."
CLOCK_ACTOR = "system:intake-clock"

# Purposes the service writes itself into the access log (the citizen reads them).
PURPOSE_INQUIRY = "henvendelse til Fronten"
PURPOSE_REGISTER = "registrering af borger"
PURPOSE_CONTACT = "ændring af navn eller kontaktoplysninger"
PURPOSE_CONSENT = "registrering af samtykke"
PURPOSE_CONSENT_WITHDRAWN = "tilbagekaldelse af samtykke"
PURPOSE_COURSE = "forløb i Fronten"
PURPOSE_PATHWAY = "henvisning til sammenhængende borgerforløb"
PURPOSE_BRIDGING = "brobygning til samarbejdspartner"
PURPOSE_ACCESS_LOG = "borgerens indsigt i opslag"
PURPOSE_IMPORT = "indlæsning af historisk forløb"
PURPOSE_FOLLOW_UP = "opfølgning i forløb"
PURPOSE_TARGET_GROUP = "afgørelse om borger uden for målgruppen"
PURPOSE_HANDOVER = "skift af ansvarlig medarbejder for forløb"
PURPOSE_CONSENT_CORRECTED = "rettelse af samtykke til ordforrådet"
PURPOSE_HANDOFF = "svar fra samarbejdspartner på overdragelse"
PURPOSE_INSIGHT = "borgerens anmodning om indsigt"

# Inquiry outcomes that refer the citizen on: flagged when outside the target group.
_REFERRAL_FLAGS = {
    Outcome.REFERRAL_PATHWAY: flags.FlagSubject.PATHWAY_REFERRAL,
    Outcome.REFERRAL_85: flags.FlagSubject.REFERRAL_85,
}


# --- inquiries -----------------------------------------------------------------------


def register_inquiry(
    uow: UnitOfWork,
    *,
    channel: Channel,
    inquirer_kind: InquirerKind,
    topics: list[Topic],
    wish: str,
    citizen_ref: uuid.UUID | None,
    registered_at: dt.datetime | None,
    registered_by: str,
) -> dict[str, Any]:
    ntk.require_fronten(ntk.as_actor(registered_by))
    now = uow.clock.now()
    if citizen_ref is not None and uow.session.get(Citizen, citizen_ref) is None:
        raise DomainError(
            "citizen_ref",
            "citizen.unknown",
            "No citizen is registered with this citizen_ref: register the citizen first "
            "(register_citizen), or leave citizen_ref out for anonymous advice.",
        )
    new = inquiries.register_inquiry(
        channel=channel,
        inquirer_kind=inquirer_kind,
        topics=topics,
        wish=wish,
        citizen_ref=citizen_ref,
        registered_at=registered_at or now,
        now=now,
    )
    uow.session.add(
        Inquiry(
            id=new.id,
            registered_at=new.registered_at,
            channel=new.channel.value,
            inquirer_kind=new.inquirer_kind.value,
            topics=[t.value for t in new.topics],
            wish=new.wish,
            citizen_ref=new.citizen_ref,
            registered_by=registered_by,
        )
    )
    uow.add_event(
        "intake.inquiry_registered",
        {
            "inquiry_id": new.id,
            "registered_at": new.registered_at,
            "channel": new.channel,
            "inquirer_kind": new.inquirer_kind,
            "topics": list(new.topics),
            "citizen_ref": new.citizen_ref,
        },
        correlation_id=str(new.id),
    )
    if new.citizen_ref is not None:
        access.record(
            uow, actor=registered_by, action=Action.CHANGE, what="inquiry",
            purpose=PURPOSE_INQUIRY, citizen_ref=new.citizen_ref,
        )
    uow.commit()
    return {"inquiry_id": str(new.id), "registered_at": new.registered_at.isoformat()}


def _inquiry(uow: UnitOfWork, inquiry_id: uuid.UUID, *, lock: bool = False) -> Inquiry:
    row = uow.session.get(Inquiry, inquiry_id, with_for_update=lock)
    if row is None:
        raise NotFound("inquiry_id", "No such inquiry.")
    return row


def _set_resolution(
    uow: UnitOfWork,
    ctx: IntakeContext,
    inquiry: Inquiry,
    resolution: inquiries.Resolution,
    actor: str,
) -> None:
    inquiry.outcome = resolution.outcome.value
    inquiry.resolved_at = resolution.resolved_at
    inquiry.resolved_by = actor
    inquiry.conversations = resolution.conversations
    uow.add_event(
        "intake.inquiry_resolved",
        {
            "inquiry_id": inquiry.id,
            "citizen_ref": inquiry.citizen_ref,
            "outcome": resolution.outcome,
            "resolved_at": resolution.resolved_at,
        },
        correlation_id=str(inquiry.id),
    )
    if resolution.outcome is Outcome.REFERRAL_PATHWAY:
        _refer_to_pathway(uow, ctx, inquiry, resolution.resolved_at, actor)
    subject = _REFERRAL_FLAGS.get(resolution.outcome)
    if subject is not None and inquiry.citizen_ref is not None:
        _flag_if_outside_target_group(
            uow, ctx, citizen_ref=inquiry.citizen_ref, subject=subject,
            subject_type="inquiry", subject_id=inquiry.id,
            on=local_day(resolution.resolved_at), actor=actor,
        )


def _flag_if_outside_target_group(
    uow: UnitOfWork,
    ctx: IntakeContext,
    *,
    citizen_ref: uuid.UUID,
    subject: flags.FlagSubject,
    subject_type: str,
    subject_id: uuid.UUID,
    on: dt.date,
    actor: str,
) -> None:
    """Flag (never refuse) a course or referral for someone outside the target group:
    it goes on Fronten's list until a person decides."""
    citizen = uow.session.get(Citizen, citizen_ref)
    if citizen is None:
        return
    group = flags.outside_target_group(citizen.birth_date, on, ctx.settings.state_pension_age)
    if group is None:
        return
    uow.session.add(
        TargetGroupFlag(
            id=uuid.uuid4(), citizen_ref=citizen_ref, subject=str(subject),
            subject_type=subject_type, subject_id=subject_id, age=group.age, on_date=on,
            flagged_at=uow.clock.now(), flagged_by=str(actor),
        )
    )


def _refer_to_pathway(
    uow: UnitOfWork, ctx: IntakeContext, inquiry: Inquiry, at: dt.datetime, actor: str
) -> None:
    """Publish intake.pathway_referral: coordination gets the citizen_ref, the topics and
    the under-30 flag (from the CPR number's birth date), nothing more."""
    assert inquiry.citizen_ref is not None  # the domain refused anonymous referrals
    citizen = uow.session.get(Citizen, inquiry.citizen_ref)
    if citizen is None:
        raise DomainError(
            "inquiry_id",
            "inquiry.citizen_not_registered",
            "Register the citizen's CPR number first: the pathway needs the age.",
        )
    group = target_group(
        citizen.birth_date, local_day(at), ctx.settings.state_pension_age
    )
    uow.add_event(
        "intake.pathway_referral",
        {
            "inquiry_id": inquiry.id,
            "citizen_ref": inquiry.citizen_ref,
            "topics": list(inquiry.topics),
            "under_30": group.under_30,
            "referred_at": at,
            "referred_by": actor,
        },
        correlation_id=str(inquiry.id),
    )
    access.record(
        uow, actor=actor, action=Action.DISCLOSURE, what="pathway_referral",
        purpose=PURPOSE_PATHWAY, citizen_ref=inquiry.citizen_ref,
    )


def resolve_inquiry(
    uow: UnitOfWork,
    ctx: IntakeContext,
    *,
    actor: str,
    inquiry_id: uuid.UUID,
    outcome: Outcome,
    conversations: int | None,
    resolved_at: dt.datetime | None,
) -> dict[str, Any]:
    ntk.require_fronten(ntk.as_actor(actor))
    now = uow.clock.now()
    inquiry = _inquiry(uow, inquiry_id, lock=True)
    resolution = inquiries.resolve_inquiry(
        current_outcome=Outcome(inquiry.outcome) if inquiry.outcome else None,
        registered_at=inquiry.registered_at,
        citizen_ref=inquiry.citizen_ref,
        outcome=outcome,
        resolved_at=resolved_at or now,
        conversations=conversations,
        now=now,
    )
    _set_resolution(uow, ctx, inquiry, resolution, actor)
    if inquiry.citizen_ref is not None:
        access.record(
            uow, actor=actor, action=Action.CHANGE, what="inquiry",
            purpose=PURPOSE_INQUIRY, citizen_ref=inquiry.citizen_ref,
        )
    uow.commit()
    return _inquiry_view(inquiry)


def get_inquiry(
    uow: UnitOfWork, *, actor: str, inquiry_id: uuid.UUID, purpose: str
) -> dict[str, Any]:
    """One inquiry with the citizen's own words: Fronten's (and services')."""
    ntk.require_fronten(ntk.as_actor(actor))
    inquiry = _inquiry(uow, inquiry_id)
    if inquiry.citizen_ref is not None:
        access.record(
            uow, actor=actor, action=Action.READ, what="inquiry",
            purpose=purpose, citizen_ref=inquiry.citizen_ref,
        )
    uow.commit()
    return _inquiry_view(inquiry)


def _inquiry_view(inquiry: Inquiry) -> dict[str, Any]:
    return {
        "inquiry_id": str(inquiry.id),
        "registered_at": inquiry.registered_at.isoformat(),
        "channel": inquiry.channel,
        "inquirer_kind": inquiry.inquirer_kind,
        "topics": list(inquiry.topics),
        "wish": inquiry.wish,
        "citizen_ref": str(inquiry.citizen_ref) if inquiry.citizen_ref else None,
        "outcome": inquiry.outcome,
        "conversations": inquiry.conversations,
        "resolved_at": inquiry.resolved_at.isoformat() if inquiry.resolved_at else None,
    }


# --- citizens --------------------------------------------------------------------------


def _citizen(uow: UnitOfWork, citizen_ref: uuid.UUID, *, lock: bool = False) -> Citizen:
    row = uow.session.get(Citizen, citizen_ref, with_for_update=lock)
    if row is None:
        raise ntk.citizen_not_found()
    return row


def _visible_citizen(
    uow: UnitOfWork, actor: str, citizen_ref: uuid.UUID
) -> tuple[Citizen, ntk.CitizenScope, ntk.CitizenFacts]:
    """The citizen and how much of them the caller sees; one that does not exist and
    one the caller may not see answer alike."""
    who = ntk.as_actor(actor)
    citizen = _citizen(uow, citizen_ref)
    # Fronten and services see everything: no need to look further.
    sees_all = ntk.is_service(who) or (ntk.is_staff(who) and who.has_role(ntk.R.FRONTEN))
    facts = (ntk.CitizenFacts() if sees_all
             else projections.citizen_facts(uow, who.id, citizen.citizen_ref))
    scope = ntk.citizen_scope(who, facts)
    if scope is ntk.CitizenScope.NONE:
        raise ntk.citizen_not_found()
    return citizen, scope, facts


def register_citizen(
    uow: UnitOfWork,
    ctx: IntakeContext,
    *,
    actor: str,
    cpr: str,
    name: str,
    email: str | None,
    phone: str | None,
    preferred_channel: str,
    address: str | None = None,
) -> dict[str, Any]:
    ntk.require_fronten(ntk.as_actor(actor))
    parsed = parse_cpr(cpr)
    cleaned = clean_name(name)
    check_contact(str(preferred_channel), email, phone)
    protection = ctx.protection
    lookup_hash = protection.lookup_hash(parsed)
    taken = uow.session.scalar(
        select(Citizen.citizen_ref).where(Citizen.cpr_lookup_hash == lookup_hash)
    )
    if taken is not None:
        raise Conflict(
            "cpr",
            "citizen.already_registered",
            "This CPR number is registered already: find the citizen with match_citizen.",
        )
    now = uow.clock.now()
    citizen = Citizen(
        citizen_ref=uuid.uuid4(),
        cpr_lookup_hash=lookup_hash,
        cpr_encrypted=protection.encrypt(parsed),
        birth_date=parsed.birth_date,
        name=cleaned,
        name_key=name_key(cleaned),
        email=email,
        phone=phone,
        address=clean_address(address),
        preferred_channel=str(preferred_channel),
        registered_at=now,
        registered_by=actor,
        updated_at=now,
    )
    uow.session.add(citizen)
    access.record(
        uow, actor=actor, action=Action.CHANGE, what="citizen",
        purpose=PURPOSE_REGISTER, citizen_ref=citizen.citizen_ref,
    )
    uow.commit()
    return {"citizen_ref": str(citizen.citizen_ref), **_target_group_view(ctx, citizen, now)}


def _target_group_view(ctx: IntakeContext, citizen: Citizen, now: dt.datetime) -> dict[str, Any]:
    group = target_group(citizen.birth_date, local_day(now), ctx.settings.state_pension_age)
    return {
        "age": group.age,
        "age_band": group.age_band,
        "in_target_group": group.in_target_group,
        "under_30": group.under_30,
    }


def update_contact(
    uow: UnitOfWork, *, actor: str, citizen_ref: uuid.UUID, **changes: Any
) -> dict[str, Any]:
    ntk.require_fronten(ntk.as_actor(actor))
    citizen = _citizen(uow, citizen_ref, lock=True)
    if "name" in changes:
        citizen.name = clean_name(changes["name"])
        citizen.name_key = name_key(citizen.name)
    for key in ("email", "phone"):
        if key in changes:
            setattr(citizen, key, changes[key])
    if "address" in changes:
        citizen.address = clean_address(changes["address"])
    if "preferred_channel" in changes:
        citizen.preferred_channel = str(changes["preferred_channel"])
    check_contact(citizen.preferred_channel, citizen.email, citizen.phone)
    citizen.updated_at = uow.clock.now()
    access.record(
        uow, actor=actor, action=Action.CHANGE, what="contact",
        purpose=PURPOSE_CONTACT, citizen_ref=citizen.citizen_ref,
    )
    uow.commit()
    return _contact_view(citizen)


def _contact_view(citizen: Citizen) -> dict[str, Any]:
    return {
        "citizen_ref": str(citizen.citizen_ref),
        "name": citizen.name,
        "email": citizen.email,
        "phone": citizen.phone,
        "address": citizen.address,
        "preferred_channel": citizen.preferred_channel,
    }


def get_contact(
    uow: UnitOfWork, *, actor: str, citizen_ref: uuid.UUID, purpose: str
) -> dict[str, Any]:
    """Name and contact: Fronten, the citizen's tovholder, a team member the citizen
    consented to share contact with, Social Vejledning (§ 85), services."""
    citizen, scope, _ = _visible_citizen(uow, actor, citizen_ref)
    if scope < ntk.CitizenScope.NAME_AND_CONTACT:
        raise ntk.citizen_not_found()
    access.record(
        uow, actor=actor, action=Action.READ, what="contact",
        purpose=purpose, citizen_ref=citizen.citizen_ref,
    )
    uow.commit()
    return _contact_view(citizen)


def get_citizen(
    uow: UnitOfWork,
    ctx: IntakeContext,
    *,
    actor: str,
    citizen_ref: uuid.UUID,
    purpose: str,
    show_cpr: bool,
) -> dict[str, Any]:
    """The citizen as far as the caller may see them (services.intake.need_to_know):
    `scope` says how far; what the caller may not see is null."""
    citizen, scope, facts = _visible_citizen(uow, actor, citizen_ref)
    if show_cpr and not ntk.may_see_cpr(ntk.as_actor(actor), facts):
        raise DomainError(
            "actor", "not_allowed",
            "The CPR number is shown to Fronten, and to Social Vejledning for a § 85 referral.",
        )
    view: dict[str, Any] = {
        "citizen_ref": str(citizen.citizen_ref), "name": None, "email": None,
        "phone": None, "address": None, "preferred_channel": None, "birth_date": None,
        "age": None, "age_band": None, "in_target_group": None, "under_30": None,
        "cpr": None, "scope": ntk.SCOPE_CODES[scope],
    }
    what = "name"
    if scope is ntk.CitizenScope.FIRST_NAME:
        view["name"] = ntk.first_name(citizen.name)
    elif scope is ntk.CitizenScope.NAME:
        view["name"] = citizen.name
    elif scope is ntk.CitizenScope.NAME_AND_CONTACT:
        view.update(_contact_view(citizen))
        what = "contact"
    else:
        view.update(_contact_view(citizen))
        view["birth_date"] = citizen.birth_date.isoformat()
        view.update(_target_group_view(ctx, citizen, uow.clock.now()))
        what = "citizen"
    access.record(
        uow, actor=actor, action=Action.READ, what=what,
        purpose=purpose, citizen_ref=citizen.citizen_ref,
    )
    if show_cpr:
        view["cpr"] = ctx.protection.decrypt(citizen.cpr_encrypted).formatted
        access.record(
            uow, actor=actor, action=Action.READ, what="cpr",
            purpose=purpose, citizen_ref=citizen.citizen_ref,
        )
    uow.commit()
    return view


def match_citizen(
    uow: UnitOfWork,
    ctx: IntakeContext,
    *,
    actor: str,
    purpose: str,
    cpr: str | None,
    name: str | None,
    birth_date: dt.date | None,
) -> dict[str, Any]:
    ntk.require_fronten(ntk.as_actor(actor))
    criterion = match_criterion(cpr, name, birth_date)
    if criterion.cpr is not None:
        found = uow.session.scalar(
            select(Citizen.citizen_ref).where(
                Citizen.cpr_lookup_hash == ctx.protection.lookup_hash(criterion.cpr)
            )
        )
    else:
        found = unambiguous(
            uow.session.scalars(
                select(Citizen.citizen_ref).where(
                    Citizen.name_key == criterion.name_key,
                    Citizen.birth_date == criterion.birth_date,
                )
            ).all()
        )
    access.record(
        uow, actor=actor, action=Action.SEARCH, what="citizen", purpose=purpose,
        citizen_ref=found, criterion=criterion.describe(),
    )
    uow.commit()
    return {"citizen_ref": str(found) if found else None}


def lookups_of_citizen(
    uow: UnitOfWork, *, actor: str, citizen_ref: uuid.UUID, purpose: str
) -> list[dict[str, Any]]:
    ntk.require_fronten(ntk.as_actor(actor))
    entries = access.entries_of_citizen(uow.session, uow.metadata, citizen_ref, "intake")
    access.record(
        uow, actor=actor, action=Action.READ, what="access_log",
        purpose=purpose, citizen_ref=citizen_ref,
    )
    uow.commit()
    return entries


def access_report(uow: UnitOfWork, *, actor: str, citizen_ref: uuid.UUID) -> list[dict[str, Any]]:
    """intake's part of the citizen's access report (the gateway merges every
    service's): who read, searched, changed or passed on the citizen's data, when and
    why. Answered by Fronten (and operators); the answer is itself logged."""
    who = ntk.as_actor(actor)
    ntk.require_role(who, ntk.ACCESS_REPORT_ROLES, "access_report")
    # intake registers every citizen: a citizen it does not know has no report (a 404,
    # asked first by the gateway, so no service logs a read of nobody).
    _citizen(uow, citizen_ref)
    entries = access.entries_of_citizen(uow.session, uow.metadata, citizen_ref, "intake")
    access.record(
        uow, actor=who, action=Action.READ, what="access_log",
        purpose=who.purpose or PURPOSE_INSIGHT, citizen_ref=citizen_ref,
    )
    uow.commit()
    return entries


# --- consent ---------------------------------------------------------------------------


def _known_partner_ids(uow: UnitOfWork) -> list[str]:
    return [p.partner_id for p in projections.active_partners(uow.session)]


def give_consent(
    uow: UnitOfWork,
    *,
    actor: str,
    citizen_ref: uuid.UUID,
    recipient: str,
    information_kinds: list[str],
    purpose: ConsentPurpose | str,
    form: str,
    given_at: dt.datetime | None,
) -> dict[str, Any]:
    """Record a specific consent in the vocabulary's words: a partner from the directory
    or an agency (pathway_team), a ConsentPurpose, kinds from INFORMATION_KINDS."""
    ntk.require_fronten(ntk.as_actor(actor))
    citizen = _citizen(uow, citizen_ref)
    purpose = _purpose(purpose)
    recipient = check_recipient(recipient, purpose, _known_partner_ids(uow))
    now = uow.clock.now()
    at = given_at or now
    if at > now + dt.timedelta(minutes=5):
        raise DomainError(
            "given_at", "consent.in_future", "A consent cannot be given in the future."
        )
    consent = Consent.give(recipient, information_kinds, purpose.value, at, actor, form)
    row = ConsentRow(
        id=uuid.uuid4(),
        citizen_ref=citizen.citizen_ref,
        recipient=consent.recipient,
        information_kinds=sorted(consent.information_kinds),
        purpose=consent.purpose,
        form=str(consent.form),
        given_at=consent.given_at,
        given_by=consent.given_by,
        announce_pending=False,
    )
    uow.session.add(row)
    _announce_consent(uow, row)
    access.record(
        uow, actor=actor, action=Action.CHANGE, what="consent",
        purpose=PURPOSE_CONSENT, citizen_ref=citizen.citizen_ref,
    )
    uow.commit()
    return _consent_view(row, projections.partner_names(uow.session))


def _purpose(purpose: ConsentPurpose | str) -> ConsentPurpose:
    try:
        return ConsentPurpose(purpose)
    except ValueError:
        raise DomainError(
            "purpose", "consent.purpose_unknown",
            "Unknown purpose. Allowed: " + ", ".join(p.value for p in ConsentPurpose) + ".",
        ) from None


def _announce_consent(uow: UnitOfWork, row: ConsentRow) -> None:
    """intake.consent_given for the row as it is now. Sent again for the same
    consent_id when a consent is mapped or corrected: consumers keep the latest."""
    uow.add_event(
        "intake.consent_given",
        {
            "consent_id": row.id,
            "citizen_ref": row.citizen_ref,
            "recipient": row.recipient,
            "information_kinds": sorted(row.information_kinds),
            "purpose": row.purpose,
            "given_at": row.given_at,
        },
        correlation_id=str(row.id),
    )


def withdraw_consent(
    uow: UnitOfWork, *, actor: str, consent_id: uuid.UUID, withdrawn_at: dt.datetime | None
) -> dict[str, Any]:
    ntk.require_fronten(ntk.as_actor(actor))
    row, consent = load_consent(uow.session, consent_id, lock=True)
    now = uow.clock.now()
    at = withdrawn_at or now
    if at > now + dt.timedelta(minutes=5):
        raise DomainError(
            "withdrawn_at", "consent.in_future", "A consent cannot be withdrawn in the future."
        )
    consent.withdraw(at, actor)
    row.withdrawn_at, row.withdrawn_by = consent.withdrawn_at, consent.withdrawn_by
    row.announce_pending = False  # nothing may be shared under it any more
    uow.add_event(
        "intake.consent_withdrawn",
        {
            "consent_id": row.id,
            "citizen_ref": row.citizen_ref,
            "recipient": row.recipient,
            "withdrawn_at": at,
        },
        correlation_id=str(row.id),
    )
    access.record(
        uow, actor=actor, action=Action.CHANGE, what="consent",
        purpose=PURPOSE_CONSENT_WITHDRAWN, citizen_ref=row.citizen_ref,
    )
    uow.commit()
    return _consent_view(row, projections.partner_names(uow.session))


def list_consents(
    uow: UnitOfWork, *, actor: str, citizen_ref: uuid.UUID, purpose: str
) -> list[dict[str, Any]]:
    ntk.require_fronten(ntk.as_actor(actor))
    citizen = _citizen(uow, citizen_ref)
    rows = uow.session.scalars(
        select(ConsentRow)
        .where(ConsentRow.citizen_ref == citizen.citizen_ref)
        .order_by(ConsentRow.given_at, ConsentRow.id)
    ).all()
    access.record(
        uow, actor=actor, action=Action.READ, what="consent",
        purpose=purpose, citizen_ref=citizen.citizen_ref,
    )
    names = projections.partner_names(uow.session)
    uow.commit()
    return [_consent_view(row, names) for row in rows]


def correction_reason(row: ConsentRow, partner_ids: set[str]) -> CorrectionReason | None:
    """Why a person must fix this consent, or None when it is in the vocabulary."""
    if row.needs_correction:
        return CorrectionReason(row.needs_correction)
    if row.purpose == ConsentPurpose.PATHWAY_TEAM.value:
        return None if row.recipient in AGENCIES else CorrectionReason.RECIPIENT_UNKNOWN
    if row.recipient not in partner_ids:
        return CorrectionReason.RECIPIENT_NOT_IN_DIRECTORY
    return None


def correct_consent(
    uow: UnitOfWork,
    *,
    actor: str,
    consent_id: uuid.UUID,
    recipient: str,
    purpose: ConsentPurpose | str,
) -> dict[str, Any]:
    """A person says what a consent registered in free text meant, in the vocabulary's
    words. The text as registered is kept; the gates are told the new words."""
    ntk.require_fronten(ntk.as_actor(actor))
    row, _ = load_consent(uow.session, consent_id, lock=True)
    if row.withdrawn_at is not None:
        raise Conflict(
            "consent_id", "consent.already_withdrawn",
            "The consent is withdrawn: nothing is shared under it, so nothing to correct.",
        )
    all_partners = set(projections.partner_names(uow.session))
    if correction_reason(row, all_partners) is None:
        raise Conflict(
            "consent_id", "consent.nothing_to_correct",
            "The consent is in the vocabulary already: withdraw it and give a new one to "
            "change it.",
        )
    purpose = _purpose(purpose)
    recipient = check_recipient(recipient, purpose, _known_partner_ids(uow))
    if row.original_recipient is None and row.original_purpose is None:
        row.original_recipient, row.original_purpose = row.recipient, row.purpose
    row.recipient, row.purpose = recipient, purpose.value
    row.needs_correction = None
    row.announce_pending = False
    row.corrected_at, row.corrected_by = uow.clock.now(), str(actor)[:160]
    _announce_consent(uow, row)
    access.record(
        uow, actor=actor, action=Action.CHANGE, what="consent",
        purpose=PURPOSE_CONSENT_CORRECTED, citizen_ref=row.citizen_ref, subject_id=row.id,
    )
    view = _consent_view(row, projections.partner_names(uow.session))
    uow.commit()
    return view


def consent_vocabulary(uow: UnitOfWork, *, actor: str) -> dict[str, Any]:
    """The pick lists of the consent form: no recipient or purpose is ever typed."""
    ntk.require_fronten(ntk.as_actor(actor))
    partners = projections.active_partners(uow.session)
    partner_purposes = [c.value for c in ConsentPurpose if c is not ConsentPurpose.PATHWAY_TEAM]
    return {
        "recipients": [
            *({"recipient": p.partner_id, "name": p.name, "kind": "partner",
               "category": p.category, "purposes": partner_purposes}
              for p in partners),
            *({"recipient": a.value, "name": danish.agency(a.value), "kind": "agency",
               "category": None, "purposes": [ConsentPurpose.PATHWAY_TEAM.value]}
              for a in Agency),
        ],
        "purposes": [{"purpose": c.value, "text": danish.consent_purpose(c.value)}
                     for c in ConsentPurpose],
        "information_kinds": [{"information_kind": k, "text": danish.information_kind(k)}
                              for k in INFORMATION_KINDS],
    }


def announce_mapped_consents(store: Store) -> int:
    """Tell the consent gates the vocabulary's words of the consents migration 0005
    mapped (intake.consent_given again, same consent_id), one consent per unit of work.
    Run by the sweep; a consent withdrawn meanwhile is not announced."""
    with store.read() as session:
        pending = list(session.scalars(
            select(ConsentRow.id).where(ConsentRow.announce_pending.is_(True))
        ))
    for consent_id in pending:
        with store.unit_of_work() as uow:
            row = uow.session.get(ConsentRow, consent_id, with_for_update=True)
            if row is None or not row.announce_pending:
                continue
            row.announce_pending = False
            if row.withdrawn_at is None:
                _announce_consent(uow, row)
            uow.commit()
    return len(pending)


def _consent_view(row: ConsentRow, partner_names: dict[str, str]) -> dict[str, Any]:
    reason = correction_reason(row, set(partner_names)) if row.withdrawn_at is None else None
    return {
        "consent_id": str(row.id),
        "citizen_ref": str(row.citizen_ref),
        "recipient": row.recipient,
        "recipient_name": partner_names.get(row.recipient) or danish.agency(row.recipient),
        "information_kinds": list(row.information_kinds),
        "purpose": row.purpose,
        "purpose_text": danish.consent_purpose(row.purpose),
        "form": row.form,
        "given_at": row.given_at.isoformat(),
        "given_by": row.given_by,
        "withdrawn_at": row.withdrawn_at.isoformat() if row.withdrawn_at else None,
        "withdrawn_by": row.withdrawn_by,
        "needs_correction": str(reason) if reason else None,
        "original_recipient": row.original_recipient,
        "original_purpose": row.original_purpose,
        "corrected_at": row.corrected_at.isoformat() if row.corrected_at else None,
    }


# --- courses ---------------------------------------------------------------------------


def start_course(
    uow: UnitOfWork,
    ctx: IntakeContext,
    *,
    actor: str,
    inquiry_id: uuid.UUID,
    kind: CourseKind,
    plan: dict[str, Any],
    start_date: dt.date | None,
    planned_end: dt.date | None,
    bridging_to: list[PartnerKind],
    imported: bool = False,
    responsible: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Start a course from an inquiry with a registered citizen.

    `responsible` is the course's responsible staff member (the known face); without
    one, the staff member who starts it is responsible.

    In import mode (`imported`) the course is history registered after the fact: the
    inquiry is resolved as of the course's start (not today), and every clock that fell
    due before today is settled without a reminder or a message to a partner
    (`Course.settle_history`); only the maximum length still ends it on its day."""
    who = ntk.as_actor(actor)
    ntk.require_fronten(who)
    chosen = (Responsible.of(responsible) if responsible
              else Responsible(staff_id=who.id, name=who.name))
    now = uow.clock.now()
    today = local_day(now)
    inquiry = _inquiry(uow, inquiry_id, lock=True)
    current = Outcome(inquiry.outcome) if inquiry.outcome else None
    inquiries.check_course_for_inquiry(kind, inquiry.citizen_ref, current)
    assert inquiry.citizen_ref is not None
    if uow.session.get(Citizen, inquiry.citizen_ref) is None:
        raise DomainError(
            "inquiry_id",
            "course.citizen_unknown",
            "The inquiry's citizen_ref is not a registered citizen: a course needs one.",
        )
    if uow.session.scalar(select(CourseRow.id).where(CourseRow.inquiry_id == inquiry.id)):
        raise Conflict(
            "inquiry_id", "course.already_started", "A course was started for this inquiry already."
        )
    start = start_date or today
    inquiry_day = local_day(inquiry.registered_at)
    if start < inquiry_day:
        raise DomainError(
            "start_date",
            "course.before_inquiry",
            f"A course cannot start before its inquiry ({inquiry_day.isoformat()}).",
        )
    course = courses.Course.start(
        kind,
        str(inquiry.citizen_ref),
        start,
        planned_end,
        courses.validate_plan(plan["goals"], plan["follow_up_dates"]),
        bridging_to=bridging_to,
        settings=ctx.settings.course,
    )
    if current is None:  # starting the course is the inquiry's outcome
        # Live: resolved now. Imported: resolved when the course started, not on the
        # import day (never before the inquiry, never in the future).
        resolved_at = (
            max(inquiry.registered_at, min(now, start_of_local_day(start)))
            if imported
            else max(now, inquiry.registered_at)
        )
        resolution = inquiries.resolve_inquiry(
            current_outcome=None,
            registered_at=inquiry.registered_at,
            citizen_ref=inquiry.citizen_ref,
            outcome=inquiries.COURSE_OUTCOMES[kind],
            resolved_at=resolved_at,
            conversations=None,
            now=now,
        )
        _set_resolution(uow, ctx, inquiry, resolution, actor)
    row = new_course_row(
        course, inquiry_id=inquiry.id, started_by=actor, now=now, imported=imported,
        responsible=chosen,
    )
    if imported:
        course.settle_history(today)
    # Anything due today (or, live, a course registered after its start) fires at once.
    course.apply_due(today)
    _flag_if_outside_target_group(
        uow, ctx, citizen_ref=inquiry.citizen_ref, subject=flags.FlagSubject.COURSE,
        subject_type="course", subject_id=row.id, on=start, actor=actor,
    )
    _save_course_changes(uow, row, course, actor, ctx)
    set_responsible(uow.session, row, chosen, by=actor, at=now)
    uow.session.flush()
    if imported:
        access.record(
            uow, actor=actor, action=Action.CHANGE, what="course",
            purpose=PURPOSE_IMPORT, citizen_ref=row.citizen_ref, subject_id=row.id,
        )
    uow.commit()
    return course_view(uow, row, course)


def _visible_course_row(
    uow: UnitOfWork, actor: str, course_id: uuid.UUID, roles: tuple[ntk.StaffRole, ...],
    what: str, *, lock: bool = False,
) -> CourseRow:
    """The course, if the caller's role allows the action and the caller may see the
    course; a course the caller may not see answers like a missing one."""
    who = ntk.as_actor(actor)
    ntk.require_role(who, roles, what)
    row = get_course_row(uow.session, course_id, lock=lock)
    if ntk.is_service(who) or who.has_role(ntk.R.FRONTEN):
        return row  # Fronten and services see every course
    if not ntk.course_visible(who, projections.course_facts(uow, row)):
        raise ntk.course_not_found()
    return row


def _course_command(
    uow: UnitOfWork,
    *,
    actor: str,
    course_id: uuid.UUID,
    command: Callable[[courses.Course, dt.date], None],
    ctx: IntakeContext | None = None,
    roles: tuple[ntk.StaffRole, ...] = (ntk.R.FRONTEN,),
    what: str = "fronten",
) -> dict[str, Any]:
    """Check who may (`roles`, and the course's need-to-know), load the course (locked),
    bring its clocks up to today, run the command, save."""
    _visible_course_row(uow, actor, course_id, roles, what, lock=True)
    row, course = load_course(uow.session, course_id, lock=True)
    today = local_day(uow.clock.now())
    course.apply_due(today)
    command(course, today)
    _save_course_changes(uow, row, course, actor, ctx)
    uow.commit()
    return course_view(uow, row, course)


def record_attendance(
    uow: UnitOfWork, *, actor: str, course_id: uuid.UUID, on: dt.date, kept: bool
) -> dict[str, Any]:
    def command(course: courses.Course, today: dt.date) -> None:
        if on > today:
            raise DomainError(
                "attendance.date", "attendance.in_future", "Record an agreement after its day."
            )
        course.record_attendance(on, kept)

    return _course_command(uow, actor=actor, course_id=course_id, command=command)


def revise_plan(
    uow: UnitOfWork, *, actor: str, course_id: uuid.UUID, plan: dict[str, Any]
) -> dict[str, Any]:
    new_plan = courses.validate_plan(plan["goals"], plan["follow_up_dates"])
    return _course_command(
        uow, actor=actor, course_id=course_id,
        command=lambda course, _today: course.revise_plan(new_plan),
    )


def plan_bridging(
    uow: UnitOfWork, *, actor: str, course_id: uuid.UUID, partner_kinds: list[PartnerKind]
) -> dict[str, Any]:
    return _course_command(
        uow, actor=actor, course_id=course_id,
        command=lambda course, _today: course.plan_bridging(partner_kinds),
    )


def request_review(
    uow: UnitOfWork, *, actor: str, course_id: uuid.UUID, on: dt.date | None
) -> dict[str, Any]:
    return _course_command(
        uow, actor=actor, course_id=course_id,
        command=lambda course, today: course.request_review(on or today),
    )


def decide_review(
    uow: UnitOfWork,
    *,
    actor: str,
    course_id: uuid.UUID,
    decision: str,
    on: dt.date | None,
    new_planned_end: dt.date | None,
    ctx: IntakeContext | None = None,
) -> dict[str, Any]:
    return _course_command(
        uow, actor=actor, course_id=course_id, ctx=ctx,
        roles=ntk.REVIEW_DECIDERS, what="review",
        command=lambda course, today: course.decide_review(
            decision, on or today, new_planned_end=new_planned_end
        ),
    )


def extend_course(
    uow: UnitOfWork, *, actor: str, course_id: uuid.UUID, planned_end: dt.date
) -> dict[str, Any]:
    return _course_command(
        uow, actor=actor, course_id=course_id,
        command=lambda course, _today: course.extend(planned_end),
    )


def refer_to_85(
    uow: UnitOfWork,
    *,
    actor: str,
    course_id: uuid.UUID,
    on: dt.date | None,
    ctx: IntakeContext | None = None,
) -> dict[str, Any]:
    return _course_command(
        uow, actor=actor, course_id=course_id, ctx=ctx,
        command=lambda course, today: course.refer_to_85(on or today),
    )


def record_referral_85_outcome(
    uow: UnitOfWork, *, actor: str, course_id: uuid.UUID, outcome: str, on: dt.date | None
) -> dict[str, Any]:
    return _course_command(
        uow, actor=actor, course_id=course_id,
        roles=ntk.REFERRAL_85_DECIDERS, what="referral_85",
        command=lambda course, today: course.record_referral_outcome(outcome, on or today),
    )


def end_course(
    uow: UnitOfWork, *, actor: str, course_id: uuid.UUID, reason: str, on: dt.date | None
) -> dict[str, Any]:
    return _course_command(
        uow, actor=actor, course_id=course_id,
        command=lambda course, today: course.end(on or today, reason),
    )


def confirm_course_ending(uow: UnitOfWork, *, actor: str, course_id: uuid.UUID) -> dict[str, Any]:
    """A person confirms the 4-week rule's proposal: the course ends today."""
    return _course_command(
        uow, actor=actor, course_id=course_id,
        command=lambda course, today: course.confirm_ending(today),
    )


def record_back_on_track(uow: UnitOfWork, *, actor: str, course_id: uuid.UUID) -> dict[str, Any]:
    """A person rejects the 4-week rule's proposal: the citizen is back on track today."""
    return _course_command(
        uow, actor=actor, course_id=course_id,
        command=lambda course, today: course.back_on_track(today),
    )


def record_follow_up(
    uow: UnitOfWork, *, actor: str, course_id: uuid.UUID, follow_up_on: dt.date
) -> dict[str, Any]:
    """The follow-up agreed for `follow_up_on` was held: its notice is done and it leaves
    Fronten's follow-up list. Only a follow-up that has fallen due can be recorded."""
    ntk.require_fronten(ntk.as_actor(actor))
    row, course = load_course(uow.session, course_id, lock=True)
    notice = uow.session.scalar(
        select(CourseNotice).where(
            CourseNotice.course_id == row.id,
            CourseNotice.kind == "follow_up_due",
            CourseNotice.due_on == follow_up_on,
        )
    )
    if notice is None:
        raise DomainError(
            "follow_up_on",
            "follow_up.not_due",
            "No follow-up of this course has fallen due on that day.",
        )
    if notice.done_on is not None:
        raise Conflict(
            "follow_up_on", "follow_up.already_recorded", "This follow-up is recorded already."
        )
    notice.done_on = local_day(uow.clock.now())
    notice.done_by = str(actor)
    access.record(
        uow, actor=actor, action=Action.CHANGE, what="course",
        purpose=PURPOSE_FOLLOW_UP, citizen_ref=row.citizen_ref, subject_id=row.id,
    )
    uow.session.flush()
    view = course_view(uow, row, course)
    uow.commit()
    return view


def decide_target_group_flag(
    uow: UnitOfWork, *, actor: str, flag_id: uuid.UUID, decision: str
) -> dict[str, Any]:
    """A person decides a flag for a citizen outside the target group; it leaves the list."""
    ntk.require_fronten(ntk.as_actor(actor))
    flag = uow.session.get(TargetGroupFlag, flag_id, with_for_update=True)
    if flag is None:
        raise NotFound("flag_id", "No such flag.")
    decided = flags.decide_flag(flag.decision, decision)
    flag.decision = str(decided)
    flag.decided_on = local_day(uow.clock.now())
    flag.decided_by = str(actor)
    access.record(
        uow, actor=actor, action=Action.CHANGE, what="target_group_flag",
        purpose=PURPOSE_TARGET_GROUP, citizen_ref=flag.citizen_ref, subject_id=flag.id,
    )
    view = target_group_flag_view(flag)
    uow.commit()
    return view


def target_group_flag_view(flag: TargetGroupFlag) -> dict[str, Any]:
    return {
        "flag_id": str(flag.id),
        "citizen_ref": str(flag.citizen_ref),
        "subject": flag.subject,
        "subject_type": flag.subject_type,
        "subject_id": str(flag.subject_id),
        "age": flag.age,
        "on": flag.on_date.isoformat(),
        "decision": flag.decision,
        "decided_on": flag.decided_on.isoformat() if flag.decided_on else None,
    }


def get_course(
    uow: UnitOfWork, *, actor: str, course_id: uuid.UUID, purpose: str
) -> dict[str, Any]:
    """A course: Fronten's; the review panel's while it is on its agenda; Social
    Vejledning's when it has a § 85 referral."""
    _visible_course_row(uow, actor, course_id, ntk.COURSE_READERS, "course")
    row, course = load_course(uow.session, course_id)
    access.record(
        uow, actor=actor, action=Action.READ, what="course",
        purpose=purpose, citizen_ref=row.citizen_ref,
    )
    view = course_view(uow, row, course)
    uow.commit()
    return view


def sweep_course_deadlines(store: Store, now: dt.datetime) -> int:
    """Fire every course deadline due at `now`, one course per unit of work (the kit's
    sweep): the course is locked first, as the course commands lock it, then the
    deadline row is claimed, in the transaction that saves the course's new state and
    its events, so a deadline fires exactly once even across restarts and overlapping
    sweeps. A course that fails is logged and backed off; the others go on. Returns how
    many fired."""
    today = local_day(now)

    def lock(uow: UnitOfWork, deadline: stored_deadlines.Deadline) -> CourseRow | None:
        return uow.session.get(CourseRow, uuid.UUID(deadline.subject_id), with_for_update=True)

    def handle(uow: UnitOfWork, deadline: stored_deadlines.Deadline, row: CourseRow) -> None:
        row, course = load_course(uow.session, row.id)  # locked by `lock`
        course.apply_due(today)
        _save_course_changes(uow, row, course, CLOCK_ACTOR, None)

    return stored_deadlines.sweep(
        store, now, prefix=COURSE_DEADLINE_PREFIX, lock=lock, handle=handle).fired


def _save_course_changes(
    uow: UnitOfWork,
    row: CourseRow,
    course: courses.Course,
    actor: str,
    ctx: IntakeContext | None,
) -> None:
    """Save the aggregate, turn its domain events into outbox events and staff notices,
    keep its deadline rows in step, flag referrals outside the target group (when `ctx`
    is given), and log the change."""
    now = uow.clock.now()
    course.note_messages_sent(local_day(now))
    save_course(uow.session, row, course, actor=actor, now=now)
    for event in course.events:
        _publish_course_event(uow, row, event, now)
        if ctx is not None and isinstance(event, courses.ReferredTo85):
            _flag_if_outside_target_group(
                uow, ctx, citizen_ref=row.citizen_ref, subject=flags.FlagSubject.REFERRAL_85,
                subject_type="course", subject_id=row.id, on=event.referred_on, actor=actor,
            )
    course.events.clear()
    sync_course_deadlines(uow, row.id, course)
    access.record(
        uow, actor=actor, action=Action.CHANGE, what="course",
        purpose=PURPOSE_COURSE, citizen_ref=row.citizen_ref,
    )


def _publish_course_event(
    uow: UnitOfWork, row: CourseRow, event: courses.CourseEvent, now: dt.datetime
) -> None:
    ids = {"course_id": row.id, "citizen_ref": row.citizen_ref}
    correlation = str(row.id)
    if isinstance(event, courses.CourseStarted):
        uow.add_event(
            "intake.course_started",
            {**ids, "kind": event.kind, "start_date": event.start_date,
             "planned_end": event.planned_end},
            correlation_id=correlation,
        )
    elif isinstance(event, courses.CourseEnded):
        uow.add_event(
            "intake.course_ended",
            {**ids, "kind": row.kind, "reason": str(event.reason), "ended_on": event.ended_on},
            correlation_id=correlation,
        )
    elif isinstance(event, courses.BridgingDue):
        uow.add_event(
            "intake.bridging_due",
            {**ids, "partner_kind": event.partner_kind, "due_on": event.due_on,
             "planned_end": event.planned_end, "responsible": responsible_of(row).to_wire()},
            correlation_id=correlation,
        )
        access.record(
            uow, actor=CLOCK_ACTOR, action=Action.DISCLOSURE, what="bridging_due",
            purpose=f"{PURPOSE_BRIDGING} ({event.partner_kind})", citizen_ref=row.citizen_ref,
        )
    elif isinstance(event, courses.ReviewRequested):
        uow.add_event(
            "intake.course_review_requested",
            {**ids, "kind": row.kind, "requested_on": event.requested_on,
             "planned_end": event.planned_end},
            correlation_id=correlation,
        )
    elif isinstance(event, courses.ReviewDecided):
        uow.add_event(
            "intake.course_review_decided",
            {**ids, "decision": str(event.decision), "decided_on": event.decided_on,
             "planned_end": event.planned_end},
            correlation_id=correlation,
        )
    elif isinstance(event, courses.CourseExtended):
        uow.add_event(
            "intake.course_extended",
            {**ids, "previous_planned_end": event.previous_planned_end,
             "planned_end": event.planned_end},
            correlation_id=correlation,
        )
    elif isinstance(event, courses.ReferredTo85):
        uow.add_event(
            "intake.referral_85_made",
            {**ids, "referred_on": event.referred_on,
             "responsible": responsible_of(row).to_wire()},
            correlation_id=correlation,
        )
    elif isinstance(event, courses.Referral85Decided):
        uow.add_event(
            "intake.referral_85_decided",
            {**ids, "outcome": str(event.outcome), "decided_on": event.decided_on},
            correlation_id=correlation,
        )
    elif isinstance(event, courses.EndingProposed):
        uow.add_event(
            "intake.course_ending_proposed",
            {**ids, "kind": row.kind, "proposed_on": event.proposed_on,
             "rule": courses.FOUR_WEEK_RULE, "last_kept_on": event.last_kept_on},
            correlation_id=correlation,
        )
    elif isinstance(event, courses.BridgingCancelled):
        uow.add_event(
            "intake.bridging_cancelled",
            {**ids, "partner_kind": event.partner_kind, "due_on": event.due_on,
             "cancelled_on": event.cancelled_on, "reason": "course_ended_early"},
            correlation_id=correlation,
        )
        access.record(
            uow, actor=CLOCK_ACTOR, action=Action.DISCLOSURE, what="bridging_cancelled",
            purpose=f"{PURPOSE_BRIDGING} ({event.partner_kind})", citizen_ref=row.citizen_ref,
        )
    # Reminders for Fronten's staff are stored as notices on the course, not published.
    elif isinstance(event, courses.EndOverdue):
        _notice(uow, row, "end_overdue", event.planned_end, now)
    elif isinstance(event, courses.FollowUpDue):
        _notice(uow, row, "follow_up_due", event.due_on, now)
    elif isinstance(event, courses.ReviewDue):
        _notice(uow, row, "review_due", event.due_on, now)
    elif isinstance(event, courses.BridgingPartnerMissing):
        _notice(uow, row, "bridging_partner_missing", event.due_on, now)
    # PlanRevised and BridgingPlanned change only the stored plan; BackOnTrack only the
    # proposal (its row says who decided).


def _notice(
    uow: UnitOfWork, row: CourseRow, kind: str, due_on: dt.date, now: dt.datetime
) -> None:
    uow.session.add(CourseNotice(course_id=row.id, kind=kind, due_on=due_on, created_at=now))


def sync_course_deadlines(uow: UnitOfWork, course_id: uuid.UUID, course: courses.Course) -> None:
    """Keep one open deadline row per kind: the course's next deadline of that kind,
    due at the start of its day in Copenhagen. Rows no longer wanted are cancelled."""
    wanted: dict[str, dt.datetime] = {}
    for deadline in courses.deadlines(course):
        wanted.setdefault(
            COURSE_DEADLINE_PREFIX + str(deadline.kind), start_of_local_day(deadline.due_on)
        )
    stored_deadlines.sync(uow, str(course_id), wanted, prefix=COURSE_DEADLINE_PREFIX)


def course_view(uow: UnitOfWork, row: CourseRow, course: courses.Course) -> dict[str, Any]:
    notices = uow.session.scalars(
        select(CourseNotice).where(CourseNotice.course_id == row.id).order_by(CourseNotice.id)
    ).all()
    review = course.review
    return {
        "course_id": str(row.id),
        "citizen_ref": course.citizen_ref,
        "inquiry_id": str(row.inquiry_id) if row.inquiry_id else None,
        "kind": str(course.kind),
        "status": str(course.status),
        "start_date": course.start_date.isoformat(),
        "planned_end": course.planned_end.isoformat(),
        "max_end": course.max_end.isoformat() if course.max_end else None,
        "ended_on": course.ended_on.isoformat() if course.ended_on else None,
        "end_reason": str(course.end_reason) if course.end_reason else None,
        "plan": {
            "goals": list(course.plan.goals),
            "follow_up_dates": [d.isoformat() for d in course.plan.follow_up_dates],
        },
        "bridging_partner_kinds": sorted(str(k) for k in course.bridging_partner_kinds),
        "bridging_due_on": course.bridging_due_on.isoformat(),
        "attendance": [
            {"on": a.on.isoformat(), "kept": a.kept} for a in course.attendance
        ],
        "review": None
        if review is None
        else {
            "requested_on": review.requested_on.isoformat(),
            "planned_end": review.planned_end.isoformat(),
            "decision": str(review.decision) if review.decision else None,
            "decided_on": review.decided_on.isoformat() if review.decided_on else None,
        },
        "referrals_85": [
            {
                "referred_on": r.referred_on.isoformat(),
                "outcome": str(r.outcome) if r.outcome else None,
                "outcome_on": r.outcome_on.isoformat() if r.outcome_on else None,
            }
            for r in course.referrals_85
        ],
        "deadlines": [
            {"kind": str(d.kind), "due_on": d.due_on.isoformat()}
            for d in courses.deadlines(course)
        ],
        "notices": [
            {"kind": n.kind, "due_on": n.due_on.isoformat(),
             "done_on": n.done_on.isoformat() if n.done_on else None}
            for n in notices
        ],
        "ending_proposed": course.open_ending_proposal is not None and course.is_active,
        "ending_proposals": [
            {
                "rule": p.rule,
                "proposed_on": p.proposed_on.isoformat(),
                "last_kept_on": p.last_kept_on.isoformat() if p.last_kept_on else None,
                "decision": str(p.decision) if p.decision else None,
                "decided_on": p.decided_on.isoformat() if p.decided_on else None,
            }
            for p in course.ending_proposals
        ],
        "last_message_on": course.last_message_on.isoformat() if course.last_message_on
        else None,
        "imported": bool(row.imported),
        "responsible": responsible_of(row).to_wire(),
        "responsible_history": [
            {"staff_id": t.staff_id, "name": t.name, "since": t.since.isoformat(),
             "until": t.until.isoformat() if t.until else None,
             "assigned_by": t.assigned_by, "handover_note": t.handover_note}
            for t in uow.session.scalars(
                select(CourseResponsibleRow).where(CourseResponsibleRow.course_id == row.id)
                .order_by(CourseResponsibleRow.since, CourseResponsibleRow.id)
            )
        ],
        "timeline": [
            {"at": e.at.isoformat(), "kind": e.kind, "text": e.text, "actor": e.actor,
             **e.details}
            for e in uow.session.scalars(
                select(CourseTimelineRow).where(CourseTimelineRow.course_id == row.id)
                .order_by(CourseTimelineRow.at, CourseTimelineRow.id)
            )
        ],
    }


# --- the responsible staff member and the partners' answers (issues 10 and 16) ------------


def _timeline(
    uow: UnitOfWork, course_id: uuid.UUID, kind: str, at: dt.datetime, actor: str, text: str,
    **details: Any,
) -> None:
    uow.session.add(CourseTimelineRow(
        course_id=course_id, at=at, kind=kind, actor=str(actor)[:160], text=text[:400],
        details=details,
    ))


def hand_over_course(
    uow: UnitOfWork,
    *,
    actor: str,
    course_id: uuid.UUID,
    responsible: dict[str, Any],
    note: str | None,
) -> dict[str, Any]:
    """Give the course a new responsible staff member, like a tovholder handover: the
    old term ends with the note for the new one, the timeline says who took over, and
    intake.course_responsible_changed tells the partners (the contact on open
    hand-offs)."""
    ntk.require_fronten(ntk.as_actor(actor))
    row, course = load_course(uow.session, course_id, lock=True)
    new = Responsible.of(responsible)
    if new.staff_id == row.responsible_staff_id:
        raise Conflict(
            "responsible.staff_id", "course.same_responsible",
            "This staff member is already responsible for the course.",
        )
    now = uow.clock.now()
    old_name = row.responsible_name
    note = (note or "").strip() or None
    set_responsible(uow.session, row, new, by=actor, at=now, note=note)
    row.updated_at = now
    _timeline(
        uow, row.id, "responsible_changed", now, actor,
        danish.responsible_changed_text(old_name=old_name, new_name=new.name),
        staff_id=new.staff_id, name=new.name, handover_note=note,
    )
    uow.add_event(
        "intake.course_responsible_changed",
        {"course_id": row.id, "citizen_ref": row.citizen_ref, "staff_id": new.staff_id,
         "name": new.name, "changed_at": now, "email": new.email, "phone": new.phone},
        correlation_id=str(row.id),
    )
    access.record(
        uow, actor=actor, action=Action.CHANGE, what="course",
        purpose=PURPOSE_HANDOVER, citizen_ref=row.citizen_ref, subject_id=row.id,
    )
    uow.session.flush()
    view = course_view(uow, row, course)
    uow.commit()
    return view


_REFERRAL_OUTCOMES = {o.value for o in courses.ReferralOutcome}


def handoff_updated(uow: UnitOfWork, event: Envelope) -> None:
    """A partner answered one of a course's hand-offs (bridging, § 85): the answer goes
    on the course's timeline. A completed § 85 referral records the course's § 85
    outcome from `outcome` (granted, refused, withdrawn), as record_referral_85_outcome
    would: intake.referral_85_decided goes out. Other subjects are not intake's."""
    p = event.payload
    if p["subject_type"] != "course":
        return
    row = uow.session.get(CourseRow, p["subject_id"], with_for_update=True)
    if row is None:
        log.warning("hand-off %s is about course %s, which intake does not know",
                    p["handoff_id"], p["subject_id"])
        return
    at: dt.datetime = p["at"]
    state, kind = str(p["state"]), str(p["kind"])
    seen = uow.session.scalars(
        select(CourseTimelineRow).where(
            CourseTimelineRow.course_id == row.id, CourseTimelineRow.kind == "handoff_updated"
        )
    ).all()
    if any(e.details.get("handoff_id") == str(p["handoff_id"])
           and e.details.get("state") == state for e in seen):
        return  # this answer is on the course already (the same news, sent again)
    partner_name = projections.partner_names(uow.session).get(p["partner_id"], p["partner_id"])
    outcome = p.get("outcome")
    text = p.get("title") or danish.handoff_text(
        kind=kind, state=state, partner_name=partner_name, outcome=outcome)
    answered_by = p.get("answered_by") or f"partner:{p['partner_id']}"
    _timeline(
        uow, row.id, "handoff_updated", at, answered_by, text,
        handoff_id=str(p["handoff_id"]), handoff_kind=kind, partner_id=p["partner_id"],
        partner_name=partner_name, state=state, previous_state=str(p["previous_state"]),
        reason=p.get("reason"), outcome=outcome,
    )
    access.record(
        uow, actor=answered_by, action=Action.CHANGE, what="course",
        purpose=PURPOSE_HANDOFF, citizen_ref=row.citizen_ref, subject_id=row.id,
    )
    if (kind == HandoffKind.REFERRAL_85.value and state == HandoffState.COMPLETED.value
            and outcome in _REFERRAL_OUTCOMES):
        _record_85_outcome_from_handoff(uow, row, str(outcome), at, answered_by)


def _record_85_outcome_from_handoff(
    uow: UnitOfWork, row: CourseRow, outcome: str, at: dt.datetime, answered_by: str
) -> None:
    _, course = load_course(uow.session, row.id, lock=True)
    course.apply_due(local_day(uow.clock.now()))
    try:
        course.record_referral_outcome(outcome, local_day(at))
    except DomainError as refused:
        # Recorded by hand already, or no referral open: the answer stays on the
        # timeline; nothing to retry.
        log.info("§ 85 outcome of course %s from a hand-off not recorded: %s", row.id, refused)
        course.events.clear()
        return
    _save_course_changes(uow, row, course, answered_by, None)
    _timeline(uow, row.id, "referral_85_decided", at, answered_by,
              danish.referral_85_outcome_text(outcome), outcome=outcome)


# --- statistics ------------------------------------------------------------------------


def statistics_report(
    store: Store, *, period_start: dt.date, period_end: dt.date, as_of: dt.date | None
) -> dict[str, Any]:
    """Fronten's report for the period, counted by the database (statistics_sql)."""
    if period_end < period_start:
        raise DomainError(
            "period_end", "statistics.period_reversed", "The period ends before it starts."
        )
    with store.read() as session:
        result = statistics_sql.period_report(session, period_start, period_end, as_of=as_of)
    return report_view(result)


def report_view(result: statistics.Report) -> dict[str, Any]:
    return {
        "period_start": result.period_start.isoformat(),
        "period_end": result.period_end.isoformat(),
        "as_of": result.as_of.isoformat(),
        "total_inquiries": result.total_inquiries,
        "courses_82b_started": result.courses_82b_started,
        "courses_82b_referred_85": result.courses_82b_referred_85,
        "active_courses": result.active_courses,
        "active_courses_by_kind": dict(result.active_courses_by_kind),
        "by_channel": dict(result.by_channel),
        "by_inquirer_kind": dict(result.by_inquirer_kind),
        "by_age_band": dict(result.by_age_band),
        "by_under_30": dict(result.by_under_30),
        "by_topic": dict(result.by_topic),
        "by_outcome": dict(result.by_outcome),
        "text": statistics.render_danish(result),
    }
