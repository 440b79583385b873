"""intake's routes: Fronten's inquiries, citizens, consent and courses, and the
worklists of Fronten, the review panel and Social Vejledning.

The roles here say who may ask at all; which citizen or course each one then sees is
decided in intake (services.intake.need_to_know): a record the caller may not see
answers 404 like a missing one. intake's `access_report` is answered through the
gateway's merged `GET /api/citizens/<citizen_ref>/access-report`."""

from __future__ import annotations

from services.gateway.auth import Role
from services.gateway.routing import FRONTEN, REVIEW_PANEL, STATISTICS, rpc_route

# Social Vejledning decides § 85 referrals; Fronten sees them and may feed back an outcome.
SOCIAL_VEJLEDNING_AND_FRONTEN = frozenset({Role.SOCIAL_VEJLEDNING, Role.FRONTEN})
# Who may read a course: Fronten, and the units that decide on it (the review panel,
# Social Vejledning), each from its own worklist.
COURSE_READERS = frozenset({Role.FRONTEN, Role.REVIEW_PANEL, Role.SOCIAL_VEJLEDNING})
# Who may ask for a citizen: Fronten; a tovholder or team member for the citizens of
# their pathways; Social Vejledning (§ 85) and the review panel (its agenda). How much
# each one sees is intake's decision.
CITIZEN_READERS = frozenset({Role.FRONTEN, Role.TOVHOLDER, Role.SOCIAL_VEJLEDNING,
                             Role.REVIEW_PANEL})
CONTACT_READERS = frozenset({Role.FRONTEN, Role.TOVHOLDER, Role.SOCIAL_VEJLEDNING})

_WORKLIST = ("cursor", "limit")
_COURSE_LIST = (*_WORKLIST, "kind", "mine")

ROUTES = [
    rpc_route("POST", "/api/inquiries", FRONTEN, "intake", "register_inquiry",
              "Register an inquiry (henvendelse) at Fronten.", status=201),
    rpc_route("GET", "/api/inquiries/<inquiry_id>", FRONTEN, "intake", "get_inquiry",
              query=("purpose",)),
    rpc_route("POST", "/api/inquiries/<inquiry_id>/resolution", FRONTEN, "intake",
              "resolve_inquiry"),
    rpc_route("POST", "/api/citizens", FRONTEN, "intake", "register_citizen", status=201),
    # CPR numbers go in bodies only: a search is a POST.
    rpc_route("POST", "/api/citizens/search", FRONTEN, "intake", "match_citizen"),
    rpc_route("GET", "/api/citizens/<citizen_ref>", CITIZEN_READERS, "intake", "get_citizen",
              query=("purpose", "show_cpr")),
    rpc_route("PATCH", "/api/citizens/<citizen_ref>", FRONTEN, "intake", "update_contact"),
    rpc_route("GET", "/api/citizens/<citizen_ref>/contact", CONTACT_READERS, "intake",
              "get_contact", query=("purpose",)),
    rpc_route("GET", "/api/citizens/<citizen_ref>/lookups", FRONTEN, "intake",
              "lookups_of_citizen", query=("purpose",), items=True),
    rpc_route("POST", "/api/citizens/<citizen_ref>/consents", FRONTEN, "intake",
              "give_consent", status=201),
    rpc_route("GET", "/api/citizens/<citizen_ref>/consents", FRONTEN, "intake",
              "list_consents", query=("purpose",), items=True),
    rpc_route("POST", "/api/consents/<consent_id>/withdrawal", FRONTEN, "intake",
              "withdraw_consent"),
    rpc_route("POST", "/api/consents/<consent_id>/correction", FRONTEN, "intake",
              "correct_consent"),
    rpc_route("GET", "/api/consent-vocabulary", FRONTEN, "intake", "consent_vocabulary"),
    rpc_route("POST", "/api/courses", FRONTEN, "intake", "start_course", status=201),
    rpc_route("GET", "/api/courses/<course_id>", COURSE_READERS, "intake", "get_course",
              query=("purpose",)),
    rpc_route("POST", "/api/courses/<course_id>/attendance", FRONTEN, "intake",
              "record_attendance"),
    rpc_route("POST", "/api/courses/<course_id>/follow-ups", FRONTEN, "intake",
              "record_follow_up"),
    rpc_route("PUT", "/api/courses/<course_id>/plan", FRONTEN, "intake", "revise_plan"),
    rpc_route("PUT", "/api/courses/<course_id>/bridging", FRONTEN, "intake", "plan_bridging"),
    rpc_route("POST", "/api/courses/<course_id>/review", FRONTEN, "intake", "request_review"),
    rpc_route("POST", "/api/courses/<course_id>/review/decision", REVIEW_PANEL, "intake",
              "decide_review"),
    rpc_route("POST", "/api/courses/<course_id>/extension", FRONTEN, "intake",
              "extend_course"),
    rpc_route("POST", "/api/courses/<course_id>/referral-85", FRONTEN, "intake",
              "refer_to_85"),
    rpc_route("POST", "/api/courses/<course_id>/referral-85/outcome",
              SOCIAL_VEJLEDNING_AND_FRONTEN, "intake", "record_referral_85_outcome"),
    rpc_route("POST", "/api/courses/<course_id>/ending/confirmation", FRONTEN, "intake",
              "confirm_course_ending"),
    rpc_route("POST", "/api/courses/<course_id>/ending/back-on-track", FRONTEN, "intake",
              "record_back_on_track"),
    rpc_route("POST", "/api/courses/<course_id>/end", FRONTEN, "intake", "end_course"),
    rpc_route("POST", "/api/courses/<course_id>/handover", FRONTEN, "intake",
              "hand_over_course"),
    rpc_route("POST", "/api/target-group-flags/<flag_id>/decision", FRONTEN, "intake",
              "decide_target_group_flag"),
    rpc_route("GET", "/api/statistics", STATISTICS, "intake", "statistics",
              query=("period_start", "period_end", "as_of")),
    # Worklists: GET, paginated with ?cursor= (the page's next_cursor) and ?limit=.
    rpc_route("GET", "/api/worklists/fronten/open-inquiries", FRONTEN, "intake",
              "worklist_open_inquiries", query=(*_WORKLIST, "channel", "inquirer_kind")),
    rpc_route("GET", "/api/worklists/fronten/follow-ups", FRONTEN, "intake",
              "worklist_follow_ups", query=_COURSE_LIST),
    rpc_route("GET", "/api/worklists/fronten/bridging", FRONTEN, "intake",
              "worklist_bridging", query=(*_COURSE_LIST, "partner_missing")),
    rpc_route("GET", "/api/worklists/fronten/end-overdue", FRONTEN, "intake",
              "worklist_end_overdue", query=_COURSE_LIST),
    rpc_route("GET", "/api/worklists/fronten/ending-proposed", FRONTEN, "intake",
              "worklist_ending_proposed", query=_COURSE_LIST),
    rpc_route("GET", "/api/worklists/fronten/outside-target-group", FRONTEN, "intake",
              "worklist_outside_target_group", query=(*_WORKLIST, "subject")),
    rpc_route("GET", "/api/worklists/fronten/consents-to-correct", FRONTEN, "intake",
              "worklist_consents_to_correct", query=_WORKLIST),
    rpc_route("GET", "/api/worklists/review-panel/agenda", REVIEW_PANEL, "intake",
              "worklist_review_agenda", query=(*_COURSE_LIST, "include_not_requested")),
    rpc_route("GET", "/api/worklists/social-vejledning/referrals-85",
              SOCIAL_VEJLEDNING_AND_FRONTEN, "intake", "worklist_referrals_85",
              query=(*_WORKLIST, "kind")),
]
