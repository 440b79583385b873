"""Network faults between the services and their broker and database (issue 12, point 5).

The system runs the README's way (`samspil run --migrate`, every service and the
gateway in one process) against a private RabbitMQ node reached through a loopback
fault proxy (tests/support/faultproxy.py), with HEARTBEAT at 5 seconds; coordination
keeps its data in a PostgreSQL database of its own (created on the shared server and
dropped at the end) reached through a second proxy. HTTP traffic registers inquiries
(each with a marker in its wish) the whole time, while the proxies, one after another:

1. delay every byte to and from the broker by 200 ms each way: every request is still
   answered 201;
2. blackhole the broker (nothing gets through either way, no RST, no FIN; what was
   sent waits, as in TCP's retransmit queue): the system notices (the gateway's /ready
   says not ready; its reply consumer misses two heartbeats, and from then on requests
   are refused at once), no worker hangs (every request is answered, 503 or 504, never
   a 500, never a client-side timeout), and once the network heals traffic flows again
   by itself;
3. reset every connection to the broker and refuse new ones for a while: the same;
4. delay coordination's database connections, then reset them for a while: its
   consumer waits the outage out (no attempt spent, no dead letter);
5. blackhole coordination's database: a query that gets no answer fails after
   DATABASE_READ_TIMEOUT_SECONDS (3 s here), the consumer finds the database
   unreachable, and the event waits in a delay queue (checked there, on the broker)
   instead of a worker waiting on the database.

Afterwards intake's outbox is drained, coordination's inbox has each inquiry's event
once, no acknowledged inquiry is lost, none is written twice, and there are no dead
letters. Printed on one line: sent, acknowledged, effects, duplicates, lost, dead
letters, how long the system took to notice the blackhole (beside 2 x HEARTBEAT), and
the recovery seconds after each fault; then the answers by phase. Only counts are
asserted, never seconds."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
import requests

from services.common.deadletters import DeadLetters
from services.common.messaging import delay_entities
from services.common.outbox import UNROUTED
from tests.support.faultproxy import FaultProxy
from tests.support.net import free_port
from tests.support.rabbit import PrivateRabbit
from tests.support.waiting import wait_for

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
SAMSPIL = str(ROOT / ".venv" / "bin" / "samspil")
SERVICES = ("intake", "coordination", "housing", "notifications", "partners")
HEARTBEAT = 5  # seconds; nameko's default is 60 (at 2, py-amqp's heartbeats, sent only
# from an idle consumer's loop, come too late for RabbitMQ on a loaded machine)
DB_READ_TIMEOUT = 3  # seconds; coordination's DATABASE_READ_TIMEOUT_SECONDS here
SENDERS = 3  # clients sending at once
CLIENT_TIMEOUT = 90.0  # far past anything the gateway may take to answer
# How long each fault lasts (its length, not a bound on anything).
LATENCY_SECONDS, BLACKHOLE_AT_LEAST, RESET_SECONDS = 8.0, 3 * HEARTBEAT + 2.0, 8.0
DB_LATENCY_SECONDS, DB_RESET_SECONDS, DB_BLACKHOLE_SECONDS = 6.0, 10.0, 10.0
BROKER_DELAY, DB_DELAY = 0.2, 0.05  # seconds each way


def _workdir(tmp_path: Path) -> Path:
    work = tmp_path / "repo"
    work.mkdir()
    for name in (".venv", "services", "contracts", "pyproject.toml"):
        (work / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "deploy", work / "deploy", symlinks=True,
                    ignore=shutil.ignore_patterns("node_modules", "secrets"))
    config = work / "deploy" / "config" / "all.yaml"
    text = config.read_text()
    if "\nHEARTBEAT:" not in text:  # the copy only: the environment sets the value
        text += "HEARTBEAT: ${HEARTBEAT:60}\n"
    # A database that says nothing for this long counts as unreachable (a blackhole).
    text += f"DATABASE_READ_TIMEOUT_SECONDS: {DB_READ_TIMEOUT}\n"
    config.write_text(text)
    return work


def _query(work: Path, db: str, sql: str) -> list[tuple]:
    with sqlite3.connect(work / "var" / f"{db}.db", timeout=30) as conn:
        return conn.execute(sql).fetchall()


class _Postgres:
    """A database of coordination's own on the shared server, dropped at the end."""

    def __init__(self) -> None:
        self.name = f"samspil_netfault_{uuid.uuid4().hex[:10]}"
        self.admin = "postgresql://postgres@127.0.0.1:5432/postgres"
        self._execute(f'CREATE DATABASE "{self.name}"')
        self.direct = f"postgresql://postgres@127.0.0.1:5432/{self.name}"

    def _execute(self, sql: str) -> None:
        conn = psycopg2.connect(self.admin, connect_timeout=30)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def through(self, proxy: FaultProxy) -> str:
        parts = urlsplit(self.direct)
        return urlunsplit(parts._replace(netloc=f"postgres@127.0.0.1:{proxy.port}"))

    def count(self, sql: str) -> int:
        conn = psycopg2.connect(self.direct, connect_timeout=30)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return int(cur.fetchone()[0])
        finally:
            conn.close()

    def drop(self) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


_NO_DIGITS = str.maketrans("0123456789", "ghijklmnop")


class _Traffic:
    """SENDERS clients registering inquiries back to back, each with a marker; every
    outcome is kept with the phase it was sent in and when its answer came."""

    def __init__(self, base: str, headers: dict[str, str], citizen: str) -> None:
        self.base, self.headers, self.citizen = base, headers, citizen
        self.phase = "before"
        self.outcomes: dict[str, tuple[str, int | str, float]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._probes: list[threading.Thread] = []

    def send(self) -> int | str:
        # Letters only: ten digits in a row could read as a CPR number, and a wish with
        # one in it is refused (400), as it should be.
        marker = "m-" + uuid.uuid4().hex[:12].translate(_NO_DIGITS)
        phase = self.phase
        try:
            status: int | str = requests.post(
                f"{self.base}/api/inquiries", headers=self.headers, timeout=CLIENT_TIMEOUT,
                json={"channel": "phone", "inquirer_kind": "citizen", "topics": ["economy"],
                      "wish": f"Hjælp til regninger ({marker})",
                      "citizen_ref": self.citizen}).status_code
        except requests.RequestException as exc:
            status = type(exc).__name__
        with self._lock:
            self.outcomes[marker] = (phase, status, time.monotonic())
        return status

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                self.send()
                self._stop.wait(0.1)

        self._threads = [threading.Thread(target=loop, daemon=True) for _ in range(SENDERS)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads + self._probes:
            thread.join(timeout=CLIENT_TIMEOUT + 30)
        assert not any(t.is_alive() for t in self._threads + self._probes), \
            "a client is still waiting"

    def answers(self, since: float, status: int | None = None) -> list[int | str]:
        """Answers that came after `since` (monotonic), of one status if given."""
        with self._lock:
            found = [s for _, s, at in self.outcomes.values() if at >= since]
        return [s for s in found if status is None or s == status]

    def probe(self) -> None:
        """One more request, from a client of its own (the senders may all be waiting)."""
        thread = threading.Thread(target=self.send, daemon=True)
        self._probes.append(thread)
        thread.start()

    def first(self, since: float, statuses: set[int | str]) -> float:
        """Seconds from `since` to the first answer of one of `statuses` after it."""
        with self._lock:
            return min(at for _, s, at in self.outcomes.values()
                       if s in statuses and at >= since) - since

    def in_phase(self, phase: str) -> list[int | str]:
        with self._lock:
            return [s for p, s, _ in self.outcomes.values() if p == phase]


def _parked(node: PrivateRabbit, service: str) -> int:
    """Messages waiting in `service`'s delay queues on the private node."""
    prefix = delay_entities(service, 1000)[1].name.removesuffix("1000")
    listed = node.ctl("list_queues", "-q", "--no-table-headers", "name", "messages").stdout
    total = 0
    for line in listed.splitlines():
        name, _, count = line.strip().rpartition("\t")
        if name.startswith(prefix) and count.isdigit():
            total += int(count)
    return total


def _heartbeat_notices(log: Path, since: dt.datetime) -> list[float]:
    """Seconds after `since` at which a consumer logged missed heartbeats (printed only)."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if "heartbeats missed" not in line:
            continue
        try:
            at = dt.datetime.fromisoformat(json.loads(line)["ts"])
        except (ValueError, KeyError, TypeError):
            continue
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        if at >= since:
            found.append((at - since).total_seconds())
    return sorted(found)


def test_network_faults_lose_nothing_and_hang_no_one(tmp_path):
    with contextlib.ExitStack() as cleanup:  # whatever was started is stopped, however it ends
        node = PrivateRabbit(tmp_path / "rabbit")
        cleanup.callback(node.stop)
        node.start()
        postgres = _Postgres()
        cleanup.callback(postgres.drop)
        broker = FaultProxy("127.0.0.1", node.port).start()
        cleanup.callback(broker.close)
        database = FaultProxy("127.0.0.1", 5432).start()
        cleanup.callback(database.close)
        _run(tmp_path, node, broker, postgres, database)


def _run(tmp_path: Path, node: PrivateRabbit, broker: FaultProxy, postgres: _Postgres,
         database: FaultProxy) -> None:
    work = _workdir(tmp_path)
    gateway = free_port()
    health = {s: free_port() for s in SERVICES}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMSPIL_", "PYTEST_"))}
    env.update({"SAMSPIL_CONFIG": str(work / "deploy" / "config" / "all.yaml"),  # the copy
                "AMQP_URI": f"amqp://guest:guest@127.0.0.1:{broker.port}/",
                "HEARTBEAT": str(HEARTBEAT),
                "COORDINATION_DATABASE_URL": postgres.through(database),
                "WEB_SERVER_ADDRESS": f"127.0.0.1:{gateway}",
                "OIDC_ISSUER": f"http://127.0.0.1:{free_port()}",
                "SMTP_PORT": str(free_port()), "PYTHONUNBUFFERED": "1",
                **{f"{s.upper()}_HEALTH_ADDRESS": f"127.0.0.1:{p}"
                   for s, p in health.items()}})
    log = work / "samspil-run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([SAMSPIL, "run", "--migrate"], cwd=work, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{gateway}"

    def alive() -> None:
        if proc.poll() is not None:
            raise AssertionError(f"samspil run exited {proc.returncode}:\n"
                                 f"{log.read_text()[-4000:]}")

    def ready() -> int | None:
        alive()
        try:
            return requests.get(f"{base}/ready", timeout=CLIENT_TIMEOUT).status_code
        except requests.RequestException:
            return None

    def inbox() -> int:
        return postgres.count("select count(*) from inbox where "
                              "consumer like '%inquiry_registered%'")

    def inquiries() -> int:
        return int(_query(work, "intake", "select count(*) from inquiries")[0][0])

    traffic: _Traffic | None = None
    recovery: dict[str, float] = {}
    try:
        wait_for(lambda: ready() == 200, timeout=180, interval=0.5, what="the system started")
        token = subprocess.run([SAMSPIL, "tokens", "create", "--name", "anne", "--role",
                                "fronten"], cwd=work, env=env, capture_output=True,
                               text=True, timeout=120, check=True).stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        citizen = requests.post(f"{base}/api/citizens", headers=headers, timeout=30, json={
            "cpr": "241190-1234", "name": "Jonas Eksempel", "preferred_channel": "letter",
        }).json()["citizen_ref"]
        traffic = _Traffic(base, headers, citizen)
        for _ in range(10):
            assert traffic.send() == 201
        traffic.start()

        def flows_after(fault: str, healed: float) -> None:
            """Wait for a 201 answered after the heal; keep the seconds it took."""
            wait_for(lambda: traffic.answers(healed, 201), timeout=180, interval=0.2,
                     what=f"a 201 after the {fault} healed")
            recovery[fault] = traffic.first(healed, {201})
            alive()

        # 1. Latency on the broker: slower, and still answered.
        traffic.phase = "broker latency"
        broker.latency(BROKER_DELAY)
        time.sleep(LATENCY_SECONDS)
        wait_for(lambda: len(traffic.in_phase("broker latency")) >= 5, timeout=120,
                 what="answers under latency")
        broker.heal()
        traffic.phase = "after latency"
        alive()

        # 2. The broker blackholed: noticed, and every request answered.
        wait_for(lambda: len(traffic.in_phase("after latency")) >= 3, timeout=120,
                 what="traffic before the blackhole")
        traffic.phase = "broker blackhole"
        started_wall = dt.datetime.now(dt.UTC)
        started = time.monotonic()
        broker.blackhole()
        wait_for(lambda: ready() == 503, timeout=120, interval=0.2,
                 what="the gateway's /ready noticing the blackhole")
        not_ready = time.monotonic() - started

        def refusals() -> list[int | str]:
            traffic.probe()  # a new request every half second, as clients keep coming
            return traffic.answers(started, 503) + traffic.answers(started, 504)

        wait_for(refusals, timeout=120, interval=0.5,
                 what="a request refused during the blackhole")
        refused_at = traffic.first(started, {503, 504})
        time.sleep(max(BLACKHOLE_AT_LEAST - (time.monotonic() - started), 0))
        heartbeats = _heartbeat_notices(log, started_wall)
        alive()
        broker.heal()
        healed = time.monotonic()
        traffic.phase = "after blackhole"
        flows_after("blackhole", healed)
        wait_for(lambda: ready() == 200, timeout=180, interval=0.5,
                 what="the gateway ready again after the blackhole")

        # 3. Every connection to the broker reset, new ones refused for a while.
        traffic.phase = "broker reset"
        broker.reset()
        time.sleep(RESET_SECONDS)
        alive()
        broker.heal()
        healed = time.monotonic()
        traffic.phase = "after reset"
        flows_after("reset", healed)

        # 4. coordination's database: latency, then every connection reset.
        traffic.phase = "database latency"
        database.latency(DB_DELAY)
        time.sleep(DB_LATENCY_SECONDS)
        database.heal()
        traffic.phase = "database reset"
        database.reset()
        time.sleep(DB_RESET_SECONDS)
        alive()
        database.heal()
        healed = time.monotonic()
        traffic.phase = "after database reset"
        expected = inquiries()
        wait_for(lambda: inbox() >= expected, timeout=180, interval=0.5,
                 what="coordination caught up after its database's reset")
        recovery["database reset"] = time.monotonic() - healed

        # 5. coordination's database blackholed: its queries time out, and its events
        # wait in the delay queues (rather than with a worker hung on each).
        wait_for(lambda: _parked(node, "coordination") == 0, timeout=120, interval=1.0,
                 what="coordination's delay queues empty after the reset")
        traffic.phase = "database blackhole"
        started = time.monotonic()
        database.blackhole()
        wait_for(lambda: _parked(node, "coordination") > 0, timeout=120, interval=1.0,
                 what="coordination parking events while its database is blackholed")
        parked_at = time.monotonic() - started
        time.sleep(max(DB_BLACKHOLE_SECONDS - (time.monotonic() - started), 0))
        alive()
        database.heal()
        healed = time.monotonic()
        traffic.phase = "after database blackhole"
        expected = inquiries()
        wait_for(lambda: inbox() >= expected, timeout=180, interval=0.5,
                 what="coordination caught up after its database's blackhole")
        recovery["database blackhole"] = time.monotonic() - healed

        traffic.stop()
        alive()
        traffic.phase = "after"
        for _ in range(10):
            assert traffic.send() == 201
        alive()

        # Every event leaves intake's outbox, and coordination takes each once.
        wait_for(lambda: _query(work, "intake", "select count(*) from outbox where "
                                               "sent_at is null")[0][0] == 0,
                 timeout=180, what="intake's outbox drained")
        rows = _query(work, "intake", "select wish from inquiries")
        written: dict[str, int] = {}
        for (wish,) in rows:
            marker = wish.rsplit("(", 1)[-1].rstrip(")")
            written[marker] = written.get(marker, 0) + 1
        wait_for(lambda: inbox() == len(rows), timeout=180, interval=0.5,
                 what="coordination's inbox has every inquiry")
        outcomes = traffic.outcomes
        acknowledged = [m for m, (_, s, _) in outcomes.items() if s == 201]
        refused = sorted({str(s) for _, s, _ in outcomes.values() if s != 201})
        duplicates = sum(n - 1 for n in written.values())
        lost = sum(1 for m in acknowledged if written.get(m, 0) == 0)
        dead = sum(DeadLetters(node.amqp_uri, s).count() for s in (*SERVICES, UNROUTED))
        waits = _query(work, "intake", "select count(*) from outbox where attempts > 0")[0][0]
        print(f"\nsent {len(outcomes)}, acknowledged {len(acknowledged)}, "
              f"not acknowledged {len(outcomes) - len(acknowledged)} {refused}, "
              f"effects {len(rows)}, duplicates {duplicates}, lost {lost}, "
              f"dead letters {dead}; blackhole noticed: /ready {not_ready:.1f} s, first "
              f"refusal {refused_at:.1f} s, missed heartbeats logged by "
              f"{len(heartbeats)} consumers within "
              f"{max(heartbeats, default=float('nan')):.1f} s "
              f"(2 x HEARTBEAT = {2 * HEARTBEAT} s); database blackhole: first event parked "
              f"after {parked_at:.1f} s (read timeout {DB_READ_TIMEOUT} s); "
              f"relay rows retried {waits}; "
              f"recovery " + ", ".join(f"{k} {v:.1f} s" for k, v in recovery.items()))
        by_phase: dict[str, dict[str, int]] = {}
        for phase, status, _ in outcomes.values():
            by_phase.setdefault(phase, {}).setdefault(str(status), 0)
            by_phase[phase][str(status)] += 1
        print("by phase:", json.dumps(by_phase))
        assert duplicates == 0 and lost == 0 and dead == 0
        # Never a 500 and never a client left waiting: a broker that cannot be reached
        # is a 503 (or, for a request whose answer did not come in time, a 504).
        assert set(refused) <= {"503", "504"}, refused
        # Latency alone refuses nothing.
        assert set(traffic.in_phase("broker latency")) == {201}
    finally:
        if traffic is not None:
            traffic._stop.set()
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
