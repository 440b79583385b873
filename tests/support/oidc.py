"""A real OpenID provider for the tests: deploy/oidc-dev (the certified `oidc-provider`
package on Node.js) started on a free loopback port, and a scripted user who signs in
through it exactly as a browser does (authorization code flow with PKCE)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from tests.support.net import free_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_DIR = ROOT / "deploy" / "oidc-dev"
CLIENT_ID = "samspil-web"
SHORT_LIVED_CLIENT_ID = "samspil-short-lived"  # its tokens live 2 seconds
CLIENT_SECRET = "test-secret-" + "x" * 16
AUDIENCE = "urn:samspil:api"
OTHER_AUDIENCE = "urn:samspil:other-api"
PASSWORD = "demo"

# The dev provider's groups, mapped as a municipality would map its own AD groups.
ROLE_MAP = {
    "samspil-fronten": "fronten",
    "samspil-tovholdere": "tovholder",
    "samspil-koordinatorer": "coordinator",
    "samspil-udvalg": "review_panel",
    "samspil-socialvejledning": "social_vejledning",
    "samspil-bolig": "housing_officer",
    "samspil-drift": "operator",
    "samspil-partnere": "partner",
}


class OidcProvider:
    """The provider process; `issuer` is its base URL."""

    def __init__(self, log_dir: Path) -> None:
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").exists():
            raise RuntimeError("deploy/oidc-dev has no node_modules: run `make install`")
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not installed")
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, OIDC_DEV_ISSUER=self.issuer, OIDC_DEV_CLIENT_ID=CLIENT_ID,
                   OIDC_DEV_CLIENT_SECRET=CLIENT_SECRET, OIDC_DEV_AUDIENCE=AUDIENCE,
                   OIDC_DEV_LOOPBACK_PORTS="any", OIDC_DEV_SHORT_CLIENT="1",
                   NODE_NO_WARNINGS="1")
        self.log_path = log_dir / "oidc-provider.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen([node, str(PROVIDER_DIR / "server.mjs")], env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        wait_for(self._ready, timeout=30.0, what="the OpenID provider to answer")

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"the OpenID provider exited: {self.log_path.read_text()}")
        try:
            return requests.get(f"{self.issuer}/.well-known/openid-configuration",
                                timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def gateway_config(self, gateway_base: str) -> dict[str, Any]:
        """The gateway's `OIDC` setting for a gateway answering on `gateway_base`."""
        return {
            "issuer": self.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "redirect_uri": f"{gateway_base}/auth/callback", "audience": AUDIENCE,
            "role_map": ROLE_MAP, "allow_development_provider": True, "leeway_seconds": 0,
        }

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()

    # -- signing in as a person would --------------------------------------------------

    def _log_in(self, browser: requests.Session, start: requests.Response,
                login: str, password: str) -> str:
        """Fill in the provider's login form; the redirect back to the client."""
        match = re.search(r'action="(/interaction/[^"]+/login)"', start.text)
        assert match, f"no login form at {start.url}: {start.status_code}"
        response = browser.post(urljoin(self.issuer, match.group(1)),
                                data={"login": login, "password": password},
                                allow_redirects=False, timeout=10)
        if response.status_code == 401:
            raise PermissionError("wrong user name or password")
        location = urljoin(self.issuer, response.headers["Location"])
        while urlsplit(location).netloc == urlsplit(self.issuer).netloc:
            response = browser.get(location, allow_redirects=False, timeout=10)
            location = urljoin(self.issuer, response.headers["Location"])
        return location

    def access_token(self, login: str, *, audience: str = AUDIENCE,
                     redirect_uri: str = "http://127.0.0.1:9/auth/callback",
                     password: str = PASSWORD, short_lived: bool = False) -> str:
        """An API access token for `login`, got through the code flow with PKCE, as a
        command-line client of the API would get it (`short_lived`: it lives 2 s)."""
        discovery = requests.get(f"{self.issuer}/.well-known/openid-configuration",
                                 timeout=5).json()
        client_id = SHORT_LIVED_CLIENT_ID if short_lived else CLIENT_ID
        client = OAuth2Session(client_id, CLIENT_SECRET, scope="openid profile email",
                               redirect_uri=redirect_uri, code_challenge_method="S256")
        verifier = generate_token(48)
        url, _ = client.create_authorization_url(discovery["authorization_endpoint"],
                                                 code_verifier=verifier, resource=audience)
        browser = requests.Session()
        back = self._log_in(browser, browser.get(url, timeout=10), login, password)
        token = client.fetch_token(discovery["token_endpoint"], authorization_response=back,
                                   code_verifier=verifier, resource=audience)
        return str(token["access_token"])

    def browser_sign_in(self, gateway_base: str, login: str,
                        password: str = PASSWORD, return_to: str = "/") -> requests.Session:
        """A browser (requests session with cookies) signed in to the gateway."""
        browser = requests.Session()
        start = browser.get(f"{gateway_base}/auth/login", params={"return_to": return_to},
                            timeout=10)
        back = self._log_in(browser, start, login, password)
        assert back.startswith(f"{gateway_base}/auth/callback"), back
        assert "code" in parse_qs(urlsplit(back).query)
        final = browser.get(back, allow_redirects=False, timeout=10)
        assert final.status_code == 302, final.text
        return browser
