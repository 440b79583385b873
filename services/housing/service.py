"""housing: rent-arrears cases on the legal clock. Thin nameko entrypoints only."""

from __future__ import annotations

import uuid
from typing import Any

from nameko.dependency_providers import Config

from contracts.housing import (
    AccessReportArgs,
    ApplyForHelpArgs,
    AssociationCasesArgs,
    AssociationReportArgs,
    CaseArgs,
    CaseWorklistArgs,
    CloseCaseArgs,
    GrantHelpArgs,
    RefusedReportsArgs,
    RegisterAssociationArgs,
    RegisterTerminationArgs,
    ReportArrearsArgs,
    SetEvictionDateArgs,
)
from services.common.clock import Clock
from services.common.db import Database
from services.common.health import HealthServer
from services.common.messaging import consumes
from services.common.outbox import OutboxRelayRunner
from services.common.rpc import RpcProxy, rpc, validated
from services.housing import handlers, messages
from services.housing.intake_client import DEFAULT_TIMEOUT_SECONDS, IntakeMatcher
from services.housing.models import metadata
from services.housing.settings import DEFAULT_SWEEP_SECONDS, Settings, sweep_timer


@consumes(messages.EVENT_HANDLERS, context_attr="settings")
class HousingService:
    name = "housing"

    db = Database(metadata)
    relay = OutboxRelayRunner()
    health = HealthServer()
    clock = Clock()
    settings = Settings()
    config = Config()
    intake = RpcProxy("intake")

    # -------------------------------------------------------------- partners, reports

    @rpc
    @validated(RegisterAssociationArgs)
    def register_association(self, actor: str, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.register_association(uow, actor=actor, **args)

    @rpc
    @validated(ReportArrearsArgs)
    def report_arrears(self, actor: str, **args: Any) -> dict[str, Any]:
        # A hung intake must not pin this worker after the gateway has given up.
        timeout = float(self.config.get("HOUSING_INTAKE_TIMEOUT_SECONDS")
                        or DEFAULT_TIMEOUT_SECONDS)
        matcher = IntakeMatcher(self.intake, timeout=timeout)
        return handlers.report_arrears(self.db, self.settings, matcher, actor=actor, **args)

    @rpc
    @validated(CaseArgs)
    def get_case(self, actor: str, case_id: uuid.UUID) -> dict[str, Any]:
        return handlers.get_case(self.db, self.settings, actor=actor, case_id=case_id)

    @rpc
    @validated(AssociationReportArgs)
    def association_report(self, actor: str, **args: Any) -> dict[str, Any]:
        return handlers.report_for_association(self.db, self.settings, actor=actor, **args)

    @rpc
    @validated(CaseWorklistArgs)
    def case_worklist(self, actor: str, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.case_worklist(uow, self.settings, actor=actor, **args)

    @rpc
    @validated(AssociationCasesArgs)
    def association_cases(self, actor: str, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.association_cases(uow, self.settings, actor=actor, **args)

    @rpc
    @validated(RefusedReportsArgs)
    def refused_reports(self, actor: str, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.refused_reports(uow, actor=actor, **args)

    @rpc
    @validated(AccessReportArgs)
    def access_report(self, actor: str, citizen_ref: uuid.UUID) -> list[dict[str, Any]]:
        with self.db.unit_of_work() as uow:
            return handlers.access_report(uow, actor=actor, citizen_ref=citizen_ref)

    # ------------------------------------------------------------------ the ladder

    def _command(self, command: str, **args: Any) -> dict[str, Any]:
        return handlers.run_command(self.db, self.settings, command, **args)

    @rpc
    @validated(CaseArgs)
    def record_contact(self, **args: Any) -> dict[str, Any]:
        return self._command("record_contact", **args)

    @rpc
    @validated(CaseArgs)
    def propose_payment_plan(self, **args: Any) -> dict[str, Any]:
        return self._command("propose_payment_plan", **args)

    @rpc
    @validated(CaseArgs)
    def agree_payment_plan(self, **args: Any) -> dict[str, Any]:
        return self._command("agree_payment_plan", **args)

    @rpc
    @validated(CaseArgs)
    def break_payment_plan(self, **args: Any) -> dict[str, Any]:
        return self._command("break_payment_plan", **args)

    @rpc
    @validated(ApplyForHelpArgs)
    def apply_for_help(self, **args: Any) -> dict[str, Any]:
        return self._command("apply_for_help", **args)

    @rpc
    @validated(GrantHelpArgs)
    def grant_help(self, **args: Any) -> dict[str, Any]:
        return self._command("grant_help", **args)

    @rpc
    @validated(CaseArgs)
    def refuse_help(self, **args: Any) -> dict[str, Any]:
        return self._command("refuse_help", **args)

    @rpc
    @validated(RegisterTerminationArgs)
    def register_termination(self, **args: Any) -> dict[str, Any]:
        return self._command("register_termination", **args)

    @rpc
    @validated(SetEvictionDateArgs)
    def set_eviction_date(self, **args: Any) -> dict[str, Any]:
        return self._command("set_eviction_date", **args)

    @rpc
    @validated(CaseArgs)
    def withdraw_termination(self, **args: Any) -> dict[str, Any]:
        return self._command("withdraw_termination", **args)

    @rpc
    @validated(CaseArgs)
    def resolve_eviction(self, **args: Any) -> dict[str, Any]:
        return self._command("resolve_eviction", **args)

    @rpc
    @validated(CaseArgs)
    def record_emergency_housing_plan(self, **args: Any) -> dict[str, Any]:
        return self._command("record_emergency_housing_plan", **args)

    @rpc
    @validated(CaseArgs)
    def record_paid_in_full(self, **args: Any) -> dict[str, Any]:
        return self._command("record_paid_in_full", **args)

    @rpc
    @validated(CloseCaseArgs)
    def close_case(self, **args: Any) -> dict[str, Any]:
        return self._command("close_case", **args)

    # ------------------------------------------------------------------- the clock

    @sweep_timer(interval=DEFAULT_SWEEP_SECONDS)
    def sweep(self) -> None:
        handlers.sweep(self.db, self.settings, self.clock.now())
