"""The partners service's tables (the kit's outbox, inbox, deadlines and access log are
added by the Database provider).

- `partners` and `partner_accepts`: the directory (who, what kind, what it accepts,
  whom to contact there). Operators keep it; a seeded row is Social Vejledning.
- `handoffs`: one request to one partner about one subject (a course, a case or a
  pathway), its state and the last answer. The citizen is only a `citizen_ref`.
  Its escalation deadline is a row in the kit's `deadlines` table (kind
  ``partners.answer_due``, subject = the hand-off id).
- `handoff_history`: every change of a hand-off: who, when, from which state to
  which, the answer's reason, outcome, hold date and note.
- `missing_partners`: a hand-off that could not be made because its partner is not in
  the directory (or not active), recorded once per subject, partner and kind.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.tables import BigId, add_kit_tables
from services.common.types import UTCDateTime

metadata = MetaData()
add_kit_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class Partner(Base):
    """A partner or offer in the municipality's directory."""

    __tablename__ = "partners"

    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    contact_phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    description: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    registered_by: Mapped[str] = mapped_column(String(160))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    changed_by: Mapped[str] = mapped_column(String(160))

    __table_args__ = (
        # The directory's list: by name, then id (the keyset cursor needs a unique end).
        Index("ix_partners_name", "name", "partner_id"),
    )


class PartnerAccepts(Base):
    """One kind of hand-off a partner accepts."""

    __tablename__ = "partner_accepts"

    partner_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("partners.partner_id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class HandoffRow(Base):
    """A hand-off: one request to one partner about one subject."""

    __tablename__ = "handoffs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    partner_id: Mapped[str] = mapped_column(String(64), ForeignKey("partners.partner_id"))
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    citizen_ref: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(16))
    # 0 while open (requested, received, accepted, in progress), 1 once closed: the
    # partner's list shows open ones first.
    open_rank: Mapped[int] = mapped_column(SmallInteger)
    # "<subject_type>:<subject_id>:<partner_id>:<kind>" while open, NULL once closed: at
    # most one open hand-off per subject, partner and kind, enforced by the database.
    open_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    answer_by: Mapped[dt.date] = mapped_column(Date)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    ask: Mapped[str] = mapped_column(String(1000))
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    contact_phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    responsible_staff_id: Mapped[str | None] = mapped_column(String(128), nullable=True,
                                                             index=True)
    responsible_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    mailbox: Mapped[str] = mapped_column(String(32))
    # HandoffDetailsSchema's typed facts (dates and references), in wire form.
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    source_event: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    hold_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(160), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_handoffs_subject", "subject_type", "subject_id"),
        # A partner's own list: open first, by answer_by.
        Index("ix_handoffs_partner_list", "partner_id", "open_rank", "answer_by", "id"),
        # Staff's list of unanswered hand-offs, oldest answer_by first.
        Index("ix_handoffs_awaiting", "answer_by", "id",
              postgresql_where=text("state IN ('requested', 'received')"),
              sqlite_where=text("state IN ('requested', 'received')")),
    )


class HandoffHistoryRow(Base):
    """One change of a hand-off (created, an answer, a new contact, the escalation)."""

    __tablename__ = "handoff_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    handoff_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("handoffs.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(160))
    change: Mapped[str] = mapped_column(String(16))  # created | state | contact | escalated
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    hold_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str | None] = mapped_column(String(1000), nullable=True)


class MissingPartner(Base):
    """A hand-off not made: its partner is not in the directory, or not active."""

    __tablename__ = "missing_partners"

    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    source_event: Mapped[str] = mapped_column(String(128))
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
