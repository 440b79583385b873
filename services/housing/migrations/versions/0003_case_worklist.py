"""the housing officers' worklist: stored sort key and its indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08 09:00:00

Existing cases get their sort key from their stored state. The rule is frozen here as
it was written (services.housing.case_list.sort_key): priority 0 when the case is open,
flagged `processing_exceeds_pakrav_deadline` and neither a payment plan is agreed nor
help granted, else 1; the due time is the earliest stored deadline of an open case, or
9999-12-31 when it has none.
"""

from collections.abc import Sequence
import datetime as dt

import sqlalchemy as sa
from alembic import op

import services.common.types


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_DEADLINE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
OPEN = sa.text("closed_at IS NULL")


def _sort_key(state: dict) -> tuple[int, dt.datetime]:
    is_open = state.get("closure") is None
    settled = state.get("payment_plan") == "agreed" or state.get("help_status") == "granted"
    warned = "processing_exceeds_pakrav_deadline" in (state.get("flags") or [])
    priority = 0 if is_open and warned and not settled else 1
    dues = [dt.datetime.fromisoformat(v).astimezone(dt.UTC)
            for v in (state.get("deadlines") or {}).values()]
    return priority, (min(dues) if is_open and dues else NO_DEADLINE)


def upgrade() -> None:
    with op.batch_alter_table('arrears_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worklist_priority', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('worklist_due_at', services.common.types.UTCDateTime(),
                                      nullable=True))

    cases = sa.table(
        'arrears_cases',
        sa.column('id', sa.Uuid()),
        sa.column('state', sa.JSON()),
        sa.column('worklist_priority', sa.SmallInteger()),
        sa.column('worklist_due_at', services.common.types.UTCDateTime()),
    )
    bind = op.get_bind()
    for row in bind.execute(sa.select(cases.c.id, cases.c.state)).all():
        priority, due_at = _sort_key(row.state)
        bind.execute(cases.update().where(cases.c.id == row.id)
                     .values(worklist_priority=priority, worklist_due_at=due_at))

    with op.batch_alter_table('arrears_cases', schema=None) as batch_op:
        batch_op.alter_column('worklist_priority', existing_type=sa.SmallInteger(),
                              nullable=False)
        batch_op.alter_column('worklist_due_at',
                              existing_type=services.common.types.UTCDateTime(),
                              nullable=False)
        batch_op.create_index('ix_arrears_cases_worklist',
                              ['worklist_priority', 'worklist_due_at', 'id'], unique=False,
                              postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.create_index('ix_arrears_cases_worklist_level',
                              ['level', 'worklist_priority', 'worklist_due_at', 'id'],
                              unique=False, postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.create_index('ix_arrears_cases_worklist_association',
                              ['association_id', 'worklist_priority', 'worklist_due_at', 'id'],
                              unique=False, postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.create_index('ix_arrears_cases_closed', ['closed_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('arrears_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_arrears_cases_closed')
        batch_op.drop_index('ix_arrears_cases_worklist_association')
        batch_op.drop_index('ix_arrears_cases_worklist_level')
        batch_op.drop_index('ix_arrears_cases_worklist')
        batch_op.drop_column('worklist_due_at')
        batch_op.drop_column('worklist_priority')
