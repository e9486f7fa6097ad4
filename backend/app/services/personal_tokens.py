"""Personal access tokens: long-lived bearer tokens for scripts, each limited to
some of its owner's permissions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session, joinedload

from app.core.security import PersonalTokenCodec
from app.db.base import utcnow
from app.models import Group, PersonalAccessToken, User
from app.services.errors import AuthenticationFailed, InvalidInput, NotFound, PermissionDenied
from app.services.permissions import held_permissions, unknown_permissions

INVALID_TOKEN = "Invalid, expired or revoked token"  # noqa: S105 (a message)
TOKEN_NOT_FOUND = "Token not found"  # noqa: S105 (a message)
# How stale last_used_at may get: it is written at most once a minute per token,
# so that a script's requests do not each write a row.
LAST_USED_PRECISION = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class CreatedToken:
    record: PersonalAccessToken
    token: str


def create_token(
    *,
    session: Session,
    codec: PersonalTokenCodec,
    user: User,
    name: str,
    permissions: Iterable[str],
    expires_in_days: int,
) -> CreatedToken:
    """A new token for `user`, limited to `permissions`, which the user must hold."""
    name = name.strip()
    if not name:
        raise InvalidInput("Invalid token name", {"name": "Must not be blank"})
    wanted = sorted(set(permissions))
    unknown = unknown_permissions(wanted)
    if unknown:
        raise InvalidInput(
            "Unknown permission", {"permissions": f"Unknown permission(s): {', '.join(unknown)}"}
        )
    missing = sorted(set(wanted) - held_permissions(user))
    if missing:
        raise PermissionDenied(
            f"You cannot give a token permissions you do not hold: {', '.join(missing)}"
        )
    raw = codec.new_token()
    now = utcnow()
    record = PersonalAccessToken(
        user_id=user.id,
        name=name,
        permission_names=" ".join(wanted),
        token_hash=codec.hash(raw),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days),
    )
    session.add(record)
    session.flush()
    return CreatedToken(record=record, token=raw)


def list_tokens(*, session: Session, user: User) -> list[PersonalAccessToken]:
    """The user's tokens, newest first (expired ones too, until revoked)."""
    return list(
        session.scalars(
            select(PersonalAccessToken)
            .where(PersonalAccessToken.user_id == user.id)
            .order_by(PersonalAccessToken.created_at.desc(), PersonalAccessToken.id.desc())
        )
    )


def revoke_token(*, session: Session, user: User, token_id: int) -> None:
    """Delete one of the user's tokens; another user's is not found."""
    gone = session.execute(
        delete(PersonalAccessToken)
        .where(PersonalAccessToken.id == token_id, PersonalAccessToken.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    if getattr(gone, "rowcount", 0) != 1:
        raise NotFound(TOKEN_NOT_FOUND)


# The token with its owner, the owner's groups and their grants, in one round trip:
# this runs on every request a token makes. Built once, like users.get_user's.
_TOKEN_WITH_OWNER = (
    select(PersonalAccessToken, User)
    .join(User, User.id == PersonalAccessToken.user_id)
    .where(PersonalAccessToken.token_hash == bindparam("token_hash"))
    .options(joinedload(User.groups).joinedload(Group.grants))
)


def authenticate(
    *, session: Session, codec: PersonalTokenCodec, token: str, now: datetime
) -> tuple[User, PersonalAccessToken]:
    """The token's active owner and the token; AuthenticationFailed when it is
    unknown, revoked, expired, or its owner is deactivated or gone."""
    row = session.execute(_TOKEN_WITH_OWNER, {"token_hash": codec.hash(token)}).unique().first()
    if row is None:
        raise AuthenticationFailed(INVALID_TOKEN)
    record, user = row
    if record.expires_at <= now or not user.is_active:
        raise AuthenticationFailed(INVALID_TOKEN)
    return user, record


def needs_touch(record: PersonalAccessToken, now: datetime) -> bool:
    """Whether last_used_at is stale enough to write (read from the loaded row, so
    that most requests write nothing)."""
    return record.last_used_at is None or now - record.last_used_at >= LAST_USED_PRECISION


def touch(*, connection: Connection, token_id: int, now: datetime) -> bool:
    """Record a use: one conditional UPDATE, so that of concurrent requests at most
    one writes per minute. True when this one did."""
    done = connection.execute(
        update(PersonalAccessToken)
        .where(
            PersonalAccessToken.id == token_id,
            or_(
                PersonalAccessToken.last_used_at.is_(None),
                PersonalAccessToken.last_used_at <= now - LAST_USED_PRECISION,
            ),
        )
        .values(last_used_at=now)
    )
    return done.rowcount == 1
