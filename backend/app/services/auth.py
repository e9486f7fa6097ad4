"""Sessions: access tokens, rotating refresh tokens, password reset tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.security import (
    InvalidTokenError,
    PasswordHasher,
    TokenCodec,
    hash_opaque_token,
    new_opaque_token,
)
from app.core.totp import Clock, MfaCrypto, system_clock
from app.db.base import utcnow
from app.models import EmailVerificationToken, PasswordResetToken, RefreshToken, User
from app.services import links, mfa, users
from app.services.errors import (
    AuthenticationFailed,
    BadRequest,
    EmailVerificationRequired,
    MfaRequired,
    PermissionDenied,
)

INVALID_CREDENTIALS = "Incorrect email or password"
INVALID_REFRESH = "Invalid or expired refresh token"
INVALID_RESET = "Invalid or expired password reset token"


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_at: datetime
    user: User


def login(
    *,
    session: Session,
    hasher: PasswordHasher,
    codec: TokenCodec,
    settings: Settings,
    email: str,
    password: str,
) -> IssuedTokens:
    user = users.authenticate(session=session, hasher=hasher, email=email, password=password)
    if user is None:
        raise AuthenticationFailed(INVALID_CREDENTIALS)
    if not user.is_active:
        raise PermissionDenied("Inactive user")
    _check_verified(settings, user)
    if user.mfa_enabled:
        # The caller commits before answering: the challenge must be stored.
        token = mfa.begin_login(session=session, codec=codec, settings=settings, user=user)
        raise MfaRequired(token)
    return _issue(session=session, codec=codec, settings=settings, user=user, family=None)


def start_session(
    *, session: Session, codec: TokenCodec, settings: Settings, user: User
) -> IssuedTokens:
    """A new session (refresh-token family) for a user another way vouched for:
    single sign-on."""
    return _issue(session=session, codec=codec, settings=settings, user=user, family=None)


def login_with_code(
    *,
    session: Session,
    codec: TokenCodec,
    crypto: MfaCrypto,
    settings: Settings,
    mfa_token: str,
    code: str,
    clock: Clock = system_clock,
) -> IssuedTokens:
    """The second step of a login with MFA on: the same tokens as `login` gives."""
    user = mfa.complete_login(
        session=session, codec=codec, crypto=crypto, mfa_token=mfa_token, code=code, clock=clock
    )
    return _issue(session=session, codec=codec, settings=settings, user=user, family=None)


def refresh(
    *, session: Session, codec: TokenCodec, settings: Settings, refresh_token: str | None
) -> IssuedTokens:
    """Rotate: the presented token is spent and a new one of the same family issued.

    A spent token presented again within REFRESH_REUSE_GRACE_SECONDS of its rotation
    is a second tab refreshing at the same moment: it gets a token of the family too.
    Later, it means the token leaked: the whole family is revoked."""
    if not refresh_token:
        raise AuthenticationFailed(INVALID_REFRESH)
    stored = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_opaque_token(refresh_token))
    )
    now = utcnow()
    if stored is None or stored.expires_at <= now:
        raise AuthenticationFailed(INVALID_REFRESH)
    grace = timedelta(seconds=settings.REFRESH_REUSE_GRACE_SECONDS)
    if stored.revoked_at is not None and now - stored.revoked_at > grace:
        revoke_family(session=session, family_id=stored.family_id)
        raise AuthenticationFailed(INVALID_REFRESH)
    if stored.revoked_at is None:
        # Spend it atomically: of two refreshes at once, one rotates it...
        spent = session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == stored.id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        # ...and the other finds it rotated this instant, within the grace window:
        # it goes on as long as the family was not revoked meanwhile (a locking read
        # sees the latest committed state).
        if getattr(spent, "rowcount", 0) != 1 and (
            grace.total_seconds() == 0 or not _still_stored(session, stored.id)
        ):
            revoke_family(session=session, family_id=stored.family_id)
            raise AuthenticationFailed(INVALID_REFRESH)
    user = users.get_user(session=session, user_id=stored.user_id)
    if user is None or not user.is_active:
        raise AuthenticationFailed(INVALID_REFRESH)
    _check_verified(settings, user)
    return _issue(
        session=session, codec=codec, settings=settings, user=user, family=stored.family_id
    )


def _check_verified(settings: Settings, user: User) -> None:
    """Only once the password (or the session) proved who is asking does the answer
    tell that the address waits for verification."""
    if settings.EMAIL_VERIFICATION_REQUIRED and not user.email_verified:
        raise EmailVerificationRequired()


def _still_stored(session: Session, token_id: int) -> bool:
    found = session.scalar(
        select(RefreshToken.id).where(RefreshToken.id == token_id).with_for_update()
    )
    return found is not None


def logout(*, session: Session, refresh_token: str | None) -> User | None:
    """Revoke the session the token belongs to, and say whose it was; unknown
    tokens are ignored (None)."""
    if not refresh_token:
        return None
    stored = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_opaque_token(refresh_token))
    )
    if stored is None:
        return None
    revoke_family(session=session, family_id=stored.family_id)
    return users.get_user(session=session, user_id=stored.user_id)


def revoke_family(*, session: Session, family_id: str) -> None:
    session.execute(delete(RefreshToken).where(RefreshToken.family_id == family_id))


def user_from_access_token(*, session: Session, codec: TokenCodec, token: str) -> User:
    """The active user the access token belongs to; AuthenticationFailed otherwise."""
    try:
        claims = codec.decode_access_token(token)
    except InvalidTokenError as exc:
        raise AuthenticationFailed("Could not validate credentials") from exc
    user = users.get_user(session=session, user_id=claims.user_id)
    # The stamp, not the id alone, says which account: ids of deleted users are
    # never reused, and even where one were, the new account has another stamp.
    if user is None or user.security_stamp != claims.stamp:
        raise AuthenticationFailed("Could not validate credentials")
    if not user.is_active:
        raise PermissionDenied("Inactive user")
    return user


def _issue(
    *, session: Session, codec: TokenCodec, settings: Settings, user: User, family: str | None
) -> IssuedTokens:
    raw = new_opaque_token()
    expires_at = utcnow() + timedelta(days=settings.REFRESH_TOKEN_EXPIRE_DAYS)
    session.add(
        RefreshToken(
            user_id=user.id,
            token_hash=hash_opaque_token(raw),
            family_id=family or uuid.uuid4().hex,
            expires_at=expires_at,
        )
    )
    session.flush()
    return IssuedTokens(
        access_token=codec.create_access_token(user_id=user.id, stamp=user.security_stamp),
        expires_in=codec.lifetime_seconds,
        refresh_token=raw,
        refresh_expires_at=expires_at,
        user=user,
    )


def create_password_reset_token(*, session: Session, settings: Settings, user: User) -> str:
    raw = new_opaque_token()
    session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=hash_opaque_token(raw),
            expires_at=utcnow() + timedelta(minutes=settings.PASSWORD_RESET_TOKEN_EXPIRE_MINUTES),
        )
    )
    session.flush()
    return raw


def reset_password(
    *, session: Session, hasher: PasswordHasher, token: str, new_password: str
) -> User:
    """Set a new password with a reset token: works once, ends every session."""
    users.check_password_rules(new_password, field="new_password")
    found = links.spend(session, PasswordResetToken, token)
    if found is None:
        raise BadRequest(INVALID_RESET)
    _, user = found
    users.set_password(session=session, hasher=hasher, user=user, password=new_password)
    # Any other outstanding reset link for this account dies with this one.
    users.revoke_reset_links(session=session, user=user)
    session.flush()
    return user


def purge_expired_tokens(*, session: Session, now: datetime) -> int:
    """Delete refresh tokens past expiry, and reset tokens, email verification tokens
    and MFA login challenges that are used or expired.
    Rotated refresh tokens stay until they expire: reuse detection needs them."""
    refresh_gone = session.execute(
        delete(RefreshToken)
        .where(RefreshToken.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    reset_gone = session.execute(
        delete(PasswordResetToken)
        .where((PasswordResetToken.expires_at <= now) | PasswordResetToken.used_at.is_not(None))
        .execution_options(synchronize_session=False)
    )
    verification_gone = session.execute(
        delete(EmailVerificationToken)
        .where(
            (EmailVerificationToken.expires_at <= now) | EmailVerificationToken.used_at.is_not(None)
        )
        .execution_options(synchronize_session=False)
    )
    challenges_gone = mfa.purge_expired_challenges(session=session, now=now)
    return (
        int(getattr(refresh_gone, "rowcount", 0))
        + int(getattr(reset_gone, "rowcount", 0))
        + int(getattr(verification_gone, "rowcount", 0))
        + challenges_gone
    )
