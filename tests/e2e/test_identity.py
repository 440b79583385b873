"""Staff identity end to end, against the real OpenID provider on loopback
(deploy/oidc-dev, the certified `oidc-provider` package): the code flow with PKCE signs a
browser in and fills the staff directory; the API takes the provider's access tokens and
refuses a wrong audience, an expired token and a bad signature; machine tokens expire and
are refused as soon as they are revoked."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from services.gateway.auth import SESSION_COOKIE, Role
from services.gateway.oidc import (
    DevelopmentProviderRefused,
    OidcProvider,
    OidcSettings,
    production_refusal,
)
from tests.e2e.conftest import System
from tests.support.oidc import OTHER_AUDIENCE
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


def test_a_browser_signs_in_with_the_code_flow_and_pkce(system: System) -> None:
    browser = system.oidc.browser_sign_in(system.base, "mette", return_to="/api/docs")
    cookie = browser.cookies.get(SESSION_COOKIE)
    assert cookie, "the gateway set no session cookie"
    # The session is stored as a hash only; the directory knows her from the claims.
    stored = system.rows("gateway", "select id_hash, staff_id, roles from web_sessions")
    assert [(r.staff_id, r.id_hash != cookie) for r in stored] == [("mette", True)]
    operator = system.token(Role.OPERATOR, "ole")
    staff = system.ok("GET", "/api/staff?role=tovholder", operator)["items"]
    assert {(s["staff_id"], s["email"], s["agency"]) for s in staff} == {
        ("mette", "mette@balk.dk", "social_services")}
    # Signing out ends the session at once and sends the browser to the provider.
    forged = browser.post(f"{system.base}/auth/logout", data={"csrf": "guess"}, timeout=10)
    assert forged.status_code == 403  # another site cannot sign her out
    csrf = system.rows("gateway", "select csrf_token from web_sessions")[0].csrf_token
    out = browser.post(f"{system.base}/auth/logout", data={"csrf": csrf},
                       allow_redirects=False, timeout=10)
    assert out.status_code == 303 and out.headers["Location"].startswith(system.oidc.issuer)
    ended = system.rows("gateway", "select ended_at from web_sessions")
    assert ended[0].ended_at is not None


def test_a_wrong_password_and_a_user_without_a_role_get_no_session(system: System) -> None:
    with pytest.raises(PermissionError):
        system.oidc.browser_sign_in(system.base, "mette", password="forkert")
    with pytest.raises(AssertionError, match="ingen adgang til Samspil"):
        system.oidc.browser_sign_in(system.base, "gitte")  # no Samspil group: a 403 page
    assert system.rows("gateway", "select staff_id from web_sessions") == []


def test_the_api_takes_the_providers_access_token_with_its_roles(system: System) -> None:
    token = system.sign_in("karin")
    me = system.ok("GET", "/api/me", token)
    assert (me["id"], me["via"], me["agency"]) == ("karin", "oidc", "social_services")
    assert me["roles"] == ["coordinator", "tovholder"]
    # The roles decide what the token may do: karin is no operator.
    assert system.call("GET", "/api/tokens", token).status_code == 403


def test_wrong_audience_expired_and_bad_signature_are_refused(system: System) -> None:
    other = system.oidc.access_token("mette", audience=OTHER_AUDIENCE)
    refused = system.call("GET", "/api/me", other)
    assert refused.status_code == 401 and "aud" in refused.json()["detail"]
    assert other not in refused.text

    token = system.sign_in("mette")
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    refused = system.call("GET", "/api/me", forged)
    assert refused.status_code == 401 and "signature" in refused.json()["detail"]

    short = system.oidc.access_token("mette", short_lived=True)  # lives 2 seconds
    assert system.call("GET", "/api/me", short).status_code == 200
    def refused_now() -> str | None:
        response = system.call("GET", "/api/me", short)
        return response.json()["detail"] if response.status_code == 401 else None

    detail = wait_for(refused_now, timeout=30.0, what="the short-lived token to expire")
    assert "expired" in detail


def test_a_revoked_token_is_refused_and_tokens_expire(system: System) -> None:
    operator = system.token(Role.OPERATOR, "ole")
    unknown = system.call("POST", "/api/tokens", operator, json={
        "name": "x", "role": "partner", "partner_id": "kab"})
    assert unknown.status_code == 400  # only for a partner in the directory
    assert unknown.json()["errors"][0]["rule"] == "partner_unknown"
    system.ok("POST", "/api/partners", operator, status=201, json={
        "partner_id": "kab", "name": "KAB", "category": "housing",
        "accepts": ["hold_termination"], "contact_name": "Karen", "contact_email":
        "karen@kab.example", "contact_phone": "+45 33 63 10 00"})
    made = system.ok("POST", "/api/tokens", operator, status=201,
                     json={"name": "kab-system", "role": "partner", "partner_id": "kab",
                           "expires_in_days": 30})
    partner = made["token"]
    assert made["state"] == "active" and made["created_by"] == "staff:ole"
    assert system.call("GET", "/api/me", partner).json()["partner_id"] == "kab"
    listed = system.ok("GET", "/api/tokens", operator)["items"]
    assert "token" not in listed[-1] and listed[-1]["token_id"] == made["token_id"]

    revoked = system.ok("DELETE", f"/api/tokens/{made['token_id']}", operator)
    assert revoked["state"] == "revoked"
    assert system.call("GET", "/api/me", partner).status_code == 401

    # Another token runs out on its own: made 91 days ago, it lived 90.
    old = system.token(Role.OPERATOR, "batch", made_at=dt.datetime.now(dt.UTC)
                       - dt.timedelta(days=91))
    assert system.call("GET", "/api/me", old).status_code == 401
    states = {t["name"]: t["state"] for t in system.ok("GET", "/api/tokens", operator)["items"]}
    assert states == {"ole": "active", "kab-system": "revoked", "batch": "expired"}


def test_production_refuses_the_development_provider(system: System) -> None:
    config = {"SAMSPIL_ENV": "production", "OIDC": system.oidc.gateway_config(system.base)}
    settings = OidcSettings.from_config(config)
    assert settings is not None and not settings.allow_development_provider
    with pytest.raises(DevelopmentProviderRefused, match="https"):
        OidcProvider(settings, lambda: dt.datetime.now(dt.UTC)).check_allowed()
    # Even behind https, the discovery document gives the development provider away.
    published = requests.get(f"{system.oidc.issuer}/.well-known/openid-configuration",
                             timeout=5).json()
    assert production_refusal("https://idp.balk.dk", published) == \
        "production may not use the development OpenID provider"
    assert production_refusal("https://idp.balk.dk", {"issuer": "https://idp.balk.dk"}) is None


def test_a_partners_user_signs_in_as_their_partner_and_is_kept_out_of_the_directory(
        system: System) -> None:
    token = system.sign_in("kab")
    me = system.ok("GET", "/api/me", token)
    assert (me["kind"], me["partner_id"], me["roles"]) == ("partner", "kab-ballerup",
                                                           ["partner"])
    system.oidc.browser_sign_in(system.base, "jobcenter")
    rows = system.rows("gateway", "select staff_id, partner_id from web_sessions")
    assert [(r.staff_id, r.partner_id) for r in rows] == [("jobcenter", "jobcenter-ballerup")]
    assert system.rows("gateway", "select staff_id from staff") == []
