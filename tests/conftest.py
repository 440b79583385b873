"""Shared fixtures: real RabbitMQ vhosts and real databases (SQLite and PostgreSQL).

Unit tests of the pure domain need none of these. Integration tests ask for
`amqp_uri` (a fresh vhost) and `db_url` (parametrised: the same test runs on SQLite
and on a fresh PostgreSQL database)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import infra as infra_mod

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    """pytest-docker: the compose file for the Docker path."""
    return str(ROOT / "deploy" / "compose.test.yaml")


@pytest.fixture(scope="session")
def infra(request: pytest.FixtureRequest) -> infra_mod.Infra:
    if infra_mod.want_docker():
        services = request.getfixturevalue("docker_services")
        ip = request.getfixturevalue("docker_ip")
        found = infra_mod.Infra(
            amqp_uri=f"amqp://guest:guest@{ip}:{services.port_for('rabbitmq', 5672)}/",
            rabbit_api=f"http://guest:guest@{ip}:{services.port_for('rabbitmq', 15672)}",
            pg_url=f"postgresql://postgres@{ip}:{services.port_for('postgres', 5432)}/postgres",
            source="docker",
        )
        services.wait_until_responsive(
            check=lambda: not infra_mod.check(found), timeout=180.0, pause=2.0
        )
    else:
        found = infra_mod.from_environment()
    problems = infra_mod.check(found)
    if problems:
        # Loud, never a silent skip: under CI=true (and everywhere else) this fails.
        pytest.fail(
            f"Integration infrastructure is missing (CI={os.environ.get('CI', 'false')}):\n- "
            + "\n- ".join(problems),
            pytrace=False,
        )
    return found


@pytest.fixture
def vhost(infra: infra_mod.Infra) -> Iterator[tuple[str, str]]:
    """(vhost name, amqp uri) of a vhost that exists for this test only."""
    name, uri = infra_mod.create_vhost(infra)
    yield name, uri
    infra_mod.delete_vhost(infra, name)


@pytest.fixture
def amqp_uri(vhost: tuple[str, str]) -> str:
    return vhost[1]


@pytest.fixture
def pg_url(infra: infra_mod.Infra) -> Iterator[str]:
    url = infra_mod.create_pg_database(infra)
    yield url
    infra_mod.drop_pg_database(infra, url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'service.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url_factory(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Any]:
    """Makes as many fresh databases of the parametrised backend as a test needs."""
    made: list[str] = []

    def make(name: str = "service") -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / f'{name}.db'}"
        url = infra_mod.create_pg_database(request.getfixturevalue("infra"))
        made.append(url)
        return url

    yield make
    if made:
        infra = request.getfixturevalue("infra")
        for url in made:
            infra_mod.drop_pg_database(infra, url)


@pytest.fixture
def db_url(db_url_factory: Any) -> str:
    return str(db_url_factory())


def service_config(amqp_uri: str, databases: dict[str, str], **extra: Any) -> dict[str, Any]:
    """A nameko config for tests: fast retries, fast relay poll."""
    config: dict[str, Any] = {
        "AMQP_URI": amqp_uri,
        "DATABASES": databases,
        "RETRY_DELAYS_MS": [100, 200, 400],
        "MAX_ATTEMPTS": 4,
        "OUTBOX_POLL_SECONDS": 0.2,
    }
    config.update(extra)
    return config
