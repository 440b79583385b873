"""A partner's webhook receiver down for 24 hours (issue 12, point 7).

notifications runs as deployed (`samspil --config deploy/config/notifications.yaml run
notifications --migrate`, its production retry settings: 30 s doubling to 1 h, give up
after 72 h) in its own process, on a private RabbitMQ node and a fresh PostgreSQL
database, with its clock read from a file (CLOCK=file:...) that the test moves. A
housing association subscribes with a webhook to a real HTTP receiver on loopback that
verifies every request's Standard Webhooks signature with the `standardwebhooks` library
and records its webhook-id and case.

While the receiver is down, 10,000 `housing.partner_status` events (50 statements
about each of 200 arrears cases, the cases interleaved) are published onto housing's
events exchange, and the clock walks 24 hours along the retry schedule (30 s, 1 min,
..., 32 min, then hourly), waiting at each step for the sweep's attempts: the first 12
hours the receiver refuses connections, the next 12 it answers 503. Then it comes back
(200), the clock moves one more hour (the longest wait between two retries), and the
backlog drains.

Asserted: the ledger never gives up within the 24 hours; every event reaches the
receiver, accepted exactly once per webhook-id; in each case in the order the events
were published (the first statement of a case waits for its retry, the later ones wait
behind it); the ledger's `delivery_attempts` has every attempt, matching, request for
request, what the receiver saw (and the refused connections it could not see); no
dead letters.

Counted, per webhook-id: "redeliveries" are requests of an id after an answer that was
not 2xx (retries, expected); "duplicates" are 2xx answers beyond the first for one id
(the receiver would act twice without its idempotency check: must be 0)."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import os
import subprocess
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from contracts import registry
from services.cli import load_config
from services.common.amqp import Publisher, event_exchange
from services.common.clock import FileClock
from services.common.db import make_engine
from services.common.deadletters import DeadLetters
from tests.support.net import free_port
from tests.support.rabbit import PrivateRabbit
from tests.support.waiting import wait_for

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
SAMSPIL = str(ROOT / ".venv" / "bin" / "samspil")
CONFIG = str(ROOT / "deploy" / "config" / "notifications.yaml")
CASES, PER_CASE = 200, 50
EVENTS = CASES * PER_CASE
PARTNER = "kab-ballerup"
STATEMENT_QUEUE = "evt-housing-housing.partner_status--notifications.on_housing_partner_status"
OUTAGE = dt.timedelta(hours=24)
REFUSING = dt.timedelta(hours=12)  # then 503 for the rest of the outage
T0 = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
ERROR_503 = "HTTPError: webhook answered HTTP 503"
PHASE_TIMEOUT = 600.0  # a bound per phase on a loaded machine, never an expectation


@dataclass
class Seen:
    webhook_id: str
    case: str
    status: int


@dataclass
class PartnerReceiver:
    """The partner's endpoint: verifies the Standard Webhooks signature (401 if it
    fails), records every request, and answers 200, or 503 while `failing`. `down()`
    closes the port (connections refused); `up()` opens the same port again."""

    port: int = field(default_factory=free_port)
    secret: str = ""  # the subscription's, as the partner is given it
    failing: bool = False
    seen: list[Seen] = field(default_factory=list)
    server: http.server.ThreadingHTTPServer | None = None

    def up(self) -> None:
        if self.server is not None:
            return
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = dict(self.headers.items())
                try:
                    message = Webhook(receiver.secret).verify(body, headers)
                    status = 503 if receiver.failing else 200
                    case = str(message["case_ref"])
                except WebhookVerificationError:
                    status, case = 401, ""
                receiver.seen.append(Seen(headers.get("webhook-id", ""), case, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/samspil"


def _retry_steps(base: float, cap: float) -> list[dt.timedelta]:
    """The clock's walk: each step as long as the longest wait the schedule may draw
    after that many failures (equal jitter: between half a step and a step), so every
    waiting delivery is due, and tried once, at every step; until 24 h have passed."""
    steps, elapsed, failures = [], dt.timedelta(0), 1
    while elapsed < OUTAGE:
        elapsed += dt.timedelta(seconds=min(cap, base * 2 ** (failures - 1)))
        steps.append(elapsed)
        failures += 1
    return steps


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used (Linux /proc), 0 if unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _scalar(engine: Any, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def _statement(case: str, n: int) -> dict[str, Any]:
    return {"association_id": PARTNER, "case_ref": case, "tenancy_ref": f"L-{n:04d}",
            "status": "hold_termination_requested", "requested": "hold_termination",
            "occurred_on": dt.date(2026, 2, 16), "hold_until": dt.date(2026, 3, 15),
            "eviction_date": None}


def test_a_day_long_partner_outage_delivers_everything_once_in_order(tmp_path, pg_url):
    deployed = load_config(CONFIG)  # the retry settings notifications runs with
    base = float(deployed["DELIVERY_BACKOFF_BASE_SECONDS"])
    cap = float(deployed["DELIVERY_BACKOFF_CAP_SECONDS"])
    assert float(deployed["DELIVERY_GIVE_UP_HOURS"]) > 25  # the premise: it outlasts a day
    assert not deployed["DELIVERY_MAX_ATTEMPTS"]  # no attempt limit besides
    node = PrivateRabbit(tmp_path / "rabbit").start()
    clock = FileClock(tmp_path / "clock")
    clock.set(T0)
    health = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMSPIL_", "PYTEST_"))}
    env.update({"AMQP_URI": node.amqp_uri, "NOTIFICATIONS_DATABASE_URL": pg_url,
                "HEALTH_ADDRESS": f"127.0.0.1:{health}", "CLOCK": f"file:{clock.path}",
                "WEBHOOK_ALLOW_LOOPBACK": "true", "DELIVERY_SWEEP_SECONDS": "0.2",
                "PYTHONUNBUFFERED": "1"})
    log = tmp_path / "notifications.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([SAMSPIL, "--config", CONFIG, "run", "notifications",
                                 "--migrate"], cwd=tmp_path, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    engine = make_engine(pg_url)
    publisher = Publisher(node.amqp_uri)
    receiver = PartnerReceiver()  # down: nothing listens on its port yet

    def alive() -> None:
        if proc.poll() is not None:
            raise AssertionError(f"notifications exited {proc.returncode}:\n"
                                 f"{log.read_text()[-4000:]}")

    def ready() -> bool:
        alive()
        try:
            return requests.get(f"http://127.0.0.1:{health}/ready", timeout=3).ok
        except requests.RequestException:
            return False

    def count(sql: str, **params: Any) -> int:
        alive()
        return int(_scalar(engine, sql, **params))

    def consuming_statements() -> bool:
        """notifications' queue for housing.partner_status exists and is consumed (its
        /ready can answer before every event consumer has declared its queue)."""
        alive()
        import amqp

        conn = amqp.Connection(f"127.0.0.1:{node.port}", connect_timeout=5)
        try:
            conn.connect()
            _, _, consumers = conn.channel().queue_declare(STATEMENT_QUEUE, passive=True)
            return bool(consumers)
        except amqp.exceptions.NotFound:
            return False
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    try:
        wait_for(ready, timeout=180, interval=0.5, what="notifications started")
        wait_for(consuming_statements, timeout=180, interval=0.5,
                 what="notifications consuming housing.partner_status")
        with ClusterRpcProxy({"AMQP_URI": node.amqp_uri}) as cluster:
            secret = str(cluster.notifications.add_subscription(
                actor="staff:ops", partner_id=PARTNER, partner_kind="housing",
                channel="webhook", event_types=["housing.partner_status"],
                url=receiver.url())["secret"])
            cluster.notifications.add_legal_basis(
                actor="staff:jurist", recipient=PARTNER,
                information_kind="housing_case_status", purpose="keep_home",
                reference="retssikkerhedsloven § 5 a")
        receiver.secret = secret

        # The backlog, published while the partner is down and while the clock walks:
        # the cases interleaved, each case's statements in order (occurred_at one
        # millisecond apart). The first round is each case's first statement.
        started = time.monotonic()
        cases = [str(uuid.uuid4()) for _ in range(CASES)]
        produced: dict[str, list[str]] = defaultdict(list)
        publishing: dict[str, Any] = {}

        def publish_backlog() -> None:
            try:
                for n in range(PER_CASE):
                    for c, case in enumerate(cases):
                        event = registry.build(
                            "housing.partner_status", _statement(case, n), producer="housing",
                            correlation_id=f"outage-{case}",
                            occurred_at=T0 + dt.timedelta(milliseconds=n * CASES + c))
                        publisher.publish(event.to_wire(), exchange=event_exchange("housing"),
                                          routing_key=event.type,
                                          message_id=str(event.message_id))
                        produced[case].append(str(event.message_id))
                publishing["done"] = time.monotonic()
            except BaseException as exc:
                publishing["error"] = exc

        sender = threading.Thread(target=publish_backlog)
        sender.start()

        def tried_at(at: dt.datetime) -> Callable[[], bool]:
            """Whether each case's first statement has been tried at `at` (and failed)."""
            def probe() -> bool:
                if "error" in publishing:
                    raise AssertionError(f"publishing failed: {publishing['error']!r}")
                return count("select count(*) from deliveries where status = 'retrying' and "
                             "last_attempt_at = :t", t=at) == CASES
            return probe

        # Each case's first statement is tried at once (refused); later ones wait behind.
        wait_for(tried_at(T0), timeout=PHASE_TIMEOUT, interval=0.5, what="the first attempts")

        # 24 hours along the retry schedule.
        steps = _retry_steps(base, cap)
        for step in steps:
            if step >= REFUSING and receiver.server is None:
                receiver.failing = True  # the partner's server is back, its app is not
                receiver.up()
            clock.set(T0 + step)
            wait_for(tried_at(T0 + step), timeout=PHASE_TIMEOUT, interval=0.2,
                     what=f"the attempts at +{step}")
        outage_walked = time.monotonic()
        sender.join(timeout=PHASE_TIMEOUT)
        assert "done" in publishing, f"publishing did not finish: {publishing}"
        heads = {ids[0] for ids in produced.values()}
        wait_for(lambda: count("select count(*) from deliveries") == EVENTS,
                 timeout=PHASE_TIMEOUT, interval=1.0, what="every event planned")
        planned = time.monotonic()
        acknowledged = count("select count(*) from inbox where consumer like "
                             "'%housing_partner_status%'")
        assert count("select count(*) from deliveries where status = 'failed'") == 0
        assert count("select count(*) from deliveries where attempts > 0") == CASES
        assert count("select count(*) from deliveries where failing_since = :t "
                     "and attempts = :n", t=T0, n=len(steps) + 1) == CASES
        seen_during_outage = len(receiver.seen)

        # The partner is back; the next retry is at most an hour after the last one.
        receiver.failing = False
        clock.set(T0 + steps[-1] + dt.timedelta(seconds=cap))
        returned, cpu_at_return = time.monotonic(), _cpu_seconds(proc.pid)
        wait_for(lambda: count("select count(*) from deliveries where status = 'sent'")
                 == EVENTS, timeout=PHASE_TIMEOUT, interval=1.0, what="the backlog drained")
        drain = time.monotonic() - returned
        drain_cpu = _cpu_seconds(proc.pid) - cpu_at_return
        dead = DeadLetters(node.amqp_uri, "notifications").count()

        # What the partner got.
        accepted = [s for s in receiver.seen if s.status == 200]
        per_id = Counter(s.webhook_id for s in accepted)
        delivered = len(per_id)
        duplicates = sum(n - 1 for n in per_id.values())
        published_ids = {i for ids in produced.values() for i in ids}
        lost = len(published_ids - set(per_id))
        unverified = sum(1 for s in receiver.seen if s.status == 401)
        redeliveries = len(receiver.seen) - len({s.webhook_id for s in receiver.seen})
        got: dict[str, list[str]] = defaultdict(list)
        for s in accepted:
            got[s.case].append(s.webhook_id)
        out_of_order = sum(1 for case, ids in produced.items() if got[case] != ids)
        # No request for a statement before the one before it in its case was accepted.
        done: set[str] = set()
        position = {i: (case, k) for case, ids in produced.items() for k, i in enumerate(ids)}
        overtaking = 0
        for s in receiver.seen:
            case, k = position[s.webhook_id]
            overtaking += k > 0 and produced[case][k - 1] not in done
            if s.status == 200:
                done.add(s.webhook_id)

        # What the ledger says, attempt by attempt, against what the receiver saw.
        with engine.connect() as conn:
            ledger = conn.execute(text(
                "select d.message_id, a.outcome, a.error, a.attempt, d.attempts "
                "from delivery_attempts a join deliveries d on d.id = a.delivery_id "
                "order by a.id")).all()
        attempts_by_id: dict[str, list[str]] = defaultdict(list)
        kinds: Counter[str] = Counter()
        ledger_requests: Counter[str] = Counter()  # the attempts the receiver could see
        for message_id, outcome, error, _n, _total in ledger:
            attempts_by_id[message_id].append(outcome)
            kind = "sent" if outcome == "sent" and error is None else \
                "503" if outcome == "retrying" and error == ERROR_503 else \
                "refused" if outcome == "retrying" and str(error).startswith("ConnectionError") \
                else "other"
            kinds[kind] += 1
            if kind in ("sent", "503"):
                ledger_requests[message_id] += 1
        receiver_requests = Counter(s.webhook_id for s in receiver.seen)
        mismatched = len(receiver_requests - ledger_requests) + len(
            ledger_requests - receiver_requests)
        off_count = count("select count(*) from deliveries d where d.attempts != (select "
                          "count(*) from delivery_attempts a where a.delivery_id = d.id)")

        print(f"\nsent {EVENTS} ({CASES} cases x {PER_CASE}), acknowledged {acknowledged}, "
              f"delivered (effects) {delivered}, duplicates {duplicates}, lost {lost}, "
              f"out-of-order {out_of_order} (overtaking requests {overtaking}), "
              f"attempts in ledger {len(ledger)} ({kinds['refused']} refused + "
              f"{kinds['503']} x 503 + {kinds['sent']} sent + {kinds['other']} other), "
              f"receiver requests "
              f"{len(receiver.seen)} ({redeliveries} redeliveries, {unverified} unverified), "
              f"dead letters {dead}, recovery: drained {drain:.1f} s after the return "
              f"({EVENTS / drain:.0f}/s)")
        print(f"timings: published in {publishing['done'] - started:.1f} s, 24 h walked in "
              f"{len(steps)} clock steps in {outage_walked - started:.1f} s ({len(steps) + 1} "
              f"attempts of each case's first statement, {seen_during_outage} reached the "
              f"receiver as 503s), all planned after {planned - started:.1f} s, drain "
              f"{drain:.1f} s (notifications' process busy {drain_cpu:.1f} s of it, "
              f"{1000 * drain_cpu / EVENTS:.1f} ms of CPU per delivery)")

        assert acknowledged == EVENTS
        assert (delivered, duplicates, lost, unverified, dead) == (EVENTS, 0, 0, 0, 0)
        assert (out_of_order, overtaking) == (0, 0)
        # Every attempt is in the ledger: each case's first statement failed at every
        # step of the outage and was then sent; every other statement was sent at its
        # first attempt. The receiver saw exactly the ledger's 503s and sends; the
        # refused connections (which it could not see) are the first 12 hours'.
        refusing_steps = 1 + sum(1 for s in steps if s < REFUSING)
        for message_id in published_ids:
            failed = len(steps) + 1 if message_id in heads else 0
            assert attempts_by_id[message_id] == ["retrying"] * failed + ["sent"], message_id
        assert kinds == {"refused": CASES * refusing_steps, "sent": EVENTS,
                         "503": CASES * (len(steps) + 1 - refusing_steps)}
        assert kinds["503"] == seen_during_outage
        assert mismatched == 0 and off_count == 0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        receiver.down()
        publisher.close()
        engine.dispose()
        node.stop()
