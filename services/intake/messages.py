"""intake's message map: every event it consumes, and the use case that handles it.

intake owns the citizen and Fronten's courses. It keeps two projections for
need-to-know and the consent vocabulary (services.intake.projections) and puts the
partners' answers to a course's hand-offs on the course
(docs/decisions/0012-every-event-reaches-someone.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.intake import handlers, projections

EVENT_HANDLERS: dict[str, Callable[..., Any]] = {
    # The partner directory: who a consent may name as its recipient.
    "partners.partner_registered": projections.partner_registered,
    # A partner answered a course's hand-off: the course's timeline; a completed § 85
    # referral records the course's § 85 outcome.
    "partners.handoff_updated": handlers.handoff_updated,
    # Pathway membership: who sees a citizen's name and contact (need-to-know).
    "coordination.pathway_opened": projections.pathway_opened,
    "coordination.tovholder_handed_over": projections.tovholder_handed_over,
    "coordination.member_added": projections.member_added,
    "coordination.membership_ended": projections.membership_ended,
    "coordination.pathway_closed": projections.pathway_closed,
}
