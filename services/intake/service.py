"""intake: Fronten's front door. Thin nameko entrypoints only."""

from __future__ import annotations

from typing import Any

from nameko.rpc import rpc

from contracts.intake import RegisterInquiryArgs
from services.common.clock import Clock
from services.common.db import Database
from services.common.outbox import OutboxRelayRunner
from services.common.rpc import validated
from services.intake import handlers
from services.intake.models import metadata


class IntakeService:
    name = "intake"

    db = Database(metadata)
    relay = OutboxRelayRunner()
    clock = Clock()

    @rpc
    @validated(RegisterInquiryArgs)
    def register_inquiry(self, actor: str, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.register_inquiry(uow, registered_by=actor, **args)
