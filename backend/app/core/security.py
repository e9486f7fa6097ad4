"""Password hashing and JWT access tokens. No Flask here."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from passlib.context import CryptContext

from app.core.config import Settings

ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 (a claim value, not a secret)
# An mfa_token: what a login with the right password gets when a second factor is
# due. Its own type and audience, so it is never taken for an access token.
MFA_TOKEN_TYPE = "mfa"  # noqa: S105 (a claim value, not a secret)
MFA_TOKEN_AUDIENCE = "login-mfa"  # noqa: S105
# Tokens whose signature and claims were checked, per process: a client sends the
# same token with every request until it expires, and checking it again cost
# about 130 us of CPU per request. Bounded; only valid tokens get in.
VERIFIED_TOKENS_CACHED = 4096
# The largest id any table holds (a 32-bit INTEGER on PostgreSQL): a subject past it
# names no account, and must not reach the database as a value it cannot take.
MAX_ID = 2**31 - 1


class InvalidTokenError(Exception):
    """The token is malformed, expired, signed with another key or not an access token."""


def build_password_context(settings: Settings) -> CryptContext:
    """argon2id for new hashes; older schemes still verify and get upgraded at login."""
    return CryptContext(
        schemes=["argon2", "bcrypt", "pbkdf2_sha256"],
        deprecated="auto",
        argon2__type="ID",
        argon2__memory_cost=settings.PASSWORD_HASH_MEMORY_KIB,
        argon2__rounds=settings.PASSWORD_HASH_TIME_COST,
        argon2__parallelism=settings.PASSWORD_HASH_PARALLELISM,
    )


class PasswordHasher:
    """Hashes and verifies passwords with the configured parameters."""

    def __init__(self, settings: Settings) -> None:
        self._context = build_password_context(settings)
        # A real hash to verify against when the account doesn't exist, so that
        # "no such user" costs as much time as "wrong password".
        self._dummy_hash = self._context.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return str(self._context.hash(password))

    def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """Check `password`; return (ok, new_hash) where new_hash is set when the
        stored hash used an older scheme or weaker parameters and should be replaced."""
        try:
            if hashed is None:
                self._context.verify(password, self._dummy_hash)
                return False, None
            ok, new_hash = self._context.verify_and_update(password, hashed)
        except ValueError:
            # An unknown or corrupt hash never matches; nor does a password passlib
            # refuses to hash (over 4 KiB), and it must fail the same way whether or
            # not the account exists.
            return False, None
        return bool(ok), new_hash


@dataclass(frozen=True, slots=True)
class AccessTokenClaims:
    user_id: int
    # The user's security stamp when the token was issued: it must still match.
    stamp: str
    issued_at: datetime


def new_security_stamp() -> str:
    """A user's security stamp (128 random bits): see `User.security_stamp`."""
    return secrets.token_hex(16)


class TokenCodec:
    """Creates and checks access tokens: HS256 only, `exp`, `iat`, `sub` and `type` required."""

    def __init__(self, settings: Settings) -> None:
        self._key = settings.SECRET_KEY.get_secret_value()
        self._lifetime = timedelta(minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES)
        self._verified = functools.lru_cache(maxsize=VERIFIED_TOKENS_CACHED)(self._verify)
        self.mfa = MfaTokenCodec(settings)

    @property
    def lifetime_seconds(self) -> int:
        return int(self._lifetime.total_seconds())

    def create_access_token(self, *, user_id: int, stamp: str) -> str:
        now = datetime.now(UTC)
        payload: dict[str, Any] = {
            "sub": str(user_id),
            "stamp": stamp,
            "type": ACCESS_TOKEN_TYPE,
            "iat": now,
            "exp": now + self._lifetime,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(payload, self._key, algorithm=ALGORITHM)

    def decode_access_token(self, token: str) -> AccessTokenClaims:
        claims, expires_at = self._verified(token)
        # Checked on every use: a cached token expires like any other (as PyJWT does it).
        if expires_at <= time.time():
            raise InvalidTokenError("Signature has expired")
        return claims

    def _verify(self, token: str) -> tuple[AccessTokenClaims, float]:
        """The token's claims and expiry, once its signature and claims are checked
        (but for the expiry, which a cached result must check on each use)."""
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "sub", "type", "stamp"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(str(exc)) from exc
        if payload.get("type") != ACCESS_TOKEN_TYPE:
            raise InvalidTokenError("not an access token")
        subject, stamp = payload["sub"], payload["stamp"]
        if not (isinstance(subject, str) and subject.isascii() and subject.isdigit()):
            raise InvalidTokenError("malformed subject")
        user_id = int(subject)
        if not 1 <= user_id <= MAX_ID or not isinstance(stamp, str):
            raise InvalidTokenError("malformed subject")
        claims = AccessTokenClaims(
            user_id=user_id,
            stamp=stamp,
            issued_at=datetime.fromtimestamp(payload["iat"], UTC),
        )
        return claims, float(payload["exp"])


@dataclass(frozen=True, slots=True)
class MfaTokenClaims:
    user_id: int
    stamp: str
    # Names the server-side record that makes the token single-use.
    jti: str


class MfaTokenCodec:
    """Signs and checks mfa_tokens: HS256, a type and audience of their own.

    A signed token rather than a random one so that the login's rate limit can
    name the account from the token alone, before any database work, and only
    for tokens this server issued. It is single-use through its `jti`'s record."""

    def __init__(self, settings: Settings) -> None:
        self._key = settings.SECRET_KEY.get_secret_value()

    def create(self, *, user_id: int, stamp: str, jti: str, expires_at: datetime) -> str:
        payload: dict[str, Any] = {
            "sub": str(user_id),
            "stamp": stamp,
            "type": MFA_TOKEN_TYPE,
            "aud": MFA_TOKEN_AUDIENCE,
            "iat": datetime.now(UTC),
            "exp": expires_at,
            "jti": jti,
        }
        return jwt.encode(payload, self._key, algorithm=ALGORITHM)

    def decode(self, token: str) -> MfaTokenClaims:
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=MFA_TOKEN_AUDIENCE,
                options={"require": ["exp", "iat", "sub", "type", "stamp", "aud", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(str(exc)) from exc
        subject, stamp, jti = payload["sub"], payload["stamp"], payload["jti"]
        if payload.get("type") != MFA_TOKEN_TYPE:
            raise InvalidTokenError("not an mfa token")
        if not (isinstance(subject, str) and subject.isascii() and subject.isdigit()):
            raise InvalidTokenError("malformed subject")
        if not 1 <= int(subject) <= MAX_ID:
            raise InvalidTokenError("malformed subject")
        if not isinstance(stamp, str) or not isinstance(jti, str) or len(jti) > 32:
            raise InvalidTokenError("malformed token")
        return MfaTokenClaims(user_id=int(subject), stamp=stamp, jti=jti)


def new_opaque_token() -> str:
    """A random token for refresh cookies and reset links (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_opaque_token(token: str) -> str:
    """Opaque tokens are stored as SHA-256: high-entropy values need no slow hash."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


# What the key of personal access tokens' hashes is derived for: a key of its own,
# so that no other use of SECRET_KEY ever yields the same values.
PERSONAL_TOKEN_KEY_LABEL = b"personal-access-token-hash"


def personal_token_prefix(project_slug: str) -> str:
    """The fixed start of every personal access token: the slug's initials and
    `_pat_` (`fsf_pat_` for full-stack-flask), so that secret scanners can match
    leaked ones and the API tells them from JWTs without trying to decode them."""
    initials = "".join(word[0] for word in project_slug.split("-") if word) or "app"
    return f"{initials.lower()}_pat_"


class PersonalTokenCodec:
    """Creates personal access tokens and computes the hash they are stored and
    looked up as.

    HMAC-SHA256, not a password hash: the secret is 256 random bits, so a slow hash
    would add nothing against guessing and would cost every request using a token.
    Keyed with a key derived from SECRET_KEY: a leaked table alone cannot even be
    used to test guesses. Rotating SECRET_KEY therefore retires every such token.
    """

    def __init__(self, settings: Settings) -> None:
        self.prefix = personal_token_prefix(settings.PROJECT_SLUG)
        secret = settings.SECRET_KEY.get_secret_value().encode("utf-8", "surrogatepass")
        self._key = hmac.new(secret, PERSONAL_TOKEN_KEY_LABEL, hashlib.sha256).digest()

    def recognizes(self, token: str) -> bool:
        """Whether `token` is meant as a personal access token (by its prefix)."""
        return token.startswith(self.prefix)

    def new_token(self) -> str:
        return self.prefix + secrets.token_urlsafe(32)

    def hash(self, token: str) -> str:
        """The stored form. Looked up by equality in a unique index: as the attacker
        cannot compute the keyed hash of a guess, the lookup's timing tells nothing."""
        message = token.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
