"""the directory of partners and offers, hand-offs with their history; Social Vejledning

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-09 09:00:00

Seeds Social Vejledning (`social-vejledning`, category social_vejledning, accepts
referral_85), so that a fresh system can hand § 85 referrals over, and puts its
`partners.partner_registered` v1 event in the outbox (written out here as it was
released, not built by today's code), so that intake and notifications learn of it.
"""

import datetime as dt
import json
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.common.types

SOCIAL_VEJLEDNING = {
    "partner_id": "social-vejledning",
    "name": "Social Vejledning",
    "category": "social_vejledning",
    "contact_name": "Social Vejledning",
    "contact_email": "socialvejledning@balk.dk",
    "contact_phone": None,
    "description": "Kommunens myndighedsafdeling: vurderer og afgør støtte efter "
                   "servicelovens § 85.",
    "active": True,
}
SEEDED_BY = "service:partners"


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('missing_partners',
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('source_event', sa.String(length=128), nullable=False),
    sa.Column('first_seen_at', services.common.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('partner_id', 'kind', 'subject_id')
    )
    op.create_table('partners',
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('description', sa.String(length=1000), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('registered_at', services.common.types.UTCDateTime(), nullable=False),
    sa.Column('registered_by', sa.String(length=160), nullable=False),
    sa.Column('changed_at', services.common.types.UTCDateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=160), nullable=False),
    sa.PrimaryKeyConstraint('partner_id')
    )
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partners_category'), ['category'], unique=False)
        batch_op.create_index('ix_partners_name', ['name', 'partner_id'], unique=False)

    op.create_table('handoffs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('citizen_ref', sa.Uuid(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('open_rank', sa.SmallInteger(), nullable=False),
    sa.Column('open_key', sa.String(length=200), nullable=True),
    sa.Column('requested_at', services.common.types.UTCDateTime(), nullable=False),
    sa.Column('answer_by', sa.Date(), nullable=False),
    sa.Column('escalated_at', services.common.types.UTCDateTime(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('ask', sa.String(length=1000), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('responsible_staff_id', sa.String(length=128), nullable=True),
    sa.Column('responsible_email', sa.String(length=254), nullable=True),
    sa.Column('mailbox', sa.String(length=32), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('source_event', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('hold_until', sa.Date(), nullable=True),
    sa.Column('answered_at', services.common.types.UTCDateTime(), nullable=True),
    sa.Column('answered_by', sa.String(length=160), nullable=True),
    sa.Column('updated_at', services.common.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.partner_id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('open_key')
    )
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.create_index('ix_handoffs_awaiting', ['answer_by', 'id'], unique=False, postgresql_where=sa.text("state IN ('requested', 'received')"), sqlite_where=sa.text("state IN ('requested', 'received')"))
        batch_op.create_index(batch_op.f('ix_handoffs_citizen_ref'), ['citizen_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_handoffs_kind'), ['kind'], unique=False)
        batch_op.create_index('ix_handoffs_partner_list', ['partner_id', 'open_rank', 'answer_by', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handoffs_responsible_staff_id'), ['responsible_staff_id'], unique=False)
        batch_op.create_index('ix_handoffs_subject', ['subject_type', 'subject_id'], unique=False)

    op.create_table('partner_accepts',
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.partner_id'], ),
    sa.PrimaryKeyConstraint('partner_id', 'kind')
    )
    with op.batch_alter_table('partner_accepts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_accepts_kind'), ['kind'], unique=False)

    op.create_table('handoff_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('handoff_id', sa.Uuid(), nullable=False),
    sa.Column('at', services.common.types.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=160), nullable=False),
    sa.Column('change', sa.String(length=16), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('hold_until', sa.Date(), nullable=True),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('handoff_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handoff_history_handoff_id'), ['handoff_id'], unique=False)

    _seed_social_vejledning()


def _seed_social_vejledning() -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    when = services.common.types.UTCDateTime()
    partners = sa.table(
        "partners", *[sa.column(name) for name in (*SOCIAL_VEJLEDNING, "registered_by",
                                                   "changed_by")],
        sa.column("registered_at", when), sa.column("changed_at", when),
    )
    op.bulk_insert(partners, [{**SOCIAL_VEJLEDNING, "registered_at": now,
                               "registered_by": SEEDED_BY, "changed_at": now,
                               "changed_by": SEEDED_BY}])
    accepts = sa.table("partner_accepts", sa.column("partner_id"), sa.column("kind"))
    op.bulk_insert(accepts, [{"partner_id": "social-vejledning", "kind": "referral_85"}])
    message_id = str(uuid.uuid4())
    envelope = {
        "message_id": message_id,
        "type": "partners.partner_registered",
        "schema_version": 1,
        "occurred_at": now.isoformat(),
        "producer": "partners",
        "correlation_id": "social-vejledning",
        "payload": {"partner_id": "social-vejledning", "name": "Social Vejledning",
                    "category": "social_vejledning", "accepts": ["referral_85"],
                    "active": True, "changed_at": now.isoformat()},
    }
    outbox = sa.table("outbox", sa.column("message_id"), sa.column("type"),
                      sa.column("exchange"), sa.column("correlation_id"), sa.column("body"),
                      sa.column("created_at", when), sa.column("attempts"))
    op.bulk_insert(outbox, [{
        "message_id": message_id, "type": "partners.partner_registered",
        "exchange": "partners.events", "correlation_id": "social-vejledning",
        "body": json.dumps(envelope, ensure_ascii=False), "created_at": now, "attempts": 0,
    }])


def downgrade() -> None:
    with op.batch_alter_table('handoff_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handoff_history_handoff_id'))

    op.drop_table('handoff_history')
    with op.batch_alter_table('partner_accepts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_accepts_kind'))

    op.drop_table('partner_accepts')
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_index('ix_handoffs_subject')
        batch_op.drop_index(batch_op.f('ix_handoffs_responsible_staff_id'))
        batch_op.drop_index('ix_handoffs_partner_list')
        batch_op.drop_index(batch_op.f('ix_handoffs_kind'))
        batch_op.drop_index(batch_op.f('ix_handoffs_citizen_ref'))
        batch_op.drop_index('ix_handoffs_awaiting', postgresql_where=sa.text("state IN ('requested', 'received')"), sqlite_where=sa.text("state IN ('requested', 'received')"))

    op.drop_table('handoffs')
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_index('ix_partners_name')
        batch_op.drop_index(batch_op.f('ix_partners_category'))

    op.drop_table('partners')
    op.drop_table('missing_partners')
