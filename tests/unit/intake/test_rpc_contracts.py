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
        "citizen_ref", "name", "email", "phone", "preferred_channel"
    }
    assert set(match().fields) == {"citizen_ref"}
    assert contact().validate({
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80", "name": "A", "email": None,
        "phone": None, "preferred_channel": "letter",
    }) == {}
