"""hand-offs and the gate (issue 16): copies of the partner directory, of hand-offs and of
arrears cases' tenants; every subscription of a partner used (the ledger's identity
names the subscription); purposes from the consent vocabulary (rules, legal bases and
the consent projection migrated from their Danish phrases); rules for escalated
hand-offs and de-escalated arrears cases; the § 85 referral mail replaced by the
referral_85 hand-off's

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-20 09:00:00
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.common.types

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of services.notifications.purposes.LEGACY_PHRASES (a migration must not
# change when the code does): the Danish phrases used before the vocabulary.
LEGACY = {
    "brobygning til beskæftigelse": "bridging_employment",
    "brobygning til uddannelse": "bridging_education",
    "brobygning til sundhed": "bridging_health",
    "koordinering af sammenhængende borgerforløb": "pathway_team",
    "koordinering af forløb": "pathway_team",
    "samarbejde i et sammenhængende borgerforløb": "pathway_team",
    "forebyggelse af udsættelse": "keep_home",
    "at fastholde boligen": "keep_home",
    "at fastholde boligen (huslejerestance)": "keep_home",
    "henvisning til et andet tilbud": "offer_referral",
}
CODES = {"bridging_employment", "bridging_education", "bridging_health", "pathway_team",
         "keep_home", "offer_referral"}
PARTNER_KINDS = {"jobcenter", "housing_association"}

_HOUSING = "keep_home"
NEW_RULES = [
    # An unanswered hand-off: the responsible person, else the team mailbox it names.
    ("partners.handoff_escalated", "team_members", "email", "contact_status", None),
    # A de-escalation is told as an escalation was (issue 16 point 8: its own type).
    ("housing.case_deescalated", "tovholder", "email", "housing_case_status", _HOUSING),
    ("housing.case_deescalated", "fronten", "email", "housing_case_status", _HOUSING),
]

_rules = sa.table(
    "routing_rules",
    sa.column("id", sa.Integer), sa.column("event_type", sa.String),
    sa.column("recipient_kind", sa.String), sa.column("channel", sa.String),
    sa.column("information_kind", sa.String), sa.column("purpose", sa.String),
    sa.column("created_at", services.common.types.UTCDateTime()),
    sa.column("created_by", sa.String),
)


def _code(text: str | None) -> str | None:
    if text is None:
        return None
    folded = " ".join(text.split()).casefold()
    return folded if folded in CODES else LEGACY.get(folded)


def _recode(table: str, key: str, *, keep_unknown: bool, partner_only: bool = False) -> None:
    """Every purpose in `table` as its code; an unknown one is kept (never dropped) or,
    on a rule to staff or the citizen, cleared (such a rule needs no consent)."""
    bind = op.get_bind()
    columns = [sa.column(key), sa.column("purpose")]
    if partner_only:
        columns.append(sa.column("recipient_kind"))
    t = sa.table(table, *columns)
    for row in bind.execute(sa.select(*t.c)).all():
        code = _code(row.purpose)
        if code is None and (keep_unknown or (partner_only
                                              and row.recipient_kind in PARTNER_KINDS)):
            continue
        if code != row.purpose:
            bind.execute(t.update().where(t.c[key] == row[0]).values(purpose=code))


def upgrade() -> None:
    op.create_table('directory_partners',
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('accepts', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('changed_at', services.common.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('partner_id')
    )
    op.create_table('handoffs',
    sa.Column('handoff_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('citizen_ref', sa.String(length=36), nullable=True),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.Column('request_message_id', sa.String(length=36), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('changed_at', services.common.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('handoff_id')
    )
    op.create_table('housing_cases',
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('citizen_ref', sa.String(length=36), nullable=True),
    sa.Column('association_id', sa.String(length=64), nullable=True),
    sa.Column('as_of', services.common.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subscription_key', sa.String(length=20),
                                      server_default='', nullable=False))
        batch_op.add_column(sa.Column('subject_ref', sa.String(length=64), nullable=True))
        batch_op.alter_column('purpose', existing_type=sa.String(length=200), nullable=True)
        batch_op.drop_constraint('uq_delivery_once', type_='unique')
        batch_op.create_unique_constraint(
            'uq_delivery_once', ['message_id', 'recipient', 'channel', 'subscription_key'])
        batch_op.create_index(batch_op.f('ix_deliveries_subject_ref'), ['subject_ref'],
                              unique=False)
    with op.batch_alter_table('routing_rules', schema=None) as batch_op:
        batch_op.alter_column('purpose', existing_type=sa.String(length=200), nullable=True)
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.alter_column('partner_kind', existing_type=sa.String(length=32),
                              nullable=True)

    # Existing partner deliveries over a subscription keep their identity with it.
    deliveries = sa.table("deliveries", sa.column("subscription_id", sa.Integer),
                          sa.column("subscription_key", sa.String))
    op.execute(deliveries.update().where(deliveries.c.subscription_id.is_not(None))
               .values(subscription_key=sa.cast(deliveries.c.subscription_id, sa.String)))

    # Purposes become codes of the consent vocabulary; nothing is dropped.
    _recode("routing_rules", "id", keep_unknown=False, partner_only=True)
    _recode("legal_bases", "id", keep_unknown=True)
    _recode("consents", "consent_id", keep_unknown=True)

    # The § 85 referral reaches Social Vejledning as the referral_85 hand-off's mail
    # (what is asked, by when, how to answer): the older notice would be a second mail.
    op.execute(_rules.delete().where(
        _rules.c.event_type == "intake.referral_85_made",
        _rules.c.recipient_kind == "social_vejledning",
        _rules.c.created_by == "migration:0003"))

    existing = {
        tuple(row) for row in op.get_bind().execute(
            sa.select(_rules.c.event_type, _rules.c.recipient_kind, _rules.c.channel))
    }
    created = dt.datetime(2026, 12, 20, tzinfo=dt.UTC)
    rows = [
        {"event_type": e, "recipient_kind": r, "channel": c, "information_kind": k,
         "purpose": p, "created_at": created, "created_by": "migration:0004"}
        for e, r, c, k, p in NEW_RULES if (e, r, c) not in existing
    ]
    if rows:
        op.bulk_insert(_rules, rows)


def downgrade() -> None:
    op.execute(_rules.delete().where(_rules.c.created_by == "migration:0004"))
    existing = {
        tuple(row) for row in op.get_bind().execute(
            sa.select(_rules.c.event_type, _rules.c.recipient_kind, _rules.c.channel))
    }
    if ("intake.referral_85_made", "social_vejledning", "email") not in existing:
        op.bulk_insert(_rules, [{
            "event_type": "intake.referral_85_made", "recipient_kind": "social_vejledning",
            "channel": "email", "information_kind": "course_status",
            "purpose": "opfølgning på forløb i Fronten",
            "created_at": dt.datetime(2026, 12, 10, tzinfo=dt.UTC),
            "created_by": "migration:0003"}])
    # Rules without a purpose get the Danish word the older code printed in the log.
    op.execute(_rules.update().where(_rules.c.purpose.is_(None))
               .values(purpose="besked til medarbejdere om borgerens sag"))
    deliveries = sa.table("deliveries", sa.column("purpose", sa.String))
    op.execute(deliveries.update().where(deliveries.c.purpose.is_(None))
               .values(purpose="besked til medarbejdere om borgerens sag"))
    subscriptions = sa.table("subscriptions", sa.column("partner_kind", sa.String),
                             sa.column("active", sa.Boolean))
    # A hand-off-only subscription has no place in the older model: it ends.
    op.execute(subscriptions.update().where(subscriptions.c.partner_kind.is_(None))
               .values(partner_kind="employment", active=False))
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.alter_column('partner_kind', existing_type=sa.String(length=32),
                              nullable=False)
    with op.batch_alter_table('routing_rules', schema=None) as batch_op:
        batch_op.alter_column('purpose', existing_type=sa.String(length=200), nullable=False)
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_subject_ref'))
        batch_op.drop_constraint('uq_delivery_once', type_='unique')
        batch_op.create_unique_constraint('uq_delivery_once',
                                          ['message_id', 'recipient', 'channel'])
        batch_op.alter_column('purpose', existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_column('subject_ref')
        batch_op.drop_column('subscription_key')
    op.drop_table('housing_cases')
    op.drop_table('handoffs')
    op.drop_table('directory_partners')
