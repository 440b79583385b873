import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.vocabulary import Channel, CourseKind, InquirerKind, Outcome, Topic
from services.common.errors import DomainError
from services.intake.statistics import (
    CourseRecord,
    InquiryRecord,
    Report,
    referral_sentence,
    render_danish,
    report,
)

D = dt.date
PERIOD = (D(2018, 4, 1), D(2018, 7, 31))
SEED_SENTENCE = (
    "Af de 65 iværksatte SEL § 82b forløb er ingen borgere henvist videre til udredning "
    "med henblik på at blive indstillet til en SEL § 85 ydelse."
)


def inquiry(
    registered_on: dt.date,
    *,
    channel: Channel = Channel.WALK_IN,
    inquirer_kind: InquirerKind = InquirerKind.CITIZEN,
    topics: tuple[Topic, ...] = (Topic.HOUSING,),
    outcome: Outcome | None = Outcome.ADVICE_ONLY,
    birth_date: dt.date | None = None,
) -> InquiryRecord:
    return InquiryRecord(
        registered_on, channel, inquirer_kind, frozenset(topics), outcome, birth_date
    )


def course(
    started_on: dt.date,
    *,
    kind: CourseKind = CourseKind.INDIVIDUAL_82B,
    ended_on: dt.date | None = None,
    referred_to_85: bool = False,
) -> CourseRecord:
    return CourseRecord(kind, started_on, ended_on, referred_to_85, None)


def seed_2018() -> tuple[list[InquiryRecord], list[CourseRecord]]:
    """Fronten's first four months (seed 001), plus records just outside the period."""
    days = [PERIOD[0] + dt.timedelta(days=n) for n in range(122)]  # 1 April .. 31 July
    assert days[-1] == PERIOD[1]
    channels = itertools.cycle(Channel)
    kinds = itertools.cycle(InquirerKind)
    outcomes = itertools.cycle([*Outcome, None])
    inquiries = [
        inquiry(
            days[n % len(days)] if n < 200 else PERIOD[n % 2],  # both end days included
            channel=next(channels),
            inquirer_kind=next(kinds),
            topics=(Topic.HOUSING, Topic.ECONOMY) if n % 5 == 0 else (Topic.LONELINESS,),
            outcome=next(outcomes),
            birth_date=None if n % 4 == 0 else D(1990 + n % 10, 1 + n % 12, 1 + n % 28),
        )
        for n in range(204)
    ]
    inquiries += [
        inquiry(D(2018, 3, 31)),  # the day before
        inquiry(D(2018, 8, 1)),  # the day after
        inquiry(D(2017, 5, 1)),
    ]
    courses = [course(days[n]) for n in range(0, 122, 2)]  # 61 courses
    courses += [course(PERIOD[0]), course(PERIOD[0]), course(PERIOD[1]), course(PERIOD[1])]
    courses += [
        course(D(2018, 3, 31), referred_to_85=True),  # started before: not counted
        course(D(2018, 8, 1), referred_to_85=True),  # started after: not counted
        course(D(2018, 5, 1), kind=CourseKind.SFT, referred_to_85=True),  # not § 82 b
        course(D(2018, 5, 1), kind=CourseKind.GROUP_82A),
    ]
    return inquiries, courses


def seed_report() -> Report:
    inquiries, courses = seed_2018()
    return report(*PERIOD, inquiries, courses)


def test_seed_2018_gives_fronten_s_own_numbers() -> None:
    result = seed_report()
    assert result.total_inquiries == 204
    assert result.courses_82b_started == 65
    assert result.courses_82b_referred_85 == 0


def test_seed_2018_renders_the_seed_sentences() -> None:
    text = render_danish(seed_report())
    lines = text.splitlines()
    assert "Antal samlede henvendelser = 204" in lines
    assert "Antal iværksatte SEL § 82b forløb = 65" in lines
    assert SEED_SENTENCE in lines
    assert lines[0] == "Statistik over Frontens arbejde i perioden 01.04.2018-31.07.2018:"


def test_breakdowns_add_up() -> None:
    result = seed_report()
    for breakdown in (
        result.by_channel,
        result.by_inquirer_kind,
        result.by_age_band,
        result.by_under_30,
        result.by_outcome,
    ):
        assert sum(breakdown.values()) == result.total_inquiries
    # 41 of the 204 have two topics, and count under both.
    assert sum(result.by_topic.values()) == 204 + 41
    assert result.by_topic["housing"] == result.by_topic["economy"] == 41
    assert result.by_age_band["unknown"] == result.by_under_30["unknown"] == 51
    assert sum(result.active_courses_by_kind.values()) == result.active_courses


def test_every_known_value_is_listed_even_when_zero() -> None:
    result = report(*PERIOD, [], [])
    assert set(result.by_channel) == {c.value for c in Channel}
    assert set(result.by_outcome) == {o.value for o in Outcome} | {"unresolved"}
    assert list(result.by_age_band) == [
        "16-17",
        "18-24",
        "25-29",
        "30-39",
        "40-49",
        "50-59",
        "60+",
        "unknown",
    ]
    assert sum(result.by_topic.values()) == 0


def test_an_inquiry_with_two_topics_counts_under_both() -> None:
    two = inquiry(D(2018, 5, 1), topics=(Topic.HOUSING, Topic.RENT_ARREARS, Topic.HOUSING))
    result = report(*PERIOD, [two], [])
    assert result.total_inquiries == 1
    assert result.by_topic["housing"] == result.by_topic["rent_arrears"] == 1


def test_outcome_none_is_unresolved_and_keys_are_plain_strings() -> None:
    result = report(*PERIOD, [inquiry(D(2018, 5, 1), outcome=None)], [])
    assert result.by_outcome["unresolved"] == 1
    assert all(type(key) is str for key in result.by_outcome)


def test_age_is_taken_on_the_day_of_the_inquiry() -> None:
    born = D(1988, 5, 2)  # 30 on 2 May 2018
    records = [
        inquiry(D(2018, 5, 1), birth_date=born),
        inquiry(D(2018, 5, 2), birth_date=born),
        inquiry(D(2018, 5, 3)),
        inquiry(D(2018, 5, 3), birth_date=D(2003, 1, 1)),  # 15: outside the target group
    ]
    result = report(*PERIOD, records, [])
    assert result.by_age_band["25-29"] == result.by_age_band["30-39"] == 1
    assert result.by_age_band["unknown"] == result.by_age_band["0-15"] == 1
    assert result.by_under_30 == {"under_30": 2, "30_and_over": 1, "unknown": 1}


def test_active_courses_on_a_day() -> None:
    day = PERIOD[1]
    courses = [
        course(D(2018, 1, 1)),  # running
        course(D(2018, 1, 1), ended_on=day),  # ends that day: still active
        course(D(2018, 1, 1), ended_on=day - dt.timedelta(days=1)),  # ended the day before
        course(day),  # starts that day
        course(day + dt.timedelta(days=1)),  # not yet started
        course(D(2018, 2, 1), kind=CourseKind.SFT),
    ]
    result = report(*PERIOD, [], courses)
    assert result.as_of == day
    assert result.active_courses == 4
    assert result.active_courses_by_kind == {"group_82a": 0, "sft": 1, "individual_82b": 3}
    earlier = report(*PERIOD, [], courses, as_of=D(2018, 7, 30))
    assert earlier.active_courses == 4  # the one ending on 30 July is active, 31 July's start not
    assert "Antal aktive forløb pr. 30.07.2018 = 4" in render_danish(earlier)


def test_referrals_count_only_among_courses_started_in_the_period() -> None:
    courses = [
        course(D(2018, 4, 1), referred_to_85=True),
        course(D(2018, 6, 1), referred_to_85=False),
        course(D(2018, 3, 1), referred_to_85=True),
    ]
    result = report(*PERIOD, [], courses)
    assert (result.courses_82b_started, result.courses_82b_referred_85) == (2, 1)
    assert "Af de 2 iværksatte SEL § 82b forløb er 1 borger henvist videre" in render_danish(result)


@pytest.mark.parametrize(
    ("started", "referred", "start_of_sentence"),
    [
        (65, 0, "Af de 65 iværksatte SEL § 82b forløb er ingen borgere henvist videre"),
        (65, 1, "Af de 65 iværksatte SEL § 82b forløb er 1 borger henvist videre"),
        (65, 3, "Af de 65 iværksatte SEL § 82b forløb er 3 borgere henvist videre"),
        (1, 0, "Af det ene iværksatte SEL § 82b forløb er ingen borgere henvist videre"),
        (1, 1, "Af det ene iværksatte SEL § 82b forløb er 1 borger henvist videre"),
        (0, 0, "Der er ikke iværksat SEL § 82b forløb i perioden, og ingen borgere er henvist"),
    ],
)
def test_referral_sentence_uses_ingen_and_number_properly(
    started: int, referred: int, start_of_sentence: str
) -> None:
    sentence = referral_sentence(started, referred)
    assert sentence.startswith(start_of_sentence)
    assert sentence.endswith("med henblik på at blive indstillet til en SEL § 85 ydelse.")


def test_danish_text_names_the_breakdowns_in_danish() -> None:
    text = render_danish(seed_report())
    assert "Henvendelser fordelt på kanal:" in text
    assert "  Telefon = " in text
    assert "  Pårørende = " in text
    assert "  Ukendt (anonym henvendelse) = 51" in text
    assert "en henvendelse med flere emner tæller under hvert emne" in text
    assert "  Endnu ikke afklaret = " in text
    assert "phone" not in text and "unresolved" not in text


def test_a_reversed_period_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        report(D(2018, 7, 31), D(2018, 4, 1), [], [])
    assert (error.value.field, error.value.rule) == ("period_end", "statistics.period_reversed")


def test_an_inquiry_needs_a_topic() -> None:
    with pytest.raises(DomainError):
        inquiry(D(2018, 5, 1), topics=())


inquiry_records = st.builds(
    InquiryRecord,
    registered_on=st.dates(D(2018, 1, 1), D(2018, 12, 31)),
    channel=st.sampled_from(Channel),
    inquirer_kind=st.sampled_from(InquirerKind),
    topics=st.frozensets(st.sampled_from(Topic), min_size=1),
    outcome=st.none() | st.sampled_from(Outcome),
    birth_date=st.none() | st.dates(D(1940, 1, 1), D(2001, 12, 31)),
)


@given(st.lists(inquiry_records, max_size=40))
def test_breakdowns_always_add_up(records: list[InquiryRecord]) -> None:
    result = report(*PERIOD, records, [])
    in_period = [r for r in records if PERIOD[0] <= r.registered_on <= PERIOD[1]]
    assert result.total_inquiries == len(in_period)
    for breakdown in (
        result.by_channel,
        result.by_inquirer_kind,
        result.by_age_band,
        result.by_under_30,
        result.by_outcome,
    ):
        assert sum(breakdown.values()) == len(in_period)
    assert sum(result.by_topic.values()) == sum(len(r.topics) for r in in_period)
