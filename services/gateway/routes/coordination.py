"""coordination's routes: pathways, teams, calendars, meetings, plans, offer referrals,
the worklists of coordinators, tovholdere and team members, the pathway statistics and
coordination's part of a citizen's access report.

The roles here are the first gate; need-to-know is decided in the service: a pathway
answers only its tovholder and team (and coordinators while it awaits a tovholder), and
as missing (404) to everyone else."""

from __future__ import annotations

from services.gateway.auth import Role
from services.gateway.routing import COORDINATORS, TOVHOLDER, rpc_route

_PATHWAY = "/api/pathways/<pathway_id>"
_WORKLIST = ("cursor", "limit")
# Pathways awaiting a tovholder are the coordinators' (who appoint tovholdere).
AWAITING_READERS = frozenset({Role.COORDINATOR})
# While a pathway awaits its tovholder, a coordinator gathers the team, appoints the
# tovholder or closes it; after that, the tovholder does.
TEAM_WRITERS = frozenset({Role.TOVHOLDER, Role.COORDINATOR})
# The citizen's request for insight is answered by Fronten; operators may read it too.
ACCESS_REPORT = frozenset({Role.FRONTEN, Role.OPERATOR})
# "My" lists answer for the caller only (the actor's id is the member id in teams), so
# every staff role that can sit in a team may ask.
TEAM_STAFF = frozenset({Role.TOVHOLDER, Role.FRONTEN, Role.COORDINATOR,
                        Role.SOCIAL_VEJLEDNING, Role.HOUSING_OFFICER})
PATHWAY_STATISTICS = frozenset({Role.OPERATOR, Role.FRONTEN, Role.COORDINATOR})

ROUTES = [
    rpc_route("POST", "/api/pathways", COORDINATORS, "coordination", "open_pathway",
              status=201),
    rpc_route("GET", "/api/pathways", COORDINATORS, "coordination", "find_pathway",
              "The citizen's open pathway, as a list of none or one; without citizen_ref, "
              "the caller's own open pathways.",
              query=("citizen_ref",), items=True),
    rpc_route("GET", _PATHWAY, COORDINATORS, "coordination", "get_pathway"),
    rpc_route("GET", f"{_PATHWAY}/timeline", COORDINATORS, "coordination", "timeline"),
    rpc_route("POST", f"{_PATHWAY}/team", TEAM_WRITERS, "coordination", "add_member",
              status=201),
    rpc_route("POST", f"{_PATHWAY}/team/housing-adviser", TOVHOLDER, "coordination",
              "add_housing_adviser", status=201),
    rpc_route("POST", f"{_PATHWAY}/team/<member_id>/end", TOVHOLDER, "coordination",
              "end_membership"),
    rpc_route("POST", f"{_PATHWAY}/network", TOVHOLDER, "coordination",
              "add_network_person", status=201),
    rpc_route("GET", f"{_PATHWAY}/network/<participant_id>/contact", COORDINATORS,
              "coordination", "get_participant_contact", query=("purpose",)),
    rpc_route("PUT", f"{_PATHWAY}/tovholder", TEAM_WRITERS, "coordination",
              "appoint_tovholder"),
    rpc_route("POST", f"{_PATHWAY}/tovholder/handover", TOVHOLDER, "coordination",
              "hand_over_tovholder"),
    rpc_route("POST", f"{_PATHWAY}/closure", TEAM_WRITERS, "coordination", "close_pathway"),
    rpc_route("POST", f"{_PATHWAY}/offer-referrals", TOVHOLDER, "coordination",
              "refer_to_offer", status=201),
    rpc_route("POST", f"{_PATHWAY}/handoffs/<handoff_id>/acknowledgement", TOVHOLDER,
              "coordination", "acknowledge_handoff"),
    rpc_route("PUT", f"{_PATHWAY}/preferences", TOVHOLDER, "coordination",
              "set_citizen_preferences"),
    rpc_route("GET", f"{_PATHWAY}/busy-times", TOVHOLDER, "coordination", "busy_times",
              query=("window_start", "window_end")),
    rpc_route("POST", f"{_PATHWAY}/slot-proposals", TOVHOLDER, "coordination",
              "propose_slots"),
    rpc_route("POST", f"{_PATHWAY}/meetings", TOVHOLDER, "coordination", "schedule_meeting",
              status=201),
    rpc_route("POST", "/api/meetings/<meeting_id>/reschedule", TOVHOLDER, "coordination",
              "reschedule_meeting"),
    rpc_route("POST", "/api/meetings/<meeting_id>/cancellation", TOVHOLDER, "coordination",
              "cancel_meeting"),
    rpc_route("POST", "/api/meetings/<meeting_id>/minutes", TOVHOLDER, "coordination",
              "record_meeting_held"),
    rpc_route("POST", f"{_PATHWAY}/plans", TOVHOLDER, "coordination", "draft_plan",
              status=201),
    rpc_route("GET", f"{_PATHWAY}/plans", COORDINATORS, "coordination", "list_plan_versions",
              etag="current_version"),
    # If-Match: "<version>" makes a revision based on an older version a 409 (no lost edit).
    rpc_route("PUT", f"{_PATHWAY}/plans/current", TOVHOLDER, "coordination", "revise_plan",
              if_match="base_version", etag="version"),
    rpc_route("GET", f"{_PATHWAY}/plans/<version>", COORDINATORS, "coordination",
              "get_plan_version"),
    rpc_route("POST", f"{_PATHWAY}/plans/<version>/agreement", TOVHOLDER, "coordination",
              "record_plan_agreement"),
    rpc_route("PUT", f"{_PATHWAY}/plans/current/actions/<action_id>/status", TOVHOLDER,
              "coordination", "set_action_status"),
    rpc_route("PUT", "/api/calendars/<member_id>/working-hours", TOVHOLDER, "coordination",
              "set_working_hours"),
    rpc_route("POST", "/api/calendars/<participant_id>/busy", TOVHOLDER, "coordination",
              "add_busy_block", status=201),
    rpc_route("PUT", "/api/calendars/<participant_id>/import", TOVHOLDER, "coordination",
              "import_calendar"),
    # -- worklists -------------------------------------------------------------------------
    rpc_route("GET", "/api/worklists/coordinators/awaiting-tovholder", AWAITING_READERS,
              "coordination", "awaiting_tovholder", query=(*_WORKLIST, "under_30")),
    rpc_route("GET", "/api/worklists/me/pathways", TEAM_STAFF, "coordination", "my_pathways",
              query=(*_WORKLIST, "role")),
    rpc_route("GET", "/api/worklists/me/meetings", TEAM_STAFF, "coordination", "my_meetings",
              query=(*_WORKLIST, "until")),
    rpc_route("GET", "/api/worklists/me/actions", TEAM_STAFF, "coordination", "my_actions",
              query=(*_WORKLIST, "overdue_only")),
    rpc_route("GET", "/api/worklists/me/housing-alerts", TEAM_STAFF, "coordination",
              "my_housing_alerts", query=(*_WORKLIST, "urgent_only")),
    rpc_route("GET", "/api/worklists/me/handoffs", TEAM_STAFF, "coordination",
              "my_handoffs", query=(*_WORKLIST, "attention")),
    rpc_route("GET", "/api/statistics/pathways", PATHWAY_STATISTICS, "coordination",
              "pathway_statistics", query=("period_start", "period_end")),
    # coordination's part of the access report (the gateway merges every service's at
    # /api/citizens/<citizen_ref>/access-report).
    rpc_route("GET", "/api/citizens/<citizen_ref>/access-report/coordination", ACCESS_REPORT,
              "coordination", "access_report", items=True),
]
