"""The pure parts of the statistics in SQL (services/intake/statistics_sql.py): the age
steps and thresholds the database compares with, the pieces of a period (UTC offset
and thresholds constant), and the layout of counted numbers as a Report. The queries
themselves are compared with the reference on both databases in
tests/integration/intake/test_statistics_sql.py."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from contracts.vocabulary import Channel, CourseKind, InquirerKind, Outcome, Topic
from services.common.localtime import COPENHAGEN, local_day
from services.intake import statistics
from services.intake.cpr import age_on
from services.intake.statistics_sql import (
    AGE_STEPS,
    age_thresholds,
    period_window,
    pieces,
    years_back,
)

D = dt.date
MICRO = dt.timedelta(microseconds=1)


def offset(moment: dt.datetime) -> dt.timedelta | None:
    return moment.astimezone(COPENHAGEN).utcoffset()


def test_age_steps_are_the_ages_where_band_or_under_30_changes() -> None:
    assert AGE_STEPS == (0, 16, 18, 25, 30, 40, 50, 60)
    for age in range(0, 130):
        floor = max(step for step in AGE_STEPS if step <= age)
        assert statistics.age_keys(age) == statistics.age_keys(floor)


def test_years_back_from_29_february() -> None:
    assert years_back(D(2020, 2, 29), 1) == D(2019, 2, 28)
    assert years_back(D(2020, 2, 29), 4) == D(2016, 2, 29)
    assert years_back(D(2019, 3, 1), 19) == D(2000, 3, 1)


@given(
    st.dates(min_value=D(1950, 1, 1), max_value=D(2100, 12, 31)),
    st.integers(min_value=0, max_value=110 * 366),
)
def test_thresholds_give_exactly_age_on(day: dt.date, days_lived: int) -> None:
    born = day - dt.timedelta(days=days_lived)
    age = age_on(born, day)
    thresholds = age_thresholds(day)
    for step, threshold in zip(AGE_STEPS, thresholds, strict=True):
        assert (age >= step) == (days_lived >= threshold)


def test_born_29_february_is_a_year_older_on_1_march() -> None:
    born = D(2000, 2, 29)
    for day, age in [(D(2018, 2, 28), 17), (D(2018, 3, 1), 18), (D(2016, 2, 29), 16)]:
        reached = [s for s, t in zip(AGE_STEPS, age_thresholds(day), strict=True)
                   if (day - born).days >= t]
        assert max(reached) == max(s for s in AGE_STEPS if s <= age)


@given(
    st.dates(min_value=D(2000, 1, 1), max_value=D(2040, 12, 31)),
    st.integers(min_value=0, max_value=800),
)
def test_pieces_cover_the_period_with_one_offset_and_one_set_of_thresholds(
    first: dt.date, length: int
) -> None:
    last = first + dt.timedelta(days=length)
    lo, hi = period_window(first, last)
    cut = pieces(first, last)
    assert cut[0].start == lo
    assert [p.start for p in cut] == sorted({p.start for p in cut})
    for piece, end in zip(cut, [p.start for p in cut[1:]] + [hi], strict=True):
        assert piece.start < end
        assert offset(piece.start) == offset(end - MICRO) == piece.offset
        assert age_thresholds(local_day(end - MICRO)) == piece.thresholds
        assert age_thresholds(local_day(piece.start)) == piece.thresholds


def test_the_days_summer_time_begins_and_ends_are_cut_at_0100_utc() -> None:
    spring = pieces(D(2018, 3, 25), D(2018, 3, 25))
    assert [(p.start, p.offset) for p in spring] == [
        (dt.datetime(2018, 3, 24, 23, 0, tzinfo=dt.UTC), dt.timedelta(hours=1)),
        (dt.datetime(2018, 3, 25, 1, 0, tzinfo=dt.UTC), dt.timedelta(hours=2)),
    ]
    autumn = pieces(D(2018, 10, 28), D(2018, 10, 28))
    assert [p.offset for p in autumn] == [dt.timedelta(hours=2), dt.timedelta(hours=1)]
    assert autumn[1].start == dt.datetime(2018, 10, 28, 1, 0, tzinfo=dt.UTC)
    # A year: two offset changes, and the thresholds move after 28 February.
    assert len(pieces(D(2018, 1, 1), D(2018, 12, 31))) <= 5


inquiries = st.builds(
    statistics.InquiryRecord,
    registered_on=st.dates(min_value=D(2018, 1, 1), max_value=D(2018, 12, 31)),
    channel=st.sampled_from(Channel),
    inquirer_kind=st.sampled_from(InquirerKind),
    topics=st.frozensets(st.sampled_from(Topic), min_size=1, max_size=4),
    outcome=st.none() | st.sampled_from(Outcome),
    birth_date=st.none() | st.dates(min_value=D(1930, 1, 1), max_value=D(2017, 12, 31)),
)
courses = st.builds(
    statistics.CourseRecord,
    kind=st.sampled_from(CourseKind),
    started_on=st.dates(min_value=D(2017, 6, 1), max_value=D(2019, 6, 1)),
    ended_on=st.none() | st.dates(min_value=D(2017, 6, 1), max_value=D(2019, 6, 1)),
    referred_to_85=st.booleans(),
    birth_date=st.none(),
)


def tally(first: dt.date, last: dt.date, day: dt.date, records: list[statistics.InquiryRecord],
          course_records: list[statistics.CourseRecord]) -> statistics.Counts:
    """Count as the database does: sums per stored value."""
    counts = statistics.Counts()
    for r in records:
        if not first <= r.registered_on <= last:
            continue
        counts.total_inquiries += 1
        counts.by_channel[r.channel.value] += 1
        counts.by_inquirer_kind[r.inquirer_kind.value] += 1
        counts.by_outcome[r.outcome.value if r.outcome else statistics.UNRESOLVED] += 1
        age = None if r.birth_date is None else age_on(r.birth_date, r.registered_on)
        band, under_30 = statistics.age_keys(age)
        counts.by_age_band[band] += 1
        counts.by_under_30[under_30] += 1
        counts.by_topic.update(Counter(t.value for t in r.topics))
    for c in course_records:
        if c.started_on <= day and (c.ended_on is None or c.ended_on >= day):
            counts.active_courses_by_kind[c.kind.value] += 1
        if c.kind is CourseKind.INDIVIDUAL_82B and first <= c.started_on <= last:
            counts.courses_82b_started += 1
            counts.courses_82b_referred_85 += c.referred_to_85
    return counts


@given(
    st.lists(inquiries, max_size=40),
    st.lists(courses, max_size=20),
    st.dates(min_value=D(2018, 1, 1), max_value=D(2018, 12, 31)),
    st.integers(min_value=0, max_value=200),
    st.none() | st.dates(min_value=D(2017, 6, 1), max_value=D(2019, 6, 1)),
)
def test_counted_numbers_are_laid_out_as_the_pure_report_lays_out_its_own(
    records: list[statistics.InquiryRecord], course_records: list[statistics.CourseRecord],
    first: dt.date, length: int, as_of: dt.date | None,
) -> None:
    last = first + dt.timedelta(days=length)
    counts = tally(first, last, as_of or last, records, course_records)
    laid_out = statistics.report_of_counts(first, last, counts, as_of=as_of)
    reference = statistics.report(first, last, records, course_records, as_of=as_of)
    assert laid_out == reference
    assert statistics.render_danish(laid_out) == statistics.render_danish(reference)
