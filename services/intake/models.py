"""intake's tables. The kit tables (outbox, inbox, deadlines) are added to the same
metadata by `Database`, and created by intake's own Alembic history."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, MetaData, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.tables import add_kit_tables
from services.common.types import UTCDateTime

metadata = MetaData()
add_kit_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class Inquiry(Base):
    """A henvendelse: one contact with Fronten."""

    __tablename__ = "inquiries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    channel: Mapped[str] = mapped_column(String(32))
    inquirer_kind: Mapped[str] = mapped_column(String(32))
    topics: Mapped[list[str]] = mapped_column(JSON)
    # The citizen's own words; stays in intake, never published.
    wish: Mapped[str] = mapped_column(Text)
    citizen_ref: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    registered_by: Mapped[str] = mapped_column(String(64))
