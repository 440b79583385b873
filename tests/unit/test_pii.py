"""The one CPR rule at the edge (services/common/pii.py): what counts as a CPR number,
where it may stand, and that it is never repeated."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st
from marshmallow import Schema, fields

from contracts.actor import actor_field
from services.common import pii
from services.common.rpc import InvalidInput, validated


def test_a_real_cpr_number_is_ten_digits_starting_with_a_real_date() -> None:
    assert pii.contains_cpr("0101901234")
    assert pii.contains_cpr("Ring til mig, mit nummer er 010190-1234.")
    assert pii.contains_cpr("290200 4321")  # 29 February 2000 (7th digit 4, YY 00: 2000)
    assert not pii.contains_cpr("290201-4321")  # no 29 February in 2001
    assert not pii.contains_cpr("9999999999")
    assert not pii.contains_cpr("4512345678")  # day 45
    assert not pii.contains_cpr("+4512345678")  # 45 is Denmark's country code: day 45
    assert not pii.contains_cpr("01019012345")  # eleven digits: not standing alone


@given(st.uuids())
def test_no_uuid_is_ever_taken_for_a_cpr_number(value: uuid.UUID) -> None:
    assert not pii.contains_cpr(str(value))
    assert not pii.contains_cpr(f"/api/pathways/{value}/timeline")
    assert pii.mask_cpr(str(value)) == str(value)


def test_masking_replaces_only_the_number() -> None:
    ref = "01019012-3456-4a1b-9c1d-2e3f4a5b6c7d"
    assert pii.mask_cpr(f"GET /x/010190-1234 {ref}") == f"GET /x/******-**** {ref}"


def test_free_text_may_not_hold_a_cpr_number_but_the_cpr_field_may() -> None:
    assert pii.text_problem({"wish": "cpr 0101901234"}) == (
        "wish", "cpr_in_text", pii.TEXT_MESSAGE)
    assert pii.text_problem({"match": {"cpr": "0101901234"}}) is None
    assert pii.text_problem({"notes": ["a", "b 010190-1234"]})[0] == "notes.1"
    assert "0101901234" not in pii.TEXT_MESSAGE


class Args(Schema):
    actor = actor_field()
    wish = fields.String(required=True)
    topics = fields.List(fields.String(), required=True)


class Service:
    @validated(Args)
    def act(self, **args: object) -> object:
        return args


def test_an_rpc_reports_the_cpr_number_beside_the_schemas_errors_and_never_repeats_it() -> None:
    try:
        Service().act(actor="staff:anne", wish="mit cpr er 010190-1234")
    except InvalidInput as exc:
        rules = {(e["field"], e["rule"]) for e in exc.errors}
        assert rules == {("wish", "cpr_in_text"), ("topics", "schema")}
        assert "1234" not in str(exc)
    else:
        raise AssertionError("the CPR number in free text was accepted")
