"""Synthetic rows for Fronten's statistics (issue 14, P4): citizens, inquiries, courses
and § 85 referrals, as intake's use cases would have stored them, written straight
into the tables (thousands for the comparison test, a million for bench/intake_statistics.py).

`history` makes a steady stream over a span of days, in time order; `edge_cases`
adds rows on the edges of the periods a test asks about: Copenhagen midnight on
either side of the first and last day (DST included), birthdays on the day of
registration (29 February too), courses starting or ending on the edges, running
courses, extended courses, every topic, channel, inquirer kind and outcome.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert

from contracts.vocabulary import Channel, CourseKind, InquirerKind, Outcome, Topic
from services.common.localtime import local_day, start_of_local_day
from services.intake.courses import CourseSettings
from services.intake.models import metadata

Row = dict[str, Any]
SETTINGS = dataclasses.asdict(CourseSettings())
STAFF = "staff:fronten-bench"
COURSE_OF_OUTCOME = {
    Outcome.GROUP_COURSE_82A: CourseKind.GROUP_82A,
    Outcome.SOCIAL_SKILLS_TRAINING: CourseKind.SFT,
    Outcome.INDIVIDUAL_COURSE_82B: CourseKind.INDIVIDUAL_82B,
}
OUTCOMES: list[Outcome | None] = [*Outcome, None]
# How often each outcome is drawn (None: not resolved yet).
OUTCOME_WEIGHTS = [30, 6, 6, 20, 4, 6, 8, 20]


@dataclass
class Rows:
    citizens: list[Row] = field(default_factory=list)
    inquiries: list[Row] = field(default_factory=list)
    courses: list[Row] = field(default_factory=list)
    referrals: list[Row] = field(default_factory=list)

    def extend(self, other: Rows) -> None:
        self.citizens += other.citizens
        self.inquiries += other.inquiries
        self.courses += other.courses
        self.referrals += other.referrals

    def __len__(self) -> int:
        return len(self.inquiries)


def citizen_row(number: int, birth_date: dt.date, at: dt.datetime) -> Row:
    return {
        "citizen_ref": uuid.UUID(int=number + 1),
        "cpr_lookup_hash": f"{number:064x}",
        "cpr_encrypted": "synthetic",
        "birth_date": birth_date,
        "name": f"Borger {number}",
        "name_key": f"borger {number}",
        "email": None,
        "phone": None,
        "address": None,
        "preferred_channel": "letter",
        "registered_at": at,
        "registered_by": STAFF,
        "updated_at": at,
    }


def inquiry_row(
    at: dt.datetime, *, channel: Channel, inquirer_kind: InquirerKind, topics: list[str],
    citizen_ref: uuid.UUID | None, outcome: str | None,
) -> Row:
    return {
        "id": uuid.uuid4(),
        "registered_at": at,
        "channel": str(channel),
        "inquirer_kind": str(inquirer_kind),
        "topics": topics,
        "wish": "Mine egne ord.",
        "citizen_ref": citizen_ref,
        "registered_by": STAFF,
        "outcome": outcome,
        "conversations": 1 if outcome == Outcome.ADVICE_ONLY else None,
        "resolved_at": None if outcome is None else at + dt.timedelta(days=1),
        "resolved_by": None if outcome is None else STAFF,
    }


def course_row(
    kind: CourseKind, start: dt.date, *, citizen_ref: uuid.UUID, inquiry_id: uuid.UUID | None,
    ended_on: dt.date | None, planned_end: dt.date, extended_to: dt.date | None = None,
) -> Row:
    at = start_of_local_day(start) + dt.timedelta(hours=9)
    running = ended_on is None
    return {
        "id": uuid.uuid4(),
        "citizen_ref": citizen_ref,
        "inquiry_id": inquiry_id,
        "kind": str(kind),
        "start_date": start,
        "planned_end": extended_to or planned_end,
        "status": "active" if running else "ended",
        "ended_on": ended_on,
        "end_reason": None if running else "completed",
        "goals": ["Mit eget mål.", "Komme ud af huset."],
        "follow_up_dates": [(start + dt.timedelta(days=14 * k)).isoformat() for k in (1, 2, 3)],
        "bridging_partner_kinds": ["employment"] if kind is CourseKind.INDIVIDUAL_82B else [],
        "review_requested_on": None if extended_to is None else planned_end - dt.timedelta(28),
        "review_planned_end": extended_to,
        "review_decided_on": None if extended_to is None else planned_end - dt.timedelta(14),
        "review_decision": None if extended_to is None else "continue",
        "bridging_due_on": planned_end - dt.timedelta(days=60),
        "review_due_on": planned_end - dt.timedelta(days=28),
        "last_message_on": start,
        "imported": False,
        "fired": [f"follow_up_due:{(start + dt.timedelta(days=14)).isoformat()}"],
        "settings": SETTINGS,
        "started_by": STAFF,
        "created_at": at,
        "updated_at": at,
        "responsible_staff_id": "fronten-anne",
        "responsible_name": "Anne Andersen",
        "responsible_email": "anne@ballerup.example",
        "responsible_phone": None,
    }


def referral_row(course_id: uuid.UUID, on: dt.date) -> Row:
    return {"course_id": course_id, "referred_on": on, "outcome": None, "outcome_on": None}


def _topics(rng: random.Random) -> list[str]:
    topics = rng.sample(list(Topic), rng.choice((1, 1, 1, 2, 2, 3)))
    return [str(t) for t in topics]


def _birth(rng: random.Random, on: dt.date) -> dt.date:
    # Mostly the target group (16 to 67), some younger and older.
    years = rng.choice((rng.randint(16, 29), rng.randint(16, 29), rng.randint(30, 66),
                        rng.randint(10, 15), rng.randint(67, 90)))
    return on - dt.timedelta(days=int(years * 365.25) + rng.randint(0, 364))


class Citizens:
    """Citizens made so far; an identified inquiry is a new citizen or, often, a
    returning one."""

    def __init__(self, first_number: int = 0) -> None:
        self.next_number = first_number
        self.known: list[uuid.UUID] = []

    def pick(self, rng: random.Random, at: dt.datetime, rows: Rows) -> uuid.UUID:
        if self.known and rng.random() < 0.4:
            return self.known[rng.randrange(max(0, len(self.known) - 5000), len(self.known))]
        row = citizen_row(self.next_number, _birth(rng, local_day(at)), at)
        self.next_number += 1
        rows.citizens.append(row)
        self.known.append(row["citizen_ref"])
        return row["citizen_ref"]


def _course(
    rng: random.Random, kind: CourseKind, registered_on: dt.date, citizen: uuid.UUID,
    inquiry_id: uuid.UUID | None, now: dt.date, rows: Rows,
) -> None:
    start = registered_on + dt.timedelta(days=rng.randint(0, 21))
    months = {CourseKind.INDIVIDUAL_82B: 6, CourseKind.SFT: 9, CourseKind.GROUP_82A: 4}[kind]
    planned_end = start + dt.timedelta(days=30 * months)
    extended_to = planned_end + dt.timedelta(days=90) if rng.random() < 0.1 else None
    ends_on = start + dt.timedelta(days=rng.randint(14, 30 * months + (90 if extended_to else 0)))
    # Some run on past their planned end, nobody having ended them (end overdue).
    ended_on = ends_on if ends_on <= now and rng.random() < 0.95 else None
    row = course_row(kind, start, citizen_ref=citizen, inquiry_id=inquiry_id,
                     ended_on=ended_on, planned_end=planned_end, extended_to=extended_to)
    rows.courses.append(row)
    if kind is CourseKind.INDIVIDUAL_82B and rng.random() < 0.08:
        rows.referrals.append(referral_row(row["id"], start + dt.timedelta(days=30)))
        if rng.random() < 0.1:  # referred twice: counts once
            rows.referrals.append(referral_row(row["id"], start + dt.timedelta(days=60)))


def history(
    rng: random.Random, n: int, first_day: dt.date, last_day: dt.date, *,
    now: dt.date | None = None, batch: int = 20_000, citizens: Citizens | None = None,
) -> Iterator[Rows]:
    """`n` inquiries spread evenly (in time order) from the start of `first_day` to the
    end of `last_day` in Copenhagen, in batches: three in four from a citizen, of whom
    some return; a course for the outcomes that start one (some still running on `now`,
    by default the last day), § 85 referrals for some § 82 b courses."""
    now = now or last_day
    citizens = citizens or Citizens()
    lo = start_of_local_day(first_day)
    step = (start_of_local_day(last_day + dt.timedelta(days=1)) - lo) / max(n, 1)
    rows = Rows()
    for i in range(n):
        at = lo + step * i + step * rng.random()
        at = at.replace(microsecond=0)
        outcome = rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0]
        anonymous = rng.random() < 0.25
        if anonymous and outcome not in (None, Outcome.ADVICE_ONLY, Outcome.REFERRAL_OTHER):
            outcome = Outcome.ADVICE_ONLY
        citizen = None if anonymous else citizens.pick(rng, at, rows)
        row = inquiry_row(
            at, channel=rng.choice(list(Channel)), inquirer_kind=rng.choice(list(InquirerKind)),
            topics=_topics(rng), citizen_ref=citizen,
            outcome=None if outcome is None else str(outcome),
        )
        rows.inquiries.append(row)
        kind = COURSE_OF_OUTCOME.get(outcome) if outcome is not None else None
        if kind is not None and citizen is not None:
            _course(rng, kind, local_day(at), citizen, row["id"], now, rows)
        if len(rows.inquiries) >= batch:
            yield rows
            rows = Rows()
    if rows.inquiries or rows.citizens:
        yield rows


def edge_cases(
    rng: random.Random, periods: Iterable[tuple[dt.date, dt.date, dt.date | None]],
    citizens: Citizens,
) -> Rows:
    """Rows on the edges of each period (first day, last day, as_of): see the module
    docstring."""
    rows = Rows()
    moments = (dt.timedelta(0), dt.timedelta(microseconds=-1), dt.timedelta(hours=1),
               dt.timedelta(hours=-1), dt.timedelta(hours=2, minutes=30))
    combos = [(c, k) for c in Channel for k in InquirerKind]
    n = 0
    for first, last, as_of in periods:
        day = as_of or last
        for edge in (first, last + dt.timedelta(days=1)):
            for shift in moments:
                at = start_of_local_day(edge) + shift
                registered_on = local_day(at)
                channel, inquirer = combos[n % len(combos)]
                outcome = OUTCOMES[n % len(OUTCOMES)]
                n += 1
                # A birthday on the day of registration, for each band's lowest age.
                years = (16, 18, 25, 30, 40, 50, 60, 15, 29)[n % 9]
                birth = _years_before(registered_on, years, rng)
                rows.citizens.append(citizen_row(citizens.next_number, birth, at))
                citizens.next_number += 1
                ref = rows.citizens[-1]["citizen_ref"]
                topics = [str(Topic.HOUSING), str(Topic.RENT_ARREARS), str(Topic.HOUSING)]
                rows.inquiries.append(inquiry_row(
                    at, channel=channel, inquirer_kind=inquirer,
                    topics=topics if n % 3 == 0 else [str(t) for t in Topic][: 1 + n % 13],
                    citizen_ref=ref if n % 4 else None,
                    outcome=None if outcome is None else str(outcome),
                ))
        # Courses of each kind starting on either side of the first and last days,
        # and ending on either side of as_of; some running, some extended.
        citizen = citizens.pick(rng, start_of_local_day(first), rows)
        for kind in CourseKind:
            for start in (first - dt.timedelta(days=1), first, last, last + dt.timedelta(1),
                          day, day + dt.timedelta(days=1), first - dt.timedelta(days=400)):
                for ended in (None, day - dt.timedelta(days=1), day, day + dt.timedelta(1)):
                    if ended is not None and ended < start:
                        continue
                    row = course_row(kind, start, citizen_ref=citizen, inquiry_id=None,
                                     ended_on=ended, planned_end=start + dt.timedelta(180),
                                     extended_to=(start + dt.timedelta(270)
                                                  if ended is None else None))
                    rows.courses.append(row)
                    if kind is CourseKind.INDIVIDUAL_82B and rng.random() < 0.5:
                        rows.referrals.append(referral_row(row["id"], start))
    # An inquiry naming a citizen that intake does not have (counts as unknown age).
    rows.inquiries.append(inquiry_row(
        start_of_local_day(first) + dt.timedelta(hours=10), channel=Channel.PHONE,
        inquirer_kind=InquirerKind.PROFESSIONAL, topics=[str(Topic.OTHER)],
        citizen_ref=uuid.uuid4(), outcome=str(Outcome.REFERRAL_OTHER),
    ))
    return rows


def _years_before(day: dt.date, years: int, rng: random.Random) -> dt.date:
    """A birth date `years` before `day`: the birthday itself, the day after or before,
    or 29 February when the year has one."""
    year = day.year - years
    try:
        birthday = day.replace(year=year)
    except ValueError:  # 29 February in a year without one
        birthday = dt.date(year, 2, 28)
    leap_day = dt.date(year, 2, 29) if year % 4 == 0 and (year % 100 or year % 400 == 0) else None
    choice = rng.choice((0, 0, 1, -1, 2))
    if choice == 2 and leap_day is not None:
        return leap_day
    return birthday + dt.timedelta(days=choice if choice != 2 else 0)


def leap_day_rows(citizens: Citizens) -> Rows:
    """Citizens born on 29 February registering on 28 February and 1 March of years
    without one, and on 29 February of a leap year."""
    rows = Rows()
    for on in (dt.date(2019, 2, 28), dt.date(2019, 3, 1), dt.date(2020, 2, 28),
               dt.date(2020, 2, 29), dt.date(2021, 2, 28), dt.date(2021, 3, 1)):
        for born in (dt.date(2000, 2, 29), dt.date(1992, 2, 29), dt.date(1989, 2, 28),
                     dt.date(1990, 3, 1)):
            at = start_of_local_day(on) + dt.timedelta(hours=12)
            rows.citizens.append(citizen_row(citizens.next_number, born, at))
            citizens.next_number += 1
            rows.inquiries.append(inquiry_row(
                at, channel=Channel.WALK_IN, inquirer_kind=InquirerKind.CITIZEN,
                topics=[str(Topic.EDUCATION)], citizen_ref=rows.citizens[-1]["citizen_ref"],
                outcome=None,
            ))
    return rows


def insert_rows(conn: Connection, rows: Rows) -> None:
    """Write the rows with the Core (executemany), citizens and courses before the rows
    that refer to them."""
    for table, batch in (("citizens", rows.citizens), ("inquiries", rows.inquiries),
                         ("courses", rows.courses), ("course_referrals_85", rows.referrals)):
        if batch:
            conn.execute(insert(metadata.tables[table]), batch)
