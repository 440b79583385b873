"""coordination's reads: a pathway, its timeline and plan versions, a network person's
contact, the worklists, and the pathway statistics.

Every read of a citizen's data is written to the access log in the read's own unit
of work (a worklist page: one SEARCH entry naming the list), with the caller's purpose
or a Danish default. Worklists are keyset pages (services.common.worklist) sorted by
urgency; each item says why it is on the list in Danish (services.coordination.texts)
and by when.

Need-to-know (services.coordination.needtoknow) decides every read: a pathway the
caller may not see answers exactly as a missing one, and a team member from another
agency sees each section only as far as the citizen's consent goes. The "my" lists
select in SQL only what the caller may see (`_sees`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select

from contracts.actor import StaffRole
from contracts.vocabulary import Agency
from services.common import access, worklist
from services.common.access import Action
from services.common.db import UnitOfWork
from services.common.errors import DomainError, NotFound
from services.common.localtime import local_day, start_of_local_day
from services.coordination import (
    housing_alerts,
    needtoknow,
    repository,
    statistics,
    texts,
)
from services.coordination.models import (
    CitizenActivity,
    ConsentKindRow,
    ConsentRow,
    HandoffRow,
    HousingAlertRow,
    MeetingParticipantRow,
    MeetingRow,
    MemberRow,
    NetworkPersonRow,
    OfferReferralRow,
    PartnerRow,
    PathwayRow,
    PlanActionRow,
    PlanRow,
    PlanVersionRow,
    TimelineRow,
    TovholderTermRow,
)
from services.coordination.needtoknow import Sight
from services.coordination.scheduling import CitizenPreferences
from services.coordination.visibility import as_actor, visible_pathway

CITIZEN_LABEL = "Borgeren"
AGREEMENT_HOW = {"in_meeting": "på et møde", "phone": "telefonisk", "written": "skriftligt"}
GOAL_VOICE = {"citizen": "borgerens egne ord", "network": "netværkets ord",
              "team": "teamets ord"}


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value.isoformat()


def _purpose(actor: str, default: str) -> str:
    """The caller's purpose when it gave one, else the read's own Danish default."""
    return getattr(actor, "purpose", None) or default


def _read(uow: UnitOfWork, actor: str, what: str, row: PathwayRow, purpose: str,
          subject_id: Any = None) -> None:
    access.record(uow, actor=actor, action=Action.READ, what=what, citizen_ref=row.citizen_ref,
                  subject_id=subject_id or row.id, purpose=_purpose(actor, purpose))


def _searched(uow: UnitOfWork, actor: str, list_name: str, purpose: str) -> None:
    access.record(uow, actor=actor, action=Action.SEARCH, what="pathway", criterion=list_name,
                  purpose=_purpose(actor, purpose))


def _me(actor: str) -> str:
    """The caller's member id: the staff id under which they sit in teams."""
    return getattr(actor, "id", None) or str(actor).split(":", 1)[-1]


# --- a pathway -------------------------------------------------------------------------------


def _restricted_view(row: PathwayRow, seen: Sight, role: str | None) -> dict[str, Any]:
    """What a team member without the citizen's consent sees: that the pathway exists
    (the citizen's first name comes from intake, by `citizen_ref`), nothing more."""
    return {
        "pathway_id": str(row.id), "citizen_ref": str(row.citizen_ref),
        "opened_at": _iso(row.opened_at), "closed_at": _iso(row.closed_at),
        "under_30": None, "referred_at": None, "tovholder_id": None, "members": [],
        "network": [], "preferences": None, "meetings": [], "plan": None,
        "continuity": None, "offer_referrals": [], "my_standing": seen.standing.value,
        "restricted": True, "restricted_reason": texts.restricted_reason(role),
        "withheld": ["team", *seen.withheld()],
    }


def _offer_referrals(uow: UnitOfWork, row: PathwayRow) -> list[dict[str, Any]]:
    """The pathway's referrals to other offers, each with what was asked and its
    hand-off's state as partners last told it (None until then)."""
    referrals = list(uow.session.scalars(
        select(OfferReferralRow).where(OfferReferralRow.pathway_id == row.id)
        .order_by(OfferReferralRow.requested_at, OfferReferralRow.id)))
    if not referrals:
        return []
    names = dict(uow.session.execute(select(PartnerRow.partner_id, PartnerRow.name).where(
        PartnerRow.partner_id.in_({r.partner_id for r in referrals}))).all())
    states = {h.partner_id: h for h in uow.session.scalars(
        select(HandoffRow).where(HandoffRow.subject_type == "pathway",
                                 HandoffRow.subject_id == row.id)
        .order_by(HandoffRow.state_at))}
    return [
        {"referral_id": str(r.id), "partner_id": r.partner_id,
         "partner_name": names.get(r.partner_id), "ask": r.ask,
         "requested_at": _iso(r.requested_at), "requested_by": r.requested_by,
         "handoff_id": str(states[r.partner_id].handoff_id) if r.partner_id in states
         else None,
         "handoff_state": states[r.partner_id].state if r.partner_id in states else None,
         "handoff_title": states[r.partner_id].title if r.partner_id in states else None}
        for r in referrals
    ]


def get_pathway(uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID) -> dict[str, Any]:
    """Team, tovholder, network, meetings, the current plan, the continuity figure and
    the offer referrals; a team member from another agency sees each section only
    when the citizen's consent covers it (`withheld` names the others), and without
    any consent nothing but that the pathway exists (`restricted`)."""
    row, seen = visible_pathway(uow, actor, pathway_id)
    if seen.restricted:
        role = uow.session.execute(select(MemberRow.role).where(
            MemberRow.pathway_id == row.id, MemberRow.member_id == as_actor(actor).id)
        ).scalar_one_or_none()
        view = _restricted_view(row, seen, role)
        _read(uow, actor, "pathway", row, "Se forløbet: team, møder og handleplan")
        uow.commit()
        return view
    pathway = repository.load_pathway(uow.session, row)
    staff = repository.staff(uow.session, pathway.members)
    today = local_day(uow.clock.now())
    tovholder = pathway.tovholder_id
    continuity = pathway.continuity()
    plan_row = repository.plan_row(uow.session, row.id)
    plan = repository.load_plan(uow.session, plan_row) if plan_row else None
    meetings = uow.session.scalars(
        select(MeetingRow).where(MeetingRow.pathway_id == row.id).order_by(MeetingRow.starts_at)
    )
    prefs: CitizenPreferences = repository.preferences_of(row)
    view = {
        "pathway_id": str(row.id),
        "citizen_ref": str(row.citizen_ref),
        "opened_at": _iso(row.opened_at),
        "closed_at": _iso(row.closed_at),
        "under_30": row.under_30,
        "referred_at": _iso(row.referred_at),
        "tovholder_id": tovholder,
        "members": [
            {"member_id": m.member_id, "name": m.name, "agency": m.agency.value, "role": m.role,
             "email": getattr(staff.get(m.member_id), "email", None),
             "active_from": _iso(m.active_from), "active_to": _iso(m.active_to),
             "active": m.is_active_on(today), "tovholder": m.member_id == tovholder}
            for m in sorted(pathway.members.values(), key=lambda m: m.active_from)
        ],
        "network": [
            {"person_id": n.person_id, "name": n.name, "relation": n.relation,
             "email": n.email, "phone": n.phone, "may_contact": n.may_contact}
            for n in pathway.network.values()
        ],
        "preferences": {
            "not_before": prefs.not_before.strftime("%H:%M") if prefs.not_before else None,
            "not_after": prefs.not_after.strftime("%H:%M") if prefs.not_after else None,
            "weekdays": [repository.WEEKDAYS[d] for d in sorted(prefs.weekdays)],
            "place": prefs.place.value,
        },
        "meetings": [
            {"meeting_id": str(m.id), "starts_at": _iso(m.starts_at), "ends_at": _iso(m.ends_at),
             "place": m.place, "status": m.status, "sequence": m.sequence,
             "participants": m.participants, "present": m.present, "decisions": m.decisions}
            for m in meetings
        ],
        "plan": None if plan is None or plan_row is None else {
            "plan_id": str(plan_row.id),
            "version": plan.current.number,
            "versions": len(plan.versions),
            "agreed_version": plan.agreed.number if plan.agreed else None,
            "goals": [
                {**repository.goal_to_json(g),
                 "actions": [{**a, "status": plan.status_of(a["action_id"]).value}
                             for a in repository.goal_to_json(g)["actions"]]}
                for g in plan.current.goals
            ],
        },
        "continuity": {
            "held_meetings": continuity.held_meetings,
            "with_citizen_and_tovholder": continuity.with_citizen_and_tovholder,
            "share": continuity.share,
            "tovholder_changes": continuity.tovholder_changes,
        },
        "offer_referrals": _offer_referrals(uow, row),
        "my_standing": seen.standing.value,
        "restricted": False,
        "restricted_reason": None,
        "withheld": seen.withheld(),
    }
    # Sections the citizen's consent does not cover for the caller's agency.
    empty: dict[str, Any] = {"network": [], "preferences": None, "meetings": [],
                             "continuity": None, "plan": None, "offer_referrals": []}
    for section in view["withheld"]:
        view[section] = empty[section]
    _read(uow, actor, "pathway", row, "Se forløbet: team, møder og handleplan")
    uow.commit()
    return view


def timeline(uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID) -> dict[str, Any]:
    """The pathway's own entries and what other services reported about the citizen,
    in one chronological list (ties keep the order they were written in). A team
    member from another agency sees the entries of the kinds of information the
    citizen's consent covers (services.coordination.needtoknow.TIMELINE_KINDS)."""
    row, seen = visible_pathway(uow, actor, pathway_id)
    entries: list[tuple[dt.datetime, int, int, dict[str, Any]]] = []
    for t in uow.session.scalars(select(TimelineRow).where(TimelineRow.pathway_id == row.id)):
        if seen.sees_entry(t.kind, t.details.get("handoff_kind")):
            entries.append((t.occurred_at, 1, t.id, {
                "at": _iso(t.occurred_at), "kind": t.kind, "source": "coordination",
                "actor": t.actor, "details": t.details}))
    for a in uow.session.scalars(
        select(CitizenActivity).where(CitizenActivity.citizen_ref == row.citizen_ref)
    ):
        if seen.sees_entry(a.kind, str(a.details.get("handoff_kind") or "")):
            entries.append((a.occurred_at, 0, a.id, {
                "at": _iso(a.occurred_at), "kind": a.kind, "source": "other_service",
                "actor": None, "details": a.details}))
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    _read(uow, actor, "timeline", row, "Se forløbets tidslinje")
    uow.commit()
    return {"pathway_id": str(row.id), "citizen_ref": str(row.citizen_ref),
            "restricted": seen.restricted, "entries": [e[3] for e in entries]}


# --- plan versions ---------------------------------------------------------------------------


def _plan(uow: UnitOfWork, actor: str, pathway_id: uuid.UUID) -> tuple[
        PathwayRow, PlanRow, list[PlanVersionRow]]:
    """The plan and its versions, for a caller who sees the plan (a plan the citizen's
    consent does not show to the caller answers as no plan)."""
    row, seen = visible_pathway(uow, actor, pathway_id)
    plan_row = repository.plan_row(uow.session, row.id)
    if plan_row is None or not seen.sees(needtoknow.PLAN):
        raise NotFound("pathway_id", "the pathway has no handleplan yet")
    versions = list(uow.session.scalars(
        select(PlanVersionRow).where(PlanVersionRow.plan_id == plan_row.id)
        .order_by(PlanVersionRow.number)))
    return row, plan_row, versions


def _agreement(v: PlanVersionRow) -> dict[str, Any] | None:
    if v.agreed_at is None or v.agreed_how is None:
        return None
    return {"agreed_by": "citizen", "agreed_at": _iso(v.agreed_at), "how": v.agreed_how,
            "how_text": AGREEMENT_HOW.get(v.agreed_how, v.agreed_how),
            "recorded_by": v.agreement_recorded_by}


def _version_summary(v: PlanVersionRow, following: PlanVersionRow | None) -> dict[str, Any]:
    return {
        "version": v.number,
        "current": following is None,
        "created_at": _iso(v.created_at),
        "created_by": v.created_by,
        "superseded_at": _iso(following.created_at) if following else None,
        "goals": len(v.goals),
        "actions": sum(len(g["actions"]) for g in v.goals),
        "agreement": _agreement(v),
    }


def list_plan_versions(uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID) -> dict[str, Any]:
    """Every version of the handleplan, oldest first, each with its agreement (if any)."""
    row, plan_row, versions = _plan(uow, actor, pathway_id)
    following: list[PlanVersionRow | None] = [*versions[1:], None]
    agreed = [v.number for v in versions if v.agreed_at is not None]
    _read(uow, actor, "plan", row, "Se handleplanens versioner", plan_row.id)
    uow.commit()
    return {
        "pathway_id": str(row.id), "plan_id": str(plan_row.id),
        "current_version": versions[-1].number if versions else None,
        "agreed_version": agreed[-1] if agreed else None,
        "versions": [_version_summary(v, n) for v, n in zip(versions, following, strict=True)],
    }


def get_plan_version(uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID,
                     version: int) -> dict[str, Any]:
    """One version exactly as it was written and agreed; `status_now` is each action's
    status today (progress is kept per action across versions)."""
    row, plan_row, versions = _plan(uow, actor, pathway_id)
    if not 1 <= version <= len(versions):
        raise NotFound("version", f"the handleplan has no version {version}")
    v = versions[version - 1]
    following = versions[version] if version < len(versions) else None
    status = repository.load_plan(uow.session, plan_row).action_status
    owners = {m.member_id: m.name for m in uow.session.scalars(
        select(MemberRow).where(MemberRow.pathway_id == row.id))}
    _read(uow, actor, "plan", row, "Se en version af handleplanen", f"{plan_row.id}/v{version}")
    uow.commit()
    summary = {k: value for k, value in _version_summary(v, following).items()
               if k not in ("goals", "actions")}  # the counts: the goals themselves follow
    return {
        "pathway_id": str(row.id), "plan_id": str(plan_row.id), **summary,
        "goals": [
            {"goal_id": g["goal_id"], "text": g["text"], "voice": g["voice"],
             "voice_text": GOAL_VOICE.get(g["voice"], g["voice"]),
             "actions": [{**a, "owner_name": owners.get(a["owner_id"]),
                          "status_now": status.get(a["action_id"], "open")}
                         for a in g["actions"]]}
            for g in v.goals
        ],
    }


# --- network contacts ------------------------------------------------------------------------


def get_participant_contact(uow: UnitOfWork, *, actor: str, pathway_id: uuid.UUID,
                            participant_id: str, purpose: str) -> dict[str, Any]:
    """A network person's e-mail and phone, only when the citizen agreed that they are
    contacted; every answer is logged as a disclosure with its purpose. Staff see it
    as far as they see the network (a team member from another agency: with the
    citizen's consent to contact_status)."""
    row, seen = visible_pathway(uow, actor, pathway_id)
    person = uow.session.get(NetworkPersonRow, (row.id, participant_id))
    if person is None or not seen.sees(needtoknow.NETWORK):
        raise NotFound("participant_id",
                       f"{participant_id} is not a network person of this pathway")
    if not person.may_contact:
        raise NotFound("participant_id",
                       "the citizen has not agreed that this person is contacted")
    access.record(uow, actor=actor, action=Action.DISCLOSURE, what="network_contact",
                  citizen_ref=row.citizen_ref, subject_id=participant_id, purpose=purpose)
    uow.commit()
    return {"participant_id": person.person_id, "name": person.name, "email": person.email,
            "phone": person.phone}


# --- worklists: coordinators -----------------------------------------------------------------

AWAITING = "coordination.awaiting_tovholder"


def awaiting_tovholder(
    uow: UnitOfWork, *, actor: str, cursor: str | None, limit: int, under_30: bool | None,
    appoint_within_days: int,
) -> dict[str, Any]:
    """Pathways awaiting a tovholder: under-30s first, then the longest waiting. `due_on`
    is the service target for appointing one (`appoint_within_days` after the referral).
    The coordinators' list: nobody else sees pathways without a tovholder."""
    who = as_actor(actor)
    if not (who.is_service or who.has_role(StaffRole.COORDINATOR)):
        raise DomainError("actor", "not_allowed",
                          "the list of pathways awaiting a tovholder is the coordinators'")
    now = uow.clock.now()
    today = local_day(now)
    first = case((PathwayRow.under_30.is_(True), 0), else_=1)
    since = func.coalesce(PathwayRow.referred_at, PathwayRow.opened_at)
    query: Select[Any] = (
        select(first, since, PathwayRow.id, PathwayRow)
        .where(PathwayRow.closed_at.is_(None),
               ~exists().where(TovholderTermRow.pathway_id == PathwayRow.id))
    )
    if under_30 is not None:
        query = query.where(PathwayRow.under_30.is_(True) if under_30
                            else or_(PathwayRow.under_30.is_(None),
                                     PathwayRow.under_30.is_(False)))
    page = worklist.paginate(
        uow.session, query, order=[worklist.asc(first), worklist.asc(since),
                                   worklist.asc(PathwayRow.id)],
        list_name=AWAITING, cursor=cursor, limit=limit)

    def render(r: Any) -> dict[str, Any]:
        row: PathwayRow = r[3]
        waiting_since: dt.datetime = r[1]
        since_day = local_day(waiting_since)
        waited = (today - since_day).days
        return worklist.item(
            kind="pathway_awaiting_tovholder", subject_type="pathway", subject_id=row.id,
            reason_code="under_30_awaiting_tovholder" if row.under_30 else "awaiting_tovholder",
            reason=texts.awaiting_reason(row.under_30, waited, since_day),
            due_on=since_day + dt.timedelta(days=appoint_within_days), today=today,
            citizen_ref=row.citizen_ref, under_30=row.under_30,
            waiting_since=_iso(waiting_since), waiting_days=waited,
            waiting_hours=int((now - waiting_since).total_seconds() // 3600),
            from_referral=row.referral_inquiry_id is not None,
            referral_inquiry_id=str(row.referral_inquiry_id) if row.referral_inquiry_id
            else None)

    _searched(uow, actor, AWAITING, "Arbejdsliste: forløb der venter på en tovholder")
    uow.commit()
    return page.render(render)


# --- worklists: a tovholder or team member ---------------------------------------------------

MY_PATHWAYS = "coordination.my_pathways"
MY_MEETINGS = "coordination.my_meetings"
MY_ACTIONS = "coordination.my_actions"
MY_HOUSING_ALERTS = "coordination.my_housing_alerts"


def _tovholder_of(me: str) -> Select[Any]:
    """The pathways where `me` is the tovholder now."""
    return select(TovholderTermRow.pathway_id).where(
        TovholderTermRow.member_id == me, TovholderTermRow.until.is_(None))


def _member_of(me: str, today: dt.date, *, agency: Agency | None = None) -> Select[Any]:
    """The pathways where `me` is in the team (today, or from a later day)."""
    query = select(MemberRow.pathway_id).where(
        MemberRow.member_id == me,
        or_(MemberRow.active_to.is_(None), MemberRow.active_to >= today))
    if agency is not None:
        query = query.where(MemberRow.agency == agency.value)
    return query


def _sees(me: str, today: dt.date, kind: str) -> ColumnElement[bool]:
    """On `PathwayRow`: `me` sees information of `kind` on the pathway (the rule of
    services.coordination.needtoknow, in SQL): I am its tovholder, or in its team (not
    ended) for social services, or for another agency that the citizen's valid
    pathway_team consent covering `kind` names."""
    consented = exists().where(
        ConsentRow.citizen_ref == PathwayRow.citizen_ref,
        ConsentRow.recipient == MemberRow.agency,
        ConsentRow.purpose == needtoknow.PATHWAY_TEAM,
        ConsentRow.given_at.is_not(None), ConsentRow.withdrawn_at.is_(None),
        ConsentKindRow.consent_id == ConsentRow.consent_id, ConsentKindRow.kind == kind)
    member = exists().where(
        MemberRow.pathway_id == PathwayRow.id, MemberRow.member_id == me,
        or_(MemberRow.active_to.is_(None), MemberRow.active_to >= today),
        or_(MemberRow.agency == needtoknow.HOLDING_AGENCY.value, consented))
    return or_(PathwayRow.id.in_(_tovholder_of(me)), member)


def _my_pathways_query(me: str, today: dt.date, role: str | None) -> tuple[Select[Any], list[
        worklist.SortColumn]]:
    is_tovholder = PathwayRow.id.in_(_tovholder_of(me))
    in_team = PathwayRow.id.in_(_member_of(me, today))
    first = case((is_tovholder, 0), else_=1)
    query = select(first, PathwayRow.opened_at, PathwayRow.id, PathwayRow).where(
        PathwayRow.closed_at.is_(None), or_(is_tovholder, in_team))
    if role == "tovholder":
        query = query.where(is_tovholder)
    elif role == "member":
        query = query.where(~is_tovholder)
    order = [worklist.asc(first), worklist.asc(PathwayRow.opened_at), worklist.asc(PathwayRow.id)]
    return query, order


def _tovholders(uow: UnitOfWork, pathway_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not pathway_ids:
        return {}
    return {pid: member for pid, member in uow.session.execute(
        select(TovholderTermRow.pathway_id, TovholderTermRow.member_id).where(
            TovholderTermRow.pathway_id.in_(pathway_ids), TovholderTermRow.until.is_(None)))}


def _sights(uow: UnitOfWork, me: str, rows: Sequence[PathwayRow], today: dt.date,
            tovholders: dict[uuid.UUID, str]) -> dict[uuid.UUID, Sight | None]:
    """My sight of each pathway of a page (a few queries per page)."""
    if not rows:
        return {}
    agencies = dict(uow.session.execute(
        select(MemberRow.pathway_id, MemberRow.agency).where(
            MemberRow.pathway_id.in_([r.id for r in rows]), MemberRow.member_id == me,
            or_(MemberRow.active_to.is_(None), MemberRow.active_to >= today))).all())
    consents = repository.consents_of(uow.session, (r.citizen_ref for r in rows),
                                      needtoknow.PATHWAY_TEAM)
    return {
        r.id: needtoknow.sight_of(
            kind="staff", actor_id=me, tovholder_id=tovholders.get(r.id),
            closed=r.closed_at is not None, member_agency=agencies.get(r.id),
            consent_kinds=consents.get((r.citizen_ref, agencies.get(r.id, ""))))
        for r in rows
    }


def _pathway_facts(uow: UnitOfWork, me: str, rows: Sequence[PathwayRow],
                   now: dt.datetime) -> dict[str, dict[uuid.UUID, Any]]:
    """For a page of pathways: my role and sight, the tovholder, the plan's state, the
    next meeting and the first open action's due date (a few queries per page)."""
    pathway_ids = [r.id for r in rows]
    if not pathway_ids:
        return {"role": {}, "tovholder": {}, "plan": {}, "meeting": {}, "action": {},
                "sight": {}}
    session = uow.session
    roles = dict(session.execute(select(MemberRow.pathway_id, MemberRow.role).where(
        MemberRow.pathway_id.in_(pathway_ids), MemberRow.member_id == me)).all())
    tovholders = _tovholders(uow, pathway_ids)
    plans: dict[uuid.UUID, tuple[int, bool]] = {}
    for pid, number, agreed_at in session.execute(
        select(PlanRow.pathway_id, PlanVersionRow.number, PlanVersionRow.agreed_at)
        .join(PlanVersionRow, PlanVersionRow.plan_id == PlanRow.id)
        .where(PlanRow.pathway_id.in_(pathway_ids))
    ):
        if pid not in plans or number > plans[pid][0]:
            plans[pid] = (number, agreed_at is not None)
    meetings = dict(session.execute(
        select(MeetingRow.pathway_id, func.min(MeetingRow.starts_at))
        .where(MeetingRow.pathway_id.in_(pathway_ids), MeetingRow.status == "planned",
               MeetingRow.starts_at >= start_of_local_day(local_day(now)))
        .group_by(MeetingRow.pathway_id)).all())
    actions = dict(session.execute(
        select(PlanActionRow.pathway_id, func.min(PlanActionRow.due_on))
        .where(PlanActionRow.pathway_id.in_(pathway_ids), PlanActionRow.status == "open")
        .group_by(PlanActionRow.pathway_id)).all())
    return {"role": roles, "tovholder": tovholders, "plan": plans,
            "meeting": meetings, "action": actions,
            "sight": _sights(uow, me, rows, local_day(now), tovholders)}


def _pathway_item(row: PathwayRow, facts: dict[str, dict[uuid.UUID, Any]], me: str,
                  today: dt.date) -> dict[str, Any]:
    tovholder = facts["tovholder"].get(row.id)
    is_tovholder = tovholder == me
    seen: Sight | None = facts["sight"].get(row.id)
    role = facts["role"].get(row.id)
    if seen is None or seen.restricted:  # in the team, without the citizen's consent
        return worklist.item(
            kind="pathway", subject_type="pathway", subject_id=row.id,
            reason_code="team_member_without_consent", reason=texts.restricted_reason(role),
            today=today, citizen_ref=row.citizen_ref, my_role="member", role=role,
            restricted=True, tovholder_id=None, opened_at=_iso(row.opened_at),
            under_30=None, plan_state=None, plan_version=None, next_meeting_at=None,
            next_action_due_on=None)
    plan = facts["plan"].get(row.id) if seen.sees(needtoknow.PLAN) else None
    plan_state = "none" if plan is None else ("agreed" if plan[1] else "unagreed")
    next_meeting = facts["meeting"].get(row.id) if seen.sees(needtoknow.MEETINGS) else None
    next_due = facts["action"].get(row.id) if seen.sees(needtoknow.PLAN) else None
    shown_state = plan_state if seen.sees(needtoknow.PLAN) else None
    return worklist.item(
        kind="pathway", subject_type="pathway", subject_id=row.id,
        reason_code="tovholder" if is_tovholder else "team_member",
        reason=texts.pathway_reason(is_tovholder, role, shown_state or "hidden"),
        due_on=next_due, today=today, citizen_ref=row.citizen_ref,
        my_role="tovholder" if is_tovholder else "member", role=role, restricted=False,
        tovholder_id=tovholder, opened_at=_iso(row.opened_at), under_30=row.under_30,
        plan_state=shown_state, plan_version=plan[0] if plan else None,
        next_meeting_at=_iso(next_meeting), next_action_due_on=_iso(next_due))


def my_pathways(uow: UnitOfWork, *, actor: str, cursor: str | None, limit: int,
                role: str | None) -> dict[str, Any]:
    """The caller's open pathways: as tovholder first, then as team member; the oldest
    first. `due_on` is the first open action's due date."""
    me, now = _me(actor), uow.clock.now()
    today = local_day(now)
    query, order = _my_pathways_query(me, today, role)
    page = worklist.paginate(uow.session, query, order=order, list_name=MY_PATHWAYS,
                             cursor=cursor, limit=limit)
    facts = _pathway_facts(uow, me, [r[3] for r in page.rows], now)
    _searched(uow, actor, MY_PATHWAYS, "Arbejdsliste: mine forløb")
    uow.commit()
    return page.render(lambda r: _pathway_item(r[3], facts, me, today))


def own_pathways(uow: UnitOfWork, *, actor: str) -> list[dict[str, Any]]:
    """All the caller's open pathways, in the order of `my_pathways` (for
    `find_pathway` without a citizen)."""
    me = _me(actor)
    today = local_day(uow.clock.now())
    query, order = _my_pathways_query(me, today, None)
    rows = [r[3] for r in uow.session.execute(
        query.order_by(*[c.expression.asc() for c in order])).all()]
    tovholders = _tovholders(uow, [r.id for r in rows])
    _searched(uow, actor, MY_PATHWAYS, "Finde mine forløb")
    uow.commit()
    return [{"pathway_id": str(r.id), "citizen_ref": str(r.citizen_ref),
             "opened_at": _iso(r.opened_at), "tovholder_id": tovholders.get(r.id),
             "my_role": "tovholder" if tovholders.get(r.id) == me else "member"}
            for r in rows]


def _names(uow: UnitOfWork, pathway_ids: Iterable[uuid.UUID]) -> dict[tuple[uuid.UUID, str], str]:
    ids = list(set(pathway_ids))
    if not ids:
        return {}
    names = {(pid, mid): name for pid, mid, name in uow.session.execute(
        select(MemberRow.pathway_id, MemberRow.member_id, MemberRow.name)
        .where(MemberRow.pathway_id.in_(ids)))}
    names.update({(pid, nid): name for pid, nid, name in uow.session.execute(
        select(NetworkPersonRow.pathway_id, NetworkPersonRow.person_id, NetworkPersonRow.name)
        .where(NetworkPersonRow.pathway_id.in_(ids)))})
    return names


def my_meetings(uow: UnitOfWork, *, actor: str, cursor: str | None, limit: int,
                until: dt.date | None) -> dict[str, Any]:
    """Planned meetings I am invited to, or of pathways I lead now (a tovholder who took
    over sees the meetings planned before), from the start of today, the soonest first
    (one that has started and is not yet recorded as held stays until it is)."""
    me, now = _me(actor), uow.clock.now()
    today = local_day(now)
    invited = exists().where(MeetingParticipantRow.meeting_id == MeetingRow.id,
                             MeetingParticipantRow.participant_id == me)
    query = cast("Select[Any]", (
        select(MeetingRow.starts_at, MeetingRow.id, MeetingRow, PathwayRow.citizen_ref)
        .join(PathwayRow, PathwayRow.id == MeetingRow.pathway_id)
        .where(MeetingRow.status == "planned", PathwayRow.closed_at.is_(None),
               MeetingRow.starts_at >= start_of_local_day(today),
               or_(invited, MeetingRow.pathway_id.in_(_tovholder_of(me))),
               _sees(me, today, needtoknow.MEETINGS))
    ))
    if until is not None:
        query = query.where(MeetingRow.starts_at < start_of_local_day(until + dt.timedelta(days=1)))
    page = worklist.paginate(
        uow.session, query, order=[worklist.asc(MeetingRow.starts_at), worklist.asc(MeetingRow.id)],
        list_name=MY_MEETINGS, cursor=cursor, limit=limit)
    pathway_ids = [r[2].pathway_id for r in page.rows]
    tovholders = _tovholders(uow, pathway_ids)
    names = _names(uow, pathway_ids)

    def render(r: Any) -> dict[str, Any]:
        meeting: MeetingRow = r[2]
        tovholder = tovholders.get(meeting.pathway_id)
        participants = [
            {"participant_id": p["participant_id"], "required": p["required"],
             "name": names.get((meeting.pathway_id, p["participant_id"]), CITIZEN_LABEL),
             "tovholder": p["participant_id"] == tovholder}
            for p in meeting.participants
        ]
        return worklist.item(
            kind="meeting", subject_type="meeting", subject_id=meeting.id,
            reason_code="meeting_planned",
            reason=texts.meeting_reason(meeting.starts_at, meeting.place, tovholder == me),
            due_at=meeting.starts_at, today=today, citizen_ref=r[3],
            pathway_id=str(meeting.pathway_id), starts_at=_iso(meeting.starts_at),
            ends_at=_iso(meeting.ends_at), place=meeting.place, sequence=meeting.sequence,
            my_role="tovholder" if tovholder == me else "participant",
            participants=participants)

    _searched(uow, actor, MY_MEETINGS, "Arbejdsliste: mine næste møder")
    uow.commit()
    return page.render(render)


def my_actions(uow: UnitOfWork, *, actor: str, cursor: str | None, limit: int,
               overdue_only: bool, notice_days: int) -> dict[str, Any]:
    """Open actions of current plans that are due (from `notice_days` before their due
    date) or overdue, that I own or that sit on pathways where I am tovholder; the
    oldest due date first."""
    me, now = _me(actor), uow.clock.now()
    today = local_day(now)
    horizon = today - dt.timedelta(days=1) if overdue_only else \
        today + dt.timedelta(days=notice_days)
    query = cast("Select[Any]", (
        select(PlanActionRow.due_on, PlanActionRow.id, PlanActionRow, PathwayRow.citizen_ref)
        .join(PathwayRow, PathwayRow.id == PlanActionRow.pathway_id)
        .where(PlanActionRow.status == "open", PathwayRow.closed_at.is_(None),
               PlanActionRow.due_on <= horizon,
               or_(PlanActionRow.owner_id == me,
                   PlanActionRow.pathway_id.in_(_tovholder_of(me))),
               _sees(me, today, needtoknow.PLAN))
    ))
    page = worklist.paginate(
        uow.session, query, order=[worklist.asc(PlanActionRow.due_on),
                                   worklist.asc(PlanActionRow.id)],
        list_name=MY_ACTIONS, cursor=cursor, limit=limit)
    names = _names(uow, [r[2].pathway_id for r in page.rows])

    def render(r: Any) -> dict[str, Any]:
        action: PlanActionRow = r[2]
        overdue = action.due_on < today
        owned = action.owner_id == me
        return worklist.item(
            kind="action_overdue" if overdue else "action_due", subject_type="action",
            subject_id=action.action_id,
            reason_code="action_overdue" if overdue else "action_due",
            reason=texts.action_reason(action.due_on, today, owned),
            due_on=action.due_on, today=today, citizen_ref=r[3],
            pathway_id=str(action.pathway_id), plan_id=str(action.plan_id),
            plan_version=action.version, goal_id=action.goal_id, action_id=action.action_id,
            text=action.text, owner_id=action.owner_id,
            owner_name=names.get((action.pathway_id, action.owner_id)),
            my_role="owner" if owned else "tovholder")

    _searched(uow, actor, MY_ACTIONS, "Arbejdsliste: handlinger der skal gøres")
    uow.commit()
    return page.render(render)


def my_housing_alerts(uow: UnitOfWork, *, actor: str, cursor: str | None, limit: int,
                      urgent_only: bool) -> dict[str, Any]:
    """Open rent-arrears cases of the citizens of my pathways (where I am tovholder, or
    the team's housing adviser): help after the påkrav deadline first, then other
    warnings and overdue deadlines, then the rest; the nearest deadline first."""
    me, now = _me(actor), uow.clock.now()
    today = local_day(now)
    mine = or_(PathwayRow.id.in_(_tovholder_of(me)),
               PathwayRow.id.in_(_member_of(me, today, agency=Agency.HOUSING)))
    query = cast("Select[Any]", (
        select(HousingAlertRow.priority, HousingAlertRow.sort_deadline, HousingAlertRow.case_id,
               HousingAlertRow, PathwayRow.id)
        .join(PathwayRow, and_(PathwayRow.citizen_ref == HousingAlertRow.citizen_ref,
                               PathwayRow.closed_at.is_(None)))
        .where(HousingAlertRow.closed_at.is_(None), mine,
               _sees(me, today, needtoknow.HOUSING))
    ))
    if urgent_only:
        query = query.where(HousingAlertRow.priority <= 1)
    page = worklist.paginate(
        uow.session, query, order=[worklist.asc(HousingAlertRow.priority),
                                   worklist.asc(HousingAlertRow.sort_deadline),
                                   worklist.asc(HousingAlertRow.case_id)],
        list_name=MY_HOUSING_ALERTS, cursor=cursor, limit=limit)

    def render(r: Any) -> dict[str, Any]:
        alert: HousingAlertRow = r[3]
        late = housing_alerts.LATE_HELP in alert.flags
        if late:
            code = housing_alerts.LATE_HELP
        elif alert.flags:
            code = alert.flags[-1]
        else:
            code = "deadline_overdue" if alert.overdue_kind else alert.level
        return worklist.item(
            kind="housing_warning" if alert.flags else (
                "housing_deadline_overdue" if alert.overdue_kind else "housing_case"),
            subject_type="housing_case", subject_id=alert.case_id, reason_code=code,
            reason=texts.housing_reason(
                late_help=late, pakrav_deadline=alert.pakrav_deadline,
                short_pakrav=housing_alerts.SHORT_PAKRAV in alert.flags,
                overdue_kind=alert.overdue_kind, level=alert.level),
            due_on=alert.pakrav_deadline if late else None, due_at=alert.next_deadline,
            today=today, citizen_ref=alert.citizen_ref, pathway_id=str(r[4]),
            level=alert.level, flags=list(alert.flags),
            pakrav_deadline=_iso(alert.pakrav_deadline),
            next_deadline=_iso(alert.next_deadline), overdue_kind=alert.overdue_kind,
            requests=list(alert.requests),
            requests_text=[texts.REQUESTS.get(x, x) for x in alert.requests],
            priority=alert.priority, association_id=alert.association_id,
            updated_at=_iso(alert.updated_at))

    _searched(uow, actor, MY_HOUSING_ALERTS, "Arbejdsliste: huslejesager for mine borgere")
    uow.commit()
    return page.render(render)


MY_HANDOFFS = "coordination.my_handoffs"


def my_handoffs(uow: UnitOfWork, *, actor: str, cursor: str | None, limit: int,
                attention: str | None) -> dict[str, Any]:
    """Hand-offs of the citizens of the pathways I lead that need my attention: declined
    by the partner, or unanswered past their deadline (escalated); the longest waiting
    first. `due_on` is the answer deadline an escalated hand-off missed."""
    me, now = _me(actor), uow.clock.now()
    today = local_day(now)
    query = cast("Select[Any]", (
        select(HandoffRow.attention_since, HandoffRow.handoff_id, HandoffRow, PathwayRow.id)
        .join(PathwayRow, and_(PathwayRow.citizen_ref == HandoffRow.citizen_ref,
                               PathwayRow.closed_at.is_(None)))
        .where(HandoffRow.attention.is_not(None),
               PathwayRow.id.in_(_tovholder_of(me)))
    ))
    if attention is not None:
        query = query.where(HandoffRow.attention == attention)
    page = worklist.paginate(
        uow.session, query, order=[worklist.asc(HandoffRow.attention_since),
                                   worklist.asc(HandoffRow.handoff_id)],
        list_name=MY_HANDOFFS, cursor=cursor, limit=limit)
    names = dict(uow.session.execute(select(PartnerRow.partner_id, PartnerRow.name).where(
        PartnerRow.partner_id.in_({r[2].partner_id for r in page.rows}))).all()) \
        if page.rows else {}

    def render(r: Any) -> dict[str, Any]:
        handoff: HandoffRow = r[2]
        partner = names.get(handoff.partner_id) or handoff.partner_id
        code = handoff.attention or ""
        return worklist.item(
            kind=f"handoff_{code}", subject_type="handoff", subject_id=handoff.handoff_id,
            reason_code=f"handoff_{code}",
            reason=texts.handoff_reason(attention=code, handoff_kind=handoff.kind,
                                        partner=partner, reason=handoff.reason,
                                        answer_by=handoff.answer_by),
            due_on=handoff.answer_by if code == "escalated" else None, today=today,
            citizen_ref=handoff.citizen_ref, pathway_id=str(r[3]),
            handoff_kind=handoff.kind,
            handoff_kind_text=texts.HANDOFF_KINDS.get(handoff.kind, handoff.kind),
            partner_id=handoff.partner_id, partner_name=names.get(handoff.partner_id),
            subject_type_of_handoff=handoff.subject_type,
            subject_id_of_handoff=str(handoff.subject_id), state=handoff.state,
            title=handoff.title, declined_reason=handoff.reason,
            requested_at=_iso(handoff.requested_at), answer_by=_iso(handoff.answer_by),
            escalated_at=_iso(handoff.escalated_at),
            attention_since=_iso(handoff.attention_since))

    _searched(uow, actor, MY_HANDOFFS, "Arbejdsliste: overdragelser der kræver opfølgning")
    uow.commit()
    return page.render(render)


# --- the citizen's access report ---------------------------------------------------------------

ACCESS_REPORT_ROLES = (StaffRole.FRONTEN, StaffRole.OPERATOR)


def access_report(uow: UnitOfWork, *, actor: str, citizen_ref: uuid.UUID) -> list[dict[str, Any]]:
    """Who has read, searched, changed or passed on the citizen's data in coordination,
    when and why, oldest first (the citizen's request for insight is answered by Fronten;
    operators may read it too). The report itself is logged as a read."""
    who = as_actor(actor)
    if not (who.is_service or who.has_role(*ACCESS_REPORT_ROLES)):
        raise DomainError("actor", "not_allowed",
                          "the access report is read by Fronten (or an operator)")
    entries = access.entries_of_citizen(uow.session, uow.metadata, citizen_ref, "coordination")
    access.record(uow, actor=actor, action=Action.READ, what="access_log",
                  citizen_ref=citizen_ref,
                  purpose=_purpose(actor, "Svare borgeren: hvem har set mine oplysninger"))
    uow.commit()
    return entries


# --- statistics ---------------------------------------------------------------------------------


def _terms_by_pathway(uow: UnitOfWork, pathway_ids: Iterable[uuid.UUID]) -> dict[
        uuid.UUID, list[TovholderTermRow]]:
    ids = list(set(pathway_ids))
    found: dict[uuid.UUID, list[TovholderTermRow]] = {pid: [] for pid in ids}
    if ids:
        for term in uow.session.scalars(
            select(TovholderTermRow).where(TovholderTermRow.pathway_id.in_(ids))
            .order_by(TovholderTermRow.id)
        ):
            found[term.pathway_id].append(term)
    return found


def _tovholder_at(terms: Sequence[TovholderTermRow], moment: dt.datetime) -> str | None:
    for term in terms:
        if term.since <= moment and (term.until is None or moment < term.until):
            return term.member_id
    return None


def pathway_statistics(uow: UnitOfWork, *, period_start: dt.date,
                       period_end: dt.date) -> dict[str, Any]:
    """The period's pathway figures (definitions: services.coordination.statistics)."""
    win = statistics.window(period_start, period_end)
    session = uow.session
    first_term = (select(TovholderTermRow.pathway_id, func.min(TovholderTermRow.since)
                         .label("first_since"))
                  .group_by(TovholderTermRow.pathway_id).subquery())
    pathways = [
        statistics.PathwayRecord(
            pathway_id=str(p.id), opened_at=p.opened_at, closed_at=p.closed_at,
            referred_at=(p.referred_at or p.opened_at) if p.referral_inquiry_id else None,
            first_tovholder_at=first_since, under_30=p.under_30)
        for p, first_since in session.execute(
            select(PathwayRow, first_term.c.first_since)
            .outerjoin(first_term, first_term.c.pathway_id == PathwayRow.id)
            .where(PathwayRow.opened_at < win.end,
                   or_(PathwayRow.closed_at.is_(None), PathwayRow.closed_at >= win.start)))
    ]
    # Held meetings of the pathways with one in the window, and those before it (the
    # continuity of the first meeting in the window looks at the one before).
    with_meetings = select(MeetingRow.pathway_id).where(
        MeetingRow.status == "held", MeetingRow.starts_at >= win.start,
        MeetingRow.starts_at < win.end)
    held_rows = list(session.scalars(
        select(MeetingRow).where(MeetingRow.status == "held", MeetingRow.starts_at < win.end,
                                 MeetingRow.pathway_id.in_(with_meetings))))
    terms = _terms_by_pathway(uow, (m.pathway_id for m in held_rows))
    meetings = [
        statistics.HeldMeeting(
            pathway_id=str(m.pathway_id), meeting_id=str(m.id), starts_at=m.starts_at,
            tovholder_id=_tovholder_at(terms[m.pathway_id], m.starts_at),
            tovholder_present=m.tovholder_present, citizen_present=m.citizen_present)
        for m in held_rows
    ]
    agreements = session.scalars(select(PlanVersionRow.agreed_at).where(
        PlanVersionRow.agreed_at >= win.start, PlanVersionRow.agreed_at < win.end)).all()
    handovers = session.scalars(select(TovholderTermRow.until).where(
        TovholderTermRow.until >= win.start, TovholderTermRow.until < win.end)).all()
    result = statistics.report(period_start, period_end, pathways=pathways, meetings=meetings,
                               agreements=[a for a in agreements if a is not None],
                               handovers=[h for h in handovers if h is not None])
    w, c = result.referral_to_tovholder, result.continuity
    return {
        "period_start": result.period_start.isoformat(),
        "period_end": result.period_end.isoformat(),
        "active_pathways": result.active_pathways,
        "active_under_30": result.active_under_30,
        "opened": result.opened,
        "closed": result.closed,
        "referral_to_tovholder": {"appointed": w.appointed, "median_days": w.median_days,
                                  "mean_days": w.mean_days, "still_waiting": w.still_waiting},
        "meetings_held": result.meetings_held,
        "plans_agreed": result.plans_agreed,
        "continuity": {"held_meetings": c.held_meetings, "same_tovholder": c.same_tovholder,
                       "share": c.share,
                       "with_citizen_and_tovholder": c.with_citizen_and_tovholder},
        "tovholder_changes": result.tovholder_changes,
        "text": statistics.render_danish(result),
    }

