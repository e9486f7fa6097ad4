"""The permission catalog."""

from __future__ import annotations

from app.services.permissions import Permission

from .common import Output


class PermissionPublic(Output):
    name: Permission
    description: str


class Permissions(Output):
    data: list[PermissionPublic]
