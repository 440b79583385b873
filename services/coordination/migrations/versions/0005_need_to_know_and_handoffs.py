"""need-to-know (consents), the partner directory, offer referrals, hand-offs, and
the housing alerts' newest ladder move (a de-escalation settles an overdue deadline)

The consent copy (`consents`, `consent_kinds`) starts empty: intake's consent events
fill it from now on. Team members from another agency than social services that were
added before this version keep their membership but see nothing of their pathways
(beyond that they exist) until a consent of the citizen to their agency for the pathway
team reaches coordination (docs/coordination.md, "Need-to-know").

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.common.types

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('consents',
    sa.Column('consent_id', sa.Uuid(), nullable=False),
    sa.Column('citizen_ref', sa.Uuid(), nullable=False),
    sa.Column('recipient', sa.String(length=128), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=True),
    sa.Column('given_at', services.common.types.UTCDateTime(), nullable=True),
    sa.Column('withdrawn_at', services.common.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('consent_id')
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index('ix_consents_citizen_recipient', ['citizen_ref', 'recipient'],
                              unique=False)

    op.create_table('consent_kinds',
    sa.Column('consent_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['consent_id'], ['consents.consent_id'], ),
    sa.PrimaryKeyConstraint('consent_id', 'kind')
    )

    op.create_table('partners',
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('accepts', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('changed_at', services.common.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('partner_id')
    )

    op.create_table('offer_referrals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('pathway_id', sa.Uuid(), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('ask', sa.Text(), nullable=False),
    sa.Column('requested_at', services.common.types.UTCDateTime(), nullable=False),
    sa.Column('requested_by', sa.String(length=160), nullable=False),
    sa.ForeignKeyConstraint(['pathway_id'], ['pathways.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('offer_referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_referrals_pathway_id'), ['pathway_id'],
                              unique=False)

    op.create_table('handoffs',
    sa.Column('handoff_id', sa.Uuid(), nullable=False),
    sa.Column('citizen_ref', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('state_at', services.common.types.UTCDateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=64), nullable=True),
    sa.Column('hold_until', sa.Date(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('answered_by', sa.String(length=160), nullable=True),
    sa.Column('requested_at', services.common.types.UTCDateTime(), nullable=True),
    sa.Column('answer_by', sa.Date(), nullable=True),
    sa.Column('escalated_at', services.common.types.UTCDateTime(), nullable=True),
    sa.Column('attention', sa.String(length=16), nullable=True),
    sa.Column('attention_since', services.common.types.UTCDateTime(), nullable=True),
    sa.Column('acknowledged_at', services.common.types.UTCDateTime(), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=160), nullable=True),
    sa.Column('updated_at', services.common.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('handoff_id')
    )
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.create_index('ix_handoffs_citizen_attention', ['citizen_ref', 'attention'],
                              unique=False)

    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=40), nullable=True))

    # Existing alerts: the newest move is not known (null): they behave as before.
    with op.batch_alter_table('housing_alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('moved_at', services.common.types.UTCDateTime(),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('housing_alerts', schema=None) as batch_op:
        batch_op.drop_column('moved_at')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('phone')
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_index('ix_handoffs_citizen_attention')
    op.drop_table('handoffs')
    with op.batch_alter_table('offer_referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_referrals_pathway_id'))
    op.drop_table('offer_referrals')
    op.drop_table('partners')
    op.drop_table('consent_kinds')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index('ix_consents_citizen_recipient')
    op.drop_table('consents')
