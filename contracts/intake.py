"""Contracts of the intake service (Fronten): its events and RPC arguments.

No CPR number, name or free text of the citizen ever appears in an event: other
services know the citizen only as `citizen_ref`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from marshmallow import Schema, fields, validate

from contracts.actor import ActorField, actor_field
from contracts.fields import Enum, UTCDateTime
from contracts.registry import registry
from contracts.vocabulary import (
    INFORMATION_KINDS,
    Channel,
    ConsentPurpose,
    CourseKind,
    InquirerKind,
    Outcome,
    PartnerKind,
    Topic,
)
from contracts.worklist import WorklistArgs, WorklistPage

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


class ResponsibleV1(Schema):
    """A course's responsible staff member (the known face at Fronten): their work
    contact, so that a partner knows whom to call. Not citizen data."""

    staff_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(required=True, allow_none=True, validate=validate.Length(max=40))


_RESPONSIBLE_EXAMPLE = {"staff_id": "fronten-anne", "name": "Anne Andersen",
                        "email": "anne@balk.dk", "phone": "+45 44 77 34 43"}


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
        "responsible": _RESPONSIBLE_EXAMPLE,
    },
)
class BridgingDueV1(Schema):
    course_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    partner_kind = Enum(PartnerKind, required=True)
    due_on = fields.Date(required=True)
    planned_end = fields.Date(required=True)
    # The course's responsible staff member (issue 10): whom the partner contacts.
    responsible = fields.Nested(ResponsibleV1, load_default=None, allow_none=True)


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
    actor = actor_field()
    channel = Enum(Channel, required=True)
    inquirer_kind = Enum(InquirerKind, required=True)
    topics = fields.List(
        Enum(Topic), required=True, validate=validate.Length(min=1)
    )
    # The citizen's own words for what they want to change.
    wish = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    citizen_ref = fields.UUID(load_default=None, allow_none=True)
    registered_at = UTCDateTime(load_default=None, allow_none=True)


# --- course events added by the intake service (issue 3) ----------------------------

_REVIEW_DECISIONS = ("end", "refer_85", "continue")
_REFERRAL_OUTCOMES = ("granted", "refused", "withdrawn")
_END_REASONS = ("planned_end", "broken_agreements", "max_length_reached", "citizen_withdrew")


@registry.event(
    "intake.course_review_requested",
    1,
    summary="A course's planned end was put to the tværgående udvalg (cross-unit review panel).",
    correlation="the course id",
    example={
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "kind": "individual_82b",
        "requested_on": "2018-09-10",
        "planned_end": "2018-10-09",
    },
)
class CourseReviewRequestedV1(Schema):
    course_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    kind = Enum(CourseKind, required=True)
    requested_on = fields.Date(required=True)
    planned_end = fields.Date(required=True)


@registry.event(
    "intake.course_review_decided",
    1,
    summary="The tværgående udvalg decided on a course's planned end: end, refer_85 or continue.",
    correlation="the course id",
    example={
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "decision": "end",
        "decided_on": "2018-09-20",
        "planned_end": "2018-10-09",
    },
)
class CourseReviewDecidedV1(Schema):
    course_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(_REVIEW_DECISIONS))
    decided_on = fields.Date(required=True)
    # The planned end the decision was about (a "continue" decision moves it: see course_extended).
    planned_end = fields.Date(required=True)


@registry.event(
    "intake.course_extended",
    1,
    summary="A course's planned end was moved later, within its maximum length.",
    correlation="the course id",
    example={
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "previous_planned_end": "2018-08-09",
        "planned_end": "2018-10-09",
    },
)
class CourseExtendedV1(Schema):
    course_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    previous_planned_end = fields.Date(required=True)
    planned_end = fields.Date(required=True)


@registry.event(
    "intake.referral_85_made",
    1,
    summary="Fronten referred a citizen on a course to Social Vejledning for a § 85 assessment.",
    correlation="the course id",
    example={
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "referred_on": "2018-09-20",
        "responsible": _RESPONSIBLE_EXAMPLE,
    },
)
class Referral85MadeV1(Schema):
    course_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    referred_on = fields.Date(required=True)
    # The course's responsible staff member (issue 10): whom Social Vejledning contacts.
    responsible = fields.Nested(ResponsibleV1, load_default=None, allow_none=True)


@registry.event(
    "intake.referral_85_decided",
    1,
    summary="The outcome of a § 85 referral was fed back: granted, refused or withdrawn.",
    correlation="the course id",
    example={
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "outcome": "granted",
        "decided_on": "2018-10-15",
    },
)
class Referral85DecidedV1(Schema):
    course_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(_REFERRAL_OUTCOMES))
    decided_on = fields.Date(required=True)


# --- issue 15: the 4-week rule proposes, a person decides; bridging cancellations -----

ENDING_RULES = ("four_weeks_broken_agreements",)
BRIDGING_CANCEL_REASONS = ("course_ended_early",)


@registry.event(
    "intake.course_ending_proposed",
    1,
    summary="The 4-week rule is met (4 weeks of broken agreements): Fronten must confirm "
    "the ending or record that the citizen is back on track. Nothing has ended yet.",
    correlation="the course id",
    example={
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "kind": "individual_82b",
        "proposed_on": "2018-05-29",
        "rule": "four_weeks_broken_agreements",
        "last_kept_on": "2018-05-01",
    },
)
class CourseEndingProposedV1(Schema):
    course_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    kind = Enum(CourseKind, required=True)
    # The day the proposal was made (never dated back to when the rule's dates were met).
    proposed_on = fields.Date(required=True)
    rule = fields.String(required=True, validate=validate.OneOf(ENDING_RULES))
    # The last agreement the citizen kept; null when none was kept since the start.
    last_kept_on = fields.Date(required=True, allow_none=True)


@registry.event(
    "intake.bridging_cancelled",
    1,
    summary="A course ended before its planned end: the bridging announced to a partner "
    "(intake.bridging_due) will not happen.",
    correlation="the course id",
    example={
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "partner_kind": "employment",
        "due_on": "2018-05-09",
        "cancelled_on": "2018-06-30",
        "reason": "course_ended_early",
    },
)
class BridgingCancelledV1(Schema):
    course_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    partner_kind = Enum(PartnerKind, required=True)
    due_on = fields.Date(required=True)  # the due_on of the bridging_due that was sent
    cancelled_on = fields.Date(required=True)  # the day the course ended
    reason = fields.String(required=True, validate=validate.OneOf(BRIDGING_CANCEL_REASONS))


# --- issue 10: the course's responsible staff member (known faces) ------------------------


@registry.event(
    "intake.course_responsible_changed",
    1,
    summary="A course has a new responsible staff member (the citizen's known face at "
    "Fronten), recorded like a tovholder handover. Work contact only; the handover note "
    "stays in intake.",
    correlation="the course id",
    example={
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "staff_id": "fronten-karl",
        "name": "Karl Jensen",
        "changed_at": "2018-06-04T08:00:00+00:00",
        "email": "karl@balk.dk",
        "phone": "+45 44 77 34 44",
    },
)
class CourseResponsibleChangedV1(Schema):
    course_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    staff_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    changed_at = UTCDateTime(required=True)
    # The new responsible's work contact (partners update the contact on open hand-offs).
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))


# --- RPC arguments and results --------------------------------------------------------
#
# Every method takes `actor` (who acts; set by the gateway from the authenticated
# caller). Reads and searches of a citizen's data also take `purpose`: both go into
# the access log. Dates are ISO dates ("2018-04-09"); times carry a UTC offset.


class ContactChannel(StrEnum):
    """How the citizen prefers to be contacted."""

    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"  # brev (Digital Post or paper)


def _actor() -> ActorField:
    return actor_field()


def _purpose() -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=200))


_PHONE = validate.Regexp(r"^\+?[0-9][0-9 ]{5,30}$", error="Digits, spaces and a leading +.")


def _address(**kwargs: Any) -> fields.String:
    # Free text, e.g. "Hedelyngen 12, st. tv., 2750 Ballerup": for home meetings.
    return fields.String(allow_none=True, validate=validate.Length(min=1, max=300), **kwargs)


@registry.rpc(
    SERVICE,
    "resolve_inquiry",
    summary="Resolve an inquiry with an outcome; referral_pathway also publishes "
    "intake.pathway_referral for coordination.",
    example={
        "actor": "staff:fronten-anne",
        "inquiry_id": "6f1c2b9e-3d7a-4c1e-9a55-2b8f0d6c4e11",
        "outcome": "advice_only",
        "conversations": 2,
    },
)
class ResolveInquiryArgs(Schema):
    actor = _actor()
    inquiry_id = fields.UUID(required=True)
    outcome = Enum(Outcome, required=True)
    # Advice only: how many conversations it took (one or more).
    conversations = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=1000)
    )
    resolved_at = UTCDateTime(load_default=None, allow_none=True)


@registry.rpc(
    SERVICE,
    "get_inquiry",
    summary="Show one inquiry, with the citizen's own words.",
    example={
        "actor": "staff:fronten-anne",
        "inquiry_id": "6f1c2b9e-3d7a-4c1e-9a55-2b8f0d6c4e11",
        "purpose": "opfølgning på henvendelse",
    },
)
class GetInquiryArgs(Schema):
    actor = _actor()
    inquiry_id = fields.UUID(required=True)
    purpose = _purpose()


@registry.rpc(
    SERVICE,
    "register_citizen",
    summary="Register a citizen by CPR number (validated by date and century digit); "
    "returns the citizen_ref everyone else uses. A known CPR number is a conflict.",
    example={
        "actor": "staff:fronten-anne",
        "cpr": "010203-4562",
        "name": "Mikkel Hansen",
        "email": "mikkel@example.dk",
        "phone": "+45 20 30 40 50",
        "address": "Hedelyngen 12, st. tv., 2750 Ballerup",
        "preferred_channel": "sms",
    },
)
class RegisterCitizenArgs(Schema):
    actor = _actor()
    cpr = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, allow_none=True, validate=_PHONE)
    address = _address(load_default=None)
    preferred_channel = Enum(ContactChannel, required=True)


@registry.rpc(
    SERVICE,
    "update_contact",
    summary="Change a citizen's name or contact details; only the fields given change "
    "(null clears email, phone or address).",
    example={
        "actor": "staff:fronten-anne",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "phone": "+45 20 30 40 51",
        "preferred_channel": "sms",
    },
)
class UpdateContactArgs(Schema):
    actor = _actor()
    citizen_ref = fields.UUID(required=True)
    name = fields.String(validate=validate.Length(min=1, max=200))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=_PHONE)
    address = _address()
    preferred_channel = Enum(ContactChannel)


@registry.rpc(
    SERVICE,
    "get_citizen",
    summary="Show a citizen: name, contact, age and target group; the CPR number only "
    "when asked for (show_cpr), and that is logged as its own read.",
    example={
        "actor": "staff:fronten-anne",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "purpose": "forberedelse af samtale",
        "show_cpr": False,
    },
)
class GetCitizenArgs(Schema):
    actor = _actor()
    citizen_ref = fields.UUID(required=True)
    purpose = _purpose()
    show_cpr = fields.Boolean(load_default=False)


class ContactResult(Schema):
    citizen_ref = fields.UUID(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True)
    # Free text; null when unknown (notifications reads it for home meetings).
    address = fields.String(load_default=None, allow_none=True)
    preferred_channel = Enum(ContactChannel, required=True)


@registry.rpc(
    SERVICE,
    "get_contact",
    result=ContactResult,
    summary="The citizen's name and contact details, for notifications at send time "
    "(addresses never ride on the broker). Logged as a read.",
    example={
        "actor": "service:notifications",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "purpose": "mødeindkaldelse",
    },
)
class GetContactArgs(Schema):
    actor = _actor()
    citizen_ref = fields.UUID(required=True)
    purpose = _purpose()



class MatchResult(Schema):
    citizen_ref = fields.UUID(required=True, allow_none=True)


@registry.rpc(
    SERVICE,
    "match_citizen",
    result=MatchResult,
    summary="Find a citizen_ref: an exact CPR match (through the lookup hash), or without "
    "a CPR number only an unambiguous match on name and birth date. Logged as a search.",
    example={
        "actor": "service:housing",
        "purpose": "lejer med huslejerestance",
        "cpr": None,
        "name": "Mikkel Hansen",
        "birth_date": "2003-02-01",
    },
)
class MatchCitizenArgs(Schema):
    actor = _actor()
    purpose = _purpose()
    cpr = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    birth_date = fields.Date(load_default=None, allow_none=True)



@registry.rpc(
    SERVICE,
    "lookups_of_citizen",
    summary="Dates and purposes of every read, search, change and disclosure of a "
    "citizen's data (for the citizen's own request). The query itself is logged too.",
    example={
        "actor": "staff:fronten-anne",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "purpose": "borgerens anmodning om indsigt",
    },
)
class LookupsOfCitizenArgs(Schema):
    actor = _actor()
    citizen_ref = fields.UUID(required=True)
    purpose = _purpose()


@registry.rpc(
    SERVICE,
    "access_report",
    summary="intake's part of the citizen's access report (the gateway merges every "
    "service's): every read, search, change and disclosure of the citizen's data in "
    "intake, oldest first. Fronten and operators; logged as a read of the access log.",
    example={
        "actor": "staff:fronten-anne",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
    },
)
class AccessReportArgs(Schema):
    actor = _actor()
    citizen_ref = fields.UUID(required=True)


def _information_kinds() -> fields.List:
    return fields.List(
        fields.String(validate=validate.OneOf(INFORMATION_KINDS)),
        required=True,
        validate=validate.Length(min=1),
    )


@registry.rpc(
    SERVICE,
    "give_consent",
    summary="Record a specific consent (samtykke): recipient, kinds of information, "
    "purpose, form. The recipient is a partner id from the directory (for bridging, "
    "keep_home, offer_referral) or an agency (for pathway_team); the purpose a "
    "ConsentPurpose. An unknown value is refused with the allowed values listed "
    "(consent_vocabulary lists them too). Publishes intake.consent_given.",
    example={
        "actor": "staff:fronten-anne",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "recipient": "jobcenter-ballerup",
        "information_kinds": ["bridging_status", "meeting_schedule"],
        "purpose": "bridging_employment",
        "form": "written",
    },
)
class GiveConsentArgs(Schema):
    actor = _actor()
    citizen_ref = fields.UUID(required=True)
    recipient = fields.String(required=True, validate=validate.Length(min=1, max=128))
    information_kinds = _information_kinds()
    purpose = Enum(ConsentPurpose, required=True)
    form = fields.String(required=True, validate=validate.Length(min=1, max=16))
    given_at = UTCDateTime(load_default=None, allow_none=True)


@registry.rpc(
    SERVICE,
    "correct_consent",
    summary="A person fixes a consent registered in free text before the vocabulary "
    "(Fronten's list consents-to-correct): the recipient and purpose the citizen meant, "
    "from the vocabulary. The original text is kept. Publishes intake.consent_given again "
    "for the same consent_id with the corrected values.",
    example={
        "actor": "staff:fronten-anne",
        "consent_id": "3a1f0c1e-5b2d-4e8f-9a7b-1c2d3e4f5a6b",
        "recipient": "jobcenter-ballerup",
        "purpose": "bridging_employment",
    },
)
class CorrectConsentArgs(Schema):
    actor = _actor()
    consent_id = fields.UUID(required=True)
    recipient = fields.String(required=True, validate=validate.Length(min=1, max=128))
    purpose = Enum(ConsentPurpose, required=True)


@registry.rpc(
    SERVICE,
    "consent_vocabulary",
    summary="What a consent can name, for the consent form's pick lists: recipients "
    "(the partners in the directory and the agencies), purposes and kinds of "
    "information, each with its Danish name.",
    example={"actor": "staff:fronten-anne"},
)
class ConsentVocabularyArgs(Schema):
    actor = _actor()


@registry.rpc(
    SERVICE,
    "withdraw_consent",
    summary="Withdraw a consent (twice is refused). Publishes intake.consent_withdrawn.",
    example={
        "actor": "staff:fronten-anne",
        "consent_id": "3a1f0c1e-5b2d-4e8f-9a7b-1c2d3e4f5a6b",
    },
)
class WithdrawConsentArgs(Schema):
    actor = _actor()
    consent_id = fields.UUID(required=True)
    withdrawn_at = UTCDateTime(load_default=None, allow_none=True)


@registry.rpc(
    SERVICE,
    "list_consents",
    summary="Show a citizen's consents, given and withdrawn.",
    example={
        "actor": "staff:fronten-anne",
        "citizen_ref": "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80",
        "purpose": "gennemgang af samtykker med borgeren",
    },
)
class ListConsentsArgs(Schema):
    actor = _actor()
    citizen_ref = fields.UUID(required=True)
    purpose = _purpose()


class PlanArgs(Schema):
    # Indsatsmål (goals) in the citizen's own words; opfølgning (follow-up) dates.
    goals = fields.List(fields.String(validate=validate.Length(max=2000)), required=True)
    follow_up_dates = fields.List(fields.Date(), required=True)


class ResponsibleArgs(Schema):
    """A staff member responsible for a course, from the staff directory: the staff id
    (the signed-in person's id) and their work contact."""

    staff_id = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$",
        error="Letters, digits and . _ @ + -, at most 128."))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, allow_none=True, validate=_PHONE)


@registry.rpc(
    SERVICE,
    "start_course",
    summary="Start a § 82 a group course, an SFT group (9 months) or a § 82 b individual "
    "course (at most 6 months, a setting) for an inquiry with a registered citizen, not "
    "before the inquiry's day. Publishes intake.course_started. `imported`: history "
    "registered after the fact (clocks that fell due before today are settled silently).",
    example={
        "actor": "staff:fronten-anne",
        "inquiry_id": "6f1c2b9e-3d7a-4c1e-9a55-2b8f0d6c4e11",
        "kind": "individual_82b",
        "start_date": "2018-04-09",
        "planned_end": "2018-10-09",
        "plan": {
            "goals": ["Jeg vil kunne åbne mine breve selv."],
            "follow_up_dates": ["2018-05-07", "2018-07-02"],
        },
        "bridging_to": ["employment"],
        "responsible": {"staff_id": "fronten-anne", "name": "Anne Andersen",
                        "email": "anne@balk.dk", "phone": "+45 44 77 34 43"},
    },
)
class StartCourseArgs(Schema):
    actor = _actor()
    inquiry_id = fields.UUID(required=True)
    kind = Enum(CourseKind, required=True)
    plan = fields.Nested(PlanArgs, required=True)
    start_date = fields.Date(load_default=None, allow_none=True)  # default: today
    planned_end = fields.Date(load_default=None, allow_none=True)  # SFT: computed
    bridging_to = fields.List(Enum(PartnerKind), load_default=list)
    # Import mode (docs/intake.md): the inquiry is resolved as of the course's start, not
    # today, and clocks that fell due before today are settled without reminders or
    # messages to partners.
    imported = fields.Boolean(load_default=False)
    # The course's responsible staff member (the known face); default: the caller.
    responsible = fields.Nested(ResponsibleArgs, load_default=None, allow_none=True)


class _CourseArgs(Schema):
    actor = _actor()
    course_id = fields.UUID(required=True)


@registry.rpc(
    SERVICE,
    "get_course",
    summary="Show a course: plan, attendance, review, referrals, pending deadlines and "
    "staff notices (follow-up due, review due, end overdue, bridging partner missing).",
    example={
        "actor": "staff:fronten-anne",
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "purpose": "opfølgningssamtale",
    },
)
class GetCourseArgs(_CourseArgs):
    purpose = _purpose()


@registry.rpc(
    SERVICE,
    "record_attendance",
    summary="Record whether an agreement (aftale) on a day was kept or broken.",
    example={
        "actor": "staff:fronten-anne",
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "on": "2018-04-16",
        "kept": False,
    },
)
class RecordAttendanceArgs(_CourseArgs):
    on = fields.Date(required=True)
    kept = fields.Boolean(required=True)


@registry.rpc(
    SERVICE,
    "revise_plan",
    summary="Replace a course's plan (goals and follow-up dates), agreed again with the citizen.",
    example={
        "actor": "staff:fronten-anne",
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "plan": {"goals": ["Jeg vil handle ind selv."], "follow_up_dates": ["2018-06-04"]},
    },
)
class RevisePlanArgs(_CourseArgs):
    plan = fields.Nested(PlanArgs, required=True)


@registry.rpc(
    SERVICE,
    "plan_bridging",
    summary="Choose who the citizen is bridged to (employment, education, health).",
    example={
        "actor": "staff:fronten-anne",
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "partner_kinds": ["education"],
    },
)
class PlanBridgingArgs(_CourseArgs):
    partner_kinds = fields.List(Enum(PartnerKind), required=True)


@registry.rpc(
    SERVICE,
    "request_review",
    summary="Put the course's planned end to the tværgående udvalg (review panel).",
    example={
        "actor": "staff:fronten-anne",
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "on": "2018-09-10",
    },
)
class RequestReviewArgs(_CourseArgs):
    on = fields.Date(load_default=None, allow_none=True)  # default: today


@registry.rpc(
    SERVICE,
    "decide_review",
    summary="Record the review panel's decision: end, refer_85 (end and refer) or "
    "continue (to a new planned end within the maximum length).",
    example={
        "actor": "staff:fronten-anne",
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "decision": "continue",
        "new_planned_end": "2018-10-09",
    },
)
class DecideReviewArgs(_CourseArgs):
    decision = fields.String(required=True, validate=validate.OneOf(_REVIEW_DECISIONS))
    on = fields.Date(load_default=None, allow_none=True)
    new_planned_end = fields.Date(load_default=None, allow_none=True)


@registry.rpc(
    SERVICE,
    "extend_course",
    summary="Move the planned end later within the maximum length (not SFT); needs a new review.",
    example={
        "actor": "staff:fronten-anne",
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "planned_end": "2018-10-09",
    },
)
class ExtendCourseArgs(_CourseArgs):
    planned_end = fields.Date(required=True)


@registry.rpc(
    SERVICE,
    "refer_to_85",
    summary="Refer the citizen to Social Vejledning for a § 85 assessment (tracked).",
    example={
        "actor": "staff:fronten-anne",
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
    },
)
class ReferTo85Args(_CourseArgs):
    on = fields.Date(load_default=None, allow_none=True)


@registry.rpc(
    SERVICE,
    "record_referral_85_outcome",
    summary="Feed back the outcome of the open § 85 referral (also after the course ended).",
    example={
        "actor": "staff:social-vejledning-bo",
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "outcome": "granted",
    },
)
class RecordReferral85OutcomeArgs(_CourseArgs):
    outcome = fields.String(required=True, validate=validate.OneOf(_REFERRAL_OUTCOMES))
    on = fields.Date(load_default=None, allow_none=True)


@registry.rpc(
    SERVICE,
    "end_course",
    summary="End a course: planned_end needs the review panel's approval; the citizen "
    "may always withdraw. (broken_agreements and max_length_reached are set by the clocks.)",
    example={
        "actor": "staff:fronten-anne",
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "reason": "planned_end",
        "on": "2018-10-09",
    },
)
class EndCourseArgs(_CourseArgs):
    reason = fields.String(load_default="planned_end", validate=validate.OneOf(_END_REASONS))
    on = fields.Date(load_default=None, allow_none=True)


@registry.rpc(
    SERVICE,
    "hand_over_course",
    summary="Give the course a new responsible staff member (the citizen's known face), "
    "with a note for the new one. Recorded like a tovholder handover: history, the "
    "course's timeline, and intake.course_responsible_changed.",
    example={
        "actor": "staff:fronten-anne",
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "responsible": {"staff_id": "fronten-karl", "name": "Karl Jensen",
                        "email": "karl@balk.dk", "phone": "+45 44 77 34 44"},
        "note": "Mikkel foretrækker at blive ringet op om formiddagen.",
    },
)
class HandOverCourseArgs(_CourseArgs):
    responsible = fields.Nested(ResponsibleArgs, required=True)
    # For the new responsible staff member (staff only, never sent to anyone else).
    note = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=2000))


@registry.rpc(
    SERVICE,
    "statistics",
    summary="Fronten's report for any period: inquiries, § 82 b courses started and of "
    "those referred to § 85, active courses on a day, with breakdowns; also as Danish text.",
    example={
        "actor": "staff:fronten-leder",
        "period_start": "2018-04-01",
        "period_end": "2018-07-31",
    },
)
class StatisticsArgs(Schema):
    actor = _actor()
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    as_of = fields.Date(load_default=None, allow_none=True)  # default: the period's last day


# --- issue 15: decisions that take items off the worklists -----------------------------


@registry.rpc(
    SERVICE,
    "confirm_course_ending",
    summary="Confirm the 4-week rule's proposal: the course ends today (reason "
    "broken_agreements). Publishes intake.course_ended, and intake.bridging_cancelled for "
    "every partner told about bridging if it ends before its planned end.",
    example={
        "actor": "staff:fronten-anne",
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
    },
)
class ConfirmCourseEndingArgs(_CourseArgs):
    pass


@registry.rpc(
    SERVICE,
    "record_back_on_track",
    summary="Reject the 4-week rule's proposal: the citizen is back on track as of today "
    "and the course continues (the 4 weeks count again from today).",
    example={
        "actor": "staff:fronten-anne",
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
    },
)
class RecordBackOnTrackArgs(_CourseArgs):
    pass


@registry.rpc(
    SERVICE,
    "record_follow_up",
    summary="Record that the follow-up (opfølgning) agreed for a day was held: it leaves "
    "Fronten's follow-up list.",
    example={
        "actor": "staff:fronten-anne",
        "course_id": "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d",
        "follow_up_on": "2018-05-07",
    },
)
class RecordFollowUpArgs(_CourseArgs):
    follow_up_on = fields.Date(required=True)  # the agreed follow-up day


FLAG_DECISIONS = ("accepted", "declined")
FLAG_SUBJECTS = ("course", "pathway_referral", "referral_85")


@registry.rpc(
    SERVICE,
    "decide_target_group_flag",
    summary="Decide a flag for a citizen outside the target group (16 to state pension "
    "age): accepted (it goes on) or declined (Fronten ends it or finds another offer).",
    example={
        "actor": "staff:fronten-anne",
        "flag_id": "5d0c3f2a-9b1e-4c7d-8a6f-2e3b4c5d6e7f",
        "decision": "accepted",
    },
)
class DecideTargetGroupFlagArgs(Schema):
    actor = _actor()
    flag_id = fields.UUID(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(FLAG_DECISIONS))


# --- issue 15: worklists (contracts.worklist: cursor, limit; each item says why and by
# when, in Danish). Every page read is logged as one search in the access log. ---------


class _CourseWorklistArgs(WorklistArgs):
    kind = Enum(CourseKind, load_default=None, allow_none=True)
    # Only the courses the caller started (the course's responsible staff member).
    mine = fields.Boolean(load_default=False)


@registry.rpc(
    SERVICE,
    "worklist_open_inquiries",
    result=WorklistPage,
    summary="Fronten: inquiries with no outcome yet, oldest first. Item details: channel, "
    "inquirer_kind, topics, anonymous, in_target_group (null when anonymous).",
    example={"actor": "staff:fronten-anne", "limit": 50, "channel": "phone"},
)
class OpenInquiriesArgs(WorklistArgs):
    channel = Enum(Channel, load_default=None, allow_none=True)
    inquirer_kind = Enum(InquirerKind, load_default=None, allow_none=True)


@registry.rpc(
    SERVICE,
    "worklist_follow_ups",
    result=WorklistPage,
    summary="Fronten: follow-ups (opfølgning) due today or overdue and not recorded as "
    "held, on running courses, the oldest first.",
    example={"actor": "staff:fronten-anne", "limit": 50, "mine": True},
)
class FollowUpsArgs(_CourseWorklistArgs):
    pass


@registry.rpc(
    SERVICE,
    "worklist_bridging",
    result=WorklistPage,
    summary="Fronten: running courses whose bridging (brobygning) is due, the earliest "
    "first; those with no partner chosen say so (filter partner_missing).",
    example={"actor": "staff:fronten-anne", "partner_missing": True},
)
class BridgingArgs(_CourseWorklistArgs):
    partner_missing = fields.Boolean(load_default=False)


@registry.rpc(
    SERVICE,
    "worklist_review_agenda",
    result=WorklistPage,
    summary="The tværgående udvalg's agenda: running courses whose planned end awaits the "
    "panel's decision, the soonest end first; include_not_requested adds courses whose "
    "review is due but not yet requested by Fronten.",
    example={"actor": "staff:udvalg-bo", "include_not_requested": False},
)
class ReviewAgendaArgs(_CourseWorklistArgs):
    include_not_requested = fields.Boolean(load_default=False)


@registry.rpc(
    SERVICE,
    "worklist_end_overdue",
    result=WorklistPage,
    summary="Fronten: running courses past their planned end, the longest overdue first, "
    "saying whether the panel has been asked, is pending or approved the end.",
    example={"actor": "staff:fronten-anne"},
)
class EndOverdueArgs(_CourseWorklistArgs):
    pass


@registry.rpc(
    SERVICE,
    "worklist_ending_proposed",
    result=WorklistPage,
    summary="Fronten: courses the 4-week rule proposes to end, awaiting a person's "
    "decision (confirm_course_ending or record_back_on_track), the oldest first.",
    example={"actor": "staff:fronten-anne"},
)
class EndingProposedArgs(_CourseWorklistArgs):
    pass


@registry.rpc(
    SERVICE,
    "worklist_referrals_85",
    result=WorklistPage,
    summary="Social Vejledning: § 85 referrals awaiting a decision, the oldest first, "
    "each due within REFERRAL_85_ANSWER_WORKING_DAYS working days.",
    example={"actor": "staff:social-vejledning-bo"},
)
class Referrals85Args(WorklistArgs):
    kind = Enum(CourseKind, load_default=None, allow_none=True)


@registry.rpc(
    SERVICE,
    "worklist_outside_target_group",
    result=WorklistPage,
    summary="Fronten: courses and referrals for citizens outside the target group (16 to "
    "state pension age), awaiting a decision (decide_target_group_flag), oldest first.",
    example={"actor": "staff:fronten-anne", "subject": "course"},
)
class OutsideTargetGroupArgs(WorklistArgs):
    subject = fields.String(load_default=None, allow_none=True,
                            validate=validate.OneOf(FLAG_SUBJECTS))


@registry.rpc(
    SERVICE,
    "worklist_consents_to_correct",
    result=WorklistPage,
    summary="Fronten: consents (samtykker der skal rettes) whose recipient or purpose is "
    "not in the vocabulary (free text from before it, or a recipient not in the partner "
    "directory), not withdrawn, the oldest first. Fixed with correct_consent (or "
    "withdraw_consent).",
    example={"actor": "staff:fronten-anne", "limit": 50},
)
class ConsentsToCorrectArgs(WorklistArgs):
    pass
