"""partners: the directory of partners and offers, and hand-offs. Thin nameko entrypoints."""

from __future__ import annotations

from services.common.clock import Clock
from services.common.db import Database
from services.common.health import HealthServer
from services.common.messaging import consumes
from services.common.outbox import OutboxRelayRunner
from services.partners import messages
from services.partners.models import metadata


@consumes(messages.EVENT_HANDLERS)
class PartnersService:
    name = "partners"

    db = Database(metadata)
    relay = OutboxRelayRunner()
    health = HealthServer()
    clock = Clock()
