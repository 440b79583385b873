"""intake: Fronten's front door. Thin nameko entrypoints only.

Every RPC takes keyword arguments validated by its schema in contracts/intake.py;
bad input raises InvalidInput naming the field and the rule, before anything is
written. The use cases are in handlers.py.
"""

from __future__ import annotations

from typing import Any

from contracts import intake as contract
from services.common.clock import Clock
from services.common.db import Database
from services.common.health import HealthServer
from services.common.messaging import consumes
from services.common.outbox import OutboxRelayRunner
from services.common.rpc import rpc, validated
from services.intake import handlers, messages, worklists
from services.intake.dependencies import Context, sweep_timer
from services.intake.models import metadata


@consumes(messages.EVENT_HANDLERS)
class IntakeService:
    name = "intake"

    db = Database(metadata)
    relay = OutboxRelayRunner()
    health = HealthServer()
    clock = Clock()
    ctx = Context()

    # --- inquiries ---------------------------------------------------------------

    @rpc
    @validated(contract.RegisterInquiryArgs)
    def register_inquiry(self, actor: str, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.register_inquiry(uow, registered_by=actor, **args)

    @rpc
    @validated(contract.ResolveInquiryArgs)
    def resolve_inquiry(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.resolve_inquiry(uow, self.ctx, **args)

    @rpc
    @validated(contract.GetInquiryArgs)
    def get_inquiry(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.get_inquiry(uow, **args)

    # --- citizens ----------------------------------------------------------------

    @rpc
    @validated(contract.RegisterCitizenArgs)
    def register_citizen(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.register_citizen(uow, self.ctx, **args)

    @rpc
    @validated(contract.UpdateContactArgs)
    def update_contact(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.update_contact(uow, **args)

    @rpc
    @validated(contract.GetCitizenArgs)
    def get_citizen(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.get_citizen(uow, self.ctx, **args)

    @rpc
    @validated(contract.GetContactArgs)
    def get_contact(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.get_contact(uow, **args)

    @rpc
    @validated(contract.MatchCitizenArgs)
    def match_citizen(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.match_citizen(uow, self.ctx, **args)

    @rpc
    @validated(contract.LookupsOfCitizenArgs)
    def lookups_of_citizen(self, **args: Any) -> list[dict[str, Any]]:
        with self.db.unit_of_work() as uow:
            return handlers.lookups_of_citizen(uow, **args)

    @rpc
    @validated(contract.AccessReportArgs)
    def access_report(self, **args: Any) -> list[dict[str, Any]]:
        with self.db.unit_of_work() as uow:
            return handlers.access_report(uow, **args)

    # --- consent -----------------------------------------------------------------

    @rpc
    @validated(contract.GiveConsentArgs)
    def give_consent(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.give_consent(uow, **args)

    @rpc
    @validated(contract.WithdrawConsentArgs)
    def withdraw_consent(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.withdraw_consent(uow, **args)

    @rpc
    @validated(contract.ListConsentsArgs)
    def list_consents(self, **args: Any) -> list[dict[str, Any]]:
        with self.db.unit_of_work() as uow:
            return handlers.list_consents(uow, **args)

    @rpc
    @validated(contract.CorrectConsentArgs)
    def correct_consent(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.correct_consent(uow, **args)

    @rpc
    @validated(contract.ConsentVocabularyArgs)
    def consent_vocabulary(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.consent_vocabulary(uow, **args)

    # --- courses -----------------------------------------------------------------

    @rpc
    @validated(contract.StartCourseArgs)
    def start_course(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.start_course(uow, self.ctx, **args)

    @rpc
    @validated(contract.GetCourseArgs)
    def get_course(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.get_course(uow, **args)

    @rpc
    @validated(contract.RecordAttendanceArgs)
    def record_attendance(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.record_attendance(uow, **args)

    @rpc
    @validated(contract.RevisePlanArgs)
    def revise_plan(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.revise_plan(uow, **args)

    @rpc
    @validated(contract.PlanBridgingArgs)
    def plan_bridging(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.plan_bridging(uow, **args)

    @rpc
    @validated(contract.RequestReviewArgs)
    def request_review(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.request_review(uow, **args)

    @rpc
    @validated(contract.DecideReviewArgs)
    def decide_review(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.decide_review(uow, ctx=self.ctx, **args)

    @rpc
    @validated(contract.ExtendCourseArgs)
    def extend_course(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.extend_course(uow, **args)

    @rpc
    @validated(contract.ReferTo85Args)
    def refer_to_85(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.refer_to_85(uow, ctx=self.ctx, **args)

    @rpc
    @validated(contract.RecordReferral85OutcomeArgs)
    def record_referral_85_outcome(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.record_referral_85_outcome(uow, **args)

    @rpc
    @validated(contract.EndCourseArgs)
    def end_course(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.end_course(uow, **args)

    @rpc
    @validated(contract.ConfirmCourseEndingArgs)
    def confirm_course_ending(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.confirm_course_ending(uow, **args)

    @rpc
    @validated(contract.RecordBackOnTrackArgs)
    def record_back_on_track(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.record_back_on_track(uow, **args)

    @rpc
    @validated(contract.RecordFollowUpArgs)
    def record_follow_up(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.record_follow_up(uow, **args)

    @rpc
    @validated(contract.HandOverCourseArgs)
    def hand_over_course(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.hand_over_course(uow, **args)

    @rpc
    @validated(contract.DecideTargetGroupFlagArgs)
    def decide_target_group_flag(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return handlers.decide_target_group_flag(uow, **args)

    @sweep_timer
    def sweep_course_deadlines(self) -> None:
        """Fire course deadlines that are due, and tell the consent gates the words of
        consents the migration mapped (interval: config INTAKE_SWEEP_SECONDS)."""
        handlers.announce_mapped_consents(self.db)
        handlers.sweep_course_deadlines(self.db, self.clock.now())

    # --- worklists (services/intake/worklists.py) ----------------------------------

    @rpc
    @validated(contract.OpenInquiriesArgs)
    def worklist_open_inquiries(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return worklists.open_inquiries(uow, self.ctx, **args)

    @rpc
    @validated(contract.FollowUpsArgs)
    def worklist_follow_ups(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return worklists.follow_ups(uow, **args)

    @rpc
    @validated(contract.BridgingArgs)
    def worklist_bridging(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return worklists.bridging(uow, **args)

    @rpc
    @validated(contract.ReviewAgendaArgs)
    def worklist_review_agenda(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return worklists.review_agenda(uow, **args)

    @rpc
    @validated(contract.EndOverdueArgs)
    def worklist_end_overdue(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return worklists.end_overdue(uow, **args)

    @rpc
    @validated(contract.EndingProposedArgs)
    def worklist_ending_proposed(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return worklists.ending_proposed(uow, **args)

    @rpc
    @validated(contract.Referrals85Args)
    def worklist_referrals_85(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return worklists.referrals_85(uow, self.ctx, **args)

    @rpc
    @validated(contract.OutsideTargetGroupArgs)
    def worklist_outside_target_group(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return worklists.outside_target_group(uow, **args)

    @rpc
    @validated(contract.ConsentsToCorrectArgs)
    def worklist_consents_to_correct(self, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return worklists.consents_to_correct(uow, **args)

    # --- statistics --------------------------------------------------------------

    @rpc
    @validated(contract.StatisticsArgs)
    def statistics(self, actor: str, **args: Any) -> dict[str, Any]:
        return handlers.statistics_report(self.db, **args)
