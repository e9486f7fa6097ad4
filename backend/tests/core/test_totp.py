"""TOTP secrets encrypted at rest, recovery codes hashed, and SECRET_KEY rotation."""

from __future__ import annotations

import pyotp
import pytest

from app.core import totp
from app.core.totp import MfaCrypto, SecretUnreadable
from tests.conftest import TEST_SECRET_KEY, make_settings

OTHER_KEY = "another-secret-key-that-is-long-enough-for-hs256"


def crypto(secret_key: str = TEST_SECRET_KEY, previous: str = "") -> MfaCrypto:
    return MfaCrypto(
        make_settings("sqlite://", SECRET_KEY=secret_key, PREVIOUS_SECRET_KEYS=previous)
    )


def test_secret_round_trips_and_is_not_stored_as_is() -> None:
    secret = totp.new_secret()
    stored = crypto().encrypt(secret)
    assert secret not in stored
    assert crypto().decrypt(stored) == (secret, False)


def test_secret_under_another_key_is_unreadable() -> None:
    stored = crypto(OTHER_KEY).encrypt(totp.new_secret())
    with pytest.raises(SecretUnreadable):
        crypto().decrypt(stored)
    with pytest.raises(SecretUnreadable):
        crypto().decrypt("garbage")


def test_secret_under_a_previous_key_reads_and_asks_to_be_stored_again() -> None:
    secret = totp.new_secret()
    stored = crypto(OTHER_KEY).encrypt(secret)
    rotated = crypto(TEST_SECRET_KEY, previous=f"unused-old-key, {OTHER_KEY}")
    assert rotated.decrypt(stored) == (secret, True)


def test_recovery_code_hash_is_keyed_and_ignores_how_it_was_typed() -> None:
    code = totp.new_recovery_codes()[0]
    hashed = crypto().hash_recovery_code(code)
    assert code not in hashed
    assert crypto().hash_recovery_code(code.upper().replace("-", " ")) == hashed
    assert crypto(OTHER_KEY).hash_recovery_code(code) != hashed
    rotated = crypto(OTHER_KEY, previous=TEST_SECRET_KEY)
    assert hashed in rotated.recovery_hash_candidates(code)


def test_recovery_codes_are_ten_distinct_readable_codes() -> None:
    codes = totp.new_recovery_codes()
    assert len(set(codes)) == totp.RECOVERY_CODES == 10
    assert all(len(code) == 11 and code[5] == "-" for code in codes)
    assert not any(c in code for code in codes for c in "01ilo")


def test_matching_step_takes_the_window_and_the_last_step_used() -> None:
    secret = totp.new_secret()
    now = 1_800_000_015.0
    step = totp.time_step(now)
    code_of = pyotp.TOTP(secret).generate_otp
    assert totp.matching_step(secret, code_of(step), now=now, after=None) == step
    assert totp.matching_step(secret, code_of(step + 1), now=now, after=None) == step + 1
    assert totp.matching_step(secret, code_of(step - 1), now=now, after=None) == step - 1
    assert totp.matching_step(secret, code_of(step + 2), now=now, after=None) is None
    assert totp.matching_step(secret, code_of(step), now=now, after=step) is None
    assert totp.matching_step(secret, "12345", now=now, after=None) is None


def test_otpauth_uri_names_the_issuer_and_the_account() -> None:
    uri = totp.otpauth_uri(
        secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", account="jane@example.com", issuer="Acme"
    )
    assert uri.startswith("otpauth://totp/Acme:jane%40example.com?")
    assert "issuer=Acme" in uri
    assert "secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in uri
