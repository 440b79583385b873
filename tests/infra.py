"""Where the tests' RabbitMQ and PostgreSQL come from, and per-test isolation.

Two paths, chosen once per session:
- Docker: if SAMSPIL_TEST_DOCKER=1, or a Docker engine answers and no SAMSPIL_TEST_*
  variable is set, pytest-docker starts deploy/compose.test.yaml.
- Environment: otherwise the running services named by SAMSPIL_TEST_AMQP_URI,
  SAMSPIL_TEST_RABBIT_API and SAMSPIL_TEST_PG_URL (defaults: the local services on
  127.0.0.1). This is the path on the development and CI machines.

A broker or database that does not answer fails the session loudly; it is never a
silent skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import requests

from services.common.db import make_engine
from services.common.logs import redact_url as redact

ENV_KEYS = ("SAMSPIL_TEST_AMQP_URI", "SAMSPIL_TEST_RABBIT_API", "SAMSPIL_TEST_PG_URL")


@dataclass(frozen=True)
class Infra:
    amqp_uri: str  # the root vhost; tests get their own vhost from it
    rabbit_api: str  # management API base, with credentials
    pg_url: str  # a maintenance database (postgres) to create test databases from
    source: str  # "docker" or "environment"


def docker_engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(
            ["docker", "info"], capture_output=True, timeout=10, check=False
        ).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def want_docker() -> bool:
    if os.environ.get("SAMSPIL_TEST_DOCKER") == "1":
        return True
    if any(os.environ.get(k) for k in ENV_KEYS) or os.environ.get("SAMSPIL_TEST_DOCKER") == "0":
        return False
    return docker_engine_answers()


def from_environment() -> Infra:
    return Infra(
        amqp_uri=os.environ.get("SAMSPIL_TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"),
        rabbit_api=os.environ.get("SAMSPIL_TEST_RABBIT_API", "http://guest:guest@127.0.0.1:15672"),
        pg_url=os.environ.get("SAMSPIL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        source="environment",
    )


def check(infra: Infra) -> list[str]:
    """What does not answer, with what to do about it."""
    problems = []
    try:
        from kombu import Connection

        with Connection(infra.amqp_uri, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        problems.append(
            f"RabbitMQ at {redact(infra.amqp_uri)} does not answer ({exc}). "
            "Start it: `rabbitmq-server -detached`."
        )
    try:
        resp = requests.get(api(infra, "/api/overview"), timeout=5)
        resp.raise_for_status()
    except Exception as exc:
        problems.append(
            f"RabbitMQ management API at {redact(infra.rabbit_api)} does not answer ({exc}). "
            "Enable it: `rabbitmq-plugins enable rabbitmq_management`."
        )
    try:
        engine = make_engine(infra.pg_url)
        with engine.connect() as conn:
            conn.exec_driver_sql("select 1")
        engine.dispose()
    except Exception as exc:
        problems.append(
            f"PostgreSQL at {redact(infra.pg_url)} does not answer "
            f"({type(exc).__name__}: {str(exc).strip()[:200]}). "
            "Start it: `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`."
        )
    return problems


def api(infra: Infra, path: str) -> str:
    return infra.rabbit_api.rstrip("/") + path


def create_vhost(infra: Infra) -> tuple[str, str]:
    """A fresh vhost with full permissions for the test user; returns (name, amqp uri)."""
    name = f"samspil-test-{uuid.uuid4().hex[:12]}"
    user = urlsplit(infra.amqp_uri).username or "guest"
    requests.put(api(infra, f"/api/vhosts/{quote(name, safe='')}"), timeout=10).raise_for_status()
    requests.put(
        api(infra, f"/api/permissions/{quote(name, safe='')}/{quote(user, safe='')}"),
        json={"configure": ".*", "write": ".*", "read": ".*"},
        timeout=10,
    ).raise_for_status()
    parts = urlsplit(infra.amqp_uri)
    return name, urlunsplit(parts._replace(path="/" + quote(name, safe="")))


def delete_vhost(infra: Infra, name: str) -> None:
    requests.delete(api(infra, f"/api/vhosts/{quote(name, safe='')}"), timeout=10)


def queue_info(infra: Infra, vhost: str, queue: str) -> dict:
    resp = requests.get(
        api(infra, f"/api/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}"), timeout=10
    )
    resp.raise_for_status()
    return resp.json()


def create_pg_database(infra: Infra) -> str:
    name = f"samspil_test_{uuid.uuid4().hex[:12]}"
    engine = make_engine(infra.pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    parts = urlsplit(infra.pg_url)
    return urlunsplit(parts._replace(path="/" + name))


def drop_pg_database(infra: Infra, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    engine = make_engine(infra.pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()
