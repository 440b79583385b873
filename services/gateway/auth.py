"""Who is calling: bearer tokens, roles, and the identity passed on to services.

The caller's identity is decided here, from the token, and handed to services as the
`actor` argument for their access logs; it is never taken from a client header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.actor import StaffRole
from services.gateway.models import ApiToken

# The roles are the contracts' (contracts.actor.StaffRole): one vocabulary for the
# gateway, the web app and the services that decide need-to-know.
Role = StaffRole


STAFF = frozenset(set(Role) - {Role.PARTNER})


@dataclass(frozen=True)
class Identity:
    name: str
    role: Role
    partner_id: str | None = None

    @property
    def label(self) -> str:
        """What logs and denials record: `staff:<name>` or `partner:<id>`."""
        if self.role is Role.PARTNER:
            return f"partner:{self.partner_id}"
        return f"staff:{self.name}"

    @property
    def actor(self) -> dict[str, Any]:
        """The `actor` argument of every RPC (contracts.actor): who, with which roles."""
        if self.role is Role.PARTNER:
            return {"kind": "partner", "id": self.partner_id, "name": self.name,
                    "roles": [Role.PARTNER.value], "partner_id": self.partner_id}
        return {"kind": "staff", "id": self.name, "name": self.name,
                "roles": [self.role.value]}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    session: Session, *, name: str, role: Role, partner_id: str | None, now: dt.datetime
) -> str:
    """Create a token and return it; only its hash is stored, so show it once."""
    if role is Role.PARTNER and not partner_id:
        raise ValueError("a partner token needs a partner id")
    token = "smp_" + secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=hash_token(token), name=name, role=role.value,
                         partner_id=partner_id if role is Role.PARTNER else None,
                         created_at=now))
    return token


def authenticate(session: Session, authorization: str | None) -> Identity | None:
    """The identity behind an `Authorization: Bearer <token>` header, or None."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    token = authorization[len("Bearer "):].strip()
    if not token:
        return None
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    return Identity(name=row.name, role=Role(row.role), partner_id=row.partner_id)
