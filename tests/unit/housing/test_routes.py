"""housing's HTTP routes and RPC contracts: every RPC has a route, and the officers'
worklist is a GET with a cursor, a limit and its filters, for officers and Fronten only."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from contracts import registry
from contracts.housing import PARTNER_CASE_FIELDS, CaseWorklistArgs, PartnerCaseView
from services.gateway.auth import Role
from services.gateway.routes.housing import ROUTES

BY_RPC = {r.rpc: r for r in ROUTES}
BY_PATH = {(r.method, r.path): r for r in ROUTES}


def test_every_housing_rpc_has_a_route():
    assert {c.method for c in registry.rpcs() if c.service == "housing"} == set(BY_RPC)


def test_a_housing_association_has_its_own_list_and_reads_its_cases_under_api_partner():
    cases = BY_PATH[("GET", "/api/partner/cases")]
    assert (cases.rpc, cases.roles, cases.query) == (
        "association_cases", {Role.PARTNER}, ("cursor", "limit", "status"))
    assert registry.rpc_contract("housing", "association_cases").result is not None
    one = BY_PATH[("GET", "/api/partner/cases/<case_id>")]
    assert (one.rpc, one.roles, one.owner, one.uuid_params) == (
        "get_case", {Role.PARTNER}, "association_id", ("case_id",))
    assert one.partner_view == PARTNER_CASE_FIELDS == tuple(PartnerCaseView().fields)
    # Every partner-facing route of housing shows a partner only its view.
    for route in ROUTES:
        if Role.PARTNER in route.roles and route.rpc in ("get_case", "report_arrears"):
            assert route.partner_view == PARTNER_CASE_FIELDS, route.path


def test_refused_reports_and_the_access_report_have_their_readers():
    refused = BY_RPC["refused_reports"]
    assert (refused.method, refused.path) == ("GET", "/api/worklists/housing/refused-reports")
    assert refused.roles == {Role.HOUSING_OFFICER, Role.OPERATOR}
    report = BY_RPC["access_report"]
    assert report.roles == {Role.FRONTEN, Role.OPERATOR} and report.items is True
    assert report.uuid_params == ("citizen_ref",)


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
