"""every event reaches someone (issue 15): bridging announcements; routing rules for
the team mailboxes, network persons, handovers, overdue actions, housing warnings and
bridging cancellations

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10 09:00:00
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.common.types

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PATHWAY = "koordinering af sammenhængende borgerforløb"
_HOUSING = "forebyggelse af udsættelse"
_BRIDGING = "brobygning til beskæftigelse"
_COURSE = "opfølgning på forløb i Fronten"

# The rules ADR 0012 adds (docs/notifications.md says who receives what). They are
# data: operators list, add and remove rules with the notifications RPCs.
NEW_RULES = [
    ("intake.referral_85_made", "social_vejledning", "email", "course_status", _COURSE),
    ("intake.course_review_requested", "review_panel", "email", "course_status", _COURSE),
    ("intake.course_ending_proposed", "fronten", "email", "course_status", _COURSE),
    ("intake.bridging_cancelled", "jobcenter", "webhook", "bridging_status", _BRIDGING),
    ("intake.bridging_cancelled", "jobcenter", "partner_queue", "bridging_status", _BRIDGING),
    ("coordination.pathway_opened", "coordinators", "email", "contact_status", _PATHWAY),
    ("coordination.pathway_closed", "citizen", "email", "contact_status", _PATHWAY),
    ("coordination.tovholder_handed_over", "tovholder", "email", "contact_status", _PATHWAY),
    ("coordination.tovholder_handed_over", "team_members", "email", "contact_status",
     _PATHWAY),
    ("coordination.member_added", "team_members", "email", "contact_status", _PATHWAY),
    ("coordination.action_overdue", "team_members", "email", "action_plan", _PATHWAY),
    ("coordination.housing_escalation_noted", "tovholder", "email", "housing_case_status",
     _HOUSING),
    ("coordination.housing_warning_noted", "tovholder", "email", "housing_case_status",
     _HOUSING),
    ("housing.warning_flagged", "housing_officers", "email", "housing_case_status", _HOUSING),
    ("housing.action_overdue", "housing_officers", "email", "housing_case_status", _HOUSING),
    ("coordination.meeting_scheduled", "network", "email", "meeting_schedule", _PATHWAY),
    ("coordination.meeting_rescheduled", "network", "email", "meeting_schedule", _PATHWAY),
    ("coordination.meeting_cancelled", "network", "email", "meeting_schedule", _PATHWAY),
]

_rules = sa.table(
    "routing_rules",
    sa.column("event_type", sa.String), sa.column("recipient_kind", sa.String),
    sa.column("channel", sa.String), sa.column("information_kind", sa.String),
    sa.column("purpose", sa.String),
    sa.column("created_at", services.common.types.UTCDateTime()),
    sa.column("created_by", sa.String),
)


def upgrade() -> None:
    op.create_table('bridging_announcements',
    sa.Column('course_id', sa.String(length=36), nullable=False),
    sa.Column('partner_kind', sa.String(length=32), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('announced_message_id', sa.String(length=36), nullable=True),
    sa.Column('cancelled_message_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('course_id', 'partner_kind', 'due_on')
    )
    # An operator may already have added one of these by hand: skip those.
    existing = {
        tuple(row) for row in op.get_bind().execute(
            sa.select(_rules.c.event_type, _rules.c.recipient_kind, _rules.c.channel))
    }
    created = dt.datetime(2026, 12, 10, tzinfo=dt.UTC)
    rows = [
        {"event_type": e, "recipient_kind": r, "channel": c, "information_kind": k,
         "purpose": p, "created_at": created, "created_by": "migration:0003"}
        for e, r, c, k, p in NEW_RULES if (e, r, c) not in existing
    ]
    if rows:
        op.bulk_insert(_rules, rows)


def downgrade() -> None:
    op.execute(_rules.delete().where(_rules.c.created_by == "migration:0003"))
    op.drop_table('bridging_announcements')
