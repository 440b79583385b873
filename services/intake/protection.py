"""How a CPR number is kept: a keyed lookup hash and an encrypted copy, never clear text.

`CprProtection` holds the two keys from the configuration (never from the database):
`CPR_HASH_KEY` (at least 32 bytes) keys the HMAC lookup hash used for exact matches,
`CPR_ENCRYPTION_KEY` (a Fernet key) encrypts the copy that an authorised, logged read
may show. A dump of the database alone reveals neither the numbers nor a way to
test guesses against them. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from services.intake.cpr import MIN_LOOKUP_KEY_BYTES, Cpr, cpr_lookup_hash, parse_cpr


class KeysMissing(RuntimeError):
    """The service was started without the CPR keys: CPR numbers cannot be handled."""


class CprProtection:
    def __init__(self, hash_key: bytes, encryption_key: bytes) -> None:
        if len(hash_key) < MIN_LOOKUP_KEY_BYTES:
            raise ValueError(f"CPR_HASH_KEY must be at least {MIN_LOOKUP_KEY_BYTES} bytes")
        try:
            self._fernet = Fernet(encryption_key)
        except (ValueError, TypeError):
            raise ValueError(
                "CPR_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
        self._hash_key = hash_key

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CprProtection | None:
        """The keys from `CPR_HASH_KEY` and `CPR_ENCRYPTION_KEY`; None if either is unset."""
        hash_key, encryption_key = config.get("CPR_HASH_KEY"), config.get("CPR_ENCRYPTION_KEY")
        if not hash_key or not encryption_key:
            return None
        return cls(str(hash_key).encode("utf-8"), str(encryption_key).encode("ascii"))

    def lookup_hash(self, cpr: Cpr) -> str:
        return cpr_lookup_hash(cpr, self._hash_key)

    def encrypt(self, cpr: Cpr) -> str:
        return self._fernet.encrypt(cpr.number.encode("ascii")).decode("ascii")

    def decrypt(self, token: str) -> Cpr:
        try:
            number = self._fernet.decrypt(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise ValueError(
                "the stored CPR copy does not decrypt with CPR_ENCRYPTION_KEY"
            ) from None
        return parse_cpr(number)
