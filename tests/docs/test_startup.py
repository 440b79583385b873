"""Starting a service as the docs say, and the three ways it must refuse to start with
one line and exit 2 (docs/cli.md, "Running and migrating"): an unmigrated database, a
port that is taken, development keys in production. Real processes, real broker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.net import free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SAMSPIL = str(ROOT / ".venv" / "bin" / "samspil")
README_RUN = ["run", "intake", "--config", "deploy/config/intake.yaml"]


@pytest.fixture
def env(amqp_uri: str, tmp_path: Path) -> dict[str, str]:
    """The README's per-service config, pointed at this test's broker vhost, database and
    port through the environment, as the config's ${NAME:default} allow."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("SAMSPIL_")},
            "AMQP_URI": amqp_uri, "INTAKE_DATABASE_URL": f"sqlite:///{tmp_path / 'intake.db'}",
            "HEALTH_ADDRESS": f"127.0.0.1:{free_port()}", "PYTHONUNBUFFERED": "1"}


def samspil(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SAMSPIL, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"one line expected:\n{result.stderr}"
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.fixture
def running(env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    assert samspil(env, "--config", "deploy/config/intake.yaml", "migrate", "intake"
                   ).returncode == 0
    with (tmp_path / "intake.log").open("wb") as log:
        proc = subprocess.Popen([SAMSPIL, *README_RUN], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    port = env["HEALTH_ADDRESS"].rsplit(":", 1)[1]

    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError((tmp_path / "intake.log").read_text()[-3000:])
        try:
            return requests.get(f"http://127.0.0.1:{port}/ready", timeout=3).ok
        except requests.RequestException:
            return False

    wait_for(ready, timeout=90, interval=0.2, what="intake ready")
    yield proc
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def test_unmigrated_one_line_exit_2(env):
    refused = samspil(env, *README_RUN)
    assert refused.returncode == 2
    line = one_line(refused)
    assert "samspil migrate intake" in line and "revision none" in line


def test_run_as_the_readme_says_then_a_second_one_on_the_same_port_stops(env, running):
    again = samspil(env, *README_RUN)
    assert again.returncode == 2
    line = one_line(again)
    port = env["HEALTH_ADDRESS"].rsplit(":", 1)[1]
    assert f"port {port} is taken" in line and "HEALTH_ADDRESS" in line
    assert running.poll() is None, "the first one keeps running"
    running.send_signal(signal.SIGTERM)
    assert running.wait(timeout=30) == 0


def test_the_gateways_web_port_taken(env, tmp_path):
    env = {**env, "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}"}
    assert samspil(env, "--config", "deploy/config/gateway.yaml", "migrate", "gateway"
                   ).returncode == 0
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env["WEB_SERVER_ADDRESS"] = f"127.0.0.1:{port}"
        refused = samspil(env, "run", "gateway", "--config", "deploy/config/gateway.yaml")
    assert refused.returncode == 2
    line = one_line(refused)
    assert f"port {port} is taken" in line and "WEB_SERVER_ADDRESS" in line


def test_production_refuses_the_development_keys(env):
    env = {**env, "SAMSPIL_ENV": "production"}
    env.pop("CPR_HASH_KEY", None)
    refused = samspil(env, *README_RUN)
    assert refused.returncode == 2
    assert "CPR_HASH_KEY" in one_line(refused)


def test_a_refused_broker_login_says_so(env):
    env = {**env, "AMQP_URI": env["AMQP_URI"].replace("guest:guest@", "guest:wrong@")}
    refused = samspil(env, *README_RUN)
    assert refused.returncode == 3
    assert "refused the user name or password" in refused.stderr
    assert "Traceback" not in refused.stderr
