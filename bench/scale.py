"""Does a second instance help? Throughput of one instance of intake and coordination
against two of each, as real `samspil run` processes on PostgreSQL.

    python bench/scale.py [--n 1000] [--amqp-uri URI] [--api URL] [--pg-url URL]

For 1 and then 2 instances of each: fresh databases and a fresh vhost; the instances
started and ready; then N `intake.inquiry_registered` events written to intake's outbox
at once (as N use cases would), published by intake's relays (SKIP LOCKED shares the
rows) and recorded by coordination's consumers (sharing the queue, inbox per message).
The clock runs from the write until coordination's inbox holds all N. Prints both rates
and their ratio. Not a test: the numbers depend on the machine (two cores here, shared
by broker, database and every process).
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated", category=Warning)

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import quote, urlsplit, urlunsplit  # noqa: E402

import requests  # noqa: E402
import yaml  # noqa: E402
from sqlalchemy import text  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contracts import registry  # noqa: E402
from services.common.clock import SystemClock  # noqa: E402
from services.common.db import Store, make_engine  # noqa: E402
from services.common.migrate import metadata_of, upgrade  # noqa: E402

SERVICES = ("intake", "coordination")
BATCH = 100  # outbox rows per transaction when writing the load


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def count(url: str, query: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(query)).scalar_one())
    finally:
        engine.dispose()


def write_load(url: str, n: int) -> None:
    contract = registry.contract("intake.inquiry_registered")
    example = contract.schema().load(contract.example)
    engine = make_engine(url)
    store = Store(engine, metadata_of("intake"), "intake", SystemClock())
    now = dt.datetime.now(dt.UTC)
    for start in range(0, n, BATCH):
        with store.unit_of_work() as uow:
            for _ in range(min(BATCH, n - start)):
                inquiry = uuid.uuid4()
                uow.add_event("intake.inquiry_registered",
                              {**example, "inquiry_id": inquiry, "citizen_ref": uuid.uuid4(),
                               "registered_at": now}, correlation_id=str(inquiry))
            uow.commit()
    engine.dispose()


def run_once(instances: int, n: int, args: argparse.Namespace, work: Path) -> float:
    vhost = f"samspil-bench-{uuid.uuid4().hex[:8]}"
    api = args.api.rstrip("/")
    requests.put(f"{api}/api/vhosts/{vhost}", timeout=10).raise_for_status()
    user = urlsplit(args.amqp_uri).username or "guest"
    requests.put(f"{api}/api/permissions/{vhost}/{quote(user)}", timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    amqp = urlunsplit(urlsplit(args.amqp_uri)._replace(path="/" + vhost))
    admin = make_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    urls = {}
    for service in SERVICES:
        name = f"bench_{service}_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        urls[service] = urlunsplit(urlsplit(args.pg_url)._replace(path="/" + name))
        upgrade(service, urls[service])
    procs: list[tuple[subprocess.Popen[bytes], int]] = []
    try:
        for service in ("coordination", "intake"):
            for i in range(instances):
                port = free_port()
                config = work / f"{service}-{instances}-{i}.yaml"
                config.write_text(yaml.safe_dump({
                    "AMQP_URI": amqp, "DATABASES": {service: urls[service]},
                    "HEALTH_ADDRESS": f"127.0.0.1:{port}", "OUTBOX_POLL_SECONDS": 0.2,
                    "QUEUE_TYPE": "quorum", "CPR_HASH_KEY": "bench-" + "k" * 40,
                    "CPR_ENCRYPTION_KEY": "FKfh8UKGUEcXhk3VvgkwnDiVxE5pgwjW057z7Zg17_0=",
                    "LOGGING": {"version": 1, "root": {"level": "WARNING"}}}))
                log = (work / f"{config.stem}.log").open("wb")
                procs.append((subprocess.Popen(
                    [sys.executable, "-m", "services.cli", "--config", str(config), "run",
                     service], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                    env=dict(os.environ, PYTHONUNBUFFERED="1")), port))
        deadline = time.monotonic() + 120
        for proc, port in procs:
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"an instance did not start (logs in {work})")
                try:
                    if requests.get(f"http://127.0.0.1:{port}/ready", timeout=2).ok:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.2)
        started = time.monotonic()
        write_load(urls["intake"], n)
        while count(urls["coordination"], "select count(*) from inbox") < n:
            if time.monotonic() - started > 600:
                raise SystemExit("the load did not drain within 10 minutes")
            time.sleep(0.1)
        elapsed = time.monotonic() - started
    finally:
        for proc, _ in procs:
            proc.send_signal(signal.SIGTERM)
        for proc, _ in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        with admin.connect() as conn:
            for url in urls.values():
                conn.exec_driver_sql(
                    f'DROP DATABASE IF EXISTS "{urlsplit(url).path[1:]}" WITH (FORCE)')
        admin.dispose()
        requests.delete(f"{api}/api/vhosts/{vhost}", timeout=10)
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--amqp-uri", default=os.environ.get(
        "SAMSPIL_TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"))
    parser.add_argument("--api", default=os.environ.get(
        "SAMSPIL_TEST_RABBIT_API", "http://guest:guest@127.0.0.1:15672"))
    parser.add_argument("--pg-url", default=os.environ.get(
        "SAMSPIL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="samspil-bench-scale-") as tmp:
        rates = {k: run_once(k, args.n, args, Path(tmp)) for k in (1, 2)}
    print(f"scale-out, intake.inquiry_registered outbox -> broker -> coordination inbox, "
          f"PostgreSQL, n={args.n}, {os.cpu_count()} CPUs:")
    for k, rate in rates.items():
        print(f"  {k} instance(s) of each: {rate:8.1f} events/s")
    print(f"  ratio two/one: {rates[2] / rates[1]:.2f}")


if __name__ == "__main__":
    main()
