"""The `samspil` command, run as an operator would: real processes, exit codes, output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from services.common.amqp import Publisher, event_exchange
from tests.conftest import service_config
from tests.support.processes import write_config
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


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
    for command in ("run", "migrate", "dead-letters", "tokens", "contracts"):
        assert command in result.stdout


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
