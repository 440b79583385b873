"""Handleplan (action plan): the citizen's goals and the small steps towards them.

Pure domain, no I/O. Rules:
- goals are written in the citizen's own words; a plan needs at least one goal
  voiced by the citizen (others may add goals, e.g. the parents' "go to school");
- each goal has small, stepped actions, each owned by a team member, with a due date;
- plans are versioned and never overwritten: `revise` makes version n+1 and keeps n;
- a revision may say which version it was based on: if that is no longer the current
  one, someone else revised the plan meanwhile and the revision is refused
  (`PlanVersionConflict`, naming the current version), so no one's update is lost;
- the citizen's agreement to a version is recorded (when, and how);
- an action's status (open/done/dropped) is progress, not a change of plan: it is
  kept per action id across versions and needs no new agreement;
- a timer sweep calls `due_actions`/`overdue_actions`; each announces an action once
  per due date, and the plan remembers what it announced, so running the sweep again
  (after a crash, twice a day) announces nothing new. Exactly once holds when the
  service stores the plan and its outbox messages in one transaction.

Datetimes are timezone-aware (naive ones are refused); `date` values (due dates,
`today`) are Copenhagen calendar days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from services.common.errors import Conflict, DomainError, NotFound
from services.coordination.scheduling import to_copenhagen


class GoalVoice(StrEnum):
    """Whose words a goal is in."""

    CITIZEN = "citizen"  # borgerens egne ord
    NETWORK = "network"  # pårørende, e.g. parents
    TEAM = "team"  # the professionals


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"  # given up or made unnecessary, e.g. the last step was enough


class AgreementChannel(StrEnum):
    """How the citizen said yes to a plan version."""

    IN_MEETING = "in_meeting"  # på mødet
    PHONE = "phone"  # telefonisk
    WRITTEN = "written"  # skriftligt (mail, letter, Digital Post)


@dataclass(frozen=True)
class Action:
    """One small step; `action_id` stays the same across versions of the plan."""

    action_id: str
    text: str
    owner_id: str  # a team member's id
    due: dt.date


@dataclass(frozen=True)
class Goal:
    goal_id: str
    text: str
    actions: tuple[Action, ...] = ()
    voice: GoalVoice = GoalVoice.CITIZEN


@dataclass(frozen=True)
class Agreement:
    at: dt.datetime
    how: AgreementChannel
    recorded_by: str | None = None


@dataclass(frozen=True)
class PlanVersion:
    number: int
    goals: tuple[Goal, ...]
    created_at: dt.datetime
    created_by: str | None = None
    agreement: Agreement | None = None

    @property
    def actions(self) -> list[tuple[Goal, Action]]:
        return [(goal, action) for goal in self.goals for action in goal.actions]


class PlanVersionConflict(Conflict):
    """A change based on a version of the plan that is no longer the current one (or a
    first version when the pathway already has a plan): another editor came first.
    `current_version` travels with the error, so the caller can show the current plan
    and let the person add their changes to it (HTTP: 409, the ETag/If-Match check)."""

    def __init__(self, field: str, rule: str, message: str, current_version: int) -> None:
        super().__init__(field, rule, message)
        self.current_version = current_version

    def as_problem(self) -> dict[str, Any]:
        problem = super().as_problem()
        problem["errors"][0]["current_version"] = self.current_version
        return problem


# --- domain events -----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PlanEvent:
    plan_id: str
    pathway_id: str


@dataclass(frozen=True, kw_only=True)
class PlanVersionCreated(PlanEvent):
    at: dt.datetime
    version: int
    goals: int
    actions: int


@dataclass(frozen=True, kw_only=True)
class PlanVersionAgreed(PlanEvent):
    at: dt.datetime
    version: int
    how: AgreementChannel


@dataclass(frozen=True, kw_only=True)
class ActionStatusChanged(PlanEvent):
    at: dt.datetime
    action_id: str
    old_status: ActionStatus
    new_status: ActionStatus


@dataclass(frozen=True, kw_only=True)
class ActionDue(PlanEvent):
    """An open action falls due: its owner is reminded."""

    on: dt.date
    version: int
    goal_id: str
    action_id: str
    owner_id: str
    due: dt.date


@dataclass(frozen=True, kw_only=True)
class ActionOverdue(PlanEvent):
    """An open action is past its due date: its owner and the tovholder are told."""

    on: dt.date
    version: int
    goal_id: str
    action_id: str
    owner_id: str
    due: dt.date
    days_overdue: int


# --- validation --------------------------------------------------------------


def _validate_goals(goals: Sequence[Goal], team_member_ids: Collection[str]) -> tuple[Goal, ...]:
    """The goals, with text trimmed, or a DomainError naming the first broken rule."""
    cleaned: list[Goal] = []
    goal_ids: set[str] = set()
    action_ids: set[str] = set()
    for index, goal in enumerate(goals):
        text = goal.text.strip()
        if not text:
            raise DomainError(
                f"goals.{index}.text",
                "plan.goal_text_missing",
                "a goal must say something, in the citizen's words",
            )
        if goal.goal_id in goal_ids:
            raise DomainError(
                f"goals.{index}.goal_id",
                "plan.duplicate_id",
                f"goal id {goal.goal_id} is used twice",
            )
        goal_ids.add(goal.goal_id)
        actions: list[Action] = []
        for action in goal.actions:
            action_text = action.text.strip()
            if not action_text:
                raise DomainError(
                    "actions.text",
                    "plan.action_text_missing",
                    f"an action under '{text}' has no text",
                )
            if action.action_id in action_ids:
                raise DomainError(
                    "actions.action_id",
                    "plan.duplicate_id",
                    f"action id {action.action_id} is used twice",
                )
            action_ids.add(action.action_id)
            if action.owner_id not in team_member_ids:
                raise DomainError(
                    "actions.owner",
                    "plan.owner_not_member",
                    f"'{action_text}' is owned by {action.owner_id}, "
                    "who is not in the pathway's team",
                )
            actions.append(replace(action, text=action_text))
        cleaned.append(replace(goal, text=text, actions=tuple(actions)))
    if not any(goal.voice is GoalVoice.CITIZEN for goal in cleaned):
        raise DomainError(
            "goals",
            "plan.citizen_goal_missing",
            "a plan needs at least one goal in the citizen's own words",
        )
    return tuple(cleaned)


# --- the aggregate -----------------------------------------------------------


@dataclass(eq=False)
class Handleplan:
    """A pathway's handleplan (action plan) with all its versions.

    Build a new one with `Handleplan.draft`; build one from storage with the
    constructor. `announced` holds (kind, action_id, due date) already published."""

    plan_id: str
    pathway_id: str
    versions: list[PlanVersion] = field(default_factory=list)
    action_status: dict[str, ActionStatus] = field(default_factory=dict)
    announced: set[tuple[str, str, dt.date]] = field(default_factory=set)
    events: list[PlanEvent] = field(default_factory=list)

    @classmethod
    def draft(
        cls,
        plan_id: str,
        pathway_id: str,
        goals: Sequence[Goal],
        team_member_ids: Collection[str],
        at: dt.datetime,
        *,
        drafted_by: str | None = None,
    ) -> Handleplan:
        """Version 1 of a plan. `team_member_ids` are the pathway's active members:
        only they can own an action."""
        plan = cls(plan_id=plan_id, pathway_id=pathway_id)
        plan._add_version(goals, team_member_ids, at, drafted_by)
        return plan

    @property
    def current(self) -> PlanVersion:
        if not self.versions:
            raise NotFound("version", "the plan has no version yet")
        return self.versions[-1]

    @property
    def agreed(self) -> PlanVersion | None:
        """The latest version the citizen agreed to, if any."""
        for version in reversed(self.versions):
            if version.agreement is not None:
                return version
        return None

    def version(self, number: int) -> PlanVersion:
        if not 1 <= number <= len(self.versions):
            raise NotFound("version", f"the plan has no version {number}")
        return self.versions[number - 1]

    def status_of(self, action_id: str) -> ActionStatus:
        return self.action_status.get(action_id, ActionStatus.OPEN)

    def _add_version(
        self,
        goals: Sequence[Goal],
        team_member_ids: Collection[str],
        at: dt.datetime,
        by: str | None,
    ) -> PlanVersion:
        to_copenhagen(at, "at")
        cleaned = _validate_goals(goals, team_member_ids)
        version = PlanVersion(
            number=len(self.versions) + 1, goals=cleaned, created_at=at, created_by=by
        )
        self.versions.append(version)
        for _, action in version.actions:
            self.action_status.setdefault(action.action_id, ActionStatus.OPEN)
        self.events.append(
            PlanVersionCreated(
                plan_id=self.plan_id,
                pathway_id=self.pathway_id,
                at=at,
                version=version.number,
                goals=len(cleaned),
                actions=len(version.actions),
            )
        )
        return version

    def revise(
        self,
        goals: Sequence[Goal],
        team_member_ids: Collection[str],
        at: dt.datetime,
        *,
        revised_by: str | None = None,
        based_on: int | None = None,
    ) -> PlanVersion:
        """Make version n+1 from the full new set of goals; version n stays as it was.

        Actions keep their status by id; new actions start open. The new version
        needs the citizen's agreement again. `based_on` is the version the editor
        started from: when it is not the current one, the revision is refused with
        `PlanVersionConflict` (optimistic concurrency: the second editor sees the
        current plan first). None skips the check."""
        current = self.current.number
        if based_on is not None and based_on != current:
            raise PlanVersionConflict(
                "base_version",
                "plan.version_conflict",
                f"the handleplan is at version {current}, but this revision was based on "
                f"version {based_on}: read version {current} and revise that",
                current_version=current,
            )
        return self._add_version(goals, team_member_ids, at, revised_by)

    def record_agreement(
        self,
        version: int,
        at: dt.datetime,
        how: AgreementChannel | str,
        *,
        recorded_by: str | None = None,
    ) -> PlanVersionAgreed:
        """Record that the citizen agreed to `version` (the current one) and how."""
        to_copenhagen(at, "at")
        try:
            channel = AgreementChannel(how)
        except ValueError:
            raise DomainError(
                "how",
                "plan.agreement_channel_invalid",
                "agreement is given in_meeting, by phone or written",
            ) from None
        target = self.version(version)
        if target.agreement is not None:
            raise Conflict(
                "version", "plan.already_agreed", f"the citizen already agreed to version {version}"
            )
        if target is not self.current:
            raise Conflict(
                "version",
                "plan.version_superseded",
                f"version {version} has been revised; agree to the current one",
            )
        self.versions[version - 1] = replace(
            target, agreement=Agreement(at=at, how=channel, recorded_by=recorded_by)
        )
        event = PlanVersionAgreed(
            plan_id=self.plan_id, pathway_id=self.pathway_id, at=at, version=version, how=channel
        )
        self.events.append(event)
        return event

    def mark_action(
        self, action_id: str, status: ActionStatus, at: dt.datetime
    ) -> ActionStatusChanged | None:
        """Set an action of the current version to open/done/dropped.

        Setting the status it already has changes nothing and returns None."""
        to_copenhagen(at, "at")
        if action_id not in {action.action_id for _, action in self.current.actions}:
            raise NotFound("action_id", f"no action {action_id} in the current plan")
        old = self.status_of(action_id)
        if old is status:
            return None
        self.action_status[action_id] = status
        event = ActionStatusChanged(
            plan_id=self.plan_id,
            pathway_id=self.pathway_id,
            at=at,
            action_id=action_id,
            old_status=old,
            new_status=status,
        )
        self.events.append(event)
        return event

    def open_actions(self) -> list[tuple[Goal, Action]]:
        """The current version's actions that are still open, with their goal."""
        return [
            (goal, action)
            for goal, action in self.current.actions
            if self.status_of(action.action_id) is ActionStatus.OPEN
        ]


DUE = "due"
OVERDUE = "overdue"


def due_actions(plan: Handleplan, today: dt.date, *, notice_days: int = 0) -> list[ActionDue]:
    """Announce the open actions of the current version that fall due between `today`
    and `today + notice_days`, each once per due date.

    Returns the new `ActionDue` events (also appended to `plan.events`); a second
    call with the same or a later day returns none for the same action and due date.
    A revised due date is a new date and is announced again."""
    if notice_days < 0:
        raise DomainError("notice_days", "plan.notice_days_invalid", "notice cannot be negative")
    horizon = today + dt.timedelta(days=notice_days)
    announced: list[ActionDue] = []
    for goal, action in plan.open_actions():
        key = (DUE, action.action_id, action.due)
        if today <= action.due <= horizon and key not in plan.announced:
            plan.announced.add(key)
            announced.append(
                ActionDue(
                    plan_id=plan.plan_id,
                    pathway_id=plan.pathway_id,
                    on=today,
                    version=plan.current.number,
                    goal_id=goal.goal_id,
                    action_id=action.action_id,
                    owner_id=action.owner_id,
                    due=action.due,
                )
            )
    plan.events.extend(announced)
    return announced


def overdue_actions(plan: Handleplan, today: dt.date) -> list[ActionOverdue]:
    """Announce the open actions of the current version whose due date has passed,
    each once per due date (idempotent like `due_actions`)."""
    announced: list[ActionOverdue] = []
    for goal, action in plan.open_actions():
        key = (OVERDUE, action.action_id, action.due)
        if action.due < today and key not in plan.announced:
            plan.announced.add(key)
            announced.append(
                ActionOverdue(
                    plan_id=plan.plan_id,
                    pathway_id=plan.pathway_id,
                    on=today,
                    version=plan.current.number,
                    goal_id=goal.goal_id,
                    action_id=action.action_id,
                    owner_id=action.owner_id,
                    due=action.due,
                    days_overdue=(today - action.due).days,
                )
            )
    plan.events.extend(announced)
    return announced


def next_announcement_day(
    plan: Handleplan, today: dt.date, *, notice_days: int = 0
) -> dt.date | None:
    """The first day, from `today` on, on which `due_actions` or `overdue_actions`
    would announce something not yet announced; None if nothing is left to announce.

    The service stores this day as a deadline and sweeps it with a timer, so a
    restart loses no reminder and a sweep that comes late catches up."""
    if notice_days < 0:
        raise DomainError("notice_days", "plan.notice_days_invalid", "notice cannot be negative")
    days: list[dt.date] = []
    for _, action in plan.open_actions():
        if (DUE, action.action_id, action.due) not in plan.announced and action.due >= today:
            days.append(max(today, action.due - dt.timedelta(days=notice_days)))
        if (OVERDUE, action.action_id, action.due) not in plan.announced:
            days.append(max(today, action.due + dt.timedelta(days=1)))
    return min(days, default=None)
