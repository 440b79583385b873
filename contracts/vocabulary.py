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
