"""intake's routes: Fronten's inquiries, citizens, consent and courses."""

from __future__ import annotations

from services.gateway.routing import FRONTEN, STATISTICS, rpc_route

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
    rpc_route("GET", "/api/citizens/<citizen_ref>", FRONTEN, "intake", "get_citizen",
              query=("purpose", "show_cpr")),
    rpc_route("PATCH", "/api/citizens/<citizen_ref>", FRONTEN, "intake", "update_contact"),
    rpc_route("GET", "/api/citizens/<citizen_ref>/contact", FRONTEN, "intake", "get_contact",
              query=("purpose",)),
    rpc_route("GET", "/api/citizens/<citizen_ref>/lookups", FRONTEN, "intake",
              "lookups_of_citizen", query=("purpose",), items=True),
    rpc_route("POST", "/api/citizens/<citizen_ref>/consents", FRONTEN, "intake",
              "give_consent", status=201),
    rpc_route("GET", "/api/citizens/<citizen_ref>/consents", FRONTEN, "intake",
              "list_consents", query=("purpose",), items=True),
    rpc_route("POST", "/api/consents/<consent_id>/withdrawal", FRONTEN, "intake",
              "withdraw_consent"),
    rpc_route("POST", "/api/courses", FRONTEN, "intake", "start_course", status=201),
    rpc_route("GET", "/api/courses/<course_id>", FRONTEN, "intake", "get_course",
              query=("purpose",)),
    rpc_route("POST", "/api/courses/<course_id>/attendance", FRONTEN, "intake",
              "record_attendance"),
    rpc_route("PUT", "/api/courses/<course_id>/plan", FRONTEN, "intake", "revise_plan"),
    rpc_route("PUT", "/api/courses/<course_id>/bridging", FRONTEN, "intake", "plan_bridging"),
    rpc_route("POST", "/api/courses/<course_id>/review", FRONTEN, "intake", "request_review"),
    rpc_route("POST", "/api/courses/<course_id>/review/decision", FRONTEN, "intake",
              "decide_review"),
    rpc_route("POST", "/api/courses/<course_id>/extension", FRONTEN, "intake",
              "extend_course"),
    rpc_route("POST", "/api/courses/<course_id>/referral-85", FRONTEN, "intake",
              "refer_to_85"),
    rpc_route("POST", "/api/courses/<course_id>/referral-85/outcome", FRONTEN, "intake",
              "record_referral_85_outcome"),
    rpc_route("POST", "/api/courses/<course_id>/end", FRONTEN, "intake", "end_course"),
    rpc_route("GET", "/api/statistics", STATISTICS, "intake", "statistics",
              query=("period_start", "period_end", "as_of")),
]
