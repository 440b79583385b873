"""Who is calling: signed-in staff (OpenID Connect), machine and partner tokens, and
the identity passed on to services as the `actor` of every RPC.

Three ways in, one `Identity` out:
- `Authorization: Bearer <JWT>`: an access token from the municipality's identity
  provider (services.gateway.oidc), for the API;
- `Authorization: Bearer smp_...`: a token made by an operator for a machine or a
  partner; it expires and can be revoked (`samspil tokens`, `/api/tokens`);
- the `samspil_session` cookie of a signed-in browser (the web app).

The caller's identity is decided here and never taken from a client header or body.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.actor import StaffRole
from services.gateway.models import ApiToken, StaffMember, WebSession
from services.gateway.oidc import InvalidToken, OidcProvider, StaffClaims, staff_from_claims

# The roles are the contracts' (contracts.actor.StaffRole): one vocabulary for the
# gateway, the web app and the services that decide need-to-know.
Role = StaffRole

STAFF = frozenset(set(Role) - {Role.PARTNER})
TOKEN_PREFIX = "smp_"  # noqa: S105 - a marker, not a secret
SESSION_COOKIE = "samspil_session"
# How long a checked token is trusted without looking again. A revoked token is
# refused at once by the gateway that revoked it, and by the others within this.
TOKEN_CACHE_SECONDS = 1.0
DEFAULT_TOKEN_DAYS = 90


@dataclass(frozen=True)
class Identity:
    id: str
    name: str
    roles: frozenset[Role]
    kind: str = "staff"  # staff | partner
    partner_id: str | None = None
    agency: str | None = None
    via: str = "token"  # token | oidc | session
    session_csrf: str | None = field(default=None, compare=False)

    @property
    def is_partner(self) -> bool:
        return self.kind == "partner"

    @property
    def label(self) -> str:
        """What logs and denials record: `staff:<id>` or `partner:<id>`."""
        return f"partner:{self.partner_id}" if self.is_partner else f"staff:{self.id}"

    def may(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)

    @property
    def actor(self) -> dict[str, Any]:
        """The `actor` argument of every RPC (contracts.actor): who, with which roles."""
        return {
            "kind": self.kind, "id": self.partner_id if self.is_partner else self.id,
            "name": self.name, "roles": sorted(r.value for r in self.roles),
            "agency": self.agency, "partner_id": self.partner_id,
        }


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- machine and partner tokens ---------------------------------------------------------------


def create_token(
    session: Session, *, name: str, role: Role, partner_id: str | None, now: dt.datetime,
    expires_at: dt.datetime | None = None, created_by: str | None = None,
) -> str:
    """Create a token and return it; only its hash is stored, so show it once. It
    expires after DEFAULT_TOKEN_DAYS unless `expires_at` says otherwise."""
    if role is Role.PARTNER and not partner_id:
        raise ValueError("a partner token needs a partner id")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(
        token_hash=hash_token(token), name=name, role=role.value,
        partner_id=partner_id if role is Role.PARTNER else None, created_at=now,
        expires_at=expires_at or now + dt.timedelta(days=DEFAULT_TOKEN_DAYS),
        created_by=created_by,
    ))
    return token


def token_view(row: ApiToken, now: dt.datetime) -> dict[str, Any]:
    state = "revoked" if row.revoked_at else (
        "expired" if row.expires_at and row.expires_at <= now else "active")
    return {
        "token_id": row.id, "name": row.name, "role": row.role, "partner_id": row.partner_id,
        "created_at": row.created_at.isoformat(), "created_by": row.created_by,
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "state": state,
    }


def list_tokens(session: Session, now: dt.datetime) -> list[dict[str, Any]]:
    rows = session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
    return [token_view(r, now) for r in rows]


def revoke_token(session: Session, token_id: int, *, by: str, now: dt.datetime) -> ApiToken | None:
    row = session.get(ApiToken, token_id)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = now, by
    return row


def _identity_of_token(row: ApiToken) -> Identity:
    role = Role(row.role)
    if role is Role.PARTNER:
        return Identity(id=str(row.partner_id), name=row.name, roles=frozenset({role}),
                        kind="partner", partner_id=row.partner_id)
    return Identity(id=row.name, name=row.name, roles=frozenset({role}))


# -- the staff directory ------------------------------------------------------------------------


def upsert_staff(session: Session, staff: StaffClaims, now: dt.datetime,
                 source: str = "oidc") -> StaffMember:
    """Keep the directory as the identity provider describes the person."""
    row = session.get(StaffMember, staff.staff_id)
    values = {"name": staff.name, "agency": staff.agency,
              "roles": sorted(r.value for r in staff.roles), "email": staff.email,
              "phone": staff.phone, "active": True, "source": source}
    if row is None:
        row = StaffMember(staff_id=staff.staff_id, updated_at=now, **values)
        session.add(row)
    elif any(getattr(row, k) != v for k, v in values.items()):
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = now
    return row


def list_staff(session: Session, role: str | None = None,
               agency: str | None = None) -> list[dict[str, Any]]:
    """Active people in the staff directory, by name (optionally of one role/agency)."""
    query = select(StaffMember).where(StaffMember.active.is_(True))
    if agency:
        query = query.where(StaffMember.agency == agency)
    rows = [staff_view(r) for r in session.scalars(query.order_by(StaffMember.name))]
    return [r for r in rows if role is None or role in r["roles"]]


def staff_view(row: StaffMember) -> dict[str, Any]:
    return {"staff_id": row.staff_id, "name": row.name, "agency": row.agency,
            "roles": list(row.roles), "email": row.email, "phone": row.phone,
            "active": row.active}


def _identity_of_staff(staff: StaffClaims, via: str, csrf: str | None = None) -> Identity:
    if staff.partner_id is not None:
        return Identity(id=staff.partner_id, name=staff.name, roles=staff.roles,
                        kind="partner", partner_id=staff.partner_id, via=via,
                        session_csrf=csrf)
    return Identity(id=staff.staff_id, name=staff.name, roles=staff.roles,
                    agency=staff.agency, via=via, session_csrf=csrf)


# -- sessions of signed-in browsers ---------------------------------------------------------------


def open_session(session: Session, staff: StaffClaims, *, now: dt.datetime, hours: float,
                 id_token: str | None) -> str:
    """A new web session; returns the cookie value (only its hash is stored)."""
    cookie = secrets.token_urlsafe(32)
    session.add(WebSession(
        id_hash=hash_token(cookie), staff_id=staff.staff_id, name=staff.name,
        partner_id=staff.partner_id,
        roles=sorted(r.value for r in staff.roles), csrf_token=secrets.token_urlsafe(24),
        id_token_hint=id_token if id_token and len(id_token) <= 4096 else None,
        created_at=now, expires_at=now + dt.timedelta(hours=hours),
    ))
    return cookie


def session_identity(session: Session, cookie: str | None, now: dt.datetime) -> Identity | None:
    if not cookie:
        return None
    row = session.get(WebSession, hash_token(cookie))
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    roles = frozenset(Role(r) for r in row.roles)
    if row.partner_id is not None:  # a partner organisation's user
        return _identity_of_staff(StaffClaims(
            staff_id=row.staff_id, name=row.name or row.staff_id, roles=roles, agency=None,
            email=None, phone=None, partner_id=row.partner_id), "session", row.csrf_token)
    staff = session.get(StaffMember, row.staff_id)
    if staff is None or not staff.active:
        return None
    return Identity(id=staff.staff_id, name=staff.name, roles=roles, agency=staff.agency,
                    via="session", session_csrf=row.csrf_token)


class CsrfMismatch(Exception):
    """A form for a session arrived without that session's CSRF token."""


def end_session(session: Session, cookie: str | None, now: dt.datetime,
                csrf: str | None) -> str | None:
    """End the browser's session (the form must carry its CSRF token: another site cannot
    sign a person out); returns the ID token hint for the provider's logout."""
    if not cookie:
        return None
    row = session.get(WebSession, hash_token(cookie))
    if row is None or row.ended_at is not None:
        return None
    if not csrf or not secrets.compare_digest(csrf, row.csrf_token):
        raise CsrfMismatch()
    row.ended_at = now
    return row.id_token_hint


# -- the bearer token ---------------------------------------------------------------------------


class Authenticator:
    """Turns an `Authorization` header into an Identity, with a short cache so that a
    busy client does not cost a database read (or a signature check) per request."""

    def __init__(self, provider: OidcProvider | None, *,
                 cache_seconds: float = TOKEN_CACHE_SECONDS) -> None:
        self.provider = provider
        self.cache_seconds = cache_seconds
        # token hash -> (monotonic deadline, identity, not valid from this timestamp on,
        #                whether that timestamp is wall-clock time)
        self._cache: dict[str, tuple[float, Identity | None, float, bool]] = {}
        self._lock = threading.Lock()

    def forget(self, token_hash: str | None = None) -> None:
        """Drop a revoked token (or everything) from the cache."""
        with self._lock:
            if token_hash is None:
                self._cache.clear()
            else:
                self._cache.pop(token_hash, None)

    def bearer(self, authorization: str | None) -> str | None:
        if not authorization or not authorization.startswith("Bearer "):
            return None
        token = authorization[len("Bearer "):].strip()
        return token or None

    def authenticate(self, session_factory: Any, authorization: str | None,
                     now: dt.datetime) -> Identity | None:
        """The identity behind the header, or None. Raises InvalidToken for a JWT that
        fails its checks (so the caller can say why, without echoing the token)."""
        token = self.bearer(authorization)
        if token is None:
            return None
        key = hash_token(token)
        with self._lock:
            cached = self._cache.get(key)
        if cached:
            deadline, identity, not_after, wall_clock = cached
            # A JWT's expiry is wall-clock time; a machine token's is the service clock's,
            # like every other date Samspil keeps.
            at = time.time() if wall_clock else now.timestamp()
            if deadline > time.monotonic() and at < not_after:
                return identity
        identity, ttl, not_after = self._resolve(session_factory, token, key, now)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (time.monotonic() + ttl, identity, not_after,
                                not token.startswith(TOKEN_PREFIX))
        return identity

    def _resolve(self, session_factory: Any, token: str, key: str,
                 now: dt.datetime) -> tuple[Identity | None, float, float]:
        never = float("inf")
        if token.startswith(TOKEN_PREFIX):
            with session_factory() as session:
                row = session.execute(
                    select(ApiToken).where(ApiToken.token_hash == key)
                ).scalar_one_or_none()
                if row is None or row.revoked_at is not None or (
                        row.expires_at is not None and row.expires_at <= now):
                    return None, self.cache_seconds, never
                ends = row.expires_at.timestamp() if row.expires_at else never
                return _identity_of_token(row), self.cache_seconds, ends
        if self.provider is None:
            return None, self.cache_seconds, never
        claims = self.provider.validate(token, audience=self.provider.settings.audience)
        staff = staff_from_claims(claims, self.provider.settings)
        # Trust a checked JWT until it expires (by the service clock), and look again at
        # least every minute.
        exp = float(claims["exp"])
        return _identity_of_staff(staff, via="oidc"), 60.0, exp


__all__ = [
    "STAFF", "Authenticator", "Identity", "InvalidToken", "Role", "create_token",
    "end_session", "hash_token", "list_tokens", "open_session", "revoke_token",
    "session_identity", "staff_view", "token_view", "upsert_staff",
]
