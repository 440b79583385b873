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
PATHWAY_OPENED = "coordination.pathway_opened"
PATHWAY_CLOSED = "coordination.pathway_closed"
TOVHOLDER_HANDED_OVER = "coordination.tovholder_handed_over"
MEMBER_ADDED = "coordination.member_added"
ACTION_DUE = "coordination.action_due"
ACTION_OVERDUE = "coordination.action_overdue"
HOUSING_ESCALATION_NOTED = "coordination.housing_escalation_noted"
HOUSING_WARNING_NOTED = "coordination.housing_warning_noted"
HOUSING_CASE_ESCALATED = "housing.case_escalated"
HOUSING_CASE_DEESCALATED = "housing.case_deescalated"
HOUSING_PARTNER_STATUS = "housing.partner_status"
HOUSING_WARNING_FLAGGED = "housing.warning_flagged"
HOUSING_ACTION_OVERDUE = "housing.action_overdue"
BRIDGING_DUE = "intake.bridging_due"
BRIDGING_CANCELLED = "intake.bridging_cancelled"
CONSENT_WITHDRAWN = "intake.consent_withdrawn"
REFERRAL_85_MADE = "intake.referral_85_made"
COURSE_REVIEW_REQUESTED = "intake.course_review_requested"
COURSE_ENDING_PROPOSED = "intake.course_ending_proposed"
HANDOFF_REQUESTED = "partners.handoff_requested"
HANDOFF_UPDATED = "partners.handoff_updated"
HANDOFF_ESCALATED = "partners.handoff_escalated"

# A variant of an event's text, chosen by content.template_key: the first tovholder of
# a pathway (old_tovholder_id null) is not "a new tovholder".
TOVHOLDER_APPOINTED = TOVHOLDER_HANDED_OVER + ":first_appointment"

CITIZEN = RecipientKind.CITIZEN
NETWORK = RecipientKind.NETWORK
TEAM = RecipientKind.TEAM_MEMBERS
TOVHOLDER = RecipientKind.TOVHOLDER
FRONTEN = RecipientKind.FRONTEN
COORDINATORS = RecipientKind.COORDINATORS
SOCIAL_VEJLEDNING = RecipientKind.SOCIAL_VEJLEDNING
REVIEW_PANEL = RecipientKind.REVIEW_PANEL
HOUSING_OFFICERS = RecipientKind.HOUSING_OFFICERS
JOBCENTER = RecipientKind.JOBCENTER
ASSOCIATION = RecipientKind.HOUSING_ASSOCIATION
PARTNER = RecipientKind.PARTNER

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

# What the municipality asks of the association in a status (housing.partner_status's
# `requested`), in the words the association reads.
PARTNER_REQUESTS = {
    "for_information": "Til orientering",
    "hold_termination": "Vi beder jer vente med at ophæve lejemålet.",
    "hold_eviction": "Vi beder jer vente med at bede fogedretten om udsættelse.",
    "postpone_eviction": "Vi beder jer bede fogedretten udskyde udsættelsen.",
}

# The kinds of partner a bridging is for (contracts.vocabulary.PartnerKind).
PARTNER_KINDS = {
    "employment": "Beskæftigelse (jobcenter)",
    "education": "Uddannelse",
    "health": "Sundhed",
    "housing": "Bolig (boligforening)",
}

# Fronten's courses (contracts.vocabulary.CourseKind), for staff.
COURSE_KINDS = {
    "group_82a": "Gruppeforløb (serviceloven § 82 a)",
    "sft": "Social Færdighedstræning (SFT)",
    "individual_82b": "Individuelt forløb (serviceloven § 82 b)",
}

# The rule behind a proposed ending (intake.course_ending_proposed).
ENDING_RULES = {
    "four_weeks_broken_agreements": "borgeren har ikke overholdt sine aftaler i 4 uger",
}

# Why a bridging was cancelled (intake.bridging_cancelled), as the partner reads it.
BRIDGING_CANCEL_REASONS = {
    "course_ended_early": "Forløbet i Fronten er afsluttet før planlagt.",
}

# Housing's warning flags (contracts.housing.FLAGS), for staff. A flag housing adds
# later reads as UNKNOWN_HOUSING_FLAG until it has its own words here.
HOUSING_FLAGS = {
    "processing_exceeds_pakrav_deadline": (
        "Behandlingen af en ansøgning om hjælp til huslejen (aktivloven § 81 a) bliver "
        "ikke færdig før påkravsfristen"
    ),
    "pakrav_deadline_shorter_than_legal": (
        "Påkravets frist er kortere end de 14 dage, loven giver lejeren"
    ),
}
UNKNOWN_HOUSING_FLAG = "Boligsagen har en advarsel (se sagen i Samspil)"

# The deadlines of an arrears case (contracts.housing.DEADLINE_KINDS), for staff.
HOUSING_DEADLINES = {
    "outreach": "Opsøgende kontakt til borgeren",
    "pakrav": "Påkravsfristen",
    "hold_expires": "Boligforeningens frist for at vente med at ophæve lejemålet",
    "help_decision": "Afgørelse om hjælp til huslejen",
    "termination_response": "Svar på ophævelsen af lejemålet",
    "emergency_plan": "Nødboligplan",
}

_STRAKS = (
    "Kommunen skal handle straks (retssikkerhedsloven § 5 a). Tag kontakt til "
    "borgeren, og vurdér hjælp efter aktivloven § 81 a eller, for borgere under "
    "30 år, § 81 b."
)

_ESCALATION_STAFF = Template(
    subject="Huslejesag ${case_ref} er eskaleret",
    body=(
        "Huslejesag ${case_ref} er rykket et trin op.\n\n"
        "Trin: ${level}\n"
        "Opgave: ${request}\n"
        "Frist for næste skridt: ${deadline}\n\n"
        + _STRAKS + "\n\n"
        "Se sagen i Samspil."
    ),
    fields=frozenset({"case_ref", "level", "request", "deadline"}),
    labels={"level": ESCALATION_LEVELS, "request": HOUSING_REQUESTS},
)

# -- meetings: the citizen, network persons (pårørende) and staff ------------------------
# No text asks for a calendar reply, and no invitation asks for one (RSVP=FALSE):
# Samspil records no replies, so a person who cannot come tells the tovholder.

_NO_REPLY_CITIZEN = "Du behøver ikke at svare på invitationen.\n"
_NO_REPLY_STAFF = (
    "Kalenderinvitationen er vedhæftet. Den beder ikke om svar: kan du ikke deltage, "
    "så giv tovholderen besked."
)

_MEETING_CITIZEN = frozenset({"starts_at", "location", "tovholder_name", "participants"})
_MEETING_NETWORK = frozenset({"recipient_name", "citizen_name", "starts_at", "location",
                              "participants", "tovholder_name", "tovholder_contact"})
_MEETING_TEAM = frozenset({"citizen_name", "starts_at", "location", "tovholder_name",
                           "participants", "pathway_ref"})

_MEETINGS: dict[tuple[str, RecipientKind], Template] = {
    (MEETING_SCHEDULED, CITIZEN): Template(
        subject="Du er inviteret til et møde",
        body=(
            "Hej\n\n"
            "Du er inviteret til et møde om dit forløb.\n\n"
            "Tid: ${starts_at}\n"
            "Sted: ${location}\n\n"
            "Med til mødet:\n${participants}\n\n"
            + _NO_REPLY_CITIZEN +
            "Passer tiden ikke, så sig det til os. Så finder vi en anden tid.\n\n"
            "Venlig hilsen\n"
            "${tovholder_name}, din tovholder\n\n" + FRONTEN_CONTACT
        ),
        fields=_MEETING_CITIZEN,
    ),
    (MEETING_RESCHEDULED, CITIZEN): Template(
        subject="Dit møde er flyttet",
        body=(
            "Hej\n\n"
            "Dit møde om dit forløb er flyttet til en ny tid.\n\n"
            "Ny tid: ${starts_at}\n"
            "Sted: ${location}\n\n"
            "Med til mødet:\n${participants}\n\n"
            + _NO_REPLY_CITIZEN +
            "Passer den nye tid ikke, så sig det til os. Så finder vi en anden tid.\n\n"
            "Venlig hilsen\n"
            "${tovholder_name}, din tovholder\n\n" + FRONTEN_CONTACT
        ),
        fields=_MEETING_CITIZEN,
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
    (MEETING_SCHEDULED, NETWORK): Template(
        subject="Du er inviteret til et møde",
        body=(
            "Hej ${recipient_name}\n\n"
            "Du er inviteret til et møde sammen med ${citizen_name}.\n\n"
            "Tid: ${starts_at}\n"
            "Sted: ${location}\n\n"
            "Med til mødet:\n${participants}\n\n"
            + _NO_REPLY_CITIZEN +
            "Kan du ikke komme, så sig det til ${tovholder_name}: ${tovholder_contact}\n\n"
            "Venlig hilsen\n"
            "${tovholder_name}, tovholder\n\n" + FRONTEN_CONTACT
        ),
        fields=_MEETING_NETWORK,
    ),
    (MEETING_RESCHEDULED, NETWORK): Template(
        subject="Mødet er flyttet",
        body=(
            "Hej ${recipient_name}\n\n"
            "Mødet sammen med ${citizen_name} er flyttet til en ny tid.\n\n"
            "Ny tid: ${starts_at}\n"
            "Sted: ${location}\n\n"
            "Med til mødet:\n${participants}\n\n"
            + _NO_REPLY_CITIZEN +
            "Kan du ikke komme, så sig det til ${tovholder_name}: ${tovholder_contact}\n\n"
            "Venlig hilsen\n"
            "${tovholder_name}, tovholder\n\n" + FRONTEN_CONTACT
        ),
        fields=_MEETING_NETWORK,
    ),
    (MEETING_CANCELLED, NETWORK): Template(
        subject="Mødet er aflyst",
        body=(
            "Hej ${recipient_name}\n\n"
            "Mødet sammen med ${citizen_name} ${starts_at} er aflyst.\n"
            "Du skal ikke gøre noget. Vi kontakter dig, hvis vi aftaler en ny tid.\n\n"
            "Har du spørgsmål til mødet, så kontakt ${tovholder_name}: "
            "${tovholder_contact}\n\n"
            "Venlig hilsen\n"
            "${tovholder_name}, tovholder\n\n" + FRONTEN_CONTACT
        ),
        fields=frozenset({"recipient_name", "citizen_name", "starts_at", "tovholder_name",
                          "tovholder_contact"}),
    ),
    (MEETING_SCHEDULED, TEAM): Template(
        subject="Teammøde ${starts_at}",
        body=(
            "Du er indkaldt til et møde i et sammenhængende borgerforløb.\n\n"
            "Borger: ${citizen_name}\n"
            "Tidspunkt: ${starts_at}\n"
            "Sted: ${location}\n"
            "Tovholder: ${tovholder_name}\n\n"
            "Deltagere:\n${participants}\n\n"
            + _NO_REPLY_STAFF + "\n\n"
            "Forløbets reference: ${pathway_ref}"
        ),
        fields=_MEETING_TEAM,
    ),
    (MEETING_RESCHEDULED, TEAM): Template(
        subject="Teammøde flyttet til ${starts_at}",
        body=(
            "Teammødet med ${citizen_name} er flyttet.\n\n"
            "Nyt tidspunkt: ${starts_at}\n"
            "Sted: ${location}\n"
            "Tovholder: ${tovholder_name}\n\n"
            "Deltagere:\n${participants}\n\n"
            "Den opdaterede kalenderinvitation er vedhæftet. Den beder ikke om svar: kan "
            "du ikke deltage, så giv tovholderen besked.\n\n"
            "Forløbets reference: ${pathway_ref}"
        ),
        fields=_MEETING_TEAM,
    ),
    (MEETING_CANCELLED, TEAM): Template(
        subject="Teammøde aflyst: ${starts_at}",
        body=(
            "Teammødet ${starts_at} med ${citizen_name} er aflyst.\n"
            "Tovholder: ${tovholder_name}\n\n"
            "Aflysningen fjerner mødet fra din kalender.\n\n"
            "Forløbets reference: ${pathway_ref}"
        ),
        fields=frozenset({"citizen_name", "starts_at", "tovholder_name", "pathway_ref"}),
    ),
}

# -- the pathway: opened, closed, tovholder, team ------------------------------------------

_PATHWAY: dict[tuple[str, RecipientKind], Template] = {
    (PATHWAY_OPENED, COORDINATORS): Template(
        subject="Nyt forløb venter på en tovholder",
        body=(
            "Et sammenhængende borgerforløb er oprettet ${opened_at} og venter på en "
            "tovholder.\n\n"
            "${priority}\n\n"
            "Forløbet står på listen over forløb, der venter på en tovholder, i Samspil. "
            "Udpeg en tovholder der.\n\n"
            "Forløbets reference: ${pathway_ref}"
        ),
        fields=frozenset({"opened_at", "priority", "pathway_ref"}),
    ),
    (PATHWAY_CLOSED, CITIZEN): Template(
        subject="Dit forløb er afsluttet",
        body=(
            "Hej\n\n"
            "Dit forløb med din tovholder og dit team er afsluttet ${closed_on}.\n"
            "Tak for samarbejdet.\n\n"
            "Du er altid velkommen til at kontakte os igen.\n\n" + FRONTEN_CONTACT
        ),
        fields=frozenset({"closed_on"}),
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
    (TOVHOLDER_APPOINTED, CITIZEN): Template(
        subject="Du har fået en tovholder",
        body=(
            "Hej\n\n"
            "Du har fået en tovholder. Det er ${new_tovholder_name} fra "
            "${new_tovholder_agency}.\n\n"
            "Din tovholder er den, der samler trådene i dit forløb. "
            "${new_tovholder_name} kontakter dig, så I kan aftale jeres første møde.\n\n"
            "Du kan kontakte ${new_tovholder_name} her: ${new_tovholder_contact}\n\n"
            + FRONTEN_CONTACT
        ),
        fields=frozenset({"new_tovholder_name", "new_tovholder_agency", "new_tovholder_contact"}),
        labels={"new_tovholder_agency": AGENCIES},
    ),
    (TOVHOLDER_HANDED_OVER, TOVHOLDER): Template(
        subject="Du er ny tovholder i et forløb",
        body=(
            "Du har overtaget rollen som tovholder for ${citizen_name} i et "
            "sammenhængende borgerforløb.\n\n"
            "Overdragelsesnote fra den tidligere tovholder:\n${handover_note}\n\n"
            "Teamet:\n${team}\n\n"
            "Borgeren og teamet har fået besked om, at du er ny tovholder.\n\n"
            "Forløbets reference: ${pathway_ref}"
        ),
        fields=frozenset({"citizen_name", "handover_note", "team", "pathway_ref"}),
    ),
    (TOVHOLDER_APPOINTED, TOVHOLDER): Template(
        subject="Du er udpeget som tovholder",
        body=(
            "Du er udpeget som tovholder for ${citizen_name} i et sammenhængende "
            "borgerforløb.\n\n"
            "Teamet:\n${team}\n\n"
            "Borgeren har fået besked om, at du er tovholder. Aftal det første møde med "
            "borgeren.\n\n"
            "Forløbets reference: ${pathway_ref}"
        ),
        fields=frozenset({"citizen_name", "team", "pathway_ref"}),
    ),
    (TOVHOLDER_HANDED_OVER, TEAM): Template(
        subject="Ny tovholder i et forløb, du er med i",
        body=(
            "${new_tovholder_name} har overtaget rollen som tovholder for ${citizen_name}.\n"
            "Kontakt: ${new_tovholder_contact}\n\n"
            "Overdragelsesnote fra den tidligere tovholder:\n${handover_note}\n\n"
            "Borgeren har fået besked.\n\n"
            "Forløbets reference: ${pathway_ref}"
        ),
        fields=frozenset({"new_tovholder_name", "citizen_name", "new_tovholder_contact",
                          "handover_note", "pathway_ref"}),
    ),
    (TOVHOLDER_APPOINTED, TEAM): Template(
        subject="Tovholder udpeget i et forløb, du er med i",
        body=(
            "${new_tovholder_name} er udpeget som tovholder for ${citizen_name}.\n"
            "Kontakt: ${new_tovholder_contact}\n\n"
            "Borgeren har fået besked.\n\n"
            "Forløbets reference: ${pathway_ref}"
        ),
        fields=frozenset({"new_tovholder_name", "citizen_name", "new_tovholder_contact",
                          "pathway_ref"}),
    ),
    (TOVHOLDER_HANDED_OVER, COORDINATORS): Template(
        subject="Tovholder uden mailadresse",
        body=(
            "${new_tovholder_name} er tovholder i forløb ${pathway_ref} fra nu af. "
            "Samspil har ingen mailadresse til ${new_tovholder_name}.\n\n"
            "Giv ${new_tovholder_name} besked, og tilføj en mailadresse i Samspil."
        ),
        fields=frozenset({"new_tovholder_name", "pathway_ref"}),
    ),
    (MEMBER_ADDED, TEAM): Template(
        subject="Du er kommet med i et team",
        body=(
            "Du er kommet med i teamet omkring ${citizen_name} i et sammenhængende "
            "borgerforløb.\n\n"
            "Din rolle: ${role}\n\n"
            "Se forløbet, handleplanen og de næste møder i Samspil.\n\n"
            "Forløbets reference: ${pathway_ref}"
        ),
        fields=frozenset({"citizen_name", "role", "pathway_ref"}),
    ),
    (MEMBER_ADDED, COORDINATORS): Template(
        subject="Nyt teammedlem uden mailadresse",
        body=(
            "${member_name} (${role}, ${agency}) er kommet med i teamet i forløb "
            "${pathway_ref}. Samspil har ingen mailadresse til personen.\n\n"
            "Giv personen besked, og tilføj en mailadresse i Samspil."
        ),
        fields=frozenset({"member_name", "role", "agency", "pathway_ref"}),
        labels={"agency": AGENCIES},
    ),
}

# -- the action plan ------------------------------------------------------------------------

_ACTION_FIELDS = frozenset({"citizen_name", "due_on", "action_ref", "pathway_ref"})
_ACTION_ADVICE = (
    "Markér handlingen som udført i Samspil, eller aftal en ny frist med tovholderen."
)

_ACTIONS: dict[tuple[str, RecipientKind], Template] = {
    (ACTION_DUE, TEAM): Template(
        subject="Handling forfalder ${due_on}",
        body=(
            "En handling i handleplanen for ${citizen_name} forfalder ${due_on}.\n\n"
            "Handling: ${action_ref}\n\n" + _ACTION_ADVICE + "\n\n"
            "Forløbets reference: ${pathway_ref}"
        ),
        fields=_ACTION_FIELDS,
    ),
    (ACTION_OVERDUE, TEAM): Template(
        subject="Handling ikke udført: fristen var ${due_on}",
        body=(
            "En handling i handleplanen for ${citizen_name} skulle have været udført "
            "${due_on}.\n\n"
            "Handling: ${action_ref}\n\n" + _ACTION_ADVICE + "\n\n"
            "Forløbets reference: ${pathway_ref}"
        ),
        fields=_ACTION_FIELDS,
    ),
    (ACTION_DUE, COORDINATORS): Template(
        subject="Handling uden ansvarlig med mailadresse: forfalder ${due_on}",
        body=(
            "En handling i handleplanen for forløb ${pathway_ref} forfalder ${due_on}. "
            "Hverken den ansvarlige eller en tovholder har en mailadresse i Samspil.\n\n"
            "Handling: ${action_ref}\n\n"
            "Find den ansvarlige, og giv besked."
        ),
        fields=frozenset({"due_on", "action_ref", "pathway_ref"}),
    ),
    (ACTION_OVERDUE, COORDINATORS): Template(
        subject="Handling uden ansvarlig med mailadresse: fristen var ${due_on}",
        body=(
            "En handling i handleplanen for forløb ${pathway_ref} skulle have været "
            "udført ${due_on}. Hverken den ansvarlige eller en tovholder har en "
            "mailadresse i Samspil.\n\n"
            "Handling: ${action_ref}\n\n"
            "Find den ansvarlige, og giv besked."
        ),
        fields=frozenset({"due_on", "action_ref", "pathway_ref"}),
    ),
}

# -- housing: the tovholder (through coordination) and the housing officers ----------------

_NOTED_ESCALATION = frozenset({"citizen_name", "level", "requests", "deadline", "case_ref"})
_NOTED_WARNING = frozenset({"citizen_name", "flag", "pakrav_deadline", "level", "deadline",
                            "case_ref"})
_BEFORE_PAKRAV = (
    "Handl straks: kontakt borgeren, og få lavet en afdragsplan, eller søg om hjælp efter "
    "aktivloven § 81 a (for borgere under 30 år § 81 b), før påkravsfristen udløber."
)

_DEESCALATION_STAFF = Template(
    subject="Huslejesag ${case_ref} er rykket et trin ned",
    body=(
        "Huslejesag ${case_ref} er rykket et trin ned: der er sket noget, der mindsker "
        "risikoen for udsættelse (fx kontakt, en aftalt afdragsordning, bevilget hjælp "
        "eller en ophævelse, der er trukket tilbage).\n\n"
        "Trin nu: ${level}\n"
        "Opgave: ${request}\n"
        "Frist for næste skridt: ${deadline}\n\n"
        "Følg op på aftalen med borgeren, så lejemålet bevares.\n\n"
        "Se sagen i Samspil."
    ),
    fields=frozenset({"case_ref", "level", "request", "deadline"}),
    labels={"level": ESCALATION_LEVELS, "request": HOUSING_REQUESTS},
)

_HOUSING: dict[tuple[str, RecipientKind], Template] = {
    (HOUSING_CASE_ESCALATED, TOVHOLDER): _ESCALATION_STAFF,
    (HOUSING_CASE_ESCALATED, FRONTEN): _ESCALATION_STAFF,
    (HOUSING_CASE_DEESCALATED, TOVHOLDER): _DEESCALATION_STAFF,
    (HOUSING_CASE_DEESCALATED, FRONTEN): _DEESCALATION_STAFF,
    (HOUSING_ESCALATION_NOTED, TOVHOLDER): Template(
        subject="Huslejesag rykket et trin op: frist ${deadline}",
        body=(
            "Der er nyt i en huslejesag for ${citizen_name}, som du er tovholder for.\n\n"
            "Trin: ${level}\n"
            "Opgave: ${requests}\n"
            "Frist for næste skridt: ${deadline}\n\n"
            + _STRAKS + "\n\n"
            "Se sagen i Samspil. Sagens reference: ${case_ref}"
        ),
        fields=_NOTED_ESCALATION,
        labels={"level": ESCALATION_LEVELS},
    ),
    (HOUSING_ESCALATION_NOTED, COORDINATORS): Template(
        subject="Huslejesag i et forløb uden tovholder: frist ${deadline}",
        body=(
            "Der er nyt i en huslejesag for borgeren i forløb ${pathway_ref}. Forløbet "
            "har ingen tovholder med en mailadresse i Samspil.\n\n"
            "Trin: ${level}\n"
            "Opgave: ${requests}\n"
            "Frist for næste skridt: ${deadline}\n\n"
            "Udpeg en tovholder straks, eller giv tovholderen besked. " + _STRAKS + "\n\n"
            "Sagens reference: ${case_ref}"
        ),
        fields=frozenset({"pathway_ref", "level", "requests", "deadline", "case_ref"}),
        labels={"level": ESCALATION_LEVELS},
    ),
    (HOUSING_WARNING_NOTED, TOVHOLDER): Template(
        subject="Advarsel i huslejesag: påkravsfristen er ${pakrav_deadline}",
        body=(
            "Der er en advarsel i en huslejesag for ${citizen_name}, som du er "
            "tovholder for.\n\n"
            "Advarsel: ${flag}\n"
            "Påkravsfrist: ${pakrav_deadline}\n"
            "Trin: ${level}\n"
            "Frist for næste skridt: ${deadline}\n\n"
            + _BEFORE_PAKRAV + "\n\n"
            "Se sagen i Samspil. Sagens reference: ${case_ref}"
        ),
        fields=_NOTED_WARNING,
        labels={"level": ESCALATION_LEVELS},
    ),
    (HOUSING_WARNING_NOTED, COORDINATORS): Template(
        subject="Advarsel i huslejesag i et forløb uden tovholder: påkravsfristen er "
                "${pakrav_deadline}",
        body=(
            "Der er en advarsel i en huslejesag for borgeren i forløb ${pathway_ref}. "
            "Forløbet har ingen tovholder med en mailadresse i Samspil.\n\n"
            "Advarsel: ${flag}\n"
            "Påkravsfrist: ${pakrav_deadline}\n"
            "Trin: ${level}\n"
            "Frist for næste skridt: ${deadline}\n\n"
            "Udpeg en tovholder straks, eller giv tovholderen besked. " + _BEFORE_PAKRAV
            + "\n\n"
            "Sagens reference: ${case_ref}"
        ),
        fields=frozenset({"pathway_ref", "flag", "pakrav_deadline", "level", "deadline",
                          "case_ref"}),
        labels={"level": ESCALATION_LEVELS},
    ),
    (HOUSING_WARNING_FLAGGED, HOUSING_OFFICERS): Template(
        subject="Advarsel i huslejesag ${case_ref}: påkravsfristen er ${pakrav_deadline}",
        body=(
            "Der er en advarsel i huslejesag ${case_ref}.\n\n"
            "Advarsel: ${flag}\n"
            "Påkravsfrist: ${pakrav_deadline}\n"
            "Trin: ${level}\n"
            "Frist for næste skridt: ${deadline}\n"
            "Lejemål: ${tenancy_ref}\n\n"
            "Sager, hvor behandlingen rækker ud over påkravsfristen, står øverst på jeres "
            "liste i Samspil."
        ),
        fields=frozenset({"case_ref", "flag", "pakrav_deadline", "level", "deadline",
                          "tenancy_ref"}),
        labels={"level": ESCALATION_LEVELS},
    ),
    (HOUSING_ACTION_OVERDUE, HOUSING_OFFICERS): Template(
        subject="Frist overskredet i huslejesag ${case_ref}",
        body=(
            "En frist i huslejesag ${case_ref} er overskredet, og opgaven er ikke løst.\n\n"
            "Frist: ${deadline_kind}\n"
            "Trin: ${level}\n"
            "Opgave: ${requests}\n"
            "Næste frist: ${deadline}\n"
            "Lejemål: ${tenancy_ref}\n\n"
            "Se sagen i Samspil."
        ),
        fields=frozenset({"case_ref", "deadline_kind", "level", "requests", "deadline",
                          "tenancy_ref"}),
        labels={"level": ESCALATION_LEVELS, "deadline_kind": HOUSING_DEADLINES},
    ),
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
}

# -- Fronten's courses: the review panel, Social Vejledning, Fronten, the jobcenter ------

_FRONTEN_QUESTIONS = (
    "Kontakt venligst Fronten, hvis I har spørgsmål: telefon 44 77 34 43, "
    "mail ss-front@balk.dk."
)

_COURSES: dict[tuple[str, RecipientKind], Template] = {
    (REFERRAL_85_MADE, SOCIAL_VEJLEDNING): Template(
        subject="Ny henvisning til vurdering efter serviceloven § 85",
        body=(
            "Fronten har henvist en borger i et forløb til Social Vejledning til "
            "vurdering efter serviceloven § 85 (socialpædagogisk støtte).\n\n"
            "Henvist: ${referred_on}\n"
            "Forløbets reference: ${course_ref}\n\n"
            "Henvisningen står på jeres liste over § 85-henvisninger i Samspil. "
            "Registrér jeres afgørelse der, så Fronten kan se den."
        ),
        fields=frozenset({"referred_on", "course_ref"}),
    ),
    (COURSE_REVIEW_REQUESTED, REVIEW_PANEL): Template(
        subject="Til det tværgående udvalg: et forløb slutter ${planned_end}",
        body=(
            "Et forløb i Fronten skal drøftes i det tværgående udvalg, før det slutter.\n\n"
            "Forløb: ${kind}\n"
            "Planlagt slut: ${planned_end}\n"
            "Sat på dagsordenen: ${requested_on}\n"
            "Forløbets reference: ${course_ref}\n\n"
            "Forløbet står på udvalgets dagsorden i Samspil. Udvalget beslutter, om "
            "forløbet skal slutte, fortsætte eller forlænges, eller om borgeren skal "
            "henvises til vurdering efter serviceloven § 85."
        ),
        fields=frozenset({"kind", "planned_end", "requested_on", "course_ref"}),
        labels={"kind": COURSE_KINDS},
    ),
    (COURSE_ENDING_PROPOSED, FRONTEN): Template(
        subject="Afgør, om et forløb skal slutte (4-ugers-reglen)",
        body=(
            "Et forløb opfylder betingelsen i 4-ugers-reglen: ${rule}.\n\n"
            "Forløb: ${kind}\n"
            "Sidst overholdte aftale: ${last_kept_on}\n"
            "Foreslået: ${proposed_on}\n"
            "Forløbets reference: ${course_ref}\n\n"
            "Forløbet slutter ikke af sig selv. En medarbejder skal afgøre det: bekræft "
            "afslutningen (den får datoen for jeres beslutning), eller registrér, at "
            "borgeren er tilbage på sporet. Forslaget står på Frontens liste i Samspil."
        ),
        fields=frozenset({"rule", "kind", "last_kept_on", "proposed_on", "course_ref"}),
        labels={"kind": COURSE_KINDS, "rule": ENDING_RULES},
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
    (BRIDGING_CANCELLED, JOBCENTER): Template(
        subject="Brobygning aflyst",
        body=(
            "Brobygningen til jobcentret for forløbet med reference ${course_ref} er "
            "aflyst.\n\n"
            "Årsag: ${reason}\n"
            "Aflyst: ${cancelled_on}\n"
            "Brobygningen skulle have begyndt senest: ${due_on}\n\n"
            "Se bort fra vores tidligere besked om brobygning for dette forløb. "
            + _FRONTEN_QUESTIONS
        ),
        fields=frozenset({"course_ref", "reason", "cancelled_on", "due_on"}),
        labels={"reason": BRIDGING_CANCEL_REASONS},
    ),
}

# -- hand-offs: the partner asked, Social Vejledning, the person responsible ---------------
# The values are written by content.template_data: codes already in Danish words, the
# details and the contact as lines. A partner's text never names the citizen.

_ESCALATED_MAILBOX = Template(
    subject="Ubesvaret overdragelse: ${kind} (svarfrist ${answer_by})",
    body=(
        "${partner_name} har ikke svaret på en overdragelse. Svarfristen var "
        "${answer_by}.\n\n"
        "Overdragelse: ${kind}\n"
        "Sendt: ${requested_at}\n"
        "${subject_line}\n\n"
        "Følg op: kontakt partneren, eller annullér overdragelsen og find et andet "
        "tilbud. Overdragelsen står på listen over ubesvarede overdragelser i Samspil.\n\n"
        "Overdragelsens reference: ${handoff_ref}"
    ),
    fields=frozenset({"partner_name", "answer_by", "kind", "requested_at", "subject_line",
                      "handoff_ref"}),
)

_HANDOFFS: dict[tuple[str, RecipientKind], Template] = {
    (HANDOFF_REQUESTED, PARTNER): Template(
        subject="${title}: svar senest ${answer_by}",
        body=(
            "Til ${partner_name}\n\n"
            "Ballerup Kommune beder jer om hjælp: ${kind}.\n\n"
            "${ask}\n\n"
            "Vi beder om jeres svar senest ${answer_by}: tager I imod (accepteret), "
            "eller kan I ikke (afvist, med en begrundelse)?\n\n"
            "${details}\n\n"
            "Kontaktperson i kommunen: ${contact}\n\n"
            "Sådan svarer I:\n${answer_where}\n\n"
            "Overdragelsens reference: ${handoff_ref}\n"
            "${subject_line}"
        ),
        fields=frozenset({"title", "answer_by", "partner_name", "kind", "ask", "details",
                          "contact", "answer_where", "handoff_ref", "subject_line"}),
    ),
    (HANDOFF_REQUESTED, SOCIAL_VEJLEDNING): Template(
        subject="${title}: svar senest ${answer_by}",
        body=(
            "Fronten har henvist en borger til Social Vejledning: ${kind}.\n\n"
            "${ask}\n\n"
            "${details}\n\n"
            "Kontaktperson i Fronten: ${contact}\n\n"
            "Registrér jeres svar på overdragelsen i Samspil senest ${answer_by}: modtaget, "
            "accepteret eller afvist, og til sidst jeres afgørelse. Henvisningen står også "
            "på jeres liste over § 85-henvisninger.\n\n"
            "Overdragelsens reference: ${handoff_ref}"
        ),
        fields=frozenset({"title", "answer_by", "kind", "ask", "details", "contact",
                          "handoff_ref"}),
    ),
    (HANDOFF_UPDATED, PARTNER): Template(
        subject="${title}",
        body=(
            "Til ${partner_name}\n\n"
            "Der er nyt i en overdragelse fra Ballerup Kommune: ${kind}.\n\n"
            "${facts}\n\n"
            "Er overdragelsen annulleret, skal I ikke gøre mere. Har I spørgsmål, så "
            "kontakt kontaktpersonen fra den første besked.\n\n"
            "Overdragelsens reference: ${handoff_ref}\n"
            "${subject_line}"
        ),
        fields=frozenset({"title", "partner_name", "kind", "facts", "handoff_ref",
                          "subject_line"}),
    ),
    (HANDOFF_UPDATED, SOCIAL_VEJLEDNING): Template(
        subject="${title}",
        body=(
            "Fronten har annulleret en henvisning til Social Vejledning: ${kind}.\n\n"
            "${facts}\n\n"
            "I skal ikke gøre mere ved den.\n\n"
            "Overdragelsens reference: ${handoff_ref}"
        ),
        fields=frozenset({"title", "kind", "facts", "handoff_ref"}),
    ),
    (HANDOFF_ESCALATED, TEAM): Template(
        subject="Ubesvaret overdragelse: ${kind} (svarfrist ${answer_by})",
        body=(
            "${partner_name} har ikke svaret på en overdragelse for ${citizen_name}, som du "
            "er ansvarlig for. Svarfristen var ${answer_by}.\n\n"
            "Overdragelse: ${kind}\n"
            "Sendt: ${requested_at}\n"
            "${subject_line}\n\n"
            "Følg op: kontakt partneren, eller annullér overdragelsen og find et andet "
            "tilbud. Overdragelsen står på din liste i Samspil.\n\n"
            "Overdragelsens reference: ${handoff_ref}"
        ),
        fields=frozenset({"partner_name", "citizen_name", "answer_by", "kind", "requested_at",
                          "subject_line", "handoff_ref"}),
    ),
    (HANDOFF_ESCALATED, FRONTEN): _ESCALATED_MAILBOX,
    (HANDOFF_ESCALATED, COORDINATORS): _ESCALATED_MAILBOX,
    (HANDOFF_ESCALATED, HOUSING_OFFICERS): _ESCALATED_MAILBOX,
    (HANDOFF_ESCALATED, SOCIAL_VEJLEDNING): _ESCALATED_MAILBOX,
}

TEMPLATES: Mapping[tuple[str, RecipientKind], Template] = {
    **_MEETINGS,
    **_PATHWAY,
    **_ACTIONS,
    **_HOUSING,
    **_COURSES,
    **_HANDOFFS,
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
