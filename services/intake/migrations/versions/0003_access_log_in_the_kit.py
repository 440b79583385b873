"""access log in the kit: roles and subject

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # intake's access log becomes the kit's (services.common.access): the caller's
    # roles and the record read are kept beside who, when, what and why.
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roles', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('subject_id', sa.String(length=64), nullable=True))
        batch_op.alter_column('actor', existing_type=sa.String(length=128),
                              type_=sa.String(length=160), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.alter_column('actor', existing_type=sa.String(length=160),
                              type_=sa.String(length=128), existing_nullable=False)
        batch_op.drop_column('subject_id')
        batch_op.drop_column('roles')
