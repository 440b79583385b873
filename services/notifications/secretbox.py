"""How a webhook secret is kept: encrypted at rest, never clear text in the database.

`SecretBox` holds the key from the configuration (never from the database), as intake
holds its CPR keys: `WEBHOOK_SECRET_ENCRYPTION_KEY` is a Fernet key, or several
separated by commas (the first encrypts, every one decrypts: add a new key in front,
re-encrypt with `samspil migrate`'s next release or by rotating the partners' secrets,
then drop the old key). deploy/config/notifications.yaml has a public development
default that production refuses (services.cli.PRODUCTION_SECRETS), as for the CPR keys.

The migration that encrypted the secrets stored before (0005) reads the same setting
from the environment. Pure: no I/O.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_SETTING = "WEBHOOK_SECRET_ENCRYPTION_KEY"
# Public, hence for development and tests only (the same value as the default in
# deploy/config/notifications.yaml): production refuses it.
DEVELOPMENT_KEY = "p4XDW3-215VoJCVFllnoRExpb5W57d528pl93z9odSY="


class KeyMissing(RuntimeError):
    """Webhook secrets cannot be stored or used: no encryption key is configured."""


class SecretBox:
    def __init__(self, keys: str) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise KeyMissing(f"{KEY_SETTING} is empty")
        try:
            self._fernet = MultiFernet([Fernet(k.encode("ascii")) for k in parts])
        except (ValueError, TypeError, UnicodeError):
            raise ValueError(
                f"{KEY_SETTING} must be Fernet keys (32 url-safe base64-encoded bytes), "
                "separated by commas"
            ) from None

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> SecretBox:
        """The key from the service config, else from the environment (a migration has
        no service config); the development key when neither sets it, except under
        SAMSPIL_ENV=production, where that is refused (KeyMissing)."""
        environ = os.environ if environ is None else environ
        value = config.get(KEY_SETTING) or environ.get(KEY_SETTING)
        if not value:
            env = config.get("SAMSPIL_ENV") or environ.get("SAMSPIL_ENV") or "development"
            if str(env).lower() == "production":
                raise KeyMissing(f"{KEY_SETTING} must be set in production")
            value = DEVELOPMENT_KEY
        return cls(str(value))

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise ValueError(
                f"a stored webhook secret does not decrypt with {KEY_SETTING}"
            ) from None
