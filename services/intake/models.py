"""intake's tables. The kit tables (outbox, inbox, deadlines) are added to the same
metadata by `Database`, and created by intake's own Alembic history.

No column holds a CPR number in clear text: `citizens` keeps a keyed lookup hash (for
exact matches) and an encrypted copy (for an authorised, logged read), both under
keys that live in the configuration, never in the database.
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
    Uuid,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.tables import add_kit_tables
from services.common.types import UTCDateTime

metadata = MetaData()
add_kit_tables(metadata)

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a bigint.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = metadata


class Inquiry(Base):
    """A henvendelse: one contact with Fronten."""

    __tablename__ = "inquiries"
    # Fronten's open-inquiries list: unresolved, oldest first.
    __table_args__ = (Index("ix_inquiries_outcome_registered_at", "outcome", "registered_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    channel: Mapped[str] = mapped_column(String(32))
    inquirer_kind: Mapped[str] = mapped_column(String(32))
    topics: Mapped[list[str]] = mapped_column(JSON)
    # The citizen's own words; stays in intake, never published.
    wish: Mapped[str] = mapped_column(Text)
    citizen_ref: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    registered_by: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    conversations: Mapped[int | None] = mapped_column(Integer, nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(128), nullable=True)


class Citizen(Base):
    """A borger known to Fronten. Everyone outside intake knows only `citizen_ref`."""

    __tablename__ = "citizens"
    # The statistics join inquiries to birth dates from this index alone.
    __table_args__ = (
        Index("ix_citizens_citizen_ref_birth_date", "citizen_ref", "birth_date"),
    )

    citizen_ref: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # HMAC-SHA256 of the normalised CPR number under CPR_HASH_KEY: exact lookups only.
    cpr_lookup_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Fernet token of the CPR number under CPR_ENCRYPTION_KEY: shown only when asked.
    cpr_encrypted: Mapped[str] = mapped_column(Text)
    birth_date: Mapped[dt.date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(200))
    # The name as compared by match_citizen (case folded, spaces collapsed).
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Where the citizen lives, as free text (for home meetings); None when unknown.
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    preferred_channel: Mapped[str] = mapped_column(String(16))
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    registered_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ConsentRow(Base):
    """A samtykke: one recipient, named kinds of information, one purpose."""

    __tablename__ = "consents"
    # The list of consents to correct, by its sort key.
    __table_args__ = (Index("ix_consents_given_at_id", "given_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    citizen_ref: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    recipient: Mapped[str] = mapped_column(String(128))
    information_kinds: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(200))
    form: Mapped[str] = mapped_column(String(16))
    given_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    given_by: Mapped[str] = mapped_column(String(128))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # Free text from before the vocabulary (migration 0005) that could not be mapped
    # unambiguously: why a person must fix it (consent.CORRECTION_REASONS). Never dropped.
    needs_correction: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # What was registered before it was mapped or corrected (None when never changed).
    original_recipient: Mapped[str | None] = mapped_column(String(128), nullable=True)
    original_purpose: Mapped[str | None] = mapped_column(String(200), nullable=True)
    corrected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    corrected_by: Mapped[str | None] = mapped_column(String(160), nullable=True)
    # Mapped by the migration: intake.consent_given goes out again with the vocabulary's
    # values (the sweep publishes it), so that the consent gates see them.
    announce_pending: Mapped[bool] = mapped_column(Boolean, server_default=false(),
                                                   default=False)


class CourseRow(Base):
    """A forløb: the state of `services.intake.courses.Course`, field by field."""

    __tablename__ = "courses"
    # The worklists over running courses sort by these days.
    __table_args__ = (
        Index("ix_courses_status_planned_end", "status", "planned_end"),
        Index("ix_courses_status_bridging_due_on", "status", "bridging_due_on"),
        # The statistics (services/intake/statistics_sql.py): active courses on a day,
        # § 82 b courses started in a period.
        Index("ix_courses_ended_on_start_date_kind", "ended_on", "start_date", "kind"),
        Index("ix_courses_kind_start_date_id", "kind", "start_date", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    citizen_ref: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    inquiry_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[dt.date] = mapped_column(Date, index=True)
    planned_end: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    ended_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The plan: indsatsmål in the citizen's words, and ISO follow-up dates.
    goals: Mapped[list[str]] = mapped_column(JSON)
    follow_up_dates: Mapped[list[str]] = mapped_column(JSON)
    bridging_partner_kinds: Mapped[list[str]] = mapped_column(JSON)
    review_requested_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    review_planned_end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    review_decided_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    review_decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Derived from the dates and settings, stored for the worklists (set on every save).
    bridging_due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    review_due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # The last day a message about the course went out: no ending may be dated earlier.
    last_message_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # Registered after the fact in import mode: its past clocks were settled, not fired.
    imported: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    # Keys of the reminders already sent: makes Course.apply_due idempotent.
    fired: Mapped[list[str]] = mapped_column(JSON)
    # The CourseSettings the course started under (a later change of config does not
    # move the clocks of running courses).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The responsible staff member now (the known face; history in course_responsibles):
    # a staff id from the directory, their name and work contact.
    responsible_staff_id: Mapped[str] = mapped_column(String(128), index=True)
    responsible_name: Mapped[str] = mapped_column(String(200))
    responsible_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    responsible_phone: Mapped[str | None] = mapped_column(String(40), nullable=True)


class CourseResponsibleRow(Base):
    """One term of a staff member responsible for a course: who, from when, until when,
    and the handover note written for the next one (like a tovholder's term)."""

    __tablename__ = "course_responsibles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id"), index=True)
    staff_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    assigned_by: Mapped[str] = mapped_column(String(160))
    # Written at the handover, for the new responsible (staff only).
    handover_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class CourseTimelineRow(Base):
    """What happened around a course that its own state does not show: handovers of the
    responsible staff member and the partners' answers to its hand-offs."""

    __tablename__ = "course_timeline"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(160))
    text: Mapped[str] = mapped_column(String(400))  # Danish, for the screen
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class PartnerRow(Base):
    """The partner directory as intake knows it (from partners.partner_registered):
    who a consent may name as its recipient."""

    __tablename__ = "partners"

    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    accepts: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PathwayAccessRow(Base):
    """A pathway as need-to-know needs it (from coordination's events): whose it is,
    who leads it, whether it is closed."""

    __tablename__ = "pathway_access"

    pathway_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    citizen_ref: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    tovholder_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # When the current tovholder took over: an older event never overwrites a newer one.
    tovholder_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PathwayMemberRow(Base):
    """A team member of a pathway (from coordination's events), active until last_day."""

    __tablename__ = "pathway_members"

    pathway_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)
    # None until member_added arrives (membership_ended may arrive first).
    agency: Mapped[str | None] = mapped_column(String(32), nullable=True)
    added_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_day: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AttendanceRow(Base):
    """One agreement with the citizen: kept (overholdt) or broken."""

    __tablename__ = "course_attendance"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id"), index=True)
    on_date: Mapped[dt.date] = mapped_column(Date)
    kept: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Referral85Row(Base):
    """A referral to Social Vejledning for a § 85 assessment, with its outcome later."""

    __tablename__ = "course_referrals_85"
    # Social Vejledning's list, by its sort key.
    __table_args__ = (Index("ix_course_referrals_85_referred_on_id", "referred_on", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id"), index=True)
    referred_on: Mapped[dt.date] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    outcome_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class EndingProposalRow(Base):
    """The 4-week rule's proposal to end a course, and what a person decided."""

    __tablename__ = "course_ending_proposals"
    # Fronten's list of proposals, by its sort key.
    __table_args__ = (
        Index("ix_course_ending_proposals_proposed_on_id", "proposed_on", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id"), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    proposed_on: Mapped[dt.date] = mapped_column(Date)
    rule_met_on: Mapped[dt.date] = mapped_column(Date)
    last_kept_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    decided_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(160), nullable=True)


class TargetGroupFlag(Base):
    """A course or referral for someone outside the target group (16 to state pension
    age): not refused, but put to a person to decide."""

    __tablename__ = "target_group_flags"
    # Fronten's list of citizens outside the target group, by its sort key.
    __table_args__ = (Index("ix_target_group_flags_flagged_at_id", "flagged_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    citizen_ref: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    # What was flagged: course | pathway_referral | referral_85, on an inquiry or a course.
    subject: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    age: Mapped[int] = mapped_column(Integer)
    on_date: Mapped[dt.date] = mapped_column(Date)  # the day the age was taken on
    flagged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    flagged_by: Mapped[str] = mapped_column(String(160))
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    decided_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(160), nullable=True)


class CourseNotice(Base):
    """A note for Fronten's staff from a course clock: follow-up due, review due,
    planned end overdue (no review decision), bridging partner missing."""

    __tablename__ = "course_notices"
    # Fronten's follow-ups list, by its sort key.
    __table_args__ = (Index("ix_course_notices_due_on_id", "due_on", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # A follow-up notice is done when staff record the follow-up as held.
    done_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    done_by: Mapped[str | None] = mapped_column(String(160), nullable=True)


