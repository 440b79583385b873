"""Benchmark: reading a page of a worklist over 100,000 rows, on PostgreSQL and SQLite.

    .venv/bin/python bench/worklists.py [--rows 100000] [--repeat 200] [--limit 50]
                                        [--pg-url URL] [--only NAME]

For every worklist in WORKLISTS, on a fresh PostgreSQL database and a fresh SQLite
file, migrated by the service's own Alembic history: fill the service's tables with
`--rows` realistic rows (setup, once per service and database), then time with
`time.perf_counter`:

- first: the first page (no cursor);
- deep: a page 90 % down the list, read with the cursor the list gave out there;

each `--repeat` times, and print p50 and p95 in milliseconds. A page read is the whole
use case as the RPC runs it (the query, the items rendered, the access-log row written
and committed), without the broker. The goal of issue 15 is p95 under 50 ms on
PostgreSQL. Not a test: nothing here asserts a time; the numbers depend on the machine.

Adding another service's list: write its setup (fill the tables) and its query (read
one page) and append a `Worklist(name, service, setup, query)` entry.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts.actor import Actor
from services.common.clock import FixedClock
from services.common.db import Store, make_engine
from services.common.migrate import metadata_of, upgrade
from services.housing import handlers as housing_handlers
from services.housing.models import ArrearsCaseRow
from services.housing.settings import ladder_settings
from tests.integration.housing.support import synthetic_case_row

NOW = dt.datetime(2025, 3, 5, 9, 0, tzinfo=dt.UTC)
SEED = 2018
Page = dict[str, Any]


@dataclass(frozen=True)
class Worklist:
    """One list to measure: `setup(store, rows, rng)` fills `service`'s tables (run once
    per service and database); `query(store, cursor, limit)` reads one page as the
    service's RPC does and returns it ({items, next_cursor})."""

    name: str
    service: str
    setup: Callable[[Store, int, random.Random], None]
    query: Callable[[Store, str | None, int], Page]


# -- housing: the officers' list of arrears cases --------------------------------------

HOUSING_SETTINGS = ladder_settings({})
OFFICER = Actor("staff", "bench", roles=["housing_officer"])
CLOSED_SHARE = 0.1  # a tenth of the cases are closed: in the table, not on the list


def housing_setup(store: Store, rows: int, rng: random.Random) -> None:
    batch = 5000
    for start in range(0, rows, batch):
        chunk = [synthetic_case_row(rng, NOW, settings=HOUSING_SETTINGS,
                                    closed=rng.random() < CLOSED_SHARE)
                 for _ in range(min(batch, rows - start))]
        with store.unit_of_work() as uow:
            uow.session.execute(insert(ArrearsCaseRow.__table__), chunk)
            uow.commit()
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")  # fresh statistics, as autovacuum would give


def housing_list(**filters: Any) -> Callable[[Store, str | None, int], Page]:
    def query(store: Store, cursor: str | None, limit: int) -> Page:
        with store.unit_of_work() as uow:
            return housing_handlers.case_worklist(
                uow, HOUSING_SETTINGS, actor=OFFICER, cursor=cursor, limit=limit, **filters)

    return query


WORKLISTS: list[Worklist] = [
    Worklist("housing.cases (open)", "housing", housing_setup, housing_list()),
    Worklist("housing.cases level=outreach_due", "housing", housing_setup,
             housing_list(level="outreach_due")),
    Worklist("housing.cases association_id=bf-other", "housing", housing_setup,
             housing_list(association_id="bf-other")),
    Worklist("housing.cases (closed)", "housing", housing_setup,
             housing_list(status="closed")),
]


# -- the runner -----------------------------------------------------------------------


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(fn: Callable[[], Page], repeat: int) -> tuple[list[float], Page]:
    fn()  # warm the caches and the connection pool
    samples = []
    page: Page = {}
    for _ in range(repeat):
        start = time.perf_counter()
        page = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples, page


def deep_cursor(entry: Worklist, store: Store, depth: float) -> tuple[str | None, int]:
    """The cursor the list gives out `depth` of the way down, found by paging with the
    largest pages; (cursor, items before it)."""
    cursor, before, total = None, 0, None
    pages: list[tuple[str | None, int]] = []
    while True:
        page = entry.query(store, cursor, 200)
        before += len(page["items"])
        cursor = page["next_cursor"]
        pages.append((cursor, before))
        if cursor is None:
            total = before
            break
    wanted = int(total * depth)
    found: tuple[str | None, int] = (None, 0)
    for cursor, seen in pages:
        if cursor is not None and seen <= wanted:
            found = (cursor, seen)
    return found


def run_backend(label: str, url: str, entries: list[Worklist], rows: int, repeat: int,
                limit: int) -> None:
    ready: set[str] = set()
    engine = make_engine(url)
    try:
        for entry in entries:
            store = Store(engine, metadata_of(entry.service), entry.service, FixedClock(NOW))
            if entry.service not in ready:
                upgrade(entry.service, url)
                started = time.perf_counter()
                entry.setup(store, rows, random.Random(SEED))
                ready.add(entry.service)
                print(f"[{label}] {entry.service}: {rows} rows in "
                      f"{time.perf_counter() - started:.1f} s")
            cursor, depth = deep_cursor(entry, store, 0.9)
            first, page = timed(lambda e=entry, s=store: e.query(s, None, limit), repeat)
            deep, _ = timed(lambda e=entry, s=store, c=cursor: e.query(s, c, limit), repeat)
            print(f"[{label}] {entry.name:<40} first page ({len(page['items'])} items): "
                  f"p50 {statistics.median(first):6.2f} ms  p95 {percentile(first, .95):6.2f} ms"
                  f" | deep page (after {depth}): p50 {statistics.median(deep):6.2f} ms  "
                  f"p95 {percentile(deep, .95):6.2f} ms")
        _print_table_size(label, engine)
    finally:
        engine.dispose()


def _print_table_size(label: str, engine: Any) -> None:
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(ArrearsCaseRow)).scalar_one()
        open_ = conn.execute(select(func.count()).select_from(ArrearsCaseRow).where(
            ArrearsCaseRow.closed_at.is_(None))).scalar_one()
    print(f"[{label}] arrears_cases: {total} rows, {open_} open")


def create_pg(pg_url: str) -> str:
    name = f"samspil_bench_{uuid.uuid4().hex[:12]}"
    engine = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return urlunsplit(urlsplit(pg_url)._replace(path="/" + name))


def drop_pg(pg_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    engine = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--only", help="measure only the lists whose name contains this")
    args = parser.parse_args()
    entries = [w for w in WORKLISTS if not args.only or args.only in w.name]
    if not entries:
        parser.error(f"no worklist matches {args.only!r}")
    print(f"{len(entries)} worklist(s), {args.rows} rows, pages of {args.limit}, "
          f"{args.repeat} reads each (goal: p95 under 50 ms on PostgreSQL)")

    pg = create_pg(args.pg_url)
    try:
        run_backend("postgresql", pg, entries, args.rows, args.repeat, args.limit)
    finally:
        drop_pg(args.pg_url, pg)
    with tempfile.TemporaryDirectory() as tmp:
        run_backend("sqlite", f"sqlite:///{tmp}/bench.db", entries, args.rows, args.repeat,
                    args.limit)


if __name__ == "__main__":
    main()
