"""Scale-out, proven: two instances of every consumer service on PostgreSQL, each
service with its own broker user from deploy/rabbitmq/definitions.json and quorum
queues, under traffic. Every effect happens exactly once.

Traffic: pathway referrals and bridging announcements written to intake's outbox (as
intake's use cases write them), half before the instances start and half while they
run. Two intake relays share that outbox (SKIP LOCKED); two coordination instances
share each queue and open one pathway per referral, whose `coordination.pathway_opened`
their two relays publish to intake, housing and notifications; notifications and
partners take the bridging announcements.

Counted per consumer: messages it should have processed (every published row of a type
in its message map), inbox rows (processed), duplicates the inbox had to absorb (0:
no relay published a row twice), and coordination's effects without a unique
constraint (activity rows and pathways).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import column, func, select, table, text

from contracts import registry
from services import catalogue
from services.common.clock import SystemClock
from services.common.db import Store, make_engine
from services.common.migrate import metadata_of, upgrade
from tests import infra as infra_mod
from tests.conftest import service_config
from tests.support.net import free_port
from tests.support.processes import ServiceProcess, write_config
from tests.support.waiting import wait_for

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
CONSUMERS = ("intake", "coordination", "housing", "notifications", "partners")
INSTANCES = 2
N = 60  # referrals; as many bridging announcements
TIME_LIMIT = 300.0


def load_definitions() -> Any:
    import importlib.util

    path = ROOT / "deploy" / "rabbitmq" / "definitions.py"
    spec = importlib.util.spec_from_file_location("samspil_broker_definitions", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def broker_users(infra: infra_mod.Infra, vhost: str) -> Iterator[dict[str, str]]:
    """deploy/rabbitmq/definitions.json applied to this test's vhost (users prefixed with
    the vhost's name); yields service -> its own AMQP URI. Users are deleted after."""
    definitions = load_definitions()
    doc = definitions.renamed(json.loads(definitions.DEFINITIONS.read_text()), vhost,
                              f"{vhost}-")
    passwords = {user["name"]: secrets.token_urlsafe(16) for user in doc["users"]}
    api = urlsplit(infra.rabbit_api)
    base = f"{api.scheme}://{api.hostname}:{api.port}"
    auth = (api.username or "guest", api.password or "guest")
    definitions.apply(doc, base, auth, passwords)
    amqp = urlsplit(infra.amqp_uri)
    try:
        yield {
            name.removeprefix(f"{vhost}-"): (
                f"amqp://{quote(name, safe='')}:{quote(password, safe='')}@"
                f"{amqp.hostname}:{amqp.port or 5672}/{quote(vhost, safe='')}")
            for name, password in passwords.items()
        }
    finally:
        for name in passwords:
            requests.delete(f"{base}/api/users/{quote(name, safe='')}", auth=auth, timeout=10)


def example_payload(type_: str, **fresh: Any) -> dict[str, Any]:
    """The contract's own example (valid by construction), with fresh identities."""
    contract = registry.contract(type_)
    payload = contract.schema().load(contract.example)
    payload.update(fresh)
    return dict(payload)


def write_traffic(store: Store, count: int) -> None:
    """`count` referrals and `count` bridging announcements, one transaction each, as
    intake's use cases write them (rows in the outbox, published by the relays)."""
    now = dt.datetime.now(dt.UTC)
    for _ in range(count):
        with store.unit_of_work() as uow:
            inquiry = uuid.uuid4()
            uow.add_event("intake.pathway_referral", example_payload(
                "intake.pathway_referral", inquiry_id=inquiry, citizen_ref=uuid.uuid4(),
                referred_at=now), correlation_id=str(inquiry))
            uow.commit()
        with store.unit_of_work() as uow:
            course = uuid.uuid4()
            uow.add_event("intake.bridging_due", example_payload(
                "intake.bridging_due", course_id=course, citizen_ref=uuid.uuid4()),
                correlation_id=str(course))
            uow.commit()


def scalar(url: str, query: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(query)).scalar_one())
    finally:
        engine.dispose()


def inbox_count(url: str, types: list[str]) -> int:
    inbox = table("inbox", column("type"))
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(inbox)
                                    .where(inbox.c.type.in_(types))).scalar_one())
    finally:
        engine.dispose()


def published_types(urls: dict[str, str]) -> dict[str, int]:
    """Event type -> rows published (sent, not parked) across every service's outbox."""
    counts: dict[str, int] = {}
    for url in urls.values():
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(text(
                    "select type, count(*) from outbox where sent_at is not null "
                    "and (last_error is null or last_error not like 'parked%') group by type"))
                for type_, count in rows:
                    counts[type_] = counts.get(type_, 0) + int(count)
        finally:
            engine.dispose()
    return counts


# The traffic's event types: what the test writes, and what coordination makes of it.
TRAFFIC_TYPES = ("intake.pathway_referral", "intake.bridging_due", "coordination.pathway_opened")


def consumer_counts(urls: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Consumer service -> (traffic messages it should have processed, processed)."""
    published = published_types(urls)
    counts = {}
    for service in CONSUMERS:
        types = [t for t in TRAFFIC_TYPES if t in catalogue.message_map(service)]
        expected = sum(published.get(t, 0) for t in types)
        counts[service] = (expected, inbox_count(urls[service], types))
    return counts


def queues_empty(infra: infra_mod.Infra, vhost: str) -> bool:
    response = requests.get(infra_mod.api(infra, f"/api/queues/{quote(vhost, safe='')}"),
                            timeout=10)
    response.raise_for_status()
    return all(q.get("messages", 0) == 0 for q in response.json()
               if q["name"].startswith("evt-"))


class Instance(ServiceProcess):
    """A service process that answers /ready on its own port."""

    def __init__(self, service: str, config_path: Path, home: Path, port: int) -> None:
        super().__init__(service, config_path, home)
        self.port = port

    def ready(self) -> bool:
        if not self.alive():
            raise AssertionError(f"{self.service} exited:\n{self.log_text()[-3000:]}")
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/ready", timeout=5).ok
        except requests.RequestException:
            return False

    def wait_ready(self, timeout: float = 120.0) -> None:
        try:
            wait_for(self.ready, timeout=timeout, interval=0.2, what=f"{self.service} ready")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.log_text()[-3000:]}") from None


def start_instances(service: str, amqp_uri: str, url: str, tmp_path: Path,
                    count: int = INSTANCES, kind: type[Instance] | None = None,
                    **extra: Any) -> list[Instance]:
    procs = []
    for i in range(1, count + 1):
        home = tmp_path / f"{service}-{i}"
        home.mkdir()
        port = free_port()
        config = write_config(home / "config.yaml", service_config(
            amqp_uri, {service: url}, QUEUE_TYPE="quorum",
            HEALTH_ADDRESS=f"127.0.0.1:{port}", **extra))
        proc = (kind or Instance)(service, config, home, port)
        proc.start()
        procs.append(proc)
    return procs


def test_two_instances_of_every_consumer_and_two_relays_on_postgresql(infra, vhost,
                                                                      tmp_path):
    vhost_name = vhost[0]
    urls = {service: infra_mod.create_pg_database(infra) for service in CONSUMERS}
    procs: list[Instance] = []
    try:
        for service, url in urls.items():
            upgrade(service, url)
        intake_engine = make_engine(urls["intake"])
        intake_store = Store(intake_engine, metadata_of("intake"), "intake", SystemClock())
        with broker_users(infra, vhost_name) as users:
            try:
                extra = {
                    "intake": {"CPR_HASH_KEY": "scale-test-" + "k" * 40,
                               "CPR_ENCRYPTION_KEY": Fernet.generate_key().decode()},
                    "notifications": {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": free_port(),
                                      "DELIVERY_SWEEP_SECONDS": 3600},
                }
                for service in CONSUMERS:
                    procs += start_instances(service, users[service], urls[service], tmp_path,
                                             **extra.get(service, {}))
                for proc in procs:
                    proc.wait_ready()  # every queue is declared: nothing published is missed
                write_traffic(intake_store, N // 2)
                wait_for(lambda: consumer_counts(urls)["coordination"][1] >= N // 4, timeout=120,
                         what="the first referrals handled")
                write_traffic(intake_store, N - N // 2)  # the second half while they work
                intake_engine.dispose()

                state: dict[str, Any] = {}

                def settled() -> bool:
                    for proc in procs:
                        if not proc.alive():
                            raise AssertionError(f"{proc.service} died:\n{proc.log_text()[-3000:]}")
                    pending = sum(scalar(u, "select count(*) from outbox where sent_at is null")
                                  for u in urls.values())
                    counts = consumer_counts(urls)
                    state.update(pending=pending, counts=counts)
                    return (pending == 0 and all(e == done for e, done in counts.values())
                            and queues_empty(infra, vhost_name))

                try:
                    wait_for(settled, timeout=TIME_LIMIT, interval=0.5,
                             what="every message processed")
                except AssertionError as exc:
                    problems = [line[:400] for proc in procs
                                for line in proc.log_text().splitlines()
                                if '"level": "ERROR"' in line or line.startswith("Traceback")]
                    raise AssertionError(f"{exc}: {state}\n" + "\n".join(problems[-30:])) from None
                counts = consumer_counts(urls)
                coordination = urls["coordination"]
                activity = (
                    scalar(coordination, "select count(*) from citizen_activity "
                                         "where kind = 'pathway_referral'"),
                    scalar(coordination, "select count(distinct source_message_id) from "
                                         "citizen_activity where kind = 'pathway_referral'"))
                pathways = scalar(coordination, "select count(*) from pathways")
            finally:  # before the users go: a consumer without its user only retries
                for proc in procs:
                    proc.stop()
    finally:
        for proc in procs:
            proc.stop()
        logs = "\n".join(proc.log_text() for proc in procs)
        for url in urls.values():
            infra_mod.drop_pg_database(infra, url)

    duplicates = logs.count("duplicate ")
    errors = [line for line in logs.splitlines()
              if '"level": "ERROR"' in line or line.startswith("Traceback")]
    print(f"\nscale-out [postgresql, {INSTANCES} instances each, own broker users, quorum]: "
          f"referrals={N} bridging={N}")
    for service, (expected, processed) in counts.items():
        print(f"  {service:<13} expected={expected} processed={processed}")
    print(f"  coordination effects: referral activity={activity[0]} "
          f"(distinct messages {activity[1]}) pathways={pathways}")
    print(f"  duplicates absorbed={duplicates} errors={len(errors)}")
    assert activity == (N, N) and pathways == N, "every effect exactly once"
    assert counts["coordination"][0] >= N, "coordination saw every referral"
    assert counts["intake"][0] >= N and counts["housing"][0] >= N, "pathway_opened reached them"
    assert counts["notifications"][0] >= 2 * N and counts["partners"][0] >= N
    assert all(expected == processed for expected, processed in counts.values())
    assert duplicates == 0, "a relay published a row twice"
    assert errors == [], "\n".join(errors[:5])
