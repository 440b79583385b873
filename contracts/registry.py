"""The registry: which payload schema belongs to which (message type, version).

Producers build envelopes through `Registry.build` (unknown fields refused, every bad
field reported by name); consumers validate through `Registry.load_payload`, which
accepts every registered version of a type (N and N-1 during a rollout) and ignores
fields it does not know (a compatible addition made by a newer producer).
"""

from __future__ import annotations

import builtins
import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError

from contracts.envelope import TYPE_PATTERN, Envelope, InvalidMessage


@dataclass(frozen=True)
class MessageContract:
    """One (type, version) of an event: its payload schema, its words and an example."""

    type: str
    version: int
    schema: builtins.type[Schema]
    summary: str
    example: dict[str, Any]
    correlation: str = ""  # what correlation_id holds for this type, in words

    @property
    def service(self) -> str:
        return self.type.split(".", 1)[0]

    @property
    def exchange(self) -> str:
        """nameko's event exchange for the producing service."""
        return f"{self.service}.events"


@dataclass(frozen=True)
class RpcContract:
    """One RPC method: its argument schema and its result schema."""

    service: str
    method: str
    args: type[Schema]
    result: type[Schema] | None
    summary: str
    example: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Consumer:
    """One service's handler of one event type (from that service's message map)."""

    service: str
    event_type: str
    method: str  # the entrypoint name; also names the queue and the inbox consumer
    handler: str  # the use case it calls, for readers of the AsyncAPI document

    @property
    def queue(self) -> str:
        """nameko's queue name for an event handler."""
        source = self.event_type.split(".", 1)[0]
        return f"evt-{source}-{self.event_type}--{self.service}.{self.method}"


class Registry:
    def __init__(self) -> None:
        self._events: dict[tuple[str, int], MessageContract] = {}
        self._rpcs: dict[tuple[str, str], RpcContract] = {}

    # -- registration -------------------------------------------------------------

    def event(
        self,
        type_: str,
        version: int,
        *,
        summary: str,
        example: dict[str, Any],
        correlation: str = "",
    ) -> Callable[[type[Schema]], type[Schema]]:
        """Class decorator registering a payload schema for (type_, version)."""
        if not re.match(TYPE_PATTERN, type_):
            raise ValueError(f"message type {type_!r} must look like 'service.event_name'")

        def register(schema: type[Schema]) -> type[Schema]:
            key = (type_, version)
            if key in self._events:
                raise ValueError(f"{type_} v{version} is registered twice")
            contract = MessageContract(type_, version, schema, summary, example, correlation)
            # The example is part of the contract: it must itself be valid on the wire.
            self._validate_wire_payload(contract, example)
            self._events[key] = contract
            return schema

        return register

    def rpc(
        self,
        service: str,
        method: str,
        *,
        summary: str,
        result: type[Schema] | None = None,
        example: dict[str, Any] | None = None,
    ) -> Callable[[type[Schema]], type[Schema]]:
        """Class decorator registering the argument schema of an RPC method."""

        def register(schema: type[Schema]) -> type[Schema]:
            self._rpcs[(service, method)] = RpcContract(
                service, method, schema, result, summary, example or {}
            )
            return schema

        return register

    # -- lookup -------------------------------------------------------------------

    def events(self) -> list[MessageContract]:
        return [self._events[key] for key in sorted(self._events)]

    def rpcs(self) -> list[RpcContract]:
        return [self._rpcs[key] for key in sorted(self._rpcs)]

    def contract(self, type_: str, version: int | None = None) -> MessageContract:
        if version is None:
            version = self.latest_version(type_)
        try:
            return self._events[(type_, version)]
        except KeyError:
            known = sorted(v for (t, v) in self._events if t == type_)
            raise InvalidMessage(
                {
                    "type": [f"Unknown message type or version: {type_} v{version}."]
                    if not known
                    else [f"{type_} has versions {known}, not {version}."]
                }
            ) from None

    def latest_version(self, type_: str) -> int:
        versions = [v for (t, v) in self._events if t == type_]
        if not versions:
            raise InvalidMessage({"type": [f"Unknown message type: {type_}."]})
        return max(versions)

    def rpc_contract(self, service: str, method: str) -> RpcContract:
        return self._rpcs[(service, method)]

    # -- producing ------------------------------------------------------------------

    def build(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        producer: str,
        correlation_id: str,
        occurred_at: dt.datetime,
        version: int | None = None,
        message_id: uuid.UUID | None = None,
    ) -> Envelope:
        """Validate `payload` strictly and wrap it in an envelope.

        Raises InvalidMessage naming every bad field (``payload.<field>``)."""
        contract = self.contract(type_, version)
        if occurred_at.tzinfo is None:
            raise InvalidMessage({"occurred_at": ["Must be timezone-aware (UTC)."]})
        wire_payload = self._validate_producer_payload(contract, payload)
        return Envelope(
            message_id=message_id or uuid.uuid4(),
            type=contract.type,
            schema_version=contract.version,
            occurred_at=occurred_at.astimezone(dt.UTC),
            producer=producer,
            correlation_id=str(correlation_id),
            payload=wire_payload,
        )

    @staticmethod
    def _validate_producer_payload(
        contract: MessageContract, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Serialise native values field by field, then validate the wire form.

        Every problem is reported under the field's wire name; unknown fields are
        refused, so a producer cannot leak data the contract does not allow."""
        schema = contract.schema()
        by_key = {f.data_key or name: (name, f) for name, f in schema.fields.items()}
        errors: dict[str, Any] = {
            key: ["Unknown field: not in the contract."] for key in payload if key not in by_key
        }
        wire: dict[str, Any] = {}
        for key, (_name, fld) in by_key.items():
            if key not in payload:
                continue
            try:
                wire[key] = fld.serialize(key, payload)
            except (ValueError, TypeError, AttributeError) as exc:
                errors[key] = [f"Cannot be serialised: {exc}"]
        # Validate the wire form: what a consumer will load must be valid.
        for key, messages in schema.validate(wire).items():
            errors.setdefault(key, messages)
        if errors:
            raise InvalidMessage({"payload": errors})
        return wire

    @staticmethod
    def _validate_wire_payload(contract: MessageContract, payload: dict[str, Any]) -> None:
        errors = contract.schema().validate(payload)
        if errors:
            raise InvalidMessage({"payload": errors})

    # -- consuming ------------------------------------------------------------------

    def load_payload(self, envelope: Envelope) -> dict[str, Any]:
        """The payload as Python values, validated against its (type, version) schema.

        Unknown payload fields are ignored: a newer producer may have added an optional
        field that this consumer does not know yet."""
        contract = self.contract(envelope.type, envelope.schema_version)
        try:
            return contract.schema().load(envelope.payload, unknown=EXCLUDE)
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
            raise InvalidMessage({"payload": messages}) from exc

    def types_of(self, services: Iterable[str]) -> list[str]:
        wanted = set(services)
        return sorted({c.type for c in self._events.values() if c.service in wanted})


registry = Registry()
