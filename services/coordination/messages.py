"""coordination's message map: every event it consumes, and the use case that handles it.

The one place to read what reaches coordination from other services. The service class
gets one reliable, idempotent entrypoint per entry (services.common.messaging.consumes).
"""

from __future__ import annotations

from services.coordination import handlers

EVENT_HANDLERS = {
    "intake.inquiry_registered": handlers.record_inquiry,
    "intake.pathway_referral": handlers.on_pathway_referral,
    "intake.course_started": handlers.record_course_started,
    "intake.course_ended": handlers.record_course_ended,
    "housing.case_escalated": handlers.on_housing_case_escalated,
    "housing.case_closed": handlers.record_housing_case_closed,
}
