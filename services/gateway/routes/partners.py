"""partners' routes: the directory of partners and offers, and hand-offs with answers.

Partners answer their hand-offs at `POST /api/handoffs/<handoff_id>/answers` (with
their partner token) and list their own at `GET /api/partner/handoffs`; staff read the
hand-offs of a course, case or pathway, and the list of those awaiting an answer.
docs/partners.md is the partner developer's guide.
"""

from __future__ import annotations

from contracts.partners import PartnerHandoffView
from services.gateway.auth import Role
from services.gateway.routing import OPERATOR, rpc_route

# Every member of staff may look partners up (to refer, to consent, to follow up).
DIRECTORY_READERS = frozenset(set(Role) - {Role.PARTNER})
# Who may answer: the partner itself, Social Vejledning (§ 85 referrals), Fronten and a
# hand-off's responsible staff member (a tovholder for an offer referral) to cancel.
# The service decides which hand-off each may answer, and how.
ANSWERERS = frozenset({Role.PARTNER, Role.SOCIAL_VEJLEDNING, Role.FRONTEN, Role.TOVHOLDER})
# Staff who follow hand-offs; each sees those the service lets it know of.
HANDOFF_STAFF = frozenset({Role.FRONTEN, Role.SOCIAL_VEJLEDNING, Role.HOUSING_OFFICER,
                           Role.TOVHOLDER, Role.COORDINATOR})
PARTNER = frozenset({Role.PARTNER})

# What a partner is shown of a hand-off (contracts.partners.PartnerHandoffView): never
# the citizen reference, the subject, staff ids or the history.
PARTNER_HANDOFF_VIEW = (
    "handoff_id", "kind", "kind_text", "partner_id", "state", "state_text", "title", "ask",
    "requested_at", "answer_by", "contact", "details", "reason", "outcome", "outcome_text",
    "hold_until", "answered_at", "next_states", "outcomes",
)

_PARTNER = "/api/partners/<partner_id>"
_NO_UUID: tuple[str, ...] = ()  # partner ids are words, not UUIDs

ROUTES = [
    rpc_route("GET", "/api/partners", DIRECTORY_READERS, "partners", "list_partners",
              "The directory of partners and offers, by name. Filters: category, accepts "
              "(a hand-off kind), active. Page with `cursor`.",
              query=("cursor", "limit", "category", "accepts", "active")),
    rpc_route("POST", "/api/partners", OPERATOR, "partners", "register_partner", status=201),
    rpc_route("GET", _PARTNER, DIRECTORY_READERS, "partners", "get_partner",
              uuid_params=_NO_UUID),
    rpc_route("PATCH", _PARTNER, OPERATOR, "partners", "update_partner", uuid_params=_NO_UUID),
    rpc_route("POST", f"{_PARTNER}/deactivation", OPERATOR, "partners", "deactivate_partner",
              uuid_params=_NO_UUID),
    rpc_route("POST", "/api/handoffs/<handoff_id>/answers", ANSWERERS, "partners",
              "answer_handoff",
              "Answer a hand-off: received, accepted, declined (with `reason`), "
              "in_progress, completed (with `outcome`); a hold_termination accepted needs "
              "`hold_until`. A partner answers only its own hand-offs (another's is a "
              "404); Social Vejledning answers § 85 referrals; Fronten and the responsible "
              "staff member may cancel. A refused answer is a 400 naming `state` and the "
              "states allowed next.",
              owner="partner_id", partner_view=PARTNER_HANDOFF_VIEW,
              partner_result=PartnerHandoffView),
    rpc_route("GET", "/api/handoffs", HANDOFF_STAFF, "partners", "handoffs_of_subject",
              "The hand-offs of a course, case or pathway, with their history: those the "
              "caller may know of.", query=("subject_type", "subject_id")),
    rpc_route("GET", "/api/partner/handoffs", PARTNER, "partners", "partner_handoffs",
              "The partner's own hand-offs: open ones first by answer_by, then answered "
              "ones. Filter: state. Page with `cursor`.",
              query=("cursor", "limit", "state")),
    rpc_route("GET", "/api/partner/handoffs/<handoff_id>", PARTNER, "partners", "get_handoff",
              "One of the partner's own hand-offs; another's is a 404.",
              owner="partner_id", partner_view=PARTNER_HANDOFF_VIEW,
              partner_result=PartnerHandoffView),
    rpc_route("GET", "/api/worklists/handoffs/awaiting-answer", HANDOFF_STAFF, "partners",
              "handoffs_awaiting_answer",
              "Hand-offs no partner has answered yet, the oldest answer_by first: Fronten "
              "sees all, Social Vejledning its § 85 referrals, housing officers the hold "
              "requests, everyone those they are responsible for. Filters: kind, "
              "escalated_only. Page with `cursor`.",
              query=("cursor", "limit", "kind", "escalated_only")),
]
