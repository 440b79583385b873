"""Webhook secrets at rest (SecretBox) and which of a subscription's secrets sign when
(delivery.sealed_secrets): the previous one only until its overlap ends."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.fernet import Fernet

from services.notifications.delivery import sealed_secrets
from services.notifications.models import Subscription
from services.notifications.secretbox import DEVELOPMENT_KEY, KeyMissing, SecretBox

NOW = dt.datetime(2027, 1, 5, 9, 0, tzinfo=dt.UTC)


def test_round_trip_and_no_clear_text() -> None:
    box = SecretBox(Fernet.generate_key().decode())
    token = box.encrypt("whsec_abc123")

    assert "whsec_abc123" not in token and "abc123" not in token
    assert box.decrypt(token) == "whsec_abc123"
    assert box.encrypt("whsec_abc123") != token  # a fresh IV each time


def test_a_token_under_another_key_does_not_open() -> None:
    token = SecretBox(Fernet.generate_key().decode()).encrypt("s")
    with pytest.raises(ValueError, match="does not decrypt"):
        SecretBox(Fernet.generate_key().decode()).decrypt(token)


def test_several_keys_the_first_encrypts_all_decrypt() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretBox(old).encrypt("s")
    both = SecretBox(f"{new}, {old}")

    assert both.decrypt(token) == "s"
    assert SecretBox(new).decrypt(both.encrypt("t")) == "t"


def test_not_a_fernet_key_is_refused() -> None:
    with pytest.raises(ValueError, match="Fernet"):
        SecretBox("not-a-key")


def test_the_key_comes_from_config_then_environment_and_production_needs_one() -> None:
    key = Fernet.generate_key().decode()
    token = SecretBox(key).encrypt("s")

    assert SecretBox.from_config({"WEBHOOK_SECRET_ENCRYPTION_KEY": key}, environ={}) \
        .decrypt(token) == "s"
    assert SecretBox.from_config({}, environ={"WEBHOOK_SECRET_ENCRYPTION_KEY": key}) \
        .decrypt(token) == "s"
    development = SecretBox.from_config({}, environ={})
    assert development.decrypt(SecretBox(DEVELOPMENT_KEY).encrypt("d")) == "d"
    with pytest.raises(KeyMissing):
        SecretBox.from_config({"SAMSPIL_ENV": "production"}, environ={})
    with pytest.raises(KeyMissing):
        SecretBox.from_config({}, environ={"SAMSPIL_ENV": "production"})


def subscription(**values: object) -> Subscription:
    return Subscription(partner_id="kab", channel="webhook", event_types=[], active=True,
                        created_at=NOW, created_by="x", **values)


def test_the_previous_secret_signs_until_the_overlap_ends() -> None:
    sub = subscription(secret_ciphertext="new", previous_secret_ciphertext="old",
                       previous_secret_expires_at=NOW + dt.timedelta(hours=1))

    assert sealed_secrets(sub, NOW) == ["new", "old"]
    assert sealed_secrets(sub, NOW + dt.timedelta(minutes=59)) == ["new", "old"]
    assert sealed_secrets(sub, NOW + dt.timedelta(hours=1)) == ["new"]
    assert sealed_secrets(subscription(secret_ciphertext="only"), NOW) == ["only"]
    assert sealed_secrets(subscription(), NOW) == []
