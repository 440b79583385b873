"""Backup and restore, per service, on PostgreSQL (deploy/runbook.md, "Backup and
restore"): `pg_dump`, drop the database, `pg_restore`, and the service carries on.

- Every service: its database (with rows in it) dumped while it runs, dropped, restored
  into a new database of the same name; the service starts on it, is ready, its schema
  is at head, every table holds what the dump held, and it writes again.
- coordination in depth: the events intake published after the dump are missing from
  the restored database. Republishing intake's outbox rows from a little before the
  dump (the runbook's SQL) brings them back; the inbox absorbs the ones the dump already
  had. Every effect ends up there exactly once, under traffic.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import func, inspect, select, table, text

from services.common.clock import SystemClock
from services.common.db import Store, make_engine
from services.common.migrate import check_at_head, metadata_of, upgrade
from tests import infra as infra_mod
from tests.reliability.test_scale_out import Instance, example_payload, scalar, start_instances
from tests.support.net import free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.reliability

SERVICES = ("intake", "coordination", "housing", "notifications", "partners", "gateway")
N = 40  # inquiries per phase
MARGIN = dt.timedelta(seconds=30)  # republished from this long before the dump


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing (Debian: postgresql-client)"
    return found


def pg_dump(url: str, into: Path) -> None:
    subprocess.run([tool("pg_dump"), "--format=custom", "--no-owner", f"--file={into}", url],
                   check=True, capture_output=True, timeout=300)


def drop_and_restore(infra: infra_mod.Infra, url: str, dump: Path) -> None:
    """As the runbook does it: the database dropped, made anew, the dump restored."""
    infra_mod.drop_pg_database(infra, url)
    name = urlsplit(url).path.lstrip("/")
    engine = make_engine(infra.pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    subprocess.run([tool("pg_restore"), "--no-owner", "--exit-on-error", f"--dbname={url}",
                    str(dump)], check=True, capture_output=True, timeout=300)


def table_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
        with engine.connect() as conn:
            return {name: int(conn.execute(select(func.count()).select_from(
                table(name))).scalar_one()) for name in tables}
    finally:
        engine.dispose()


def log_access(url: str, rows: int, actor: str) -> None:
    """Rows in the kit's access log, which every service has."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for _ in range(rows):
                conn.execute(text(
                    "insert into access_log (at, actor, action, what, purpose) "
                    "values (:at, :actor, 'read', 'backup-test', 'backup test')"),
                    {"at": dt.datetime.now(dt.UTC), "actor": actor})
    finally:
        engine.dispose()


def extra_config(service: str) -> dict[str, object]:
    if service == "intake":
        return {"CPR_HASH_KEY": "backup-test-" + "k" * 40,
                "CPR_ENCRYPTION_KEY": Fernet.generate_key().decode()}
    if service == "gateway":
        return {"WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}"}
    return {}


class Gateway(Instance):
    """The gateway's /ready also asks for every service behind it; alone, its own
    broker and database are what count."""

    def ready(self) -> bool:
        if not self.alive():
            raise AssertionError(f"gateway exited:\n{self.log_text()[-3000:]}")
        try:
            checks = requests.get(f"http://127.0.0.1:{self.port}/ready", timeout=5).json()
        except (requests.RequestException, ValueError):
            return False
        return checks.get("checks", {}).get("database") == "ok" and \
            checks["checks"].get("broker") == "ok"


@pytest.mark.parametrize("service", SERVICES)
def test_each_database_dumped_dropped_restored_and_the_service_carries_on(
        service, infra, amqp_uri, tmp_path):
    url = infra_mod.create_pg_database(infra)
    procs: list[Instance] = []
    try:
        upgrade(service, url)
        log_access(url, 25, "staff:before-dump")
        extra = extra_config(service)
        procs = start_instances(service, amqp_uri, url, tmp_path, count=1,
                                kind=Gateway if service == "gateway" else None, **extra)
        proc = procs[0]
        if service == "gateway":  # it answers on its web address
            proc.port = int(str(extra["WEB_SERVER_ADDRESS"]).rsplit(":", 1)[1])
        proc.wait_ready()
        dump = tmp_path / f"{service}.dump"
        pg_dump(url, dump)  # while it runs, as a nightly backup would
        before = table_counts(url)
        log_access(url, 5, "staff:after-dump")  # lost with the restore, as expected
        proc.stop()
        drop_and_restore(infra, url, dump)
        check_at_head(service, url)
        restored = table_counts(url)
        proc.start()
        proc.wait_ready()
        log_access(url, 1, "staff:after-restore")
        after = scalar(url, "select count(*) from access_log")
    finally:
        for p in procs:
            p.stop()
        infra_mod.drop_pg_database(infra, url)
    print(f"\nbackup/restore {service} [postgresql]: tables={len(before)} "
          f"rows dumped={sum(before.values())} restored={sum(restored.values())} "
          f"access_log after restore+1={after}")
    assert restored == before
    assert after == before["access_log"] + 1


def test_coordination_restored_catches_up_on_events_published_after_the_dump(
        infra, amqp_uri, vhost, tmp_path):
    urls = {s: infra_mod.create_pg_database(infra) for s in ("intake", "coordination")}
    procs: list[Instance] = []
    intake_engine = None
    try:
        for service, url in urls.items():
            upgrade(service, url)
        intake_engine = make_engine(urls["intake"])
        intake = Store(intake_engine, metadata_of("intake"), "intake", SystemClock())
        procs = (start_instances("intake", amqp_uri, urls["intake"], tmp_path, count=1,
                                 **extra_config("intake"))
                 + start_instances("coordination", amqp_uri, urls["coordination"], tmp_path,
                                   count=1))
        for proc in procs:
            proc.wait_ready()
        coordination = procs[1]

        def effects() -> tuple[int, int]:
            return (scalar(urls["coordination"], "select count(*) from citizen_activity"),
                    scalar(urls["coordination"], "select count(distinct source_message_id) "
                                                 "from citizen_activity"))

        def inquiries(count: int) -> None:
            now = dt.datetime.now(dt.UTC)
            for _ in range(count):
                with intake.unit_of_work() as uow:
                    inquiry = uuid.uuid4()
                    uow.add_event("intake.inquiry_registered", example_payload(
                        "intake.inquiry_registered", inquiry_id=inquiry,
                        citizen_ref=uuid.uuid4(), registered_at=now),
                        correlation_id=str(inquiry))
                    uow.commit()

        inquiries(N)
        wait_for(lambda: effects()[0] >= N, timeout=120, what="the first inquiries handled")
        dumped_at = dt.datetime.now(dt.UTC)
        dump = tmp_path / "coordination.dump"
        pg_dump(urls["coordination"], dump)
        inquiries(N)
        wait_for(lambda: effects()[0] >= 2 * N, timeout=120, what="the second inquiries")

        coordination.stop()
        drop_and_restore(infra, urls["coordination"], dump)
        restored = effects()
        coordination.start()
        coordination.wait_ready()
        # The runbook's step: intake republishes what it sent since shortly before the dump.
        with intake_engine.begin() as conn:
            republished = conn.execute(text(
                "update outbox set sent_at = null, next_attempt_at = null "
                "where sent_at >= :since"), {"since": dumped_at - MARGIN}).rowcount
        inquiries(N)  # and traffic goes on
        wait_for(lambda: effects()[0] >= 3 * N
                 and scalar(urls["intake"], "select count(*) from outbox "
                                            "where sent_at is null") == 0,
                 timeout=180, what="coordination caught up")
        final = effects()
        absorbed = coordination.log_text().count("duplicate intake.inquiry_registered ignored")
    finally:
        for proc in procs:
            proc.stop()
        if intake_engine is not None:
            intake_engine.dispose()
        for url in urls.values():
            infra_mod.drop_pg_database(infra, url)
    print(f"\nrestore with replay [postgresql]: sent={3 * N} restored effects={restored[0]} "
          f"republished={republished} duplicates absorbed={absorbed} "
          f"effects={final[1]} duplicates={final[0] - final[1]}")
    assert restored == (N, N), "the dump held the first inquiries only"
    assert republished >= N
    assert final == (3 * N, 3 * N), "every effect exactly once"
    assert absorbed >= 1, "the margin replayed some the dump already had: the inbox absorbed"


def test_the_dump_tools_are_the_servers_major_version(infra):
    """pg_dump refuses a newer server; the runbook says to match them."""
    engine = make_engine(infra.pg_url)
    with engine.connect() as conn:
        server = int(conn.execute(text("show server_version_num")).scalar_one()) // 10000
    engine.dispose()
    client = subprocess.run([tool("pg_dump"), "--version"], capture_output=True, text=True,
                            check=True).stdout
    assert int(client.split()[-1].split(".")[0]) >= server, (client, server)
