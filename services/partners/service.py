"""partners: the directory of partners and offers, and hand-offs. Thin nameko entrypoints."""

from __future__ import annotations

from typing import Any

from contracts.partners import (
    AccessReportArgs,
    AnswerHandoffArgs,
    GetHandoffArgs,
    HandoffsAwaitingAnswerArgs,
    HandoffsOfSubjectArgs,
    ListPartnersArgs,
    PartnerArgs,
    PartnerHandoffsArgs,
    RegisterPartnerArgs,
    UpdatePartnerArgs,
)
from services.common.clock import Clock
from services.common.db import Database
from services.common.health import HealthServer
from services.common.messaging import consumes
from services.common.outbox import OutboxRelayRunner
from services.common.rpc import rpc, validated
from services.partners import directory, handoffs, messages
from services.partners.answers import answer_consumer
from services.partners.models import metadata
from services.partners.settings import DEFAULT_SWEEP_SECONDS, Settings, sweep_timer


@consumes(messages.EVENT_HANDLERS, context_attr="settings")
class PartnersService:
    name = "partners"

    db = Database(metadata)
    relay = OutboxRelayRunner()
    health = HealthServer()
    clock = Clock()
    settings = Settings()

    # ------------------------------------------------------------------ the directory

    @rpc
    @validated(RegisterPartnerArgs)
    def register_partner(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return directory.register_partner(uow, **args)

    @rpc
    @validated(UpdatePartnerArgs)
    def update_partner(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return directory.update_partner(uow, **args)

    @rpc
    @validated(PartnerArgs)
    def deactivate_partner(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return directory.deactivate_partner(uow, **args)

    @rpc
    @validated(PartnerArgs)
    def get_partner(self, **args: Any) -> dict[str, Any]:
        return directory.get_partner(self.db, **args)

    @rpc
    @validated(ListPartnersArgs)
    def list_partners(self, **args: Any) -> dict[str, Any]:
        return directory.list_partners(self.db, **args)

    # -------------------------------------------------------------------- hand-offs

    @rpc
    @validated(AnswerHandoffArgs)
    def answer_handoff(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handoffs.answer_handoff(uow, **args)

    @rpc
    @validated(GetHandoffArgs)
    def get_handoff(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handoffs.get_handoff(uow, **args)

    @rpc
    @validated(PartnerHandoffsArgs)
    def partner_handoffs(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handoffs.partner_handoffs(uow, **args)

    @rpc
    @validated(HandoffsAwaitingAnswerArgs)
    def handoffs_awaiting_answer(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handoffs.handoffs_awaiting_answer(uow, **args)

    @rpc
    @validated(HandoffsOfSubjectArgs)
    def handoffs_of_subject(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handoffs.handoffs_of_subject(uow, **args)

    @rpc
    @validated(AccessReportArgs)
    def access_report(self, **args: Any) -> list[Any]:
        with self.db.unit_of_work() as uow:
            return handoffs.access_report(uow, **args)

    # ------------------------------------------------------- answers on the broker

    @answer_consumer()
    def on_partner_answer(self, delivery: dict[str, Any]) -> None:
        handoffs.answer_from_queue(self.db, delivery)

    # -------------------------------------------------------------------- the clock

    @sweep_timer(interval=DEFAULT_SWEEP_SECONDS)
    def sweep(self) -> None:
        handoffs.sweep(self.db, self.clock.now())
