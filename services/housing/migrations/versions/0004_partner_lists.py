"""an association's own list of cases, and the audit of refused reports

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-15 09:00:00

Existing cases get the association list's sort key from their stored state. The rule
is frozen here as it was written (services.housing.case_list.partner_sort_due), for
states stored before the association could answer a hold request: for an open case
with an association, the udsættelse date while one is set; nothing while an ophævelse
stands; the day we asked the association to hold until while it is asked to hold;
otherwise its påkrav deadline unless a payment plan is agreed or help granted. No
date (or a closed case, or no association): 9999-12-31.
"""

from collections.abc import Sequence
import datetime as dt

import sqlalchemy as sa
from alembic import op

import services.common.types


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_DUE = dt.date(9999, 12, 31)
OPEN = sa.text("closed_at IS NULL")


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _partner_due(state: dict) -> dt.date:
    if state.get("closure") is not None or not state.get("association_id"):
        return NO_DUE
    if state.get("eviction_date"):
        return _day(state["eviction_date"]) or NO_DUE
    if state.get("termination_registered_at"):
        return NO_DUE
    if state.get("escalation_reason"):
        return _day(state.get("hold_until")) or NO_DUE
    settled = state.get("payment_plan") == "agreed" or state.get("help_status") == "granted"
    return NO_DUE if settled else (_day(state.get("pakrav_deadline")) or NO_DUE)


def upgrade() -> None:
    with op.batch_alter_table('arrears_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner_due_on', sa.Date(), nullable=True))

    cases = sa.table(
        'arrears_cases',
        sa.column('id', sa.Uuid()),
        sa.column('state', sa.JSON()),
        sa.column('partner_due_on', sa.Date()),
    )
    bind = op.get_bind()
    for row in bind.execute(sa.select(cases.c.id, cases.c.state)).all():
        bind.execute(cases.update().where(cases.c.id == row.id)
                     .values(partner_due_on=_partner_due(row.state)))

    with op.batch_alter_table('arrears_cases', schema=None) as batch_op:
        batch_op.alter_column('partner_due_on', existing_type=sa.Date(), nullable=False)
        batch_op.create_index('ix_arrears_cases_partner',
                              ['association_id', 'partner_due_on', 'id'], unique=False,
                              postgresql_where=OPEN, sqlite_where=OPEN)

    op.create_table('refused_reports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
              nullable=False),
    sa.Column('at', services.common.types.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=160), nullable=False),
    sa.Column('association_id', sa.String(length=64), nullable=False),
    sa.Column('tenancy_ref', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=48), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('refused_reports', schema=None) as batch_op:
        batch_op.create_index('ix_refused_reports_at', ['at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('refused_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_refused_reports_at')
    op.drop_table('refused_reports')
    with op.batch_alter_table('arrears_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_arrears_cases_partner')
        batch_op.drop_column('partner_due_on')
