"""Contracts of the housing service (rent-arrears cases on the legal clock).

Two kinds of events: internal ones (`housing.case_escalated`, for the tovholder and
Fronten) and the partner statement (`housing.partner_status`), whose schema is the
allow-list of what a housing association may ever receive: a typed status, what we
ask of it, its own tenancy reference, our case reference and dates. No citizen
reference, no amounts, no free text.

`housing.case_escalated` is sent when a case's level goes up, and
`housing.case_deescalated` (the same payload) when it comes down: `level` is the new
level, `previous_level` the one before. (Until the de-escalation had its own type,
case_escalated was sent both ways.) In case_escalated v1, case_deescalated v1 and
case_closed v1, `association_id` is "" for a case with no housing association (a
private landlord, reported by Fronten); the newer events carry null instead.
Internal events (`case_opened`, `warning_flagged`, `action_overdue`) are for the
tovholder, Fronten and coordination's timeline, never for a partner.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from contracts.actor import actor_field
from contracts.fields import Enum, UTCDateTime
from contracts.registry import registry
from contracts.vocabulary import Addressee, Closure, HousingRequest, LadderLevel, PartnerStatus
from contracts.worklist import WorklistArgs, WorklistPage

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
             "occurred_at": "2024-02-16T08:00:00+00:00", "hold_until": "2024-03-15"},
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
    # Added later (optional): until when the association is asked to hold the
    # ophævelse, while the case stands on escalated_to_association; else null.
    hold_until = fields.Date(load_default=None, allow_none=True)


@registry.event(
    "housing.case_deescalated",
    1,
    summary="An arrears case came down the ladder (contact, an agreed payment plan, help "
    "granted, the ophævelse withdrawn, the udsættelse called off): the new level, the next "
    "deadline, what is still asked of whom.",
    correlation="the case id",
    example={"case_id": CASE, "association_id": "kab-ballerup", "tenancy_ref": "12-0304-2",
             "citizen_ref": CITIZEN, "level": "reported",
             "previous_level": "escalated_to_association", "next_deadline": None,
             "asks": [{"addressee": "association", "request": "for_information"},
                      {"addressee": "tovholder", "request": "for_information"}],
             "occurred_at": "2024-03-20T09:00:00+00:00", "hold_until": None},
)
class CaseDeescalatedV1(CaseEscalatedV1):
    """The payload of case_escalated v1, for a move down the ladder."""


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


# ---------------------------------------------------------------- internal events
# For the tovholder, Fronten and coordination's timeline; never for the association.

REPORT_SOURCES = ["association", "fogedret", "fronten"]
FLAGS = ["pakrav_deadline_shorter_than_legal", "processing_exceeds_pakrav_deadline"]
DEADLINE_KINDS = ["outreach", "pakrav", "hold_expires", "help_decision",
                  "termination_response", "emergency_plan"]


class _CaseEventBase(Schema):
    case_id = fields.UUID(required=True)
    association_id = fields.String(required=True, allow_none=True)
    tenancy_ref = fields.String(required=True, allow_none=True)
    citizen_ref = fields.UUID(required=True, allow_none=True)
    level = Enum(LadderLevel, required=True)
    next_deadline = UTCDateTime(required=True, allow_none=True)
    asks = fields.List(fields.Nested(AskSchema), required=True)
    occurred_at = UTCDateTime(required=True)


@registry.event(
    "housing.case_opened",
    1,
    summary="An arrears case was opened from a report (association, fogedret or Fronten).",
    correlation="the case id",
    example={"case_id": CASE, "association_id": "kab-ballerup", "tenancy_ref": "12-0304-2",
             "citizen_ref": CITIZEN, "source": "association", "level": "reported",
             "next_deadline": "2024-02-15T23:00:00+00:00", "citizen_match_pending": False,
             "asks": [{"addressee": "association", "request": "for_information"},
                      {"addressee": "tovholder", "request": "for_information"}],
             "occurred_at": "2024-02-01T08:00:00+00:00"},
)
class CaseOpenedV1(_CaseEventBase):
    source = fields.String(required=True, validate=validate.OneOf(REPORT_SOURCES))
    # True while intake has not matched the tenant: Fronten must find the citizen.
    citizen_match_pending = fields.Boolean(required=True)


@registry.event(
    "housing.warning_flagged",
    1,
    summary="A warning on an arrears case, raised at once (e.g. help would come too late).",
    correlation="the case id",
    example={"case_id": CASE, "association_id": "kab-ballerup", "tenancy_ref": "12-0304-2",
             "citizen_ref": CITIZEN, "flag": "processing_exceeds_pakrav_deadline",
             "pakrav_deadline": "2024-02-15", "level": "outreach_due",
             "next_deadline": "2024-02-15T23:00:00+00:00",
             "asks": [{"addressee": "tovholder", "request": "make_plan_or_apply_for_help"}],
             "occurred_at": "2024-02-01T08:00:00+00:00"},
)
class WarningFlaggedV1(_CaseEventBase):
    flag = fields.String(required=True, validate=validate.OneOf(FLAGS))
    pakrav_deadline = fields.Date(required=True, allow_none=True)


@registry.event(
    "housing.action_overdue",
    1,
    summary="A deadline of an arrears case passed with its action outstanding; level unchanged.",
    correlation="the case id",
    example={"case_id": CASE, "association_id": "kab-ballerup", "tenancy_ref": "12-0304-2",
             "citizen_ref": CITIZEN, "deadline_kind": "termination_response",
             "level": "termination_urgent", "next_deadline": None,
             "asks": [{"addressee": "tovholder", "request": "involve_boligsocial_team"}],
             "occurred_at": "2024-03-05T23:00:00+00:00"},
)
class ActionOverdueV1(_CaseEventBase):
    deadline_kind = fields.String(required=True, validate=validate.OneOf(DEADLINE_KINDS))


# ------------------------------------------------------------------------------ RPC
# Every method takes `actor` (who acts; set by the gateway from the authenticated caller).

SERVICE = "housing"
DELIVERY_CHANNELS = ["webhook", "partner_queue", "email"]
HELP_PARAGRAPHS = ["aktivloven_81a", "aktivloven_81b"]
_REF = validate.Length(min=1, max=64)


class AmountDKK(fields.Field):
    """An amount in kroner, sent as a string ("12500.50") or an integer, never a float
    (binary floats cannot hold øre exactly). Range and øre are the domain's rules."""

    default_error_messages = {  # noqa: RUF012
        "invalid": "Send the amount as a string or an integer, e.g. \"12500.50\".",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool | float) or not isinstance(value, int | str):
            raise self.make_error("invalid")
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise self.make_error("invalid") from None
        if not amount.is_finite():
            raise self.make_error("invalid")
        return amount

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(value)


class _ActorArgs(Schema):
    actor = actor_field()


class DepartmentArgs(Schema):
    number = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    tenancy_refs = fields.List(fields.String(validate=_REF), load_default=list)


@registry.rpc(
    SERVICE,
    "register_association",
    summary="Register (or update) a housing association as a partner, with its afdelinger "
    "and the tenancies they own. How it is reached is set up in notifications.",
    example={"actor": "staff:fronten-anne", "association_id": "kab-ballerup",
             "name": "KAB Ballerup", "cvr": "12345678", "delivery": "webhook",
             "departments": [{"number": "12", "name": "Grantoften",
                              "tenancy_refs": ["12-0304-2", "12-0304-3"]}]},
)
class RegisterAssociationArgs(_ActorArgs):
    association_id = fields.String(
        required=True, validate=[_REF, validate.Regexp(r"^[a-z0-9][a-z0-9._-]*$")]
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    cvr = fields.String(load_default=None, allow_none=True)
    delivery = fields.String(load_default="webhook", validate=validate.OneOf(DELIVERY_CHANNELS))
    departments = fields.List(fields.Nested(DepartmentArgs), load_default=list)


class MatchArgs(Schema):
    """What intake needs to find a tenant the reporter has no citizen_ref for. Passed
    on to intake's match_citizen and never stored or published by housing."""

    cpr = fields.String(load_default=None, allow_none=True,
                        validate=validate.Regexp(r"^\d{6}-?\d{4}$"))
    name = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(min=1, max=200))
    birth_date = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def _enough_to_match(self, data: dict[str, Any], **kwargs: Any) -> None:
        # As intake searches: a CPR number, or both the name and the birth date.
        if not data.get("cpr") and not (data.get("name") and data.get("birth_date")):
            raise ValidationError("Give the CPR number, or both name and birth date.", "cpr")


@registry.rpc(
    SERVICE,
    "report_arrears",
    summary="Report rent arrears for a tenancy. A second report for a tenancy with an "
    "open case updates that case. Without a citizen_ref, `match` is passed to intake.",
    example={"actor": "partner:kab-ballerup", "source": "association",
             "association_id": "kab-ballerup", "tenancy_ref": "12-0304-2",
             "citizen_ref": CITIZEN, "amount_dkk": "12500.00", "months_behind": 2,
             "pakrav_sent_on": "2024-02-01", "pakrav_deadline": "2024-02-15"},
)
class ReportArrearsArgs(_ActorArgs):
    source = fields.String(load_default="association", validate=validate.OneOf(REPORT_SOURCES))
    association_id = fields.String(load_default=None, allow_none=True, validate=_REF)
    tenancy_ref = fields.String(load_default=None, allow_none=True, validate=_REF)
    citizen_ref = fields.UUID(load_default=None, allow_none=True)
    match = fields.Nested(MatchArgs, load_default=None, allow_none=True)
    amount_dkk = AmountDKK(load_default=None, allow_none=True)
    months_behind = fields.Integer(load_default=None, allow_none=True, strict=True)
    pakrav_sent_on = fields.Date(load_default=None, allow_none=True)
    pakrav_deadline = fields.Date(load_default=None, allow_none=True)
    termination_on = fields.Date(load_default=None, allow_none=True)
    eviction_date = fields.Date(load_default=None, allow_none=True)


class CaseArgs(_ActorArgs):
    case_id = fields.UUID(required=True)


_CASE_EXAMPLE = {"actor": "staff:tovholder-mette", "case_id": CASE}

for _method, _summary in (
    ("get_case", "The case as the municipality sees it: level, deadlines, flags, asks."),
    ("record_contact", "The municipality reached the citizen (ends OUTREACH_DUE)."),
    ("propose_payment_plan", "An afdragsordning (payment plan) was proposed to the association."),
    ("agree_payment_plan", "The association agreed the afdragsordning (de-escalates)."),
    ("break_payment_plan", "The afdragsordning was broken (re-escalates)."),
    ("refuse_help", "The pending § 81 a/b application was refused (re-escalates)."),
    ("withdraw_termination", "The association withdrew the ophævelse."),
    ("resolve_eviction", "The udsættelse (eviction) was called off."),
    ("record_emergency_housing_plan", "The emergency housing plan exists."),
    ("record_paid_in_full", "The arrears are paid in full: closes with the tenancy kept."),
):
    # These methods take the case and the actor only: one schema, registered per method.
    registry.rpc(SERVICE, _method, summary=_summary, example=_CASE_EXAMPLE)(CaseArgs)


@registry.rpc(SERVICE, "apply_for_help", summary="An aktivloven § 81 a/§ 81 b application "
              "was made; the hold asked of the association extends to the expected decision.",
              example={**_CASE_EXAMPLE, "paragraph": "aktivloven_81a"})
class ApplyForHelpArgs(CaseArgs):
    paragraph = fields.String(required=True, validate=validate.OneOf(HELP_PARAGRAPHS))


@registry.rpc(SERVICE, "grant_help", summary="The pending application was granted "
              "(§ 81 b needs months).", example={**_CASE_EXAMPLE, "months": None})
class GrantHelpArgs(CaseArgs):
    months = fields.Integer(load_default=None, allow_none=True, strict=True)


@registry.rpc(SERVICE, "register_termination", summary="An ophævelse (termination) was "
              "registered: urgent, boligsocial team.",
              example={**_CASE_EXAMPLE, "termination_on": "2024-03-01"})
class RegisterTerminationArgs(CaseArgs):
    termination_on = fields.Date(load_default=None, allow_none=True)


@registry.rpc(SERVICE, "set_eviction_date", summary="The fogedret set the udsættelse date: "
              "emergency housing plan.", example={**_CASE_EXAMPLE, "eviction_date": "2024-04-10"})
class SetEvictionDateArgs(CaseArgs):
    eviction_date = fields.Date(required=True)


@registry.rpc(SERVICE, "close_case", summary="Close a case whose tenancy was lost or ended "
              "(tenancy kept: record_paid_in_full).",
              example={**_CASE_EXAMPLE, "closure": "tenancy_ended"})
class CloseCaseArgs(CaseArgs):
    closure = Enum(Closure, required=True)


class ReportPeriodView(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)


class AssociationReportResult(Schema):
    """The report per association and period (definitions: services/housing/reports.py)."""

    association_id = fields.String(required=True)
    association_name = fields.String(required=True)
    period = fields.Nested(ReportPeriodView, required=True)
    cases = fields.Integer(required=True)
    # Every LadderLevel value, with how many of the period's cases reached it as highest.
    levels_reached = fields.Dict(keys=fields.String(validate=validate.OneOf(
        [level.value for level in LadderLevel])), values=fields.Integer(), required=True)
    evictions_avoided = fields.Integer(required=True)
    cases_with_contact = fields.Integer(required=True)
    cases_without_contact = fields.Integer(required=True)
    median_seconds_to_first_contact = fields.Integer(required=True, allow_none=True)
    max_seconds_to_first_contact = fields.Integer(required=True, allow_none=True)


@registry.rpc(SERVICE, "association_report", summary="Cases, levels reached, evictions "
              "avoided and time to first contact, for one association and period.",
              result=AssociationReportResult,
              example={"actor": "staff:fronten-anne", "association_id": "kab-ballerup",
                       "start": "2024-01-01", "end": "2024-06-30"})
class AssociationReportArgs(_ActorArgs):
    association_id = fields.String(required=True, validate=_REF)
    start = fields.Date(required=True)
    end = fields.Date(required=True)


# ---------------------------------------------------------------------------- worklist

WORKLIST_STATUSES = ["open", "closed"]


@registry.rpc(
    SERVICE,
    "case_worklist",
    summary="The housing officers' worklist of arrears cases. Open cases: those where "
    "§ 81 a help would be decided after the påkrav deadline first, then by the nearest "
    "deadline; closed cases: most recently closed first. Each item's details: level, "
    "påkrav deadline and days left, the § 81 a warning and the next ladder step, in "
    "Danish (docs/housing.md).",
    result=WorklistPage,
    example={"actor": "staff:boligsocial-lone", "status": "open",
             "level": "outreach_due", "association_id": "kab-ballerup", "limit": 50},
)
class CaseWorklistArgs(WorklistArgs):
    status = fields.String(load_default="open", validate=validate.OneOf(WORKLIST_STATUSES))
    level = Enum(LadderLevel, load_default=None, allow_none=True)
    association_id = fields.String(load_default=None, allow_none=True, validate=_REF)


# ----------------------------------------------------------- a housing association's view
# What a housing association (a partner) is shown of its own cases, by `get_case` (the
# gateway's partner view) and `association_cases`: typed status and dates, its own
# tenancy reference; never the citizen, the amount, flags or the staff's notes (ADR 0007).

PARTNER_CASE_FIELDS = (
    "case_id", "association_id", "tenancy_ref", "level", "is_open", "closure",
    "reported_at", "hold_until", "termination_on", "eviction_date", "closed_at",
    "requested", "hold_answer", "hold_granted_until",
)
HOLD_ANSWERS = ["granted", "refused", "paid"]


class PartnerCaseView(Schema):
    """What `get_case` answers a housing association (`/api/partner/cases/<case_id>`)."""

    case_id = fields.UUID(required=True)
    association_id = fields.String(required=True)
    tenancy_ref = fields.String(required=True, allow_none=True)
    level = Enum(LadderLevel, required=True)
    is_open = fields.Boolean(required=True)
    closure = Enum(Closure, required=True, allow_none=True)
    reported_at = UTCDateTime(required=True)
    # Until when we ask the association to hold the ophævelse (hold_termination).
    hold_until = fields.Date(required=True, allow_none=True)
    termination_on = fields.Date(required=True, allow_none=True)
    eviction_date = fields.Date(required=True, allow_none=True)
    closed_at = UTCDateTime(required=True, allow_none=True)
    # What we ask of the association now (a HousingRequest value), null once closed.
    requested = Enum(HousingRequest, required=True, allow_none=True)
    # The association's own answer to the hold request, and the day it holds until.
    hold_answer = fields.String(required=True, allow_none=True,
                                validate=validate.OneOf(HOLD_ANSWERS))
    hold_granted_until = fields.Date(required=True, allow_none=True)


@registry.rpc(
    SERVICE,
    "association_cases",
    summary="A housing association's own arrears cases (the partner's list): open cases "
    "first by the date that matters to the association (until when it is asked to hold "
    "the ophævelse, the udsættelse date, its påkrav deadline), or the closed ones, most "
    "recently closed first. Each item: where the case stands (a code and a Danish "
    "sentence), the date, and the case's status fields; never the tenant.",
    result=WorklistPage,
    example={"actor": "partner:kab-ballerup", "status": "open", "limit": 50},
)
class AssociationCasesArgs(WorklistArgs):
    status = fields.String(load_default="open", validate=validate.OneOf(WORKLIST_STATUSES))


@registry.rpc(
    SERVICE,
    "refused_reports",
    summary="Reports of arrears housing refused because the tenancy is not registered to "
    "the reporting association (or its open case is another association's), newest "
    "first: the audit that lets the municipality register the tenancy or open the case "
    "itself. For housing officers and operators.",
    result=WorklistPage,
    example={"actor": "staff:boligsocial-lone", "limit": 50},
)
class RefusedReportsArgs(WorklistArgs):
    pass


@registry.rpc(
    SERVICE,
    "access_report",
    summary="Everything done with a citizen's data in housing, oldest first: who, when, "
    "what and why (the citizen's request for insight). For Fronten and operators; the "
    "read is itself logged.",
    example={"actor": "staff:fronten-anne", "citizen_ref": CITIZEN},
)
class AccessReportArgs(_ActorArgs):
    citizen_ref = fields.UUID(required=True)
