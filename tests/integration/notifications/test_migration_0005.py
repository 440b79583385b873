"""Migration 0005 on a database with clear-text webhook secrets, on SQLite and PostgreSQL:
each secret is encrypted under WEBHOOK_SECRET_ENCRYPTION_KEY from the environment and
the clear copy is emptied (the column stays, expand/contract: ADR 0015); production
refuses to run it on the public development key's absence; and it goes down again."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import text

from services.common.db import make_engine
from services.common.migrate import alembic_config, upgrade
from services.notifications.secretbox import KEY_SETTING, SecretBox

pytestmark = pytest.mark.integration

AT = dt.datetime(2026, 12, 15, tzinfo=dt.UTC)
PLAIN = "whsec_legacy-plain-secret-0123456789"


def rows(url: str, sql: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql)).all()]
    finally:
        engine.dispose()


def seed(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "insert into subscriptions (partner_id, partner_kind, channel, event_types, "
                "url, secret, active, created_at, created_by) values "
                "('kab', 'housing', 'webhook', '[\"housing.partner_status\"]', "
                "'https://kab.example', :secret, :yes, :at, 'x'), "
                "('kab', 'housing', 'partner_queue', '[\"housing.partner_status\"]', "
                "null, null, :yes, :at, 'x')"), {"secret": PLAIN, "yes": True, "at": AT})
    finally:
        engine.dispose()


def test_clear_secrets_are_encrypted_under_the_key_and_the_clear_copy_emptied(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv(KEY_SETTING, key)
    upgrade("notifications", db_url, "0004")
    seed(db_url)

    upgrade("notifications", db_url)

    stored = rows(db_url, "select channel, secret, secret_ciphertext, "
                          "previous_secret_ciphertext from subscriptions order by id")
    [(channel, clear, token, previous), queue] = stored
    assert channel == "webhook" and clear is None and previous is None
    assert PLAIN not in token
    assert SecretBox(key).decrypt(token) == PLAIN
    with pytest.raises(ValueError):
        SecretBox.from_config({}, environ={}).decrypt(token)  # not the development key
    assert queue == ("partner_queue", None, None, None)

    command.downgrade(alembic_config("notifications", db_url), "0004")
    assert rows(db_url, "select secret from subscriptions order by id") == [(PLAIN,), (None,)]


def test_without_a_key_development_uses_the_development_key_production_refuses(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_SETTING, raising=False)
    upgrade("notifications", db_url, "0004")
    seed(db_url)

    monkeypatch.setenv("SAMSPIL_ENV", "production")
    with pytest.raises(RuntimeError, match=KEY_SETTING):
        upgrade("notifications", db_url)

    monkeypatch.setenv("SAMSPIL_ENV", "development")
    upgrade("notifications", db_url)
    [(clear, token)] = rows(db_url, "select secret, secret_ciphertext from subscriptions "
                                    "where channel = 'webhook'")
    assert clear is None
    assert SecretBox.from_config({}, environ={}).decrypt(token) == PLAIN
