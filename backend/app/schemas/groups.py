"""Groups: named sets of permissions, and their members."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from app.services.permissions import ALL_PERMISSIONS, Permission

from .common import Input, Output, Page, not_blank, printable

Name = Annotated[str, *not_blank(max_length=100)]
Description = Annotated[str, printable(max_length=1000)]


def _no_repeats(names: list[Permission]) -> list[Permission]:
    if len(set(names)) != len(names):
        raise ValueError("Must not repeat entries")
    return names


PermissionNames = Annotated[
    list[Permission],
    Field(
        max_length=len(ALL_PERMISSIONS),
        description="Permission names from the catalog",
        json_schema_extra={"uniqueItems": True},
    ),
    AfterValidator(_no_repeats),
]


class GroupCreate(Input):
    name: Name
    description: Description | None = None
    permissions: PermissionNames = Field(default_factory=list)


class GroupUpdate(Input):
    """The fields to change; those left out stay as they are."""

    name: Name = Field(default=None)  # type: ignore[assignment]
    description: Description | None = None
    permissions: PermissionNames = Field(default=None)  # type: ignore[arg-type]


class GroupPublic(Output):
    id: int
    name: str
    description: str | None
    permissions: list[Permission]
    member_count: int


class GroupMember(Output):
    id: int
    email: str
    full_name: str | None


class GroupDetail(GroupPublic):
    members: list[GroupMember]


class GroupsPage(Page[GroupPublic]):
    pass
