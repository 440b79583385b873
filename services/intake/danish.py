"""What Fronten's staff read on their worklists: plain Danish, from one place. Pure.

Each `*_reason` function says why an item is on a list and by when, from plain
values, so that the wording is tested without a database. Codes (`reason_code`)
travel beside the text for programs; people read only the text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

MONTHS = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)

COURSE_KINDS = {
    "group_82a": "gruppeforløb (§ 82 a)",
    "sft": "Social Færdighedstræning",
    "individual_82b": "individuelt forløb (§ 82 b)",
}
BRIDGING_PARTNERS = {
    "employment": "beskæftigelse (jobcenteret)",
    "education": "uddannelse",
    "health": "sundhed",
}
CHANNELS = {
    "walk_in": "personligt fremmøde",
    "phone": "telefon",
    "mail": "mail",
    "digital_form": "digital formular",
}
INQUIRERS = {
    "citizen": "borgeren selv",
    "relative": "en pårørende",
    "professional": "en fagperson",
}
FLAG_SUBJECTS = {
    "course": "Et forløb i Fronten er startet",
    "pathway_referral": "Borgeren er henvist til et sammenhængende borgerforløb",
    "referral_85": "Borgeren er henvist til udredning efter servicelovens § 85",
}


def date_text(day: dt.date) -> str:
    """9. maj 2018."""
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"


def _words(values: Iterable[str], names: dict[str, str]) -> str:
    words = [names.get(v, v) for v in values]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " og " + words[-1]


def course_kind(kind: str) -> str:
    return COURSE_KINDS.get(kind, kind)


def open_inquiry_reason(
    *, registered_on: dt.date, channel: str, inquirer_kind: str, anonymous: bool,
    today: dt.date,
) -> tuple[str, str]:
    """(reason_code, text) for an inquiry that has no outcome yet."""
    who = "anonym henvendelse" if anonymous else "henvendelse"
    waited = (today - registered_on).days
    since = "i dag" if waited <= 0 else f"den {date_text(registered_on)}"
    waiting = "" if waited <= 0 else (
        " Den har ventet 1 dag." if waited == 1 else f" Den har ventet {waited} dage."
    )
    text = (
        f"{who[0].upper()}{who[1:]} fra {INQUIRERS.get(inquirer_kind, inquirer_kind)} "
        f"({CHANNELS.get(channel, channel)}) {since} har endnu ikke fået et udfald.{waiting}"
    )
    return "inquiry_open", text


def follow_up_reason(*, follow_up_on: dt.date, kind: str, today: dt.date) -> tuple[str, str]:
    if follow_up_on >= today:
        return "follow_up_due", (
            f"Opfølgning med borgeren i {course_kind(kind)} er aftalt til i dag, "
            f"{date_text(follow_up_on)}."
        )
    return "follow_up_overdue", (
        f"Opfølgningen aftalt til {date_text(follow_up_on)} ({course_kind(kind)}) er ikke "
        "registreret som holdt."
    )


def bridging_reason(
    *, bridging_due_on: dt.date, planned_end: dt.date, partner_kinds: list[str],
    told: list[str],
) -> tuple[str, str]:
    if not partner_kinds:
        return "bridging_partner_missing", (
            f"Brobygningen skulle begynde {date_text(bridging_due_on)}, men der er ikke "
            "valgt en samarbejdspartner (beskæftigelse, uddannelse eller sundhed). "
            f"Forløbet slutter {date_text(planned_end)}."
        )
    partners = _words(sorted(partner_kinds), BRIDGING_PARTNERS)
    if set(partner_kinds) <= set(told):
        return "bridging_in_progress", (
            f"Brobygning til {partners} er i gang siden {date_text(bridging_due_on)} og skal "
            f"være på plads, før forløbet slutter {date_text(planned_end)}."
        )
    return "bridging_due", (
        f"Brobygning til {partners} begynder {date_text(bridging_due_on)}; den skal være på "
        f"plads, før forløbet slutter {date_text(planned_end)}."
    )


def agenda_reason(
    *, kind: str, planned_end: dt.date, requested_on: dt.date | None,
) -> tuple[str, str]:
    if requested_on is None:
        return "review_not_requested", (
            f"Forløbet ({course_kind(kind)}) slutter planmæssigt {date_text(planned_end)} og er "
            "endnu ikke sendt til det tværgående udvalg. Fronten skal anmode om behandling."
        )
    return "review_requested", (
        f"Forløbet ({course_kind(kind)}) slutter planmæssigt {date_text(planned_end)}. Fronten "
        f"bad om udvalgets behandling {date_text(requested_on)}; udvalget skal tage stilling "
        "inden slutdatoen."
    )


def end_overdue_reason(
    *, kind: str, planned_end: dt.date, max_end: dt.date | None,
    requested_on: dt.date | None, decision: str | None, decided_on: dt.date | None,
) -> tuple[str, str]:
    head = f"Forløbet ({course_kind(kind)}) skulle slutte {date_text(planned_end)}"
    limit = "" if max_end is None else f" Det skal være afsluttet senest {date_text(max_end)}."
    if decision in ("end", "refer_85") and decided_on is not None:
        return "end_approved_not_ended", (
            f"{head}. Det tværgående udvalg godkendte afslutningen {date_text(decided_on)}, men "
            f"forløbet er ikke afsluttet.{limit}"
        )
    if requested_on is not None:
        return "end_overdue_review_pending", (
            f"{head}, og det tværgående udvalg har endnu ikke truffet afgørelse.{limit}"
        )
    return "end_overdue_no_review", (
        f"{head}, men det er ikke sendt til det tværgående udvalg.{limit}"
    )


def ending_proposed_reason(
    *, proposed_on: dt.date, last_kept_on: dt.date | None, start_date: dt.date,
) -> tuple[str, str]:
    since = (
        f"siden den sidst overholdte aftale {date_text(last_kept_on)}"
        if last_kept_on is not None
        else f"siden forløbet begyndte {date_text(start_date)}"
    )
    return "ending_proposed", (
        f"Borgeren har ikke overholdt aftaler i 4 uger {since}. Afslutning blev foreslået "
        f"{date_text(proposed_on)}: bekræft afslutningen, eller registrér at borgeren er på "
        "rette spor igen."
    )


def referral_85_reason(
    *, referred_on: dt.date, kind: str, answer_by: dt.date,
) -> tuple[str, str]:
    return "referral_85_awaiting", (
        f"Henvist til udredning efter servicelovens § 85 {date_text(referred_on)} fra "
        f"Fronten ({course_kind(kind)}). Social Vejledning bedes træffe afgørelse senest "
        f"{date_text(answer_by)}."
    )


def outside_target_group_reason(*, subject: str, age: int, on: dt.date) -> tuple[str, str]:
    what = FLAG_SUBJECTS.get(subject, subject)
    return "outside_target_group", (
        f"{what}, men borgeren var {age} år {date_text(on)} og dermed uden for målgruppen "
        "(16 år til folkepensionsalderen). Tag stilling til, om det skal fortsætte."
    )


# --- consent and hand-offs (issues 10 and 16) ------------------------------------------

AGENCIES = {
    "social_services": "Socialforvaltningen",
    "jobcenter": "Jobcenteret",
    "school": "Skolen",
    "upoint": "Upoint (specialiseret ungeindsats)",
    "psychiatry_health": "Psykiatrien og sundhed",
    "housing": "Boligrådgivningen",
    "mentor": "Mentor",
}
CONSENT_PURPOSES = {
    "bridging_employment": "brobygning til beskæftigelse",
    "bridging_education": "brobygning til uddannelse",
    "bridging_health": "brobygning til sundhed",
    "pathway_team": "samarbejde i et sammenhængende borgerforløb",
    "keep_home": "at fastholde boligen",
    "offer_referral": "henvisning til et andet tilbud",
}
INFORMATION_KINDS = {
    "contact_status": "om Fronten har kontakt med borgeren",
    "course_status": "forløbets status",
    "meeting_schedule": "tid og sted for møder",
    "housing_case_status": "huslejesagens status",
    "bridging_status": "brobygningen",
    "action_plan": "handleplanens handlinger",
}
CORRECTIONS = {
    "recipient_unknown": "Modtageren er skrevet som fri tekst og findes ikke i listen over "
    "samarbejdspartnere og forvaltninger",
    "purpose_unknown": "Formålet er skrevet som fri tekst og passer ikke til et af de faste "
    "formål",
    "recipient_and_purpose_unknown": "Både modtager og formål er skrevet som fri tekst",
    "recipient_not_in_directory": "Modtageren findes ikke i partnerkataloget",
}
HANDOFF_KINDS = {
    "bridging_employment": "Brobygning til beskæftigelse",
    "bridging_education": "Brobygning til uddannelse",
    "bridging_health": "Brobygning til sundhed",
    "referral_85": "Henvisning til § 85-vurdering",
    "offer_referral": "Henvisning til et andet tilbud",
    "hold_termination": "Anmodning om at stille ophævelsen i bero",
}
HANDOFF_STATES = {
    "requested": "sendt",
    "received": "modtaget",
    "accepted": "accepteret",
    "declined": "afvist",
    "in_progress": "i gang",
    "completed": "afsluttet",
    "cancelled": "annulleret",
}
REFERRAL_85_OUTCOMES = {
    "granted": "bevilget",
    "refused": "afslået",
    "withdrawn": "trukket tilbage",
}


def agency(code: str) -> str:
    return AGENCIES.get(code, code)


def consent_purpose(code: str) -> str:
    return CONSENT_PURPOSES.get(code, code)


def information_kind(code: str) -> str:
    return INFORMATION_KINDS.get(code, code)


def consent_to_correct_reason(*, reason: str, given_on: dt.date) -> tuple[str, str]:
    """Why a consent is on Fronten's list "samtykker der skal rettes" (the text as
    registered travels beside it in the item's details)."""
    why = CORRECTIONS.get(reason, "Samtykket skal rettes")
    return (
        f"consent_{reason}",
        f"{why}. Samtykket er givet {date_text(given_on)}. Vælg den rigtige modtager og "
        "det rigtige formål, eller tilbagekald samtykket.",
    )


def responsible_changed_text(*, old_name: str | None, new_name: str) -> str:
    if old_name:
        return f"{new_name} er nu ansvarlig medarbejder for forløbet (overtaget fra {old_name})."
    return f"{new_name} er ansvarlig medarbejder for forløbet."


def handoff_text(*, kind: str, state: str, partner_name: str, outcome: str | None) -> str:
    """A hand-off's new state on the course's timeline (when the partner sent no title)."""
    what = HANDOFF_KINDS.get(kind, kind)
    text = f"{what}: {HANDOFF_STATES.get(state, state)} af {partner_name}"
    if outcome:
        text += f" (udfald: {REFERRAL_85_OUTCOMES.get(outcome, outcome)})"
    return text + "."


def referral_85_outcome_text(outcome: str) -> str:
    return f"§ 85-afgørelsen er registreret: {REFERRAL_85_OUTCOMES.get(outcome, outcome)}."
