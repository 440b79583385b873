"""The handleplan: draft, revise, agree, action status, and the timer sweep that
announces due and overdue actions (the plan's deadline)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from services.common import deadlines
from services.common.db import Store, UnitOfWork
from services.common.errors import Conflict, NotFound
from services.coordination import needtoknow, plans, repository
from services.coordination.models import (
    ActionAnnouncementRow,
    ActionStatusRow,
    PathwayRow,
    PlanRow,
    PlanVersionRow,
    StaffRow,
)
from services.coordination.needtoknow import Change
from services.coordination.pathways import Pathway
from services.coordination.scheduling import COPENHAGEN
from services.coordination.usecases.shared import (
    ACTIONS_DEADLINE,
    _load,
    _log_change,
    _timeline,
    _today,
)
from services.coordination.visibility import as_actor, visible_pathway


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
    wanted: dict[str, dt.datetime] = {}
    if next_day is not None and pathway_row.closed_at is None:
        midnight = dt.datetime.combine(next_day, dt.time(), tzinfo=COPENHAGEN)
        wanted[ACTIONS_DEADLINE] = midnight.astimezone(dt.UTC)
    deadlines.sync(uow, str(plan_row.id), wanted, prefix=ACTIONS_DEADLINE)
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
    """The timer sweep (the kit's): for each plan whose next due day has come, publish
    its action_due/action_overdue events once and store the next day. The plan's
    pathway is locked first, as every plan command locks it, then the deadline row is
    claimed; a plan that fails is logged and backed off, and the other plans' reminders
    go out. Returns how many plans were swept."""
    today = _today(now)

    def lock(uow: UnitOfWork, deadline: deadlines.Deadline) -> tuple[PathwayRow, PlanRow] | None:
        plan_id = uuid.UUID(deadline.subject_id)
        pathway_id = uow.session.scalar(select(PlanRow.pathway_id).where(PlanRow.id == plan_id))
        if pathway_id is None:
            return None
        try:
            pathway_row = repository.pathway_row(uow.session, pathway_id, lock=True)
        except NotFound:
            return None
        plan_row = uow.session.get(PlanRow, plan_id)
        return (pathway_row, plan_row) if plan_row is not None else None

    def handle(uow: UnitOfWork, deadline: deadlines.Deadline,
               rows: tuple[PathwayRow, PlanRow]) -> None:
        pathway_row, plan_row = rows
        plan = repository.load_plan(uow.session, plan_row)
        plans.due_actions(plan, today, notice_days=notice_days)
        plans.overdue_actions(plan, today)
        _save_plan(uow, plan_row, plan, pathway_row, None, notice_days)

    return deadlines.sweep(store, now, prefix=ACTIONS_DEADLINE, lock=lock, handle=handle).fired
