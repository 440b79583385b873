"""The gateway's own tables: the staff directory, web sessions and sign-ins in progress,
API tokens (stored as hashes) and the denial log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.tables import add_kit_tables
from services.common.types import UTCDateTime

metadata = MetaData()
add_kit_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    # sha256 of the token: tokens are 256 random bits, so a fast hash is enough and a
    # leaked table reveals no usable token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))  # e.g. "anne" or "kab-ballerup"
    role: Mapped[str] = mapped_column(String(32))  # fronten | tovholder | partner | operator
    partner_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Tokens for machines and partners expire (no expiry: made before expiry existed).
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(160), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(160), nullable=True)


class StaffMember(Base):
    """The staff directory: who works in Samspil, from the identity provider's claims
    (updated at every sign-in) or entered by an operator (`samspil staff add`)."""

    __tablename__ = "staff"

    # The staff id: the provider's `preferred_username` (configurable), also the
    # member_id in coordination's teams.
    staff_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str | None] = mapped_column(String(64), nullable=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(16))  # oidc | operator
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A signed-in browser: the cookie holds a random id, the table its sha256."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Set for a partner organisation's user: the partner it acts for.
    partner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    # Sent with every form; a request without it is refused (CSRF).
    csrf_token: Mapped[str] = mapped_column(String(64))
    id_token_hint: Mapped[str | None] = mapped_column(String(4096), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OidcLogin(Base):
    """A sign-in under way: the state sent to the provider, with its PKCE verifier and
    nonce, kept until the provider sends the browser back (or 10 minutes pass)."""

    __tablename__ = "oidc_logins"

    state: Mapped[str] = mapped_column(String(128), primary_key=True)
    code_verifier: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(128))
    return_to: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class Denial(Base):
    """Every refused request: who (if known), what, why."""

    __tablename__ = "access_denials"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    principal: Mapped[str | None] = mapped_column(String(160), nullable=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(64))


class IdempotencyKey(Base):
    """A state-changing request's idempotency key (a web form's hidden key, or an API
    client's `Idempotency-Key` header), with what it led to: a second request with the
    same key gets the first one's answer instead of doing the work again. Kept 24 hours.
    """

    __tablename__ = "idempotency_keys"

    # sha256 of (key, what it was sent to): a key is only ever compared within its target.
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    principal: Mapped[str] = mapped_column(String(160))
    body_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: under way
    location: Mapped[str | None] = mapped_column(String(500), nullable=True)
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
