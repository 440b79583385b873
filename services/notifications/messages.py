"""notifications' message map: every event it consumes, and the use case that handles it.

Events that cause deliveries are planned into the delivery ledger (`record_event`, with
the service's delivery settings): who receives what is in the routing rules (data,
docs/notifications.md) and ADR 0012. Bridging and its cancellation also keep the
announcement, so that a cancellation reaches exactly the partners who were told.
Hand-offs are not routed by rules: each names its partner (services.notifications.
handoffs). Consent events, the partner directory and housing's case events feed the
consent gate's projections; a consent given looks again at what it blocked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.notifications import handlers

# Each handler is called as handler(uow, event, settings): see NotificationsService.
EVENT_HANDLERS: dict[str, Callable[..., Any]] = {
    # Fronten's courses: the teams' mailboxes, and the partner told about bridging. The
    # § 85 referral reaches Social Vejledning as its hand-off (partners.handoff_requested);
    # its own rule was removed by migration 0004 (an operator may add one back).
    "intake.referral_85_made": handlers.record_event,
    "intake.course_review_requested": handlers.record_event,  # the review panel
    "intake.course_ending_proposed": handlers.record_event,  # Fronten decides
    "intake.bridging_due": handlers.bridging_due,
    "intake.bridging_cancelled": handlers.bridging_cancelled,
    "intake.consent_given": handlers.consent_given,  # and blocked deliveries looked at again
    "intake.consent_withdrawn": handlers.consent_withdrawn,
    # Pathways: coordinators, the citizen, the tovholder, the team, network persons.
    "coordination.pathway_opened": handlers.record_event,  # coordinators, if no tovholder
    "coordination.pathway_closed": handlers.record_event,
    "coordination.tovholder_handed_over": handlers.record_event,
    "coordination.member_added": handlers.record_event,
    "coordination.meeting_scheduled": handlers.record_event,
    "coordination.meeting_rescheduled": handlers.record_event,
    "coordination.meeting_cancelled": handlers.record_event,
    "coordination.action_due": handlers.record_event,
    "coordination.action_overdue": handlers.record_event,
    "coordination.housing_escalation_noted": handlers.record_event,  # the tovholder
    "coordination.housing_warning_noted": handlers.record_event,  # the tovholder
    # Housing: the association's statements; Fronten; the housing officers' mailbox. The
    # case events also tell whose home a case is about (the tenant's consent lets the
    # association's statements out).
    "housing.case_opened": handlers.arrears_case_event,  # the tenant of the case
    "housing.case_escalated": handlers.arrears_case_event,
    "housing.case_deescalated": handlers.arrears_case_event,
    "housing.partner_status": handlers.record_event,
    "housing.warning_flagged": handlers.arrears_case_event,
    "housing.action_overdue": handlers.arrears_case_event,
    # Partners: hand-offs to the partner they name (or Social Vejledning's mailbox), their
    # updates where the request went, unanswered ones to the person responsible; the
    # directory, for the silent-subscription worklist.
    "partners.handoff_requested": handlers.handoff_requested,
    "partners.handoff_updated": handlers.handoff_updated,
    "partners.handoff_escalated": handlers.record_event,
    "partners.partner_registered": handlers.partner_registered,
}
