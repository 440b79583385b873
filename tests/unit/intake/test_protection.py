"""CPR numbers are stored as a keyed lookup hash and an encrypted copy."""

import pytest
from cryptography.fernet import Fernet

from services.intake.cpr import cpr_lookup_hash, parse_cpr
from services.intake.protection import CprProtection
from services.intake.settings import IntakeContext, IntakeSettings, KeysMissing

HASH_KEY = "h" * 40
ENC_KEY = Fernet.generate_key().decode()


def protection() -> CprProtection:
    found = CprProtection.from_config({"CPR_HASH_KEY": HASH_KEY, "CPR_ENCRYPTION_KEY": ENC_KEY})
    assert found is not None
    return found


def test_the_encrypted_copy_decrypts_to_the_number_and_does_not_contain_it() -> None:
    cpr = parse_cpr("290200-4321")
    token = protection().encrypt(cpr)
    assert "2902004321" not in token and "290200" not in token
    assert protection().decrypt(token).number == "2902004321"
    assert protection().encrypt(cpr) != token  # a fresh IV every time


def test_the_lookup_hash_is_the_domains_keyed_hash_for_both_written_forms() -> None:
    p = protection()
    assert p.lookup_hash(parse_cpr("2902004321")) == p.lookup_hash(parse_cpr("290200-4321"))
    assert p.lookup_hash(parse_cpr("2902004321")) == cpr_lookup_hash(
        "2902004321", HASH_KEY.encode()
    )


def test_another_encryption_key_cannot_read_the_copy() -> None:
    token = protection().encrypt(parse_cpr("0101901234"))
    other = CprProtection(HASH_KEY.encode(), Fernet.generate_key())
    with pytest.raises(ValueError, match="does not decrypt"):
        other.decrypt(token)


@pytest.mark.parametrize(
    ("hash_key", "enc_key", "message"),
    [("short", ENC_KEY, "CPR_HASH_KEY"), (HASH_KEY, "not-a-fernet-key", "CPR_ENCRYPTION_KEY")],
)
def test_weak_or_malformed_keys_are_refused(hash_key, enc_key, message) -> None:
    with pytest.raises(ValueError, match=message):
        CprProtection.from_config({"CPR_HASH_KEY": hash_key, "CPR_ENCRYPTION_KEY": enc_key})


def test_without_keys_cpr_operations_are_refused_loudly() -> None:
    assert CprProtection.from_config({"CPR_HASH_KEY": HASH_KEY}) is None
    context = IntakeContext(IntakeSettings(), None)
    with pytest.raises(KeysMissing, match="CPR_HASH_KEY"):
        _ = context.protection
