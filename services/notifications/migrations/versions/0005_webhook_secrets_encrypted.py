"""webhook secrets encrypted at rest, and two-secret rotation (issue 12, point 9):
`secret_ciphertext` holds each subscription's secret encrypted (Fernet, under
WEBHOOK_SECRET_ENCRYPTION_KEY); `previous_secret_ciphertext` and
`previous_secret_expires_at` hold the secret being replaced during a rotation's overlap.
The clear-text `secret` column is emptied here and dropped in a later release (ADR 0015).

The key is read from the environment (a migration has no service config):
WEBHOOK_SECRET_ENCRYPTION_KEY, several keys separated by commas (the first encrypts); the
public development key when unset, which SAMSPIL_ENV=production refuses.

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-05 09:00:00
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, MultiFernet

import services.common.types

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_SETTING = "WEBHOOK_SECRET_ENCRYPTION_KEY"
# A frozen copy of services.notifications.secretbox.DEVELOPMENT_KEY (public: development
# and tests only).
DEVELOPMENT_KEY = "p4XDW3-215VoJCVFllnoRExpb5W57d528pl93z9odSY="

_subscriptions = sa.table(
    "subscriptions",
    sa.column("id", sa.Integer),
    sa.column("secret", sa.String),
    sa.column("secret_ciphertext", sa.Text),
)


def _fernet() -> MultiFernet:
    value = os.environ.get(KEY_SETTING)
    if not value:
        if os.environ.get("SAMSPIL_ENV", "development").lower() == "production":
            raise RuntimeError(f"{KEY_SETTING} must be set in production to migrate "
                               "notifications to 0005 (it encrypts the webhook secrets)")
        value = DEVELOPMENT_KEY
    keys = [k.strip() for k in value.split(",") if k.strip()]
    return MultiFernet([Fernet(k.encode("ascii")) for k in keys])


def upgrade() -> None:
    op.add_column('subscriptions', sa.Column('secret_ciphertext', sa.Text(), nullable=True))
    op.add_column('subscriptions',
                  sa.Column('previous_secret_ciphertext', sa.Text(), nullable=True))
    op.add_column('subscriptions', sa.Column(
        'previous_secret_expires_at', services.common.types.UTCDateTime(), nullable=True))
    op.add_column('subscriptions', sa.Column(
        'secret_rotated_at', services.common.types.UTCDateTime(), nullable=True))
    bind = op.get_bind()
    plain = bind.execute(
        sa.select(_subscriptions.c.id, _subscriptions.c.secret)
        .where(_subscriptions.c.secret.is_not(None))
    ).all()
    if not plain:
        return
    fernet = _fernet()
    for row_id, secret in plain:
        bind.execute(
            _subscriptions.update().where(_subscriptions.c.id == row_id).values(
                secret_ciphertext=fernet.encrypt(secret.encode("utf-8")).decode("ascii"),
                secret=None,
            )
        )


def downgrade() -> None:
    bind = op.get_bind()
    stored = bind.execute(
        sa.select(_subscriptions.c.id, _subscriptions.c.secret_ciphertext)
        .where(_subscriptions.c.secret_ciphertext.is_not(None))
    ).all()
    if stored:
        fernet = _fernet()
        for row_id, token in stored:
            bind.execute(
                _subscriptions.update().where(_subscriptions.c.id == row_id).values(
                    secret=fernet.decrypt(token.encode("ascii")).decode("utf-8"))
            )
    with op.batch_alter_table('subscriptions') as batch:
        batch.drop_column('secret_rotated_at')
        batch.drop_column('previous_secret_expires_at')
        batch.drop_column('previous_secret_ciphertext')
        batch.drop_column('secret_ciphertext')
