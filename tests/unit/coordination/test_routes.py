"""coordination's HTTP routes: every RPC has one, worklists take a cursor and a limit,
and the worklists and statistics are open to the roles that use them."""

from __future__ import annotations

import pytest

from contracts import registry
from services.gateway.auth import Role
from services.gateway.routes.coordination import ROUTES

BY_RPC = {r.rpc: r for r in ROUTES}


def test_every_coordination_rpc_has_a_route():
    assert {c.method for c in registry.rpcs() if c.service == "coordination"} == set(BY_RPC)


@pytest.mark.parametrize(("rpc", "path", "filters"), [
    ("awaiting_tovholder", "/api/worklists/coordinators/awaiting-tovholder", ("under_30",)),
    ("my_pathways", "/api/worklists/me/pathways", ("role",)),
    ("my_meetings", "/api/worklists/me/meetings", ("until",)),
    ("my_actions", "/api/worklists/me/actions", ("overdue_only",)),
    ("my_housing_alerts", "/api/worklists/me/housing-alerts", ("urgent_only",)),
    ("my_handoffs", "/api/worklists/me/handoffs", ("attention",)),
])
def test_worklists_are_gets_with_a_cursor_a_limit_and_their_filters(rpc, path, filters):
    route = BY_RPC[rpc]
    assert (route.method, route.path) == ("GET", path)
    assert route.query == ("cursor", "limit", *filters)
    args = registry.rpc_contract("coordination", rpc).args().fields
    assert set(route.query) <= set(args)


def test_the_coordinators_list_is_for_coordinators_only():
    assert BY_RPC["awaiting_tovholder"].roles == {Role.COORDINATOR}
    assert Role.PARTNER not in BY_RPC["my_pathways"].roles
    assert BY_RPC["pathway_statistics"].path == "/api/statistics/pathways"
    assert BY_RPC["pathway_statistics"].query == ("period_start", "period_end")


def test_plan_versions_and_network_contacts_are_readable():
    assert (BY_RPC["get_plan_version"].method, BY_RPC["get_plan_version"].path) == (
        "GET", "/api/pathways/<pathway_id>/plans/<version>")
    assert BY_RPC["list_plan_versions"].path == "/api/pathways/<pathway_id>/plans"
    contact = BY_RPC["get_participant_contact"]
    assert contact.path == "/api/pathways/<pathway_id>/network/<participant_id>/contact"
    assert contact.uuid_params == ("pathway_id",)
    assert contact.query == ("purpose",)


def test_coordinators_gather_the_team_appoint_and_close_while_a_pathway_awaits():
    for rpc in ("add_member", "appoint_tovholder", "close_pathway"):
        assert BY_RPC[rpc].roles == {Role.TOVHOLDER, Role.COORDINATOR}, rpc
    for rpc in ("hand_over_tovholder", "draft_plan", "schedule_meeting", "refer_to_offer",
                "acknowledge_handoff", "add_network_person"):
        assert BY_RPC[rpc].roles == {Role.TOVHOLDER}, rpc


def test_no_coordination_route_is_open_to_partners():
    assert [r.path for r in ROUTES if Role.PARTNER in r.roles] == []


def test_offer_referrals_hand_offs_and_the_access_report():
    refer = BY_RPC["refer_to_offer"]
    assert (refer.method, refer.path, refer.status) == (
        "POST", "/api/pathways/<pathway_id>/offer-referrals", 201)
    ack = BY_RPC["acknowledge_handoff"]
    assert ack.path == "/api/pathways/<pathway_id>/handoffs/<handoff_id>/acknowledgement"
    assert ack.uuid_params == ("pathway_id", "handoff_id")
    report = BY_RPC["access_report"]
    assert (report.method, report.path) == (
        "GET", "/api/citizens/<citizen_ref>/access-report/coordination")
    assert report.roles == {Role.FRONTEN, Role.OPERATOR}
    assert report.items and report.uuid_params == ("citizen_ref",)
