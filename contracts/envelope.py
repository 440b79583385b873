"""The envelope every Samspil message travels in, and its validation.

One envelope for every event on the wire:

    message_id      UUID, set once, when the outbox row is written
    type            "<service>.<event>", e.g. "intake.inquiry_registered"
    schema_version  integer, the version of the payload schema
    occurred_at     ISO 8601 UTC timestamp
    producer        the service that wrote it
    correlation_id  the pathway, case or inquiry the message belongs to
    payload         validated by the registry's schema for (type, schema_version)
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from contracts.fields import UTCDateTime

TYPE_PATTERN = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"


class InvalidMessage(Exception):
    """A message that can never be processed: broken envelope or payload.

    `errors` maps each bad field (dotted for the payload: ``payload.channel``) to the
    list of rules it broke, as marshmallow reports them.
    """

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(errors)
        self.errors = errors

    def __str__(self) -> str:
        return "invalid message: " + "; ".join(
            f"{name}: {', '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
            for name, msgs in flatten_errors(self.errors).items()
        )


def flatten_errors(errors: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """marshmallow's nested error dict as {"a.b.c": [messages]}."""
    flat: dict[str, Any] = {}
    for key, value in errors.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_errors(value, name + "."))
        else:
            flat[name] = value
    return flat


class EnvelopeSchema(Schema):
    """The envelope's own fields. The payload is validated separately, per type."""

    class Meta:
        # A consumer accepts envelope fields it does not know (forward compatibility);
        # producers never add any (see `build`).
        unknown = EXCLUDE

    message_id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Regexp(TYPE_PATTERN))
    schema_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    occurred_at = UTCDateTime(required=True)
    producer = fields.String(required=True, validate=validate.Length(min=1, max=64))
    correlation_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    payload = fields.Dict(required=True, keys=fields.String())


_envelope_schema = EnvelopeSchema()


@dataclass(frozen=True)
class Envelope:
    message_id: uuid.UUID
    type: str
    schema_version: int
    occurred_at: dt.datetime
    producer: str
    correlation_id: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def source_service(self) -> str:
        return self.type.split(".", 1)[0]

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict that goes on the broker."""
        return {
            "message_id": str(self.message_id),
            "type": self.type,
            "schema_version": self.schema_version,
            "occurred_at": self.occurred_at.astimezone(dt.UTC).isoformat(),
            "producer": self.producer,
            "correlation_id": self.correlation_id,
            "payload": self.payload,
        }


def parse_envelope(body: Any) -> Envelope:
    """Validate the envelope (not the payload) of a received message."""
    if not isinstance(body, dict):
        raise InvalidMessage({"_envelope": ["The message body must be a JSON object."]})
    try:
        data = _envelope_schema.load(body)
    except ValidationError as exc:
        raise InvalidMessage(_as_dict(exc.messages)) from exc
    return Envelope(**data)


def _as_dict(messages: Any) -> dict[str, Any]:
    return messages if isinstance(messages, dict) else {"_schema": messages}
