"""rpc_requests in the kit: a request delivered again changes nothing

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.common.types


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The kit's record of committed RPC requests (services.common.rpc), frozen here.
    op.create_table('rpc_requests',
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('at', services.common.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('request_id')
    )
    with op.batch_alter_table('rpc_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rpc_requests_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rpc_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rpc_requests_at'))
    op.drop_table('rpc_requests')
