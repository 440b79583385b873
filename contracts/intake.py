"""Contracts of the intake service (Fronten): its events and RPC arguments.

No CPR number, name or free text of the citizen ever appears in an event: other
services know the citizen only as `citizen_ref`.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.fields import Enum, UTCDateTime
from contracts.registry import registry
from contracts.vocabulary import Channel, InquirerKind, Topic

SERVICE = "intake"


@registry.event(
    "intake.inquiry_registered",
    1,
    summary="Fronten registered an inquiry (henvendelse).",
    correlation="the inquiry id",
    example={
        "inquiry_id": "6f1c2b9e-3d7a-4c1e-9a55-2b8f0d6c4e11",
        "registered_at": "2018-04-03T08:15:00+00:00",
        "channel": "walk_in",
        "inquirer_kind": "citizen",
        "topics": ["housing", "economy"],
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
    },
)
class InquiryRegisteredV1(Schema):
    inquiry_id = fields.UUID(required=True)
    registered_at = UTCDateTime(required=True)
    channel = Enum(Channel, required=True)
    inquirer_kind = Enum(InquirerKind, required=True)
    topics = fields.List(
        Enum(Topic), required=True, validate=validate.Length(min=1)
    )
    # None for anonymous advice (anonym rådgivning): no identity is recorded.
    citizen_ref = fields.UUID(required=True, allow_none=True)


@registry.rpc(
    SERVICE,
    "register_inquiry",
    summary="Register a contact with Fronten (walk-in, phone, mail or digital form).",
    example={
        "channel": "phone",
        "inquirer_kind": "relative",
        "topics": ["loneliness"],
        "wish": "Han vil gerne ud af sit værelse og i skole igen.",
        "citizen_ref": None,
        "actor": "staff:fronten-anne",
    },
)
class RegisterInquiryArgs(Schema):
    # Who is acting, set by the gateway from the authenticated caller (never by a client).
    actor = fields.String(required=True, validate=validate.Length(min=1, max=128))
    channel = Enum(Channel, required=True)
    inquirer_kind = Enum(InquirerKind, required=True)
    topics = fields.List(
        Enum(Topic), required=True, validate=validate.Length(min=1)
    )
    # The citizen's own words for what they want to change.
    wish = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    citizen_ref = fields.UUID(load_default=None, allow_none=True)
    registered_at = UTCDateTime(load_default=None, allow_none=True)
