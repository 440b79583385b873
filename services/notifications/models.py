"""notifications' tables: routing rules, partner subscriptions, legal bases, the
consent projection, the tovholder projection, the bridging announcements, the copies of
the partner directory, of hand-offs and of arrears cases' tenants, the events received
and the delivery ledger (a row per delivery, and one per attempt). The kit tables
(outbox, inbox, deadlines, access log) are added to the same metadata."""

from __future__ import annotations

import datetime as dt

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


class RoutingRuleRow(Base):
    """When `event_type` happens, tell `recipient_kind` by `channel` (data, not code)."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_type: Mapped[str] = mapped_column(String(128), index=True)
    recipient_kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    information_kind: Mapped[str] = mapped_column(String(64))
    # A ConsentPurpose code; None for a rule to staff or the citizen (no consent needed).
    purpose: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))

    __table_args__ = (
        UniqueConstraint("event_type", "recipient_kind", "channel", name="uq_routing_rule"),
    )


class Subscription(Base):
    """A partner organisation's subscription: which event types, by which channel."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    # A PartnerKind; None for a partner that receives hand-offs only (an offer, a
    # volunteer organisation).
    partner_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    channel: Mapped[str] = mapped_column(String(32))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    # The HMAC secret shared with the partner, encrypted (Fernet, under
    # WEBHOOK_SECRET_ENCRYPTION_KEY: services.notifications.secretbox): never clear text.
    secret_ciphertext: Mapped[str | None] = mapped_column(Text, nullable=True)
    # During a rotation: the secret being replaced, encrypted, and when it is retired.
    # Until then every delivery is signed with both (the new one first).
    previous_secret_ciphertext: Mapped[str | None] = mapped_column(Text, nullable=True)
    previous_secret_expires_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, nullable=True)
    secret_rotated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The clear-text secret of releases before 0005: no longer written, emptied by
    # migration 0005; the column is dropped in a later release (expand, then contract).
    legacy_plain_secret: Mapped[str | None] = mapped_column(
        "secret", String(256), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LegalBasisRow(Base):
    """A disclosure allowed without consent, with the legal reference relied on."""

    __tablename__ = "legal_bases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(128), index=True)
    information_kind: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(200))  # a ConsentPurpose code
    reference: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))


class ConsentRow(Base):
    """The consent projection, fed by intake.consent_given / intake.consent_withdrawn.

    A withdrawal may arrive before the consent it withdraws (two queues): then the row
    exists with `given_at` None until the consent arrives, and the withdrawal stands.
    """

    __tablename__ = "consents"

    consent_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    citizen_ref: Mapped[str] = mapped_column(String(36), index=True)
    recipient: Mapped[str] = mapped_column(String(128))
    information_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose: Mapped[str | None] = mapped_column(String(200), nullable=True)
    given_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ReceivedEvent(Base):
    """An event that caused deliveries, kept as received (the envelope's wire form),
    so that each delivery renders its text at send time."""

    __tablename__ = "received_events"

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(128))
    schema_version: Mapped[int] = mapped_column(Integer)
    correlation_id: Mapped[str] = mapped_column(String(128))
    envelope: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class TovholderContact(Base):
    """Who the citizen's tovholder is, from coordination's events: escalations about the
    citizen's home go to this work address (Fronten's when none is known)."""

    __tablename__ = "tovholders"

    citizen_ref: Mapped[str] = mapped_column(String(36), primary_key=True)
    tovholder_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class BridgingAnnouncement(Base):
    """A bridging (brobygning) announced to partners (intake.bridging_due) and its
    cancellation (intake.bridging_cancelled), per course, partner kind and due day.

    A cancellation goes to the recipients of the announcement's deliveries; an
    announcement that arrives after its cancellation (they travel on different queues)
    is not sent at all."""

    __tablename__ = "bridging_announcements"

    course_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    partner_kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    due_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    announced_message_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    cancelled_message_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class DirectoryPartner(Base):
    """The partner directory as partners.partner_registered tells it: who exists, is
    active and accepts which hand-offs (for the silent-subscription check). The contact
    address is asked of partners at send time, never kept here."""

    __tablename__ = "directory_partners"

    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    accepts: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class HandoffCopy(Base):
    """A hand-off as notifications heard of it (partners.handoff_requested, _updated):
    which request message told the partner, so that its updates go where it went."""

    __tablename__ = "handoffs"

    handoff_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    partner_id: Mapped[str] = mapped_column(String(64))
    citizen_ref: Mapped[str | None] = mapped_column(String(36), nullable=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(36))
    request_message_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ArrearsCaseTenant(Base):
    """Whose home an arrears case is about, from housing's case events: the tenant's
    consent lets the case's statements (housing.partner_status) reach the association."""

    __tablename__ = "housing_cases"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    citizen_ref: Mapped[str | None] = mapped_column(String(36), nullable=True)
    association_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class DeliveryRow(Base):
    """The delivery ledger: one row per (event, recipient, channel, subscription), never
    two; a partner with two subscriptions on one channel is told on both."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("received_events.message_id")
    )
    event_type: Mapped[str] = mapped_column(String(128))
    correlation_id: Mapped[str] = mapped_column(String(128))
    recipient_kind: Mapped[str] = mapped_column(String(32))
    # A work address for staff, "citizen:<ref>" for the citizen (the address is asked
    # of intake at send time and never stored), "partner:<id>" for a partner.
    recipient: Mapped[str] = mapped_column(String(320))
    channel: Mapped[str] = mapped_column(String(32))
    citizen_ref: Mapped[str | None] = mapped_column(String(36), nullable=True)
    subscription_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # The subscription's id as text for partner deliveries over a subscription, "" for
    # every other: part of the row's identity (NULLs would not be unique).
    subscription_key: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # What the delivery is about where it is not the citizen: the arrears case of a
    # partner status, the hand-off of a hand-off message.
    subject_ref: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    information_kind: Mapped[str] = mapped_column(String(64))
    # The consent purpose the gate is asked about (None where no consent is needed).
    purpose: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failure_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The consent id or legal reference a partner delivery relied on.
    basis: Mapped[str | None] = mapped_column(String(300), nullable=True)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the first attempt of the current round failed: retries give up a set time
    # after it (DELIVERY_GIVE_UP_HOURS). None while nothing has failed.
    failing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("message_id", "recipient", "channel", "subscription_key",
                         name="uq_delivery_once"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )


class DeliveryAttempt(Base):
    """Every attempt of a delivery, as the sweep recorded its outcome (in the unit of
    work that updates the delivery's row): the ledger's history, where `deliveries`
    keeps only the latest state. `attempt` is the delivery's attempt count after it
    (it starts again at 1 when an operator replays or a consent releases it)."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(BigId, ForeignKey("deliveries.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # sent, retrying, failed or blocked: the delivery's status after this attempt.
    outcome: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    failure_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The error (scrubbed, as last_error), or the gate's reason for a blocked one.
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
