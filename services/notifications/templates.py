"""The texts Samspil sends, per (event type, recipient kind).

Citizens read plain, respectful Danish: du-form, short sentences, no paragraph
numbers, and always who to contact. Staff read internal Danish; partners read only
the typed statement their contract allows.

Each template names the data fields it may print (its allow-list). `render` takes
only those keys from the data, so a ``cpr`` or ``diagnosis`` key passed by mistake
is never printed, and a template whose text uses a field outside its allow-list (or
allows a forbidden field) fails when this module is imported, not when a citizen
receives it. string.Template, not Jinja: no expressions, no attribute access.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from string import Template as _StringTemplate
from zoneinfo import ZoneInfo

from services.common.errors import DomainError
from services.notifications.gate import RecipientKind

COPENHAGEN = ZoneInfo("Europe/Copenhagen")

# Fields no template may ever allow, whatever a future template author wants.
FORBIDDEN_FIELDS = frozenset(
    {"cpr", "cpr_number", "cpr_nummer", "diagnosis", "diagnose", "health", "wish", "notes"}
)

FRONTEN_CONTACT = (
    "Har du spørgsmål, er du velkommen til at kontakte Fronten:\n"
    "Parkvej 10, 2750 Ballerup\n"
    "Telefon 44 77 34 43\n"
    "Mail ss-front@balk.dk"
)

_WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
_MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)


@dataclass(frozen=True)
class Message:
    """A rendered notification: one-line subject and plain-text body."""

    subject: str
    text: str


@dataclass(frozen=True)
class Template:
    """One text. `fields` is the allow-list; `labels` turn codes into Danish words."""

    subject: str
    body: str
    fields: frozenset[str]
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def placeholders(self) -> set[str]:
        """Every ${name} used in the subject or the body."""
        names: set[str] = set()
        for text in (self.subject, self.body):
            names.update(_StringTemplate(text).get_identifiers())
        return names


# -- event types (exactly the names in contracts/coordination.py, housing.py, intake.py) --

MEETING_SCHEDULED = "coordination.meeting_scheduled"
MEETING_RESCHEDULED = "coordination.meeting_rescheduled"
MEETING_CANCELLED = "coordination.meeting_cancelled"
TOVHOLDER_HANDED_OVER = "coordination.tovholder_handed_over"
ACTION_DUE = "coordination.action_due"
HOUSING_CASE_ESCALATED = "housing.case_escalated"
HOUSING_PARTNER_STATUS = "housing.partner_status"
BRIDGING_DUE = "intake.bridging_due"
CONSENT_WITHDRAWN = "intake.consent_withdrawn"

CITIZEN = RecipientKind.CITIZEN
TEAM = RecipientKind.TEAM_MEMBERS
TOVHOLDER = RecipientKind.TOVHOLDER
FRONTEN = RecipientKind.FRONTEN
JOBCENTER = RecipientKind.JOBCENTER
ASSOCIATION = RecipientKind.HOUSING_ASSOCIATION

# The rungs of a rent-arrears case's ladder (contracts.vocabulary.LadderLevel), for staff.
ESCALATION_LEVELS = {
    "reported": "Sagen er meldt og følges",
    "outreach_due": "Borgeren skal kontaktes straks (opsøgende kontakt)",
    "escalated_to_association": "Boligforeningen er bedt om at afvente ophævelse",
    "termination_urgent": "Lejemålet er ophævet – hastesag for det boligsociale team",
    "eviction_emergency": "Der er fastsat dato for udsættelse – lav en nødboligplan",
}

# What a housing escalation asks of staff (contracts.vocabulary.HousingRequest).
HOUSING_REQUESTS = {
    "for_information": "Til orientering",
    "contact_citizen": "Kontakt borgeren",
    "make_plan_or_apply_for_help": "Lav en afdragsplan med borgeren, eller søg om hjælp",
    "hold_termination": "Bed boligforeningen vente med at ophæve lejemålet",
    "involve_boligsocial_team": "Inddrag det boligsociale team",
    "hold_eviction": "Bed boligforeningen vente med at begære udsættelse",
    "postpone_eviction": "Bed om at få udsættelsen udskudt",
    "make_emergency_housing_plan": "Lav en nødboligplan",
    "chase_help_decision": "Følg op på afgørelsen om hjælp",
}

# The agencies a tovholder can come from (contracts.vocabulary.Agency), as a citizen says it.
AGENCIES = {
    "social_services": "Socialforvaltningen i Ballerup Kommune",
    "jobcenter": "Jobcenter Ballerup",
    "school": "skolen",
    "upoint": "Upoint",
    "psychiatry_health": "psykiatrien og sundhed",
    "housing": "boligrådgivningen",
    "mentor": "mentorordningen",
}

# The typed statuses a housing association may receive (contracts.vocabulary.PartnerStatus),
# in the words it receives them. Nothing about the tenant beyond the status.
PARTNER_STATUSES = {
    "report_received": "Kommunen har modtaget jeres indberetning.",
    "outreach_started": "Kommunen er gået i gang med at kontakte lejer.",
    "contact_established": "Kommunen har fået kontakt med lejer.",
    "payment_plan_proposed": "Der er foreslået en afdragsordning.",
    "payment_plan_agreed": "Der er aftalt en afdragsordning.",
    "payment_plan_broken": "Afdragsordningen er ikke overholdt.",
    "help_applied_for": "Der er søgt om hjælp til huslejen. Kommunen behandler ansøgningen.",
    "help_granted": "Der er bevilget hjælp til huslejen.",
    "help_not_granted": "Der er ikke bevilget hjælp til huslejen.",
    "hold_termination_requested": (
        "Kommunen arbejder på en løsning sammen med lejer og beder jer vente med at "
        "ophæve lejemålet, mens det sker."
    ),
    "hold_eviction_requested": (
        "Kommunen arbejder på en løsning sammen med lejer og beder jer vente med at "
        "bede fogedretten om udsættelse, mens det sker."
    ),
    "postpone_eviction_requested": (
        "Kommunen beder jer om at bede fogedretten udskyde udsættelsen."
    ),
    "termination_withdrawal_noted": "Kommunen har noteret, at ophævelsen er trukket tilbage.",
    "eviction_resolution_noted": "Kommunen har noteret, at udsættelsen ikke gennemføres.",
    "case_closed": "Kommunen har afsluttet sin indsats i sagen.",
}

_MEETING_TEAM_FIELDS = frozenset({"starts_at", "location", "tovholder_name", "pathway_ref"})
_MEETING_CITIZEN_FIELDS = frozenset({"starts_at", "location", "tovholder_name"})

_ESCALATION_STAFF = Template(
    subject="Huslejesag ${case_ref} er eskaleret",
    body=(
        "Huslejesag ${case_ref} er rykket et trin op.\n\n"
        "Trin: ${level}\n"
        "Opgave: ${request}\n"
        "Frist for næste skridt: ${deadline}\n\n"
        "Kommunen skal handle straks (retssikkerhedsloven § 5 a). Tag kontakt til "
        "borgeren, og vurdér hjælp efter aktivloven § 81 a eller, for borgere under "
        "30 år, § 81 b.\n\n"
        "Se sagen i Samspil."
    ),
    fields=frozenset({"case_ref", "level", "request", "deadline"}),
    labels={"level": ESCALATION_LEVELS, "request": HOUSING_REQUESTS},
)

TEMPLATES: Mapping[tuple[str, RecipientKind], Template] = {
    (MEETING_SCHEDULED, CITIZEN): Template(
        subject="Du er inviteret til et møde",
        body=(
            "Hej\n\n"
            "Du er inviteret til et møde om dit forløb.\n\n"
            "Tid: ${starts_at}\n"
            "Sted: ${location}\n\n"
            "Passer tiden ikke, så sig det til os. Så finder vi en anden tid.\n\n"
            "Venlig hilsen\n"
            "${tovholder_name}, din tovholder\n\n" + FRONTEN_CONTACT
        ),
        fields=_MEETING_CITIZEN_FIELDS,
    ),
    (MEETING_RESCHEDULED, CITIZEN): Template(
        subject="Dit møde er flyttet",
        body=(
            "Hej\n\n"
            "Dit møde om dit forløb er flyttet til en ny tid.\n\n"
            "Ny tid: ${starts_at}\n"
            "Sted: ${location}\n\n"
            "Passer den nye tid ikke, så sig det til os. Så finder vi en anden tid.\n\n"
            "Venlig hilsen\n"
            "${tovholder_name}, din tovholder\n\n" + FRONTEN_CONTACT
        ),
        fields=_MEETING_CITIZEN_FIELDS,
    ),
    (MEETING_CANCELLED, CITIZEN): Template(
        subject="Dit møde er aflyst",
        body=(
            "Hej\n\n"
            "Mødet ${starts_at} er aflyst.\n"
            "Du skal ikke gøre noget. Vi kontakter dig, når vi skal aftale en ny tid.\n\n"
            "Venlig hilsen\n"
            "${tovholder_name}, din tovholder\n\n" + FRONTEN_CONTACT
        ),
        fields=frozenset({"starts_at", "tovholder_name"}),
    ),
    (MEETING_SCHEDULED, TEAM): Template(
        subject="Teammøde ${starts_at}",
        body=(
            "Du er indkaldt til teammøde i et sammenhængende borgerforløb.\n\n"
            "Tidspunkt: ${starts_at}\n"
            "Sted: ${location}\n"
            "Tovholder: ${tovholder_name}\n"
            "Forløb: ${pathway_ref}\n\n"
            "Kalenderinvitationen er vedhæftet. Svar venligst via din kalender."
        ),
        fields=_MEETING_TEAM_FIELDS,
    ),
    (MEETING_RESCHEDULED, TEAM): Template(
        subject="Teammøde flyttet til ${starts_at}",
        body=(
            "Teammødet i forløb ${pathway_ref} er flyttet.\n\n"
            "Nyt tidspunkt: ${starts_at}\n"
            "Sted: ${location}\n"
            "Tovholder: ${tovholder_name}\n\n"
            "Den opdaterede kalenderinvitation er vedhæftet."
        ),
        fields=_MEETING_TEAM_FIELDS,
    ),
    (MEETING_CANCELLED, TEAM): Template(
        subject="Teammøde aflyst: ${starts_at}",
        body=(
            "Teammødet ${starts_at} i forløb ${pathway_ref} er aflyst.\n"
            "Tovholder: ${tovholder_name}\n\n"
            "Aflysningen fjerner mødet fra din kalender."
        ),
        fields=frozenset({"starts_at", "tovholder_name", "pathway_ref"}),
    ),
    (TOVHOLDER_HANDED_OVER, CITIZEN): Template(
        subject="Du har fået en ny tovholder",
        body=(
            "Hej\n\n"
            "Du har fået en ny tovholder. Det er ${new_tovholder_name} fra "
            "${new_tovholder_agency}.\n\n"
            "Din tovholder er den, der samler trådene i dit forløb. "
            "Din plan og dine aftaler fortsætter som før.\n\n"
            "Du kan kontakte ${new_tovholder_name} her: ${new_tovholder_contact}\n\n"
            + FRONTEN_CONTACT
        ),
        fields=frozenset({"new_tovholder_name", "new_tovholder_agency", "new_tovholder_contact"}),
        labels={"new_tovholder_agency": AGENCIES},
    ),
    (TOVHOLDER_HANDED_OVER, TEAM): Template(
        subject="Ny tovholder i forløb ${pathway_ref}",
        body=(
            "Forløb ${pathway_ref} har fået ny tovholder: ${new_tovholder_name}, "
            "kontakt: ${new_tovholder_contact}.\n\n"
            "Borgeren har fået besked."
        ),
        fields=frozenset({"pathway_ref", "new_tovholder_name", "new_tovholder_contact"}),
    ),
    (ACTION_DUE, TEAM): Template(
        subject="Handling forfalder ${due_on}",
        body=(
            "En handling i handleplanen for forløb ${pathway_ref} forfalder ${due_on}.\n\n"
            "Handling: ${action_ref}\n\n"
            "Markér handlingen som udført i Samspil, eller aftal en ny frist med "
            "tovholderen."
        ),
        fields=frozenset({"pathway_ref", "due_on", "action_ref"}),
    ),
    (HOUSING_CASE_ESCALATED, TOVHOLDER): _ESCALATION_STAFF,
    (HOUSING_CASE_ESCALATED, FRONTEN): _ESCALATION_STAFF,
    (HOUSING_PARTNER_STATUS, ASSOCIATION): Template(
        subject="Status på lejemål ${tenancy_ref}",
        body=(
            "Status fra Ballerup Kommune om lejemål ${tenancy_ref}:\n\n"
            "${status}\n\n"
            "Spørgsmål om sagen: Fronten, Ballerup Kommune, telefon 44 77 34 43, "
            "mail ss-front@balk.dk."
        ),
        fields=frozenset({"tenancy_ref", "status"}),
        labels={"status": PARTNER_STATUSES},
    ),
    (BRIDGING_DUE, JOBCENTER): Template(
        subject="Brobygning: forløb i Fronten slutter ${planned_end}",
        body=(
            "Et forløb i Fronten slutter ${planned_end}, og brobygningen til "
            "jobcentret skal begynde senest ${due_on}.\n\n"
            "Forløbets reference: ${course_ref}\n\n"
            "Kontakt venligst Fronten for at aftale overlevering: telefon 44 77 34 43, "
            "mail ss-front@balk.dk."
        ),
        fields=frozenset({"planned_end", "due_on", "course_ref"}),
    ),
    (CONSENT_WITHDRAWN, CITIZEN): Template(
        subject="Du har trukket dit samtykke tilbage",
        body=(
            "Hej\n\n"
            "Vi har fået besked om, at du har trukket dit samtykke tilbage. "
            "Det gælder fra ${withdrawn_at}.\n\n"
            "Vi deler ikke længere oplysninger om dig med ${recipient_name} "
            "på grund af det samtykke.\n"
            "Du kan altid give et nyt samtykke, hvis du ændrer mening.\n\n" + FRONTEN_CONTACT
        ),
        fields=frozenset({"withdrawn_at", "recipient_name"}),
    ),
}


def render(event_type: str, recipient_kind: str, data: Mapping[str, object]) -> Message:
    """The message for `recipient_kind` about `event_type`, filled from `data`.

    Only the template's allow-listed keys are read from `data`; datetimes are shown
    in Danish, in Copenhagen time. Raises DomainError for an unknown combination
    (rule ``template.not_found``), a missing value (``template.missing_value``) or a
    code without a Danish label (``template.unknown_value``).
    """
    if not has_template(event_type, recipient_kind):
        raise DomainError(
            "event_type",
            "template.not_found",
            f"No text for {event_type} to {recipient_kind}.",
        )
    template = TEMPLATES[(event_type, RecipientKind(recipient_kind))]
    values = {name: _value(template, name, data) for name in template.fields}
    subject = _StringTemplate(template.subject).substitute(values)
    return Message(
        # One line whatever a value held: a newline in a mail header is an injection.
        subject=" ".join(subject.split()),
        text=_StringTemplate(template.body).substitute(values),
    )


def has_template(event_type: str, recipient_kind: str) -> bool:
    """True when `render` has a text for this pair (for checking routing rules)."""
    try:
        return (event_type, RecipientKind(recipient_kind)) in TEMPLATES
    except ValueError:
        return False


def format_datetime(value: dt.datetime) -> str:
    """E.g. "mandag den 27. oktober 2025 kl. 10.00", in Copenhagen time."""
    if value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    local = value.astimezone(COPENHAGEN)
    return f"{_WEEKDAYS[local.weekday()]} den {format_date(local.date())} kl. {local:%H.%M}"


def format_date(value: dt.date) -> str:
    """E.g. "27. oktober 2025"."""
    return f"{value.day}. {_MONTHS[value.month - 1]} {value.year}"


def _value(template: Template, name: str, data: Mapping[str, object]) -> str:
    value = data.get(name)
    if value is None or value == "":
        raise DomainError(f"data.{name}", "template.missing_value", "Must be given.")
    if name in template.labels:
        label = template.labels[name].get(str(value))
        if label is None:
            raise DomainError(
                f"data.{name}", "template.unknown_value", f"No Danish text for {value!r}."
            )
        return label
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise DomainError(f"data.{name}", "template.naive_datetime", "Must be timezone-aware.")
        return format_datetime(value)
    if isinstance(value, dt.date):
        return format_date(value)
    return str(value)


def check_templates(templates: Mapping[tuple[str, RecipientKind], Template]) -> None:
    """Raise ValueError if a template prints a field it does not allow, allows a
    forbidden one, or allows one it never prints (an allow-list should be exact).

    Run on TEMPLATES when this module is imported.
    """
    for key, template in templates.items():
        outside = template.placeholders() - template.fields
        forbidden = template.fields & FORBIDDEN_FIELDS
        unused = template.fields - template.placeholders()
        if outside or forbidden or unused:
            raise ValueError(
                f"template {key}: outside allow-list {sorted(outside)}, "
                f"forbidden {sorted(forbidden)}, allowed but unused {sorted(unused)}"
            )


check_templates(TEMPLATES)
