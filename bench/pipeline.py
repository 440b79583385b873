"""How fast do events travel outbox -> broker -> inbox, compared with the raw broker?

    python bench/pipeline.py [--n 2000] [--amqp-uri URI] [--pg-url URL] [--api URL]

Measures in one run, on this machine:
  1. raw: kombu/py-amqp publishing persistent messages with publisher confirms to a
     durable queue while a consumer acks them (the ceiling for anything on RabbitMQ);
  2. the Samspil pipeline with a trivial effect, on SQLite and on PostgreSQL: each
     event committed in its own transaction with its outbox row, published by the
     real relay loop, consumed by a real nameko container through the inbox handler,
     its effect committed in the receiver's database.
Prints each rate, its ratio to the raw rate, and p50/p99 latency. Not a test: no
pass/fail, numbers depend on the machine. Uses its own vhost, deleted afterwards.
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated", category=Warning)
import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import quote, urlsplit, urlunsplit  # noqa: E402

import requests  # noqa: E402
from kombu import Connection, Exchange, Queue  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402
from sqlalchemy import Column, MetaData, String, Table, func, insert, select  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts.actor import Actor, ActorKind, StaffRole  # noqa: E402
from contracts.envelope import Envelope  # noqa: E402
from contracts.vocabulary import Channel, InquirerKind, Topic  # noqa: E402
from services.common.amqp import Publisher  # noqa: E402
from services.common.clock import SystemClock  # noqa: E402
from services.common.db import Database, Store, UnitOfWork, make_engine  # noqa: E402
from services.common.messaging import inbox_handler  # noqa: E402
from services.common.migrate import upgrade  # noqa: E402
from services.common.outbox import OutboxRelay, run_relay_loop  # noqa: E402
from services.common.tables import add_kit_tables  # noqa: E402
from services.common.types import UTCDateTime  # noqa: E402
from services.intake import handlers as intake_handlers  # noqa: E402
from services.intake.models import metadata as intake_metadata  # noqa: E402

sink_metadata = MetaData()
add_kit_tables(sink_metadata)
effects = Table(
    "bench_effects", sink_metadata,
    Column("message_id", String(36), primary_key=True),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)


class BenchSink:
    """The receiving side: a trivial effect, through the real inbox handler."""

    name = "bench_sink"
    db = Database(sink_metadata)

    @inbox_handler("intake", "intake.inquiry_registered")
    def on_inquiry(self, uow: UnitOfWork, event: Envelope) -> None:
        uow.session.execute(insert(effects).values(
            message_id=str(event.message_id), occurred_at=event.occurred_at,
            recorded_at=dt.datetime.now(dt.UTC)))


# Fronten's staff registers the inquiries (anonymous advice: no citizen to register).
BENCH_STAFF = Actor(ActorKind.STAFF, "bench", roles=[StaffRole.FRONTEN])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def make_vhost(amqp_uri: str, api: str) -> tuple[str, str]:
    name = f"samspil-bench-{uuid.uuid4().hex[:8]}"
    requests.put(f"{api}/api/vhosts/{quote(name, safe='')}", timeout=10).raise_for_status()
    user = urlsplit(amqp_uri).username or "guest"
    requests.put(f"{api}/api/permissions/{quote(name, safe='')}/{quote(user, safe='')}",
                 json={"configure": ".*", "write": ".*", "read": ".*"},
                 timeout=10).raise_for_status()
    return name, urlunsplit(urlsplit(amqp_uri)._replace(path="/" + quote(name, safe="")))


def bench_raw(amqp_uri: str, n: int) -> tuple[float, list[float]]:
    exchange = Exchange("bench.raw", type="topic", durable=True)
    queue = Queue("bench.raw", exchange=exchange, routing_key="#", durable=True)
    latencies: list[float] = []
    done = threading.Event()
    last = [0.0]

    def consume() -> None:
        with Connection(amqp_uri) as conn:
            def on_message(body: dict, message: object) -> None:
                now = time.time()
                latencies.append(now - body["t"])
                message.ack()  # type: ignore[attr-defined]
                if len(latencies) == n:
                    last[0] = now
                    done.set()

            with conn.Consumer(queue, callbacks=[on_message], prefetch_count=100):
                while not done.is_set():
                    try:
                        conn.drain_events(timeout=1)
                    except TimeoutError:
                        continue

    with Connection(amqp_uri) as conn:
        queue(conn.channel()).declare()
    consumer = eventlet.spawn(consume)
    eventlet.sleep(0.5)
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        producer = conn.Producer()
        start = time.time()
        for i in range(n):
            producer.publish({"t": time.time(), "i": i}, exchange=exchange, routing_key="x",
                             delivery_mode=2, mandatory=True, serializer="json")
    done.wait(timeout=300)
    consumer.wait()
    return n / (last[0] - start), latencies


def bench_pipeline(
    amqp_uri: str, source_url: str, sink_url: str, n: int
) -> tuple[float, list[float]]:
    upgrade("intake", source_url)
    sink_engine = make_engine(sink_url)
    sink_metadata.create_all(sink_engine)
    runner = ServiceRunner({"AMQP_URI": amqp_uri, "DATABASES": {"bench_sink": sink_url},
                            "max_workers": 10})
    runner.add_service(BenchSink)
    runner.start()
    source_engine = make_engine(source_url)
    doorbell = threading.Event()
    store = Store(source_engine, intake_metadata, "intake", SystemClock(), doorbell.set)
    publisher = Publisher(amqp_uri)
    relay = OutboxRelay(source_engine, intake_metadata, publisher)
    running = [True]
    relay_thread = eventlet.spawn(run_relay_loop, relay, doorbell, 1.0, lambda: running[0])
    eventlet.sleep(0.5)  # let the sink declare its queue

    start = time.time()
    for _ in range(n):
        with store.unit_of_work() as uow:
            intake_handlers.register_inquiry(
                uow, channel=Channel.PHONE, inquirer_kind=InquirerKind.CITIZEN,
                topics=[Topic.HOUSING], wish="bench", citizen_ref=None,
                registered_at=None, registered_by=BENCH_STAFF)
        eventlet.sleep(0)  # let the relay and the consumers run, as a real service would
    deadline = time.time() + 600
    while True:
        with sink_engine.connect() as conn:
            done = conn.execute(select(func.count()).select_from(effects)).scalar_one()
        if done >= n or time.time() > deadline:
            break
        eventlet.sleep(0.05)
    with sink_engine.connect() as conn:
        rows = conn.execute(select(effects.c.occurred_at, effects.c.recorded_at)).all()
    finished = max(r.recorded_at for r in rows).timestamp()
    running[0] = False
    doorbell.set()
    relay_thread.wait()
    publisher.close()
    runner.stop()
    source_engine.dispose()
    sink_engine.dispose()
    return n / (finished - start), [(r.recorded_at - r.occurred_at).total_seconds() for r in rows]


def create_pg(pg_url: str) -> str:
    engine = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    name = f"samspil_bench_{uuid.uuid4().hex[:8]}"
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return urlunsplit(urlsplit(pg_url)._replace(path="/" + name))


def drop_pg(pg_url: str, url: str) -> None:
    engine = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{urlsplit(url).path[1:]}" WITH (FORCE)')
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="messages per measurement")
    parser.add_argument("--amqp-uri", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--api", default="http://guest:guest@127.0.0.1:15672")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    vhost, uri = make_vhost(args.amqp_uri, args.api)
    results = []
    try:
        rate, lat = bench_raw(uri, args.n)
        results.append(("raw broker (kombu, persistent, confirms)", rate, lat))
        with tempfile.TemporaryDirectory() as tmp:
            rate, lat = bench_pipeline(uri, f"sqlite:///{tmp}/source.db",
                                       f"sqlite:///{tmp}/sink.db", args.n)
            results.append(("pipeline on SQLite (outbox -> broker -> inbox)", rate, lat))
        source, sink = create_pg(args.pg_url), create_pg(args.pg_url)
        try:
            rate, lat = bench_pipeline(uri, source, sink, args.n)
            results.append(("pipeline on PostgreSQL (outbox -> broker -> inbox)", rate, lat))
        finally:
            drop_pg(args.pg_url, source)
            drop_pg(args.pg_url, sink)
    finally:
        requests.delete(f"{args.api}/api/vhosts/{quote(vhost, safe='')}", timeout=10)

    raw_rate = results[0][1]
    print(f"\nSamspil pipeline benchmark: {args.n} messages each, measured in this run\n")
    print(f"{'measurement':<52} {'msg/s':>9} {'ratio':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for name, rate, lat in results:
        print(f"{name:<52} {rate:>9.0f} {rate / raw_rate:>7.2f} "
              f"{statistics.median(lat) * 1000:>8.1f} {percentile(lat, 0.99) * 1000:>8.1f}")
    print("\nratio = rate / raw broker rate. Latency: raw = publish to consume; pipeline = "
          "event occurred (outbox write) to effect committed in the receiver.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
