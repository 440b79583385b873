"""The partners service's tables (the kit's outbox, inbox, deadlines and access log are
added by the Database provider)."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from services.common.tables import add_kit_tables

metadata = MetaData()
add_kit_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata
