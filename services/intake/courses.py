"""Fronten's courses (forløb) under Serviceloven § 82 a/b: the pure rules.

No framework, no database, no clock: every date is passed in. The aggregate
`Course` collects domain events in `events`; the service layer drains them into
the outbox, adding the course id and the citizen_ref. Events carry no free text
(the citizen's goals stay in intake).

The clocks of a course, each a setting in `CourseSettings`:
- opfølgning (follow-up): a reminder on each agreed follow-up date;
- tværgående udvalg (cross-unit review panel): a reminder to request the review
  `review_lead_days` before the planned end, if it has not been requested;
- brobygning (bridge building): due `bridging_lead_months` before the planned end;
- 4-week rule (aftaler ikke overholdt, agreements not kept): see
  `Course.broken_agreements_rule_on`. The rule only *proposes* an ending; a person
  confirms it (dated the day of the decision) or records that the citizen is back on
  track (`confirm_ending`, `back_on_track`);
- planned end: ends the course if the review approved it, else reports it overdue;
- maximum length: a § 82 b or SFT course is ended when it is reached, whatever else.

Messages already sent about a course are facts the course cannot contradict: an
ending never takes a date before the last day a message about the course went out
(`last_message_on`), and a late sweep that finds the course ended by its dates does
not send the messages it missed (see `apply_due`). A course that ends before its
planned end cancels every bridging message sent for it (`BridgingCancelled`).

All clocks count in calendar days or calendar months; "on day D" means from the
start of D in Fronten's local time.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from contracts.vocabulary import CourseKind, PartnerKind
from services.common.errors import Conflict, DomainError

# Brobygning goes to employment, education and/or health (serviceniveau § 82 a/b).
BRIDGING_PARTNER_KINDS: frozenset[PartnerKind] = frozenset(
    {PartnerKind.EMPLOYMENT, PartnerKind.EDUCATION, PartnerKind.HEALTH}
)


@dataclass(frozen=True)
class CourseSettings:
    """Every number of the course rules, with the defaults of Ballerup's service level."""

    individual_max_months: int = 6  # § 82 b: at most 6 months (the 2018 report said 20 weeks)
    sft_months: int = 9  # Social Færdighedstræning: a fixed 9-month method
    group_max_months: int | None = None  # § 82 a: length varies by topic, set at start
    broken_agreement_window_days: int = 28  # 4 weeks of broken agreements ends the course
    bridging_lead_months: int = 2  # brobygning in the last 1-2 months: start 2 months before
    # DOMAIN.md gives no number: 4 weeks leaves the panel time to meet and, if
    # needed, to start a § 85 referral before the planned end.
    review_lead_days: int = 28
    review_required_before_end: bool = True  # tværgående udvalg before a planned end

    def __post_init__(self) -> None:
        positive = {
            "individual_max_months": self.individual_max_months,
            "sft_months": self.sft_months,
            "broken_agreement_window_days": self.broken_agreement_window_days,
            "bridging_lead_months": self.bridging_lead_months,
        }
        if self.group_max_months is not None:
            positive["group_max_months"] = self.group_max_months
        for name, value in positive.items():
            if value < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.review_lead_days < 0:
            raise ValueError("review_lead_days must not be negative")


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months later (or earlier, if negative).

    A day that does not exist in the target month is clamped to its last day:
    31 August + 6 months is 28 February (29 in a leap year).
    """
    month_index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last_day))


# --- the plan --------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """The plan made with the citizen at the start of a course.

    `goals` are the indsatsmål (goals) in the citizen's own words; they steer the
    scope. `follow_up_dates` are the agreed opfølgning (follow-up) dates.
    """

    goals: tuple[str, ...]
    follow_up_dates: tuple[dt.date, ...]


def validate_plan(goals: Iterable[str], follow_up_dates: Iterable[dt.date]) -> Plan:
    """A Plan with at least one non-blank goal and at least one follow-up date.

    Goals keep the citizen's words (only surrounding whitespace is trimmed).
    Follow-up dates are sorted and de-duplicated; whether they fall inside the
    course is checked by the course.
    """
    goal_list = [goal.strip() for goal in goals]
    if not goal_list:
        raise DomainError(
            "plan.goals", "plan.goals_missing", "A course needs at least one goal (indsatsmål)."
        )
    for index, goal in enumerate(goal_list):
        if not goal:
            raise DomainError(
                f"plan.goals[{index}]", "plan.goal_blank", "A goal must say something."
            )
    dates = tuple(sorted(set(follow_up_dates)))
    if not dates:
        raise DomainError(
            "plan.follow_up_dates",
            "plan.follow_up_missing",
            "The plan needs at least one agreed follow-up date (opfølgning).",
        )
    return Plan(goals=tuple(goal_list), follow_up_dates=dates)


# --- states and values -------------------------------------------------------------


class CourseStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class EndReason(StrEnum):
    """Why a course ended. Only PLANNED_END needs the review panel's decision."""

    PLANNED_END = "planned_end"  # ended by Fronten, early or on time, after review
    BROKEN_AGREEMENTS = "broken_agreements"  # the 4-week rule, confirmed by a person
    MAX_LENGTH_REACHED = "max_length_reached"  # the law's limit; set by apply_due only
    CITIZEN_WITHDREW = "citizen_withdrew"  # the citizen may always stop


class ReviewDecision(StrEnum):
    """What the tværgående udvalg (cross-unit review panel) decided."""

    END = "end"  # approved: the course may end
    REFER_85 = "refer_85"  # end, and refer to Social Vejledning for a § 85 assessment
    CONTINUE = "continue"  # continue within the maximum length, to a new planned end


class EndingDecision(StrEnum):
    """What a person decided about a proposal to end a course (the 4-week rule)."""

    CONFIRMED = "confirmed"  # the course ends, dated the day of the decision
    BACK_ON_TRACK = "back_on_track"  # the citizen keeps the agreements again: it continues
    ENDED_OTHERWISE = "ended_otherwise"  # the course ended for another reason first


FOUR_WEEK_RULE = "four_weeks_broken_agreements"


class ReferralOutcome(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class DeadlineKind(StrEnum):
    FOLLOW_UP = "follow_up"
    REVIEW_DUE = "review_due"
    BRIDGING_DUE = "bridging_due"
    BROKEN_AGREEMENTS = "broken_agreements"
    PLANNED_END = "planned_end"
    MAX_LENGTH = "max_length"


# On the same day, endings are handled first: nothing is due on a course that ends.
_DEADLINE_ORDER = {
    kind: index
    for index, kind in enumerate(
        [
            DeadlineKind.BROKEN_AGREEMENTS,
            DeadlineKind.PLANNED_END,
            DeadlineKind.MAX_LENGTH,
            DeadlineKind.REVIEW_DUE,
            DeadlineKind.BRIDGING_DUE,
            DeadlineKind.FOLLOW_UP,
        ]
    )
}


@dataclass(frozen=True)
class Deadline:
    """A date on which `Course.apply_due` will do something; the service stores these as rows."""

    kind: DeadlineKind
    due_on: dt.date


@dataclass(frozen=True)
class Attendance:
    """One agreement with the citizen on `on`: kept (overholdt) or broken."""

    on: dt.date
    kept: bool


@dataclass
class Review:
    """The tværgående udvalg's review of a planned end."""

    requested_on: dt.date
    planned_end: dt.date  # the planned end the review is about
    decided_on: dt.date | None = None
    decision: ReviewDecision | None = None


@dataclass
class EndingProposal:
    """The 4-week rule's proposal to end the course, and what a person decided."""

    proposed_on: dt.date  # the day the proposal was made (the day the rule was seen met)
    rule_met_on: dt.date  # the day the dates meet the rule (may be earlier: a late entry)
    last_kept_on: dt.date | None  # the last kept agreement; None if none was ever kept
    rule: str = FOUR_WEEK_RULE
    decision: EndingDecision | None = None
    decided_on: dt.date | None = None


@dataclass
class Referral85:
    """A referral to Social Vejledning for a § 85 assessment, and its outcome later."""

    referred_on: dt.date
    outcome: ReferralOutcome | None = None
    outcome_on: dt.date | None = None


# --- domain events -------------------------------------------------------------------


@dataclass(frozen=True)
class CourseStarted:
    kind: CourseKind
    start_date: dt.date
    planned_end: dt.date
    follow_up_dates: tuple[dt.date, ...]


@dataclass(frozen=True)
class PlanRevised:
    follow_up_dates: tuple[dt.date, ...]


@dataclass(frozen=True)
class FollowUpDue:
    due_on: dt.date


@dataclass(frozen=True)
class ReviewDue:
    due_on: dt.date
    planned_end: dt.date


@dataclass(frozen=True)
class ReviewRequested:
    requested_on: dt.date
    planned_end: dt.date


@dataclass(frozen=True)
class ReviewDecided:
    decision: ReviewDecision
    decided_on: dt.date
    planned_end: dt.date


@dataclass(frozen=True)
class CourseExtended:
    previous_planned_end: dt.date
    planned_end: dt.date


@dataclass(frozen=True)
class BridgingPlanned:
    partner_kinds: tuple[PartnerKind, ...]


@dataclass(frozen=True)
class BridgingDue:
    partner_kind: PartnerKind
    due_on: dt.date
    planned_end: dt.date


@dataclass(frozen=True)
class BridgingPartnerMissing:
    """Bridging is due but no partner kind has been chosen: staff must act."""

    due_on: dt.date
    planned_end: dt.date


@dataclass(frozen=True)
class EndOverdue:
    """The planned end has come but the review panel has not decided."""

    planned_end: dt.date


@dataclass(frozen=True)
class CourseEnded:
    reason: EndReason
    ended_on: dt.date


@dataclass(frozen=True)
class EndingProposed:
    """The 4-week rule is met: a person must confirm the ending or say the citizen is
    back on track."""

    proposed_on: dt.date
    rule_met_on: dt.date
    last_kept_on: dt.date | None


@dataclass(frozen=True)
class BackOnTrack:
    """A person rejected the proposal: the citizen keeps the agreements again."""

    decided_on: dt.date


@dataclass(frozen=True)
class BridgingCancelled:
    """The course ended before its planned end: the bridging announced to this partner
    kind (on `due_on`) will not happen."""

    partner_kind: PartnerKind
    due_on: dt.date
    cancelled_on: dt.date


@dataclass(frozen=True)
class ReferredTo85:
    referred_on: dt.date


@dataclass(frozen=True)
class Referral85Decided:
    outcome: ReferralOutcome
    decided_on: dt.date


CourseEvent = (
    CourseStarted
    | PlanRevised
    | FollowUpDue
    | ReviewDue
    | ReviewRequested
    | ReviewDecided
    | CourseExtended
    | BridgingPlanned
    | BridgingDue
    | BridgingPartnerMissing
    | EndOverdue
    | CourseEnded
    | EndingProposed
    | BackOnTrack
    | BridgingCancelled
    | ReferredTo85
    | Referral85Decided
)

# Events that tell someone outside the course's own record that the course is running
# (a partner, Social Vejledning, the review panel, Fronten's mailbox): once one is sent
# on a day, the course can no longer end before that day.
MESSAGE_EVENTS = (BridgingDue, ReviewRequested, ReferredTo85, EndingProposed)
# Clocks whose firing sends such a message: a late sweep that ends the course skips them.
_MESSAGE_DEADLINES = frozenset({DeadlineKind.BRIDGING_DUE, DeadlineKind.BROKEN_AGREEMENTS})


# --- the aggregate ---------------------------------------------------------------------


def _as_day(now: dt.date) -> dt.date:
    # A datetime is a date too, but comparing the two raises: keep only its day.
    return now.date() if isinstance(now, dt.datetime) else now


def _bridging_kinds(partner_kinds: Iterable[PartnerKind | str]) -> frozenset[PartnerKind]:
    kinds = {str(raw) for raw in partner_kinds}
    allowed = {str(kind): kind for kind in BRIDGING_PARTNER_KINDS}
    if not kinds <= allowed.keys():
        raise DomainError(
            "bridging.partner_kinds",
            "bridging.partner_kind",
            "Bridging goes to employment, education or health.",
        )
    return frozenset(allowed[kind] for kind in kinds)


@dataclass
class Course:
    """One citizen's course with Fronten.

    Build a new course with `Course.start`; the constructor is for loading a stored
    course and checks nothing. `citizen_ref` is an opaque reference: the course needs
    no identity (refusing courses for anonymous inquiries is the service's job).

    State that the service must persist: every field except `events`, including
    `fired`, the keys of the reminders already sent, which makes `apply_due` idempotent.
    """

    kind: CourseKind
    citizen_ref: str
    start_date: dt.date
    planned_end: dt.date
    plan: Plan
    settings: CourseSettings = field(default_factory=CourseSettings)
    status: CourseStatus = CourseStatus.ACTIVE
    ended_on: dt.date | None = None
    end_reason: EndReason | None = None
    attendance: list[Attendance] = field(default_factory=list)
    bridging_partner_kinds: frozenset[PartnerKind] = frozenset()
    review: Review | None = None
    referrals_85: list[Referral85] = field(default_factory=list)
    ending_proposals: list[EndingProposal] = field(default_factory=list)
    # The last day a message about the course was sent (MESSAGE_EVENTS): no ending before it.
    last_message_on: dt.date | None = None
    fired: set[str] = field(default_factory=set)
    events: list[CourseEvent] = field(default_factory=list, compare=False, repr=False)

    # --- starting --------------------------------------------------------------

    @classmethod
    def start(
        cls,
        kind: CourseKind | str,
        citizen_ref: str,
        start_date: dt.date,
        planned_end: dt.date | None,
        plan: Plan,
        *,
        bridging_to: Iterable[PartnerKind | str] = (),
        settings: CourseSettings | None = None,
    ) -> Course:
        """Start a course with its plan.

        SFT has a fixed length: `planned_end` may be None (it is computed) or must
        equal start + `sft_months`. § 82 a and § 82 b need a planned end after the
        start and within the maximum length. Every follow-up date must fall within
        start..planned end.
        """
        settings = settings or CourseSettings()
        try:
            kind = CourseKind(kind)
        except ValueError:
            raise DomainError("kind", "course.kind_unknown", "Unknown course kind.") from None
        if not citizen_ref or not citizen_ref.strip():
            raise DomainError("citizen_ref", "course.citizen_missing", "A course is for a citizen.")
        if kind is CourseKind.SFT:
            fixed_end = add_months(start_date, settings.sft_months)
            if planned_end is None:
                planned_end = fixed_end
            elif planned_end != fixed_end:
                raise DomainError(
                    "planned_end",
                    "course.sft_fixed_length",
                    f"Social Færdighedstræning lasts {settings.sft_months} months: "
                    f"it ends on {fixed_end.isoformat()}.",
                )
        elif planned_end is None:
            raise DomainError("planned_end", "course.planned_end_missing", "Give a planned end.")
        course = cls(
            kind=kind,
            citizen_ref=citizen_ref,
            start_date=start_date,
            planned_end=planned_end,
            plan=plan,
            settings=settings,
            bridging_partner_kinds=_bridging_kinds(bridging_to),
        )
        course._check_planned_end(planned_end)
        course._check_plan_dates(plan)
        course.events.append(CourseStarted(kind, start_date, planned_end, plan.follow_up_dates))
        return course

    # --- derived dates -------------------------------------------------------------

    @property
    def max_end(self) -> dt.date | None:
        """The latest day the course may last to (start + maximum length), if it has one."""
        months = {
            CourseKind.INDIVIDUAL_82B: self.settings.individual_max_months,
            CourseKind.SFT: self.settings.sft_months,
            CourseKind.GROUP_82A: self.settings.group_max_months,
        }[self.kind]
        return None if months is None else add_months(self.start_date, months)

    @property
    def bridging_due_on(self) -> dt.date:
        """`bridging_lead_months` before the planned end (never before the start)."""
        return max(
            self.start_date, add_months(self.planned_end, -self.settings.bridging_lead_months)
        )

    @property
    def review_due_on(self) -> dt.date:
        """The day by which the review should be requested (never before the start)."""
        return max(
            self.start_date,
            self.planned_end - dt.timedelta(days=self.settings.review_lead_days),
        )

    @property
    def last_kept_on(self) -> dt.date:
        """The last day an agreement was kept, or the start if none has been."""
        return self.last_kept_agreement_on or self.start_date

    @property
    def last_kept_agreement_on(self) -> dt.date | None:
        """The last day an agreement was kept; None if none has been."""
        return max((record.on for record in self.attendance if record.kept), default=None)

    @property
    def four_week_anchor(self) -> dt.date:
        """The day the 4-week window runs from: the last kept agreement (or the start),
        or the last day a person found the citizen back on track, whichever is later."""
        back = [
            p.decided_on
            for p in self.ending_proposals
            if p.decision is EndingDecision.BACK_ON_TRACK and p.decided_on is not None
        ]
        return max([self.last_kept_on, *back])

    @property
    def broken_agreements_rule_on(self) -> dt.date | None:
        """The day the 4-week rule is met, if it is armed: the rule then proposes an end.

        The rule, as decided: let K be the last day an agreement was kept (or the
        start, if none has been; or the day a person found the citizen back on track,
        if later). If at least one broken agreement is recorded on a day after K, the
        rule is met on K + `broken_agreement_window_days` (28), unless a kept agreement
        is recorded on or before that day first. So with K on 1 March and a broken
        agreement on 5 March, nothing happens on 28 March (27 days) and the ending is
        proposed on 29 March (28 days). Days with no agreement at all neither keep nor
        break it: silence alone never ends a course. A kept and a broken agreement on
        the same day count as kept. While a proposal waits for a person, the rule is
        not armed again.
        """
        if self.open_ending_proposal is not None:
            return None
        anchor = self.four_week_anchor
        if not any(not record.kept and record.on > anchor for record in self.attendance):
            return None
        return anchor + dt.timedelta(days=self.settings.broken_agreement_window_days)

    @property
    def open_ending_proposal(self) -> EndingProposal | None:
        return next((p for p in self.ending_proposals if p.decision is None), None)

    @property
    def told_bridging(self) -> list[tuple[PartnerKind, dt.date]]:
        """(partner kind, announced due day) of every bridging_due sent for the course."""
        told = []
        for key in sorted(self.fired):
            parts = key.split(":")
            if len(parts) == 3 and parts[0] == str(DeadlineKind.BRIDGING_DUE):
                told.append((PartnerKind(parts[1]), dt.date.fromisoformat(parts[2])))
        return told

    @property
    def is_active(self) -> bool:
        return self.status is CourseStatus.ACTIVE

    @property
    def review_decided(self) -> bool:
        return self.review is not None and self.review.decision is not None

    @property
    def open_referral_85(self) -> Referral85 | None:
        return next((r for r in self.referrals_85 if r.outcome is None), None)

    @property
    def referred_to_85(self) -> bool:
        return bool(self.referrals_85)

    # --- commands ------------------------------------------------------------------

    def revise_plan(self, plan: Plan) -> None:
        """Replace the plan (goals and follow-ups), agreed again with the citizen."""
        self._require_active()
        self._check_plan_dates(plan)
        self.plan = plan
        self.events.append(PlanRevised(plan.follow_up_dates))

    def record_attendance(self, on: dt.date, kept: bool) -> None:
        """Record whether an agreement on `on` was kept (overholdt) or broken.

        The 4-week rule is applied by `apply_due`, not here: a late entry for an
        earlier day is judged by the dates, but its proposal is dated the day it is
        made, and only a person ends the course.
        """
        self._require_active()
        latest = self.max_end
        if on < self.start_date or (latest is not None and on > latest):
            raise DomainError(
                "attendance.date",
                "attendance.outside_course",
                "The agreement must fall within the course.",
            )
        self.attendance.append(Attendance(on, kept))

    def plan_bridging(self, partner_kinds: Iterable[PartnerKind | str]) -> None:
        """Choose who the citizen is bridged to (replaces the earlier choice).

        If bridging is already due, the new partner kinds are told at the next
        `apply_due`.
        """
        self._require_active()
        kinds = _bridging_kinds(partner_kinds)
        if not kinds:
            raise DomainError(
                "bridging.partner_kinds", "bridging.partner_kinds_missing", "Choose a partner kind."
            )
        self.bridging_partner_kinds = kinds
        self.events.append(BridgingPlanned(tuple(sorted(kinds))))

    def request_review(self, on: dt.date) -> None:
        """Ask the tværgående udvalg to review the planned end."""
        self._require_active()
        if self.review is not None:
            raise Conflict("review", "review.already_requested", "The review is already requested.")
        if on < self.start_date:
            raise DomainError("review.requested_on", "review.before_start", "Before the start.")
        self.review = Review(requested_on=on, planned_end=self.planned_end)
        self.events.append(ReviewRequested(on, self.planned_end))

    def decide_review(
        self,
        decision: ReviewDecision | str,
        on: dt.date,
        *,
        new_planned_end: dt.date | None = None,
    ) -> None:
        """Record the review panel's decision.

        END allows `end()`. REFER_85 allows `end()` and records a § 85 referral (if none
        is open). CONTINUE needs `new_planned_end` (later, within the maximum length)
        and extends the course; the new planned end needs a new review.
        """
        self._require_active()
        decision = ReviewDecision(decision)
        review = self.review
        if review is None:
            raise DomainError("review", "review.not_requested", "Request the review first.")
        if review.decision is not None:
            raise Conflict("review", "review.already_decided", "The review is already decided.")
        if on < review.requested_on:
            raise DomainError(
                "review.decided_on",
                "review.before_request",
                "A review is decided after it is requested.",
            )
        if decision is ReviewDecision.CONTINUE:
            if new_planned_end is None:
                raise DomainError(
                    "planned_end",
                    "review.new_planned_end_missing",
                    "Continuing needs a new planned end.",
                )
            self._check_extension(new_planned_end)
        elif new_planned_end is not None:
            raise DomainError(
                "planned_end",
                "review.new_planned_end_unexpected",
                "Only CONTINUE moves the planned end.",
            )
        review.decision, review.decided_on = decision, on
        self.events.append(ReviewDecided(decision, on, self.planned_end))
        if decision is ReviewDecision.REFER_85 and self.open_referral_85 is None:
            self.refer_to_85(on)
        if decision is ReviewDecision.CONTINUE and new_planned_end is not None:
            self._extend(new_planned_end)

    def extend(self, new_planned_end: dt.date) -> None:
        """Move the planned end later, within the maximum length (not for SFT).

        An extension resets the review: the new planned end must be reviewed again.
        """
        self._require_active()
        self._check_extension(new_planned_end)
        self._extend(new_planned_end)

    def refer_to_85(self, on: dt.date) -> None:
        """Refer the citizen to Social Vejledning for a § 85 assessment."""
        self._require_active()
        if self.open_referral_85 is not None:
            raise Conflict(
                "referral_85", "referral_85.already_referred", "A § 85 referral is already open."
            )
        if on < self.start_date:
            raise DomainError(
                "referral_85.referred_on", "referral_85.before_start", "Before the start."
            )
        self.referrals_85.append(Referral85(referred_on=on))
        self.events.append(ReferredTo85(on))

    def record_referral_outcome(self, outcome: ReferralOutcome | str, on: dt.date) -> None:
        """Record how the open § 85 referral ended. Allowed after the course has ended."""
        referral = self.open_referral_85
        if referral is None:
            raise DomainError("referral_85", "referral_85.none_open", "No § 85 referral is open.")
        if on < referral.referred_on:
            raise DomainError(
                "referral_85.outcome_on",
                "referral_85.before_referral",
                "The outcome is after the referral.",
            )
        outcome = ReferralOutcome(outcome)
        referral.outcome, referral.outcome_on = outcome, on
        self.events.append(Referral85Decided(outcome, on))

    def end(self, on: dt.date, reason: EndReason | str = EndReason.PLANNED_END) -> None:
        """End the course on `on` by Fronten's decision or the citizen's.

        PLANNED_END (early or on time) needs the review panel's decision END or
        REFER_85, made no later than `on` (setting `review_required_before_end`).
        CITIZEN_WITHDREW needs no review. BROKEN_AGREEMENTS is given by confirming the
        4-week rule's proposal (`confirm_ending`), MAX_LENGTH_REACHED by the clock.
        `on` is never before a message already sent about the course.
        """
        self._require_active()
        reason = EndReason(reason)
        if reason not in (EndReason.PLANNED_END, EndReason.CITIZEN_WITHDREW):
            raise DomainError(
                "reason", "course.end_reason_automatic", f"'{reason}' is set by the rules."
            )
        if on < self.start_date:
            raise DomainError(
                "ended_on", "course.end_before_start", "A course cannot end before it starts."
            )
        latest = self.max_end
        if latest is not None and on > latest:
            raise DomainError(
                "ended_on",
                "course.max_length_exceeded",
                "The course cannot run past its maximum length.",
            )
        self._require_no_later_messages(on)
        if reason is EndReason.PLANNED_END and self.settings.review_required_before_end:
            self._require_review_for_end(on)
        self._finish(reason, on)

    def confirm_ending(self, on: dt.date) -> None:
        """A person confirms the 4-week rule's proposal: the course ends on `on`, the day
        of the decision (never earlier: not before the proposal, nor before a message
        already sent about the course)."""
        self._require_active()
        proposal = self._require_open_proposal(on)
        self._require_no_later_messages(on)
        proposal.decision, proposal.decided_on = EndingDecision.CONFIRMED, on
        self._finish(EndReason.BROKEN_AGREEMENTS, on)

    def back_on_track(self, on: dt.date) -> None:
        """A person rejects the proposal: the citizen is back on track as of `on`. The
        4-week window then runs from `on` (or a later kept agreement)."""
        self._require_active()
        proposal = self._require_open_proposal(on)
        proposal.decision, proposal.decided_on = EndingDecision.BACK_ON_TRACK, on
        self.events.append(BackOnTrack(on))

    def apply_due(self, now: dt.date) -> list[CourseEvent]:
        """Fire everything due on or before `now` (the local day; a datetime is cut to its day).

        Deadlines are handled in date order; once the course ends nothing more fires.
        Each reminder fires once (its key goes into `fired`), so a second call with
        the same `now` fires nothing new. Returns the events it added to `events`.

        A late sweep (the service was down) that finds the course ended by its dates
        (maximum length, an approved planned end) ends it on that day and does not send
        the messages it missed before it (bridging, an ending proposal): they would tell
        a partner that a finished course is running.
        """
        today = _as_day(now)
        start = len(self.events)
        # Firing only ends the course, proposes an end or marks reminders sent; it never
        # adds an earlier deadline, so one pass over the due list in date order is complete.
        due = [d for d in deadlines(self) if d.due_on <= today]
        ends_in_this_pass = any(self._ends_course(d) for d in due)
        for deadline in due:
            if not self.is_active:
                break
            if ends_in_this_pass and deadline.kind in _MESSAGE_DEADLINES:
                continue
            self._fire(deadline, today)
        return self.events[start:]

    def settle_history(self, today: dt.date) -> list[CourseEvent]:
        """Import mode: a course registered after the fact has its past taken as handled.

        Every clock that fell due before `today` is marked as passed without a reminder
        or a message (follow-ups, the review reminder, bridging to the chosen partners,
        the planned end); only what the dates decide by themselves is applied: the
        maximum length (or an approved planned end) ends the course on its day. Clocks
        due from `today` on run as for any course. Returns the events it added.
        """
        start = len(self.events)
        for deadline in deadlines(self):
            if deadline.due_on >= today or not self.is_active:
                break
            if self._ends_course(deadline):
                reason = (
                    EndReason.MAX_LENGTH_REACHED
                    if deadline.kind is DeadlineKind.MAX_LENGTH
                    else EndReason.PLANNED_END
                )
                self._finish(reason, deadline.due_on)
                continue
            if deadline.kind is DeadlineKind.BRIDGING_DUE:
                for partner_kind in self.bridging_partner_kinds:
                    self.fired.add(_settled_bridging_key(partner_kind, deadline.due_on))
            self.fired.add(_key(deadline))
        return self.events[start:]

    def note_messages_sent(self, today: dt.date) -> None:
        """The pending MESSAGE_EVENTS go out on `today`: no ending may take an earlier date."""
        if any(isinstance(event, MESSAGE_EVENTS) for event in self.events):
            self._note_sent(today)

    # --- internals -----------------------------------------------------------------

    def _note_sent(self, today: dt.date) -> None:
        if self.last_message_on is None or today > self.last_message_on:
            self.last_message_on = today

    def _ends_course(self, deadline: Deadline) -> bool:
        if deadline.kind is DeadlineKind.MAX_LENGTH:
            return True
        if deadline.kind is DeadlineKind.PLANNED_END:
            return (
                self._review_allows_end(deadline.due_on)
                or not self.settings.review_required_before_end
            )
        return False

    def _fire(self, deadline: Deadline, today: dt.date) -> None:
        kind, due_on = deadline.kind, deadline.due_on
        if kind is DeadlineKind.BROKEN_AGREEMENTS:
            self._propose_ending(today, due_on)
        elif kind is DeadlineKind.MAX_LENGTH:
            self._finish(EndReason.MAX_LENGTH_REACHED, due_on)
        elif kind is DeadlineKind.PLANNED_END:
            if self._ends_course(deadline):
                self._finish(EndReason.PLANNED_END, due_on)
            else:
                self.events.append(EndOverdue(self.planned_end))
        elif kind is DeadlineKind.REVIEW_DUE:
            self.events.append(ReviewDue(due_on, self.planned_end))
        elif kind is DeadlineKind.BRIDGING_DUE:
            missing = [
                k
                for k in sorted(self.bridging_partner_kinds)
                if not _bridging_settled(self.fired, k, due_on)
            ]
            for partner_kind in missing:
                self.fired.add(_bridging_key(partner_kind, due_on))
                self.events.append(BridgingDue(partner_kind, due_on, self.planned_end))
                self._note_sent(today)
            if not self.bridging_partner_kinds:
                self.events.append(BridgingPartnerMissing(due_on, self.planned_end))
        elif kind is DeadlineKind.FOLLOW_UP:
            self.events.append(FollowUpDue(due_on))
        self.fired.add(_key(deadline))

    def _propose_ending(self, today: dt.date, rule_met_on: dt.date) -> None:
        # Proposed on the day it is seen (a late entry about March, typed in on 30 June,
        # proposes on 30 June), never dated back: a person decides from here.
        proposal = EndingProposal(
            proposed_on=max(today, rule_met_on),
            rule_met_on=rule_met_on,
            last_kept_on=self.last_kept_agreement_on,
        )
        self.ending_proposals.append(proposal)
        self.events.append(
            EndingProposed(proposal.proposed_on, rule_met_on, proposal.last_kept_on)
        )
        self._note_sent(proposal.proposed_on)

    def _finish(self, reason: EndReason, on: dt.date) -> None:
        self.status, self.ended_on, self.end_reason = CourseStatus.ENDED, on, reason
        for proposal in self.ending_proposals:
            if proposal.decision is None:  # ended another way before a person decided
                proposal.decision, proposal.decided_on = EndingDecision.ENDED_OTHERWISE, on
        self.events.append(CourseEnded(reason, on))
        if on < self.planned_end:
            for partner_kind, due_on in self.told_bridging:
                self.events.append(BridgingCancelled(partner_kind, due_on, on))

    def _require_open_proposal(self, on: dt.date) -> EndingProposal:
        proposal = self.open_ending_proposal
        if proposal is None:
            raise Conflict(
                "ending_proposal",
                "ending.none_proposed",
                "No ending is proposed for this course.",
            )
        if on < proposal.proposed_on:
            raise DomainError(
                "decided_on",
                "ending.before_proposal",
                "The decision is made on or after the day of the proposal.",
            )
        return proposal

    def _require_no_later_messages(self, on: dt.date) -> None:
        sent = self.last_message_on
        if sent is not None and on < sent:
            raise DomainError(
                "ended_on",
                "course.end_before_messages",
                f"Messages about the course were sent on {sent.isoformat()}: "
                "it cannot end before that day.",
            )

    def _review_allows_end(self, on: dt.date) -> bool:
        review = self.review
        return (
            review is not None
            and review.planned_end == self.planned_end
            and review.decision in (ReviewDecision.END, ReviewDecision.REFER_85)
            and review.decided_on is not None
            and review.decided_on <= on
        )

    def _require_review_for_end(self, on: dt.date) -> None:
        if not self._review_allows_end(on):
            raise DomainError(
                "review",
                "course.review_missing",
                "A planned end must be approved by the tværgående udvalg (review panel) first.",
            )

    def _require_active(self) -> None:
        if not self.is_active:
            raise Conflict("course", "course.ended", "The course has ended.")

    def _check_planned_end(self, planned_end: dt.date) -> None:
        if planned_end <= self.start_date:
            raise DomainError(
                "planned_end", "course.end_before_start", "The planned end must be after the start."
            )
        latest = self.max_end
        if latest is not None and planned_end > latest:
            raise DomainError(
                "planned_end",
                "course.max_length_exceeded",
                f"The course may last until {latest.isoformat()} at the latest.",
            )

    def _check_plan_dates(self, plan: Plan) -> None:
        for index, day in enumerate(plan.follow_up_dates):
            if not self.start_date <= day <= self.planned_end:
                raise DomainError(
                    f"plan.follow_up_dates[{index}]",
                    "plan.follow_up_outside_course",
                    "A follow-up date must fall within the course.",
                )

    def _check_extension(self, new_planned_end: dt.date) -> None:
        if self.kind is CourseKind.SFT:
            raise DomainError(
                "planned_end",
                "course.sft_fixed_length",
                "Social Færdighedstræning has a fixed length.",
            )
        if new_planned_end <= self.planned_end:
            raise DomainError(
                "planned_end", "course.extension_not_later", "An extension must move the end later."
            )
        self._check_planned_end(new_planned_end)

    def _extend(self, new_planned_end: dt.date) -> None:
        previous, self.planned_end = self.planned_end, new_planned_end
        self.review = None
        self.events.append(CourseExtended(previous, new_planned_end))


def _key(deadline: Deadline) -> str:
    return f"{deadline.kind}:{deadline.due_on.isoformat()}"


def _bridging_key(partner_kind: PartnerKind, due_on: dt.date) -> str:
    return f"{DeadlineKind.BRIDGING_DUE}:{partner_kind}:{due_on.isoformat()}"


def _settled_bridging_key(partner_kind: PartnerKind, due_on: dt.date) -> str:
    """Imported history: this partner's bridging was handled before Samspil (not sent)."""
    return f"{_bridging_key(partner_kind, due_on)}:settled"


def _bridging_settled(fired: set[str], partner_kind: PartnerKind, due_on: dt.date) -> bool:
    return (
        _bridging_key(partner_kind, due_on) in fired
        or _settled_bridging_key(partner_kind, due_on) in fired
    )


def deadlines(course: Course) -> list[Deadline]:
    """The pending deadlines of a course, earliest first (endings first on the same day).

    The service stores these as rows and calls `apply_due` when one is reached; it
    should recompute them after every change to the course. An ended course has none.
    The review reminder is pending only while no review of the current planned end
    has been requested; the bridging deadline stays pending while a chosen partner
    kind has not been told.
    """
    if not course.is_active:
        return []
    pending: list[Deadline] = [
        Deadline(DeadlineKind.FOLLOW_UP, day) for day in course.plan.follow_up_dates
    ]
    if course.review is None:
        pending.append(Deadline(DeadlineKind.REVIEW_DUE, course.review_due_on))
    bridging = Deadline(DeadlineKind.BRIDGING_DUE, course.bridging_due_on)
    untold = any(
        not _bridging_settled(course.fired, kind, bridging.due_on)
        for kind in course.bridging_partner_kinds
    )
    if _key(bridging) not in course.fired or untold:
        pending.append(bridging)
    rule_on = course.broken_agreements_rule_on
    if rule_on is not None:
        pending.append(Deadline(DeadlineKind.BROKEN_AGREEMENTS, rule_on))
    pending.append(Deadline(DeadlineKind.PLANNED_END, course.planned_end))
    if course.max_end is not None:
        pending.append(Deadline(DeadlineKind.MAX_LENGTH, course.max_end))
    not_fired = [
        deadline
        for deadline in pending
        if deadline.kind is DeadlineKind.BRIDGING_DUE or _key(deadline) not in course.fired
    ]
    return sorted(not_fired, key=lambda d: (d.due_on, _DEADLINE_ORDER[d.kind]))
