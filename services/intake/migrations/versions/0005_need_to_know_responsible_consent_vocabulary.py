"""need-to-know and hand-offs: a course's responsible staff member, the course timeline,
the partner directory and pathway membership projections, the consent vocabulary

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-15 09:00:00

Existing courses get their responsible staff member from `started_by` (the person who
started them), with one term in `course_responsibles`. Existing free-text consents are
mapped to the vocabulary where the text maps unambiguously (see `_PURPOSES` and
`_recipient`); the others keep their text and are flagged for a person
(`needs_correction`, Fronten's list "samtykker der skal rettes"). Nothing is dropped:
the text as registered stays in `original_recipient` / `original_purpose`.
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.common.types

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

# Frozen copies (a migration must not change when the domain code does) of
# contracts.vocabulary.Agency / ConsentPurpose and of the Danish texts that map to a
# purpose unambiguously: the vocabulary's own words and the purposes the operators'
# routing rules used before the vocabulary (notifications' migrations 0001 and 0003).
_AGENCIES = ('social_services', 'jobcenter', 'school', 'upoint', 'psychiatry_health',
             'housing', 'mentor')
_PURPOSE_CODES = ('bridging_employment', 'bridging_education', 'bridging_health',
                  'pathway_team', 'keep_home', 'offer_referral')
_PURPOSES = {
    'brobygning til beskæftigelse': 'bridging_employment',
    'brobygning til uddannelse': 'bridging_education',
    'brobygning til sundhed': 'bridging_health',
    'samarbejde i et sammenhængende borgerforløb': 'pathway_team',
    'koordinering af sammenhængende borgerforløb': 'pathway_team',
    'at fastholde boligen': 'keep_home',
    'fastholde boligen': 'keep_home',
    'forebyggelse af udsættelse': 'keep_home',
    'henvisning til et andet tilbud': 'offer_referral',
}
_PARTNER_ID = re.compile(r'^[a-z0-9][a-z0-9._-]{0,63}$')
_LABEL = re.compile(r'^(?:staff|partner|service):(.+)$', re.S)


def _normal(text: str) -> str:
    return ' '.join(text.split()).casefold()


def _purpose(text: str) -> str | None:
    normal = _normal(text)
    if normal in _PURPOSE_CODES:
        return normal
    return _PURPOSES.get(normal)


def _recipient(text: str) -> str | None:
    """An agency, or text shaped like a partner id (checked against the directory when
    it arrives: a recipient not in it is on the list to correct until it is)."""
    normal = _normal(text)
    if normal in _AGENCIES or _PARTNER_ID.match(normal):
        return normal
    return None


def upgrade() -> None:
    # NOT NULL from the start, with a default only for the backfill below: making a
    # column NOT NULL afterwards would rebuild `courses` on SQLite, which the foreign
    # keys of its child tables refuse.
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('responsible_staff_id', sa.String(length=128),
                                      server_default='', nullable=False))
        batch_op.add_column(sa.Column('responsible_name', sa.String(length=200),
                                      server_default='', nullable=False))
        batch_op.add_column(sa.Column('responsible_email', sa.String(length=254),
                                      nullable=True))
        batch_op.add_column(sa.Column('responsible_phone', sa.String(length=40),
                                      nullable=True))

    op.create_table('course_responsibles',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('staff_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('since', services.common.types.UTCDateTime(), nullable=False),
    sa.Column('until', services.common.types.UTCDateTime(), nullable=True),
    sa.Column('assigned_by', sa.String(length=160), nullable=False),
    sa.Column('handover_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('course_responsibles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_responsibles_course_id'), ['course_id'],
                              unique=False)

    _backfill_responsible()
    if op.get_bind().dialect.name != 'sqlite':  # SQLite keeps the unused default
        op.alter_column('courses', 'responsible_staff_id', server_default=None,
                        existing_type=sa.String(length=128), existing_nullable=False)
        op.alter_column('courses', 'responsible_name', server_default=None,
                        existing_type=sa.String(length=200), existing_nullable=False)
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_responsible_staff_id'),
                              ['responsible_staff_id'], unique=False)

    op.create_table('course_timeline',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('at', services.common.types.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=160), nullable=False),
    sa.Column('text', sa.String(length=400), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('course_timeline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_timeline_course_id'), ['course_id'],
                              unique=False)

    op.create_table('partners',
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('accepts', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('changed_at', services.common.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('partner_id')
    )

    op.create_table('pathway_access',
    sa.Column('pathway_id', sa.Uuid(), nullable=False),
    sa.Column('citizen_ref', sa.Uuid(), nullable=False),
    sa.Column('tovholder_id', sa.String(length=128), nullable=True),
    sa.Column('tovholder_since', services.common.types.UTCDateTime(), nullable=True),
    sa.Column('closed_at', services.common.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('pathway_id')
    )
    with op.batch_alter_table('pathway_access', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pathway_access_citizen_ref'), ['citizen_ref'],
                              unique=False)

    op.create_table('pathway_members',
    sa.Column('pathway_id', sa.Uuid(), nullable=False),
    sa.Column('member_id', sa.String(length=128), nullable=False),
    sa.Column('agency', sa.String(length=32), nullable=True),
    sa.Column('added_at', services.common.types.UTCDateTime(), nullable=True),
    sa.Column('last_day', sa.Date(), nullable=True),
    sa.Column('ended_at', services.common.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('pathway_id', 'member_id')
    )
    with op.batch_alter_table('pathway_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pathway_members_member_id'), ['member_id'],
                              unique=False)

    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('needs_correction', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('original_recipient', sa.String(length=128),
                                      nullable=True))
        batch_op.add_column(sa.Column('original_purpose', sa.String(length=200),
                                      nullable=True))
        batch_op.add_column(sa.Column('corrected_at', services.common.types.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('corrected_by', sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column('announce_pending', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    _map_consents()


def _backfill_responsible() -> None:
    """The person who started a course is its responsible staff member until now."""
    courses = sa.table('courses', sa.column('id', sa.Uuid()),
                       sa.column('started_by', sa.String()),
                       sa.column('created_at', services.common.types.UTCDateTime()),
                       sa.column('responsible_staff_id', sa.String()),
                       sa.column('responsible_name', sa.String()))
    terms = sa.table('course_responsibles', sa.column('course_id', sa.Uuid()),
                     sa.column('staff_id', sa.String()), sa.column('name', sa.String()),
                     sa.column('since', services.common.types.UTCDateTime()),
                     sa.column('assigned_by', sa.String()))
    conn = op.get_bind()
    rows = conn.execute(sa.select(courses.c.id, courses.c.started_by,
                                  courses.c.created_at)).all()
    for row in rows:
        match = _LABEL.match(row.started_by or '')
        staff_id = (match.group(1) if match else row.started_by or 'ukendt')[:128]
        conn.execute(sa.update(courses).where(courses.c.id == row.id)
                     .values(responsible_staff_id=staff_id, responsible_name=staff_id[:200]))
        conn.execute(sa.insert(terms).values(course_id=row.id, staff_id=staff_id,
                                             name=staff_id[:200], since=row.created_at,
                                             assigned_by=(row.started_by or '')[:160]))


def _map_consents() -> None:
    consents = sa.table('consents', sa.column('id', sa.Uuid()),
                        sa.column('recipient', sa.String()), sa.column('purpose', sa.String()),
                        sa.column('withdrawn_at', services.common.types.UTCDateTime()),
                        sa.column('needs_correction', sa.String()),
                        sa.column('original_recipient', sa.String()),
                        sa.column('original_purpose', sa.String()),
                        sa.column('announce_pending', sa.Boolean()))
    conn = op.get_bind()
    rows = conn.execute(sa.select(consents.c.id, consents.c.recipient, consents.c.purpose,
                                  consents.c.withdrawn_at)).all()
    for row in rows:
        recipient, purpose = _recipient(row.recipient), _purpose(row.purpose)
        if purpose == 'pathway_team' and recipient not in _AGENCIES:
            recipient = None  # a pathway team's consent names an agency
        if recipient is None or purpose is None:
            reason = ('recipient_and_purpose_unknown' if recipient is None and purpose is None
                      else 'recipient_unknown' if recipient is None else 'purpose_unknown')
            conn.execute(sa.update(consents).where(consents.c.id == row.id)
                         .values(needs_correction=reason))
            continue
        if (recipient, purpose) == (row.recipient, row.purpose):
            continue  # already in the vocabulary's words
        conn.execute(sa.update(consents).where(consents.c.id == row.id).values(
            recipient=recipient, purpose=purpose, original_recipient=row.recipient,
            original_purpose=row.purpose,
            # The gates hold the old text: tell them the new words (a withdrawn consent
            # allows nothing either way).
            announce_pending=row.withdrawn_at is None))


def downgrade() -> None:
    consents = sa.table('consents', sa.column('recipient', sa.String()),
                        sa.column('purpose', sa.String()),
                        sa.column('original_recipient', sa.String()),
                        sa.column('original_purpose', sa.String()))
    # The text as first registered comes back.
    op.get_bind().execute(sa.update(consents).where(consents.c.original_recipient.is_not(None))
                          .values(recipient=consents.c.original_recipient,
                                  purpose=consents.c.original_purpose))
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_column('announce_pending')
        batch_op.drop_column('corrected_by')
        batch_op.drop_column('corrected_at')
        batch_op.drop_column('original_purpose')
        batch_op.drop_column('original_recipient')
        batch_op.drop_column('needs_correction')
    with op.batch_alter_table('pathway_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pathway_members_member_id'))
    op.drop_table('pathway_members')
    with op.batch_alter_table('pathway_access', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pathway_access_citizen_ref'))
    op.drop_table('pathway_access')
    op.drop_table('partners')
    with op.batch_alter_table('course_timeline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_timeline_course_id'))
    op.drop_table('course_timeline')
    with op.batch_alter_table('course_responsibles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_responsibles_course_id'))
    op.drop_table('course_responsibles')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_responsible_staff_id'))
        batch_op.drop_column('responsible_phone')
        batch_op.drop_column('responsible_email')
        batch_op.drop_column('responsible_name')
        batch_op.drop_column('responsible_staff_id')
