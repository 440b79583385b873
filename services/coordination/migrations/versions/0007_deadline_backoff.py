"""deadlines back off: a deadline whose sweep handler failed waits before its next try

The kit's one sweep (services.common.deadlines.sweep) rolls a failing deadline back,
counts the failure in `attempts`, keeps its text in `last_error` and leaves it alone
until `next_attempt_at` (wall time), so one failing deadline blocks no other. Existing
rows start with no failures.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.common.types

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The kit's deadlines table (services.common.tables), frozen here.
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('next_attempt_at', services.common.types.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_column('last_error')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
