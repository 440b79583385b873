"""housing's HTTP routes and RPC contracts: every RPC has a route, and the officers'
worklist is a GET with a cursor, a limit and its filters, for officers and Fronten only."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from contracts import registry
from contracts.housing import CaseWorklistArgs
from services.gateway.auth import Role
from services.gateway.routes.housing import ROUTES

BY_RPC = {r.rpc: r for r in ROUTES}


def test_every_housing_rpc_has_a_route():
    assert {c.method for c in registry.rpcs() if c.service == "housing"} == set(BY_RPC)


def test_the_worklist_route_takes_a_cursor_a_limit_and_the_filters():
    route = BY_RPC["case_worklist"]
    assert (route.method, route.path) == ("GET", "/api/worklists/housing/cases")
    assert route.query == ("cursor", "limit", "status", "level", "association_id")
    assert set(route.query) <= set(CaseWorklistArgs().fields)
    assert route.roles == {Role.HOUSING_OFFICER, Role.FRONTEN}
    assert Role.PARTNER not in route.roles


def test_the_worklist_contract_loads_its_example_and_names_bad_fields():
    contract = registry.rpc_contract("housing", "case_worklist")
    assert contract.result is not None
    loaded = CaseWorklistArgs().load(contract.example)
    assert (loaded["status"], str(loaded["level"])) == ("open", "outreach_due")
    defaults = CaseWorklistArgs().load({"actor": "staff:lone"})
    assert defaults == {"actor": "staff:lone", "cursor": None, "limit": 50, "status": "open",
                        "level": None, "association_id": None}
    with pytest.raises(ValidationError) as bad:
        CaseWorklistArgs().load({"actor": "staff:lone", "status": "pending", "level": "x",
                                 "limit": 201, "association_id": ""})
    assert set(bad.value.messages) == {"status", "level", "limit", "association_id"}
