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


def add_labels(kind: str, words: dict[str, str]) -> None:
    """An area's own codes and their Danish words (each pages module adds its own)."""
    LABELS.setdefault(kind, {}).update(words)


def add_rule_texts(texts: dict[str, str]) -> None:
    """An area's own rule codes and what a person reads when they are broken."""
    RULE_TEXTS.update(texts)


def label(kind: str, code: Any) -> str:
    """The Danish word for `code` of `kind`; never the code itself."""
    if code is None or code == "":
        return ""
    found = LABELS.get(kind, {}).get(str(code))
    return found if found is not None else "(ukendt værdi)"


def filters() -> dict[str, Any]:
    """Jinja2 filters for the templates."""
    return {"dato": date, "kort_dato": short_date, "klokken": time_of_day,
            # `code | label("kind")`: Jinja passes the value first.
            "tidspunkt": datetime, "dage": days_left,
            "label": lambda code, kind: label(kind, code),
            "label_role": lambda code: label("role", code)}


# -- error messages, next to their fields --------------------------------------------------

# The services' rules (DomainError.rule) a person can meet in a form, in Danish.
RULE_TEXTS = {
    "citizen.unknown": "Borgeren er ikke registreret. Registrér borgeren først, eller lad "
                       "feltet stå tomt ved anonym rådgivning.",
    "course.before_inquiry": "Forløbet kan ikke starte før henvendelsen.",
    "course.citizen_unknown": "Henvendelsen har ingen registreret borger.",
    "course.end_before_messages": "Forløbet kan ikke slutte før en dato, hvor der allerede er "
                                  "sendt besked om det.",
    "cpr_in_text": "Skriv ikke CPR-nummeret her. Det hører kun til i feltet CPR-nummer.",
    "cpr.format": "Et CPR-nummer har 10 cifre: DDMMÅÅ-LLLL.",
    "cpr.date": "CPR-nummeret begynder ikke med en rigtig dato.",
    "nul_character": "Teksten indeholder et ugyldigt tegn.",
    "date_out_of_range": "Angiv en dato mellem år 1800 og 2999.",
    "consent.missing": "Borgeren har ikke givet samtykke til at dele oplysninger med denne "
                       "forvaltning.",
    "not_found": "Findes ikke, eller du har ikke adgang.",
    "cursor": "Listen er ændret. Start forfra.",
}


def error_text(error: dict[str, Any]) -> str:
    """A service's error about a field, in Danish: by its rule where we know it, by the
    shape of marshmallow's message otherwise; never the English text itself."""
    rule = str(error.get("rule") or "")
    if rule in RULE_TEXTS:
        return RULE_TEXTS[rule]
    message = str(error.get("message") or "")
    if "Missing data" in message or "may not be null" in message or "Field may not be" in message:
        return "Skal udfyldes."
    if "Shorter than minimum length" in message:
        return "Vælg eller skriv mindst én." if "1" in message else "Teksten er for kort."
    if "Longer than maximum length" in message:
        return "Teksten er for lang."
    if "Must be one of" in message or ("Not a valid" in message and "enum" in message.lower()):
        return "Vælg en af mulighederne."
    if "Not a valid date" in message or "Not a valid datetime" in message:
        return "Angiv en gyldig dato."
    if "Not a valid integer" in message or "Not a valid number" in message:
        return "Angiv et tal."
    if "Not a valid email" in message:
        return "Angiv en gyldig e-mailadresse."
    if "Not a valid UUID" in message:
        return "Vælg fra listen."
    return "Tjek dette felt."
