"""coordination's tables."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, BigInteger, Integer, MetaData, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.tables import add_kit_tables
from services.common.types import UTCDateTime

metadata = MetaData()
add_kit_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class CitizenActivity(Base):
    """What other services reported about a citizen (an inquiry at Fronten, a course
    ending, a housing escalation), shown on the timeline of the citizen's pathway."""

    __tablename__ = "citizen_activity"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    citizen_ref: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    kind: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    source_message_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    details: Mapped[dict[str, object]] = mapped_column(JSON)
