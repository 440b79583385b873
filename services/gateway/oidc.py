"""Staff sign in with OpenID Connect: the authorization code flow with PKCE (Authlib)
against the municipality's identity provider, and bearer tokens it issues for the API
(JSON Web Tokens checked with joserfc, Authlib's JOSE library).

- The browser signs in at `/auth/login` and comes back to `/auth/callback`; the
  gateway exchanges the code (with the PKCE verifier it kept), checks the ID token
  (signature, issuer, audience = our client id, expiry, nonce) and opens a web session.
- API clients send the provider's access token as `Authorization: Bearer ...`; the
  gateway checks its signature against the provider's published keys, its issuer, its
  audience (the API's resource indicator, `OIDC.audience`) and its expiry.
- Roles come from a claim (`groups` by default), mapped to Samspil roles by
  `OIDC.role_map` in the configuration; a user with no mapped role is refused.

Configuration (`OIDC:` in the gateway's config; docs/security.md):
    issuer, client_id, client_secret, redirect_uri, audience, scopes,
    staff_id_claim (preferred_username), role_claim (groups), agency_claim (agency),
    role_map {group: role}, session_hours (8), leeway_seconds (30),
    allow_development_provider (false in production)
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from contracts.actor import StaffRole
from contracts.vocabulary import Agency

ALGORITHMS = ("RS256", "PS256", "ES256")
HTTP_TIMEOUT = 5.0
# A token signed with a key we do not know yet makes us fetch the keys again, at most
# this often (the provider rotated its keys; or someone is probing).
KEYS_REFRESH_SECONDS = 60.0


class InvalidToken(Exception):
    """A bearer or ID token we refuse; `reason` is short and safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProviderUnavailable(Exception):
    """The identity provider did not answer (discovery, keys or token endpoint)."""


class DevelopmentProviderRefused(Exception):
    """Production configured with the development provider (or an http issuer)."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    audience: str
    scopes: str = "openid profile email"
    staff_id_claim: str = "preferred_username"
    role_claim: str = "groups"
    agency_claim: str = "agency"
    partner_claim: str = "partner_id"  # for partners' users: which partner they act for
    role_map: Mapping[str, StaffRole] = field(default_factory=dict)
    session_hours: float = 8.0
    leeway_seconds: int = 30
    allow_development_provider: bool = True

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OidcSettings | None:
        """The `OIDC` section of the config, or None when sign-in is not configured."""
        section = config.get("OIDC")
        if not section or not section.get("issuer"):
            return None
        production = str(config.get("SAMSPIL_ENV", "development")).lower() == "production"
        role_map = {str(group): StaffRole(role)
                    for group, role in (section.get("role_map") or {}).items()}
        return cls(
            issuer=str(section["issuer"]).rstrip("/"),
            client_id=str(section["client_id"]),
            client_secret=str(section.get("client_secret") or ""),
            redirect_uri=str(section["redirect_uri"]),
            audience=str(section["audience"]),
            scopes=str(section.get("scopes") or cls.scopes),
            staff_id_claim=str(section.get("staff_id_claim") or cls.staff_id_claim),
            role_claim=str(section.get("role_claim") or cls.role_claim),
            agency_claim=str(section.get("agency_claim") or cls.agency_claim),
            partner_claim=str(section.get("partner_claim") or cls.partner_claim),
            role_map=role_map,
            session_hours=float(section.get("session_hours") or cls.session_hours),
            leeway_seconds=int(section.get("leeway_seconds", cls.leeway_seconds)),
            allow_development_provider=not production and _truthy(
                section.get("allow_development_provider", True)),
        )


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class StaffClaims:
    """Who signed in, in Samspil's words."""

    staff_id: str
    name: str
    roles: frozenset[StaffRole]
    agency: str | None
    email: str | None
    phone: str | None
    partner_id: str | None = None  # a partner organisation's user acts for this partner

    @property
    def is_partner(self) -> bool:
        return self.partner_id is not None


_PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def staff_from_claims(claims: Mapping[str, Any], settings: OidcSettings) -> StaffClaims:
    """Map a token's claims to a staff member; InvalidToken when no role is mapped."""
    staff_id = claims.get(settings.staff_id_claim) or claims.get("sub")
    if not isinstance(staff_id, str) or not staff_id:
        raise InvalidToken(f"no {settings.staff_id_claim} claim")
    groups = claims.get(settings.role_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    roles = frozenset(settings.role_map[g] for g in groups if g in settings.role_map)
    if not roles:
        raise InvalidToken("no Samspil role in the token's groups")
    agency = claims.get(settings.agency_claim)
    if agency not in {a.value for a in Agency}:
        agency = None
    partner_id = None
    if StaffRole.PARTNER in roles:
        # A partner's user acts for one partner, and only as a partner.
        partner_id = claims.get(settings.partner_claim)
        if not isinstance(partner_id, str) or not _PARTNER_ID.match(partner_id):
            raise InvalidToken(f"a partner's user needs a {settings.partner_claim} claim")
        if roles != {StaffRole.PARTNER}:
            raise InvalidToken("a partner's user cannot also hold a staff role")
    return StaffClaims(
        staff_id=staff_id[:128],
        name=str(claims.get("name") or staff_id)[:200],
        roles=roles,
        agency=agency,
        email=claims.get("email") if isinstance(claims.get("email"), str) else None,
        phone=claims.get("phone_number") if isinstance(claims.get("phone_number"), str)
        else None,
        partner_id=partner_id,
    )


def production_refusal(issuer: str, metadata: Mapping[str, Any] | None) -> str | None:
    """Why production may not use this provider (None: it may)."""
    if not issuer.startswith("https://"):
        return f"production needs an https issuer, not {issuer}"
    if metadata is not None and metadata.get("samspil_development_provider"):
        return "production may not use the development OpenID provider"
    return None


class OidcProvider:
    """The identity provider as the gateway uses it: discovery, keys, the code flow and
    token checks. Discovery and keys are fetched once and cached."""

    def __init__(self, settings: OidcSettings,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.settings = settings
        # Token lifetimes are the provider's wall-clock times, not the services' business
        # clock (which tests move): tokens are checked against the real time.
        self._now = now
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._keys_fetched = 0.0

    # -- the provider's documents ---------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            url = f"{self.settings.issuer}/.well-known/openid-configuration"
            document = self._get_json(url)
            if str(document.get("issuer", "")).rstrip("/") != self.settings.issuer:
                raise ProviderUnavailable("the discovery document names another issuer")
            self._metadata = document
        return self._metadata

    def check_allowed(self) -> None:
        """Refuse the development provider (and plain http) unless it is allowed."""
        if self.settings.allow_development_provider:
            return
        reason = production_refusal(self.settings.issuer, None)
        reason = reason or production_refusal(self.settings.issuer, self.metadata())
        if reason:
            raise DevelopmentProviderRefused(reason)

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = requests.get(url, timeout=HTTP_TIMEOUT)
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(f"{url}: {type(exc).__name__}") from None
        if not isinstance(data, dict):
            raise ProviderUnavailable(f"{url}: not a JSON object")
        return data

    def keys(self, *, refresh: bool = False) -> KeySet:
        with self._lock:
            stale = time.monotonic() - self._keys_fetched > KEYS_REFRESH_SECONDS
            if self._keys is None or (refresh and stale):
                document: Any = self._get_json(self.metadata()["jwks_uri"])
                self._keys = KeySet.import_key_set(document)
                self._keys_fetched = time.monotonic()
            return self._keys

    # -- checking tokens -------------------------------------------------------------------

    def validate(self, token: str, *, audience: str, nonce: str | None = None) -> dict[str, Any]:
        """The claims of a signed token from our provider, for `audience`, not expired."""
        try:
            decoded = self._decode(token)
        except InvalidToken:
            raise
        except JoseError as exc:
            raise InvalidToken(f"bad token: {exc.error}") from None
        except (ValueError, TypeError, KeyError):
            raise InvalidToken("not a JSON Web Token") from None
        now = int(self._now().timestamp())
        registry = JWTClaimsRegistry(
            now=now, leeway=self.settings.leeway_seconds,
            iss={"essential": True, "value": self.settings.issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(decoded.claims)
        except JoseError as exc:
            raise InvalidToken(f"{exc.error}: {exc.description or ''}".strip()) from None
        if nonce is not None and decoded.claims.get("nonce") != nonce:
            raise InvalidToken("the ID token's nonce does not match the sign-in")
        return dict(decoded.claims)

    def _decode(self, token: str) -> Any:
        if token.count(".") != 2:
            raise InvalidToken("not a JSON Web Token")
        try:
            return jwt.decode(token, self.keys(), algorithms=list(ALGORITHMS))
        except JoseError as exc:
            if exc.error != "bad_signature" and "key" not in str(exc).lower():
                raise
            # Perhaps the provider rotated its keys: look once more, then give up.
            return jwt.decode(token, self.keys(refresh=True), algorithms=list(ALGORITHMS))

    # -- the code flow ----------------------------------------------------------------------

    def _client(self) -> OAuth2Session:
        return OAuth2Session(
            self.settings.client_id, self.settings.client_secret,
            scope=self.settings.scopes, redirect_uri=self.settings.redirect_uri,
            code_challenge_method="S256",
        )

    def authorization_url(self, *, state: str, code_verifier: str, nonce: str) -> str:
        url, _ = self._client().create_authorization_url(
            self.metadata()["authorization_endpoint"], state=state,
            code_verifier=code_verifier, nonce=nonce, resource=self.settings.audience,
        )
        return str(url)

    def exchange(self, *, code: str, code_verifier: str) -> dict[str, Any]:
        """Trade the code for tokens (the verifier proves we started this sign-in)."""
        try:
            token = self._client().fetch_token(
                self.metadata()["token_endpoint"], grant_type="authorization_code",
                code=code, code_verifier=code_verifier, resource=self.settings.audience,
                timeout=HTTP_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"token endpoint: {type(exc).__name__}") from None
        except Exception as exc:  # Authlib's OAuthError: the provider said no
            raise InvalidToken(f"the provider refused the code: {exc}") from None
        return dict(token)

    def end_session_url(self, *, id_token_hint: str | None, post_logout: str) -> str | None:
        endpoint = self.metadata().get("end_session_endpoint")
        if not endpoint:
            return None
        params = {"post_logout_redirect_uri": post_logout, "client_id": self.settings.client_id}
        if id_token_hint:
            params["id_token_hint"] = id_token_hint
        return f"{endpoint}?{urlencode(params)}"
