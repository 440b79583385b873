"""Every intake RPC has a contract with a valid example and takes `actor`."""

import pytest
from marshmallow import RAISE

from contracts import registry

INTAKE_RPCS = [c for c in registry.rpcs() if c.service == "intake"]


def test_every_use_case_has_an_rpc_contract() -> None:
    assert {c.method for c in INTAKE_RPCS} >= {
        "register_inquiry", "resolve_inquiry", "get_inquiry", "register_citizen",
        "update_contact", "get_citizen", "get_contact", "match_citizen",
        "lookups_of_citizen", "give_consent", "withdraw_consent", "list_consents",
        "start_course", "get_course", "record_attendance", "revise_plan", "plan_bridging",
        "request_review", "decide_review", "extend_course", "refer_to_85",
        "record_referral_85_outcome", "end_course", "statistics",
        # issues 10 and 16
        "hand_over_course", "correct_consent", "consent_vocabulary", "access_report",
        "worklist_consents_to_correct",
    }


@pytest.mark.parametrize("contract", INTAKE_RPCS, ids=lambda c: c.method)
def test_the_example_loads_and_names_the_actor(contract) -> None:
    assert contract.example, "every RPC contract has an example"
    loaded = contract.args().load(contract.example, unknown=RAISE)
    assert loaded["actor"]
    assert contract.args().fields["actor"].required


@pytest.mark.parametrize("contract", INTAKE_RPCS, ids=lambda c: c.method)
def test_reads_of_citizen_data_state_a_purpose(contract) -> None:
    reads = {"get_inquiry", "get_citizen", "get_contact", "match_citizen",
             "lookups_of_citizen", "list_consents", "get_course"}
    if contract.method in reads:
        assert contract.args().fields["purpose"].required


def test_the_agreed_result_shapes() -> None:
    contact = registry.rpc_contract("intake", "get_contact").result
    match = registry.rpc_contract("intake", "match_citizen").result
    assert contact is not None and match is not None
    assert set(contact().fields) == {
        "citizen_ref", "name", "email", "phone", "address", "preferred_channel"
    }
    assert set(match().fields) == {"citizen_ref"}
    assert contact().validate({
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80", "name": "A", "email": None,
        "phone": None, "preferred_channel": "letter",
    }) == {}  # a consumer on the older shape (no address) still validates
    assert contact().validate({
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80", "name": "A", "email": None,
        "phone": None, "address": "Hedelyngen 12, st. tv., 2750 Ballerup",
        "preferred_channel": "letter",
    }) == {}


def test_every_intake_rpc_has_a_route_and_the_deciders_their_roles() -> None:
    from services.gateway import api
    from services.gateway.auth import Role
    from services.gateway.routes.intake import ROUTES
    from services.gateway.service import ACCESS_LOG_SERVICES

    routed = {r.rpc: r for r in ROUTES if r.service == "intake"}
    # access_report is answered through the gateway's merged access report.
    assert set(routed) == {c.method for c in INTAKE_RPCS} - {"access_report"}
    assert "intake" in ACCESS_LOG_SERVICES
    merged = next(r for r in api.ROUTES.routes if r.local == "access_report")
    assert merged.roles == frozenset({Role.FRONTEN, Role.OPERATOR})
    worklists = {r.path: (r.rpc, r.roles, r.method) for r in ROUTES
                 if r.path.startswith("/api/worklists/")}
    fronten, panel = frozenset({Role.FRONTEN}), frozenset({Role.REVIEW_PANEL, Role.FRONTEN})
    sv = frozenset({Role.SOCIAL_VEJLEDNING, Role.FRONTEN})
    assert worklists == {
        "/api/worklists/fronten/open-inquiries": ("worklist_open_inquiries", fronten, "GET"),
        "/api/worklists/fronten/follow-ups": ("worklist_follow_ups", fronten, "GET"),
        "/api/worklists/fronten/bridging": ("worklist_bridging", fronten, "GET"),
        "/api/worklists/fronten/end-overdue": ("worklist_end_overdue", fronten, "GET"),
        "/api/worklists/fronten/ending-proposed": ("worklist_ending_proposed", fronten, "GET"),
        "/api/worklists/fronten/outside-target-group": (
            "worklist_outside_target_group", fronten, "GET"),
        "/api/worklists/fronten/consents-to-correct": (
            "worklist_consents_to_correct", fronten, "GET"),
        "/api/worklists/review-panel/agenda": ("worklist_review_agenda", panel, "GET"),
        "/api/worklists/social-vejledning/referrals-85": ("worklist_referrals_85", sv, "GET"),
    }
    # The decision that takes an item off a list is open to whoever owns the list.
    assert Role.REVIEW_PANEL in routed["decide_review"].roles
    assert Role.SOCIAL_VEJLEDNING in routed["record_referral_85_outcome"].roles
    assert {Role.REVIEW_PANEL, Role.SOCIAL_VEJLEDNING} <= routed["get_course"].roles
    # Who may ask for a citizen at all; how much each sees is intake's decision.
    assert routed["get_citizen"].roles == {
        Role.FRONTEN, Role.TOVHOLDER, Role.SOCIAL_VEJLEDNING, Role.REVIEW_PANEL}
    assert routed["get_contact"].roles == {Role.FRONTEN, Role.TOVHOLDER, Role.SOCIAL_VEJLEDNING}
    assert all(Role.PARTNER not in r.roles and Role.HOUSING_OFFICER not in r.roles
               for r in routed.values() if r.rpc != "statistics")
    # Every list takes the kit's cursor and limit, and its own filters, in the query.
    for path, (rpc, _, _) in worklists.items():
        route = next(r for r in ROUTES if r.path == path)
        args = registry.rpc_contract("intake", rpc).args().fields
        assert {"cursor", "limit"} <= set(route.query) <= set(args), path


def test_worklists_answer_a_worklist_page() -> None:
    from contracts.worklist import WorklistPage

    lists = [c for c in INTAKE_RPCS if c.method.startswith("worklist_")]
    assert len(lists) == 9
    assert all(c.result is WorklistPage for c in lists)
