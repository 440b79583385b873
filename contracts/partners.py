"""Contracts of the partners service: the directory of partners and offers, and the
hand-offs to them (issue 16; docs/partners.md is the partner developer's guide).

A hand-off is a request to a partner that expects an answer. It moves
requested -> received -> accepted or declined -> in_progress -> completed, or is
cancelled. Its events carry the citizen only as `citizen_ref`, never a CPR number,
a name or free text about the citizen; what a partner is asked is a Danish standard
text with typed details (dates and references), written by this service.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.actor import actor_field
from contracts.fields import Enum, UTCDateTime
from contracts.registry import registry
from contracts.vocabulary import HandoffKind, HandoffState, PartnerCategory
from contracts.worklist import WorklistArgs, WorklistPage

SERVICE = "partners"

# A partner id is the same word everywhere: notifications' subscriptions, housing's
# association ids, consent recipients, the partner token and the answer queue's key.
PARTNER_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
PARTNER_ID = validate.Regexp(
    PARTNER_ID_PATTERN,
    error="Lower-case letters, digits and . _ -, starting with a letter or digit; at most 64.",
)
PHONE = validate.Regexp(r"^\+?[0-9][0-9 ]{5,30}$", error="Digits, spaces and a leading +.")

SUBJECT_TYPES = ("course", "case", "pathway")
# Who is told when a hand-off goes unanswered and no person is named (ADR 0012).
MAILBOXES = ("fronten", "coordinators", "housing", "social_vejledning")

HANDOFF = "5d0c8f2e-7a41-4c39-9b8e-1f2a3b4c5d6e"
COURSE = "9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d"
CITIZEN = "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80"


# ------------------------------------------------------------------------- shared parts


class ContactSchema(Schema):
    """Whom the partner contacts at the municipality: a person's or a team's work contact."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(required=True, allow_none=True, validate=validate.Length(max=40))


class ResponsibleSchema(Schema):
    """The staff member responsible for the subject (a course's responsible, a pathway's
    tovholder), as the creating events carry it: work contact, not citizen data."""

    staff_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))


class HandoffDetailsSchema(Schema):
    """The typed facts of a hand-off, by kind (docs/partners.md): dates and references
    only. Unknown keys are refused, so no free text can ride along."""

    due_on = fields.Date(allow_none=True)  # bridging: the day brobygning starts
    planned_end = fields.Date(allow_none=True)  # bridging: the course's planned end
    referred_on = fields.Date(allow_none=True)  # referral_85: the day Fronten referred
    case_ref = fields.UUID(allow_none=True)  # hold_termination: housing's case reference
    tenancy_ref = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    hold_until_requested = fields.Date(allow_none=True)  # hold_termination: wait until


# ------------------------------------------------------------------------------ events


@registry.event(
    "partners.partner_registered",
    1,
    summary="A partner or offer in the directory was created or changed (also deactivated).",
    correlation="the partner id",
    example={"partner_id": "jobcenter-ballerup", "name": "Jobcenter Ballerup",
             "category": "employment", "accepts": ["bridging_employment"], "active": True,
             "changed_at": "2025-03-03T09:00:00+00:00"},
)
class PartnerRegisteredV1(Schema):
    partner_id = fields.String(required=True, validate=PARTNER_ID)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    category = Enum(PartnerCategory, required=True)
    accepts = fields.List(Enum(HandoffKind), required=True)
    active = fields.Boolean(required=True)
    changed_at = UTCDateTime(required=True)


_HANDOFF_BASE_EXAMPLE = {
    "handoff_id": HANDOFF, "kind": "bridging_employment", "partner_id": "jobcenter-ballerup",
    "subject_type": "course", "subject_id": COURSE, "citizen_ref": CITIZEN,
}


class _HandoffBase(Schema):
    handoff_id = fields.UUID(required=True)
    kind = Enum(HandoffKind, required=True)
    partner_id = fields.String(required=True, validate=PARTNER_ID)
    subject_type = fields.String(required=True, validate=validate.OneOf(SUBJECT_TYPES))
    subject_id = fields.UUID(required=True)
    # Null only for a hold_termination on a case whose tenant intake has not matched yet.
    citizen_ref = fields.UUID(required=True, allow_none=True)


@registry.event(
    "partners.handoff_requested",
    1,
    summary="A partner is asked to act (a hand-off): what is asked, by when, and whom to "
    "contact. notifications delivers it to the partner.",
    correlation="the subject id (course, case or pathway)",
    example={**_HANDOFF_BASE_EXAMPLE,
             "requested_at": "2025-03-03T09:00:00+00:00", "answer_by": "2025-03-10",
             "title": "Brobygning til beskæftigelse",
             "ask": "Vi beder jer tage imod borgeren i brobygning til beskæftigelse fra "
                    "9. april 2025. Borgerens forløb i Fronten slutter efter planen "
                    "9. juni 2025. Kontakt Anne Andersen for at aftale overgangen.",
             "contact": {"name": "Anne Andersen", "email": "anne@balk.dk",
                         "phone": "44 77 34 43"},
             "details": {"due_on": "2025-04-09", "planned_end": "2025-06-09"}},
)
class HandoffRequestedV1(_HandoffBase):
    requested_at = UTCDateTime(required=True)
    # The Copenhagen working day by which an answer is expected (holidays counted).
    answer_by = fields.Date(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    ask = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    contact = fields.Nested(ContactSchema, required=True)
    details = fields.Nested(HandoffDetailsSchema, required=True)


@registry.event(
    "partners.handoff_updated",
    1,
    summary="A hand-off changed state: received, accepted, declined (with a reason), in "
    "progress, completed (with an outcome) or cancelled.",
    correlation="the subject id (course, case or pathway)",
    example={**_HANDOFF_BASE_EXAMPLE, "state": "declined", "previous_state": "received",
             "reason": "Vi har ikke plads før efter sommerferien.", "outcome": None,
             "hold_until": None, "answered_by": "partner:jobcenter-ballerup",
             "at": "2025-03-05T10:00:00+00:00",
             "title": "Brobygning til beskæftigelse: afvist af Jobcenter Ballerup"},
)
class HandoffUpdatedV1(_HandoffBase):
    state = Enum(HandoffState, required=True)
    previous_state = Enum(HandoffState, required=True)
    reason = fields.String(required=True, allow_none=True, validate=validate.Length(max=500))
    outcome = fields.String(required=True, allow_none=True, validate=validate.Length(max=32))
    hold_until = fields.Date(required=True, allow_none=True)
    answered_by = fields.String(required=True, validate=validate.Length(min=1, max=160))
    at = UTCDateTime(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))


@registry.event(
    "partners.handoff_escalated",
    1,
    summary="A hand-off was not answered by its answer_by day: the responsible person (or "
    "the team mailbox) must follow up.",
    correlation="the subject id (course, case or pathway)",
    example={**_HANDOFF_BASE_EXAMPLE, "requested_at": "2025-03-03T09:00:00+00:00",
             "answer_by": "2025-03-10", "escalated_at": "2025-03-10T23:00:00+00:00",
             "responsible_email": "anne@balk.dk", "mailbox": "fronten"},
)
class HandoffEscalatedV1(_HandoffBase):
    requested_at = UTCDateTime(required=True)
    answer_by = fields.Date(required=True)
    escalated_at = UTCDateTime(required=True)
    responsible_email = fields.Email(required=True, allow_none=True)
    mailbox = fields.String(required=True, validate=validate.OneOf(MAILBOXES))


# ----------------------------------------------------------------- RPC: the directory
# Every method takes `actor` (set by the gateway from the authenticated caller).


class PartnerView(Schema):
    """A partner in the directory, as staff read it."""

    partner_id = fields.String(required=True)
    name = fields.String(required=True)
    category = fields.String(required=True)
    category_text = fields.String(required=True)  # Danish
    accepts = fields.List(fields.String(), required=True)
    accepts_text = fields.List(fields.String(), required=True)  # Danish, same order
    contact_name = fields.String(allow_none=True, required=True)
    contact_email = fields.String(allow_none=True, required=True)
    contact_phone = fields.String(allow_none=True, required=True)
    description = fields.String(allow_none=True, required=True)
    active = fields.Boolean(required=True)
    registered_at = UTCDateTime(required=True)
    changed_at = UTCDateTime(required=True)
    changed_by = fields.String(required=True)


class PartnerPage(Schema):
    items = fields.List(fields.Nested(PartnerView), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class _PartnerFields(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    category = Enum(PartnerCategory)
    accepts = fields.List(Enum(HandoffKind))
    contact_name = fields.String(allow_none=True, validate=validate.Length(min=1, max=200))
    contact_email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    contact_phone = fields.String(allow_none=True, validate=PHONE)
    description = fields.String(allow_none=True, validate=validate.Length(min=1, max=1000))


_PARTNER_EXAMPLE = {
    "actor": "staff:drift-ole", "partner_id": "jobcenter-ballerup",
    "name": "Jobcenter Ballerup", "category": "employment",
    "accepts": ["bridging_employment"], "contact_name": "Jobcentrets visitation",
    "contact_email": "jobcenter@balk.dk", "contact_phone": "44 77 20 00",
    "description": "Tager imod borgere i brobygning til beskæftigelse.",
}


@registry.rpc(
    SERVICE, "register_partner",
    summary="Add a partner or offer to the directory: its category, the hand-offs it "
    "accepts and its contact (operators). Publishes partners.partner_registered.",
    result=PartnerView, example=_PARTNER_EXAMPLE,
)
class RegisterPartnerArgs(_PartnerFields):
    actor = actor_field()
    partner_id = fields.String(required=True, validate=PARTNER_ID)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    category = Enum(PartnerCategory, required=True)
    accepts = fields.List(Enum(HandoffKind), required=True)
    contact_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    contact_email = fields.Email(load_default=None, allow_none=True,
                                 validate=validate.Length(max=254))
    contact_phone = fields.String(load_default=None, allow_none=True, validate=PHONE)
    description = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(min=1, max=1000))


@registry.rpc(
    SERVICE, "update_partner",
    summary="Change a partner's name, category, accepted hand-offs or contact; only the "
    "fields given change. `active: true` takes a deactivated partner back (operators).",
    result=PartnerView,
    example={"actor": "staff:drift-ole", "partner_id": "jobcenter-ballerup",
             "contact_phone": "44 77 20 01"},
)
class UpdatePartnerArgs(_PartnerFields):
    actor = actor_field()
    partner_id = fields.String(required=True, validate=PARTNER_ID)
    active = fields.Boolean()


class PartnerArgs(Schema):
    actor = actor_field()
    partner_id = fields.String(required=True, validate=PARTNER_ID)


registry.rpc(
    SERVICE, "deactivate_partner",
    summary="Take a partner out of use: it gets no new hand-offs; open ones stay "
    "answerable (operators).",
    result=PartnerView, example={"actor": "staff:drift-ole", "partner_id": "jobcenter-ballerup"},
)(PartnerArgs)
registry.rpc(
    SERVICE, "get_partner", summary="One partner of the directory (staff; services).",
    result=PartnerView, example={"actor": "staff:fronten-anne", "partner_id": "jobcenter-ballerup"},
)(PartnerArgs)


@registry.rpc(
    SERVICE, "list_partners",
    summary="The directory, by name; filters: category, accepts (a hand-off kind), active.",
    result=PartnerPage,
    example={"actor": "staff:tovholder-mette", "category": "volunteer",
             "accepts": "offer_referral", "active": True, "limit": 50},
)
class ListPartnersArgs(WorklistArgs):
    category = Enum(PartnerCategory, load_default=None, allow_none=True)
    accepts = Enum(HandoffKind, load_default=None, allow_none=True)
    active = fields.Boolean(load_default=None, allow_none=True)


# ----------------------------------------------------------------- RPC: hand-offs


class HistoryEntrySchema(Schema):
    at = UTCDateTime(required=True)
    actor = fields.String(required=True)
    change = fields.String(required=True)  # created | state | contact | escalated
    from_state = fields.String(allow_none=True, required=True)
    to_state = fields.String(allow_none=True, required=True)
    reason = fields.String(allow_none=True, required=True)
    outcome = fields.String(allow_none=True, required=True)
    hold_until = fields.Date(allow_none=True, required=True)
    note = fields.String(allow_none=True, required=True)
    text = fields.String(required=True)  # Danish


class PartnerHandoffView(Schema):
    """A hand-off as its partner sees it: what is asked, by when, whom to contact, its
    state and what the partner may answer next. No citizen reference."""

    handoff_id = fields.UUID(required=True)
    kind = fields.String(required=True)
    kind_text = fields.String(required=True)
    partner_id = fields.String(required=True)
    state = fields.String(required=True)
    state_text = fields.String(required=True)
    title = fields.String(required=True)
    ask = fields.String(required=True)
    requested_at = UTCDateTime(required=True)
    answer_by = fields.Date(required=True)
    contact = fields.Nested(ContactSchema, required=True)
    details = fields.Nested(HandoffDetailsSchema, required=True)
    reason = fields.String(allow_none=True, required=True)
    outcome = fields.String(allow_none=True, required=True)
    outcome_text = fields.String(allow_none=True, required=True)
    hold_until = fields.Date(allow_none=True, required=True)
    answered_at = UTCDateTime(allow_none=True, required=True)
    # The states this hand-off may move to next, and the outcomes `completed` takes.
    next_states = fields.List(fields.String(), required=True)
    outcomes = fields.List(fields.String(), required=True)


class HandoffView(PartnerHandoffView):
    """A hand-off as staff see it: the partner's view plus the subject, the citizen
    reference, the responsible person, escalation and the history."""

    partner_name = fields.String(required=True)
    subject_type = fields.String(required=True)
    subject_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(allow_none=True, required=True)
    responsible_staff_id = fields.String(allow_none=True, required=True)
    mailbox = fields.String(required=True)
    escalated_at = UTCDateTime(allow_none=True, required=True)
    answered_by = fields.String(allow_none=True, required=True)
    history = fields.List(fields.Nested(HistoryEntrySchema), required=True)


class HandoffList(Schema):
    items = fields.List(fields.Nested(HandoffView), required=True)
    count = fields.Integer(required=True)


class HandoffAnswerSchema(Schema):
    """An answer: the new state and what that state needs. Also the body of a message on
    the `partners.answers` queue (with `handoff_id`)."""

    state = Enum(HandoffState, required=True)
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(min=1, max=500))
    outcome = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(min=1, max=32))
    hold_until = fields.Date(load_default=None, allow_none=True)
    note = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(min=1, max=1000))


class QueueAnswerMessage(HandoffAnswerSchema):
    """A message on the `partners.answers` queue (exchange `partners.answers`, routing
    key = the partner's own id)."""

    handoff_id = fields.UUID(required=True)


@registry.rpc(
    SERVICE, "answer_handoff",
    summary="Answer a hand-off: received, accepted, declined (with reason), in_progress, "
    "completed (with outcome); hold_termination accepted needs hold_until. A partner "
    "answers its own hand-offs; Social Vejledning answers § 85 referrals; Fronten and the "
    "responsible person may cancel.",
    result=HandoffView,
    example={"actor": "partner:jobcenter-ballerup", "handoff_id": HANDOFF,
             "state": "accepted", "note": "Vi ringer til kontaktpersonen i morgen."},
)
class AnswerHandoffArgs(HandoffAnswerSchema):
    actor = actor_field()
    handoff_id = fields.UUID(required=True)


@registry.rpc(
    SERVICE, "get_handoff",
    summary="One hand-off: a partner sees its own (the partner view); staff see those "
    "they may know of (with history).",
    result=HandoffView, example={"actor": "partner:jobcenter-ballerup", "handoff_id": HANDOFF},
)
class GetHandoffArgs(Schema):
    actor = actor_field()
    handoff_id = fields.UUID(required=True)


@registry.rpc(
    SERVICE, "partner_handoffs",
    summary="A partner's own hand-offs: open ones first, by answer_by; then answered ones. "
    "Filter: state. Each item's details hold the partner view of the hand-off.",
    result=WorklistPage,
    example={"actor": "partner:jobcenter-ballerup", "state": "requested", "limit": 50},
)
class PartnerHandoffsArgs(WorklistArgs):
    state = Enum(HandoffState, load_default=None, allow_none=True)


@registry.rpc(
    SERVICE, "handoffs_awaiting_answer",
    summary="Hand-offs no partner has answered yet (requested or received), the oldest "
    "answer_by first; those the caller may know of. Filters: kind, escalated_only.",
    result=WorklistPage,
    example={"actor": "staff:fronten-anne", "kind": "bridging_employment",
             "escalated_only": False, "limit": 50},
)
class HandoffsAwaitingAnswerArgs(WorklistArgs):
    kind = Enum(HandoffKind, load_default=None, allow_none=True)
    escalated_only = fields.Boolean(load_default=False)


@registry.rpc(
    SERVICE, "handoffs_of_subject",
    summary="A course's, case's or pathway's hand-offs with their history (for staff "
    "pages); those the caller may know of, oldest first.",
    result=HandoffList,
    example={"actor": "staff:fronten-anne", "subject_type": "course", "subject_id": COURSE},
)
class HandoffsOfSubjectArgs(Schema):
    actor = actor_field()
    subject_type = fields.String(required=True, validate=validate.OneOf(SUBJECT_TYPES))
    subject_id = fields.UUID(required=True)


@registry.rpc(
    SERVICE, "access_report",
    summary="Who has read or changed the citizen's hand-offs in this service, when and "
    "why (Fronten and operators; merged by the gateway).",
    example={"actor": "staff:fronten-anne", "citizen_ref": CITIZEN},
)
class AccessReportArgs(Schema):
    actor = actor_field()
    citizen_ref = fields.UUID(required=True)
