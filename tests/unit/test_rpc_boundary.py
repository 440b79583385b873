"""Every RPC boundary (not only the gateway) refuses NUL characters, dates outside the
years Samspil works in, and times that overflow in UTC, naming the field."""

from __future__ import annotations

import json

import pytest
from marshmallow import Schema, fields

from contracts.fields import UTCDateTime
from services.common.rpc import InvalidInput, validated


class Args(Schema):
    actor = fields.String(required=True)
    note = fields.String(load_default=None)
    day = fields.Date(load_default=None)
    at = UTCDateTime(load_default=None)


class Service:
    @validated(Args)
    def act(self, **args):
        return args


def refused(**kwargs) -> dict:
    with pytest.raises(InvalidInput) as err:
        Service().act(actor="operator:test", **kwargs)
    return json.loads(str(err.value))["errors"][0]


def test_nul_characters_are_refused_by_field():
    assert refused(note="a\x00b") == {
        "field": "note", "rule": "nul_character",
        "message": "Text may not contain NUL (\\u0000) characters."}


def test_dates_outside_the_working_years_are_refused():
    assert refused(day="0001-01-01")["rule"] == "date_out_of_range"
    assert refused(day="9999-12-31")["field"] == "day"


def test_a_time_that_overflows_in_utc_names_its_field():
    problem = refused(at="0001-01-01T00:00:00+01:00")
    assert problem["field"] == "at"
    assert "Out of range" in problem["message"]


def test_ordinary_input_passes():
    out = Service().act(actor="operator:test", note="Hej", day="2018-04-03",
                        at="2018-04-03T10:00:00+02:00")
    assert out["note"] == "Hej" and out["day"].year == 2018
