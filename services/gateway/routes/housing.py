"""housing's routes: associations and rent-arrears cases.

Need-to-know is decided in the housing service (services/housing/visibility.py): the
route roles below only keep out the roles that may never call a method. A case the
caller may not see answers 404 exactly like a missing one.
"""

from __future__ import annotations

from contracts.housing import PARTNER_CASE_FIELDS, PartnerCaseView
from services.gateway.auth import Role
from services.gateway.routing import (
    ASSOCIATION_REPORT,
    CASE_READERS,
    HOUSING_STAFF,
    OPERATOR,
    REPORTERS,
    rpc_route,
)

# What a housing association sees of an arrears case: typed status and dates, its own
# tenancy reference, never the citizen, the amount, flags or the staff's notes (ADR 0007).
# The service answers a partner with this view already; the gateway narrows it again.
PARTNER_CASE_VIEW = PARTNER_CASE_FIELDS

PARTNER = frozenset({Role.PARTNER})
# The audit of refused association reports: the officers follow the tenants at risk,
# the operators keep the register of tenancies.
REFUSED_REPORTS = frozenset({Role.HOUSING_OFFICER, Role.OPERATOR})
# A citizen's request for insight is answered by Fronten (operators may help).
ACCESS_REPORT = frozenset({Role.FRONTEN, Role.OPERATOR})


# The housing officers follow the cases; Fronten owns the cases of citizens without a
# tovholder. Partners never see the list (each association sees its own cases one by one).
CASE_WORKLIST = frozenset({Role.HOUSING_OFFICER, Role.FRONTEN})

_CASE = "/api/housing/cases/<case_id>"
ROUTES = [
    rpc_route("GET", "/api/worklists/housing/cases", CASE_WORKLIST, "housing",
              "case_worklist",
              "The housing officers' worklist: arrears cases where § 81 a help would come "
              "after the påkrav deadline first, then by the nearest deadline. Filters: "
              "status (open, closed), level, association_id. Page with `cursor`.",
              query=("cursor", "limit", "status", "level", "association_id")),
    rpc_route("GET", "/api/worklists/housing/refused-reports", REFUSED_REPORTS, "housing",
              "refused_reports",
              "Reports of rent arrears refused because the tenancy is not registered to the "
              "reporting housing association, newest first: register the tenancy, or open "
              "the case from Fronten. Page with `cursor`.",
              query=("cursor", "limit")),
    # -- for the housing associations (partners) -----------------------------------------
    rpc_route("GET", "/api/partner/cases", PARTNER, "housing", "association_cases",
              "Your association's own rent-arrears cases: open cases first by the date that "
              "matters to you (until when you are asked to hold the ophævelse, the "
              "udsættelse date, your påkrav deadline), or the closed ones (status=closed). "
              "Page with `cursor`.",
              query=("cursor", "limit", "status")),
    rpc_route("GET", "/api/partner/cases/<case_id>", PARTNER, "housing", "get_case",
              "One of your association's cases: its status and dates (never the tenant). "
              "Another association's case answers 404, as a missing one.",
              owner="association_id", partner_view=PARTNER_CASE_VIEW,
              partner_result=PartnerCaseView),
    rpc_route("GET", "/api/housing/citizens/<citizen_ref>/access-report", ACCESS_REPORT,
              "housing", "access_report",
              "Who read, changed or passed on the citizen's data in housing, when and why. "
              "The whole system's report is /api/citizens/<citizen_ref>/access-report.",
              items=True),
    rpc_route("POST", "/api/housing/associations", OPERATOR, "housing",
              "register_association"),
    rpc_route("GET", "/api/housing/associations/<association_id>/report", ASSOCIATION_REPORT,
              "housing", "association_report", query=("start", "end"),
              partner_scope="association_id"),
    rpc_route("POST", "/api/housing/cases", REPORTERS, "housing", "report_arrears",
              "Report rent arrears for a tenancy (a second report for a tenancy with an "
              "open case updates it). A partner reports for its own association only.",
              status=201, partner_scope="association_id", owner="association_id",
              partner_view=PARTNER_CASE_VIEW, partner_result=PartnerCaseView),
    rpc_route("GET", _CASE, CASE_READERS, "housing", "get_case",
              "An arrears case; a partner sees only its own association's cases, and only "
              "their status.", owner="association_id", partner_view=PARTNER_CASE_VIEW,
              partner_result=PartnerCaseView),
    *[rpc_route("POST", f"{_CASE}/{suffix}", HOUSING_STAFF, "housing", method)
      for suffix, method in (
          ("contact", "record_contact"),
          ("payment-plan/proposal", "propose_payment_plan"),
          ("payment-plan/agreement", "agree_payment_plan"),
          ("payment-plan/breach", "break_payment_plan"),
          ("help", "apply_for_help"),
          ("help/grant", "grant_help"),
          ("help/refusal", "refuse_help"),
          ("termination", "register_termination"),
          ("termination/withdrawal", "withdraw_termination"),
          ("eviction-date", "set_eviction_date"),
          ("eviction/resolution", "resolve_eviction"),
          ("emergency-housing-plan", "record_emergency_housing_plan"),
          ("paid-in-full", "record_paid_in_full"),
          ("closure", "close_case"),
      )],
]
