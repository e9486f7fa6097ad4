"""The permission catalog. Groups grant these names; a superuser has them all.

Add a permission here (and check it in an endpoint) to extend the catalog: no
migration is needed, names are stored as strings.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING

from app.core import request_context

if TYPE_CHECKING:
    from app.models import User


class Permission(enum.StrEnum):
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    GROUPS_READ = "groups:read"
    GROUPS_WRITE = "groups:write"
    ITEMS_READ_ALL = "items:read_all"
    ITEMS_WRITE_ALL = "items:write_all"
    JOBS_RUN = "jobs:run"
    AUDIT_READ = "audit:read"


DESCRIPTIONS: dict[Permission, str] = {
    Permission.USERS_READ: "List and view every user",
    Permission.USERS_WRITE: "Create, edit and delete users",
    Permission.GROUPS_READ: "List and view every group",
    Permission.GROUPS_WRITE: "Create, edit and delete groups and their members",
    Permission.ITEMS_READ_ALL: "View every user's items",
    Permission.ITEMS_WRITE_ALL: "Edit and delete every user's items",
    Permission.JOBS_RUN: "Start background jobs",
    Permission.AUDIT_READ: "Read the audit log of security events",
}

ALL_PERMISSIONS: frozenset[str] = frozenset(p.value for p in Permission)


def catalog() -> list[tuple[str, str]]:
    return [(p.value, DESCRIPTIONS[p]) for p in Permission]


def unknown_permissions(names: Iterable[str]) -> list[str]:
    return sorted(set(names) - ALL_PERMISSIONS)


# Every check below also applies the limits of the request's credential (a personal
# access token's permissions: request_context.scope), so that no endpoint needs to
# know how its caller authenticated.


def acts_as_superuser(user: User) -> bool:
    """A superuser, unless the request's credential limits them: a personal access
    token never carries superuser status."""
    return user.is_superuser and request_context.scope(user.id) is None


def effective_permissions(user: User) -> list[str]:
    """The union of the user's groups' permissions (everything for a superuser),
    within the limits of the request's credential."""
    held = held_permissions(user)
    limit = request_context.scope(user.id)
    return sorted(held if limit is None else held & limit)


def held_permissions(user: User) -> frozenset[str]:
    """What the account itself holds, whatever credential the request came with."""
    if user.is_superuser:
        return ALL_PERMISSIONS
    return frozenset(grant.permission for group in user.groups for grant in group.grants)


def has_permission(user: User, permission: Permission) -> bool:
    limit = request_context.scope(user.id)
    if limit is not None and permission not in limit:
        return False
    if user.is_superuser:
        return True
    return any(grant.permission == permission for group in user.groups for grant in group.grants)
