"""Danish for the screen: dates as people read them, and the words for every code.

"torsdag 13. maj 2021 kl. 10.00"; English codes never reach the screen: every code a
page shows goes through `label(kind, code)`, which falls back to a plain Danish phrase,
never the code itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.common.localtime import COPENHAGEN

WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
          "september", "oktober", "november", "december")


def _moment(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("a naive time cannot be shown: which zone?")
        return value.astimezone(COPENHAGEN)
    return None


def _day(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10]) if len(value) == 10 else (
            _moment(value).date() if _moment(value) else None)  # type: ignore[union-attr]
    if isinstance(value, dt.datetime):
        moment = _moment(value)
        return moment.date() if moment else None
    if isinstance(value, dt.date):
        return value
    return None


def date(value: Any, weekday: bool = True) -> str:
    """"torsdag 13. maj 2021" (a Copenhagen day)."""
    day = _day(value)
    if day is None:
        return ""
    text = f"{day.day}. {MONTHS[day.month - 1]} {day.year}"
    return f"{WEEKDAYS[day.weekday()]} {text}" if weekday else text


def short_date(value: Any) -> str:
    """"13. maj 2021"."""
    return date(value, weekday=False)


def time_of_day(value: Any) -> str:
    """"10.00" (Danish uses a full stop between hours and minutes)."""
    moment = _moment(value)
    return "" if moment is None else f"{moment.hour:02d}.{moment.minute:02d}"


def datetime(value: Any) -> str:
    """"torsdag 13. maj 2021 kl. 10.00"."""
    moment = _moment(value)
    return "" if moment is None else f"{date(moment)} kl. {time_of_day(moment)}"


def days_left(days: int | None) -> str:
    """"i dag", "i morgen", "om 5 dage", "1 dag over fristen", "12 dage over fristen"."""
    if days is None:
        return ""
    if days == 0:
        return "i dag"
    if days == 1:
        return "i morgen"
    if days > 1:
        return f"om {days} dage"
    late = -days
    return f"{late} dag over fristen" if late == 1 else f"{late} dage over fristen"


# -- the words for codes ------------------------------------------------------------------------

LABELS: dict[str, dict[str, str]] = {
    "role": {
        "fronten": "Fronten", "tovholder": "Tovholder", "coordinator": "Koordinator",
        "review_panel": "Tværgående udvalg", "social_vejledning": "Social Vejledning",
        "housing_officer": "Boligsocial medarbejder", "operator": "Drift",
        "partner": "Samarbejdspartner",
    },
    "agency": {
        "social_services": "Socialforvaltningen", "jobcenter": "Jobcenter", "school": "Skole",
        "upoint": "Upoint", "psychiatry_health": "Psykiatri og sundhed",
        "housing": "Boligrådgivning", "mentor": "Mentor",
    },
    "channel": {"walk_in": "Personligt fremmøde", "phone": "Telefon", "mail": "Mail",
                "digital_form": "Digital formular"},
    "inquirer_kind": {"citizen": "Borgeren selv", "relative": "Pårørende",
                      "professional": "Fagperson"},
    "topic": {
        "housing": "Bolig", "economy": "Overblik over økonomi",
        "loneliness": "Følelser og ensomhed", "addiction": "Misbrug",
        "mental_health": "Psykiske vanskeligheder", "physical_health": "Fysiske vanskeligheder",
        "education": "Uddannelse", "employment": "Beskæftigelse",
        "everyday_structure": "Struktur på hverdagen", "social_anxiety": "Social angst",
        "network": "Dialog med netværk", "rent_arrears": "Huslejerestance", "other": "Andet",
    },
    "outcome": {
        "advice_only": "Råd og vejledning", "group_course_82a": "Gruppeforløb (§ 82 a)",
        "social_skills_training": "Social Færdighedstræning",
        "individual_course_82b": "Individuelt forløb (§ 82 b)",
        "referral_85": "Henvist til § 85-udredning",
        "referral_pathway": "Henvist til sammenhængende borgerforløb",
        "referral_other": "Henvist til andet tilbud",
    },
    "course_kind": {"group_82a": "Gruppeforløb (§ 82 a)", "sft": "Social Færdighedstræning",
                    "individual_82b": "Individuelt forløb (§ 82 b)"},
    "meeting_place": {"home": "Hjemme hos borgeren", "fronten": "Fronten, Parkvej 10",
                      "elsewhere": "Andet sted"},
    "partner_kind": {"employment": "Jobcenter", "education": "Uddannelse",
                     "health": "Sundhed", "housing": "Boligforening"},
}


def label(kind: str, code: Any) -> str:
    """The Danish word for `code` of `kind`; never the code itself."""
    if code is None or code == "":
        return ""
    found = LABELS.get(kind, {}).get(str(code))
    return found if found is not None else "(ukendt værdi)"


def filters() -> dict[str, Any]:
    """Jinja2 filters for the templates."""
    return {"dato": date, "kort_dato": short_date, "klokken": time_of_day,
            "tidspunkt": datetime, "dage": days_left, "label": label,
            "label_role": lambda code: label("role", code)}
