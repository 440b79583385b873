"""The whole system for end-to-end tests: intake, coordination, housing,
notifications and the gateway in one nameko runner, on a fresh RabbitMQ vhost and
fresh databases (SQLite and PostgreSQL: the `system` fixture runs each test on both),
with CPR keys, fast timer sweeps, a FileClock the test moves and a real SMTP server.

Tests drive it over HTTP only. Tokens are made as `samspil tokens create` makes them
(straight into the gateway's database): that is set-up, not driving.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.orm import Session

from services.common.clock import FileClock
from services.common.db import make_engine
from services.common.migrate import upgrade
from services.coordination.service import CoordinationService
from services.gateway.auth import Role, create_token
from services.gateway.service import GatewayService
from services.housing.service import HousingService
from services.intake.service import IntakeService
from services.notifications.service import NotificationsService
from services.partners.service import PartnersService
from tests.conftest import service_config
from tests.integration.notifications.support import SmtpServer
from tests.support.net import free_port
from tests.support.oidc import OidcProvider
from tests.support.waiting import wait_for

SERVICES = ("intake", "coordination", "housing", "notifications", "partners", "gateway")
# Tuesday 3 April 2018, 08:00 UTC: the day Fronten opened (seed 001).
T0 = dt.datetime(2018, 4, 3, 8, 0, tzinfo=dt.UTC)




@dataclass
class System:
    """The running system as a user meets it: a base URL, tokens, and a clock."""

    base: str
    urls: dict[str, str]
    clock: FileClock
    smtp: SmtpServer
    runner: Any
    oidc: OidcProvider

    def sign_in(self, login: str) -> str:
        """An API access token for a demo user, through the real provider."""
        return self.oidc.access_token(login)

    def token(self, role: Role, name: str = "anne", partner: str | None = None,
              made_at: dt.datetime | None = None) -> str:
        engine = make_engine(self.urls["gateway"])
        try:
            with Session(engine) as session:
                token = create_token(session, name=name, role=role, partner_id=partner,
                                     now=made_at or dt.datetime.now(dt.UTC))
                session.commit()
        finally:
            engine.dispose()
        return token

    def call(self, method: str, path: str, token: str | None = None,
             **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.base + path, headers=headers, timeout=30,
                                **kwargs)

    def ok(self, method: str, path: str, token: str, status: int | None = None,
           **kwargs: Any) -> Any:
        """Call and return the JSON body, failing with the problem body if not 2xx."""
        resp = self.call(method, path, token, **kwargs)
        assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text}"
        if status is not None:
            assert resp.status_code == status, f"{method} {path}: {resp.status_code}"
        return resp.json()

    def wait_until(self, probe: Any, what: str) -> Any:
        # A generous deadline: events cross three services on a loaded CI machine.
        return wait_for(probe, timeout=60.0, what=what)

    def rows(self, service: str, query: str) -> list[Any]:
        """Read-only look into a service's database, for assertions only."""
        engine = make_engine(self.urls[service])
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(query)).all())
        finally:
            engine.dispose()


def system_config(amqp_uri: str, urls: dict[str, str], clock: FileClock, smtp_port: int,
                  web_port: int, **extra: Any) -> dict[str, Any]:
    return service_config(
        amqp_uri, urls,
        WEB_SERVER_ADDRESS=f"127.0.0.1:{web_port}",
        CLOCK=f"file:{clock.path}",
        # Fresh keys for each run, as production gets from its secret store.
        CPR_HASH_KEY=secrets.token_urlsafe(48),
        CPR_ENCRYPTION_KEY=Fernet.generate_key().decode("ascii"),
        INTAKE_SWEEP_SECONDS=0.1,
        COORDINATION_SWEEP_SECONDS=0.1,
        HOUSING_SWEEP_SECONDS=0.1,
        PARTNERS_SWEEP_SECONDS=0.1,
        DELIVERY_SWEEP_SECONDS=0.2,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_port,
        SMTP_FROM="samspil@balk.dk",
        FRONTEN_EMAIL="ss-front@balk.dk",
        CALENDAR_FEED_TIMEOUT_SECONDS=2,
        RPC_TIMEOUT_SECONDS=20,
        max_workers=10,
        **extra,
    )


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """The real OpenID provider (deploy/oidc-dev), one for the whole run."""
    provider = OidcProvider(tmp_path_factory.mktemp("oidc"))
    yield provider
    provider.stop()


@pytest.fixture
def system_extra_config() -> dict[str, Any]:
    """Config the `system` is started with on top of system_config's. A test module
    overrides this fixture for what its tests need (e.g. webhooks to loopback
    receivers: WEBHOOK_ALLOW_LOOPBACK)."""
    return {}


@pytest.fixture
def system(amqp_uri: str, db_url_factory: Any, runner_factory: Any,
           tmp_path: Path, oidc_provider: OidcProvider,
           system_extra_config: dict[str, Any]) -> Iterator[System]:
    """Every service and the gateway, started and answering on a loopback port, with
    staff signing in through the real OpenID provider."""
    urls = {name: db_url_factory(name) for name in SERVICES}
    for name, url in urls.items():
        upgrade(name, url)
    clock = FileClock(tmp_path / "clock")
    clock.set(T0)
    smtp = SmtpServer(tmp_path)
    port = free_port()
    config = system_config(amqp_uri, urls, clock, smtp.port, port,
                           OIDC=oidc_provider.gateway_config(f"http://127.0.0.1:{port}"),
                           **system_extra_config)
    runner = runner_factory(config, GatewayService, IntakeService, CoordinationService,
                            HousingService, NotificationsService, PartnersService)
    runner.start()
    running = System(f"http://127.0.0.1:{port}", urls, clock, smtp, runner, oidc_provider)
    running.wait_until(lambda: running.call("GET", "/health").status_code == 200,
                       what="the gateway to answer")
    try:
        yield running
    finally:
        # Stop the services before their databases and vhost are dropped.
        runner.stop()
        smtp.stop()


# -- every event reaches someone: nothing unrouted when an e2e test ends (ADR 0012) -------

UNROUTED_SETTLE_SECONDS = 15.0


def parked_unrouted(amqp_uri: str) -> int:
    """How many events lie parked in the vhost's `samspil.unrouted` queue (0 when the
    queue was never declared). Asked over AMQP (a passive declare), which counts at
    once, where the management API's figures lag by seconds."""
    from amqp.exceptions import NotFound as QueueNotFound
    from kombu import Connection

    from services.common.outbox import unrouted_queue

    with Connection(amqp_uri) as conn:
        try:
            declared = unrouted_queue()(conn.channel()).queue_declare(passive=True)
        except QueueNotFound:
            return 0
        return int(declared.message_count)


def no_consumer_by_design() -> frozenset[str]:
    """The event types ADR 0012 says no service consumes, with its written reason."""
    from tests.contracts.test_consumers import unconsumed_with_reason

    return frozenset(unconsumed_with_reason())


def unrouted_events(urls: dict[str, str], settle: float = UNROUTED_SETTLE_SECONDS,
                    exempt: frozenset[str] | None = None) -> list[tuple[str, str, str]]:
    """(service, event type, last error) of every event a service published that no
    queue took: an outbox row the broker returned as unroutable (the relay keeps it and
    retries, and parks it in `samspil.unrouted` only after about 17 minutes, longer than
    any test) or one already parked. The types ADR 0012 lists as consumed by no one are
    left out (or the types in `exempt`). Waits up to `settle` seconds for rows the
    relays have not yet published (or are retrying), so a row counts only if it stays
    unroutable."""
    import time

    from sqlalchemy import inspect

    exempt = no_consumer_by_design() if exempt is None else exempt
    deadline = time.monotonic() + settle
    while True:
        waiting: list[tuple[str, str, str]] = []
        stuck: list[tuple[str, str, str]] = []
        for service, url in urls.items():
            engine = make_engine(url)
            try:
                if not inspect(engine).has_table("outbox"):
                    continue
                with engine.connect() as conn:
                    rows = conn.execute(text(
                        "select type, sent_at, last_error from outbox "
                        "where sent_at is null or last_error like 'parked in%'")).all()
            finally:
                engine.dispose()
            for row in rows:
                if row.type in exempt:
                    continue
                found = (service, row.type, row.last_error or "not published yet")
                if row.sent_at is not None:  # parked: no queue took it, ever
                    stuck.append(found)
                else:
                    waiting.append(found)
        if not waiting or time.monotonic() > deadline:
            return stuck + [w for w in waiting if w[2].startswith("unroutable")]
        time.sleep(0.2)


def assert_nothing_unrouted(amqp_uri: str, urls: dict[str, str] | None = None) -> None:
    """Fail naming each event that reached no one: parked in `samspil.unrouted`, or
    (given the services' databases) still returned by the broker as unroutable."""
    lonely = unrouted_events(urls) if urls else []
    parked = parked_unrouted(amqp_uri)
    assert not lonely and parked == 0, (
        f"events no consumer took: {lonely}; parked in samspil.unrouted: {parked}")


@pytest.fixture(autouse=True)
def nothing_unrouted(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every e2e test on a vhost of its own ends with `samspil.unrouted` empty; with the
    whole system running (`system`), also with no event left unroutable. Checked while
    the services still run and before the vhost is deleted: the system is set up inside
    this fixture, so this teardown runs before the system's and the vhost's."""
    if "vhost" not in request.fixturenames:
        yield
        return
    _, uri = request.getfixturevalue("vhost")
    running: System | None = (request.getfixturevalue("system")
                              if "system" in request.fixturenames else None)
    yield
    assert_nothing_unrouted(uri, running.urls if running else None)


# -- set-up the stories share: the partner directory and consents (issues 10 and 16) -----


def register_directory_partner(system: System, operator: str, fronten: str, *,
                               partner_id: str, name: str, category: str,
                               accepts: list[str], email: str) -> None:
    """Put a partner in the partner directory over HTTP and wait until intake knows it
    (a consent can name it only then: intake keeps a copy from partners' event)."""
    system.ok("POST", "/api/partners", operator, 201, json={
        "partner_id": partner_id, "name": name, "category": category, "accepts": accepts,
        "contact_name": name, "contact_email": email})

    def known() -> bool:
        recipients = system.ok("GET", "/api/consent-vocabulary", fronten)["recipients"]
        return any(r["recipient"] == partner_id for r in recipients)

    system.wait_until(known, what=f"{partner_id} in intake's consent vocabulary")


def once_consent_known(system: System, method: str, path: str, token: str,
                       **kwargs: Any) -> Any:
    """Make a call that needs a consent coordination learns from intake's event: while
    coordination has not heard of it yet the call is refused (`consent.missing`,
    nothing written), so it is made again until it is not."""
    def attempt() -> Any:
        resp = system.call(method, path, token, **kwargs)
        if resp.status_code == 400 and any(
                e.get("rule") == "consent.missing" for e in resp.json().get("errors", [])):
            return None
        assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json()

    return system.wait_until(attempt, what=f"{method} {path} once the consent is known")
