"""notifications' routes: routing rules, subscriptions, legal bases, deliveries, the
operators' silent-subscription worklist, and notifications' part of a citizen's access
report."""

from __future__ import annotations

from services.gateway.auth import Role
from services.gateway.routing import OPERATOR, rpc_route

# Fronten answers a citizen's request for insight; operators may help.
ACCESS_REPORT = frozenset({Role.FRONTEN, Role.OPERATOR})

ROUTES = [
    rpc_route("GET", "/api/routing-rules", OPERATOR, "notifications", "list_routing_rules",
              query=("event_type",), items=True),
    rpc_route("POST", "/api/routing-rules", OPERATOR, "notifications", "add_routing_rule",
              status=201),
    rpc_route("DELETE", "/api/routing-rules/<rule_id>", OPERATOR, "notifications",
              "remove_routing_rule"),
    rpc_route("GET", "/api/subscriptions", OPERATOR, "notifications", "list_subscriptions",
              query=("partner_id",), items=True),
    rpc_route("POST", "/api/subscriptions", OPERATOR, "notifications", "add_subscription",
              status=201),
    rpc_route("DELETE", "/api/subscriptions/<subscription_id>", OPERATOR, "notifications",
              "remove_subscription"),
    rpc_route("POST", "/api/subscriptions/<subscription_id>/secret-rotations", OPERATOR,
              "notifications", "rotate_subscription_secret",
              "Give a webhook subscription a new secret (answered once); deliveries are "
              "signed with both until the overlap ends (`overlap_hours`).", status=201),
    rpc_route("DELETE", "/api/subscriptions/<subscription_id>/previous-secret", OPERATOR,
              "notifications", "retire_previous_secret",
              "End a rotation's overlap now: only the new secret signs from here."),
    rpc_route("GET", "/api/legal-bases", OPERATOR, "notifications", "list_legal_bases",
              items=True),
    rpc_route("POST", "/api/legal-bases", OPERATOR, "notifications", "add_legal_basis",
              status=201),
    rpc_route("GET", "/api/deliveries", OPERATOR, "notifications", "list_deliveries",
              query=("status", "channel", "recipient_kind", "event_type", "message_id",
                     "subscription_id", "limit"), items=True),
    rpc_route("POST", "/api/deliveries/<delivery_id>/retry", OPERATOR, "notifications",
              "retry_delivery"),
    rpc_route("GET", "/api/worklists/operators/silent-subscriptions", OPERATOR,
              "notifications", "silent_subscriptions",
              "The operators' worklist: partner subscriptions that can deliver nothing "
              "(everything blocked by the consent gate, partner not in the directory or "
              "deactivated, nothing routed to it), most urgent first. Page with `cursor`.",
              query=("cursor", "limit")),
    rpc_route("GET", "/api/citizens/<citizen_ref>/access-report/notifications",
              ACCESS_REPORT, "notifications", "access_report",
              "notifications' part of the citizen's access report: what was passed on to "
              "partners (when, to whom, why, on which basis) and who read it here.",
              items=True),
]
