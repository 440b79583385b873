"""Contracts of the housing service (rent-arrears cases on the legal clock).

Two kinds of events: internal ones (`housing.case_escalated`, for the tovholder and
Fronten) and the partner statement (`housing.partner_status`), whose schema is the
allow-list of what a housing association may ever receive: a typed status, what we
ask of it, its own tenancy reference, our case reference and dates. No citizen
reference, no amounts, no free text.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.fields import Enum, UTCDateTime
from contracts.registry import registry
from contracts.vocabulary import Addressee, Closure, HousingRequest, LadderLevel, PartnerStatus

CASE = "e3f4a5b6-c7d8-4e9f-8a0b-1c2d3e4f5a6b"
CITIZEN = "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80"


class AskSchema(Schema):
    addressee = Enum(Addressee, required=True)
    request = Enum(HousingRequest, required=True)


@registry.event(
    "housing.case_escalated",
    1,
    summary="An arrears case moved on the ladder: the level, the next deadline, who must act.",
    correlation="the case id",
    example={"case_id": CASE, "association_id": "kab-ballerup", "tenancy_ref": "12-0304-2",
             "citizen_ref": CITIZEN, "level": "escalated_to_association",
             "previous_level": "outreach_due", "next_deadline": "2024-03-01T23:00:00+00:00",
             "asks": [{"addressee": "association", "request": "hold_termination"},
                      {"addressee": "tovholder", "request": "make_plan_or_apply_for_help"}],
             "occurred_at": "2024-02-16T08:00:00+00:00"},
)
class CaseEscalatedV1(Schema):
    case_id = fields.UUID(required=True)
    association_id = fields.String(required=True)
    tenancy_ref = fields.String(required=True, allow_none=True)
    citizen_ref = fields.UUID(required=True, allow_none=True)
    level = Enum(LadderLevel, required=True)
    previous_level = Enum(LadderLevel, required=True, allow_none=True)
    next_deadline = UTCDateTime(required=True, allow_none=True)
    asks = fields.List(fields.Nested(AskSchema), required=True)
    occurred_at = UTCDateTime(required=True)


@registry.event(
    "housing.case_closed",
    1,
    summary="An arrears case was closed (tenancy kept, lost or ended).",
    correlation="the case id",
    example={"case_id": CASE, "association_id": "kab-ballerup", "tenancy_ref": "12-0304-2",
             "citizen_ref": CITIZEN, "closure": "tenancy_kept",
             "closed_at": "2024-04-02T08:00:00+00:00"},
)
class CaseClosedV1(Schema):
    case_id = fields.UUID(required=True)
    association_id = fields.String(required=True)
    tenancy_ref = fields.String(required=True, allow_none=True)
    citizen_ref = fields.UUID(required=True, allow_none=True)
    closure = Enum(Closure, required=True)
    closed_at = UTCDateTime(required=True)


@registry.event(
    "housing.partner_status",
    1,
    summary="What the housing association may know: a typed status about its own tenancy.",
    correlation="the case id",
    example={"association_id": "kab-ballerup", "case_ref": CASE, "tenancy_ref": "12-0304-2",
             "status": "hold_termination_requested", "requested": "hold_termination",
             "occurred_on": "2024-02-16", "hold_until": "2024-03-15", "eviction_date": None},
)
class PartnerStatusV1(Schema):
    association_id = fields.String(required=True)
    case_ref = fields.UUID(required=True)
    tenancy_ref = fields.String(required=True, allow_none=True)
    status = Enum(PartnerStatus, required=True)
    requested = fields.String(
        required=True, allow_none=True,
        validate=validate.OneOf(["for_information", "hold_termination", "hold_eviction",
                                 "postpone_eviction"]),
    )
    occurred_on = fields.Date(required=True)
    hold_until = fields.Date(required=True, allow_none=True)
    eviction_date = fields.Date(required=True, allow_none=True)
