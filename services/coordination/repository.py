"""Loading coordination's aggregates from rows, and the rows' small queries.

The domain (`pathways.Pathway`, `plans.Handleplan`) knows nothing of storage; this
module rebuilds them from rows inside a unit of work (locking the pathway row on
PostgreSQL so that two changes to one pathway happen one after the other).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from contracts.vocabulary import Agency
from services.common.errors import NotFound
from services.coordination import handoffs as handoffs_domain
from services.coordination import plans as plans_domain
from services.coordination.models import (
    ActionAnnouncementRow,
    ActionStatusRow,
    BusyBlockRow,
    ConsentKindRow,
    ConsentRow,
    HandoffRow,
    MeetingParticipantRow,
    MeetingRow,
    MemberRow,
    NetworkPersonRow,
    PathwayRow,
    PlanActionRow,
    PlanRow,
    PlanVersionRow,
    StaffRow,
    TovholderTermRow,
)
from services.coordination.pathways import (
    Meeting,
    MeetingStatus,
    NetworkPerson,
    Pathway,
    TeamMember,
    TovholderTerm,
)
from services.coordination.scheduling import (
    COPENHAGEN,
    BusyBlock,
    CitizenPreferences,
    MeetingPlace,
    WorkingHours,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# --- pathways --------------------------------------------------------------------


def pathway_row(session: Session, pathway_id: uuid.UUID, *, lock: bool = False) -> PathwayRow:
    query = select(PathwayRow).where(PathwayRow.id == pathway_id)
    if lock:
        query = query.with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFound("pathway_id", f"no pathway {pathway_id}")
    return row


def open_pathway_of(session: Session, citizen_ref: uuid.UUID) -> PathwayRow | None:
    return session.execute(
        select(PathwayRow).where(
            PathwayRow.citizen_ref == citizen_ref, PathwayRow.closed_at.is_(None)
        )
    ).scalar_one_or_none()


def current_tovholder(session: Session, pathway_id: uuid.UUID) -> str | None:
    """The member id of the pathway's tovholder now, or None before one is appointed."""
    return session.execute(
        select(TovholderTermRow.member_id).where(
            TovholderTermRow.pathway_id == pathway_id, TovholderTermRow.until.is_(None))
    ).scalar_one_or_none()


def membership_agency(session: Session, pathway_id: uuid.UUID, member_id: str,
                      today: dt.date) -> str | None:
    """The agency `member_id` sits in the pathway's team for, if their membership has
    not ended by `today` (one starting later counts: they are joining); else None."""
    return session.execute(
        select(MemberRow.agency).where(
            MemberRow.pathway_id == pathway_id, MemberRow.member_id == member_id,
            or_(MemberRow.active_to.is_(None), MemberRow.active_to >= today))
    ).scalar_one_or_none()


def consent_kinds(session: Session, citizen_ref: uuid.UUID, recipient: str,
                  purpose: str) -> frozenset[str] | None:
    """The kinds of information the citizen's valid consents to `recipient` for
    `purpose` cover together, or None when there is no valid consent (never given,
    or withdrawn)."""
    valid = list(session.scalars(
        select(ConsentRow.consent_id).where(
            ConsentRow.citizen_ref == citizen_ref, ConsentRow.recipient == recipient,
            ConsentRow.purpose == purpose, ConsentRow.given_at.is_not(None),
            ConsentRow.withdrawn_at.is_(None))))
    if not valid:
        return None
    return frozenset(session.scalars(
        select(ConsentKindRow.kind).where(ConsentKindRow.consent_id.in_(valid))))


def consents_of(session: Session, citizen_refs: Iterable[uuid.UUID],
                purpose: str) -> dict[tuple[uuid.UUID, str], frozenset[str]]:
    """For many citizens at once: (citizen, recipient) -> the kinds their valid
    consents for `purpose` cover (a pair without a valid consent is absent)."""
    refs = list(set(citizen_refs))
    if not refs:
        return {}
    found: dict[tuple[uuid.UUID, str], set[str]] = {}
    for citizen_ref, recipient, kind in session.execute(
        select(ConsentRow.citizen_ref, ConsentRow.recipient, ConsentKindRow.kind)
        .outerjoin(ConsentKindRow, ConsentKindRow.consent_id == ConsentRow.consent_id)
        .where(ConsentRow.citizen_ref.in_(refs), ConsentRow.purpose == purpose,
               ConsentRow.given_at.is_not(None), ConsentRow.withdrawn_at.is_(None))
    ):
        kinds = found.setdefault((citizen_ref, recipient), set())
        if kind is not None:
            kinds.add(kind)
    return {key: frozenset(kinds) for key, kinds in found.items()}


def staff_email(session: Session, member_id: str | None) -> str | None:
    if member_id is None:
        return None
    row = session.get(StaffRow, member_id)
    return row.email if row else None


def load_pathway(session: Session, row: PathwayRow) -> Pathway:
    """The Pathway aggregate of `row`, with its team, terms, network and meetings."""
    pid = row.id
    members = {
        m.member_id: TeamMember(
            member_id=m.member_id,
            name=m.name,
            agency=Agency(m.agency),
            role=m.role,
            active_from=m.active_from,
            active_to=m.active_to,
        )
        for m in session.scalars(select(MemberRow).where(MemberRow.pathway_id == pid))
    }
    terms = [
        TovholderTerm(t.member_id, t.since, t.until, t.handover_reason, t.handover_note)
        for t in session.scalars(
            select(TovholderTermRow)
            .where(TovholderTermRow.pathway_id == pid)
            .order_by(TovholderTermRow.id)
        )
    ]
    network = {
        n.person_id: NetworkPerson(n.person_id, n.name, n.relation, email=n.email,
                                   phone=n.phone, may_contact=bool(n.may_contact))
        for n in session.scalars(select(NetworkPersonRow).where(NetworkPersonRow.pathway_id == pid))
    }
    meetings = {
        str(m.id): _meeting(m)
        for m in session.scalars(select(MeetingRow).where(MeetingRow.pathway_id == pid))
    }
    return Pathway(
        pathway_id=str(pid),
        citizen_id=str(row.citizen_ref),
        opened_at=row.opened_at,
        members=members,
        tovholder_terms=terms,
        network=network,
        meetings=meetings,
        closed_at=row.closed_at,
    )


def _meeting(row: MeetingRow) -> Meeting:
    return Meeting(
        meeting_id=str(row.id),
        start=row.starts_at.astimezone(COPENHAGEN),
        end=row.ends_at.astimezone(COPENHAGEN),
        place=MeetingPlace(row.place),
        invited=frozenset(p["participant_id"] for p in row.participants),
        status=MeetingStatus(row.status),
        present=frozenset(row.present or ()),
        citizen_present=row.citizen_present,
        tovholder_present=row.tovholder_present,
        cancel_reason=row.cancel_reason,
    )


def meeting_row(session: Session, meeting_id: uuid.UUID) -> MeetingRow:
    row = session.get(MeetingRow, meeting_id)
    if row is None:
        raise NotFound("meeting_id", f"no meeting {meeting_id}")
    return row


def preferences_of(row: PathwayRow) -> CitizenPreferences:
    data = row.preferences or {}

    def time_of(key: str) -> dt.time | None:
        value = data.get(key)
        return dt.time.fromisoformat(value) if value else None

    return CitizenPreferences(
        not_before=time_of("not_before"),
        not_after=time_of("not_after"),
        weekdays=frozenset(WEEKDAYS.index(d) for d in data.get("weekdays", ())),
        place=MeetingPlace(data.get("place", MeetingPlace.FRONTEN.value)),
    )


# --- staff and calendars -----------------------------------------------------------


def staff(session: Session, member_ids: Iterable[str]) -> dict[str, StaffRow]:
    ids = list(set(member_ids))
    if not ids:
        return {}
    return {
        s.member_id: s for s in session.scalars(select(StaffRow).where(StaffRow.member_id.in_(ids)))
    }


def working_hours_of(row: StaffRow | None) -> WorkingHours:
    """Stored weekly hours, or the municipality's standard hours when none are set."""
    if row is None or row.working_hours is None:
        return WorkingHours.standard()
    return WorkingHours.weekly(
        {
            WEEKDAYS.index(day): (dt.time.fromisoformat(start), dt.time.fromisoformat(end))
            for day, (start, end) in row.working_hours.items()
        }
    )


def busy_blocks(
    session: Session,
    participant_ids: Iterable[str],
    start: dt.datetime,
    end: dt.datetime,
) -> dict[str, list[BusyBlock]]:
    """Per participant, the busy blocks overlapping [start, end): entered or imported
    blocks, and every planned meeting they are invited to (ref = the meeting id, so
    that a meeting being moved does not block itself)."""
    ids = list(set(participant_ids))
    found: dict[str, list[BusyBlock]] = {pid: [] for pid in ids}
    if not ids:
        return found
    for block in session.scalars(
        select(BusyBlockRow).where(
            BusyBlockRow.participant_id.in_(ids),
            BusyBlockRow.starts_at < end,
            BusyBlockRow.ends_at > start,
        )
    ):
        found[block.participant_id].append(
            BusyBlock(block.starts_at, block.ends_at, ref=block.ref)
        )
    meetings = session.execute(
        select(MeetingParticipantRow.participant_id, MeetingRow.id, MeetingRow.starts_at,
               MeetingRow.ends_at)
        .join(MeetingRow, MeetingRow.id == MeetingParticipantRow.meeting_id)
        .where(
            and_(
                MeetingParticipantRow.participant_id.in_(ids),
                MeetingRow.status == MeetingStatus.PLANNED.value,
                MeetingRow.starts_at < end,
                MeetingRow.ends_at > start,
            )
        )
    )
    for participant_id, meeting_id, starts_at, ends_at in meetings:
        found[participant_id].append(BusyBlock(starts_at, ends_at, ref=str(meeting_id)))
    return found


# --- handleplans -------------------------------------------------------------------


def sync_plan_actions(session: Session, plan_row: PlanRow, plan: plans_domain.Handleplan) -> None:
    """Keep the plan_actions read model equal to the current version's actions and
    their status (the "my actions" list reads it)."""
    existing = {
        a.action_id: a
        for a in session.scalars(select(PlanActionRow).where(PlanActionRow.plan_id == plan_row.id))
    }
    version = plan.current
    current: set[str] = set()
    for goal, action in version.actions:
        current.add(action.action_id)
        values = {"goal_id": goal.goal_id, "version": version.number, "text": action.text,
                  "owner_id": action.owner_id, "due_on": action.due,
                  "status": plan.status_of(action.action_id).value}
        row = existing.get(action.action_id)
        if row is None:
            session.add(PlanActionRow(plan_id=plan_row.id, pathway_id=plan_row.pathway_id,
                                      action_id=action.action_id, **values))
        else:
            for name, value in values.items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
    for action_id, row in existing.items():
        if action_id not in current:  # dropped from the plan by a revision
            session.delete(row)


def plan_row(session: Session, pathway_id: uuid.UUID) -> PlanRow | None:
    return session.execute(
        select(PlanRow).where(PlanRow.pathway_id == pathway_id)
    ).scalar_one_or_none()


def load_plan(session: Session, row: PlanRow) -> plans_domain.Handleplan:
    versions = [
        plans_domain.PlanVersion(
            number=v.number,
            goals=tuple(goal_from_json(g) for g in v.goals),
            created_at=v.created_at,
            created_by=v.created_by,
            agreement=None
            if v.agreed_at is None or v.agreed_how is None
            else plans_domain.Agreement(
                at=v.agreed_at,
                how=plans_domain.AgreementChannel(v.agreed_how),
                recorded_by=v.agreement_recorded_by,
            ),
        )
        for v in session.scalars(
            select(PlanVersionRow)
            .where(PlanVersionRow.plan_id == row.id)
            .order_by(PlanVersionRow.number)
        )
    ]
    status = {
        s.action_id: plans_domain.ActionStatus(s.status)
        for s in session.scalars(select(ActionStatusRow).where(ActionStatusRow.plan_id == row.id))
    }
    announced = {
        (a.kind, a.action_id, a.due_on)
        for a in session.scalars(
            select(ActionAnnouncementRow).where(ActionAnnouncementRow.plan_id == row.id)
        )
    }
    return plans_domain.Handleplan(
        plan_id=str(row.id),
        pathway_id=str(row.pathway_id),
        versions=versions,
        action_status=status,
        announced=announced,
    )


def goal_to_json(goal: plans_domain.Goal) -> dict[str, Any]:
    return {
        "goal_id": goal.goal_id,
        "text": goal.text,
        "voice": goal.voice.value,
        "actions": [
            {"action_id": a.action_id, "text": a.text, "owner_id": a.owner_id,
             "due_on": a.due.isoformat()}
            for a in goal.actions
        ],
    }


def goal_from_json(data: dict[str, Any]) -> plans_domain.Goal:
    return plans_domain.Goal(
        goal_id=data["goal_id"],
        text=data["text"],
        voice=plans_domain.GoalVoice(data["voice"]),
        actions=tuple(
            plans_domain.Action(
                action_id=a["action_id"],
                text=a["text"],
                owner_id=a["owner_id"],
                due=dt.date.fromisoformat(a["due_on"]),
            )
            for a in data["actions"]
        ),
    )


# --- hand-offs ------------------------------------------------------------------------


def handoff_of(row: HandoffRow) -> handoffs_domain.Handoff:
    return handoffs_domain.Handoff(
        handoff_kind=row.kind, partner_id=row.partner_id, subject_type=row.subject_type,
        subject_id=str(row.subject_id), state=row.state, state_at=row.state_at,
        reason=row.reason, outcome=row.outcome, hold_until=row.hold_until, title=row.title,
        answered_by=row.answered_by, requested_at=row.requested_at, answer_by=row.answer_by,
        escalated_at=row.escalated_at, acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by)


def handoff_values(state: handoffs_domain.Handoff) -> dict[str, Any]:
    """The row's columns for `state`: `attention` is set only while it is on the list."""
    reason = state.attention if state.needs_attention else None
    return {
        "kind": state.handoff_kind, "partner_id": state.partner_id,
        "subject_type": state.subject_type, "subject_id": uuid.UUID(state.subject_id),
        "state": state.state, "state_at": state.state_at, "reason": state.reason,
        "outcome": state.outcome, "hold_until": state.hold_until, "title": state.title,
        "answered_by": state.answered_by, "requested_at": state.requested_at,
        "answer_by": state.answer_by, "escalated_at": state.escalated_at,
        "attention": reason[0] if reason else None,
        "attention_since": reason[1] if reason else None,
        "acknowledged_at": state.acknowledged_at, "acknowledged_by": state.acknowledged_by,
    }
