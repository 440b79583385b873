"""coordination: sammenhængende borgerforløb. Thin nameko entrypoints only."""

from __future__ import annotations

from contracts.envelope import Envelope
from services.common.clock import Clock
from services.common.db import Database, UnitOfWork
from services.common.messaging import inbox_handler
from services.common.outbox import OutboxRelayRunner
from services.coordination import handlers
from services.coordination.models import metadata


class CoordinationService:
    name = "coordination"

    db = Database(metadata)
    relay = OutboxRelayRunner()
    clock = Clock()

    @inbox_handler("intake", "intake.inquiry_registered")
    def on_inquiry_registered(self, uow: UnitOfWork, event: Envelope) -> None:
        handlers.record_inquiry(uow, event)
