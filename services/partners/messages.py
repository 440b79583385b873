"""partners' message map: every event it consumes, and the use case that handles it.

Hand-offs are made from four source events (bridging, § 85 referral, the housing
escalation that asks the association to hold a termination, the tovholder's referral
to an offer); a bridging cancellation cancels them; a new tovholder or a course's new
responsible staff member becomes the contact on the open ones; a case that comes down
the ladder or closes withdraws a hold request the association has not answered. Every handler is
``handler(uow, event, settings)``.

Answers from queue partners do not come as events: they arrive on the
`partners.answers` queue (services.partners.answers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.partners import handoffs

EVENT_HANDLERS: dict[str, Callable[..., Any]] = {
    "intake.bridging_due": handoffs.on_bridging_due,
    "intake.bridging_cancelled": handoffs.on_bridging_cancelled,
    "intake.referral_85_made": handoffs.on_referral_85_made,
    "intake.course_responsible_changed": handoffs.on_course_responsible_changed,
    "housing.case_escalated": handoffs.on_case_escalated,
    "housing.case_deescalated": handoffs.on_case_settled,
    "housing.case_closed": handoffs.on_case_settled,
    "coordination.offer_referral_requested": handoffs.on_offer_referral_requested,
    "coordination.tovholder_handed_over": handoffs.on_tovholder_handed_over,
}
