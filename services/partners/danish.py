"""What people read: the Danish words beside every code of the partners service.

Pure. The asks are standard texts filled with dates and references only: no name, no
CPR number and no free text about the citizen ever goes into what a partner reads.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from contracts.vocabulary import HandoffKind, HandoffState, PartnerCategory

_MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
           "september", "oktober", "november", "december")

KIND_TEXT: dict[HandoffKind, str] = {
    HandoffKind.BRIDGING_EMPLOYMENT: "Brobygning til beskæftigelse",
    HandoffKind.BRIDGING_EDUCATION: "Brobygning til uddannelse",
    HandoffKind.BRIDGING_HEALTH: "Brobygning til sundhed",
    HandoffKind.REFERRAL_85: "Henvisning til vurdering efter servicelovens § 85",
    HandoffKind.OFFER_REFERRAL: "Henvisning til jeres tilbud",
    HandoffKind.HOLD_TERMINATION: "Anmodning om at vente med at ophæve lejemålet",
}

STATE_TEXT: dict[HandoffState, str] = {
    HandoffState.REQUESTED: "sendt",
    HandoffState.RECEIVED: "modtaget",
    HandoffState.ACCEPTED: "accepteret",
    HandoffState.DECLINED: "afvist",
    HandoffState.IN_PROGRESS: "i gang",
    HandoffState.COMPLETED: "afsluttet",
    HandoffState.CANCELLED: "annulleret",
}

OUTCOME_TEXT: dict[str, str] = {
    "started": "borgeren er startet",
    "not_started": "borgeren startede ikke",
    "enrolled": "borgeren er optaget",
    "not_enrolled": "borgeren blev ikke optaget",
    "withdrawn": "trukket tilbage",
    "granted": "støtte efter § 85 er bevilget",
    "refused": "støtte efter § 85 er afslået",
    "held": "boligforeningen ventede, og lejemålet blev ikke ophævet",
    "paid": "lejeren har betalt restancen",
    "terminated": "lejemålet er ophævet",
}

CATEGORY_TEXT: dict[PartnerCategory, str] = {
    PartnerCategory.EMPLOYMENT: "Beskæftigelse (jobcenter)",
    PartnerCategory.EDUCATION: "Uddannelse",
    PartnerCategory.HEALTH: "Sundhed og psykiatri",
    PartnerCategory.HOUSING: "Boligforening",
    PartnerCategory.SOCIAL_VEJLEDNING: "Social Vejledning (myndighed)",
    PartnerCategory.OFFER: "Kommunalt tilbud",
    PartnerCategory.VOLUNTEER: "Frivillig organisation",
}

CHANGE_TEXT = {
    "created": "Overdragelsen er sendt",
    "contact": "Ny kontaktperson",
    "escalated": "Ikke besvaret inden fristen: sendt videre til den ansvarlige",
}


def danish_date(day: dt.date) -> str:
    """A date as people read it in Danish: "9. april 2025"."""
    return f"{day.day}. {_MONTHS[day.month - 1]} {day.year}"


def _date(details: dict[str, Any], key: str) -> str | None:
    value = details.get(key)
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return danish_date(value) if isinstance(value, dt.date) else None


def ask(kind: HandoffKind, details: dict[str, Any], contact_name: str) -> str:
    """What the partner is asked, in Danish, from the kind and its typed details."""
    contact = f"Kontakt {contact_name} for at aftale overgangen."
    match kind:
        case HandoffKind.BRIDGING_EMPLOYMENT | HandoffKind.BRIDGING_EDUCATION | \
                HandoffKind.BRIDGING_HEALTH:
            area = {HandoffKind.BRIDGING_EMPLOYMENT: "beskæftigelse",
                    HandoffKind.BRIDGING_EDUCATION: "uddannelse",
                    HandoffKind.BRIDGING_HEALTH: "sundhed"}[kind]
            text = f"Vi beder jer tage imod borgeren i brobygning til {area}"
            due = _date(details, "due_on")
            text += f" fra {due}." if due else "."
            end = _date(details, "planned_end")
            if end:
                text += f" Borgerens forløb i Fronten slutter efter planen {end}."
            return f"{text} {contact}"
        case HandoffKind.REFERRAL_85:
            referred = _date(details, "referred_on")
            when = f" Fronten henviste {referred}." if referred else ""
            return ("Vi beder Social Vejledning vurdere, om borgeren skal have "
                    f"socialpædagogisk støtte efter servicelovens § 85.{when} "
                    f"Kontakt {contact_name}, hvis I har spørgsmål.")
        case HandoffKind.OFFER_REFERRAL:
            return ("Borgerens tovholder beder jer tage imod borgeren i jeres tilbud. "
                    f"Kontakt {contact_name} for at høre mere og aftale en start.")
        case HandoffKind.HOLD_TERMINATION:
            tenancy = details.get("tenancy_ref")
            which = f"lejemål {tenancy}" if tenancy else "lejemålet"
            until = _date(details, "hold_until_requested")
            wait = f" til og med {until}" if until else ""
            return (f"Vi beder jer vente med at ophæve {which}{wait}, mens kommunen "
                    "hjælper lejeren med en afdragsordning eller en ansøgning om hjælp. "
                    f"Svar, om I venter, og til hvilken dag. Kontakt {contact_name}, hvis "
                    "I har spørgsmål.")
    raise ValueError(f"no ask for {kind}")  # pragma: no cover - every kind is matched


def status_title(kind: HandoffKind, state: HandoffState, partner_name: str, *,
                 by_partner: bool, outcome: str | None = None,
                 hold_until: dt.date | None = None) -> str:
    """The Danish status line of a change, e.g. "Brobygning til beskæftigelse:
    afvist af Jobcenter Ballerup"."""
    text = f"{KIND_TEXT[kind]}: {STATE_TEXT[state]}"
    if by_partner:
        text += f" af {partner_name}"
    elif state is HandoffState.CANCELLED:
        text += " af kommunen"
    if outcome:
        text += f" ({OUTCOME_TEXT.get(outcome, outcome)})"
    if hold_until:
        text += f", venter med ophævelse til og med {danish_date(hold_until)}"
    return text


def history_text(change: str, from_state: str | None, to_state: str | None) -> str:
    """One line of a hand-off's history, in Danish."""
    if change == "state" and to_state:
        before = STATE_TEXT[HandoffState(from_state)] if from_state else ""
        after = STATE_TEXT[HandoffState(to_state)]
        return f"Ændret fra {before} til {after}" if before else f"Ændret til {after}"
    return CHANGE_TEXT.get(change, change)
