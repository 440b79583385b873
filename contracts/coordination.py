"""Contracts of the coordination service (sammenhængende borgerforløb).

Staff participants carry their work e-mail (not personal data of the citizen); the
citizen and network participants never carry an address: notifications asks intake
for the citizen's contact at send time.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.fields import Enum, UTCDateTime
from contracts.registry import registry
from contracts.vocabulary import Agency, MeetingPlace, ParticipantKind

PATHWAY = "b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
CITIZEN = "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80"
MEETING = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"


class ParticipantSchema(Schema):
    participant_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    kind = Enum(ParticipantKind, required=True)
    required = fields.Boolean(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    # Work address of staff; None for the citizen and network (fetched at send time).
    email = fields.Email(required=True, allow_none=True)


_MEETING_EXAMPLE = {
    "meeting_id": MEETING,
    "pathway_id": PATHWAY,
    "citizen_ref": CITIZEN,
    "starts_at": "2021-03-02T09:00:00+00:00",
    "ends_at": "2021-03-02T10:00:00+00:00",
    "place": "home",
    "sequence": 0,
    "participants": [
        {"participant_id": "m-social", "kind": "tovholder", "required": True,
         "name": "Mette Socialrådgiver", "email": "mette@balk.dk"},
        {"participant_id": "citizen", "kind": "citizen", "required": True,
         "name": "Vincent", "email": None},
        {"participant_id": "m-school", "kind": "member", "required": False,
         "name": "Lærer Lars", "email": "lars@skole.dk"},
    ],
}


class _MeetingBase(Schema):
    meeting_id = fields.UUID(required=True)
    pathway_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    starts_at = UTCDateTime(required=True)
    ends_at = UTCDateTime(required=True)
    place = Enum(MeetingPlace, required=True)
    # RFC 5545 SEQUENCE: 0 when scheduled, +1 on each reschedule and on cancellation.
    sequence = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    participants = fields.List(fields.Nested(ParticipantSchema), required=True,
                               validate=validate.Length(min=2))


@registry.event("coordination.meeting_scheduled", 1, summary="A team meeting was scheduled.",
                correlation="the pathway id", example=_MEETING_EXAMPLE)
class MeetingScheduledV1(_MeetingBase):
    pass


@registry.event("coordination.meeting_rescheduled", 1, summary="A team meeting was moved.",
                correlation="the pathway id",
                example={**_MEETING_EXAMPLE, "sequence": 1,
                         "starts_at": "2021-03-03T09:00:00+00:00",
                         "ends_at": "2021-03-03T10:00:00+00:00"})
class MeetingRescheduledV1(_MeetingBase):
    pass


@registry.event("coordination.meeting_cancelled", 1, summary="A team meeting was cancelled.",
                correlation="the pathway id", example={**_MEETING_EXAMPLE, "sequence": 2})
class MeetingCancelledV1(_MeetingBase):
    pass


@registry.event(
    "coordination.meeting_held",
    1,
    summary="A meeting was held; who came (for the continuity figure).",
    correlation="the pathway id",
    example={"meeting_id": MEETING, "pathway_id": PATHWAY, "citizen_ref": CITIZEN,
             "held_at": "2021-03-02T09:00:00+00:00", "citizen_present": True,
             "tovholder_present": True},
)
class MeetingHeldV1(Schema):
    meeting_id = fields.UUID(required=True)
    pathway_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    held_at = UTCDateTime(required=True)
    citizen_present = fields.Boolean(required=True)
    tovholder_present = fields.Boolean(required=True)


@registry.event(
    "coordination.pathway_opened",
    1,
    summary="A sammenhængende borgerforløb was opened for a citizen.",
    correlation="the pathway id",
    example={"pathway_id": PATHWAY, "citizen_ref": CITIZEN, "tovholder_id": "m-social",
             "opened_at": "2021-02-01T09:00:00+00:00"},
)
class PathwayOpenedV1(Schema):
    pathway_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    # None while the pathway waits for a tovholder (opened from a referral).
    tovholder_id = fields.String(required=True, allow_none=True)
    opened_at = UTCDateTime(required=True)


@registry.event(
    "coordination.pathway_closed",
    1,
    summary="A pathway was closed.",
    correlation="the pathway id",
    example={"pathway_id": PATHWAY, "citizen_ref": CITIZEN,
             "closed_at": "2024-06-30T09:00:00+00:00"},
)
class PathwayClosedV1(Schema):
    pathway_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    closed_at = UTCDateTime(required=True)


@registry.event(
    "coordination.tovholder_handed_over",
    1,
    summary="The citizen has a new tovholder (lead coordinator); the citizen is told who.",
    correlation="the pathway id",
    example={"pathway_id": PATHWAY, "citizen_ref": CITIZEN,
             "old_tovholder_id": "m-social", "new_tovholder_id": "m-upoint",
             "new_tovholder_name": "Ulla Ungekonsulent", "new_tovholder_agency": "upoint",
             "new_tovholder_email": "ulla@balk.dk",
             "handed_over_at": "2022-01-10T09:00:00+00:00"},
)
class TovholderHandedOverV1(Schema):
    pathway_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    # None when the first tovholder is appointed to a pathway that had none.
    old_tovholder_id = fields.String(required=True, allow_none=True)
    new_tovholder_id = fields.String(required=True)
    new_tovholder_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    new_tovholder_agency = Enum(Agency, required=True)
    new_tovholder_email = fields.Email(required=True, allow_none=True)
    handed_over_at = UTCDateTime(required=True)
    # The reason stays in coordination: free text is not for the wire.


@registry.event(
    "coordination.member_added",
    1,
    summary="A team member joined the pathway's team.",
    correlation="the pathway id",
    example={"pathway_id": PATHWAY, "citizen_ref": CITIZEN, "member_id": "m-housing",
             "agency": "housing", "role": "boligrådgiver",
             "added_at": "2021-05-01T09:00:00+00:00"},
)
class MemberAddedV1(Schema):
    pathway_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    member_id = fields.String(required=True)
    agency = Enum(Agency, required=True)
    role = fields.String(required=True, validate=validate.Length(min=1, max=100))
    added_at = UTCDateTime(required=True)


@registry.event(
    "coordination.plan_agreed",
    1,
    summary="The citizen agreed to a version of the handleplan (action plan).",
    correlation="the pathway id",
    example={"pathway_id": PATHWAY, "citizen_ref": CITIZEN,
             "plan_id": "d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f60", "version": 1,
             "agreed_at": "2021-03-02T10:00:00+00:00", "how": "in_meeting"},
)
class PlanAgreedV1(Schema):
    pathway_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    plan_id = fields.UUID(required=True)
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    agreed_at = UTCDateTime(required=True)
    how = fields.String(required=True, validate=validate.OneOf(["in_meeting", "phone", "written"]))


_ACTION_EXAMPLE = {"pathway_id": PATHWAY, "citizen_ref": CITIZEN,
                   "action_id": "a-1", "owner_id": "m-upoint", "owner_email": "ulla@balk.dk",
                   "due_on": "2021-03-15"}


class _ActionBase(Schema):
    pathway_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    action_id = fields.String(required=True)
    owner_id = fields.String(required=True)
    owner_email = fields.Email(required=True, allow_none=True)
    due_on = fields.Date(required=True)


@registry.event("coordination.action_due", 1, summary="An action in the plan falls due.",
                correlation="the pathway id", example=_ACTION_EXAMPLE)
class ActionDueV1(_ActionBase):
    pass


@registry.event("coordination.action_overdue", 1, summary="An action is overdue.",
                correlation="the pathway id", example=_ACTION_EXAMPLE)
class ActionOverdueV1(_ActionBase):
    pass
