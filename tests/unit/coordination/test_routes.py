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
])
def test_worklists_are_gets_with_a_cursor_a_limit_and_their_filters(rpc, path, filters):
    route = BY_RPC[rpc]
    assert (route.method, route.path) == ("GET", path)
    assert route.query == ("cursor", "limit", *filters)
    args = registry.rpc_contract("coordination", rpc).args().fields
    assert set(route.query) <= set(args)


def test_the_coordinators_list_is_for_coordinators_fronten_and_tovholdere():
    assert BY_RPC["awaiting_tovholder"].roles == {Role.COORDINATOR, Role.FRONTEN,
                                                  Role.TOVHOLDER}
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
