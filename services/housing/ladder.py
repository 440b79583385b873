"""The escalation ladder of a rent-arrears case (huslejerestance): the legal clock.

Pure domain: no framework, no database, no clock. Time is passed in as `now` (an
aware datetime); every deadline is a stored absolute datetime, so a restart, which
rebuilds the aggregate from `to_state()`, loses none.

Danish legal words, with their meaning once:

- **påkrav**: the landlord's formal demand for payment; the tenant then has at least
  14 days from receipt to pay (lejeloven § 182, almenlejeloven § 90).
- **ophævelse**: the landlord's termination of the tenancy after an unpaid påkrav.
- **fogedret**: the bailiff's court, which the landlord asks for an eviction.
- **udsættelse**: the eviction itself, on a date the fogedret sets.
- **afdragsordning**: a payment plan agreed between tenant and landlord.
- **aktivloven § 81 a / § 81 b**: temporary help with rent for a tenant at risk of
  eviction; § 81 b for under-30s, up to 6 months, paid to the landlord.
- **tovholder**: the citizen's lead coordinator in a sammenhængende borgerforløb.

The ladder. The case's `level` is the highest rung whose cause still stands:

    EVICTION_EMERGENCY        an udsættelse date is set and not resolved
    TERMINATION_URGENT        an ophævelse is registered and not withdrawn
    ESCALATED_TO_ASSOCIATION  the association is asked to hold termination, no plan yet
    OUTREACH_DUE              nobody has reached the citizen and no plan is agreed
    REPORTED                  the floor: known, followed, nothing overdue

Going up: the outreach deadline passes with neither contact nor plan, the påkrav
deadline passes without a settled plan, a payment plan breaks, help is refused, an
ophævelse or an udsættelse date is registered. Going down: each rung's cause is
removed only by its own resolution (contact; an agreed afdragsordning or granted
help; the ophævelse withdrawn; the udsættelse resolved). A command that would take
the case below a rung whose cause still stands "skips a step" and is refused with
rule ``housing.deescalation_skips_step``: closing with the tenancy kept while an
ophævelse or udsættelse stands, or withdrawing the ophævelse while an udsættelse
date stands.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from contracts.vocabulary import Addressee, Closure
from contracts.vocabulary import HousingRequest as Request
from services.common.errors import Conflict, DomainError
from services.common.holidays import add_working_days
from services.housing.rent import RentSettings, validate_arrears_amount, validate_months_behind

# --------------------------------------------------------------------------- vocabulary


class Level(StrEnum):
    """The rungs of the ladder, lowest first (definition order is the rank)."""

    REPORTED = "reported"
    OUTREACH_DUE = "outreach_due"
    ESCALATED_TO_ASSOCIATION = "escalated_to_association"
    TERMINATION_URGENT = "termination_urgent"
    EVICTION_EMERGENCY = "eviction_emergency"

    @property
    def rank(self) -> int:
        return _LEVEL_ORDER.index(self)


_LEVEL_ORDER: tuple[Level, ...] = tuple(Level)


class ReportSource(StrEnum):
    """Who told the municipality about the arrears."""

    ASSOCIATION = "association"  # boligforeningen (the almen landlord must notify)
    FOGEDRET = "fogedret"  # the fogedret's notice that an udsættelse is requested
    FRONTEN = "fronten"  # the citizen mentioned the arrears at Fronten


class DeadlineKind(StrEnum):
    """The stored deadlines; definition order breaks ties between equal due times."""

    OUTREACH = "outreach"  # reach the citizen "straks" (retssikkerhedsloven § 5 a)
    PAKRAV = "pakrav"  # a settled plan before the påkrav deadline runs out
    HOLD_EXPIRES = "hold_expires"  # the hold we asked of the association runs out
    HELP_DECISION = "help_decision"  # expected processing time of a help application
    TERMINATION_RESPONSE = "termination_response"  # boligsocial team acts on an ophævelse
    EMERGENCY_PLAN = "emergency_plan"  # emergency housing plan before the udsættelse


_KIND_ORDER: tuple[DeadlineKind, ...] = tuple(DeadlineKind)




class EscalationReason(StrEnum):
    NO_CONTACT_BY_DEADLINE = "no_contact_by_deadline"
    NO_PLAN_BY_PAKRAV_DEADLINE = "no_plan_by_pakrav_deadline"
    PAYMENT_PLAN_BROKEN = "payment_plan_broken"
    HELP_REFUSED = "help_refused"


class PaymentPlanStatus(StrEnum):
    """State of the afdragsordning (payment plan)."""

    PROPOSED = "proposed"
    AGREED = "agreed"
    BROKEN = "broken"


class HelpParagraph(StrEnum):
    AKTIVLOVEN_81A = "aktivloven_81a"
    AKTIVLOVEN_81B = "aktivloven_81b"  # under 30s, up to 6 months, paid to the landlord


class HelpStatus(StrEnum):
    APPLIED = "applied"
    GRANTED = "granted"
    REFUSED = "refused"



class HoldAnswer(StrEnum):
    """The housing association's answer to our request to hold the ophævelse (its
    hold_termination hand-off, answered in the partners service)."""

    GRANTED = "granted"  # it holds the ophævelse until a date it names
    REFUSED = "refused"  # it will not hold: it may ophæve at any time
    PAID = "paid"  # it says the tenant has paid the arrears in full


class Flag(StrEnum):
    """Warnings raised at once and kept on the case."""

    PAKRAV_DEADLINE_SHORTER_THAN_LEGAL = "pakrav_deadline_shorter_than_legal"
    PROCESSING_EXCEEDS_PAKRAV_DEADLINE = "processing_exceeds_pakrav_deadline"


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class LadderSettings:
    """Every step and deadline of the ladder; the defaults are the legal ones.

    Changing a setting does not move deadlines already stored on a case.
    """

    #: "Straks" (retssikkerhedsloven § 5 a), read in practice as within 14 days.
    outreach_days: int = 14
    #: The tenant's minimum time to pay after a påkrav (lejeloven § 182, almenlejeloven § 90).
    pakrav_min_days: int = 14
    #: Expected processing time of an aktivloven § 81 a application.
    expected_processing_days: int = 28
    #: How long we ask the association to hold an ophævelse while a plan is made.
    hold_termination_days: int = 28
    #: Working days for the boligsocial team to act on a registered ophævelse.
    termination_response_working_days: int = 2
    #: Days before the udsættelse by which the emergency housing plan must exist.
    emergency_plan_lead_days: int = 7
    #: aktivloven § 81 b: help paid to the landlord for up to this many months.
    max_81b_months: int = 6
    timezone: str = "Europe/Copenhagen"
    rent: RentSettings = field(default_factory=RentSettings)

    def __post_init__(self) -> None:
        for name in (
            "outreach_days",
            "pakrav_min_days",
            "expected_processing_days",
            "hold_termination_days",
            "termination_response_working_days",
            "max_81b_months",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.emergency_plan_lead_days < 0:
            raise ValueError("emergency_plan_lead_days must not be negative")
        ZoneInfo(self.timezone)  # fail at start-up, not at the first deadline

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


DEFAULT_LADDER_SETTINGS = LadderSettings()

# ------------------------------------------------------------------ values and events


@dataclass(frozen=True)
class Deadline:
    """A stored deadline: what is due, and when."""

    kind: DeadlineKind
    due: dt.datetime

    def sort_key(self) -> tuple[dt.datetime, int]:
        return self.due, _KIND_ORDER.index(self.kind)


@dataclass(frozen=True)
class Ask:
    """What is asked of whom."""

    addressee: Addressee
    request: Request


@dataclass(frozen=True, kw_only=True)
class ArrearsReport:
    """One report of arrears, from an association, the fogedret or Fronten.

    `match_request` is opaque: the data intake needs to find the citizen when the
    reporter does not know the citizen_ref. The service forwards it to intake; this
    domain never stores it (CPR and names belong to intake only).
    """

    source: ReportSource
    association_id: str | None = None
    tenancy_ref: str | None = None
    citizen_ref: str | None = None
    match_request: Mapping[str, Any] | None = field(default=None, repr=False)
    amount_dkk: Decimal | None = None
    months_behind: int | None = None
    pakrav_sent_on: dt.date | None = None
    pakrav_deadline: dt.date | None = None
    #: The ophævelse date, when the reporter knows the tenancy is terminated.
    termination_on: dt.date | None = None
    #: The udsættelse date, when the fogedret has set one.
    eviction_date: dt.date | None = None


@dataclass(frozen=True, kw_only=True)
class HousingEvent:
    """Base of every event the ladder raises.

    `level` is the case's level after the event, `next_deadline` the earliest stored
    deadline after it, `asks` what is now asked of whom. `citizen_ref` is for the
    municipality's own services; partner statements never carry it.
    """

    event_type: ClassVar[str] = "housing_event"

    case_id: str
    occurred_at: dt.datetime
    level: Level
    next_deadline: Deadline | None
    asks: tuple[Ask, ...]
    association_id: str | None
    tenancy_ref: str | None
    citizen_ref: str | None
    #: Until when the association is asked to hold an ophævelse, if it is.
    hold_until: dt.date | None

    @property
    def addressees(self) -> tuple[Addressee, ...]:
        return tuple(dict.fromkeys(ask.addressee for ask in self.asks))


@dataclass(frozen=True, kw_only=True)
class ArrearsReported(HousingEvent):
    event_type: ClassVar[str] = "arrears_reported"
    source: ReportSource
    amount_dkk: Decimal | None
    months_behind: int | None
    pakrav_sent_on: dt.date | None
    pakrav_deadline: dt.date | None
    citizen_match_pending: bool


@dataclass(frozen=True, kw_only=True)
class ArrearsReportUpdated(HousingEvent):
    event_type: ClassVar[str] = "arrears_report_updated"
    source: ReportSource
    amount_dkk: Decimal | None
    months_behind: int | None
    pakrav_sent_on: dt.date | None
    pakrav_deadline: dt.date | None


@dataclass(frozen=True, kw_only=True)
class OutreachDue(HousingEvent):
    event_type: ClassVar[str] = "outreach_due"


@dataclass(frozen=True, kw_only=True)
class CitizenIdentified(HousingEvent):
    event_type: ClassVar[str] = "citizen_identified"


@dataclass(frozen=True, kw_only=True)
class CaseFlagged(HousingEvent):
    event_type: ClassVar[str] = "case_flagged"
    flag: Flag


@dataclass(frozen=True, kw_only=True)
class EscalatedToAssociation(HousingEvent):
    event_type: ClassVar[str] = "escalated_to_association"
    reason: EscalationReason


@dataclass(frozen=True, kw_only=True)
class TerminationRegistered(HousingEvent):
    event_type: ClassVar[str] = "termination_registered"
    termination_on: dt.date | None


@dataclass(frozen=True, kw_only=True)
class EvictionDateSet(HousingEvent):
    event_type: ClassVar[str] = "eviction_date_set"
    eviction_date: dt.date


@dataclass(frozen=True, kw_only=True)
class ContactEstablished(HousingEvent):
    event_type: ClassVar[str] = "contact_established"


@dataclass(frozen=True, kw_only=True)
class PaymentPlanProposed(HousingEvent):
    event_type: ClassVar[str] = "payment_plan_proposed"


@dataclass(frozen=True, kw_only=True)
class PaymentPlanAgreed(HousingEvent):
    event_type: ClassVar[str] = "payment_plan_agreed"


@dataclass(frozen=True, kw_only=True)
class PaymentPlanBroken(HousingEvent):
    event_type: ClassVar[str] = "payment_plan_broken"


@dataclass(frozen=True, kw_only=True)
class HelpAppliedFor(HousingEvent):
    event_type: ClassVar[str] = "help_applied_for"
    paragraph: HelpParagraph


@dataclass(frozen=True, kw_only=True)
class HelpGranted(HousingEvent):
    event_type: ClassVar[str] = "help_granted"
    paragraph: HelpParagraph
    months: int | None


@dataclass(frozen=True, kw_only=True)
class HelpRefused(HousingEvent):
    event_type: ClassVar[str] = "help_refused"
    paragraph: HelpParagraph


@dataclass(frozen=True, kw_only=True)
class TerminationWithdrawn(HousingEvent):
    event_type: ClassVar[str] = "termination_withdrawn"


@dataclass(frozen=True, kw_only=True)
class EvictionResolved(HousingEvent):
    event_type: ClassVar[str] = "eviction_resolved"


@dataclass(frozen=True, kw_only=True)
class EmergencyHousingPlanMade(HousingEvent):
    event_type: ClassVar[str] = "emergency_housing_plan_made"


@dataclass(frozen=True, kw_only=True)
class CaseClosed(HousingEvent):
    event_type: ClassVar[str] = "case_closed"
    closure: Closure


@dataclass(frozen=True, kw_only=True)
class ActionOverdue(HousingEvent):
    """A reminder: a deadline passed with its action still outstanding; level unchanged."""

    event_type: ClassVar[str] = "action_overdue"
    deadline_kind: DeadlineKind


@dataclass(frozen=True, kw_only=True)
class HoldAnswered(HousingEvent):
    """The association answered the request to hold the ophævelse. Internal: the
    association knows its own answer; the tovholder sees it through the hand-off."""

    event_type: ClassVar[str] = "hold_answered"
    answer: HoldAnswer
    granted_until: dt.date | None


def all_event_types() -> tuple[type[HousingEvent], ...]:
    """Every concrete event class (used by the partner allow-list test and by wiring)."""
    found: list[type[HousingEvent]] = []
    pending = list(HousingEvent.__subclasses__())
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return tuple(found)


# ------------------------------------------------------------------------------ helpers


def _require_aware(now: dt.datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")


def local(moment: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """`moment` in `tz`, always a real local time. Going through UTC resolves a wall
    time that does not exist (the spring-forward gap) to the instant it denotes;
    `astimezone(tz)` alone returns a datetime already in `tz` unchanged, gap included."""
    return moment.astimezone(dt.UTC).astimezone(tz)


def end_of_day(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """A date deadline lasts the whole day: it is due at the following midnight, local time."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)


def start_of_day(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The first instant of `day`, local time."""
    return dt.datetime.combine(day, dt.time(), tzinfo=tz)


P = ParamSpec("P")
R = TypeVar("R")


def _atomic(
    method: Callable[Concatenate[ArrearsCase, P], R],
) -> Callable[Concatenate[ArrearsCase, P], R]:
    """A refused command leaves the aggregate exactly as it was (belt and braces: the
    commands check before they change, and this restores state if one ever does not)."""

    @functools.wraps(method)
    def wrapper(self: ArrearsCase, *args: P.args, **kwargs: P.kwargs) -> R:
        saved = copy.deepcopy({k: v for k, v in vars(self).items() if k != "settings"})
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            vars(self).update(saved)
            raise

    return wrapper


def validate_report(
    report: ArrearsReport, now: dt.datetime, settings: LadderSettings = DEFAULT_LADDER_SETTINGS
) -> None:
    """Check a report before it opens or updates a case; raise `DomainError` on bad input.

    An association must name itself, the tenancy, the amount, the months behind, and
    the tenant (citizen_ref, or a match_request for intake). Fronten must name the
    citizen. The fogedret must name the tenant. A påkrav deadline must fall after the
    påkrav date (a deadline under 14 days is flagged, not refused: the case still needs help).
    """
    today = local(now, settings.tz).date()
    src = report.source
    if src is ReportSource.ASSOCIATION:
        if not report.association_id:
            raise DomainError(
                "association_id", "housing.association_required", "Name the housing association."
            )
        if not report.tenancy_ref:
            raise DomainError(
                "tenancy_ref", "housing.tenancy_ref_required", "Name the tenancy (lejemål)."
            )
        if report.amount_dkk is None:
            raise DomainError("amount_dkk", "housing.amount_required", "State the arrears.")
        if report.months_behind is None:
            raise DomainError(
                "months_behind", "housing.months_behind_required", "State the months behind."
            )
    if report.tenancy_ref is not None and not report.tenancy_ref.strip():
        raise DomainError("tenancy_ref", "housing.tenancy_ref_required", "Name the tenancy.")
    if src is ReportSource.FRONTEN and not report.citizen_ref:
        raise DomainError(
            "citizen_ref", "housing.citizen_ref_required", "Fronten reports name the citizen."
        )
    if not report.citizen_ref and not report.match_request:
        raise DomainError(
            "citizen_ref",
            "housing.tenant_unidentified",
            "Give the citizen_ref or the data intake needs to find the tenant.",
        )
    if report.amount_dkk is not None:
        validate_arrears_amount(report.amount_dkk, settings.rent)
    if report.months_behind is not None:
        validate_months_behind(report.months_behind, settings.rent)
    if report.pakrav_sent_on is not None and report.pakrav_sent_on > today:
        raise DomainError(
            "pakrav_sent_on", "housing.pakrav_sent_in_future", "The påkrav date is in the future."
        )
    if (
        report.pakrav_sent_on is not None
        and report.pakrav_deadline is not None
        and report.pakrav_deadline <= report.pakrav_sent_on
    ):
        raise DomainError(
            "pakrav_deadline",
            "housing.pakrav_deadline_before_pakrav",
            "The påkrav deadline must fall after the date the påkrav was sent.",
        )
    if report.termination_on is not None and report.termination_on > today:
        raise DomainError(
            "termination_on",
            "housing.termination_in_future",
            "An ophævelse cannot be registered before it happens.",
        )
    if report.eviction_date is not None and report.eviction_date < today:
        raise DomainError(
            "eviction_date",
            "housing.eviction_date_in_past",
            "The udsættelse date has passed; close the case instead.",
        )


# ---------------------------------------------------------------------------- aggregate


@dataclass(eq=True)
class ArrearsCase:
    """One rent-arrears case for one tenancy: the aggregate and its state machine.

    Build it with `ArrearsCase.open(...)` or `ArrearsCase.from_state(...)`. Every
    command takes `now`, returns the events it raised (also kept for `pull_events()`),
    and leaves the case unchanged when it raises.
    """

    case_id: str
    source: ReportSource
    reported_at: dt.datetime
    settings: LadderSettings = field(default=DEFAULT_LADDER_SETTINGS, compare=False, repr=False)
    association_id: str | None = None
    tenancy_ref: str | None = None
    citizen_ref: str | None = None
    citizen_match_pending: bool = False
    #: Set by the service from coordination's events: who is the municipal addressee.
    has_tovholder: bool = False
    amount_dkk: Decimal | None = None
    months_behind: int | None = None
    pakrav_sent_on: dt.date | None = None
    pakrav_deadline: dt.date | None = None
    first_contact_at: dt.datetime | None = None
    payment_plan: PaymentPlanStatus | None = None
    help_status: HelpStatus | None = None
    help_paragraph: HelpParagraph | None = None
    help_months: int | None = None
    #: Set while the association is asked to hold termination (the ESCALATED rung).
    escalation_reason: EscalationReason | None = None
    hold_until: dt.date | None = None
    termination_registered_at: dt.datetime | None = None
    termination_on: dt.date | None = None
    #: When the municipality first acted after the ophævelse was registered.
    termination_response_at: dt.datetime | None = None
    eviction_date: dt.date | None = None
    emergency_plan_at: dt.datetime | None = None
    closure: Closure | None = None
    closed_at: dt.datetime | None = None
    #: The association's last answer to the hold request, and when it gave it (the
    #: hand-off's own time: an older answer arriving late changes nothing).
    hold_answer: HoldAnswer | None = None
    hold_granted_until: dt.date | None = None
    hold_answered_at: dt.datetime | None = None
    flags: set[Flag] = field(default_factory=set)
    #: The first time each level was reached (for reports: highest level by a date).
    reached_at: dict[Level, dt.datetime] = field(default_factory=dict)
    stored_deadlines: dict[DeadlineKind, dt.datetime] = field(default_factory=dict)
    _pending: list[HousingEvent] = field(
        default_factory=list, init=False, compare=False, repr=False
    )

    # ------------------------------------------------------------------ derived state

    @property
    def is_open(self) -> bool:
        return self.closure is None

    @property
    def plan_settled(self) -> bool:
        """An agreed afdragsordning or granted help: what ends the ESCALATED rung."""
        return (
            self.payment_plan is PaymentPlanStatus.AGREED or self.help_status is HelpStatus.GRANTED
        )

    def association_request(self) -> Request | None:
        """What the case now asks of its housing association (None: no association, or
        closed): the standing request of its level."""
        if not self.is_open or not self.association_id:
            return None
        return next(a.request for a in self._level_asks(self.level)
                    if a.addressee is Addressee.ASSOCIATION)

    def is_older_answer(self, answered_at: dt.datetime) -> bool:
        """Was an answer given at `answered_at` overtaken by one already recorded?"""
        return self.hold_answered_at is not None and answered_at < self.hold_answered_at

    @property
    def outreach_pending(self) -> bool:
        return self.is_open and self.first_contact_at is None and not self.plan_settled

    @property
    def level(self) -> Level:
        """The highest rung whose cause still stands."""
        if self.eviction_date is not None:
            return Level.EVICTION_EMERGENCY
        if self.termination_registered_at is not None:
            return Level.TERMINATION_URGENT
        if self.escalation_reason is not None:
            return Level.ESCALATED_TO_ASSOCIATION
        if self.outreach_pending:
            return Level.OUTREACH_DUE
        return Level.REPORTED

    @property
    def highest_level(self) -> Level:
        """The highest level this case ever reached (reports count cases by it)."""
        return max(self.reached_at, key=lambda lv: lv.rank, default=Level.REPORTED)

    def deadlines(self) -> list[Deadline]:
        """The stored deadlines (kind, due), earliest first. Empty once closed."""
        stored = [Deadline(kind, due) for kind, due in self.stored_deadlines.items()]
        return sorted(stored, key=Deadline.sort_key)

    def next_deadline(self) -> Deadline | None:
        """The earliest stored deadline, or None (closed, or nothing is due)."""
        stored = self.deadlines()
        return stored[0] if stored else None

    def pull_events(self) -> list[HousingEvent]:
        """Hand the raised events to the unit of work (once)."""
        events, self._pending = self._pending, []
        return events

    # ------------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        *,
        case_id: str,
        report: ArrearsReport,
        now: dt.datetime,
        has_tovholder: bool,
        settings: LadderSettings = DEFAULT_LADDER_SETTINGS,
    ) -> ArrearsCase:
        """Open a case from a first report.

        Raises ArrearsReported and, when nobody has reached the citizen yet, OutreachDue
        (deadline: `outreach_days` after the report, never later than the end of the
        påkrav deadline day), plus CaseFlagged for each warning and the escalations the
        report itself carries (ophævelse, udsættelse date). A påkrav deadline that has
        already passed makes the outreach deadline due at once: call `escalate_if_due(now)`.
        """
        _require_aware(now)
        validate_report(report, now, settings)
        now = local(now, settings.tz)
        case = cls(
            case_id=case_id,
            source=report.source,
            reported_at=now,
            settings=settings,
            association_id=report.association_id,
            tenancy_ref=report.tenancy_ref.strip() if report.tenancy_ref else None,
            citizen_ref=report.citizen_ref or None,
            citizen_match_pending=not report.citizen_ref,
            has_tovholder=has_tovholder,
            amount_dkk=report.amount_dkk,
            months_behind=report.months_behind,
        )
        case.reached_at[Level.REPORTED] = now
        if report.source is ReportSource.FRONTEN:
            # The citizen is talking to Fronten: contact exists from the first minute.
            case.first_contact_at = now
        new_flags = case._apply_pakrav(report.pakrav_sent_on, report.pakrav_deadline, now)
        if case.outreach_pending:
            case._arm(DeadlineKind.OUTREACH, case._outreach_due(now))
        case._settle(now)
        case._emit(
            ArrearsReported,
            now,
            level=Level.REPORTED,
            source=case.source,
            amount_dkk=case.amount_dkk,
            months_behind=case.months_behind,
            pakrav_sent_on=case.pakrav_sent_on,
            pakrav_deadline=case.pakrav_deadline,
            citizen_match_pending=case.citizen_match_pending,
        )
        if case.level is Level.OUTREACH_DUE:
            case._emit(OutreachDue, now)
        case._emit_flags(new_flags, now)
        case._apply_court_steps(report, now)
        return case

    # -------------------------------------------------------------------- updating

    @_atomic
    def update_from_report(self, report: ArrearsReport, now: dt.datetime) -> list[HousingEvent]:
        """A further report for the same tenancy updates this open case (never a second case).

        Amounts, months and påkrav dates take the newest report's values; a new påkrav
        deadline moves the påkrav deadline and can only bring the outreach deadline
        forward. An ophævelse or udsættelse date in the report escalates as its own
        command would. A report naming another association, tenancy or citizen is refused.
        """
        now = self._begin(now, "case")
        validate_report(report, now, self.settings)
        if (
            report.association_id
            and self.association_id
            and (report.association_id != self.association_id)
        ):
            raise DomainError(
                "tenancy_ref",
                "housing.tenancy_owned_by_other_association",
                "This tenancy's case belongs to another housing association.",
            )
        tenancy = report.tenancy_ref.strip() if report.tenancy_ref else None
        if tenancy and self.tenancy_ref and tenancy != self.tenancy_ref:
            raise DomainError(
                "tenancy_ref", "housing.tenancy_mismatch", "The report is for another tenancy."
            )
        if report.citizen_ref and self.citizen_ref and report.citizen_ref != self.citizen_ref:
            raise Conflict(
                "citizen_ref",
                "housing.citizen_ref_mismatch",
                "The report names another tenant than the open case.",
            )
        start = len(self._pending)
        self.association_id = self.association_id or report.association_id
        self.tenancy_ref = self.tenancy_ref or tenancy
        newly_identified = bool(report.citizen_ref) and self.citizen_ref is None
        if newly_identified:
            self.citizen_ref = report.citizen_ref
            self.citizen_match_pending = False
        if report.amount_dkk is not None:
            self.amount_dkk = report.amount_dkk
        if report.months_behind is not None:
            self.months_behind = report.months_behind
        old_pakrav_end = self._pakrav_end()
        new_flags = self._apply_pakrav(report.pakrav_sent_on, report.pakrav_deadline, now)
        new_pakrav_end = self._pakrav_end()
        outreach_due = self.stored_deadlines.get(DeadlineKind.OUTREACH)
        if new_pakrav_end is not None and new_pakrav_end != old_pakrav_end and outreach_due:
            # A new påkrav can only bring the outreach deadline forward, never push it back.
            self._arm(DeadlineKind.OUTREACH, min(outreach_due, new_pakrav_end))
        contact_now = report.source is ReportSource.FRONTEN and self.first_contact_at is None
        if contact_now:
            self.first_contact_at = now
        self._settle(now)
        self._emit(
            ArrearsReportUpdated,
            now,
            source=report.source,
            amount_dkk=self.amount_dkk,
            months_behind=self.months_behind,
            pakrav_sent_on=self.pakrav_sent_on,
            pakrav_deadline=self.pakrav_deadline,
        )
        if newly_identified:
            self._emit(CitizenIdentified, now, asks=self._identified_asks())
        if contact_now:
            self._emit(ContactEstablished, now)
        self._emit_flags(new_flags, now)
        self._apply_court_steps(report, now)
        return self._pending[start:]

    @_atomic
    def identify_citizen(
        self, citizen_ref: str, now: dt.datetime, *, has_tovholder: bool
    ) -> list[HousingEvent]:
        """Intake matched the tenant to a citizen: record the citizen_ref.

        Idempotent for the same citizen_ref; another citizen_ref is a Conflict.
        """
        now = self._begin(now, "citizen_ref")
        if not citizen_ref:
            raise DomainError("citizen_ref", "housing.citizen_ref_required", "Give a citizen_ref.")
        if self.citizen_ref == citizen_ref:
            self.has_tovholder = has_tovholder
            return []
        if self.citizen_ref is not None:
            raise Conflict(
                "citizen_ref", "housing.citizen_ref_mismatch", "The case has another citizen."
            )
        self.citizen_ref = citizen_ref
        self.citizen_match_pending = False
        self.has_tovholder = has_tovholder
        return [self._emit(CitizenIdentified, now, asks=self._identified_asks())]

    def set_has_tovholder(self, has_tovholder: bool) -> None:
        """The citizen got (or lost) a tovholder; later events are addressed accordingly."""
        self.has_tovholder = has_tovholder

    # ---------------------------------------------------------------- de-escalations

    @_atomic
    def establish_contact(self, now: dt.datetime) -> list[HousingEvent]:
        """The municipality reached the citizen. Ends OUTREACH_DUE; at higher rungs it is
        recorded (and answers a pending ophævelse response) but the rung stands."""
        now = self._begin(now, "contact")
        first = self.first_contact_at is None
        answers_termination = self._answers_termination()
        if not first and not answers_termination:
            return []  # already known; nothing new to tell anyone
        if first:
            self.first_contact_at = now
        self._note_municipal_action(now)
        self._settle(now)
        return [self._emit(ContactEstablished, now)]

    @_atomic
    def propose_payment_plan(self, now: dt.datetime) -> list[HousingEvent]:
        """An afdragsordning is proposed to the association; no rung changes until agreed."""
        now = self._begin(now, "payment_plan")
        if self.payment_plan is PaymentPlanStatus.AGREED:
            raise Conflict(
                "payment_plan", "housing.payment_plan_already_agreed", "A plan is already agreed."
            )
        self.payment_plan = PaymentPlanStatus.PROPOSED
        self._note_municipal_action(now)
        self._settle(now)
        return [self._emit(PaymentPlanProposed, now)]

    @_atomic
    def agree_payment_plan(self, now: dt.datetime) -> list[HousingEvent]:
        """The association agreed an afdragsordning: ends OUTREACH_DUE and ESCALATED;
        an ophævelse or udsættelse still stands until resolved."""
        now = self._begin(now, "payment_plan")
        if self.payment_plan is PaymentPlanStatus.AGREED:
            raise Conflict(
                "payment_plan", "housing.payment_plan_already_agreed", "A plan is already agreed."
            )
        self.payment_plan = PaymentPlanStatus.AGREED
        self._note_municipal_action(now)
        self._settle(now)
        return [self._emit(PaymentPlanAgreed, now)]

    @_atomic
    def break_payment_plan(self, now: dt.datetime) -> list[HousingEvent]:
        """The afdragsordning was broken: re-escalate to the association unless granted
        help still settles the arrears."""
        now = self._begin(now, "payment_plan")
        if self.payment_plan is not PaymentPlanStatus.AGREED:
            raise Conflict(
                "payment_plan", "housing.no_agreed_payment_plan", "No agreed plan to break."
            )
        self.payment_plan = PaymentPlanStatus.BROKEN
        events = [self._emit(PaymentPlanBroken, now)]
        events += self._escalate(EscalationReason.PAYMENT_PLAN_BROKEN, now)
        return events

    @_atomic
    def apply_for_help(self, now: dt.datetime, paragraph: HelpParagraph) -> list[HousingEvent]:
        """An application under aktivloven § 81 a or § 81 b is made.

        Counts as contact. It does not settle the case: an escalated case stays
        escalated and the hold asked of the association is extended to the expected
        decision date (`expected_processing_days`), when HELP_DECISION falls due.
        """
        now = self._begin(now, "help")
        if self.help_status is HelpStatus.APPLIED:
            raise Conflict(
                "help", "housing.help_already_applied_for", "An application is already pending."
            )
        self.help_status = HelpStatus.APPLIED
        self.help_paragraph = HelpParagraph(paragraph)
        self.help_months = None
        if self.first_contact_at is None:
            self.first_contact_at = now
        self._note_municipal_action(now)
        decision_due = now + dt.timedelta(days=self.settings.expected_processing_days)
        self._arm(DeadlineKind.HELP_DECISION, decision_due)
        if self.escalation_reason is not None:
            self._extend_hold(decision_due.date())
        self._settle(now)
        return [self._emit(HelpAppliedFor, now, paragraph=self.help_paragraph)]

    @_atomic
    def grant_help(self, now: dt.datetime, *, months: int | None = None) -> list[HousingEvent]:
        """The pending application is granted: settles the arrears like an agreed plan.

        § 81 b needs `months` (1..`max_81b_months`); § 81 a takes none.
        """
        now = self._begin(now, "help")
        paragraph = self._pending_help("grant")
        if paragraph is HelpParagraph.AKTIVLOVEN_81B:
            if months is None or not 1 <= months <= self.settings.max_81b_months:
                raise DomainError(
                    "months",
                    "housing.help_81b_months_out_of_range",
                    f"§ 81 b help covers 1 to {self.settings.max_81b_months} months.",
                )
        elif months is not None:
            raise DomainError(
                "months", "housing.help_months_not_applicable", "Only § 81 b help has months."
            )
        self.help_status = HelpStatus.GRANTED
        self.help_months = months
        self._note_municipal_action(now)
        self._settle(now)
        return [self._emit(HelpGranted, now, paragraph=paragraph, months=months)]

    @_atomic
    def refuse_help(self, now: dt.datetime) -> list[HousingEvent]:
        """The pending application is refused: re-escalate unless an agreed plan stands."""
        now = self._begin(now, "help")
        paragraph = self._pending_help("refuse")
        self.help_status = HelpStatus.REFUSED
        events = [self._emit(HelpRefused, now, paragraph=paragraph)]
        events += self._escalate(EscalationReason.HELP_REFUSED, now)
        return events

    @_atomic
    def withdraw_termination(self, now: dt.datetime) -> list[HousingEvent]:
        """The association withdrew the ophævelse (the tenancy continues).

        Refused while an udsættelse date stands: resolve the eviction first.
        """
        now = self._begin(now, "termination")
        if self.termination_registered_at is None:
            raise Conflict(
                "termination", "housing.no_termination_to_withdraw", "No ophævelse is registered."
            )
        if self.eviction_date is not None:
            raise DomainError(
                "termination",
                "housing.deescalation_skips_step",
                "An udsættelse date stands: register the eviction's resolution first.",
            )
        self.termination_registered_at = None
        self.termination_on = None
        self.termination_response_at = None
        self._rearm_current_rung(now)
        self._settle(now)
        return [self._emit(TerminationWithdrawn, now)]

    @_atomic
    def resolve_eviction(self, now: dt.datetime) -> list[HousingEvent]:
        """The udsættelse is called off (the fogedret or the association withdrew it).

        The case falls to TERMINATION_URGENT: the ophævelse still stands until withdrawn.
        """
        now = self._begin(now, "eviction")
        if self.eviction_date is None:
            raise Conflict("eviction", "housing.no_eviction_to_resolve", "No udsættelse is set.")
        self.eviction_date = None
        self.emergency_plan_at = None
        self._rearm_current_rung(now)
        self._settle(now)
        return [self._emit(EvictionResolved, now)]

    @_atomic
    def record_paid_in_full(self, now: dt.datetime) -> list[HousingEvent]:
        """The arrears are paid in full: close the case with the tenancy kept.

        Refused (``housing.deescalation_skips_step``) while an ophævelse or an
        udsættelse date stands: paying does not by itself undo them, so their
        resolution must be registered first.
        """
        now = self._begin(now, "case")
        if self.eviction_date is not None:
            raise DomainError(
                "eviction",
                "housing.deescalation_skips_step",
                "An udsættelse date stands: register the eviction's resolution first.",
            )
        if self.termination_registered_at is not None:
            raise DomainError(
                "termination",
                "housing.deescalation_skips_step",
                "An ophævelse stands: register its withdrawal first.",
            )
        self.escalation_reason = None
        self.hold_until = None
        return self._close(Closure.TENANCY_KEPT, now)

    @_atomic
    def close(self, now: dt.datetime, closure: Closure) -> list[HousingEvent]:
        """Close the case because the tenancy was lost or ended; allowed at any level.

        Closing with the tenancy kept goes through `record_paid_in_full`.
        """
        now = self._begin(now, "case")
        if closure is Closure.TENANCY_KEPT:
            raise DomainError(
                "closure",
                "housing.tenancy_kept_requires_payment",
                "A case closes with the tenancy kept when the arrears are paid in full.",
            )
        return self._close(Closure(closure), now)

    # ------------------------------------------------------------------ escalations

    @_atomic
    def register_termination(
        self, now: dt.datetime, termination_on: dt.date | None = None
    ) -> list[HousingEvent]:
        """An ophævelse is registered: TERMINATION_URGENT, the boligsocial team must act
        within `termination_response_working_days` hverdage."""
        now = self._begin(now, "termination")
        if termination_on is not None and termination_on > now.date():
            raise DomainError(
                "termination_on",
                "housing.termination_in_future",
                "An ophævelse cannot be registered before it happens.",
            )
        return self._register_termination(termination_on, now)

    @_atomic
    def set_eviction_date(self, now: dt.datetime, eviction_date: dt.date) -> list[HousingEvent]:
        """The fogedret set (or moved) the udsættelse date: EVICTION_EMERGENCY, with an
        emergency housing plan due `emergency_plan_lead_days` before it."""
        now = self._begin(now, "eviction")
        if eviction_date < now.date():
            raise DomainError(
                "eviction_date",
                "housing.eviction_date_in_past",
                "The udsættelse date has passed; close the case instead.",
            )
        return self._set_eviction_date(eviction_date, now)

    @_atomic
    def record_emergency_housing_plan(self, now: dt.datetime) -> list[HousingEvent]:
        """The emergency housing plan for the udsættelse exists (answers EMERGENCY_PLAN)."""
        now = self._begin(now, "eviction")
        if self.eviction_date is None:
            raise Conflict("eviction", "housing.no_eviction_date", "No udsættelse date is set.")
        if self.emergency_plan_at is not None:
            return []
        self.emergency_plan_at = now
        self._settle(now)
        return [
            self._emit(
                EmergencyHousingPlanMade,
                now,
                asks=(Ask(self._municipal(), Request.FOR_INFORMATION),),
            )
        ]

    # ------------------------------------------------ the association's hold answers
    # The request to hold the ophævelse (ESCALATED_TO_ASSOCIATION) is a hand-off to the
    # association in the partners service; its answers come back here. Each records the
    # answer; what the ladder does with it depends on the rung the case stands on.

    @_atomic
    def record_hold_granted(
        self, now: dt.datetime, until: dt.date | None, *, answered_at: dt.datetime
    ) -> list[HousingEvent]:
        """The association holds the ophævelse until `until` (inclusive).

        While the case stands on ESCALATED_TO_ASSOCIATION, no ophævelse is expected
        before then: `hold_until` becomes the association's date and HOLD_EXPIRES falls
        due at its end (earlier than we asked, if the association gave less time; later,
        if more). On another rung the answer is recorded only."""
        now = self._begin(now, "hold_until")
        if until is None:
            raise DomainError("hold_until", "housing.hold_until_required",
                              "A granted hold names the day it lasts until.")
        self.hold_answer = HoldAnswer.GRANTED
        self.hold_granted_until = until
        self.hold_answered_at = answered_at
        if self.level is Level.ESCALATED_TO_ASSOCIATION:
            self.hold_until = until
            self._arm(DeadlineKind.HOLD_EXPIRES, end_of_day(until, self.settings.tz))
        self._settle(now)
        events = [self._emit(HoldAnswered, now, asks=(Ask(self._municipal(),
                                                           Request.FOR_INFORMATION),),
                             answer=HoldAnswer.GRANTED, granted_until=until)]
        events += self.escalate_if_due(now)  # a hold that has already run out
        return events

    @_atomic
    def record_hold_refused(
        self, now: dt.datetime, *, answered_at: dt.datetime
    ) -> list[HousingEvent]:
        """The association will not hold the ophævelse: the escalation goes on.

        On ESCALATED_TO_ASSOCIATION the time the hold was to give is gone: HOLD_EXPIRES
        falls due now, so the tovholder (or Fronten) is asked at once to make a plan or
        apply for help (housing.action_overdue), and the next step is an ophævelse,
        registered when it comes. On another rung the answer is recorded only."""
        now = self._begin(now, "state")
        self.hold_answer = HoldAnswer.REFUSED
        self.hold_granted_until = None
        self.hold_answered_at = answered_at
        escalated = self.level is Level.ESCALATED_TO_ASSOCIATION
        request = Request.MAKE_PLAN_OR_APPLY_FOR_HELP if escalated else Request.FOR_INFORMATION
        events = [self._emit(HoldAnswered, now, asks=(Ask(self._municipal(), request),),
                             answer=HoldAnswer.REFUSED, granted_until=None)]
        if escalated:
            self._arm(DeadlineKind.HOLD_EXPIRES, now)
        self._settle(now)
        events += self.escalate_if_due(now)
        return events

    @_atomic
    def record_paid_by_association(
        self, now: dt.datetime, *, answered_at: dt.datetime
    ) -> list[HousingEvent]:
        """The association says the tenant paid the arrears in full: the paid-in-full
        path, closing the case with the tenancy kept.

        While an ophævelse or udsættelse stands the case cannot close by payment alone
        (`record_paid_in_full`): the answer is recorded, and the housing officers' list
        asks them to register the ophævelse's withdrawal (or the eviction's resolution)
        and then the payment."""
        now = self._begin(now, "outcome")
        self.hold_answer = HoldAnswer.PAID
        self.hold_answered_at = answered_at
        events = [self._emit(HoldAnswered, now, asks=(Ask(self._municipal(),
                                                           Request.FOR_INFORMATION),),
                             answer=HoldAnswer.PAID, granted_until=self.hold_granted_until)]
        if self.eviction_date is not None or self.termination_registered_at is not None:
            self._settle(now)
            return events
        self.escalation_reason = None
        self.hold_until = None
        return events + self._close(Closure.TENANCY_KEPT, now)

    def escalate_if_due(self, now: dt.datetime) -> list[HousingEvent]:
        """Fire every stored deadline due at `now`, each exactly once, earliest first.

        A fired deadline is removed from the stored ones, so a second call at the same
        `now` (or after a restart from `to_state()`) fires nothing twice; one missed
        while the service was down fires on the first sweep after. OUTREACH and PAKRAV
        escalate to the association; the others raise ActionOverdue reminders.
        """
        _require_aware(now)
        if not self.is_open:
            return []
        now = local(now, self.settings.tz)
        events: list[HousingEvent] = []
        fired: set[DeadlineKind] = set()
        while True:
            # Re-read after each firing: one escalation can make another deadline moot.
            due = [d for d in self.deadlines() if d.due <= now and d.kind not in fired]
            if not due:
                return events
            deadline = due[0]
            fired.add(deadline.kind)
            del self.stored_deadlines[deadline.kind]
            events += self._fire(deadline.kind, now)
            self._settle(now)

    # --------------------------------------------------------------- persistence

    def to_state(self) -> dict[str, Any]:
        """The whole state as JSON-safe values; `from_state` rebuilds an equal case."""

        def iso(value: dt.date | dt.datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "state_version": 1,
            "case_id": self.case_id,
            "source": self.source.value,
            "reported_at": iso(self.reported_at),
            "association_id": self.association_id,
            "tenancy_ref": self.tenancy_ref,
            "citizen_ref": self.citizen_ref,
            "citizen_match_pending": self.citizen_match_pending,
            "has_tovholder": self.has_tovholder,
            "amount_dkk": str(self.amount_dkk) if self.amount_dkk is not None else None,
            "months_behind": self.months_behind,
            "pakrav_sent_on": iso(self.pakrav_sent_on),
            "pakrav_deadline": iso(self.pakrav_deadline),
            "first_contact_at": iso(self.first_contact_at),
            "payment_plan": self.payment_plan.value if self.payment_plan else None,
            "help_status": self.help_status.value if self.help_status else None,
            "help_paragraph": self.help_paragraph.value if self.help_paragraph else None,
            "help_months": self.help_months,
            "escalation_reason": self.escalation_reason.value if self.escalation_reason else None,
            "hold_until": iso(self.hold_until),
            "termination_registered_at": iso(self.termination_registered_at),
            "termination_on": iso(self.termination_on),
            "termination_response_at": iso(self.termination_response_at),
            "eviction_date": iso(self.eviction_date),
            "emergency_plan_at": iso(self.emergency_plan_at),
            "closure": self.closure.value if self.closure else None,
            "closed_at": iso(self.closed_at),
            "hold_answer": self.hold_answer.value if self.hold_answer else None,
            "hold_granted_until": iso(self.hold_granted_until),
            "hold_answered_at": iso(self.hold_answered_at),
            "flags": sorted(flag.value for flag in self.flags),
            "reached_at": {lv.value: at.isoformat() for lv, at in self.reached_at.items()},
            "deadlines": {k.value: due.isoformat() for k, due in self.stored_deadlines.items()},
        }

    @classmethod
    def from_state(
        cls, state: Mapping[str, Any], settings: LadderSettings = DEFAULT_LADDER_SETTINGS
    ) -> ArrearsCase:
        """Rebuild a case from `to_state()` output (after a restart, or from the database)."""
        tz = settings.tz

        def when(value: str | None) -> dt.datetime | None:
            return dt.datetime.fromisoformat(value).astimezone(tz) if value else None

        def day(value: str | None) -> dt.date | None:
            return dt.date.fromisoformat(value) if value else None

        def enum(kind: type[Any], value: str | None) -> Any:
            return kind(value) if value else None

        reported_at = when(state["reported_at"])
        assert reported_at is not None
        return cls(
            case_id=state["case_id"],
            source=ReportSource(state["source"]),
            reported_at=reported_at,
            settings=settings,
            association_id=state["association_id"],
            tenancy_ref=state["tenancy_ref"],
            citizen_ref=state["citizen_ref"],
            citizen_match_pending=state["citizen_match_pending"],
            has_tovholder=state["has_tovholder"],
            amount_dkk=Decimal(state["amount_dkk"]) if state["amount_dkk"] else None,
            months_behind=state["months_behind"],
            pakrav_sent_on=day(state["pakrav_sent_on"]),
            pakrav_deadline=day(state["pakrav_deadline"]),
            first_contact_at=when(state["first_contact_at"]),
            payment_plan=enum(PaymentPlanStatus, state["payment_plan"]),
            help_status=enum(HelpStatus, state["help_status"]),
            help_paragraph=enum(HelpParagraph, state["help_paragraph"]),
            help_months=state["help_months"],
            escalation_reason=enum(EscalationReason, state["escalation_reason"]),
            hold_until=day(state["hold_until"]),
            termination_registered_at=when(state["termination_registered_at"]),
            termination_on=day(state["termination_on"]),
            termination_response_at=when(state["termination_response_at"]),
            eviction_date=day(state["eviction_date"]),
            emergency_plan_at=when(state["emergency_plan_at"]),
            closure=enum(Closure, state["closure"]),
            closed_at=when(state["closed_at"]),
            # Added after state_version 1 was first stored: absent means no answer yet.
            hold_answer=enum(HoldAnswer, state.get("hold_answer")),
            hold_granted_until=day(state.get("hold_granted_until")),
            hold_answered_at=when(state.get("hold_answered_at")),
            flags={Flag(v) for v in state["flags"]},
            reached_at={
                Level(k): dt.datetime.fromisoformat(v).astimezone(tz)
                for k, v in state["reached_at"].items()
            },
            stored_deadlines={
                DeadlineKind(k): dt.datetime.fromisoformat(v).astimezone(tz)
                for k, v in state["deadlines"].items()
            },
        )

    # ------------------------------------------------------------------ internals

    def _begin(self, now: dt.datetime, field_name: str) -> dt.datetime:
        _require_aware(now)
        if not self.is_open:
            raise Conflict(field_name, "housing.case_closed", "The case is closed.")
        return local(now, self.settings.tz)

    def _pakrav_end(self) -> dt.datetime | None:
        if self.pakrav_deadline is None:
            return None
        return end_of_day(self.pakrav_deadline, self.settings.tz)

    def _outreach_due(self, now: dt.datetime) -> dt.datetime:
        # "Straks", but never after the påkrav deadline: after it the landlord may ophæve.
        due = now + dt.timedelta(days=self.settings.outreach_days)
        pakrav_end = self._pakrav_end()
        return min(due, pakrav_end) if pakrav_end is not None else due

    def _apply_pakrav(
        self, sent_on: dt.date | None, deadline: dt.date | None, now: dt.datetime
    ) -> list[Flag]:
        """Record påkrav dates; arm PAKRAV; return the flags this raised for the first time."""
        if sent_on is None and deadline is None:
            return []
        sent = sent_on if sent_on is not None else self.pakrav_sent_on
        if deadline is None:
            # A påkrav without a stated deadline: assume the legal minimum, the earliest
            # day the landlord could lawfully ophæve, so that we are never late.
            assert sent is not None
            deadline = sent + dt.timedelta(days=self.settings.pakrav_min_days)
        if sent is not None and deadline <= sent:
            # Also refused for an update pairing a new deadline with an older påkrav date.
            raise DomainError(
                "pakrav_deadline",
                "housing.pakrav_deadline_before_pakrav",
                "The påkrav deadline must fall after the date the påkrav was sent.",
            )
        self.pakrav_sent_on = sent
        self.pakrav_deadline = deadline
        raised: list[Flag] = []
        if sent is not None and (deadline - sent).days < self.settings.pakrav_min_days:
            # Flag, not refuse: the tenant still needs help, and the deadline is the landlord's.
            raised.append(Flag.PAKRAV_DEADLINE_SHORTER_THAN_LEGAL)
        pakrav_end = self._pakrav_end()
        assert pakrav_end is not None
        # An application made today would be decided this late: after the deadline, the
        # landlord may ophæve before the municipality can help.
        processing_end = now + dt.timedelta(days=self.settings.expected_processing_days)
        if processing_end > pakrav_end:
            raised.append(Flag.PROCESSING_EXCEEDS_PAKRAV_DEADLINE)
        self._arm(DeadlineKind.PAKRAV, pakrav_end)
        new = [flag for flag in raised if flag not in self.flags]
        self.flags.update(new)
        return new

    def _arm(self, kind: DeadlineKind, due: dt.datetime) -> None:
        # Day arithmetic is wall-clock: "now + 14 days" may land in a summer-time gap.
        self.stored_deadlines[kind] = local(due, self.settings.tz)

    def _deadline_relevant(self, kind: DeadlineKind) -> bool:
        if not self.is_open:
            return False
        level = self.level
        match kind:
            case DeadlineKind.OUTREACH:
                return level is Level.OUTREACH_DUE
            case DeadlineKind.PAKRAV:
                return not self.plan_settled and level.rank < Level.ESCALATED_TO_ASSOCIATION.rank
            case DeadlineKind.HOLD_EXPIRES:
                return level is Level.ESCALATED_TO_ASSOCIATION
            case DeadlineKind.HELP_DECISION:
                return self.help_status is HelpStatus.APPLIED
            case DeadlineKind.TERMINATION_RESPONSE:
                return level is Level.TERMINATION_URGENT and self.termination_response_at is None
            case DeadlineKind.EMERGENCY_PLAN:
                return level is Level.EVICTION_EMERGENCY and self.emergency_plan_at is None
        raise AssertionError(kind)  # pragma: no cover

    def _settle(self, now: dt.datetime) -> None:
        """After every change: a settled plan ends the escalation, deadlines that no
        longer apply are dropped, and the level reached is recorded."""
        if self.plan_settled:
            self.escalation_reason = None
            self.hold_until = None
        for kind in list(self.stored_deadlines):
            if not self._deadline_relevant(kind):
                del self.stored_deadlines[kind]
        if self.is_open:
            self.reached_at.setdefault(self.level, now)

    def _answers_termination(self) -> bool:
        return self.level is Level.TERMINATION_URGENT and self.termination_response_at is None

    def _note_municipal_action(self, now: dt.datetime) -> None:
        if self._answers_termination():
            self.termination_response_at = now

    def _extend_hold(self, until: dt.date) -> None:
        hold = until if self.hold_until is None else max(until, self.hold_until)
        self.hold_until = hold
        self._arm(DeadlineKind.HOLD_EXPIRES, end_of_day(hold, self.settings.tz))

    def _rearm_current_rung(self, now: dt.datetime) -> None:
        """After a de-escalation, the rung the case falls to gets its own deadline again
        when its action is still outstanding (its old deadline was dropped on the way up)."""
        self._settle(now)
        level = self.level
        if level is Level.OUTREACH_DUE and DeadlineKind.OUTREACH not in self.stored_deadlines:
            self._arm(DeadlineKind.OUTREACH, self._outreach_due(now))
            if self.stored_deadlines[DeadlineKind.OUTREACH] < now:
                self._arm(DeadlineKind.OUTREACH, now)  # the påkrav deadline has passed: now
        elif level is Level.ESCALATED_TO_ASSOCIATION:
            self._extend_hold(now.date() + dt.timedelta(days=self.settings.hold_termination_days))
        elif level is Level.TERMINATION_URGENT and self.termination_response_at is None:
            self._arm(DeadlineKind.TERMINATION_RESPONSE, self._termination_response_due(now))

    def _termination_response_due(self, now: dt.datetime) -> dt.datetime:
        day = add_working_days(now.date(), self.settings.termination_response_working_days)
        return end_of_day(day, self.settings.tz)

    def _pending_help(self, verb: str) -> HelpParagraph:
        if self.help_status is not HelpStatus.APPLIED or self.help_paragraph is None:
            raise Conflict(
                "help",
                "housing.no_pending_help_application",
                f"There is no pending application to {verb}.",
            )
        return self.help_paragraph

    def _escalate(self, reason: EscalationReason, now: dt.datetime) -> list[HousingEvent]:
        """Ask the association to hold termination (unless a settled plan makes it moot)."""
        if self.plan_settled:
            self._settle(now)
            return []
        was = self.level
        self.escalation_reason = reason
        until = now.date() + dt.timedelta(days=self.settings.hold_termination_days)
        decision = self.stored_deadlines.get(DeadlineKind.HELP_DECISION)
        if decision is not None:
            until = max(until, decision.date())  # hold while a pending application is decided
        self._extend_hold(until)
        self._settle(now)
        if self.level is not Level.ESCALATED_TO_ASSOCIATION or was is self.level:
            return []  # a higher rung stands (or already escalated): its asks already apply
        # A new request to hold: an answer to an earlier one no longer stands.
        self.hold_answer = None
        self.hold_granted_until = None
        return [self._emit(EscalatedToAssociation, now, reason=reason)]

    def _register_termination(
        self, termination_on: dt.date | None, now: dt.datetime
    ) -> list[HousingEvent]:
        if self.termination_registered_at is not None:
            if termination_on is not None and self.termination_on is None:
                self.termination_on = termination_on  # the date arrived later: no new rung
            return []
        self.termination_registered_at = now
        self.termination_on = termination_on
        self.termination_response_at = None
        self._arm(DeadlineKind.TERMINATION_RESPONSE, self._termination_response_due(now))
        self._settle(now)
        return [self._emit(TerminationRegistered, now, termination_on=termination_on)]

    def _set_eviction_date(self, eviction_date: dt.date, now: dt.datetime) -> list[HousingEvent]:
        events: list[HousingEvent] = []
        if self.termination_registered_at is None:
            # An udsættelse presupposes an ophævelse, even if nobody told us of it.
            events += self._register_termination(None, now)
        if self.eviction_date == eviction_date:
            return events
        self.eviction_date = eviction_date
        if self.emergency_plan_at is None:
            lead = dt.timedelta(days=self.settings.emergency_plan_lead_days)
            due = start_of_day(eviction_date - lead, self.settings.tz)
            self._arm(DeadlineKind.EMERGENCY_PLAN, max(due, now))
        self._settle(now)
        events.append(self._emit(EvictionDateSet, now, eviction_date=eviction_date))
        return events

    def _apply_court_steps(self, report: ArrearsReport, now: dt.datetime) -> None:
        """The ophævelse and udsættelse a report carries escalate as their commands do."""
        if (
            report.termination_on is not None
            or report.source is ReportSource.FOGEDRET  # a notice means an eviction is asked
            or report.eviction_date is not None
        ):
            self._register_termination(report.termination_on, now)
        if report.eviction_date is not None:
            self._set_eviction_date(report.eviction_date, now)

    def _close(self, closure: Closure, now: dt.datetime) -> list[HousingEvent]:
        self.closure = closure
        self.closed_at = now
        self._settle(now)  # drops every deadline
        asks = [Ask(self._municipal(), Request.FOR_INFORMATION)]
        if self.association_id:
            asks.insert(0, Ask(Addressee.ASSOCIATION, Request.FOR_INFORMATION))
        return [self._emit(CaseClosed, now, asks=tuple(asks), closure=closure)]

    def _fire(self, kind: DeadlineKind, now: dt.datetime) -> list[HousingEvent]:
        municipal = self._municipal()
        match kind:
            case DeadlineKind.OUTREACH:
                return self._escalate(EscalationReason.NO_CONTACT_BY_DEADLINE, now)
            case DeadlineKind.PAKRAV:
                return self._escalate(EscalationReason.NO_PLAN_BY_PAKRAV_DEADLINE, now)
            case DeadlineKind.HOLD_EXPIRES:
                request = Request.MAKE_PLAN_OR_APPLY_FOR_HELP
            case DeadlineKind.HELP_DECISION:
                request = Request.CHASE_HELP_DECISION
            case DeadlineKind.TERMINATION_RESPONSE:
                request = Request.INVOLVE_BOLIGSOCIAL_TEAM
            case DeadlineKind.EMERGENCY_PLAN:
                request = Request.MAKE_EMERGENCY_HOUSING_PLAN
        asks = (Ask(municipal, request),)
        return [self._emit(ActionOverdue, now, asks=asks, deadline_kind=kind)]

    def _municipal(self) -> Addressee:
        # With a tovholder, every escalation goes to them too; without, Fronten owns it.
        return Addressee.TOVHOLDER if self.has_tovholder else Addressee.FRONTEN

    def _level_asks(self, level: Level) -> tuple[Ask, ...]:
        """What the level itself asks of whom: the standing requests."""
        municipal = self._municipal()
        association, mine = {
            Level.REPORTED: (Request.FOR_INFORMATION, Request.FOR_INFORMATION),
            Level.OUTREACH_DUE: (Request.FOR_INFORMATION, Request.CONTACT_CITIZEN),
            Level.ESCALATED_TO_ASSOCIATION: (
                Request.HOLD_TERMINATION,
                Request.MAKE_PLAN_OR_APPLY_FOR_HELP,
            ),
            Level.TERMINATION_URGENT: (Request.HOLD_EVICTION, Request.INVOLVE_BOLIGSOCIAL_TEAM),
            Level.EVICTION_EMERGENCY: (
                Request.POSTPONE_EVICTION,
                Request.MAKE_EMERGENCY_HOUSING_PLAN,
            ),
        }[level]
        asks = [Ask(municipal, mine)]
        if self.association_id:
            asks.insert(0, Ask(Addressee.ASSOCIATION, association))
        return tuple(asks)

    def _identified_asks(self) -> tuple[Ask, ...]:
        # The association need not learn that intake found the citizen; the municipality must.
        request = Request.CONTACT_CITIZEN if self.outreach_pending else Request.FOR_INFORMATION
        return (Ask(self._municipal(), request),)

    def _emit_flags(self, flags: list[Flag], now: dt.datetime) -> None:
        for flag in flags:
            request = (
                Request.MAKE_PLAN_OR_APPLY_FOR_HELP
                if flag is Flag.PROCESSING_EXCEEDS_PAKRAV_DEADLINE
                else Request.FOR_INFORMATION
            )
            self._emit(CaseFlagged, now, asks=(Ask(self._municipal(), request),), flag=flag)

    def _emit(
        self,
        event_cls: type[HousingEvent],
        now: dt.datetime,
        *,
        level: Level | None = None,
        asks: tuple[Ask, ...] | None = None,
        **extra: Any,
    ) -> HousingEvent:
        level = level if level is not None else self.level
        event = event_cls(
            case_id=self.case_id,
            occurred_at=now,
            level=level,
            next_deadline=self.next_deadline(),
            asks=asks if asks is not None else self._level_asks(level),
            association_id=self.association_id,
            tenancy_ref=self.tenancy_ref,
            citizen_ref=self.citizen_ref,
            hold_until=self.hold_until if level is Level.ESCALATED_TO_ASSOCIATION else None,
            **extra,
        )
        self._pending.append(event)
        return event
