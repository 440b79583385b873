"""The `samspil` command, run as an operator would: real processes, exit codes, output."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet

from contracts import registry
from contracts.generate import render_asyncapi
from services import catalogue
from services.cli import SERVICES
from services.cli.remote import service_listening
from services.common.amqp import Publisher, event_exchange
from tests import infra as infra_mod
from tests.conftest import service_config
from tests.e2e.conftest import assert_nothing_unrouted
from tests.support.net import free_port
from tests.support.processes import write_config
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

# Who acts in the RPC calls these tests make directly: a member of staff with the roles
# the calls need (the gateway passes a signed-in user the same way).
STAFF = {"kind": "staff", "id": "test", "roles": ["fronten", "coordinator", "operator"]}


def samspil(config: Path | None, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "services.cli"]
    if config:
        cmd += ["--config", str(config)]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


@pytest.fixture
def config(amqp_uri, tmp_path) -> Path:
    urls = {s: f"sqlite:///{tmp_path / s}.db" for s in ("intake", "coordination", "gateway")}
    return write_config(tmp_path / "samspil.yaml", service_config(amqp_uri, urls))


def test_help_lists_the_commands():
    result = samspil(None, "--help")
    assert result.returncode == 0
    for command in ("run", "migrate", "dead-letters", "tokens", "contracts", "statistics",
                    "deliveries", "export", "partners", "demo"):
        assert command in result.stdout
    for command in ("statistics", "deliveries", "export", "partners", "demo"):
        helped = samspil(None, command, "--help")
        assert helped.returncode == 0 and "example" in helped.stdout, command


def test_migrate_then_create_a_token(config):
    refused = samspil(config, "tokens", "create", "--name", "anne", "--role", "fronten")
    assert refused.returncode == 2 and "samspil migrate gateway" in refused.stderr
    migrated = samspil(config, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "intake database is at head" in migrated.stdout
    made = samspil(config, "tokens", "create", "--name", "anne", "--role", "fronten")
    assert made.returncode == 0 and made.stdout.startswith("smp_")
    assert "shown once" in made.stderr
    partner = samspil(config, "tokens", "create", "--name", "kab", "--role", "partner")
    assert partner.returncode == 2 and "--partner" in partner.stderr


def test_run_without_a_broker_says_what_to_do(tmp_path):
    cfg = write_config(tmp_path / "nobroker.yaml",
                       service_config("amqp://guest:guest@127.0.0.1:1/", {}))
    result = samspil(cfg, "run", "intake", timeout=60)
    assert result.returncode == 3
    assert "No RabbitMQ answers" in result.stderr and "rabbitmq-server -detached" in result.stderr


def test_dead_letters_list_show_replay_as_an_operator(config, amqp_uri):
    assert samspil(config, "dead-letters", "list").stdout.strip() == "no dead letters"
    # A malformed message for coordination: run it, let it dead-letter the message.
    assert samspil(config, "migrate", "coordination").returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "--config", str(config),
                             "run", "coordination"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        publisher = Publisher(amqp_uri)

        def publish_once_queue_exists() -> bool:
            try:
                publisher.publish(b'{"not": "an envelope"}', exchange=event_exchange("intake"),
                                  routing_key="intake.inquiry_registered")
            except Exception:
                return False
            return True

        wait_for(publish_once_queue_exists, timeout=60, interval=0.5, what="coordination up")
        publisher.close()
        listed = wait_for(
            lambda: (r := samspil(config, "dead-letters", "list", "--json")).returncode == 0
            and json.loads(r.stdout) and json.loads(r.stdout),
            timeout=60, interval=0.5, what="a dead letter")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert len(listed) == 1 and listed[0]["service"] == "coordination"
    assert "message_id" in listed[0]["error"]  # names what is wrong with the envelope
    shown = samspil(config, "dead-letters", "show", listed[0]["id"])
    assert shown.returncode == 0 and json.loads(shown.stdout)["body"] == {"not": "an envelope"}
    assert samspil(config, "dead-letters", "show", "no-such-id").returncode == 4
    replayed = samspil(config, "dead-letters", "replay", listed[0]["id"])
    assert replayed.returncode == 0 and "1 dead letter(s) replayed" in replayed.stdout
    assert samspil(config, "dead-letters", "replay").returncode == 2


def test_contracts_check_passes_on_the_checked_in_files():
    result = samspil(None, "contracts", "check")
    assert result.returncode == 0, result.stderr


# -- the commands that talk to a running system ------------------------------------------




def closed_port() -> int:
    """A port nothing listens on: mail "sent" there fails at once, as with no SMTP server."""
    return free_port()


def system_config(path: Path, amqp_uri: str, directory: Path, **extra: Any) -> Path:
    """Every service, SQLite files in `directory`, fresh CPR keys, fast sweeps."""
    urls = {name: f"sqlite:///{directory / name}.db" for name in SERVICES}
    return write_config(path, service_config(
        amqp_uri, urls,
        CPR_HASH_KEY=secrets.token_urlsafe(48),
        CPR_ENCRYPTION_KEY=Fernet.generate_key().decode("ascii"),
        WEB_SERVER_ADDRESS=f"127.0.0.1:{free_port()}",
        SMTP_HOST="127.0.0.1", SMTP_PORT=closed_port(),
        INTAKE_SWEEP_SECONDS=0.5, COORDINATION_SWEEP_SECONDS=0.5, HOUSING_SWEEP_SECONDS=0.5,
        DELIVERY_SWEEP_SECONDS=0.5,
        **extra,
    ))


class RunningSystem:
    """`samspil run [SERVICE ...] --migrate` as a child process, as an operator starts it."""

    def __init__(self, config: Path, log: Path, services: tuple[str, ...] = ()) -> None:
        self.config = config
        self.log = log
        self.services = services or tuple(SERVICES)
        self.amqp_uri = yaml.safe_load(config.read_text())["AMQP_URI"]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RunningSystem:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "services.cli", "--config", str(self.config), "run",
                 *self.services, "--migrate"], stdout=log, stderr=subprocess.STDOUT, env=env)
        # Those that answer RPC (a service without RPC methods, like a scaffold, never
        # consumes an rpc- queue: it runs all the same).
        answering = {c.service for c in registry.rpcs()}
        rpc_services = [s for s in self.services if s in answering]
        wait_for(lambda: (self.proc is not None and self.proc.poll() is None
                          and all(service_listening(self.amqp_uri, s) for s in rpc_services))
                 or self._died(), timeout=90, interval=0.3, what="the services answering")
        return self

    def _died(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"samspil run exited {self.proc.returncode}:\n"
                                 + self.log.read_text(errors="replace")[-3000:])
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

    def rpc(self) -> Any:
        from nameko.standalone.rpc import ClusterRpcProxy

        return ClusterRpcProxy({"AMQP_URI": self.amqp_uri}, timeout=30)


@pytest.fixture(scope="module")
def running(infra, tmp_path_factory) -> Iterator[RunningSystem]:
    """The whole system on a vhost of its own, shared by this module's tests (starting it
    takes seconds; each test leaves data the others do not depend on)."""
    name, uri = infra_mod.create_vhost(infra)
    directory = tmp_path_factory.mktemp("system")
    running = RunningSystem(system_config(directory / "samspil.yaml", uri, directory),
                            directory / "samspil.log")
    try:
        yield running.start()
        # Every event the module's tests caused reached a consumer (ADR 0012).
        assert_nothing_unrouted(uri, yaml.safe_load(running.config.read_text())["DATABASES"])
    finally:
        running.stop()
        infra_mod.delete_vhost(infra, name)


def test_statistics_prints_the_report_and_json_that_parses(running):
    with running.rpc() as n:
        n.intake.register_inquiry(actor=STAFF, channel="phone", inquirer_kind="relative",
                                  topics=["loneliness"], wish="Hun vil gerne ud blandt andre.",
                                  registered_at="2019-03-04T09:00:00+00:00")
    text = samspil(running.config, "statistics", "--from", "2019-03-01", "--to", "2019-03-31")
    assert text.returncode == 0, text.stderr
    assert "Antal samlede henvendelser = 1" in text.stdout
    assert "Henvendelser fordelt på kanal:" in text.stdout  # the breakdown tables
    as_json = samspil(running.config, "statistics", "--from", "2019-03-01", "--to", "2019-03-31",
                      "--json")
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["total_inquiries"] == 1 and report["by_channel"]["phone"] == 1
    assert report["by_inquirer_kind"]["relative"] == 1


def test_statistics_refuses_bad_input_naming_the_field(running):
    reversed_ = samspil(running.config, "statistics", "--from", "2019-04-01", "--to", "2019-03-01")
    assert reversed_.returncode == 2
    assert "period_end" in reversed_.stderr and "statistics.period_reversed" in reversed_.stderr
    assert "Traceback" not in reversed_.stderr and len(reversed_.stderr.splitlines()) == 1
    not_a_date = samspil(running.config, "statistics", "--from", "2019-13-01", "--to", "2019-03-01")
    assert not_a_date.returncode == 2 and "not a date" in not_a_date.stderr


def _failed_delivery(running: RunningSystem) -> None:
    """A citizen who wants letters gets a tovholder: the e-mail/SMS channel cannot reach
    him, so notifications records a permanent failure for a person to post a letter."""
    with running.rpc() as n:
        citizen = n.intake.register_citizen(actor=STAFF, cpr="010190-1234",
                                            name="Brevbjarne Eksempel",
                                            preferred_channel="letter")["citizen_ref"]
        n.coordination.open_pathway(actor=STAFF, citizen_ref=citizen, tovholder={
            "member_id": "t-mette", "name": "Mette Eksempel", "email": "mette@example.org",
            "agency": "social_services", "role": "socialrådgiver"})


def test_deliveries_list_and_retry(running):
    _failed_delivery(running)

    def failed() -> list[dict]:
        r = samspil(running.config, "deliveries", "list", "--status", "failed", "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    rows = wait_for(failed, timeout=60, interval=0.5, what="a failed delivery")
    row = rows[0]
    assert row["event_type"] == "coordination.tovholder_handed_over"
    assert row["recipient_kind"] == "citizen"
    table = samspil(running.config, "deliveries", "list", "--event-type",
                    "coordination.tovholder_handed_over")
    assert table.returncode == 0 and str(row["delivery_id"]) in table.stdout
    assert "failed" in table.stdout
    retried = samspil(running.config, "deliveries", "retry", str(row["delivery_id"]))
    assert retried.returncode == 0, retried.stderr
    assert f"delivery {row['delivery_id']} is pending again" in retried.stdout
    missing = samspil(running.config, "deliveries", "retry", "987654")
    assert missing.returncode == 4 and "987654" in missing.stderr
    bad = samspil(running.config, "deliveries", "list", "--status", "lost")
    assert bad.returncode == 2


def test_partners_create_association_and_token(running):
    made = samspil(running.config, "partners", "create-association", "--id", "test-kab",
                   "--name", "KAB Eksempel", "--cvr", "12345678",
                   "--department", "12:Grantoften:12-0304-2,12-0304-3",
                   "--department", "13:Hedegården", "--queue",
                   "--legal-basis", "retssikkerhedsloven § 5 a")
    assert made.returncode == 0, made.stderr
    assert "2 afdeling(er), 2 lejemål" in made.stdout
    assert "subscribed to housing.partner_status by partner_queue" in made.stdout
    with running.rpc() as n:
        subs = n.notifications.list_subscriptions(actor=STAFF, partner_id="test-kab")
        bases = n.notifications.list_legal_bases(actor=STAFF)
        case = n.housing.report_arrears(actor="partner:test-kab", association_id="test-kab",
                                        tenancy_ref="12-0304-3", amount_dkk="900.00",
                                        months_behind=1, citizen_ref=str(uuid.uuid4()))
    assert [(s["channel"], s["event_types"]) for s in subs] == [
        ("partner_queue", ["housing.partner_status"])]
    assert any(b["recipient"] == "test-kab" for b in bases)

    def sent_to_partner() -> list[dict]:
        r = samspil(running.config, "deliveries", "list", "--event-type",
                    "housing.partner_status", "--status", "sent", "--json")
        return [d for d in json.loads(r.stdout) if d["correlation_id"] == case["case_id"]]

    # The subscription and the legal basis let the case's status reach the partner's queue.
    sent = wait_for(sent_to_partner, timeout=60, interval=0.5, what="a partner status sent")
    assert {(d["channel"], d["recipient"]) for d in sent} == {("partner_queue", "partner:test-kab")}

    hooked = samspil(running.config, "partners", "create-association", "--id", "test-hook",
                     "--name", "Hook Eksempel", "--webhook", "https://hook.example/samspil")
    assert hooked.returncode == 0, hooked.stderr
    assert "webhook secret (shown once" in hooked.stdout

    # A partner's own token needs the partner in the partners directory (docs/cli.md).
    refused = samspil(running.config, "partners", "token", "--id", "test-kab")
    assert refused.returncode == 2 and "partners directory" in refused.stderr
    with running.rpc() as n:
        n.partners.register_partner(
            actor=STAFF, partner_id="test-kab", name="KAB Eksempel", category="housing",
            accepts=["hold_termination"], contact_name="Driften",
            contact_email="drift@kab.example")
    token = samspil(running.config, "partners", "token", "--id", "test-kab")
    assert token.returncode == 0 and token.stdout.startswith("smp_")
    assert "partner test-kab" in token.stderr

    bad_id = samspil(running.config, "partners", "create-association", "--id", "Not An Id",
                     "--name", "x")
    assert bad_id.returncode == 2 and "association_id" in bad_id.stderr
    bad_department = samspil(running.config, "partners", "create-association", "--id", "x",
                             "--name", "x", "--department", "12")
    assert bad_department.returncode == 2 and "NUMBER:NAME" in bad_department.stderr


def test_export_writes_valid_documents(tmp_path):
    asyncapi = samspil(None, "export", "asyncapi", "--out", str(tmp_path / "asyncapi.yaml"))
    assert asyncapi.returncode == 0, asyncapi.stderr
    written = (tmp_path / "asyncapi.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(written)
    assert document["asyncapi"] == "3.0.0" and "intake.inquiry_registered" in document["channels"]
    assert written == render_asyncapi(catalogue.consumers())
    printed = samspil(None, "export", "asyncapi")
    assert printed.returncode == 0 and printed.stdout == written

    openapi = samspil(None, "export", "openapi", "--out", str(tmp_path / "openapi.json"))
    assert openapi.returncode == 0, openapi.stderr
    spec = json.loads((tmp_path / "openapi.json").read_text(encoding="utf-8"))
    assert spec["openapi"].startswith("3.1") and spec["paths"]
    assert json.loads(samspil(None, "export", "openapi").stdout) == spec

    nowhere = samspil(None, "export", "openapi", "--out", str(tmp_path / "no" / "such.json"))
    assert nowhere.returncode == 2 and "cannot write" in nowhere.stderr


def test_a_command_against_a_stopped_service_exits_3(amqp_uri, tmp_path):
    config = system_config(tmp_path / "samspil.yaml", amqp_uri, tmp_path)
    intake = RunningSystem(config, tmp_path / "intake.log", ("intake",)).start()
    try:
        assert samspil(config, "statistics", "--from", "2018-04-01", "--to",
                       "2018-07-31").returncode == 0
    finally:
        intake.stop()
    stopped = samspil(config, "statistics", "--from", "2018-04-01", "--to", "2018-07-31")
    assert stopped.returncode == 3
    assert stopped.stderr.strip() == ("samspil statistics: the intake service is not running "
                                      "(start it with `samspil run intake`)")
    never = samspil(config, "deliveries", "list")
    assert never.returncode == 3 and "the notifications service is not running" in never.stderr
    no_broker = write_config(tmp_path / "nobroker.yaml",
                             service_config("amqp://guest:guest@127.0.0.1:1/", {}))
    down = samspil(no_broker, "deliveries", "list")
    assert down.returncode == 3 and "No RabbitMQ answers" in down.stderr
    assert "Traceback" not in stopped.stderr + never.stderr + down.stderr
