"""The gateway's own tables: API tokens (stored as hashes) and the denial log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Integer, MetaData, String
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
