"""The statistics counted by the database (statistics_sql.period_report, which the RPC
uses) give exactly the report of the implementation before it (reference_report: every
row as an ORM entity into the pure statistics.report), on SQLite and PostgreSQL:

- on the seed-001 data, registered through the real use cases;
- on a random history of a few thousand inquiries and courses with rows on the edges
  of every period asked about: Copenhagen midnight (DST days too), birthdays on the
  day of registration (29 February too), courses starting and ending on the edges,
  running and extended courses, every topic, channel, inquirer kind and outcome.

Equal means equal numbers, the same keys in the same order, the same Danish text.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from contracts.vocabulary import Channel, InquirerKind
from services.common.clock import FixedClock
from services.common.db import Store, make_engine
from services.common.errors import DomainError
from services.common.localtime import start_of_local_day
from services.common.migrate import upgrade
from services.intake import handlers, statistics
from services.intake.models import Citizen, Inquiry, metadata
from services.intake.protection import CprProtection
from services.intake.settings import IntakeContext, IntakeSettings
from services.intake.statistics_sql import period_report, reference_report
from tests.integration.intake import statistics_data as data
from tests.integration.intake.test_statistics_seed_001 import NOW, seed

pytestmark = pytest.mark.integration

D = dt.date
# (first day, last day, as_of): the periods the random history is asked about.
PERIODS: list[tuple[dt.date, dt.date, dt.date | None]] = [
    (D(2018, 4, 1), D(2018, 7, 31), None),  # seed 001's four months
    (D(2018, 1, 1), D(2018, 12, 31), None),  # a year
    (D(2019, 1, 1), D(2019, 12, 31), D(2019, 6, 30)),  # active courses mid-year
    (D(2018, 3, 25), D(2018, 3, 25), None),  # summer time begins: a 23-hour day
    (D(2018, 10, 28), D(2018, 10, 28), None),  # and ends: a 25-hour day
    (D(2018, 3, 1), D(2018, 3, 31), D(2018, 2, 15)),  # as_of before the period
    (D(2018, 4, 1), D(2018, 7, 31), D(2018, 9, 30)),  # as_of after it
    (D(2019, 2, 28), D(2019, 3, 1), None),  # born 29 February, in a year without one
    (D(2020, 2, 1), D(2020, 3, 31), None),  # a leap year
    (D(2017, 12, 1), D(2020, 1, 31), None),  # the whole history
    (D(2021, 2, 28), D(2021, 3, 1), None),  # only the leap-day rows
    (D(2030, 1, 1), D(2030, 1, 31), None),  # nothing at all
]


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    upgrade("intake", db_url)
    store = Store(make_engine(db_url), metadata, "intake", FixedClock(NOW))
    yield store
    store.engine.dispose()


def both(store: Store, first: dt.date, last: dt.date, as_of: dt.date | None
         ) -> tuple[statistics.Report, statistics.Report]:
    with store.read() as session:
        new = period_report(session, first, last, as_of=as_of)
    with store.read() as session:
        old = reference_report(session, first, last, as_of=as_of)
    return new, old


def assert_same(new: statistics.Report, old: statistics.Report) -> None:
    assert handlers.report_view(new) == handlers.report_view(old)
    for name in ("active_courses_by_kind", "by_channel", "by_inquirer_kind", "by_age_band",
                 "by_under_30", "by_topic", "by_outcome"):
        assert list(getattr(new, name).items()) == list(getattr(old, name).items()), name
    assert statistics.render_danish(new) == statistics.render_danish(old)


def test_seed_001_gives_the_same_report_both_ways(store: Store, cpr_keys: dict[str, str]
                                                  ) -> None:
    ctx = IntakeContext(IntakeSettings(), CprProtection.from_config(cpr_keys))
    seed(store, ctx)
    for first, last, as_of in [(D(2018, 4, 1), D(2018, 7, 31), None),
                               (D(2018, 8, 1), D(2018, 8, 31), None),
                               (D(2018, 3, 31), D(2018, 8, 1), D(2018, 6, 1)),
                               (D(2018, 1, 1), D(2018, 12, 31), D(2019, 1, 1))]:
        new, old = both(store, first, last, as_of)
        assert_same(new, old)
    new, _ = both(store, D(2018, 4, 1), D(2018, 7, 31), None)
    assert (new.total_inquiries, new.courses_82b_started, new.courses_82b_referred_85) == (
        204, 65, 0)


def test_a_random_history_gives_the_same_report_both_ways(store: Store) -> None:
    rng = random.Random(14)
    citizens = data.Citizens()
    rows = data.Rows()
    for batch in data.history(rng, 3000, D(2017, 12, 1), D(2020, 1, 31), now=D(2019, 9, 1),
                              citizens=citizens):
        rows.extend(batch)
    rows.extend(data.edge_cases(rng, PERIODS, citizens))
    rows.extend(data.leap_day_rows(citizens))
    with store.engine.begin() as conn:
        data.insert_rows(conn, rows)

    seen: dict[str, set[str]] = {"channel": set(), "inquirer": set(), "topic": set()}
    for first, last, as_of in PERIODS:
        new, old = both(store, first, last, as_of)
        assert_same(new, old)
        seen["channel"] |= {k for k, n in new.by_channel.items() if n}
        seen["inquirer"] |= {k for k, n in new.by_inquirer_kind.items() if n}
        seen["topic"] |= {k for k, n in new.by_topic.items() if n}
    # The data reached every corner the report has.
    whole, _ = both(store, D(2017, 12, 1), D(2020, 1, 31), None)
    assert whole.total_inquiries > 3000
    assert all(n > 0 for n in whole.by_age_band.values())
    assert whole.by_age_band.get("0-15", 0) > 0
    assert all(n > 0 for n in whole.by_outcome.values())
    assert len(seen["channel"]) == 4 and len(seen["inquirer"]) == 3 and len(seen["topic"]) == 13
    year, _ = both(store, D(2018, 1, 1), D(2018, 12, 31), None)
    assert year.courses_82b_referred_85 > 0
    assert all(n > 0 for n in year.active_courses_by_kind.values())


def test_a_birth_date_after_the_inquiry_is_refused_both_ways(store: Store) -> None:
    at = start_of_local_day(D(2018, 5, 1)) + dt.timedelta(hours=10)
    citizen = data.citizen_row(1, D(2018, 5, 2), at)
    with store.engine.begin() as conn:
        conn.execute(insert(Citizen), [citizen])
        conn.execute(insert(Inquiry), [data.inquiry_row(
            at, channel=Channel.PHONE, inquirer_kind=InquirerKind.CITIZEN,
            topics=["housing"], citizen_ref=citizen["citizen_ref"], outcome=None)])
    for implementation in (period_report, reference_report):
        with store.read() as session, pytest.raises(DomainError) as refused:
            implementation(session, D(2018, 5, 1), D(2018, 5, 31))
        assert refused.value.rule == "age.before_birth"


def test_a_period_ending_before_it_starts_is_refused(store: Store) -> None:
    with Session(store.engine) as session, pytest.raises(DomainError) as refused:
        period_report(session, D(2018, 5, 2), D(2018, 5, 1))
    assert refused.value.rule == "statistics.period_reversed"
