"""A rolling upgrade, proven, and the expand/contract rule that makes it possible
(docs/decisions/0014-expand-contract-migrations.md).

The rolling upgrade: coordination as released in commit a4ed3c7 (the worklists release,
schema 0004; taken from git history with `git archive` and run from its own source
tree with this venv) runs on PostgreSQL and consumes `intake.inquiry_registered` under
steady traffic. While it runs, the database is migrated to this tree's head (an
expand-only step: 0005 adds tables and nullable columns), the current coordination starts
beside it on the same queue, and the old one is stopped. Nothing is lost, nothing is
applied twice, nothing fails.

The rule: for every release since the rule was adopted, and this tree, no column or
table that the previous release's models use is dropped or renamed, and no column is
added that the previous release could not insert (NOT NULL without a server default).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import threading
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from services.common.amqp import Publisher, event_exchange
from services.common.db import make_engine
from services.common.migrate import upgrade
from services.coordination.models import CitizenActivity
from tests import infra as infra_mod
from tests.conftest import service_config
from tests.reliability.recorder import inquiry_event
from tests.support.net import free_port
from tests.support.processes import write_config
from tests.support.waiting import wait_for

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "coordination"
# The previous release of coordination: its schema (0004) is a prefix of this tree's,
# and this tree's 0005 only adds (tables, nullable columns), so both run side by side.
PREVIOUS_RELEASE = "a4ed3c7bdb24862825b2e5e234a298700ea74d0f"
QUEUE = "evt-intake-intake.inquiry_registered--coordination.on_intake_inquiry_registered"
RATE_PER_SECOND = 20
STEP = 20  # effects to see in each phase before going on
# Releases are checked against their predecessor from this one on: the rule was adopted
# here. Before it, a4ed3c7 added housing.arrears_cases.worklist_priority and
# worklist_due_at as NOT NULL without a server default (the old release could not have
# kept running beside it).
RULE_ADOPTED_AT = PREVIOUS_RELEASE
# Violations already in history (commits cannot change): reported, not failed on.
# d5430b9 (issue 10/16) made housing.arrears_cases.partner_due_on NOT NULL in the same
# release that added it: the housing release before it cannot open a case beside it.
KNOWN_VIOLATIONS = {
    ("9d4be847033f9d5ef666c6db293debca45678f31", "d5430b9a105e6b138259b13802dcf9e84083ad45"):
        {"housing.arrears_cases.partner_due_on: added NOT NULL without a server default"},
}
SERVICES = ("intake", "coordination", "housing", "notifications", "partners", "gateway")


def source_tree(commit: str, into: Path) -> Path:
    """The services and contracts of `commit`, unpacked from git (no checkout touched)."""
    archive = subprocess.run(["git", "archive", "--format=tar", commit, "services",
                              "contracts"], cwd=ROOT, capture_output=True, timeout=120)
    if archive.returncode != 0:
        raise AssertionError(f"git archive {commit}: {archive.stderr.decode()[:500]} "
                             "(the test needs the repository's history: a full clone)")
    into.mkdir(parents=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


class Release:
    """`samspil run coordination` from a given source tree, in its own process."""

    def __init__(self, name: str, tree: Path, config: Path, port: int, log: Path) -> None:
        self.name, self.tree, self.config, self.port, self.log = name, tree, config, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        return dict(os.environ, PYTHONPATH=str(self.tree), PYTHONUNBUFFERED="1")

    def imports_its_own_code(self) -> bool:
        probe = "import services.cli as c; print(c.__file__)"
        where = subprocess.run([sys.executable, "-c", probe],
                               cwd=self.tree, env=self.env(), capture_output=True, text=True,
                               timeout=60)
        return where.stdout.strip().startswith(str(self.tree))

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "services.cli", "--config",
                               str(self.config), *args], cwd=self.tree, env=self.env(),
                              capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "services.cli", "--config", str(self.config), "run",
                 SERVICE], cwd=self.tree, env=self.env(), stdout=out,
                stderr=subprocess.STDOUT)

    def ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited {self.proc.returncode}:\n"
                                 f"{self.log.read_text()[-3000:]}")
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/ready", timeout=5).ok
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def errors(self) -> list[str]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line[:300] for line in text.splitlines()
                if '"level": "ERROR"' in line or line.startswith("Traceback")]


class Traffic(threading.Thread):
    """intake.inquiry_registered at a steady rate until stopped; counts what it sent."""

    def __init__(self, amqp_uri: str) -> None:
        super().__init__(daemon=True)
        self.amqp_uri = amqp_uri
        self.sent = 0
        self.failures: list[str] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        publisher = Publisher(self.amqp_uri)
        try:
            while not self._stop_event.is_set():
                event = inquiry_event(["housing"])
                try:
                    publisher.publish(event.to_wire(), exchange=event_exchange("intake"),
                                      routing_key=event.type, message_id=str(event.message_id))
                    self.sent += 1
                except Exception as exc:  # counted, and the test fails on it
                    self.failures.append(f"{type(exc).__name__}: {exc}")
                self._stop_event.wait(1.0 / RATE_PER_SECOND)
        finally:
            publisher.close()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=30)


def effects(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(CitizenActivity)
                                 .where(CitizenActivity.kind == "inquiry_registered")
                                 ).scalar_one()
            distinct = conn.execute(select(func.count(func.distinct(
                CitizenActivity.source_message_id))).where(
                CitizenActivity.kind == "inquiry_registered")).scalar_one()
    finally:
        engine.dispose()
    return int(total), int(distinct)


def queue_depth(infra: infra_mod.Infra, vhost: str, queue: str) -> int:
    try:
        info = infra_mod.queue_info(infra, vhost, queue)
    except requests.HTTPError:
        return -1
    return int(info.get("messages", 0))


def test_rolling_upgrade_of_coordination_under_traffic(infra, vhost, tmp_path):
    vhost_name, amqp_uri = vhost
    url = infra_mod.create_pg_database(infra)
    old_tree = source_tree(PREVIOUS_RELEASE, tmp_path / "previous")
    ports = {"old": free_port(), "new": free_port()}
    releases = {}
    for name, tree in (("old", old_tree), ("new", ROOT)):
        config = write_config(tmp_path / f"{name}.yaml", service_config(
            amqp_uri, {SERVICE: url}, HEALTH_ADDRESS=f"127.0.0.1:{ports[name]}"))
        releases[name] = Release(name, tree, config, ports[name], tmp_path / f"{name}.log")
    old, new = releases["old"], releases["new"]
    traffic = Traffic(amqp_uri)
    seen: dict[str, int] = {}
    assert old.imports_its_own_code() and new.imports_its_own_code()
    try:
        migrated = old.cli("migrate", SERVICE)
        assert migrated.returncode == 0, migrated.stderr
        old.start()
        wait_for(old.ready, timeout=90, interval=0.2, what="the previous release ready")
        wait_for(lambda: queue_depth(infra, vhost_name, QUEUE) >= 0, timeout=30,
                 what="the consumer's queue")
        traffic.start()
        wait_for(lambda: effects(url)[0] >= STEP, timeout=60, what="the old release at work")

        upgrade(SERVICE, url)  # expand, while the old release runs
        seen["migrated"] = effects(url)[0]
        new.start()
        wait_for(new.ready, timeout=90, interval=0.2, what="the current release ready")
        seen["both"] = effects(url)[0]
        wait_for(lambda: effects(url)[0] >= seen["both"] + STEP, timeout=60,
                 what="both releases at work")

        old.stop()
        seen["old stopped"] = effects(url)[0]
        wait_for(lambda: effects(url)[0] >= seen["old stopped"] + STEP, timeout=60,
                 what="the current release alone at work")
        traffic.stop()
        wait_for(lambda: effects(url)[0] >= traffic.sent
                 and queue_depth(infra, vhost_name, QUEUE) == 0, timeout=120,
                 what="every event handled")
        assert new.ready(), "the current release is still ready"
    finally:
        traffic.stop()
        old.stop()
        new.stop()
    total, distinct = effects(url)
    infra_mod.drop_pg_database(infra, url)
    dead = queue_depth(infra, vhost_name, f"{SERVICE}.dead-letters")
    errors = old.errors() + new.errors()
    lost = traffic.sent - distinct
    print(f"\nrolling upgrade of {SERVICE} {PREVIOUS_RELEASE[:7]} -> this tree [postgresql]: "
          f"sent={traffic.sent} effects={distinct} duplicates={total - distinct} lost={lost} "
          f"errors={len(errors) + len(traffic.failures)} dead_letters={max(dead, 0)} "
          f"(effects when migrated={seen['migrated']}, new started={seen['both']}, "
          f"old stopped={seen['old stopped']})")
    assert traffic.failures == [], traffic.failures[:3]
    assert (lost, total - distinct) == (0, 0)
    assert errors == [], "\n".join(errors[:10])
    assert dead <= 0, "nothing was dead-lettered"


# -- the expand/contract rule ------------------------------------------------------------

DUMP = r"""
import json, sys, tempfile, warnings, importlib
warnings.filterwarnings("ignore")
from pathlib import Path
from sqlalchemy import create_engine, inspect
from services.common.migrate import upgrade
out = {}
tmp = Path(tempfile.mkdtemp())
for svc in sys.argv[1:]:
    if not Path(f"services/{svc}/migrations/env.py").exists():
        continue
    url = f"sqlite:///{tmp / svc}.db"
    upgrade(svc, url)
    engine = create_engine(url)
    insp = inspect(engine)
    schema = {t: {c["name"]: [c["nullable"], c["default"] is not None]
                  for c in insp.get_columns(t)}
              for t in insp.get_table_names() if t != "alembic_version"}
    engine.dispose()
    models = importlib.import_module(f"services.{svc}.models").metadata
    used = {t.name: sorted(c.name for c in t.columns) for t in models.sorted_tables}
    out[svc] = {"schema": schema, "used": used}
print(json.dumps(out))
"""


def releases_to_check() -> list[str]:
    """The release the rule was adopted at, every later commit that changed a
    migration, and this tree ("")."""
    log = subprocess.run(
        ["git", "log", "--format=%H", "--reverse", f"{RULE_ADOPTED_AT}..HEAD", "--",
         ":(glob)services/*/migrations/**"], cwd=ROOT, capture_output=True, text=True,
        timeout=60)
    assert log.returncode == 0, log.stderr
    return [RULE_ADOPTED_AT, *log.stdout.split(), ""]


def schemas_of(release: str, tmp_path: Path) -> dict[str, Any]:
    tree = ROOT if not release else source_tree(release, tmp_path / release)
    dumped = subprocess.run([sys.executable, "-c", DUMP, *SERVICES], cwd=tree,
                            env=dict(os.environ, PYTHONPATH=str(tree)), capture_output=True,
                            text=True, timeout=300)
    assert dumped.returncode == 0, dumped.stderr[-3000:]
    return dict(json.loads(dumped.stdout.strip().splitlines()[-1]))


def violations(previous: dict[str, Any], current: dict[str, Any]) -> list[str]:
    found = []
    for service, before in previous.items():
        after = current.get(service, {}).get("schema", {})
        for table, columns in before["used"].items():
            if table not in after:
                found.append(f"{service}.{table}: dropped or renamed, still used")
                continue
            found += [f"{service}.{table}.{column}: dropped or renamed, still used"
                      for column in columns if column not in after[table]]
            old_columns = before["schema"].get(table, {})
            found += [f"{service}.{table}.{column}: added NOT NULL without a server default"
                      for column, (nullable, has_default) in after[table].items()
                      if column not in old_columns and not nullable and not has_default]
    return found


def test_no_release_drops_renames_or_requires_a_column_the_previous_one_does_not_know(
        tmp_path):
    releases = releases_to_check()
    dumps = [schemas_of(release, tmp_path) for release in releases]
    problems = []
    for i in range(1, len(releases)):
        before, after = releases[i - 1], releases[i]
        found = violations(dumps[i - 1], dumps[i])
        known = KNOWN_VIOLATIONS.get((before, after), set())
        label = f"{before[:7]} -> {after[:7] or 'this tree'}"
        print(f"\nexpand/contract {label}: {len(found)} violation(s)"
              + (f", known from history: {sorted(known & set(found))}" if known else ""))
        problems += [f"{label}: {problem}" for problem in found if problem not in known]
    assert problems == [], "\n".join(problems)
