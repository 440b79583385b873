"""Every coordination RPC has a contract whose example is valid, and every contract
has its entrypoint on the service."""

from __future__ import annotations

import pytest
from marshmallow import RAISE
from nameko.rpc import Rpc

from contracts import registry
from services.coordination.service import CoordinationService

CONTRACTS = [r for r in registry.rpcs() if r.service == "coordination"]


def rpc_methods() -> set[str]:
    return {
        name for name, member in vars(CoordinationService).items()
        if any(isinstance(e, Rpc) for e in getattr(member, "nameko_entrypoints", ()))
    }


def test_every_rpc_has_a_contract_and_every_contract_an_rpc():
    assert {c.method for c in CONTRACTS} == rpc_methods()


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.method)
def test_the_example_is_valid(contract):
    assert contract.example, f"{contract.method} has no example"
    loaded = contract.args().load(contract.example, unknown=RAISE)
    assert loaded["actor"]


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.method)
def test_actor_is_required(contract):
    example = {k: v for k, v in contract.example.items() if k != "actor"}
    assert "actor" in contract.args().validate(example)
