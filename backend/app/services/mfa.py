"""Multi-factor authentication with TOTP (RFC 6238): enrollment, the second step
of a login, recovery codes, turning it off.

Every function takes a `clock` (seconds since the epoch) so that time steps can be
chosen in tests; the callers in production leave the system clock.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from app.core import totp
from app.core.config import Settings
from app.core.security import InvalidTokenError, PasswordHasher, TokenCodec
from app.core.totp import Clock, MfaCrypto, system_clock
from app.models import MfaChallenge, MfaRecoveryCode, User
from app.services import users
from app.services.errors import AuthenticationFailed, BadRequest, Conflict

logger = logging.getLogger(__name__)

ALREADY_ON = "Two-factor authentication is already on: turn it off first"
NOT_ON = "Two-factor authentication is not on"
NOT_STARTED = "Start two-factor enrollment first"
INCORRECT_PASSWORD = "Incorrect password"  # noqa: S105 (a message)
INVALID_CODE = "Invalid code"
INVALID_MFA_TOKEN = "Invalid or expired MFA token"  # noqa: S105 (a message)
# Wrong codes one mfa_token takes before it is spent: the per-account rate limit
# bounds guessing too, this ends a token an attacker holds sooner.
MAX_FAILED_ATTEMPTS = 5


def _now(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock(), UTC)


def _check_password(hasher: PasswordHasher, user: User, password: str) -> None:
    if not hasher.verify(password, user.hashed_password)[0]:
        raise BadRequest(INCORRECT_PASSWORD, {"password": INCORRECT_PASSWORD})


def start_enrollment(
    *,
    session: Session,
    hasher: PasswordHasher,
    crypto: MfaCrypto,
    settings: Settings,
    user: User,
    password: str,
) -> tuple[str, str]:
    """A new secret for `user`, pending until a code confirms it: (secret, otpauth URI).
    Starting again before confirming replaces the pending secret."""
    if user.mfa_enabled:
        raise Conflict(ALREADY_ON)
    _check_password(hasher, user, password)
    secret = totp.new_secret()
    user.mfa_secret = crypto.encrypt(secret)
    user.mfa_last_step = None
    session.flush()
    uri = totp.otpauth_uri(secret=secret, account=user.email, issuer=settings.PROJECT_NAME)
    return secret, uri


def confirm_enrollment(
    *, session: Session, crypto: MfaCrypto, user: User, code: str, clock: Clock = system_clock
) -> list[str]:
    """Turn MFA on with a code of the pending secret: the recovery codes, shown once."""
    if user.mfa_enabled:
        raise Conflict(ALREADY_ON)
    if user.mfa_secret is None:
        raise BadRequest(NOT_STARTED)
    if not _accept_totp(session=session, crypto=crypto, user=user, code=code, clock=clock):
        raise BadRequest(INVALID_CODE, {"code": INVALID_CODE})
    user.mfa_enabled_at = _now(clock)
    codes = totp.new_recovery_codes()
    session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    session.add_all(
        MfaRecoveryCode(user_id=user.id, code_hash=crypto.hash_recovery_code(recovery))
        for recovery in codes
    )
    session.flush()
    return codes


def disable(
    *,
    session: Session,
    hasher: PasswordHasher,
    crypto: MfaCrypto,
    user: User,
    password: str,
    code: str,
    clock: Clock = system_clock,
) -> None:
    """Turn MFA off: needs the password and a code (TOTP or recovery)."""
    if not user.mfa_enabled:
        raise BadRequest(NOT_ON)
    _check_password(hasher, user, password)
    if not _second_factor(session=session, crypto=crypto, user=user, code=code, clock=clock):
        raise BadRequest(INVALID_CODE, {"code": INVALID_CODE})
    _turn_off(session=session, user=user)


def reset(*, session: Session, user: User) -> None:
    """An admin's reset for a user who lost their device and codes: MFA goes off and
    every session of the user ends (whoever holds one may be who locked them out)."""
    _turn_off(session=session, user=user)
    users.revoke_sessions(session=session, user=user)
    session.flush()


def _turn_off(*, session: Session, user: User) -> None:
    user.mfa_secret = None
    user.mfa_enabled_at = None
    user.mfa_last_step = None
    session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    session.execute(delete(MfaChallenge).where(MfaChallenge.user_id == user.id))
    session.flush()


def begin_login(*, session: Session, codec: TokenCodec, settings: Settings, user: User) -> str:
    """The mfa_token of a login whose password was right: single-use, short-lived."""
    jti = uuid.uuid4().hex
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.MFA_TOKEN_EXPIRE_SECONDS)
    session.add(MfaChallenge(jti=jti, user_id=user.id, expires_at=expires_at))
    session.flush()
    return codec.mfa.create(
        user_id=user.id, stamp=user.security_stamp, jti=jti, expires_at=expires_at
    )


def complete_login(
    *,
    session: Session,
    codec: TokenCodec,
    crypto: MfaCrypto,
    mfa_token: str,
    code: str,
    clock: Clock = system_clock,
) -> User:
    """The user whose login `mfa_token` continues, once `code` is right; the token
    is spent then. A wrong code counts against the token (the caller commits it)."""
    try:
        claims = codec.mfa.decode(mfa_token)
    except InvalidTokenError as exc:
        raise AuthenticationFailed(INVALID_MFA_TOKEN) from exc
    now = datetime.now(UTC)
    challenge = session.scalar(select(MfaChallenge).where(MfaChallenge.jti == claims.jti))
    if (
        challenge is None
        or challenge.user_id != claims.user_id
        or challenge.used_at is not None
        or challenge.expires_at <= now
    ):
        raise AuthenticationFailed(INVALID_MFA_TOKEN)
    user = users.get_user(session=session, user_id=claims.user_id)
    # A password change since (new stamp), deactivation or an admin's reset ends it.
    if user is None or not user.is_active or user.security_stamp != claims.stamp:
        raise AuthenticationFailed(INVALID_MFA_TOKEN)
    if not user.mfa_enabled:
        raise AuthenticationFailed(INVALID_MFA_TOKEN)
    if not _second_factor(session=session, crypto=crypto, user=user, code=code, clock=clock):
        challenge.failed_attempts += 1
        if challenge.failed_attempts >= MAX_FAILED_ATTEMPTS:
            challenge.used_at = now
        session.flush()
        raise AuthenticationFailed(INVALID_CODE)
    spent = session.execute(
        update(MfaChallenge)
        .where(MfaChallenge.id == challenge.id, MfaChallenge.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(spent, "rowcount", 0) != 1:  # spent by a concurrent request
        raise AuthenticationFailed(INVALID_MFA_TOKEN)
    return user


def _second_factor(
    *, session: Session, crypto: MfaCrypto, user: User, code: str, clock: Clock
) -> bool:
    """A TOTP code (six digits) or an unused recovery code: True once it is spent."""
    if totp.looks_like_totp(code):
        return _accept_totp(session=session, crypto=crypto, user=user, code=code, clock=clock)
    return _use_recovery_code(session=session, crypto=crypto, user=user, code=code, clock=clock)


def _accept_totp(
    *, session: Session, crypto: MfaCrypto, user: User, code: str, clock: Clock
) -> bool:
    """True when `code` is the user's for a time step near now not yet used; that
    step is recorded, atomically, so the code never works twice."""
    if user.mfa_secret is None:
        return False
    try:
        secret, stale = crypto.decrypt(user.mfa_secret)
    except totp.SecretUnreadable:
        # SECRET_KEY changed without its old value in PREVIOUS_SECRET_KEYS: only an
        # admin's reset lets the user in (docs/security.md).
        logger.error("the TOTP secret of user %s cannot be decrypted", user.id)
        return False
    step = totp.matching_step(secret, code, now=clock(), after=user.mfa_last_step)
    if step is None:
        return False
    taken = session.execute(
        update(User)
        .where(User.id == user.id, or_(User.mfa_last_step.is_(None), User.mfa_last_step < step))
        .values(mfa_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:  # a concurrent request used this step
        return False
    user.mfa_last_step = step
    if stale:
        user.mfa_secret = crypto.encrypt(secret)
    session.flush()
    return True


def _use_recovery_code(
    *, session: Session, crypto: MfaCrypto, user: User, code: str, clock: Clock
) -> bool:
    if not totp.normalize_recovery_code(code):
        return False
    found = session.scalar(
        select(MfaRecoveryCode.id).where(
            MfaRecoveryCode.user_id == user.id,
            MfaRecoveryCode.code_hash.in_(crypto.recovery_hash_candidates(code)),
            MfaRecoveryCode.used_at.is_(None),
        )
    )
    if found is None:
        return False
    used = session.execute(
        update(MfaRecoveryCode)
        .where(MfaRecoveryCode.id == found, MfaRecoveryCode.used_at.is_(None))
        .values(used_at=_now(clock))
        .execution_options(synchronize_session=False)
    )
    return getattr(used, "rowcount", 0) == 1


def remaining_recovery_codes(*, session: Session, user: User) -> int:
    return len(
        session.scalars(
            select(MfaRecoveryCode.id).where(
                MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def purge_expired_challenges(*, session: Session, now: datetime) -> int:
    gone = session.execute(
        delete(MfaChallenge)
        .where((MfaChallenge.expires_at <= now) | MfaChallenge.used_at.is_not(None))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(gone, "rowcount", 0))
