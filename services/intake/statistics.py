"""Fronten's statistics: a pure report over plain records, and its Danish text.

The report reproduces what Fronten already reports to Social- og Sundhedsudvalget
(seed 001: 204 inquiries, 65 § 82 b courses, 0 referred on to § 85, for 1 April to
31 July 2018) for any period, with breakdowns. The service layer reads the rows and
builds the records; nothing here touches a database or a clock.

Counting rules:
- The period includes both its first and its last day.
- An inquiry counts in the period when it was registered in it.
- A course counts as started in the period when its start date is in it; "referred
  on to § 85" counts only among those.
- A course is active on a day when it started on or before that day and had not
  ended before it (a course ending that day is still active). Courses of every kind
  count; the number is of courses, not of distinct citizens.
- Age is the age on the day the inquiry was registered; anonymous inquiries have
  no birth date and count as "unknown".
- An inquiry with two topics counts once under each, so the topic breakdown adds up
  to more than the total whenever an inquiry has several topics.

`report` is the reference: it counts plain records. The RPC counts in the database
instead (`services.intake.statistics_sql`) and lays its numbers out with
`report_of_counts`, the same layout `report` uses; a test holds the two to the same
result.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from contracts.vocabulary import Channel, CourseKind, InquirerKind, Outcome, Topic
from services.common.errors import DomainError
from services.intake.cpr import AGE_BAND_LABELS, BELOW_TARGET_AGE_BAND, age_band, age_on

UNKNOWN = "unknown"  # no birth date: anonymous inquiry
UNRESOLVED = "unresolved"  # no outcome yet
UNDER_30 = "under_30"
AGE_30_AND_OVER = "30_and_over"


@dataclass(frozen=True)
class InquiryRecord:
    """One henvendelse (inquiry), as the statistics need it."""

    registered_on: dt.date
    channel: Channel
    inquirer_kind: InquirerKind
    topics: frozenset[Topic]
    outcome: Outcome | None
    birth_date: dt.date | None  # None for anonymous advice

    def __post_init__(self) -> None:
        # Callers may pass a list; a set also stops a topic being counted twice.
        object.__setattr__(self, "topics", frozenset(self.topics))
        if not self.topics:
            raise DomainError("topics", "inquiry.topics_missing", "An inquiry has a topic.")


@dataclass(frozen=True)
class CourseRecord:
    """One course (forløb), as the statistics need it."""

    kind: CourseKind
    started_on: dt.date
    ended_on: dt.date | None
    referred_to_85: bool
    birth_date: dt.date | None


@dataclass(frozen=True)
class Report:
    """The numbers for one period. Breakdowns are of the period's inquiries."""

    period_start: dt.date
    period_end: dt.date
    as_of: dt.date  # the day "active courses" is counted on
    total_inquiries: int
    courses_82b_started: int
    courses_82b_referred_85: int  # of the § 82 b courses started in the period
    active_courses: int
    active_courses_by_kind: Mapping[str, int]
    by_channel: Mapping[str, int]
    by_inquirer_kind: Mapping[str, int]
    by_age_band: Mapping[str, int]
    by_under_30: Mapping[str, int]
    by_topic: Mapping[str, int]  # an inquiry with several topics counts under each
    by_outcome: Mapping[str, int]


def _ordered(keys: Iterable[str], counted: Mapping[str, int]) -> dict[str, int]:
    # Every known key appears, with 0 if need be, so reports compare line by line;
    # unknown keys follow, sorted (only those counted at least once).
    rest = {str(key): count for key, count in counted.items() if count}
    result = {str(key): rest.pop(str(key), 0) for key in keys}
    result.update(sorted(rest.items()))
    return result


def _counts(keys: Iterable[str], values: Iterable[str]) -> dict[str, int]:
    return _ordered(keys, Counter(str(value) for value in values))


def age_keys(age: int | None) -> tuple[str, str]:
    """The age band and the under-30 key of an age in whole years (None: unknown)."""
    if age is None:
        return UNKNOWN, UNKNOWN
    return age_band(age), UNDER_30 if age < 30 else AGE_30_AND_OVER


def _age_key(record: InquiryRecord) -> tuple[str, str]:
    if record.birth_date is None:
        return age_keys(None)
    return age_keys(age_on(record.birth_date, record.registered_on))


def report(
    period_start: dt.date,
    period_end: dt.date,
    inquiries: Iterable[InquiryRecord],
    courses: Iterable[CourseRecord],
    *,
    as_of: dt.date | None = None,
) -> Report:
    """Count inquiries and courses for the period `period_start`..`period_end` (both included).

    `as_of` is the day active courses are counted on; by default the period's last day.
    """
    if period_end < period_start:
        raise DomainError(
            "period_end", "statistics.period_reversed", "The period ends before it starts."
        )
    day = period_end if as_of is None else as_of
    in_period = [r for r in inquiries if period_start <= r.registered_on <= period_end]
    all_courses = list(courses)
    started_82b = [
        c
        for c in all_courses
        if c.kind is CourseKind.INDIVIDUAL_82B and period_start <= c.started_on <= period_end
    ]
    active = [
        c for c in all_courses if c.started_on <= day and (c.ended_on is None or c.ended_on >= day)
    ]
    ages = [_age_key(r) for r in in_period]
    # The "0-15" band only appears when such an inquiry exists: it is outside the target group.
    return Report(
        period_start=period_start,
        period_end=period_end,
        as_of=day,
        total_inquiries=len(in_period),
        courses_82b_started=len(started_82b),
        courses_82b_referred_85=sum(1 for c in started_82b if c.referred_to_85),
        active_courses=len(active),
        active_courses_by_kind=_counts(list(CourseKind), (c.kind for c in active)),
        by_channel=_counts(list(Channel), (r.channel for r in in_period)),
        by_inquirer_kind=_counts(list(InquirerKind), (r.inquirer_kind for r in in_period)),
        by_age_band=_counts([*AGE_BAND_LABELS, UNKNOWN], (band for band, _ in ages)),
        by_under_30=_counts([UNDER_30, AGE_30_AND_OVER, UNKNOWN], (flag for _, flag in ages)),
        by_topic=_counts(list(Topic), (topic for r in in_period for topic in r.topics)),
        by_outcome=_counts(
            [*Outcome, UNRESOLVED],
            (UNRESOLVED if r.outcome is None else r.outcome for r in in_period),
        ),
    )


@dataclass
class Counts:
    """A period's numbers before they are laid out as a Report: what the database
    counts (`services.intake.statistics_sql`). Keys are the stored values."""

    total_inquiries: int = 0
    courses_82b_started: int = 0
    courses_82b_referred_85: int = 0
    active_courses_by_kind: Counter[str] = field(default_factory=Counter)
    by_channel: Counter[str] = field(default_factory=Counter)
    by_inquirer_kind: Counter[str] = field(default_factory=Counter)
    by_age_band: Counter[str] = field(default_factory=Counter)
    by_under_30: Counter[str] = field(default_factory=Counter)
    by_topic: Counter[str] = field(default_factory=Counter)
    by_outcome: Counter[str] = field(default_factory=Counter)


def report_of_counts(
    period_start: dt.date, period_end: dt.date, counts: Counts, *, as_of: dt.date | None = None
) -> Report:
    """The Report of numbers counted elsewhere, laid out as `report` lays out its own."""
    if period_end < period_start:
        raise DomainError(
            "period_end", "statistics.period_reversed", "The period ends before it starts."
        )
    return Report(
        period_start=period_start,
        period_end=period_end,
        as_of=period_end if as_of is None else as_of,
        total_inquiries=counts.total_inquiries,
        courses_82b_started=counts.courses_82b_started,
        courses_82b_referred_85=counts.courses_82b_referred_85,
        active_courses=sum(counts.active_courses_by_kind.values()),
        active_courses_by_kind=_ordered(list(CourseKind), counts.active_courses_by_kind),
        by_channel=_ordered(list(Channel), counts.by_channel),
        by_inquirer_kind=_ordered(list(InquirerKind), counts.by_inquirer_kind),
        by_age_band=_ordered([*AGE_BAND_LABELS, UNKNOWN], counts.by_age_band),
        by_under_30=_ordered([UNDER_30, AGE_30_AND_OVER, UNKNOWN], counts.by_under_30),
        by_topic=_ordered(list(Topic), counts.by_topic),
        by_outcome=_ordered([*Outcome, UNRESOLVED], counts.by_outcome),
    )


# --- Danish text -------------------------------------------------------------------

_CHANNEL_DA: dict[str, str] = {
    Channel.WALK_IN: "Personlig henvendelse",
    Channel.PHONE: "Telefon",
    Channel.MAIL: "Mail",
    Channel.DIGITAL_FORM: "Digital formular",
}
_INQUIRER_DA: dict[str, str] = {
    InquirerKind.CITIZEN: "Borgeren selv",
    InquirerKind.RELATIVE: "Pårørende",
    InquirerKind.PROFESSIONAL: "Fagperson",
}
_TOPIC_DA: dict[str, str] = {
    Topic.HOUSING: "Bolig",
    Topic.ECONOMY: "Overblik over økonomi",
    Topic.LONELINESS: "Følelser eller ensomhed",
    Topic.ADDICTION: "Misbrug",
    Topic.MENTAL_HEALTH: "Psykiske udfordringer",
    Topic.PHYSICAL_HEALTH: "Fysiske udfordringer",
    Topic.EDUCATION: "Uddannelse",
    Topic.EMPLOYMENT: "Beskæftigelse",
    Topic.EVERYDAY_STRUCTURE: "Struktur i hverdagen",
    Topic.SOCIAL_ANXIETY: "Social angst",
    Topic.NETWORK: "Dialog med netværk",
    Topic.RENT_ARREARS: "Huslejerestancer",
    Topic.OTHER: "Andet",
}
_OUTCOME_DA: dict[str, str] = {
    Outcome.ADVICE_ONLY: "Råd og vejledning",
    Outcome.GROUP_COURSE_82A: "Gruppebaseret forløb (SEL § 82a)",
    Outcome.SOCIAL_SKILLS_TRAINING: "Social Færdighedstræning",
    Outcome.INDIVIDUAL_COURSE_82B: "Individuelt forløb (SEL § 82b)",
    Outcome.REFERRAL_85: "Henvist til udredning (SEL § 85)",
    Outcome.REFERRAL_PATHWAY: "Henvist til sammenhængende borgerforløb",
    Outcome.REFERRAL_OTHER: "Henvist til andet tilbud",
    UNRESOLVED: "Endnu ikke afklaret",
}
_COURSE_KIND_DA: dict[str, str] = {
    CourseKind.GROUP_82A: "Gruppebaserede forløb (SEL § 82a)",
    CourseKind.SFT: "Social Færdighedstræning",
    CourseKind.INDIVIDUAL_82B: "Individuelle forløb (SEL § 82b)",
}
_UNDER_30_DA: dict[str, str] = {
    UNDER_30: "Under 30 år",
    AGE_30_AND_OVER: "30 år og derover",
    UNKNOWN: "Ukendt",
}


def _age_band_da(label: str) -> str:
    if label == UNKNOWN:
        return "Ukendt (anonym henvendelse)"
    if label == BELOW_TARGET_AGE_BAND:
        return "Under 16 år"
    return f"{label} år"


def _date_da(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def referral_sentence(started: int, referred: int) -> str:
    """The seed-001 sentence on § 85 referrals, with "ingen" and singular/plural right."""
    tail = "henvist videre til udredning med henblik på at blive indstillet til en SEL § 85 ydelse."
    if started == 0:
        return "Der er ikke iværksat SEL § 82b forløb i perioden, og ingen borgere er " + tail
    courses = "Af det ene iværksatte" if started == 1 else f"Af de {started} iværksatte"
    if referred == 0:
        who = "ingen borgere"
    elif referred == 1:
        who = "1 borger"
    else:
        who = f"{referred} borgere"
    return f"{courses} SEL § 82b forløb er {who} {tail}"


def _section(title: str, counts: Mapping[str, int], labels: Mapping[str, str]) -> list[str]:
    lines = ["", f"{title}:"]
    lines += [f"  {labels.get(key, key)} = {count}" for key, count in counts.items()]
    return lines


def render_danish(report: Report) -> str:
    """The report as plain Danish text, in the style of Fronten's report to the committee."""
    lines = [
        "Statistik over Frontens arbejde i perioden "
        f"{_date_da(report.period_start)}-{_date_da(report.period_end)}:",
        "",
        f"Antal samlede henvendelser = {report.total_inquiries}",
        f"Antal iværksatte SEL § 82b forløb = {report.courses_82b_started}",
        "",
        referral_sentence(report.courses_82b_started, report.courses_82b_referred_85),
        "",
        f"Antal aktive forløb pr. {_date_da(report.as_of)} = {report.active_courses}",
    ]
    lines += [
        f"  {_COURSE_KIND_DA.get(kind, kind)} = {count}"
        for kind, count in report.active_courses_by_kind.items()
    ]
    lines += _section("Henvendelser fordelt på kanal", report.by_channel, _CHANNEL_DA)
    lines += _section(
        "Henvendelser fordelt på hvem der henvendte sig", report.by_inquirer_kind, _INQUIRER_DA
    )
    lines += _section(
        "Henvendelser fordelt på alder",
        report.by_age_band,
        {key: _age_band_da(key) for key in report.by_age_band},
    )
    lines += _section("Henvendelser fra borgere under 30 år", report.by_under_30, _UNDER_30_DA)
    lines += _section(
        "Henvendelser fordelt på emne (en henvendelse med flere emner tæller under hvert emne)",
        report.by_topic,
        _TOPIC_DA,
    )
    lines += _section("Henvendelser fordelt på udfald", report.by_outcome, _OUTCOME_DA)
    return "\n".join(lines) + "\n"
