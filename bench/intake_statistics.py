"""Benchmark: Fronten's statistics over a large history on PostgreSQL (issue 14, P4),
and intake's worklists at 100,000 rows.

    .venv/bin/python bench/intake_statistics.py [--n 1000000] [--years 5] [--repeat 5] [--old]
                                         [--worklist-rows 100000] [--pg-url URL]

1. Creates a uniquely named database on the PostgreSQL server (dropped at the end),
   migrates it with intake's Alembic history and loads `--n` inquiries with their
   citizens, courses and § 85 referrals (tests/integration/intake/statistics_data.py),
   spread evenly over `--years` calendar years from 1 January 2018, with COPY.
2. For a 4-month period (1 April - 31 July of the last year) and for the last whole
   year, each in a child process of its own (so that its peak RSS is its own):
   - old: the implementation before issue 14 (ORM entities into the pure report),
     only up to 200,000 inquiries unless `--old` (it takes minutes and gigabytes);
   - new: `handlers.statistics_report`, the use case the `statistics` RPC runs
     (without the broker), median of `--repeat` runs after one warm-up;
   - baseline: one bare `SELECT channel, count(*) ... GROUP BY channel` over the
     period's inquiries, median of `--repeat`; and the ratio new / baseline; and the
     same GROUP BY with the outer join to the citizens (the least a report with an age
     breakdown does) and the ratio new / that;
   - the child's peak RSS (VmHWM: ru_maxrss would include the parent's, see
     peak_rss) and its RSS before the first report (imports, engine, one connection).
   Where the old one ran, its report is compared with the new one's.
3. In another fresh database with `--worklist-rows` rows in each table a list reads,
   the first page and a page 90 % down (by its cursor) of each of intake's worklists
   (services/intake/worklists.py, the whole use case as the RPC runs it), p50 and
   p95 of `--repeat` x 10 reads.

Goals (issue 14): the report < 0.5 s for both periods at 1,000,000 inquiries with an
RSS under 200 MB; each worklist page < 50 ms at 100,000 rows. Not a test: nothing here
asserts a time; the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import resource
import statistics as stats
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, func, select, text

from contracts.actor import Actor
from contracts.vocabulary import CourseKind
from services.common.clock import FixedClock
from services.common.db import Store, make_engine
from services.common.migrate import upgrade
from services.intake.models import Citizen, CourseRow, Inquiry, Referral85Row, metadata
from services.intake.statistics_sql import period_window
from tests.integration.intake import statistics_data as data

OLD_LIMIT = 200_000
SEED = 2018
FIRST_DAY = dt.date(2018, 1, 1)
MB = 1024 * 1024


# -- the database ------------------------------------------------------------------------


def create_pg(pg_url: str, label: str) -> str:
    name = f"samspil_bench_{label}_{uuid.uuid4().hex[:10]}"
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


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):  # naive UTC, as UTCDateTime stores it
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, list | dict):
        value = json.dumps(value)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def copy_rows(engine: Engine, table: str, rows: list[dict[str, Any]]) -> None:
    """COPY the rows into the table (PostgreSQL's text format)."""
    if not rows:
        return
    columns = list(rows[0])
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_value(row[c]) for c in columns))
        buffer.write("\n")
    buffer.seek(0)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
        raw.commit()
    finally:
        raw.close()


def load(engine: Engine, batches: Iterable[data.Rows]) -> None:
    for rows in batches:
        copy_rows(engine, "citizens", rows.citizens)
        copy_rows(engine, "inquiries", rows.inquiries)
        copy_rows(engine, "courses", rows.courses)
        copy_rows(engine, "course_referrals_85", rows.referrals)


def vacuum(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


def table_sizes(engine: Engine, tables: Iterable[Any]) -> str:
    with engine.connect() as conn:
        return ", ".join(
            f"{table.name} {conn.execute(select(func.count()).select_from(table)).scalar_one()}"
            for table in tables
        )


# -- the measurement, in a child process ----------------------------------------------------


def rss_now() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / MB


def peak_rss() -> float:
    """This process's peak RSS in MB. ru_maxrss would do, but Linux carries it over
    from the parent through fork and exec (here: the loader's); VmHWM starts afresh
    with the exec."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, url: str, start: str, end: str, repeat: int) -> None:
    from services.intake import handlers, statistics_sql

    period_start, period_end = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    store = Store(make_engine(url), metadata, "intake", FixedClock(dt.datetime.now(dt.UTC)))
    with store.engine.connect() as conn:
        conn.execute(text("SELECT 1"))  # the pool's first connection, as a running service has
    before = rss_now()
    out: dict[str, Any] = {"mode": mode, "rss_before_mb": before}

    if mode == "old":
        started = time.perf_counter()
        with store.read() as session:
            view = handlers.report_view(
                statistics_sql.reference_report(session, period_start, period_end))
        out["times"] = [time.perf_counter() - started]
    else:
        def new() -> dict[str, Any]:
            return handlers.statistics_report(
                store, period_start=period_start, period_end=period_end, as_of=None)

        view = new()  # warm-up
        out["times"] = timed(new, repeat)
        lo, hi = statistics_sql.period_window(period_start, period_end)
        bare = (select(Inquiry.channel, func.count())
                .where(Inquiry.registered_at >= lo, Inquiry.registered_at < hi)
                .group_by(Inquiry.channel))

        # And the least any report with an age breakdown can do: the same GROUP BY
        # with the outer join to the citizens' birth dates.
        joined = (select(Citizen.birth_date.is_(None), func.count()).select_from(Inquiry)
                  .outerjoin(Citizen, Citizen.citizen_ref == Inquiry.citizen_ref)
                  .where(Inquiry.registered_at >= lo, Inquiry.registered_at < hi)
                  .group_by(Citizen.birth_date.is_(None)))

        def baseline(query: Any) -> Any:
            with store.read() as session:
                return session.execute(query).all()

        baseline(bare)
        out["baseline"] = timed(partial(baseline, bare), repeat)
        baseline(joined)
        out["joined"] = timed(partial(baseline, joined), repeat)
    out["peak_rss_mb"] = peak_rss()
    out["report"] = view
    store.engine.dispose()
    print(json.dumps(out, default=str))


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def measure(mode: str, url: str, period: tuple[dt.date, dt.date], repeat: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, url, period[0].isoformat(),
         period[1].isoformat(), str(repeat)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {mode} measurement failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def statistics_bench(args: argparse.Namespace) -> None:
    last_year = FIRST_DAY.year + args.years - 1
    last_day = dt.date(last_year, 12, 31)
    periods = {
        "4 months": (dt.date(last_year, 4, 1), dt.date(last_year, 7, 31)),
        "year": (dt.date(last_year, 1, 1), last_day),
    }
    run_old = args.n <= OLD_LIMIT or args.old
    url = create_pg(args.pg_url, "stats")
    try:
        upgrade("intake", url)
        engine = make_engine(url)
        started = time.perf_counter()
        load(engine, data.history(random.Random(SEED), args.n, FIRST_DAY, last_day,
                                  batch=50_000))
        vacuum(engine)
        print(f"loaded in {time.perf_counter() - started:.0f} s: "
              + table_sizes(engine, [Inquiry.__table__, Citizen.__table__,
                                     CourseRow.__table__, Referral85Row.__table__]))
        with engine.connect() as conn:
            for name, (start, end) in periods.items():
                lo, hi = period_window(start, end)
                n = conn.execute(select(func.count()).where(
                    Inquiry.registered_at >= lo, Inquiry.registered_at < hi)).scalar_one()
                print(f"  {name} {start}..{end}: {n} inquiries")
        engine.dispose()
        if not run_old:
            print(f"old implementation: skipped above {OLD_LIMIT} inquiries (--old runs it)")
        for name, period in periods.items():
            new = measure("new", url, period, args.repeat)
            new_s, base_s = stats.median(new["times"]), stats.median(new["baseline"])
            joined_s = stats.median(new["joined"])
            line = (f"[{name}] new {new_s * 1000:.0f} ms (min {min(new['times']) * 1000:.0f}, "
                    f"max {max(new['times']) * 1000:.0f}) | baseline GROUP BY "
                    f"{base_s * 1000:.0f} ms | new/baseline {new_s / base_s:.2f} | with the "
                    f"citizens join {joined_s * 1000:.0f} ms, new/that {new_s / joined_s:.2f} | "
                    f"RSS {new['rss_before_mb']:.0f} MB before, peak {new['peak_rss_mb']:.0f} MB"
                    f" | {new['report']['total_inquiries']} inquiries, "
                    f"{new['report']['active_courses']} active courses")
            print(line, flush=True)
            if run_old:
                old = measure("old", url, period, 1)
                same = old["report"] == new["report"]
                print(f"[{name}] old {old['times'][0] * 1000:.0f} ms | RSS "
                      f"{old['rss_before_mb']:.0f} MB before, peak {old['peak_rss_mb']:.0f} MB"
                      f" | old/new {old['times'][0] / new_s:.0f}x | same report: "
                      f"{'yes' if same else 'NO'}", flush=True)
    finally:
        drop_pg(args.pg_url, url)


# -- intake's worklists at 100,000 rows -------------------------------------------------------

WORKLIST_NOW = dt.datetime(2019, 1, 15, 9, 0, tzinfo=dt.UTC)
FRONTEN = Actor("staff", "bench", roles=["fronten"])
PARTNERS = [f"partner-{k}" for k in range(20)]


def worklist_rows(rng: random.Random, n: int) -> dict[str, list[dict[str, Any]]]:
    """`n` rows in each table one of intake's lists reads (inquiries, courses, notices,
    ending proposals, § 85 referrals, target-group flags, consents), with a share of
    them on their list."""
    today = WORKLIST_NOW.date()
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in (
        "citizens", "inquiries", "courses", "course_referrals_85", "course_notices",
        "course_ending_proposals", "target_group_flags", "consents", "partners")}
    for batch in data.history(rng, n, today - dt.timedelta(days=365), today,
                              batch=n + 1):
        rows["citizens"] += batch.citizens
        rows["inquiries"] += batch.inquiries
        rows["courses"] += batch.courses
        rows["course_referrals_85"] += batch.referrals
    refs = [c["citizen_ref"] for c in rows["citizens"]]
    while len(rows["courses"]) < n:
        start = today - dt.timedelta(days=rng.randint(0, 700))
        ended = None if rng.random() < 0.4 else start + dt.timedelta(days=rng.randint(20, 200))
        ended = ended if ended is None or ended <= today else None
        rows["courses"].append(data.course_row(
            rng.choice(list(CourseKind)), start, citizen_ref=rng.choice(refs), inquiry_id=None,
            ended_on=ended, planned_end=start + dt.timedelta(days=180),
            extended_to=None))
    for row in rows["courses"]:
        if row["ended_on"] is None and rng.random() < 0.3:
            row["review_requested_on"] = row["planned_end"] - dt.timedelta(days=20)
    course_ids = [c["id"] for c in rows["courses"]]
    at = WORKLIST_NOW - dt.timedelta(days=30)
    for k in range(n):
        due = today - dt.timedelta(days=rng.randint(-60, 300))
        rows["course_notices"].append({
            "id": k + 1, "course_id": rng.choice(course_ids),
            "kind": rng.choice(("follow_up_due", "follow_up_due", "review_due", "end_overdue")),
            "due_on": due, "created_at": at,
            "done_on": due if rng.random() < 0.7 else None,
            "done_by": "staff:bench"})
        proposed = today - dt.timedelta(days=rng.randint(0, 400))
        decided = rng.random() < 0.9
        rows["course_ending_proposals"].append({
            "id": k + 1, "course_id": rng.choice(course_ids), "rule": "broken_agreements_4w",
            "proposed_on": proposed, "rule_met_on": proposed, "last_kept_on": None,
            "decision": "confirmed" if decided else None,
            "decided_on": proposed if decided else None,
            "decided_by": "staff:bench" if decided else None})
        flagged = WORKLIST_NOW - dt.timedelta(days=rng.randint(0, 700), minutes=k)
        open_flag = rng.random() < 0.15
        rows["target_group_flags"].append({
            "id": uuid.uuid4(), "citizen_ref": rng.choice(refs), "subject": "course",
            "subject_type": "course", "subject_id": rng.choice(course_ids), "age": 15,
            "on_date": flagged.date(), "flagged_at": flagged, "flagged_by": "system:intake",
            "decision": None if open_flag else "accepted",
            "decided_on": None if open_flag else flagged.date(),
            "decided_by": None if open_flag else "staff:bench"})
        given = WORKLIST_NOW - dt.timedelta(days=rng.randint(0, 700), minutes=k)
        odd = rng.random()
        rows["consents"].append({
            "id": uuid.uuid4(), "citizen_ref": rng.choice(refs),
            "recipient": "unknown-partner" if odd < 0.05 else rng.choice(PARTNERS),
            "information_kinds": ["contact_status"], "purpose": "bridging_employment",
            "form": "written", "given_at": given, "given_by": "staff:bench",
            "withdrawn_at": given if rng.random() < 0.2 else None,
            "withdrawn_by": None,
            "needs_correction": "purpose_unknown" if odd > 0.95 else None,
            "original_recipient": None, "original_purpose": None, "corrected_at": None,
            "corrected_by": None, "announce_pending": False})
    existing = len(rows["course_referrals_85"])
    rows["course_referrals_85"] = [
        {"id": k + 1, **r} for k, r in enumerate(rows["course_referrals_85"])]
    for k in range(existing, n):
        referred = today - dt.timedelta(days=rng.randint(0, 700))
        answered = rng.random() < 0.8
        rows["course_referrals_85"].append({
            "id": k + 1, "course_id": rng.choice(course_ids), "referred_on": referred,
            "outcome": "granted" if answered else None,
            "outcome_on": referred if answered else None})
    rows["partners"] = [
        {"partner_id": p, "name": p, "category": "employment", "accepts": ["employment"],
         "active": True, "changed_at": at} for p in PARTNERS]
    return rows


def worklist_queries(ctx: Any) -> dict[str, Callable[[Store, str | None, int], Any]]:
    from services.intake import worklists

    def use_case(fn: Callable[..., Any], *with_ctx: Any, **filters: Any) -> Callable[..., Any]:
        def query(store: Store, cursor: str | None, limit: int) -> Any:
            with store.unit_of_work() as uow:
                return fn(uow, *with_ctx, actor=FRONTEN, cursor=cursor, limit=limit,
                          **filters)
        return query

    return {
        "open_inquiries": use_case(worklists.open_inquiries, ctx),
        "open_inquiries channel=phone": use_case(worklists.open_inquiries, ctx,
                                                 channel="phone"),
        "follow_ups": use_case(worklists.follow_ups),
        "bridging": use_case(worklists.bridging),
        "bridging partner_missing": use_case(worklists.bridging, partner_missing=True),
        "review_agenda": use_case(worklists.review_agenda),
        "review_agenda include_not_requested": use_case(worklists.review_agenda,
                                                        include_not_requested=True),
        "end_overdue": use_case(worklists.end_overdue),
        "end_overdue kind=sft": use_case(worklists.end_overdue, kind=CourseKind.SFT),
        "ending_proposed": use_case(worklists.ending_proposed),
        "referrals_85": use_case(worklists.referrals_85, ctx),
        "outside_target_group": use_case(worklists.outside_target_group),
        "consents_to_correct": use_case(worklists.consents_to_correct),
    }


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def deep_cursor(query: Callable[[Store, str | None, int], Any], store: Store,
                depth: float) -> tuple[str | None, int]:
    """The cursor the list gives out `depth` of the way down (paging by 200), and how
    many items the list has."""
    cursor, seen, pages = None, 0, []
    while True:
        page = query(store, cursor, 200)
        seen += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        pages.append((cursor, seen))
    wanted = int(seen * depth)
    found = None
    for cursor, before in pages:
        if before <= wanted:
            found = cursor
    return found, seen


def run_worklists(url: str, n: int, repeat: int) -> None:
    from services.intake.settings import IntakeContext, IntakeSettings

    upgrade("intake", url)
    engine = make_engine(url)
    started = time.perf_counter()
    for table, rows in worklist_rows(random.Random(SEED), n).items():
        for k in range(0, len(rows), 50_000):
            copy_rows(engine, table, rows[k:k + 50_000])
    vacuum(engine)
    print(f"worklists: {n} rows per table loaded in {time.perf_counter() - started:.0f} s")
    store = Store(engine, metadata, "intake", FixedClock(WORKLIST_NOW))
    for name, query in worklist_queries(IntakeContext(IntakeSettings())).items():
        cursor, listed = deep_cursor(query, store, 0.9)
        items = len(query(store, None, 50)["items"])
        first = [t * 1000 for t in timed(partial(query, store, None, 50), repeat)]
        deep = [t * 1000 for t in timed(partial(query, store, cursor, 50), repeat)]
        print(f"[worklist] {name:<38} {listed:>6} on the list | first page "
              f"({items}): p50 {stats.median(first):5.1f} ms p95 {percentile(first, .95):5.1f}"
              f" ms | 90 % down: p50 {stats.median(deep):5.1f} ms p95 "
              f"{percentile(deep, .95):5.1f} ms", flush=True)
    engine.dispose()


def worklist_bench(args: argparse.Namespace) -> None:
    url = create_pg(args.pg_url, "worklists")
    try:
        run_worklists(url, args.worklist_rows, args.repeat * 10)
    finally:
        drop_pg(args.pg_url, url)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        mode, url, start, end, repeat = sys.argv[2:7]
        child(mode, url, start, end, int(repeat))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="inquiries to load")
    parser.add_argument("--years", type=int, default=5,
                        help="calendar years the inquiries are spread over, from 2018")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--old", action="store_true",
                        help=f"run the old implementation above {OLD_LIMIT} inquiries too")
    parser.add_argument("--worklist-rows", type=int, default=100_000,
                        help="rows per table for the worklists (0: skip them)")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(f"{args.n} inquiries over {args.years} year(s); goals: < 500 ms and < 200 MB RSS "
          "for each period, worklist pages < 50 ms at 100,000 rows", flush=True)
    statistics_bench(args)
    if args.worklist_rows:
        worklist_bench(args)


if __name__ == "__main__":
    main()
