"""coordination: sammenhængende borgerforløb. Thin nameko entrypoints only.

Config keys of its own: `COORDINATION_SWEEP_SECONDS` (how often the action sweep
runs, default 60), `COORDINATION_ACTION_NOTICE_DAYS` (how many days before its
due date an action is announced as due, and shown as due, default 0: on the day) and
`COORDINATION_APPOINT_WITHIN_DAYS` (the service target for appointing a tovholder
after a referral, shown as the due date on the coordinators' list, default 14).
"""

from __future__ import annotations

from typing import Any

from nameko.dependency_providers import Config
from nameko.timer import Timer

from contracts import coordination as c
from services.common.clock import Clock
from services.common.db import Database
from services.common.health import HealthServer
from services.common.messaging import consumes
from services.common.outbox import OutboxRelayRunner
from services.common.rpc import rpc, validated
from services.coordination import feeds, handlers, messages, queries
from services.coordination.models import metadata


class ConfiguredTimer(Timer):
    """nameko's timer, its interval read from the config (`COORDINATION_SWEEP_SECONDS`)."""

    interval: float

    def setup(self) -> None:
        config = self.container.config
        self.interval = float(config.get("COORDINATION_SWEEP_SECONDS", self.interval))
        super().setup()


timer = ConfiguredTimer.decorator


@consumes(messages.EVENT_HANDLERS)
class CoordinationService:
    name = "coordination"

    db = Database(metadata)
    relay = OutboxRelayRunner()
    health = HealthServer()
    clock = Clock()

    config = Config()

    def _notice_days(self) -> int:
        return int(self.config.get("COORDINATION_ACTION_NOTICE_DAYS", 0))

    def _appoint_within_days(self) -> int:
        return int(self.config.get("COORDINATION_APPOINT_WITHIN_DAYS", 14))

    # -- the action sweep ----------------------------------------------------------------

    @timer(interval=60)
    def sweep_actions(self) -> None:
        handlers.announce_due_actions(self.db, self.clock.now(), notice_days=self._notice_days())

    # -- pathways and teams ----------------------------------------------------------------

    @rpc
    @validated(c.OpenPathwayArgs)
    def open_pathway(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.open_pathway(uow, **args)

    @rpc
    @validated(c.FindPathwayArgs)
    def find_pathway(
        self, actor: str, citizen_ref: Any
    ) -> dict[str, Any] | list[dict[str, Any]] | None:
        with self.db.unit_of_work() as uow:
            if citizen_ref is None:  # the caller's own pathways
                return queries.own_pathways(uow, actor=actor)
            return handlers.find_pathway(uow, actor=actor, citizen_ref=citizen_ref)

    @rpc
    @validated(c.GetPathwayArgs)
    def get_pathway(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return queries.get_pathway(uow, **args)

    @rpc
    @validated(c.TimelineArgs)
    def timeline(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return queries.timeline(uow, **args)

    @rpc
    @validated(c.AddMemberArgs)
    def add_member(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.add_member(uow, **args)

    @rpc
    @validated(c.AddHousingAdviserArgs)
    def add_housing_adviser(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.add_housing_adviser(uow, **args)

    @rpc
    @validated(c.EndMembershipArgs)
    def end_membership(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.end_membership(uow, **args)

    @rpc
    @validated(c.AddNetworkPersonArgs)
    def add_network_person(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.add_network_person(uow, **args)

    @rpc
    @validated(c.AppointTovholderArgs)
    def appoint_tovholder(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.appoint_tovholder(uow, **args)

    @rpc
    @validated(c.HandOverTovholderArgs)
    def hand_over_tovholder(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.hand_over_tovholder(uow, **args)

    @rpc
    @validated(c.ClosePathwayArgs)
    def close_pathway(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.close_pathway(uow, **args)

    # -- hand-offs -------------------------------------------------------------------------

    @rpc
    @validated(c.ReferToOfferArgs)
    def refer_to_offer(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.refer_to_offer(uow, **args)

    @rpc
    @validated(c.AcknowledgeHandoffArgs)
    def acknowledge_handoff(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.acknowledge_handoff(uow, **args)

    # -- calendars --------------------------------------------------------------------------

    @rpc
    @validated(c.SetWorkingHoursArgs)
    def set_working_hours(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.set_working_hours(uow, **args)

    @rpc
    @validated(c.AddBusyBlockArgs)
    def add_busy_block(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.add_busy_block(uow, **args)

    @rpc
    @validated(c.ImportCalendarArgs)
    def import_calendar(self, **args: Any) -> dict[str, Any]:
        feed_url = args.pop("feed_url")
        if feed_url is not None:  # fetched before the transaction: no I/O inside it
            with self.db.unit_of_work() as uow:  # ... and only for who may change it
                handlers.check_calendar_access(uow, args["actor"], args["participant_id"])
            args["calendar"] = feeds.fetch_feed(
                feed_url,
                timeout=float(self.config.get("CALENDAR_FEED_TIMEOUT_SECONDS", 10)),
                allow_http_loopback=bool(self.config.get("CALENDAR_FEED_ALLOW_LOOPBACK")),
            )
        with self.db.unit_of_work() as uow:
            return handlers.import_calendar(uow, **args)

    @rpc
    @validated(c.SetCitizenPreferencesArgs)
    def set_citizen_preferences(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.set_citizen_preferences(uow, **args)

    # -- meetings --------------------------------------------------------------------------

    @rpc
    @validated(c.BusyTimesArgs)
    def busy_times(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.busy_times(uow, **args)

    @rpc
    @validated(c.ProposeSlotsArgs)
    def propose_slots(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.propose_slots(uow, **args)

    @rpc
    @validated(c.ScheduleMeetingArgs)
    def schedule_meeting(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.schedule_meeting(uow, **args)

    @rpc
    @validated(c.RescheduleMeetingArgs)
    def reschedule_meeting(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.reschedule_meeting(uow, **args)

    @rpc
    @validated(c.CancelMeetingArgs)
    def cancel_meeting(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.cancel_meeting(uow, **args)

    @rpc
    @validated(c.RecordMeetingHeldArgs)
    def record_meeting_held(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.record_meeting_held(uow, **args)

    # -- the handleplan ------------------------------------------------------------------

    @rpc
    @validated(c.DraftPlanArgs)
    def draft_plan(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.draft_plan(uow, notice_days=self._notice_days(), **args)

    @rpc
    @validated(c.RevisePlanArgs)
    def revise_plan(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.revise_plan(uow, notice_days=self._notice_days(), **args)

    @rpc
    @validated(c.RecordPlanAgreementArgs)
    def record_plan_agreement(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.record_plan_agreement(uow, notice_days=self._notice_days(), **args)

    @rpc
    @validated(c.SetActionStatusArgs)
    def set_action_status(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.set_action_status(uow, notice_days=self._notice_days(), **args)

    @rpc
    @validated(c.ListPlanVersionsArgs)
    def list_plan_versions(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return queries.list_plan_versions(uow, **args)

    @rpc
    @validated(c.GetPlanVersionArgs)
    def get_plan_version(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return queries.get_plan_version(uow, **args)

    # -- network contacts (notifications asks at send time) -----------------------------

    @rpc
    @validated(c.GetParticipantContactArgs)
    def get_participant_contact(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return queries.get_participant_contact(uow, **args)

    # -- worklists --------------------------------------------------------------------------

    @rpc
    @validated(c.AwaitingTovholderArgs)
    def awaiting_tovholder(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return queries.awaiting_tovholder(
                uow, appoint_within_days=self._appoint_within_days(), **args)

    @rpc
    @validated(c.MyPathwaysArgs)
    def my_pathways(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return queries.my_pathways(uow, **args)

    @rpc
    @validated(c.MyMeetingsArgs)
    def my_meetings(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return queries.my_meetings(uow, **args)

    @rpc
    @validated(c.MyActionsArgs)
    def my_actions(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return queries.my_actions(uow, notice_days=self._notice_days(), **args)

    @rpc
    @validated(c.MyHousingAlertsArgs)
    def my_housing_alerts(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return queries.my_housing_alerts(uow, **args)

    @rpc
    @validated(c.MyHandoffsArgs)
    def my_handoffs(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return queries.my_handoffs(uow, **args)

    # -- the citizen's access report ------------------------------------------------------

    @rpc
    @validated(c.AccessReportArgs)
    def access_report(self, **args: Any) -> list[dict[str, Any]]:
        with self.db.unit_of_work() as uow:
            return queries.access_report(uow, **args)

    # -- statistics ----------------------------------------------------------------------------

    @rpc
    @validated(c.PathwayStatisticsArgs)
    def pathway_statistics(self, actor: str, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return queries.pathway_statistics(uow, **args)
