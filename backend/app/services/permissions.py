"""The permission catalog. Groups grant these names; a superuser has them all.

Add a permission here (and check it in an endpoint) to extend the catalog: no
migration is needed, names are stored as strings.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING

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


def effective_permissions(user: User) -> list[str]:
    """The union of the user's groups' permissions; everything for a superuser."""
    if user.is_superuser:
        return sorted(ALL_PERMISSIONS)
    return sorted({grant.permission for group in user.groups for grant in group.grants})


def has_permission(user: User, permission: Permission) -> bool:
    if user.is_superuser:
        return True
    return any(grant.permission == permission for group in user.groups for grant in group.grants)
