"""worklists: ending proposals, target-group flags, follow-ups held, citizen address

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10 09:00:00
"""

import calendar
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import services.common.types

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('citizens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=300), nullable=True))

    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.create_index('ix_inquiries_outcome_registered_at',
                              ['outcome', 'registered_at'], unique=False)

    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bridging_due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('review_due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('last_message_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('imported', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.create_index('ix_courses_status_planned_end', ['status', 'planned_end'],
                              unique=False)
        batch_op.create_index('ix_courses_status_bridging_due_on',
                              ['status', 'bridging_due_on'], unique=False)
    _backfill_course_days()

    with op.batch_alter_table('course_notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('done_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('done_by', sa.String(length=160), nullable=True))

    op.create_table('course_ending_proposals',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('proposed_on', sa.Date(), nullable=False),
    sa.Column('rule_met_on', sa.Date(), nullable=False),
    sa.Column('last_kept_on', sa.Date(), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('decided_by', sa.String(length=160), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('course_ending_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_ending_proposals_course_id'),
                              ['course_id'], unique=False)

    op.create_table('target_group_flags',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('citizen_ref', sa.Uuid(), nullable=False),
    sa.Column('subject', sa.String(length=32), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('age', sa.Integer(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('flagged_at', services.common.types.UTCDateTime(), nullable=False),
    sa.Column('flagged_by', sa.String(length=160), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('decided_by', sa.String(length=160), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('target_group_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_target_group_flags_citizen_ref'),
                              ['citizen_ref'], unique=False)


def _add_months(day: dt.date, months: int) -> dt.date:
    # Frozen copy of services.intake.courses.add_months: a migration must not change
    # when the domain code does.
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    return dt.date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _backfill_course_days() -> None:
    """bridging_due_on and review_due_on of the courses already stored, from the dates
    and the settings each course started with (as Course.bridging_due_on and
    Course.review_due_on compute them)."""
    courses = sa.table('courses', sa.column('id', sa.Uuid()), sa.column('start_date', sa.Date()),
                       sa.column('planned_end', sa.Date()), sa.column('settings', sa.JSON()),
                       sa.column('bridging_due_on', sa.Date()),
                       sa.column('review_due_on', sa.Date()))
    conn = op.get_bind()
    rows = conn.execute(sa.select(courses.c.id, courses.c.start_date, courses.c.planned_end,
                                  courses.c.settings)).all()
    for row in rows:
        settings = row.settings if isinstance(row.settings, dict) else json.loads(row.settings)
        start, end = _as_date(row.start_date), _as_date(row.planned_end)
        bridging = max(start, _add_months(end, -int(settings.get('bridging_lead_months', 2))))
        review = max(start, end - dt.timedelta(days=int(settings.get('review_lead_days', 28))))
        conn.execute(sa.update(courses).where(courses.c.id == row.id)
                     .values(bridging_due_on=bridging, review_due_on=review))


def downgrade() -> None:
    with op.batch_alter_table('target_group_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_target_group_flags_citizen_ref'))
    op.drop_table('target_group_flags')
    with op.batch_alter_table('course_ending_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_ending_proposals_course_id'))
    op.drop_table('course_ending_proposals')
    with op.batch_alter_table('course_notices', schema=None) as batch_op:
        batch_op.drop_column('done_by')
        batch_op.drop_column('done_on')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_index('ix_courses_status_bridging_due_on')
        batch_op.drop_index('ix_courses_status_planned_end')
        batch_op.drop_column('imported')
        batch_op.drop_column('last_message_on')
        batch_op.drop_column('review_due_on')
        batch_op.drop_column('bridging_due_on')
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.drop_index('ix_inquiries_outcome_registered_at')
    with op.batch_alter_table('citizens', schema=None) as batch_op:
        batch_op.drop_column('address')
