"""TOTP (RFC 6238) codes, the secrets encrypted at rest, recovery codes. No Flask here.

Every key here is derived from SECRET_KEY by HKDF, one per purpose, so that no
two uses share a key. Rotating SECRET_KEY: list the old value in
PREVIOUS_SECRET_KEYS; secrets and recovery codes made under it keep working
(secrets are re-encrypted under the new key when next used), docs/security.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

import pyotp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.core.config import Settings

STEP_SECONDS = 30
DIGITS = 6
# Codes of the step before and after the current one are accepted too: clocks
# drift, and a code typed in its last second arrives in the next step.
VALID_WINDOW = 1
RECOVERY_CODES = 10
# No 0/o, 1/l/i: read from a printout. 10 characters of 31: about 50 bits, hopeless
# to guess at the login's rate limit.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_SECRET_PURPOSE = b"app.mfa.totp-secret"
_RECOVERY_PURPOSE = b"app.mfa.recovery-code"

Clock = Callable[[], float]


class SecretUnreadable(Exception):
    """A stored secret was encrypted under a key that is neither SECRET_KEY nor in
    PREVIOUS_SECRET_KEYS (or was altered)."""


def _derive(secret_key: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret_key.encode("utf-8")
    )


class MfaCrypto:
    """Encrypts TOTP secrets (Fernet: AES-128-CBC with HMAC-SHA256) and hashes
    recovery codes, with keys derived from the current SECRET_KEY and the previous ones."""

    def __init__(self, settings: Settings) -> None:
        keys = [settings.SECRET_KEY.get_secret_value(), *settings.previous_secret_keys]
        fernets = [Fernet(base64.urlsafe_b64encode(_derive(k, _SECRET_PURPOSE))) for k in keys]
        self._current = fernets[0]
        self._all = MultiFernet(fernets)
        self._recovery_keys = [_derive(k, _RECOVERY_PURPOSE) for k in keys]

    def encrypt(self, secret: str) -> str:
        return self._current.encrypt(secret.encode("ascii")).decode("ascii")

    def decrypt(self, stored: str) -> tuple[str, bool]:
        """The secret, and whether it was encrypted under a previous key (then the
        caller stores it again, encrypted under the current one)."""
        token = stored.encode("ascii", "replace")
        try:
            return self._current.decrypt(token).decode("ascii"), False
        except InvalidToken:
            pass
        try:
            return self._all.decrypt(token).decode("ascii"), True
        except (InvalidToken, UnicodeError) as exc:
            raise SecretUnreadable("the TOTP secret cannot be decrypted") from exc

    def hash_recovery_code(self, code: str) -> str:
        """The stored form of a recovery code: HMAC-SHA256 under the current key.

        Not the password hasher: the codes are random (50 bits), so a slow hash
        adds nothing against guessing, and a deterministic one lets a code be
        found by its hash in one query instead of ten argon2 checks per attempt.
        Keyed, so that the database alone is not enough to test guesses offline."""
        return self._recovery_hashes(code)[0]

    def recovery_hash_candidates(self, code: str) -> list[str]:
        """The hashes `code` may be stored under: current key, then previous ones."""
        return self._recovery_hashes(code)

    def _recovery_hashes(self, code: str) -> list[str]:
        normalized = normalize_recovery_code(code).encode("utf-8")
        return [
            hmac.new(key, normalized, hashlib.sha256).hexdigest() for key in self._recovery_keys
        ]


def new_secret() -> str:
    """A TOTP secret: 160 random bits in base32, as RFC 4226 recommends."""
    return pyotp.random_base32(32)


def otpauth_uri(*, secret: str, account: str, issuer: str) -> str:
    """The key URI authenticator apps read from a QR code."""
    uri: str = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )
    return uri


def time_step(now: float) -> int:
    return int(now // STEP_SECONDS)


def matching_step(secret: str, code: str, *, now: float, after: int | None) -> int | None:
    """The time step whose code `code` is, within VALID_WINDOW of `now` and later
    than `after` (the last step accepted: a code works once); None otherwise."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = time_step(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """RECOVERY_CODES codes like `k7qmd-x2p9h`: typed by hand from a printout."""
    return [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    ]


def normalize_recovery_code(code: str) -> str:
    """As typed: any case, with or without the dash and spaces."""
    return "".join(c for c in code.lower() if c.isalnum())


def looks_like_totp(code: str) -> bool:
    stripped = code.strip().replace(" ", "")
    return len(stripped) == DIGITS and stripped.isascii() and stripped.isdigit()


def system_clock() -> float:
    return time.time()
