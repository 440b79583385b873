"""The Danish words of coordination's worklists: dates, ladder levels, and the reason
each item gives for being on a list.

Pure: no I/O, no clock. Staff read these sentences on their screens, so they are
plain Danish; the English codes travel beside them (`reason_code`), never instead.
"""

from __future__ import annotations

import datetime as dt

from services.common.localtime import to_copenhagen

WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
          "september", "oktober", "november", "december")


def date_text(day: dt.date) -> str:
    """``15. marts 2021``."""
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"


def moment_text(moment: dt.datetime) -> str:
    """``tirsdag 2. marts 2021 kl. 10.00`` in Copenhagen time."""
    local = to_copenhagen(moment)
    return f"{WEEKDAYS[local.weekday()]} {date_text(local.date())} kl. {local:%H.%M}"


def days_text(days: int) -> str:
    return "1 dag" if days == 1 else f"{days} dage"


# --- coordinators: pathways awaiting a tovholder ------------------------------------------


def awaiting_reason(under_30: bool | None, waiting_days: int, since: dt.date) -> str:
    """Why a pathway is on the coordinators' list, with how long it has waited."""
    who = "Borger under 30 år venter" if under_30 else "Borgeren venter"
    waited = "siden i dag" if waiting_days <= 0 else \
        f"i {days_text(waiting_days)} (siden {date_text(since)})"
    return f"{who} på en tovholder {waited}."


# --- a tovholder or team member --------------------------------------------------------------


def pathway_reason(is_tovholder: bool, role: str | None, plan_state: str) -> str:
    """`plan_state`: "none" (no handleplan), "unagreed" (the newest version waits for
    the citizen's agreement) or "agreed"."""
    first = "Du er tovholder for forløbet." if is_tovholder else (
        f"Du er med i teamet som {role}." if role else "Du er med i teamet.")
    second = {
        "none": " Forløbet har ingen handleplan endnu.",
        "unagreed": " Den nyeste handleplan mangler borgerens godkendelse.",
    }.get(plan_state, "")
    return first + second


PLACES = {
    "home": "hjemme hos borgeren",
    "fronten": "i Fronten, Parkvej 10",
    "elsewhere": "et aftalt sted",
}


def meeting_reason(starts_at: dt.datetime, place: str, is_tovholder: bool) -> str:
    where = PLACES.get(place, "et aftalt sted")
    who = "Du er tovholder og leder mødet." if is_tovholder else "Du er inviteret."
    return f"Møde {moment_text(starts_at)} {where}. {who}"


def action_reason(due_on: dt.date, today: dt.date, owned: bool) -> str:
    """An action due or overdue, and why it is mine (I own it, or I am the tovholder)."""
    days = (due_on - today).days
    if days < 0:
        when = f"Handlingen er overskredet med {days_text(-days)} (frist {date_text(due_on)})."
    elif days == 0:
        when = "Handlingen skal være gjort i dag."
    else:
        when = f"Handlingen skal være gjort senest {date_text(due_on)}."
    whose = " Du er ansvarlig for den." if owned else " Du er tovholder for forløbet."
    return when + whose


# --- housing alerts ----------------------------------------------------------------------------

LEVELS = {
    "reported": "Huslejerestancen er anmeldt.",
    "outreach_due": "Borgeren skal kontaktes straks om huslejerestancen.",
    "escalated_to_association": "Boligforeningen er bedt om at vente med at ophæve lejemålet, "
                                "mens der laves en afdragsordning eller søges hjælp.",
    "termination_urgent": "Lejemålet er ophævet: det boligsociale team skal handle inden for "
                          "2 arbejdsdage.",
    "eviction_emergency": "Der er fastsat en dato for udsættelse: der skal laves en nødplan "
                          "for bolig.",
}

DEADLINE_KINDS = {
    "outreach": "kontakten til borgeren",
    "pakrav": "påkravsfristen",
    "hold_expires": "boligforeningens venteperiode",
    "help_decision": "afgørelsen om hjælp",
    "termination_response": "svaret på ophævelsen",
    "emergency_plan": "nødplanen for bolig",
}

REQUESTS = {
    "for_information": "Til orientering",
    "contact_citizen": "Kontakt borgeren",
    "make_plan_or_apply_for_help": "Lav en afdragsordning eller søg om hjælp",
    "hold_termination": "Bed boligforeningen vente med at ophæve",
    "involve_boligsocial_team": "Inddrag det boligsociale team",
    "hold_eviction": "Bed om at udsættelsen stilles i bero",
    "postpone_eviction": "Bed om at udsættelsen udskydes",
    "make_emergency_housing_plan": "Lav en nødplan for bolig",
    "chase_help_decision": "Følg op på afgørelsen om hjælp",
}


def housing_reason(*, late_help: bool, pakrav_deadline: dt.date | None,
                   short_pakrav: bool, overdue_kind: str | None, level: str) -> str:
    """The most urgent thing about a housing case, first."""
    if late_help:
        deadline = f" {date_text(pakrav_deadline)}" if pakrav_deadline else ""
        return (f"Hjælp efter § 81 a kan først komme efter påkravsfristen{deadline}. "
                "Kontakt borgeren og lav en plan nu.")
    if overdue_kind is not None:
        what = DEADLINE_KINDS.get(overdue_kind, "en frist")
        return f"Fristen for {what} i huslejesagen er overskredet. " + \
            LEVELS.get(level, "")
    if short_pakrav:
        deadline = f" ({date_text(pakrav_deadline)})" if pakrav_deadline else ""
        return f"Påkravsfristen{deadline} er kortere end lovens frist. " + LEVELS.get(level, "")
    return LEVELS.get(level, "Der er en huslejesag.")


# --- hand-offs needing the tovholder's attention ----------------------------------------------

OFFER_REFERRAL = "offer_referral"  # HandoffKind.OFFER_REFERRAL

HANDOFF_KINDS = {
    "bridging_employment": "brobygningen til beskæftigelse",
    "bridging_education": "brobygningen til uddannelse",
    "bridging_health": "brobygningen til sundhed",
    "referral_85": "henvisningen til en § 85-vurdering",
    "offer_referral": "henvisningen til tilbuddet",
    "hold_termination": "anmodningen om at vente med at ophæve lejemålet",
}


def handoff_reason(*, attention: str, handoff_kind: str, partner: str,
                   reason: str | None, answer_by: dt.date | None) -> str:
    """Why a hand-off is on the tovholder's list: the partner said no (with its reason),
    or it did not answer in time."""
    what = HANDOFF_KINDS.get(handoff_kind, "overdragelsen")
    if attention == "declined":
        why = f" Begrundelse: {reason.strip()}" if reason and reason.strip() else ""
        return f"{partner} har afvist {what}.{why} Aftal det videre med borgeren."
    deadline = f"; svarfristen var {date_text(answer_by)}" if answer_by else ""
    return f"{partner} har ikke svaret på {what}{deadline}. Følg op hos {partner}."


RESTRICTED = ("Borgeren har ikke givet samtykke til, at din organisation ser forløbet. "
              "Du er stadig med i teamet.")


def restricted_reason(role: str | None) -> str:
    """A team member from another agency without the citizen's consent (never given or
    withdrawn): they keep the membership, and see why they see nothing."""
    first = f"Du er med i teamet som {role}." if role else "Du er med i teamet."
    return f"{first} Borgeren har ikke givet samtykke til, at din organisation ser forløbet."
