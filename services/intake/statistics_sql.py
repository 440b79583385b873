"""Fronten's statistics counted by the database (issue 14, P4).

`period_report` gives the same Report as the pure `statistics.report` over every stored
inquiry and course (tests hold the two to it on SQLite and PostgreSQL), but the
database does the counting: no ORM entity is built, no JSON column but the topics is
read, and only the courses the period needs are read. Five statements in one read
transaction (a snapshot on PostgreSQL, so the numbers agree with each other):

1. the period's inquiries, grouped by channel, inquirer kind, outcome and age step (see
   below), with an outer join to the citizen's birth date;
2. the same inquiries grouped by the text of their topics list: a few hundred distinct
   lists, each parsed once here (the JSON is text on SQLite and `json` on PostgreSQL;
   its text is the same on both, so no JSON function is needed);
3. the courses active on `as_of`, by kind: two ranges of the index (ended_on,
   start_date, kind), so a recent day reads few index entries and no row;
4. and 5. the § 82 b courses started in the period (index (kind, start_date, id)), and
   how many of them have a § 85 referral.

The age is the one thing that needs care. It is taken on the Copenhagen day an inquiry
was registered, from a naive UTC timestamp, and no per-row time-zone conversion or
date arithmetic is cheap (PostgreSQL's timezone() alone costs more than the whole
GROUP BY) or portable (SQLite has no time zones). So the period is cut into pieces
(`pieces`) in which Copenhagen's UTC offset is constant, and so are the age thresholds:
the fewest days lived that make someone 16, 18, 25, 30, 40, 50 or 60 on a day, which
move only around 29 February. In a piece the day is the timestamp plus the offset, and
the age step is how many thresholds the days lived reach; `age_keys` of the step's
age gives the age band and the under-30 key, exactly as `cpr.age_on` would. A year has
at most five pieces.

`reference_report` is the implementation the RPC used before: every row as an ORM
entity, into the pure report. It stays for the tests that compare the two and for
`bench/intake_statistics.py`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Interval,
    String,
    case,
    cast,
    distinct,
    func,
    literal,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from contracts.vocabulary import Channel, CourseKind, InquirerKind, Outcome, Topic
from services.common.errors import DomainError
from services.common.localtime import COPENHAGEN, local_day, start_of_local_day
from services.common.types import UTCDateTime
from services.intake import statistics
from services.intake.models import Citizen, CourseRow, Inquiry, Referral85Row


def period_window(period_start: dt.date, period_end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Registered in the period in Copenhagen: from the start of its first day to the
    start of the day after its last (UTC moments)."""
    return (start_of_local_day(period_start),
            start_of_local_day(period_end + dt.timedelta(days=1)))


# --- the Copenhagen day and the age, in SQL ----------------------------------------------

# The ages at which an inquiry moves to another age band or under-30 key, from 0 up:
# between two of them (and above the last) statistics.age_keys gives one answer.
AGE_STEPS: tuple[int, ...] = (0, *(
    age for age in range(1, 151) if statistics.age_keys(age) != statistics.age_keys(age - 1)
))


def _offset(moment: dt.datetime) -> dt.timedelta:
    offset = moment.astimezone(COPENHAGEN).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return offset


def utc_offsets(lo: dt.datetime, hi: dt.datetime) -> list[tuple[dt.datetime, dt.timedelta]]:
    """Copenhagen's UTC offset over [lo, hi) as pieces `(start, offset)`, each holding up
    to the next piece's start (the last up to `hi`)."""
    found = [(lo, _offset(lo))]
    moment = lo
    while moment < hi:
        end = min(moment + dt.timedelta(days=1), hi)
        last = end - dt.timedelta(microseconds=1)
        current = found[-1][1]
        if _offset(last) == current:
            moment = end
            continue
        # The offset changes within this day: find the first moment of the new one
        # (`before` still has the current offset: the moment before this day, or lo).
        before, after = (moment - dt.timedelta(microseconds=1) if moment > lo else moment), last
        while after - before > dt.timedelta(microseconds=1):
            middle = before + (after - before) / 2
            if _offset(middle) == current:
                before = middle
            else:
                after = middle
        found.append((after, _offset(after)))
        moment = after
    return found


def years_back(day: dt.date, years: int) -> dt.date:
    """The last birth date that makes someone `years` old on `day` (cpr.age_on): the
    same date `years` earlier; 28 February for 29 February in a year without one."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return dt.date(day.year - years, 2, 28)


def age_thresholds(day: dt.date) -> tuple[int, ...]:
    """For each age in AGE_STEPS, the fewest days from birth to `day` that make someone
    that old on `day`: age >= AGE_STEPS[k] exactly when the days are >= the k-th."""
    return tuple((day - years_back(day, age)).days for age in AGE_STEPS)


@dataclass(frozen=True)
class Piece:
    """A stretch of the period in which the UTC offset and the age thresholds hold."""

    start: dt.datetime  # UTC
    offset: dt.timedelta
    thresholds: tuple[int, ...]


def pieces(period_start: dt.date, period_end: dt.date) -> list[Piece]:
    """The period [start of its first day, start of the day after its last) in
    Copenhagen, cut where the UTC offset changes or the age thresholds do (they move
    with leap days: a handful of pieces a year)."""
    lo, hi = period_window(period_start, period_end)
    cuts = {start for start, _ in utc_offsets(lo, hi)}
    day, previous = period_start, None
    while day <= period_end:
        thresholds = age_thresholds(day)
        if thresholds != previous:
            cuts.add(start_of_local_day(day))
            previous = thresholds
        day += dt.timedelta(days=1)
    return [Piece(start, _offset(start), age_thresholds(local_day(start)))
            for start in sorted(cuts)]


def _days_lived(dialect: str, registered_at: Any, offset: dt.timedelta, born: Any) -> Any:
    """Days from the birth date to the Copenhagen day of `registered_at`, given the UTC
    offset that holds for it."""
    minutes = int(offset.total_seconds() // 60)
    if dialect == "postgresql":
        shift = literal_column(f"INTERVAL '{minutes} minutes'", Interval)
        return cast(registered_at + shift, Date) - born
    # SQLite keeps times to the millisecond: "23:59:59.999999" would round up to the
    # next day. The whole seconds ("YYYY-MM-DD HH:MM:SS") decide the day exactly.
    local = func.date(func.substr(registered_at, 1, 19), f"{minutes:+d} minutes")
    return cast(func.julianday(local) - func.julianday(born), Integer)


def _step(dialect: str, days: Any, thresholds: tuple[int, ...]) -> Any:
    """How many thresholds `days` reaches: 0 before birth, k for AGE_STEPS[k - 1]."""
    if dialect == "postgresql":
        return func.width_bucket(days, postgresql.array([literal(t) for t in thresholds]))
    return case(
        *[(days >= t, k + 1) for k, t in reversed(list(enumerate(thresholds)))], else_=0
    )


def _age_step(dialect: str, period_start: dt.date, period_end: dt.date) -> Any:
    """The age step of an inquiry on the Copenhagen day it was registered (see _step);
    NULL when anonymous."""
    cut = pieces(period_start, period_end)
    moment, born = Inquiry.registered_at, Citizen.birth_date
    whens: list[tuple[Any, Any]] = [(born.is_(None), None)]
    for piece, following in zip(cut, [*cut[1:], None], strict=True):
        step = _step(dialect, _days_lived(dialect, moment, piece.offset, born), piece.thresholds)
        if following is None:
            return case(*whens, else_=step)
        whens.append((moment < literal(following.start, UTCDateTime()), step))
    raise AssertionError("a period has at least one piece")


# --- the report -----------------------------------------------------------------------------


# PostgreSQL's work_mem for the report's transaction: it cannot estimate how few groups
# the age step makes, and with the default 4 MB it would sort the period's rows on disk
# instead of hashing them (and hash the citizens in batches).
REPORT_WORK_MEM = "64MB"


def _begin(session: Session) -> None:
    """PostgreSQL: one snapshot for every statement of the report (SQLite's transaction
    is one already), and room to hash."""
    if session.get_bind().dialect.name != "postgresql":
        return
    if not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))


def period_report(
    session: Session, period_start: dt.date, period_end: dt.date, *, as_of: dt.date | None = None
) -> statistics.Report:
    """Fronten's report for the period (both days included), counted by the database."""
    if period_end < period_start:
        raise DomainError(
            "period_end", "statistics.period_reversed", "The period ends before it starts."
        )
    _begin(session)
    day = period_end if as_of is None else as_of
    counts = statistics.Counts()
    _count_inquiries(session, period_start, period_end, counts)
    _count_topics(session, period_start, period_end, counts)
    _count_courses(session, period_start, period_end, day, counts)
    return statistics.report_of_counts(period_start, period_end, counts, as_of=as_of)


def _in_window(lo: dt.datetime, hi: dt.datetime) -> list[ColumnElement[bool]]:
    return [Inquiry.registered_at >= lo, Inquiry.registered_at < hi]


def _count_inquiries(
    session: Session, period_start: dt.date, period_end: dt.date, counts: statistics.Counts
) -> None:
    dialect = session.get_bind().dialect.name
    lo, hi = period_window(period_start, period_end)
    rows = (
        select(
            Inquiry.channel.label("channel"),
            Inquiry.inquirer_kind.label("inquirer_kind"),
            Inquiry.outcome.label("outcome"),
            _age_step(dialect, period_start, period_end).label("step"),
        )
        .outerjoin(Citizen, Citizen.citizen_ref == Inquiry.citizen_ref)
        .where(*_in_window(lo, hi))
        .subquery()
    )
    grouped = select(
        rows.c.channel, rows.c.inquirer_kind, rows.c.outcome, rows.c.step, func.count()
    ).group_by(rows.c.channel, rows.c.inquirer_kind, rows.c.outcome, rows.c.step)
    for channel, inquirer_kind, outcome, step, n in session.execute(grouped):
        if step == 0:
            raise DomainError(
                "birth_date", "age.before_birth", "The day is before the birth date."
            )
        band, under_30 = statistics.age_keys(None if step is None else AGE_STEPS[step - 1])
        counts.total_inquiries += n
        counts.by_channel[str(Channel(channel))] += n
        counts.by_inquirer_kind[str(InquirerKind(inquirer_kind))] += n
        key = str(Outcome(outcome)) if outcome else statistics.UNRESOLVED
        counts.by_outcome[key] += n
        counts.by_age_band[band] += n
        counts.by_under_30[under_30] += n


def _count_topics(
    session: Session, period_start: dt.date, period_end: dt.date, counts: statistics.Counts
) -> None:
    lo, hi = period_window(period_start, period_end)
    rows = (
        select(cast(Inquiry.topics, String).label("topics"))
        .where(*_in_window(lo, hi))
        .subquery()
    )
    grouped = select(rows.c.topics, func.count()).group_by(rows.c.topics)
    for listed, n in session.execute(grouped):
        # A set: a topic listed twice counts once, as in InquiryRecord.
        topics = {Topic(t) for t in json.loads(listed)}
        if not topics:
            raise DomainError("topics", "inquiry.topics_missing", "An inquiry has a topic.")
        for topic in topics:
            counts.by_topic[str(topic)] += n


def _count_courses(
    session: Session, period_start: dt.date, period_end: dt.date, day: dt.date,
    counts: statistics.Counts,
) -> None:
    # Active on `day`: started by then, and running or ended on or after it. Two index
    # ranges on (ended_on, start_date, kind), so that a recent day reads few entries.
    started = CourseRow.start_date <= day
    active = union_all(
        select(CourseRow.kind).where(CourseRow.ended_on.is_(None), started),
        select(CourseRow.kind).where(CourseRow.ended_on >= day, started),
    ).subquery()
    for kind, n in session.execute(
        select(active.c.kind, func.count()).group_by(active.c.kind)
    ):
        counts.active_courses_by_kind[str(CourseKind(kind))] += n
    # § 82 b courses started in the period (index (kind, start_date, id)), and those of
    # them with a § 85 referral (a course referred twice counts once).
    in_period = (
        CourseRow.kind == CourseKind.INDIVIDUAL_82B.value,
        CourseRow.start_date >= period_start,
        CourseRow.start_date <= period_end,
    )
    counts.courses_82b_started = session.execute(
        select(func.count()).select_from(CourseRow).where(*in_period)
    ).scalar_one()
    counts.courses_82b_referred_85 = session.execute(
        select(func.count(distinct(Referral85Row.course_id)))
        .join(CourseRow, CourseRow.id == Referral85Row.course_id)
        .where(*in_period)
    ).scalar_one()


# --- the implementation before issue 14, kept as the reference ----------------------------


def reference_report(
    session: Session, period_start: dt.date, period_end: dt.date, *, as_of: dt.date | None = None
) -> statistics.Report:
    """The report as the RPC made it before: the period's inquiries and every course
    started up to the period's end as ORM entities, into the pure `statistics.report`.
    Slow and memory-hungry over a large history; kept to check `period_report` against."""
    day = as_of or period_end
    lo, hi = period_window(period_start, period_end)
    inquiry_rows = session.execute(
        select(Inquiry, Citizen.birth_date)
        .outerjoin(Citizen, Citizen.citizen_ref == Inquiry.citizen_ref)
        .where(*_in_window(lo, hi))
    ).all()
    course_rows = session.scalars(
        select(CourseRow).where(CourseRow.start_date <= max(period_end, day))
    ).all()
    referred = set(session.scalars(select(Referral85Row.course_id).distinct()).all())
    inquiry_records = [
        statistics.InquiryRecord(
            registered_on=local_day(inquiry.registered_at),
            channel=Channel(inquiry.channel),
            inquirer_kind=InquirerKind(inquiry.inquirer_kind),
            topics=frozenset(Topic(t) for t in inquiry.topics),
            outcome=Outcome(inquiry.outcome) if inquiry.outcome else None,
            birth_date=birth_date,
        )
        for inquiry, birth_date in inquiry_rows
    ]
    course_records = [
        statistics.CourseRecord(
            kind=CourseKind(c.kind),
            started_on=c.start_date,
            ended_on=c.ended_on,
            referred_to_85=c.id in referred,
            birth_date=None,
        )
        for c in course_rows
    ]
    return statistics.report(
        period_start, period_end, inquiry_records, course_records, as_of=as_of
    )
