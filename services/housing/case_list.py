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
    Level,
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
            if case.association_id:
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
    warning = warning_text(case)
    if warning is not None:
        return Flag.PROCESSING_EXCEEDS_PAKRAV_DEADLINE.value, warning
    level = case.level
    if level is Level.EVICTION_EMERGENCY:
        text = "Fogedretten har fastsat en dato for udsættelse."
    elif level is Level.TERMINATION_URGENT:
        text = "Udlejer har ophævet lejemålet."
    elif level is Level.ESCALATED_TO_ASSOCIATION:
        text = _ESCALATION_TEXT.get(case.escalation_reason, "Sagen er rykket et trin op.")
        if case.association_id:
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
    }
