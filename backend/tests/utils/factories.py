"""Factories: users with given permissions, items, groups, and their tokens."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import Group, GroupPermission, Item, RefreshToken, User
from app.runtime import Runtime
from app.services import users

DEFAULT_PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}@example.com"


def make_user(
    session: Session,
    runtime: Runtime,
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    full_name: str | None = "Test User",
    permissions: Iterable[str] = (),
    is_superuser: bool = False,
    is_active: bool = True,
) -> User:
    """A committed user; `permissions` are granted through a group of their own."""
    user = users.create_user(
        session=session,
        hasher=runtime.hasher,
        email=email or unique_email(),
        password=password,
        full_name=full_name,
        is_superuser=is_superuser,
        is_active=is_active,
    )
    wanted = list(permissions)
    if wanted:
        group = Group(
            name=f"group-{next(_counter)}",
            grants=[GroupPermission(permission=p) for p in wanted],
            members=[user],
        )
        session.add(group)
    session.commit()
    return user


def make_group(
    session: Session,
    *,
    name: str | None = None,
    permissions: Iterable[str] = (),
    members: Iterable[User] = (),
) -> Group:
    group = Group(
        name=name or f"group-{next(_counter)}",
        description="A test group",
        grants=[GroupPermission(permission=p) for p in permissions],
        members=list(members),
    )
    session.add(group)
    session.commit()
    return group


def make_item(
    session: Session, owner: User, *, title: str = "An item", description: str | None = "Some text"
) -> Item:
    item = Item(title=title, description=description, owner_id=owner.id)
    session.add(item)
    session.commit()
    return item


def auth_headers(runtime: Runtime, user: User) -> dict[str, str]:
    token = runtime.tokens.create_access_token(user_id=user.id, stamp=user.security_stamp)
    return {"Authorization": f"Bearer {token}"}


def past_reuse_grace(session: Session, runtime: Runtime) -> None:
    """Move every refresh token's rotation back past the reuse grace window, as if
    that time had passed: presenting a rotated token then means it leaked."""
    grace = timedelta(seconds=runtime.settings.REFRESH_REUSE_GRACE_SECONDS + 1)
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.revoked_at.is_not(None))
        .values(revoked_at=datetime.now(UTC) - grace)
    )
    session.commit()
