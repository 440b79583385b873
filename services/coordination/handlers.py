"""coordination's use cases, as the service class and the reactions call them.

A facade: each use case lives in the module of its area under
services.coordination.usecases (that package's docstring lists them).
"""

from __future__ import annotations

from services.coordination.usecases.calendars import (
    add_busy_block,
    check_calendar_access,
    import_calendar,
    set_citizen_preferences,
    set_working_hours,
)
from services.coordination.usecases.handoffs import acknowledge_handoff, refer_to_offer
from services.coordination.usecases.meetings import (
    CITIZEN_LABEL,
    busy_times,
    cancel_meeting,
    propose_slots,
    record_meeting_held,
    reschedule_meeting,
    schedule_meeting,
)
from services.coordination.usecases.pathways import (
    add_housing_adviser,
    add_member,
    add_network_person,
    appoint_tovholder,
    close_pathway,
    end_membership,
    find_pathway,
    hand_over_tovholder,
    open_awaiting_tovholder,
    open_pathway,
    require_consent,
)
from services.coordination.usecases.plans import (
    announce_due_actions,
    draft_plan,
    no_plan,
    record_plan_agreement,
    revise_plan,
    set_action_status,
)
from services.coordination.usecases.shared import ACTIONS_DEADLINE, PURPOSES

__all__ = [
    "ACTIONS_DEADLINE",
    "CITIZEN_LABEL",
    "PURPOSES",
    "acknowledge_handoff",
    "add_busy_block",
    "add_housing_adviser",
    "add_member",
    "add_network_person",
    "announce_due_actions",
    "appoint_tovholder",
    "busy_times",
    "cancel_meeting",
    "check_calendar_access",
    "close_pathway",
    "draft_plan",
    "end_membership",
    "find_pathway",
    "hand_over_tovholder",
    "import_calendar",
    "no_plan",
    "open_awaiting_tovholder",
    "open_pathway",
    "propose_slots",
    "record_meeting_held",
    "record_plan_agreement",
    "refer_to_offer",
    "require_consent",
    "reschedule_meeting",
    "revise_plan",
    "schedule_meeting",
    "set_action_status",
    "set_citizen_preferences",
    "set_working_hours",
]
