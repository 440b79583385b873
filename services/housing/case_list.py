"""The housing officers' worklist of arrears cases: its order, and what each item says.

Pure: no database, no clock (`today` is passed in). The service stores each case's
sort key on its row and pages with `services.common.worklist`.

**The order** (DOMAIN.md: "the case whose § 81 a processing would end after the påkrav
deadline comes first"):

1. cases on which the **§ 81 a warning** stands: help applied for now would be decided
   after the påkrav deadline (the ladder's flag `processing_exceeds_pakrav_deadline`),
   and neither an afdragsordning is agreed nor help granted yet;
2. then the **nearest deadline**: the ladder's next stored deadline, earliest first;
   open cases with no deadline come last;
3. then the case id, so that every case has its own place (the keyset cursor needs it).

**Stable while listed**: the sort key is computed when the case is saved and stored
on its row (`sort_key`), never from the clock when the list is read. A case moves on
the list only when the case itself changes (a report, a command, a deadline fired by
the sweep), so a cursor stays valid while the days pass and while cases are added.

Closed cases are a list of their own: most recently closed first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.housing.ladder import (
    ArrearsCase,
    Closure,
    DeadlineKind,
    EscalationReason,
    Flag,
    HelpParagraph,
    HelpStatus,
    HoldAnswer,
    Level,
    PaymentPlanStatus,
    local,
)

#: Where an open case with no stored deadline sorts: after every real deadline.
NO_DEADLINE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)

#: Sort ranks, lowest first.
PRIORITY_HELP_TOO_LATE = 0
PRIORITY_OTHER = 1

_MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
           "september", "oktober", "november", "december")

LEVEL_TEXT = {
    Level.REPORTED: "Restance meldt",
    Level.OUTREACH_DUE: "Borgeren skal kontaktes",
    Level.ESCALATED_TO_ASSOCIATION: "Boligforeningen bedt om at vente",
    Level.TERMINATION_URGENT: "Lejemålet er ophævet",
    Level.EVICTION_EMERGENCY: "Udsættelse fastsat",
}

CLOSURE_TEXT = {
    Closure.TENANCY_KEPT: "restancen er betalt, og borgeren beholder sin bolig",
    Closure.TENANCY_LOST: "borgeren har mistet lejemålet",
    Closure.TENANCY_ENDED: "lejemålet er ophørt",
}

_ESCALATION_TEXT: dict[EscalationReason | None, str] = {
    EscalationReason.NO_CONTACT_BY_DEADLINE: "Borgeren blev ikke kontaktet inden fristen.",
    EscalationReason.NO_PLAN_BY_PAKRAV_DEADLINE:
        "Påkravsfristen er gået uden en afdragsordning eller bevilget hjælp.",
    EscalationReason.PAYMENT_PLAN_BROKEN: "Afdragsordningen er brudt.",
    EscalationReason.HELP_REFUSED: "Ansøgningen om hjælp er afslået.",
}

_PARAGRAPH_TEXT = {
    HelpParagraph.AKTIVLOVEN_81A: "aktivlovens § 81 a",
    HelpParagraph.AKTIVLOVEN_81B: "aktivlovens § 81 b",
}


def danish_date(day: dt.date) -> str:
    """A date as people read it in Danish: "20. marts 2025"."""
    return f"{day.day}. {_MONTHS[day.month - 1]} {day.year}"


# ------------------------------------------------------------------------------- order


def help_too_late(case: ArrearsCase) -> bool:
    """Does the § 81 a warning stand? Help applied for now would be decided after the
    påkrav deadline (the ladder flagged it), and nothing settles the arrears yet."""
    return (
        case.is_open
        and Flag.PROCESSING_EXCEEDS_PAKRAV_DEADLINE in case.flags
        and not case.plan_settled
    )


@dataclass(frozen=True)
class SortKey:
    """What the list sorts on (with the case id last); stored on the case's row."""

    priority: int
    due_at: dt.datetime


def sort_key(case: ArrearsCase) -> SortKey:
    """The case's place on the officers' list: the § 81 a warning first, then the
    nearest deadline (none: last)."""
    priority = PRIORITY_HELP_TOO_LATE if help_too_late(case) else PRIORITY_OTHER
    deadline = case.next_deadline() if case.is_open else None
    due_at = deadline.due.astimezone(dt.UTC) if deadline else NO_DEADLINE
    return SortKey(priority, due_at)


# ---------------------------------------------------------------------- what it says


def last_day(due: dt.datetime, case: ArrearsCase) -> dt.date:
    """The last Copenhagen day on which a deadline due at `due` is still met: a date
    deadline is stored as the following midnight, so that day is the one before."""
    return local(due - dt.timedelta(microseconds=1), case.settings.tz).date()


@dataclass(frozen=True)
class NextStep:
    """What the municipality must do next, by when, and what happens if it does not."""

    code: str  # the deadline kind, or "follow_up" / "none" without a deadline
    text: str  # in Danish, for the screen
    due_at: dt.datetime | None
    due_on: dt.date | None


def _if_missed(case: ArrearsCase) -> str:
    if case.association_id:
        return ("Ellers rykker sagen et trin op, og boligforeningen bliver bedt om at "
                "vente med at ophæve lejemålet.")
    return "Ellers rykker sagen et trin op."


def next_step(case: ArrearsCase) -> NextStep:
    """The next step on the ladder, in Danish."""
    if not case.is_open:
        return NextStep("none", "Sagen er lukket. Der er intet at gøre.", None, None)
    deadline = case.next_deadline()
    if deadline is None:
        return NextStep("follow_up", _without_deadline(case), None, None)
    day = last_day(deadline.due, case)
    on = danish_date(day)
    match deadline.kind:
        case DeadlineKind.OUTREACH:
            text = f"Kontakt borgeren senest {on}. {_if_missed(case)}"
        case DeadlineKind.PAKRAV:
            text = (f"Aftal en afdragsordning, eller få hjælp bevilget, inden påkravsfristen "
                    f"{on}. {_if_missed(case)}")
        case DeadlineKind.HOLD_EXPIRES:
            if case.hold_answer is HoldAnswer.GRANTED:
                text = (f"Boligforeningen har lovet at vente med at ophæve lejemålet til og "
                        f"med {on}. Aftal en afdragsordning, eller søg hjælp, inden da.")
            elif case.association_id:
                text = (f"Boligforeningen er bedt om at vente med at ophæve lejemålet til og "
                        f"med {on}. Aftal en afdragsordning, eller søg hjælp, inden da.")
            else:
                text = f"Aftal en afdragsordning, eller søg hjælp, senest {on}."
        case DeadlineKind.HELP_DECISION:
            paragraph = _PARAGRAPH_TEXT.get(case.help_paragraph or HelpParagraph.AKTIVLOVEN_81A)
            text = (f"Ansøgningen om hjælp efter {paragraph} forventes afgjort senest {on}. "
                    "Følg op, hvis der ikke er en afgørelse.")
        case DeadlineKind.TERMINATION_RESPONSE:
            text = f"Lejemålet er ophævet. Inddrag det boligsociale team senest {on}."
        case DeadlineKind.EMERGENCY_PLAN:
            eviction = danish_date(case.eviction_date) if case.eviction_date else "fastsat"
            text = f"Udsættelsen er den {eviction}. Lav en nødboligplan senest {on}."
    return NextStep(deadline.kind.value, text, deadline.due, day)


def _without_deadline(case: ArrearsCase) -> str:
    match case.level:
        case Level.EVICTION_EMERGENCY:
            return ("Nødboligplanen er lavet. Registrér, når udsættelsen er afblæst, eller "
                    "luk sagen.")
        case Level.TERMINATION_URGENT:
            return ("Det boligsociale team er inddraget. Registrér, når ophævelsen er trukket "
                    "tilbage, eller luk sagen.")
    if case.plan_settled:
        return "Følg afdragsordningen eller hjælpen, og registrér, når restancen er betalt."
    return "Ingen frist lige nu. Følg sagen, og registrér, når restancen er betalt."


def warning_text(case: ArrearsCase) -> str | None:
    """The § 81 a warning in Danish, or None when it does not stand."""
    if not help_too_late(case) or case.pakrav_deadline is None:
        return None
    days = case.settings.expected_processing_days
    return (f"Hjælp efter aktivlovens § 81 a kan ikke nå at blive afgjort før "
            f"påkravsfristen {danish_date(case.pakrav_deadline)} (behandlingstiden er "
            f"omkring {days} dage). Aftal en afdragsordning, eller bed boligforeningen "
            "om at vente.")


def reason(case: ArrearsCase) -> tuple[str, str]:
    """Why the case is on the list: a stable code and a Danish sentence."""
    if not case.is_open:
        closure = case.closure or Closure.TENANCY_ENDED
        return "case_closed", f"Sagen er lukket: {CLOSURE_TEXT[closure]}."
    level = case.level
    # The association's answer comes first: it changes what the officers must do now.
    if case.hold_answer is HoldAnswer.PAID:
        # Paid, but an ophævelse or udsættelse stands: the case cannot close by itself.
        return "association_reports_paid", (
            "Boligforeningen oplyser, at restancen er betalt. Registrér, at ophævelsen er "
            "trukket tilbage (og at udsættelsen er afblæst), og derefter betalingen.")
    if level is Level.ESCALATED_TO_ASSOCIATION and case.hold_answer is HoldAnswer.REFUSED:
        return "hold_refused", (
            "Boligforeningen har afvist at vente med at ophæve lejemålet. Aftal en "
            "afdragsordning, eller søg hjælp, straks.")
    warning = warning_text(case)
    if warning is not None:
        return Flag.PROCESSING_EXCEEDS_PAKRAV_DEADLINE.value, warning
    if level is Level.EVICTION_EMERGENCY:
        text = "Fogedretten har fastsat en dato for udsættelse."
    elif level is Level.TERMINATION_URGENT:
        text = "Udlejer har ophævet lejemålet."
    elif level is Level.ESCALATED_TO_ASSOCIATION:
        text = _ESCALATION_TEXT.get(case.escalation_reason, "Sagen er rykket et trin op.")
        if case.hold_answer is HoldAnswer.GRANTED and case.hold_granted_until:
            text += (" Boligforeningen venter med at ophæve lejemålet til og med "
                     f"{danish_date(case.hold_granted_until)}.")
        elif case.association_id:
            text += " Boligforeningen er bedt om at vente med at ophæve lejemålet."
    elif level is Level.OUTREACH_DUE:
        text = "Huslejerestance: borgeren skal kontaktes straks."
    elif case.plan_settled:
        text = "Huslejerestance med aftalt afdragsordning eller bevilget hjælp."
    else:
        text = "Huslejerestance: borgeren er kontaktet."
    return level.value, text


def details(case: ArrearsCase, today: dt.date) -> dict[str, Any]:
    """The list's own fields of an item (docs/housing.md explains each)."""
    step = next_step(case)
    pakrav = case.pakrav_deadline
    tz = case.settings.tz
    return {
        "level": case.level.value,
        "level_text": LEVEL_TEXT[case.level],
        "help_too_late": help_too_late(case),
        "warning": warning_text(case),
        "pakrav_deadline": pakrav.isoformat() if pakrav else None,
        "pakrav_days_left": (pakrav - today).days if pakrav else None,
        "next_step": step.code,
        "next_step_text": step.text,
        "association_id": case.association_id,
        "tenancy_ref": case.tenancy_ref,
        "amount_dkk": str(case.amount_dkk) if case.amount_dkk is not None else None,
        "months_behind": case.months_behind,
        "reported_on": local(case.reported_at, tz).date().isoformat(),
        "is_open": case.is_open,
        "closure": case.closure.value if case.closure else None,
        "closed_on": local(case.closed_at, tz).date().isoformat() if case.closed_at else None,
        "hold_answer": case.hold_answer.value if case.hold_answer else None,
        "hold_granted_until": _iso(case.hold_granted_until),
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


# ------------------------------------------------------------ the association's own list
# What a housing association sees of its cases (`association_cases`): the allow-list
# of contracts.housing.PARTNER_CASE_FIELDS, never the citizen, amounts or our notes. Its
# "deadline" is the date that matters to the association: until when we ask it to hold
# (or it promised to), the udsættelse date, or its own påkrav deadline.

#: Where a case with no date for the association sorts on its list: last.
PARTNER_NO_DUE = dt.date(9999, 12, 31)


def partner_due_on(case: ArrearsCase) -> dt.date | None:
    """The date that matters to the association on this case, or None."""
    if not case.is_open or not case.association_id:
        return None
    match case.level:
        case Level.EVICTION_EMERGENCY:
            return case.eviction_date
        case Level.TERMINATION_URGENT:
            return None
        case Level.ESCALATED_TO_ASSOCIATION:
            if case.hold_answer is HoldAnswer.GRANTED:
                return case.hold_granted_until
            if case.hold_answer is HoldAnswer.REFUSED:
                return None
            return case.hold_until
    return None if case.plan_settled else case.pakrav_deadline


def partner_sort_due(case: ArrearsCase) -> dt.date:
    """The stored sort key of the association's list (never NULL)."""
    return partner_due_on(case) or PARTNER_NO_DUE


def partner_reason(case: ArrearsCase) -> tuple[str, str]:
    """Where the case stands, for the association: a code (the statuses' vocabulary
    where one fits) and a Danish sentence addressed to the association."""
    if not case.is_open:
        return "case_closed", "Sagen er lukket."
    match case.level:
        case Level.EVICTION_EMERGENCY:
            day = danish_date(case.eviction_date) if case.eviction_date else "den fastsatte dag"
            return "postpone_eviction_requested", (
                f"Udsættelsen er fastsat til {day}. Kommunen beder jer udsætte den, mens "
                "der laves en plan for lejeren.")
        case Level.TERMINATION_URGENT:
            return "hold_eviction_requested", (
                "Lejemålet er ophævet. Kommunen beder jer vente med at begære udsættelse, "
                "mens kommunen hjælper lejeren.")
        case Level.ESCALATED_TO_ASSOCIATION:
            if case.hold_answer is HoldAnswer.GRANTED and case.hold_granted_until:
                return "hold_granted", (
                    "I har svaret, at I venter med at ophæve lejemålet til og med "
                    f"{danish_date(case.hold_granted_until)}.")
            if case.hold_answer is HoldAnswer.REFUSED:
                return "hold_refused", (
                    "I har svaret, at I ikke kan vente med at ophæve lejemålet. Kommunen "
                    "arbejder videre med sagen.")
            until = f" til og med {danish_date(case.hold_until)}" if case.hold_until else ""
            return "hold_termination_requested", (
                f"Kommunen beder jer vente med at ophæve lejemålet{until}. Svar venligst "
                "på anmodningen.")
    if case.payment_plan is PaymentPlanStatus.AGREED:
        return "payment_plan_agreed", "Der er aftalt en afdragsordning."
    if case.help_status is HelpStatus.GRANTED:
        return "help_granted", "Kommunen har bevilget hjælp til restancen."
    if case.level is Level.OUTREACH_DUE:
        return "outreach_started", "Restancen er registreret. Kommunen kontakter lejeren."
    return "contact_established", "Kommunen har kontakt med lejeren."


def partner_details(case: ArrearsCase) -> dict[str, Any]:
    """The association's list's own fields (docs/housing.md explains each)."""
    tz = case.settings.tz
    request = case.association_request()
    return {
        "tenancy_ref": case.tenancy_ref,
        "level": case.level.value,
        "requested": request.value if request else None,
        "hold_until": _iso(case.hold_until),
        "hold_answer": case.hold_answer.value if case.hold_answer else None,
        "hold_granted_until": _iso(case.hold_granted_until),
        "termination_on": _iso(case.termination_on),
        "eviction_date": _iso(case.eviction_date),
        "reported_on": local(case.reported_at, tz).date().isoformat(),
        "is_open": case.is_open,
        "closure": case.closure.value if case.closure else None,
        "closed_on": local(case.closed_at, tz).date().isoformat() if case.closed_at else None,
    }
