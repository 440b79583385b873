"""Generate `contracts/asyncapi.yaml` and the JSON Schema snapshots from the registry,
and check that released versions stay backward compatible.

A snapshot `contracts/schemas/<type>.v<N>.json` is written when (type, N) first
appears and is from then on the released form of that version: `write_all` refuses
to overwrite it with an incompatible schema (a removed or retyped field, a new
required field, a narrowed constraint or a removed enum value). Such a change is a
new version, N+1, which consumers accept next to N during a rollout.

The consumers (receive operations) come from the services' message maps, which the
callers pass in (`services.catalogue.consumers()`): contracts never import services.

    samspil contracts write     regenerate (refuses breaking changes)
    samspil contracts check     what CI runs: stale files or breaking changes fail
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema

from contracts.envelope import TYPE_PATTERN
from contracts.registry import Consumer, MessageContract, registry

HERE = Path(__file__).resolve().parent
ASYNCAPI_PATH = HERE / "asyncapi.yaml"
SCHEMAS_DIR = HERE / "schemas"
TITLE = "Samspil events"
API_VERSION = "1.0.0"

_NARROWING_MIN = ("minLength", "minItems", "minimum", "exclusiveMinimum", "minProperties")
_NARROWING_MAX = ("maxLength", "maxItems", "maximum", "exclusiveMaximum", "maxProperties")


def _converter() -> Any:
    # A resolver answering None makes apispec inline nested schemas (documented).
    plugin = MarshmallowPlugin(schema_name_resolver=lambda schema: None)  # type: ignore[arg-type,return-value]
    APISpec(TITLE, API_VERSION, "3.1.0", plugins=[plugin])
    return plugin.converter


def _tidy(node: Any, nullable_enums: bool = True) -> Any:
    """apispec leaves `type` off enums; JSON Schema readers like it spelled out. An enum
    that allows None (`allow_none=True`) is a string or null: with "string" alone, the
    null the enum lists would fail the type (`nullable_enums=False` keeps "string", as
    the released event schemas have it)."""
    if isinstance(node, dict):
        node = {k: _tidy(v, nullable_enums) for k, v in node.items()}
        if "enum" in node and "type" not in node:
            nullable = nullable_enums and None in node["enum"]
            node["type"] = ["string", "null"] if nullable else "string"
        return node
    if isinstance(node, list):
        return [_tidy(v, nullable_enums) for v in node]
    return node


def schema_to_json(schema: type[Schema], nullable_enums: bool = True) -> dict[str, Any]:
    """The JSON Schema of a contract schema (OpenAPI's bodies and answers use it as is).
    Event payload schemas pass `nullable_enums=False`: their released versions spell a
    nullable enum's type "string", and widening a released schema is a breaking change
    by `breaking_changes`' rules (a new version would spell it out)."""
    result = _tidy(_converter().schema2jsonschema(schema()), nullable_enums)
    result["additionalProperties"] = False  # producers may not add fields
    return dict(result)


def payload_schema(contract: MessageContract) -> dict[str, Any]:
    body = schema_to_json(contract.schema, nullable_enums=False)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:samspil:{contract.type}:v{contract.version}",
        "title": f"{contract.type} v{contract.version}",
        "description": contract.summary,
        **body,
        "examples": [contract.example],
    }


def envelope_schema(contract: MessageContract) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [
            "message_id", "type", "schema_version", "occurred_at", "producer",
            "correlation_id", "payload",
        ],
        "properties": {
            "message_id": {"type": "string", "format": "uuid",
                           "description": "Set once, when the outbox row is written."},
            "type": {"type": "string", "const": contract.type, "pattern": TYPE_PATTERN},
            "schema_version": {"type": "integer", "const": contract.version},
            "occurred_at": {"type": "string", "format": "date-time"},
            "producer": {"type": "string", "const": contract.service},
            "correlation_id": {"type": "string",
                               "description": contract.correlation or "the case it belongs to"},
            "payload": {"$ref": f"#/components/schemas/{_schema_key(contract)}"},
        },
    }


def _schema_key(contract: MessageContract) -> str:
    return f"{contract.type}.v{contract.version}"


def asyncapi_document(consumers: Sequence[Consumer]) -> dict[str, Any]:
    """AsyncAPI 3.0: a channel per (exchange, routing key), a message per type (its
    versions as `oneOf`), a send operation per channel and a receive operation per
    consumer in the services' message maps (`services.catalogue.consumers()`)."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    by_type: dict[str, list[MessageContract]] = {}
    for contract in registry.events():
        by_type.setdefault(contract.type, []).append(contract)
    for type_, versions in sorted(by_type.items()):
        latest = versions[-1]
        for contract in versions:
            key = _schema_key(contract)
            schema = payload_schema(contract)
            schema.pop("$schema")
            schemas[key] = schema
            schemas[f"{key}.envelope"] = envelope_schema(contract)
        messages[type_] = {
            "name": type_,
            "title": type_,
            "summary": latest.summary,
            "contentType": "application/json",
            "payload": {"oneOf": [
                {"$ref": f"#/components/schemas/{_schema_key(c)}.envelope"} for c in versions
            ]},
            "examples": [{
                "name": f"v{latest.version}",
                "payload": {
                    "message_id": "00000000-0000-4000-8000-000000000000",
                    "type": type_, "schema_version": latest.version,
                    "occurred_at": "2018-04-03T08:15:00+00:00", "producer": latest.service,
                    "correlation_id": "…", "payload": latest.example,
                },
            }],
        }
        channels[type_] = {
            "address": type_,
            "description": f"Routing key {type_} on the topic exchange {latest.exchange}.",
            "messages": {type_: {"$ref": f"#/components/messages/{type_}"}},
            "bindings": {"amqp": {
                "is": "routingKey",
                "exchange": {"name": latest.exchange, "type": "topic", "durable": True,
                             "autoDelete": False, "vhost": "/"},
                "bindingVersion": "0.3.0",
            }},
        }
        operations[f"{type_}.send"] = {
            "action": "send",
            "summary": f"{latest.service} publishes {type_} through its outbox.",
            "channel": {"$ref": f"#/channels/{type_}"},
            "messages": [{"$ref": f"#/channels/{type_}/messages/{type_}"}],
            "bindings": {"amqp": {"deliveryMode": 2, "mandatory": True,
                                  "bindingVersion": "0.3.0"}},
        }
    for consumer in sorted(consumers, key=lambda c: (c.event_type, c.service, c.method)):
        if consumer.event_type not in channels:
            raise ValueError(f"{consumer.service} consumes {consumer.event_type}, "
                             "which no contract registers")
        type_ = consumer.event_type
        operations[f"{type_}.receive.{consumer.service}"] = {
            "action": "receive",
            "summary": f"{consumer.service} handles {type_} ({consumer.handler}).",
            "channel": {"$ref": f"#/channels/{type_}"},
            "messages": [{"$ref": f"#/channels/{type_}/messages/{type_}"}],
            "bindings": {"amqp": {"ack": True, "bindingVersion": "0.3.0"}},
            "x-samspil-queue": consumer.queue,
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": TITLE,
            "version": API_VERSION,
            "description": (
                "Every event Samspil's services publish. Each message is an envelope "
                "(message_id, type, schema_version, occurred_at, producer, correlation_id, "
                "payload). Generated from contracts/ by `samspil contracts write`: do not edit."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render_asyncapi(consumers: Sequence[Consumer]) -> str:
    return yaml.safe_dump(asyncapi_document(consumers), sort_keys=False, allow_unicode=True,
                          width=100)


def render_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def snapshot_path(contract: MessageContract) -> Path:
    return SCHEMAS_DIR / f"{contract.type}.v{contract.version}.json"


# -- compatibility ----------------------------------------------------------------------


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("type")
    if value is None:
        return set()
    return {value} if isinstance(value, str) else set(value)


def breaking_changes(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    """Why `new` would break a consumer or producer written against `old` (empty: fine)."""
    problems: list[str] = []
    where = path or "payload"
    if _types(old) != _types(new):
        before, after = sorted(_types(old)), sorted(_types(new))
        problems.append(f"{where}: type changed from {before} to {after}")
    if old.get("format") != new.get("format"):
        problems.append(f"{where}: format changed from {old.get('format')} to {new.get('format')}")
    if "enum" in old or "enum" in new:
        removed = set(old.get("enum") or []) - set(new.get("enum") or [])
        if "enum" in new and "enum" not in old:
            problems.append(f"{where}: now restricted to {new['enum']}")
        elif removed:
            problems.append(f"{where}: enum values removed: {sorted(removed)}")
    for key in _NARROWING_MIN:
        if key in new and new[key] > old.get(key, float("-inf")):
            problems.append(f"{where}: {key} raised to {new[key]}")
    for key in _NARROWING_MAX:
        if key in new and new[key] < old.get(key, float("inf")):
            problems.append(f"{where}: {key} lowered to {new[key]}")
    old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
    for name, old_prop in old_props.items():
        child = f"{path}.{name}" if path else name
        if name not in new_props:
            problems.append(f"{child}: field removed")
        else:
            problems += breaking_changes(old_prop, new_props[name], child)
    newly_required = set(new.get("required") or []) - set(old.get("required") or [])
    for name in sorted(newly_required):
        child = f"{path}.{name}" if path else name
        problems.append(f"{child}: field is now required")
    if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
        problems += breaking_changes(old["items"], new["items"], f"{where}[]")
    return problems


class BreakingChange(Exception):
    pass


def _released(contract: MessageContract) -> dict[str, Any] | None:
    path = snapshot_path(contract)
    return json.loads(path.read_text()) if path.exists() else None


def write_all(consumers: Sequence[Consumer]) -> list[Path]:
    """Regenerate every file; refuse (BreakingChange) to rewrite a released version
    incompatibly."""
    written = []
    SCHEMAS_DIR.mkdir(exist_ok=True)
    for contract in registry.events():
        current = payload_schema(contract)
        released = _released(contract)
        if released is not None:
            problems = breaking_changes(released, current)
            if problems:
                raise BreakingChange(
                    f"{contract.type} v{contract.version} is released; these changes would "
                    f"break it: {'; '.join(problems)}. Register v{contract.version + 1} instead."
                )
        path = snapshot_path(contract)
        text = render_json(current)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    text = render_asyncapi(consumers)
    if not ASYNCAPI_PATH.exists() or ASYNCAPI_PATH.read_text() != text:
        ASYNCAPI_PATH.write_text(text)
        written.append(ASYNCAPI_PATH)
    return written


def check_all(consumers: Sequence[Consumer]) -> list[str]:
    """Problems CI must fail on: stale generated files and breaking changes."""
    problems: list[str] = []
    for contract in registry.events():
        current = payload_schema(contract)
        released = _released(contract)
        if released is None:
            problems.append(f"{snapshot_path(contract).name} is missing: run "
                            "`samspil contracts write`")
            continue
        for change in breaking_changes(released, current):
            problems.append(f"breaking change to released {contract.type} "
                            f"v{contract.version}: {change}")
        if render_json(current) != snapshot_path(contract).read_text():
            problems.append(f"{snapshot_path(contract).name} is stale: run "
                            "`samspil contracts write`")
    known = {snapshot_path(c).name for c in registry.events()}
    for path in sorted(SCHEMAS_DIR.glob("*.json")):
        if path.name not in known:
            problems.append(f"{path.name}: a released version is no longer registered "
                            "(consumers may still receive it)")
    if not ASYNCAPI_PATH.exists() or ASYNCAPI_PATH.read_text() != render_asyncapi(consumers):
        problems.append("contracts/asyncapi.yaml is stale: run `samspil contracts write`")
    return problems
