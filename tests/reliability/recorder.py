"""A test-only consumer of intake.inquiry_registered whose handler can be made to fail.

It records one `effects` row per processed event, so the tests can count effects and
duplicates. Messages whose topics include a topic in `POISON` fail every time."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Column, MetaData, String, Table, insert

from contracts.envelope import Envelope
from services.common.db import Database, UnitOfWork
from services.common.messaging import inbox_handler
from services.common.tables import add_kit_tables
from services.common.types import UTCDateTime

metadata = MetaData()
add_kit_tables(metadata)
effects = Table(
    "effects",
    metadata,
    # No unique constraint on purpose: a duplicate effect must be countable, not refused.
    Column("message_id", String(36), nullable=False),
    Column("inquiry_id", String(36), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

POISON: set[str] = set()


class RecorderService:
    name = "recorder"
    db = Database(metadata)

    @inbox_handler("intake", "intake.inquiry_registered")
    def on_inquiry(self, uow: UnitOfWork, event: Envelope) -> None:
        topics = {t.value for t in event.payload["topics"]}
        if topics & POISON:
            raise RuntimeError(f"cannot handle topics {sorted(topics & POISON)}")
        uow.session.execute(
            insert(effects).values(
                message_id=str(event.message_id),
                inquiry_id=str(event.payload["inquiry_id"]),
                recorded_at=dt.datetime.now(dt.UTC),
            )
        )


def inquiry_event(topics: list[str], citizen_ref: uuid.UUID | None = None) -> Envelope:
    from contracts import registry

    now = dt.datetime.now(dt.UTC)
    return registry.build(
        "intake.inquiry_registered",
        {
            "inquiry_id": uuid.uuid4(),
            "registered_at": now,
            "channel": "phone",
            "inquirer_kind": "citizen",
            "topics": topics,
            "citizen_ref": citizen_ref or uuid.uuid4(),
        },
        producer="intake",
        correlation_id="test",
        occurred_at=now,
    )
