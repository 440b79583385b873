"""The kit's tables (outbox, inbox, deadlines, access_log, rpc_requests), added to each
service's metadata.

Every service owns its own copy in its own database, created by its own Alembic
history, so each service can be deployed and migrated alone.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)

from services.common.types import UTCDateTime

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a bigint.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def add_kit_tables(metadata: MetaData) -> None:
    """Define outbox, inbox, deadlines and access_log on `metadata` (idempotent)."""
    if "outbox" in metadata.tables:
        return
    Table(
        "outbox",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("message_id", String(36), nullable=False, unique=True),
        Column("type", String(128), nullable=False),
        Column("exchange", String(128), nullable=False),
        Column("correlation_id", String(128), nullable=False),
        Column("body", Text, nullable=False),  # the envelope as JSON
        Column("created_at", UTCDateTime, nullable=False),
        Column("sent_at", UTCDateTime, nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("next_attempt_at", UTCDateTime, nullable=True),
        Column("last_error", Text, nullable=True),
        Index("ix_outbox_pending", "sent_at", "id"),
    )
    Table(
        "inbox",
        metadata,
        # (consumer, message_id) is the idempotency key: one effect per message per handler.
        Column("consumer", String(200), primary_key=True),
        Column("message_id", String(36), primary_key=True),
        Column("type", String(128), nullable=False),
        Column("processed_at", UTCDateTime, nullable=False),
    )
    Table(
        "deadlines",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("kind", String(64), nullable=False),
        Column("subject_id", String(64), nullable=False),
        Column("due_at", UTCDateTime, nullable=False),
        Column("fired_at", UTCDateTime, nullable=True),
        Column("cancelled_at", UTCDateTime, nullable=True),
        Column("created_at", UTCDateTime, nullable=False),
        # A sweep whose handler failed backs the deadline off (services.common.deadlines).
        Column("attempts", Integer, nullable=False, default=0, server_default="0"),
        Column("next_attempt_at", UTCDateTime, nullable=True),
        Column("last_error", Text, nullable=True),
        Index("ix_deadlines_due", "fired_at", "cancelled_at", "due_at"),
        Index("ix_deadlines_subject", "subject_id", "kind"),
    )
    Table(
        "access_log",
        metadata,
        # One read, search, change or disclosure of a citizen's data (services.common.access).
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("at", UTCDateTime, nullable=False, index=True),
        Column("actor", String(160), nullable=False),
        Column("roles", String(200), nullable=True),
        Column("action", String(16), nullable=False),  # read | search | change | disclosure
        Column("what", String(32), nullable=False),  # pathway, plan, case, contact, ...
        Column("subject_id", String(64), nullable=True),
        Column("citizen_ref", Uuid, nullable=True, index=True),
        # For a search: the criterion, described without a CPR number.
        Column("criterion", String(300), nullable=True),
        Column("purpose", String(200), nullable=False),
    )
    add_rpc_requests(metadata)


def add_rpc_requests(metadata: MetaData) -> None:
    """The ids of the RPC requests whose effects are committed (services.common.rpc)."""
    if "rpc_requests" in metadata.tables:
        return
    Table(
        "rpc_requests",
        metadata,
        Column("request_id", String(64), primary_key=True),
        Column("at", UTCDateTime, nullable=False, index=True),
    )
