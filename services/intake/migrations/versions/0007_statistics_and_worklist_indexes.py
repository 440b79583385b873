"""indexes for the statistics in SQL and for the worklists at 100,000 rows (issue 14, P4)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-20 09:00:00

- citizens (citizen_ref, birth_date): the statistics join a period's inquiries to their
  citizens' birth dates without reading the citizens' rows;
- courses (ended_on, start_date, kind): the courses active on a day, read as two index
  ranges (running; ended on or after the day) without touching the rows;
- courses (kind, start_date, id): the § 82 b courses started in a period, and those of
  them with a § 85 referral;
- each worklist's sort key (the day it sorts by, then the id) on the tables that had
  none: a page is an index range, not a sort of the whole table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ('citizens', 'ix_citizens_citizen_ref_birth_date', ['citizen_ref', 'birth_date']),
    ('courses', 'ix_courses_ended_on_start_date_kind', ['ended_on', 'start_date', 'kind']),
    ('courses', 'ix_courses_kind_start_date_id', ['kind', 'start_date', 'id']),
    ('course_referrals_85', 'ix_course_referrals_85_referred_on_id', ['referred_on', 'id']),
    ('course_notices', 'ix_course_notices_due_on_id', ['due_on', 'id']),
    ('course_ending_proposals', 'ix_course_ending_proposals_proposed_on_id',
     ['proposed_on', 'id']),
    ('consents', 'ix_consents_given_at_id', ['given_at', 'id']),
    ('target_group_flags', 'ix_target_group_flags_flagged_at_id', ['flagged_at', 'id']),
]


def upgrade() -> None:
    for table, name, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, name, _ in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
