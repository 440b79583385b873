"""The words that travel on the wire: every enumerated value in a contract.

Values are stable identifiers (English, snake_case); the Danish term users speak is
given once, here, at the definition. Adding a value is backward compatible for
producers; consumers must accept unknown values they do not act on.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """How an inquiry (henvendelse) reached Fronten."""

    WALK_IN = "walk_in"  # personlig henvendelse
    PHONE = "phone"  # telefon
    MAIL = "mail"  # mail
    DIGITAL_FORM = "digital_form"  # digital formular


class InquirerKind(StrEnum):
    """Who made contact."""

    CITIZEN = "citizen"  # borgeren selv
    RELATIVE = "relative"  # pårørende
    PROFESSIONAL = "professional"  # fagperson


class Topic(StrEnum):
    """What the citizen wants to change (emner)."""

    HOUSING = "housing"  # bolig, huslejerestancer
    ECONOMY = "economy"  # overblik over økonomi
    LONELINESS = "loneliness"  # følelser, ensomhed
    ADDICTION = "addiction"  # misbrug
    MENTAL_HEALTH = "mental_health"  # psykiske vanskeligheder
    PHYSICAL_HEALTH = "physical_health"  # fysiske vanskeligheder
    EDUCATION = "education"  # uddannelse
    EMPLOYMENT = "employment"  # beskæftigelse
    EVERYDAY_STRUCTURE = "everyday_structure"  # struktur på hverdagen
    SOCIAL_ANXIETY = "social_anxiety"  # social angst
    NETWORK = "network"  # dialog med netværk
    RENT_ARREARS = "rent_arrears"  # huslejerestance
    OTHER = "other"


class Outcome(StrEnum):
    """How an inquiry was resolved (udfald)."""

    ADVICE_ONLY = "advice_only"  # råd og vejledning
    GROUP_COURSE_82A = "group_course_82a"  # gruppebaseret forløb, SEL § 82 a
    SOCIAL_SKILLS_TRAINING = "social_skills_training"  # Social Færdighedstræning (SFT)
    INDIVIDUAL_COURSE_82B = "individual_course_82b"  # individuelt forløb, SEL § 82 b
    REFERRAL_85 = "referral_85"  # henvist til udredning efter SEL § 85
    REFERRAL_PATHWAY = "referral_pathway"  # henvist til sammenhængende borgerforløb
    REFERRAL_OTHER = "referral_other"  # henvist til andet tilbud eller frivilligt tilbud


class CourseKind(StrEnum):
    """Fronten's courses (forløb)."""

    GROUP_82A = "group_82a"
    SFT = "sft"
    INDIVIDUAL_82B = "individual_82b"


class PartnerKind(StrEnum):
    """Which kind of partner a bridge (brobygning) or a delivery is for."""

    EMPLOYMENT = "employment"  # jobcenter
    EDUCATION = "education"  # uddannelse
    HEALTH = "health"  # sundhed, psykiatri
    HOUSING = "housing"  # boligforening


class Agency(StrEnum):
    """The agencies a pathway team member can come from."""

    SOCIAL_SERVICES = "social_services"  # socialforvaltning, Fronten
    JOBCENTER = "jobcenter"
    SCHOOL = "school"
    UPOINT = "upoint"  # specialiseret ungeindsats
    PSYCHIATRY_HEALTH = "psychiatry_health"
    HOUSING = "housing"  # boligrådgiver
    MENTOR = "mentor"


# What a consent (samtykke) can cover: the kinds of information a partner may receive.
INFORMATION_KINDS = (
    "contact_status",
    "course_status",
    "meeting_schedule",
    "housing_case_status",
    "bridging_status",
    "action_plan",
)


class ParticipantKind(StrEnum):
    """Who takes part in a pathway meeting."""

    TOVHOLDER = "tovholder"  # the lead coordinator
    MEMBER = "member"  # a team member from an agency
    CITIZEN = "citizen"  # borgeren
    NETWORK = "network"  # pårørende and network


class MeetingPlace(StrEnum):
    HOME = "home"  # hjemme hos borgeren
    FRONTEN = "fronten"  # Fronten, Parkvej 10
    ELSEWHERE = "elsewhere"


class LadderLevel(StrEnum):
    """Rungs of the rent-arrears escalation ladder, lowest first."""

    REPORTED = "reported"
    OUTREACH_DUE = "outreach_due"
    ESCALATED_TO_ASSOCIATION = "escalated_to_association"
    TERMINATION_URGENT = "termination_urgent"  # ophævelse (termination) registered
    EVICTION_EMERGENCY = "eviction_emergency"  # udsættelse (eviction) date set


class Addressee(StrEnum):
    """Who a housing escalation asks to act."""

    ASSOCIATION = "association"  # boligforeningen
    TOVHOLDER = "tovholder"
    FRONTEN = "fronten"


class HousingRequest(StrEnum):
    """What a housing event asks of its addressee."""

    FOR_INFORMATION = "for_information"
    CONTACT_CITIZEN = "contact_citizen"
    MAKE_PLAN_OR_APPLY_FOR_HELP = "make_plan_or_apply_for_help"
    HOLD_TERMINATION = "hold_termination"  # do not ophæve while a plan/application is made
    INVOLVE_BOLIGSOCIAL_TEAM = "involve_boligsocial_team"
    HOLD_EVICTION = "hold_eviction"
    POSTPONE_EVICTION = "postpone_eviction"
    MAKE_EMERGENCY_HOUSING_PLAN = "make_emergency_housing_plan"
    CHASE_HELP_DECISION = "chase_help_decision"


class Closure(StrEnum):
    TENANCY_KEPT = "tenancy_kept"
    TENANCY_LOST = "tenancy_lost"
    TENANCY_ENDED = "tenancy_ended"


class PartnerStatus(StrEnum):
    """The only statements a housing association receives about a case."""

    REPORT_RECEIVED = "report_received"
    OUTREACH_STARTED = "outreach_started"
    CONTACT_ESTABLISHED = "contact_established"
    PAYMENT_PLAN_PROPOSED = "payment_plan_proposed"
    PAYMENT_PLAN_AGREED = "payment_plan_agreed"
    PAYMENT_PLAN_BROKEN = "payment_plan_broken"
    HELP_APPLIED_FOR = "help_applied_for"
    HELP_GRANTED = "help_granted"
    HELP_NOT_GRANTED = "help_not_granted"
    HOLD_TERMINATION_REQUESTED = "hold_termination_requested"
    HOLD_EVICTION_REQUESTED = "hold_eviction_requested"
    POSTPONE_EVICTION_REQUESTED = "postpone_eviction_requested"
    TERMINATION_WITHDRAWAL_NOTED = "termination_withdrawal_noted"
    EVICTION_RESOLUTION_NOTED = "eviction_resolution_noted"
    CASE_CLOSED = "case_closed"


# -- partners, offers and hand-offs (issue 16; docs/decisions/0013) -------------------------


class PartnerCategory(StrEnum):
    """What kind of organisation a partner in the directory is."""

    EMPLOYMENT = "employment"  # jobcenter
    EDUCATION = "education"  # uddannelse (UU, skoler, FGU)
    HEALTH = "health"  # sundhed, psykiatri, almen praksis
    HOUSING = "housing"  # boligforening (almen boligorganisation)
    SOCIAL_VEJLEDNING = "social_vejledning"  # myndighed: § 85 (an internal unit)
    OFFER = "offer"  # another municipal offer (tilbud)
    VOLUNTEER = "volunteer"  # frivillig organisation, civilsamfund


class HandoffKind(StrEnum):
    """A request to a partner that expects an answer (an overdragelse)."""

    BRIDGING_EMPLOYMENT = "bridging_employment"  # brobygning til beskæftigelse
    BRIDGING_EDUCATION = "bridging_education"  # brobygning til uddannelse
    BRIDGING_HEALTH = "bridging_health"  # brobygning til sundhed
    REFERRAL_85 = "referral_85"  # henvisning til § 85-vurdering (Social Vejledning)
    OFFER_REFERRAL = "offer_referral"  # henvisning til et andet tilbud eller frivillige
    HOLD_TERMINATION = "hold_termination"  # anmodning om at stille ophævelse i bero


class HandoffState(StrEnum):
    """A hand-off's lifecycle, like FHIR Task's status."""

    REQUESTED = "requested"  # sendt
    RECEIVED = "received"  # modtaget
    ACCEPTED = "accepted"  # accepteret
    DECLINED = "declined"  # afvist (with a reason)
    IN_PROGRESS = "in_progress"  # i gang
    COMPLETED = "completed"  # afsluttet (with an outcome)
    CANCELLED = "cancelled"  # annulleret


# Who may consent be given to, for which purpose: consent's recipient is a partner id from
# the directory or one of the agencies a pathway team member comes from (Agency); its
# purpose is one of these (never free text, so the consent gate can match it).
class ConsentPurpose(StrEnum):
    BRIDGING_EMPLOYMENT = "bridging_employment"  # brobygning til beskæftigelse
    BRIDGING_EDUCATION = "bridging_education"  # brobygning til uddannelse
    BRIDGING_HEALTH = "bridging_health"  # brobygning til sundhed
    PATHWAY_TEAM = "pathway_team"  # samarbejde i et sammenhængende borgerforløb
    KEEP_HOME = "keep_home"  # at fastholde boligen (huslejerestance)
    OFFER_REFERRAL = "offer_referral"  # henvisning til et andet tilbud
