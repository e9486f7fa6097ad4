"""Groups: named sets of permissions, and their members."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.db.pages import paginate
from app.models import Group, GroupPermission, User, group_members
from app.services.errors import Conflict, InvalidInput, flush_unique
from app.services.permissions import unknown_permissions

NAME_TAKEN = "A group with this name already exists"


def get_group(*, session: Session, group_id: int) -> Group | None:
    return session.scalars(
        select(Group)
        .where(Group.id == group_id)
        .options(selectinload(Group.grants), selectinload(Group.members))
    ).first()


def list_groups(
    *, session: Session, skip: int, limit: int, member: User | None = None
) -> tuple[list[Group], int]:
    """All groups, or only those `member` belongs to."""
    query = select(Group)
    if member is not None:
        query = query.join(group_members).where(group_members.c.user_id == member.id)
    query = query.options(selectinload(Group.grants)).order_by(Group.name)
    return paginate(session, query, skip=skip, limit=limit)


def member_counts(*, session: Session, group_ids: Iterable[int]) -> dict[int, int]:
    ids = list(group_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(group_members.c.group_id, func.count())
        .where(group_members.c.group_id.in_(ids))
        .group_by(group_members.c.group_id)
    ).all()
    counts = {group_id: 0 for group_id in ids}
    counts.update({group_id: count for group_id, count in rows})
    return counts


def is_member(*, group: Group, user: User) -> bool:
    return any(g.id == group.id for g in user.groups)


def _check_name(session: Session, name: str, *, except_id: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("Invalid group name", {"name": "Must not be blank"})
    # Case-insensitive on every database (MariaDB's collation is, PostgreSQL's is not).
    query = select(Group.id).where(func.lower(Group.name) == name.lower())
    if except_id is not None:
        query = query.where(Group.id != except_id)
    if session.scalar(query) is not None:
        raise Conflict(NAME_TAKEN, {"name": NAME_TAKEN})
    return name


def _set_permissions(group: Group, names: Iterable[str]) -> None:
    names = list(names)
    unknown = unknown_permissions(names)
    if unknown:
        raise InvalidInput(
            "Unknown permission", {"permissions": f"Unknown permission(s): {', '.join(unknown)}"}
        )
    wanted = set(names)
    group.grants = [g for g in group.grants if g.permission in wanted] + [
        GroupPermission(permission=name)
        for name in sorted(wanted - {g.permission for g in group.grants})
    ]


def create_group(
    *,
    session: Session,
    name: str,
    description: str | None = None,
    permissions: Iterable[str] = (),
) -> Group:
    group = Group(name=_check_name(session, name), description=description, grants=[], members=[])
    _set_permissions(group, permissions)
    session.add(group)
    flush_unique(session, NAME_TAKEN, field="name")
    return group


def update_group(*, session: Session, group: Group, changes: Mapping[str, Any]) -> Group:
    if changes.get("name") is not None:
        group.name = _check_name(session, changes["name"], except_id=group.id)
    if "description" in changes:
        group.description = changes["description"]
    if changes.get("permissions") is not None:
        _set_permissions(group, changes["permissions"])
    flush_unique(session, NAME_TAKEN, field="name")
    return group


def delete_group(*, session: Session, group: Group) -> None:
    session.delete(group)
    session.flush()


def add_member(*, session: Session, group: Group, user: User) -> bool:
    """Make `user` a member; False when they were one already."""
    if any(member.id == user.id for member in group.members):
        return False
    group.members.append(user)
    session.flush()
    return True


def remove_member(*, session: Session, group: Group, user: User) -> bool:
    """`user` is no member afterwards; False when they were none already."""
    if all(member.id != user.id for member in group.members):
        return False
    group.members.remove(user)
    session.flush()
    return True
