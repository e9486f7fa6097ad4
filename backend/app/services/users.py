"""Users: creation, lookup, updates, authentication by password."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from app.core import passwords
from app.core.security import PasswordHasher, new_security_stamp
from app.db.base import utcnow
from app.db.pages import paginate
from app.db.search import like_pattern
from app.models import Group, PasswordResetToken, RefreshToken, User
from app.services.errors import BadRequest, Conflict, InvalidInput, flush_unique

PASSWORD_MIN_LENGTH = passwords.MIN_LENGTH
PASSWORD_MAX_LENGTH = passwords.MAX_LENGTH
EMAIL_TAKEN = "A user with this email already exists"


def normalize_email(email: str) -> str:
    """A syntactically valid address, lower-cased so uniqueness ignores case."""
    try:
        result = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput("Invalid email address", {"email": str(exc)}) from exc
    return result.normalized.lower()


def check_password_rules(password: str, field: str = "password") -> None:
    """Every password set goes through here, whatever the caller (the API's schemas
    check the same first, the command line does not)."""
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise InvalidInput(
            "Invalid password",
            {field: f"Must be {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters"},
        )
    if passwords.is_common(password):
        raise InvalidInput("Invalid password", {field: passwords.TOO_COMMON})


def _with_groups() -> Any:
    return selectinload(User.groups).selectinload(Group.grants)


# Built once: get_user runs on every authenticated request, and building the
# statement cost more than running it.
_USER_WITH_GRANTS = (
    select(User)
    .where(User.id == bindparam("user_id"))
    .options(joinedload(User.groups).joinedload(Group.grants))
)


def get_user(*, session: Session, user_id: int) -> User | None:
    """A user with groups and grants loaded, in one round trip: this runs on every
    authenticated request."""
    return session.scalars(_USER_WITH_GRANTS, {"user_id": user_id}).unique().first()


def login_key(email: str) -> str:
    """The account a login with this address reaches: the address as lookups
    normalize it (case, full-width letters, ideographic dots in the domain), so that
    every spelling of one account counts as one, e.g. for rate limits. Text that is
    no valid address reaches no account; it is only folded."""
    try:
        return normalize_email(email)
    except InvalidInput:
        return email.strip().lower()


def get_user_by_email(*, session: Session, email: str) -> User | None:
    try:
        normalized = normalize_email(email)
    except InvalidInput:
        return None
    return session.scalars(select(User).where(User.email == normalized)).first()


def list_users(
    *, session: Session, skip: int, limit: int, email_contains: str | None = None
) -> tuple[list[User], int]:
    """Newest first, like every list (the id breaks ties between equal times)."""
    query = select(User)
    if email_contains:
        query = query.where(User.email.like(like_pattern(email_contains.lower()), escape="\\"))
    query = query.options(_with_groups()).order_by(User.created_at.desc(), User.id.desc())
    return paginate(session, query, skip=skip, limit=limit)


def ensure_email_free(session: Session, email: str, *, except_id: int | None = None) -> None:
    query = select(User.id).where(User.email == email)
    if except_id is not None:
        query = query.where(User.id != except_id)
    if session.scalar(query) is not None:
        raise Conflict(EMAIL_TAKEN, {"email": EMAIL_TAKEN})


def create_user(
    *,
    session: Session,
    hasher: PasswordHasher,
    email: str,
    password: str,
    full_name: str | None = None,
    is_active: bool = True,
    is_superuser: bool = False,
    email_verified: bool = True,
) -> User:
    """A new account. An administrator's address counts as verified; a signup's
    (`email_verified=False`) waits for the link emailed to it."""
    email = normalize_email(email)
    check_password_rules(password)
    ensure_email_free(session, email)
    user = User(
        email=email,
        hashed_password=hasher.hash(password),
        full_name=full_name,
        is_active=is_active,
        is_superuser=is_superuser,
        email_verified=email_verified,
        groups=[],
    )
    session.add(user)
    flush_unique(session, EMAIL_TAKEN, field="email")
    return user


def update_user(
    *, session: Session, hasher: PasswordHasher, user: User, changes: Mapping[str, Any]
) -> User:
    """Apply the given fields, as an administrator does. A new password, or
    deactivation, revokes every session of the user; a new email or deactivation
    kills outstanding password-reset links. An email set here counts as verified
    (unless `email_verified` says otherwise): the administrator vouches for it."""
    if "email" in changes and changes["email"] is not None:
        email = normalize_email(changes["email"])
        if email != user.email:
            ensure_email_free(session, email, except_id=user.id)
            move_to_email(session=session, user=user, email=email)
    if changes.get("email_verified") is not None:
        user.email_verified = changes["email_verified"]
    if "full_name" in changes:
        user.full_name = changes["full_name"]
    for flag in ("is_active", "is_superuser"):
        if changes.get(flag) is not None:
            setattr(user, flag, changes[flag])
    if changes.get("password") is not None:
        set_password(session=session, hasher=hasher, user=user, password=changes["password"])
    if changes.get("is_active") is False:
        revoke_sessions(session=session, user=user)
        revoke_reset_links(session=session, user=user)
    flush_unique(session, EMAIL_TAKEN, field="email")
    return user


def move_to_email(*, session: Session, user: User, email: str) -> None:
    """Give the account a new address, verified (by its link, or by an administrator).
    A password-reset link sent to the old address must not reset the moved account."""
    user.email = email
    user.email_verified = True
    user.pending_email = None
    revoke_reset_links(session=session, user=user)


def update_own_account(
    *,
    session: Session,
    hasher: PasswordHasher,
    user: User,
    changes: Mapping[str, Any],
    current_password: str | None,
) -> str | None:
    """A user's change to their own account; returns the new address to send a
    verification link to, if one was asked for.

    A new email address needs the current password: a session left open on a
    shared computer must not be enough to move the account (and its password
    resets) to someone else's mailbox. It is checked before the address, so that
    taken addresses cannot be probed without it. The new address waits, pending,
    until its link is followed (app/services/verification.py); the current one
    stays in use until then, but the reset links already sent to it die now.
    Asking for the current address again drops a pending change."""
    email = changes.get("email")
    pending: str | None = None
    if email is not None:
        address = normalize_email(email)
        if address == user.email:
            user.pending_email = None
        else:
            ok = (
                current_password is not None
                and hasher.verify(current_password, user.hashed_password)[0]
            )
            if not ok:
                raise BadRequest(
                    "Confirm a new email address with your current password",
                    {"current_password": "Missing or incorrect"},
                )
            ensure_email_free(session, address, except_id=user.id)
            user.pending_email = pending = address
            revoke_reset_links(session=session, user=user)
    rest = {name: value for name, value in changes.items() if name == "full_name"}
    update_user(session=session, hasher=hasher, user=user, changes=rest)
    return pending


def set_password(*, session: Session, hasher: PasswordHasher, user: User, password: str) -> None:
    check_password_rules(password)
    user.hashed_password = hasher.hash(password)
    revoke_sessions(session=session, user=user)


def change_password(
    *,
    session: Session,
    hasher: PasswordHasher,
    user: User,
    current_password: str,
    new_password: str,
) -> None:
    ok, _ = hasher.verify(current_password, user.hashed_password)
    if not ok:
        raise BadRequest("Incorrect password", {"current_password": "Incorrect password"})
    if current_password == new_password:
        same = "The new password must differ from the current one"
        raise BadRequest(same, {"new_password": same})
    set_password(session=session, hasher=hasher, user=user, password=new_password)
    session.flush()


def revoke_reset_links(*, session: Session, user: User) -> None:
    """Every password-reset link not yet used stops working."""
    session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def revoke_sessions(*, session: Session, user: User) -> None:
    """End every session: refresh tokens go, and access tokens already issued stop working."""
    user.security_stamp = new_security_stamp()
    session.execute(delete(RefreshToken).where(RefreshToken.user_id == user.id))


def authenticate(
    *, session: Session, hasher: PasswordHasher, email: str, password: str
) -> User | None:
    """The user these credentials belong to, or None. Costs the same time either way."""
    user = get_user_by_email(session=session, email=email)
    ok, new_hash = hasher.verify(password, user.hashed_password if user else None)
    if not ok or user is None:
        return None
    if new_hash is not None:  # stored with an older scheme or weaker parameters
        user.hashed_password = new_hash
    return user


def delete_user(*, session: Session, user: User) -> None:
    session.delete(user)
    session.flush()
