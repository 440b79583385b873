"""Contracts of the coordination service (sammenhængende borgerforløb).

Staff participants carry their work e-mail (not personal data of the citizen); the
citizen and network participants never carry an address: notifications asks intake
for the citizen's contact at send time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from contracts.actor import actor_field
from contracts.fields import Enum, UTCDateTime
from contracts.registry import registry
from contracts.vocabulary import (
    Agency,
    HousingRequest,
    LadderLevel,
    MeetingPlace,
    ParticipantKind,
)
from contracts.worklist import WorklistArgs, WorklistPage

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
             "opened_at": "2021-02-01T09:00:00+00:00", "under_30": True},
)
class PathwayOpenedV1(Schema):
    pathway_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    # None while the pathway waits for a tovholder (opened from a referral).
    tovholder_id = fields.String(required=True, allow_none=True)
    opened_at = UTCDateTime(required=True)
    # From the referral (Plads til alle prioritises under-30s); None when not known.
    under_30 = fields.Boolean(load_default=None, allow_none=True)


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


class TeamMemberContactSchema(Schema):
    """A team member as told about a change: their work address, nothing about the citizen."""

    member_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, allow_none=True)


@registry.event(
    "coordination.tovholder_handed_over",
    1,
    summary="The citizen has a new tovholder (lead coordinator); the citizen is told who.",
    correlation="the pathway id",
    example={"pathway_id": PATHWAY, "citizen_ref": CITIZEN,
             "old_tovholder_id": "m-social", "new_tovholder_id": "m-upoint",
             "new_tovholder_name": "Ulla Ungekonsulent", "new_tovholder_agency": "upoint",
             "new_tovholder_email": "ulla@balk.dk",
             "handed_over_at": "2022-01-10T09:00:00+00:00",
             "handover_note": "Vincent ringer helst om formiddagen. Næste møde er 3. feb.",
             "team": [{"member_id": "m-social", "name": "Mette Socialrådgiver",
                       "email": "mette@balk.dk"},
                      {"member_id": "m-upoint", "name": "Ulla Ungekonsulent",
                       "email": "ulla@balk.dk"}]},
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
    # The reason stays in coordination. The handover note is written by the old
    # tovholder for the new one and the team (staff only: never for the citizen).
    handover_note = fields.String(load_default=None, allow_none=True,
                                  validate=validate.Length(max=2000))
    # The active team members on the day, to tell them who their tovholder is now.
    team = fields.List(fields.Nested(TeamMemberContactSchema), load_default=None,
                       allow_none=True)


@registry.event(
    "coordination.member_added",
    1,
    summary="A team member joined the pathway's team.",
    correlation="the pathway id",
    example={"pathway_id": PATHWAY, "citizen_ref": CITIZEN, "member_id": "m-housing",
             "agency": "housing", "role": "boligrådgiver",
             "added_at": "2021-05-01T09:00:00+00:00", "name": "Bo Boligrådgiver",
             "email": "bo@balk.dk"},
)
class MemberAddedV1(Schema):
    pathway_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    member_id = fields.String(required=True)
    agency = Enum(Agency, required=True)
    role = fields.String(required=True, validate=validate.Length(min=1, max=100))
    added_at = UTCDateTime(required=True)
    # The member's name and work address, so that they can be told.
    name = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(min=1, max=200))
    email = fields.Email(load_default=None, allow_none=True)


@registry.event(
    "coordination.membership_ended",
    1,
    summary="A team member leaves the pathway's team after `last_day` (they see nothing "
            "of the pathway from the day after).",
    correlation="the pathway id",
    example={"pathway_id": PATHWAY, "citizen_ref": CITIZEN, "member_id": "m-school",
             "last_day": "2021-06-30", "ended_at": "2021-06-20T09:00:00+00:00"},
)
class MembershipEndedV1(Schema):
    pathway_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    member_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    last_day = fields.Date(required=True)  # their last day in the team, inclusive
    ended_at = UTCDateTime(required=True)  # when the end was recorded


# The partner ids of the directory (services.partners): the same rule as notifications'
# subscriptions and housing's association ids.
PARTNER_ID = validate.Regexp(r"^[a-z0-9][a-z0-9._-]{0,63}$",
                             error="Lowercase letters, digits and . _ -, at most 64.")


class ResponsibleSchema(Schema):
    """The staff member a partner contacts about a hand-off: work contact only."""

    staff_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True,
                          validate=validate.Length(min=1, max=40))


@registry.event(
    "coordination.offer_referral_requested",
    1,
    summary="The tovholder referred the citizen to another offer or a volunteer "
            "organisation: the partners service makes an offer_referral hand-off to the "
            "named partner. What is asked stays in coordination (the partner gets the "
            "Danish standard text).",
    correlation="the pathway id",
    example={"pathway_id": PATHWAY, "citizen_ref": CITIZEN, "partner_id": "ungdomsklubben",
             "requested_at": "2021-04-06T09:00:00+00:00",
             "responsible": {"staff_id": "m-social", "name": "Mette Socialrådgiver",
                             "email": "mette@balk.dk", "phone": "+45 44 77 34 43"}},
)
class OfferReferralRequestedV1(Schema):
    pathway_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    partner_id = fields.String(required=True, validate=PARTNER_ID)
    requested_at = UTCDateTime(required=True)
    responsible = fields.Nested(ResponsibleSchema, required=True)  # the tovholder


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
                   "due_on": "2021-03-15", "tovholder_email": "mette@balk.dk"}


class _ActionBase(Schema):
    pathway_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    action_id = fields.String(required=True)
    owner_id = fields.String(required=True)
    owner_email = fields.Email(required=True, allow_none=True)
    due_on = fields.Date(required=True)
    # The pathway's tovholder's work address (None while it has none).
    tovholder_email = fields.Email(load_default=None, allow_none=True)


@registry.event("coordination.action_due", 1, summary="An action in the plan falls due.",
                correlation="the pathway id", example=_ACTION_EXAMPLE)
class ActionDueV1(_ActionBase):
    pass


@registry.event("coordination.action_overdue", 1, summary="An action is overdue.",
                correlation="the pathway id", example=_ACTION_EXAMPLE)
class ActionOverdueV1(_ActionBase):
    pass


# --- events added by the coordination service (issue 4) ------------------------


@registry.event(
    "coordination.housing_escalation_noted",
    1,
    summary="A rent-arrears case of a citizen with a pathway moved up the ladder: "
            "the tovholder is asked to act.",
    correlation="the pathway id",
    example={"pathway_id": PATHWAY, "citizen_ref": CITIZEN,
             "case_id": "e3f4a5b6-c7d8-4e9f-8a0b-1c2d3e4f5a6b",
             "level": "escalated_to_association", "next_deadline": "2024-03-01T23:00:00+00:00",
             "requests": ["make_plan_or_apply_for_help"], "tovholder_id": "m-social",
             "noted_at": "2024-02-16T08:00:05+00:00", "tovholder_email": "mette@balk.dk"},
)
class HousingEscalationNotedV1(Schema):
    pathway_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    case_id = fields.UUID(required=True)
    level = Enum(LadderLevel, required=True)
    next_deadline = UTCDateTime(required=True, allow_none=True)
    # What housing asks of the tovholder (asks addressed to the tovholder only).
    requests = fields.List(Enum(HousingRequest), required=True)
    # None while the pathway waits for a tovholder: then Fronten must pick it up.
    tovholder_id = fields.String(required=True, allow_none=True)
    noted_at = UTCDateTime(required=True)
    tovholder_email = fields.Email(load_default=None, allow_none=True)


@registry.event(
    "coordination.housing_warning_noted",
    1,
    summary="Housing warned about a rent-arrears case of a citizen with a pathway (e.g. "
            "§ 81 a help would come after the påkrav deadline): the tovholder must act now.",
    correlation="the pathway id",
    example={"pathway_id": PATHWAY, "citizen_ref": CITIZEN,
             "case_id": "e3f4a5b6-c7d8-4e9f-8a0b-1c2d3e4f5a6b", "tovholder_id": "m-social",
             "tovholder_email": "mette@balk.dk", "flag": "processing_exceeds_pakrav_deadline",
             "level": "outreach_due", "pakrav_deadline": "2024-02-15",
             "next_deadline": "2024-02-15T23:00:00+00:00",
             "noted_at": "2024-02-01T08:00:05+00:00"},
)
class HousingWarningNotedV1(Schema):
    pathway_id = fields.UUID(required=True)
    citizen_ref = fields.UUID(required=True)
    case_id = fields.UUID(required=True)
    # None while the pathway waits for a tovholder: then Fronten must pick it up.
    tovholder_id = fields.String(required=True, allow_none=True)
    tovholder_email = fields.Email(required=True, allow_none=True)
    flag = fields.String(required=True, validate=validate.Length(min=1, max=64))  # housing's code
    level = Enum(LadderLevel, required=True)
    pakrav_deadline = fields.Date(required=True, allow_none=True)
    next_deadline = UTCDateTime(required=True, allow_none=True)
    noted_at = UTCDateTime(required=True)


# --- RPC arguments ---------------------------------------------------------------
# Every method takes `actor` (who acts; set by the gateway from the authenticated
# caller). Times are timezone-aware ISO 8601; dates are Copenhagen calendar days.

SERVICE = "coordination"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ID = validate.Length(min=1, max=64)
PHONE = validate.Regexp(r"^\+?[0-9][0-9 ]{5,30}$", error="Digits, spaces and a leading +.")


class _Args(Schema):
    actor = actor_field()


class _PathwayArgs(_Args):
    pathway_id = fields.UUID(required=True)


class MemberSpecSchema(Schema):
    """A professional joining the team. `member_id` is the staff member's id across
    pathways (their calendar and working hours are kept under it)."""

    member_id = fields.String(required=True, validate=_ID)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True)  # work address: invitations go there
    # Work phone: given to partners as the contact on the tovholder's referrals.
    phone = fields.String(load_default=None, allow_none=True, validate=PHONE)
    agency = Enum(Agency, required=True)
    role = fields.String(required=True, validate=validate.Length(min=1, max=100))
    active_from = fields.Date(load_default=None, allow_none=True)  # default: today
    active_to = fields.Date(load_default=None, allow_none=True)


_MEMBER_EXAMPLE = {"member_id": "m-social", "name": "Mette Socialrådgiver",
                   "email": "mette@balk.dk", "agency": "social_services",
                   "role": "socialrådgiver"}


@registry.rpc(SERVICE, "open_pathway",
              summary="Open a pathway for a citizen (staff), with its tovholder if known.",
              example={"actor": "staff:mette", "citizen_ref": CITIZEN,
                       "tovholder": _MEMBER_EXAMPLE})
class OpenPathwayArgs(_Args):
    citizen_ref = fields.UUID(required=True)
    tovholder = fields.Nested(MemberSpecSchema, load_default=None, allow_none=True)
    # Known from a referral; staff may give it (under-30s come first on the coordinators' list).
    under_30 = fields.Boolean(load_default=None, allow_none=True)


@registry.rpc(SERVICE, "find_pathway",
              summary="The citizen's open pathway, if any; without citizen_ref, the caller's "
                      "own open pathways (as tovholder or team member).",
              example={"actor": "staff:mette", "citizen_ref": CITIZEN})
class FindPathwayArgs(_Args):
    citizen_ref = fields.UUID(load_default=None, allow_none=True)


@registry.rpc(SERVICE, "get_pathway",
              summary="A pathway: team, tovholder, network, meetings, plan, continuity.",
              example={"actor": "staff:mette", "pathway_id": PATHWAY})
class GetPathwayArgs(_PathwayArgs):
    pass


@registry.rpc(SERVICE, "timeline",
              summary="One chronological view of a pathway for the tovholder.",
              example={"actor": "staff:mette", "pathway_id": PATHWAY})
class TimelineArgs(_PathwayArgs):
    pass


@registry.rpc(SERVICE, "add_member", summary="Add a professional to the pathway's team.",
              example={"actor": "staff:mette", "pathway_id": PATHWAY,
                       "member_id": "m-school", "name": "Lærer Lars", "email": "lars@skole.dk",
                       "agency": "school", "role": "lærer"})
class AddMemberArgs(_PathwayArgs, MemberSpecSchema):
    pass


@registry.rpc(SERVICE, "add_housing_adviser",
              summary="Add a housing adviser (boligrådgiver) to the team, e.g. after a "
                      "housing escalation.",
              example={"actor": "staff:mette", "pathway_id": PATHWAY,
                       "member_id": "m-bolig", "name": "Bo Boligrådgiver",
                       "email": "bo@balk.dk", "case_id": "e3f4a5b6-c7d8-4e9f-8a0b-1c2d3e4f5a6b"})
class AddHousingAdviserArgs(_PathwayArgs):
    member_id = fields.String(required=True, validate=_ID)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True)
    role = fields.String(load_default="boligrådgiver", validate=validate.Length(min=1, max=100))
    case_id = fields.UUID(load_default=None, allow_none=True)


@registry.rpc(SERVICE, "end_membership",
              summary="A member leaves the team after `last_day` (not the tovholder).",
              example={"actor": "staff:mette", "pathway_id": PATHWAY,
                       "member_id": "m-school", "last_day": "2021-06-30"})
class EndMembershipArgs(_PathwayArgs):
    member_id = fields.String(required=True, validate=_ID)
    last_day = fields.Date(required=True)


@registry.rpc(SERVICE, "add_network_person",
              summary="Add a relative or friend (pårørende) who takes part in meetings.",
              example={"actor": "staff:mette", "pathway_id": PATHWAY, "name": "Hanne",
                       "relation": "mor", "email": "hanne@example.dk",
                       "phone": "+45 20 30 40 50", "may_contact": True})
class AddNetworkPersonArgs(_PathwayArgs):
    person_id = fields.String(load_default=None, allow_none=True, validate=_ID)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    relation = fields.String(required=True, validate=validate.Length(min=1, max=100))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, allow_none=True, validate=PHONE)
    # The citizen agreed that this person receives meeting invitations (and their
    # changes) at the address or number above. Without it, no one contacts them.
    may_contact = fields.Boolean(load_default=False)


@registry.rpc(SERVICE, "appoint_tovholder",
              summary="Make a team member the pathway's first tovholder.",
              example={"actor": "staff:mette", "pathway_id": PATHWAY, "member_id": "m-social"})
class AppointTovholderArgs(_PathwayArgs):
    member_id = fields.String(required=True, validate=_ID)


@registry.rpc(SERVICE, "hand_over_tovholder",
              summary="Hand the tovholder role to another team member, with a reason.",
              example={"actor": "staff:mette", "pathway_id": PATHWAY,
                       "new_tovholder_id": "m-upoint", "reason": "Mette går på barsel.",
                       "handover_note": "Vincent ringer helst om formiddagen."})
class HandOverTovholderArgs(_PathwayArgs):
    new_tovholder_id = fields.String(required=True, validate=_ID)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    # For the new tovholder and the team (sent to them with the handover).
    handover_note = fields.String(load_default=None, allow_none=True,
                                  validate=validate.Length(max=2000))


@registry.rpc(SERVICE, "close_pathway", summary="Close a pathway.",
              example={"actor": "staff:mette", "pathway_id": PATHWAY,
                       "reason": "Vincent starter på efterskole."})
class ClosePathwayArgs(_PathwayArgs):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


@registry.rpc(SERVICE, "refer_to_offer",
              summary="The tovholder refers the citizen to another offer or a volunteer "
                      "organisation from the partner directory; publishes "
                      "coordination.offer_referral_requested (partners makes the hand-off). "
                      "`ask` is what is asked of the offer, shown on the pathway and never "
                      "sent: it must not be about the citizen's health.",
              example={"actor": "staff:m-social", "pathway_id": PATHWAY,
                       "partner_id": "ungdomsklubben",
                       "ask": "Kan Vincent komme med i klubbens onsdagshold?"})
class ReferToOfferArgs(_PathwayArgs):
    partner_id = fields.String(required=True, validate=PARTNER_ID)
    ask = fields.String(required=True, validate=validate.Length(min=1, max=500))


@registry.rpc(SERVICE, "acknowledge_handoff",
              summary="The tovholder has dealt with a hand-off that needed attention "
                      "(declined or unanswered): it leaves the list, and the timeline says "
                      "who and when.",
              example={"actor": "staff:m-social", "pathway_id": PATHWAY,
                       "handoff_id": "f4a5b6c7-d8e9-4f0a-9b1c-2d3e4f5a6b7c",
                       "note": "Vi prøver i stedet et forløb på produktionsskolen."})
class AcknowledgeHandoffArgs(_PathwayArgs):
    handoff_id = fields.UUID(required=True)
    note = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=2000))


# -- calendars ------------------------------------------------------------------------


class WorkingDaySchema(Schema):
    weekday = fields.String(required=True, validate=validate.OneOf(WEEKDAYS))
    start = fields.Time(required=True)  # Copenhagen wall clock
    end = fields.Time(required=True)


@registry.rpc(SERVICE, "set_working_hours",
              summary="A staff member's weekly working hours (one window per weekday; "
                      "days not listed are off). Without any: Mon-Thu 8-15.30, Fri 8-13.",
              example={"actor": "staff:lars", "member_id": "m-school",
                       "days": [{"weekday": d, "start": "08:00", "end": "14:00"}
                                for d in ("mon", "tue", "wed", "thu", "fri")]})
class SetWorkingHoursArgs(_Args):
    member_id = fields.String(required=True, validate=_ID)
    days = fields.List(fields.Nested(WorkingDaySchema), required=True)


@registry.rpc(SERVICE, "add_busy_block",
              summary="Enter a time when a participant cannot meet (only the time is kept).",
              example={"actor": "staff:lars", "participant_id": "m-school",
                       "starts_at": "2021-03-02T08:00:00+00:00",
                       "ends_at": "2021-03-02T10:00:00+00:00"})
class AddBusyBlockArgs(_Args):
    participant_id = fields.String(required=True, validate=_ID)
    starts_at = UTCDateTime(required=True)
    ends_at = UTCDateTime(required=True)


@registry.rpc(SERVICE, "import_calendar",
              summary="Replace a participant's imported busy blocks in a window with those "
                      "of an .ics file (`calendar`, its text) or an iCalendar feed "
                      "(`feed_url`, fetched now): exactly one of the two.",
              example={"actor": "staff:lars", "participant_id": "m-school",
                       "calendar": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
                       "window_start": "2021-03-01T00:00:00+00:00",
                       "window_end": "2021-04-26T00:00:00+00:00"})
class ImportCalendarArgs(_Args):
    participant_id = fields.String(required=True, validate=_ID)
    calendar = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(min=1, max=5_000_000))
    feed_url = fields.Url(load_default=None, allow_none=True, schemes={"https", "http"},
                          require_tld=False)
    window_start = UTCDateTime(required=True)
    window_end = UTCDateTime(required=True)

    @validates_schema
    def _one_source(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data.get("calendar") is None) == (data.get("feed_url") is None):
            raise ValidationError("Give exactly one of calendar (the .ics text) or feed_url.",
                                  field_name="calendar")


@registry.rpc(SERVICE, "set_citizen_preferences",
              summary="What suits the citizen: not before/after (Copenhagen time), "
                      "weekdays, place.",
              example={"actor": "staff:mette", "pathway_id": PATHWAY,
                       "not_before": "10:00", "weekdays": ["tue", "wed", "thu"],
                       "place": "home"})
class SetCitizenPreferencesArgs(_PathwayArgs):
    not_before = fields.Time(load_default=None, allow_none=True)
    not_after = fields.Time(load_default=None, allow_none=True)
    weekdays = fields.List(fields.String(validate=validate.OneOf(WEEKDAYS)), load_default=list)
    place = Enum(MeetingPlace, load_default=MeetingPlace.FRONTEN)


# -- meetings -------------------------------------------------------------------------


class InviteeSchema(Schema):
    """A team member or network person invited; the tovholder and the citizen always are."""

    participant_id = fields.String(required=True, validate=_ID)
    required = fields.Boolean(load_default=True)


_INVITEES = [{"participant_id": "m-school", "required": True},
             {"participant_id": "m-upoint", "required": True}]


class BusyIntervalSchema(Schema):
    starts_at = UTCDateTime(required=True)
    ends_at = UTCDateTime(required=True)
    # The block's origin (a meeting id, a calendar UID); never what the person does.
    ref = fields.String(allow_none=True, required=True)


class ParticipantBusySchema(Schema):
    participant_id = fields.String(required=True)
    busy = fields.List(fields.Nested(BusyIntervalSchema), required=True)


class BusyTimesResult(Schema):
    pathway_id = fields.UUID(required=True)
    participants = fields.List(fields.Nested(ParticipantBusySchema), required=True)


@registry.rpc(SERVICE, "busy_times",
              summary="When the pathway's citizen, team and network are busy in a window "
                      "(at most 31 days): times only, for the scheduling week grid.",
              result=BusyTimesResult,
              example={"actor": "staff:mette", "pathway_id": PATHWAY,
                       "window_start": "2021-03-01T00:00:00+00:00",
                       "window_end": "2021-03-06T00:00:00+00:00"})
class BusyTimesArgs(_PathwayArgs):
    window_start = UTCDateTime(required=True)
    window_end = UTCDateTime(required=True)

    @validates_schema
    def _window(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and not dt.timedelta(0) < end - start <= dt.timedelta(days=31):
            raise ValidationError("The window must end after it starts, within 31 days.",
                                  "window_end")


@registry.rpc(SERVICE, "propose_slots",
              summary="The best free meeting slots in a horizon, ranked by the citizen's "
                      "preferences, earliest date and optional attendance.",
              example={"actor": "staff:mette", "pathway_id": PATHWAY, "length_minutes": 60,
                       "horizon_start": "2021-03-01T00:00:00+00:00",
                       "horizon_end": "2021-03-15T00:00:00+00:00",
                       "participants": _INVITEES, "limit": 5})
class ProposeSlotsArgs(_PathwayArgs):
    length_minutes = fields.Integer(required=True, strict=True,
                                    validate=validate.Range(min=5, max=8 * 60))
    horizon_start = UTCDateTime(required=True)
    horizon_end = UTCDateTime(required=True)
    participants = fields.List(fields.Nested(InviteeSchema), load_default=list)
    limit = fields.Integer(load_default=5, strict=True, validate=validate.Range(min=1, max=50))
    # Offer different days: at most this many slots per day (None: no cap).
    max_per_day = fields.Integer(load_default=1, allow_none=True, strict=True,
                                 validate=validate.Range(min=1))
    # When looking for a new time for this meeting: its own time does not block.
    meeting_id = fields.UUID(load_default=None, allow_none=True)


@registry.rpc(SERVICE, "schedule_meeting",
              summary="Schedule a team meeting (checked against working hours, busy blocks "
                      "and holidays); publishes coordination.meeting_scheduled.",
              example={"actor": "staff:mette", "pathway_id": PATHWAY,
                       "starts_at": "2021-03-02T09:00:00+00:00",
                       "ends_at": "2021-03-02T10:00:00+00:00", "place": "home",
                       "participants": _INVITEES})
class ScheduleMeetingArgs(_PathwayArgs):
    starts_at = UTCDateTime(required=True)
    ends_at = UTCDateTime(required=True)
    place = Enum(MeetingPlace, load_default=None, allow_none=True)  # default: citizen's wish
    participants = fields.List(fields.Nested(InviteeSchema), load_default=list)


class _MeetingArgs(_Args):
    meeting_id = fields.UUID(required=True)


@registry.rpc(SERVICE, "reschedule_meeting",
              summary="Move a planned meeting; publishes meeting_rescheduled (SEQUENCE+1).",
              example={"actor": "staff:mette", "meeting_id": MEETING,
                       "starts_at": "2021-03-03T09:00:00+00:00",
                       "ends_at": "2021-03-03T10:00:00+00:00", "reason": "Lars er syg."})
class RescheduleMeetingArgs(_MeetingArgs):
    starts_at = UTCDateTime(required=True)
    ends_at = UTCDateTime(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=2000))
    place = Enum(MeetingPlace, load_default=None, allow_none=True)


@registry.rpc(SERVICE, "cancel_meeting",
              summary="Cancel a planned meeting; publishes meeting_cancelled.",
              example={"actor": "staff:mette", "meeting_id": MEETING,
                       "reason": "Vincent er syg."})
class CancelMeetingArgs(_MeetingArgs):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


@registry.rpc(SERVICE, "record_meeting_held",
              summary="Record that a meeting was held: who came, what was decided.",
              example={"actor": "staff:mette", "meeting_id": MEETING,
                       "present": ["m-social", CITIZEN, "m-upoint"],
                       "decisions": ["Ulla henter Vincent om morgenen de første to uger."]})
class RecordMeetingHeldArgs(_MeetingArgs):
    present = fields.List(fields.String(validate=_ID), required=True)
    decisions = fields.List(fields.String(validate=validate.Length(min=1, max=2000)),
                            load_default=list)


# -- the handleplan ---------------------------------------------------------------------


class ActionSpecSchema(Schema):
    action_id = fields.String(load_default=None, allow_none=True, validate=_ID)
    text = fields.String(required=True, validate=validate.Length(max=2000))
    owner_id = fields.String(required=True, validate=_ID)  # a team member
    due_on = fields.Date(required=True)


class GoalSpecSchema(Schema):
    goal_id = fields.String(load_default=None, allow_none=True, validate=_ID)
    text = fields.String(required=True, validate=validate.Length(max=2000))
    # Whose words: the citizen's own (at least one goal must be), network or team.
    voice = fields.String(load_default="citizen",
                          validate=validate.OneOf(["citizen", "network", "team"]))
    actions = fields.List(fields.Nested(ActionSpecSchema), load_default=list)


_GOALS = [{"goal_id": "g-school", "text": "Jeg vil gerne komme i skole igen.",
           "actions": [{"action_id": "a-bed", "text": "Ulla hjælper Vincent ud af sengen.",
                        "owner_id": "m-upoint", "due_on": "2021-03-15"}]}]


@registry.rpc(SERVICE, "draft_plan",
              summary="Version 1 of the pathway's handleplan (goals in the citizen's words). "
                      "When the pathway already has one (another editor came first), "
                      "pathway_id / plan.exists names its `current_version`: revise that.",
              example={"actor": "staff:mette", "pathway_id": PATHWAY, "goals": _GOALS})
class DraftPlanArgs(_PathwayArgs):
    goals = fields.List(fields.Nested(GoalSpecSchema), required=True)


@registry.rpc(SERVICE, "revise_plan",
              summary="A new version of the handleplan (the old one is kept); actions keep "
                      "their status by id. With `base_version` (the version the editor "
                      "started from; over HTTP the If-Match header), a revision whose base "
                      "is no longer the current version is refused: base_version / "
                      "plan.version_conflict, naming the current version "
                      "(`current_version`), so a concurrent edit is never lost.",
              example={"actor": "staff:mette", "pathway_id": PATHWAY, "goals": _GOALS,
                       "base_version": 1})
class RevisePlanArgs(_PathwayArgs):
    goals = fields.List(fields.Nested(GoalSpecSchema), required=True)
    # The version this revision was based on (optimistic concurrency; optional for API
    # callers, always sent by the web form). None: no check.
    base_version = fields.Integer(load_default=None, allow_none=True, strict=True,
                                  validate=validate.Range(min=1))


@registry.rpc(SERVICE, "record_plan_agreement",
              summary="The citizen agreed to a plan version: when and how.",
              example={"actor": "staff:mette", "pathway_id": PATHWAY, "version": 1,
                       "how": "in_meeting"})
class RecordPlanAgreementArgs(_PathwayArgs):
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    how = fields.String(required=True, validate=validate.OneOf(["in_meeting", "phone", "written"]))


@registry.rpc(SERVICE, "set_action_status",
              summary="Mark an action of the current plan open, done or dropped.",
              example={"actor": "staff:ulla", "pathway_id": PATHWAY, "action_id": "a-bed",
                       "status": "done"})
class SetActionStatusArgs(_PathwayArgs):
    action_id = fields.String(required=True, validate=_ID)
    status = fields.String(required=True, validate=validate.OneOf(["open", "done", "dropped"]))


@registry.rpc(SERVICE, "list_plan_versions",
              summary="Every version of the pathway's handleplan: when it was made, and whether, "
                      "when and how the citizen agreed to it.",
              example={"actor": "staff:mette", "pathway_id": PATHWAY})
class ListPlanVersionsArgs(_PathwayArgs):
    pass


@registry.rpc(SERVICE, "get_plan_version",
              summary="One version of the handleplan as it was written, with its agreement "
                      "(who recorded it, when and how). Old versions stay readable.",
              example={"actor": "staff:mette", "pathway_id": PATHWAY, "version": 1})
class GetPlanVersionArgs(_PathwayArgs):
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


# -- network contacts -------------------------------------------------------------------


class ParticipantContactResult(Schema):
    participant_id = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True)


@registry.rpc(SERVICE, "get_participant_contact",
              summary="A network person's e-mail and phone, for a meeting invitation, only if "
                      "the citizen agreed that they are contacted (logged as a disclosure).",
              result=ParticipantContactResult,
              example={"actor": "service:notifications", "pathway_id": PATHWAY,
                       "participant_id": "n-hanne", "purpose": "Mødeindkaldelse"})
class GetParticipantContactArgs(_PathwayArgs):
    participant_id = fields.String(required=True, validate=_ID)
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=200))


# -- worklists ----------------------------------------------------------------------------
# Pages of items sorted by urgency (contracts.worklist); "me" is the caller: the actor's
# `id` is the member_id under which the staff member sits in teams.


@registry.rpc(SERVICE, "awaiting_tovholder", result=WorklistPage,
              summary="Coordinators' list: pathways awaiting a tovholder, under-30s first, "
                      "then the longest waiting, with the waiting time.",
              example={"actor": "staff:koordinator", "limit": 20})
class AwaitingTovholderArgs(WorklistArgs):
    under_30 = fields.Boolean(load_default=None, allow_none=True)  # only (not) under 30


@registry.rpc(SERVICE, "my_pathways", result=WorklistPage,
              summary="My open pathways: those where I am tovholder first, then those where I "
                      "am in the team; the oldest first.",
              example={"actor": "staff:m-social", "limit": 20})
class MyPathwaysArgs(WorklistArgs):
    role = fields.String(load_default=None, allow_none=True,
                         validate=validate.OneOf(["tovholder", "member"]))


@registry.rpc(SERVICE, "my_meetings", result=WorklistPage,
              summary="My next meetings (planned, from today), the soonest first.",
              example={"actor": "staff:m-social", "limit": 20, "until": "2021-03-31"})
class MyMeetingsArgs(WorklistArgs):
    until = fields.Date(load_default=None, allow_none=True)  # the last day to include


@registry.rpc(SERVICE, "my_actions", result=WorklistPage,
              summary="Plan actions due or overdue that I own or that sit on pathways where I "
                      "am tovholder; the oldest due date first.",
              example={"actor": "staff:m-social", "limit": 20, "overdue_only": False})
class MyActionsArgs(WorklistArgs):
    overdue_only = fields.Boolean(load_default=False)


@registry.rpc(SERVICE, "my_housing_alerts", result=WorklistPage,
              summary="Housing warnings about the citizens of my pathways: help that would "
                      "come after the påkrav deadline first, then by the next deadline.",
              example={"actor": "staff:m-social", "limit": 20})
class MyHousingAlertsArgs(WorklistArgs):
    # Only the urgent: a warning, an overdue deadline, or a termination or eviction standing.
    urgent_only = fields.Boolean(load_default=False)


@registry.rpc(SERVICE, "my_handoffs", result=WorklistPage,
              summary="Hand-offs needing my attention as tovholder: declined by the partner, "
                      "or unanswered past their deadline (escalated); the longest waiting "
                      "first.",
              example={"actor": "staff:m-social", "limit": 20})
class MyHandoffsArgs(WorklistArgs):
    attention = fields.String(load_default=None, allow_none=True,
                              validate=validate.OneOf(["declined", "escalated"]))


# -- statistics ---------------------------------------------------------------------------


@registry.rpc(SERVICE, "pathway_statistics",
              summary="Pathway figures for a period (Copenhagen days, both included): active "
                      "pathways, referral to tovholder, meetings held, plans agreed, "
                      "continuity, tovholder changes.",
              example={"actor": "staff:leder", "period_start": "2021-01-01",
                       "period_end": "2021-12-31"})
class PathwayStatisticsArgs(_Args):
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)


# -- the citizen's access report ----------------------------------------------------------


class AccessEntrySchema(Schema):
    at = UTCDateTime(required=True)
    service = fields.String(required=True)
    actor = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    action = fields.String(required=True)  # read | search | change | disclosure
    action_text = fields.String(required=True)  # in Danish
    what = fields.String(required=True)
    subject_id = fields.String(required=True, allow_none=True)
    purpose = fields.String(required=True, allow_none=True)  # in Danish


@registry.rpc(SERVICE, "access_report",
              summary="Everything done with the citizen's data in coordination, oldest "
                      "first: who, when, what and why (Fronten answers the citizen's "
                      "request for insight; operators too). Logged as a read.",
              result=AccessEntrySchema,
              example={"actor": {"kind": "staff", "id": "anne", "roles": ["fronten"]},
                       "citizen_ref": CITIZEN})
class AccessReportArgs(_Args):
    citizen_ref = fields.UUID(required=True)
