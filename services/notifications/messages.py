"""notifications' message map: every event it consumes, and the use case that handles it.

Events that cause deliveries are planned into the delivery ledger (`record_event`, with
the service's delivery settings); consent events feed the consent gate's projection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.notifications import handlers

# Each handler is called as handler(uow, event, settings): see NotificationsService.
EVENT_HANDLERS: dict[str, Callable[..., Any]] = {
    "coordination.meeting_scheduled": handlers.record_event,
    "coordination.meeting_rescheduled": handlers.record_event,
    "coordination.meeting_cancelled": handlers.record_event,
    "coordination.tovholder_handed_over": handlers.record_event,
    "coordination.action_due": handlers.record_event,
    "housing.case_escalated": handlers.record_event,
    "housing.partner_status": handlers.record_event,
    "intake.bridging_due": handlers.record_event,
    "intake.consent_given": handlers.consent_given,
    "intake.consent_withdrawn": handlers.consent_withdrawn,
}
