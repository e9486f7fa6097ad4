"""Single-use links emailed to a user (a password reset, an email verification):
the token's row found by its hash, and spent."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.core.security import hash_opaque_token
from app.db.base import utcnow
from app.models import EmailVerificationToken, PasswordResetToken, User
from app.services import users

LinkToken = TypeVar("LinkToken", PasswordResetToken, EmailVerificationToken)


def spend(session: Session, model: type[LinkToken], token: str) -> tuple[LinkToken, User] | None:
    """The link's row and its active user, the row marked used; None when the token
    is unknown, used or expired, another request spent it first (of two at once,
    one wins), or its user is gone or inactive. A row found is spent either way:
    the caller commits, so reactivating an account does not bring its links back."""
    now = utcnow()
    stored = session.scalar(select(model).where(model.token_hash == hash_opaque_token(token)))
    if stored is None or stored.used_at is not None or stored.expires_at <= now:
        return None
    spent = session.execute(
        update(model)
        .where(model.id == stored.id, model.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(spent, "rowcount", 0) != 1:
        return None
    user = users.get_user(session=session, user_id=stored.user_id)
    if user is None or not user.is_active:
        return None
    return stored, user
