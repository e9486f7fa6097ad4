"""Email verification: the single-use links that prove an address is the user's.

A link's token is random, and stored only as its SHA-256 with the address it was
sent to, the way password-reset tokens are (app/services/auth.py): a random token
of 256 bits needs no slow or keyed hash, and a row of its own makes it single-use
and lets it be revoked, which a signed token alone could not be. The address
binds it: the link verifies that address only while the account still holds it,
as its email (not yet verified) or as the new address it asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.security import hash_opaque_token, new_opaque_token
from app.db.base import utcnow
from app.models import EmailVerificationToken, User
from app.services import links, users
from app.services.errors import BadRequest, InvalidInput, flush_unique

INVALID_TOKEN = "Invalid, expired or already used verification link"  # noqa: S105 (a message)


@dataclass(frozen=True, slots=True)
class Verified:
    user: User
    # The address the account had before, when the link moved it to a new one.
    previous_email: str | None


def accounts_to_verify(*, session: Session, email: str, user_id: int | None = None) -> list[User]:
    """The active accounts waiting for `email` to be verified: as their own address
    not yet verified, or as the new one they asked for (several accounts may have
    asked for the same; the first to verify gets it)."""
    try:
        address = users.normalize_email(email)
    except InvalidInput:
        return []
    query = select(User).where(
        User.is_active.is_(True),
        or_(
            (User.email == address) & User.email_verified.is_(False),
            User.pending_email == address,
        ),
    )
    if user_id is not None:
        query = query.where(User.id == user_id)
    return list(session.scalars(query.order_by(User.id)))


def issue_token(*, session: Session, settings: Settings, user: User, email: str) -> str:
    """A new link's token for `email`, one of the addresses `accounts_to_verify`
    found the user waiting for."""
    raw = new_opaque_token()
    session.add(
        EmailVerificationToken(
            user_id=user.id,
            email=email,
            token_hash=hash_opaque_token(raw),
            expires_at=utcnow() + timedelta(hours=settings.EMAIL_VERIFICATION_EXPIRE_HOURS),
        )
    )
    session.flush()
    return raw


def verify_email(*, session: Session, token: str) -> Verified:
    """Verify the address a link was sent to: works once, and only while the account
    still waits for that address. A new address replaces the old one, and the
    password-reset links sent to the old one die. A refused token is spent all the
    same (the caller commits on BadRequest)."""
    found = links.spend(session, EmailVerificationToken, token)
    if found is None:
        raise BadRequest(INVALID_TOKEN, {"token": INVALID_TOKEN})
    stored, user = found
    previous: str | None = None
    if stored.email == user.pending_email:
        # Taken since it was asked for (409): the link stays usable should it be freed.
        users.ensure_email_free(session, stored.email, except_id=user.id)
        previous = user.email
        users.move_to_email(session=session, user=user, email=stored.email)
    elif stored.email == user.email and not user.email_verified:
        user.email_verified = True
    else:
        # The address was verified already, or is no longer the account's.
        raise BadRequest(INVALID_TOKEN, {"token": INVALID_TOKEN})
    # The other links sent to this address have nothing left to do.
    now = utcnow()
    session.execute(
        update(EmailVerificationToken)
        .where(
            EmailVerificationToken.user_id == user.id,
            EmailVerificationToken.email == stored.email,
            EmailVerificationToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    flush_unique(session, users.EMAIL_TAKEN, field="email")
    return Verified(user=user, previous_email=previous)
