"""The wire contracts: generated files are current, released versions stay compatible,
producers are strict, consumers are tolerant, examples are valid."""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid

import jsonschema
import pytest
import yaml

from contracts import InvalidMessage, generate, parse_envelope, registry
from services import catalogue


def test_generated_files_are_current_and_compatible():
    assert generate.check_all(catalogue.consumers()) == []


@pytest.mark.parametrize("contract", registry.events(), ids=lambda c: f"{c.type}.v{c.version}")
def test_example_is_valid_against_the_released_json_schema(contract):
    released = json.loads(generate.snapshot_path(contract).read_text())
    jsonschema.validate(contract.example, released)
    # and the marshmallow schema agrees with the JSON Schema on what is valid
    assert contract.schema().validate(contract.example) == {}


@pytest.mark.parametrize("contract", registry.events(), ids=lambda c: f"{c.type}.v{c.version}")
def test_json_schema_refuses_unknown_fields_like_the_producer(contract):
    released = json.loads(generate.snapshot_path(contract).read_text())
    bad = {**contract.example, "cpr": "0101901234"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, released)


def test_asyncapi_has_a_channel_per_exchange_and_routing_key():
    doc = yaml.safe_load(generate.ASYNCAPI_PATH.read_text())
    assert doc["asyncapi"] == "3.0.0"
    for contract in registry.events():
        channel = doc["channels"][contract.type]
        assert channel["address"] == contract.type
        assert channel["bindings"]["amqp"]["exchange"]["name"] == f"{contract.service}.events"
        assert contract.type in doc["components"]["messages"]
        assert f"{contract.type}.send" in doc["operations"]


BASE = {
    "type": "object",
    "required": ["a", "b"],
    "properties": {
        "a": {"type": "string", "format": "uuid"},
        "b": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ["x", "y"]}},
        "c": {"type": ["string", "null"], "maxLength": 40},
    },
}


def changed(edit):
    new = copy.deepcopy(BASE)
    edit(new)
    return generate.breaking_changes(BASE, new)


def test_compatibility_allows_a_new_optional_field_and_a_new_enum_value():
    def add_optional(s):
        s["properties"]["d"] = {"type": "integer"}

    def add_enum_value(s):
        s["properties"]["b"]["items"]["enum"].append("z")

    assert changed(add_optional) == []
    assert changed(add_enum_value) == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: s["properties"].pop("c"), "c: field removed"),
        (lambda s: s["properties"]["a"].update(type="integer"), "a: type changed"),
        (lambda s: s["properties"]["a"].update(format="date-time"), "a: format changed"),
        (lambda s: s["required"].append("c"), "c: field is now required"),
        (lambda s: (s["properties"].update(d={"type": "string"}), s["required"].append("d")),
         "d: field is now required"),
        (lambda s: s["properties"]["b"]["items"]["enum"].remove("y"), "enum values removed"),
        (lambda s: s["properties"]["c"].update(maxLength=20), "maxLength lowered"),
    ],
)
def test_compatibility_refuses_breaking_changes(edit, expected):
    problems = changed(edit)
    assert any(expected in p for p in problems), problems


def test_write_refuses_to_overwrite_a_released_version_incompatibly(tmp_path, monkeypatch):
    monkeypatch.setattr(generate, "SCHEMAS_DIR", tmp_path)
    monkeypatch.setattr(generate, "ASYNCAPI_PATH", tmp_path / "asyncapi.yaml")
    generate.write_all(catalogue.consumers())
    contract = registry.contract("intake.inquiry_registered", 1)
    released = json.loads(generate.snapshot_path(contract).read_text())
    released["properties"]["legacy_field"] = {"type": "string"}  # a field v1 once had
    generate.snapshot_path(contract).write_text(generate.render_json(released))
    with pytest.raises(generate.BreakingChange, match="legacy_field: field removed"):
        generate.write_all(catalogue.consumers())
    assert any("breaking change" in p for p in generate.check_all(catalogue.consumers()))


def _payload():
    return {
        "inquiry_id": uuid.uuid4(),
        "registered_at": dt.datetime(2018, 4, 3, 8, 0, tzinfo=dt.UTC),
        "channel": "walk_in",
        "inquirer_kind": "citizen",
        "topics": ["housing"],
        "citizen_ref": None,
    }


def build(payload):
    return registry.build(
        "intake.inquiry_registered", payload, producer="intake", correlation_id="c",
        occurred_at=dt.datetime(2018, 4, 3, 8, 0, tzinfo=dt.UTC),
    )


def test_producer_refuses_unknown_fields_and_names_every_bad_field():
    payload = {**_payload(), "cpr": "0101901234", "channel": "fax", "topics": []}
    payload.pop("inquirer_kind")
    with pytest.raises(InvalidMessage) as err:
        build(payload)
    assert set(err.value.errors["payload"]) == {"cpr", "channel", "topics", "inquirer_kind"}


def test_consumer_ignores_fields_a_newer_producer_added():
    wire = build(_payload()).to_wire()
    wire["payload"]["added_later"] = "something"
    wire["a_new_envelope_field"] = 1
    envelope = parse_envelope(json.loads(json.dumps(wire)))
    payload = registry.load_payload(envelope)
    assert "added_later" not in payload
    assert payload["topics"][0].value == "housing"


def test_unknown_version_and_bad_envelope_are_named():
    wire = build(_payload()).to_wire()
    with pytest.raises(InvalidMessage, match="versions \\[1\\], not 9"):
        registry.load_payload(parse_envelope({**wire, "schema_version": 9}))
    with pytest.raises(InvalidMessage) as err:
        parse_envelope({**wire, "message_id": "nope", "occurred_at": "2018-04-03T08:00:00"})
    assert set(err.value.errors) == {"message_id", "occurred_at"}
