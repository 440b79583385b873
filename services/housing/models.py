"""housing's tables. The kit tables (outbox, inbox, deadlines) are added to the same
metadata by `Database`, and created by housing's own Alembic history.

An arrears case is stored as the aggregate's `to_state()` (JSON) next to the columns
that queries need. Its deadlines live in the kit's `deadlines` table (kind
``housing.<DeadlineKind>``, subject = the case id), kept equal to the aggregate's
stored deadlines on every save, so the @timer sweep finds them and a restart loses none.
No CPR number, name or match data is ever stored here: the tenant is a citizen_ref.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.tables import add_kit_tables
from services.common.types import UTCDateTime

metadata = MetaData()
add_kit_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class Association(Base):
    """A housing association (boligforening) registered as a partner."""

    __tablename__ = "associations"

    association_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    cvr: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # How it wants to be reached; the channel itself is configured in notifications.
    delivery: Mapped[str] = mapped_column(String(32))
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    registered_by: Mapped[str] = mapped_column(String(128))


class Department(Base):
    """An afdeling (department, an estate) of an association."""

    __tablename__ = "departments"

    association_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("associations.association_id"), primary_key=True
    )
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Tenancy(Base):
    """A lejemål (tenancy) and who owns it: one owner per tenancy reference."""

    __tablename__ = "tenancies"

    tenancy_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    association_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("associations.association_id"), index=True
    )
    department_number: Mapped[str] = mapped_column(String(32))


class ArrearsCaseRow(Base):
    """One rent-arrears case (huslejerestance)."""

    __tablename__ = "arrears_cases"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    association_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    tenancy_ref: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # The tenancy while the case is open, NULL once closed: at most one open case per
    # tenancy, enforced by the database (NULLs do not collide on SQLite or PostgreSQL).
    open_tenancy_ref: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    citizen_ref: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    source: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(32), index=True)
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closure: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # ArrearsCase.to_state(): the aggregate, rebuilt with ArrearsCase.from_state().
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(128))
    # The housing officers' worklist sorts on these (services.housing.case_list.sort_key),
    # written on every save and never computed from the clock at read time, so a case
    # keeps its place on the list until the case itself changes.
    # 0: the § 81 a warning stands (help would come after the påkrav deadline); 1: other.
    worklist_priority: Mapped[int] = mapped_column(SmallInteger)
    # The next stored deadline; case_list.NO_DEADLINE when there is none.
    worklist_due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The association's own list sorts on this (case_list.partner_sort_due): the date
    # that matters to the association, case_list.PARTNER_NO_DUE when there is none.
    partner_due_on: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (
        # The open cases' list, whole and filtered by level or association: an index
        # range in the list's order, so a page reads `limit` rows, however deep.
        Index("ix_arrears_cases_worklist", "worklist_priority", "worklist_due_at", "id",
              postgresql_where=text("closed_at IS NULL"),
              sqlite_where=text("closed_at IS NULL")),
        Index("ix_arrears_cases_worklist_level", "level", "worklist_priority",
              "worklist_due_at", "id",
              postgresql_where=text("closed_at IS NULL"),
              sqlite_where=text("closed_at IS NULL")),
        Index("ix_arrears_cases_worklist_association", "association_id", "worklist_priority",
              "worklist_due_at", "id",
              postgresql_where=text("closed_at IS NULL"),
              sqlite_where=text("closed_at IS NULL")),
        # The closed cases' list: most recently closed first.
        Index("ix_arrears_cases_closed", "closed_at", "id"),
        # An association's own open cases, by the date that matters to it.
        Index("ix_arrears_cases_partner", "association_id", "partner_due_on", "id",
              postgresql_where=text("closed_at IS NULL"),
              sqlite_where=text("closed_at IS NULL")),
    )


class PathwayTovholder(Base):
    """Projection of coordination's pathways: which citizen has which tovholder.

    Every escalation of a citizen with a tovholder is addressed to the tovholder too;
    without one, to Fronten."""

    __tablename__ = "pathway_tovholders"

    pathway_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    citizen_ref: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    tovholder_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # occurred_at of the last event applied: an older event arriving late changes nothing.
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RefusedReport(Base):
    """The audit of refused association reports: an association reported arrears for a
    tenancy not registered to it (or whose open case is another association's).

    The association is told only that the tenancy is not registered to it; this row
    says why, for the housing officers and operators (services.housing.partners
    .ReportRefusal). No tenant data: never the CPR number, name or citizen_ref the
    report carried; only who reported which of its references, when."""

    __tablename__ = "refused_reports"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(160))
    association_id: Mapped[str] = mapped_column(String(64))
    tenancy_ref: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(48))

    __table_args__ = (
        # The list: newest first.
        Index("ix_refused_reports_at", "at", "id"),
    )
