"""Browser tests: the staff web app in Debian's Chromium, driven by Playwright for Python.

This suite runs in its own pytest process without eventlet (the root conftest): the whole
system runs as `samspil run` in a child process, as `make run` runs it, on a fresh
RabbitMQ vhost and fresh SQLite databases, with a file clock the tests move, a real SMTP
server and the real OpenID provider. Staff sign in through the provider's login page.

Every page a test visits is scanned with axe-core for WCAG 2.1 A and AA; a violation
fails the test with the rule and the elements. Stories read like the user's.

    SAMSPIL_BROWSER_TESTS=1 .venv/bin/pytest tests/browser
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import text
from sqlalchemy.orm import Session

from services.common.clock import FileClock
from services.common.db import make_engine
from services.common.migrate import upgrade
from services.gateway.auth import Role, create_token
from tests import infra as infra_mod
from tests.integration.notifications.support import SmtpServer
from tests.support.net import free_port
from tests.support.oidc import OidcProvider
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "services" / "web" / "assets" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("SAMSPIL_CHROMIUM", "/usr/bin/chromium")
# As the machine's probe starts it: no sandbox (root in a container), no background
# traffic to Google's hosts (the network here is closed).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSWORD = "demo"
SERVICES = ("intake", "coordination", "housing", "notifications", "partners", "gateway")
# Monday 2 March 2026, 09:00 in Copenhagen: a working day with weeks ahead to plan in.
T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def infra() -> infra_mod.Infra:
    found = infra_mod.from_environment()
    problems = infra_mod.check(found)
    if problems:
        pytest.fail("Browser tests need RabbitMQ and PostgreSQL:\n- " + "\n- ".join(problems),
                    pytrace=False)
    return found


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    provider = OidcProvider(tmp_path_factory.mktemp("oidc"))
    yield provider
    provider.stop()


@dataclass
class WebSystem:
    """The system as its users meet it: an address, a clock, a mailbox."""

    base: str
    clock: FileClock
    smtp: SmtpServer
    urls: dict[str, str]
    log: Path
    amqp_uri: str

    def token(self, role: Role, name: str, partner: str | None = None) -> str:
        """An API token, made as `samspil tokens create` makes it (set-up, not driving)."""
        engine = make_engine(self.urls["gateway"])
        try:
            with Session(engine) as session:
                token = create_token(session, name=name, role=role, partner_id=partner,
                                     now=dt.datetime.now(dt.UTC))
                session.commit()
        finally:
            engine.dispose()
        return token

    def api(self, method: str, path: str, token: str, **kwargs: Any) -> Any:
        """Set-up through the public API (what another system would do), checked."""
        response = requests.request(method, self.base + path, timeout=30,
                                    headers={"Authorization": f"Bearer {token}"}, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json()

    def rows(self, service: str, query: str) -> list[Any]:
        engine = make_engine(self.urls[service])
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(query)).all())
        finally:
            engine.dispose()

    def move_clock(self, delta: dt.timedelta) -> None:
        self.clock.set(self.clock.now() + delta)


@pytest.fixture
def web(infra: infra_mod.Infra, oidc_provider: OidcProvider,
        tmp_path: Path) -> Iterator[WebSystem]:
    """Every service and the gateway with the web app, as `samspil run` in a child."""
    vhost, amqp_uri = infra_mod.create_vhost(infra)
    urls = {name: f"sqlite:///{tmp_path / f'{name}.db'}" for name in SERVICES}
    for name, url in urls.items():
        upgrade(name, url)
    clock = FileClock(tmp_path / "clock")
    clock.set(T0)
    smtp = SmtpServer(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = {
        "AMQP_URI": amqp_uri, "DATABASES": urls,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
        "HEALTH_ADDRESSES": {name: f"127.0.0.1:{free_port()}" for name in SERVICES
                             if name != "gateway"},
        "CLOCK": f"file:{clock.path}",
        "CPR_HASH_KEY": "browser-tests-" + "k" * 40,
        "CPR_ENCRYPTION_KEY": Fernet.generate_key().decode("ascii"),
        "RETRY_DELAYS_MS": [100, 200, 400], "MAX_ATTEMPTS": 4, "OUTBOX_POLL_SECONDS": 0.2,
        "INTAKE_SWEEP_SECONDS": 0.2, "COORDINATION_SWEEP_SECONDS": 0.2,
        "HOUSING_SWEEP_SECONDS": 0.2, "DELIVERY_SWEEP_SECONDS": 0.2,
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "SMTP_FROM": "samspil@balk.dk",
        "FRONTEN_EMAIL": "ss-front@balk.dk", "RPC_TIMEOUT_SECONDS": 20,
        "OIDC": oidc_provider.gateway_config(base),
        "max_workers": 10,
    }
    config_path = tmp_path / "samspil.yaml"
    config_path.write_text(yaml.safe_dump(config))
    log = tmp_path / "samspil.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "services.cli", "--config",
                                 str(config_path), "run"], stdout=out, stderr=subprocess.STDOUT,
                                cwd=tmp_path)
    system = WebSystem(base, clock, smtp, urls, log, amqp_uri)
    try:
        wait_for(lambda: _ready(base, proc, log), timeout=60.0, what="the system to be ready")
        yield system
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        smtp.stop()
        infra_mod.delete_vhost(infra, vhost)


def _ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> bool:
    if proc.poll() is not None:
        raise RuntimeError(f"samspil run exited ({proc.returncode}):\n{log.read_text()[-4000:]}")
    try:
        return requests.get(base + "/ready", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; "
                    ".ci/run installs it)", pytrace=False)
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make install`", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Staff:
    """A person at the screen: signs in, moves around, and checks each page with axe."""

    def __init__(self, page: Page, web: WebSystem) -> None:
        self.page = page
        self.web = web
        self.scanned: list[str] = []

    def sign_in_as(self, login: str) -> Staff:
        page = self.page
        page.goto(self.web.base + "/")
        page.get_by_label("Brugernavn").fill(login)
        page.get_by_label("Adgangskode").fill(PASSWORD)
        page.get_by_role("button", name="Log ind").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Min arbejdsliste")
        self.check_accessibility()
        return self

    def goto(self, path: str) -> Staff:
        self.page.goto(self.web.base + path)
        self.check_accessibility()
        return self

    def check_accessibility(self) -> None:
        """axe-core on the page as it is now: 0 violations of WCAG 2.1 A and AA."""
        page = self.page
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
        violations = [
            {"rule": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]
        ]
        self.scanned.append(page.url)
        assert violations == [], (f"axe found {len(violations)} violation(s) on {page.url}:\n"
                                  + json.dumps(violations, indent=2, ensure_ascii=False))


@pytest.fixture
def staff(browser: Browser, web: WebSystem) -> Iterator[Any]:
    """`staff()` gives a new person in a fresh browser context (own cookies)."""
    contexts = []

    def make() -> Staff:
        # bypass_csp lets the test inject axe-core into pages whose CSP forbids it.
        context = browser.new_context(locale="da-DK", timezone_id="Europe/Copenhagen",
                                      bypass_csp=True)
        context.set_default_timeout(30_000)
        contexts.append(context)
        return Staff(context.new_page(), web)

    yield make
    for context in contexts:
        context.close()
