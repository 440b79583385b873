"""Contracts of the intake service (Fronten): its events and RPC arguments.

No CPR number, name or free text of the citizen ever appears in an event: other
services know the citizen only as `citizen_ref`.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.fields import Enum, UTCDateTime
from contracts.registry import registry
from contracts.vocabulary import (
    INFORMATION_KINDS,
    Channel,
    CourseKind,
    InquirerKind,
    Outcome,
    PartnerKind,
    Topic,
)

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


@registry.event(
    "intake.inquiry_resolved",
    1,
    summary="An inquiry was resolved with an outcome (udfald).",
    correlation="the inquiry id",
    example={
        "inquiry_id": "6f1c2b9e-3d7a-4c1e-9a55-2b8f0d6c4e11",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "outcome": "individual_course_82b",
        "resolved_at": "2018-04-03T09:00:00+00:00",
    },
)
class InquiryResolvedV1(Schema):
    inquiry_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True, allow_none=True)
    outcome = Enum(Outcome, required=True)
    resolved_at = UTCDateTime(required=True)


@registry.event(
    "intake.pathway_referral",
    1,
    summary="Fronten referred a citizen to a sammenhængende borgerforløb (coherent pathway).",
    correlation="the inquiry id",
    example={
        "inquiry_id": "6f1c2b9e-3d7a-4c1e-9a55-2b8f0d6c4e11",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "topics": ["education", "loneliness"],
        "under_30": True,
        "referred_at": "2018-04-03T09:00:00+00:00",
        "referred_by": "staff:fronten-anne",
    },
)
class PathwayReferralV1(Schema):
    inquiry_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    topics = fields.List(Enum(Topic), required=True, validate=validate.Length(min=1))
    under_30 = fields.Boolean(required=True)
    referred_at = UTCDateTime(required=True)
    referred_by = fields.String(required=True, validate=validate.Length(min=1, max=128))


@registry.event(
    "intake.consent_given",
    1,
    summary="The citizen gave a specific consent (samtykke) to share information.",
    correlation="the consent id",
    example={
        "consent_id": "3a1f0c1e-5b2d-4e8f-9a7b-1c2d3e4f5a6b",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "recipient": "jobcenter-ballerup",
        "information_kinds": ["bridging_status", "meeting_schedule"],
        "purpose": "brobygning til beskæftigelse",
        "given_at": "2018-04-03T09:05:00+00:00",
    },
)
class ConsentGivenV1(Schema):
    consent_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    # A partner id (e.g. a housing association's id, "jobcenter-ballerup") or an agency.
    recipient = fields.String(required=True, validate=validate.Length(min=1, max=128))
    information_kinds = fields.List(
        fields.String(validate=validate.OneOf(INFORMATION_KINDS)),
        required=True,
        validate=validate.Length(min=1),
    )
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=200))
    given_at = UTCDateTime(required=True)


@registry.event(
    "intake.consent_withdrawn",
    1,
    summary="The citizen withdrew a consent: nothing more may be shared under it.",
    correlation="the consent id",
    example={
        "consent_id": "3a1f0c1e-5b2d-4e8f-9a7b-1c2d3e4f5a6b",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "recipient": "jobcenter-ballerup",
        "withdrawn_at": "2018-05-01T10:00:00+00:00",
    },
)
class ConsentWithdrawnV1(Schema):
    consent_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    recipient = fields.String(required=True, validate=validate.Length(min=1, max=128))
    withdrawn_at = UTCDateTime(required=True)


@registry.event(
    "intake.course_started",
    1,
    summary="A § 82 a group course, an SFT group or a § 82 b individual course started.",
    correlation="the course id",
    example={
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "kind": "individual_82b",
        "start_date": "2018-04-09",
        "planned_end": "2018-10-09",
    },
)
class CourseStartedV1(Schema):
    course_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    kind = Enum(CourseKind, required=True)
    start_date = fields.Date(required=True)
    planned_end = fields.Date(required=True)


@registry.event(
    "intake.course_ended",
    1,
    summary="A course ended (planned, 4 weeks of broken agreements, maximum length, ...).",
    correlation="the course id",
    example={
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "kind": "individual_82b",
        "reason": "broken_agreements",
        "ended_on": "2018-05-07",
    },
)
class CourseEndedV1(Schema):
    course_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    kind = Enum(CourseKind, required=True)
    # planned_end | broken_agreements | max_length_reached | citizen_withdrew | referred_85
    reason = fields.String(required=True, validate=validate.Length(min=1, max=64))
    ended_on = fields.Date(required=True)


@registry.event(
    "intake.bridging_due",
    1,
    summary="Brobygning (bridge building) to employment, education or health starts now.",
    correlation="the course id",
    example={
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "partner_kind": "employment",
        "due_on": "2018-08-09",
        "planned_end": "2018-10-09",
    },
)
class BridgingDueV1(Schema):
    course_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    partner_kind = Enum(PartnerKind, required=True)
    due_on = fields.Date(required=True)
    planned_end = fields.Date(required=True)


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
