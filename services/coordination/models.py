"""coordination's tables.

A pathway (sammenhængende borgerforløb) is stored as rows: the pathway, its team
members, its tovholder terms, its network persons and its meetings; the handleplan
as immutable version rows plus per-action status and the announcements already
published. Calendars (working hours, busy blocks) belong to a person across
pathways, keyed by participant id: a staff member's id, the citizen's citizen_ref,
or a network person's id.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.tables import add_kit_tables
from services.common.types import UTCDateTime

metadata = MetaData()
add_kit_tables(metadata)

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = metadata


class CitizenActivity(Base):
    """What other services reported about a citizen (an inquiry at Fronten, a course
    ending, a housing escalation), shown on the timeline of the citizen's pathway."""

    __tablename__ = "citizen_activity"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    citizen_ref: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    kind: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    source_message_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    details: Mapped[dict[str, object]] = mapped_column(JSON)


class PathwayRow(Base):
    __tablename__ = "pathways"
    __table_args__ = (
        # A citizen has at most one open pathway: the database says so too, so two
        # concurrent referrals cannot both open one.
        Index(
            "uq_pathways_open_citizen",
            "citizen_ref",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    citizen_ref: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    opened_by: Mapped[str] = mapped_column(String(128))
    referral_inquiry_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # From the referral: when Fronten referred, and whether the citizen is under 30
    # (the coordinators' list puts under-30s first). None when opened by staff.
    referred_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    under_30: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # CitizenPreferences as JSON: not_before, not_after ("HH:MM"), weekdays, place.
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    close_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class StaffRow(Base):
    """A professional across pathways: their work address and weekly working hours."""

    __tablename__ = "staff"

    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    # Work phone: the contact partners get on the tovholder's referrals.
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # {"mon": ["08:00", "15:30"], ...}; None: the municipality's standard hours.
    working_hours: Mapped[dict[str, list[str]] | None] = mapped_column(JSON, nullable=True)


class MemberRow(Base):
    __tablename__ = "pathway_members"
    __table_args__ = (Index("ix_pathway_members_member", "member_id"),)

    pathway_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("pathways.id"), primary_key=True
    )
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(100))
    active_from: Mapped[dt.date] = mapped_column(Date)
    active_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    added_by: Mapped[str] = mapped_column(String(128))


class NetworkPersonRow(Base):
    __tablename__ = "network_persons"

    pathway_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("pathways.id"), primary_key=True
    )
    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Contact details, used only when the citizen agreed (`may_contact`) that this
    # person receives meeting invitations; read at send time (get_participant_contact).
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    may_contact: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)


class TovholderTermRow(Base):
    __tablename__ = "tovholder_terms"
    __table_args__ = (Index("ix_tovholder_terms_member", "member_id", "until"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    pathway_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("pathways.id"), index=True)
    member_id: Mapped[str] = mapped_column(String(64))
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    handover_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # What the tovholder ending this term wrote for the next one and the team.
    handover_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    appointed_by: Mapped[str] = mapped_column(String(128))


class BusyBlockRow(Base):
    """A time a participant cannot meet. Only the time, never what they are doing."""

    __tablename__ = "busy_blocks"
    __table_args__ = (Index("ix_busy_blocks_participant", "participant_id", "starts_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    participant_id: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(16))  # manual | ical
    ref: Mapped[str | None] = mapped_column(String(255), nullable=True)  # iCalendar UID
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))


class MeetingRow(Base):
    __tablename__ = "meetings"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    pathway_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("pathways.id"), index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # planned | held | cancelled
    # RFC 5545 SEQUENCE of the invitation: 0, +1 per reschedule and on cancellation.
    sequence: Mapped[int] = mapped_column(Integer)
    # [{"participant_id": ..., "required": bool}] in invitation order.
    participants: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    present: Mapped[list[str]] = mapped_column(JSON, default=list)
    citizen_present: Mapped[bool] = mapped_column(Boolean, default=False)
    tovholder_present: Mapped[bool] = mapped_column(Boolean, default=False)
    decisions: Mapped[list[str]] = mapped_column(JSON, default=list)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    scheduled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    scheduled_by: Mapped[str] = mapped_column(String(128))
    held_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MeetingParticipantRow(Base):
    """Who is invited to a meeting; a planned meeting makes its invitees busy in every
    other pathway's search."""

    __tablename__ = "meeting_participants"

    meeting_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("meetings.id"), primary_key=True
    )
    participant_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class PlanRow(Base):
    __tablename__ = "plans"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    pathway_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("pathways.id"), unique=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PlanVersionRow(Base):
    """One version of a handleplan. Never changed after it is written, except that
    the citizen's agreement is filled in once."""

    __tablename__ = "plan_versions"

    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("plans.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    goals: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    agreed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    agreed_how: Mapped[str | None] = mapped_column(String(16), nullable=True)
    agreement_recorded_by: Mapped[str | None] = mapped_column(String(128), nullable=True)


class ActionStatusRow(Base):
    __tablename__ = "plan_action_status"

    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("plans.id"), primary_key=True)
    action_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PlanActionRow(Base):
    """The current plan version's actions, one row each, for the "my actions" list
    (a read model of the plan versions, kept in step with them by every plan change)."""

    __tablename__ = "plan_actions"
    __table_args__ = (
        UniqueConstraint("plan_id", "action_id", name="uq_plan_actions_action"),
        Index("ix_plan_actions_owner_due", "owner_id", "due_on"),
        Index("ix_plan_actions_pathway_due", "pathway_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("plans.id"))
    pathway_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("pathways.id"))
    action_id: Mapped[str] = mapped_column(String(64))
    goal_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(String(64))
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # open | done | dropped


class HousingAlertRow(Base):
    """A rent-arrears case of a citizen, as housing's events told it: the tovholder's
    "housing alerts" list. One row per case, merged from case_opened, case_escalated,
    warning_flagged, action_overdue and case_closed in any order of arrival."""

    __tablename__ = "housing_alerts"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    citizen_ref: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    association_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    level: Mapped[str] = mapped_column(String(32))
    next_deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When housing decided the level and deadline above (a late, older event does not
    # overwrite a newer state).
    state_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    flags: Mapped[list[str]] = mapped_column(JSON)  # housing's warning codes, kept until closed
    pakrav_deadline: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    overdue_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    overdue_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The newest move on the ladder (escalation or de-escalation): it settles an overdue
    # deadline reported before it, whichever arrives first.
    moved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    requests: Mapped[list[str]] = mapped_column(JSON)  # what housing asks of the tovholder
    last_event: Mapped[str] = mapped_column(String(32))
    # The list's sort key: 0 help comes after the påkrav deadline, 1 another warning or
    # an overdue deadline, 2 the rest; then the deadline (far future when none).
    priority: Mapped[int] = mapped_column(Integer)
    sort_deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closure: Mapped[str | None] = mapped_column(String(16), nullable=True)


class ActionAnnouncementRow(Base):
    """An action_due/action_overdue already published (once per action and due date)."""

    __tablename__ = "action_announcements"

    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("plans.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # due | overdue
    action_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    announced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class TimelineRow(Base):
    """What happened in a pathway, for the tovholder's chronological view."""

    __tablename__ = "pathway_timeline"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    pathway_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("pathways.id"), index=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(128), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


# --- need-to-know and hand-offs (issues 10 and 16) --------------------------------------


class ConsentRow(Base):
    """A consent (samtykke) of a citizen, as intake's events told it: coordination's
    copy, so that a team member from another agency sees only what the citizen agreed
    to for that agency (recipient = the agency, purpose pathway_team). The withdrawal
    may arrive before the consent (events of different types travel on different
    queues): then the row is made by the withdrawal and stays withdrawn."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_citizen_recipient", "citizen_ref", "recipient"),)

    consent_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    citizen_ref: Mapped[uuid.UUID] = mapped_column(Uuid)
    recipient: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str | None] = mapped_column(String(200), nullable=True)
    given_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConsentKindRow(Base):
    """One kind of information a consent covers (contracts.vocabulary.INFORMATION_KINDS)."""

    __tablename__ = "consent_kinds"

    consent_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("consents.consent_id"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)


class PartnerRow(Base):
    """The partner directory as partners.partner_registered tells it: names for the
    hand-off texts, and which partners take offer referrals."""

    __tablename__ = "partners"

    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    accepts: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class OfferReferralRow(Base):
    """The tovholder's referral of the citizen to another offer: what was asked stays
    here (the partner gets the Danish standard text from the partners service)."""

    __tablename__ = "offer_referrals"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    pathway_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("pathways.id"), index=True)
    partner_id: Mapped[str] = mapped_column(String(64))
    ask: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[str] = mapped_column(String(160))


class HandoffRow(Base):
    """A hand-off of a citizen with an open pathway, as partners' events told it
    (handoff_updated, handoff_escalated, in any order): the tovholder's list of
    hand-offs needing attention (declined, or escalated while unanswered)."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_citizen_attention", "citizen_ref", "attention"),)

    handoff_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    citizen_ref: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(32))
    partner_id: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    state: Mapped[str] = mapped_column(String(16))
    # When the partner (or staff) moved it to `state`: a late, older update does not
    # overwrite a newer one.
    state_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # declined
    outcome: Mapped[str | None] = mapped_column(String(64), nullable=True)  # completed
    hold_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    title: Mapped[str | None] = mapped_column(String(300), nullable=True)  # Danish status
    answered_by: Mapped[str | None] = mapped_column(String(160), nullable=True)
    requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answer_by: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # declined | escalated | None; since when (the list's sort key).
    attention: Mapped[str | None] = mapped_column(String(16), nullable=True)
    attention_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(160), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
